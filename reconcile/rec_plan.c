/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rec_plan.c: the planner of docs/api.md sections 5 and 6. One defaulted,
 * valid PodCliqueSet model in; every object the worker owns out, in the
 * order the worker creates them:
 *
 *   once per set:     ServiceAccount <pcs>, Secret <pcs>-ic-sat,
 *                     Role and RoleBinding grove.io:pcs:<pcs>
 *   per set replica:  headless Service <pcs>-<i>; standalone PodCliques;
 *                     per group its PodCliqueScalingGroup, then the
 *                     PodCliques of each unit; the base PodGang and one
 *                     scaled PodGang per unit at or above minAvailable;
 *                     HorizontalPodAutoscalers; then the pods of every
 *                     PodClique, from policy's pod builder
 *
 * Pure: no I/O, no globals, no threads.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>

#include "groved/gv_json.h"
#include "groved/reconcile.h"
#include "groved/gv_time.h"
#include "rec_int.h"
#include "rec_rollout.h"

/* A generated name (at most 253 characters) with room to spare. */
#define NAME_BUF 320

#define COMP_PCSG "pcs-podcliquescalinggroup"
#define COMP_SERVICE "pcs-headless-service"

#define COMP_HPA "pcs-hpa"
#define COMP_SA "pod-service-account"
#define COMP_SECRET "pod-sa-token-secret"
#define COMP_ROLE "pod-role"
#define COMP_ROLE_BINDING "pod-role-binding"

#define INITC_FLAG "--podcliques="

#define GROVE_API "grove.io/v1alpha1"
#define SCHED_API "scheduler.grove.io/v1alpha1"

/* Keys of a compact clique that are not part of its pod spec. */
static const char *const compact_non_spec_keys[] = {
	"name",	  "replicas",	 "minAvailable",  "startsAfter",
	"labels", "annotations", "rollingUpdate", NULL,
};

/* One pod of a PodClique: <pclq>-<index>, or <pclq>-<index>-<suffix>
 * (a replacement of a stuck pod, or one made first by a rollout's
 * maxSurge) when suffix > 0, with what is observed of the pod holding
 * it, for the rollout (pod NULL: to be made). */
typedef struct pod_slot {
	int64_t index;
	int64_t suffix;
	const json_t *pod; /* borrowed: the observed pod, or NULL */
	const char *created; /* its creationTimestamp, or "" */
	bool outdated; /* another grove.io/pod-template-hash */
	bool ready;
	bool terminating;
	bool surge; /* on the current template beside an outdated pod of
		       its index (maxSurge) */
	bool retired; /* left out of the plan: its replacement is Ready */
} pod_slot;

/* One PodClique of the plan, for the gangs and the pods. */
typedef struct pclq_ref {
	char name[NAME_BUF];
	size_t clique;
	int64_t unit; /* j; -1 standalone */
	int64_t replicas; /* pods: the template's, or the observed count */
	pod_slot *pods; /* owned: n_pods slots, by index then suffix */
	size_t n_pods; /* replicas, and the replacements of a surge */
	size_t cap; /* room in pods */
	const json_t *after; /* borrowed: its spec.startsAfter, or NULL */
	json_t *shape; /* owned: pol_pod_shape's of its pod 0 */
	char hash[POL_TEMPLATE_HASH_LEN + 1]; /* its pod-template-hash */
} pclq_ref;

typedef struct planner {
	const rec_input *in;
	const pol_pcs *pcs;
	const char *ns;
	json_t *items;
	json_t *notes;
	const json_t *levels; /* borrowed: the binding's levels, or NULL */
	const char *binding; /* the binding's name when constraints apply */
	bool binding_missing; /* constraints asked, binding absent */
	int64_t *units; /* per group, of the set replica being planned */
	json_t *by_clique; /* owned: PodClique name -> its pods of ours */
	json_t *pod_names; /* owned: every observed pod's name -> true */
	json_t *stuck; /* owned: stuck pod names -> true */
	/* per clique, borrowed from items: its first pod, which the
	 * others are copies of (plan_pod) */
	const json_t **protos;
	json_t **specs; /* owned: per clique, its pod spec (pod_spec) */
	/* per clique, its grove.io/pod-template-hash once computed */
	char (*hashes)[POL_TEMPLATE_HASH_LEN + 1];
	/* the rollout (plan_rollout): pods it deletes, what it did, and the
	 * first component of the set, in rollout order, not finished */
	json_t *recreate; /* owned: pod name -> true */
	json_t *outdated_units; /* owned: "<group>/<unit>" -> true */
	json_t *steps; /* owned: what this round does, for Events */
	bool roll_active; /* a pod of ours is outdated */
	bool roll_blocked; /* a component is unfinished: later ones wait */
	char blocker[NAME_BUF]; /* its name */
	int64_t blocker_i; /* its set replica */
	rec_roll_result blocker_res;
	char held_pod[NAME_BUF]; /* the first stalled pod seen */
	const char *held_deadline; /* its progressDeadline as written */
	int64_t recheck_s; /* when a progressDeadline runs out, or 0 */
	int rc;
	gv_error_t *err;
} planner;

/* ---- small builders; the first failure sticks in p->rc ---------------- */

static void put(planner *p, json_t *obj, const char *key, json_t *val)
{
	gv_json_put(obj, key, val, &p->rc);
}

static void push(planner *p, json_t *arr, json_t *val)
{
	gv_json_push(arr, val, &p->rc);
}

static void fmt(planner *p, char *buf, const char *f, ...)
    __attribute__((format(printf, 3, 4)));

static void fmt(planner *p, char *buf, const char *f, ...)
{
	va_list ap;
	int n = 0;

	va_start(ap, f);
	n = vsnprintf(buf, NAME_BUF, f, ap);
	va_end(ap);
	if ((n < 0 || n >= NAME_BUF) && p->rc == GV_OK)
		p->rc = gv_error_set(p->err, GV_ETOOBIG, NULL, 0, 0,
				     "name too long: '%.64s...'", buf);
}

static json_t *int_string(int64_t n)
{
	char s[24];

	snprintf(s, sizeof(s), "%" PRId64, n);
	return json_string(s);
}

/* The labels every managed object carries: a new reference. */
static json_t *std_labels(planner *p, const char *component, const char *name)
{
	json_t *l = json_object();

	put(p, l, POL_LABEL_MANAGED_BY, json_string(POL_MANAGED_BY));
	put(p, l, POL_LABEL_PART_OF, json_string(p->pcs->name));
	if (component)
		put(p, l, POL_LABEL_COMPONENT, json_string(component));
	put(p, l, POL_LABEL_APP_NAME, json_string(name));
	return l;
}

/* {apiVersion, kind, metadata{name, namespace?, labels}}: a new
 * reference; labels is stolen. */
static json_t *object(planner *p, const char *api, const char *kind,
		      const char *name, json_t *labels)
{
	json_t *o = json_object();
	json_t *meta = json_object();

	put(p, o, "apiVersion", json_string(api));
	put(p, o, "kind", json_string(kind));
	put(p, meta, "name", json_string(name));
	put(p, meta, "namespace", json_string(p->ns));
	put(p, meta, "labels", labels);
	put(p, o, "metadata", meta);
	return o;
}

/* Appends {"owner": "Kind/name", "object": obj}, stealing obj. */
static void add_item(planner *p, const char *owner_kind, const char *owner_name,
		     json_t *obj)
{
	char owner[NAME_BUF + 64];
	json_t *item = NULL;

	snprintf(owner, sizeof(owner), "%s/%s", owner_kind, owner_name);
	item = json_object();
	put(p, item, "owner", json_string(owner));
	put(p, item, "object", obj);
	push(p, p->items, item);
}

/* dst gets src's members, src winning; src borrowed. */
static void overlay(planner *p, json_t *dst, const json_t *src)
{
	if (p->rc == GV_OK && json_object_update(dst, (json_t *)src) != 0)
		p->rc = GV_ENOMEM;
}

/* ---- the model's pieces ----------------------------------------------- */

static int64_t set_replicas(const pol_pcs *pcs)
{
	/* compact with groups: one copy; spec.replicas counts units */
	if (pcs->form == POL_FORM_COMPACT && pcs->n_groups > 0)
		return 1;
	return pcs->replicas;
}

static const json_t *clique_meta(const pol_clique *c, const char *key)
{
	const json_t *v = json_object_get(c->node, key);

	return json_is_object(v) ? v : NULL;
}

/* The clique's pod spec as the PodClique carries it: a new reference. */
static json_t *clique_pod_spec(const pol_pcs *pcs, const pol_clique *c)
{
	json_t *spec = NULL;
	const char *const *k = NULL;

	if (!json_is_object(c->pod))
		return json_object();
	if (pcs->form != POL_FORM_COMPACT)
		return json_deep_copy(c->pod);
	spec = json_deep_copy(c->pod);
	for (k = compact_non_spec_keys; spec && *k; k++)
		(void)json_object_del(spec, *k);
	return spec;
}

/* Clique ci's pod spec, made once per plan and shared by its PodCliques
 * (the plan is read-only): borrowed, or NULL with p->rc set. */
static json_t *pod_spec(planner *p, size_t ci)
{
	if (!p->specs[ci])
		p->specs[ci] = clique_pod_spec(p->pcs, &p->pcs->cliques[ci]);
	if (!p->specs[ci] && p->rc == GV_OK)
		p->rc = GV_ENOMEM;
	return p->specs[ci];
}

static const json_t *template_of(const pol_pcs *pcs)
{
	return json_object_get(json_object_get(pcs->doc, "spec"), "template");
}

static const char *priority_class(const pol_pcs *pcs)
{
	return json_string_value(
	    json_object_get(template_of(pcs), "priorityClassName"));
}

/* ---- the template hash (docs/api.md 7.1) ------------------------------ */

static uint64_t fnv1a64(const char *s)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= UINT64_C(0x100000001b3);
	}
	return h;
}

int rec_template_hash(const pol_pcs *pcs, char out[17])
{
	json_t *all = json_array();
	char *dump = NULL;
	size_t i = 0;
	int rc = GV_OK;

	if (!all)
		return GV_ENOMEM;
	for (i = 0; i < pcs->n_cliques && rc == GV_OK; i++) {
		const pol_clique *c = &pcs->cliques[i];
		json_t *e =
		    json_pack("{s:s?, s:O?, s:O?, s:o, s:s?}", "name", c->name,
			      "labels", clique_meta(c, "labels"), "annotations",
			      clique_meta(c, "annotations"), "podSpec",
			      clique_pod_spec(pcs, c), "priorityClassName",
			      priority_class(pcs));

		if (!e || json_array_append_new(all, e) != 0)
			rc = GV_ENOMEM;
	}
	if (rc == GV_OK) {
		dump = json_dumps(all, JSON_COMPACT | JSON_SORT_KEYS);
		if (!dump)
			rc = GV_ENOMEM;
	}
	if (rc == GV_OK)
		snprintf(out, 17, "%016" PRIx64, fnv1a64(dump));
	free(dump);
	json_decref(all);
	return rc;
}

