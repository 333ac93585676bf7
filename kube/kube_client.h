/*
 * kube_client.h: a small REST client for the Kubernetes API server, on
 * libcurl.
 *
 * Rules of the types:
 *
 * - curl_global_init(CURL_GLOBAL_DEFAULT) must have been called once by the
 *   program (before any thread starts) and curl_global_cleanup() once at
 *   the end; this module never calls either (they are the only process-wide
 *   state it relies on).
 * - A kube_client is filled by kube_client_init and emptied by
 *   kube_client_release. Between the two, every kube_* call may run on any
 *   number of threads at once: easy handles come from a small pool, and
 *   the handles share one connection cache, TLS session cache and DNS
 *   cache (a CURLSH with pthread mutexes).
 * - Every verb returns a gv_rc and always fills the caller's kube_result
 *   (which never allocates). The response object is written to *out only
 *   on success, as a new reference.
 * - Strings passed in are borrowed for the length of the call;
 *   kube_client_init copies what it keeps.
 */
#ifndef GROVED_KUBE_CLIENT_H
#define GROVED_KUBE_CLIENT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>
#include <jansson.h>

#include "groved/gv.h"

/* ---------------------------------------------------------------------
 * Errors
 * ------------------------------------------------------------------- */

/* X-macro: name, message. What went wrong, from the HTTP status and the
 * Status body's reason. */
#define KUBE_ERR_TABLE(X)                                  \
	X(KUBE_ERR_NONE, "success")                        \
	X(KUBE_ERR_NOT_FOUND, "not found")                 \
	X(KUBE_ERR_ALREADY_EXISTS, "already exists")       \
	X(KUBE_ERR_CONFLICT, "conflict")                   \
	X(KUBE_ERR_GONE, "gone")                           \
	X(KUBE_ERR_INVALID, "invalid")                     \
	X(KUBE_ERR_BAD_REQUEST, "bad request")             \
	X(KUBE_ERR_FORBIDDEN, "forbidden")                 \
	X(KUBE_ERR_UNAUTHORIZED, "unauthorized")           \
	X(KUBE_ERR_TOO_MANY_REQUESTS, "too many requests") \
	X(KUBE_ERR_SERVER, "server error")                 \
	X(KUBE_ERR_TRANSPORT, "transport error")           \
	X(KUBE_ERR_PROTOCOL, "malformed response")         \
	X(KUBE_ERR_OTHER, "unexpected status")

typedef enum {
#define KUBE_X_ENUM(name, msg) name,
	KUBE_ERR_TABLE(KUBE_X_ENUM)
#undef KUBE_X_ENUM
	    KUBE_ERR_COUNT
} kube_err;

/* Returns a static string; never NULL, even for an unknown kind. */
const char *kube_strerror(int kind);

#define KUBE_REASON_MAX 64
#define KUBE_MESSAGE_MAX 512

/*
 * What one call ended with, success or not. Caller-allocated, filled by
 * every verb, never allocates.
 */
typedef struct kube_result {
	long status; /* HTTP status of the last attempt; 0 when none */
	kube_err kind; /* KUBE_ERR_NONE on success */
	char reason[KUBE_REASON_MAX]; /* Status.reason, or "" */
	char message[KUBE_MESSAGE_MAX]; /* Status.message or curl's error */
	long retry_after; /* seconds from Retry-After, 0 when none */
	unsigned attempts; /* requests sent (1 + retries) */
} kube_result;

/* ---------------------------------------------------------------------
 * Addressing
 * ------------------------------------------------------------------- */

/* A resource type: group "" is the core group (/api/v1). Borrowed
 * strings, usually static. */
typedef struct kube_gvr {
	const char *group;
	const char *version;
	const char *resource; /* plural: "pods", "deployments" */
	bool namespaced;
} kube_gvr;

/* Query parameters of a list (or a get); NULL / 0 fields are left out.
 * Values are URL-escaped. Borrowed strings. */
