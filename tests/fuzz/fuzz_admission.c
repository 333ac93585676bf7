/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_admission.c: the webhook path, bytes in, bytes out, for every
 * hook, over a small filled cache (built once, on the first input).
 *
 * Besides crashes and leaks it checks on every input: serving succeeds
 * (never GV_ENOMEM: nothing runs out of memory here, so that answer is a
 * bug, as tests/fixtures/regressions/ shows); the status is 200 or 400;
 * the body is JSON; a 400 is a Kubernetes Status for a malformed
 * request; a 200 is an AdmissionReview response whose uid is the
 * request's, never with status code 500, with a base64 JSON Patch (when
 * any) that decodes to an array.
 */
#include <stdint.h>

#include "srv_admission.h"
#include "../test_memcache.h"

static const char *const cached[] = {
	"{\"apiVersion\":\"grove.io/v1alpha1\",\"kind\":\"PodCliqueSet\","
	"\"metadata\":{\"name\":\"vllm-disaggregated\",\"namespace\":"
	"\"inference\"},\"spec\":{\"scaling\":{\"minReplicas\":1,"
	"\"maxReplicas\":4},\"scalingGroups\":[{\"name\":"
	"\"prefill-decode-ratio\",\"cliques\":[\"prefill-clique\","
	"\"decode-clique\"],\"replicas\":[1,2]}],\"podCliques\":[{\"name\":"
	"\"router-clique\",\"replicas\":1,\"containers\":[{\"name\":\"r\","
	"\"image\":\"i\"}]},{\"name\":\"prefill-clique\",\"startsAfter\":"
	"\"router-clique\",\"replicas\":1,\"containers\":[{\"name\":\"p\","
	"\"image\":\"i\"}]},{\"name\":\"decode-clique\",\"startsAfter\":"
	"\"prefill-clique\",\"replicas\":2,\"containers\":[{\"name\":\"d\","
	"\"image\":\"i\"}]}]}}",
	"{\"apiVersion\":\"grove.io/v1alpha1\",\"kind\":\"PodClique\","
	"\"metadata\":{\"name\":\"vllm-disaggregated-0-router-clique\","
	"\"namespace\":\"inference\"},\"spec\":{\"replicas\":1,"
	"\"minAvailable\":1,\"autoScalingConfig\":{\"minReplicas\":1,"
	"\"maxReplicas\":3}}}",
	"{\"apiVersion\":\"grove.io/v1alpha1\",\"kind\":"
	"\"PodCliqueScalingGroup\",\"metadata\":{\"name\":"
	"\"vllm-disaggregated-0-prefill-decode-ratio\",\"namespace\":"
	"\"inference\",\"ownerReferences\":[{\"kind\":\"PodCliqueSet\","
	"\"name\":\"vllm-disaggregated\"}]},\"spec\":{\"replicas\":1,"
	"\"minAvailable\":1,\"cliqueNames\":[\"prefill-clique\","
	"\"decode-clique\"]}}",
	"{\"apiVersion\":\"resource.k8s.io/v1\",\"kind\":"
	"\"ResourceClaimTemplate\",\"metadata\":{\"name\":"
	"\"b200-prefill-claim\",\"namespace\":\"inference\"}}",
	"{\"apiVersion\":\"grove.io/v1alpha1\",\"kind\":"
	"\"ClusterTopologyBinding\",\"metadata\":{\"name\":"
	"\"grove-topology\"},\"spec\":{\"levels\":[{\"domain\":\"zone\","
	"\"key\":\"topology.kubernetes.io/zone\"}]}}",
};

static const char *const exempt[] = { NULL };
static srv_memcache *mem;
static srv_cache cache;
static srv_hook_env env;

static void setup_once(void)
{
	size_t i = 0;

	if (mem)
		return;
	mem = srv_memcache_new();
	if (!mem)
		__builtin_trap();
	for (i = 0; i < sizeof(cached) / sizeof(cached[0]); i++) {
		json_t *obj = json_loads(cached[i], 0, NULL);

		if (!obj || srv_memcache_put(mem, obj) != GV_OK)
			__builtin_trap();
		json_decref(obj);
	}
	cache = srv_memcache_cache(mem);
	env.cache = &cache;
	env.default_scheduler = "kai-scheduler";
	env.initc_image = "groved:fuzz";
	env.self_user = "system:serviceaccount:grove-system:groved";
	env.exempt_users = exempt;
}

/* The patch decodes from base64 to a JSON array. */
static void check_patch(const char *b64)
{
	size_t n = strlen(b64);
	char *out = NULL;
	size_t len = 0;
	size_t bad_at = 0;
	json_t *patch = NULL;
	int rc = GV_OK;

	if (n % 4 != 0)
		__builtin_trap();
	rc = gv_base64_decode(b64, n, &out, &len, &bad_at);
	if (rc == GV_ENOMEM)
		return;
	if (rc != GV_OK)
		__builtin_trap();
	patch = json_loadb(out, len, 0, NULL);
	if (!json_is_array(patch) || json_array_size(patch) == 0)
		__builtin_trap();
	json_decref(patch);
	free(out);
}

static void check_reply(const srv_reply *reply, const char *uid)
{
	json_t *doc =
	    json_loadb(reply->body, reply->len, JSON_REJECT_DUPLICATES, NULL);
	const json_t *resp = json_object_get(doc, "response");
	const char *got = json_string_value(json_object_get(resp, "uid"));
	const char *patch = json_string_value(json_object_get(resp, "patch"));

	if (!doc)
		__builtin_trap(); /* the answer is not JSON */
	if (reply->status == 400) {
		if (json_integer_value(json_object_get(doc, "code")) != 400 ||
		    !json_is_string(json_object_get(doc, "message")))
			__builtin_trap();
	} else if (reply->status == 200) {
		if (!uid || !got || strcmp(uid, got) != 0 ||
		    !json_is_boolean(json_object_get(resp, "allowed")))
			__builtin_trap();
		/* a verdict is 403 (or 400 for a review the hook does not
		 * handle): 500 is an internal error, which no input causes
		 * here (the cache is in memory, nothing runs out) */
		if (json_integer_value(json_object_get(
			json_object_get(resp, "status"), "code")) == 500)
			__builtin_trap();
		if (patch)
			check_patch(patch);
	} else {
		__builtin_trap();
	}
	json_decref(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *req = NULL;
	const char *uid = NULL;
	int h = 0;

	setup_once();
	req =
	    json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	uid = json_string_value(
	    json_object_get(json_object_get(req, "request"), "uid"));
	for (h = 0; h < SRV_HOOK_COUNT; h++) {
		srv_reply reply = { 0 };
		srv_review_log log;

		if (srv_admission_serve((srv_hook)h, (const char *)data, size,
					&env, &reply, &log) != GV_OK)
			__builtin_trap();
		if (reply.status == 400 && !log.malformed)
			__builtin_trap();
		check_reply(&reply, uid);
		srv_reply_release(&reply);
	}
	json_decref(req);
	return 0;
}
