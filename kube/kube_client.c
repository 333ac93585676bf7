/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kube_client.c: the Kubernetes REST client (see kube_client.h).
 *
 * One request is kube_do(): for each attempt, take a rate-limit token, take
 * an easy handle from the pool, set every option afresh (handles are reset
 * when they go back), perform, classify the outcome, and either finish or
 * sleep a backoff and go again.
 */
#include "kube_int.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "groved/gv_buf.h"
#include "groved/gv_json.h"
#include "groved/gv_time.h"

#define KUBE_DEFAULT_CONNECT_TIMEOUT_MS 5000L
#define KUBE_DEFAULT_TIMEOUT_MS 30000L
#define KUBE_DEFAULT_MAX_ATTEMPTS 5u
#define KUBE_DEFAULT_BACKOFF_BASE_MS 100L
#define KUBE_DEFAULT_BACKOFF_CAP_MS 10000L
#define KUBE_DEFAULT_RETRY_AFTER_MAX_S 60L
#define KUBE_DEFAULT_QPS 50.0
#define KUBE_DEFAULT_BURST 100u
#define KUBE_DEFAULT_MAX_RESPONSE ((size_t)64 << 20)
#define KUBE_JSON_MAX_DEPTH 512
#define KUBE_CLIENT_TOKEN_MAX 16384
#define KUBE_PATH_MAX 8192
#define KUBE_USER_AGENT "groved/" GROVED_VERSION

/* ---------------------------------------------------------------------
 * Errors
 * ------------------------------------------------------------------- */

static const char *const kube_err_text[] = {
#define KUBE_X_TEXT(name, msg) [name] = msg,
	KUBE_ERR_TABLE(KUBE_X_TEXT)
#undef KUBE_X_TEXT
};

const char *kube_strerror(int kind)
{
	if (kind < 0 || kind >= KUBE_ERR_COUNT)
		return "unknown error";
	return kube_err_text[kind];
}

/* ---------------------------------------------------------------------
 * Building URLs (on gv_buf: bounded, and a failure is sticky)
 * ------------------------------------------------------------------- */

/* Appends s percent-escaped: everything but RFC 3986 unreserved
 * characters, as curl_easy_escape does (without needing a handle). */
static int kube_url_escape(gv_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	int rc = GV_OK;

	for (; *s && rc == GV_OK; s++) {
		unsigned char ch = (unsigned char)*s;
		char enc[3];

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' ||
		    ch == '_' || ch == '~') {
			rc = gv_buf_add(b, s, 1);
			continue;
		}
		enc[0] = '%';
		enc[1] = hex[ch >> 4];
		enc[2] = hex[ch & 15];
		rc = gv_buf_add(b, enc, 3);
	}
	return rc;
}

/* ---------------------------------------------------------------------
 * Paths
 * ------------------------------------------------------------------- */

static bool kube_empty(const char *s)
{
	return !s || !*s;
}

static int kube_query_add(gv_buf *b, bool *first, const char *key,
			  const char *value)
{
	int rc = GV_OK;

	if (kube_empty(value))
		return GV_OK;
	rc = gv_buf_addstr(b, *first ? "?" : "&");
	if (rc == GV_OK)
		rc = gv_buf_addstr(b, key);
	if (rc == GV_OK)
		rc = gv_buf_addstr(b, "=");
	if (rc == GV_OK)
		rc = kube_url_escape(b, value);
	*first = false;
	return rc;
}

int kube_url_path(const kube_gvr *gvr, const char *ns, const char *name,
		  const char *subresource, const kube_query *q, char **out,
		  gv_error_t *err)
{
	gv_buf b = GV_BUF_INIT(KUBE_PATH_MAX);
	bool first = true;
	char limit[32];
	int rc = GV_OK;

	if (!gvr || kube_empty(gvr->version) || kube_empty(gvr->resource)) {
		rc = gv_error_set(err, GV_EINVAL, NULL, 0, 0,
				  "cannot build path: no version or resource");
		goto out;
	}
	if ((ns && !*ns) || (name && !*name) ||
	    (subresource && !*subresource)) {
		rc = gv_error_set(err, GV_EINVAL, NULL, 0, 0,
				  "cannot build path for '%s': empty segment",
				  gvr->resource);
		goto out;
	}
	if (subresource && !name) {
		rc = gv_error_set(err, GV_EINVAL, NULL, 0, 0,
				  "cannot build path for '%s/%s': no name",
				  gvr->resource, subresource);
		goto out;
	}
	if (gvr->namespaced && !ns && name) {
		rc = gv_error_set(
		    err, GV_EINVAL, NULL, 0, 0,
		    "cannot build path for '%s' '%s': no namespace",
		    gvr->resource, name);
		goto out;
	}
	if (kube_empty(gvr->group)) {
		rc = gv_buf_addstr(&b, "/api/");
	} else {
		rc = gv_buf_addstr(&b, "/apis/");
		if (rc == GV_OK)
			rc = kube_url_escape(&b, gvr->group);
		if (rc == GV_OK)
			rc = gv_buf_addstr(&b, "/");
	}
	if (rc == GV_OK)
		rc = kube_url_escape(&b, gvr->version);
	if (rc == GV_OK && gvr->namespaced && ns) {
		rc = gv_buf_addstr(&b, "/namespaces/");
		if (rc == GV_OK)
			rc = kube_url_escape(&b, ns);
	}
	if (rc == GV_OK)
		rc = gv_buf_addstr(&b, "/");
	if (rc == GV_OK)
		rc = kube_url_escape(&b, gvr->resource);
	if (rc == GV_OK && name) {
		rc = gv_buf_addstr(&b, "/");
		if (rc == GV_OK)
			rc = kube_url_escape(&b, name);
	}
	if (rc == GV_OK && subresource) {
		rc = gv_buf_addstr(&b, "/");
		if (rc == GV_OK)
			rc = kube_url_escape(&b, subresource);
	}
	if (rc == GV_OK && q) {
		rc = kube_query_add(&b, &first, "labelSelector",
				    q->label_selector);
		if (rc == GV_OK)
			rc = kube_query_add(&b, &first, "fieldSelector",
					    q->field_selector);
		if (rc == GV_OK && q->limit > 0) {
			snprintf(limit, sizeof(limit), "%ld", q->limit);
			rc = kube_query_add(&b, &first, "limit", limit);
		}
		if (rc == GV_OK)
			rc = kube_query_add(&b, &first, "continue",
					    q->continue_token);
		if (rc == GV_OK)
			rc = kube_query_add(&b, &first, "resourceVersion",
					    q->resource_version);
		if (rc == GV_OK)
			rc = kube_query_add(&b, &first, "propagationPolicy",
					    q->propagation_policy);
	}
	if (rc != GV_OK) {
		gv_error_set(err, rc, NULL, 0, 0, "cannot build path for '%s'",
			     gvr->resource);
		goto out;
	}
	*out = b.s;
	b.s = NULL;
out:
	gv_buf_release(&b);
	return rc;
}

