/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_patch.c: pol_patch_apply() and pol_pointer_append().
 *
 * Most tests are rows of patch_cases: a document, a patch and either the
 * exact result or the exact error text. The JSON in the rows is written
 * with ' for " so that it reads like JSON; fixture_load() swaps them back.
 * Every row also checks that the document was not modified and that *out
 * was left alone on failure.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "groved/gv_time.h"
#include "groved/policy.h"

struct patch_case {
	const char *doc;
	const char *patch;
	const char *expect; /* the result; NULL when the patch must fail */
	int rc; /* when it fails */
	const char *text; /* exact err.text when it fails */
};

struct fixture {
	const struct patch_case *tc; /* NULL for the tests outside the table */
	json_t *doc;
	json_t *before; /* a copy of doc, to show doc was not modified */
	json_t *patch;
	json_t *expect;
	json_t *out;
	json_t sentinel; /* out starts as &sentinel: "untouched" is visible */
	char *got_text;
	char *want_text;
	gv_error_t err;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->tc = *state;
	f->out = &f->sentinel;
	*state = f;
	return 0;
}

/* Frees what a test left behind, also when an assertion cut it short. */
static int teardown(void **state)
{
	struct fixture *f = *state;

	/* test_alloc_failures swaps jansson's allocator: always restore it. */
	json_set_alloc_funcs(malloc, free);
	json_decref(f->doc);
	json_decref(f->before);
	json_decref(f->patch);
	json_decref(f->expect);
	if (f->out != &f->sentinel)
		json_decref(f->out);
	free(f->got_text);
	free(f->want_text);
	free(f);
	return 0;
}

/* Parses a row's JSON, written with ' for ". */
static json_t *load(const char *text)
{
	char *s = NULL;
	json_t *v = NULL;
	json_error_t jerr;

	if (!text)
		return NULL;
	s = strdup(text);
	assert_non_null(s);
	for (char *p = s; *p; p++)
		if (*p == '\'')
			*p = '"';
	v = json_loads(s, JSON_DECODE_ANY, &jerr);
	if (!v)
		fail_msg("bad test JSON %s: %s", text, jerr.text);
	free(s);
	return v;
}

/* Compares as sorted compact text, which keeps 1 and 1.0 apart and shows
 * the difference when they differ. */
static void assert_json_eq(struct fixture *f, const json_t *got,
			   const json_t *want)
{
	const size_t flags = JSON_SORT_KEYS | JSON_COMPACT | JSON_ENCODE_ANY;

	free(f->got_text);
	free(f->want_text);
	f->got_text = json_dumps(got, flags);
	f->want_text = json_dumps(want, flags);
	assert_non_null(f->got_text);
	assert_non_null(f->want_text);
	assert_string_equal(f->got_text, f->want_text);
}

static void apply(struct fixture *f, const char *doc, const char *patch)
{
	f->doc = load(doc);
	f->before = json_deep_copy(f->doc);
	assert_non_null(f->before);
	f->patch = load(patch);
	gv_error_clear(&f->err);
	f->out = &f->sentinel;
}

static void check_failed(struct fixture *f, int rc, int want_rc,
			 const char *want_text)
{
	assert_int_equal(rc, want_rc);
	assert_string_equal(f->err.text, want_text);
	assert_ptr_equal(f->out, &f->sentinel);
	assert_json_eq(f, f->doc, f->before);
}

static void run_case(void **state)
{
	struct fixture *f = *state;
	const struct patch_case *tc = f->tc;
	int rc = 0;

	apply(f, tc->doc, tc->patch);
	rc = pol_patch_apply(f->doc, f->patch, &f->out, &f->err);
	if (!tc->expect) {
		check_failed(f, rc, tc->rc, tc->text);
		return;
	}
	if (rc != GV_OK)
		fail_msg("rc %d: %s", rc, f->err.text);
	f->expect = load(tc->expect);
	assert_json_eq(f, f->out, f->expect);
	assert_json_eq(f, f->doc, f->before);
}

/* clang-format off */
#define OK(name, doc, patch, expect) \
	{ #name, run_case, setup, teardown, \
	  &(struct patch_case){ doc, patch, expect, GV_OK, NULL } }
#define FAIL(name, doc, patch, text) \
	{ #name, run_case, setup, teardown, \
	  &(struct patch_case){ doc, patch, NULL, GV_EINVAL, text } }
/* clang-format on */

