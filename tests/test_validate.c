/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_validate.c: the rules over whole manifests: the reference workload
 * and its broken variants from the issue, the UPDATE rules, lookups and
 * warnings, scale (a long chain and a long cycle), and the property that
 * validation never blames a field that only the defaults wrote.
 */
#include "test_gen.h"
#include "test_util.h"

#include "../policy/pol_int.h"

typedef struct fixture {
	char *reference;
	char *templates; /* claim-templates.yaml */
} fixture;

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->reference = tu_file("examples/vllm-disaggregated.yaml");
	f->templates = tu_file("examples/claim-templates.yaml");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	free(f->reference);
	free(f->templates);
	free(f);
	return 0;
}

/* A replacement of the first `from` in s by `to`; caller frees. */
static char *replaced(const char *s, const char *from, const char *to)
{
	const char *at = strstr(s, from);
	size_t n = strlen(s) - strlen(from) + strlen(to) + 1;
	char *out = malloc(n);

	assert_non_null(at);
	assert_non_null(out);
	snprintf(out, n, "%.*s%s%s", (int)(at - s), s, to, at + strlen(from));
	return out;
}

/* Claim templates known to exist: those in the fixture file. */
static pol_lookup_result known_templates(void *ctx, const char *ns,
					 const char *name, char *why,
					 size_t size)
{
	(void)ctx;
	(void)why;
	(void)size;
	if (strcmp(ns, "inference") == 0 &&
	    (strcmp(name, "b200-prefill-claim") == 0 ||
	     strcmp(name, "h200-decode-claim") == 0))
		return POL_LOOKUP_FOUND;
	return POL_LOOKUP_MISSING;
}

static const pol_lookup templates_lookup = { known_templates, NULL, NULL };
static const pol_options with_templates = { NULL, NULL, &templates_lookup };

static void test_reference_valid(void **state)
{
	fixture *f = *state;
	json_t *warnings = NULL;
	char *msg = tu_review(f->reference, &with_templates, &warnings);

	assert_null(msg);
	assert_int_equal(json_array_size(warnings), 0);
	json_decref(warnings);
}

static void test_reference_offline_warns(void **state)
{
	fixture *f = *state;
	json_t *warnings = NULL;
	char *msg = tu_review(f->reference, NULL, &warnings);

	assert_null(msg);
	assert_int_equal(json_array_size(warnings), 2);
	assert_string_equal(json_string_value(json_array_get(warnings, 0)),
			    "spec.podCliques[1].resourceClaims[0]."
			    "resourceClaimTemplateName: ResourceClaimTemplate "
			    "\"inference/b200-prefill-claim\" was not checked: "
			    "no cluster to check against");
	json_decref(warnings);
}

static void expect_denial(const char *text, const char *want)
{
	char *msg = tu_review(text, &with_templates, NULL);

	assert_non_null(msg);
	assert_string_equal(msg, want);
	free(msg);
}

static void test_reference_decode_after_itself(void **state)
{
	fixture *f = *state;
	char *bad = replaced(f->reference, "startsAfter: prefill-clique",
			     "startsAfter: decode-clique");

	expect_denial(bad, "spec.podCliques[2].startsAfter: Invalid value: "
			   "\"decode-clique\": a clique cannot start after "
			   "itself");
	free(bad);
}

static void test_reference_three_cycle(void **state)
{
	fixture *f = *state;
	char *bad = replaced(f->reference, "  - name: router-clique\n",
			     "  - name: router-clique\n"
			     "    startsAfter: decode-clique\n");

	expect_denial(bad, "spec.podCliques[2].startsAfter: Invalid value: "
			   "\"prefill-clique\": startsAfter cycle: "
			   "decode-clique -> prefill-clique -> router-clique "
			   "-> decode-clique");
	free(bad);
}

static void test_reference_short_ratio(void **state)
{
	fixture *f = *state;
	char *bad = replaced(f->reference, "replicas: [1, 2]", "replicas: [1]");

	expect_denial(bad, "spec.scalingGroups[0].replicas: Invalid value: "
			   "[1]: must have one entry per clique of "
			   "spec.scalingGroups[0].cliques (2)");
	free(bad);
}

