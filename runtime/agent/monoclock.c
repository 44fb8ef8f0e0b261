/*
 * monoclock.c - milliseconds on the monotonic clock (monoclock.h).
 */
#include "agent/monoclock.h"

#include <time.h>

long long monoclock_ms(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return -1;
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