/* ---------------------------------------------------------------------
 * Rate limit and backoff
 * ------------------------------------------------------------------- */

static void kube_sleep_ns(uint64_t ns)
{
	struct timespec ts = gv_timespec_ns(ns);

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

void kube_ratelimit_init(kube_ratelimit *rl, double qps, unsigned burst,
			 uint64_t now_ns)
{
	pthread_mutex_init(&rl->lock, NULL);
	rl->qps = qps;
	rl->burst = burst ? (double)burst : 1.0;
	rl->tokens = rl->burst;
	rl->last_ns = now_ns;
}

void kube_ratelimit_release(kube_ratelimit *rl)
{
	pthread_mutex_destroy(&rl->lock);
}

uint64_t kube_ratelimit_reserve(kube_ratelimit *rl, uint64_t now_ns)
{
	uint64_t wait = 0;

	pthread_mutex_lock(&rl->lock);
	if (rl->qps > 0) {
		if (now_ns > rl->last_ns) {
			rl->tokens +=
			    (double)(now_ns - rl->last_ns) / 1e9 * rl->qps;
			if (rl->tokens > rl->burst)
				rl->tokens = rl->burst;
			rl->last_ns = now_ns;
		}
		rl->tokens -= 1.0;
		if (rl->tokens < 0)
			wait = (uint64_t)(-rl->tokens / rl->qps * 1e9 + 0.5);
	}
	pthread_mutex_unlock(&rl->lock);
	return wait;
}

void kube_ratelimit_wait(kube_ratelimit *rl)
{
	uint64_t wait = kube_ratelimit_reserve(rl, gv_now_ns());

	if (wait)
		kube_sleep_ns(wait);
}

uint64_t kube_backoff_ms(unsigned attempt, uint64_t base_ms, uint64_t cap_ms,
			 long retry_after_s, uint64_t rnd)
{
	uint64_t ceiling = cap_ms;
	uint64_t d = 0;
	unsigned shift = attempt ? attempt - 1 : 0;

	if (shift < 63 && base_ms <= (cap_ms >> shift))
		ceiling = base_ms << shift;
	d = rnd % (ceiling + 1);
	if (retry_after_s > 0 && (uint64_t)retry_after_s * 1000u > d)
		d = (uint64_t)retry_after_s * 1000u;
	return d;
}

/* ---------------------------------------------------------------------
 * The client
 * ------------------------------------------------------------------- */

const char *kube_token_static(void *ctx)
{
	return ctx;
}

void kube_client_on_error(kube_client *c, kube_error_fn fn, void *ctx)
{
	c->on_error = fn;
	c->error_ctx = ctx;
}

void kube_client_report(kube_client *c, const char *what,
			const kube_result *res, const gv_error_t *err)
{
	gv_error_t full = GV_ERROR_INIT;

	if (!c || !c->on_error)
		return;
	if (!err) {
		c->on_error(c->error_ctx, what, NULL);
		return;
	}
	/* the HTTP status with the API server's words, when there was one */
	if (res && res->status > 0)
		gv_error_set(&full, GV_EIO, err->source, err->line, err->column,
			     "%s (HTTP %ld)", err->text, res->status);
	else
		gv_error_set(&full, GV_EIO, err->source, err->line, err->column,
			     "%s", err->text);
	c->on_error(c->error_ctx, what, &full);
}

static void kube_share_lock(CURL *h, curl_lock_data data,
			    curl_lock_access access, void *ctx)
{
	kube_client *c = ctx;

	(void)h;
	(void)access;
	if ((int)data >= 0 && data < CURL_LOCK_DATA_LAST)
		pthread_mutex_lock(&c->share_locks[data]);
}

static void kube_share_unlock(CURL *h, curl_lock_data data, void *ctx)
{
	kube_client *c = ctx;

	(void)h;
	if ((int)data >= 0 && data < CURL_LOCK_DATA_LAST)
		pthread_mutex_unlock(&c->share_locks[data]);
}

static char *kube_strdup_opt(const char *s, int *rc)
{
	char *d = NULL;

	if (!s || *rc != GV_OK)
		return NULL;
	d = strdup(s);
	if (!d)
		*rc = GV_ENOMEM;
	return d;
}

/* The base URL (no trailing '/') and, with tls_server_name, the
 * CONNECT_TO entry. */
static int kube_client_url(kube_client *c, const kube_client_opts *o,
			   gv_error_t *err)
{
	CURLU *u = NULL;
	char *scheme = NULL;
	char *host = NULL;
	char *port = NULL;
	char *url = NULL;
	char *entry = NULL;
	struct curl_slist *list = NULL;
	size_t n = 0;
	int rc = GV_OK;

	u = curl_url();
	if (!u) {
		rc = gv_error_set(err, GV_ENOMEM, NULL, 0, 0, "out of memory");
		goto out;
	}
	if (curl_url_set(u, CURLUPART_URL, o->server, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    (strcmp(scheme, "https") != 0 && strcmp(scheme, "http") != 0)) {
		rc = gv_error_set(err, GV_EINVAL, NULL, 0, 0,
				  "invalid server URL '%s'", o->server);
		goto out;
	}
	curl_url_set(u, CURLUPART_QUERY, NULL, 0);
	curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0);
	if (!kube_empty(o->tls_server_name)) {
		if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
		    curl_url_get(u, CURLUPART_PORT, &port,
				 CURLU_DEFAULT_PORT) != CURLUE_OK ||
		    curl_url_set(u, CURLUPART_HOST, o->tls_server_name, 0) !=
			CURLUE_OK) {
			rc = gv_error_set(err, GV_EINVAL, NULL, 0, 0,
					  "invalid tls server name '%s'",
					  o->tls_server_name);
			goto out;
		}
		n = strlen(o->tls_server_name) + strlen(host) +
		    2 * strlen(port) + 4;
		entry = malloc(n);
		if (!entry) {
			rc = gv_error_set(err, GV_ENOMEM, NULL, 0, 0,
					  "out of memory");
			goto out;
		}
		snprintf(entry, n, "%s:%s:%s:%s", o->tls_server_name, port,
			 host, port);
		list = curl_slist_append(NULL, entry);
		if (!list) {
			rc = gv_error_set(err, GV_ENOMEM, NULL, 0, 0,
					  "out of memory");
			goto out;
		}
	}
	if (curl_url_get(u, CURLUPART_URL, &url, 0) != CURLUE_OK) {
		rc = gv_error_set(err, GV_EINVAL, NULL, 0, 0,
				  "invalid server URL '%s'", o->server);
		goto out;
	}
	c->base_url = strdup(url);
	if (!c->base_url) {
		rc = gv_error_set(err, GV_ENOMEM, NULL, 0, 0, "out of memory");
		goto out;
	}
	n = strlen(c->base_url);
	while (n > 0 && c->base_url[n - 1] == '/')
		c->base_url[--n] = '\0';
	c->connect_to = list;
	list = NULL;
out:
	curl_slist_free_all(list);
	free(entry);
	curl_free(url);
	curl_free(port);
	curl_free(host);
	curl_free(scheme);
	curl_url_cleanup(u);
	return rc;
}

