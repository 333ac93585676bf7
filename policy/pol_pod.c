/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pol_pod.c: the one pod builder of docs/api.md sections 5 and 6. The worker
 * lays pol_pod_shape's result over a clique's pod spec; the pod webhook
 * turns it into a JSON Patch with pol_pod_patch, so both give a pod the
 * same names, labels and annotations, gate, scheduler, env (groved's
 * variables before the container's own, in init containers too) and
 * startup-order init container with the set's token.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>

#include "groved/gv_json.h"
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

/* Keys of a compact clique that do not shape its pods: left out of the
 * pod template and its hash, so a change to them starts no rollout
 * (rollingUpdate says how a rollout goes, it is not one). */
static const char *const compact_non_pod_keys[] = {
	"name",	       "replicas",	"minAvailable",
	"startsAfter", "rollingUpdate", NULL,
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

static json_t *int_string(int64_t n)
{
	char s[24];

	snprintf(s, sizeof(s), "%" PRId64, n);
	return json_string(s);
}

/* {k1: v1, ..., key: val} with the string members first, in order: what
 * json_pack("{s:s, ..., s:o}") builds, without parsing a format for every
 * pod. Steals val; a new reference, or NULL when out of memory (or a
 * string is NULL or not UTF-8). */
static json_t *obj_strs(const char *const *kv, size_t n_kv, const char *key,
			json_t *val)
{
	json_t *obj = val ? json_object() : NULL;
	size_t i = 0;

	for (i = 0; obj && i + 1 < n_kv; i += 2) {
		if (json_object_set_new(obj, kv[i], json_string(kv[i + 1]))) {
			json_decref(obj);
			obj = NULL;
		}
	}
	if (obj && json_object_set_new(obj, key, val) != 0) {
		json_decref(obj);
		return NULL;
	}
	if (!obj)
		json_decref(val);
	return obj;
}

/* {"name": name, "value": value}, a container env var. */
static json_t *env_var(const char *name, json_t *value)
{
	const char *kv[] = { "name", name };

	return obj_strs(kv, 2, "value", value);
}

/* ---------------------------------------------------------------------
 * The template hash
 * ------------------------------------------------------------------- */

#define FNV_OFFSET UINT64_C(0xcbf29ce484222325)
#define FNV_PRIME UINT64_C(0x100000001b3)
/* Nesting the streaming hash follows; deeper falls back to json_dumps. */
#define HASH_DEPTH_MAX 64
/* Keys of one object the streaming hash sorts on the stack. */
#define HASH_KEYS_MAX 64

static uint64_t fnv_bytes(uint64_t h, const char *s, size_t n)
{
	size_t i = 0;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= FNV_PRIME;
	}
	return h;
}

static uint64_t fnv1a64(const char *s)
{
	return fnv_bytes(FNV_OFFSET, s, strlen(s));
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

/*
 * The streaming form of the hash: FNV-1a over exactly the bytes that
 * json_dumps(JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) writes, fed
 * as they are produced, without copying the template or building the
 * text (the planner hashes every pod's template). It covers what a pod
 * template holds: objects, arrays, ASCII strings, integers, booleans and
 * null. Anything else (a real, a non-ASCII or NUL byte, deep nesting,
 * an object with many keys) answers false, and the caller hashes the
 * json_dumps text instead, so the hash is the same either way.
 */
static bool hash_string(uint64_t *h, const char *s, size_t n)
{
	static const char hexd[] = "0123456789ABCDEF";
	size_t i = 0;
	size_t run = 0;

	*h = fnv_bytes(*h, "\"", 1);
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		char esc[6] = { '\\', 'u', '0', '0', 0, 0 };
		size_t esc_len = 2;

		if (ch >= 0x80 || ch == 0)
			return false;
		if (ch >= 0x20 && ch != '"' && ch != '\\')
			continue;
		*h = fnv_bytes(*h, s + run, i - run);
		run = i + 1;
		switch (ch) {
		case '"':
		case '\\':
			esc[1] = (char)ch;
			break;
		case '\b':
			esc[1] = 'b';
			break;
		case '\f':
			esc[1] = 'f';
			break;
		case '\n':
			esc[1] = 'n';
			break;
		case '\r':
			esc[1] = 'r';
			break;
		case '\t':
			esc[1] = 't';
			break;
		default:
			esc[4] = hexd[ch >> 4];
			esc[5] = hexd[ch & 15];
			esc_len = 6;
			break;
		}
		*h = fnv_bytes(*h, esc, esc_len);
	}
	*h = fnv_bytes(*h, s + run, n - run);
	*h = fnv_bytes(*h, "\"", 1);
	return true;
}

static int cmp_key(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool skipped_key(const char *key, const char *const *skip)
{
	for (; skip && *skip; skip++) {
		if (strcmp(key, *skip) == 0)
			return true;
	}
	return false;
}

/* skip: keys of this (top-level) object that the template leaves out. */
static bool hash_value(uint64_t *h, const json_t *v, int depth,
		       const char *const *skip)
{
	char num[32];
	size_t i = 0;
	int n = 0;

	if (depth > HASH_DEPTH_MAX)
		return false;
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		const char *keys[HASH_KEYS_MAX];
		const char *key = NULL;
		size_t n_keys = 0;
		void *it = NULL;

		for (it = json_object_iter((json_t *)v); it;
		     it = json_object_iter_next((json_t *)v, it)) {
			key = json_object_iter_key(it);
			if (skipped_key(key, skip))
				continue;
			if (n_keys == HASH_KEYS_MAX ||
			    json_object_iter_key_len(it) != strlen(key))
				return false;
			keys[n_keys++] = key;
		}
		qsort(keys, n_keys, sizeof(*keys), cmp_key);
		*h = fnv_bytes(*h, "{", 1);
		for (i = 0; i < n_keys; i++) {
			if (i > 0)
				*h = fnv_bytes(*h, ",", 1);
			if (!hash_string(h, keys[i], strlen(keys[i])))
				return false;
			*h = fnv_bytes(*h, ":", 1);
			if (!hash_value(h, json_object_get(v, keys[i]),
					depth + 1, NULL))
				return false;
		}
		*h = fnv_bytes(*h, "}", 1);
		return true;
	}
	case JSON_ARRAY:
		*h = fnv_bytes(*h, "[", 1);
		for (i = 0; i < json_array_size(v); i++) {
			if (i > 0)
				*h = fnv_bytes(*h, ",", 1);
			if (!hash_value(h, json_array_get(v, i), depth + 1,
					NULL))
				return false;
		}
		*h = fnv_bytes(*h, "]", 1);
		return true;
	case JSON_STRING:
		return hash_string(h, json_string_value(v),
				   json_string_length(v));
	case JSON_INTEGER:
		n = snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
			     json_integer_value(v));
		if (n < 0 || (size_t)n >= sizeof(num))
			return false;
		*h = fnv_bytes(*h, num, (size_t)n);
		return true;
	case JSON_TRUE:
		*h = fnv_bytes(*h, "true", 4);
		return true;
	case JSON_FALSE:
		*h = fnv_bytes(*h, "false", 5);
		return true;
	case JSON_NULL:
		*h = fnv_bytes(*h, "null", 4);
		return true;
	default:
		return false; /* a real: json_dumps' own formatting */
	}
}

