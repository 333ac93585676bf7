/*
 * kube_connect.c: a kube_conn (configuration and client) and the cluster
 * lookups that V14 and V20 make when `groved validate --kubeconfig` runs.
 */
#include "kube_connect.h"

#include "groved/gv_time.h"

/* Versions of resource.k8s.io that serve ResourceClaimTemplates, newest
 * first: which one a cluster serves depends on its Kubernetes version. */
static const char *const claim_versions[] = { "v1", "v1beta2", "v1beta1",
					      NULL };

/* kube_client_opts.token for a token file (kube_connect.h). */
static const char *file_token(void *ctx)
{
	kube_file_token *ft = ctx;
	uint64_t now = gv_now_ms();
	gv_error_t err = GV_ERROR_INIT;
	char *buf = NULL;
	const char *token = NULL;

	pthread_mutex_lock(&ft->lock);
	if (now - ft->read_at_ms >= ft->refresh_ms &&
	    (buf = malloc(KUBE_TOKEN_MAX + 1)) != NULL) {
		/* a file caught mid-rotation keeps the old token */
		if (kube_config_token(ft->cfg, buf, KUBE_TOKEN_MAX + 1, &err) ==
			GV_OK &&
		    strcmp(buf, ft->current) != 0) {
			char *fresh = strdup(buf);

			if (fresh) {
				free(ft->previous);
				ft->previous = ft->current;
				ft->current = fresh;
			}
		}
		ft->read_at_ms = now;
		memset(buf, 0, KUBE_TOKEN_MAX + 1);
		free(buf);
	}
	token = ft->current;
	pthread_mutex_unlock(&ft->lock);
	return token;
}

static void file_token_free(kube_file_token *ft)
{
	if (!ft)
		return;
	pthread_mutex_destroy(&ft->lock);
	free(ft->current);
	free(ft->previous);
	free(ft);
}

/* The connection and credentials of kc as client options. */
static void conn_opts(const kube_conn *kc, kube_client_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->server = kc->cfg.server;
	o->ca_pem = kc->cfg.ca_pem;
	o->insecure = kc->cfg.insecure;
	o->tls_server_name = kc->cfg.tls_server_name;
	o->client_cert_pem = kc->cfg.client_cert_pem;
	o->client_key_pem = kc->cfg.client_key_pem;
	if (kc->file_token) {
		o->token = file_token;
		o->token_ctx = kc->file_token;
	} else if (kc->token) {
		o->token = kube_token_static;
		o->token_ctx = kc->token;
	}
}

int kube_conn_client(kube_conn *kc, long timeout_ms, unsigned max_attempts,
		     kube_client *out, gv_error_t *err)
{
	kube_client_opts o;

	conn_opts(kc, &o);
	o.connect_timeout_ms = timeout_ms;
	o.timeout_ms = timeout_ms;
	o.max_attempts = max_attempts;
	return kube_client_init(out, &o, err);
}

int kube_connect(kube_conn *kc, const char *kubeconfig, const char *context,
		 gv_error_t *err)
{
	kube_client_opts o;
	char token[KUBE_TOKEN_MAX + 1];
	int rc = GV_OK;

	memset(kc, 0, sizeof(*kc));
	kube_config_init(&kc->cfg);
	rc = kube_config_load(&kc->cfg, kubeconfig, context, err);
	if (rc == GV_ENOTFOUND && !kubeconfig)
		rc = kube_config_in_cluster(&kc->cfg, "", err);
	if (rc != GV_OK)
		goto out;
	if (kc->cfg.token || kc->cfg.token_file) {
		rc = kube_config_token(&kc->cfg, token, sizeof(token), err);
		if (rc != GV_OK)
			goto out;
		kc->token = strdup(token);
		if (!kc->token) {
			rc = gv_error_set(err, GV_ENOMEM, NULL, 0, 0,
					  "out of memory");
			goto out;
		}
	}
	/* a token file (a pod's service account) is rotated under a running
	 * process: read it again now and then */
	if (!kc->cfg.token && kc->cfg.token_file) {
		kc->file_token = calloc(1, sizeof(*kc->file_token));
		if (!kc->file_token) {
			rc = gv_error_set(err, GV_ENOMEM, NULL, 0, 0,
					  "out of memory");
			goto out;
		}
		pthread_mutex_init(&kc->file_token->lock, NULL);
		kc->file_token->cfg = &kc->cfg;
		kc->file_token->read_at_ms = gv_now_ms();
		kc->file_token->refresh_ms = 60000;
		kc->file_token->current = strdup(kc->token);
		if (!kc->file_token->current) {
			rc = gv_error_set(err, GV_ENOMEM, NULL, 0, 0,
					  "out of memory");
			goto out;
		}
	}
	conn_opts(kc, &o);
	/* a command waits for no one: fail fast when the server is away */
	o.connect_timeout_ms = 3000;
	o.timeout_ms = 10000;
	o.max_attempts = 2;
	rc = kube_client_init(&kc->client, &o, err);
out:
	if (rc != GV_OK) {
		file_token_free(kc->file_token);
		kube_config_release(&kc->cfg);
		free(kc->token);
		memset(kc, 0, sizeof(*kc));
	}
	return rc;
}

