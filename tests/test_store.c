/* SPDX-License-Identifier: Apache-2.0 */
/* test_store.c: the informer cache (kube/kube_store.c). */
#include <pthread.h>
#include <stdatomic.h>

#include "test_util.h"
#include "groved/kube.h"

static const char *const index_labels[] = { "app", NULL };

/*
 * ThreadSanitizer and jansson 2.14: its inline json_incref/json_decref
 * read the reference count with a plain load (the "-1: static value"
 * test) beside the atomic update, and the decrement is release-only, so
 * the free in the uninstrumented libjansson is not ordered after other
 * threads' decrements. Both are jansson's own protocol (benign on x86,
 * akheron/jansson#648), not the store's; they are the only suppressions.
 */
const char *__tsan_default_suppressions(void);
const char *__tsan_default_suppressions(void)
{
	return "called_from_lib:libjansson.so\n"
	       "race:json_incref\n"
	       "race:json_decref\n";
}

static int setup(void **state)
{
	kube_store *s = calloc(1, sizeof(*s));

	if (!s || kube_store_init(s, index_labels) != GV_OK)
		return -1;
	*state = s;
	return 0;
}

static int teardown(void **state)
{
	kube_store *s = *state;

	kube_store_release(s);
	free(s);
	return 0;
}

/* An object; ns may be NULL (cluster scope), app NULL (no label), owners
 * a comma-free list of uids ending with NULL (may be NULL). New ref. */
static json_t *mk(const char *ns, const char *name, const char *app,
		  const char *const *owners)
{
	json_t *obj =
	    json_pack("{s:{s:s, s:{}}}", "metadata", "name", name, "labels");
	json_t *meta = json_object_get(obj, "metadata");
	json_t *refs = json_array();

	assert_non_null(obj);
	if (ns)
		json_object_set_new(meta, "namespace", json_string(ns));
	if (app)
		json_object_set_new(json_object_get(meta, "labels"), "app",
				    json_string(app));
	while (owners && *owners)
		json_array_append_new(refs, json_pack("{s:s, s:s}", "kind",
						      "PodCliqueSet", "uid",
						      *owners++));
	json_object_set_new(meta, "ownerReferences", refs);
	return obj;
}

static const char *name_of(const json_t *obj)
{
	return json_string_value(
	    json_object_get(json_object_get(obj, "metadata"), "name"));
}

/* Whether arr (borrowed) holds exactly the names, in any order. */
static void assert_names(json_t *arr, const char *const *names)
{
	size_t n = 0;
	size_t i = 0;
	json_t *obj = NULL;

	assert_non_null(arr);
	while (names[n])
		n++;
	assert_int_equal(json_array_size(arr), n);
	for (i = 0; i < n; i++) {
		bool found = false;
		size_t j = 0;

		json_array_foreach(arr, j, obj) found =
		    found || strcmp(name_of(obj), names[i]) == 0;
		if (!found)
			fail_msg("'%s' not listed", names[i]);
	}
	json_decref(arr);
}

static void test_key(void **state)
{
	static const struct {
		const char *json;
		int rc;
		const char *key;
	} cases[] = {
		{ "{\"metadata\":{\"namespace\":\"a\",\"name\":\"x\"}}", GV_OK,
		  "a/x" },
		{ "{\"metadata\":{\"name\":\"x\"}}", GV_OK, "x" },
		{ "{\"metadata\":{\"namespace\":\"\",\"name\":\"x\"}}", GV_OK,
		  "x" },
		{ "{\"metadata\":{\"namespace\":\"a\"}}", GV_EINVAL, NULL },
		{ "{\"metadata\":{\"name\":\"\"}}", GV_EINVAL, NULL },
		{ "{\"metadata\":{\"namespace\":1,\"name\":\"x\"}}", GV_EINVAL,
		  NULL },
		{ "[1]", GV_EINVAL, NULL },
	};
	char key[KUBE_STORE_KEY_MAX];
	char small[3];
	size_t i = 0;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *obj = json_loads(cases[i].json, 0, NULL);

		assert_non_null(obj);
		assert_int_equal(kube_store_key(obj, key, sizeof(key)),
				 cases[i].rc);
		if (cases[i].key)
			assert_string_equal(key, cases[i].key);
		if (i == 0)
			assert_int_equal(
			    kube_store_key(obj, small, sizeof(small)),
			    GV_ETOOBIG);
		json_decref(obj);
	}
}

