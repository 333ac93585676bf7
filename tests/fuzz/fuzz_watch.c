/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_watch.c: what a watch stream from the API server delivers, split
 * into lines as kube_client splits it, each through
 * kube_watch_event_parse(). A line is an event (type known, object an
 * object) or refused with a kind and a message; never a crash or a leak.
 */
#include <stdint.h>

#include "groved/kube.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	const char *end = p + size;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		kube_result res;
		json_t *ev = NULL;
		const json_t *obj = NULL;
		kube_event_type type = KUBE_EVENT_ADDED;
		int rc = 0;

		memset(&res, 0, sizeof(res));
		if (len) {
			rc = kube_watch_event_parse(p, len, &ev, &type, &obj,
						    &res);
			if (rc == GV_OK) {
				if (!ev || !json_is_object(obj) ||
				    type > KUBE_EVENT_BOOKMARK)
					__builtin_trap();
				json_decref(ev);
			} else if (ev || res.kind == KUBE_ERR_NONE) {
				__builtin_trap();
			}
		}
		p += len + 1;
	}
	return 0;
}