int kube_client_init(kube_client *c, const kube_client_opts *o, gv_error_t *err)
{
	int rc = GV_OK;
	int i = 0;

	memset(c, 0, sizeof(*c));
	if (!o || kube_empty(o->server)) {
		rc = gv_error_set(err, GV_EINVAL, NULL, 0, 0,
				  "cannot make kube client: no server");
		return rc;
	}
	for (i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&c->share_locks[i], NULL);
	pthread_mutex_init(&c->pool_lock, NULL);
	kube_ratelimit_init(&c->rl, o->qps ? o->qps : KUBE_DEFAULT_QPS,
			    o->burst ? o->burst : KUBE_DEFAULT_BURST,
			    gv_now_ns());
	c->rng = gv_now_ns() ^ (uint64_t)(uintptr_t)c;

	rc = kube_client_url(c, o, err);
	if (rc != GV_OK)
		goto out;
	c->ca_pem = kube_strdup_opt(o->ca_pem, &rc);
	c->cert_pem = kube_strdup_opt(o->client_cert_pem, &rc);
	c->key_pem = kube_strdup_opt(o->client_key_pem, &rc);
	if (rc != GV_OK) {
		gv_error_set(err, rc, NULL, 0, 0, "out of memory");
		goto out;
	}
	c->insecure = o->insecure;
	c->token = o->token;
	c->token_ctx = o->token_ctx;
	c->connect_timeout_ms = o->connect_timeout_ms > 0
				    ? o->connect_timeout_ms
				    : KUBE_DEFAULT_CONNECT_TIMEOUT_MS;
	c->timeout_ms =
	    o->timeout_ms > 0 ? o->timeout_ms : KUBE_DEFAULT_TIMEOUT_MS;
	c->max_attempts =
	    o->max_attempts ? o->max_attempts : KUBE_DEFAULT_MAX_ATTEMPTS;
	c->backoff_base_ms = o->backoff_base_ms > 0
				 ? o->backoff_base_ms
				 : KUBE_DEFAULT_BACKOFF_BASE_MS;
	c->backoff_cap_ms = o->backoff_cap_ms > 0 ? o->backoff_cap_ms
						  : KUBE_DEFAULT_BACKOFF_CAP_MS;
	c->retry_after_max_s = o->retry_after_max_s > 0
				   ? o->retry_after_max_s
				   : KUBE_DEFAULT_RETRY_AFTER_MAX_S;
	c->max_response =
	    o->max_response ? o->max_response : KUBE_DEFAULT_MAX_RESPONSE;

	c->share = curl_share_init();
	if (!c->share) {
		rc = gv_error_set(err, GV_ENOMEM, NULL, 0, 0, "out of memory");
		goto out;
	}
	if (curl_share_setopt(c->share, CURLSHOPT_LOCKFUNC, kube_share_lock) ||
	    curl_share_setopt(c->share, CURLSHOPT_UNLOCKFUNC,
			      kube_share_unlock) ||
	    curl_share_setopt(c->share, CURLSHOPT_USERDATA, c) ||
	    curl_share_setopt(c->share, CURLSHOPT_SHARE,
			      CURL_LOCK_DATA_CONNECT) ||
	    curl_share_setopt(c->share, CURLSHOPT_SHARE,
			      CURL_LOCK_DATA_SSL_SESSION) ||
	    curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS)) {
		rc = gv_error_set(err, GV_EIO, NULL, 0, 0,
				  "cannot share curl caches");
		goto out;
	}
out:
	if (rc != GV_OK)
		kube_client_release(c);
	return rc;
}

