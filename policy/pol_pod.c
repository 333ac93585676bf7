/*
 * pol_pod.c: the one pod builder of docs/api.md sections 5 and 6. The worker
 * lays pol_pod_shape's result over a clique's pod spec; the pod webhook
 * turns it into a JSON Patch with pol_pod_patch, adding only what a pod
 * lacks, so both give a pod the same names, labels, gate, scheduler, env
 * and startup-order init container.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>

#include "pol_int.h"

/* A pod name is a DNS subdomain: at most 253 characters. */
#define NAME_BUF 254
/* <pcs>-<i>.<namespace>.svc.cluster.local */
#define FQDN_BUF 512
/* Digits of an index we read back from a label or a name: 18 keep it
 * well inside int64_t. */
#define INDEX_DIGITS_MAX 18
/* A parent in another group contributes one flag per base unit; a
 * minAvailable beyond this is not a real workload. */
#define PARENT_UNITS_MAX 4096

static const char *const compact_non_pod_keys[] = {
	"name", "replicas", "minAvailable", "startsAfter", NULL,
};

/* snprintf that reports truncation as GV_ETOOBIG. */
static int fmt_name(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fmt_name(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size)
		return GV_ETOOBIG;
	return GV_OK;
}

/* Sets obj.key = val, stealing val; the first failure sticks in *rc. */
static void put(json_t *obj, const char *key, json_t *val, int *rc)
{
	if (*rc != GV_OK || !obj) {
		json_decref(val);
		return;
	}
	if (json_object_set_new(obj, key, val) != 0)
		*rc = GV_ENOMEM;
}

/* Appends val to arr, stealing val; the first failure sticks in *rc. */
static void push(json_t *arr, json_t *val, int *rc)
{
	if (*rc != GV_OK || !arr) {
		json_decref(val);
		return;
	}
	if (json_array_append_new(arr, val) != 0)
		*rc = GV_ENOMEM;
}

static json_t *int_string(int64_t n)
{
	char s[24];

	snprintf(s, sizeof(s), "%" PRId64, n);
	return json_string(s);
}

/* {"name": name, "value": value}, a container env var. */
static json_t *env_var(const char *name, json_t *value)
{
	if (!value)
		return NULL;
	return json_pack("{s:s, s:o}", "name", name, "value", value);
}

/* ---------------------------------------------------------------------
 * The template hash
 * ------------------------------------------------------------------- */

static uint64_t fnv1a64(const char *s)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= UINT64_C(0x100000001b3);
	}
	return h;
}

/* The pod template of clique c, as documented in policy.h: a new
 * reference, or NULL when out of memory. */
static json_t *pod_template(const pol_pcs *pcs, const pol_clique *c)
{
	json_t *tpl = NULL;
	const char *const *k = NULL;

	if (!c->pod)
		return json_null();
	if (pcs->form != POL_FORM_COMPACT)
		return json_incref((json_t *)c->pod);
	tpl = json_copy((json_t *)c->pod);
	if (!tpl)
		return NULL;
	for (k = compact_non_pod_keys; *k; k++)
		(void)json_object_del(tpl, *k);
	return tpl;
}

