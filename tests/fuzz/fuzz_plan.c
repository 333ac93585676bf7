/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_plan.c: any bytes through the reader, the defaults, the validator
 * and the planner, as `groved plan` runs them.
 *
 * Besides crashes and leaks it checks: a set that validates always plans
 * (rec_plan_build never fails on it); the plan has no name over 63
 * characters; planning against its own output gives no action. Sets of
 * more than PODS_MAX pods are skipped (a count in the manifest is not a
 * crash to find). The input's other documents are then the observed
 * state (PodCliques, groups, PodGangs, pods and anything else, as
 * `groved plan --observed` and the worker hand it over): planning
 * against them must not crash or leak, whatever they say.
 */
#include <stdint.h>

#include "groved/gv_read.h"
#include "groved/policy.h"
#include "groved/reconcile.h"

#define PODS_MAX 2000

/* Pods the set would make, at most a little past PODS_MAX. */
static int64_t pods_of(const pol_pcs *pcs)
{
	int64_t per_replica = 0;
	int64_t replicas = pcs->replicas;
	size_t i = 0;

	for (i = 0; i < pcs->n_cliques; i++) {
		const pol_clique *c = &pcs->cliques[i];
		int64_t units =
		    c->group >= 0 ? pcs->groups[c->group].replicas : 1;

		if (c->replicas > PODS_MAX || units > PODS_MAX)
			return PODS_MAX + 1;
		per_replica += c->replicas * units;
		if (per_replica > PODS_MAX)
			return PODS_MAX + 1;
	}
	if (pcs->form == POL_FORM_COMPACT && pcs->n_groups > 0)
		replicas = 1;
	if (replicas > PODS_MAX || per_replica * replicas > PODS_MAX)
		return PODS_MAX + 1;
	return per_replica * replicas;
}

/* The observed lists of the worker, from the input's documents. */
static void observe(const json_t *docs, json_t *lists[5], rec_observed *obs)
{
	static const char *const kinds[] = { "PodClique",
					     "PodCliqueScalingGroup", "PodGang",
					     "Pod", NULL };
	const json_t *d = NULL;
	size_t i = 0;
	size_t k = 0;

	for (k = 0; k < 5; k++)
		lists[k] = json_array();
	json_array_foreach(docs, i, d)
	{
		const char *kind =
		    json_string_value(json_object_get(d, "kind"));
		json_int_t n = json_integer_value(
		    json_object_get(json_object_get(d, "spec"), "replicas"));

		if (n > PODS_MAX)
			continue; /* a count is not a crash to find */
		for (k = 0; kinds[k] && kind && strcmp(kinds[k], kind); k++)
			;
		json_array_append(lists[k], (json_t *)d);
	}
	obs->podcliques = lists[0];
	obs->groups = lists[1];
	obs->podgangs = lists[2];
	obs->pods = lists[3];
	obs->others = lists[4];
}

static void check_observed(const pol_pcs *pcs, const json_t *docs)
{
	json_t *lists[5];
	rec_input in = { 0 };
	rec_plan plan = REC_PLAN_INIT;
	json_t *actions = NULL;
	size_t k = 0;

	in.pcs = pcs;
	observe(docs, lists, &in.observed);
	if (rec_plan_build(&in, &plan, NULL) == GV_OK)
		(void)rec_plan_actions(&plan, pcs, &in.observed, &actions);
	json_decref(actions);
	rec_plan_release(&plan);
	for (k = 0; k < 5; k++)
		json_decref(lists[k]);
}

static void check_plan(const json_t *defaulted, const json_t *docs)
{
	pol_verdict v = POL_VERDICT_INIT;
	pol_pcs pcs;
	rec_input in = { 0 };
	rec_plan plan = REC_PLAN_INIT;
	rec_observed obs = { 0 };
	json_t *objects = NULL;
	json_t *actions = NULL;
	const json_t *item = NULL;
	size_t i = 0;

	if (pol_pcs_build(defaulted, &pcs, &v) != GV_OK) {
		pol_verdict_release(&v);
		return;
	}
	pol_verdict_release(&v);
	if (pods_of(&pcs) > PODS_MAX)
		goto out;
	in.pcs = &pcs;
	if (rec_plan_build(&in, &plan, NULL) != GV_OK)
		__builtin_trap(); /* a valid set that does not plan */
	objects = json_array();
	if (!objects)
		goto out;
	json_array_foreach(plan.items, i, item)
	{
		const json_t *o = json_object_get(item, "object");
		const char *n = json_string_value(
		    json_object_get(json_object_get(o, "metadata"), "name"));

		if (!n || strlen(n) > POL_NAME_MAX)
			__builtin_trap();
		json_array_append(objects, (json_t *)o);
	}
	obs.others = objects;
	if (rec_plan_actions(&plan, &pcs, &obs, &actions) == GV_OK &&
	    json_array_size(actions) != 0)
		__builtin_trap(); /* not idempotent */
	if (json_array_size(docs) > 1)
		check_observed(&pcs, docs);
out:
	json_decref(actions);
	json_decref(objects);
	rec_plan_release(&plan);
	pol_pcs_release(&pcs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *docs = NULL;
	const json_t *obj = NULL;
	size_t i = 0;

	if (gv_read_documents((const char *)data, size, "fuzz", &docs, NULL,
			      NULL) != GV_OK)
		return 0;
	json_array_foreach(docs, i, obj)
	{
		pol_options opts = { NULL, NULL, NULL };
		pol_verdict v = POL_VERDICT_INIT;
		json_t *defaulted = NULL;

		if (pol_review_pcs(obj, NULL, &opts, &v, &defaulted) == GV_OK &&
		    !v.n_errors && defaulted &&
		    pol_kind_of(obj, &v) == POL_KIND_PODCLIQUESET)
			check_plan(defaulted, docs);
		json_decref(defaulted);
		pol_verdict_release(&v);
	}
	json_decref(docs);
	return 0;
}
