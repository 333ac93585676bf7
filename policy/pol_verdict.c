/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pol_verdict.c: field errors and warnings, printed the way
 * k8s.io/apimachinery prints them, so that kubectl shows groved's denials
 * exactly like the API server's own (docs/api.md section 4.3).
 */
#include <stdarg.h>
#include <stdint.h>

#include "pol_int.h"

/* The hard maximum of one printed message: an accounting slip shows as
 * a test failure (messages stay within POL_VERDICT_BYTES_MAX), never as
 * a NULL that reads as out of memory. */
#define VERDICT_MESSAGE_MAX (2 * POL_VERDICT_BYTES_MAX)
/* Kept free for the closing "Too many" error and the brackets. */
#define VERDICT_MORE_ROOM ((size_t)1 << 10)
#define VERDICT_MORE_DETAIL                                                   \
	"errors left out: one answer holds at most 1 MiB of errors; fix the " \
	"ones above and try again"

static const struct {
	const char *text;
	const char *reason;
	bool shows_value;
} fe_info[] = {
#define POL_FE_X_INFO(id, text, reason, shows) { text, reason, shows },
	POL_FE_TABLE(POL_FE_X_INFO)
#undef POL_FE_X_INFO
};

const char *pol_fe_reason(pol_fe_type type)
{
	return fe_info[type].reason;
}

const char *pol_fe_text(pol_fe_type type)
{
	return fe_info[type].text;
}

void pol_verdict_init(pol_verdict *v)
{
	*v = (pol_verdict)POL_VERDICT_INIT;
}

static void ferr_release(pol_ferr *e)
{
	free(e->field);
	free(e->detail);
	json_decref(e->value);
}

void pol_verdict_release(pol_verdict *v)
{
	size_t i = 0;

	for (i = 0; i < v->n_errors; i++)
		ferr_release(&v->errors[i]);
	for (i = 0; i < v->n_warnings; i++)
		free(v->warnings[i]);
	free(v->errors);
	free(v->warnings);
	pol_verdict_init(v);
}

/* Grows an array of elements of size elem to hold one more. */
static bool grow(void **items, size_t *cap, size_t n, size_t elem)
{
	size_t ncap = 0;
	void *p = NULL;

	if (n < *cap)
		return true;
	ncap = *cap ? *cap * 2 : 8;
	p = realloc(*items, ncap * elem);
	if (!p)
		return false;
	*items = p;
	*cap = ncap;
	return true;
}

/* A new copy of s[0..n), cut to at most max bytes at a character
 * boundary. NULL only when out of memory. */
static char *text_dup(const char *s, size_t n, size_t max)
{
	char *d = NULL;

	if (n > max)
		n = gv_utf8_cut(s, max);
	d = malloc(n + 1);
	if (!d)
		return NULL;
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

/* A new string from a printf-like format, cut at POL_VERDICT_TEXT_MAX (at
 * a character boundary). NULL only when out of memory. */
static char *vformat(const char *fmt, va_list ap)
{
	va_list cp;
	char *s = NULL;
	int n = 0;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0) /* a format error, not the input's doing */
		return strdup("");
	if ((size_t)n > POL_VERDICT_TEXT_MAX)
		n = (int)POL_VERDICT_TEXT_MAX;
	s = malloc((size_t)n + 1);
	if (!s)
		return NULL;
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	s[gv_utf8_cut(s, (size_t)n)] = '\0';
	return s;
}

/* Appends the value as Kubernetes prints it, cut after
 * POL_VERDICT_VALUE_MAX bytes with "...". False only when out of memory. */
static bool value_into(gv_buf *b, const json_t *value)
{
	gv_buf vb;
	bool ok = true;

	if (!value) {
		gv_buf_addstr(b, "null"); /* absent, as Go prints a nil */
		return true;
	}
	gv_buf_init(&vb, POL_VERDICT_VALUE_MAX);
	pol_print_value(&vb, value);
	/* too big: what fit, then "..." */
	ok = gv_buf_add_cut(b, &vb, "...") != GV_ENOMEM;
	gv_buf_release(&vb);
	return ok;
}

