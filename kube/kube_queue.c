/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kube_queue.c: the controller work queue: a FIFO with dirty and
 * processing sets (as client-go's workqueue), a min-heap of delayed keys
 * and a per-key exponential backoff (see kube_queue.h). One mutex guards
 * everything.
 */
#include <errno.h>
#include <pthread.h>

#include "kube_int.h"

#include "groved/gv_time.h"

struct kube_queue_delayed {
	uint64_t at_ns; /* deadline, CLOCK_MONOTONIC */
	uint64_t seq;
	char *key; /* owned */
	json_t *pos; /* borrowed from q->waiting: this entry's heap index */
};

static bool valid_key(const char *key)
{
	size_t n = key ? strlen(key) : 0;
	size_t i = 0;
	size_t len = 0;

	if (n == 0)
		return false;
	while (i < n) {
		len = gv_utf8_len((const unsigned char *)key + i, n - i);
		if (len == 0)
			return false;
		i += len;
	}
	return true;
}

int kube_queue_init(kube_queue *q, const kube_queue_opts *opts)
{
	pthread_condattr_t attr;
	bool attr_ok = false, mu_ok = false, ready_ok = false;
	int rc = GV_OK;

	memset(q, 0, sizeof(*q));
	q->base_delay_ms = opts && opts->base_delay_ms
			       ? opts->base_delay_ms
			       : KUBE_QUEUE_BASE_DELAY_MS;
	q->max_delay_ms = opts && opts->max_delay_ms ? opts->max_delay_ms
						     : KUBE_QUEUE_MAX_DELAY_MS;
	q->dirty = json_object();
	q->processing = json_object();
	q->waiting = json_object();
	q->failures = json_object();
	if (!q->dirty || !q->processing || !q->waiting || !q->failures) {
		rc = GV_ENOMEM;
		goto out;
	}
	rc = GV_EIO;
	if (pthread_condattr_init(&attr) != 0)
		goto out;
	attr_ok = true;
	if (pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) != 0)
		goto out;
	if (pthread_mutex_init(&q->mu, NULL) != 0)
		goto out;
	mu_ok = true;
	if (pthread_cond_init(&q->ready, &attr) != 0)
		goto out;
	ready_ok = true;
	if (pthread_cond_init(&q->drained, &attr) != 0)
		goto out;
	rc = GV_OK;
out:
	if (attr_ok)
		pthread_condattr_destroy(&attr);
	if (rc != GV_OK) {
		if (ready_ok)
			pthread_cond_destroy(&q->ready);
		if (mu_ok)
			pthread_mutex_destroy(&q->mu);
		json_decref(q->dirty);
		json_decref(q->processing);
		json_decref(q->waiting);
		json_decref(q->failures);
		memset(q, 0, sizeof(*q));
	}
	return rc;
}

void kube_queue_release(kube_queue *q)
{
	size_t i = 0;

	for (i = 0; i < q->n; i++)
		free(q->fifo[(q->head + i) % q->cap]);
	free(q->fifo);
	for (i = 0; i < q->n_heap; i++)
		free(q->heap[i].key);
	free(q->heap);
	json_decref(q->dirty);
	json_decref(q->processing);
	json_decref(q->waiting);
	json_decref(q->failures);
	pthread_cond_destroy(&q->ready);
	pthread_cond_destroy(&q->drained);
	pthread_mutex_destroy(&q->mu);
	memset(q, 0, sizeof(*q));
}

/* ---- the FIFO ---------------------------------------------------------- */

static bool fifo_reserve(kube_queue *q, size_t want)
{
	size_t cap = q->cap ? q->cap : 16;
	char **fifo = NULL;
	size_t i = 0;

	if (want <= q->cap)
		return true;
	while (cap < want)
		cap *= 2;
	fifo = calloc(cap, sizeof(*fifo));
	if (!fifo)
		return false;
	for (i = 0; i < q->n; i++)
		fifo[i] = q->fifo[(q->head + i) % q->cap];
	free(q->fifo);
	q->fifo = fifo;
	q->head = 0;
	q->cap = cap;
	return true;
}

