/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pol_topology.c: topology constraints (V20) and ClusterTopologyBinding
 * objects.
 *
 * A constraint is {topologyName, pack: {required, preferred}} or the older
 * {packDomain} that tools such as Dynamo still write; topologyName names
 * the ClusterTopologyBinding. A set uses one binding (docs/api.md section
 * 4, V20): a constraint that names none inherits the name written
 * elsewhere in the set (a set that packs at group or clique level names
 * it once, at template level, say), POL_DEFAULT_TOPOLOGY when the set
 * names none; two different names are an error. The binding is looked up
 * once per set. A
 * binding lists its levels from the broadest (region) to the narrowest
 * (host); "narrower" below means a later level.
 */
#include <stdint.h>

#include "pol_validate_int.h"

#define NO_LEVEL SIZE_MAX

/* A constraint's place in the tree, resolved against its binding. */
typedef struct resolved {
	const char *binding; /* NULL when not checkable */
	size_t required; /* level index, NO_LEVEL when none */
	const char *required_name;
	char path[POL_PATH_MAX]; /* where the required domain was written */
} resolved;

static size_t level_index(const json_t *levels, const char *domain)
{
	size_t i = 0;
	const json_t *l = NULL;

	json_array_foreach(levels, i, l)
	{
		const char *d = pol_get_str(l, "domain");

		if (d && strcmp(d, domain) == 0)
			return i;
	}
	return NO_LEVEL;
}

/* Checks that domain (at path) is a level of the binding. */
static size_t check_domain(const json_t *levels, const char *path,
			   const json_t *domain, pol_verdict *v)
{
	gv_buf supported;
	size_t i = 0;
	size_t idx = NO_LEVEL;
	const json_t *l = NULL;

	if (!domain)
		return NO_LEVEL;
	if (!json_is_string(domain)) {
		pol_verdict_add(v, POL_FE_INVALID, path,
				pol_verdict_copy(v, domain),
				"must be a string");
		return NO_LEVEL;
	}
	idx = level_index(levels, json_string_value(domain));
	if (idx != NO_LEVEL)
		return idx;
	gv_buf_init(&supported, 4096);
	json_array_foreach(levels, i, l)
	{
		if (i)
			gv_buf_addstr(&supported, ", ");
		pol_print_quote(&supported, pol_get_str(l, "domain")
						? pol_get_str(l, "domain")
						: "");
	}
	/* a list past its maximum is cut, not out of memory */
	if (supported.failed && !supported.toobig)
		v->oom = true;
	else
		pol_verdict_add(
		    v, POL_FE_NOT_SUPPORTED, path, pol_verdict_copy(v, domain),
		    "supported values: %.*s%s",
		    supported.s ? (int)gv_utf8_cut(supported.s, supported.len)
				: 4,
		    supported.s ? supported.s : "none",
		    supported.toobig ? "..." : "");
	gv_buf_release(&supported);
	return NO_LEVEL;
}

/* Checks one constraint (tc at path) against the levels of binding name;
 * *r is its result. */
static void check_constraint(const json_t *tc, const char *path,
			     const char *name, const json_t *levels,
			     resolved *r, pol_verdict *v)
{
	const json_t *pack = json_object_get(tc, "pack");
	const json_t *req = json_object_get(pack, "required");
	const json_t *pref = json_object_get(pack, "preferred");
	const json_t *legacy = json_object_get(tc, "packDomain");
	char field[POL_PATH_MAX];
	size_t p = NO_LEVEL;

	r->binding = name;
	r->required = NO_LEVEL;
	r->required_name = NULL;
	if (req) {
		pol_path(r->path, "%s.pack.required", path);
		r->required = check_domain(levels, r->path, req, v);
	}
	if (legacy) {
		pol_path(field, "%s.packDomain", path);
		if (req) {
			pol_verdict_add(v, POL_FE_FORBIDDEN, field, NULL,
					"use pack.required or packDomain, not "
					"both");
		} else {
			pol_path(r->path, "%s", field);
			r->required = check_domain(levels, field, legacy, v);
			req = legacy;
		}
	}
	if (r->required != NO_LEVEL)
		r->required_name = json_string_value(req);
	if (pref) {
		pol_path(field, "%s.pack.preferred", path);
		p = check_domain(levels, field, pref, v);
		if (p != NO_LEVEL && r->required != NO_LEVEL && p < r->required)
			pol_verdict_add(v, POL_FE_INVALID, field,
					pol_verdict_copy(v, pref),
					"must be \"%s\" or narrower, like "
					"pack.required",
					r->required_name);
	}
}

