/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rec_sync.c: one PodCliqueSet brought to its plan (docs/reconcile.md).
 *
 * The set is read from the cache through the webhook's own defaults and
 * rules (a set stored without them, during a webhook outage, runs as a
 * defaulted one; nothing is written back into the user's spec), planned
 * against what the caches hold of its children (rec_plan_build), and
 * what differs is written (rec_plan_actions): creates in plan order, each
 * with the one ownerReference its plan item names, updates as merge
 * patches of what differs, deletes with the uid as precondition.
 * AlreadyExists is success (another replica, or our own earlier try, made
 * it: the informer will say). Then the scheduling gate of each pod whose
 * gang is ready is lifted by a JSON patch that removes that gate only.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "groved/gv_buf.h"
#include "groved/gv_time.h"

#include "rec_worker_int.h"

#define GATE POL_GATE_PODGANG

/* What one sync works with; everything owned is released at its end. */
typedef struct sync_ctx {
	rec_worker *w;
	const char *ns;
	const char *name;
	char key[KUBE_STORE_KEY_MAX]; /* "ns/name", for the log */
	json_t *set; /* the cached set (read-only) */
	json_t *defaulted;
	pol_pcs pcs;
	bool built;
	json_t *lists[REC_K_COUNT]; /* observed, per kind (ours) */
	json_t *others; /* every observed object but PodCliques, groups,
			   PodGangs and pods: what else the plan makes */
	json_t *stuck; /* names of terminating pods that cannot finish */
	json_t *bindings; /* binding name -> spec.levels */
	json_t *uids; /* "Kind/name" -> uid, observed and created */
	json_t *owners; /* "Kind/name" -> its plan item's owner */
	json_t *gangs_made; /* name -> PodGang created this round */
	json_t *missing_claims; /* claim templates named that do not exist */
	json_t *bases; /* base gang -> scheduled (base_scheduled's memo) */
	uint64_t seen_ns; /* when the event that woke this round was seen */
	json_t *gangs_created; /* names, for one Event a round */
	json_t *gangs_running; /* names, for one Event a round */
	json_t *cliques_ready; /* names, for one Event a round */
	rec_plan plan;
	bool missing_owner; /* a create waited for its owner: requeue */
} sync_ctx;

/* ---- reading ---------------------------------------------------------- */

static const char *meta_str(const json_t *o, const char *key)
{
	return json_string_value(
	    json_object_get(json_object_get(o, "metadata"), key));
}

/*
 * The token Secrets known to exist: Secrets are never watched
 * (rec_worker_int.h), so the worker remembers the ones it created or
 * found by an AlreadyExists, keyed by the set's uid (a set deleted and
 * made again has lost its Secret to the garbage collector) and name.
 * Every other kind is in the cache at once (remember()).
 */
static void secret_key(sync_ctx *c, const char *name, char *buf, size_t size)
{
	snprintf(buf, size, "%s|%s", meta_str(c->set, "uid"), name);
}

static bool secret_known(sync_ctx *c, const char *name)
{
	char k[KUBE_STORE_KEY_MAX * 2];
	bool known = false;

	secret_key(c, name, k, sizeof(k));
	pthread_mutex_lock(&c->w->secrets_lock);
	known = json_object_get(c->w->secrets, k) != NULL;
	pthread_mutex_unlock(&c->w->secrets_lock);
	return known;
}

static void secret_seen(sync_ctx *c, const char *name)
{
	char k[KUBE_STORE_KEY_MAX * 2];

	secret_key(c, name, k, sizeof(k));
	pthread_mutex_lock(&c->w->secrets_lock);
	(void)json_object_set_new(c->w->secrets, k, json_true());
	pthread_mutex_unlock(&c->w->secrets_lock);
}

/*
 * What the API server answered to a write of kind k goes into the cache
 * at once (obj: a new reference, stolen): the next round, which may come
 * before the informer's event of that write, then sees what was written
 * and neither writes it again nor emits its Event twice. Only while the
 * cache still holds what the write was based on (was: its
 * resourceVersion, or NULL for a create: nothing at all); if the watch
 * has delivered something newer meanwhile, that stays.
 */
static void remember(sync_ctx *c, rec_kind k, json_t *obj, const char *was)
{
	if (!obj || k >= REC_K_COUNT || !rec_kinds[k].watched) {
		json_decref(obj);
		return;
	}
	rec_trim(c->w, k, obj);
	(void)kube_store_put_if(&c->w->stores[k], obj, was, NULL);
}

/*
 * Deletes name of kind k (its uid as precondition; NULL: none) and puts
 * what the API server answered into the cache at once: the pod going
 * (deletionTimestamp) or gone. A rollout's next round, which may come
 * before the watch's event, must not count a deleted pod as available
 * and take another one down. Gone or replaced meanwhile is success.
 */
static int delete_obj(sync_ctx *c, rec_kind k, const char *name,
		      const char *uid, gv_error_t *err)
{
	kube_delete_opts d = { .propagation_policy = "Background",
			       .precondition_uid = uid };
	kube_result res = { 0 };
	json_t *out = NULL;
	json_t *was = kube_store_get(&c->w->stores[k], c->ns, name);
	int rc = kube_delete(c->w->o.client, &rec_kinds[k].gvr, c->ns, name, &d,
			     &out, &res, err);

	if (rc == GV_OK || rc == GV_ENOTFOUND)
		rec_count_write(c->w, REC_W_DELETE, k);
	if (rc == GV_OK) {
		if (meta_str(out, "deletionTimestamp") && was) {
			remember(c, k, out, meta_str(was, "resourceVersion"));
			out = NULL;
		} else if (was && rec_kinds[k].watched) {
			(void)kube_store_delete(&c->w->stores[k], c->ns, name,
						NULL);
		}
	}
	if (rc == GV_ENOTFOUND || rc == GV_ECONFLICT)
		rc = GV_OK; /* gone, or another object by now */
	json_decref(out);
	json_decref(was);
	return rc;
}

/* The resourceVersion the cache holds for name of kind k, into buf
 * ("" when none). */
static const char *cached_rv(sync_ctx *c, rec_kind k, const char *name,
			     char *buf, size_t size)
{
	json_t *o = kube_store_get(&c->w->stores[k], c->ns, name);

	snprintf(buf, size, "%s",
		 meta_str(o, "resourceVersion") ? meta_str(o, "resourceVersion")
						: "");
	json_decref(o);
	return buf;
}

/* Whether node (may be NULL: gone) can no longer finish its pods'
 * deletion: its kubelet is unheard of (Ready Unknown, or the
 * unreachable taint), or the node object is gone. */
bool rec_node_lost(const json_t *node)
{
	const json_t *c = NULL;
	const json_t *t = NULL;
	size_t i = 0;

	if (!node)
		return true;
	json_array_foreach(
	    json_object_get(json_object_get(node, "status"), "conditions"), i,
	    c)
	{
		const char *type =
		    json_string_value(json_object_get(c, "type"));
		const char *st =
		    json_string_value(json_object_get(c, "status"));

		if (type && st && strcmp(type, "Ready") == 0 &&
		    strcmp(st, "Unknown") == 0)
			return true;
	}
	json_array_foreach(
	    json_object_get(json_object_get(node, "spec"), "taints"), i, t)
	{
		const char *key = json_string_value(json_object_get(t, "key"));

		if (key && strcmp(key, "node.kubernetes.io/unreachable") == 0)
			return true;
	}
	return false;
}

/* The observed children (ours, part-of the set, in its namespace), the
 * stuck pods, the bindings and the uids of what exists. */
static int observe(sync_ctx *c)
{
	rec_worker *w = c->w;
	const json_t *o = NULL;
	size_t k = 0;
	size_t i = 0;
	char ref[512];

	c->others = json_array();
	c->stuck = json_array();
	c->bindings = json_object();
	c->uids = json_object();
	if (!c->others || !c->stuck || !c->bindings || !c->uids)
		return GV_ENOMEM;
	for (k = 0; k < REC_K_COUNT; k++) {
		if (k == REC_K_PCS || k == REC_K_CTB || k == REC_K_NODE)
			continue;
		c->lists[k] =
		    kube_store_list(&w->stores[k], c->ns, REC_PART_OF, c->name);
		if (!c->lists[k])
			return GV_ENOMEM;
		json_array_foreach(c->lists[k], i, o)
		{
			const char *uid = meta_str(o, "uid");

			snprintf(ref, sizeof(ref), "%s/%s", rec_kinds[k].kind,
				 meta_str(o, "name") ? meta_str(o, "name")
						     : "");
			if (uid &&
			    json_object_set_new(c->uids, ref, json_string(uid)))
				return GV_ENOMEM;
			if (k != REC_K_PCLQ && k != REC_K_PCSG &&
			    k != REC_K_PG && k != REC_K_POD &&
			    json_array_append(c->others, (json_t *)o))
				return GV_ENOMEM;
		}
	}
	json_array_foreach(c->lists[REC_K_POD], i, o)
	{
		const char *node = json_string_value(
		    json_object_get(json_object_get(o, "spec"), "nodeName"));
		json_t *n = NULL;
		bool lost = false;

		if (!meta_str(o, "deletionTimestamp") || !node)
			continue;
		n = kube_store_get(&w->stores[REC_K_NODE], NULL, node);
		lost = rec_node_lost(n);
		json_decref(n);
		if (lost && json_array_append_new(
				c->stuck, json_string(meta_str(o, "name"))))
			return GV_ENOMEM;
	}
	{
		json_t *ctbs =
		    kube_store_list(&w->stores[REC_K_CTB], NULL, NULL, NULL);

		json_array_foreach(ctbs, i, o)
		{
			const json_t *levels = json_object_get(
			    json_object_get(o, "spec"), "levels");

			if (meta_str(o, "name") && json_is_array(levels))
				json_object_set(c->bindings,
						meta_str(o, "name"),
						(json_t *)levels);
		}
		json_decref(ctbs);
	}
	if (c->w->claims_informer_up) {
		c->missing_claims = json_array();
		if (!c->missing_claims)
			return GV_ENOMEM;
		for (k = 0; k < c->pcs.n_cliques; k++) {
			const json_t *rc = NULL;

			json_array_foreach(c->pcs.cliques[k].claims, i, rc)
			{
				const char *t =
				    json_string_value(json_object_get(
					rc, "resourceClaimTemplateName"));
				json_t *got = NULL;

				if (!t)
					continue;
				got = kube_store_get(&w->claim_templates, c->ns,
						     t);
				if (!got &&
				    json_array_append_new(c->missing_claims,
							  json_string(t)))
					return GV_ENOMEM;
				json_decref(got);
			}
		}
	}
	snprintf(ref, sizeof(ref), "PodCliqueSet/%s", c->name);
	if (meta_str(c->set, "uid") &&
	    json_object_set_new(c->uids, ref,
				json_string(meta_str(c->set, "uid"))))
		return GV_ENOMEM;
	return GV_OK;
}

/* The set after the webhook's defaults, valid, as a model. GV_EINVAL
 * (logged) when it is invalid: nothing is done for it. */
static int model(sync_ctx *c)
{
	pol_options po = { 0 };
	pol_verdict v = POL_VERDICT_INIT;
	int rc = GV_OK;

	if (c->w->o.pod_options)
		po.default_scheduler = c->w->o.pod_options->default_scheduler;
	po.default_namespace = c->ns;
	rc = pol_review_pcs(c->set, NULL, &po, &v, &c->defaulted);
	if (rc == GV_OK && v.n_errors) {
		char *msg = pol_verdict_message(&v);

		rec_log(c->w, REC_LOG_WARN, c->key,
			"not reconciled: the set is invalid: %s; fix it and "
			"apply it again",
			msg ? msg : "out of memory");
		free(msg);
		rc = GV_EINVAL;
	}
	pol_verdict_release(&v);
	if (rc != GV_OK)
		return rc;
	pol_verdict_init(&v);
	rc = pol_pcs_build(c->defaulted, &c->pcs, &v);
	pol_verdict_release(&v);
	if (rc == GV_OK)
		c->built = true;
	return rc;
}

/* ---- gates ------------------------------------------------------------ */

/* Pods of PodClique pclq with a node (scheduled), not going: from the
 * live cache (indexed by grove.io/podclique), not the round's snapshot,
 * so that a pod made late in a long round sees its base gang bound. */
static int64_t scheduled_pods(sync_ctx *c, const char *pclq)
{
	json_t *pods = kube_store_list(&c->w->stores[REC_K_POD], c->ns,
				       "grove.io/podclique", pclq);
	const json_t *p = NULL;
	size_t i = 0;
	int64_t n = 0;

	json_array_foreach(pods, i, p)
	{
		if (!meta_str(p, "deletionTimestamp") &&
		    json_string_value(json_object_get(
			json_object_get(p, "spec"), "nodeName")))
			n++;
	}
	json_decref(pods);
	return n;
}

/* Whether every PodClique of gang base has its minAvailable scheduled
 * (scheduled, never Ready: docs/api.md section 6); a paused one asks 0.
 * False while the cache holds none of them (the round that creates the
 * set's children: a scaled pod made then must not go before its base). */
static bool base_scheduled_now(sync_ctx *c, const char *base)
{
	json_t *cliques = kube_store_list(&c->w->stores[REC_K_PCLQ], c->ns,
					  "grove.io/podgang", base);
	const json_t *q = NULL;
	size_t i = 0;
	size_t found = 0;
	bool yes = cliques != NULL;

	json_array_foreach(cliques, i, q)
	{
		const json_t *spec = json_object_get(q, "spec");
		json_int_t need =
		    json_integer_value(json_object_get(spec, "minAvailable"));
		json_int_t replicas =
		    json_integer_value(json_object_get(spec, "replicas"));
		const char *part = rec_label(q, REC_PART_OF);

		if (!part || strcmp(part, c->name) != 0)
			continue;
		found++;
		if (replicas < need)
			need = replicas;
		if (scheduled_pods(c, meta_str(q, "name")) < need) {
			yes = false;
			break;
		}
	}
	json_decref(cliques);
	return yes && found > 0;
}

/* base_scheduled_now, remembered for the round once true (a base gang
 * that is scheduled stays so for the round's purpose; one that is not
 * yet is asked again: it may be by the next pod). */
static bool base_scheduled(sync_ctx *c, const char *base)
{
	if (json_object_get(c->bases, base))
		return true;
	if (!base_scheduled_now(c, base))
		return false;
	if (c->bases)
		(void)json_object_set_new(c->bases, base, json_true());
	return true;
}

/* Whether gang lists pod name in its podgroups. */
static bool in_gang(const json_t *gang, const char *name)
{
	const json_t *pg = NULL;
	const json_t *r = NULL;
	size_t i = 0;
	size_t k = 0;

	json_array_foreach(
	    json_object_get(json_object_get(gang, "spec"), "podgroups"), i, pg)
	{
		json_array_foreach(json_object_get(pg, "podReferences"), k, r)
		{
			const char *n =
			    json_string_value(json_object_get(r, "name"));

			if (n && strcmp(n, name) == 0)
				return true;
		}
	}
	return false;
}

/* The position of groved's gate among pod's, or -1. */
static int gate_at(const json_t *pod)
{
	const json_t *g = NULL;
	size_t i = 0;

	json_array_foreach(
	    json_object_get(json_object_get(pod, "spec"), "schedulingGates"), i,
	    g)
	{
		const char *n = json_string_value(json_object_get(g, "name"));

		if (n && strcmp(n, GATE) == 0)
			return (int)i;
	}
	return -1;
}

/* PodGang name: the cache's, or the one this round created (the cache
 * has not seen it yet). A new reference, or NULL. */
static json_t *gang_named(sync_ctx *c, const char *name)
{
	json_t *gang = kube_store_get(&c->w->stores[REC_K_PG], c->ns, name);

	if (!gang && c->gangs_made)
		gang = json_incref(json_object_get(c->gangs_made, name));
	return gang;
}

/* The key of pod's scaling-group unit into buf, or NULL: not in one. */
static const char *unit_key(const json_t *pod, char *buf, size_t size)
{
	const char *g = rec_label(pod, "grove.io/podcliquescalinggroup");
	const char *j =
	    rec_label(pod, "grove.io/podcliquescalinggroup-replica-index");

	if (!g || !j)
		return NULL;
	snprintf(buf, size, "%s/%s", g, j);
	return buf;
}

/*
 * Whether pod's scaling-group unit still has an outdated pod (the plan's
 * outdatedUnits, RollingRecreate only): a unit never runs two templates
 * (docs/api.md 7.1), so its new pods keep their gate until the old ones
 * are gone, then go together. Under OnDelete the planner lists none: the
 * user decides, pod by pod.
 */
static bool mixed_unit(sync_ctx *c, const json_t *pod)
{
	char key[KUBE_STORE_KEY_MAX];

	if (!unit_key(pod, key, sizeof(key)))
		return false;
	return json_object_get(
		   json_object_get(c->plan.rollout, "outdatedUnits"), key) !=
	       NULL;
}

/*
 * Lifts groved's gate from pod when its gang may go: the pod is listed in
 * its PodGang and, for a scaled gang, the base gang is scheduled. The
 * patch tests that the gate is still where it was seen and removes it
 * alone: other controllers' gates stay (upstream #723).
 */
static int lift_gate(sync_ctx *c, const json_t *p, uint64_t since_ns,
		     gv_error_t *err)
{
	rec_worker *w = c->w;
	const char *gang_name = rec_label(p, "grove.io/podgang");
	const char *base = rec_label(p, "grove.io/base-podgang");
	const char *name = meta_str(p, "name");
	int at = gate_at(p);
	json_t *gang = NULL;
	json_t *patch = NULL;
	kube_result res = { 0 };
	json_t *out = NULL;
	char path[96];
	bool go = false;
	int rc = GV_OK;

	if (at < 0 || !gang_name || !name || meta_str(p, "deletionTimestamp"))
		return GV_OK;
	if (mixed_unit(c, p))
		return GV_OK; /* its unit's old pods go first */
	gang = gang_named(c, gang_name);
	go = gang && in_gang(gang, name) && (!base || base_scheduled(c, base));
	json_decref(gang);
	if (!go)
		return GV_OK;
	snprintf(path, sizeof(path), "/spec/schedulingGates/%d", at);
	patch = json_pack("[{s:s, s:s+, s:s}, {s:s, s:s}]", "op", "test",
			  "path", path, "/name", "value", GATE, "op", "remove",
			  "path", path);
	if (!patch)
		return GV_ENOMEM;
	rc = kube_patch(w->o.client, &rec_kinds[REC_K_POD].gvr, c->ns, name,
			NULL, KUBE_PATCH_JSON, patch, &out, &res, err);
	json_decref(patch);
	if (rc == GV_ENOTFOUND || (rc == GV_EIO && res.status == 422))
		return GV_OK; /* gone, or the gate moved: seen again */
	if (rc != GV_OK)
		return rc;
	remember(c, REC_K_POD, out, meta_str(p, "resourceVersion"));
	atomic_fetch_add(&w->gates_removed, 1);
	rec_count_gate(w, gv_now_ns() - since_ns);
	rec_count_write(w, REC_W_PATCH, REC_K_POD);
	rec_log(w, REC_LOG_DEBUG, c->key, "pod %s may be scheduled: gang %s",
		name, gang_name);
	return GV_OK;
}

/* The gates of every observed pod whose gang may go now (at the start of
 * a round and again at its end, after what the round made). */
static int lift_gates(sync_ctx *c, gv_error_t *err)
{
	const json_t *p = NULL;
	size_t i = 0;
	int rc = GV_OK;

	json_array_foreach(c->lists[REC_K_POD], i, p)
	{
		/* the pod as the cache has it now: a gate lifted earlier in
		 * the round is not lifted twice */
		json_t *live = gate_at(p) < 0
				   ? NULL
				   : kube_store_get(&c->w->stores[REC_K_POD],
						    c->ns, meta_str(p, "name"));

		rc = live ? lift_gate(c, live, c->seen_ns, err) : GV_OK;
		json_decref(live);
		if (rc != GV_OK)
			return rc;
	}
	return GV_OK;
}

/* ---- events ----------------------------------------------------------- */

/*
 * A v1 Event on the set (kubectl describe pcs shows them): type "Normal"
 * or "Warning", reason in CamelCase, the message printf-formatted. Named
 * as client-go names them (<set>.<hex nanoseconds>). An Event is a note:
 * one that cannot be written is logged and forgotten.
 */
static void event(sync_ctx *c, const char *type, const char *reason,
		  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void event(sync_ctx *c, const char *type, const char *reason,
		  const char *fmt, ...)
{
	rec_worker *w = c->w;
	struct timespec ts;
	char msg[1024];
	char name[KUBE_STORE_KEY_MAX];
	char now[32];
	json_t *ev = NULL;
	kube_result res = { 0 };
	gv_error_t err = GV_ERROR_INIT;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	clock_gettime(CLOCK_REALTIME, &ts);
	gv_time_utc(ts.tv_sec, now, sizeof(now));
	snprintf(name, sizeof(name), "%s.%llx", c->name,
		 (unsigned long long)ts.tv_sec * 1000000000ull +
		     (unsigned long long)ts.tv_nsec);
	ev = json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:s, s:s, s:s, s:s?}, "
		       "s:s, s:s, s:s, s:{s:s}, s:s, s:s, s:i, s:s}",
		       "apiVersion", "v1", "kind", "Event", "metadata", "name",
		       name, "namespace", c->ns, "involvedObject", "apiVersion",
		       "grove.io/v1alpha1", "kind", "PodCliqueSet", "name",
		       c->name, "namespace", c->ns, "uid",
		       meta_str(c->set, "uid"), "reason", reason, "message",
		       msg, "type", type, "source", "component", "groved",
		       "firstTimestamp", now, "lastTimestamp", now, "count", 1,
		       "reportingComponent", "groved");
	if (!ev)
		return;
	if (kube_create(w->o.client, &rec_kinds[REC_K_EVENT].gvr, c->ns, ev,
			NULL, &res, &err) == GV_OK)
		rec_count_write(w, REC_W_CREATE, REC_K_EVENT);
	else
		rec_log(w, REC_LOG_DEBUG, c->key, "cannot record event %s: %s",
			reason, err.text);
	json_decref(ev);
}

