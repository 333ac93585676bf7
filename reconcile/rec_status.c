/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rec_status.c: the statuses the reconcile worker writes (docs/api.md
 * section 7, docs/status.md), as a pure function of the set, its plan and
 * what is observed: PodClique, PodCliqueScalingGroup, PodGang and
 * PodCliqueSet, with upstream Grove's field, condition and reason names.
 *
 * Memory lives in the statuses themselves: whether a PodClique was once
 * scheduled, whether the set was Ready, a condition's lastTransitionTime
 * are read from the current status of the object, so the function needs
 * no state of its own and computing against its own output gives {}.
 *
 * Pure: no I/O, no clock (the caller gives now), no globals, no threads.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include "groved/gv_buf.h"
#include "groved/gv_json.h"
#include "groved/reconcile.h"
#include "rec_int.h"

/* A condition message: bounded (metav1.Condition allows 32768). */
#define MSG_MAX 8192
/* Things a message names before "and N more". */
#define WHY_MAX 5
/* Bytes of a scheduler's message quoted. */
#define QUOTE_MAX 300

#define C_SCHEDULED "PodCliqueScheduled"
#define C_BREACHED "MinAvailableBreached"
#define C_INITIALIZED "Initialized"
#define C_READY "Ready"
#define C_DEGRADED "Degraded"
#define C_TOPOLOGY "TopologyLevelsUnavailable"
#define C_UPDATE "UpdateInProgress"

#define R_PAUSED "Paused"

/* One planned PodClique and what is observed of it. */
typedef struct pclq_st {
	const char *name;
	const json_t *obs; /* borrowed: the observed PodClique, or NULL */
	const char *pcsg; /* its group's PodCliqueScalingGroup, or NULL */
	int64_t unit; /* j within the group; -1 standalone */
	int64_t replicas; /* planned spec.replicas */
	int64_t min_available;
	const char *hash; /* planned grove.io/pod-template-hash */
	int64_t set_index; /* grove.io/podcliqueset-replica-index; -1 */
	const json_t *starts_after; /* planned spec.startsAfter, or NULL */
	/* pods of ours, not terminating */
	int64_t pods, ready, scheduled, gated, updated;
	int64_t outdated; /* on another template than hash */
	int64_t leaving; /* terminating pods on another template */
	int64_t starting; /* scheduled, not Ready, nothing failed yet */
	int64_t initc; /* of those, waiting in grove-initc */
	int64_t failing; /* scheduled, a container exited with an error */
	int64_t not_ready; /* scheduled, containers started, not Ready */
	int64_t finished; /* phase Failed or Succeeded */
	int64_t unscheduled; /* not gated, not scheduled, not finished */
	const char *gang; /* grove.io/podgang of a gated pod */
	const char *why_unscheduled; /* a PodScheduled=False message */
	bool paused; /* spec.replicas 0 */
	bool sched_ok; /* scheduled >= minAvailable */
	bool available; /* ready >= minAvailable */
	bool breached; /* MinAvailableBreached True */
	bool all_updated; /* updated >= replicas, none outdated */
	bool rolling; /* a RollingRecreate rollout is updating its pods */
} pclq_st;

/* One planned PodCliqueScalingGroup. */
typedef struct pcsg_st {
	const char *name;
	const json_t *obs;
	int64_t replicas; /* units, planned spec.replicas */
	int64_t min_available;
	size_t n_names; /* cliqueNames */
	int64_t scheduled, available, updated, not_in_breach;
	bool paused;
	bool ok; /* paused, or available >= minAvailable */
} pcsg_st;

/* The rollout as this round sees it (docs/api.md 7.1): the plan's
 * report, or what the observed pods say when there is none. */
typedef struct roll_st {
	const json_t *report; /* borrowed: plan->rollout, or NULL */
	bool active; /* a pod of ours runs another template */
	bool on_delete; /* updateStrategy OnDelete */
	const char *strategy; /* "RollingRecreate" or "OnDelete" */
	int64_t replica; /* the set replica being rolled, or -1 */
	const char *component; /* its PodClique or group, or NULL */
	const char *held; /* progressDeadline exceeded: why, or NULL */
	const char *waiting; /* what the rollout waits for, or NULL */
	int64_t pods; /* pods of ours in planned PodCliques, not
			 terminating */
	int64_t outdated; /* of those, on another template */
	int64_t leaving; /* terminating pods on another template */
} roll_st;

typedef struct st_ctx {
	const rec_status_input *in;
	const char *pcs;
	pclq_st *cliques;
	size_t n_cliques;
	pcsg_st *groups;
	size_t n_groups;
	json_t *clique_ix; /* owned: PodClique name -> index */
	json_t *group_ix; /* owned: group name -> index */
	json_t *obs_pclq; /* owned: name -> observed PodClique of ours */
	json_t *obs_pcsg;
	json_t *obs_gang;
	json_t *pods; /* owned: name -> observed pod of ours */
	json_t *out; /* owned until returned */
	roll_st roll;
	int rc;
} st_ctx;

/* ---- small readers ---------------------------------------------------- */

static const json_t *get(const json_t *o, const char *a, const char *b)
{
	const json_t *v = json_object_get(o, a);

	return b ? json_object_get(v, b) : v;
}

static const char *str(const json_t *o, const char *a, const char *b)
{
	return json_string_value(get(o, a, b));
}

static bool eq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

static int64_t int_of(const json_t *v, int64_t dflt)
{
	return json_is_integer(v) ? json_integer_value(v) : dflt;
}

static bool ours(const json_t *o, const char *pcs)
{
	return eq(rec_label(o, POL_LABEL_MANAGED_BY), POL_MANAGED_BY) &&
	       eq(rec_label(o, POL_LABEL_PART_OF), pcs);
}

static bool terminating(const json_t *o)
{
	const json_t *d = get(o, "metadata", "deletionTimestamp");

	return d && !json_is_null(d);
}

/* The condition of type in an array of conditions, or NULL. */
static const json_t *condition(const json_t *conds, const char *type)
{
	const json_t *c = NULL;
	size_t x = 0;

	json_array_foreach(conds, x, c)
	{
		if (eq(str(c, "type", NULL), type))
			return c;
	}
	return NULL;
}

static bool cond_is(const json_t *conds, const char *type, const char *status)
{
	return eq(str(condition(conds, type), "status", NULL), status);
}

static const json_t *status_conditions(const json_t *o)
{
	return get(o, "status", "conditions");
}

/* ---- builders; the first failure sticks in c->rc ---------------------- */

static void put(st_ctx *c, json_t *obj, const char *key, json_t *val)
{
	gv_json_put(obj, key, val, &c->rc);
}

static void push(st_ctx *c, json_t *arr, json_t *val)
{
	gv_json_push(arr, val, &c->rc);
}

/* A message's text: what fit when it grew past MSG_MAX (the bounded
 * parts make that unlikely), NULL with c->rc set when out of memory. */
static const char *msg_text(st_ctx *c, const gv_buf *b)
{
	if (gv_buf_rc(b) == GV_ENOMEM) {
		if (c->rc == GV_OK)
			c->rc = GV_ENOMEM;
		return NULL;
	}
	return gv_buf_str(b);
}

/* {type, status, reason, message}: a new reference (lastTransitionTime
 * is merge_conditions'). */
static json_t *cond(st_ctx *c, const char *type, const char *status,
		    const char *reason, const char *message)
{
	json_t *o = json_object();

	put(c, o, "type", json_string(type));
	put(c, o, "status", json_string(status));
	put(c, o, "reason", json_string(reason));
	put(c, o, "message", json_string(message ? message : ""));
	return o;
}