static void test_reference_missing_template(void **state)
{
	fixture *f = *state;
	char *bad = replaced(f->reference, "h200-decode-claim", "h100-claim");

	expect_denial(bad, "spec.podCliques[2].resourceClaims[0]."
			   "resourceClaimTemplateName: Not found: "
			   "\"h100-claim\": no ResourceClaimTemplate "
			   "\"h100-claim\" in namespace \"inference\"; create "
			   "the template first");
	free(bad);
}

/* V14 on a set that another controller made: a missing template is a
 * warning, since that operator may create it next; without a controller
 * ownerReference it is still a denial. */
static void test_controller_owned_missing_template(void **state)
{
	fixture *f = *state;
	char *missing =
	    replaced(f->reference, "h200-decode-claim", "h100-claim");
	char *owned = replaced(
	    missing, "  namespace: inference\n",
	    "  namespace: inference\n  ownerReferences:\n"
	    "  - {apiVersion: nvidia.com/v1alpha1, kind: "
	    "DynamoGraphDeployment, name: vllm, uid: u1, controller: true}\n");
	char *not_controller =
	    replaced(owned, "controller: true", "controller: false");
	json_t *warnings = NULL;
	char *msg = tu_review(owned, &with_templates, &warnings);

	assert_null(msg);
	assert_int_equal(json_array_size(warnings), 1);
	assert_string_equal(json_string_value(json_array_get(warnings, 0)),
			    "spec.podCliques[2].resourceClaims[0]."
			    "resourceClaimTemplateName: ResourceClaimTemplate "
			    "\"inference/h100-claim\" does not exist yet; "
			    "allowed because DynamoGraphDeployment \"vllm\" "
			    "controls this PodCliqueSet and may create it next "
			    "(its pods wait for it)");
	json_decref(warnings);
	expect_denial(not_controller,
		      "spec.podCliques[2].resourceClaims[0]."
		      "resourceClaimTemplateName: Not found: \"h100-claim\": "
		      "no ResourceClaimTemplate \"h100-claim\" in namespace "
		      "\"inference\"; create the template first");
	free(not_controller);
	free(owned);
	free(missing);
}

/* V20: the bindings asked for, and how often. */
typedef struct topo_calls {
	size_t n;
	char last[64];
} topo_calls;

static pol_lookup_result count_topology(void *ctx, const char *name,
					json_t **levels, char *why, size_t size)
{
	topo_calls *c = ctx;

	(void)why;
	(void)size;
	c->n++;
	snprintf(c->last, sizeof(c->last), "%s", name);
	if (strcmp(name, "gpu-topology") != 0)
		return POL_LOOKUP_MISSING;
	*levels =
	    json_pack("[{s:s},{s:s}]", "domain", "rack", "domain", "host");
	return *levels ? POL_LOOKUP_FOUND : POL_LOOKUP_UNKNOWN;
}

#define TOPO_SET                                                       \
	"apiVersion: grove.io/v1alpha1\nkind: PodCliqueSet\n"          \
	"metadata: {name: demo, namespace: inference}\n"               \
	"spec:\n  template:\n"                                         \
	"    topologyConstraint: {topologyName: gpu-topology}\n"       \
	"    cliques:\n"                                               \
	"    - name: a\n"                                              \
	"      topologyConstraint: {pack: {required: host}}\n"         \
	"      spec: {podSpec: {containers: [{name: c, image: i}]}}\n" \
	"    - name: b\n"                                              \
	"      topologyConstraint: {pack: {required: shelf}}\n"        \
	"      spec: {podSpec: {containers: [{name: c, image: i}]}}\n" \
	"    podCliqueScalingGroups:\n"                                \
	"    - name: g\n      cliqueNames: [a]\n"                      \
	"      topologyConstraint: {pack: {required: rack}}\n"

/* A name written once, at template level, is inherited by the group and
 * the cliques, looked up once; a clique's domain is checked against it;
 * a second name is one error naming both. */
