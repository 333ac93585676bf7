/* SPDX-License-Identifier: Apache-2.0 */
/*
 * srv_kcache.c: srv_cache over the informers' stores.
 *
 * A store that has not finished its first list answers "not synced", so
 * the webhooks warn instead of deny while groved starts. An object
 * missing from the cache is asked for once, live, before the answer is
 * "missing": it may have been created a moment ago (docs/api.md 4.4).
 * That GET has its own client with a short budget (SRV_KC_LOOKUP_MS, one
 * attempt): a slow API server makes a warning, not a stuck webhook.
 */
#include "srv_kcache.h"

/* ---- the kube module's failures, logged once each ---------------------- */

void srv_kerrors_init(srv_kerrors *e, log_ctx *log)
{
	memset(e, 0, sizeof(*e));
	pthread_mutex_init(&e->lock, NULL);
	e->log = log;
	e->ready = true;
}

void srv_kerrors_release(srv_kerrors *e)
{
	if (!e || !e->ready)
		return;
	pthread_mutex_destroy(&e->lock);
	memset(e, 0, sizeof(*e));
}

void srv_kerrors_report(void *ctx, const char *what, const gv_error_t *err)
{
	srv_kerrors *e = ctx;
	char *last = NULL;
	size_t i = 0;

	if (!e || !e->ready || !what)
		return;
	pthread_mutex_lock(&e->lock);
	for (i = 0; i < e->n; i++) {
		if (strcmp(e->part[i].what, what) == 0)
			break;
	}
	if (i == e->n && err && e->n < SRV_KERR_MAX) {
		snprintf(e->part[i].what, sizeof(e->part[i].what), "%s", what);
		e->part[i].last[0] = '\0';
		e->n++;
	}
	if (i < e->n)
		last = e->part[i].last;
	if (last && err)
		log_once(e->log, LOG_LVL_WARN, __func__, last,
			 sizeof(e->part[i].last),
			 "cannot talk to the API server", "source", what,
			 err->text);
	else if (last && log_once_clear(last))
		LOG_INFO(e->log, "the API server answers again",
			 LOG_STR("source", what));
	pthread_mutex_unlock(&e->lock);
}

/* ---- the cluster lookups of V14 and V20 -------------------------------- */

/* Versions of resource.k8s.io that serve ResourceClaimTemplates, newest
 * first: which one a cluster serves depends on its Kubernetes version. */
static const char *const claim_versions[] = { "v1", "v1beta2", "v1beta1",
					      NULL };

int srv_kconn_connect(srv_kconn *k, const char *kubeconfig, const char *context,
		      gv_error_t *err)
{
	memset(&k->claims, 0, sizeof(k->claims));
	return kube_connect(&k->kc, kubeconfig, context, err);
}

void srv_kconn_release(srv_kconn *k)
{
	if (!k)
		return;
	kube_conn_release(&k->kc);
	memset(&k->claims, 0, sizeof(k->claims));
}

/* Why a request got no answer, for a "not checked" warning. */
static void unreachable(const kube_result *res, char *why, size_t size)
{
	snprintf(why, size, "cannot ask the API server (%s%s%s)",
		 kube_strerror(res->kind), res->message[0] ? ": " : "",
		 res->message);
}

/* The first claim-template version the cluster serves: a list of one
 * item answers 404 when the version is not served. */
int srv_claim_version(kube_conn *kc, srv_claim_api *api, const char *ns,
		      gv_error_t *err)
{
	size_t i = 0;

	if (api->known)
		return api->version[0] ? GV_OK : GV_ENOTFOUND;
	for (i = 0; claim_versions[i]; i++) {
		kube_gvr gvr = { "resource.k8s.io", claim_versions[i],
				 "resourceclaimtemplates", true };
		kube_query q = { NULL, NULL, 1, NULL, NULL, NULL };
		kube_list_page page;
		kube_result res;
		int rc = GV_OK;

		memset(&page, 0, sizeof(page));
		rc = kube_list(&kc->client, &gvr, ns, &q, &page, &res, err);
		kube_list_page_release(&page);
		if (rc == GV_OK) {
			snprintf(api->version, sizeof(api->version), "%s",
				 claim_versions[i]);
			api->known = true;
			return GV_OK;
		}
		/* in the words a "not checked" warning has always used */
		if (res.kind != KUBE_ERR_NOT_FOUND)
			return gv_error_set(err, rc, NULL, 0, 0,
					    "cannot ask the API server "
					    "(%s%s%s)",
					    kube_strerror(res.kind),
					    res.message[0] ? ": " : "",
					    res.message);
	}
	api->known = true;
	api->version[0] = '\0';
	return gv_error_set(err, GV_ENOTFOUND, NULL, 0, 0,
			    "the cluster serves no ResourceClaimTemplates "
			    "(resource.k8s.io v1, v1beta2 or v1beta1)");
}

