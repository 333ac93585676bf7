/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_pod.c: pod shaping (docs/api.md sections 5 and 6): the shape of every
 * pod of the reference workload, startup order in both forms, the patch
 * the pod webhook sends (the captured router pod, exactly), idempotence,
 * and the webhook itself over an in-memory cache.
 */
#include "test_util.h"

#include "srv_admission.h"
#include "test_memcache.h"

#define REF_YAML "tests/fixtures/captured/inputs/vllm-disaggregated.yaml"
#define POD_CREATE "tests/fixtures/captured/pod-create.json"
#define POD_AFTER "tests/fixtures/captured/pod-create-after-patch.json"

/* The reference workload, its model, and the options of the tests. */
typedef struct fixture {
	json_t *doc;
	pol_pcs pcs;
} fixture;

static const pol_pod_options opts = {
	.default_scheduler = "kai-scheduler",
	.initc_image = "groved:test",
	.namespace = "inference",
};

static json_t *load_doc(const char *rel)
{
	char *text = tu_file(rel);
	json_t *doc = tu_doc(text);

	free(text);
	return doc;
}

static void build(const json_t *doc, pol_pcs *pcs)
{
	pol_verdict v = POL_VERDICT_INIT;

	assert_int_equal(pol_pcs_build(doc, pcs, &v), GV_OK);
	assert_int_equal(v.n_errors, 0);
	pol_verdict_release(&v);
}

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->doc = load_doc(REF_YAML);
	build(f->doc, &f->pcs);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	pol_pcs_release(&f->pcs);
	json_decref(f->doc);
	free(f);
	return 0;
}

static size_t clique(const pol_pcs *pcs, const char *name)
{
	size_t ci = pol_pcs_find_clique(pcs, name);

	assert_true(ci != SIZE_MAX);
	return ci;
}

static void expect_json(const json_t *got, const char *want_text)
{
	json_t *want = tu_doc(want_text);
	char *dump = NULL;

	if (!json_equal(got, want)) {
		dump = json_dumps(got, JSON_COMPACT);
		print_error("got:  %s\nwant: %s\n", dump, want_text);
		free(dump);
		fail();
	}
	json_decref(want);
}

static const char *label(const json_t *shape, const char *key)
{
	return json_string_value(json_object_get(
	    json_object_get(json_object_get(shape, "metadata"), "labels"),
	    key));
}

static const char *env_value(const json_t *shape, const char *name)
{
	const json_t *ct = json_array_get(
	    json_object_get(json_object_get(shape, "spec"), "containers"), 0);
	const json_t *e = NULL;
	size_t k = 0;

	json_array_foreach(json_object_get(ct, "env"), k, e)
	{
		if (strcmp(json_string_value(json_object_get(e, "name")),
			   name) == 0)
			return json_string_value(json_object_get(e, "value"));
	}
	return NULL;
}

/* The init container's args joined by ' ', or NULL without one. */
static char *initc_line(const json_t *shape)
{
	const json_t *ic =
	    json_object_get(json_object_get(shape, "spec"), "initContainers");
	const json_t *c = json_array_get(ic, json_array_size(ic) - 1);
	const json_t *a = NULL;
	char *line = NULL;
	size_t len = 0;
	size_t k = 0;

	if (!ic)
		return NULL;
	/* the template's own init containers first, grove-initc last */
	if (strcmp(json_string_value(json_object_get(c, "name")),
		   POL_INITC_NAME) != 0)
		return NULL;
	line = calloc(1, 4096);
	assert_non_null(line);
	json_array_foreach(json_object_get(c, "args"), k, a) len +=
	    (size_t)snprintf(line + len, 4096 - len, "%s%s", k ? " " : "",
			     json_string_value(a));
	return line;
}

static void expect_initc(const json_t *shape, const char *want)
{
	char *line = initc_line(shape);

	if (!want) {
		assert_null(line);
		return;
	}
	assert_non_null(line);
	assert_string_equal(line, want);
	free(line);
}

/* With an init container, grove-initc alone mounts the set's token
 * (Secret vllm-...-ic-sat) at the service account path; else no volume. */
static void expect_token(const json_t *shape, bool want)
{
	const json_t *spec = json_object_get(shape, "spec");
	const json_t *ic = json_array_get(
	    json_object_get(spec, "initContainers"),
	    json_array_size(json_object_get(spec, "initContainers")) - 1);
	const json_t *vols = json_object_get(spec, "volumes");
	char want_vol[256];
	const json_t *ct = NULL;
	size_t k = 0;

	json_array_foreach(json_object_get(spec, "containers"), k, ct)
	    assert_null(json_object_get(ct, "volumeMounts"));
	if (!want) {
		assert_null(vols);
		return;
	}
	expect_json(json_object_get(ic, "volumeMounts"),
		    "[{\"name\":\"sa-token-secret-vol\",\"mountPath\":"
		    "\"/var/run/secrets/kubernetes.io/serviceaccount\","
		    "\"readOnly\":true}]");
	snprintf(want_vol, sizeof(want_vol),
		 "[{\"name\":\"sa-token-secret-vol\",\"secret\":{"
		 "\"secretName\":\"%s-ic-sat\",\"defaultMode\":420}}]",
		 label(shape, POL_LABEL_PCS));
	expect_json(vols, want_vol);
	assert_null(json_object_get(spec, "serviceAccountName"));
}

static json_t *shape_of(const pol_pcs *pcs, const char *name, int64_t i,
			int64_t j, int64_t k, const pol_pod_options *o)
{
	pol_pod_ref ref = { i, clique(pcs, name), j, k };
	json_t *shape = NULL;

	assert_int_equal(pol_pod_shape(pcs, &ref, o, &shape), GV_OK);
	return shape;
}

/* ---- every pod of the reference workload ------------------------- */

#define PCS "vllm-disaggregated"
#define PCSG PCS "-0-prefill-decode-ratio"

static const struct ref_row {
	const char *clique;
	int64_t j, k;
	const char *pod;
	const char *pclq;
	const char *gang;
	const char *initc; /* NULL: no init container */
	const char *upi; /* pod index in the unit; NULL standalone */
} ref_rows[] = {
	{ "router-clique", 0, 0, PCS "-0-router-clique-0",
	  PCS "-0-router-clique", PCS "-0", NULL, NULL },
	{ "prefill-clique", 0, 0, PCSG "-0-prefill-clique-0",
	  PCSG "-0-prefill-clique", PCS "-0",
	  "initc --podcliques=" PCS "-0-router-clique:1", "0" },
	{ "decode-clique", 0, 0, PCSG "-0-decode-clique-0",
	  PCSG "-0-decode-clique", PCS "-0",
	  "initc --podcliques=" PCSG "-0-prefill-clique:1", "1" },
	{ "decode-clique", 0, 1, PCSG "-0-decode-clique-1",
	  PCSG "-0-decode-clique", PCS "-0",
	  "initc --podcliques=" PCSG "-0-prefill-clique:1", "2" },
	/* unit 1 is past minAvailable 1: the first scaled gang */
	{ "prefill-clique", 1, 0, PCSG "-1-prefill-clique-0",
	  PCSG "-1-prefill-clique", PCSG "-0",
	  "initc --podcliques=" PCS "-0-router-clique:1", "0" },
	{ "decode-clique", 1, 0, PCSG "-1-decode-clique-0",
	  PCSG "-1-decode-clique", PCSG "-0",
	  "initc --podcliques=" PCSG "-1-prefill-clique:1", "1" },
	{ "decode-clique", 1, 1, PCSG "-1-decode-clique-1",
	  PCSG "-1-decode-clique", PCSG "-0",
	  "initc --podcliques=" PCSG "-1-prefill-clique:1", "2" },
};

static void test_reference_every_pod(void **state)
{
	fixture *f = *state;
	size_t r = 0;

	for (r = 0; r < sizeof(ref_rows) / sizeof(ref_rows[0]); r++) {
		const struct ref_row *w = &ref_rows[r];
		json_t *s = shape_of(&f->pcs, w->clique, 0, w->j, w->k, &opts);
		const json_t *spec = json_object_get(s, "spec");
		bool grouped = strcmp(w->clique, "router-clique") != 0;
		char idx[8];

		print_message("row %zu: %s\n", r, w->pod);
		assert_string_equal(
		    json_string_value(json_object_get(
			json_object_get(s, "metadata"), "name")),
		    w->pod);
		assert_string_equal(
		    json_string_value(json_object_get(spec, "hostname")),
		    w->pod);
		assert_string_equal(
		    json_string_value(json_object_get(spec, "subdomain")),
		    PCS "-0");
		assert_string_equal(
		    json_string_value(json_object_get(spec, "schedulerName")),
		    "kai-scheduler");
		expect_json(
		    json_object_get(spec, "schedulingGates"),
		    "[{\"name\":\"grove.io/podgang-pending-creation\"}]");
		assert_string_equal(label(s, POL_LABEL_MANAGED_BY),
				    "grove-operator");
		assert_string_equal(label(s, POL_LABEL_PART_OF), PCS);
		assert_string_equal(label(s, POL_LABEL_PCS), PCS);
		assert_string_equal(label(s, POL_LABEL_PCS_CLIQUE), w->clique);
		assert_string_equal(label(s, POL_LABEL_PCLQ), w->pclq);
		assert_string_equal(label(s, POL_LABEL_PODGANG), w->gang);
		/* a scaled gang's pods name their base gang */
		if (strcmp(w->gang, PCS "-0") == 0)
			assert_null(label(s, POL_LABEL_BASE_PODGANG));
		else
			assert_string_equal(label(s, POL_LABEL_BASE_PODGANG),
					    PCS "-0");
		assert_string_equal(label(s, POL_LABEL_COMPONENT),
				    grouped ? "pcsg-podclique"
					    : "pcs-podclique");
		assert_string_equal(label(s, POL_LABEL_APP_NAME), w->pclq);
		assert_string_equal(label(s, POL_LABEL_PCS_INDEX), "0");
		snprintf(idx, sizeof(idx), "%d", (int)w->k);
		assert_string_equal(label(s, POL_LABEL_POD_INDEX), idx);
		assert_string_equal(env_value(s, "GROVE_PCLQ_POD_INDEX"), idx);
		assert_int_equal(strlen(label(s, POL_LABEL_TEMPLATE_HASH)),
				 POL_TEMPLATE_HASH_LEN);
		assert_null(label(s, POL_LABEL_KAI_QUEUE));
		assert_string_equal(env_value(s, "GROVE_PCS_NAME"), PCS);
		assert_string_equal(env_value(s, "GROVE_PCS_INDEX"), "0");
		assert_string_equal(env_value(s, "GROVE_PCLQ_NAME"), w->pclq);
		assert_string_equal(env_value(s, "GROVE_HEADLESS_SERVICE"),
				    PCS "-0.inference.svc.cluster.local");
		if (grouped) {
			snprintf(idx, sizeof(idx), "%d", (int)w->j);
			assert_string_equal(label(s, POL_LABEL_PCSG), PCSG);
			assert_string_equal(label(s, POL_LABEL_PCSG_INDEX),
					    idx);
			assert_string_equal(env_value(s, "GROVE_PCSG_NAME"),
					    PCSG);
			assert_string_equal(env_value(s, "GROVE_PCSG_INDEX"),
					    idx);
			/* one prefill + two decode pods per unit */
			assert_string_equal(
			    env_value(s, "GROVE_PCSG_TEMPLATE_NUM_PODS"), "3");
			assert_string_equal(label(s, POL_LABEL_PCSG_POD_INDEX),
					    w->upi);
			assert_string_equal(
			    env_value(s, "GROVE_PCSG_POD_INDEX"), w->upi);
		} else {
			assert_null(label(s, POL_LABEL_PCSG));
			assert_null(label(s, POL_LABEL_PCSG_INDEX));
			assert_null(label(s, POL_LABEL_PCSG_POD_INDEX));
			assert_null(env_value(s, "GROVE_PCSG_NAME"));
			assert_null(env_value(s, "GROVE_PCSG_POD_INDEX"));
		}
		expect_initc(s, w->initc);
		expect_token(s, w->initc != NULL);
		json_decref(s);
	}
}