static int template_hash(const pol_pcs *pcs, const pol_clique *c, char *out,
			 size_t size)
{
	json_t *tpl = NULL;
	char *dump = NULL;
	char hex[17];
	int rc = GV_OK;

	tpl = pod_template(pcs, c);
	if (!tpl) {
		rc = GV_ENOMEM;
		goto out;
	}
	dump = json_dumps(tpl, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	if (!dump) {
		rc = GV_ENOMEM;
		goto out;
	}
	snprintf(hex, sizeof(hex), "%016" PRIx64, fnv1a64(dump));
	snprintf(out, size, "%.*s", POL_TEMPLATE_HASH_LEN, hex);
out:
	free(dump);
	json_decref(tpl);
	return rc;
}

/* ---------------------------------------------------------------------
 * Names (docs/api.md section 5)
 * ------------------------------------------------------------------- */

typedef struct pod_names {
	char base[NAME_BUF]; /* <pcs>-<i>: headless Service, base gang */
	char pcsg[NAME_BUF]; /* <pcs>-<i>-<group>; "" standalone */
	char pclq[NAME_BUF];
	char pod[NAME_BUF]; /* also the hostname */
	char gang[NAME_BUF];
	char service[FQDN_BUF]; /* GROVE_HEADLESS_SERVICE */
} pod_names;

static int make_names(const pol_pcs *pcs, const pol_clique *c,
		      const pol_group *g, const pol_pod_ref *ref,
		      const char *ns, pod_names *n)
{
	int rc = GV_OK;

	rc = fmt_name(n->base, sizeof(n->base), "%s-%" PRId64, pcs->name,
		      ref->set_index);
	if (rc == GV_OK && g)
		rc = fmt_name(n->pcsg, sizeof(n->pcsg), "%s-%s", n->base,
			      g->name);
	if (rc == GV_OK && g)
		rc = fmt_name(n->pclq, sizeof(n->pclq), "%s-%" PRId64 "-%s",
			      n->pcsg, ref->group_index, c->name);
	else if (rc == GV_OK)
		rc = fmt_name(n->pclq, sizeof(n->pclq), "%s-%s", n->base,
			      c->name);
	if (rc == GV_OK)
		rc = fmt_name(n->pod, sizeof(n->pod), "%s-%" PRId64, n->pclq,
			      ref->pod_index);
	/* the base gang holds standalone cliques and units below the
	 * group's minAvailable; each later unit is a scaled gang */
	if (rc == GV_OK && g && ref->group_index >= g->min_available)
		rc = fmt_name(n->gang, sizeof(n->gang), "%s-%" PRId64, n->pcsg,
			      ref->group_index - g->min_available);
	else if (rc == GV_OK)
		rc = fmt_name(n->gang, sizeof(n->gang), "%s", n->base);
	if (rc == GV_OK)
		rc = fmt_name(n->service, sizeof(n->service),
			      "%s.%s.svc.cluster.local", n->base, ns);
	return rc;
}

/* ---------------------------------------------------------------------
 * Startup order (docs/api.md section 6)
 * ------------------------------------------------------------------- */

/* Adds "--podcliques=<parent pclq>:<n>" flags for parent p of the pod. */
static int add_parent_flags(const pol_pcs *pcs, const pol_clique *c,
			    const pol_pod_ref *ref, const pol_clique *p,
			    json_t *args)
{
	char flag[NAME_BUF + 64];
	int64_t n = p->min_available;
	int64_t u = 0;
	const pol_group *pg = NULL;
	int rc = GV_OK;

	if (!p->name)
		return GV_OK;
	if (p->group < 0) {
		rc = fmt_name(flag, sizeof(flag),
			      "--podcliques=%s-%" PRId64 "-%s:%" PRId64,
			      pcs->name, ref->set_index, p->name, n);
		if (rc == GV_OK)
			push(args, json_string(flag), &rc);
		return rc;
	}
	pg = &pcs->groups[p->group];
	if (!pg->name)
		return GV_OK;
	if (p->group == c->group) {
		/* the same unit's PodClique */
		rc = fmt_name(flag, sizeof(flag),
			      "--podcliques=%s-%" PRId64 "-%s-%" PRId64
			      "-%s:%" PRId64,
			      pcs->name, ref->set_index, pg->name,
			      ref->group_index, p->name, n);
		if (rc == GV_OK)
			push(args, json_string(flag), &rc);
		return rc;
	}
	/* another group: its base units 0..minAvailable-1 */
	if (pg->min_available > PARENT_UNITS_MAX)
		return GV_ETOOBIG;
	for (u = 0; u < pg->min_available && rc == GV_OK; u++) {
		rc = fmt_name(
		    flag, sizeof(flag),
		    "--podcliques=%s-%" PRId64 "-%s-%" PRId64 "-%s:%" PRId64,
		    pcs->name, ref->set_index, pg->name, u, p->name, n);
		if (rc == GV_OK)
			push(args, json_string(flag), &rc);
	}
	return rc;
}

/* A parent by name: the clique it names, or NULL (unknown or self:
 * validation reports both). */
static const pol_clique *parent_named(const pol_pcs *pcs, size_t self,
				      const json_t *name)
{
	size_t pi = pol_pcs_find_clique(pcs, json_string_value(name));

	if (pi == SIZE_MAX || pi == self)
		return NULL;
	return &pcs->cliques[pi];
}

/* The init container's args: "initc" then one flag per parent PodClique.
 * Sets *args_out to a new reference, or NULL when the clique has no
 * parent. */
static int initc_args(const pol_pcs *pcs, const pol_pod_ref *ref,
		      json_t **args_out)
{
	const pol_clique *c = &pcs->cliques[ref->clique];
	json_t *args = NULL;
	const json_t *el = NULL;
	const pol_clique *p = NULL;
	size_t k = 0;
	int rc = GV_OK;

	args = json_pack("[s]", "initc");
	if (!args) {
		rc = GV_ENOMEM;
		goto out;
	}
	switch (pcs->startup) {
	case POL_STARTUP_EXPLICIT:
		if (json_is_string(c->starts_after)) {
			p = parent_named(pcs, ref->clique, c->starts_after);
			if (p)
				rc = add_parent_flags(pcs, c, ref, p, args);
			break;
		}
		json_array_foreach(c->starts_after, k, el)
		{
			p = parent_named(pcs, ref->clique, el);
			if (p)
				rc = add_parent_flags(pcs, c, ref, p, args);
			if (rc != GV_OK)
				break;
		}
		break;
	case POL_STARTUP_IN_ORDER:
		if (ref->clique > 0)
			rc = add_parent_flags(
			    pcs, c, ref, &pcs->cliques[ref->clique - 1], args);
		break;
	default:
		/* AnyOrder (and an invalid type, which validation refuses):
		 * no parents */
		break;
	}
out:
	if (rc == GV_OK && json_array_size(args) > 1) {
		*args_out = args;
		args = NULL;
	} else if (rc == GV_OK) {
		*args_out = NULL;
	}
	json_decref(args);
	return rc;
}

/* ---------------------------------------------------------------------
 * The shape
 * ------------------------------------------------------------------- */

static json_t *shape_labels(const pol_pcs *pcs, const pol_clique *c,
			    const pol_pod_ref *ref, const pod_names *n,
			    const char *hash, int *rc)
{
	json_t *l = json_object();
	const json_t *pcs_labels = NULL;
	const char *queue = NULL;

	if (!l) {
		*rc = GV_ENOMEM;
		return NULL;
	}
	put(l, POL_LABEL_MANAGED_BY, json_string(POL_MANAGED_BY), rc);
	put(l, POL_LABEL_PART_OF, json_string(pcs->name), rc);
	put(l, POL_LABEL_PCS, json_string(pcs->name), rc);
	put(l, POL_LABEL_PCS_CLIQUE, json_string(c->name), rc);
	put(l, POL_LABEL_PCLQ, json_string(n->pclq), rc);
	put(l, POL_LABEL_PODGANG, json_string(n->gang), rc);
	put(l, POL_LABEL_PCS_INDEX, int_string(ref->set_index), rc);
	if (c->group >= 0) {
		put(l, POL_LABEL_PCSG, json_string(n->pcsg), rc);
		put(l, POL_LABEL_PCSG_INDEX, int_string(ref->group_index), rc);
	}
	put(l, POL_LABEL_POD_INDEX, int_string(ref->pod_index), rc);
	put(l, POL_LABEL_TEMPLATE_HASH, json_string(hash), rc);
	pcs_labels =
	    json_object_get(json_object_get(pcs->doc, "metadata"), "labels");
	queue = pol_get_str(pcs_labels, POL_LABEL_KAI_QUEUE);
	if (queue)
		put(l, POL_LABEL_KAI_QUEUE, json_string(queue), rc);
	return l;
}

/* Pods of one unit of group g: the sum of its cliques' pod counts. */
static int64_t unit_pods(const pol_pcs *pcs, const pol_group *g)
{
	int64_t sum = 0;
	size_t k = 0;

	for (k = 0; k < g->n_cliques; k++) {
		if (g->cliques[k] != SIZE_MAX)
			sum += pcs->cliques[g->cliques[k]].replicas;
	}
	return sum;
}

static json_t *shape_env(const pol_pcs *pcs, const pol_clique *c,
			 const pol_pod_ref *ref, const pod_names *n, int *rc)
{
	json_t *env = json_array();

	if (!env) {
		*rc = GV_ENOMEM;
		return NULL;
	}
	push(env, env_var("GROVE_PCS_NAME", json_string(pcs->name)), rc);
	push(env, env_var("GROVE_PCS_INDEX", int_string(ref->set_index)), rc);
	push(env, env_var("GROVE_PCLQ_NAME", json_string(n->pclq)), rc);
	push(env, env_var("GROVE_HEADLESS_SERVICE", json_string(n->service)),
	     rc);
	push(env, env_var("GROVE_PCLQ_POD_INDEX", int_string(ref->pod_index)),
	     rc);
	if (c->group >= 0) {
		push(env, env_var("GROVE_PCSG_NAME", json_string(n->pcsg)), rc);
		push(env,
		     env_var("GROVE_PCSG_INDEX", int_string(ref->group_index)),
		     rc);
		push(
		    env,
		    env_var("GROVE_PCSG_TEMPLATE_NUM_PODS",
			    int_string(unit_pods(pcs, &pcs->groups[c->group]))),
		    rc);
	}
	return env;
}

/* One {"name", "env"} per container of the clique. */
static json_t *shape_containers(const pol_clique *c, const json_t *env, int *rc)
{
	json_t *list = json_array();
	const json_t *ct = NULL;
	size_t k = 0;

	if (!list) {
		*rc = GV_ENOMEM;
		return NULL;
	}
	json_array_foreach(json_object_get(c->pod, "containers"), k, ct)
	{
		const char *name = pol_get_str(ct, "name");

		if (!name)
			continue;
		push(
		    list,
		    json_pack("{s:s, s:O}", "name", name, "env", (json_t *)env),
		    rc);
	}
	return list;
}

static const char *scheduler_of(const pol_clique *c, const pol_pod_options *o)
{
	const char *s = pol_get_str(c->pod, "schedulerName");

	if (s && s[0])
		return s;
	if (o && o->default_scheduler && o->default_scheduler[0])
		return o->default_scheduler;
	return POL_DEFAULT_SCHEDULER;
}

static bool ref_valid(const pol_pcs *pcs, const pol_pod_ref *ref)
{
	const pol_clique *c = NULL;

	if (!pcs || !ref || !pcs->name || ref->clique >= pcs->n_cliques)
		return false;
	c = &pcs->cliques[ref->clique];
	if (!c->name || ref->set_index < 0 || ref->pod_index < 0)
		return false;
	if (c->group >= 0 &&
	    (ref->group_index < 0 || !pcs->groups[c->group].name))
		return false;
	return true;
}

int pol_pod_shape(const pol_pcs *pcs, const pol_pod_ref *ref,
		  const pol_pod_options *o, json_t **shape_out)
{
	const pol_clique *c = NULL;
	const pol_group *g = NULL;
	const char *ns = NULL;
	pod_names *n = NULL;
	char hash[POL_TEMPLATE_HASH_LEN + 1];
	json_t *shape = NULL;
	json_t *meta = NULL;
	json_t *spec = NULL;
	json_t *env = NULL;
	json_t *args = NULL;
	int rc = GV_OK;

	if (!shape_out || !ref_valid(pcs, ref)) {
		rc = GV_EINVAL;
		goto out;
	}
	c = &pcs->cliques[ref->clique];
	g = c->group >= 0 ? &pcs->groups[c->group] : NULL;
	ns = o && o->namespace ? o->namespace
	     : pcs->namespace  ? pcs->namespace
			       : "default";
	n = calloc(1, sizeof(*n));
	if (!n) {
		rc = GV_ENOMEM;
		goto out;
	}
	rc = make_names(pcs, c, g, ref, ns, n);
	if (rc != GV_OK)
		goto out;
	rc = template_hash(pcs, c, hash, sizeof(hash));
	if (rc != GV_OK)
		goto out;
	rc = initc_args(pcs, ref, &args);
	if (rc != GV_OK)
		goto out;

	shape = json_object();
	meta = json_object();
	spec = json_object();
	if (!shape || !meta || !spec) {
		rc = GV_ENOMEM;
		goto out;
	}
	put(meta, "name", json_string(n->pod), &rc);
	put(meta, "namespace", json_string(ns), &rc);
	put(meta, "labels", shape_labels(pcs, c, ref, n, hash, &rc), &rc);
	put(spec, "schedulerName", json_string(scheduler_of(c, o)), &rc);
	put(spec, "schedulingGates",
	    json_pack("[{s:s}]", "name", POL_GATE_PODGANG), &rc);
	put(spec, "hostname", json_string(n->pod), &rc);
	put(spec, "subdomain", json_string(n->base), &rc);
	if (args) {
		put(spec, "initContainers",
		    json_pack("[{s:s, s:s, s:o}]", "name", POL_INITC_NAME,
			      "image",
			      o && o->initc_image ? o->initc_image
						  : POL_DEFAULT_INITC_IMAGE,
			      "args", args),
		    &rc);
		args = NULL;
	}
	env = shape_env(pcs, c, ref, n, &rc);
	put(spec, "containers", shape_containers(c, env, &rc), &rc);
	put(shape, "metadata", meta, &rc);
	meta = NULL;
	put(shape, "spec", spec, &rc);
	spec = NULL;
out:
	if (rc == GV_OK) {
		*shape_out = shape;
		shape = NULL;
	}
	json_decref(args);
	json_decref(env);
	json_decref(spec);
	json_decref(meta);
	json_decref(shape);
	free(n);
	return rc;
}

/* ---------------------------------------------------------------------
 * The patch
 * ------------------------------------------------------------------- */

typedef struct patcher {
	json_t *ops;
	int rc;
} patcher;

/* Appends {op, path: base + escaped keys..., value}; steals value. key
 * may be NULL (path is base alone). */
static void op_add(patcher *p, const char *op, const char *base,
		   const char *key, json_t *value)
{
	char path[POL_PATH_MAX * 2];
	size_t used = 0;
	int n = 0;

	if (p->rc != GV_OK)
		goto out;
	if (!value) {
		p->rc = GV_ENOMEM;
		goto out;
	}
	n = snprintf(path, sizeof(path), "%s", base);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		p->rc = GV_ETOOBIG;
		goto out;
	}
	used = (size_t)n;
	if (key &&
	    pol_pointer_append(path, sizeof(path), &used, key) != GV_OK) {
		p->rc = GV_ETOOBIG;
		goto out;
	}
	push(p->ops,
	     json_pack("{s:s, s:s, s:o}", "op", op, "path", path, "value",
		       value),
	     &p->rc);
	value = NULL;
out:
	json_decref(value);
}