static void test_topology_one_binding(void **state)
{
	topo_calls calls = { 0, "" };
	pol_lookup lookup = { NULL, count_topology, &calls };
	pol_options o = { NULL, NULL, &lookup };
	char *two = NULL;
	char *msg = tu_review(TOPO_SET, &o, NULL);

	(void)state;
	assert_int_equal(calls.n, 1);
	assert_string_equal(calls.last, "gpu-topology");
	assert_non_null(msg);
	assert_string_equal(msg, "spec.template.cliques[1].topologyConstraint."
				 "pack.required: Unsupported value: \"shelf\": "
				 "supported values: \"rack\", \"host\"");
	free(msg);
	two = replaced(TOPO_SET, "{pack: {required: rack}}",
		       "{topologyName: other, pack: {required: rack}}");
	calls.n = 0;
	msg = tu_review(two, &o, NULL);
	assert_int_equal(calls.n, 1);
	assert_non_null(msg);
	assert_non_null(strstr(
	    msg, "spec.template.podCliqueScalingGroups[0].topologyConstraint."
		 "topologyName: Invalid value: \"other\": a PodCliqueSet uses "
		 "one ClusterTopologyBinding: spec.template.topologyConstraint."
		 "topologyName names \"gpu-topology\""));
	free(msg);
	free(two);
}

static void test_upstream_samples_valid(void **state)
{
	static const char *const samples[] = {
		"simple/simple1.yaml",
		"simple/simple2-explicit-startup-order.yaml",
		"simple/simple3-explicit-startup-order.yaml",
		"user-guide/01_core-concepts/complete-inference-pipeline.yaml",
		"user-guide/01_core-concepts/multi-node-aggregated.yaml",
		"user-guide/01_core-concepts/multi-node-disaggregated.yaml",
		"user-guide/01_core-concepts/single-node-aggregated.yaml",
		"user-guide/01_core-concepts/single-node-disaggregated.yaml",
		"user-guide/02_pod-and-resource-naming-conventions/"
		"multinode-disaggregated-with-frontend.yaml",
		"user-guide/03_environment-variables-for-pod-discovery/"
		"pcsg-env-vars.yaml",
		"user-guide/03_environment-variables-for-pod-discovery/"
		"standalone-env-vars.yaml",
	};
	size_t i = 0;

	(void)state;
	for (i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		char rel[512];
		char *text = NULL;
		char *msg = NULL;

		snprintf(rel, sizeof(rel), "tests/fixtures/upstream-samples/%s",
			 samples[i]);
		text = tu_file(rel);
		msg = tu_review(text, NULL, NULL);
		if (msg)
			print_error("%s: %s\n", samples[i], msg);
		assert_null(msg);
		free(text);
	}
}

/* pol_validate_pcs of new against old (both YAML), as an UPDATE. */
static char *update_message(const char *old_text, const char *new_text)
{
	json_t *old = tu_doc(old_text);
	json_t *cur = tu_doc(new_text);
	pol_verdict v = POL_VERDICT_INIT;
	char *msg = NULL;

	assert_int_equal(pol_review_pcs(cur, old, &with_templates, &v, NULL),
			 GV_OK);
	msg = pol_verdict_message(&v);
	pol_verdict_release(&v);
	json_decref(cur);
	json_decref(old);
	return msg;
}

static void test_update_free_fields(void **state)
{
	fixture *f = *state;
	char *scaled =
	    replaced(f->reference, "maxReplicas: 4", "maxReplicas: 8");
	char *img = replaced(scaled, "nvcr.io/nvidia/vllm:latest",
			     "nvcr.io/nvidia/vllm:v0.9.1");
	char *msg = update_message(f->reference, img);

	assert_null(msg);
	free(img);
	free(scaled);
}

static void test_update_immutable(void **state)
{
	fixture *f = *state;
	char *renamed = replaced(f->reference, "name: router-clique",
				 "name: router2-clique");
	char *moved =
	    replaced(f->reference, "minReplicas: 1", "minReplicas: 2");
	char *msg = update_message(f->reference, renamed);

	assert_non_null(msg);
	/* renaming breaks the startsAfter reference too */
	assert_non_null(strstr(msg, "spec.podCliques: Forbidden: cliques "
				    "cannot be added, removed or renamed on "
				    "update (added \"router2-clique\"; removed "
				    "\"router-clique\")"));
	free(msg);
	msg = update_message(f->reference, moved);
	assert_non_null(msg);
	assert_non_null(strstr(msg, "spec.scaling.minReplicas: Invalid value: "
				    "2: field is immutable"));
	free(msg);
	free(moved);
	free(renamed);
}

