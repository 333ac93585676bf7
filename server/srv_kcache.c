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
	char why[256];

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
	switch (kube_conn_claim_template(&k->kc, &k->lookup, ns, name, why,
					 sizeof(why))) {
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

int srv_kcache_start(srv_kcache *k, const char *kubeconfig, gv_error_t *err)
{
	char why[256];
	int rc = GV_OK;
	int i = 0;

	memset(k, 0, sizeof(*k));
	rc = kube_connect(&k->kc, kubeconfig, NULL, err);
	if (rc != GV_OK)
		return rc;
	rc = kube_conn_client(&k->kc, SRV_KC_LOOKUP_MS, 1, &k->lookup, err);
	if (rc != GV_OK) {
		kube_conn_release(&k->kc);
		return rc;
	}
	k->lookup_ready = true;
	/* which resource.k8s.io version serves claim templates; none is a
	 * cluster without DRA: V14 then warns that it was not checked */
	k->claims_served =
	    kube_conn_claim_version(&k->kc, NULL, why, sizeof(why)) ==
	    POL_LOOKUP_FOUND;
	for (i = 0; i < SRV_KC_COUNT; i++) {
		kube_informer_opts o;

		if (i == SRV_KC_CLAIMS && !k->claims_served)
			continue;
		memset(&o, 0, sizeof(o));
		o.gvr = gvrs[i];
		if (i == SRV_KC_CLAIMS)
			o.gvr.version = k->kc.claim_version;
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

void srv_kcache_stop(srv_kcache *k)
{
	int i = 0;

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
}
