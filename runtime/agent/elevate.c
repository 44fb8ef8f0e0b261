/*
 * elevate.c - the on-device agent's command (docs/elevate.8): ask for
 * admin rights, show them, give them back, and the root-only sweep, unlock
 * and log verification. This file holds main(), the arguments, `status`,
 * `unlock` and `log verify`; the command's other steps have their own
 * files (elevate.h lists them): priv.c, decide.c, journal.c, request.c,
 * admins.c, revoke.c and testhook.c. They tie the agent modules together:
 * config.c (settings), audit.c (hash-chained log), state.c (two-phase
 * grant store, clock and tamper locks), auth.c (PAM), reason.c, groupdb.c
 * and dsgroup.c (the admin group), policyfile.c and libep (signed policy,
 * evaluation).
 *
 * Fail closed: every error on the way to a grant denies, is printed and is
 * audited. Exit status: 0 granted / ok, 1 denied or failed, 2 usage or
 * configuration error.
 *
 * Set-user-ID root (real uid not 0, effective uid 0; docs/agent.md):
 *
 *  - At start, before anything else: standard input, output and error are
 *    opened on /dev/null if they are closed (so that no file we open later
 *    becomes one of them), every other inherited descriptor is closed, the
 *    environment is emptied (clear_environment) and the umask is 077. SIGPIPE is
 *    left as inherited: a write to a closed pipe can only end the process,
 *    which the user can do anyway with kill(2), and every step of a grant
 *    and a revocation survives being killed (`elevate sweep` finishes it).
 *  - --config, --as and ELEVATE_TEST_CRASH_AT are refused or ignored. The
 *    configuration is read, as root, from the compile-time path
 *    ELEVATE_DEFAULT_CONFIG (/etc/elevate/elevate.conf unless built for the
 *    tests) and must be root's and writable by nobody else; the policy and
 *    keys must be root's and not writable by others, the state directory
 *    root's and not writable by group or others.
 *  - Then the process runs as the user (effective uid and gid the real
 *    ones; the saved uid stays 0) and raises to root (seteuid(0),
 *    setegid(0)) only with priv_root(), going back with priv_user(). Root
 *    is held: for the whole of `status`, `end` and `log verify` without a
 *    FILE (they read and change root-only files from start to end); and
 *    for a request, from opening the audit log and the state through the
 *    first decision (clock, state, policy, keys, groups), then again from
 *    PAM authentication (pam_unix reads the shadow file) through the
 *    locked re-check, the group change and the watcher's start. Printing
 *    the rule, choosing the duration, asking for the reason on /dev/tty
 *    and reading the -S password from standard input run as the user.
 *    The detached watcher sets all its ids to root (setuid(0) as root), so the
 *    user can no longer signal it, and revokes at the deadline.
 *    `log verify FILE` drops root for good (real, effective and saved)
 *    before opening FILE. A failure to change ids exits at once (status 1).
 *  - No path comes from the user: every file opened as root is named by
 *    the compile-time configuration path or by that root-owned file
 *    (policy, trusted keys, state, audit log, group_root, boot id), or is
 *    fixed (/dev/null, utmp, NSS and PAM's own files). The user's paths
 *    are /dev/tty (opened as the user) and `log verify FILE` (opened with
 *    no privileges left); ttyname(0) is only compared with utmp entries.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/elevate.h"

/* The configuration read when --config is not given (and the only one when
 * set-user-ID). A compile-time constant: the set-user-ID end-to-end tests
 * build a copy with their own (Makefile, elevate-suidtest). */
#ifndef ELEVATE_DEFAULT_CONFIG
#define ELEVATE_DEFAULT_CONFIG CONFIG_DEFAULT_PATH
#endif

/* ---- configuration and usage ------------------------------------------------ */

static int load_config(struct ctx *c)
{
	char err[256];
	const char *path = c->o.config ? c->o.config : ELEVATE_DEFAULT_CONFIG;
	config_defaults(&c->cfg);
	if (config_load(&c->cfg, path, c->owner, err, sizeof(err)) != 0) {
		fprintf(stderr, "elevate: %s: %s\n", path, err);
		return -1;
	}
	return 0;
}

static void usage(void)
{
	fputs("usage: elevate [request] [--reason TEXT | --choice N] [--for DURATION] [-S]\n"
	      "               [--config FILE] [--as USER]\n"
	      "       elevate status [--as USER]\n"
	      "       elevate end [--as USER]\n"
	      "       elevate sweep\n"
	      "       elevate unlock\n"
	      "       elevate log verify [FILE]\n", stderr);
}
/* ---- arguments ------------------------------------------------------------- */

