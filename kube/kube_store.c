/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kube_store.c: the informer cache: objects by key under a read-write
 * lock, with a label index and an owner index (see kube_store.h).
 *
 * Maps are jansson objects used as hash maps: items is key -> object;
 * index is entry -> { key: true }, an entry being "l:<label>=<value>" for
 * an indexed label or "o:<uid>" for an owner. An empty set is removed.
 */
#include <pthread.h>

#include "kube_int.h"

static void read_lock(kube_store *s)
{
	pthread_mutex_lock(&s->gate);
	pthread_rwlock_rdlock(&s->lock);
	pthread_mutex_unlock(&s->gate);
}

static void write_lock(kube_store *s)
{
	pthread_mutex_lock(&s->gate);
	pthread_rwlock_wrlock(&s->lock);
	pthread_mutex_unlock(&s->gate);
}

typedef int (*entry_fn)(const char *entry, void *ctx);

/* Calls fn for each index entry of obj (borrowed, may be NULL), stopping
 * at the first failure. Returns GV_OK, fn's failure, or GV_ETOOBIG. */
static int each_entry(const kube_store *s, const json_t *obj, entry_fn fn,
		      void *ctx)
{
	char entry[KUBE_STORE_KEY_MAX];
	const json_t *meta = json_object_get(obj, "metadata");
	const json_t *labels = json_object_get(meta, "labels");
	const json_t *refs = json_object_get(meta, "ownerReferences");
	const json_t *ref = NULL;
	size_t i = 0;
	int n = 0;
	int rc = GV_OK;

	for (i = 0; i < s->n_index_labels; i++) {
		const char *v = json_string_value(
		    json_object_get(labels, s->index_labels[i]));

		if (!v)
			continue;
		n = snprintf(entry, sizeof(entry), "l:%s=%s",
			     s->index_labels[i], v);
		if (n < 0 || (size_t)n >= sizeof(entry))
			return GV_ETOOBIG;
		rc = fn(entry, ctx);
		if (rc != GV_OK)
			return rc;
	}
	json_array_foreach(refs, i, ref)
	{
		const char *uid =
		    json_string_value(json_object_get(ref, "uid"));

		if (!uid || !*uid)
			continue;
		n = snprintf(entry, sizeof(entry), "o:%s", uid);
		if (n < 0 || (size_t)n >= sizeof(entry))
			return GV_ETOOBIG;
		rc = fn(entry, ctx);
		if (rc != GV_OK)
			return rc;
	}
	return GV_OK;
}

struct find_ctx {
	const char *entry;
	bool found;
};

static int find_entry(const char *entry, void *ctx)
{
	struct find_ctx *f = ctx;

	if (strcmp(entry, f->entry) == 0)
		f->found = true;
	return GV_OK;
}

/* Whether obj (borrowed, may be NULL) has the index entry. */
static bool has_entry(const kube_store *s, const json_t *obj, const char *entry)
{
	struct find_ctx f = { .entry = entry, .found = false };

	if (!obj)
		return false;
	each_entry(s, obj, find_entry, &f);
	return f.found;
}

struct index_ctx {
	const kube_store *s;
	json_t *index; /* borrowed */
	const char *key;
	const json_t *keep; /* remove_entry: entries of this one stay */
};

static int add_entry(const char *entry, void *ctx)
{
	struct index_ctx *c = ctx;
	json_t *set = json_object_get(c->index, entry);

	if (!set) {
		set = json_object();
		if (json_object_set_new(c->index, entry, set) != 0)
			return GV_ENOMEM;
	}
	if (json_object_set_new(set, c->key, json_true()) != 0)
		return GV_ENOMEM;
	return GV_OK;
}

/* Never fails: removal does not allocate. */
static int remove_entry(const char *entry, void *ctx)
{
	struct index_ctx *c = ctx;
	json_t *set = NULL;

	if (has_entry(c->s, c->keep, entry))
		return GV_OK;
	set = json_object_get(c->index, entry);
	if (!set)
		return GV_OK;
	json_object_del(set, c->key);
	if (json_object_size(set) == 0)
		json_object_del(c->index, entry);
	return GV_OK;
}

