/* SPDX-License-Identifier: Apache-2.0 */
/*
 * srv_hook_scale.c: the scale webhook (docs/api.md section 8): an UPDATE of
 * the scale subresource of a PodCliqueSet, PodClique or
 * PodCliqueScalingGroup carries an autoscaling/v1 Scale, whose
 * spec.replicas must stay within the parent's bounds and name budget.
 * The parent is read from the cache.
 *
 * Decisions:
 * - The parent's bounds are checked directly, from the model
 *   (pol_pcs_build) or the child's own spec, so the message names the
 *   bounds and where they come from, exactly as captured:
 *   `spec.replicas: Invalid value: 5: must be within [1, 4]
 *   (spec.scaling.minReplicas, spec.scaling.maxReplicas)`.
 * - The PodCliqueSet's name budget (V4) is the policy's own rule, run on a
 *   shallow copy of the parent with the new spec.replicas (the cached
 *   object is shared and never touched). Only name-budget errors that the
 *   new count introduces deny: one the stored object already had (stored
 *   before groved, or under older rules) does not block scaling, which
 *   cannot make it worse. The stored parent is validated only when the
 *   copy has such an error, so the common path validates once.
 * - A parent that neither the cache nor one live GET finds (not synced,
 *   the API server slow, or gone) is allowed with a warning. The API server has already
 *   checked the Scale against the object it stores; blocking every
 *   scale (and the HPA) during a cache outage would be worse than
 *   letting one through that the worker will clamp.
 * - A Scale's spec.replicas is int32 with omitempty: absent means 0.
 *   Negative, above int32 or not an integer is denied.
 * - A PodClique or PodCliqueScalingGroup scaled to 0 is paused, not
 *   broken (NVIDIA Dynamo does this while a component waits for a
 *   checkpoint): allowed whatever its bounds, with a warning that says
 *   so; between 0 and its minAvailable is refused with both bounds. A
 *   PodCliqueSet's own /scale keeps its rules (compact: the scaling
 *   bounds, so 0 is refused there).
 */
#include <inttypes.h>
#include <stdint.h>

#include "groved/gv.h"
#include "srv_admission.h"

#define MSG_MAX 512

static bool get_int(const json_t *obj, const char *key, int64_t *out)
{
	const json_t *v = json_object_get(obj, key);

	if (!json_is_integer(v))
		return false;
	*out = json_integer_value(v);
	return true;
}

static const char *str_at(const json_t *obj, const char *a, const char *b)
{
	const json_t *v = json_object_get(obj, a);

	if (b)
		v = json_object_get(v, b);
	return json_string_value(v);
}

/* The cache kind and a plural for messages of a scalable resource. */
static const char *parent_kind(const char *resource)
{
	if (strcmp(resource, "podcliquesets") == 0)
		return SRV_KIND_PCS;
	if (strcmp(resource, "podcliques") == 0)
		return SRV_KIND_PCLQ;
	if (strcmp(resource, "podcliquescalinggroups") == 0)
		return SRV_KIND_PCSG;
	return NULL;
}

/* ---- PodCliqueSet ----------------------------------------------------- */

