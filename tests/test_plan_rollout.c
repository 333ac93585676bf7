/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_plan_rollout.c: the planner's rollouts (groved/reconcile.h,
 * rec_plan.rollout and rec_input.now; docs/reconcile.md, "Rollouts"):
 * which pods a round deletes for a template change, the surge pairs of
 * maxSurge, whole units, startup order, one set replica at a time,
 * progressDeadline, OnDelete, reverts and replica changes.
 *
 * Each test plans a set, takes the plan's objects as the cluster (its
 * pods bound and Ready), changes the template (an image) and plans
 * again against that cluster. A small simulated worker (sim_round)
 * applies a plan's actions as the worker would when every pod is
 * deleted at once and its replacement is Ready at once, so a rollout
 * can be driven to its end and its invariants checked at every round.
 */
#include "test_util.h"

#include "groved/reconcile.h"

#include <inttypes.h>

/* The set's name in every text here. */
#define SET "t"
/* The creationTimestamp of the pods of the first plan. */
#define T0 "2026-12-01T00:00:00Z"
/* Rounds a rollout here takes at most. */
#define MAX_ROUNDS 64
/* Room for a joined list of pod names. */
#define LIST_BUF 4096

/* ---- a set -------------------------------------------------------------- */

/* A PodCliqueSet, defaulted, and its model. */
typedef struct set {
	json_t *doc;
	pol_pcs pcs;
} set;

/* Defaults text, which must be valid, and builds its model. */
static void set_load(set *s, const char *text)
{
	json_t *doc = tu_doc(text);
	pol_verdict v = POL_VERDICT_INIT;
	pol_options opts = { 0 };

	memset(s, 0, sizeof(*s));
	assert_int_equal(pol_review_pcs(doc, NULL, &opts, &v, &s->doc), GV_OK);
	if (v.n_errors) {
		char *m = pol_verdict_message(&v);

		print_error("invalid: %s\n", m);
		free(m);
		fail();
	}
	pol_verdict_release(&v);
	pol_verdict_init(&v);
	assert_int_equal(pol_pcs_build(s->doc, &s->pcs, &v), GV_OK);
	pol_verdict_release(&v);
	json_decref(doc);
}

static void set_release(set *s)
{
	pol_pcs_release(&s->pcs);
	json_decref(s->doc);
}

/* ---- the cluster ---------------------------------------------------------- */

/* What is observed: rec_observed's five lists, and the clock. */
typedef struct sim {
	json_t *lists[5]; /* PodCliques, groups, PodGangs, Pods, others */
	rec_observed obs;
	int64_t now; /* rec_input.now (unix seconds); 0: not checked */
	const char *created; /* creationTimestamp of pods made now */
	bool new_ready; /* pods made from now on are Ready at once */
	size_t pod_deletes; /* sim_apply's, so far */
	size_t pod_creates;
} sim;

static void sim_init(sim *s)
{
	size_t l = 0;

	memset(s, 0, sizeof(*s));
	for (l = 0; l < 5; l++) {
		s->lists[l] = json_array();
		assert_non_null(s->lists[l]);
	}
	s->obs.podcliques = s->lists[0];
	s->obs.groups = s->lists[1];
	s->obs.podgangs = s->lists[2];
	s->obs.pods = s->lists[3];
	s->obs.others = s->lists[4];
	s->created = T0;
	s->new_ready = true;
}

static void sim_release(sim *s)
{
	size_t l = 0;

	for (l = 0; l < 5; l++)
		json_decref(s->lists[l]);
}

static const char *name_of(const json_t *o)
{
	return json_string_value(
	    json_object_get(json_object_get(o, "metadata"), "name"));
}

static const char *label_of(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(
	    json_object_get(json_object_get(o, "metadata"), "labels"), key));
}

static bool kind_is(const json_t *o, const char *kind)
{
	const char *k = json_string_value(json_object_get(o, "kind"));

	return k && strcmp(k, kind) == 0;
}

static size_t list_for(const char *kind)
{
	return !strcmp(kind, "PodClique")		? 0
	       : !strcmp(kind, "PodCliqueScalingGroup") ? 1
	       : !strcmp(kind, "PodGang")		? 2
	       : !strcmp(kind, "Pod")			? 3
							: 4;
}

/* The observed kind/name (borrowed, mutable), or NULL; *at its index. */
static json_t *sim_find_at(const sim *s, const char *kind, const char *name,
			   size_t *at)
{
	json_t *list = s->lists[list_for(kind)];
	json_t *o = NULL;
	size_t i = 0;

	json_array_foreach(list, i, o)
	{
		if (kind_is(o, kind) && strcmp(name_of(o), name) == 0) {
			if (at)
				*at = i;
			return o;
		}
	}
	return NULL;
}

static json_t *sim_find(const sim *s, const char *kind, const char *name)
{
	return sim_find_at(s, kind, name, NULL);
}

/* The observed pod name, which must exist (borrowed, mutable). */
static json_t *sim_pod(const sim *s, const char *name)
{
	json_t *pod = sim_find(s, "Pod", name);

	if (!pod)
		print_error("no observed pod '%s'\n", name);
	assert_non_null(pod);
	return pod;
}

/* kind/name is gone from the cluster; it must have been there. */
static void sim_drop(sim *s, const char *kind, const char *name)
{
	size_t at = 0;

	assert_non_null(sim_find_at(s, kind, name, &at));
	assert_int_equal(json_array_remove(s->lists[list_for(kind)], at), 0);
}

static void set_member(json_t *o, const char *obj, const char *key, json_t *val)
{
	json_t *parent = json_object_get(o, obj);

	if (!parent) {
		parent = json_object();
		assert_int_equal(json_object_set_new(o, obj, parent), 0);
	}
	assert_int_equal(json_object_set_new(parent, key, val), 0);
}

/* pod bound to a node, Running, Ready or not, made at created. */
static void bind_pod(json_t *pod, bool ready, const char *created)
{
	set_member(pod, "spec", "nodeName", json_string("n1"));
	set_member(pod, "metadata", "creationTimestamp", json_string(created));
	assert_int_equal(json_object_set_new(
			     pod, "status",
			     json_pack("{s:s, s:[{s:s, s:s}]}", "phase",
				       "Running", "conditions", "type", "Ready",
				       "status", ready ? "True" : "False")),
			 0);
}

/* Whether pod is Ready and not terminating. */
static bool is_ready(const json_t *pod)
{
	const json_t *conds =
	    json_object_get(json_object_get(pod, "status"), "conditions");
	const char *st = json_string_value(
	    json_object_get(json_array_get(conds, 0), "status"));

	return st && !strcmp(st, "True") &&
	       !json_object_get(json_object_get(pod, "metadata"),
				"deletionTimestamp");
}

static void set_ready(json_t *pod, bool ready)
{
	bind_pod(pod, ready,
		 json_string_value(json_object_get(
		     json_object_get(pod, "metadata"), "creationTimestamp")));
}

static void terminate(json_t *pod)
{
	set_member(pod, "metadata", "deletionTimestamp", json_string(T0));
}

/* A copy of the planned object kind/name into the cluster (a pod bound,
 * Ready or not, made at created); returns it (borrowed). */
static json_t *sim_add_planned(sim *s, const rec_plan *plan, const char *kind,
			       const char *name, bool ready,
			       const char *created)
{
	const json_t *item = NULL;
	json_t *o = NULL;
	size_t i = 0;

	json_array_foreach(plan->items, i, item)
	{
		const json_t *p = json_object_get(item, "object");

		if (kind_is(p, kind) && strcmp(name_of(p), name) == 0)
			o = json_deep_copy(p);
	}
	if (!o)
		print_error("'%s/%s' is not planned\n", kind, name);
	assert_non_null(o);
	if (!strcmp(kind, "Pod"))
		bind_pod(o, ready, created);
	assert_int_equal(json_array_append_new(s->lists[list_for(kind)], o), 0);
	return o;
}

/* Merges an update action's fields into the observed object. */
static void apply_update(sim *s, const json_t *a)
{
	json_t *o = sim_find(s, json_string_value(json_object_get(a, "kind")),
			     json_string_value(json_object_get(a, "name")));
	const json_t *fields = json_object_get(a, "fields");
	const char *key = NULL;
	json_t *v = NULL;

	assert_non_null(o);
	json_object_foreach((json_t *)fields, key, v)
	{
		if (strcmp(key, "metadata") == 0) {
			const char *mk = NULL;
			json_t *mv = NULL;

			json_object_foreach(v, mk, mv)
			{
				json_t *m = json_object_get(o, "metadata");
				json_t *cur = json_object_get(m, mk);

				if (!cur) {
					cur = json_object();
					assert_int_equal(
					    json_object_set_new(m, mk, cur), 0);
				}
				assert_int_equal(json_object_update(cur, mv),
						 0);
			}
			continue;
		}
		assert_int_equal(json_object_set_new(o, key, json_deep_copy(v)),
				 0);
	}
}

/* Applies the update actions of actions only (the objects other than
 * pods follow the plan; the pods are the test's to move). */
static void sim_updates(sim *s, const json_t *actions)
{
	const json_t *a = NULL;
	size_t i = 0;

	json_array_foreach(actions, i, a)
	{
		if (!strcmp(json_string_value(json_object_get(a, "action")),
			    "update"))
			apply_update(s, a);
	}
}

/* ---- reading a plan --------------------------------------------------------- */

static const json_t *planned(const rec_plan *plan, const char *kind,
			     const char *name)
{
	const json_t *item = NULL;
	size_t i = 0;

	json_array_foreach(plan->items, i, item)
	{
		const json_t *o = json_object_get(item, "object");

		if (kind_is(o, kind) && strcmp(name_of(o), name) == 0)
			return o;
	}
	return NULL;
}