/* One pod's shape, whole: the decode pod of the scaled unit. The hash
 * is FNV-1a 64 of the clique dumped compact with sorted keys, without
 * name, replicas, minAvailable and startsAfter. */
static void test_reference_full_shape(void **state)
{
	fixture *f = *state;
	json_t *s = shape_of(&f->pcs, "decode-clique", 0, 1, 1, &opts);

	expect_json(
	    s, "{\"metadata\":{\"name\":\"" PCSG "-1-decode-clique-1\","
	       "\"namespace\":\"inference\",\"labels\":{"
	       "\"app.kubernetes.io/managed-by\":\"grove-operator\","
	       "\"app.kubernetes.io/part-of\":\"" PCS "\","
	       "\"app.kubernetes.io/component\":\"pcsg-podclique\","
	       "\"app.kubernetes.io/name\":\"" PCSG "-1-decode-clique\","
	       "\"grove.io/podcliquesets\":\"" PCS "\","
	       "\"grove.io/podcliquesets-clique\":\"decode-clique\","
	       "\"grove.io/podclique\":\"" PCSG "-1-decode-clique\","
	       "\"grove.io/podgang\":\"" PCSG "-0\","
	       "\"grove.io/base-podgang\":\"" PCS "-0\","
	       "\"grove.io/podcliqueset-replica-index\":\"0\","
	       "\"grove.io/podcliquescalinggroup\":\"" PCSG "\","
	       "\"grove.io/podcliquescalinggroup-replica-index\":\"1\","
	       "\"grove.io/podcliquescalinggroup-pod-index\":\"2\","
	       "\"grove.io/podclique-pod-index\":\"1\","
	       "\"grove.io/pod-template-hash\":\"d90b713907\"}},"
	       "\"spec\":{\"schedulerName\":\"kai-scheduler\","
	       "\"schedulingGates\":[{\"name\":"
	       "\"grove.io/podgang-pending-creation\"}],"
	       "\"hostname\":\"" PCSG "-1-decode-clique-1\","
	       "\"subdomain\":\"" PCS "-0\","
	       "\"initContainers\":[{\"name\":\"grove-initc\","
	       "\"image\":\"groved:test\",\"args\":[\"initc\","
	       "\"--podcliques=" PCSG "-1-prefill-clique:1\"],"
	       "\"volumeMounts\":[{\"name\":\"sa-token-secret-vol\","
	       "\"mountPath\":\"/var/run/secrets/kubernetes.io/"
	       "serviceaccount\",\"readOnly\":true}]}],"
	       "\"volumes\":[{\"name\":\"sa-token-secret-vol\",\"secret\":{"
	       "\"secretName\":\"" PCS "-ic-sat\",\"defaultMode\":420}}],"
	       "\"containers\":[{\"name\":\"vllm-decode\",\"env\":["
	       "{\"name\":\"GROVE_PCS_NAME\",\"value\":\"" PCS "\"},"
	       "{\"name\":\"GROVE_PCS_INDEX\",\"value\":\"0\"},"
	       "{\"name\":\"GROVE_PCLQ_NAME\",\"value\":\"" PCSG
	       "-1-decode-clique\"},"
	       "{\"name\":\"GROVE_HEADLESS_SERVICE\",\"value\":"
	       "\"" PCS "-0.inference.svc.cluster.local\"},"
	       "{\"name\":\"GROVE_PCLQ_POD_INDEX\",\"value\":\"1\"},"
	       "{\"name\":\"GROVE_PCSG_NAME\",\"value\":\"" PCSG "\"},"
	       "{\"name\":\"GROVE_PCSG_INDEX\",\"value\":\"1\"},"
	       "{\"name\":\"GROVE_PCSG_POD_INDEX\",\"value\":\"2\"},"
	       "{\"name\":\"GROVE_PCSG_TEMPLATE_NUM_PODS\",\"value\":\"3\"}"
	       "]}]}}");
	json_decref(s);
}

/* The hash follows the pod template only: the same for every pod of a
 * clique, different between cliques, unchanged by the defaults. */
static void test_template_hash(void **state)
{
	fixture *f = *state;
	json_t *a = shape_of(&f->pcs, "decode-clique", 0, 0, 0, &opts);
	json_t *b = shape_of(&f->pcs, "decode-clique", 0, 1, 1, &opts);
	json_t *c = shape_of(&f->pcs, "prefill-clique", 0, 0, 0, &opts);
	json_t *patch = NULL;
	json_t *defaulted = NULL;
	pol_pcs dpcs;
	json_t *d = NULL;

	assert_string_equal(label(a, POL_LABEL_TEMPLATE_HASH),
			    label(b, POL_LABEL_TEMPLATE_HASH));
	assert_string_not_equal(label(a, POL_LABEL_TEMPLATE_HASH),
				label(c, POL_LABEL_TEMPLATE_HASH));
	assert_int_equal(pol_defaults_pcs(f->doc, &patch, NULL), GV_OK);
	assert_true(json_array_size(patch) > 0);
	assert_int_equal(pol_patch_apply(f->doc, patch, &defaulted, NULL),
			 GV_OK);
	build(defaulted, &dpcs);
	d = shape_of(&dpcs, "decode-clique", 0, 0, 0, &opts);
	assert_string_equal(label(a, POL_LABEL_TEMPLATE_HASH),
			    label(d, POL_LABEL_TEMPLATE_HASH));
	json_decref(d);
	pol_pcs_release(&dpcs);
	json_decref(defaulted);
	json_decref(patch);
	json_decref(c);
	json_decref(b);
	json_decref(a);
}

/* The hash of the clique named name in doc (borrowed), as a new string. */
static char *hash_of_doc(const json_t *doc, const char *name)
{
	pol_pcs pcs;
	json_t *s = NULL;
	char *out = NULL;

	build(doc, &pcs);
	s = shape_of(&pcs, name, 0, 0, 0, &opts);
	out = strdup(label(s, POL_LABEL_TEMPLATE_HASH));
	assert_non_null(out);
	json_decref(s);
	pol_pcs_release(&pcs);
	return out;
}

/* A compact clique's rollingUpdate is not part of its pod template: no
 * hash changes when it is written or changed (so it starts no rollout),
 * on the streaming hash and on the json_dumps one (a real in the clique
 * takes that path); an image change does change it. */
static void test_rolling_update_not_hashed(void **state)
{
	fixture *f = *state;
	json_t *doc = json_deep_copy(f->doc);
	json_t *router = NULL;
	json_t *ru = NULL;
	json_t *ctr = NULL;
	char *base = NULL;
	char *h = NULL;
	int pass = 0;

	assert_non_null(doc);
	router = json_array_get(
	    json_object_get(json_object_get(doc, "spec"), "podCliques"), 0);
	assert_string_equal(json_string_value(json_object_get(router, "name")),
			    "router-clique");
	ctr = json_array_get(json_object_get(router, "containers"), 0);
	for (pass = 0; pass < 2; pass++) {
		/* a real: the json_dumps path of the hash */
		if (pass == 1)
			assert_int_equal(
			    json_object_set_new(router,
						"terminationGracePeriodSeconds",
						json_real(1.5)),
			    0);
		(void)json_object_del(router, "rollingUpdate");
		base = hash_of_doc(doc, "router-clique");
		ru = json_pack("{s:i, s:i, s:s}", "maxUnavailable", 0,
			       "maxSurge", 1, "progressDeadline", "10m");
		assert_non_null(ru);
		assert_int_equal(json_object_set(router, "rollingUpdate", ru),
				 0);
		h = hash_of_doc(doc, "router-clique");
		assert_string_equal(h, base);
		free(h);
		assert_int_equal(
		    json_object_set_new(ru, "maxSurge", json_integer(2)), 0);
		json_decref(ru);
		h = hash_of_doc(doc, "router-clique");
		assert_string_equal(h, base);
		free(h);
		assert_int_equal(
		    json_object_set_new(ctr, "image",
					json_string(pass ? "b:2" : "a:2")),
		    0);
		h = hash_of_doc(doc, "router-clique");
		assert_string_not_equal(h, base);
		free(h);
		free(base);
	}
	json_decref(doc);
}

/* ---- startup order in both forms --------------------------------- */

/* Template form, InOrder: each clique after the one before it, across
 * groups; group g1 has minAvailable 2, g2 minAvailable 2. */
