/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_plan_util.c: helpers shared by the planner's and the statuses'
 * tests (test_plan_util.h).
 */
#include "test_plan_util.h"

#include "test_gen.h"

const char tp_packed_set[] =
    "apiVersion: grove.io/v1alpha1\n"
    "kind: PodCliqueSet\n"
    "metadata: {name: p}\n"
    "spec:\n"
    "  template:\n"
    "    topologyConstraint: {topologyName: dc, pack: {required: zone}}\n"
    "    cliques:\n"
    "    - name: a\n"
    "      spec:\n"
    "        podSpec: {containers: [{name: c, image: x}]}\n";

char *tp_replaced(const char *text, const char *from, const char *to)
{
	size_t lf = strlen(from);
	size_t lt = strlen(to);
	size_t n = strlen(text) + 1;
	const char *at = text;
	char *out = NULL;
	char *w = NULL;

	while ((at = strstr(at, from)) != NULL) {
		n += lt;
		at += lf;
	}
	out = malloc(n);
	assert_non_null(out);
	w = out;
	for (at = text; *at;) {
		const char *next = strstr(at, from);
		size_t len = next ? (size_t)(next - at) : strlen(at);

		memcpy(w, at, len);
		w += len;
		at += len;
		if (next) {
			memcpy(w, to, lt);
			w += lt;
			at += lf;
		}
	}
	*w = '\0';
	return out;
}

/* ---- a set --------------------------------------------------------------- */

/* Reviews doc (borrowed): the defaulted set (a new reference), and
 * whether it validates; with fail_invalid, a set that does not fails
 * the test with its message. */
static json_t *review(const json_t *doc, bool fail_invalid, bool *valid)
{
	pol_verdict v = POL_VERDICT_INIT;
	pol_options opts = { 0 };
	json_t *defaulted = NULL;

	assert_int_equal(pol_review_pcs(doc, NULL, &opts, &v, &defaulted),
			 GV_OK);
	if (fail_invalid && v.n_errors) {
		char *m = pol_verdict_message(&v);

		print_error("invalid: %s\n", m);
		free(m);
		fail();
	}
	*valid = v.n_errors == 0;
	pol_verdict_release(&v);
	return defaulted;
}

json_t *tp_default(const char *text, int64_t replicas, bool must_be_valid)
{
	json_t *doc = tu_doc(text);
	json_t *defaulted = NULL;
	bool valid = false;

	if (replicas >= 0)
		assert_int_equal(
		    json_object_set_new(json_object_get(doc, "spec"),
					"replicas", json_integer(replicas)),
		    0);
	defaulted = review(doc, must_be_valid, &valid);
	json_decref(doc);
	return defaulted;
}

void tp_build(const json_t *doc, pol_pcs *pcs)
{
	pol_verdict v = POL_VERDICT_INIT;

	assert_int_equal(pol_pcs_build(doc, pcs, &v), GV_OK);
	pol_verdict_release(&v);
}

json_t *tp_next_valid(uint64_t *seed, size_t *generated)
{
	for (;;) {
		json_t *obj = NULL;
		json_t *defaulted = NULL;
		bool valid = false;

		assert_true(*generated < 200000);
		obj = tg_random_pcs(seed);
		assert_non_null(obj);
		(*generated)++;
		defaulted = review(obj, false, &valid);
		json_decref(obj);
		if (valid)
			return defaulted;
		json_decref(defaulted);
	}
}

/* ---- objects ------------------------------------------------------------- */

const char *tp_name_of(const json_t *o)
{
	return json_string_value(
	    json_object_get(json_object_get(o, "metadata"), "name"));
}

const char *tp_label_of(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(
	    json_object_get(json_object_get(o, "metadata"), "labels"), key));
}

bool tp_kind_is(const json_t *o, const char *kind)
{
	const char *k = json_string_value(json_object_get(o, "kind"));

	return k && strcmp(k, kind) == 0;
}

void tp_set_member(json_t *o, const char *obj, const char *key, json_t *val)
{
	json_t *parent = json_object_get(o, obj);

	if (!parent) {
		parent = json_object();
		assert_int_equal(json_object_set_new(o, obj, parent), 0);
	}
	assert_int_equal(json_object_set_new(parent, key, val), 0);
}

void tp_set_label(json_t *o, const char *key, const char *value)
{
	json_t *meta = json_object_get(o, "metadata");

	assert_non_null(meta);
	tp_set_member(meta, "labels", key, json_string(value));
}

/* ---- a plan -------------------------------------------------------------- */

