/*
 * auth.c - elevate's PAM authentication (contract in auth.h, set-up in
 * docs/agent-auth.md). One PAM transaction per try: pam_start, set
 * PAM_RUSER and PAM_TTY, pam_authenticate, pam_acct_mgmt, pam_end. The
 * conversation answers hidden and visible prompts of the password service
 * only, from the terminal (echo off for hidden ones, with a deadline and
 * the terminal restored on every path, signals included) or from the
 * caller's buffer, and shows PAM's messages with control characters
 * replaced.
 *
 * Must never: keep a password anywhere but a stack buffer wiped right after
 * use (and the reply PAM frees); answer a prompt of the biometric service;
 * treat "no method accepted" or an unknown method bit as success; go on
 * after a failed account check, PAM_ABORT or a failed pam_end().
 */
#include "auth.h"
#include "monoclock.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <security/pam_appl.h>

#ifndef PAM_MAX_NUM_MSG
#define PAM_MAX_NUM_MSG 32
#endif
#ifndef PAM_MAX_MSG_SIZE
#define PAM_MAX_MSG_SIZE 512
#endif

#define TTY_PATH_MAX 256            /* a terminal's name for PAM_TTY */

/* ---- names and small helpers ------------------------------------------------ */

const char *auth_strerror(int status)
{
	switch (status) {
#define AUTH_CASE_(name, value, msg) case name: return msg;
	AUTH_STATUSES(AUTH_CASE_)
#undef AUTH_CASE_
	}
	return "unknown authentication status";
}

const char *auth_method_name(unsigned method)
{
	switch (method) {
	case 0:                 return "none";
	case EP_AUTH_BIOMETRIC: return "biometric";
	case EP_AUTH_PASSWORD:  return "password";
	}
	return NULL;
}

void auth_config_init(struct auth_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->service_biometric = AUTH_DEFAULT_SERVICE_BIOMETRIC;
	cfg->service_password = AUTH_DEFAULT_SERVICE_PASSWORD;
	cfg->input = AUTH_INPUT_TTY;
	cfg->tty_path = AUTH_DEFAULT_TTY;
	cfg->max_attempts = AUTH_DEFAULT_ATTEMPTS;
	cfg->timeout_s = AUTH_DEFAULT_TIMEOUT_S;
}

void auth_wipe(void *p, size_t n)
{
	volatile unsigned char *v = p;
	while (n--)
		*v++ = 0;
}

