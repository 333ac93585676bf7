/*
 * kube_connect.h: from a kubeconfig (or the in-cluster configuration) to
 * a ready REST client, and the cluster lookups the policy needs.
 */
#ifndef GROVED_KUBE_CONNECT_H
#define GROVED_KUBE_CONNECT_H

#include "groved/policy.h"
#include "kube_client.h"
#include "kube_config.h"

typedef struct kube_conn {
	kube_config cfg;
	kube_client client;
	char *token; /* read once at connect (a short-lived command) */
	/* the resource.k8s.io version that serves ResourceClaimTemplates,
	 * found on first use: "v1", "v1beta2", "v1beta1"; "" when none */
	char claim_version[16];
	bool claim_version_known;
} kube_conn;

/*
 * Loads kubeconfig (NULL: $KUBECONFIG, then ~/.kube/config, then the
 * in-cluster configuration) with context (NULL: the current one) and
 * makes a client. The caller has called curl_global_init. Returns GV_OK,
 * or the error of kube_config_load / kube_client_init with err filled;
 * kc is then released.
 */
int kube_connect(kube_conn *kc, const char *kubeconfig, const char *context,
		 gv_error_t *err);
void kube_conn_release(kube_conn *kc);

/*
 * The version of resource.k8s.io that serves ResourceClaimTemplates
 * (v1, v1beta2 or v1beta1), found once by listing one item in ns (NULL:
 * every namespace) and kept in kc->claim_version: FOUND, MISSING (none
 * served) or UNKNOWN (why says what failed).
 */
pol_lookup_result kube_conn_claim_version(kube_conn *kc, const char *ns,
					  char *why, size_t size);

/* pol_lookup functions over a kube_conn (ctx): found, missing, or
 * unknown with why (API server unreachable, API not served). */
pol_lookup_result kube_lookup_claim_template(void *ctx, const char *ns,
					     const char *name, char *why,
					     size_t why_size);
pol_lookup_result kube_lookup_topology(void *ctx, const char *name,
				       json_t **levels, char *why,
				       size_t why_size);

#endif