/* Adds to v the name-budget errors that replicas n brings to parent. */
static int check_pcs_budget(const json_t *parent, int64_t n, const char *ns,
			    pol_verdict *v)
{
	pol_options opts = { .default_namespace = ns };
	pol_verdict now = POL_VERDICT_INIT;
	pol_verdict before = POL_VERDICT_INIT;
	json_t *copy = NULL;
	json_t *spec = NULL;
	size_t i = 0;
	size_t j = 0;
	bool any = false;
	int rc = GV_ENOMEM;

	if (!json_is_object(json_object_get(parent, "spec")))
		return GV_OK;
	copy = json_copy((json_t *)parent);
	spec = json_copy(json_object_get(parent, "spec"));
	if (!copy || !spec ||
	    json_object_set_new(spec, "replicas", json_integer(n)) != 0 ||
	    json_object_set(copy, "spec", spec) != 0)
		goto out;
	rc = pol_validate_pcs(copy, NULL, &opts, &now);
	if (rc != GV_OK)
		goto out;
	for (i = 0; i < now.n_errors; i++)
		any = any || now.errors[i].type == POL_FE_TOO_LONG;
	if (!any)
		goto out;
	rc = pol_validate_pcs(parent, NULL, &opts, &before);
	if (rc != GV_OK)
		goto out;
	rc = GV_ENOMEM;
	if (now.oom || before.oom)
		goto out;
	for (i = 0; i < now.n_errors; i++) {
		const pol_ferr *e = &now.errors[i];
		bool old = false;

		if (e->type != POL_FE_TOO_LONG)
			continue;
		for (j = 0; j < before.n_errors && !old; j++) {
			const pol_ferr *o = &before.errors[j];

			old = o->type == e->type &&
			      strcmp(o->field, e->field) == 0;
		}
		if (!old)
			pol_verdict_add(v, e->type, e->field, NULL, "%s",
					e->detail ? e->detail : "");
	}
	rc = GV_OK;
out:
	pol_verdict_release(&now);
	pol_verdict_release(&before);
	json_decref(spec);
	json_decref(copy);
	return rc;
}

static int check_pcs(const json_t *parent, int64_t n, const char *ns,
		     pol_verdict *v)
{
	pol_verdict scratch = POL_VERDICT_INIT;
	pol_pcs pcs;
	bool built = false;
	int rc = GV_OK;

	memset(&pcs, 0, sizeof(pcs));
	rc = pol_pcs_build(parent, &pcs, &scratch);
	if (rc == GV_EINVAL) {
		pol_verdict_warn(v, "spec.replicas: not checked: the stored "
				    "PodCliqueSet has no usable spec");
		rc = GV_OK;
		goto out;
	}
	if (rc != GV_OK)
		goto out;
	built = true;
	if (pcs.form == POL_FORM_COMPACT &&
	    (n < pcs.min_replicas || n > pcs.max_replicas)) {
		if (pcs.scaling_set)
			pol_verdict_add(v, POL_FE_INVALID, "spec.replicas",
					pol_verdict_int(v, n),
					"must be within [%" PRId64 ", %" PRId64
					"] (spec.scaling.minReplicas, "
					"spec.scaling.maxReplicas)",
					pcs.min_replicas, pcs.max_replicas);
		else
			pol_verdict_add(v, POL_FE_INVALID, "spec.replicas",
					pol_verdict_int(v, n),
					"must be within [%" PRId64 ", %" PRId64
					"] (without spec.scaling the most is "
					"spec.replicas: set "
					"spec.scaling.maxReplicas to scale "
					"beyond it)",
					pcs.min_replicas, pcs.max_replicas);
		goto out;
	}
	/* template form: any count >= 0 (checked by the caller), as
	 * upstream; the name budget below still applies */
	rc = check_pcs_budget(parent, n, ns, v);
out:
	if (built)
		pol_pcs_release(&pcs);
	pol_verdict_release(&scratch);
	return rc;
}

/* ---- PodClique and PodCliqueScalingGroup ------------------------------ */

/* n within [min, max] of cfg (either bound may be absent); path names
 * cfg in the message. Returns true when an error was added. */
static bool check_bounds(const json_t *cfg, const char *path, int64_t n,
			 pol_verdict *v)
{
	int64_t min = 0;
	int64_t max = 0;
	bool has_min = get_int(cfg, "minReplicas", &min);
	bool has_max = get_int(cfg, "maxReplicas", &max);

	if (has_min && has_max && (n < min || n > max)) {
		pol_verdict_add(v, POL_FE_INVALID, "spec.replicas",
				pol_verdict_int(v, n),
				"must be within [%" PRId64 ", %" PRId64
				"] (%s.minReplicas, %s.maxReplicas)",
				min, max, path, path);
		return true;
	}
	if (has_min && n < min) {
		pol_verdict_add(
		    v, POL_FE_INVALID, "spec.replicas", pol_verdict_int(v, n),
		    "must be at least %" PRId64 " (%s.minReplicas)", min, path);
		return true;
	}
	if (has_max && n > max) {
		pol_verdict_add(
		    v, POL_FE_INVALID, "spec.replicas", pol_verdict_int(v, n),
		    "must be at most %" PRId64 " (%s.maxReplicas)", max, path);
		return true;
	}
	return false;
}

