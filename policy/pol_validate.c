/*
 * pol_validate.c: the rules of API.md section 4 over the model.
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
	char msg[POL_MSG_MAX];

	if (!pol_check_dns_label(name, msg, sizeof(msg)))
		pol_verdict_add(v, POL_FE_INVALID, field, json_string(name),
				"%s", msg);
}

static void check_names(const pol_pcs *pcs, pol_verdict *v)
{
	char field[POL_PATH_MAX];
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
			if (!json_object_get(c->node, "name"))
				pol_verdict_add(v, POL_FE_REQUIRED, field, NULL,
						NULL);
			continue;
		}
		check_label(v, field, c->name);
		/* V5: unique clique names, unique role names */
		for (j = 0; j < i; j++) {
			const pol_clique *o = &pcs->cliques[j];

			if (o->name && strcmp(o->name, c->name) == 0) {
				pol_verdict_add(v, POL_FE_DUPLICATE, field,
						json_string(c->name), NULL);
				break;
			}
		}
		if (pcs->form != POL_FORM_TEMPLATE || !c->role_name)
			continue;
		for (j = 0; j < i; j++) {
			const pol_clique *o = &pcs->cliques[j];

			/* equal names are already a duplicate above */
			if (o->role_name &&
			    strcmp(o->role_name, c->role_name) == 0 &&
			    !(o->name && strcmp(o->name, c->name) == 0)) {
				pol_path(field, "%s.roleName", c->spec_path);
				pol_verdict_add(v, POL_FE_DUPLICATE, field,
						json_string(c->role_name),
						"role names must be unique; "
						"%s.name %s uses it too",
						o->path, o->name);
				break;
			}
		}
	}
	for (i = 0; i < pcs->n_groups; i++) {
		const pol_group *g = &pcs->groups[i];

		pol_path(field, "%s.name", g->path);
		if (!g->name) {
			if (!json_object_get(g->node, "name"))
				pol_verdict_add(v, POL_FE_REQUIRED, field, NULL,
						NULL);
			continue;
		}
		check_label(v, field, g->name);
	}
}

/* ---- V4: the name budget ---------------------------------------------- */

/* The largest pod count a clique can reach. */
static int64_t clique_max_pods(const pol_pcs *pcs, const pol_clique *c)
{
	int64_t max = c->replicas;
	int64_t asc = 0;

	if (pcs->form == POL_FORM_COMPACT && c->group >= 0)
		return pcs->groups[c->group].ratio[c->group_pos];
	if (c->autoscaling && pol_get_int(c->autoscaling, "maxReplicas", &asc) &&
	    asc > max)
		max = asc;
	return max;
}

