/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_certs.c: the certs module: generation (OpenSSL), the self-signed
 * reuse rule, and the reloadable GnuTLS store, proved by real handshakes
 * over a socketpair.
 */
#include <pthread.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "test_util.h"
#include "groved/certs.h"

#define DAY 86400L

static const char *const local_dns[] = { "localhost", NULL };
static const char *const local_ips[] = { "127.0.0.1", NULL };

/* ---- helpers ---------------------------------------------------------- */

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0)
		;
}

typedef struct fixture {
	char dir[64];
} fixture;

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/gv-certs-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static char *path_in(const char *dir, const char *name, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s", dir, name);
	return buf;
}

static void write_text(const char *path, const char *text, size_t len)
{
	FILE *fp = fopen(path, "wb");

	assert_non_null(fp);
	assert_int_equal(fwrite(text, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

/* The whole file (NUL-terminated); *len its length. Caller frees. */
static char *read_text(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf = NULL;
	long n = 0;

	assert_non_null(fp);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	n = ftell(fp);
	rewind(fp);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
	buf[n] = '\0';
	fclose(fp);
	if (len)
		*len = (size_t)n;
	return buf;
}

static X509 *pem_x509(const char *pem)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);

	BIO_free(bio);
	assert_non_null(x);
	return x;
}

static EVP_PKEY *pem_key(const char *pem)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *k = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);

	BIO_free(bio);
	assert_non_null(k);
	return k;
}

static int64_t asn1_epoch(const ASN1_TIME *t)
{
	ASN1_TIME *epoch = ASN1_TIME_set(NULL, 0);
	int days = 0;
	int secs = 0;

	assert_true(ASN1_TIME_diff(&days, &secs, epoch, t));
	ASN1_TIME_free(epoch);
	return (int64_t)days * DAY + secs;
}

static void gen(const cert_gen_opts *o, cert_pem *ca, cert_pem *leaf)
{
	gv_error_t err = GV_ERROR_INIT;
	int rc = cert_generate(o, ca, leaf, &err);

	if (rc != GV_OK)
		print_error("cert_generate: %s\n", err.text);
	assert_int_equal(rc, GV_OK);
}

static void gen_into(const char *dir, const cert_gen_opts *o)
{
	cert_pem ca = CERT_PEM_INIT;
	cert_pem leaf = CERT_PEM_INIT;
	gv_error_t err = GV_ERROR_INIT;

	gen(o, &ca, &leaf);
	assert_int_equal(cert_write_dir(dir, &ca, &leaf, &err), GV_OK);
	cert_pem_release(&ca);
	cert_pem_release(&leaf);
}

static void assert_ec_p256(EVP_PKEY *k)
{
	char group[64];
	size_t n = 0;

	assert_int_equal(EVP_PKEY_get_base_id(k), EVP_PKEY_EC);
	assert_int_equal(EVP_PKEY_get_group_name(k, group, sizeof(group), &n),
			 1);
	assert_string_equal(group, "prime256v1");
}

/* DER of the first certificate in pem; caller gnutls_free()s data. */
static gnutls_datum_t pem_der(const char *pem)
{
	gnutls_datum_t in = { (unsigned char *)pem, (unsigned)strlen(pem) };
	gnutls_datum_t out = { NULL, 0 };

	assert_int_equal(gnutls_pem_base64_decode2("CERTIFICATE", &in, &out),
			 0);
	return out;
}

/* ---- generation ------------------------------------------------------- */

static void test_generate_chain(void **state)
{
	static const char *const dns[] = { "localhost", "groved.example",
					   NULL };
	static const char *const ips[] = { "127.0.0.1", "::1", NULL };
	cert_gen_opts o = { .dns = dns, .ips = ips };
	cert_pem ca = CERT_PEM_INIT;
	cert_pem leaf = CERT_PEM_INIT;
	X509 *cax = NULL;
	X509 *lx = NULL;
	EVP_PKEY *key = NULL;
	X509_STORE *st = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	BASIC_CONSTRAINTS *bc = NULL;
	const ASN1_INTEGER *serial = NULL;
	time_t now = time(NULL);
	int64_t nb = 0;
	int64_t na = 0;

	(void)state;
	gen(&o, &ca, &leaf);
	assert_null(ca.key); /* the CA key never leaves cert_generate */
	assert_non_null(leaf.key);
	assert_non_null(strstr(leaf.key, "-----BEGIN PRIVATE KEY-----"));
	cax = pem_x509(ca.cert);
	lx = pem_x509(leaf.cert);
	key = pem_key(leaf.key);

	/* the chain verifies as a TLS server certificate */
	assert_int_equal(X509_STORE_add_cert(st, cax), 1);
	assert_int_equal(X509_STORE_CTX_init(ctx, st, lx, NULL), 1);
	X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
	assert_int_equal(X509_verify_cert(ctx), 1);
	assert_int_equal(X509_verify(lx, X509_get0_pubkey(cax)), 1);
	assert_int_equal(X509_verify(cax, X509_get0_pubkey(cax)), 1);
	assert_int_equal(X509_check_private_key(lx, key), 1);

	/* ECDSA P-256 both */
	assert_ec_p256(key);
	assert_ec_p256(X509_get0_pubkey(cax));
	assert_int_equal(X509_get_signature_nid(lx), NID_ecdsa_with_SHA256);

	/* CA: critical CA:TRUE, keyCertSign|cRLSign, SKI */
	bc = X509_get_ext_d2i(cax, NID_basic_constraints, NULL, NULL);
	assert_non_null(bc);
	assert_true(bc->ca);
	BASIC_CONSTRAINTS_free(bc);
	assert_int_equal(
	    X509_EXTENSION_get_critical(X509_get_ext(
		cax, X509_get_ext_by_NID(cax, NID_basic_constraints, -1))),
	    1);
	assert_int_equal(X509_get_key_usage(cax),
			 KU_KEY_CERT_SIGN | KU_CRL_SIGN);
	assert_non_null(X509_get0_subject_key_id(cax));

	/* leaf: CA:FALSE, digitalSignature, serverAuth, SKI, AKI = CA SKI */
	assert_int_equal(X509_check_ca(lx), 0);
	assert_int_equal(X509_get_key_usage(lx), KU_DIGITAL_SIGNATURE);
	assert_int_equal(X509_get_extended_key_usage(lx), XKU_SSL_SERVER);
	assert_non_null(X509_get0_subject_key_id(lx));
	assert_int_equal(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(lx),
					       X509_get0_subject_key_id(cax)),
			 0);

	/* SANs, exactly */
	assert_int_equal(X509_check_host(lx, "localhost", 0, 0, NULL), 1);
	assert_int_equal(X509_check_host(lx, "groved.example", 0, 0, NULL), 1);
	assert_int_equal(X509_check_host(lx, "other.example", 0, 0, NULL), 0);
	assert_int_equal(X509_check_ip_asc(lx, "127.0.0.1", 0), 1);
	assert_int_equal(X509_check_ip_asc(lx, "::1", 0), 1);
	assert_int_equal(X509_check_ip_asc(lx, "10.0.0.1", 0), 0);

	/* validity: [now - 5 min, now + 365 days] */
	nb = asn1_epoch(X509_get0_notBefore(lx));
	na = asn1_epoch(X509_get0_notAfter(lx));
	assert_true(nb <= now - CERT_BACKDATE_SECONDS + 5);
	assert_true(nb >= now - CERT_BACKDATE_SECONDS - 5);
	assert_true(na >= now + CERT_DEFAULT_DAYS * DAY - 5);
	assert_true(na <= now + CERT_DEFAULT_DAYS * DAY + 5);

	/* serial: positive, 16 octets, differs between certificates */
	serial = X509_get0_serialNumber(lx);
	assert_int_equal(ASN1_STRING_length(serial), 16);
	assert_int_not_equal(
	    ASN1_INTEGER_cmp(serial, X509_get0_serialNumber(cax)), 0);

	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	EVP_PKEY_free(key);
	X509_free(cax);
	X509_free(lx);
	cert_pem_release(&ca);
	cert_pem_release(&leaf);
}