/* A child's required domain may not be broader than its parent's. */
static void check_nesting(const resolved *parent, const char *parent_path,
			  const resolved *child, pol_verdict *v)
{
	if (!parent->binding || !child->binding ||
	    strcmp(parent->binding, child->binding) != 0)
		return;
	if (parent->required == NO_LEVEL || child->required == NO_LEVEL)
		return;
	if (child->required >= parent->required)
		return;
	pol_verdict_add(v, POL_FE_INVALID, child->path,
			pol_verdict_str(v, child->required_name),
			"must be \"%s\" or narrower: %s packs into \"%s\"",
			parent->required_name, parent_path,
			parent->required_name);
}

/* One constraint of the set, in the order its name is inherited: the
 * set's, then each group's, then each clique's. */
typedef struct constraint {
	const json_t *tc;
	char path[POL_PATH_MAX]; /* spec.template...topologyConstraint */
	bool other_name; /* names another binding than the set's: skipped */
} constraint;

/*
 * The set's one binding: the first topologyName written (the set's, else
 * a group's, else a clique's) is inherited by every constraint that names
 * none; another name is an error on its topologyName. Returns the name
 * and writes into field where it was written (or, defaulted, the first
 * constraint's path).
 */
static const char *set_binding(constraint *cs, size_t n, char *field,
			       pol_verdict *v)
{
	const char *name = NULL;
	size_t first = 0;
	size_t i = 0;
	char here[POL_PATH_MAX];

	for (i = 0; i < n; i++) {
		const char *t = pol_get_str(cs[i].tc, "topologyName");

		if (!t)
			continue;
		if (!name) {
			name = t;
			first = i;
			continue;
		}
		if (strcmp(t, name) == 0)
			continue;
		cs[i].other_name = true;
		pol_path(here, "%s.topologyName", cs[i].path);
		pol_verdict_add(
		    v, POL_FE_INVALID, here, pol_verdict_str(v, t),
		    "a PodCliqueSet uses one ClusterTopologyBinding: "
		    "%s.topologyName names \"%s\"; write the same "
		    "name or leave it out to inherit it",
		    cs[first].path, name);
	}
	if (name) {
		pol_path(field, "%s.topologyName", cs[first].path);
		return name;
	}
	pol_path(field, "%s", cs[0].path);
	return POL_DEFAULT_TOPOLOGY;
}

int pol_check_topology(const pol_pcs *pcs, const pol_options *o, pol_verdict *v)
{
	resolved *rs = NULL;
	constraint *cs = NULL;
	size_t *group_of = NULL; /* constraint of each group, or SIZE_MAX */
	json_t *levels = NULL;
	const char *name = NULL;
	char field[POL_PATH_MAX];
	char why[POL_MSG_MAX] = "no cluster to check against";
	pol_lookup_result lr = POL_LOOKUP_UNKNOWN;
	resolved none = { NULL, NO_LEVEL, NULL, "" };
	const resolved *top = NULL;
	size_t n = 0;
	size_t i = 0;
	size_t k = 0;
	int rc = GV_ENOMEM;

	if (pcs->form != POL_FORM_TEMPLATE)
		return GV_OK;
	cs = calloc(1 + pcs->n_groups + pcs->n_cliques, sizeof(*cs));
	rs = calloc(1 + pcs->n_groups + pcs->n_cliques, sizeof(*rs));
	group_of = calloc(pcs->n_groups + 1, sizeof(*group_of));
	if (!cs || !rs || !group_of)
		goto out;
	rc = GV_OK;
	if (pcs->topology) {
		cs[n].tc = pcs->topology;
		pol_path(cs[n++].path, "spec.template.topologyConstraint");
	}
	for (i = 0; i < pcs->n_groups; i++) {
		group_of[i] = SIZE_MAX;
		if (!pcs->groups[i].topology)
			continue;
		group_of[i] = n;
		cs[n].tc = pcs->groups[i].topology;
		pol_path(cs[n++].path, "%s.topologyConstraint",
			 pcs->groups[i].path);
	}
	for (i = 0; i < pcs->n_cliques; i++) {
		if (!pcs->cliques[i].topology)
			continue;
		cs[n].tc = pcs->cliques[i].topology;
		pol_path(cs[n++].path, "%s.topologyConstraint",
			 pcs->cliques[i].path);
	}
	if (n == 0)
		goto out;
	name = set_binding(cs, n, field, v);
	if (o->lookup && o->lookup->topology)
		lr = o->lookup->topology(o->lookup->ctx, name, &levels, why,
					 sizeof(why));
	if (lr == POL_LOOKUP_MISSING) {
		pol_verdict_add(
		    v, POL_FE_NOT_FOUND, field, pol_verdict_str(v, name),
		    "no ClusterTopologyBinding of that name%s; "
		    "create it first",
		    strcmp(field, cs[0].path) != 0
			? ""
			: " (topologyName defaults to \"" POL_DEFAULT_TOPOLOGY
			  "\")");
		goto out;
	}
	if (lr != POL_LOOKUP_FOUND) {
		pol_verdict_warn(v,
				 "%s: ClusterTopologyBinding \"%s\" was not "
				 "checked: %s",
				 field, name, why);
		goto out;
	}
	for (i = 0; i < n; i++) {
		rs[i].binding = NULL;
		rs[i].required = NO_LEVEL;
		if (!cs[i].other_name)
			check_constraint(cs[i].tc, cs[i].path, name, levels,
					 &rs[i], v);
	}
	/* nesting: a group inside the set; a clique inside its group when
	 * the group packs, else inside the set */
	top = pcs->topology ? &rs[0] : &none;
	for (i = 0; i < pcs->n_groups; i++) {
		if (group_of[i] != SIZE_MAX)
			check_nesting(top, "spec.template.topologyConstraint",
				      &rs[group_of[i]], v);
	}
	k = (pcs->topology ? 1 : 0);
	for (i = 0; i < pcs->n_groups; i++)
		k += group_of[i] != SIZE_MAX;
	for (i = 0; i < pcs->n_cliques; i++) {
		const pol_clique *c = &pcs->cliques[i];
		const resolved *parent = top;
		char ppath[POL_PATH_MAX];

		if (!c->topology)
			continue;
		pol_path(ppath, "spec.template.topologyConstraint");
		if (c->group >= 0 && group_of[c->group] != SIZE_MAX &&
		    rs[group_of[c->group]].required != NO_LEVEL) {
			parent = &rs[group_of[c->group]];
			pol_path(ppath, "%s.topologyConstraint",
				 pcs->groups[c->group].path);
		}
		check_nesting(parent, ppath, &rs[k++], v);
	}
out:
	json_decref(levels);
	free(group_of);
	free(rs);
	free(cs);
	return rc;
}

