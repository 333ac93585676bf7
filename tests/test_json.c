/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_json.c: gv_json_parse, the fast parser of request bodies: the
 * values it builds are jansson's, and every malformed input is refused
 * with the byte, line and column where it went wrong.
 */
#include "groved/gv_json.h"
#include "test_util.h"

static json_t *parse_ok(const char *text)
{
	json_t *v = NULL;
	gv_error_t err = GV_ERROR_INIT;
	int rc = gv_json_parse(text, strlen(text), "t", 64, 0, &v, &err);

	if (rc != GV_OK)
		print_error("%s: %s\n", text, err.text);
	assert_int_equal(rc, GV_OK);
	return v;
}

static void check_same_as_jansson(const char *text)
{
	json_error_t jerr;
	json_t *want =
	    json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
	json_t *got = parse_ok(text);

	assert_non_null(want);
	assert_true(json_equal(want, got));
	json_decref(want);
	json_decref(got);
}

static void check_error(const char *text, size_t len, int rc, int line, int col,
			const char *what)
{
	json_t *v = NULL;
	gv_error_t err = GV_ERROR_INIT;

	assert_int_equal(gv_json_parse(text, len, "body", 64, 0, &v, &err), rc);
	assert_null(v);
	assert_string_equal(err.source, "body");
	assert_int_equal(err.line, line);
	assert_int_equal(err.column, col);
	if (!strstr(err.text, what))
		print_error("message: %s\n", err.text);
	assert_non_null(strstr(err.text, what));
}

