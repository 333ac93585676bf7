/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pol_validate.c: the rules of docs/api.md section 4 over the model.
 *
 * Each check_* function owns one rule (its V number in the comment) and
 * adds field errors at the user's paths. A comparison against a value
 * that already failed its own rule is skipped, so one mistake gives one
 * error, never a cascade, and no error lands on a field that only the
 * defaults wrote.
 */
#include <inttypes.h>
#include <stdint.h>

#include "pol_cycles.h"
#include "pol_int.h"
#include "pol_validate_int.h"

/* ---- V3, V5: names ---------------------------------------------------- */

static void check_label(pol_verdict *v, const char *field, const char *name)
{
	gv_error_t bad = GV_ERROR_INIT;

	if (pol_check_dns_label(name, &bad) != GV_OK)
		pol_verdict_add(v, POL_FE_INVALID, field,
				pol_verdict_str(v, name), "%s", bad.text);
}

static void check_names(const pol_pcs *pcs, pol_verdict *v)
{
	char field[POL_PATH_MAX];
	json_t *roles = json_object();
	json_t *groups = json_object();
	size_t i = 0;
	size_t j = 0;

	if (pcs->name)
		check_label(v, "metadata.name", pcs->name);
	else if (!pcs->generate_name)
		pol_verdict_add(v, POL_FE_REQUIRED, "metadata.name", NULL,
				NULL);
	for (i = 0; i < pcs->n_cliques; i++) {
		const pol_clique *c = &pcs->cliques[i];

		pol_path(field, "%s.name", c->path);
		if (!c->name) {
			if (pol_unset(c->node, "name"))
				pol_verdict_add(v, POL_FE_REQUIRED, field, NULL,
						NULL);
			continue;
		}
		check_label(v, field, c->name);
		/* V5: unique clique names, unique role names */
		if (pol_pcs_find_clique(pcs, c->name) != i)
			pol_verdict_add(v, POL_FE_DUPLICATE, field,
					pol_verdict_str(v, c->name), NULL);
		if (pcs->form != POL_FORM_TEMPLATE || !c->role_name)
			continue;
		/* equal clique names are already a duplicate above */
		if (pol_seen(roles, c->role_name, i, &j, v) &&
		    strcmp(pcs->cliques[j].name, c->name) != 0) {
			pol_path(field, "%s.roleName", c->spec_path);
			pol_verdict_add(v, POL_FE_DUPLICATE, field,
					pol_verdict_str(v, c->role_name),
					"role names must be unique; %s.name %s "
					"uses it too",
					pcs->cliques[j].path,
					pcs->cliques[j].name);
		}
	}
	for (i = 0; i < pcs->n_groups; i++) {
		const pol_group *g = &pcs->groups[i];

		pol_path(field, "%s.name", g->path);
		if (!g->name) {
			if (pol_unset(g->node, "name"))
				pol_verdict_add(v, POL_FE_REQUIRED, field, NULL,
						NULL);
			continue;
		}
		check_label(v, field, g->name);
		/* V9: unique group names */
		if (pol_seen(groups, g->name, i, NULL, v))
			pol_verdict_add(v, POL_FE_DUPLICATE, field,
					pol_verdict_str(v, g->name), NULL);
	}
	json_decref(roles);
	json_decref(groups);
}

/* ---- V4: the name budget ---------------------------------------------- */

/* The largest pod count a clique can reach. */
static int64_t clique_max_pods(const pol_pcs *pcs, const pol_clique *c)
{
	int64_t max = c->replicas;
	int64_t asc = 0;

	if (pcs->form == POL_FORM_COMPACT && c->group >= 0)
		return pcs->groups[c->group].ratio[c->group_pos];
	if (c->autoscaling &&
	    pol_get_int(c->autoscaling, "maxReplicas", &asc) && asc > max)
		max = asc;
	return max;
}

static void check_name_budget(const pol_pcs *pcs, pol_verdict *v)
{
	char set[POL_PATH_MAX];
	char longest[POL_PATH_MAX * 2];
	json_t *blamed = NULL;
	char field[POL_PATH_MAX];
	int64_t imax = 0;
	size_t i = 0;
	int n = 0;

	if (pcs->name)
		snprintf(set, sizeof(set), "%s", pcs->name);
	else if (pcs->generate_name)
		/* the API server appends five random characters */
		snprintf(set, sizeof(set), "%sxxxxx", pcs->generate_name);
	else
		return;
	if (pcs->form == POL_FORM_TEMPLATE)
		imax = pcs->replicas > 0 ? pcs->replicas - 1 : 0;
	else if (pcs->n_groups == 0)
		imax = (pcs->max_replicas > pcs->replicas ? pcs->max_replicas
							  : pcs->replicas) -
		       1;
	if (imax < 0)
		imax = 0;
	/* Each too-long pod name is reported on its longest user-chosen
	 * part (set, group or clique name): the one to shorten first. Each
	 * blamed name gets one error. */
	blamed = json_object();
	for (i = 0; i < pcs->n_cliques; i++) {
		const pol_clique *c = &pcs->cliques[i];
		const pol_group *g = NULL;
		int64_t kmax = clique_max_pods(pcs, c) - 1;
		size_t part = 0;
		const char *what = "clique";

		if (!c->name)
			continue;
		if (kmax < 0)
			kmax = 0;
		if (c->group >= 0 && pcs->groups[c->group].name) {
			int64_t jmax = 0;

			g = &pcs->groups[c->group];
			jmax = (g->max_replicas > g->replicas ? g->max_replicas
							      : g->replicas) -
			       1;
			if (jmax < 0)
				jmax = 0;
			n = snprintf(longest, sizeof(longest),
				     "%s-%" PRId64 "-%s-%" PRId64
				     "-%s-%" PRId64,
				     set, imax, g->name, jmax, c->name, kmax);
		} else {
			n = snprintf(longest, sizeof(longest),
				     "%s-%" PRId64 "-%s-%" PRId64, set, imax,
				     c->name, kmax);
		}
		if (n <= POL_NAME_MAX)
			continue;
		pol_path(field, "%s.name", c->path);
		part = strlen(c->name);
		if (g && strlen(g->name) > part) {
			pol_path(field, "%s.name", g->path);
			what = "scaling group";
			part = strlen(g->name);
		}
		if (strlen(set) > part) {
			pol_path(field, "%s",
				 pcs->name ? "metadata.name"
					   : "metadata.generateName");
			what = "PodCliqueSet";
			part = strlen(set);
		}
		if (pol_seen(blamed, field, i, NULL, v))
			continue;
		pol_verdict_add(
		    v, POL_FE_TOO_LONG, field, NULL,
		    "generated pod name \"%s\" has %d characters; "
		    "generated names must be at most %d: shorten "
		    "the %s name (%zu characters), the longest part",
		    longest, n, POL_NAME_MAX, what, part);
	}
	json_decref(blamed);
}

