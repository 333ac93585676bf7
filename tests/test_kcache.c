/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_kcache.c: the webhooks' cache over the informers' stores
 * (server/srv_kcache.c) on its own. The stores are filled by the test as
 * the informers would fill them; the live GET of a miss goes to the
 * in-process fake API server of test_fake_kube.h. Covered: not synced,
 * cache hits (no request), a miss asked for once live (found, missing,
 * unreachable), misses never cached, and the two lookups of the policy:
 * ResourceClaimTemplates (V14, through the served resource.k8s.io
 * version) and ClusterTopologyBindings (V20, cluster-scoped).
 */
#include <unistd.h>

#include "test_util.h"

#include "srv_kcache.h"
#include "test_fake_kube.h"

static const kube_gvr pcs_gvr = { "grove.io", "v1alpha1", "podcliquesets",
				  true };
static const kube_gvr ctb_gvr = { "grove.io", "v1alpha1",
				  "clustertopologybindings", false };

typedef struct fixture {
	fake_kube fk;
	srv_kcache k;
	srv_cache cache;
} fixture;

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	int i = 0;

	if (!f)
		return -1;
	fk_init(&f->fk);
	/* as srv_kcache_start leaves it, without the connection: every
	 * store started, the claim templates served as v1 */
	for (i = 0; i < SRV_KC_COUNT; i++) {
		if (kube_store_init(&f->k.stores[i], NULL) != GV_OK)
			return -1;
		f->k.started[i] = true;
	}
	f->k.claims_served = true;
	snprintf(f->k.claims.version, sizeof(f->k.claims.version), "v1");
	f->k.claims.known = true;
	fk_attach(&f->fk, &f->k.lookup);
	fk_attach(&f->fk, &f->k.kc.client);
	f->cache = srv_kcache_cache(&f->k);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	int i = 0;

	for (i = 0; i < SRV_KC_COUNT; i++)
		kube_store_release(&f->k.stores[i]);
	fk_release(&f->fk);
	free(f);
	return 0;
}

static void sync_all(fixture *f)
{
	int i = 0;

	for (i = 0; i < SRV_KC_COUNT; i++)
		kube_store_set_synced(&f->k.stores[i], true);
}

static json_t *object(const char *kind, const char *ns, const char *name)
{
	json_t *o = ns ? json_pack("{s:s, s:{s:s, s:s}}", "kind", kind,
				   "metadata", "name", name, "namespace", ns)
		       : json_pack("{s:s, s:{s:s}}", "kind", kind, "metadata",
				   "name", name);

	assert_non_null(o);
	return o;
}

/* Puts an object into store i, as its informer would. */
static void cached(fixture *f, int i, json_t *obj)
{
	assert_int_equal(kube_store_put(&f->k.stores[i], obj, NULL), GV_OK);
}

/* An object only the API server has. */
static void live(fixture *f, const kube_gvr *gvr, const char *ns, json_t *obj)
{
	fk_put(&f->fk, gvr, ns, obj);
	json_decref(obj);
}

static srv_cache_result get(fixture *f, const char *kind, const char *ns,
			    const char *name, json_t **obj)
{
	*obj = NULL;
	return f->cache.ops->get(f->cache.ctx, kind, ns, name, obj);
}

static size_t live_gets(fixture *f)
{
	return fk_count_from(&f->fk, &f->k.lookup, FK_GET, "");
}

