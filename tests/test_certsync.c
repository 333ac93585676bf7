/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_certsync.c: the self-managed certificates' thread
 * (server/srv_certsync.c) on its own, against the in-process fake API
 * server of test_fake_kube.h: the leader's round (create, renew, inject)
 * and the load every replica does, the follower that only reads, a
 * leadership that moves, and failures logged once until they clear.
 *
 * Rounds run on the module's thread; the test kicks them and waits (a
 * bounded poll) for the next one to start, which a round's first request,
 * the GET of the Secret, shows: the one before has then finished.
 */
#include "test_util.h"

#include <unistd.h>

#include "srv_certsync.h"
#include "test_fake_kube.h"

static const kube_gvr secrets = { "", "v1", "secrets", true };
static const kube_gvr mutating = { "admissionregistration.k8s.io", "v1",
				   "mutatingwebhookconfigurations", false };
static const kube_gvr validating = { "admissionregistration.k8s.io", "v1",
				     "validatingwebhookconfigurations", false };

#define NS "groved-system"
#define WAIT_MS 20000 /* far above a round's few milliseconds */

typedef struct fixture {
	fake_kube fk;
	kube_client client; /* never initialised: the fake answers */
	cfg_serve c;
	cert_store store;
	srv_leader leader;
	log_ctx log;
	char log_path[64];
	int log_fd;
	met_registry *met;
	atomic_bool loaded;
	srv_certsync s;
} fixture;

static json_t *hook_config(const char *kind, const char *name)
{
	json_t *obj = json_pack(
	    "{s:s, s:s, s:{s:s}, s:[{s:s, s:{s:{s:s, s:s}}}]}", "apiVersion",
	    "admissionregistration.k8s.io/v1", "kind", kind, "metadata", "name",
	    name, "webhooks", "name", "h.groved.io", "clientConfig", "service",
	    "name", "groved-webhook", "namespace", NS);

	assert_non_null(obj);
	return obj;
}

static void put_config(fixture *f, const kube_gvr *gvr, const char *kind,
		       const char *name)
{
	json_t *obj = hook_config(kind, name);

	fk_put(&f->fk, gvr, NULL, obj);
	json_decref(obj);
}

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	const char *webhooks[] = { "validate" };
	met_options mo = { webhooks, 1, "test", false };

	if (!f)
		return -1;
	fk_init(&f->fk);
	fk_attach(&f->fk, &f->client);
	put_config(f, &mutating, "MutatingWebhookConfiguration",
		   "groved-mutating");
	put_config(f, &validating, "ValidatingWebhookConfiguration",
		   "groved-validating");
	snprintf(f->log_path, sizeof(f->log_path), "/tmp/gv-certsync.XXXXXX");
	f->log_fd = mkstemp(f->log_path);
	if (f->log_fd < 0 || log_init(&f->log, LOG_LVL_INFO, f->log_fd) != 0 ||
	    met_new(&mo, &f->met) != GV_OK ||
	    cert_store_init(&f->store, "secret " NS "/groved-cert: tls.crt",
			    "secret " NS "/groved-cert: tls.key") != GV_OK ||
	    cfg_serve_init(&f->c) != GV_OK)
		return -1;
	atomic_init(&f->loaded, false);
	atomic_init(&f->leader.leading, false);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	srv_certsync_stop(&f->s);
	cert_store_release(&f->store);
	cfg_serve_release(&f->c);
	met_free(f->met);
	log_release(&f->log);
	close(f->log_fd);
	unlink(f->log_path);
	fk_release(&f->fk);
	free(f);
	return 0;
}

/* Loads the flags after "serve --cert-secret groved-cert". */
static void configure(fixture *f, const char *const *flags)
{
	const char *argv[16] = { "serve", "--cert-secret", "groved-cert" };
	gv_error_t err = GV_ERROR_INIT;
	int argc = 3;

	while (*flags)
		argv[argc++] = *flags++;
	if (cfg_serve_load(&f->c, argc, (char **)argv, &err) != GV_OK)
		fail_msg("flags: %s", err.text);
}

static const char *const both_hooks[] = {
	"--inject-ca-into",
	"mutatingwebhookconfigurations/groved-mutating,"
	"validatingwebhookconfigurations/groved-validating",
	NULL
};

/* Starts the thread with this replica leading or not. */
static void start(fixture *f, const char *const *flags, bool leading)
{
	gv_error_t err = GV_ERROR_INIT;

	configure(f, flags);
	atomic_store(&f->leader.leading, leading);
	if (srv_certsync_start(&f->s, &f->client, &f->c, NS, &f->store,
			       &f->leader, &f->log, f->met, &f->loaded,
			       &err) != GV_OK)
		fail_msg("start: %s", err.text);
}

