/*
 * pol_update.c: U1..U3, what an UPDATE of a PodCliqueSet may not change.
 *
 * Cliques and groups are matched by name. What may change is listed in
 * API.md section 4: replicas, scaling.maxReplicas, images, args, env,
 * resources, labels, annotations, priorityClassName, terminationDelay.
 */
#include <stdint.h>

#include "pol_validate_int.h"

#define IMMUTABLE "field is immutable"

/* Lists the names of `a` missing from `b` into buf ("x", "y"). */
static size_t missing_names(const char *const *a, size_t na,
			    const char *const *b, size_t nb, pol_buf *buf)
{
	size_t i = 0;
	size_t j = 0;
	size_t n = 0;

	for (i = 0; i < na; i++) {
		if (!a[i])
			continue;
		for (j = 0; j < nb; j++) {
			if (b[j] && strcmp(a[i], b[j]) == 0)
				break;
		}
		if (j < nb)
			continue;
		pol_buf_puts(buf, n++ ? ", " : "");
		pol_buf_quote(buf, a[i]);
	}
	return n;
}

/* U1 for one kind of element: one error on the list when names differ. */
static void check_same_names(const char *path, const char *what,
			     const char *const *cur, size_t ncur,
			     const char *const *old, size_t nold,
			     pol_verdict *v)
{
	pol_buf added;
	pol_buf removed;
	size_t na = 0;
	size_t nr = 0;

	pol_buf_init(&added, 4096);
	pol_buf_init(&removed, 4096);
	na = missing_names(cur, ncur, old, nold, &added);
	nr = missing_names(old, nold, cur, ncur, &removed);
	if (na || nr)
		pol_verdict_add(v, POL_FE_FORBIDDEN, path, NULL,
				"%s cannot be added, removed or renamed on "
				"update (%s%s%s%s%s)",
				what, na ? "added " : "",
				na && added.s ? added.s : "", na && nr ? "; " : "",
				nr ? "removed " : "",
				nr && removed.s ? removed.s : "");
	pol_buf_release(&added);
	pol_buf_release(&removed);
}

/* startsAfter as written, with a scalar read as a one-entry list. */
static bool same_starts_after(const json_t *a, const json_t *b)
{
	json_t *la = NULL;
	json_t *lb = NULL;
	bool same = false;

	la = json_is_string(a) ? json_pack("[O]", a) : json_incref((json_t *)a);
	lb = json_is_string(b) ? json_pack("[O]", b) : json_incref((json_t *)b);
	if (!la)
		la = json_array();
	if (!lb)
		lb = json_array();
	same = json_equal(la, lb);
	json_decref(la);
	json_decref(lb);
	return same;
}

/* json_equal where absent, null and an empty list or object agree. */
static bool same_json(const json_t *a, const json_t *b)
{
	bool ea = !a || json_is_null(a) || (json_is_array(a) && !json_array_size(a)) ||
		  (json_is_object(a) && !json_object_size(a));
	bool eb = !b || json_is_null(b) || (json_is_array(b) && !json_array_size(b)) ||
		  (json_is_object(b) && !json_object_size(b));

	if (ea || eb)
		return ea == eb;
	return json_equal((json_t *)a, (json_t *)b);
}

static bool same_str(const char *a, const char *b)
{
	if (!a || !a[0] || !b || !b[0])
		return (!a || !a[0]) == (!b || !b[0]);
	return strcmp(a, b) == 0;
}

static void immutable(pol_verdict *v, const char *base, const char *leaf,
		      const json_t *value)
{
	char field[POL_PATH_MAX];

	pol_path(field, "%s%s%s", base, leaf[0] ? "." : "", leaf);
	pol_verdict_add(v, POL_FE_INVALID, field,
			value ? json_deep_copy(value) : json_null(), IMMUTABLE);
}

static void check_clique(const pol_pcs *cur, const pol_clique *c,
			 const pol_clique *o, pol_verdict *v)
{
	if (!same_starts_after(c->starts_after, o->starts_after))
		immutable(v, c->spec_path, "startsAfter", c->starts_after);
	if (cur->form == POL_FORM_TEMPLATE &&
	    !same_str(c->role_name, o->role_name)) {
		json_t *rn = pol_jstr(c->role_name);

		immutable(v, c->spec_path, "roleName", rn);
		json_decref(rn);
	}
	if (c->min_available != o->min_available) {
		json_t *ma = json_integer(c->min_available);

		immutable(v, c->spec_path, "minAvailable", ma);
		json_decref(ma);
	}
	if (!same_str(pol_get_str(c->pod, "schedulerName"),
		      pol_get_str(o->pod, "schedulerName")))
		immutable(v, c->pod_path, "schedulerName",
			  json_object_get(c->pod, "schedulerName"));
	if (!same_json(c->claims, o->claims))
		immutable(v, c->pod_path, "resourceClaims", c->claims);
	if (!same_json(c->topology, o->topology))
		immutable(v, c->path, "topologyConstraint", c->topology);
}