static const char template_in_order[] =
    "apiVersion: grove.io/v1alpha1\n"
    "kind: PodCliqueSet\n"
    "metadata: {name: t, namespace: ns1, labels: {kai.scheduler/queue: "
    "team-a}}\n"
    "spec:\n"
    "  replicas: 2\n"
    "  template:\n"
    "    cliqueStartupType: CliqueStartupTypeInOrder\n"
    "    cliques:\n"
    "    - name: a\n"
    "      spec: {roleName: a, replicas: 2, minAvailable: 1,\n"
    "             podSpec: {schedulerName: custom-sched,\n"
    "                       containers: [{name: main, image: x}]}}\n"
    "    - name: b\n"
    "      spec: {roleName: b, replicas: 1, podSpec: {containers:\n"
    "             [{name: b1, image: x}, {name: b2, image: y}]}}\n"
    "    - name: c\n"
    "      spec: {roleName: c, replicas: 3, minAvailable: 2,\n"
    "             podSpec: {containers: [{name: c, image: x}]}}\n"
    "    - name: d\n"
    "      spec: {roleName: d, podSpec: {schedulerName: "
    "default-scheduler,\n"
    "             containers: [{name: d, image: x}]}}\n"
    "    - name: e\n"
    "      spec: {roleName: e, startsAfter: [a],\n"
    "             podSpec: {containers: [{name: e, image: x}]}}\n"
    "    podCliqueScalingGroups:\n"
    "    - {name: g1, cliqueNames: [b, c], replicas: 3, minAvailable: 2}\n"
    "    - {name: g2, cliqueNames: [d], replicas: 2, minAvailable: 2}\n";

static const struct order_row {
	const char *clique;
	int64_t i, j, k;
	const char *gang;
	const char *sched;
	const char *initc;
} in_order_rows[] = {
	{ "a", 1, 0, 1, "t-1", "custom-sched", NULL },
	{ "b", 1, 2, 0, "t-1-g1-0", "kai-scheduler",
	  "initc --podcliques=t-1-a:1" },
	{ "c", 1, 1, 2, "t-1", "kai-scheduler",
	  "initc --podcliques=t-1-g1-1-b:1" },
	/* another group: its base units 0..minAvailable-1 */
	{ "d", 1, 0, 0, "t-1", "default-scheduler",
	  "initc --podcliques=t-1-g1-0-c:2 --podcliques=t-1-g1-1-c:2" },
	/* InOrder ignores a template clique's startsAfter */
	{ "e", 0, 0, 0, "t-0", "kai-scheduler",
	  "initc --podcliques=t-0-g2-0-d:1 --podcliques=t-0-g2-1-d:1" },
};

static void test_template_in_order(void **state)
{
	json_t *doc = tu_doc(template_in_order);
	pol_pcs pcs;
	pol_pod_options o = { .default_scheduler = NULL,
			      .initc_image = NULL,
			      .namespace = NULL };
	size_t r = 0;

	(void)state;
	build(doc, &pcs);
	assert_int_equal(pcs.startup, POL_STARTUP_IN_ORDER);
	for (r = 0; r < sizeof(in_order_rows) / sizeof(in_order_rows[0]); r++) {
		const struct order_row *w = &in_order_rows[r];
		json_t *s = shape_of(&pcs, w->clique, w->i, w->j, w->k, &o);
		const json_t *spec = json_object_get(s, "spec");
		const json_t *ic =
		    json_array_get(json_object_get(spec, "initContainers"), 0);

		print_message("row %zu: %s\n", r, w->clique);
		assert_string_equal(label(s, POL_LABEL_PODGANG), w->gang);
		assert_string_equal(label(s, POL_LABEL_KAI_QUEUE), "team-a");
		assert_string_equal(
		    json_string_value(json_object_get(spec, "schedulerName")),
		    w->sched);
		/* the set's namespace, the default image */
		assert_string_equal(env_value(s, "GROVE_HEADLESS_SERVICE"),
				    strcmp(w->clique, "e") == 0
					? "t-0.ns1.svc.cluster.local"
					: "t-1.ns1.svc.cluster.local");
		if (ic)
			assert_string_equal(
			    json_string_value(json_object_get(ic, "image")),
			    POL_DEFAULT_INITC_IMAGE);
		expect_initc(s, w->initc);
		json_decref(s);
	}
	pol_pcs_release(&pcs);
	json_decref(doc);
}

/* Every container of the clique gets the same env; a group's pods per
 * unit count every clique of it. */
static void test_template_containers(void **state)
{
	json_t *doc = tu_doc(template_in_order);
	pol_pcs pcs;
	json_t *s = NULL;
	const json_t *cts = NULL;

	(void)state;
	build(doc, &pcs);
	s = shape_of(&pcs, "b", 0, 0, 0, &opts);
	cts = json_object_get(json_object_get(s, "spec"), "containers");
	assert_int_equal(json_array_size(cts), 2);
	assert_true(json_equal(json_object_get(json_array_get(cts, 0), "env"),
			       json_object_get(json_array_get(cts, 1), "env")));
	assert_string_equal(env_value(s, "GROVE_PCSG_TEMPLATE_NUM_PODS"), "4");
	assert_string_equal(env_value(s, "GROVE_PCSG_NAME"), "t-0-g1");
	json_decref(s);
	pol_pcs_release(&pcs);
	json_decref(doc);
}

/* Explicit order: every startsAfter entry is a parent, in list order;
 * the compact form is Explicit as soon as one clique has startsAfter. */
static void test_explicit_parents(void **state)
{
	json_t *doc =
	    tu_doc("metadata: {name: x}\n"
		   "spec:\n"
		   "  scaling: {minReplicas: 2, maxReplicas: 3}\n"
		   "  scalingGroups: [{name: g, cliques: [w],\n"
		   "                   replicas: [2]}]\n"
		   "  podCliques:\n"
		   "  - {name: r, containers: [{name: r, image: x}]}\n"
		   "  - {name: w, minAvailable: 1,\n"
		   "     containers: [{name: w, image: x}]}\n"
		   "  - {name: s, startsAfter: [w, r],\n"
		   "     containers: [{name: s, image: x}]}\n");
	pol_pcs pcs;
	json_t *s = NULL;

	(void)state;
	build(doc, &pcs);
	assert_int_equal(pcs.startup, POL_STARTUP_EXPLICIT);
	s = shape_of(&pcs, "s", 0, 0, 3, &opts);
	expect_initc(s, "initc --podcliques=x-0-g-0-w:1 "
			"--podcliques=x-0-g-1-w:1 --podcliques=x-0-r:1");
	assert_string_equal(env_value(s, "GROVE_HEADLESS_SERVICE"),
			    "x-0.inference.svc.cluster.local");
	json_decref(s);
	s = shape_of(&pcs, "r", 0, 0, 0, &opts);
	expect_initc(s, NULL);
	json_decref(s);
	/* unit 2 is the first past minAvailable 2; without a namespace in
	 * the options or the set: "default" */
	s = shape_of(&pcs, "w", 0, 2, 0, NULL);
	assert_string_equal(label(s, POL_LABEL_PODGANG), "x-0-g-0");
	assert_string_equal(env_value(s, "GROVE_HEADLESS_SERVICE"),
			    "x-0.default.svc.cluster.local");
	json_decref(s);
	pol_pcs_release(&pcs);
	json_decref(doc);
}

/* AnyOrder: no init container, whatever startsAfter says. */
static void test_any_order(void **state)
{
	json_t *doc = tu_doc("metadata: {name: any}\n"
			     "spec:\n"
			     "  template:\n"
			     "    cliques:\n"
			     "    - {name: a, spec: {podSpec: {containers: "
			     "[{name: a}]}}}\n"
			     "    - {name: b, spec: {startsAfter: [a], "
			     "podSpec: {containers: [{name: b}]}}}\n");
	pol_pcs pcs;
	json_t *s = NULL;

	(void)state;
	build(doc, &pcs);
	s = shape_of(&pcs, "b", 0, 0, 0, &opts);
	expect_initc(s, NULL);
	json_decref(s);
	pol_pcs_release(&pcs);
	json_decref(doc);
}

static void test_shape_invalid_ref(void **state)
{
	fixture *f = *state;
	const pol_pod_ref bad[] = {
		{ -1, 0, 0, 0 },
		{ 0, 99, 0, 0 },
		{ 0, 0, 0, -1 },
		{ 0, 1, -1, 0 }, /* prefill is grouped */
	};
	json_t *s = NULL;
	size_t r = 0;

	for (r = 0; r < sizeof(bad) / sizeof(bad[0]); r++)
		assert_int_equal(pol_pod_shape(&f->pcs, &bad[r], &opts, &s),
				 GV_EINVAL);
	assert_null(s);
}

/* ---- the patch ---------------------------------------------------- */

/* Decodes standard base64 with padding (gv_base64_decode); the caller
 * frees. */
static char *b64_decode(const char *in)
{
	char *out = NULL;
	size_t len = 0;
	size_t bad = 0;

	assert_int_equal(gv_base64_decode(in, strlen(in), &out, &len, &bad),
			 GV_OK);
	return out;
}

static json_t *patch_of(const json_t *pod, const json_t *shape)
{
	json_t *patch = NULL;

	assert_int_equal(pol_pod_patch(pod, shape, NULL, &patch), GV_OK);
	return patch;
}

/* Patching the patched pod gives []. */
static void expect_idempotent(const json_t *pod, const json_t *shape)
{
	json_t *patch = patch_of(pod, shape);
	json_t *patched = NULL;
	json_t *again = NULL;
	gv_error_t err = GV_ERROR_INIT;

	if (pol_patch_apply(pod, patch, &patched, &err) != GV_OK) {
		print_error("apply: %s\n", err.text);
		fail();
	}
	again = patch_of(patched, shape);
	expect_json(again, "[]");
	json_decref(again);
	json_decref(patched);
	json_decref(patch);
}

/* The exact patch for the captured router pod: the three operations the
 * capture shows (gate, scheduler, podgang label), in that order, plus
 * the other labels and the env the contract adds. Reviewed when the
 * component labels joined (app.kubernetes.io/component and name, as
 * upstream's pods carry their PodClique's labels): the router is
 * standalone and has no parent, so no token volume or grove-initc. */
