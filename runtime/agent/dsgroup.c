/*
 * dsgroup.c - admin-group membership on macOS through dseditgroup(8)
 * (dsgroup.h): a careful runner for the tool, checkmember's answer, and
 * add/remove steps that are each confirmed by a second checkmember.
 */
#include "agent/dsgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/groupdb.h"
#include "agent/monoclock.h"

#define DSGROUP_MSG_(name, value, msg) case name: return msg;
const char *dsgroup_strerror(int status)
{
	switch (status) {
	DSGROUP_STATUSES(DSGROUP_MSG_)
	}
	return "unknown dsgroup status";
}
#undef DSGROUP_MSG_

/* The tool must be root's, a regular file, and writable by nobody else. */
static int tool_is_safe(const char *tool)
{
	struct stat st;
	if (!tool || tool[0] != '/' || stat(tool, &st) != 0)
		return 0;
	return S_ISREG(st.st_mode) && st.st_uid == 0 && (st.st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

/* In the child: /dev/null in, the pipe out, nothing else open, all ids root; never returns. */
static void exec_tool(const char *tool, char *const argv[], int out)
{
	static char *const envp[] = { "PATH=/usr/bin:/bin:/usr/sbin:/sbin", NULL };
	int null = open("/dev/null", O_RDONLY);
	long max = sysconf(_SC_OPEN_MAX);
	if (null < 0 || dup2(null, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
		_exit(127);
	if (max < 0 || max > 65536)
		max = 65536;
	for (int fd = 3; fd < max; fd++)
		(void)close(fd);
	if (geteuid() == 0 && (setgid(0) != 0 || setuid(0) != 0))
		_exit(127);
	signal(SIGPIPE, SIG_DFL);
	execve(tool, argv, envp);
	_exit(127);
}

/* Reads the child's output until end of file, for timeout_ms at most; -1 on timeout or error. */
static int read_output(int fd, char *buf, size_t size, size_t *len, unsigned timeout_ms)
{
	long long deadline = monoclock_ms() + timeout_ms;   /* a failed read is caught below */
	*len = 0;
	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		long long now = monoclock_ms(), left = deadline - now;
		char sink[256];
		ssize_t r;
		if (now < 0 || left <= 0)
			return -1;
		if (poll(&p, 1, (int)left) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (*len + 1 < size)
			r = read(fd, buf + *len, size - 1 - *len);
		else
			r = read(fd, sink, sizeof(sink));   /* keep the child from blocking */
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			buf[*len] = '\0';
			return r == 0 ? 0 : -1;
		}
		if (*len + 1 < size)
			*len += (size_t)r;
	}
}

/* Runs the tool; *status is its exit status (-1 if it did not exit normally). */
static int run_tool(const char *tool, char *const argv[], char *out, size_t size, int *status)
{
	int fds[2], ws = 0, rc;
	size_t len;
	pid_t pid;
	if (pipe(fds) != 0)
		return DSGROUP_E_RUN;
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return DSGROUP_E_RUN;
	}
	if (pid == 0)
		exec_tool(tool, argv, fds[1]);
	close(fds[1]);
	rc = read_output(fds[0], out, size, &len, DSGROUP_TIMEOUT_MS);
	close(fds[0]);
	if (rc != 0)
		kill(pid, SIGKILL);
	while (waitpid(pid, &ws, 0) < 0)
		if (errno != EINTR)
			return DSGROUP_E_RUN;
	if (rc != 0)
		return DSGROUP_E_TIMEOUT;
	*status = WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
	return *status == 127 ? DSGROUP_E_RUN : DSGROUP_OK;
}

static int check_args(const char *tool, const char *group, const char *user)
{
	if (!group || !user || !groupdb_valid_name(group) || !groupdb_valid_name(user))
		return DSGROUP_E_ARG;
	return tool_is_safe(tool) ? DSGROUP_OK : DSGROUP_E_UNSAFE;
}

/* Whether text is "WORD USER is " followed by rest and then a line end. */
static int answer_is(const char *text, const char *word, const char *user, const char *rest,
                     const char *group)
{
	char want[2 * GROUPDB_NAME_MAX + 64];
	int n = snprintf(want, sizeof(want), "%s %s %s %s", word, user, rest, group);
	if (n < 0 || (size_t)n >= sizeof(want))
		return 0;
	return strncmp(text, want, (size_t)n) == 0 &&
	       (text[n] == '\0' || (text[n] == '\n' && text[n + 1] == '\0'));
}

int dsgroup_is_member(const char *tool, const char *group, const char *user, bool *member)
{
	char *argv[] = { (char *)tool, "-o", "checkmember", "-n", DSGROUP_NODE, "-m",
	                 (char *)user, (char *)group, NULL };
	char out[DSGROUP_OUTPUT_MAX];
	int rc = check_args(tool, group, user), status = -1;
	if (rc == 0)
		rc = run_tool(tool, argv, out, sizeof(out), &status);
	if (rc != 0)
		return rc;
	if (status == 0 && answer_is(out, "yes", user, "is a member of", group)) {
		*member = true;
		return DSGROUP_OK;
	}
	if (answer_is(out, "no", user, "is NOT a member of", group)) {
		*member = false;
		return DSGROUP_OK;
	}
	return status == 0 ? DSGROUP_E_ANSWER : DSGROUP_E_FAILED;
}

/* `dseditgroup -o edit -n NODE -a|-d USER -t user GROUP`, then checks the result. */
static int edit(const char *tool, const char *group, const char *user, bool add)
{
	char *argv[] = { (char *)tool, "-o", "edit", "-n", DSGROUP_NODE, add ? "-a" : "-d",
	                 (char *)user, "-t", "user", (char *)group, NULL };
	char out[DSGROUP_OUTPUT_MAX];
	int status = -1;
	bool member = !add;
	int rc = run_tool(tool, argv, out, sizeof(out), &status);
	if (rc != 0)
		return rc;
	if (status != 0)
		return DSGROUP_E_FAILED;
	rc = dsgroup_is_member(tool, group, user, &member);
	if (rc != 0)
		return rc;
	return member == add ? DSGROUP_OK : DSGROUP_E_NOT_DONE;
}

int dsgroup_add_member(const char *tool, const char *group, const char *user, bool *already)
{
	bool member = false;
	int rc = dsgroup_is_member(tool, group, user, &member);
	if (rc == 0 && !member)
		rc = edit(tool, group, user, true);
	if (rc == 0)
		*already = member;
	return rc;
}

int dsgroup_remove_member(const char *tool, const char *group, const char *user,
                          bool *was_member)
{
	bool member = false;
	int rc = dsgroup_is_member(tool, group, user, &member);
	if (rc == 0 && member)
		rc = edit(tool, group, user, false);
	if (rc == 0)
		*was_member = member;
	return rc;
}
