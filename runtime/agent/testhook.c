/*
 * testhook.c - crash injection for elevate's end-to-end tests
 * (ELEVATE_TEST_CRASH_AT): kill the process at a named step of a grant or
 * a revocation, including inside the state store, the group editor, the
 * audit log and the watcher. Off unless root runs elevate without
 * set-user-ID, so it can never fire for a user.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/elevate.h"

/*
 * Tests only (tests/agent/e2e/run): ELEVATE_TEST_CRASH_AT=NAME makes the
 * process kill itself with SIGKILL at the named step of a grant or a
 * revocation, to check that `elevate sweep` repairs whatever is left. It is
 * read only when --as is allowed (real uid 0 and not set-user-ID: root
 * could kill the process anyway), after main() cleared a set-user-ID
 * process's environment, so it can never fire in set-user-ID mode. The
 * detached watcher honours only names prefixed "watcher:" (and the agent
 * process never reaches those). NAME, after that prefix if any, is one of:
 *   after-intent after-group-add after-commit after-grant-logged
 *   after-revoke-begin after-group-remove after-finish       (this file)
 *   state:OP:STEP   the state store's step hook (state.h): OP lock,
 *                   begin-grant, commit-grant, begin-revoke, finish-revoke,
 *                   note-time; STEP locked, temp-written, renamed
 *   group-add:FILE:STEP, group-remove:FILE:STEP, group-add:locked,
 *   group-remove:locked   groupdb's step hook (groupdb.h): FILE group or
 *                   gshadow; STEP temp-written, backup-linked, renamed
 *   audit:EVENT:STEP      the audit log's step hook (audit.h): EVENT an
 *                   event name (request, grant, ...); STEP locked, written
 * A name that is never reached is reported on standard error at exit.
 */
static const char *crash_at;
static char crash_group_add[] = "group-add", crash_group_remove[] = "group-remove";

void crash_hooks_init(bool allowed)
{
	crash_at = allowed ? getenv("ELEVATE_TEST_CRASH_AT") : NULL;
}

void crash_hooks_for_watcher(void)
{
	crash_at = crash_at && strncmp(crash_at, "watcher:", 8) == 0 ? crash_at + 8 : NULL;
}

void crash_report_unreached(void)
{
	if (crash_at && strncmp(crash_at, "watcher:", 8) != 0)
		fprintf(stderr, "elevate: ELEVATE_TEST_CRASH_AT=%s was not reached\n", crash_at);
}

void crash_point(const char *name)
{
	if (crash_at && strcmp(crash_at, name) == 0)
		(void)raise(SIGKILL);
}

static int crash_state_hook(void *arg, enum state_step step, const char *op)
{
	static const char *const steps[] = { "locked", "temp-written", "renamed" };
	char name[96];
	(void)arg;
	if ((unsigned)step < sizeof(steps) / sizeof(steps[0])) {
		snprintf(name, sizeof(name), "state:%s:%s", op ? op : "?", steps[step]);
		crash_point(name);
	}
	return 0;
}

static int crash_groupdb_hook(void *arg, enum groupdb_step step, const char *file)
{
	static const char *const steps[] = { "locked", "temp-written", "backup-linked", "renamed" };
	char name[96];
	if ((unsigned)step < sizeof(steps) / sizeof(steps[0])) {
		if (file)
			snprintf(name, sizeof(name), "%s:%s:%s", (char *)arg, file, steps[step]);
		else
			snprintf(name, sizeof(name), "%s:%s", (char *)arg, steps[step]);
		crash_point(name);
	}
	return 0;
}

static void crash_audit_hook(void *arg, const char *event, const char *step)
{
	char name[96];
	(void)arg;
	snprintf(name, sizeof(name), "audit:%s:%s", event ? event : "?", step);
	crash_point(name);
}

/* The groupdb options for an add or a removal: NULL (none) unless the hook is on. */
const struct groupdb_options *crash_groupdb_opt(bool add)
{
	static struct groupdb_options opt;
	if (!crash_at)
		return NULL;
	opt.step_hook = crash_groupdb_hook;
	opt.step_arg = add ? crash_group_add : crash_group_remove;
	return &opt;
}

/* The state store's options: NULL (none) unless the hook is on. */
const struct state_options *crash_state_opt(void)
{
	static struct state_options opt = { .step_hook = crash_state_hook };
	return crash_at ? &opt : NULL;
}

/* Hooks an open audit log's appends, if the hook is on. */
void crash_hook_audit_log(struct auditlog_log *log)
{
	if (crash_at)
		log->step_hook = crash_audit_hook;
}
