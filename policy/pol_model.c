/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pol_model.c: a PodCliqueSet of either form (docs/api.md section 2) into one
 * model in the template form's meaning, remembering the path the user
 * wrote for every element so that later errors name it.
 *
 * Only structure is checked here: which form, JSON types, and (compact
 * form) unknown fields. Every rule about values lives in pol_validate.c.
 * Also here, as it is about structure too: which kind of the Grove API
 * an object is (pol_kind_of).
 */
#include <stdint.h>

#include "pol_int.h"

/* Fields of the compact form (docs/api.md 2.1); anything else is a typo. */
static const char *const compact_spec_keys[] = {
	"replicas", "scaling", "scalingGroups", "podCliques", NULL,
};
static const char *const compact_scaling_keys[] = {
	"minReplicas",
	"maxReplicas",
	NULL,
};
static const char *const compact_group_keys[] = {
	"name",
	"cliques",
	"replicas",
	/* upstream's per-component rollingUpdate (V19, pol_validate.c) */
	"rollingUpdate",
	NULL,
};
static const char *const compact_clique_keys[] = {
	"name",
	"startsAfter",
	"replicas",
	"minAvailable",
	"resourceClaims",
	"containers",
	"initContainers",
	"volumes",
	"nodeSelector",
	"tolerations",
	"affinity",
	"serviceAccountName",
	"priorityClassName",
	"schedulerName",
	"terminationGracePeriodSeconds",
	"imagePullSecrets",
	"securityContext",
	"hostNetwork",
	"dnsPolicy",
	"runtimeClassName",
	"labels",
	"annotations",
	/* upstream's per-component rollingUpdate, as for groups; not a
	 * pod field (pol_pod.c leaves it out of the pod template) */
	"rollingUpdate",
	/* not pod-level fields a user may set, but named so that V18 can
	 * say why they are refused instead of calling them typos */
	"nodeName",
	"topologySpreadConstraints",
	NULL,
};
/* Fields that belong to the compact form only. */
static const char *const compact_form_keys[] = {
	"scaling",
	"scalingGroups",
	"podCliques",
	NULL,
};
/* Fields that belong to the template form only. */
static const char *const template_spec_keys[] = {
	"template",
	"updateStrategy",
	NULL,
};

static bool in_list(const char *key, const char *const *list)
{
	for (; *list; list++) {
		if (strcmp(key, *list) == 0)
			return true;
	}
	return false;
}

void pol_check_unknown(pol_verdict *v, const json_t *obj, const char *path,
		       const char *const *known, const char *known_text)
{
	const char *key = NULL;
	json_t *val = NULL;
	char field[POL_PATH_MAX];

	json_object_foreach((json_t *)obj, key, val)
	{
		const char *near = NULL;

		if (in_list(key, known))
			continue;
		near = pol_did_you_mean(key, known);
		pol_path(field, "%s%s%s", path, path[0] ? "." : "", key);
		if (near)
			pol_verdict_add(
			    v, POL_FE_FORBIDDEN, field, NULL,
			    "unknown field; did you mean \"%s\"?%s%s%s", near,
			    known_text ? " (known: " : "",
			    known_text ? known_text : "",
			    known_text ? ")" : "");
		else
			pol_verdict_add(v, POL_FE_FORBIDDEN, field, NULL,
					"unknown field%s%s%s",
					known_text ? " (known: " : "",
					known_text ? known_text : "",
					known_text ? ")" : "");
	}
}

/* V1: an unknown field in the compact form, with a did-you-mean. */
static void check_unknown(pol_verdict *v, const json_t *obj, const char *path,
			  const char *const *known)
{
	pol_check_unknown(v, obj, path, known, NULL);
}

static const char *type_name(json_type t)
{
	switch (t) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "a list";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	default:
		return "a value of another type";
	}
}

/*
 * Returns member key of obj when it has JSON type t, NULL when absent;
 * when present with another type (null counts as absent, as Kubernetes
 * treats it) records an error at path.key and returns NULL.
 */
