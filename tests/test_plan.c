/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_plan.c: the planner (groved/reconcile.h): names, PodGang
 * membership, determinism, spec.replicas 0, the template hash, startup
 * waves and topology.
 */
#include "test_plan_util.h"

#include "srv_admission.h"
#include "srv_cache.h"

#include <inttypes.h>

/* A planned set: the defaulted document, its model and the plan. */
typedef struct planned {
	json_t *doc;
	pol_pcs pcs;
	rec_plan plan;
	int rc;
	gv_error_t err;
} planned;

/* Defaults text (a PodCliqueSet, with spec.replicas set to replicas
 * when >= 0), checks it is valid when must_be_valid, and plans it. */
static void plan_text(planned *p, const char *text, int64_t replicas,
		      const json_t *bindings, bool must_be_valid)
{
	rec_input in = { 0 };

	memset(p, 0, sizeof(*p));
	p->doc = tp_default(text, replicas, must_be_valid);
	tp_build(p->doc, &p->pcs);
	in.pcs = &p->pcs;
	in.bindings = bindings;
	p->rc = rec_plan_build(&in, &p->plan, &p->err);
}

static void planned_release(planned *p)
{
	rec_plan_release(&p->plan);
	pol_pcs_release(&p->pcs);
	json_decref(p->doc);
}

#define REF_YAML "examples/vllm-disaggregated.yaml"

/* The reference workload at units units (spec.replicas), planned. */
static void plan_ref(planned *p, int64_t units)
{
	char *text = tu_file(REF_YAML);

	plan_text(p, text, units, NULL, true);
	assert_int_equal(p->rc, GV_OK);
	free(text);
}

/* rec_plan_actions of plan against obs: a new reference. */
static json_t *actions_of(const rec_plan *plan, const pol_pcs *pcs,
			  const rec_observed *obs)
{
	json_t *actions = NULL;

	assert_int_equal(rec_plan_actions(plan, pcs, obs, &actions), GV_OK);
	return actions;
}

/* Objects of kind in the plan. */
static size_t count(const rec_plan *plan, const char *kind)
{
	const json_t *item = NULL;
	size_t i = 0;
	size_t n = 0;

	json_array_foreach(plan->items, i, item)
	{
		if (tp_kind_is(json_object_get(item, "object"), kind))
			n++;
	}
	return n;
}

static bool has(const rec_plan *plan, const char *kind, const char *name)
{
	return tp_planned(plan, kind, name) != NULL;
}

/* Pods whose grove.io/podcliquesets-clique is clique. */
static size_t pods_of(const rec_plan *plan, const char *clique)
{
	const json_t *item = NULL;
	size_t i = 0;
	size_t n = 0;

	json_array_foreach(plan->items, i, item)
	{
		const json_t *o = json_object_get(item, "object");
		const char *c = tp_label_of(o, POL_LABEL_PCS_CLIQUE);

		if (tp_kind_is(o, "Pod") && c && strcmp(c, clique) == 0)
			n++;
	}
	return n;
}

/* Every name at most 63 characters and unique within its kind; every
 * object but the set's own has an owner in the plan (or the set). */
static void check_names_and_owners(const rec_plan *plan, const char *pcs)
{
	json_t *seen = json_object();
	const json_t *item = NULL;
	size_t i = 0;
	char set_owner[128];

	snprintf(set_owner, sizeof(set_owner), "PodCliqueSet/%s", pcs);
	assert_non_null(seen);
	json_array_foreach(plan->items, i, item)
	{
		const json_t *o = json_object_get(item, "object");
		const char *owner =
		    json_string_value(json_object_get(item, "owner"));
		char key[512];

		assert_non_null(tp_name_of(o));
		assert_true(strlen(tp_name_of(o)) <= POL_NAME_MAX);
		snprintf(key, sizeof(key), "%s/%s",
			 json_string_value(json_object_get(o, "kind")),
			 tp_name_of(o));
		assert_null(json_object_get(seen, key));
		assert_int_equal(json_object_set_new(seen, key, json_true()),
				 0);
		assert_null(json_object_get(json_object_get(o, "metadata"),
					    "ownerReferences"));
		assert_non_null(owner);
		/* owners come before what they own */
		assert_true(strcmp(owner, set_owner) == 0 ||
			    json_object_get(seen, owner));
	}
	json_decref(seen);
}

/* Every pod is referenced by exactly one PodGang, the one its
 * grove.io/podgang label names; every reference is a planned pod, once,
 * in name order (tp_gang_map). */
static void check_gang_membership(const rec_plan *plan)
{
	json_t *gang_of = tp_gang_map(plan); /* pod -> gang referencing it */
	const json_t *item = NULL;
	size_t i = 0;
	size_t pods = 0;

	json_array_foreach(plan->items, i, item)
	{
		const json_t *o = json_object_get(item, "object");
		const char *g = NULL;

		if (!tp_kind_is(o, "Pod"))
			continue;
		pods++;
		g = json_string_value(json_object_get(gang_of, tp_name_of(o)));
		assert_non_null(g);
		assert_string_equal(g, tp_label_of(o, POL_LABEL_PODGANG));
	}
	assert_int_equal(pods, json_object_size(gang_of));
	json_decref(gang_of);
}

static void check_reference(int64_t units, size_t prefill, size_t decode)
{
	planned p;

	plan_ref(&p, units);
	assert_int_equal(pods_of(&p.plan, "router-clique"), 1);
	assert_int_equal(pods_of(&p.plan, "prefill-clique"), prefill);
	assert_int_equal(pods_of(&p.plan, "decode-clique"), decode);
	/* one base gang plus one per unit above minAvailable 1 */
	assert_int_equal(count(&p.plan, "PodGang"), (size_t)units);
	assert_int_equal(count(&p.plan, "PodCliqueScalingGroup"), 1);
	assert_int_equal(count(&p.plan, "Service"), 1);
	assert_int_equal(count(&p.plan, "ServiceAccount"), 1);
	assert_int_equal(count(&p.plan, "Secret"), 1);
	assert_int_equal(count(&p.plan, "Role"), 1);
	assert_int_equal(count(&p.plan, "RoleBinding"), 1);
	check_names_and_owners(&p.plan, "vllm-disaggregated");
	check_gang_membership(&p.plan);
	planned_release(&p);
}

static void test_reference_scaling(void **state)
{
	(void)state;
	check_reference(1, 1, 2);
	check_reference(2, 2, 4);
	check_reference(4, 4, 8);
}

/* The same input twice gives byte-identical plans. */
static void test_deterministic(void **state)
{
	planned a;
	planned b;
	char *da = NULL;
	char *db = NULL;

	(void)state;
	plan_ref(&a, 3);
	plan_ref(&b, 3);
	da = json_dumps(a.plan.items, JSON_COMPACT);
	db = json_dumps(b.plan.items, JSON_COMPACT);
	assert_non_null(da);
	assert_non_null(db);
	assert_string_equal(da, db);
	assert_string_equal(a.plan.template_hash, b.plan.template_hash);
	free(da);
	free(db);
	planned_release(&a);
	planned_release(&b);
}

/* clang-format off */
static const char template_set[] =
    TP_HEAD
    "  replicas: 2\n"
    "  template:\n"
    "    cliqueStartupType: CliqueStartupTypeInOrder\n"
    "    cliques:\n"
    "    - name: a\n"
    "      labels: {kai.scheduler/queue: q1}\n"
    TP_CLIQUE_SPEC("2", "", "busybox")
    TP_CLIQUE("b", "1", "", "busybox")
    TP_CLIQUE("w", "2", "", "busybox")
    "    podCliqueScalingGroups:\n"
    "    - {name: g, cliqueNames: [w], replicas: 4, minAvailable: 2}\n";
/* clang-format on */