static void check_name_budget(const pol_pcs *pcs, pol_verdict *v)
{
	char set[POL_NAME_MAX * 2];
	char longest[POL_PATH_MAX];
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
	n = snprintf(longest, sizeof(longest), "%s-%" PRId64, set, imax);
	if (n > POL_NAME_MAX) {
		pol_verdict_add(v, POL_FE_TOO_LONG,
				pcs->name ? "metadata.name"
					  : "metadata.generateName",
				NULL,
				"generated name \"%s\" (headless Service and "
				"PodGang) has %d characters; generated names "
				"must be at most %d",
				longest, n, POL_NAME_MAX);
		return;
	}
	for (i = 0; i < pcs->n_cliques; i++) {
		const pol_clique *c = &pcs->cliques[i];
		int64_t kmax = clique_max_pods(pcs, c) - 1;

		if (!c->name)
			continue;
		if (kmax < 0)
			kmax = 0;
		if (c->group >= 0 && pcs->groups[c->group].name) {
			const pol_group *g = &pcs->groups[c->group];
			int64_t jmax = g->max_replicas > g->replicas
					       ? g->max_replicas - 1
					       : g->replicas - 1;

			if (jmax < 0)
				jmax = 0;
			n = snprintf(longest, sizeof(longest),
				     "%s-%" PRId64 "-%s-%" PRId64 "-%s-%" PRId64,
				     set, imax, g->name, jmax, c->name, kmax);
		} else {
			n = snprintf(longest, sizeof(longest),
				     "%s-%" PRId64 "-%s-%" PRId64, set, imax,
				     c->name, kmax);
		}
		if (n <= POL_NAME_MAX)
			continue;
		pol_path(field, "%s.name", c->path);
		pol_verdict_add(v, POL_FE_TOO_LONG, field, NULL,
				"generated pod name \"%s\" has %d characters; "
				"generated names must be at most %d (shorten "
				"the PodCliqueSet, group or clique name)",
				longest, n, POL_NAME_MAX);
	}
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
					json_integer(c->replicas),
					"must be greater than 0");
		}
		if (pcs->form == POL_FORM_COMPACT && c->group >= 0 &&
		    c->replicas_set && replicas_ok) {
			/* V11: a grouped clique's count is its ratio entry */
			const pol_group *g = &pcs->groups[c->group];
			int64_t want = g->ratio[c->group_pos];

			if (want > 0 && c->replicas != want) {
				pol_path(field, "%s.replicas", c->spec_path);
				pol_verdict_add(
					v, POL_FE_INVALID, field,
					json_integer(c->replicas),
					"must equal its ratio entry "
					"%s.replicas[%zu] (%" PRId64 ") in "
					"scaling group \"%s\"",
					g->path, c->group_pos, want,
					g->name ? g->name : "");
			}
		}
		if (c->min_available_set && replicas_ok &&
		    (c->min_available < 1 || c->min_available > c->replicas)) {
			pol_path(field, "%s.minAvailable", c->spec_path);
			pol_verdict_add(v, POL_FE_INVALID, field,
					json_integer(c->min_available),
					"must be between 1 and replicas "
					"(%" PRId64 ")",
					c->replicas);
		}
	}
}

/* ---- V7: startsAfter entries ------------------------------------------ */

static void check_starts_after_entry(const pol_pcs *pcs, const pol_clique *c,
				     const json_t *entry, const char *field,
				     const json_t *list, size_t k,
				     pol_verdict *v)
{
	const char *name = json_string_value(entry);
	size_t j = 0;

	if (!name)
		return; /* a type error, reported by the model */
	if (!name[0]) {
		pol_verdict_add(v, POL_FE_INVALID, field, json_string(name),
				"must not be empty");
		return;
	}
	if (c->name && strcmp(name, c->name) == 0) {
		pol_verdict_add(v, POL_FE_INVALID, field, json_string(name),
				"a clique cannot start after itself");
		return;
	}
	for (j = 0; j < k; j++) {
		if (json_equal(json_array_get(list, j), (json_t *)entry)) {
			pol_verdict_add(v, POL_FE_DUPLICATE, field,
					json_string(name), NULL);
			return;
		}
	}
	if (pol_pcs_find_clique(pcs, name) == SIZE_MAX) {
		const char **names = calloc(pcs->n_cliques + 1, sizeof(*names));
		const char *near = NULL;

		if (names) {
			for (j = 0; j < pcs->n_cliques; j++)
				names[j] = pcs->cliques[j].name
						   ? pcs->cliques[j].name
						   : "";
			near = pol_did_you_mean(name, names);
		}
		if (near)
			pol_verdict_add(v, POL_FE_NOT_FOUND, field,
					json_string(name),
					"no clique of this PodCliqueSet has "
					"that name; did you mean \"%s\"?",
					near);
		else
			pol_verdict_add(v, POL_FE_NOT_FOUND, field,
					json_string(name),
					"no clique of this PodCliqueSet has "
					"that name");
		free(names);
	}
}

static bool starts_after_in_force(const pol_pcs *pcs)
{
	return pcs->form == POL_FORM_COMPACT ||
	       pcs->startup == POL_STARTUP_EXPLICIT;
}

static void check_starts_after(const pol_pcs *pcs, pol_verdict *v)
{
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
		if (json_is_string(c->starts_after)) {
			pol_path(field, "%s.startsAfter", c->spec_path);
			check_starts_after_entry(pcs, c, c->starts_after, field,
						 NULL, 0, v);
			continue;
		}
		json_array_foreach(c->starts_after, k, el)
		{
			pol_path(field, "%s.startsAfter[%zu]", c->spec_path, k);
			check_starts_after_entry(pcs, c, el, field,
						 c->starts_after, k, v);
		}
	}
}