/* Member m ("status", "message") of condition type in status, or "". */
static const char *condition_of(const json_t *status, const char *type,
				const char *m)
{
	const json_t *cd = NULL;
	size_t i = 0;

	json_array_foreach(json_object_get(status, "conditions"), i, cd)
	{
		const char *t = json_string_value(json_object_get(cd, "type"));
		const char *v = json_string_value(json_object_get(cd, m));

		if (t && v && strcmp(t, type) == 0)
			return v;
	}
	return "";
}

static const char *condition(const json_t *status, const char *type)
{
	return condition_of(status, type, "status");
}

static bool went(const json_t *old, const json_t *now, const char *type,
		 const char *from, const char *to)
{
	return strcmp(condition(old, type), from) == 0 &&
	       strcmp(condition(now, type), to) == 0;
}

/*
 * One Event for every object of names (an array) that changed alike this
 * round, not one each: at a thousand gangs per set, Events would
 * otherwise be a third of the worker's writes. "PodGang x is ..." or
 * "3 PodGangs are ...: a, b, c" (the first few named, then how many
 * more). names is emptied.
 */
static void event_names(sync_ctx *c, const char *reason, json_t *names,
			const char *kind, const char *kinds, const char *is,
			const char *are)
{
	size_t n = json_array_size(names);
	const json_t *v = NULL;
	size_t i = 0;
	gv_buf b;

	if (n == 1) {
		event(c, "Normal", reason, "%s %s %s", kind,
		      json_string_value(json_array_get(names, 0)), is);
	} else if (n > 1) {
		gv_buf_init(&b, 1024);
		json_array_foreach(names, i, v)
		{
			if (i == 5) {
				gv_buf_printf(&b, " and %zu more", n - 5);
				break;
			}
			gv_buf_printf(&b, "%s%s", i ? ", " : "",
				      json_string_value(v));
		}
		event(c, "Normal", reason, "%zu %s %s: %s", n, kinds, are,
		      b.failed ? "" : gv_buf_str(&b));
		gv_buf_release(&b);
	}
	(void)json_array_clear(names);
}

