/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_status.c: the statuses the reconcile worker writes
 * (rec_status_build, groved/reconcile.h; docs/status.md): every field and
 * condition of PodClique, PodCliqueScalingGroup, PodGang and
 * PodCliqueSet for pods in every state, a paused clique, Degraded after
 * Ready, topology, lastTransitionTime, idempotence, and a property over
 * 3,000 generated sets.
 */
#include "test_plan_util.h"

#include <inttypes.h>

#define T0 "2025-01-01T00:00:00Z"
#define T1 "2025-01-01T00:01:00Z"
#define T2 "2025-01-01T00:02:00Z"
#define T3 "2025-01-01T00:03:00Z"

#define REF "vllm-disaggregated"
#define ROUTER REF "-0-router-clique"
#define PCSG REF "-0-prefill-decode-ratio"
#define PREFILL PCSG "-0-prefill-clique"
#define DECODE PCSG "-0-decode-clique"

/* A planned set and what is observed of it. */
typedef struct fx {
	json_t *doc; /* the defaulted set: generation 3, its status */
	pol_pcs pcs;
	rec_plan plan;
	tp_cluster c; /* no others */
	json_t *pclqs, *pcsgs, *gangs, *pods; /* c's lists (borrowed) */
	bool binding_missing;
	const char *missing_level;
	bool kai_unserved;
	const json_t *missing_claims;
} fx;

static void set_generation(json_t *o, int64_t g)
{
	assert_int_equal(json_object_set_new(json_object_get(o, "metadata"),
					     "generation", json_integer(g)),
			 0);
}

/* (Re)plans f->doc against what f observes. */
static void fx_plan(fx *f)
{
	rec_input in = { 0 };
	gv_error_t err = GV_ERROR_INIT;

	rec_plan_release(&f->plan);
	in.pcs = &f->pcs;
	in.observed = f->c.obs;
	assert_int_equal(rec_plan_build(&in, &f->plan, &err), GV_OK);
}

/* Plans the defaulted set doc (stolen) and observes every planned
 * PodClique, group and PodGang (generation 2), and the planned pods when
 * with_pods (as created: gated, not scheduled). */
static void fx_open_doc(fx *f, json_t *doc, bool with_pods)
{
	const json_t *item = NULL;
	size_t i = 0;

	memset(f, 0, sizeof(*f));
	f->plan = (rec_plan)REC_PLAN_INIT;
	f->doc = doc;
	tp_build(f->doc, &f->pcs);
	set_generation(f->doc, 3);
	tp_cluster_init(&f->c);
	f->pclqs = f->c.lists[TP_PODCLIQUES];
	f->pcsgs = f->c.lists[TP_GROUPS];
	f->gangs = f->c.lists[TP_PODGANGS];
	f->pods = f->c.lists[TP_PODS];
	fx_plan(f);
	json_array_foreach(f->plan.items, i, item)
	{
		const json_t *o = json_object_get(item, "object");
		size_t l =
		    tp_list_of(json_string_value(json_object_get(o, "kind")));
		json_t *copy = NULL;

		if (l == TP_OTHERS || (l == TP_PODS && !with_pods))
			continue;
		copy = json_deep_copy(o);
		if (l != TP_PODS)
			set_generation(copy, 2);
		assert_int_equal(json_array_append_new(f->c.lists[l], copy), 0);
	}
}

/* Defaults and validates text (NULL: the reference workload), with
 * spec.replicas set to replicas when >= 0, then as fx_open_doc. */
static void fx_open(fx *f, const char *text, int64_t replicas, bool with_pods)
{
	char *ref = text ? NULL : tu_file("examples/vllm-disaggregated.yaml");

	fx_open_doc(f, tp_default(text ? text : ref, replicas, true),
		    with_pods);
	free(ref);
}

static void fx_close(fx *f)
{
	rec_plan_release(&f->plan);
	pol_pcs_release(&f->pcs);
	json_decref(f->doc);
	tp_cluster_release(&f->c);
}

/* The statuses against what f observes now: a new reference. */
static json_t *fx_run(fx *f, const char *now)
{
	rec_status_input in = { .set = f->doc,
				.pcs = &f->pcs,
				.plan = &f->plan,
				.observed = &f->c.obs,
				.now = now,
				.binding_missing = f->binding_missing,
				.missing_level = f->missing_level,
				.kai_topology_unserved = f->kai_unserved,
				.missing_claim_templates = f->missing_claims };
	json_t *out = NULL;

	assert_int_equal(rec_status_build(&in, &out), GV_OK);
	assert_non_null(out);
	return out;
}

/* The observed kind/name, or for a PodCliqueSet the set (borrowed,
 * mutable); NULL when f observes none. */
static json_t *fx_object(fx *f, const char *kind, const char *name)
{
	if (strcmp(kind, "PodCliqueSet") == 0)
		return f->doc;
	return tp_cluster_find(&f->c, kind, name, NULL);
}

/* RFC 7386: patch merged into target (objects), as the API server
 * applies the worker's merge patch of a status: a null removes. */
static void merge_into(json_t *target, const json_t *patch)
{
	const char *k = NULL;
	json_t *v = NULL;

	json_object_foreach((json_t *)patch, k, v)
	{
		json_t *t = json_object_get(target, k);

		if (json_is_null(v)) {
			json_object_del(target, k);
		} else if (json_is_object(v)) {
			if (!json_is_object(t)) {
				t = json_object();
				assert_int_equal(
				    json_object_set_new(target, k, t), 0);
			}
			merge_into(t, v);
		} else {
			assert_int_equal(
			    json_object_set_new(target, k, json_deep_copy(v)),
			    0);
		}
	}
}

/* Writes each status of out into its object, as the worker would (a
 * merge patch of the status). */
static void fx_apply(fx *f, const json_t *out)
{
	const char *key = NULL;
	json_t *s = NULL;

	json_object_foreach((json_t *)out, key, s)
	{
		const char *slash = strchr(key, '/');
		char kind[64];
		json_t *o = NULL;

		assert_non_null(slash);
		snprintf(kind, sizeof(kind), "%.*s", (int)(slash - key), key);
		o = fx_object(f, kind, slash + 1);
		assert_non_null(o);
		if (!json_is_object(json_object_get(o, "status")))
			assert_int_equal(
			    json_object_set_new(o, "status", json_object()), 0);
		merge_into(json_object_get(o, "status"), s);
	}
}

/* Runs and applies until nothing changes: the statuses then computed
 * against their own output are {} (idempotence). */
static void fx_settle(fx *f, const char *now)
{
	json_t *out = fx_run(f, now);
	json_t *again = NULL;

	fx_apply(f, out);
	again = fx_run(f, now);
	if (json_object_size(again)) {
		char *t = json_dumps(again, JSON_INDENT(1) | JSON_SORT_KEYS);

		print_error("not idempotent: %s\n", t);
		free(t);
	}
	assert_int_equal(json_object_size(again), 0);
	json_decref(again);
	json_decref(out);
}

/* The current status of Kind/name after fx_apply. */
static const json_t *status(fx *f, const char *kind, const char *name)
{
	const json_t *o = fx_object(f, kind, name);

	assert_non_null(o);
	return json_object_get(o, "status");
}

static int64_t ival(const json_t *s, const char *key)
{
	const json_t *v = json_object_get(s, key);

	if (!json_is_integer(v))
		print_error("no integer '%s'\n", key);
	assert_true(json_is_integer(v));
	return json_integer_value(v);
}

static const char *sval(const json_t *s, const char *key)
{
	const char *v = json_string_value(json_object_get(s, key));

	if (!v)
		print_error("no string '%s'\n", key);
	assert_non_null(v);
	return v;
}

static const json_t *cond_of(const json_t *s, const char *type)
{
	const json_t *c = NULL;
	size_t i = 0;

	json_array_foreach(json_object_get(s, "conditions"), i, c)
	{
		if (strcmp(sval(c, "type"), type) == 0)
			return c;
	}
	return NULL;
}

/* Checks condition type of s: status, reason and, when not NULL, a
 * piece of its message and its lastTransitionTime. */
static void check_cond(const json_t *s, const char *type, const char *st,
		       const char *reason, const char *in_message,
		       const char *ltt)
{
	const json_t *c = cond_of(s, type);

	if (!c)
		print_error("no condition %s\n", type);
	assert_non_null(c);
	if (strcmp(sval(c, "status"), st) != 0 ||
	    strcmp(sval(c, "reason"), reason) != 0 ||
	    (in_message && !strstr(sval(c, "message"), in_message)))
		print_error("%s: %s %s '%s'\n", type, sval(c, "status"),
			    sval(c, "reason"), sval(c, "message"));
	assert_string_equal(sval(c, "status"), st);
	assert_string_equal(sval(c, "reason"), reason);
	if (in_message)
		assert_non_null(strstr(sval(c, "message"), in_message));
	if (ltt && strcmp(sval(c, "lastTransitionTime"), ltt) != 0)
		print_error("%s: lastTransitionTime %s, not %s\n", type,
			    sval(c, "lastTransitionTime"), ltt);
	if (ltt)
		assert_string_equal(sval(c, "lastTransitionTime"), ltt);
}

/* ---- pod states ------------------------------------------------------ */

static json_t *pod(fx *f, const char *name)
{
	json_t *p = tp_cluster_find(&f->c, "Pod", name, NULL);

	if (!p)
		print_error("no pod %s\n", name);
	assert_non_null(p);
	return p;
}

static json_t *status_of(json_t *p)
{
	json_t *s = json_object_get(p, "status");

	if (!s) {
		s = json_object();
		assert_int_equal(json_object_set_new(p, "status", s), 0);
	}
	return s;
}

static void set_conds(json_t *p, const char *json)
{
	assert_int_equal(
	    json_object_set_new(status_of(p), "conditions", tu_doc(json)), 0);
}

