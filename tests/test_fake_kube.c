/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_fake_kube.c: the in-process API server of test_fake_kube.h.
 *
 * The wrapped functions have kube_client.h's prototypes and no room for a
 * context, so the fake of a client is found in a small table of attached
 * clients: the only state shared by the whole test program.
 */
#include "test_util.h"

#include "test_fake_kube.h"

int __wrap_kube_get(kube_client *c, const kube_gvr *gvr, const char *ns,
		    const char *name, const char *subresource, json_t **out,
		    kube_result *res, gv_error_t *err);
int __wrap_kube_create(kube_client *c, const kube_gvr *gvr, const char *ns,
		       const json_t *obj, json_t **out, kube_result *res,
		       gv_error_t *err);
int __wrap_kube_update(kube_client *c, const kube_gvr *gvr, const char *ns,
		       const char *subresource, const json_t *obj, json_t **out,
		       kube_result *res, gv_error_t *err);

#define FK_MAX_CLIENTS 8

/* The wrapped calls may run on a module's own thread, where a cmocka
 * assertion cannot jump: a broken test aborts instead. */
static void fk_check(bool ok, const char *what)
{
	if (ok)
		return;
	fprintf(stderr, "fake kube: %s\n", what);
	abort();
}

static struct {
	kube_client *client;
	fake_kube *fk;
} attached[FK_MAX_CLIENTS];

static const char *const verb_names[FK_VERBS] = { "GET", "POST", "PUT" };

void fk_init(fake_kube *fk)
{
	memset(fk, 0, sizeof(*fk));
	pthread_mutex_init(&fk->lock, NULL);
	fk->objects = json_object();
	assert_non_null(fk->objects);
}

void fk_release(fake_kube *fk)
{
	size_t i = 0;

	for (i = 0; i < FK_MAX_CLIENTS; i++) {
		if (attached[i].fk == fk) {
			attached[i].fk = NULL;
			attached[i].client = NULL;
		}
	}
	json_decref(fk->objects);
	fk->objects = NULL;
	pthread_mutex_destroy(&fk->lock);
}

void fk_attach(fake_kube *fk, kube_client *client)
{
	size_t i = 0;

	for (i = 0; i < FK_MAX_CLIENTS; i++) {
		if (!attached[i].client || attached[i].client == client) {
			attached[i].client = client;
			attached[i].fk = fk;
			return;
		}
	}
	fail_msg("more than %d fake clients", FK_MAX_CLIENTS);
}

static fake_kube *fake_of(const kube_client *c)
{
	size_t i = 0;

	for (i = 0; i < FK_MAX_CLIENTS; i++) {
		if (attached[i].client == c && attached[i].fk)
			return attached[i].fk;
	}
	fk_check(false, "a call through a client no fake is attached to");
	return NULL;
}

static void key_of(char *buf, size_t size, const kube_gvr *gvr, const char *ns,
		   const char *name)
{
	snprintf(buf, size, "%s/%s/%s/%s/%s", gvr->group ? gvr->group : "",
		 gvr->version ? gvr->version : "", gvr->resource,
		 gvr->namespaced && ns ? ns : "", name ? name : "");
}

/* Stores a copy of obj with the next resourceVersion; under lock.
 * Returns the stored object (borrowed). */
static json_t *store(fake_kube *fk, const char *key, const json_t *obj)
{
	json_t *copy = json_deep_copy(obj);
	json_t *meta = NULL;
	char rv[32];

	fk_check(copy != NULL, "out of memory");
	meta = json_object_get(copy, "metadata");
	if (!json_is_object(meta)) {
		meta = json_object();
		json_object_set_new(copy, "metadata", meta);
	}
	snprintf(rv, sizeof(rv), "%lu", ++fk->rv);
	json_object_set_new(meta, "resourceVersion", json_string(rv));
	fk_check(json_object_set_new(fk->objects, key, copy) == 0,
		 "out of memory");
	return copy;
}

void fk_put(fake_kube *fk, const kube_gvr *gvr, const char *ns,
	    const json_t *obj)
{
	char key[512];

	key_of(key, sizeof(key), gvr, ns,
	       json_string_value(
		   json_object_get(json_object_get(obj, "metadata"), "name")));
	pthread_mutex_lock(&fk->lock);
	store(fk, key, obj);
	pthread_mutex_unlock(&fk->lock);
}