/* spec.replicas 0: no set replica, the set-level four stay. */
static void test_zero_replicas(void **state)
{
	planned p;

	(void)state;
	plan_text(&p, template_set, 0, NULL, true);
	assert_int_equal(p.rc, GV_OK);
	assert_int_equal(json_array_size(p.plan.items), 4);
	assert_int_equal(count(&p.plan, "ServiceAccount"), 1);
	assert_int_equal(count(&p.plan, "Secret"), 1);
	assert_int_equal(count(&p.plan, "Role"), 1);
	assert_int_equal(count(&p.plan, "RoleBinding"), 1);
	planned_release(&p);
}

/* A group of 4 units with minAvailable 2: per set replica one base gang
 * (a, b and units 0, 1) and two scaled gangs; InOrder waves a, b, w. */
static void test_template_gangs_and_waves(void **state)
{
	planned p;
	json_t *waves = NULL;
	const json_t *item = NULL;
	size_t i = 0;

	(void)state;
	plan_text(&p, template_set, -1, NULL, true);
	assert_int_equal(p.rc, GV_OK);
	assert_int_equal(count(&p.plan, "PodGang"), 6);
	assert_int_equal(count(&p.plan, "Pod"), 2 * (2 + 1 + 4 * 2));
	check_names_and_owners(&p.plan, "t");
	check_gang_membership(&p.plan);
	/* the second scaled gang of set replica 1 */
	assert_true(has(&p.plan, "PodGang", "t-1-g-1"));
	assert_false(has(&p.plan, "PodGang", "t-1-g-2"));
	/* the clique template's queue label reaches its PodClique */
	json_array_foreach(p.plan.items, i, item)
	{
		const json_t *o = json_object_get(item, "object");

		if (tp_kind_is(o, "PodClique") &&
		    strcmp(tp_name_of(o), "t-0-a") == 0)
			assert_string_equal(tp_label_of(o, POL_LABEL_KAI_QUEUE),
					    "q1");
		/* scaled units' PodCliques name their base gang */
		if (tp_kind_is(o, "PodClique") &&
		    strcmp(tp_name_of(o), "t-0-g-3-w") == 0) {
			assert_string_equal(
			    tp_label_of(o, "grove.io/base-podgang"), "t-0");
			assert_string_equal(tp_label_of(o, POL_LABEL_PODGANG),
					    "t-0-g-1");
		}
	}
	assert_int_equal(rec_plan_waves(&p.plan, &waves), GV_OK);
	assert_int_equal(json_array_size(waves), 3);
	assert_int_equal(json_array_size(json_array_get(waves, 0)), 2);
	assert_string_equal(
	    json_string_value(json_array_get(json_array_get(waves, 0), 0)),
	    "t-0-a");
	assert_int_equal(json_array_size(json_array_get(waves, 2)), 8);
	json_decref(waves);
	planned_release(&p);
}

/* A set whose names do not fit 63 characters is refused, naming it. */
static void test_name_too_long(void **state)
{
	char text[2048];
	planned p;

	(void)state;
	snprintf(text, sizeof(text),
		 "apiVersion: grove.io/v1alpha1\n"
		 "kind: PodCliqueSet\n"
		 "metadata: {name: %s}\n"
		 "spec:\n"
		 "  template:\n"
		 "    cliques:\n"
		 "    - name: %s\n"
		 "      spec:\n"
		 "        podSpec: {containers: [{name: c, image: x}]}\n",
		 "a-set-with-quite-a-long-name-indeed",
		 "and-a-clique-with-a-long-name-too");
	plan_text(&p, text, -1, NULL, false);
	assert_int_equal(p.rc, GV_ETOOBIG);
	assert_non_null(strstr(p.err.text, "longer than 63"));
	assert_null(p.plan.items);
	planned_release(&p);
}

static const char *pod_hash(const rec_plan *plan, const char *pod)
{
	return tp_label_of(tp_planned(plan, "Pod", pod),
			   POL_LABEL_TEMPLATE_HASH);
}

/* Scaling never changes the hashes; a pod spec change does. */
static void test_template_hash(void **state)
{
	char *text = tu_file("examples/vllm-disaggregated.yaml");
	char *changed = NULL;
	char *at = NULL;
	planned one;
	planned four;
	planned other;
	const char *pod = "vllm-disaggregated-0-router-clique-0";

	(void)state;
	plan_text(&one, text, 1, NULL, true);
	plan_text(&four, text, 4, NULL, true);
	assert_string_equal(one.plan.template_hash, four.plan.template_hash);
	assert_non_null(pod_hash(&one.plan, pod));
	assert_string_equal(pod_hash(&one.plan, pod),
			    pod_hash(&four.plan, pod));
	changed = strdup(text);
	assert_non_null(changed);
	at = strstr(changed, "vllm-runtime:1.0.0");
	assert_non_null(at);
	at[strlen("vllm-runtime:1.0.")] = '1';
	plan_text(&other, changed, 1, NULL, true);
	assert_string_not_equal(one.plan.template_hash,
				other.plan.template_hash);
	assert_string_not_equal(pod_hash(&one.plan, pod),
				pod_hash(&other.plan, pod));
	planned_release(&one);
	planned_release(&four);
	planned_release(&other);
	free(changed);
	free(text);
}

static const json_t *first_gang(const rec_plan *plan)
{
	const json_t *item = NULL;
	size_t i = 0;

	json_array_foreach(plan->items, i, item)
	{
		if (tp_kind_is(json_object_get(item, "object"), "PodGang"))
			return json_object_get(item, "object");
	}
	return NULL;
}

/* With the binding: node label keys and the topology-name annotation;
 * without it: no constraint, no annotation, and a note. */
static void test_topology(void **state)
{
	json_t *bindings = tu_doc(
	    "{\"dc\": [{\"domain\": \"zone\", \"key\": \"topo/zone\"}]}");
	planned with;
	planned without;
	const json_t *g = NULL;

	(void)state;
	plan_text(&with, tp_packed_set, -1, bindings, false);
	assert_int_equal(with.rc, GV_OK);
	g = first_gang(&with.plan);
	assert_non_null(g);
	assert_string_equal(
	    json_string_value(json_object_get(
		json_object_get(json_object_get(json_object_get(g, "spec"),
						"topologyConstraint"),
				"packConstraint"),
		"required")),
	    "topo/zone");
	assert_string_equal(
	    json_string_value(json_object_get(
		json_object_get(json_object_get(g, "metadata"), "annotations"),
		"grove.io/topology-name")),
	    "dc");
	assert_int_equal(json_array_size(with.plan.notes), 0);

	plan_text(&without, tp_packed_set, -1, NULL, false);
	assert_int_equal(without.rc, GV_OK);
	g = first_gang(&without.plan);
	assert_null(
	    json_object_get(json_object_get(g, "spec"), "topologyConstraint"));
	assert_null(
	    json_object_get(json_object_get(g, "metadata"), "annotations"));
	assert_int_equal(json_array_size(without.plan.notes), 1);
	assert_non_null(
	    strstr(json_string_value(json_array_get(without.plan.notes, 0)),
		   "ClusterTopologyNotFound"));
	planned_release(&with);
	planned_release(&without);
	json_decref(bindings);
}

/* Template form: a child that exists keeps its count (observed wins);
 * the compact form's spec.replicas decides. */
