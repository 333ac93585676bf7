/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_validate.c: the manifest reader, the defaults and the validator,
 * end to end, as `groved validate` runs them on untrusted files.
 *
 * Besides crashes and leaks it checks on every input: the defaults are
 * idempotent (a second pass patches nothing); a review never answers
 * GV_ENOMEM (nothing runs out of memory here: an input that makes the
 * verdict say "out of memory" is a bug, tests/fixtures/regressions/);
 * a denial always renders to a message within POL_VERDICT_BYTES_MAX and
 * causes; every field, detail, message and warning is valid UTF-8 (JSON
 * carries them: `groved validate -o json`, the webhook's answer). Each
 * document is also checked as an UPDATE of itself and of the document
 * before it, as `groved validate --old` does.
 */
#include <stdint.h>

#include "groved/gv_read.h"
#include "groved/policy.h"

static void check_defaults_idempotent(const json_t *obj)
{
	json_t *patch = NULL;
	json_t *patched = NULL;
	json_t *again = NULL;

	if (pol_defaults_pcs(obj, &patch, NULL) != GV_OK)
		return;
	if (pol_patch_apply(obj, patch, &patched, NULL) == GV_OK &&
	    pol_defaults_pcs(patched, &again, NULL) == GV_OK) {
		if (json_array_size(again) != 0)
			__builtin_trap(); /* defaults are not idempotent */
	}
	json_decref(again);
	json_decref(patched);
	json_decref(patch);
}

static void check_utf8(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	size_t i = 0;

	while (i < n) {
		size_t l = gv_utf8_len((const unsigned char *)s + i, n - i);

		if (!l)
			__builtin_trap(); /* JSON cannot carry it */
		i += l;
	}
}

/* What every caller of a verdict relies on. */
static void check_verdict(int rc, const pol_verdict *v)
{
	char *msg = NULL;
	json_t *causes = NULL;
	size_t i = 0;

	if (rc == GV_ENOMEM || v->oom)
		__builtin_trap(); /* out of memory that is not */
	if (rc != GV_OK)
		return;
	for (i = 0; i < v->n_errors; i++) {
		char *one = pol_ferr_string(&v->errors[i]);

		if (!one)
			__builtin_trap();
		check_utf8(one);
		check_utf8(v->errors[i].field);
		check_utf8(v->errors[i].detail);
		free(one);
	}
	for (i = 0; i < v->n_warnings; i++)
		check_utf8(v->warnings[i]);
	if (!v->n_errors)
		return;
	msg = pol_verdict_message(v);
	causes = pol_verdict_causes(v);
	if (!msg || json_array_size(causes) != v->n_errors ||
	    strlen(msg) > POL_VERDICT_BYTES_MAX)
		__builtin_trap();
	check_utf8(msg);
	free(msg);
	json_decref(causes);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *docs = NULL;
	const json_t *obj = NULL;
	const json_t *prev = NULL;
	size_t i = 0;

	if (gv_read_documents((const char *)data, size, "fuzz", &docs, NULL,
			      NULL) != GV_OK)
		return 0;
	json_array_foreach(docs, i, obj)
	{
		pol_options opts = { NULL, NULL, NULL };
		pol_verdict v = POL_VERDICT_INIT;
		int rc = GV_OK;

		check_defaults_idempotent(obj);
		rc = pol_review_pcs(obj, NULL, &opts, &v, NULL);
		check_verdict(rc, &v);
		pol_verdict_release(&v);
		/* the same object as an UPDATE of itself */
		pol_verdict_init(&v);
		rc = pol_validate_pcs(obj, obj, &opts, &v);
		check_verdict(rc, &v);
		pol_verdict_release(&v);
		/* as an UPDATE of the document before it */
		if (prev) {
			pol_verdict_init(&v);
			rc = pol_review_pcs(obj, prev, &opts, &v, NULL);
			check_verdict(rc, &v);
			pol_verdict_release(&v);
		}
		pol_verdict_init(&v);
		rc = pol_validate_topology_binding(obj, &v);
		check_verdict(rc, &v);
		pol_verdict_release(&v);
		prev = obj;
	}
	json_decref(docs);
	return 0;
}