int pol_validate_topology_binding(const json_t *obj, pol_verdict *v)
{
	const json_t *meta = json_object_get(obj, "metadata");
	const json_t *levels =
	    json_object_get(json_object_get(obj, "spec"), "levels");
	const char *name = pol_get_str(meta, "name");
	const json_t *l = NULL;
	char field[POL_PATH_MAX];
	gv_error_t bad = GV_ERROR_INIT;
	json_t *domains = json_object();
	json_t *keys = json_object();
	size_t i = 0;

	if (!name)
		pol_verdict_add(v, POL_FE_REQUIRED, "metadata.name", NULL,
				NULL);
	else if (pol_check_dns_subdomain(name, &bad) != GV_OK)
		pol_verdict_add(v, POL_FE_INVALID, "metadata.name",
				pol_verdict_str(v, name), "%s", bad.text);
	if (!json_is_array(levels) || json_array_size(levels) == 0) {
		if (levels && !json_is_array(levels))
			pol_verdict_add(v, POL_FE_INVALID, "spec.levels",
					pol_verdict_copy(v, levels),
					"must be a list");
		else
			pol_verdict_add(v, POL_FE_REQUIRED, "spec.levels", NULL,
					"at least one level, from the broadest "
					"to the narrowest");
		goto out;
	}
	json_array_foreach(levels, i, l)
	{
		const char *domain = pol_get_str(l, "domain");
		const char *key = pol_get_str(l, "key");

		pol_path(field, "spec.levels[%zu].domain", i);
		if (!domain)
			pol_verdict_add(v, POL_FE_REQUIRED, field, NULL, NULL);
		else if (pol_check_dns_label(domain, &bad) != GV_OK)
			pol_verdict_add(v, POL_FE_INVALID, field,
					pol_verdict_str(v, domain), "%s",
					bad.text);
		else if (pol_seen(domains, domain, i, NULL, v))
			pol_verdict_add(v, POL_FE_DUPLICATE, field,
					pol_verdict_str(v, domain), NULL);
		pol_path(field, "spec.levels[%zu].key", i);
		if (!key)
			pol_verdict_add(v, POL_FE_REQUIRED, field, NULL, NULL);
		else if (pol_check_qualified_name(key, &bad) != GV_OK)
			pol_verdict_add(v, POL_FE_INVALID, field,
					pol_verdict_str(v, key), "%s",
					bad.text);
		else if (pol_seen(keys, key, i, NULL, v))
			pol_verdict_add(v, POL_FE_DUPLICATE, field,
					pol_verdict_str(v, key), NULL);
	}
out:
	json_decref(domains);
	json_decref(keys);
	if (v->oom)
		return GV_ENOMEM;
	pol_verdict_sort(v, obj);
	return GV_OK;
}