/* updateProgress.<m> of a set status, or NULL. */
static const char *progress_of(const json_t *status, const char *m)
{
	return json_string_value(
	    json_object_get(json_object_get(status, "updateProgress"), m));
}

static bool changed_to(const char *was, const char *is)
{
	return is && (!was || strcmp(was, is) != 0);
}

/* A rollout that began, ended, or holds, as the set's new status st
 * says against its old one. */
static void rollout_status_events(sync_ctx *c, const json_t *old,
				  const json_t *st)
{
	const char *reason = condition_of(st, "UpdateInProgress", "reason");

	if (changed_to(progress_of(old, "updateStartedAt"),
		       progress_of(st, "updateStartedAt")))
		event(c, "Normal", "RolloutStarted",
		      "template %s rolls out (%s): %s",
		      progress_of(st, "podCliqueSetGenerationHash")
			  ? progress_of(st, "podCliqueSetGenerationHash")
			  : "",
		      c->pcs.on_delete ? "OnDelete: deleted pods come back "
					 "on it"
				       : "RollingRecreate",
		      condition_of(st, "UpdateInProgress", "message"));
	if (changed_to(progress_of(old, "updateEndedAt"),
		       progress_of(st, "updateEndedAt")) &&
	    !c->pcs.on_delete)
		event(c, "Normal", "RolloutFinished",
		      "every pod runs template %s (rollout started %s)",
		      json_string_value(
			  json_object_get(st, "currentGenerationHash"))
			  ? json_string_value(
				json_object_get(st, "currentGenerationHash"))
			  : "",
		      progress_of(st, "updateStartedAt")
			  ? progress_of(st, "updateStartedAt")
			  : "");
	if (strcmp(reason, "ProgressDeadlineExceeded") == 0 &&
	    strcmp(condition_of(old, "UpdateInProgress", "reason"), reason))
		event(c, "Warning", "RolloutHeld", "%s",
		      condition_of(st, "UpdateInProgress", "message"));
}