static void copy_text(char *dst, size_t size, const char *src)
{
	size_t n = src ? strlen(src) : 0;
	if (n >= size)
		n = size - 1;
	if (n)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t k = write(fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* A PAM message on one line, control characters (but tab) shown as '?'. */
static int show(int fd, const char *msg, bool newline)
{
	char line[PAM_MAX_MSG_SIZE + 1];
	size_t n = 0;
	for (const unsigned char *s = (const unsigned char *)msg; *s && n < PAM_MAX_MSG_SIZE; s++)
		line[n++] = ((*s < 0x20 && *s != '\t') || *s == 0x7f) ? '?' : (char)*s;
	if (newline)
		line[n++] = '\n';
	return write_all(fd, line, n);
}

/* ---- signals while a prompt is open ------------------------------------------- */

static volatile sig_atomic_t caught_signal;
static const int guarded[] = { SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGTSTP };
#define NGUARDED (sizeof(guarded) / sizeof(guarded[0]))

static void on_signal(int sig)
{
	caught_signal = sig;
}

static int unguard_signals(const struct sigaction *old, size_t n)
{
	int rc = 0;
	for (size_t i = 0; i < n; i++)
		if (sigaction(guarded[i], &old[i], NULL) != 0)
			rc = -1;
	return rc;
}

/* Catches the guarded signals without SA_RESTART, so that poll() returns. */
static int guard_signals(struct sigaction *old)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	if (sigemptyset(&sa.sa_mask) != 0)
		return -1;
	caught_signal = 0;
	for (size_t i = 0; i < NGUARDED; i++) {
		if (sigaction(guarded[i], &sa, &old[i]) != 0) {
			(void)unguard_signals(old, i);   /* already failing: best effort */
			return -1;
		}
	}
	return 0;
}

/* ---- reading a line with a deadline ------------------------------------------------ */

/* Waits until fd can be read; deadline < 0 means no limit. */
static int wait_input(int fd, long long deadline)
{
	for (;;) {
		int timeout = -1, n;
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (caught_signal)
			return AUTH_E_INTERRUPTED;
		if (deadline >= 0) {
			long long now = monoclock_ms();
			if (now < 0)
				return AUTH_E_IO;
			if (now >= deadline)
				return AUTH_E_TIMEOUT;
			timeout = deadline - now > INT_MAX ? INT_MAX : (int)(deadline - now);
		}
		n = poll(&p, 1, timeout);
		if (n > 0)
			return AUTH_OK;     /* data, end of file or an error: read() tells */
		if (n < 0 && errno != EINTR)
			return AUTH_E_IO;
	}
}

/* One byte into *c: 1, 0 at end of file, or a negative status. */
static int read_byte(int fd, unsigned char *c, long long deadline)
{
	for (;;) {
		int rc = wait_input(fd, deadline);
		ssize_t n;
		if (rc != AUTH_OK)
			return rc;
		n = read(fd, c, 1);
		if (n >= 0)
			return (int)n;
		if (errno != EINTR && errno != EAGAIN)
			return AUTH_E_IO;
	}
}

static int read_line_until(int fd, char *buf, size_t size, long long deadline)
{
	size_t len = 0;
	bool overflow = false;
	unsigned char c = 0;
	int rc;
	for (;;) {
		rc = read_byte(fd, &c, deadline);
		if (rc < 0 || (rc == 0 && len == 0 && !overflow)) {
			rc = rc < 0 ? rc : AUTH_E_INTERRUPTED;     /* end of file: nothing typed */
			break;
		}
		if (rc == 0 || c == '\n') {
			rc = overflow ? AUTH_E_ARG : AUTH_OK;
			break;
		}
		if (len + 1 < size)
			buf[len++] = (char)c;
		else
			overflow = true;
	}
	auth_wipe(&c, sizeof(c));
	if (rc != AUTH_OK) {
		auth_wipe(buf, size);
		return rc;
	}
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	buf[len] = '\0';
	return AUTH_OK;
}

static long long deadline_after(unsigned timeout_s)
{
	long long now;
	if (timeout_s == 0)
		return -1;
	now = monoclock_ms();
	return now < 0 ? now : now + (long long)timeout_s * 1000;
}

int auth_read_line(int fd, char *buf, size_t size, unsigned timeout_s)
{
	long long deadline;
	if (fd < 0 || !buf || size < 2 || timeout_s > AUTH_MAX_TIMEOUT_S)
		return AUTH_E_ARG;
	deadline = deadline_after(timeout_s);
	if (timeout_s && deadline < 0)
		return AUTH_E_IO;
	caught_signal = 0;
	return read_line_until(fd, buf, size, deadline);
}

/* ---- the terminal ------------------------------------------------------------------ */

struct conv {
	const struct auth_config *cfg;
	unsigned method;           /* the method being tried */
	int tty;                   /* the terminal, or -1 */
	bool secret_given;         /* AUTH_INPUT_BUFFER: the password was handed to PAM */
	bool overlong;             /* a typed answer did not fit: the try failed, retry allowed */
	int stop;                  /* AUTH_OK, or why the user cannot answer any more */
};

static int open_tty(const char *path, int *fd)
{
	*fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (*fd < 0)
		return AUTH_E_NO_TTY;
	if (!isatty(*fd)) {
		(void)close(*fd);          /* not a terminal: refused either way */
		*fd = -1;
		return AUTH_E_NO_TTY;
	}
	return AUTH_OK;
}

/* Reads the answer with the terminal's signals guarded and its settings restored. */
static int prompt_guarded(int tty, const char *msg, const struct termios *quiet, bool echo,
                          char *buf, size_t size, long long deadline)
{
	/* Echo off before the prompt shows: nothing typed after it is echoed. */
	int rc = tcsetattr(tty, TCSADRAIN, quiet) != 0 ? AUTH_E_IO : AUTH_OK;
	if (rc == AUTH_OK && show(tty, msg, false) != 0)
		rc = AUTH_E_IO;
	if (rc == AUTH_OK)
		rc = read_line_until(tty, buf, size, deadline);
	if (!echo && write_all(tty, "\n", 1) != 0 && rc == AUTH_OK)
		rc = AUTH_E_IO;           /* the user's Enter was not echoed */
	return rc;
}

static int tty_prompt(const struct conv *c, const char *msg, bool echo, char *buf, size_t size)
{
	struct termios old, quiet;
	struct sigaction saved[NGUARDED];
	unsigned timeout_s = c->cfg->timeout_s ? c->cfg->timeout_s : AUTH_DEFAULT_TIMEOUT_S;
	long long deadline = deadline_after(timeout_s);
	int rc, sig;
	if (deadline < 0)
		return AUTH_E_IO;
	if (tcgetattr(c->tty, &old) != 0)
		return AUTH_E_NO_TTY;
	quiet = old;
	if (!echo)
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK | ECHONL);
	if (guard_signals(saved) != 0)
		return AUTH_E_IO;
	rc = prompt_guarded(c->tty, msg, &quiet, echo, buf, size, deadline);
	if (tcsetattr(c->tty, TCSANOW, &old) != 0 && rc == AUTH_OK)
		rc = AUTH_E_IO;
	sig = caught_signal;
	caught_signal = 0;
	if (unguard_signals(saved, NGUARDED) != 0 && rc == AUTH_OK)
		rc = AUTH_E_IO;
	if (sig) {
		rc = AUTH_E_INTERRUPTED;
		if (raise(sig) != 0)      /* now with the caller's handler */
			rc = AUTH_E_IO;
	}
	if (rc != AUTH_OK)
		auth_wipe(buf, size);
	return rc;
}

