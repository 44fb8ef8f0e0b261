/*
 * revoke.c - taking rights away: one record at a time (revoke_record,
 * two-phase, under the state lock), by the detached watcher at the
 * deadline, by `elevate end`, and by `elevate sweep`, which also finishes
 * whatever an interrupted grant or revocation left.
 */
#define _GNU_SOURCE   /* CLOCK_BOOTTIME */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/elevate.h"

int revoke_record(struct ctx *c, const struct state_grant *rec,
                  enum auditlog_event_type type, const char *detail)
{
	bool other = false, was = false;
	struct audit_fields f = { rec->rule[0] ? rec->rule : NULL, rec->reason, detail,
	                          (long long)rec->duration, (time_t)rec->expiry_wall };
	int rc = state_begin_revoke(c->st, rec->id);
	if (rc == 0)
		crash_point("after-revoke-begin");
	if (rc == 0)
		rc = state_other_live_grant(c->st, rec->user, rec->id, &c->now, &other);
	if (rc != 0) {
		fprintf(stderr, "elevate: revoking %s: %s\n", rec->user, state_strerror(rc));
		return -1;
	}
	if (!other) {
		rc = admin_remove(c, rec->user, &was);
		if (rc != 0) {
			fprintf(stderr, "elevate: removing %s from %s: %s\n", rec->user,
			        c->cfg.admin_group, admin_strerror(c, rc));
			return -1;
		}
		crash_point("after-group-remove");
	}
	rc = state_finish_revoke(c->st, rec->id);
	if (rc != 0) {
		fprintf(stderr, "elevate: revoking %s: %s\n", rec->user, state_strerror(rc));
		return -1;
	}
	crash_point("after-finish");
	audit(c, type, rec->user, &f);
	return 0;
}

/* ---- the watcher ------------------------------------------------------------ */

/* Standard descriptors on /dev/null, every other one closed. */
static void detach_fds(void)
{
	int null = open("/dev/null", O_RDWR);
	if (null >= 0) {
		(void)dup2(null, 0);
		(void)dup2(null, 1);
		(void)dup2(null, 2);
	}
	close_other_fds();
}

