/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cert_gen.c: a CA and a serving certificate with OpenSSL 3, written
 * atomically; the `--self-signed DIR` reuse rule.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <strings.h>
#include <sys/stat.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cert_int.h"

#define CERT_DNS_MAX 253

/* err's text: what OpenSSL says last, or fallback. Clears its queue. */
int cert_ossl_error(gv_error_t *err, const char *source, const char *what)
{
	char reason[256] = "unknown OpenSSL error";
	unsigned long e = 0;
	unsigned long last = 0;

	while ((e = ERR_get_error()) != 0)
		last = e;
	if (last)
		ERR_error_string_n(last, reason, sizeof(reason));
	return gv_error_set(err, GV_EIO, source, 0, 0, "%s: %s", what, reason);
}

void cert_pem_release(cert_pem *p)
{
	if (!p)
		return;
	free(p->cert);
	if (p->key)
		OPENSSL_cleanse(p->key, p->key_len);
	free(p->key);
	*p = (cert_pem)CERT_PEM_INIT;
}

static bool cert_dns_ok(const char *s)
{
	size_t n = strlen(s);
	size_t i = 0;

	if (n == 0 || n > CERT_DNS_MAX || s[0] == '.' || s[n - 1] == '.')
		return false;
	if (s[0] == '*') {
		if (n < 3 || s[1] != '.')
			return false;
		i = 2;
	}
	for (; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '.'))
			return false;
		if (c == '.' && s[i + 1] == '.')
			return false;
	}
	return true;
}

static size_t cert_count(const char *const *list)
{
	size_t n = 0;

	while (list && list[n])
		n++;
	return n;
}

/* Checks the names of o. */
int cert_check_names(const cert_gen_opts *o, gv_error_t *err)
{
	size_t ndns = cert_count(o->dns);
	size_t nips = cert_count(o->ips);
	size_t i = 0;
	ASN1_OCTET_STRING *ip = NULL;

	if (ndns + nips == 0)
		return gv_error_set(err, GV_EINVAL, NULL, 0, 0,
				    "cannot generate certificate: no DNS name "
				    "or IP address");
	if (ndns + nips > CERT_MAX_NAMES)
		return gv_error_set(err, GV_EINVAL, NULL, 0, 0,
				    "cannot generate certificate: %zu names, "
				    "at most %d",
				    ndns + nips, CERT_MAX_NAMES);
	for (i = 0; i < ndns; i++)
		if (!cert_dns_ok(o->dns[i]))
			return gv_error_set(err, GV_EINVAL, NULL, 0, 0,
					    "invalid DNS name '%s'", o->dns[i]);
	for (i = 0; i < nips; i++) {
		ip = a2i_IPADDRESS(o->ips[i]);
		if (!ip) {
			ERR_clear_error();
			return gv_error_set(err, GV_EINVAL, NULL, 0, 0,
					    "invalid IP address '%s'",
					    o->ips[i]);
		}
		ASN1_OCTET_STRING_free(ip);
	}
	return GV_OK;
}

/* A new ECDSA P-256 key, or NULL. */
EVP_PKEY *cert_new_key(void)
{
	return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

/* Sets a random positive serial of 127 bits (RFC 5280: at most 20 octets,
 * positive; CA/B: at least 64 bits of randomness). */
static int cert_set_serial(X509 *x)
{
	unsigned char raw[16];
	BIGNUM *bn = NULL;
	int ok = 0;

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return 0;
	raw[0] &= 0x7f;
	raw[0] |= 0x40; /* never zero, always 16 octets */
	bn = BN_bin2bn(raw, sizeof(raw), NULL);
	if (bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)))
		ok = 1;
	BN_free(bn);
	return ok;
}

/* Adds the extension nid=value (OpenSSL's config syntax; only constant
 * values reach here, never a user's name). */
static int cert_add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
	int ok = 0;

	if (!ext)
		return 0;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok;
}

/* Adds subjectAltName from o's names, built as GENERAL_NAMEs so that no
 * name is ever parsed as OpenSSL config text. */
