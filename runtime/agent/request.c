/*
 * request.c - `elevate [request]`: decide, ask for the reason, authenticate,
 * then, under the state lock, decide again and grant: intent recorded,
 * user added to the admin group, grant committed and logged, and a
 * watcher started for the deadline.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent/auth.h"
#include "agent/elevate.h"
#include "agent/reason.h"

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
	const char *name = auth_method_name(method);
	char detail[256];
	(void)pam_status;
	snprintf(detail, sizeof(detail), "%s: %s", name ? name : "?", pam_error ? pam_error : "");
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

int cmd_request(struct ctx *c)
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