/* ---- the conversation ------------------------------------------------------------------ */

static int dup_secret(const char *s, char **out)
{
	size_t n = strlen(s);
	char *p = malloc(n + 1);
	if (!p)
		return AUTH_E_NOMEM;
	memcpy(p, s, n + 1);
	*out = p;
	return AUTH_OK;
}

/* Answers one prompt into *out (malloc'ed, PAM frees it). */
static int answer(struct conv *c, const struct pam_message *m, char **out)
{
	char buf[AUTH_PASSWORD_MAX];
	bool echo = m->msg_style == PAM_PROMPT_ECHO_ON;
	int rc;
	if (c->method != EP_AUTH_PASSWORD)
		return AUTH_E_FAILED;     /* the biometric service gets no typed input */
	if (c->cfg->input == AUTH_INPUT_BUFFER) {
		if (echo || c->secret_given)
			return AUTH_E_FAILED; /* -S answers one hidden prompt, nothing else */
		c->secret_given = true;
		return dup_secret(c->cfg->password, out);
	}
	if (c->tty < 0) {
		c->stop = AUTH_E_NO_TTY;
		return AUTH_E_NO_TTY;
	}
	rc = tty_prompt(c, m->msg ? m->msg : "Password: ", echo, buf, sizeof(buf));
	if (rc == AUTH_OK)
		rc = dup_secret(buf, out);
	auth_wipe(buf, sizeof(buf));
	if (rc == AUTH_E_ARG)             /* too long: a failed try, whatever PAM makes of it */
		c->overlong = true;
	else if (rc != AUTH_OK)
		c->stop = rc;
	return rc;
}

static int message_fd(const struct conv *c)
{
	return c->tty >= 0 ? c->tty : STDERR_FILENO;
}

/* One message; slot is where a prompt's answer goes (NULL: PAM gave no room). */
static int handle(struct conv *c, const struct pam_message *m, char **slot)
{
	if (!m)
		return -1;
	switch (m->msg_style) {
	case PAM_PROMPT_ECHO_OFF:
	case PAM_PROMPT_ECHO_ON:
		return slot && answer(c, m, slot) == AUTH_OK ? 0 : -1;
	case PAM_ERROR_MSG:
	case PAM_TEXT_INFO:
		return show(message_fd(c), m->msg ? m->msg : "", true) == 0 ? 0 : -1;
	}
	return -1;                        /* binary prompts and anything else */
}

static void drop_replies(struct pam_response *r, int n)
{
	if (!r)
		return;
	for (int i = 0; i < n; i++) {
		if (r[i].resp) {
			auth_wipe(r[i].resp, strlen(r[i].resp));
			free(r[i].resp);
		}
	}
	free(r);
}

