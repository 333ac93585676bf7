/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_leader.c: who leads among groved's replicas (server/srv_leader.c
 * and the Lease elector under it, kube/kube_lease.c) on its own, against
 * the in-process fake API server of test_fake_kube.h.
 *
 * The elector's transitions are driven round by round with the clock in
 * the test's hands (kube_elector_round takes "now"): acquire a free
 * Lease, renew it, wait for another's, take an expired one, step down at
 * the renew deadline, lose a race, release on stop only after the
 * writers have stopped. srv_leader is then run as `groved serve` runs
 * it: without election it leads at once; with it, its thread acquires
 * the Lease, says so (flag, log, callback) and gives it up at stop.
 */
#include "test_util.h"

#include <unistd.h>

#include "srv_leader.h"
#include "test_fake_kube.h"

static const kube_gvr leases = { "coordination.k8s.io", "v1", "leases", true };

#define LEASE_MS 3000
#define RENEW_MS 2000
#define WAIT_MS 20000

/* One replica's elector and what its callbacks saw. */
typedef struct replica {
	kube_client client; /* never initialised: the fake answers */
	kube_elector e;
	fake_kube *fk;
	int started;
	int stopped;
	/* the Lease's holder when on_stopped ran: writers stop first */
	char holder_at_stop[64];
} replica;

typedef struct fixture {
	fake_kube fk;
	replica a;
	replica b;
} fixture;

static const char *lease_holder(fake_kube *fk, char *buf, size_t size)
{
	json_t *l = fk_object(fk, &leases, "groved-system", "groved-leader");
	const char *h = json_string_value(
	    json_object_get(json_object_get(l, "spec"), "holderIdentity"));

	snprintf(buf, size, "%s", l ? (h ? h : "") : "(none)");
	json_decref(l);
	return buf;
}

static json_int_t lease_int(fake_kube *fk, const char *field)
{
	json_t *l = fk_object(fk, &leases, "groved-system", "groved-leader");
	json_int_t v = json_integer_value(
	    json_object_get(json_object_get(l, "spec"), field));

	assert_non_null(l);
	json_decref(l);
	return v;
}

static void on_started(void *ctx)
{
	replica *r = ctx;

	r->started++;
}

static void on_stopped(void *ctx)
{
	replica *r = ctx;

	r->stopped++;
	lease_holder(r->fk, r->holder_at_stop, sizeof(r->holder_at_stop));
}

static void replica_init(fixture *f, replica *r, const char *identity)
{
	kube_elector_opts o;

	r->fk = &f->fk;
	fk_attach(&f->fk, &r->client);
	memset(&o, 0, sizeof(o));
	o.namespace = "groved-system";
	o.name = "groved-leader";
	o.identity = identity;
	o.lease_ms = LEASE_MS;
	o.renew_deadline_ms = RENEW_MS;
	o.retry_ms = 100;
	o.on_started = on_started;
	o.on_stopped = on_stopped;
	o.ctx = r;
	kube_elector_init(&r->e, &r->client, &o);
}

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	fk_init(&f->fk);
	replica_init(f, &f->a, "replica-a");
	replica_init(f, &f->b, "replica-b");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	fk_release(&f->fk);
	free(f);
	return 0;
}

static size_t writes_of(fixture *f, replica *r)
{
	return fk_count_from(&f->fk, &r->client, FK_CREATE, "leases") +
	       fk_count_from(&f->fk, &r->client, FK_UPDATE, "leases");
}

static void test_defaults(void **state)
{
	fixture *f = *state;
	kube_elector e;
	kube_elector_opts o;

	memset(&o, 0, sizeof(o));
	kube_elector_init(&e, &f->a.client, &o);
	/* client-go's: 15 s lease, 10 s renew deadline, 2 s retry */
	assert_int_equal(e.o.lease_ms, 15000);
	assert_int_equal(e.o.renew_deadline_ms, 10000);
	assert_int_equal(e.o.retry_ms, 2000);
	assert_false(e.leading);
}

