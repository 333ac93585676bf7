/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pol_update.c: U1..U3, what an UPDATE of a PodCliqueSet may not change.
 *
 * Cliques and groups are matched by name. What may change is listed in
 * docs/api.md section 4.1: replicas, scaling.maxReplicas, images, args, env,
 * resources, labels, annotations, priorityClassName, terminationDelay.
 */
#include <inttypes.h>
#include <stdint.h>

#include "pol_validate_int.h"

#define IMMUTABLE "field is immutable"

/* The element names of one kind (cliques or groups) of one object, with
 * an index for constant-time lookups. */
typedef struct name_list {
	const char **names;
	size_t n;
	json_t *index; /* name -> position */
} name_list;

/* A list of names in a message shows this much, then "and N more"; one
 * name shows at most NAME_SHOWN_MAX bytes. Together they keep a list well
 * within LIST_MAX, so a long list is cut, never a failure. */
#define LIST_SHOWN_MAX 2048
#define NAME_SHOWN_MAX 253
#define LIST_MAX 8192

/* Appends name quoted, cut after NAME_SHOWN_MAX bytes with "...". */
static void quote_name(gv_buf *buf, const char *name)
{
	char cut[NAME_SHOWN_MAX + 1];
	size_t n = strlen(name);

	if (n <= NAME_SHOWN_MAX) {
		pol_print_quote(buf, name);
		return;
	}
	n = gv_utf8_cut(name, NAME_SHOWN_MAX);
	memcpy(cut, name, n);
	cut[n] = '\0';
	pol_print_quote(buf, cut);
	gv_buf_addstr(buf, "...");
}

/* Lists the names of a missing from b into buf ("x", "y" and 3 more). */
static size_t missing_names(const name_list *a, const name_list *b, gv_buf *buf)
{
	size_t i = 0;
	size_t n = 0;
	size_t shown = 0;

	for (i = 0; i < a->n; i++) {
		if (!a->names[i] || json_object_get(b->index, a->names[i]))
			continue;
		if (buf->len < LIST_SHOWN_MAX) {
			gv_buf_addstr(buf, n ? ", " : "");
			quote_name(buf, a->names[i]);
			shown++;
		}
		n++;
	}
	if (shown < n)
		gv_buf_printf(buf, " and %zu more", n - shown);
	return n;
}

/* U1 for one kind of element: one error on the list when names differ. */
static void check_same_names(const char *path, const char *what,
			     const name_list *cur, const name_list *old,
			     pol_verdict *v)
{
	gv_buf added;
	gv_buf removed;
	size_t na = 0;
	size_t nr = 0;

	gv_buf_init(&added, LIST_MAX);
	gv_buf_init(&removed, LIST_MAX);
	na = missing_names(cur, old, &added);
	nr = missing_names(old, cur, &removed);
	if ((added.failed && !added.toobig) ||
	    (removed.failed && !removed.toobig))
		v->oom = true; /* the lists are cut to fit: only a realloc */
	else if (na || nr)
		pol_verdict_add(v, POL_FE_FORBIDDEN, path, NULL,
				"%s cannot be added, removed or renamed on "
				"update (%s%s%s%s%s)",
				what, na ? "added " : "",
				na && added.s ? added.s : "",
				na && nr ? "; " : "", nr ? "removed " : "",
				nr && removed.s ? removed.s : "");
	gv_buf_release(&added);
	gv_buf_release(&removed);
}

/* Entry k of startsAfter as written, a scalar read as a one-entry list. */
static const json_t *starts_after_entry(const json_t *sa, size_t k)
{
	if (json_is_string(sa))
		return k == 0 ? sa : NULL;
	return json_array_get(sa, k);
}

static size_t starts_after_size(const json_t *sa)
{
	return json_is_string(sa) ? 1 : json_array_size(sa);
}

