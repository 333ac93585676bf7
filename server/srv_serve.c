/* SPDX-License-Identifier: Apache-2.0 */
/*
 * srv_serve.c: `groved serve`, the process: configuration, then its parts
 * (the caches, the certificates, the leader, the three servers: webhooks
 * over HTTPS, health, metrics), then signals.
 *
 * The parts are one table of start/stop pairs (parts[] below): started
 * in order, each on the ones before it; on a failure the started ones
 * stop in reverse, and on SIGTERM or SIGINT every one does. A part that
 * runs a thread stops it with its gv_stopper (groved/gv_thread.h).
 *
 * Threads: libmicrohttpd's pool for each server, a watchdog per server,
 * an informer per watched resource, the elector, the certificate thread,
 * and this main thread, which only waits for signals and, every few
 * seconds, checks the certificate files. Worker threads share read-only
 * state: the hook environment is published through an atomic pointer and
 * replaced whole on SIGHUP; replaced ones are kept until exit (a few
 * hundred bytes per reload), so a request never sees one freed.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <time.h>

#include "groved/certs.h"
#include "groved/gv_time.h"
#include "groved/server.h"
#include "srv_admission.h"
#include "srv_certsync.h"
#include "srv_config.h"
#include "srv_http.h"
#include "srv_kcache.h"
#include "groved/reconcile.h"
#include "srv_leader.h"
#include "srv_log.h"
#include "srv_metrics.h"

#ifndef GROVED_VERSION
#define GROVED_VERSION "0.0.0"
#endif

/* How often the certificate files are checked for a change. */
#define CERT_CHECK_SECONDS 2

/* One loaded configuration and the hook environment made from it. */
typedef struct generation {
	struct generation *older;
	cfg_serve cfg;
	srv_hook_env env;
	char self_user[320]; /* when derived from the pod (cfg_self_user) */
} generation;

/* The parts of the process (parts[]). */
enum {
	PART_CACHES,
	PART_CERT_FILES,
	PART_CERT_SECRET,
	PART_LEADER,
	PART_WORKER,
	PART_WEBHOOKS,
	PART_HEALTH,
	PART_METRICS,
	PART_COUNT
};

typedef struct serve {
	int argc;
	char **argv;
	const cfg_serve *cfg; /* the first generation's: what needs a restart */
	log_ctx log;
	met_registry *met;
	bool cluster; /* --kubeconfig, or in a pod: informers fill the caches */
	bool secret_mode; /* --cert-secret: certsync loads certs */
	bool up[PART_COUNT]; /* parts[i] started and not yet stopped */
	unsigned grace; /* seconds the webhooks may finish in */
	cert_store certs;
	atomic_bool certs_loaded; /* a pair is served */
	srv_leader leader;
	srv_certsync certsync;
	srv_cache cache;
	srv_kcache kcache; /* the cluster's informers, when connected */
	_Atomic(rec_worker *) worker; /* the reconcile worker, when started */
	kube_client worker_client; /* its own rate limit (--kube-qps) */
	bool worker_client_up;
	pol_pod_options pod_options; /* the worker's pods: the webhook's */
	_Atomic(generation *) current;
	srv_http *webhooks;
	srv_http *health;
	srv_http *metrics;
} serve;

static double now_mono(void)
{
	return (double)gv_now_ns() / 1e9;
}

/* ---- the webhooks ----------------------------------------------------- */

static int webhook_route(void *ctx, const char *path)
{
	(void)ctx;
	return srv_hook_from_path(path);
}

static met_outcome outcome_of(const srv_review_log *rl)
{
	if (rl->malformed)
		return MET_MALFORMED;
	if (!rl->allowed)
		return MET_DENIED;
	return rl->patched ? MET_PATCHED : MET_ALLOWED;
}