typedef struct kube_query {
	const char *label_selector;
	const char *field_selector;
	long limit;
	const char *continue_token;
	const char *resource_version;
	const char *propagation_policy; /* for deletes */
} kube_query;

/*
 * The request target for gvr: "/api/v1" or "/apis/<group>/<version>",
 * then "/namespaces/<ns>" when gvr is namespaced and ns is not NULL (NULL
 * lists across all namespaces), "/<resource>", "/<name>" when name is not
 * NULL, "/<subresource>" (status, scale) when subresource is not NULL,
 * then q's parameters (q may be NULL). Every segment and value is
 * percent-escaped like curl_easy_escape (all but RFC 3986 unreserved
 * characters). A namespaced gvr with a NULL ns and a name, a subresource
 * without a name, and empty segments are GV_EINVAL.
 * On success *out is a malloc'd string the caller frees.
 */
int kube_url_path(const kube_gvr *gvr, const char *ns, const char *name,
		  const char *subresource, const kube_query *q, char **out,
		  gv_error_t *err);

/* ---------------------------------------------------------------------
 * Client-side rate limit and retry backoff (exposed so they can be tested
 * with an injected clock)
 * ------------------------------------------------------------------- */

/* A token bucket: qps tokens a second, at most burst stored. Thread-safe.
 */
typedef struct kube_ratelimit {
	pthread_mutex_t lock;
	double qps; /* <= 0: no limit */
	double burst;
	double tokens;
	uint64_t last_ns;
} kube_ratelimit;

/* Starts full (burst tokens) at now_ns. burst 0 counts as 1. */
void kube_ratelimit_init(kube_ratelimit *rl, double qps, unsigned burst,
			 uint64_t now_ns);
void kube_ratelimit_release(kube_ratelimit *rl);

/* Takes one token at now_ns and returns how many nanoseconds the caller
 * must wait before using it (0: at once). Tokens may go negative, so
 * concurrent callers queue behind each other. */
uint64_t kube_ratelimit_reserve(kube_ratelimit *rl, uint64_t now_ns);

/* Takes one token, sleeping (CLOCK_MONOTONIC) as long as needed. */
void kube_ratelimit_wait(kube_ratelimit *rl);

/*
 * Milliseconds to sleep before retry number attempt (1 for the first
 * retry): capped exponential backoff with full jitter, a uniform value in
 * [0, min(cap_ms, base_ms * 2^(attempt-1))], where rnd is a uniform
 * random 64-bit value. retry_after_s (seconds, 0 for none) wins when
 * larger.
 */
uint64_t kube_backoff_ms(unsigned attempt, uint64_t base_ms, uint64_t cap_ms,
			 long retry_after_s, uint64_t rnd);

/* ---------------------------------------------------------------------
 * The client
 * ------------------------------------------------------------------- */

/*
 * How to reach the API server. The connection fields mirror kube_config
 * (kube_config.h) so that it can be turned into these; all strings are
 * borrowed for kube_client_init only (it copies them). 0 / NULL means
 * the default.
 */
typedef struct kube_client_opts {
	const char *server; /* "https://host:port[/prefix]", required */
	const char *ca_pem; /* CA bundle, PEM in memory; NULL: system CAs */
	bool insecure; /* skip TLS verification (tests only) */
	/* Verify the server certificate (and send SNI) for this name instead
	 * of the server URL's host: the URL's host is replaced with it and
	 * CURLOPT_CONNECT_TO sends the connection to the real host:port. */
	const char *tls_server_name;
	const char *client_cert_pem; /* client certificate, PEM in memory */
	const char *client_key_pem; /* its key, PEM in memory */
	/* The bearer token, asked for before every attempt (so a rotated
	 * token file is picked up); NULL or a NULL/"" answer sends no
	 * Authorization header. It may be called from several threads at
	 * once; the string is copied at once and must stay valid until the
	 * callback next returns. kube_token_static serves a fixed token
	 * given as token_ctx. */
	const char *(*token)(void *ctx);
	void *token_ctx;
	long connect_timeout_ms; /* default 5000 */
	long timeout_ms; /* whole request; default 30000 */
	unsigned max_attempts; /* including the first; default 5 */
	long backoff_base_ms; /* default 100 */
	long backoff_cap_ms; /* default 10000 */
	long retry_after_max_s; /* Retry-After is capped to this; default 60 */
	double qps; /* default 50; negative: no client-side limit */
	unsigned burst; /* default 100 */
	size_t max_response; /* bytes, after decoding; default 64 MiB */
} kube_client_opts;

