/* SPDX-License-Identifier: Apache-2.0 */
/*
 * srv_kcache.h: the webhooks' cache (srv_cache) over informers of the
 * cluster: PodCliqueSets, PodCliques, ClusterTopologyBindings and
 * ResourceClaimTemplates, watched by every replica of `groved serve`;
 * the cluster lookups of V14 and V20 (pol_lookup) that `groved validate
 * --kubeconfig` makes; and the log of the kube module's failures.
 */
#ifndef GROVED_SRV_KCACHE_H
#define GROVED_SRV_KCACHE_H

#include <pthread.h>

#include "groved/kube.h"
#include "groved/policy.h"
#include "srv_cache.h"
#include "srv_log.h"

/* ---- the kube module's failures, logged once each ---------------------- */

#define SRV_KERR_MAX 16

/* One line per distinct failure of each part (the client, an informer,
 * the lease) until that part works again; then one line that says so. */
typedef struct srv_kerrors {
	pthread_mutex_t lock;
	log_ctx *log; /* borrowed; NULL logs nothing */
	struct {
		char what[96]; /* "client", "informer pods", "lease ns/name" */
		char last[GV_ERROR_TEXT_MAX]; /* logged; "" once cleared */
	} part[SRV_KERR_MAX];
	size_t n;
	bool ready;
} srv_kerrors;

void srv_kerrors_init(srv_kerrors *e, log_ctx *log);
void srv_kerrors_release(srv_kerrors *e);
/* A kube_error_fn (groved/kube.h); ctx is a srv_kerrors. Logs at warn
 * `cannot talk to the API server` with "source" (what) and "error" (the
 * API server's words), once until the text changes; when the part works
 * again, at info `the API server answers again`. */
void srv_kerrors_report(void *ctx, const char *what, const gv_error_t *err);

/* ---- the cluster lookups of V14 and V20 -------------------------------- */

/* The resource.k8s.io version that serves ResourceClaimTemplates, found
 * on first use: "v1", "v1beta2", "v1beta1"; "" when none. */
typedef struct srv_claim_api {
	char version[16];
	bool known;
} srv_claim_api;

/* A connection with its claim API: the ctx of the pol_lookup functions
 * srv_lookup_claim_template and srv_lookup_topology. */
typedef struct srv_kconn {
	kube_conn kc;
	srv_claim_api claims;
} srv_kconn;

/* kube_connect() into k->kc, claims unknown. Returns as kube_connect. */
int srv_kconn_connect(srv_kconn *k, const char *kubeconfig, const char *context,
		      gv_error_t *err);
void srv_kconn_release(srv_kconn *k);

/*
 * Finds the claim API once (cached in *api) by listing one item of each
 * version in ns (NULL: every namespace) through kc's client: GV_OK
 * (api->version is it), GV_ENOTFOUND (the cluster serves none), or the
 * failure of the list with err filled (the API server's words).
 */
int srv_claim_version(kube_conn *kc, srv_claim_api *api, const char *ns,
		      gv_error_t *err);

/* A claim template by name through client (kc's, or a kube_conn_client
 * with its own budget): found, missing, or unknown with why (a note:
 * the webhook then warns "not checked"). */
pol_lookup_result srv_claim_template(kube_conn *kc, srv_claim_api *api,
				     kube_client *client, const char *ns,
				     const char *name, char *why,
				     size_t why_size);

/* pol_lookup functions over a srv_kconn (ctx): found, missing, or
 * unknown with why (API server unreachable, API not served). */
pol_lookup_result srv_lookup_claim_template(void *ctx, const char *ns,
					    const char *name, char *why,
					    size_t why_size);
pol_lookup_result srv_lookup_topology(void *ctx, const char *name,
				      json_t **levels, char *why,
				      size_t why_size);

/* ---- the cache ---------------------------------------------------------- */

enum {
	SRV_KC_PCS,
	SRV_KC_PCLQ,
	SRV_KC_PCSG,
	SRV_KC_CTB,
	SRV_KC_CLAIMS,
	SRV_KC_COUNT
};

typedef struct srv_kcache {
	kube_conn kc;
	srv_claim_api claims; /* the claim templates' API version */
	srv_kerrors errors; /* the log of kc's and lookup's failures */
	kube_store stores[SRV_KC_COUNT];
	kube_informer informers[SRV_KC_COUNT];
	bool started[SRV_KC_COUNT];
	bool claims_served; /* the cluster serves ResourceClaimTemplates */
	/* the live GET of a cache miss, on a webhook's thread: one attempt
	 * of SRV_KC_LOOKUP_MS, well inside kube-apiserver's 10 s */
	kube_client lookup;
	bool lookup_ready;
} srv_kcache;

#define SRV_KC_LOOKUP_MS 2000

/*
 * Connects with kubeconfig (NULL: $KUBECONFIG, ~/.kube/config, then the
 * in-cluster configuration) and starts the informers. The failures of the
 * clients, the informers and of a lease elector on k->kc.client are
 * logged on log (borrowed; may be NULL) once each (srv_kerrors). Returns
 * GV_OK, or the connection's error with err filled (nothing left to
 * stop).
 */
int srv_kcache_start(srv_kcache *k, const char *kubeconfig, log_ctx *log,
		     gv_error_t *err);
/* Stops the informers and frees everything. */
void srv_kcache_stop(srv_kcache *k);
/* Asks the informers to stop, without waiting: the caches stay readable
 * (no longer updated) until srv_kcache_stop, which then ends at once. */
void srv_kcache_signal(srv_kcache *k);
/* The cache interface over k (borrowed: k must outlive it). */
srv_cache srv_kcache_cache(srv_kcache *k);

#endif