/* ---- V9, V10: scaling groups ------------------------------------------ */

static void check_groups(const pol_pcs *pcs, pol_verdict *v)
{
	char field[POL_PATH_MAX];
	size_t i = 0;
	size_t j = 0;
	size_t k = 0;

	for (i = 0; i < pcs->n_groups; i++) {
		const pol_group *g = &pcs->groups[i];
		const json_t *ratio = json_object_get(g->node, "replicas");

		for (j = 0; j < i && g->name; j++) {
			if (pcs->groups[j].name &&
			    strcmp(pcs->groups[j].name, g->name) == 0) {
				pol_path(field, "%s.name", g->path);
				pol_verdict_add(v, POL_FE_DUPLICATE, field,
						json_string(g->name), NULL);
				break;
			}
		}
		if (!g->clique_names || g->n_cliques == 0) {
			if (!json_object_get(g->node, pcs->form == POL_FORM_COMPACT
								? "cliques"
								: "cliqueNames") ||
			    g->clique_names)
				pol_verdict_add(v, POL_FE_REQUIRED,
						g->cliques_path, NULL,
						"a scaling group needs at "
						"least one clique");
		}
		for (k = 0; k < g->n_cliques; k++) {
			const char *name =
				json_string_value(json_array_get(g->clique_names, k));
			size_t ci = g->cliques[k];

			if (!name)
				continue;
			pol_path(field, "%s[%zu]", g->cliques_path, k);
			for (j = 0; j < k; j++) {
				if (json_equal(json_array_get(g->clique_names, j),
					       json_array_get(g->clique_names, k)))
					break;
			}
			if (j < k) {
				pol_verdict_add(v, POL_FE_DUPLICATE, field,
						json_string(name), NULL);
				continue;
			}
			if (ci == SIZE_MAX) {
				pol_verdict_add(v, POL_FE_NOT_FOUND, field,
						json_string(name),
						"no clique of this "
						"PodCliqueSet has that name");
				continue;
			}
			if (pcs->cliques[ci].group != (int)i) {
				const pol_group *o =
					&pcs->groups[pcs->cliques[ci].group];

				pol_verdict_add(v, POL_FE_INVALID, field,
						json_string(name),
						"clique is already in scaling "
						"group \"%s\" (%s); a clique "
						"can be in one group only",
						o->name ? o->name : "", o->path);
			}
		}
		if (pcs->form != POL_FORM_COMPACT || !json_is_array(ratio))
			continue;
		/* V10: one positive entry per clique */
		if (json_array_size(ratio) != g->n_cliques) {
			pol_path(field, "%s.replicas", g->path);
			pol_verdict_add(v, POL_FE_INVALID, field,
					json_deep_copy(ratio),
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
					json_deep_copy(r),
					"must be greater than 0");
		}
	}
}

/* ---- V12: compact scaling --------------------------------------------- */

static void check_scaling(const pol_pcs *pcs, pol_verdict *v)
{
	const json_t *scaling = json_object_get(json_object_get(pcs->doc,
								 "spec"),
						 "scaling");
	bool min_set = json_is_integer(json_object_get(scaling, "minReplicas"));
	bool max_set = json_is_integer(json_object_get(scaling, "maxReplicas"));
	bool min_ok = pcs->min_replicas >= 1;
	bool max_ok = true;

	if (pcs->form == POL_FORM_TEMPLATE) {
		if (pcs->replicas_set && pcs->replicas < 0)
			pol_verdict_add(v, POL_FE_INVALID, "spec.replicas",
					json_integer(pcs->replicas),
					"must not be negative");
		return;
	}
	if (min_set && !min_ok)
		pol_verdict_add(v, POL_FE_INVALID, "spec.scaling.minReplicas",
				json_integer(pcs->min_replicas),
				"must be at least 1");
	if (max_set && min_ok && pcs->max_replicas < pcs->min_replicas) {
		max_ok = false;
		pol_verdict_add(v, POL_FE_INVALID, "spec.scaling.maxReplicas",
				json_integer(pcs->max_replicas),
				"must be at least spec.scaling.minReplicas "
				"(%" PRId64 ")",
				pcs->min_replicas);
	}
	if (!pcs->replicas_set)
		return;
	if (pcs->replicas < 1) {
		pol_verdict_add(v, POL_FE_INVALID, "spec.replicas",
				json_integer(pcs->replicas),
				"must be at least 1");
		return;
	}
	if (!min_ok || !max_ok || !pcs->scaling_set)
		return;
	if (pcs->replicas < pcs->min_replicas ||
	    pcs->replicas > pcs->max_replicas)
		pol_verdict_add(v, POL_FE_INVALID, "spec.replicas",
				json_integer(pcs->replicas),
				"must be within [%" PRId64 ", %" PRId64
				"] (spec.scaling.minReplicas, "
				"spec.scaling.maxReplicas)",
				pcs->min_replicas, pcs->max_replicas);
}