/* ---- topology (docs/api.md 5 and 7) ----------------------------------- */

static const char *level_key(const json_t *levels, const char *domain)
{
	const json_t *l = NULL;
	size_t i = 0;

	json_array_foreach(levels, i, l)
	{
		const char *d = json_string_value(json_object_get(l, "domain"));

		if (d && domain && strcmp(d, domain) == 0)
			return json_string_value(json_object_get(l, "key"));
	}
	return NULL;
}

/* {packConstraint{required, preferred}} of a written constraint, in node
 * label keys; a new reference, or NULL when there is nothing to pack. */
static json_t *translate(planner *p, const json_t *tc)
{
	const json_t *pack = json_object_get(tc, "pack");
	const char *req = json_string_value(json_object_get(pack, "required"));
	const char *pref =
	    json_string_value(json_object_get(pack, "preferred"));
	const char *kreq = NULL;
	const char *kpref = NULL;
	json_t *pc = NULL;

	if (!req)
		req = json_string_value(json_object_get(tc, "packDomain"));
	if (!p->binding || !tc)
		return NULL;
	kreq = level_key(p->levels, req);
	kpref = level_key(p->levels, pref);
	if (!kreq && !kpref)
		return NULL;
	pc = json_object();
	if (kreq)
		put(p, pc, "required", json_string(kreq));
	if (kpref)
		put(p, pc, "preferred", json_string(kpref));
	return json_pack("{s:o}", "packConstraint", pc);
}

/* Finds the binding the set's constraints name (one name per set,
 * inherited; POL_DEFAULT_TOPOLOGY when none is written) and whether it
 * is in the input. */
static void resolve_binding(planner *p)
{
	const pol_pcs *pcs = p->pcs;
	const char *name = NULL;
	bool any = pcs->topology != NULL;
	size_t i = 0;

	name =
	    json_string_value(json_object_get(pcs->topology, "topologyName"));
	for (i = 0; i < pcs->n_groups; i++) {
		const json_t *t = pcs->groups[i].topology;

		any = any || t;
		if (!name)
			name = json_string_value(
			    json_object_get(t, "topologyName"));
	}
	for (i = 0; i < pcs->n_cliques; i++) {
		const json_t *t = pcs->cliques[i].topology;

		any = any || t;
		if (!name)
			name = json_string_value(
			    json_object_get(t, "topologyName"));
	}
	if (!any)
		return;
	if (!name)
		name = POL_DEFAULT_TOPOLOGY;
	p->levels = json_object_get(p->in->bindings, name);
	if (json_is_array(p->levels)) {
		p->binding = name;
		return;
	}
	p->levels = NULL;
	p->binding_missing = true;
	{
		char note[NAME_BUF + 256];

		snprintf(note, sizeof(note),
			 "ClusterTopologyBinding \"%s\" is not in the input: "
			 "PodGangs are planned without topology constraints "
			 "(TopologyLevelsUnavailable, reason "
			 "ClusterTopologyNotFound)",
			 name);
		push(p, p->notes, json_string(note));
	}
}

/* ---- set-level objects ------------------------------------------------ */

static void plan_set_objects(planner *p)
{
	const char *pcs = p->pcs->name;
	char secret[NAME_BUF];
	char role[NAME_BUF];
	json_t *o = NULL;

	fmt(p, secret, "%s-ic-sat", pcs);
	fmt(p, role, "grove.io:pcs:%s", pcs);

	o = object(p, "v1", "ServiceAccount", pcs, std_labels(p, COMP_SA, pcs));
	add_item(p, "PodCliqueSet", pcs, o);

	o = object(p, "v1", "Secret", secret,
		   std_labels(p, COMP_SECRET, secret));
	put(p, json_object_get(o, "metadata"), "annotations",
	    json_pack("{s:s}", "kubernetes.io/service-account.name", pcs));
	put(p, o, "type", json_string("kubernetes.io/service-account-token"));
	add_item(p, "PodCliqueSet", pcs, o);

	o = object(p, "rbac.authorization.k8s.io/v1", "Role", role,
		   std_labels(p, COMP_ROLE, role));
	put(p, o, "rules",
	    json_pack("[{s:[s], s:[s,s], s:[s,s,s]}]", "apiGroups", "",
		      "resources", "pods", "pods/status", "verbs", "get",
		      "list", "watch"));
	add_item(p, "PodCliqueSet", pcs, o);

	o = object(p, "rbac.authorization.k8s.io/v1", "RoleBinding", role,
		   std_labels(p, COMP_ROLE_BINDING, role));
	put(p, o, "roleRef",
	    json_pack("{s:s, s:s, s:s}", "apiGroup",
		      "rbac.authorization.k8s.io", "kind", "Role", "name",
		      role));
	put(p, o, "subjects",
	    json_pack("[{s:s, s:s, s:s}]", "kind", "ServiceAccount", "name",
		      pcs, "namespace", p->ns));
	add_item(p, "PodCliqueSet", pcs, o);
}

/* ---- per set replica -------------------------------------------------- */

/*
 * The count of a child: in the template form, template replicas apply
 * when a child is first created; a child that exists keeps its
 * spec.replicas (scaled through its /scale: observed wins). In the
 * compact form spec.replicas decides. list: observed objects, or NULL.
 */
static int64_t observed_count(const planner *p, const json_t *list,
			      const char *name, int64_t template_count)
{
	const json_t *o = NULL;
	size_t x = 0;

	if (p->pcs->form != POL_FORM_TEMPLATE)
		return template_count;
	json_array_foreach(list, x, o)
	{
		const char *n = json_string_value(
		    json_object_get(json_object_get(o, "metadata"), "name"));
		const json_t *r =
		    json_object_get(json_object_get(o, "spec"), "replicas");

		if (n && strcmp(n, name) == 0 && json_is_integer(r) &&
		    json_integer_value(r) >= 0 &&
		    json_integer_value(r) <= INT32_MAX)
			return json_integer_value(r);
	}
	return template_count;
}

static void plan_service(planner *p, int64_t i)
{
	char name[NAME_BUF];
	const json_t *hs =
	    json_object_get(template_of(p->pcs), "headlessServiceConfig");
	const json_t *pna = json_object_get(hs, "publishNotReadyAddresses");
	json_t *o = NULL;
	json_t *spec = NULL;

	fmt(p, name, "%s-%" PRId64, p->pcs->name, i);
	o = object(p, "v1", "Service", name, std_labels(p, COMP_SERVICE, name));
	spec = json_object();
	put(p, spec, "clusterIP", json_string("None"));
	put(p, spec, "selector",
	    json_pack("{s:s, s:s, s:o}", POL_LABEL_MANAGED_BY, POL_MANAGED_BY,
		      POL_LABEL_PART_OF, p->pcs->name, POL_LABEL_PCS_INDEX,
		      int_string(i)));
	put(p, spec, "publishNotReadyAddresses",
	    json_boolean(json_is_boolean(pna) ? json_is_true(pna) : true));
	put(p, o, "spec", spec);
	add_item(p, "PodCliqueSet", p->pcs->name, o);
}

/* What pol_pod_shape says of a PodClique (its pod 0): the template hash
 * and the parent PodCliques from grove-initc's flags. *shape_out is a
 * new reference. */
static json_t *clique_shape(planner *p, int64_t i, size_t ci, int64_t j,
			    const char *hash)
{
	pol_pod_ref ref = { .set_index = i,
			    .clique = ci,
			    .group_index = j < 0 ? 0 : j,
			    .pod_index = 0 };
	pol_pod_options o = { 0 };
	json_t *shape = NULL;
	int rc = GV_OK;

	if (p->in->pod_options)
		o = *p->in->pod_options;
	o.namespace = p->ns;
	o.template_hash = hash[0] ? hash : NULL;
	if (p->rc != GV_OK)
		return NULL;
	rc = pol_pod_shape(p->pcs, &ref, &o, &shape);
	if (rc != GV_OK)
		p->rc = gv_error_set(p->err, rc, NULL, 0, 0,
				     "cannot shape the pods of clique \"%s\"",
				     p->pcs->cliques[ci].name);
	return shape;
}

/* spec.startsAfter: the PodCliques named by grove-initc's flags. */
static json_t *starts_after(planner *p, const json_t *shape)
{
	const json_t *inits =
	    json_object_get(json_object_get(shape, "spec"), "initContainers");
	const json_t *ic = NULL;
	json_t *out = json_array();
	size_t k = 0;

	json_array_foreach(inits, k, ic)
	{
		const char *n = json_string_value(json_object_get(ic, "name"));
		const json_t *arg = NULL;
		size_t a = 0;

		if (!n || strcmp(n, POL_INITC_NAME) != 0)
			continue;
		json_array_foreach(json_object_get(ic, "args"), a, arg)
		{
			const char *s = json_string_value(arg);
			const char *colon = NULL;

			if (!s || strncmp(s, INITC_FLAG, strlen(INITC_FLAG)))
				continue;
			s += strlen(INITC_FLAG);
			colon = strrchr(s, ':');
			push(p, out,
			     json_stringn(s, colon ? (size_t)(colon - s)
						   : strlen(s)));
		}
	}
	return out;
}

/* The metadata policy gives the PodClique of (i, clique ci, unit j):
 * name, labels and annotations, as its pods carry them. A new
 * reference, or NULL with p->rc set. */
static json_t *podclique_meta(planner *p, int64_t i, size_t ci, int64_t j,
			      const char *hash)
{
	pol_pod_ref ref = { .set_index = i,
			    .clique = ci,
			    .group_index = j < 0 ? 0 : j,
			    .pod_index = 0 };
	json_t *meta = NULL;
	int rc = GV_OK;

	if (p->rc != GV_OK)
		return NULL;
	pol_pod_options o = { .template_hash = hash[0] ? hash : NULL };

	rc = pol_podclique_meta(p->pcs, &ref, &o, &meta);
	if (rc != GV_OK)
		p->rc = gv_error_set(p->err, rc, NULL, 0, 0,
				     "cannot name the PodClique of clique "
				     "\"%s\"",
				     p->pcs->cliques[ci].name);
	return meta;
}

/* ---- the pods of a PodClique against what is observed ----------------- */

/* A pod's metadata.<member>, or NULL. */
static const json_t *pod_meta(const json_t *pod, const char *member)
{
	return json_object_get(json_object_get(pod, "metadata"), member);
}

const char *rec_label(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(
	    json_object_get(json_object_get(o, "metadata"), "labels"), key));
}

int64_t rec_parse_index(const char *s, const char *end)
{
	int64_t v = 0;

	if (!s || s == end || !*s)
		return -1;
	if (s[0] == '0' && (end ? end - s > 1 : s[1] != '\0'))
		return -1;
	for (; end ? s < end : *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
		if (v > INT32_MAX)
			return -1;
	}
	return v;
}

