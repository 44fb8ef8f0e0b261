/*
 * decide.c - what elevate knows before it decides: the configuration, the
 * user and their groups, the host and session, the clocks (and the lock
 * that a clock jump sets), the signed policy and its evaluation; and the
 * small formatting helpers the commands share.
 */
#define _GNU_SOURCE   /* getgrouplist, tm_gmtoff */

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <utmpx.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "agent/elevate.h"
#include "agent/groupdb.h"
#include "agent/policyfile.h"
#include "sig.h"

int copy_str(char *dst, size_t size, const char *src)
{
	int n = snprintf(dst, size, "%s", src);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* "5m", "90s", "1h30m": 1 s to 24 h. */
int parse_duration(const char *s, uint32_t *out)
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

void format_hhmm(int64_t t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (!localtime_r(&tt, &tm) || strftime(buf, size, "%H:%M", &tm) == 0)
		(void)copy_str(buf, size, "?");
}

void format_span(uint32_t secs, char *buf, size_t size)
{
	if (secs % 60 == 0)
		snprintf(buf, size, "%u minute%s", secs / 60, secs == 60 ? "" : "s");
	else
		snprintf(buf, size, "%u seconds", secs);
}
/* ---- configuration and identity ------------------------------------------------- */

int resolve_user(struct ctx *c)
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

void resolve_host(struct ctx *c)
{
	if (gethostname(c->host, sizeof(c->host)) != 0)
		c->host[0] = '\0';
	c->host[sizeof(c->host) - 1] = '\0';
}

int collect_groups(struct ctx *c)
{
#ifdef __APPLE__
	int gids[EP_MAX_GROUPS];   /* macOS declares getgrouplist() with int */
	int n = EP_MAX_GROUPS;
	if (getgrouplist(c->user, (int)c->gid, gids, &n) < 0)
		return -1;
#else
	gid_t gids[EP_MAX_GROUPS];
	int n = EP_MAX_GROUPS;
	if (getgrouplist(c->user, c->gid, gids, &n) < 0)
		return -1;
#endif
	for (int i = 0; i < n && c->ngroups < EP_MAX_GROUPS; i++) {
		struct group *gr = getgrgid((gid_t)gids[i]);
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

int32_t utc_offset(int64_t t)
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
int load_policy(struct ctx *c, char *err, size_t errsize)
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

int open_state(struct ctx *c)
{
	int rc = state_open_opt(c->cfg.state_dir, c->owner, crash_state_opt(), &c->st);
	if (rc != 0) {
		fprintf(stderr, "elevate: state %s: %s\n", c->cfg.state_dir, state_strerror(rc));
		return -1;
	}
	return 0;
}

int read_clock(struct ctx *c)
{
	int rc = state_read_clock(c->cfg.boot_id_path, &c->now);
	if (rc != 0) {
		fprintf(stderr, "elevate: cannot read the clock: %s\n", state_strerror(rc));
		return -1;
	}
	return 0;
}

/* The lock causes in words, for messages: "the clock went back", ... */
const char *lock_causes_text(unsigned causes)
{
	switch (causes) {
	case STATE_LOCK_CLOCK: return "the clock jumped";
	case STATE_LOCK_AUDIT: return "the audit log was tampered with";
	default:               return "the clock jumped and the audit log was tampered with";
	}
}

/* Records the time; -1 with the reason in why (after auditing a new clock
 * jump) when elevation is locked, for whatever cause, or the state cannot say. */
int note_time(struct ctx *c, const char *user, char *why, size_t whysize)
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

int evaluate(struct ctx *c, struct ep_decision *d)
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

int deny_decision(struct ctx *c, const struct ep_decision *d)
{
	char msg[512];
	if (d->code == EP_REASON_LIMIT_REACHED)
		snprintf(msg, sizeof(msg), "limit reached: %u of %u grants used", d->limit.used,
		         d->limit.count);
	else
		snprintf(msg, sizeof(msg), "%s", d->message ? d->message : "the policy denies this request");
	return deny(c, d->rule_name, msg);
}
