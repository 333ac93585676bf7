/*
 * kube_connect.h: from a kubeconfig (or the in-cluster configuration) to
 * a ready REST client, and the cluster lookups the policy needs.
 */
#ifndef GROVED_KUBE_CONNECT_H
#define GROVED_KUBE_CONNECT_H

#include <pthread.h>
#include <stdint.h>

#include "groved/policy.h"
#include "kube_client.h"
#include "kube_config.h"

/* A token file re-read while a process runs (kubelet rotates a pod's
 * service account token about hourly), as client-go's caching token
 * source does: at most once a refresh_ms, and a read that fails keeps the
 * token it has. The callback's string stays valid for two refreshes,
 * far longer than the client takes to copy it. */
typedef struct kube_file_token {
	pthread_mutex_t lock;
	const kube_config *cfg; /* borrowed: the conn's */
	char *current; /* under lock */
	char *previous; /* still valid for a caller that got it last time */
	uint64_t read_at_ms; /* monotonic */
	uint64_t refresh_ms; /* 60000; tests set it lower */
} kube_file_token;

typedef struct kube_conn {
	kube_config cfg;
	kube_client client;
	/* the token as read at connect: a kubeconfig's own token, or the
	 * file's first reading */
	char *token;
	kube_file_token *file_token; /* when the token comes from a file */
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
 * A second client on kc's server and credentials (the same token source)
 * with its own budget: timeout_ms for connecting and for the whole
 * request, max_attempts tries. For callers on a deadline: a webhook's
 * live GET must answer within kube-apiserver's timeout. out is released
 * with kube_client_release() before kc is. Returns as kube_client_init.
 */
int kube_conn_client(kube_conn *kc, long timeout_ms, unsigned max_attempts,
		     kube_client *out, gv_error_t *err);

/*
 * The version of resource.k8s.io that serves ResourceClaimTemplates
 * (v1, v1beta2 or v1beta1), found once by listing one item in ns (NULL:
 * every namespace) and kept in kc->claim_version: FOUND, MISSING (none
 * served) or UNKNOWN (why says what failed).
 */
pol_lookup_result kube_conn_claim_version(kube_conn *kc, const char *ns,
					  char *why, size_t size);

/* A claim template by name through client (kc's, or a kube_conn_client
 * with its own budget): found, missing, or unknown with why. The
 * resource.k8s.io version is found once with kc's own client. */
pol_lookup_result kube_conn_claim_template(kube_conn *kc, kube_client *client,
					   const char *ns, const char *name,
					   char *why, size_t why_size);

/* pol_lookup functions over a kube_conn (ctx): found, missing, or
 * unknown with why (API server unreachable, API not served). */
pol_lookup_result kube_lookup_claim_template(void *ctx, const char *ns,
					     const char *name, char *why,
					     size_t why_size);
pol_lookup_result kube_lookup_topology(void *ctx, const char *name,
				       json_t **levels, char *why,
				       size_t why_size);

#endif
