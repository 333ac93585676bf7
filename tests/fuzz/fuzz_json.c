/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_json.c: gv_json_parse against jansson, differentially. Both must
 * agree on whether the input is JSON (jansson with JSON_DECODE_ANY, as
 * gv_json_parse accepts any top-level value; both refuse \u0000)
 * and, when it is, on the value it is. jansson stops reading at a NUL
 * byte (gv_json_parse rightly calls what follows trailing garbage), so the
 * comparison uses the input up to the first NUL; the whole input is
 * parsed too, for crashes and leaks.
 */
#include <stdint.h>

#include "groved/gv_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t jerr;
	gv_error_t err = GV_ERROR_INIT;
	json_t *ref = NULL;
	json_t *mine = NULL;
	const uint8_t *nul = memchr(data, 0, size);
	int rc = 0;

	if (gv_json_parse((const char *)data, size, "fuzz", 2048, 0, &mine,
			  &err) == GV_OK)
		json_decref(mine);
	mine = NULL;
	if (nul)
		size = (size_t)(nul - data);
	ref = json_loadb((const char *)data, size, JSON_DECODE_ANY, &jerr);
	rc = gv_json_parse((const char *)data, size, "fuzz", 2048, 0, &mine,
			   &err);
	/* jansson's own depth limit is 2048: beyond, both refuse */
	if ((ref != NULL) != (rc == GV_OK))
		__builtin_trap();
	if (ref && !json_equal(ref, mine))
		__builtin_trap();
	json_decref(ref);
	json_decref(mine);
	return 0;
}
