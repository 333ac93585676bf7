/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rec_worker.c: the reconcile worker's machinery (docs/reconcile.md): one
 * informer per kind it reads (REC_KINDS), every change mapped to the key
 * of the set it belongs to ("namespace/name": the set itself, or the
 * app.kubernetes.io/part-of label of what it owns), a work queue that
 * hands each key to one thread at a time, and the threads that sync
 * (rec_sync.c) while this replica leads. A failed sync is queued again
 * with back-off; every set is queued again every resync_ms, so a missed
 * event costs minutes at worst, not forever.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "groved/gv_time.h"
#include "rec_worker_int.h"

const rec_kind_info rec_kinds[REC_K_COUNT] = {
#define REC_KIND_INFO(id, k, g, v, r, nsd, sel, wat)   \
	[REC_K_##id] = { .kind = k,                    \
			 .gvr = { .group = g,          \
				  .version = v,        \
				  .resource = r,       \
				  .namespaced = nsd }, \
			 .selector = sel,              \
			 .watched = wat },
	REC_KINDS(REC_KIND_INFO)
#undef REC_KIND_INFO
};

rec_kind rec_kind_of(const char *kind)
{
	size_t i = 0;

	for (i = 0; kind && i < REC_K_COUNT; i++) {
		if (strcmp(rec_kinds[i].kind, kind) == 0)
			return (rec_kind)i;
	}
	return REC_K_COUNT;
}

void rec_log(rec_worker *w, rec_log_level level, const char *set,
	     const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!w->o.log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	w->o.log(w->o.log_ctx, level, set, msg);
}

/* ---- events to keys --------------------------------------------------- */

/* Queues the set obj belongs to: itself, or its part-of label's. */
static void queue_owner(rec_worker *w, const json_t *obj, bool is_set)
{
	const json_t *meta = json_object_get(obj, "metadata");
	const char *ns = json_string_value(json_object_get(meta, "namespace"));
	const char *name =
	    is_set ? json_string_value(json_object_get(meta, "name"))
		   : json_string_value(json_object_get(
			 json_object_get(meta, "labels"), REC_PART_OF));
	char key[KUBE_STORE_KEY_MAX];

	if (!ns || !name)
		return;
	if ((size_t)snprintf(key, sizeof(key), "%s/%s", ns, name) >=
	    sizeof(key))
		return;
	pthread_mutex_lock(&w->seen_lock);
	if (!json_object_get(w->seen, key))
		(void)json_object_set_new(
		    w->seen, key, json_integer((json_int_t)gv_now_ns()));
	pthread_mutex_unlock(&w->seen_lock);
	(void)kube_queue_add(&w->queue, key);
}

/* When the oldest event that queued key was seen (and forgotten now: the
 * round that takes key handles it); now when none was. */
static uint64_t seen_at(rec_worker *w, const char *key)
{
	uint64_t t = gv_now_ns();
	const json_t *v = NULL;

	pthread_mutex_lock(&w->seen_lock);
	v = json_object_get(w->seen, key);
	if (json_is_integer(v))
		t = (uint64_t)json_integer_value(v);
	(void)json_object_del(w->seen, key);
	pthread_mutex_unlock(&w->seen_lock);
	return t;
}

const double rec_gate_buckets[REC_GATE_BUCKETS] = {
	0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10,
};

void rec_count_gate(rec_worker *w, uint64_t latency_ns)
{
	double s = (double)latency_ns / 1e9;
	size_t i = 0;

	while (i < REC_GATE_BUCKETS && s > rec_gate_buckets[i])
		i++;
	atomic_fetch_add(&w->gate_buckets[i], 1);
	atomic_fetch_add(&w->gate_sum_ns, latency_ns);
}

static void on_event(void *arg, const char *key, json_t *old_obj,
		     json_t *new_obj)
{
	rec_kind_arg *ka = arg;
	rec_worker *w = ka->w;

	(void)key;
	if (ka->kind == REC_K_NODE) {
		/* a node lost (or back) changes which terminating pods can
		 * finish: every set is looked at again */
		if (!old_obj || !new_obj ||
		    rec_node_lost(old_obj) != rec_node_lost(new_obj))
			rec_worker_resync(w);
		return;
	}
	/* a binding (the Topologies too) or a claim template: every set */
	if (ka->kind == REC_K_CTB || ka->kind == REC_K_COUNT) {
		rec_worker_resync(w);
		return;
	}
	if (old_obj)
		queue_owner(w, old_obj, ka->kind == REC_K_PCS);
	if (new_obj)
		queue_owner(w, new_obj, ka->kind == REC_K_PCS);
}