static int cert_add_sans(X509 *x, const cert_gen_opts *o)
{
	GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
	GENERAL_NAME *gen = NULL;
	ASN1_IA5STRING *ia5 = NULL;
	ASN1_OCTET_STRING *ip = NULL;
	size_t i = 0;
	int ok = 0;

	if (!gens)
		goto out;
	for (i = 0; o->dns && o->dns[i]; i++) {
		ia5 = ASN1_IA5STRING_new();
		gen = GENERAL_NAME_new();
		if (!ia5 || !gen ||
		    !ASN1_STRING_set(ia5, o->dns[i], (int)strlen(o->dns[i])))
			goto out;
		GENERAL_NAME_set0_value(gen, GEN_DNS, ia5);
		ia5 = NULL;
		if (!sk_GENERAL_NAME_push(gens, gen))
			goto out;
		gen = NULL;
	}
	for (i = 0; o->ips && o->ips[i]; i++) {
		ip = a2i_IPADDRESS(o->ips[i]);
		gen = GENERAL_NAME_new();
		if (!ip || !gen)
			goto out;
		GENERAL_NAME_set0_value(gen, GEN_IPADD, ip);
		ip = NULL;
		if (!sk_GENERAL_NAME_push(gens, gen))
			goto out;
		gen = NULL;
	}
	ok = X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0,
			       X509V3_ADD_DEFAULT) == 1;
out:
	ASN1_IA5STRING_free(ia5);
	ASN1_OCTET_STRING_free(ip);
	GENERAL_NAME_free(gen);
	GENERAL_NAMES_free(gens);
	return ok;
}

/* See cert_int.h. */
X509 *cert_build(EVP_PKEY *key, const char *cn, time_t now, long seconds,
		 X509 *issuer, EVP_PKEY *issuer_key,
		 const cert_gen_opts *leaf_of)
{
	X509 *x = X509_new();
	X509 *result = NULL;
	X509_NAME *name = NULL;
	X509V3_CTX ctx;

	if (!x || !X509_set_version(x, X509_VERSION_3) || !cert_set_serial(x))
		goto out;
	if (!ASN1_TIME_set(X509_getm_notBefore(x),
			   now - CERT_BACKDATE_SECONDS) ||
	    !ASN1_TIME_set(X509_getm_notAfter(x), now + seconds))
		goto out;
	name = X509_get_subject_name(x);
	if (!X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
					(const unsigned char *)"groved", -1, -1,
					0) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
					(const unsigned char *)cn, -1, -1, 0))
		goto out;
	if (!X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer)
					    : name) ||
	    !X509_set_pubkey(x, key))
		goto out;
	X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
	if (!leaf_of) {
		if (!cert_add_ext(x, &ctx, NID_basic_constraints,
				  "critical,CA:TRUE") ||
		    !cert_add_ext(x, &ctx, NID_key_usage,
				  "critical,keyCertSign,cRLSign") ||
		    !cert_add_ext(x, &ctx, NID_subject_key_identifier, "hash"))
			goto out;
	} else {
		if (!cert_add_ext(x, &ctx, NID_basic_constraints,
				  "critical,CA:FALSE") ||
		    !cert_add_ext(x, &ctx, NID_key_usage,
				  "critical,digitalSignature") ||
		    !cert_add_ext(x, &ctx, NID_ext_key_usage, "serverAuth") ||
		    !cert_add_ext(x, &ctx, NID_subject_key_identifier,
				  "hash") ||
		    !cert_add_ext(x, &ctx, NID_authority_key_identifier,
				  "keyid:always") ||
		    !cert_add_sans(x, leaf_of))
			goto out;
	}
	if (!X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()))
		goto out;
	result = x;
	x = NULL;
out:
	X509_free(x);
	return result;
}

/* PEM of x (and of key, when not NULL) into p's fresh buffers. */
int cert_to_pem(X509 *x, EVP_PKEY *key, cert_pem *p)
{
	BIO *bio = NULL;
	char *data = NULL;
	long n = 0;
	int ok = 0;

	bio = BIO_new(BIO_s_mem());
	if (!bio || !PEM_write_bio_X509(bio, x))
		goto out;
	n = BIO_get_mem_data(bio, &data);
	p->cert = malloc((size_t)n + 1);
	if (n <= 0 || !p->cert)
		goto out;
	memcpy(p->cert, data, (size_t)n);
	p->cert[n] = '\0';
	p->cert_len = (size_t)n;
	if (key) {
		BIO_free(bio);
		bio = BIO_new(BIO_s_secmem());
		if (!bio || !PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0,
						      NULL, NULL))
			goto out;
		n = BIO_get_mem_data(bio, &data);
		p->key = malloc((size_t)n + 1);
		if (n <= 0 || !p->key)
			goto out;
		memcpy(p->key, data, (size_t)n);
		p->key[n] = '\0';
		p->key_len = (size_t)n;
	}
	ok = 1;
