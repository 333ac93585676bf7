/* SPDX-License-Identifier: Apache-2.0 */
/*
 * groved/kube.h: the kube module (floor 1, library gv_kube), the one
 * header other modules include: kubeconfig and in-cluster configuration,
 * the REST client and its errors, stores, the work queue, informers,
 * Lease leader election, and kube_conn (configuration plus client).
 * kube/kube_int.h adds what only the sources in kube/ share.
 *
 * Ownership, in jansson's words: a json_t * returned through an out
 * parameter is a "new reference" (the caller decrefs it) unless its
 * comment says "borrowed" (valid while its owner is, never decref'd);
 * a json_t * passed in is borrowed for the call unless the comment says
 * the callee takes it ("steals"). Strings passed in are borrowed for the
 * call; strings returned in structures are owned by the structure and
 * freed by its *_release. Failures are a gv_rc and a caller's
 * gv_error_t (groved/gv.h); a part with no caller to return to (the
 * client, an informer, the lease) reports to the client's error callback
 * (kube_error_fn), with the API server's own words.
 */
#ifndef GROVED_KUBE_H
#define GROVED_KUBE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <curl/curl.h>

#include "groved/gv.h"
#include "groved/gv_thread.h"

/* =====================================================================
 * Config
 * ================================================================== */

/*
 * kube_config: what the kube client needs to reach one API server,
 * read from a kubeconfig file (as kubectl finds it) or from the pod's
 * service account when groved runs in a cluster.
 *
 * A kube_config owns every string in it (NUL-terminated, malloc'ed); all
 * may be NULL except server, namespace and context once loaded. Fill one
 * with kube_config_init() or KUBE_CONFIG_INIT, load it, read it from any
 * number of threads, and free its contents with kube_config_release().
 *
 * Errors name the file and the entry, e.g.
 *   kubeconfig '/x/config': context "prod" names cluster "c9", which is not defined
 * and leave the kube_config untouched.
 */

/* Largest kubeconfig, certificate, key or CA file read. */
#define KUBE_CONFIG_FILE_MAX ((size_t)1 << 20)
/* Largest bearer token; a token buffer of KUBE_TOKEN_MAX + 1 always fits. */
#define KUBE_TOKEN_MAX ((size_t)64 << 10)

/* Where in-cluster credentials live, below the root kube_config_in_cluster
 * is given. */
#define KUBE_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

typedef struct kube_config {
	char *server; /* https://host:port, no trailing slash */
	char *ca_pem; /* PEM text of the CA, or NULL for the system roots */
	bool insecure; /* insecure-skip-tls-verify */
	char *tls_server_name; /* or NULL */
	char *client_cert_pem; /* PEM text, or NULL; set with client_key_pem */
	char *client_key_pem; /* PEM text, or NULL */
	char *token; /* static bearer token, or NULL */
	char *token_file; /* bearer token re-read on use, or NULL */
	char *namespace; /* context's, the service account's, or "default" */
	char *context; /* the context used; "" in a cluster */
} kube_config;

/* Designated, so no compiler warns of the fields left out (all zero). */
#define KUBE_CONFIG_INIT       \
	{                      \
		.server = NULL \
	}

/* Fills c with an empty configuration. */
void kube_config_init(kube_config *c);

/* Frees what c owns and leaves it empty (as kube_config_init); c may be
 * NULL. */
void kube_config_release(kube_config *c);

/*
 * Loads the configuration kubectl would use:
 *   - explicit_path (--kubeconfig) alone when not NULL;
 *   - else every file of $KUBECONFIG (':'-separated; missing files are
 *     skipped), merged: the first file to define a cluster, user or context
 *     by name wins, and current-context comes from the first file that
 *     sets it;
 *   - else $HOME/.kube/config.
 * context (--context, borrowed, may be NULL) overrides current-context.
 * Relative file names in a cluster or user are taken from the directory
 * of the kubeconfig that defines that entry.
 *
 * On success releases c's old contents and fills c with new strings the
 * caller owns. On failure returns GV_ENOTFOUND (no kubeconfig at all),
 * GV_EIO, GV_ETOOBIG, GV_EPARSE, GV_EINVAL (a bad or incomplete entry),
 * GV_EUNSUPPORTED (exec or auth-provider users, basic auth) or GV_ENOMEM,
 * fills err (source is the kubeconfig file) and leaves c untouched.
 */
