/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_read.c: gv_read_documents(), YAML and JSON in, jansson out.
 *
 * Each test reads one input and checks exact values, or the exact result
 * code, line:column and message of the failure.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "groved/gv_read.h"
#include "groved/gv_time.h"

#define FIXTURES GV_SOURCE_DIR "/tests/fixtures/read/"

struct state {
	json_t *docs;
	json_t *lines;
	gv_error_t err;
	char *buf; /* a test's large input, freed in teardown */
};

static int setup(void **st)
{
	struct state *s = calloc(1, sizeof(*s));

	if (!s)
		return -1;
	*st = s;
	return 0;
}

static int teardown(void **st)
{
	struct state *s = *st;

	json_decref(s->docs);
	json_decref(s->lines);
	free(s->buf);
	free(s);
	return 0;
}

/* Reads text (its strlen) and asserts success. */
static void read_ok(struct state *s, const char *text)
{
	int rc;

	json_decref(s->docs);
	json_decref(s->lines);
	s->docs = NULL;
	s->lines = NULL;
	rc = gv_read_documents(text, strlen(text), "t.yaml", &s->docs,
			       &s->lines, &s->err);
	if (rc)
		print_error("unexpected failure: %s:%d:%d: %s\n", s->err.source,
			    s->err.line, s->err.column, s->err.text);
	assert_int_equal(rc, GV_OK);
	assert_non_null(s->docs);
	assert_non_null(s->lines);
	assert_int_equal(json_array_size(s->docs), json_array_size(s->lines));
}

/* Reads len bytes of data, asserts the failure's code, place and text. */
static void read_fail_n(struct state *s, const char *data, size_t len,
			int rc_want, int line, int col, const char *text)
{
	json_t *docs = NULL;
	json_t *lines = NULL;
	int rc;

	gv_error_clear(&s->err);
	rc = gv_read_documents(data, len, "t.yaml", &docs, &lines, &s->err);
	if (rc != rc_want || !strstr(s->err.text, text))
		print_error("got %d %d:%d: %s\n", rc, s->err.line,
			    s->err.column, s->err.text);
	assert_int_equal(rc, rc_want);
	assert_null(docs);
	assert_null(lines);
	assert_string_equal(s->err.source, "t.yaml");
	assert_int_equal(s->err.line, line);
	assert_int_equal(s->err.column, col);
	assert_non_null(strstr(s->err.text, text));
}

static void read_fail(struct state *s, const char *text, int rc_want, int line,
		      int col, const char *msg)
{
	read_fail_n(s, text, strlen(text), rc_want, line, col, msg);
}