/* A token callback returning ctx itself (a NUL-terminated token). */
const char *kube_token_static(void *ctx);

#define KUBE_POOL_MAX 8

/* Fields are private to kube_client.c. */
typedef struct kube_client {
	char *base_url; /* no trailing '/' */
	struct curl_slist *connect_to;
	char *ca_pem;
	char *cert_pem;
	char *key_pem;
	bool insecure;
	const char *(*token)(void *ctx);
	void *token_ctx;
	long connect_timeout_ms;
	long timeout_ms;
	unsigned max_attempts;
	long backoff_base_ms;
	long backoff_cap_ms;
	long retry_after_max_s;
	size_t max_response;
	kube_ratelimit rl;
	CURLSH *share;
	pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];
	pthread_mutex_t pool_lock;
	CURL *pool[KUBE_POOL_MAX]; /* idle easy handles */
	size_t n_pool;
	uint64_t rng; /* jitter state, under pool_lock */
} kube_client;

/*
 * Fills c from o. Returns GV_EINVAL (no server, a malformed URL: err says
 * which), GV_ENOMEM or GV_EIO (libcurl refused the share setup). On
 * failure c needs no release.
 */
int kube_client_init(kube_client *c, const kube_client_opts *o,
		     gv_error_t *err);

/* Frees c's contents; no call may be running. c may be NULL. */
void kube_client_release(kube_client *c);

/* ---------------------------------------------------------------------
 * Verbs. ns is the namespace (ignored for cluster-scoped gvrs; for create
 * and update NULL means the object's metadata.namespace). On failure the
 * rc is GV_ENOTFOUND (404), GV_EEXIST (409 AlreadyExists), GV_ECONFLICT
 * (409 otherwise), GV_EIO (any other HTTP or transport error), GV_EPARSE
 * (a success without a JSON object), GV_ETOOBIG (larger than
 * max_response), GV_EINVAL or GV_ENOMEM; res says the kind, and err reads
 * like `GET /api/v1/namespaces/x/pods/y: not found: pods "y" not found`.
 *
 * Retries: 429 on every verb (the server refused before processing);
 * 5xx but 501, and transport errors, on GET, PUT and DELETE; POST and
 * PATCH are retried on a transport error only when the connection could
 * not be made (nothing was sent). Before each retry: kube_backoff_ms.
 * Each attempt first takes a token from the client's rate limit.
 * ------------------------------------------------------------------- */

/* GET one object (or its subresource, NULL for none). On success *out is
 * a new reference. */
int kube_get(kube_client *c, const kube_gvr *gvr, const char *ns,
	     const char *name, const char *subresource, json_t **out,
	     kube_result *res, gv_error_t *err);

/* One page of a list. list is a new reference; the other fields are
 * borrowed from it (continue_token NULL on the last page). */
typedef struct kube_list_page {
	json_t *list;
	json_t *items; /* array */
	const char *continue_token;
	const char *resource_version;
} kube_list_page;

#define KUBE_LIST_PAGE_INIT  \
	{                    \
		.list = NULL \
	}

void kube_list_page_release(kube_list_page *p);

/* GET one page of the collection; q may be NULL. On success *out is
 * filled (release it with kube_list_page_release). */
int kube_list(kube_client *c, const kube_gvr *gvr, const char *ns,
	      const kube_query *q, kube_list_page *out, kube_result *res,
	      gv_error_t *err);

/* POST obj (borrowed) to the collection. *out: new reference. */
int kube_create(kube_client *c, const kube_gvr *gvr, const char *ns,
		const json_t *obj, json_t **out, kube_result *res,
		gv_error_t *err);

