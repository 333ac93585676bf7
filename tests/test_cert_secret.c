/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_cert_secret.c: the self-managed certificates' Secret and caBundle
 * I/O (certs/cert_secret.c) on its own, against the in-process fake API
 * server of test_fake_kube.h: the Secret composed and parsed back, bad
 * data in it, resourceVersion preconditions against a second writer,
 * injection into every webhook and its failures, and when a new CA
 * becomes trusted (in every caBundle for the propagation time).
 */
#include "test_util.h"

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "groved/certs.h"
#include "test_fake_kube.h"

#define T0 ((time_t)1800000000) /* 2027-01-15 */
#define CA_LIFE 3000L
#define LEAF_LIFE 300L
#define PROPAGATION 60L

static const kube_gvr secrets = { "", "v1", "secrets", true };
static const kube_gvr mutating = { "admissionregistration.k8s.io", "v1",
				   "mutatingwebhookconfigurations", false };
static const kube_gvr validating = { "admissionregistration.k8s.io", "v1",
				     "validatingwebhookconfigurations", false };

static const char *const dns[] = { "groved-webhook",
				   "groved-webhook.groved-system.svc", NULL };
static const char *const inject[] = {
	"mutatingwebhookconfigurations/groved-mutating",
	"validatingwebhookconfigurations/groved-validating", NULL
};

typedef struct fixture {
	fake_kube fk;
	kube_client client; /* never initialised: the fake answers */
	cert_secret cs;
	cert_secret_opts o;
} fixture;

/* A webhook configuration of n webhooks, none with a caBundle. */
static json_t *hook_config(const char *kind, const char *name, int n)
{
	json_t *hooks = json_array();
	json_t *obj = NULL;
	int i = 0;

	for (i = 0; i < n; i++) {
		char hook[64];

		snprintf(hook, sizeof(hook), "h%d.groved.io", i);
		json_array_append_new(
		    hooks,
		    json_pack("{s:s, s:{s:{s:s, s:s}}}", "name", hook,
			      "clientConfig", "service", "name",
			      "groved-webhook", "namespace", "groved-system"));
	}
	obj = json_pack("{s:s, s:s, s:{s:s}, s:o}", "apiVersion",
			"admissionregistration.k8s.io/v1", "kind", kind,
			"metadata", "name", name, "webhooks", hooks);
	assert_non_null(obj);
	return obj;
}

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	json_t *m =
	    hook_config("MutatingWebhookConfiguration", "groved-mutating", 2);
	json_t *v = hook_config("ValidatingWebhookConfiguration",
				"groved-validating", 1);

	if (!f)
		return -1;
	fk_init(&f->fk);
	fk_attach(&f->fk, &f->client);
	fk_put(&f->fk, &mutating, NULL, m);
	fk_put(&f->fk, &validating, NULL, v);
	json_decref(m);
	json_decref(v);
	f->o.namespace = "groved-system";
	f->o.name = "groved-cert";
	f->o.dns = dns;
	f->o.ca_seconds = CA_LIFE;
	f->o.leaf_seconds = LEAF_LIFE;
	f->o.propagation_seconds = PROPAGATION;
	f->o.inject = inject;
	cert_secret_init(&f->cs, &f->client, &f->o);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	cert_secret_release(&f->cs);
	fk_release(&f->fk);
	free(f);
	return 0;
}

/* The stored Secret (new reference); fails when there is none. */
static json_t *secret(fixture *f)
{
	json_t *s = fk_object(&f->fk, &secrets, "groved-system", "groved-cert");

	assert_non_null(s);
	return s;
}

/* The decoded data key of the stored Secret (the caller frees it). */
static char *secret_key(fixture *f, const char *key)
{
	json_t *s = secret(f);
	const char *b64 =
	    json_string_value(json_object_get(json_object_get(s, "data"), key));
	char *out = NULL;
	size_t len = 0;
	size_t bad = 0;

	assert_non_null(b64);
	assert_int_equal(gv_base64_decode(b64, strlen(b64), &out, &len, &bad),
			 GV_OK);
	json_decref(s);
	return out;
}

/* The caBundle of webhook i of a configuration ("" when none). */
static const char *bundle_of(fixture *f, const kube_gvr *gvr, const char *name,
			     size_t i, char *buf, size_t size)
{
	json_t *c = fk_object(&f->fk, gvr, NULL, name);
	const char *b = json_string_value(json_object_get(
	    json_object_get(json_array_get(json_object_get(c, "webhooks"), i),
			    "clientConfig"),
	    "caBundle"));

	snprintf(buf, size, "%s", b ? b : "");
	json_decref(c);
	return buf;
}