static void test_observed_counts(void **state)
{
	json_t *defaulted = tp_default(template_set, -1, true);
	json_t *cliques = tu_doc("[{\"kind\": \"PodClique\", \"metadata\": "
				 "{\"name\": \"t-0-a\"}, \"spec\": "
				 "{\"replicas\": 5}}]");
	json_t *groups =
	    tu_doc("[{\"kind\": \"PodCliqueScalingGroup\", \"metadata\": "
		   "{\"name\": \"t-1-g\"}, \"spec\": {\"replicas\": 6}}]");
	pol_pcs pcs;
	rec_input in = { 0 };
	rec_plan plan = REC_PLAN_INIT;

	(void)state;
	tp_build(defaulted, &pcs);
	in.pcs = &pcs;
	in.observed.podcliques = cliques;
	in.observed.groups = groups;
	assert_int_equal(rec_plan_build(&in, &plan, NULL), GV_OK);
	/* a: 5 pods in replica 0 (scaled), 2 in replica 1 (template) */
	assert_int_equal(pods_of(&plan, "a"), 5 + 2);
	/* g: 4 units in replica 0, 6 in replica 1: 2 pods each */
	assert_int_equal(pods_of(&plan, "w"), (4 + 6) * 2);
	assert_true(has(&plan, "PodGang", "t-1-g-3"));
	assert_false(has(&plan, "PodGang", "t-0-g-2"));
	check_names_and_owners(&plan, "t");
	check_gang_membership(&plan);
	rec_plan_release(&plan);
	pol_pcs_release(&pcs);
	json_decref(defaulted);
	json_decref(cliques);
	json_decref(groups);
}

static const char *action_at(const json_t *actions, size_t i,
			     const char *member)
{
	return json_string_value(
	    json_object_get(json_array_get(actions, i), member));
}

/* Planning against its own output gives no action; each difference
 * gives exactly its action. */
static void test_actions(void **state)
{
	const rec_observed none = { 0 };
	tp_cluster c;
	json_t *actions = NULL;
	json_t *pod = NULL;
	planned p;

	(void)state;
	plan_ref(&p, 2);

	/* nothing observed: create everything, in plan order */
	actions = actions_of(&p.plan, &p.pcs, &none);
	assert_int_equal(json_array_size(actions),
			 json_array_size(p.plan.items));
	assert_string_equal(action_at(actions, 0, "action"), "create");
	assert_string_equal(action_at(actions, 0, "kind"), "ServiceAccount");
	json_decref(actions);

	/* its own output: idempotent */
	tp_observe(&c, &p.plan);
	actions = actions_of(&p.plan, &p.pcs, &c.obs);
	assert_int_equal(json_array_size(actions), 0);
	json_decref(actions);

	/* a pod gone: created again under its name */
	pod = json_incref(json_array_get(c.lists[TP_PODS], 1));
	assert_int_equal(json_array_remove(c.lists[TP_PODS], 1), 0);
	actions = actions_of(&p.plan, &p.pcs, &c.obs);
	assert_int_equal(json_array_size(actions), 1);
	assert_string_equal(action_at(actions, 0, "action"), "create");
	assert_string_equal(action_at(actions, 0, "name"),
			    json_string_value(json_object_get(
				json_object_get(pod, "metadata"), "name")));
	json_decref(actions);

	/* a label changed on a PodClique: an update of the labels only */
	tp_set_label(json_array_get(c.lists[TP_PODCLIQUES], 0),
		     POL_LABEL_TEMPLATE_HASH, "0000000000");
	assert_int_equal(json_array_insert(c.lists[TP_PODS], 1, pod), 0);
	actions = actions_of(&p.plan, &p.pcs, &c.obs);
	assert_int_equal(json_array_size(actions), 1);
	assert_string_equal(action_at(actions, 0, "action"), "update");
	assert_string_equal(action_at(actions, 0, "kind"), "PodClique");
	assert_int_equal(json_object_size(json_object_get(
			     json_array_get(actions, 0), "fields")),
			 1);
	json_decref(actions);

	/* a pod of ours the plan does not hold: deleted; a foreign object of
	 * a planned name: a conflict, never overwritten */
	tp_set_label(json_array_get(c.lists[TP_PODCLIQUES], 0),
		     POL_LABEL_MANAGED_BY, "someone-else");
	json_decref(pod);
	pod = json_deep_copy(json_array_get(c.lists[TP_PODS], 0));
	assert_int_equal(json_object_set_new(json_object_get(pod, "metadata"),
					     "name",
					     json_string("vllm-extra-pod")),
			 0);
	assert_int_equal(json_array_append_new(c.lists[TP_PODS], pod), 0);
	actions = actions_of(&p.plan, &p.pcs, &c.obs);
	assert_int_equal(json_array_size(actions), 2);
	assert_string_equal(action_at(actions, 0, "action"), "conflict");
	assert_string_equal(action_at(actions, 1, "action"), "delete");
	assert_string_equal(action_at(actions, 1, "name"), "vllm-extra-pod");
	json_decref(actions);

	tp_cluster_release(&c);
	planned_release(&p);
}

/* The first observed object of kind in list l: borrowed, or NULL. */
static json_t *observed_kind(const tp_cluster *c, size_t l, const char *kind)
{
	json_t *o = NULL;
	size_t i = 0;

	json_array_foreach(c->lists[l], i, o)
	{
		if (tp_kind_is(o, kind))
			return o;
	}
	return NULL;
}

/*
 * What a real cluster adds is no difference: the API server's defaults on
 * a Service, the token controller's Secret data, other tools' labels and
 * annotations, a pod's defaulted spec, tolerations and removed gate. A
 * real change still is: a Service's selector, a PodClique's spec member
 * beyond the plan; a pod is never patched (its template hash stays what
 * it runs).
 */
static void test_actions_cluster_fills(void **state)
{
	tp_cluster c;
	json_t *actions = NULL;
	json_t *svc = NULL;
	json_t *secret = NULL;
	json_t *pod = NULL;
	json_t *pclq = NULL;
	json_t *spec = NULL;
	planned p;
	size_t l = 0;

	(void)state;
	plan_ref(&p, 1);
	tp_observe(&c, &p.plan);
	svc = observed_kind(&c, TP_OTHERS, "Service");
	secret = observed_kind(&c, TP_OTHERS, "Secret");
	pod = json_array_get(c.lists[TP_PODS], 0);
	pclq = json_array_get(c.lists[TP_PODCLIQUES], 0);
	assert_non_null(svc);
	assert_non_null(secret);
	assert_non_null(pod);
	assert_non_null(pclq);

	/* the API server's defaults on the headless Service */
	spec = json_object_get(svc, "spec");
	assert_int_equal(
	    json_object_set_new(spec, "clusterIPs", json_pack("[s]", "None")),
	    0);
	assert_int_equal(
	    json_object_set_new(spec, "ipFamilies", json_pack("[s]", "IPv4")),
	    0);
	assert_int_equal(
	    json_object_set_new(spec, "sessionAffinity", json_string("None")),
	    0);
	/* the token controller's data */
	assert_int_equal(
	    json_object_set_new(secret, "data",
				json_pack("{s:s}", "token", "eA==")),
	    0);
	/* another tool's label and annotation on a PodClique */
	tp_set_label(pclq, "team", "infra");
	assert_int_equal(json_object_set_new(
			     json_object_get(pclq, "metadata"), "annotations",
			     json_pack("{s:s}", "note", "kept")),
			 0);
	/* a pod as the cluster has it: gate removed, spec defaulted,
	 * tolerations added by admission */
	spec = json_object_get(pod, "spec");
	assert_int_equal(json_object_del(spec, "schedulingGates"), 0);
	assert_int_equal(
	    json_object_set_new(spec, "dnsPolicy", json_string("ClusterFirst")),
	    0);
	assert_int_equal(
	    json_object_set_new(
		spec, "tolerations",
		json_pack("[{s:s}]", "key", "node.kubernetes.io/unreachable")),
	    0);
	actions = actions_of(&p.plan, &p.pcs, &c.obs);
	if (json_array_size(actions))
		print_error("%s\n", json_dumps(actions, JSON_COMPACT));
	assert_int_equal(json_array_size(actions), 0);
	json_decref(actions);

	/* a changed selector is a change: an update of spec alone */
	assert_int_equal(
	    json_object_set_new(json_object_get(svc, "spec"), "selector",
				json_pack("{s:s}", "app", "other")),
	    0);
	/* a PodClique spec member beyond the plan is a change too */
	assert_int_equal(json_object_set_new(json_object_get(pclq, "spec"),
					     "extra", json_true()),
			 0);
	/* a pod on an older template keeps its hash: no patch makes it
	 * look updated (a rollout replaces it) */
	tp_set_label(pod, POL_LABEL_TEMPLATE_HASH, "0123456789");
	actions = actions_of(&p.plan, &p.pcs, &c.obs);
	assert_int_equal(json_array_size(actions), 2);
	for (l = 0; l < 2; l++)
		assert_string_equal(action_at(actions, l, "action"), "update");
	assert_string_equal(action_at(actions, 0, "kind"), "Service");
	assert_non_null(json_object_get(
	    json_object_get(json_array_get(actions, 0), "fields"), "spec"));
	assert_string_equal(action_at(actions, 1, "kind"), "PodClique");
	json_decref(actions);

	tp_cluster_release(&c);
	planned_release(&p);
}

