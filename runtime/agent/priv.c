/*
 * priv.c - elevate's process hygiene and privileges when it runs
 * set-user-ID root (elevate.c's header comment has the rules): standard
 * descriptors guarded and the others closed, the environment emptied, and
 * the effective ids switched between the user's and root's. Only POSIX
 * calls: setuid() and setgid() with an effective uid of 0 set the real,
 * effective and saved ids together.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <unistd.h>

#include "agent/elevate.h"

static bool priv_on;          /* set-user-ID root: the user's ids unless raised */
static uid_t priv_uid;        /* the real uid and gid */
static gid_t priv_gid;

static void priv_fail(void)
{
	static const char msg[] = "elevate: cannot change privileges\n";
	(void)!write(2, msg, sizeof(msg) - 1);
	_exit(EXIT_DENIED);
}

void priv_setup(void)
{
	priv_on = geteuid() == 0 && getuid() != 0;
	priv_uid = getuid();
	priv_gid = getgid();
}

/* Effective ids back to the user's; the saved uid stays 0. */
void priv_user(void)
{
	if (!priv_on)
		return;
	if (setegid(priv_gid) != 0 || seteuid(priv_uid) != 0 || geteuid() != priv_uid ||
	    getegid() != priv_gid)
		priv_fail();
}

/* Effective ids root. */
void priv_root(void)
{
	if (!priv_on)
		return;
	if (seteuid(0) != 0 || setegid(0) != 0 || geteuid() != 0)
		priv_fail();
}

/* Every id the user's, for good: nothing can raise again. */
void priv_drop_all(void)
{
	if (!priv_on)
		return;
	priv_root();
	if (setgid(priv_gid) != 0 || setuid(priv_uid) != 0 || getuid() != priv_uid ||
	    geteuid() != priv_uid || setuid(0) != -1 || seteuid(0) != -1)
		priv_fail();
	priv_on = false;
}

/* Every id root, for good (the watcher: out of the user's reach). */
void priv_root_for_good(void)
{
	if (!priv_on)
		return;
	priv_root();
	if (setgid(0) != 0 || setuid(0) != 0 || getuid() != 0 || getgid() != 0)
		priv_fail();
	priv_on = false;
}

void close_other_fds(void)
{
	long max = sysconf(_SC_OPEN_MAX);
	if (max < 0 || max > 65536)
		max = 65536;
	for (int fd = 3; fd < max; fd++)
		(void)close(fd);
}

/* Standard descriptors open (on /dev/null if closed); every other one closed. */
void sanitize_fds(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
			continue;
		if (open("/dev/null", O_RDWR) != fd)
			_exit(EXIT_DENIED);
	}
	close_other_fds();
}

extern char **environ;

/* Empties the environment: nothing inherited is read again (getenv, PAM,
 * the watcher). Portable, where glibc's clearenv() is not. */
void clear_environment(void)
{
	static char *empty[] = { NULL };
	environ = empty;
}