/* The PAM conversation function. Some modules pass resp == NULL with messages only. */
static int converse(int n, const struct pam_message **msgs, struct pam_response **resp, void *data)
{
	struct conv *c = data;
	struct pam_response *r = NULL;
	if (n <= 0 || n > PAM_MAX_NUM_MSG || !msgs || !c)
		return PAM_CONV_ERR;
	if (resp) {
		*resp = NULL;
		r = calloc((size_t)n, sizeof(*r));
		if (!r) {
			c->stop = AUTH_E_NOMEM;
			return PAM_BUF_ERR;
		}
	}
	for (int i = 0; i < n; i++) {
		if (handle(c, msgs[i], r ? &r[i].resp : NULL) != 0) {
			drop_replies(r, n);
			return PAM_CONV_ERR;
		}
	}
	if (resp)
		*resp = r;
	return PAM_SUCCESS;
}

/* ---- one PAM transaction ------------------------------------------------------------- */

static void record_failure(struct auth_result *res, const struct conv *c, pam_handle_t *h, int rc)
{
	res->failures++;
	res->pam_status = rc;
	copy_text(res->pam_error, sizeof(res->pam_error), pam_strerror(h, rc));
	if (c->cfg->on_failure)
		c->cfg->on_failure(c->cfg->failure_arg, c->method, rc, res->pam_error);
}

static int set_items(pam_handle_t *h, const char *user, const struct conv *c)
{
	char name[TTY_PATH_MAX];
	int rc = pam_set_item(h, PAM_RUSER, user);
	if (rc == PAM_SUCCESS && c->tty >= 0 && ttyname_r(c->tty, name, sizeof(name)) == 0)
		rc = pam_set_item(h, PAM_TTY, name);
	return rc;
}

/* What a pam_authenticate() code means for us; *retry: the same method may be tried again. */
static int classify_auth(int rc, bool *retry)
{
	switch (rc) {
	case PAM_SUCCESS:
		return AUTH_OK;
	case PAM_AUTH_ERR:
	case PAM_CRED_INSUFFICIENT:
	case PAM_CONV_ERR:
		*retry = true;
		return AUTH_E_FAILED;
	case PAM_ABORT:
		return AUTH_E_PAM;
	}
	return AUTH_E_FAILED;             /* MAXTRIES, AUTHINFO_UNAVAIL, USER_UNKNOWN, ... */
}

static int classify_acct(int rc)
{
	if (rc == PAM_SUCCESS)
		return AUTH_OK;
	return rc == PAM_ABORT ? AUTH_E_PAM : AUTH_E_ACCOUNT;
}

/* pam_start .. pam_end once. AUTH_E_FAILED with *retry: try this method again. */
static int run_once(const char *service, const char *user, struct conv *c,
                    struct auth_result *res, bool *retry)
{
	struct pam_conv pc = { converse, c };
	pam_handle_t *h = NULL;
	int rc, st, end;
	*retry = false;
	c->secret_given = false;
	c->overlong = false;
	rc = pam_start(service, user, &pc, &h);
	if (rc != PAM_SUCCESS || !h) {
		record_failure(res, c, h, rc == PAM_SUCCESS ? PAM_SYSTEM_ERR : rc);
		return c->stop != AUTH_OK ? c->stop : AUTH_E_FAILED;
	}
	rc = set_items(h, user, c);
	st = AUTH_E_FAILED;
	if (rc == PAM_SUCCESS) {
		rc = pam_authenticate(h, PAM_DISALLOW_NULL_AUTHTOK);
		st = classify_auth(rc, retry);
	}
	if (rc == PAM_SUCCESS) {
		rc = pam_acct_mgmt(h, PAM_DISALLOW_NULL_AUTHTOK);
		st = classify_acct(rc);
	}
	if (rc != PAM_SUCCESS)
		record_failure(res, c, h, rc);
	end = pam_end(h, rc);
	if (end != PAM_SUCCESS) {
		record_failure(res, c, NULL, end);
		return AUTH_E_PAM;
	}
	if (st != AUTH_OK && c->stop != AUTH_OK)
		return c->stop;           /* timed out, interrupted, no terminal: stop */
	if (st == AUTH_E_FAILED && c->overlong)
		*retry = true;            /* modules map a refused answer differently */
	return st;
}