/*
 * The conditions array of a new status: prev's conditions in their
 * order, those of an owned type replaced by want's of that type or
 * dropped when want has none; then want's of a type prev lacks, in
 * want's order. A condition whose status is prev's keeps prev's
 * lastTransitionTime, else gets now. want is stolen. A new reference.
 */
static json_t *merge_conditions(st_ctx *c, const json_t *prev, json_t *want,
				const char *const *owned)
{
	json_t *outc = json_array();
	const json_t *p = NULL;
	json_t *w = NULL;
	size_t x = 0;

	json_array_foreach(want, x, w)
	{
		const json_t *old = condition(prev, str(w, "type", NULL));
		const json_t *t = json_object_get(old, "lastTransitionTime");

		if (old &&
		    eq(str(old, "status", NULL), str(w, "status", NULL)) &&
		    json_is_string(t))
			put(c, w, "lastTransitionTime",
			    json_incref((json_t *)t));
		else
			put(c, w, "lastTransitionTime",
			    json_string(c->in->now));
	}
	json_array_foreach(prev, x, p)
	{
		const char *type = str(p, "type", NULL);
		bool mine = false;
		size_t k = 0;

		for (k = 0; owned[k]; k++)
			mine = mine || eq(type, owned[k]);
		if (!mine) {
			push(c, outc, json_deep_copy(p));
			continue;
		}
		w = (json_t *)condition(want, type);
		if (w && !condition(outc, type))
			push(c, outc, json_incref(w));
	}
	json_array_foreach(want, x, w)
	{
		if (!condition(outc, str(w, "type", NULL)))
			push(c, outc, json_incref(w));
	}
	json_decref(want);
	return outc;
}

/* A new status: a copy of o's current one (members groved does not own
 * are kept), with observedGeneration from metadata.generation when
 * with_generation. */
static json_t *status_base(st_ctx *c, const json_t *o, bool with_generation)
{
	const json_t *cur = json_object_get(o, "status");
	const json_t *gen = get(o, "metadata", "generation");
	json_t *s = json_is_object(cur) ? json_deep_copy(cur) : json_object();

	if (!s && c->rc == GV_OK)
		c->rc = GV_ENOMEM;
	if (with_generation && json_is_integer(gen))
		put(c, s, "observedGeneration", json_incref((json_t *)gen));
	return s;
}

/* Removes key from obj, a copy of prev's members. The worker writes a
 * status as a JSON merge patch (RFC 7386), where an absent member is
 * kept: one that prev has becomes a null, which removes it. A status
 * holds a null only where it differs from the object's current one, and
 * after the write the object holds it without, so computing again gives
 * no change. */
static void drop(st_ctx *c, json_t *obj, const json_t *prev, const char *key)
{
	if (json_object_get(prev, key))
		put(c, obj, key, json_null());
	else if (obj)
		json_object_del(obj, key);
}

/* Adds "<kind>/<name>": s (stolen) to the output unless it equals o's
 * current status. */
static void emit(st_ctx *c, const char *kind, const char *name, const json_t *o,
		 json_t *s)
{
	char key[512];

	if (c->rc != GV_OK || !s) {
		json_decref(s);
		return;
	}
	if (json_equal(s, json_object_get(o, "status"))) {
		json_decref(s);
		return;
	}
	snprintf(key, sizeof(key), "%s/%s", kind, name);
	put(c, c->out, key, s);
}

/* ---- indexing --------------------------------------------------------- */

/* name -> object, for the objects of list (borrowed) that are ours. */
static json_t *index_ours(st_ctx *c, const json_t *list)
{
	json_t *ix = json_object();
	const json_t *o = NULL;
	size_t x = 0;

	if (!ix) {
		c->rc = GV_ENOMEM;
		return NULL;
	}
	json_array_foreach(list, x, o)
	{
		const char *n = str(o, "metadata", "name");

		if (n && ours(o, c->pcs) &&
		    json_object_set(ix, n, (json_t *)o) != 0)
			c->rc = GV_ENOMEM;
	}
	return ix;
}

static void index_plan(st_ctx *c)
{
	const json_t *item = NULL;
	size_t x = 0;
	size_t n_pclq = 0;
	size_t n_pcsg = 0;

	json_array_foreach(c->in->plan->items, x, item)
	{
		const char *k =
		    str(json_object_get(item, "object"), "kind", NULL);

		n_pclq += eq(k, "PodClique");
		n_pcsg += eq(k, "PodCliqueScalingGroup");
	}
	c->cliques = calloc(n_pclq + 1, sizeof(*c->cliques));
	c->groups = calloc(n_pcsg + 1, sizeof(*c->groups));
	c->clique_ix = json_object();
	c->group_ix = json_object();
	if (!c->cliques || !c->groups || !c->clique_ix || !c->group_ix) {
		c->rc = GV_ENOMEM;
		return;
	}
	json_array_foreach(c->in->plan->items, x, item)
	{
		const json_t *o = json_object_get(item, "object");
		const char *k = str(o, "kind", NULL);
		const char *name = str(o, "metadata", "name");
		const json_t *spec = json_object_get(o, "spec");

		if (!name || c->rc != GV_OK)
			continue;
		if (eq(k, "PodClique")) {
			pclq_st *q = &c->cliques[c->n_cliques];

			q->name = name;
			q->obs = json_object_get(c->obs_pclq, name);
			q->pcsg = rec_label(o, POL_LABEL_PCSG);
			q->unit =
			    q->pcsg
				? rec_parse_index(
				      rec_label(o, POL_LABEL_PCSG_INDEX), NULL)
				: -1;
			q->replicas =
			    int_of(json_object_get(spec, "replicas"), 0);
			q->min_available =
			    int_of(json_object_get(spec, "minAvailable"), 1);
			q->hash = rec_label(o, POL_LABEL_TEMPLATE_HASH);
			q->set_index = rec_parse_index(
			    rec_label(o, POL_LABEL_PCS_INDEX), NULL);
			q->starts_after = json_object_get(spec, "startsAfter");
			q->paused = q->replicas == 0;
			if (json_object_set_new(
				c->clique_ix, name,
				json_integer((json_int_t)c->n_cliques)))
				c->rc = GV_ENOMEM;
			c->n_cliques++;
		} else if (eq(k, "PodCliqueScalingGroup")) {
			pcsg_st *g = &c->groups[c->n_groups];

			g->name = name;
			g->obs = json_object_get(c->obs_pcsg, name);
			g->replicas =
			    int_of(json_object_get(spec, "replicas"), 0);
			g->min_available =
			    int_of(json_object_get(spec, "minAvailable"), 1);
			g->n_names = json_array_size(
			    json_object_get(spec, "cliqueNames"));
			g->paused = g->replicas == 0;
			if (json_object_set_new(
				c->group_ix, name,
				json_integer((json_int_t)c->n_groups)))
				c->rc = GV_ENOMEM;
			c->n_groups++;
		}
	}
}

/* ---- pods ------------------------------------------------------------- */

static bool pod_ready(const json_t *pod)
{
	return cond_is(status_conditions(pod), "Ready", "True");
}

/* A container of pod exited with an error (now or last time). */
static bool pod_erroneous(const json_t *pod)
{
	static const char *const lists[] = { "containerStatuses",
					     "initContainerStatuses" };
	size_t l = 0;

	for (l = 0; l < 2; l++) {
		const json_t *s = NULL;
		size_t x = 0;

		json_array_foreach(get(pod, "status", lists[l]), x, s)
		{
			const json_t *now = get(json_object_get(s, "state"),
						"terminated", "exitCode");
			const json_t *last =
			    get(json_object_get(s, "lastState"), "terminated",
				"exitCode");

			if (int_of(now, 0) != 0 || int_of(last, 0) != 0)
				return true;
		}
	}
	return false;
}

