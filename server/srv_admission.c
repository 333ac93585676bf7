/* SPDX-License-Identifier: Apache-2.0 */
/*
 * srv_admission.c: AdmissionReview in, AdmissionReview out (docs/api.md
 * sections 3, 4, 6 and 8).
 *
 * The path of one request: gv_json_parse (several times faster than
 * jansson's own parser, which would be most of a request's cost) reads
 * the body once, refusing nesting deeper than SRV_MAX_DEPTH; the envelope
 * is checked, one row of a field table at a time, and borrowed into a
 * srv_review (no copy of the object); the hook decides; the answer is
 * written straight into one gv_buf, compact, with the JSON Patch
 * base64-encoded in place. Nothing here keeps state between requests.
 *
 * Decisions:
 * - Duplicate keys are refused (GV_JSON_REJECT_DUPLICATES). kube-apiserver
 *   serialises Go structs and never sends them, so a body that has them
 *   did not come from it; and a document whose meaning depends on which
 *   duplicate wins (Go keeps the last, other parsers the first) should not
 *   be judged at all. The check is one hash lookup per key.
 * - Nesting is limited to SRV_MAX_DEPTH levels by the parser: a review is
 *   2 levels above the object, and no real PodCliqueSet or Pod comes near
 *   100, while the policy and the writers below recurse over the object.
 * - Strings are written with gv_json_escape, which also replaces any
 *   invalid UTF-8 (a message cut by a fixed buffer) by U+FFFD, so the
 *   answer is always valid JSON.
 * - A malformed review is a failure like any other: parse_review reports
 *   it as GV_EPARSE in a gv_error_t, whose text becomes the 400 answer.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>

#include "groved/gv.h"
#include "groved/gv_buf.h"
#include "groved/gv_json.h"
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
/* The short form has no limit of its own: a verdict's size is bounded
 * (POL_VERDICT_BYTES_MAX). */
#define SHORT_MAX (SIZE_MAX / 8)

/* Appends s to b, at most max bytes of it, cut at a character boundary. */
static void add_cut(gv_buf *b, const char *s, size_t max)
{
	size_t n = strlen(s);

	(void)gv_buf_add(b, s, n > max ? gv_utf8_cut(s, max) : n);
}

/* Appends cause {reason, message, field} to causes. GV_OK or GV_ENOMEM. */
static int add_cause(json_t *causes, const char *reason, const char *msg,
		     size_t msg_len, const char *field)
{
	json_t *cause = json_object();

	if (!cause ||
	    json_object_set_new(cause, "reason", json_string(reason)) ||
	    json_object_set_new(cause, "message",
				json_stringn_nocheck(msg, msg_len)) ||
	    json_object_set_new(cause, "field",
				json_stringn_nocheck(field, strlen(field)))) {
		json_decref(cause);
		return GV_ENOMEM;
	}
	return json_array_append_new(causes, cause) ? GV_ENOMEM : GV_OK;
}

/*
 * The message and causes of v with each error as "<field>: <Type>" plus
 * its detail when short: what a denial says when the full form could not
 * be built (out of memory). Out-params new on GV_OK; GV_ENOMEM otherwise.
 */
