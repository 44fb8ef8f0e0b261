/*
 * elevate.c - the on-device agent's command (docs/elevate.8): ask for
 * admin rights, show them, give them back, and the root-only sweep, unlock
 * and log verification. It ties the agent modules together: config.c
 * (settings), audit.c (hash-chained log), state.c (two-phase grant store,
 * clock-jump lock), auth.c (PAM), reason.c, groupdb.c (group/gshadow) and
 * libep (signed policy, evaluation).
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
 *    The detached watcher sets all its ids to root (setresuid), so the
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
#define _GNU_SOURCE   /* getgrouplist, tm_gmtoff, CLOCK_BOOTTIME */

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <utmpx.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "agent/audit.h"
#include "agent/auth.h"
#include "agent/config.h"
#include "agent/dsgroup.h"
#include "agent/groupdb.h"
#include "agent/policyfile.h"
#include "agent/reason.h"
#include "agent/state.h"
#include "ep.h"
#include "sig.h"

enum { EXIT_OK_ = 0, EXIT_DENIED = 1, EXIT_USAGE = 2 };

/* The configuration read when --config is not given (and the only one when
 * set-user-ID). A compile-time constant: the set-user-ID end-to-end tests
 * build a copy with their own (Makefile, elevate-suidtest). */
#ifndef ELEVATE_DEFAULT_CONFIG
#define ELEVATE_DEFAULT_CONFIG CONFIG_DEFAULT_PATH
#endif

#define STATE_WAIT_MS 15000u
#define ERR_SIZE (2 * CONFIG_PATH_MAX + 256)

struct options {
	const char *cmd;           /* request status end sweep unlock log */
	const char *reason;
	const char *choice;
	const char *duration;
	const char *config;
	const char *as;
	const char *file;          /* log verify FILE */
	bool stdin_password;       /* -S */
};

struct ctx {
	struct options o;
	struct elevate_config cfg;
	bool setuid_mode;
	uid_t owner;               /* who must own the policy, keys and state */
	char user[STATE_NAME_MAX + 1];
	uid_t uid;
	gid_t gid;
	char host[256];
	struct auditlog_log log;
	bool log_open;
	struct state *st;
	struct state_now now;
	struct policyfile policy;
	struct ep_program prog;
	char policy_hash[AUDIT_HEX_SIZE];
	char *groups[EP_MAX_GROUPS];
	size_t ngroups;
	const char *reason;        /* the request's checked reason, once it has one (audited) */
};

/* ---- small helpers ---------------------------------------------------------- */

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

static int copy_str(char *dst, size_t size, const char *src)
{
	int n = snprintf(dst, size, "%s", src);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* "5m", "90s", "1h30m": 1 s to 24 h. */
static int parse_duration(const char *s, uint32_t *out)
{
	uint64_t total = 0;
	if (!*s)
		return -1;
	while (*s) {
		uint64_t n = 0, mul;
		if (*s < '0' || *s > '9')
			return -1;
		while (*s >= '0' && *s <= '9') {
			n = n * 10 + (uint64_t)(*s++ - '0');
			if (n > STATE_DURATION_MAX)
				return -1;
		}
		switch (*s++) {
		case 's': mul = 1; break;
		case 'm': mul = 60; break;
		case 'h': mul = 3600; break;
		default: return -1;
		}
		total += n * mul;
		if (total > STATE_DURATION_MAX)
			return -1;
	}
	if (total == 0)
		return -1;
	*out = (uint32_t)total;
	return 0;
}

static void format_hhmm(int64_t t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (!localtime_r(&tt, &tm) || strftime(buf, size, "%H:%M", &tm) == 0)
		(void)copy_str(buf, size, "?");
}

static void format_span(uint32_t secs, char *buf, size_t size)
{
	if (secs % 60 == 0)
		snprintf(buf, size, "%u minute%s", secs / 60, secs == 60 ? "" : "s");
	else
		snprintf(buf, size, "%u seconds", secs);
}

/* ---- privileges (set-user-ID root only; see the header comment) -------------- */

static bool priv_on;          /* set-user-ID root: the user's ids unless raised */
static uid_t priv_uid;        /* the real uid and gid */
static gid_t priv_gid;

static void priv_fail(void)
{
	static const char msg[] = "elevate: cannot change privileges\n";
	(void)!write(2, msg, sizeof(msg) - 1);
	_exit(EXIT_DENIED);
}

/* Effective ids back to the user's; the saved uid stays 0. */
static void priv_user(void)
{
	if (!priv_on)
		return;
	if (setegid(priv_gid) != 0 || seteuid(priv_uid) != 0 || geteuid() != priv_uid ||
	    getegid() != priv_gid)
		priv_fail();
}

/* Effective ids root. */
static void priv_root(void)
{
	if (!priv_on)
		return;
	if (seteuid(0) != 0 || setegid(0) != 0 || geteuid() != 0)
		priv_fail();
}

/* Every id the user's, for good: nothing can raise again. */
static void priv_drop_all(void)
{
	if (!priv_on)
		return;
	priv_root();
	if (setresgid(priv_gid, priv_gid, priv_gid) != 0 ||
	    setresuid(priv_uid, priv_uid, priv_uid) != 0 || setuid(0) != -1 || seteuid(0) != -1)
		priv_fail();
	priv_on = false;
}

/* Standard descriptors open (on /dev/null if closed); every other one closed. */
static void sanitize_fds(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
			continue;
		if (open("/dev/null", O_RDWR) != fd)
			_exit(EXIT_DENIED);
	}
	if (close_range(3, ~0u, 0) != 0) {
		for (int fd = 3; fd < 65536; fd++)
			(void)close(fd);
	}
}

