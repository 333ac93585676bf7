/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gv_read.c: YAML and JSON manifests in, jansson values out.
 *
 * JSON (first non-blank byte `{` or `[`, as Kubernetes' YAMLOrJSONDecoder
 * decides) goes to jansson, for its precise messages. Everything else goes
 * through libyaml's event API and is built here with an explicit stack, so
 * that hostile input cannot recurse: nesting, the node count with aliases
 * expanded and the input size are all bounded (gv_read.h has the limits).
 *
 * Scalars are resolved the way the API server sees them after kubectl's
 * sigs.k8s.io/yaml, which runs go-yaml v2 (YAML 1.1 words, Go's ParseInt
 * with base 0) and then encoding/json.
 *
 * Aliases share the anchored json_t (json_incref), so a document may hold
 * the same subtree in several places: callers that mutate must copy first.
 */
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <yaml.h>

#include "groved/gv_read.h"

#define TAG_PREFIX "tag:yaml.org,2002:"
/* Long keys are cut in messages so one line stays readable. */
#define MSG_KEY_MAX 64

enum frame_kind { FRAME_SEQ, FRAME_MAP };

/* One open sequence or mapping. */
struct frame {
	enum frame_kind kind;
	json_t *value; /* the container being filled */
	char *anchor; /* its anchor, registered once it is complete */
	size_t nodes_before; /* reader->nodes before this node was counted */
	yaml_mark_t start; /* where it starts, for errors about it */
	json_t *merged; /* map: pairs from `<<`, added at the end */
	char *key; /* map: key awaiting its value */
	size_t key_len;
	bool have_key;
	bool merge; /* map: the awaited value is a `<<` source */
};

struct reader {
	const char *source;
	gv_error_t *err;
	struct frame frames[GV_READ_MAX_DEPTH];
	int depth;
	size_t nodes; /* whole stream, aliases expanded */
	json_t *anchors; /* this document's: name -> value */
	json_t *anchor_sizes; /* name -> node count of the value, expanded */
	json_t *root; /* this document's, once complete */
	int doc_line;
	json_t *docs; /* borrowed from the caller of read_yaml */
	json_t *lines;
};

enum plain_kind {
	PLAIN_STR,
	PLAIN_NULL,
	PLAIN_TRUE,
	PLAIN_FALSE,
	PLAIN_INT,
	PLAIN_BIGINT, /* an integer beyond int64: kept as a real */
	PLAIN_REAL,
	PLAIN_INF, /* .inf, -.inf, .nan: no JSON form */
	PLAIN_MERGE,
};

struct plain {
	enum plain_kind kind;
	json_int_t i;
	double d;
};

/* go-yaml v2's resolve table: words that are not strings when plain. */
static const struct {
	const char *word;
	enum plain_kind kind;
} plain_words[] = {
	{ "~", PLAIN_NULL },	  { "null", PLAIN_NULL },
	{ "Null", PLAIN_NULL },	  { "NULL", PLAIN_NULL },
	{ "true", PLAIN_TRUE },	  { "True", PLAIN_TRUE },
	{ "TRUE", PLAIN_TRUE },	  { "yes", PLAIN_TRUE },
	{ "Yes", PLAIN_TRUE },	  { "YES", PLAIN_TRUE },
	{ "on", PLAIN_TRUE },	  { "On", PLAIN_TRUE },
	{ "ON", PLAIN_TRUE },	  { "y", PLAIN_TRUE },
	{ "Y", PLAIN_TRUE },	  { "false", PLAIN_FALSE },
	{ "False", PLAIN_FALSE }, { "FALSE", PLAIN_FALSE },
	{ "no", PLAIN_FALSE },	  { "No", PLAIN_FALSE },
	{ "NO", PLAIN_FALSE },	  { "off", PLAIN_FALSE },
	{ "Off", PLAIN_FALSE },	  { "OFF", PLAIN_FALSE },
	{ "n", PLAIN_FALSE },	  { "N", PLAIN_FALSE },
	{ ".inf", PLAIN_INF },	  { ".Inf", PLAIN_INF },
	{ ".INF", PLAIN_INF },	  { "+.inf", PLAIN_INF },
	{ "+.Inf", PLAIN_INF },	  { "+.INF", PLAIN_INF },
	{ "-.inf", PLAIN_INF },	  { "-.Inf", PLAIN_INF },
	{ "-.INF", PLAIN_INF },	  { ".nan", PLAIN_INF },
	{ ".NaN", PLAIN_INF },	  { ".NAN", PLAIN_INF },
	{ "<<", PLAIN_MERGE },
};

static int clamp_int(size_t v)
{
	return v > INT32_MAX ? INT32_MAX : (int)v;
}

