/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_memcache.h: an in-memory srv_cache that the tests and the
 * admission fuzzer fill (tests/test_memcache.c, linked into them; not
 * part of groved, whose caches are srv_kcache's informers and the
 * unsynced one).
 */
#ifndef GROVED_TEST_MEMCACHE_H
#define GROVED_TEST_MEMCACHE_H

#include <jansson.h>
#include <stdbool.h>

#include "srv_cache.h"

/* Thread-safe (a read-write lock); starts empty and synced. */
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