static const json_t *member(pol_verdict *v, const json_t *obj, const char *path,
			    const char *key, json_type t)
{
	const json_t *m = json_object_get(obj, key);
	char field[POL_PATH_MAX];

	if (!m || json_is_null(m))
		return NULL;
	if (json_typeof(m) == t)
		return m;
	pol_path(field, "%s.%s", path, key);
	pol_verdict_add(v, POL_FE_INVALID, field, pol_verdict_copy(v, m),
			"must be %s", type_name(t));
	return NULL;
}

/* An optional integer member: *set says whether it was written. */
static void member_int(pol_verdict *v, const json_t *obj, const char *path,
		       const char *key, int64_t *out, bool *set)
{
	const json_t *m = member(v, obj, path, key, JSON_INTEGER);

	*set = m != NULL;
	if (m)
		*out = json_integer_value(m);
}

/* An array member whose elements must be objects; bad elements are
 * reported and kept out of the model by the caller's loop. */
static bool element_is_object(pol_verdict *v, const json_t *el,
			      const char *path, size_t i)
{
	char field[POL_PATH_MAX];

	if (json_is_object(el))
		return true;
	pol_path(field, "%s[%zu]", path, i);
	pol_verdict_add(v, POL_FE_INVALID, field, pol_verdict_copy(v, el),
			"must be an object");
	return false;
}

/*
 * A rollingUpdate object (or NULL: absent) into r, with the defaults of
 * policy.h for what is absent or fails V19 (pol_validate.c reports it).
 * surge: maxSurge is read (a standalone clique); else it stays 0.
 */
static void read_rolling(const json_t *ru, bool surge, pol_rolling *r)
{
	int64_t n = 0;
	double secs = 0;

	r->max_unavailable = 1;
	r->max_surge = 0;
	r->progress_deadline_s = 0;
	r->progress_deadline = NULL;
	r->set = ru != NULL;
	if (!ru)
		return;
	if (pol_get_int(ru, "maxUnavailable", &n) && n >= 0)
		r->max_unavailable = n;
	if (surge && pol_get_int(ru, "maxSurge", &n) && n >= 0)
		r->max_surge = n;
	if (r->max_unavailable == 0 && r->max_surge == 0)
		r->max_unavailable = 1;
	r->progress_deadline = pol_get_str(ru, "progressDeadline");
	if (r->progress_deadline &&
	    pol_parse_duration(r->progress_deadline, &secs) && secs > 0)
		r->progress_deadline_s = secs;
}

static const char *name_of(pol_verdict *v, const json_t *obj, const char *path)
{
	const json_t *m = member(v, obj, path, "name", JSON_STRING);

	return m ? json_string_value(m) : NULL;
}

size_t pol_pcs_find_clique(const pol_pcs *pcs, const char *name)
{
	const json_t *idx = NULL;

	if (!name)
		return SIZE_MAX;
	idx = json_object_get(pcs->clique_index, name);
	return idx ? (size_t)json_integer_value(idx) : SIZE_MAX;
}

/* startsAfter must be a list of strings (compact: or one string). */
static void check_starts_after(pol_verdict *v, pol_clique *c,
			       const json_t *holder, bool compact)
{
	const json_t *sa = json_object_get(holder, "startsAfter");
	char field[POL_PATH_MAX];
	size_t k = 0;
	const json_t *el = NULL;

	pol_path(field, "%s.startsAfter", c->spec_path);
	if (!sa || json_is_null(sa))
		return;
	if (json_is_string(sa) && compact) {
		c->starts_after = sa;
		return;
	}
	if (!json_is_array(sa)) {
		pol_verdict_add(v, POL_FE_INVALID, field,
				pol_verdict_copy(v, sa),
				compact ? "must be a clique name or a list of "
					  "clique names"
					: "must be a list of clique names");
		return;
	}
	json_array_foreach(sa, k, el)
	{
		if (json_is_string(el))
			continue;
		pol_path(field, "%s.startsAfter[%zu]", c->spec_path, k);
		pol_verdict_add(v, POL_FE_INVALID, field,
				pol_verdict_copy(v, el),
				"must be a clique name");
	}
	c->starts_after = sa;
}

