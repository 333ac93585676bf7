/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gv_time.h: the clocks of groved (base/gv_time.c).
 *
 * Durations, deadlines, timeouts and rates are measured on the monotonic
 * clock, which no one can set: a wall clock that jumps (NTP, a user, a
 * VM resumed) must not fire a timeout early or hold it off for hours. The
 * wall clock is only for what is shown or sent (log times, a Lease's
 * renewTime, certificate validity).
 */
#ifndef GROVED_GV_TIME_H
#define GROVED_GV_TIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* CLOCK_MONOTONIC in milliseconds and in nanoseconds, from an arbitrary
 * origin: only differences mean anything. */
uint64_t gv_now_ms(void);
uint64_t gv_now_ns(void);

/* A CLOCK_MONOTONIC instant (gv_now_ns() + a delay) as a timespec, for
 * pthread_cond_timedwait on a condition variable whose clock is
 * CLOCK_MONOTONIC (pthread_condattr_setclock). */
struct timespec gv_timespec_ns(uint64_t ns);

/* Wall-clock second t as RFC 3339 UTC, "2006-01-02T15:04:05Z", into buf
 * (size bytes; 21 are enough); "@<seconds>" should t not fit a date. */
void gv_time_utc(time_t t, char *buf, size_t size);

/* The second of an RFC 3339 time as Kubernetes writes them
 * ("2006-01-02T15:04:05Z", fractions and other zones accepted) into *out;
 * false (out untouched) when s is not one. */
bool gv_time_parse_utc(const char *s, time_t *out);

#endif
