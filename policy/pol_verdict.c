/*
 * pol_verdict.c: field errors and warnings, printed the way
 * k8s.io/apimachinery prints them, so that kubectl shows groved's denials
 * exactly like the API server's own (docs/api.md section 4.3).
 */
#include <stdarg.h>
#include <stdint.h>

#include "pol_int.h"

/* Messages are for people; no single one needs more than this. */
#define VERDICT_TEXT_MAX ((size_t)64 << 10)
#define VERDICT_MESSAGE_MAX ((size_t)1 << 20)

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

void pol_verdict_release(pol_verdict *v)
{
	size_t i = 0;

	for (i = 0; i < v->n_errors; i++) {
		free(v->errors[i].field);
		free(v->errors[i].detail);
		json_decref(v->errors[i].value);
	}
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

/* A new string from a printf-like format, cut at VERDICT_TEXT_MAX. */
static char *vformat(const char *fmt, va_list ap)
{
	va_list cp;
	char *s = NULL;
	int n = 0;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return NULL;
	if ((size_t)n > VERDICT_TEXT_MAX)
		n = (int)VERDICT_TEXT_MAX;
	s = malloc((size_t)n + 1);
	if (s)
		vsnprintf(s, (size_t)n + 1, fmt, ap);
	return s;
}

void pol_verdict_add(pol_verdict *v, pol_fe_type type, const char *field,
		     json_t *value, const char *detail_fmt, ...)
{
	pol_ferr e = { NULL, type, value, NULL };
	va_list ap;

	if (v->oom)
		goto fail;
	if (!grow((void **)&v->errors, &v->cap_errors, v->n_errors,
		  sizeof(*v->errors)))
		goto fail;
	e.field = strdup(field);
	if (!e.field)
		goto fail;
	if (detail_fmt) {
		va_start(ap, detail_fmt);
		e.detail = vformat(detail_fmt, ap);
		va_end(ap);
		if (!e.detail)
			goto fail;
	}
	/* a type that prints its value always gets one: NULL here is a
	 * failed allocation in the caller (json_string, json_deep_copy) */
	if (!fe_info[type].shows_value) {
		json_decref(e.value);
		e.value = NULL;
	} else if (!e.value) {
		goto fail;
	}
	v->errors[v->n_errors++] = e;
	return;
fail:
	v->oom = true;
	free(e.field);
	free(e.detail);
	json_decref(value);
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

static void message_into(pol_buf *b, const pol_ferr *e)
{
	pol_buf_puts(b, fe_info[e->type].text);
	if (fe_info[e->type].shows_value) {
		pol_buf_puts(b, ": ");
		pol_buf_value(b, e->value);
	}
	if (e->detail && e->detail[0]) {
		pol_buf_puts(b, ": ");
		pol_buf_puts(b, e->detail);
	}
}

char *pol_ferr_message(const pol_ferr *e)
{
	pol_buf b;

	pol_buf_init(&b, VERDICT_MESSAGE_MAX);
	message_into(&b, e);
	return pol_buf_detach(&b);
}

char *pol_ferr_string(const pol_ferr *e)
{
	pol_buf b;

	pol_buf_init(&b, VERDICT_MESSAGE_MAX);
	pol_buf_puts(&b, e->field);
	pol_buf_puts(&b, ": ");
	message_into(&b, e);
	return pol_buf_detach(&b);
}

char *pol_verdict_message(const pol_verdict *v)
{
	pol_buf b;
	size_t i = 0;

	if (v->n_errors == 0)
		return NULL;
	pol_buf_init(&b, VERDICT_MESSAGE_MAX);
	if (v->n_errors > 1)
		pol_buf_puts(&b, "[");
	for (i = 0; i < v->n_errors; i++) {
		if (i)
			pol_buf_puts(&b, ", ");
		pol_buf_puts(&b, v->errors[i].field);
		pol_buf_puts(&b, ": ");
		message_into(&b, &v->errors[i]);
	}
	if (v->n_errors > 1)
		pol_buf_puts(&b, "]");
	return pol_buf_detach(&b);
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
	size_t i = 0;

	if (v->n_errors < 2)
		return;
	keys = calloc(v->n_errors, sizeof(*keys));
	sorted = calloc(v->n_errors, sizeof(*sorted));
	if (!keys || !sorted) {
		v->oom = true;
		goto out;
	}
	for (i = 0; i < v->n_errors; i++) {
		order_key_of(v->errors[i].field, doc, &keys[i]);
		keys[i].seq = i;
	}
	qsort(keys, v->n_errors, sizeof(*keys), order_cmp);
	for (i = 0; i < v->n_errors; i++)
		sorted[i] = v->errors[keys[i].seq];
	memcpy(v->errors, sorted, v->n_errors * sizeof(*sorted));
out:
	free(keys);
	free(sorted);
}
