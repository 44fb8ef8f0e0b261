/*
 * journal.c - elevate's side of the audit log: every event of a command
 * goes through audit(), denials through deny(); a log found damaged is
 * pinned with a tamper-detected line and locks elevation (record_tamper).
 * Events that cannot be written go to standard error and syslog.
 */
#include <stdio.h>
#include <syslog.h>

#include "agent/elevate.h"

void audit(struct ctx *c, enum auditlog_event_type type, const char *user,
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
		record_tamper(c, NULL);
		rc = c->log_open ? auditlog_append(&c->log, &ev) : AUDIT_EIO;
	}
	if (rc != 0)
		fprintf(stderr, "elevate: cannot write the audit log: %s\n", auditlog_strerror(rc));
}

void audit_simple(struct ctx *c, enum auditlog_event_type type, const char *rule,
                  const char *detail)
{
	struct audit_fields f = { rule, c->reason, detail, -1, 0 };
	audit(c, type, c->user, &f);
}

/* Prints the message, audits a denial, returns EXIT_DENIED. */
int deny(struct ctx *c, const char *rule, const char *msg)
{
	fprintf(stderr, "elevate: denied: %s\n", msg);
	audit_simple(c, AUDIT_EV_DENIAL, rule, msg);
	return EXIT_DENIED;
}

/* Opens the log. 0; 1 when its last line is damaged (the log stays open for
 * record_tamper()); -1 when it cannot be used at all (said why). */
int open_audit(struct ctx *c)
{
	int rc = auditlog_open(&c->log, c->cfg.audit_log);
	crash_hook_audit_log(&c->log);
	if (rc == AUDIT_ETAMPERED)
		return 1;
	if (rc != 0) {
		fprintf(stderr, "elevate: cannot open the audit log %s: %s\n",
		        c->cfg.audit_log, auditlog_strerror(rc));
		return -1;
	}
	c->log_open = true;
	return 0;
}

/*
 * After damage was found in the log (why says what; NULL: the log's own
 * account, after open_audit() or an append refused it): pins the damage
 * with a tamper-detected line that starts a new chain segment
 * (auditlog_restart) and locks elevation until an administrator runs
 * `elevate unlock`. If the restart fails the log is closed and events go
 * to syslog only.
 */
void record_tamper(struct ctx *c, const char *why)
{
	char detail[320];
	struct auditlog_event ev;
	int rc;
	if (!why)
		why = c->log.why ? c->log.why : "the last line is damaged";
	fprintf(stderr, "elevate: the audit log %s has been tampered with (%s)\n",
	        c->cfg.audit_log, why);
	snprintf(detail, sizeof(detail), "%s; elevation locked until an administrator runs "
	         "elevate unlock", why);
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
