/* SPDX-License-Identifier: Apache-2.0 */
/*
 * srv_initc.c: `groved initc --podcliques=NAME:N ...`, the init
 * container grove-initc of a pod whose clique starts after others
 * (docs/initc.md, docs/api.md section 6).
 *
 * It lists, then watches, the pods of the parent PodCliques in its
 * namespace (one label selector over all of them) into a map of name ->
 * pod, and after every change asks srv_initc_count (srv_initc_wait.c)
 * whether each parent has its N Ready pods: then it exits 0. A small
 * thread logs what is still awaited every --log-every. A failed list or
 * watch is retried with back-off (kube_backoff_ms) for as long as it
 * takes, a dropped watch resumes from the last resourceVersion, a 410
 * Gone relists; only refused credentials (401, 403) end it, with exit 1:
 * waiting cannot help then.
 *
 * Credentials: with --kubeconfig, that file; else in a pod the
 * in-cluster configuration (KUBERNETES_SERVICE_HOST/PORT, the token,
 * ca.crt and namespace files under KUBE_SA_DIR, prefixed with
 * $GROVED_SERVICEACCOUNT_ROOT when set); else $KUBECONFIG or
 * ~/.kube/config. The token file is read again before every request.
 */
#include <errno.h>
#include <inttypes.h>
#include <time.h>
#include <unistd.h>

#include "groved/gv_time.h"
#include "groved/kube.h"
#include "groved/policy.h"
#include "srv_initc.h"

#define CMD "groved initc"

/* Back-off between failed lists or watches: 200 ms doubling to 10 s,
 * jittered (kube_backoff_ms). */
#define INITC_BACKOFF_BASE_MS 200
#define INITC_BACKOFF_CAP_MS 10000
/* A list page. */
#define INITC_PAGE 500
/* The label selector: the parents' names when they fit. */
#define INITC_SELECTOR_MAX 2048
/* A log line of what is awaited. */
#define INITC_LINE_MAX 2048

static const kube_gvr pods_gvr = { "", "v1", "pods", true };

typedef struct initc_run {
	srv_initc_args a; /* owned */
	kube_config cfg; /* owned */
	kube_client client; /* owned when client_ok */
	bool client_ok;
	const char *ns; /* borrowed: --namespace or cfg's */
	char selector[INITC_SELECTOR_MAX];
	char rv[64]; /* the last resourceVersion seen */
	char *token; /* the token callback's answer (KUBE_TOKEN_MAX + 1) */
	char *scratch; /* where it reads the token file (same size) */
	bool done; /* main thread */
	bool oom; /* main thread: a watch event could not be kept */

	/* shared with the log thread, under lock */
	pthread_mutex_t lock;
	json_t *pods; /* name -> pod, the parents' pods */
	bool listed; /* the first list is in */
	char last_error[GV_ERROR_TEXT_MAX];

	gv_stopper stop; /* ends the log thread */
	pthread_t logger;
	bool logger_running;
} initc_run;

static void usage(FILE *to)
{
	fputs("usage: groved initc --podcliques=NAME:N [--podcliques=...] "
	      "[options]\n"
	      "\n"
	      "Waits until each named PodClique of its namespace has at least "
	      "N Ready pods,\n"
	      "then exits 0: the init container grove-initc of a pod whose "
	      "clique starts\n"
	      "after others. Logs what it still waits for every few "
	      "seconds, and retries\n"
	      "through API errors and dropped watches for as long as it "
	      "takes.\n"
	      "\n"
	      "      --podcliques NAME:N[,NAME:N...]\n"
	      "                        a parent PodClique and how many of its "
	      "pods must be\n"
	      "                        Ready; repeatable, at least one\n"
	      "      --kubeconfig PATH the cluster and credentials (default: "
	      "in a pod, its\n"
	      "                        service account files; else "
	      "$KUBECONFIG or\n"
	      "                        ~/.kube/config)\n"
	      "  -n, --namespace NS    the parents' namespace (default: the "
	      "service account's,\n"
	      "                        or the kubeconfig context's)\n"
	      "      --log-every DURATION\n"
	      "                        how often to log what is awaited "
	      "(default 5s)\n"
	      "\n"
	      "Environment: GROVED_SERVICEACCOUNT_ROOT, when set, is a "
	      "directory put in front\n"
	      "of /var/run/secrets/kubernetes.io/serviceaccount (tests, "
	      "simulated kubelets).\n"
	      "\n"
	      "Exit status: 0 every parent has its Ready pods, 1 the API "
	      "server refused the\n"
	      "credentials (or there are none), 2 bad usage.\n",
	      to);
}

/* ---- the client -------------------------------------------------------- */

/* kube_client_opts.token: the token as the files say now (a rotated
 * token file is picked up); the last good one when a read fails. Only
 * the main thread makes requests, so the one buffer is never read while
 * it is written. */