/* ---- V6, V11: counts -------------------------------------------------- */

static void check_counts(const pol_pcs *pcs, pol_verdict *v)
{
	char field[POL_PATH_MAX];
	size_t i = 0;

	for (i = 0; i < pcs->n_cliques; i++) {
		const pol_clique *c = &pcs->cliques[i];
		bool replicas_ok = c->replicas > 0;

		if (!replicas_ok && c->replicas_set) {
			pol_path(field, "%s.replicas", c->spec_path);
			pol_verdict_add(v, POL_FE_INVALID, field,
					pol_verdict_int(v, c->replicas),
					"must be greater than 0");
		}
		if (pcs->form == POL_FORM_COMPACT && c->group >= 0 &&
		    c->replicas_set && replicas_ok) {
			/* V11: a grouped clique's count is its ratio entry */
			const pol_group *g = &pcs->groups[c->group];
			int64_t want = g->ratio[c->group_pos];

			if (want > 0 && c->replicas != want) {
				pol_path(field, "%s.replicas", c->spec_path);
				pol_verdict_add(v, POL_FE_INVALID, field,
						pol_verdict_int(v, c->replicas),
						"must equal its ratio entry "
						"%s.replicas[%zu] (%" PRId64
						") in "
						"scaling group \"%s\"",
						g->path, c->group_pos, want,
						g->name ? g->name : "");
			}
		}
		if (c->min_available_set && replicas_ok &&
		    (c->min_available < 1 || c->min_available > c->replicas)) {
			pol_path(field, "%s.minAvailable", c->spec_path);
			pol_verdict_add(v, POL_FE_INVALID, field,
					pol_verdict_int(v, c->min_available),
					"must be between 1 and replicas "
					"(%" PRId64 ")",
					c->replicas);
		}
	}
}

/* ---- V7: startsAfter entries ------------------------------------------ */

/* Beyond this many cliques a did-you-mean costs more than it helps. */
#define DID_YOU_MEAN_MAX_CLIQUES 256

/* `name` (at field) names no clique: Not found, with a did-you-mean. */
static void clique_not_found(const pol_pcs *pcs, const char *field,
			     const char *name, pol_verdict *v)
{
	const char *names[DID_YOU_MEAN_MAX_CLIQUES + 1];
	const char *near = NULL;
	size_t j = 0;

	if (pcs->n_cliques <= DID_YOU_MEAN_MAX_CLIQUES) {
		for (j = 0; j < pcs->n_cliques; j++)
			names[j] =
			    pcs->cliques[j].name ? pcs->cliques[j].name : "";
		names[j] = NULL;
		near = pol_did_you_mean(name, names);
	}
	if (near)
		pol_verdict_add(v, POL_FE_NOT_FOUND, field,
				pol_verdict_str(v, name),
				"no clique of this PodCliqueSet has that name; "
				"did you mean \"%s\"?",
				near);
	else
		pol_verdict_add(v, POL_FE_NOT_FOUND, field,
				pol_verdict_str(v, name),
				"no clique of this PodCliqueSet has that name");
}

/* One startsAfter entry; seen holds the entries before it. */
static void check_starts_after_entry(const pol_pcs *pcs, const pol_clique *c,
				     const json_t *entry, const char *field,
				     json_t *seen, size_t k, pol_verdict *v)
{
	const char *name = json_string_value(entry);

	if (!name)
		return; /* a type error, reported by the model */
	if (!name[0]) {
		pol_verdict_add(v, POL_FE_INVALID, field,
				pol_verdict_str(v, name), "must not be empty");
		return;
	}
	if (c->name && strcmp(name, c->name) == 0) {
		pol_verdict_add(v, POL_FE_INVALID, field,
				pol_verdict_str(v, name),
				"a clique cannot start after itself");
		return;
	}
	if (pol_seen(seen, name, k, NULL, v)) {
		pol_verdict_add(v, POL_FE_DUPLICATE, field,
				pol_verdict_str(v, name), NULL);
		return;
	}
	if (pol_pcs_find_clique(pcs, name) == SIZE_MAX)
		clique_not_found(pcs, field, name, v);
}

static bool starts_after_in_force(const pol_pcs *pcs)
{
	return pcs->form == POL_FORM_COMPACT ||
	       pcs->startup == POL_STARTUP_EXPLICIT;
}

static void check_starts_after(const pol_pcs *pcs, pol_verdict *v)
{
	json_t *seen = NULL;
	char field[POL_PATH_MAX];
	size_t i = 0;
	size_t k = 0;
	const json_t *el = NULL;

	for (i = 0; i < pcs->n_cliques; i++) {
		const pol_clique *c = &pcs->cliques[i];

		if (!c->starts_after)
			continue;
		if (!starts_after_in_force(pcs)) {
			if (pcs->startup == POL_STARTUP_INVALID)
				continue;
			if (json_array_size(c->starts_after) == 0)
				continue;
			pol_verdict_warn(v,
					 "%s.startsAfter: ignored under "
					 "cliqueStartupType %s",
					 c->spec_path,
					 pcs->startup == POL_STARTUP_IN_ORDER
					     ? "CliqueStartupTypeInOrder"
					     : "CliqueStartupTypeAnyOrder");
			continue;
		}
		seen = json_object();
		if (json_is_string(c->starts_after)) {
			pol_path(field, "%s.startsAfter", c->spec_path);
			check_starts_after_entry(pcs, c, c->starts_after, field,
						 seen, 0, v);
		}
		json_array_foreach(c->starts_after, k, el)
		{
			pol_path(field, "%s.startsAfter[%zu]", c->spec_path, k);
			check_starts_after_entry(pcs, c, el, field, seen, k, v);
		}
		json_decref(seen);
	}
}

/* ---- V9, V10: scaling groups ------------------------------------------ */

