/*
 * srv_kcache.h: the webhooks' cache (srv_cache) over informers of the
 * cluster: PodCliqueSets, PodCliques, ClusterTopologyBindings and
 * ResourceClaimTemplates, watched by every replica of `groved serve`.
 */
#ifndef GROVED_SRV_KCACHE_H
#define GROVED_SRV_KCACHE_H

#include "kube_connect.h"
#include "kube_informer.h"
#include "srv_cache.h"

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
 * in-cluster configuration) and starts the informers. Returns GV_OK, or
 * the connection's error with err filled (nothing left to stop).
 */
int srv_kcache_start(srv_kcache *k, const char *kubeconfig, gv_error_t *err);
/* Stops the informers and frees everything. */
void srv_kcache_stop(srv_kcache *k);
/* The cache interface over k (borrowed: k must outlive it). */
srv_cache srv_kcache_cache(srv_kcache *k);

#endif