static const char *run_token(void *ctx)
{
	initc_run *r = ctx;
	gv_error_t err = GV_ERROR_INIT;

	if (kube_config_token(&r->cfg, r->scratch, KUBE_TOKEN_MAX + 1, &err) ==
	    GV_OK)
		memcpy(r->token, r->scratch, strlen(r->scratch) + 1);
	memset(r->scratch, 0, KUBE_TOKEN_MAX + 1);
	return r->token;
}

/* The configuration: --kubeconfig, else in a pod its service account
 * (under $GROVED_SERVICEACCOUNT_ROOT), else $KUBECONFIG or
 * ~/.kube/config. */
static int load_config(initc_run *r, gv_error_t *err)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	int rc = GV_OK;

	if (r->a.kubeconfig)
		return kube_config_load(&r->cfg, r->a.kubeconfig, NULL, err);
	if (host && host[0])
		return kube_config_in_cluster(&r->cfg,
					      getenv(SRV_INITC_ROOT_ENV), err);
	rc = kube_config_load(&r->cfg, NULL, NULL, err);
	if (rc == GV_ENOTFOUND)
		gv_error_set(err, rc, NULL, 0, 0,
			     "no cluster to ask: not in a pod "
			     "(KUBERNETES_SERVICE_HOST is not set) and no "
			     "kubeconfig (use --kubeconfig)");
	return rc;
}

static int connect_client(initc_run *r, gv_error_t *err)
{
	kube_client_opts o;
	gv_error_t terr = GV_ERROR_INIT;
	int rc = GV_OK;

	r->token = calloc(1, KUBE_TOKEN_MAX + 1);
	r->scratch = calloc(1, KUBE_TOKEN_MAX + 1);
	if (!r->token || !r->scratch)
		return gv_error_set(err, GV_ENOMEM, NULL, 0, 0,
				    "out of memory");
	/* the token must be there at the start: a file that cannot be
	 * read is no credential at all */
	if (r->cfg.token || r->cfg.token_file) {
		rc = kube_config_token(&r->cfg, r->token, KUBE_TOKEN_MAX + 1,
				       &terr);
		if (rc != GV_OK) {
			if (err)
				*err = terr;
			return rc;
		}
	}
	memset(&o, 0, sizeof(o));
	o.server = r->cfg.server;
	o.ca_pem = r->cfg.ca_pem;
	o.insecure = r->cfg.insecure;
	o.tls_server_name = r->cfg.tls_server_name;
	o.client_cert_pem = r->cfg.client_cert_pem;
	o.client_key_pem = r->cfg.client_key_pem;
	o.token = run_token;
	o.token_ctx = r;
	o.connect_timeout_ms = 5000;
	o.timeout_ms = 30000;
	o.max_attempts = 1; /* the retries, and their log lines, are ours */
	rc = kube_client_init(&r->client, &o, err);
	r->client_ok = rc == GV_OK;
	return rc;
}

/* ---- what is awaited --------------------------------------------------- */

/* Whether every parent has its Ready pods; line (may be NULL) gets what
 * the counts say. Takes the lock. */
static bool evaluate(initc_run *r, char *line, size_t size)
{
	bool done = false;

	pthread_mutex_lock(&r->lock);
	done = srv_initc_count(r->a.parents, r->a.n_parents, r->pods);
	if (line)
		srv_initc_describe(r->a.parents, r->a.n_parents, line, size);
	pthread_mutex_unlock(&r->lock);
	return done;
}

/* The log thread: what is awaited, every --log-every. */
static void *log_main(void *arg)
{
	initc_run *r = arg;
	char line[INITC_LINE_MAX];

	while (!gv_stopper_wait(&r->stop, r->a.log_every_ms)) {
		pthread_mutex_lock(&r->lock);
		if (!r->listed) {
			snprintf(line, sizeof(line),
				 "waiting for the first list of pods in "
				 "namespace \"%s\"%s%s",
				 r->ns, r->last_error[0] ? ": " : "",
				 r->last_error);
		} else {
			srv_initc_describe(r->a.parents, r->a.n_parents, line,
					   sizeof(line));
		}
		pthread_mutex_unlock(&r->lock);
		fprintf(stderr, CMD ": %s\n", line);
	}
	return NULL;
}

/* ---- list and watch ---------------------------------------------------- */

