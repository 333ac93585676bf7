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
#include "test_plan_util.h"

#include <inttypes.h>

/* The set's name in every text here. */
#define SET TP_SET
/* The creationTimestamp of the pods of the first plan. */
#define T0 "2026-12-01T00:00:00Z"
/* Rounds a rollout here takes at most. */
#define MAX_ROUNDS 64
/* Room for a joined list of pod names. */
#define LIST_BUF 4096
/* Room for a set's text. */
#define TEXT_BUF 2048
/* The image of a set's first version; its second runs busybox:2. */
#define IMAGE1 "busybox:1"
/* A template clique's minAvailable 1 (TP_CLIQUE's more). */
#define MIN1 "        minAvailable: 1\n"
/* The template form's first lines, spec.replicas replicas (a string). */
#define TEMPLATE_HEAD(replicas) \
	TP_HEAD "  replicas: " replicas "\n  template:\n"

/* ---- a set -------------------------------------------------------------- */

/* A PodCliqueSet, defaulted, and its model. */
typedef struct set {
	json_t *doc;
	pol_pcs pcs;
} set;

/* Defaults text, which must be valid, and builds its model. */
static void set_load(set *s, const char *text)
{
	s->doc = tp_default(text, -1, true);
	tp_build(s->doc, &s->pcs);
}

static void set_release(set *s)
{
	pol_pcs_release(&s->pcs);
	json_decref(s->doc);
}

/* ---- the cluster ---------------------------------------------------------- */

/* What is observed, and the clock. */
typedef struct sim {
	tp_cluster c;
	int64_t now; /* rec_input.now (unix seconds); 0: not checked */
	const char *created; /* creationTimestamp of pods made now */
	bool new_ready; /* pods made from now on are Ready at once */
	size_t pod_deletes; /* sim_apply's, so far */
	size_t pod_creates;
} sim;

static void sim_init(sim *s)
{
	memset(s, 0, sizeof(*s));
	tp_cluster_init(&s->c);
	s->created = T0;
	s->new_ready = true;
}

static void sim_release(sim *s)
{
	tp_cluster_release(&s->c);
}

/* The observed pod name, which must exist (borrowed, mutable). */
static json_t *sim_pod(const sim *s, const char *name)
{
	json_t *pod = tp_cluster_find(&s->c, "Pod", name, NULL);

	if (!pod)
		print_error("no observed pod '%s'\n", name);
	assert_non_null(pod);
	return pod;
}

/* The template hash of the observed pod name (borrowed). */
static const char *pod_hash(const sim *s, const char *name)
{
	return tp_label_of(sim_pod(s, name), POL_LABEL_TEMPLATE_HASH);
}

/* kind/name is gone from the cluster; it must have been there. */
static void sim_drop(sim *s, const char *kind, const char *name)
{
	size_t at = 0;

	assert_non_null(tp_cluster_find(&s->c, kind, name, &at));
	assert_int_equal(json_array_remove(s->c.lists[tp_list_of(kind)], at),
			 0);
}