/* An observed pod of ours in a PodClique, for the scale-in order. */
typedef struct held {
	const json_t *pod; /* borrowed */
	pod_slot slot;
	bool terminating;
	bool unscheduled;
	bool pending;
	bool not_ready;
	bool outdated;
	bool companion; /* a surge replacement of an outdated pod */
	const char *created; /* RFC 3339, or "" */
} held;

static bool pod_ready(const json_t *pod)
{
	const json_t *conds =
	    json_object_get(json_object_get(pod, "status"), "conditions");
	const json_t *c = NULL;
	size_t x = 0;

	json_array_foreach(conds, x, c)
	{
		const char *t = json_string_value(json_object_get(c, "type"));
		const char *st =
		    json_string_value(json_object_get(c, "status"));

		if (t && strcmp(t, "Ready") == 0)
			return st && strcmp(st, "True") == 0;
	}
	return false;
}

/* Upstream's deletion order: a before b (< 0) when a goes first. */
static int cmp_deletion(const void *va, const void *vb)
{
	const held *a = va;
	const held *b = vb;
	int c = 0;

	if (a->terminating != b->terminating)
		return a->terminating ? -1 : 1;
	if (a->unscheduled != b->unscheduled)
		return a->unscheduled ? -1 : 1;
	if (a->pending != b->pending)
		return a->pending ? -1 : 1;
	if (a->not_ready != b->not_ready)
		return a->not_ready ? -1 : 1;
	if (a->outdated != b->outdated)
		return a->outdated ? -1 : 1;
	c = strcmp(b->created, a->created); /* most recent first */
	if (c)
		return c;
	if (a->slot.index != b->slot.index)
		return a->slot.index > b->slot.index ? -1 : 1;
	if (a->slot.suffix != b->slot.suffix)
		return a->slot.suffix > b->slot.suffix ? -1 : 1;
	return 0;
}

static int cmp_slot(const void *va, const void *vb)
{
	const pod_slot *a = va;
	const pod_slot *b = vb;

	if (a->index != b->index)
		return a->index < b->index ? -1 : 1;
	if (a->suffix != b->suffix)
		return a->suffix < b->suffix ? -1 : 1;
	return 0;
}

/* Reads pod (of ours, labelled with PodClique pclq) into *h; false when
 * it holds no index: its labels or name are not the ones the planner
 * derives, or it is terminating and stuck. */
static bool read_held(const planner *p, const char *pclq, const json_t *pod,
		      const char *hash, held *h)
{
	const char *name = json_string_value(pod_meta(pod, "name"));
	const char *created =
	    json_string_value(pod_meta(pod, "creationTimestamp"));
	const char *phase = json_string_value(
	    json_object_get(json_object_get(pod, "status"), "phase"));
	const char *node = json_string_value(
	    json_object_get(json_object_get(pod, "spec"), "nodeName"));
	const char *ph = rec_label(pod, POL_LABEL_TEMPLATE_HASH);
	const char *rest = NULL;
	const char *dash = NULL;
	size_t len = strlen(pclq);

	memset(h, 0, sizeof(*h));
	h->pod = pod;
	h->slot.index =
	    rec_parse_index(rec_label(pod, POL_LABEL_POD_INDEX), NULL);
	if (!name || h->slot.index < 0 || strncmp(name, pclq, len) != 0 ||
	    name[len] != '-')
		return false;
	rest = name + len + 1;
	dash = strchr(rest, '-');
	if (rec_parse_index(rest, dash) != h->slot.index)
		return false;
	if (dash) {
		h->slot.suffix = rec_parse_index(dash + 1, NULL);
		if (h->slot.suffix < 1)
			return false;
	}
	h->terminating = pod_meta(pod, "deletionTimestamp") != NULL &&
			 !json_is_null(pod_meta(pod, "deletionTimestamp"));
	if (h->terminating && json_object_get(p->stuck, name))
		return false;
	h->unscheduled = !node || !*node;
	h->pending = phase && strcmp(phase, "Pending") == 0;
	h->not_ready = !pod_ready(pod);
	h->outdated = hash && (!ph || strcmp(ph, hash) != 0);
	h->created = created ? created : "";
	return true;
}

/* The slot a held pod takes, with what the rollout reads of it. */
static pod_slot slot_of(const held *h)
{
	pod_slot s = h->slot;

	s.pod = h->pod;
	s.created = h->created;
	s.outdated = h->outdated;
	s.ready = !h->not_ready;
	s.terminating = h->terminating;
	s.surge = h->companion;
	return s;
}

static int cmp_held_slot(const void *a, const void *b)
{
	return cmp_slot(&((const held *)a)->slot, &((const held *)b)->slot);
}

/* Marks the surge pairs among h[0..n) (sorted by slot): an index held by
 * exactly two pods, neither terminating, one outdated and one on the
 * current template: the latter is a replacement a rollout made first
 * (maxSurge), not a surplus. */
static void mark_surges(held *h, size_t n)
{
	size_t x = 0;

	while (x < n) {
		size_t y = x + 1;

		while (y < n && h[y].slot.index == h[x].slot.index)
			y++;
		if (y - x == 2 && !h[x].terminating && !h[x + 1].terminating &&
		    h[x].outdated != h[x + 1].outdated)
			(h[x].outdated ? &h[x + 1] : &h[x])->companion = true;
		x = y;
	}
}

/*
 * The pods of PodClique ref (ref->replicas of them, and the replacements
 * a surge made beside them) into ref->pods: the observed pods of ours
 * that hold an index, less the surplus in upstream's deletion order,
 * then new pods at the lowest free indices (suffixed when a stuck pod of
 * ours has the plain name). hash: the clique's current pod template
 * hash.
 */
static void plan_slots(planner *p, pclq_ref *ref, const char *hash)
{
	const json_t *pods = json_object_get(p->by_clique, ref->name);
	size_t n_obs = json_array_size(pods);
	held *h = NULL;
	size_t n_held = 0;
	size_t n_main = 0;
	size_t keep = 0;
	size_t kept = 0;
	size_t n = 0;
	size_t x = 0;
	size_t y = 0;
	int64_t k = 0;

	if (p->rc != GV_OK)
		return;
	/* room for the surges a rollout may add (plan_rollout) */
	ref->cap = 2 * (size_t)ref->replicas + n_obs + 1;
	ref->pods = calloc(ref->cap, sizeof(*ref->pods));
	h = n_obs ? calloc(n_obs, sizeof(*h)) : NULL;
	if (!ref->pods || (n_obs && !h)) {
		p->rc = GV_ENOMEM;
		goto out;
	}
	for (x = 0; x < n_obs; x++) {
		if (read_held(p, ref->name, json_array_get(pods, x), hash,
			      &h[n_held]))
			n_held++;
	}
	if (n_held > 1 && hash && !p->pcs->on_delete) {
		qsort(h, n_held, sizeof(*h), cmp_held_slot);
		mark_surges(h, n_held);
	}
	/* the companions aside (after the others), the rest as before */
	for (x = 0, n_main = 0; x < n_held; x++) {
		if (!h[x].companion) {
			held t = h[n_main];

			h[n_main++] = h[x];
			h[x] = t;
		}
	}
	/* the surplus goes first in the deletion order: keep the tail */
	if (n_main > 1)
		qsort(h, n_main, sizeof(*h), cmp_deletion);
	keep = n_main < (size_t)ref->replicas ? n_main : (size_t)ref->replicas;
	for (x = n_main - keep; x < n_main; x++)
		ref->pods[n++] = slot_of(&h[x]);
	qsort(ref->pods, n, sizeof(*ref->pods), cmp_slot);
	/* new pods at the lowest indices no kept pod holds (the kept ones
	 * are sorted: one walk, linear) */
	kept = n;
	for (k = 0, x = 0; n < (size_t)ref->replicas; k++) {
		char name[NAME_BUF];
		pod_slot s = { .index = k, .suffix = 0, .created = "" };

		while (x < kept && ref->pods[x].index < k)
			x++;
		if (x < kept && ref->pods[x].index == k)
			continue;
		if (json_object_size(p->stuck) == 0) {
			ref->pods[n++] = s;
			continue;
		}
		fmt(p, name, "%s-%" PRId64, ref->name, k);
		if (p->rc != GV_OK)
			goto out;
		if (json_object_get(p->stuck, name) &&
		    json_object_get(p->pod_names, name)) {
			do {
				s.suffix++;
				fmt(p, name, "%s-%" PRId64 "-%" PRId64,
				    ref->name, k, s.suffix);
			} while (p->rc == GV_OK &&
				 json_object_get(p->pod_names, name));
		}
		ref->pods[n++] = s;
	}
	/* a surge replacement stays while its outdated pod is kept */
	for (x = n_main; x < n_held; x++) {
		for (y = 0; y < kept; y++) {
			if (ref->pods[y].index == h[x].slot.index &&
			    ref->pods[y].outdated && n < ref->cap) {
				ref->pods[n++] = slot_of(&h[x]);
				break;
			}
		}
	}
	if (kept)
		qsort(ref->pods, n, sizeof(*ref->pods), cmp_slot);
	ref->n_pods = n;
out:
	free(h);
}

/* Indexes what is observed of the pods: by PodClique (ours only), every
 * name, the stuck names. Nothing observed: all three stay NULL. */
static void index_pods(planner *p)
{
	const rec_observed *obs = &p->in->observed;
	const json_t *pod = NULL;
	const json_t *v = NULL;
	size_t x = 0;

	if (!json_array_size(obs->pods))
		return;
	p->by_clique = json_object();
	p->pod_names = json_object();
	p->stuck = json_object();
	if (!p->by_clique || !p->pod_names || !p->stuck) {
		p->rc = GV_ENOMEM;
		return;
	}
	json_array_foreach(obs->stuck, x, v)
	{
		if (json_is_string(v) &&
		    json_object_set_new(p->stuck, json_string_value(v),
					json_true()))
			p->rc = GV_ENOMEM;
	}
	json_array_foreach(obs->pods, x, pod)
	{
		const char *name = json_string_value(pod_meta(pod, "name"));
		const char *pclq = rec_label(pod, POL_LABEL_PCLQ);
		const char *m = rec_label(pod, POL_LABEL_MANAGED_BY);
		const char *part = rec_label(pod, POL_LABEL_PART_OF);
		json_t *list = NULL;

		if (!name || p->rc != GV_OK)
			continue;
		if (json_object_set_new(p->pod_names, name, json_true()))
			p->rc = GV_ENOMEM;
		if (!pclq || !m || !part || strcmp(m, POL_MANAGED_BY) != 0 ||
		    strcmp(part, p->pcs->name) != 0)
			continue;
		list = json_object_get(p->by_clique, pclq);
		if (!list) {
			list = json_array();
			if (json_object_set_new(p->by_clique, pclq, list))
				p->rc = GV_ENOMEM;
		}
		if (p->rc == GV_OK &&
		    json_array_append(list, (json_t *)pod) != 0)
			p->rc = GV_ENOMEM;
	}
}