/* A container of pod started and is not Ready. */
static bool pod_started_not_ready(const json_t *pod)
{
	const json_t *s = NULL;
	size_t x = 0;

	json_array_foreach(get(pod, "status", "containerStatuses"), x, s)
	{
		if (json_is_true(json_object_get(s, "started")) &&
		    !json_is_true(json_object_get(s, "ready")))
			return true;
	}
	return false;
}

/* pod's grove-initc has not finished: it waits for the parents. */
static bool pod_in_initc(const json_t *pod)
{
	const json_t *s = NULL;
	size_t x = 0;

	json_array_foreach(get(pod, "status", "initContainerStatuses"), x, s)
	{
		if (eq(str(s, "name", NULL), POL_INITC_NAME))
			return !get(s, "state", "terminated");
	}
	return false;
}

/* A PodScheduled=False condition's message, or NULL. */
static const char *unschedulable_message(const json_t *pod)
{
	const json_t *cnd = condition(status_conditions(pod), "PodScheduled");

	if (!eq(str(cnd, "status", NULL), "False"))
		return NULL;
	return str(cnd, "message", NULL);
}

static void count_pod(st_ctx *c, const json_t *pod)
{
	const json_t *ix =
	    json_object_get(c->clique_ix, rec_label(pod, POL_LABEL_PCLQ));
	const char *phase = str(pod, "status", "phase");
	const char *node = str(pod, "spec", "nodeName");
	bool finished = eq(phase, "Failed") || eq(phase, "Succeeded");
	bool gated = json_array_size(get(pod, "spec", "schedulingGates")) > 0;
	bool scheduled = node && *node && !finished;
	bool ready = !finished && pod_ready(pod);
	pclq_st *q = NULL;
	bool current = false;

	if (!ix)
		return;
	q = &c->cliques[json_integer_value(ix)];
	/* no planned hash: nothing to compare with, nothing outdated */
	current =
	    !q->hash || eq(rec_label(pod, POL_LABEL_TEMPLATE_HASH), q->hash);
	if (terminating(pod)) {
		q->leaving += !current;
		return;
	}
	q->pods++;
	if (current && q->hash)
		q->updated++;
	q->outdated += !current;
	if (gated) {
		q->gated++;
		if (!q->gang)
			q->gang = rec_label(pod, POL_LABEL_PODGANG);
	}
	if (scheduled)
		q->scheduled++;
	if (ready) {
		q->ready++;
	} else if (finished) {
		q->finished++;
	} else if (scheduled) {
		if (pod_erroneous(pod)) {
			q->failing++;
		} else if (pod_started_not_ready(pod)) {
			q->not_ready++;
		} else {
			q->starting++;
			q->initc += pod_in_initc(pod);
		}
	} else if (!gated) {
		q->unscheduled++;
		if (!q->why_unscheduled)
			q->why_unscheduled = unschedulable_message(pod);
	}
}

static void index_pods(st_ctx *c)
{
	const json_t *pod = NULL;
	size_t x = 0;

	c->pods = json_object();
	if (!c->pods) {
		c->rc = GV_ENOMEM;
		return;
	}
	json_array_foreach(c->in->observed ? c->in->observed->pods : NULL, x,
			   pod)
	{
		const char *n = str(pod, "metadata", "name");

		if (!n || !ours(pod, c->pcs))
			continue;
		if (json_object_set(c->pods, n, (json_t *)pod) != 0)
			c->rc = GV_ENOMEM;
		count_pod(c, pod);
	}
}

/* ---- the rollout ------------------------------------------------------ */

/* Whether the set's status has a progress toward the plan's template
 * that has not ended. */
static bool open_progress(const st_ctx *c)
{
	const json_t *pup = get(c->in->set, "status", "updateProgress");

	return json_is_object(pup) &&
	       eq(str(pup, "podCliqueSetGenerationHash", NULL),
		  c->in->plan->template_hash) &&
	       !str(pup, "updateEndedAt", NULL);
}

/*
 * The rollout as this round sees it: the plan's report (rec_plan.rollout)
 * when there is one; else from the pods: active while a pod of ours, not
 * terminating, runs another template than its PodClique's, the lowest
 * set replica with such a pod being rolled. Then which PodCliques a
 * RollingRecreate rollout is updating: those with pods on another
 * template (terminating ones too: their replacements are to come) and
 * the component the report names.
 */
static void roll_read(st_ctx *c)
{
	roll_st *r = &c->roll;
	const json_t *rep = c->in->plan->rollout;
	int64_t lowest = -1;
	size_t x = 0;

	r->report = json_is_object(rep) ? rep : NULL;
	for (x = 0; x < c->n_cliques; x++) {
		const pclq_st *q = &c->cliques[x];

		r->pods += q->pods;
		r->outdated += q->outdated;
		r->leaving += q->leaving;
		if (q->outdated && q->set_index >= 0 &&
		    (lowest < 0 || q->set_index < lowest))
			lowest = q->set_index;
	}
	r->strategy = str(r->report, "strategy", NULL);
	if (!eq(r->strategy, "OnDelete") && !eq(r->strategy, "RollingRecreate"))
		r->strategy =
		    c->in->pcs->on_delete ? "OnDelete" : "RollingRecreate";
	r->on_delete = eq(r->strategy, "OnDelete");
	if (r->report) {
		r->active = json_is_true(json_object_get(r->report, "active"));
		r->replica =
		    int_of(json_object_get(r->report, "replicaIndex"), -1);
		r->component = str(r->report, "component", NULL);
		r->held = str(r->report, "held", NULL);
		r->waiting = str(r->report, "waiting", NULL);
	} else {
		r->active = r->outdated > 0;
		r->replica = lowest;
	}
	/* nothing outdated, but the rollout's last replacements are not
	 * all available yet: still rolling (its progress stays open) */
	if (!r->active && r->report && !r->on_delete && r->component &&
	    open_progress(c))
		r->active = true;
	if (!r->active) {
		r->replica = -1;
		r->component = r->held = r->waiting = NULL;
	}
	for (x = 0; x < c->n_cliques; x++) {
		pclq_st *q = &c->cliques[x];

		q->rolling =
		    r->active && !r->on_delete &&
		    (q->outdated > 0 || q->leaving > 0 ||
		     eq(r->component, q->name) || eq(r->component, q->pcsg));
	}
}

/* ---- why: a clique's state in a user's words -------------------------- */

static void add_count(gv_buf *b, int64_t n, const char *what)
{
	gv_buf_printf(b, "; %" PRId64 " %s %s", n, n == 1 ? "pod" : "pods",
		      what);
}