/* 0 pauses the child: allowed, said in a warning. */
static bool paused(const char *kind, const char *ns, const char *name,
		   int64_t n, pol_verdict *v)
{
	if (n != 0)
		return false;
	pol_verdict_warn(v,
			 "spec.replicas: 0 pauses %s \"%s/%s\": its pods are "
			 "removed and its podgroups ask for 0 in the gang, "
			 "neither breached nor ready, until it is scaled up "
			 "again",
			 kind, ns, name ? name : "");
	return true;
}

static bool check_min_available(const json_t *spec, int64_t n, pol_verdict *v)
{
	int64_t ma = 0;

	if (!get_int(spec, "minAvailable", &ma) || n >= ma)
		return false;
	pol_verdict_add(v, POL_FE_INVALID, "spec.replicas",
			pol_verdict_int(v, n),
			"must be 0 (paused) or at least spec.minAvailable "
			"(%" PRId64 ")",
			ma);
	return true;
}

/* Pods of a PodClique are `<pclq>-<k>`, k < replicas. */
static void check_pod_names(const char *pclq, int64_t pods, int64_t n,
			    pol_verdict *v)
{
	char name[MSG_MAX];
	int len = 0;

	if (!pclq || pods < 1)
		return;
	len = snprintf(name, sizeof(name), "%s-%" PRId64, pclq, pods - 1);
	if (len <= POL_NAME_MAX)
		return;
	pol_verdict_add(v, POL_FE_INVALID, "spec.replicas",
			pol_verdict_int(v, n),
			"generated pod name \"%s\" has %d characters; "
			"generated names must be at most %d",
			name, len, POL_NAME_MAX);
}

static int check_pclq(const json_t *parent, const char *ns, int64_t n,
		      pol_verdict *v)
{
	const json_t *spec = json_object_get(parent, "spec");
	const json_t *asc = json_object_get(spec, "autoScalingConfig");

	if (paused(SRV_KIND_PCLQ, ns, str_at(parent, "metadata", "name"), n, v))
		return GV_OK;
	if (json_is_object(asc) &&
	    check_bounds(asc, "spec.autoScalingConfig", n, v))
		return GV_OK;
	if (check_min_available(spec, n, v))
		return GV_OK;
	check_pod_names(str_at(parent, "metadata", "name"), n, n, v);
	return GV_OK;
}

/* The PodCliqueSet that owns obj: its ownerReference, else the part-of
 * label. Borrowed, or NULL. */
static const char *owner_pcs(const json_t *obj)
{
	const json_t *refs = json_object_get(json_object_get(obj, "metadata"),
					     "ownerReferences");
	const json_t *ref = NULL;
	size_t i = 0;

	json_array_foreach(refs, i, ref)
	{
		const char *k = str_at(ref, "kind", NULL);

		if (k && strcmp(k, SRV_KIND_PCS) == 0 &&
		    str_at(ref, "name", NULL))
			return str_at(ref, "name", NULL);
	}
	return json_string_value(json_object_get(
	    json_object_get(json_object_get(obj, "metadata"), "labels"),
	    "app.kubernetes.io/part-of"));
}

/* The group of pcs whose PodCliqueScalingGroup is named pcsg
 * (`<pcs>-<i>-<group>`), or NULL. */
static const pol_group *group_of(const pol_pcs *pcs, const char *set,
				 const char *pcsg)
{
	size_t n = strlen(set);
	const char *p = pcsg;
	size_t i = 0;

	if (strncmp(p, set, n) != 0 || p[n] != '-')
		return NULL;
	p += n + 1;
	if (*p < '0' || *p > '9')
		return NULL;
	while (*p >= '0' && *p <= '9')
		p++;
	if (*p++ != '-')
		return NULL;
	for (i = 0; i < pcs->n_groups; i++) {
		if (pcs->groups[i].name && strcmp(pcs->groups[i].name, p) == 0)
			return &pcs->groups[i];
	}
	return NULL;
}