int kube_store_init(kube_store *s, const char *const *index_labels)
{
	char **labels = NULL;
	size_t n = 0;
	size_t i = 0;
	json_t *items = NULL;
	json_t *index = NULL;
	int rc = GV_OK;

	while (index_labels && index_labels[n])
		n++;
	labels = calloc(n + 1, sizeof(*labels));
	if (!labels) {
		rc = GV_ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		labels[i] = strdup(index_labels[i]);
		if (!labels[i]) {
			rc = GV_ENOMEM;
			goto out;
		}
	}
	items = json_object();
	index = json_object();
	if (!items || !index) {
		rc = GV_ENOMEM;
		goto out;
	}
	if (pthread_mutex_init(&s->gate, NULL) != 0) {
		rc = GV_EIO;
		goto out;
	}
	if (pthread_rwlock_init(&s->lock, NULL) != 0) {
		pthread_mutex_destroy(&s->gate);
		rc = GV_EIO;
		goto out;
	}
	s->items = items;
	items = NULL;
	s->index = index;
	index = NULL;
	s->index_labels = labels;
	labels = NULL;
	s->n_index_labels = n;
	atomic_init(&s->synced, false);
out:
	if (labels) {
		for (i = 0; i < n; i++)
			free(labels[i]);
		free(labels);
	}
	json_decref(items);
	json_decref(index);
	return rc;
}

void kube_store_release(kube_store *s)
{
	size_t i = 0;

	pthread_rwlock_destroy(&s->lock);
	pthread_mutex_destroy(&s->gate);
	json_decref(s->items);
	json_decref(s->index);
	for (i = 0; i < s->n_index_labels; i++)
		free(s->index_labels[i]);
	free(s->index_labels);
	s->items = NULL;
	s->index = NULL;
	s->index_labels = NULL;
	s->n_index_labels = 0;
}

/* ns NULL or "" is cluster scope. */
static int make_key(const char *ns, const char *name, char *buf, size_t size)
{
	int n = 0;

	if (!name || !*name)
		return GV_EINVAL;
	if (ns && *ns)
		n = snprintf(buf, size, "%s/%s", ns, name);
	else
		n = snprintf(buf, size, "%s", name);
	if (n < 0 || (size_t)n >= size)
		return GV_ETOOBIG;
	return GV_OK;
}

int kube_store_key(const json_t *obj, char *buf, size_t size)
{
	const json_t *meta = json_object_get(obj, "metadata");
	const json_t *ns = json_object_get(meta, "namespace");
	const char *name = json_string_value(json_object_get(meta, "name"));

	if (!json_is_object(obj) || (ns && !json_is_string(ns)))
		return GV_EINVAL;
	return make_key(json_string_value(ns), name, buf, size);
}

/* The metadata.resourceVersion of o, or NULL. */
static const char *rv_of(const json_t *o)
{
	return json_string_value(
	    json_object_get(json_object_get(o, "metadata"), "resourceVersion"));
}

/* Puts obj unless a condition (put_if) does not hold; *skipped says so. */
static int put(kube_store *s, json_t *obj, bool conditional,
	       const char *expected_rv, bool *skipped, json_t **old_out)
{
	char key[KUBE_STORE_KEY_MAX];
	json_t *old = NULL;
	struct index_ctx c = { .s = s, .key = key };
	int rc = GV_OK;

	rc = kube_store_key(obj, key, sizeof(key));
	if (rc != GV_OK)
		goto out;
	write_lock(s);
	old = json_incref(json_object_get(s->items, key));
	if (conditional &&
	    (expected_rv
		 ? !old || !rv_of(old) || strcmp(rv_of(old), expected_rv) != 0
		 : old != NULL)) {
		pthread_rwlock_unlock(&s->lock);
		*skipped = true;
		goto out;
	}
	c.index = s->index;
	rc = each_entry(s, obj, add_entry, &c);
	if (rc == GV_OK && json_object_set(s->items, key, obj) != 0)
		rc = GV_ENOMEM;
	if (rc != GV_OK) {
		/* Undo: drop the new entries the old object did not have. */
		c.keep = old;
		each_entry(s, obj, remove_entry, &c);
	} else {
		c.keep = obj;
		each_entry(s, old, remove_entry, &c);
	}
	pthread_rwlock_unlock(&s->lock);
	if (rc == GV_OK && old_out) {
		*old_out = old;
		old = NULL;
	}
out:
	json_decref(old);
	json_decref(obj);
	return rc;
}