/* One PodClique; *ref is filled for the gangs and the pods. */
static void plan_podclique(planner *p, int64_t i, size_t ci, int64_t j,
			   const char *pcsg, pclq_ref *ref)
{
	const pol_pcs *pcs = p->pcs;
	const pol_clique *c = &pcs->cliques[ci];
	char *cached = p->hashes[ci];
	json_t *meta = podclique_meta(p, i, ci, j, cached);
	const char *hash = json_string_value(json_object_get(
	    json_object_get(meta, "labels"), POL_LABEL_TEMPLATE_HASH));
	json_t *shape = NULL;
	json_t *o = NULL;
	json_t *spec = json_object();
	const json_t *ann = json_object_get(meta, "annotations");

	/* computed once per clique: the same for all its PodCliques */
	if (hash && strlen(hash) == POL_TEMPLATE_HASH_LEN)
		memcpy(cached, hash, POL_TEMPLATE_HASH_LEN + 1);
	memcpy(ref->hash, cached, sizeof(ref->hash));
	shape = clique_shape(p, i, ci, j, ref->hash);

	if (pcsg)
		fmt(p, ref->name, "%s-%" PRId64 "-%s", pcsg, j, c->name);
	else
		fmt(p, ref->name, "%s-%" PRId64 "-%s", pcs->name, i, c->name);
	ref->clique = ci;
	ref->unit = j;
	ref->replicas = observed_count(p, p->in->observed.podcliques, ref->name,
				       c->replicas);
	plan_slots(p, ref, hash);
	/* the planner's names and policy's are one */
	if (p->rc == GV_OK &&
	    strcmp(json_string_value(json_object_get(meta, "name")),
		   ref->name) != 0)
		p->rc = gv_error_set(
		    p->err, GV_EINVAL, NULL, 0, 0,
		    "PodClique '%s' is '%s' to policy", ref->name,
		    json_string_value(json_object_get(meta, "name")));
	/* meta's own values, shared: meta goes below */
	o = object(p, GROVE_API, "PodClique", ref->name,
		   json_incref(json_object_get(meta, "labels")));
	if (ann && json_object_size(ann))
		put(p, json_object_get(o, "metadata"), "annotations",
		    json_incref((json_t *)ann));
	put(p, spec, "roleName",
	    json_string(c->role_name ? c->role_name : c->name));
	put(p, spec, "podSpec", json_incref(pod_spec(p, ci)));
	put(p, spec, "replicas", json_integer(ref->replicas));
	put(p, spec, "minAvailable", json_integer(c->min_available));
	{
		json_t *sa = starts_after(p, shape);

		if (sa && json_array_size(sa)) {
			ref->after = sa; /* borrowed: the plan keeps it */
			put(p, spec, "startsAfter", sa);
		} else
			json_decref(sa);
	}
	if (!pcsg && json_is_object(c->autoscaling))
		put(p, spec, "autoScalingConfig",
		    json_deep_copy(c->autoscaling));
	put(p, o, "spec", spec);
	add_item(p, pcsg ? "PodCliqueScalingGroup" : "PodCliqueSet",
		 pcsg ? pcsg : pcs->name, o);
	json_decref(meta);
	/* kept for its pod 0 */
	json_decref(ref->shape);
	ref->shape = shape;
}

/* A group's PodCliqueScalingGroup, then the PodCliques of each unit. */
static void plan_group(planner *p, int64_t i, size_t gi, pclq_ref *refs,
		       size_t *n_refs)
{
	const pol_pcs *pcs = p->pcs;
	const pol_group *g = &pcs->groups[gi];
	char name[NAME_BUF];
	json_t *o = NULL;
	json_t *spec = json_object();
	json_t *names = json_array();
	int64_t j = 0;
	size_t k = 0;

	fmt(p, name, "%s-%" PRId64 "-%s", pcs->name, i, g->name);
	for (k = 0; k < g->n_cliques; k++) {
		if (g->cliques[k] != SIZE_MAX)
			push(p, names,
			     json_string(pcs->cliques[g->cliques[k]].name));
	}
	o = object(p, GROVE_API, "PodCliqueScalingGroup", name,
		   std_labels(p, COMP_PCSG, name));
	{
		const json_t *ann = json_object_get(g->node, "annotations");

		if (json_is_object(ann) && json_object_size(ann))
			put(p, json_object_get(o, "metadata"), "annotations",
			    json_deep_copy(ann));
	}
	put(p, spec, "replicas", json_integer(p->units[gi]));
	put(p, spec, "minAvailable", json_integer(g->min_available));
	put(p, spec, "cliqueNames", names);
	put(p, o, "spec", spec);
	add_item(p, "PodCliqueSet", pcs->name, o);
	for (j = 0; j < p->units[gi] && p->rc == GV_OK; j++) {
		for (k = 0; k < g->n_cliques && p->rc == GV_OK; k++) {
			if (g->cliques[k] == SIZE_MAX)
				continue;
			plan_podclique(p, i, g->cliques[k], j, name,
				       &refs[(*n_refs)++]);
		}
	}
}

/* ---- PodGangs --------------------------------------------------------- */

static int cmp_ref_name(const void *a, const void *b)
{
	return strcmp(
	    json_string_value(json_object_get(*(json_t *const *)a, "name")),
	    json_string_value(json_object_get(*(json_t *const *)b, "name")));
}

/* The name of pod slot x of r, into buf. */
static void pod_name(planner *p, char *buf, const pclq_ref *r, int64_t x)
{
	const pod_slot *s = &r->pods[x];

	if (s->suffix > 0)
		fmt(p, buf, "%s-%" PRId64 "-%" PRId64, r->name, s->index,
		    s->suffix);
	else
		fmt(p, buf, "%s-%" PRId64, r->name, s->index);
}

/* {name, podReferences sorted by name, minReplicas, topologyConstraint} */
static json_t *podgroup(planner *p, const pclq_ref *r)
{
	const pol_clique *c = &p->pcs->cliques[r->clique];
	json_t *pg = json_object();
	json_t *refs = json_array();
	json_t **v = NULL;
	int64_t k = 0;
	size_t n = 0;

	for (k = 0; k < (int64_t)r->n_pods && p->rc == GV_OK; k++) {
		char pod[NAME_BUF];

		pod_name(p, pod, r, k);
		push(p, refs,
		     json_pack("{s:s, s:s}", "namespace", p->ns, "name", pod));
	}
	n = json_array_size(refs);
	v = n ? calloc(n, sizeof(*v)) : NULL;
	if (n && !v && p->rc == GV_OK)
		p->rc = GV_ENOMEM;
	if (v && p->rc == GV_OK) {
		size_t x = 0;

		for (x = 0; x < n; x++)
			v[x] = json_incref(json_array_get(refs, x));
		qsort(v, n, sizeof(*v), cmp_ref_name);
		json_array_clear(refs);
		for (x = 0; x < n; x++)
			push(p, refs, v[x]);
	}
	free(v);
	put(p, pg, "name", json_string(r->name));
	put(p, pg, "podReferences", refs);
	/* a clique paused at 0 asks for no pod */
	put(p, pg, "minReplicas",
	    json_integer(r->replicas > 0 ? c->min_available : 0));
	{
		json_t *tc = translate(p, c->topology);

		if (tc)
			put(p, pg, "topologyConstraint", tc);
	}
	return pg;
}

/* A group unit's topologyConstraintGroupConfigs entry
 * {name: <pcs>-<i>-<group>-<j>, podGroupNames, topologyConstraint}, or
 * NULL when the group packs nothing. */
static json_t *group_config(planner *p, int64_t i, const pclq_ref *refs,
			    size_t n_refs, size_t gi, int64_t j)
{
	const pol_group *g = &p->pcs->groups[gi];
	json_t *tc = translate(p, g->topology);
	json_t *names = NULL;
	char name[NAME_BUF];
	size_t x = 0;

	if (!tc)
		return NULL;
	names = json_array();
	for (x = 0; x < n_refs; x++) {
		if (refs[x].unit == j &&
		    p->pcs->cliques[refs[x].clique].group == (int)gi)
			push(p, names, json_string(refs[x].name));
	}
	fmt(p, name, "%s-%" PRId64 "-%s-%" PRId64, p->pcs->name, i, g->name, j);
	return json_pack("{s:s, s:o, s:o}", "name", name, "podGroupNames",
			 names, "topologyConstraint", tc);
}

/* A PodGang with policy's metadata (pol_podgang_meta), its name, and
 * grove.io/topology-name when constraints apply. */
static json_t *gang(planner *p, const char *name)
{
	json_t *meta = NULL;
	json_t *labels = NULL;
	json_t *ann = NULL;
	json_t *o = NULL;
	int rc = GV_OK;

	if (p->rc == GV_OK) {
		rc = pol_podgang_meta(p->pcs, &meta);
		if (rc != GV_OK)
			p->rc = gv_error_set(p->err, rc, NULL, 0, 0,
					     "cannot label the PodGangs");
	}
	labels = json_deep_copy(json_object_get(meta, "labels"));
	if (labels && !json_object_get(labels, POL_LABEL_APP_NAME))
		put(p, labels, POL_LABEL_APP_NAME, json_string(name));
	o = object(p, SCHED_API, "PodGang", name, labels);
	ann = json_deep_copy(json_object_get(meta, "annotations"));
	if (!ann)
		ann = json_object();
	if (p->binding)
		put(p, ann, POL_ANNOTATION_TOPOLOGY, json_string(p->binding));
	if (ann && json_object_size(ann))
		put(p, json_object_get(o, "metadata"), "annotations", ann);
	else
		json_decref(ann);
	json_decref(meta);
	return o;
}

/* Fills spec{podgroups, topologyConstraint,
 * topologyConstraintGroupConfigs, priorityClassName} and adds the gang. */
static void finish_gang(planner *p, json_t *o, json_t *groups, json_t *configs)
{
	json_t *spec = json_object();
	json_t *tc = translate(p, p->pcs->topology);
	const char *pc = priority_class(p->pcs);

	put(p, spec, "podgroups", groups);
	if (tc)
		put(p, spec, "topologyConstraint", tc);
	if (json_array_size(configs))
		put(p, spec, "topologyConstraintGroupConfigs", configs);
	else
		json_decref(configs);
	if (pc)
		put(p, spec, "priorityClassName", json_string(pc));
	put(p, o, "spec", spec);
	add_item(p, "PodCliqueSet", p->pcs->name, o);
}