static void test_update_order_under_explicit(void **state)
{
	const char *old = "metadata: {name: s}\n"
			  "spec:\n"
			  "  template:\n"
			  "    cliqueStartupType: CliqueStartupTypeInOrder\n"
			  "    cliques:\n"
			  "    - {name: a, spec: {podSpec: {containers: "
			  "[{name: c, image: i}]}}}\n"
			  "    - {name: b, spec: {podSpec: {containers: "
			  "[{name: c, image: i}]}}}\n";
	const char *swapped =
	    "metadata: {name: s}\n"
	    "spec:\n"
	    "  template:\n"
	    "    cliqueStartupType: CliqueStartupTypeInOrder\n"
	    "    cliques:\n"
	    "    - {name: b, spec: {podSpec: {containers: [{name: c, image: "
	    "i}]}}}\n"
	    "    - {name: a, spec: {podSpec: {containers: [{name: c, image: "
	    "i}]}}}\n";
	char *msg = update_message(old, swapped);

	(void)state;
	assert_non_null(msg);
	assert_string_equal(msg, "spec.template.cliques: Forbidden: the order "
				 "of cliques cannot change under InOrder "
				 "startup (b moved)");
	free(msg);
	msg = update_message(old, old);
	assert_null(msg);
}

/* n cliques c0..c{n-1}, each after the previous; closed into a cycle
 * when `cycle`. Returns JSON text; caller frees. */
static char *chain(size_t n, bool cycle)
{
	size_t cap = n * 160 + 256;
	char *s = malloc(cap);
	size_t used = 0;
	size_t i = 0;

	assert_non_null(s);
	used += (size_t)snprintf(s + used, cap - used,
				 "{\"metadata\":{\"name\":\"c\"},\"spec\":{"
				 "\"podCliques\":[");
	for (i = 0; i < n; i++) {
		used += (size_t)snprintf(
		    s + used, cap - used,
		    "%s{\"name\":\"c%zu\",\"containers\":[{\"name\":\"m\","
		    "\"image\":\"i\"}]",
		    i ? "," : "", i);
		if (i > 0 || cycle)
			used += (size_t)snprintf(s + used, cap - used,
						 ",\"startsAfter\":\"c%zu\"",
						 i ? i - 1 : n - 1);
		used += (size_t)snprintf(s + used, cap - used, "}");
	}
	snprintf(s + used, cap - used, "]}}");
	return s;
}

static void test_long_chain_and_cycle(void **state)
{
	/* deep enough that a recursive search would overflow the stack */
	char *ok = chain(100000, false);
	char *bad = chain(100000, true);
	json_t *doc = tu_doc(bad);
	pol_verdict v = POL_VERDICT_INIT;
	char *msg = tu_review(ok, NULL, NULL);

	(void)state;
	assert_null(msg);
	assert_int_equal(pol_validate_pcs(doc, NULL, NULL, &v), GV_OK);
	assert_int_equal(v.n_errors, 1);
	/* the smallest name is c0; it starts after c99999 */
	assert_string_equal(v.errors[0].field,
			    "spec.podCliques[0].startsAfter");
	assert_string_equal(json_string_value(v.errors[0].value), "c99999");
	pol_verdict_release(&v);
	json_decref(doc);
	free(bad);
	free(ok);
}

/* ---- V19: rollingUpdate and updateStrategy ---------------------------- */

/* A compact set: router (standalone, 2 pods), a group pd of prefill and
 * decode; each %s is a rollingUpdate line (or "") of router, the group
 * and decode. */
static char *compact_rolling(const char *router, const char *group,
			     const char *decode)
{
	static const char fmt[] = "apiVersion: grove.io/v1alpha1\n"
				  "kind: PodCliqueSet\n"
				  "metadata: {name: r, namespace: ns}\n"
				  "spec:\n"
				  "  scalingGroups:\n"
				  "  - name: pd\n"
				  "    cliques: [prefill, decode]\n"
				  "%s"
				  "  podCliques:\n"
				  "  - name: router\n"
				  "    replicas: 2\n"
				  "%s"
				  "    containers: [{name: c, image: i}]\n"
				  "  - name: prefill\n"
				  "    containers: [{name: c, image: i}]\n"
				  "  - name: decode\n"
				  "%s"
				  "    containers: [{name: c, image: i}]\n";
	int n = snprintf(NULL, 0, fmt, group, router, decode);
	char *out = NULL;

	assert_true(n > 0);
	out = malloc((size_t)n + 1);
	assert_non_null(out);
	snprintf(out, (size_t)n + 1, fmt, group, router, decode);
	return out;
}