/* A pod that has ended (Failed, Succeeded) is deleted so that the next
 * plan makes it again on its index; one already terminating is left
 * alone; a Running one is kept. */
static void test_actions_ended_pod(void **state)
{
	tp_cluster c;
	json_t *actions = NULL;
	json_t *pod = NULL;
	planned p;

	(void)state;
	plan_ref(&p, 1);
	tp_observe(&c, &p.plan);
	pod = json_array_get(c.lists[TP_PODS], 2);
	assert_int_equal(
	    json_object_set_new(pod, "status",
				json_pack("{s:s}", "phase", "Failed")),
	    0);
	actions = actions_of(&p.plan, &p.pcs, &c.obs);
	assert_int_equal(json_array_size(actions), 1);
	assert_string_equal(action_at(actions, 0, "action"), "delete");
	assert_string_equal(action_at(actions, 0, "kind"), "Pod");
	assert_string_equal(action_at(actions, 0, "name"), tp_name_of(pod));
	json_decref(actions);

	/* once it is going, nothing more: the next plan makes it again */
	assert_int_equal(
	    json_object_set_new(json_object_get(pod, "metadata"),
				"deletionTimestamp",
				json_string("2026-12-03T10:00:00Z")),
	    0);
	actions = actions_of(&p.plan, &p.pcs, &c.obs);
	assert_int_equal(json_array_size(actions), 0);
	json_decref(actions);

	/* Succeeded ends a pod too */
	assert_int_equal(json_object_del(json_object_get(pod, "metadata"),
					 "deletionTimestamp"),
			 0);
	assert_int_equal(
	    json_object_set_new(pod, "status",
				json_pack("{s:s}", "phase", "Succeeded")),
	    0);
	actions = actions_of(&p.plan, &p.pcs, &c.obs);
	assert_int_equal(json_array_size(actions), 1);
	json_decref(actions);

	tp_cluster_release(&c);
	planned_release(&p);
}

/* ---- observed pods ---------------------------------------------------- */

/* The deletionTimestamp of a terminating pod. */
#define DELETED_AT "2026-12-01T00:00:00Z"

/*
 * An observed pod: a copy of the planned pod of from, named name, with
 * pod-index label index, scheduled, Running and Ready unless told; the
 * caller appends it (a new reference).
 */
static json_t *obs_pod(const rec_plan *plan, const char *from, const char *name,
		       int index)
{
	json_t *pod = json_deep_copy(tp_planned(plan, "Pod", from));
	char k[16];

	assert_non_null(pod);
	snprintf(k, sizeof(k), "%d", index);
	tp_set_member(pod, "metadata", "name", json_string(name));
	tp_set_label(pod, POL_LABEL_POD_INDEX, k);
	tp_bind(pod, true);
	return pod;
}

/* Plans template_set's replica 1 against obs; the caller releases. */
static void plan_observed(const pol_pcs *pcs, const rec_observed *obs,
			  rec_plan *plan)
{
	rec_input in = { 0 };

	in.pcs = pcs;
	in.observed = *obs;
	assert_int_equal(rec_plan_build(&in, plan, NULL), GV_OK);
}

/* The names of the Pods of PodClique pclq in the plan, joined by ','. */
static void pod_names(const rec_plan *plan, const char *pclq, char *buf,
		      size_t size)
{
	const json_t *item = NULL;
	size_t i = 0;

	buf[0] = '\0';
	json_array_foreach(plan->items, i, item)
	{
		const json_t *o = json_object_get(item, "object");
		const char *c = tp_label_of(o, POL_LABEL_PCLQ);

		if (!tp_kind_is(o, "Pod") || !c || strcmp(c, pclq) != 0)
			continue;
		snprintf(buf + strlen(buf), size - strlen(buf), "%s%s",
			 buf[0] ? "," : "", tp_name_of(o));
	}
}

/*
 * Clique level: k is the lowest index no live pod holds; a stuck
 * terminating pod's index gets <pclq>-<k>-<s>, hostname and index label
 * still k; a terminating pod that can finish still holds its index; a
 * pod not ours is never adopted (a conflict).
 */
static void test_observed_pods(void **state)
{
	json_t *pods = json_array();
	json_t *stuck = json_array();
	json_t *actions = NULL;
	json_t *pod = NULL;
	rec_observed obs = { 0 };
	rec_plan plan = REC_PLAN_INIT;
	const json_t *gang = NULL;
	char names[512];
	char *dump = NULL;
	planned p;

	(void)state;
	plan_text(&p, template_set, 1, NULL, true);
	assert_int_equal(p.rc, GV_OK);
	obs.pods = pods;
	obs.stuck = stuck;

	/* index 1 live, 0 free: t-0-a-0 planned, t-0-a-1 kept */
	json_array_append_new(pods, obs_pod(&p.plan, "t-0-a-1", "t-0-a-1", 1));
	plan_observed(&p.pcs, &obs, &plan);
	pod_names(&plan, "t-0-a", names, sizeof(names));
	assert_string_equal(names, "t-0-a-0,t-0-a-1");
	rec_plan_release(&plan);

	/* t-0-a-0 terminating and stuck: its replacement t-0-a-0-1 */
	pod = obs_pod(&p.plan, "t-0-a-0", "t-0-a-0", 0);
	tp_terminate(pod, DELETED_AT);
	json_array_append_new(pods, pod);
	json_array_append_new(stuck, json_string("t-0-a-0"));
	plan_observed(&p.pcs, &obs, &plan);
	pod_names(&plan, "t-0-a", names, sizeof(names));
	assert_string_equal(names, "t-0-a-0-1,t-0-a-1");
	pod = (json_t *)tp_planned(&plan, "Pod", "t-0-a-0-1");
	assert_string_equal(json_string_value(json_object_get(
				json_object_get(pod, "spec"), "hostname")),
			    "t-0-a-0");
	assert_string_equal(tp_label_of(pod, POL_LABEL_POD_INDEX), "0");
	gang = tp_planned(&plan, "PodGang", "t-0");
	dump = json_dumps(gang, JSON_COMPACT);
	assert_non_null(strstr(dump, "\"t-0-a-0-1\""));
	assert_null(strstr(dump, "\"t-0-a-0\""));
	free(dump);
	check_gang_membership(&plan);
	/* create the replacement; the stuck pod is already going */
	assert_int_equal(rec_plan_actions(&plan, &p.pcs, &obs, &actions),
			 GV_OK);
	dump = json_dumps(actions, JSON_COMPACT);
	assert_non_null(dump);
	assert_null(strstr(dump, "delete"));
	assert_non_null(strstr(dump, "\"name\":\"t-0-a-0-1\""));
	free(dump);
	json_decref(actions);
	rec_plan_release(&plan);

	/* the replacement stuck too: t-0-a-0-2, the lowest suffix free */
	pod = obs_pod(&p.plan, "t-0-a-0", "t-0-a-0-1", 0);
	tp_terminate(pod, DELETED_AT);
	json_array_append_new(pods, pod);
	json_array_append_new(stuck, json_string("t-0-a-0-1"));
	plan_observed(&p.pcs, &obs, &plan);
	pod_names(&plan, "t-0-a", names, sizeof(names));
	assert_string_equal(names, "t-0-a-0-2,t-0-a-1");
	rec_plan_release(&plan);

	/* not stuck: a terminating pod that can finish holds its index */
	json_array_clear(stuck);
	plan_observed(&p.pcs, &obs, &plan);
	pod_names(&plan, "t-0-a", names, sizeof(names));
	assert_string_equal(names, "t-0-a-0,t-0-a-1");
	rec_plan_release(&plan);

	/* a pod of that name not ours: never counted, never adopted */
	json_array_clear(pods);
	pod = obs_pod(&p.plan, "t-0-a-0", "t-0-a-0", 0);
	tp_set_label(pod, POL_LABEL_MANAGED_BY, "someone-else");
	json_array_append_new(pods, pod);
	plan_observed(&p.pcs, &obs, &plan);
	pod_names(&plan, "t-0-a", names, sizeof(names));
	assert_string_equal(names, "t-0-a-0,t-0-a-1");
	assert_int_equal(rec_plan_actions(&plan, &p.pcs, &obs, &actions),
			 GV_OK);
	{
		size_t i = 0;
		const json_t *a = NULL;
		int conflicts = 0;

		json_array_foreach(actions, i, a)
		{
			if (strcmp(action_at(actions, i, "name"), "t-0-a-0"))
				continue;
			assert_string_equal(action_at(actions, i, "action"),
					    "conflict");
			conflicts++;
		}
		assert_int_equal(conflicts, 1);
	}
	json_decref(actions);
	rec_plan_release(&plan);

	json_decref(pods);
	json_decref(stuck);
	planned_release(&p);
}

