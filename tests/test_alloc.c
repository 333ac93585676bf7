/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_alloc.c: the policy under allocation failure (curl's torture
 * tests). Every allocation, ours (malloc, calloc, realloc, strdup, wrapped
 * at link time with -Wl,--wrap) and jansson's (json_set_alloc_funcs), is
 * failed in turn; each run must end in GV_OK or GV_ENOMEM, never crash,
 * and free everything (LeakSanitizer checks that in the ASan build).
 */
#include "test_util.h"

void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);
char *__real_strdup(const char *s);
void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t size);
char *__wrap_strdup(const char *s);

/* The one piece of mutable state a torture test cannot avoid: the
 * countdown shared by the wrappers. Tests run one at a time. */
static long countdown = -1; /* allocations left before failing; -1 off */
static long failures;

static bool should_fail(void)
{
	if (countdown < 0)
		return false;
	if (countdown-- == 0) {
		failures++;
		return true;
	}
	return false;
}

void *__wrap_malloc(size_t size)
{
	return should_fail() ? NULL : __real_malloc(size);
}

void *__wrap_calloc(size_t n, size_t size)
{
	return should_fail() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t size)
{
	return should_fail() ? NULL : __real_realloc(p, size);
}

char *__wrap_strdup(const char *s)
{
	return should_fail() ? NULL : __real_strdup(s);
}

static void *json_alloc(size_t size)
{
	return __wrap_malloc(size);
}

/* A manifest that exercises most rules: several errors and warnings. */
static const char manifest[] =
    "apiVersion: grove.io/v1alpha1\n"
    "kind: PodCliqueSet\n"
    "metadata: {name: demo, namespace: inference}\n"
    "spec:\n"
    "  scaling: {minReplicas: 1, maxReplicas: 4}\n"
    "  scalingGroups:\n"
    "  - {name: pd, cliques: [prefill, decode, ghost], replicas: [1, 2]}\n"
    "  podCliques:\n"
    "  - name: router\n"
    "    startsAfter: decode\n"
    "    startAfter: x\n"
    "    containers: [{name: r, image: i, env: [{name: A}, {name: A}]}]\n"
    "  - name: prefill\n"
    "    startsAfter: [router, router]\n"
    "    resourceClaims:\n"
    "    - {name: gpu, resourceClaimTemplateName: b200}\n"
    "    - {name: gpu2, resourceClaimTemplateName: h200}\n"
    "    containers: [{name: p, image: i, resources: {claims: [{name: "
    "nope}]}}]\n"
    "  - name: decode\n"
    "    startsAfter: prefill\n"
    "    minAvailable: 9\n"
    "    containers: [{name: d}]\n";

/* The template form, as an UPDATE of an older version, with topology. */
static const char old_manifest[] =
    "metadata: {name: t}\n"
    "spec:\n"
    "  template:\n"
    "    cliqueStartupType: CliqueStartupTypeExplicit\n"
    "    topologyConstraint: {pack: {required: rack}}\n"
    "    cliques:\n"
    "    - {name: a, spec: {podSpec: {containers: [{name: c, image: i}]}}}\n"
    "    - {name: b, spec: {replicas: 2, startsAfter: [a],\n"
    "       podSpec: {containers: [{name: c, image: i}]}}}\n"
    "    podCliqueScalingGroups: [{name: g, cliqueNames: [b]}]\n";
static const char new_manifest[] =
    "metadata: {name: t}\n"
    "spec:\n"
    "  template:\n"
    "    cliqueStartupType: CliqueStartupTypeInOrder\n"
    "    terminationDelay: soon\n"
    "    topologyConstraint: {pack: {required: zone, preferred: planet}}\n"
    "    cliques:\n"
    "    - {name: b, topologyConstraint: {packDomain: zone},\n"
    "       spec: {replicas: 2, startsAfter: [a, c],\n"
    "       podSpec: {containers: [{name: c, image: i}]}}}\n"
    "    - {name: a, spec: {autoScalingConfig: {maxReplicas: 0},\n"
    "       podSpec: {containers: [{name: c, image: i}]}}}\n"
    "    podCliqueScalingGroups: [{name: g, cliqueNames: [b], minAvailable: "
    "3}]\n";

/* The binding's levels come from ctx, built before the torture starts:
 * a cache answers without allocating. */
