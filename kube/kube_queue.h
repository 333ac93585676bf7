/*
 * kube_queue.h: the controller work queue (client-go's workqueue), private
 * to the kube module.
 *
 * Rules:
 *  - Items are keys (strings, valid UTF-8, e.g. "namespace/name"); the
 *    queue copies what it is given.
 *  - A key queued twice before a worker takes it is handed out once (the
 *    "dirty" set).
 *  - A key a worker holds (between kube_queue_get() and kube_queue_done())
 *    is never handed to a second worker; added again meanwhile, it is
 *    queued again by kube_queue_done() (the "processing" set).
 *  - Delayed adds wait in a min-heap ordered by deadline (CLOCK_MONOTONIC),
 *    one entry per key (the earliest deadline wins); getters wait for the
 *    earliest with pthread_cond_timedwait. No timer thread.
 *  - The rate limiter keeps a failure count per key: the n-th rate-limited
 *    add waits base * 2^n ms, at most max; kube_queue_forget() resets it.
 *  - After kube_queue_shutdown() adds are ignored and delayed keys are
 *    dropped.
 */
#ifndef GROVED_KUBE_QUEUE_H
#define GROVED_KUBE_QUEUE_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "groved/gv.h"

#define KUBE_QUEUE_BASE_DELAY_MS 5
#define KUBE_QUEUE_MAX_DELAY_MS (1000 * 1000)

/* The rate limiter's settings; 0 picks the default. */
typedef struct kube_queue_opts {
	uint64_t base_delay_ms;
	uint64_t max_delay_ms;
} kube_queue_opts;

struct kube_queue_delayed; /* a heap entry */

typedef struct kube_queue {
	pthread_mutex_t mu;
	pthread_cond_t ready; /* getters wait here (CLOCK_MONOTONIC) */
	pthread_cond_t drained; /* kube_queue_shutdown(drain) waits here */
	char **fifo; /* ring of owned keys, capacity >= size of dirty */
	size_t head, n, cap;
	json_t *dirty; /* key -> true: queued, or to queue again at done */
	json_t *processing; /* key -> true: held by a worker */
	struct kube_queue_delayed *heap;
	size_t n_heap, cap_heap;
	json_t *waiting; /* key -> integer: its position in heap */
	uint64_t seq; /* order of delayed adds, for equal deadlines */
	json_t *failures; /* key -> integer: rate-limited adds since forget */
	uint64_t base_delay_ms, max_delay_ms;
	bool shutting_down;
	bool drain;
} kube_queue;

/* Fills q, empty. opts (borrowed) may be NULL for the defaults (5 ms,
 * 1000 s). Returns GV_OK, GV_ENOMEM or GV_EIO; on failure q holds nothing
 * to release. */
int kube_queue_init(kube_queue *q, const kube_queue_opts *opts);

/* Frees what q holds, queued keys included. No thread may use q. */
void kube_queue_release(kube_queue *q);

/* Queues key (borrowed, copied) unless it is queued already. Returns GV_OK
 * (also when ignored after shutdown), GV_EINVAL (NULL, empty or not UTF-8)
 * or GV_ENOMEM. */
int kube_queue_add(kube_queue *q, const char *key);

/* Queues key after delay_ms (at once when 0); when key is waiting already
 * the earlier deadline stays. Returns as kube_queue_add(). */
int kube_queue_add_after(kube_queue *q, const char *key, uint64_t delay_ms);

/* Queues key after its backoff (base * 2^failures, at most max) and counts
 * one more failure. The delay used goes to *delay_ms (may be NULL) on
 * success. Returns as kube_queue_add(). */
int kube_queue_add_rate_limited(kube_queue *q, const char *key,
				uint64_t *delay_ms);

/* Resets key's failure count (borrowed key). */
void kube_queue_forget(kube_queue *q, const char *key);

/* Key's failure count: rate-limited adds since the last forget. */
unsigned kube_queue_requeues(kube_queue *q, const char *key);

/*
 * Blocks until a key is ready or the queue is shut down. On GV_OK either
 * *key_out is the key (a new string the caller frees, after
 * kube_queue_done()) and *shutdown false, or *key_out is NULL and
 * *shutdown true: the worker should stop. Returns GV_OK or GV_ENOMEM.
 */
int kube_queue_get(kube_queue *q, char **key_out, bool *shutdown);

/* Ends the processing of key (borrowed), queueing it again when it was
 * added meanwhile. Returns GV_OK, GV_ENOTFOUND (not being processed) or
 * GV_ENOMEM (nothing changed: call again). */
int kube_queue_done(kube_queue *q, const char *key);

/*
 * Stops the queue. drain false: queued keys are dropped and getters see
 * shutdown at once. drain true: getters receive what is queued (and what
 * kube_queue_done() queues again) and see shutdown once nothing is queued
 * or processing; the call blocks until then, so it must not be made by a
 * worker holding a key.
 */
void kube_queue_shutdown(kube_queue *q, bool drain);

/* The number of keys ready to be handed out (delayed ones not counted
 * until due). */
size_t kube_queue_len(kube_queue *q);

#endif