#define CAPTURED_PATCH                                                       \
	"[{\"op\":\"add\",\"path\":\"/spec/schedulingGates\",\"value\":"     \
	"[{\"name\":\"grove.io/podgang-pending-creation\"}]},"               \
	"{\"op\":\"replace\",\"path\":\"/spec/schedulerName\",\"value\":"    \
	"\"kai-scheduler\"},"                                                \
	"{\"op\":\"add\",\"path\":\"/metadata/labels/"                       \
	"app.kubernetes.io~1managed-by\",\"value\":\"grove-operator\"},"     \
	"{\"op\":\"add\",\"path\":\"/metadata/labels/"                       \
	"app.kubernetes.io~1part-of\",\"value\":\"" PCS "\"},"               \
	"{\"op\":\"add\",\"path\":\"/metadata/labels/"                       \
	"app.kubernetes.io~1component\",\"value\":\"pcs-podclique\"},"       \
	"{\"op\":\"add\",\"path\":\"/metadata/labels/"                       \
	"app.kubernetes.io~1name\",\"value\":\"" PCS "-0-router-clique\"},"  \
	"{\"op\":\"add\",\"path\":\"/metadata/labels/grove.io~1podclique\"," \
	"\"value\":\"" PCS "-0-router-clique\"},"                            \
	"{\"op\":\"add\",\"path\":\"/metadata/labels/grove.io~1podgang\","   \
	"\"value\":\"" PCS "-0\"},"                                          \
	"{\"op\":\"add\",\"path\":\"/metadata/labels/"                       \
	"grove.io~1podcliqueset-replica-index\",\"value\":\"0\"},"           \
	"{\"op\":\"add\",\"path\":\"/metadata/labels/"                       \
	"grove.io~1podclique-pod-index\",\"value\":\"0\"},"                  \
	"{\"op\":\"add\",\"path\":\"/metadata/labels/"                       \
	"grove.io~1pod-template-hash\",\"value\":\"4211ab2ca3\"},"           \
	"{\"op\":\"add\",\"path\":\"/spec/containers/0/env\",\"value\":["    \
	"{\"name\":\"GROVE_PCS_NAME\",\"value\":\"" PCS "\"},"               \
	"{\"name\":\"GROVE_PCS_INDEX\",\"value\":\"0\"},"                    \
	"{\"name\":\"GROVE_PCLQ_NAME\",\"value\":\"" PCS                     \
	"-0-router-clique\"},"                                               \
	"{\"name\":\"GROVE_HEADLESS_SERVICE\",\"value\":"                    \
	"\"" PCS "-0.inference.svc.cluster.local\"},"                        \
	"{\"name\":\"GROVE_PCLQ_POD_INDEX\",\"value\":\"0\"}]}]"

static json_t *captured_pod(json_t *review)
{
	return json_object_get(json_object_get(review, "request"), "object");
}

static void test_captured_pod_patch(void **state)
{
	fixture *f = *state;
	json_t *review = load_doc(POD_CREATE);
	json_t *after = load_doc(POD_AFTER);
	json_t *capture = load_doc("tests/fixtures/captured/responses/"
				   "patch-pod.json");
	const json_t *pod = captured_pod(review);
	const json_t *want_pod = captured_pod(after);
	pol_pod_ref ref;
	json_t *shape = NULL;
	json_t *patch = NULL;
	json_t *patched = NULL;
	json_t *captured = NULL;
	char *text = NULL;
	const json_t *op = NULL;
	size_t k = 0;
	size_t found = 0;

	assert_int_equal(pol_pod_ref_from_pod(&f->pcs, pod, &ref), GV_OK);
	assert_int_equal(ref.clique, clique(&f->pcs, "router-clique"));
	assert_int_equal(ref.set_index, 0);
	assert_int_equal(ref.pod_index, 0);
	assert_int_equal(pol_pod_shape(&f->pcs, &ref, &opts, &shape), GV_OK);
	patch = patch_of(pod, shape);
	expect_json(patch, CAPTURED_PATCH);
	/* the captured webhook's three operations are all in it, as sent */
	text = b64_decode(json_string_value(
	    json_object_get(json_object_get(capture, "response"), "patch")));
	captured = json_loads(text, 0, NULL);
	assert_int_equal(json_array_size(captured), 3);
	json_array_foreach(captured, k, op)
	{
		size_t m = 0;
		const json_t *mine = NULL;

		json_array_foreach(patch, m, mine)
		{
			if (json_equal(mine, op))
				found++;
		}
	}
	assert_int_equal(found, 3);
	/* and the pod it gives agrees with the pod the server stored */
	assert_int_equal(pol_patch_apply(pod, patch, &patched, NULL), GV_OK);
	assert_true(
	    json_equal(json_object_get(json_object_get(patched, "spec"),
				       "schedulingGates"),
		       json_object_get(json_object_get(want_pod, "spec"),
				       "schedulingGates")));
	assert_true(json_equal(
	    json_object_get(json_object_get(patched, "spec"), "schedulerName"),
	    json_object_get(json_object_get(want_pod, "spec"),
			    "schedulerName")));
	assert_string_equal(label(patched, POL_LABEL_PODGANG),
			    label(want_pod, POL_LABEL_PODGANG));
	expect_idempotent(pod, shape);
	json_decref(captured);
	free(text);
	json_decref(patched);
	json_decref(patch);
	json_decref(shape);
	json_decref(capture);
	json_decref(after);
	json_decref(review);
}

/* A bare pod of each reference clique takes the whole shape, once. */
static void test_patch_idempotent(void **state)
{
	fixture *f = *state;
	size_t r = 0;

	for (r = 0; r < sizeof(ref_rows) / sizeof(ref_rows[0]); r++) {
		json_t *s = shape_of(&f->pcs, ref_rows[r].clique, 0,
				     ref_rows[r].j, ref_rows[r].k, &opts);
		json_t *bare = tu_doc(
		    "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":"
		    "[{\"name\":\"main\"},{\"name\":\"side\",\"env\":[]}]}}");
		json_t *nometa = tu_doc("{\"spec\":{\"containers\":[]}}");

		expect_idempotent(bare, s);
		expect_idempotent(nometa, s);
		json_decref(nometa);
		json_decref(bare);
		json_decref(s);
	}
}

/* groved's env of decode-clique pod (0, 0, 0), as a JSON list body. */
#define DECODE_ENV                                               \
	"{\"name\":\"GROVE_PCS_NAME\",\"value\":\"" PCS "\"},"   \
	"{\"name\":\"GROVE_PCS_INDEX\",\"value\":\"0\"},"        \
	"{\"name\":\"GROVE_PCLQ_NAME\",\"value\":\"" PCSG        \
	"-0-decode-clique\"},"                                   \
	"{\"name\":\"GROVE_HEADLESS_SERVICE\",\"value\":\"" PCS  \
	"-0.inference.svc.cluster.local\"},"                     \
	"{\"name\":\"GROVE_PCLQ_POD_INDEX\",\"value\":\"0\"},"   \
	"{\"name\":\"GROVE_PCSG_NAME\",\"value\":\"" PCSG "\"}," \
	"{\"name\":\"GROVE_PCSG_INDEX\",\"value\":\"0\"},"       \
	"{\"name\":\"GROVE_PCSG_POD_INDEX\",\"value\":\"1\"},"   \
	"{\"name\":\"GROVE_PCSG_TEMPLATE_NUM_PODS\",\"value\":\"3\"}"

/* What the pod has and groved does not own is kept: other gates, its own
 * variables (after groved's, so $(GROVE_...) expands), its init
 * containers (which get the env too), its token mount. What groved owns
 * is set: a label of groved's with another value is replaced (a pod in
 * the wrong gang is never scheduled), a GROVE_ variable the pod wrote
 * itself is replaced, as upstream does. */
static void test_patch_existing(void **state)
{
	fixture *f = *state;
	json_t *s = shape_of(&f->pcs, "decode-clique", 0, 0, 0, &opts);
	json_t *pod =
	    tu_doc("{\"metadata\":{\"labels\":{\"grove.io/podgang\":\"mine\","
		   "\"app.kubernetes.io/managed-by\":\"grove-operator\","
		   "\"app.kubernetes.io/part-of\":\"" PCS "\","
		   "\"grove.io/podcliquesets\":\"" PCS "\","
		   "\"grove.io/podcliquesets-clique\":\"decode-clique\","
		   "\"grove.io/podclique\":\"" PCSG "-0-decode-clique\","
		   "\"grove.io/podcliqueset-replica-index\":\"0\","
		   "\"grove.io/podcliquescalinggroup\":\"" PCSG "\","
		   "\"grove.io/podcliquescalinggroup-replica-index\":\"0\","
		   "\"grove.io/podclique-pod-index\":\"0\"}},"
		   "\"spec\":{\"schedulerName\":\"kai-scheduler\","
		   "\"serviceAccountName\":\"workload\","
		   "\"schedulingGates\":[{\"name\":\"example.com/other\"}],"
		   "\"volumes\":[{\"name\":\"kube-api-access-x\"}],"
		   "\"initContainers\":[{\"name\":\"setup\",\"image\":\"x\"}],"
		   "\"containers\":[{\"name\":\"vllm-decode\",\"env\":["
		   "{\"name\":\"LEADER\",\"value\":"
		   "\"$(GROVE_PCSG_NAME)-$(GROVE_PCSG_INDEX)-leader\"},"
		   "{\"name\":\"GROVE_PCS_NAME\",\"value\":\"custom\"},"
		   "{\"name\":\"GROVE_PCS_INDEX\",\"value\":\"0\"}],"
		   "\"volumeMounts\":[{\"name\":\"kube-api-access-x\","
		   "\"mountPath\":\"/var/run/secrets/kubernetes.io/"
		   "serviceaccount\"}]}]}}");
	json_t *patch = patch_of(pod, s);

	expect_json(
	    patch,
	    "[{\"op\":\"add\",\"path\":\"/spec/schedulingGates/-\","
	    "\"value\":{\"name\":\"grove.io/podgang-pending-creation\"}},"
	    "{\"op\":\"add\",\"path\":\"/metadata/labels/"
	    "app.kubernetes.io~1component\",\"value\":\"pcsg-podclique\"},"
	    "{\"op\":\"add\",\"path\":\"/metadata/labels/"
	    "app.kubernetes.io~1name\",\"value\":\"" PCSG "-0-decode-clique\"},"
	    "{\"op\":\"replace\",\"path\":\"/metadata/labels/"
	    "grove.io~1podgang\",\"value\":\"" PCS "-0\"},"
	    "{\"op\":\"add\",\"path\":\"/metadata/labels/"
	    "grove.io~1podcliquescalinggroup-pod-index\",\"value\":\"1\"},"
	    "{\"op\":\"add\",\"path\":\"/metadata/labels/"
	    "grove.io~1pod-template-hash\",\"value\":\"d90b713907\"},"
	    "{\"op\":\"replace\",\"path\":\"/spec/containers/0/env\","
	    "\"value\":[" DECODE_ENV ",{\"name\":\"LEADER\",\"value\":"
	    "\"$(GROVE_PCSG_NAME)-$(GROVE_PCSG_INDEX)-leader\"}]},"
	    "{\"op\":\"add\",\"path\":\"/spec/initContainers/0/env\","
	    "\"value\":[" DECODE_ENV "]},"
	    "{\"op\":\"add\",\"path\":\"/spec/volumes/-\",\"value\":"
	    "{\"name\":\"sa-token-secret-vol\",\"secret\":{\"secretName\":"
	    "\"" PCS "-ic-sat\",\"defaultMode\":420}}},"
	    "{\"op\":\"add\",\"path\":\"/spec/initContainers/-\","
	    "\"value\":{\"name\":\"grove-initc\",\"image\":\"groved:test\","
	    "\"args\":[\"initc\",\"--podcliques=" PCSG
	    "-0-prefill-clique:1\"],\"volumeMounts\":[{\"name\":"
	    "\"sa-token-secret-vol\",\"mountPath\":\"/var/run/secrets/"
	    "kubernetes.io/serviceaccount\",\"readOnly\":true}]}}]");
	expect_idempotent(pod, s);
	json_decref(patch);
	json_decref(pod);
	json_decref(s);
}