static void test_not_synced(void **state)
{
	fixture *f = *state;
	json_t *obj = NULL;

	/* before the first list: "cannot tell", and no request */
	assert_false(f->cache.ops->synced(f->cache.ctx));
	assert_int_equal(get(f, SRV_KIND_PCS, "inference", "a", &obj),
			 SRV_CACHE_NOT_SYNCED);
	sync_all(f);
	assert_true(f->cache.ops->synced(f->cache.ctx));
	kube_store_set_synced(&f->k.stores[SRV_KC_CTB], false);
	assert_false(f->cache.ops->synced(f->cache.ctx));
	assert_int_equal(get(f, SRV_KIND_CTB, NULL, "grove-topology", &obj),
			 SRV_CACHE_NOT_SYNCED);
	/* the others answer meanwhile */
	assert_int_equal(get(f, SRV_KIND_PCS, "inference", "a", &obj),
			 SRV_CACHE_MISSING);
	/* a store never started (no DRA in the cluster) does not hold the
	 * cache back, and cannot answer */
	kube_store_set_synced(&f->k.stores[SRV_KC_CTB], true);
	kube_store_set_synced(&f->k.stores[SRV_KC_CLAIMS], false);
	f->k.started[SRV_KC_CLAIMS] = false;
	assert_true(f->cache.ops->synced(f->cache.ctx));
	assert_int_equal(
	    get(f, SRV_KIND_CLAIM_TEMPLATE, "inference", "t", &obj),
	    SRV_CACHE_NOT_SYNCED);
	/* a kind the cache does not watch */
	assert_int_equal(get(f, "Deployment", "inference", "d", &obj),
			 SRV_CACHE_NOT_SYNCED);
	assert_int_equal(live_gets(f), 1);
}

static void test_hit_asks_nothing(void **state)
{
	fixture *f = *state;
	json_t *obj = NULL;
	json_t *want = object(SRV_KIND_PCS, "inference", "vllm");

	sync_all(f);
	cached(f, SRV_KC_PCS, json_incref(want));
	assert_int_equal(get(f, SRV_KIND_PCS, "inference", "vllm", &obj),
			 SRV_CACHE_FOUND);
	/* the cached object itself, shared read-only */
	assert_ptr_equal(obj, want);
	json_decref(obj);
	/* another namespace is another object */
	assert_int_equal(get(f, SRV_KIND_PCS, "other", "vllm", &obj),
			 SRV_CACHE_MISSING);
	assert_int_equal(live_gets(f), 1);
	json_decref(want);
}

static void test_miss_is_asked_once_live(void **state)
{
	fixture *f = *state;
	json_t *obj = NULL;

	sync_all(f);
	/* created a moment ago: its watch event has not arrived */
	live(f, &pcs_gvr, "inference",
	     object(SRV_KIND_PCS, "inference", "new"));
	assert_int_equal(get(f, SRV_KIND_PCS, "inference", "new", &obj),
			 SRV_CACHE_FOUND);
	assert_string_equal(json_string_value(json_object_get(
				json_object_get(obj, "metadata"), "name")),
			    "new");
	json_decref(obj);
	assert_int_equal(live_gets(f), 1);
	assert_int_equal(fk_count(&f->fk, FK_GET, "podcliquesets"), 1);
	/* absent there too: missing, after exactly one request */
	assert_int_equal(get(f, SRV_KIND_PCS, "inference", "none", &obj),
			 SRV_CACHE_MISSING);
	assert_null(obj);
	assert_int_equal(live_gets(f), 2);
	/* a miss is not remembered: created now, found at the next ask */
	live(f, &pcs_gvr, "inference",
	     object(SRV_KIND_PCS, "inference", "none"));
	assert_int_equal(get(f, SRV_KIND_PCS, "inference", "none", &obj),
			 SRV_CACHE_FOUND);
	json_decref(obj);
	assert_int_equal(live_gets(f), 3);
	/* the API server cannot answer: "cannot tell", never "missing" */
	fk_fail(&f->fk, FK_GET, "", GV_EIO, KUBE_ERR_TRANSPORT, 0, 1);
	assert_int_equal(get(f, SRV_KIND_PCLQ, "inference", "x", &obj),
			 SRV_CACHE_NOT_SYNCED);
	fk_fail(&f->fk, FK_GET, "", GV_EIO, KUBE_ERR_FORBIDDEN, 403, 1);
	assert_int_equal(get(f, SRV_KIND_PCSG, "inference", "x", &obj),
			 SRV_CACHE_NOT_SYNCED);
	assert_int_equal(live_gets(f), 5);
	/* only through the lookup client, with its short budget */
	assert_int_equal(fk_count_from(&f->fk, &f->k.kc.client, FK_GET, ""), 0);
}