/* Makes pod what the scale-in order reads: "terminating",
 * "unscheduled", "pending", "notready", "outdated" or "recent". */
static void mark(json_t *pod, const char *w)
{
	if (!strcmp(w, "terminating"))
		tp_terminate(pod, DELETED_AT);
	else if (!strcmp(w, "unscheduled"))
		tp_set_member(pod, "spec", "nodeName", json_string(""));
	else if (!strcmp(w, "pending"))
		tp_set_member(pod, "status", "phase", json_string("Pending"));
	else if (!strcmp(w, "notready"))
		tp_set_member(pod, "status", "conditions", json_array());
	else if (!strcmp(w, "outdated"))
		tp_set_label(pod, POL_LABEL_TEMPLATE_HASH, "old");
	else if (!strcmp(w, "recent"))
		tp_set_member(pod, "metadata", "creationTimestamp",
			      json_string("2026-11-02T00:00:00Z"));
}

/*
 * Scale-in of a clique: surplus pods go in upstream's order (terminating,
 * unscheduled, Pending, not Ready, outdated template hash, most recently
 * created), ties by the highest index; of groups, the highest units.
 */
static void test_scale_in(void **state)
{
	static const struct {
		const char *what; /* which pod differs, as the order reads */
		int differs; /* its index */
	} cases[] = {
		{ "terminating", 0 }, { "unscheduled", 1 }, { "pending", 2 },
		{ "notready", 0 },    { "outdated", 1 },    { "recent", 2 },
		{ "none", -1 },
	};
	json_t *groups = NULL;
	rec_observed obs = { 0 };
	rec_plan plan = REC_PLAN_INIT;
	planned p;
	size_t c = 0;
	char names[512];

	(void)state;
	plan_text(&p, template_set, 1, NULL, true);
	assert_int_equal(p.rc, GV_OK);
	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		json_t *pods = json_array();
		json_t *actions = NULL;
		char expect[256] = "";
		int k = 0;

		/* five pods of t-0-a (replicas 2): three go */
		for (k = 0; k < 5; k++) {
			char name[32];
			json_t *pod = NULL;

			snprintf(name, sizeof(name), "t-0-a-%d", k);
			pod = obs_pod(&p.plan, "t-0-a-0", name, k);
			tp_set_member(pod, "metadata", "creationTimestamp",
				      json_string("2026-11-01T00:00:00Z"));
			if (k == cases[c].differs)
				mark(pod, cases[c].what);
			json_array_append_new(pods, pod);
		}
		obs.pods = pods;
		plan_observed(&p.pcs, &obs, &plan);
		pod_names(&plan, "t-0-a", names, sizeof(names));
		/* the differing pod goes first, then the highest indices */
		if (cases[c].differs < 0)
			snprintf(expect, sizeof(expect), "t-0-a-0,t-0-a-1");
		else if (cases[c].differs == 0)
			snprintf(expect, sizeof(expect), "t-0-a-1,t-0-a-2");
		else if (cases[c].differs == 1)
			snprintf(expect, sizeof(expect), "t-0-a-0,t-0-a-2");
		else
			snprintf(expect, sizeof(expect), "t-0-a-0,t-0-a-1");
		if (strcmp(names, expect))
			print_error("%s: %s\n", cases[c].what, names);
		assert_string_equal(names, expect);
		/* the planned pods are unchanged in name; the rest deleted,
		 * but for a terminating one, already going */
		assert_int_equal(
		    rec_plan_actions(&plan, &p.pcs, &obs, &actions), GV_OK);
		{
			size_t i = 0;
			const json_t *a = NULL;
			size_t deletes = 0;

			json_array_foreach(actions, i, a)
			{
				if (!strcmp(action_at(actions, i, "action"),
					    "delete"))
					deletes++;
			}
			assert_int_equal(deletes, cases[c].differs == 0 &&
							  !strcmp(cases[c].what,
								  "terminating")
						      ? 2
						      : 3);
		}
		json_decref(actions);
		rec_plan_release(&plan);
		json_decref(pods);
	}

	/* each criterion before the next: pod 0 carries the earlier one, pod
	 * 1 the later (and the highest index): with replicas 1, pod 0 goes */
	{
		static const char *const order[] = {
			"terminating", "unscheduled", "pending", "notready",
			"outdated",    "recent",      NULL
		};
		json_t *cl = tu_doc("[{\"kind\": \"PodClique\", "
				    "\"metadata\": {\"name\": \"t-0-a\"}, "
				    "\"spec\": {\"replicas\": 1}}]");

		for (c = 0; order[c]; c++) {
			json_t *pods = json_array();
			json_t *p0 = obs_pod(&p.plan, "t-0-a-0", "t-0-a-0", 0);
			json_t *p1 = obs_pod(&p.plan, "t-0-a-0", "t-0-a-1", 1);
			rec_observed o = { 0 };

			tp_set_member(p0, "metadata", "creationTimestamp",
				      json_string("2026-11-01T00:00:00Z"));
			tp_set_member(p1, "metadata", "creationTimestamp",
				      json_string("2026-11-01T00:00:00Z"));
			mark(p0, order[c]);
			if (order[c + 1])
				mark(p1, order[c + 1]);
			json_array_append_new(pods, p0);
			json_array_append_new(pods, p1);
			o.pods = pods;
			o.podcliques = cl;
			plan_observed(&p.pcs, &o, &plan);
			pod_names(&plan, "t-0-a", names, sizeof(names));
			if (strcmp(names, "t-0-a-1"))
				print_error("%s before %s: kept %s\n", order[c],
					    order[c + 1] ? order[c + 1]
							 : "a tie",
					    names);
			assert_string_equal(names, "t-0-a-1");
			rec_plan_release(&plan);
			json_decref(pods);
		}
		json_decref(cl);
	}

	/* groups: 4 units -> 2 observed as the group's count; the
	 * PodCliques of units 2 and 3 deleted, 0 and 1 kept */
	{
		tp_cluster seen;
		json_t *actions = NULL;
		size_t i = 0;
		const json_t *a = NULL;
		size_t deleted = 0;

		tp_observe(&seen, &p.plan);
		groups = tu_doc("[{\"kind\": \"PodCliqueScalingGroup\", "
				"\"metadata\": {\"name\": \"t-0-g\"}, "
				"\"spec\": {\"replicas\": 2}}]");
		{
			rec_observed o2 = seen.obs;

			o2.groups = groups;
			plan_observed(&p.pcs, &o2, &plan);
		}
		assert_true(has(&plan, "PodClique", "t-0-g-1-w"));
		assert_false(has(&plan, "PodClique", "t-0-g-2-w"));
		actions = actions_of(&plan, &p.pcs, &seen.obs);
		json_array_foreach(actions, i, a)
		{
			const char *n = action_at(actions, i, "name");

			if (strcmp(action_at(actions, i, "action"), "delete"))
				continue;
			deleted++;
			assert_int_equal(strncmp(n, "t-0-g-", 6), 0);
			assert_null(strstr(n, "t-0-g-0-"));
			assert_null(strstr(n, "t-0-g-1-"));
		}
		/* units 2, 3: 2 PodCliques, 4 pods, 2 scaled gangs */
		assert_int_equal(deleted, 8);
		json_decref(actions);
		rec_plan_release(&plan);
		tp_cluster_release(&seen);
		json_decref(groups);
	}
	planned_release(&p);
}