/* put_if stores only over what the caller saw: nothing (a create), or
 * the object of the resourceVersion it names; a newer one stays. */
static void test_put_if(void **state)
{
	kube_store *s = *state;
	json_t *v1 = mk("ns", "a", "x", NULL);
	json_t *v2 = mk("ns", "a", "x", NULL);
	json_t *v3 = mk("ns", "a", "x", NULL);
	json_t *got = NULL;
	bool stored = false;

	json_object_set_new(json_object_get(v1, "metadata"), "resourceVersion",
			    json_string("1"));
	json_object_set_new(json_object_get(v2, "metadata"), "resourceVersion",
			    json_string("2"));
	json_object_set_new(json_object_get(v3, "metadata"), "resourceVersion",
			    json_string("3"));
	/* a create's answer: stored while there is nothing */
	assert_int_equal(kube_store_put_if(s, json_incref(v1), NULL, &stored),
			 GV_OK);
	assert_true(stored);
	assert_int_equal(kube_store_put_if(s, json_incref(v2), NULL, &stored),
			 GV_OK);
	assert_false(stored);
	/* the watch delivered 3 while the write based on 1 answered 2 */
	assert_int_equal(kube_store_put(s, json_incref(v3), NULL), GV_OK);
	assert_int_equal(kube_store_put_if(s, json_incref(v2), "1", &stored),
			 GV_OK);
	assert_false(stored);
	got = kube_store_get(s, "ns", "a");
	assert_ptr_equal(got, v3);
	json_decref(got);
	/* based on 3: stored */
	assert_int_equal(kube_store_put_if(s, json_incref(v2), "3", &stored),
			 GV_OK);
	assert_true(stored);
	got = kube_store_get(s, "ns", "a");
	assert_ptr_equal(got, v2);
	json_decref(got);
	json_decref(v1);
	json_decref(v2);
	json_decref(v3);
}

static void test_put_get_delete(void **state)
{
	kube_store *s = *state;
	json_t *a1 = mk("ns", "a", "x", NULL);
	json_t *a2 = mk("ns", "a", "x", NULL);
	json_t *c = mk(NULL, "c", NULL, NULL);
	json_t *got = NULL;
	json_t *old = (json_t *)1;

	assert_int_equal(kube_store_put(s, json_incref(a1), &old), GV_OK);
	assert_null(old);
	got = kube_store_get(s, "ns", "a");
	assert_ptr_equal(got, a1);
	json_decref(got);

	assert_int_equal(kube_store_put(s, json_incref(a2), &old), GV_OK);
	assert_ptr_equal(old, a1); /* replaced, still alive */
	json_decref(old);
	got = kube_store_get(s, "ns", "a");
	assert_ptr_equal(got, a2);
	json_decref(got);

	assert_int_equal(kube_store_put(s, json_incref(c), NULL), GV_OK);
	got = kube_store_get(s, NULL, "c");
	assert_ptr_equal(got, c);
	json_decref(got);
	got = kube_store_get(s, "", "c");
	assert_ptr_equal(got, c);
	json_decref(got);
	assert_null(kube_store_get(s, "other", "c"));
	assert_int_equal(kube_store_len(s), 2);

	/* Rejected objects are stolen and change nothing. */
	assert_int_equal(
	    kube_store_put(s, json_pack("{s:{}}", "metadata"), NULL),
	    GV_EINVAL);
	assert_int_equal(kube_store_len(s), 2);

	old = NULL;
	assert_int_equal(kube_store_delete(s, "ns", "a", &old), GV_OK);
	assert_ptr_equal(old, a2);
	json_decref(old);
	old = NULL;
	assert_int_equal(kube_store_delete(s, "ns", "a", &old), GV_ENOTFOUND);
	assert_null(old);
	assert_int_equal(kube_store_delete(s, "ns", NULL, NULL), GV_EINVAL);
	assert_null(kube_store_get(s, "ns", "a"));
	assert_int_equal(kube_store_delete(s, NULL, "c", NULL), GV_OK);
	assert_int_equal(kube_store_len(s), 0);
	assert_int_equal(json_object_size(s->index), 0);
	json_decref(a1);
	json_decref(a2);
	json_decref(c);
}

