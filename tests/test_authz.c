/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_authz.c: the authorizer webhook (docs/api.md section 8): a table of
 * (user, resource, subresource, operation, managed?) -> decision, the
 * denial message, the configurable exempt list, and the hook over real
 * AdmissionReview bodies.
 */
#include "test_util.h"

#include "srv_admission.h"

#define SELF "system:serviceaccount:groved-system:groved"
#define ADMIN "admin"
#define GC "system:serviceaccount:kube-system:generic-garbage-collector"
#define NSC "system:serviceaccount:kube-system:namespace-controller"
#define HPA "system:serviceaccount:kube-system:horizontal-pod-autoscaler"
#define KCM "system:kube-controller-manager"
#define GROUPER "system:serviceaccount:kai-scheduler:pod-grouper"
#define BINDER "system:serviceaccount:kai-scheduler:binder"

enum managed { NONE, OBJ, OLD, OTHER };

static const struct row {
	const char *user;
	const char *group;
	const char *resource;
	const char *sub;
	const char *op;
	enum managed managed; /* where the managed-by label is */
	pol_authz_decision want;
} rows[] = {
	/* Grove kinds: CREATE, UPDATE, DELETE guarded */
	{ ADMIN, "grove.io", "podcliques", "", "CREATE", OBJ, POL_AUTHZ_DENY },
	{ ADMIN, "grove.io", "podcliques", "", "UPDATE", OBJ, POL_AUTHZ_DENY },
	{ ADMIN, "grove.io", "podcliques", "", "DELETE", OLD, POL_AUTHZ_DENY },
	{ ADMIN, "grove.io", "podcliquescalinggroups", "", "UPDATE", OBJ,
	  POL_AUTHZ_DENY },
	{ ADMIN, "scheduler.grove.io", "podgangs", "", "DELETE", OLD,
	  POL_AUTHZ_DENY },
	{ ADMIN, "scheduler.grove.io", "podgangs", "", "CREATE", OBJ,
	  POL_AUTHZ_DENY },
	/* removing the label is caught by the old object */
	{ ADMIN, "grove.io", "podcliques", "", "UPDATE", OLD, POL_AUTHZ_DENY },
	{ SELF, "grove.io", "podcliques", "", "CREATE", OBJ, POL_AUTHZ_ALLOW },
	{ SELF, "scheduler.grove.io", "podgangs", "", "UPDATE", OBJ,
	  POL_AUTHZ_ALLOW },
	{ GC, "grove.io", "podcliques", "", "DELETE", OLD, POL_AUTHZ_ALLOW },
	{ NSC, "scheduler.grove.io", "podgangs", "", "DELETE", OLD,
	  POL_AUTHZ_ALLOW },
	{ HPA, "grove.io", "podcliques", "", "UPDATE", OBJ, POL_AUTHZ_ALLOW },
	{ KCM, "grove.io", "podcliquescalinggroups", "", "DELETE", OLD,
	  POL_AUTHZ_ALLOW },
	{ GROUPER, "scheduler.grove.io", "podgangs", "", "UPDATE", OBJ,
	  POL_AUTHZ_ALLOW },
	/* subresources are never checked */
	{ ADMIN, "grove.io", "podcliques", "scale", "UPDATE", OBJ,
	  POL_AUTHZ_ALLOW },
	{ ADMIN, "grove.io", "podcliques", "status", "UPDATE", OBJ,
	  POL_AUTHZ_ALLOW },
	/* not managed: allowed */
	{ ADMIN, "grove.io", "podcliques", "", "UPDATE", NONE,
	  POL_AUTHZ_ALLOW },
	{ ADMIN, "grove.io", "podcliques", "", "UPDATE", OTHER,
	  POL_AUTHZ_ALLOW },
	/* core and RBAC kinds: UPDATE and DELETE guarded, CREATE free */
	{ ADMIN, "", "services", "", "UPDATE", OBJ, POL_AUTHZ_DENY },
	{ ADMIN, "", "services", "", "DELETE", OLD, POL_AUTHZ_DENY },
	{ ADMIN, "", "services", "", "CREATE", OBJ, POL_AUTHZ_ALLOW },
	{ ADMIN, "", "secrets", "", "DELETE", OLD, POL_AUTHZ_DENY },
	{ ADMIN, "", "serviceaccounts", "", "UPDATE", OBJ, POL_AUTHZ_DENY },
	{ ADMIN, "rbac.authorization.k8s.io", "roles", "", "UPDATE", OBJ,
	  POL_AUTHZ_DENY },
	{ ADMIN, "rbac.authorization.k8s.io", "rolebindings", "", "DELETE", OLD,
	  POL_AUTHZ_DENY },
	{ ADMIN, "rbac.authorization.k8s.io", "roles", "", "CREATE", OBJ,
	  POL_AUTHZ_ALLOW },
	{ BINDER, "", "secrets", "", "UPDATE", OBJ, POL_AUTHZ_ALLOW },
	/* pods: UPDATE guarded, DELETE always allowed */
	{ ADMIN, "", "pods", "", "UPDATE", OBJ, POL_AUTHZ_DENY },
	{ ADMIN, "", "pods", "", "DELETE", OLD, POL_AUTHZ_ALLOW },
	{ ADMIN, "", "pods", "", "CREATE", OBJ, POL_AUTHZ_ALLOW },
	{ ADMIN, "", "pods", "binding", "CREATE", OBJ, POL_AUTHZ_ALLOW },
	{ ADMIN, "", "pods", "eviction", "CREATE", OBJ, POL_AUTHZ_ALLOW },
	{ SELF, "", "pods", "", "UPDATE", OBJ, POL_AUTHZ_ALLOW },
	/* a kind of the same name in another group is not guarded */
	{ ADMIN, "example.com", "podcliques", "", "UPDATE", OBJ,
	  POL_AUTHZ_ALLOW },
	{ ADMIN, "apps", "deployments", "", "UPDATE", OBJ, POL_AUTHZ_ALLOW },
	{ ADMIN, "", "pods", "", "CONNECT", OBJ, POL_AUTHZ_ALLOW },
	/* no user: denied like anyone else */
	{ "", "grove.io", "podcliques", "", "UPDATE", OBJ, POL_AUTHZ_DENY },
};