/* The names of a plan's objects, "Kind/name" -> true: a new reference. */
static json_t *names_of(const rec_plan *plan)
{
	json_t *names = json_object();
	const json_t *item = NULL;
	size_t i = 0;

	assert_non_null(names);
	json_array_foreach(plan->items, i, item)
	{
		const json_t *o = json_object_get(item, "object");
		char key[512];

		snprintf(key, sizeof(key), "%s/%s",
			 json_string_value(json_object_get(o, "kind")),
			 tp_name_of(o));
		assert_int_equal(json_object_set_new(names, key, json_true()),
				 0);
	}
	return names;
}

/* Plans defaulted (valid) with spec.replicas = replicas (>= 0) or as it
 * is; the caller releases p. */
static void plan_doc_with(planned *p, const json_t *defaulted, int64_t replicas,
			  const rec_observed *obs, bool shape_every_pod)
{
	rec_input in = { 0 };

	memset(p, 0, sizeof(*p));
	p->doc = json_deep_copy(defaulted);
	assert_non_null(p->doc);
	if (replicas >= 0)
		assert_int_equal(
		    json_object_set_new(json_object_get(p->doc, "spec"),
					"replicas", json_integer(replicas)),
		    0);
	tp_build(p->doc, &p->pcs);
	in.pcs = &p->pcs;
	if (obs)
		in.observed = *obs;
	in.shape_every_pod = shape_every_pod;
	p->rc = rec_plan_build(&in, &p->plan, &p->err);
}

static void plan_doc_observed(planned *p, const json_t *defaulted,
			      int64_t replicas, const rec_observed *obs)
{
	plan_doc_with(p, defaulted, replicas, obs, false);
}

static void plan_doc(planned *p, const json_t *defaulted, int64_t replicas)
{
	plan_doc_observed(p, defaulted, replicas, NULL);
}

/* groved's variables (docs/api.md section 6) */
static bool groved_var(const char *name)
{
	static const char *const vars[] = {
		"GROVE_PCS_NAME",
		"GROVE_PCS_INDEX",
		"GROVE_PCLQ_NAME",
		"GROVE_HEADLESS_SERVICE",
		"GROVE_PCLQ_POD_INDEX",
		"GROVE_PCSG_NAME",
		"GROVE_PCSG_INDEX",
		"GROVE_PCSG_POD_INDEX",
		"GROVE_PCSG_TEMPLATE_NUM_PODS",
		NULL,
	};
	size_t x = 0;

	for (x = 0; vars[x]; x++) {
		if (strcmp(vars[x], name) == 0)
			return true;
	}
	return false;
}

/*
 * In every container and init container of every planned pod but
 * grove-initc: groved's variables first, each once, the container's own
 * after them (GROVE_PCS_NAME is the set's, not the template's "mine").
 * Returns the number of containers whose own env was seen.
 */
static size_t check_env_order(const rec_plan *plan, const char *pcs)
{
	static const char *const lists[] = { "containers", "initContainers",
					     NULL };
	const json_t *item = NULL;
	size_t i = 0;
	size_t own_seen = 0;

	json_array_foreach(plan->items, i, item)
	{
		const json_t *o = json_object_get(item, "object");
		const json_t *spec = json_object_get(o, "spec");
		size_t l = 0;

		if (!tp_kind_is(o, "Pod"))
			continue;
		for (l = 0; lists[l]; l++) {
			const json_t *ctr = NULL;
			size_t c = 0;

			json_array_foreach(json_object_get(spec, lists[l]), c,
					   ctr)
			{
				const char *cn = json_string_value(
				    json_object_get(ctr, "name"));
				const json_t *e = NULL;
				size_t x = 0;
				size_t grove = 0;
				bool own = false;
				bool pcs_name = false;

				if (cn && strcmp(cn, "grove-initc") == 0)
					continue;
				json_array_foreach(json_object_get(ctr, "env"),
						   x, e)
				{
					const char *n = json_string_value(
					    json_object_get(e, "name"));

					assert_non_null(n);
					if (!groved_var(n)) {
						own = true;
						continue;
					}
					/* none of groved's after one of the
					 * container's own */
					if (own)
						print_error("%s: %s after the "
							    "container's env\n",
							    tp_name_of(o), n);
					assert_false(own);
					grove++;
					if (strcmp(n, "GROVE_PCS_NAME"))
						continue;
					assert_false(pcs_name);
					pcs_name = true;
					assert_string_equal(
					    json_string_value(
						json_object_get(e, "value")),
					    pcs);
				}
				assert_true(grove >= 5);
				assert_true(pcs_name);
				if (own)
					own_seen++;
			}
		}
	}
	return own_seen;
}

/* The plan's items, compact: a new string. */
static char *items_text(const rec_plan *plan)
{
	char *t = json_dumps(plan->items, JSON_COMPACT);

	assert_non_null(t);
	return t;
}

/*
 * N -> M -> N, each planned against what the one before created: every
 * name of the smaller plan is in the larger (nothing that survives is
 * renamed), and back at N the plan is byte for byte the first.
 */
static void check_n_m_n(const json_t *defaulted, const planned *a, int64_t m,
			size_t round)
{
	tp_cluster c;
	tp_cluster c_m;
	planned mid;
	planned back;
	json_t *small = NULL;
	json_t *large = NULL;
	const char *key = NULL;
	json_t *val = NULL;
	char *ta = NULL;
	char *tb = NULL;

	tp_observe(&c, &a->plan);
	plan_doc_observed(&mid, defaulted, m, &c.obs);
	assert_int_equal(mid.rc, GV_OK);
	small = names_of(m >= a->pcs.replicas ? &a->plan : &mid.plan);
	large = names_of(m >= a->pcs.replicas ? &mid.plan : &a->plan);
	json_object_foreach(small, key, val)
	{
		if (!json_object_get(large, key))
			print_error("round %zu: %s renamed\n", round, key);
		assert_non_null(json_object_get(large, key));
	}
	tp_observe(&c_m, &mid.plan);
	plan_doc_observed(&back, defaulted, a->pcs.replicas, &c_m.obs);
	assert_int_equal(back.rc, GV_OK);
	ta = items_text(&a->plan);
	tb = items_text(&back.plan);
	if (strcmp(ta, tb))
		print_error("round %zu: N -> %" PRId64 " -> N differs\n", round,
			    m);
	assert_string_equal(ta, tb);
	free(ta);
	free(tb);
	json_decref(small);
	json_decref(large);
	tp_cluster_release(&c);
	tp_cluster_release(&c_m);
	planned_release(&mid);
	planned_release(&back);
}