static void test_label_index(void **state)
{
	kube_store *s = *state;
	json_t *obj = NULL;

	assert_int_equal(kube_store_put(s, mk("ns", "a", "x", NULL), NULL),
			 GV_OK);
	assert_int_equal(kube_store_put(s, mk("ns", "b", "x", NULL), NULL),
			 GV_OK);
	assert_int_equal(kube_store_put(s, mk("ns", "c", "y", NULL), NULL),
			 GV_OK);
	assert_int_equal(kube_store_put(s, mk("ns", "d", NULL, NULL), NULL),
			 GV_OK);
	assert_names(kube_store_list(s, NULL, "app", "x"),
		     (const char *const[]){ "a", "b", NULL });
	assert_names(kube_store_list(s, NULL, "app", NULL),
		     (const char *const[]){ "a", "b", "c", NULL });

	/* The update moves a from x to y: its old entry goes. */
	assert_int_equal(kube_store_put(s, mk("ns", "a", "y", NULL), NULL),
			 GV_OK);
	assert_names(kube_store_list(s, NULL, "app", "x"),
		     (const char *const[]){ "b", NULL });
	assert_names(kube_store_list(s, "ns", "app", "y"),
		     (const char *const[]){ "a", "c", NULL });

	/* Losing the label, and deleting, empty the sets. */
	assert_int_equal(kube_store_put(s, mk("ns", "b", NULL, NULL), NULL),
			 GV_OK);
	assert_names(kube_store_list(s, NULL, "app", "x"),
		     (const char *const[]){ NULL });
	assert_null(json_object_get(s->index, "l:app=x"));
	assert_int_equal(kube_store_delete(s, "ns", "a", NULL), GV_OK);
	assert_int_equal(kube_store_delete(s, "ns", "c", NULL), GV_OK);
	assert_int_equal(json_object_size(s->index), 0);

	/* A label that is not indexed is found by a scan. */
	obj = mk("ns", "e", NULL, NULL);
	json_object_set_new(
	    json_object_get(json_object_get(obj, "metadata"), "labels"), "tier",
	    json_string("web"));
	assert_int_equal(kube_store_put(s, obj, NULL), GV_OK);
	assert_names(kube_store_list(s, "ns", "tier", "web"),
		     (const char *const[]){ "e", NULL });
	assert_names(kube_store_list(s, "ns", "tier", "db"),
		     (const char *const[]){ NULL });
	assert_names(kube_store_list(s, NULL, NULL, NULL),
		     (const char *const[]){ "b", "d", "e", NULL });
}

static void test_owner_index(void **state)
{
	kube_store *s = *state;

	assert_int_equal(
	    kube_store_put(
		s,
		mk("ns", "a", NULL, (const char *const[]){ "u1", "u2", NULL }),
		NULL),
	    GV_OK);
	assert_int_equal(kube_store_put(s,
					mk("ns", "b", NULL,
					   (const char *const[]){ "u1", NULL }),
					NULL),
			 GV_OK);
	assert_names(kube_store_by_owner(s, "u1"),
		     (const char *const[]){ "a", "b", NULL });
	assert_names(kube_store_by_owner(s, "u2"),
		     (const char *const[]){ "a", NULL });
	assert_names(kube_store_by_owner(s, "nobody"),
		     (const char *const[]){ NULL });

	/* a changes owners: u1 and u2 -> u2 and u3. */
	assert_int_equal(
	    kube_store_put(
		s,
		mk("ns", "a", NULL, (const char *const[]){ "u2", "u3", NULL }),
		NULL),
	    GV_OK);
	assert_names(kube_store_by_owner(s, "u1"),
		     (const char *const[]){ "b", NULL });
	assert_names(kube_store_by_owner(s, "u2"),
		     (const char *const[]){ "a", NULL });
	assert_names(kube_store_by_owner(s, "u3"),
		     (const char *const[]){ "a", NULL });

	assert_int_equal(kube_store_delete(s, "ns", "a", NULL), GV_OK);
	assert_names(kube_store_by_owner(s, "u2"),
		     (const char *const[]){ NULL });
	assert_null(json_object_get(s->index, "o:u2"));
	assert_null(json_object_get(s->index, "o:u3"));
	assert_names(kube_store_by_owner(s, "u1"),
		     (const char *const[]){ "b", NULL });
}

