/*
 * test_auth.c - PAM authentication (runtime/agent/auth.c) against a real
 * Linux-PAM stack under pam_wrapper (cwrap): the service files in
 * tests/agent/pam/ are rendered into a temporary service directory,
 * passwords are checked by pam_wrapper's pam_matrix module and the
 * biometric method is played by pam_permit / pam_deny.
 *
 * The binary re-executes itself with LD_PRELOAD=libpam_wrapper.so and
 * PAM_WRAPPER=1 (and, in an AddressSanitizer build that uses the shared
 * ASan runtime, with that runtime preloaded first and pam_wrapper's deep
 * binding off, as pam_wrapper(1) advises for sanitizers). It refuses to
 * run, and fails, if pam_wrapper is not the library answering pam_start():
 * these tests must never reach the machine's own /etc/pam.d.
 *
 * Covered: -S input (right, wrong, one attempt only, visible prompt
 * refused); biometric failing and falling through to password, or not when
 * only biometric is accepted; a biometric stack that prompts never gets an
 * answer; account checks ending everything; auth == 0 asking nothing;
 * unknown method bits; the terminal conversation on a pseudo-terminal with
 * a simulated typist (echo off, three wrong tries stop, a second try
 * succeeds, too long a line, timeout, end of file, a signal re-raised with
 * the terminal restored, visible prompts, no terminal); messages from PAM
 * with no reply room; argument checks.
 */
#define _GNU_SOURCE       /* dladdr, RTLD_DEFAULT, posix_openpt */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <security/pam_appl.h>

#include "agent/auth.h"

#define USER     "alice"
#define PASSWORD "secret"
#define PROMPT   "Password: "
#define MARKER   "ELEVATE_TEST_AUTH_WRAPPED"

#if defined(__SANITIZE_ADDRESS__)
#define TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_ASAN 1
#endif
#endif

static char tmpdir[64];
static char svcdir[96];

/* ---- running under pam_wrapper ------------------------------------------------ */

/* The shared object that holds sym, or NULL. */
static const char *object_of(void *sym)
{
	Dl_info info;
	if (!sym || !dladdr(sym, &info) || !info.dli_fname)
		return NULL;
	return info.dli_fname;
}

/* "LIB [OLD]" into buf: the preload list with lib first. */
static int prepend(char *buf, size_t size, const char *lib, const char *old)
{
	int n = old && *old ? snprintf(buf, size, "%s %s", lib, old) : snprintf(buf, size, "%s", lib);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* Sets up pam_wrapper's environment and execs this program again. Returns only on failure. */
static int reexec_wrapped(char **argv)
{
	char preload[4096];
	const char *old = getenv("LD_PRELOAD");
	if (prepend(preload, sizeof(preload), "libpam_wrapper.so", old) != 0)
		return -1;
#ifdef TEST_ASAN
	{
		/* A shared ASan runtime must come first in the preload list. */
		char with_asan[4096];
		const char *asan = object_of(dlsym(RTLD_DEFAULT, "__asan_init"));
		if (asan && strstr(asan, ".so")) {
			if (prepend(with_asan, sizeof(with_asan), asan, preload) != 0)
				return -1;
			memcpy(preload, with_asan, sizeof(preload));
		}
		if (setenv("PAM_WRAPPER_DISABLE_DEEPBIND", "1", 1) != 0)
			return -1;
	}
#endif
	if (setenv("LD_PRELOAD", preload, 1) != 0 || setenv("PAM_WRAPPER", "1", 1) != 0 ||
	    setenv(MARKER, "1", 1) != 0)
		return -1;
	execv("/proc/self/exe", argv);
	fprintf(stderr, "test_auth: cannot re-execute under pam_wrapper: %s\n", strerror(errno));
	return -1;
}

/* The directory of pam_wrapper's test modules, from where libpam_wrapper.so is. */
static int wrapper_modules(char *dir, size_t size)
{
	const char *lib = object_of((void *)pam_start);
	const char *slash;
	int n;
	if (!lib || !strstr(lib, "pam_wrapper")) {
		fprintf(stderr, "test_auth: pam_start() comes from %s, not pam_wrapper: "
		        "refusing to test against the system's PAM configuration\n",
		        lib ? lib : "an unknown object");
		return -1;
	}
	slash = strrchr(lib, '/');
	if (!slash)
		return -1;
	n = snprintf(dir, size, "%.*s/pam_wrapper", (int)(slash - lib), lib);
	if (n < 0 || (size_t)n >= size)
		return -1;
	return 0;
}

/* ---- the service directory ------------------------------------------------------ */

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	int rc = 0;
	if (!f)
		return -1;
	if (fputs(text, f) < 0)
		rc = -1;
	if (fclose(f) != 0)
		rc = -1;
	return rc;
}