/* ---- V13: template groups and autoscaling ----------------------------- */

/* minReplicas/maxReplicas of an autoscaling or scale config. */
static void check_scale_bounds(const json_t *cfg, const char *path,
			       int64_t min_available, bool min_available_ok,
			       const char *min_available_field,
			       pol_verdict *v)
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
					json_integer(min), "must be at least 1");
		else if (min_available_ok && min < min_available)
			pol_verdict_add(v, POL_FE_INVALID, field,
					json_integer(min),
					"must be at least %s (%" PRId64 ")",
					min_available_field, min_available);
		else
			min_ok = true;
	} else if (json_object_get(cfg, "minReplicas")) {
		pol_path(field, "%s.minReplicas", path);
		pol_verdict_add(v, POL_FE_INVALID, field,
				json_deep_copy(json_object_get(cfg, "minReplicas")),
				"must be an integer");
	}
	pol_path(field, "%s.maxReplicas", path);
	if (!json_object_get(cfg, "maxReplicas")) {
		pol_verdict_add(v, POL_FE_REQUIRED, field, NULL, NULL);
	} else if (!pol_get_int(cfg, "maxReplicas", &max)) {
		pol_verdict_add(v, POL_FE_INVALID, field,
				json_deep_copy(json_object_get(cfg, "maxReplicas")),
				"must be an integer");
	} else if (min_ok && max < min) {
		pol_verdict_add(v, POL_FE_INVALID, field, json_integer(max),
				"must be at least minReplicas (%" PRId64 ")",
				min);
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
					json_integer(g->replicas),
					"must be greater than 0");
		}
		ma_ok = replicas_ok && g->min_available >= 1 &&
			g->min_available <= g->replicas;
		pol_path(mafield, "%s.minAvailable", g->path);
		if (g->min_available_set && replicas_ok && !ma_ok)
			pol_verdict_add(v, POL_FE_INVALID, mafield,
					json_integer(g->min_available),
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
			pol_verdict_add(v, POL_FE_FORBIDDEN, path, NULL,
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
		check_scale_bounds(c->autoscaling, path, c->min_available, ma_ok,
				   mafield, v);
	}
}

/* ---- V15, V16, V18: pod contents -------------------------------------- */

static bool claim_named(const json_t *claims, const char *name)
{
	size_t k = 0;
	const json_t *cl = NULL;

	json_array_foreach(claims, k, cl)
	{
		const char *n = pol_get_str(cl, "name");

		if (n && strcmp(n, name) == 0)
			return true;
	}
	return false;
}

