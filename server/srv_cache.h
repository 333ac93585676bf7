/* SPDX-License-Identifier: Apache-2.0 */
/*
 * srv_cache.h: how the webhooks read cluster state. The informers'
 * caches implement it (srv_kcache.h) when `groved serve` has a cluster;
 * without one it uses the unsynced cache. Tests fill an in-memory one
 * (tests/test_memcache.h).
 */
#ifndef GROVED_SRV_CACHE_H
#define GROVED_SRV_CACHE_H

#include <jansson.h>
#include <stdbool.h>

typedef enum {
	SRV_CACHE_FOUND = 0,
	SRV_CACHE_MISSING,
	SRV_CACHE_NOT_SYNCED, /* cannot tell: not synced or unreachable */
} srv_cache_result;

/* Kinds the webhooks look up. */
#define SRV_KIND_PCS "PodCliqueSet"
#define SRV_KIND_PCLQ "PodClique"
#define SRV_KIND_PCSG "PodCliqueScalingGroup"
#define SRV_KIND_CLAIM_TEMPLATE "ResourceClaimTemplate"
#define SRV_KIND_CTB "ClusterTopologyBinding"

typedef struct srv_cache_ops {
	/* On FOUND *obj is a new reference (the cached object: treat it as
	 * read-only, it may be shared). ns is NULL for cluster scope. */
	srv_cache_result (*get)(void *ctx, const char *kind, const char *ns,
				const char *name, json_t **obj);
	bool (*synced)(void *ctx);
} srv_cache_ops;

typedef struct srv_cache {
	const srv_cache_ops *ops;
	void *ctx;
} srv_cache;

/* A cache that answers NOT_SYNCED to everything. */
srv_cache srv_cache_unsynced(void);

#endif
