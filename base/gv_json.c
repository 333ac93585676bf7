/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gv_json.c: a fast JSON parser that builds jansson values (gv_json.h).
 *
 * The admission path parses every request body, and jansson's own parser
 * (a character stream through a generic lexer) is most of the cost of a
 * request. This one scans the buffer in place, copies each string once,
 * and builds the same values jansson would: integers for numbers without
 * fraction or exponent (an integer that does not fit int64 is an error,
 * as in jansson), reals otherwise, strings validated as UTF-8 and free of
 * NUL (as jansson requires by default), objects in
 * document order with the last of duplicate keys winning. Nesting is
 * bounded and the parser is iterative, so no input can exhaust the stack.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>

#include "groved/gv_json.h"

#define NUMBER_MAX 512 /* digits and signs of one number */

typedef struct parser {
	const unsigned char *p;
	const unsigned char *end;
	const unsigned char *start;
	char *scratch; /* unescaped strings */
	size_t scratch_cap;
	char *keybuf; /* an unescaped object key */
	const char *source;
	unsigned flags;
	gv_error_t *err;
} parser;

/* The line and column of offset, for messages. */
static void position(const parser *ps, const unsigned char *at, int *line,
		     int *col)
{
	const unsigned char *q = ps->start;

	*line = 1;
	*col = 1;
	for (; q < at && q < ps->end; q++) {
		if (*q == '\n') {
			(*line)++;
			*col = 1;
		} else if ((*q & 0xc0) != 0x80) {
			(*col)++;
		}
	}
}

static int fail(parser *ps, const unsigned char *at, int rc, const char *what)
{
	int line = 0;
	int col = 0;

	position(ps, at, &line, &col);
	return gv_error_set(ps->err, rc, ps->source, line, col, "%s (byte %zu)",
			    what, (size_t)(at - ps->start));
}

/* "unexpected character 'x' <where>", or the byte's value when it is not
 * printable. */
static int unexpected(parser *ps, const char *where)
{
	char what[96];
	unsigned char c = *ps->p;

	if (c >= 0x20 && c < 0x7f)
		snprintf(what, sizeof(what), "unexpected character '%c' %s", c,
			 where);
	else
		snprintf(what, sizeof(what), "unexpected byte 0x%02x %s", c,
			 where);
	return fail(ps, ps->p, GV_EPARSE, what);
}

static void skip_ws(parser *ps)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\n' ||
				   *ps->p == '\r' || *ps->p == '\t'))
		ps->p++;
}

/*
 * The first byte at or after q that is not plain printable ASCII (a quote,
 * a backslash, a control byte or a byte >= 0x80), eight bytes a step: most
 * of a request body is such runs, and a byte at a time is most of the
 * parse. Bit tricks from "Bit Twiddling Hacks" (haszero / hasless).
 */
static const unsigned char *skip_plain(const unsigned char *q,
				       const unsigned char *end)
{
	const uint64_t ones = 0x0101010101010101ULL;
	const uint64_t highs = 0x8080808080808080ULL;

	while (end - q >= 8) {
		uint64_t x = 0;
		uint64_t quote = 0;
		uint64_t slash = 0;

		memcpy(&x, q, 8);
		quote = x ^ (ones * '"');
		slash = x ^ (ones * '\\');
		/* zero bytes of quote/slash, bytes < 0x20, bytes >= 0x80 */
		if ((((quote - ones) & ~quote) | ((slash - ones) & ~slash) |
		     (x - ones * 0x20) | x) &
		    highs)
			break;
		q += 8;
	}
	return q;
}

static bool scratch_reserve(parser *ps, size_t need)
{
	char *s = NULL;
	size_t cap = ps->scratch_cap ? ps->scratch_cap : 256;

	if (need <= ps->scratch_cap)
		return true;
	while (cap < need)
		cap *= 2;
	s = realloc(ps->scratch, cap);
	if (!s)
		return false;
	ps->scratch = s;
	ps->scratch_cap = cap;
	return true;
}