int kube_store_put(kube_store *s, json_t *obj, json_t **old_out)
{
	return put(s, obj, false, NULL, NULL, old_out);
}

int kube_store_put_if(kube_store *s, json_t *obj, const char *expected_rv,
		      bool *stored)
{
	bool skipped = false;
	int rc = put(s, obj, true, expected_rv, &skipped, NULL);

	if (rc == GV_OK && stored)
		*stored = !skipped;
	return rc;
}

int kube_store_delete(kube_store *s, const char *ns, const char *name,
		      json_t **old_out)
{
	char key[KUBE_STORE_KEY_MAX];
	json_t *old = NULL;
	struct index_ctx c = { .s = s, .key = key, .keep = NULL };
	int rc = GV_OK;

	rc = make_key(ns, name, key, sizeof(key));
	if (rc != GV_OK)
		goto out;
	write_lock(s);
	old = json_incref(json_object_get(s->items, key));
	if (old) {
		c.index = s->index;
		each_entry(s, old, remove_entry, &c);
		json_object_del(s->items, key);
	} else {
		rc = GV_ENOTFOUND;
	}
	pthread_rwlock_unlock(&s->lock);
	if (rc == GV_OK && old_out) {
		*old_out = old;
		old = NULL;
	}
out:
	json_decref(old);
	return rc;
}

json_t *kube_store_get(kube_store *s, const char *ns, const char *name)
{
	char key[KUBE_STORE_KEY_MAX];
	json_t *obj = NULL;

	if (make_key(ns, name, key, sizeof(key)) != GV_OK)
		return NULL;
	read_lock(s);
	obj = json_incref(json_object_get(s->items, key));
	pthread_rwlock_unlock(&s->lock);
	return obj;
}

/* Whether obj (borrowed) is in ns and carries the label. */
static bool matches(const json_t *obj, const char *ns, const char *label_key,
		    const char *label_value)
{
	const json_t *meta = json_object_get(obj, "metadata");
	const char *v = NULL;

	if (ns) {
		const char *ons =
		    json_string_value(json_object_get(meta, "namespace"));

		if (strcmp(ons ? ons : "", ns) != 0)
			return false;
	}
	if (!label_key)
		return true;
	v = json_string_value(
	    json_object_get(json_object_get(meta, "labels"), label_key));
	if (!v)
		return false;
	return !label_value || strcmp(v, label_value) == 0;
}

static bool is_indexed(const kube_store *s, const char *label_key)
{
	size_t i = 0;

	for (i = 0; i < s->n_index_labels; i++)
		if (strcmp(s->index_labels[i], label_key) == 0)
			return true;
	return false;
}

/* The objects of the index set of entry that match; lock held. */
static json_t *list_set(kube_store *s, const char *entry, const char *ns,
			const char *label_key, const char *label_value)
{
	json_t *out = json_array();
	const json_t *set = json_object_get(s->index, entry);
	const char *key = NULL;
	json_t *v = NULL;

	if (!out)
		return NULL;
	json_object_foreach((json_t *)set, key, v)
	{
		json_t *obj = json_object_get(s->items, key);

		if (!obj || !matches(obj, ns, label_key, label_value))
			continue;
		if (json_array_append(out, obj) != 0) {
			json_decref(out);
			return NULL;
		}
	}
	return out;
}