/* PUT obj (borrowed) to its name (metadata.name) or its subresource
 * ("status", "scale"; NULL for none). The object's
 * metadata.resourceVersion, when set, is the precondition (409 when
 * stale). *out: new reference. */
int kube_update(kube_client *c, const kube_gvr *gvr, const char *ns,
		const char *subresource, const json_t *obj, json_t **out,
		kube_result *res, gv_error_t *err);

typedef enum {
	KUBE_PATCH_MERGE, /* application/merge-patch+json (RFC 7386) */
	KUBE_PATCH_JSON, /* application/json-patch+json (RFC 6902) */
} kube_patch_type;

/* PATCH the object or its subresource with patch (borrowed). *out: new
 * reference. */
int kube_patch(kube_client *c, const kube_gvr *gvr, const char *ns,
	       const char *name, const char *subresource, kube_patch_type type,
	       const json_t *patch, json_t **out, kube_result *res,
	       gv_error_t *err);

/* DeleteOptions; NULL fields are left out. Borrowed strings. */
typedef struct kube_delete_opts {
	const char *propagation_policy; /* Orphan, Background, Foreground */
	const char *precondition_uid;
	const char *precondition_resource_version;
} kube_delete_opts;

/* DELETE the object, sending o (may be NULL) as a DeleteOptions body.
 * *out (may be NULL): new reference to the answer (the object or a
 * Status). */
int kube_delete(kube_client *c, const kube_gvr *gvr, const char *ns,
		const char *name, const kube_delete_opts *o, json_t **out,
		kube_result *res, gv_error_t *err);

/* ---------------------------------------------------------------------
 * Watch
 * ------------------------------------------------------------------- */

typedef enum {
	KUBE_EVENT_ADDED,
	KUBE_EVENT_MODIFIED,
	KUBE_EVENT_DELETED,
	KUBE_EVENT_BOOKMARK, /* obj carries only the resourceVersion */
} kube_event_type;

/* One event; obj is borrowed for the call. Return false to end the
 * watch (kube_watch then returns GV_OK). */
typedef bool (*kube_watch_fn)(void *ctx, kube_event_type type,
			      const json_t *obj);

/*
 * One line of a watch stream (line[0..len), untrusted): on GV_OK *event
 * is the parsed event (new reference; the caller decrefs it), *type its
 * type and *obj its object (borrowed from *event). Otherwise nothing is
 * returned and res says why: GV_EIO for an ERROR event (res->kind
 * KUBE_ERR_GONE for 410: relist; status and message from the Status),
 * GV_EPARSE with res->kind KUBE_ERR_PROTOCOL for a line that is not JSON,
 * has no object or an unknown type (the message names it).
 */
int kube_watch_event_parse(const char *line, size_t len, json_t **event,
			   kube_event_type *type, const json_t **obj,
			   kube_result *res);

typedef struct kube_watch_opts {
	const char *resource_version; /* resume after it; NULL: from now */
	const char *label_selector;
	const char *field_selector;
	long timeout_seconds; /* server ends the watch after; 0: 300 */
	long idle_seconds; /* no byte for this long: the connection is
				 dead; 0: 90 (bookmarks keep it busy) */
	const atomic_bool *stop; /* set from another thread to end it */
} kube_watch_opts;

/*
 * Streams the events of gvr in ns (NULL: every namespace) with
 * allowWatchBookmarks, calling fn for each, until the server ends the
 * watch (GV_OK), fn returns false or *stop is set (GV_OK), or it fails:
 * GV_EIO with res->kind KUBE_ERR_GONE when the resourceVersion is too old
 * (relist), KUBE_ERR_TRANSPORT when the connection broke or went silent,
 * or the kind of an HTTP error. Not retried: the caller (an informer)
 * resumes from the last resourceVersion it saw.
 */
int kube_watch(kube_client *c, const kube_gvr *gvr, const char *ns,
	       const kube_watch_opts *o, kube_watch_fn fn, void *ctx,
	       kube_result *res, gv_error_t *err);

#endif