int kube_config_load(kube_config *c, const char *explicit_path,
		     const char *context, gv_error_t *err);

/*
 * Loads the service account configuration of a pod:
 * https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT (an IPv6 host
 * in brackets), the CA from root KUBE_SA_DIR/ca.crt, the token file
 * root KUBE_SA_DIR/token (checked now, re-read on use) and the namespace
 * from root KUBE_SA_DIR/namespace ("default" when there is none).
 * root (borrowed) is "" or NULL in production; tests give a directory.
 *
 * On success releases c's old contents and fills c. On failure returns
 * GV_ENOTFOUND (the variables are not set: not in a cluster), GV_EINVAL,
 * GV_EIO, GV_ETOOBIG or GV_ENOMEM, fills err and leaves c untouched.
 */
int kube_config_in_cluster(kube_config *c, const char *root, gv_error_t *err);

/*
 * Writes the current bearer token into buf (size bytes, NUL-terminated):
 * c->token_file read afresh (trailing white space dropped), else
 * c->token, else "" when c has no token. c is borrowed.
 * On failure (file unreadable, empty, larger than KUBE_TOKEN_MAX, holding
 * a control character, or too long for buf) returns GV_EIO, GV_EINVAL or
 * GV_ETOOBIG, fills err and leaves buf untouched.
 */
int kube_config_token(const kube_config *c, char *buf, size_t size,
		      gv_error_t *err);

/* =====================================================================
 * Client
 * ================================================================== */

/*
 * kube_client: a small REST client for the Kubernetes API server, on
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

/*
 * Failures with no caller to return to. A long-running part of the kube
 * module reports to its client's callback: the client itself when the
 * API server cannot be reached, refuses the credentials, fails (5xx) or
 * throttles (what "client"); an informer whose list or watch fails
 * ("informer <resource>"); the lease elector whose read or write fails
 * ("lease <namespace>/<name>"). err (borrowed for the call) reads like
 * `PUT /apis/...: forbidden: <the Status message> (HTTP 403)`: the
 * request, the API server's own words (Status.message, or curl's error
 * for a connection that failed) and the HTTP status when there was one.
 * err NULL says that what works again. Called on the part's own thread,
 * perhaps on several at once: the callback must be thread-safe and must
 * not block.
 */
typedef void (*kube_error_fn)(void *ctx, const char *what,
			      const gv_error_t *err);

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
	kube_error_fn on_error; /* may be NULL */
	void *error_ctx;
	atomic_bool failing; /* a client-wide failure was reported */
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

/* Sets c's error callback (fn NULL: none) and its ctx (borrowed: it
 * outlives c). Call it before c is used by more than one thread. Works
 * on a zeroed kube_client too (the tests' fake API server). */
void kube_client_on_error(kube_client *c, kube_error_fn fn, void *ctx);

/* Reports err (borrowed; NULL: what works again) for what to c's
 * callback, with res's HTTP status (res may be NULL) added to the text.
 * Nothing when c has no callback. For the informers and the lease. */
void kube_client_report(kube_client *c, const char *what,
			const kube_result *res, const gv_error_t *err);

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

/* =====================================================================
 * Store
 * ================================================================== */

/*
 * kube_store: the informer cache, private to the kube module.
 *
 * A store holds Kubernetes objects (jansson values) keyed by
 * "namespace/name", or "name" for cluster-scoped objects. It is read by
 * many threads (the webhooks) and written by one (the watch), under a
 * read-write lock.
 *
 * Rules of the values:
 *  - An object handed to the store belongs to it and is shared from then
 *    on: neither the caller nor anyone who reads it back may modify it.
 *    Readers get new references, so an object stays alive after the store
 *    has replaced or deleted it (jansson's reference counts are atomic).
 *  - The store never orders versions: the informer decides, the store
 *    replaces.
 *  - Indexes: by the value of each label key named at init ("k=v", so a
 *    list by an indexed label costs O(matches)) and by the uid of each
 *    metadata.ownerReferences[] entry. Both follow every put, delete and
 *    replace; entries of a replaced object are removed.
 *  - The store calls no handler except kube_store_replace()'s diff
 *    callback, after it has released its lock (a handler may read the
 *    store).
 */

