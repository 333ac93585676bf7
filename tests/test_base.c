/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_base.c: the base layer on its own: gv_buf (limits, sticky failure,
 * too big told from out of memory, printf, fixed buffers, detach), the
 * JSON string escaper (every control byte, DEL, invalid and truncated
 * UTF-8, cuts that never split a character), the bounded file reader (at,
 * under and over the limit, missing files, FIFOs, pipes) and the clocks.
 *
 * malloc and realloc are wrapped at link time (-Wl,--wrap) so a test can
 * fail the next allocation, or count them.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "groved/gv.h"
#include "groved/gv_buf.h"
#include "groved/gv_file.h"
#include "groved/gv_json.h"
#include "groved/gv_time.h"

void *__real_malloc(size_t size);
void *__real_realloc(void *p, size_t size);
void *__wrap_malloc(size_t size);
void *__wrap_realloc(void *p, size_t size);

/* The wrappers' state; tests run one at a time. */
static long fail_after = -1; /* allocations left before one fails; -1 off */
static long allocations; /* counted while >= 0 */

static bool alloc_fails(void)
{
	allocations++;
	if (fail_after < 0)
		return false;
	return fail_after-- == 0;
}

void *__wrap_malloc(size_t size)
{
	return alloc_fails() ? NULL : __real_malloc(size);
}

void *__wrap_realloc(void *p, size_t size)
{
	return alloc_fails() ? NULL : __real_realloc(p, size);
}

/* ---- gv_buf ---------------------------------------------------------- */

static void test_buf_basics(void **state)
{
	gv_buf b = GV_BUF_INIT(100);

	(void)state;
	assert_null(b.s);
	assert_string_equal(gv_buf_str(&b), "");
	assert_int_equal(gv_buf_add(&b, "", 0), GV_OK);
	assert_int_equal(gv_buf_addstr(&b, "abc"), GV_OK);
	assert_int_equal(gv_buf_addch(&b, '-'), GV_OK);
	assert_int_equal(gv_buf_add(&b, "x\0y", 3), GV_OK);
	assert_int_equal(b.len, 7);
	assert_memory_equal(b.s, "abc-x\0y", 8); /* and the NUL after */
	assert_false(b.failed);
	gv_buf_truncate(&b, 3);
	assert_string_equal(b.s, "abc");
	gv_buf_truncate(&b, 10); /* longer: ignored */
	assert_int_equal(b.len, 3);
	gv_buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal(gv_buf_str(&b), "");
	gv_buf_release(&b);
	assert_null(b.s);
	assert_int_equal(b.max, 100);
	gv_buf_release(NULL);
}

/* A buffer takes exactly max bytes; one more fails, as too big. */
static void test_buf_limit(void **state)
{
	gv_buf b;
	char big[65];

	(void)state;
	memset(big, 'a', sizeof(big));
	gv_buf_init(&b, 64);
	assert_int_equal(gv_buf_add(&b, big, 64), GV_OK);
	assert_int_equal(b.len, 64);
	assert_int_equal(gv_buf_addch(&b, 'b'), GV_ETOOBIG);
	assert_true(b.failed);
	assert_true(b.toobig);
	assert_int_equal(gv_buf_rc(&b), GV_ETOOBIG);
	/* the text stays what fitted */
	assert_int_equal(b.len, 64);
	assert_memory_equal(b.s, big, 64);
	assert_int_equal(b.s[64], '\0');
	gv_buf_release(&b);

	/* one append larger than max, into an empty buffer */
	gv_buf_init(&b, 64);
	assert_int_equal(gv_buf_add(&b, big, 65), GV_ETOOBIG);
	assert_int_equal(b.len, 0);
	gv_buf_release(&b);

	/* max 0: only nothing fits */
	gv_buf_init(&b, 0);
	assert_int_equal(gv_buf_add(&b, "", 0), GV_OK);
	assert_int_equal(gv_buf_addch(&b, 'x'), GV_ETOOBIG);
	gv_buf_release(&b);
	assert_false(b.failed); /* release clears it */
}

/* After a failure every append is a no-op with the same code, until a
 * reset or release. */
static void test_buf_sticky(void **state)
{
	gv_buf b = GV_BUF_INIT(8);

	(void)state;
	assert_int_equal(gv_buf_addstr(&b, "12345"), GV_OK);
	assert_int_equal(gv_buf_addstr(&b, "6789"), GV_ETOOBIG);
	assert_int_equal(gv_buf_addstr(&b, "6"), GV_ETOOBIG); /* would fit */
	assert_int_equal(gv_buf_printf(&b, "%d", 7), GV_ETOOBIG);
	assert_int_equal(gv_buf_grow(&b, 1), GV_ETOOBIG);
	assert_string_equal(b.s, "12345");
	gv_buf_truncate(&b, 2); /* undoes text, not the failure */
	assert_true(b.failed);
	assert_int_equal(gv_buf_addch(&b, 'x'), GV_ETOOBIG);
	gv_buf_reset(&b);
	assert_false(b.failed);
	assert_false(b.toobig);
	assert_int_equal(gv_buf_addstr(&b, "6"), GV_OK);
	assert_string_equal(b.s, "6");
	gv_buf_release(&b);
}