/* The current pod template hash of PodClique pclq (its label). */
static const char *current_hash(const rec_plan *plan, const char *pclq)
{
	const json_t *o = planned(plan, "PodClique", pclq);

	assert_non_null(o);
	assert_non_null(label_of(o, POL_LABEL_TEMPLATE_HASH));
	return label_of(o, POL_LABEL_TEMPLATE_HASH);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* names (a json array of strings) sorted and joined by ',' into buf. */
static const char *joined(json_t *names, char *buf)
{
	const char *v[256];
	size_t n = json_array_size(names);
	size_t i = 0;

	assert_true(n <= 256);
	for (i = 0; i < n; i++)
		v[i] = json_string_value(json_array_get(names, i));
	qsort(v, n, sizeof(*v), cmp_str);
	buf[0] = '\0';
	for (i = 0; i < n; i++)
		snprintf(buf + strlen(buf), LIST_BUF - strlen(buf), "%s%s",
			 i ? "," : "", v[i]);
	json_decref(names);
	return buf;
}

/* The pods rollout.recreate names, sorted and joined. */
static const char *recreate_of(const rec_plan *plan, char *buf)
{
	const json_t *r = json_object_get(plan->rollout, "recreate");
	json_t *names = json_array();
	const char *key = NULL;
	json_t *v = NULL;

	assert_non_null(r);
	json_object_foreach((json_t *)r, key, v)
	{
		assert_true(json_is_true(v));
		assert_int_equal(json_array_append_new(names, json_string(key)),
				 0);
	}
	return joined(names, buf);
}

/* The Pods of actions whose action is what, sorted and joined. */
static const char *pods_of(const json_t *actions, const char *what, char *buf)
{
	json_t *names = json_array();
	const json_t *a = NULL;
	size_t i = 0;

	json_array_foreach(actions, i, a)
	{
		if (!strcmp(json_string_value(json_object_get(a, "kind")),
			    "Pod") &&
		    !strcmp(json_string_value(json_object_get(a, "action")),
			    what))
			assert_int_equal(
			    json_array_append_new(
				names, json_string(json_string_value(
					   json_object_get(a, "name")))),
			    0);
	}
	return joined(names, buf);
}

/* Actions whose action is what, of any kind. */
static size_t count_actions(const json_t *actions, const char *what)
{
	const json_t *a = NULL;
	size_t i = 0;
	size_t n = 0;

	json_array_foreach(actions, i, a)
	{
		if (!strcmp(json_string_value(json_object_get(a, "action")),
			    what))
			n++;
	}
	return n;
}

static bool rollout_active(const rec_plan *plan)
{
	const json_t *a = json_object_get(plan->rollout, "active");

	assert_true(json_is_boolean(a));
	return json_is_true(a);
}

static json_int_t rollout_int(const rec_plan *plan, const char *key)
{
	const json_t *v = json_object_get(plan->rollout, key);

	assert_true(json_is_integer(v));
	return json_integer_value(v);
}

/* rollout's member key: its string, or NULL when null or absent. */
static const char *rollout_str(const rec_plan *plan, const char *key)
{
	return json_string_value(json_object_get(plan->rollout, key));
}

/* ---- a round ---------------------------------------------------------------- */

/* Plans st against the cluster; *actions (a new reference) what the
 * worker does. The caller releases plan. */
static void plan_round(const set *st, const sim *s, rec_plan *plan,
		       json_t **actions)
{
	rec_input in = { 0 };
	gv_error_t err = GV_ERROR_INIT;
	int rc = GV_OK;

	in.pcs = &st->pcs;
	in.observed = s->obs;
	in.now = s->now;
	rc = rec_plan_build(&in, plan, &err);
	if (rc != GV_OK)
		print_error("plan: %s\n", err.text);
	assert_int_equal(rc, GV_OK);
	assert_non_null(plan->rollout);
	assert_int_equal(rec_plan_actions(plan, &st->pcs, &s->obs, actions),
			 GV_OK);
}

/* What a check sees: the cluster before the round's actions (phase 0),
 * then with the round's deletions done and nothing made yet (phase 1:
 * the fewest pods the round leaves). */
typedef void (*sim_check)(void *ctx, const sim *s, const rec_plan *plan,
			  int phase);

/* Applies actions: deletions first (gone at once), then creations (pods
 * bound, Ready when s->new_ready) and updates. */
static void sim_apply(sim *s, const rec_plan *plan, const json_t *actions,
		      sim_check check, void *ctx)
{
	const json_t *a = NULL;
	size_t i = 0;

	json_array_foreach(actions, i, a)
	{
		const char *what =
		    json_string_value(json_object_get(a, "action"));

		assert_string_not_equal(what, "conflict");
		if (!strcmp(what, "delete") &&
		    !strcmp(json_string_value(json_object_get(a, "kind")),
			    "Pod"))
			s->pod_deletes++;
		if (!strcmp(what, "delete"))
			sim_drop(s,
				 json_string_value(json_object_get(a, "kind")),
				 json_string_value(json_object_get(a, "name")));
	}
	if (check)
		check(ctx, s, plan, 1);
	json_array_foreach(actions, i, a)
	{
		const char *what =
		    json_string_value(json_object_get(a, "action"));
		const char *kind =
		    json_string_value(json_object_get(a, "kind"));

		if (!strcmp(what, "create")) {
			json_t *o =
			    json_deep_copy(json_object_get(a, "object"));

			assert_non_null(o);
			if (!strcmp(kind, "Pod")) {
				bind_pod(o, s->new_ready, s->created);
				s->pod_creates++;
			}
			assert_int_equal(
			    json_array_append_new(s->lists[list_for(kind)], o),
			    0);
		} else if (!strcmp(what, "update")) {
			apply_update(s, a);
		}
	}
}

/* One round of st against the cluster, applied; returns whether it did
 * anything or a rollout is still going. */
static bool sim_round(const set *st, sim *s, sim_check check, void *ctx)
{
	rec_plan plan = REC_PLAN_INIT;
	json_t *actions = NULL;
	bool busy = false;

	plan_round(st, s, &plan, &actions);
	if (check)
		check(ctx, s, &plan, 0);
	busy = json_array_size(actions) > 0 || rollout_active(&plan);
	sim_apply(s, &plan, actions, check, ctx);
	json_decref(actions);
	rec_plan_release(&plan);
	return busy;
}

/* Rounds of st until nothing is left to do; returns how many did
 * something. Fails when it takes more than MAX_ROUNDS. */
static size_t sim_run(const set *st, sim *s, sim_check check, void *ctx)
{
	size_t n = 0;

	while (sim_round(st, s, check, ctx)) {
		n++;
		if (n > MAX_ROUNDS)
			print_error("no end after %d rounds\n", MAX_ROUNDS);
		assert_true(n <= MAX_ROUNDS);
	}
	return n;
}

/* Against its own output, with every pod on the current template: no
 * rollout, nothing recreated, no action. */
static void check_settled(const set *st, const sim *s)
{
	rec_plan plan = REC_PLAN_INIT;
	json_t *actions = NULL;
	const json_t *pod = NULL;
	size_t i = 0;
	char buf[LIST_BUF];

	plan_round(st, s, &plan, &actions);
	json_array_foreach(s->lists[3], i, pod)
	{
		const char *pclq = label_of(pod, POL_LABEL_PCLQ);

		assert_string_equal(label_of(pod, POL_LABEL_TEMPLATE_HASH),
				    current_hash(&plan, pclq));
	}
	assert_false(rollout_active(&plan));
	assert_string_equal(recreate_of(&plan, buf), "");
	assert_int_equal(rollout_int(&plan, "replicaIndex"), -1);
	assert_null(rollout_str(&plan, "component"));
	assert_null(rollout_str(&plan, "held"));
	if (json_array_size(actions)) {
		char *d = json_dumps(actions, JSON_COMPACT);

		print_error("actions: %s\n", d);
		free(d);
	}
	assert_int_equal(json_array_size(actions), 0);
	json_decref(actions);
	rec_plan_release(&plan);
}

/* The cluster made from st's plan: every object, pods Ready. */
static void sim_start(const set *st, sim *s)
{
	sim_init(s);
	assert_true(sim_round(st, s, NULL, NULL));
	check_settled(st, s);
}

/* Pods of PodClique pclq in the cluster: Ready (not terminating) ones,
 * and those on another template than hash. */
static void count_pods(const sim *s, const char *pclq, const char *hash,
		       size_t *ready, size_t *outdated)
{
	const json_t *pod = NULL;
	size_t i = 0;

	*ready = 0;
	*outdated = 0;
	json_array_foreach(s->lists[3], i, pod)
	{
		const char *l = label_of(pod, POL_LABEL_PCLQ);

		if (!l || strcmp(l, pclq) != 0)
			continue;
		if (is_ready(pod))
			(*ready)++;
		if (strcmp(label_of(pod, POL_LABEL_TEMPLATE_HASH), hash) != 0)
			(*outdated)++;
	}
}

/* ---- the sets ------------------------------------------------------------------ */

/* One standalone clique a: replicas, minAvailable, a rollingUpdate
 * object (or ""), image; template form, or compact when compact. */
static void clique_text(char *buf, size_t size, bool compact, int replicas,
			int min, const char *rolling, const char *image)
{
	char ru[256] = "";

	if (rolling[0])
		snprintf(ru, sizeof(ru), "%*srollingUpdate: %s\n",
			 compact ? 4 : 6, "", rolling);
	if (compact)
		snprintf(buf, size,
			 "apiVersion: grove.io/v1alpha1\n"
			 "kind: PodCliqueSet\n"
			 "metadata: {name: " SET ", namespace: ns}\n"
			 "spec:\n"
			 "  podCliques:\n"
			 "  - name: a\n"
			 "    replicas: %d\n"
			 "    minAvailable: %d\n"
			 "%s"
			 "    containers: [{name: c, image: %s}]\n",
			 replicas, min, ru, image);
	else
		snprintf(
		    buf, size,
		    "apiVersion: grove.io/v1alpha1\n"
		    "kind: PodCliqueSet\n"
		    "metadata: {name: " SET ", namespace: ns}\n"
		    "spec:\n"
		    "  replicas: 1\n"
		    "  template:\n"
		    "    cliques:\n"
		    "    - name: a\n"
		    "%s"
		    "      spec:\n"
		    "        replicas: %d\n"
		    "        minAvailable: %d\n"
		    "        podSpec: {containers: [{name: c, image: %s}]}\n",
		    ru, replicas, min, image);
}

/* Loads clique_text's set. */
static void clique_set(set *st, bool compact, int replicas, int min,
		       const char *rolling, const char *image)
{
	char text[2048];

	clique_text(text, sizeof(text), compact, replicas, min, rolling, image);
	set_load(st, text);
}

/* A group g of 4 units of w (2 pods) and x (1 pod), minAvailable 1, a
 * rollingUpdate object for the group (or ""), image; template form, or
 * compact when compact. */
static void group_set(set *st, bool compact, const char *rolling,
		      const char *image)
{
	char text[2048];
	char ru[256] = "";

	if (rolling[0])
		snprintf(ru, sizeof(ru), ", rollingUpdate: %s", rolling);
	if (compact)
		snprintf(text, sizeof(text),
			 "apiVersion: grove.io/v1alpha1\n"
			 "kind: PodCliqueSet\n"
			 "metadata: {name: " SET ", namespace: ns}\n"
			 "spec:\n"
			 "  replicas: 4\n"
			 "  scaling: {minReplicas: 1, maxReplicas: 4}\n"
			 "  scalingGroups:\n"
			 "  - {name: g, cliques: [w, x], replicas: [2, 1]%s}\n"
			 "  podCliques:\n"
			 "  - name: w\n"
			 "    containers: [{name: c, image: %s}]\n"
			 "  - name: x\n"
			 "    containers: [{name: c, image: %s}]\n",
			 ru, image, image);
	else
		snprintf(
		    text, sizeof(text),
		    "apiVersion: grove.io/v1alpha1\n"
		    "kind: PodCliqueSet\n"
		    "metadata: {name: " SET ", namespace: ns}\n"
		    "spec:\n"
		    "  replicas: 1\n"
		    "  template:\n"
		    "    cliques:\n"
		    "    - name: w\n"
		    "      spec:\n"
		    "        replicas: 2\n"
		    "        podSpec: {containers: [{name: c, image: %s}]}\n"
		    "    - name: x\n"
		    "      spec:\n"
		    "        replicas: 1\n"
		    "        podSpec: {containers: [{name: c, image: %s}]}\n"
		    "    podCliqueScalingGroups:\n"
		    "    - {name: g, cliqueNames: [w, x], replicas: 4, "
		    "minAvailable: 1%s}\n",
		    image, image, ru);
	set_load(st, text);
}

/* The pods of unit j of group g of set replica 0, joined. */
static const char *unit_pods(int64_t j, char *buf)
{
	snprintf(buf, LIST_BUF,
		 SET "-0-g-%" PRId64 "-w-0," SET "-0-g-%" PRId64 "-w-1," SET
		     "-0-g-%" PRId64 "-x-0",
		 j, j, j);
	return buf;
}

/* The pods of units j1 and j2 (j1 < j2), joined. */
static const char *two_units(int64_t j1, int64_t j2, char *buf)
{
	char b[LIST_BUF];
	size_t n = 0;

	unit_pods(j1, buf);
	unit_pods(j2, b);
	n = strlen(buf);
	assert_true(n + 1 + strlen(b) < LIST_BUF);
	buf[n] = ',';
	memcpy(buf + n + 1, b, strlen(b) + 1);
	return buf;
}

/* ---- a standalone clique within minAvailable ------------------------------- */

/* Ready pods of t-0-a never below min while the rollout deletes. */
typedef struct floor_ctx {
	const char *pclq;
	size_t min;
	size_t rounds_recreating;
} floor_ctx;

static void check_floor(void *vctx, const sim *s, const rec_plan *plan,
			int phase)
{
	floor_ctx *c = vctx;
	size_t ready = 0;
	size_t outdated = 0;
	char buf[LIST_BUF];

	count_pods(s, c->pclq, current_hash(plan, c->pclq), &ready, &outdated);
	if (phase == 1)
		assert_true(ready >= c->min);
	else if (recreate_of(plan, buf)[0])
		c->rounds_recreating++;
}

/*
 * A clique of 3 with minAvailable 2 (maxUnavailable 1): one pod at a
 * time, the lowest index first; a terminating one uses the budget; a
 * missing one too; once it is back Ready on the new template, the next.
 */
static void check_clique_one_at_a_time(bool compact)
{
	set v1;
	set v2;
	sim s;
	rec_plan plan = REC_PLAN_INIT;
	json_t *actions = NULL;
	floor_ctx fc = { .pclq = SET "-0-a", .min = 2 };
	char buf[LIST_BUF];
	const char *h1 = NULL;

	clique_set(&v1, compact, 3, 2, "", "busybox:1");
	clique_set(&v2, compact, 3, 2, "", "busybox:2");
	sim_start(&v1, &s);

	/* the image changes: one pod deleted, nothing else */
	plan_round(&v2, &s, &plan, &actions);
	h1 = label_of(sim_pod(&s, SET "-0-a-0"), POL_LABEL_TEMPLATE_HASH);
	assert_string_not_equal(current_hash(&plan, SET "-0-a"), h1);
	assert_true(rollout_active(&plan));
	assert_string_equal(rollout_str(&plan, "strategy"), "RollingRecreate");
	assert_int_equal(rollout_int(&plan, "replicaIndex"), 0);
	assert_string_equal(rollout_str(&plan, "component"), SET "-0-a");
	assert_null(rollout_str(&plan, "held"));
	assert_string_equal(recreate_of(&plan, buf), SET "-0-a-0");
	assert_string_equal(pods_of(actions, "delete", buf), SET "-0-a-0");
	assert_int_equal(count_actions(actions, "delete"), 1);
	assert_string_equal(pods_of(actions, "create", buf), "");
	json_decref(actions);
	rec_plan_release(&plan);

	/* it is terminating: the budget is used, nothing more */
	terminate(sim_pod(&s, SET "-0-a-0"));
	plan_round(&v2, &s, &plan, &actions);
	assert_true(rollout_active(&plan));
	assert_string_equal(recreate_of(&plan, buf), "");
	assert_int_equal(count_actions(actions, "delete"), 0);
	assert_string_equal(pods_of(actions, "create", buf), "");
	json_decref(actions);
	rec_plan_release(&plan);

	/* gone: made again under its name on the new template, and still
	 * nothing more deleted */
	sim_drop(&s, "Pod", SET "-0-a-0");
	plan_round(&v2, &s, &plan, &actions);
	assert_string_equal(recreate_of(&plan, buf), "");
	assert_int_equal(count_actions(actions, "delete"), 0);
	assert_string_equal(pods_of(actions, "create", buf), SET "-0-a-0");
	assert_string_equal(label_of(planned(&plan, "Pod", SET "-0-a-0"),
				     POL_LABEL_TEMPLATE_HASH),
			    current_hash(&plan, SET "-0-a"));
	/* made, not Ready yet: still nothing more */
	sim_add_planned(&s, &plan, "Pod", SET "-0-a-0", false, T0);
	json_decref(actions);
	rec_plan_release(&plan);
	plan_round(&v2, &s, &plan, &actions);
	assert_string_equal(recreate_of(&plan, buf), "");
	assert_int_equal(count_actions(actions, "delete"), 0);
	json_decref(actions);
	rec_plan_release(&plan);

	/* Ready on the new template: the next one */
	set_ready(sim_pod(&s, SET "-0-a-0"), true);
	plan_round(&v2, &s, &plan, &actions);
	assert_string_equal(recreate_of(&plan, buf), SET "-0-a-1");
	assert_string_equal(pods_of(actions, "delete", buf), SET "-0-a-1");
	json_decref(actions);
	rec_plan_release(&plan);

	/* to the end: never below minAvailable, one pod per round that
	 * recreates (a-1, then a-2) */
	sim_run(&v2, &s, check_floor, &fc);
	assert_int_equal(fc.rounds_recreating, 2);
	check_settled(&v2, &s);
	sim_release(&s);
	set_release(&v1);
	set_release(&v2);
}

static void test_clique_one_at_a_time(void **state)
{
	(void)state;
	check_clique_one_at_a_time(false);
	check_clique_one_at_a_time(true);
}

/* maxUnavailable 2 of 4 pods with minAvailable 1: two at once; with
 * minAvailable 3, one (available - minAvailable is the smaller). */
static void test_clique_max_unavailable(void **state)
{
	static const struct {
		int min;
		const char *want;
	} cases[] = {
		{ 1, SET "-0-a-0," SET "-0-a-1" },
		{ 3, SET "-0-a-0" },
		{ 2, SET "-0-a-0," SET "-0-a-1" },
	};
	size_t c = 0;
	int form = 0;

	(void)state;
	for (form = 0; form < 2; form++) {
		for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
			set v1;
			set v2;
			sim s;
			rec_plan plan = REC_PLAN_INIT;
			json_t *actions = NULL;
			floor_ctx fc = { .pclq = SET "-0-a",
					 .min = (size_t)cases[c].min };
			char buf[LIST_BUF];

			clique_set(&v1, form, 4, cases[c].min,
				   "{maxUnavailable: 2}", "busybox:1");
			clique_set(&v2, form, 4, cases[c].min,
				   "{maxUnavailable: 2}", "busybox:2");
			sim_start(&v1, &s);
			plan_round(&v2, &s, &plan, &actions);
			assert_string_equal(recreate_of(&plan, buf),
					    cases[c].want);
			assert_string_equal(pods_of(actions, "delete", buf),
					    cases[c].want);
			json_decref(actions);
			rec_plan_release(&plan);
			sim_run(&v2, &s, check_floor, &fc);
			check_settled(&v2, &s);
			sim_release(&s);
			set_release(&v1);
			set_release(&v2);
		}
	}
}

