/* SPDX-License-Identifier: Apache-2.0 */
/*
 * srv_hook_authz.c: the authorizer webhook (docs/api.md section 8). The
 * decision is pol_authorize's; this file only adapts the review to it.
 */
#include "srv_admission.h"

int srv_hook_authorize(const srv_review *r, const srv_hook_env *env,
		       srv_answer *out)
{
	srv_answer a;
	char reason[1024];
	pol_authz_request rq = {
		.user = r->user,
		.operation = r->operation,
		.group = r->group,
		.resource = r->resource,
		.sub_resource = r->sub_resource,
		.namespace = r->namespace,
		.name = r->name,
		.object = r->object,
		.old_object = r->old_object,
	};
	pol_authz_config cfg = {
		.self_user = env ? env->self_user : NULL,
		.exempt_users = env ? env->exempt_users : NULL,
	};
	int rc = GV_OK;

	srv_answer_init(&a);
	a.allowed = true;
	if (pol_authorize(&rq, &cfg, reason, sizeof(reason)) ==
	    POL_AUTHZ_DENY) {
		a.allowed = false;
		a.code = 403;
		a.message = strdup(reason);
		if (!a.message) {
			rc = GV_ENOMEM;
			goto out;
		}
	}
out:
	if (rc == GV_OK)
		*out = a;
	else
		srv_answer_release(&a);
	return rc;
}
