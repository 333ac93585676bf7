/*
 * srv_admission.c: AdmissionReview in, AdmissionReview out (docs/api.md
 * sections 3, 4, 6 and 8).
 *
 * The path of one request: pol_json_parse (several times faster than
 * jansson's own parser, which would be most of a request's cost) reads
 * the body once, refusing nesting deeper than SRV_MAX_DEPTH; the envelope
 * is checked and borrowed into a srv_review (no copy of the object); the
 * hook decides; the answer is written straight into one growing buffer,
 * compact, with the JSON Patch base64-encoded in place. Nothing here
 * keeps state between requests.
 *
 * Decisions:
 * - Duplicate keys are refused (POL_JSON_REJECT_DUPLICATES). kube-apiserver
 *   serialises Go structs and never sends them, so a body that has them
 *   did not come from it; and a document whose meaning depends on which
 *   duplicate wins (Go keeps the last, other parsers the first) should not
 *   be judged at all. The check is one hash lookup per key.
 * - Nesting is limited to SRV_MAX_DEPTH levels by the parser: a review is
 *   2 levels above the object, and no real PodCliqueSet or Pod comes near
 *   100, while the policy and the writers below recurse over the object.
 * - Strings are written with our own escaper, which also replaces any
 *   invalid UTF-8 (a message cut by a fixed buffer) by U+FFFD, so the
 *   answer is always valid JSON.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>

#include "groved/gv.h"
#include "srv_admission.h"

/* Nesting levels of objects and arrays a request body may have. */
#define SRV_MAX_DEPTH 256
/* Longest request.uid accepted (Kubernetes sends a 36-character UUID). */
#define SRV_MAX_UID 128
/* Bytes of a user's value quoted in an error message. */
#define SRV_QUOTE_MAX 64
#define SRV_ERR_MAX 512

/* ---- the hook table --------------------------------------------------- */

static const char *const hook_paths[SRV_HOOK_COUNT] = {
#define SRV_HOOK_X_PATH(id, path, name) [id] = path,
	SRV_HOOK_TABLE(SRV_HOOK_X_PATH)
#undef SRV_HOOK_X_PATH
};

static const char *const hook_names[SRV_HOOK_COUNT] = {
#define SRV_HOOK_X_NAME(id, path, name) [id] = name,
	SRV_HOOK_TABLE(SRV_HOOK_X_NAME)
#undef SRV_HOOK_X_NAME
};

static const srv_hook_fn hook_fns[SRV_HOOK_COUNT] = {
	[SRV_HOOK_DEFAULT_PCS] = srv_hook_default_pcs,
	[SRV_HOOK_VALIDATE_PCS] = srv_hook_validate_pcs,
	[SRV_HOOK_VALIDATE_SCALE] = srv_hook_validate_scale,
	[SRV_HOOK_MUTATE_POD] = srv_hook_mutate_pod,
	[SRV_HOOK_VALIDATE_CTB] = srv_hook_validate_ctb,
	[SRV_HOOK_AUTHORIZER] = srv_hook_authorize,
};

int srv_hook_from_path(const char *path)
{
	int i = 0;

	if (!path)
		return -1;
	for (i = 0; i < SRV_HOOK_COUNT; i++) {
		if (strcmp(path, hook_paths[i]) == 0)
			return i;
	}
	return -1;
}

const char *srv_hook_path(srv_hook hook)
{
	if ((int)hook < 0 || hook >= SRV_HOOK_COUNT)
		return "";
	return hook_paths[hook];
}

const char *srv_hook_name(srv_hook hook)
{
	if ((int)hook < 0 || hook >= SRV_HOOK_COUNT)
		return "";
	return hook_names[hook];
}

/* ---- answers ---------------------------------------------------------- */

void srv_answer_init(srv_answer *a)
{
	memset(a, 0, sizeof(*a));
	a->allowed = true;
}

void srv_answer_release(srv_answer *a)
{
	if (!a)
		return;
	free(a->message);
	json_decref(a->causes);
	json_decref(a->warnings);
	json_decref(a->patch);
	srv_answer_init(a);
}

/* Bytes of a field path or detail kept in the short form. */
#define SHORT_PART_MAX 1024

