/*
 * output.c - atomic file replacement: stage every file as a synced
 * temporary, then rename them all. Never opens a destination for writing.
 */
#include "output.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define OUTPUT_MAX_FILES 4

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Writes a synced temporary next to path; returns its malloc'd name or NULL. */
static char *stage(const struct output_file *f)
{
	struct stat st;
	if (stat(f->path, &st) == 0 && S_ISDIR(st.st_mode)) {
		errno = EISDIR;   /* caught now, before any file is replaced */
		return NULL;
	}
	size_t n = strlen(f->path) + sizeof(".polc-XXXXXX");
	char *tmp = malloc(n);
	if (!tmp)
		return NULL;
	snprintf(tmp, n, "%s.polc-XXXXXX", f->path);
	int fd = mkstemp(tmp);
	if (fd < 0) {
		free(tmp);
		return NULL;
	}
	if (fchmod(fd, f->mode) < 0 || write_all(fd, f->data, f->len) < 0 || fsync(fd) < 0) {
		int saved = errno;
		close(fd);
		unlink(tmp);
		free(tmp);
		errno = saved;
		return NULL;
	}
	if (close(fd) < 0) {
		int saved = errno;
		unlink(tmp);
		free(tmp);
		errno = saved;
		return NULL;
	}
	return tmp;
}

static void discard(char **tmps, size_t n)
{
	int saved = errno;
	for (size_t i = 0; i < n; i++) {
		if (tmps[i])
			unlink(tmps[i]);
		free(tmps[i]);
	}
	errno = saved;
}

/* Devices and pipes (/dev/null, /dev/stdout, a FIFO) are written in place, never replaced. */
static bool is_special(const char *path)
{
	struct stat st;
	return strcmp(path, "-") == 0 || (stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode));
}

static int write_special(const char *path, const void *data, size_t len)
{
	if (strcmp(path, "-") == 0)
		return write_all(STDOUT_FILENO, data, len);
	int fd = open(path, O_WRONLY | O_NOCTTY);
	if (fd < 0)
		return -1;
	int rc = write_all(fd, data, len);
	int saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

int output_write_all(const struct output_file *files, size_t n, const char **failed)
{
	char *tmps[OUTPUT_MAX_FILES] = { NULL };
	if (n > OUTPUT_MAX_FILES) {
		errno = EINVAL;
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (is_special(files[i].path))
			continue;
		tmps[i] = stage(&files[i]);
		if (!tmps[i]) {
			if (failed)
				*failed = files[i].path;
			discard(tmps, n);
			return -1;
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (tmps[i] ? rename(tmps[i], files[i].path) < 0
		            : write_special(files[i].path, files[i].data, files[i].len) < 0) {
			if (failed)
				*failed = files[i].path;
			discard(tmps, n);
			return -1;
		}
		free(tmps[i]);
		tmps[i] = NULL;
	}
	return 0;
}