static bool same_starts_after(const json_t *a, const json_t *b)
{
	size_t n = starts_after_size(a);
	size_t k = 0;

	if (n != starts_after_size(b))
		return false;
	for (k = 0; k < n; k++) {
		if (!json_equal(starts_after_entry(a, k),
				starts_after_entry(b, k)))
			return false;
	}
	return true;
}

/* json_equal where absent, null and an empty list or object agree. */
static bool same_json(const json_t *a, const json_t *b)
{
	bool ea = !a || json_is_null(a) ||
		  (json_is_array(a) && !json_array_size(a)) ||
		  (json_is_object(a) && !json_object_size(a));
	bool eb = !b || json_is_null(b) ||
		  (json_is_array(b) && !json_array_size(b)) ||
		  (json_is_object(b) && !json_object_size(b));

	if (ea || eb)
		return ea == eb;
	return json_equal((json_t *)a, (json_t *)b);
}

/* Equal strings, with NULL or "" read as dflt. */
static bool same_str(const char *a, const char *b, const char *dflt)
{
	if (!a || !a[0])
		a = dflt;
	if (!b || !b[0])
		b = dflt;
	return strcmp(a, b) == 0;
}

/* What one UPDATE check needs besides the two models. */
typedef struct update_ctx {
	const char *scheduler; /* the default scheduler */
	const json_t *defaulted; /* fields only the defaults wrote, or NULL */
	pol_verdict *v;
} update_ctx;

/* Reports base.leaf as changed; value is stolen (NULL: the field is
 * absent in the new object, printed as null). */
static void immutable(const update_ctx *u, const char *base, const char *leaf,
		      json_t *value)
{
	char field[POL_PATH_MAX];

	pol_path(field, "%s%s%s", base, leaf[0] ? "." : "", leaf);
	if (json_object_get(u->defaulted, field)) {
		json_decref(value);
		return;
	}
	pol_verdict_add(u->v, POL_FE_INVALID, field, value, IMMUTABLE);
}

/* U2: what an UPDATE may not change in a clique. */
static void check_clique(const pol_pcs *cur, const pol_clique *c,
			 const pol_clique *o, const update_ctx *u)
{
	if (!same_starts_after(c->starts_after, o->starts_after))
		immutable(u, c->spec_path, "startsAfter",
			  pol_verdict_copy(u->v, c->starts_after));
	if (cur->form == POL_FORM_TEMPLATE &&
	    !same_str(c->role_name, o->role_name, ""))
		immutable(u, c->spec_path, "roleName",
			  pol_verdict_str(u->v, c->role_name));
	/* unwritten, minAvailable follows replicas (a default the mutating
	 * webhook could not write when replicas is invalid): a change of
	 * its source is not a change of it */
	if (c->min_available_set && c->min_available != o->min_available)
		immutable(u, c->spec_path, "minAvailable",
			  pol_verdict_int(u->v, c->min_available));
	if (!same_str(pol_get_str(c->pod, "schedulerName"),
		      pol_get_str(o->pod, "schedulerName"), u->scheduler))
		immutable(u, c->pod_path, "schedulerName",
			  pol_verdict_copy(
			      u->v, json_object_get(c->pod, "schedulerName")));
	if (!same_json(c->claims, o->claims))
		immutable(u, c->pod_path, "resourceClaims",
			  pol_verdict_copy(u->v, c->claims));
	if (!same_json(c->topology, o->topology))
		immutable(u, c->path, "topologyConstraint",
			  pol_verdict_copy(u->v, c->topology));
}

/* Appends the ratio of group g as written (its replicas member), else
 * as in force (the replicas of its cliques), as compact JSON cut with
 * "..." past LIST_SHOWN_MAX. False only when out of memory. */
