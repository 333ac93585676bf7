/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rec_topology.c: KAI Scheduler's Topology objects (docs/reconcile.md).
 *
 * KAI places a topology-constrained PodGang by the levels of a Topology
 * (kai.scheduler/v1alpha1, cluster-scoped), not by groved's
 * ClusterTopologyBinding. So for each binding the worker keeps a Topology
 * of the same name whose levels are the binding's node label keys,
 * broadest first, owned by the binding (deleted with it). When KAI's kind
 * is not served, nothing is written, and every set that packs by
 * topology says so in its TopologyLevelsUnavailable condition
 * (rec_worker_kai_topology) instead of leaving gangs that KAI cannot
 * place without a word.
 *
 * Topologies are read by GET, not watched: the kind may not exist, and
 * there is one per binding.
 */
#include <string.h>

#include "groved/gv_time.h"
#include "rec_worker_int.h"

/* How long a finding that the kind is (not) served is trusted. */
#define KAI_CHECK_MS 60000

#define KAI_TOPOLOGIES (&rec_kinds[REC_K_TOPOLOGY].gvr)

int rec_worker_kai_topology(rec_worker *w)
{
	kube_list_page page = KUBE_LIST_PAGE_INIT;
	kube_query q = { .limit = 1 };
	kube_result res = { 0 };
	gv_error_t err = GV_ERROR_INIT;
	uint64_t now = gv_now_ms();
	int state = atomic_load(&w->kai_topology);
	int rc = GV_OK;

	if (state >= 0 && now - atomic_load(&w->kai_checked_ms) < KAI_CHECK_MS)
		return state;
	rc =
	    kube_list(w->o.client, KAI_TOPOLOGIES, NULL, &q, &page, &res, &err);
	kube_list_page_release(&page);
	if (rc == GV_OK)
		state = 1;
	else if (rc == GV_ENOTFOUND)
		state = 0; /* 404: the API server does not serve the kind */
	/* any other failure: what was known stays (unknown: -1) */
	if (rc == GV_OK || rc == GV_ENOTFOUND) {
		atomic_store(&w->kai_topology, state);
		atomic_store(&w->kai_checked_ms, now);
	}
	return state;
}

/* The Topology binding b asks for: a new reference, or NULL when b has
 * no usable levels. */
static json_t *wanted(const json_t *b)
{
	const json_t *meta = json_object_get(b, "metadata");
	const json_t *lv = NULL;
	json_t *levels = json_array();
	json_t *t = NULL;
	size_t i = 0;

	json_array_foreach(
	    json_object_get(json_object_get(b, "spec"), "levels"), i, lv)
	{
		const char *key = json_string_value(json_object_get(lv, "key"));

		if (key && levels &&
		    json_array_append_new(levels,
					  json_pack("{s:s}", "nodeLabel", key)))
			goto fail;
	}
	if (!levels || !json_array_size(levels) ||
	    !json_string_value(json_object_get(meta, "name")) ||
	    !json_string_value(json_object_get(meta, "uid")))
		goto fail;
	/* no blockOwnerDeletion: it would need update on
	 * clustertopologybindings/finalizers under
	 * OwnerReferencesPermissionEnforcement, and a binding's deletion
	 * need not wait for its Topology */
	t = json_pack(
	    "{s:s, s:s, s:{s:s, s:{s:s, s:s}, s:[{s:s, s:s, s:s, s:s, "
	    "s:b}]}, s:{s:o}}",
	    "apiVersion", "kai.scheduler/v1alpha1", "kind", "Topology",
	    "metadata", "name",
	    json_string_value(json_object_get(meta, "name")), "labels",
	    "app.kubernetes.io/managed-by", "grove-operator",
	    "app.kubernetes.io/component", "kai-topology", "ownerReferences",
	    "apiVersion", "grove.io/v1alpha1", "kind", "ClusterTopologyBinding",
	    "name", json_string_value(json_object_get(meta, "name")), "uid",
	    json_string_value(json_object_get(meta, "uid")), "controller", 1,
	    "spec", "levels", levels);
	return t;
fail:
	json_decref(levels);
	return NULL;
}

/* Makes the Topology of binding b what it should be. */
static int sync_one(rec_worker *w, const json_t *b, gv_error_t *err)
{
	json_t *want = wanted(b);
	json_t *got = NULL;
	json_t *patch = NULL;
	kube_result res = { 0 };
	const char *name = NULL;
	int rc = GV_OK;

	if (!want)
		return GV_OK; /* no levels: nothing KAI could use */
	name = json_string_value(
	    json_object_get(json_object_get(want, "metadata"), "name"));
	rc = kube_get(w->o.client, KAI_TOPOLOGIES, NULL, name, NULL, &got, &res,
		      err);
	if (rc == GV_ENOTFOUND) {
		rc = kube_create(w->o.client, KAI_TOPOLOGIES, NULL, want, NULL,
				 &res, err);
		if (rc == GV_OK)
			rec_count_write(w, REC_W_CREATE, REC_K_TOPOLOGY);
		if (rc == GV_EEXIST)
			rc = GV_OK;
		goto out;
	}
	if (rc != GV_OK)
		goto out;
	/* someone else's Topology of that name: left alone, said once */
	if (!json_equal(
		json_object_get(
		    json_object_get(json_object_get(got, "metadata"), "labels"),
		    "app.kubernetes.io/managed-by"),
		json_object_get(
		    json_object_get(json_object_get(want, "metadata"),
				    "labels"),
		    "app.kubernetes.io/managed-by"))) {
		rec_log(w, REC_LOG_WARN, NULL,
			"KAI Topology \"%s\" exists and is not groved's: left "
			"as it is; KAI places gangs by its levels",
			name);
		goto out;
	}
	if (json_equal(json_object_get(got, "spec"),
		       json_object_get(want, "spec")))
		goto out;
	patch = json_pack("{s:O}", "spec", json_object_get(want, "spec"));
	rc = patch ? kube_patch(w->o.client, KAI_TOPOLOGIES, NULL, name, NULL,
				KUBE_PATCH_MERGE, patch, NULL, &res, err)
		   : GV_ENOMEM;
	if (rc == GV_OK)
		rec_count_write(w, REC_W_PATCH, REC_K_TOPOLOGY);
out:
	json_decref(patch);
	json_decref(got);
	json_decref(want);
	return rc;
}

int rec_sync_topologies(rec_worker *w, gv_error_t *err)
{
	json_t *bindings = NULL;
	const json_t *b = NULL;
	size_t i = 0;
	int rc = GV_OK;

	if (rec_worker_kai_topology(w) != 1)
		return GV_OK;
	bindings = kube_store_list(&w->stores[REC_K_CTB], NULL, NULL, NULL);
	if (!bindings)
		return GV_ENOMEM;
	json_array_foreach(bindings, i, b)
	{
		rc = sync_one(w, b, err);
		if (rc != GV_OK)
			break;
	}
	json_decref(bindings);
	return rc;
}
