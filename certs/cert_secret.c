/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cert_secret.c: the self-managed mode's I/O. The leader keeps the CA and
 * the serving certificate in a Secret and the CA bundle in the webhook
 * configurations; every replica reads the Secret (certs.h has the
 * scheme). Only GET, POST and PUT by name, so RBAC can name each object.
 */
#include <errno.h>

#include "cert_int.h"
#include "groved/kube.h"

#define CERT_DEFAULT_PROPAGATION 60 /* seconds */

static const kube_gvr secrets_gvr = { "", "v1", "secrets", true };

/* The Secret's keys, in cert_material's order. */
static const char *const secret_keys[4] = { CERT_CA_FILE, "ca.key",
					    CERT_CERT_FILE, CERT_KEY_FILE };

static char **material_field(cert_material *m, int i)
{
	char **fields[4] = { &m->ca_bundle, &m->ca_key, &m->tls_crt,
			     &m->tls_key };

	return fields[i];
}

void cert_secret_init(cert_secret *cs, struct kube_client *client,
		      const cert_secret_opts *o)
{
	memset(cs, 0, sizeof(*cs));
	cs->o = *o;
	if (!cs->o.propagation_seconds)
		cs->o.propagation_seconds = CERT_DEFAULT_PROPAGATION;
	cs->client = client;
}

void cert_secret_release(cert_secret *cs)
{
	free(cs->trusted_bundle);
	cs->trusted_bundle = NULL;
}

/* The material in the Secret obj (borrowed) into *out. */
static int material_from_secret(const cert_secret *cs, const json_t *obj,
				cert_material *out, gv_error_t *err)
{
	cert_material m = CERT_MATERIAL_INIT;
	const json_t *data = json_object_get(obj, "data");
	size_t len = 0;
	int rc = GV_OK;
	int i = 0;

	for (i = 0; i < 4; i++) {
		const json_t *v = json_object_get(data, secret_keys[i]);
		size_t bad = 0;

		if (!json_is_string(v))
			continue; /* absent: rotation fills it */
		if (json_string_length(v) > CERT_STORE_MAX_FILE * 2) {
			rc = gv_error_set(
			    err, GV_EPARSE, cs->o.name, 0, 0,
			    "cannot read secret '%s/%s': key '%s' "
			    "is larger than %zu bytes",
			    cs->o.namespace, cs->o.name, secret_keys[i],
			    CERT_STORE_MAX_FILE * 2);
			goto out;
		}
		rc = gv_base64_decode(json_string_value(v),
				      json_string_length(v),
				      material_field(&m, i), &len, &bad);
		if (rc == GV_ENOMEM) {
			rc = gv_error_set(err, rc, cs->o.name, 0, 0,
					  "out of memory");
			goto out;
		}
		if (rc != GV_OK) {
			/* garbage in the Secret: rotation starts it again */
			rc = gv_error_set(
			    err, GV_EPARSE, cs->o.name, 0, 0,
			    "cannot read secret '%s/%s': key '%s' "
			    "is not base64 (at byte %zu)",
			    cs->o.namespace, cs->o.name, secret_keys[i], bad);
			goto out;
		}
		/* a PEM with a NUL inside would be cut short by every
		 * parser: treat it as garbage, which rotation replaces */
		if (strlen(*material_field(&m, i)) != len) {
			free(*material_field(&m, i));
			*material_field(&m, i) = NULL;
		}
	}
	*out = m;
	m = (cert_material)CERT_MATERIAL_INIT;
out:
	cert_material_release(&m);
	return rc;
}

int cert_secret_read(cert_secret *cs, cert_material *out, gv_error_t *err)
{
	kube_result res;
	json_t *obj = NULL;
	int rc = GV_OK;

	rc = kube_get(cs->client, &secrets_gvr, cs->o.namespace, cs->o.name,
		      NULL, &obj, &res, err);
	if (rc == GV_OK)
		rc = material_from_secret(cs, obj, out, err);
	json_decref(obj);
	return rc;
}

/* A Secret object holding m, or NULL (out of memory). New reference. */
static json_t *secret_object(const cert_secret *cs, const cert_material *m,
			     const json_t *old)
{
	json_t *obj =
	    old ? json_deep_copy(old)
		: json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s, s:s}}, "
			    "s:s}",
			    "apiVersion", "v1", "kind", "Secret", "metadata",
			    "name", cs->o.name, "namespace", cs->o.namespace,
			    "labels", "app.kubernetes.io/name", "groved",
			    "app.kubernetes.io/component",
			    "webhook-certificate", "type", "kubernetes.io/tls");
	json_t *data = json_object();
	cert_material copy = *m;
	int i = 0;

	if (!obj || !data)
		goto fail;
	for (i = 0; i < 4; i++) {
		const char *pem = *material_field(&copy, i);
		char *b64 = pem ? gv_base64_encode(pem, strlen(pem)) : NULL;

		if (!pem)
			continue;
		if (!b64 || json_object_set_new(data, secret_keys[i],
						json_string(b64)) != 0) {
			free(b64);
			goto fail;
		}
		free(b64);
	}
	if (json_object_set_new(obj, "data", data) != 0) {
		data = NULL;
		goto fail;
	}
	return obj;
fail:
	json_decref(data);
	json_decref(obj);
	return NULL;
}

/* Writes bundle (PEM) into every webhook of the configuration ref
 * ("mutatingwebhookconfigurations/NAME"). *wrote: it changed. */