json_t *kube_store_list(kube_store *s, const char *ns, const char *label_key,
			const char *label_value)
{
	char entry[KUBE_STORE_KEY_MAX];
	json_t *out = NULL;
	const char *key = NULL;
	json_t *obj = NULL;
	int n = 0;

	read_lock(s);
	if (label_key && label_value && is_indexed(s, label_key)) {
		n = snprintf(entry, sizeof(entry), "l:%s=%s", label_key,
			     label_value);
		if (n < 0 || (size_t)n >= sizeof(entry))
			out = json_array(); /* no such entry can exist */
		else
			out = list_set(s, entry, ns, label_key, label_value);
		goto out;
	}
	out = json_array();
	if (!out)
		goto out;
	json_object_foreach(s->items, key, obj)
	{
		if (!matches(obj, ns, label_key, label_value))
			continue;
		if (json_array_append(out, obj) != 0) {
			json_decref(out);
			out = NULL;
			goto out;
		}
	}
out:
	pthread_rwlock_unlock(&s->lock);
	return out;
}

json_t *kube_store_by_owner(kube_store *s, const char *owner_uid)
{
	char entry[KUBE_STORE_KEY_MAX];
	json_t *out = NULL;
	int n = 0;

	n = snprintf(entry, sizeof(entry), "o:%s", owner_uid ? owner_uid : "");
	if (!owner_uid || n < 0 || (size_t)n >= sizeof(entry))
		return json_array();
	read_lock(s);
	out = list_set(s, entry, NULL, NULL, NULL);
	pthread_rwlock_unlock(&s->lock);
	return out;
}

int kube_store_replace(kube_store *s, json_t *objs, kube_store_event_fn fn,
		       void *arg)
{
	char key[KUBE_STORE_KEY_MAX];
	json_t *items = NULL;
	json_t *index = NULL;
	json_t *seen = NULL; /* a private copy of the new items, for fn */
	json_t *old_items = NULL;
	json_t *old_index = NULL;
	json_t *obj = NULL;
	json_t *old = NULL;
	const char *k = NULL;
	struct index_ctx c = { .s = s };
	size_t i = 0;
	int rc = GV_OK;

	if (!json_is_array(objs))
		return GV_EINVAL;
	items = json_object();
	index = json_object();
	if (!items || !index) {
		rc = GV_ENOMEM;
		goto out;
	}
	json_array_foreach(objs, i, obj)
	{
		rc = kube_store_key(obj, key, sizeof(key));
		if (rc != GV_OK)
			goto out;
		if (json_object_set(items, key, obj) != 0) {
			rc = GV_ENOMEM;
			goto out;
		}
	}
	c.index = index;
	json_object_foreach(items, k, obj)
	{
		c.key = k;
		rc = each_entry(s, obj, add_entry, &c);
		if (rc != GV_OK)
			goto out;
	}
	if (fn) {
		seen = json_copy(items);
		if (!seen) {
			rc = GV_ENOMEM;
			goto out;
		}
	}

	write_lock(s);
	old_items = s->items;
	old_index = s->index;
	s->items = items;
	s->index = index;
	pthread_rwlock_unlock(&s->lock);
	items = NULL;
	index = NULL;

	if (fn) {
		json_object_foreach(seen, k, obj)
		    fn(arg, k, json_object_get(old_items, k), obj);
		json_object_foreach(old_items, k, old)
		{
			if (!json_object_get(seen, k))
				fn(arg, k, old, NULL);
		}
	}
out:
	json_decref(items);
	json_decref(index);
	json_decref(seen);
	json_decref(old_items);
	json_decref(old_index);
	return rc;
}

size_t kube_store_len(kube_store *s)
{
	size_t n = 0;

	read_lock(s);
	n = json_object_size(s->items);
	pthread_rwlock_unlock(&s->lock);
	return n;
}

void kube_store_set_synced(kube_store *s, bool synced)
{
	atomic_store(&s->synced, synced);
}

bool kube_store_synced(kube_store *s)
{
	return atomic_load(&s->synced);
}