static json_t *object_with(const char *managed_by)
{
	json_t *o = json_pack("{s:{s:s, s:s}}", "metadata", "name", "x",
			      "namespace", "inference");

	if (managed_by)
		json_object_set_new(json_object_get(o, "metadata"), "labels",
				    json_pack("{s:s}",
					      "app.kubernetes.io/managed-by",
					      managed_by));
	return o;
}

static void test_table(void **state)
{
	const pol_authz_config cfg = { .self_user = SELF,
				       .exempt_users = NULL };
	size_t r = 0;

	(void)state;
	for (r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		const struct row *w = &rows[r];
		json_t *obj = object_with(w->managed == OBJ ? "grove-operator"
					  : w->managed == OTHER ? "helm"
								: NULL);
		json_t *old =
		    object_with(w->managed == OLD ? "grove-operator" : NULL);
		pol_authz_request rq = {
			.user = w->user,
			.operation = w->op,
			.group = w->group,
			.resource = w->resource,
			.sub_resource = w->sub,
			.namespace = "inference",
			.name = "x",
			.object = obj,
			.old_object = old,
		};
		char reason[512];

		print_message("row %zu: %s %s %s/%s\n", r, w->user, w->op,
			      w->resource, w->sub);
		assert_int_equal(
		    pol_authorize(&rq, &cfg, reason, sizeof(reason)), w->want);
		assert_true(reason[0] != '\0');
		json_decref(old);
		json_decref(obj);
	}
}

static void test_denial_message(void **state)
{
	json_t *old = object_with("grove-operator");
	pol_authz_request rq = {
		.user = "admin",
		.operation = "DELETE",
		.group = "grove.io",
		.resource = "podcliques",
		.sub_resource = "",
		.namespace = "inference",
		.name = "vllm-disaggregated-0-router-clique",
		.object = NULL,
		.old_object = old,
	};
	const pol_authz_config cfg = { SELF, NULL };
	char reason[512];
	char tiny[8];

	(void)state;
	assert_int_equal(pol_authorize(&rq, &cfg, reason, sizeof(reason)),
			 POL_AUTHZ_DENY);
	assert_string_equal(reason,
			    "podcliques \"inference/"
			    "vllm-disaggregated-0-router-clique\" is managed "
			    "by groved; changes by user \"admin\" are not "
			    "allowed (edit the PodCliqueSet instead)");
	/* truncated, never overflowed; no buffer at all is fine */
	assert_int_equal(pol_authorize(&rq, &cfg, tiny, sizeof(tiny)),
			 POL_AUTHZ_DENY);
	assert_int_equal(strlen(tiny), sizeof(tiny) - 1);
	assert_int_equal(pol_authorize(&rq, &cfg, NULL, 0), POL_AUTHZ_DENY);
	/* without a name in the request, the object's */
	rq.name = "";
	assert_int_equal(pol_authorize(&rq, &cfg, reason, sizeof(reason)),
			 POL_AUTHZ_DENY);
	assert_non_null(strstr(reason, "podcliques \"inference/x\""));
	json_decref(old);
}

/* system:masters is not exempt: the point is to stop people. */
static void test_masters_not_exempt(void **state)
{
	json_t *obj = object_with("grove-operator");
	pol_authz_request rq = {
		.user = "admin",
		.operation = "UPDATE",
		.group = "",
		.resource = "pods",
		.sub_resource = "",
		.namespace = "inference",
		.name = "x",
		.object = obj,
		.old_object = obj,
	};

	(void)state;
	assert_int_equal(pol_authorize(&rq, NULL, NULL, 0), POL_AUTHZ_DENY);
	json_decref(obj);
}

