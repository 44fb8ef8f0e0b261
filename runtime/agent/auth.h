/*
 * auth.h - elevate's user authentication through PAM: one PAM service per
 * method, so that the machine's administrator decides in the PAM stack what
 * "biometric" and "password" mean (docs/agent-auth.md has example stacks).
 *
 * auth_authenticate() tries only the methods the policy decision accepts
 * (struct ep_decision's `auth` bits), biometric first when both are
 * accepted; a method that fails falls through to the next accepted one.
 * Each try is its own pam_start() / pam_authenticate() / pam_acct_mgmt() /
 * pam_end() sequence, every return code checked. The password comes either
 * from the terminal (a PAM conversation that prompts on /dev/tty with echo
 * off, at most `max_attempts` times, each answer within `timeout_s`) or from
 * a buffer the caller read itself (elevate -S, like sudo -S: one attempt).
 *
 * Fail closed:
 *  - a decision that accepts no method (auth == 0) is NOT silently a
 *    success: auth_authenticate() returns AUTH_NOT_REQUIRED (a positive
 *    value), so a caller that only accepts AUTH_OK denies;
 *  - a decision with a method bit this module does not know is refused
 *    (AUTH_E_UNKNOWN_METHOD), whatever other bits it has;
 *  - the biometric service never gets an answer to a prompt: a biometric
 *    stack that asks for a password or any other typed input is refused,
 *    so a policy that accepts biometric only can never be satisfied by
 *    typing something;
 *  - a PAM account check that fails (expired, locked, new password
 *    required) ends authentication: no other method is tried;
 *  - PAM_ABORT, a failed pam_end() and every unexpected PAM code fail.
 *
 * Secrets: the password lives in this module only in a stack buffer that
 * is wiped (volatile stores) as soon as it has been copied into the PAM
 * reply, which PAM itself frees. Nothing here logs or stores a password;
 * the caller's buffer (AUTH_INPUT_BUFFER) is only read, and the caller must
 * wipe it (auth_wipe()) after the call.
 *
 * Terminal: while a prompt is open, SIGINT, SIGQUIT, SIGTERM, SIGHUP and
 * SIGTSTP are caught (one process-wide flag), the terminal's settings are
 * restored, and the signal is raised again with the caller's handlers
 * back in place. The module is meant for a single-threaded program.
 *
 * Functions return AUTH_OK (0), AUTH_NOT_REQUIRED (1) or a negative
 * enum auth_status; auth_strerror() names it.
 */
#ifndef ELEVATE_AUTH_H
#define ELEVATE_AUTH_H

#include <stddef.h>

#include "ep.h"

#define AUTH_DEFAULT_SERVICE_BIOMETRIC "elevate-biometric"
#define AUTH_DEFAULT_SERVICE_PASSWORD  "elevate-password"
#define AUTH_DEFAULT_TTY               "/dev/tty"
#define AUTH_DEFAULT_ATTEMPTS  3u       /* password prompts, as sudo */
#define AUTH_MAX_ATTEMPTS      10u      /* more are refused (AUTH_E_ARG) */
#define AUTH_DEFAULT_TIMEOUT_S 60u      /* per prompt */
#define AUTH_MAX_TIMEOUT_S     3600u
#define AUTH_PASSWORD_MAX      512u     /* bytes of a password, with its NUL */
#define AUTH_ERROR_MAX         128u     /* bytes of auth_result.pam_error, with its NUL */

/* Every method bit this module knows. */
#define AUTH_KNOWN_METHODS ((unsigned)EP_AUTH_BIOMETRIC | (unsigned)EP_AUTH_PASSWORD)

/* X(name, value, message): one list for the enum and the messages. */
#define AUTH_STATUSES(X) \
	X(AUTH_NOT_REQUIRED,       1, "the rule requires no authentication") \
	X(AUTH_OK,                 0, "authenticated") \
	X(AUTH_E_ARG,             -1, "missing or invalid argument") \
	X(AUTH_E_UNKNOWN_METHOD,  -2, "the rule accepts an authentication method this agent does not support") \
	X(AUTH_E_FAILED,          -3, "authentication failed") \
	X(AUTH_E_ACCOUNT,         -4, "the account may not be used now (PAM account check failed)") \
	X(AUTH_E_TIMEOUT,         -5, "timed out waiting for the password") \
	X(AUTH_E_NO_TTY,          -6, "no terminal to ask for the password on (use -S to read it from standard input)") \
	X(AUTH_E_INTERRUPTED,     -7, "password entry interrupted") \
	X(AUTH_E_PAM,             -8, "PAM error") \
	X(AUTH_E_IO,              -9, "terminal input/output error") \
	X(AUTH_E_NOMEM,          -10, "out of memory")