/* Longest key or index entry, with its NUL ("namespace/name": 63 + 1 +
 * 253; a label "key=value": 317 + 1 + 63). */
#define KUBE_STORE_KEY_MAX 512

/*
 * An add, update or delete of the object at key: old_obj is NULL for an
 * add, new_obj is NULL for a delete. Both are borrowed and read-only; key
 * is borrowed. arg is the caller's.
 */
typedef void (*kube_store_event_fn)(void *arg, const char *key, json_t *old_obj,
				    json_t *new_obj);

typedef struct kube_store {
	pthread_rwlock_t lock;
	/* Taken to acquire lock, so that a waiting writer (the watch) stops
	 * new readers: POSIX read-write locks may prefer readers and starve
	 * it. */
	pthread_mutex_t gate;
	json_t *items; /* key -> object */
	json_t *index; /* "l:k=v" / "o:uid" -> { key: true } */
	char **index_labels; /* label keys indexed, owned */
	size_t n_index_labels;
	atomic_bool synced;
} kube_store;

/*
 * Fills s, empty and not synced. index_labels (borrowed, copied) lists the
 * label keys to index and ends with NULL; it may be NULL. Returns GV_OK,
 * GV_ENOMEM or GV_EIO (the lock cannot be created); on failure s holds
 * nothing to release.
 */
int kube_store_init(kube_store *s, const char *const *index_labels);

/* Frees what s holds (drops its references). No thread may use s. */
void kube_store_release(kube_store *s);

/*
 * Writes obj's key (borrowed obj) into buf of size bytes. Returns GV_OK,
 * GV_EINVAL (no metadata.name, or a namespace or name that is not a
 * non-empty string) or GV_ETOOBIG (does not fit).
 */
int kube_store_key(const json_t *obj, char *buf, size_t size);

/*
 * Stores obj under its key, replacing what was there. Steals obj, also on
 * failure. When old_out is not NULL it receives, on success, the replaced
 * object (new reference) or NULL. Returns GV_OK, GV_EINVAL (obj is no
 * object with a key), GV_ETOOBIG (a key or index entry too long) or
 * GV_ENOMEM; on failure the store is unchanged.
 */
int kube_store_put(kube_store *s, json_t *obj, json_t **old_out);

/*
 * kube_store_put only while what obj replaces is what the caller saw:
 * the object at obj's key has metadata.resourceVersion expected_rv, or,
 * expected_rv NULL, there is none. Atomic with the informer's puts, so a
 * writer that stores the API server's answer never replaces a newer
 * object the watch has delivered meanwhile. Steals obj. On GV_OK
 * *stored (may be NULL) says whether it was stored; errors as
 * kube_store_put.
 */
int kube_store_put_if(kube_store *s, json_t *obj, const char *expected_rv,
		      bool *stored);

/*
 * Removes the object at ns/name (ns NULL or "" for cluster scope). When
 * old_out is not NULL it receives, on success, the removed object (new
 * reference). Returns GV_OK, GV_ENOTFOUND, GV_EINVAL or GV_ETOOBIG.
 */
int kube_store_delete(kube_store *s, const char *ns, const char *name,
		      json_t **old_out);

/* The object at ns/name (ns NULL or "" for cluster scope): a new reference,
 * read-only, or NULL when there is none. */
json_t *kube_store_get(kube_store *s, const char *ns, const char *name);

/*
 * The objects in namespace ns (NULL: all namespaces; "": cluster-scoped
 * ones) that carry label_key=label_value. label_key NULL: any labels;
 * label_value NULL: any value of label_key. Uses the index when label_key
 * is indexed and label_value given. Returns a new reference to an array
 * (order unspecified) of read-only objects, or NULL when out of memory.
 */
json_t *kube_store_list(kube_store *s, const char *ns, const char *label_key,
			const char *label_value);

/* The objects with an ownerReferences[] entry of uid owner_uid (borrowed):
 * a new reference to an array (order unspecified), or NULL when out of
 * memory. */
json_t *kube_store_by_owner(kube_store *s, const char *owner_uid);