static void test_generate_service_names(void **state)
{
	/* What `groved certs generate --service` passes. */
	static const char *const dns[] = {
		"groved", "groved.grove-system", "groved.grove-system.svc",
		"groved.grove-system.svc.cluster.local", NULL
	};
	cert_gen_opts o = { .dns = dns, .leaf_seconds = 30 * DAY };
	cert_pem ca = CERT_PEM_INIT;
	cert_pem leaf = CERT_PEM_INIT;
	X509 *lx = NULL;
	size_t i = 0;

	(void)state;
	gen(&o, &ca, &leaf);
	lx = pem_x509(leaf.cert);
	for (i = 0; dns[i]; i++)
		assert_int_equal(X509_check_host(lx, dns[i], 0, 0, NULL), 1);
	assert_int_equal(X509_check_ip_asc(lx, "127.0.0.1", 0), 0);
	X509_free(lx);
	cert_pem_release(&ca);
	cert_pem_release(&leaf);
}

static void test_generate_bad_names(void **state)
{
	static const char *const comma[] = { "a.example,IP:1.2.3.4", NULL };
	static const char *const empty[] = { "", NULL };
	static const char *const badip[] = { "300.1.1.1", NULL };
	cert_gen_opts o = { 0 };
	cert_pem ca = CERT_PEM_INIT;
	cert_pem leaf = CERT_PEM_INIT;
	gv_error_t err = GV_ERROR_INIT;

	(void)state;
	assert_int_equal(cert_generate(&o, &ca, &leaf, &err), GV_EINVAL);
	assert_string_equal(err.text, "cannot generate certificate: no DNS "
				      "name or IP address");
	o.dns = comma;
	assert_int_equal(cert_generate(&o, &ca, &leaf, &err), GV_EINVAL);
	assert_string_equal(err.text,
			    "invalid DNS name 'a.example,IP:1.2.3.4'");
	o.dns = empty;
	assert_int_equal(cert_generate(&o, &ca, &leaf, &err), GV_EINVAL);
	o.dns = NULL;
	o.ips = badip;
	assert_int_equal(cert_generate(&o, &ca, &leaf, &err), GV_EINVAL);
	assert_string_equal(err.text, "invalid IP address '300.1.1.1'");
	assert_null(ca.cert);
	assert_null(leaf.cert);
}