/* The bounds the owning PodCliqueSet puts on its group. */
static int check_pcsg_owner(const srv_cache *c, const json_t *parent,
			    const char *ns, int64_t n, pol_verdict *v,
			    bool *denied)
{
	const char *set = owner_pcs(parent);
	const char *name = str_at(parent, "metadata", "name");
	pol_verdict scratch = POL_VERDICT_INIT;
	json_t *owner = NULL;
	const pol_group *g = NULL;
	char path[POL_PATH_MAX + 32];
	pol_pcs pcs;
	bool built = false;
	srv_cache_result res = SRV_CACHE_NOT_SYNCED;
	int rc = GV_OK;

	memset(&pcs, 0, sizeof(pcs));
	if (!set || !name)
		goto out;
	if (c && c->ops->get)
		res = c->ops->get(c->ctx, SRV_KIND_PCS, ns, set, &owner);
	if (res != SRV_CACHE_FOUND) {
		pol_verdict_warn(v,
				 "spec.replicas: not checked against the "
				 "bounds of PodCliqueSet \"%s\": %s",
				 set,
				 res == SRV_CACHE_MISSING
				     ? "it is not in the cache"
				     : "the cache of PodCliqueSets has not "
				       "synced");
		goto out;
	}
	rc = pol_pcs_build(owner, &pcs, &scratch);
	if (rc == GV_EINVAL) {
		rc = GV_OK;
		goto out;
	}
	if (rc != GV_OK)
		goto out;
	built = true;
	g = group_of(&pcs, set, name);
	if (!g)
		goto out;
	if (pcs.form == POL_FORM_TEMPLATE) {
		snprintf(path, sizeof(path), "PodCliqueSet %s: %s.scaleConfig",
			 set, g->path);
		*denied = check_bounds(g->scale_config, path, n, v);
	} else if (n < g->min_available || n > g->max_replicas) {
		/* compact: the groups follow the set's spec.replicas */
		pol_verdict_add(v, POL_FE_INVALID, "spec.replicas",
				pol_verdict_int(v, n),
				"must be within [%" PRId64 ", %" PRId64
				"] (PodCliqueSet %s: spec.scaling.minReplicas, "
				"spec.scaling.maxReplicas)",
				g->min_available, g->max_replicas, set);
		*denied = true;
	}
out:
	if (built)
		pol_pcs_release(&pcs);
	pol_verdict_release(&scratch);
	json_decref(owner);
	return rc;
}

static int check_pcsg(const srv_cache *c, const json_t *parent, const char *ns,
		      int64_t n, pol_verdict *v)
{
	const json_t *spec = json_object_get(parent, "spec");
	const char *name = str_at(parent, "metadata", "name");
	const json_t *cliques = json_object_get(spec, "cliqueNames");
	const json_t *cl = NULL;
	char pclq[MSG_MAX];
	bool denied = false;
	size_t i = 0;
	int rc = GV_OK;

	if (paused(SRV_KIND_PCSG, ns, name, n, v))
		return GV_OK;
	if (check_min_available(spec, n, v))
		return GV_OK;
	rc = check_pcsg_owner(c, parent, ns, n, v, &denied);
	if (rc != GV_OK || denied || !name || n < 1)
		return rc;
	/* PodCliques `<pcsg>-<j>-<clique>` and their pods, sized like
	 * the unit-0 PodClique the worker made */
	json_array_foreach(cliques, i, cl)
	{
		json_t *unit0 = NULL;
		int64_t pods = 1;
		int len = 0;

		if (!json_is_string(cl))
			continue;
		snprintf(pclq, sizeof(pclq), "%s-0-%s", name,
			 json_string_value(cl));
		if (c && c->ops->get &&
		    c->ops->get(c->ctx, SRV_KIND_PCLQ, ns, pclq, &unit0) ==
			SRV_CACHE_FOUND &&
		    (!get_int(json_object_get(unit0, "spec"), "replicas",
			      &pods) ||
		     pods < 1))
			pods = 1;
		json_decref(unit0);
		len = snprintf(pclq, sizeof(pclq), "%s-%" PRId64 "-%s", name,
			       n - 1, json_string_value(cl));
		if (len < 0 || (size_t)len >= sizeof(pclq))
			continue;
		check_pod_names(pclq, pods, n, v);
		if (v->n_errors)
			break;
	}
	return GV_OK;
}