json_t *fk_object(fake_kube *fk, const kube_gvr *gvr, const char *ns,
		  const char *name)
{
	char key[512];
	json_t *obj = NULL;

	key_of(key, sizeof(key), gvr, ns, name);
	pthread_mutex_lock(&fk->lock);
	obj = json_incref(json_object_get(fk->objects, key));
	pthread_mutex_unlock(&fk->lock);
	return obj;
}

void fk_fail(fake_kube *fk, fk_verb verb, const char *resource, int rc,
	     kube_err kind, long status, unsigned times)
{
	fk_fault *f = NULL;

	pthread_mutex_lock(&fk->lock);
	assert_true(fk->n_faults < FK_MAX_FAULTS);
	f = &fk->faults[fk->n_faults++];
	f->verb = verb;
	snprintf(f->resource, sizeof(f->resource), "%s", resource);
	f->rc = rc;
	f->kind = kind;
	f->status = status;
	f->times = times;
	pthread_mutex_unlock(&fk->lock);
}

void fk_heal(fake_kube *fk)
{
	pthread_mutex_lock(&fk->lock);
	fk->n_faults = 0;
	pthread_mutex_unlock(&fk->lock);
}

size_t fk_count_from(fake_kube *fk, const kube_client *client, fk_verb verb,
		     const char *resource)
{
	size_t n = 0;
	size_t i = 0;

	pthread_mutex_lock(&fk->lock);
	assert_true(fk->n_calls <= FK_MAX_CALLS);
	for (i = 0; i < fk->n_calls; i++) {
		const fk_call *c = &fk->calls[i];

		if (c->verb == verb && (!client || c->client == client) &&
		    (!resource[0] || strcmp(c->resource, resource) == 0))
			n++;
	}
	pthread_mutex_unlock(&fk->lock);
	return n;
}

size_t fk_count(fake_kube *fk, fk_verb verb, const char *resource)
{
	return fk_count_from(fk, NULL, verb, resource);
}

/* The answer of a call, as kube_client.c fills it. */
static int answer(kube_result *res, gv_error_t *err, fk_verb verb,
		  const char *key, int rc, kube_err kind, long status)
{
	memset(res, 0, sizeof(*res));
	res->status = status;
	res->kind = kind;
	res->attempts = 1;
	if (rc == GV_OK)
		return GV_OK;
	snprintf(res->message, sizeof(res->message), "%s", kube_strerror(kind));
	return gv_error_set(err, rc, NULL, 0, 0, "%s %s: %s", verb_names[verb],
			    key, kube_strerror(kind));
}

/* Records the call and says whether an injected failure answers it
 * (filling *rc and res). Under lock. */
static bool begin(fake_kube *fk, const kube_client *client, fk_verb verb,
		  const kube_gvr *gvr, const char *ns, const char *name,
		  const char *key, kube_result *res, gv_error_t *err, int *rc)
{
	size_t i = 0;

	if (fk->n_calls < FK_MAX_CALLS) {
		fk_call *c = &fk->calls[fk->n_calls];

		c->client = client;
		c->verb = verb;
		snprintf(c->resource, sizeof(c->resource), "%s", gvr->resource);
		snprintf(c->ns, sizeof(c->ns), "%s", ns ? ns : "");
		snprintf(c->name, sizeof(c->name), "%s", name ? name : "");
	}
	fk->n_calls++;
	for (i = 0; i < fk->n_faults; i++) {
		fk_fault *f = &fk->faults[i];

		if (f->verb != verb || !f->times ||
		    (f->resource[0] && strcmp(f->resource, gvr->resource) != 0))
			continue;
		f->times--;
		*rc = answer(res, err, verb, key, f->rc, f->kind, f->status);
		return true;
	}
	return false;
}