void kube_client_release(kube_client *c)
{
	size_t i = 0;

	if (!c)
		return;
	/* Easy handles first: they may hold connections of the share. */
	for (i = 0; i < c->n_pool; i++)
		curl_easy_cleanup(c->pool[i]);
	c->n_pool = 0;
	if (c->share)
		curl_share_cleanup(c->share);
	c->share = NULL;
	for (i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_destroy(&c->share_locks[i]);
	pthread_mutex_destroy(&c->pool_lock);
	kube_ratelimit_release(&c->rl);
	curl_slist_free_all(c->connect_to);
	free(c->base_url);
	free(c->ca_pem);
	free(c->cert_pem);
	free(c->key_pem);
	memset(c, 0, sizeof(*c));
}

/* An idle easy handle, or a new one; NULL when out of memory. */
static CURL *kube_handle_get(kube_client *c)
{
	CURL *h = NULL;

	pthread_mutex_lock(&c->pool_lock);
	if (c->n_pool > 0)
		h = c->pool[--c->n_pool];
	pthread_mutex_unlock(&c->pool_lock);
	if (!h)
		h = curl_easy_init();
	return h;
}

static void kube_handle_put(kube_client *c, CURL *h)
{
	if (!h)
		return;
	curl_easy_reset(h);
	pthread_mutex_lock(&c->pool_lock);
	if (c->n_pool < KUBE_POOL_MAX) {
		c->pool[c->n_pool++] = h;
		h = NULL;
	}
	pthread_mutex_unlock(&c->pool_lock);
	if (h)
		curl_easy_cleanup(h);
}

static uint64_t kube_random(kube_client *c)
{
	uint64_t z = 0;

	/* splitmix64 */
	pthread_mutex_lock(&c->pool_lock);
	c->rng += 0x9E3779B97F4A7C15u;
	z = c->rng;
	pthread_mutex_unlock(&c->pool_lock);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
	return z ^ (z >> 31);
}

/* ---------------------------------------------------------------------
 * One request
 * ------------------------------------------------------------------- */

typedef struct kube_call {
	const char *method;
	const char *path; /* request target, from kube_url_path */
	const char *content_type; /* NULL: no body */
	const char *body;
	size_t body_len;
	bool idempotent;
} kube_call;

/* What one attempt brought back. */
typedef struct kube_attempt {
	gv_buf body;
	long retry_after;
	long retry_after_max;
} kube_attempt;

static size_t kube_on_body(char *data, size_t size, size_t n, void *ctx)
{
	kube_attempt *a = ctx;

	if (gv_buf_add(&a->body, data, size * n) != GV_OK)
		return 0; /* CURLE_WRITE_ERROR */
	return size * n;
}

static size_t kube_on_header(char *data, size_t size, size_t n, void *ctx)
{
	static const char name[] = "retry-after:";
	kube_attempt *a = ctx;
	size_t len = size * n;
	size_t i = sizeof(name) - 1;
	long v = 0;

	if (len < i || strncasecmp(data, name, i) != 0)
		return len;
	while (i < len && (data[i] == ' ' || data[i] == '\t'))
		i++;
	if (i >= len || data[i] < '0' || data[i] > '9')
		return len; /* an HTTP-date: not honoured */
	for (; i < len && data[i] >= '0' && data[i] <= '9'; i++) {
		v = v * 10 + (data[i] - '0');
		if (v > a->retry_after_max)
			v = a->retry_after_max;
	}
	a->retry_after = v;
	return len;
}

static void kube_copy(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

/* The kind of an HTTP failure, from status and Status.reason. */
static kube_err kube_classify(long status, const char *reason)
{
	switch (status) {
	case 400:
		return KUBE_ERR_BAD_REQUEST;
	case 401:
		return KUBE_ERR_UNAUTHORIZED;
	case 403:
		return KUBE_ERR_FORBIDDEN;
	case 404:
		return KUBE_ERR_NOT_FOUND;
	case 409:
		return strcmp(reason, "AlreadyExists") == 0
			   ? KUBE_ERR_ALREADY_EXISTS
			   : KUBE_ERR_CONFLICT;
	case 410:
		return KUBE_ERR_GONE;
	case 422:
		return KUBE_ERR_INVALID;
	case 429:
		return KUBE_ERR_TOO_MANY_REQUESTS;
	default:
		break;
	}
	if (status >= 500 && status <= 599)
		return KUBE_ERR_SERVER;
	return KUBE_ERR_OTHER;
}

static int kube_err_rc(kube_err kind)
{
	switch (kind) {
	case KUBE_ERR_NONE:
		return GV_OK;
	case KUBE_ERR_NOT_FOUND:
		return GV_ENOTFOUND;
	case KUBE_ERR_ALREADY_EXISTS:
		return GV_EEXIST;
	case KUBE_ERR_CONFLICT:
		return GV_ECONFLICT;
	case KUBE_ERR_PROTOCOL:
		return GV_EPARSE;
	default:
		return GV_EIO;
	}
}

/* Reads reason and message of a Status body (best effort). */
static void kube_status_body(const gv_buf *body, kube_result *res)
{
	json_t *doc = NULL;
	gv_error_t perr = GV_ERROR_INIT;
	const char *s = NULL;

	if (!body->s || body->len == 0 ||
	    gv_json_parse(body->s, body->len, "response", KUBE_JSON_MAX_DEPTH,
			  0, &doc, &perr) != GV_OK)
		return;
	if (json_is_object(doc)) {
		s = json_string_value(json_object_get(doc, "reason"));
		kube_copy(res->reason, sizeof(res->reason), s);
		s = json_string_value(json_object_get(doc, "message"));
		kube_copy(res->message, sizeof(res->message), s);
	}
	json_decref(doc);
}

static bool kube_connect_failed(CURLcode cc)
{
	return cc == CURLE_COULDNT_CONNECT ||
	       cc == CURLE_COULDNT_RESOLVE_HOST ||
	       cc == CURLE_COULDNT_RESOLVE_PROXY;
}

/* Sets every option of h for one attempt. */
static int kube_setup(kube_client *c, CURL *h, const kube_call *k,
		      const char *url, struct curl_slist *headers,
		      kube_attempt *a, char *errbuf)
{
	struct curl_blob blob;
	CURLcode cc = CURLE_OK;

#define KUBE_SET(opt, val)                                  \
	do {                                                \
		if (cc == CURLE_OK)                         \
			cc = curl_easy_setopt(h, opt, val); \
	} while (0)
	KUBE_SET(CURLOPT_SHARE, c->share);
	KUBE_SET(CURLOPT_URL, url);
	KUBE_SET(CURLOPT_PROTOCOLS_STR, "http,https");
	KUBE_SET(CURLOPT_NOSIGNAL, 1L);
	KUBE_SET(CURLOPT_ERRORBUFFER, errbuf);
	KUBE_SET(CURLOPT_HTTPHEADER, headers);
	KUBE_SET(CURLOPT_USERAGENT, KUBE_USER_AGENT);
	KUBE_SET(CURLOPT_ACCEPT_ENCODING, "");
	KUBE_SET(CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
	KUBE_SET(CURLOPT_TIMEOUT_MS, c->timeout_ms);
	KUBE_SET(CURLOPT_WRITEFUNCTION, kube_on_body);
	KUBE_SET(CURLOPT_WRITEDATA, a);
	KUBE_SET(CURLOPT_HEADERFUNCTION, kube_on_header);
	KUBE_SET(CURLOPT_HEADERDATA, a);
	KUBE_SET(CURLOPT_SSL_VERIFYPEER, c->insecure ? 0L : 1L);
	KUBE_SET(CURLOPT_SSL_VERIFYHOST, c->insecure ? 0L : 2L);
	if (c->connect_to)
		KUBE_SET(CURLOPT_CONNECT_TO, c->connect_to);
	if (c->ca_pem) {
		blob = (struct curl_blob){ c->ca_pem, strlen(c->ca_pem),
					   CURL_BLOB_NOCOPY };
		KUBE_SET(CURLOPT_CAINFO_BLOB, &blob);
	}
	if (c->cert_pem) {
		blob = (struct curl_blob){ c->cert_pem, strlen(c->cert_pem),
					   CURL_BLOB_NOCOPY };
		KUBE_SET(CURLOPT_SSLCERTTYPE, "PEM");
		KUBE_SET(CURLOPT_SSLCERT_BLOB, &blob);
	}
	if (c->key_pem) {
		blob = (struct curl_blob){ c->key_pem, strlen(c->key_pem),
					   CURL_BLOB_NOCOPY };
		KUBE_SET(CURLOPT_SSLKEYTYPE, "PEM");
		KUBE_SET(CURLOPT_SSLKEY_BLOB, &blob);
	}
	if (strcmp(k->method, "GET") == 0) {
		KUBE_SET(CURLOPT_HTTPGET, 1L);
	} else {
		KUBE_SET(CURLOPT_CUSTOMREQUEST, k->method);
		if (k->content_type) {
			KUBE_SET(CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)k->body_len);
			KUBE_SET(CURLOPT_POSTFIELDS, k->body);
		}
	}
#undef KUBE_SET
	/* HTTP/2 over TLS when the server offers it; best effort. */
	curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	return cc == CURLE_OK ? GV_OK : GV_EINVAL;
}

/* The request headers for one attempt (the token is asked for anew). */
static int kube_headers(kube_client *c, const kube_call *k,
			struct curl_slist **out)
{
	struct curl_slist *list = NULL;
	struct curl_slist *t = NULL;
	gv_buf line = GV_BUF_INIT(KUBE_CLIENT_TOKEN_MAX + 64);
	const char *token = c->token ? c->token(c->token_ctx) : NULL;
	int rc = GV_OK;

	if (token && *token) {
		if (strpbrk(token, "\r\n")) {
			rc = GV_EINVAL;
			goto out;
		}
		/* one allocation: no freed copy of the token is left */
		rc = gv_buf_grow(&line, strlen(token) + 32);
		if (rc == GV_OK)
			rc = gv_buf_addstr(&line, "Authorization: Bearer ");
		if (rc == GV_OK)
			rc = gv_buf_addstr(&line, token);
		if (rc != GV_OK)
			goto out;
	}
	t = curl_slist_append(list, "Accept: application/json");
	if (t)
		list = t;
	if (t && k->content_type) {
		gv_buf ct = GV_BUF_INIT(256);

		rc = gv_buf_addstr(&ct, "Content-Type: ");
		if (rc == GV_OK)
			rc = gv_buf_addstr(&ct, k->content_type);
		t = rc == GV_OK ? curl_slist_append(list, ct.s) : NULL;
		gv_buf_release(&ct);
	}
	if (t)
		t = curl_slist_append(list, "Expect:");
	if (t && line.s)
		t = curl_slist_append(list, line.s);
	if (!t) {
		rc = rc == GV_OK ? GV_ENOMEM : rc;
		goto out;
	}
	*out = list;
	list = NULL;
out:
	curl_slist_free_all(list);
	if (line.s)
		memset(line.s, 0, line.len); /* the token */
	gv_buf_release(&line);
	return rc;
}

/* The whole URL of k: the client's base and k's path. */
static int kube_request_url(kube_client *c, const kube_call *k, gv_buf *url,
			    gv_error_t *err)
{
	int rc = gv_buf_addstr(url, c->base_url);

	if (rc == GV_OK)
		rc = gv_buf_addstr(url, k->path);
	if (rc != GV_OK)
		rc = gv_error_set(err, rc, NULL, 0, 0, "%s %s: URL too long",
				  k->method, k->path);
	return rc;
}

/*
 * One attempt's request: fresh headers (the token is asked for anew) and
 * a handle from the pool with every option set. On success *headers and
 * *h are the caller's (kube_handle_put, curl_slist_free_all); on failure
 * err says which step failed and nothing is left to free.
 */
static int kube_request_build(kube_client *c, const kube_call *k,
			      const char *url, kube_attempt *a, char *errbuf,
			      struct curl_slist **headers, CURL **h,
			      gv_error_t *err)
{
	int rc = kube_headers(c, k, headers);

	if (rc != GV_OK) {
		gv_error_set(err, rc, NULL, 0, 0,
			     "%s %s: cannot build headers%s", k->method,
			     k->path, rc == GV_EINVAL ? ": bad token" : "");
		goto out;
	}
	*h = kube_handle_get(c);
	if (!*h) {
		rc = gv_error_set(err, GV_ENOMEM, NULL, 0, 0,
				  "%s %s: out of memory", k->method, k->path);
		goto out;
	}
	rc = kube_setup(c, *h, k, url, *headers, a, errbuf);
	if (rc != GV_OK)
		gv_error_set(err, rc, NULL, 0, 0,
			     "%s %s: cannot set curl options", k->method, url);
out:
	if (rc != GV_OK) {
		kube_handle_put(c, *h);
		*h = NULL;
		curl_slist_free_all(*headers);
		*headers = NULL;
	}
	return rc;
}

/*
 * What one attempt ended with (cc, the status in res, the body in a):
 * fills res and returns GV_OK with *doc (a new reference) for a JSON
 * object in a 2xx answer. A failure fills err (transport errors name the
 * whole URL, HTTP ones the path) and says in *retry whether k may be sent
 * again.
 */
static int kube_response_classify(kube_client *c, const kube_call *k,
				  const char *url, CURLcode cc,
				  const kube_attempt *a, const char *errbuf,
				  kube_result *res, json_t **doc, bool *retry,
				  gv_error_t *err)
{
	gv_error_t perr = GV_ERROR_INIT;
	int rc = GV_OK;

	*retry = false;
	if (cc != CURLE_OK && a->body.toobig) {
		res->kind = KUBE_ERR_PROTOCOL;
		kube_copy(res->message, sizeof(res->message),
			  "response too large");
		return gv_error_set(err, GV_ETOOBIG, NULL, 0, 0,
				    "%s %s: response larger than %zu bytes",
				    k->method, k->path, c->max_response);
	}
	if (cc != CURLE_OK) {
		res->kind = KUBE_ERR_TRANSPORT;
		snprintf(res->message, sizeof(res->message), "%s (curl %d)%s%s",
			 curl_easy_strerror(cc), (int)cc, errbuf[0] ? ": " : "",
			 errbuf);
		*retry = k->idempotent || kube_connect_failed(cc);
		return gv_error_set(err, GV_EIO, NULL, 0, 0, "%s %s: %s: %s",
				    k->method, url, kube_strerror(res->kind),
				    res->message);
	}
	if (res->status >= 200 && res->status <= 299) {
		rc = gv_json_parse(gv_buf_str(&a->body), a->body.len, url,
				   KUBE_JSON_MAX_DEPTH, 0, doc, &perr);
		if (rc == GV_OK && !json_is_object(*doc))
			rc = GV_EPARSE;
		if (rc == GV_OK)
			return GV_OK;
		json_decref(*doc);
		*doc = NULL;
		res->kind = KUBE_ERR_PROTOCOL;
		kube_copy(res->message, sizeof(res->message),
			  rc == GV_EPARSE && perr.text[0]
			      ? perr.text
			      : "not a JSON object");
		return gv_error_set(err, rc, NULL, 0, 0, "%s %s: %s: %s",
				    k->method, k->path,
				    kube_strerror(res->kind), res->message);
	}
	kube_status_body(&a->body, res);
	res->kind = kube_classify(res->status, res->reason);
	if (!res->message[0])
		snprintf(res->message, sizeof(res->message), "HTTP status %ld",
			 res->status);
	*retry = res->kind == KUBE_ERR_TOO_MANY_REQUESTS ||
		 (res->kind == KUBE_ERR_SERVER && res->status != 501 &&
		  k->idempotent);
	return gv_error_set(err, kube_err_rc(res->kind), NULL, 0, 0,
			    "%s %s: %s: %s", k->method, k->path,
			    kube_strerror(res->kind), res->message);
}

/* One attempt of k: a rate-limit token, the request, the answer. */
static int kube_attempt_once(kube_client *c, const kube_call *k,
			     const char *url, kube_attempt *a, kube_result *res,
			     json_t **doc, bool *retry, gv_error_t *err)
{
	struct curl_slist *headers = NULL;
	char errbuf[CURL_ERROR_SIZE];
	unsigned attempts = res->attempts;
	CURL *h = NULL;
	CURLcode cc = CURLE_OK;
	int rc = GV_OK;

	*retry = false;
	memset(res, 0, sizeof(*res));
	res->attempts = attempts;
	gv_buf_release(&a->body); /* and its failure */
	a->retry_after = 0;
	a->retry_after_max = c->retry_after_max_s;
	errbuf[0] = '\0';

	kube_ratelimit_wait(&c->rl);
	rc = kube_request_build(c, k, url, a, errbuf, &headers, &h, err);
	if (rc != GV_OK)
		return rc;
	res->attempts++;
	cc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &res->status);
	res->retry_after = a->retry_after;
	kube_handle_put(c, h);
	curl_slist_free_all(headers);
	return kube_response_classify(c, k, url, cc, a, errbuf, res, doc, retry,
				      err);
}

/* Sends k until it succeeds, may not be retried, or has had
 * max_attempts; a backoff between attempts. */
static int kube_send_retrying(kube_client *c, const kube_call *k,
			      const char *url, kube_attempt *a,
			      kube_result *res, json_t **doc, gv_error_t *err)
{
	bool retry = false;
	int rc = GV_OK;

	for (;;) {
		rc = kube_attempt_once(c, k, url, a, res, doc, &retry, err);
		if (rc == GV_OK || !retry || res->attempts >= c->max_attempts)
			break;
		kube_sleep_ns(
		    kube_backoff_ms(res->attempts, (uint64_t)c->backoff_base_ms,
				    (uint64_t)c->backoff_cap_ms,
				    res->retry_after, kube_random(c)) *
		    1000000u);
	}
	return rc;
}

/* Whether a failure of this kind is the whole client's (the API server
 * away, the credentials refused, the server failing), not an answer
 * about one object. */
static bool kube_client_wide(kube_err kind)
{
	return kind == KUBE_ERR_TRANSPORT || kind == KUBE_ERR_UNAUTHORIZED ||
	       kind == KUBE_ERR_SERVER || kind == KUBE_ERR_TOO_MANY_REQUESTS;
}

/* Tells c's error callback about a client-wide failure, or that the API
 * server answers again. */
static void kube_client_seen(kube_client *c, int rc, const kube_result *res,
			     const gv_error_t *err)
{
	if (!c->on_error)
		return;
	if (rc != GV_OK && kube_client_wide(res->kind)) {
		atomic_store(&c->failing, true);
		kube_client_report(c, "client", res, err);
	} else if (res->attempts > 0 && !kube_client_wide(res->kind) &&
		   atomic_exchange(&c->failing, false)) {
		kube_client_report(c, "client", res, NULL);
	}
}

/*
 * Sends k until it succeeds or may not be retried: the URL, then
 * attempts (each one built, sent and classified). On success *out (may
 * be NULL) is the response object, a new reference.
 */
static int kube_do(kube_client *c, const kube_call *k, json_t **out,
		   kube_result *res, gv_error_t *err)
{
	gv_buf url = GV_BUF_INIT(KUBE_PATH_MAX * 2);
	kube_attempt a = { .body = GV_BUF_INIT(c->max_response) };
	json_t *doc = NULL;
	int rc = GV_OK;

	memset(res, 0, sizeof(*res));
	rc = kube_request_url(c, k, &url, err);
	if (rc == GV_OK)
		rc = kube_send_retrying(c, k, url.s, &a, res, &doc, err);
	kube_client_seen(c, rc, res, err);
	if (rc == GV_OK && out) {
		*out = doc;
		doc = NULL;
	}
	json_decref(doc);
	gv_buf_release(&a.body);
	gv_buf_release(&url);
	return rc;
}

/* ---------------------------------------------------------------------
 * Verbs
 * ------------------------------------------------------------------- */

/* Fills res for a failure before any request was sent. */
static int kube_fail_early(kube_result *res, int rc)
{
	memset(res, 0, sizeof(*res));
	res->kind = KUBE_ERR_OTHER;
	kube_copy(res->message, sizeof(res->message), gv_strerror(rc));
	return rc;
}

int kube_get(kube_client *c, const kube_gvr *gvr, const char *ns,
	     const char *name, const char *subresource, json_t **out,
	     kube_result *res, gv_error_t *err)
{
	char *path = NULL;
	int rc = kube_url_path(gvr, ns, name, subresource, NULL, &path, err);

	if (rc != GV_OK) {
		kube_fail_early(res, rc);
		goto out;
	}
	rc = kube_do(
	    c,
	    &(kube_call){ .method = "GET", .path = path, .idempotent = true },
	    out, res, err);
out:
	free(path);
	return rc;
}

void kube_list_page_release(kube_list_page *p)
{
	if (!p)
		return;
	json_decref(p->list);
	memset(p, 0, sizeof(*p));
}

int kube_list(kube_client *c, const kube_gvr *gvr, const char *ns,
	      const kube_query *q, kube_list_page *out, kube_result *res,
	      gv_error_t *err)
{
	char *path = NULL;
	json_t *list = NULL;
	json_t *items = NULL;
	json_t *meta = NULL;
	const char *cont = NULL;
	int rc = kube_url_path(gvr, ns, NULL, NULL, q, &path, err);

	if (rc != GV_OK) {
		kube_fail_early(res, rc);
		goto out;
	}
	rc = kube_do(
	    c,
	    &(kube_call){ .method = "GET", .path = path, .idempotent = true },
	    &list, res, err);
	if (rc != GV_OK)
		goto out;
	items = json_object_get(list, "items");
	if (!json_is_array(items)) {
		res->kind = KUBE_ERR_PROTOCOL;
		kube_copy(res->message, sizeof(res->message),
			  "list without items");
		rc = gv_error_set(err, GV_EPARSE, NULL, 0, 0,
				  "GET %s: malformed response: list without "
				  "items",
				  path);
		goto out;
	}
	meta = json_object_get(list, "metadata");
	cont = json_string_value(json_object_get(meta, "continue"));
	out->list = list;
	out->items = items;
	out->continue_token = kube_empty(cont) ? NULL : cont;
	out->resource_version =
	    json_string_value(json_object_get(meta, "resourceVersion"));
	list = NULL;
out:
	json_decref(list);
	free(path);
	return rc;
}

/* Sends obj (JSON) with method to its collection or its name. */
static int kube_send(kube_client *c, const char *method, const kube_gvr *gvr,
		     const char *ns, const char *name, const char *subresource,
		     const char *content_type, const json_t *obj,
		     bool idempotent, json_t **out, kube_result *res,
		     gv_error_t *err)
{
	char *path = NULL;
	char *body = NULL;
	int rc = kube_url_path(gvr, ns, name, subresource, NULL, &path, err);

	if (rc != GV_OK) {
		kube_fail_early(res, rc);
		goto out;
	}
	body = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
	if (obj && !body) {
		rc = kube_fail_early(res, GV_ENOMEM);
		gv_error_set(err, rc, NULL, 0, 0,
			     "%s %s: cannot encode the body", method, path);
		goto out;
	}
	rc = kube_do(c,
		     &(kube_call){ .method = method,
				   .path = path,
				   .content_type = body ? content_type : NULL,
				   .body = body,
				   .body_len = body ? strlen(body) : 0,
				   .idempotent = idempotent },
		     out, res, err);
out:
	free(body);
	free(path);
	return rc;
}

/* ns, or the object's metadata.namespace when ns is NULL (borrowed). */
static const char *kube_obj_ns(const json_t *obj, const char *ns)
{
	if (ns)
		return ns;
	return json_string_value(
	    json_object_get(json_object_get(obj, "metadata"), "namespace"));
}

int kube_create(kube_client *c, const kube_gvr *gvr, const char *ns,
		const json_t *obj, json_t **out, kube_result *res,
		gv_error_t *err)
{
	return kube_send(c, "POST", gvr, kube_obj_ns(obj, ns), NULL, NULL,
			 "application/json", obj, false, out, res, err);
}

int kube_update(kube_client *c, const kube_gvr *gvr, const char *ns,
		const char *subresource, const json_t *obj, json_t **out,
		kube_result *res, gv_error_t *err)
{
	const char *name = json_string_value(
	    json_object_get(json_object_get(obj, "metadata"), "name"));

	if (kube_empty(name)) {
		kube_fail_early(res, GV_EINVAL);
		return gv_error_set(err, GV_EINVAL, NULL, 0, 0,
				    "cannot update '%s': no metadata.name",
				    gvr ? gvr->resource : "?");
	}
	return kube_send(c, "PUT", gvr, kube_obj_ns(obj, ns), name, subresource,
			 "application/json", obj, true, out, res, err);
}

int kube_patch(kube_client *c, const kube_gvr *gvr, const char *ns,
	       const char *name, const char *subresource, kube_patch_type type,
	       const json_t *patch, json_t **out, kube_result *res,
	       gv_error_t *err)
{
	const char *ct = type == KUBE_PATCH_JSON
			     ? "application/json-patch+json"
			     : "application/merge-patch+json";

	if (!patch) {
		kube_fail_early(res, GV_EINVAL);
		return gv_error_set(err, GV_EINVAL, NULL, 0, 0,
				    "cannot patch '%s': no patch",
				    gvr ? gvr->resource : "?");
	}
	return kube_send(c, "PATCH", gvr, ns, name, subresource, ct, patch,
			 false, out, res, err);
}

int kube_delete(kube_client *c, const kube_gvr *gvr, const char *ns,
		const char *name, const kube_delete_opts *o, json_t **out,
		kube_result *res, gv_error_t *err)
{
	json_t *body = NULL;
	json_t *pre = NULL;
	int rc = GV_OK;

	if (o && (o->propagation_policy || o->precondition_uid ||
		  o->precondition_resource_version)) {
		body = json_pack("{s:s, s:s}", "kind", "DeleteOptions",
				 "apiVersion", "v1");
		pre = json_object();
		if (!body || !pre ||
		    (o->propagation_policy &&
		     json_object_set_new(body, "propagationPolicy",
					 json_string(o->propagation_policy))) ||
		    (o->precondition_uid &&
		     json_object_set_new(pre, "uid",
					 json_string(o->precondition_uid))) ||
		    (o->precondition_resource_version &&
		     json_object_set_new(
			 pre, "resourceVersion",
			 json_string(o->precondition_resource_version)))) {
			rc = kube_fail_early(res, GV_ENOMEM);
			gv_error_set(err, rc, NULL, 0, 0,
				     "cannot delete: cannot build options");
			goto out;
		}
		if (json_object_size(pre) > 0) {
			if (json_object_set_new(body, "preconditions", pre)) {
				pre = NULL;
				rc = kube_fail_early(res, GV_ENOMEM);
				gv_error_set(err, rc, NULL, 0, 0,
					     "cannot delete: out of memory");
				goto out;
			}
			pre = NULL;
		}
	}
	rc = kube_send(c, "DELETE", gvr, ns, name, NULL, "application/json",
		       body, true, out, res, err);
out:
	json_decref(pre);
	json_decref(body);
	return rc;
}

/* ---------------------------------------------------------------------
 * Watch
 * ------------------------------------------------------------------- */

/* The state of one watch stream while curl feeds it. */
typedef struct kube_stream {
	kube_attempt a; /* a.body holds the partial line */
	CURL *h;
	kube_watch_fn fn;
	void *ctx;
	const atomic_bool *stop;
	kube_result *res;
	bool ended; /* fn asked to stop, or an ERROR event came */
	size_t events;
} kube_stream;

static const struct {
	const char *name;
	kube_event_type type;
} kube_event_names[] = {
	{ "ADDED", KUBE_EVENT_ADDED },
	{ "MODIFIED", KUBE_EVENT_MODIFIED },
	{ "DELETED", KUBE_EVENT_DELETED },
	{ "BOOKMARK", KUBE_EVENT_BOOKMARK },
};

int kube_watch_event_parse(const char *line, size_t len, json_t **event,
			   kube_event_type *type, const json_t **obj,
			   kube_result *res)
{
	json_t *ev = NULL;
	const char *t = NULL;
	const json_t *o = NULL;
	gv_error_t perr = GV_ERROR_INIT;
	size_t i = 0;

	if (gv_json_parse(line, len, "watch event", KUBE_JSON_MAX_DEPTH, 0, &ev,
			  &perr) != GV_OK) {
		res->kind = KUBE_ERR_PROTOCOL;
		kube_copy(res->message, sizeof(res->message), perr.text);
		return GV_EPARSE;
	}
	t = json_string_value(json_object_get(ev, "type"));
	o = json_object_get(ev, "object");
	if (t && strcmp(t, "ERROR") == 0) {
		/* a Status: 410 Gone means relist */
		json_int_t code =
		    json_integer_value(json_object_get(o, "code"));

		res->status = (long)code;
		res->kind =
		    code == 410 ? KUBE_ERR_GONE : kube_classify((long)code, "");
		kube_copy(res->message, sizeof(res->message),
			  json_string_value(json_object_get(o, "message")));
		json_decref(ev);
		return GV_EIO;
	}
	for (i = 0; t && json_is_object(o) &&
		    i < sizeof(kube_event_names) / sizeof(kube_event_names[0]);
	     i++) {
		if (strcmp(t, kube_event_names[i].name) == 0) {
			*event = ev;
			*type = kube_event_names[i].type;
			*obj = o;
			return GV_OK;
		}
	}
	res->kind = KUBE_ERR_PROTOCOL;
	snprintf(res->message, sizeof(res->message),
		 "watch event of unknown type \"%s\"", t ? t : "");
	json_decref(ev);
	return GV_EPARSE;
}

/* One event line; false stops the stream. */
static bool kube_stream_line(kube_stream *s, const char *line, size_t len)
{
	json_t *ev = NULL;
	const json_t *obj = NULL;
	kube_event_type type = KUBE_EVENT_ADDED;
	bool go_on = false;

	if (len == 0)
		return true;
	if (kube_watch_event_parse(line, len, &ev, &type, &obj, s->res) !=
	    GV_OK)
		return false;
	s->events++;
	go_on = s->fn(s->ctx, type, obj);
	json_decref(ev);
	return go_on;
}

/* curl's write callback: splits the stream into event lines. */
static size_t kube_on_stream(char *data, size_t size, size_t n, void *ctx)
{
	kube_stream *s = ctx;
	size_t len = size * n;
	size_t i = 0;
	long code = 0;

	/* an error answer is a Status, kept whole for the message */
	curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &code);
	if (code < 200 || code > 299)
		return gv_buf_add(&s->a.body, data, len) == GV_OK ? len : 0;
	for (i = 0; i < len; i++) {
		size_t start = i;

		while (i < len && data[i] != '\n')
			i++;
		if (gv_buf_add(&s->a.body, data + start, i - start) != GV_OK)
			return 0; /* a line over the limit */
		if (i == len)
			break; /* the line goes on in the next chunk */
		if (!kube_stream_line(s, gv_buf_str(&s->a.body),
				      s->a.body.len)) {
			s->ended = true;
			return 0;
		}
		gv_buf_release(&s->a.body);
	}
	return len;
}