/*
 * The relist (after 410 Gone): atomically swaps the whole content for the
 * objects of objs (borrowed array; the store takes its own references to
 * the elements, which become read-only; a later duplicate key wins). Then,
 * with the lock released, calls fn (may be NULL) once per key that was
 * added (old NULL), deleted (new NULL), or kept (old and new, possibly the
 * same object). Returns GV_OK, GV_EINVAL (objs is no array, or an element
 * has no key), GV_ETOOBIG or GV_ENOMEM; on failure the store is unchanged
 * and fn is not called.
 */
int kube_store_replace(kube_store *s, json_t *objs, kube_store_event_fn fn,
		       void *arg);

/* The number of objects. */
size_t kube_store_len(kube_store *s);

/* Whether the first list has been stored (atomic; no lock). */
void kube_store_set_synced(kube_store *s, bool synced);
bool kube_store_synced(kube_store *s);

/* =====================================================================
 * Queue
 * ================================================================== */

/*
 * kube_queue: the controller work queue (client-go's workqueue), private
 * to the kube module.
 *
 * Rules:
 *  - Items are keys (strings, valid UTF-8, e.g. "namespace/name"); the
 *    queue copies what it is given.
 *  - A key queued twice before a worker takes it is handed out once (the
 *    "dirty" set).
 *  - A key a worker holds (between kube_queue_get() and kube_queue_done())
 *    is never handed to a second worker; added again meanwhile, it is
 *    queued again by kube_queue_done() (the "processing" set).
 *  - Delayed adds wait in a min-heap ordered by deadline (CLOCK_MONOTONIC),
 *    one entry per key (the earliest deadline wins); getters wait for the
 *    earliest with pthread_cond_timedwait. No timer thread.
 *  - The rate limiter keeps a failure count per key: the n-th rate-limited
 *    add waits base * 2^n ms, at most max; kube_queue_forget() resets it.
 *  - After kube_queue_shutdown() adds are ignored and delayed keys are
 *    dropped.
 */

#define KUBE_QUEUE_BASE_DELAY_MS 5
#define KUBE_QUEUE_MAX_DELAY_MS (1000 * 1000)

/* The rate limiter's settings; 0 picks the default. */
typedef struct kube_queue_opts {
	uint64_t base_delay_ms;
	uint64_t max_delay_ms;
} kube_queue_opts;

struct kube_queue_delayed; /* a heap entry */

typedef struct kube_queue {
	pthread_mutex_t mu;
	pthread_cond_t ready; /* getters wait here (CLOCK_MONOTONIC) */
	pthread_cond_t drained; /* kube_queue_shutdown(drain) waits here */
	char **fifo; /* ring of owned keys, capacity >= size of dirty */
	size_t head, n, cap;
	json_t *dirty; /* key -> true: queued, or to queue again at done */
	json_t *processing; /* key -> true: held by a worker */
	struct kube_queue_delayed *heap;
	size_t n_heap, cap_heap;
	json_t *waiting; /* key -> integer: its position in heap */
	uint64_t seq; /* order of delayed adds, for equal deadlines */
	json_t *failures; /* key -> integer: rate-limited adds since forget */
	uint64_t base_delay_ms, max_delay_ms;
	bool shutting_down;
	bool drain;
} kube_queue;

/* Fills q, empty. opts (borrowed) may be NULL for the defaults (5 ms,
 * 1000 s). Returns GV_OK, GV_ENOMEM or GV_EIO; on failure q holds nothing
 * to release. */
int kube_queue_init(kube_queue *q, const kube_queue_opts *opts);

/* Frees what q holds, queued keys included. No thread may use q. */
void kube_queue_release(kube_queue *q);

/* Queues key (borrowed, copied) unless it is queued already. Returns GV_OK
 * (also when ignored after shutdown), GV_EINVAL (NULL, empty or not UTF-8)
 * or GV_ENOMEM. */
int kube_queue_add(kube_queue *q, const char *key);

/* Queues key after delay_ms (at once when 0); when key is waiting already
 * the earlier deadline stays. Returns as kube_queue_add(). */
int kube_queue_add_after(kube_queue *q, const char *key, uint64_t delay_ms);

/* Queues key after its backoff (base * 2^failures, at most max) and counts
 * one more failure. The delay used goes to *delay_ms (may be NULL) on
 * success. Returns as kube_queue_add(). */
int kube_queue_add_rate_limited(kube_queue *q, const char *key,
				uint64_t *delay_ms);

/* Resets key's failure count (borrowed key). */
void kube_queue_forget(kube_queue *q, const char *key);