/* Out of memory is GV_ENOMEM with toobig clear, never taken for an input
 * that is too large, and sticky too. */
static void test_buf_oom(void **state)
{
	gv_buf b = GV_BUF_INIT(1 << 20);
	char *s = NULL;

	(void)state;
	fail_after = 0;
	assert_int_equal(gv_buf_addstr(&b, "x"), GV_ENOMEM);
	fail_after = -1;
	assert_true(b.failed);
	assert_false(b.toobig);
	assert_int_equal(gv_buf_rc(&b), GV_ENOMEM);
	assert_int_equal(gv_buf_addstr(&b, "x"), GV_ENOMEM); /* sticky */
	assert_null(gv_buf_detach(&b, NULL));
	assert_false(b.failed); /* detach of a failed buffer clears it */

	/* growth that fails keeps what was there */
	assert_int_equal(gv_buf_addstr(&b, "kept"), GV_OK);
	fail_after = 0;
	assert_int_equal(gv_buf_grow(&b, 4096), GV_ENOMEM);
	fail_after = -1;
	assert_string_equal(b.s, "kept");
	gv_buf_release(&b);

	/* both limits at once: over max wins, as no allocation is tried */
	gv_buf_init(&b, 4);
	fail_after = 0;
	assert_int_equal(gv_buf_addstr(&b, "12345"), GV_ETOOBIG);
	assert_int_equal(fail_after, 0); /* not consumed */
	fail_after = -1;
	gv_buf_release(&b);

	/* detach of an empty buffer allocates its "" */
	fail_after = 0;
	s = gv_buf_detach(&b, NULL);
	fail_after = -1;
	assert_null(s);
}

/* A bounded value copied into another buffer: whole, cut with a marker
 * on a character boundary when it grew too big, refused when out of
 * memory. */
static void test_buf_add_cut(void **state)
{
	gv_buf src = GV_BUF_INIT(6);
	gv_buf dst = GV_BUF_INIT(1 << 20);

	(void)state;
	assert_int_equal(gv_buf_addstr(&src, "abc"), GV_OK);
	assert_int_equal(gv_buf_add_cut(&dst, &src, "..."), GV_OK);
	assert_string_equal(gv_buf_str(&dst), "abc");
	gv_buf_reset(&dst);

	/* "ab" + two 2-byte characters = 6 bytes fit; the third does not,
	 * and a cut never splits one */
	gv_buf_reset(&src);
	assert_int_equal(gv_buf_addstr(&src, "ab\xc3\xa9\xc3\xa9"), GV_OK);
	assert_int_equal(gv_buf_addstr(&src, "\xc3\xa9"), GV_ETOOBIG);
	assert_int_equal(gv_buf_add_cut(&dst, &src, "..."), GV_OK);
	assert_string_equal(gv_buf_str(&dst), "ab\xc3\xa9\xc3\xa9...");
	gv_buf_release(&src);
	gv_buf_reset(&dst);

	/* a source that ran out of memory: nothing appended */
	gv_buf_init(&src, 64);
	fail_after = 0;
	assert_int_equal(gv_buf_addstr(&src, "x"), GV_ENOMEM);
	fail_after = -1;
	assert_int_equal(gv_buf_add_cut(&dst, &src, "..."), GV_ENOMEM);
	assert_int_equal(dst.len, 0);
	gv_buf_release(&src);
	gv_buf_release(&dst);
}

static void test_buf_printf(void **state)
{
	gv_buf b = GV_BUF_INIT(32);
	char want[33];

	(void)state;
	assert_int_equal(gv_buf_printf(&b, "%s=%d", "a", 42), GV_OK);
	assert_int_equal(gv_buf_printf(&b, ",%05.1f,%c", 3.14159, 'z'), GV_OK);
	assert_string_equal(b.s, "a=42,003.1,z");
	assert_int_equal(b.len, strlen("a=42,003.1,z"));
	/* exactly to max, then one past it */
	gv_buf_reset(&b);
	memset(want, 'q', 32);
	want[32] = '\0';
	assert_int_equal(gv_buf_printf(&b, "%s", want), GV_OK);
	assert_int_equal(b.len, 32);
	gv_buf_reset(&b);
	assert_int_equal(gv_buf_printf(&b, "%s!", want), GV_ETOOBIG);
	assert_int_equal(b.len, 0);
	gv_buf_release(&b);
}

