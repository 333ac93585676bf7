/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pol_defaults.c: the defaults of docs/api.md section 3 as a JSON Patch.
 *
 * Only absent fields are added, only inside objects that exist (with
 * upstream's one exception, headlessServiceConfig), and a default that
 * would be derived from an invalid value is left out: validation then
 * reports the user's field, never one the defaults wrote.
 */
#include <stdint.h>

#include "pol_int.h"

typedef struct patcher {
	json_t *ops;
	int rc;
} patcher;

/* Adds {"op":"add","path":base/key,"value":value}; steals value. */
static void add_op(patcher *p, const char *base, const char *key, json_t *value)
{
	char path[POL_PATH_MAX * 2];
	size_t used = 0;
	json_t *op = NULL;

	if (p->rc != GV_OK || !value)
		goto fail;
	used = (size_t)snprintf(path, sizeof(path), "%s", base);
	if (used >= sizeof(path)) {
		p->rc = GV_ETOOBIG;
		goto out;
	}
	if (pol_pointer_append(path, sizeof(path), &used, key) != GV_OK) {
		p->rc = GV_ETOOBIG;
		goto out;
	}
	op = json_pack("{s:s, s:s, s:o}", "op", "add", "path", path, "value",
		       value);
	value = NULL;
	if (!op || json_array_append_new(p->ops, op) != 0)
		goto fail;
	return;
fail:
	if (p->rc == GV_OK)
		p->rc = GV_ENOMEM;
out:
	json_decref(value);
}

/* True with *out when obj.key is an integer greater than zero. */
static bool positive(const json_t *obj, const char *key, int64_t *out)
{
	int64_t n = 0;

	if (!pol_get_int(obj, key, &n) || n <= 0)
		return false;
	*out = n;
	return true;
}

static bool absent(const json_t *obj, const char *key)
{
	const json_t *m = json_object_get(obj, key);

	return !m || json_is_null(m);
}

/* replicas then minAvailable of one clique or group; `fallback` is the
 * replicas default, 0 when it cannot be given (invalid source). */
static void default_counts(patcher *p, const json_t *obj, const char *base,
			   int64_t fallback, bool min_from_replicas)
{
	int64_t replicas = 0;

	if (absent(obj, "replicas")) {
		if (fallback <= 0)
			return;
		add_op(p, base, "replicas", json_integer(fallback));
		replicas = fallback;
	} else if (!positive(obj, "replicas", &replicas)) {
		return;
	}
	if (absent(obj, "minAvailable"))
		add_op(p, base, "minAvailable",
		       json_integer(min_from_replicas ? replicas : 1));
}

/* The first compact group naming clique `name`, and its ratio entry
 * (0 when the entry is invalid, the clique's own default when the group
 * has no ratio). Returns false when no group names it. */
static bool compact_ratio(const json_t *groups, const char *name,
			  int64_t *entry)
{
	size_t i = 0;
	size_t k = 0;
	const json_t *g = NULL;
	const json_t *c = NULL;

	json_array_foreach(groups, i, g)
	{
		const json_t *ratio = json_object_get(g, "replicas");

		json_array_foreach(json_object_get(g, "cliques"), k, c)
		{
			const json_t *r = NULL;

			if (!json_is_string(c) ||
			    strcmp(json_string_value(c), name) != 0)
				continue;
			r = json_array_get(ratio, k);
			if (!ratio || !json_is_array(ratio))
				*entry = 1;
			else if (json_is_integer(r) &&
				 json_integer_value(r) > 0)
				*entry = json_integer_value(r);
			else
				*entry = 0;
			return true;
		}
	}
	return false;
}

static void defaults_compact(patcher *p, const json_t *spec)
{
	const json_t *scaling = json_object_get(spec, "scaling");
	const json_t *groups = json_object_get(spec, "scalingGroups");
	const json_t *c = NULL;
	size_t i = 0;
	char base[POL_PATH_MAX];

	if (absent(spec, "replicas")) {
		int64_t min = 1;
		int64_t max = 0;
		bool ok = true;

		if (json_is_object(scaling) && !absent(scaling, "minReplicas"))
			ok = positive(scaling, "minReplicas", &min);
		if (ok && json_is_object(scaling) &&
		    !absent(scaling, "maxReplicas"))
			ok = pol_get_int(scaling, "maxReplicas", &max) &&
			     max >= min;
		if (ok)
			add_op(p, "/spec", "replicas", json_integer(min));
	}
	json_array_foreach(json_object_get(spec, "podCliques"), i, c)
	{
		const char *name = pol_get_str(c, "name");
		int64_t fallback = 1;

		if (!json_is_object(c))
			continue;
		if (name && json_is_array(groups))
			(void)compact_ratio(groups, name, &fallback);
		pol_path(base, "/spec/podCliques/%zu", i);
		default_counts(p, c, base, fallback, true);
	}
}

static void defaults_template_clique(patcher *p, const json_t *c, size_t i)
{
	const json_t *spec = json_object_get(c, "spec");
	const json_t *pod = json_object_get(spec, "podSpec");
	const json_t *asc = json_object_get(spec, "autoScalingConfig");
	const char *name = pol_get_str(c, "name");
	int64_t replicas = 1;
	char base[POL_PATH_MAX];

	if (!json_is_object(spec))
		return;
	pol_path(base, "/spec/template/cliques/%zu/spec", i);
	if (absent(spec, "roleName") && name)
		add_op(p, base, "roleName", json_string(name));
	default_counts(p, spec, base, 1, true);
	if (json_is_object(pod)) {
		pol_path(base, "/spec/template/cliques/%zu/spec/podSpec", i);
		if (absent(pod, "restartPolicy"))
			add_op(p, base, "restartPolicy", json_string("Always"));
		if (absent(pod, "terminationGracePeriodSeconds"))
			add_op(p, base, "terminationGracePeriodSeconds",
			       json_integer(30));
	}
	if (json_is_object(asc) && absent(asc, "minReplicas") &&
	    (absent(spec, "replicas") ||
	     positive(spec, "replicas", &replicas))) {
		pol_path(base,
			 "/spec/template/cliques/%zu/spec/autoScalingConfig",
			 i);
		add_op(p, base, "minReplicas", json_integer(replicas));
	}
}

static void defaults_template_group(patcher *p, const json_t *g, size_t i)
{
	const json_t *sc = json_object_get(g, "scaleConfig");
	int64_t replicas = 1;
	char base[POL_PATH_MAX];

	pol_path(base, "/spec/template/podCliqueScalingGroups/%zu", i);
	default_counts(p, g, base, 1, false);
	if (json_is_object(sc) && absent(sc, "minReplicas") &&
	    (absent(g, "replicas") || positive(g, "replicas", &replicas))) {
		pol_path(
		    base,
		    "/spec/template/podCliqueScalingGroups/%zu/scaleConfig", i);
		add_op(p, base, "minReplicas", json_integer(replicas));
	}
}

static void defaults_template(patcher *p, const json_t *spec)
{
	const json_t *tpl = json_object_get(spec, "template");
	const json_t *hsc = NULL;
	const json_t *el = NULL;
	size_t i = 0;

	if (absent(spec, "replicas"))
		add_op(p, "/spec", "replicas", json_integer(1));
	if (!json_is_object(tpl))
		return;
	if (absent(tpl, "cliqueStartupType"))
		add_op(p, "/spec/template", "cliqueStartupType",
		       json_string("CliqueStartupTypeAnyOrder"));
	if (absent(tpl, "terminationDelay"))
		add_op(p, "/spec/template", "terminationDelay",
		       json_string("4h"));
	/* upstream creates the config when it is missing, so do we */
	hsc = json_object_get(tpl, "headlessServiceConfig");
	if (absent(tpl, "headlessServiceConfig"))
		add_op(p, "/spec/template", "headlessServiceConfig",
		       json_pack("{s:b}", "publishNotReadyAddresses", 1));
	else if (json_is_object(hsc) && absent(hsc, "publishNotReadyAddresses"))
		add_op(p, "/spec/template/headlessServiceConfig",
		       "publishNotReadyAddresses", json_true());
	json_array_foreach(json_object_get(tpl, "cliques"), i, el)
	{
		if (json_is_object(el))
			defaults_template_clique(p, el, i);
	}
	json_array_foreach(json_object_get(tpl, "podCliqueScalingGroups"), i,
			   el)
	{
		if (json_is_object(el))
			defaults_template_group(p, el, i);
	}
}

int pol_defaults_pcs(const json_t *obj, json_t **patch_out, gv_error_t *err)
{
	patcher p = { NULL, GV_OK };
	const json_t *spec = json_object_get(obj, "spec");
	bool compact = false;
	bool tpl = false;

	p.ops = json_array();
	if (!p.ops) {
		p.rc = gv_error_set(err, GV_ENOMEM, NULL, 0, 0,
				    "cannot build the defaults patch");
		goto out;
	}
	if (json_is_object(spec)) {
		compact = json_object_get(spec, "podCliques") ||
			  json_object_get(spec, "scalingGroups") ||
			  json_object_get(spec, "scaling");
		tpl = json_object_get(spec, "template") ||
		      json_object_get(spec, "updateStrategy");
	}
	/* no form, or both: validation explains; nothing to default */
	if (compact && !tpl)
		defaults_compact(&p, spec);
	else if (tpl && !compact)
		defaults_template(&p, spec);
	if (p.rc != GV_OK)
		gv_error_set(err, p.rc, NULL, 0, 0,
			     "cannot build the defaults patch: %s",
			     gv_strerror(p.rc));
out:
	if (p.rc == GV_OK)
		*patch_out = p.ops;
	else
		json_decref(p.ops);
	return p.rc;
}
