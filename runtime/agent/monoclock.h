/*
 * monoclock.h - milliseconds on the monotonic clock, for the deadlines of
 * the agent's modules (a lock wait, a terminal prompt, a tool run): the
 * wall clock may jump, this one does not.
 */
#ifndef ELEVATE_MONOCLOCK_H
#define ELEVATE_MONOCLOCK_H

/* Milliseconds on CLOCK_MONOTONIC, or -1 if it cannot be read. */
long long monoclock_ms(void);

#endif