static void test_buf_detach(void **state)
{
	gv_buf b = GV_BUF_INIT(64);
	char *s = NULL;
	size_t len = 0;

	(void)state;
	s = gv_buf_detach(&b, &len);
	assert_string_equal(s, "");
	assert_int_equal(len, 0);
	free(s);
	gv_buf_addstr(&b, "hello");
	s = gv_buf_detach(&b, &len);
	assert_string_equal(s, "hello");
	assert_int_equal(len, 5);
	assert_null(b.s); /* b is empty, and usable */
	assert_int_equal(b.len, 0);
	assert_int_equal(b.max, 64);
	free(s);
	assert_int_equal(gv_buf_addstr(&b, "again"), GV_OK);
	assert_string_equal(b.s, "again");
	gv_buf_release(&b);
	/* a failed buffer gives nothing */
	gv_buf_init(&b, 2);
	gv_buf_addstr(&b, "abc");
	assert_null(gv_buf_detach(&b, &len));
	assert_int_equal(len, 5); /* untouched */
	gv_buf_release(&b);
}

/* A fixed buffer writes into the caller's array and never allocates. */
static void test_buf_fixed(void **state)
{
	char mem[8];
	gv_buf b;
	char *copy = NULL;

	(void)state;
	gv_buf_init_fixed(&b, mem, sizeof(mem));
	assert_ptr_equal(b.s, mem);
	assert_int_equal(b.max, 7);
	allocations = 0;
	assert_int_equal(gv_buf_addstr(&b, "1234"), GV_OK);
	assert_int_equal(gv_buf_printf(&b, "%d", 567), GV_OK);
	assert_int_equal(allocations, 0);
	assert_string_equal(mem, "1234567");
	assert_int_equal(gv_buf_addch(&b, '8'), GV_ETOOBIG);
	assert_true(b.toobig);
	assert_string_equal(mem, "1234567");
	copy = gv_buf_detach(&b, NULL);
	assert_null(copy); /* failed */
	assert_ptr_equal(b.s, mem); /* still over the array */
	assert_int_equal(gv_buf_addstr(&b, "ab"), GV_OK);
	copy = gv_buf_detach(&b, NULL);
	assert_string_equal(copy, "ab");
	assert_true(copy != mem);
	free(copy);
	assert_int_equal(b.len, 0);
	assert_ptr_equal(b.s, mem);
	gv_buf_release(&b);
	assert_ptr_equal(b.s, mem);
	assert_int_equal(allocations, 1); /* the copy only */
}

static void test_buf_grow(void **state)
{
	gv_buf b = GV_BUF_INIT(1000);
	char *before = NULL;
	char chunk[100];

	(void)state;
	memset(chunk, 'g', sizeof(chunk));
	assert_int_equal(gv_buf_grow(&b, 1000), GV_OK);
	assert_string_equal(b.s, "");
	before = b.s;
	allocations = 0;
	for (int i = 0; i < 10; i++)
		assert_int_equal(gv_buf_add(&b, chunk, sizeof(chunk)), GV_OK);
	assert_int_equal(allocations, 0);
	assert_ptr_equal(b.s, before);
	assert_int_equal(b.len, 1000);
	gv_buf_release(&b);
	gv_buf_init(&b, 10);
	assert_int_equal(gv_buf_grow(&b, 11), GV_ETOOBIG);
	gv_buf_release(&b);
}

/* gv_buf_add_base64 appends RFC 4648 base64 (the vectors of its section
 * 10), round-trips through gv_base64_decode, and fails as gv_buf_add. */
static void test_buf_base64(void **state)
{
	static const char *const vectors[][2] = {
		{ "", "" },
		{ "f", "Zg==" },
		{ "fo", "Zm8=" },
		{ "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" },
		{ "fooba", "Zm9vYmE=" },
		{ "foobar", "Zm9vYmFy" },
	};
	unsigned char all[256];
	gv_buf b = GV_BUF_INIT(1 << 20);
	char *back = NULL;
	size_t len = 0;
	size_t bad_at = 0;
	size_t i = 0;

	(void)state;
	for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		gv_buf_reset(&b);
		assert_int_equal(gv_buf_addstr(&b, "<"), GV_OK);
		assert_int_equal(
		    gv_buf_add_base64(&b, vectors[i][0], strlen(vectors[i][0])),
		    GV_OK);
		assert_int_equal(gv_buf_addstr(&b, ">"), GV_OK);
		assert_int_equal(b.len, strlen(vectors[i][1]) + 2);
		assert_memory_equal(b.s + 1, vectors[i][1],
				    strlen(vectors[i][1]));
		assert_string_equal(b.s + b.len - 1, ">");
	}
	/* every byte value, and the same text as gv_base64_encode */
	for (i = 0; i < sizeof(all); i++)
		all[i] = (unsigned char)i;
	gv_buf_reset(&b);
	assert_int_equal(gv_buf_add_base64(&b, all, sizeof(all)), GV_OK);
	back = gv_base64_encode(all, sizeof(all));
	assert_non_null(back);
	assert_string_equal(b.s, back);
	free(back);
	back = NULL;
	assert_int_equal(gv_base64_decode(b.s, b.len, &back, &len, &bad_at),
			 GV_OK);
	assert_int_equal(len, sizeof(all));
	assert_memory_equal(back, all, sizeof(all));
	free(back);
	gv_buf_release(&b);

	/* over max: too big, the text stays what fitted */
	gv_buf_init(&b, 8);
	assert_int_equal(gv_buf_addstr(&b, "ab"), GV_OK);
	assert_int_equal(gv_buf_add_base64(&b, "foobar", 6), GV_ETOOBIG);
	assert_string_equal(b.s, "ab");
	assert_int_equal(gv_buf_add_base64(&b, "", 0), GV_ETOOBIG); /* sticky */
	gv_buf_release(&b);
	/* out of memory */
	fail_after = 0;
	assert_int_equal(gv_buf_add_base64(&b, "f", 1), GV_ENOMEM);
	fail_after = -1;
	assert_false(b.toobig);
	gv_buf_release(&b);
	/* a maximum of SIZE_MAX leaves no room for an append of SIZE_MAX */
	gv_buf_init(&b, SIZE_MAX);
	assert_int_equal(gv_buf_grow(&b, SIZE_MAX), GV_ETOOBIG);
	gv_buf_release(&b);
}