static int fail_at(struct reader *r, int rc, const yaml_mark_t *mark,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int fail_at(struct reader *r, int rc, const yaml_mark_t *mark,
		   const char *fmt, ...)
{
	char text[GV_ERROR_TEXT_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	return gv_error_set(r->err, rc, r->source,
			    mark ? clamp_int(mark->line + 1) : 0,
			    mark ? clamp_int(mark->column + 1) : 0, "%s", text);
}

static int fail_nomem(struct reader *r)
{
	return gv_error_set(r->err, GV_ENOMEM, r->source, 0, 0,
			    "out of memory");
}

/* 99 for anything that is no digit in any base we read */
static int digit_value(char c)
{
	int d = 99;

	if (c >= '0' && c <= '9')
		d = c - '0';
	else if (c >= 'a' && c <= 'f')
		d = c - 'a' + 10;
	else if (c >= 'A' && c <= 'F')
		d = c - 'A' + 10;
	return d;
}

enum int_result { INT_OK, INT_UINT, INT_RANGE, INT_SYNTAX };

/*
 * Go's strconv.ParseInt(s, 0, 64) falling back to ParseUint, as go-yaml
 * tries them: optional sign, 0x/0o/0b prefixes in either case, a leading 0
 * meaning octal. Underscores are already gone.
 */
static enum int_result parse_int(const char *s, size_t n, json_int_t *out,
				 uint64_t *uout)
{
	enum int_result res = INT_SYNTAX;
	bool neg = false;
	bool overflow = false;
	uint64_t v = 0;
	size_t i = 0;
	int base = 10;

	if (i < n && (s[i] == '+' || s[i] == '-')) {
		neg = s[i] == '-';
		i++;
	}
	if (n - i >= 3 && s[i] == '0') {
		char p = (char)(s[i + 1] | 0x20);

		base = p == 'x' ? 16 : p == 'o' ? 8 : p == 'b' ? 2 : 10;
		if (base != 10)
			i += 2;
	}
	if (base == 10 && n - i >= 2 && s[i] == '0') {
		base = 8;
		i++;
	}
	if (i == n)
		goto out;
	for (; i < n; i++) {
		int d = digit_value(s[i]);

		if (d >= base)
			goto out;
		if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
			overflow = true;
		else
			v = v * (uint64_t)base + (uint64_t)d;
	}
	res = INT_RANGE;
	if (overflow)
		goto out;
	if (neg && v <= (uint64_t)INT64_MAX + 1) {
		*out =
		    v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(json_int_t)v;
		res = INT_OK;
	} else if (!neg && v <= (uint64_t)INT64_MAX) {
		*out = (json_int_t)v;
		res = INT_OK;
	} else if (!neg && s[0] != '+') {
		*uout = v;
		res = INT_UINT;
	}
out:
	return res;
}

/* go-yaml's yamlStyleFloat: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static bool float_syntax(const char *s, size_t n)
{
	size_t i = 0;
	size_t digits = 0;
	size_t exp_digits = 1; /* none needed without an exponent */

	if (i < n && (s[i] == '+' || s[i] == '-'))
		i++;
	if (i < n && s[i] == '.') {
		for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			digits++;
	} else {
		for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			digits++;
		if (digits && i < n && s[i] == '.')
			for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++)
				;
	}
	if (digits && i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		for (exp_digits = 0; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			exp_digits++;
	}
	return digits && exp_digits && i == n;
}

/*
 * A number in go-yaml's float syntax, NUL-terminated. Values that overflow
 * a double stay strings, as go-yaml keeps them when ParseFloat fails.
 */
static bool parse_real(const char *s, double *out)
{
	char *end = NULL;
	double d = strtod(s, &end);
	bool ok = *end == '\0' && !isinf(d) && !isnan(d);

	if (ok)
		*out = d;
	return ok;
}

/*
 * Numbers, for a plain scalar starting with a digit or a sign. go-yaml
 * strips every underscore first (so `1_000` and even `1__0_` are ints).
 *
 * Integers beyond int64 but within uint64 are uint64 to go-yaml and exact
 * JSON numbers to the API server; jansson has no uint64, so they become
 * reals (losing low digits). Larger decimal integers are floats to go-yaml
 * too; larger hex/octal/binary ones are strings, as there.
 */
static int resolve_number(const char *s, size_t n, bool strip, struct plain *p)
{
	char small[128];
	char *buf = small;
	int rc = GV_OK;
	uint64_t u = 0;
	size_t used = 0;

	if (n >= sizeof(small)) {
		buf = malloc(n + 1);
		if (!buf) {
			rc = GV_ENOMEM;
			goto out;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (!strip || s[i] != '_')
			buf[used++] = s[i];
	buf[used] = '\0';

	switch (parse_int(buf, used, &p->i, &u)) {
	case INT_OK:
		p->kind = PLAIN_INT;
		goto out;
	case INT_UINT:
		p->kind = PLAIN_BIGINT;
		p->d = (double)u;
		goto out;
	default:
		break;
	}
	if (float_syntax(buf, used) && parse_real(buf, &p->d))
		p->kind = PLAIN_REAL;
out:
	if (buf != small)
		free(buf);
	return rc;
}

/* Resolves a plain scalar like go-yaml v2's resolve() with no tag. */
static int resolve_plain(const char *s, size_t n, struct plain *p)
{
	int rc = GV_OK;

	p->kind = PLAIN_STR;
	if (n == 0) {
		p->kind = PLAIN_NULL;
		goto out;
	}
	if (strchr("~nNtTfFyYoO.+-<", s[0])) {
		for (size_t i = 0;
		     i < sizeof(plain_words) / sizeof(plain_words[0]); i++) {
			if (strlen(plain_words[i].word) == n &&
			    memcmp(plain_words[i].word, s, n) == 0) {
				p->kind = plain_words[i].kind;
				goto out;
			}
		}
	}
	if (s[0] == '+' || s[0] == '-' || (s[0] >= '0' && s[0] <= '9')) {
		rc = resolve_number(s, n, true, p);
	} else if (s[0] == '.' && float_syntax(s, n)) {
		/* go-yaml calls ParseFloat on the raw text here */
		rc = resolve_number(s, n, false, p);
	}
out:
	return rc;
}

static bool tag_is(const char *tag, const char *name)
{
	size_t plen = sizeof(TAG_PREFIX) - 1;

	return tag && strncmp(tag, TAG_PREFIX, plen) == 0 &&
	       strcmp(tag + plen, name) == 0;
}

/*
 * The JSON value of a scalar event, a new reference in *out.
 * as_key: inf and nan are then named the way sigs.k8s.io/yaml names such
 * keys instead of being an error.
 */
static int scalar_value(struct reader *r, const yaml_event_t *ev, bool as_key,
			json_t **out)
{
	const char *s = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length;
	const char *tag = (const char *)ev->data.scalar.tag;
	bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	struct plain p = { .kind = PLAIN_STR };
	const char *want = NULL;
	json_t *v = NULL;
	int rc = GV_OK;

	if (tag_is(tag, "str") || (tag && strcmp(tag, "!") == 0) ||
	    (!tag && !plain)) {
		/* quoted, or explicitly a string */
	} else if (tag_is(tag, "int") || tag_is(tag, "float") ||
		   tag_is(tag, "bool") || tag_is(tag, "null")) {
		want = tag + sizeof(TAG_PREFIX) - 1;
		rc = resolve_plain(s, n, &p);
	} else if (plain) {
		/* untagged, or a tag we do not know: as if plain */
		rc = resolve_plain(s, n, &p);
	}
	if (rc) {
		rc = fail_nomem(r);
		goto out;
	}
	if (p.kind == PLAIN_MERGE)
		p.kind = PLAIN_STR;

	if (want) {
		bool ok = false;

		if (strcmp(want, "int") == 0)
			ok = p.kind == PLAIN_INT || p.kind == PLAIN_BIGINT;
		else if (strcmp(want, "float") == 0)
			ok = p.kind == PLAIN_INT || p.kind == PLAIN_BIGINT ||
			     p.kind == PLAIN_REAL || p.kind == PLAIN_INF;
		else if (strcmp(want, "bool") == 0)
			ok = p.kind == PLAIN_TRUE || p.kind == PLAIN_FALSE;
		else
			ok = p.kind == PLAIN_NULL;
		if (!ok) {
			rc = fail_at(r, GV_EPARSE, &ev->start_mark,
				     "cannot decode \"%.*s\" as !!%s",
				     (int)(n > MSG_KEY_MAX ? MSG_KEY_MAX : n),
				     s, want);
			goto out;
		}
		if (strcmp(want, "float") == 0 && p.kind == PLAIN_INT) {
			p.kind = PLAIN_REAL;
			p.d = (double)p.i;
		}
	}

	switch (p.kind) {
	case PLAIN_NULL:
		v = json_null();
		break;
	case PLAIN_TRUE:
		v = json_true();
		break;
	case PLAIN_FALSE:
		v = json_false();
		break;
	case PLAIN_INT:
		v = json_integer(p.i);
		break;
	case PLAIN_REAL:
		/* kubectl turns YAML into JSON through Go's float64, which
		 * prints a whole number such as 2.0 or 1e3 as "2" or "1000":
		 * the API server then reads an integer, and so do we */
		if (p.d == floor(p.d) && fabs(p.d) < 9.2e18 && !as_key) {
			v = json_integer((json_int_t)p.d);
			break;
		}
		v = json_real(p.d);
		break;
	case PLAIN_BIGINT:
		v = json_real(p.d);
		break;
	case PLAIN_INF:
		if (!as_key) {
			rc = fail_at(r, GV_EPARSE, &ev->start_mark,
				     "cannot represent \"%.*s\" in JSON",
				     (int)n, s);
			goto out;
		}
		/* sigs.k8s.io/yaml's spelling of such keys */
		v = json_string(s[n - 1] == 'n' || s[n - 1] == 'N' ? ".nan"
				: s[0] == '-'			   ? "-.inf"
								   : ".inf");
		break;
	default:
		v = json_stringn(s, n);
		break;
	}
	if (!v) {
		rc = fail_nomem(r);
		goto out;
	}
	*out = v;
	v = NULL;
out:
	json_decref(v);
	return rc;
}

/*
 * A float map key as Go's strconv.FormatFloat(k, 'g', -1, 32) writes it,
 * which is what sigs.k8s.io/yaml uses: the shortest digits that survive a
 * round trip through float32, exponent form below 1e-4 and from 1e6 on.
 */
static void format_float_key(double d, char *buf, size_t size)
{
	float f = (float)d;
	char digits[48];
	const char *e = NULL;
	int prec = 1;
	int exp = 0;

	if (isnan(f) || isinf(f)) {
		snprintf(buf, size, "%s",
			 isnan(f) ? ".nan"
			 : f < 0  ? "-.inf"
				  : ".inf");
	} else {
		for (;; prec++) {
			snprintf(digits, sizeof(digits), "%.*e", prec - 1,
				 (double)f);
			if (prec >= 9 || (float)strtod(digits, NULL) == f)
				break;
		}
		e = strchr(digits, 'e');
		exp = e ? (int)strtol(e + 1, NULL, 10) : 0;
		if (exp < -4 || exp >= 6)
			snprintf(buf, size, "%s", digits);
		else
			snprintf(buf, size, "%.*f",
				 prec - 1 - exp > 0 ? prec - 1 - exp : 0,
				 (double)f);
	}
}

/* A resolved scalar as a map key string (malloc'ed, NUL-terminated). */
static int key_from_value(struct reader *r, const json_t *v,
			  const yaml_mark_t *mark, char **key, size_t *key_len)
{
	char num[64];
	const char *s = num;
	size_t n = 0;
	char *copy = NULL;
	int rc = GV_OK;

	switch (json_typeof(v)) {
	case JSON_STRING:
		s = json_string_value(v);
		n = json_string_length(v);
		break;
	case JSON_INTEGER:
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
			 json_integer_value(v));
		n = strlen(num);
		break;
	case JSON_REAL:
		format_float_key(json_real_value(v), num, sizeof(num));
		n = strlen(num);
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		s = json_is_true(v) ? "true" : "false";
		n = strlen(s);
		break;
	case JSON_NULL:
		rc = fail_at(r, GV_EPARSE, mark, "map key cannot be null");
		goto out;
	default:
		rc = fail_at(r, GV_EPARSE, mark,
			     "map key must be a scalar, not a %s",
			     json_is_object(v) ? "mapping" : "list");
		goto out;
	}
	copy = malloc(n + 1);
	if (!copy) {
		rc = fail_nomem(r);
		goto out;
	}
	memcpy(copy, s, n);
	copy[n] = '\0';
	*key = copy;
	*key_len = n;
	copy = NULL;
out:
	free(copy);
	return rc;
}

static int count_nodes(struct reader *r, size_t n, const yaml_mark_t *mark)
{
	int rc = GV_OK;

	if (n > GV_READ_MAX_NODES - r->nodes)
		rc = fail_at(r, GV_ETOOBIG, mark,
			     "too many nodes: more than %zu with aliases "
			     "expanded",
			     GV_READ_MAX_NODES);
	else
		r->nodes += n;
	return rc;
}

static int add_anchor(struct reader *r, const char *name, json_t *value,
		      size_t size)
{
	int rc = GV_OK;

	/* A later anchor of the same name replaces the earlier one. */
	if (json_object_set(r->anchors, name, value) ||
	    json_object_set_new(r->anchor_sizes, name,
				json_integer((json_int_t)size)))
		rc = fail_nomem(r);
	return rc;
}

/* Pairs of src not yet merged; earlier sources win, as YAML says. */
static int merge_one(struct reader *r, struct frame *f, json_t *src)
{
	const char *k;
	size_t klen;
	json_t *v;
	int rc = GV_OK;

	if (!f->merged) {
		f->merged = json_object();
		if (!f->merged) {
			rc = fail_nomem(r);
			goto out;
		}
	}
	json_object_keylen_foreach(src, k, klen, v)
	{
		if (json_object_getn(f->merged, k, klen))
			continue;
		if (json_object_setn(f->merged, k, klen, v)) {
			rc = fail_nomem(r);
			goto out;
		}
	}
out:
	return rc;
}

static int merge_source(struct reader *r, struct frame *f, json_t *src,
			const yaml_mark_t *mark)
{
	size_t i;
	json_t *item;
	int rc = GV_OK;

	if (json_is_object(src)) {
		rc = merge_one(r, f, src);
		goto out;
	}
	if (!json_is_array(src))
		goto bad;
	json_array_foreach(src, i, item)
	{
		if (!json_is_object(item))
			goto bad;
	}
	json_array_foreach(src, i, item)
	{
		rc = merge_one(r, f, item);
		if (rc)
			goto out;
	}
	goto out;
bad:
	rc = fail_at(r, GV_EPARSE, mark,
		     "merge value must be a mapping or a list of mappings");
out:
	return rc;
}

/* Explicit keys win over merged ones, wherever the `<<` stood. */
static int apply_merged(struct reader *r, struct frame *f)
{
	const char *k;
	size_t klen;
	json_t *v;
	int rc = GV_OK;

	if (!f->merged)
		goto out;
	json_object_keylen_foreach(f->merged, k, klen, v)
	{
		if (json_object_getn(f->value, k, klen))
			continue;
		if (json_object_setn(f->value, k, klen, v)) {
			rc = fail_nomem(r);
			goto out;
		}
	}
out:
	json_decref(f->merged);
	f->merged = NULL;
	return rc;
}

/* Hands a complete node to its parent; steals value. */
static int deliver(struct reader *r, json_t *value, const yaml_mark_t *mark)
{
	struct frame *f = NULL;
	int rc = GV_OK;

	if (r->depth == 0) {
		r->root = value;
		value = NULL;
		goto out;
	}
	f = &r->frames[r->depth - 1];
	if (f->kind == FRAME_SEQ) {
		if (json_array_append(f->value, value))
			rc = fail_nomem(r);
		goto out;
	}
	if (!f->have_key) {
		rc = key_from_value(r, value, mark, &f->key, &f->key_len);
		if (rc)
			goto out;
		if (json_object_getn(f->value, f->key, f->key_len)) {
			rc = fail_at(
			    r, GV_EPARSE, mark, "duplicate key \"%.*s\"",
			    (int)(f->key_len > MSG_KEY_MAX ? MSG_KEY_MAX
							   : f->key_len),
			    f->key);
			goto out;
		}
		f->have_key = true;
		goto out;
	}
	if (f->merge)
		rc = merge_source(r, f, value, mark);
	else if (json_object_setn(f->value, f->key, f->key_len, value))
		rc = fail_nomem(r);
	free(f->key);
	f->key = NULL;
	f->have_key = false;
	f->merge = false;
out:
	json_decref(value);
	return rc;
}

static bool awaiting_key(const struct reader *r)
{
	const struct frame *f = r->depth > 0 ? &r->frames[r->depth - 1] : NULL;

	return f && f->kind == FRAME_MAP && !f->have_key;
}

static int on_scalar(struct reader *r, const yaml_event_t *ev)
{
	const char *s = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length;
	const char *tag = (const char *)ev->data.scalar.tag;
	const char *anchor = (const char *)ev->data.scalar.anchor;
	bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	bool as_key = awaiting_key(r);
	json_t *v = NULL;
	int rc;

	rc = count_nodes(r, 1, &ev->start_mark);
	if (rc)
		goto out;
	/* go-yaml's isMerge: a plain `<<`, or one tagged !!merge */
	if (as_key && n == 2 && memcmp(s, "<<", 2) == 0 &&
	    ((plain && !tag) || tag_is(tag, "merge"))) {
		struct frame *f = &r->frames[r->depth - 1];

		f->have_key = true;
		f->merge = true;
		goto out;
	}
	/* A document with nothing in it: libyaml gives an empty scalar. */
	if (r->depth == 0 && plain && n == 0 && !tag && !anchor)
		goto out;
	rc = scalar_value(r, ev, as_key, &v);
	if (rc)
		goto out;
	if (anchor) {
		rc = add_anchor(r, anchor, v, 1);
		if (rc)
			goto out;
	}
	rc = deliver(r, v, &ev->start_mark);
	v = NULL;
out:
	json_decref(v);
	return rc;
}

static int on_alias(struct reader *r, const yaml_event_t *ev)
{
	const char *name = (const char *)ev->data.alias.anchor;
	json_t *v = json_object_get(r->anchors, name);
	int rc = GV_OK;

	if (!v) {
		for (int i = 0; i < r->depth; i++) {
			if (r->frames[i].anchor &&
			    strcmp(r->frames[i].anchor, name) == 0) {
				rc = fail_at(r, GV_EPARSE, &ev->start_mark,
					     "alias \"%s\" refers to a node "
					     "that contains it",
					     name);
				goto out;
			}
		}
		rc = fail_at(r, GV_EPARSE, &ev->start_mark,
			     "found undefined alias \"%s\"", name);
		goto out;
	}
	rc = count_nodes(
	    r,
	    (size_t)json_integer_value(json_object_get(r->anchor_sizes, name)),
	    &ev->start_mark);
	if (rc)
		goto out;
	rc = deliver(r, json_incref(v), &ev->start_mark);
out:
	return rc;
}

static int on_start(struct reader *r, const yaml_event_t *ev,
		    enum frame_kind kind, const char *anchor)
{
	struct frame *f = NULL;
	size_t before = r->nodes;
	int rc = GV_OK;

	if (awaiting_key(r)) {
		rc = fail_at(r, GV_EPARSE, &ev->start_mark,
			     "map key must be a scalar, not a %s",
			     kind == FRAME_MAP ? "mapping" : "list");
		goto out;
	}
	if (r->depth >= GV_READ_MAX_DEPTH) {
		rc = fail_at(r, GV_ETOODEEP, &ev->start_mark,
			     "nesting is deeper than %d levels",
			     GV_READ_MAX_DEPTH);
		goto out;
	}
	rc = count_nodes(r, 1, &ev->start_mark);
	if (rc)
		goto out;
	f = &r->frames[r->depth];
	*f = (struct frame){ .kind = kind,
			     .nodes_before = before,
			     .start = ev->start_mark };
	f->value = kind == FRAME_MAP ? json_object() : json_array();
	if (anchor)
		f->anchor = strdup(anchor);
	r->depth++; /* from here, cleanup owns the frame */
	if (!f->value || (anchor && !f->anchor))
		rc = fail_nomem(r);
out:
	return rc;
}

static int on_end(struct reader *r)
{
	struct frame *f = &r->frames[r->depth - 1];
	yaml_mark_t start = f->start;
	json_t *v = NULL;
	char *anchor = NULL;
	size_t size = r->nodes - f->nodes_before;
	int rc;

	rc = apply_merged(r, f);
	if (rc)
		goto out;
	v = f->value;
	f->value = NULL;
	anchor = f->anchor;
	f->anchor = NULL;
	free(f->key);
	f->key = NULL;
	r->depth--;
	if (anchor) {
		rc = add_anchor(r, anchor, v, size);
		if (rc)
			goto out;
	}
	rc = deliver(r, v, &start);
	v = NULL;
out:
	free(anchor);
	json_decref(v);
	return rc;
}

static int on_document_end(struct reader *r)
{
	json_t *root = r->root;
	int rc = GV_OK;

	r->root = NULL;
	/*
	 * Fresh tables rather than json_object_clear(), which walks every
	 * bucket: a stream of many small documents after one with many
	 * anchors would be quadratic.
	 */
	if (json_object_size(r->anchors)) {
		json_decref(r->anchors);
		json_decref(r->anchor_sizes);
		r->anchors = json_object();
		r->anchor_sizes = json_object();
		if (!r->anchors || !r->anchor_sizes) {
			json_decref(root);
			rc = fail_nomem(r);
			goto out;
		}
	}
	if (!root)
		goto out;
	if (json_array_append_new(r->docs, root) ||
	    json_array_append_new(r->lines, json_integer(r->doc_line)))
		rc = fail_nomem(r);
out:
	return rc;
}

static int on_event(struct reader *r, const yaml_event_t *ev)
{
	int rc = GV_OK;

	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		r->doc_line = clamp_int(ev->start_mark.line + 1);
		break;
	case YAML_DOCUMENT_END_EVENT:
		rc = on_document_end(r);
		break;
	case YAML_SCALAR_EVENT:
		rc = on_scalar(r, ev);
		break;
	case YAML_ALIAS_EVENT:
		rc = on_alias(r, ev);
		break;
	case YAML_SEQUENCE_START_EVENT:
		rc = on_start(r, ev, FRAME_SEQ,
			      (const char *)ev->data.sequence_start.anchor);
		break;
	case YAML_MAPPING_START_EVENT:
		rc = on_start(r, ev, FRAME_MAP,
			      (const char *)ev->data.mapping_start.anchor);
		break;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		rc = on_end(r);
		break;
	default:
		break;
	}
	return rc;
}

/* 1-based line and column (in characters) of byte offset off. */
static void position_of(const char *data, size_t len, size_t off, int *line,
			int *col)
{
	int l = 1;
	int c = 1;

	for (size_t i = 0; i < off && i < len; i++) {
		unsigned char b = (unsigned char)data[i];

		if (b == '\n') {
			l++;
			c = 1;
		} else if ((b & 0xC0) != 0x80) {
			c++;
		}
	}
	*line = l;
	*col = c;
}

static int parser_error(struct reader *r, const yaml_parser_t *parser,
			const char *data, size_t len)
{
	const char *problem = parser->problem ? parser->problem : "unknown";
	int line = 0;
	int col = 0;
	int rc;

	switch (parser->error) {
	case YAML_MEMORY_ERROR:
		rc = fail_nomem(r);
		break;
	case YAML_READER_ERROR:
		position_of(data, len, parser->problem_offset, &line, &col);
		if (strcmp(problem, "control characters are not allowed") == 0)
			rc = gv_error_set(r->err, GV_EPARSE, r->source, line,
					  col,
					  "control character U+%04X is not "
					  "allowed",
					  (unsigned)parser->problem_value);
		else if (parser->problem_value >= 0)
			rc = gv_error_set(
			    r->err, GV_EPARSE, r->source, line, col,
			    "input is not valid UTF-8: %s "
			    "(0x%02X)",
			    problem, (unsigned)parser->problem_value);
		else
			rc = gv_error_set(r->err, GV_EPARSE, r->source, line,
					  col, "input is not valid UTF-8: %s",
					  problem);
		break;
	default:
		if (parser->context)
			rc =
			    fail_at(r, GV_EPARSE, &parser->problem_mark,
				    "%s (%s at line %d column %d)", problem,
				    parser->context,
				    clamp_int(parser->context_mark.line + 1),
				    clamp_int(parser->context_mark.column + 1));
		else
			rc = fail_at(r, GV_EPARSE, &parser->problem_mark, "%s",
				     problem);
		break;
	}
	return rc;
}

static void reader_release(struct reader *r)
{
	for (int i = 0; i < r->depth; i++) {
		struct frame *f = &r->frames[i];

		json_decref(f->value);
		json_decref(f->merged);
		free(f->anchor);
		free(f->key);
	}
	r->depth = 0;
	json_decref(r->root);
	json_decref(r->anchors);
	json_decref(r->anchor_sizes);
}

/* Appends every document of a YAML stream to docs, its line to lines. */
static int read_yaml(const char *data, size_t len, const char *source,
		     json_t *docs, json_t *lines, gv_error_t *err)
{
	struct reader r = {
		.source = source, .err = err, .docs = docs, .lines = lines
	};
	yaml_parser_t parser;
	yaml_event_t ev;
	bool have_parser = false;
	bool done = false;
	int rc = GV_OK;

	r.anchors = json_object();
	r.anchor_sizes = json_object();
	if (!r.anchors || !r.anchor_sizes || !yaml_parser_initialize(&parser)) {
		rc = fail_nomem(&r);
		goto out;
	}
	have_parser = true;
	yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
	while (!done) {
		if (!yaml_parser_parse(&parser, &ev)) {
			rc = parser_error(&r, &parser, data, len);
			goto out;
		}
		rc = on_event(&r, &ev);
		done = ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
		if (rc)
			goto out;
	}
out:
	if (have_parser)
		yaml_parser_delete(&parser);
	reader_release(&r);
	return rc;
}

/*
 * One pass over JSON text before jansson sees it: nesting deeper than the
 * limit and more values than the node limit are refused with a position,
 * and before jansson's own recursion (2048 deep) or allocations. Counts are
 * exact for valid JSON; jansson reports what is invalid.
 */
static int json_prescan(const char *data, size_t len, const char *source,
			gv_error_t *err)
{
	bool in_str = false;
	bool escaped = false;
	bool in_token = false;
	size_t nodes = 0;
	int depth = 0;
	int line = 1;
	int col = 0;
	int rc = GV_OK;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)data[i];

		if ((c & 0xC0) != 0x80)
			col++;
		if (in_str) {
			if (escaped)
				escaped = false;
			else if (c == '\\')
				escaped = true;
			else if (c == '"')
				in_str = false;
		} else if (c == '"') {
			nodes++;
			in_str = true;
			in_token = false;
		} else if (c == '[' || c == '{') {
			nodes++;
			in_token = false;
			if (++depth > GV_READ_MAX_DEPTH) {
				rc = gv_error_set(err, GV_ETOODEEP, source,
						  line, col,
						  "nesting is deeper than %d "
						  "levels",
						  GV_READ_MAX_DEPTH);
				goto out;
			}
		} else if (c == ']' || c == '}') {
			if (depth > 0)
				depth--;
			in_token = false;
		} else if (c == ',' || c == ':' || c == ' ' || c == '\t' ||
			   c == '\r' || c == '\n') {
			in_token = false;
		} else if (!in_token) {
			nodes++;
			in_token = true;
		}
		if (nodes > GV_READ_MAX_NODES) {
			rc = gv_error_set(err, GV_ETOOBIG, source, line, col,
					  "too many nodes: more than %zu",
					  GV_READ_MAX_NODES);
			goto out;
		}
		if (c == '\n') {
			line++;
			col = 0;
		}
	}