/* The element of list whose "name" is name, or NULL. */
static const json_t *named(const json_t *list, const char *name)
{
	const json_t *el = NULL;
	size_t k = 0;

	if (!name)
		return NULL;
	json_array_foreach(list, k, el)
	{
		const char *s = pol_get_str(el, "name");

		if (s && strcmp(s, name) == 0)
			return el;
	}
	return NULL;
}

/* Elements of want (a list of {name, ...}) missing from obj.key: the
 * whole list when obj.key is absent, else one append per element. A
 * value of another type is left for the API server to refuse. */
static void add_missing_named(patcher *p, const json_t *obj, const char *key,
			      const char *ptr, const json_t *want)
{
	const json_t *have = json_object_get(obj, key);
	const json_t *el = NULL;
	char path[POL_PATH_MAX * 2];
	size_t k = 0;

	if (json_array_size(want) == 0)
		return;
	if (!have || json_is_null(have)) {
		op_add(p, "add", ptr, key, json_deep_copy(want));
		return;
	}
	if (!json_is_array(have))
		return;
	snprintf(path, sizeof(path), "%s/%s/-", ptr, key);
	json_array_foreach(want, k, el)
	{
		if (!named(have, pol_get_str(el, "name")))
			op_add(p, "add", path, NULL, json_deep_copy(el));
	}
}