static void check_groups(const pol_pcs *pcs, pol_verdict *v)
{
	char field[POL_PATH_MAX];
	size_t i = 0;
	size_t k = 0;

	for (i = 0; i < pcs->n_groups; i++) {
		const pol_group *g = &pcs->groups[i];
		const json_t *ratio = json_object_get(g->node, "replicas");
		json_t *seen = json_object();

		/* absent or empty; a list of the wrong type is the model's */
		if (g->n_cliques == 0 &&
		    (g->clique_names ||
		     !json_object_get(g->node, pcs->form == POL_FORM_COMPACT
						   ? "cliques"
						   : "cliqueNames")))
			pol_verdict_add(v, POL_FE_REQUIRED, g->cliques_path,
					NULL,
					"a scaling group needs at least one "
					"clique");
		for (k = 0; k < g->n_cliques; k++) {
			const char *name = json_string_value(
			    json_array_get(g->clique_names, k));
			size_t ci = g->cliques[k];

			if (!name)
				continue;
			pol_path(field, "%s[%zu]", g->cliques_path, k);
			if (pol_seen(seen, name, k, NULL, v)) {
				pol_verdict_add(v, POL_FE_DUPLICATE, field,
						pol_verdict_str(v, name), NULL);
				continue;
			}
			if (ci == SIZE_MAX) {
				clique_not_found(pcs, field, name, v);
				continue;
			}
			if (pcs->cliques[ci].group != (int)i) {
				const pol_group *o =
				    &pcs->groups[pcs->cliques[ci].group];

				pol_verdict_add(v, POL_FE_INVALID, field,
						pol_verdict_str(v, name),
						"clique is already in scaling "
						"group \"%s\" (%s); a clique "
						"can be in one group only",
						o->name ? o->name : "",
						o->path);
			}
		}
		json_decref(seen);
		if (pcs->form != POL_FORM_COMPACT || !json_is_array(ratio))
			continue;
		/* V10: one positive entry per clique */
		if (json_array_size(ratio) != g->n_cliques) {
			pol_path(field, "%s.replicas", g->path);
			pol_verdict_add(v, POL_FE_INVALID, field,
					pol_verdict_copy(v, ratio),
					"must have one entry per clique of "
					"%s (%zu)",
					g->cliques_path, g->n_cliques);
		}
		for (k = 0; k < json_array_size(ratio); k++) {
			const json_t *r = json_array_get(ratio, k);

			if (!json_is_integer(r) || json_integer_value(r) > 0)
				continue;
			pol_path(field, "%s.replicas[%zu]", g->path, k);
			pol_verdict_add(v, POL_FE_INVALID, field,
					pol_verdict_copy(v, r),
					"must be greater than 0");
		}
	}
}

/* ---- V12: compact scaling --------------------------------------------- */

static void check_scaling(const pol_pcs *pcs, pol_verdict *v)
{
	const json_t *scaling =
	    json_object_get(json_object_get(pcs->doc, "spec"), "scaling");
	bool min_set = json_is_integer(json_object_get(scaling, "minReplicas"));
	bool max_set = json_is_integer(json_object_get(scaling, "maxReplicas"));
	bool min_ok = pcs->min_replicas >= 1;
	bool max_ok = true;

	if (pcs->form == POL_FORM_TEMPLATE) {
		if (pcs->replicas_set && pcs->replicas < 0)
			pol_verdict_add(v, POL_FE_INVALID, "spec.replicas",
					pol_verdict_int(v, pcs->replicas),
					"must not be negative");
		return;
	}
	if (min_set && !min_ok)
		pol_verdict_add(v, POL_FE_INVALID, "spec.scaling.minReplicas",
				pol_verdict_int(v, pcs->min_replicas),
				"must be at least 1");
	if (max_set && min_ok && pcs->max_replicas < pcs->min_replicas) {
		max_ok = false;
		pol_verdict_add(v, POL_FE_INVALID, "spec.scaling.maxReplicas",
				pol_verdict_int(v, pcs->max_replicas),
				"must be at least spec.scaling.minReplicas "
				"(%" PRId64 ")",
				pcs->min_replicas);
	}
	if (!pcs->replicas_set)
		return;
	if (pcs->replicas < 1) {
		pol_verdict_add(v, POL_FE_INVALID, "spec.replicas",
				pol_verdict_int(v, pcs->replicas),
				"must be at least 1");
		return;
	}
	if (!min_ok || !max_ok || !pcs->scaling_set)
		return;
	if (pcs->replicas < pcs->min_replicas ||
	    pcs->replicas > pcs->max_replicas)
		pol_verdict_add(v, POL_FE_INVALID, "spec.replicas",
				pol_verdict_int(v, pcs->replicas),
				"must be within [%" PRId64 ", %" PRId64
				"] (spec.scaling.minReplicas, "
				"spec.scaling.maxReplicas)",
				pcs->min_replicas, pcs->max_replicas);
}

/* ---- V13: template groups and autoscaling ----------------------------- */

/* minReplicas/maxReplicas of an autoscaling or scale config. */
static void check_scale_bounds(const json_t *cfg, const char *path,
			       int64_t min_available, bool min_available_ok,
			       const char *min_available_field, pol_verdict *v)
{
	char field[POL_PATH_MAX];
	int64_t min = 0;
	int64_t max = 0;
	bool min_ok = false;

	if (!cfg)
		return;
	if (pol_get_int(cfg, "minReplicas", &min)) {
		pol_path(field, "%s.minReplicas", path);
		if (min < 1)
			pol_verdict_add(v, POL_FE_INVALID, field,
					pol_verdict_int(v, min),
					"must be at least 1");
		else if (min_available_ok && min < min_available)
			pol_verdict_add(v, POL_FE_INVALID, field,
					pol_verdict_int(v, min),
					"must be at least %s (%" PRId64 ")",
					min_available_field, min_available);
		else
			min_ok = true;
	} else if (json_object_get(cfg, "minReplicas")) {
		pol_path(field, "%s.minReplicas", path);
		pol_verdict_add(
		    v, POL_FE_INVALID, field,
		    pol_verdict_copy(v, json_object_get(cfg, "minReplicas")),
		    "must be an integer");
	}
	pol_path(field, "%s.maxReplicas", path);
	if (pol_unset(cfg, "maxReplicas")) {
		pol_verdict_add(v, POL_FE_REQUIRED, field, NULL, NULL);
	} else if (!pol_get_int(cfg, "maxReplicas", &max)) {
		pol_verdict_add(
		    v, POL_FE_INVALID, field,
		    pol_verdict_copy(v, json_object_get(cfg, "maxReplicas")),
		    "must be an integer");
	} else if (min_ok && max < min) {
		pol_verdict_add(
		    v, POL_FE_INVALID, field, pol_verdict_int(v, max),
		    "must be at least minReplicas (%" PRId64 ")", min);
	}
}