/* How many generated sets the property plans: 3,000, or 1,000 under
 * AddressSanitizer, where a plan costs several times as much (the
 * sanitizer's run looks for memory errors on every path the generator
 * makes, which 1,000 sets walk too; the plain build plans all). */
#if defined(__SANITIZE_ADDRESS__)
#define PROPERTY_SETS 1000
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PROPERTY_SETS 1000
#endif
#endif
#ifndef PROPERTY_SETS
#define PROPERTY_SETS 3000
#endif

/*
 * Property, over 3,000 generated sets that validate (test_gen.h): each
 * plans; names unique and at most 63 characters, owners first;
 * every pod in exactly one PodGang, its label's; the same plan twice,
 * and the same with every pod shaped anew as with pods stamped;
 * no action against its own output; scaling up renames nothing that
 * survives (and scaling back is planning the same input again: the same
 * plan, as the second plan shows).
 */
static void test_property_generated(void **state)
{
	uint64_t seed = 0x2545f4914f6cdd1dULL;
	size_t generated = 0;
	size_t planned_sets = 0;
	size_t own_env = 0;

	(void)state;
	/* at least PROPERTY_SETS valid sets planned (tp_next_valid fails
	 * when the generator runs out first) */
	for (planned_sets = 0; planned_sets < PROPERTY_SETS; planned_sets++) {
		json_t *defaulted = tp_next_valid(&seed, &generated);
		size_t round = generated - 1;
		planned a;
		planned b;
		planned b2;
		planned up;
		tp_cluster c;
		json_t *actions = NULL;
		json_t *na = NULL;
		json_t *nup = NULL;
		const char *key = NULL;
		json_t *val = NULL;
		char *da = NULL;
		char *db = NULL;
		bool compact = false;

		plan_doc(&a, defaulted, -1);
		if (a.rc != GV_OK)
			print_error("round %zu: %s\n", round, a.err.text);
		assert_int_equal(a.rc, GV_OK);
		check_names_and_owners(&a.plan, "p");
		check_gang_membership(&a.plan);

		/* every pod shaped anew: the same plan as the stamped one */
		plan_doc_with(&b, defaulted, -1, NULL, true);
		assert_int_equal(b.rc, GV_OK);
		da = items_text(&a.plan);
		db = items_text(&b.plan);
		assert_string_equal(da, db);
		free(db);

		tp_observe(&c, &a.plan);
		actions = actions_of(&a.plan, &a.pcs, &c.obs);
		assert_int_equal(json_array_size(actions), 0);
		json_decref(actions);
		/* planned against its own output: the same plan */
		plan_doc_observed(&b2, defaulted, -1, &c.obs);
		assert_int_equal(b2.rc, GV_OK);
		db = items_text(&b2.plan);
		assert_string_equal(da, db);
		free(db);
		planned_release(&b2);
		tp_cluster_release(&c);
		own_env += check_env_order(&a.plan, "p");
		check_n_m_n(defaulted, &a,
			    round % 2		 ? a.pcs.replicas + 2
			    : a.pcs.replicas > 1 ? a.pcs.replicas - 1
						 : a.pcs.replicas + 1,
			    round);

		/* N -> N + 1: every name survives (compact sets allow it only
		 * within scaling.maxReplicas: planned anyway, unvalidated) */
		compact = a.pcs.form == POL_FORM_COMPACT;
		plan_doc(&up, defaulted, a.pcs.replicas + 1);
		assert_int_equal(up.rc, GV_OK);
		na = names_of(&a.plan);
		nup = names_of(&up.plan);
		json_object_foreach(na, key, val)
		{
			if (!json_object_get(nup, key))
				print_error("round %zu (%s): %s gone\n", round,
					    compact ? "compact" : "template",
					    key);
			assert_non_null(json_object_get(nup, key));
		}
		assert_true(json_object_size(nup) > json_object_size(na));
		json_decref(na);
		json_decref(nup);
		planned_release(&up);
		free(da);
		planned_release(&a);
		planned_release(&b);
		json_decref(defaulted);
	}
	/* the env property met containers with env of their own */
	assert_true(own_env > 1000);
}

/*
 * A clique paused at 0 through its /scale (observed spec.replicas 0; a
 * template cannot say 0, validation refuses it): its PodClique stays with
 * replicas 0, no pod of it is planned, its podgroup asks minReplicas 0
 * with no podReferences; its pods of ours are deleted.
 */
static void test_paused_clique(void **state)
{
	json_t *cliques = tu_doc("[{\"kind\": \"PodClique\", \"metadata\": "
				 "{\"name\": \"t-0-b\"}, \"spec\": "
				 "{\"replicas\": 0}}]");
	json_t *pods = json_array();
	json_t *actions = NULL;
	rec_observed obs = { 0 };
	rec_plan plan = REC_PLAN_INIT;
	const json_t *pclq = NULL;
	const json_t *pg = NULL;
	const json_t *g = NULL;
	size_t i = 0;
	size_t deleted = 0;
	planned p;

	(void)state;
	plan_text(&p, template_set, 1, NULL, true);
	assert_int_equal(p.rc, GV_OK);
	json_array_append_new(pods, obs_pod(&p.plan, "t-0-b-0", "t-0-b-0", 0));
	obs.podcliques = cliques;
	obs.pods = pods;
	plan_observed(&p.pcs, &obs, &plan);
	pclq = tp_planned(&plan, "PodClique", "t-0-b");
	assert_non_null(pclq);
	assert_int_equal(json_integer_value(json_object_get(
			     json_object_get(pclq, "spec"), "replicas")),
			 0);
	assert_int_equal(pods_of(&plan, "b"), 0);
	json_array_foreach(
	    json_object_get(
		json_object_get(tp_planned(&plan, "PodGang", "t-0"), "spec"),
		"podgroups"),
	    i, g)
	{
		if (strcmp(json_string_value(json_object_get(g, "name")),
			   "t-0-b") == 0)
			pg = g;
	}
	assert_non_null(pg);
	assert_int_equal(json_integer_value(json_object_get(pg, "minReplicas")),
			 0);
	assert_int_equal(json_array_size(json_object_get(pg, "podReferences")),
			 0);
	assert_int_equal(rec_plan_actions(&plan, &p.pcs, &obs, &actions),
			 GV_OK);
	json_array_foreach(actions, i, g)
	{
		if (strcmp(action_at(actions, i, "name"), "t-0-b-0") != 0)
			continue;
		assert_string_equal(action_at(actions, i, "action"), "delete");
		deleted++;
	}
	assert_int_equal(deleted, 1);
	json_decref(actions);
	rec_plan_release(&plan);
	json_decref(pods);
	json_decref(cliques);
	planned_release(&p);
}

/* ---- the planner's pods and the pod webhook's ---------------------- */

#define DYNAMO_YAML "tests/fixtures/pods/dynamo-multinode.yaml"