typedef struct gets_above {
	fake_kube *fk;
	size_t n;
} gets_above;

static bool secret_read_again(void *arg)
{
	gets_above *g = arg;

	return fk_count(g->fk, FK_GET, "secrets") > g->n;
}

/* n whole rounds after this call: kicks n + 1 times, each time waiting
 * for a new round to start (the previous one is then done). */
static void rounds(fixture *f, int n)
{
	int i = 0;

	for (i = 0; i <= n; i++) {
		gets_above g = { &f->fk, fk_count(&f->fk, FK_GET, "secrets") };

		srv_certsync_kick(&f->s);
		tu_wait_until(secret_read_again, &g, WAIT_MS);
	}
}

static bool is_loaded(void *arg)
{
	return atomic_load((atomic_bool *)arg);
}

/* How many log lines have msg. */
static int logged(fixture *f, const char *msg)
{
	char needle[256];
	char *text = NULL;
	size_t len = 0;
	FILE *in = fopen(f->log_path, "r");
	const char *p = NULL;
	int n = 0;
	char buf[4096];
	size_t got = 0;
	FILE *mem = open_memstream(&text, &len);

	assert_non_null(in);
	assert_non_null(mem);
	while ((got = fread(buf, 1, sizeof(buf), in)) > 0)
		fwrite(buf, 1, got, mem);
	fclose(in);
	fclose(mem);
	snprintf(needle, sizeof(needle), "\"msg\":\"%s\"", msg);
	for (p = text; (p = strstr(p, needle)) != NULL; p++)
		n++;
	free(text);
	return n;
}

static bool log_has(fixture *f, const char *text)
{
	char *all = NULL;
	size_t len = 0;
	FILE *in = fopen(f->log_path, "r");
	FILE *mem = open_memstream(&all, &len);
	char buf[4096];
	size_t got = 0;
	bool found = false;

	assert_non_null(in);
	assert_non_null(mem);
	while ((got = fread(buf, 1, sizeof(buf), in)) > 0)
		fwrite(buf, 1, got, mem);
	fclose(in);
	fclose(mem);
	found = strstr(all, text) != NULL;
	free(all);
	return found;
}

/* Creates and updates the module made. */
static size_t writes(fixture *f)
{
	return fk_count_from(&f->fk, &f->client, FK_CREATE, "") +
	       fk_count_from(&f->fk, &f->client, FK_UPDATE, "");
}

/* The served certificate's generation (0: none). */
static uint64_t generation(fixture *f)
{
	cert_store_info info;

	if (cert_store_info_get(&f->store, &info) != GV_OK)
		return 0;
	return info.generation;
}

static bool metrics_have(fixture *f, const char *line)
{
	char *text = NULL;
	size_t len = 0;
	bool found = false;

	assert_int_equal(met_render(f->met, &text, &len), GV_OK);
	found = strstr(text, line) != NULL;
	free(text);
	return found;
}

/* Two GETs of the Secret with no GET of a webhook configuration between
 * them: a leader's round that read the Secret a second time. */
static bool secret_read_twice_a_round(fixture *f)
{
	bool secret = false;
	bool twice = false;
	size_t i = 0;

	pthread_mutex_lock(&f->fk.lock);
	for (i = 0; i < f->fk.n_calls && i < FK_MAX_CALLS; i++) {
		const fk_call *c = &f->fk.calls[i];

		if (c->verb != FK_GET)
			continue;
		if (strcmp(c->resource, "secrets") == 0) {
			twice = twice || secret;
			secret = true;
		} else {
			secret = false;
		}
	}
	pthread_mutex_unlock(&f->fk.lock);
	return twice;
}