/* Appends s to the malloc'd string *buf (of *len bytes), at most max
 * bytes of it, cut at a UTF-8 boundary. Returns false when out of
 * memory. */
static bool str_append(char **buf, size_t *len, const char *s, size_t max)
{
	size_t n = strlen(s);
	char *p = NULL;

	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	p = realloc(*buf, *len + n + 1);
	if (!p)
		return false;
	memcpy(p + *len, s, n);
	*len += n;
	p[*len] = '\0';
	*buf = p;
	return true;
}

/*
 * The message and causes of v with each error as "<field>: <Type>" plus
 * its detail when short: what a denial says when the full form could not
 * be built (out of memory). Out-params new on GV_OK; GV_ENOMEM otherwise.
 */
static int short_verdict(const pol_verdict *v, char **message_out,
			 json_t **causes_out)
{
	char *msg = NULL;
	size_t len = 0;
	char *one = NULL;
	size_t one_len = 0;
	json_t *causes = json_array();
	json_t *cause = NULL;
	size_t i = 0;
	int rc = GV_ENOMEM;

	if (!causes || !str_append(&msg, &len, v->n_errors > 1 ? "[" : "", 1))
		goto out;
	for (i = 0; i < v->n_errors; i++) {
		const pol_ferr *e = &v->errors[i];

		one_len = 0;
		if (!str_append(&one, &one_len, pol_fe_text(e->type),
				SHORT_PART_MAX))
			goto out;
		if (e->detail && strlen(e->detail) <= SHORT_PART_MAX &&
		    (!str_append(&one, &one_len, ": ", 2) ||
		     !str_append(&one, &one_len, e->detail, SHORT_PART_MAX)))
			goto out;
		if ((i && !str_append(&msg, &len, ", ", 2)) ||
		    !str_append(&msg, &len, e->field, SHORT_PART_MAX) ||
		    !str_append(&msg, &len, ": ", 2) ||
		    !str_append(&msg, &len, one, SIZE_MAX))
			goto out;
		cause = json_object();
		if (!cause ||
		    json_object_set_new(cause, "reason",
					json_string(pol_fe_reason(e->type))) ||
		    json_object_set_new(cause, "message",
					json_stringn_nocheck(one, one_len)) ||
		    json_object_set_new(
			cause, "field",
			json_stringn_nocheck(e->field, strlen(e->field))) ||
		    json_array_append_new(causes, cause))
			goto out;
		cause = NULL;
	}
	if (!str_append(&msg, &len, v->n_errors > 1 ? "]" : "", 1))
		goto out;
	*message_out = msg;
	msg = NULL;
	*causes_out = causes;
	causes = NULL;
	rc = GV_OK;
out:
	free(msg);
	free(one);
	json_decref(cause);
	json_decref(causes);
	return rc;
}

int srv_answer_from_verdict(srv_answer *a, const pol_verdict *v)
{
	char *message = NULL;
	json_t *causes = NULL;
	json_t *warnings = NULL;
	size_t i = 0;
	int rc = GV_ENOMEM;

	if (v->oom)
		goto out;
	if (v->n_errors) {
		message = pol_verdict_message(v);
		causes = pol_verdict_causes(v);
		if (!message || !causes) {
			/* NULL only when out of memory (a verdict's size is
			 * bounded: POL_VERDICT_BYTES_MAX): the errors without
			 * their values need less; then 500 */
			free(message);
			json_decref(causes);
			message = NULL;
			causes = NULL;
			if (short_verdict(v, &message, &causes) != GV_OK)
				goto out;
		}
	}
	if (v->n_warnings) {
		warnings = json_array();
		if (!warnings)
			goto out;
		for (i = 0; i < v->n_warnings; i++) {
			/* nocheck: the writer below repairs bad UTF-8 */
			json_t *w = json_stringn_nocheck(
			    v->warnings[i], strlen(v->warnings[i]));

			if (json_array_append_new(warnings, w) != 0)
				goto out;
		}
	}
	a->allowed = v->n_errors == 0;
	a->code = v->n_errors ? 403 : 0;
	a->reason = v->n_errors ? "Forbidden" : NULL;
	free(a->message);
	a->message = message;
	message = NULL;
	json_decref(a->causes);
	a->causes = causes;
	causes = NULL;
	json_decref(a->warnings);
	a->warnings = warnings;
	warnings = NULL;
	rc = GV_OK;
out:
	free(message);
	json_decref(causes);
	json_decref(warnings);
	return rc;
}