static void test_acquire_and_renew(void **state)
{
	fixture *f = *state;
	char h[64];
	json_t *l = NULL;
	char *acquired = NULL;
	char *renewed = NULL;

	/* no Lease: created, ours */
	assert_true(kube_elector_round(&f->a.e, 1000));
	assert_int_equal(f->a.started, 1);
	assert_string_equal(lease_holder(&f->fk, h, sizeof(h)), "replica-a");
	assert_int_equal(lease_int(&f->fk, "leaseDurationSeconds"), 3);
	assert_int_equal(lease_int(&f->fk, "leaseTransitions"), 0);
	l = fk_object(&f->fk, &leases, "groved-system", "groved-leader");
	acquired = strdup(json_string_value(
	    json_object_get(json_object_get(l, "spec"), "acquireTime")));
	renewed = strdup(json_string_value(
	    json_object_get(json_object_get(l, "spec"), "renewTime")));
	json_decref(l);
	/* renewed: an update (the same acquireTime, no new transition), no
	 * second start */
	assert_true(kube_elector_round(&f->a.e, 1100));
	assert_int_equal(f->a.started, 1);
	assert_int_equal(fk_count(&f->fk, FK_UPDATE, "leases"), 1);
	l = fk_object(&f->fk, &leases, "groved-system", "groved-leader");
	assert_string_equal(json_string_value(json_object_get(
				json_object_get(l, "spec"), "acquireTime")),
			    acquired);
	assert_non_null(json_string_value(
	    json_object_get(json_object_get(l, "spec"), "renewTime")));
	json_decref(l);
	assert_int_equal(lease_int(&f->fk, "leaseTransitions"), 0);
	free(acquired);
	free(renewed);
}

static void test_another_holder_waits_then_takes_over(void **state)
{
	fixture *f = *state;
	char h[64];
	size_t b_writes = 0;

	assert_true(kube_elector_round(&f->a.e, 1000));
	/* b sees a's lease: it waits, and writes nothing */
	assert_false(kube_elector_round(&f->b.e, 50000));
	assert_false(kube_elector_round(&f->b.e, 50000 + LEASE_MS - 1));
	assert_int_equal(writes_of(f, &f->b), 0);
	/* a renews: a new record, so b's wait starts again */
	assert_true(kube_elector_round(&f->a.e, 1500));
	assert_false(kube_elector_round(&f->b.e, 50000 + LEASE_MS));
	assert_false(kube_elector_round(&f->b.e, 50000 + 2 * LEASE_MS - 1));
	assert_int_equal(f->b.started, 0);
	/* a falls silent: lease_ms after b first saw the last record, on
	 * b's own clock, b takes it (a new transition) */
	b_writes = writes_of(f, &f->b);
	assert_true(kube_elector_round(&f->b.e, 50000 + 2 * LEASE_MS));
	assert_int_equal(f->b.started, 1);
	assert_int_equal(writes_of(f, &f->b), b_writes + 1);
	assert_string_equal(lease_holder(&f->fk, h, sizeof(h)), "replica-b");
	assert_int_equal(lease_int(&f->fk, "leaseTransitions"), 1);
	/* a comes back: it cannot renew b's lease; it believes it leads
	 * only until its renew deadline, then steps down */
	assert_true(kube_elector_round(&f->a.e, 1500 + RENEW_MS - 1));
	assert_int_equal(f->a.stopped, 0);
	assert_false(kube_elector_round(&f->a.e, 1500 + RENEW_MS));
	assert_int_equal(f->a.stopped, 1);
	assert_string_equal(lease_holder(&f->fk, h, sizeof(h)), "replica-b");
}

static void test_api_failures_step_down_at_the_deadline(void **state)
{
	fixture *f = *state;
	size_t writes = 0;

	assert_true(kube_elector_round(&f->a.e, 1000));
	/* the API server away (every GET fails): still leading before the
	 * renew deadline, not from it on */
	fk_fail(&f->fk, FK_GET, "leases", GV_EIO, KUBE_ERR_SERVER, 500, 100);
	assert_true(kube_elector_round(&f->a.e, 1000 + RENEW_MS / 2));
	assert_true(kube_elector_round(&f->a.e, 1000 + RENEW_MS - 1));
	assert_int_equal(f->a.stopped, 0);
	assert_false(kube_elector_round(&f->a.e, 1000 + RENEW_MS));
	assert_int_equal(f->a.stopped, 1);
	/* forbidden (no RBAC for leases): never leads, never writes */
	fk_heal(&f->fk);
	fk_fail(&f->fk, FK_GET, "leases", GV_EIO, KUBE_ERR_FORBIDDEN, 403, 100);
	writes = writes_of(f, &f->b);
	assert_false(kube_elector_round(&f->b.e, 1000));
	assert_int_equal(writes_of(f, &f->b), writes);
	assert_int_equal(f->b.started, 0);
	/* a renewal refused by the server counts as none */
	fk_heal(&f->fk);
	assert_true(kube_elector_round(&f->a.e, 9000));
	fk_fail(&f->fk, FK_UPDATE, "leases", GV_EIO, KUBE_ERR_FORBIDDEN, 403,
		100);
	assert_true(kube_elector_round(&f->a.e, 9000 + RENEW_MS - 1));
	assert_false(kube_elector_round(&f->a.e, 9000 + RENEW_MS));
	assert_int_equal(f->a.stopped, 2);
}

