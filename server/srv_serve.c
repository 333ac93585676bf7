/*
 * srv_serve.c: `groved serve`, the process: configuration, TLS material,
 * the three servers (webhooks over HTTPS, health, metrics), signals.
 *
 * Threads: libmicrohttpd's pool for each server, a watchdog per server,
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
#include "groved/server.h"
#include "srv_admission.h"
#include "srv_certsync.h"
#include "srv_config.h"
#include "srv_http.h"
#include "srv_kcache.h"
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

typedef struct serve {
	int argc;
	char **argv;
	log_ctx log;
	met_registry *met;
	cert_store certs;
	bool certs_init; /* certs needs cert_store_release */
	atomic_bool certs_loaded; /* a pair is served */
	bool secret_mode; /* --cert-secret: certsync loads certs */
	srv_leader leader;
	bool leader_running;
	srv_certsync certsync;
	atomic_bool certsync_running;
	srv_cache cache;
	srv_kcache kcache; /* the cluster's informers, when connected */
	bool kcache_running;
	_Atomic(generation *) current;
	srv_http *webhooks;
	srv_http *health;
	srv_http *metrics;
} serve;

static double now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
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
		rs->status = 500;
		rs->content_type = "text/plain";
		rs->body = strdup("out of memory\n");
		rs->len = rs->body ? strlen(rs->body) : 0;
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
	if (s->kcache_running && !s->cache.ops->synced(s->cache.ctx)) {
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

/* ---- start and stop --------------------------------------------------- */

static unsigned seconds_up(uint64_t ms)
{
	uint64_t s = (ms + 999) / 1000;

	return s ? (unsigned)s : 1;
}

/* Starts one server on addr ("host:port"). */
static int start_server(serve *s, const char *what, const char *addr,
			const srv_http_opts *base, srv_http **out,
			gv_error_t *err)
{
	srv_http_opts o = *base;
	char host[256];
	unsigned port = 0;
	int rc = cfg_parse_hostport(addr, host, sizeof(host), &port);

	if (rc != GV_OK)
		return gv_error_set(err, rc, NULL, 0, 0,
				    "bad %s address \"%s\"", what, addr);
	o.host = host;
	o.port = port;
	rc = srv_http_start(&o, out, err);
	if (rc == GV_OK)
		LOG_INFO(&s->log, "listening", LOG_STR("server", what),
			 LOG_STR("host", host[0] ? host : "*"),
			 LOG_INT("port", srv_http_port(*out)),
			 LOG_BOOL("tls", o.tls_cert_callback != NULL));
	return rc;
}

/* A pair from the files became current: its expiry for /metrics. */
static void certificate_loaded(serve *s)
{
	cert_store_info info;

	if (cert_store_info_get(&s->certs, &info) == GV_OK)
		met_cert_loaded(s->met, info.not_after);
}

static int load_certificates(serve *s, const cfg_serve *c, gv_error_t *err)
{
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
	s->certs_init = true;
	rc = cert_store_load(&s->certs, err);
	if (rc != GV_OK)
		return rc;
	cert_store_bind(&s->certs);
	atomic_store(&s->certs_loaded, true);
	certificate_loaded(s);
	return GV_OK;
}

/* Leadership changed: certificates are the leader's to renew. */
static void leader_changed(void *ctx)
{
	serve *s = ctx;

	met_set_leader(s->met, srv_leader_leading(&s->leader));
	if (atomic_load(&s->certsync_running))
		srv_certsync_kick(&s->certsync);
}

/* --leader-elect and --cert-secret: both need the cluster. The webhook
 * server starts before a certificate is loaded (handshakes fail and
 * /readyz says why until one is); the certificate thread loads it. */
static int start_cluster_writers(serve *s, const cfg_serve *c, gv_error_t *err)
{
	const char *ns = NULL;
	char crt[512];
	char key[512];
	int rc = GV_OK;

	if (!c->leader_elect && !c->cert_secret)
		return GV_OK;
	if (!s->kcache_running)
		return gv_error_set(err, GV_EINVAL, NULL, 0, 0,
				    "%s needs the cluster: give --kubeconfig "
				    "or run in a pod",
				    c->cert_secret ? "--cert-secret"
						   : "--leader-elect");
	ns = srv_own_namespace(c, s->kcache.kc.cfg.namespace);
	rc = srv_leader_start(&s->leader, &s->kcache.kc.client, c, ns, &s->log,
			      leader_changed, s, err);
	if (rc != GV_OK)
		return rc;
	s->leader_running = true;
	/* a replica that never leads still says so */
	met_set_leader(s->met, srv_leader_leading(&s->leader));
	if (!c->cert_secret)
		return GV_OK;
	/* the names only label messages: the pair comes from the Secret */
	snprintf(crt, sizeof(crt), "secret %s/%s: tls.crt", ns, c->cert_secret);
	snprintf(key, sizeof(key), "secret %s/%s: tls.key", ns, c->cert_secret);
	rc = cert_store_init(&s->certs, crt, key);
	if (rc != GV_OK)
		return gv_error_set(err, rc, NULL, 0, 0,
				    "cannot set up the certificate store");
	s->certs_init = true;
	s->secret_mode = true;
	cert_store_bind(&s->certs);
	rc = srv_certsync_start(&s->certsync, &s->kcache.kc.client, c, ns,
				&s->certs, &s->leader, &s->log, s->met,
				&s->certs_loaded, err);
	if (rc != GV_OK)
		return rc;
	atomic_store(&s->certsync_running, true);
	LOG_INFO(&s->log, "self-managed certificates", LOG_STR("namespace", ns),
		 LOG_STR("secret", c->cert_secret),
		 LOG_BOOL("leader_elect", c->leader_elect));
	return GV_OK;
}

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

int srv_cmd_serve(int argc, char **argv)
{
	static const char *hooks[SRV_HOOK_COUNT];
	serve s;
	generation *g = NULL;
	gv_error_t err = GV_ERROR_INIT;
	met_options mo;
	srv_http_opts ho;
	sigset_t set;
	char *dump = NULL;
	size_t i = 0;
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
	log_set_level(&s.log, g->cfg.log_level);
	dump = cfg_serve_dump(&g->cfg);
	LOG_INFO(&s.log, "starting", LOG_STR("version", GROVED_VERSION),
		 LOG_RAW("config", dump));
	free(dump);
	if (!g->cfg.no_reconcile)
		LOG_INFO(&s.log, "the reconcile worker is not in this build; "
				 "serving the webhooks alone");
	/* with a cluster (--kubeconfig, or in a pod), informers fill the
	 * caches; without one nothing is ever synced, and checks that need
	 * the cluster warn instead of deny */
	s.cache = srv_cache_unsynced();
	if (g->cfg.kubeconfig || getenv("KUBERNETES_SERVICE_HOST")) {
		if (srv_kcache_start(&s.kcache, g->cfg.kubeconfig, &err) !=
		    GV_OK) {
			LOG_ERROR(&s.log, "cannot connect to the API server",
				  LOG_STR("error", err.text));
			exit_code = 2;
			goto out;
		}
		s.kcache_running = true;
		s.cache = srv_kcache_cache(&s.kcache);
		LOG_INFO(&s.log, "watching the cluster",
			 LOG_STR("server", s.kcache.kc.cfg.server),
			 LOG_BOOL("claim_templates", s.kcache.claims_served));
	}
	for (i = 0; i < SRV_HOOK_COUNT; i++)
		hooks[i] = srv_hook_name((srv_hook)i);
	memset(&mo, 0, sizeof(mo));
	mo.webhooks = hooks;
	mo.n_webhooks = SRV_HOOK_COUNT;
	mo.version = GROVED_VERSION;
	mo.process = true;
	if (met_new(&mo, &s.met) != GV_OK) {
		LOG_ERROR(&s.log, "out of memory");
		goto out;
	}
	if (!g->cfg.cert_secret &&
	    load_certificates(&s, &g->cfg, &err) != GV_OK) {
		LOG_ERROR(&s.log, "cannot load the serving certificate",
			  LOG_STR("error", err.text));
		exit_code = 2;
		goto out;
	}
	if (start_cluster_writers(&s, &g->cfg, &err) != GV_OK) {
		LOG_ERROR(&s.log, "cannot start", LOG_STR("error", err.text));
		exit_code = 2;
		goto out;
	}
	/* signals go to sigtimedwait in this thread, never to workers */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	memset(&ho, 0, sizeof(ho));
	ho.kind = SRV_HTTP_JSON_POST;
	ho.threads = (unsigned)g->cfg.threads;
	ho.max_connections = (unsigned)g->cfg.max_connections;
	ho.idle_timeout = seconds_up(g->cfg.connection_idle_timeout_ms);
	ho.request_timeout = seconds_up(g->cfg.request_timeout_ms);
	ho.max_body = SRV_MAX_BODY;
	ho.tls_cert_callback = (void *)cert_store_retrieve;
	ho.route = webhook_route;
	ho.handler = webhook_handler;
	ho.on_tls_error = tls_failure;
	ho.ctx = &s;
	if (start_server(&s, "webhooks", g->cfg.webhook_addr, &ho, &s.webhooks,
			 &err) != GV_OK)
		goto fail;
	ho.kind = SRV_HTTP_GET;
	ho.threads = 1;
	ho.max_connections = 64;
	ho.max_body = 0;
	ho.tls_cert_callback = NULL;
	ho.route = health_route;
	ho.handler = health_handler;
	ho.on_tls_error = NULL;
	if (start_server(&s, "health", g->cfg.health_addr, &ho, &s.health,
			 &err) != GV_OK)
		goto fail;
	ho.route = metrics_route;
	if (start_server(&s, "metrics", g->cfg.metrics_addr, &ho, &s.metrics,
			 &err) != GV_OK)
		goto fail;
	wait_for_stop(&s, &set);
	/* stop taking requests, finish the ones in flight (bounded) */
	srv_http_stop(
	    s.webhooks,
	    seconds_up(atomic_load(&s.current)->cfg.shutdown_timeout_ms));
	s.webhooks = NULL;
	LOG_INFO(&s.log, "stopped");
	exit_code = 0;
	goto out;
fail:
	LOG_ERROR(&s.log, "cannot start", LOG_STR("error", err.text));
	exit_code = 2;
out:
	srv_http_stop(s.webhooks, 0);
	srv_http_stop(s.health, 0);
	srv_http_stop(s.metrics, 0);
	/* the elector first: its callbacks kick the certificate thread */
	if (s.leader_running)
		srv_leader_stop(&s.leader); /* releases the Lease */
	if (atomic_exchange(&s.certsync_running, false))
		srv_certsync_stop(&s.certsync);
	if (s.certs_init) {
		cert_store_bind(NULL);
		cert_store_release(&s.certs);
	}
	if (s.kcache_running)
		srv_kcache_stop(&s.kcache);
	met_free(s.met);
	free_generations(atomic_load(&s.current));
	log_release(&s.log);
	return exit_code;
}
