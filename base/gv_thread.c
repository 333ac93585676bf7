/* SPDX-License-Identifier: Apache-2.0 */
/* gv_thread.c: the one way to stop a thread (groved/gv_thread.h). */
#include <errno.h>

#include "groved/gv_thread.h"
#include "groved/gv_time.h"

void gv_stopper_init(gv_stopper *s)
{
	pthread_condattr_t ca;

	/* with default attributes neither can fail on Linux */
	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* gv_timespec_ns */
	pthread_cond_init(&s->wake, &ca);
	pthread_condattr_destroy(&ca);
	s->kicked = false;
	atomic_init(&s->stopped, false);
}

void gv_stopper_release(gv_stopper *s)
{
	pthread_cond_destroy(&s->wake);
	pthread_mutex_destroy(&s->lock);
}

void gv_stopper_stop(gv_stopper *s)
{
	pthread_mutex_lock(&s->lock);
	atomic_store(&s->stopped, true);
	pthread_cond_broadcast(&s->wake);
	pthread_mutex_unlock(&s->lock);
}

void gv_stopper_kick(gv_stopper *s)
{
	pthread_mutex_lock(&s->lock);
	s->kicked = true;
	pthread_cond_broadcast(&s->wake);
	pthread_mutex_unlock(&s->lock);
}

bool gv_stopper_stopped(gv_stopper *s)
{
	return atomic_load(&s->stopped);
}

const atomic_bool *gv_stopper_flag(gv_stopper *s)
{
	return &s->stopped;
}

bool gv_stopper_wait(gv_stopper *s, uint64_t timeout_ms)
{
	struct timespec until =
	    gv_timespec_ns(gv_now_ns() + timeout_ms * (uint64_t)1000000u);
	bool stopped = false;
	int rc = 0;

	pthread_mutex_lock(&s->lock);
	/* the flags are read under the lock they are set under: a stop or
	 * a kick before this point is seen here, one after it signals */
	while (!atomic_load(&s->stopped) && !s->kicked && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&s->wake, &s->lock, &until);
	stopped = atomic_load(&s->stopped);
	if (!stopped)
		s->kicked = false;
	pthread_mutex_unlock(&s->lock);
	return stopped;
}
