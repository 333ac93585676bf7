/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_verdict.c: field errors print exactly as Kubernetes prints them,
 * the denial message and causes match what kube-apiserver and kubectl
 * showed in the captured responses, errors sort in document order, and
 * out of memory means only that (not an absent value, not the size
 * limit).
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

/* An absent value (a field the object does not have) is a value to
 * print, not a failed allocation: the error is kept, v->oom stays false.
 * (U2 once reported a removed scaling group ratio this way and answered
 * HTTP 500 "out of memory".) */
static void test_absent_value_is_not_oom(void **state)
{
	pol_verdict *v = *state;

	pol_verdict_add(v, POL_FE_INVALID, "a", NULL, "field is immutable");
	pol_verdict_add(v, POL_FE_NOT_FOUND, "b",
			pol_verdict_copy(v, json_object_get(NULL, "x")), NULL);
	pol_verdict_add(v, POL_FE_DUPLICATE, "c", pol_verdict_str(v, NULL),
			NULL);
	pol_verdict_add(v, POL_FE_REQUIRED, "d", NULL, "keep %s", "[1,2]");
	assert_false(v->oom);
	assert_int_equal(v->n_errors, 4);
	assert_null(v->errors[0].value);
	check_message(v, 0, "a: Invalid value: null: field is immutable");
	check_message(v, 1, "b: Not found: null");
	check_message(v, 2, "c: Duplicate value: null");
	check_message(v, 3, "d: Required value: keep [1,2]");
	/* and adds go on */
	pol_verdict_add(v, POL_FE_INVALID, "e", pol_verdict_int(v, 3), NULL);
	assert_int_equal(v->n_errors, 5);
	assert_false(v->oom);
}

/* Fails every jansson allocation while on (json_set_alloc_funcs, the
 * allocator indirection test_alloc.c uses too). */
static bool fail_json_alloc;

static void *json_alloc(size_t size)
{
	return fail_json_alloc ? NULL : malloc(size);
}

/* A failed allocation is out of memory, marked where it failed: by the
 * value builders, after which every add is a no-op. */
static void test_allocation_failure_is_oom(void **state)
{
	pol_verdict *v = *state;
	json_t *big = json_pack("{s:[i,i,i]}", "k", 1, 2, 3);
	const struct {
		const char *what;
		int which;
	} builders[] = { { "copy", 0 }, { "str", 1 }, { "int", 2 } };
	size_t i = 0;

	assert_non_null(big);
	json_set_alloc_funcs(json_alloc, free);
	for (i = 0; i < sizeof(builders) / sizeof(builders[0]); i++) {
		pol_verdict w = POL_VERDICT_INIT;
		json_t *val = NULL;

		pol_verdict_add(&w, POL_FE_REQUIRED, "before", NULL, NULL);
		fail_json_alloc = true;
		if (builders[i].which == 0)
			val = pol_verdict_copy(&w, big);
		else if (builders[i].which == 1)
			val = pol_verdict_str(&w, "x");
		else
			val = pol_verdict_int(&w, 7);
		fail_json_alloc = false;
		if (!w.oom)
			print_error("pol_verdict_%s: no oom\n",
				    builders[i].what);
		assert_null(val);
		assert_true(w.oom);
		/* sticky: later adds are dropped, the value freed */
		pol_verdict_add(&w, POL_FE_INVALID, "a", val, "x");
		pol_verdict_add(&w, POL_FE_INVALID, "b", json_integer(1), NULL);
		pol_verdict_warn(&w, "w");
		assert_int_equal(w.n_errors, 1);
		assert_int_equal(w.n_warnings, 0);
		pol_verdict_release(&w);
	}
	json_set_alloc_funcs(malloc, free);
	json_decref(big);
	assert_false(v->oom);
}

/* Invalid UTF-8 is repaired (U+FFFD), not taken for a failed
 * allocation as json_string() would make it. */
static void test_str_repairs_utf8(void **state)
{
	pol_verdict *v = *state;

	pol_verdict_add(v, POL_FE_INVALID, "a",
			pol_verdict_str(v, "b\xff"
					   "c\xc3"),
			NULL);
	assert_false(v->oom);
	check_message(v, 0,
		      "a: Invalid value: \"b\xef\xbf\xbd"
		      "c\xef\xbf\xbd\"");
	assert_int_equal(gv_utf8_cut("a\xc3\xa9", 3), 3);
	assert_int_equal(gv_utf8_cut("a\xc3\xa9", 2), 1);
	assert_int_equal(gv_utf8_cut("a\xf0\x9f\x98\x80", 4), 1);
	assert_int_equal(gv_utf8_cut("a\xf0\x9f\x98\x80", 5), 5);
	assert_int_equal(gv_utf8_cut("ab", 2), 2);
	assert_int_equal(gv_utf8_cut("", 0), 0);
}