static void webhook_handler(void *ctx, const srv_http_request *rq,
			    srv_http_response *rs)
{
	serve *s = ctx;
	const generation *g = atomic_load(&s->current);
	srv_reply reply = { 0, NULL, NULL, 0 };
	srv_review_log rl;
	double t0 = now_mono();
	double took = 0;
	int rc = GV_OK;

	memset(&rl, 0, sizeof(rl));
	met_request_begin(s->met);
	rc = srv_admission_serve((srv_hook)rq->route, rq->body, rq->len,
				 &g->env, &reply, &rl);
	took = now_mono() - t0;
	if (rc != GV_OK) {
		/* the reason as it is: out of memory only when it is */
		rs->status = 500;
		rs->content_type = "text/plain";
		rs->len = 0;
		rs->body = malloc(64);
		if (rs->body) {
			snprintf(rs->body, 64, "%s\n", gv_strerror(rc));
			rs->len = strlen(rs->body);
		}
		met_observe(s->met, (size_t)rq->route, MET_ERROR,
			    (uint64_t)(took * 1e9), rq->len);
		LOG_ERROR(&s->log, "request failed",
			  LOG_STR("webhook", srv_hook_name(rq->route)),
			  LOG_STR("error", gv_strerror(rc)));
		goto out;
	}
	rs->status = reply.status;
	rs->content_type = reply.content_type;
	rs->body = reply.body;
	rs->len = reply.len;
	reply.body = NULL;
	met_observe(s->met, (size_t)rq->route, outcome_of(&rl),
		    (uint64_t)(took * 1e9), rq->len);
	/* one line per review; never the object itself */
	LOG_INFO(&s->log, rl.malformed ? "malformed review" : "review",
		 LOG_STR("webhook", srv_hook_name(rq->route)),
		 LOG_STR("uid", rl.uid), LOG_STR("kind", rl.kind),
		 LOG_STR("namespace", rl.namespace), LOG_STR("name", rl.name),
		 LOG_STR("operation", rl.operation), LOG_STR("user", rl.user),
		 LOG_BOOL("allowed", rl.allowed),
		 LOG_BOOL("patched", rl.patched),
		 LOG_STR("error", rl.error[0] ? rl.error : NULL),
		 LOG_INT("duration_us", (int64_t)(took * 1e6)));
out:
	met_request_end(s->met);
	srv_reply_release(&reply);
}

static void tls_failure(void *ctx, const char *text)
{
	serve *s = ctx;

	met_tls_failure(s->met);
	LOG_DEBUG(&s->log, "tls", LOG_STR("detail", text));
}

/* ---- health and metrics ----------------------------------------------- */

enum { ROUTE_HEALTHZ, ROUTE_READYZ, ROUTE_METRICS };

static int health_route(void *ctx, const char *path)
{
	(void)ctx;
	if (strcmp(path, "/healthz") == 0)
		return ROUTE_HEALTHZ;
	if (strcmp(path, "/readyz") == 0)
		return ROUTE_READYZ;
	return -1;
}

static int metrics_route(void *ctx, const char *path)
{
	(void)ctx;
	return strcmp(path, "/metrics") == 0 ? ROUTE_METRICS : -1;
}

static void text_answer(srv_http_response *rs, int status, const char *text)
{
	rs->status = status;
	rs->content_type = "text/plain; charset=utf-8";
	rs->body = strdup(text);
	rs->len = rs->body ? strlen(text) : 0;
}

/* Ready once the certificate is loaded and, with a kube client, its
 * caches have synced. */
static bool is_ready(serve *s, char *why, size_t size)
{
	if (!atomic_load(&s->certs_loaded)) {
		snprintf(why, size, "serving certificate not loaded");
		return false;
	}
	if (s->cluster && !s->cache.ops->synced(s->cache.ctx)) {
		snprintf(why, size, "caches not synced");
		return false;
	}
	snprintf(why, size, "ok");
	return true;
}