/* Up to `tries` transactions on one method's service. */
static int try_method(unsigned method, const char *service, unsigned tries, const char *user,
                      struct conv *c, struct auth_result *res)
{
	int rc = AUTH_E_FAILED;
	bool retry = true;
	c->method = method;
	res->tried |= method;
	for (unsigned i = 0; i < tries && retry; i++) {
		if (method == EP_AUTH_PASSWORD)
			res->password_attempts++;
		rc = run_once(service, user, c, res, &retry);
		if (rc != AUTH_E_FAILED)
			break;
	}
	return rc;
}

/* ---- the entry point -------------------------------------------------------------------- */

static bool valid_service(const char *s)
{
	return !s || (s[0] != '\0' && !strchr(s, '/'));
}

static int check_args(const char *user, unsigned accepted, const struct auth_config *cfg)
{
	if (!user || !user[0] || !valid_service(cfg->service_biometric) ||
	    !valid_service(cfg->service_password) || cfg->max_attempts > AUTH_MAX_ATTEMPTS ||
	    cfg->timeout_s > AUTH_MAX_TIMEOUT_S)
		return AUTH_E_ARG;
	if (cfg->input == AUTH_INPUT_BUFFER) {
		if (!cfg->password || strnlen(cfg->password, AUTH_PASSWORD_MAX) >= AUTH_PASSWORD_MAX)
			return AUTH_E_ARG;
	} else if (cfg->input != AUTH_INPUT_TTY) {
		return AUTH_E_ARG;
	}
	if (accepted & ~AUTH_KNOWN_METHODS)
		return AUTH_E_UNKNOWN_METHOD;
	return AUTH_OK;
}

static int authenticate(const char *user, unsigned accepted, struct conv *c,
                        struct auth_result *res)
{
	const struct auth_config *cfg = c->cfg;
	unsigned tries = cfg->max_attempts ? cfg->max_attempts : AUTH_DEFAULT_ATTEMPTS;
	int rc = AUTH_E_FAILED;
	if (cfg->input == AUTH_INPUT_BUFFER)
		tries = 1;                /* the same password again cannot do better */
	if (accepted & EP_AUTH_BIOMETRIC) {
		rc = try_method(EP_AUTH_BIOMETRIC, cfg->service_biometric ? cfg->service_biometric
		                : AUTH_DEFAULT_SERVICE_BIOMETRIC, 1, user, c, res);
		if (rc == AUTH_OK) {
			res->method = EP_AUTH_BIOMETRIC;
			return rc;
		}
	}
	if (rc == AUTH_E_FAILED && (accepted & EP_AUTH_PASSWORD)) {
		rc = try_method(EP_AUTH_PASSWORD, cfg->service_password ? cfg->service_password
		                : AUTH_DEFAULT_SERVICE_PASSWORD, tries, user, c, res);
		if (rc == AUTH_OK)
			res->method = EP_AUTH_PASSWORD;
	}
	return rc;
}

int auth_authenticate(const char *user, unsigned accepted, const struct auth_config *cfg,
                      struct auth_result *res)
{
	struct auth_config defaults;
	struct conv c;
	int rc;
	if (!res)
		return AUTH_E_ARG;
	memset(res, 0, sizeof(*res));
	if (!cfg) {
		auth_config_init(&defaults);
		cfg = &defaults;
	}
	rc = check_args(user, accepted, cfg);
	if (rc != AUTH_OK)
		return rc;
	if (accepted == 0)
		return AUTH_NOT_REQUIRED;
	memset(&c, 0, sizeof(c));
	c.cfg = cfg;
	c.tty = -1;
	if (cfg->input == AUTH_INPUT_TTY)   /* no terminal: a biometric method may still work */
		(void)open_tty(cfg->tty_path ? cfg->tty_path : AUTH_DEFAULT_TTY, &c.tty);
	rc = authenticate(user, accepted, &c, res);
	if (c.tty >= 0 && close(c.tty) != 0 && rc == AUTH_OK)
		rc = AUTH_E_IO;
	if (rc != AUTH_OK)
		res->method = 0;
	return rc;
}