static void test_leader_creates_injects_and_serves(void **state)
{
	fixture *f = *state;
	json_t *s = NULL;

	start(f, both_hooks, true);
	tu_wait_until(is_loaded, &f->loaded, WAIT_MS);
	rounds(f, 2);
	s = fk_object(&f->fk, &secrets, NS, "groved-cert");
	assert_non_null(s);
	json_decref(s);
	assert_int_equal(logged(f, "certificate secret created"), 1);
	assert_int_equal(logged(f, "CA bundle injected"), 1);
	assert_int_equal(logged(f, "certificate loaded"), 1);
	assert_int_equal(logged(f, "certificate secret renewed"), 0);
	assert_int_equal(generation(f), 1);
	assert_int_equal(fk_count(&f->fk, FK_CREATE, "secrets"), 1);
	assert_int_equal(fk_count(&f->fk, FK_UPDATE, "secrets"), 0);
	/* the leader serves what its round read or wrote: one GET of the
	 * Secret per round, never two without the round's injection between */
	assert_false(secret_read_twice_a_round(f));
	assert_true(metrics_have(
	    f, "groved_certificate_renewals_total{what=\"certificate\"} 1\n"));
	assert_true(metrics_have(
	    f, "groved_certificate_renewals_total{what=\"ca\"} 1\n"));
	assert_true(
	    metrics_have(f, "groved_serving_certificate_loads_total 1\n"));
	assert_false(metrics_have(
	    f, "groved_serving_certificate_expiration_timestamp_seconds 0\n"));
}

/* What a leader elsewhere writes: a round of a second cert_secret (no
 * injection) on fk. */
static void other_leader_round(fake_kube *fk)
{
	kube_client other;
	cert_secret cs;
	cert_secret_opts o;
	cert_secret_report rep;
	gv_error_t err = GV_ERROR_INIT;
	const char *const dns[] = { "groved-webhook", NULL };

	memset(&other, 0, sizeof(other));
	fk_attach(fk, &other);
	memset(&o, 0, sizeof(o));
	o.namespace = NS;
	o.name = "groved-cert";
	o.dns = dns;
	cert_secret_init(&cs, &other, &o);
	assert_int_equal(cert_secret_rotate(&cs, 0, &rep, NULL, &err), GV_OK);
	assert_int_not_equal(rep.what, 0);
	cert_secret_release(&cs);
}

static void test_follower_waits_then_follows(void **state)
{
	fixture *f = *state;
	fake_kube *aside = calloc(1, sizeof(*aside));
	json_t *s = NULL;
	json_t *data = NULL;

	start(f, both_hooks, false);
	rounds(f, 3);
	/* no Secret yet: said once, at info, and nothing written */
	assert_int_equal(
	    logged(f, "waiting for the leader to create the certificate "
		      "secret"),
	    1);
	assert_false(atomic_load(&f->loaded));
	assert_int_equal(writes(f), 0);
	assert_int_equal(
	    fk_count(&f->fk, FK_GET, "mutatingwebhookconfigurations"), 0);
	/* the leader makes it: served at the next round */
	other_leader_round(&f->fk);
	rounds(f, 1);
	assert_true(atomic_load(&f->loaded));
	assert_int_equal(generation(f), 1);
	assert_int_equal(logged(f, "certificate loaded"), 1);
	/* a renewed pair (the leader replaced a lost serving pair, aside)
	 * is followed without a restart */
	assert_non_null(aside);
	fk_init(aside);
	s = fk_object(&f->fk, &secrets, NS, "groved-cert");
	data = json_object_get(s, "data");
	json_object_del(data, "tls.crt");
	json_object_del(data, "tls.key");
	fk_put(aside, &secrets, NS, s);
	json_decref(s);
	other_leader_round(aside);
	s = fk_object(aside, &secrets, NS, "groved-cert");
	fk_put(&f->fk, &secrets, NS, s);
	json_decref(s);
	fk_release(aside);
	free(aside);
	rounds(f, 1);
	assert_int_equal(generation(f), 2);
	assert_int_equal(logged(f, "certificate loaded"), 2);
	/* the follower itself never wrote */
	assert_int_equal(writes(f), 0);
	assert_int_equal(logged(f, "cannot load the certificate secret"), 0);
}

static void test_follower_cannot_load(void **state)
{
	fixture *f = *state;
	json_t *s =
	    json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:s}}", "apiVersion", "v1",
		      "kind", "Secret", "metadata", "name", "groved-cert",
		      "namespace", NS, "data", "ca.crt", "YWJj");

	fk_put(&f->fk, &secrets, NS, s);
	json_decref(s);
	start(f, both_hooks, false);
	rounds(f, 3);
	assert_int_equal(logged(f, "cannot load the certificate secret"), 1);
	assert_true(log_has(f, "has no tls.crt or tls.key"));
	assert_false(atomic_load(&f->loaded));
	assert_int_equal(writes(f), 0);
}

