/*
 * helpers.h - small helpers shared by the agent's unit tests. Header-only;
 * needs <cmocka.h> included first.
 */
#ifndef ELEVATE_TEST_HELPERS_H
#define ELEVATE_TEST_HELPERS_H

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

/* Writes a whole file and sets its mode, failing the test on any error. */
static inline void write_file(const char *path, const char *data, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
}

#endif