static pol_lookup_result binding(void *ctx, const char *name, json_t **levels,
				 char *why, size_t size)
{
	(void)why;
	(void)size;
	if (strcmp(name, "grove-topology") != 0)
		return POL_LOOKUP_MISSING;
	*levels = json_incref(ctx);
	return POL_LOOKUP_FOUND;
}

static int run_update(char **message_out)
{
	static json_t *levels;
	pol_lookup lookup = { NULL, binding, NULL };
	pol_options opts = { NULL, NULL, &lookup };
	json_t *old = NULL;
	json_t *cur = NULL;
	pol_verdict v = POL_VERDICT_INIT;
	char *msg = NULL;
	int rc = GV_OK;

	if (!levels)
		levels = json_pack("[{s:s},{s:s},{s:s}]", "domain", "zone",
				   "domain", "rack", "domain", "host");
	lookup.ctx = levels;
	rc = gv_read_documents(old_manifest, sizeof(old_manifest) - 1, "o",
			       &old, NULL, NULL);
	if (rc == GV_OK)
		rc = gv_read_documents(new_manifest, sizeof(new_manifest) - 1,
				       "n", &cur, NULL, NULL);
	if (rc == GV_OK)
		rc = pol_review_pcs(json_array_get(cur, 0),
				    json_array_get(old, 0), &opts, &v, NULL);
	if (rc != GV_OK)
		goto out;
	msg = pol_verdict_message(&v);
	if (!msg) {
		rc = GV_ENOMEM;
		goto out;
	}
	*message_out = msg;
out:
	json_decref(old);
	json_decref(cur);
	pol_verdict_release(&v);
	return rc;
}

/* One full run; returns the first non-OK result, or GV_OK. */
static int run_create(char **message_out)
{
	json_t *docs = NULL;
	json_t *causes = NULL;
	pol_verdict v = POL_VERDICT_INIT;
	char *msg = NULL;
	int rc = GV_OK;

	rc = gv_read_documents(manifest, sizeof(manifest) - 1, "t", &docs, NULL,
			       NULL);
	if (rc != GV_OK)
		goto out;
	rc = pol_review_pcs(json_array_get(docs, 0), NULL, NULL, &v, NULL);
	if (rc != GV_OK)
		goto out;
	msg = pol_verdict_message(&v);
	causes = pol_verdict_causes(&v);
	if (!msg || !causes) {
		rc = GV_ENOMEM;
		goto out;
	}
	*message_out = msg;
	msg = NULL;
out:
	free(msg);
	json_decref(causes);
	json_decref(docs);
	pol_verdict_release(&v);
	return rc;
}

typedef int (*run_fn)(char **message_out);

/* Fails each allocation of run in turn; `expect` is in the full answer. */
static void torture(run_fn run_once, const char *expect)
{
	char *want = NULL;
	long n = 0;
	long enomem = 0;

	json_set_alloc_funcs(json_alloc, free);
	assert_int_equal(run_once(&want), GV_OK);
	assert_non_null(strstr(want, expect));
	for (n = 0;; n++) {
		char *got = NULL;
		int rc = 0;

		failures = 0;
		countdown = n;
		rc = run_once(&got);
		countdown = -1;
		if (failures == 0) {
			/* past the last allocation: the run is whole again */
			assert_int_equal(rc, GV_OK);
			assert_string_equal(got, want);
			free(got);
			break;
		}
		/* a failure may be absorbed (a cache that could not be
		 * filled), but never into another answer */
		if (rc == GV_OK) {
			if (strcmp(got, want) != 0) {
				fprintf(stderr,
					"allocation %ld failed; answer\n%s\n"
					"instead of\n%s\n",
					n, got, want);
				fail();
			}
			free(got);
		} else {
			assert_int_equal(rc, GV_ENOMEM);
			enomem++;
		}
	}
	json_set_alloc_funcs(malloc, free);
	free(want);
	print_message("%ld allocations failed in turn, %ld runs ended in "
		      "GV_ENOMEM\n",
		      n, enomem);
	/* the manifest must need many allocations for this to mean much */
	assert_true(n > 200);
	assert_true(enomem > n / 2);
}

static void test_create_fails_cleanly(void **state)
{
	(void)state;
	torture(run_create, "startsAfter cycle");
}

static void test_update_fails_cleanly(void **state)
{
	(void)state;
	torture(run_update, "field is immutable");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_fails_cleanly),
		cmocka_unit_test(test_update_fails_cleanly),
	};

	return cmocka_run_group_tests_name("alloc", tests, NULL, NULL);
}