static int inject_one(cert_secret *cs, const char *ref, const char *b64,
		      bool *wrote, gv_error_t *err)
{
	kube_gvr gvr = { "admissionregistration.k8s.io", "v1", NULL, false };
	char resource[64];
	const char *slash = strchr(ref, '/');
	kube_result res;
	json_t *obj = NULL;
	json_t *hooks = NULL;
	json_t *hook = NULL;
	size_t i = 0;
	bool changed = false;
	int rc = GV_OK;

	if (!slash || (size_t)(slash - ref) >= sizeof(resource) || !slash[1])
		return gv_error_set(err, GV_EINVAL, ref, 0, 0,
				    "bad webhook configuration '%s'", ref);
	memcpy(resource, ref, (size_t)(slash - ref));
	resource[slash - ref] = '\0';
	gvr.resource = resource;
	rc = kube_get(cs->client, &gvr, NULL, slash + 1, NULL, &obj, &res, err);
	if (rc != GV_OK)
		goto out;
	hooks = json_object_get(obj, "webhooks");
	json_array_foreach(hooks, i, hook)
	{
		json_t *cc = json_object_get(hook, "clientConfig");
		const char *have =
		    json_string_value(json_object_get(cc, "caBundle"));

		if (!json_is_object(cc) || (have && strcmp(have, b64) == 0))
			continue;
		if (json_object_set_new(cc, "caBundle", json_string(b64)) !=
		    0) {
			rc = gv_error_set(err, GV_ENOMEM, ref, 0, 0,
					  "out of memory");
			goto out;
		}
		changed = true;
	}
	if (changed) {
		/* the GET's resourceVersion is the precondition: a change
		 * made meanwhile (kubectl apply) wins; next round retries */
		rc = kube_update(cs->client, &gvr, NULL, NULL, obj, NULL, &res,
				 err);
		if (rc != GV_OK)
			goto out;
	}
	*wrote = changed;
out:
	json_decref(obj);
	return rc;
}

int cert_secret_rotate(cert_secret *cs, time_t now, cert_secret_report *rep,
		       cert_material *held, gv_error_t *err)
{
	cert_material cur = CERT_MATERIAL_INIT;
	cert_material next = CERT_MATERIAL_INIT;
	cert_rotate_opts ro;
	kube_result res;
	json_t *old = NULL;
	json_t *obj = NULL;
	const char *bundle = NULL;
	char *b64 = NULL;
	bool all = true;
	size_t i = 0;
	int rc = GV_OK;

	memset(rep, 0, sizeof(*rep));
	if (!now)
		now = time(NULL);
	rc = kube_get(cs->client, &secrets_gvr, cs->o.namespace, cs->o.name,
		      NULL, &old, &res, err);
	if (rc == GV_ENOTFOUND) {
		rep->created = true;
		rc = GV_OK;
	} else if (rc == GV_OK) {
		rc = material_from_secret(cs, old, &cur, err);
		if (rc == GV_EPARSE) /* garbage: start again */
			rc = GV_OK;
	}
	if (rc != GV_OK)
		goto out;
	memset(&ro, 0, sizeof(ro));
	ro.dns = cs->o.dns;
	ro.ca_seconds = cs->o.ca_seconds;
	ro.leaf_seconds = cs->o.leaf_seconds;
	ro.now = now;
	ro.signer_trusted =
	    cs->trusted_bundle && cur.ca_bundle &&
	    strcmp(cs->trusted_bundle, cur.ca_bundle) == 0 &&
	    now - cs->trusted_since >= cs->o.propagation_seconds;
	rc = cert_rotate(&cur, &ro, &next, &rep->what, rep->why,
			 sizeof(rep->why), err);
	if (rc != GV_OK)
		goto out;
	if (rep->what) {
		obj = secret_object(cs, &next, old);
		if (!obj) {
			rc = gv_error_set(err, GV_ENOMEM, cs->o.name, 0, 0,
					  "out of memory");
			goto out;
		}
		/* create, or update under the read resourceVersion: of two
		 * replicas that both think they lead, one write fails */
		rc =
		    old ? kube_update(cs->client, &secrets_gvr, cs->o.namespace,
				      NULL, obj, NULL, &res, err)
			: kube_create(cs->client, &secrets_gvr, cs->o.namespace,
				      obj, NULL, &res, err);
		if (rc != GV_OK)
			goto out;
	}
	bundle = rep->what ? next.ca_bundle : cur.ca_bundle;
	if (held) {
		/* what the Secret holds now: the caller need not GET it */
		*held = rep->what ? next : cur;
		if (rep->what)
			next = (cert_material)CERT_MATERIAL_INIT;
		else
			cur = (cert_material)CERT_MATERIAL_INIT;
		bundle = held->ca_bundle;
	}
	b64 = gv_base64_encode(bundle, strlen(bundle));
	if (!b64) {
		rc = gv_error_set(err, GV_ENOMEM, NULL, 0, 0, "out of memory");
		goto out;
	}
	for (i = 0; cs->o.inject && cs->o.inject[i]; i++) {
		bool wrote = false;
		gv_error_t one = GV_ERROR_INIT;
		int r = inject_one(cs, cs->o.inject[i], b64, &wrote, &one);

		if (r != GV_OK) {
			all = false;
			if (rc == GV_OK) {
				rc = r;
				if (err)
					*err = one;
			}
			continue;
		}
		rep->injected += wrote;
	}
	/* trust starts when every caBundle holds this ca.crt */
	if (all &&
	    (!cs->trusted_bundle || strcmp(cs->trusted_bundle, bundle) != 0)) {
		char *copy = strdup(bundle);

		if (copy) {
			free(cs->trusted_bundle);
			cs->trusted_bundle = copy;
			cs->trusted_since = now;
		}
	}
out:
	free(b64);
	json_decref(old);
	json_decref(obj);
	cert_material_release(&cur);
	cert_material_release(&next);
	return rc;
}
