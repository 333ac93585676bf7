/*
 * pol_topology.c: topology constraints (V20) and ClusterTopologyBinding
 * objects.
 *
 * A constraint is {topologyName, pack: {required, preferred}} or the older
 * {packDomain} that tools such as Dynamo still write; topologyName names
 * the ClusterTopologyBinding and defaults to POL_DEFAULT_TOPOLOGY. A
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

/* Resolves and checks one constraint (tc at path); *r is its result. */
static int check_constraint(const json_t *tc, const char *path,
			    const pol_options *o, resolved *r, pol_verdict *v)
{
	const char *name = pol_get_str(tc, "topologyName");
	const json_t *pack = json_object_get(tc, "pack");
	const json_t *req = json_object_get(pack, "required");
	const json_t *pref = json_object_get(pack, "preferred");
	const json_t *legacy = json_object_get(tc, "packDomain");
	json_t *levels = NULL;
	char field[POL_PATH_MAX];
	char why[POL_MSG_MAX] = "no cluster to check against";
	pol_lookup_result lr = POL_LOOKUP_UNKNOWN;
	size_t p = NO_LEVEL;

	r->binding = NULL;
	r->required = NO_LEVEL;
	r->required_name = NULL;
	/* an unwritten topologyName is reported on the constraint */
	if (name)
		pol_path(field, "%s.topologyName", path);
	else
		pol_path(field, "%s", path);
	if (!name)
		name = POL_DEFAULT_TOPOLOGY;
	if (o->lookup && o->lookup->topology)
		lr = o->lookup->topology(o->lookup->ctx, name, &levels, why,
					 sizeof(why));
	if (lr == POL_LOOKUP_MISSING) {
		pol_verdict_add(
		    v, POL_FE_NOT_FOUND, field, pol_verdict_str(v, name),
		    "no ClusterTopologyBinding of that name%s; "
		    "create it first",
		    pol_get_str(tc, "topologyName")
			? ""
			: " (topologyName defaults to \"" POL_DEFAULT_TOPOLOGY
			  "\")");
		return GV_OK;
	}
	if (lr != POL_LOOKUP_FOUND) {
		pol_verdict_warn(v,
				 "%s: ClusterTopologyBinding \"%s\" was not "
				 "checked: %s",
				 field, name, why);
		return GV_OK;
	}
	r->binding = name;
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
	json_decref(levels);
	return GV_OK;
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

int pol_check_topology(const pol_pcs *pcs, const pol_options *o, pol_verdict *v)
{
	resolved top = { NULL, NO_LEVEL, NULL, "" };
	resolved *groups = NULL;
	char path[POL_PATH_MAX];
	size_t i = 0;
	int rc = GV_OK;

	if (pcs->form != POL_FORM_TEMPLATE)
		return GV_OK;
	groups = calloc(pcs->n_groups + 1, sizeof(*groups));
	if (!groups)
		return GV_ENOMEM;
	if (pcs->topology)
		check_constraint(pcs->topology,
				 "spec.template.topologyConstraint", o, &top,
				 v);
	for (i = 0; i < pcs->n_groups; i++) {
		const pol_group *g = &pcs->groups[i];

		groups[i].required = NO_LEVEL;
		if (!g->topology)
			continue;
		pol_path(path, "%s.topologyConstraint", g->path);
		check_constraint(g->topology, path, o, &groups[i], v);
		check_nesting(&top, "spec.template.topologyConstraint",
			      &groups[i], v);
	}
	for (i = 0; i < pcs->n_cliques; i++) {
		const pol_clique *c = &pcs->cliques[i];
		resolved r = { NULL, NO_LEVEL, NULL, "" };
		char ppath[POL_PATH_MAX];
		const resolved *parent = &top;

		if (!c->topology)
			continue;
		pol_path(path, "%s.topologyConstraint", c->path);
		check_constraint(c->topology, path, o, &r, v);
		pol_path(ppath, "spec.template.topologyConstraint");
		if (c->group >= 0 && groups[c->group].required != NO_LEVEL) {
			parent = &groups[c->group];
			pol_path(ppath, "%s.topologyConstraint",
				 pcs->groups[c->group].path);
		}
		check_nesting(parent, ppath, &r, v);
	}
	free(groups);
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