/* Progress: lets a stop request end the transfer. */
static int kube_on_progress(void *ctx, curl_off_t dt, curl_off_t dn,
			    curl_off_t ut, curl_off_t un)
{
	kube_stream *s = ctx;

	(void)dt;
	(void)dn;
	(void)ut;
	(void)un;
	return s->stop && atomic_load(s->stop) ? 1 : 0;
}

int kube_watch(kube_client *c, const kube_gvr *gvr, const char *ns,
	       const kube_watch_opts *o, kube_watch_fn fn, void *ctx,
	       kube_result *res, gv_error_t *err)
{
	kube_query q = { o->label_selector,
			 o->field_selector,
			 0,
			 NULL,
			 o->resource_version,
			 NULL };
	kube_call k = { "GET", NULL, NULL, NULL, 0, true };
	kube_stream s;
	gv_buf url = GV_BUF_INIT(KUBE_PATH_MAX * 2);
	struct curl_slist *headers = NULL;
	char errbuf[CURL_ERROR_SIZE];
	char extra[96];
	char *path = NULL;
	CURL *h = NULL;
	CURLcode cc = CURLE_OK;
	int rc = GV_OK;

	memset(res, 0, sizeof(*res));
	memset(&s, 0, sizeof(s));
	gv_buf_init(&s.a.body, c->max_response);
	s.fn = fn;
	s.ctx = ctx;
	s.stop = o->stop;
	s.res = res;
	rc = kube_url_path(gvr, ns, NULL, NULL, &q, &path, err);
	if (rc != GV_OK)
		return kube_fail_early(res, rc);
	snprintf(extra, sizeof(extra),
		 "%cwatch=1&allowWatchBookmarks=true&timeoutSeconds=%ld",
		 strchr(path, '?') ? '&' : '?',
		 o->timeout_seconds > 0 ? o->timeout_seconds : 300L);
	rc = gv_buf_addstr(&url, c->base_url);
	if (rc == GV_OK)
		rc = gv_buf_addstr(&url, path);
	if (rc == GV_OK)
		rc = gv_buf_addstr(&url, extra);
	k.path = path;
	if (rc == GV_OK)
		rc = kube_headers(c, &k, &headers);
	h = rc == GV_OK ? kube_handle_get(c) : NULL;
	if (!h) {
		rc = gv_error_set(err, rc == GV_OK ? GV_ENOMEM : rc, NULL, 0, 0,
				  "WATCH %s: cannot set up the request", path);
		kube_fail_early(res, rc);
		goto out;
	}
	kube_ratelimit_wait(&c->rl);
	s.h = h;
	rc = kube_setup(c, h, &k, url.s, headers, &s.a, errbuf);
	/* a stream: no overall timeout, but a silent one is noticed */
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 0L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME,
			 o->idle_seconds > 0 ? o->idle_seconds : 90L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, kube_on_stream);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, kube_on_progress);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, &s);
	errbuf[0] = '\0';
	res->attempts = 1;
	cc = rc == GV_OK ? curl_easy_perform(h) : CURLE_FAILED_INIT;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &res->status);
	if (s.ended && res->kind == KUBE_ERR_NONE) {
		rc = GV_OK; /* the callback asked to stop */
	} else if (s.ended) {
		rc = kube_err_rc(res->kind);
	} else if (cc == CURLE_ABORTED_BY_CALLBACK) {
		rc = GV_OK; /* stopped */
	} else if (cc == CURLE_OK && res->status >= 200 && res->status <= 299) {
		rc = GV_OK; /* the server ended the watch */
	} else if (cc == CURLE_OK) {
		kube_status_body(&s.a.body, res);
		res->kind = kube_classify(res->status, res->reason);
		rc = kube_err_rc(res->kind);
	} else {
		res->kind = KUBE_ERR_TRANSPORT;
		snprintf(res->message, sizeof(res->message), "%s (curl %d)%s%s",
			 curl_easy_strerror(cc), (int)cc, errbuf[0] ? ": " : "",
			 errbuf);
		rc = GV_EIO;
	}
	if (rc != GV_OK)
		gv_error_set(err, rc, NULL, 0, 0, "WATCH %s: %s: %s", path,
			     kube_strerror(res->kind), res->message);
out:
	kube_handle_put(c, h);
	curl_slist_free_all(headers);
	gv_buf_release(&s.a.body);
	gv_buf_release(&url);
	free(path);
	return rc;
}