/* Key's failure count: rate-limited adds since the last forget. */
unsigned kube_queue_requeues(kube_queue *q, const char *key);

/*
 * Blocks until a key is ready or the queue is shut down. On GV_OK either
 * *key_out is the key (a new string the caller frees, after
 * kube_queue_done()) and *shutdown false, or *key_out is NULL and
 * *shutdown true: the worker should stop. Returns GV_OK or GV_ENOMEM.
 */
int kube_queue_get(kube_queue *q, char **key_out, bool *shutdown);

/* Ends the processing of key (borrowed), queueing it again when it was
 * added meanwhile. Returns GV_OK, GV_ENOTFOUND (not being processed) or
 * GV_ENOMEM (nothing changed: call again). */
int kube_queue_done(kube_queue *q, const char *key);

/*
 * Stops the queue. drain false: queued keys are dropped and getters see
 * shutdown at once. drain true: getters receive what is queued (and what
 * kube_queue_done() queues again) and see shutdown once nothing is queued
 * or processing; the call blocks until then, so it must not be made by a
 * worker holding a key.
 */
void kube_queue_shutdown(kube_queue *q, bool drain);

/* The number of keys ready to be handed out (delayed ones not counted
 * until due). */
size_t kube_queue_len(kube_queue *q);

/* =====================================================================
 * Informer
 * ================================================================== */

/*
 * kube_informer: list and watch one resource into a kube_store, as
 * client-go's informers do. Every replica runs them (the webhooks read
 * the stores); the controllers that write wait for leadership.
 */

typedef struct kube_informer_opts {
	kube_gvr gvr;
	const char *namespace; /* NULL: every namespace */
	const char *label_selector; /* NULL: everything */
	long page_size; /* list page; 0: 500 */
	long watch_timeout_s; /* the server ends each watch; 0: 300 */
	/* Called on the informer's thread for every change the store takes
	 * (a controller enqueues the key here); may be NULL. */
	kube_store_event_fn on_event;
	void *arg;
	/* Called with each object (listed or watched) before the store
	 * takes it, on the informer's thread; it may remove members the
	 * cache's readers never look at (a smaller cache). obj is the
	 * informer's own until stored. NULL: kept whole. */
	void (*trim)(void *arg, json_t *obj);
} kube_informer_opts;

typedef struct kube_informer {
	kube_informer_opts o;
	kube_client *client; /* borrowed */
	kube_store *store; /* borrowed */
	char resource_version[64]; /* the last one seen (informer thread) */
	gv_stopper stop; /* its waits end at once on a stop */
	atomic_uint lists; /* full lists done (1 + relists) */
	atomic_uint watches; /* watches started */
	bool failing; /* a failure was reported (informer thread) */
	pthread_t thread;
	bool running;
} kube_informer;

/*
 * Starts the informer's thread: list (paged) into store, mark it synced,
 * then watch from the list's resourceVersion; resume after a dropped or
 * silent connection (backoff), relist after 410 Gone. client and store
 * are borrowed and must outlive the informer. A list or watch that fails
 * is reported to the client's error callback as "informer <resource>"
 * with the API server's words before the backoff, and the next one that
 * works says so (kube_client_report). Returns GV_OK or GV_ENOMEM.
 */
int kube_informer_start(kube_informer *inf, kube_client *client,
			kube_store *store, const kube_informer_opts *o,
			gv_error_t *err);

/* Stops the thread (ends a running watch at once) and waits for it. */
void kube_informer_stop(kube_informer *inf);

/* Asks the thread to stop without waiting for it: a watch notices within
 * a second (libcurl's progress callback), so stopping many informers one
 * after another took that second each. Signal them all first, then
 * kube_informer_stop each: they end together. */
void kube_informer_signal(kube_informer *inf);

/* =====================================================================
 * Lease
 * ================================================================== */

/*
 * kube_lease: leader election on a coordination.k8s.io/v1 Lease, as
 * client-go's leaderelection does it. Every replica runs the informers
 * and serves the webhooks; only the holder of the lease runs the
 * controllers that write.
 */

