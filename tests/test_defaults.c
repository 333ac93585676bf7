/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_defaults.c: the defaults of docs/api.md section 3, as the exact JSON
 * Patch, and their properties: idempotent, only absent fields, only
 * inside existing objects, nothing derived from an invalid value.
 */
#include "test_util.h"

/* Defaults of text, compared with the JSON patch want. */
static void check_patch(const char *text, const char *want)
{
	json_t *doc = tu_doc(text);
	json_t *expect = tu_doc(want);
	json_t *patch = NULL;
	json_t *patched = NULL;
	json_t *again = NULL;
	char *dump = NULL;

	assert_int_equal(pol_defaults_pcs(doc, &patch, NULL), GV_OK);
	if (!json_equal(patch, expect)) {
		dump = json_dumps(patch, JSON_COMPACT);
		print_error("patch: %s\n", dump);
		free(dump);
		fail();
	}
	/* idempotent: applied, a second pass patches nothing */
	assert_int_equal(pol_patch_apply(doc, patch, &patched, NULL), GV_OK);
	assert_int_equal(pol_defaults_pcs(patched, &again, NULL), GV_OK);
	assert_int_equal(json_array_size(again), 0);
	json_decref(again);
	json_decref(patched);
	json_decref(patch);
	json_decref(expect);
	json_decref(doc);
}

static void test_compact_reference(void **state)
{
	char *text = tu_file("examples/vllm-disaggregated.yaml");

	(void)state;
	check_patch(text,
		    "[{\"op\":\"add\",\"path\":\"/spec/replicas\",\"value\":1},"
		    "{\"op\":\"add\",\"path\":\"/spec/podCliques/0/"
		    "minAvailable\",\"value\":1},"
		    "{\"op\":\"add\",\"path\":\"/spec/podCliques/1/"
		    "minAvailable\",\"value\":1},"
		    "{\"op\":\"add\",\"path\":\"/spec/podCliques/2/"
		    "minAvailable\",\"value\":2}]");
	free(text);
}

static void test_compact_ratio_and_scaling(void **state)
{
	(void)state;
	/* grouped cliques take their ratio entry; spec.replicas takes
	 * scaling.minReplicas */
	check_patch(
	    "spec:\n"
	    "  scaling: {minReplicas: 2, maxReplicas: 4}\n"
	    "  scalingGroups: [{name: g, cliques: [p, d], replicas: [1, 3]}]\n"
	    "  podCliques:\n"
	    "  - {name: r}\n"
	    "  - {name: p}\n"
	    "  - {name: d}\n",
	    "[{\"op\":\"add\",\"path\":\"/spec/replicas\",\"value\":2},"
	    "{\"op\":\"add\",\"path\":\"/spec/podCliques/0/"
	    "replicas\",\"value\":1},"
	    "{\"op\":\"add\",\"path\":\"/spec/podCliques/0/"
	    "minAvailable\",\"value\":1},"
	    "{\"op\":\"add\",\"path\":\"/spec/podCliques/1/"
	    "replicas\",\"value\":1},"
	    "{\"op\":\"add\",\"path\":\"/spec/podCliques/1/"
	    "minAvailable\",\"value\":1},"
	    "{\"op\":\"add\",\"path\":\"/spec/podCliques/2/"
	    "replicas\",\"value\":3},"
	    "{\"op\":\"add\",\"path\":\"/spec/podCliques/2/"
	    "minAvailable\",\"value\":3}]");
}

static void test_compact_invalid_sources(void **state)
{
	(void)state;
	/* explicit 0 stays; nothing derived from 0, a bad ratio entry or
	 * a scaling range that cannot hold spec.replicas */
	check_patch(
	    "spec:\n"
	    "  scaling: {minReplicas: 3, maxReplicas: 2}\n"
	    "  scalingGroups: [{name: g, cliques: [p], replicas: [0]}]\n"
	    "  podCliques:\n"
	    "  - {name: r, replicas: 0}\n"
	    "  - {name: p}\n"
	    "  - {name: q, replicas: two}\n",
	    "[]");
}