/* Appends s to the NUL-terminated dst of size bytes. */
static void join_into(char *dst, size_t size, const char *s)
{
	size_t used = strlen(dst);

	assert_true(used + strlen(s) < size);
	memcpy(dst + used, s, strlen(s) + 1);
}

/* The denial of text with no lookups (NULL when allowed) and its
 * warnings joined by "\n" into *warned (NULL when none). */
static char *review_rolling(const char *text, char **warned)
{
	json_t *w = NULL;
	char *msg = tu_review(text, NULL, &w);
	size_t i = 0;
	size_t len = 0;

	*warned = NULL;
	for (i = 0; i < json_array_size(w); i++)
		len += strlen(json_string_value(json_array_get(w, i))) + 1;
	if (len) {
		*warned = calloc(1, len);
		assert_non_null(*warned);
		for (i = 0; i < json_array_size(w); i++) {
			if (i)
				join_into(*warned, len, "\n");
			join_into(*warned, len,
				  json_string_value(json_array_get(w, i)));
		}
	}
	json_decref(w);
	return msg;
}

/* Each mistake in a rollingUpdate gets its own error, at the path the
 * user wrote, and a valid one passes without a warning. */
static void test_rolling_update_rules(void **state)
{
	static const struct {
		const char *router, *group, *decode;
		const char *want; /* the denial, or NULL: allowed */
	} rows[] = {
		{ "    rollingUpdate: {maxUnavailable: 0, maxSurge: 1, "
		  "progressDeadline: 10m}\n",
		  "    rollingUpdate: {maxUnavailable: 2, progressDeadline: "
		  "1h30m}\n",
		  "", NULL },
		{ "    rollingUpdate: {}\n", "    rollingUpdate: {}\n", "",
		  NULL },
		{ "    rollingUpdate: {maxUnavailable: \"25%\"}\n", "", "",
		  "spec.podCliques[0].rollingUpdate.maxUnavailable: Invalid "
		  "value: \"25%\": must be an integer: percentages are not "
		  "supported" },
		{ "    rollingUpdate: {maxSurge: 1.5}\n", "", "",
		  "spec.podCliques[0].rollingUpdate.maxSurge: Invalid value: "
		  "1.5: must be an integer" },
		{ "    rollingUpdate: {maxSurge: -2}\n", "", "",
		  "spec.podCliques[0].rollingUpdate.maxSurge: Invalid value: "
		  "-2: must not be negative" },
		{ "    rollingUpdate: {maxUnavailable: 0}\n", "", "",
		  "spec.podCliques[0].rollingUpdate.maxUnavailable: Invalid "
		  "value: 0: must be greater than 0 when maxSurge is 0: "
		  "nothing could be replaced" },
		{ "", "    rollingUpdate: {maxUnavailable: 0, maxSurge: 1}\n",
		  "",
		  "[spec.scalingGroups[0].rollingUpdate.maxUnavailable: "
		  "Invalid value: 0: must be greater than 0 when maxSurge is "
		  "0: nothing could be replaced, "
		  "spec.scalingGroups[0].rollingUpdate.maxSurge: Forbidden: "
		  "maxSurge is supported on standalone cliques; a scaling "
		  "group rolls unit by unit within its minAvailable]" },
		{ "", "", "    rollingUpdate: {maxSurge: 1}\n",
		  "spec.podCliques[2].rollingUpdate.maxSurge: Forbidden: "
		  "maxSurge is supported on standalone cliques; a scaling "
		  "group rolls unit by unit within its minAvailable" },
		{ "    rollingUpdate: {maxsurge: 1}\n", "", "",
		  "spec.podCliques[0].rollingUpdate.maxsurge: Forbidden: "
		  "unknown field; did you mean \"maxSurge\"? (known: "
		  "\"maxUnavailable\", \"maxSurge\", \"progressDeadline\")" },
		{ "    rollingUpdate: {partition: 1}\n", "", "",
		  "spec.podCliques[0].rollingUpdate.partition: Forbidden: "
		  "unknown field (known: \"maxUnavailable\", \"maxSurge\", "
		  "\"progressDeadline\")" },
		{ "    rollingUpdate: {progressDeadline: 600}\n", "", "",
		  "spec.podCliques[0].rollingUpdate.progressDeadline: Invalid "
		  "value: 600: must be a duration such as \"10m\" or \"1h\"" },
		{ "    rollingUpdate: {progressDeadline: -5m}\n", "", "",
		  "spec.podCliques[0].rollingUpdate.progressDeadline: Invalid "
		  "value: \"-5m\": must be greater than 0" },
		{ "    rollingUpdate: {progressDeadline: 0}\n", "", "",
		  "spec.podCliques[0].rollingUpdate.progressDeadline: Invalid "
		  "value: 0: must be a duration such as \"10m\" or \"1h\"" },
		{ "    rollingUpdate: [1]\n", "", "",
		  "spec.podCliques[0].rollingUpdate: Invalid value: [1]: must "
		  "be an object" },
		/* null is unwritten, as Kubernetes reads it */
		{ "    rollingUpdate: {maxUnavailable: null}\n", "", "", NULL },
	};
	size_t i = 0;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char *text = compact_rolling(rows[i].router, rows[i].group,
					     rows[i].decode);
		char *warned = NULL;
		char *msg = review_rolling(text, &warned);

		if (!rows[i].want && msg)
			print_error("row %zu: denied: %s\n", i, msg);
		if (rows[i].want && (!msg || strcmp(msg, rows[i].want) != 0))
			print_error("row %zu: got %s\n", i,
				    msg ? msg : "(allowed)");
		if (rows[i].want) {
			assert_non_null(msg);
			assert_string_equal(msg, rows[i].want);
		} else {
			assert_null(msg);
		}
		/* only a grouped clique's rollingUpdate warns */
		if (rows[i].decode[0])
			assert_non_null(warned);
		else
			assert_null(warned);
		free(warned);
		free(msg);
		free(text);
	}
}