/* The Events of what the new statuses say changed: a clique that has
 * its minAvailable Ready, a gang that runs, the set Ready, Degraded and
 * recovered. */
static void status_events(sync_ctx *c, const json_t *statuses)
{
	const char *ref = NULL;
	const json_t *st = NULL;
	char set_ref[512];

	snprintf(set_ref, sizeof(set_ref), "PodCliqueSet/%s", c->name);
	json_object_foreach((json_t *)statuses, ref, st)
	{
		const char *slash = strchr(ref, '/');
		rec_kind k = REC_K_COUNT;
		json_t *obj = NULL;
		const json_t *old = NULL;
		char kind[64];

		if (!slash || (size_t)(slash - ref) >= sizeof(kind))
			continue;
		memcpy(kind, ref, (size_t)(slash - ref));
		kind[slash - ref] = '\0';
		k = rec_kind_of(kind);
		if (k == REC_K_PCS) {
			old = json_object_get(c->set, "status");
			if (went(old, st, "Ready", "False", "True") ||
			    went(old, st, "Ready", "", "True"))
				event(c, "Normal", "Ready",
				      "every PodClique has its minAvailable "
				      "Ready pods (%s)",
				      json_string_value(
					  json_object_get(st, "ready")));
			if (went(old, st, "Degraded", "False", "True") ||
			    went(old, st, "Degraded", "", "True"))
				event(c, "Warning", "Degraded", "%s",
				      condition_of(st, "Degraded", "message"));
			if (went(old, st, REC_CONDITION_CLAIMS, "True",
				 "False") ||
			    went(old, st, REC_CONDITION_CLAIMS, "", "False"))
				event(c, "Warning",
				      "ResourceClaimTemplateNotFound", "%s",
				      condition_of(st, REC_CONDITION_CLAIMS,
						   "message"));
			if (went(old, st, "Degraded", "True", "False"))
				event(c, "Normal", "Recovered",
				      "every PodClique has its minAvailable "
				      "Ready pods again");
			rollout_status_events(c, old, st);
			continue;
		}
		if (k != REC_K_PCLQ && k != REC_K_PG)
			continue;
		obj = kube_store_get(&c->w->stores[k], c->ns, slash + 1);
		old = json_object_get(obj, "status");
		if (k == REC_K_PCLQ &&
		    went(old, st, "MinAvailableBreached", "True", "False"))
			(void)json_array_append_new(c->cliques_ready,
						    json_string(slash + 1));
		if (k == REC_K_PG) {
			const char *was =
			    json_string_value(json_object_get(old, "phase"));
			const char *is =
			    json_string_value(json_object_get(st, "phase"));

			if (is && strcmp(is, "Running") == 0 &&
			    (!was || strcmp(was, "Running") != 0))
				(void)json_array_append_new(
				    c->gangs_running, json_string(slash + 1));
		}
		json_decref(obj);
	}
	event_names(c, "PodCliqueReady", c->cliques_ready, "PodClique",
		    "PodCliques", "has its minAvailable Ready pods",
		    "have their minAvailable Ready pods");
	event_names(c, "PodGangScheduled", c->gangs_running, "PodGang",
		    "PodGangs", "is scheduled and running",
		    "are scheduled and running");
}