/* A cache of one PodCliqueSet (ctx), as the webhook's informer holds it. */
static srv_cache_result one_get(void *ctx, const char *kind, const char *ns,
				const char *name, json_t **obj)
{
	const json_t *pcs = ctx;
	const json_t *meta = json_object_get(pcs, "metadata");
	const char *n = json_string_value(json_object_get(meta, "name"));
	const char *s = json_string_value(json_object_get(meta, "namespace"));

	if (strcmp(kind, SRV_KIND_PCS) != 0 || !name || !n ||
	    strcmp(name, n) != 0 || !ns || !s || strcmp(ns, s) != 0)
		return SRV_CACHE_MISSING;
	*obj = json_incref((json_t *)pcs);
	return SRV_CACHE_FOUND;
}

static bool one_synced(void *ctx)
{
	(void)ctx;
	return true;
}

static const srv_cache_ops one_ops = { one_get, one_synced };

/* The pod webhook's answer to a CREATE of pod (borrowed): *patch_out is
 * the decoded JSON patch (a new reference) or NULL when none. */
static void webhook(const json_t *pod, const srv_hook_env *env,
		    json_t **patch_out)
{
	json_t *review = json_pack(
	    "{s:s, s:s, s:{s:s, s:{s:s, s:s, s:s}, s:{s:s, s:s, s:s}, "
	    "s:O?, s:O?, s:s, s:{s:s}, s:O}}",
	    "apiVersion", "admission.k8s.io/v1", "kind", "AdmissionReview",
	    "request", "uid", "plan-1", "kind", "group", "", "version", "v1",
	    "kind", "Pod", "resource", "group", "", "version", "v1", "resource",
	    "pods", "namespace",
	    json_object_get(json_object_get(pod, "metadata"), "namespace"),
	    "name", json_object_get(json_object_get(pod, "metadata"), "name"),
	    "operation", "CREATE", "userInfo", "username", "admin", "object",
	    (json_t *)pod);
	char *body = json_dumps(review, JSON_COMPACT);
	srv_reply reply = { 0 };
	json_t *answer = NULL;
	const json_t *resp = NULL;
	const char *b64 = NULL;

	assert_non_null(body);
	assert_int_equal(srv_admission_serve(SRV_HOOK_MUTATE_POD, body,
					     strlen(body), env, &reply, NULL),
			 GV_OK);
	assert_int_equal(reply.status, 200);
	answer = json_loadb(reply.body, reply.len, 0, NULL);
	assert_non_null(answer);
	resp = json_object_get(answer, "response");
	assert_true(json_is_true(json_object_get(resp, "allowed")));
	*patch_out = NULL;
	b64 = json_string_value(json_object_get(resp, "patch"));
	if (b64) {
		char *text = NULL;
		size_t len = 0;
		size_t bad = 0;

		assert_int_equal(
		    gv_base64_decode(b64, strlen(b64), &text, &len, &bad),
		    GV_OK);
		*patch_out = json_loadb(text, len, 0, NULL);
		assert_non_null(*patch_out);
		free(text);
	}
	json_decref(answer);
	srv_reply_release(&reply);
	free(body);
	json_decref(review);
}

/*
 * The Dynamo-shaped set (KAI queue on the clique templates, env built
 * from $(GROVE_PCSG_NAME), an init container, a group of leader and
 * workers): every pod the planner plans is the pod webhook's own result,
 * both ways. A bare pod of the clique's podSpec, named as the planner
 * names it and labelled with the set and clique only, comes out of the
 * webhook as the planner's pod (but for hostname and subdomain, which
 * the worker sets); and the planner's pod through the webhook gets no
 * patch at all.
 */
static void test_dynamo_planner_matches_webhook(void **state)
{
	char *text = tu_file(DYNAMO_YAML);
	pol_pod_options po = { .default_scheduler = "kai-scheduler",
			       .initc_image = "groved:test",
			       .namespace = NULL };
	srv_cache cache;
	srv_hook_env env;
	const json_t *item = NULL;
	rec_input in = { 0 };
	json_t *defaulted = NULL;
	pol_pcs pcs;
	rec_plan plan = REC_PLAN_INIT;
	size_t i = 0;
	size_t n_pods = 0;

	(void)state;
	defaulted = tp_default(text, -1, true);
	tp_build(defaulted, &pcs);
	in.pcs = &pcs;
	in.pod_options = &po;
	assert_int_equal(rec_plan_build(&in, &plan, NULL), GV_OK);

	cache.ops = &one_ops;
	cache.ctx = defaulted;
	memset(&env, 0, sizeof(env));
	env.cache = &cache;
	env.default_scheduler = "kai-scheduler";
	env.initc_image = "groved:test";

	json_array_foreach(plan.items, i, item)
	{
		const json_t *o = json_object_get(item, "object");
		const json_t *ospec = json_object_get(o, "spec");
		const char *clq = tp_label_of(o, POL_LABEL_PCS_CLIQUE);
		json_t *bare = NULL;
		json_t *patch = NULL;
		json_t *got = NULL;
		size_t ci = 0;

		if (!tp_kind_is(o, "Pod"))
			continue;
		n_pods++;
		for (ci = 0; ci < pcs.n_cliques; ci++) {
			if (strcmp(pcs.cliques[ci].name, clq) == 0)
				break;
		}
		assert_true(ci < pcs.n_cliques);
		bare = json_pack(
		    "{s:s, s:s, s:{s:O, s:O, s:{s:s, s:s}}, s:o}", "apiVersion",
		    "v1", "kind", "Pod", "metadata", "name",
		    json_object_get(json_object_get(o, "metadata"), "name"),
		    "namespace",
		    json_object_get(json_object_get(o, "metadata"),
				    "namespace"),
		    "labels", POL_LABEL_PCS, pcs.name, POL_LABEL_PCS_CLIQUE,
		    clq, "spec", json_deep_copy(pcs.cliques[ci].pod));
		assert_non_null(bare);
		webhook(bare, &env, &patch);
		assert_non_null(patch);
		assert_int_equal(pol_patch_apply(bare, patch, &got, NULL),
				 GV_OK);
		assert_int_equal(
		    json_object_set(json_object_get(got, "spec"), "hostname",
				    json_object_get(ospec, "hostname")),
		    0);
		assert_int_equal(
		    json_object_set(json_object_get(got, "spec"), "subdomain",
				    json_object_get(ospec, "subdomain")),
		    0);
		if (!json_equal(got, o)) {
			char *a = json_dumps(got, JSON_SORT_KEYS);
			char *b = json_dumps(o, JSON_SORT_KEYS);

			print_error("webhook: %s\nplanner: %s\n", a, b);
			free(a);
			free(b);
		}
		assert_true(json_equal(got, o));
		json_decref(patch);
		json_decref(got);
		json_decref(bare);

		/* the planner's pod is already what the webhook makes */
		webhook(o, &env, &patch);
		if (patch) {
			char *a = json_dumps(patch, 0);

			print_error("%s: patched %s\n", tp_name_of(o), a);
			free(a);
		}
		assert_null(patch);
	}
	/* frontend 1, leader 1, workers of the unit */
	assert_true(n_pods >= 3);
	rec_plan_release(&plan);
	pol_pcs_release(&pcs);
	json_decref(defaulted);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reference_scaling),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_zero_replicas),
		cmocka_unit_test(test_template_gangs_and_waves),
		cmocka_unit_test(test_name_too_long),
		cmocka_unit_test(test_template_hash),
		cmocka_unit_test(test_topology),
		cmocka_unit_test(test_actions),
		cmocka_unit_test(test_actions_cluster_fills),
		cmocka_unit_test(test_actions_ended_pod),
		cmocka_unit_test(test_observed_counts),
		cmocka_unit_test(test_observed_pods),
		cmocka_unit_test(test_scale_in),
		cmocka_unit_test(test_paused_clique),
		cmocka_unit_test(test_dynamo_planner_matches_webhook),
		cmocka_unit_test(test_property_generated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