/* Bound by the scheduler: no gate, a node, PodScheduled True, Pending. */
static void scheduled(fx *f, const char *name)
{
	json_t *p = pod(f, name);
	json_t *spec = json_object_get(p, "spec");

	json_object_del(spec, "schedulingGates");
	assert_int_equal(
	    json_object_set_new(spec, "nodeName", json_string("node-1")), 0);
	set_conds(p, "[{\"type\": \"PodScheduled\", \"status\": \"True\"}]");
	json_object_set_new(status_of(p), "phase", json_string("Pending"));
}

/* Scheduled, grove-initc running (waiting for the parents). */
static void in_initc(fx *f, const char *name)
{
	json_t *p = pod(f, name);

	scheduled(f, name);
	json_object_set_new(status_of(p), "initContainerStatuses",
			    tu_doc("[{\"name\": \"grove-initc\", \"state\": "
				   "{\"running\": {}}}]"));
}

static void ready(fx *f, const char *name)
{
	json_t *p = pod(f, name);

	scheduled(f, name);
	json_object_set_new(status_of(p), "phase", json_string("Running"));
	set_conds(p, "[{\"type\": \"PodScheduled\", \"status\": \"True\"}, "
		     "{\"type\": \"Ready\", \"status\": \"True\"}]");
	json_object_set_new(status_of(p), "containerStatuses",
			    tu_doc("[{\"name\": \"c\", \"started\": true, "
				   "\"ready\": true}]"));
}

/* Running, its container started, not Ready. */
static void not_ready(fx *f, const char *name)
{
	json_t *p = pod(f, name);

	scheduled(f, name);
	json_object_set_new(status_of(p), "phase", json_string("Running"));
	json_object_set_new(status_of(p), "containerStatuses",
			    tu_doc("[{\"name\": \"c\", \"started\": true, "
				   "\"ready\": false}]"));
}

static void crashing(fx *f, const char *name)
{
	json_t *p = pod(f, name);

	not_ready(f, name);
	json_object_set_new(
	    status_of(p), "containerStatuses",
	    tu_doc("[{\"name\": \"c\", \"started\": false, \"ready\": false, "
		   "\"lastState\": {\"terminated\": {\"exitCode\": 137}}}]"));
}

static void unschedulable(fx *f, const char *name)
{
	json_t *p = pod(f, name);

	json_object_del(json_object_get(p, "spec"), "schedulingGates");
	set_conds(p, "[{\"type\": \"PodScheduled\", \"status\": \"False\", "
		     "\"reason\": \"Unschedulable\", \"message\": \"0/3 nodes "
		     "are available: 3 cannot allocate all claims.\"}]");
	json_object_set_new(status_of(p), "phase", json_string("Pending"));
}

static void terminating(fx *f, const char *name)
{
	tp_terminate(pod(f, name), T0);
}

static void outdated(fx *f, const char *name)
{
	tp_set_label(pod(f, name), POL_LABEL_TEMPLATE_HASH, "0000000000");
}

static void remove_pod(fx *f, const char *name)
{
	size_t at = 0;

	assert_non_null(tp_cluster_find(&f->c, "Pod", name, &at));
	assert_int_equal(json_array_remove(f->pods, at), 0);
}

static void all_ready(fx *f)
{
	const json_t *o = NULL;
	size_t i = 0;

	json_array_foreach(f->pods, i, o)
	{
		ready(f, tp_name_of(o));
	}
}

/* fx_open with pods, every pod Ready, settled at T0 (fx_settle). */
static void fx_start(fx *f, const char *text, int64_t replicas)
{
	fx_open(f, text, replicas, true);
	all_ready(f);
	fx_settle(f, T0);
}

/* ---- the reference workload ------------------------------------------ */

/* Children observed, no pod yet. */
static void test_reference_no_pods(void **state)
{
	const json_t *s = NULL;
	fx f;

	(void)state;
	fx_open(&f, NULL, -1, false);
	fx_settle(&f, T0);

	s = status(&f, "PodClique", ROUTER);
	assert_int_equal(ival(s, "observedGeneration"), 2);
	assert_int_equal(ival(s, "replicas"), 0);
	assert_int_equal(ival(s, "readyReplicas"), 0);
	assert_int_equal(ival(s, "scheduledReplicas"), 0);
	assert_int_equal(ival(s, "scheduleGatedReplicas"), 0);
	assert_int_equal(ival(s, "updatedReplicas"), 0);
	assert_string_equal(sval(s, "hpaPodSelector"),
			    "app.kubernetes.io/managed-by=grove-operator,"
			    "app.kubernetes.io/part-of=" REF
			    ",grove.io/podclique=" ROUTER);
	check_cond(s, "PodCliqueScheduled", "False",
		   "InsufficientScheduledPods",
		   "PodClique " ROUTER " has 0 of 1 pods scheduled, "
		   "minAvailable 1",
		   T0);
	check_cond(s, "MinAvailableBreached", "False",
		   "InsufficientScheduledPods", "1 pod missing", T0);
	/* a grouped clique publishes no selector: its group does */
	s = status(&f, "PodClique", DECODE);
	assert_null(json_object_get(s, "hpaPodSelector"));
	check_cond(
	    s, "MinAvailableBreached", "False", "InsufficientScheduledPods",
	    "PodClique " DECODE " has 0 of 2 Ready pods, minAvailable 2", T0);

	s = status(&f, "PodCliqueScalingGroup", PCSG);
	assert_int_equal(ival(s, "observedGeneration"), 2);
	assert_int_equal(ival(s, "replicas"), 1);
	assert_int_equal(ival(s, "scheduledReplicas"), 0);
	assert_int_equal(ival(s, "availableReplicas"), 0);
	assert_int_equal(ival(s, "updatedReplicas"), 0);
	assert_string_equal(sval(s, "selector"),
			    "app.kubernetes.io/managed-by=grove-operator,"
			    "app.kubernetes.io/part-of=" REF
			    ",grove.io/podcliquescalinggroup=" PCSG);
	/* nothing scheduled yet: no unit is in breach */
	check_cond(s, "MinAvailableBreached", "False",
		   "SufficientAvailablePodCliqueScalingGroupReplicas",
		   "1 of 1 units not in breach", T0);

	s = status(&f, "PodGang", REF "-0");
	assert_string_equal(sval(s, "phase"), "Pending");
	check_cond(s, "Initialized", "False", "PodGangPodsCreationPending",
		   "0 of 4 pods of PodGang " REF
		   "-0 created; waiting for " ROUTER "-0, " PREFILL "-0, ",
		   T0);

	s = status(&f, "PodCliqueSet", REF);
	assert_int_equal(ival(s, "observedGeneration"), 3);
	assert_int_equal(ival(s, "replicas"), 1);
	assert_int_equal(ival(s, "availableReplicas"), 0);
	assert_int_equal(ival(s, "updatedReplicas"), 0);
	assert_string_equal(sval(s, "hpaPodSelector"),
			    "app.kubernetes.io/managed-by=grove-operator,"
			    "app.kubernetes.io/part-of=" REF);
	assert_string_equal(sval(s, "ready"), "0/4");
	assert_string_equal(sval(s, "phase"), "Pending");
	check_cond(s, "Ready", "False", "PodCliquesNotReady",
		   "PodClique " ROUTER " has 0 of 1 Ready pods, minAvailable "
		   "1; 1 pod missing",
		   T0);
	check_cond(s, "Degraded", "False", "PodCliquesStarting", NULL, T0);
	check_cond(s, "Paused", "False", "NoneScaledToZero", NULL, T0);
	/* the reference workload uses no topology */
	assert_null(cond_of(s, "TopologyLevelsUnavailable"));
	fx_close(&f);
}

/* From created to Running, then a pod lost (Degraded), then recovered:
 * every field and condition on the way, lastTransitionTime moving only
 * when a status flips. */
