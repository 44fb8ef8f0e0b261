/*
 * lockwait.c - bounded wait for an fcntl write lock (see lockwait.h).
 * Never sleeps past the deadline and never blocks in fcntl itself.
 */
#include "lockwait.h"
#include "monoclock.h"

#include <errno.h>
#include <fcntl.h>
#include <time.h>

#define LOCK_POLL_MS 10

enum lock_wait_result lock_wait(int fd, unsigned timeout_ms)
{
	long long start = monoclock_ms();
	if (start < 0)
		return LOCK_WAIT_ERROR;
	for (;;) {
		struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 };
		if (fcntl(fd, F_SETLK, &fl) == 0)
			return LOCK_WAIT_OK;
		if (errno != EACCES && errno != EAGAIN && errno != EINTR)
			return LOCK_WAIT_ERROR;
		long long now = monoclock_ms(), waited = now - start;
		if (now < 0)
			return LOCK_WAIT_ERROR;
		if (waited >= (long long)timeout_ms)
			return LOCK_WAIT_TIMEOUT;
		long long nap = (long long)timeout_ms - waited;
		struct timespec ts = { 0, (nap < LOCK_POLL_MS ? nap : LOCK_POLL_MS) * 1000000L };
		(void)nanosleep(&ts, NULL);   /* an early wake-up only polls sooner */
	}
}