/* Capacity is reserved: never fails. Steals key. */
static void fifo_push(kube_queue *q, char *key)
{
	q->fifo[(q->head + q->n) % q->cap] = key;
	q->n++;
}

static char *fifo_pop(kube_queue *q)
{
	char *key = q->fifo[q->head];

	q->fifo[q->head] = NULL;
	q->head = (q->head + 1) % q->cap;
	q->n--;
	return key;
}

static void fifo_clear(kube_queue *q)
{
	while (q->n)
		free(fifo_pop(q));
}

/* Queues key unless dirty; mutex held, not shutting down. */
static int add_locked(kube_queue *q, const char *key)
{
	char *copy = NULL;

	if (json_object_get(q->dirty, key))
		return GV_OK;
	/* Every queued key is dirty: a FIFO as large as dirty never needs
	 * to grow in kube_queue_done(). */
	if (!fifo_reserve(q, json_object_size(q->dirty) + 1))
		return GV_ENOMEM;
	if (json_object_get(q->processing, key)) {
		if (json_object_set_new(q->dirty, key, json_true()) != 0)
			return GV_ENOMEM;
		return GV_OK;
	}
	copy = strdup(key);
	if (!copy)
		return GV_ENOMEM;
	if (json_object_set_new(q->dirty, key, json_true()) != 0) {
		free(copy);
		return GV_ENOMEM;
	}
	fifo_push(q, copy);
	pthread_cond_signal(&q->ready);
	return GV_OK;
}

int kube_queue_add(kube_queue *q, const char *key)
{
	int rc = GV_OK;

	if (!valid_key(key))
		return GV_EINVAL;
	pthread_mutex_lock(&q->mu);
	if (!q->shutting_down)
		rc = add_locked(q, key);
	pthread_mutex_unlock(&q->mu);
	return rc;
}

/* ---- the heap of delayed keys ------------------------------------------ */

static bool before(const struct kube_queue_delayed *a,
		   const struct kube_queue_delayed *b)
{
	return a->at_ns < b->at_ns || (a->at_ns == b->at_ns && a->seq < b->seq);
}

static void heap_set(kube_queue *q, size_t i, struct kube_queue_delayed d)
{
	q->heap[i] = d;
	json_integer_set(d.pos, (json_int_t)i);
}