/*
 * The Events of what this round's rollout did (rec_plan.rollout's
 * steps), grouped as event_names does: units and pods recreated on the
 * new template, replacements made first (maxSurge), and a Warning for
 * each pod or unit taken below minAvailable because nothing else can
 * move (minAvailable equal to replicas, no maxSurge).
 */
static void rollout_events(sync_ctx *c)
{
	const json_t *steps = json_object_get(c->plan.rollout, "steps");
	json_t *units = json_array();
	json_t *pods = json_array();
	json_t *surges = json_array();
	const json_t *st = NULL;
	size_t i = 0;
	char what[KUBE_STORE_KEY_MAX + 32];

	json_array_foreach(steps, i, st)
	{
		const char *w = json_string_value(json_object_get(st, "what"));
		const char *comp =
		    json_string_value(json_object_get(st, "component"));
		const char *pod = json_string_value(json_object_get(st, "pod"));
		json_int_t j = json_integer_value(json_object_get(st, "unit"));

		if (!w || !comp)
			continue;
		if (strcmp(w, "unit") == 0) {
			snprintf(what, sizeof(what), "%s unit %lld", comp,
				 (long long)j);
			(void)json_array_append_new(units, json_string(what));
		} else if (pod && strcmp(w, "surge") == 0) {
			(void)json_array_append_new(surges, json_string(pod));
		} else if (pod) {
			(void)json_array_append_new(pods, json_string(pod));
		}
		if (json_is_true(json_object_get(st, "belowMin")))
			event(c, "Warning", "RolloutBelowMinAvailable",
			      "%s has minAvailable equal to its %s and no "
			      "maxSurge: %s is recreated on the new template "
			      "alone, the least possible disruption; set "
			      "rollingUpdate.maxSurge to roll it without going "
			      "below minAvailable",
			      comp, strcmp(w, "unit") ? "replicas" : "units",
			      pod ? pod : what);
	}
	event_names(c, "RolloutUnitUpdated", units, "PodCliqueScalingGroup",
		    "units", "is recreated on the new template",
		    "are recreated on the new template");
	event_names(c, "RolloutPodUpdated", pods, "pod", "pods",
		    "is replaced on the new template",
		    "are replaced on the new template");
	event_names(c, "RolloutSurge", surges, "pod", "pods",
		    "gets its replacement on the new template first (maxSurge)",
		    "get their replacements on the new template first "
		    "(maxSurge)");
	json_decref(units);
	json_decref(pods);
	json_decref(surges);
}

