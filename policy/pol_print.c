/* SPDX-License-Identifier: Apache-2.0 */
/* pol_print.c: Go-compatible value printing on a gv_buf, and
 * small helpers of the policy files. */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>

#include "groved/gv_json.h"
#include "pol_int.h"

void pol_print_quote(gv_buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	gv_buf_add(b, "\"", 1);
	for (; *p; p++) {
		switch (*p) {
		case '"':
			gv_buf_add(b, "\\\"", 2);
			break;
		case '\\':
			gv_buf_add(b, "\\\\", 2);
			break;
		case '\n':
			gv_buf_add(b, "\\n", 2);
			break;
		case '\t':
			gv_buf_add(b, "\\t", 2);
			break;
		case '\r':
			gv_buf_add(b, "\\r", 2);
			break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				gv_buf_printf(b, "\\x%02x", *p);
			else
				gv_buf_add(b, (const char *)p, 1);
		}
	}
	gv_buf_add(b, "\"", 1);
}

/* Go prints a float64 with %v as the shortest representation that reads
 * back the same; %.17g and trimming gets there for the common cases. */
static void buf_real(gv_buf *b, double d)
{
	char tmp[64];
	int prec = 1;

	for (prec = 1; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	gv_buf_addstr(b, tmp);
}

/* A JSON string, escaped as JSON (not Go) requires. */
static void buf_json_string(gv_buf *b, const char *s, size_t n)
{
	(void)gv_json_escape(b, s, n, NULL, NULL);
}

/* Deeper values print as "..."; messages need no more. */
#define VALUE_MAX_DEPTH 32

/*
 * Compact JSON, written here rather than with json_dumps: jansson 2.14
 * ignores a failed write of an object key and returns corrupted text when
 * an allocation fails, while gv_buf fails as a whole.
 */
static void buf_json(gv_buf *b, const json_t *value, int depth)
{
	const char *key = NULL;
	json_t *member = NULL;
	size_t i = 0;

	if (depth > VALUE_MAX_DEPTH) {
		gv_buf_addstr(b, "\"...\"");
		return;
	}
	switch (json_typeof(value)) {
	case JSON_OBJECT:
		gv_buf_addstr(b, "{");
		json_object_foreach((json_t *)value, key, member)
		{
			if (i++)
				gv_buf_addstr(b, ",");
			buf_json_string(b, key, strlen(key));
			gv_buf_addstr(b, ":");
			buf_json(b, member, depth + 1);
		}
		gv_buf_addstr(b, "}");
		break;
	case JSON_ARRAY:
		gv_buf_addstr(b, "[");
		json_array_foreach(value, i, member)
		{
			if (i)
				gv_buf_addstr(b, ",");
			buf_json(b, member, depth + 1);
		}
		gv_buf_addstr(b, "]");
		break;
	case JSON_STRING:
		buf_json_string(b, json_string_value(value),
				json_string_length(value));
		break;
	default:
		pol_print_value(b, value);
	}
}

void pol_print_value(gv_buf *b, const json_t *value)
{
	switch (json_typeof(value)) {
	case JSON_STRING:
		pol_print_quote(b, json_string_value(value));
		break;
	case JSON_INTEGER:
		gv_buf_printf(b, "%" PRId64,
			      (int64_t)json_integer_value(value));
		break;
	case JSON_REAL:
		buf_real(b, json_real_value(value));
		break;
	case JSON_TRUE:
		gv_buf_addstr(b, "true");
		break;
	case JSON_FALSE:
		gv_buf_addstr(b, "false");
		break;
	case JSON_NULL:
		gv_buf_addstr(b, "null");
		break;
	default:
		buf_json(b, value, 0);
	}
}

void pol_path(char *dst, const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	va_start(ap, fmt);
	n = vsnprintf(dst, POL_PATH_MAX, fmt, ap);
	va_end(ap);
	/* cut: never in the middle of a character (the path goes into
	 * JSON, which must be valid UTF-8) */
	if (n >= 0 && (size_t)n >= POL_PATH_MAX)
		dst[gv_utf8_cut(dst, POL_PATH_MAX - 1)] = '\0';
}

json_t *pol_jstr(const char *s)
{
	return s ? json_string(s) : json_null();
}

bool pol_get_int(const json_t *obj, const char *key, int64_t *out)
{
	const json_t *v = json_object_get(obj, key);

	if (!json_is_integer(v))
		return false;
	*out = json_integer_value(v);
	return true;
}

const char *pol_get_str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

bool pol_seen(json_t *set, const char *key, size_t idx, size_t *first,
	      pol_verdict *v)
{
	const json_t *had = json_object_get(set, key);

	if (had) {
		if (first)
			*first = (size_t)json_integer_value(had);
		return true;
	}
	if (!set || json_object_set_new_nocheck(set, key,
						json_integer((json_int_t)idx)))
		v->oom = true;
	return false;
}

void pol_field_from_pointer(const char *ptr, char *out, size_t size)
{
	size_t used = 0;
	const char *p = ptr;

	if (size == 0)
		return;
	out[0] = '\0';
	while (*p == '/' && used < size) {
		size_t len = strcspn(p + 1, "/");
		bool index = len > 0 && strspn(p + 1, "0123456789") >= len;
		int n = index ? snprintf(out + used, size - used, "[%.*s]",
					 (int)len, p + 1)
			      : snprintf(out + used, size - used, "%s%.*s",
					 used ? "." : "", (int)len, p + 1);

		used += n > 0 ? (size_t)n : 0;
		p += len + 1;
	}
}