/* Appends e without its field. False only when out of memory (b's own
 * failure aside, which its owner tests). */
static bool message_into(gv_buf *b, const pol_ferr *e)
{
	bool ok = true;

	gv_buf_addstr(b, fe_info[e->type].text);
	if (fe_info[e->type].shows_value) {
		gv_buf_addstr(b, ": ");
		ok = value_into(b, e->value);
	}
	if (e->detail && e->detail[0]) {
		gv_buf_addstr(b, ": ");
		gv_buf_addstr(b, e->detail);
	}
	return ok;
}

/* What e adds to the verdict's message: "<field>: <message>, ". Sets
 * *ok false when out of memory. */
static size_t error_bytes(const pol_ferr *e, bool *ok)
{
	gv_buf b;
	size_t n = 0;

	gv_buf_init(&b, VERDICT_MESSAGE_MAX);
	*ok = message_into(&b, e) && !b.failed;
	n = strlen(e->field) + 2 + b.len + 2;
	gv_buf_release(&b);
	return n;
}

/* One more error left out: counted in the closing "Too many" error,
 * added by the first. */
static void omit(pol_verdict *v)
{
	pol_ferr e = { NULL, POL_FE_TOO_MANY, NULL, NULL };

	if (v->n_omitted) {
		v->n_omitted++;
		json_integer_set(v->errors[v->n_errors - 1].value,
				 (json_int_t)v->n_omitted);
		return;
	}
	if (!grow((void **)&v->errors, &v->cap_errors, v->n_errors,
		  sizeof(*v->errors)))
		goto fail;
	e.field = strdup(POL_VERDICT_MORE_FIELD);
	e.detail = strdup(VERDICT_MORE_DETAIL);
	e.value = json_integer(1);
	if (!e.field || !e.detail || !e.value)
		goto fail;
	v->errors[v->n_errors++] = e;
	v->n_omitted = 1;
	return;
fail:
	v->oom = true;
	ferr_release(&e);
}

void pol_verdict_add(pol_verdict *v, pol_fe_type type, const char *field,
		     json_t *value, const char *detail_fmt, ...)
{
	pol_ferr e = { NULL, type, value, NULL };
	va_list ap;
	size_t bytes = 0;
	bool ok = true;

	if (v->oom)
		goto drop;
	if (v->n_omitted) { /* past the budget: only counted */
		omit(v);
		goto drop;
	}
	if (!fe_info[type].shows_value) {
		json_decref(e.value);
		e.value = NULL;
	}
	e.field = text_dup(field, strlen(field), POL_VERDICT_TEXT_MAX);
	if (!e.field)
		goto fail;
	if (detail_fmt) {
		va_start(ap, detail_fmt);
		e.detail = vformat(detail_fmt, ap);
		va_end(ap);
		if (!e.detail)
			goto fail;
	}
	/* past the budget the error is counted, not kept: a long list is
	 * the input's doing, not out of memory */
	bytes = error_bytes(&e, &ok);
	if (!ok)
		goto fail;
	if (v->bytes + bytes > POL_VERDICT_BYTES_MAX - VERDICT_MORE_ROOM) {
		omit(v);
		goto drop;
	}
	if (!grow((void **)&v->errors, &v->cap_errors, v->n_errors,
		  sizeof(*v->errors)))
		goto fail;
	v->errors[v->n_errors++] = e;
	v->bytes += bytes;
	return;
fail:
	v->oom = true;
drop:
	ferr_release(&e);
}

json_t *pol_verdict_copy(pol_verdict *v, const json_t *x)
{
	json_t *c = NULL;

	if (!x)
		return NULL;
	c = json_deep_copy(x);
	if (!c)
		v->oom = true;
	return c;
}