/* A grouped clique's rollingUpdate is checked, then ignored with a
 * warning naming its group's; the template form reads it beside spec,
 * else in spec, and warns when both are written. */
static void test_rolling_update_warnings(void **state)
{
	char *text = compact_rolling("", "",
				     "    rollingUpdate: "
				     "{maxUnavailable: 3}\n");
	char *warned = NULL;
	char *msg = review_rolling(text, &warned);
	const char *tpl =
	    "apiVersion: grove.io/v1alpha1\n"
	    "kind: PodCliqueSet\n"
	    "metadata: {name: t, namespace: ns}\n"
	    "spec:\n"
	    "  template:\n"
	    "    cliques:\n"
	    "    - name: a\n"
	    "      rollingUpdate: {maxSurge: 1}\n"
	    "      spec:\n"
	    "        rollingUpdate: {maxSurge: 2}\n"
	    "        replicas: 2\n"
	    "        podSpec: {containers: [{name: c, image: i}]}\n"
	    "    - name: b\n"
	    "      spec:\n"
	    "        rollingUpdate: {maxUnavailable: 1}\n"
	    "        podSpec: {containers: [{name: c, image: i}]}\n"
	    "    podCliqueScalingGroups:\n"
	    "    - {name: g, cliqueNames: [b]}\n";

	(void)state;
	assert_null(msg);
	assert_non_null(warned);
	assert_string_equal(warned,
			    "spec.podCliques[2].rollingUpdate: ignored: the "
			    "clique is in scaling group \"pd\" and rolls with "
			    "it, under spec.scalingGroups[0].rollingUpdate");
	free(warned);
	free(text);
	msg = review_rolling(tpl, &warned);
	assert_null(msg);
	assert_non_null(warned);
	assert_string_equal(
	    warned, "spec.template.cliques[0].spec.rollingUpdate: ignored: "
		    "spec.template.cliques[0].rollingUpdate, beside spec, "
		    "applies\n"
		    "spec.template.cliques[1].spec.rollingUpdate: ignored: the "
		    "clique is in scaling group \"g\" and rolls with it, under "
		    "spec.template.podCliqueScalingGroups[0].rollingUpdate");
	free(warned);
}