static void build_compact_clique(pol_verdict *v, const json_t *node,
				 pol_clique *c)
{
	c->node = node;
	c->pod = node;
	c->group = -1;
	pol_path(c->spec_path, "%s", c->path);
	pol_path(c->pod_path, "%s", c->path);
	check_unknown(v, node, c->path, compact_clique_keys);
	c->name = name_of(v, node, c->path);
	c->role_name = c->name;
	member_int(v, node, c->path, "replicas", &c->replicas,
		   &c->replicas_set);
	member_int(v, node, c->path, "minAvailable", &c->min_available,
		   &c->min_available_set);
	c->claims = member(v, node, c->path, "resourceClaims", JSON_ARRAY);
	(void)member(v, node, c->path, "containers", JSON_ARRAY);
	(void)member(v, node, c->path, "rollingUpdate", JSON_OBJECT);
	check_starts_after(v, c, node, true);
}

static void build_template_clique(pol_verdict *v, const json_t *node,
				  pol_clique *c)
{
	const json_t *spec = NULL;
	const json_t *role = NULL;

	c->node = node;
	c->group = -1;
	pol_path(c->spec_path, "%s.spec", c->path);
	pol_path(c->pod_path, "%s.spec.podSpec", c->path);
	c->name = name_of(v, node, c->path);
	c->topology =
	    member(v, node, c->path, "topologyConstraint", JSON_OBJECT);
	(void)member(v, node, c->path, "rollingUpdate", JSON_OBJECT);
	spec = member(v, node, c->path, "spec", JSON_OBJECT);
	if (!spec)
		return;
	(void)member(v, spec, c->spec_path, "rollingUpdate", JSON_OBJECT);
	role = member(v, spec, c->spec_path, "roleName", JSON_STRING);
	c->role_name = role ? json_string_value(role) : c->name;
	member_int(v, spec, c->spec_path, "replicas", &c->replicas,
		   &c->replicas_set);
	member_int(v, spec, c->spec_path, "minAvailable", &c->min_available,
		   &c->min_available_set);
	c->pod = member(v, spec, c->spec_path, "podSpec", JSON_OBJECT);
	if (c->pod) {
		c->claims = member(v, c->pod, c->pod_path, "resourceClaims",
				   JSON_ARRAY);
		(void)member(v, c->pod, c->pod_path, "containers", JSON_ARRAY);
	}
	c->autoscaling =
	    member(v, spec, c->spec_path, "autoScalingConfig", JSON_OBJECT);
	check_starts_after(v, c, spec, false);
}

/* Fills pcs->cliques from the array at path. */
static int build_cliques(pol_verdict *v, pol_pcs *pcs, const json_t *list)
{
	size_t i = 0;
	const json_t *el = NULL;

	pcs->clique_list = list;
	if (!list)
		return GV_OK;
	pcs->cliques = calloc(json_array_size(list) + 1, sizeof(*pcs->cliques));
	pcs->clique_index = json_object();
	if (!pcs->cliques || !pcs->clique_index)
		return GV_ENOMEM;
	json_array_foreach(list, i, el)
	{
		pol_clique *c = NULL;

		if (!element_is_object(v, el, pcs->cliques_path, i))
			continue;
		c = &pcs->cliques[pcs->n_cliques++];
		pol_path(c->path, "%s[%zu]", pcs->cliques_path, i);
		if (pcs->form == POL_FORM_COMPACT)
			build_compact_clique(v, el, c);
		else
			build_template_clique(v, el, c);
		if (c->name)
			(void)pol_seen(pcs->clique_index, c->name,
				       pcs->n_cliques - 1, NULL, v);
	}
	return v->oom ? GV_ENOMEM : GV_OK;
}

/* The group's cliques, resolved by name; and the group of each clique
 * (the first group that names it: V9 reports the others). */
