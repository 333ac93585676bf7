/*
 * kube_config.h: what the kube client needs to reach one API server,
 * read from a kubeconfig file (as kubectl finds it) or from the pod's
 * service account when groved runs in a cluster.
 *
 * A kube_config owns every string in it (NUL-terminated, malloc'ed); all
 * may be NULL except server, namespace and context once loaded. Fill one
 * with kube_config_init() or KUBE_CONFIG_INIT, load it, read it from any
 * number of threads, and free its contents with kube_config_release().
 *
 * Errors name the file and the entry, e.g.
 *   kubeconfig '/x/config': context "prod" names cluster "c9", which is not defined
 * and leave the kube_config untouched.
 */
#ifndef GROVED_KUBE_CONFIG_H
#define GROVED_KUBE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "groved/gv.h"

/* Largest kubeconfig, certificate, key or CA file read. */
#define KUBE_CONFIG_FILE_MAX ((size_t)1 << 20)
/* Largest bearer token; a token buffer of KUBE_TOKEN_MAX + 1 always fits. */
#define KUBE_TOKEN_MAX ((size_t)64 << 10)

/* Where in-cluster credentials live, below the root kube_config_in_cluster
 * is given. */
#define KUBE_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

typedef struct kube_config {
	char *server; /* https://host:port, no trailing slash */
	char *ca_pem; /* PEM text of the CA, or NULL for the system roots */
	bool insecure; /* insecure-skip-tls-verify */
	char *tls_server_name; /* or NULL */
	char *client_cert_pem; /* PEM text, or NULL; set with client_key_pem */
	char *client_key_pem; /* PEM text, or NULL */
	char *token; /* static bearer token, or NULL */
	char *token_file; /* bearer token re-read on use, or NULL */
	char *namespace; /* context's, the service account's, or "default" */
	char *context; /* the context used; "" in a cluster */
} kube_config;

/* Designated, so no compiler warns of the fields left out (all zero). */
#define KUBE_CONFIG_INIT       \
	{                      \
		.server = NULL \
	}

/* Fills c with an empty configuration. */
void kube_config_init(kube_config *c);

/* Frees what c owns and leaves it empty (as kube_config_init); c may be
 * NULL. */
void kube_config_release(kube_config *c);

/*
 * Loads the configuration kubectl would use:
 *   - explicit_path (--kubeconfig) alone when not NULL;
 *   - else every file of $KUBECONFIG (':'-separated; missing files are
 *     skipped), merged: the first file to define a cluster, user or context
 *     by name wins, and current-context comes from the first file that
 *     sets it;
 *   - else $HOME/.kube/config.
 * context (--context, borrowed, may be NULL) overrides current-context.
 * Relative file names in a cluster or user are taken from the directory
 * of the kubeconfig that defines that entry.
 *
 * On success releases c's old contents and fills c with new strings the
 * caller owns. On failure returns GV_ENOTFOUND (no kubeconfig at all),
 * GV_EIO, GV_ETOOBIG, GV_EPARSE, GV_EINVAL (a bad or incomplete entry),
 * GV_EUNSUPPORTED (exec or auth-provider users, basic auth) or GV_ENOMEM,
 * fills err (source is the kubeconfig file) and leaves c untouched.
 */
int kube_config_load(kube_config *c, const char *explicit_path,
		     const char *context, gv_error_t *err);

/*
 * Loads the service account configuration of a pod:
 * https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT (an IPv6 host
 * in brackets), the CA from root KUBE_SA_DIR/ca.crt, the token file
 * root KUBE_SA_DIR/token (checked now, re-read on use) and the namespace
 * from root KUBE_SA_DIR/namespace ("default" when there is none).
 * root (borrowed) is "" or NULL in production; tests give a directory.
 *
 * On success releases c's old contents and fills c. On failure returns
 * GV_ENOTFOUND (the variables are not set: not in a cluster), GV_EINVAL,
 * GV_EIO, GV_ETOOBIG or GV_ENOMEM, fills err and leaves c untouched.
 */
int kube_config_in_cluster(kube_config *c, const char *root, gv_error_t *err);

/*
 * Writes the current bearer token into buf (size bytes, NUL-terminated):
 * c->token_file read afresh (trailing white space dropped), else
 * c->token, else "" when c has no token. c is borrowed.
 * On failure (file unreadable, empty, larger than KUBE_TOKEN_MAX, holding
 * a control character, or too long for buf) returns GV_EIO, GV_EINVAL or
 * GV_ETOOBIG, fills err and leaves buf untouched.
 */
int kube_config_token(const kube_config *c, char *buf, size_t size,
		      gv_error_t *err);

#endif