static void check_template_scaling(const pol_pcs *pcs, pol_verdict *v)
{
	char field[POL_PATH_MAX];
	char path[POL_PATH_MAX];
	char mafield[POL_PATH_MAX];
	size_t i = 0;

	if (pcs->form != POL_FORM_TEMPLATE)
		return;
	for (i = 0; i < pcs->n_groups; i++) {
		const pol_group *g = &pcs->groups[i];
		bool replicas_ok = g->replicas > 0;
		bool ma_ok = false;

		if (g->replicas_set && !replicas_ok) {
			pol_path(field, "%s.replicas", g->path);
			pol_verdict_add(v, POL_FE_INVALID, field,
					pol_verdict_int(v, g->replicas),
					"must be greater than 0");
		}
		ma_ok = replicas_ok && g->min_available >= 1 &&
			g->min_available <= g->replicas;
		pol_path(mafield, "%s.minAvailable", g->path);
		if (g->min_available_set && replicas_ok && !ma_ok)
			pol_verdict_add(v, POL_FE_INVALID, mafield,
					pol_verdict_int(v, g->min_available),
					"must be between 1 and replicas "
					"(%" PRId64 ")",
					g->replicas);
		pol_path(path, "%s.scaleConfig", g->path);
		check_scale_bounds(g->scale_config, path, g->min_available,
				   ma_ok, mafield, v);
	}
	for (i = 0; i < pcs->n_cliques; i++) {
		const pol_clique *c = &pcs->cliques[i];
		bool ma_ok = c->replicas > 0 && c->min_available >= 1 &&
			     c->min_available <= c->replicas;

		if (!c->autoscaling)
			continue;
		pol_path(path, "%s.autoScalingConfig", c->spec_path);
		if (c->group >= 0) {
			pol_verdict_add(
			    v, POL_FE_FORBIDDEN, path, NULL,
			    "clique is in scaling group \"%s\" "
			    "and scales with it; set %s.scaleConfig "
			    "instead",
			    pcs->groups[c->group].name
				? pcs->groups[c->group].name
				: "",
			    pcs->groups[c->group].path);
			continue;
		}
		pol_path(mafield, "%s.minAvailable", c->spec_path);
		check_scale_bounds(c->autoscaling, path, c->min_available,
				   ma_ok, mafield, v);
	}
}

/* ---- V15, V16, V18: pod contents -------------------------------------- */

static void check_env(const json_t *ctr, const char *cpath, pol_verdict *v)
{
	const json_t *env = json_object_get(ctr, "env");
	const json_t *e = NULL;
	json_t *seen = json_object();
	char field[POL_PATH_MAX];
	gv_error_t bad = GV_ERROR_INIT;
	size_t k = 0;

	json_array_foreach(env, k, e)
	{
		const json_t *nm = json_object_get(e, "name");
		const char *name = json_string_value(nm);

		pol_path(field, "%s.env[%zu].name", cpath, k);
		if (!nm || (name && !name[0]))
			pol_verdict_add(v, POL_FE_REQUIRED, field, NULL, NULL);
		else if (!name)
			pol_verdict_add(v, POL_FE_INVALID, field,
					pol_verdict_copy(v, nm),
					"must be a string");
		else if (pol_check_env_name(name, &bad) != GV_OK)
			pol_verdict_add(v, POL_FE_INVALID, field,
					pol_verdict_str(v, name), "%s",
					bad.text);
		else if (pol_seen(seen, name, k, NULL, v))
			pol_verdict_add(v, POL_FE_DUPLICATE, field,
					pol_verdict_str(v, name), NULL);
	}
	json_decref(seen);
}

/* Container names are unique across initContainers and containers:
 * `names` carries the names seen so far in this pod. */
static void check_container_list(const pol_clique *c, const char *list,
				 json_t *names, const json_t *claims,
				 pol_verdict *v)
{
	const json_t *ctrs = json_object_get(c->pod, list);
	const json_t *ctr = NULL;
	char cpath[POL_PATH_MAX];
	char field[POL_PATH_MAX];
	size_t j = 0;
	size_t k = 0;

	json_array_foreach(ctrs, j, ctr)
	{
		const json_t *nm = json_object_get(ctr, "name");
		const char *name = json_string_value(nm);
		const json_t *img = json_object_get(ctr, "image");
		const json_t *uses = json_object_get(
		    json_object_get(ctr, "resources"), "claims");
		const json_t *cl = NULL;

		pol_path(cpath, "%s.%s[%zu]", c->pod_path, list, j);
		if (!json_is_object(ctr)) {
			pol_verdict_add(v, POL_FE_INVALID, cpath,
					pol_verdict_copy(v, ctr),
					"must be an object");
			continue;
		}
		pol_path(field, "%s.name", cpath);
		if (!nm || (name && !name[0]))
			pol_verdict_add(v, POL_FE_REQUIRED, field, NULL, NULL);
		else if (!name)
			pol_verdict_add(v, POL_FE_INVALID, field,
					pol_verdict_copy(v, nm),
					"must be a string");
		else if (pol_seen(names, name, j, NULL, v))
			pol_verdict_add(v, POL_FE_DUPLICATE, field,
					pol_verdict_str(v, name), NULL);
		else
			check_label(v, field, name);
		pol_path(field, "%s.image", cpath);
		if (!img || (json_is_string(img) && !json_string_value(img)[0]))
			pol_verdict_add(v, POL_FE_REQUIRED, field, NULL, NULL);
		else if (!json_is_string(img))
			pol_verdict_add(v, POL_FE_INVALID, field,
					pol_verdict_copy(v, img),
					"must be a string");
		check_env(ctr, cpath, v);
		/* V15: a container's claims name the clique's claims */
		json_array_foreach(uses, k, cl)
		{
			const char *cn = pol_get_str(cl, "name");

			pol_path(field, "%s.resources.claims[%zu].name", cpath,
				 k);
			if (!cn || !cn[0])
				pol_verdict_add(v, POL_FE_REQUIRED, field, NULL,
						NULL);
			else if (!json_object_get(claims, cn))
				pol_verdict_add(v, POL_FE_NOT_FOUND, field,
						pol_verdict_str(v, cn),
						"the clique has no resource "
						"claim of that name (%s.%s)",
						c->pod_path, "resourceClaims");
		}
	}
}

