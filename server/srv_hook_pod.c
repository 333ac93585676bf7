/* SPDX-License-Identifier: Apache-2.0 */
/*
 * srv_hook_pod.c: the mutating pod webhook (docs/api.md sections 6, 8).
 * A pod that carries grove.io/podcliquesets gets, at CREATE, the shape
 * pol_pod_shape gives it, as the patch pol_pod_patch makes: what it
 * lacks, groved's labels and variables where they differ, nothing at a
 * second pass. A pod labelled with another template's hash than the
 * set's current one (made by the worker before a change) is left as it
 * is.
 *
 * The webhook never blocks a pod because of groved's own state: when the
 * PodCliqueSet cannot be read (cache not synced, set missing, set
 * unusable) or the pod names no clique of it, the pod is allowed
 * unshaped with a warning. Blocking would turn a groved outage or a
 * label typo into pods that cannot be created at all; an unshaped pod is
 * only unscheduled by KAI's gang rules, which the user sees and fixes.
 */
#include <stdarg.h>

#include "srv_admission.h"

/* Appends a warning to a->warnings. Returns GV_OK or GV_ENOMEM. */
static int warn(srv_answer *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int warn(srv_answer *a, const char *fmt, ...)
{
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (!a->warnings)
		a->warnings = json_array();
	if (!a->warnings ||
	    json_array_append_new(a->warnings, json_string(text)) != 0)
		return GV_ENOMEM;
	return GV_OK;
}

static bool is_pod(const srv_review *r)
{
	return strcmp(r->group, "") == 0 && strcmp(r->version, "v1") == 0 &&
	       strcmp(r->kind, "Pod") == 0;
}

/* The PodCliqueSet named set in ns: FOUND with *obj a new reference. */
static srv_cache_result find_pcs(const srv_hook_env *env, const char *ns,
				 const char *set, json_t **obj)
{
	if (!env->cache || !env->cache->ops || !env->cache->ops->get)
		return SRV_CACHE_NOT_SYNCED;
	return env->cache->ops->get(env->cache->ctx, SRV_KIND_PCS, ns, set,
				    obj);
}

/* grove.io/pod-template-hash of o (a pod or a shape), or NULL. */
static const char *template_hash_of(const json_t *o)
{
	return json_string_value(json_object_get(
	    json_object_get(json_object_get(o, "metadata"), "labels"),
	    POL_LABEL_TEMPLATE_HASH));
}

/*
 * Whether pod already says it was made for another template than the
 * set's current one: the worker planned it before a template change that
 * reached the cache since. It is admitted as it is: shaping it from the
 * newer set would label old images with the new template's hash (the
 * rollout would then count it updated and never replace it) or mix the
 * two templates' variables. Its template's rollout replaces it.
 */
static bool made_for_another_template(const json_t *pod, const json_t *shape)
{
	const char *had = template_hash_of(pod);
	const char *now = template_hash_of(shape);

	return had && now && strcmp(had, now) != 0;
}

/* Shapes the pod of review r as set pcs_obj says; fills a's patch, or a
 * warning when the pod cannot be placed in the set. */
static int shape_pod(const srv_review *r, const srv_hook_env *env,
		     const char *ns, const char *set, const json_t *pcs_obj,
		     srv_answer *a)
{
	pol_verdict v = POL_VERDICT_INIT;
	pol_pcs pcs;
	bool built = false;
	pol_pod_ref ref;
	pol_pod_options opts = {
		.default_scheduler = env->default_scheduler,
		.initc_image = env->initc_image,
		.namespace = ns,
	};
	json_t *shape = NULL;
	json_t *patch = NULL;
	const char *clique = json_string_value(json_object_get(
	    json_object_get(json_object_get(r->object, "metadata"), "labels"),
	    POL_LABEL_PCS_CLIQUE));
	int rc = GV_OK;

	memset(&pcs, 0, sizeof(pcs));
	rc = pol_pcs_build(pcs_obj, &pcs, &v);
	if (rc == GV_ENOMEM)
		goto out;
	if (rc != GV_OK) {
		rc = warn(a,
			  "pod not shaped: PodCliqueSet \"%s/%s\" cannot be "
			  "read as either form",
			  ns, set);
		goto out;
	}
	built = true;
	rc = pol_pod_ref_from_pod(&pcs, r->object, &ref);
	if (rc == GV_ENOTFOUND) {
		rc = warn(a,
			  "pod not shaped: label %s \"%s\" names no clique of "
			  "PodCliqueSet \"%s/%s\"",
			  POL_LABEL_PCS_CLIQUE, clique ? clique : "", ns, set);
		goto out;
	}
	if (rc != GV_OK)
		goto out;
	rc = pol_pod_shape(&pcs, &ref, &opts, &shape);
	if (rc == GV_EINVAL || rc == GV_ETOOBIG) {
		rc = warn(a,
			  "pod not shaped: PodCliqueSet \"%s/%s\" gives it no "
			  "valid shape (%s)",
			  ns, set, gv_strerror(rc));
		goto out;
	}
	if (rc != GV_OK)
		goto out;
	if (made_for_another_template(r->object, shape))
		goto out;
	rc = pol_pod_patch(r->object, shape, POL_APISERVER_SCHEDULER, &patch);
	if (rc != GV_OK)
		goto out;
	a->patch = patch;
	patch = NULL;
out:
	json_decref(patch);
	json_decref(shape);
	if (built)
		pol_pcs_release(&pcs);
	pol_verdict_release(&v);
	return rc;
}

int srv_hook_mutate_pod(const srv_review *r, const srv_hook_env *env,
			srv_answer *out)
{
	srv_answer a;
	const json_t *meta = NULL;
	const char *set = NULL;
	const char *ns = NULL;
	json_t *pcs_obj = NULL;
	srv_cache_result found = SRV_CACHE_NOT_SYNCED;
	int rc = GV_OK;

	srv_answer_init(&a);
	a.allowed = true;
	if (!is_pod(r)) {
		char text[256];

		snprintf(text, sizeof(text),
			 "mutate-pod expects a core v1 Pod, not %s%s%s %s",
			 r->group, r->group[0] ? "/" : "", r->version, r->kind);
		a.allowed = false;
		a.message = strdup(text);
		rc = a.message ? GV_EINVAL : GV_ENOMEM;
		goto out;
	}
	/* gates can only be added at CREATE; an UPDATE keeps what it has */
	if (strcmp(r->operation, "CREATE") != 0 || !json_is_object(r->object))
		goto out;
	meta = json_object_get(r->object, "metadata");
	set = json_string_value(
	    json_object_get(json_object_get(meta, "labels"), POL_LABEL_PCS));
	if (!set)
		goto out;
	ns = r->namespace[0]
		 ? r->namespace
		 : json_string_value(json_object_get(meta, "namespace"));
	if (!ns || !ns[0])
		ns = "default";
	found = find_pcs(env, ns, set, &pcs_obj);
	if (found == SRV_CACHE_NOT_SYNCED) {
		rc = warn(&a,
			  "pod not shaped: PodCliqueSet \"%s/%s\" cannot be "
			  "read yet (cache not synced)",
			  ns, set);
		goto out;
	}
	if (found != SRV_CACHE_FOUND) {
		rc =
		    warn(&a, "pod not shaped: PodCliqueSet \"%s/%s\" not found",
			 ns, set);
		goto out;
	}
	rc = shape_pod(r, env, ns, set, pcs_obj, &a);
out:
	json_decref(pcs_obj);
	if (rc == GV_OK || rc == GV_EINVAL) {
		*out = a;
		return rc;
	}
	srv_answer_release(&a);
	return rc;
}
