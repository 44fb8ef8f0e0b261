/*
 * lockwait.h - an fcntl write lock taken with a bounded wait, shared by the
 * agent modules that serialise on lock files (groupdb's .pwd.lock, the
 * state directory's lock).
 */
#ifndef ELEVATE_LOCKWAIT_H
#define ELEVATE_LOCKWAIT_H

enum lock_wait_result {
	LOCK_WAIT_OK = 0,
	LOCK_WAIT_TIMEOUT = 1,      /* someone else held it for timeout_ms */
	LOCK_WAIT_ERROR = -1,       /* errno says why */
};

/*
 * Takes an exclusive lock on the whole of fd, polling F_SETLK (not F_SETLKW
 * with an alarm, so no signal handlers are touched) for at most timeout_ms.
 */
enum lock_wait_result lock_wait(int fd, unsigned timeout_ms);

#endif