/* gv_utf8_cut never ends inside a character. */
static void test_utf8_cut(void **state)
{
	(void)state;
	assert_int_equal(gv_utf8_cut("", 0), 0);
	assert_int_equal(gv_utf8_cut("ab", 2), 2);
	assert_int_equal(gv_utf8_cut("ab", 1), 1);
	assert_int_equal(gv_utf8_cut("a\xc3\xa9", 3), 3); /* é whole */
	assert_int_equal(gv_utf8_cut("a\xc3\xa9", 2), 1); /* é cut */
	assert_int_equal(gv_utf8_cut("a\xe2\x82\xac", 3), 1); /* € cut */
	assert_int_equal(gv_utf8_cut("a\xe2\x82\xac", 2), 1);
	assert_int_equal(gv_utf8_cut("a\xf0\x9f\x98\x80", 4), 1);
	assert_int_equal(gv_utf8_cut("a\xf0\x9f\x98\x80", 5), 5);
	assert_int_equal(gv_utf8_cut("\xc3\xa9\xc3\xa9", 3), 2);
}

/* ---- gv_json_escape -------------------------------------------------- */

/* s[0..n) escaped with o; fails the test unless the result is rc. The
 * text is returned in a new string (NULL when rc is not GV_OK). */
static char *esc(const char *s, size_t n, const gv_json_esc *o, int want_rc,
		 bool *cut)
{
	gv_buf b = GV_BUF_INIT(1 << 20);
	int rc = gv_json_escape(&b, s, n, o, cut);

	assert_int_equal(rc, want_rc);
	if (rc != GV_OK) {
		assert_int_equal(b.len, 0); /* nothing appended */
		assert_false(b.failed);
		gv_buf_release(&b);
		return NULL;
	}
	return gv_buf_detach(&b, NULL);
}

/* The string a JSON string text decodes to (jansson's parser, which
 * checks UTF-8 too); fails the test when it is not one. */
static json_t *decode(const char *text)
{
	json_error_t jerr;
	json_t *v = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);

	if (!json_is_string(v))
		print_error("not a JSON string: %s (%s)\n", text, jerr.text);
	assert_true(json_is_string(v));
	return v;
}

static void check_esc(const char *in, size_t n, const char *want)
{
	char *got = esc(in, n, NULL, GV_OK, NULL);

	assert_string_equal(got, want);
	free(got);
}

/* Every byte below 0x20, and DEL: named escapes where JSON has them. */
static void test_escape_controls(void **state)
{
	(void)state;
	for (unsigned c = 0; c < 0x20; c++) {
		char in[1] = { (char)c };
		char want[16];
		char *got = NULL;
		json_t *v = NULL;

		switch (c) {
		case '\b':
			snprintf(want, sizeof(want), "\"\\b\"");
			break;
		case '\f':
			snprintf(want, sizeof(want), "\"\\f\"");
			break;
		case '\n':
			snprintf(want, sizeof(want), "\"\\n\"");
			break;
		case '\r':
			snprintf(want, sizeof(want), "\"\\r\"");
			break;
		case '\t':
			snprintf(want, sizeof(want), "\"\\t\"");
			break;
		default:
			snprintf(want, sizeof(want), "\"\\u%04x\"", c);
		}
		got = esc(in, 1, NULL, GV_OK, NULL);
		assert_string_equal(got, want);
		v = decode(got);
		assert_int_equal(json_string_length(v), 1);
		assert_int_equal((unsigned char)json_string_value(v)[0], c);
		json_decref(v);
		free(got);
	}
	check_esc("\x7f", 1, "\"\\u007f\"");
	check_esc("\"", 1, "\"\\\"\"");
	check_esc("\\", 1, "\"\\\\\"");
	check_esc("a\0b", 3, "\"a\\u0000b\"");
	check_esc("", 0, "\"\"");
}

