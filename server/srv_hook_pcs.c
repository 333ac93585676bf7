/* SPDX-License-Identifier: Apache-2.0 */
/*
 * srv_hook_pcs.c: the PodCliqueSet webhooks (defaults, validation) and
 * the ClusterTopologyBinding validator, over the policy library.
 *
 * The object is judged where it lies in the request document: no copy.
 * Lookups (V14 claim templates, V20 topology bindings) go through the
 * cache; a cache that cannot tell turns the check into a warning, never
 * into a denial, as docs/api.md section 4.4 says for an unreachable API.
 */
#include "groved/gv.h"
#include "srv_admission.h"

#define WHY_NOT_SYNCED_CLAIMS \
	"the cache of ResourceClaimTemplates has not synced"
#define WHY_NOT_SYNCED_CTB "the cache of ClusterTopologyBindings has not synced"

/* Sets out->message to "<hook> handles <what>, got <group>/<version>
 * <kind>" (plus the subresource) and returns GV_EINVAL, or GV_ENOMEM. */
static int wrong_kind(const srv_review *r, const char *hook, const char *what,
		      srv_answer *out)
{
	char msg[512];

	if (r->sub_resource[0])
		snprintf(msg, sizeof(msg),
			 "%s handles %s, got subresource \"%s\" of %s", hook,
			 what, r->sub_resource, r->resource);
	else
		snprintf(msg, sizeof(msg), "%s handles %s, got %s/%s %s", hook,
			 what, r->group, r->version, r->kind);
	free(out->message);
	out->message = strdup(msg);
	return out->message ? GV_EINVAL : GV_ENOMEM;
}

static bool is_grove(const srv_review *r, const char *kind)
{
	return strcmp(r->group, "grove.io") == 0 &&
	       strcmp(r->kind, kind) == 0 && r->sub_resource[0] == '\0';
}

static bool is_create_or_update(const srv_review *r)
{
	return strcmp(r->operation, "CREATE") == 0 ||
	       strcmp(r->operation, "UPDATE") == 0;
}

/* ---- lookups over the cache ------------------------------------------- */

static const srv_cache *env_cache(const srv_hook_env *env)
{
	return env && env->cache && env->cache->ops ? env->cache : NULL;
}

static pol_lookup_result cache_claim_template(void *ctx, const char *ns,
					      const char *name, char *why,
					      size_t size)
{
	const srv_cache *c = ctx;
	json_t *obj = NULL;
	srv_cache_result res = SRV_CACHE_NOT_SYNCED;

	if (c && c->ops->get)
		res = c->ops->get(c->ctx, SRV_KIND_CLAIM_TEMPLATE, ns, name,
				  &obj);
	json_decref(obj);
	/* docs/api.md 4.4: one read from the API server before a miss
	 * denies: the informers' cache (srv_kcache.c) makes that live GET
	 * behind this same interface, so a miss here is a real one. */
	if (res == SRV_CACHE_FOUND)
		return POL_LOOKUP_FOUND;
	if (res == SRV_CACHE_MISSING)
		return POL_LOOKUP_MISSING;
	snprintf(why, size, "%s", WHY_NOT_SYNCED_CLAIMS);
	return POL_LOOKUP_UNKNOWN;
}

static pol_lookup_result cache_topology(void *ctx, const char *name,
					json_t **levels, char *why, size_t size)
{
	const srv_cache *c = ctx;
	json_t *obj = NULL;
	json_t *l = NULL;
	srv_cache_result res = SRV_CACHE_NOT_SYNCED;

	if (c && c->ops->get)
		res = c->ops->get(c->ctx, SRV_KIND_CTB, NULL, name, &obj);
	if (res == SRV_CACHE_FOUND) {
		l = json_object_get(json_object_get(obj, "spec"), "levels");
		*levels = l ? json_incref(l) : json_array();
		json_decref(obj);
		/* no levels array: out of memory, which the policy cannot
		 * tell from "not checked" */
		if (!*levels) {
			snprintf(why, size, "out of memory");
			return POL_LOOKUP_UNKNOWN;
		}
		return POL_LOOKUP_FOUND;
	}
	json_decref(obj);
	if (res == SRV_CACHE_MISSING)
		return POL_LOOKUP_MISSING;
	snprintf(why, size, "%s", WHY_NOT_SYNCED_CTB);
	return POL_LOOKUP_UNKNOWN;
}

/* ---- the hooks -------------------------------------------------------- */

int srv_hook_default_pcs(const srv_review *r, const srv_hook_env *env,
			 srv_answer *out)
{
	gv_error_t err = GV_ERROR_INIT;
	json_t *patch = NULL;
	int rc = GV_OK;

	if (!is_grove(r, "PodCliqueSet") || !is_create_or_update(r))
		return wrong_kind(r, "default-podcliqueset",
				  "grove.io PodCliqueSets", out);
	rc = pol_defaults_pcs(r->object, &patch, &err);
	if (rc == GV_ENOMEM)
		goto out;
	if (rc != GV_OK) {
		/* a path too long for a JSON Pointer: no sane object has
		 * one, so refuse it rather than pass it undefaulted */
		out->allowed = false;
		out->code = 400;
		out->reason = "BadRequest";
		free(out->message);
		out->message = strdup(err.text);
		rc = out->message ? GV_OK : GV_ENOMEM;
		goto out;
	}
	out->allowed = true;
	if (json_array_size(patch)) {
		json_decref(out->patch);
		out->patch = patch;
		patch = NULL;
	}
out:
	json_decref(patch);
	return rc;
}

int srv_hook_validate_pcs(const srv_review *r, const srv_hook_env *env,
			  srv_answer *out)
{
	const srv_cache *cache = env_cache(env);
	pol_lookup lookup = {
		.claim_template = cache_claim_template,
		.topology = cache_topology,
		.ctx = (void *)cache,
	};
	pol_options opts = {
		.default_scheduler = env ? env->default_scheduler : NULL,
		.default_namespace = r->namespace[0] ? r->namespace : NULL,
		.lookup = &lookup,
	};
	pol_verdict v = POL_VERDICT_INIT;
	bool update = strcmp(r->operation, "UPDATE") == 0;
	int rc = GV_OK;

	if (!is_grove(r, "PodCliqueSet") || !is_create_or_update(r))
		return wrong_kind(r, "validate-podcliqueset",
				  "grove.io PodCliqueSets", out);
	/* A dry run (r->dry_run) is judged exactly like the real request:
	 * this hook only reads, so there is no side effect to skip, and the
	 * user asked the dry run precisely to learn the verdict. */
	rc = pol_validate_pcs(r->object, update ? r->old_object : NULL, &opts,
			      &v);
	if (rc == GV_OK)
		rc = srv_answer_from_verdict(out, &v);
	pol_verdict_release(&v);
	return rc;
}

int srv_hook_validate_ctb(const srv_review *r, const srv_hook_env *env,
			  srv_answer *out)
{
	pol_verdict v = POL_VERDICT_INIT;
	int rc = GV_OK;

	if (!is_grove(r, "ClusterTopologyBinding") || !is_create_or_update(r))
		return wrong_kind(r, "validate-clustertopology",
				  "grove.io ClusterTopologyBindings", out);
	rc = pol_validate_topology_binding(r->object, &v);
	if (rc == GV_OK)
		rc = srv_answer_from_verdict(out, &v);
	pol_verdict_release(&v);
	return rc;
}