/* ---- writing ---------------------------------------------------------- */

static const char *api_version_of(const char *kind)
{
	static const struct {
		const char *kind, *api;
	} apis[] = {
		{ "PodCliqueSet", "grove.io/v1alpha1" },
		{ "PodClique", "grove.io/v1alpha1" },
		{ "PodCliqueScalingGroup", "grove.io/v1alpha1" },
	};
	size_t i = 0;

	for (i = 0; i < sizeof(apis) / sizeof(apis[0]); i++) {
		if (strcmp(apis[i].kind, kind) == 0)
			return apis[i].api;
	}
	return NULL;
}

/* obj (a copy, ours to change) gets its one ownerReference: its plan
 * item's owner, by the uid observed or just created. false when the
 * owner has no uid yet (its create failed or is not seen): skipped. */
static bool own(sync_ctx *c, json_t *obj, const char *ref)
{
	const char *owner = json_string_value(json_object_get(c->owners, ref));
	const char *slash = owner ? strchr(owner, '/') : NULL;
	const char *uid = NULL;
	char kind[64];
	json_t *refs = NULL;

	if (!owner || !slash || (size_t)(slash - owner) >= sizeof(kind))
		return true; /* no owner planned */
	memcpy(kind, owner, (size_t)(slash - owner));
	kind[slash - owner] = '\0';
	uid = json_string_value(json_object_get(c->uids, owner));
	if (!uid || !api_version_of(kind))
		return false;
	refs = json_pack("[{s:s, s:s, s:s, s:s, s:b, s:b}]", "apiVersion",
			 api_version_of(kind), "kind", kind, "name", slash + 1,
			 "uid", uid, "controller", 1, "blockOwnerDeletion", 1);
	return refs && json_object_set_new(json_object_get(obj, "metadata"),
					   "ownerReferences", refs) == 0;
}

/* One action of rec_plan_actions. */
static int apply(sync_ctx *c, const json_t *a, gv_error_t *err)
{
	rec_worker *w = c->w;
	const char *verb = json_string_value(json_object_get(a, "action"));
	const char *kind = json_string_value(json_object_get(a, "kind"));
	const char *name = json_string_value(json_object_get(a, "name"));
	rec_kind k = rec_kind_of(kind);
	const kube_gvr *gvr = k < REC_K_COUNT ? &rec_kinds[k].gvr : NULL;
	kube_result res = { 0 };
	json_t *obj = NULL;
	json_t *out = NULL;
	uint64_t made_ns = 0;
	char ref[512];
	int rc = GV_OK;

	if (!verb || !kind || !name || !gvr)
		return GV_OK;
	snprintf(ref, sizeof(ref), "%s/%s", kind, name);
	if (strcmp(verb, "create") == 0) {
		if (k == REC_K_SECRET && secret_known(c, name))
			return GV_OK;
		obj = json_deep_copy(json_object_get(a, "object"));
		if (!obj)
			return GV_ENOMEM;
		if (!own(c, obj, ref)) {
			c->missing_owner = true;
			goto out;
		}
		rc = kube_create(w->o.client, gvr, c->ns, obj, &out, &res, err);
		made_ns = gv_now_ns(); /* a gate's condition may hold now */
		if (rc == GV_EEXIST)
			rc = GV_OK; /* made already: the informer will say */
		if (rc == GV_OK)
			rec_count_write(w, REC_W_CREATE, k);
		if (rc == GV_OK && k == REC_K_SECRET)
			secret_seen(c, name);
		if (rc == GV_OK && out)
			remember(c, k, json_incref(out), NULL);
		/* a gang made now: its pods, made next, may go at once */
		if (rc == GV_OK && out && k == REC_K_PG && c->gangs_made &&
		    json_object_set(c->gangs_made, name, out))
			rc = GV_ENOMEM;
		/* a pod made now: its gate lifted now, not a round later
		 * (the latency would grow with the pods made before it) */
		if (rc == GV_OK && out && k == REC_K_POD)
			rc = lift_gate(c, out, made_ns, err);
		if (rc == GV_OK && meta_str(out, "uid"))
			rc =
			    json_object_set_new(
				c->uids, ref, json_string(meta_str(out, "uid")))
				? GV_ENOMEM
				: GV_OK;
	} else if (strcmp(verb, "update") == 0) {
		char was[64];

		cached_rv(c, k, name, was, sizeof(was));
		rc = kube_patch(w->o.client, gvr, c->ns, name, NULL,
				KUBE_PATCH_MERGE, json_object_get(a, "fields"),
				&out, &res, err);
		if (rc == GV_OK) {
			rec_count_write(w, REC_W_PATCH, k);
			remember(c, k, out, was);
			out = NULL;
		}
	} else if (strcmp(verb, "delete") == 0) {
		rc = delete_obj(
		    c, k, name,
		    json_string_value(json_object_get(c->uids, ref)), err);
	} else if (strcmp(verb, "conflict") == 0) {
		rec_log(w, REC_LOG_WARN, c->key,
			"%s \"%s\" is in the way: it exists and is not this "
			"set's; groved neither adopts nor overwrites it",
			kind, name);
		event(c, "Warning", "ObjectInTheWay",
		      "%s %s exists and is not this set's: groved neither "
		      "adopts nor overwrites it; delete or rename it",
		      kind, name);
	}
	if (rc == GV_OK && k == REC_K_PG && strcmp(verb, "create") == 0 &&
	    !c->missing_owner)
		(void)json_array_append_new(c->gangs_created,
					    json_string(name));
out:
	json_decref(obj);
	json_decref(out);
	return rc;
}

/* ---- statuses --------------------------------------------------------- */

/* Writes every status rec_status_build says changed, through the status
 * subresource (a merge patch of the whole status, which keeps what
 * others own: rec_status_build carries it over). */