static void sleep_until(int64_t mono)
{
	struct timespec ts = { (time_t)mono, 0 };
	while (clock_nanosleep(STATE_MONO_CLOCK, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* One check after the deadline: 1 done, 0 sleep again (until *next), -1 give up. */
static int watcher_check(struct ctx *c, uint64_t id, int64_t *next)
{
	struct state_grant rec;
	int rc = state_lock(c->st, STATE_WAIT_MS);
	int result = -1;
	if (rc != 0)
		return -1;
	rc = state_get(c->st, id, &rec);
	if (rc == STATE_E_NOT_FOUND || (rc == 0 && rec.phase != STATE_PHASE_GRANTED)) {
		result = 1;           /* ended already, or sweep's business */
	} else if (rc == 0 && read_clock(c) == 0) {
		int64_t left = state_remaining(&rec, &c->now);
		if (left > 0) {
			*next = c->now.mono + left;
			result = 0;
		} else {
			result = revoke_record(c, &rec, AUDIT_EV_EXPIRY, "watcher") == 0 ? 1 : -1;
		}
	}
	state_unlock(c->st);
	return result;
}

static void watcher_main(struct ctx *c, uint64_t id, int64_t deadline)
{
	int r;
	detach_fds();
	crash_hooks_for_watcher();
	priv_root_for_good();   /* set-user-ID: real uid included, out of the user's reach */
	if (chdir("/") != 0)
		_exit(1);
	/* The parent's handles were lost with their descriptors: open afresh.
	 * The log is opened by name at each wake-up, not held across the sleep
	 * (it may have been rotated or replaced meanwhile), and the deadline is
	 * kept whatever state the log is in (as end and sweep). */
	c->st = NULL;
	c->log_open = false;
	if (open_state(c) != 0)
		_exit(1);
	do {
		sleep_until(deadline);
		if (open_audit(c) > 0)
			record_tamper(c, NULL);
		r = watcher_check(c, id, &deadline);
		if (c->log_open)
			auditlog_close(&c->log);
		c->log_open = false;
	} while (r == 0);
	_exit(r == 1 ? 0 : 1);
}

/* Double fork: the watcher is not our child and has no terminal. */
int spawn_watcher(struct ctx *c, uint64_t id, int64_t deadline)
{
	int status;
	pid_t pid;
	(void)fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (setsid() < 0)
			_exit(1);
		pid = fork();
		if (pid < 0)
			_exit(1);
		if (pid == 0)
			watcher_main(c, id, deadline);
		_exit(0);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

int cmd_end(struct ctx *c)
{
	struct state_list list = { NULL, 0 };
	unsigned ended = 0;
	int rc;
	if (read_clock(c) != 0)
		return EXIT_DENIED;
	rc = state_lock(c->st, STATE_WAIT_MS);
	if (rc == 0)
		rc = state_user_grants(c->st, c->user, &list);
	if (rc != 0) {
		fprintf(stderr, "elevate: %s\n", state_strerror(rc));
		state_unlock(c->st);
		return EXIT_DENIED;
	}
	for (size_t i = 0; i < list.n && rc == 0; i++) {
		if (list.v[i].phase != STATE_PHASE_GRANTED)
			continue;
		rc = revoke_record(c, &list.v[i], AUDIT_EV_REVOCATION, "ended by the user");
		ended += rc == 0;
	}
	state_list_free(&list);
	state_unlock(c->st);
	if (rc != 0)
		return EXIT_DENIED;
	printf(ended ? "admin rights given back\n" : "not elevated\n");
	return EXIT_OK_;
}

static int repair_all(struct ctx *c)
{
	struct state_list list = { NULL, 0 };
	int rc = state_pending_repairs(c->st, &list), bad = 0;
	char detail[64];
	if (rc != 0)
		return -1;
	for (size_t i = 0; i < list.n; i++) {
		snprintf(detail, sizeof(detail), "finished an interrupted %s",
		         state_phase_name(list.v[i].phase) ? state_phase_name(list.v[i].phase) : "?");
		bad |= revoke_record(c, &list.v[i], AUDIT_EV_SWEEP_REPAIR, detail);
	}
	state_list_free(&list);
	return bad ? -1 : 0;
}

static int expire_all(struct ctx *c)
{
	struct state_list list = { NULL, 0 };
	int rc = state_expired(c->st, &c->now, &list), bad = 0;
	if (rc != 0)
		return -1;
	for (size_t i = 0; i < list.n; i++)
		bad |= revoke_record(c, &list.v[i], AUDIT_EV_EXPIRY, "sweep");
	state_list_free(&list);
	return bad ? -1 : 0;
}

/* The whole log, not just its last line: damage no tamper-detected line
 * pins yet is pinned now, and locks elevation. */
static void check_whole_log(struct ctx *c)
{
	struct auditlog_verify_result r;
	char why[sizeof(r.why) + 32];
	if (!c->log_open || auditlog_find_unpinned(c->cfg.audit_log, &r) != AUDIT_ETAMPERED)
		return;
	snprintf(why, sizeof(why), "line %llu: %s", r.bad_line, r.why);
	record_tamper(c, why);
}

int cmd_sweep(struct ctx *c)
{
	char err[ERR_SIZE];
	int rc, bad;
	if (getuid() != 0) {
		fprintf(stderr, "elevate: sweep is for root only\n");
		return EXIT_DENIED;
	}
	if (read_clock(c) != 0)
		return EXIT_DENIED;
	(void)note_time(c, c->user, err, sizeof(err));   /* a jump back locks requests; expiry goes on */
	check_whole_log(c);
	rc = state_lock(c->st, STATE_WAIT_MS);
	if (rc != 0) {
		fprintf(stderr, "elevate: %s\n", state_strerror(rc));
		return EXIT_DENIED;
	}
	bad = repair_all(c);
	bad |= expire_all(c);
	state_unlock(c->st);
	return bad ? EXIT_DENIED : EXIT_OK_;
}