json_t *pol_verdict_int(pol_verdict *v, int64_t n)
{
	json_t *j = json_integer((json_int_t)n);

	if (!j)
		v->oom = true;
	return j;
}

/* s with each byte that is not part of valid UTF-8 as U+FFFD: a new
 * string, NULL when out of memory. */
static char *utf8_repair(const char *s, size_t n)
{
	char *d = malloc(3 * n + 1);
	size_t i = 0;
	size_t o = 0;

	if (!d)
		return NULL;
	while (i < n) {
		size_t l = gv_utf8_len((const unsigned char *)s + i, n - i);

		if (l) {
			memcpy(d + o, s + i, l);
			o += l;
			i += l;
		} else {
			memcpy(d + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		}
	}
	d[o] = '\0';
	return d;
}

json_t *pol_verdict_str(pol_verdict *v, const char *s)
{
	json_t *j = NULL;
	char *fixed = NULL;
	size_t n = 0;
	size_t i = 0;

	if (!s)
		return NULL;
	n = strlen(s);
	for (i = 0; i < n;) {
		size_t l = gv_utf8_len((const unsigned char *)s + i, n - i);

		if (!l)
			break;
		i += l;
	}
	if (i < n) {
		fixed = utf8_repair(s, n);
		if (!fixed)
			goto out;
		s = fixed;
	}
	j = json_string(s);
out:
	if (!j)
		v->oom = true;
	free(fixed);
	return j;
}

void pol_verdict_warn(pol_verdict *v, const char *fmt, ...)
{
	char *text = NULL;
	va_list ap;

	if (v->oom)
		return;
	if (!grow((void **)&v->warnings, &v->cap_warnings, v->n_warnings,
		  sizeof(*v->warnings))) {
		v->oom = true;
		return;
	}
	va_start(ap, fmt);
	text = vformat(fmt, ap);
	va_end(ap);
	if (!text) {
		v->oom = true;
		return;
	}
	v->warnings[v->n_warnings++] = text;
}

/* b's text for the caller, or NULL (b released) when ok is false. */
static char *detach_if(gv_buf *b, bool ok)
{
	if (!ok) {
		gv_buf_release(b);
		return NULL;
	}
	return gv_buf_detach(b, NULL);
}

char *pol_ferr_message(const pol_ferr *e)
{
	gv_buf b;
	bool ok = true;

	gv_buf_init(&b, VERDICT_MESSAGE_MAX);
	ok = message_into(&b, e);
	return detach_if(&b, ok);
}

char *pol_ferr_string(const pol_ferr *e)
{
	gv_buf b;
	bool ok = true;

	gv_buf_init(&b, VERDICT_MESSAGE_MAX);
	gv_buf_addstr(&b, e->field);
	gv_buf_addstr(&b, ": ");
	ok = message_into(&b, e);
	return detach_if(&b, ok);
}

char *pol_verdict_message(const pol_verdict *v)
{
	gv_buf b;
	size_t i = 0;
	bool ok = true;

	if (v->n_errors == 0)
		return NULL;
	gv_buf_init(&b, VERDICT_MESSAGE_MAX);
	if (v->n_errors > 1)
		gv_buf_addstr(&b, "[");
	for (i = 0; ok && i < v->n_errors; i++) {
		if (i)
			gv_buf_addstr(&b, ", ");
		gv_buf_addstr(&b, v->errors[i].field);
		gv_buf_addstr(&b, ": ");
		ok = message_into(&b, &v->errors[i]);
	}
	if (v->n_errors > 1)
		gv_buf_addstr(&b, "]");
	return detach_if(&b, ok);
}

json_t *pol_verdict_causes(const pol_verdict *v)
{
	json_t *causes = json_array();
	json_t *cause = NULL;
	char *msg = NULL;
	size_t i = 0;

	if (!causes)
		goto fail;
	for (i = 0; i < v->n_errors; i++) {
		msg = pol_ferr_message(&v->errors[i]);
		if (!msg)
			goto fail;
		cause = json_pack("{s:s, s:s, s:s}", "reason",
				  fe_info[v->errors[i].type].reason, "message",
				  msg, "field", v->errors[i].field);
		free(msg);
		msg = NULL;
		if (!cause || json_array_append_new(causes, cause) != 0)
			goto fail;
		cause = NULL;
	}
	return causes;
fail:
	json_decref(causes);
	return NULL;
}

/*
 * Document order. A field path such as spec.podCliques[2].startsAfter[1]
 * is walked through doc; each step contributes the position of its member
 * (objects keep their keys in document order) or its index. A step the
 * document does not have (a field only the defaults would write) sorts
 * after its existing siblings. Keys are compared lexicographically.
 */
#define ORDER_DEPTH 16

typedef struct order_key {
	size_t pos[ORDER_DEPTH];
	size_t n;
	size_t seq; /* the order the checks found it in, for stability */
} order_key;

static size_t member_position(const json_t *obj, const char *key, size_t len)
{
	const char *k = NULL;
	json_t *val = NULL;
	size_t pos = 0;

	json_object_foreach((json_t *)obj, k, val)
	{
		if (strlen(k) == len && memcmp(k, key, len) == 0)
			return pos;
		pos++;
	}
	return SIZE_MAX - 1;
}

static void order_key_of(const char *field, const json_t *doc, order_key *k)
{
	const json_t *cur = doc;
	const char *p = field;

	k->n = 0;
	while (*p && k->n < ORDER_DEPTH) {
		size_t pos = SIZE_MAX - 1;
		size_t len = 0;

		if (*p == '.') {
			p++;
			continue;
		}
		if (*p == '[') {
			char *end = NULL;
			unsigned long long idx = strtoull(p + 1, &end, 10);

			if (end && *end == ']' && json_is_array(cur)) {
				pos = (size_t)idx;
				cur = json_array_get(cur, (size_t)idx);
				p = end + 1;
			} else {
				const char *close = strchr(p, ']');

				len = close ? (size_t)(close - p - 1)
					    : strlen(p + 1);
				if (json_is_object(cur))
					pos = member_position(cur, p + 1, len);
				cur = NULL;
				p = close ? close + 1 : p + strlen(p);
			}
		} else {
			len = strcspn(p, ".[");
			if (json_is_object(cur)) {
				pos = member_position(cur, p, len);
				cur = pos < SIZE_MAX - 1
					  ? json_object_getn(cur, p, len)
					  : NULL;
			} else {
				cur = NULL;
			}
			p += len;
		}
		k->pos[k->n++] = pos;
	}
}

static int order_cmp(const void *a, const void *b)
{
	const order_key *x = a;
	const order_key *y = b;
	size_t i = 0;

	for (i = 0; i < x->n && i < y->n; i++) {
		if (x->pos[i] != y->pos[i])
			return x->pos[i] < y->pos[i] ? -1 : 1;
	}
	if (x->n != y->n)
		return x->n < y->n ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void pol_verdict_sort(pol_verdict *v, const json_t *doc)
{
	order_key *keys = NULL;
	pol_ferr *sorted = NULL;
	/* the closing "Too many" error stays last */
	size_t n = v->n_errors - (v->n_omitted ? 1 : 0);
	size_t i = 0;

	if (v->n_errors < 2 || n < 2)
		return;
	keys = calloc(n, sizeof(*keys));
	sorted = calloc(n, sizeof(*sorted));
	if (!keys || !sorted) {
		v->oom = true;
		goto out;
	}
	for (i = 0; i < n; i++) {
		order_key_of(v->errors[i].field, doc, &keys[i]);
		keys[i].seq = i;
	}
	qsort(keys, n, sizeof(*keys), order_cmp);
	for (i = 0; i < n; i++)
		sorted[i] = v->errors[keys[i].seq];
	memcpy(v->errors, sorted, n * sizeof(*sorted));
out:
	free(keys);
	free(sorted);
}