/* One leader round at now; returns its rc, *rep filled. */
static int round_at(fixture *f, time_t now, cert_secret_report *rep,
		    cert_material *held, gv_error_t *err)
{
	return cert_secret_rotate(&f->cs, now, rep, held, err);
}

/* The leaf of m is signed by the first CA of its bundle. */
static bool signed_by_first_ca(const cert_material *m)
{
	BIO *b = BIO_new_mem_buf(m->ca_bundle, -1);
	BIO *l = BIO_new_mem_buf(m->tls_crt, -1);
	X509 *ca = PEM_read_bio_X509(b, NULL, NULL, NULL);
	X509 *leaf = PEM_read_bio_X509(l, NULL, NULL, NULL);
	EVP_PKEY *key = ca ? X509_get0_pubkey(ca) : NULL;
	bool ok = leaf && key && X509_verify(leaf, key) == 1;

	X509_free(ca);
	X509_free(leaf);
	BIO_free(b);
	BIO_free(l);
	return ok;
}

static void test_created_composed_and_read_back(void **state)
{
	fixture *f = *state;
	cert_secret_report rep;
	cert_material held = CERT_MATERIAL_INIT;
	cert_material read = CERT_MATERIAL_INIT;
	gv_error_t err = GV_ERROR_INIT;
	json_t *s = NULL;
	char *ca = NULL;
	char *b64 = NULL;
	char buf[8192];
	size_t i = 0;

	assert_int_equal(cert_secret_read(&f->cs, &read, &err), GV_ENOTFOUND);
	assert_int_equal(round_at(f, T0, &rep, &held, &err), GV_OK);
	assert_true(rep.created);
	assert_int_equal(rep.what, CERT_NEW_CA | CERT_NEW_LEAF);
	assert_true(rep.why[0] != '\0');
	assert_int_equal(rep.injected, 2);
	assert_int_equal(fk_count(&f->fk, FK_CREATE, "secrets"), 1);
	assert_int_equal(fk_count(&f->fk, FK_UPDATE, "secrets"), 0);
	/* a kubernetes.io/tls Secret, labelled, in groved's namespace */
	s = secret(f);
	assert_string_equal(json_string_value(json_object_get(s, "type")),
			    "kubernetes.io/tls");
	assert_string_equal(
	    json_string_value(json_object_get(
		json_object_get(json_object_get(s, "metadata"), "labels"),
		"app.kubernetes.io/component")),
	    "webhook-certificate");
	assert_int_equal(json_object_size(json_object_get(s, "data")), 4);
	json_decref(s);
	/* held is what the Secret holds, key by key */
	ca = secret_key(f, "ca.crt");
	assert_string_equal(ca, held.ca_bundle);
	free(ca);
	ca = secret_key(f, "tls.key");
	assert_string_equal(ca, held.tls_key);
	free(ca);
	ca = NULL;
	assert_non_null(strstr(held.ca_key, "PRIVATE KEY"));
	assert_true(signed_by_first_ca(&held));
	/* every webhook of both configurations trusts ca.crt */
	b64 = gv_base64_encode(held.ca_bundle, strlen(held.ca_bundle));
	for (i = 0; i < 2; i++)
		assert_string_equal(bundle_of(f, &mutating, "groved-mutating",
					      i, buf, sizeof(buf)),
				    b64);
	assert_string_equal(
	    bundle_of(f, &validating, "groved-validating", 0, buf, sizeof(buf)),
	    b64);
	/* any replica reads back the same material */
	assert_int_equal(cert_secret_read(&f->cs, &read, &err), GV_OK);
	assert_string_equal(read.ca_bundle, held.ca_bundle);
	assert_string_equal(read.ca_key, held.ca_key);
	assert_string_equal(read.tls_crt, held.tls_crt);
	assert_string_equal(read.tls_key, held.tls_key);
	free(b64);
	cert_material_release(&read);
	cert_material_release(&held);
}

static void test_nothing_to_do_writes_nothing(void **state)
{
	fixture *f = *state;
	cert_secret_report rep;
	cert_material held = CERT_MATERIAL_INIT;
	gv_error_t err = GV_ERROR_INIT;
	size_t writes = 0;

	assert_int_equal(round_at(f, T0, &rep, NULL, &err), GV_OK);
	writes =
	    fk_count(&f->fk, FK_UPDATE, "") + fk_count(&f->fk, FK_CREATE, "");
	assert_int_equal(round_at(f, T0 + 10, &rep, &held, &err), GV_OK);
	assert_int_equal(rep.what, 0);
	assert_false(rep.created);
	assert_int_equal(rep.injected, 0);
	/* read, not written: no PUT of the Secret or of a configuration */
	assert_int_equal(fk_count(&f->fk, FK_UPDATE, "") +
			     fk_count(&f->fk, FK_CREATE, ""),
			 writes);
	/* held is still what the Secret holds */
	assert_non_null(held.tls_crt);
	cert_material_release(&held);
}