static void test_reference_lifecycle(void **state)
{
	const json_t *s = NULL;
	fx f;

	(void)state;
	fx_open(&f, NULL, -1, true);
	/* created: every pod gated */
	fx_settle(&f, T0);
	s = status(&f, "PodClique", DECODE);
	assert_int_equal(ival(s, "replicas"), 2);
	assert_int_equal(ival(s, "scheduleGatedReplicas"), 2);
	assert_int_equal(ival(s, "updatedReplicas"), 2);
	check_cond(s, "PodCliqueScheduled", "False",
		   "InsufficientScheduledPods",
		   "2 pods gated until their PodGang may be scheduled", T0);
	s = status(&f, "PodGang", REF "-0");
	check_cond(s, "Initialized", "True", "PodGangPodsCreated",
		   "all 4 pods of PodGang " REF "-0 exist", T0);
	assert_string_equal(sval(s, "phase"), "Pending");
	s = status(&f, "PodCliqueSet", REF);
	assert_string_equal(sval(s, "phase"), "Pending");
	assert_string_equal(sval(s, "ready"), "0/4");
	/* every pod is on the current template, but an updated unit or
	 * replica is an available one (as upstream) */
	assert_int_equal(
	    ival(status(&f, "PodClique", DECODE), "updatedReplicas"), 2);
	assert_int_equal(ival(s, "updatedReplicas"), 0);
	check_cond(s, "Ready", "False", "PodCliquesNotReady",
		   "1 pod gated until PodGang " REF
		   "-0 exists and may be scheduled",
		   T0);

	/* scheduled: router Ready, prefill waits in grove-initc for the
	 * router, decode scheduled and starting */
	ready(&f, ROUTER "-0");
	in_initc(&f, PREFILL "-0");
	scheduled(&f, DECODE "-0");
	scheduled(&f, DECODE "-1");
	fx_settle(&f, T1);
	s = status(&f, "PodClique", ROUTER);
	assert_int_equal(ival(s, "readyReplicas"), 1);
	assert_int_equal(ival(s, "scheduledReplicas"), 1);
	assert_int_equal(ival(s, "scheduleGatedReplicas"), 0);
	check_cond(s, "PodCliqueScheduled", "True", "SufficientScheduledPods",
		   NULL, T1);
	/* False before and after: the time is kept */
	check_cond(s, "MinAvailableBreached", "False", "SufficientReadyPods",
		   NULL, T0);
	s = status(&f, "PodClique", PREFILL);
	/* starting pods are not a breach */
	check_cond(s, "MinAvailableBreached", "False", "SufficientReadyPods",
		   "1 pod waiting for PodClique " ROUTER " (startsAfter)", T0);
	s = status(&f, "PodCliqueScalingGroup", PCSG);
	assert_int_equal(ival(s, "scheduledReplicas"), 1);
	assert_int_equal(ival(s, "availableReplicas"), 0);
	s = status(&f, "PodGang", REF "-0");
	assert_string_equal(sval(s, "phase"), "Starting");
	s = status(&f, "PodCliqueSet", REF);
	assert_string_equal(sval(s, "phase"), "Starting");
	assert_string_equal(sval(s, "ready"), "1/4");
	check_cond(s, "Ready", "False", "PodCliquesNotReady",
		   "PodClique " PREFILL " has 0 of 1 Ready pods, minAvailable "
		   "1; 1 pod waiting for PodClique " ROUTER " (startsAfter)",
		   T0);
	check_cond(s, "Ready", "False", "PodCliquesNotReady",
		   "PodClique " DECODE " has 0 of 2 Ready pods, minAvailable "
		   "2; 2 pods starting",
		   NULL);

	/* all Ready: Running 4/4 */
	all_ready(&f);
	fx_settle(&f, T2);
	s = status(&f, "PodCliqueScalingGroup", PCSG);
	assert_int_equal(ival(s, "availableReplicas"), 1);
	assert_int_equal(ival(s, "updatedReplicas"), 1);
	s = status(&f, "PodGang", REF "-0");
	assert_string_equal(sval(s, "phase"), "Running");
	s = status(&f, "PodCliqueSet", REF);
	assert_string_equal(sval(s, "phase"), "Running");
	assert_string_equal(sval(s, "ready"), "4/4");
	assert_int_equal(ival(s, "availableReplicas"), 1);
	assert_int_equal(ival(s, "updatedReplicas"), 1);
	check_cond(s, "Ready", "True", "AllPodCliquesReady", "4 of 4", T2);
	check_cond(s, "Degraded", "False", "AllPodCliquesReady", NULL, T0);

	/* a decode pod lost (its node gone: terminating): Degraded */
	terminating(&f, DECODE "-1");
	fx_settle(&f, T3);
	s = status(&f, "PodClique", DECODE);
	assert_int_equal(ival(s, "replicas"), 1);
	assert_int_equal(ival(s, "readyReplicas"), 1);
	check_cond(s, "PodCliqueScheduled", "False",
		   "InsufficientScheduledPods", NULL, T3);
	check_cond(s, "MinAvailableBreached", "True",
		   "ScheduledReplicasBelowMinAvailable",
		   "PodClique " DECODE " has 1 of 2 Ready pods, minAvailable 2",
		   T3);
	s = status(&f, "PodCliqueScalingGroup", PCSG);
	check_cond(s, "MinAvailableBreached", "True",
		   "InsufficientAvailablePodCliqueScalingGroupReplicas",
		   "0 of 1 units not in breach", T3);
	s = status(&f, "PodCliqueSet", REF);
	assert_string_equal(sval(s, "phase"), "Degraded");
	assert_string_equal(sval(s, "ready"), "3/4");
	assert_int_equal(ival(s, "availableReplicas"), 0);
	check_cond(s, "Ready", "False", "PodCliquesNotReady", NULL, T3);
	check_cond(s, "Degraded", "True", "PodCliquesBelowMinAvailable",
		   "was Ready, now below minAvailable: PodClique " DECODE
		   " has 1 of 2 Ready pods, minAvailable 2",
		   T3);

	/* the replacement created (gated): still Degraded, breached */
	remove_pod(&f, DECODE "-1");
	{
		json_t *p = json_deep_copy(pod(&f, DECODE "-0"));

		json_object_set_new(json_object_get(p, "metadata"), "name",
				    json_string(DECODE "-1"));
		json_object_del(p, "status");
		json_object_set_new(
		    json_object_get(p, "spec"), "schedulingGates",
		    tu_doc("[{\"name\": \"" POL_GATE_PODGANG "\"}]"));
		json_object_del(json_object_get(p, "spec"), "nodeName");
		json_array_append_new(f.pods, p);
	}
	fx_settle(&f, "2025-01-01T00:04:00Z");
	s = status(&f, "PodClique", DECODE);
	check_cond(s, "MinAvailableBreached", "True",
		   "ScheduledReplicasBelowMinAvailable", NULL, T3);
	s = status(&f, "PodCliqueSet", REF);
	check_cond(s, "Degraded", "True", "PodCliquesBelowMinAvailable",
		   "1 pod gated", T3);

	/* Ready again: recovered */
	ready(&f, DECODE "-1");
	fx_settle(&f, "2025-01-01T00:05:00Z");
	s = status(&f, "PodClique", DECODE);
	check_cond(s, "MinAvailableBreached", "False", "SufficientReadyPods",
		   NULL, "2025-01-01T00:05:00Z");
	s = status(&f, "PodCliqueSet", REF);
	assert_string_equal(sval(s, "phase"), "Running");
	assert_string_equal(sval(s, "ready"), "4/4");
	check_cond(s, "Ready", "True", "AllPodCliquesReady", NULL,
		   "2025-01-01T00:05:00Z");
	check_cond(s, "Degraded", "False", "AllPodCliquesReady", NULL,
		   "2025-01-01T00:05:00Z");
	fx_close(&f);
}

/* Pods in the other states: unschedulable (the scheduler's reason in
 * the set's Ready message), crashing and started-not-Ready (breached
 * once scheduled), Failed, and an outdated template hash. */
static void test_pod_states(void **state)
{
	const json_t *s = NULL;
	fx f;

	(void)state;
	fx_open(&f, NULL, -1, true);
	ready(&f, ROUTER "-0");
	ready(&f, PREFILL "-0");
	unschedulable(&f, DECODE "-0");
	unschedulable(&f, DECODE "-1");
	fx_settle(&f, T0);
	s = status(&f, "PodClique", DECODE);
	assert_int_equal(ival(s, "scheduledReplicas"), 0);
	assert_int_equal(ival(s, "scheduleGatedReplicas"), 0);
	s = status(&f, "PodCliqueSet", REF);
	check_cond(s, "Ready", "False", "PodCliquesNotReady",
		   "2 pods not scheduled: 0/3 nodes are available: 3 cannot "
		   "allocate all claims.",
		   T0);

	/* scheduled, then one crashes and one runs without Ready: below
	 * minAvailable 2 once scheduled */
	ready(&f, DECODE "-0");
	ready(&f, DECODE "-1");
	fx_settle(&f, T1);
	crashing(&f, DECODE "-0");
	not_ready(&f, DECODE "-1");
	fx_settle(&f, T2);
	s = status(&f, "PodClique", DECODE);
	assert_int_equal(ival(s, "readyReplicas"), 0);
	assert_int_equal(ival(s, "scheduledReplicas"), 2);
	check_cond(s, "PodCliqueScheduled", "True", "SufficientScheduledPods",
		   NULL, T1);
	check_cond(s, "MinAvailableBreached", "True", "InsufficientReadyPods",
		   "1 pod running but not Ready; 1 pod failing", T2);
	s = status(&f, "PodCliqueSet", REF);
	assert_string_equal(sval(s, "phase"), "Degraded");
	assert_string_equal(sval(s, "ready"), "2/4");

	/* Failed: neither scheduled nor Ready */
	json_object_set_new(status_of(pod(&f, DECODE "-0")), "phase",
			    json_string("Failed"));
	fx_settle(&f, T3);
	s = status(&f, "PodClique", DECODE);
	assert_int_equal(ival(s, "scheduledReplicas"), 1);
	assert_int_equal(ival(s, "replicas"), 2);
	check_cond(s, "MinAvailableBreached", "True",
		   "ScheduledReplicasBelowMinAvailable",
		   "1 pod Failed or Succeeded", T2);

	/* an outdated hash: updatedReplicas counts only current pods, and
	 * neither the group's unit nor the set replica is updated */
	all_ready(&f);
	outdated(&f, DECODE "-1");
	fx_settle(&f, T3);
	s = status(&f, "PodClique", DECODE);
	assert_int_equal(ival(s, "replicas"), 2);
	assert_int_equal(ival(s, "readyReplicas"), 2);
	assert_int_equal(ival(s, "updatedReplicas"), 1);
	s = status(&f, "PodCliqueScalingGroup", PCSG);
	assert_int_equal(ival(s, "availableReplicas"), 1);
	assert_int_equal(ival(s, "updatedReplicas"), 0);
	s = status(&f, "PodCliqueSet", REF);
	assert_string_equal(sval(s, "phase"), "Running");
	assert_int_equal(ival(s, "availableReplicas"), 1);
	assert_int_equal(ival(s, "updatedReplicas"), 0);
	fx_close(&f);
}

/* Scaled to 2 units: a second unit that is still starting neither
 * keeps the set from Ready nor makes it Degraded; a unit that was
 * Ready and drops does make it Degraded while it stays Ready. */