/* Whether s is valid UTF-8. */
static bool valid_utf8(const char *s)
{
	size_t n = strlen(s);
	size_t i = 0;

	while (i < n) {
		size_t l = gv_utf8_len((const unsigned char *)s + i, n - i);

		if (!l)
			return false;
		i += l;
	}
	return true;
}

/*
 * The size limit is not out of memory: past POL_VERDICT_BYTES_MAX the
 * errors are counted in a closing "Too many" error, the message fits
 * the limit, and sorting keeps that error last.
 */
static void test_size_limit_is_not_oom(void **state)
{
	pol_verdict *v = *state;
	char *detail = malloc(2048);
	json_t *doc = tu_doc("{\"spec\":{\"a\":1}}");
	json_t *causes = NULL;
	char *msg = NULL;
	size_t n = 4000;
	size_t i = 0;
	const pol_ferr *last = NULL;
	char want[128];

	assert_non_null(detail);
	memset(detail, 'd', 2047);
	detail[2047] = '\0';
	for (i = 0; i < n; i++)
		pol_verdict_add(v, POL_FE_INVALID, "spec.a",
				pol_verdict_int(v, (int64_t)i), "%s", detail);
	assert_false(v->oom);
	assert_true(v->n_errors > 100);
	assert_true(v->n_errors < n);
	assert_int_equal(v->n_omitted, n - (v->n_errors - 1));
	last = &v->errors[v->n_errors - 1];
	assert_int_equal(last->type, POL_FE_TOO_MANY);
	assert_string_equal(last->field, POL_VERDICT_MORE_FIELD);
	assert_int_equal(json_integer_value(last->value), v->n_omitted);
	/* later errors, however small, are counted too */
	pol_verdict_add(v, POL_FE_REQUIRED, "metadata.name", NULL, NULL);
	assert_int_equal(v->n_omitted, n - (v->n_errors - 1) + 1);
	pol_verdict_sort(v, doc);
	assert_false(v->oom);
	assert_int_equal(v->errors[v->n_errors - 1].type, POL_FE_TOO_MANY);
	msg = pol_verdict_message(v);
	assert_non_null(msg);
	assert_true(strlen(msg) <= POL_VERDICT_BYTES_MAX);
	snprintf(want, sizeof(want),
		 "<object>: Too many: %zu: errors left out: one "
		 "answer holds at most 1 MiB of errors",
		 v->n_omitted);
	assert_non_null(strstr(msg, want));
	assert_int_equal(msg[strlen(msg) - 1], ']');
	causes = pol_verdict_causes(v);
	assert_non_null(causes);
	assert_int_equal(json_array_size(causes), v->n_errors);
	assert_string_equal(
	    json_string_value(json_object_get(
		json_array_get(causes, v->n_errors - 1), "reason")),
	    "FieldValueTooMany");
	json_decref(causes);
	free(msg);
	free(detail);
	json_decref(doc);
}

/* One huge value or detail is cut to fit (at a character boundary),
 * never dropped, never out of memory. */
static void test_huge_parts_are_cut(void **state)
{
	pol_verdict *v = *state;
	size_t big = (size_t)2 << 20;
	char *s = malloc(big + 1);
	char *msg = NULL;
	size_t i = 0;

	assert_non_null(s);
	/* "é" (2 bytes) repeated, so that a cut can fall inside one */
	for (i = 0; i + 1 < big; i += 2)
		memcpy(s + i, "\xc3\xa9", 2);
	s[big - 1] = 'x';
	s[big] = '\0';
	pol_verdict_add(v, POL_FE_INVALID, "metadata.name",
			pol_verdict_str(v, s),
			"must be no more than 63 "
			"characters");
	pol_verdict_add(v, POL_FE_FORBIDDEN, "spec", NULL, "x%s", s);
	assert_false(v->oom);
	assert_int_equal(v->n_errors, 2);
	assert_int_equal(v->n_omitted, 0);
	assert_true(strlen(v->errors[1].detail) <= POL_VERDICT_TEXT_MAX);
	assert_true(valid_utf8(v->errors[1].detail));
	msg = pol_verdict_message(v);
	assert_non_null(msg);
	assert_true(valid_utf8(msg));
	assert_true(strlen(msg) <
		    POL_VERDICT_VALUE_MAX + POL_VERDICT_TEXT_MAX + 256);
	assert_non_null(strstr(msg, "...: must be no more than 63 characters"));
	free(msg);
	free(s);
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
		cmocka_unit_test_setup_teardown(test_absent_value_is_not_oom,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_allocation_failure_is_oom,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_str_repairs_utf8, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_size_limit_is_not_oom,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_huge_parts_are_cut, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_no_errors_no_message,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_sort_follows_document,
						setup, teardown),
	};

	return cmocka_run_group_tests_name("verdict", tests, NULL, NULL);
}