/* Asserts that the only document of text equals the JSON want. */
static void assert_reads_as(struct state *s, const char *text, const char *want)
{
	json_error_t jerr;
	json_t *expect = json_loads(want, JSON_DECODE_ANY, &jerr);
	json_t *got = NULL;

	assert_non_null(expect);
	read_ok(s, text);
	assert_int_equal(json_array_size(s->docs), 1);
	got = json_array_get(s->docs, 0);
	/* json_equal tells 1 from 1.0 and "1" from 1 */
	if (!json_equal(got, expect)) {
		char *dump = json_dumps(got, JSON_ENCODE_ANY | JSON_COMPACT);

		print_error("%s\n  read as %s\n  want    %s\n", text,
			    dump ? dump : "?", want);
		free(dump);
	}
	assert_true(json_equal(got, expect));
	json_decref(expect);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* The value at a dotted path ("spec.list.0.name"), borrowed, or NULL. */
static json_t *at(json_t *v, const char *path)
{
	char part[64];
	const char *p = path;

	while (v && *p) {
		size_t n = strcspn(p, ".");
		char *end = NULL;
		long idx;

		assert_true(n < sizeof(part));
		memcpy(part, p, n);
		part[n] = '\0';
		p += n + (p[n] == '.');
		idx = strtol(part, &end, 10);
		if (json_is_array(v) && *end == '\0')
			v = json_array_get(v, (size_t)idx);
		else
			v = json_object_get(v, part);
	}
	return v;
}

/* Seconds since t0, a gv_now_ns(). */
static double seconds_since(uint64_t t0)
{
	return (double)(gv_now_ns() - t0) / 1e9;
}

/* ---- documents ------------------------------------------------------- */

static void test_multi_document_lines(void **st)
{
	struct state *s = *st;

	read_ok(s, "# leading comment\n"
		   "---\n"
		   "---\n"
		   "# only a comment\n"
		   "---\n"
		   "a: 1\n"
		   "---\n"
		   "- x\n"
		   "...\n"
		   "--- \"\"\n"
		   "--- ~\n");
	assert_int_equal(json_array_size(s->docs), 4);
	assert_int_equal(json_integer_value(
			     json_object_get(json_array_get(s->docs, 0), "a")),
			 1);
	assert_string_equal(
	    json_string_value(json_array_get(json_array_get(s->docs, 1), 0)),
	    "x");
	/* quoted empty and explicit null are documents, not emptiness */
	assert_string_equal(json_string_value(json_array_get(s->docs, 2)), "");
	assert_true(json_is_null(json_array_get(s->docs, 3)));
	assert_int_equal(json_integer_value(json_array_get(s->lines, 0)), 5);
	assert_int_equal(json_integer_value(json_array_get(s->lines, 1)), 7);
	assert_int_equal(json_integer_value(json_array_get(s->lines, 2)), 10);
	assert_int_equal(json_integer_value(json_array_get(s->lines, 3)), 11);
}

static void test_implicit_document_line(void **st)
{
	struct state *s = *st;

	read_ok(s, "# one\n# two\n\nkind: Pod\n");
	assert_int_equal(json_array_size(s->docs), 1);
	assert_int_equal(json_integer_value(json_array_get(s->lines, 0)), 4);
}

static void test_empty_inputs(void **st)
{
	struct state *s = *st;
	const char *empties[] = { "", "   \n\n", "# nothing\n", "---\n",
				  "---\n...\n---\n# c\n" };

	for (size_t i = 0; i < sizeof(empties) / sizeof(empties[0]); i++) {
		read_ok(s, empties[i]);
		assert_int_equal(json_array_size(s->docs), 0);
	}
}

static void test_not_nul_terminated(void **st)
{
	struct state *s = *st;
	/* only the first 4 bytes are the input */
	const char data[] = { 'a', ':', ' ', '1', ':', '[', 'x' };

	assert_int_equal(
	    gv_read_documents(data, 4, "t", &s->docs, NULL, &s->err), GV_OK);
	assert_int_equal(json_integer_value(
			     json_object_get(json_array_get(s->docs, 0), "a")),
			 1);
}

static void test_lines_out_optional(void **st)
{
	struct state *s = *st;

	assert_int_equal(
	    gv_read_documents("a: 1", 4, NULL, &s->docs, NULL, NULL), GV_OK);
	assert_int_equal(json_array_size(s->docs), 1);
}

/* ---- anchors, aliases, merge keys ------------------------------------ */

static void test_anchors_share_values(void **st)
{
	struct state *s = *st;
	json_t *doc;

	read_ok(s, "base: &b {x: 1, list: [a, b]}\n"
		   "copy: *b\n"
		   "s: &s str\n"
		   "t: *s\n"
		   "s2: &s again\n"
		   "t2: *s\n");
	doc = json_array_get(s->docs, 0);
	/* an alias is the anchored value itself, not a copy */
	assert_ptr_equal(json_object_get(doc, "base"),
			 json_object_get(doc, "copy"));
	assert_string_equal(json_string_value(json_object_get(doc, "t")),
			    "str");
	/* a redefined anchor means the newer value from then on */
	assert_string_equal(json_string_value(json_object_get(doc, "t2")),
			    "again");
}

static void test_anchors_are_per_document(void **st)
{
	struct state *s = *st;

	read_fail(s, "a: &x 1\n---\nb: *x\n", GV_EPARSE, 3, 4,
		  "found undefined alias \"x\"");
}

static void test_merge_keys(void **st)
{
	struct state *s = *st;

	assert_reads_as(s,
			"base: &b {a: 1, b: 2}\n"
			"other: &o {b: 20, c: 30}\n"
			"one:\n"
			"  b: 9\n"
			"  <<: *b\n"
			"list:\n"
			"  <<: [*b, *o, {d: 4}]\n"
			"  c: 0\n"
			"quoted:\n"
			"  \"<<\": 1\n",
			"{\"base\": {\"a\": 1, \"b\": 2},"
			" \"other\": {\"b\": 20, \"c\": 30},"
			" \"one\": {\"a\": 1, \"b\": 9},"
			" \"list\": {\"a\": 1, \"b\": 2, \"c\": 0, \"d\": 4},"
			" \"quoted\": {\"<<\": 1}}");
}

static void test_merge_bad_value(void **st)
{
	struct state *s = *st;

	read_fail(s, "a:\n  <<: [{x: 1}, 2]\n", GV_EPARSE, 2, 7,
		  "merge value must be a mapping or a list of mappings");
	read_fail(s, "a:\n  <<: text\n", GV_EPARSE, 2, 7,
		  "merge value must be a mapping or a list of mappings");
}

static void test_undefined_alias(void **st)
{
	struct state *s = *st;

	read_fail(s, "a: 1\nb: *foo\n", GV_EPARSE, 2, 4,
		  "found undefined alias \"foo\"");
}

static void test_alias_inside_itself(void **st)
{
	struct state *s = *st;

	read_fail(s, "a: &a [1, *a]\n", GV_EPARSE, 1, 11,
		  "alias \"a\" refers to a node that contains it");
}

/* ---- scalars --------------------------------------------------------- */

/* Plain scalars, as sigs.k8s.io/yaml (go-yaml v2) resolves them. */
static void test_scalar_resolution(void **st)
{
	struct state *s = *st;

	assert_reads_as(s,
			"- ~\n- null\n- Null\n- NULL\n-\n"
			"- true\n- True\n- TRUE\n- yes\n- Yes\n- YES\n"
			"- on\n- On\n- ON\n- y\n- Y\n"
			"- false\n- False\n- FALSE\n- no\n- No\n- NO\n"
			"- off\n- Off\n- OFF\n- n\n- N\n"
			"- nULL\n- yEs\n- tRUE\n",
			"[null, null, null, null, null,"
			" true, true, true, true, true, true,"
			" true, true, true, true, true,"
			" false, false, false, false, false, false,"
			" false, false, false, false, false,"
			" \"nULL\", \"yEs\", \"tRUE\"]");
	assert_reads_as(s,
			"- 0\n- 42\n- -5\n- +7\n- 0x1F\n- 0X1f\n- -0x10\n"
			"- 0o17\n- 017\n- 0b101\n- -0b11\n- 1_000\n- 0x_ff\n"
			"- 9223372036854775807\n- -9223372036854775808\n",
			"[0, 42, -5, 7, 31, 31, -16, 15, 15, 5, -3, 1000, 255,"
			" 9223372036854775807, -9223372036854775808]");
	/*
	 * Beyond int64: uint64 range and larger decimals become reals (go-yaml
	 * has uint64 and floats there); larger hex stays a string, as there.
	 * 09 is no octal and so go-yaml's float 9, which kubectl prints
	 * (Go's float64 to JSON) as the integer 9.
	 */
	assert_reads_as(s,
			"- 9223372036854775808\n- 99999999999999999999\n"
			"- 0x1FFFFFFFFFFFFFFFF\n- 09\n",
			"[9223372036854775808.0, 1e20, \"0x1FFFFFFFFFFFFFFFF\","
			" 9]");
	assert_reads_as(s,
			"- 1.5\n- 1.5e3\n- 1e3\n- -2.5E-1\n- .5\n- +.5\n"
			"- 1.\n- 1_0.5\n- 1.20\n- 1e400\n",
			"[1.5, 1500, 1000, -0.25, 0.5, 0.5, 1, 10.5,"
			" 1.2, \"1e400\"]");
	assert_reads_as(
	    s,
	    "- 2001-12-14\n- 1.2.3\n- 0x\n- \"-\"\n- +\n- 12abc\n"
	    "- <<\n- ._5\n- .inf.\n- '1'\n- \"yes\"\n- '~'\n"
	    "- \"0x1F\"\n- 'null'\n",
	    "[\"2001-12-14\", \"1.2.3\", \"0x\", \"-\", \"+\","
	    " \"12abc\", \"<<\", \"._5\", \".inf.\", \"1\", \"yes\","
	    " \"~\", \"0x1F\", \"null\"]");
}

static void test_quoted_yes_is_string(void **st)
{
	struct state *s = *st;
	json_t *doc;

	read_ok(s, "a: \"yes\"\nb: yes\nc: 'on'\n");
	doc = json_array_get(s->docs, 0);
	assert_string_equal(json_string_value(json_object_get(doc, "a")),
			    "yes");
	assert_true(json_is_true(json_object_get(doc, "b")));
	assert_string_equal(json_string_value(json_object_get(doc, "c")), "on");
}

static void test_explicit_tags(void **st)
{
	struct state *s = *st;

	assert_reads_as(s,
			"- !!str 12\n- !!str yes\n- !!int \"12\"\n"
			"- !!float 3\n- !!float \"1.5\"\n- !!bool \"yes\"\n"
			"- !!null \"~\"\n- ! 12\n- !custom 12\n"
			"- !custom \"12\"\n- !!timestamp 2001-12-14\n"
			"- !!binary aGk=\n",
			"[\"12\", \"yes\", 12, 3, 1.5, true, null, \"12\", 12,"
			" \"12\", \"2001-12-14\", \"aGk=\"]");
	read_fail(s, "x: !!int abc\n", GV_EPARSE, 1, 4,
		  "cannot decode \"abc\" as !!int");
	read_fail(s, "x: !!bool 1\n", GV_EPARSE, 1, 4,
		  "cannot decode \"1\" as !!bool");
}

static void test_inf_nan_rejected(void **st)
{
	struct state *s = *st;

	read_fail(s, "a: 1\nb: .inf\n", GV_EPARSE, 2, 4,
		  "cannot represent \".inf\" in JSON");
	read_fail(s, "- -.Inf\n", GV_EPARSE, 1, 3,
		  "cannot represent \"-.Inf\" in JSON");
	read_fail(s, "- .nan\n", GV_EPARSE, 1, 3,
		  "cannot represent \".nan\" in JSON");
	read_fail(s, "- !!float .inf\n", GV_EPARSE, 1, 3,
		  "cannot represent \".inf\" in JSON");
	/* quoted, it is just text */
	assert_reads_as(s, "- \".inf\"\n", "[\".inf\"]");
}

static void test_block_scalars(void **st)
{
	struct state *s = *st;

	assert_reads_as(s,
			"lit: |\n  a\n   b\n\n"
			"strip: |-\n  a\n\n"
			"keep: |+\n  a\n\n"
			"fold: >\n  a\n  b\n\n  c\n"
			"foldstrip: >-\n  a\n  b\n"
			"num: |\n  12\n",
			"{\"lit\": \"a\\n b\\n\", \"strip\": \"a\","
			" \"keep\": \"a\\n\\n\", \"fold\": \"a b\\nc\\n\","
			" \"foldstrip\": \"a b\", \"num\": \"12\\n\"}");
}

static void test_flow_collections(void **st)
{
	struct state *s = *st;

	assert_reads_as(
	    s, "a: {b: [1, two, {c: null}], d: []}\ne: {}\n",
	    "{\"a\": {\"b\": [1, \"two\", {\"c\": null}], \"d\": []},"
	    " \"e\": {}}");
}

static void test_embedded_nul_escape(void **st)
{
	struct state *s = *st;
	json_t *v;

	read_ok(s, "a: \"x\\0y\"\n");
	v = json_object_get(json_array_get(s->docs, 0), "a");
	assert_int_equal(json_string_length(v), 3);
	assert_memory_equal(json_string_value(v), "x\0y", 3);
}

/* ---- keys ------------------------------------------------------------ */

static void test_scalar_keys(void **st)
{
	struct state *s = *st;

	/* as sigs.k8s.io/yaml: resolved, then written back as text */
	assert_reads_as(s,
			"1: int\n0x10: hex\nyes: bool\nno: bool2\n1.5: float\n"
			"1000000.0: big\n.inf: inf\n\"2\": quoted\n",
			"{\"1\": \"int\", \"16\": \"hex\", \"true\": \"bool\","
			" \"false\": \"bool2\", \"1.5\": \"float\","
			" \"1e+06\": \"big\", \".inf\": \"inf\","
			" \"2\": \"quoted\"}");
}

static void test_bad_keys(void **st)
{
	struct state *s = *st;

	read_fail(s, "? [a]\n: 1\n", GV_EPARSE, 1, 3,
		  "map key must be a scalar, not a list");
	read_fail(s, "? {a: 1}\n: 1\n", GV_EPARSE, 1, 3,
		  "map key must be a scalar, not a mapping");
	read_fail(s, "x: &m {a: 1}\ny:\n  *m : 1\n", GV_EPARSE, 3, 3,
		  "map key must be a scalar, not a mapping");
	read_fail(s, "~: 1\n", GV_EPARSE, 1, 1, "map key cannot be null");
}

static void test_duplicate_key(void **st)
{
	struct state *s = *st;

	read_fail(s, "name: a\nspec:\n  x: 1\nname: b\n", GV_EPARSE, 4, 1,
		  "duplicate key \"name\"");
	/* 1 and "1" are one key once written as JSON */
	read_fail(s, "a:\n  1: x\n  \"1\": y\n", GV_EPARSE, 3, 3,
		  "duplicate key \"1\"");
}

/* ---- JSON ------------------------------------------------------------ */

static void test_json_object(void **st)
{
	struct state *s = *st;

	assert_reads_as(s, "  {\"a\": [1, 2.5, \"yes\", true, null]}\n",
			"{\"a\": [1, 2.5, \"yes\", true, null]}");
}

static void test_json_stream(void **st)
{
	struct state *s = *st;

	read_ok(s, "{\"a\": 1}\n\n{\"b\": 2} [3]\n  \"x\"\n");
	assert_int_equal(json_array_size(s->docs), 4);
	assert_int_equal(
	    json_integer_value(json_array_get(json_array_get(s->docs, 2), 0)),
	    3);
	assert_string_equal(json_string_value(json_array_get(s->docs, 3)), "x");
	assert_int_equal(json_integer_value(json_array_get(s->lines, 0)), 1);
	assert_int_equal(json_integer_value(json_array_get(s->lines, 1)), 3);
	assert_int_equal(json_integer_value(json_array_get(s->lines, 2)), 3);
	assert_int_equal(json_integer_value(json_array_get(s->lines, 3)), 4);
}

static void test_json_errors(void **st)
{
	struct state *s = *st;

	read_fail(s, "{\"a\": 1,\n \"b\": }\n", GV_EPARSE, 2, 7,
		  "unexpected token near '}'");
	/* positions count from the input, not from the failing value */
	read_fail(s, "{\"a\": 1} {\"b\": 2,,}", GV_EPARSE, 1, 18,
		  "string or '}' expected near ','");
	read_fail(s, "{\"a\": 1, \"a\": 2}", GV_EPARSE, 1, 12,
		  "duplicate object key");
}

/* ---- YAML errors ----------------------------------------------------- */

static void test_yaml_syntax_errors(void **st)
{
	struct state *s = *st;

	read_fail(s, "a: b: c\n", GV_EPARSE, 1, 5,
		  "mapping values are not allowed in this context");
	read_fail(s, "a:\n  b: 1\n c: 2\n", GV_EPARSE, 3, 2,
		  "did not find expected key (while parsing a block mapping "
		  "at line 1 column 1)");
	read_fail(s, "a: [1, 2\nb: 3\n", GV_EPARSE, 2, 2,
		  "did not find expected ',' or ']'");
}

static void test_invalid_utf8(void **st)
{
	struct state *s = *st;

	read_fail(s, "a: ok\nb: \xff\n", GV_EPARSE, 2, 4,
		  "input is not valid UTF-8: invalid leading UTF-8 octet "
		  "(0xFF)");
	/* the position is the byte that breaks the sequence: here \n */
	read_fail(s, "a: \xc3\n", GV_EPARSE, 1, 5,
		  "input is not valid UTF-8: invalid trailing UTF-8 octet "
		  "(0x0A)");
	/* columns count characters: é is one */
	read_fail(s, "\xc3\xa9: \xe2\x28\xa1\n", GV_EPARSE, 1, 5,
		  "input is not valid UTF-8: invalid trailing UTF-8 octet "
		  "(0x28)");
}

static void test_embedded_nul_byte(void **st)
{
	struct state *s = *st;
	const char yaml[] = "a: b\0c\n";
	const char json[] = "{\"a\": \"b\0c\"}";

	read_fail_n(s, yaml, sizeof(yaml) - 1, GV_EPARSE, 1, 5,
		    "control character U+0000 is not allowed");
	/* jansson's message and column (one before the NUL) */
	read_fail_n(s, json, sizeof(json) - 1, GV_EPARSE, 1, 8,
		    "control character 0x0");
}

/* ---- limits ---------------------------------------------------------- */

static char *nested(const char *open, const char *close, int n,
		    const char *prefix)
{
	size_t olen = strlen(open);
	size_t clen = strlen(close);
	size_t plen = strlen(prefix);
	char *buf = malloc(plen + (size_t)n * (olen + clen) + 1);
	char *p = buf;

	assert_non_null(buf);
	memcpy(p, prefix, plen);
	p += plen;
	for (int i = 0; i < n; i++, p += olen)
		memcpy(p, open, olen);
	for (int i = 0; i < n; i++, p += clen)
		memcpy(p, close, clen);
	*p = '\0';
	return buf;
}

static void test_depth_limit_json(void **st)
{
	struct state *s = *st;

	s->buf = nested("[", "]", GV_READ_MAX_DEPTH, "");
	read_ok(s, s->buf);
	free(s->buf);
	s->buf = nested("[", "]", GV_READ_MAX_DEPTH + 1, "");
	read_fail(s, s->buf, GV_ETOODEEP, 1, GV_READ_MAX_DEPTH + 1,
		  "nesting is deeper than 128 levels");
}

static void test_depth_limit_yaml(void **st)
{
	struct state *s = *st;

	/* a comment first keeps it YAML */
	s->buf = nested("[", "]", GV_READ_MAX_DEPTH, "#\n");
	read_ok(s, s->buf);
	free(s->buf);
	s->buf = nested("[", "]", GV_READ_MAX_DEPTH + 1, "#\n");
	read_fail(s, s->buf, GV_ETOODEEP, 2, GV_READ_MAX_DEPTH + 1,
		  "nesting is deeper than 128 levels");
	free(s->buf);
	/* each `a: [` opens a mapping and a list: the 65th opens level 129 */
	s->buf = nested("a: [", "]", 100, "");
	read_fail(s, s->buf, GV_ETOODEEP, 1, 64 * 4 + 1,
		  "nesting is deeper than 128 levels");
}

static void test_billion_laughs(void **st)
{
	struct state *s = *st;
	uint64_t t0 = 0;
	const char *bomb = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol]\n"
			   "b: &b [*a, *a, *a, *a, *a, *a, *a, *a]\n"
			   "c: &c [*b, *b, *b, *b, *b, *b, *b, *b]\n"
			   "d: &d [*c, *c, *c, *c, *c, *c, *c, *c]\n"
			   "e: &e [*d, *d, *d, *d, *d, *d, *d, *d]\n"
			   "f: &f [*e, *e, *e, *e, *e, *e, *e, *e]\n"
			   "g: &g [*f, *f, *f, *f, *f, *f, *f, *f]\n"
			   "h: &h [*g, *g, *g, *g, *g, *g, *g, *g]\n"
			   "i: &i [*h, *h, *h, *h, *h, *h, *h, *h]\n"
			   "j: &j [*i, *i, *i, *i, *i, *i, *i, *i]\n";

	t0 = gv_now_ns();
	/* a..g count 2.7 Mi nodes, the first *g (2.4 Mi more) passes 4 Mi */
	read_fail(s, bomb, GV_ETOOBIG, 8, 8,
		  "too many nodes: more than 4194304 with aliases expanded");
	assert_true(seconds_since(t0) < 1.0);
}

