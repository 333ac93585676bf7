/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kube_connect.c: a kube_conn (configuration and client). The cluster
 * lookups of V14 and V20 are the server's (server/srv_kcache.c).
 */
#include "kube_int.h"

#include "groved/gv_time.h"

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

int kube_conn_client_limited(kube_conn *kc, long timeout_ms,
			     unsigned max_attempts, double qps, unsigned burst,
			     kube_client *out, gv_error_t *err)
{
	kube_client_opts o;

	conn_opts(kc, &o);
	o.connect_timeout_ms = timeout_ms;
	o.timeout_ms = timeout_ms;
	o.max_attempts = max_attempts;
	o.qps = qps;
	o.burst = burst;
	return kube_client_init(out, &o, err);
}

int kube_conn_client(kube_conn *kc, long timeout_ms, unsigned max_attempts,
		     kube_client *out, gv_error_t *err)
{
	return kube_conn_client_limited(kc, timeout_ms, max_attempts, 0, 0, out,
					err);
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