static int take_value(int argc, char **argv, int *i, const char **dst)
{
	if (*i + 1 >= argc) {
		fprintf(stderr, "elevate: %s needs a value\n", argv[*i]);
		return -1;
	}
	*dst = argv[++*i];
	return 0;
}

static int parse_option(int argc, char **argv, int *i, struct options *o)
{
	const char *a = argv[*i];
	if (strcmp(a, "-S") == 0) {
		o->stdin_password = true;
		return 0;
	}
	if (strcmp(a, "--reason") == 0)
		return take_value(argc, argv, i, &o->reason);
	if (strcmp(a, "--choice") == 0)
		return take_value(argc, argv, i, &o->choice);
	if (strcmp(a, "--for") == 0)
		return take_value(argc, argv, i, &o->duration);
	if (strcmp(a, "--config") == 0)
		return take_value(argc, argv, i, &o->config);
	if (strcmp(a, "--as") == 0)
		return take_value(argc, argv, i, &o->as);
	fprintf(stderr, "elevate: unknown option %s\n", a);
	return -1;
}

static int parse_command(int argc, char **argv, int *i, struct options *o)
{
	static const char *const cmds[] = { "request", "status", "end", "sweep", "unlock" };
	const char *a = argv[*i];
	for (size_t k = 0; k < sizeof(cmds) / sizeof(cmds[0]); k++) {
		if (strcmp(a, cmds[k]) == 0) {
			o->cmd = cmds[k];
			return 0;
		}
	}
	if (strcmp(a, "log") == 0 && *i + 1 < argc && strcmp(argv[*i + 1], "verify") == 0) {
		o->cmd = "log";
		++*i;
		if (*i + 1 < argc && argv[*i + 1][0] != '-')
			o->file = argv[++*i];
		return 0;
	}
	fprintf(stderr, "elevate: unknown command %s\n", a);
	return -1;
}

static int parse_args(int argc, char **argv, struct options *o)
{
	memset(o, 0, sizeof(*o));
	for (int i = 1; i < argc; i++) {
		if (argv[i][0] == '-') {
			if (parse_option(argc, argv, &i, o) != 0)
				return -1;
		} else if (o->cmd) {
			fprintf(stderr, "elevate: unexpected argument %s\n", argv[i]);
			return -1;
		} else if (parse_command(argc, argv, &i, o) != 0) {
			return -1;
		}
	}
	if (!o->cmd)
		o->cmd = "request";
	if (strcmp(o->cmd, "request") != 0 && (o->reason || o->choice || o->duration ||
	                                       o->stdin_password)) {
		fprintf(stderr, "elevate: --reason, --choice, --for and -S go with request only\n");
		return -1;
	}
	if (o->reason && o->choice) {
		fprintf(stderr, "elevate: give --reason or --choice, not both\n");
		return -1;
	}
	return 0;
}
/* ---- status, unlock, log verify ------------------------------------------------------ */

static unsigned grants_today(struct ctx *c)
{
	int64_t *times = malloc(EP_MAX_GRANTS * sizeof(*times));
	size_t n = 0;
	unsigned count = 0;
	int32_t off = utc_offset(c->now.wall);
	int64_t today = ep_local_day(c->now.wall, off);
	if (times && state_grant_times(c->st, c->user, times, EP_MAX_GRANTS, &n) == 0)
		for (size_t i = 0; i < n; i++)
			count += ep_local_day(times[i], off) == today;
	free(times);
	return count;
}

static void print_quota(struct ctx *c)
{
	char err[ERR_SIZE];
	struct ep_decision d;
	if (load_policy(c, err, sizeof(err)) != 0 || collect_groups(c) != 0)
		return;
	resolve_host(c);
	if (evaluate(c, &d) != 0 && d.verdict != EP_ALLOW)
		return;
	if (d.limit.period != EP_PERIOD_NONE)
		printf("quota: %u of %u used, %u left\n", d.limit.used, d.limit.count, d.limit.left);
}

static int cmd_status(struct ctx *c)
{
	struct state_grant rec;
	char until[16];
	unsigned causes = 0;
	int64_t left;
	if (read_clock(c) != 0)
		return EXIT_DENIED;
	if (state_active(c->st, c->user, &rec) == 0 && (left = state_remaining(&rec, &c->now)) > 0) {
		format_hhmm(rec.expiry_wall, until, sizeof(until));
		printf("elevated under rule %s until %s (%lld s left)\n",
		       rec.rule[0] ? rec.rule : "(otherwise)", until, (long long)left);
	} else {
		printf("not elevated\n");
	}
	printf("grants today: %u\n", grants_today(c));
	print_quota(c);
	if (state_lock_causes(c->st, &causes) == 0 && causes != 0)
		printf("elevation is locked because %s; ask an administrator\n",
		       lock_causes_text(causes));
	return EXIT_OK_;
}