/* ---- minAvailable == replicas == 1 ---------------------------------------- */

/* Whether rollout.steps has an entry for pod with belowMin true. */
static bool below_min_step(const rec_plan *plan, const char *pod)
{
	const json_t *steps = json_object_get(plan->rollout, "steps");
	const json_t *st = NULL;
	size_t i = 0;

	json_array_foreach(steps, i, st)
	{
		const char *p = json_string_value(json_object_get(st, "pod"));

		if (p && !strcmp(p, pod) &&
		    json_is_true(json_object_get(st, "belowMin")))
			return true;
	}
	return false;
}

/* Without maxSurge the single pod goes (one at a time is the least
 * possible disruption), said in steps[].belowMin. */
static void test_single_without_surge(void **state)
{
	int form = 0;

	(void)state;
	for (form = 0; form < 2; form++) {
		set v1;
		set v2;
		sim s;
		rec_plan plan = REC_PLAN_INIT;
		json_t *actions = NULL;
		char buf[LIST_BUF];

		clique_set(&v1, form, 1, 1, "", "busybox:1");
		clique_set(&v2, form, 1, 1, "", "busybox:2");
		sim_start(&v1, &s);
		plan_round(&v2, &s, &plan, &actions);
		assert_string_equal(recreate_of(&plan, buf), SET "-0-a-0");
		assert_string_equal(pods_of(actions, "delete", buf),
				    SET "-0-a-0");
		assert_true(below_min_step(&plan, SET "-0-a-0"));
		/* no replacement made first */
		assert_null(planned(&plan, "Pod", SET "-0-a-0-1"));
		json_decref(actions);
		rec_plan_release(&plan);

		/* the same without a change: no step, nothing */
		plan_round(&v1, &s, &plan, &actions);
		assert_false(below_min_step(&plan, SET "-0-a-0"));
		assert_string_equal(recreate_of(&plan, buf), "");
		json_decref(actions);
		rec_plan_release(&plan);

		sim_run(&v2, &s, NULL, NULL);
		check_settled(&v2, &s);
		sim_release(&s);
		set_release(&v1);
		set_release(&v2);
	}
}