static void test_reference_scaled(void **state)
{
	const json_t *s = NULL;
	const json_t *o = NULL;
	size_t i = 0;
	fx f;

	(void)state;
	fx_open(&f, NULL, 2, true);
	json_array_foreach(f.pods, i, o)
	{
		if (!strstr(tp_name_of(o), "ratio-1-"))
			ready(&f, tp_name_of(o));
	}
	fx_settle(&f, T0);
	s = status(&f, "PodCliqueScalingGroup", PCSG);
	assert_int_equal(ival(s, "replicas"), 2);
	assert_int_equal(ival(s, "availableReplicas"), 1);
	s = status(&f, "PodCliqueSet", REF);
	assert_int_equal(ival(s, "replicas"), 2);
	/* compact form: spec.replicas counts units, so do these */
	assert_int_equal(ival(s, "availableReplicas"), 1);
	assert_int_equal(ival(s, "updatedReplicas"), 1);
	assert_string_equal(sval(s, "ready"), "4/7");
	assert_string_equal(sval(s, "phase"), "Running");
	check_cond(s, "Ready", "True", "AllPodCliquesReady", "4 of 7", T0);
	check_cond(s, "Degraded", "False", "PodCliquesStarting",
		   "none that was Ready has dropped", T0);

	all_ready(&f);
	fx_settle(&f, T1);
	s = status(&f, "PodCliqueSet", REF);
	assert_int_equal(ival(s, "availableReplicas"), 2);
	assert_int_equal(ival(s, "updatedReplicas"), 2);
	assert_string_equal(sval(s, "ready"), "7/7");

	/* unit 1's decode loses a pod: the group keeps minAvailable 1 (the
	 * set stays Ready), but a clique that was Ready dropped */
	terminating(&f, PCSG "-1-decode-clique-0");
	fx_settle(&f, T2);
	s = status(&f, "PodCliqueSet", REF);
	check_cond(s, "Ready", "True", "AllPodCliquesReady", NULL, T0);
	check_cond(s, "Degraded", "True", "PodCliquesBelowMinAvailable",
		   PCSG "-1-decode-clique has 1 of 2 Ready pods", T2);
	assert_string_equal(sval(s, "phase"), "Degraded");
	assert_int_equal(ival(s, "availableReplicas"), 1);
	fx_close(&f);
}

/* ---- the template form ----------------------------------------------- */

/* clang-format off */

/* The cliques of the template-form sets here: a (2 pods, minAvailable
 * 1), b (1 pod) and w (2 pods) in group g of 3 units, minAvailable 2. */
#define ABW_CLIQUES                                                     \
	"    cliques:\n"                                                \
	TP_CLIQUE("a", "2", "        minAvailable: 1\n", "busybox")     \
	TP_CLIQUE("b", "1", "", "busybox")                              \
	TP_CLIQUE("w", "2", "", "busybox")                              \
	"    podCliqueScalingGroups:\n"                                 \
	"    - {name: g, cliqueNames: [w], replicas: 3, minAvailable: 2}\n"

/* Two set replicas, startup InOrder. */
static const char template_set[] =
    TP_HEAD
    "  replicas: 2\n"
    "  template:\n"
    "    cliqueStartupType: CliqueStartupTypeInOrder\n"
    ABW_CLIQUES;

/* Two set replicas, updateStrategy OnDelete. */
static const char on_delete_set[] =
    TP_HEAD
    "  replicas: 2\n"
    "  updateStrategy: {type: OnDelete}\n"
    "  template:\n"
    ABW_CLIQUES;

/* clang-format on */

/* Two set replicas, a group of 3 units with minAvailable 2: replica 0
 * all Ready, replica 1 missing a unit's pods: availableReplicas counts
 * set replicas; minAvailable 1 of a 2-pod clique is met by one pod. */
static void test_template(void **state)
{
	const json_t *s = NULL;
	const json_t *o = NULL;
	size_t i = 0;
	fx f;

	(void)state;
	fx_open(&f, template_set, -1, true);
	json_array_foreach(f.pods, i, o)
	{
		if (strncmp(tp_name_of(o), "t-1-g-2-", 8) != 0 &&
		    strcmp(tp_name_of(o), "t-1-a-1") != 0)
			ready(&f, tp_name_of(o));
	}
	fx_settle(&f, T0);
	s = status(&f, "PodClique", "t-1-a");
	assert_int_equal(ival(s, "readyReplicas"), 1);
	check_cond(s, "MinAvailableBreached", "False", "SufficientReadyPods",
		   NULL, T0);
	s = status(&f, "PodCliqueScalingGroup", "t-1-g");
	assert_int_equal(ival(s, "replicas"), 3);
	assert_int_equal(ival(s, "availableReplicas"), 2);
	assert_int_equal(ival(s, "scheduledReplicas"), 2);
	assert_int_equal(ival(s, "updatedReplicas"), 2);
	check_cond(s, "MinAvailableBreached", "False",
		   "SufficientAvailablePodCliqueScalingGroupReplicas",
		   "3 of 3 units not in breach (2 available), minAvailable 2",
		   T0);
	s = status(&f, "PodGang", "t-1-g-0");
	assert_string_equal(sval(s, "phase"), "Pending");
	s = status(&f, "PodGang", "t-0-g-0");
	assert_string_equal(sval(s, "phase"), "Running");
	s = status(&f, "PodCliqueSet", "t");
	assert_int_equal(ival(s, "replicas"), 2);
	assert_int_equal(ival(s, "availableReplicas"), 2);
	/* replica 1's group has a unit that is not available */
	assert_int_equal(ival(s, "updatedReplicas"), 1);
	assert_string_equal(sval(s, "ready"), "15/18");
	assert_string_equal(sval(s, "phase"), "Running");

	/* replica 1 loses a base unit's pods: its group falls below
	 * minAvailable, the set replica is no longer available */
	terminating(&f, "t-1-g-0-w-0");
	fx_settle(&f, T1);
	s = status(&f, "PodCliqueScalingGroup", "t-1-g");
	assert_int_equal(ival(s, "availableReplicas"), 1);
	/* unit 2 was never scheduled: not in breach (as upstream) */
	check_cond(s, "MinAvailableBreached", "False",
		   "SufficientAvailablePodCliqueScalingGroupReplicas",
		   "2 of 3 units not in breach (1 available), minAvailable 2: "
		   "PodClique t-1-g-0-w has 1 of 2 Ready pods",
		   T0);
	s = status(&f, "PodCliqueSet", "t");
	assert_int_equal(ival(s, "availableReplicas"), 1);
	assert_string_equal(sval(s, "phase"), "Degraded");
	check_cond(s, "Ready", "False", "PodCliquesNotReady",
		   "PodCliqueScalingGroup t-1-g has 1 of 3 units available, "
		   "minAvailable 2",
		   T1);
	fx_close(&f);
}

/* ---- paused ----------------------------------------------------------- */

/* Sets spec.replicas of the observed kind/name to n. */
static void scale(fx *f, const char *kind, const char *name, int64_t n)
{
	json_t *o = fx_object(f, kind, name);

	assert_non_null(o);
	tp_set_member(o, "spec", "replicas", json_integer(n));
}

static void remove_pods_of(fx *f, const char *prefix)
{
	size_t i = json_array_size(f->pods);

	while (i-- > 0) {
		if (strncmp(tp_name_of(json_array_get(f->pods, i)), prefix,
			    strlen(prefix)) == 0)
			assert_int_equal(json_array_remove(f->pods, i), 0);
	}
}

/* A PodClique, then a group, scaled to 0 through /scale: neither
 * breached nor ready, named by the set's Paused condition; the set
 * stays Running. The set at spec.replicas 0: 0/0, Paused. */
static void test_paused(void **state)
{
	const json_t *s = NULL;
	fx f;

	(void)state;
	fx_start(&f, template_set, 1);
	s = status(&f, "PodCliqueSet", "t");
	check_cond(s, "Paused", "False", "NoneScaledToZero", NULL, T0);
	assert_string_equal(sval(s, "ready"), "9/9");

	scale(&f, "PodClique", "t-0-b", 0);
	remove_pods_of(&f, "t-0-b-");
	fx_plan(&f);
	fx_settle(&f, T1);
	s = status(&f, "PodClique", "t-0-b");
	assert_int_equal(ival(s, "replicas"), 0);
	assert_int_equal(ival(s, "readyReplicas"), 0);
	check_cond(s, "PodCliqueScheduled", "False", "Paused",
		   "PodClique t-0-b is paused (spec.replicas 0)", T1);
	check_cond(s, "MinAvailableBreached", "False", "Paused", NULL, T0);
	s = status(&f, "PodCliqueSet", "t");
	check_cond(s, "Paused", "True", "ScaledToZero", "PodClique t-0-b", T1);
	check_cond(s, "Ready", "True", "AllPodCliquesReady",
		   "paused: PodClique t-0-b", T0);
	check_cond(s, "Degraded", "False", "AllPodCliquesReady", NULL, T0);
	assert_string_equal(sval(s, "phase"), "Running");
	assert_string_equal(sval(s, "ready"), "8/8");

	scale(&f, "PodCliqueScalingGroup", "t-0-g", 0);
	remove_pods_of(&f, "t-0-g-");
	fx_plan(&f);
	fx_settle(&f, T2);
	s = status(&f, "PodCliqueScalingGroup", "t-0-g");
	assert_int_equal(ival(s, "replicas"), 0);
	assert_int_equal(ival(s, "availableReplicas"), 0);
	check_cond(s, "MinAvailableBreached", "False", "Paused",
		   "PodCliqueScalingGroup t-0-g is paused", T0);
	s = status(&f, "PodCliqueSet", "t");
	check_cond(s, "Paused", "True", "ScaledToZero",
		   "PodClique t-0-b; PodCliqueScalingGroup t-0-g", T1);
	assert_string_equal(sval(s, "phase"), "Running");
	assert_string_equal(sval(s, "ready"), "2/2");

	/* resumed: b back at 1 (its new pod gated) */
	scale(&f, "PodClique", "t-0-b", 1);
	fx_plan(&f);
	fx_settle(&f, T3);
	s = status(&f, "PodClique", "t-0-b");
	check_cond(s, "MinAvailableBreached", "False",
		   "InsufficientScheduledPods", NULL, T0);
	s = status(&f, "PodCliqueSet", "t");
	check_cond(s, "Paused", "True", "ScaledToZero",
		   "PodCliqueScalingGroup t-0-g", T1);
	assert_null(strstr(sval(cond_of(s, "Paused"), "message"), "t-0-b"));
	check_cond(s, "Ready", "False", "PodCliquesNotReady",
		   "PodClique t-0-b has 0 of 1 Ready pods", T3);
	/* a clique that was never Ready is no degradation */
	check_cond(s, "Degraded", "False", "PodCliquesStarting", NULL, T0);
	fx_close(&f);

	fx_open(&f, template_set, 0, true);
	fx_settle(&f, T0);
	s = status(&f, "PodCliqueSet", "t");
	assert_int_equal(ival(s, "replicas"), 0);
	assert_int_equal(ival(s, "availableReplicas"), 0);
	assert_string_equal(sval(s, "ready"), "0/0");
	assert_string_equal(sval(s, "phase"), "Running");
	check_cond(s, "Paused", "True", "ScaledToZero",
		   "PodCliqueSet is scaled to 0", T0);
	fx_close(&f);
}