static void plan_gangs(planner *p, int64_t i, const pclq_ref *refs,
		       size_t n_refs)
{
	const pol_pcs *pcs = p->pcs;
	char name[NAME_BUF];
	json_t *groups = json_array();
	json_t *configs = json_array();
	size_t x = 0;
	size_t gi = 0;
	int64_t j = 0;

	/* base: standalone cliques in template order, then the base units'
	 * cliques per group in cliqueNames order (refs are in that order) */
	fmt(p, name, "%s-%" PRId64, pcs->name, i);
	for (x = 0; x < n_refs; x++) {
		int g = pcs->cliques[refs[x].clique].group;

		if (g < 0 || refs[x].unit < pcs->groups[g].min_available)
			push(p, groups, podgroup(p, &refs[x]));
	}
	for (gi = 0; gi < pcs->n_groups; gi++) {
		const pol_group *g = &pcs->groups[gi];

		for (j = 0; j < g->min_available && j < p->units[gi]; j++) {
			json_t *cfg = group_config(p, i, refs, n_refs, gi, j);

			if (cfg)
				push(p, configs, cfg);
		}
	}
	finish_gang(p, gang(p, name), groups, configs);

	for (gi = 0; gi < pcs->n_groups && p->rc == GV_OK; gi++) {
		const pol_group *g = &pcs->groups[gi];
		size_t from = 0; /* a group's refs are in unit order: each
				    unit's scan starts past the last one's */

		for (j = g->min_available; j < p->units[gi]; j++) {
			json_t *cfg = NULL;

			fmt(p, name, "%s-%" PRId64 "-%s-%" PRId64, pcs->name, i,
			    g->name, j - g->min_available);
			groups = json_array();
			configs = json_array();
			for (x = from; x < n_refs; x++) {
				if (pcs->cliques[refs[x].clique].group !=
				    (int)gi)
					continue;
				if (refs[x].unit > j)
					break;
				if (refs[x].unit == j) {
					push(p, groups, podgroup(p, &refs[x]));
					from = x + 1;
				}
			}
			cfg = group_config(p, i, refs, n_refs, gi, j);
			if (cfg)
				push(p, configs, cfg);
			finish_gang(p, gang(p, name), groups, configs);
		}
	}
}

/* ---- HorizontalPodAutoscalers ----------------------------------------- */

static void hpa(planner *p, const char *kind, const char *target,
		const json_t *cfg)
{
	json_t *o = object(p, "autoscaling/v2", "HorizontalPodAutoscaler",
			   target, std_labels(p, COMP_HPA, target));
	json_t *spec = json_object();
	const json_t *mn = json_object_get(cfg, "minReplicas");
	const json_t *mx = json_object_get(cfg, "maxReplicas");
	const json_t *metrics = json_object_get(cfg, "metrics");

	put(p, spec, "scaleTargetRef",
	    json_pack("{s:s, s:s, s:s}", "apiVersion", GROVE_API, "kind", kind,
		      "name", target));
	if (mn)
		put(p, spec, "minReplicas", json_deep_copy(mn));
	if (mx)
		put(p, spec, "maxReplicas", json_deep_copy(mx));
	if (metrics)
		put(p, spec, "metrics", json_deep_copy(metrics));
	put(p, o, "spec", spec);
	add_item(p, "PodCliqueSet", p->pcs->name, o);
}

static void plan_hpas(planner *p, int64_t i)
{
	const pol_pcs *pcs = p->pcs;
	char name[NAME_BUF];
	size_t x = 0;

	if (pcs->form != POL_FORM_TEMPLATE)
		return;
	for (x = 0; x < pcs->n_cliques; x++) {
		const pol_clique *c = &pcs->cliques[x];

		if (c->group >= 0 || !json_is_object(c->autoscaling))
			continue;
		fmt(p, name, "%s-%" PRId64 "-%s", pcs->name, i, c->name);
		hpa(p, "PodClique", name, c->autoscaling);
	}
	for (x = 0; x < pcs->n_groups; x++) {
		const pol_group *g = &pcs->groups[x];

		if (!json_is_object(g->scale_config))
			continue;
		fmt(p, name, "%s-%" PRId64 "-%s", pcs->name, i, g->name);
		hpa(p, "PodCliqueScalingGroup", name, g->scale_config);
	}
}

/* ---- pods: policy's builder ------------------------------------------- */

/* The shape of pod slot x of r: a new reference, or NULL with p->rc set. */
static json_t *pod_shape(planner *p, int64_t i, const pclq_ref *r, int64_t x)
{
	pol_pod_ref ref = { .set_index = i,
			    .clique = r->clique,
			    .group_index = r->unit < 0 ? 0 : r->unit,
			    .pod_index = r->pods[x].index };
	pol_pod_options o = { 0 };
	json_t *shape = NULL;
	int rc = GV_OK;

	if (p->rc != GV_OK)
		return NULL;
	if (p->in->pod_options)
		o = *p->in->pod_options;
	o.namespace = p->ns;
	o.template_hash = r->hash[0] ? r->hash : NULL;
	rc = pol_pod_shape(p->pcs, &ref, &o, &shape);
	if (rc != GV_OK)
		p->rc = gv_error_set(p->err, rc, NULL, 0, 0,
				     "cannot shape pod %" PRId64
				     " of PodClique \"%s\"",
				     ref.pod_index, r->name);
	return shape;
}

/*
 * A pod as the pod webhook would shape it: the clique's pod spec under
 * an empty metadata, given what shape says by the webhook's own patch
 * (pol_pod_patch, pol_patch_apply). A new reference, or NULL with p->rc
 * set.
 */
static json_t *webhook_pod(planner *p, const pclq_ref *r, const json_t *shape)
{
	json_t *pod = NULL;
	json_t *patch = NULL;
	json_t *shaped = NULL;
	gv_error_t perr = GV_ERROR_INIT;
	int rc = GV_OK;

	pod = json_pack("{s:s, s:s, s:{}, s:o}", "apiVersion", "v1", "kind",
			"Pod", "metadata", "spec",
			json_incref(pod_spec(p, r->clique)));
	if (!pod)
		rc = GV_ENOMEM;
	if (rc == GV_OK)
		rc = pol_pod_patch(pod, shape, NULL, &patch);
	if (rc == GV_OK)
		rc = pol_patch_apply(pod, patch, &shaped, &perr);
	if (rc != GV_OK)
		p->rc = gv_error_set(p->err, rc, NULL, 0, 0,
				     "cannot shape the pods of PodClique "
				     "\"%s\"",
				     r->name);
	json_decref(patch);
	json_decref(pod);
	return shaped;
}

/*
 * Pod slot x of r: carrying exactly what the pod webhook would give it,
 * then the name, namespace, hostname and subdomain, which the worker
 * sets and the webhook does not patch. The first pod of each clique is
 * built as the webhook would (webhook_pod); every later one is a copy
 * of it made into its own pod by pol_pod_restamped, which takes all that
 * groved shapes from the pod's own shape: the same pod (test_plan
 * compares both ways over 3,000 generated sets) for a fraction of the
 * cost of a patch per pod. shape: r's first pod's when x is 0 and it
 * has index 0 (plan_podclique made it), else NULL.
 */
static void plan_pod(planner *p, int64_t i, const pclq_ref *r, int64_t x)
{
	const json_t **proto = &p->protos[r->clique];
	char name[NAME_BUF];
	json_t *shape = NULL;
	json_t *pod = NULL;
	json_t *meta = NULL;
	const json_t *sspec = NULL;
	int rc = GV_OK;

	if (p->rc != GV_OK)
		return;
	if (x == 0 && r->shape && r->pods[x].index == 0)
		shape = json_incref(r->shape);
	else
		shape = pod_shape(p, i, r, x);
	if (!shape)
		goto out;
	if (*proto && !p->in->shape_every_pod) {
		rc = pol_pod_restamped(*proto, shape, &pod);
		if (rc != GV_OK) {
			p->rc = gv_error_set(p->err, rc, NULL, 0, 0,
					     "cannot shape pod %" PRId64
					     " of PodClique \"%s\"",
					     r->pods[x].index, r->name);
			goto out;
		}
		/* its own metadata (pol_pod_restamped), so its own name */
		pod_name(p, name, r, x);
		put(p, json_object_get(pod, "metadata"), "name",
		    json_string(name));
		add_item(p, "PodClique", r->name, pod);
		pod = NULL;
		goto out;
	}
	pod = webhook_pod(p, r, shape);
	if (!pod)
		goto out;
	/* name and namespace first, as in every other object; a
	 * replacement of a stuck pod is suffixed, its hostname not */
	meta = json_object();
	pod_name(p, name, r, x);
	put(p, meta, "name", json_string(name));
	put(p, meta, "namespace", json_string(p->ns));
	overlay(p, meta, json_object_get(pod, "metadata"));
	put(p, pod, "metadata", meta);
	sspec = json_object_get(shape, "spec");
	put(p, json_object_get(pod, "spec"), "hostname",
	    json_deep_copy(json_object_get(sspec, "hostname")));
	put(p, json_object_get(pod, "spec"), "subdomain",
	    json_deep_copy(json_object_get(sspec, "subdomain")));
	if (p->rc != GV_OK)
		goto out;
	/* borrowed from the plan's items, which nothing changes */
	*proto = pod;
	add_item(p, "PodClique", r->name, pod);
	pod = NULL;
out:
	json_decref(pod);
	json_decref(shape);
}

/* ---- rollouts (docs/reconcile.md, "Rollouts") ------------------------ */

/* Whether slot s holds a pod on the current template that has not been
 * Ready for longer than deadline seconds since it was made; a deadline
 * still running asks for a round when it ends (recheck_s). */
static bool stalled(planner *p, const pod_slot *s, double deadline,
		    const char *deadline_written)
{
	time_t t0 = 0;
	int64_t age = 0;

	if (deadline <= 0 || p->in->now <= 0 || !s->pod || s->outdated ||
	    s->ready || s->terminating || !gv_time_parse_utc(s->created, &t0))
		return false;
	age = p->in->now - (int64_t)t0;
	if ((double)age > deadline) {
		if (!p->held_pod[0]) {
			snprintf(p->held_pod, sizeof(p->held_pod), "%s",
				 json_string_value(pod_meta(s->pod, "name")));
			p->held_deadline = deadline_written;
		}
		return true;
	}
	if (!p->recheck_s || (int64_t)deadline - age + 1 < p->recheck_s)
		p->recheck_s = (int64_t)deadline - age + 1;
	return false;
}

/* The pod of s is deleted this round for the rollout. */
static void roll_recreate(planner *p, const pod_slot *s)
{
	const char *name = json_string_value(pod_meta(s->pod, "name"));

	if (s->pod && !s->terminating && name &&
	    json_object_set_new(p->recreate, name, json_true()) &&
	    p->rc == GV_OK)
		p->rc = GV_ENOMEM;
}

static void roll_step(planner *p, const char *what, const char *component,
		      int64_t unit, const char *pod, bool below_min)
{
	push(p, p->steps,
	     json_pack("{s:s, s:s, s:I, s:s?, s:b}", "what", what, "component",
		       component, "unit", (json_int_t)unit, "pod", pod,
		       "belowMin", below_min));
}