static int resolve_group(pol_verdict *v, pol_pcs *pcs, size_t gi,
			 const json_t *ratio)
{
	pol_group *g = &pcs->groups[gi];
	size_t n = json_array_size(g->clique_names);
	size_t k = 0;

	g->cliques = calloc(n + 1, sizeof(*g->cliques));
	g->ratio = calloc(n + 1, sizeof(*g->ratio));
	if (!g->cliques || !g->ratio)
		return GV_ENOMEM;
	g->n_cliques = n;
	for (k = 0; k < n; k++) {
		const json_t *el = json_array_get(g->clique_names, k);
		const json_t *r = json_array_get(ratio, k);
		size_t ci = pol_pcs_find_clique(pcs, json_string_value(el));
		char field[POL_PATH_MAX];

		if (!json_is_string(el)) {
			pol_path(field, "%s[%zu]", g->cliques_path, k);
			pol_verdict_add(v, POL_FE_INVALID, field,
					pol_verdict_copy(v, el),
					"must be a clique name");
		}
		g->cliques[k] = ci;
		/* without a written ratio the clique's own count is the
		 * ratio entry */
		if (json_is_integer(r))
			g->ratio[k] = json_integer_value(r);
		else if (ratio)
			g->ratio[k] = 0;
		else if (ci != SIZE_MAX && pcs->cliques[ci].replicas_set)
			g->ratio[k] = pcs->cliques[ci].replicas;
		else
			g->ratio[k] = 1;
		if (ci != SIZE_MAX && pcs->cliques[ci].group < 0) {
			pcs->cliques[ci].group = (int)gi;
			pcs->cliques[ci].group_pos = k;
		}
	}
	return GV_OK;
}

static int build_groups(pol_verdict *v, pol_pcs *pcs, const json_t *list)
{
	size_t i = 0;
	const json_t *el = NULL;
	bool compact = pcs->form == POL_FORM_COMPACT;
	int rc = GV_OK;

	if (!list)
		return GV_OK;
	pcs->groups = calloc(json_array_size(list) + 1, sizeof(*pcs->groups));
	if (!pcs->groups)
		return GV_ENOMEM;
	json_array_foreach(list, i, el)
	{
		pol_group *g = NULL;
		const json_t *ratio = NULL;
		size_t gi = pcs->n_groups;
		size_t k = 0;
		const json_t *r = NULL;
		const json_t *ru = NULL;
		char field[POL_PATH_MAX];

		if (!element_is_object(v, el, pcs->groups_path, i))
			continue;
		g = &pcs->groups[pcs->n_groups++];
		g->node = el;
		pol_path(g->path, "%s[%zu]", pcs->groups_path, i);
		pol_path(g->cliques_path, "%s.%s", g->path,
			 compact ? "cliques" : "cliqueNames");
		g->name = name_of(v, el, g->path);
		g->clique_names =
		    member(v, el, g->path, compact ? "cliques" : "cliqueNames",
			   JSON_ARRAY);
		if (compact) {
			check_unknown(v, el, g->path, compact_group_keys);
			(void)member(v, el, g->path, "rollingUpdate",
				     JSON_OBJECT);
			ratio = member(v, el, g->path, "replicas", JSON_ARRAY);
			json_array_foreach(ratio, k, r)
			{
				if (json_is_integer(r))
					continue;
				pol_path(field, "%s.replicas[%zu]", g->path, k);
				pol_verdict_add(v, POL_FE_INVALID, field,
						pol_verdict_copy(v, r),
						"must be an integer");
			}
			g->replicas = pcs->replicas;
			g->replicas_set = pcs->replicas_set;
			g->min_available = pcs->min_replicas;
			g->min_available_set = pcs->scaling_set;
			g->max_replicas = pcs->max_replicas;
		} else {
			g->replicas = 1;
			member_int(v, el, g->path, "replicas", &g->replicas,
				   &g->replicas_set);
			g->min_available = 1;
			member_int(v, el, g->path, "minAvailable",
				   &g->min_available, &g->min_available_set);
			g->scale_config =
			    member(v, el, g->path, "scaleConfig", JSON_OBJECT);
			g->topology = member(v, el, g->path,
					     "topologyConstraint", JSON_OBJECT);
			(void)member(v, el, g->path, "rollingUpdate",
				     JSON_OBJECT);
			g->max_replicas = g->replicas;
			if (g->scale_config) {
				int64_t mx = 0;

				if (pol_get_int(g->scale_config, "maxReplicas",
						&mx) &&
				    mx > g->max_replicas)
					g->max_replicas = mx;
			}
		}
		ru = json_object_get(el, "rollingUpdate");
		read_rolling(json_is_object(ru) ? ru : NULL, false,
			     &g->rolling);
		rc = resolve_group(v, pcs, gi, ratio);
		if (rc != GV_OK)
			return rc;
	}
	return GV_OK;
}