/* Printable ASCII and valid UTF-8 are copied as they are. */
static void test_escape_plain(void **state)
{
	char ascii[0x7f - 0x20 + 1];
	gv_buf want = GV_BUF_INIT(1024);
	const char *utf8 = "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"
			   "\xdf\xbf\xef\xbf\xbf\xf4\x8f\xbf\xbf";
	size_t n = 0;

	(void)state;
	gv_buf_addch(&want, '"');
	for (unsigned c = 0x20; c < 0x7f; c++) {
		ascii[n++] = (char)c;
		if (c == '"' || c == '\\')
			gv_buf_addch(&want, '\\');
		gv_buf_addch(&want, (char)c);
	}
	gv_buf_addch(&want, '"');
	check_esc(ascii, n, want.s);
	gv_buf_release(&want);
	gv_buf_init(&want, 1024);
	gv_buf_printf(&want, "\"%s\"", utf8);
	check_esc(utf8, strlen(utf8), want.s);
	gv_buf_release(&want);
}

/* Each byte that starts no valid sequence becomes one U+FFFD; the strict
 * option refuses the string instead, appending nothing. */
static void test_escape_invalid_utf8(void **state)
{
	static const struct {
		const char *in;
		const char *want;
	} cases[] = {
		{ "\x80", "\"\\ufffd\"" }, /* a lone continuation */
		{ "a\xc0\xafz", "\"a\\ufffd\\ufffdz\"" }, /* overlong '/' */
		{ "\xc1\xbf", "\"\\ufffd\\ufffd\"" }, /* overlong */
		{ "\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\"" }, /* overlong */
		{ "\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"" }, /* surrogate */
		{ "\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"" },
		{ "\xf5\x80", "\"\\ufffd\\ufffd\"" }, /* bad lead */
		{ "\xff", "\"\\ufffd\"" },
		{ "ok\xe2\x82", "\"ok\\ufffd\\ufffd\"" }, /* cut short */
		{ "\xe2\x82z", "\"\\ufffd\\ufffdz\"" }, /* interrupted */
		{ "\xf0\x9f\x98", "\"\\ufffd\\ufffd\\ufffd\"" },
		{ "\xc3\xa9\xc3", "\"\xc3\xa9\\ufffd\"" },
	};
	gv_json_esc strict = { .strict = true };
	gv_buf b = GV_BUF_INIT(64);

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got =
		    esc(cases[i].in, strlen(cases[i].in), NULL, GV_OK, NULL);
		json_t *v = NULL;

		assert_string_equal(got, cases[i].want);
		v = decode(got); /* valid JSON, valid UTF-8 */
		json_decref(v);
		free(got);
		assert_null(esc(cases[i].in, strlen(cases[i].in), &strict,
				GV_EINVAL, NULL));
	}
	/* strict and valid: the same text as without */
	check_esc("\xc3\xa9", 2, "\"\xc3\xa9\"");
	free(esc("\xc3\xa9", 2, &strict, GV_OK, NULL));
	/* refused in strict mode even past a cut */
	strict.max = 4;
	assert_null(esc("abcdef\xff", 7, &strict, GV_EINVAL, NULL));
	/* what b held before stays */
	gv_buf_addstr(&b, "x");
	assert_int_equal(gv_json_escape(&b, "\xff", 1,
					&(gv_json_esc){ .strict = true }, NULL),
			 GV_EINVAL);
	assert_string_equal(b.s, "x");
	gv_buf_release(&b);
}

/*
 * Cut at every length: the text never exceeds max, is always a valid
 * JSON string (so no character or escape was split: the decoder checks
 * UTF-8), decodes to a prefix of what the whole text decodes to, is the
 * whole text exactly when it fits, and ends in the marker when cut.
 */
static void check_cuts(const char *in, size_t n, const char *marker)
{
	gv_json_esc o = { .marker = marker };
	char *whole = esc(in, n, NULL, GV_OK, NULL);
	json_t *wv = decode(whole); /* in, U+FFFD for its invalid bytes */
	size_t full = strlen(whole);
	size_t mlen = marker ? strlen(marker) : 0;
	size_t prev = 0;

	/* max 0 is no limit */
	free(esc(in, n, &o, GV_OK, NULL));
	for (size_t max = 1; max <= full + 2; max++) {
		bool cut = false;
		char *got = NULL;
		json_t *v = NULL;
		size_t dn = 0;

		o.max = max;
		if (max < 2 || (max < full && max < 2 + mlen)) {
			assert_null(esc(in, n, &o, GV_ETOOBIG, &cut));
			continue;
		}
		got = esc(in, n, &o, GV_OK, &cut);
		assert_true(strlen(got) <= max);
		assert_true(cut == (max < full));
		if (!cut)
			assert_string_equal(got, whole);
		if (cut && mlen) {
			size_t gl = strlen(got);

			assert_true(gl >= mlen + 1);
			assert_memory_equal(got + gl - 1 - mlen, marker, mlen);
		}
		v = decode(got);
		dn = json_string_length(v) - (cut ? mlen : 0);
		assert_true(dn <= json_string_length(wv));
		assert_memory_equal(json_string_value(v), json_string_value(wv),
				    dn);
		/* more room never keeps less */
		assert_true(dn >= prev || !cut);
		prev = cut ? dn : prev;
		json_decref(v);
		free(got);
	}
	json_decref(wv);
	free(whole);
}

static void test_escape_cut(void **state)
{
	static const char mixed[] = "a\xc3\xa9\xe2\x82\xac\n\"\xf0\x9f\x98\x80"
				    "\x01z\xc3\xa9\\\x7f";

	(void)state;
	check_cuts(mixed, sizeof(mixed) - 1, NULL);
	check_cuts(mixed, sizeof(mixed) - 1, "...");
	check_cuts("\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac", 9, NULL);
	check_cuts("\xf0\x9f\x98\x80\xf0\x9f\x98\x80", 8, "\xe2\x80\xa6");
	check_cuts("\x01\x02\x03\x04", 4, NULL); /* 6-byte escapes */
	check_cuts("\xff\xfe\xc3\xa9", 4, NULL); /* U+FFFD escapes */
	check_cuts("plain ascii text", 16, "...");
	check_cuts("", 0, "...");
}

static void test_escape_options(void **state)
{
	gv_json_esc bare = { .bare = true };
	gv_buf b = GV_BUF_INIT(64);
	bool cut = true;
	char *got = NULL;

	(void)state;
	got = esc("a\"b", 3, &bare, GV_OK, &cut);
	assert_string_equal(got, "a\\\"b");
	assert_false(cut);
	free(got);
	/* pieces of one string */
	gv_buf_addch(&b, '"');
	gv_json_escape(&b, "x\n", 2, &bare, NULL);
	gv_json_escape(&b, "\xc3\xa9", 2, &bare, NULL);
	gv_buf_addch(&b, '"');
	assert_string_equal(b.s, "\"x\\n\xc3\xa9\"");
	gv_buf_release(&b);
	/* the default, NUL-terminated */
	gv_buf_init(&b, 64);
	assert_int_equal(gv_json_escape_str(&b, "t\tu"), GV_OK);
	assert_string_equal(b.s, "\"t\\tu\"");
	gv_buf_release(&b);
}

/* The escaper fails with its buffer: past b->max it is GV_ETOOBIG and
 * sticky; out of memory is GV_ENOMEM. */
static void test_escape_buffer_failure(void **state)
{
	gv_buf b = GV_BUF_INIT(5);

	(void)state;
	assert_int_equal(gv_json_escape_str(&b, "abc"), GV_OK);
	assert_string_equal(b.s, "\"abc\"");
	assert_int_equal(gv_json_escape_str(&b, "d"), GV_ETOOBIG);
	assert_true(b.toobig);
	assert_int_equal(gv_json_escape_str(&b, ""), GV_ETOOBIG);
	gv_buf_release(&b);
	gv_buf_init(&b, 1024);
	fail_after = 0;
	assert_int_equal(gv_json_escape_str(&b, "abc"), GV_ENOMEM);
	fail_after = -1;
	assert_true(b.failed);
	assert_false(b.toobig);
	gv_buf_release(&b);
}

/* ---- gv_read_file ---------------------------------------------------- */

typedef struct dir_fixture {
	char dir[64];
	char path[128];
} dir_fixture;

static int dir_setup(void **state)
{
	dir_fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_base.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/file", f->dir);
	*state = f;
	return 0;
}

static int dir_teardown(void **state)
{
	dir_fixture *f = *state;
	char fifo[160];

	snprintf(fifo, sizeof(fifo), "%s/fifo", f->dir);
	unlink(f->path);
	unlink(fifo);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void write_file(const char *path, size_t n)
{
	FILE *fp = fopen(path, "wb");

	assert_non_null(fp);
	for (size_t i = 0; i < n; i++)
		fputc('a' + (int)(i % 26), fp);
	assert_int_equal(fclose(fp), 0);
}

static void check_content(const char *data, size_t len, size_t want)
{
	assert_int_equal(len, want);
	assert_int_equal(data[len], '\0');
	for (size_t i = 0; i < len; i++)
		assert_int_equal(data[i], 'a' + (int)(i % 26));
}

static void test_read_limits(void **state)
{
	dir_fixture *f = *state;
	gv_error_t err = GV_ERROR_INIT;
	char *data = NULL;
	size_t len = 0;

	/* under, at */
	write_file(f->path, 999);
	assert_int_equal(gv_read_file_max(f->path, 1000, &data, &len, &err),
			 GV_OK);
	check_content(data, len, 999);
	free(data);
	write_file(f->path, 1000);
	assert_int_equal(gv_read_file_max(f->path, 1000, &data, &len, &err),
			 GV_OK);
	check_content(data, len, 1000);
	free(data);
	/* over by one: out-params untouched, the file named */
	data = (char *)"untouched";
	len = 7;
	write_file(f->path, 1001);
	assert_int_equal(gv_read_file_max(f->path, 1000, &data, &len, &err),
			 GV_ETOOBIG);
	assert_string_equal(data, "untouched");
	assert_int_equal(len, 7);
	assert_string_equal(err.source, f->path);
	assert_string_equal(err.text, "file is larger than 1000 bytes");
	/* empty */
	write_file(f->path, 0);
	assert_int_equal(gv_read_file_max(f->path, 1000, &data, &len, &err),
			 GV_OK);
	assert_int_equal(len, 0);
	assert_string_equal(data, "");
	free(data);
	/* max 0 and an empty file */
	assert_int_equal(gv_read_file_max(f->path, 0, &data, &len, &err),
			 GV_OK);
	free(data);
}

static void test_read_failures(void **state)
{
	dir_fixture *f = *state;
	gv_error_t err = GV_ERROR_INIT;
	gv_read_opts o = { .what = "kubeconfig" };
	char want[256];
	char fifo[160];
	char *data = NULL;
	size_t len = 0;

	assert_int_equal(gv_read_file_max(f->path, 10, &data, &len, &err),
			 GV_ENOTFOUND);
	assert_string_equal(err.source, f->path);
	assert_string_equal(err.text, "cannot open: No such file or directory");
	assert_int_equal(gv_read_file(f->path, 10, &o, &data, &len, &err),
			 GV_ENOTFOUND);
	snprintf(want, sizeof(want),
		 "cannot read kubeconfig '%s': No such file or directory",
		 f->path);
	assert_string_equal(err.text, want);
	/* too large, with a role */
	write_file(f->path, 11);
	assert_int_equal(gv_read_file(f->path, 10, &o, &data, &len, &err),
			 GV_ETOOBIG);
	snprintf(want, sizeof(want),
		 "cannot read kubeconfig '%s': larger than 10 bytes", f->path);
	assert_string_equal(err.text, want);
	/* a directory opens but does not read */
	assert_int_equal(gv_read_file_max(f->dir, 10, &data, &len, &err),
			 GV_EIO);
	assert_string_equal(err.text, "cannot read: Is a directory");
	/* a FIFO is refused before it can block */
	snprintf(fifo, sizeof(fifo), "%s/fifo", f->dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	o.what = "certificate";
	o.regular = true;
	assert_int_equal(gv_read_file(fifo, 10, &o, &data, &len, &err), GV_EIO);
	snprintf(want, sizeof(want),
		 "cannot read certificate '%s': not a regular file", fifo);
	assert_string_equal(err.text, want);
	/* and the directory too */
	assert_int_equal(gv_read_file(f->dir, 10, &o, &data, &len, &err),
			 GV_EIO);
	/* out of memory */
	write_file(f->path, 5);
	fail_after = 0;
	assert_int_equal(gv_read_file_max(f->path, 10, &data, &len, &err),
			 GV_ENOMEM);
	fail_after = -1;
	assert_string_equal(err.text, "out of memory");
}

static void test_read_options(void **state)
{
	dir_fixture *f = *state;
	gv_error_t err = GV_ERROR_INIT;
	struct stat st;
	struct stat want;
	gv_read_opts o = { .regular = true, .secret = true, .st = &st };
	char *data = NULL;
	size_t len = 0;

	write_file(f->path, 300);
	memset(&st, 0, sizeof(st));
	assert_int_equal(gv_read_file(f->path, 300, &o, &data, &len, &err),
			 GV_OK);
	check_content(data, len, 300);
	free(data);
	assert_int_equal(stat(f->path, &want), 0);
	assert_int_equal(st.st_ino, want.st_ino);
	assert_int_equal(st.st_size, 300);
}

/* A pipe has no size: the reader grows its buffer as data comes. */
typedef struct feeder {
	int fd;
	size_t n;
} feeder;

static void *feed(void *arg)
{
	feeder *fd = arg;
	char chunk[4096];
	size_t sent = 0;

	while (sent < fd->n) {
		size_t k =
		    fd->n - sent < sizeof(chunk) ? fd->n - sent : sizeof(chunk);
		ssize_t w = 0;

		for (size_t i = 0; i < k; i++)
			chunk[i] = (char)('a' + (int)((sent + i) % 26));
		w = write(fd->fd, chunk, k);
		if (w <= 0)
			break; /* the reader stopped (over its limit) */
		sent += (size_t)w;
	}
	close(fd->fd);
	return NULL;
}

static int read_pipe(size_t n, size_t max, bool secret, char **data,
		     size_t *len, gv_error_t *err)
{
	int p[2];
	pthread_t t;
	feeder fd;
	gv_read_opts o = { .secret = secret };
	int rc = GV_OK;

	assert_int_equal(pipe(p), 0);
	fd.fd = p[1];
	fd.n = n;
	assert_int_equal(pthread_create(&t, NULL, feed, &fd), 0);
	rc = gv_read_fd(p[0], "<pipe>", max, &o, data, len, err);
	close(p[0]); /* a writer still blocked gets EPIPE */
	pthread_join(t, NULL);
	return rc;
}

static void test_read_pipe(void **state)
{
	gv_error_t err = GV_ERROR_INIT;
	char *data = NULL;
	size_t len = 0;

	(void)state;
	signal(SIGPIPE, SIG_IGN);
	/* past the first 64 KiB buffer, plain and secret */
	assert_int_equal(read_pipe(200000, 200000, false, &data, &len, &err),
			 GV_OK);
	check_content(data, len, 200000);
	free(data);
	assert_int_equal(read_pipe(200000, 1 << 20, true, &data, &len, &err),
			 GV_OK);
	check_content(data, len, 200000);
	free(data);
	/* one byte too many */
	assert_int_equal(read_pipe(70001, 70000, false, &data, &len, &err),
			 GV_ETOOBIG);
	assert_string_equal(err.source, "<pipe>");
	assert_string_equal(err.text, "file is larger than 70000 bytes");
	/* growth that fails */
	fail_after = 1;
	assert_int_equal(read_pipe(100000, 200000, true, &data, &len, &err),
			 GV_ENOMEM);
	fail_after = -1;
}

/* ---- clocks ---------------------------------------------------------- */

static void test_clocks(void **state)
{
	uint64_t ns0 = gv_now_ns();
	uint64_t ms0 = gv_now_ms();
	struct timespec pause = { 0, 2 * 1000000L };
	struct timespec ts;
	uint64_t ns1 = 0;
	uint64_t ms1 = 0;

	(void)state;
	nanosleep(&pause, NULL);
	ns1 = gv_now_ns();
	ms1 = gv_now_ms();
	assert_true(ns1 >= ns0 + 2000000u);
	assert_true(ms1 >= ms0 + 2);
	/* the same clock in two units */
	assert_true(ms1 >= ns1 / 1000000u - 1 && ms1 <= gv_now_ns() / 1000000u);
	ts = gv_timespec_ns(5 * 1000000000ull + 7);
	assert_int_equal(ts.tv_sec, 5);
	assert_int_equal(ts.tv_nsec, 7);
	ts = gv_timespec_ns(999999999u);
	assert_int_equal(ts.tv_sec, 0);
	assert_int_equal(ts.tv_nsec, 999999999);
}

/* RFC 3339 both ways: what gv_time_utc writes reads back; zones, leap
 * days, fractions; anything else refused. */
static void test_utc(void **state)
{
	static const char *const bad[] = {
		"",
		"2026-12-03",
		"2026-12-03 10:00:00Z",
		"2026-13-01T00:00:00Z",
		"2026-12-03T24:00:00Z",
		"2026-12-03T10:00:00",
		"2026-12-03T10:00:00Zx",
		"2026-12-03T10:00:00+0100",
		"x026-12-03T10:00:00Z",
		NULL,
	};
	char buf[32];
	time_t t = 0;
	size_t i = 0;

	(void)state;
	assert_true(gv_time_parse_utc("1970-01-01T00:00:00Z", &t));
	assert_int_equal(t, 0);
	assert_true(gv_time_parse_utc("2024-02-29T12:34:56Z", &t));
	assert_int_equal(t, 1709210096);
	gv_time_utc(t, buf, sizeof(buf));
	assert_string_equal(buf, "2024-02-29T12:34:56Z");
	assert_true(gv_time_parse_utc("2024-02-29T13:34:56.123456+01:00", &t));
	assert_int_equal(t, 1709210096);
	assert_true(gv_time_parse_utc("2024-02-29T07:04:56-05:30", &t));
	assert_int_equal(t, 1709210096);
	for (i = 0; bad[i]; i++) {
		t = 42;
		if (gv_time_parse_utc(bad[i], &t))
			print_error("accepted: '%s'\n", bad[i]);
		assert_int_equal(t, 42);
	}
	assert_false(gv_time_parse_utc(NULL, &t));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_basics),
		cmocka_unit_test(test_buf_limit),
		cmocka_unit_test(test_buf_sticky),
		cmocka_unit_test(test_buf_oom),
		cmocka_unit_test(test_buf_add_cut),
		cmocka_unit_test(test_buf_printf),
		cmocka_unit_test(test_buf_detach),
		cmocka_unit_test(test_buf_fixed),
		cmocka_unit_test(test_buf_grow),
		cmocka_unit_test(test_buf_base64),
		cmocka_unit_test(test_utf8_cut),
		cmocka_unit_test(test_escape_controls),
		cmocka_unit_test(test_escape_plain),
		cmocka_unit_test(test_escape_invalid_utf8),
		cmocka_unit_test(test_escape_cut),
		cmocka_unit_test(test_escape_options),
		cmocka_unit_test(test_escape_buffer_failure),
		cmocka_unit_test_setup_teardown(test_read_limits, dir_setup,
						dir_teardown),
		cmocka_unit_test_setup_teardown(test_read_failures, dir_setup,
						dir_teardown),
		cmocka_unit_test_setup_teardown(test_read_options, dir_setup,
						dir_teardown),
		cmocka_unit_test(test_read_pipe),
		cmocka_unit_test(test_clocks),
		cmocka_unit_test(test_utc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