/* pod bound to a node, Running, Ready or not, made at created. */
static void bind_pod(json_t *pod, bool ready, const char *created)
{
	tp_bind(pod, ready);
	tp_set_member(pod, "metadata", "creationTimestamp",
		      json_string(created));
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

/* A copy of the planned pod name into the cluster, bound, Ready or not,
 * made at T0. */
static void sim_add_pod(sim *s, const rec_plan *plan, const char *name,
			bool ready)
{
	json_t *o = json_deep_copy(tp_planned(plan, "Pod", name));

	if (!o)
		print_error("pod '%s' is not planned\n", name);
	assert_non_null(o);
	bind_pod(o, ready, T0);
	assert_int_equal(json_array_append_new(s->c.lists[TP_PODS], o), 0);
}

/* Merges an update action's fields into the observed object. */
static void apply_update(sim *s, const json_t *a)
{
	json_t *o = tp_cluster_find(
	    &s->c, json_string_value(json_object_get(a, "kind")),
	    json_string_value(json_object_get(a, "name")), NULL);
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

/* The planned pod is on the current template of PodClique pclq. */
static void expect_planned_current(const rec_plan *plan, const char *pod,
				   const char *pclq)
{
	assert_string_equal(
	    tp_label_of(tp_planned(plan, "Pod", pod), POL_LABEL_TEMPLATE_HASH),
	    tp_planned_hash(plan, pclq));
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
	in.observed = s->c.obs;
	in.now = s->now;
	rc = rec_plan_build(&in, plan, &err);
	if (rc != GV_OK)
		print_error("plan: %s\n", err.text);
	assert_int_equal(rc, GV_OK);
	assert_non_null(plan->rollout);
	assert_int_equal(rec_plan_actions(plan, &st->pcs, &s->c.obs, actions),
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
		const char *kind =
		    json_string_value(json_object_get(a, "kind"));

		assert_string_not_equal(what, "conflict");
		if (strcmp(what, "delete") != 0)
			continue;
		if (!strcmp(kind, "Pod"))
			s->pod_deletes++;
		sim_drop(s, kind,
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
			assert_int_equal(json_array_append_new(
					     s->c.lists[tp_list_of(kind)], o),
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
	json_array_foreach(s->c.lists[TP_PODS], i, pod)
	{
		const char *pclq = tp_label_of(pod, POL_LABEL_PCLQ);

		assert_string_equal(tp_label_of(pod, POL_LABEL_TEMPLATE_HASH),
				    tp_planned_hash(&plan, pclq));
	}
	assert_false(rollout_active(&plan));
	assert_string_equal(recreate_of(&plan, buf), "");
	assert_int_equal(
	    json_object_size(json_object_get(plan.rollout, "outdatedUnits")),
	    0);
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

/* Pods of PodClique pclq in the cluster, against its current template
 * in plan. */
typedef struct pod_count {
	size_t ready; /* Ready (and not terminating) */
	size_t ready_old; /* of those, on another template */
	size_t outdated; /* on another template, Ready or not */
} pod_count;

static pod_count count_pods(const sim *s, const rec_plan *plan,
			    const char *pclq)
{
	const char *hash = tp_planned_hash(plan, pclq);
	pod_count n = { 0 };
	const json_t *pod = NULL;
	size_t i = 0;

	json_array_foreach(s->c.lists[TP_PODS], i, pod)
	{
		const char *l = tp_label_of(pod, POL_LABEL_PCLQ);
		bool old = false;

		if (!l || strcmp(l, pclq) != 0)
			continue;
		old = strcmp(tp_label_of(pod, POL_LABEL_TEMPLATE_HASH), hash) !=
		      0;
		n.outdated += old;
		if (is_ready(pod)) {
			n.ready++;
			n.ready_old += old;
		}
	}
	return n;
}

/* ---- a rollout ---------------------------------------------------------------- */

/* A set before (v1) and after (v2) a change, the cluster running v1,
 * and the round ro_plan planned last (released by the next one). */
typedef struct ro {
	set v1;
	set v2;
	sim s;
	rec_plan plan;
	json_t *actions;
	char buf[LIST_BUF]; /* what recreated(), deleted(), created() say */
} ro;

/* Loads v1 from text and v2 from text2 (NULL: text with busybox:1
 * changed to busybox:2), and makes the cluster from v1's plan. */
static void ro_open(ro *r, const char *text, const char *text2)
{
	char *changed = NULL;

	memset(r, 0, sizeof(*r));
	r->plan = (rec_plan)REC_PLAN_INIT;
	if (!text2) {
		changed = tp_replaced(text, IMAGE1, "busybox:2");
		assert_string_not_equal(changed, text);
	}
	set_load(&r->v1, text);
	set_load(&r->v2, text2 ? text2 : changed);
	free(changed);
	sim_start(&r->v1, &r->s);
}

/* Releases the last round. */
static void ro_done(ro *r)
{
	json_decref(r->actions);
	r->actions = NULL;
	rec_plan_release(&r->plan);
}

/* Plans st (v2 when NULL) against the cluster, without applying it. */
static void ro_plan(ro *r, const set *st)
{
	ro_done(r);
	plan_round(st ? st : &r->v2, &r->s, &r->plan, &r->actions);
}

/* Rounds of st (v2 when NULL) to the end, check at each, then settled
 * on it; returns the rounds that did something. */
static size_t ro_run(ro *r, const set *st, sim_check check, void *ctx)
{
	size_t n = 0;

	ro_done(r);
	n = sim_run(st ? st : &r->v2, &r->s, check, ctx);
	check_settled(st ? st : &r->v2, &r->s);
	return n;
}

/* The cluster made again from v1's plan. */
static void ro_restart(ro *r)
{
	ro_done(r);
	sim_release(&r->s);
	sim_start(&r->v1, &r->s);
}

static void ro_close(ro *r)
{
	ro_done(r);
	sim_release(&r->s);
	set_release(&r->v1);
	set_release(&r->v2);
}

/* The last round's rollout.recreate, its deleted pods, its created
 * pods: sorted and joined (in r->buf, until the next call). */
static const char *recreated(ro *r)
{
	return recreate_of(&r->plan, r->buf);
}

static const char *deleted(ro *r)
{
	return pods_of(r->actions, "delete", r->buf);
}

static const char *created(ro *r)
{
	return pods_of(r->actions, "create", r->buf);
}

/* The last round recreates the pods want and deletes just those. */
static void expect_recreate(ro *r, const char *want)
{
	assert_string_equal(recreated(r), want);
	assert_string_equal(deleted(r), want);
}

/* The last round recreates nothing and deletes nothing. */
static void expect_still(ro *r)
{
	assert_string_equal(recreated(r), "");
	assert_int_equal(count_actions(r->actions, "delete"), 0);
}

/* test_<name>: check_<name> on the template form, then the compact. */
#define BOTH_FORMS_TEST(name)                 \
	static void test_##name(void **state) \
	{                                     \
		(void)state;                  \
		check_##name(false);          \
		check_##name(true);           \
	}

/* The pod, deleted by someone: the next round makes it again under its
 * name, on the current template of PodClique pclq, and deletes nothing;
 * not applied. */
static void expect_made_again(ro *r, const char *pod, const char *pclq)
{
	sim_drop(&r->s, "Pod", pod);
	ro_plan(r, NULL);
	expect_still(r);
	assert_string_equal(created(r), pod);
	expect_planned_current(&r->plan, pod, pclq);
}

/* ---- the sets ------------------------------------------------------------------ */

/* clang-format off */

/* clique_text's texts: the compact form's (replicas, minAvailable, the
 * rollingUpdate line) and the template form's (the rollingUpdate line,
 * replicas, minAvailable). */
#define CLIQUE_COMPACT                                                  \
	TP_HEAD                                                         \
	"  podCliques:\n"                                               \
	"  - name: a\n"                                                 \
	"    replicas: %d\n"                                            \
	"    minAvailable: %d\n"                                        \
	"%s"                                                            \
	"    containers: [{name: c, image: " IMAGE1 "}]\n"
#define CLIQUE_TEMPLATE                                                 \
	TEMPLATE_HEAD("1")                                              \
	"    cliques:\n"                                                \
	"    - name: a\n"                                               \
	"%s"                                                            \
	TP_CLIQUE_SPEC("%d", "        minAvailable: %d\n", IMAGE1)

/* group_text's texts, the group's rollingUpdate member (", ..." or "")
 * at the %s. */
#define GROUP_COMPACT                                                   \
	TP_HEAD                                                         \
	"  replicas: 4\n"                                               \
	"  scaling: {minReplicas: 1, maxReplicas: 4}\n"                 \
	"  scalingGroups:\n"                                            \
	"  - {name: g, cliques: [w, x], replicas: [2, 1]%s}\n"          \
	"  podCliques:\n"                                               \
	"  - name: w\n"                                                 \
	"    containers: [{name: c, image: " IMAGE1 "}]\n"              \
	"  - name: x\n"                                                 \
	"    containers: [{name: c, image: " IMAGE1 "}]\n"
#define GROUP_TEMPLATE                                                  \
	TEMPLATE_HEAD("1")                                              \
	"    cliques:\n"                                                \
	TP_CLIQUE("w", "2", "", IMAGE1)                                 \
	TP_CLIQUE("x", "1", "", IMAGE1)                                 \
	"    podCliqueScalingGroups:\n"                                 \
	"    - {name: g, cliqueNames: [w, x], replicas: 4, "               \
	"minAvailable: 1%s}\n"

/* A group whose minAvailable is its units (2 of 2). */
static const char all_base_set[] =
    TEMPLATE_HEAD("1")
    "    cliques:\n"
    TP_CLIQUE("w", "2", "", IMAGE1)
    "    podCliqueScalingGroups:\n"
    "    - {name: g, cliqueNames: [w], replicas: 2, minAvailable: 2}\n";

/* Cliques a and b (b startsAfter a, though first in the text), 2 pods
 * each, minAvailable 1. */
static const char ordered_set[] =
    TEMPLATE_HEAD("1")
    "    cliqueStartupType: CliqueStartupTypeExplicit\n"
    "    cliques:\n"
    TP_CLIQUE("b", "2", MIN1 "        startsAfter: [a]\n", IMAGE1)
    TP_CLIQUE("a", "2", MIN1, IMAGE1);

/* A group of w (3 units), then a standalone clique r, in one wave. */
static const char clique_and_group_set[] =
    TEMPLATE_HEAD("1")
    "    cliques:\n"
    TP_CLIQUE("w", "1", "", IMAGE1)
    TP_CLIQUE("r", "2", MIN1, IMAGE1)
    "    podCliqueScalingGroups:\n"
    "    - {name: g, cliqueNames: [w], replicas: 3, minAvailable: 1}\n";

/* Two set replicas of a clique a of 2 pods, minAvailable 1. */
static const char two_replicas_set[] =
    TEMPLATE_HEAD("2")
    "    cliques:\n"
    TP_CLIQUE("a", "2", MIN1, IMAGE1);

/* updateStrategy OnDelete, a clique a of 3 pods, minAvailable 2. */
static const char on_delete_set[] =
    TP_HEAD
    "  replicas: 1\n"
    "  updateStrategy: {type: OnDelete}\n"
    "  template:\n"
    "    cliques:\n"
    TP_CLIQUE("a", "3", "        minAvailable: 2\n", IMAGE1);

/* clang-format on */

/* One standalone clique a: replicas, minAvailable, a rollingUpdate
 * object (or ""), IMAGE1; template form, or compact when compact. The
 * text in buf (TEXT_BUF), returned. */
static const char *clique_text(char *buf, bool compact, int replicas, int min,
			       const char *rolling)
{
	char ru[256] = "";

	if (rolling[0])
		snprintf(ru, sizeof(ru), "%*srollingUpdate: %s\n",
			 compact ? 4 : 6, "", rolling);
	if (compact)
		snprintf(buf, TEXT_BUF, CLIQUE_COMPACT, replicas, min, ru);
	else
		snprintf(buf, TEXT_BUF, CLIQUE_TEMPLATE, ru, replicas, min);
	return buf;
}

/* A group g of 4 units of w (2 pods) and x (1 pod), minAvailable 1, a
 * rollingUpdate object for the group (or ""), IMAGE1; template form, or
 * compact when compact. The text in buf (TEXT_BUF), returned. */
static const char *group_text(char *buf, bool compact, const char *rolling)
{
	char ru[256] = "";

	if (rolling[0])
		snprintf(ru, sizeof(ru), ", rollingUpdate: %s", rolling);
	snprintf(buf, TEXT_BUF, compact ? GROUP_COMPACT : GROUP_TEMPLATE, ru);
	return buf;
}

/* ro_open of clique_text's set, and of group_text's. */
static void ro_clique(ro *r, bool compact, int replicas, int min,
		      const char *rolling)
{
	char text[TEXT_BUF];

	ro_open(r, clique_text(text, compact, replicas, min, rolling), NULL);
}

static void ro_group(ro *r, bool compact, const char *rolling)
{
	char text[TEXT_BUF];

	ro_open(r, group_text(text, compact, rolling), NULL);
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
	pod_count n = count_pods(s, plan, c->pclq);
	char buf[LIST_BUF];

	if (phase == 1)
		assert_true(n.ready >= c->min);
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
	ro r;
	floor_ctx fc = { .pclq = SET "-0-a", .min = 2 };

	ro_clique(&r, compact, 3, 2, "");

	/* the image changes: one pod deleted, nothing else */
	ro_plan(&r, NULL);
	assert_string_not_equal(tp_planned_hash(&r.plan, SET "-0-a"),
				pod_hash(&r.s, SET "-0-a-0"));
	assert_true(rollout_active(&r.plan));
	assert_string_equal(rollout_str(&r.plan, "strategy"),
			    "RollingRecreate");
	assert_int_equal(rollout_int(&r.plan, "replicaIndex"), 0);
	assert_string_equal(rollout_str(&r.plan, "component"), SET "-0-a");
	assert_null(rollout_str(&r.plan, "held"));
	expect_recreate(&r, SET "-0-a-0");
	assert_int_equal(count_actions(r.actions, "delete"), 1);
	assert_string_equal(created(&r), "");

	/* it is terminating: the budget is used, nothing more */
	tp_terminate(sim_pod(&r.s, SET "-0-a-0"), T0);
	ro_plan(&r, NULL);
	assert_true(rollout_active(&r.plan));
	expect_still(&r);
	assert_string_equal(created(&r), "");

	/* gone: made again under its name on the new template, and still
	 * nothing more deleted */
	expect_made_again(&r, SET "-0-a-0", SET "-0-a");
	/* made, not Ready yet: still nothing more */
	sim_add_pod(&r.s, &r.plan, SET "-0-a-0", false);
	ro_plan(&r, NULL);
	expect_still(&r);

	/* Ready on the new template: the next one */
	tp_bind(sim_pod(&r.s, SET "-0-a-0"), true);
	ro_plan(&r, NULL);
	expect_recreate(&r, SET "-0-a-1");

	/* to the end: never below minAvailable, one pod per round that
	 * recreates (a-1, then a-2) */
	ro_run(&r, NULL, check_floor, &fc);
	assert_int_equal(fc.rounds_recreating, 2);
	ro_close(&r);
}

BOTH_FORMS_TEST(clique_one_at_a_time)

/* maxUnavailable 2 of 4 pods with minAvailable 1: two at once; with
 * minAvailable 3, one (available - minAvailable is the smaller). */
static void check_clique_max_unavailable(bool compact)
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

	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		ro r;
		floor_ctx fc = { .pclq = SET "-0-a",
				 .min = (size_t)cases[c].min };

		ro_clique(&r, compact, 4, cases[c].min, "{maxUnavailable: 2}");
		ro_plan(&r, NULL);
		expect_recreate(&r, cases[c].want);
		ro_run(&r, NULL, check_floor, &fc);
		ro_close(&r);
	}
}

BOTH_FORMS_TEST(clique_max_unavailable)

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
static void check_single_without_surge(bool compact)
{
	ro r;

	ro_clique(&r, compact, 1, 1, "");
	ro_plan(&r, NULL);
	expect_recreate(&r, SET "-0-a-0");
	assert_true(below_min_step(&r.plan, SET "-0-a-0"));
	/* no replacement made first */
	assert_null(tp_planned(&r.plan, "Pod", SET "-0-a-0-1"));

	/* the same without a change: no step, nothing */
	ro_plan(&r, &r.v1);
	assert_false(below_min_step(&r.plan, SET "-0-a-0"));
	assert_string_equal(recreated(&r), "");

	ro_run(&r, NULL, NULL, NULL);
	ro_close(&r);
}

BOTH_FORMS_TEST(single_without_surge)

/*
 * minAvailable == replicas == 2 without maxSurge: one pod at a time, and
 * only while nothing else is unavailable (a-1 on the new template not
 * Ready yet: a-0 waits).
 */
static void check_all_needed_one_at_a_time(bool compact)
{
	ro r;
	floor_ctx fc = { .pclq = SET "-0-a", .min = 1 };

	ro_clique(&r, compact, 2, 2, "");
	ro_plan(&r, NULL);
	assert_string_equal(recreated(&r), SET "-0-a-0");
	assert_true(below_min_step(&r.plan, SET "-0-a-0"));

	/* a-1 already on the new template, not Ready: a-0 waits */
	sim_drop(&r.s, "Pod", SET "-0-a-1");
	ro_plan(&r, NULL);
	sim_add_pod(&r.s, &r.plan, SET "-0-a-1", false);
	sim_updates(&r.s, r.actions);
	ro_plan(&r, NULL);
	assert_true(rollout_active(&r.plan));
	expect_still(&r);

	/* Ready: a-0 goes, the one allowed below minAvailable */
	tp_bind(sim_pod(&r.s, SET "-0-a-1"), true);
	ro_run(&r, NULL, check_floor, &fc);
	assert_int_equal(fc.rounds_recreating, 1);
	ro_close(&r);
}

BOTH_FORMS_TEST(all_needed_one_at_a_time)

/* Whether a PodGang of the plan lists pod in its podReferences. */
static bool gang_lists(const rec_plan *plan, const char *pod)
{
	json_t *gang_of = tp_gang_map(plan);
	bool listed = json_object_get(gang_of, pod) != NULL;

	json_decref(gang_of);
	return listed;
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
	pod_count n = count_pods(s, plan, SET "-0-a");

	if (phase == 1 && n.ready == 0)
		c->rounds_without_ready++;
	if (phase == 0 && tp_planned(plan, "Pod", SET "-0-a-0-1") &&
	    !tp_cluster_find(&s->c, "Pod", SET "-0-a-0-1", NULL))
		c->surges++;
}

/*
 * maxSurge 1: the replacement <pclq>-0-1 is made first (hostname
 * <pclq>-0, index 0, in the PodGang); not Ready: nothing deleted; Ready:
 * the old pod is deleted (no longer planned) and the replacement stays.
 */
static void check_single_with_surge(bool compact)
{
	ro r;
	const json_t *pod = NULL;
	surge_ctx sc = { 0 };

	ro_clique(&r, compact, 1, 1, "{maxSurge: 1}");
	ro_plan(&r, NULL);
	assert_true(rollout_active(&r.plan));
	assert_false(below_min_step(&r.plan, SET "-0-a-0"));
	expect_still(&r);
	assert_string_equal(created(&r), SET "-0-a-0-1");
	pod = tp_planned(&r.plan, "Pod", SET "-0-a-0-1");
	assert_non_null(pod);
	assert_string_equal(json_string_value(json_object_get(
				json_object_get(pod, "spec"), "hostname")),
			    SET "-0-a-0");
	assert_string_equal(tp_label_of(pod, POL_LABEL_POD_INDEX), "0");
	expect_planned_current(&r.plan, SET "-0-a-0-1", SET "-0-a");
	assert_true(gang_lists(&r.plan, SET "-0-a-0-1"));
	assert_true(gang_lists(&r.plan, SET "-0-a-0"));
	assert_non_null(tp_planned(&r.plan, "Pod", SET "-0-a-0"));
	sim_add_pod(&r.s, &r.plan, SET "-0-a-0-1", false);
	sim_updates(&r.s, r.actions);

	/* the replacement not Ready: nothing deleted, no second surge,
	 * both still planned and in the gang */
	ro_plan(&r, NULL);
	expect_still(&r);
	assert_string_equal(created(&r), "");
	assert_non_null(tp_planned(&r.plan, "Pod", SET "-0-a-0"));
	assert_non_null(tp_planned(&r.plan, "Pod", SET "-0-a-0-1"));
	assert_null(tp_planned(&r.plan, "Pod", SET "-0-a-0-2"));
	assert_true(gang_lists(&r.plan, SET "-0-a-0-1"));
	sim_updates(&r.s, r.actions);

	/* Ready: the old pod goes (unplanned), the replacement stays */
	tp_bind(sim_pod(&r.s, SET "-0-a-0-1"), true);
	ro_plan(&r, NULL);
	assert_string_equal(deleted(&r), SET "-0-a-0");
	assert_int_equal(count_actions(r.actions, "delete"), 1);
	assert_string_equal(created(&r), "");
	assert_null(tp_planned(&r.plan, "Pod", SET "-0-a-0"));
	assert_non_null(tp_planned(&r.plan, "Pod", SET "-0-a-0-1"));
	assert_false(gang_lists(&r.plan, SET "-0-a-0"));
	assert_true(gang_lists(&r.plan, SET "-0-a-0-1"));
	sim_updates(&r.s, r.actions);

	/* the old one terminating: the replacement holds index 0 alone */
	tp_terminate(sim_pod(&r.s, SET "-0-a-0"), T0);
	ro_plan(&r, NULL);
	assert_int_equal(count_actions(r.actions, "delete"), 0);
	assert_string_equal(created(&r), "");
	assert_non_null(tp_planned(&r.plan, "Pod", SET "-0-a-0-1"));
	sim_updates(&r.s, r.actions);
	sim_drop(&r.s, "Pod", SET "-0-a-0");
	check_settled(&r.v2, &r.s);

	/* driven from the start: one surge, never without a Ready pod */
	ro_restart(&r);
	ro_run(&r, NULL, check_surge, &sc);
	assert_int_equal(sc.surges, 1);
	assert_int_equal(sc.rounds_without_ready, 0);
	ro_close(&r);
}

BOTH_FORMS_TEST(single_with_surge)

/* maxSurge 2 with minAvailable == replicas == 2: both replacements made
 * first, at once, each beside its index. */
static void test_surge_two(void **state)
{
	ro r;
	surge_ctx sc = { 0 };

	(void)state;
	ro_clique(&r, false, 2, 2, "{maxSurge: 2}");
	ro_plan(&r, NULL);
	assert_string_equal(recreated(&r), "");
	assert_string_equal(created(&r), SET "-0-a-0-1," SET "-0-a-1-1");
	assert_string_equal(
	    tp_label_of(tp_planned(&r.plan, "Pod", SET "-0-a-1-1"),
			POL_LABEL_POD_INDEX),
	    "1");
	ro_run(&r, NULL, check_surge, &sc);
	assert_int_equal(sc.rounds_without_ready, 0);
	ro_close(&r);
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

		snprintf(w, sizeof(w), SET "-0-g-%" PRId64 "-w", j);
		snprintf(x, sizeof(x), SET "-0-g-%" PRId64 "-x", j);
		if (count_pods(s, plan, w).ready >= 2 &&
		    count_pods(s, plan, x).ready >= 1)
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
	static const struct {
		const char *rolling;
		int64_t with; /* the first round's unit beside 1, or -1 */
		const char *order; /* units_ctx's */
		size_t max_units;
		size_t available_min;
	} cases[] = {
		/* one unit a round, scaled units first, the base unit last */
		{ "", -1, "1/2/3/0/", 1, 3 },
		{ "{maxUnavailable: 2}", 2, "12/03/", 2, 2 },
	};
	size_t c = 0;

	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		ro r;
		units_ctx uc = { .available_min = 99 };
		char want[LIST_BUF];

		ro_group(&r, compact, cases[c].rolling);
		ro_plan(&r, NULL);
		assert_true(rollout_active(&r.plan));
		assert_string_equal(rollout_str(&r.plan, "component"),
				    SET "-0-g");
		expect_recreate(&r, cases[c].with < 0
					? unit_pods(1, want)
					: two_units(1, cases[c].with, want));
		/* every unit still has an old pod: the new pods of each keep
		 * their gate until its old ones are gone */
		assert_int_equal(json_object_size(json_object_get(
				     r.plan.rollout, "outdatedUnits")),
				 4);
		assert_non_null(json_object_get(
		    json_object_get(r.plan.rollout, "outdatedUnits"),
		    SET "-0-g/3"));
		ro_run(&r, NULL, check_units, &uc);
		assert_string_equal(uc.order, cases[c].order);
		assert_int_equal(uc.max_units, cases[c].max_units);
		assert_int_equal(uc.available_min, cases[c].available_min);
		ro_close(&r);
	}
}

BOTH_FORMS_TEST(group_units)

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
	ro r;

	(void)state;
	ro_open(&r, all_base_set, NULL);
	ro_plan(&r, NULL);
	expect_recreate(&r, SET "-0-g-0-w-0," SET "-0-g-0-w-1");
	assert_true(below_min_unit(&r.plan, 0));
	assert_false(below_min_unit(&r.plan, 1));
	ro_run(&r, NULL, NULL, NULL);
	ro_close(&r);
}

/* ---- what serves nothing goes at once --------------------------------------- */

/*
 * Outdated pods that are not Ready are recreated at once, beyond the
 * budget: a clique of 3 (minAvailable 2) with two outdated pods not
 * Ready gets both recreated, and its Ready outdated pod kept (taking it
 * would leave fewer than minAvailable). A group's units likewise.
 */
static void check_unavailable_at_once(bool compact)
{
	ro r;
	char want[LIST_BUF];

	ro_clique(&r, compact, 3, 2, "");
	tp_bind(sim_pod(&r.s, SET "-0-a-1"), false);
	tp_bind(sim_pod(&r.s, SET "-0-a-2"), false);
	ro_plan(&r, NULL);
	expect_recreate(&r, SET "-0-a-1," SET "-0-a-2");
	/* not Ready on the current template: left alone */
	ro_plan(&r, &r.v1);
	expect_still(&r);
	ro_close(&r);

	ro_group(&r, compact, "");
	tp_bind(sim_pod(&r.s, SET "-0-g-2-w-1"), false);
	tp_bind(sim_pod(&r.s, SET "-0-g-3-x-0"), false);
	ro_plan(&r, NULL);
	/* units 2 and 3 serve nothing: both, whole; no budgeted unit
	 * (maxUnavailable 1 is already spent twice) */
	expect_recreate(&r, two_units(2, 3, want));
	ro_close(&r);
}

BOTH_FORMS_TEST(unavailable_at_once)

/* ---- startup order ----------------------------------------------------------- */

/*
 * What goes first waits for nothing, what goes later waits for it: no
 * pod of later (a prefix of pod names) is recreated while the PodClique
 * first (2 pods) has an outdated pod or fewer than 2 Ready, and the
 * report then names first's turn: rollout.component first, or with
 * by_replica rollout.replicaIndex 0 (and 1 for later's pods).
 */
typedef struct order_ctx {
	const char *first;
	const char *later;
	bool by_replica;
	size_t rounds[2]; /* rounds that recreate first's, later's pods */
} order_ctx;

static void check_order(void *vctx, const sim *s, const rec_plan *plan,
			int phase)
{
	order_ctx *c = vctx;
	char buf[LIST_BUF];
	char first_pods[64];
	pod_count n = { 0 };

	if (phase != 0)
		return;
	recreate_of(plan, buf);
	n = count_pods(s, plan, c->first);
	snprintf(first_pods, sizeof(first_pods), "%s-", c->first);
	if (strstr(buf, c->later)) {
		assert_null(strstr(buf, first_pods));
		assert_int_equal(n.outdated, 0);
		assert_int_equal(n.ready, 2);
		if (c->by_replica)
			assert_int_equal(rollout_int(plan, "replicaIndex"), 1);
		c->rounds[1]++;
	}
	if (strstr(buf, first_pods)) {
		if (c->by_replica)
			assert_int_equal(rollout_int(plan, "replicaIndex"), 0);
		c->rounds[0]++;
	}
	if ((n.outdated || n.ready < 2) && c->by_replica)
		assert_int_equal(rollout_int(plan, "replicaIndex"), 0);
	else if (n.outdated || n.ready < 2)
		assert_string_equal(rollout_str(plan, "component"), c->first);
}

static void test_startup_order(void **state)
{
	ro r;
	order_ctx oc = { .first = SET "-0-a", .later = SET "-0-b-" };

	(void)state;
	ro_open(&r, ordered_set, NULL);
	ro_plan(&r, NULL);
	/* b is first in the set's text, a first in startup order */
	assert_string_equal(rollout_str(&r.plan, "component"), SET "-0-a");
	expect_recreate(&r, SET "-0-a-0");
	assert_null(rollout_str(&r.plan, "waiting"));

	/* a on the new template, a-1 not Ready yet: b still waits, and
	 * the report says for what */
	sim_drop(&r.s, "Pod", SET "-0-a-0");
	sim_drop(&r.s, "Pod", SET "-0-a-1");
	sim_add_pod(&r.s, &r.plan, SET "-0-a-0", true);
	sim_add_pod(&r.s, &r.plan, SET "-0-a-1", false);
	sim_updates(&r.s, r.actions);
	ro_plan(&r, NULL);
	assert_true(rollout_active(&r.plan));
	expect_still(&r);
	assert_string_equal(rollout_str(&r.plan, "component"), SET "-0-a");
	assert_non_null(rollout_str(&r.plan, "waiting"));
	assert_non_null(strstr(rollout_str(&r.plan, "waiting"), SET "-0-a"));

	/* a-1 Ready: b's turn */
	tp_bind(sim_pod(&r.s, SET "-0-a-1"), true);
	ro_plan(&r, NULL);
	assert_string_equal(rollout_str(&r.plan, "component"), SET "-0-b");
	assert_null(rollout_str(&r.plan, "waiting"));
	assert_string_equal(recreated(&r), SET "-0-b-0");

	/* driven from the start */
	ro_restart(&r);
	ro_run(&r, NULL, check_order, &oc);
	assert_int_equal(oc.rounds[0], 2);
	assert_int_equal(oc.rounds[1], 2);
	ro_close(&r);
}

/* Within one wave (no startsAfter), a standalone clique goes before a
 * group, though the group comes first in the text. */
static void test_group_after_clique(void **state)
{
	ro r;

	(void)state;
	ro_open(&r, clique_and_group_set, NULL);
	ro_plan(&r, NULL);
	assert_string_equal(rollout_str(&r.plan, "component"), SET "-0-r");
	assert_string_equal(recreated(&r), SET "-0-r-0");
	ro_run(&r, NULL, NULL, NULL);
	ro_close(&r);
}

/* ---- set replicas --------------------------------------------------------------- */

/* Nothing of set replica 1 is recreated while replica 0 is unfinished. */
static void test_set_replicas(void **state)
{
	ro r;
	order_ctx oc = { .first = SET "-0-a",
			 .later = SET "-1-a-",
			 .by_replica = true };

	(void)state;
	ro_open(&r, two_replicas_set, NULL);
	ro_plan(&r, NULL);
	assert_int_equal(rollout_int(&r.plan, "replicaIndex"), 0);
	assert_string_equal(rollout_str(&r.plan, "component"), SET "-0-a");
	expect_recreate(&r, SET "-0-a-0");
	ro_run(&r, NULL, check_order, &oc);
	assert_int_equal(oc.rounds[0], 2);
	assert_int_equal(oc.rounds[1], 2);
	ro_close(&r);
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
static void check_progress_deadline(bool compact)
{
	ro r;
	time_t t0 = 0;

	assert_true(gv_time_parse_utc(T0, &t0));
	ro_clique(&r, compact, 4, 1,
		  "{maxUnavailable: 2, progressDeadline: 10m}");
	r.s.now = (int64_t)t0 + 3600;
	ro_plan(&r, NULL);
	assert_string_equal(recreated(&r), SET "-0-a-0," SET "-0-a-1");
	sim_drop(&r.s, "Pod", SET "-0-a-0");
	sim_drop(&r.s, "Pod", SET "-0-a-1");
	ro_plan(&r, NULL);
	assert_string_equal(created(&r), SET "-0-a-0," SET "-0-a-1");
	sim_add_pod(&r.s, &r.plan, SET "-0-a-0", true);
	sim_add_pod(&r.s, &r.plan, SET "-0-a-1", false);

	/* 601 s after a-1 was made: held */
	r.s.now = (int64_t)t0 + 601;
	ro_plan(&r, NULL);
	assert_true(rollout_active(&r.plan));
	expect_still(&r);
	assert_non_null(rollout_str(&r.plan, "held"));
	assert_non_null(strstr(rollout_str(&r.plan, "held"), SET "-0-a-1"));

	/* 60 s: within it, the next pod goes; a round is asked for
	 * when the deadline ends */
	r.s.now = (int64_t)t0 + 60;
	ro_plan(&r, NULL);
	assert_null(rollout_str(&r.plan, "held"));
	assert_string_equal(recreated(&r), SET "-0-a-2");
	assert_true(rollout_int(&r.plan, "recheckSeconds") > 0);
	assert_true(rollout_int(&r.plan, "recheckSeconds") <= 600 - 60 + 1);

	/* no clock: not checked */
	r.s.now = 0;
	ro_plan(&r, NULL);
	assert_null(rollout_str(&r.plan, "held"));
	assert_string_equal(recreated(&r), SET "-0-a-2");

	/* held, then a-1 becomes Ready: the rollout goes on */
	r.s.now = (int64_t)t0 + 601;
	tp_bind(sim_pod(&r.s, SET "-0-a-1"), true);
	ro_plan(&r, NULL);
	assert_null(rollout_str(&r.plan, "held"));
	assert_string_equal(recreated(&r), SET "-0-a-2," SET "-0-a-3");
	ro_close(&r);
}

BOTH_FORMS_TEST(progress_deadline)

/*
 * A group of 4 units, maxUnavailable 2, progressDeadline 5m, and a new
 * image that never becomes Ready (issue 18's scenario 6 as the planner
 * sees it): units 1 and 2 are recreated, then the rollout holds, even
 * once unit 1 is Ready (room for one more unit); units 3 and 0 keep
 * serving on the old template.
 */
static void check_group_progress_deadline(bool compact)
{
	ro r;
	char want[LIST_BUF];
	time_t t0 = 0;
	int round = 0;

	assert_true(gv_time_parse_utc(T0, &t0));
	ro_group(&r, compact, "{maxUnavailable: 2, progressDeadline: 5m}");
	r.s.now = (int64_t)t0 + 3600;
	r.s.new_ready = false;
	ro_plan(&r, NULL);
	assert_string_equal(recreated(&r), two_units(1, 2, want));
	for (round = 0; round < 6; round++)
		sim_round(&r.v2, &r.s, NULL, NULL);
	/* unit 1 comes up after all, unit 2 never: room for one more
	 * unit, which the hold keeps */
	tp_bind(sim_pod(&r.s, SET "-0-g-1-w-0"), true);
	tp_bind(sim_pod(&r.s, SET "-0-g-1-w-1"), true);
	tp_bind(sim_pod(&r.s, SET "-0-g-1-x-0"), true);
	ro_plan(&r, NULL);
	assert_true(rollout_active(&r.plan));
	expect_still(&r);
	assert_non_null(rollout_str(&r.plan, "held"));
	assert_string_equal(rollout_str(&r.plan, "component"), SET "-0-g");
	/* the old units still there, Ready */
	assert_true(is_ready(sim_pod(&r.s, SET "-0-g-3-w-0")));
	assert_true(is_ready(sim_pod(&r.s, SET "-0-g-0-x-0")));
	assert_string_not_equal(pod_hash(&r.s, SET "-0-g-0-x-0"),
				tp_planned_hash(&r.plan, SET "-0-g-0-x"));
	/* without the clock, the next unit would go */
	r.s.now = 0;
	ro_plan(&r, NULL);
	assert_null(rollout_str(&r.plan, "held"));
	assert_string_equal(recreated(&r), unit_pods(3, want));
	ro_close(&r);
}

BOTH_FORMS_TEST(group_progress_deadline)

/* ---- OnDelete ------------------------------------------------------------------ */

static void test_on_delete(void **state)
{
	ro r;

	(void)state;
	ro_open(&r, on_delete_set, NULL);
	assert_true(r.v2.pcs.on_delete);
	/* one outdated pod not Ready: not recreated either */
	tp_bind(sim_pod(&r.s, SET "-0-a-2"), false);
	ro_plan(&r, NULL);
	assert_true(rollout_active(&r.plan));
	assert_string_equal(rollout_str(&r.plan, "strategy"), "OnDelete");
	expect_still(&r);
	assert_string_equal(created(&r), "");

	/* someone deletes a-1: it comes back on the new template */
	expect_made_again(&r, SET "-0-a-1", SET "-0-a");
	ro_close(&r);
}

/* ---- reverts and replica changes ------------------------------------------------ */

/*
 * v1 -> v2 recreates a-0; once a-0 runs v2, a revert to v1 recreates
 * nothing that runs v1 (a-1, a-2), only a-0 (on v2, now outdated).
 */
static void check_revert(bool compact)
{
	ro r;

	ro_clique(&r, compact, 3, 2, "");
	assert_true(sim_round(&r.v2, &r.s, NULL, NULL)); /* a-0 gone */
	assert_true(sim_round(&r.v2, &r.s, NULL, NULL)); /* a-0 on v2 */
	ro_plan(&r, &r.v1);
	assert_string_not_equal(pod_hash(&r.s, SET "-0-a-0"),
				tp_planned_hash(&r.plan, SET "-0-a"));
	assert_string_equal(pod_hash(&r.s, SET "-0-a-1"),
			    tp_planned_hash(&r.plan, SET "-0-a"));
	assert_true(rollout_active(&r.plan));
	expect_recreate(&r, SET "-0-a-0");
	ro_run(&r, &r.v1, NULL, NULL);
	ro_close(&r);
}

BOTH_FORMS_TEST(revert)

/*
 * Replica changes make nothing outdated: an observed PodClique's
 * spec.replicas (kubectl scale, an HPA) other than the template's, a
 * template's replicas, a compact clique's replicas or rollingUpdate:
 * no rollout, the new pods on the same template.
 */
static void check_replicas_change_nothing(bool compact)
{
	ro r;
	const char *h = NULL;
	char text[TEXT_BUF];
	char text2[TEXT_BUF];

	/* v2: the text's replicas 3 -> 4 (template: the observed
	 * count wins; compact: one more pod), and a rollingUpdate */
	ro_open(&r, clique_text(text, compact, 3, 2, ""),
		clique_text(text2, compact, 4, 2, "{maxUnavailable: 2}"));
	h = pod_hash(&r.s, SET "-0-a-0");
	if (!compact) {
		/* the observed PodClique scaled to 5 */
		tp_set_member(
		    tp_cluster_find(&r.s.c, "PodClique", SET "-0-a", NULL),
		    "spec", "replicas", json_integer(5));
		ro_plan(&r, &r.v1);
		assert_false(rollout_active(&r.plan));
		expect_still(&r);
		assert_string_equal(created(&r), SET "-0-a-3," SET "-0-a-4");
		assert_string_equal(
		    tp_label_of(tp_planned(&r.plan, "Pod", SET "-0-a-4"),
				POL_LABEL_TEMPLATE_HASH),
		    h);
	}
	ro_plan(&r, NULL);
	assert_false(rollout_active(&r.plan));
	expect_still(&r);
	assert_string_equal(tp_planned_hash(&r.plan, SET "-0-a"), h);
	ro_run(&r, NULL, NULL, NULL);
	ro_close(&r);
}

BOTH_FORMS_TEST(replicas_change_nothing)

/* ---- the reference workload ------------------------------------------------- */

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
		const char *unit = tp_label_of(o, POL_LABEL_PCSG_INDEX);
		json_int_t min = json_integer_value(json_object_get(
		    json_object_get(o, "spec"), "minAvailable"));
		pod_count n = { 0 };

		if (!tp_kind_is(o, "PodClique"))
			continue;
		n = count_pods(s, plan, tp_name_of(o));
		if (!unit) {
			if (phase == 1 && n.ready == 0)
				c->router_dark++;
			continue;
		}
		j = strtoll(unit, NULL, 10);
		assert_true(j >= 0 && j < REF_UNITS);
		if ((json_int_t)n.ready < min)
			short_of[j] = true;
		has_cur[j] |= n.ready > n.ready_old;
		has_old[j] |= n.ready_old > 0;
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
	char *t1 = tp_replaced(text, "\nspec:\n", "\nspec:\n  replicas: 4\n");
	char *t2 = tp_replaced(t1, "  - name: router-clique\n",
			       "  - name: router-clique\n"
			       "    rollingUpdate: {maxSurge: 1}\n");
	char *t3 = tp_replaced(t2, "vllm-runtime:1.0.0", "vllm-runtime:1.1.0");
	char *t4 = tp_replaced(t3, "nvidia/vllm:latest", "nvidia/vllm:next");
	ref_ctx rc = { .fewest_units = 99 };
	ro r;
	size_t rounds = 0;
	size_t pods = 0;

	(void)state;
	assert_string_not_equal(t2, t3);
	assert_string_not_equal(t3, t4);
	ro_open(&r, t2, t4);
	pods = json_array_size(r.s.c.lists[TP_PODS]);
	assert_int_equal(pods, 1 + REF_UNITS * 3);
	r.s.pod_deletes = 0;
	r.s.pod_creates = 0;
	rounds = ro_run(&r, NULL, check_reference, &rc);
	assert_int_equal(rc.router_dark, 0);
	assert_int_equal(rc.fewest_units, REF_UNITS - 1);
	assert_int_equal(rc.mixed, 0);
	assert_int_equal(r.s.pod_deletes, pods);
	assert_int_equal(r.s.pod_creates, pods);
	/* the router's surge made, its old pod deleted, then each unit
	 * deleted and made again */
	assert_int_equal(rounds, 2 + 2 * REF_UNITS);
	assert_non_null(tp_cluster_find(
	    &r.s.c, "Pod", "vllm-disaggregated-0-router-clique-0-1", NULL));
	ro_close(&r);
	free(text);
	free(t1);
	free(t2);
	free(t3);
	free(t4);
}

/* ---- settled --------------------------------------------------------------------- */

/* The cluster made from text's plan is settled (sim_start checks). */
static void check_own_output(const char *text)
{
	set st;
	sim s;

	set_load(&st, text);
	sim_start(&st, &s);
	sim_release(&s);
	set_release(&st);
}

/* Against its own output, every pod current: no rollout, no action;
 * the reference workload too. */
static void test_own_output(void **state)
{
	char *text = tu_file("examples/vllm-disaggregated.yaml");
	char buf[TEXT_BUF];
	int form = 0;

	(void)state;
	for (form = 0; form < 2; form++) {
		check_own_output(clique_text(buf, form, 3, 2, ""));
		check_own_output(group_text(buf, form, ""));
	}
	check_own_output(text);
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
