/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kube_informer.c: list, then watch, into a store; on any trouble resume
 * where it left off, and relist only when the server has forgotten that
 * point (410 Gone). The store is replaced atomically on a relist, so a
 * reader never sees half of two states.
 */
#include <time.h>

#include "kube_int.h"

/* Backoff between failed watches: 200 ms doubling to 30 s. */
#define BACKOFF_BASE_MS 200
#define BACKOFF_CAP_MS 30000

static void sleep_unless_stopped(kube_informer *inf, long ms)
{
	gv_stopper_wait(&inf->stop, (uint64_t)ms);
}

static void remember_rv(kube_informer *inf, const json_t *obj)
{
	const char *rv = json_string_value(json_object_get(
	    json_object_get(obj, "metadata"), "resourceVersion"));

	if (rv)
		snprintf(inf->resource_version, sizeof(inf->resource_version),
			 "%s", rv);
}

/* Tells the client's error callback that a list or watch failed (err
 * with the API server's words), or, err NULL, that one worked again. */
static void informer_report(kube_informer *inf, const kube_result *res,
			    const gv_error_t *err)
{
	char what[160];

	if (!err && !inf->failing)
		return;
	inf->failing = err != NULL;
	snprintf(what, sizeof(what), "informer %s", inf->o.gvr.resource);
	kube_client_report(inf->client, what, res, err);
}

/* Every page of the list; the store then holds exactly it. On failure
 * res and err say why. */
static int relist(kube_informer *inf, kube_result *res, gv_error_t *err)
{
	json_t *all = json_array();
	char *cont = NULL;
	kube_list_page page;
	int rc = all ? GV_OK : GV_ENOMEM;

	memset(res, 0, sizeof(*res));
	do {
		kube_query q = { inf->o.label_selector,
				 NULL,
				 inf->o.page_size > 0 ? inf->o.page_size : 500,
				 cont,
				 NULL,
				 NULL };

		memset(&page, 0, sizeof(page));
		if (rc == GV_OK)
			rc = kube_list(inf->client, &inf->o.gvr,
				       inf->o.namespace, &q, &page, res, err);
		if (rc == GV_OK && json_array_extend(all, page.items) != 0)
			rc = GV_ENOMEM;
		free(cont);
		cont = NULL;
		if (rc == GV_OK && page.continue_token) {
			cont = strdup(page.continue_token);
			if (!cont)
				rc = GV_ENOMEM;
		}
		if (rc == GV_OK && !cont && page.resource_version)
			snprintf(inf->resource_version,
				 sizeof(inf->resource_version), "%s",
				 page.resource_version);
		kube_list_page_release(&page);
	} while (rc == GV_OK && cont && !gv_stopper_stopped(&inf->stop));
	free(cont);
	if (rc == GV_ENOMEM)
		gv_error_set(err, rc, NULL, 0, 0,
			     "cannot list \"%s\": out of memory",
			     inf->o.gvr.resource);
	if (rc == GV_OK && inf->o.trim) {
		json_t *o = NULL;
		size_t i = 0;

		json_array_foreach(all, i, o) inf->o.trim(inf->o.arg, o);
	}
	if (rc == GV_OK)
		rc = kube_store_replace(inf->store, all, inf->o.on_event,
					inf->o.arg);
	json_decref(all);
	if (rc == GV_OK) {
		kube_store_set_synced(inf->store, true);
		atomic_fetch_add(&inf->lists, 1);
	} else if (!err->text[0]) {
		gv_error_set(err, rc, NULL, 0, 0,
			     "cannot keep the list of \"%s\": %s",
			     inf->o.gvr.resource, gv_strerror(rc));
	}
	return rc;
}