/* Where the component stands for the components after it. */
static void roll_note(planner *p, int64_t i, const char *name,
		      const rec_roll_result *res)
{
	if (res->outdated)
		p->roll_active = true;
	if (p->roll_blocked || !res->unfinished)
		return;
	p->roll_blocked = true;
	snprintf(p->blocker, sizeof(p->blocker), "%s", name);
	p->blocker_i = i;
	p->blocker_res = *res;
}

/* The lowest suffix s >= 1 such that <pclq>-<k>-<s> is no observed pod
 * and no slot of r. */
static int64_t free_suffix(planner *p, const pclq_ref *r, int64_t k)
{
	char name[NAME_BUF];
	int64_t s = 0;
	size_t x = 0;
	bool used = true;

	while (used && p->rc == GV_OK) {
		s++;
		fmt(p, name, "%s-%" PRId64 "-%" PRId64, r->name, k, s);
		used = json_object_get(p->pod_names, name) != NULL;
		for (x = 0; !used && x < r->n_pods; x++)
			used = r->pods[x].index == k && r->pods[x].suffix == s;
	}
	return s;
}

/* A standalone PodClique's pods, one item per index. */
static void roll_clique(planner *p, int64_t i, pclq_ref *r)
{
	const pol_clique *c = &p->pcs->cliques[r->clique];
	const pol_rolling *ru = &c->rolling;
	rec_roll_budget b = { 0 };
	rec_roll_result res = { 0 };
	rec_roll_item *items = calloc(r->n_pods + 1, sizeof(*items));
	size_t *at = calloc(r->n_pods + 1, sizeof(*at)); /* item -> slot */
	size_t n = 0;
	size_t x = 0;
	size_t m = 0;
	size_t added = 0;

	if (!items || !at) {
		p->rc = GV_ENOMEM;
		goto out;
	}
	for (x = 0; x < r->n_pods; x++) {
		const pod_slot *s = &r->pods[x];

		if (s->surge)
			continue;
		at[n] = x;
		items[n].outdated = s->pod && s->outdated && !s->terminating;
		items[n].available = s->pod && s->ready && !s->terminating;
		items[n].going = s->pod && s->terminating;
		items[n].stalled = stalled(p, s, ru->progress_deadline_s,
					   ru->progress_deadline);
		n++;
	}
	for (x = 0; x < r->n_pods; x++) {
		const pod_slot *s = &r->pods[x];

		if (!s->surge)
			continue;
		for (m = 0; m < n; m++) {
			if (r->pods[at[m]].index != s->index)
				continue;
			items[m].surged = true;
			items[m].surge_ready = s->ready && !s->terminating;
			items[m].available |= items[m].surge_ready;
			items[m].stalled |=
			    stalled(p, s, ru->progress_deadline_s,
				    ru->progress_deadline);
			break;
		}
	}
	b.min_available =
	    c->min_available < r->replicas ? c->min_available : r->replicas;
	b.max_unavailable = ru->max_unavailable;
	b.max_surge = ru->max_surge;
	b.turn = !p->roll_blocked;
	rec_roll_decide(&b, items, n, &res);
	for (m = 0; m < n && p->rc == GV_OK; m++) {
		pod_slot *s = &r->pods[at[m]];
		const char *pod = json_string_value(pod_meta(s->pod, "name"));

		switch (items[m].act) {
		case REC_ROLL_RECREATE:
			roll_recreate(p, s);
			roll_step(p, "pod", r->name, -1, pod, res.below_min);
			break;
		case REC_ROLL_RETIRE:
			s->retired = true;
			roll_step(p, "retire", r->name, -1, pod, false);
			break;
		case REC_ROLL_SURGE:
			if (r->n_pods + added >= r->cap)
				break;
			r->pods[r->n_pods + added] =
			    (pod_slot){ .index = s->index,
					.suffix = free_suffix(p, r, s->index),
					.created = "",
					.surge = true };
			added++;
			roll_step(p, "surge", r->name, -1, pod, false);
			break;
		default:
			break;
		}
	}
	/* the retired ones out of the plan (their pods are deleted as
	 * planned by no one), the surges in */
	r->n_pods += added;
	for (x = 0, m = 0; x < r->n_pods; x++) {
		if (!r->pods[x].retired)
			r->pods[m++] = r->pods[x];
	}
	r->n_pods = m;
	if (added)
		qsort(r->pods, r->n_pods, sizeof(*r->pods), cmp_slot);
	roll_note(p, i, r->name, &res);
out:
	free(items);
	free(at);
}

/* Whether r is a PodClique of one of the units [0, units) of group gi. */
static bool unit_of(const planner *p, const pclq_ref *r, size_t gi,
		    int64_t units)
{
	return p->pcs->cliques[r->clique].group == (int)gi && r->unit >= 0 &&
	       r->unit < units;
}

/* A scaling group's units: each recreated whole, never two templates. */
static void roll_group(planner *p, int64_t i, size_t gi, pclq_ref *refs,
		       size_t n_refs)
{
	const pol_group *g = &p->pcs->groups[gi];
	const pol_rolling *ru = &g->rolling;
	int64_t units = p->units[gi];
	rec_roll_budget b = { 0 };
	rec_roll_result res = { 0 };
	rec_roll_item *items = calloc((size_t)units + 1, sizeof(*items));
	bool *short_of = calloc((size_t)units + 1, sizeof(*short_of));
	bool *old_left = calloc((size_t)units + 1, sizeof(*old_left));
	char name[NAME_BUF];
	char key[NAME_BUF + 24];
	const json_t *pod = NULL;
	size_t x = 0;
	size_t k = 0;
	int64_t j = 0;

	if (!items || !short_of || !old_left) {
		p->rc = GV_ENOMEM;
		goto out;
	}
	for (x = 0; x < n_refs; x++) {
		const pclq_ref *r = &refs[x];
		int64_t need = p->pcs->cliques[r->clique].min_available;
		int64_t ready = 0;

		if (!unit_of(p, r, gi, units))
			continue;
		/* any pod of ours still on another template, terminating or
		 * stuck ones too (they may still run): the unit's new pods
		 * keep their gate (outdated_units) */
		json_array_foreach(json_object_get(p->by_clique, r->name), k,
				   pod)
		{
			const char *h = rec_label(pod, POL_LABEL_TEMPLATE_HASH);

			if (h && r->hash[0] && strcmp(h, r->hash) != 0)
				old_left[r->unit] = true;
		}
		for (k = 0; k < r->n_pods; k++) {
			const pod_slot *s = &r->pods[k];
			rec_roll_item *it = &items[r->unit];

			if (s->pod && s->ready && !s->terminating)
				ready++;
			it->outdated |=
			    s->pod && s->outdated && !s->terminating;
			it->going |= s->pod && s->terminating;
			it->stalled |= stalled(p, s, ru->progress_deadline_s,
					       ru->progress_deadline);
		}
		if (need > r->replicas)
			need = r->replicas;
		if (ready < need)
			short_of[r->unit] = true;
	}
	for (j = 0; j < units; j++) {
		items[j].available = !short_of[j];
		items[j].base = j < g->min_available;
	}
	b.min_available = g->min_available < units ? g->min_available : units;
	b.max_unavailable = ru->max_unavailable;
	b.turn = !p->roll_blocked;
	rec_roll_decide(&b, items, (size_t)units, &res);
	for (x = 0; x < n_refs && p->rc == GV_OK; x++) {
		const pclq_ref *r = &refs[x];

		if (!unit_of(p, r, gi, units) ||
		    items[r->unit].act != REC_ROLL_RECREATE)
			continue;
		for (k = 0; k < r->n_pods; k++)
			roll_recreate(p, &r->pods[k]);
	}
	fmt(p, name, "%s-%" PRId64 "-%s", p->pcs->name, i, g->name);
	for (j = 0; j < units && p->rc == GV_OK; j++) {
		if (items[j].act == REC_ROLL_RECREATE)
			roll_step(p, "unit", name, j, NULL, res.below_min);
		snprintf(key, sizeof(key), "%s/%" PRId64, name, j);
		if (old_left[j] &&
		    json_object_set_new(p->outdated_units, key, json_true()))
			p->rc = GV_ENOMEM;
	}
	roll_note(p, i, name, &res);
out:
	free(items);
	free(short_of);
	free(old_left);
}

/* A rollout's component: a standalone PodClique or a group. */
typedef struct roll_comp {
	int64_t depth; /* its startup wave (parents first) */
	bool group; /* a group after the standalone cliques of its wave */
	size_t id; /* the ref (standalone) or the group */
	size_t pos; /* its first ref: plan order */
} roll_comp;

static int cmp_comp(const void *va, const void *vb)
{
	const roll_comp *a = va;
	const roll_comp *b = vb;

	if (a->depth != b->depth)
		return a->depth < b->depth ? -1 : 1;
	if (a->group != b->group)
		return a->group ? 1 : -1;
	return a->pos < b->pos ? -1 : a->pos > b->pos;
}

/* The startup wave of each ref (0: no parent) from spec.startsAfter;
 * a cycle (validation refuses those) stops after n_refs passes. */
static void ref_depths(planner *p, const pclq_ref *refs, size_t n_refs,
		       int64_t *depth)
{
	json_t *idx = json_object();
	size_t pass = 0;
	size_t x = 0;
	bool changed = true;

	if (!idx) {
		p->rc = GV_ENOMEM;
		return;
	}
	for (x = 0; x < n_refs; x++) {
		if (json_object_set_new(idx, refs[x].name, json_integer(x)))
			p->rc = GV_ENOMEM;
	}
	for (pass = 0; changed && pass <= n_refs; pass++) {
		changed = false;
		for (x = 0; x < n_refs; x++) {
			const json_t *a = NULL;
			size_t k = 0;
			int64_t d = 0;

			json_array_foreach(refs[x].after, k, a)
			{
				const json_t *y =
				    json_object_get(idx, json_string_value(a));

				if (y && depth[json_integer_value(y)] + 1 > d)
					d = depth[json_integer_value(y)] + 1;
			}
			if (d != depth[x]) {
				depth[x] = d;
				changed = true;
			}
		}
	}
	json_decref(idx);
}

/*
 * Set replica i's part of a rollout (RollingRecreate; docs/reconcile.md):
 * its components in startup order, each decided by rec_roll_decide; the
 * budgeted work only in the first component of the set that is not
 * finished. Pods to delete go to p->recreate, surges into the refs'
 * slots, before the gangs list them.
 */