out:
	BIO_free(bio);
	return ok;
}

int cert_generate(const cert_gen_opts *o, cert_pem *ca_out, cert_pem *leaf_out,
		  gv_error_t *err)
{
	EVP_PKEY *ca_key = NULL;
	EVP_PKEY *leaf_key = NULL;
	X509 *ca = NULL;
	X509 *leaf = NULL;
	cert_pem ca_pem = CERT_PEM_INIT;
	cert_pem leaf_pem = CERT_PEM_INIT;
	time_t now = o->now ? o->now : time(NULL);
	long ca_s = o->ca_seconds ? o->ca_seconds : CERT_DEFAULT_DAYS * 86400L;
	long leaf_s =
	    o->leaf_seconds ? o->leaf_seconds : CERT_DEFAULT_DAYS * 86400L;
	char ca_cn[64];
	const char *cn = NULL;
	int rc = GV_OK;

	rc = cert_check_names(o, err);
	if (rc != GV_OK)
		goto out;
	cn = o->dns && o->dns[0] ? o->dns[0] : o->ips[0];
	snprintf(ca_cn, sizeof(ca_cn), "groved-ca@%lld", (long long)now);
	ERR_clear_error();
	ca_key = cert_new_key();
	leaf_key = cert_new_key();
	if (!ca_key || !leaf_key) {
		rc = cert_ossl_error(err, NULL, "cannot generate key");
		goto out;
	}
	ca = cert_build(ca_key, ca_cn, now, ca_s, NULL, NULL, NULL);
	if (ca)
		leaf = cert_build(leaf_key, cn, now, leaf_s, ca, ca_key, o);
	if (!ca || !leaf) {
		rc = cert_ossl_error(err, NULL, "cannot generate certificate");
		goto out;
	}
	if (!cert_to_pem(ca, NULL, &ca_pem) ||
	    !cert_to_pem(leaf, leaf_key, &leaf_pem)) {
		rc = cert_ossl_error(err, NULL, "cannot encode certificate");
		goto out;
	}
	*ca_out = ca_pem;
	ca_pem = (cert_pem)CERT_PEM_INIT;
	*leaf_out = leaf_pem;
	leaf_pem = (cert_pem)CERT_PEM_INIT;
out:
	cert_pem_release(&ca_pem);
	cert_pem_release(&leaf_pem);
	X509_free(ca);
	X509_free(leaf);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(leaf_key);
	return rc;
}

int cert_service_names_fill(cert_service_names *out, const char *service,
			    const char *ns)
{
	static const char *const forms[CERT_SERVICE_NAMES] = {
		"%s", "%s.%s", "%s.%s.svc", "%s.%s.svc.cluster.local"
	};
	cert_service_names names;
	size_t i = 0;

	for (i = 0; i < CERT_SERVICE_NAMES; i++) {
		/* every form takes the service, then the namespace */
		int n = snprintf(names.name[i], sizeof(names.name[i]), forms[i],
				 service, ns);

		if (n < 0 || n > CERT_DNS_MAX)
			return GV_EINVAL;
		names.list[i] = out->name[i];
	}
	names.list[CERT_SERVICE_NAMES] = NULL;
	*out = names;
	return GV_OK;
}

/* ---- files ------------------------------------------------------------ */