static void check_pods(const pol_pcs *pcs, bool create, pol_verdict *v)
{
	json_t *names = NULL;
	json_t *claims = NULL;
	const json_t *cl = NULL;
	char field[POL_PATH_MAX];
	size_t i = 0;
	size_t k = 0;

	for (i = 0; i < pcs->n_cliques; i++) {
		const pol_clique *c = &pcs->cliques[i];
		const json_t *ctrs = json_object_get(c->pod, "containers");

		if (!c->pod) {
			if (pcs->form == POL_FORM_TEMPLATE &&
			    json_is_object(json_object_get(c->node, "spec")) &&
			    !json_object_get(json_object_get(c->node, "spec"),
					     "podSpec"))
				pol_verdict_add(v, POL_FE_REQUIRED, c->pod_path,
						NULL, NULL);
			else if (pcs->form == POL_FORM_TEMPLATE &&
				 !json_object_get(c->node, "spec"))
				pol_verdict_add(v, POL_FE_REQUIRED,
						c->spec_path, NULL, NULL);
			continue;
		}
		pol_path(field, "%s.containers", c->pod_path);
		if (!json_is_array(ctrs) || json_array_size(ctrs) == 0) {
			if (!ctrs || json_is_array(ctrs))
				pol_verdict_add(v, POL_FE_REQUIRED, field, NULL,
						"at least one container is "
						"needed");
		}
		names = json_object();
		claims = json_object();
		json_array_foreach(c->claims, k, cl)
		{
			if (pol_get_str(cl, "name"))
				(void)pol_seen(claims, pol_get_str(cl, "name"),
					       k, NULL, v);
		}
		check_container_list(c, "initContainers", names, claims, v);
		check_container_list(c, "containers", names, claims, v);
		json_decref(names);
		json_decref(claims);
		if (!create)
			continue;
		/* V18: placement belongs to the scheduler */
		if (json_object_get(c->pod, "nodeName")) {
			pol_path(field, "%s.nodeName", c->pod_path);
			pol_verdict_add(v, POL_FE_FORBIDDEN, field, NULL,
					"the gang scheduler places Grove pods; "
					"use nodeSelector or affinity instead");
		}
		if (json_object_get(c->pod, "topologySpreadConstraints")) {
			pol_path(field, "%s.topologySpreadConstraints",
				 c->pod_path);
			pol_verdict_add(v, POL_FE_FORBIDDEN, field, NULL,
					"the gang scheduler places Grove pods; "
					"use topologyConstraint instead");
		}
	}
}

/* ---- V14, V15: resource claims ---------------------------------------- */

static pol_lookup_result lookup_claim(const pol_options *o, const char *ns,
				      const char *name, char *why, size_t size)
{
	if (!o->lookup || !o->lookup->claim_template) {
		snprintf(why, size, "no cluster to check against");
		return POL_LOOKUP_UNKNOWN;
	}
	return o->lookup->claim_template(o->lookup->ctx, ns, name, why, size);
}

/* What the claims of one clique have in common while they are checked. */
typedef struct claim_scan {
	json_t *names; /* claim names seen */
	json_t *templates; /* distinct template names seen */
	gv_buf listed; /* those templates, for the ambiguity warning */
} claim_scan;

/* The controller ownerReference of the set (another operator made it,
 * as NVIDIA Dynamo does), or NULL. Borrowed. */
static const json_t *controller_of(const json_t *obj)
{
	const json_t *refs = json_object_get(json_object_get(obj, "metadata"),
					     "ownerReferences");
	const json_t *ref = NULL;
	size_t i = 0;

	json_array_foreach(refs, i, ref)
	{
		if (json_is_true(json_object_get(ref, "controller")))
			return ref;
	}
	return NULL;
}

/* V14: the template exists (in the set's own resourceClaimTemplates, or
 * by lookup in the namespace). A set that another controller made only
 * gets a warning for a missing one: that operator may create the
 * template in its next step, and a denial would stall it (docs/api.md
 * section 4). */
static void check_claim_template(const pol_options *o, const char *ns,
				 const json_t *own, const json_t *controller,
				 const char *field, const char *tpl,
				 pol_verdict *v)
{
	char why[POL_MSG_MAX];

	if (json_object_get(own, tpl))
		return;
	switch (lookup_claim(o, ns, tpl, why, sizeof(why))) {
	case POL_LOOKUP_FOUND:
		break;
	case POL_LOOKUP_MISSING:
		if (controller) {
			pol_verdict_warn(
			    v,
			    "%s: ResourceClaimTemplate \"%s/%s\" does not "
			    "exist yet; allowed because %s \"%s\" controls "
			    "this PodCliqueSet and may create it next (its "
			    "pods wait for it)",
			    field, ns, tpl,
			    pol_get_str(controller, "kind")
				? pol_get_str(controller, "kind")
				: "its controller",
			    pol_get_str(controller, "name")
				? pol_get_str(controller, "name")
				: "");
			break;
		}
		pol_verdict_add(v, POL_FE_NOT_FOUND, field,
				pol_verdict_str(v, tpl),
				"no ResourceClaimTemplate \"%s\" in namespace "
				"\"%s\"; create the template first",
				tpl, ns);
		break;
	default:
		pol_verdict_warn(v,
				 "%s: ResourceClaimTemplate \"%s/%s\" was not "
				 "checked: %s",
				 field, ns, tpl, why);
	}
}

/* V15 (names) and V14 for claim k of clique c. */
static void check_claim(const pol_clique *c, size_t k, const json_t *cl,
			const pol_options *o, const char *ns, const json_t *own,
			const json_t *controller, claim_scan *scan,
			pol_verdict *v)
{
	const char *name = pol_get_str(cl, "name");
	const char *tpl = pol_get_str(cl, "resourceClaimTemplateName");
	char cpath[POL_PATH_MAX];
	char field[POL_PATH_MAX];

	pol_path(cpath, "%s.resourceClaims[%zu]", c->pod_path, k);
	if (!json_is_object(cl)) {
		pol_verdict_add(v, POL_FE_INVALID, cpath,
				pol_verdict_copy(v, cl), "must be an object");
		return;
	}
	pol_path(field, "%s.name", cpath);
	if (!name || !name[0])
		pol_verdict_add(v, POL_FE_REQUIRED, field, NULL, NULL);
	else if (pol_seen(scan->names, name, k, NULL, v))
		pol_verdict_add(v, POL_FE_DUPLICATE, field,
				pol_verdict_str(v, name), NULL);
	pol_path(field, "%s.resourceClaimTemplateName", cpath);
	if (!tpl) {
		if (!json_object_get(cl, "resourceClaimName"))
			pol_verdict_add(v, POL_FE_REQUIRED, field, NULL,
					"a claim names a ResourceClaimTemplate "
					"(or an existing resourceClaimName)");
		return;
	}
	if (!pol_seen(scan->templates, tpl, k, NULL, v))
		gv_buf_printf(&scan->listed, "%s%s",
			      json_object_size(scan->templates) > 1 ? ", " : "",
			      tpl);
	check_claim_template(o, ns, own, controller, field, tpl, v);
}