static void test_oversize_rejected_unread(void **st)
{
	struct state *s = *st;
	const char tiny[] = "a: 1";

	/*
	 * len lies: the buffer is 4 bytes. gv_read_documents must refuse on
	 * len alone, before reading a byte (ASan would catch a read).
	 */
	read_fail_n(s, tiny, GV_READ_MAX_BYTES + 1, GV_ETOOBIG, 0, 0,
		    "input is too large");
}

static void test_large_flat_list(void **st)
{
	struct state *s = *st;
	const size_t items = 500000;
	uint64_t t0 = 0;
	double took;

	s->buf = malloc(items * 4 + 1);
	assert_non_null(s->buf);
	for (size_t i = 0; i < items; i++)
		memcpy(s->buf + i * 4, "- a\n", 4);
	s->buf[items * 4] = '\0';
	t0 = gv_now_ns();
	read_ok(s, s->buf);
	took = seconds_since(t0);
	assert_int_equal(json_array_size(json_array_get(s->docs, 0)), items);
	/* linear: ~0.15 s here under ASan; quadratic would take minutes */
	assert_true(took < 5.0);
}

static void test_large_map(void **st)
{
	struct state *s = *st;
	const size_t keys = 100000;
	size_t used = 0;
	uint64_t t0 = 0;

	s->buf = malloc(keys * 16 + 1);
	assert_non_null(s->buf);
	for (size_t i = 0; i < keys; i++)
		used += (size_t)snprintf(s->buf + used, 17, "k%zu: 1\n", i);
	t0 = gv_now_ns();
	read_ok(s, s->buf);
	assert_int_equal(json_object_size(json_array_get(s->docs, 0)), keys);
	assert_true(seconds_since(t0) < 5.0);
}