int __wrap_kube_get(kube_client *c, const kube_gvr *gvr, const char *ns,
		    const char *name, const char *subresource, json_t **out,
		    kube_result *res, gv_error_t *err)
{
	fake_kube *fk = fake_of(c);
	char key[512];
	json_t *obj = NULL;
	int rc = GV_OK;

	fk_check(!subresource, "no subresources");
	key_of(key, sizeof(key), gvr, ns, name);
	pthread_mutex_lock(&fk->lock);
	if (begin(fk, c, FK_GET, gvr, ns, name, key, res, err, &rc))
		goto out;
	obj = json_object_get(fk->objects, key);
	if (!obj) {
		rc = answer(res, err, FK_GET, key, GV_ENOTFOUND,
			    KUBE_ERR_NOT_FOUND, 404);
		goto out;
	}
	*out = json_deep_copy(obj);
	rc = answer(res, err, FK_GET, key, GV_OK, KUBE_ERR_NONE, 200);
out:
	pthread_mutex_unlock(&fk->lock);
	if (rc == GV_OK && fk->after_get)
		fk->after_get(fk, gvr, name, fk->after_get_ctx);
	return rc;
}

int __wrap_kube_create(kube_client *c, const kube_gvr *gvr, const char *ns,
		       const json_t *obj, json_t **out, kube_result *res,
		       gv_error_t *err)
{
	fake_kube *fk = fake_of(c);
	const json_t *meta = json_object_get(obj, "metadata");
	const char *name = json_string_value(json_object_get(meta, "name"));
	char key[512];
	json_t *stored = NULL;
	int rc = GV_OK;

	if (!ns)
		ns = json_string_value(json_object_get(meta, "namespace"));
	fk_check(name != NULL, "an object without a name");
	key_of(key, sizeof(key), gvr, ns, name);
	pthread_mutex_lock(&fk->lock);
	if (begin(fk, c, FK_CREATE, gvr, ns, name, key, res, err, &rc))
		goto out;
	if (json_object_get(fk->objects, key)) {
		rc = answer(res, err, FK_CREATE, key, GV_EEXIST,
			    KUBE_ERR_ALREADY_EXISTS, 409);
		goto out;
	}
	stored = store(fk, key, obj);
	if (out)
		*out = json_deep_copy(stored);
	rc = answer(res, err, FK_CREATE, key, GV_OK, KUBE_ERR_NONE, 201);
out:
	pthread_mutex_unlock(&fk->lock);
	return rc;
}

int __wrap_kube_update(kube_client *c, const kube_gvr *gvr, const char *ns,
		       const char *subresource, const json_t *obj, json_t **out,
		       kube_result *res, gv_error_t *err)
{
	fake_kube *fk = fake_of(c);
	const json_t *meta = json_object_get(obj, "metadata");
	const char *name = json_string_value(json_object_get(meta, "name"));
	const char *rv =
	    json_string_value(json_object_get(meta, "resourceVersion"));
	char key[512];
	const json_t *cur = NULL;
	const char *cur_rv = NULL;
	json_t *stored = NULL;
	int rc = GV_OK;

	fk_check(!subresource, "no subresources");
	if (!ns)
		ns = json_string_value(json_object_get(meta, "namespace"));
	fk_check(name != NULL, "an object without a name");
	key_of(key, sizeof(key), gvr, ns, name);
	pthread_mutex_lock(&fk->lock);
	if (begin(fk, c, FK_UPDATE, gvr, ns, name, key, res, err, &rc))
		goto out;
	cur = json_object_get(fk->objects, key);
	if (!cur) {
		rc = answer(res, err, FK_UPDATE, key, GV_ENOTFOUND,
			    KUBE_ERR_NOT_FOUND, 404);
		goto out;
	}
	cur_rv = json_string_value(json_object_get(
	    json_object_get(cur, "metadata"), "resourceVersion"));
	/* the precondition: a stale resourceVersion is a Conflict */
	if (rv && (!cur_rv || strcmp(rv, cur_rv) != 0)) {
		rc = answer(res, err, FK_UPDATE, key, GV_ECONFLICT,
			    KUBE_ERR_CONFLICT, 409);
		goto out;
	}
	stored = store(fk, key, obj);
	if (out)
		*out = json_deep_copy(stored);
	rc = answer(res, err, FK_UPDATE, key, GV_OK, KUBE_ERR_NONE, 200);
out:
	pthread_mutex_unlock(&fk->lock);
	return rc;
}
