/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_memcache.c: the in-memory srv_cache of the tests and the fuzzer
 * (test_memcache.h).
 *
 * Three levels of jansson objects, kind -> namespace ("" for cluster
 * scope) -> name -> object, under a read-write lock. A get holds the read
 * lock only long to find the object and take a reference; the caller then
 * reads the object without the lock, which is safe because a stored
 * object is never modified (put replaces it) and jansson's reference
 * counts are atomic.
 */
#include <pthread.h>

#include "groved/gv.h"
#include "test_memcache.h"

struct srv_memcache {
	pthread_rwlock_t lock;
	json_t *kinds; /* owned: kind -> ns -> name -> object */
	bool synced;
};

srv_memcache *srv_memcache_new(void)
{
	srv_memcache *m = NULL;
	srv_memcache *rc = NULL;

	m = calloc(1, sizeof(*m));
	if (!m)
		goto out;
	m->kinds = json_object();
	if (!m->kinds)
		goto out;
	if (pthread_rwlock_init(&m->lock, NULL) != 0)
		goto out;
	m->synced = true;
	rc = m;
	m = NULL;
out:
	if (m) {
		json_decref(m->kinds);
		free(m);
	}
	return rc;
}

void srv_memcache_free(srv_memcache *m)
{
	if (!m)
		return;
	pthread_rwlock_destroy(&m->lock);
	json_decref(m->kinds);
	free(m);
}

/* The object under key in parent, created empty when absent. Borrowed;
 * NULL when out of memory (or when key is not valid UTF-8). */
static json_t *child(json_t *parent, const char *key)
{
	json_t *c = json_object_get(parent, key);

	if (c)
		return c;
	c = json_object();
	if (!c || json_object_set_new(parent, key, c) != 0)
		return NULL;
	return c;
}

int srv_memcache_put(srv_memcache *m, json_t *obj)
{
	const json_t *meta = json_object_get(obj, "metadata");
	const char *kind = json_string_value(json_object_get(obj, "kind"));
	const char *name = json_string_value(json_object_get(meta, "name"));
	const char *ns = json_string_value(json_object_get(meta, "namespace"));
	json_t *names = NULL;
	int rc = GV_EINVAL;

	if (!m || !kind || !kind[0] || !name || !name[0])
		return GV_EINVAL;
	if (!ns)
		ns = "";
	pthread_rwlock_wrlock(&m->lock);
	names = child(child(m->kinds, kind), ns);
	if (!names) {
		rc = GV_ENOMEM;
		goto out;
	}
	/* json_object_set takes its own reference */
	rc = json_object_set(names, name, obj) == 0 ? GV_OK : GV_ENOMEM;
out:
	pthread_rwlock_unlock(&m->lock);
	return rc;
}

void srv_memcache_set_synced(srv_memcache *m, bool synced)
{
	pthread_rwlock_wrlock(&m->lock);
	m->synced = synced;
	pthread_rwlock_unlock(&m->lock);
}

static srv_cache_result mem_get(void *ctx, const char *kind, const char *ns,
				const char *name, json_t **obj)
{
	srv_memcache *m = ctx;
	json_t *found = NULL;
	srv_cache_result rc = SRV_CACHE_MISSING;

	if (!kind || !name)
		return SRV_CACHE_MISSING;
	pthread_rwlock_rdlock(&m->lock);
	if (!m->synced) {
		rc = SRV_CACHE_NOT_SYNCED;
		goto out;
	}
	found = json_object_get(
	    json_object_get(json_object_get(m->kinds, kind), ns ? ns : ""),
	    name);
	if (found) {
		*obj = json_incref(found);
		rc = SRV_CACHE_FOUND;
	}
out:
	pthread_rwlock_unlock(&m->lock);
	return rc;
}

static bool mem_synced(void *ctx)
{
	srv_memcache *m = ctx;
	bool synced = false;

	pthread_rwlock_rdlock(&m->lock);
	synced = m->synced;
	pthread_rwlock_unlock(&m->lock);
	return synced;
}

static const srv_cache_ops mem_ops = {
	.get = mem_get,
	.synced = mem_synced,
};

srv_cache srv_memcache_cache(srv_memcache *m)
{
	srv_cache c = { .ops = &mem_ops, .ctx = m };

	return c;
}