/* ---- the hook --------------------------------------------------------- */

int srv_hook_validate_scale(const srv_review *r, const srv_hook_env *env,
			    srv_answer *out)
{
	const srv_cache *c =
	    env && env->cache && env->cache->ops ? env->cache : NULL;
	const char *rgroup = str_at(
	    json_object_get(json_object_get(r->doc, "request"), "resource"),
	    "group", NULL);
	const char *kind = parent_kind(r->resource);
	const json_t *spec = json_object_get(r->object, "spec");
	const json_t *rep = json_object_get(spec, "replicas");
	pol_verdict v = POL_VERDICT_INIT;
	json_t *parent = NULL;
	srv_cache_result res = SRV_CACHE_NOT_SYNCED;
	char msg[MSG_MAX];
	int64_t n = 0;
	int rc = GV_OK;

	if (!kind || !rgroup || strcmp(rgroup, "grove.io") != 0 ||
	    strcmp(r->sub_resource, "scale") != 0 ||
	    strcmp(r->group, "autoscaling") != 0 ||
	    strcmp(r->kind, "Scale") != 0 ||
	    strcmp(r->operation, "UPDATE") != 0) {
		snprintf(msg, sizeof(msg),
			 "validate-scale handles UPDATEs of the scale "
			 "subresource of grove.io podcliquesets, podcliques "
			 "and podcliquescalinggroups, got %s of %s/%s %s "
			 "(resource \"%s\", subresource \"%s\")",
			 r->operation, r->group, r->version, r->kind,
			 r->resource, r->sub_resource);
		free(out->message);
		out->message = strdup(msg);
		return out->message ? GV_EINVAL : GV_ENOMEM;
	}
	if (rep && !json_is_null(rep) && !json_is_integer(rep)) {
		pol_verdict_add(&v, POL_FE_INVALID, "spec.replicas",
				pol_verdict_copy(&v, rep),
				"must be an integer");
		goto answer;
	}
	n = json_integer_value(rep); /* absent: 0 (omitempty) */
	if (n < 0 || n > INT32_MAX) {
		pol_verdict_add(&v, POL_FE_INVALID, "spec.replicas",
				pol_verdict_int(&v, n),
				n < 0 ? "must be greater than or equal to 0"
				      : "must be at most 2147483647");
		goto answer;
	}
	if (c && c->ops->get)
		res = c->ops->get(c->ctx, kind, r->namespace, r->name, &parent);
	if (res != SRV_CACHE_FOUND) {
		pol_verdict_warn(&v,
				 "spec.replicas: not checked against %s "
				 "\"%s/%s\": %s",
				 kind, r->namespace, r->name,
				 res == SRV_CACHE_MISSING
				     ? "it does not exist"
				     : "the cache has not synced and the API "
				       "server did not answer");
		goto answer;
	}
	if (strcmp(kind, SRV_KIND_PCS) == 0)
		rc = check_pcs(parent, n, r->namespace, &v);
	else if (strcmp(kind, SRV_KIND_PCLQ) == 0)
		rc = check_pclq(parent, r->namespace, n, &v);
	else
		rc = check_pcsg(c, parent, r->namespace, n, &v);
	if (rc != GV_OK)
		goto out;
answer:
	rc = srv_answer_from_verdict(out, &v);
out:
	pol_verdict_release(&v);
	json_decref(parent);
	return rc;
}