static void check_claims(const pol_pcs *pcs, const pol_options *o,
			 const char *ns, pol_verdict *v)
{
	json_t *own = json_object();
	const json_t *controller = controller_of(pcs->doc);
	const json_t *cl = NULL;
	size_t i = 0;
	size_t k = 0;

	json_array_foreach(pcs->claim_templates, k, cl)
	{
		if (pol_get_str(cl, "name"))
			(void)pol_seen(own, pol_get_str(cl, "name"), k, NULL,
				       v);
	}
	for (i = 0; i < pcs->n_cliques; i++) {
		const pol_clique *c = &pcs->cliques[i];
		claim_scan scan;

		scan.names = json_object();
		scan.templates = json_object();
		gv_buf_init(&scan.listed, 4096);
		json_array_foreach(c->claims, k, cl)
		    check_claim(c, k, cl, o, ns, own, controller, &scan, v);
		/* a list past its maximum is cut, not out of memory */
		if (scan.listed.failed && !scan.listed.toobig)
			v->oom = true;
		else if (json_object_size(scan.templates) > 1)
			pol_verdict_warn(
			    v,
			    "%s.resourceClaims: claims name more than one "
			    "ResourceClaimTemplate (%.*s%s); DRA binding is "
			    "ambiguous",
			    c->pod_path,
			    scan.listed.s ? (int)gv_utf8_cut(scan.listed.s,
							     scan.listed.len)
					  : 0,
			    scan.listed.s ? scan.listed.s : "",
			    scan.listed.toobig ? ", ..." : "");
		gv_buf_release(&scan.listed);
		json_decref(scan.names);
		json_decref(scan.templates);
	}
	json_decref(own);
}

/* ---- V17: one scheduler ----------------------------------------------- */

static const char *scheduler_of(const pol_clique *c, const char *def)
{
	const char *s = pol_get_str(c->pod, "schedulerName");

	return s && s[0] ? s : def;
}

/*
 * The scheduler every clique must resolve to: the default when any clique
 * leaves it unset (so the error lands on the clique that wrote another),
 * else the first clique's.
 */
static void check_scheduler(const pol_pcs *pcs, const pol_options *o,
			    pol_verdict *v)
{
	const char *def =
	    o->default_scheduler ? o->default_scheduler : POL_DEFAULT_SCHEDULER;
	const pol_clique *ref = NULL;
	const char *want = NULL;
	char field[POL_PATH_MAX];
	size_t i = 0;

	for (i = 0; i < pcs->n_cliques; i++) {
		const pol_clique *c = &pcs->cliques[i];
		const char *s = pol_get_str(c->pod, "schedulerName");

		if (c->pod && (!ref || !s || !s[0])) {
			ref = c;
			if (!s || !s[0])
				break;
		}
	}
	if (!ref)
		return;
	want = scheduler_of(ref, def);
	for (i = 0; i < pcs->n_cliques; i++) {
		const pol_clique *c = &pcs->cliques[i];
		const char *s = scheduler_of(c, def);

		if (!c->pod || strcmp(s, want) == 0)
			continue;
		pol_path(field, "%s.schedulerName", c->pod_path);
		if (pol_get_str(ref->pod, "schedulerName"))
			pol_verdict_add(v, POL_FE_INVALID, field,
					pol_verdict_str(v, s),
					"all cliques must use one scheduler "
					"for gang scheduling; %s uses \"%s\"",
					ref->path, want);
		else
			pol_verdict_add(v, POL_FE_INVALID, field,
					pol_verdict_str(v, s),
					"all cliques must use one scheduler "
					"for gang scheduling; %s uses \"%s\" "
					"(the default)",
					ref->path, want);
	}
}

/* ---- V19: template fields --------------------------------------------- */

static void check_template_fields(const pol_pcs *pcs, pol_verdict *v)
{
	double secs = 0;

	if (pcs->form != POL_FORM_TEMPLATE)
		return;
	if (pcs->startup == POL_STARTUP_INVALID)
		pol_verdict_add(v, POL_FE_NOT_SUPPORTED,
				"spec.template.cliqueStartupType",
				pol_verdict_str(v, pcs->startup_written),
				"supported values: "
				"\"CliqueStartupTypeAnyOrder\", "
				"\"CliqueStartupTypeInOrder\", "
				"\"CliqueStartupTypeExplicit\"");
	if (!pcs->termination_delay)
		return;
	if (!pol_parse_duration(pcs->termination_delay, &secs))
		pol_verdict_add(v, POL_FE_INVALID,
				"spec.template.terminationDelay",
				pol_verdict_str(v, pcs->termination_delay),
				"must be a duration such as \"4h\" or \"30m\"");
	else if (secs <= 0)
		pol_verdict_add(v, POL_FE_INVALID,
				"spec.template.terminationDelay",
				pol_verdict_str(v, pcs->termination_delay),
				"must be greater than 0");
}

/* V19: spec.updateStrategy.type (docs/api.md section 4). */
static void check_update_strategy(const pol_pcs *pcs, pol_verdict *v)
{
	const json_t *us = json_object_get(json_object_get(pcs->doc, "spec"),
					   "updateStrategy");
	const json_t *type = json_object_get(us, "type");
	const char *t = json_string_value(type);

	if (!us || json_is_null(us))
		return;
	if (!json_is_object(us)) {
		pol_verdict_add(v, POL_FE_INVALID, "spec.updateStrategy",
				pol_verdict_copy(v, us), "must be an object");
		return;
	}
	if (!type || json_is_null(type))
		return; /* RollingRecreate */
	if (!t) {
		pol_verdict_add(v, POL_FE_INVALID, "spec.updateStrategy.type",
				pol_verdict_copy(v, type), "must be a string");
		return;
	}
	if (strcmp(t, "RollingRecreate") == 0 || strcmp(t, "OnDelete") == 0)
		return;
	if (strcmp(t, "Coherent") == 0)
		pol_verdict_add(v, POL_FE_NOT_SUPPORTED,
				"spec.updateStrategy.type",
				pol_verdict_str(v, t),
				"supported values: \"RollingRecreate\", "
				"\"OnDelete\"; Coherent is upstream's "
				"GREP-393, not in upstream's released API, and "
				"groved refuses it until it implements it");
	else
		pol_verdict_add(v, POL_FE_NOT_SUPPORTED,
				"spec.updateStrategy.type",
				pol_verdict_str(v, t),
				"supported values: \"RollingRecreate\", "
				"\"OnDelete\"");
}