static void check_env(const json_t *ctr, const char *cpath, pol_verdict *v)
{
	const json_t *env = json_object_get(ctr, "env");
	const json_t *e = NULL;
	char field[POL_PATH_MAX];
	char msg[POL_MSG_MAX];
	size_t k = 0;
	size_t j = 0;

	json_array_foreach(env, k, e)
	{
		const json_t *nm = json_object_get(e, "name");
		const char *name = json_string_value(nm);

		pol_path(field, "%s.env[%zu].name", cpath, k);
		if (!nm || (name && !name[0])) {
			pol_verdict_add(v, POL_FE_REQUIRED, field, NULL, NULL);
			continue;
		}
		if (!name) {
			pol_verdict_add(v, POL_FE_INVALID, field,
					json_deep_copy(nm), "must be a string");
			continue;
		}
		if (!pol_check_env_name(name, msg, sizeof(msg))) {
			pol_verdict_add(v, POL_FE_INVALID, field,
					json_string(name), "%s", msg);
			continue;
		}
		for (j = 0; j < k; j++) {
			const char *o = pol_get_str(json_array_get(env, j), "name");

			if (o && strcmp(o, name) == 0) {
				pol_verdict_add(v, POL_FE_DUPLICATE, field,
						json_string(name), NULL);
				break;
			}
		}
	}
}

/* Container names must be unique across containers and initContainers. */
static bool container_name_seen(const json_t *pod, const char *list,
				size_t upto, const char *name)
{
	static const char *const lists[] = { "initContainers", "containers" };
	size_t l = 0;
	size_t k = 0;
	const json_t *ctr = NULL;

	for (l = 0; l < 2; l++) {
		json_array_foreach(json_object_get(pod, lists[l]), k, ctr)
		{
			const char *n = NULL;

			if (strcmp(lists[l], list) == 0 && k >= upto)
				return false;
			n = pol_get_str(ctr, "name");
			if (n && strcmp(n, name) == 0)
				return true;
		}
		if (strcmp(lists[l], list) == 0)
			return false;
	}
	return false;
}

static void check_container_list(const pol_clique *c, const char *list,
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
		const json_t *claims = json_object_get(
			json_object_get(ctr, "resources"), "claims");
		const json_t *cl = NULL;

		pol_path(cpath, "%s.%s[%zu]", c->pod_path, list, j);
		if (!json_is_object(ctr)) {
			pol_verdict_add(v, POL_FE_INVALID, cpath,
					json_deep_copy(ctr), "must be an object");
			continue;
		}
		pol_path(field, "%s.name", cpath);
		if (!nm || (name && !name[0]))
			pol_verdict_add(v, POL_FE_REQUIRED, field, NULL, NULL);
		else if (!name)
			pol_verdict_add(v, POL_FE_INVALID, field,
					json_deep_copy(nm), "must be a string");
		else if (container_name_seen(c->pod, list, j, name))
			pol_verdict_add(v, POL_FE_DUPLICATE, field,
					json_string(name), NULL);
		else
			check_label(v, field, name);
		pol_path(field, "%s.image", cpath);
		if (!img || (json_is_string(img) && !json_string_value(img)[0]))
			pol_verdict_add(v, POL_FE_REQUIRED, field, NULL, NULL);
		else if (!json_is_string(img))
			pol_verdict_add(v, POL_FE_INVALID, field,
					json_deep_copy(img), "must be a string");
		check_env(ctr, cpath, v);
		/* V15: a container's claims name the clique's claims */
		json_array_foreach(claims, k, cl)
		{
			const char *cn = pol_get_str(cl, "name");

			pol_path(field, "%s.resources.claims[%zu].name", cpath,
				 k);
			if (!cn || !cn[0])
				pol_verdict_add(v, POL_FE_REQUIRED, field, NULL,
						NULL);
			else if (!claim_named(c->claims, cn))
				pol_verdict_add(v, POL_FE_NOT_FOUND, field,
						json_string(cn),
						"the clique has no resource "
						"claim of that name (%s.%s)",
						c->pod_path, "resourceClaims");
		}
	}
}

static void check_pods(const pol_pcs *pcs, bool create, pol_verdict *v)
{
	char field[POL_PATH_MAX];
	size_t i = 0;

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
				pol_verdict_add(v, POL_FE_REQUIRED, c->spec_path,
						NULL, NULL);
			continue;
		}
		pol_path(field, "%s.containers", c->pod_path);
		if (!json_is_array(ctrs) || json_array_size(ctrs) == 0) {
			if (!ctrs || json_is_array(ctrs))
				pol_verdict_add(v, POL_FE_REQUIRED, field, NULL,
						"at least one container is "
						"needed");
		}
		check_container_list(c, "initContainers", v);
		check_container_list(c, "containers", v);
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