/* ---- tests outside the table ------------------------------------------ */

/* A.13: a duplicate "op" is malformed, but a parsed json_t cannot show a
 * duplicate: rejecting it is the parser's job, with this flag. */
static void test_a13_invalid_patch_document(void **state)
{
	json_error_t jerr;
	json_t *v = json_loads("[{\"op\":\"add\",\"path\":\"/baz\","
			       "\"value\":\"qux\",\"op\":\"remove\"}]",
			       JSON_REJECT_DUPLICATES, &jerr);

	(void)state;
	assert_null(v);
}

/* The third operation fails after two succeeded on the working copy. */
static void test_atomic(void **state)
{
	struct fixture *f = *state;
	int rc = 0;

	apply(f, "{'a':1,'b':[1,2],'spec':{}}",
	      "[{'op':'add','path':'/c','value':3},"
	      "{'op':'remove','path':'/b/0'},"
	      "{'op':'replace','path':'/spec/x','value':1}]");
	rc = pol_patch_apply(f->doc, f->patch, &f->out, &f->err);
	check_failed(f, rc, GV_EINVAL,
		     "patch operation 2 (\"replace\"): "
		     "path \"/spec/x\" does not exist");
}

/* Later operations edit values that earlier ones took from the patch: the
 * patch must not see it. */
static void test_patch_unchanged(void **state)
{
	struct fixture *f = *state;
	int rc = 0;

	apply(f, "{}",
	      "[{'op':'add','path':'/a','value':{'x':[1]}},"
	      "{'op':'add','path':'/a/y','value':2},"
	      "{'op':'add','path':'/a/x/-','value':3}]");
	f->expect = json_deep_copy(f->patch);
	assert_non_null(f->expect);
	rc = pol_patch_apply(f->doc, f->patch, &f->out, &f->err);
	assert_int_equal(rc, GV_OK);
	assert_json_eq(f, f->patch, f->expect);
	json_decref(f->expect);
	f->expect = load("{'a':{'x':[1,3],'y':2}}");
	assert_json_eq(f, f->out, f->expect);
}

static void test_null_arguments(void **state)
{
	struct fixture *f = *state;

	apply(f, "{}", "[]");
	assert_int_equal(pol_patch_apply(NULL, f->patch, &f->out, &f->err),
			 GV_EINVAL);
	assert_string_equal(f->err.text, "no document to patch");
	assert_int_equal(pol_patch_apply(f->doc, f->patch, NULL, &f->err),
			 GV_EINVAL);
	assert_int_equal(pol_patch_apply(f->doc, NULL, &f->out, NULL),
			 GV_EINVAL);
	assert_ptr_equal(f->out, &f->sentinel);
}

/* Untrusted text in a message is escaped and long text is cut. */
static void test_message_quoting(void **state)
{
	struct fixture *f = *state;
	char path[302];
	int rc = 0;

	apply(f, "{}", "[{'op':'a\\\"b\\n\\u00e9','path':''}]");
	rc = pol_patch_apply(f->doc, f->patch, &f->out, &f->err);
	check_failed(f, rc, GV_EINVAL,
		     "patch operation 0: unknown op \"a\\\"b\\x0a\xc3\xa9\"");

	json_decref(f->patch);
	path[0] = '/';
	memset(path + 1, 'x', sizeof(path) - 2);
	path[sizeof(path) - 1] = '\0';
	f->patch = json_pack("[{s:s, s:s}]", "op", "remove", "path", path);
	assert_non_null(f->patch);
	rc = pol_patch_apply(f->doc, f->patch, &f->out, &f->err);
	assert_int_equal(rc, GV_EINVAL);
	assert_non_null(strstr(f->err.text, "(\"remove\"): path \"/xxx"));
	assert_non_null(strstr(f->err.text, "xxx...\" does not exist"));
	assert_true(strlen(f->err.text) < 200);
}

/* Copies that keep doubling the document stop at the budget instead of
 * growing it exponentially. */
static void test_copy_budget(void **state)
{
	struct fixture *f = *state;
	json_t *op = NULL;
	int rc = 0;

	apply(f, "{'a':[1]}", "[]");
	for (int i = 0; i < 40; i++) {
		op = json_pack("{s:s, s:s, s:s}", "op", "copy", "from", "/a",
			       "path", "/a/-");
		assert_non_null(op);
		assert_int_equal(json_array_append_new(f->patch, op), 0);
	}
	rc = pol_patch_apply(f->doc, f->patch, &f->out, &f->err);
	/* Copy k copies the 2^(k+1) values /a holds by then: copies 0..18
	 * make 2^20 - 2 values together, and copy 19 would pass 1 Mi. */
	check_failed(f, rc, GV_EINVAL,
		     "patch operation 19 (\"copy\"): "
		     "copies would create more than 1048576 values");
}