void srv_reply_release(srv_reply *r)
{
	if (!r)
		return;
	free(r->body);
	r->body = NULL;
	r->len = 0;
}

/* ---- the output buffer ------------------------------------------------ */

/* A growing byte buffer; failure is sticky (`oom`), so writers need not
 * test every call. */
typedef struct obuf {
	char *p;
	size_t len;
	size_t cap;
	bool oom;
} obuf;

static bool ob_grow(obuf *b, size_t more)
{
	size_t want = 0;
	char *p = NULL;

	if (b->oom)
		return false;
	if (more < b->cap - b->len)
		return true;
	if (more > SIZE_MAX / 2 - b->len) {
		b->oom = true;
		return false;
	}
	want = b->cap ? b->cap : 256;
	while (want - b->len <= more)
		want *= 2;
	p = realloc(b->p, want);
	if (!p) {
		b->oom = true;
		return false;
	}
	b->p = p;
	b->cap = want;
	return true;
}

static void ob_put(obuf *b, const char *s, size_t n)
{
	if (!ob_grow(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void ob_puts(obuf *b, const char *s)
{
	ob_put(b, s, strlen(s));
}

static void ob_printf(obuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void ob_printf(obuf *b, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;
	int n = 0;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		b->oom = true;
		return;
	}
	ob_put(b, tmp, (size_t)n);
}

/* s[0..n) as a JSON string, quotes included. */
static void ob_json_strn(obuf *b, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;
	size_t run = 0; /* start of the bytes not yet written */

	ob_put(b, "\"", 1);
	while (i < n) {
		unsigned char c = u[i];
		size_t l = 0;
		char esc[8];

		if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0x80) {
			l = gv_utf8_len(u + i, n - i);
			if (l) {
				i += l;
				continue;
			}
		}
		ob_put(b, s + run, i - run);
		if (c == '"')
			ob_put(b, "\\\"", 2);
		else if (c == '\\')
			ob_put(b, "\\\\", 2);
		else if (c == '\n')
			ob_put(b, "\\n", 2);
		else if (c == '\t')
			ob_put(b, "\\t", 2);
		else if (c == '\r')
			ob_put(b, "\\r", 2);
		else if (c < 0x20) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			ob_put(b, esc, 6);
		} else {
			ob_put(b, "\\ufffd", 6); /* invalid UTF-8 */
		}
		i++;
		run = i;
	}
	ob_put(b, s + run, n - run);
	ob_put(b, "\"", 1);
}

static void ob_json_str(obuf *b, const char *s)
{
	ob_json_strn(b, s, strlen(s));
}

/* v as compact JSON. The depth is bounded by the request's pre-scan and
 * by what the policy builds; the guard is for safety only. */
static void ob_json(obuf *b, const json_t *v, int depth)
{
	const char *key = NULL;
	const json_t *el = NULL;
	size_t i = 0;

	if (depth > SRV_MAX_DEPTH) {
		b->oom = true;
		return;
	}
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		ob_put(b, "{", 1);
		json_object_foreach((json_t *)v, key, el)
		{
			if (i++)
				ob_put(b, ",", 1);
			ob_json_str(b, key);
			ob_put(b, ":", 1);
			ob_json(b, el, depth + 1);
		}
		ob_put(b, "}", 1);
		break;
	case JSON_ARRAY:
		ob_put(b, "[", 1);
		json_array_foreach(v, i, el)
		{
			if (i)
				ob_put(b, ",", 1);
			ob_json(b, el, depth + 1);
		}
		ob_put(b, "]", 1);
		break;
	case JSON_STRING:
		ob_json_strn(b, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		ob_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		ob_printf(b, "%.17g", json_real_value(v));
		break;
	case JSON_TRUE:
		ob_puts(b, "true");
		break;
	case JSON_FALSE:
		ob_puts(b, "false");
		break;
	case JSON_NULL:
		ob_puts(b, "null");
		break;
	}
}

/* Standard base64 (RFC 4648, with padding) of in[0..n). */
static void ob_base64(obuf *b, const char *in, size_t n)
{
	static const char tbl[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *u = (const unsigned char *)in;
	size_t out = (n + 2) / 3 * 4;
	char *p = NULL;
	size_t i = 0;

	if (!ob_grow(b, out))
		return;
	p = b->p + b->len;
	for (i = 0; i + 2 < n; i += 3) {
		uint32_t w =
		    (uint32_t)u[i] << 16 | (uint32_t)u[i + 1] << 8 | u[i + 2];

		*p++ = tbl[w >> 18];
		*p++ = tbl[(w >> 12) & 63];
		*p++ = tbl[(w >> 6) & 63];
		*p++ = tbl[w & 63];
	}
	if (n - i == 1) {
		uint32_t w = (uint32_t)u[i] << 16;

		*p++ = tbl[w >> 18];
		*p++ = tbl[(w >> 12) & 63];
		*p++ = '=';
		*p++ = '=';
	} else if (n - i == 2) {
		uint32_t w = (uint32_t)u[i] << 16 | (uint32_t)u[i + 1] << 8;

		*p++ = tbl[w >> 18];
		*p++ = tbl[(w >> 12) & 63];
		*p++ = tbl[(w >> 6) & 63];
		*p++ = '=';
	}
	b->len += out;
	b->p[b->len] = '\0';
}

/* ---- parsing the review ----------------------------------------------- */

/* Copies s into buf (size > 4), cut at a UTF-8 boundary after at most
 * `max` bytes, with "..." when cut. Returns buf. */
static char *clip(const char *s, char *buf, size_t size, size_t max)
{
	size_t n = strlen(s);

	if (max > size - 4)
		max = size - 4;
	if (n <= max) {
		memcpy(buf, s, n + 1);
		return buf;
	}
	n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	memcpy(buf, s, n);
	memcpy(buf + n, "...", 4);
	return buf;
}

static const char *type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		return "null";
	}
	return "unknown";
}