/* Replaces the Secret's data with data (a JSON object text). */
static void put_secret_data(fixture *f, const char *data)
{
	json_t *s = json_pack(
	    "{s:s, s:s, s:{s:s, s:s, s:{s:s}}, s:s, s:o}", "apiVersion", "v1",
	    "kind", "Secret", "metadata", "name", "groved-cert", "namespace",
	    "groved-system", "annotations", "kept", "yes", "type",
	    "kubernetes.io/tls", "data", json_loads(data, 0, NULL));

	assert_non_null(s);
	fk_put(&f->fk, &secrets, "groved-system", s);
	json_decref(s);
}

static void test_bad_data(void **state)
{
	fixture *f = *state;
	cert_material m = CERT_MATERIAL_INIT;
	cert_secret_report rep;
	gv_error_t err = GV_ERROR_INIT;
	json_t *s = NULL;
	char *big = NULL;
	char *data = NULL;
	size_t n = CERT_STORE_MAX_FILE * 2 + 4;

	/* not base64: the reader says which key and where */
	put_secret_data(f, "{\"ca.crt\": \"TUlJ!!!\"}");
	assert_int_equal(cert_secret_read(&f->cs, &m, &err), GV_EPARSE);
	assert_non_null(strstr(err.text, "secret 'groved-system/groved-cert'"));
	assert_non_null(strstr(err.text, "key 'ca.crt' is not base64"));
	assert_non_null(strstr(err.text, "(at byte 4)"));
	assert_null(m.ca_bundle);
	/* the leader starts again: the garbage is replaced by an update of
	 * the same object (its other fields kept) */
	assert_int_equal(round_at(f, T0, &rep, NULL, &err), GV_OK);
	assert_false(rep.created);
	assert_int_equal(rep.what, CERT_NEW_CA | CERT_NEW_LEAF);
	assert_int_equal(fk_count(&f->fk, FK_UPDATE, "secrets"), 1);
	assert_int_equal(fk_count(&f->fk, FK_CREATE, "secrets"), 0);
	s = secret(f);
	assert_string_equal(
	    json_string_value(json_object_get(
		json_object_get(json_object_get(s, "metadata"), "annotations"),
		"kept")),
	    "yes");
	json_decref(s);
	assert_int_equal(cert_secret_read(&f->cs, &m, &err), GV_OK);
	cert_material_release(&m);

	/* a PEM with a NUL inside is no PEM: read as absent */
	put_secret_data(f, "{\"tls.key\": \"YWJjAGRlZg==\"}");
	assert_int_equal(cert_secret_read(&f->cs, &m, &err), GV_OK);
	assert_null(m.tls_key);
	assert_null(m.ca_bundle);
	cert_material_release(&m);

	/* a key larger than any certificate file: refused unread */
	big = malloc(n + 1);
	assert_non_null(big);
	memset(big, 'A', n);
	big[n] = '\0';
	data = malloc(n + 32);
	assert_non_null(data);
	snprintf(data, n + 32, "{\"tls.crt\": \"%s\"}", big);
	put_secret_data(f, data);
	assert_int_equal(cert_secret_read(&f->cs, &m, &err), GV_EPARSE);
	assert_non_null(strstr(err.text, "key 'tls.crt' is larger than"));
	free(big);
	free(data);
}

/* After the leader's GET, someone else writes the Secret. */
static void other_writer(fake_kube *fk, const kube_gvr *gvr, const char *name,
			 void *ctx)
{
	json_t *s = NULL;

	if (strcmp(gvr->resource, "secrets") != 0)
		return;
	fk->after_get = NULL; /* once */
	s = json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:s}}", "apiVersion", "v1",
		      "kind", "Secret", "metadata", "name", name, "namespace",
		      "groved-system", "data", "note", "b3RoZXI=");
	fk_put(fk, gvr, "groved-system", s);
	json_decref(s);
}

