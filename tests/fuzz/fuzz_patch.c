/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_patch.c: libFuzzer target for pol_patch_apply().
 *
 * The input is a document and a patch, both JSON, split at the first NUL
 * byte or, when there is none, in half. Inputs that do not parse are
 * skipped: the parser is jansson's, and the target is the patch code.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "groved/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	const char *nul = memchr(text, '\0', size);
	size_t doc_len = nul ? (size_t)(nul - text) : size / 2;
	size_t patch_at = nul ? doc_len + 1 : doc_len;
	gv_error_t err = GV_ERROR_INIT;
	json_t *doc = NULL;
	json_t *patch = NULL;
	json_t *before = NULL;
	json_t *out = NULL;
	int rc = 0;

	doc = json_loadb(text, doc_len, JSON_DECODE_ANY, NULL);
	if (!doc)
		goto out;
	patch =
	    json_loadb(text + patch_at, size - patch_at, JSON_DECODE_ANY, NULL);
	if (!patch)
		goto out;
	before = json_deep_copy(doc);
	if (!before)
		goto out;
	rc = pol_patch_apply(doc, patch, &out, &err);
	/* The contract, checked on every input: an answer or an error with
	 * words, and doc as it was either way. */
	if ((rc == GV_OK) != (out != NULL))
		__builtin_trap();
	if (rc != GV_OK && err.text[0] == '\0')
		__builtin_trap();
	if (!json_equal(doc, before))
		__builtin_trap();
out:
	json_decref(out);
	json_decref(before);
	json_decref(patch);
	json_decref(doc);
	return 0;
}