static bool own_claim_template(const pol_pcs *pcs, const char *name)
{
	size_t k = 0;
	const json_t *t = NULL;

	json_array_foreach(pcs->claim_templates, k, t)
	{
		const char *n = pol_get_str(t, "name");

		if (n && strcmp(n, name) == 0)
			return true;
	}
	return false;
}

static pol_lookup_result lookup_claim(const pol_options *o, const char *ns,
				      const char *name, char *why,
				      size_t size)
{
	if (!o->lookup || !o->lookup->claim_template) {
		snprintf(why, size, "no cluster to check against");
		return POL_LOOKUP_UNKNOWN;
	}
	return o->lookup->claim_template(o->lookup->ctx, ns, name, why, size);
}

static void check_claims(const pol_pcs *pcs, const pol_options *o,
			 const char *ns, pol_verdict *v)
{
	char field[POL_PATH_MAX];
	char why[POL_MSG_MAX];
	size_t i = 0;
	size_t k = 0;
	size_t j = 0;
	const json_t *cl = NULL;

	for (i = 0; i < pcs->n_cliques; i++) {
		const pol_clique *c = &pcs->cliques[i];
		pol_buf names;
		size_t distinct = 0;
		const char *first = NULL;

		pol_buf_init(&names, 4096);
		json_array_foreach(c->claims, k, cl)
		{
			const char *name = pol_get_str(cl, "name");
			const char *tpl = pol_get_str(cl,
						      "resourceClaimTemplateName");
			char cpath[POL_PATH_MAX];

			pol_path(cpath, "%s.resourceClaims[%zu]", c->pod_path, k);
			if (!json_is_object(cl)) {
				pol_verdict_add(v, POL_FE_INVALID, cpath,
						json_deep_copy(cl),
						"must be an object");
				continue;
			}
			pol_path(field, "%s.name", cpath);
			if (!name || !name[0]) {
				pol_verdict_add(v, POL_FE_REQUIRED, field, NULL,
						NULL);
			} else {
				for (j = 0; j < k; j++) {
					const char *o2 = pol_get_str(
						json_array_get(c->claims, j),
						"name");

					if (o2 && strcmp(o2, name) == 0) {
						pol_verdict_add(
							v, POL_FE_DUPLICATE,
							field,
							json_string(name),
							NULL);
						break;
					}
				}
			}
			pol_path(field, "%s.resourceClaimTemplateName", cpath);
			if (!tpl) {
				if (!json_object_get(cl, "resourceClaimName"))
					pol_verdict_add(
						v, POL_FE_REQUIRED, field, NULL,
						"a claim names a "
						"ResourceClaimTemplate (or an "
						"existing resourceClaimName)");
				continue;
			}
			/* the ambiguity warning lists distinct templates */
			if (!first || strcmp(first, tpl) != 0) {
				bool seen = false;

				for (j = 0; j < k; j++) {
					const char *o2 = pol_get_str(
						json_array_get(c->claims, j),
						"resourceClaimTemplateName");

					if (o2 && strcmp(o2, tpl) == 0)
						seen = true;
				}
				if (!seen) {
					pol_buf_printf(&names, "%s%s",
						       distinct ? ", " : "", tpl);
					distinct++;
					first = first ? first : tpl;
				}
			}
			if (own_claim_template(pcs, tpl))
				continue;
			switch (lookup_claim(o, ns, tpl, why, sizeof(why))) {
			case POL_LOOKUP_FOUND:
				break;
			case POL_LOOKUP_MISSING:
				pol_verdict_add(v, POL_FE_NOT_FOUND, field,
						json_string(tpl),
						"no ResourceClaimTemplate "
						"\"%s\" in namespace \"%s\"; "
						"create the template first",
						tpl, ns);
				break;
			default:
				pol_verdict_warn(v,
						 "%s: ResourceClaimTemplate "
						 "\"%s/%s\" was not checked: %s",
						 field, ns, tpl, why);
			}
		}
		if (distinct > 1 && !names.failed)
			pol_verdict_warn(v,
					 "%s.resourceClaims: claims name more "
					 "than one ResourceClaimTemplate (%s); "
					 "DRA binding is ambiguous",
					 c->pod_path, names.s);
		pol_buf_release(&names);
	}
}