static void sift_up(kube_queue *q, size_t i)
{
	struct kube_queue_delayed d = q->heap[i];

	while (i > 0 && before(&d, &q->heap[(i - 1) / 2])) {
		heap_set(q, i, q->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	heap_set(q, i, d);
}

static void sift_down(kube_queue *q, size_t i)
{
	struct kube_queue_delayed d = q->heap[i];
	size_t c = 0;

	for (;;) {
		c = 2 * i + 1;
		if (c >= q->n_heap)
			break;
		if (c + 1 < q->n_heap && before(&q->heap[c + 1], &q->heap[c]))
			c++;
		if (!before(&q->heap[c], &d))
			break;
		heap_set(q, i, q->heap[c]);
		i = c;
	}
	heap_set(q, i, d);
}

/* Removes the earliest entry; its key goes to the caller. */
static char *heap_pop(kube_queue *q)
{
	char *key = q->heap[0].key;

	json_object_del(q->waiting, key); /* frees heap[0].pos */
	q->n_heap--;
	if (q->n_heap > 0) {
		q->heap[0] = q->heap[q->n_heap];
		sift_down(q, 0);
	}
	return key;
}

static void heap_clear(kube_queue *q)
{
	while (q->n_heap)
		free(heap_pop(q));
}

static int add_after_locked(kube_queue *q, const char *key, uint64_t at_ns)
{
	json_t *pos = json_object_get(q->waiting, key);
	struct kube_queue_delayed *heap = NULL;
	struct kube_queue_delayed d = { .at_ns = at_ns };
	size_t i = 0;

	if (pos) {
		i = (size_t)json_integer_value(pos);
		if (at_ns < q->heap[i].at_ns) {
			q->heap[i].at_ns = at_ns;
			q->heap[i].seq = q->seq++;
			sift_up(q, i);
			pthread_cond_broadcast(&q->ready);
		}
		return GV_OK;
	}
	if (q->n_heap == q->cap_heap) {
		size_t cap = q->cap_heap ? 2 * q->cap_heap : 16;

		heap = realloc(q->heap, cap * sizeof(*heap));
		if (!heap)
			return GV_ENOMEM;
		q->heap = heap;
		q->cap_heap = cap;
	}
	d.key = strdup(key);
	d.pos = json_integer((json_int_t)q->n_heap);
	if (!d.key || !d.pos || json_object_set(q->waiting, key, d.pos) != 0) {
		free(d.key);
		json_decref(d.pos);
		return GV_ENOMEM;
	}
	json_decref(d.pos); /* the map holds it */
	d.seq = q->seq++;
	q->heap[q->n_heap++] = d;
	sift_up(q, q->n_heap - 1);
	/* The earliest deadline may have changed: every getter recomputes. */
	pthread_cond_broadcast(&q->ready);
	return GV_OK;
}

int kube_queue_add_after(kube_queue *q, const char *key, uint64_t delay_ms)
{
	int rc = GV_OK;
	uint64_t at = 0;

	if (delay_ms == 0)
		return kube_queue_add(q, key);
	if (!valid_key(key))
		return GV_EINVAL;
	if (delay_ms > UINT64_MAX / 2000000u)
		delay_ms = UINT64_MAX / 2000000u;
	at = gv_now_ns() + delay_ms * 1000000u;
	pthread_mutex_lock(&q->mu);
	if (!q->shutting_down)
		rc = add_after_locked(q, key, at);
	pthread_mutex_unlock(&q->mu);
	return rc;
}

/* Moves due keys to the FIFO; mutex held. */
static int promote_locked(kube_queue *q, uint64_t now)
{
	int rc = GV_OK;

	while (q->n_heap && q->heap[0].at_ns <= now) {
		rc = add_locked(q, q->heap[0].key);
		if (rc != GV_OK)
			return rc; /* stays in the heap for the next try */
		free(heap_pop(q));
	}
	return GV_OK;
}

/* ---- the rate limiter -------------------------------------------------- */

static uint64_t backoff_ms(const kube_queue *q, json_int_t failures)
{
	uint64_t d = q->base_delay_ms;
	json_int_t i = 0;

	for (i = 0; i < failures && d < q->max_delay_ms; i++)
		d = d > UINT64_MAX / 2 ? UINT64_MAX : 2 * d;
	return d < q->max_delay_ms ? d : q->max_delay_ms;
}

int kube_queue_add_rate_limited(kube_queue *q, const char *key,
				uint64_t *delay_ms)
{
	json_t *count = NULL;
	json_int_t n = 0;
	uint64_t d = 0;
	int rc = GV_OK;

	if (!valid_key(key))
		return GV_EINVAL;
	pthread_mutex_lock(&q->mu);
	if (q->shutting_down)
		goto out;
	count = json_object_get(q->failures, key);
	n = json_integer_value(count);
	d = backoff_ms(q, n);
	rc = add_after_locked(q, key, gv_now_ns() + d * 1000000u);
	if (rc != GV_OK)
		goto out;
	if (count) {
		json_integer_set(count, n + 1);
	} else if (json_object_set_new(q->failures, key, json_integer(1)) !=
		   0) {
		/* The key is queued; only its count is lost. */
		rc = GV_ENOMEM;
		goto out;
	}
	if (delay_ms)
		*delay_ms = d;
out:
	pthread_mutex_unlock(&q->mu);
	return rc;
}

void kube_queue_forget(kube_queue *q, const char *key)
{
	if (!key)
		return;
	pthread_mutex_lock(&q->mu);
	json_object_del(q->failures, key);
	pthread_mutex_unlock(&q->mu);
}

unsigned kube_queue_requeues(kube_queue *q, const char *key)
{
	json_int_t n = 0;

	if (!key)
		return 0;
	pthread_mutex_lock(&q->mu);
	n = json_integer_value(json_object_get(q->failures, key));
	pthread_mutex_unlock(&q->mu);
	return (unsigned)n;
}

/* ---- workers ----------------------------------------------------------- */

int kube_queue_get(kube_queue *q, char **key_out, bool *shutdown)
{
	struct timespec ts;
	char *key = NULL;
	int rc = GV_OK;

	pthread_mutex_lock(&q->mu);
	for (;;) {
		if (!q->shutting_down) {
			rc = promote_locked(q, gv_now_ns());
			if (rc != GV_OK && q->n == 0)
				goto out;
			rc = GV_OK;
		}
		if (q->n > 0)
			break;
		if (q->shutting_down &&
		    (!q->drain || json_object_size(q->processing) == 0))
			goto out; /* shut down */
		if (q->n_heap && !q->shutting_down) {
			ts = gv_timespec_ns(q->heap[0].at_ns);
			pthread_cond_timedwait(&q->ready, &q->mu, &ts);
		} else {
			pthread_cond_wait(&q->ready, &q->mu);
		}
	}
	/* Mark it processing before it leaves the FIFO, so a failure
	 * changes nothing. */
	if (json_object_set_new(q->processing, q->fifo[q->head], json_true()) !=
	    0) {
		rc = GV_ENOMEM;
		goto out;
	}
	key = fifo_pop(q);
	json_object_del(q->dirty, key);
	if (q->n > 0)
		pthread_cond_signal(&q->ready);
out:
	pthread_mutex_unlock(&q->mu);
	if (rc == GV_OK) {
		*key_out = key;
		*shutdown = key == NULL;
	}
	return rc;
}

int kube_queue_done(kube_queue *q, const char *key)
{
	char *copy = NULL;
	int rc = GV_OK;

	if (!key)
		return GV_EINVAL;
	pthread_mutex_lock(&q->mu);
	if (!json_object_get(q->processing, key)) {
		rc = GV_ENOTFOUND;
		goto out;
	}
	if (json_object_get(q->dirty, key)) {
		/* Added while processing: queue it again (room reserved). */
		copy = strdup(key);
		if (!copy) {
			rc = GV_ENOMEM;
			goto out;
		}
		fifo_push(q, copy);
		copy = NULL;
		pthread_cond_signal(&q->ready);
	}
	json_object_del(q->processing, key);
	if (q->shutting_down && q->n == 0 &&
	    json_object_size(q->processing) == 0) {
		pthread_cond_broadcast(&q->ready);
		pthread_cond_broadcast(&q->drained);
	}
out:
	pthread_mutex_unlock(&q->mu);
	return rc;
}

void kube_queue_shutdown(kube_queue *q, bool drain)
{
	pthread_mutex_lock(&q->mu);
	q->shutting_down = true;
	q->drain = q->drain || drain;
	heap_clear(q);
	if (!q->drain) {
		fifo_clear(q);
		json_object_clear(q->dirty);
	}
	pthread_cond_broadcast(&q->ready);
	while (q->drain && (q->n > 0 || json_object_size(q->processing) > 0))
		pthread_cond_wait(&q->drained, &q->mu);
	pthread_mutex_unlock(&q->mu);
}

size_t kube_queue_len(kube_queue *q)
{
	size_t n = 0;

	pthread_mutex_lock(&q->mu);
	if (!q->shutting_down)
		promote_locked(q, gv_now_ns());
	n = q->n;
	pthread_mutex_unlock(&q->mu);
	return n;
}