/* The model: what the worker reads. Defaults where nothing is written,
 * the written values where they are valid, the defaults again where V19
 * refuses them (never a rollout that cannot move); maxSurge only on a
 * standalone clique; the template form's place beside spec first. */
static void test_rolling_update_model(void **state)
{
	static const char tpl[] =
	    "apiVersion: grove.io/v1alpha1\n"
	    "kind: PodCliqueSet\n"
	    "metadata: {name: t}\n"
	    "spec:\n"
	    "  updateStrategy: {type: OnDelete}\n"
	    "  template:\n"
	    "    cliques:\n"
	    "    - name: a\n"
	    "      rollingUpdate: {maxUnavailable: 0, maxSurge: 2,\n"
	    "                      progressDeadline: 1m30s}\n"
	    "      spec:\n"
	    "        rollingUpdate: {maxUnavailable: 5}\n"
	    "        podSpec: {containers: [{name: c, image: i}]}\n"
	    "    - name: b\n"
	    "      spec:\n"
	    "        rollingUpdate: {maxUnavailable: 3, maxSurge: 1}\n"
	    "        podSpec: {containers: [{name: c, image: i}]}\n"
	    "    - name: c\n"
	    "      spec:\n"
	    "        rollingUpdate: {maxUnavailable: \"50%\", "
	    "progressDeadline: soon}\n"
	    "        podSpec: {containers: [{name: c, image: i}]}\n"
	    "    - name: d\n"
	    "      spec:\n"
	    "        podSpec: {containers: [{name: c, image: i}]}\n"
	    "    podCliqueScalingGroups:\n"
	    "    - name: g\n"
	    "      cliqueNames: [b]\n"
	    "      rollingUpdate: {maxUnavailable: 0, maxSurge: 4,\n"
	    "                      progressDeadline: 2h}\n"
	    "    - {name: h, cliqueNames: [d]}\n";
	json_t *doc = tu_doc(tpl);
	char *compact = compact_rolling(
	    "    rollingUpdate: {maxUnavailable: 0, maxSurge: 0}\n",
	    "    rollingUpdate: {maxUnavailable: 2}\n", "");
	json_t *cdoc = tu_doc(compact);
	pol_verdict v = POL_VERDICT_INIT;
	pol_pcs pcs;
	const pol_rolling *r = NULL;

	(void)state;
	assert_int_equal(pol_pcs_build(doc, &pcs, &v), GV_OK);
	assert_int_equal(v.n_errors, 0);
	assert_true(pcs.on_delete);
	r = &pcs.cliques[0].rolling; /* beside spec wins */
	assert_true(r->set);
	assert_int_equal(r->max_unavailable, 0);
	assert_int_equal(r->max_surge, 2);
	assert_string_equal(r->progress_deadline, "1m30s");
	assert_true(r->progress_deadline_s == 90.0);
	r = &pcs.cliques[1].rolling; /* grouped: no surge */
	assert_true(r->set);
	assert_int_equal(r->max_unavailable, 3);
	assert_int_equal(r->max_surge, 0);
	r = &pcs.cliques[2].rolling; /* refused values: the defaults */
	assert_true(r->set);
	assert_int_equal(r->max_unavailable, 1);
	assert_string_equal(r->progress_deadline, "soon");
	assert_true(r->progress_deadline_s == 0);
	r = &pcs.cliques[3].rolling; /* nothing written */
	assert_false(r->set);
	assert_int_equal(r->max_unavailable, 1);
	assert_int_equal(r->max_surge, 0);
	assert_null(r->progress_deadline);
	assert_true(r->progress_deadline_s == 0);
	r = &pcs.groups[0].rolling; /* a group never surges, so 0 reads 1 */
	assert_true(r->set);
	assert_int_equal(r->max_unavailable, 1);
	assert_int_equal(r->max_surge, 0);
	assert_true(r->progress_deadline_s == 7200.0);
	r = &pcs.groups[1].rolling;
	assert_false(r->set);
	assert_int_equal(r->max_unavailable, 1);
	pol_pcs_release(&pcs);
	pol_verdict_release(&v);

	pol_verdict_init(&v);
	assert_int_equal(pol_pcs_build(cdoc, &pcs, &v), GV_OK);
	assert_int_equal(v.n_errors, 0);
	assert_false(pcs.on_delete); /* the compact form always rolls */
	assert_int_equal(pcs.cliques[0].rolling.max_unavailable, 1);
	assert_int_equal(pcs.cliques[0].rolling.max_surge, 0);
	assert_int_equal(pcs.groups[0].rolling.max_unavailable, 2);
	assert_false(pcs.cliques[1].rolling.set);
	pol_pcs_release(&pcs);
	pol_verdict_release(&v);
	json_decref(cdoc);
	free(compact);
	json_decref(doc);
}