static void health_handler(void *ctx, const srv_http_request *rq,
			   srv_http_response *rs)
{
	serve *s = ctx;
	char why[128];
	char text[160];

	if (rq->route == ROUTE_HEALTHZ) {
		text_answer(rs, 200, "ok\n");
		return;
	}
	if (rq->route == ROUTE_METRICS) {
		rs->content_type = MET_CONTENT_TYPE;
		if (met_render(s->met, &rs->body, &rs->len) != GV_OK)
			text_answer(rs, 500, "out of memory\n");
		return;
	}
	if (is_ready(s, why, sizeof(why))) {
		text_answer(rs, 200, "ok\n");
		return;
	}
	snprintf(text, sizeof(text), "not ready: %s\n", why);
	text_answer(rs, 503, text);
}

/* ---- the parts -------------------------------------------------------- */

static unsigned seconds_up(uint64_t ms)
{
	uint64_t s = (ms + 999) / 1000;

	return s ? (unsigned)s : 1;
}

/* groved's namespace, once the caches know the pod's. */
static const char *own_namespace(const serve *s)
{
	return srv_own_namespace(s->cfg, s->cluster ? s->kcache.kc.cfg.namespace
						    : NULL);
}

/* The caches: with a cluster (--kubeconfig, or in a pod), informers fill
 * them; without one nothing is ever synced, and checks that need the
 * cluster warn instead of deny (srv_cache_unsynced, set at start). */
static bool want_cluster(const serve *s)
{
	return s->cluster;
}

static int caches_start(serve *s, gv_error_t *err)
{
	int rc = srv_kcache_start(&s->kcache, s->cfg->kubeconfig, &s->log, err);

	if (rc != GV_OK)
		return rc;
	s->cache = srv_kcache_cache(&s->kcache);
	LOG_INFO(&s->log, "watching the cluster",
		 LOG_STR("server", s->kcache.kc.cfg.server),
		 LOG_BOOL("claim_templates", s->kcache.claims_served));
	return GV_OK;
}

/* On a clean stop, after the webhooks have drained: the caches' watches
 * are asked to end now, so that they end while the worker's do (each
 * takes up to a second to notice), not a second after them. */
static void caches_finish(serve *s)
{
	srv_kcache_signal(&s->kcache);
}

static void caches_stop(serve *s)
{
	srv_kcache_stop(&s->kcache);
	s->cache = srv_cache_unsynced();
}

/* A pair from the files became current: its expiry for /metrics. */
static void certificate_loaded(serve *s)
{
	cert_store_info info;

	if (cert_store_info_get(&s->certs, &info) == GV_OK)
		met_cert_loaded(s->met, info.not_after);
}

/* The certificate files (--tls-cert-file, --self-signed): loaded now,
 * checked by the main thread every few seconds and on SIGHUP. */
static bool want_cert_files(const serve *s)
{
	return !s->secret_mode;
}

static int cert_files_start(serve *s, gv_error_t *err)
{
	const cfg_serve *c = s->cfg;
	const char *dns[] = { "localhost", NULL };
	const char *ips[] = { "127.0.0.1", NULL };
	char crt[4096];
	char key[4096];
	bool generated = false;
	int rc = GV_OK;

	if (c->self_signed) {
		cert_gen_opts o;

		memset(&o, 0, sizeof(o));
		o.dns = dns;
		o.ips = ips;
		rc = cert_ensure_self_signed(c->self_signed, &o, &generated,
					     err);
		if (rc != GV_OK)
			return rc;
		snprintf(crt, sizeof(crt), "%s/tls.crt", c->self_signed);
		snprintf(key, sizeof(key), "%s/tls.key", c->self_signed);
		LOG_INFO(&s->log, "self-signed certificate",
			 LOG_STR("dir", c->self_signed),
			 LOG_BOOL("generated", generated));
	} else {
		snprintf(crt, sizeof(crt), "%s", c->tls_cert_file);
		snprintf(key, sizeof(key), "%s", c->tls_key_file);
	}
	rc = cert_store_init(&s->certs, crt, key);
	if (rc != GV_OK)
		return gv_error_set(err, rc, NULL, 0, 0,
				    "cannot set up the certificate store");
	rc = cert_store_load(&s->certs, err);
	if (rc != GV_OK) {
		cert_store_release(&s->certs);
		return rc;
	}
	cert_store_bind(&s->certs);
	atomic_store(&s->certs_loaded, true);
	certificate_loaded(s);
	return GV_OK;
}