static void test_resource_version_precondition(void **state)
{
	fixture *f = *state;
	cert_secret_report rep;
	cert_material held = CERT_MATERIAL_INIT;
	gv_error_t err = GV_ERROR_INIT;
	json_t *s = NULL;

	/* an update carries the resourceVersion it read: a write in
	 * between makes it a Conflict, and the other write stands */
	put_secret_data(f, "{\"ca.crt\": \"!!\"}");
	f->fk.after_get = other_writer;
	assert_int_equal(round_at(f, T0, &rep, &held, &err), GV_ECONFLICT);
	assert_int_equal(rep.what, CERT_NEW_CA | CERT_NEW_LEAF);
	assert_null(held.ca_bundle); /* nothing was learnt */
	assert_int_equal(rep.injected, 0);
	s = secret(f);
	assert_string_equal(json_string_value(json_object_get(
				json_object_get(s, "data"), "note")),
			    "b3RoZXI=");
	json_decref(s);
	/* the next round reads what is there and goes on */
	assert_int_equal(round_at(f, T0, &rep, &held, &err), GV_OK);
	assert_non_null(held.tls_crt);
	cert_material_release(&held);
}

static void test_create_race(void **state)
{
	fixture *f = *state;
	cert_secret_report rep;
	gv_error_t err = GV_ERROR_INIT;

	/* the GET found nothing; another replica created it meanwhile */
	fk_fail(&f->fk, FK_CREATE, "secrets", GV_EEXIST,
		KUBE_ERR_ALREADY_EXISTS, 409, 1);
	assert_int_equal(round_at(f, T0, &rep, NULL, &err), GV_EEXIST);
	assert_true(rep.created);
	assert_int_equal(rep.injected, 0);
	assert_null(f->cs.trusted_bundle);
}

static void test_read_failure_writes_nothing(void **state)
{
	fixture *f = *state;
	cert_secret_report rep;
	cert_material held = CERT_MATERIAL_INIT;
	gv_error_t err = GV_ERROR_INIT;

	fk_fail(&f->fk, FK_GET, "secrets", GV_EIO, KUBE_ERR_FORBIDDEN, 403, 1);
	assert_int_equal(round_at(f, T0, &rep, &held, &err), GV_EIO);
	assert_non_null(strstr(err.text, "forbidden"));
	assert_int_equal(rep.what, 0);
	assert_int_equal(fk_count(&f->fk, FK_CREATE, "") +
			     fk_count(&f->fk, FK_UPDATE, ""),
			 0);
	assert_null(held.ca_bundle);
}

static void test_injection_failures(void **state)
{
	fixture *f = *state;
	const char *const with_missing[] = {
		"validatingwebhookconfigurations/not-installed",
		"mutatingwebhookconfigurations/groved-mutating", NULL
	};
	const char *const with_bad[] = { "nonsense", NULL };
	cert_secret_report rep;
	cert_material held = CERT_MATERIAL_INIT;
	gv_error_t err = GV_ERROR_INIT;
	char buf[8192];

	/* one target missing: the others are still injected, the first
	 * failure is returned naming it, and held is filled anyway */
	f->o.inject = with_missing;
	cert_secret_release(&f->cs);
	cert_secret_init(&f->cs, &f->client, &f->o);
	assert_int_equal(round_at(f, T0, &rep, &held, &err), GV_ENOTFOUND);
	assert_non_null(strstr(err.text, "not-installed"));
	assert_true(rep.created);
	assert_int_equal(rep.injected, 1);
	assert_true(bundle_of(f, &mutating, "groved-mutating", 1, buf,
			      sizeof(buf))[0] != '\0');
	assert_non_null(held.tls_crt);
	/* not in every caBundle: not trusted */
	assert_null(f->cs.trusted_bundle);
	cert_material_release(&held);

	/* a conflict writing a configuration is returned as such */
	f->o.inject = inject;
	cert_secret_release(&f->cs);
	cert_secret_init(&f->cs, &f->client, &f->o);
	fk_fail(&f->fk, FK_UPDATE, "validatingwebhookconfigurations",
		GV_ECONFLICT, KUBE_ERR_CONFLICT, 409, 1);
	assert_int_equal(round_at(f, T0 + 1, &rep, NULL, &err), GV_ECONFLICT);
	assert_null(f->cs.trusted_bundle);
	assert_int_equal(round_at(f, T0 + 2, &rep, NULL, &err), GV_OK);
	assert_int_equal(rep.injected, 1); /* the one that failed */
	assert_non_null(f->cs.trusted_bundle);

	/* a target that names no configuration */
	f->o.inject = with_bad;
	cert_secret_release(&f->cs);
	cert_secret_init(&f->cs, &f->client, &f->o);
	assert_int_equal(round_at(f, T0 + 3, &rep, NULL, &err), GV_EINVAL);
	assert_non_null(
	    strstr(err.text, "bad webhook configuration 'nonsense'"));
}