/* rollingUpdate and updateStrategy are free to change on UPDATE. */
static void test_rolling_update_free_on_update(void **state)
{
	char *before = compact_rolling("", "", "");
	char *after = compact_rolling(
	    "    rollingUpdate: {maxSurge: 1, maxUnavailable: 0}\n",
	    "    rollingUpdate: {maxUnavailable: 2}\n", "");
	char *msg = update_message(before, after);

	(void)state;
	assert_null(msg);
	msg = update_message(after, before);
	assert_null(msg);
	free(after);
	free(before);
}

/* ---- property: no error on a field only the defaults wrote ----------- */

static void test_defaults_never_blamed(void **state)
{
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	size_t round = 0;
	size_t denials = 0;

	(void)state;
	for (round = 0; round < 3000; round++) {
		json_t *obj = tg_random_pcs(&seed);
		json_t *patch = NULL;
		json_t *defaulted = NULL;
		json_t *again = NULL;
		pol_verdict v = POL_VERDICT_INIT;
		size_t i = 0;
		size_t k = 0;

		assert_int_equal(pol_defaults_pcs(obj, &patch, NULL), GV_OK);
		assert_int_equal(pol_patch_apply(obj, patch, &defaulted, NULL),
				 GV_OK);
		assert_int_equal(pol_defaults_pcs(defaulted, &again, NULL),
				 GV_OK);
		assert_int_equal(json_array_size(again), 0);
		assert_int_equal(pol_validate_pcs(defaulted, NULL, NULL, &v),
				 GV_OK);
		denials += v.n_errors > 0;
		for (i = 0; i < v.n_errors; i++) {
			for (k = 0; k < json_array_size(patch); k++) {
				char field[512];
				const char *ptr =
				    json_string_value(json_object_get(
					json_array_get(patch, k), "path"));

				pol_field_from_pointer(ptr, field,
						       sizeof(field));
				if (strncmp(v.errors[i].field, field,
					    strlen(field)) == 0) {
					char *dump =
					    json_dumps(obj, JSON_COMPACT);
					char *e = pol_ferr_string(&v.errors[i]);

					print_error("round %zu: %s\nblames %s, "
						    "written by the defaults\n",
						    round, dump, e);
					free(dump);
					free(e);
					fail();
				}
			}
		}
		pol_verdict_release(&v);
		json_decref(again);
		json_decref(defaulted);
		json_decref(patch);
		json_decref(obj);
	}
	/* the generator must exercise both outcomes to mean anything */
	assert_true(denials > 300);
	assert_true(denials < 2900);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reference_valid, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_reference_offline_warns,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_reference_decode_after_itself, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reference_three_cycle,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_reference_short_ratio,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_reference_missing_template,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_controller_owned_missing_template, setup, teardown),
		cmocka_unit_test(test_topology_one_binding),
		cmocka_unit_test(test_upstream_samples_valid),
		cmocka_unit_test_setup_teardown(test_update_free_fields, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_update_immutable, setup,
						teardown),
		cmocka_unit_test(test_update_order_under_explicit),
		cmocka_unit_test(test_long_chain_and_cycle),
		cmocka_unit_test(test_defaults_never_blamed),
		cmocka_unit_test(test_rolling_update_rules),
		cmocka_unit_test(test_rolling_update_warnings),
		cmocka_unit_test(test_rolling_update_model),
		cmocka_unit_test(test_rolling_update_free_on_update),
	};

	return cmocka_run_group_tests_name("validate", tests, NULL, NULL);
}