static int short_verdict(const pol_verdict *v, char **message_out,
			 json_t **causes_out)
{
	gv_buf msg;
	gv_buf one;
	json_t *causes = json_array();
	size_t i = 0;
	int rc = GV_ENOMEM;

	gv_buf_init(&msg, SHORT_MAX);
	gv_buf_init(&one, SHORT_MAX);
	if (!causes)
		goto out;
	(void)gv_buf_addstr(&msg, v->n_errors > 1 ? "[" : "");
	for (i = 0; i < v->n_errors; i++) {
		const pol_ferr *e = &v->errors[i];

		gv_buf_reset(&one);
		add_cut(&one, pol_fe_text(e->type), SHORT_PART_MAX);
		if (e->detail && strlen(e->detail) <= SHORT_PART_MAX) {
			(void)gv_buf_addstr(&one, ": ");
			(void)gv_buf_addstr(&one, e->detail);
		}
		if (i)
			(void)gv_buf_addstr(&msg, ", ");
		add_cut(&msg, e->field, SHORT_PART_MAX);
		(void)gv_buf_addstr(&msg, ": ");
		(void)gv_buf_add(&msg, gv_buf_str(&one), one.len);
		rc = gv_buf_rc(&one);
		if (rc != GV_OK || (rc = gv_buf_rc(&msg)) != GV_OK ||
		    (rc = add_cause(causes, pol_fe_reason(e->type),
				    gv_buf_str(&one), one.len, e->field)) !=
			GV_OK)
			goto out;
	}
	(void)gv_buf_addstr(&msg, v->n_errors > 1 ? "]" : "");
	rc = gv_buf_rc(&msg);
	if (rc != GV_OK)
		goto out;
	*message_out = gv_buf_detach(&msg, NULL);
	if (!*message_out) {
		rc = GV_ENOMEM;
		goto out;
	}
	*causes_out = causes;
	causes = NULL;
out:
	gv_buf_release(&msg);
	gv_buf_release(&one);
	json_decref(causes);
	return rc == GV_OK ? GV_OK : GV_ENOMEM;
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

/* ---- writing JSON ----------------------------------------------------- */

/*
 * An answer is written into one gv_buf. Its size follows from the review
 * (SRV_MAX_BODY) and the verdict (POL_VERDICT_BYTES_MAX); the maximum is
 * a backstop that no answer to a review within SRV_MAX_BODY reaches.
 */
#define SRV_MAX_REPLY ((size_t)256 << 20)

/* s[0..n) as a JSON string, quotes included (invalid UTF-8 as U+FFFD). */
static void put_strn(gv_buf *b, const char *s, size_t n)
{
	(void)gv_json_escape(b, s, n, NULL, NULL);
}

static void put_str(gv_buf *b, const char *s)
{
	put_strn(b, s, strlen(s));
}

/* v as compact JSON. The depth is bounded by the parser (SRV_MAX_DEPTH)
 * and by what the policy builds; the guard is for safety only. Returns
 * GV_OK, or GV_ETOODEEP past it (b's own failure is sticky: gv_buf_rc). */
static int put_json(gv_buf *b, const json_t *v, int depth)
{
	const char *key = NULL;
	const json_t *el = NULL;
	size_t i = 0;
	int rc = GV_OK;

	if (depth > SRV_MAX_DEPTH)
		return GV_ETOODEEP;
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		(void)gv_buf_addch(b, '{');
		json_object_foreach((json_t *)v, key, el)
		{
			if (i++)
				(void)gv_buf_addch(b, ',');
			put_str(b, key);
			(void)gv_buf_addch(b, ':');
			rc = put_json(b, el, depth + 1);
			if (rc != GV_OK)
				return rc;
		}
		(void)gv_buf_addch(b, '}');
		break;
	case JSON_ARRAY:
		(void)gv_buf_addch(b, '[');
		json_array_foreach(v, i, el)
		{
			if (i)
				(void)gv_buf_addch(b, ',');
			rc = put_json(b, el, depth + 1);
			if (rc != GV_OK)
				return rc;
		}
		(void)gv_buf_addch(b, ']');
		break;
	case JSON_STRING:
		put_strn(b, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		(void)gv_buf_printf(b, "%" JSON_INTEGER_FORMAT,
				    json_integer_value(v));
		break;
	case JSON_REAL:
		(void)gv_buf_printf(b, "%.17g", json_real_value(v));
		break;
	case JSON_TRUE:
		(void)gv_buf_addstr(b, "true");
		break;
	case JSON_FALSE:
		(void)gv_buf_addstr(b, "false");
		break;
	case JSON_NULL:
		(void)gv_buf_addstr(b, "null");
		break;
	}
	return GV_OK;
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
	n = gv_utf8_cut(s, max);
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

/* A malformed review: GV_EPARSE with err saying what is wrong and where
 * (the text of the 400 answer). */
#define BAD(err, ...) gv_error_set((err), GV_EPARSE, NULL, 0, 0, __VA_ARGS__)

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
 * Parses body into *doc_out (a new reference to a JSON object). Returns
 * GV_OK, GV_EPARSE with err filled, or GV_ENOMEM.
 */
static int parse_body(const char *body, size_t len, json_t **doc_out,
		      gv_error_t *err)
{
	gv_error_t perr = GV_ERROR_INIT;
	json_t *doc = NULL;
	int rc = GV_OK;

	if (len > SRV_MAX_BODY)
		return BAD(
		    err, "request body too large: %zu bytes, the limit is %zu",
		    len, SRV_MAX_BODY);
	if (len == 0 || is_all_space(body, len))
		return BAD(err, "empty request body: expected an "
				"AdmissionReview");
	rc = gv_json_parse(body, len, "request body", SRV_MAX_DEPTH,
			   GV_JSON_REJECT_DUPLICATES, &doc, &perr);
	if (rc == GV_ENOMEM)
		return rc;
	if (!doc)
		return BAD(err,
			   "request body is not valid JSON: %.400s (line %d, "
			   "column %d)",
			   perr.text, perr.line, perr.column);
	if (!json_is_object(doc)) {
		rc = BAD(err,
			 "request body is not an AdmissionReview: expected a "
			 "JSON object, not %s",
			 type_name(doc));
		json_decref(doc);
		return rc;
	}
	*doc_out = doc;
	return GV_OK;
}

/* The review being read: the review itself and the objects its fields
 * are read from. */
typedef struct review_parse {
	srv_review r; /* r.doc: the root */
	const char *review_kind; /* "AdmissionReview" */
	const json_t *req; /* request */
	const json_t *kind; /* request.kind */
	const json_t *res; /* request.resource */
	const json_t *user; /* request.userInfo */
} review_parse;

/* What a field of the review must be. */
typedef enum {
	RF_STR, /* a string, or absent or null: "" */
	RF_REQ_STR, /* a non-empty string */
	RF_OBJ, /* an object, or absent or null: NULL */
	RF_ARRAY, /* an array, or absent or null: NULL */
	RF_BOOL, /* a boolean, or absent or null: false */
} rf_type;

/* A further check of a field once read (its value is in p). Returns
 * GV_OK or GV_EPARSE with err filled. */
typedef int (*rf_check)(const review_parse *p, gv_error_t *err);

static int check_api_version(const review_parse *p, gv_error_t *err)
{
	char q[SRV_QUOTE_MAX + 4];

	if (strcmp(p->r.api_version, "admission.k8s.io/v1") == 0)
		return GV_OK;
	return BAD(err,
		   "unsupported AdmissionReview apiVersion \"%s\": "
		   "groved speaks admission.k8s.io/v1",
		   clip(p->r.api_version, q, sizeof(q), SRV_QUOTE_MAX));
}

static int check_kind(const review_parse *p, gv_error_t *err)
{
	char q[SRV_QUOTE_MAX + 4];

	if (strcmp(p->review_kind, "AdmissionReview") == 0)
		return GV_OK;
	return BAD(err,
		   "unsupported kind \"%s\" at \"kind\": expected "
		   "AdmissionReview",
		   clip(p->review_kind, q, sizeof(q), SRV_QUOTE_MAX));
}

static int check_request(const review_parse *p, gv_error_t *err)
{
	if (p->req)
		return GV_OK;
	return BAD(err, "missing field \"request\": an "
			"AdmissionReview to answer needs one");
}

static int check_uid(const review_parse *p, gv_error_t *err)
{
	size_t n = strlen(p->r.uid);

	if (n <= SRV_MAX_UID)
		return GV_OK;
	return BAD(err,
		   "field \"request.uid\" too long: %zu characters, the "
		   "limit is %d",
		   n, SRV_MAX_UID);
}

static int check_operation(const review_parse *p, gv_error_t *err)
{
	static const char *const ops[] = { "CREATE", "UPDATE", "DELETE",
					   "CONNECT" };
	char q[SRV_QUOTE_MAX + 4];
	size_t i = 0;

	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		if (strcmp(p->r.operation, ops[i]) == 0)
			return GV_OK;
	}
	return BAD(err,
		   "unsupported operation \"%s\" at "
		   "\"request.operation\": expected CREATE, UPDATE, "
		   "DELETE or CONNECT",
		   clip(p->r.operation, q, sizeof(q), SRV_QUOTE_MAX));
}

/* The objects an operation carries. */
static int check_objects(const review_parse *p, gv_error_t *err)
{
	const char *op = p->r.operation;

	if (!p->r.object &&
	    (strcmp(op, "CREATE") == 0 || strcmp(op, "UPDATE") == 0))
		return BAD(err,
			   "missing field \"request.object\": a %s "
			   "carries the object",
			   op);
	if (!p->r.old_object && strcmp(op, "UPDATE") == 0)
		return BAD(err, "missing field \"request.oldObject\": an "
				"UPDATE carries the old object");
	return GV_OK;
}

#define RP(member) offsetof(review_parse, member)

/* One field of the review: where it is, what it must be, where it goes. */
typedef struct review_field {
	size_t parent; /* offset in review_parse of its object */
	const char *key;
	const char *path; /* for messages */
	rf_type type;
	size_t to; /* offset in review_parse of its value */
	rf_check check; /* or NULL */
} review_field;

/* The envelope, in the order its errors are reported. */
static const review_field review_fields[] = {
	{ RP(r.doc), "apiVersion", "apiVersion", RF_REQ_STR, RP(r.api_version),
	  check_api_version },
	{ RP(r.doc), "kind", "kind", RF_REQ_STR, RP(review_kind), check_kind },
	{ RP(r.doc), "request", "request", RF_OBJ, RP(req), check_request },
	{ RP(req), "uid", "request.uid", RF_REQ_STR, RP(r.uid), check_uid },
	{ RP(req), "operation", "request.operation", RF_REQ_STR,
	  RP(r.operation), check_operation },
	{ RP(req), "kind", "request.kind", RF_OBJ, RP(kind), NULL },
	{ RP(kind), "group", "request.kind.group", RF_STR, RP(r.group), NULL },
	{ RP(kind), "version", "request.kind.version", RF_STR, RP(r.version),
	  NULL },
	{ RP(kind), "kind", "request.kind.kind", RF_STR, RP(r.kind), NULL },
	{ RP(req), "resource", "request.resource", RF_OBJ, RP(res), NULL },
	{ RP(res), "resource", "request.resource.resource", RF_STR,
	  RP(r.resource), NULL },
	{ RP(req), "subResource", "request.subResource", RF_STR,
	  RP(r.sub_resource), NULL },
	{ RP(req), "namespace", "request.namespace", RF_STR, RP(r.namespace),
	  NULL },
	{ RP(req), "name", "request.name", RF_STR, RP(r.name), NULL },
	{ RP(req), "userInfo", "request.userInfo", RF_OBJ, RP(user), NULL },
	{ RP(user), "username", "request.userInfo.username", RF_STR, RP(r.user),
	  NULL },
	{ RP(req), "object", "request.object", RF_OBJ, RP(r.object), NULL },
	{ RP(req), "oldObject", "request.oldObject", RF_OBJ, RP(r.old_object),
	  NULL },
	{ RP(user), "groups", "request.userInfo.groups", RF_ARRAY, RP(r.groups),
	  NULL },
	{ RP(req), "dryRun", "request.dryRun", RF_BOOL, RP(r.dry_run),
	  check_objects },
};

/* Reads field f of the review into p. GV_OK or GV_EPARSE. */
static int read_field(review_parse *p, const review_field *f, gv_error_t *err)
{
	const json_t *obj = *(const json_t *const *)((char *)p + f->parent);
	const json_t *v = json_object_get(obj, f->key);
	void *to = (char *)p + f->to;

	if (json_is_null(v))
		v = NULL;
	switch (f->type) {
	case RF_STR:
	case RF_REQ_STR:
		if (!v && f->type == RF_REQ_STR)
			return BAD(err, "missing field \"%s\"", f->path);
		if (v && !json_is_string(v))
			return BAD(err, "field \"%s\" must be a string, not %s",
				   f->path, type_name(v));
		if (v && f->type == RF_REQ_STR && json_string_length(v) == 0)
			return BAD(err, "empty field \"%s\"", f->path);
		*(const char **)to = v ? json_string_value(v) : "";
		break;
	case RF_OBJ:
	case RF_ARRAY:
		if (v && (f->type == RF_OBJ ? !json_is_object(v)
					    : !json_is_array(v)))
			return BAD(err, "field \"%s\" must be %s, not %s",
				   f->path,
				   f->type == RF_OBJ ? "an object" : "an array",
				   type_name(v));
		*(const json_t **)to = v;
		break;
	case RF_BOOL:
		if (v && !json_is_boolean(v))
			return BAD(err,
				   "field \"%s\" must be a boolean, not %s",
				   f->path, type_name(v));
		*(bool *)to = json_is_true(v);
		break;
	}
	return f->check ? f->check(p, err) : GV_OK;
}

/*
 * Parses and checks the envelope into r (strings borrowed from r->doc,
 * which r owns on GV_OK). Returns GV_OK, GV_EPARSE with err saying what
 * is wrong and where, or GV_ENOMEM.
 */
static int parse_review(const char *body, size_t len, srv_review *r,
			gv_error_t *err)
{
	review_parse p = { 0 };
	size_t i = 0;
	int rc = parse_body(body, len, &p.r.doc, err);

	for (i = 0; rc == GV_OK &&
		    i < sizeof(review_fields) / sizeof(review_fields[0]);
	     i++)
		rc = read_field(&p, &review_fields[i], err);
	if (rc != GV_OK) {
		json_decref(p.r.doc);
		return rc;
	}
	*r = p.r;
	return GV_OK;
}

/* ---- writing the answer ----------------------------------------------- */

/* Hands b's text to reply as a JSON answer with status. Returns GV_OK, or
 * why b failed. */
static int reply_take(gv_buf *b, int status, srv_reply *reply)
{
	size_t len = 0;
	char *body = NULL;
	int rc = gv_buf_rc(b);

	if (rc != GV_OK)
		return rc;
	body = gv_buf_detach(b, &len);
	if (!body)
		return GV_ENOMEM;
	reply->status = status;
	reply->content_type = "application/json";
	reply->body = body;
	reply->len = len;
	return GV_OK;
}

/* A Kubernetes Status for a malformed review, answered with HTTP 400. */
static int write_bad_request(const char *message, srv_reply *reply)
{
	gv_buf b;
	int rc = GV_OK;

	gv_buf_init(&b, SRV_MAX_REPLY);
	(void)gv_buf_addstr(&b, "{\"kind\":\"Status\",\"apiVersion\":\"v1\","
				"\"status\":\"Failure\",\"message\":");
	put_str(&b, message);
	(void)gv_buf_addstr(&b, ",\"reason\":\"BadRequest\",\"code\":400}");
	rc = reply_take(&b, 400, reply);
	gv_buf_release(&b);
	return rc;
}

/* The status of a denial: code, reason, message, causes. */
static int write_status(gv_buf *b, const srv_answer *a)
{
	int rc = GV_OK;

	(void)gv_buf_printf(
	    b, ",\"status\":{\"code\":%d,\"reason\":", a->code ? a->code : 403);
	put_str(b, a->reason ? a->reason : "Forbidden");
	if (a->message) {
		(void)gv_buf_addstr(b, ",\"message\":");
		put_str(b, a->message);
	}
	if (json_array_size(a->causes)) {
		(void)gv_buf_addstr(b, ",\"details\":{\"causes\":");
		rc = put_json(b, a->causes, 0);
		(void)gv_buf_addch(b, '}');
	}
	(void)gv_buf_addch(b, '}');
	return rc;
}

/* The JSON Patch, base64-encoded in place. */
static int write_patch(gv_buf *b, const json_t *patch)
{
	gv_buf text;
	int rc = GV_OK;

	gv_buf_init(&text, SRV_MAX_REPLY);
	rc = put_json(&text, patch, 0);
	if (rc == GV_OK)
		rc = gv_buf_rc(&text);
	if (rc == GV_OK) {
		(void)gv_buf_addstr(
		    b, ",\"patchType\":\"JSONPatch\",\"patch\":\"");
		(void)gv_buf_add_base64(b, text.s, text.len);
		(void)gv_buf_addch(b, '"');
	}
	gv_buf_release(&text);
	return rc;
}

static int write_review(const char *uid, const srv_answer *a, srv_reply *reply)
{
	gv_buf b;
	int rc = GV_OK;

	gv_buf_init(&b, SRV_MAX_REPLY);
	(void)gv_buf_addstr(&b, "{\"apiVersion\":\"admission.k8s.io/v1\","
				"\"kind\":\"AdmissionReview\",\"response\":"
				"{\"uid\":");
	put_str(&b, uid);
	(void)gv_buf_addstr(&b, a->allowed ? ",\"allowed\":true"
					   : ",\"allowed\":false");
	if (!a->allowed)
		rc = write_status(&b, a);
	if (rc == GV_OK && json_array_size(a->warnings)) {
		(void)gv_buf_addstr(&b, ",\"warnings\":");
		rc = put_json(&b, a->warnings, 0);
	}
	if (rc == GV_OK && a->allowed && json_array_size(a->patch))
		rc = write_patch(&b, a->patch);
	(void)gv_buf_addstr(&b, "}}");
	if (rc == GV_OK)
		rc = reply_take(&b, 200, reply);
	gv_buf_release(&b);
	return rc;
}

/* Copies s into dst (size bytes), cut at a UTF-8 boundary. */
static void log_copy(char *dst, size_t size, const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n >= size)
		n = gv_utf8_cut(s, size - 1);
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
	gv_error_t err = GV_ERROR_INIT;
	int rc = GV_OK;

	srv_answer_init(&a);
	if (log)
		memset(log, 0, sizeof(*log));
	if ((int)hook < 0 || hook >= SRV_HOOK_COUNT || !reply)
		return GV_EINVAL;
	rc = parse_review(body ? body : "", body ? len : 0, &r, &err);
	if (rc == GV_EPARSE) {
		if (log) {
			log->malformed = true;
			log_copy(log->error, sizeof(log->error), err.text);
		}
		rc = write_bad_request(err.text, &out);
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