/* Copies one template, replacing @MODULES@ and @PASSDB@. */
static int render(const char *from, const char *to, const char *modules, const char *passdb)
{
	char line[1024];
	FILE *in = fopen(from, "r"), *out = in ? fopen(to, "w") : NULL;
	int rc = in && out ? 0 : -1;
	while (rc == 0 && fgets(line, sizeof(line), in)) {
		for (const char *p = line; *p && rc == 0; ) {
			if (strncmp(p, "@MODULES@", 9) == 0)
				rc = fputs(modules, out) < 0 ? -1 : 0, p += 9;
			else if (strncmp(p, "@PASSDB@", 8) == 0)
				rc = fputs(passdb, out) < 0 ? -1 : 0, p += 8;
			else
				rc = fputc(*p++, out) == EOF ? -1 : 0;
		}
	}
	if (in && ferror(in))
		rc = -1;
	if (in && fclose(in) != 0)
		rc = -1;
	if (out && fclose(out) != 0)
		rc = -1;
	return rc;
}

/* tests/agent/pam, found next to this source file. */
static int template_dir(char *dir, size_t size)
{
	const char *env = getenv("ELEVATE_TEST_PAM_DIR");
	const char *slash = strrchr(__FILE__, '/');
	int n = env ? snprintf(dir, size, "%s", env)
	            : slash ? snprintf(dir, size, "%.*s/pam", (int)(slash - __FILE__), __FILE__)
	                    : snprintf(dir, size, "pam");
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

static int make_services(const char *modules)
{
	char tdir[512], passdb[160], from[1024], to[1024];
	DIR *d;
	struct dirent *e;
	int rc = 0;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/elevate-auth-XXXXXX");
	if (!mkdtemp(tmpdir) || template_dir(tdir, sizeof(tdir)) != 0)
		return -1;
	snprintf(svcdir, sizeof(svcdir), "%s/services", tmpdir);
	snprintf(passdb, sizeof(passdb), "%s/passdb", tmpdir);
	if (mkdir(svcdir, 0700) != 0 ||
	    write_file(passdb, USER ":" PASSWORD ":elevate-password\n") != 0)
		return -1;
	d = opendir(tdir);
	if (!d) {
		fprintf(stderr, "test_auth: %s: %s\n", tdir, strerror(errno));
		return -1;
	}
	while (rc == 0 && (e = readdir(d))) {
		if (e->d_name[0] == '.' || strcmp(e->d_name, "README") == 0)
			continue;
		snprintf(from, sizeof(from), "%s/%s", tdir, e->d_name);
		snprintf(to, sizeof(to), "%s/%s", svcdir, e->d_name);
		rc = render(from, to, modules, passdb);
	}
	if (closedir(d) != 0)
		rc = -1;
	return rc == 0 ? setenv("PAM_WRAPPER_SERVICE_DIR", svcdir, 1) : -1;
}

static void remove_tree(const char *dir)
{
	char path[1024];
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		struct stat st;
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
			remove_tree(path);
		else
			unlink(path);
	}
	if (d)
		closedir(d);
	rmdir(dir);
}

/* ---- helpers ------------------------------------------------------------------------ */

struct failures {
	unsigned calls;
	unsigned methods[8];
	int status[8];
};

static void count_failure(void *arg, unsigned method, int pam_status, const char *pam_error)
{
	struct failures *f = arg;
	assert_non_null(pam_error);
	if (f->calls < 8) {
		f->methods[f->calls] = method;
		f->status[f->calls] = pam_status;
	}
	f->calls++;
}

static void buffer_config(struct auth_config *cfg, const char *password)
{
	auth_config_init(cfg);
	cfg->input = AUTH_INPUT_BUFFER;
	cfg->password = password;
}

static int run_buffer(const char *bio, const char *pw, unsigned accepted, const char *password,
                      struct auth_result *res)
{
	struct auth_config cfg;
	buffer_config(&cfg, password);
	if (bio)
		cfg.service_biometric = bio;
	if (pw)
		cfg.service_password = pw;
	return auth_authenticate(USER, accepted, &cfg, res);
}