static void test_list_namespace(void **state)
{
	kube_store *s = *state;

	assert_int_equal(kube_store_put(s, mk("a", "p", "x", NULL), NULL),
			 GV_OK);
	assert_int_equal(kube_store_put(s, mk("a", "q", "y", NULL), NULL),
			 GV_OK);
	assert_int_equal(kube_store_put(s, mk("b", "p", "x", NULL), NULL),
			 GV_OK);
	assert_int_equal(kube_store_put(s, mk(NULL, "r", "x", NULL), NULL),
			 GV_OK);
	assert_int_equal(kube_store_len(s), 4);
	assert_names(kube_store_list(s, "a", NULL, NULL),
		     (const char *const[]){ "p", "q", NULL });
	assert_names(kube_store_list(s, "b", NULL, NULL),
		     (const char *const[]){ "p", NULL });
	assert_names(kube_store_list(s, "", NULL, NULL),
		     (const char *const[]){ "r", NULL });
	assert_names(kube_store_list(s, "none", NULL, NULL),
		     (const char *const[]){ NULL });
	assert_names(kube_store_list(s, "a", "app", "x"),
		     (const char *const[]){ "p", NULL });
	assert_names(kube_store_list(s, NULL, "app", "x"),
		     (const char *const[]){ "p", "p", "r", NULL });
}

struct event {
	char key[64];
	json_t *old_obj; /* borrowed: compared only */
	json_t *new_obj;
};

struct events {
	struct event ev[16];
	size_t n;
};

static void record(void *arg, const char *key, json_t *old_obj, json_t *new_obj)
{
	struct events *e = arg;

	assert_true(e->n < 16);
	snprintf(e->ev[e->n].key, sizeof(e->ev[e->n].key), "%s", key);
	e->ev[e->n].old_obj = old_obj;
	e->ev[e->n].new_obj = new_obj;
	e->n++;
}

static const struct event *find_event(const struct events *e, const char *key)
{
	size_t i = 0;

	for (i = 0; i < e->n; i++)
		if (strcmp(e->ev[i].key, key) == 0)
			return &e->ev[i];
	fail_msg("no event for '%s'", key);
	return NULL;
}

