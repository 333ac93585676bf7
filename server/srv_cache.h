/*
 * srv_cache.h: how the webhooks read cluster state. The worker's informer
 * caches (issue 4) implement it; until then `groved serve` uses the
 * unsynced cache, and tests an in-memory one they fill.
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

/* An in-memory cache, thread-safe (read-write lock); tests fill it. */
typedef struct srv_memcache srv_memcache;

srv_memcache *srv_memcache_new(void);
void srv_memcache_free(srv_memcache *m);
/* Stores obj (by kind, metadata.namespace, metadata.name), replacing an
 * older one; takes a new reference. Returns GV_OK, GV_EINVAL (no kind or
 * name) or GV_ENOMEM. */
int srv_memcache_put(srv_memcache *m, json_t *obj);
void srv_memcache_set_synced(srv_memcache *m, bool synced);
/* The cache interface over m (borrowed: m must outlive it). */
srv_cache srv_memcache_cache(srv_memcache *m);

#endif
