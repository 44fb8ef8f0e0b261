/*
 * elevate.h - what the files of the elevate command share (elevate.c,
 * priv.c, testhook.c, journal.c, decide.c, admins.c, request.c,
 * revoke.c): the command's context and the functions one file offers the
 * others. Not a module interface: the agent's modules have their own
 * headers (audit.h, auth.h, config.h, ...).
 */
#ifndef ELEVATE_ELEVATE_H
#define ELEVATE_ELEVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "agent/audit.h"
#include "agent/config.h"
#include "agent/groupdb.h"
#include "agent/policyfile.h"
#include "agent/state.h"
#include "ep.h"

enum { EXIT_OK_ = 0, EXIT_DENIED = 1, EXIT_USAGE = 2 };

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

/* The optional fields of an audit event. */
struct audit_fields {
	const char *rule, *reason, *detail;
	long long duration;
	time_t expiry;
};

/* priv.c */
void priv_setup(void);           /* set-user-ID: remember the user's ids */
void priv_user(void);
void priv_root(void);
void priv_drop_all(void);
void priv_root_for_good(void);
void close_other_fds(void);      /* every descriptor above 2 */
void sanitize_fds(void);
void clear_environment(void);

/* testhook.c (tests only: ELEVATE_TEST_CRASH_AT) */
void crash_hooks_init(bool allowed);
void crash_hooks_for_watcher(void);
void crash_report_unreached(void);
void crash_point(const char *name);
const struct state_options *crash_state_opt(void);
const struct groupdb_options *crash_groupdb_opt(bool add);
void crash_hook_audit_log(struct auditlog_log *log);

/* journal.c */
void audit(struct ctx *c, enum auditlog_event_type type, const char *user,
           const struct audit_fields *f);
void audit_simple(struct ctx *c, enum auditlog_event_type type, const char *rule,
                  const char *detail);
int deny(struct ctx *c, const char *rule, const char *msg);   /* prints, audits: EXIT_DENIED */
int open_audit(struct ctx *c);
void record_tamper(struct ctx *c, const char *why);   /* why NULL: the log's own */

/* decide.c */
int copy_str(char *dst, size_t size, const char *src);
int parse_duration(const char *s, uint32_t *out);
void format_hhmm(int64_t t, char *buf, size_t size);
void format_span(uint32_t secs, char *buf, size_t size);
int resolve_user(struct ctx *c);
void resolve_host(struct ctx *c);
int collect_groups(struct ctx *c);
int32_t utc_offset(int64_t t);
int load_policy(struct ctx *c, char *err, size_t errsize);
int open_state(struct ctx *c);
int read_clock(struct ctx *c);
const char *lock_causes_text(unsigned causes);
int note_time(struct ctx *c, const char *user, char *why, size_t whysize);
int evaluate(struct ctx *c, struct ep_decision *d);
int deny_decision(struct ctx *c, const struct ep_decision *d);

/* admins.c */
const char *admin_strerror(const struct ctx *c, int rc);
int admin_add(struct ctx *c, bool *already);
int admin_remove(struct ctx *c, const char *user, bool *was);
int already_admin(struct ctx *c, bool *admin);

/* request.c */
int cmd_request(struct ctx *c);

/* revoke.c */
int revoke_record(struct ctx *c, const struct state_grant *rec, enum auditlog_event_type type,
                  const char *detail);
int spawn_watcher(struct ctx *c, uint64_t id, int64_t deadline);
int cmd_end(struct ctx *c);
int cmd_sweep(struct ctx *c);

#endif