static void test_replace(void **state)
{
	kube_store *s = *state;
	json_t *a = mk("ns", "a", "x", (const char *const[]){ "u1", NULL });
	json_t *b = mk("ns", "b", "x", NULL);
	json_t *b2 = mk("ns", "b", "y", NULL);
	json_t *c = mk("ns", "c", "x", NULL);
	json_t *d = mk("ns", "d", "x", NULL);
	json_t *objs = json_pack("[O, O, O]", b2, c, d);
	json_t *bad = json_pack("[O, {s:{}}]", a, "metadata");
	struct events e = { .n = 0 };
	const struct event *ev = NULL;
	json_t *got = NULL;

	assert_int_equal(kube_store_put(s, json_incref(a), NULL), GV_OK);
	assert_int_equal(kube_store_put(s, json_incref(b), NULL), GV_OK);
	assert_int_equal(kube_store_put(s, json_incref(c), NULL), GV_OK);

	/* An element without a key: nothing changes, nothing reported. */
	assert_int_equal(kube_store_replace(s, bad, record, &e), GV_EINVAL);
	assert_int_equal(e.n, 0);
	assert_int_equal(kube_store_len(s), 3);
	assert_int_equal(kube_store_replace(s, a, record, &e), GV_EINVAL);

	assert_int_equal(kube_store_replace(s, objs, record, &e), GV_OK);
	assert_int_equal(e.n, 4);
	ev = find_event(&e, "ns/a");
	assert_ptr_equal(ev->old_obj, a);
	assert_null(ev->new_obj);
	ev = find_event(&e, "ns/b");
	assert_ptr_equal(ev->old_obj, b);
	assert_ptr_equal(ev->new_obj, b2);
	ev = find_event(&e, "ns/c");
	assert_ptr_equal(ev->old_obj, c);
	assert_ptr_equal(ev->new_obj, c);
	ev = find_event(&e, "ns/d");
	assert_null(ev->old_obj);
	assert_ptr_equal(ev->new_obj, d);

	assert_int_equal(kube_store_len(s), 3);
	assert_null(kube_store_get(s, "ns", "a"));
	got = kube_store_get(s, "ns", "b");
	assert_ptr_equal(got, b2);
	json_decref(got);
	assert_names(kube_store_list(s, NULL, "app", "x"),
		     (const char *const[]){ "c", "d", NULL });
	assert_names(kube_store_list(s, NULL, "app", "y"),
		     (const char *const[]){ "b", NULL });
	assert_names(kube_store_by_owner(s, "u1"),
		     (const char *const[]){ NULL });

	/* No callback; an empty relist empties the store. */
	json_array_clear(objs);
	assert_int_equal(kube_store_replace(s, objs, NULL, NULL), GV_OK);
	assert_int_equal(kube_store_len(s), 0);
	assert_int_equal(json_object_size(s->index), 0);

	json_decref(objs);
	json_decref(bad);
	json_decref(a);
	json_decref(b);
	json_decref(b2);
	json_decref(c);
	json_decref(d);
}

static void test_synced(void **state)
{
	kube_store *s = *state;

	assert_false(kube_store_synced(s));
	kube_store_set_synced(s, true);
	assert_true(kube_store_synced(s));
	kube_store_set_synced(s, false);
	assert_false(kube_store_synced(s));
}

static void test_init_no_index(void **state)
{
	kube_store s;

	(void)state;
	assert_int_equal(kube_store_init(&s, NULL), GV_OK);
	assert_int_equal(kube_store_put(&s, mk("ns", "a", "x", NULL), NULL),
			 GV_OK);
	assert_names(kube_store_list(&s, NULL, "app", "x"),
		     (const char *const[]){ "a", NULL });
	kube_store_release(&s);
}

/* ---- concurrency ------------------------------------------------------- */

#define N_KEYS 64
#define N_OPS 20000
#define N_READERS 4

struct conc {
	kube_store *s;
	atomic_bool stop;
	atomic_int bad;
	atomic_long reads;
};

/* Object k at generation g: spec.check and the label follow from both. */
static json_t *gen_obj(int k, long g)
{
	char name[16];
	char app[16];

	snprintf(name, sizeof(name), "o%d", k);
	snprintf(app, sizeof(app), "v%ld", g % 4);
	return json_pack("{s:{s:s, s:s, s:{s:s}}, s:{s:i, s:i, s:i, s:s}}",
			 "metadata", "namespace", "ns", "name", name, "labels",
			 "app", app, "spec", "key", k, "gen", (json_int_t)g,
			 "check", (json_int_t)(g * 7 + k), "pad",
			 "a payload long enough to be worth freeing");
}

/* Whether obj is whole: its fields agree with each other. */
static bool whole(const json_t *obj)
{
	const json_t *spec = json_object_get(obj, "spec");
	json_int_t k = json_integer_value(json_object_get(spec, "key"));
	json_int_t g = json_integer_value(json_object_get(spec, "gen"));
	json_int_t check = json_integer_value(json_object_get(spec, "check"));
	const char *app = json_string_value(json_object_get(
	    json_object_get(json_object_get(obj, "metadata"), "labels"),
	    "app"));
	char want[16];

	snprintf(want, sizeof(want), "v%ld", (long)(g % 4));
	return check == g * 7 + k && app && strcmp(app, want) == 0 &&
	       json_string_value(json_object_get(spec, "pad")) != NULL;
}