static void patch_scheduler(patcher *p, const json_t *spec,
			    const json_t *want_spec, const char *apiserver)
{
	const char *want = pol_get_str(want_spec, "schedulerName");
	const json_t *have = json_object_get(spec, "schedulerName");
	const char *s = json_string_value(have);

	if (!want)
		return;
	if (!have || json_is_null(have)) {
		op_add(p, "add", "/spec/schedulerName", NULL,
		       json_string(want));
		return;
	}
	if (!s || strcmp(s, want) == 0)
		return;
	/* "" is unset; the API server's default is unset unless the shape
	 * asked for it (then s == want above); anything else was chosen */
	if (s[0] == '\0' || strcmp(s, apiserver) == 0)
		op_add(p, "replace", "/spec/schedulerName", NULL,
		       json_string(want));
}

static void patch_labels(patcher *p, const json_t *pod, const json_t *want)
{
	const json_t *meta = json_object_get(pod, "metadata");
	const json_t *have = json_object_get(meta, "labels");
	const char *key = NULL;
	json_t *val = NULL;

	if (json_object_size(want) == 0)
		return;
	if (!meta || json_is_null(meta)) {
		op_add(p, "add", "/metadata", NULL,
		       json_pack("{s:O}", "labels", (json_t *)want));
		return;
	}
	if (!json_is_object(meta))
		return;
	if (!have || json_is_null(have)) {
		op_add(p, "add", "/metadata/labels", NULL,
		       json_deep_copy(want));
		return;
	}
	if (!json_is_object(have))
		return;
	json_object_foreach((json_t *)want, key, val)
	{
		if (!json_object_get(have, key))
			op_add(p, "add", "/metadata/labels", key,
			       json_deep_copy(val));
	}
}