/* A configured list replaces the defaults; self stays allowed. */
static void test_configured_exempt(void **state)
{
	const char *const mine[] = { "system:serviceaccount:ops:janitor",
				     NULL };
	const pol_authz_config cfg = { .self_user = SELF,
				       .exempt_users = mine };
	json_t *obj = object_with("grove-operator");
	pol_authz_request rq = {
		.user = "system:serviceaccount:ops:janitor",
		.operation = "DELETE",
		.group = "scheduler.grove.io",
		.resource = "podgangs",
		.sub_resource = "",
		.namespace = "inference",
		.name = "x",
		.object = NULL,
		.old_object = obj,
	};

	(void)state;
	assert_int_equal(pol_authorize(&rq, &cfg, NULL, 0), POL_AUTHZ_ALLOW);
	rq.user = GC;
	assert_int_equal(pol_authorize(&rq, &cfg, NULL, 0), POL_AUTHZ_DENY);
	rq.user = SELF;
	assert_int_equal(pol_authorize(&rq, &cfg, NULL, 0), POL_AUTHZ_ALLOW);
	/* without a self user nobody is self */
	rq.user = "";
	assert_int_equal(
	    pol_authorize(&rq, &(pol_authz_config){ NULL, NULL }, NULL, 0),
	    POL_AUTHZ_DENY);
	json_decref(obj);
}

/* ---- the hook over whole reviews ---------------------------------- */

static json_t *serve(const char *body, const srv_hook_env *env)
{
	srv_reply reply = { 0 };
	json_t *answer = NULL;
	json_t *response = NULL;

	assert_int_equal(srv_admission_serve(SRV_HOOK_AUTHORIZER, body,
					     strlen(body), env, &reply, NULL),
			 GV_OK);
	assert_int_equal(reply.status, 200);
	answer = json_loadb(reply.body, reply.len, 0, NULL);
	assert_non_null(answer);
	response = json_incref(json_object_get(answer, "response"));
	json_decref(answer);
	srv_reply_release(&reply);
	return response;
}

#define REVIEW(user, op, object, old)                                       \
	"{\"apiVersion\":\"admission.k8s.io/"                               \
	"v1\",\"kind\":\"AdmissionReview\","                                \
	"\"request\":{\"uid\":\"u1\",\"kind\":{\"group\":\"grove.io\","     \
	"\"version\":\"v1alpha1\",\"kind\":\"PodClique\"},"                 \
	"\"resource\":{\"group\":\"grove.io\",\"version\":\"v1alpha1\","    \
	"\"resource\":\"podcliques\"},\"name\":\"p\",\"namespace\":\"ns\"," \
	"\"operation\":\"" op "\",\"userInfo\":{\"username\":\"" user "\"," \
	"\"groups\":[\"system:masters\"]},\"object\":" object               \
	",\"oldObject\":" old "}}"

#define MANAGED                                      \
	"{\"metadata\":{\"name\":\"p\",\"labels\":{" \
	"\"app.kubernetes.io/managed-by\":\"grove-operator\"}}}"

static void test_hook(void **state)
{
	const srv_hook_env env = { .self_user = SELF };
	json_t *resp = NULL;
	const json_t *status = NULL;

	(void)state;
	resp = serve(REVIEW("admin", "UPDATE", MANAGED, MANAGED), &env);
	assert_true(json_is_false(json_object_get(resp, "allowed")));
	status = json_object_get(resp, "status");
	assert_int_equal(json_integer_value(json_object_get(status, "code")),
			 403);
	assert_string_equal(
	    json_string_value(json_object_get(status, "message")),
	    "podcliques \"ns/p\" is managed by groved; changes by user "
	    "\"admin\" are not allowed (edit the PodCliqueSet instead)");
	json_decref(resp);
	resp = serve(REVIEW(SELF, "UPDATE", MANAGED, MANAGED), &env);
	assert_true(json_is_true(json_object_get(resp, "allowed")));
	json_decref(resp);
	resp = serve(REVIEW("admin", "DELETE", "null", MANAGED), &env);
	assert_true(json_is_false(json_object_get(resp, "allowed")));
	json_decref(resp);
	resp = serve(
	    REVIEW("admin", "UPDATE", "{\"metadata\":{}}", "{\"metadata\":{}}"),
	    &env);
	assert_true(json_is_true(json_object_get(resp, "allowed")));
	json_decref(resp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_denial_message),
		cmocka_unit_test(test_masters_not_exempt),
		cmocka_unit_test(test_configured_exempt),
		cmocka_unit_test(test_hook),
	};

	return cmocka_run_group_tests_name("authorizer", tests, NULL, NULL);
}