/* "PodClique x has R of N Ready pods, minAvailable M; ..." into b. */
static void clique_why(const pclq_st *q, gv_buf *b)
{
	if (!q->obs) {
		gv_buf_printf(b, "PodClique %s is not created yet", q->name);
		return;
	}
	if (q->paused) {
		gv_buf_printf(b, "PodClique %s is paused (spec.replicas 0)",
			      q->name);
		return;
	}
	gv_buf_printf(b,
		      "PodClique %s has %" PRId64 " of %" PRId64
		      " Ready pods, minAvailable %" PRId64,
		      q->name, q->ready, q->replicas, q->min_available);
	if (q->pods < q->replicas)
		add_count(b, q->replicas - q->pods, "missing");
	if (q->gated) {
		add_count(b, q->gated, "");
		gv_buf_truncate(b, b->len - 1);
		gv_buf_printf(b,
			      " gated until PodGang %s exists and may be "
			      "scheduled",
			      q->gang ? q->gang : "(unnamed)");
	}
	if (q->unscheduled) {
		add_count(b, q->unscheduled, "not scheduled");
		if (q->why_unscheduled) {
			size_t n = strlen(q->why_unscheduled);

			if (n > QUOTE_MAX)
				n = gv_utf8_cut(q->why_unscheduled, QUOTE_MAX);
			gv_buf_addstr(b, ": ");
			gv_buf_add(b, q->why_unscheduled, n);
			if (n < strlen(q->why_unscheduled))
				gv_buf_addstr(b, "...");
		}
	}
	if (q->initc) {
		const json_t *p = NULL;
		size_t x = 0;

		add_count(b, q->initc, "waiting for");
		json_array_foreach(q->starts_after, x, p)
		{
			gv_buf_printf(b, "%s PodClique %s", x ? "," : "",
				      json_string_value(p));
		}
		if (!json_array_size(q->starts_after))
			gv_buf_addstr(b, " their parents");
		gv_buf_addstr(b, " (startsAfter)");
	}
	if (q->starting - q->initc > 0)
		add_count(b, q->starting - q->initc, "starting");
	if (q->not_ready)
		add_count(b, q->not_ready, "running but not Ready");
	if (q->failing)
		add_count(b, q->failing,
			  "failing (a container exited with an "
			  "error)");
	if (q->finished)
		add_count(b, q->finished, "Failed or Succeeded");
}

/* A list of at most WHY_MAX items, then "and N more". */
typedef struct why_list {
	gv_buf b;
	size_t n;
} why_list;

static void why_clique(why_list *w, const pclq_st *q)
{
	if (w->n++ >= WHY_MAX)
		return;
	if (w->b.len)
		gv_buf_addstr(&w->b, "; ");
	clique_why(q, &w->b);
}