/* Every container of the pod gets the env of the shape container of the
 * same name, else of the shape's first container. */
static void patch_env(patcher *p, const json_t *spec, const json_t *want_spec)
{
	const json_t *want_list = json_object_get(want_spec, "containers");
	const json_t *ct = NULL;
	char ptr[64];
	size_t x = 0;

	json_array_foreach(json_object_get(spec, "containers"), x, ct)
	{
		const json_t *sc = named(want_list, pol_get_str(ct, "name"));

		if (!json_is_object(ct))
			continue;
		if (!sc)
			sc = json_array_get(want_list, 0);
		snprintf(ptr, sizeof(ptr), "/spec/containers/%zu", x);
		add_missing_named(p, ct, "env", ptr,
				  json_object_get(sc, "env"));
	}
}

int pol_pod_patch(const json_t *pod, const json_t *shape,
		  const char *apiserver_default, json_t **patch_out)
{
	patcher p = { NULL, GV_OK };
	const json_t *spec = json_object_get(pod, "spec");
	const json_t *want_spec = json_object_get(shape, "spec");
	const json_t *want_labels =
	    json_object_get(json_object_get(shape, "metadata"), "labels");

	if (!json_is_object(pod) || !json_is_object(shape) || !patch_out) {
		p.rc = GV_EINVAL;
		goto out;
	}
	if (!apiserver_default)
		apiserver_default = POL_APISERVER_SCHEDULER;
	p.ops = json_array();
	if (!p.ops) {
		p.rc = GV_ENOMEM;
		goto out;
	}
	/* a pod without a spec object is not a pod: the API server refuses
	 * it, so only the labels are offered */
	if (json_is_object(spec))
		add_missing_named(
		    &p, spec, "schedulingGates", "/spec",
		    json_object_get(want_spec, "schedulingGates"));
	if (json_is_object(spec))
		patch_scheduler(&p, spec, want_spec, apiserver_default);
	patch_labels(&p, pod, want_labels);
	if (json_is_object(spec)) {
		patch_env(&p, spec, want_spec);
		add_missing_named(&p, spec, "initContainers", "/spec",
				  json_object_get(want_spec, "initContainers"));
	}
out:
	if (p.rc == GV_OK) {
		*patch_out = p.ops;
		p.ops = NULL;
	}
	json_decref(p.ops);
	return p.rc;
}