/* Every page of the parents' pods into a fresh map, swapped in whole. */
static int list_pods(initc_run *r, kube_result *res, gv_error_t *err)
{
	json_t *fresh = json_object();
	char *cont = NULL;
	int rc = fresh ? GV_OK : GV_ENOMEM;

	memset(res, 0, sizeof(*res));
	while (rc == GV_OK) {
		kube_query q = { .label_selector = r->selector,
				 .limit = INITC_PAGE,
				 .continue_token = cont };
		kube_list_page page = KUBE_LIST_PAGE_INIT;
		const json_t *pod = NULL;
		size_t i = 0;

		rc = kube_list(&r->client, &pods_gvr, r->ns, &q, &page, res,
			       err);
		json_array_foreach(page.items, i, pod)
		{
			const char *name = json_string_value(json_object_get(
			    json_object_get(pod, "metadata"), "name"));

			if (rc == GV_OK && name &&
			    json_object_set(fresh, name, (json_t *)pod) != 0)
				rc = GV_ENOMEM;
		}
		free(cont);
		cont = NULL;
		if (rc == GV_OK && page.continue_token) {
			cont = strdup(page.continue_token);
			if (!cont)
				rc = GV_ENOMEM;
		} else if (rc == GV_OK) {
			snprintf(r->rv, sizeof(r->rv), "%s",
				 page.resource_version ? page.resource_version
						       : "");
		}
		kube_list_page_release(&page);
		if (rc != GV_OK || !cont)
			break;
	}
	free(cont);
	if (rc == GV_ENOMEM)
		gv_error_set(err, rc, NULL, 0, 0, "out of memory");
	if (rc == GV_OK) {
		pthread_mutex_lock(&r->lock);
		json_decref(r->pods);
		r->pods = fresh;
		fresh = NULL;
		r->listed = true;
		r->last_error[0] = '\0';
		pthread_mutex_unlock(&r->lock);
	}
	json_decref(fresh);
	return rc;
}

/* One watch event into the map and the counts; ends the watch once
 * every parent is done. */
static bool on_event(void *ctx, kube_event_type type, const json_t *obj)
{
	initc_run *r = ctx;
	const json_t *md = json_object_get(obj, "metadata");
	const char *rv =
	    json_string_value(json_object_get(md, "resourceVersion"));
	const char *name = json_string_value(json_object_get(md, "name"));
	json_t *old = NULL;
	int set = 0;

	if (rv)
		snprintf(r->rv, sizeof(r->rv), "%s", rv);
	if (type == KUBE_EVENT_BOOKMARK || !name)
		return true;
	pthread_mutex_lock(&r->lock);
	old = json_incref(json_object_get(r->pods, name));
	if (type == KUBE_EVENT_DELETED)
		json_object_del(r->pods, name);
	else
		set = json_object_set(r->pods, name, (json_t *)obj);
	if (set == 0)
		r->done =
		    srv_initc_update(r->a.parents, r->a.n_parents, old,
				     type == KUBE_EVENT_DELETED ? NULL : obj);
	r->last_error[0] = '\0';
	pthread_mutex_unlock(&r->lock);
	json_decref(old);
	if (set != 0) {
		r->oom = true;
		return false;
	}
	return !r->done;
}

static int watch_pods(initc_run *r, kube_result *res, gv_error_t *err)
{
	kube_watch_opts wo;
	int rc = GV_OK;

	memset(&wo, 0, sizeof(wo));
	wo.resource_version = r->rv[0] ? r->rv : NULL;
	wo.label_selector = r->selector;
	rc = kube_watch(&r->client, &pods_gvr, r->ns, &wo, on_event, r, res,
			err);
	if (rc == GV_OK && r->oom)
		rc = gv_error_set(err, GV_ENOMEM, NULL, 0, 0, "out of memory");
	return rc;
}

/* Refused credentials: the API server's words, then the likely cause. */
static void say_refused(initc_run *r, const kube_result *res)
{
	const char *pcs = getenv("GROVE_PCS_NAME");
	const char *from = r->a.kubeconfig     ? r->a.kubeconfig
			   : r->cfg.token_file ? r->cfg.token_file
					       : "the kubeconfig";

	fprintf(stderr, CMD ": %s: %s\n", kube_strerror(res->kind),
		res->message[0] ? res->message : "(no message)");
	if (res->kind == KUBE_ERR_FORBIDDEN)
		fprintf(stderr,
			CMD ": the credentials of '%s' may not list and "
			    "watch pods in namespace \"%s\": grove-initc "
			    "needs the token of its PodCliqueSet's "
			    "ServiceAccount (Secret '%s%s' mounted at %s), "
			    "not the pod's own\n",
			from, r->ns, pcs && pcs[0] ? pcs : "<pcs>",
			POL_INITC_SECRET_SUFFIX, KUBE_SA_DIR);
	else
		fprintf(stderr,
			CMD ": the API server does not accept the token of "
			    "'%s': grove-initc needs the token of its "
			    "PodCliqueSet's ServiceAccount (Secret '%s%s' "
			    "mounted at %s)\n",
			from, pcs && pcs[0] ? pcs : "<pcs>",
			POL_INITC_SECRET_SUFFIX, KUBE_SA_DIR);
}

