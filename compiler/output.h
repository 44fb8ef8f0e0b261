/*
 * output.h - writing output files all at once or not at all.
 *
 * Each file's bytes go to a temporary file in its destination's directory,
 * are flushed and synced, and only when every temporary is complete are
 * they renamed over their destinations: a failure leaves existing files
 * untouched and no partial file behind. The path "-" means standard output;
 * an existing device or FIFO (/dev/null) is written in place, never replaced.
 */
#ifndef POLC_OUTPUT_H
#define POLC_OUTPUT_H

#include <stddef.h>
#include <sys/types.h>

struct output_file {
	const char *path;
	const void *data;
	size_t len;
	mode_t mode;
};

/* 0 on success; -1 with errno set and *failed (if given) naming the path. */
int output_write_all(const struct output_file *files, size_t n, const char **failed);

#endif
