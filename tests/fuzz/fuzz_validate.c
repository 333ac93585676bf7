/*
 * fuzz_validate.c: the manifest reader, the defaults and the validator,
 * end to end, as `groved validate` runs them on untrusted files.
 *
 * Besides crashes and leaks it checks two properties on every input:
 * the defaults are idempotent (a second pass patches nothing), and a
 * denial always renders to a message and causes.
 */
#include <stdint.h>

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *docs = NULL;
	const json_t *obj = NULL;
	size_t i = 0;

	if (pol_read_documents((const char *)data, size, "fuzz", &docs, NULL,
			       NULL) != GV_OK)
		return 0;
	json_array_foreach(docs, i, obj)
	{
		pol_options opts = { NULL, NULL, NULL };
		pol_verdict v = POL_VERDICT_INIT;
		char *msg = NULL;
		json_t *causes = NULL;

		check_defaults_idempotent(obj);
		if (pol_review_pcs(obj, NULL, &opts, &v, NULL) == GV_OK &&
		    v.n_errors) {
			msg = pol_verdict_message(&v);
			causes = pol_verdict_causes(&v);
			if (!msg || json_array_size(causes) != v.n_errors)
				__builtin_trap();
		}
		free(msg);
		json_decref(causes);
		pol_verdict_release(&v);
		/* the same object as an UPDATE of itself */
		pol_verdict_init(&v);
		(void)pol_validate_pcs(obj, obj, &opts, &v);
		pol_verdict_release(&v);
		pol_verdict_init(&v);
		(void)pol_validate_topology_binding(obj, &v);
		pol_verdict_release(&v);
	}
	json_decref(docs);
	return 0;
}