/* ---- test hook: crash injection --------------------------------------------- */

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

static void crash_point(const char *name)
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
static const struct groupdb_options *crash_groupdb_opt(bool add)
{
	static struct groupdb_options opt;
	if (!crash_at)
		return NULL;
	opt.step_hook = crash_groupdb_hook;
	opt.step_arg = add ? crash_group_add : crash_group_remove;
	return &opt;
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

/* ---- audit ----------------------------------------------------------------- */

static void record_tamper(struct ctx *c);

struct audit_fields {
	const char *rule, *reason, *detail;
	long long duration;
	time_t expiry;
};

static void audit(struct ctx *c, enum auditlog_event_type type, const char *user,
                  const struct audit_fields *f)
{
	struct auditlog_event ev;
	int rc;
	if (!c->log_open) {
		fprintf(stderr, "elevate: audit log not open; event %s not recorded\n",
		        auditlog_event_name(type));
		syslog(LOG_AUTHPRIV | LOG_ERR, "event %s for %s not recorded: the audit log is not open",
		       auditlog_event_name(type), user && *user ? user : "?");
		return;
	}
	auditlog_event_init(&ev, type, user && *user ? user : "?");
	ev.host = c->host[0] ? c->host : NULL;
	ev.policy = c->policy_hash[0] ? c->policy_hash : NULL;
	if (f) {
		ev.rule = f->rule;
		ev.reason = f->reason && *f->reason ? f->reason : NULL;
		ev.detail = f->detail;
		ev.duration = f->duration;
		ev.expiry = f->expiry;
	}
	rc = auditlog_append(&c->log, &ev);
	if (rc == AUDIT_ETAMPERED) {   /* damaged since it was opened: pin it, lock, go on */
		fprintf(stderr, "elevate: the audit log %s has been tampered with (%s)\n",
		        c->cfg.audit_log, c->log.why ? c->log.why : "?");
		record_tamper(c);
		rc = c->log_open ? auditlog_append(&c->log, &ev) : AUDIT_EIO;
	}
	if (rc != 0)
		fprintf(stderr, "elevate: cannot write the audit log: %s\n", auditlog_strerror(rc));
}

static void audit_simple(struct ctx *c, enum auditlog_event_type type, const char *rule,
                         const char *detail)
{
	struct audit_fields f = { rule, c->reason, detail, -1, 0 };
	audit(c, type, c->user, &f);
}

/* Prints the message, audits a denial, returns EXIT_DENIED. */
static int deny(struct ctx *c, const char *rule, const char *msg)
{
	fprintf(stderr, "elevate: denied: %s\n", msg);
	audit_simple(c, AUDIT_EV_DENIAL, rule, msg);
	return EXIT_DENIED;
}

/* Opens the log. 0; 1 when its last line is damaged (the log stays open for
 * record_tamper()); -1 when it cannot be used at all (said why). */
static int open_audit(struct ctx *c)
{
	int rc = auditlog_open(&c->log, c->cfg.audit_log);
	if (crash_at)
		c->log.step_hook = crash_audit_hook;
	if (rc == AUDIT_ETAMPERED) {
		fprintf(stderr, "elevate: the audit log %s has been tampered with (%s)\n",
		        c->cfg.audit_log, c->log.why ? c->log.why : "?");
		return 1;
	}
	if (rc != 0) {
		fprintf(stderr, "elevate: cannot open the audit log %s: %s\n",
		        c->cfg.audit_log, auditlog_strerror(rc));
		return -1;
	}
	c->log_open = true;
	return 0;
}

/*
 * After open_audit() found the log damaged: pins the damage with a
 * tamper-detected line that starts a new chain segment (auditlog_restart)
 * and locks elevation until an administrator runs `elevate unlock`. If
 * the restart fails the log is closed and events go to syslog only.
 */
static void record_tamper(struct ctx *c)
{
	char detail[256];
	struct auditlog_event ev;
	int rc;
	snprintf(detail, sizeof(detail), "%s; elevation locked until an administrator runs "
	         "elevate unlock", c->log.why ? c->log.why : "the last line is damaged");
	auditlog_event_init(&ev, AUDIT_EV_TAMPER_DETECTED, c->user[0] ? c->user : "?");
	ev.host = c->host[0] ? c->host : NULL;
	ev.detail = detail;
	rc = auditlog_restart(&c->log, &ev);
	if (rc == 0) {
		c->log_open = true;
	} else {
		c->log_open = false;
		fprintf(stderr, "elevate: cannot record the tampering: %s\n", auditlog_strerror(rc));
		syslog(LOG_AUTHPRIV | LOG_ERR, "audit log %s tampered with (%s); cannot record it: %s",
		       c->cfg.audit_log, detail, auditlog_strerror(rc));
		auditlog_close(&c->log);
	}
	rc = c->st ? state_set_lock(c->st, STATE_LOCK_AUDIT) : STATE_E_ARG;
	if (rc != 0)
		fprintf(stderr, "elevate: cannot lock elevation: %s\n", state_strerror(rc));
}

/* ---- configuration and identity ------------------------------------------------- */

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

static int resolve_user(struct ctx *c)
{
	struct passwd *pw;
	if (c->o.as && (getuid() != 0 || c->setuid_mode)) {
		fprintf(stderr, "elevate: --as is for root only\n");
		return -1;
	}
	errno = 0;
	pw = c->o.as ? getpwnam(c->o.as) : getpwuid(getuid());
	if (!pw || !pw->pw_name || copy_str(c->user, sizeof(c->user), pw->pw_name) != 0 ||
	    !groupdb_valid_name(pw->pw_name)) {
		fprintf(stderr, "elevate: cannot find a valid user %s\n", c->o.as ? c->o.as : "for this uid");
		return -1;
	}
	c->uid = pw->pw_uid;
	c->gid = pw->pw_gid;
	return 0;
}

static void resolve_host(struct ctx *c)
{
	if (gethostname(c->host, sizeof(c->host)) != 0)
		c->host[0] = '\0';
	c->host[sizeof(c->host) - 1] = '\0';
}

static int collect_groups(struct ctx *c)
{
	gid_t gids[EP_MAX_GROUPS];
	int n = EP_MAX_GROUPS;
	if (getgrouplist(c->user, c->gid, gids, &n) < 0)
		return -1;
	for (int i = 0; i < n && c->ngroups < EP_MAX_GROUPS; i++) {
		struct group *gr = getgrgid(gids[i]);
		if (!gr || !gr->gr_name)
			continue;
		c->groups[c->ngroups] = strdup(gr->gr_name);
		if (!c->groups[c->ngroups])
			return -1;
		c->ngroups++;
	}
	return 0;
}

/* The session of the terminal on standard input: remote without a terminal. */
static enum ep_session utmp_session(void)
{
	const char *tty = ttyname(0);
	struct utmpx *u;
	enum ep_session s = EP_SESSION_REMOTE;
	if (!tty)
		return EP_SESSION_REMOTE;
	if (strncmp(tty, "/dev/", 5) == 0)
		tty += 5;
	setutxent();
	while ((u = getutxent()) != NULL) {
		if (u->ut_type != USER_PROCESS || strncmp(u->ut_line, tty, sizeof(u->ut_line)) != 0)
			continue;
		s = u->ut_host[0] ? EP_SESSION_REMOTE : EP_SESSION_CONSOLE;
		break;
	}
	endutxent();
	return s;
}

static enum ep_session session_of(const struct ctx *c)
{
	switch (c->cfg.session) {
	case CONFIG_SESSION_CONSOLE: return EP_SESSION_CONSOLE;
	case CONFIG_SESSION_REMOTE: return EP_SESSION_REMOTE;
	default: return utmp_session();
	}
}

static int32_t utc_offset(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (!localtime_r(&tt, &tm))
		return 0;
	return (int32_t)tm.tm_gmtoff;
}

/* ---- policy ---------------------------------------------------------------- */

static int read_key(const struct ctx *c, const char *path, struct ep_public_key *key)
{
	char err[128];
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	FILE *f;
	EVP_PKEY *pkey;
	size_t len = sizeof(key->raw);
	int rc = -1;
	if (fd < 0 || policyfile_check_owned(fd, c->owner, err, sizeof(err)) != 0) {
		if (fd >= 0)
			(void)close(fd);
		return -1;
	}
	f = fdopen(fd, "r");
	if (!f) {
		(void)close(fd);
		return -1;
	}
	pkey = PEM_read_PUBKEY(f, NULL, NULL, NULL);
	if (fclose(f) == 0 && pkey && EVP_PKEY_get_id(pkey) == EVP_PKEY_ED25519 &&
	    EVP_PKEY_get_raw_public_key(pkey, key->raw, &len) == 1 && len == sizeof(key->raw) &&
	    ep_key_id(key) == 0)
		rc = 0;
	EVP_PKEY_free(pkey);
	return rc;
}

/* Reads, hashes and verifies the policy. 0, or -1 with the reason in err. */
static int load_policy(struct ctx *c, char *err, size_t errsize)
{
	struct ep_public_key keys[CONFIG_MAX_KEYS];
	struct ep_error e;
	int rc;
	if (c->cfg.ntrusted == 0)
		return snprintf(err, errsize, "no trusted_key in the configuration"), -1;
	for (size_t i = 0; i < c->cfg.ntrusted; i++) {
		if (read_key(c, c->cfg.trusted_key[i], &keys[i]) != 0)
			return snprintf(err, errsize, "cannot read trusted key %s",
			                c->cfg.trusted_key[i]), -1;
	}
	memset(&c->prog, 0, sizeof(c->prog));   /* loaded again: nothing of the old one stays */
	free(c->policy.bytecode);
	if (policyfile_read(c->cfg.policy, c->owner, &c->policy, err, errsize) != 0)
		return -1;
	memcpy(c->policy_hash, c->policy.sha256, sizeof(c->policy_hash));
	memset(&e, 0, sizeof(e));
	rc = ep_load_signed(&c->prog, c->policy.bytecode, c->policy.len, keys, c->cfg.ntrusted, &e);
	if (rc != 0)
		return snprintf(err, errsize, "policy %s rejected: %s", c->cfg.policy,
		                ep_status_message(e.status)), -1;
	return 0;
}

/* ---- state ------------------------------------------------------------------- */

static int open_state(struct ctx *c)
{
	struct state_options opt = { .step_hook = crash_state_hook };
	int rc = state_open_opt(c->cfg.state_dir, c->owner, crash_at ? &opt : NULL, &c->st);
	if (rc != 0) {
		fprintf(stderr, "elevate: state %s: %s\n", c->cfg.state_dir, state_strerror(rc));
		return -1;
	}
	return 0;
}

static int read_clock(struct ctx *c)
{
	int rc = state_read_clock(c->cfg.boot_id_path, &c->now);
	if (rc != 0) {
		fprintf(stderr, "elevate: cannot read the clock: %s\n", state_strerror(rc));
		return -1;
	}
	return 0;
}

/* The lock causes in words, for messages: "the clock went back", ... */
static const char *lock_causes_text(unsigned causes)
{
	switch (causes) {
	case STATE_LOCK_CLOCK: return "the clock jumped";
	case STATE_LOCK_AUDIT: return "the audit log was tampered with";
	default:               return "the clock jumped and the audit log was tampered with";
	}
}

/* Records the time; -1 with the reason in why (after auditing a new clock
 * jump) when elevation is locked, for whatever cause, or the state cannot say. */
static int note_time(struct ctx *c, const char *user, char *why, size_t whysize)
{
	enum state_jump jump = STATE_JUMP_NONE;
	unsigned causes = STATE_LOCK_ALL;
	int rc = state_note_time(c->st, &c->now, &jump);
	if (jump != STATE_JUMP_NONE) {
		struct audit_fields f = { NULL, NULL, jump == STATE_JUMP_BACK
		        ? "the wall clock went back; elevation locked"
		        : "the wall clock went forward faster than time passed; elevation locked", -1, 0 };
		audit(c, AUDIT_EV_CLOCK_JUMP, user, &f);
	}
	if (rc == 0)
		rc = state_lock_causes(c->st, &causes);
	if (rc != 0)
		return snprintf(why, whysize, "%s", state_strerror(rc)), -1;
	if (causes != 0)
		return snprintf(why, whysize, "elevation is locked because %s; an administrator "
		                "must clear it (elevate unlock)", lock_causes_text(causes)), -1;
	return 0;
}

/* ---- evaluation ------------------------------------------------------------- */

static int evaluate(struct ctx *c, struct ep_decision *d)
{
	int64_t *times = malloc(EP_MAX_GRANTS * sizeof(*times));
	size_t n = 0;
	struct ep_request req;
	int rc;
	if (!times)
		return -1;
	rc = state_grant_times(c->st, c->user, times, EP_MAX_GRANTS, &n);
	if (rc == 0) {
		memset(&req, 0, sizeof(req));
		req.user = c->user;
		req.groups = (const char *const *)c->groups;
		req.ngroups = c->ngroups;
		req.host = c->host;
		req.session = session_of(c);
		req.now = c->now.wall;
		req.utc_offset = utc_offset(c->now.wall);
		req.grants = times;
		req.ngrants = n;
		rc = ep_evaluate(&c->prog, &req, d) == 0 ? 0 : -1;
	} else {
		rc = -1;
	}
	free(times);
	return rc;
}

static int deny_decision(struct ctx *c, const struct ep_decision *d)
{
	char msg[512];
	if (d->code == EP_REASON_LIMIT_REACHED)
		snprintf(msg, sizeof(msg), "limit reached: %u of %u grants used", d->limit.used,
		         d->limit.count);
	else
		snprintf(msg, sizeof(msg), "%s", d->message ? d->message : "the policy denies this request");
	return deny(c, d->rule_name, msg);
}

/* ---- reason and authentication ------------------------------------------------ */

static void show_menu(FILE *tty, const struct ep_decision *d)
{
	for (uint32_t i = 0; i < d->reason.nchoices; i++)
		fprintf(tty, "  %u. %s\n", i + 1, d->reason.choices[i]);
	if (d->reason.other_allowed && d->reason.nchoices > 0)
		fprintf(tty, "  %u. %s\n", d->reason.nchoices + 1, REASON_OTHER_LABEL);
}

/* Asks on the terminal; fills choice/text (text in buf). */
/* Reads one reason line from the terminal: NULL, or why not (for the denial). */
static const char *read_reason_line(int fd, char *buf, size_t size)
{
	switch (auth_read_line(fd, buf, size, 120)) {
	case AUTH_OK:             return NULL;
	case AUTH_E_ARG:          return reason_strerror(REASON_E_TOO_BIG);   /* did not fit */
	case AUTH_E_TIMEOUT:      return "timed out waiting for the reason";
	case AUTH_E_INTERRUPTED:  return "a reason is required and none was given";
	default:                  return "cannot read the reason from the terminal";
	}
}

/* Asks for the reason on the terminal: NULL, or why not (for the denial). */
static const char *prompt_reason(const struct ep_decision *d, unsigned *choice, char *buf,
                                 size_t size, const char **text)
{
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	const char *why;
	FILE *tty;
	if (fd < 0)
		return "a reason is required and there is no terminal to ask for it on: "
		       "give --reason or --choice";
	tty = fdopen(fd, "r+");
	if (!tty) {
		(void)close(fd);
		return "cannot use the terminal";
	}
	show_menu(tty, d);
	fputs(d->reason.nchoices ? "Reason (number or text): " : "Reason: ", tty);
	(void)fflush(tty);
	why = read_reason_line(fd, buf, size);
	if (!why) {
		unsigned n;
		if (d->reason.nchoices && reason_parse_choice(buf, &n) == REASON_OK) {
			*choice = n;
			if (n == d->reason.nchoices + 1 && d->reason.other_allowed) {
				fputs("Reason: ", tty);
				(void)fflush(tty);
				why = read_reason_line(fd, buf, size);
				*text = buf;
			}
		} else {
			*text = buf;
		}
	}
	(void)fclose(tty);
	return why;
}

static int get_reason(struct ctx *c, const struct ep_decision *d, char *out, size_t size)
{
	char typed[REASON_TEXT_MAX + 8], msg[REASON_MESSAGE_SIZE];
	const char *text = c->o.reason;
	unsigned choice = 0;
	int rc;
	if (c->o.choice && reason_parse_choice(c->o.choice, &choice) != REASON_OK)
		return deny(c, d->rule_name, reason_message(REASON_E_NUMBER, d, msg, sizeof(msg)));
	if (!text && !choice && d->reason.mode == EP_REASON_REQUIRED) {
		if (c->o.stdin_password)
			return deny(c, d->rule_name, "a reason is required: give --reason or --choice");
		const char *why = prompt_reason(d, &choice, typed, sizeof(typed), &text);
		if (why)
			return deny(c, d->rule_name, why);
	}
	rc = reason_check(d, choice, text, out, size);
	if (rc != REASON_OK)
		return deny(c, d->rule_name, reason_message(rc, d, msg, sizeof(msg)));
	return 0;
}

static void on_auth_failure(void *arg, unsigned method, int pam_status, const char *pam_error)
{
	struct ctx *c = arg;
	char detail[256];
	(void)pam_status;
	snprintf(detail, sizeof(detail), "%s: %s", auth_method_name(method) ? auth_method_name(method) : "?",
	         pam_error ? pam_error : "");
	audit_simple(c, AUDIT_EV_AUTH_FAILURE, NULL, detail);
}

static int authenticate(struct ctx *c, const struct ep_decision *d)
{
	struct auth_config ac;
	struct auth_result res;
	char password[AUTH_PASSWORD_MAX];
	int rc;
	if (d->auth == 0) {
		priv_root();
		return 0;
	}
	auth_config_init(&ac);
	ac.service_biometric = c->cfg.pam_biometric;
	ac.service_password = c->cfg.pam_password;
	ac.on_failure = on_auth_failure;
	ac.failure_arg = c;
	if (c->o.stdin_password) {
		rc = auth_read_line(0, password, sizeof(password), AUTH_DEFAULT_TIMEOUT_S);
		if (rc != AUTH_OK)
			return deny(c, d->rule_name, auth_strerror(rc));
		ac.input = AUTH_INPUT_BUFFER;
		ac.password = password;
	}
	priv_root();   /* PAM: pam_unix reads the shadow file */
	rc = auth_authenticate(c->user, d->auth, &ac, &res);
	auth_wipe(password, sizeof(password));
	if (rc != AUTH_OK)
		return deny(c, d->rule_name, auth_strerror(rc));
	return 0;
}

/* ---- group changes ---------------------------------------------------------- */

/* The admin group is changed through the group files (groupdb.c) or
 * through dseditgroup (dsgroup.c), as the configuration says. */
static bool by_dseditgroup(const struct ctx *c)
{
	return c->cfg.admin_backend == CONFIG_BACKEND_DSEDITGROUP;
}

static const char *admin_strerror(const struct ctx *c, int rc)
{
	return by_dseditgroup(c) ? dsgroup_strerror(rc) : groupdb_strerror(rc);
}

static int admin_add(struct ctx *c, bool *already)
{
	if (by_dseditgroup(c))
		return dsgroup_add_member(c->cfg.dseditgroup, c->cfg.admin_group, c->user, already);
	return groupdb_add_member_opt(c->cfg.group_root, c->cfg.admin_group, c->user,
	                              crash_groupdb_opt(true), already);
}

static int admin_remove(struct ctx *c, const char *user, bool *was)
{
	if (by_dseditgroup(c))
		return dsgroup_remove_member(c->cfg.dseditgroup, c->cfg.admin_group, user, was);
	return groupdb_remove_member_opt(c->cfg.group_root, c->cfg.admin_group, user,
	                                 crash_groupdb_opt(false), was);
}

/* Whether the user is an admin without elevate's help (listed, or primary
 * group; with dseditgroup also by a nested group). */
static int already_admin(struct ctx *c, bool *admin)
{
	struct group *gr;
	int rc;
	if (by_dseditgroup(c))
		return dsgroup_is_member(c->cfg.dseditgroup, c->cfg.admin_group, c->user, admin);
	rc = groupdb_is_member(c->cfg.group_root, c->cfg.admin_group, c->user, admin);
	if (rc != 0)
		return rc;
	gr = getgrnam(c->cfg.admin_group);
	if (gr && gr->gr_gid == c->gid)
		*admin = true;
	return 0;
}

/* Under the state lock: takes rec's user out of the group and drops rec. */
static int revoke_record(struct ctx *c, const struct state_grant *rec,
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

static void close_all_fds(void)
{
	long max = sysconf(_SC_OPEN_MAX);
	int null = open("/dev/null", O_RDWR);
	if (max < 0 || max > 65536)
		max = 65536;
	if (null >= 0) {
		(void)dup2(null, 0);
		(void)dup2(null, 1);
		(void)dup2(null, 2);
	}
	for (int fd = 3; fd < max; fd++)
		(void)close(fd);
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
	close_all_fds();
	crash_at = crash_at && strncmp(crash_at, "watcher:", 8) == 0 ? crash_at + 8 : NULL;
	/* Set-user-ID: root throughout, real uid included, out of the user's reach. */
	if (priv_on && (setresgid(0, 0, 0) != 0 || setresuid(0, 0, 0) != 0))
		_exit(1);
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
			record_tamper(c);
		r = watcher_check(c, id, &deadline);
		if (c->log_open)
			auditlog_close(&c->log);
		c->log_open = false;
	} while (r == 0);
	_exit(r == 1 ? 0 : 1);
}

/* Double fork: the watcher is not our child and has no terminal. */
static int spawn_watcher(struct ctx *c, uint64_t id, int64_t deadline)
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

/* ---- request --------------------------------------------------------------------- */

static int choose_duration(struct ctx *c, const struct ep_decision *d, uint32_t *dur)
{
	char msg[128];
	*dur = d->duration;
	if (!c->o.duration)
		return 0;
	if (parse_duration(c->o.duration, dur) != 0) {
		fprintf(stderr, "elevate: bad duration %s (write 90s, 5m, 1h30m)\n", c->o.duration);
		return -1;
	}
	if (*dur > d->max) {
		snprintf(msg, sizeof(msg), "--for %s is longer than the %u seconds allowed",
		         c->o.duration, d->max);
		(void)deny(c, d->rule_name, msg);
		return -1;
	}
	return 0;
}

/* Under the lock: the decision again, which must still allow under the same rule. */
static int recheck(struct ctx *c, const struct ep_decision *first, struct ep_decision *d,
                   uint32_t dur)
{
	if (read_clock(c) != 0 || evaluate(c, d) != 0)
		return deny(c, first->rule_name, "cannot evaluate the policy");
	if (d->verdict != EP_ALLOW)
		return deny_decision(c, d);
	if (d->rule != first->rule || dur > d->max)
		return deny(c, d->rule_name, "the policy's decision changed; try again");
	return 0;
}

static void rollback(struct ctx *c, uint64_t id)
{
	if (state_begin_revoke(c->st, id) != 0 || state_finish_revoke(c->st, id) != 0)
		fprintf(stderr, "elevate: could not roll back grant record %llu; "
		        "`elevate sweep` will\n", (unsigned long long)id);
}

static int grant(struct ctx *c, const struct ep_decision *d, uint32_t dur, const char *reason)
{
	struct state_grant rec;
	struct audit_fields f;
	char detail[160], until[16], span[32];
	uint64_t id = 0;
	bool already = false;
	int rc;
	memset(&rec, 0, sizeof(rec));
	if (copy_str(rec.user, sizeof(rec.user), c->user) != 0 ||
	    copy_str(rec.rule, sizeof(rec.rule), d->rule_name ? d->rule_name : "") != 0 ||
	    copy_str(rec.reason, sizeof(rec.reason), reason) != 0 ||
	    copy_str(rec.boot_id, sizeof(rec.boot_id), c->now.boot_id) != 0)
		return deny(c, d->rule_name, "a field is too long for the state");
	rec.start_wall = c->now.wall;
	rec.duration = dur;
	rec.mono_start = c->now.mono;
	rc = state_begin_grant(c->st, &rec, &id);
	if (rc != 0)
		return deny(c, d->rule_name, state_strerror(rc));
	crash_point("after-intent");
	rc = admin_add(c, &already);
	if (rc == 0 && !already)
		crash_point("after-group-add");
	if (rc != 0 || already) {
		rollback(c, id);
		if (already) {
			printf("%s is already a member of %s: nothing to do\n", c->user, c->cfg.admin_group);
			return EXIT_OK_;
		}
		return deny(c, d->rule_name, admin_strerror(c, rc));
	}
	rc = state_commit_grant(c->st, id);
	if (rc != 0 || state_get(c->st, id, &rec) != 0) {
		fprintf(stderr, "elevate: committing the grant failed: %s\n", state_strerror(rc));
		if (state_get(c->st, id, &rec) == 0)
			(void)revoke_record(c, &rec, AUDIT_EV_REVOCATION, "grant could not be committed");
		return deny(c, d->rule_name, "the grant could not be recorded");
	}
	crash_point("after-commit");
	f = (struct audit_fields){ rec.rule[0] ? rec.rule : NULL, reason, NULL, dur,
	                           (time_t)rec.expiry_wall };
	audit(c, AUDIT_EV_GRANT, c->user, &f);
	crash_point("after-grant-logged");
	state_unlock(c->st);
	if (spawn_watcher(c, id, rec.mono_start + (int64_t)dur) != 0) {
		snprintf(detail, sizeof(detail), "cannot start the expiry watcher; sweep will revoke");
		fprintf(stderr, "elevate: warning: %s\n", detail);
	}
	format_hhmm(rec.expiry_wall, until, sizeof(until));
	format_span(dur, span, sizeof(span));
	printf("admin rights granted for %s (until %s)\n", span, until);
	return EXIT_OK_;
}

static int check_no_active(struct ctx *c, const struct ep_decision *d)
{
	struct state_grant rec;
	char msg[160], until[16];
	if (state_active(c->st, c->user, &rec) != 0 || state_remaining(&rec, &c->now) <= 0)
		return 0;
	format_hhmm(rec.expiry_wall, until, sizeof(until));
	snprintf(msg, sizeof(msg), "already elevated until %s", until);
	fprintf(stderr, "elevate: %s\n", msg);
	audit_simple(c, AUDIT_EV_DENIAL, d ? d->rule_name : NULL, msg);
	return EXIT_DENIED;
}

static int request_locked(struct ctx *c, const struct ep_decision *first, uint32_t dur,
                          const char *reason)
{
	struct ep_decision d;
	char msg[2 * CONFIG_NAME_MAX + 256];
	bool admin = false;
	int rc = state_lock(c->st, STATE_WAIT_MS), why;
	if (rc != 0)
		return deny(c, first->rule_name, state_strerror(rc));
	rc = recheck(c, first, &d, dur);
	if (rc == 0)
		rc = check_no_active(c, &d);
	if (rc == 0 && (why = already_admin(c, &admin)) != 0) {
		snprintf(msg, sizeof(msg), "cannot tell whether %s is already a member of %s: %s",
		         c->user, c->cfg.admin_group, admin_strerror(c, why));
		rc = deny(c, d.rule_name, msg);
	}
	if (rc == 0 && admin) {
		printf("%s is already a member of %s: nothing to do\n", c->user, c->cfg.admin_group);
		state_unlock(c->st);
		return EXIT_OK_;
	}
	if (rc == 0)
		rc = grant(c, &d, dur, reason);
	state_unlock(c->st);
	return rc;
}

static int prepare_request(struct ctx *c, struct ep_decision *d)
{
	char err[ERR_SIZE];
	if (read_clock(c) != 0)
		return deny(c, NULL, "cannot read the clock");
	if (note_time(c, c->user, err, sizeof(err)) != 0)
		return deny(c, NULL, err);
	if (load_policy(c, err, sizeof(err)) != 0)
		return deny(c, NULL, err);
	if (collect_groups(c) != 0)
		return deny(c, NULL, "cannot read the user's groups");
	resolve_host(c);
	if (evaluate(c, d) != 0 && d->verdict != EP_ALLOW)
		return deny(c, NULL, "the policy could not be evaluated");
	if (d->verdict != EP_ALLOW)
		return deny_decision(c, d);
	return check_no_active(c, d);
}

static int cmd_request(struct ctx *c)
{
	struct ep_decision d;
	char reason[REASON_OUT_SIZE], span[32];
	uint32_t dur = 0;
	sigset_t block, old;
	int rc;
	audit_simple(c, AUDIT_EV_REQUEST, NULL, c->o.duration ? c->o.duration : NULL);
	rc = prepare_request(c, &d);
	if (rc != 0)
		return rc;
	/* As the user until authentication: the audit log is already open. */
	priv_user();
	if (choose_duration(c, &d, &dur) != 0)
		return EXIT_DENIED;
	if (!c->o.stdin_password) {
		format_span(dur, span, sizeof(span));
		printf("rule %s grants %s\n", d.rule_name ? d.rule_name : "(otherwise)", span);
		(void)fflush(stdout);
	}
	rc = get_reason(c, &d, reason, sizeof(reason));
	if (rc == 0) {
		c->reason = reason;         /* later lines of this request record it */
		rc = authenticate(c, &d);   /* raises to root before PAM */
	}
	if (rc != 0)
		return rc;
	priv_root();
	/* No interruption between recording the intent and the outcome. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGQUIT);
	sigaddset(&block, SIGTSTP);
	if (sigprocmask(SIG_BLOCK, &block, &old) != 0)
		return deny(c, d.rule_name, "cannot block signals");
	rc = request_locked(c, &d, dur, reason);
	if (sigprocmask(SIG_SETMASK, &old, NULL) != 0)
		rc = EXIT_DENIED;
	return rc;
}

/* ---- status, end, sweep, unlock ------------------------------------------------------ */

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
	return EXIT_OK_;
}

static int cmd_end(struct ctx *c)
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

static int cmd_sweep(struct ctx *c)
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
			record_tamper(c);
		if (strcmp(cmd, "request") == 0)
			audit_simple(c, AUDIT_EV_DENIAL, NULL, "cannot open the state");
		return EXIT_DENIED;
	}
	if (log_state > 0)
		record_tamper(c);
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

extern char **environ;

/* Empties the environment: nothing inherited is read again (getenv, PAM,
 * the watcher). Portable, where glibc's clearenv() is not. */
static void clear_environment(void)
{
	static char *empty[] = { NULL };
	environ = empty;
}

int main(int argc, char **argv)
{
	static struct ctx c;
	int rc;
	c.setuid_mode = getuid() != geteuid();
	if (c.setuid_mode) {
		sanitize_fds();
		clear_environment();
		priv_on = geteuid() == 0;
		priv_uid = getuid();
		priv_gid = getgid();
	}
	umask(077);
	c.owner = c.setuid_mode ? 0 : geteuid();
	/* The crash-injection test hook: after clear_environment(), and only when --as is allowed. */
	if (!c.setuid_mode && getuid() == 0)
		crash_at = getenv("ELEVATE_TEST_CRASH_AT");
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
	if (crash_at && strncmp(crash_at, "watcher:", 8) != 0)
		fprintf(stderr, "elevate: ELEVATE_TEST_CRASH_AT=%s was not reached\n", crash_at);
	return rc;
}
