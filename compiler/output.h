/*
 * output.h - writing an output file all at once or not at all.
 *
 * The bytes go to a temporary file in the destination's directory, are
 * flushed and synced, and the temporary is renamed over the destination:
 * a failure leaves any existing file untouched and no partial file behind.
 * The path "-" means standard output.
 */
#ifndef POLC_OUTPUT_H
#define POLC_OUTPUT_H

#include <stddef.h>
#include <sys/types.h>

/* 0 on success; -1 with errno set. */
int output_write_atomic(const char *path, const void *data, size_t len, mode_t mode);

#endif
