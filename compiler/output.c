/*
 * output.c - atomic file replacement (temporary + fsync + rename).
 * Never opens the destination itself for writing.
 */
#include "output.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

static char *temporary_path_for(const char *path)
{
	size_t n = strlen(path) + sizeof(".polc-XXXXXX");
	char *tmp = malloc(n);
	if (tmp)
		snprintf(tmp, n, "%s.polc-XXXXXX", path);
	return tmp;
}

int output_write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	if (strcmp(path, "-") == 0)
		return write_all(STDOUT_FILENO, data, len);

	char *tmp = temporary_path_for(path);
	if (!tmp)
		return -1;
	int fd = mkstemp(tmp);
	if (fd < 0) {
		free(tmp);
		return -1;
	}
	int saved;
	if (fchmod(fd, mode) < 0 || write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		saved = errno;
		close(fd);
		goto fail;
	}
	if (close(fd) < 0) {
		saved = errno;
		goto fail;
	}
	if (rename(tmp, path) < 0) {
		saved = errno;
		goto fail;
	}
	free(tmp);
	return 0;
fail:
	unlink(tmp);
	free(tmp);
	errno = saved;
	return -1;
}