static void cert_store_stop(serve *s)
{
	cert_store_bind(NULL);
	cert_store_release(&s->certs);
}

static const char *needs_cluster(const serve *s)
{
	return s->cfg->cert_secret ? "--cert-secret" : "--leader-elect";
}

/* --cert-secret: the certificate thread follows the Secret (and renews
 * it while this replica leads). The webhook server starts before a
 * certificate is loaded (handshakes fail and /readyz says why until one
 * is); the certificate thread loads it. Before the leader, which kicks
 * it, and stopped after it. */
static bool want_cert_secret(const serve *s)
{
	return s->secret_mode;
}

static int cert_secret_start(serve *s, gv_error_t *err)
{
	const cfg_serve *c = s->cfg;
	const char *ns = NULL;
	char crt[512];
	char key[512];
	int rc = GV_OK;

	if (!s->cluster)
		return gv_error_set(err, GV_EINVAL, NULL, 0, 0,
				    "%s needs the cluster: give --kubeconfig "
				    "or run in a pod",
				    needs_cluster(s));
	ns = own_namespace(s);
	/* the names only label messages: the pair comes from the Secret */
	snprintf(crt, sizeof(crt), "secret %s/%s: tls.crt", ns, c->cert_secret);
	snprintf(key, sizeof(key), "secret %s/%s: tls.key", ns, c->cert_secret);
	rc = cert_store_init(&s->certs, crt, key);
	if (rc != GV_OK)
		return gv_error_set(err, rc, NULL, 0, 0,
				    "cannot set up the certificate store");
	cert_store_bind(&s->certs);
	rc = srv_certsync_start(&s->certsync, &s->kcache.kc.client, c, ns,
				&s->certs, &s->leader, &s->log, s->met,
				&s->certs_loaded, err);
	if (rc != GV_OK) {
		cert_store_stop(s);
		return rc;
	}
	LOG_INFO(&s->log, "self-managed certificates", LOG_STR("namespace", ns),
		 LOG_STR("secret", c->cert_secret),
		 LOG_BOOL("leader_elect", c->leader_elect));
	return GV_OK;
}

static void cert_secret_stop(serve *s)
{
	srv_certsync_stop(&s->certsync);
	cert_store_stop(s);
}

/* Leadership changed: certificates are the leader's to renew. The
 * certificate thread starts before the leader and stops after it. */
static void leader_changed(void *ctx)
{
	serve *s = ctx;

	met_set_leader(s->met, srv_leader_leading(&s->leader));
	if (s->secret_mode)
		srv_certsync_kick(&s->certsync);
	/* a new leader looks at every set (a lost one drops its keys) */
	if (srv_leader_leading(&s->leader))
		rec_worker_resync(atomic_load(&s->worker));
}

/* --leader-elect, and --cert-secret (whose renewals the leader makes):
 * the elector's thread, or this process leading alone. Stopping it
 * releases a held Lease. */
static bool want_leader(const serve *s)
{
	return s->cfg->leader_elect || s->secret_mode;
}

static int leader_start(serve *s, gv_error_t *err)
{
	int rc = GV_OK;

	if (!s->cluster)
		return gv_error_set(err, GV_EINVAL, NULL, 0, 0,
				    "%s needs the cluster: give --kubeconfig "
				    "or run in a pod",
				    needs_cluster(s));
	rc = srv_leader_start(&s->leader, &s->kcache.kc.client,
			      own_namespace(s), err);
	if (rc != GV_OK)
		return rc;
	/* a replica that never leads still says so */
	met_set_leader(s->met, srv_leader_leading(&s->leader));
	return GV_OK;
}

static void leader_stop(serve *s)
{
	srv_leader_stop(&s->leader); /* releases the Lease */
}

