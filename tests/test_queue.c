/* SPDX-License-Identifier: Apache-2.0 */
/* test_queue.c: the controller work queue (kube/kube_queue.c). */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#include "test_util.h"
#include "groved/kube.h"

static int setup(void **state)
{
	kube_queue *q = calloc(1, sizeof(*q));

	if (!q || kube_queue_init(q, NULL) != GV_OK)
		return -1;
	*state = q;
	return 0;
}

static int teardown(void **state)
{
	kube_queue *q = *state;

	kube_queue_release(q);
	free(q);
	return 0;
}

/* Gets a key, asserts it is want, marks it done. */
static void get_done(kube_queue *q, const char *want)
{
	char *key = NULL;
	bool shutdown = true;

	assert_int_equal(kube_queue_get(q, &key, &shutdown), GV_OK);
	assert_false(shutdown);
	assert_non_null(key);
	assert_string_equal(key, want);
	assert_int_equal(kube_queue_done(q, key), GV_OK);
	free(key);
}

static void test_dedup(void **state)
{
	kube_queue *q = *state;

	assert_int_equal(kube_queue_add(q, "ns/a"), GV_OK);
	assert_int_equal(kube_queue_add(q, "ns/b"), GV_OK);
	assert_int_equal(kube_queue_add(q, "ns/a"), GV_OK);
	assert_int_equal(kube_queue_len(q), 2);
	get_done(q, "ns/a");
	get_done(q, "ns/b");
	assert_int_equal(kube_queue_len(q), 0);
	assert_int_equal(kube_queue_done(q, "ns/a"), GV_ENOTFOUND);
}

static void test_invalid(void **state)
{
	kube_queue *q = *state;
	static const char *const bad[] = { "", "\xff", "a\xc3" };
	size_t i = 0;

	assert_int_equal(kube_queue_add(q, NULL), GV_EINVAL);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(kube_queue_add(q, bad[i]), GV_EINVAL);
		assert_int_equal(kube_queue_add_after(q, bad[i], 10),
				 GV_EINVAL);
		assert_int_equal(kube_queue_add_rate_limited(q, bad[i], NULL),
				 GV_EINVAL);
	}
	assert_int_equal(kube_queue_len(q), 0);
}

static void test_readd_while_processing(void **state)
{
	kube_queue *q = *state;
	char *key = NULL;
	bool shutdown = true;

	assert_int_equal(kube_queue_add(q, "k"), GV_OK);
	assert_int_equal(kube_queue_get(q, &key, &shutdown), GV_OK);
	assert_string_equal(key, "k");
	/* Added while processing: not handed out, even twice. */
	assert_int_equal(kube_queue_add(q, "k"), GV_OK);
	assert_int_equal(kube_queue_add(q, "k"), GV_OK);
	assert_int_equal(kube_queue_len(q), 0);
	assert_int_equal(kube_queue_done(q, key), GV_OK);
	free(key);
	assert_int_equal(kube_queue_len(q), 1);
	get_done(q, "k");
	assert_int_equal(kube_queue_len(q), 0);
}

/* ---- 8 workers, 50 keys ------------------------------------------------ */

#define N_WORKERS 8
#define N_KEYS 50
#define N_ADDS 10000

struct pool {
	kube_queue *q;
	atomic_int in_flight[N_KEYS];
	atomic_int processed[N_KEYS];
	atomic_int overlap;
	atomic_int total;
};

static void *worker(void *arg)
{
	struct pool *p = arg;

	for (;;) {
		char *key = NULL;
		bool shutdown = false;
		int k = 0;

		if (kube_queue_get(p->q, &key, &shutdown) != GV_OK)
			continue;
		if (shutdown)
			break;
		k = (int)strtol(key + 1, NULL, 10);
		if (atomic_fetch_add(&p->in_flight[k], 1) != 0)
			atomic_fetch_add(&p->overlap, 1);
		sched_yield();
		atomic_fetch_sub(&p->in_flight[k], 1);
		atomic_fetch_add(&p->processed[k], 1);
		atomic_fetch_add(&p->total, 1);
		kube_queue_done(p->q, key);
		free(key);
	}
	return NULL;
}

static void test_one_worker_per_key(void **state)
{
	kube_queue *q = *state;
	struct pool p = { .q = q };
	pthread_t th[N_WORKERS];
	char key[16];
	int i = 0;

	atomic_init(&p.overlap, 0);
	atomic_init(&p.total, 0);
	for (i = 0; i < N_KEYS; i++) {
		atomic_init(&p.in_flight[i], 0);
		atomic_init(&p.processed[i], 0);
	}
	for (i = 0; i < N_WORKERS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, worker, &p), 0);
	for (i = 0; i < N_ADDS; i++) {
		snprintf(key, sizeof(key), "k%d", (i * 7919) % N_KEYS);
		assert_int_equal(kube_queue_add(q, key), GV_OK);
	}
	kube_queue_shutdown(q, true);
	for (i = 0; i < N_WORKERS; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(atomic_load(&p.overlap), 0);
	/* Every key was processed after its last add, and dedup worked. */
	for (i = 0; i < N_KEYS; i++)
		assert_true(atomic_load(&p.processed[i]) >= 1);
	assert_true(atomic_load(&p.total) <= N_ADDS);
	assert_int_equal(kube_queue_len(q), 0);
}