static int hex4(const unsigned char *p, uint32_t *out)
{
	uint32_t v = 0;
	int i = 0;

	for (i = 0; i < 4; i++) {
		unsigned char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (uint32_t)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static size_t put_utf8(char *d, uint32_t cp)
{
	if (cp < 0x80) {
		d[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		d[0] = (char)(0xc0 | (cp >> 6));
		d[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		d[0] = (char)(0xe0 | (cp >> 12));
		d[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		d[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	d[0] = (char)(0xf0 | (cp >> 18));
	d[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	d[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	d[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * The string at ps->p (just past its opening quote). On success *s and
 * *n give its bytes: in the input when it has no escapes, else in the
 * scratch buffer.
 */
static int parse_string(parser *ps, const char **s, size_t *n)
{
	const unsigned char *q = ps->p;
	const unsigned char *open = ps->p - 1;
	size_t used = 0;

	/* fast path: scan to the closing quote, eight plain bytes at a time */
	q = skip_plain(q, ps->end);
	while (q < ps->end && *q != '"' && *q != '\\' && *q >= 0x20) {
		if (*q < 0x80) {
			q++;
			continue;
		}
		{
			size_t l = gv_utf8_len(q, (size_t)(ps->end - q));

			if (!l)
				return fail(ps, q, GV_EPARSE,
					    "invalid UTF-8 in string");
			q += l;
		}
	}
	if (q < ps->end && *q == '"') {
		*s = (const char *)ps->p;
		*n = (size_t)(q - ps->p);
		ps->p = q + 1;
		return GV_OK;
	}
	/* slow path: unescape into scratch (never longer than the input) */
	if (!scratch_reserve(ps, (size_t)(ps->end - ps->p) + 1))
		return fail(ps, q, GV_ENOMEM, "out of memory");
	used = (size_t)(q - ps->p);
	memcpy(ps->scratch, ps->p, used);
	while (q < ps->end && *q != '"') {
		uint32_t cp = 0;
		uint32_t lo = 0;

		if (*q < 0x20)
			return fail(ps, q, GV_EPARSE,
				    "control character in string");
		if (*q >= 0x80) {
			size_t l = gv_utf8_len(q, (size_t)(ps->end - q));

			if (!l)
				return fail(ps, q, GV_EPARSE,
					    "invalid UTF-8 in string");
			memcpy(ps->scratch + used, q, l);
			used += l;
			q += l;
			continue;
		}
		if (*q != '\\') {
			ps->scratch[used++] = (char)*q++;
			continue;
		}
		if (ps->end - q < 2)
			return fail(ps, open, GV_EPARSE, "unterminated string");
		switch (q[1]) {
		case '"':
		case '\\':
		case '/':
			ps->scratch[used++] = (char)q[1];
			q += 2;
			continue;
		case 'b':
			ps->scratch[used++] = '\b';
			q += 2;
			continue;
		case 'f':
			ps->scratch[used++] = '\f';
			q += 2;
			continue;
		case 'n':
			ps->scratch[used++] = '\n';
			q += 2;
			continue;
		case 'r':
			ps->scratch[used++] = '\r';
			q += 2;
			continue;
		case 't':
			ps->scratch[used++] = '\t';
			q += 2;
			continue;
		case 'u':
			break;
		default:
			return fail(ps, q, GV_EPARSE,
				    "invalid escape in string");
		}
		if (ps->end - q < 6 || hex4(q + 2, &cp) != 0)
			return fail(ps, q, GV_EPARSE, "invalid \\u escape");
		q += 6;
		if (cp >= 0xd800 && cp <= 0xdbff) {
			if (ps->end - q < 6 || q[0] != '\\' || q[1] != 'u' ||
			    hex4(q + 2, &lo) != 0 || lo < 0xdc00 || lo > 0xdfff)
				return fail(ps, q, GV_EPARSE,
					    "unpaired surrogate in \\u escape");
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			q += 6;
		} else if (cp == 0) {
			/* C code reads strings up to their first NUL: a name
			 * "a\u0000b" would be checked as "a" */
			return fail(ps, q - 6, GV_EPARSE,
				    "\\u0000 is not allowed in strings");
		} else if (cp >= 0xdc00 && cp <= 0xdfff) {
			return fail(ps, q - 6, GV_EPARSE,
				    "unpaired surrogate in \\u escape");
		}
		used += put_utf8(ps->scratch + used, cp);
	}
	if (q >= ps->end)
		return fail(ps, open, GV_EPARSE, "unterminated string");
	*s = ps->scratch;
	*n = used;
	ps->p = q + 1;
	return GV_OK;
}

static int parse_number(parser *ps, json_t **out)
{
	const unsigned char *q = ps->p;
	bool is_int = true;
	char text[NUMBER_MAX + 1];
	size_t n = 0;

	if (q < ps->end && *q == '-')
		q++;
	if (q >= ps->end || *q < '0' || *q > '9')
		return fail(ps, ps->p, GV_EPARSE, "invalid number");
	if (*q == '0')
		q++;
	else
		while (q < ps->end && *q >= '0' && *q <= '9')
			q++;
	if (q < ps->end && *q == '.') {
		is_int = false;
		q++;
		if (q >= ps->end || *q < '0' || *q > '9')
			return fail(ps, q, GV_EPARSE,
				    "invalid number: digits must follow '.'");
		while (q < ps->end && *q >= '0' && *q <= '9')
			q++;
	}
	if (q < ps->end && (*q == 'e' || *q == 'E')) {
		is_int = false;
		q++;
		if (q < ps->end && (*q == '+' || *q == '-'))
			q++;
		if (q >= ps->end || *q < '0' || *q > '9')
			return fail(ps, q, GV_EPARSE,
				    "invalid number: digits must follow the "
				    "exponent");
		while (q < ps->end && *q >= '0' && *q <= '9')
			q++;
	}
	n = (size_t)(q - ps->p);
	if (n > NUMBER_MAX)
		return fail(ps, ps->p, GV_EPARSE, "number too long");
	memcpy(text, ps->p, n);
	text[n] = '\0';
	errno = 0;
	if (is_int) {
		long long v = strtoll(text, NULL, 10);

		if (errno == ERANGE)
			return fail(ps, ps->p, GV_EPARSE,
				    "integer too big for 64 bits");
		*out = json_integer((json_int_t)v);
	} else {
		double d = strtod(text, NULL);

		if (errno == ERANGE && (d == HUGE_VAL || d == -HUGE_VAL))
			return fail(ps, ps->p, GV_EPARSE,
				    "real number overflow");
		*out = json_real(d);
	}
	ps->p = q;
	return *out ? GV_OK : fail(ps, ps->p, GV_ENOMEM, "out of memory");
}

static int literal(parser *ps, const char *word, json_t *value, json_t **out)
{
	size_t n = strlen(word);

	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
		return fail(ps, ps->p, GV_EPARSE, "invalid literal");
	ps->p += n;
	*out = value;
	return GV_OK;
}

/* Adds v (stolen) to container top, under key for objects; at marks the
 * key for a duplicate's message. */
static int attach(parser *ps, json_t *top, const char *key, size_t klen,
		  const unsigned char *at, json_t *v)
{
	int r = 0;

	if (json_is_object(top) && (ps->flags & GV_JSON_REJECT_DUPLICATES) &&
	    json_object_getn(top, key, klen)) {
		char what[96];

		json_decref(v);
		snprintf(what, sizeof(what), "duplicate key \"%.*s\"",
			 (int)(klen > 64 ? 64 : klen), key);
		return fail(ps, at, GV_EPARSE, what);
	}
	r = json_is_object(top)
		? json_object_setn_new_nocheck(top, key, klen, v)
		: json_array_append_new(top, v);
	return r == 0 ? GV_OK : fail(ps, ps->p, GV_ENOMEM, "out of memory");
}

/*
 * After a value: a ',' (another member or element follows), or closing
 * brackets until an open container or the end (depth 0). Returns GV_OK
 * or a parse error.
 */
static int after_value(parser *ps, json_t **stack, size_t *depth)
{
	for (;;) {
		json_t *top = NULL;

		skip_ws(ps);
		if (*depth == 0)
			return GV_OK;
		top = stack[*depth - 1];
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			skip_ws(ps);
			return GV_OK;
		}
		if (ps->p < ps->end &&
		    *ps->p == (json_is_object(top) ? '}' : ']')) {
			ps->p++;
			(*depth)--;
			continue;
		}
		return fail(ps, ps->p, GV_EPARSE,
			    json_is_object(top)
				? "expected ',' or '}' in object"
				: "expected ',' or ']' in array");
	}
}

/* The key of the next object member, then its ':'. The key stays valid
 * until the next call: in the input, or copied to ps->keybuf when it
 * needed unescaping (the scratch buffer is reused for the value). */
static int parse_key(parser *ps, const char **key, size_t *klen)
{
	const char *s = NULL;
	size_t n = 0;
	int rc = GV_OK;

	if (ps->p >= ps->end || *ps->p != '"')
		return fail(ps, ps->p, GV_EPARSE,
			    "expected a string key in object");
	ps->p++;
	rc = parse_string(ps, &s, &n);
	if (rc != GV_OK)
		return rc;
	if (s == ps->scratch) {
		char *k = realloc(ps->keybuf, n + 1);

		if (!k)
			return fail(ps, ps->p, GV_ENOMEM, "out of memory");
		ps->keybuf = k;
		memcpy(k, s, n);
		s = k;
	}
	*key = s;
	*klen = n;
	skip_ws(ps);
	if (ps->p >= ps->end || *ps->p != ':')
		return fail(ps, ps->p, GV_EPARSE,
			    "expected ':' after object key");
	ps->p++;
	skip_ws(ps);
	return GV_OK;
}

/* One scalar, or a new empty container, at ps->p. */
static int parse_value(parser *ps, json_t **out)
{
	const char *s = NULL;
	size_t n = 0;
	int rc = GV_OK;

	if (ps->p >= ps->end)
		return fail(ps, ps->p, GV_EPARSE, "unexpected end of input");
	switch (*ps->p) {
	case '{':
	case '[':
		*out = *ps->p == '{' ? json_object() : json_array();
		ps->p++;
		return *out ? GV_OK
			    : fail(ps, ps->p, GV_ENOMEM, "out of memory");
	case '"':
		ps->p++;
		rc = parse_string(ps, &s, &n);
		if (rc != GV_OK)
			return rc;
		*out = json_stringn_nocheck(s, n);
		return *out ? GV_OK
			    : fail(ps, ps->p, GV_ENOMEM, "out of memory");
	case 't':
		return literal(ps, "true", json_true(), out);
	case 'f':
		return literal(ps, "false", json_false(), out);
	case 'n':
		return literal(ps, "null", json_null(), out);
	default:
		if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9'))
			return parse_number(ps, out);
		return unexpected(ps, "where a value was expected");
	}
}

int gv_json_parse(const char *data, size_t len, const char *source,
		  size_t max_depth, unsigned flags, json_t **out,
		  gv_error_t *err)
{
	parser ps;
	json_t **stack = NULL; /* open containers, borrowed from root */
	size_t depth = 0;
	json_t *root = NULL;
	char depth_msg[64];
	int rc = GV_OK;

	memset(&ps, 0, sizeof(ps));
	ps.p = ps.start = (const unsigned char *)data;
	ps.end = ps.p + len;
	ps.source = source;
	ps.flags = flags;
	ps.err = err;
	snprintf(depth_msg, sizeof(depth_msg), "nesting deeper than %zu levels",
		 max_depth);
	stack = calloc(max_depth + 1, sizeof(*stack));
	if (!stack)
		return gv_error_set(err, GV_ENOMEM, source, 0, 0,
				    "out of memory");
	skip_ws(&ps);
	for (;;) {
		json_t *top = depth ? stack[depth - 1] : NULL;
		json_t *v = NULL;
		const char *key = NULL;
		const unsigned char *key_at = ps.p;
		size_t klen = 0;
		bool open = false;

		if (top && ps.p < ps.end &&
		    *ps.p == (json_is_object(top) ? '}' : ']') &&
		    (json_is_object(top) ? json_object_size(top)
					 : json_array_size(top)) == 0) {
			/* an empty container closes at once */
			ps.p++;
			depth--;
			goto next;
		}
		if (json_is_object(top)) {
			rc = parse_key(&ps, &key, &klen);
			if (rc != GV_OK)
				goto out;
		}
		rc = parse_value(&ps, &v);
		if (rc != GV_OK)
			goto out;
		open = json_is_object(v) || json_is_array(v);
		if (open && depth >= max_depth) {
			json_decref(v);
			rc = fail(&ps, ps.p - 1, GV_ETOODEEP, depth_msg);
			goto out;
		}
		if (!top) {
			root = v;
		} else {
			rc = attach(&ps, top, key, klen, key_at, v);
			if (rc != GV_OK)
				goto out;
		}
		if (open) {
			stack[depth++] = v;
			skip_ws(&ps);
			continue;
		}
	next:
		rc = after_value(&ps, stack, &depth);
		if (rc != GV_OK)
			goto out;
		if (depth == 0)
			break;
	}
	if (ps.p != ps.end) {
		rc = fail(&ps, ps.p, GV_EPARSE,
			  "unexpected text after the JSON value");
		goto out;
	}
	*out = root;
	root = NULL;
out:
	free(ps.scratch);
	free(ps.keybuf);
	free(stack);
	json_decref(root);
	return rc;
}

void gv_json_put(json_t *obj, const char *key, json_t *val, int *rc)
{
	if (*rc != GV_OK || !obj || !val) {
		if (*rc == GV_OK)
			*rc = GV_ENOMEM;
		json_decref(val);
		return;
	}
	if (json_object_set_new(obj, key, val) != 0)
		*rc = GV_ENOMEM;
}

void gv_json_push(json_t *arr, json_t *val, int *rc)
{
	if (*rc != GV_OK || !arr || !val) {
		if (*rc == GV_OK)
			*rc = GV_ENOMEM;
		json_decref(val);
		return;
	}
	if (json_array_append_new(arr, val) != 0)
		*rc = GV_ENOMEM;
}