/* V20: the binding is cluster-scoped, whatever namespace asks. */
static void test_topology_lookup(void **state)
{
	fixture *f = *state;
	json_t *obj = NULL;
	json_t *binding = json_pack(
	    "{s:s, s:{s:s}, s:{s:[{s:s, s:s}]}}", "kind", SRV_KIND_CTB,
	    "metadata", "name", "grove-topology", "spec", "levels", "domain",
	    "zone", "key", "topology.kubernetes.io/zone");

	sync_all(f);
	cached(f, SRV_KC_CTB, binding);
	assert_int_equal(
	    get(f, SRV_KIND_CTB, "inference", "grove-topology", &obj),
	    SRV_CACHE_FOUND);
	assert_int_equal(json_array_size(json_object_get(
			     json_object_get(obj, "spec"), "levels")),
			 1);
	json_decref(obj);
	assert_int_equal(live_gets(f), 0);
	/* a miss asks for the cluster-scoped object */
	live(f, &ctb_gvr, NULL, object(SRV_KIND_CTB, NULL, "racks"));
	assert_int_equal(get(f, SRV_KIND_CTB, "inference", "racks", &obj),
			 SRV_CACHE_FOUND);
	json_decref(obj);
	assert_int_equal(get(f, SRV_KIND_CTB, "inference", "nope", &obj),
			 SRV_CACHE_MISSING);
	assert_int_equal(f->fk.n_calls, 2);
	assert_string_equal(f->fk.calls[0].resource, "clustertopologybindings");
	assert_string_equal(f->fk.calls[0].ns, "");
	assert_string_equal(f->fk.calls[1].name, "nope");
}

/* V14: templates are looked up through the served resource.k8s.io
 * version; a live hit answers a stub, enough to say "exists". */
static void test_claim_template_lookup(void **state)
{
	fixture *f = *state;
	json_t *obj = NULL;
	const kube_gvr v1 = { "resource.k8s.io", "v1", "resourceclaimtemplates",
			      true };
	const kube_gvr v1beta2 = { "resource.k8s.io", "v1beta2",
				   "resourceclaimtemplates", true };

	sync_all(f);
	cached(f, SRV_KC_CLAIMS,
	       object(SRV_KIND_CLAIM_TEMPLATE, "inference", "b200"));
	assert_int_equal(
	    get(f, SRV_KIND_CLAIM_TEMPLATE, "inference", "b200", &obj),
	    SRV_CACHE_FOUND);
	json_decref(obj);
	assert_int_equal(live_gets(f), 0);
	/* created a moment ago: found live, as a stub of kind and name */
	live(f, &v1, "inference",
	     object(SRV_KIND_CLAIM_TEMPLATE, "inference", "h200"));
	assert_int_equal(
	    get(f, SRV_KIND_CLAIM_TEMPLATE, "inference", "h200", &obj),
	    SRV_CACHE_FOUND);
	assert_string_equal(json_string_value(json_object_get(obj, "kind")),
			    SRV_KIND_CLAIM_TEMPLATE);
	assert_string_equal(json_string_value(json_object_get(
				json_object_get(obj, "metadata"), "namespace")),
			    "inference");
	json_decref(obj);
	/* nowhere: missing (V14 denies) */
	assert_int_equal(
	    get(f, SRV_KIND_CLAIM_TEMPLATE, "inference", "h100", &obj),
	    SRV_CACHE_MISSING);
	/* unreachable: cannot tell (V14 warns) */
	fk_fail(&f->fk, FK_GET, "resourceclaimtemplates", GV_EIO,
		KUBE_ERR_SERVER, 503, 1);
	assert_int_equal(
	    get(f, SRV_KIND_CLAIM_TEMPLATE, "inference", "h100", &obj),
	    SRV_CACHE_NOT_SYNCED);
	assert_int_equal(live_gets(f), 3);
	/* the version the cluster serves is the one asked */
	snprintf(f->k.claims.version, sizeof(f->k.claims.version), "v1beta2");
	assert_int_equal(
	    get(f, SRV_KIND_CLAIM_TEMPLATE, "inference", "h200", &obj),
	    SRV_CACHE_MISSING);
	live(f, &v1beta2, "inference",
	     object(SRV_KIND_CLAIM_TEMPLATE, "inference", "h200"));
	assert_int_equal(
	    get(f, SRV_KIND_CLAIM_TEMPLATE, "inference", "h200", &obj),
	    SRV_CACHE_FOUND);
	json_decref(obj);
	/* a cluster that serves none: cannot tell, no request */
	f->k.claims.version[0] = '\0';
	assert_int_equal(
	    get(f, SRV_KIND_CLAIM_TEMPLATE, "inference", "x", &obj),
	    SRV_CACHE_NOT_SYNCED);
	assert_int_equal(live_gets(f), 5);
}