static void test_out_params_untouched(void **st)
{
	struct state *s = *st;
	json_t *sentinel = json_string("untouched");
	json_t *docs = sentinel;
	json_t *lines = sentinel;
	const char *bad[] = { "a: b: c", "{\"a\":}", "a: *x", "a: .inf",
			      "a: 1\na: 2" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(gv_read_documents(bad[i], strlen(bad[i]), "t",
						   &docs, &lines, &s->err),
				 GV_EPARSE);
		assert_ptr_equal(docs, sentinel);
		assert_ptr_equal(lines, sentinel);
	}
	json_decref(sentinel);
}

static void test_bad_arguments(void **st)
{
	struct state *s = *st;

	assert_int_equal(gv_read_documents("a", 1, "t", NULL, NULL, &s->err),
			 GV_EINVAL);
	assert_int_equal(
	    gv_read_documents(NULL, 1, "t", &s->docs, NULL, &s->err),
	    GV_EINVAL);
	assert_null(s->docs);
	/* NULL with length 0 is an empty input */
	assert_int_equal(
	    gv_read_documents(NULL, 0, "t", &s->docs, NULL, &s->err), GV_OK);
	assert_int_equal(json_array_size(s->docs), 0);
}

/* ---- real manifests -------------------------------------------------- */

static void test_fixture_podcliqueset(void **st)
{
	struct state *s = *st;
	size_t len = 0;
	json_t *doc;

	s->buf = slurp(FIXTURES "vllm-disaggregated.yaml", &len);
	assert_int_equal(gv_read_documents(s->buf, len, "vllm", &s->docs,
					   &s->lines, &s->err),
			 GV_OK);
	assert_int_equal(json_array_size(s->docs), 1);
	assert_int_equal(json_integer_value(json_array_get(s->lines, 0)), 3);
	doc = json_array_get(s->docs, 0);
	assert_string_equal(json_string_value(at(doc, "kind")), "PodCliqueSet");
	assert_int_equal(json_array_size(at(doc, "spec.podCliques")), 3);
	assert_int_equal(
	    json_integer_value(at(doc, "spec.podCliques.2.replicas")), 2);
	assert_int_equal(
	    json_integer_value(at(doc, "spec.scaling.maxReplicas")), 4);
	assert_string_equal(
	    json_string_value(at(doc, "spec.podCliques.1.containers.0.args.5")),
	    "{\"kv_connector\":\"NixlConnector\",\"kv_role\":"
	    "\"kv_producer\"}");
}