/* Each round of three operations nests the whole document one level
 * deeper; the result must stay within what jansson can free, print and
 * read back. */
static void test_depth_bound(void **state)
{
	struct fixture *f = *state;
	json_t *op = NULL;
	int rc = 0;

	apply(f, "{'a':{}}", "[]");
	for (int i = 0; i < 3000; i++) {
		op = json_pack("{s:s, s:s, s:{}}", "op", "add", "path", "/b",
			       "value");
		assert_int_equal(json_array_append_new(f->patch, op), 0);
		op = json_pack("{s:s, s:s, s:s}", "op", "move", "from", "/a",
			       "path", "/b/a");
		assert_int_equal(json_array_append_new(f->patch, op), 0);
		op = json_pack("{s:s, s:s, s:s}", "op", "move", "from", "/b",
			       "path", "/a");
		assert_int_equal(json_array_append_new(f->patch, op), 0);
	}
	rc = pol_patch_apply(f->doc, f->patch, &f->out, &f->err);
	/* Round k leaves depth 3 + k: round 2046 (ops 6138-6140) would make
	 * it 2049. */
	check_failed(f, rc, GV_EINVAL,
		     "patch operation 6139 (\"move\"): path \"/b/a\" would "
		     "nest the document more than 2048 levels deep");
}

static double now(void)
{
	return (double)gv_now_ns() / 1e9;
}

/* 100,000 operations on a document that grows to as many values: linear
 * work takes well under a second, quadratic work minutes. */
static void test_large_patch(void **state)
{
	struct fixture *f = *state;
	enum { N = 100000 };
	char key[32];
	double start = 0;
	int rc = 0;

	apply(f, "{'list':[],'map':{}}", "[]");
	for (int i = 0; i < N; i++) {
		json_t *op = NULL;

		switch (i % 4) {
		case 0:
			op = json_pack("{s:s, s:s, s:i}", "op", "add", "path",
				       "/list/-", "value", i);
			break;
		case 1:
			snprintf(key, sizeof(key), "/map/k%d", i);
			op = json_pack("{s:s, s:s, s:i}", "op", "add", "path",
				       key, "value", i);
			break;
		case 2:
			snprintf(key, sizeof(key), "/map/k%d", i - 1);
			op = json_pack("{s:s, s:s, s:s}", "op", "move", "from",
				       key, "path", "/list/-");
			break;
		default:
			snprintf(key, sizeof(key), "/list/%d", i / 2);
			op = json_pack("{s:s, s:s, s:i}", "op", "test", "path",
				       key, "value", i - 2);
			break;
		}
		assert_non_null(op);
		assert_int_equal(json_array_append_new(f->patch, op), 0);
	}
	start = now();
	rc = pol_patch_apply(f->doc, f->patch, &f->out, &f->err);
	if (rc != GV_OK)
		fail_msg("rc %d: %s", rc, f->err.text);
	assert_int_equal(json_array_size(json_object_get(f->out, "list")),
			 N / 2);
	assert_int_equal(json_object_size(json_object_get(f->out, "map")), 0);
	assert_true(now() - start < 30.0);
}

/*
 * Fails jansson's n-th allocation for n = 0, 1, ... until the patch
 * succeeds: each run must end in GV_ENOMEM with nothing returned and, under
 * ASan, nothing leaked. The counter is file-level because jansson's
 * allocator hooks are process-wide; teardown restores them.
 */
static size_t allocs_left;

static void *failing_malloc(size_t size)
{
	if (allocs_left == 0)
		return NULL;
	allocs_left--;
	return malloc(size);
}