/*
 * minAvailable == replicas == 2 without maxSurge: one pod at a time, and
 * only while nothing else is unavailable (a-1 on the new template not
 * Ready yet: a-0 waits).
 */
static void test_all_needed_one_at_a_time(void **state)
{
	set v1;
	set v2;
	sim s;
	rec_plan plan = REC_PLAN_INIT;
	json_t *actions = NULL;
	floor_ctx fc = { .pclq = SET "-0-a", .min = 1 };
	char buf[LIST_BUF];
	int form = 0;

	(void)state;
	for (form = 0; form < 2; form++) {
		clique_set(&v1, form, 2, 2, "", "busybox:1");
		clique_set(&v2, form, 2, 2, "", "busybox:2");
		sim_start(&v1, &s);
		plan_round(&v2, &s, &plan, &actions);
		assert_string_equal(recreate_of(&plan, buf), SET "-0-a-0");
		assert_true(below_min_step(&plan, SET "-0-a-0"));
		json_decref(actions);
		rec_plan_release(&plan);

		/* a-1 already on the new template, not Ready: a-0 waits */
		sim_drop(&s, "Pod", SET "-0-a-1");
		plan_round(&v2, &s, &plan, &actions);
		sim_add_planned(&s, &plan, "Pod", SET "-0-a-1", false, T0);
		sim_updates(&s, actions);
		json_decref(actions);
		rec_plan_release(&plan);
		plan_round(&v2, &s, &plan, &actions);
		assert_true(rollout_active(&plan));
		assert_string_equal(recreate_of(&plan, buf), "");
		assert_int_equal(count_actions(actions, "delete"), 0);
		json_decref(actions);
		rec_plan_release(&plan);

		/* Ready: a-0 goes, the one allowed below minAvailable */
		set_ready(sim_pod(&s, SET "-0-a-1"), true);
		sim_run(&v2, &s, check_floor, &fc);
		assert_int_equal(fc.rounds_recreating, 1);
		fc.rounds_recreating = 0;
		check_settled(&v2, &s);
		sim_release(&s);
		set_release(&v1);
		set_release(&v2);
	}
}

/* Whether a PodGang of the plan lists pod in its podReferences. */
static bool gang_lists(const rec_plan *plan, const char *pod)
{
	const json_t *item = NULL;
	size_t i = 0;

	json_array_foreach(plan->items, i, item)
	{
		const json_t *o = json_object_get(item, "object");
		const json_t *pg = NULL;
		size_t g = 0;

		if (!kind_is(o, "PodGang"))
			continue;
		json_array_foreach(
		    json_object_get(json_object_get(o, "spec"), "podgroups"), g,
		    pg)
		{
			const json_t *r = NULL;
			size_t k = 0;

			json_array_foreach(json_object_get(pg, "podReferences"),
					   k, r)
			{
				if (!strcmp(json_string_value(
						json_object_get(r, "name")),
					    pod))
					return true;
			}
		}
	}
	return false;
}

/* Surge pods made during a run: a pod made beside a pod of its index. */
typedef struct surge_ctx {
	size_t surges; /* pods <pclq>-0-<s> made */
	size_t rounds_without_ready; /* rounds that left no Ready pod */
} surge_ctx;

static void check_surge(void *vctx, const sim *s, const rec_plan *plan,
			int phase)
{
	surge_ctx *c = vctx;
	size_t ready = 0;
	size_t outdated = 0;

	count_pods(s, SET "-0-a", current_hash(plan, SET "-0-a"), &ready,
		   &outdated);
	if (phase == 1 && ready == 0)
		c->rounds_without_ready++;
	if (phase == 0 && planned(plan, "Pod", SET "-0-a-0-1") &&
	    !sim_find(s, "Pod", SET "-0-a-0-1"))
		c->surges++;
}

/*
 * maxSurge 1: the replacement <pclq>-0-1 is made first (hostname
 * <pclq>-0, index 0, in the PodGang); not Ready: nothing deleted; Ready:
 * the old pod is deleted (no longer planned) and the replacement stays.
 */
static void check_single_with_surge(bool compact)
{
	set v1;
	set v2;
	sim s;
	rec_plan plan = REC_PLAN_INIT;
	json_t *actions = NULL;
	const json_t *pod = NULL;
	surge_ctx sc = { 0 };
	char buf[LIST_BUF];

	clique_set(&v1, compact, 1, 1, "{maxSurge: 1}", "busybox:1");
	clique_set(&v2, compact, 1, 1, "{maxSurge: 1}", "busybox:2");
	sim_start(&v1, &s);

	plan_round(&v2, &s, &plan, &actions);
	assert_true(rollout_active(&plan));
	assert_string_equal(recreate_of(&plan, buf), "");
	assert_false(below_min_step(&plan, SET "-0-a-0"));
	assert_int_equal(count_actions(actions, "delete"), 0);
	assert_string_equal(pods_of(actions, "create", buf), SET "-0-a-0-1");
	pod = planned(&plan, "Pod", SET "-0-a-0-1");
	assert_non_null(pod);
	assert_string_equal(json_string_value(json_object_get(
				json_object_get(pod, "spec"), "hostname")),
			    SET "-0-a-0");
	assert_string_equal(label_of(pod, POL_LABEL_POD_INDEX), "0");
	assert_string_equal(label_of(pod, POL_LABEL_TEMPLATE_HASH),
			    current_hash(&plan, SET "-0-a"));
	assert_true(gang_lists(&plan, SET "-0-a-0-1"));
	assert_true(gang_lists(&plan, SET "-0-a-0"));
	assert_non_null(planned(&plan, "Pod", SET "-0-a-0"));
	sim_add_planned(&s, &plan, "Pod", SET "-0-a-0-1", false, T0);
	sim_updates(&s, actions);
	json_decref(actions);
	rec_plan_release(&plan);

	/* the replacement not Ready: nothing deleted, no second surge,
	 * both still planned and in the gang */
	plan_round(&v2, &s, &plan, &actions);
	assert_string_equal(recreate_of(&plan, buf), "");
	assert_int_equal(count_actions(actions, "delete"), 0);
	assert_string_equal(pods_of(actions, "create", buf), "");
	assert_non_null(planned(&plan, "Pod", SET "-0-a-0"));
	assert_non_null(planned(&plan, "Pod", SET "-0-a-0-1"));
	assert_null(planned(&plan, "Pod", SET "-0-a-0-2"));
	assert_true(gang_lists(&plan, SET "-0-a-0-1"));
	sim_updates(&s, actions);
	json_decref(actions);
	rec_plan_release(&plan);

	/* Ready: the old pod goes (unplanned), the replacement stays */
	set_ready(sim_pod(&s, SET "-0-a-0-1"), true);
	plan_round(&v2, &s, &plan, &actions);
	assert_string_equal(pods_of(actions, "delete", buf), SET "-0-a-0");
	assert_int_equal(count_actions(actions, "delete"), 1);
	assert_string_equal(pods_of(actions, "create", buf), "");
	assert_null(planned(&plan, "Pod", SET "-0-a-0"));
	assert_non_null(planned(&plan, "Pod", SET "-0-a-0-1"));
	assert_false(gang_lists(&plan, SET "-0-a-0"));
	assert_true(gang_lists(&plan, SET "-0-a-0-1"));
	sim_updates(&s, actions);
	json_decref(actions);
	rec_plan_release(&plan);

	/* the old one terminating: the replacement holds index 0 alone */
	terminate(sim_pod(&s, SET "-0-a-0"));
	plan_round(&v2, &s, &plan, &actions);
	assert_int_equal(count_actions(actions, "delete"), 0);
	assert_string_equal(pods_of(actions, "create", buf), "");
	assert_non_null(planned(&plan, "Pod", SET "-0-a-0-1"));
	sim_updates(&s, actions);
	json_decref(actions);
	rec_plan_release(&plan);
	sim_drop(&s, "Pod", SET "-0-a-0");
	check_settled(&v2, &s);
	sim_release(&s);

	/* driven from the start: one surge, never without a Ready pod */
	sim_start(&v1, &s);
	sim_run(&v2, &s, check_surge, &sc);
	assert_int_equal(sc.surges, 1);
	assert_int_equal(sc.rounds_without_ready, 0);
	check_settled(&v2, &s);
	sim_release(&s);
	set_release(&v1);
	set_release(&v2);
}

static void test_single_with_surge(void **state)
{
	(void)state;
	check_single_with_surge(false);
	check_single_with_surge(true);
}

/* ---- scaling groups ------------------------------------------------------------- */

/* The units of g whose pods a round recreates, in the order of rounds,
 * and whether a unit was ever recreated in part. */
typedef struct units_ctx {
	char order[64]; /* the units recreated, a round ending in '/' */
	size_t max_units; /* most units in one round */
	size_t available_min; /* fewest units available after deletes */
} units_ctx;