/* ---- V19: rollingUpdate ---------------------------------------------- */

static const char *const rolling_keys[] = {
	"maxUnavailable",
	"maxSurge",
	"progressDeadline",
	NULL,
};
#define ROLLING_KNOWN "\"maxUnavailable\", \"maxSurge\", \"progressDeadline\""

/* maxUnavailable or maxSurge of ru (at path): true with *out (def when
 * absent) when it is an integer >= 0; false with an error otherwise. */
static bool check_rolling_count(const json_t *ru, const char *path,
				const char *key, int64_t def, int64_t *out,
				pol_verdict *v)
{
	const json_t *m = json_object_get(ru, key);
	const char *s = json_string_value(m);
	char field[POL_PATH_MAX];

	*out = def;
	if (!m || json_is_null(m))
		return true;
	pol_path(field, "%s.%s", path, key);
	if (json_is_integer(m) && json_integer_value(m) >= 0) {
		*out = json_integer_value(m);
		return true;
	}
	if (json_is_integer(m))
		pol_verdict_add(v, POL_FE_INVALID, field,
				pol_verdict_copy(v, m), "must not be negative");
	else if (s && strchr(s, '%'))
		pol_verdict_add(v, POL_FE_INVALID, field,
				pol_verdict_copy(v, m),
				"must be an integer: percentages are not "
				"supported");
	else
		pol_verdict_add(v, POL_FE_INVALID, field,
				pol_verdict_copy(v, m), "must be an integer");
	return false;
}

/*
 * One rollingUpdate object ru at path: known members only; maxUnavailable
 * and maxSurge integers >= 0, not both 0; maxSurge only where surge_ok (a
 * standalone clique); progressDeadline a duration > 0.
 */
static void check_rolling_object(const json_t *ru, const char *path,
				 bool surge_ok, pol_verdict *v)
{
	const json_t *pd = NULL;
	int64_t unavailable = 1;
	int64_t surge = 0;
	double secs = 0;
	bool counts_ok = true;
	char field[POL_PATH_MAX];

	pol_check_unknown(v, ru, path, rolling_keys, ROLLING_KNOWN);
	counts_ok =
	    check_rolling_count(ru, path, "maxUnavailable", 1, &unavailable, v);
	if (!surge_ok && !pol_unset(ru, "maxSurge")) {
		pol_path(field, "%s.maxSurge", path);
		pol_verdict_add(v, POL_FE_FORBIDDEN, field, NULL,
				"maxSurge is supported on standalone cliques; "
				"a scaling group rolls unit by unit within its "
				"minAvailable");
	} else if (!check_rolling_count(ru, path, "maxSurge", 0, &surge, v)) {
		counts_ok = false;
	}
	if (counts_ok && unavailable == 0 && surge == 0) {
		pol_path(field, "%s.maxUnavailable", path);
		pol_verdict_add(v, POL_FE_INVALID, field,
				pol_verdict_int(v, unavailable),
				"must be greater than 0 when maxSurge is 0: "
				"nothing could be replaced");
	}
	pd = json_object_get(ru, "progressDeadline");
	if (!pd || json_is_null(pd))
		return;
	pol_path(field, "%s.progressDeadline", path);
	if (!json_is_string(pd) ||
	    !pol_parse_duration(json_string_value(pd), &secs))
		pol_verdict_add(v, POL_FE_INVALID, field,
				pol_verdict_copy(v, pd),
				"must be a duration such as \"10m\" or \"1h\"");
	else if (secs <= 0)
		pol_verdict_add(v, POL_FE_INVALID, field,
				pol_verdict_copy(v, pd),
				"must be greater than 0");
}

/* The rollingUpdate of clique c held by holder (at holder_path): checked;
 * on a grouped clique ignored, with a warning (its group's applies). */
static void check_clique_rolling(const pol_pcs *pcs, const pol_clique *c,
				 const json_t *holder, const char *holder_path,
				 pol_verdict *v)
{
	const json_t *ru = json_object_get(holder, "rollingUpdate");
	const pol_group *g = c->group >= 0 ? &pcs->groups[c->group] : NULL;
	char path[POL_PATH_MAX];

	if (!json_is_object(ru))
		return; /* absent, or a type error the model reported */
	pol_path(path, "%s.rollingUpdate", holder_path);
	check_rolling_object(ru, path, g == NULL, v);
	if (g)
		pol_verdict_warn(v,
				 "%s: ignored: the clique is in scaling group "
				 "\"%s\" and rolls with it, under "
				 "%s.rollingUpdate",
				 path, g->name ? g->name : "", g->path);
}

/*
 * V19: upstream's per-component rollingUpdate (docs/api.md section 4):
 * on a clique (template form: beside its spec, GREP-393's place, or in
 * its spec, the shape of upstream's PodCliqueSpec; the first applies when
 * both are written) and on a group; in the compact form on a podClique
 * or scalingGroup. How the worker uses it: docs/reconcile.md, Rollouts.
 */
static void check_rolling(const pol_pcs *pcs, pol_verdict *v)
{
	bool tpl = pcs->form == POL_FORM_TEMPLATE;
	size_t i = 0;

	for (i = 0; i < pcs->n_cliques; i++) {
		const pol_clique *c = &pcs->cliques[i];
		const json_t *spec = json_object_get(c->node, "spec");

		check_clique_rolling(pcs, c, c->node, c->path, v);
		if (!tpl)
			continue;
		check_clique_rolling(pcs, c, spec, c->spec_path, v);
		if (c->group < 0 &&
		    json_is_object(json_object_get(c->node, "rollingUpdate")) &&
		    json_is_object(json_object_get(spec, "rollingUpdate")))
			pol_verdict_warn(v,
					 "%s.rollingUpdate: ignored: "
					 "%s.rollingUpdate, beside spec, "
					 "applies",
					 c->spec_path, c->path);
	}
	for (i = 0; i < pcs->n_groups; i++) {
		const pol_group *g = &pcs->groups[i];
		const json_t *ru = json_object_get(g->node, "rollingUpdate");
		char path[POL_PATH_MAX];

		if (!json_is_object(ru))
			continue;
		pol_path(path, "%s.rollingUpdate", g->path);
		check_rolling_object(ru, path, false, v);
	}
}

/* A field of upstream's that groved accepts but does not act on yet:
 * named in a warning, never silently ignored (docs/api.md section 4); a
 * value that is not a list is an error instead. */