/* ---- the reconcile worker --------------------------------------------- */

/* With the cluster, unless --no-reconcile: every replica runs its
 * informers; it writes while srv_leader_leading says so. */
static bool want_worker(const serve *s)
{
	return s->cluster && !s->cfg->no_reconcile;
}

static bool worker_leading(void *ctx)
{
	serve *s = ctx;

	return srv_leader_leading(&s->leader);
}

static void worker_log(void *ctx, rec_log_level level, const char *set,
		       const char *msg)
{
	serve *s = ctx;
	const char *pcs = set ? set : "";

	if (level == REC_LOG_WARN)
		LOG_WARN(&s->log, msg, LOG_STR("podcliqueset", pcs));
	else if (level == REC_LOG_INFO)
		LOG_INFO(&s->log, msg, LOG_STR("podcliqueset", pcs));
	else
		LOG_DEBUG(&s->log, msg, LOG_STR("podcliqueset", pcs));
}

static int worker_start(serve *s, gv_error_t *err)
{
	rec_worker_opts o = { 0 };
	rec_worker *w = NULL;
	int rc = GV_OK;

	s->pod_options.default_scheduler = s->cfg->default_scheduler;
	s->pod_options.initc_image = s->cfg->initc_image;
	/* 30 s a request and 5 tries: a controller waits out a busy server */
	rc = kube_conn_client_limited(
	    &s->kcache.kc, 30000, 5, (double)s->cfg->kube_qps,
	    (unsigned)s->cfg->kube_burst, &s->worker_client, err);
	if (rc != GV_OK)
		return rc;
	s->worker_client_up = true;
	kube_client_on_error(&s->worker_client, srv_kerrors_report,
			     &s->kcache.errors);
	o.client = &s->worker_client;
	o.threads = (unsigned)s->cfg->reconcile_threads;
	o.claim_api_version =
	    s->kcache.claims_served ? s->kcache.claims.version : NULL;
	o.pod_options = &s->pod_options;
	o.leading = worker_leading;
	o.leading_ctx = s;
	o.log = worker_log;
	o.log_ctx = s;
	rc = rec_worker_start(&o, &w, err);
	if (rc != GV_OK) {
		kube_client_release(&s->worker_client);
		s->worker_client_up = false;
		return rc;
	}
	atomic_store(&s->worker, w);
	met_set_worker(s->met, w);
	LOG_INFO(&s->log, "reconciling PodCliqueSets",
		 LOG_BOOL("leading", srv_leader_leading(&s->leader)));
	return GV_OK;
}

static void worker_stop(serve *s)
{
	rec_worker *w = atomic_exchange(&s->worker, NULL);

	met_set_worker(s->met, NULL);
	rec_worker_stop(w);
	if (s->worker_client_up)
		kube_client_release(&s->worker_client);
	s->worker_client_up = false;
}

/* Starts one server on addr ("host:port"). */
static int start_server(serve *s, const char *what, const char *addr,
			const srv_http_opts *o, srv_http **out, gv_error_t *err)
{
	srv_http_opts bound = *o;
	char host[256];
	unsigned port = 0;
	int rc = cfg_parse_hostport(addr, host, sizeof(host), &port);

	if (rc != GV_OK)
		return gv_error_set(err, rc, NULL, 0, 0,
				    "bad %s address \"%s\"", what, addr);
	bound.host = host;
	bound.port = port;
	rc = srv_http_start(&bound, out, err);
	if (rc == GV_OK)
		LOG_INFO(&s->log, "listening", LOG_STR("server", what),
			 LOG_STR("host", host[0] ? host : "*"),
			 LOG_INT("port", srv_http_port(*out)),
			 LOG_BOOL("tls", bound.tls_cert_callback != NULL));
	return rc;
}