static void plan_rollout(planner *p, int64_t i, pclq_ref *refs, size_t n_refs)
{
	int64_t *depth = NULL;
	roll_comp *comps = NULL;
	size_t n = 0;
	size_t x = 0;
	size_t gi = 0;

	if (!p->by_clique || p->rc != GV_OK)
		return;
	if (p->pcs->on_delete) {
		/* nothing is recreated; the report says what is outdated */
		for (x = 0; x < n_refs; x++) {
			size_t k = 0;

			for (k = 0; k < refs[x].n_pods; k++)
				p->roll_active |= refs[x].pods[k].pod &&
						  refs[x].pods[k].outdated;
		}
		return;
	}
	depth = calloc(n_refs + 1, sizeof(*depth));
	comps = calloc(n_refs + p->pcs->n_groups + 1, sizeof(*comps));
	if (!depth || !comps) {
		p->rc = GV_ENOMEM;
		goto out;
	}
	ref_depths(p, refs, n_refs, depth);
	for (x = 0; x < n_refs; x++) {
		if (refs[x].unit < 0)
			comps[n++] = (roll_comp){ .depth = depth[x],
						  .group = false,
						  .id = x,
						  .pos = x };
	}
	for (gi = 0; gi < p->pcs->n_groups; gi++) {
		roll_comp g = { .depth = INT64_MAX, .group = true, .id = gi };

		for (x = 0; x < n_refs; x++) {
			if (refs[x].unit < 0 ||
			    p->pcs->cliques[refs[x].clique].group != (int)gi)
				continue;
			if (g.depth == INT64_MAX)
				g.pos = x;
			if (depth[x] < g.depth)
				g.depth = depth[x];
		}
		if (g.depth != INT64_MAX)
			comps[n++] = g;
	}
	qsort(comps, n, sizeof(*comps), cmp_comp);
	for (x = 0; x < n && p->rc == GV_OK; x++) {
		if (comps[x].group)
			roll_group(p, i, comps[x].id, refs, n_refs);
		else
			roll_clique(p, i, &refs[comps[x].id]);
	}
out:
	free(depth);
	free(comps);
}

/* The plan's rollout report (reconcile.h, rec_plan.rollout): a new
 * reference, or NULL with p->rc set. */
static json_t *rollout_report(planner *p)
{
	const rec_roll_result *b = &p->blocker_res;
	/* the first unfinished component, also once nothing is outdated:
	 * the statuses keep a rollout open until its last replacements are
	 * available (rec_status.c) */
	bool rolling = p->roll_blocked;
	char hold[NAME_BUF * 2 + 128] = "";
	char waiting[NAME_BUF + 256] = "";
	json_t *r = NULL;

	if (rolling && b->held && p->held_pod[0])
		snprintf(hold, sizeof(hold),
			 "pod %s on the new template is not Ready within "
			 "its progressDeadline (%s) of being made: the "
			 "rollout holds, the pods still on the old "
			 "template keep serving",
			 p->held_pod,
			 p->held_deadline ? p->held_deadline : "set");
	if (rolling && !b->outdated)
		snprintf(waiting, sizeof(waiting),
			 "waiting for %s (set replica %" PRId64
			 ") to be available before the rollout goes on: "
			 "%zu of its pods or units are not",
			 p->blocker, p->blocker_i, b->unavailable);
	r = json_pack("{s:b, s:s, s:I, s:s?, s:s?, s:s?, s:O, s:O, s:O, s:I}",
		      "active", p->roll_active, "strategy",
		      p->pcs->on_delete ? "OnDelete" : "RollingRecreate",
		      "replicaIndex", (json_int_t)(rolling ? p->blocker_i : -1),
		      "component", rolling ? p->blocker : NULL, "held",
		      hold[0] ? hold : NULL, "waiting",
		      waiting[0] ? waiting : NULL, "recreate", p->recreate,
		      "outdatedUnits", p->outdated_units, "steps", p->steps,
		      "recheckSeconds", (json_int_t)p->recheck_s);
	if (!r && p->rc == GV_OK)
		p->rc = GV_ENOMEM;
	return r;
}

/* ---- the plan --------------------------------------------------------- */

/* One set replica: the PodCliques' refs are gathered for the gangs and
 * the pods. */
static void plan_replica(planner *p, int64_t i)
{
	const pol_pcs *pcs = p->pcs;
	pclq_ref *refs = NULL;
	size_t n = 0;
	size_t n_refs = 0;
	size_t x = 0;
	int64_t k = 0;

	for (x = 0; x < pcs->n_groups; x++) {
		char name[NAME_BUF];

		fmt(p, name, "%s-%" PRId64 "-%s", pcs->name, i,
		    pcs->groups[x].name);
		p->units[x] = observed_count(p, p->in->observed.groups, name,
					     pcs->groups[x].replicas);
	}
	for (x = 0; x < pcs->n_cliques; x++) {
		const pol_clique *c = &pcs->cliques[x];

		n += c->group < 0 ? 1 : (size_t)p->units[c->group];
	}
	refs = calloc(n + 1, sizeof(*refs));
	if (!refs && p->rc == GV_OK)
		p->rc = GV_ENOMEM;
	if (p->rc != GV_OK)
		goto out;
	plan_service(p, i);
	for (x = 0; x < pcs->n_cliques && p->rc == GV_OK; x++) {
		if (pcs->cliques[x].group < 0)
			plan_podclique(p, i, x, -1, NULL, &refs[n_refs++]);
	}
	for (x = 0; x < pcs->n_groups && p->rc == GV_OK; x++)
		plan_group(p, i, x, refs, &n_refs);
	plan_rollout(p, i, refs, n_refs);
	if (p->rc == GV_OK)
		plan_gangs(p, i, refs, n_refs);
	if (p->rc == GV_OK)
		plan_hpas(p, i);
	for (x = 0; x < n_refs && p->rc == GV_OK; x++) {
		for (k = 0; k < (int64_t)refs[x].n_pods && p->rc == GV_OK; k++)
			plan_pod(p, i, &refs[x], k);
	}
out:
	for (x = 0; refs && x < n_refs; x++) {
		free(refs[x].pods);
		json_decref(refs[x].shape);
	}
	free(refs);
}

/* Every object's name fits a DNS label: 63 characters (V4 keeps the
 * budget; this is the planner's own check). */
static void check_names(planner *p)
{
	const json_t *item = NULL;
	size_t x = 0;

	json_array_foreach(p->items, x, item)
	{
		const json_t *o = json_object_get(item, "object");
		const char *n = json_string_value(
		    json_object_get(json_object_get(o, "metadata"), "name"));

		if (p->rc == GV_OK && n && strlen(n) > POL_NAME_MAX)
			p->rc = gv_error_set(
			    p->err, GV_ETOOBIG, NULL, 0, 0,
			    "%s name '%s' is longer than %d characters",
			    json_string_value(json_object_get(o, "kind")), n,
			    POL_NAME_MAX);
	}
}

static bool model_named(const pol_pcs *pcs)
{
	size_t x = 0;

	if (!pcs || !pcs->name)
		return false;
	for (x = 0; x < pcs->n_cliques; x++) {
		if (!pcs->cliques[x].name)
			return false;
	}
	for (x = 0; x < pcs->n_groups; x++) {
		if (!pcs->groups[x].name)
			return false;
	}
	return true;
}

int rec_plan_build(const rec_input *in, rec_plan *out, gv_error_t *err)
{
	planner p = { 0 };
	int64_t i = 0;
	int64_t n = 0;
	int rc = GV_OK;

	if (!in || !out || !model_named(in->pcs)) {
		rc = gv_error_set(err, GV_EINVAL, NULL, 0, 0,
				  "the set, a clique or a group has no name");
		goto out;
	}
	p.in = in;
	p.pcs = in->pcs;
	p.err = err;
	p.ns = in->namespace	    ? in->namespace
	       : in->pcs->namespace ? in->pcs->namespace
				    : "default";
	p.items = json_array();
	p.notes = json_array();
	p.units = calloc(p.pcs->n_groups + 1, sizeof(*p.units));
	p.protos = calloc(p.pcs->n_cliques + 1, sizeof(*p.protos));
	p.specs = calloc(p.pcs->n_cliques + 1, sizeof(*p.specs));
	p.hashes = calloc(p.pcs->n_cliques + 1, sizeof(*p.hashes));
	p.recreate = json_object();
	p.outdated_units = json_object();
	p.steps = json_array();
	if (!p.items || !p.notes || !p.units || !p.protos || !p.specs ||
	    !p.hashes || !p.recreate || !p.outdated_units || !p.steps) {
		rc = GV_ENOMEM;
		goto out;
	}
	rc = rec_template_hash(p.pcs, out->template_hash);
	if (rc != GV_OK)
		goto out;
	resolve_binding(&p);
	index_pods(&p);
	plan_set_objects(&p);
	n = set_replicas(p.pcs);
	for (i = 0; i < n && p.rc == GV_OK; i++)
		plan_replica(&p, i);
	check_names(&p);
	if (p.rc == GV_OK)
		out->rollout = rollout_report(&p);
	rc = p.rc;
	if (rc != GV_OK)
		goto out;
	out->items = p.items;
	out->notes = p.notes;
	out->binding_missing = p.binding_missing;
	p.items = NULL;
	p.notes = NULL;
out:
	free(p.units);
	free(p.protos);
	for (i = 0; p.specs && i < (int64_t)p.pcs->n_cliques; i++)
		json_decref(p.specs[i]);
	free(p.specs);
	free(p.hashes);
	json_decref(p.by_clique);
	json_decref(p.pod_names);
	json_decref(p.stuck);
	json_decref(p.recreate);
	json_decref(p.outdated_units);
	json_decref(p.steps);
	json_decref(p.items);
	json_decref(p.notes);
	return rc;
}

void rec_plan_release(rec_plan *plan)
{
	if (!plan)
		return;
	json_decref(plan->items);
	json_decref(plan->notes);
	json_decref(plan->rollout);
	plan->items = NULL;
	plan->notes = NULL;
	plan->rollout = NULL;
}

/* ---- startup waves ---------------------------------------------------- */

