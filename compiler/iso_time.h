/*
 * iso_time.h - reading ISO 8601 times with a UTC offset, as polc eval's
 * --at and --grant-at and the benchmarks' request files write them:
 * 2026-12-07T23:30:00+02:00, 2026-12-07T21:30Z, seconds optional.
 */
#ifndef POLC_ISO_TIME_H
#define POLC_ISO_TIME_H

#include <stdbool.h>
#include <stdint.h>

/* Unix seconds and the offset east of UTC; false when text is not such a time. */
bool iso_time_parse(const char *text, int64_t *t, int32_t *offset);

#endif