static unsigned count(const char *hay, const char *needle)
{
	unsigned n = 0;
	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* ---- -S: the password from a buffer ------------------------------------------------ */

static void test_buffer_right_password(void **state)
{
	struct auth_result res;
	(void)state;
	assert_int_equal(run_buffer(NULL, NULL, EP_AUTH_PASSWORD, PASSWORD, &res), AUTH_OK);
	assert_int_equal(res.method, EP_AUTH_PASSWORD);
	assert_int_equal(res.tried, EP_AUTH_PASSWORD);
	assert_int_equal(res.password_attempts, 1);
	assert_int_equal(res.failures, 0);
	assert_int_equal(res.pam_status, PAM_SUCCESS);
	assert_string_equal(res.pam_error, "");
	assert_string_equal(auth_method_name(res.method), "password");
}

static void test_buffer_wrong_password(void **state)
{
	struct auth_config cfg;
	struct auth_result res;
	struct failures f = { 0 };
	(void)state;
	buffer_config(&cfg, "wrong");
	cfg.on_failure = count_failure;
	cfg.failure_arg = &f;
	assert_int_equal(auth_authenticate(USER, EP_AUTH_PASSWORD, &cfg, &res), AUTH_E_FAILED);
	assert_int_equal(res.method, 0);
	assert_int_equal(res.password_attempts, 1);   /* the same password is not tried again */
	assert_int_equal(res.failures, 1);
	assert_int_equal(res.pam_status, PAM_AUTH_ERR);
	assert_string_equal(res.pam_error, "Authentication failure");
	assert_int_equal(f.calls, 1);
	assert_int_equal(f.methods[0], EP_AUTH_PASSWORD);
	assert_int_equal(f.status[0], PAM_AUTH_ERR);
}

static void test_buffer_unknown_user(void **state)
{
	struct auth_config cfg;
	struct auth_result res;
	(void)state;
	buffer_config(&cfg, PASSWORD);
	assert_int_equal(auth_authenticate("mallory", EP_AUTH_PASSWORD, &cfg, &res), AUTH_E_FAILED);
	assert_int_equal(res.method, 0);
	assert_int_not_equal(res.pam_status, PAM_SUCCESS);
}

static void test_buffer_undefined_service(void **state)
{
	struct auth_result res;
	(void)state;
	/* Falls back to "other", which denies. */
	assert_int_equal(run_buffer(NULL, "elevate-nosuch", EP_AUTH_PASSWORD, PASSWORD, &res),
	                 AUTH_E_FAILED);
	assert_int_equal(res.method, 0);
}

static void test_buffer_refuses_visible_prompt(void **state)
{
	struct auth_result res;
	(void)state;
	assert_int_equal(run_buffer(NULL, "elevate-password-echo", EP_AUTH_PASSWORD, PASSWORD, &res),
	                 AUTH_E_FAILED);
	assert_int_equal(res.password_attempts, 1);
}

/* pam_matrix verbose sends its messages with resp == NULL; they go to stderr with -S. */
static void test_buffer_messages_without_reply_room(void **state)
{
	struct auth_result res;
	char text[512] = "";
	int pipefd[2], saved, rc;
	ssize_t n;
	(void)state;
	assert_int_equal(pipe(pipefd), 0);
	saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	assert_true(dup2(pipefd[1], STDERR_FILENO) >= 0);
	rc = run_buffer(NULL, "elevate-password-verbose", EP_AUTH_PASSWORD, PASSWORD, &res);
	assert_true(dup2(saved, STDERR_FILENO) >= 0);     /* before any assertion can fail */
	close(saved);
	assert_int_equal(rc, AUTH_OK);
	close(pipefd[1]);
	n = read(pipefd[0], text, sizeof(text) - 1);
	close(pipefd[0]);
	assert_true(n > 0);
	text[n] = '\0';
	assert_non_null(strstr(text, "Authentication succeeded\n"));
}

/* ---- methods ----------------------------------------------------------------------- */

static void test_biometric_fails_falls_through(void **state)
{
	struct auth_config cfg;
	struct auth_result res;
	struct failures f = { 0 };
	(void)state;
	buffer_config(&cfg, PASSWORD);
	cfg.service_biometric = "elevate-biometric-deny";
	cfg.on_failure = count_failure;
	cfg.failure_arg = &f;
	assert_int_equal(auth_authenticate(USER, EP_AUTH_BIOMETRIC | EP_AUTH_PASSWORD, &cfg, &res),
	                 AUTH_OK);
	assert_int_equal(res.method, EP_AUTH_PASSWORD);
	assert_int_equal(res.tried, EP_AUTH_BIOMETRIC | EP_AUTH_PASSWORD);
	assert_int_equal(res.failures, 1);
	assert_int_equal(f.calls, 1);
	assert_int_equal(f.methods[0], EP_AUTH_BIOMETRIC);
	/* The last failure stays on record although the request succeeded. */
	assert_int_equal(res.pam_status, PAM_AUTH_ERR);
}

static void test_biometric_only_does_not_fall_through(void **state)
{
	struct auth_result res;
	(void)state;
	assert_int_equal(run_buffer("elevate-biometric-deny", NULL, EP_AUTH_BIOMETRIC, PASSWORD, &res),
	                 AUTH_E_FAILED);
	assert_int_equal(res.method, 0);
	assert_int_equal(res.tried, EP_AUTH_BIOMETRIC);
	assert_int_equal(res.password_attempts, 0);
	assert_string_equal(res.pam_error, "Authentication failure");
}

static void test_biometric_first(void **state)
{
	struct auth_result res;
	(void)state;
	assert_int_equal(run_buffer("elevate-biometric-permit", NULL,
	                            EP_AUTH_BIOMETRIC | EP_AUTH_PASSWORD, "wrong", &res), AUTH_OK);
	assert_int_equal(res.method, EP_AUTH_BIOMETRIC);
	assert_int_equal(res.tried, EP_AUTH_BIOMETRIC);
	assert_int_equal(res.password_attempts, 0);
	assert_string_equal(auth_method_name(res.method), "biometric");
}

static void test_password_only_skips_biometric(void **state)
{
	struct auth_result res;
	(void)state;
	assert_int_equal(run_buffer("elevate-biometric-permit", NULL, EP_AUTH_PASSWORD, "wrong", &res),
	                 AUTH_E_FAILED);
	assert_int_equal(res.tried, EP_AUTH_PASSWORD);
}

/* A biometric stack that asks for the password never gets it. */
static void test_biometric_prompt_not_answered(void **state)
{
	struct auth_result res;
	(void)state;
	assert_int_equal(run_buffer("elevate-biometric-prompts", NULL, EP_AUTH_BIOMETRIC, PASSWORD,
	                            &res), AUTH_E_FAILED);
	assert_int_equal(res.method, 0);
	assert_int_equal(run_buffer("elevate-biometric-prompts", NULL,
	                            EP_AUTH_BIOMETRIC | EP_AUTH_PASSWORD, PASSWORD, &res), AUTH_OK);
	assert_int_equal(res.method, EP_AUTH_PASSWORD);
}

static void test_account_check_ends_everything(void **state)
{
	struct auth_result res;
	(void)state;
	assert_int_equal(run_buffer(NULL, "elevate-password-noaccount", EP_AUTH_PASSWORD, PASSWORD,
	                            &res), AUTH_E_ACCOUNT);
	assert_int_equal(res.method, 0);
	/* A biometric account failure does not fall through to the password. */
	assert_int_equal(run_buffer("elevate-biometric-noaccount", NULL,
	                            EP_AUTH_BIOMETRIC | EP_AUTH_PASSWORD, PASSWORD, &res),
	                 AUTH_E_ACCOUNT);
	assert_int_equal(res.tried, EP_AUTH_BIOMETRIC);
	assert_int_equal(res.method, 0);
}

static void test_no_method_needs_nothing(void **state)
{
	struct auth_config cfg;
	struct auth_result res;
	struct failures f = { 0 };
	(void)state;
	auth_config_init(&cfg);
	cfg.tty_path = "/nonexistent/tty";   /* would fail if it were opened */
	cfg.service_password = "elevate-nosuch";
	cfg.on_failure = count_failure;
	cfg.failure_arg = &f;
	assert_int_equal(auth_authenticate(USER, 0, &cfg, &res), AUTH_NOT_REQUIRED);
	assert_int_equal(res.method, 0);
	assert_int_equal(res.tried, 0);
	assert_int_equal(res.failures, 0);
	assert_int_equal(f.calls, 0);
	assert_string_equal(auth_method_name(res.method), "none");
	assert_true(AUTH_NOT_REQUIRED != AUTH_OK);   /* a caller testing for AUTH_OK denies */
	assert_string_equal(auth_strerror(AUTH_NOT_REQUIRED), "the rule requires no authentication");
}

static void test_unknown_method_refused(void **state)
{
	struct auth_result res;
	(void)state;
	assert_int_equal(run_buffer(NULL, NULL, 1u << 5, PASSWORD, &res), AUTH_E_UNKNOWN_METHOD);
	assert_int_equal(run_buffer(NULL, NULL, EP_AUTH_PASSWORD | (1u << 5), PASSWORD, &res),
	                 AUTH_E_UNKNOWN_METHOD);
	assert_int_equal(res.tried, 0);
	assert_null(auth_method_name(1u << 5));
}

static void test_arguments(void **state)
{
	struct auth_config cfg;
	struct auth_result res;
	char longpw[AUTH_PASSWORD_MAX + 1];
	(void)state;
	assert_int_equal(auth_authenticate(USER, EP_AUTH_PASSWORD, NULL, NULL), AUTH_E_ARG);
	assert_int_equal(auth_authenticate(NULL, EP_AUTH_PASSWORD, NULL, &res), AUTH_E_ARG);
	assert_int_equal(auth_authenticate("", 0, NULL, &res), AUTH_E_ARG);  /* even with nothing to do */
	buffer_config(&cfg, NULL);
	assert_int_equal(auth_authenticate(USER, EP_AUTH_PASSWORD, &cfg, &res), AUTH_E_ARG);
	memset(longpw, 'x', sizeof(longpw) - 1);
	longpw[sizeof(longpw) - 1] = '\0';
	buffer_config(&cfg, longpw);
	assert_int_equal(auth_authenticate(USER, EP_AUTH_PASSWORD, &cfg, &res), AUTH_E_ARG);
	buffer_config(&cfg, PASSWORD);
	cfg.max_attempts = AUTH_MAX_ATTEMPTS + 1;
	assert_int_equal(auth_authenticate(USER, EP_AUTH_PASSWORD, &cfg, &res), AUTH_E_ARG);
	buffer_config(&cfg, PASSWORD);
	cfg.service_password = "../etc/passwd";
	assert_int_equal(auth_authenticate(USER, EP_AUTH_PASSWORD, &cfg, &res), AUTH_E_ARG);
	buffer_config(&cfg, PASSWORD);
	cfg.service_biometric = "";
	assert_int_equal(auth_authenticate(USER, EP_AUTH_PASSWORD, &cfg, &res), AUTH_E_ARG);
	buffer_config(&cfg, PASSWORD);
	cfg.input = (enum auth_input)7;
	assert_int_equal(auth_authenticate(USER, EP_AUTH_PASSWORD, &cfg, &res), AUTH_E_ARG);
	assert_string_equal(auth_strerror(-1000), "unknown authentication status");
}

/* ---- the terminal: a pseudo-terminal and a typist ------------------------------------ */

/* A child that watches the terminal's output and types the next line at each prompt. */
struct typist {
	pid_t pid;
	int stop;              /* write end: tells the typist to finish */
	int report;            /* read end: "typed=N\n" and the transcript */
	char transcript[8192];
	unsigned typed;
};

/* Special lines. */
#define TYPE_SIGINT ((const char *)1)   /* send SIGINT to the parent instead of typing */
#define TYPE_NOTHING ((const char *)2)  /* leave the prompt unanswered */

static void typist_run(int master, int stop, int report, const char *const *lines, unsigned n)
{
	char buf[8192];
	size_t len = 0;
	unsigned typed = 0;
	bool done = false;
	int out;
	while (!done) {
		struct pollfd p[2] = { { .fd = master, .events = POLLIN }, { .fd = stop, .events = POLLIN } };
		if (poll(p, 2, 10000) <= 0)
			break;
		if (p[1].revents)
			done = true;        /* drain the terminal once more, then report */
		if (p[0].revents & POLLIN) {
			ssize_t k = read(master, buf + len, sizeof(buf) - 1 - len);
			if (k > 0)
				len += (size_t)k;
		}
		buf[len] = '\0';
		while (!done && typed < count(buf, PROMPT)) {
			const char *line = typed < n ? lines[typed] : TYPE_NOTHING;
			typed++;
			if (line == TYPE_SIGINT)
				kill(getppid(), SIGINT);
			else if (line != TYPE_NOTHING && write(master, line, strlen(line)) < 0)
				_exit(2);
		}
	}
	out = dprintf(report, "typed=%u\n%s", typed, buf);
	_exit(out < 0 ? 3 : 0);
}

static void typist_start(struct typist *t, int master, const char *const *lines, unsigned n)
{
	int stop[2], report[2];
	assert_int_equal(pipe(stop), 0);
	assert_int_equal(pipe(report), 0);
	t->pid = fork();
	assert_true(t->pid >= 0);
	if (t->pid == 0) {
		close(stop[1]);
		close(report[0]);
		typist_run(master, stop[0], report[1], lines, n);
	}
	close(stop[0]);
	close(report[1]);
	t->stop = stop[1];
	t->report = report[0];
}

static void typist_finish(struct typist *t)
{
	char buf[sizeof(t->transcript) + 32];
	size_t len = 0;
	ssize_t k;
	int status;
	char *nl;
	assert_int_equal(write(t->stop, "x", 1), 1);
	close(t->stop);
	while ((k = read(t->report, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)k;
	close(t->report);
	buf[len] = '\0';
	assert_int_equal(waitpid(t->pid, &status, 0), t->pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(sscanf(buf, "typed=%u", &t->typed), 1);
	nl = strchr(buf, '\n');
	assert_non_null(nl);
	snprintf(t->transcript, sizeof(t->transcript), "%s", nl + 1);
}

struct pty {
	int master, slave;     /* the test keeps the slave open: the master never hangs up */
	char path[128];
};

static void pty_open(struct pty *p)
{
	const char *name;
	p->master = posix_openpt(O_RDWR | O_NOCTTY);
	assert_true(p->master >= 0);
	assert_int_equal(grantpt(p->master), 0);
	assert_int_equal(unlockpt(p->master), 0);
	name = ptsname(p->master);
	assert_non_null(name);
	snprintf(p->path, sizeof(p->path), "%s", name);
	p->slave = open(p->path, O_RDWR | O_NOCTTY);
	assert_true(p->slave >= 0);
}

static void pty_close(struct pty *p)
{
	close(p->slave);
	close(p->master);
}

static bool echo_on(const struct pty *p)
{
	struct termios t;
	assert_int_equal(tcgetattr(p->slave, &t), 0);
	return (t.c_lflag & ECHO) != 0;
}

/* Authenticates on a fresh pseudo-terminal with a typist answering the prompts. */
static int run_tty(const char *service, unsigned accepted, unsigned attempts, unsigned timeout_s,
                   const char *const *lines, unsigned n, struct typist *t, struct auth_result *res)
{
	struct auth_config cfg;
	struct pty p;
	int rc;
	pty_open(&p);
	auth_config_init(&cfg);
	cfg.tty_path = p.path;
	cfg.max_attempts = attempts;
	cfg.timeout_s = timeout_s;
	if (service)
		cfg.service_password = service;
	cfg.service_biometric = "elevate-biometric-deny";
	typist_start(t, p.master, lines, n);
	rc = auth_authenticate(USER, accepted, &cfg, res);
	typist_finish(t);
	assert_true(echo_on(&p));                /* the terminal is as it was */
	pty_close(&p);
	return rc;
}

static void test_tty_right_password(void **state)
{
	static const char *const lines[] = { PASSWORD "\n" };
	struct typist t;
	struct auth_result res;
	(void)state;
	assert_int_equal(run_tty(NULL, EP_AUTH_PASSWORD, 0, 10, lines, 1, &t, &res), AUTH_OK);
	assert_int_equal(res.method, EP_AUTH_PASSWORD);
	assert_int_equal(t.typed, 1);
	assert_int_equal(count(t.transcript, PROMPT), 1);
	assert_null(strstr(t.transcript, PASSWORD));        /* echo was off */
	assert_non_null(strstr(t.transcript, PROMPT "\r\n"));  /* the Enter, shown by us */
}

static void test_tty_three_wrong_attempts_stop(void **state)
{
	static const char *const lines[] = { "wrong1\n", "wrong2\n", "wrong3\n", PASSWORD "\n" };
	struct typist t;
	struct auth_result res;
	struct auth_config cfg;
	(void)state;
	assert_int_equal(run_tty(NULL, EP_AUTH_PASSWORD, 0, 10, lines, 4, &t, &res), AUTH_E_FAILED);
	auth_config_init(&cfg);
	assert_int_equal(cfg.max_attempts, 3);
	assert_int_equal(res.password_attempts, 3);
	assert_int_equal(res.failures, 3);
	assert_int_equal(t.typed, 3);                /* never asked a fourth time */
	assert_int_equal(count(t.transcript, PROMPT), 3);
	assert_null(strstr(t.transcript, "wrong"));
	assert_string_equal(res.pam_error, "Authentication failure");
}

static void test_tty_second_attempt(void **state)
{
	static const char *const lines[] = { "wrong\n", PASSWORD "\n" };
	struct typist t;
	struct auth_result res;
	(void)state;
	/* Biometric (pam_deny) first, then two password prompts. */
	assert_int_equal(run_tty(NULL, EP_AUTH_BIOMETRIC | EP_AUTH_PASSWORD, 0, 10, lines, 2, &t, &res),
	                 AUTH_OK);
	assert_int_equal(res.method, EP_AUTH_PASSWORD);
	assert_int_equal(res.password_attempts, 2);
	assert_int_equal(res.failures, 2);
	assert_int_equal(t.typed, 2);
}

static void test_tty_max_attempts_one(void **state)
{
	static const char *const lines[] = { "wrong\n", PASSWORD "\n" };
	struct typist t;
	struct auth_result res;
	(void)state;
	assert_int_equal(run_tty(NULL, EP_AUTH_PASSWORD, 1, 10, lines, 2, &t, &res), AUTH_E_FAILED);
	assert_int_equal(res.password_attempts, 1);
	assert_int_equal(t.typed, 1);
}

static void test_tty_line_too_long(void **state)
{
	static char longline[AUTH_PASSWORD_MAX + 64];
	static const char *const lines[] = { longline, PASSWORD "\n" };
	struct typist t;
	struct auth_result res;
	int rc;
	(void)state;
	memset(longline, 'y', sizeof(longline) - 2);
	longline[sizeof(longline) - 2] = '\n';
	longline[sizeof(longline) - 1] = '\0';
	rc = run_tty(NULL, EP_AUTH_PASSWORD, 0, 10, lines, 2, &t, &res);
	assert_int_equal(rc, AUTH_OK);
	assert_int_equal(res.password_attempts, 2);  /* the long line was a failed try */
	assert_int_equal(t.typed, 2);
	assert_null(strstr(t.transcript, "yyy"));
}

static void test_tty_timeout(void **state)
{
	static const char *const lines[] = { TYPE_NOTHING };
	struct typist t;
	struct auth_result res;
	(void)state;
	assert_int_equal(run_tty(NULL, EP_AUTH_PASSWORD, 0, 1, lines, 1, &t, &res), AUTH_E_TIMEOUT);
	assert_int_equal(res.password_attempts, 1);  /* a timeout ends it: no second prompt */
	assert_int_equal(t.typed, 1);
}

static void test_tty_end_of_file(void **state)
{
	static const char *const lines[] = { "\x04" };  /* ^D on an empty line */
	struct typist t;
	struct auth_result res;
	(void)state;
	assert_int_equal(run_tty(NULL, EP_AUTH_PASSWORD, 0, 10, lines, 1, &t, &res), AUTH_E_INTERRUPTED);
	assert_int_equal(t.typed, 1);
}

static volatile sig_atomic_t sigints;

static void on_sigint(int sig)
{
	(void)sig;
	sigints++;
}

/* A signal during the prompt: terminal restored, the caller's handler runs, nothing more asked. */
static void test_tty_signal(void **state)
{
	static const char *const lines[] = { TYPE_SIGINT, PASSWORD "\n" };
	struct sigaction sa, old;
	struct typist t;
	struct auth_result res;
	(void)state;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	assert_int_equal(sigemptyset(&sa.sa_mask), 0);
	assert_int_equal(sigaction(SIGINT, &sa, &old), 0);
	sigints = 0;
	assert_int_equal(run_tty(NULL, EP_AUTH_PASSWORD, 0, 10, lines, 2, &t, &res), AUTH_E_INTERRUPTED);
	assert_int_equal(sigints, 1);
	assert_int_equal(t.typed, 1);
	assert_int_equal(sigaction(SIGINT, &old, NULL), 0);
}

static void test_tty_visible_prompt(void **state)
{
	static const char *const lines[] = { PASSWORD "\n" };
	struct typist t;
	struct auth_result res;
	(void)state;
	assert_int_equal(run_tty("elevate-password-echo", EP_AUTH_PASSWORD, 0, 10, lines, 1, &t, &res),
	                 AUTH_OK);
	assert_non_null(strstr(t.transcript, PASSWORD));    /* echo stayed on */
}

static void test_tty_missing(void **state)
{
	struct auth_config cfg;
	struct auth_result res;
	(void)state;
	auth_config_init(&cfg);
	cfg.tty_path = "/nonexistent/tty";
	assert_int_equal(auth_authenticate(USER, EP_AUTH_PASSWORD, &cfg, &res), AUTH_E_NO_TTY);
	assert_int_equal(res.password_attempts, 1);
	cfg.tty_path = "/dev/null";                        /* not a terminal */
	assert_int_equal(auth_authenticate(USER, EP_AUTH_PASSWORD, &cfg, &res), AUTH_E_NO_TTY);
	/* Without a terminal a biometric method still works. */
	cfg.service_biometric = "elevate-biometric-permit";
	assert_int_equal(auth_authenticate(USER, EP_AUTH_BIOMETRIC | EP_AUTH_PASSWORD, &cfg, &res),
	                 AUTH_OK);
	assert_int_equal(res.method, EP_AUTH_BIOMETRIC);
}

/* A zeroed configuration means the defaults: terminal, default services, 3 tries, 60 s. */
static void test_tty_zeroed_config(void **state)
{
	static const char *const lines[] = { "wrong\n", PASSWORD "\n" };
	struct auth_config cfg;
	struct auth_result res;
	struct typist t;
	struct pty p;
	(void)state;
	pty_open(&p);
	memset(&cfg, 0, sizeof(cfg));
	cfg.tty_path = p.path;
	typist_start(&t, p.master, lines, 2);
	assert_int_equal(auth_authenticate(USER, EP_AUTH_PASSWORD, &cfg, &res), AUTH_OK);
	typist_finish(&t);
	assert_true(echo_on(&p));
	pty_close(&p);
	assert_int_equal(res.password_attempts, 2);
	assert_int_equal(t.typed, 2);
}

/* ---- auth_read_line (elevate -S reads standard input with it) ------------------------ */

static void test_read_line(void **state)
{
	int p[2];
	char buf[16];
	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "one\r\ntwo\n0123456789abcdefXYZ\nlast", 34), 34);
	close(p[1]);
	assert_int_equal(auth_read_line(p[0], buf, sizeof(buf), 5), AUTH_OK);
	assert_string_equal(buf, "one");
	assert_int_equal(auth_read_line(p[0], buf, sizeof(buf), 0), AUTH_OK);
	assert_string_equal(buf, "two");
	assert_int_equal(auth_read_line(p[0], buf, sizeof(buf), 5), AUTH_E_ARG);   /* too long */
	assert_int_equal(buf[0], '\0');
	assert_int_equal(auth_read_line(p[0], buf, sizeof(buf), 5), AUTH_OK);      /* no newline at EOF */
	assert_string_equal(buf, "last");
	assert_int_equal(auth_read_line(p[0], buf, sizeof(buf), 5), AUTH_E_INTERRUPTED);
	close(p[0]);
	assert_int_equal(auth_read_line(-1, buf, sizeof(buf), 5), AUTH_E_ARG);
	assert_int_equal(auth_read_line(0, buf, 1, 5), AUTH_E_ARG);
}

static void test_read_line_timeout(void **state)
{
	int p[2];
	char buf[16];
	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(auth_read_line(p[0], buf, sizeof(buf), 1), AUTH_E_TIMEOUT);
	close(p[0]);
	close(p[1]);
}

static void test_wipe(void **state)
{
	char buf[8] = "secret";
	(void)state;
	auth_wipe(buf, sizeof(buf));
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buffer_right_password),
		cmocka_unit_test(test_buffer_wrong_password),
		cmocka_unit_test(test_buffer_unknown_user),
		cmocka_unit_test(test_buffer_undefined_service),
		cmocka_unit_test(test_buffer_refuses_visible_prompt),
		cmocka_unit_test(test_buffer_messages_without_reply_room),
		cmocka_unit_test(test_biometric_fails_falls_through),
		cmocka_unit_test(test_biometric_only_does_not_fall_through),
		cmocka_unit_test(test_biometric_first),
		cmocka_unit_test(test_password_only_skips_biometric),
		cmocka_unit_test(test_biometric_prompt_not_answered),
		cmocka_unit_test(test_account_check_ends_everything),
		cmocka_unit_test(test_no_method_needs_nothing),
		cmocka_unit_test(test_unknown_method_refused),
		cmocka_unit_test(test_arguments),
		cmocka_unit_test(test_tty_right_password),
		cmocka_unit_test(test_tty_three_wrong_attempts_stop),
		cmocka_unit_test(test_tty_second_attempt),
		cmocka_unit_test(test_tty_max_attempts_one),
		cmocka_unit_test(test_tty_line_too_long),
		cmocka_unit_test(test_tty_timeout),
		cmocka_unit_test(test_tty_end_of_file),
		cmocka_unit_test(test_tty_signal),
		cmocka_unit_test(test_tty_visible_prompt),
		cmocka_unit_test(test_tty_missing),
		cmocka_unit_test(test_tty_zeroed_config),
		cmocka_unit_test(test_read_line),
		cmocka_unit_test(test_read_line_timeout),
		cmocka_unit_test(test_wipe),
	};
	char modules[512];
	int rc;
	(void)argc;
	if (!getenv(MARKER))
		return reexec_wrapped(argv) == 0 ? 0 : 1;
	if (wrapper_modules(modules, sizeof(modules)) != 0 || make_services(modules) != 0) {
		fprintf(stderr, "test_auth: cannot set up pam_wrapper (see above)\n");
		if (tmpdir[0])
			remove_tree(tmpdir);
		return 1;
	}
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	remove_tree(tmpdir);
	return rc;
}
