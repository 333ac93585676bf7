/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_thread.c: the one way to stop a thread (base/gv_thread.c).
 *
 * A wait ends at once on a stop, however long its timeout, whether the
 * stop comes before the wait or during it (no lost wake-up), and wakes
 * every waiter; it times out otherwise; a kick ends one wait early
 * without stopping. Waits are told apart by how long they took against
 * a timeout far longer than any machine needs to wake a thread, never by
 * sleeping first.
 */
#include "test_util.h"

#include <pthread.h>

#include "groved/gv_thread.h"
#include "groved/gv_time.h"

/* A wait that a stop or a kick must end: a minute. */
#define LONG_MS 60000
/* Far above a wake-up on a loaded machine, far below LONG_MS. */
#define PROMPT_MS 20000

typedef struct waiter {
	gv_stopper *s;
	pthread_t thread;
	atomic_bool waiting; /* about to wait */
	bool stopped; /* what the wait returned */
	uint64_t took_ms;
} waiter;

static void *waiter_main(void *arg)
{
	waiter *w = arg;
	uint64_t t0 = gv_now_ms();

	atomic_store(&w->waiting, true);
	w->stopped = gv_stopper_wait(w->s, LONG_MS);
	w->took_ms = gv_now_ms() - t0;
	return NULL;
}

static void waiter_start(waiter *w, gv_stopper *s)
{
	memset(w, 0, sizeof(*w));
	w->s = s;
	atomic_init(&w->waiting, false);
	assert_int_equal(pthread_create(&w->thread, NULL, waiter_main, w), 0);
}

static bool is_waiting(void *arg)
{
	return atomic_load(&((waiter *)arg)->waiting);
}

static void test_wait_times_out(void **state)
{
	gv_stopper s;
	uint64_t t0 = 0;

	(void)state;
	gv_stopper_init(&s);
	t0 = gv_now_ms();
	assert_false(gv_stopper_wait(&s, 50));
	assert_true(gv_now_ms() - t0 >= 50);
	assert_false(gv_stopper_stopped(&s));
	assert_false(atomic_load(gv_stopper_flag(&s)));
	gv_stopper_release(&s);
}

static void test_stop_before_the_wait(void **state)
{
	gv_stopper s;
	uint64_t t0 = 0;

	(void)state;
	gv_stopper_init(&s);
	gv_stopper_stop(&s);
	assert_true(gv_stopper_stopped(&s));
	assert_true(atomic_load(gv_stopper_flag(&s)));
	t0 = gv_now_ms();
	assert_true(gv_stopper_wait(&s, LONG_MS));
	assert_true(gv_stopper_wait(&s, LONG_MS)); /* for good */
	assert_true(gv_now_ms() - t0 < PROMPT_MS);
	gv_stopper_stop(&s); /* again: harmless */
	gv_stopper_release(&s);
}

static void test_stop_wakes_a_waiter(void **state)
{
	gv_stopper s;
	waiter w;

	(void)state;
	gv_stopper_init(&s);
	waiter_start(&w, &s);
	tu_wait_until(is_waiting, &w, PROMPT_MS);
	gv_stopper_stop(&s);
	assert_int_equal(pthread_join(w.thread, NULL), 0);
	assert_true(w.stopped);
	assert_true(w.took_ms < PROMPT_MS);
	gv_stopper_release(&s);
}

static void test_stop_wakes_every_waiter(void **state)
{
	gv_stopper s;
	waiter w[4];
	size_t i = 0;

	(void)state;
	gv_stopper_init(&s);
	for (i = 0; i < 4; i++)
		waiter_start(&w[i], &s);
	for (i = 0; i < 4; i++)
		tu_wait_until(is_waiting, &w[i], PROMPT_MS);
	gv_stopper_stop(&s);
	for (i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(w[i].thread, NULL), 0);
		assert_true(w[i].stopped);
		assert_true(w[i].took_ms < PROMPT_MS);
	}
	gv_stopper_release(&s);
}

/* The stop races the wait's start, many times: before, during or after
 * the waiter takes the lock, it must never sleep out its minute. */
static void test_no_lost_wake_up(void **state)
{
	int i = 0;

	(void)state;
	for (i = 0; i < 500; i++) {
		gv_stopper s;
		waiter w;

		gv_stopper_init(&s);
		waiter_start(&w, &s);
		gv_stopper_stop(&s);
		assert_int_equal(pthread_join(w.thread, NULL), 0);
		assert_true(w.stopped);
		assert_true(w.took_ms < PROMPT_MS);
		gv_stopper_release(&s);
	}
}

static void test_kick_ends_one_wait(void **state)
{
	gv_stopper s;
	waiter w;
	uint64_t t0 = 0;

	(void)state;
	gv_stopper_init(&s);
	/* a kick before the wait ends the next wait, once */
	gv_stopper_kick(&s);
	t0 = gv_now_ms();
	assert_false(gv_stopper_wait(&s, LONG_MS));
	assert_true(gv_now_ms() - t0 < PROMPT_MS);
	t0 = gv_now_ms();
	assert_false(gv_stopper_wait(&s, 50));
	assert_true(gv_now_ms() - t0 >= 50);
	/* a kick during a wait ends it, without stopping */
	waiter_start(&w, &s);
	tu_wait_until(is_waiting, &w, PROMPT_MS);
	gv_stopper_kick(&s);
	assert_int_equal(pthread_join(w.thread, NULL), 0);
	assert_false(w.stopped);
	assert_true(w.took_ms < PROMPT_MS);
	assert_false(gv_stopper_stopped(&s));
	/* a stop after a kick still says stopped */
	gv_stopper_kick(&s);
	gv_stopper_stop(&s);
	assert_true(gv_stopper_wait(&s, LONG_MS));
	gv_stopper_release(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wait_times_out),
		cmocka_unit_test(test_stop_before_the_wait),
		cmocka_unit_test(test_stop_wakes_a_waiter),
		cmocka_unit_test(test_stop_wakes_every_waiter),
		cmocka_unit_test(test_no_lost_wake_up),
		cmocka_unit_test(test_kick_ends_one_wait),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