/*
 * *out = the string at key of obj ("" when absent or null), or an error
 * naming path. Returns false with err filled when it is not a string or,
 * when required, missing or empty.
 */
static bool get_str(const json_t *obj, const char *key, const char *path,
		    bool required, const char **out, char *err, size_t size)
{
	const json_t *v = json_object_get(obj, key);

	if (!v || json_is_null(v)) {
		if (required) {
			snprintf(err, size, "missing field \"%s\"", path);
			return false;
		}
		*out = "";
		return true;
	}
	if (!json_is_string(v)) {
		snprintf(err, size, "field \"%s\" must be a string, not %s",
			 path, type_name(v));
		return false;
	}
	if (required && json_string_length(v) == 0) {
		snprintf(err, size, "empty field \"%s\"", path);
		return false;
	}
	*out = json_string_value(v);
	return true;
}

/* *out = the object at key of obj, or NULL when absent or null. */
static bool get_obj(const json_t *obj, const char *key, const char *path,
		    const json_t **out, char *err, size_t size)
{
	const json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (!v || json_is_null(v))
		return true;
	if (!json_is_object(v)) {
		snprintf(err, size, "field \"%s\" must be an object, not %s",
			 path, type_name(v));
		return false;
	}
	*out = v;
	return true;
}

static bool is_all_space(const char *s, size_t n)
{
	size_t i = 0;

	for (i = 0; i < n; i++) {
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
			return false;
	}
	return true;
}

/*
 * Parses and checks the envelope into r (strings borrowed from r->doc,
 * which r owns on GV_OK). Returns GV_OK, GV_EPARSE with err saying what
 * is wrong and where, or GV_ENOMEM.
 */