/* schedulerName: the API server's default is unset, unless the clique
 * asked for it; a scheduler the pod names itself is kept. */
static const struct sched_row {
	const char *clique; /* of template_in_order */
	const char *pod; /* pod's schedulerName, NULL absent */
	const char *apiserver; /* NULL: "default-scheduler" */
	const char *want; /* the op, "" none */
} sched_rows[] = {
	{ "b", NULL, NULL,
	  "{\"op\":\"add\",\"path\":\"/spec/schedulerName\","
	  "\"value\":\"kai-scheduler\"}" },
	{ "b", "default-scheduler", NULL,
	  "{\"op\":\"replace\",\"path\":\"/spec/schedulerName\","
	  "\"value\":\"kai-scheduler\"}" },
	{ "b", "", NULL,
	  "{\"op\":\"replace\",\"path\":\"/spec/schedulerName\","
	  "\"value\":\"kai-scheduler\"}" },
	{ "b", "volcano", NULL, "" },
	{ "b", "kai-scheduler", NULL, "" },
	{ "b", "other-default", "other-default",
	  "{\"op\":\"replace\",\"path\":\"/spec/schedulerName\","
	  "\"value\":\"kai-scheduler\"}" },
	/* the clique's own scheduler wins over groved's default */
	{ "a", "default-scheduler", NULL,
	  "{\"op\":\"replace\",\"path\":\"/spec/schedulerName\","
	  "\"value\":\"custom-sched\"}" },
	/* the clique asked for default-scheduler: kept */
	{ "d", "default-scheduler", NULL, "" },
	{ "d", NULL, NULL,
	  "{\"op\":\"add\",\"path\":\"/spec/schedulerName\","
	  "\"value\":\"default-scheduler\"}" },
};

static void test_patch_scheduler(void **state)
{
	json_t *doc = tu_doc(template_in_order);
	pol_pcs pcs;
	size_t r = 0;

	(void)state;
	build(doc, &pcs);
	for (r = 0; r < sizeof(sched_rows) / sizeof(sched_rows[0]); r++) {
		const struct sched_row *w = &sched_rows[r];
		json_t *s = shape_of(&pcs, w->clique, 0, 0, 0, &opts);
		json_t *pod = json_pack("{s:{s:[]}}", "spec", "containers");
		json_t *patch = NULL;
		json_t *want = NULL;
		json_t *got = json_array();
		const json_t *op = NULL;
		size_t k = 0;

		print_message("row %zu\n", r);
		if (w->pod)
			json_object_set_new(json_object_get(pod, "spec"),
					    "schedulerName",
					    json_string(w->pod));
		assert_int_equal(pol_pod_patch(pod, s, w->apiserver, &patch),
				 GV_OK);
		json_array_foreach(patch, k, op)
		{
			if (strcmp(
				json_string_value(json_object_get(op, "path")),
				"/spec/schedulerName") == 0)
				json_array_append(got, (json_t *)op);
		}
		want = w->want[0] ? tu_doc(w->want) : NULL;
		if (want) {
			assert_int_equal(json_array_size(got), 1);
			assert_true(json_equal(json_array_get(got, 0), want));
		} else {
			assert_int_equal(json_array_size(got), 0);
		}
		json_decref(want);
		json_decref(got);
		json_decref(patch);
		json_decref(pod);
		json_decref(s);
	}
	pol_pcs_release(&pcs);
	json_decref(doc);
}

/* Label keys are JSON Pointer tokens: '/' as ~1, '~' as ~0. */
static void test_patch_escapes_label_keys(void **state)
{
	json_t *shape = tu_doc("{\"metadata\":{\"labels\":{"
			       "\"kai.scheduler/queue\":\"q\","
			       "\"a~b/c\":\"x\",\"plain\":\"y\"}}}");
	json_t *pod = tu_doc("{\"metadata\":{\"labels\":{}}}");
	json_t *patch = patch_of(pod, shape);

	(void)state;
	expect_json(patch,
		    "[{\"op\":\"add\",\"path\":\"/metadata/labels/"
		    "kai.scheduler~1queue\",\"value\":\"q\"},"
		    "{\"op\":\"add\",\"path\":\"/metadata/labels/a~0b~1c\","
		    "\"value\":\"x\"},"
		    "{\"op\":\"add\",\"path\":\"/metadata/labels/plain\","
		    "\"value\":\"y\"}]");
	expect_idempotent(pod, shape);
	json_decref(patch);
	json_decref(pod);
	json_decref(shape);
}

static void test_patch_invalid(void **state)
{
	json_t *obj = json_object();
	json_t *arr = json_array();
	json_t *patch = NULL;

	(void)state;
	assert_int_equal(pol_pod_patch(arr, obj, NULL, &patch), GV_EINVAL);
	assert_int_equal(pol_pod_patch(obj, arr, NULL, &patch), GV_EINVAL);
	assert_null(patch);
	json_decref(arr);
	json_decref(obj);
}

/* ---- which pod a pod is ------------------------------------------- */

static const struct from_row {
	const char *name; /* NULL: none */
	const char *labels; /* JSON object */
	int rc;
	const char *clique;
	int64_t i, j, k;
} from_rows[] = {
	{ PCS "-0-router-clique-0",
	  "{\"grove.io/podcliquesets-clique\":\"router-clique\"}", GV_OK,
	  "router-clique", 0, 0, 0 },
	{ PCS "-3-router-clique-12",
	  "{\"grove.io/podcliquesets-clique\":\"router-clique\"}", GV_OK,
	  "router-clique", 3, 0, 12 },
	{ PCSG "-2-decode-clique-1",
	  "{\"grove.io/podcliquesets-clique\":\"decode-clique\"}", GV_OK,
	  "decode-clique", 0, 2, 1 },
	/* labels win over the name, each on its own */
	{ PCSG "-2-decode-clique-1",
	  "{\"grove.io/podcliquesets-clique\":\"decode-clique\","
	  "\"grove.io/podclique-pod-index\":\"7\","
	  "\"grove.io/podcliquescalinggroup-replica-index\":\"x\"}",
	  GV_OK, "decode-clique", 0, 2, 7 },
	{ "hand-made",
	  "{\"grove.io/podcliquesets-clique\":\"decode-clique\","
	  "\"grove.io/podcliqueset-replica-index\":\"1\","
	  "\"grove.io/podcliquescalinggroup-replica-index\":\"3\"}",
	  GV_OK, "decode-clique", 1, 3, 0 },
	/* not the generated pattern: 0 */
	{ "hand-made", "{\"grove.io/podcliquesets-clique\":\"decode-clique\"}",
	  GV_OK, "decode-clique", 0, 0, 0 },
	{ NULL, "{\"grove.io/podcliquesets-clique\":\"decode-clique\"}", GV_OK,
	  "decode-clique", 0, 0, 0 },
	/* a grouped clique's name needs the group part */
	{ PCS "-0-decode-clique-1",
	  "{\"grove.io/podcliquesets-clique\":\"decode-clique\"}", GV_OK,
	  "decode-clique", 0, 0, 0 },
	{ PCS "-01-router-clique-0",
	  "{\"grove.io/podcliquesets-clique\":\"router-clique\"}", GV_OK,
	  "router-clique", 0, 0, 0 },
	{ PCS "-0-router-clique-0x",
	  "{\"grove.io/podcliquesets-clique\":\"router-clique\"}", GV_OK,
	  "router-clique", 0, 0, 0 },
	{ PCS "-0-router-clique-99999999999999999999",
	  "{\"grove.io/podcliquesets-clique\":\"router-clique\"}", GV_OK,
	  "router-clique", 0, 0, 0 },
	{ PCS "-0-router-clique-0",
	  "{\"grove.io/podcliquesets-clique\":"
	  "\"nope\"}",
	  GV_ENOTFOUND, NULL, 0, 0, 0 },
	{ PCS "-0-router-clique-0", "{}", GV_ENOTFOUND, NULL, 0, 0, 0 },
};

static void test_ref_from_pod(void **state)
{
	fixture *f = *state;
	size_t r = 0;

	for (r = 0; r < sizeof(from_rows) / sizeof(from_rows[0]); r++) {
		const struct from_row *w = &from_rows[r];
		json_t *pod = json_pack("{s:{s:o}}", "metadata", "labels",
					tu_doc(w->labels));
		pol_pod_ref ref = { -5, 99, -5, -5 };

		print_message("row %zu\n", r);
		if (w->name)
			json_object_set_new(json_object_get(pod, "metadata"),
					    "name", json_string(w->name));
		assert_int_equal(pol_pod_ref_from_pod(&f->pcs, pod, &ref),
				 w->rc);
		if (w->rc == GV_OK) {
			assert_int_equal(ref.clique,
					 clique(&f->pcs, w->clique));
			assert_int_equal(ref.set_index, w->i);
			assert_int_equal(ref.group_index, w->j);
			assert_int_equal(ref.pod_index, w->k);
		} else {
			assert_int_equal(ref.clique, 99);
		}
		json_decref(pod);
	}
}

/* ---- the webhook -------------------------------------------------- */

typedef struct hook_result {
	json_t *response; /* the review's response */
	json_t *patch; /* decoded, or NULL */
} hook_result;

/* Serves review (a whole AdmissionReview) on the mutate-pod path. */
static hook_result serve(const json_t *review, const srv_hook_env *env)
{
	char *body = json_dumps(review, JSON_COMPACT);
	srv_reply reply = { 0 };
	json_t *answer = NULL;
	const char *b64 = NULL;
	hook_result h = { NULL, NULL };

	assert_non_null(body);
	assert_int_equal(srv_admission_serve(SRV_HOOK_MUTATE_POD, body,
					     strlen(body), env, &reply, NULL),
			 GV_OK);
	assert_int_equal(reply.status, 200);
	answer = json_loadb(reply.body, reply.len, 0, NULL);
	assert_non_null(answer);
	h.response = json_incref(json_object_get(answer, "response"));
	b64 = json_string_value(json_object_get(h.response, "patch"));
	if (b64) {
		char *text = b64_decode(b64);

		assert_string_equal(
		    json_string_value(json_object_get(h.response, "patchType")),
		    "JSONPatch");
		h.patch = json_loads(text, 0, NULL);
		assert_non_null(h.patch);
		free(text);
	}
	json_decref(answer);
	srv_reply_release(&reply);
	free(body);
	return h;
}