/* After a's GET of the free Lease, b takes it before a's write. */
static void b_takes_it(fake_kube *fk, const kube_gvr *gvr, const char *name,
		       void *ctx)
{
	replica *b = ctx;

	fk->after_get = NULL; /* once */
	assert_true(kube_elector_round(&b->e, 1000));
}

static void test_race_has_one_winner(void **state)
{
	fixture *f = *state;
	char h[64];
	gv_stopper stop; /* stopped: b's run releases at once */

	gv_stopper_init(&stop);
	gv_stopper_stop(&stop);
	/* both find no Lease; b creates it first: a's create fails */
	fk_fail(&f->fk, FK_CREATE, "leases", GV_EEXIST, KUBE_ERR_ALREADY_EXISTS,
		409, 1);
	assert_false(kube_elector_round(&f->a.e, 1000));
	assert_true(kube_elector_round(&f->b.e, 1000));
	/* a released (free) Lease: both read it, b writes first, a's
	 * update carries the resourceVersion it read: a Conflict */
	kube_elector_run(&f->b.e, &stop);
	assert_string_equal(lease_holder(&f->fk, h, sizeof(h)), "");
	f->fk.after_get = b_takes_it;
	f->fk.after_get_ctx = &f->b;
	assert_false(kube_elector_round(&f->a.e, 2000));
	assert_int_equal(f->a.started, 0);
	assert_string_equal(lease_holder(&f->fk, h, sizeof(h)), "replica-b");
	assert_true(f->b.e.leading);
	gv_stopper_release(&stop);
}

static void test_release_after_the_writers_stop(void **state)
{
	fixture *f = *state;
	gv_stopper stop;
	char h[64];
	size_t a_writes = 0;

	gv_stopper_init(&stop);
	gv_stopper_stop(&stop);
	assert_true(kube_elector_round(&f->a.e, 1000));
	/* stopping: on_stopped runs while the Lease still names a, then
	 * the Lease is given up (no holder, a one-second duration) */
	kube_elector_run(&f->a.e, &stop);
	assert_int_equal(f->a.stopped, 1);
	assert_string_equal(f->a.holder_at_stop, "replica-a");
	assert_string_equal(lease_holder(&f->fk, h, sizeof(h)), "");
	assert_int_equal(lease_int(&f->fk, "leaseDurationSeconds"), 1);
	assert_false(f->a.e.leading);
	/* so b takes it at once, without waiting out the lease */
	assert_true(kube_elector_round(&f->b.e, 1));
	/* a replica that does not lead releases nothing */
	a_writes = writes_of(f, &f->a);
	kube_elector_run(&f->a.e, &stop);
	assert_int_equal(writes_of(f, &f->a), a_writes);
	assert_int_equal(f->a.stopped, 1);
	assert_string_equal(lease_holder(&f->fk, h, sizeof(h)), "replica-b");
	gv_stopper_release(&stop);
}

/* ---- srv_leader, as groved serve runs it ------------------------------ */

typedef struct watcher {
	atomic_int changes;
} watcher;

static void on_change(void *ctx)
{
	watcher *w = ctx;

	atomic_fetch_add(&w->changes, 1);
}

static bool is_leading(void *arg)
{
	return srv_leader_leading(arg);
}

/* The log so far (the caller frees it). */
static char *log_text(const char *path)
{
	char *text = NULL;
	size_t len = 0;
	FILE *in = fopen(path, "r");
	FILE *mem = open_memstream(&text, &len);
	char buf[4096];
	size_t got = 0;

	assert_non_null(in);
	assert_non_null(mem);
	while ((got = fread(buf, 1, sizeof(buf), in)) > 0)
		fwrite(buf, 1, got, mem);
	fclose(in);
	fclose(mem);
	return text;
}

static void load_config(cfg_serve *c, const char *const *flags)
{
	const char *argv[16] = { "serve", "--self-signed", "/tmp/unused" };
	gv_error_t err = GV_ERROR_INIT;
	int argc = 3;

	assert_int_equal(cfg_serve_init(c), GV_OK);
	while (*flags)
		argv[argc++] = *flags++;
	if (cfg_serve_load(c, argc, (char **)argv, &err) != GV_OK)
		fail_msg("flags: %s", err.text);
}