static void test_leader_failure_logged_once_until_it_clears(void **state)
{
	fixture *f = *state;
	const char *const flags[] = {
		"--inject-ca-into",
		"mutatingwebhookconfigurations/groved-mutating,"
		"validatingwebhookconfigurations/not-installed",
		NULL
	};
	const char *warn = "cannot renew the certificate or inject the CA";

	start(f, flags, true);
	tu_wait_until(is_loaded, &f->loaded, WAIT_MS);
	rounds(f, 4);
	/* the pair is made and served all the same; the failure is said
	 * once, naming the missing configuration */
	assert_int_equal(logged(f, warn), 1);
	assert_true(log_has(f, "not-installed"));
	assert_int_equal(generation(f), 1);
	/* the configuration appears: injected, and the failure clears */
	put_config(f, &validating, "ValidatingWebhookConfiguration",
		   "not-installed");
	rounds(f, 2);
	assert_int_equal(logged(f, "CA bundle injected"), 2);
	assert_int_equal(logged(f, warn), 1);
	/* a new failure after that is said again, once */
	fk_fail(&f->fk, FK_GET, "validatingwebhookconfigurations", GV_EIO,
		KUBE_ERR_FORBIDDEN, 403, 1000);
	rounds(f, 3);
	assert_int_equal(logged(f, warn), 2);
}

static void test_conflict_is_no_failure(void **state)
{
	fixture *f = *state;

	/* another replica created the Secret first: no failure, the next
	 * round reads what is there */
	fk_fail(&f->fk, FK_CREATE, "secrets", GV_EEXIST,
		KUBE_ERR_ALREADY_EXISTS, 409, 1);
	start(f, both_hooks, true);
	rounds(f, 2);
	assert_true(atomic_load(&f->loaded));
	assert_int_equal(
	    logged(f, "cannot renew the certificate or inject the CA"), 0);
	assert_int_equal(fk_count(&f->fk, FK_CREATE, "secrets"), 2);
}

static void test_leadership_moves(void **state)
{
	fixture *f = *state;
	size_t w = 0;
	size_t hooks = 0;

	start(f, both_hooks, true);
	tu_wait_until(is_loaded, &f->loaded, WAIT_MS);
	rounds(f, 1);
	w = writes(f);
	assert_true(w >= 1);
	/* a follower now: it reads the Secret, touches nothing else */
	atomic_store(&f->leader.leading, false);
	rounds(f, 1); /* the round under way may still be the leader's */
	hooks = fk_count(&f->fk, FK_GET, "mutatingwebhookconfigurations");
	w = writes(f);
	rounds(f, 3);
	assert_int_equal(
	    fk_count(&f->fk, FK_GET, "mutatingwebhookconfigurations"), hooks);
	assert_int_equal(writes(f), w);
	/* leading again: its rounds check the caBundles again (nothing to
	 * write: all is current) */
	atomic_store(&f->leader.leading, true);
	rounds(f, 2);
	assert_true(fk_count(&f->fk, FK_GET, "mutatingwebhookconfigurations") >
		    hooks);
	assert_int_equal(writes(f), w);
	assert_int_equal(generation(f), 1);
}

static void test_period_and_bad_names(void **state)
{
	fixture *f = *state;
	const char *const minute[] = { "--cert-validity", "60s", NULL };
	const char *const second[] = { "--cert-validity", "1s", NULL };
	char svc[251];
	const char *const long_svc[] = { "--cert-service", svc, NULL };
	const char *const year[] = { "--cert-validity", "8760h", NULL };
	gv_error_t err = GV_ERROR_INIT;

	/* a twentieth of the certificate's life, within 200 ms .. 10 s */
	start(f, minute, false);
	assert_int_equal(f->s.period_ms, 3000);
	srv_certsync_stop(&f->s);
	start(f, second, false);
	assert_int_equal(f->s.period_ms, 200);
	srv_certsync_stop(&f->s);
	start(f, year, false);
	assert_int_equal(f->s.period_ms, 10000);
	srv_certsync_stop(&f->s);
	/* a Service whose DNS names cannot be certified */
	memset(svc, 'a', sizeof(svc) - 1);
	svc[sizeof(svc) - 1] = '\0';
	configure(f, long_svc);
	assert_int_equal(srv_certsync_start(&f->s, &f->client, &f->c, NS,
					    &f->store, &f->leader, &f->log,
					    f->met, &f->loaded, &err),
			 GV_EINVAL);
	assert_non_null(strstr(err.text, "longer than 253 characters"));
	assert_false(f->s.running);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_leader_creates_injects_and_serves, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_follower_waits_then_follows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_follower_cannot_load,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_leader_failure_logged_once_until_it_clears, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_conflict_is_no_failure,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_leadership_moves, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_period_and_bad_names,
						setup, teardown),
	};

	return cmocka_run_group_tests_name("certsync", tests, NULL, NULL);
}
