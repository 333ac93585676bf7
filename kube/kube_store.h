/*
 * kube_store.h: the informer cache, private to the kube module.
 *
 * A store holds Kubernetes objects (jansson values) keyed by
 * "namespace/name", or "name" for cluster-scoped objects. It is read by
 * many threads (the webhooks) and written by one (the watch), under a
 * read-write lock.
 *
 * Rules of the values:
 *  - An object handed to the store belongs to it and is shared from then
 *    on: neither the caller nor anyone who reads it back may modify it.
 *    Readers get new references, so an object stays alive after the store
 *    has replaced or deleted it (jansson's reference counts are atomic).
 *  - The store never orders versions: the informer decides, the store
 *    replaces.
 *  - Indexes: by the value of each label key named at init ("k=v", so a
 *    list by an indexed label costs O(matches)) and by the uid of each
 *    metadata.ownerReferences[] entry. Both follow every put, delete and
 *    replace; entries of a replaced object are removed.
 *  - The store calls no handler except kube_store_replace()'s diff
 *    callback, after it has released its lock (a handler may read the
 *    store).
 */
#ifndef GROVED_KUBE_STORE_H
#define GROVED_KUBE_STORE_H

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "groved/gv.h"

/* Longest key or index entry, with its NUL ("namespace/name": 63 + 1 +
 * 253; a label "key=value": 317 + 1 + 63). */
#define KUBE_STORE_KEY_MAX 512

/*
 * An add, update or delete of the object at key: old_obj is NULL for an
 * add, new_obj is NULL for a delete. Both are borrowed and read-only; key
 * is borrowed. arg is the caller's.
 */
typedef void (*kube_store_event_fn)(void *arg, const char *key, json_t *old_obj,
				    json_t *new_obj);

typedef struct kube_store {
	pthread_rwlock_t lock;
	/* Taken to acquire lock, so that a waiting writer (the watch) stops
	 * new readers: POSIX read-write locks may prefer readers and starve
	 * it. */
	pthread_mutex_t gate;
	json_t *items; /* key -> object */
	json_t *index; /* "l:k=v" / "o:uid" -> { key: true } */
	char **index_labels; /* label keys indexed, owned */
	size_t n_index_labels;
	atomic_bool synced;
} kube_store;

/*
 * Fills s, empty and not synced. index_labels (borrowed, copied) lists the
 * label keys to index and ends with NULL; it may be NULL. Returns GV_OK,
 * GV_ENOMEM or GV_EIO (the lock cannot be created); on failure s holds
 * nothing to release.
 */
int kube_store_init(kube_store *s, const char *const *index_labels);

/* Frees what s holds (drops its references). No thread may use s. */
void kube_store_release(kube_store *s);

/*
 * Writes obj's key (borrowed obj) into buf of size bytes. Returns GV_OK,
 * GV_EINVAL (no metadata.name, or a namespace or name that is not a
 * non-empty string) or GV_ETOOBIG (does not fit).
 */
int kube_store_key(const json_t *obj, char *buf, size_t size);

/*
 * Stores obj under its key, replacing what was there. Steals obj, also on
 * failure. When old_out is not NULL it receives, on success, the replaced
 * object (new reference) or NULL. Returns GV_OK, GV_EINVAL (obj is no
 * object with a key), GV_ETOOBIG (a key or index entry too long) or
 * GV_ENOMEM; on failure the store is unchanged.
 */
int kube_store_put(kube_store *s, json_t *obj, json_t **old_out);

/*
 * Removes the object at ns/name (ns NULL or "" for cluster scope). When
 * old_out is not NULL it receives, on success, the removed object (new
 * reference). Returns GV_OK, GV_ENOTFOUND, GV_EINVAL or GV_ETOOBIG.
 */
int kube_store_delete(kube_store *s, const char *ns, const char *name,
		      json_t **old_out);

/* The object at ns/name (ns NULL or "" for cluster scope): a new reference,
 * read-only, or NULL when there is none. */
json_t *kube_store_get(kube_store *s, const char *ns, const char *name);

/*
 * The objects in namespace ns (NULL: all namespaces; "": cluster-scoped
 * ones) that carry label_key=label_value. label_key NULL: any labels;
 * label_value NULL: any value of label_key. Uses the index when label_key
 * is indexed and label_value given. Returns a new reference to an array
 * (order unspecified) of read-only objects, or NULL when out of memory.
 */
json_t *kube_store_list(kube_store *s, const char *ns, const char *label_key,
			const char *label_value);

/* The objects with an ownerReferences[] entry of uid owner_uid (borrowed):
 * a new reference to an array (order unspecified), or NULL when out of
 * memory. */
json_t *kube_store_by_owner(kube_store *s, const char *owner_uid);

/*
 * The relist (after 410 Gone): atomically swaps the whole content for the
 * objects of objs (borrowed array; the store takes its own references to
 * the elements, which become read-only; a later duplicate key wins). Then,
 * with the lock released, calls fn (may be NULL) once per key that was
 * added (old NULL), deleted (new NULL), or kept (old and new, possibly the
 * same object). Returns GV_OK, GV_EINVAL (objs is no array, or an element
 * has no key), GV_ETOOBIG or GV_ENOMEM; on failure the store is unchanged
 * and fn is not called.
 */
int kube_store_replace(kube_store *s, json_t *objs, kube_store_event_fn fn,
		       void *arg);

/* The number of objects. */
size_t kube_store_len(kube_store *s);

/* Whether the first list has been stored (atomic; no lock). */
void kube_store_set_synced(kube_store *s, bool synced);
bool kube_store_synced(kube_store *s);

#endif