static int parse_review(const char *body, size_t len, srv_review *r, char *err,
			size_t size)
{
	static const char *const ops[] = { "CREATE", "UPDATE", "DELETE",
					   "CONNECT" };
	gv_error_t perr = GV_ERROR_INIT;
	json_t *doc = NULL;
	const json_t *req = NULL;
	const json_t *k = NULL;
	const json_t *res = NULL;
	const json_t *ui = NULL;
	const json_t *dry = NULL;
	const char *kind = NULL;
	char q[SRV_QUOTE_MAX + 4];
	srv_review out = { 0 };
	size_t i = 0;
	int rc = GV_EPARSE;

	if (len > SRV_MAX_BODY) {
		snprintf(err, size,
			 "request body too large: %zu bytes, the limit is %zu",
			 len, SRV_MAX_BODY);
		goto out;
	}
	if (len == 0 || is_all_space(body, len)) {
		snprintf(err, size,
			 "empty request body: expected an "
			 "AdmissionReview");
		goto out;
	}
	rc = pol_json_parse(body, len, "request body", SRV_MAX_DEPTH,
			    POL_JSON_REJECT_DUPLICATES, &doc, &perr);
	if (rc == GV_ENOMEM)
		goto out;
	rc = GV_EPARSE;
	if (!doc) {
		snprintf(err, size,
			 "request body is not valid JSON: %.400s (line %d, "
			 "column %d)",
			 perr.text, perr.line, perr.column);
		goto out;
	}
	if (!json_is_object(doc)) {
		snprintf(err, size,
			 "request body is not an AdmissionReview: expected a "
			 "JSON object, not %s",
			 type_name(doc));
		goto out;
	}
	out.doc = doc;
	if (!get_str(doc, "apiVersion", "apiVersion", true, &out.api_version,
		     err, size))
		goto out;
	if (strcmp(out.api_version, "admission.k8s.io/v1") != 0) {
		snprintf(err, size,
			 "unsupported AdmissionReview apiVersion \"%s\": "
			 "groved speaks admission.k8s.io/v1",
			 clip(out.api_version, q, sizeof(q), SRV_QUOTE_MAX));
		goto out;
	}
	if (!get_str(doc, "kind", "kind", true, &kind, err, size))
		goto out;
	if (strcmp(kind, "AdmissionReview") != 0) {
		snprintf(err, size,
			 "unsupported kind \"%s\" at \"kind\": expected "
			 "AdmissionReview",
			 clip(kind, q, sizeof(q), SRV_QUOTE_MAX));
		goto out;
	}
	if (!get_obj(doc, "request", "request", &req, err, size))
		goto out;
	if (!req) {
		snprintf(err, size,
			 "missing field \"request\": an "
			 "AdmissionReview to answer needs one");
		goto out;
	}
	if (!get_str(req, "uid", "request.uid", true, &out.uid, err, size))
		goto out;
	if (strlen(out.uid) > SRV_MAX_UID) {
		snprintf(err, size,
			 "field \"request.uid\" too long: %zu characters, the "
			 "limit is %d",
			 strlen(out.uid), SRV_MAX_UID);
		goto out;
	}
	if (!get_str(req, "operation", "request.operation", true,
		     &out.operation, err, size))
		goto out;
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		if (strcmp(out.operation, ops[i]) == 0)
			break;
	}
	if (i == sizeof(ops) / sizeof(ops[0])) {
		snprintf(err, size,
			 "unsupported operation \"%s\" at "
			 "\"request.operation\": expected CREATE, UPDATE, "
			 "DELETE or CONNECT",
			 clip(out.operation, q, sizeof(q), SRV_QUOTE_MAX));
		goto out;
	}
	if (!get_obj(req, "kind", "request.kind", &k, err, size) ||
	    !get_str(k, "group", "request.kind.group", false, &out.group, err,
		     size) ||
	    !get_str(k, "version", "request.kind.version", false, &out.version,
		     err, size) ||
	    !get_str(k, "kind", "request.kind.kind", false, &out.kind, err,
		     size) ||
	    !get_obj(req, "resource", "request.resource", &res, err, size) ||
	    !get_str(res, "resource", "request.resource.resource", false,
		     &out.resource, err, size) ||
	    !get_str(req, "subResource", "request.subResource", false,
		     &out.sub_resource, err, size) ||
	    !get_str(req, "namespace", "request.namespace", false,
		     &out.namespace, err, size) ||
	    !get_str(req, "name", "request.name", false, &out.name, err,
		     size) ||
	    !get_obj(req, "userInfo", "request.userInfo", &ui, err, size) ||
	    !get_str(ui, "username", "request.userInfo.username", false,
		     &out.user, err, size) ||
	    !get_obj(req, "object", "request.object", &out.object, err, size) ||
	    !get_obj(req, "oldObject", "request.oldObject", &out.old_object,
		     err, size))
		goto out;
	out.groups = json_object_get(ui, "groups");
	if (json_is_null(out.groups))
		out.groups = NULL;
	if (out.groups && !json_is_array(out.groups)) {
		snprintf(err, size,
			 "field \"request.userInfo.groups\" must be an array, "
			 "not %s",
			 type_name(out.groups));
		goto out;
	}
	dry = json_object_get(req, "dryRun");
	if (dry && !json_is_null(dry) && !json_is_boolean(dry)) {
		snprintf(err, size,
			 "field \"request.dryRun\" must be a boolean, not %s",
			 type_name(dry));
		goto out;
	}
	out.dry_run = json_is_true(dry);
	if (!out.object && (strcmp(out.operation, "CREATE") == 0 ||
			    strcmp(out.operation, "UPDATE") == 0)) {
		snprintf(err, size,
			 "missing field \"request.object\": a %s "
			 "carries the object",
			 out.operation);
		goto out;
	}
	if (!out.old_object && strcmp(out.operation, "UPDATE") == 0) {
		snprintf(err, size,
			 "missing field \"request.oldObject\": an "
			 "UPDATE carries the old object");
		goto out;
	}
	*r = out;
	doc = NULL;
	rc = GV_OK;