static void check_group(const pol_pcs *cur, const pol_group *g,
			const pol_group *o, pol_verdict *v)
{
	char field[POL_PATH_MAX];
	size_t k = 0;
	bool same = g->n_cliques == o->n_cliques;

	if (!same_json(g->clique_names, o->clique_names))
		immutable(v, g->cliques_path, "", g->clique_names);
	for (k = 0; same && k < g->n_cliques; k++)
		same = g->ratio[k] == o->ratio[k];
	if (cur->form == POL_FORM_COMPACT && !same &&
	    same_json(g->clique_names, o->clique_names)) {
		pol_path(field, "%s.replicas", g->path);
		pol_verdict_add(v, POL_FE_INVALID, field,
				json_deep_copy(json_object_get(g->node,
							       "replicas")),
				IMMUTABLE ": the ratio of a scaling group is "
					  "fixed");
	}
	if (cur->form == POL_FORM_TEMPLATE &&
	    g->min_available != o->min_available) {
		json_t *ma = json_integer(g->min_available);

		immutable(v, g->path, "minAvailable", ma);
		json_decref(ma);
	}
	if (!same_json(g->topology, o->topology))
		immutable(v, g->path, "topologyConstraint", g->topology);
}

/* U3: under InOrder or Explicit startup the clique order is the meaning. */
static void check_order(const pol_pcs *cur, const pol_pcs *old,
			pol_verdict *v)
{
	size_t i = 0;
	size_t j = 0;

	if (cur->startup != POL_STARTUP_IN_ORDER &&
	    cur->startup != POL_STARTUP_EXPLICIT)
		return;
	for (;;) {
		while (i < cur->n_cliques &&
		       pol_pcs_find_clique(old, cur->cliques[i].name) == SIZE_MAX)
			i++;
		while (j < old->n_cliques &&
		       pol_pcs_find_clique(cur, old->cliques[j].name) == SIZE_MAX)
			j++;
		if (i >= cur->n_cliques || j >= old->n_cliques)
			return;
		if (strcmp(cur->cliques[i].name, old->cliques[j].name) != 0)
			break;
		i++;
		j++;
	}
	pol_verdict_add(v, POL_FE_FORBIDDEN, cur->cliques_path, NULL,
			"the order of cliques cannot change under %s startup "
			"(%s moved)",
			cur->startup == POL_STARTUP_IN_ORDER ? "InOrder"
							     : "Explicit",
			cur->cliques[i].name);
}

static const char **clique_names(const pol_pcs *p)
{
	const char **names = calloc(p->n_cliques + 1, sizeof(*names));
	size_t i = 0;

	for (i = 0; names && i < p->n_cliques; i++)
		names[i] = p->cliques[i].name;
	return names;
}

static const char **group_names(const pol_pcs *p)
{
	const char **names = calloc(p->n_groups + 1, sizeof(*names));
	size_t i = 0;

	for (i = 0; names && i < p->n_groups; i++)
		names[i] = p->groups[i].name;
	return names;
}

void pol_check_update(const pol_pcs *cur, const pol_pcs *old, pol_verdict *v)
{
	const char **cn = clique_names(cur);
	const char **on = clique_names(old);
	const char **cg = group_names(cur);
	const char **og = group_names(old);
	size_t i = 0;
	size_t j = 0;

	if (!cn || !on || !cg || !og) {
		v->oom = true;
		goto out;
	}
	if (cur->form != old->form) {
		pol_verdict_add(v, POL_FE_FORBIDDEN, "spec", NULL,
				"the form of a PodCliqueSet (compact or "
				"template) cannot change on update");
		goto out;
	}
	check_same_names(cur->cliques_path, "cliques", cn, cur->n_cliques, on,
			 old->n_cliques, v);
	check_same_names(cur->groups_path, "scaling groups", cg, cur->n_groups,
			 og, old->n_groups, v);
	for (i = 0; i < cur->n_cliques; i++) {
		j = pol_pcs_find_clique(old, cur->cliques[i].name);
		if (j != SIZE_MAX)
			check_clique(cur, &cur->cliques[i], &old->cliques[j], v);
	}
	for (i = 0; i < cur->n_groups; i++) {
		for (j = 0; j < old->n_groups; j++) {
			if (cur->groups[i].name && old->groups[j].name &&
			    strcmp(cur->groups[i].name, old->groups[j].name) == 0)
				break;
		}
		if (j < old->n_groups)
			check_group(cur, &cur->groups[i], &old->groups[j], v);
	}
	if (cur->form == POL_FORM_TEMPLATE && cur->startup != old->startup)
		pol_verdict_add(v, POL_FE_INVALID,
				"spec.template.cliqueStartupType",
				pol_jstr(cur->startup_written), IMMUTABLE);
	if (cur->form == POL_FORM_COMPACT &&
	    cur->min_replicas != old->min_replicas)
		pol_verdict_add(v, POL_FE_INVALID, "spec.scaling.minReplicas",
				json_integer(cur->min_replicas), IMMUTABLE);
	if (!same_json(cur->topology, old->topology))
		immutable(v, "spec.template", "topologyConstraint",
			  cur->topology);
	check_order(cur, old, v);
out:
	free(cn);
	free(on);
	free(cg);
	free(og);
}