static void why_text(why_list *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void why_text(why_list *w, const char *fmt, ...)
{
	va_list ap;

	if (w->n++ >= WHY_MAX)
		return;
	if (w->b.len)
		gv_buf_addstr(&w->b, "; ");
	va_start(ap, fmt);
	gv_buf_vprintf(&w->b, fmt, ap);
	va_end(ap);
}

static void why_end(why_list *w)
{
	if (w->n > WHY_MAX)
		gv_buf_printf(&w->b, "; and %zu more", w->n - WHY_MAX);
}

/* ---- PodClique -------------------------------------------------------- */

static const char *const pclq_owned[] = { C_SCHEDULED, C_BREACHED, NULL };

static void clique_status(st_ctx *c, pclq_st *q)
{
	const json_t *prev = status_conditions(q->obs);
	/* a breach counts only once the clique was scheduled (api.md 7):
	 * remembered by the conditions last written (after a rollout took
	 * it below, its replacements count from their own scheduling, as a
	 * recreated PodClique's do) */
	bool once = cond_is(prev, C_SCHEDULED, "True") ||
		    cond_is(prev, C_BREACHED, "True");
	int64_t avail = q->ready + q->starting;
	gv_buf m1 = GV_BUF_INIT(MSG_MAX);
	gv_buf m2 = GV_BUF_INIT(MSG_MAX);
	json_t *want = json_array();
	json_t *s = NULL;

	q->sched_ok = !q->paused && q->scheduled >= q->min_available;
	q->available = !q->paused && q->ready >= q->min_available;
	q->all_updated = q->updated >= q->replicas && q->outdated == 0;
	if (!q->obs)
		goto out;
	if (q->paused) {
		gv_buf_printf(&m1,
			      "PodClique %s is paused (spec.replicas 0): no "
			      "pod to schedule; scale it up to resume",
			      q->name);
		push(c, want,
		     cond(c, C_SCHEDULED, "False", R_PAUSED, msg_text(c, &m1)));
		push(c, want,
		     cond(c, C_BREACHED, "False", R_PAUSED, msg_text(c, &m1)));
	} else {
		gv_buf_printf(&m1,
			      "PodClique %s has %" PRId64 " of %" PRId64
			      " pods scheduled, minAvailable %" PRId64,
			      q->name, q->scheduled, q->replicas,
			      q->min_available);
		if (!q->sched_ok && q->gated)
			add_count(&m1, q->gated,
				  "gated until their PodGang may be scheduled");
		push(c, want,
		     cond(c, C_SCHEDULED, q->sched_ok ? "True" : "False",
			  q->sched_ok ? "SufficientScheduledPods"
				      : "InsufficientScheduledPods",
			  msg_text(c, &m1)));
		clique_why(q, &m2);
		if ((q->scheduled < q->min_available ||
		     avail < q->min_available) &&
		    q->rolling) {
			/* below minAvailable because its pods are being
			 * recreated on the current template: no breach, so
			 * the recreation after terminationDelay (True only)
			 * never fires because of a rollout */
			gv_buf_addstr(&m2, "; its pods are being updated to "
					   "the current template "
					   "(RollingRecreate)");
			push(c, want,
			     cond(c, C_BREACHED, "Unknown", "UpdateInProgress",
				  msg_text(c, &m2)));
		} else if (q->scheduled < q->min_available && !once) {
			gv_buf_addstr(&m2, "; not scheduled yet, so not "
					   "breached");
			push(c, want,
			     cond(c, C_BREACHED, "False",
				  "InsufficientScheduledPods",
				  msg_text(c, &m2)));
		} else if (q->scheduled < q->min_available) {
			q->breached = true;
			gv_buf_printf(&m2,
				      "; %" PRId64 " scheduled, below "
				      "minAvailable %" PRId64,
				      q->scheduled, q->min_available);
			push(c, want,
			     cond(c, C_BREACHED, "True",
				  "ScheduledReplicasBelowMinAvailable",
				  msg_text(c, &m2)));
		} else if (avail < q->min_available) {
			q->breached = true;
			push(c, want,
			     cond(c, C_BREACHED, "True",
				  "InsufficientReadyPods", msg_text(c, &m2)));
		} else {
			push(c, want,
			     cond(c, C_BREACHED, "False", "SufficientReadyPods",
				  msg_text(c, &m2)));
		}
	}
	s = status_base(c, q->obs, true);
	put(c, s, "replicas", json_integer(q->pods));
	put(c, s, "readyReplicas", json_integer(q->ready));
	put(c, s, "scheduledReplicas", json_integer(q->scheduled));
	put(c, s, "scheduleGatedReplicas", json_integer(q->gated));
	put(c, s, "updatedReplicas", json_integer(q->updated));
	if (!q->pcsg) {
		gv_buf sel = GV_BUF_INIT(MSG_MAX);

		gv_buf_printf(&sel, "%s=%s,%s=%s,%s=%s", POL_LABEL_MANAGED_BY,
			      POL_MANAGED_BY, POL_LABEL_PART_OF, c->pcs,
			      POL_LABEL_PCLQ, q->name);
		put(c, s, "hpaPodSelector", json_string(msg_text(c, &sel)));
		gv_buf_release(&sel);
	} else if (s) {
		json_object_del(s, "hpaPodSelector");
	}
	put(c, s, "conditions",
	    merge_conditions(c, prev, json_incref(want), pclq_owned));
	emit(c, "PodClique", q->name, q->obs, s);
	s = NULL;
out:
	json_decref(want);
	gv_buf_release(&m1);
	gv_buf_release(&m2);
}

/* ---- PodCliqueScalingGroup -------------------------------------------- */

typedef struct unit_st {
	size_t seen; /* its PodCliques observed */
	size_t planned;
	bool unscheduled, unavailable, outdated, breached;
} unit_st;

static const char *const pcsg_owned[] = { C_BREACHED, NULL };

static void group_status(st_ctx *c, pcsg_st *g)
{
	unit_st *u = NULL;
	gv_buf m = GV_BUF_INIT(MSG_MAX);
	why_list w = { .b = GV_BUF_INIT(MSG_MAX), .n = 0 };
	json_t *want = json_array();
	json_t *s = NULL;
	size_t x = 0;
	int64_t j = 0;

	u = g->replicas > 0 ? calloc((size_t)g->replicas, sizeof(*u)) : NULL;
	if (g->replicas > 0 && !u) {
		c->rc = GV_ENOMEM;
		goto out;
	}
	for (x = 0; x < c->n_cliques; x++) {
		const pclq_st *q = &c->cliques[x];

		if (!eq(q->pcsg, g->name) || q->unit < 0 ||
		    q->unit >= g->replicas)
			continue;
		u[q->unit].planned++;
		u[q->unit].seen += q->obs != NULL;
		u[q->unit].outdated |= !q->obs || !q->all_updated;
		u[q->unit].breached |= q->breached;
		if (q->paused && q->obs)
			continue;
		u[q->unit].unscheduled |= !q->sched_ok;
		u[q->unit].unavailable |= !q->available;
		if (!q->available)
			why_clique(&w, q);
	}
	for (j = 0; j < g->replicas; j++) {
		bool complete = u[j].seen == u[j].planned && u[j].planned > 0;

		g->scheduled += complete && !u[j].unscheduled;
		g->available +=
		    complete && !u[j].unscheduled && !u[j].unavailable;
		/* as upstream: an updated unit is an available one */
		g->updated += complete && !u[j].unscheduled &&
			      !u[j].unavailable && !u[j].outdated;
		g->not_in_breach += complete && !u[j].breached;
	}
	g->ok = g->paused || g->available >= g->min_available;
	if (!g->obs)
		goto out;
	why_end(&w);
	if (g->paused) {
		gv_buf_printf(&m,
			      "PodCliqueScalingGroup %s is paused "
			      "(spec.replicas 0); scale it up to resume",
			      g->name);
		push(c, want,
		     cond(c, C_BREACHED, "False", R_PAUSED, msg_text(c, &m)));
	} else {
		bool breached = g->not_in_breach < g->min_available;

		gv_buf_printf(&m,
			      "PodCliqueScalingGroup %s has %" PRId64
			      " of %" PRId64 " units not in breach (%" PRId64
			      " available), minAvailable %" PRId64,
			      g->name, g->not_in_breach, g->replicas,
			      g->available, g->min_available);
		if (w.b.len)
			gv_buf_printf(&m, ": %s", gv_buf_str(&w.b));
		push(c, want,
		     cond(c, C_BREACHED, breached ? "True" : "False",
			  breached ? "InsufficientAvailablePodCliqueScalingGrou"
				     "pReplicas"
				   : "SufficientAvailablePodCliqueScalingGroupR"
				     "eplicas",
			  msg_text(c, &m)));
	}
	s = status_base(c, g->obs, true);
	put(c, s, "replicas", json_integer(g->replicas));
	put(c, s, "scheduledReplicas", json_integer(g->scheduled));
	put(c, s, "availableReplicas", json_integer(g->available));
	put(c, s, "updatedReplicas", json_integer(g->updated));
	{
		gv_buf sel = GV_BUF_INIT(MSG_MAX);

		gv_buf_printf(&sel, "%s=%s,%s=%s,%s=%s", POL_LABEL_MANAGED_BY,
			      POL_MANAGED_BY, POL_LABEL_PART_OF, c->pcs,
			      POL_LABEL_PCSG, g->name);
		put(c, s, "selector", json_string(msg_text(c, &sel)));
		gv_buf_release(&sel);
	}
	put(c, s, "conditions",
	    merge_conditions(c, status_conditions(g->obs), json_incref(want),
			     pcsg_owned));
	emit(c, "PodCliqueScalingGroup", g->name, g->obs, s);
out:
	free(u);
	json_decref(want);
	gv_buf_release(&m);
	gv_buf_release(&w.b);
}

/* ---- PodGang ---------------------------------------------------------- */

static const char *const gang_owned[] = { C_INITIALIZED, NULL };

static void gang_status(st_ctx *c, const json_t *planned)
{
	const char *name = str(planned, "metadata", "name");
	const json_t *obs = json_object_get(c->obs_gang, name);
	const json_t *pg = NULL;
	gv_buf m = GV_BUF_INIT(MSG_MAX);
	json_t *want = NULL;
	json_t *s = NULL;
	size_t listed = 0;
	size_t n = 0, exist = 0, scheduled = 0, running = 0;
	size_t x = 0;

	if (!obs || !name)
		return;
	want = json_array();
	json_array_foreach(get(planned, "spec", "podgroups"), x, pg)
	{
		const json_t *r = NULL;
		size_t k = 0;

		json_array_foreach(json_object_get(pg, "podReferences"), k, r)
		{
			const char *pn = str(r, "name", NULL);
			const json_t *pod = json_object_get(c->pods, pn);
			const char *node = str(pod, "spec", "nodeName");

			n++;
			if (!pod) {
				if (listed++ < WHY_MAX)
					gv_buf_printf(&m, "%s%s",
						      listed > 1 ? ", " : "",
						      pn ? pn : "?");
				continue;
			}
			exist++;
			if (terminating(pod))
				continue;
			scheduled += node && *node;
			running += node && *node &&
				   eq(str(pod, "status", "phase"), "Running");
		}
	}
	if (exist == n) {
		gv_buf_reset(&m);
		gv_buf_printf(&m, "all %zu pods of PodGang %s exist", n, name);
		push(c, want,
		     cond(c, C_INITIALIZED, "True", "PodGangPodsCreated",
			  msg_text(c, &m)));
	} else {
		gv_buf text = GV_BUF_INIT(MSG_MAX);

		gv_buf_printf(&text,
			      "%zu of %zu pods of PodGang %s created; waiting "
			      "for %s%s",
			      exist, n, name, gv_buf_str(&m),
			      listed > WHY_MAX ? " and more" : "");
		push(c, want,
		     cond(c, C_INITIALIZED, "False",
			  "PodGangPodsCreationPending", msg_text(c, &text)));
		gv_buf_release(&text);
	}
	s = status_base(c, obs, false);
	put(c, s, "phase",
	    json_string(running == n	? "Running"
			: scheduled > 0 ? "Starting"
					: "Pending"));
	put(c, s, "conditions",
	    merge_conditions(c, status_conditions(obs), want, gang_owned));
	emit(c, "PodGang", name, obs, s);
	gv_buf_release(&m);
}

/* ---- PodCliqueSet ----------------------------------------------------- */

static const char *const pcs_owned[] = { C_READY,
					 C_DEGRADED,
					 C_TOPOLOGY,
					 REC_CONDITION_CLAIMS,
					 REC_CONDITION_PAUSED,
					 C_UPDATE,
					 NULL };

static const pclq_st *find_clique(const st_ctx *c, const char *name)
{
	const json_t *ix = json_object_get(c->clique_ix, name);

	return ix ? &c->cliques[json_integer_value(ix)] : NULL;
}

static const pcsg_st *find_group(const st_ctx *c, const char *name)
{
	const json_t *ix = json_object_get(c->group_ix, name);

	return ix ? &c->groups[json_integer_value(ix)] : NULL;
}

/* The ClusterTopologyBinding the set names: topologyName written once
 * anywhere (inherited), else POL_DEFAULT_TOPOLOGY. NULL: the set uses
 * no topology. */
static const char *topology_name(const pol_pcs *pcs)
{
	const char *name = NULL;
	bool used = json_is_object(pcs->topology);
	size_t x = 0;

	name = str(pcs->topology, "topologyName", NULL);
	for (x = 0; x < pcs->n_cliques; x++) {
		used = used || json_is_object(pcs->cliques[x].topology);
		if (!name)
			name =
			    str(pcs->cliques[x].topology, "topologyName", NULL);
	}
	for (x = 0; x < pcs->n_groups; x++) {
		used = used || json_is_object(pcs->groups[x].topology);
		if (!name)
			name =
			    str(pcs->groups[x].topology, "topologyName", NULL);
	}
	if (!used)
		return NULL;
	return name ? name : POL_DEFAULT_TOPOLOGY;
}

/* Set replicas: compact with groups has one copy (spec.replicas counts
 * units); otherwise spec.replicas copies. */
static int64_t set_copies(const pol_pcs *pcs)
{
	if (pcs->form == POL_FORM_COMPACT && pcs->n_groups > 0)
		return 1;
	return pcs->replicas;
}

/* Whether set replica i is available (every standalone PodClique has
 * its minAvailable Ready pods, every group its minAvailable units) and
 * updated (every pod and unit on the current template). */
static void replica_state(st_ctx *c, int64_t i, bool *avail, bool *updated)
{
	const pol_pcs *pcs = c->in->pcs;
	char name[512];
	size_t x = 0;

	*avail = true;
	*updated = true;
	for (x = 0; x < pcs->n_cliques; x++) {
		const pclq_st *q = NULL;

		if (pcs->cliques[x].group >= 0)
			continue;
		snprintf(name, sizeof(name), "%s-%" PRId64 "-%s", c->pcs, i,
			 pcs->cliques[x].name);
		q = find_clique(c, name);
		*avail = *avail && q && q->obs && (q->paused || q->available);
		*updated = *updated && q && q->obs && q->all_updated;
	}
	for (x = 0; x < pcs->n_groups; x++) {
		const pcsg_st *g = NULL;

		snprintf(name, sizeof(name), "%s-%" PRId64 "-%s", c->pcs, i,
			 pcs->groups[x].name);
		g = find_group(c, name);
		*avail = *avail && g && g->obs && g->ok;
		*updated = *updated && g && g->obs && g->updated >= g->replicas;
	}
	/* as upstream: an updated replica is an available one */
	*updated = *updated && *avail;
}

/* Compact form with groups: spec.replicas counts units, so available
 * and updated count units too: the fewest of any group, 0 while a
 * standalone PodClique is not available (not updated). */
static void compact_units(st_ctx *c, int64_t *available, int64_t *updated)
{
	int64_t ga = INT64_MAX, gu = INT64_MAX;
	bool st_av = true, st_up = true;
	size_t x = 0;

	for (x = 0; x < c->n_cliques; x++) {
		const pclq_st *q = &c->cliques[x];

		if (q->pcsg)
			continue;
		st_av = st_av && q->obs && (q->paused || q->available);
		st_up = st_up && q->obs && q->all_updated;
	}
	for (x = 0; x < c->n_groups; x++) {
		const pcsg_st *g = &c->groups[x];
		int64_t a = g->obs ? g->available : 0;
		int64_t u = g->obs ? g->updated : 0;

		ga = a < ga ? a : ga;
		gu = u < gu ? u : gu;
	}
	*available = st_av && ga != INT64_MAX ? ga : 0;
	*updated = st_up && st_av && gu != INT64_MAX ? gu : 0;
}

/* "N of P pods run an older template than H[; T more terminating]". */
static void roll_counts(const st_ctx *c, gv_buf *b)
{
	const roll_st *r = &c->roll;

	gv_buf_printf(b,
		      "%" PRId64 " of %" PRId64 " %s an older template than "
		      "%s",
		      r->outdated, r->pods,
		      r->pods == 1 ? "pod runs" : "pods run",
		      c->in->plan->template_hash);
	if (r->leaving)
		gv_buf_printf(b, ", and %" PRId64 " terminating %s on one",
			      r->leaving,
			      r->leaving == 1 ? "pod was" : "pods were");
}

/* The condition UpdateInProgress into want. */
static void update_condition(st_ctx *c, json_t *want)
{
	const roll_st *r = &c->roll;
	gv_buf m = GV_BUF_INIT(MSG_MAX);

	if (!r->active) {
		gv_buf_printf(&m, "every pod runs the current template %s",
			      c->in->plan->template_hash);
		push(c, want,
		     cond(c, C_UPDATE, "False", "UpdateComplete",
			  msg_text(c, &m)));
	} else if (r->held || r->waiting) {
		gv_buf_printf(&m, "%s; ", r->held ? r->held : r->waiting);
		roll_counts(c, &m);
		push(c, want,
		     cond(c, C_UPDATE, "True",
			  r->held ? "ProgressDeadlineExceeded" : "Waiting",
			  msg_text(c, &m)));
	} else if (r->on_delete) {
		roll_counts(c, &m);
		gv_buf_addstr(&m, "; updateStrategy OnDelete: groved recreates "
				  "none of them, and a pod deleted comes back "
				  "on the current template");
		push(c, want,
		     cond(c, C_UPDATE, "True", "OnDelete", msg_text(c, &m)));
	} else {
		roll_counts(c, &m);
		if (r->replica >= 0)
			gv_buf_printf(&m, "; updating set replica %" PRId64,
				      r->replica);
		if (r->replica >= 0 && r->component)
			gv_buf_printf(&m, ", %s", r->component);
		push(c, want,
		     cond(c, C_UPDATE, "True", "RollingRecreate",
			  msg_text(c, &m)));
	}
	gv_buf_release(&m);
}

/* PodCliques whose every pod runs the current template (none on another
 * one, none missing), and groups whose PodCliques all do. */
static void updated_counts(const st_ctx *c, int64_t *pclqs, int64_t *pcsgs)
{
	size_t x = 0, y = 0;

	*pclqs = 0;
	*pcsgs = 0;
	for (x = 0; x < c->n_cliques; x++)
		*pclqs += c->cliques[x].obs && c->cliques[x].all_updated;
	for (y = 0; y < c->n_groups; y++) {
		bool ok = c->groups[y].obs != NULL;

		for (x = 0; x < c->n_cliques && ok; x++) {
			const pclq_st *q = &c->cliques[x];

			if (eq(q->pcsg, c->groups[y].name))
				ok = q->obs && q->all_updated;
		}
		*pcsgs += ok;
	}
}

/*
 * The set's currentGenerationHash and updateProgress into s (a copy of
 * the current status), upstream's fields (docs/status.md, "Rollouts"):
 *
 *   - currentGenerationHash: the plan's template hash once no pod is
 *     outdated; kept (or absent) while some are;
 *   - updateProgress: a progress per template hash, started when pods
 *     are found outdated and there is no progress toward the plan's
 *     hash (a change during a rollout starts a new one), ended when no
 *     pod is; under OnDelete ended when it starts, as upstream. A
 *     change that outdates no pod (a fresh set; a revert to what every
 *     pod runs) starts none, or, after an earlier rollout, one that
 *     ends at once.
 *
 * Members to remove are nulls (drop): the worker's merge patch removes
 * them.
 */
static void update_progress(st_ctx *c, json_t *s)
{
	const roll_st *r = &c->roll;
	const char *hash = c->in->plan->template_hash;
	const char *now = c->in->now;
	const json_t *pup = get(c->in->set, "status", "updateProgress");
	const char *started = NULL;
	const char *k = NULL;
	const json_t *v = NULL;
	json_t *up = NULL;
	int64_t pclqs = 0, pcsgs = 0;
	bool fresh = false;

	if (!*hash)
		return;
	if (!json_is_object(pup))
		pup = NULL;
	if (!r->active)
		put(c, s, "currentGenerationHash", json_string(hash));
	if (!r->active && !pup)
		return;
	fresh = !pup || !eq(str(pup, "podCliqueSetGenerationHash", NULL), hash);
	up = fresh ? json_object() : json_deep_copy(pup);
	if (!up) {
		c->rc = GV_ENOMEM;
		return;
	}
	/* a new progress replaces every member of the old one */
	if (fresh && pup) {
		json_object_foreach((json_t *)pup, k, v)
		{
			put(c, up, k, json_null());
		}
	}
	started = fresh ? NULL : str(pup, "updateStartedAt", NULL);
	if (!started)
		started = now;
	updated_counts(c, &pclqs, &pcsgs);
	put(c, up, "updateStartedAt", json_string(started));
	put(c, up, "podCliqueSetGenerationHash", json_string(hash));
	put(c, up, "updatedPodCliquesCount", json_integer(pclqs));
	put(c, up, "totalPodCliquesCount",
	    json_integer((json_int_t)c->n_cliques));
	put(c, up, "updatedPodCliqueScalingGroupsCount", json_integer(pcsgs));
	put(c, up, "totalPodCliqueScalingGroupsCount",
	    json_integer((json_int_t)c->n_groups));
	if (r->active && r->on_delete) {
		put(c, up, "updateEndedAt", json_string(started));
	} else if (r->active) {
		drop(c, up, pup, "updateEndedAt");
	} else {
		const char *ended =
		    fresh ? NULL : str(pup, "updateEndedAt", NULL);

		put(c, up, "updateEndedAt", json_string(ended ? ended : now));
	}
	if (r->active && !r->on_delete && r->replica >= 0) {
		const char *since = NULL;
		const json_t *e = NULL;
		size_t x = 0;

		/* the same replica still rolled keeps its start */
		json_array_foreach(
		    fresh ? NULL : get(pup, "currentlyUpdating", NULL), x, e)
		{
			if (int_of(json_object_get(e, "replicaIndex"), -1) ==
			    r->replica)
				since = str(e, "updateStartedAt", NULL);
		}
		put(c, up, "currentlyUpdating",
		    json_pack("[{s:I, s:s}]", "replicaIndex",
			      (json_int_t)r->replica, "updateStartedAt",
			      since ? since : now));
	} else {
		drop(c, up, pup, "currentlyUpdating");
	}
	put(c, s, "updateProgress", up);
}

static void set_status(st_ctx *c)
{
	const json_t *set = c->in->set;
	const pol_pcs *pcs = c->in->pcs;
	const json_t *prev = status_conditions(set);
	bool ready_prev = cond_is(prev, C_READY, "True");
	bool degraded_prev = cond_is(prev, C_DEGRADED, "True");
	bool ready = true;
	bool dropped = false;
	bool any_scheduled = false;
	int64_t copies = set_copies(pcs);
	int64_t available = 0, updated = 0;
	int64_t r = 0, d = 0;
	why_list waits = { .b = GV_BUF_INIT(MSG_MAX), .n = 0 };
	why_list below = { .b = GV_BUF_INIT(MSG_MAX), .n = 0 };
	why_list rolled = { .b = GV_BUF_INIT(MSG_MAX), .n = 0 };
	why_list paused = { .b = GV_BUF_INIT(MSG_MAX), .n = 0 };
	gv_buf m = GV_BUF_INIT(MSG_MAX);
	const char *topo = topology_name(pcs);
	json_t *want = json_array();
	json_t *s = NULL;
	size_t x = 0;
	int64_t i = 0;

	/* counts and what keeps the set from Ready, clique by clique */
	for (x = 0; x < c->n_cliques; x++) {
		const pclq_st *q = &c->cliques[x];
		const pcsg_st *g = q->pcsg ? find_group(c, q->pcsg) : NULL;
		int64_t obs_ready =
		    int_of(get(q->obs, "status", "readyReplicas"), -1);

		d += q->replicas;
		r += q->ready < q->replicas ? q->ready : q->replicas;
		any_scheduled = any_scheduled || q->scheduled > 0;
		if (q->paused && q->obs) {
			why_text(&paused, "PodClique %s", q->name);
			continue;
		}
		if (q->available)
			continue;
		/* a PodClique a rollout is replacing is no degradation: its
		 * MinAvailableBreached is Unknown (UpdateInProgress) and
		 * UpdateInProgress says what happens */
		if (!q->rolling) {
			why_clique(&below, q);
			/* the last status written said it was available */
			dropped = dropped || obs_ready >= q->min_available;
		} else {
			why_clique(&rolled, q);
		}
		/* a grouped clique keeps the set from Ready only when its
		 * group is short of minAvailable units */
		if (!g || !g->ok) {
			ready = false;
			why_clique(&waits, q);
		}
	}
	for (x = 0; x < c->n_groups; x++) {
		const pcsg_st *g = &c->groups[x];

		if (g->paused && g->obs)
			why_text(&paused, "PodCliqueScalingGroup %s", g->name);
		if (!g->obs) {
			ready = false;
			why_text(&waits,
				 "PodCliqueScalingGroup %s is not created yet",
				 g->name);
		} else if (!g->ok) {
			ready = false;
			why_text(&waits,
				 "PodCliqueScalingGroup %s has %" PRId64
				 " of %" PRId64
				 " units available, minAvailable %" PRId64,
				 g->name, g->available, g->replicas,
				 g->min_available);
		}
	}
	if (pcs->form == POL_FORM_COMPACT && pcs->n_groups > 0) {
		compact_units(c, &available, &updated);
	} else {
		for (i = 0; i < copies; i++) {
			bool av = false, up = false;

			replica_state(c, i, &av, &up);
			available += av;
			updated += up;
		}
	}
	why_end(&waits);
	why_end(&below);
	why_end(&rolled);
	why_end(&paused);

	/* Ready */
	if (ready) {
		gv_buf_printf(&m,
			      "every PodClique has its minAvailable Ready pods "
			      "(%" PRId64 " of %" PRId64 " pods Ready)",
			      r, d);
		if (paused.n)
			gv_buf_printf(&m, "; paused: %s",
				      gv_buf_str(&paused.b));
		push(c, want,
		     cond(c, C_READY, "True", "AllPodCliquesReady",
			  msg_text(c, &m)));
	} else {
		push(c, want,
		     cond(c, C_READY, "False", "PodCliquesNotReady",
			  msg_text(c, &waits.b)));
	}
	/* Degraded: it was Ready, now a clique that was Ready is below
	 * minAvailable (one that starts: new, resumed or recreated, is no
	 * degradation); it stays until every clique is Ready again */
	gv_buf_reset(&m);
	if ((degraded_prev && below.n) || (ready_prev && dropped)) {
		gv_buf_printf(&m, "was Ready, now below minAvailable: %s",
			      gv_buf_str(&below.b));
		push(c, want,
		     cond(c, C_DEGRADED, "True", "PodCliquesBelowMinAvailable",
			  msg_text(c, &m)));
	} else if (!below.n && rolled.n) {
		gv_buf_printf(&m,
			      "below minAvailable only while a rollout "
			      "replaces their pods (UpdateInProgress): %s",
			      gv_buf_str(&rolled.b));
		push(c, want,
		     cond(c, C_DEGRADED, "False", "UpdateInProgress",
			  msg_text(c, &m)));
	} else if (!below.n) {
		push(c, want,
		     cond(c, C_DEGRADED, "False", "AllPodCliquesReady",
			  "every PodClique has its minAvailable Ready pods"));
	} else {
		/* from the state now only: the reason must not flip on the
		 * next pass */
		gv_buf_printf(&m,
			      "not every PodClique is Ready yet, and none "
			      "that was Ready has dropped: %s",
			      gv_buf_str(&below.b));
		push(c, want,
		     cond(c, C_DEGRADED, "False", "PodCliquesStarting",
			  msg_text(c, &m)));
	}
	/* TopologyLevelsUnavailable, when the set uses topology */
	gv_buf_reset(&m);
	if (topo && c->in->binding_missing) {
		gv_buf_printf(&m,
			      "ClusterTopologyBinding %s not found: PodGangs "
			      "are built without topology constraints",
			      topo);
		push(c, want,
		     cond(c, C_TOPOLOGY, "Unknown", "ClusterTopologyNotFound",
			  msg_text(c, &m)));
	} else if (topo && c->in->kai_topology_unserved) {
		gv_buf_printf(&m,
			      "KAI Scheduler's Topology kind "
			      "(kai.scheduler/v1alpha1) is not served: groved "
			      "cannot give KAI the levels of "
			      "ClusterTopologyBinding %s, and KAI cannot place "
			      "this set's topology-constrained PodGangs",
			      topo);
		push(c, want,
		     cond(c, C_TOPOLOGY, "True", "KAITopologyNotServed",
			  msg_text(c, &m)));
	} else if (topo && c->in->missing_level) {
		gv_buf_printf(&m,
			      "topology level %s used by the set is not a "
			      "level of ClusterTopologyBinding %s",
			      c->in->missing_level, topo);
		push(c, want,
		     cond(c, C_TOPOLOGY, "True",
			  "ClusterTopologyLevelsUnavailable", msg_text(c, &m)));
	} else if (topo) {
		gv_buf_printf(&m,
			      "every topology level the set uses is a level "
			      "of ClusterTopologyBinding %s",
			      topo);
		push(c, want,
		     cond(c, C_TOPOLOGY, "False",
			  "AllClusterTopologyLevelsAvailable",
			  msg_text(c, &m)));
	}
	/* ResourceClaimTemplatesFound: while one is missing, and once more
	 * (True) when it is back */
	gv_buf_reset(&m);
	if (json_array_size(c->in->missing_claim_templates)) {
		const json_t *t = NULL;
		size_t k = 0;

		gv_buf_addstr(&m, "ResourceClaimTemplate ");
		json_array_foreach(c->in->missing_claim_templates, k, t)
		    gv_buf_printf(&m, "%s%s", k ? ", " : "",
				  json_string_value(t));
		gv_buf_addstr(&m, " not found in the set's namespace: the pods "
				  "that name it cannot get their claims, and "
				  "their PodGang cannot be scheduled, until it "
				  "exists");
		push(c, want,
		     cond(c, REC_CONDITION_CLAIMS, "False",
			  "ResourceClaimTemplateNotFound", msg_text(c, &m)));
	} else if (c->in->missing_claim_templates &&
		   condition(status_conditions(c->in->set),
			     REC_CONDITION_CLAIMS)) {
		push(c, want,
		     cond(c, REC_CONDITION_CLAIMS, "True",
			  "AllResourceClaimTemplatesFound",
			  "every ResourceClaimTemplate the set names exists"));
	}
	/* Paused */
	gv_buf_reset(&m);
	if (pcs->replicas == 0 || paused.n) {
		if (pcs->replicas == 0)
			gv_buf_addstr(&m, "PodCliqueSet is scaled to 0 "
					  "(spec.replicas 0): no replica runs");
		else
			gv_buf_printf(&m,
				      "scaled to 0 (no pod; its podgroups ask "
				      "for 0): %s; scale up to resume",
				      gv_buf_str(&paused.b));
		push(c, want,
		     cond(c, REC_CONDITION_PAUSED, "True", "ScaledToZero",
			  msg_text(c, &m)));
	} else {
		push(c, want,
		     cond(c, REC_CONDITION_PAUSED, "False", "NoneScaledToZero",
			  "no PodClique or PodCliqueScalingGroup is scaled to "
			  "0"));
	}

	s = status_base(c, set, true);
	put(c, s, "replicas", json_integer(pcs->replicas));
	put(c, s, "updatedReplicas", json_integer(updated));
	put(c, s, "availableReplicas", json_integer(available));
	gv_buf_reset(&m);
	gv_buf_printf(&m, "%s=%s,%s=%s", POL_LABEL_MANAGED_BY, POL_MANAGED_BY,
		      POL_LABEL_PART_OF, c->pcs);
	put(c, s, "hpaPodSelector", json_string(msg_text(c, &m)));
	gv_buf_reset(&m);
	gv_buf_printf(&m, "%" PRId64 "/%" PRId64, r, d);
	put(c, s, "ready", json_string(msg_text(c, &m)));
	{
		bool degraded =
		    cond_is(want, C_DEGRADED, "True"); /* computed above */

		put(c, s, "phase",
		    json_string(degraded	? "Degraded"
				: ready		? "Running"
				: any_scheduled ? "Starting"
						: "Pending"));
	}
	update_progress(c, s);
	update_condition(c, want);
	put(c, s, "conditions", merge_conditions(c, prev, want, pcs_owned));
	want = NULL;
	emit(c, "PodCliqueSet", c->pcs, set, s);
	json_decref(want);
	gv_buf_release(&m);
	gv_buf_release(&waits.b);
	gv_buf_release(&below.b);
	gv_buf_release(&rolled.b);
	gv_buf_release(&paused.b);
}

/* ---- the whole -------------------------------------------------------- */

int rec_status_build(const rec_status_input *in, json_t **out)
{
	st_ctx c = { .in = in, .rc = GV_OK };
	const rec_observed *obs = in ? in->observed : NULL;
	const json_t *item = NULL;
	size_t x = 0;
	int rc = GV_OK;

	if (!in || !in->set || !in->pcs || !in->plan || !in->now || !out)
		return GV_EINVAL;
	c.pcs = str(in->set, "metadata", "name");
	if (!c.pcs)
		c.pcs = in->pcs->name;
	if (!c.pcs)
		return GV_EINVAL;
	c.out = json_object();
	if (!c.out) {
		rc = GV_ENOMEM;
		goto out;
	}
	c.obs_pclq = index_ours(&c, obs ? obs->podcliques : NULL);
	c.obs_pcsg = index_ours(&c, obs ? obs->groups : NULL);
	c.obs_gang = index_ours(&c, obs ? obs->podgangs : NULL);
	if (c.rc == GV_OK)
		index_plan(&c);
	if (c.rc == GV_OK)
		index_pods(&c);
	if (c.rc == GV_OK)
		roll_read(&c);
	/* cliques first: groups and the set read their results */
	for (x = 0; x < c.n_cliques && c.rc == GV_OK; x++)
		clique_status(&c, &c.cliques[x]);
	for (x = 0; x < c.n_groups && c.rc == GV_OK; x++)
		group_status(&c, &c.groups[x]);
	json_array_foreach(in->plan->items, x, item)
	{
		const json_t *o = json_object_get(item, "object");

		if (c.rc == GV_OK && eq(str(o, "kind", NULL), "PodGang"))
			gang_status(&c, o);
	}
	if (c.rc == GV_OK)
		set_status(&c);
	rc = c.rc;
	if (rc == GV_OK) {
		*out = c.out;
		c.out = NULL;
	}
out:
	json_decref(c.out);
	json_decref(c.clique_ix);
	json_decref(c.group_ix);
	json_decref(c.obs_pclq);
	json_decref(c.obs_pcsg);
	json_decref(c.obs_gang);
	json_decref(c.pods);
	free(c.cliques);
	free(c.groups);
	return rc;
}
