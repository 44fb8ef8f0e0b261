/*
 * passphrase.c - passphrases from env:VAR, file:PATH or a terminal prompt
 * without echo (see passphrase.h). The terminal's settings are restored
 * after the prompt, also when a signal ends polc during it.
 */
#include "passphrase.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "source.h"

#define PASSPHRASE_MAX 1024   /* bytes, with the terminator */

bool passphrase_source_valid(const char *source)
{
	return (strncmp(source, "env:", 4) == 0 && source[4] != '\0') ||
	       (strncmp(source, "file:", 5) == 0 && source[5] != '\0');
}

static void wipe_free(char *s, size_t len)
{
	if (s) {
		OPENSSL_cleanse(s, len);
		free(s);
	}
}

static int from_env(struct passphrase *pp, const char *var)
{
	const char *v = getenv(var);
	if (!v) {
		fprintf(stderr, "polc: --pass env:%s: the environment variable %s is not set\n", var, var);
		return -1;
	}
	pp->value = strdup(v);
	return pp->value ? 0 : -1;
}

static int from_file(struct passphrase *pp, const char *path)
{
	char *data;
	size_t len;
	if (read_file(path, &data, &len) < 0) {
		fprintf(stderr, "polc: --pass file:%s: cannot read it: %s\n", path, strerror(errno));
		return -1;
	}
	size_t n = 0;
	while (n < len && data[n] != '\n' && data[n] != '\0')
		n++;
	if (n > 0 && data[n - 1] == '\r')
		n--;
	pp->value = malloc(n + 1);
	if (pp->value) {
		memcpy(pp->value, data, n);
		pp->value[n] = '\0';
	}
	wipe_free(data, len);
	secret_file_check(path, "passphrase file");
	return pp->value ? 0 : -1;
}

/* ---- the prompt ----------------------------------------------------------------- */

static struct termios saved_termios;

static void restore_and_reraise(int sig)
{
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_termios);
	signal(sig, SIG_DFL);
	raise(sig);
}

static const int prompt_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP };
#define NSIGNALS (sizeof(prompt_signals) / sizeof(*prompt_signals))

static void catch_signals(struct sigaction old[NSIGNALS])
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = restore_and_reraise;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < NSIGNALS; i++)
		sigaction(prompt_signals[i], &sa, &old[i]);
}

static void release_signals(const struct sigaction old[NSIGNALS])
{
	for (size_t i = 0; i < NSIGNALS; i++)
		sigaction(prompt_signals[i], &old[i], NULL);
}

/* One line from fd into buf, without its line end: its length, or -1
 * (errno set; E2BIG for a line that does not fit). */
static long read_line(int fd, char *buf, size_t size)
{
	size_t n = 0;
	bool too_long = false;
	for (;;) {
		char ch;
		ssize_t r = read(fd, &ch, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0 || ch == '\n')
			break;
		if (n + 1 < size)
			buf[n++] = ch;
		else
			too_long = true;
		ch = 0;
	}
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	if (too_long) {
		errno = E2BIG;
		return -1;
	}
	return (long)n;
}

static int from_terminal(struct passphrase *pp)
{
	if (!isatty(STDIN_FILENO)) {
		fprintf(stderr,
		        "polc: '%s' is encrypted and standard input is not a terminal to ask on:\n"
		        "polc: give the passphrase with --pass env:VAR or --pass file:PATH\n",
		        pp->what);
		return -1;
	}
	struct termios quiet;
	struct sigaction old[NSIGNALS];
	if (tcgetattr(STDIN_FILENO, &saved_termios) < 0) {
		fprintf(stderr, "polc: cannot prompt for a passphrase: %s\n", strerror(errno));
		return -1;
	}
	quiet = saved_termios;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK);
	quiet.c_lflag |= ICANON;
	fprintf(stderr, "Passphrase for %s: ", pp->what);
	fflush(stderr);
	catch_signals(old);
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	char buf[PASSPHRASE_MAX];
	long n = read_line(STDIN_FILENO, buf, sizeof(buf));
	int saved = errno;
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_termios);
	release_signals(old);
	fputc('\n', stderr);
	if (n >= 0)
		pp->value = strdup(buf);
	OPENSSL_cleanse(buf, sizeof(buf));
	if (n < 0) {
		fprintf(stderr, "polc: cannot read the passphrase: %s\n",
		        saved == E2BIG ? "longer than 1023 bytes" : strerror(saved));
		return -1;
	}
	return pp->value ? 0 : -1;
}

/* ---- the interface --------------------------------------------------------------- */

int passphrase_get(struct passphrase *pp)
{
	if (pp->value)
		return 0;
	if (pp->failed)
		return -1;
	int rc;
	if (!pp->source)
		rc = from_terminal(pp);
	else if (strncmp(pp->source, "env:", 4) == 0)
		rc = from_env(pp, pp->source + 4);
	else
		rc = from_file(pp, pp->source + 5);
	if (rc < 0)
		pp->failed = true;
	return rc;
}

int passphrase_pem_cb(char *buf, int size, int rwflag, void *u)
{
	struct passphrase *pp = u;
	(void)rwflag;
	pp->asked = true;
	if (passphrase_get(pp) < 0)
		return -1;
	size_t n = strlen(pp->value);
	if (size < 0 || n > (size_t)size) {
		fprintf(stderr, "polc: the passphrase for '%s' is too long\n", pp->what);
		pp->failed = true;
		return -1;
	}
	memcpy(buf, pp->value, n);
	return (int)n;
}

void passphrase_clear(struct passphrase *pp)
{
	if (pp->value)
		wipe_free(pp->value, strlen(pp->value));
	pp->value = NULL;
}

void secret_file_check(const char *path, const char *what)
{
	struct stat st;
	if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 077))
		fprintf(stderr,
		        "polc: warning: the %s '%s' can be read or changed by group or others "
		        "(mode %04o); run: chmod 600 '%s'\n",
		        what, path, (unsigned)(st.st_mode & 07777), path);
}