/* Writes data to dir/name atomically with mode. */
static int cert_write_file(const char *dir, const char *name, const char *data,
			   size_t len, mode_t mode, gv_error_t *err)
{
	char path[PATH_MAX];
	char tmp[PATH_MAX];
	int fd = -1;
	size_t done = 0;
	ssize_t n = 0;
	int rc = GV_OK;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >=
		(int)sizeof(path) ||
	    snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, name) >=
		(int)sizeof(tmp))
		return gv_error_set(err, GV_EINVAL, dir, 0, 0,
				    "cannot write '%s/%s': path too long", dir,
				    name);
	fd = mkstemp(tmp);
	if (fd < 0) {
		tmp[0] = '\0';
		rc = gv_error_set(err, GV_EIO, path, 0, 0,
				  "cannot create temporary file for '%s': %s",
				  path, strerror(errno));
		goto out;
	}
	if (fchmod(fd, mode) != 0)
		goto fail;
	while (done < len) {
		n = write(fd, data + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		done += (size_t)n;
	}
	if (fsync(fd) != 0)
		goto fail;
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) != 0)
		goto fail;
	tmp[0] = '\0';
	goto out;
fail:
	rc = gv_error_set(err, GV_EIO, path, 0, 0, "cannot write '%s': %s",
			  path, strerror(errno ? errno : EIO));
out:
	if (fd >= 0)
		close(fd);
	if (rc != GV_OK && tmp[0])
		unlink(tmp);
	return rc;
}

int cert_write_dir(const char *dir, const cert_pem *ca, const cert_pem *leaf,
		   gv_error_t *err)
{
	int dfd = -1;
	int rc = GV_OK;

	if (!ca->cert || !leaf->cert || !leaf->key)
		return gv_error_set(err, GV_EINVAL, dir, 0, 0,
				    "cannot write certificates to '%s': "
				    "nothing to write",
				    dir);
	rc = cert_write_file(dir, CERT_KEY_FILE, leaf->key, leaf->key_len, 0600,
			     err);
	if (rc == GV_OK)
		rc = cert_write_file(dir, CERT_CERT_FILE, leaf->cert,
				     leaf->cert_len, 0644, err);
	if (rc == GV_OK)
		rc = cert_write_file(dir, CERT_CA_FILE, ca->cert, ca->cert_len,
				     0644, err);
	if (rc != GV_OK)
		return rc;
	/* Make the renames durable; a failure here loses nothing now. */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	return GV_OK;
}

/* ---- reuse ------------------------------------------------------------ */

/* x read from dir/name, or NULL. */
static X509 *cert_read_x509(const char *dir, const char *name)
{
	char path[PATH_MAX];
	BIO *bio = NULL;
	X509 *x = NULL;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    (int)sizeof(path))
		return NULL;
	bio = BIO_new_file(path, "r");
	if (bio)
		x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	return x;
}

/* The key in dir/tls.key when only its owner may read it, or NULL. */
static EVP_PKEY *cert_read_key(const char *dir)
{
	char path[PATH_MAX];
	struct stat st;
	BIO *bio = NULL;
	EVP_PKEY *key = NULL;

	if (snprintf(path, sizeof(path), "%s/%s", dir, CERT_KEY_FILE) >=
	    (int)sizeof(path))
		return NULL;
	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (st.st_mode & 077) != 0)
		return NULL;
	bio = BIO_new_file(path, "r");
	if (bio)
		key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	return key;
}

bool cert_asn1_epoch(const ASN1_TIME *t, int64_t *out)
{
	ASN1_TIME *epoch = ASN1_TIME_set(NULL, 0);
	int days = 0;
	int secs = 0;
	bool ok = false;

	if (epoch && ASN1_TIME_diff(&days, &secs, epoch, t)) {
		*out = (int64_t)days * 86400 + secs;
		ok = true;
	}
	ASN1_TIME_free(epoch);
	return ok;
}

bool cert_fresh(X509 *x, time_t now)
{
	int64_t nb = 0;
	int64_t na = 0;

	if (!cert_asn1_epoch(X509_get0_notBefore(x), &nb) ||
	    !cert_asn1_epoch(X509_get0_notAfter(x), &na))
		return false;
	if (now < nb || now >= na)
		return false;
	/* our certificates are backdated for clock skew; their lifetime,
	 * the one two thirds are taken of, starts when they were made */
	if (nb + CERT_BACKDATE_SECONDS < na)
		nb += CERT_BACKDATE_SECONDS;
	return (na - now) * 3 > (na - nb);
}