/* ---- delays ------------------------------------------------------------ */

static void test_add_after_order(void **state)
{
	kube_queue *q = *state;
	uint64_t start = gv_now_ms();

	assert_int_equal(kube_queue_add_after(q, "late", 150), GV_OK);
	assert_int_equal(kube_queue_add_after(q, "early", 50), GV_OK);
	assert_int_equal(kube_queue_len(q), 0); /* not due yet */
	get_done(q, "early");
	assert_true(gv_now_ms() - start >= 50);
	get_done(q, "late");
	assert_true(gv_now_ms() - start >= 150);
	assert_true(gv_now_ms() - start < 10000);

	/* A second delayed add of a waiting key keeps the earlier deadline;
	 * delay 0 is a plain add. */
	start = gv_now_ms();
	assert_int_equal(kube_queue_add_after(q, "k", 60000), GV_OK);
	assert_int_equal(kube_queue_add_after(q, "k", 30), GV_OK);
	assert_int_equal(kube_queue_add_after(q, "k", 90000), GV_OK);
	assert_int_equal(kube_queue_add_after(q, "now", 0), GV_OK);
	get_done(q, "now");
	get_done(q, "k");
	assert_true(gv_now_ms() - start >= 30);
	assert_true(gv_now_ms() - start < 10000);
	assert_int_equal(q->n_heap, 0);
}

static void test_add_after_many(void **state)
{
	kube_queue *q = *state;
	static const struct {
		const char *key;
		uint64_t delay;
	} adds[] = {
		{ "d", 80 }, { "a", 20 }, { "e", 100 },
		{ "c", 60 }, { "b", 40 },
	};
	static const char *const order[] = { "a", "b", "c", "d", "e" };
	size_t i = 0;

	for (i = 0; i < sizeof(adds) / sizeof(adds[0]); i++)
		assert_int_equal(
		    kube_queue_add_after(q, adds[i].key, adds[i].delay), GV_OK);
	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		get_done(q, order[i]);
}

static void test_rate_limited(void **state)
{
	static const struct {
		kube_queue_opts opts;
		uint64_t want[8];
	} cases[] = {
		{ { 0, 0 }, { 5, 10, 20, 40, 80, 160, 320, 640 } },
		{ { 1, 16 }, { 1, 2, 4, 8, 16, 16, 16, 16 } },
		{ { 3, 10 }, { 3, 6, 10, 10, 10, 10, 10, 10 } },
	};
	size_t c = 0;
	size_t i = 0;

	(void)state;
	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		kube_queue q;
		uint64_t d = 0;

		assert_int_equal(kube_queue_init(&q, &cases[c].opts), GV_OK);
		for (i = 0; i < 8; i++) {
			assert_int_equal(kube_queue_requeues(&q, "k"), i);
			assert_int_equal(
			    kube_queue_add_rate_limited(&q, "k", &d), GV_OK);
			assert_int_equal(d, cases[c].want[i]);
		}
		assert_int_equal(kube_queue_requeues(&q, "k"), 8);
		assert_int_equal(kube_queue_requeues(&q, "other"), 0);
		kube_queue_forget(&q, "k");
		assert_int_equal(kube_queue_requeues(&q, "k"), 0);
		assert_int_equal(kube_queue_add_rate_limited(&q, "k", &d),
				 GV_OK);
		assert_int_equal(d, cases[c].want[0]);
		/* One waiting entry per key, and it does arrive. */
		assert_int_equal(q.n_heap, 1);
		if (c == 1)
			get_done(&q, "k");
		kube_queue_release(&q);
	}
}

static void test_rate_limited_cap(void **state)
{
	kube_queue q;
	uint64_t d = 0;
	int i = 0;

	(void)state;
	assert_int_equal(kube_queue_init(&q, NULL), GV_OK);
	for (i = 0; i < 100; i++)
		assert_int_equal(kube_queue_add_rate_limited(&q, "k", &d),
				 GV_OK);
	assert_int_equal(d, KUBE_QUEUE_MAX_DELAY_MS);
	assert_int_equal(kube_queue_requeues(&q, "k"), 100);
	kube_queue_release(&q);
}

/* ---- shutdown ---------------------------------------------------------- */