/* Units of the group with every PodClique at its minAvailable Ready. */
static size_t units_available(const sim *s, const rec_plan *plan)
{
	size_t n = 0;
	int64_t j = 0;

	for (j = 0; j < 4; j++) {
		char w[64];
		char x[64];
		size_t rw = 0;
		size_t rx = 0;
		size_t o = 0;

		snprintf(w, sizeof(w), SET "-0-g-%" PRId64 "-w", j);
		snprintf(x, sizeof(x), SET "-0-g-%" PRId64 "-x", j);
		count_pods(s, w, current_hash(plan, w), &rw, &o);
		count_pods(s, x, current_hash(plan, x), &rx, &o);
		if (rw >= 2 && rx >= 1)
			n++;
	}
	return n;
}

static void check_units(void *vctx, const sim *s, const rec_plan *plan,
			int phase)
{
	units_ctx *c = vctx;
	char buf[LIST_BUF];
	char unit[LIST_BUF];
	size_t n = 0;
	int64_t j = 0;

	if (phase == 1) {
		size_t a = units_available(s, plan);

		if (a < c->available_min)
			c->available_min = a;
		return;
	}
	recreate_of(plan, buf);
	for (j = 0; j < 4; j++) {
		char first[64];
		const char *u = unit_pods(j, unit);

		snprintf(first, sizeof(first), SET "-0-g-%" PRId64 "-", j);
		if (!strstr(buf, first))
			continue;
		/* all pods of the unit, together */
		assert_non_null(strstr(buf, u));
		snprintf(c->order + strlen(c->order),
			 sizeof(c->order) - strlen(c->order), "%" PRId64, j);
		n++;
	}
	if (n)
		snprintf(c->order + strlen(c->order),
			 sizeof(c->order) - strlen(c->order), "/");
	if (n > c->max_units)
		c->max_units = n;
}

/*
 * A group of 4 units with minAvailable 1: the pods of one unit
 * recreated together, a scaled unit first and the base unit last;
 * maxUnavailable 2: two units at once.
 */
static void check_group_units(bool compact)
{
	set v1;
	set v2;
	sim s;
	rec_plan plan = REC_PLAN_INIT;
	json_t *actions = NULL;
	units_ctx uc = { .available_min = 99 };
	char buf[LIST_BUF];
	char want[LIST_BUF];

	group_set(&v1, compact, "", "busybox:1");
	group_set(&v2, compact, "", "busybox:2");
	sim_start(&v1, &s);
	plan_round(&v2, &s, &plan, &actions);
	assert_true(rollout_active(&plan));
	assert_string_equal(rollout_str(&plan, "component"), SET "-0-g");
	assert_string_equal(recreate_of(&plan, buf), unit_pods(1, want));
	assert_string_equal(pods_of(actions, "delete", buf), want);
	json_decref(actions);
	rec_plan_release(&plan);
	sim_run(&v2, &s, check_units, &uc);
	/* one unit a round, scaled units first, the base unit last */
	assert_string_equal(uc.order, "1/2/3/0/");
	assert_int_equal(uc.max_units, 1);
	assert_int_equal(uc.available_min, 3);
	check_settled(&v2, &s);
	sim_release(&s);
	set_release(&v1);
	set_release(&v2);

	group_set(&v1, compact, "{maxUnavailable: 2}", "busybox:1");
	group_set(&v2, compact, "{maxUnavailable: 2}", "busybox:2");
	sim_start(&v1, &s);
	plan_round(&v2, &s, &plan, &actions);
	two_units(1, 2, want);
	assert_string_equal(recreate_of(&plan, buf), want);
	assert_string_equal(pods_of(actions, "delete", buf), want);
	json_decref(actions);
	rec_plan_release(&plan);
	memset(&uc, 0, sizeof(uc));
	uc.available_min = 99;
	sim_run(&v2, &s, check_units, &uc);
	assert_string_equal(uc.order, "12/03/");
	assert_int_equal(uc.max_units, 2);
	assert_int_equal(uc.available_min, 2);
	check_settled(&v2, &s);
	sim_release(&s);
	set_release(&v1);
	set_release(&v2);
}

/* Whether rollout.steps has a unit step of unit j with belowMin. */
static bool below_min_unit(const rec_plan *plan, int64_t j)
{
	const json_t *steps = json_object_get(plan->rollout, "steps");
	const json_t *st = NULL;
	size_t i = 0;

	json_array_foreach(steps, i, st)
	{
		if (!strcmp(json_string_value(json_object_get(st, "what")),
			    "unit") &&
		    json_integer_value(json_object_get(st, "unit")) == j &&
		    json_is_true(json_object_get(st, "belowMin")))
			return true;
	}
	return false;
}

/* A group whose minAvailable is its units (2 of 2): one unit at a time
 * (the least possible disruption), said in steps[].belowMin. */
static void test_group_all_base(void **state)
{
	static const char fmt[] =
	    "apiVersion: grove.io/v1alpha1\n"
	    "kind: PodCliqueSet\n"
	    "metadata: {name: " SET ", namespace: ns}\n"
	    "spec:\n"
	    "  replicas: 1\n"
	    "  template:\n"
	    "    cliques:\n"
	    "    - name: w\n"
	    "      spec:\n"
	    "        replicas: 2\n"
	    "        podSpec: {containers: [{name: c, image: %s}]}\n"
	    "    podCliqueScalingGroups:\n"
	    "    - {name: g, cliqueNames: [w], replicas: 2, minAvailable: 2}\n";
	char text[2048];
	set v1;
	set v2;
	sim s;
	rec_plan plan = REC_PLAN_INIT;
	json_t *actions = NULL;
	char buf[LIST_BUF];

	(void)state;
	snprintf(text, sizeof(text), fmt, "busybox:1");
	set_load(&v1, text);
	snprintf(text, sizeof(text), fmt, "busybox:2");
	set_load(&v2, text);
	sim_start(&v1, &s);
	plan_round(&v2, &s, &plan, &actions);
	assert_string_equal(recreate_of(&plan, buf),
			    SET "-0-g-0-w-0," SET "-0-g-0-w-1");
	assert_string_equal(pods_of(actions, "delete", buf),
			    SET "-0-g-0-w-0," SET "-0-g-0-w-1");
	assert_true(below_min_unit(&plan, 0));
	assert_false(below_min_unit(&plan, 1));
	json_decref(actions);
	rec_plan_release(&plan);
	sim_run(&v2, &s, NULL, NULL);
	check_settled(&v2, &s);
	sim_release(&s);
	set_release(&v1);
	set_release(&v2);
}

static void test_group_units(void **state)
{
	(void)state;
	check_group_units(false);
	check_group_units(true);
}

/* ---- what serves nothing goes at once --------------------------------------- */

/*
 * Outdated pods that are not Ready are recreated at once, beyond the
 * budget: a clique of 3 (minAvailable 2) with two outdated pods not
 * Ready gets both recreated, and its Ready outdated pod kept (taking it
 * would leave fewer than minAvailable). A group's units likewise.
 */
static void test_unavailable_at_once(void **state)
{
	set v1;
	set v2;
	sim s;
	rec_plan plan = REC_PLAN_INIT;
	json_t *actions = NULL;
	char buf[LIST_BUF];
	char want[LIST_BUF];
	int form = 0;

	(void)state;
	for (form = 0; form < 2; form++) {
		clique_set(&v1, form, 3, 2, "", "busybox:1");
		clique_set(&v2, form, 3, 2, "", "busybox:2");
		sim_start(&v1, &s);
		set_ready(sim_pod(&s, SET "-0-a-1"), false);
		set_ready(sim_pod(&s, SET "-0-a-2"), false);
		plan_round(&v2, &s, &plan, &actions);
		assert_string_equal(recreate_of(&plan, buf),
				    SET "-0-a-1," SET "-0-a-2");
		assert_string_equal(pods_of(actions, "delete", buf),
				    SET "-0-a-1," SET "-0-a-2");
		json_decref(actions);
		rec_plan_release(&plan);
		/* not Ready on the current template: left alone */
		plan_round(&v1, &s, &plan, &actions);
		assert_string_equal(recreate_of(&plan, buf), "");
		assert_int_equal(count_actions(actions, "delete"), 0);
		json_decref(actions);
		rec_plan_release(&plan);
		sim_release(&s);
		set_release(&v1);
		set_release(&v2);

		group_set(&v1, form, "", "busybox:1");
		group_set(&v2, form, "", "busybox:2");
		sim_start(&v1, &s);
		set_ready(sim_pod(&s, SET "-0-g-2-w-1"), false);
		set_ready(sim_pod(&s, SET "-0-g-3-x-0"), false);
		plan_round(&v2, &s, &plan, &actions);
		/* units 2 and 3 serve nothing: both, whole; no budgeted unit
		 * (maxUnavailable 1 is already spent twice) */
		two_units(2, 3, want);
		assert_string_equal(recreate_of(&plan, buf), want);
		assert_string_equal(pods_of(actions, "delete", buf), want);
		json_decref(actions);
		rec_plan_release(&plan);
		sim_release(&s);
		set_release(&v1);
		set_release(&v2);
	}
}

/* ---- startup order ----------------------------------------------------------- */

/* Cliques a and b (b startsAfter a), 2 pods each, minAvailable 1. */
static void ordered_set(set *st, const char *image)
{
	char text[2048];

	snprintf(text, sizeof(text),
		 "apiVersion: grove.io/v1alpha1\n"
		 "kind: PodCliqueSet\n"
		 "metadata: {name: " SET ", namespace: ns}\n"
		 "spec:\n"
		 "  replicas: 1\n"
		 "  template:\n"
		 "    cliqueStartupType: CliqueStartupTypeExplicit\n"
		 "    cliques:\n"
		 "    - name: b\n"
		 "      spec:\n"
		 "        replicas: 2\n"
		 "        minAvailable: 1\n"
		 "        startsAfter: [a]\n"
		 "        podSpec: {containers: [{name: c, image: %s}]}\n"
		 "    - name: a\n"
		 "      spec:\n"
		 "        replicas: 2\n"
		 "        minAvailable: 1\n"
		 "        podSpec: {containers: [{name: c, image: %s}]}\n",
		 image, image);
	set_load(st, text);
}

/* No pod of b is recreated while a has an outdated or missing pod, and
 * the report names a then; both are rolled. */