/* ---------------------------------------------------------------------
 * Which pod a pod is
 * ------------------------------------------------------------------- */

/* A decimal index of 1..INDEX_DIGITS_MAX digits, without sign or
 * leading zeros; *p moves past it. */
static bool eat_index(const char **p, int64_t *out)
{
	const char *s = *p;
	int64_t v = 0;
	size_t n = 0;

	while (s[n] >= '0' && s[n] <= '9') {
		if (n == INDEX_DIGITS_MAX)
			return false;
		v = v * 10 + (s[n] - '0');
		n++;
	}
	if (n == 0 || (n > 1 && s[0] == '0'))
		return false;
	*p = s + n;
	*out = v;
	return true;
}

static bool eat(const char **p, const char *lit)
{
	size_t n = strlen(lit);

	if (strncmp(*p, lit, n) != 0)
		return false;
	*p += n;
	return true;
}

/* Parses a generated pod name: <pcs>-<i>-<clique>-<k>, or with group
 * <pcs>-<i>-<group>-<j>-<clique>-<k>. */
static bool parse_pod_name(const char *name, const char *pcs, const char *group,
			   const char *clique, int64_t *i, int64_t *j,
			   int64_t *k)
{
	const char *p = name;
	int64_t vi = 0;
	int64_t vj = 0;
	int64_t vk = 0;

	if (!name || !pcs || !clique)
		return false;
	if (!eat(&p, pcs) || !eat(&p, "-") || !eat_index(&p, &vi) ||
	    !eat(&p, "-"))
		return false;
	if (group && (!eat(&p, group) || !eat(&p, "-") || !eat_index(&p, &vj) ||
		      !eat(&p, "-")))
		return false;
	if (!eat(&p, clique) || !eat(&p, "-") || !eat_index(&p, &vk) ||
	    *p != '\0')
		return false;
	*i = vi;
	*j = vj;
	*k = vk;
	return true;
}