out:
	return rc;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Moves *off past blanks and the position (1-based) with it. */
static void skip_blanks(const char *data, size_t len, size_t *off, int *line,
			int *col)
{
	for (; *off < len && is_blank(data[*off]); (*off)++) {
		if (data[*off] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

/* Appends every value of a JSON text or stream to docs, its line to lines. */
static int read_json(const char *data, size_t len, const char *source,
		     json_t *docs, json_t *lines, gv_error_t *err)
{
	size_t flags = JSON_DISABLE_EOF_CHECK | JSON_REJECT_DUPLICATES;
	size_t off = 0;
	int line = 1;
	int col = 1;
	json_t *v = NULL;
	int rc;

	rc = json_prescan(data, len, source, err);
	if (rc)
		goto out;
	skip_blanks(data, len, &off, &line, &col);
	while (off < len) {
		json_error_t jerr;
		size_t used;
		int el;
		int ec;

		v = json_loadb(data + off, len - off, flags, &jerr);
		if (!v) {
			/* jansson counts from the start of this value */
			el = jerr.line;
			ec = jerr.column;
			if (el == 1 && ec > 0)
				ec += col - 1;
			if (el > 0)
				el += line - 1;
			rc = gv_error_set(err,
					  json_error_code(&jerr) ==
						  json_error_out_of_memory
					      ? GV_ENOMEM
					      : GV_EPARSE,
					  source, el > 0 ? el : 0,
					  ec > 0 ? ec : 0, "%s", jerr.text);
			goto out;
		}
		if (json_array_append_new(docs, v) ||
		    json_array_append_new(lines, json_integer(line))) {
			v = NULL;
			rc = gv_error_set(err, GV_ENOMEM, source, 0, 0,
					  "out of memory");
			goto out;
		}
		v = NULL;
		used = jerr.position > 0 ? (size_t)jerr.position : len - off;
		for (size_t i = off; i < off + used && i < len; i++) {
			unsigned char b = (unsigned char)data[i];

			if (b == '\n') {
				line++;
				col = 1;
			} else if ((b & 0xC0) != 0x80) {
				col++;
			}
		}
		off += used;
		skip_blanks(data, len, &off, &line, &col);
		/* after the first, any JSON value may follow */
		flags |= JSON_DECODE_ANY;
	}
out:
	json_decref(v);
	return rc;
}

int gv_read_documents(const char *data, size_t len, const char *source,
		      json_t **docs_out, json_t **lines_out, gv_error_t *err)
{
	json_t *docs = NULL;
	json_t *lines = NULL;
	size_t first = 0;
	int rc = GV_OK;

	if (!docs_out || (!data && len)) {
		rc = gv_error_set(err, GV_EINVAL, source, 0, 0,
				  "no input or no place for the documents");
		goto out;
	}
	/* Checked before anything is read: the caller's len is the limit. */
	if (len > GV_READ_MAX_BYTES) {
		rc = gv_error_set(err, GV_ETOOBIG, source, 0, 0,
				  "input is too large: %zu bytes, limit %zu",
				  len, GV_READ_MAX_BYTES);
		goto out;
	}
	if (!data)
		data = "";
	docs = json_array();
	lines = json_array();
	if (!docs || !lines) {
		rc =
		    gv_error_set(err, GV_ENOMEM, source, 0, 0, "out of memory");
		goto out;
	}
	while (first < len && is_blank(data[first]))
		first++;
	if (first < len && (data[first] == '{' || data[first] == '['))
		rc = read_json(data, len, source, docs, lines, err);
	else
		rc = read_yaml(data, len, source, docs, lines, err);
	if (rc)
		goto out;
	*docs_out = docs;
	docs = NULL;
	if (lines_out) {
		*lines_out = lines;
		lines = NULL;
	}
out:
	json_decref(docs);
	json_decref(lines);
	return rc;
}