static void hook_result_release(hook_result *h)
{
	json_decref(h->response);
	json_decref(h->patch);
}

typedef struct hook_fixture {
	json_t *pcs;
	json_t *review;
	srv_memcache *mem;
	srv_cache cache;
	srv_hook_env env;
} hook_fixture;

static int hook_setup(void **state)
{
	hook_fixture *h = calloc(1, sizeof(*h));

	if (!h)
		return -1;
	h->pcs = load_doc(REF_YAML);
	h->review = load_doc(POD_CREATE);
	h->mem = srv_memcache_new();
	assert_non_null(h->mem);
	assert_int_equal(srv_memcache_put(h->mem, h->pcs), GV_OK);
	h->cache = srv_memcache_cache(h->mem);
	h->env.cache = &h->cache;
	h->env.default_scheduler = "kai-scheduler";
	h->env.initc_image = "groved:test";
	*state = h;
	return 0;
}

static int hook_teardown(void **state)
{
	hook_fixture *h = *state;

	srv_memcache_free(h->mem);
	json_decref(h->review);
	json_decref(h->pcs);
	free(h);
	return 0;
}

static json_t *request_of(hook_fixture *h)
{
	return json_object_get(h->review, "request");
}

static json_t *pod_labels(hook_fixture *h)
{
	return json_object_get(
	    json_object_get(json_object_get(request_of(h), "object"),
			    "metadata"),
	    "labels");
}

static void test_hook_captured(void **state)
{
	hook_fixture *h = *state;
	hook_result r = serve(h->review, &h->env);

	assert_true(json_is_true(json_object_get(r.response, "allowed")));
	assert_string_equal(
	    json_string_value(json_object_get(r.response, "uid")),
	    "f76f3ab1-44fa-432d-8061-a8e919e28d56");
	assert_null(json_object_get(r.response, "warnings"));
	assert_non_null(r.patch);
	expect_json(r.patch, CAPTURED_PATCH);
	hook_result_release(&r);
}

/* Expects an allowed answer without patch, with a warning containing
 * `warning` (NULL: no warning). */
static void expect_unpatched(hook_fixture *h, const char *warning)
{
	hook_result r = serve(h->review, &h->env);
	const json_t *w = json_object_get(r.response, "warnings");

	assert_true(json_is_true(json_object_get(r.response, "allowed")));
	assert_null(r.patch);
	if (warning) {
		assert_int_equal(json_array_size(w), 1);
		if (!strstr(json_string_value(json_array_get(w, 0)), warning)) {
			print_error("warning: %s\n",
				    json_string_value(json_array_get(w, 0)));
			fail();
		}
	} else {
		assert_null(w);
	}
	hook_result_release(&r);
}

static void test_hook_update_not_patched(void **state)
{
	hook_fixture *h = *state;

	json_object_set_new(request_of(h), "operation", json_string("UPDATE"));
	json_object_set(request_of(h), "oldObject",
			json_object_get(request_of(h), "object"));
	expect_unpatched(h, NULL);
}

static void test_hook_unlabelled(void **state)
{
	hook_fixture *h = *state;

	json_object_del(pod_labels(h), POL_LABEL_PCS);
	expect_unpatched(h, NULL);
}

static void test_hook_cache_not_synced(void **state)
{
	hook_fixture *h = *state;

	srv_memcache_set_synced(h->mem, false);
	expect_unpatched(h, "PodCliqueSet \"inference/" PCS
			    "\" cannot be read yet (cache not synced)");
	/* no cache at all is the same */
	h->env.cache = NULL;
	expect_unpatched(h, "cache not synced");
}

static void test_hook_set_missing(void **state)
{
	hook_fixture *h = *state;

	json_object_set_new(pod_labels(h), POL_LABEL_PCS, json_string("other"));
	expect_unpatched(h, "PodCliqueSet \"inference/other\" not found");
}

static void test_hook_unknown_clique(void **state)
{
	hook_fixture *h = *state;

	json_object_set_new(pod_labels(h), POL_LABEL_PCS_CLIQUE,
			    json_string("nope"));
	expect_unpatched(h, "label grove.io/podcliquesets-clique \"nope\" "
			    "names no clique of PodCliqueSet \"inference/" PCS
			    "\"");
}

/* A pod the worker made for another template than the set's current one
 * (planned before a template change the cache has since) is admitted as
 * it is: relabelled with the new hash, its old images would count as
 * updated and never be replaced. Its own template's hash is patched as
 * before (test_hook_captured). */
static void test_hook_other_template_unpatched(void **state)
{
	hook_fixture *h = *state;

	json_object_set_new(pod_labels(h), POL_LABEL_TEMPLATE_HASH,
			    json_string("0123456789"));
	expect_unpatched(h, NULL);
}

static void test_hook_wrong_kind(void **state)
{
	hook_fixture *h = *state;
	json_t *kind = json_pack("{s:s, s:s, s:s}", "group", "apps", "version",
				 "v1", "kind", "Deployment");
	srv_review r;
	srv_answer a;
	hook_result res;

	json_object_set_new(request_of(h), "kind", kind);
	res = serve(h->review, &h->env);
	assert_true(json_is_false(json_object_get(res.response, "allowed")));
	assert_null(res.patch);
	hook_result_release(&res);
	/* and the hook itself says what it expected */
	memset(&r, 0, sizeof(r));
	r.operation = "CREATE";
	r.group = "apps";
	r.version = "v1";
	r.kind = "Deployment";
	r.resource = r.sub_resource = r.namespace = r.name = r.user = "";
	r.uid = r.api_version = "";
	srv_answer_init(&a);
	assert_int_equal(srv_hook_mutate_pod(&r, &h->env, &a), GV_EINVAL);
	assert_false(a.allowed);
	assert_string_equal(a.message,
			    "mutate-pod expects a core v1 Pod, not apps/v1 "
			    "Deployment");
	srv_answer_release(&a);
}

/* ---- a Dynamo-shaped set: the planner's pod and the webhook's ------ */

#define DYNAMO_YAML "tests/fixtures/pods/dynamo-multinode.yaml"
#define SA_PATH "/var/run/secrets/kubernetes.io/serviceaccount"

/* The value of variable i of env as Kubernetes gives it to the process:
 * $(NAME) expanded from the variables listed before i, else left as
 * written; $$ is a literal $. The caller frees. */
static char *expanded(const json_t *env, size_t i)
{
	const char *v =
	    json_string_value(json_object_get(json_array_get(env, i), "value"));
	char *out = calloc(1, 4096);
	size_t len = 0;

	assert_non_null(v);
	assert_non_null(out);
	while (*v && len < 4000) {
		const char *end = strchr(v, ')');
		const char *val = NULL;
		size_t k = 0;

		if (v[0] == '$' && v[1] == '$') {
			out[len++] = '$';
			v += 2;
			continue;
		}
		if (v[0] != '$' || v[1] != '(' || !end) {
			out[len++] = *v++;
			continue;
		}
		for (k = 0; k < i; k++) {
			const json_t *e = json_array_get(env, k);
			const char *n =
			    json_string_value(json_object_get(e, "name"));

			if (strlen(n) == (size_t)(end - v - 2) &&
			    strncmp(n, v + 2, strlen(n)) == 0)
				val = json_string_value(
				    json_object_get(e, "value"));
		}
		if (val)
			len +=
			    (size_t)snprintf(out + len, 4096 - len, "%s", val);
		else
			len += (size_t)snprintf(out + len, 4096 - len, "%.*s",
						(int)(end - v + 1), v);
		v = end + 1;
	}
	return out;
}

/* Index of variable name in env; fails when absent. */
static size_t env_index(const json_t *env, const char *name)
{
	const json_t *e = NULL;
	size_t k = 0;

	json_array_foreach(env, k, e)
	{
		if (strcmp(json_string_value(json_object_get(e, "name")),
			   name) == 0)
			return k;
	}
	print_error("no variable %s\n", name);
	fail();
	return 0;
}

/* The pod the worker will create for ref, written out from the
 * contract (the planner does not exist yet): the clique's podSpec with
 * the shape laid over it: groved's variables before each container's
 * own (a same-named one replaced), grove-initc after the template's init
 * containers, its token volume beside the template's volumes, the gate
 * beside the template's gates. */
static json_t *planner_pod(const pol_pcs *pcs, const json_t *shape, size_t ci)
{
	static const char *const lists[] = { "containers", "initContainers" };
	const json_t *want = json_object_get(shape, "spec");
	json_t *spec = json_deep_copy(pcs->cliques[ci].pod);
	json_t *pod =
	    json_pack("{s:O, s:o}", "metadata",
		      json_object_get(shape, "metadata"), "spec", spec);
	const json_t *el = NULL;
	size_t l = 0;
	size_t k = 0;

	assert_non_null(pod);
	json_object_set(spec, "schedulerName",
			json_object_get(want, "schedulerName"));
	json_object_set(spec, "hostname", json_object_get(want, "hostname"));
	json_object_set(spec, "subdomain", json_object_get(want, "subdomain"));
	if (!json_object_get(spec, "schedulingGates"))
		json_object_set_new(spec, "schedulingGates", json_array());
	json_array_extend(json_object_get(spec, "schedulingGates"),
			  json_object_get(want, "schedulingGates"));
	if (json_object_get(want, "volumes")) {
		if (!json_object_get(spec, "volumes"))
			json_object_set_new(spec, "volumes", json_array());
		json_array_extend(json_object_get(spec, "volumes"),
				  json_object_get(want, "volumes"));
	}
	for (l = 0; l < 2; l++) {
		json_array_foreach(json_object_get(spec, lists[l]), k, el)
		{
			const char *name =
			    json_string_value(json_object_get(el, "name"));
			const json_t *w = NULL;
			const json_t *e = NULL;
			size_t m = 0;
			size_t x = 0;
			json_t *env = NULL;

			json_array_foreach(json_object_get(want, lists[l]), m,
					   w)
			{
				if (strcmp(json_string_value(
					       json_object_get(w, "name")),
					   name) == 0)
					break;
			}
			env = json_deep_copy(json_object_get(w, "env"));
			assert_non_null(env);
			json_array_foreach(json_object_get(el, "env"), x, e)
			{
				const json_t *g = NULL;
				size_t y = 0;
				bool clash = false;

				json_array_foreach(json_object_get(w, "env"), y,
						   g) clash |=
				    json_equal(json_object_get(g, "name"),
					       json_object_get(e, "name"));
				if (!clash)
					json_array_append(env, (json_t *)e);
			}
			json_object_set_new((json_t *)el, "env", env);
		}
	}
	json_array_foreach(json_object_get(want, "initContainers"), k, el)
	{
		if (strcmp(json_string_value(json_object_get(el, "name")),
			   POL_INITC_NAME) != 0)
			continue;
		if (!json_object_get(spec, "initContainers"))
			json_object_set_new(spec, "initContainers",
					    json_array());
		json_array_append(json_object_get(spec, "initContainers"),
				  (json_t *)el);
	}
	return pod;
}