/* ---- a smaller cache --------------------------------------------------- */

/*
 * What the worker never reads leaves its cache: every object's
 * managedFields (a real API server's bookkeeping, often the largest part
 * of an object), and of a pod what says how it runs rather than where it
 * is: its containers, init containers and volumes (the plan, the gates
 * and the statuses read a pod's labels, phase, conditions, container
 * statuses, node and gates). A pod's spec is immutable and the worker
 * never patches it, so nothing is lost. (3,001 pods of the reference
 * workload on kube-sim: the worker's RSS 238 -> 210 MiB; real pods, with
 * managedFields and longer container specs, lose more.)
 */
static void trim(void *arg, json_t *obj)
{
	rec_kind_arg *ka = arg;
	json_t *spec = NULL;

	(void)json_object_del(json_object_get(obj, "metadata"),
			      "managedFields");
	if (ka->kind != REC_K_POD)
		return;
	spec = json_object_get(obj, "spec");
	(void)json_object_del(spec, "containers");
	(void)json_object_del(spec, "initContainers");
	(void)json_object_del(spec, "volumes");
}

void rec_trim(struct rec_worker *w, rec_kind k, json_t *obj)
{
	if (k < REC_K_COUNT)
		trim(&w->args[k], obj);
}

/* ---- the threads ------------------------------------------------------ */

static bool leading(rec_worker *w)
{
	return !w->o.leading || w->o.leading(w->o.leading_ctx);
}

/* Takes keys until the queue shuts down; syncs them while leading. */
static void *run(void *arg)
{
	rec_worker *w = arg;

	for (;;) {
		char *key = NULL;
		bool shutdown = false;
		char *slash = NULL;
		uint64_t requeue_ms = 0;
		uint64_t t0 = 0;
		uint64_t seen = 0;
		gv_error_t err = GV_ERROR_INIT;
		int rc = GV_OK;

		if (kube_queue_get(&w->queue, &key, &shutdown) != GV_OK) {
			gv_stopper_wait(&w->stop, 100);
			continue;
		}
		if (shutdown)
			break;
		slash = strchr(key, '/');
		if (leading(w) && strcmp(key, REC_KEY_TOPOLOGIES) == 0) {
			if (rec_sync_topologies(w, &err) != GV_OK) {
				(void)kube_queue_add_rate_limited(&w->queue,
								  key, NULL);
				rec_log(w, REC_LOG_WARN, NULL,
					"cannot write KAI Topologies: %s",
					err.text);
			} else {
				kube_queue_forget(&w->queue, key);
			}
			(void)kube_queue_done(&w->queue, key);
			free(key);
			continue;
		}
		if (!leading(w) || !slash) {
			/* not ours to write: a new leader queues all again */
			kube_queue_forget(&w->queue, key);
			(void)kube_queue_done(&w->queue, key);
			free(key);
			continue;
		}
		seen = seen_at(w, key);
		*slash = '\0';
		t0 = gv_now_ns();
		rc = rec_sync(w, key, slash + 1, seen, &requeue_ms, &err);
		atomic_fetch_add(&w->reconcile_ns, gv_now_ns() - t0);
		atomic_fetch_add(&w->reconciles, 1);
		*slash = '/';
		if (rc != GV_OK) {
			uint64_t delay = 0;

			atomic_fetch_add(&w->reconcile_errors, 1);
			(void)kube_queue_add_rate_limited(&w->queue, key,
							  &delay);
			rec_log(w, REC_LOG_WARN, key,
				"cannot reconcile: %s (again in %" PRIu64
				" ms)",
				err.text, delay);
		} else {
			kube_queue_forget(&w->queue, key);
			if (requeue_ms)
				(void)kube_queue_add_after(&w->queue, key,
							   requeue_ms);
		}
		(void)kube_queue_done(&w->queue, key);
		free(key);
	}
	return NULL;
}