typedef struct order_ctx {
	size_t a_rounds;
	size_t b_rounds;
} order_ctx;

static void check_order(void *vctx, const sim *s, const rec_plan *plan,
			int phase)
{
	order_ctx *c = vctx;
	char buf[LIST_BUF];
	size_t ready = 0;
	size_t outdated = 0;

	if (phase != 0)
		return;
	recreate_of(plan, buf);
	count_pods(s, SET "-0-a", current_hash(plan, SET "-0-a"), &ready,
		   &outdated);
	if (strstr(buf, SET "-0-b-")) {
		assert_int_equal(outdated, 0);
		assert_int_equal(ready, 2);
		c->b_rounds++;
	}
	if (strstr(buf, SET "-0-a-")) {
		assert_null(strstr(buf, SET "-0-b-"));
		c->a_rounds++;
	}
	if (outdated || ready < 2)
		assert_string_equal(rollout_str(plan, "component"), SET "-0-a");
}

static void test_startup_order(void **state)
{
	set v1;
	set v2;
	sim s;
	rec_plan plan = REC_PLAN_INIT;
	json_t *actions = NULL;
	order_ctx oc = { 0 };
	char buf[LIST_BUF];

	(void)state;
	ordered_set(&v1, "busybox:1");
	ordered_set(&v2, "busybox:2");
	sim_start(&v1, &s);
	plan_round(&v2, &s, &plan, &actions);
	/* b is first in the set's text, a first in startup order */
	assert_string_equal(rollout_str(&plan, "component"), SET "-0-a");
	assert_string_equal(recreate_of(&plan, buf), SET "-0-a-0");
	assert_string_equal(pods_of(actions, "delete", buf), SET "-0-a-0");
	assert_null(rollout_str(&plan, "waiting"));

	/* a on the new template, a-1 not Ready yet: b still waits, and
	 * the report says for what */
	sim_drop(&s, "Pod", SET "-0-a-0");
	sim_drop(&s, "Pod", SET "-0-a-1");
	sim_add_planned(&s, &plan, "Pod", SET "-0-a-0", true, T0);
	sim_add_planned(&s, &plan, "Pod", SET "-0-a-1", false, T0);
	sim_updates(&s, actions);
	json_decref(actions);
	rec_plan_release(&plan);
	plan_round(&v2, &s, &plan, &actions);
	assert_true(rollout_active(&plan));
	assert_string_equal(recreate_of(&plan, buf), "");
	assert_int_equal(count_actions(actions, "delete"), 0);
	assert_string_equal(rollout_str(&plan, "component"), SET "-0-a");
	assert_non_null(rollout_str(&plan, "waiting"));
	assert_non_null(strstr(rollout_str(&plan, "waiting"), SET "-0-a"));
	json_decref(actions);
	rec_plan_release(&plan);

	/* a-1 Ready: b's turn */
	set_ready(sim_pod(&s, SET "-0-a-1"), true);
	plan_round(&v2, &s, &plan, &actions);
	assert_string_equal(rollout_str(&plan, "component"), SET "-0-b");
	assert_null(rollout_str(&plan, "waiting"));
	assert_string_equal(recreate_of(&plan, buf), SET "-0-b-0");
	json_decref(actions);
	rec_plan_release(&plan);
	sim_release(&s);

	/* driven from the start */
	sim_start(&v1, &s);
	sim_run(&v2, &s, check_order, &oc);
	assert_int_equal(oc.a_rounds, 2);
	assert_int_equal(oc.b_rounds, 2);
	check_settled(&v2, &s);
	sim_release(&s);
	set_release(&v1);
	set_release(&v2);
}

/* Within one wave (no startsAfter), a standalone clique goes before a
 * group, though the group comes first in the text. */
static void test_group_after_clique(void **state)
{
	static const char fmt[] =
	    "apiVersion: grove.io/v1alpha1\n"
	    "kind: PodCliqueSet\n"
	    "metadata: {name: " SET ", namespace: ns}\n"
	    "spec:\n"
	    "  replicas: 1\n"
	    "  template:\n"
	    "    cliques:\n"
	    "    - name: w\n"
	    "      spec:\n"
	    "        replicas: 1\n"
	    "        podSpec: {containers: [{name: c, image: %s}]}\n"
	    "    - name: r\n"
	    "      spec:\n"
	    "        replicas: 2\n"
	    "        minAvailable: 1\n"
	    "        podSpec: {containers: [{name: c, image: %s}]}\n"
	    "    podCliqueScalingGroups:\n"
	    "    - {name: g, cliqueNames: [w], replicas: 3, minAvailable: 1}\n";
	char text[2048];
	set v1;
	set v2;
	sim s;
	rec_plan plan = REC_PLAN_INIT;
	json_t *actions = NULL;
	char buf[LIST_BUF];

	(void)state;
	snprintf(text, sizeof(text), fmt, "busybox:1", "busybox:1");
	set_load(&v1, text);
	snprintf(text, sizeof(text), fmt, "busybox:2", "busybox:2");
	set_load(&v2, text);
	sim_start(&v1, &s);
	plan_round(&v2, &s, &plan, &actions);
	assert_string_equal(rollout_str(&plan, "component"), SET "-0-r");
	assert_string_equal(recreate_of(&plan, buf), SET "-0-r-0");
	json_decref(actions);
	rec_plan_release(&plan);
	sim_run(&v2, &s, NULL, NULL);
	check_settled(&v2, &s);
	sim_release(&s);
	set_release(&v1);
	set_release(&v2);
}

/* ---- set replicas --------------------------------------------------------------- */

/* Nothing of set replica 1 is recreated while replica 0 is unfinished. */
typedef struct replica_ctx {
	size_t rounds[2];
} replica_ctx;

static void check_replicas(void *vctx, const sim *s, const rec_plan *plan,
			   int phase)
{
	replica_ctx *c = vctx;
	char buf[LIST_BUF];
	size_t ready = 0;
	size_t outdated = 0;

	if (phase != 0)
		return;
	recreate_of(plan, buf);
	count_pods(s, SET "-0-a", current_hash(plan, SET "-0-a"), &ready,
		   &outdated);
	if (strstr(buf, SET "-1-a-")) {
		assert_null(strstr(buf, SET "-0-a-"));
		assert_int_equal(outdated, 0);
		assert_int_equal(ready, 2);
		assert_int_equal(rollout_int(plan, "replicaIndex"), 1);
		c->rounds[1]++;
	}
	if (strstr(buf, SET "-0-a-")) {
		assert_int_equal(rollout_int(plan, "replicaIndex"), 0);
		c->rounds[0]++;
	}
	if (outdated || ready < 2)
		assert_int_equal(rollout_int(plan, "replicaIndex"), 0);
}

static void test_set_replicas(void **state)
{
	static const char fmt[] =
	    "apiVersion: grove.io/v1alpha1\n"
	    "kind: PodCliqueSet\n"
	    "metadata: {name: " SET ", namespace: ns}\n"
	    "spec:\n"
	    "  replicas: 2\n"
	    "  template:\n"
	    "    cliques:\n"
	    "    - name: a\n"
	    "      spec:\n"
	    "        replicas: 2\n"
	    "        minAvailable: 1\n"
	    "        podSpec: {containers: [{name: c, image: %s}]}\n";
	char text[2048];
	set v1;
	set v2;
	sim s;
	rec_plan plan = REC_PLAN_INIT;
	json_t *actions = NULL;
	replica_ctx rc = { { 0 } };
	char buf[LIST_BUF];

	(void)state;
	snprintf(text, sizeof(text), fmt, "busybox:1");
	set_load(&v1, text);
	snprintf(text, sizeof(text), fmt, "busybox:2");
	set_load(&v2, text);
	sim_start(&v1, &s);
	plan_round(&v2, &s, &plan, &actions);
	assert_int_equal(rollout_int(&plan, "replicaIndex"), 0);
	assert_string_equal(rollout_str(&plan, "component"), SET "-0-a");
	assert_string_equal(recreate_of(&plan, buf), SET "-0-a-0");
	assert_string_equal(pods_of(actions, "delete", buf), SET "-0-a-0");
	json_decref(actions);
	rec_plan_release(&plan);
	sim_run(&v2, &s, check_replicas, &rc);
	assert_int_equal(rc.rounds[0], 2);
	assert_int_equal(rc.rounds[1], 2);
	check_settled(&v2, &s);
	sim_release(&s);
	set_release(&v1);
	set_release(&v2);
}

/* ---- progressDeadline ------------------------------------------------------------ */

/*
 * 4 pods, minAvailable 1, maxUnavailable 2, progressDeadline 10m: a-0
 * and a-1 go first; a-0 comes back Ready, a-1 does not. Past the
 * deadline (from a-1's creationTimestamp to rec_input.now) the rollout
 * holds: no a-2, rollout.held names a-1. Within it a-2 goes and
 * recheckSeconds says when the deadline ends; without a clock (now 0)
 * nothing is checked.
 */