/* The webhooks over HTTPS, with the current certificate. */
static int webhooks_start(serve *s, gv_error_t *err)
{
	const cfg_serve *c = s->cfg;
	srv_http_opts o;

	memset(&o, 0, sizeof(o));
	o.kind = SRV_HTTP_JSON_POST;
	o.threads = (unsigned)c->threads;
	o.max_connections = (unsigned)c->max_connections;
	o.idle_timeout = seconds_up(c->connection_idle_timeout_ms);
	o.request_timeout = seconds_up(c->request_timeout_ms);
	o.max_body = SRV_MAX_BODY;
	o.tls_cert_callback = (void *)cert_store_retrieve;
	o.route = webhook_route;
	o.handler = webhook_handler;
	o.on_tls_error = tls_failure;
	o.ctx = s;
	return start_server(s, "webhooks", c->webhook_addr, &o, &s->webhooks,
			    err);
}

/* A clean stop, before any part stops: stop taking requests, finish the
 * ones in flight (bounded by --shutdown-timeout) while /healthz,
 * /readyz and /metrics still answer. */
static void webhooks_finish(serve *s)
{
	srv_http_stop(s->webhooks, s->grace);
	s->webhooks = NULL;
}

static void webhooks_stop(serve *s)
{
	srv_http_stop(s->webhooks, 0);
	s->webhooks = NULL;
}

static void plain_options(serve *s, srv_http_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->kind = SRV_HTTP_GET;
	o->threads = 1;
	o->max_connections = 64;
	o->idle_timeout = seconds_up(s->cfg->connection_idle_timeout_ms);
	o->request_timeout = seconds_up(s->cfg->request_timeout_ms);
	o->handler = health_handler;
	o->ctx = s;
}

/* /healthz and /readyz over plain HTTP. */
static int health_start(serve *s, gv_error_t *err)
{
	srv_http_opts o;

	plain_options(s, &o);
	o.route = health_route;
	return start_server(s, "health", s->cfg->health_addr, &o, &s->health,
			    err);
}

static void health_stop(serve *s)
{
	srv_http_stop(s->health, 0);
	s->health = NULL;
}

/* /metrics over plain HTTP; the last to listen. */
static int metrics_start(serve *s, gv_error_t *err)
{
	srv_http_opts o;

	plain_options(s, &o);
	o.route = metrics_route;
	return start_server(s, "metrics", s->cfg->metrics_addr, &o, &s->metrics,
			    err);
}

static void metrics_stop(serve *s)
{
	srv_http_stop(s->metrics, 0);
	s->metrics = NULL;
}

/*
 * The parts, in the order they start; they stop in reverse. Each starts
 * on the ones above it: the certificates and the leader on the caches'
 * kube client; the leader kicks the certificate thread, which must run
 * for as long as it does (and a leader stops its writers before it
 * releases the Lease); the servers last, so that nothing answers before
 * what it answers from is there, and /metrics last of all (tests and
 * scripts wait for its "listening" line).
 *
 * A row: its name; whether this configuration wants it (NULL: always);
 * start, which on failure undoes its own work and fills err; on a clean
 * stop, finish (may be NULL), called on every part in reverse before any
 * stops; stop. The reconcile worker comes after the leader, which
 * it asks before every write, and stops before it (the Lease is released
 * once nothing writes).
 */
typedef struct part {
	const char *name;
	const char *fail; /* the message logged when start fails */
	bool (*wanted)(const serve *s);
	int (*start)(serve *s, gv_error_t *err);
	void (*finish)(serve *s);
	void (*stop)(serve *s);
} part;

static const part parts[PART_COUNT] = {
	[PART_CACHES] = { "caches", "cannot connect to the API server",
			  want_cluster, caches_start, caches_finish,
			  caches_stop },
	[PART_CERT_FILES] = { "certificate files",
			      "cannot load the serving certificate",
			      want_cert_files, cert_files_start, NULL,
			      cert_store_stop },
	[PART_CERT_SECRET] = { "certificate secret", "cannot start",
			       want_cert_secret, cert_secret_start, NULL,
			       cert_secret_stop },
	[PART_LEADER] = { "leader", "cannot start", want_leader, leader_start,
			  NULL, leader_stop },
	[PART_WORKER] = { "worker", "cannot start the reconcile worker",
			  want_worker, worker_start, NULL, worker_stop },
	[PART_WEBHOOKS] = { "webhooks", "cannot start", NULL, webhooks_start,
			    webhooks_finish, webhooks_stop },
	[PART_HEALTH] = { "health", "cannot start", NULL, health_start, NULL,
			  health_stop },
	[PART_METRICS] = { "metrics", "cannot start", NULL, metrics_start, NULL,
			   metrics_stop },
};