/* A clique's rollingUpdate object: the template form's beside its spec,
 * else in its spec; the compact form's on the clique. NULL when there is
 * none (or not an object: the model reported it). Borrowed. */
static const json_t *clique_rolling(const pol_pcs *pcs, const pol_clique *c)
{
	const json_t *ru = json_object_get(c->node, "rollingUpdate");

	if (!json_is_object(ru) && pcs->form == POL_FORM_TEMPLATE)
		ru = json_object_get(json_object_get(c->node, "spec"),
				     "rollingUpdate");
	return json_is_object(ru) ? ru : NULL;
}

/* Replicas, minAvailable and rollingUpdate of each clique once groups
 * are known. */
static void settle_cliques(pol_pcs *pcs)
{
	size_t i = 0;

	for (i = 0; i < pcs->n_cliques; i++) {
		pol_clique *c = &pcs->cliques[i];

		read_rolling(clique_rolling(pcs, c), c->group < 0, &c->rolling);
		if (!c->replicas_set) {
			c->replicas = 1;
			if (pcs->form == POL_FORM_COMPACT && c->group >= 0)
				c->replicas =
				    pcs->groups[c->group].ratio[c->group_pos];
		}
		if (!c->min_available_set)
			c->min_available = c->replicas;
	}
}

static pol_startup parse_startup(const char *s)
{
	if (!s || strcmp(s, "CliqueStartupTypeAnyOrder") == 0)
		return POL_STARTUP_ANY_ORDER;
	if (strcmp(s, "CliqueStartupTypeInOrder") == 0)
		return POL_STARTUP_IN_ORDER;
	if (strcmp(s, "CliqueStartupTypeExplicit") == 0)
		return POL_STARTUP_EXPLICIT;
	return POL_STARTUP_INVALID;
}

static int build_compact(pol_verdict *v, const json_t *spec, pol_pcs *pcs)
{
	const json_t *scaling = NULL;
	bool min_set = false;
	bool max_set = false;
	size_t i = 0;
	int rc = GV_OK;

	pcs->form = POL_FORM_COMPACT;
	pol_path(pcs->cliques_path, "spec.podCliques");
	pol_path(pcs->groups_path, "spec.scalingGroups");
	check_unknown(v, spec, "spec", compact_spec_keys);
	member_int(v, spec, "spec", "replicas", &pcs->replicas,
		   &pcs->replicas_set);
	scaling = member(v, spec, "spec", "scaling", JSON_OBJECT);
	pcs->min_replicas = 1;
	if (scaling) {
		pcs->scaling_set = true;
		check_unknown(v, scaling, "spec.scaling", compact_scaling_keys);
		member_int(v, scaling, "spec.scaling", "minReplicas",
			   &pcs->min_replicas, &min_set);
		member_int(v, scaling, "spec.scaling", "maxReplicas",
			   &pcs->max_replicas, &max_set);
	}
	if (!pcs->replicas_set)
		pcs->replicas = pcs->min_replicas >= 1 ? pcs->min_replicas : 1;
	if (!max_set)
		pcs->max_replicas = pcs->replicas;
	rc = build_cliques(v, pcs,
			   member(v, spec, "spec", "podCliques", JSON_ARRAY));
	if (rc != GV_OK)
		return rc;
	for (i = 0; i < pcs->n_cliques; i++) {
		if (pcs->cliques[i].starts_after)
			pcs->startup = POL_STARTUP_EXPLICIT;
	}
	return build_groups(
	    v, pcs, member(v, spec, "spec", "scalingGroups", JSON_ARRAY));
}