out:
	json_decref(doc);
	return rc;
}

/* ---- writing the answer ----------------------------------------------- */

/* A Kubernetes Status for a malformed review, answered with HTTP 400. */
static int write_bad_request(const char *message, srv_reply *reply)
{
	obuf b = { 0 };

	ob_puts(&b, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":"
		    "\"Failure\",\"message\":");
	ob_json_str(&b, message);
	ob_puts(&b, ",\"reason\":\"BadRequest\",\"code\":400}");
	if (b.oom) {
		free(b.p);
		return GV_ENOMEM;
	}
	reply->status = 400;
	reply->content_type = "application/json";
	reply->body = b.p;
	reply->len = b.len;
	return GV_OK;
}

static int write_review(const char *uid, const srv_answer *a, srv_reply *reply)
{
	obuf b = { 0 };
	obuf patch = { 0 };
	int rc = GV_ENOMEM;

	ob_puts(&b, "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":"
		    "\"AdmissionReview\",\"response\":{\"uid\":");
	ob_json_str(&b, uid);
	ob_puts(&b, a->allowed ? ",\"allowed\":true" : ",\"allowed\":false");
	if (!a->allowed) {
		ob_printf(&b, ",\"status\":{\"code\":%d,\"reason\":",
			  a->code ? a->code : 403);
		ob_json_str(&b, a->reason ? a->reason : "Forbidden");
		if (a->message) {
			ob_puts(&b, ",\"message\":");
			ob_json_str(&b, a->message);
		}
		if (json_array_size(a->causes)) {
			ob_puts(&b, ",\"details\":{\"causes\":");
			ob_json(&b, a->causes, 0);
			ob_puts(&b, "}");
		}
		ob_puts(&b, "}");
	}
	if (json_array_size(a->warnings)) {
		ob_puts(&b, ",\"warnings\":");
		ob_json(&b, a->warnings, 0);
	}
	if (a->allowed && json_array_size(a->patch)) {
		ob_json(&patch, a->patch, 0);
		if (patch.oom)
			goto out;
		ob_puts(&b, ",\"patchType\":\"JSONPatch\",\"patch\":\"");
		ob_base64(&b, patch.p, patch.len);
		ob_puts(&b, "\"");
	}
	ob_puts(&b, "}}");
	if (b.oom)
		goto out;
	reply->status = 200;
	reply->content_type = "application/json";
	reply->body = b.p;
	reply->len = b.len;
	b.p = NULL;
	rc = GV_OK;
out:
	free(b.p);
	free(patch.p);
	return rc;
}