/* Stops the started parts in reverse; finish first when clean. */
static void stop_parts(serve *s, bool clean)
{
	size_t i = 0;

	for (i = PART_COUNT; clean && i-- > 0;)
		if (s->up[i] && parts[i].finish)
			parts[i].finish(s);
	for (i = PART_COUNT; i-- > 0;) {
		if (!s->up[i])
			continue;
		parts[i].stop(s);
		s->up[i] = false;
	}
}

/* Starts the wanted parts in order; on a failure (logged) stops the
 * started ones in reverse. */
static int start_parts(serve *s)
{
	gv_error_t err = GV_ERROR_INIT;
	size_t i = 0;
	int rc = GV_OK;

	for (i = 0; i < PART_COUNT; i++) {
		if (parts[i].wanted && !parts[i].wanted(s))
			continue;
		rc = parts[i].start(s, &err);
		if (rc != GV_OK) {
			LOG_ERROR(&s->log, parts[i].fail,
				  LOG_STR("part", parts[i].name),
				  LOG_STR("error", err.text));
			stop_parts(s, false);
			return rc;
		}
		s->up[i] = true;
	}
	return GV_OK;
}

/* ---- configuration and signals ---------------------------------------- */

/* A configuration and its hook environment; NULL on failure (err). */
static generation *load_generation(serve *s, gv_error_t *err)
{
	generation *g = calloc(1, sizeof(*g));

	if (!g || cfg_serve_init(&g->cfg) != GV_OK) {
		free(g);
		gv_error_set(err, GV_ENOMEM, NULL, 0, 0, "out of memory");
		return NULL;
	}
	if (cfg_serve_load(&g->cfg, s->argc, s->argv, err) != GV_OK) {
		cfg_serve_release(&g->cfg);
		free(g);
		return NULL;
	}
	g->env.cache = &s->cache;
	g->env.default_scheduler = g->cfg.default_scheduler;
	g->env.initc_image = g->cfg.initc_image;
	g->env.self_user =
	    cfg_self_user(&g->cfg, g->self_user, sizeof(g->self_user));
	g->env.exempt_users = g->cfg.exempt_users[0]
				  ? (const char *const *)g->cfg.exempt_users
				  : NULL;
	return g;
}

/* Checks the certificate files; a refused pair is logged once per state
 * (*reported). The certificate thread follows a Secret instead. */
static void check_certificates(serve *s, bool *reported)
{
	gv_error_t err = GV_ERROR_INIT;
	bool changed = false;

	if (s->secret_mode)
		return;
	if (cert_store_reload_if_changed(&s->certs, &changed, &err) != GV_OK) {
		if (!*reported)
			LOG_ERROR(&s->log,
				  "cannot load the new certificate; still "
				  "serving the old one",
				  LOG_STR("error", err.text));
		*reported = true;
		return;
	}
	*reported = false;
	if (changed) {
		LOG_INFO(&s->log, "certificate reloaded");
		certificate_loaded(s);
	}
}

/* SIGHUP: a new configuration (its live parts) and the certificates. */
static void reload(serve *s)
{
	generation *cur = atomic_load(&s->current);
	generation *g = NULL;
	gv_error_t err = GV_ERROR_INIT;
	const char *restart = NULL;
	bool reported = false;

	g = load_generation(s, &err);
	if (!g) {
		LOG_ERROR(&s->log,
			  "cannot reload the configuration; keeping "
			  "the running one",
			  LOG_STR("error", err.text));
		return;
	}
	restart = cfg_serve_restart_needed(&cur->cfg, &g->cfg);
	if (restart)
		LOG_WARN(&s->log, "option changed that needs a restart",
			 LOG_STR("option", restart));
	g->older = cur;
	log_set_level(&s->log, g->cfg.log_level);
	atomic_store(&s->current, g);
	LOG_INFO(&s->log, "configuration reloaded");
	check_certificates(s, &reported); /* a SIGHUP always reports */
}