void rec_worker_resync(rec_worker *w)
{
	json_t *sets = NULL;
	const json_t *set = NULL;
	size_t i = 0;

	if (!w)
		return;
	(void)kube_queue_add(&w->queue, REC_KEY_TOPOLOGIES);
	sets = kube_store_list(&w->stores[REC_K_PCS], NULL, NULL, NULL);
	json_array_foreach(sets, i, set) queue_owner(w, set, true);
	json_decref(sets);
}

/* Every resync_ms, every set again. */
static void *resync(void *arg)
{
	rec_worker *w = arg;
	uint64_t period = w->o.resync_ms ? w->o.resync_ms : 5 * 60 * 1000;

	while (!gv_stopper_stopped(&w->stop)) {
		gv_stopper_wait(&w->stop, period);
		if (!gv_stopper_stopped(&w->stop))
			rec_worker_resync(w);
	}
	return NULL;
}

bool rec_worker_synced(rec_worker *w)
{
	size_t i = 0;

	for (i = 0; w && i < REC_K_COUNT; i++) {
		if (!kube_store_synced(&w->stores[i]))
			return false;
	}
	return w != NULL;
}

void rec_worker_stats_get(rec_worker *w, rec_worker_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (!w)
		return;
	out->reconciles = atomic_load(&w->reconciles);
	out->reconcile_errors = atomic_load(&w->reconcile_errors);
	out->reconcile_ns = atomic_load(&w->reconcile_ns);
	out->gates_removed = atomic_load(&w->gates_removed);
	for (size_t i = 0; i <= REC_GATE_BUCKETS; i++)
		out->gate_buckets[i] = atomic_load(&w->gate_buckets[i]);
	out->gate_sum_ns = atomic_load(&w->gate_sum_ns);
	out->queue_depth = kube_queue_len(&w->queue);
}

static const char *const write_names[REC_W_COUNT] = {
#define REC_W_NAME(id, name) [REC_W_##id] = name,
	REC_WRITES(REC_W_NAME)
#undef REC_W_NAME
};

void rec_count_write(rec_worker *w, rec_write verb, rec_kind k)
{
	if (verb < REC_W_COUNT && k < REC_K_COUNT)
		atomic_fetch_add(&w->writes[verb][k], 1);
}

void rec_worker_writes_each(rec_worker *w, rec_write_fn fn, void *ctx)
{
	size_t v = 0;
	size_t k = 0;

	for (v = 0; w && v < REC_W_COUNT; v++) {
		for (k = 0; k < REC_K_COUNT; k++) {
			uint64_t n = atomic_load(&w->writes[v][k]);

			if (n)
				fn(ctx, write_names[v], rec_kinds[k].kind, n);
		}
	}
}

/* ---- lifecycle -------------------------------------------------------- */

void rec_worker_stop(rec_worker *w)
{
	size_t i = 0;

	if (!w)
		return;
	gv_stopper_stop(&w->stop);
	if (w->queue_up)
		kube_queue_shutdown(&w->queue, false);
	for (i = 0; i < w->n_threads; i++)
		pthread_join(w->threads[i], NULL);
	if (w->resync_up)
		pthread_join(w->resync_thread, NULL);
	/* all asked first: each watch takes up to a second to notice */
	for (i = 0; i < REC_K_COUNT; i++) {
		if (w->informer_up[i])
			kube_informer_signal(&w->informers[i]);
	}
	if (w->claims_informer_up)
		kube_informer_signal(&w->claims_informer);
	for (i = 0; i < REC_K_COUNT; i++) {
		if (w->informer_up[i])
			kube_informer_stop(&w->informers[i]);
	}
	if (w->claims_informer_up)
		kube_informer_stop(&w->claims_informer);
	if (w->claims_store_up)
		kube_store_release(&w->claim_templates);
	for (i = 0; i < REC_K_COUNT; i++) {
		if (w->store_up[i])
			kube_store_release(&w->stores[i]);
	}
	if (w->queue_up)
		kube_queue_release(&w->queue);
	if (w->secrets) {
		pthread_mutex_destroy(&w->secrets_lock);
		json_decref(w->secrets);
	}
	if (w->seen) {
		pthread_mutex_destroy(&w->seen_lock);
		json_decref(w->seen);
	}
	gv_stopper_release(&w->stop);
	free(w->threads);
	free(w);
}

