/*
 * pol_json.c: policy's old name for the JSON parser, which lives in base
 * now (base/gv_json.c, groved/gv_json.h) so that kube can use it without
 * policy. Phase 2 of the base layer renames the callers to gv_json_parse
 * and removes this file and the declaration in policy.h.
 */
#include "groved/gv_json.h"
#include "groved/policy.h"

_Static_assert(POL_JSON_REJECT_DUPLICATES == GV_JSON_REJECT_DUPLICATES,
	       "the flag means the same under both names");

int pol_json_parse(const char *data, size_t len, const char *source,
		   size_t max_depth, unsigned flags, json_t **out,
		   gv_error_t *err)
{
	return gv_json_parse(data, len, source, max_depth, flags, out, err);
}
