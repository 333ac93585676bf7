/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gv_thread.h: the one way to stop a thread (base/gv_thread.c).
 *
 * A thread that works in rounds waits between them on its gv_stopper;
 * another thread stops it with gv_stopper_stop() and joins it. The wait
 * returns at once when the stopper is stopped, however long its timeout,
 * and a stop that comes before the wait is never lost: the flag is read
 * under the lock the condition variable is signalled under. No thread
 * sleeps in slices and polls a flag.
 *
 *	gv_stopper_init(&t->stop);
 *	... in the thread:
 *	while (!gv_stopper_stopped(&t->stop)) {
 *		round(t);
 *		gv_stopper_wait(&t->stop, PERIOD_MS);
 *	}
 *	... to stop it:
 *	gv_stopper_stop(&t->stop);
 *	pthread_join(t->thread, NULL);
 *	gv_stopper_release(&t->stop);
 *
 * A kick (gv_stopper_kick) ends the current or the next wait early once,
 * without stopping: "do a round now". The flag is also readable without
 * the lock (gv_stopper_flag) by code that can only poll, such as a
 * libcurl progress callback.
 */
#ifndef GROVED_GV_THREAD_H
#define GROVED_GV_THREAD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct gv_stopper {
	pthread_mutex_t lock;
	pthread_cond_t wake; /* on CLOCK_MONOTONIC */
	bool kicked; /* under lock */
	atomic_bool stopped; /* written under lock, read anywhere */
} gv_stopper;

/* Fills s: not stopped, not kicked. gv_stopper_release() frees it. */
void gv_stopper_init(gv_stopper *s);
/* Once no thread waits on s any more (after the join). */
void gv_stopper_release(gv_stopper *s);

/* Stops s for good and wakes every waiter. Any thread, any number of
 * times. */
void gv_stopper_stop(gv_stopper *s);
/* Ends the current wait, or else the next one, early; once. Any thread. */
void gv_stopper_kick(gv_stopper *s);

/* Whether s was stopped. Never blocks. */
bool gv_stopper_stopped(gv_stopper *s);
/* The flag itself, for code that can only poll it (borrowed). */
const atomic_bool *gv_stopper_flag(gv_stopper *s);

/*
 * Waits up to timeout_ms for a stop or a kick. Returns true when s is
 * stopped (at once if it already was), false after the timeout or a kick
 * (which it consumes).
 */
bool gv_stopper_wait(gv_stopper *s, uint64_t timeout_ms);

#endif
