/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_read.c: libFuzzer target for gv_read_documents().
 *
 * Any input must end in success or a filled error, without a crash, a
 * leak or a timeout; on success the documents must dump as JSON.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "groved/gv_read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *docs = NULL;
	json_t *lines = NULL;
	gv_error_t err = GV_ERROR_INIT;
	char *dump = NULL;
	char text[GV_ERROR_SOURCE_MAX + GV_ERROR_TEXT_MAX + 32];

	if (gv_read_documents((const char *)data, size, "fuzz", &docs, &lines,
			      &err) == GV_OK) {
		if (json_array_size(docs) != json_array_size(lines))
			abort();
		/* every value we build must be representable as JSON */
		dump = json_dumps(docs, JSON_COMPACT);
		if (!dump)
			abort();
	} else {
		gv_error_format(&err, text, sizeof(text));
	}
	free(dump);
	json_decref(docs);
	json_decref(lines);
	return 0;
}