int rec_worker_start(const rec_worker_opts *o, rec_worker **out,
		     gv_error_t *err)
{
	static const char *const index_labels[] = { REC_PART_OF,
						    "grove.io/podclique",
						    "grove.io/podgang", NULL };
	rec_worker *w = NULL;
	unsigned n = 0;
	size_t i = 0;
	int rc = GV_OK;

	if (!o || !o->client || !out) {
		rc = gv_error_set(err, GV_EINVAL, NULL, 0, 0,
				  "the worker needs a kube client");
		goto out;
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		rc = GV_ENOMEM;
		goto out;
	}
	w->o = *o;
	atomic_init(&w->kai_topology, -1);
	gv_stopper_init(&w->stop);
	rc = kube_queue_init(&w->queue, NULL);
	if (rc != GV_OK)
		goto fail;
	w->queue_up = true;
	for (i = 0; i < REC_K_COUNT; i++) {
		rc = kube_store_init(&w->stores[i], index_labels);
		if (rc != GV_OK)
			goto fail;
		w->store_up[i] = true;
	}
	w->seen = json_object();
	if (!w->seen || pthread_mutex_init(&w->seen_lock, NULL)) {
		json_decref(w->seen);
		w->seen = NULL;
		rc = GV_ENOMEM;
		goto fail;
	}
	w->secrets = json_object();
	if (!w->secrets || pthread_mutex_init(&w->secrets_lock, NULL)) {
		json_decref(w->secrets);
		w->secrets = NULL;
		rc = GV_ENOMEM;
		goto fail;
	}
	for (i = 0; i < REC_K_COUNT; i++) {
		kube_informer_opts io = { 0 };

		if (!rec_kinds[i].watched) {
			kube_store_set_synced(&w->stores[i], true);
			continue;
		}

		w->args[i].w = w;
		w->args[i].kind = (rec_kind)i;
		io.gvr = rec_kinds[i].gvr;
		io.namespace =
		    rec_kinds[i].gvr.namespaced ? o->namespace : NULL;
		io.label_selector = rec_kinds[i].selector;
		io.on_event = on_event;
		io.trim = trim;
		io.arg = &w->args[i];
		rc = kube_informer_start(&w->informers[i], o->client,
					 &w->stores[i], &io, err);
		if (rc != GV_OK)
			goto fail;
		w->informer_up[i] = true;
	}
	rc = kube_store_init(&w->claim_templates, NULL);
	if (rc != GV_OK)
		goto fail;
	w->claims_store_up = true;
	if (o->claim_api_version && o->claim_api_version[0]) {
		kube_informer_opts io = { 0 };

		/* REC_K_COUNT: no kind of the table, every set on a change */
		w->claims_arg.w = w;
		w->claims_arg.kind = REC_K_COUNT;
		io.gvr.group = "resource.k8s.io";
		io.gvr.version = o->claim_api_version;
		io.gvr.resource = "resourceclaimtemplates";
		io.gvr.namespaced = true;
		io.namespace = o->namespace;
		io.on_event = on_event;
		io.arg = &w->claims_arg;
		rc = kube_informer_start(&w->claims_informer, o->client,
					 &w->claim_templates, &io, err);
		if (rc != GV_OK)
			goto fail;
		w->claims_informer_up = true;
	} else {
		kube_store_set_synced(&w->claim_templates, true);
	}
	n = o->threads ? o->threads : 2;
	w->threads = calloc(n, sizeof(*w->threads));
	if (!w->threads) {
		rc = GV_ENOMEM;
		goto fail;
	}
	for (; w->n_threads < n; w->n_threads++) {
		if (pthread_create(&w->threads[w->n_threads], NULL, run, w)) {
			rc = gv_error_set(err, GV_EIO, NULL, 0, 0,
					  "cannot start a reconcile thread");
			goto fail;
		}
	}
	if (pthread_create(&w->resync_thread, NULL, resync, w)) {
		rc = gv_error_set(err, GV_EIO, NULL, 0, 0,
				  "cannot start the resync thread");
		goto fail;
	}
	w->resync_up = true;
	*out = w;
	w = NULL;
	goto out;
fail:
	if (rc == GV_ENOMEM)
		gv_error_set(err, rc, NULL, 0, 0, "out of memory");
	rec_worker_stop(w);
	w = NULL;
out:
	return rc;
}