typedef struct kube_elector_opts {
	const char *namespace; /* of the Lease */
	const char *name; /* of the Lease */
	const char *identity; /* this replica, e.g. the pod name */
	long lease_ms; /* how long a silent holder keeps it (15 s) */
	long renew_deadline_ms; /* a leader that cannot renew for this long
				   steps down (10 s) */
	long retry_ms; /* between attempts (2 s) */
	/* Called on this thread when leadership starts and when it ends
	 * (lost, or released at stop). on_stopped must stop the writers at
	 * once: another replica may lead a lease_ms later. */
	void (*on_started)(void *ctx);
	void (*on_stopped)(void *ctx);
	void *ctx;
} kube_elector_opts;

/* One replica's view of the lease. */
typedef struct kube_elector {
	kube_elector_opts o;
	kube_client *client; /* borrowed */
	bool leading;
	char observed[512]; /* holder and renewTime last seen */
	uint64_t observed_at; /* monotonic ms when that record changed */
	uint64_t renewed_at; /* monotonic ms of our last renewal */
	bool failing; /* a failed round was reported (kube_client_report) */
} kube_elector;

/* Fills e (defaults for zero durations); client is borrowed. */
void kube_elector_init(kube_elector *e, kube_client *client,
		       const kube_elector_opts *o);

/*
 * One round: acquire the lease when it is free or expired, or renew it
 * when ours. Returns true when this replica leads after the round. Calls
 * on_started / on_stopped on a change. Never blocks beyond one request.
 * A round that fails (the Lease cannot be read or written; a Conflict
 * with another replica is no failure) is reported to the client's error
 * callback as "lease <namespace>/<name>" with the API server's words,
 * and the next round that works says so (kube_client_report).
 */
bool kube_elector_round(kube_elector *e, uint64_t now_ms);

/*
 * Rounds every retry_ms until stop is stopped (a wait that ends at once); then releases the lease when
 * leading (so a successor need not wait out the lease). Blocking: run it
 * on its own thread.
 */
void kube_elector_run(kube_elector *e, gv_stopper *stop);

/* =====================================================================
 * Connect
 * ================================================================== */

/*
 * kube_connect: from a kubeconfig (or the in-cluster configuration) to
 * a ready REST client.
 */

/* A token file re-read while a process runs (kubelet rotates a pod's
 * service account token about hourly), as client-go's caching token
 * source does: at most once a refresh_ms, and a read that fails keeps the
 * token it has. The callback's string stays valid for two refreshes,
 * far longer than the client takes to copy it. */
typedef struct kube_file_token {
	pthread_mutex_t lock;
	const kube_config *cfg; /* borrowed: the conn's */
	char *current; /* under lock */
	char *previous; /* still valid for a caller that got it last time */
	uint64_t read_at_ms; /* monotonic */
	uint64_t refresh_ms; /* 60000; tests set it lower */
} kube_file_token;

typedef struct kube_conn {
	kube_config cfg;
	kube_client client;
	/* the token as read at connect: a kubeconfig's own token, or the
	 * file's first reading */
	char *token;
	kube_file_token *file_token; /* when the token comes from a file */
} kube_conn;

/*
 * Loads kubeconfig (NULL: $KUBECONFIG, then ~/.kube/config, then the
 * in-cluster configuration) with context (NULL: the current one) and
 * makes a client. The caller has called curl_global_init. Returns GV_OK,
 * or the error of kube_config_load / kube_client_init with err filled;
 * kc is then released.
 */
int kube_connect(kube_conn *kc, const char *kubeconfig, const char *context,
		 gv_error_t *err);
void kube_conn_release(kube_conn *kc);

/*
 * A second client on kc's server and credentials (the same token source)
 * with its own budget: timeout_ms for connecting and for the whole
 * request, max_attempts tries. For callers on a deadline: a webhook's
 * live GET must answer within kube-apiserver's timeout. out is released
 * with kube_client_release() before kc is. Returns as kube_client_init.
 */
int kube_conn_client(kube_conn *kc, long timeout_ms, unsigned max_attempts,
		     kube_client *out, gv_error_t *err);

/* kube_conn_client with its own client-side rate limit: qps requests a
 * second sustained, burst at once (0: the defaults), for a controller
 * that must not crowd out the rest of the cluster. */
int kube_conn_client_limited(kube_conn *kc, long timeout_ms,
			     unsigned max_attempts, double qps, unsigned burst,
			     kube_client *out, gv_error_t *err);

#endif