/* ---- topology --------------------------------------------------------- */

static void test_topology(void **state)
{
	const json_t *s = NULL;
	fx f;

	(void)state;
	fx_open(&f, tp_packed_set, -1, false);
	f.binding_missing = true;
	fx_settle(&f, T0);
	s = status(&f, "PodCliqueSet", "p");
	check_cond(s, "TopologyLevelsUnavailable", "Unknown",
		   "ClusterTopologyNotFound",
		   "ClusterTopologyBinding dc not found", T0);

	f.binding_missing = false;
	f.missing_level = "zone";
	fx_settle(&f, T1);
	s = status(&f, "PodCliqueSet", "p");
	check_cond(s, "TopologyLevelsUnavailable", "True",
		   "ClusterTopologyLevelsUnavailable",
		   "topology level zone used by the set is not a level of "
		   "ClusterTopologyBinding dc",
		   T1);

	/* KAI does not serve its Topology kind: KAI cannot place the gangs */
	f.missing_level = NULL;
	f.kai_unserved = true;
	fx_settle(&f, T2);
	s = status(&f, "PodCliqueSet", "p");
	check_cond(s, "TopologyLevelsUnavailable", "True",
		   "KAITopologyNotServed",
		   "KAI Scheduler's Topology kind (kai.scheduler/v1alpha1) is "
		   "not served: groved cannot give KAI the levels of "
		   "ClusterTopologyBinding dc, and KAI cannot place this set's "
		   "topology-constrained PodGangs",
		   T1);

	f.kai_unserved = false;
	fx_settle(&f, T2);
	s = status(&f, "PodCliqueSet", "p");
	check_cond(s, "TopologyLevelsUnavailable", "False",
		   "AllClusterTopologyLevelsAvailable", NULL, T2);
	/* the other conditions kept their times */
	check_cond(s, "Ready", "False", "PodCliquesNotReady", NULL, T0);
	fx_close(&f);
}

/* A claim template the set names is missing: False naming it; back:
 * True; never checked (NULL): no condition. */
static void test_claim_templates(void **state)
{
	json_t *missing = json_pack("[s]", "h200-decode-claim");
	json_t *none = json_array();
	const json_t *s = NULL;
	fx f;

	(void)state;
	fx_open(&f, tp_packed_set, -1, false);
	fx_settle(&f, T0);
	s = status(&f, "PodCliqueSet", "p");
	assert_null(cond_of(s, "ResourceClaimTemplatesFound"));

	f.missing_claims = none; /* checked, all there: still nothing */
	fx_settle(&f, T0);
	s = status(&f, "PodCliqueSet", "p");
	assert_null(cond_of(s, "ResourceClaimTemplatesFound"));

	f.missing_claims = missing;
	fx_settle(&f, T1);
	s = status(&f, "PodCliqueSet", "p");
	check_cond(s, "ResourceClaimTemplatesFound", "False",
		   "ResourceClaimTemplateNotFound",
		   "ResourceClaimTemplate h200-decode-claim not found", T1);

	f.missing_claims = none;
	fx_settle(&f, T2);
	s = status(&f, "PodCliqueSet", "p");
	check_cond(s, "ResourceClaimTemplatesFound", "True",
		   "AllResourceClaimTemplatesFound", NULL, T2);
	fx_close(&f);
	json_decref(missing);
	json_decref(none);
}

/* ---- ownership, others' conditions, generation, arguments ------------- */

static void test_merge_and_ownership(void **state)
{
	json_t *out = NULL;
	json_t *router = NULL;
	const json_t *s = NULL;
	fx f;

	(void)state;
	fx_open(&f, NULL, -1, true);
	/* a PodClique of that name that is not ours: never written */
	router = fx_object(&f, "PodClique", ROUTER);
	tp_set_label(router, POL_LABEL_MANAGED_BY, "someone-else");
	/* a condition of another writer, and a status member groved does
	 * not own, are kept */
	json_object_set_new(
	    f.doc, "status",
	    tu_doc("{\"lastErrors\": [{\"code\": \"x\"}], \"conditions\": "
		   "[{\"type\": \"ClaimTemplateMissing\", \"status\": "
		   "\"True\", \"reason\": \"NotFound\", \"message\": \"m\", "
		   "\"lastTransitionTime\": \"2024-01-01T00:00:00Z\"}, "
		   "{\"type\": \"Ready\", \"status\": \"False\", \"reason\": "
		   "\"Old\", \"message\": \"old\", \"lastTransitionTime\": "
		   "\"2024-06-01T00:00:00Z\"}]}"));
	out = fx_run(&f, T0);
	assert_null(json_object_get(out, "PodClique/" ROUTER));
	assert_non_null(json_object_get(out, "PodClique/" DECODE));
	assert_non_null(json_object_get(out, "PodGang/" REF "-0"));
	assert_non_null(json_object_get(out, "PodCliqueScalingGroup/" PCSG));
	assert_non_null(json_object_get(out, "PodCliqueSet/" REF));
	assert_int_equal(json_object_size(out), 5);
	fx_apply(&f, out);
	json_decref(out);
	s = status(&f, "PodCliqueSet", REF);
	assert_non_null(json_object_get(s, "lastErrors"));
	/* in their order: the other's first, Ready in its place (status
	 * unchanged: its time kept), then groved's new ones */
	assert_string_equal(
	    sval(json_array_get(json_object_get(s, "conditions"), 0), "type"),
	    "ClaimTemplateMissing");
	check_cond(s, "ClaimTemplateMissing", "True", "NotFound", "m",
		   "2024-01-01T00:00:00Z");
	assert_string_equal(
	    sval(json_array_get(json_object_get(s, "conditions"), 1), "type"),
	    "Ready");
	check_cond(s, "Ready", "False", "PodCliquesNotReady",
		   "PodClique " ROUTER " is not created yet",
		   "2024-06-01T00:00:00Z");
	assert_string_equal(sval(s, "phase"), "Pending");
	fx_settle(&f, T1);

	/* a new generation: only observedGeneration changes */
	set_generation(f.doc, 4);
	out = fx_run(&f, T2);
	assert_int_equal(json_object_size(out), 1);
	assert_int_equal(ival(json_object_get(out, "PodCliqueSet/" REF),
			      "observedGeneration"),
			 4);
	json_decref(out);
	fx_close(&f);
}

static void test_arguments(void **state)
{
	json_t *out = NULL;
	fx f;
	rec_status_input in = { 0 };

	(void)state;
	fx_open(&f, NULL, -1, false);
	in.set = f.doc;
	in.pcs = &f.pcs;
	in.plan = &f.plan;
	in.observed = &f.c.obs;
	assert_int_equal(rec_status_build(&in, &out), GV_EINVAL); /* no now */
	in.now = T0;
	in.plan = NULL;
	assert_int_equal(rec_status_build(&in, &out), GV_EINVAL);
	assert_int_equal(rec_status_build(NULL, &out), GV_EINVAL);
	assert_null(out);
	/* nothing observed: the set's status alone */
	in.plan = &f.plan;
	in.observed = NULL;
	assert_int_equal(rec_status_build(&in, &out), GV_OK);
	assert_int_equal(json_object_size(out), 1);
	json_decref(out);
	fx_close(&f);
}

/* ---- rollouts --------------------------------------------------------- */

#define T4 "2025-01-01T00:04:00Z"
#define T5 "2025-01-01T00:05:00Z"
#define T6 "2025-01-01T00:06:00Z"

/* The plan's rollout report: the JSON text, or NULL for none (the
 * statuses then read the rollout from the pods). */
static void fx_report(fx *f, const char *text)
{
	json_decref(f->plan.rollout);
	f->plan.rollout = text ? tu_doc(text) : NULL;
}

/* The planner's report of an active RollingRecreate rollout of set
 * replica replica, at component: recreate (a pod, or NULL for none),
 * held and waiting (NULL: null) as rec_plan.rollout says them. */
static void fx_rolling(fx *f, int replica, const char *component,
		       const char *recreate, const char *held,
		       const char *waiting)
{
	json_t *r = json_pack("{s:b, s:s, s:i, s:s, s:s?, s:s?, s:{}}",
			      "active", 1, "strategy", "RollingRecreate",
			      "replicaIndex", replica, "component", component,
			      "held", held, "waiting", waiting, "recreate");

	assert_non_null(r);
	if (recreate)
		assert_int_equal(
		    json_object_set_new(json_object_get(r, "recreate"),
					recreate, json_true()),
		    0);
	json_decref(f->plan.rollout);
	f->plan.rollout = r;
}

/* The model built again from f->doc, which changed; the plan follows
 * (no report). */
static void fx_rebuild(fx *f)
{
	pol_pcs_release(&f->pcs);
	tp_build(f->doc, &f->pcs);
	fx_plan(f);
	fx_report(f, NULL);
}

/* The first container image of clique name in the defaulted set (either
 * form) set to image; the model and the plan follow (no report). */
static void set_image(fx *f, const char *clique, const char *image)
{
	json_t *spec = json_object_get(f->doc, "spec");
	json_t *list = json_object_get(spec, "podCliques");
	bool compact = list != NULL;
	json_t *q = NULL;
	bool found = false;
	size_t i = 0;

	if (!compact)
		list = json_object_get(json_object_get(spec, "template"),
				       "cliques");
	json_array_foreach(list, i, q)
	{
		json_t *holder =
		    compact ? q
			    : json_object_get(json_object_get(q, "spec"),
					      "podSpec");
		json_t *c0 =
		    json_array_get(json_object_get(holder, "containers"), 0);

		if (strcmp(json_string_value(json_object_get(q, "name")),
			   clique) != 0)
			continue;
		assert_int_equal(
		    json_object_set_new(c0, "image", json_string(image)), 0);
		found = true;
	}
	assert_true(found);
	fx_rebuild(f);
}