static void sleep_ms(uint64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000),
			       (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* List, then watch, until done (0) or refused (1). */
static int wait_for_parents(initc_run *r)
{
	char line[INITC_LINE_MAX];
	uint64_t rnd = gv_now_ns() ^ ((uint64_t)getpid() << 32);
	unsigned attempt = 0;
	bool need_list = true;

	for (;;) {
		kube_result res;
		gv_error_t err = GV_ERROR_INIT;
		uint64_t delay = 0;
		int rc = GV_OK;

		memset(&res, 0, sizeof(res));
		if (need_list) {
			rc = list_pods(r, &res, &err);
			if (rc == GV_OK) {
				need_list = false;
				attempt = 0;
				r->done = evaluate(r, line, sizeof(line));
				fprintf(stderr, CMD ": %s\n", line);
				if (r->done)
					return 0;
				continue;
			}
		} else {
			rc = watch_pods(r, &res, &err);
			if (r->done) {
				evaluate(r, line, sizeof(line));
				fprintf(stderr, CMD ": %s\n", line);
				return 0;
			}
			if (rc == GV_OK) {
				attempt = 0; /* the server ended it: resume */
				continue;
			}
			if (res.kind == KUBE_ERR_GONE) {
				need_list = true; /* our point is forgotten */
				continue;
			}
		}
		if (rc == GV_ENOMEM) {
			fputs(CMD ": out of memory\n", stderr);
			return 1;
		}
		if (res.kind == KUBE_ERR_UNAUTHORIZED ||
		    res.kind == KUBE_ERR_FORBIDDEN) {
			say_refused(r, &res);
			return 1;
		}
		/* anything else may pass: the API server restarting, a
		 * dropped connection, throttling */
		rnd = rnd * 6364136223846793005ULL + 1442695040888963407ULL;
		delay =
		    kube_backoff_ms(++attempt, INITC_BACKOFF_BASE_MS,
				    INITC_BACKOFF_CAP_MS, res.retry_after, rnd);
		pthread_mutex_lock(&r->lock);
		snprintf(r->last_error, sizeof(r->last_error), "%s", err.text);
		pthread_mutex_unlock(&r->lock);
		fprintf(stderr, CMD ": %s (retrying in %" PRIu64 " ms)\n",
			err.text, delay);
		sleep_ms(delay);
	}
}

int srv_cmd_initc(int argc, char **argv)
{
	initc_run *r = calloc(1, sizeof(*r));
	gv_error_t err = GV_ERROR_INIT;
	int exit_code = 2;
	int rc = GV_OK;

	if (!r) {
		fputs(CMD ": out of memory\n", stderr);
		return 1;
	}
	pthread_mutex_init(&r->lock, NULL);
	gv_stopper_init(&r->stop);
	kube_config_init(&r->cfg);
	rc = srv_initc_parse(argc, argv, &r->a, &err);
	if (rc != GV_OK) {
		fprintf(stderr, CMD ": %s (see 'groved initc --help')\n",
			err.text);
		exit_code = rc == GV_ENOMEM ? 1 : 2;
		goto out;
	}
	if (r->a.help) {
		usage(stdout);
		exit_code = 0;
		goto out;
	}
	exit_code = 1;
	rc = load_config(r, &err);
	if (rc == GV_OK)
		rc = connect_client(r, &err);
	if (rc != GV_OK) {
		fprintf(stderr, CMD ": %s\n", err.text); /* it names the file */
		goto out;
	}
	r->ns = r->a.namespace ? r->a.namespace : r->cfg.namespace;
	r->pods = json_object();
	if (!r->pods) {
		fputs(CMD ": out of memory\n", stderr);
		goto out;
	}
	srv_initc_selector(r->a.parents, r->a.n_parents, r->selector,
			   sizeof(r->selector));
	fprintf(stderr,
		CMD ": waiting for %zu PodClique%s in namespace \"%s\" "
		    "(%s)\n",
		r->a.n_parents, r->a.n_parents == 1 ? "" : "s", r->ns,
		r->cfg.server);
	if (pthread_create(&r->logger, NULL, log_main, r) == 0)
		r->logger_running = true;
	exit_code = wait_for_parents(r);
out:
	gv_stopper_stop(&r->stop);
	if (r->logger_running)
		pthread_join(r->logger, NULL);
	if (r->client_ok)
		kube_client_release(&r->client);
	json_decref(r->pods);
	if (r->token)
		memset(r->token, 0, KUBE_TOKEN_MAX + 1);
	free(r->token);
	free(r->scratch);
	kube_config_release(&r->cfg);
	srv_initc_args_release(&r->a);
	gv_stopper_release(&r->stop);
	pthread_mutex_destroy(&r->lock);
	free(r);
	return exit_code;
}