static void test_progress_deadline(void **state)
{
	set v1;
	set v2;
	sim s;
	rec_plan plan = REC_PLAN_INIT;
	json_t *actions = NULL;
	char buf[LIST_BUF];
	time_t t0 = 0;
	int form = 0;

	(void)state;
	assert_true(gv_time_parse_utc(T0, &t0));
	for (form = 0; form < 2; form++) {
		const char *ru = "{maxUnavailable: 2, progressDeadline: 10m}";

		clique_set(&v1, form, 4, 1, ru, "busybox:1");
		clique_set(&v2, form, 4, 1, ru, "busybox:2");
		sim_start(&v1, &s);
		s.now = (int64_t)t0 + 3600;
		plan_round(&v2, &s, &plan, &actions);
		assert_string_equal(recreate_of(&plan, buf),
				    SET "-0-a-0," SET "-0-a-1");
		json_decref(actions);
		rec_plan_release(&plan);
		sim_drop(&s, "Pod", SET "-0-a-0");
		sim_drop(&s, "Pod", SET "-0-a-1");
		plan_round(&v2, &s, &plan, &actions);
		assert_string_equal(pods_of(actions, "create", buf),
				    SET "-0-a-0," SET "-0-a-1");
		sim_add_planned(&s, &plan, "Pod", SET "-0-a-0", true, T0);
		sim_add_planned(&s, &plan, "Pod", SET "-0-a-1", false, T0);
		json_decref(actions);
		rec_plan_release(&plan);

		/* 601 s after a-1 was made: held */
		s.now = (int64_t)t0 + 601;
		plan_round(&v2, &s, &plan, &actions);
		assert_true(rollout_active(&plan));
		assert_string_equal(recreate_of(&plan, buf), "");
		assert_int_equal(count_actions(actions, "delete"), 0);
		assert_non_null(rollout_str(&plan, "held"));
		assert_non_null(
		    strstr(rollout_str(&plan, "held"), SET "-0-a-1"));
		json_decref(actions);
		rec_plan_release(&plan);

		/* 60 s: within it, the next pod goes; a round is asked for
		 * when the deadline ends */
		s.now = (int64_t)t0 + 60;
		plan_round(&v2, &s, &plan, &actions);
		assert_null(rollout_str(&plan, "held"));
		assert_string_equal(recreate_of(&plan, buf), SET "-0-a-2");
		assert_true(rollout_int(&plan, "recheckSeconds") > 0);
		assert_true(rollout_int(&plan, "recheckSeconds") <=
			    600 - 60 + 1);
		json_decref(actions);
		rec_plan_release(&plan);

		/* no clock: not checked */
		s.now = 0;
		plan_round(&v2, &s, &plan, &actions);
		assert_null(rollout_str(&plan, "held"));
		assert_string_equal(recreate_of(&plan, buf), SET "-0-a-2");
		json_decref(actions);
		rec_plan_release(&plan);

		/* held, then a-1 becomes Ready: the rollout goes on */
		s.now = (int64_t)t0 + 601;
		set_ready(sim_pod(&s, SET "-0-a-1"), true);
		plan_round(&v2, &s, &plan, &actions);
		assert_null(rollout_str(&plan, "held"));
		assert_string_equal(recreate_of(&plan, buf),
				    SET "-0-a-2," SET "-0-a-3");
		json_decref(actions);
		rec_plan_release(&plan);
		sim_release(&s);
		set_release(&v1);
		set_release(&v2);
	}
}

/*
 * A group of 4 units, maxUnavailable 2, progressDeadline 5m, and a new
 * image that never becomes Ready (issue 18's scenario 6 as the planner
 * sees it): units 1 and 2 are recreated, then the rollout holds, even
 * once unit 1 is Ready (room for one more unit); units 3 and 0 keep
 * serving on the old template.
 */
static void test_group_progress_deadline(void **state)
{
	set v1;
	set v2;
	sim s;
	rec_plan plan = REC_PLAN_INIT;
	json_t *actions = NULL;
	char buf[LIST_BUF];
	char want[LIST_BUF];
	time_t t0 = 0;
	int form = 0;
	int round = 0;

	(void)state;
	assert_true(gv_time_parse_utc(T0, &t0));
	for (form = 0; form < 2; form++) {
		const char *ru = "{maxUnavailable: 2, progressDeadline: 5m}";

		group_set(&v1, form, ru, "busybox:1");
		group_set(&v2, form, ru, "busybox:2");
		sim_start(&v1, &s);
		s.now = (int64_t)t0 + 3600;
		s.new_ready = false;
		plan_round(&v2, &s, &plan, &actions);
		assert_string_equal(recreate_of(&plan, buf),
				    two_units(1, 2, want));
		json_decref(actions);
		rec_plan_release(&plan);
		for (round = 0; round < 6; round++)
			sim_round(&v2, &s, NULL, NULL);
		/* unit 1 comes up after all, unit 2 never: room for one more
		 * unit, which the hold keeps */
		set_ready(sim_pod(&s, SET "-0-g-1-w-0"), true);
		set_ready(sim_pod(&s, SET "-0-g-1-w-1"), true);
		set_ready(sim_pod(&s, SET "-0-g-1-x-0"), true);
		plan_round(&v2, &s, &plan, &actions);
		assert_true(rollout_active(&plan));
		assert_string_equal(recreate_of(&plan, buf), "");
		assert_int_equal(count_actions(actions, "delete"), 0);
		assert_non_null(rollout_str(&plan, "held"));
		assert_string_equal(rollout_str(&plan, "component"),
				    SET "-0-g");
		/* the old units still there, Ready */
		assert_true(is_ready(sim_pod(&s, SET "-0-g-3-w-0")));
		assert_true(is_ready(sim_pod(&s, SET "-0-g-0-x-0")));
		assert_string_not_equal(label_of(sim_pod(&s, SET "-0-g-0-x-0"),
						 POL_LABEL_TEMPLATE_HASH),
					current_hash(&plan, SET "-0-g-0-x"));
		json_decref(actions);
		rec_plan_release(&plan);
		/* without the clock, the next unit would go */
		s.now = 0;
		plan_round(&v2, &s, &plan, &actions);
		assert_null(rollout_str(&plan, "held"));
		assert_string_equal(recreate_of(&plan, buf),
				    unit_pods(3, want));
		json_decref(actions);
		rec_plan_release(&plan);
		sim_release(&s);
		set_release(&v1);
		set_release(&v2);
	}
}

/* maxSurge 2 with minAvailable == replicas == 2: both replacements made
 * first, at once, each beside its index. */
static void test_surge_two(void **state)
{
	set v1;
	set v2;
	sim s;
	rec_plan plan = REC_PLAN_INIT;
	json_t *actions = NULL;
	surge_ctx sc = { 0 };
	char buf[LIST_BUF];

	(void)state;
	clique_set(&v1, false, 2, 2, "{maxSurge: 2}", "busybox:1");
	clique_set(&v2, false, 2, 2, "{maxSurge: 2}", "busybox:2");
	sim_start(&v1, &s);
	plan_round(&v2, &s, &plan, &actions);
	assert_string_equal(recreate_of(&plan, buf), "");
	assert_string_equal(pods_of(actions, "create", buf),
			    SET "-0-a-0-1," SET "-0-a-1-1");
	assert_string_equal(label_of(planned(&plan, "Pod", SET "-0-a-1-1"),
				     POL_LABEL_POD_INDEX),
			    "1");
	json_decref(actions);
	rec_plan_release(&plan);
	sim_run(&v2, &s, check_surge, &sc);
	assert_int_equal(sc.rounds_without_ready, 0);
	check_settled(&v2, &s);
	sim_release(&s);
	set_release(&v1);
	set_release(&v2);
}

/* ---- OnDelete ------------------------------------------------------------------ */

static void test_on_delete(void **state)
{
	static const char fmt[] =
	    "apiVersion: grove.io/v1alpha1\n"
	    "kind: PodCliqueSet\n"
	    "metadata: {name: " SET ", namespace: ns}\n"
	    "spec:\n"
	    "  replicas: 1\n"
	    "  updateStrategy: {type: OnDelete}\n"
	    "  template:\n"
	    "    cliques:\n"
	    "    - name: a\n"
	    "      spec:\n"
	    "        replicas: 3\n"
	    "        minAvailable: 2\n"
	    "        podSpec: {containers: [{name: c, image: %s}]}\n";
	char text[2048];
	set v1;
	set v2;
	sim s;
	rec_plan plan = REC_PLAN_INIT;
	json_t *actions = NULL;
	char buf[LIST_BUF];

	(void)state;
	snprintf(text, sizeof(text), fmt, "busybox:1");
	set_load(&v1, text);
	snprintf(text, sizeof(text), fmt, "busybox:2");
	set_load(&v2, text);
	assert_true(v2.pcs.on_delete);
	sim_start(&v1, &s);
	/* one outdated pod not Ready: not recreated either */
	set_ready(sim_pod(&s, SET "-0-a-2"), false);
	plan_round(&v2, &s, &plan, &actions);
	assert_true(rollout_active(&plan));
	assert_string_equal(rollout_str(&plan, "strategy"), "OnDelete");
	assert_string_equal(recreate_of(&plan, buf), "");
	assert_int_equal(count_actions(actions, "delete"), 0);
	assert_string_equal(pods_of(actions, "create", buf), "");
	json_decref(actions);
	rec_plan_release(&plan);

	/* someone deletes a-1: it comes back on the new template */
	sim_drop(&s, "Pod", SET "-0-a-1");
	plan_round(&v2, &s, &plan, &actions);
	assert_string_equal(recreate_of(&plan, buf), "");
	assert_int_equal(count_actions(actions, "delete"), 0);
	assert_string_equal(pods_of(actions, "create", buf), SET "-0-a-1");
	assert_string_equal(label_of(planned(&plan, "Pod", SET "-0-a-1"),
				     POL_LABEL_TEMPLATE_HASH),
			    current_hash(&plan, SET "-0-a"));
	json_decref(actions);
	rec_plan_release(&plan);
	sim_release(&s);
	set_release(&v1);
	set_release(&v2);
}

/* ---- reverts and replica changes ------------------------------------------------ */

/*
 * v1 -> v2 recreates a-0; once a-0 runs v2, a revert to v1 recreates
 * nothing that runs v1 (a-1, a-2), only a-0 (on v2, now outdated).
 */
static void test_revert(void **state)
{
	set v1;
	set v2;
	sim s;
	rec_plan plan = REC_PLAN_INIT;
	json_t *actions = NULL;
	char buf[LIST_BUF];
	int form = 0;

	(void)state;
	for (form = 0; form < 2; form++) {
		clique_set(&v1, form, 3, 2, "", "busybox:1");
		clique_set(&v2, form, 3, 2, "", "busybox:2");
		sim_start(&v1, &s);
		assert_true(sim_round(&v2, &s, NULL, NULL)); /* a-0 gone */
		assert_true(sim_round(&v2, &s, NULL, NULL)); /* a-0 on v2 */
		plan_round(&v1, &s, &plan, &actions);
		assert_string_not_equal(label_of(sim_pod(&s, SET "-0-a-0"),
						 POL_LABEL_TEMPLATE_HASH),
					current_hash(&plan, SET "-0-a"));
		assert_string_equal(label_of(sim_pod(&s, SET "-0-a-1"),
					     POL_LABEL_TEMPLATE_HASH),
				    current_hash(&plan, SET "-0-a"));
		assert_true(rollout_active(&plan));
		assert_string_equal(recreate_of(&plan, buf), SET "-0-a-0");
		assert_string_equal(pods_of(actions, "delete", buf),
				    SET "-0-a-0");
		json_decref(actions);
		rec_plan_release(&plan);
		sim_run(&v1, &s, NULL, NULL);
		check_settled(&v1, &s);
		sim_release(&s);
		set_release(&v1);
		set_release(&v2);
	}
}