/* The same pod as kube-apiserver hands it to the mutating webhook: made
 * from the clique's podSpec by someone else, named as the worker names
 * it, labelled with the set and the clique only, defaulted
 * (default-scheduler) and with the pod's own token mounted into every
 * container by the ServiceAccount admission plugin, which runs before
 * webhooks. */
static json_t *apiserver_pod(const pol_pcs *pcs, size_t ci, const char *name)
{
	static const char *const lists[] = { "containers", "initContainers" };
	json_t *spec = json_deep_copy(pcs->cliques[ci].pod);
	json_t *pod = json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s, s:s}}, s:o}",
				"apiVersion", "v1", "kind", "Pod", "metadata",
				"name", name, "namespace", "dynamo", "labels",
				POL_LABEL_PCS, pcs->name, POL_LABEL_PCS_CLIQUE,
				pcs->cliques[ci].name, "spec", spec);
	const json_t *el = NULL;
	size_t l = 0;
	size_t k = 0;

	assert_non_null(pod);
	json_object_set_new(spec, "schedulerName",
			    json_string("default-scheduler"));
	json_object_set_new(spec, "volumes",
			    json_pack("[{s:s, s:{s:[{s:{s:i, s:s}}]}}]", "name",
				      "kube-api-access-abcde", "projected",
				      "sources", "serviceAccountToken",
				      "expirationSeconds", 3607, "path",
				      "token"));
	for (l = 0; l < 2; l++) {
		json_array_foreach(json_object_get(spec, lists[l]), k, el)
		    json_object_set_new((json_t *)el, "volumeMounts",
					json_pack("[{s:s, s:b, s:s}]", "name",
						  "kube-api-access-abcde",
						  "readOnly", 1, "mountPath",
						  SA_PATH));
	}
	return pod;
}

/* The AdmissionReview of a CREATE of pod (borrowed). */
static json_t *create_review(const json_t *pod)
{
	return json_pack(
	    "{s:s, s:s, s:{s:s, s:{s:s, s:s, s:s}, s:{s:s, s:s, s:s}, "
	    "s:s, s:s, s:s, s:{s:s}, s:O}}",
	    "apiVersion", "admission.k8s.io/v1", "kind", "AdmissionReview",
	    "request", "uid", "dynamo-1", "kind", "group", "", "version", "v1",
	    "kind", "Pod", "resource", "group", "", "version", "v1", "resource",
	    "pods", "namespace", "dynamo", "name",
	    json_string_value(
		json_object_get(json_object_get(pod, "metadata"), "name")),
	    "operation", "CREATE", "userInfo", "username", "admin", "object",
	    (json_t *)pod);
}

/* Equal, or both absent (json_equal is false for NULL). */
static bool same_json(const json_t *a, const json_t *b)
{
	return (!a && !b) || json_equal(a, b);
}

static const json_t *named_el(const json_t *list, const char *name)
{
	const json_t *el = NULL;
	size_t k = 0;

	json_array_foreach(list, k, el)
	{
		if (strcmp(json_string_value(json_object_get(el, "name")),
			   name) == 0)
			return el;
	}
	return NULL;
}

/* A Dynamo worker pod (unit 1 of the group, so a scaled gang; worker 2,
 * the unit's fourth pod) through the mutating webhook gets what the
 * planner's pod gets: env order, labels, annotations, credentials,
 * gates; and a second pass patches nothing. */
static void test_dynamo_webhook_matches_planner(void **state)
{
	static const char *const cliques[] = { "vllmworker-wkr",
					       "vllmworker-ldr", "frontend" };
	static const char *const names[] = {
		"llm-0-vllmworker-1-vllmworker-wkr-2",
		"llm-0-vllmworker-1-vllmworker-ldr-0", "llm-0-frontend-0"
	};
	json_t *doc = load_doc(DYNAMO_YAML);
	srv_memcache *mem = srv_memcache_new();
	srv_cache cache;
	srv_hook_env env;
	pol_pcs pcs;
	size_t r = 0;

	(void)state;
	build(doc, &pcs);
	assert_non_null(mem);
	assert_int_equal(srv_memcache_put(mem, doc), GV_OK);
	cache = srv_memcache_cache(mem);
	memset(&env, 0, sizeof(env));
	env.cache = &cache;
	env.default_scheduler = "kai-scheduler";
	env.initc_image = "groved:test";
	for (r = 0; r < 3; r++) {
		size_t ci = clique(&pcs, cliques[r]);
		json_t *in = apiserver_pod(&pcs, ci, names[r]);
		json_t *review = create_review(in);
		hook_result h = serve(review, &env);
		pol_pod_options o = { .default_scheduler = "kai-scheduler",
				      .initc_image = "groved:test",
				      .namespace = "dynamo" };
		pol_pod_ref ref;
		json_t *shape = NULL;
		json_t *plan = NULL;
		json_t *got = NULL;
		const json_t *gs = NULL;
		const json_t *ps = NULL;
		static const char *const lists[] = { "containers",
						     "initContainers" };
		size_t l = 0;
		size_t k = 0;
		const json_t *el = NULL;

		print_message("pod %s\n", names[r]);
		assert_true(
		    json_is_true(json_object_get(h.response, "allowed")));
		assert_null(json_object_get(h.response, "warnings"));
		assert_non_null(h.patch);
		assert_int_equal(pol_patch_apply(in, h.patch, &got, NULL),
				 GV_OK);
		assert_int_equal(pol_pod_ref_from_pod(&pcs, in, &ref), GV_OK);
		assert_int_equal(pol_pod_shape(&pcs, &ref, &o, &shape), GV_OK);
		plan = planner_pod(&pcs, shape, ci);
		gs = json_object_get(got, "spec");
		ps = json_object_get(plan, "spec");
		/* the same labels, annotations, gates, scheduler, identity */
		assert_true(json_equal(
		    json_object_get(json_object_get(got, "metadata"), "labels"),
		    json_object_get(json_object_get(plan, "metadata"),
				    "labels")));
		assert_true(
		    same_json(json_object_get(json_object_get(got, "metadata"),
					      "annotations"),
			      json_object_get(json_object_get(plan, "metadata"),
					      "annotations")));
		assert_true(json_equal(json_object_get(gs, "schedulingGates"),
				       json_object_get(ps, "schedulingGates")));
		assert_string_equal(
		    json_string_value(json_object_get(gs, "schedulerName")),
		    "kai-scheduler");
		assert_string_equal(json_string_value(json_object_get(
					gs, "serviceAccountName")),
				    "llm-workload");
		assert_string_equal(json_string_value(json_object_get(
					ps, "serviceAccountName")),
				    "llm-workload");
		/* every container and init container: the same env, in the
		 * same order; the same init containers in the same order */
		for (l = 0; l < 2; l++) {
			const json_t *gl = json_object_get(gs, lists[l]);
			const json_t *pl = json_object_get(ps, lists[l]);

			assert_int_equal(json_array_size(gl),
					 json_array_size(pl));
			json_array_foreach(pl, k, el)
			{
				const json_t *g = json_array_get(gl, k);

				assert_true(
				    json_equal(json_object_get(g, "name"),
					       json_object_get(el, "name")));
				assert_true(
				    same_json(json_object_get(g, "env"),
					      json_object_get(el, "env")));
			}
		}
		/* grove-initc: the same container, the set's token alone at
		 * the service account path; the pod's own token stays in the
		 * other containers */
		el = named_el(json_object_get(gs, "initContainers"),
			      POL_INITC_NAME);
		if (el) {
			assert_true(json_equal(
			    el, named_el(json_object_get(ps, "initContainers"),
					 POL_INITC_NAME)));
			assert_int_equal(json_array_size(json_object_get(
					     el, "volumeMounts")),
					 1);
			assert_true(
			    json_equal(named_el(json_object_get(gs, "volumes"),
						POL_INITC_TOKEN_VOLUME),
				       named_el(json_object_get(ps, "volumes"),
						POL_INITC_TOKEN_VOLUME)));
		}
		assert_string_equal(
		    json_string_value(json_object_get(
			json_array_get(
			    json_object_get(
				json_array_get(
				    json_object_get(gs, "containers"), 0),
				"volumeMounts"),
			    0),
			"name")),
		    "kube-api-access-abcde");
		hook_result_release(&h);
		json_decref(review);
		/* a second pass patches nothing */
		review = create_review(got);
		h = serve(review, &env);
		assert_true(
		    json_is_true(json_object_get(h.response, "allowed")));
		assert_null(h.patch);
		hook_result_release(&h);
		json_decref(review);
		json_decref(plan);
		json_decref(shape);
		json_decref(got);
		json_decref(in);
	}
	srv_memcache_free(mem);
	pol_pcs_release(&pcs);
	json_decref(doc);
}

/* What the Dynamo worker pod is, exactly where it matters: the queue
 * from its template, the scaled gang and its base, the unit position,
 * groved's variables first so that $(GROVE_PCSG_NAME) expands, in the
 * main container and in the template's init container, and the parent
 * counted by its minAvailable. */