static int build_template(pol_verdict *v, const json_t *spec, pol_pcs *pcs)
{
	const json_t *tpl = NULL;
	const json_t *st = NULL;
	const json_t *td = NULL;
	const char *us = NULL;
	int rc = GV_OK;

	pcs->form = POL_FORM_TEMPLATE;
	pol_path(pcs->cliques_path, "spec.template.cliques");
	pol_path(pcs->groups_path, "spec.template.podCliqueScalingGroups");
	pcs->replicas = 1;
	member_int(v, spec, "spec", "replicas", &pcs->replicas,
		   &pcs->replicas_set);
	/* V19 checks updateStrategy; anything but OnDelete rolls */
	us = pol_get_str(json_object_get(spec, "updateStrategy"), "type");
	pcs->on_delete = us && strcmp(us, "OnDelete") == 0;
	pcs->min_replicas = pcs->replicas;
	pcs->max_replicas = pcs->replicas;
	tpl = member(v, spec, "spec", "template", JSON_OBJECT);
	if (!tpl)
		return GV_OK;
	st = member(v, tpl, "spec.template", "cliqueStartupType", JSON_STRING);
	pcs->startup_written = json_string_value(st);
	pcs->startup = parse_startup(pcs->startup_written);
	td = member(v, tpl, "spec.template", "terminationDelay", JSON_STRING);
	pcs->termination_delay = json_string_value(td);
	if (!pcs->termination_delay ||
	    !pol_parse_duration(pcs->termination_delay,
				&pcs->termination_delay_s) ||
	    pcs->termination_delay_s < 0)
		pcs->termination_delay_s = 0;
	pcs->topology =
	    member(v, tpl, "spec.template", "topologyConstraint", JSON_OBJECT);
	pcs->claim_templates = member(v, tpl, "spec.template",
				      "resourceClaimTemplates", JSON_ARRAY);
	rc = build_cliques(
	    v, pcs, member(v, tpl, "spec.template", "cliques", JSON_ARRAY));
	if (rc != GV_OK)
		return rc;
	return build_groups(v, pcs,
			    member(v, tpl, "spec.template",
				   "podCliqueScalingGroups", JSON_ARRAY));
}

/* V1: which form; the other form's fields must be absent. */
static int detect_form(pol_verdict *v, const json_t *spec, pol_form *form)
{
	bool compact = json_object_get(spec, "podCliques") ||
		       json_object_get(spec, "scalingGroups") ||
		       json_object_get(spec, "scaling");
	bool tpl = json_object_get(spec, "template") ||
		   json_object_get(spec, "updateStrategy");
	const char *const *k = NULL;
	char field[POL_PATH_MAX];

	if (compact && tpl) {
		/* blame the fields of the form the cliques are not in */
		bool blame_compact = json_object_get(spec, "template") &&
				     !json_object_get(spec, "podCliques");

		for (k = blame_compact ? compact_form_keys : template_spec_keys;
		     *k; k++) {
			if (!json_object_get(spec, *k))
				continue;
			pol_path(field, "spec.%s", *k);
			pol_verdict_add(v, POL_FE_FORBIDDEN, field, NULL, "%s",
					blame_compact
					    ? "belongs to the compact form "
					      "and cannot be combined with "
					      "spec.template; write one "
					      "form"
					    : "belongs to the template form "
					      "and cannot be combined with "
					      "the compact form's "
					      "spec.podCliques, "
					      "spec.scalingGroups and "
					      "spec.scaling; write one form");
		}
		return GV_EINVAL;
	}
	if (!compact && !tpl) {
		/* a typo of a compact field still deserves its did-you-mean */
		const char *const all[] = {
			"replicas",   "scaling",  "scalingGroups",
			"podCliques", "template", "updateStrategy",
			NULL
		};

		check_unknown(v, spec, "spec", all);
		pol_verdict_add(v, POL_FE_REQUIRED, "spec", NULL,
				"one of spec.podCliques (compact form) or "
				"spec.template (template form) is needed");
		return GV_EINVAL;
	}
	*form = compact ? POL_FORM_COMPACT : POL_FORM_TEMPLATE;
	return GV_OK;
}