static int template_hash(const pol_pcs *pcs, const pol_clique *c, char *out,
			 size_t size)
{
	json_t *tpl = NULL;
	char *dump = NULL;
	char hex[17];
	uint64_t h = FNV_OFFSET;
	const char *const *skip =
	    pcs->form == POL_FORM_COMPACT ? compact_non_pod_keys : NULL;
	int rc = GV_OK;

	if (c->pod && hash_value(&h, c->pod, 0, skip))
		goto hex;
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
	h = fnv1a64(dump);
hex:
	snprintf(hex, sizeof(hex), "%016" PRIx64, h);
	snprintf(out, size, "%.*s", POL_TEMPLATE_HASH_LEN, hex);
out:
	free(dump);
	json_decref(tpl);
	return rc;
}

/* c's hash into hash (POL_TEMPLATE_HASH_LEN + 1 bytes): the caller's
 * when it has it (o->template_hash, the same for every pod of c), else
 * computed. */
static int clique_hash(const pol_pcs *pcs, const pol_clique *c,
		       const pol_pod_options *o, char *hash)
{
	if (o && o->template_hash &&
	    strlen(o->template_hash) == POL_TEMPLATE_HASH_LEN) {
		memcpy(hash, o->template_hash, POL_TEMPLATE_HASH_LEN + 1);
		return GV_OK;
	}
	return template_hash(pcs, c, hash, POL_TEMPLATE_HASH_LEN + 1);
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
			gv_json_push(args, json_string(flag), &rc);
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
			gv_json_push(args, json_string(flag), &rc);
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
			gv_json_push(args, json_string(flag), &rc);
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

	args = json_array();
	if (!args || json_array_append_new(args, json_string("initc"))) {
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

/* Copies the string members of obj.key (template labels or
 * annotations) into out, leaving skip out; a value of another type is
 * the API server's to refuse. */
static void copy_strings(json_t *out, const json_t *obj, const char *key,
			 const char *skip, int *rc)
{
	const char *k = NULL;
	json_t *val = NULL;

	json_object_foreach((json_t *)json_object_get(obj, key), k, val)
	{
		if (json_is_string(val) && (!skip || strcmp(k, skip) != 0))
			gv_json_put(out, k, json_incref(val), rc);
	}
}

/* The pod's position in its unit, counted over the group's cliques in
 * order: the pods of the cliques before it, then k. */
static int64_t unit_pod_index(const pol_pcs *pcs, const pol_clique *c,
			      const pol_pod_ref *ref)
{
	const pol_group *g = &pcs->groups[c->group];
	int64_t sum = ref->pod_index;
	size_t k = 0;

	for (k = 0; k < g->n_cliques && k < c->group_pos; k++) {
		if (g->cliques[k] != SIZE_MAX)
			sum += pcs->cliques[g->cliques[k]].replicas;
	}
	return sum;
}

/* The labels of the PodClique (pod false) or of a pod of it: the clique
 * template's, for a pod the set's KAI queue when the template names
 * none, then groved's (section 5), which win on a clash. */
static json_t *shape_labels(const pol_pcs *pcs, const pol_clique *c,
			    const pol_pod_ref *ref, const pod_names *n,
			    const char *hash, bool pod, int *rc)
{
	json_t *l = json_object();
	const json_t *pcs_labels = NULL;
	const char *queue = NULL;
	bool scaled = strcmp(n->gang, n->base) != 0;

	if (!l) {
		*rc = GV_ENOMEM;
		return NULL;
	}
	copy_strings(l, c->node, "labels", NULL, rc);
	pcs_labels =
	    json_object_get(json_object_get(pcs->doc, "metadata"), "labels");
	queue = pol_get_str(pcs_labels, POL_LABEL_KAI_QUEUE);
	if (pod && queue && !json_object_get(l, POL_LABEL_KAI_QUEUE))
		gv_json_put(l, POL_LABEL_KAI_QUEUE, json_string(queue), rc);
	gv_json_put(l, POL_LABEL_MANAGED_BY, json_string(POL_MANAGED_BY), rc);
	gv_json_put(l, POL_LABEL_PART_OF, json_string(pcs->name), rc);
	gv_json_put(l, POL_LABEL_COMPONENT,
		    json_string(c->group >= 0 ? POL_COMPONENT_PCSG_PCLQ
					      : POL_COMPONENT_PCS_PCLQ),
		    rc);
	gv_json_put(l, POL_LABEL_APP_NAME, json_string(n->pclq), rc);
	if (pod) {
		gv_json_put(l, POL_LABEL_PCS, json_string(pcs->name), rc);
		gv_json_put(l, POL_LABEL_PCS_CLIQUE, json_string(c->name), rc);
		gv_json_put(l, POL_LABEL_PCLQ, json_string(n->pclq), rc);
	}
	gv_json_put(l, POL_LABEL_PODGANG, json_string(n->gang), rc);
	if (scaled)
		gv_json_put(l, POL_LABEL_BASE_PODGANG, json_string(n->base),
			    rc);
	gv_json_put(l, POL_LABEL_PCS_INDEX, int_string(ref->set_index), rc);
	if (c->group >= 0) {
		gv_json_put(l, POL_LABEL_PCSG, json_string(n->pcsg), rc);
		gv_json_put(l, POL_LABEL_PCSG_INDEX,
			    int_string(ref->group_index), rc);
		if (pod)
			gv_json_put(l, POL_LABEL_PCSG_POD_INDEX,
				    int_string(unit_pod_index(pcs, c, ref)),
				    rc);
	}
	if (pod)
		gv_json_put(l, POL_LABEL_POD_INDEX, int_string(ref->pod_index),
			    rc);
	gv_json_put(l, POL_LABEL_TEMPLATE_HASH, json_string(hash), rc);
	return l;
}

/* The pod's annotations: its clique template's, without
 * grove.io/topology-name (the PodGang owns topology, as upstream); NULL
 * when there are none. */
static json_t *shape_annotations(const pol_clique *c, int *rc)
{
	json_t *a = json_object();

	if (!a) {
		*rc = GV_ENOMEM;
		return NULL;
	}
	copy_strings(a, c->node, "annotations", POL_ANNOTATION_TOPOLOGY, rc);
	if (json_object_size(a) == 0) {
		json_decref(a);
		return NULL;
	}
	return a;
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

/* groved's variables in the order of section 6: they go before a
 * container's own, which may refer to them as $(VAR). */
static json_t *shape_env(const pol_pcs *pcs, const pol_clique *c,
			 const pol_pod_ref *ref, const pod_names *n, int *rc)
{
	json_t *env = json_array();

	if (!env) {
		*rc = GV_ENOMEM;
		return NULL;
	}
	gv_json_push(env, env_var("GROVE_PCS_NAME", json_string(pcs->name)),
		     rc);
	gv_json_push(
	    env, env_var("GROVE_PCS_INDEX", int_string(ref->set_index)), rc);
	gv_json_push(env, env_var("GROVE_PCLQ_NAME", json_string(n->pclq)), rc);
	gv_json_push(env,
		     env_var("GROVE_HEADLESS_SERVICE", json_string(n->service)),
		     rc);
	gv_json_push(
	    env, env_var("GROVE_PCLQ_POD_INDEX", int_string(ref->pod_index)),
	    rc);
	if (c->group >= 0) {
		gv_json_push(
		    env, env_var("GROVE_PCSG_NAME", json_string(n->pcsg)), rc);
		gv_json_push(
		    env,
		    env_var("GROVE_PCSG_INDEX", int_string(ref->group_index)),
		    rc);
		gv_json_push(env,
			     env_var("GROVE_PCSG_POD_INDEX",
				     int_string(unit_pod_index(pcs, c, ref))),
			     rc);
		gv_json_push(
		    env,
		    env_var("GROVE_PCSG_TEMPLATE_NUM_PODS",
			    int_string(unit_pods(pcs, &pcs->groups[c->group]))),
		    rc);
	}
	return env;
}

/* One {"name", "env"} per element of the clique's pod list key
 * ("containers" or "initContainers"), appended to list. */
static void shape_containers(json_t *list, const pol_clique *c, const char *key,
			     const json_t *env, int *rc)
{
	const json_t *ct = NULL;
	size_t k = 0;

	json_array_foreach(json_object_get(c->pod, key), k, ct)
	{
		const char *name = pol_get_str(ct, "name");

		if (!name || strcmp(name, POL_INITC_NAME) == 0)
			continue;
		const char *kv[] = { "name", name };

		gv_json_push(list,
			     obj_strs(kv, 2, "env", json_incref((json_t *)env)),
			     rc);
	}
}

/* grove-initc: the parents in args, the set's token mounted where a
 * client looks for it. The pod's own token is mounted by the API
 * server's ServiceAccount admission plugin into every container that
 * has no mount at that path yet, so this explicit mount keeps it out of
 * grove-initc alone. */
static json_t *shape_initc(const pol_pod_options *o, json_t *args)
{
	return json_pack(
	    "{s:s, s:s, s:o, s:[{s:s, s:s, s:b}]}", "name", POL_INITC_NAME,
	    "image",
	    o && o->initc_image ? o->initc_image : POL_DEFAULT_INITC_IMAGE,
	    "args", args, "volumeMounts", "name", POL_INITC_TOKEN_VOLUME,
	    "mountPath", POL_INITC_TOKEN_PATH, "readOnly", 1);
}

/* The volume of the set's grove-initc token: Secret <pcs>-ic-sat. */
static json_t *shape_token_volume(const pol_pcs *pcs, int *rc)
{
	char secret[NAME_BUF];

	if (*rc != GV_OK)
		return NULL;
	*rc = fmt_name(secret, sizeof(secret), "%s%s", pcs->name,
		       POL_INITC_SECRET_SUFFIX);
	if (*rc != GV_OK)
		return NULL;
	return json_pack("[{s:s, s:{s:s, s:i}}]", "name",
			 POL_INITC_TOKEN_VOLUME, "secret", "secretName", secret,
			 "defaultMode", 420);
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
	json_t *annotations = NULL;
	json_t *env = NULL;
	json_t *inits = NULL;
	json_t *containers = NULL;
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
	rc = clique_hash(pcs, c, o, hash);
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
	gv_json_put(meta, "name", json_string(n->pod), &rc);
	gv_json_put(meta, "namespace", json_string(ns), &rc);
	gv_json_put(meta, "labels",
		    shape_labels(pcs, c, ref, n, hash, true, &rc), &rc);
	annotations = shape_annotations(c, &rc);
	if (annotations)
		gv_json_put(meta, "annotations", annotations, &rc);
	gv_json_put(spec, "schedulerName", json_string(scheduler_of(c, o)),
		    &rc);
	{
		json_t *gates = json_array();

		gv_json_push(
		    gates,
		    obj_strs(NULL, 0, "name", json_string(POL_GATE_PODGANG)),
		    &rc);
		gv_json_put(spec, "schedulingGates", gates, &rc);
	}
	gv_json_put(spec, "hostname", json_string(n->pod), &rc);
	gv_json_put(spec, "subdomain", json_string(n->base), &rc);
	env = shape_env(pcs, c, ref, n, &rc);
	inits = json_array();
	containers = json_array();
	if (!inits || !containers) {
		rc = GV_ENOMEM;
		goto out;
	}
	shape_containers(inits, c, "initContainers", env, &rc);
	if (args) {
		gv_json_push(inits, shape_initc(o, args), &rc);
		args = NULL;
		gv_json_put(spec, "volumes", shape_token_volume(pcs, &rc), &rc);
	}
	shape_containers(containers, c, "containers", env, &rc);
	if (json_array_size(inits) > 0)
		gv_json_put(spec, "initContainers", json_incref(inits), &rc);
	gv_json_put(spec, "containers", json_incref(containers), &rc);
	gv_json_put(shape, "metadata", meta, &rc);
	meta = NULL;
	gv_json_put(shape, "spec", spec, &rc);
	spec = NULL;
out:
	if (rc == GV_OK) {
		*shape_out = shape;
		shape = NULL;
	}
	json_decref(args);
	json_decref(containers);
	json_decref(inits);
	json_decref(env);
	json_decref(spec);
	json_decref(meta);
	json_decref(shape);
	free(n);
	return rc;
}

int pol_podclique_meta(const pol_pcs *pcs, const pol_pod_ref *ref,
		       const pol_pod_options *o, json_t **meta_out)
{
	const pol_clique *c = NULL;
	pod_names *n = NULL;
	char hash[POL_TEMPLATE_HASH_LEN + 1];
	json_t *meta = NULL;
	json_t *annotations = NULL;
	int rc = GV_OK;

	if (!meta_out || !ref_valid(pcs, ref)) {
		rc = GV_EINVAL;
		goto out;
	}
	c = &pcs->cliques[ref->clique];
	n = calloc(1, sizeof(*n));
	if (!n) {
		rc = GV_ENOMEM;
		goto out;
	}
	rc = make_names(pcs, c, c->group >= 0 ? &pcs->groups[c->group] : NULL,
			ref, pcs->namespace ? pcs->namespace : "default", n);
	if (rc == GV_OK)
		rc = clique_hash(pcs, c, o, hash);
	if (rc != GV_OK)
		goto out;
	meta = json_object();
	if (!meta) {
		rc = GV_ENOMEM;
		goto out;
	}
	gv_json_put(meta, "name", json_string(n->pclq), &rc);
	gv_json_put(meta, "labels",
		    shape_labels(pcs, c, ref, n, hash, false, &rc), &rc);
	annotations = shape_annotations(c, &rc);
	if (annotations)
		gv_json_put(meta, "annotations", annotations, &rc);
out:
	if (rc == GV_OK) {
		*meta_out = meta;
		meta = NULL;
	}
	json_decref(meta);
	free(n);
	return rc;
}

/* ---------------------------------------------------------------------
 * Restamping: another pod of the same clique, sharing what is the same
 * ------------------------------------------------------------------- */

/* A shallow copy of member key of obj into obj (stealing the copy): obj
 * gets its own container, whose members are still shared. Returns it
 * (borrowed), or NULL when obj has no such member or out of memory. */
static json_t *own_member(json_t *obj, const char *key, int *rc)
{
	json_t *v = json_object_get(obj, key);
	json_t *copy = NULL;

	if (!v || *rc != GV_OK)
		return NULL;
	copy = json_copy(v);
	gv_json_put(obj, key, copy, rc);
	return *rc == GV_OK ? copy : NULL;
}

/* dst.key = src.key, shared, when src has it. */
static void share_member(json_t *dst, const json_t *src, const char *key,
			 int *rc)
{
	json_t *v = json_object_get(src, key);

	if (v)
		gv_json_put(dst, key, json_incref(v), rc);
}

/* The position of the entry called name in list, or SIZE_MAX. */
static size_t entry_named(const json_t *list, const char *name)
{
	const json_t *e = NULL;
	size_t x = 0;

	json_array_foreach(list, x, e)
	{
		const char *n = json_string_value(json_object_get(e, "name"));

		if (n && strcmp(n, name) == 0)
			return x;
	}
	return SIZE_MAX;
}

/* Per shape entry of the list key of spec (which pod owns): grove-initc
 * is the shape's, another container gets the shape's head of groved's
 * variables before its own. */
static void restamp_list(json_t *spec, const json_t *sspec, const char *key,
			 int *rc)
{
	const json_t *slist = json_object_get(sspec, key);
	json_t *list = NULL;
	const json_t *se = NULL;
	size_t x = 0;

	if (!json_array_size(slist))
		return;
	list = own_member(spec, key, rc);
	if (!list) {
		*rc = *rc == GV_OK ? GV_EINVAL : *rc;
		return;
	}
	json_array_foreach(slist, x, se)
	{
		const char *n = json_string_value(json_object_get(se, "name"));
		const json_t *senv = json_object_get(se, "env");
		size_t at = n ? entry_named(list, n) : SIZE_MAX;
		json_t *ct = NULL;
		json_t *env = NULL;
		size_t y = 0;

		if (*rc != GV_OK)
			return;
		if (at == SIZE_MAX) {
			*rc = GV_EINVAL;
			return;
		}
		if (strcmp(n, POL_INITC_NAME) == 0) {
			if (json_array_set(list, at, (json_t *)se) != 0)
				*rc = GV_ENOMEM;
			continue;
		}
		ct = json_copy(json_array_get(list, at));
		if (!ct || json_array_set_new(list, at, ct) != 0) {
			*rc = GV_ENOMEM;
			return;
		}
		env = own_member(ct, "env", rc);
		if (!env || json_array_size(env) < json_array_size(senv)) {
			*rc = *rc == GV_OK ? GV_EINVAL : *rc;
			return;
		}
		for (y = 0; y < json_array_size(senv); y++) {
			if (json_array_set(env, y, json_array_get(senv, y)))
				*rc = GV_ENOMEM;
		}
	}
}

int pol_pod_restamped(const json_t *pod, const json_t *shape, json_t **pod_out)
{
	const json_t *smeta = json_object_get(shape, "metadata");
	const json_t *sspec = json_object_get(shape, "spec");
	json_t *out = NULL;
	json_t *meta = NULL;
	json_t *spec = NULL;
	int rc = GV_OK;

	if (!pod_out || !json_is_object(json_object_get(pod, "metadata")) ||
	    !json_is_object(json_object_get(pod, "spec")) ||
	    !json_is_object(smeta) || !json_is_object(sspec)) {
		rc = GV_EINVAL;
		goto out;
	}
	out = json_copy((json_t *)pod);
	if (!out) {
		rc = GV_ENOMEM;
		goto out;
	}
	meta = own_member(out, "metadata", &rc);
	spec = own_member(out, "spec", &rc);
	share_member(meta, smeta, "labels", &rc);
	share_member(meta, smeta, "annotations", &rc);
	share_member(spec, sspec, "hostname", &rc);
	share_member(spec, sspec, "subdomain", &rc);
	restamp_list(spec, sspec, "initContainers", &rc);
	restamp_list(spec, sspec, "containers", &rc);
	if (rc != GV_OK)
		goto out;
	*pod_out = out;
	out = NULL;
out:
	json_decref(out);
	return rc;
}

int pol_podgang_meta(const pol_pcs *pcs, json_t **meta_out)
{
	const json_t *pmeta = NULL;
	json_t *labels = NULL;
	json_t *annotations = NULL;
	const char *k = NULL;
	json_t *val = NULL;
	int rc = GV_OK;

	if (!meta_out || !pcs || !pcs->name)
		return GV_EINVAL;
	pmeta = json_object_get(pcs->doc, "metadata");
	labels = json_object();
	annotations = json_object();
	if (!labels || !annotations) {
		rc = GV_ENOMEM;
		goto out;
	}
	json_object_foreach((json_t *)json_object_get(pmeta, "labels"), k, val)
	{
		if (json_is_string(val) && strncmp(k, "grove.io/", 9) != 0)
			gv_json_put(labels, k, json_incref(val), &rc);
	}
	/* kubectl's last-applied-configuration is the whole set again: it
	 * says nothing to a scheduler and would make every gang as large as
	 * the set */
	json_object_foreach((json_t *)json_object_get(pmeta, "annotations"), k,
			    val)
	{
		if (json_is_string(val) && strncmp(k, "grove.io/", 9) != 0 &&
		    strcmp(k, POL_ANNOTATION_LAST_APPLIED) != 0)
			gv_json_put(annotations, k, json_incref(val), &rc);
	}
	gv_json_put(labels, POL_LABEL_MANAGED_BY, json_string(POL_MANAGED_BY),
		    &rc);
	gv_json_put(labels, POL_LABEL_PART_OF, json_string(pcs->name), &rc);
	gv_json_put(labels, POL_LABEL_COMPONENT,
		    json_string(POL_COMPONENT_PODGANG), &rc);
	if (rc != GV_OK)
		goto out;
	*meta_out = json_pack("{s:o, s:o}", "labels", labels, "annotations",
			      annotations);
	labels = NULL;
	annotations = NULL;
	if (!*meta_out)
		rc = GV_ENOMEM;
out:
	json_decref(labels);
	json_decref(annotations);
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
	{
		const char *kv[] = { "op", op, "path", path };

		gv_json_push(p->ops, obj_strs(kv, 4, "value", value), &p->rc);
	}
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
		op_add(p, "add", ptr, key, json_incref((json_t *)want));
		return;
	}
	if (!json_is_array(have))
		return;
	snprintf(path, sizeof(path), "%s/%s/-", ptr, key);
	json_array_foreach(want, k, el)
	{
		if (!named(have, pol_get_str(el, "name")))
			op_add(p, "add", path, NULL, json_incref((json_t *)el));
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

/* metadata.key of the pod gets want's entries: a missing one added, one
 * with another value replaced when replace is set (groved's labels win),
 * kept otherwise (a pod's own annotation stays). */
static void patch_meta_map(patcher *p, const json_t *pod, const char *key,
			   const json_t *want, bool replace)
{
	const json_t *meta = json_object_get(pod, "metadata");
	const json_t *have = json_object_get(meta, key);
	const json_t *cur = NULL;
	const char *k = NULL;
	json_t *val = NULL;
	char ptr[32];

	if (json_object_size(want) == 0)
		return;
	if (!meta || json_is_null(meta)) {
		op_add(p, "add", "/metadata", NULL,
		       json_pack("{s:O}", key, (json_t *)want));
		return;
	}
	if (!json_is_object(meta))
		return;
	snprintf(ptr, sizeof(ptr), "/metadata/%s", key);
	if (!have || json_is_null(have)) {
		op_add(p, "add", ptr, NULL, json_deep_copy(want));
		return;
	}
	if (!json_is_object(have))
		return;
	json_object_foreach((json_t *)want, k, val)
	{
		cur = json_object_get(have, k);
		if (!cur)
			op_add(p, "add", ptr, k, json_deep_copy(val));
		else if (replace && !json_equal(cur, val))
			op_add(p, "replace", ptr, k, json_deep_copy(val));
	}
}

/* The env a container ends with: groved's variables first, then its own
 * other than those (a template variable of the same name is replaced,
 * as upstream does). A new array, or NULL when out of memory; its
 * entries are shared with own and grove, not copied. */
static json_t *merged_env(const json_t *own, const json_t *grove)
{
	json_t *env = json_copy((json_t *)grove);
	const json_t *el = NULL;
	size_t k = 0;

	if (!env)
		return NULL;
	json_array_foreach(own, k, el)
	{
		if (named(grove, pol_get_str(el, "name")))
			continue;
		if (json_array_append(env, (json_t *)el) != 0) {
			json_decref(env);
			return NULL;
		}
	}
	return env;
}

/* groved's env for a container of the pod named name: the shape's entry
 * of that name in want_list, else the first entry with an env in the
 * shape (every container of a clique gets the same variables). */
static const json_t *grove_env(const json_t *want_spec, const char *name)
{
	static const char *const lists[] = { "containers", "initContainers" };
	const json_t *el = NULL;
	size_t l = 0;
	size_t k = 0;

	for (l = 0; l < 2; l++) {
		el = named(json_object_get(want_spec, lists[l]), name);
		if (json_object_get(el, "env"))
			return json_object_get(el, "env");
	}
	for (l = 0; l < 2; l++) {
		json_array_foreach(json_object_get(want_spec, lists[l]), k, el)
		{
			if (json_object_get(el, "env"))
				return json_object_get(el, "env");
		}
	}
	return NULL;
}

/* Every container of the pod's list key (but grove-initc, which takes
 * no variables) gets groved's env before its own; a container whose env
 * already reads so is left alone. */
static void patch_env(patcher *p, const json_t *spec, const json_t *want_spec,
		      const char *key)
{
	const json_t *ct = NULL;
	char ptr[64];
	size_t x = 0;

	json_array_foreach(json_object_get(spec, key), x, ct)
	{
		const char *name = pol_get_str(ct, "name");
		const json_t *grove = grove_env(want_spec, name);
		const json_t *own = NULL;
		json_t *env = NULL;

		if (!json_is_object(ct) || json_array_size(grove) == 0 ||
		    (name && strcmp(name, POL_INITC_NAME) == 0))
			continue;
		own = json_object_get(ct, "env");
		if (own && !json_is_null(own) && !json_is_array(own))
			continue; /* the API server's to refuse */
		env = merged_env(own, grove);
		if (!env) {
			p->rc = p->rc == GV_OK ? GV_ENOMEM : p->rc;
			return;
		}
		if (own && json_equal(own, env)) {
			json_decref(env);
			continue;
		}
		snprintf(ptr, sizeof(ptr), "/spec/%s/%zu/env", key, x);
		op_add(p, own && !json_is_null(own) ? "replace" : "add", ptr,
		       NULL, env);
	}
}

/* grove-initc, appended after the pod's own init containers when none
 * of its name is there. */
static void patch_initc(patcher *p, const json_t *spec, const json_t *want_spec)
{
	const json_t *initc =
	    named(json_object_get(want_spec, "initContainers"), POL_INITC_NAME);
	json_t *one = NULL;

	if (!initc)
		return;
	one = json_pack("[O]", (json_t *)initc);
	if (!one) {
		p->rc = p->rc == GV_OK ? GV_ENOMEM : p->rc;
		return;
	}
	add_missing_named(p, spec, "initContainers", "/spec", one);
	json_decref(one);
}

/* The patch's values share sub-values with pod and shape (no copies for
 * every pod the planner shapes): callers read, serialize or apply it,
 * never modify it in place. */
int pol_pod_patch(const json_t *pod, const json_t *shape,
		  const char *apiserver_default, json_t **patch_out)
{
	patcher p = { NULL, GV_OK };
	const json_t *spec = json_object_get(pod, "spec");
	const json_t *want_spec = json_object_get(shape, "spec");
	const json_t *want_meta = json_object_get(shape, "metadata");
	const json_t *want_labels = json_object_get(want_meta, "labels");
	const json_t *want_annotations =
	    json_object_get(want_meta, "annotations");

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
	patch_meta_map(&p, pod, "labels", want_labels, true);
	patch_meta_map(&p, pod, "annotations", want_annotations, false);
	if (json_is_object(spec)) {
		patch_env(&p, spec, want_spec, "containers");
		patch_env(&p, spec, want_spec, "initContainers");
		add_missing_named(&p, spec, "volumes", "/spec",
				  json_object_get(want_spec, "volumes"));
		patch_initc(&p, spec, want_spec);
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