static void test_dynamo_worker_shape(void **state)
{
	json_t *doc = load_doc(DYNAMO_YAML);
	pol_pcs pcs;
	pol_pod_options o = { .default_scheduler = "kai-scheduler",
			      .initc_image = "groved:test" };
	json_t *s = NULL;
	const json_t *spec = NULL;
	const json_t *env = NULL;
	char *v = NULL;

	(void)state;
	build(doc, &pcs);
	s = shape_of(&pcs, "vllmworker-wkr", 0, 1, 2, &o);
	spec = json_object_get(s, "spec");
	assert_string_equal(label(s, POL_LABEL_KAI_QUEUE), "dynamo");
	assert_string_equal(label(s, "nvidia.com/dynamo-component-type"),
			    "worker");
	assert_string_equal(label(s, POL_LABEL_PODGANG), "llm-0-vllmworker-0");
	assert_string_equal(label(s, POL_LABEL_BASE_PODGANG), "llm-0");
	assert_string_equal(label(s, POL_LABEL_PCSG_POD_INDEX), "3");
	assert_string_equal(label(s, POL_LABEL_COMPONENT), "pcsg-podclique");
	expect_json(
	    json_object_get(json_object_get(s, "metadata"), "annotations"),
	    "{\"nvidia.com/dynamo-component\":\"VllmWorker\"}");
	expect_initc(s, "initc --podcliques=llm-0-vllmworker-1-vllmworker-"
			"ldr:1");
	expect_token(s, true);
	/* the template's own init container first, grove-initc last */
	assert_string_equal(
	    json_string_value(json_object_get(
		json_array_get(json_object_get(spec, "initContainers"), 0),
		"name")),
	    "wait-leader");
	json_decref(s);
	s = NULL;

	/* the planner's pod: what the container's process sees */
	{
		json_t *shape = shape_of(&pcs, "vllmworker-wkr", 0, 1, 2, &o);
		json_t *plan =
		    planner_pod(&pcs, shape, clique(&pcs, "vllmworker-wkr"));
		const json_t *ps = json_object_get(plan, "spec");

		env = json_object_get(
		    json_array_get(json_object_get(ps, "containers"), 0),
		    "env");
		assert_int_equal(env_index(env, "GROVE_PCS_NAME"), 0);
		assert_int_equal(env_index(env, "GROVE_PCSG_TEMPLATE_NUM_PODS"),
				 8);
		assert_int_equal(env_index(env, "RAY_ADDRESS"), 9);
		v = expanded(env, env_index(env, "RAY_ADDRESS"));
		assert_string_equal(v, "llm-0-vllmworker-1-vllmworker-ldr-0."
				       "llm-0.dynamo.svc.cluster.local:6379");
		free(v);
		env = json_object_get(
		    json_array_get(json_object_get(ps, "initContainers"), 0),
		    "env");
		v = expanded(env, env_index(env, "LEADER_HOST"));
		assert_string_equal(v, "llm-0-vllmworker-1-vllmworker-ldr-0."
				       "llm-0.dynamo.svc.cluster.local");
		free(v);
		/* grove-initc takes no variables */
		assert_null(json_object_get(
		    json_array_get(json_object_get(ps, "initContainers"), 1),
		    "env"));
		json_decref(plan);
		json_decref(shape);
	}

	/* the leader: a template GROVE_PCSG_NAME is replaced by groved's,
	 * grove.io/topology-name stays off the pod, no parent */
	s = shape_of(&pcs, "vllmworker-ldr", 0, 0, 0, &o);
	assert_null(label(s, POL_LABEL_BASE_PODGANG));
	assert_string_equal(label(s, POL_LABEL_PODGANG), "llm-0");
	assert_string_equal(label(s, POL_LABEL_PCSG_POD_INDEX), "0");
	expect_json(
	    json_object_get(json_object_get(s, "metadata"), "annotations"),
	    "{\"nvidia.com/dynamo-component\":\"VllmWorker\"}");
	expect_initc(s, NULL);
	expect_token(s, false);
	{
		json_t *plan =
		    planner_pod(&pcs, s, clique(&pcs, "vllmworker-ldr"));

		env = json_object_get(
		    json_array_get(
			json_object_get(json_object_get(plan, "spec"),
					"containers"),
			0),
		    "env");
		assert_int_equal(json_array_size(env), 10);
		assert_string_equal(
		    json_string_value(json_object_get(
			json_array_get(env, env_index(env, "GROVE_PCSG_NAME")),
			"value")),
		    "llm-0-vllmworker");
		v = expanded(env, env_index(env, "RAY_ADDRESS"));
		assert_string_equal(v, "llm-0-vllmworker-0-vllmworker-ldr-0."
				       "llm-0.dynamo.svc.cluster.local");
		free(v);
		json_decref(plan);
	}
	json_decref(s);
	pol_pcs_release(&pcs);
	json_decref(doc);
}

/* The PodClique of the Dynamo worker in unit 1: the template's labels
 * and annotations, groved's labels, and what its pods carry beyond them
 * is the pod's own. */
static void test_podclique_meta(void **state)
{
	json_t *doc = load_doc(DYNAMO_YAML);
	pol_pcs pcs;
	pol_pod_ref ref;
	json_t *meta = NULL;
	json_t *shape = NULL;
	json_t *view = NULL;
	const char *k = NULL;
	json_t *v = NULL;

	(void)state;
	build(doc, &pcs);
	ref.set_index = 0;
	ref.clique = clique(&pcs, "vllmworker-wkr");
	ref.group_index = 1;
	ref.pod_index = 2;
	assert_int_equal(pol_podclique_meta(&pcs, &ref, NULL, &meta), GV_OK);
	assert_int_equal(pol_pod_shape(&pcs, &ref, NULL, &shape), GV_OK);
	view = json_pack("{s:O}", "metadata", meta);
	assert_string_equal(json_string_value(json_object_get(meta, "name")),
			    "llm-0-vllmworker-1-vllmworker-wkr");
	assert_string_equal(label(view, POL_LABEL_KAI_QUEUE), "dynamo");
	assert_string_equal(label(view, "nvidia.com/dynamo-component-type"),
			    "worker");
	assert_string_equal(label(view, POL_LABEL_COMPONENT), "pcsg-podclique");
	assert_string_equal(label(view, POL_LABEL_APP_NAME),
			    "llm-0-vllmworker-1-vllmworker-wkr");
	assert_string_equal(label(view, POL_LABEL_PODGANG),
			    "llm-0-vllmworker-0");
	assert_string_equal(label(view, POL_LABEL_BASE_PODGANG), "llm-0");
	assert_string_equal(label(view, POL_LABEL_PCSG), "llm-0-vllmworker");
	assert_string_equal(label(view, POL_LABEL_PCSG_INDEX), "1");
	assert_null(label(view, POL_LABEL_POD_INDEX));
	expect_json(json_object_get(meta, "annotations"),
		    "{\"nvidia.com/dynamo-component\":\"VllmWorker\"}");
	/* its pods carry every label of it, and only their own besides */
	json_object_foreach(json_object_get(meta, "labels"), k, v)
	{
		const json_t *pl = json_object_get(
		    json_object_get(shape, "metadata"), "labels");

		assert_true(json_equal(v, json_object_get(pl, k)));
	}
	json_object_foreach(
	    json_object_get(json_object_get(shape, "metadata"), "labels"), k, v)
	{
		if (!json_object_get(json_object_get(meta, "labels"), k))
			assert_true(strcmp(k, POL_LABEL_PCS) == 0 ||
				    strcmp(k, POL_LABEL_PCS_CLIQUE) == 0 ||
				    strcmp(k, POL_LABEL_PCLQ) == 0 ||
				    strcmp(k, POL_LABEL_PCSG_POD_INDEX) == 0 ||
				    strcmp(k, POL_LABEL_POD_INDEX) == 0);
	}
	json_decref(view);
	json_decref(meta);
	json_decref(shape);
	pol_pcs_release(&pcs);
	json_decref(doc);
}

/* Every PodGang of the set: the set's labels and annotations but
 * grove.io/ ones (KAI takes the queue from the gang), then groved's. */
static void test_podgang_meta(void **state)
{
	json_t *doc = tu_doc(
	    "metadata: {name: g, namespace: n,\n"
	    "  labels: {kai.scheduler/queue: team, grove.io/x: dropped,\n"
	    "           app.kubernetes.io/component: mine},\n"
	    "  annotations: {note: kept, grove.io/topology-name: dropped,\n"
	    "    kubectl.kubernetes.io/last-applied-configuration: dropped}}\n"
	    "spec:\n"
	    "  podCliques: [{name: a, containers: [{name: a, image: x}]}]\n");
	pol_pcs pcs;
	json_t *meta = NULL;

	(void)state;
	build(doc, &pcs);
	assert_int_equal(pol_podgang_meta(&pcs, &meta), GV_OK);
	expect_json(meta, "{\"labels\":{\"kai.scheduler/queue\":\"team\","
			  "\"app.kubernetes.io/component\":\"podgang\","
			  "\"app.kubernetes.io/managed-by\":"
			  "\"grove-operator\","
			  "\"app.kubernetes.io/part-of\":\"g\"},"
			  "\"annotations\":{\"note\":\"kept\"}}");
	assert_int_equal(pol_podgang_meta(&pcs, NULL), GV_EINVAL);
	json_decref(meta);
	pol_pcs_release(&pcs);
	json_decref(doc);
}

#define HOOK_TEST(fn) \
	cmocka_unit_test_setup_teardown(fn, hook_setup, hook_teardown)

int main(void)
{
	const struct CMUnitTest policy_tests[] = {
		cmocka_unit_test(test_reference_every_pod),
		cmocka_unit_test(test_reference_full_shape),
		cmocka_unit_test(test_template_hash),
		cmocka_unit_test(test_rolling_update_not_hashed),
		cmocka_unit_test(test_template_in_order),
		cmocka_unit_test(test_template_containers),
		cmocka_unit_test(test_explicit_parents),
		cmocka_unit_test(test_any_order),
		cmocka_unit_test(test_shape_invalid_ref),
		cmocka_unit_test(test_captured_pod_patch),
		cmocka_unit_test(test_patch_idempotent),
		cmocka_unit_test(test_patch_existing),
		cmocka_unit_test(test_patch_scheduler),
		cmocka_unit_test(test_patch_escapes_label_keys),
		cmocka_unit_test(test_patch_invalid),
		cmocka_unit_test(test_ref_from_pod),
		cmocka_unit_test(test_dynamo_worker_shape),
		cmocka_unit_test(test_podclique_meta),
		cmocka_unit_test(test_podgang_meta),
	};
	const struct CMUnitTest hook_tests[] = {
		HOOK_TEST(test_hook_captured),
		HOOK_TEST(test_hook_update_not_patched),
		HOOK_TEST(test_hook_unlabelled),
		HOOK_TEST(test_hook_cache_not_synced),
		HOOK_TEST(test_hook_set_missing),
		HOOK_TEST(test_hook_unknown_clique),
		HOOK_TEST(test_hook_other_template_unpatched),
		HOOK_TEST(test_hook_wrong_kind),
		cmocka_unit_test(test_dynamo_webhook_matches_planner),
	};
	int failed = 0;

	failed += cmocka_run_group_tests_name("pod shaping", policy_tests,
					      setup, teardown);
	failed += cmocka_run_group_tests_name("mutate-pod webhook", hook_tests,
					      NULL, NULL);
	return failed ? 1 : 0;
}