#define AUTH_ENUM_(name, value, msg) name = (value),
enum auth_status { AUTH_STATUSES(AUTH_ENUM_) };
#undef AUTH_ENUM_

enum auth_input {
	AUTH_INPUT_TTY = 0,        /* prompt on the terminal (the default) */
	AUTH_INPUT_BUFFER = 1,     /* the caller's password: elevate -S */
};

struct auth_config {
	const char *service_biometric; /* PAM service; NULL: AUTH_DEFAULT_SERVICE_BIOMETRIC */
	const char *service_password;  /* PAM service; NULL: AUTH_DEFAULT_SERVICE_PASSWORD */
	enum auth_input input;
	/* AUTH_INPUT_BUFFER: the password, NUL-terminated, shorter than
	   AUTH_PASSWORD_MAX. It answers the password service's first hidden
	   prompt and nothing else; one attempt only. */
	const char *password;
	/* AUTH_INPUT_TTY: the terminal to prompt on; NULL: AUTH_DEFAULT_TTY.
	   Must be a terminal. Messages from PAM go there too; with
	   AUTH_INPUT_BUFFER (or if the terminal cannot be opened for a
	   biometric message) they go to standard error. */
	const char *tty_path;
	unsigned max_attempts;         /* password tries; 0: AUTH_DEFAULT_ATTEMPTS */
	unsigned timeout_s;            /* per prompt; 0: AUTH_DEFAULT_TIMEOUT_S */
	/* Called after every failed pam_authenticate() or pam_acct_mgmt()
	   (for the audit log's auth-failure events); may be NULL. */
	void (*on_failure)(void *arg, unsigned method, int pam_status, const char *pam_error);
	void *failure_arg;
};

struct auth_result {
	unsigned method;               /* the EP_AUTH_* bit that succeeded; 0 if none */
	unsigned tried;                /* EP_AUTH_* bits of the methods tried */
	unsigned failures;             /* failed PAM calls, every method */
	unsigned password_attempts;    /* pam_authenticate() calls on the password service */
	int pam_status;                /* the last failing PAM code, or PAM_SUCCESS (0) */
	char pam_error[AUTH_ERROR_MAX];/* pam_strerror() of it; "" if none */
};

/* The message for a status; never NULL. */
const char *auth_strerror(int status);

/* "biometric", "password" or "none" (0); NULL for anything else. For the audit log. */
const char *auth_method_name(unsigned method);

/* The defaults above: terminal input, default services, 3 attempts, 60 s. */
void auth_config_init(struct auth_config *cfg);

/*
 * Authenticates user with the methods in accepted (EP_AUTH_* bits, from
 * ep_decision.auth); cfg NULL means the defaults. Always fills *res.
 *   AUTH_OK            a method succeeded: res->method says which.
 *   AUTH_NOT_REQUIRED  accepted == 0: nothing was asked, res->method == 0.
 *                      The caller must decide explicitly to go on.
 *   < 0                no method succeeded; res->pam_error says what PAM
 *                      said last (if PAM was reached).
 */
int auth_authenticate(const char *user, unsigned accepted, const struct auth_config *cfg,
                      struct auth_result *res);

/*
 * Reads one line from fd into buf (size bytes, NUL-terminated, without the
 * newline or a CR before it), one byte at a time so that nothing is left in
 * a stdio buffer: for elevate -S reading standard input. Waits at most
 * timeout_s seconds in all (0: no limit). Returns AUTH_OK, AUTH_E_ARG for a
 * line that does not fit (the rest of it is read and dropped), AUTH_E_TIMEOUT,
 * AUTH_E_INTERRUPTED at end of file before any byte, AUTH_E_IO. buf is
 * wiped on every error.
 */
int auth_read_line(int fd, char *buf, size_t size, unsigned timeout_s);

/* Overwrites n bytes at p with zeros in a way the compiler cannot drop. */
void auth_wipe(void *p, size_t n);

#endif