/* Pod name deleted and made again under its name on the current
 * template: gated and without status, or Ready when ready_now. */
static void replace(fx *f, const char *name, bool ready_now)
{
	json_t *p = json_deep_copy(pod(f, name));
	json_t *labels =
	    json_object_get(json_object_get(p, "metadata"), "labels");
	const char *pclq =
	    json_string_value(json_object_get(labels, POL_LABEL_PCLQ));

	assert_non_null(pclq);
	assert_int_equal(
	    json_object_set_new(labels, POL_LABEL_TEMPLATE_HASH,
				json_string(tp_planned_hash(&f->plan, pclq))),
	    0);
	json_object_del(json_object_get(p, "metadata"), "deletionTimestamp");
	json_object_del(p, "status");
	json_object_del(json_object_get(p, "spec"), "nodeName");
	assert_int_equal(json_object_set_new(
			     json_object_get(p, "spec"), "schedulingGates",
			     tu_doc("[{\"name\": \"" POL_GATE_PODGANG "\"}]")),
			 0);
	remove_pod(f, name);
	assert_int_equal(json_array_append_new(f->pods, p), 0);
	if (ready_now)
		ready(f, name);
}

/* Every pod whose name starts with prefix replaced, Ready. */
static void replace_all(fx *f, const char *prefix)
{
	json_t *names = json_array();
	const json_t *o = NULL;
	size_t i = 0;

	json_array_foreach(f->pods, i, o)
	{
		if (strncmp(tp_name_of(o), prefix, strlen(prefix)) == 0)
			json_array_append_new(names,
					      json_string(tp_name_of(o)));
	}
	json_array_foreach(names, i, o)
	{
		replace(f, json_string_value(o), true);
	}
	json_decref(names);
}

static const json_t *progress(fx *f, const char *pcs)
{
	const json_t *up =
	    json_object_get(status(f, "PodCliqueSet", pcs), "updateProgress");

	if (!up)
		print_error("no updateProgress\n");
	assert_non_null(up);
	return up;
}

/* updateProgress: started, ended (NULL: absent), hash, counts, and the
 * replica being updated with its start (-1: no currentlyUpdating). */
static void check_progress(const json_t *up, const char *started,
			   const char *ended, const char *hash, int64_t pclqs,
			   int64_t pclqs_total, int64_t pcsgs,
			   int64_t pcsgs_total, int64_t replica,
			   const char *replica_since)
{
	const json_t *cu = json_object_get(up, "currentlyUpdating");

	assert_string_equal(sval(up, "updateStartedAt"), started);
	if (ended)
		assert_string_equal(sval(up, "updateEndedAt"), ended);
	else
		assert_null(json_object_get(up, "updateEndedAt"));
	assert_string_equal(sval(up, "podCliqueSetGenerationHash"), hash);
	assert_int_equal(ival(up, "updatedPodCliquesCount"), pclqs);
	assert_int_equal(ival(up, "totalPodCliquesCount"), pclqs_total);
	assert_int_equal(ival(up, "updatedPodCliqueScalingGroupsCount"), pcsgs);
	assert_int_equal(ival(up, "totalPodCliqueScalingGroupsCount"),
			 pcsgs_total);
	if (replica < 0) {
		assert_null(cu);
		return;
	}
	assert_int_equal(json_array_size(cu), 1);
	assert_int_equal(ival(json_array_get(cu, 0), "replicaIndex"), replica);
	assert_string_equal(sval(json_array_get(cu, 0), "updateStartedAt"),
			    replica_since);
}

/* The set's status s says a RollingRecreate rollout is under way:
 * check_cond of UpdateInProgress True. */
static void check_rolling(const json_t *s, const char *in_message,
			  const char *ltt)
{
	check_cond(s, "UpdateInProgress", "True", "RollingRecreate", in_message,
		   ltt);
}

/* PodClique pclq is being rolled: MinAvailableBreached Unknown. */
static void check_rolled(fx *f, const char *pclq, const char *in_message,
			 const char *ltt)
{
	check_cond(status(f, "PodClique", pclq), "MinAvailableBreached",
		   "Unknown", "UpdateInProgress", in_message, ltt);
}

/* A set made afresh (no pod ever outdated): currentGenerationHash at
 * once, no updateProgress, UpdateInProgress False; scaling changes no
 * hash and starts no rollout. */
static void test_rollout_fresh(void **state)
{
	const json_t *s = NULL;
	char h0[17];
	fx f;

	(void)state;
	fx_open(&f, NULL, -1, true);
	fx_report(&f, NULL);
	fx_settle(&f, T0);
	s = status(&f, "PodCliqueSet", REF);
	assert_string_equal(sval(s, "currentGenerationHash"),
			    f.plan.template_hash);
	assert_int_equal(strlen(f.plan.template_hash), 16);
	assert_null(json_object_get(s, "updateProgress"));
	check_cond(s, "UpdateInProgress", "False", "UpdateComplete",
		   "every pod runs the current template", T0);
	memcpy(h0, f.plan.template_hash, sizeof(h0));

	all_ready(&f);
	fx_settle(&f, T1);
	/* scaled to 2 units: the new unit's pods are missing, not
	 * outdated; the hash is the same */
	tp_set_member(f.doc, "spec", "replicas", json_integer(2));
	fx_rebuild(&f);
	assert_string_equal(f.plan.template_hash, h0);
	fx_settle(&f, T2);
	s = status(&f, "PodCliqueSet", REF);
	assert_string_equal(sval(s, "currentGenerationHash"), h0);
	assert_null(json_object_get(s, "updateProgress"));
	check_cond(s, "UpdateInProgress", "False", "UpdateComplete", NULL, T0);
	fx_close(&f);
}

/* The reference workload rolled to new images, the planner's report
 * naming what is rolled: progress, counts, the replica being updated,
 * a clique below minAvailable while rolled (Unknown, never a breach),
 * the end; idempotent at every step (fx_settle). */
static void test_rollout_rolling(void **state)
{
	const json_t *s = NULL;
	json_t *out = NULL;
	char h0[17], h1[17];
	fx f;

	(void)state;
	fx_open(&f, NULL, -1, true);
	all_ready(&f);
	fx_report(&f, NULL);
	fx_settle(&f, T0);
	memcpy(h0, f.plan.template_hash, sizeof(h0));

	set_image(&f, "router-clique", "router:2");
	set_image(&f, "prefill-clique", "vllm:2");
	set_image(&f, "decode-clique", "vllm:2");
	memcpy(h1, f.plan.template_hash, sizeof(h1));
	assert_string_not_equal(h0, h1);
	fx_settle(&f, T1);
	s = status(&f, "PodCliqueSet", REF);
	assert_string_equal(sval(s, "currentGenerationHash"), h0);
	assert_int_equal(ival(s, "availableReplicas"), 1);
	assert_int_equal(ival(s, "updatedReplicas"), 0);
	check_progress(progress(&f, REF), T1, NULL, h1, 0, 3, 0, 1, 0, T1);
	check_rolling(s, "4 of 4 pods run an older template than ", T1);
	check_rolling(s, h1, NULL);
	check_rolling(s, "; updating set replica 0", NULL);
	s = status(&f, "PodClique", ROUTER);
	assert_int_equal(ival(s, "updatedReplicas"), 0);
	check_cond(s, "MinAvailableBreached", "False", "SufficientReadyPods",
		   NULL, T0);

	/* the router's pod deleted for the rollout: below minAvailable
	 * while rolled, Unknown */
	terminating(&f, ROUTER "-0");
	fx_rolling(&f, 0, ROUTER, ROUTER "-0", NULL, NULL);
	fx_settle(&f, T2);
	check_rolled(&f, ROUTER,
		     "PodClique " ROUTER " has 0 of 1 Ready pods, minAvailable "
		     "1; 1 pod missing; its pods are being updated to the "
		     "current template (RollingRecreate)",
		     T2);
	s = status(&f, "PodCliqueSet", REF);
	check_rolling(s, "3 of 3 pods run an older template than ", T1);
	check_rolling(s,
		      ", and 1 terminating pod was on one; updating set "
		      "replica 0, " ROUTER,
		      NULL);
	check_progress(progress(&f, REF), T1, NULL, h1, 0, 3, 0, 1, 0, T1);

	/* its replacement, gated: still rolled (the report names it) */
	replace(&f, ROUTER "-0", false);
	fx_settle(&f, T3);
	s = status(&f, "PodClique", ROUTER);
	assert_int_equal(ival(s, "updatedReplicas"), 1);
	check_rolled(&f, ROUTER, "1 pod gated", T2);
	check_progress(progress(&f, REF), T1, NULL, h1, 1, 3, 0, 1, 0, T1);
	/* without a report the router has no pod on another template: not
	 * rolled, and its replacement was never scheduled: no breach */
	fx_report(&f, NULL);
	fx_settle(&f, T3);
	check_cond(status(&f, "PodClique", ROUTER), "MinAvailableBreached",
		   "False", "InsufficientScheduledPods", NULL, T3);

	/* Ready; the unit's pods deleted together: its cliques Unknown,
	 * the group not in breach */
	ready(&f, ROUTER "-0");
	terminating(&f, PREFILL "-0");
	terminating(&f, DECODE "-0");
	terminating(&f, DECODE "-1");
	fx_rolling(&f, 0, PCSG, NULL, NULL, NULL);
	fx_settle(&f, T4);
	check_rolled(&f, PREFILL, NULL, T4);
	check_rolled(&f, DECODE, NULL, T4);
	check_cond(status(&f, "PodCliqueScalingGroup", PCSG),
		   "MinAvailableBreached", "False",
		   "SufficientAvailablePodCliqueScalingGroupReplicas", NULL,
		   T0);
	s = status(&f, "PodCliqueSet", REF);
	check_rolling(s, "0 of 1 pod runs an older template than ", T1);
	check_rolling(s,
		      ", and 3 terminating pods were on one; updating set "
		      "replica 0, " PCSG,
		      NULL);
	check_progress(progress(&f, REF), T1, NULL, h1, 1, 3, 0, 1, 0, T1);

	/* made again, gated: still rolled (the report names the group) */
	replace(&f, PREFILL "-0", false);
	replace(&f, DECODE "-0", false);
	replace(&f, DECODE "-1", false);
	fx_settle(&f, T4);
	check_rolled(&f, DECODE, "2 pods gated", T4);
	check_progress(progress(&f, REF), T1, NULL, h1, 3, 3, 1, 1, 0, T1);
	/* a rollout within its budget is no degradation */
	check_cond(status(&f, "PodCliqueSet", REF), "Degraded", "False",
		   "UpdateInProgress", "while a rollout replaces their pods",
		   NULL);

	/* nothing outdated any more, but the unit's new pods are not
	 * available: the planner still names the group, so the rollout
	 * stays open (no end, no new currentGenerationHash, the cliques
	 * still Unknown) */
	fx_report(&f, "{\"active\": false, \"strategy\": "
		      "\"RollingRecreate\", \"replicaIndex\": 0, "
		      "\"component\": \"" PCSG "\", \"held\": null, "
		      "\"waiting\": null, \"recreate\": {}}");
	fx_settle(&f, T4);
	s = status(&f, "PodCliqueSet", REF);
	assert_string_equal(sval(s, "currentGenerationHash"), h0);
	check_progress(progress(&f, REF), T1, NULL, h1, 3, 3, 1, 1, 0, T1);
	check_cond(s, "UpdateInProgress", "True", "RollingRecreate", NULL, T1);
	check_rolled(&f, DECODE, "2 pods gated", T4);

	/* Ready: the rollout is over; currentlyUpdating is removed by a
	 * null in the merge patch */
	ready(&f, PREFILL "-0");
	ready(&f, DECODE "-0");
	ready(&f, DECODE "-1");
	fx_report(&f, "{\"active\": false, \"strategy\": \"RollingRecreate\", "
		      "\"replicaIndex\": -1, \"component\": null, \"held\": "
		      "null, \"waiting\": null, \"recreate\": {}}");
	out = fx_run(&f, T5);
	assert_true(json_is_null(json_object_get(
	    json_object_get(json_object_get(out, "PodCliqueSet/" REF),
			    "updateProgress"),
	    "currentlyUpdating")));
	json_decref(out);
	fx_settle(&f, T5);
	s = status(&f, "PodCliqueSet", REF);
	assert_string_equal(sval(s, "currentGenerationHash"), h1);
	assert_int_equal(ival(s, "updatedReplicas"), 1);
	check_progress(progress(&f, REF), T1, T5, h1, 3, 3, 1, 1, -1, NULL);
	check_cond(s, "UpdateInProgress", "False", "UpdateComplete", h1, T5);
	check_cond(status(&f, "PodClique", DECODE), "MinAvailableBreached",
		   "False", "SufficientReadyPods", NULL, T5);

	/* later rounds change nothing: the end keeps its time */
	fx_settle(&f, T6);
	check_progress(progress(&f, REF), T1, T5, h1, 3, 3, 1, 1, -1, NULL);
	fx_close(&f);
}

