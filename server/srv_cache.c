/* SPDX-License-Identifier: Apache-2.0 */
/*
 * srv_cache.c: the cache the webhooks read when there are no informers
 * (no cluster): it knows nothing and answers NOT_SYNCED to everything.
 * (The tests' in-memory cache is tests/test_memcache.c.)
 */
#include "srv_cache.h"

static srv_cache_result unsynced_get(void *ctx, const char *kind,
				     const char *ns, const char *name,
				     json_t **obj)
{
	return SRV_CACHE_NOT_SYNCED;
}

static bool unsynced_synced(void *ctx)
{
	return false;
}

static const srv_cache_ops unsynced_ops = {
	.get = unsynced_get,
	.synced = unsynced_synced,
};

srv_cache srv_cache_unsynced(void)
{
	srv_cache c = { .ops = &unsynced_ops, .ctx = NULL };

	return c;
}