pol_lookup_result srv_claim_template(kube_conn *kc, srv_claim_api *api,
				     kube_client *client, const char *ns,
				     const char *name, char *why,
				     size_t why_size)
{
	kube_gvr gvr = { "resource.k8s.io", NULL, "resourceclaimtemplates",
			 true };
	kube_result res;
	gv_error_t err = GV_ERROR_INIT;
	json_t *obj = NULL;
	int rc = srv_claim_version(kc, api, ns, &err);

	if (rc != GV_OK) {
		/* the list's own words: the API server's, or "serves no" */
		snprintf(why, why_size, "%s", err.text);
		return POL_LOOKUP_UNKNOWN;
	}
	gvr.version = api->version;
	rc = kube_get(client, &gvr, ns, name, NULL, &obj, &res, &err);
	json_decref(obj);
	if (rc == GV_OK)
		return POL_LOOKUP_FOUND;
	if (res.kind == KUBE_ERR_NOT_FOUND)
		return POL_LOOKUP_MISSING;
	unreachable(&res, why, why_size);
	return POL_LOOKUP_UNKNOWN;
}

pol_lookup_result srv_lookup_claim_template(void *ctx, const char *ns,
					    const char *name, char *why,
					    size_t why_size)
{
	srv_kconn *k = ctx;

	return srv_claim_template(&k->kc, &k->claims, &k->kc.client, ns, name,
				  why, why_size);
}

pol_lookup_result srv_lookup_topology(void *ctx, const char *name,
				      json_t **levels, char *why,
				      size_t why_size)
{
	srv_kconn *k = ctx;
	kube_gvr gvr = { "grove.io", "v1alpha1", "clustertopologybindings",
			 false };
	kube_result res;
	gv_error_t err = GV_ERROR_INIT;
	json_t *obj = NULL;
	int rc =
	    kube_get(&k->kc.client, &gvr, NULL, name, NULL, &obj, &res, &err);

	if (rc == GV_OK) {
		json_t *l =
		    json_object_get(json_object_get(obj, "spec"), "levels");

		*levels = l ? json_incref(l) : json_array();
		json_decref(obj);
		return *levels ? POL_LOOKUP_FOUND : POL_LOOKUP_UNKNOWN;
	}
	/* the CRD missing is also "no such binding" to the user */
	if (res.kind == KUBE_ERR_NOT_FOUND)
		return POL_LOOKUP_MISSING;
	unreachable(&res, why, why_size);
	return POL_LOOKUP_UNKNOWN;
}

/* ---- the cache ---------------------------------------------------------- */

static const kube_gvr gvrs[SRV_KC_COUNT] = {
	[SRV_KC_PCS] = { "grove.io", "v1alpha1", "podcliquesets", true },
	[SRV_KC_PCLQ] = { "grove.io", "v1alpha1", "podcliques", true },
	[SRV_KC_PCSG] = { "grove.io", "v1alpha1", "podcliquescalinggroups",
			  true },
	[SRV_KC_CTB] = { "grove.io", "v1alpha1", "clustertopologybindings",
			 false },
	[SRV_KC_CLAIMS] = { "resource.k8s.io", NULL, "resourceclaimtemplates",
			    true },
};

static int store_of(const char *kind)
{
	if (strcmp(kind, SRV_KIND_PCS) == 0)
		return SRV_KC_PCS;
	if (strcmp(kind, SRV_KIND_PCLQ) == 0)
		return SRV_KC_PCLQ;
	if (strcmp(kind, SRV_KIND_PCSG) == 0)
		return SRV_KC_PCSG;
	if (strcmp(kind, SRV_KIND_CTB) == 0)
		return SRV_KC_CTB;
	if (strcmp(kind, SRV_KIND_CLAIM_TEMPLATE) == 0)
		return SRV_KC_CLAIMS;
	return -1;
}

/* A miss may be an object created a moment ago whose watch event has not
 * arrived (`kubectl apply` then `kubectl scale` at once): one live GET
 * before "missing", so the answer is never a false allow or deny. An
 * unreachable API server answers "not synced": the hooks then warn. */
static srv_cache_result live_get(srv_kcache *k, int i, const char *ns,
				 const char *name, json_t **obj)
{
	kube_result res;
	gv_error_t err = GV_ERROR_INIT;
	json_t *found = NULL;
	int rc = kube_get(&k->lookup, &gvrs[i], gvrs[i].namespaced ? ns : NULL,
			  name, NULL, &found, &res, &err);

	if (rc == GV_OK) {
		*obj = found;
		return SRV_CACHE_FOUND;
	}
	return res.kind == KUBE_ERR_NOT_FOUND ? SRV_CACHE_MISSING
					      : SRV_CACHE_NOT_SYNCED;
}

