/*
 * test_verdict.c: field errors print exactly as Kubernetes prints them,
 * the denial message and causes match what kube-apiserver and kubectl
 * showed in the captured responses, and errors sort in document order.
 */
#include "test_util.h"

static int setup(void **state)
{
	pol_verdict *v = calloc(1, sizeof(*v));

	if (!v)
		return -1;
	pol_verdict_init(v);
	*state = v;
	return 0;
}

static int teardown(void **state)
{
	pol_verdict_release(*state);
	free(*state);
	return 0;
}

static void check_message(const pol_verdict *v, size_t i, const char *want)
{
	char *s = pol_ferr_string(&v->errors[i]);

	assert_non_null(s);
	assert_string_equal(s, want);
	free(s);
}

static void test_types_print_as_kubernetes(void **state)
{
	pol_verdict *v = *state;

	pol_verdict_add(v, POL_FE_INVALID, "a", json_string("x"), "bad");
	pol_verdict_add(v, POL_FE_REQUIRED, "b", NULL, NULL);
	pol_verdict_add(v, POL_FE_REQUIRED, "c", json_string("ignored"),
			"needs %d", 1);
	pol_verdict_add(v, POL_FE_DUPLICATE, "d", json_integer(3), NULL);
	pol_verdict_add(v, POL_FE_NOT_SUPPORTED, "e", json_string("z"),
			"supported values: \"a\"");
	pol_verdict_add(v, POL_FE_FORBIDDEN, "f", json_string("gone"), "no");
	pol_verdict_add(v, POL_FE_TOO_LONG, "g", NULL, "at most 63");
	pol_verdict_add(v, POL_FE_NOT_FOUND, "h", json_pack("[i,i]", 1, 2),
			NULL);
	pol_verdict_add(v, POL_FE_INVALID, "i", json_pack("{s:b}", "k", 1),
			NULL);
	pol_verdict_add(v, POL_FE_INVALID, "j", json_real(1.5), NULL);
	pol_verdict_add(v, POL_FE_INVALID, "k", json_null(), NULL);
	assert_false(v->oom);
	check_message(v, 0, "a: Invalid value: \"x\": bad");
	check_message(v, 1, "b: Required value");
	check_message(v, 2, "c: Required value: needs 1");
	check_message(v, 3, "d: Duplicate value: 3");
	check_message(v, 4,
		      "e: Unsupported value: \"z\": supported values: \"a\"");
	check_message(v, 5, "f: Forbidden: no");
	check_message(v, 6, "g: Too long: at most 63");
	check_message(v, 7, "h: Not found: [1,2]");
	check_message(v, 8, "i: Invalid value: {\"k\":true}");
	check_message(v, 9, "j: Invalid value: 1.5");
	check_message(v, 10, "k: Invalid value: null");
}

static void test_strings_quote_as_go(void **state)
{
	pol_verdict *v = *state;

	pol_verdict_add(v, POL_FE_INVALID, "a",
			json_string("q\"b\\s\nt\tc\x01\x7f\xc3\xa9"), NULL);
	check_message(
	    v, 0,
	    "a: Invalid value: \"q\\\"b\\\\s\\nt\\tc\\x01\\x7f\xc3\xa9\"");
}

/* The captured deny-one and deny-many responses, rebuilt. */
static void test_matches_captured_denials(void **state)
{
	pol_verdict *v = *state;
	char *captured =
	    tu_file("tests/fixtures/captured/responses/deny-many.json");
	json_t *resp = tu_doc(captured);
	json_t *status =
	    json_object_get(json_object_get(resp, "response"), "status");
	json_t *causes = NULL;
	char *msg = NULL;

	pol_verdict_add(v, POL_FE_INVALID, "spec.podCliques[2].startsAfter",
			json_string("prefill-clique"),
			"startsAfter cycle: decode-clique -> prefill-clique -> "
			"router-clique -> decode-clique");
	msg = pol_verdict_message(v);
	/* deny-one: a single error prints alone */
	assert_string_equal(msg,
			    "spec.podCliques[2].startsAfter: Invalid value: "
			    "\"prefill-clique\": startsAfter cycle: "
			    "decode-clique -> prefill-clique -> router-clique "
			    "-> decode-clique");
	free(msg);
	pol_verdict_add(v, POL_FE_INVALID, "spec.podCliques[0].startsAfter",
			json_string("decode-clique"),
			"startsAfter cycle: router-clique -> decode-clique -> "
			"prefill-clique -> router-clique");
	msg = pol_verdict_message(v);
	assert_string_equal(
	    msg, json_string_value(json_object_get(status, "message")));
	causes = pol_verdict_causes(v);
	assert_true(json_equal(
	    causes,
	    json_object_get(json_object_get(status, "details"), "causes")));
	json_decref(causes);
	free(msg);
	json_decref(resp);
	free(captured);
}

static void test_null_value_is_out_of_memory(void **state)
{
	pol_verdict *v = *state;

	/* json_string() and friends return NULL when they cannot allocate */
	pol_verdict_add(v, POL_FE_INVALID, "a", NULL, "x");
	assert_true(v->oom);
	assert_int_equal(v->n_errors, 0);
	/* sticky: later adds are dropped too */
	pol_verdict_add(v, POL_FE_REQUIRED, "b", NULL, NULL);
	assert_int_equal(v->n_errors, 0);
}

static void test_no_errors_no_message(void **state)
{
	pol_verdict *v = *state;

	assert_null(pol_verdict_message(v));
	pol_verdict_warn(v, "w %s", "one");
	assert_int_equal(v->n_warnings, 1);
	assert_string_equal(v->warnings[0], "w one");
}

static void test_sort_follows_document(void **state)
{
	pol_verdict *v = *state;
	json_t *doc = tu_doc("{\"metadata\":{\"name\":\"x\"},"
			     "\"spec\":{\"podCliques\":[{\"name\":\"a\","
			     "\"replicas\":1},{\"replicas\":0,\"name\":\"b\"}],"
			     "\"scaling\":{}}}");

	pol_verdict_add(v, POL_FE_FORBIDDEN, "spec.scaling.maxReplicas", NULL,
			"4");
	pol_verdict_add(v, POL_FE_FORBIDDEN, "spec.podCliques[1].name", NULL,
			"3");
	pol_verdict_add(v, POL_FE_FORBIDDEN, "spec.podCliques[1].replicas",
			NULL, "2");
	pol_verdict_add(v, POL_FE_FORBIDDEN, "spec.podCliques[0].minAvailable",
			NULL, "1");
	pol_verdict_add(v, POL_FE_FORBIDDEN, "metadata.name", NULL, "0");
	pol_verdict_add(v, POL_FE_FORBIDDEN, "spec.podCliques[1].replicas",
			NULL, "2b");
	assert_int_equal(v->n_errors, 6);
	pol_verdict_sort(v, doc);
	assert_string_equal(v->errors[0].detail, "0");
	/* minAvailable is absent: after podCliques[0]'s existing fields */
	assert_string_equal(v->errors[1].detail, "1");
	/* replicas comes before name in podCliques[1] as written */
	assert_string_equal(v->errors[2].detail, "2");
	assert_string_equal(v->errors[3].detail, "2b");
	assert_string_equal(v->errors[4].detail, "3");
	assert_string_equal(v->errors[5].detail, "4");
	json_decref(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_types_print_as_kubernetes,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_strings_quote_as_go, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_matches_captured_denials,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_null_value_is_out_of_memory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_errors_no_message,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_sort_follows_document,
						setup, teardown),
	};

	return cmocka_run_group_tests_name("verdict", tests, NULL, NULL);
}