/* One watch event into the store (and the handler). */
static bool on_watch(void *ctx, kube_event_type type, const json_t *obj)
{
	kube_informer *inf = ctx;
	char key[KUBE_STORE_KEY_MAX];
	json_t *old = NULL;
	json_t *cur = NULL;

	remember_rv(inf, obj);
	informer_report(inf, NULL, NULL); /* the watch delivers again */
	if (type == KUBE_EVENT_BOOKMARK)
		return !gv_stopper_stopped(&inf->stop);
	if (kube_store_key(obj, key, sizeof(key)) != GV_OK)
		return !gv_stopper_stopped(
		    &inf->stop); /* nothing to key it by */
	if (type == KUBE_EVENT_DELETED) {
		const json_t *md = json_object_get(obj, "metadata");

		if (kube_store_delete(
			inf->store,
			json_string_value(json_object_get(md, "namespace")),
			json_string_value(json_object_get(md, "name")),
			&old) == GV_OK &&
		    inf->o.on_event)
			inf->o.on_event(inf->o.arg, key, old, NULL);
	} else {
		/* the event's object outlives the event: the store keeps a
		 * reference (read-only from now on) */
		cur = json_incref((json_t *)obj);
		if (inf->o.trim)
			inf->o.trim(inf->o.arg, cur);
		if (kube_store_put(inf->store, json_incref(cur), &old) ==
			GV_OK &&
		    inf->o.on_event)
			inf->o.on_event(inf->o.arg, key, old, cur);
	}
	json_decref(old);
	json_decref(cur);
	return !gv_stopper_stopped(&inf->stop);
}

static void *informer_main(void *arg)
{
	kube_informer *inf = arg;
	long backoff = BACKOFF_BASE_MS;
	bool need_list = true;

	while (!gv_stopper_stopped(&inf->stop)) {
		kube_watch_opts wo;
		kube_result res;
		gv_error_t err = GV_ERROR_INIT;
		int rc = GV_OK;

		if (need_list) {
			if (relist(inf, &res, &err) != GV_OK) {
				informer_report(inf, &res, &err);
				sleep_unless_stopped(inf, backoff);
				backoff = backoff * 2 > BACKOFF_CAP_MS
					      ? BACKOFF_CAP_MS
					      : backoff * 2;
				continue;
			}
			need_list = false;
			informer_report(inf, &res, NULL);
		}
		memset(&wo, 0, sizeof(wo));
		wo.resource_version = inf->resource_version;
		wo.label_selector = inf->o.label_selector;
		wo.timeout_seconds = inf->o.watch_timeout_s;
		wo.stop = gv_stopper_flag(&inf->stop);
		atomic_fetch_add(&inf->watches, 1);
		rc = kube_watch(inf->client, &inf->o.gvr, inf->o.namespace, &wo,
				on_watch, inf, &res, &err);
		if (rc == GV_OK) {
			backoff = BACKOFF_BASE_MS; /* ended normally: resume */
			informer_report(inf, &res, NULL);
			continue;
		}
		if (res.kind == KUBE_ERR_GONE) {
			need_list = true; /* the server forgot our point */
			continue;
		}
		if (!gv_stopper_stopped(&inf->stop))
			informer_report(inf, &res, &err);
		/* dropped or silent: resume from the last resourceVersion */
		sleep_unless_stopped(inf, backoff);
		backoff =
		    backoff * 2 > BACKOFF_CAP_MS ? BACKOFF_CAP_MS : backoff * 2;
	}
	return NULL;
}

int kube_informer_start(kube_informer *inf, kube_client *client,
			kube_store *store, const kube_informer_opts *o,
			gv_error_t *err)
{
	memset(inf, 0, sizeof(*inf));
	inf->o = *o;
	inf->client = client;
	inf->store = store;
	gv_stopper_init(&inf->stop);
	atomic_init(&inf->lists, 0);
	atomic_init(&inf->watches, 0);
	if (pthread_create(&inf->thread, NULL, informer_main, inf) != 0) {
		gv_stopper_release(&inf->stop);
		return gv_error_set(err, GV_ENOMEM, NULL, 0, 0,
				    "cannot start the informer of \"%s\"",
				    o->gvr.resource);
	}
	inf->running = true;
	return GV_OK;
}

void kube_informer_signal(kube_informer *inf)
{
	if (inf->running)
		gv_stopper_stop(&inf->stop);
}

void kube_informer_stop(kube_informer *inf)
{
	if (!inf->running)
		return;
	gv_stopper_stop(&inf->stop);
	pthread_join(inf->thread, NULL);
	gv_stopper_release(&inf->stop);
	inf->running = false;
}