static srv_cache_result kc_get(void *ctx, const char *kind, const char *ns,
			       const char *name, json_t **obj)
{
	srv_kcache *k = ctx;
	int i = store_of(kind);
	json_t *found = NULL;
	char why[GV_ERROR_TEXT_MAX];

	if (i < 0 || !k->started[i] || !kube_store_synced(&k->stores[i]))
		return SRV_CACHE_NOT_SYNCED;
	found =
	    kube_store_get(&k->stores[i], i == SRV_KC_CTB ? NULL : ns, name);
	if (found) {
		*obj = found;
		return SRV_CACHE_FOUND;
	}
	if (i != SRV_KC_CLAIMS)
		return live_get(k, i, ns, name, obj);
	/* templates: through the served resource.k8s.io version */
	switch (srv_claim_template(&k->kc, &k->claims, &k->lookup, ns, name,
				   why, sizeof(why))) {
	case POL_LOOKUP_FOUND:
		*obj = json_pack("{s:s, s:{s:s, s:s}}", "kind",
				 SRV_KIND_CLAIM_TEMPLATE, "metadata", "name",
				 name, "namespace", ns);
		return *obj ? SRV_CACHE_FOUND : SRV_CACHE_NOT_SYNCED;
	case POL_LOOKUP_MISSING:
		return SRV_CACHE_MISSING;
	default:
		return SRV_CACHE_NOT_SYNCED;
	}
}

static bool kc_synced(void *ctx)
{
	srv_kcache *k = ctx;
	int i = 0;

	for (i = 0; i < SRV_KC_COUNT; i++) {
		if (k->started[i] && !kube_store_synced(&k->stores[i]))
			return false;
	}
	return true;
}

static const srv_cache_ops kc_ops = { kc_get, kc_synced };

srv_cache srv_kcache_cache(srv_kcache *k)
{
	srv_cache c = { &kc_ops, k };

	return c;
}

int srv_kcache_start(srv_kcache *k, const char *kubeconfig, log_ctx *log,
		     gv_error_t *err)
{
	gv_error_t cerr = GV_ERROR_INIT;
	int rc = GV_OK;
	int i = 0;

	memset(k, 0, sizeof(*k));
	rc = kube_connect(&k->kc, kubeconfig, NULL, err);
	if (rc != GV_OK)
		return rc;
	srv_kerrors_init(&k->errors, log);
	kube_client_on_error(&k->kc.client, srv_kerrors_report, &k->errors);
	rc = kube_conn_client(&k->kc, SRV_KC_LOOKUP_MS, 1, &k->lookup, err);
	if (rc != GV_OK) {
		kube_conn_release(&k->kc);
		srv_kerrors_release(&k->errors);
		return rc;
	}
	k->lookup_ready = true;
	kube_client_on_error(&k->lookup, srv_kerrors_report, &k->errors);
	/* which resource.k8s.io version serves claim templates; none is a
	 * cluster without DRA: V14 then warns that it was not checked */
	rc = srv_claim_version(&k->kc, &k->claims, NULL, &cerr);
	k->claims_served = rc == GV_OK;
	if (rc != GV_OK && rc != GV_ENOTFOUND)
		srv_kerrors_report(&k->errors, "claim templates", &cerr);
	rc = GV_OK;
	for (i = 0; i < SRV_KC_COUNT; i++) {
		kube_informer_opts o;

		if (i == SRV_KC_CLAIMS && !k->claims_served)
			continue;
		memset(&o, 0, sizeof(o));
		o.gvr = gvrs[i];
		if (i == SRV_KC_CLAIMS)
			o.gvr.version = k->claims.version;
		rc = kube_store_init(&k->stores[i], NULL);
		if (rc != GV_OK)
			break;
		rc = kube_informer_start(&k->informers[i], &k->kc.client,
					 &k->stores[i], &o, err);
		if (rc != GV_OK) {
			kube_store_release(&k->stores[i]);
			break;
		}
		k->started[i] = true;
	}
	if (rc != GV_OK)
		srv_kcache_stop(k);
	return rc;
}

void srv_kcache_signal(srv_kcache *k)
{
	int i = 0;

	/* all asked first: each watch takes up to a second to notice */
	for (i = 0; i < SRV_KC_COUNT; i++) {
		if (k->started[i])
			kube_informer_signal(&k->informers[i]);
	}
}

void srv_kcache_stop(srv_kcache *k)
{
	int i = 0;

	srv_kcache_signal(k);
	for (i = 0; i < SRV_KC_COUNT; i++) {
		if (!k->started[i])
			continue;
		kube_informer_stop(&k->informers[i]);
		kube_store_release(&k->stores[i]);
		k->started[i] = false;
	}
	if (k->lookup_ready)
		kube_client_release(&k->lookup);
	k->lookup_ready = false;
	kube_conn_release(&k->kc);
	srv_kerrors_release(&k->errors);
}