static int cmd_unlock(struct ctx *c)
{
	char detail[160];
	unsigned causes = 0;
	int rc;
	if (getuid() != 0) {
		fprintf(stderr, "elevate: unlock is for root only\n");
		return EXIT_DENIED;
	}
	if (read_clock(c) != 0)
		return EXIT_DENIED;
	rc = state_lock(c->st, STATE_WAIT_MS);
	if (rc == 0)
		rc = state_lock_causes(c->st, &causes);
	if (rc == 0)
		rc = state_clear_lock(c->st, &c->now);
	state_unlock(c->st);
	if (rc != 0) {
		fprintf(stderr, "elevate: %s\n", state_strerror(rc));
		return EXIT_DENIED;
	}
	if (causes == 0) {
		printf("elevation was not locked\n");
		return EXIT_OK_;
	}
	snprintf(detail, sizeof(detail), "lock cleared by an administrator (%s)",
	         lock_causes_text(causes));
	audit_simple(c, AUDIT_EV_UNLOCK, NULL, detail);
	printf("elevation unlocked (%s)\n", lock_causes_text(causes));
	return EXIT_OK_;
}

static int cmd_log(struct ctx *c)
{
	if (c->o.file && c->setuid_mode) {
		priv_drop_all();   /* the user's FILE, read with the user's rights only */
		if (geteuid() != getuid()) {
			fprintf(stderr, "elevate: cannot drop privileges\n");
			return EXIT_DENIED;
		}
	}
	if (!c->o.file)
		priv_root();       /* the root-only audit log */
	return auditlog_verify_command(c->o.file ? c->o.file : c->cfg.audit_log);
}

/* ---- main -------------------------------------------------------------------------- */

static int run(struct ctx *c)
{
	const char *cmd = c->o.cmd;
	int log_state = 0, rc;
	if (strcmp(cmd, "log") == 0)
		return cmd_log(c);
	if (resolve_user(c) != 0)
		return EXIT_USAGE;
	resolve_host(c);
	/* Root from here (root-only log and state); a request drops for its
	 * questions (cmd_request). */
	priv_root();
	if (strcmp(cmd, "status") != 0) {
		/* A log that cannot be used stops a request (fail closed); end and
		 * sweep go on, since taking rights away is always safe. */
		log_state = open_audit(c);
		if (log_state < 0 && strcmp(cmd, "request") == 0) {
			fprintf(stderr, "elevate: denied: no audit log\n");
			return EXIT_DENIED;
		}
	}
	if (open_state(c) != 0) {
		if (log_state > 0)
			record_tamper(c, NULL);
		if (strcmp(cmd, "request") == 0)
			audit_simple(c, AUDIT_EV_DENIAL, NULL, "cannot open the state");
		return EXIT_DENIED;
	}
	if (log_state > 0)
		record_tamper(c, NULL);
	if (strcmp(cmd, "request") == 0)
		return cmd_request(c);
	if (strcmp(cmd, "status") == 0)
		return cmd_status(c);
	rc = strcmp(cmd, "end") == 0 ? cmd_end(c) : strcmp(cmd, "sweep") == 0 ? cmd_sweep(c)
	                                                                        : cmd_unlock(c);
	return log_state < 0 ? EXIT_DENIED : rc;   /* done, but not recorded */
}

static void cleanup(struct ctx *c)
{
	for (size_t i = 0; i < c->ngroups; i++)
		free(c->groups[i]);
	free(c->policy.bytecode);
	state_close(c->st);
	if (c->log_open)
		auditlog_close(&c->log);
}

int main(int argc, char **argv)
{
	static struct ctx c;
	int rc;
	c.setuid_mode = getuid() != geteuid();
	if (c.setuid_mode) {
		sanitize_fds();
		clear_environment();
		priv_setup();
	}
	umask(077);
	c.owner = c.setuid_mode ? 0 : geteuid();
	/* The crash-injection test hook: after clear_environment(), and only when --as is allowed. */
	crash_hooks_init(!c.setuid_mode && getuid() == 0);
	if (parse_args(argc, argv, &c.o) != 0) {
		usage();
		return EXIT_USAGE;
	}
	if (c.o.config && c.setuid_mode) {
		fprintf(stderr, "elevate: --config is refused when running set-user-ID\n");
		return EXIT_USAGE;
	}
	if (load_config(&c) != 0)
		return EXIT_USAGE;
	priv_user();   /* the user's ids unless raised (set-user-ID only) */
	rc = run(&c);
	cleanup(&c);
	crash_report_unreached();
	return rc;
}