static void test_write_dir(void **state)
{
	fixture *f = *state;
	cert_gen_opts o = { .dns = local_dns, .ips = local_ips };
	char p[256];
	char cmd[512];
	struct stat st;

	gen_into(f->dir, &o);
	assert_int_equal(
	    stat(path_in(f->dir, CERT_KEY_FILE, p, sizeof(p)), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(
	    stat(path_in(f->dir, CERT_CERT_FILE, p, sizeof(p)), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	assert_int_equal(stat(path_in(f->dir, CERT_CA_FILE, p, sizeof(p)), &st),
			 0);
	/* no temporary file is left behind */
	snprintf(cmd, sizeof(cmd), "test -z \"$(ls -A '%s' | grep '^\\.')\"",
		 f->dir);
	assert_int_equal(system(cmd), 0);

	/* the openssl command line agrees, when there is one */
	if (system("command -v openssl >/dev/null 2>&1") == 0) {
		snprintf(cmd, sizeof(cmd),
			 "cd '%s' && openssl verify -purpose sslserver "
			 "-CAfile ca.crt tls.crt >/dev/null",
			 f->dir);
		assert_int_equal(system(cmd), 0);
		snprintf(cmd, sizeof(cmd),
			 "cd '%s' && openssl x509 -in tls.crt -noout -ext "
			 "subjectAltName | grep -q 'DNS:localhost, "
			 "IP Address:127.0.0.1'",
			 f->dir);
		assert_int_equal(system(cmd), 0);
	}
}

static void test_write_dir_missing(void **state)
{
	fixture *f = *state;
	cert_gen_opts o = { .dns = local_dns };
	cert_pem ca = CERT_PEM_INIT;
	cert_pem leaf = CERT_PEM_INIT;
	gv_error_t err = GV_ERROR_INIT;
	char dir[128];

	gen(&o, &ca, &leaf);
	snprintf(dir, sizeof(dir), "%s/nope", f->dir);
	assert_int_equal(cert_write_dir(dir, &ca, &leaf, &err), GV_EIO);
	assert_non_null(strstr(err.text, "/nope/tls.key"));
	cert_pem_release(&ca);
	cert_pem_release(&leaf);
}

/* ---- self-signed reuse ------------------------------------------------ */

static bool ensure(const char *dir, const cert_gen_opts *o)
{
	gv_error_t err = GV_ERROR_INIT;
	bool generated = false;
	int rc = cert_ensure_self_signed(dir, o, &generated, &err);

	if (rc != GV_OK)
		print_error("cert_ensure_self_signed: %s\n", err.text);
	assert_int_equal(rc, GV_OK);
	return generated;
}

static char *slurp(const char *dir, const char *name)
{
	char p[256];

	return read_text(path_in(dir, name, p, sizeof(p)), NULL);
}

static void test_self_signed_reuse(void **state)
{
	fixture *f = *state;
	cert_gen_opts o = { .dns = local_dns, .ips = local_ips };
	char dir[128];
	char *crt = NULL;
	char *key = NULL;
	char *ca = NULL;
	char *again = NULL;
	struct stat st;

	snprintf(dir, sizeof(dir), "%s/self", f->dir); /* made on demand */
	assert_true(ensure(dir, &o));
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	crt = slurp(dir, CERT_CERT_FILE);
	key = slurp(dir, CERT_KEY_FILE);
	ca = slurp(dir, CERT_CA_FILE);
	assert_false(ensure(dir, &o));
	again = slurp(dir, CERT_CERT_FILE);
	assert_string_equal(again, crt);
	free(again);
	again = slurp(dir, CERT_KEY_FILE);
	assert_string_equal(again, key);
	free(again);
	again = slurp(dir, CERT_CA_FILE);
	assert_string_equal(again, ca);
	free(again);
	free(crt);
	free(key);
	free(ca);
}

static void test_self_signed_regenerates_expired(void **state)
{
	fixture *f = *state;
	cert_gen_opts o = { .dns = local_dns, .ips = local_ips };
	cert_gen_opts old = o;
	char *crt = NULL;
	char *again = NULL;

	/* made two days ago, valid for one: expired now */
	old.now = time(NULL) - 2 * DAY;
	old.ca_seconds = DAY;
	old.leaf_seconds = DAY;
	assert_true(ensure(f->dir, &old));
	crt = slurp(f->dir, CERT_CERT_FILE);
	assert_true(ensure(f->dir, &o));
	again = slurp(f->dir, CERT_CERT_FILE);
	assert_string_not_equal(again, crt);
	free(again);
	free(crt);

	/* 250 of 365 days gone: less than a third left */
	old.now = time(NULL) - 250 * DAY;
	old.ca_seconds = 0;
	old.leaf_seconds = 0;
	assert_true(ensure(f->dir, &old));
	assert_true(ensure(f->dir, &o));
	/* 200 days gone: more than a third left, kept */
	old.now = time(NULL) - 200 * DAY;
	assert_true(ensure(f->dir, &old));
	assert_false(ensure(f->dir, &o));
}

static void test_self_signed_regenerates_names(void **state)
{
	fixture *f = *state;
	static const char *const more[] = { "localhost", "groved.example",
					    NULL };
	cert_gen_opts o = { .dns = local_dns, .ips = local_ips };
	cert_gen_opts o2 = { .dns = more, .ips = local_ips };
	cert_gen_opts o3 = { .dns = local_dns };
	static const char *const v6[] = { "::1", NULL };
	cert_gen_opts o4 = { .dns = local_dns, .ips = v6 };

	assert_true(ensure(f->dir, &o));
	assert_true(ensure(f->dir, &o2)); /* a name is missing */
	assert_false(ensure(f->dir, &o)); /* a superset covers */
	assert_false(ensure(f->dir, &o3));
	assert_true(ensure(f->dir, &o4)); /* an IP is missing */
}

static void test_self_signed_regenerates_bad_files(void **state)
{
	fixture *f = *state;
	cert_gen_opts o = { .dns = local_dns, .ips = local_ips };
	char p[256];
	char *crt = NULL;
	char *key = NULL;
	cert_pem ca = CERT_PEM_INIT;
	cert_pem leaf = CERT_PEM_INIT;

	assert_true(ensure(f->dir, &o));
	/* a key others can read is not reused */
	assert_int_equal(
	    chmod(path_in(f->dir, CERT_KEY_FILE, p, sizeof(p)), 0644), 0);
	assert_true(ensure(f->dir, &o));
	/* a key of another certificate */
	gen(&o, &ca, &leaf);
	write_text(path_in(f->dir, CERT_KEY_FILE, p, sizeof(p)), leaf.key,
		   leaf.key_len);
	assert_true(ensure(f->dir, &o));
	/* a certificate from another CA */
	write_text(path_in(f->dir, CERT_CA_FILE, p, sizeof(p)), ca.cert,
		   ca.cert_len);
	assert_true(ensure(f->dir, &o));
	/* garbage */
	write_text(path_in(f->dir, CERT_CERT_FILE, p, sizeof(p)), "junk", 4);
	assert_true(ensure(f->dir, &o));
	/* and, after all that, a good pair again, kept */
	crt = slurp(f->dir, CERT_CERT_FILE);
	key = slurp(f->dir, CERT_KEY_FILE);
	assert_false(ensure(f->dir, &o));
	free(crt);
	free(key);
	cert_pem_release(&ca);
	cert_pem_release(&leaf);
}

/* ---- the store -------------------------------------------------------- */

typedef struct pair {
	cert_pem ca;
	cert_pem leaf;
} pair;

static void pair_gen(pair *p, const char *name)
{
	const char *dns[] = { name, "localhost", NULL };
	cert_gen_opts o = { .dns = dns, .ips = local_ips };

	p->ca = (cert_pem)CERT_PEM_INIT;
	p->leaf = (cert_pem)CERT_PEM_INIT;
	gen(&o, &p->ca, &p->leaf);
}

static void pair_release(pair *p)
{
	cert_pem_release(&p->ca);
	cert_pem_release(&p->leaf);
}

static void pair_write(const char *dir, const pair *p)
{
	gv_error_t err = GV_ERROR_INIT;

	assert_int_equal(cert_write_dir(dir, &p->ca, &p->leaf, &err), GV_OK);
}

static void store_open(cert_store *s, const char *dir)
{
	char c[256];
	char k[256];

	assert_int_equal(
	    cert_store_init(s, path_in(dir, CERT_CERT_FILE, c, sizeof(c)),
			    path_in(dir, CERT_KEY_FILE, k, sizeof(k))),
	    GV_OK);
}

/* The store's current leaf is p's. */
static void assert_serving(cert_store *s, const pair *p)
{
	gnutls_pcert_st *pc = NULL;
	unsigned int n = 0;
	gnutls_privkey_t key = NULL;
	gnutls_datum_t der = pem_der(p->leaf.cert);

	assert_int_equal(cert_store_select(s, &pc, &n, &key), 0);
	assert_int_equal(n, 1);
	assert_non_null(key);
	assert_int_equal(pc[0].cert.size, der.size);
	assert_memory_equal(pc[0].cert.data, der.data, der.size);
	gnutls_free(der.data);
}

static void test_store_load_info(void **state)
{
	fixture *f = *state;
	cert_store s;
	cert_store_info info;
	gv_error_t err = GV_ERROR_INIT;
	pair a;
	X509 *lx = NULL;
	char chain[8192];
	char p[256];

	pair_gen(&a, "a.example");
	pair_write(f->dir, &a);
	store_open(&s, f->dir);
	assert_int_equal(cert_store_info_get(&s, &info), GV_ENOTFOUND);
	assert_int_equal(cert_store_load(&s, &err), GV_OK);
	assert_serving(&s, &a);
	assert_int_equal(cert_store_info_get(&s, &info), GV_OK);
	assert_string_equal(info.subject, "CN=a.example,O=groved");
	assert_string_equal(info.sans,
			    "DNS:a.example, DNS:localhost, IP:127.0.0.1");
	lx = pem_x509(a.leaf.cert);
	assert_int_equal(info.not_after, asn1_epoch(X509_get0_notAfter(lx)));
	assert_int_equal(info.not_before, asn1_epoch(X509_get0_notBefore(lx)));
	X509_free(lx);
	assert_int_equal(info.chain_len, 1);
	assert_int_equal(info.generation, 1);

	/* a chain file (leaf, then CA) loads with both */
	snprintf(chain, sizeof(chain), "%s%s", a.leaf.cert, a.ca.cert);
	write_text(path_in(f->dir, CERT_CERT_FILE, p, sizeof(p)), chain,
		   strlen(chain));
	assert_int_equal(cert_store_load(&s, &err), GV_OK);
	assert_int_equal(cert_store_info_get(&s, &info), GV_OK);
	assert_int_equal(info.chain_len, 2);
	assert_int_equal(info.generation, 2);
	cert_store_release(&s);
	pair_release(&a);
}

static void test_store_reload(void **state)
{
	fixture *f = *state;
	cert_store s;
	gv_error_t err = GV_ERROR_INIT;
	bool changed = true;
	pair a;
	pair b;
	pair c;
	char p[256];
	cert_store_info info;

	pair_gen(&a, "a.example");
	pair_gen(&b, "b.example");
	pair_gen(&c, "c.example");
	pair_write(f->dir, &a);
	store_open(&s, f->dir);
	assert_int_equal(cert_store_load(&s, &err), GV_OK);

	/* nothing changed */
	assert_int_equal(cert_store_reload_if_changed(&s, &changed, &err),
			 GV_OK);
	assert_false(changed);

	/* rewritten with the same bytes: new inodes, same hash */
	pair_write(f->dir, &a);
	changed = true;
	assert_int_equal(cert_store_reload_if_changed(&s, &changed, &err),
			 GV_OK);
	assert_false(changed);
	assert_int_equal(cert_store_info_get(&s, &info), GV_OK);
	assert_int_equal(info.generation, 1);

	/* a new pair */
	pair_write(f->dir, &b);
	assert_int_equal(cert_store_reload_if_changed(&s, &changed, &err),
			 GV_OK);
	assert_true(changed);
	assert_serving(&s, &b);

	/* half written: C's certificate with B's key: refused, B stays */
	write_text(path_in(f->dir, CERT_CERT_FILE, p, sizeof(p)), c.leaf.cert,
		   c.leaf.cert_len);
	gv_error_clear(&err);
	assert_int_equal(cert_store_reload_if_changed(&s, &changed, &err),
			 GV_ECONFLICT);
	assert_false(changed);
	assert_non_null(strstr(err.text, "does not match certificate"));
	assert_non_null(strstr(err.text, "/tls.key'"));
	assert_serving(&s, &b);
	/* asked again before anything changes: the same answer */
	gv_error_clear(&err);
	assert_int_equal(cert_store_reload_if_changed(&s, &changed, &err),
			 GV_ECONFLICT);
	assert_non_null(strstr(err.text, "does not match certificate"));
	assert_serving(&s, &b);

	/* the key arrives: C */
	write_text(path_in(f->dir, CERT_KEY_FILE, p, sizeof(p)), c.leaf.key,
		   c.leaf.key_len);
	assert_int_equal(cert_store_reload_if_changed(&s, &changed, &err),
			 GV_OK);
	assert_true(changed);
	assert_serving(&s, &c);
	assert_int_equal(cert_store_info_get(&s, &info), GV_OK);
	assert_int_equal(info.generation, 3);

	cert_store_release(&s);
	pair_release(&a);
	pair_release(&b);
	pair_release(&c);
}

/* Kubernetes mounts a secret as name -> ..data/name, ..data -> ..<ts>,
 * and swaps ..data with a rename. */
static void test_store_reload_symlink_swap(void **state)
{
	fixture *f = *state;
	cert_store s;
	gv_error_t err = GV_ERROR_INIT;
	bool changed = false;
	pair a;
	pair b;
	char v[256];
	char cmd[1024];

	pair_gen(&a, "a.example");
	pair_gen(&b, "b.example");
	snprintf(v, sizeof(v), "%s/..v1", f->dir);
	assert_int_equal(mkdir(v, 0755), 0);
	pair_write(v, &a);
	snprintf(cmd, sizeof(cmd),
		 "cd '%s' && ln -s ..v1 ..data && ln -s ..data/tls.crt "
		 "tls.crt && ln -s ..data/tls.key tls.key",
		 f->dir);
	assert_int_equal(system(cmd), 0);
	store_open(&s, f->dir);
	assert_int_equal(cert_store_load(&s, &err), GV_OK);
	assert_serving(&s, &a);

	/* the same content under a new timestamped directory */
	snprintf(v, sizeof(v), "%s/..v2", f->dir);
	assert_int_equal(mkdir(v, 0755), 0);
	pair_write(v, &a);
	snprintf(cmd, sizeof(cmd),
		 "cd '%s' && ln -s ..v2 ..tmp && mv -T ..tmp ..data", f->dir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(cert_store_reload_if_changed(&s, &changed, &err),
			 GV_OK);
	assert_false(changed);

	/* new content */
	snprintf(v, sizeof(v), "%s/..v3", f->dir);
	assert_int_equal(mkdir(v, 0755), 0);
	pair_write(v, &b);
	snprintf(cmd, sizeof(cmd),
		 "cd '%s' && ln -s ..v3 ..tmp && mv -T ..tmp ..data", f->dir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(cert_store_reload_if_changed(&s, &changed, &err),
			 GV_OK);
	assert_true(changed);
	assert_serving(&s, &b);
	cert_store_release(&s);
	pair_release(&a);
	pair_release(&b);
}

/* Loads cert/key text and expects rc with a message containing want. */
static void expect_load_error(const char *dir, const char *crt, const char *key,
			      int want_rc, const char *want)
{
	cert_store s;
	gv_error_t err = GV_ERROR_INIT;
	char p[256];
	int rc = 0;

	write_text(path_in(dir, CERT_CERT_FILE, p, sizeof(p)), crt,
		   strlen(crt));
	write_text(path_in(dir, CERT_KEY_FILE, p, sizeof(p)), key, strlen(key));
	store_open(&s, dir);
	rc = cert_store_load(&s, &err);
	if (rc != want_rc || !strstr(err.text, want))
		print_error("got %d '%s', want %d '%s'\n", rc, err.text,
			    want_rc, want);
	assert_int_equal(rc, want_rc);
	assert_non_null(strstr(err.text, want));
	assert_non_null(strstr(err.source, dir));
	cert_store_release(&s);
}

static void test_store_errors(void **state)
{
	fixture *f = *state;
	pair a;
	pair old;
	char want[512];
	const char *dns[] = { "localhost", NULL };
	cert_gen_opts o = { .dns = dns,
			    .now = time(NULL) - 2 * DAY,
			    .ca_seconds = DAY,
			    .leaf_seconds = DAY };
	cert_store s;
	gv_error_t err = GV_ERROR_INIT;
	char c[256];

	pair_gen(&a, "a.example");
	snprintf(want, sizeof(want),
		 "cannot load certificate '%s/tls.crt': file is empty", f->dir);
	expect_load_error(f->dir, "", a.leaf.key, GV_EPARSE, want);
	snprintf(want, sizeof(want),
		 "cannot load certificate '%s/tls.crt': no PEM CERTIFICATE "
		 "block",
		 f->dir);
	expect_load_error(f->dir, "garbage\n", a.leaf.key, GV_EPARSE, want);
	snprintf(want, sizeof(want),
		 "cannot load certificate '%s/tls.crt': ", f->dir);
	expect_load_error(f->dir,
			  "-----BEGIN CERTIFICATE-----\n!!!!\n"
			  "-----END CERTIFICATE-----\n",
			  a.leaf.key, GV_EPARSE, want);
	snprintf(want, sizeof(want),
		 "cannot load private key '%s/tls.key': file is empty", f->dir);
	expect_load_error(f->dir, a.leaf.cert, "", GV_EPARSE, want);
	snprintf(want, sizeof(want),
		 "cannot load private key '%s/tls.key': no PEM PRIVATE KEY "
		 "block",
		 f->dir);
	expect_load_error(f->dir, a.leaf.cert, a.leaf.cert, GV_EPARSE, want);
	snprintf(want, sizeof(want),
		 "cannot load private key '%s/tls.key': ", f->dir);
	expect_load_error(f->dir, a.leaf.cert,
			  "-----BEGIN PRIVATE KEY-----\nAAAA\n"
			  "-----END PRIVATE KEY-----\n",
			  GV_EPARSE, want);

	/* expired */
	old.ca = (cert_pem)CERT_PEM_INIT;
	old.leaf = (cert_pem)CERT_PEM_INIT;
	gen(&o, &old.ca, &old.leaf);
	snprintf(want, sizeof(want), "certificate '%s/tls.crt' expired at 20",
		 f->dir);
	expect_load_error(f->dir, old.leaf.cert, old.leaf.key, GV_EINVAL, want);

	/* missing */
	snprintf(c, sizeof(c), "%s/absent.crt", f->dir);
	assert_int_equal(cert_store_init(&s, c, c), GV_OK);
	assert_int_equal(cert_store_load(&s, &err), GV_EIO);
	snprintf(want, sizeof(want),
		 "cannot read certificate '%s': No such file or directory", c);
	assert_string_equal(err.text, want);
	assert_int_equal(cert_store_init(&s, "", c), GV_EINVAL);
	cert_store_release(&s);

	/* a refused first load leaves nothing to serve */
	store_open(&s, f->dir);
	assert_int_not_equal(cert_store_load(&s, &err), GV_OK);
	{
		gnutls_pcert_st *pc = NULL;
		unsigned int n = 0;
		gnutls_privkey_t key = NULL;

		assert_int_equal(cert_store_select(&s, &pc, &n, &key), -1);
	}
	cert_store_release(&s);
	pair_release(&a);
	pair_release(&old);
}

static void test_store_acquire(void **state)
{
	fixture *f = *state;
	cert_store s;
	gv_error_t err = GV_ERROR_INIT;
	cert_creds *held = NULL;
	pair a;
	pair b;

	pair_gen(&a, "a.example");
	pair_gen(&b, "b.example");
	pair_write(f->dir, &a);
	store_open(&s, f->dir);
	s.retire_grace = 1;
	assert_null(cert_store_acquire(&s));
	assert_int_equal(cert_store_load(&s, &err), GV_OK);
	held = cert_store_acquire(&s); /* A */
	assert_non_null(held);
	pair_write(f->dir, &b);
	assert_int_equal(cert_store_load(&s, &err), GV_OK);
	assert_int_equal(s.n_retired, 1); /* A */
	sleep_ms(2100);
	/* A is past its grace but held: kept */
	assert_int_equal(cert_store_load(&s, &err), GV_OK);
	assert_int_equal(s.n_retired, 2); /* B, A */
	cert_store_creds_put(held);
	/* A is past its grace and free: reaped; B is young: kept */
	assert_int_equal(cert_store_load(&s, &err), GV_OK);
	assert_int_equal(s.n_retired, 2); /* B', B */
	cert_store_release(&s);
	pair_release(&a);
	pair_release(&b);
}

/* ---- real handshakes -------------------------------------------------- */

typedef struct server_arg {
	int fd;
	int ret;
} server_arg;

static void *server_main(void *p)
{
	server_arg *a = p;
	gnutls_certificate_credentials_t cred = NULL;
	gnutls_session_t sess = NULL;
	int ret = 0;

	gnutls_certificate_allocate_credentials(&cred);
	gnutls_certificate_set_retrieve_function2(cred, cert_store_retrieve);
	gnutls_init(&sess, GNUTLS_SERVER | GNUTLS_NO_SIGNAL);
	gnutls_set_default_priority(sess);
	gnutls_credentials_set(sess, GNUTLS_CRD_CERTIFICATE, cred);
	gnutls_transport_set_int(sess, a->fd);
	do
		ret = gnutls_handshake(sess);
	while (ret < 0 && !gnutls_error_is_fatal(ret));
	if (ret == 0)
		gnutls_bye(sess, GNUTLS_SHUT_WR);
	a->ret = ret;
	gnutls_deinit(sess);
	shutdown(a->fd, SHUT_RDWR); /* a failed client must not wait */
	gnutls_certificate_free_credentials(cred);
	return NULL;
}

/*
 * One handshake against the bound store, the client trusting only
 * ca_pem and checking host. Returns the client's gnutls result; on
 * success *peer (may be NULL) is the DER of the server's leaf (caller
 * gnutls_free()s its data).
 */
static int handshake(const char *ca_pem, const char *host, gnutls_datum_t *peer)
{
	int sv[2];
	pthread_t t;
	server_arg a = { 0, 0 };
	gnutls_certificate_credentials_t cred = NULL;
	gnutls_session_t sess = NULL;
	gnutls_datum_t ca = { (unsigned char *)ca_pem,
			      (unsigned)strlen(ca_pem) };
	const gnutls_datum_t *peers = NULL;
	unsigned int npeers = 0;
	int ret = 0;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	a.fd = sv[1];
	assert_int_equal(pthread_create(&t, NULL, server_main, &a), 0);
	gnutls_certificate_allocate_credentials(&cred);
	/* with no CA loaded the handshake below fails verification */
	(void)gnutls_certificate_set_x509_trust_mem(cred, &ca,
						    GNUTLS_X509_FMT_PEM);
	gnutls_init(&sess, GNUTLS_CLIENT | GNUTLS_NO_SIGNAL);
	gnutls_set_default_priority(sess);
	gnutls_credentials_set(sess, GNUTLS_CRD_CERTIFICATE, cred);
	gnutls_server_name_set(sess, GNUTLS_NAME_DNS, host, strlen(host));
	gnutls_session_set_verify_cert(sess, host, 0);
	gnutls_transport_set_int(sess, sv[0]);
	do
		ret = gnutls_handshake(sess);
	while (ret < 0 && !gnutls_error_is_fatal(ret));
	if (ret == 0 && peer) {
		peers = gnutls_certificate_get_peers(sess, &npeers);
		assert_true(npeers >= 1);
		peer->size = peers[0].size;
		peer->data = gnutls_malloc(peers[0].size);
		assert_non_null(peer->data);
		memcpy(peer->data, peers[0].data, peers[0].size);
	}
	/* After a good handshake the server still sends session tickets:
	 * let it finish first. After a failed one close our end, which
	 * ends the server's wait. */
	if (ret == 0)
		pthread_join(t, NULL);
	gnutls_deinit(sess);
	close(sv[0]);
	if (ret != 0)
		pthread_join(t, NULL);
	close(sv[1]);
	gnutls_certificate_free_credentials(cred);
	return ret == 0 ? a.ret : ret;
}

static void assert_peer_is(const gnutls_datum_t *peer, const pair *p)
{
	gnutls_datum_t der = pem_der(p->leaf.cert);

	assert_int_equal(peer->size, der.size);
	assert_memory_equal(peer->data, der.data, der.size);
	gnutls_free(der.data);
}

static void test_handshake(void **state)
{
	fixture *f = *state;
	cert_store s;
	gv_error_t err = GV_ERROR_INIT;
	gnutls_datum_t peer = { NULL, 0 };
	bool changed = false;
	pair a;
	pair b;

	pair_gen(&a, "a.example");
	pair_gen(&b, "b.example");
	pair_write(f->dir, &a);
	store_open(&s, f->dir);

	/* nothing bound, then nothing loaded: the handshake fails */
	cert_store_bind(NULL);
	assert_int_not_equal(handshake(a.ca.cert, "localhost", NULL), 0);
	cert_store_bind(&s);
	assert_int_not_equal(handshake(a.ca.cert, "localhost", NULL), 0);

	assert_int_equal(cert_store_load(&s, &err), GV_OK);
	assert_int_equal(handshake(a.ca.cert, "a.example", &peer), 0);
	assert_peer_is(&peer, &a);
	gnutls_free(peer.data);
	assert_int_equal(handshake(a.ca.cert, "localhost", NULL), 0);
	/* the client checks the name */
	assert_int_not_equal(handshake(a.ca.cert, "b.example", NULL), 0);

	/* reloaded: the next handshake gets B */
	pair_write(f->dir, &b);
	assert_int_equal(cert_store_reload_if_changed(&s, &changed, &err),
			 GV_OK);
	assert_true(changed);
	assert_int_equal(handshake(b.ca.cert, "b.example", &peer), 0);
	assert_peer_is(&peer, &b);
	gnutls_free(peer.data);
	/* a client still trusting only A's CA now fails */
	assert_int_not_equal(handshake(a.ca.cert, "a.example", NULL), 0);

	cert_store_bind(NULL);
	cert_store_release(&s);
	pair_release(&a);
	pair_release(&b);
}

typedef struct hammer_arg {
	const pair *pairs;
	atomic_int *stop;
	int done;
	int failed; /* counted here: cmocka asserts only on its own thread */
} hammer_arg;

static void *hammer(void *p)
{
	hammer_arg *h = p;
	gnutls_datum_t peer = { NULL, 0 };
	gnutls_datum_t a = pem_der(h->pairs[0].leaf.cert);
	gnutls_datum_t b = pem_der(h->pairs[1].leaf.cert);
	char bundle[8192];

	/* trust both CAs: every handshake must succeed with A or B */
	snprintf(bundle, sizeof(bundle), "%s%s", h->pairs[0].ca.cert,
		 h->pairs[1].ca.cert);
	while (!atomic_load(h->stop) || h->done < 5) {
		peer.data = NULL;
		if (handshake(bundle, "localhost", &peer) != 0 ||
		    !((peer.size == a.size &&
		       memcmp(peer.data, a.data, a.size) == 0) ||
		      (peer.size == b.size &&
		       memcmp(peer.data, b.data, b.size) == 0)))
			h->failed++;
		gnutls_free(peer.data);
		h->done++;
	}
	gnutls_free(a.data);
	gnutls_free(b.data);
	return NULL;
}

/* Handshakes on three threads while the files flip between two pairs
 * and are reloaded; under ASan this also proves no set is freed early. */
static void test_handshake_during_reloads(void **state)
{
	fixture *f = *state;
	cert_store s;
	gv_error_t err = GV_ERROR_INIT;
	pair pairs[2];
	atomic_int stop;
	hammer_arg args[3];
	pthread_t t[3];
	bool changed = false;
	int swaps = 0;
	int i = 0;

	pair_gen(&pairs[0], "a.example");
	pair_gen(&pairs[1], "b.example");
	pair_write(f->dir, &pairs[0]);
	store_open(&s, f->dir);
	assert_int_equal(cert_store_load(&s, &err), GV_OK);
	cert_store_bind(&s);
	atomic_init(&stop, 0);
	for (i = 0; i < 3; i++) {
		args[i] = (hammer_arg){ pairs, &stop, 0, 0 };
		assert_int_equal(pthread_create(&t[i], NULL, hammer, &args[i]),
				 0);
	}
	for (i = 0; i < 40; i++) {
		pair_write(f->dir, &pairs[(i + 1) % 2]);
		assert_int_equal(
		    cert_store_reload_if_changed(&s, &changed, &err), GV_OK);
		swaps += changed;
		sleep_ms(2);
	}
	atomic_store(&stop, 1);
	for (i = 0; i < 3; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(args[i].failed, 0);
		assert_true(args[i].done >= 5);
	}
	assert_int_equal(swaps, 40);
	cert_store_bind(NULL);
	cert_store_release(&s);
	pair_release(&pairs[0]);
	pair_release(&pairs[1]);
}

/* ---- self-managed rotation (cert_rotate) ------------------------------ */

static const char *const svc_dns[] = { "groved-webhook",
				       "groved-webhook.groved-system",
				       "groved-webhook.groved-system.svc",
				       "groved-webhook.groved-system.svc."
				       "cluster.local",
				       NULL };

#define T0 ((time_t)1800000000) /* 2027-01-15 */
#define CA_LIFE 3000L
#define LEAF_LIFE 300L

static cert_rotate_opts rot_opts(time_t now, bool trusted)
{
	cert_rotate_opts o;

	memset(&o, 0, sizeof(o));
	o.dns = svc_dns;
	o.ca_seconds = CA_LIFE;
	o.leaf_seconds = LEAF_LIFE;
	o.now = now;
	o.signer_trusted = trusted;
	return o;
}

/* One rotation from cur; returns what changed and, when something did,
 * replaces *cur with the result. */
static unsigned rotate(cert_material *cur, time_t now, bool trusted)
{
	cert_rotate_opts o = rot_opts(now, trusted);
	cert_material next = CERT_MATERIAL_INIT;
	gv_error_t err = GV_ERROR_INIT;
	unsigned what = 99;
	char why[160];
	int rc = cert_rotate(cur, &o, &next, &what, why, sizeof(why), &err);

	assert_int_equal(rc, GV_OK);
	assert_int_not_equal(what, 99);
	if (what) {
		assert_true(why[0] != '\0');
		assert_non_null(next.ca_bundle);
		assert_non_null(next.ca_key);
		assert_non_null(next.tls_crt);
		assert_non_null(next.tls_key);
		cert_material_release(cur);
		*cur = next;
	} else {
		assert_null(next.ca_bundle);
	}
	return what;
}

/* The number of certificates in a PEM bundle. */
static int bundle_len(const char *pem)
{
	int n = 0;
	const char *p = pem;

	while ((p = strstr(p, "-----BEGIN CERTIFICATE-----")) != NULL) {
		n++;
		p++;
	}
	return n;
}

/* The i-th certificate of a bundle (new reference). */
static X509 *bundle_at(const char *pem, int i)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	X509 *x = NULL;
	int k = 0;

	for (k = 0; k <= i; k++) {
		X509_free(x);
		x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
		assert_non_null(x);
	}
	BIO_free(bio);
	return x;
}

/* The leaf of m verifies against the bundle at now, for every service
 * name, and its key matches; returns the index of its issuer. */
static int leaf_issuer(const cert_material *m, time_t now)
{
	X509 *leaf = pem_x509(m->tls_crt);
	EVP_PKEY *key = pem_key(m->tls_key);
	int n = bundle_len(m->ca_bundle);
	int found = -1;
	int i = 0;

	assert_int_equal(X509_check_private_key(leaf, key), 1);
	for (i = 0; svc_dns[i]; i++)
		assert_int_equal(X509_check_host(leaf, svc_dns[i], 0, 0, NULL),
				 1);
	for (i = 0; i < n && found < 0; i++) {
		X509 *ca = bundle_at(m->ca_bundle, i);
		X509_STORE *st = X509_STORE_new();
		X509_STORE_CTX *ctx = X509_STORE_CTX_new();

		assert_int_equal(X509_STORE_add_cert(st, ca), 1);
		assert_int_equal(X509_STORE_CTX_init(ctx, st, leaf, NULL), 1);
		X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
		X509_STORE_CTX_set_time(ctx, 0, now);
		if (X509_verify_cert(ctx) == 1)
			found = i;
		X509_STORE_CTX_free(ctx);
		X509_STORE_free(st);
		X509_free(ca);
	}
	X509_free(leaf);
	EVP_PKEY_free(key);
	assert_true(found >= 0);
	return found;
}

/* The ca.key of m belongs to the bundle's first CA. */
static void assert_signer_key(const cert_material *m)
{
	X509 *ca = bundle_at(m->ca_bundle, 0);
	EVP_PKEY *key = pem_key(m->ca_key);

	assert_int_equal(X509_check_private_key(ca, key), 1);
	X509_free(ca);
	EVP_PKEY_free(key);
}

static void test_rotate_from_nothing(void **state)
{
	cert_material m = CERT_MATERIAL_INIT;
	X509 *leaf = NULL;
	X509 *ca = NULL;

	(void)state;
	assert_int_equal(rotate(&m, T0, false), CERT_NEW_CA | CERT_NEW_LEAF);
	assert_int_equal(bundle_len(m.ca_bundle), 1);
	assert_int_equal(leaf_issuer(&m, T0), 0);
	assert_signer_key(&m);
	leaf = pem_x509(m.tls_crt);
	ca = pem_x509(m.ca_bundle);
	assert_true(asn1_epoch(X509_get0_notAfter(leaf)) == T0 + LEAF_LIFE);
	assert_true(asn1_epoch(X509_get0_notAfter(ca)) == T0 + CA_LIFE);
	assert_int_equal(X509_check_ca(ca), 1);
	X509_free(leaf);
	X509_free(ca);
	/* a fresh pair is left alone, trusted or not */
	assert_int_equal(rotate(&m, T0 + 1, false), 0);
	assert_int_equal(rotate(&m, T0 + 1, true), 0);
	cert_material_release(&m);
}

static void test_rotate_leaf_at_two_thirds(void **state)
{
	cert_material m = CERT_MATERIAL_INIT;
	char *ca_before = NULL;
	char *leaf_before = NULL;

	(void)state;
	rotate(&m, T0, false);
	ca_before = strdup(m.ca_bundle);
	leaf_before = strdup(m.tls_crt);
	/* just before two thirds: kept */
	assert_int_equal(rotate(&m, T0 + LEAF_LIFE * 2 / 3 - 1, true), 0);
	/* after: a new leaf from the same CA, the CA untouched */
	assert_int_equal(rotate(&m, T0 + LEAF_LIFE * 2 / 3 + 1, true),
			 CERT_NEW_LEAF);
	assert_string_equal(m.ca_bundle, ca_before);
	assert_string_not_equal(m.tls_crt, leaf_before);
	assert_int_equal(leaf_issuer(&m, T0 + LEAF_LIFE), 0);
	free(ca_before);
	free(leaf_before);
	cert_material_release(&m);
}

static void test_rotate_ca_in_two_steps(void **state)
{
	cert_material m = CERT_MATERIAL_INIT;
	time_t t = T0 + CA_LIFE * 2 / 3 + 1;
	char *leaf_before = NULL;
	X509 *old_ca = NULL;
	X509 *second = NULL;

	(void)state;
	rotate(&m, T0, false);
	old_ca = pem_x509(m.ca_bundle);
	/* keep the leaf current up to the CA's two thirds */
	assert_int_equal(rotate(&m, t - LEAF_LIFE / 2, true), CERT_NEW_LEAF);
	leaf_before = strdup(m.tls_crt);
	/* step 1: a new CA joins ca.crt first; the leaf stays, still
	 * signed by the old CA, which stays in the bundle */
	assert_int_equal(rotate(&m, t, true), CERT_NEW_CA);
	assert_int_equal(bundle_len(m.ca_bundle), 2);
	second = bundle_at(m.ca_bundle, 1);
	assert_int_equal(X509_cmp(second, old_ca), 0);
	assert_string_equal(m.tls_crt, leaf_before);
	assert_int_equal(leaf_issuer(&m, t), 1);
	assert_signer_key(&m);
	/* while the new CA is not trusted yet, nothing moves */
	assert_int_equal(rotate(&m, t + 1, false), 0);
	/* step 2: trusted, the leaf moves to the new CA */
	assert_int_equal(rotate(&m, t + 2, true), CERT_NEW_LEAF);
	assert_int_equal(leaf_issuer(&m, t + 2), 0);
	assert_int_equal(bundle_len(m.ca_bundle), 2);
	/* the old CA leaves ca.crt once expired */
	assert_int_equal(rotate(&m, T0 + CA_LIFE + 1, true) & CERT_PRUNED_CA,
			 CERT_PRUNED_CA);
	assert_int_equal(bundle_len(m.ca_bundle), 1);
	X509_free(old_ca);
	X509_free(second);
	free(leaf_before);
	cert_material_release(&m);
}

static void test_rotate_leaf_never_outlives_ca(void **state)
{
	cert_rotate_opts o = rot_opts(T0, false);
	cert_material cur = CERT_MATERIAL_INIT;
	cert_material m = CERT_MATERIAL_INIT;
	gv_error_t err = GV_ERROR_INIT;
	unsigned what = 0;
	X509 *leaf = NULL;

	(void)state;
	o.leaf_seconds = CA_LIFE * 10;
	assert_int_equal(cert_rotate(&cur, &o, &m, &what, NULL, 0, &err),
			 GV_OK);
	leaf = pem_x509(m.tls_crt);
	assert_true(asn1_epoch(X509_get0_notAfter(leaf)) == T0 + CA_LIFE);
	X509_free(leaf);
	cert_material_release(&m);
}

static void test_rotate_replaces_unusable_at_once(void **state)
{
	static const char *const other_dns[] = { "other.example", NULL };
	cert_material m = CERT_MATERIAL_INIT;
	cert_material n = CERT_MATERIAL_INIT;
	cert_rotate_opts o = rot_opts(T0, false);
	gv_error_t err = GV_ERROR_INIT;
	char *ca_before = NULL;
	unsigned what = 0;

	(void)state;
	rotate(&m, T0, false);
	ca_before = strdup(m.ca_bundle);
	/* a name missing: a new leaf now, even though the CA is untrusted
	 * (nothing served can be kept) */
	o.dns = other_dns;
	assert_int_equal(cert_rotate(&m, &o, &n, &what, NULL, 0, &err), GV_OK);
	assert_int_equal(what, CERT_NEW_LEAF);
	assert_string_equal(n.ca_bundle, ca_before);
	cert_material_release(&n);
	/* the leaf's key swapped for another: new leaf */
	free(m.tls_key);
	m.tls_key = strdup(m.ca_key);
	assert_int_equal(rotate(&m, T0 + 1, false), CERT_NEW_LEAF);
	assert_int_equal(leaf_issuer(&m, T0 + 1), 0);
	/* an expired leaf: new leaf */
	assert_int_equal(rotate(&m, T0 + LEAF_LIFE + 10, false), CERT_NEW_LEAF);
	/* the CA key lost: a new CA and, the old leaf still good, no new
	 * leaf until the new CA is trusted */
	free(m.ca_key);
	m.ca_key = NULL;
	assert_int_equal(rotate(&m, T0 + LEAF_LIFE + 11, false), CERT_NEW_CA);
	assert_int_equal(bundle_len(m.ca_bundle), 2);
	assert_signer_key(&m);
	free(ca_before);
	cert_material_release(&m);
}

static void test_rotate_garbage(void **state)
{
	cert_material m = CERT_MATERIAL_INIT;

	(void)state;
	m.ca_bundle = strdup("-----BEGIN CERTIFICATE-----\nnot base64!\n"
			     "-----END CERTIFICATE-----\n");
	m.ca_key = strdup("garbage");
	m.tls_crt = strdup("");
	m.tls_key = strdup("-----BEGIN PRIVATE KEY-----\n");
	assert_int_equal(rotate(&m, T0, false), CERT_NEW_CA | CERT_NEW_LEAF);
	assert_int_equal(bundle_len(m.ca_bundle), 1);
	assert_int_equal(leaf_issuer(&m, T0), 0);
	cert_material_release(&m);
}

static void test_rotate_bad_names(void **state)
{
	static const char *const bad[] = { "bad name", NULL };
	cert_rotate_opts o = rot_opts(T0, false);
	cert_material cur = CERT_MATERIAL_INIT;
	cert_material next = CERT_MATERIAL_INIT;
	gv_error_t err = GV_ERROR_INIT;
	unsigned what = 7;

	(void)state;
	o.dns = bad;
	assert_int_equal(cert_rotate(&cur, &o, &next, &what, NULL, 0, &err),
			 GV_EINVAL);
	assert_int_equal(what, 7); /* untouched on failure */
	assert_null(next.ca_bundle);
	assert_non_null(strstr(err.text, "bad name"));
}

static void test_service_names(void **state)
{
	cert_service_names n;
	char label[64];
	char ns[200];

	(void)state;
	assert_int_equal(
	    cert_service_names_fill(&n, "groved-webhook", "groved-system"),
	    GV_OK);
	assert_string_equal(n.list[0], "groved-webhook");
	assert_string_equal(n.list[1], "groved-webhook.groved-system");
	assert_string_equal(n.list[2], "groved-webhook.groved-system.svc");
	assert_string_equal(n.list[3],
			    "groved-webhook.groved-system.svc.cluster.local");
	assert_null(n.list[4]);
	/* a name longer than DNS allows: refused, n untouched */
	memset(label, 'a', sizeof(label) - 1);
	label[sizeof(label) - 1] = '\0';
	memset(ns, 'b', sizeof(ns) - 1);
	ns[sizeof(ns) - 1] = '\0';
	assert_int_equal(cert_service_names_fill(&n, label, ns), GV_EINVAL);
	assert_string_equal(n.list[0], "groved-webhook");
}

static void test_base64(void **state)
{
	static const struct {
		const char *plain;
		const char *b64;
	} cases[] = {
		{ "", "" },
		{ "f", "Zg==" },
		{ "fo", "Zm8=" },
		{ "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" },
		{ "fooba", "Zm9vYmE=" },
		{ "foobar", "Zm9vYmFy" },
	};
	/* the bad byte's offset, as kubeconfig and Secret errors say it */
	static const struct {
		const char *text;
		size_t bad_at;
	} bad[] = {
		{ "Zg=", 3 },	   { "Z===", 1 },  { "Zm9v!A==", 4 },
		{ "Zg==Zg==", 4 }, { "Zm9vY", 5 },
	};
	char *dec = NULL;
	size_t n = 99;
	size_t at = 0;
	size_t i = 0;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *enc =
		    gv_base64_encode(cases[i].plain, strlen(cases[i].plain));

		assert_non_null(enc);
		assert_string_equal(enc, cases[i].b64);
		assert_int_equal(
		    gv_base64_decode(enc, strlen(enc), &dec, &n, &at), GV_OK);
		assert_int_equal(n, strlen(cases[i].plain));
		assert_memory_equal(dec, cases[i].plain, n);
		assert_int_equal(dec[n], '\0');
		free(enc);
		free(dec);
	}
	/* line breaks are skipped, as Go does (wrapped YAML blocks) */
	assert_int_equal(gv_base64_decode("Zm9v\nYmFy\r\n", 11, &dec, &n, &at),
			 GV_OK);
	assert_string_equal(dec, "foobar");
	free(dec);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		dec = NULL;
		at = 99;
		assert_int_equal(gv_base64_decode(bad[i].text,
						  strlen(bad[i].text), &dec, &n,
						  &at),
				 GV_EINVAL);
		assert_null(dec);
		if (at != bad[i].bad_at)
			print_error("case %zu: bad at %zu\n", i, at);
		assert_int_equal(at, bad[i].bad_at);
	}
}

static void test_store_load_pem(void **state)
{
	cert_material m = CERT_MATERIAL_INIT;
	cert_material other = CERT_MATERIAL_INIT;
	cert_store s;
	cert_store_info info;
	gv_error_t err = GV_ERROR_INIT;
	bool changed = false;
	time_t now = time(NULL);

	(void)state;
	rotate(&m, now, false);
	rotate(&other, now, false);
	assert_int_equal(
	    cert_store_init(&s, "secret ns/x: tls.crt", "secret ns/x: tls.key"),
	    GV_OK);
	assert_int_equal(cert_store_info_get(&s, &info), GV_ENOTFOUND);
	assert_int_equal(cert_store_load_pem(&s, m.tls_crt, strlen(m.tls_crt),
					     m.tls_key, strlen(m.tls_key),
					     &changed, &err),
			 GV_OK);
	assert_true(changed);
	assert_int_equal(cert_store_info_get(&s, &info), GV_OK);
	assert_int_equal(info.generation, 1);
	/* the same pair again: nothing to do */
	assert_int_equal(cert_store_load_pem(&s, m.tls_crt, strlen(m.tls_crt),
					     m.tls_key, strlen(m.tls_key),
					     &changed, &err),
			 GV_OK);
	assert_false(changed);
	/* a key of another certificate: refused, named, the old one stays */
	assert_int_equal(
	    cert_store_load_pem(&s, m.tls_crt, strlen(m.tls_crt), other.tls_key,
				strlen(other.tls_key), &changed, &err),
	    GV_ECONFLICT);
	assert_false(changed);
	assert_non_null(strstr(err.text, "secret ns/x: tls.key"));
	assert_int_equal(cert_store_info_get(&s, &info), GV_OK);
	assert_int_equal(info.generation, 1);
	/* a length that is not the text's: refused, not read past */
	assert_int_equal(cert_store_load_pem(&s, m.tls_crt, 10, m.tls_key,
					     strlen(m.tls_key), &changed, &err),
			 GV_EINVAL);
	/* another good pair: swapped in */
	assert_int_equal(
	    cert_store_load_pem(&s, other.tls_crt, strlen(other.tls_crt),
				other.tls_key, strlen(other.tls_key), &changed,
				&err),
	    GV_OK);
	assert_true(changed);
	assert_int_equal(cert_store_info_get(&s, &info), GV_OK);
	assert_int_equal(info.generation, 2);
	cert_store_release(&s);
	cert_material_release(&m);
	cert_material_release(&other);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_generate_chain),
		cmocka_unit_test(test_generate_service_names),
		cmocka_unit_test(test_generate_bad_names),
		cmocka_unit_test_setup_teardown(test_write_dir, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_write_dir_missing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_self_signed_reuse, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
		    test_self_signed_regenerates_expired, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_self_signed_regenerates_names, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_self_signed_regenerates_bad_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_load_info, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_store_reload, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_store_reload_symlink_swap,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_errors, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_store_acquire, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_handshake, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_handshake_during_reloads,
						setup, teardown),
		cmocka_unit_test(test_rotate_from_nothing),
		cmocka_unit_test(test_rotate_leaf_at_two_thirds),
		cmocka_unit_test(test_rotate_ca_in_two_steps),
		cmocka_unit_test(test_rotate_leaf_never_outlives_ca),
		cmocka_unit_test(test_rotate_replaces_unusable_at_once),
		cmocka_unit_test(test_rotate_garbage),
		cmocka_unit_test(test_rotate_bad_names),
		cmocka_unit_test(test_service_names),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_store_load_pem),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