/* The index in label key when it is a decimal number, else fallback. */
static int64_t label_index(const json_t *labels, const char *key,
			   int64_t fallback)
{
	const char *s = pol_get_str(labels, key);
	int64_t v = 0;

	if (s && eat_index(&s, &v) && *s == '\0')
		return v;
	return fallback;
}

int pol_pod_ref_from_pod(const pol_pcs *pcs, const json_t *pod,
			 pol_pod_ref *ref_out)
{
	const json_t *meta = json_object_get(pod, "metadata");
	const json_t *labels = json_object_get(meta, "labels");
	const pol_clique *c = NULL;
	const char *group = NULL;
	pol_pod_ref ref = { 0, 0, 0, 0 };
	int64_t i = 0;
	int64_t j = 0;
	int64_t k = 0;

	ref.clique =
	    pol_pcs_find_clique(pcs, pol_get_str(labels, POL_LABEL_PCS_CLIQUE));
	if (ref.clique == SIZE_MAX || ref.clique >= pcs->n_cliques)
		return GV_ENOTFOUND;
	c = &pcs->cliques[ref.clique];
	if (c->group >= 0)
		group = pcs->groups[c->group].name;
	if (!parse_pod_name(pol_get_str(meta, "name"), pcs->name, group,
			    c->name, &i, &j, &k) ||
	    (c->group >= 0 && !group)) {
		i = 0;
		j = 0;
		k = 0;
	}
	ref.set_index = label_index(labels, POL_LABEL_PCS_INDEX, i);
	ref.group_index = label_index(labels, POL_LABEL_PCSG_INDEX, j);
	ref.pod_index = label_index(labels, POL_LABEL_POD_INDEX, k);
	*ref_out = ref;
	return GV_OK;
}