static void test_alloc_failures(void **state)
{
	struct fixture *f = *state;
	int rc = GV_ENOMEM;
	size_t n = 0;

	apply(f, "{'a':{'b':[1,2]},'c':'x','~/':{}}",
	      "[{'op':'add','path':'/d','value':{'e':[1,{'f':null}]}},"
	      "{'op':'add','path':'/a/b/1','value':'y'},"
	      "{'op':'add','path':'/a/b/-','value':[3]},"
	      "{'op':'replace','path':'/a/b/0','value':{'g':1}},"
	      "{'op':'replace','path':'/c','value':[]},"
	      "{'op':'move','from':'/d/e','path':'/~0~1/e'},"
	      "{'op':'copy','from':'/a','path':'/z'},"
	      "{'op':'copy','from':'/a/b/0','path':'/a/b/0'},"
	      "{'op':'remove','path':'/a/b/2'},"
	      "{'op':'test','path':'/z/b/0/g','value':1.0}]");
	f->expect = load("{'a':{'b':[{'g':1},{'g':1},2,[3]]},'c':[],"
			 "'d':{},'z':{'b':[{'g':1},'y',2,[3]]},"
			 "'~/':{'e':[1,{'f':null}]}}");
	for (n = 0; rc == GV_ENOMEM; n++) {
		allocs_left = n;
		json_set_alloc_funcs(failing_malloc, free);
		rc = pol_patch_apply(f->doc, f->patch, &f->out, &f->err);
		json_set_alloc_funcs(malloc, free);
		if (rc == GV_ENOMEM)
			assert_ptr_equal(f->out, &f->sentinel);
	}
	if (rc != GV_OK)
		fail_msg("rc %d after %zu allocations: %s", rc, n, f->err.text);
	assert_true(n > 10);
	assert_json_eq(f, f->out, f->expect);
	assert_json_eq(f, f->doc, f->before);
}

static void test_pointer_append_escapes(void **state)
{
	char buf[64] = "";
	size_t used = 0;

	(void)state;
	assert_int_equal(pol_pointer_append(buf, sizeof(buf), &used, "spec"),
			 GV_OK);
	assert_string_equal(buf, "/spec");
	assert_int_equal(used, 5);
	assert_int_equal(pol_pointer_append(buf, sizeof(buf), &used, "a/b~c"),
			 GV_OK);
	assert_string_equal(buf, "/spec/a~1b~0c");
	assert_int_equal(pol_pointer_append(buf, sizeof(buf), &used, "~1"),
			 GV_OK);
	assert_string_equal(buf, "/spec/a~1b~0c/~01");
	assert_int_equal(pol_pointer_append(buf, sizeof(buf), &used, ""),
			 GV_OK);
	assert_string_equal(buf, "/spec/a~1b~0c/~01/");
	assert_int_equal(used, strlen(buf));
}

/* "/x" + "/~1" + NUL is 6 bytes: a buffer of 6 fits exactly, 5 does not
 * and is left as it was. */
static void test_pointer_append_boundary(void **state)
{
	char buf[8];
	size_t used = 0;

	(void)state;
	memcpy(buf, "/x\0ZZZZZ", sizeof(buf));
	used = 2;
	assert_int_equal(pol_pointer_append(buf, 5, &used, "/"), GV_ETOOBIG);
	assert_int_equal(used, 2);
	assert_memory_equal(buf, "/x\0ZZZZZ", sizeof(buf));

	assert_int_equal(pol_pointer_append(buf, 6, &used, "/"), GV_OK);
	assert_int_equal(used, 5);
	assert_memory_equal(buf, "/x/~1\0ZZ", sizeof(buf));

	/* Only the NUL fits: even an empty key needs its "/". */
	used = 0;
	buf[0] = '\0';
	assert_int_equal(pol_pointer_append(buf, 1, &used, ""), GV_ETOOBIG);
	assert_int_equal(pol_pointer_append(buf, 2, &used, ""), GV_OK);
	assert_string_equal(buf, "/");
}

static void test_pointer_append_invalid(void **state)
{
	char buf[8] = "";
	size_t used = 8;

	(void)state;
	assert_int_equal(pol_pointer_append(buf, sizeof(buf), &used, "a"),
			 GV_EINVAL);
	used = 0;
	assert_int_equal(pol_pointer_append(NULL, sizeof(buf), &used, "a"),
			 GV_EINVAL);
	assert_int_equal(pol_pointer_append(buf, sizeof(buf), NULL, "a"),
			 GV_EINVAL);
	assert_int_equal(pol_pointer_append(buf, sizeof(buf), &used, NULL),
			 GV_EINVAL);
	assert_int_equal(pol_pointer_append(buf, 0, &used, "a"), GV_EINVAL);
}