static void test_srv_leader_elects(void **state)
{
	fixture *f = *state;
	const char *const flags[] = { "--leader-elect", "--leader-election-id",
				      "groved-leader", NULL };
	char path[] = "/tmp/gv-leader.XXXXXX";
	int fd = mkstemp(path);
	kube_client client;
	cfg_serve c;
	log_ctx lg;
	srv_leader l;
	watcher w;
	gv_error_t err = GV_ERROR_INIT;
	char h[64];
	char *text = NULL;

	assert_true(fd >= 0);
	assert_int_equal(log_init(&lg, LOG_LVL_INFO, fd), GV_OK);
	load_config(&c, flags);
	memset(&client, 0, sizeof(client));
	fk_attach(&f->fk, &client);
	atomic_init(&w.changes, 0);
	setenv("POD_NAME", "groved-7d9f-x2", 1);
	srv_leader_init(&l, &c, &lg, on_change, &w);
	unsetenv("POD_NAME");
	/* nothing asked, nothing led before the start */
	assert_false(srv_leader_leading(&l));
	assert_int_equal(fk_count(&f->fk, FK_GET, ""), 0);
	assert_int_equal(srv_leader_start(&l, &client, "groved-system", &err),
			 GV_OK);
	/* the elector's thread acquires the free Lease at once */
	tu_wait_until(is_leading, &l, WAIT_MS);
	assert_string_equal(lease_holder(&f->fk, h, sizeof(h)),
			    "groved-7d9f-x2");
	assert_int_equal(atomic_load(&w.changes), 1);
	/* stopping gives the Lease up and says so */
	srv_leader_stop(&l);
	assert_false(srv_leader_leading(&l));
	assert_string_equal(lease_holder(&f->fk, h, sizeof(h)), "");
	assert_int_equal(atomic_load(&w.changes), 2);
	text = log_text(path);
	assert_non_null(strstr(text, "\"msg\":\"leading\",\"lease\":"
				     "\"groved-leader\",\"identity\":"
				     "\"groved-7d9f-x2\""));
	assert_non_null(strstr(text, "\"msg\":\"no longer leading\""));
	free(text);
	cfg_serve_release(&c);
	log_release(&lg);
	close(fd);
	unlink(path);
}

static void test_srv_leader_without_election(void **state)
{
	fixture *f = *state;
	const char *const flags[] = { NULL };
	kube_client client;
	cfg_serve c;
	srv_leader l;
	watcher w;
	gv_error_t err = GV_ERROR_INIT;
	char host[128] = "";
	char want[160];

	load_config(&c, flags);
	memset(&client, 0, sizeof(client));
	fk_attach(&f->fk, &client);
	atomic_init(&w.changes, 0);
	unsetenv("POD_NAME");
	/* leads from the init, so the writers started before the leader
	 * act as leader from their first round; the start says so */
	srv_leader_init(&l, &c, NULL, on_change, &w);
	assert_true(srv_leader_leading(&l));
	assert_int_equal(atomic_load(&w.changes), 0);
	assert_int_equal(srv_leader_start(&l, &client, "groved-system", &err),
			 GV_OK);
	assert_true(srv_leader_leading(&l));
	assert_int_equal(atomic_load(&w.changes), 1);
	/* and asks the cluster nothing */
	assert_int_equal(fk_count(&f->fk, FK_GET, ""), 0);
	/* outside a pod the identity is host and pid: unique per process */
	assert_int_equal(gethostname(host, sizeof(host) - 1), 0);
	snprintf(want, sizeof(want), "%s_%ld", host, (long)getpid());
	assert_string_equal(l.identity, want);
	srv_leader_stop(&l);
	assert_false(srv_leader_leading(&l));
	cfg_serve_release(&c);
}

static void test_own_namespace(void **state)
{
	const char *const with_flag[] = { "--namespace", "from-flag", NULL };
	const char *const none[] = { NULL };
	cfg_serve c;

	(void)state;
	unsetenv("POD_NAMESPACE");
	unsetenv("KUBERNETES_SERVICE_HOST");
	load_config(&c, with_flag);
	setenv("POD_NAMESPACE", "from-env", 1);
	/* the flag first */
	assert_string_equal(srv_own_namespace(&c, "from-cluster"), "from-flag");
	cfg_serve_release(&c);
	load_config(&c, none);
	/* then the downward API's variable */
	assert_string_equal(srv_own_namespace(&c, "from-cluster"), "from-env");
	unsetenv("POD_NAMESPACE");
	/* the in-cluster namespace only in a cluster */
	assert_string_equal(srv_own_namespace(&c, "from-cluster"),
			    "groved-system");
	setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1", 1);
	assert_string_equal(srv_own_namespace(&c, "from-cluster"),
			    "from-cluster");
	assert_string_equal(srv_own_namespace(&c, NULL), "groved-system");
	unsetenv("KUBERNETES_SERVICE_HOST");
	cfg_serve_release(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_acquire_and_renew, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
		    test_another_holder_waits_then_takes_over, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_api_failures_step_down_at_the_deadline, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_race_has_one_winner, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
		    test_release_after_the_writers_stop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_srv_leader_elects, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
		    test_srv_leader_without_election, setup, teardown),
		cmocka_unit_test_setup_teardown(test_own_namespace, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("leader", tests, NULL, NULL);
}