static int write_statuses(sync_ctx *c, const rec_observed *obs, gv_error_t *err)
{
	rec_worker *w = c->w;
	rec_status_input si = { 0 };
	json_t *statuses = NULL;
	const char *ref = NULL;
	json_t *st = NULL;
	char now[32];
	int rc = GV_OK;

	gv_time_utc(time(NULL), now, sizeof(now));
	si.set = c->set;
	si.pcs = &c->pcs;
	si.plan = &c->plan;
	si.observed = obs;
	si.now = now;
	si.binding_missing = c->plan.binding_missing;
	si.kai_topology_unserved = rec_worker_kai_topology(w) == 0;
	si.missing_claim_templates = c->missing_claims;
	rc = rec_status_build(&si, &statuses);
	if (rc != GV_OK)
		return rc;
	status_events(c, statuses);
	json_object_foreach(statuses, ref, st)
	{
		const char *slash = strchr(ref, '/');
		char kind[64];
		rec_kind k = REC_K_COUNT;
		json_t *patch = NULL;
		json_t *out = NULL;
		kube_result res = { 0 };
		char was[64];

		if (!slash || (size_t)(slash - ref) >= sizeof(kind))
			continue;
		memcpy(kind, ref, (size_t)(slash - ref));
		kind[slash - ref] = '\0';
		k = rec_kind_of(kind);
		if (k == REC_K_COUNT)
			continue;
		patch = json_pack("{s:O}", "status", st);
		if (!patch) {
			rc = GV_ENOMEM;
			break;
		}
		cached_rv(c, k, slash + 1, was, sizeof(was));
		rc = kube_patch(w->o.client, &rec_kinds[k].gvr, c->ns,
				slash + 1, "status", KUBE_PATCH_MERGE, patch,
				&out, &res, err);
		json_decref(patch);
		if (rc == GV_ENOTFOUND) {
			rc = GV_OK; /* gone meanwhile */
			continue;
		}
		if (rc != GV_OK)
			break;
		remember(c, k, out, was);
		out = NULL;
		rec_count_write(w, REC_W_STATUS, k);
	}
	json_decref(statuses);
	return rc;
}

/* ---- recreation after terminationDelay (template form) ---------------- */

#define BREACH_MARK "grove.io/breach-recreated"

/* The lastTransitionTime of pclq's MinAvailableBreached when True, or
 * NULL. */
static const char *breached_since(const json_t *pclq)
{
	const json_t *cd = NULL;
	size_t i = 0;

	json_array_foreach(
	    json_object_get(json_object_get(pclq, "status"), "conditions"), i,
	    cd)
	{
		const char *t = json_string_value(json_object_get(cd, "type"));
		const char *st =
		    json_string_value(json_object_get(cd, "status"));

		if (t && st && strcmp(t, "MinAvailableBreached") == 0 &&
		    strcmp(st, "True") == 0)
			return json_string_value(
			    json_object_get(cd, "lastTransitionTime"));
	}
	return NULL;
}

/* Whether group pcsg (name) still has its minAvailable units available. */
static bool group_holds(sync_ctx *c, const char *pcsg)
{
	json_t *g = kube_store_get(&c->w->stores[REC_K_PCSG], c->ns, pcsg);
	json_int_t avail = json_integer_value(
	    json_object_get(json_object_get(g, "status"), "availableReplicas"));
	json_int_t need = json_integer_value(
	    json_object_get(json_object_get(g, "spec"), "minAvailable"));
	bool holds = g && avail >= need;

	json_decref(g);
	return holds;
}

/* Deletes the pods of set replica i, or of unit j of group pcsg when
 * pcsg is not NULL: the planner makes them again, all of them gated
 * until their gang may go, so the gang is placed anew as a whole. The
 * PodCliques and groups stay, and so do the counts they were scaled to
 * (upstream #826 lost them by recreating the objects). */
static int recreate(sync_ctx *c, const char *i, const char *pcsg, const char *j,
		    gv_error_t *err)
{
	const json_t *p = NULL;
	size_t k = 0;
	int rc = GV_OK;

	json_array_foreach(c->lists[REC_K_POD], k, p)
	{
		const char *pi =
		    rec_label(p, "grove.io/podcliqueset-replica-index");
		const char *pg = rec_label(p, "grove.io/podcliquescalinggroup");
		const char *pj = rec_label(
		    p, "grove.io/podcliquescalinggroup-replica-index");
		if (!pi || strcmp(pi, i) != 0 ||
		    meta_str(p, "deletionTimestamp"))
			continue;
		if (pcsg &&
		    (!pg || !pj || strcmp(pg, pcsg) != 0 || strcmp(pj, j) != 0))
			continue;
		rc = delete_obj(c, REC_K_POD, meta_str(p, "name"),
				meta_str(p, "uid"), err);
		if (rc != GV_OK)
			return rc;
	}
	return GV_OK;
}

/*
 * Template form (docs/api.md section 7): a PodClique breached (fewer Ready
 * or starting pods than minAvailable, once it was scheduled) for longer
 * than terminationDelay has its set replica recreated, or only its group
 * unit while the group still has minAvailable units available. Once per
 * breach: the PodClique is first marked with the breach's start
 * (annotation grove.io/breach-recreated), so a crash or a new leader
 * never recreates twice. A breach not yet old enough asks for a round
 * when it will be.
 */