int pol_pcs_build(const json_t *obj, pol_pcs *out, pol_verdict *v)
{
	pol_pcs pcs;
	const json_t *meta = NULL;
	const json_t *spec = NULL;
	pol_form form = POL_FORM_COMPACT;
	int rc = GV_OK;

	memset(&pcs, 0, sizeof(pcs));
	pcs.doc = obj;
	if (!json_is_object(obj)) {
		pol_verdict_add(v, POL_FE_INVALID, "<object>",
				pol_verdict_copy(v, obj), "must be an object");
		rc = GV_EINVAL;
		goto out;
	}
	meta = json_object_get(obj, "metadata");
	pcs.name = pol_get_str(meta, "name");
	pcs.namespace = pol_get_str(meta, "namespace");
	pcs.generate_name = pol_get_str(meta, "generateName");
	spec = json_object_get(obj, "spec");
	if (!spec || json_is_null(spec)) {
		pol_verdict_add(v, POL_FE_REQUIRED, "spec", NULL, NULL);
		rc = GV_EINVAL;
		goto out;
	}
	if (!json_is_object(spec)) {
		pol_verdict_add(v, POL_FE_INVALID, "spec",
				pol_verdict_copy(v, spec), "must be an object");
		rc = GV_EINVAL;
		goto out;
	}
	rc = detect_form(v, spec, &form);
	if (rc != GV_OK)
		goto out;
	rc = form == POL_FORM_COMPACT ? build_compact(v, spec, &pcs)
				      : build_template(v, spec, &pcs);
	if (rc != GV_OK)
		goto out;
	settle_cliques(&pcs);
	if (v->oom)
		rc = GV_ENOMEM;
out:
	if (rc == GV_OK)
		*out = pcs;
	else
		pol_pcs_release(&pcs);
	return rc;
}

void pol_pcs_release(pol_pcs *pcs)
{
	size_t i = 0;

	for (i = 0; i < pcs->n_groups; i++) {
		free(pcs->groups[i].cliques);
		free(pcs->groups[i].ratio);
	}
	free(pcs->groups);
	free(pcs->cliques);
	json_decref(pcs->clique_index);
	memset(pcs, 0, sizeof(*pcs));
}

/* ---- what an object is ------------------------------------------------ */

/* The Grove API (docs/api.md section 1): two groups, one version each. */
#define GROVE_VERSION "v1alpha1"

static const char *const grove_io_kinds[] = {
	"PodCliqueSet",		  "PodClique", "PodCliqueScalingGroup",
	"ClusterTopologyBinding", NULL,
};
static const pol_kind grove_io_ids[] = {
	POL_KIND_PODCLIQUESET,
	POL_KIND_PODCLIQUE,
	POL_KIND_PODCLIQUESCALINGGROUP,
	POL_KIND_CLUSTERTOPOLOGYBINDING,
};
static const char *const scheduler_kinds[] = {
	"PodGang",
	NULL,
};
static const pol_kind scheduler_ids[] = {
	POL_KIND_PODGANG,
};

typedef struct grove_group {
	const char *name;
	const char *const *kinds; /* NULL-terminated */
	const pol_kind *ids; /* the kind of each */
	const char *listed; /* the kinds, as "supported values" lists them */
} grove_group;

static const grove_group grove_groups[] = {
	{ "grove.io", grove_io_kinds, grove_io_ids,
	  "\"PodCliqueSet\", \"PodClique\", \"PodCliqueScalingGroup\", "
	  "\"ClusterTopologyBinding\"" },
	{ "scheduler.grove.io", scheduler_kinds, scheduler_ids, "\"PodGang\"" },
};
#define N_GROVE_GROUPS (sizeof(grove_groups) / sizeof(grove_groups[0]))

/* The members every object of a Grove kind may have. */
static const char *const envelope_keys[] = {
	"apiVersion", "kind", "metadata", "spec", "status", NULL,
};