static bool ratio_into(gv_buf *b, const pol_group *g)
{
	const json_t *written = json_object_get(g->node, "replicas");
	gv_buf vb;
	size_t k = 0;
	bool ok = true;

	gv_buf_init(&vb, LIST_SHOWN_MAX);
	if (written) {
		pol_print_value(&vb, written);
	} else {
		gv_buf_addstr(&vb, "[");
		for (k = 0; k < g->n_cliques; k++)
			gv_buf_printf(&vb, "%s%" PRId64, k ? "," : "",
				      g->ratio[k]);
		gv_buf_addstr(&vb, "]");
	}
	/* too big: what fit, then "..." */
	ok = gv_buf_add_cut(b, &vb, "...") != GV_ENOMEM;
	gv_buf_release(&vb);
	return ok;
}

/* The ratio in force of g as a new JSON array, or NULL (v->oom). */
static json_t *ratio_json(const pol_group *g, pol_verdict *v)
{
	json_t *a = json_array();
	size_t k = 0;

	for (k = 0; a && k < g->n_cliques; k++) {
		if (json_array_append_new(a, json_integer(g->ratio[k])) != 0) {
			json_decref(a);
			a = NULL;
		}
	}
	if (!a)
		v->oom = true;
	return a;
}

/*
 * U2 for the ratio of a compact group (g new, o old), which changed. The
 * error is on the group's replicas and always says the ratio it is fixed
 * at, since the user may not have written it:
 * - written: Invalid value, the new ratio as written;
 * - not written, but written before: Required value (the field cannot go);
 * - written in neither: the ratio is the cliques' replicas, one of which
 *   changed: Invalid value, the ratio now in force.
 */
static void check_ratio(const pol_group *g, const pol_group *o, pol_verdict *v)
{
	const json_t *written = json_object_get(g->node, "replicas");
	bool was_written = json_object_get(o->node, "replicas") != NULL;
	char field[POL_PATH_MAX];
	gv_buf was;

	pol_path(field, "%s.replicas", g->path);
	gv_buf_init(&was, LIST_MAX);
	if (!ratio_into(&was, o) || was.failed) {
		v->oom = true;
	} else if (written) {
		pol_verdict_add(v, POL_FE_INVALID, field,
				pol_verdict_copy(v, written),
				IMMUTABLE ": the ratio of a scaling group is "
					  "fixed");
	} else if (was_written) {
		pol_verdict_add(v, POL_FE_REQUIRED, field, NULL,
				IMMUTABLE ": the ratio of a scaling group is "
					  "fixed at %s",
				was.s);
	} else {
		pol_verdict_add(v, POL_FE_INVALID, field, ratio_json(g, v),
				IMMUTABLE ": the ratio of a scaling group is "
					  "fixed at %s; unwritten, it is the "
					  "replicas of the group's cliques",
				was.s);
	}
	gv_buf_release(&was);
}

/* U2: what an UPDATE may not change in a scaling group. */
static void check_group(const pol_pcs *cur, const pol_group *g,
			const pol_group *o, const update_ctx *u)
{
	pol_verdict *v = u->v;
	size_t k = 0;
	bool same = g->n_cliques == o->n_cliques;

	if (!same_json(g->clique_names, o->clique_names))
		immutable(u, g->cliques_path, "",
			  pol_verdict_copy(v, g->clique_names));
	for (k = 0; same && k < g->n_cliques; k++)
		same = g->ratio[k] == o->ratio[k];
	if (cur->form == POL_FORM_COMPACT && !same &&
	    same_json(g->clique_names, o->clique_names))
		check_ratio(g, o, v);
	if (cur->form == POL_FORM_TEMPLATE &&
	    g->min_available != o->min_available)
		immutable(u, g->path, "minAvailable",
			  pol_verdict_int(v, g->min_available));
	if (!same_json(g->topology, o->topology))
		immutable(u, g->path, "topologyConstraint",
			  pol_verdict_copy(v, g->topology));
}

/* Whether clique i of p takes part in the order U3 compares with other:
 * its name is in other, and i is the first clique of that name in p
 * (cliques are matched by name; V5 reports a name used twice). */