static int recreate_breached(sync_ctx *c, uint64_t *requeue_ms, gv_error_t *err)
{
	const json_t *q = NULL;
	double delay = c->pcs.termination_delay_s;
	time_t now = time(NULL);
	size_t k = 0;
	int rc = GV_OK;

	if (c->pcs.form == POL_FORM_COMPACT || delay <= 0)
		return GV_OK;
	json_array_foreach(c->lists[REC_K_PCLQ], k, q)
	{
		const char *since = breached_since(q);
		const char *mark = json_string_value(json_object_get(
		    json_object_get(json_object_get(q, "metadata"),
				    "annotations"),
		    BREACH_MARK));
		const char *i =
		    rec_label(q, "grove.io/podcliqueset-replica-index");
		const char *pcsg =
		    rec_label(q, "grove.io/podcliquescalinggroup");
		const char *j = rec_label(
		    q, "grove.io/podcliquescalinggroup-replica-index");
		json_t *patch = NULL;
		kube_result res = { 0 };
		time_t t0 = 0;
		bool unit = false;

		if (!since || !i || meta_str(q, "deletionTimestamp") ||
		    !gv_time_parse_utc(since, &t0) ||
		    (mark && strcmp(mark, since) == 0))
			continue;
		if ((double)(now - t0) < delay) {
			uint64_t wait =
			    (uint64_t)((delay - (double)(now - t0)) * 1000) +
			    1000;

			if (!*requeue_ms || wait < *requeue_ms)
				*requeue_ms = wait;
			continue;
		}
		unit = pcsg && j && group_holds(c, pcsg);
		patch = json_pack("{s:{s:{s:s}}}", "metadata", "annotations",
				  BREACH_MARK, since);
		if (!patch)
			return GV_ENOMEM;
		rc = kube_patch(c->w->o.client, &rec_kinds[REC_K_PCLQ].gvr,
				c->ns, meta_str(q, "name"), NULL,
				KUBE_PATCH_MERGE, patch, NULL, &res, err);
		json_decref(patch);
		if (rc != GV_OK)
			return rc;
		rec_count_write(c->w, REC_W_PATCH, REC_K_PCLQ);
		rc = recreate(c, i, unit ? pcsg : NULL, j, err);
		if (rc != GV_OK)
			return rc;
		if (unit)
			event(
			    c, "Warning", "UnitRecreated",
			    "PodClique %s below minAvailable since %s, longer "
			    "than terminationDelay %s: unit %s of %s recreated",
			    meta_str(q, "name"), since,
			    c->pcs.termination_delay, j, pcsg);
		else
			event(
			    c, "Warning", "ReplicaRecreated",
			    "PodClique %s below minAvailable since %s, longer "
			    "than terminationDelay %s: set replica %s "
			    "recreated",
			    meta_str(q, "name"), since,
			    c->pcs.termination_delay, i);
	}
	return GV_OK;
}

/* ---- the sync --------------------------------------------------------- */

static void sync_release(sync_ctx *c)
{
	size_t k = 0;

	for (k = 0; k < REC_K_COUNT; k++)
		json_decref(c->lists[k]);
	json_decref(c->others);
	json_decref(c->stuck);
	json_decref(c->bindings);
	json_decref(c->uids);
	json_decref(c->owners);
	json_decref(c->gangs_made);
	json_decref(c->missing_claims);
	json_decref(c->bases);
	json_decref(c->gangs_created);
	json_decref(c->gangs_running);
	json_decref(c->cliques_ready);
	rec_plan_release(&c->plan);
	if (c->built)
		pol_pcs_release(&c->pcs);
	json_decref(c->defaulted);
	json_decref(c->set);
}

int rec_sync(rec_worker *w, const char *ns, const char *name, uint64_t seen_ns,
	     uint64_t *requeue_ms, gv_error_t *err)
{
	sync_ctx c;
	rec_input in = { 0 };
	json_t *actions = NULL;
	const json_t *item = NULL;
	size_t i = 0;
	int rc = GV_OK;

	memset(&c, 0, sizeof(c));
	c.w = w;
	c.seen_ns = seen_ns;
	c.ns = ns;
	c.name = name;
	c.plan = (rec_plan)REC_PLAN_INIT;
	snprintf(c.key, sizeof(c.key), "%s/%s", ns, name);
	*requeue_ms = 0;
	c.set = kube_store_get(&w->stores[REC_K_PCS], ns, name);
	/* gone or going: the garbage collector removes what it owned */
	if (!c.set || meta_str(c.set, "deletionTimestamp"))
		goto out;
	rc = model(&c);
	if (rc == GV_EINVAL) {
		rc = GV_OK; /* nothing to do until the set changes */
		goto out;
	}
	if (rc == GV_OK)
		rc = observe(&c);
	if (rc != GV_OK)
		goto out;
	in.pcs = &c.pcs;
	in.namespace = ns;
	in.bindings = c.bindings;
	in.pod_options = w->o.pod_options;
	in.observed.podcliques = c.lists[REC_K_PCLQ];
	in.observed.groups = c.lists[REC_K_PCSG];
	in.observed.podgangs = c.lists[REC_K_PG];
	in.observed.pods = c.lists[REC_K_POD];
	in.observed.others = c.others;
	in.observed.stuck = c.stuck;
	in.now = (int64_t)time(NULL);
	rc = rec_plan_build(&in, &c.plan, err);
	if (rc == GV_OK)
		rc = rec_plan_actions(&c.plan, &c.pcs, &in.observed, &actions);
	if (rc != GV_OK)
		goto out;
	c.owners = json_object();
	c.gangs_made = json_object();
	c.bases = json_object();
	c.gangs_created = json_array();
	c.gangs_running = json_array();
	c.cliques_ready = json_array();
	if (!c.owners || !c.gangs_made || !c.bases || !c.gangs_created ||
	    !c.gangs_running || !c.cliques_ready) {
		rc = GV_ENOMEM;
		goto out;
	}
	json_array_foreach(c.plan.items, i, item)
	{
		const json_t *o = json_object_get(item, "object");
		char ref[512];

		snprintf(ref, sizeof(ref), "%s/%s",
			 json_string_value(json_object_get(o, "kind")),
			 meta_str(o, "name"));
		if (json_object_get(item, "owner") &&
		    json_object_set(c.owners, ref,
				    json_object_get(item, "owner"))) {
			rc = GV_ENOMEM;
			goto out;
		}
	}
	/* gates whose condition already holds first: a long round of
	 * creates must not keep them waiting */
	rc = lift_gates(&c, err);
	if (rc != GV_OK)
		goto out;
	json_array_foreach(actions, i, item)
	{
		rc = apply(&c, item, err);
		if (rc != GV_OK)
			goto out;
	}
	rollout_events(&c);
	event_names(&c, "PodGangCreated", c.gangs_created, "PodGang",
		    "PodGangs", "created", "created");
	rc = lift_gates(&c, err);
	if (rc == GV_OK)
		rc = write_statuses(&c, &in.observed, err);
	if (rc == GV_OK)
		rc = recreate_breached(&c, requeue_ms, err);
	{
		json_int_t s = json_integer_value(
		    json_object_get(c.plan.rollout, "recheckSeconds"));

		/* a progressDeadline that runs out needs a round then: a
		 * pod that never becomes Ready sends no event */
		if (rc == GV_OK && s > 0 &&
		    (!*requeue_ms || (uint64_t)s * 1000 < *requeue_ms))
			*requeue_ms = (uint64_t)s * 1000;
	}
	if (rc == GV_OK && c.missing_owner)
		*requeue_ms = 1000;
out:
	if (rc == GV_ENOMEM)
		gv_error_set(err, rc, NULL, 0, 0, "out of memory");
	json_decref(actions);
	sync_release(&c);
	return rc;
}