/* apiVersion or kind: the string, or NULL with an error. */
static const char *envelope_string(pol_verdict *v, const json_t *obj,
				   const char *key)
{
	const json_t *m = json_object_get(obj, key);

	if (json_is_string(m) && json_string_length(m) > 0)
		return json_string_value(m);
	if (!m || json_is_null(m) || json_is_string(m))
		pol_verdict_add(v, POL_FE_REQUIRED, key, NULL,
				"every object needs apiVersion and kind");
	else
		pol_verdict_add(v, POL_FE_INVALID, key, pol_verdict_copy(v, m),
				"must be a string");
	return NULL;
}

/* The Grove group of apiVersion api ("grove.io/v1alpha1", or a bare
 * "grove.io"), or NULL. */
static const grove_group *grove_group_of(const char *api)
{
	size_t len = strcspn(api, "/");
	size_t i = 0;

	for (i = 0; i < N_GROVE_GROUPS; i++) {
		if (strlen(grove_groups[i].name) == len &&
		    memcmp(grove_groups[i].name, api, len) == 0)
			return &grove_groups[i];
	}
	return NULL;
}

/* The Grove group that serves kind, or NULL. */
static const grove_group *group_serving(const char *kind)
{
	size_t i = 0;
	size_t k = 0;

	for (i = 0; i < N_GROVE_GROUPS; i++) {
		for (k = 0; grove_groups[i].kinds[k]; k++) {
			if (strcmp(grove_groups[i].kinds[k], kind) == 0)
				return &grove_groups[i];
		}
	}
	return NULL;
}

/* kind is no kind of group g: a did-you-mean, or the kinds g serves. */
static void unknown_kind(pol_verdict *v, const grove_group *g, const char *kind)
{
	const char *near = pol_did_you_mean(kind, g->kinds);

	if (near)
		pol_verdict_add(
		    v, POL_FE_NOT_SUPPORTED, "kind", json_string(kind),
		    "no such kind in %s; did you mean \"%s\"?", g->name, near);
	else
		pol_verdict_add(v, POL_FE_NOT_SUPPORTED, "kind",
				json_string(kind),
				"no such kind in %s; supported values: %s",
				g->name, g->listed);
}

pol_kind pol_kind_of(const json_t *obj, pol_verdict *v)
{
	const grove_group *g = NULL;
	const grove_group *other = NULL;
	const char *api = NULL;
	const char *kind = NULL;
	const char *version = NULL;
	pol_kind id = POL_KIND_INVALID;
	size_t k = 0;

	if (!json_is_object(obj)) {
		pol_verdict_add(v, POL_FE_INVALID, "<object>",
				pol_verdict_copy(v, obj),
				"must be an object with apiVersion and kind");
		return POL_KIND_INVALID;
	}
	api = envelope_string(v, obj, "apiVersion");
	kind = envelope_string(v, obj, "kind");
	if (!api || !kind)
		return POL_KIND_INVALID;
	g = grove_group_of(api);
	if (!g)
		return POL_KIND_OTHER;
	version = strchr(api, '/');
	for (k = 0; g->kinds[k]; k++) {
		if (strcmp(g->kinds[k], kind) == 0)
			id = g->ids[k];
	}
	other = id == POL_KIND_INVALID ? group_serving(kind) : NULL;
	if (other)
		pol_verdict_add(
		    v, POL_FE_INVALID, "apiVersion", pol_verdict_str(v, api),
		    "%s is a kind of %s; use \"%s/" GROVE_VERSION "\"", kind,
		    other->name, other->name);
	else if (id == POL_KIND_INVALID)
		unknown_kind(v, g, kind);
	if (!other && (!version || strcmp(version + 1, GROVE_VERSION) != 0)) {
		pol_verdict_add(v, POL_FE_NOT_SUPPORTED, "apiVersion",
				pol_verdict_str(v, api),
				"supported values: \"%s/" GROVE_VERSION "\"",
				g->name);
		id = POL_KIND_INVALID;
	}
	/* V1's did-you-mean, one level up: `metdata:` */
	check_unknown(v, obj, "", envelope_keys);
	return id;
}