const json_t *tp_planned(const rec_plan *plan, const char *kind,
			 const char *name)
{
	const json_t *item = NULL;
	size_t i = 0;

	json_array_foreach(plan->items, i, item)
	{
		const json_t *o = json_object_get(item, "object");

		if (tp_kind_is(o, kind) && strcmp(tp_name_of(o), name) == 0)
			return o;
	}
	return NULL;
}

const char *tp_planned_hash(const rec_plan *plan, const char *pclq)
{
	const json_t *o = tp_planned(plan, "PodClique", pclq);

	if (!o)
		print_error("no planned PodClique '%s'\n", pclq);
	assert_non_null(o);
	assert_non_null(tp_label_of(o, POL_LABEL_TEMPLATE_HASH));
	return tp_label_of(o, POL_LABEL_TEMPLATE_HASH);
}

json_t *tp_gang_map(const rec_plan *plan)
{
	json_t *gang_of = json_object();
	const json_t *item = NULL;
	size_t i = 0;

	assert_non_null(gang_of);
	json_array_foreach(plan->items, i, item)
	{
		const json_t *o = json_object_get(item, "object");
		const json_t *pg = NULL;
		size_t g = 0;

		if (!tp_kind_is(o, "PodGang"))
			continue;
		json_array_foreach(
		    json_object_get(json_object_get(o, "spec"), "podgroups"), g,
		    pg)
		{
			const json_t *refs =
			    json_object_get(pg, "podReferences");
			const char *prev = NULL;
			const json_t *r = NULL;
			size_t k = 0;

			json_array_foreach(refs, k, r)
			{
				const char *pod = json_string_value(
				    json_object_get(r, "name"));

				assert_non_null(pod);
				/* sorted by name */
				if (prev)
					assert_true(strcmp(prev, pod) < 0);
				prev = pod;
				assert_null(json_object_get(gang_of, pod));
				assert_int_equal(
				    json_object_set_new(
					gang_of, pod,
					json_string(tp_name_of(o))),
				    0);
			}
		}
	}
	return gang_of;
}

/* ---- what is observed ---------------------------------------------------- */

void tp_cluster_init(tp_cluster *c)
{
	size_t l = 0;

	memset(c, 0, sizeof(*c));
	for (l = 0; l < TP_LISTS; l++) {
		c->lists[l] = json_array();
		assert_non_null(c->lists[l]);
	}
	c->obs.podcliques = c->lists[TP_PODCLIQUES];
	c->obs.groups = c->lists[TP_GROUPS];
	c->obs.podgangs = c->lists[TP_PODGANGS];
	c->obs.pods = c->lists[TP_PODS];
	c->obs.others = c->lists[TP_OTHERS];
}

void tp_cluster_release(tp_cluster *c)
{
	size_t l = 0;

	for (l = 0; l < TP_LISTS; l++)
		json_decref(c->lists[l]);
}

size_t tp_list_of(const char *kind)
{
	static const char *const kinds[TP_OTHERS] = {
		[TP_PODCLIQUES] = "PodClique",
		[TP_GROUPS] = "PodCliqueScalingGroup",
		[TP_PODGANGS] = "PodGang",
		[TP_PODS] = "Pod",
	};
	size_t l = 0;

	for (l = 0; kind && l < TP_OTHERS; l++) {
		if (strcmp(kinds[l], kind) == 0)
			return l;
	}
	return TP_OTHERS;
}

void tp_observe(tp_cluster *c, const rec_plan *plan)
{
	const json_t *item = NULL;
	size_t i = 0;

	tp_cluster_init(c);
	json_array_foreach(plan->items, i, item)
	{
		const json_t *o = json_object_get(item, "object");
		size_t l =
		    tp_list_of(json_string_value(json_object_get(o, "kind")));

		assert_int_equal(
		    json_array_append_new(c->lists[l], json_deep_copy(o)), 0);
	}
}

json_t *tp_cluster_find(const tp_cluster *c, const char *kind, const char *name,
			size_t *at)
{
	json_t *o = NULL;
	size_t i = 0;

	json_array_foreach(c->lists[tp_list_of(kind)], i, o)
	{
		if (tp_kind_is(o, kind) && strcmp(tp_name_of(o), name) == 0) {
			if (at)
				*at = i;
			return o;
		}
	}
	return NULL;
}

void tp_bind(json_t *pod, bool ready)
{
	tp_set_member(pod, "spec", "nodeName", json_string("n1"));
	assert_int_equal(json_object_set_new(
			     pod, "status",
			     json_pack("{s:s, s:[{s:s, s:s}]}", "phase",
				       "Running", "conditions", "type", "Ready",
				       "status", ready ? "True" : "False")),
			 0);
}

void tp_terminate(json_t *pod, const char *when)
{
	tp_set_member(pod, "metadata", "deletionTimestamp", json_string(when));
}