void kube_conn_release(kube_conn *kc)
{
	if (!kc)
		return;
	kube_client_release(&kc->client);
	file_token_free(kc->file_token);
	kube_config_release(&kc->cfg);
	free(kc->token);
	memset(kc, 0, sizeof(*kc));
}

/* Why a request got no answer, for a "not checked" warning. */
static void unreachable(const kube_result *res, char *why, size_t size)
{
	snprintf(why, size, "cannot ask the API server (%s%s%s)",
		 kube_strerror(res->kind), res->message[0] ? ": " : "",
		 res->message);
}

/* The first claim-template version the cluster serves: a list of one
 * item answers 404 when the version is not served. */
pol_lookup_result kube_conn_claim_version(kube_conn *kc, const char *ns,
					  char *why, size_t size)
{
	size_t i = 0;

	if (kc->claim_version_known)
		return kc->claim_version[0] ? POL_LOOKUP_FOUND
					    : POL_LOOKUP_MISSING;
	for (i = 0; claim_versions[i]; i++) {
		kube_gvr gvr = { "resource.k8s.io", claim_versions[i],
				 "resourceclaimtemplates", true };
		kube_query q = { NULL, NULL, 1, NULL, NULL, NULL };
		kube_list_page page;
		kube_result res;
		gv_error_t err = GV_ERROR_INIT;
		int rc = GV_OK;

		memset(&page, 0, sizeof(page));
		rc = kube_list(&kc->client, &gvr, ns, &q, &page, &res, &err);
		kube_list_page_release(&page);
		if (rc == GV_OK) {
			snprintf(kc->claim_version, sizeof(kc->claim_version),
				 "%s", claim_versions[i]);
			kc->claim_version_known = true;
			return POL_LOOKUP_FOUND;
		}
		if (res.kind != KUBE_ERR_NOT_FOUND) {
			unreachable(&res, why, size);
			return POL_LOOKUP_UNKNOWN;
		}
	}
	kc->claim_version_known = true;
	return POL_LOOKUP_MISSING;
}

pol_lookup_result kube_lookup_claim_template(void *ctx, const char *ns,
					     const char *name, char *why,
					     size_t why_size)
{
	kube_conn *kc = ctx;

	return kube_conn_claim_template(kc, &kc->client, ns, name, why,
					why_size);
}

pol_lookup_result kube_conn_claim_template(kube_conn *kc, kube_client *client,
					   const char *ns, const char *name,
					   char *why, size_t why_size)
{
	kube_gvr gvr = { "resource.k8s.io", NULL, "resourceclaimtemplates",
			 true };
	kube_result res;
	gv_error_t err = GV_ERROR_INIT;
	json_t *obj = NULL;
	int rc = GV_OK;

	switch (kube_conn_claim_version(kc, ns, why, why_size)) {
	case POL_LOOKUP_FOUND:
		break;
	case POL_LOOKUP_MISSING:
		snprintf(why, why_size,
			 "the cluster serves no ResourceClaimTemplates "
			 "(resource.k8s.io v1, v1beta2 or v1beta1)");
		return POL_LOOKUP_UNKNOWN;
	default:
		return POL_LOOKUP_UNKNOWN;
	}
	gvr.version = kc->claim_version;
	rc = kube_get(client, &gvr, ns, name, NULL, &obj, &res, &err);
	json_decref(obj);
	if (rc == GV_OK)
		return POL_LOOKUP_FOUND;
	if (res.kind == KUBE_ERR_NOT_FOUND)
		return POL_LOOKUP_MISSING;
	unreachable(&res, why, why_size);
	return POL_LOOKUP_UNKNOWN;
}

pol_lookup_result kube_lookup_topology(void *ctx, const char *name,
				       json_t **levels, char *why,
				       size_t why_size)
{
	kube_conn *kc = ctx;
	kube_gvr gvr = { "grove.io", "v1alpha1", "clustertopologybindings",
			 false };
	kube_result res;
	gv_error_t err = GV_ERROR_INIT;
	json_t *obj = NULL;
	int rc =
	    kube_get(&kc->client, &gvr, NULL, name, NULL, &obj, &res, &err);

	if (rc == GV_OK) {
		json_t *l =
		    json_object_get(json_object_get(obj, "spec"), "levels");

		*levels = l ? json_incref(l) : json_array();
		json_decref(obj);
		return *levels ? POL_LOOKUP_FOUND : POL_LOOKUP_UNKNOWN;
	}
	/* the CRD missing is also "no such binding" to the user */
	if (res.kind == KUBE_ERR_NOT_FOUND)
		return POL_LOOKUP_MISSING;
	unreachable(&res, why, why_size);
	return POL_LOOKUP_UNKNOWN;
}
