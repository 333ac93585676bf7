/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_kube_live.c: the kube client against kube-sim, a live HTTP API
 * server on loopback (tests/kube-sim has kube-sim's own tests): CRUD on
 * pods and on a PodCliqueSet (its CRD loaded from deploy/crds), Conflict
 * on a stale resourceVersion, AlreadyExists, paging with limit/continue,
 * the scale subresource, retries through injected 500s, watch resume and
 * 410, leader election among processes (each elector's own belief),
 * informer churn, and the cluster lookups of `groved validate`.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_util.h"

#include <curl/curl.h>

#include "groved/gv_time.h"
#include "groved/kube.h"
#include "srv_kcache.h"

typedef struct fixture {
	pid_t pid;
	char dir[64];
	char kubeconfig[128];
	kube_conn kc;
	pid_t kids[3]; /* electors still running (killed at teardown) */
} fixture;

static const kube_gvr pods = { "", "v1", "pods", true };
static const kube_gvr pcs = { "grove.io", "v1alpha1", "podcliquesets", true };

/* Starts kube-sim on an ephemeral port with the CRDs and claim templates
 * loaded (over HTTPS with a CA of its own when tls); waits for its
 * "listening" line. */
static int start_sim(void **state, bool tls, bool authorize)
{
	fixture *f = calloc(1, sizeof(*f));
	int out[2];
	char line[256];
	FILE *in = NULL;
	char sim[512];
	char crds[512];
	char claims[512];

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/gv-kubesim.XXXXXX");
	if (!mkdtemp(f->dir) || pipe(out) != 0)
		return -1;
	snprintf(f->kubeconfig, sizeof(f->kubeconfig), "%s/kubeconfig", f->dir);
	snprintf(sim, sizeof(sim), "%s/tests/kube-sim/kube-sim", GV_SOURCE_DIR);
	snprintf(crds, sizeof(crds),
		 "%s/deploy/crds/grove.io_podcliquesets.yaml", GV_SOURCE_DIR);
	snprintf(claims, sizeof(claims), "%s/examples/claim-templates.yaml",
		 GV_SOURCE_DIR);
	f->pid = fork();
	if (f->pid == 0) {
		dup2(out[1], STDOUT_FILENO);
		close(out[0]);
		char tls_dir[96];

		snprintf(tls_dir, sizeof(tls_dir), "%s/tls", f->dir);
		/* RBAC for the token "sa" (a service account) */
		if (authorize)
			execlp("python3", "python3", sim, "--addr",
			       "127.0.0.1:0", "--kubeconfig-out", f->kubeconfig,
			       "--load", crds, "--load", claims, "--authorize",
			       "--token", "sa=system:serviceaccount:ns1:app",
			       (char *)NULL);
		if (tls)
			execlp("python3", "python3", sim, "--addr",
			       "127.0.0.1:0", "--tls-dir", tls_dir,
			       "--kubeconfig-out", f->kubeconfig, "--load",
			       crds, "--load", claims, (char *)NULL);
		execlp("python3", "python3", sim, "--addr", "127.0.0.1:0",
		       "--kubeconfig-out", f->kubeconfig, "--load", crds,
		       "--load", claims, (char *)NULL);
		_exit(127);
	}
	close(out[1]);
	in = fdopen(out[0], "r");
	if (!in || !fgets(line, sizeof(line), in) ||
	    !strstr(line, "listening")) {
		print_error("kube-sim did not start\n");
		return -1;
	}
	fclose(in);
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return start_sim(state, false, false);
}

static int setup_tls(void **state)
{
	return start_sim(state, true, false);
}

static int setup_authorize(void **state)
{
	return start_sim(state, false, true);
}

static int teardown(void **state)
{
	fixture *f = *state;
	char cmd[128];
	size_t i = 0;

	for (i = 0; i < sizeof(f->kids) / sizeof(f->kids[0]); i++) {
		if (f->kids[i] <= 0)
			continue;
		kill(f->kids[i], SIGCONT);
		kill(f->kids[i], SIGKILL);
		waitpid(f->kids[i], NULL, 0);
	}
	kube_conn_release(&f->kc);
	kill(f->pid, SIGTERM);
	waitpid(f->pid, NULL, 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		print_error("cannot remove %s\n", f->dir);
	free(f);
	return 0;
}

static void connect_sim(fixture *f)
{
	gv_error_t err = GV_ERROR_INIT;
	int rc = kube_connect(&f->kc, f->kubeconfig, NULL, &err);

	kube_client_opts o;

	if (rc != GV_OK)
		print_error("connect: %s\n", err.text);
	assert_int_equal(rc, GV_OK);
	/* the same client without the client-side rate limit (50/s), which
	 * would make the churn test a minute long */
	kube_client_release(&f->kc.client);
	memset(&o, 0, sizeof(o));
	o.server = f->kc.cfg.server;
	o.token = kube_token_static;
	o.token_ctx = f->kc.token;
	o.max_attempts = 2;
	o.qps = -1;
	assert_int_equal(kube_client_init(&f->kc.client, &o, &err), GV_OK);
}

/* The admin endpoint's answer is of no interest. */
static size_t discard(char *data, size_t size, size_t n, void *ctx)
{
	(void)data;
	(void)ctx;
	return size * n;
}

/* Posts to kube-sim's admin endpoint (fault injection). */
static void sim_admin(const fixture *f, const char *what)
{
	char url[256];
	CURL *h = curl_easy_init();

	snprintf(url, sizeof(url), "%s/__sim/%s", f->kc.cfg.server, what);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
	assert_int_equal(curl_easy_perform(h), CURLE_OK);
	curl_easy_cleanup(h);
}

/* The server of the kubeconfig kube-sim wrote (a static buffer). */
static const char *read_server(const fixture *f)
{
	static char server[256];
	FILE *in = fopen(f->kubeconfig, "r");
	char line[512];

	server[0] = '\0';
	while (in && fgets(line, sizeof(line), in)) {
		char *at = strstr(line, "server:");

		if (at) {
			at += 7;
			while (*at == ' ' || *at == '"')
				at++;
			snprintf(server, sizeof(server), "%.*s",
				 (int)strcspn(at, "\"\n"), at);
			break;
		}
	}
	if (in)
		fclose(in);
	return server;
}

static json_t *pod(const char *name)
{
	return json_pack("{s:s, s:s, s:{s:s, s:{s:s}}, s:{s:[{s:s, s:s}]}}",
			 "apiVersion", "v1", "kind", "Pod", "metadata", "name",
			 name, "labels", "app", "demo", "spec", "containers",
			 "name", "c", "image", "i");
}

static void test_pod_crud_and_conflict(void **state)
{
	fixture *f = *state;
	kube_result res;
	gv_error_t err = GV_ERROR_INIT;
	json_t *p = pod("p1");
	json_t *created = NULL;
	json_t *got = NULL;
	json_t *stale = NULL;
	json_t *updated = NULL;

	connect_sim(f);
	assert_int_equal(kube_create(&f->kc.client, &pods, "default", p,
				     &created, &res, &err),
			 GV_OK);
	assert_non_null(json_object_get(json_object_get(created, "metadata"),
					"resourceVersion"));
	/* a second create is AlreadyExists */
	assert_int_equal(
	    kube_create(&f->kc.client, &pods, "default", p, &got, &res, &err),
	    GV_EEXIST);
	assert_int_equal(res.kind, KUBE_ERR_ALREADY_EXISTS);
	assert_int_equal(kube_get(&f->kc.client, &pods, "default", "p1", NULL,
				  &got, &res, &err),
			 GV_OK);
	/* an update from the fresh copy passes, from the stale one not */
	stale = json_deep_copy(got);
	json_object_set_new(
	    json_object_get(json_object_get(got, "metadata"), "labels"), "tier",
	    json_string("a"));
	assert_int_equal(kube_update(&f->kc.client, &pods, "default", NULL, got,
				     &updated, &res, &err),
			 GV_OK);
	json_decref(updated);
	updated = NULL;
	assert_int_equal(kube_update(&f->kc.client, &pods, "default", NULL,
				     stale, &updated, &res, &err),
			 GV_ECONFLICT);
	assert_int_equal(res.kind, KUBE_ERR_CONFLICT);
	assert_int_equal(kube_delete(&f->kc.client, &pods, "default", "p1",
				     NULL, NULL, &res, &err),
			 GV_OK);
	json_decref(got);
	got = NULL;
	assert_int_equal(kube_get(&f->kc.client, &pods, "default", "p1", NULL,
				  &got, &res, &err),
			 GV_ENOTFOUND);
	json_decref(stale);
	json_decref(created);
	json_decref(p);
}

static void test_paging(void **state)
{
	fixture *f = *state;
	kube_result res;
	gv_error_t err = GV_ERROR_INIT;
	char name[16];
	char *cont = NULL;
	size_t seen = 0;
	int pages = 0;
	int i = 0;

	connect_sim(f);
	for (i = 0; i < 25; i++) {
		json_t *p = NULL;

		snprintf(name, sizeof(name), "page-%02d", i);
		p = pod(name);
		assert_int_equal(kube_create(&f->kc.client, &pods, "paging", p,
					     NULL, &res, &err),
				 GV_OK);
		json_decref(p);
	}
	do {
		kube_query q = { "app=demo", NULL, 10, cont, NULL, NULL };
		kube_list_page page;

		memset(&page, 0, sizeof(page));
		assert_int_equal(kube_list(&f->kc.client, &pods, "paging", &q,
					   &page, &res, &err),
				 GV_OK);
		seen += json_array_size(page.items);
		free(cont);
		cont = page.continue_token ? strdup(page.continue_token) : NULL;
		kube_list_page_release(&page);
		pages++;
	} while (cont && pages < 10);
	assert_int_equal(seen, 25);
	assert_int_equal(pages, 3);
}

static void test_custom_resource_and_scale(void **state)
{
	fixture *f = *state;
	char *text = tu_file("examples/vllm-disaggregated.yaml");
	json_t *obj = tu_doc(text);
	json_t *scale = NULL;
	json_t *out = NULL;
	kube_result res;
	gv_error_t err = GV_ERROR_INIT;

	connect_sim(f);
	assert_int_equal(kube_create(&f->kc.client, &pcs, "inference", obj,
				     &out, &res, &err),
			 GV_OK);
	json_decref(out);
	out = NULL;
	assert_int_equal(kube_get(&f->kc.client, &pcs, "inference",
				  "vllm-disaggregated", "scale", &scale, &res,
				  &err),
			 GV_OK);
	json_object_set_new(json_object_get(scale, "spec"), "replicas",
			    json_integer(3));
	assert_int_equal(kube_update(&f->kc.client, &pcs, "inference", "scale",
				     scale, &out, &res, &err),
			 GV_OK);
	json_decref(out);
	out = NULL;
	assert_int_equal(kube_get(&f->kc.client, &pcs, "inference",
				  "vllm-disaggregated", NULL, &out, &res, &err),
			 GV_OK);
	assert_int_equal(json_integer_value(json_object_get(
			     json_object_get(out, "spec"), "replicas")),
			 3);
	json_decref(out);
	json_decref(scale);
	json_decref(obj);
	free(text);
}

static void test_retries_through_failures(void **state)
{
	fixture *f = *state;
	kube_result res;
	gv_error_t err = GV_ERROR_INIT;
	json_t *out = NULL;

	connect_sim(f);
	/* the next request fails with 500: kube_connect allows 2 attempts */
	sim_admin(f, "fail?count=1&code=500");
	assert_int_equal(kube_get(&f->kc.client, &pods, "default", "none", NULL,
				  &out, &res, &err),
			 GV_ENOTFOUND);
	assert_int_equal(res.attempts, 2);
}

typedef struct seen_events {
	char log[512];
	size_t n;
	size_t want;
} seen_events;

static bool record(void *ctx, kube_event_type type, const json_t *obj)
{
	static const char *const names[] = { "ADDED", "MODIFIED", "DELETED",
					     "BOOKMARK" };
	seen_events *e = ctx;
	size_t used = strlen(e->log);

	if (type == KUBE_EVENT_BOOKMARK)
		return true;
	snprintf(e->log + used, sizeof(e->log) - used, "%s%s %s",
		 used ? ", " : "", names[type],
		 json_string_value(json_object_get(
		     json_object_get(obj, "metadata"), "name")));
	return ++e->n < e->want;
}

static void test_watch_resume_and_gone(void **state)
{
	fixture *f = *state;
	kube_result res;
	gv_error_t err = GV_ERROR_INIT;
	kube_query q = { NULL, NULL, 0, NULL, NULL, NULL };
	kube_list_page page;
	kube_watch_opts wo;
	seen_events e;
	char *rv = NULL;
	json_t *p = NULL;
	json_t *got = NULL;

	connect_sim(f);
	memset(&page, 0, sizeof(page));
	assert_int_equal(
	    kube_list(&f->kc.client, &pods, "watch", &q, &page, &res, &err),
	    GV_OK);
	rv = strdup(page.resource_version);
	kube_list_page_release(&page);
	p = pod("w1");
	assert_int_equal(
	    kube_create(&f->kc.client, &pods, "watch", p, NULL, &res, &err),
	    GV_OK);
	json_decref(p);
	p = pod("w2");
	assert_int_equal(
	    kube_create(&f->kc.client, &pods, "watch", p, NULL, &res, &err),
	    GV_OK);
	json_decref(p);
	assert_int_equal(kube_get(&f->kc.client, &pods, "watch", "w1", NULL,
				  &got, &res, &err),
			 GV_OK);
	json_object_set_new(
	    json_object_get(json_object_get(got, "metadata"), "labels"), "x",
	    json_string("y"));
	assert_int_equal(kube_update(&f->kc.client, &pods, "watch", NULL, got,
				     NULL, &res, &err),
			 GV_OK);
	json_decref(got);
	assert_int_equal(kube_delete(&f->kc.client, &pods, "watch", "w2", NULL,
				     NULL, &res, &err),
			 GV_OK);
	/* from the list's resourceVersion: exactly the later events */
	memset(&e, 0, sizeof(e));
	e.want = 4;
	memset(&wo, 0, sizeof(wo));
	wo.resource_version = rv;
	wo.timeout_seconds = 5;
	assert_int_equal(kube_watch(&f->kc.client, &pods, "watch", &wo, record,
				    &e, &res, &err),
			 GV_OK);
	assert_string_equal(e.log, "ADDED w1, ADDED w2, MODIFIED w1, "
				   "DELETED w2");
	/* history dropped: resuming from an old resourceVersion is 410 */
	sim_admin(f, "compact");
	memset(&e, 0, sizeof(e));
	e.want = 4;
	assert_int_equal(kube_watch(&f->kc.client, &pods, "watch", &wo, record,
				    &e, &res, &err),
			 GV_EIO);
	assert_int_equal(res.kind, KUBE_ERR_GONE);
	free(rv);
}

/* ---- leader election: every elector's own view -------------------------
 *
 * Each elector is a child process (a replica) that reports what it
 * believes, not what the Lease says (the Lease can only ever name one):
 * 'S' when leadership starts (on_started), 'E' when it has ended
 * (on_stopped returned, its writers stopped), after every round 'L'
 * (leading) or 'N', and 'X' when it has exited (after releasing the
 * lease). Each line carries the child's CLOCK_MONOTONIC milliseconds,
 * which all processes share. The test adds 'P' when it has SIGSTOPped a
 * child and 'C' just before it SIGCONTs it.
 *
 * Ordered by time, at every event at most one child may believe it leads.
 * A child paused while it leads cannot report; its belief does not count
 * while it cannot act, and once resumed its first report must be 'E': it
 * steps down before (or without) claiming again.
 */

#define LE_LEASE_MS 3000
#define LE_RENEW_MS 2000
#define LE_RETRY_MS 200
/* on_stopped takes this long, as writers that need a moment to stop: a
 * lease given up before they have stopped would let a second leader in */
#define LE_STOPPING_MS 300
#define LE_MAX_EVENTS 8192
#define LE_KIDS 3

typedef struct le_event {
	uint64_t at;
	size_t seq; /* arrival order: ties keep it */
	int who;
	char what;
} le_event;

typedef struct le_run {
	fixture *f;
	int events_rd; /* non-blocking */
	int events_wr;
	int ctl_wr[LE_KIDS]; /* closed: that child stops */
	pid_t pid[LE_KIDS];
	char partial[256];
	size_t partial_len;
	le_event ev[LE_MAX_EVENTS];
	size_t n;
	char why[512]; /* the first violation */
	/* what a wait looks for */
	int who;
	char what;
	size_t count;
	uint64_t after;
} le_run;

static const char *const le_names[LE_KIDS] = { "replica-a", "replica-b",
					       "replica-c" };

/* ---- the child ---- */

typedef struct le_child {
	int fd;
	int who;
} le_child;

static void le_report(const le_child *c, char what)
{
	char line[64];
	int n = snprintf(line, sizeof(line), "%d %c %llu\n", c->who, what,
			 (unsigned long long)gv_now_ms());

	/* one write of less than PIPE_BUF bytes: never interleaved */
	if (write(c->fd, line, (size_t)n) != n)
		_exit(4);
}

static void le_on_started(void *ctx)
{
	le_report(ctx, 'S');
}

static void le_on_stopped(void *ctx)
{
	struct timespec ts = { 0, LE_STOPPING_MS * 1000000L };

	nanosleep(&ts, NULL);
	le_report(ctx, 'E');
}

/* The child's life: rounds until its control pipe closes, then the
 * elector's own shutdown (which releases the lease when leading). */
static void le_child_main(const le_run *r, int who, int ctl_rd)
{
	le_child c = { r->events_wr, who };
	kube_conn kc;
	kube_elector e;
	kube_elector_opts o;
	gv_error_t err = GV_ERROR_INIT;
	gv_stopper stop;
	struct pollfd pfd = { .fd = ctl_rd, .events = POLLIN };

	if (kube_connect(&kc, r->f->kubeconfig, NULL, &err) != GV_OK)
		_exit(3);
	memset(&o, 0, sizeof(o));
	o.namespace = "default";
	o.name = "groved-leader";
	o.identity = le_names[who];
	o.lease_ms = LE_LEASE_MS;
	o.renew_deadline_ms = LE_RENEW_MS;
	o.retry_ms = LE_RETRY_MS;
	o.on_started = le_on_started;
	o.on_stopped = le_on_stopped;
	o.ctx = &c;
	kube_elector_init(&e, &kc.client, &o);
	for (;;) {
		le_report(&c, kube_elector_round(&e, gv_now_ms()) ? 'L' : 'N');
		/* readable: the parent closed its end */
		if (poll(&pfd, 1, LE_RETRY_MS) > 0)
			break;
	}
	/* stop already set: no further round, only the release */
	gv_stopper_init(&stop);
	gv_stopper_stop(&stop);
	kube_elector_run(&e, &stop);
	le_report(&c, 'X');
	_exit(0);
}

static void le_spawn(le_run *r, int who)
{
	int ctl[2];
	pid_t pid = 0;
	int i = 0;

	assert_int_equal(pipe(ctl), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* keep no other child's control pipe open */
		for (i = 0; i < LE_KIDS; i++) {
			if (r->ctl_wr[i] >= 0)
				close(r->ctl_wr[i]);
		}
		close(ctl[1]);
		close(r->events_rd);
		le_child_main(r, who, ctl[0]);
	}
	close(ctl[0]);
	r->ctl_wr[who] = ctl[1];
	r->pid[who] = pid;
	r->f->kids[who] = pid;
}

/* ---- the parent ---- */

static void le_add(le_run *r, int who, char what, uint64_t at)
{
	if (r->n == LE_MAX_EVENTS)
		fail_msg("more than %d elector events", LE_MAX_EVENTS);
	r->ev[r->n] = (le_event){ at, r->n, who, what };
	r->n++;
}

/* Reads what the children reported so far. */
static void le_pump(le_run *r)
{
	char buf[4096];
	ssize_t got = 0;

	while ((got = read(r->events_rd, buf, sizeof(buf))) > 0) {
		ssize_t i = 0;

		for (i = 0; i < got; i++) {
			int who = -1;
			char what = 0;
			unsigned long long at = 0;

			if (buf[i] != '\n') {
				if (r->partial_len + 1 >= sizeof(r->partial))
					fail_msg("an elector line too long");
				r->partial[r->partial_len++] = buf[i];
				continue;
			}
			r->partial[r->partial_len] = '\0';
			r->partial_len = 0;
			if (sscanf(r->partial, "%d %c %llu", &who, &what,
				   &at) != 3 ||
			    who < 0 || who >= LE_KIDS)
				fail_msg("a bad elector line '%s'", r->partial);
			le_add(r, who, what, at);
		}
	}
}

static int le_by_time(const void *a, const void *b)
{
	const le_event *x = a;
	const le_event *y = b;

	if (x->at != y->at)
		return x->at < y->at ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Prints the events in time order (on a failure). */
static void le_dump(const le_run *r, const le_event *sorted)
{
	size_t i = 0;

	for (i = 0; i < r->n; i++)
		print_error("  %llu %s %c\n",
			    (unsigned long long)(sorted[i].at - sorted[0].at),
			    le_names[sorted[i].who], sorted[i].what);
}

/*
 * Replays every event in time order: false with r->why set at the first
 * moment two children believed they led, or a child acted as leader after
 * it was resumed and before it stepped down, or a report contradicts the
 * child's own earlier ones.
 */
static bool le_consistent(le_run *r)
{
	static le_event sorted[LE_MAX_EVENTS];
	bool believes[LE_KIDS] = { false };
	bool stale[LE_KIDS] = { false }; /* paused while believing */
	size_t i = 0;
	int k = 0;

	memcpy(sorted, r->ev, r->n * sizeof(*sorted));
	qsort(sorted, r->n, sizeof(*sorted), le_by_time);
	for (i = 0; i < r->n && !r->why[0]; i++) {
		const le_event *e = &sorted[i];
		const char *me = le_names[e->who];
		int other = -1;

		for (k = 0; k < LE_KIDS; k++) {
			if (k != e->who && believes[k] && !stale[k])
				other = k;
		}
		if (stale[e->who] && e->what != 'E' && e->what != 'C') {
			snprintf(r->why, sizeof(r->why),
				 "%s reported '%c' after it was resumed, "
				 "before stepping down",
				 me, e->what);
			break;
		}
		switch (e->what) {
		case 'S':
			if (believes[e->who])
				snprintf(r->why, sizeof(r->why),
					 "%s started leading twice", me);
			else if (other >= 0)
				snprintf(r->why, sizeof(r->why),
					 "%s started leading while %s led", me,
					 le_names[other]);
			believes[e->who] = true;
			break;
		case 'L':
			if (!believes[e->who])
				snprintf(r->why, sizeof(r->why),
					 "%s's round says it leads, but it "
					 "never started",
					 me);
			else if (other >= 0)
				snprintf(r->why, sizeof(r->why),
					 "%s and %s both lead", me,
					 le_names[other]);
			break;
		case 'N':
		case 'X':
			if (believes[e->who])
				snprintf(r->why, sizeof(r->why),
					 "%s reported '%c' but never stopped "
					 "leading",
					 me, e->what);
			break;
		case 'E':
			if (!believes[e->who])
				snprintf(r->why, sizeof(r->why),
					 "%s stopped leading twice", me);
			believes[e->who] = false;
			stale[e->who] = false;
			break;
		case 'P':
			stale[e->who] = believes[e->who];
			break;
		case 'C':
			break;
		default:
			snprintf(r->why, sizeof(r->why), "%s: unknown '%c'", me,
				 e->what);
		}
	}
	if (r->why[0]) {
		print_error("elector events (ms since the first):\n");
		le_dump(r, sorted);
	}
	return !r->why[0];
}

/* The events so far are consistent (the test fails at once otherwise),
 * and r->who has reported r->what at least r->count times after r->after. */
static bool le_seen(void *arg)
{
	le_run *r = arg;
	size_t n = 0;
	size_t i = 0;

	le_pump(r);
	if (!le_consistent(r))
		fail_msg("two leaders: %s", r->why);
	for (i = 0; i < r->n; i++) {
		if (r->ev[i].who == r->who && r->ev[i].what == r->what &&
		    r->ev[i].at >= r->after)
			n++;
	}
	return n >= r->count;
}

/* Waits until who has reported what count times since after (ms). */
static void le_wait(le_run *r, int who, char what, size_t count, uint64_t after,
		    long timeout_ms)
{
	r->who = who;
	r->what = what;
	r->count = count;
	r->after = after;
	if (!tu_poll(le_seen, r, timeout_ms))
		fail_msg("%s did not report '%c' %zu times within %ld ms",
			 le_names[who], what, count, timeout_ms);
}

/* Which child believes it leads now (-1: none), after its 'S'. */
static int le_leader(const le_run *r)
{
	int leader = -1;
	size_t i = 0;

	for (i = 0; i < r->n; i++) {
		if (r->ev[i].what == 'S')
			leader = r->ev[i].who;
		if (r->ev[i].what == 'E' && r->ev[i].who == leader)
			leader = -1;
	}
	return leader;
}

static bool le_any_leads(void *arg)
{
	le_run *r = arg;

	le_pump(r);
	return le_leader(r) >= 0;
}

/* The lease's holder now ("" when none). */
static void holder_of(fixture *f, char *buf, size_t size)
{
	static const kube_gvr leases = { "coordination.k8s.io", "v1", "leases",
					 true };
	kube_result res;
	gv_error_t err = GV_ERROR_INIT;
	json_t *lease = NULL;
	const char *h = NULL;

	buf[0] = '\0';
	assert_int_equal(kube_get(&f->kc.client, &leases, "default",
				  "groved-leader", NULL, &lease, &res, &err),
			 GV_OK);
	h = json_string_value(
	    json_object_get(json_object_get(lease, "spec"), "holderIdentity"));
	snprintf(buf, size, "%s", h ? h : "");
	json_decref(lease);
}

/* Stops child who gracefully: closes its control pipe, waits for its
 * 'X' and its exit. */
static void le_finish(le_run *r, int who)
{
	int status = 0;

	close(r->ctl_wr[who]);
	r->ctl_wr[who] = -1;
	le_wait(r, who, 'X', 1, 0, 20000);
	assert_int_equal(waitpid(r->pid[who], &status, 0), r->pid[who]);
	r->f->kids[who] = 0;
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_leader_election(void **state)
{
	fixture *f = *state;
	le_run *r = calloc(1, sizeof(*r));
	int fds[2];
	int first = -1;
	int second = -1;
	int third = 2;
	int status = 0;
	uint64_t t = 0;
	char holder[64];
	size_t i = 0;
	size_t starts = 0;

	assert_non_null(r);
	r->f = f;
	connect_sim(f);
	assert_int_equal(pipe(fds), 0);
	r->events_rd = fds[0];
	r->events_wr = fds[1];
	assert_int_equal(fcntl(r->events_rd, F_SETFL, O_NONBLOCK), 0);
	for (i = 0; i < LE_KIDS; i++)
		r->ctl_wr[i] = -1;
	le_spawn(r, 0);
	le_spawn(r, 1);

	/* one of the two leads, and only one, while it renews: each has
	 * done several rounds since */
	tu_wait_until(le_any_leads, r, 15000);
	first = le_leader(r);
	second = 1 - first;
	t = gv_now_ms();
	le_wait(r, first, 'L', 5, t, 15000);
	le_wait(r, second, 'N', 5, t, 15000);

	/* a graceful release: the lease is given up only after the leader
	 * has stopped (its 'E' before the other's 'S'), and the other takes
	 * over without waiting out the lease */
	le_finish(r, first);
	holder_of(f, holder, sizeof(holder));
	assert_string_not_equal(holder, le_names[first]);
	le_wait(r, second, 'S', 1, 0, 15000);

	/* a replica comes back; the new leader keeps the lease */
	le_spawn(r, third);
	t = gv_now_ms();
	le_wait(r, third, 'N', 5, t, 15000);
	le_wait(r, second, 'L', 5, t, 15000);

	/* the leader freezes (SIGSTOP) past its lease: the other takes over;
	 * resumed, the old leader must step down before it claims anything */
	le_pump(r);
	assert_int_equal(kill(r->pid[second], SIGSTOP), 0);
	assert_int_equal(waitpid(r->pid[second], &status, WUNTRACED),
			 r->pid[second]);
	assert_true(WIFSTOPPED(status));
	le_pump(r); /* what it wrote before it stopped */
	le_add(r, second, 'P', gv_now_ms());
	le_wait(r, third, 'S', 1, 0, LE_LEASE_MS + 15000);
	t = gv_now_ms();
	le_add(r, second, 'C', t);
	assert_int_equal(kill(r->pid[second], SIGCONT), 0);
	le_wait(r, second, 'E', 1, t, 15000);
	le_wait(r, second, 'N', 3, t, 15000);
	le_wait(r, third, 'L', 3, t, 15000);

	/* both shut down; the last leader releases */
	le_finish(r, second);
	le_finish(r, third);
	holder_of(f, holder, sizeof(holder));
	assert_string_equal(holder, "");
	assert_true(le_consistent(r));
	/* three reigns: first, second (after the release), third (after
	 * the freeze) */
	for (i = 0; i < r->n; i++)
		starts += r->ev[i].what == 'S';
	assert_int_equal(starts, 3);
	close(r->events_rd);
	close(r->events_wr);
	free(r);
}

/* The store's keys and resourceVersions against a fresh list: equal when
 * the informer lost nothing and duplicated nothing. */
typedef struct churn {
	fixture *f;
	kube_store *store;
} churn;

static bool store_matches(void *arg)
{
	fixture *f = ((churn *)arg)->f;
	kube_store *store = ((churn *)arg)->store;
	kube_query q = { NULL, NULL, 0, NULL, NULL, NULL };
	kube_list_page page;
	kube_result res;
	gv_error_t err = GV_ERROR_INIT;
	const json_t *item = NULL;
	size_t i = 0;
	bool same = true;

	memset(&page, 0, sizeof(page));
	if (kube_list(&f->kc.client, &pods, "churn", &q, &page, &res, &err) !=
	    GV_OK)
		return false;
	same = json_array_size(page.items) == kube_store_len(store);
	json_array_foreach(page.items, i, item)
	{
		const json_t *md = json_object_get(item, "metadata");
		json_t *mine = kube_store_get(
		    store, "churn",
		    json_string_value(json_object_get(md, "name")));
		const char *rv =
		    json_string_value(json_object_get(md, "resourceVersion"));
		const char *myrv = json_string_value(json_object_get(
		    json_object_get(mine, "metadata"), "resourceVersion"));

		if (!mine || !rv || !myrv || strcmp(rv, myrv) != 0)
			same = false;
		json_decref(mine);
	}
	kube_list_page_release(&page);
	return same;
}

static bool store_synced(void *arg)
{
	return kube_store_synced(arg);
}

static void test_informer_churn(void **state)
{
	fixture *f = *state;
	kube_store store;
	kube_informer inf;
	kube_informer_opts o;
	kube_result res;
	gv_error_t err = GV_ERROR_INIT;
	uint64_t seed = 42;
	char name[32];
	bool matches = false;
	unsigned lists = 0;
	unsigned watches = 0;
	int i = 0;

	churn c = { f, &store };

	connect_sim(f);
	assert_int_equal(kube_store_init(&store, NULL), GV_OK);
	memset(&o, 0, sizeof(o));
	o.gvr = pods;
	o.namespace = "churn";
	o.page_size = 50;
	o.watch_timeout_s = 2; /* the server ends watches often: resumes */
	assert_int_equal(
	    kube_informer_start(&inf, &f->kc.client, &store, &o, &err), GV_OK);
	if (!tu_poll(store_synced, &store, 15000)) {
		kube_informer_stop(&inf);
		kube_store_release(&store);
		fail_msg("the informer never synced");
	}
	/* 2,000 writes over 100 names, with dropped watches, a compacted
	 * history (an informer that is up to date resumes even then), a 410
	 * on resuming (it relists) and an API server restart with its state
	 * kept along the way */
	for (i = 0; i < 2000; i++) {
		json_t *p = NULL;
		json_t *got = NULL;

		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		snprintf(name, sizeof(name), "c-%02u",
			 (unsigned)((seed >> 33) % 100));
		switch ((seed >> 20) % 3) {
		case 0:
			p = pod(name);
			(void)kube_create(&f->kc.client, &pods, "churn", p,
					  NULL, &res, &err);
			json_decref(p);
			break;
		case 1:
			if (kube_get(&f->kc.client, &pods, "churn", name, NULL,
				     &got, &res, &err) == GV_OK) {
				json_object_set_new(
				    json_object_get(
					json_object_get(got, "metadata"),
					"labels"),
				    "n", json_integer(i));
				(void)kube_update(&f->kc.client, &pods, "churn",
						  NULL, got, NULL, &res, &err);
			}
			json_decref(got);
			break;
		default:
			(void)kube_delete(&f->kc.client, &pods, "churn", name,
					  NULL, NULL, &res, &err);
		}
		if (i == 700)
			sim_admin(f, "drop-watches");
		if (i == 1000) {
			sim_admin(f, "compact");
			sim_admin(f, "drop-watches");
		}
		if (i == 1300) {
			/* the resumed watch is told 410: the informer relists */
			sim_admin(f, "gone-next");
			sim_admin(f, "drop-watches");
		}
		if (i == 1600)
			sim_admin(f, "restart?ms=300"); /* state kept */
	}
	/* the informer catches up: a bounded wait, generous on purpose */
	matches = tu_poll(store_matches, &c, 30000);
	lists = atomic_load(&inf.lists);
	watches = atomic_load(&inf.watches);
	/* stopped before asserting: a failed assertion leaves the test */
	kube_informer_stop(&inf);
	kube_store_release(&store);
	assert_true(matches);
	/* the 410 forced a relist; drops, timeouts and the restart were
	 * resumed from the last resourceVersion */
	assert_true(lists >= 2);
	assert_true(watches >= 5);
}

/* Over HTTPS: the kubeconfig's CA data verifies kube-sim's certificate
 * (kube_connect keeps verification on and the rate limit as configured). */
static void test_tls(void **state)
{
	fixture *f = *state;
	kube_result res;
	gv_error_t err = GV_ERROR_INIT;
	json_t *out = NULL;
	kube_conn kc;

	assert_int_equal(strncmp(read_server(f), "https://", 8), 0);
	assert_int_equal(kube_connect(&kc, f->kubeconfig, NULL, &err), GV_OK);
	assert_non_null(kc.cfg.ca_pem);
	assert_int_equal(kube_get(&kc.client, &pods, "default", "none", NULL,
				  &out, &res, &err),
			 GV_ENOTFOUND);
	kube_conn_release(&kc);
}

/* The token kube-sim saw last (GET /__sim/last-token), into buf. */
static void last_token(const char *server, char *buf, size_t size)
{
	char url[256];
	char *body = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&body, &len);
	CURL *h = curl_easy_init();
	json_t *v = NULL;

	snprintf(url, sizeof(url), "%s/__sim/last-token", server);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, mem);
	assert_int_equal(curl_easy_perform(h), CURLE_OK);
	curl_easy_cleanup(h);
	fclose(mem);
	v = json_loads(body, 0, NULL);
	assert_non_null(v);
	snprintf(buf, size, "%s",
		 json_string_value(json_object_get(v, "token"))
		     ? json_string_value(json_object_get(v, "token"))
		     : "");
	json_decref(v);
	free(body);
}

/* The token kc sends: one GET, then what kube-sim saw (into buf). */
static const char *token_sent(const fixture *f, kube_conn *kc, char *buf,
			      size_t size)
{
	kube_result res;
	gv_error_t err = GV_ERROR_INIT;
	json_t *out = NULL;

	assert_int_equal(kube_get(&kc->client, &pods, "default", "none", NULL,
				  &out, &res, &err),
			 GV_ENOTFOUND);
	last_token(read_server(f), buf, size);
	return buf;
}

static void write_file(const char *path, const char *text)
{
	FILE *out = fopen(path, "w");

	assert_non_null(out);
	fputs(text, out);
	assert_int_equal(fclose(out), 0);
}

/* A kubeconfig with tokenFile: the rotated file is read again (a pod's
 * service account token, which kubelet replaces about hourly). */
static void test_token_file_rotation(void **state)
{
	fixture *f = *state;
	char kubeconfig[256];
	char token_file[256];
	char text[1024];
	char seen[128];
	gv_error_t err = GV_ERROR_INIT;
	kube_conn kc;

	snprintf(token_file, sizeof(token_file), "%s/token", f->dir);
	snprintf(kubeconfig, sizeof(kubeconfig), "%s/kc-file", f->dir);
	write_file(token_file, "first-token\n");
	snprintf(text, sizeof(text),
		 "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
		 "clusters: [{name: s, cluster: {server: \"%s\"}}]\n"
		 "users: [{name: u, user: {tokenFile: \"%s\"}}]\n"
		 "contexts: [{name: c, context: {cluster: s, user: u}}]\n",
		 read_server(f), token_file);
	write_file(kubeconfig, text);
	assert_int_equal(kube_connect(&kc, kubeconfig, NULL, &err), GV_OK);
	assert_non_null(kc.file_token);
	assert_string_equal(token_sent(f, &kc, seen, sizeof(seen)),
			    "first-token");
	/* rotated: within the refresh period the old token is still sent */
	write_file(token_file, "second-token\n");
	assert_string_equal(token_sent(f, &kc, seen, sizeof(seen)),
			    "first-token");
	/* after it, the new one */
	kc.file_token->refresh_ms = 0;
	assert_string_equal(token_sent(f, &kc, seen, sizeof(seen)),
			    "second-token");
	/* a file caught empty mid-rotation keeps the last good token */
	write_file(token_file, "");
	assert_string_equal(token_sent(f, &kc, seen, sizeof(seen)),
			    "second-token");
	kube_conn_release(&kc);
}

static void test_validate_lookups(void **state)
{
	fixture *f = *state;
	srv_kconn k;
	gv_error_t err = GV_ERROR_INIT;
	char why[256];
	json_t *levels = NULL;

	/* the lookups are the server's (srv_kcache.c), over a srv_kconn */
	assert_int_equal(srv_kconn_connect(&k, f->kubeconfig, NULL, &err),
			 GV_OK);
	assert_int_equal(srv_lookup_claim_template(&k, "inference",
						   "b200-prefill-claim", why,
						   sizeof(why)),
			 POL_LOOKUP_FOUND);
	assert_string_equal(k.claims.version, "v1");
	assert_int_equal(srv_lookup_claim_template(
			     &k, "inference", "h100-claim", why, sizeof(why)),
			 POL_LOOKUP_MISSING);
	/* no ClusterTopologyBinding CRD loaded: no such binding */
	assert_int_equal(srv_lookup_topology(&k, "grove-topology", &levels, why,
					     sizeof(why)),
			 POL_LOOKUP_MISSING);
	srv_kconn_release(&k);
}

/* What a client's error callback was told (from any thread). */
typedef struct err_log {
	pthread_mutex_t lock;
	unsigned n;
	char what[16][64];
	char text[16][GV_ERROR_TEXT_MAX]; /* "" for "works again" */
} err_log;

static void record_error(void *ctx, const char *what, const gv_error_t *err)
{
	err_log *l = ctx;

	pthread_mutex_lock(&l->lock);
	if (l->n < 16) {
		snprintf(l->what[l->n], sizeof(l->what[0]), "%s", what);
		snprintf(l->text[l->n], sizeof(l->text[0]), "%s",
			 err ? err->text : "");
	}
	l->n++;
	pthread_mutex_unlock(&l->lock);
}

static bool has_report(void *arg)
{
	err_log *l = arg;
	bool any = false;

	pthread_mutex_lock(&l->lock);
	any = l->n > 0;
	pthread_mutex_unlock(&l->lock);
	return any;
}

static const kube_gvr roles = { "rbac.authorization.k8s.io", "v1", "roles",
				true };

/* A Role in "default" with the lease verbs given, bound to the service
 * account of the token "sa"; updated when it exists. */
static void grant_leases(fixture *f, const char *verbs)
{
	kube_result res;
	gv_error_t err = GV_ERROR_INIT;
	json_t *role = json_pack(
	    "{s:s, s:s, s:{s:s}, s:[{s:[s], s:[s], s:o}]}", "apiVersion",
	    "rbac.authorization.k8s.io/v1", "kind", "Role", "metadata", "name",
	    "leases", "rules", "apiGroups", "coordination.k8s.io", "resources",
	    "leases", "verbs", json_loads(verbs, 0, NULL));
	json_t *binding = json_pack(
	    "{s:s, s:s, s:{s:s}, s:{s:s, s:s, s:s}, s:[{s:s, s:s, s:s}]}",
	    "apiVersion", "rbac.authorization.k8s.io/v1", "kind", "RoleBinding",
	    "metadata", "name", "leases", "roleRef", "apiGroup",
	    "rbac.authorization.k8s.io", "kind", "Role", "name", "leases",
	    "subjects", "kind", "ServiceAccount", "name", "app", "namespace",
	    "ns1");
	const kube_gvr bindings = { "rbac.authorization.k8s.io", "v1",
				    "rolebindings", true };
	json_t *cur = NULL;

	assert_non_null(role);
	assert_non_null(binding);
	if (kube_get(&f->kc.client, &roles, "default", "leases", NULL, &cur,
		     &res, &err) == GV_OK) {
		assert_int_equal(
		    json_object_set(cur, "rules",
				    json_object_get(role, "rules")),
		    0);
		assert_int_equal(kube_update(&f->kc.client, &roles, "default",
					     NULL, cur, NULL, &res, &err),
				 GV_OK);
	} else {
		assert_int_equal(kube_create(&f->kc.client, &roles, "default",
					     role, NULL, &res, &err),
				 GV_OK);
		assert_int_equal(kube_create(&f->kc.client, &bindings,
					     "default", binding, NULL, &res,
					     &err),
				 GV_OK);
	}
	json_decref(cur);
	json_decref(role);
	json_decref(binding);
}

/*
 * The kube module says why it failed, in the API server's words: a lease
 * whose update is forbidden, an informer whose list is forbidden (kube-sim
 * --authorize answers as kube-apiserver's RBAC does), and the lease again
 * once it may write.
 */
static void test_failures_in_api_words(void **state)
{
	fixture *f = *state;
	kube_client_opts co;
	kube_client sa;
	kube_elector e;
	kube_elector_opts eo;
	kube_store store;
	kube_informer inf;
	kube_informer_opts io;
	gv_error_t err = GV_ERROR_INIT;
	err_log *l = calloc(1, sizeof(*l));
	static char sa_token[] = "sa";

	assert_non_null(l);
	pthread_mutex_init(&l->lock, NULL);
	connect_sim(f);
	memset(&co, 0, sizeof(co));
	co.server = f->kc.cfg.server;
	co.token = kube_token_static;
	co.token_ctx = sa_token;
	co.max_attempts = 1;
	assert_int_equal(kube_client_init(&sa, &co, &err), GV_OK);
	kube_client_on_error(&sa, record_error, l);

	/* the lease: it may be read and created, not updated */
	grant_leases(f, "[\"get\", \"create\"]");
	memset(&eo, 0, sizeof(eo));
	eo.namespace = "default";
	eo.name = "groved";
	eo.identity = "replica-a";
	kube_elector_init(&e, &sa, &eo);
	assert_true(kube_elector_round(&e, gv_now_ms())); /* created */
	assert_int_equal(l->n, 0);
	/* the renewal is refused: kube-sim's Status.message, word for word
	 * (kube-apiserver puts the name after the group) */
	kube_elector_round(&e, gv_now_ms());
	assert_int_equal(l->n, 1);
	assert_string_equal(l->what[0], "lease default/groved");
	assert_string_equal(
	    l->text[0],
	    "PUT /apis/coordination.k8s.io/v1/namespaces/default/leases/"
	    "groved: forbidden: leases.coordination.k8s.io \"groved\" is "
	    "forbidden: User \"system:serviceaccount:ns1:app\" cannot update "
	    "resource \"leases\" in API group \"coordination.k8s.io\" in the "
	    "namespace \"default\" (HTTP 403)");
	/* allowed again: said once */
	grant_leases(f, "[\"get\", \"create\", \"update\"]");
	assert_true(kube_elector_round(&e, gv_now_ms()));
	assert_int_equal(l->n, 2);
	assert_string_equal(l->what[1], "lease default/groved");
	assert_string_equal(l->text[1], "");
	assert_true(kube_elector_round(&e, gv_now_ms()));
	assert_int_equal(l->n, 2);

	/* an informer whose list is forbidden says so before its backoff */
	l->n = 0;
	assert_int_equal(kube_store_init(&store, NULL), GV_OK);
	memset(&io, 0, sizeof(io));
	io.gvr = pods;
	io.namespace = "default";
	assert_int_equal(kube_informer_start(&inf, &sa, &store, &io, &err),
			 GV_OK);
	if (!tu_poll(has_report, l, 10000)) {
		kube_informer_stop(&inf);
		fail_msg("the informer never reported its failure");
	}
	kube_informer_stop(&inf);
	assert_string_equal(l->what[0], "informer pods");
	assert_true(strncmp(l->text[0], "GET /api/v1/namespaces/default/pods",
			    strlen("GET /api/v1/namespaces/default/pods")) ==
		    0);
	if (!strstr(l->text[0],
		    ": forbidden: pods is forbidden: User "
		    "\"system:serviceaccount:ns1:app\" cannot list resource "
		    "\"pods\" in API group \"\" in the namespace \"default\" "
		    "(HTTP 403)"))
		fail_msg("got '%s'", l->text[0]);
	assert_false(kube_store_synced(&store));
	kube_store_release(&store);
	kube_client_release(&sa);
	pthread_mutex_destroy(&l->lock);
	free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pod_crud_and_conflict,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_paging, setup, teardown),
		cmocka_unit_test_setup_teardown(test_token_file_rotation, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_custom_resource_and_scale,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_retries_through_failures,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_watch_resume_and_gone,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_leader_election, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_informer_churn, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_validate_lookups, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_tls, setup_tls, teardown),
		cmocka_unit_test_setup_teardown(test_failures_in_api_words,
						setup_authorize, teardown),
	};
	int rc = 0;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests_name("kube-live", tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