#define TEST(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	/* clang-format off */
	const struct CMUnitTest tests[] = {
	/* RFC 6902 appendix A */
	OK(a01_add_object_member, "{'foo':'bar'}",
	   "[{'op':'add','path':'/baz','value':'qux'}]",
	   "{'baz':'qux','foo':'bar'}"),
	OK(a02_add_array_element, "{'foo':['bar','baz']}",
	   "[{'op':'add','path':'/foo/1','value':'qux'}]",
	   "{'foo':['bar','qux','baz']}"),
	OK(a03_remove_object_member, "{'baz':'qux','foo':'bar'}",
	   "[{'op':'remove','path':'/baz'}]",
	   "{'foo':'bar'}"),
	OK(a04_remove_array_element, "{'foo':['bar','qux','baz']}",
	   "[{'op':'remove','path':'/foo/1'}]",
	   "{'foo':['bar','baz']}"),
	OK(a05_replace_value, "{'baz':'qux','foo':'bar'}",
	   "[{'op':'replace','path':'/baz','value':'boo'}]",
	   "{'baz':'boo','foo':'bar'}"),
	OK(a06_move_value,
	   "{'foo':{'bar':'baz','waldo':'fred'},'qux':{'corge':'grault'}}",
	   "[{'op':'move','from':'/foo/waldo','path':'/qux/thud'}]",
	   "{'foo':{'bar':'baz'},'qux':{'corge':'grault','thud':'fred'}}"),
	OK(a07_move_array_element, "{'foo':['all','grass','cows','eat']}",
	   "[{'op':'move','from':'/foo/1','path':'/foo/3'}]",
	   "{'foo':['all','cows','eat','grass']}"),
	OK(a08_test_success, "{'baz':'qux','foo':['a',2,'c']}",
	   "[{'op':'test','path':'/baz','value':'qux'},"
	   "{'op':'test','path':'/foo/1','value':2}]",
	   "{'baz':'qux','foo':['a',2,'c']}"),
	FAIL(a09_test_error, "{'baz':'qux'}",
	     "[{'op':'test','path':'/baz','value':'bar'}]",
	     "patch operation 0 (\"test\"): "
	     "path \"/baz\" is not equal to the test value"),
	OK(a10_add_nested_member_object, "{'foo':'bar'}",
	   "[{'op':'add','path':'/child','value':{'grandchild':{}}}]",
	   "{'foo':'bar','child':{'grandchild':{}}}"),
	OK(a11_ignore_unrecognized_elements, "{'foo':'bar'}",
	   "[{'op':'add','path':'/baz','value':'qux','xyz':123}]",
	   "{'foo':'bar','baz':'qux'}"),
	FAIL(a12_add_to_nonexistent_target, "{'foo':'bar'}",
	     "[{'op':'add','path':'/baz/bat','value':'qux'}]",
	     "patch operation 0 (\"add\"): path \"/baz/bat\" does not exist"),
	TEST(test_a13_invalid_patch_document),
	OK(a14_escape_ordering, "{'/':9,'~1':10}",
	   "[{'op':'test','path':'/~01','value':10}]",
	   "{'/':9,'~1':10}"),
	FAIL(a15_compare_strings_and_numbers, "{'/':9,'~1':10}",
	     "[{'op':'test','path':'/~01','value':'10'}]",
	     "patch operation 0 (\"test\"): "
	     "path \"/~01\" is not equal to the test value"),
	OK(a16_add_array_value, "{'foo':['bar']}",
	   "[{'op':'add','path':'/foo/-','value':['abc','def']}]",
	   "{'foo':['bar',['abc','def']]}"),

	/* RFC 6901 escaping */
	OK(escape_tilde_and_slash, "{'a/b':1,'m~n':2,'~1':3}",
	   "[{'op':'replace','path':'/a~1b','value':4},"
	   "{'op':'remove','path':'/m~0n'},"
	   "{'op':'add','path':'/~01','value':5},"
	   "{'op':'add','path':'/~0~1','value':6}]",
	   "{'a/b':4,'~1':5,'~/':6}"),
	OK(escape_empty_key, "{'':{'':1}}",
	   "[{'op':'replace','path':'//','value':2}]",
	   "{'':{'':2}}"),
	FAIL(escape_invalid, "{'a':1}",
	     "[{'op':'remove','path':'/a~2'}]",
	     "patch operation 0 (\"remove\"): "
	     "path \"/a~2\" has an invalid \"~\" escape"),
	FAIL(escape_trailing_tilde, "{'a':1}",
	     "[{'op':'test','path':'/a~','value':1}]",
	     "patch operation 0 (\"test\"): "
	     "path \"/a~\" has an invalid \"~\" escape"),

	/* arrays */
	OK(append_dash_add, "{'a':[1]}",
	   "[{'op':'add','path':'/a/-','value':2}]",
	   "{'a':[1,2]}"),
	OK(append_dash_move, "{'a':[1],'x':2}",
	   "[{'op':'move','from':'/x','path':'/a/-'}]",
	   "{'a':[1,2]}"),
	OK(append_dash_copy, "{'a':[1]}",
	   "[{'op':'copy','from':'/a/0','path':'/a/-'}]",
	   "{'a':[1,1]}"),
	OK(add_index_equal_to_size, "{'a':[1]}",
	   "[{'op':'add','path':'/a/1','value':2},"
	   "{'op':'add','path':'/a/0','value':0}]",
	   "{'a':[0,1,2]}"),
	FAIL(add_index_beyond_size, "{'a':[1]}",
	     "[{'op':'add','path':'/a/2','value':2}]",
	     "patch operation 0 (\"add\"): path \"/a/2\" is out of bounds"),
	FAIL(replace_index_equal_to_size, "{'a':[1]}",
	     "[{'op':'replace','path':'/a/1','value':2}]",
	     "patch operation 0 (\"replace\"): path \"/a/1\" does not exist"),
	FAIL(index_leading_zero, "{'a':[1,2]}",
	     "[{'op':'replace','path':'/a/01','value':2}]",
	     "patch operation 0 (\"replace\"): "
	     "path \"/a/01\" has an invalid array index"),
	FAIL(index_not_a_number, "{'a':[1,2]}",
	     "[{'op':'add','path':'/a/+1','value':2}]",
	     "patch operation 0 (\"add\"): "
	     "path \"/a/+1\" has an invalid array index"),
	FAIL(index_in_the_middle_invalid, "{'a':[{'b':1}]}",
	     "[{'op':'remove','path':'/a/x/b'}]",
	     "patch operation 0 (\"remove\"): "
	     "path \"/a/x/b\" has an invalid array index"),
	FAIL(index_huge, "{'a':[1]}",
	     "[{'op':'remove','path':'/a/99999999999999999999999'}]",
	     "patch operation 0 (\"remove\"): "
	     "path \"/a/99999999999999999999999\" does not exist"),
	FAIL(remove_dash, "{'a':[1]}",
	     "[{'op':'remove','path':'/a/-'}]",
	     "patch operation 0 (\"remove\"): path \"/a/-\" does not exist"),
	OK(replace_array_element, "{'a':[1,2,3]}",
	   "[{'op':'replace','path':'/a/1','value':{'b':2}}]",
	   "{'a':[1,{'b':2},3]}"),
	OK(index_zero_nested, "{'a':[[1,2]]}",
	   "[{'op':'remove','path':'/a/0/0'}]",
	   "{'a':[[2]]}"),

	/* objects and missing targets */
	OK(add_existing_key_replaces, "{'a':1,'b':2}",
	   "[{'op':'add','path':'/a','value':[3]}]",
	   "{'a':[3],'b':2}"),
	OK(add_null_value, "{}",
	   "[{'op':'add','path':'/a','value':null}]",
	   "{'a':null}"),
	FAIL(replace_missing_names_op_index, "{'spec':{'y':1}}",
	     "[{'op':'test','path':'/spec/y','value':1},"
	     "{'op':'add','path':'/spec/z','value':2},"
	     "{'op':'replace','path':'/spec/x','value':3}]",
	     "patch operation 2 (\"replace\"): "
	     "path \"/spec/x\" does not exist"),
	FAIL(remove_missing, "{'a':1}",
	     "[{'op':'add','path':'/b','value':2},"
	     "{'op':'remove','path':'/c'}]",
	     "patch operation 1 (\"remove\"): path \"/c\" does not exist"),
	FAIL(add_under_scalar, "{'a':1}",
	     "[{'op':'add','path':'/a/b','value':2}]",
	     "patch operation 0 (\"add\"): path \"/a/b\" has a parent that "
	     "is not an object or array"),
	FAIL(walk_through_scalar, "{'a':1}",
	     "[{'op':'add','path':'/a/b/c','value':2}]",
	     "patch operation 0 (\"add\"): path \"/a/b/c\" does not exist"),

	/* the root */
	OK(root_replace, "{'a':1}",
	   "[{'op':'replace','path':'','value':[1,2]}]",
	   "[1,2]"),
	OK(root_add, "{'a':1}",
	   "[{'op':'add','path':'','value':'x'}]",
	   "'x'"),
	OK(root_test, "{'a':1}",
	   "[{'op':'test','path':'','value':{'a':1.0}}]",
	   "{'a':1}"),
	OK(root_move_into, "{'a':{'b':1}}",
	   "[{'op':'move','from':'/a','path':''}]",
	   "{'b':1}"),
	OK(root_copy_from, "{'a':1}",
	   "[{'op':'copy','from':'','path':'/self'}]",
	   "{'a':1,'self':{'a':1}}"),
	OK(root_key_empty_string, "{'':1}",
	   "[{'op':'replace','path':'/','value':2}]",
	   "{'':2}"),
	FAIL(root_remove_refused, "{'a':1}",
	     "[{'op':'remove','path':''}]",
	     "patch operation 0 (\"remove\"): path \"\" is the whole "
	     "document, which cannot be removed"),

	/* move and copy */
	FAIL(move_into_own_child, "{'a':{'b':{}}}",
	     "[{'op':'move','from':'/a','path':'/a/b/c'}]",
	     "patch operation 0 (\"move\"): "
	     "cannot move \"/a\" into its own child \"/a/b/c\""),
	FAIL(move_root_into_child, "{'a':1}",
	     "[{'op':'move','from':'','path':'/a'}]",
	     "patch operation 0 (\"move\"): "
	     "cannot move \"\" into its own child \"/a\""),
	OK(move_to_prefixed_sibling, "{'a':1}",
	   "[{'op':'move','from':'/a','path':'/ab'}]",
	   "{'ab':1}"),
	OK(move_to_same_path, "{'a':[1,2]}",
	   "[{'op':'move','from':'/a/1','path':'/a/1'},"
	   "{'op':'move','from':'/a','path':'/a'}]",
	   "{'a':[1,2]}"),
	OK(move_to_parent, "{'a':{'b':{'c':1}}}",
	   "[{'op':'move','from':'/a/b','path':'/a'}]",
	   "{'a':{'c':1}}"),
	FAIL(move_missing_from, "{'a':1}",
	     "[{'op':'move','from':'/x','path':'/y'}]",
	     "patch operation 0 (\"move\"): from \"/x\" does not exist"),
	FAIL(move_to_missing_parent, "{'a':1}",
	     "[{'op':'move','from':'/a','path':'/x/y'}]",
	     "patch operation 0 (\"move\"): path \"/x/y\" does not exist"),
	OK(copy_into_own_child, "{'a':{'b':1}}",
	   "[{'op':'copy','from':'/a','path':'/a/c'}]",
	   "{'a':{'b':1,'c':{'b':1}}}"),
	OK(copy_is_independent, "{'a':{'b':1}}",
	   "[{'op':'copy','from':'/a','path':'/c'},"
	   "{'op':'add','path':'/c/d','value':2}]",
	   "{'a':{'b':1},'c':{'b':1,'d':2}}"),

	/* test: RFC 6902 equality */
	OK(test_integer_equals_real, "{'n':1}",
	   "[{'op':'test','path':'/n','value':1.0}]",
	   "{'n':1}"),
	OK(test_real_equals_integer, "{'n':1.0}",
	   "[{'op':'test','path':'/n','value':1}]",
	   "{'n':1.0}"),
	OK(test_nested_numbers, "{'a':[1,{'b':2.5,'c':-0.0}]}",
	   "[{'op':'test','path':'/a','value':[1.0,{'c':0,'b':2.5}]}]",
	   "{'a':[1,{'b':2.5,'c':-0.0}]}"),
	FAIL(test_number_differs, "{'n':1}",
	     "[{'op':'test','path':'/n','value':1.5}]",
	     "patch operation 0 (\"test\"): "
	     "path \"/n\" is not equal to the test value"),
	/* 2^53 + 1 is not 2^53, though it rounds to it as a double. */
	FAIL(test_large_integer_exact, "{'n':9007199254740993}",
	     "[{'op':'test','path':'/n','value':9007199254740992.0}]",
	     "patch operation 0 (\"test\"): "
	     "path \"/n\" is not equal to the test value"),
	FAIL(test_real_beyond_integers, "{'n':9223372036854775807}",
	     "[{'op':'test','path':'/n','value':1e300}]",
	     "patch operation 0 (\"test\"): "
	     "path \"/n\" is not equal to the test value"),
	FAIL(test_true_is_not_one, "{'n':true}",
	     "[{'op':'test','path':'/n','value':1}]",
	     "patch operation 0 (\"test\"): "
	     "path \"/n\" is not equal to the test value"),
	FAIL(test_null_is_not_false, "{'n':null}",
	     "[{'op':'test','path':'/n','value':false}]",
	     "patch operation 0 (\"test\"): "
	     "path \"/n\" is not equal to the test value"),
	FAIL(test_object_extra_member, "{'a':1,'b':2}",
	     "[{'op':'test','path':'','value':{'a':1}}]",
	     "patch operation 0 (\"test\"): "
	     "path \"\" is not equal to the test value"),
	FAIL(test_object_other_member, "{'a':1,'b':2}",
	     "[{'op':'test','path':'','value':{'a':1,'c':2}}]",
	     "patch operation 0 (\"test\"): "
	     "path \"\" is not equal to the test value"),
	FAIL(test_array_order, "{'a':[1,2]}",
	     "[{'op':'test','path':'/a','value':[2,1]}]",
	     "patch operation 0 (\"test\"): "
	     "path \"/a\" is not equal to the test value"),
	FAIL(test_missing_path, "{'a':1}",
	     "[{'op':'test','path':'/b','value':null}]",
	     "patch operation 0 (\"test\"): path \"/b\" does not exist"),

	/* malformed patches */
	FAIL(patch_not_an_array, "{}", "{'op':'add','path':'','value':1}",
	     "patch is not an array"),
	OK(patch_empty, "{'a':1}", "[]", "{'a':1}"),
	FAIL(op_not_an_object, "{}", "[{'op':'test','path':'','value':{}},1]",
	     "patch operation 1: operation is not an object"),
	FAIL(op_missing, "{}", "[{'path':'/a'}]",
	     "patch operation 0: missing \"op\""),
	FAIL(op_not_a_string, "{}", "[{'op':1,'path':'/a'}]",
	     "patch operation 0: \"op\" is not a string"),
	FAIL(op_unknown, "{}", "[{'op':'frob','path':'/a'}]",
	     "patch operation 0: unknown op \"frob\""),
	FAIL(op_case_sensitive, "{}", "[{'op':'Add','path':'/a','value':1}]",
	     "patch operation 0: unknown op \"Add\""),
	FAIL(path_missing, "{}", "[{'op':'add','value':1}]",
	     "patch operation 0 (\"add\"): missing \"path\""),
	FAIL(path_not_a_string, "{}", "[{'op':'remove','path':['a']}]",
	     "patch operation 0 (\"remove\"): \"path\" is not a string"),
	FAIL(path_without_slash, "{'a':1}", "[{'op':'remove','path':'a'}]",
	     "patch operation 0 (\"remove\"): "
	     "path \"a\" does not start with \"/\""),
	FAIL(from_missing, "{'a':1}", "[{'op':'move','path':'/b'}]",
	     "patch operation 0 (\"move\"): missing \"from\""),
	FAIL(from_not_a_string, "{'a':1}",
	     "[{'op':'copy','from':null,'path':'/b'}]",
	     "patch operation 0 (\"copy\"): \"from\" is not a string"),
	FAIL(from_without_slash, "{'a':1}",
	     "[{'op':'copy','from':'a','path':'/b'}]",
	     "patch operation 0 (\"copy\"): "
	     "from \"a\" does not start with \"/\""),
	FAIL(value_missing, "{'a':1}", "[{'op':'replace','path':'/a'}]",
	     "patch operation 0 (\"replace\"): missing \"value\""),

	/* whole-patch properties */
	TEST(test_atomic),
	TEST(test_patch_unchanged),
	TEST(test_null_arguments),
	TEST(test_message_quoting),
	TEST(test_copy_budget),
	TEST(test_depth_bound),
	TEST(test_large_patch),
	TEST(test_alloc_failures),

	/* pol_pointer_append */
	TEST(test_pointer_append_escapes),
	TEST(test_pointer_append_boundary),
	TEST(test_pointer_append_invalid),
	};
	/* clang-format on */

	return cmocka_run_group_tests(tests, NULL, NULL);
}