static void test_template_sample(void **state)
{
	(void)state;
	check_patch(
	    "spec:\n"
	    "  template:\n"
	    "    cliques:\n"
	    "    - name: pca\n"
	    "      spec:\n"
	    "        replicas: 3\n"
	    "        podSpec: {containers: [{name: c, image: i}]}\n"
	    "        autoScalingConfig: {maxReplicas: 5}\n"
	    "    - name: pcb\n"
	    "      spec: {roleName: b, minAvailable: 0, podSpec: "
	    "{restartPolicy: Never, terminationGracePeriodSeconds: 0}}\n"
	    "    podCliqueScalingGroups:\n"
	    "    - {name: sga, cliqueNames: [pcb], scaleConfig: {maxReplicas: "
	    "6}}\n"
	    "    headlessServiceConfig: {}\n",
	    "[{\"op\":\"add\",\"path\":\"/spec/replicas\",\"value\":1},"
	    "{\"op\":\"add\",\"path\":\"/spec/template/"
	    "cliqueStartupType\",\"value\":\"CliqueStartupTypeAnyOrder\"},"
	    "{\"op\":\"add\",\"path\":\"/spec/template/"
	    "terminationDelay\",\"value\":\"4h\"},"
	    "{\"op\":\"add\",\"path\":\"/spec/template/headlessServiceConfig/"
	    "publishNotReadyAddresses\",\"value\":true},"
	    "{\"op\":\"add\",\"path\":\"/spec/template/cliques/0/spec/"
	    "roleName\",\"value\":\"pca\"},"
	    "{\"op\":\"add\",\"path\":\"/spec/template/cliques/0/spec/"
	    "minAvailable\",\"value\":3},"
	    "{\"op\":\"add\",\"path\":\"/spec/template/cliques/0/spec/podSpec/"
	    "restartPolicy\",\"value\":\"Always\"},"
	    "{\"op\":\"add\",\"path\":\"/spec/template/cliques/0/spec/podSpec/"
	    "terminationGracePeriodSeconds\",\"value\":30},"
	    "{\"op\":\"add\",\"path\":\"/spec/template/cliques/0/spec/"
	    "autoScalingConfig/minReplicas\",\"value\":3},"
	    "{\"op\":\"add\",\"path\":\"/spec/template/cliques/1/spec/"
	    "replicas\",\"value\":1},"
	    "{\"op\":\"add\",\"path\":\"/spec/template/podCliqueScalingGroups/"
	    "0/replicas\",\"value\":1},"
	    "{\"op\":\"add\",\"path\":\"/spec/template/podCliqueScalingGroups/"
	    "0/minAvailable\",\"value\":1},"
	    "{\"op\":\"add\",\"path\":\"/spec/template/podCliqueScalingGroups/"
	    "0/scaleConfig/minReplicas\",\"value\":1}]");
}

static void test_template_headless_created(void **state)
{
	(void)state;
	/* upstream creates headlessServiceConfig; nothing else is invented
	 * (no podSpec, no autoScalingConfig) */
	check_patch("spec:\n"
		    "  replicas: 2\n"
		    "  template:\n"
		    "    cliqueStartupType: CliqueStartupTypeInOrder\n"
		    "    terminationDelay: 1m\n"
		    "    cliques: [{name: a, spec: {roleName: a, replicas: 1, "
		    "minAvailable: 1}}]\n",
		    "[{\"op\":\"add\",\"path\":\"/spec/template/"
		    "headlessServiceConfig\","
		    "\"value\":{\"publishNotReadyAddresses\":true}}]");
}

static void test_no_form_no_patch(void **state)
{
	(void)state;
	check_patch("spec: {}\n", "[]");
	check_patch("kind: PodCliqueSet\n", "[]");
	check_patch("spec: {podCliques: [], template: {}}\n", "[]");
}

static void test_escaped_keys_never_needed(void **state)
{
	(void)state;
	/* clique names never reach a patch path, only indices do */
	check_patch("spec: {podCliques: [{name: a/b~c, replicas: 1, "
		    "minAvailable: 1}], replicas: 1}\n",
		    "[]");
}

static void test_rolling_update_not_written(void **state)
{
	(void)state;
	/* rollingUpdate's defaults (maxUnavailable 1, maxSurge 0, no
	 * progressDeadline) live in the model, never in the patch: an empty
	 * rollingUpdate and a stored set stay as written */
	check_patch("spec:\n"
		    "  replicas: 1\n"
		    "  scalingGroups: [{name: g, cliques: [p], rollingUpdate: "
		    "{}}]\n"
		    "  podCliques:\n"
		    "  - {name: r, replicas: 1, minAvailable: 1, "
		    "rollingUpdate: {}}\n"
		    "  - {name: p, replicas: 1, minAvailable: 1, "
		    "rollingUpdate: {maxSurge: 1}}\n",
		    "[]");
	check_patch("spec:\n"
		    "  replicas: 1\n"
		    "  updateStrategy: {}\n"
		    "  template:\n"
		    "    cliqueStartupType: CliqueStartupTypeAnyOrder\n"
		    "    terminationDelay: 4h\n"
		    "    headlessServiceConfig: {publishNotReadyAddresses: "
		    "true}\n"
		    "    cliques:\n"
		    "    - name: a\n"
		    "      rollingUpdate: {}\n"
		    "      spec: {roleName: a, replicas: 1, minAvailable: 1, "
		    "rollingUpdate: {}}\n"
		    "    podCliqueScalingGroups:\n"
		    "    - {name: g, cliqueNames: [a], replicas: 1, "
		    "minAvailable: 1, rollingUpdate: {}}\n",
		    "[]");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compact_reference),
		cmocka_unit_test(test_compact_ratio_and_scaling),
		cmocka_unit_test(test_compact_invalid_sources),
		cmocka_unit_test(test_template_sample),
		cmocka_unit_test(test_template_headless_created),
		cmocka_unit_test(test_no_form_no_patch),
		cmocka_unit_test(test_escaped_keys_never_needed),
		cmocka_unit_test(test_rolling_update_not_written),
	};

	return cmocka_run_group_tests_name("defaults", tests, NULL, NULL);
}