/*
 * Replica changes make nothing outdated: an observed PodClique's
 * spec.replicas (kubectl scale, an HPA) other than the template's, a
 * template's replicas, a compact clique's replicas or rollingUpdate:
 * no rollout, the new pods on the same template.
 */
static void test_replicas_change_nothing(void **state)
{
	set v1;
	set v3;
	sim s;
	rec_plan plan = REC_PLAN_INIT;
	json_t *actions = NULL;
	const char *h = NULL;
	char buf[LIST_BUF];
	int form = 0;

	(void)state;
	for (form = 0; form < 2; form++) {
		clique_set(&v1, form, 3, 2, "", "busybox:1");
		sim_start(&v1, &s);
		h = label_of(sim_pod(&s, SET "-0-a-0"),
			     POL_LABEL_TEMPLATE_HASH);
		if (!form) {
			/* the observed PodClique scaled to 5 */
			set_member(sim_find(&s, "PodClique", SET "-0-a"),
				   "spec", "replicas", json_integer(5));
			plan_round(&v1, &s, &plan, &actions);
			assert_false(rollout_active(&plan));
			assert_string_equal(recreate_of(&plan, buf), "");
			assert_int_equal(count_actions(actions, "delete"), 0);
			assert_string_equal(pods_of(actions, "create", buf),
					    SET "-0-a-3," SET "-0-a-4");
			assert_string_equal(
			    label_of(planned(&plan, "Pod", SET "-0-a-4"),
				     POL_LABEL_TEMPLATE_HASH),
			    h);
			json_decref(actions);
			rec_plan_release(&plan);
		}
		/* the text's replicas 3 -> 4 (template: the observed count
		 * wins; compact: one more pod), and a rollingUpdate */
		clique_set(&v3, form, 4, 2, "{maxUnavailable: 2}", "busybox:1");
		plan_round(&v3, &s, &plan, &actions);
		assert_false(rollout_active(&plan));
		assert_string_equal(recreate_of(&plan, buf), "");
		assert_int_equal(count_actions(actions, "delete"), 0);
		assert_string_equal(current_hash(&plan, SET "-0-a"), h);
		json_decref(actions);
		rec_plan_release(&plan);
		sim_run(&v3, &s, NULL, NULL);
		check_settled(&v3, &s);
		sim_release(&s);
		set_release(&v1);
		set_release(&v3);
	}
}

/* ---- the reference workload ------------------------------------------------- */

/* text with every from replaced by to: the caller frees it. */
static char *replaced(const char *text, const char *from, const char *to)
{
	size_t lf = strlen(from);
	size_t lt = strlen(to);
	size_t n = strlen(text) + 1;
	const char *at = text;
	char *out = NULL;
	char *w = NULL;

	while ((at = strstr(at, from)) != NULL) {
		n += lt;
		at += lf;
	}
	out = malloc(n);
	assert_non_null(out);
	w = out;
	for (at = text; *at;) {
		const char *next = strstr(at, from);
		size_t len = next ? (size_t)(next - at) : strlen(at);

		memcpy(w, at, len);
		w += len;
		at += len;
		if (next) {
			memcpy(w, to, lt);
			w += lt;
			at += lf;
		}
	}
	*w = '\0';
	return out;
}

/* Ready (not terminating) pods of PodClique pclq on template hash, and
 * on another. */
static void ready_by_template(const sim *s, const char *pclq, const char *hash,
			      size_t *cur, size_t *old)
{
	const json_t *pod = NULL;
	size_t i = 0;

	*cur = 0;
	*old = 0;
	json_array_foreach(s->lists[3], i, pod)
	{
		const char *l = label_of(pod, POL_LABEL_PCLQ);

		if (!l || strcmp(l, pclq) != 0 || !is_ready(pod))
			continue;
		if (!strcmp(label_of(pod, POL_LABEL_TEMPLATE_HASH), hash))
			(*cur)++;
		else
			(*old)++;
	}
}

#define REF_UNITS 4

/* What a rollout of the reference workload left at its worst. */
typedef struct ref_ctx {
	size_t router_dark; /* rounds that left the router no Ready pod */
	size_t fewest_units; /* fewest units available after deletions */
	size_t mixed; /* a unit with Ready pods of two templates */
} ref_ctx;

static void check_reference(void *vctx, const sim *s, const rec_plan *plan,
			    int phase)
{
	ref_ctx *c = vctx;
	bool short_of[REF_UNITS] = { false };
	bool has_cur[REF_UNITS] = { false };
	bool has_old[REF_UNITS] = { false };
	const json_t *item = NULL;
	size_t available = 0;
	size_t i = 0;
	int64_t j = 0;

	json_array_foreach(plan->items, i, item)
	{
		const json_t *o = json_object_get(item, "object");
		const char *unit = label_of(o, POL_LABEL_PCSG_INDEX);
		json_int_t min = json_integer_value(json_object_get(
		    json_object_get(o, "spec"), "minAvailable"));
		size_t cur = 0;
		size_t old = 0;

		if (!kind_is(o, "PodClique"))
			continue;
		ready_by_template(s, name_of(o),
				  label_of(o, POL_LABEL_TEMPLATE_HASH), &cur,
				  &old);
		if (!unit) {
			if (phase == 1 && cur + old == 0)
				c->router_dark++;
			continue;
		}
		j = strtoll(unit, NULL, 10);
		assert_true(j >= 0 && j < REF_UNITS);
		if ((json_int_t)(cur + old) < min)
			short_of[j] = true;
		has_cur[j] |= cur > 0;
		has_old[j] |= old > 0;
	}
	for (j = 0; j < REF_UNITS; j++) {
		if (!short_of[j])
			available++;
		if (has_cur[j] && has_old[j])
			c->mixed++;
	}
	if (phase == 1 && available < c->fewest_units)
		c->fewest_units = available;
}

/*
 * The reference workload at 4 units, maxSurge 1 on its router, every
 * image changed (issue 18's scenario 1, as the planner sees it): the
 * router never without a Ready pod, a unit available at every round, no
 * unit Ready on two templates, each pod deleted once and made once, and
 * every pod on the new template at the end.
 */
static void test_reference_workload(void **state)
{
	char *text = tu_file("examples/vllm-disaggregated.yaml");
	char *t1 = replaced(text, "\nspec:\n", "\nspec:\n  replicas: 4\n");
	char *t2 = replaced(t1, "  - name: router-clique\n",
			    "  - name: router-clique\n"
			    "    rollingUpdate: {maxSurge: 1}\n");
	char *t3 = replaced(t2, "vllm-runtime:1.0.0", "vllm-runtime:1.1.0");
	char *t4 = replaced(t3, "nvidia/vllm:latest", "nvidia/vllm:next");
	ref_ctx rc = { .fewest_units = 99 };
	set v1;
	set v2;
	sim s;
	size_t rounds = 0;
	size_t pods = 0;

	(void)state;
	assert_string_not_equal(t2, t3);
	assert_string_not_equal(t3, t4);
	set_load(&v1, t2);
	set_load(&v2, t4);
	sim_start(&v1, &s);
	pods = json_array_size(s.lists[3]);
	assert_int_equal(pods, 1 + REF_UNITS * 3);
	s.pod_deletes = 0;
	s.pod_creates = 0;
	rounds = sim_run(&v2, &s, check_reference, &rc);
	assert_int_equal(rc.router_dark, 0);
	assert_int_equal(rc.fewest_units, REF_UNITS - 1);
	assert_int_equal(rc.mixed, 0);
	assert_int_equal(s.pod_deletes, pods);
	assert_int_equal(s.pod_creates, pods);
	/* the router's surge made, its old pod deleted, then each unit
	 * deleted and made again */
	assert_int_equal(rounds, 2 + 2 * REF_UNITS);
	check_settled(&v2, &s);
	assert_non_null(
	    sim_find(&s, "Pod", "vllm-disaggregated-0-router-clique-0-1"));
	sim_release(&s);
	set_release(&v1);
	set_release(&v2);
	free(text);
	free(t1);
	free(t2);
	free(t3);
	free(t4);
}

/* ---- settled --------------------------------------------------------------------- */

/* Against its own output, every pod current: no rollout, no action;
 * the reference workload too. */
static void test_own_output(void **state)
{
	char *text = tu_file("examples/vllm-disaggregated.yaml");
	set st;
	sim s;
	int form = 0;

	(void)state;
	for (form = 0; form < 2; form++) {
		clique_set(&st, form, 3, 2, "", "busybox:1");
		sim_start(&st, &s); /* check_settled */
		sim_release(&s);
		set_release(&st);
		group_set(&st, form, "", "busybox:1");
		sim_start(&st, &s);
		sim_release(&s);
		set_release(&st);
	}
	set_load(&st, text);
	sim_start(&st, &s);
	sim_release(&s);
	set_release(&st);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clique_one_at_a_time),
		cmocka_unit_test(test_clique_max_unavailable),
		cmocka_unit_test(test_single_without_surge),
		cmocka_unit_test(test_all_needed_one_at_a_time),
		cmocka_unit_test(test_single_with_surge),
		cmocka_unit_test(test_surge_two),
		cmocka_unit_test(test_group_units),
		cmocka_unit_test(test_group_all_base),
		cmocka_unit_test(test_unavailable_at_once),
		cmocka_unit_test(test_startup_order),
		cmocka_unit_test(test_group_after_clique),
		cmocka_unit_test(test_set_replicas),
		cmocka_unit_test(test_progress_deadline),
		cmocka_unit_test(test_group_progress_deadline),
		cmocka_unit_test(test_on_delete),
		cmocka_unit_test(test_revert),
		cmocka_unit_test(test_replicas_change_nothing),
		cmocka_unit_test(test_own_output),
		cmocka_unit_test(test_reference_workload),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