static void test_values(void **state)
{
	(void)state;
	check_same_as_jansson("{\"a\":1,\"b\":[true,false,null],\"c\":\"x\"}");
	check_same_as_jansson(
	    "[0,-0,12,-7,1.5,2e3,-1.25E-2,9223372036854775807,"
	    "-9223372036854775808]");
	check_same_as_jansson(
	    "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\"");
	check_same_as_jansson("\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
	check_same_as_jansson(" \t\r\n{ \"k\" : { } , \"l\" : [ ] } \n");
	check_same_as_jansson("{\"\\u006b\":1}"); /* an escaped key */
	check_same_as_jansson("{\"a\":1,\"a\":2}"); /* the last wins */
	check_same_as_jansson("[[[[[[[[[[]]]]]]]]]]");
}

static void test_large_body(void **state)
{
	char *text = tu_file("tests/fixtures/reviews/template-create.json");

	(void)state;
	check_same_as_jansson(text);
	free(text);
}

static void test_errors(void **state)
{
	(void)state;
	check_error("", 0, GV_EPARSE, 1, 1, "unexpected end of input");
	check_error("{\"a\":1,}", 8, GV_EPARSE, 1, 8, "expected a string key");
	check_error("{\"a\" 1}", 7, GV_EPARSE, 1, 6, "expected ':'");
	check_error("[1 2]", 5, GV_EPARSE, 1, 4, "expected ',' or ']'");
	check_error("{\n  \"a\": tru}", 13, GV_EPARSE, 2, 8, "invalid literal");
	check_error("\"abc", 4, GV_EPARSE, 1, 1, "unterminated string");
	check_error("\"ab\\", 4, GV_EPARSE, 1, 1, "unterminated string");
	check_error("\"a\x01\"", 4, GV_EPARSE, 1, 3, "control character");
	check_error("\"a\\x\"", 5, GV_EPARSE, 1, 3, "invalid escape");
	check_error("\"\\ud83d\"", 8, GV_EPARSE, 1, 8, "unpaired surrogate");
	check_error("\"\\ude00\"", 8, GV_EPARSE, 1, 2, "unpaired surrogate");
	check_error("\"\xff\"", 3, GV_EPARSE, 1, 2, "invalid UTF-8");
	check_error("\"\xc0\xaf\"", 4, GV_EPARSE, 1, 2, "invalid UTF-8");
	check_error("\"\xed\xa0\x80\"", 5, GV_EPARSE, 1, 2, "invalid UTF-8");
	check_error("01", 2, GV_EPARSE, 1, 2, "unexpected text after");
	check_error("1.", 2, GV_EPARSE, 1, 3, "digits must follow '.'");
	check_error("1e+", 3, GV_EPARSE, 1, 4, "exponent");
	check_error("-", 1, GV_EPARSE, 1, 1, "invalid number");
	check_error("99999999999999999999", 20, GV_EPARSE, 1, 1,
		    "too big for 64 bits");
	check_error("1e999", 5, GV_EPARSE, 1, 1, "overflow");
	check_error("{} x", 4, GV_EPARSE, 1, 4, "unexpected text after");
	check_error("3\0", 2, GV_EPARSE, 1, 2, "unexpected text after");
	check_error("\"a\\u0000b\"", 10, GV_EPARSE, 1, 3,
		    "\\u0000 is not allowed");
	check_error("hello", 5, GV_EPARSE, 1, 1,
		    "unexpected character 'h' where a value was expected");
	check_error("[\x01]", 3, GV_EPARSE, 1, 2, "unexpected byte 0x01");
}

static void test_duplicates(void **state)
{
	const char *text = "{\"a\":1,\n \"a\":2}";
	json_t *v = NULL;
	gv_error_t err = GV_ERROR_INIT;

	(void)state;
	/* by default the last wins, as in Go and jansson */
	assert_int_equal(
	    gv_json_parse(text, strlen(text), "t", 64, 0, &v, &err), GV_OK);
	assert_int_equal(json_integer_value(json_object_get(v, "a")), 2);
	json_decref(v);
	v = NULL;
	assert_int_equal(gv_json_parse(text, strlen(text), "t", 64,
				       GV_JSON_REJECT_DUPLICATES, &v, &err),
			 GV_EPARSE);
	assert_null(v);
	assert_non_null(strstr(err.text, "duplicate key \"a\""));
	assert_int_equal(err.line, 2);
	assert_int_equal(err.column, 2);
}

static void test_depth_limit(void **state)
{
	char deep[200];
	json_t *v = NULL;
	gv_error_t err = GV_ERROR_INIT;

	(void)state;
	memset(deep, '[', 65);
	memset(deep + 65, ']', 65);
	/* 64 levels pass, 65 do not */
	assert_int_equal(gv_json_parse(deep + 1, 128, "t", 64, 0, &v, &err),
			 GV_OK);
	json_decref(v);
	v = NULL;
	assert_int_equal(gv_json_parse(deep, 130, "t", 64, 0, &v, &err),
			 GV_ETOODEEP);
	assert_null(v);
	assert_int_equal(err.column, 65);
}

/* The builders' steps: set while all is well, the first failure sticks
 * (a NULL value: an allocation that failed), and every value is taken. */
static void test_put_push(void **state)
{
	json_t *o = json_object();
	json_t *a = json_array();
	int rc = GV_OK;

	(void)state;
	gv_json_put(o, "a", json_integer(1), &rc);
	gv_json_push(a, json_string("x"), &rc);
	assert_int_equal(rc, GV_OK);
	assert_int_equal(json_integer_value(json_object_get(o, "a")), 1);
	assert_int_equal(json_array_size(a), 1);
	gv_json_put(o, "b", NULL, &rc);
	assert_int_equal(rc, GV_ENOMEM);
	/* after a failure nothing more is set, and the value is freed
	 * (ASan's leak check) */
	gv_json_put(o, "c", json_integer(3), &rc);
	gv_json_push(a, json_string("y"), &rc);
	assert_null(json_object_get(o, "c"));
	assert_int_equal(json_array_size(a), 1);
	rc = GV_OK;
	gv_json_push(NULL, json_string("z"), &rc);
	assert_int_equal(rc, GV_ENOMEM);
	json_decref(o);
	json_decref(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_large_body),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_put_push),
	};

	return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
