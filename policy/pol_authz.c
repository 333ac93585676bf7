/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pol_authz.c: the authorizer webhook's decision (docs/api.md section 8):
 * what the worker owns, only the worker (and the controllers that must
 * clean up or schedule it) may change. Everyone else edits the
 * PodCliqueSet.
 */
#include "pol_int.h"

const char *const pol_authz_default_exempt[] = {
	"system:serviceaccount:kube-system:generic-garbage-collector",
	"system:serviceaccount:kube-system:namespace-controller",
	"system:serviceaccount:kube-system:horizontal-pod-autoscaler",
	"system:kube-controller-manager",
	/* KAI Scheduler, installed by its Helm chart in kai-scheduler */
	"system:serviceaccount:kai-scheduler:pod-grouper",
	"system:serviceaccount:kai-scheduler:binder",
	NULL,
};

/* Operations checked, as a bit set. */
enum {
	OP_CREATE = 1 << 0,
	OP_UPDATE = 1 << 1,
	OP_DELETE = 1 << 2,
};

/* The resources groved guards, and which operations on them. */
static const struct guarded {
	const char *group;
	const char *resource;
	unsigned ops;
} guarded[] = {
	{ "grove.io", "podcliques", OP_CREATE | OP_UPDATE | OP_DELETE },
	{ "grove.io", "podcliquescalinggroups",
	  OP_CREATE | OP_UPDATE | OP_DELETE },
	{ "scheduler.grove.io", "podgangs", OP_CREATE | OP_UPDATE | OP_DELETE },
	{ "", "services", OP_UPDATE | OP_DELETE },
	{ "", "secrets", OP_UPDATE | OP_DELETE },
	{ "", "serviceaccounts", OP_UPDATE | OP_DELETE },
	{ "rbac.authorization.k8s.io", "roles", OP_UPDATE | OP_DELETE },
	{ "rbac.authorization.k8s.io", "rolebindings", OP_UPDATE | OP_DELETE },
	/* pod DELETE is always allowed: a person may kill a stuck pod and
	 * the worker replaces it */
	{ "", "pods", OP_UPDATE },
};

static unsigned op_bit(const char *op)
{
	if (strcmp(op, "CREATE") == 0)
		return OP_CREATE;
	if (strcmp(op, "UPDATE") == 0)
		return OP_UPDATE;
	if (strcmp(op, "DELETE") == 0)
		return OP_DELETE;
	return 0;
}

static bool is_guarded(const char *group, const char *resource, unsigned op)
{
	size_t i = 0;

	for (i = 0; i < sizeof(guarded) / sizeof(guarded[0]); i++) {
		if (strcmp(guarded[i].group, group) == 0 &&
		    strcmp(guarded[i].resource, resource) == 0)
			return (guarded[i].ops & op) != 0;
	}
	return false;
}

static bool is_managed(const json_t *obj)
{
	const json_t *labels =
	    json_object_get(json_object_get(obj, "metadata"), "labels");
	const char *by = pol_get_str(labels, POL_LABEL_MANAGED_BY);

	return by && strcmp(by, POL_MANAGED_BY) == 0;
}

static bool is_exempt(const char *user, const pol_authz_config *cfg)
{
	const char *const *list = pol_authz_default_exempt;

	if (cfg && cfg->self_user && cfg->self_user[0] &&
	    strcmp(user, cfg->self_user) == 0)
		return true;
	if (cfg && cfg->exempt_users)
		list = cfg->exempt_users;
	for (; *list; list++) {
		if (strcmp(user, *list) == 0)
			return true;
	}
	return false;
}

/* The object's name for the message: the request's, else the object's
 * (a CREATE by generateName has none yet). */
static const char *name_of(const pol_authz_request *rq)
{
	const json_t *meta = NULL;
	const char *s = NULL;

	if (rq->name && rq->name[0])
		return rq->name;
	meta = json_object_get(rq->object ? rq->object : rq->old_object,
			       "metadata");
	s = pol_get_str(meta, "name");
	if (s && s[0])
		return s;
	s = pol_get_str(meta, "generateName");
	return s ? s : "";
}

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

static pol_authz_decision allow(char *reason, size_t size, const char *why)
{
	if (reason && size)
		snprintf(reason, size, "%s", why);
	return POL_AUTHZ_ALLOW;
}

pol_authz_decision pol_authorize(const pol_authz_request *rq,
				 const pol_authz_config *cfg, char *reason,
				 size_t size)
{
	const char *user = NULL;
	const char *ns = NULL;
	unsigned op = 0;

	if (!rq)
		return allow(reason, size, "no request");
	if (rq->sub_resource && rq->sub_resource[0])
		return allow(reason, size, "subresources are not checked");
	op = op_bit(or_empty(rq->operation));
	if (!is_guarded(or_empty(rq->group), or_empty(rq->resource), op))
		return allow(reason, size,
			     "not a guarded resource and operation");
	if (!is_managed(rq->object) && !is_managed(rq->old_object))
		return allow(reason, size, "object not managed by groved");
	user = or_empty(rq->user);
	if (is_exempt(user, cfg))
		return allow(reason, size, "user is groved or exempt");
	if (reason && size) {
		ns = or_empty(rq->namespace);
		snprintf(reason, size,
			 "%s \"%s%s%s\" is managed by groved; changes by user "
			 "\"%s\" are not allowed (edit the PodCliqueSet "
			 "instead)",
			 or_empty(rq->resource), ns, ns[0] ? "/" : "",
			 name_of(rq), user);
	}
	return POL_AUTHZ_DENY;
}