/* ---- V17: one scheduler ----------------------------------------------- */

static void check_scheduler(const pol_pcs *pcs, const pol_options *o,
			    pol_verdict *v)
{
	const char *def = o->default_scheduler ? o->default_scheduler
					       : POL_DEFAULT_SCHEDULER;
	const char *want = NULL;
	const pol_clique *ref = NULL;
	char field[POL_PATH_MAX];
	size_t i = 0;

	for (i = 0; i < pcs->n_cliques; i++) {
		const pol_clique *c = &pcs->cliques[i];
		const char *s = pol_get_str(c->pod, "schedulerName");

		if (!c->pod)
			continue;
		if (!s || !s[0])
			s = def;
		if (!want) {
			want = s;
			ref = c;
			continue;
		}
		if (strcmp(s, want) == 0)
			continue;
		pol_path(field, "%s.schedulerName", c->pod_path);
		pol_verdict_add(v, POL_FE_INVALID, field, json_string(s),
				"all cliques must use one scheduler for gang "
				"scheduling; %s uses \"%s\"",
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
				json_string(pcs->startup_written),
				"supported values: "
				"\"CliqueStartupTypeAnyOrder\", "
				"\"CliqueStartupTypeInOrder\", "
				"\"CliqueStartupTypeExplicit\"");
	if (!pcs->termination_delay)
		return;
	if (!pol_parse_duration(pcs->termination_delay, &secs))
		pol_verdict_add(v, POL_FE_INVALID,
				"spec.template.terminationDelay",
				json_string(pcs->termination_delay),
				"must be a duration such as \"4h\" or \"30m\"");
	else if (secs <= 0)
		pol_verdict_add(v, POL_FE_INVALID,
				"spec.template.terminationDelay",
				json_string(pcs->termination_delay),
				"must be greater than 0");
}

/* ---- the whole check -------------------------------------------------- */

int pol_validate_pcs(const json_t *obj, const json_t *old,
		     const pol_options *opts, pol_verdict *v)
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
	ns = pcs.namespace ? pcs.namespace
			   : (o->default_namespace ? o->default_namespace
						   : "default");
	/* V2 */
	if (pcs.form == POL_FORM_TEMPLATE && !pcs.clique_list &&
	    !json_is_object(json_object_get(json_object_get(obj, "spec"),
					    "template")))
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
	rc = pol_check_topology(&pcs, o, v);
	if (rc != GV_OK)
		goto out;
	if (old) {
		pol_verdict scratch = POL_VERDICT_INIT;

		/* the old object's own problems are not this request's */
		have_prev = pol_pcs_build(old, &prev, &scratch) == GV_OK;
		pol_verdict_release(&scratch);
		if (have_prev)
			pol_check_update(&pcs, &prev, v);
	}
out:
	if (have_prev)
		pol_pcs_release(&prev);
	pol_pcs_release(&pcs);
	if (rc == GV_OK && v->oom)
		rc = GV_ENOMEM;
	if (rc == GV_OK)
		pol_verdict_sort(v, obj);
	return rc;
}

int pol_review_pcs(const json_t *obj, const json_t *old,
		   const pol_options *opts, pol_verdict *v,
		   json_t **defaulted_out)
{
	json_t *patch = NULL;
	json_t *defaulted = NULL;
	gv_error_t err = GV_ERROR_INIT;
	int rc = GV_OK;

	rc = pol_defaults_pcs(obj, &patch, &err);
	if (rc != GV_OK)
		goto out;
	rc = pol_patch_apply(obj, patch, &defaulted, &err);
	if (rc != GV_OK)
		goto out;
	rc = pol_validate_pcs(defaulted, old, opts, v);
	if (rc != GV_OK)
		goto out;
	if (defaulted_out) {
		*defaulted_out = defaulted;
		defaulted = NULL;
	}
out:
	json_decref(patch);
	json_decref(defaulted);
	return rc;
}