static bool in_order(const pol_pcs *p, size_t i, const pol_pcs *other)
{
	const char *name = p->cliques[i].name;

	return pol_pcs_find_clique(other, name) != SIZE_MAX &&
	       pol_pcs_find_clique(p, name) == i;
}

/* U3: under InOrder or Explicit startup the clique order is the meaning. */
static void check_order(const pol_pcs *cur, const pol_pcs *old, pol_verdict *v)
{
	size_t i = 0;
	size_t j = 0;

	if (cur->startup != POL_STARTUP_IN_ORDER &&
	    cur->startup != POL_STARTUP_EXPLICIT)
		return;
	for (;;) {
		while (i < cur->n_cliques && !in_order(cur, i, old))
			i++;
		while (j < old->n_cliques && !in_order(old, j, cur))
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

/* Fills l with the clique (groups false) or group names of p. */
static void names_of(const pol_pcs *p, bool groups, name_list *l,
		     pol_verdict *v)
{
	size_t i = 0;

	l->n = groups ? p->n_groups : p->n_cliques;
	l->names = calloc(l->n + 1, sizeof(*l->names));
	l->index = json_object();
	if (!l->names || !l->index) {
		v->oom = true;
		l->n = 0;
		return;
	}
	for (i = 0; i < l->n; i++) {
		l->names[i] = groups ? p->groups[i].name : p->cliques[i].name;
		if (l->names[i])
			(void)pol_seen(l->index, l->names[i], i, NULL, v);
	}
}

static void names_release(name_list *l)
{
	free(l->names);
	json_decref(l->index);
}

void pol_check_update(const pol_pcs *cur, const pol_pcs *old,
		      const char *default_scheduler, const json_t *defaulted,
		      pol_verdict *v)
{
	update_ctx u = { default_scheduler, defaulted, v };
	name_list cn = { NULL, 0, NULL };
	name_list on = { NULL, 0, NULL };
	name_list cg = { NULL, 0, NULL };
	name_list og = { NULL, 0, NULL };
	size_t i = 0;
	size_t j = 0;

	if (cur->form != old->form) {
		pol_verdict_add(v, POL_FE_FORBIDDEN, "spec", NULL,
				"the form of a PodCliqueSet (compact or "
				"template) cannot change on update");
		return;
	}
	names_of(cur, false, &cn, v);
	names_of(old, false, &on, v);
	names_of(cur, true, &cg, v);
	names_of(old, true, &og, v);
	check_same_names(cur->cliques_path, "cliques", &cn, &on, v);
	check_same_names(cur->groups_path, "scaling groups", &cg, &og, v);
	for (i = 0; i < cur->n_cliques; i++) {
		j = pol_pcs_find_clique(old, cur->cliques[i].name);
		if (j != SIZE_MAX)
			check_clique(cur, &cur->cliques[i], &old->cliques[j],
				     &u);
	}
	for (i = 0; i < cg.n; i++) {
		const json_t *at =
		    cg.names[i] ? json_object_get(og.index, cg.names[i]) : NULL;

		if (at)
			check_group(cur, &cur->groups[i],
				    &old->groups[json_integer_value(at)], &u);
	}
	if (cur->form == POL_FORM_TEMPLATE && cur->startup != old->startup)
		pol_verdict_add(
		    v, POL_FE_INVALID, "spec.template.cliqueStartupType",
		    pol_verdict_str(v, cur->startup_written), IMMUTABLE);
	if (cur->form == POL_FORM_COMPACT &&
	    cur->min_replicas != old->min_replicas)
		pol_verdict_add(v, POL_FE_INVALID, "spec.scaling.minReplicas",
				pol_verdict_int(v, cur->min_replicas),
				IMMUTABLE);
	if (!same_json(cur->topology, old->topology))
		immutable(&u, "spec.template", "topologyConstraint",
			  pol_verdict_copy(v, cur->topology));
	check_order(cur, old, v);
	names_release(&cn);
	names_release(&on);
	names_release(&cg);
	names_release(&og);
}