/* A change during a rollout starts a new progress toward the newest
 * hash (pods already on it count as updated); a revert to what pods
 * still run makes them current at once; a revert before any pod was
 * replaced ends the progress at once. */
static void test_rollout_change_and_revert(void **state)
{
	const json_t *s = NULL;
	char h0[17], h1[17], h2[17];
	fx f;

	(void)state;
	fx_start(&f, NULL, -1);
	memcpy(h0, f.plan.template_hash, sizeof(h0));

	set_image(&f, "router-clique", "router:2");
	set_image(&f, "decode-clique", "vllm:2");
	memcpy(h1, f.plan.template_hash, sizeof(h1));
	fx_settle(&f, T1);
	replace(&f, ROUTER "-0", true);
	fx_settle(&f, T2);
	s = status(&f, "PodCliqueSet", REF);
	/* router and prefill (unchanged) on h1, decode not */
	check_progress(progress(&f, REF), T1, NULL, h1, 2, 3, 0, 1, 0, T1);
	check_rolling(s, "2 of 4 pods run an older template than ", T1);

	/* the router's image changed again, mid-rollout */
	set_image(&f, "router-clique", "router:3");
	memcpy(h2, f.plan.template_hash, sizeof(h2));
	assert_string_not_equal(h1, h2);
	fx_settle(&f, T3);
	s = status(&f, "PodCliqueSet", REF);
	assert_string_equal(sval(s, "currentGenerationHash"), h0);
	check_progress(progress(&f, REF), T3, NULL, h2, 1, 3, 0, 1, 0, T3);
	check_rolling(s, "3 of 4 pods run an older template than ", T1);
	check_rolling(s, h2, NULL);

	/* reverted: decode still runs h0's template, so only the router
	 * is outdated */
	set_image(&f, "router-clique",
		  "nvcr.io/nvidia/ai-dynamo/"
		  "vllm-runtime:1.0.0");
	set_image(&f, "decode-clique", "nvcr.io/nvidia/vllm:latest");
	assert_string_equal(f.plan.template_hash, h0);
	fx_settle(&f, T4);
	s = status(&f, "PodCliqueSet", REF);
	check_progress(progress(&f, REF), T4, NULL, h0, 2, 3, 1, 1, 0, T4);
	check_rolling(s, "1 of 4 pods run an older template than ", T1);
	replace(&f, ROUTER "-0", true);
	fx_settle(&f, T5);
	s = status(&f, "PodCliqueSet", REF);
	assert_string_equal(sval(s, "currentGenerationHash"), h0);
	check_progress(progress(&f, REF), T4, T5, h0, 3, 3, 1, 1, -1, NULL);
	check_cond(s, "UpdateInProgress", "False", "UpdateComplete", NULL, T5);

	/* changed and reverted before any pod moved: nothing to do, the
	 * progress toward the revert ends as it starts */
	set_image(&f, "prefill-clique", "vllm:9");
	fx_settle(&f, T6);
	check_progress(progress(&f, REF), T6, NULL, f.plan.template_hash, 2, 3,
		       0, 1, 0, T6);
	set_image(&f, "prefill-clique", "nvcr.io/nvidia/vllm:latest");
	fx_settle(&f, "2025-01-01T00:07:00Z");
	s = status(&f, "PodCliqueSet", REF);
	assert_string_equal(sval(s, "currentGenerationHash"), h0);
	check_progress(progress(&f, REF), "2025-01-01T00:07:00Z",
		       "2025-01-01T00:07:00Z", h0, 3, 3, 1, 1, -1, NULL);
	check_cond(s, "UpdateInProgress", "False", "UpdateComplete", NULL,
		   "2025-01-01T00:07:00Z");
	fx_close(&f);
}

/* The report's held and waiting messages. */
static void test_rollout_held(void **state)
{
	const json_t *s = NULL;
	fx f;

	(void)state;
	fx_start(&f, NULL, -1);
	set_image(&f, "decode-clique", "vllm:broken");
	fx_rolling(&f, 0, PCSG, NULL,
		   "pod " DECODE "-1 has not been Ready for 10m0s, past "
		   "progressDeadline 10m: the rollout holds",
		   NULL);
	fx_settle(&f, T1);
	s = status(&f, "PodCliqueSet", REF);
	check_cond(s, "UpdateInProgress", "True", "ProgressDeadlineExceeded",
		   "pod " DECODE "-1 has not been Ready for 10m0s, past "
		   "progressDeadline 10m: the rollout holds; 2 of 4 pods run "
		   "an older template than ",
		   T1);
	fx_rolling(&f, 0, PCSG, NULL, NULL,
		   "waiting for unit 0 of " PCSG " to be available");
	fx_settle(&f, T2);
	s = status(&f, "PodCliqueSet", REF);
	check_cond(s, "UpdateInProgress", "True", "Waiting",
		   "waiting for unit 0 of " PCSG " to be available; 2 of 4",
		   T1);
	fx_close(&f);
}

/* maxSurge: a replacement Ready beside the old pod; the set replica is
 * not updated while the old one runs. */
static void test_rollout_surge(void **state)
{
	const json_t *s = NULL;
	json_t *p = NULL;
	fx f;

	(void)state;
	fx_start(&f, NULL, -1);
	set_image(&f, "router-clique", "router:2");
	p = json_deep_copy(pod(&f, ROUTER "-0"));
	json_object_set_new(json_object_get(p, "metadata"), "name",
			    json_string(ROUTER "-0-1"));
	json_array_append_new(f.pods, p);
	replace(&f, ROUTER "-0-1", true);
	fx_settle(&f, T1);
	s = status(&f, "PodClique", ROUTER);
	assert_int_equal(ival(s, "replicas"), 2);
	assert_int_equal(ival(s, "updatedReplicas"), 1);
	s = status(&f, "PodCliqueSet", REF);
	assert_int_equal(ival(s, "updatedReplicas"), 0);
	check_progress(progress(&f, REF), T1, NULL, f.plan.template_hash, 2, 3,
		       1, 1, 0, T1);
	check_rolling(s, "1 of 5 pods run an older template", T1);

	remove_pod(&f, ROUTER "-0");
	fx_settle(&f, T2);
	s = status(&f, "PodCliqueSet", REF);
	assert_int_equal(ival(s, "updatedReplicas"), 1);
	check_progress(progress(&f, REF), T1, T2, f.plan.template_hash, 3, 3, 1,
		       1, -1, NULL);
	fx_close(&f);
}

/* Two set replicas, no report: the lowest replica with outdated pods
 * is the one being updated, with its own start. */