bool cert_covers(X509 *x, const cert_gen_opts *o)
{
	GENERAL_NAMES *gens =
	    X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	ASN1_OCTET_STRING *want = NULL;
	bool ok = gens != NULL;
	size_t i = 0;
	int j = 0;

	for (i = 0; ok && o->dns && o->dns[i]; i++) {
		bool found = false;

		for (j = 0; !found && j < sk_GENERAL_NAME_num(gens); j++) {
			const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, j);
			const unsigned char *d = NULL;

			if (g->type != GEN_DNS)
				continue;
			d = ASN1_STRING_get0_data(g->d.dNSName);
			found = (size_t)ASN1_STRING_length(g->d.dNSName) ==
				    strlen(o->dns[i]) &&
				strncasecmp((const char *)d, o->dns[i],
					    strlen(o->dns[i])) == 0;
		}
		ok = found;
	}
	for (i = 0; ok && o->ips && o->ips[i]; i++) {
		bool found = false;

		want = a2i_IPADDRESS(o->ips[i]);
		for (j = 0; want && !found && j < sk_GENERAL_NAME_num(gens);
		     j++) {
			const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, j);

			found =
			    g->type == GEN_IPADD &&
			    ASN1_OCTET_STRING_cmp(g->d.iPAddress, want) == 0;
		}
		ASN1_OCTET_STRING_free(want);
		want = NULL;
		ok = found;
	}
	GENERAL_NAMES_free(gens);
	return ok;
}

bool cert_chain_ok(X509 *ca, X509 *leaf, time_t now)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	bool ok = false;

	if (!store || !ctx || !X509_STORE_add_cert(store, ca) ||
	    !X509_STORE_CTX_init(ctx, store, leaf, NULL))
		goto out;
	X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
	X509_STORE_CTX_set_time(ctx, 0, now);
	ok = X509_verify_cert(ctx) == 1;
out:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return ok;
}

/* The pair in dir is good for o at now (see certs.h). */
static bool cert_reusable(const char *dir, const cert_gen_opts *o, time_t now)
{
	X509 *ca = cert_read_x509(dir, CERT_CA_FILE);
	X509 *leaf = cert_read_x509(dir, CERT_CERT_FILE);
	EVP_PKEY *key = cert_read_key(dir);
	bool ok = false;

	ok = ca && leaf && key && cert_fresh(ca, now) &&
	     cert_fresh(leaf, now) && cert_covers(leaf, o) &&
	     X509_check_private_key(leaf, key) == 1 &&
	     cert_chain_ok(ca, leaf, now);
	X509_free(ca);
	X509_free(leaf);
	EVP_PKEY_free(key);
	ERR_clear_error();
	return ok;
}

int cert_ensure_self_signed(const char *dir, const cert_gen_opts *o,
			    bool *generated, gv_error_t *err)
{
	cert_pem ca = CERT_PEM_INIT;
	cert_pem leaf = CERT_PEM_INIT;
	struct stat st;
	time_t now = o->now ? o->now : time(NULL);
	int rc = GV_OK;

	if (!dir || !dir[0])
		return gv_error_set(err, GV_EINVAL, NULL, 0, 0,
				    "cannot use self-signed directory '': "
				    "empty path");
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		rc = gv_error_set(err, GV_EIO, dir, 0, 0,
				  "cannot create directory '%s': %s", dir,
				  strerror(errno));
		goto out;
	}
	if (stat(dir, &st) != 0) {
		rc = gv_error_set(err, GV_EIO, dir, 0, 0,
				  "cannot use self-signed directory '%s': %s",
				  dir, strerror(errno));
		goto out;
	}
	if (!S_ISDIR(st.st_mode)) {
		rc = gv_error_set(err, GV_EIO, dir, 0, 0,
				  "cannot use self-signed directory '%s': "
				  "not a directory",
				  dir);
		goto out;
	}
	rc = cert_check_names(o, err);
	if (rc != GV_OK)
		goto out;
	if (cert_reusable(dir, o, now)) {
		if (generated)
			*generated = false;
		goto out;
	}
	rc = cert_generate(o, &ca, &leaf, err);
	if (rc == GV_OK)
		rc = cert_write_dir(dir, &ca, &leaf, err);
	if (rc == GV_OK && generated)
		*generated = true;
out:
	cert_pem_release(&ca);
	cert_pem_release(&leaf);
	return rc;
}