/* Waits for SIGTERM or SIGINT; handles SIGHUP and the periodic checks. */
static void wait_for_stop(serve *s, const sigset_t *set)
{
	bool reported = false;

	for (;;) {
		struct timespec ts = { CERT_CHECK_SECONDS, 0 };
		int sig = sigtimedwait(set, NULL, &ts);

		if (sig == SIGTERM || sig == SIGINT) {
			LOG_INFO(&s->log, "stopping",
				 LOG_STR("signal", sig == SIGTERM ? "SIGTERM"
								  : "SIGINT"));
			return;
		}
		if (sig == SIGHUP)
			reload(s);
		else
			check_certificates(s, &reported);
	}
}

static void free_generations(generation *g)
{
	while (g) {
		generation *older = g->older;

		cfg_serve_release(&g->cfg);
		free(g);
		g = older;
	}
}

static int new_metrics(serve *s)
{
	static const char *hooks[SRV_HOOK_COUNT];
	met_options mo;
	size_t i = 0;

	for (i = 0; i < SRV_HOOK_COUNT; i++)
		hooks[i] = srv_hook_name((srv_hook)i);
	memset(&mo, 0, sizeof(mo));
	mo.webhooks = hooks;
	mo.n_webhooks = SRV_HOOK_COUNT;
	mo.version = GROVED_VERSION;
	mo.process = true;
	return met_new(&mo, &s->met);
}

int srv_cmd_serve(int argc, char **argv)
{
	serve s;
	generation *g = NULL;
	gv_error_t err = GV_ERROR_INIT;
	sigset_t set;
	char *dump = NULL;
	int exit_code = 1;

	memset(&s, 0, sizeof(s));
	s.argc = argc;
	s.argv = argv;
	log_init(&s.log, LOG_LVL_INFO, STDERR_FILENO);
	g = load_generation(&s, &err);
	if (!g) {
		fprintf(stderr, "groved serve: %s\n", err.text);
		exit_code = 2;
		goto out;
	}
	atomic_init(&s.current, g);
	if (g->cfg.help) {
		cfg_serve_help(stdout);
		exit_code = 0;
		goto out;
	}
	s.cfg = &g->cfg; /* generations are kept until exit */
	log_set_level(&s.log, g->cfg.log_level);
	dump = cfg_serve_dump(&g->cfg);
	LOG_INFO(&s.log, "starting", LOG_STR("version", GROVED_VERSION),
		 LOG_RAW("config", dump));
	free(dump);
	if (new_metrics(&s) != GV_OK) {
		LOG_ERROR(&s.log, "out of memory");
		goto out;
	}
	s.cluster = g->cfg.kubeconfig || getenv("KUBERNETES_SERVICE_HOST");
	s.secret_mode = g->cfg.cert_secret != NULL;
	s.cache = srv_cache_unsynced();
	srv_leader_init(&s.leader, &g->cfg, &s.log, leader_changed, &s);
	/* signals go to sigtimedwait in this thread, never to a part's
	 * threads: blocked before any starts, they inherit the mask */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (start_parts(&s) != GV_OK) {
		exit_code = 2;
		goto out;
	}
	wait_for_stop(&s, &set);
	s.grace = seconds_up(atomic_load(&s.current)->cfg.shutdown_timeout_ms);
	stop_parts(&s, true);
	LOG_INFO(&s.log, "stopped");
	exit_code = 0;
out:
	met_free(s.met);
	free_generations(atomic_load(&s.current));
	log_release(&s.log);
	return exit_code;
}