static void test_rollout_replicas(void **state)
{
	const json_t *s = NULL;
	fx f;

	(void)state;
	fx_start(&f, template_set, -1);
	set_image(&f, "a", "busybox:2");
	fx_settle(&f, T1);
	check_progress(progress(&f, "t"), T1, NULL, f.plan.template_hash, 8, 10,
		       2, 2, 0, T1);
	replace_all(&f, "t-0-a-");
	fx_settle(&f, T2);
	check_progress(progress(&f, "t"), T1, NULL, f.plan.template_hash, 9, 10,
		       2, 2, 1, T2);
	s = status(&f, "PodCliqueSet", "t");
	assert_int_equal(ival(s, "updatedReplicas"), 1);
	fx_rolling(&f, 1, "t-1-a", NULL, NULL, NULL);
	fx_settle(&f, T3);
	check_progress(progress(&f, "t"), T1, NULL, f.plan.template_hash, 9, 10,
		       2, 2, 1, T2);
	check_rolling(status(&f, "PodCliqueSet", "t"),
		      "2 of 18 pods run an older template than ", T1);
	check_rolling(status(&f, "PodCliqueSet", "t"),
		      "; updating set replica 1, t-1-a", NULL);
	fx_close(&f);
}

/* With the planner's own report: the router first (startup order), its
 * one pod deleted (minAvailable equals replicas, no maxSurge), Unknown
 * while it is replaced. */
static void test_rollout_planned(void **state)
{
	const json_t *r = NULL;
	const json_t *s = NULL;
	fx f;

	(void)state;
	fx_start(&f, NULL, -1);
	assert_false(json_is_true(json_object_get(f.plan.rollout, "active")));
	set_image(&f, "router-clique", "router:2");
	set_image(&f, "decode-clique", "vllm:2");
	fx_plan(&f);
	r = f.plan.rollout;
	assert_true(json_is_true(json_object_get(r, "active")));
	assert_int_equal(ival(r, "replicaIndex"), 0);
	assert_string_equal(sval(r, "component"), ROUTER);
	assert_true(json_is_true(
	    json_object_get(json_object_get(r, "recreate"), ROUTER "-0")));
	fx_settle(&f, T1);
	s = status(&f, "PodCliqueSet", REF);
	check_rolling(s, "3 of 4 pods run an older template than ", T1);
	check_rolling(s, "; updating set replica 0, " ROUTER, NULL);
	check_progress(progress(&f, REF), T1, NULL, f.plan.template_hash, 1, 3,
		       0, 1, 0, T1);

	terminating(&f, ROUTER "-0");
	fx_plan(&f);
	fx_settle(&f, T2);
	check_rolled(&f, ROUTER, NULL, T2);
	replace(&f, ROUTER "-0", false);
	fx_plan(&f);
	fx_settle(&f, T3);
	check_rolled(&f, ROUTER, NULL, T2);
	fx_close(&f);
}

/* OnDelete: the progress ends as it starts (as upstream), no
 * currentlyUpdating, a breach stays a breach (nothing is rolled), and
 * updatedReplicas counts the replicas whose pods were deleted and came
 * back. */
static void test_rollout_on_delete(void **state)
{
	const json_t *s = NULL;
	char h0[17];
	fx f;

	(void)state;
	fx_start(&f, on_delete_set, -1);
	assert_true(f.pcs.on_delete);
	memcpy(h0, f.plan.template_hash, sizeof(h0));
	set_image(&f, "a", "busybox:2");
	set_image(&f, "b", "busybox:2");
	set_image(&f, "w", "busybox:2");
	crashing(&f, "t-0-b-0");
	fx_settle(&f, T1);
	s = status(&f, "PodCliqueSet", "t");
	assert_string_equal(sval(s, "currentGenerationHash"), h0);
	check_progress(progress(&f, "t"), T1, T1, f.plan.template_hash, 0, 10,
		       0, 2, -1, NULL);
	check_cond(s, "UpdateInProgress", "True", "OnDelete",
		   "18 of 18 pods run an older template than ", T1);
	check_cond(s, "UpdateInProgress", "True", "OnDelete",
		   "updateStrategy OnDelete: groved recreates none of them, "
		   "and a pod deleted comes back on the current template",
		   NULL);
	check_cond(status(&f, "PodClique", "t-0-b"), "MinAvailableBreached",
		   "True", "InsufficientReadyPods", NULL, T1);

	/* replica 0's pods deleted by someone, back on the new template */
	replace_all(&f, "t-0-");
	fx_settle(&f, T2);
	s = status(&f, "PodCliqueSet", "t");
	assert_int_equal(ival(s, "updatedReplicas"), 1);
	check_progress(progress(&f, "t"), T1, T1, f.plan.template_hash, 5, 10,
		       1, 2, -1, NULL);
	check_cond(s, "UpdateInProgress", "True", "OnDelete",
		   "9 of 18 pods run an older template", T1);

	replace_all(&f, "t-1-");
	fx_settle(&f, T3);
	s = status(&f, "PodCliqueSet", "t");
	assert_int_equal(ival(s, "updatedReplicas"), 2);
	assert_string_equal(sval(s, "currentGenerationHash"),
			    f.plan.template_hash);
	check_progress(progress(&f, "t"), T1, T1, f.plan.template_hash, 10, 10,
		       2, 2, -1, NULL);
	check_cond(s, "UpdateInProgress", "False", "UpdateComplete", NULL, T3);
	fx_close(&f);
}

/* ---- property over generated sets ------------------------------------- */

/*
 * 3,000 valid generated sets, either form, every planned child and pod
 * observed and every pod Ready and scheduled: the first run writes every
 * observed object's status, every clique is Ready and not breached, every
 * group has all its units available and updated, the set is Running with
 * ready "N/N" and updatedReplicas = availableReplicas = replicas; then
 * computing against its own output gives {} (fx_settle).
 */
static void test_property_generated(void **state)
{
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	size_t generated = 0;
	size_t sets = 0;
	size_t with_groups = 0;

	(void)state;
	/* tp_next_valid fails when the generator runs out first */
	for (sets = 0; sets < 3000; sets++) {
		json_t *out = NULL;
		const json_t *o = NULL;
		const json_t *s = NULL;
		int64_t pods = 0;
		char want[64];
		size_t i = 0;
		fx f;

		fx_open_doc(&f, tp_next_valid(&seed, &generated), true);
		all_ready(&f);
		out = fx_run(&f, T0);
		assert_int_equal(json_object_size(out),
				 1 + json_array_size(f.pclqs) +
				     json_array_size(f.pcsgs) +
				     json_array_size(f.gangs));
		fx_apply(&f, out);
		json_decref(out);
		fx_settle(&f, T1);
		json_array_foreach(f.pclqs, i, o)
		{
			int64_t n = json_integer_value(json_object_get(
			    json_object_get(o, "spec"), "replicas"));

			s = json_object_get(o, "status");
			pods += n;
			assert_int_equal(ival(s, "replicas"), n);
			assert_int_equal(ival(s, "readyReplicas"), n);
			assert_int_equal(ival(s, "scheduledReplicas"), n);
			assert_int_equal(ival(s, "updatedReplicas"), n);
			assert_int_equal(ival(s, "scheduleGatedReplicas"), 0);
			check_cond(s, "PodCliqueScheduled", "True",
				   "SufficientScheduledPods", NULL, T0);
			check_cond(s, "MinAvailableBreached", "False",
				   "SufficientReadyPods", NULL, T0);
		}
		json_array_foreach(f.pcsgs, i, o)
		{
			int64_t n = json_integer_value(json_object_get(
			    json_object_get(o, "spec"), "replicas"));

			s = json_object_get(o, "status");
			with_groups++;
			assert_int_equal(ival(s, "availableReplicas"), n);
			assert_int_equal(ival(s, "scheduledReplicas"), n);
			assert_int_equal(ival(s, "updatedReplicas"), n);
			check_cond(s, "MinAvailableBreached", "False",
				   "SufficientAvailablePodCliqueScalingGroup"
				   "Replicas",
				   NULL, T0);
		}
		json_array_foreach(f.gangs, i, o)
		{
			s = json_object_get(o, "status");
			assert_string_equal(sval(s, "phase"), "Running");
			check_cond(s, "Initialized", "True",
				   "PodGangPodsCreated", NULL, T0);
		}
		s = status(&f, "PodCliqueSet", "p");
		snprintf(want, sizeof(want), "%" PRId64 "/%" PRId64, pods,
			 pods);
		assert_string_equal(sval(s, "ready"), want);
		assert_string_equal(sval(s, "phase"), "Running");
		assert_int_equal(ival(s, "replicas"), f.pcs.replicas);
		assert_int_equal(ival(s, "updatedReplicas"), f.pcs.replicas);
		assert_int_equal(ival(s, "availableReplicas"), f.pcs.replicas);
		check_cond(s, "Ready", "True", "AllPodCliquesReady", NULL, T0);
		check_cond(s, "Degraded", "False", "AllPodCliquesReady", NULL,
			   T0);
		fx_close(&f);
	}
	assert_true(with_groups > 250);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reference_no_pods),
		cmocka_unit_test(test_reference_lifecycle),
		cmocka_unit_test(test_pod_states),
		cmocka_unit_test(test_reference_scaled),
		cmocka_unit_test(test_template),
		cmocka_unit_test(test_paused),
		cmocka_unit_test(test_topology),
		cmocka_unit_test(test_claim_templates),
		cmocka_unit_test(test_merge_and_ownership),
		cmocka_unit_test(test_arguments),
		cmocka_unit_test(test_rollout_fresh),
		cmocka_unit_test(test_rollout_rolling),
		cmocka_unit_test(test_rollout_change_and_revert),
		cmocka_unit_test(test_rollout_held),
		cmocka_unit_test(test_rollout_planned),
		cmocka_unit_test(test_rollout_surge),
		cmocka_unit_test(test_rollout_replicas),
		cmocka_unit_test(test_rollout_on_delete),
		cmocka_unit_test(test_property_generated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