static void test_fixture_multi_document(void **st)
{
	struct state *s = *st;
	size_t len = 0;
	json_t *expr;

	s->buf = slurp(FIXTURES "claim-templates.yaml", &len);
	assert_int_equal(gv_read_documents(s->buf, len, "claims", &s->docs,
					   &s->lines, &s->err),
			 GV_OK);
	assert_int_equal(json_array_size(s->docs), 2);
	assert_int_equal(json_integer_value(json_array_get(s->lines, 0)), 7);
	assert_int_equal(json_integer_value(json_array_get(s->lines, 1)), 24);
	expr = at(json_array_get(s->docs, 1),
		  "spec.spec.devices.requests.0.exactly.selectors.0.cel."
		  "expression");
	/* folded, stripped: one line, no final newline */
	assert_non_null(json_string_value(expr));
	assert_null(strchr(json_string_value(expr), '\n'));
	assert_non_null(strstr(json_string_value(expr), "NVIDIA H200\") && "));
}

static void test_fixture_service(void **st)
{
	struct state *s = *st;
	size_t len = 0;
	json_t *port;

	s->buf = slurp(FIXTURES "router-service.yaml", &len);
	assert_int_equal(
	    gv_read_documents(s->buf, len, "svc", &s->docs, &s->lines, &s->err),
	    GV_OK);
	port = at(json_array_get(s->docs, 0), "spec.ports.0");
	assert_int_equal(json_integer_value(json_object_get(port, "port")),
			 8000);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_multi_document_lines),
		T(test_implicit_document_line),
		T(test_empty_inputs),
		T(test_not_nul_terminated),
		T(test_lines_out_optional),
		T(test_anchors_share_values),
		T(test_anchors_are_per_document),
		T(test_merge_keys),
		T(test_merge_bad_value),
		T(test_undefined_alias),
		T(test_alias_inside_itself),
		T(test_scalar_resolution),
		T(test_quoted_yes_is_string),
		T(test_explicit_tags),
		T(test_inf_nan_rejected),
		T(test_block_scalars),
		T(test_flow_collections),
		T(test_embedded_nul_escape),
		T(test_scalar_keys),
		T(test_bad_keys),
		T(test_duplicate_key),
		T(test_json_object),
		T(test_json_stream),
		T(test_json_errors),
		T(test_yaml_syntax_errors),
		T(test_invalid_utf8),
		T(test_embedded_nul_byte),
		T(test_depth_limit_json),
		T(test_depth_limit_yaml),
		T(test_billion_laughs),
		T(test_oversize_rejected_unread),
		T(test_large_flat_list),
		T(test_large_map),
		T(test_out_params_untouched),
		T(test_bad_arguments),
		T(test_fixture_podcliqueset),
		T(test_fixture_multi_document),
		T(test_fixture_service),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