static void *reader(void *arg)
{
	struct conc *c = arg;
	unsigned seed = 12345;
	char name[16];
	long n = 0;

	while (!atomic_load(&c->stop)) {
		json_t *obj = NULL;
		json_t *list = NULL;
		json_t *el = NULL;
		size_t i = 0;

		seed = seed * 1103515245u + 12345u;
		snprintf(name, sizeof(name), "o%u", (seed >> 8) % N_KEYS);
		obj = kube_store_get(c->s, "ns", name);
		if (obj && !whole(obj))
			atomic_fetch_add(&c->bad, 1);
		json_decref(obj);
		if (n % 64 == 0) {
			list = kube_store_list(c->s, "ns", "app", "v1");
			if (!list)
				atomic_fetch_add(&c->bad, 1);
			json_array_foreach(list, i, el)
			{
				json_int_t g =
				    json_integer_value(json_object_get(
					json_object_get(el, "spec"), "gen"));

				if (!whole(el) || g % 4 != 1)
					atomic_fetch_add(&c->bad, 1);
			}
			json_decref(list);
		}
		n++;
	}
	atomic_fetch_add(&c->reads, n);
	return NULL;
}

static void test_concurrent(void **state)
{
	kube_store *s = *state;
	struct conc c = { .s = s };
	pthread_t readers[N_READERS];
	long model[N_KEYS]; /* generation, -1 when absent */
	unsigned seed = 42;
	size_t present = 0;
	size_t by_label[4] = { 0 };
	json_t *list = NULL;
	int i = 0;

	atomic_init(&c.stop, false);
	atomic_init(&c.bad, 0);
	atomic_init(&c.reads, 0);
	for (i = 0; i < N_KEYS; i++)
		model[i] = -1;
	for (i = 0; i < N_READERS; i++)
		assert_int_equal(pthread_create(&readers[i], NULL, reader, &c),
				 0);
	for (i = 0; i < N_OPS; i++) {
		int k = 0;
		char name[16];

		seed = seed * 1103515245u + 12345u;
		k = (int)((seed >> 8) % N_KEYS);
		snprintf(name, sizeof(name), "o%d", k);
		if ((seed >> 20) % 4 == 0) {
			assert_int_equal(kube_store_delete(s, "ns", name, NULL),
					 model[k] >= 0 ? GV_OK : GV_ENOTFOUND);
			model[k] = -1;
		} else {
			assert_int_equal(kube_store_put(s, gen_obj(k, i), NULL),
					 GV_OK);
			model[k] = i;
		}
	}
	atomic_store(&c.stop, true);
	for (i = 0; i < N_READERS; i++)
		pthread_join(readers[i], NULL);
	assert_int_equal(atomic_load(&c.bad), 0);
	assert_true(atomic_load(&c.reads) > 0);

	for (i = 0; i < N_KEYS; i++) {
		char name[16];
		json_t *obj = NULL;

		snprintf(name, sizeof(name), "o%d", i);
		obj = kube_store_get(s, "ns", name);
		if (model[i] < 0) {
			assert_null(obj);
			continue;
		}
		assert_non_null(obj);
		assert_int_equal(json_integer_value(json_object_get(
				     json_object_get(obj, "spec"), "gen")),
				 model[i]);
		json_decref(obj);
		present++;
		by_label[model[i] % 4]++;
	}
	assert_int_equal(kube_store_len(s), present);
	for (i = 0; i < 4; i++) {
		char app[16];

		snprintf(app, sizeof(app), "v%d", i);
		list = kube_store_list(s, "ns", "app", app);
		assert_int_equal(json_array_size(list), by_label[i]);
		json_decref(list);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key),
		cmocka_unit_test_setup_teardown(test_put_get_delete, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_label_index, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_owner_index, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_list_namespace, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_replace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_synced, setup, teardown),
		cmocka_unit_test(test_init_no_index),
		cmocka_unit_test_setup_teardown(test_put_if, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