/* A new CA is trusted for signing once it has been in every caBundle
 * for the propagation time, as cert_secret saw it: the serving
 * certificate moves to it only then. */
static void test_new_ca_waits_for_propagation(void **state)
{
	fixture *f = *state;
	cert_secret_report rep;
	cert_material held = CERT_MATERIAL_INIT;
	gv_error_t err = GV_ERROR_INIT;
	time_t t = T0 + CA_LIFE * 2 / 3 + 1;
	char *leaf = NULL;

	assert_int_equal(round_at(f, T0, &rep, NULL, &err), GV_OK);
	/* the leaf at two thirds, its CA long in the caBundles: renewed */
	assert_int_equal(
	    round_at(f, T0 + LEAF_LIFE * 2 / 3 + 1, &rep, NULL, &err), GV_OK);
	assert_int_equal(rep.what, CERT_NEW_LEAF);
	/* kept current up to the CA's two thirds */
	assert_int_equal(round_at(f, t - LEAF_LIFE / 2, &rep, NULL, &err),
			 GV_OK);
	assert_int_equal(rep.what, CERT_NEW_LEAF);
	/* the CA's two thirds: a new CA joins ca.crt and is injected */
	assert_int_equal(round_at(f, t, &rep, &held, &err), GV_OK);
	assert_int_equal(rep.what, CERT_NEW_CA);
	assert_int_equal(rep.injected, 2);
	assert_false(signed_by_first_ca(&held));
	leaf = strdup(held.tls_crt);
	cert_material_release(&held);
	/* within the propagation time the leaf stays on the old CA */
	assert_int_equal(round_at(f, t + PROPAGATION - 1, &rep, &held, &err),
			 GV_OK);
	assert_int_equal(rep.what, 0);
	assert_string_equal(held.tls_crt, leaf);
	cert_material_release(&held);
	/* after it, the leaf moves to the new CA */
	assert_int_equal(round_at(f, t + PROPAGATION, &rep, &held, &err),
			 GV_OK);
	assert_int_equal(rep.what, CERT_NEW_LEAF);
	assert_true(signed_by_first_ca(&held));
	cert_material_release(&held);
	free(leaf);
}

/* The same, when a caBundle could not be written: no trust, no move. */
static void test_new_ca_not_trusted_until_injected(void **state)
{
	fixture *f = *state;
	cert_secret_report rep;
	cert_material held = CERT_MATERIAL_INIT;
	gv_error_t err = GV_ERROR_INIT;
	time_t t = T0 + CA_LIFE * 2 / 3 + 1;

	assert_int_equal(round_at(f, T0, &rep, NULL, &err), GV_OK);
	assert_int_equal(round_at(f, t - LEAF_LIFE / 2, &rep, NULL, &err),
			 GV_OK);
	fk_fail(&f->fk, FK_UPDATE, "mutatingwebhookconfigurations", GV_EIO,
		KUBE_ERR_SERVER, 500, 1);
	assert_int_equal(round_at(f, t, &rep, NULL, &err), GV_EIO);
	assert_int_equal(rep.what, CERT_NEW_CA);
	/* the bundle reaches the mutating configuration only now */
	assert_int_equal(round_at(f, t + PROPAGATION, &rep, &held, &err),
			 GV_OK);
	assert_int_equal(rep.what, 0);
	assert_int_equal(rep.injected, 1);
	assert_false(signed_by_first_ca(&held));
	cert_material_release(&held);
	/* and is trusted a propagation time after that */
	assert_int_equal(
	    round_at(f, t + 2 * PROPAGATION - 1, &rep, &held, &err), GV_OK);
	assert_int_equal(rep.what, 0);
	cert_material_release(&held);
	assert_int_equal(round_at(f, t + 2 * PROPAGATION, &rep, &held, &err),
			 GV_OK);
	assert_int_equal(rep.what, CERT_NEW_LEAF);
	assert_true(signed_by_first_ca(&held));
	cert_material_release(&held);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_created_composed_and_read_back, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_nothing_to_do_writes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_data, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_resource_version_precondition, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_race, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
		    test_read_failure_writes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_injection_failures, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
		    test_new_ca_waits_for_propagation, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_new_ca_not_trusted_until_injected, setup, teardown),
	};

	return cmocka_run_group_tests_name("cert-secret", tests, NULL, NULL);
}