/* The log lines that hold every one of the words (NULL-terminated). */
static int lines_with(const char *path, const char *const *words)
{
	FILE *in = fopen(path, "r");
	char line[LOG_LINE_MAX];
	int n = 0;

	assert_non_null(in);
	while (fgets(line, sizeof(line), in)) {
		size_t i = 0;

		while (words[i] && strstr(line, words[i]))
			i++;
		if (!words[i])
			n++;
	}
	fclose(in);
	return n;
}

/* The kube module's failures: each distinct text of a part is logged once
 * with the API server's words, until the part works again (one line). */
static void test_kube_errors_logged_once(void **state)
{
	char path[] = "/tmp/gv-kerrors.XXXXXX";
	int fd = mkstemp(path);
	log_ctx lg;
	srv_kerrors e;
	gv_error_t forbidden = GV_ERROR_INIT;
	gv_error_t away = GV_ERROR_INIT;
	const char *const warn_lease[] = {
		"\"level\":\"warn\"",
		"cannot talk to the API server",
		"\"source\":\"lease groved-system/groved\"",
		"cannot update resource \\\"leases\\\"",
		"(HTTP 403)",
		NULL
	};
	const char *const warn_client[] = {
		"\"source\":\"client\"", "Couldn't connect to server (curl 7)",
		NULL
	};
	const char *const back[] = {
		"\"level\":\"info\"", "the API server answers again",
		"\"source\":\"lease groved-system/groved\"", NULL
	};
	const char *const any_warn[] = { "cannot talk to the API server",
					 NULL };

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(log_init(&lg, LOG_LVL_INFO, fd), GV_OK);
	srv_kerrors_init(&e, &lg);
	gv_error_set(&forbidden, GV_EIO, NULL, 0, 0,
		     "PUT /apis/coordination.k8s.io/v1/namespaces/"
		     "groved-system/leases/groved: forbidden: "
		     "leases.coordination.k8s.io \"groved\" is forbidden: User "
		     "\"system:serviceaccount:groved-system:groved\" cannot "
		     "update resource \"leases\" (HTTP 403)");
	gv_error_set(&away, GV_EIO, NULL, 0, 0,
		     "GET https://10.0.0.1:6443/api/v1/pods: transport error: "
		     "Couldn't connect to server (curl 7)");
	/* every round fails alike: one line */
	srv_kerrors_report(&e, "lease groved-system/groved", &forbidden);
	srv_kerrors_report(&e, "lease groved-system/groved", &forbidden);
	srv_kerrors_report(&e, "lease groved-system/groved", &forbidden);
	assert_int_equal(lines_with(path, warn_lease), 1);
	/* another part is another line, also once */
	srv_kerrors_report(&e, "client", &away);
	srv_kerrors_report(&e, "client", &away);
	assert_int_equal(lines_with(path, warn_client), 1);
	/* the lease works again: said once; the client still fails */
	srv_kerrors_report(&e, "lease groved-system/groved", NULL);
	srv_kerrors_report(&e, "lease groved-system/groved", NULL);
	srv_kerrors_report(&e, "client", &away);
	assert_int_equal(lines_with(path, back), 1);
	assert_int_equal(lines_with(path, any_warn), 2);
	/* and fails again: a new line */
	srv_kerrors_report(&e, "lease groved-system/groved", &forbidden);
	assert_int_equal(lines_with(path, warn_lease), 2);
	/* a part that never failed says nothing when it works */
	srv_kerrors_report(&e, "informer pods", NULL);
	assert_int_equal(lines_with(path, any_warn), 3);
	srv_kerrors_release(&e);
	log_release(&lg);
	close(fd);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kube_errors_logged_once),
		cmocka_unit_test_setup_teardown(test_not_synced, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_hit_asks_nothing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_miss_is_asked_once_live,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_topology_lookup, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_claim_template_lookup,
						setup, teardown),
	};

	return cmocka_run_group_tests_name("kcache", tests, NULL, NULL);
}