static void test_shutdown_drain(void **state)
{
	kube_queue *q = *state;
	struct pool p = { .q = q };
	pthread_t th[4];
	char key[16];
	int i = 0;

	atomic_init(&p.overlap, 0);
	atomic_init(&p.total, 0);
	for (i = 0; i < N_KEYS; i++) {
		atomic_init(&p.in_flight[i], 0);
		atomic_init(&p.processed[i], 0);
	}
	for (i = 0; i < N_KEYS; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		assert_int_equal(kube_queue_add(q, key), GV_OK);
	}
	assert_int_equal(kube_queue_add_after(q, "k0", 60000), GV_OK);
	for (i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&th[i], NULL, worker, &p), 0);
	kube_queue_shutdown(q, true);
	/* Everything queued was processed by the time it returns. */
	assert_int_equal(atomic_load(&p.total), N_KEYS);
	for (i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(atomic_load(&p.overlap), 0);
	for (i = 0; i < N_KEYS; i++)
		assert_int_equal(atomic_load(&p.processed[i]), 1);
	/* Adds after shutdown are ignored; the delayed key was dropped. */
	assert_int_equal(kube_queue_add(q, "late"), GV_OK);
	assert_int_equal(kube_queue_len(q), 0);
	assert_int_equal(q->n_heap, 0);
}

struct shut {
	kube_queue *q;
	atomic_bool returned;
};

static void *drain_thread(void *arg)
{
	struct shut *s = arg;

	kube_queue_shutdown(s->q, true);
	atomic_store(&s->returned, true);
	return NULL;
}

/* A key added while in flight during a drain is processed again. */
static void test_drain_in_flight(void **state)
{
	kube_queue *q = *state;
	struct shut s = { .q = q };
	pthread_t th;
	char *key = NULL;
	bool shutdown = false;

	atomic_init(&s.returned, false);
	assert_int_equal(kube_queue_add(q, "k"), GV_OK);
	assert_int_equal(kube_queue_get(q, &key, &shutdown), GV_OK);
	assert_int_equal(kube_queue_add(q, "k"), GV_OK);
	assert_int_equal(pthread_create(&th, NULL, drain_thread, &s), 0);
	for (;;) {
		bool down = false;

		pthread_mutex_lock(&q->mu);
		down = q->shutting_down;
		pthread_mutex_unlock(&q->mu);
		if (down)
			break;
		sched_yield();
	}
	assert_false(atomic_load(&s.returned));
	assert_int_equal(kube_queue_done(q, key), GV_OK);
	free(key);
	get_done(q, "k");
	pthread_join(th, NULL);
	assert_true(atomic_load(&s.returned));
	key = (char *)1;
	assert_int_equal(kube_queue_get(q, &key, &shutdown), GV_OK);
	assert_true(shutdown);
	assert_null(key);
}

static void *blocked_getter(void *arg)
{
	kube_queue *q = arg;
	char *key = NULL;
	bool shutdown = false;

	if (kube_queue_get(q, &key, &shutdown) != GV_OK || !shutdown || key)
		return (void *)1;
	return NULL;
}

static void test_shutdown_no_drain(void **state)
{
	kube_queue *q = *state;
	pthread_t th[3];
	void *res = NULL;
	char *key = NULL;
	bool shutdown = false;
	struct timespec pause = { .tv_sec = 0, .tv_nsec = 20000000 };
	int i = 0;

	for (i = 0; i < 3; i++)
		assert_int_equal(
		    pthread_create(&th[i], NULL, blocked_getter, q), 0);
	/* Let them block (some on a delayed key's deadline), then stop. */
	nanosleep(&pause, NULL);
	assert_int_equal(kube_queue_add_after(q, "later", 60000), GV_OK);
	kube_queue_shutdown(q, false);
	for (i = 0; i < 3; i++) {
		pthread_join(th[i], &res);
		assert_null(res);
	}

	/* Queued keys are dropped: a getter sees shutdown at once. */
	assert_int_equal(kube_queue_get(q, &key, &shutdown), GV_OK);
	assert_true(shutdown);
	assert_null(key);
}

static void test_shutdown_drops_queued(void **state)
{
	kube_queue *q = *state;
	char *key = NULL;
	char *held = NULL;
	bool shutdown = false;
	char k[16];
	int i = 0;

	assert_int_equal(kube_queue_add(q, "held"), GV_OK);
	assert_int_equal(kube_queue_get(q, &held, &shutdown), GV_OK);
	assert_int_equal(kube_queue_add(q, "held"), GV_OK);
	for (i = 0; i < 10; i++) {
		snprintf(k, sizeof(k), "k%d", i);
		assert_int_equal(kube_queue_add(q, k), GV_OK);
	}
	kube_queue_shutdown(q, false); /* does not wait for "held" */
	assert_int_equal(kube_queue_len(q), 0);
	assert_int_equal(kube_queue_get(q, &key, &shutdown), GV_OK);
	assert_true(shutdown);
	/* done still works and does not queue it again. */
	assert_int_equal(kube_queue_done(q, held), GV_OK);
	free(held);
	assert_int_equal(kube_queue_len(q), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_dedup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readd_while_processing,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_worker_per_key, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_add_after_order, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_add_after_many, setup,
						teardown),
		cmocka_unit_test(test_rate_limited),
		cmocka_unit_test(test_rate_limited_cap),
		cmocka_unit_test_setup_teardown(test_shutdown_drain, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_drain_in_flight, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_shutdown_no_drain, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_shutdown_drops_queued,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