/* Copies s into dst (size bytes), cut at a UTF-8 boundary. */
static void log_copy(char *dst, size_t size, const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n >= size) {
		n = size - 1;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	if (n)
		memcpy(dst, s, n);
	dst[n] = '\0';
}

static void log_review(srv_review_log *log, const srv_review *r)
{
	const char *name = r->name;

	if (!name[0])
		name = json_string_value(json_object_get(
		    json_object_get(r->object ? r->object : r->old_object,
				    "metadata"),
		    "name"));
	log_copy(log->uid, sizeof(log->uid), r->uid);
	log_copy(log->kind, sizeof(log->kind), r->kind);
	log_copy(log->namespace, sizeof(log->namespace), r->namespace);
	log_copy(log->name, sizeof(log->name), name);
	log_copy(log->operation, sizeof(log->operation), r->operation);
	log_copy(log->user, sizeof(log->user), r->user);
}

/* ---- serving ---------------------------------------------------------- */

/* Runs the hook, or answers without work where there is none to do. */
static int decide(srv_hook hook, const srv_review *r, const srv_hook_env *env,
		  srv_answer *a)
{
	char msg[SRV_ERR_MAX];
	int rc = GV_OK;

	/* Nothing to default or validate on DELETE and CONNECT; only the
	 * authorizer decides who may delete managed objects. */
	if (strcmp(r->operation, "CONNECT") == 0 ||
	    (strcmp(r->operation, "DELETE") == 0 &&
	     hook != SRV_HOOK_AUTHORIZER))
		return GV_OK;
	rc = hook_fns[hook](r, env, a);
	if (rc == GV_OK || rc == GV_ENOMEM)
		return rc;
	a->allowed = false;
	json_decref(a->patch);
	a->patch = NULL;
	if (rc == GV_EINVAL) {
		/* a review this endpoint does not handle: a configuration
		 * mistake, not a verdict on the object */
		a->code = 400;
		a->reason = "BadRequest";
		if (!a->message) {
			snprintf(msg, sizeof(msg),
				 "%s cannot handle this review: %s/%s %s",
				 hook_names[hook], r->group, r->version,
				 r->kind);
			a->message = strdup(msg);
		}
	} else {
		a->code = 500;
		a->reason = "InternalError";
		free(a->message);
		snprintf(msg, sizeof(msg), "%s failed: %s", hook_names[hook],
			 gv_strerror(rc));
		a->message = strdup(msg);
	}
	return a->message ? GV_OK : GV_ENOMEM;
}

int srv_admission_serve(srv_hook hook, const char *body, size_t len,
			const srv_hook_env *env, srv_reply *reply,
			srv_review_log *log)
{
	srv_review r = { 0 };
	srv_answer a;
	srv_reply out = { 0 };
	char err[SRV_ERR_MAX];
	int rc = GV_OK;

	srv_answer_init(&a);
	if (log)
		memset(log, 0, sizeof(*log));
	if ((int)hook < 0 || hook >= SRV_HOOK_COUNT || !reply)
		return GV_EINVAL;
	err[0] = '\0';
	rc = parse_review(body ? body : "", body ? len : 0, &r, err,
			  sizeof(err));
	if (rc == GV_EPARSE) {
		if (log) {
			log->malformed = true;
			log_copy(log->error, sizeof(log->error), err);
		}
		rc = write_bad_request(err, &out);
		goto done;
	}
	if (rc != GV_OK)
		goto out;
	rc = decide(hook, &r, env, &a);
	if (rc != GV_OK)
		goto out;
	rc = write_review(r.uid, &a, &out);
	if (rc == GV_OK && log) {
		log_review(log, &r);
		log->allowed = a.allowed;
		log->patched = a.allowed && json_array_size(a.patch) > 0;
		if (!a.allowed && a.code == 400)
			log_copy(log->error, sizeof(log->error), a.message);
	}
done:
	if (rc == GV_OK) {
		*reply = out;
		out.body = NULL;
	}
out:
	srv_reply_release(&out);
	srv_answer_release(&a);
	json_decref(r.doc);
	return rc;
}