int rec_plan_waves(const rec_plan *plan, json_t **waves_out)
{
	json_t *waves = json_array();
	json_t *wave_of = json_object(); /* name -> wave number */
	json_t *cliques = json_array(); /* the PodClique objects */
	const json_t *item = NULL;
	size_t x = 0;
	size_t placed = 0;
	int rc = GV_OK;

	if (!waves || !wave_of || !cliques) {
		rc = GV_ENOMEM;
		goto out;
	}
	json_array_foreach(plan->items, x, item)
	{
		const json_t *o = json_object_get(item, "object");
		const char *kind =
		    json_string_value(json_object_get(o, "kind"));

		if (kind && strcmp(kind, "PodClique") == 0 &&
		    json_array_append((json_t *)cliques, (json_t *)o)) {
			rc = GV_ENOMEM;
			goto out;
		}
	}
	while (placed < json_array_size(cliques)) {
		json_int_t w = (json_int_t)json_array_size(waves) + 1;
		json_t *wave = json_array();
		const json_t *o = NULL;

		if (!wave || json_array_append_new(waves, wave)) {
			rc = GV_ENOMEM;
			goto out;
		}
		json_array_foreach(cliques, x, o)
		{
			const char *n = json_string_value(json_object_get(
			    json_object_get(o, "metadata"), "name"));
			const json_t *sa = json_object_get(
			    json_object_get(o, "spec"), "startsAfter");
			const json_t *parent = NULL;
			size_t a = 0;
			bool ready = true;

			if (json_object_get(wave_of, n))
				continue;
			json_array_foreach(sa, a, parent)
			{
				const json_t *pw = json_object_get(
				    wave_of, json_string_value(parent));

				if (!pw || json_integer_value(pw) >= w)
					ready = false;
			}
			if (!ready)
				continue;
			if (json_array_append_new(wave, json_string(n)))
				rc = GV_ENOMEM;
		}
		if (json_array_size(wave) == 0) {
			/* a cycle: the rest make one last wave */
			json_array_foreach(cliques, x, o)
			{
				const char *n =
				    json_string_value(json_object_get(
					json_object_get(o, "metadata"),
					"name"));

				if (!json_object_get(wave_of, n) &&
				    json_array_append_new(wave, json_string(n)))
					rc = GV_ENOMEM;
			}
		}
		json_array_foreach(wave, x, o)
		{
			if (json_object_set_new(wave_of, json_string_value(o),
						json_integer(w)))
				rc = GV_ENOMEM;
		}
		placed += json_array_size(wave);
		if (rc != GV_OK)
			goto out;
	}
	*waves_out = waves;
	waves = NULL;
out:
	json_decref(waves);
	json_decref(wave_of);
	json_decref(cliques);
	return rc;
}

/* ---- actions: the plan against what is observed ----------------------- */

static const char *obj_name(const json_t *o)
{
	return json_string_value(
	    json_object_get(json_object_get(o, "metadata"), "name"));
}

/* "Kind/name", into buf. */
static const char *obj_key(const json_t *o, char *buf, size_t size)
{
	const char *k = json_string_value(json_object_get(o, "kind"));
	const char *n = obj_name(o);

	snprintf(buf, size, "%s/%s", k ? k : "", n ? n : "");
	return buf;
}

static bool is_ours(const json_t *o, const char *pcs)
{
	const char *m = rec_label(o, POL_LABEL_MANAGED_BY);
	const char *part = rec_label(o, POL_LABEL_PART_OF);

	return m && part && strcmp(m, POL_MANAGED_BY) == 0 &&
	       strcmp(part, pcs) == 0;
}

/*
 * want within got: each member of a want object is in got and within it,
 * arrays are as long and within element by element, other values equal.
 * What the API server or another controller adds beside groved's values
 * (a Service's clusterIP and a port's protocol, the token controller's
 * Secret data, another tool's label) is then no difference: rewriting
 * would loop forever, or fail on an immutable field.
 */
static bool within(const json_t *want, const json_t *got)
{
	const char *key = NULL;
	const json_t *v = NULL;
	size_t i = 0;

	if (json_is_object(want)) {
		if (!json_is_object(got))
			return false;
		json_object_foreach((json_t *)want, key, v)
		{
			if (!within(v, json_object_get(got, key)))
				return false;
		}
		return true;
	}
	if (json_is_array(want)) {
		if (!json_is_array(got) ||
		    json_array_size(got) != json_array_size(want))
			return false;
		json_array_foreach(want, i, v)
		{
			if (!within(v, json_array_get(got, i)))
				return false;
		}
		return true;
	}
	return json_equal(want, got);
}

/* Grove's own kinds: their CRDs default nothing, and groved writes their
 * whole spec, so a member that is more than planned differs too. */
static bool grove_kind(const json_t *o)
{
	static const char *const kinds[] = { "PodClique",
					     "PodCliqueScalingGroup", "PodGang",
					     NULL };
	const char *kind = json_string_value(json_object_get(o, "kind"));
	const char *const *k = NULL;

	for (k = kinds; kind && *k; k++) {
		if (strcmp(*k, kind) == 0)
			return true;
	}
	return false;
}

/*
 * The members of want that got differs in, with their planned values:
 * labels and annotations under "metadata" (whole maps, when a planned key
 * is missing or other: a merge patch leaves other keys alone), the rest
 * at the top. Grove's kinds compare equal; other kinds compare within
 * (what the server fills in is no difference); a pod never differs: its
 * spec cannot change, its scheduling gate is the worker's to remove, and
 * its labels say what it was made as (grove.io/pod-template-hash: the
 * template it runs, which a rollout, not a patch, changes). A new
 * reference, {} when nothing.
 */
static json_t *differing(const json_t *want, const json_t *got)
{
	static const char *const meta_keys[] = { "labels", "annotations",
						 NULL };
	const json_t *wm = json_object_get(want, "metadata");
	const json_t *gm = json_object_get(got, "metadata");
	const char *kind = json_string_value(json_object_get(want, "kind"));
	bool exact = grove_kind(want);
	bool pod = kind && strcmp(kind, "Pod") == 0;
	json_t *out = json_object();
	json_t *meta = json_object();
	const char *const *k = NULL;
	const char *key = NULL;
	json_t *v = NULL;
	int bad = !out || !meta;

	for (k = meta_keys; !bad && !pod && *k; k++) {
		const json_t *w = json_object_get(wm, *k);

		if (w && !within(w, json_object_get(gm, *k)))
			bad |= json_object_set(meta, *k, (json_t *)w);
	}
	if (!bad && json_object_size(meta))
		bad |= json_object_set(out, "metadata", meta);
	json_object_foreach((json_t *)want, key, v)
	{
		const json_t *g = json_object_get(got, key);

		if (bad || pod || strcmp(key, "apiVersion") == 0 ||
		    strcmp(key, "kind") == 0 || strcmp(key, "metadata") == 0 ||
		    strcmp(key, "status") == 0)
			continue;
		if (exact ? !json_equal(v, g) : !within(v, g))
			bad |= json_object_set(out, key, v);
	}
	json_decref(meta);
	if (bad) {
		json_decref(out);
		return NULL;
	}
	return out;
}

/* A pod of ours that has ended (Failed: evicted, its node lost, a
 * container that stopped for good; or Succeeded) and is not yet going. */
static bool pod_ended(const json_t *o)
{
	const char *kind = json_string_value(json_object_get(o, "kind"));
	const char *phase = json_string_value(
	    json_object_get(json_object_get(o, "status"), "phase"));

	return kind && strcmp(kind, "Pod") == 0 && phase &&
	       (strcmp(phase, "Failed") == 0 ||
		strcmp(phase, "Succeeded") == 0) &&
	       !json_object_get(json_object_get(o, "metadata"),
				"deletionTimestamp");
}

/* A pod of ours, not terminating, that the plan's rollout deletes. */
static bool recreated(const rec_plan *plan, const json_t *got)
{
	const json_t *r = json_object_get(plan->rollout, "recreate");
	const char *kind = json_string_value(json_object_get(got, "kind"));

	return r && kind && strcmp(kind, "Pod") == 0 &&
	       json_object_get(r, obj_name(got)) &&
	       !json_object_get(json_object_get(got, "metadata"),
				"deletionTimestamp");
}

int rec_plan_actions(const rec_plan *plan, const pol_pcs *pcs,
		     const rec_observed *obs, json_t **actions_out)
{
	const json_t *lists[5] = { NULL };
	json_t *seen = json_object(); /* key -> observed object */
	json_t *wanted = json_object(); /* key -> true */
	json_t *actions = json_array();
	const json_t *item = NULL;
	char key[NAME_BUF * 2];
	size_t l = 0;
	size_t i = 0;
	int rc = GV_ENOMEM;

	if (!seen || !wanted || !actions || !plan || !pcs || !pcs->name)
		goto out;
	if (obs) {
		lists[0] = obs->others;
		lists[1] = obs->groups;
		lists[2] = obs->podcliques;
		lists[3] = obs->podgangs;
		lists[4] = obs->pods;
	}
	for (l = 0; l < 5; l++) {
		json_array_foreach(lists[l], i, item)
		{
			obj_key(item, key, sizeof(key));
			if (!json_object_get(seen, key) &&
			    json_object_set(seen, key, (json_t *)item))
				goto out;
		}
	}
	json_array_foreach(plan->items, i, item)
	{
		const json_t *o = json_object_get(item, "object");
		const json_t *got =
		    json_object_get(seen, obj_key(o, key, sizeof(key)));
		const char *kind =
		    json_string_value(json_object_get(o, "kind"));
		json_t *a = NULL;

		if (json_object_set_new(wanted, key, json_true()))
			goto out;
		if (!got) {
			a = json_pack("{s:s, s:s, s:s, s:O}", "action",
				      "create", "kind", kind, "name",
				      obj_name(o), "object", (json_t *)o);
		} else if (!is_ours(got, pcs->name)) {
			a = json_pack("{s:s, s:s, s:s}", "action", "conflict",
				      "kind", kind, "name", obj_name(o));
		} else if (recreated(plan, got)) {
			/* the rollout's: made again on the current template
			 * under its name once gone (the next plan) */
			a = json_pack("{s:s, s:s, s:s}", "action", "delete",
				      "kind", kind, "name", obj_name(o));
		} else if (pod_ended(got)) {
			/* replaced on its index: deleted now, made again under
			 * its name once gone (the next plan) */
			a = json_pack("{s:s, s:s, s:s}", "action", "delete",
				      "kind", kind, "name", obj_name(o));
		} else {
			json_t *d = differing(o, got);

			if (!d)
				goto out;
			if (json_object_size(d) == 0) {
				json_decref(d);
				continue;
			}
			a = json_pack("{s:s, s:s, s:s, s:o}", "action",
				      "update", "kind", kind, "name",
				      obj_name(o), "fields", d);
		}
		if (!a || json_array_append_new(actions, a))
			goto out;
	}
	for (l = 0; l < 5; l++) {
		json_array_foreach(lists[l], i, item)
		{
			json_t *a = NULL;

			obj_key(item, key, sizeof(key));
			if (json_object_get(wanted, key) ||
			    !is_ours(item, pcs->name))
				continue;
			/* already going: nothing to do */
			if (json_object_get(json_object_get(item, "metadata"),
					    "deletionTimestamp"))
				continue;
			/* once, even when listed twice */
			if (json_object_set_new(wanted, key, json_true()))
				goto out;
			a = json_pack(
			    "{s:s, s:s?, s:s?}", "action", "delete", "kind",
			    json_string_value(json_object_get(item, "kind")),
			    "name", obj_name(item));
			if (!a || json_array_append_new(actions, a))
				goto out;
		}
	}
	*actions_out = actions;
	actions = NULL;
	rc = GV_OK;
out:
	json_decref(actions);
	json_decref(wanted);
	json_decref(seen);
	return rc;
}