static void warn_not_acted_on(const json_t *holder, const char *path,
			      const char *key, pol_verdict *v)
{
	const json_t *m = json_object_get(holder, key);
	char field[POL_PATH_MAX];

	if (!m || json_is_null(m))
		return;
	pol_path(field, "%s.%s", path, key);
	if (!json_is_array(m)) {
		pol_verdict_add(v, POL_FE_INVALID, field,
				pol_verdict_copy(v, m), "must be a list");
		return;
	}
	pol_verdict_warn(v,
			 "%s: accepted but not acted on yet: groved does not "
			 "implement upstream's resourceSharing (shared "
			 "ResourceClaims)",
			 field);
}

/* Upstream's resourceSharing (template form: spec.template, each clique,
 * each group). */
static void check_not_acted_on(const pol_pcs *pcs, pol_verdict *v)
{
	size_t i = 0;

	if (pcs->form != POL_FORM_TEMPLATE)
		return;
	warn_not_acted_on(
	    json_object_get(json_object_get(pcs->doc, "spec"), "template"),
	    "spec.template", "resourceSharing", v);
	for (i = 0; i < pcs->n_cliques; i++)
		warn_not_acted_on(pcs->cliques[i].node, pcs->cliques[i].path,
				  "resourceSharing", v);
	for (i = 0; i < pcs->n_groups; i++)
		warn_not_acted_on(pcs->groups[i].node, pcs->groups[i].path,
				  "resourceSharing", v);
}

/* ---- the whole check -------------------------------------------------- */

/* pol_validate_pcs, told which fields of obj only the defaults wrote
 * (a set of field paths, or NULL when unknown). */
static int validate_pcs(const json_t *obj, const json_t *old,
			const pol_options *opts, const json_t *defaulted,
			pol_verdict *v)
{
	pol_options none = { NULL, NULL, NULL };
	const pol_options *o = opts ? opts : &none;
	pol_pcs pcs;
	pol_pcs prev;
	const char *ns = NULL;
	bool have_prev = false;
	int rc = GV_OK;

	memset(&pcs, 0, sizeof(pcs));
	memset(&prev, 0, sizeof(prev));
	rc = pol_pcs_build(obj, &pcs, v);
	if (rc == GV_EINVAL) {
		rc = GV_OK; /* the verdict says why */
		goto out;
	}
	if (rc != GV_OK)
		goto out;
	ns = pcs.namespace
		 ? pcs.namespace
		 : (o->default_namespace ? o->default_namespace : "default");
	/* V2 */
	if (pcs.form == POL_FORM_TEMPLATE && !pcs.clique_list &&
	    !json_is_object(
		json_object_get(json_object_get(obj, "spec"), "template")))
		pol_verdict_add(v, POL_FE_REQUIRED, "spec.template", NULL,
				NULL);
	else if (json_array_size(pcs.clique_list) == 0)
		pol_verdict_add(v, POL_FE_REQUIRED, pcs.cliques_path, NULL,
				"at least one clique is needed");
	check_names(&pcs, v);
	check_name_budget(&pcs, v);
	check_counts(&pcs, v);
	check_starts_after(&pcs, v);
	if (starts_after_in_force(&pcs)) {
		rc = pol_check_cycles(&pcs, v);
		if (rc != GV_OK)
			goto out;
	}
	check_groups(&pcs, v);
	check_scaling(&pcs, v);
	check_template_scaling(&pcs, v);
	check_claims(&pcs, o, ns, v);
	check_pods(&pcs, old == NULL, v);
	check_scheduler(&pcs, o, v);
	check_template_fields(&pcs, v);
	check_update_strategy(&pcs, v);
	check_rolling(&pcs, v);
	check_not_acted_on(&pcs, v);
	rc = pol_check_topology(&pcs, o, v);
	if (rc != GV_OK)
		goto out;
	if (old) {
		pol_verdict scratch = POL_VERDICT_INIT;

		/* the old object's own problems are not this request's; an
		 * old object without a model has nothing to compare */
		rc = pol_pcs_build(old, &prev, &scratch);
		if (rc == GV_OK && scratch.oom)
			rc = GV_ENOMEM;
		pol_verdict_release(&scratch);
		have_prev = rc == GV_OK;
		if (rc == GV_EINVAL)
			rc = GV_OK;
		if (have_prev)
			pol_check_update(&pcs, &prev,
					 o->default_scheduler
					     ? o->default_scheduler
					     : POL_DEFAULT_SCHEDULER,
					 defaulted, v);
	}
out:
	if (have_prev)
		pol_pcs_release(&prev);
	pol_pcs_release(&pcs);
	if (rc == GV_OK)
		pol_verdict_sort(v, obj);
	if (rc == GV_OK && v->oom)
		rc = GV_ENOMEM;
	return rc;
}

int pol_validate_pcs(const json_t *obj, const json_t *old,
		     const pol_options *opts, pol_verdict *v)
{
	return validate_pcs(obj, old, opts, NULL, v);
}

/* The set of fields a defaults patch adds (a new reference), or NULL. */
static json_t *defaulted_fields(const json_t *patch, pol_verdict *v)
{
	json_t *set = json_object();
	const json_t *op = NULL;
	size_t i = 0;

	json_array_foreach(patch, i, op)
	{
		char field[POL_PATH_MAX];

		pol_field_from_pointer(pol_get_str(op, "path"), field,
				       sizeof(field));
		(void)pol_seen(set, field, i, NULL, v);
	}
	return set;
}

int pol_review_pcs(const json_t *obj, const json_t *old,
		   const pol_options *opts, pol_verdict *v,
		   json_t **defaulted_out)
{
	json_t *patch = NULL;
	json_t *defaulted = NULL;
	json_t *fields = NULL;
	gv_error_t err = GV_ERROR_INIT;
	int rc = GV_OK;

	rc = pol_defaults_pcs(obj, &patch, &err);
	if (rc != GV_OK)
		goto out;
	rc = pol_patch_apply(obj, patch, &defaulted, &err);
	if (rc != GV_OK)
		goto out;
	if (old) {
		fields = defaulted_fields(patch, v);
		if (!fields) {
			rc = GV_ENOMEM;
			goto out;
		}
	}
	rc = validate_pcs(defaulted, old, opts, fields, v);
	if (rc != GV_OK)
		goto out;
	if (defaulted_out) {
		*defaulted_out = defaulted;
		defaulted = NULL;
	}
out:
	json_decref(patch);
	json_decref(defaulted);
	json_decref(fields);
	return rc;
}
