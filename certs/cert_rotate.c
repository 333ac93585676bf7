/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cert_rotate.c: the self-managed mode's decision, what the next CA and
 * serving certificate are, as a pure function of the current material,
 * the clock and whether the signing CA is trusted yet (certs.h says why
 * a new CA takes two steps).
 */
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "cert_int.h"
#include "groved/gv_buf.h"

#define CERT_MAX_BUNDLE 8 /* CAs kept in ca.crt; more is garbage */

/* The current material, parsed. */
typedef struct cert_parsed {
	X509 *cas[CERT_MAX_BUNDLE]; /* ca.crt in order; [0] signs */
	int n_cas;
	EVP_PKEY *ca_key;
	X509 *leaf;
	EVP_PKEY *leaf_key;
} cert_parsed;

static void cert_parsed_release(cert_parsed *p)
{
	int i = 0;

	for (i = 0; i < p->n_cas; i++)
		X509_free(p->cas[i]);
	EVP_PKEY_free(p->ca_key);
	X509_free(p->leaf);
	EVP_PKEY_free(p->leaf_key);
	memset(p, 0, sizeof(*p));
}

void cert_material_release(cert_material *m)
{
	if (!m)
		return;
	free(m->ca_bundle);
	if (m->ca_key)
		OPENSSL_cleanse(m->ca_key, strlen(m->ca_key));
	free(m->ca_key);
	free(m->tls_crt);
	if (m->tls_key)
		OPENSSL_cleanse(m->tls_key, strlen(m->tls_key));
	free(m->tls_key);
	*m = (cert_material)CERT_MATERIAL_INIT;
}

static BIO *cert_mem_bio(const char *pem)
{
	return pem ? BIO_new_mem_buf(pem, -1) : NULL;
}

/* The certificates of pem in order, at most max; returns how many. */
static int cert_read_all(const char *pem, X509 **out, int max)
{
	BIO *bio = cert_mem_bio(pem);
	X509 *x = NULL;
	int n = 0;

	while (bio && n < max &&
	       (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL)
		out[n++] = x;
	BIO_free(bio);
	ERR_clear_error(); /* the end of the text reads as an error */
	return n;
}

static EVP_PKEY *cert_read_key_pem(const char *pem)
{
	BIO *bio = cert_mem_bio(pem);
	EVP_PKEY *k = NULL;

	if (bio)
		k = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	ERR_clear_error();
	return k;
}

static void cert_parse(const cert_material *m, cert_parsed *p)
{
	X509 *leaf[1] = { NULL };

	memset(p, 0, sizeof(*p));
	p->n_cas = cert_read_all(m->ca_bundle, p->cas, CERT_MAX_BUNDLE);
	p->ca_key = cert_read_key_pem(m->ca_key);
	if (cert_read_all(m->tls_crt, leaf, 1) == 1)
		p->leaf = leaf[0];
	p->leaf_key = cert_read_key_pem(m->tls_key);
}

static int64_t cert_end(X509 *x)
{
	int64_t t = -1;

	if (!x || !cert_asn1_epoch(X509_get0_notAfter(x), &t))
		return -1;
	return t;
}

/* ca can sign: a CA certificate whose key is key, valid and not in the
 * last third of its life at now. */
static bool cert_signer_ok(X509 *ca, EVP_PKEY *key, time_t now)
{
	bool ok = ca && key && X509_check_ca(ca) >= 1 &&
		  X509_check_private_key(ca, key) == 1 && cert_fresh(ca, now);

	ERR_clear_error();
	return ok;
}

/* The CA of p that issued p->leaf and verifies it at now, or -1. */
static int cert_issuer_of(const cert_parsed *p, time_t now)
{
	int i = 0;

	for (i = 0; p->leaf && i < p->n_cas; i++) {
		if (X509_check_issued(p->cas[i], p->leaf) == X509_V_OK &&
		    cert_chain_ok(p->cas[i], p->leaf, now))
			return i;
	}
	ERR_clear_error();
	return -1;
}

/* Appends the PEM of x to b. GV_OK, or b's failure (GV_ENOMEM also when
 * OpenSSL cannot write the PEM). */
static int cert_append_pem(gv_buf *b, X509 *x)
{
	cert_pem pem = CERT_PEM_INIT;
	int rc = GV_OK;

	if (!cert_to_pem(x, NULL, &pem))
		return GV_ENOMEM;
	rc = gv_buf_add(b, pem.cert, pem.cert_len);
	cert_pem_release(&pem);
	return rc;
}

static char *cert_dup(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void cert_say(char *why, size_t size, const char *text)
{
	size_t used = why ? strlen(why) : 0;

	if (why && used + 1 < size)
		snprintf(why + used, size - used, "%s%s", used ? "; " : "",
			 text);
}

/* What the steps of one cert_rotate() share. */
typedef struct cert_rotation {
	const cert_material *cur; /* borrowed */
	const cert_rotate_opts *o; /* borrowed */
	cert_parsed p; /* cur, parsed */
	cert_gen_opts names;
	time_t now;
	bool trusted; /* the signer is in every caBundle */
	unsigned did; /* CERT_NEW_CA | CERT_NEW_LEAF | CERT_PRUNED_CA */
	X509 *signer; /* p's first CA or new_ca; borrowed */
	EVP_PKEY *signer_key; /* p's CA key or new_key; borrowed */
	X509 *new_ca; /* owned */
	EVP_PKEY *new_key; /* owned: new_ca's */
	char *why; /* the caller's note (may be NULL) */
	size_t why_size;
} cert_rotation;

/* Step 1, the signer: the first CA of ca.crt when it can sign, else a
 * new CA (not trusted yet: no caBundle holds it). */
static int rotate_signer(cert_rotation *r, gv_error_t *err)
{
	const cert_parsed *p = &r->p;
	long ca_s =
	    r->o->ca_seconds ? r->o->ca_seconds : CERT_DEFAULT_CA_DAYS * 86400L;
	char ca_cn[64];

	if (p->n_cas > 0 && cert_signer_ok(p->cas[0], p->ca_key, r->now)) {
		r->signer = p->cas[0];
		r->signer_key = p->ca_key;
		return GV_OK;
	}
	snprintf(ca_cn, sizeof(ca_cn), "groved-ca@%lld", (long long)r->now);
	r->new_key = cert_new_key();
	r->new_ca = r->new_key ? cert_build(r->new_key, ca_cn, r->now, ca_s,
					    NULL, NULL, NULL)
			       : NULL;
	if (!r->new_ca)
		return cert_ossl_error(err, NULL, "cannot generate CA");
	r->signer = r->new_ca;
	r->signer_key = r->new_key;
	r->trusted = false; /* no caBundle holds it yet */
	r->did |= CERT_NEW_CA;
	cert_say(r->why, r->why_size,
		 p->n_cas == 0 ? "no CA"
		 : !p->ca_key  ? "CA key missing"
			       : "CA in the last third of its life or "
				 "unusable");
	return GV_OK;
}

/* Whether the serving certificate of r->p may stay (*why_not: else why). */
static bool rotate_leaf_keeps(const cert_rotation *r, const char **why_not)
{
	const cert_parsed *p = &r->p;
	int issuer = cert_issuer_of(p, r->now);
	bool keep = true;

	if (!p->leaf || !p->leaf_key ||
	    X509_check_private_key(p->leaf, p->leaf_key) != 1 || issuer < 0 ||
	    !cert_covers(p->leaf, &r->names)) {
		/* nothing to keep serving: replace at once, whatever the
		 * trust in the signer */
		keep = false;
		*why_not = !p->leaf ? "no serving certificate"
			   : issuer < 0
			       ? "serving certificate expired or not signed "
				 "by a CA of ca.crt"
			       : "serving certificate unusable or missing a "
				 "name";
	} else if (r->trusted && !cert_fresh(p->leaf, r->now)) {
		keep = false;
		*why_not = "serving certificate in the last third of its life";
	} else if (r->trusted && p->cas[issuer] != r->signer) {
		keep = false;
		*why_not = "serving certificate moves to the new CA";
	}
	ERR_clear_error();
	return keep;
}

/* Step 2, the serving certificate: kept, or a new one from the signer
 * that never outlives it, into m's tls_crt and tls_key. */
static int rotate_leaf(cert_rotation *r, cert_material *m, bool *keep,
		       gv_error_t *err)
{
	const cert_rotate_opts *o = r->o;
	const char *why_not = NULL;
	cert_pem pem = CERT_PEM_INIT;
	EVP_PKEY *leaf_key = NULL;
	X509 *leaf = NULL;
	long life =
	    o->leaf_seconds ? o->leaf_seconds : CERT_DEFAULT_DAYS * 86400L;
	int64_t end = 0;
	int rc = GV_OK;

	*keep = rotate_leaf_keeps(r, &why_not);
	if (*keep)
		return GV_OK;
	cert_say(r->why, r->why_size, why_not);
	leaf_key = cert_new_key();
	/* never outlive the CA: verification would fail first */
	end = cert_end(r->signer);
	if (end > 0 && (int64_t)r->now + life > end)
		life = (long)(end - (int64_t)r->now);
	leaf = leaf_key && life > 0
		   ? cert_build(
			 leaf_key, o->dns && o->dns[0] ? o->dns[0] : o->ips[0],
			 r->now, life, r->signer, r->signer_key, &r->names)
		   : NULL;
	if (!leaf || !cert_to_pem(leaf, leaf_key, &pem)) {
		rc = cert_ossl_error(err, NULL, "cannot generate certificate");
		goto out;
	}
	m->tls_crt = pem.cert;
	m->tls_key = pem.key;
	pem = (cert_pem)CERT_PEM_INIT;
	r->did |= CERT_NEW_LEAF;
out:
	cert_pem_release(&pem);
	X509_free(leaf);
	EVP_PKEY_free(leaf_key);
	return rc;
}

/* Step 3, ca.crt: the signer first, then every other CA still valid
 * (a new CA pushes the oldest out beyond CERT_MAX_BUNDLE), into
 * m->ca_bundle as cert_store_load would read it back. */
static int rotate_bundle(cert_rotation *r, cert_material *m, gv_error_t *err)
{
	const cert_parsed *p = &r->p;
	gv_buf bundle = GV_BUF_INIT(CERT_STORE_MAX_FILE);
	int rc = cert_append_pem(&bundle, r->signer);
	int i = 0;

	for (i = 0; rc == GV_OK && i < p->n_cas; i++) {
		if (p->cas[i] == r->signer)
			continue;
		if (cert_end(p->cas[i]) <= (int64_t)r->now ||
		    (r->new_ca && i >= CERT_MAX_BUNDLE - 1)) {
			r->did |= CERT_PRUNED_CA;
			continue;
		}
		rc = cert_append_pem(&bundle, p->cas[i]);
	}
	if (rc == GV_ETOOBIG) {
		rc = gv_error_set(err, rc, NULL, 0, 0,
				  "cannot write ca.crt: larger than %zu bytes",
				  (size_t)CERT_STORE_MAX_FILE);
		goto out;
	}
	if (rc == GV_OK) {
		m->ca_bundle = gv_buf_detach(&bundle, NULL);
		if (!m->ca_bundle)
			rc = GV_ENOMEM;
	}
	if (rc != GV_OK)
		rc = gv_error_set(err, GV_ENOMEM, NULL, 0, 0, "out of memory");
out:
	gv_buf_release(&bundle);
	return rc;
}

/* The rest of the new material: the signer's key (a new CA's, or the
 * current one) and a kept serving certificate. */
static int rotate_keys(cert_rotation *r, cert_material *m, bool keep_leaf,
		       gv_error_t *err)
{
	cert_pem pem = CERT_PEM_INIT;

	if (r->did & CERT_PRUNED_CA)
		cert_say(r->why, r->why_size, "expired CA removed from ca.crt");
	if (r->new_ca) {
		if (!cert_to_pem(r->new_ca, r->new_key, &pem))
			goto oom;
		m->ca_key = pem.key;
		pem.key = NULL;
		cert_pem_release(&pem);
	} else {
		m->ca_key = cert_dup(r->cur->ca_key);
		if (!m->ca_key)
			goto oom;
	}
	if (keep_leaf) {
		m->tls_crt = cert_dup(r->cur->tls_crt);
		m->tls_key = cert_dup(r->cur->tls_key);
		if (!m->tls_crt || !m->tls_key)
			goto oom;
	}
	return GV_OK;
oom:
	cert_pem_release(&pem);
	return gv_error_set(err, GV_ENOMEM, NULL, 0, 0, "out of memory");
}

int cert_rotate(const cert_material *cur, const cert_rotate_opts *o,
		cert_material *next, unsigned *what, char *why, size_t why_size,
		gv_error_t *err)
{
	cert_rotation r;
	cert_material m = CERT_MATERIAL_INIT;
	bool keep_leaf = true;
	int rc = GV_OK;

	if (why && why_size)
		why[0] = '\0';
	memset(&r, 0, sizeof(r));
	r.cur = cur;
	r.o = o;
	r.now = o->now ? o->now : time(NULL);
	r.trusted = o->signer_trusted;
	r.why = why;
	r.why_size = why_size;
	r.names.dns = o->dns;
	r.names.ips = o->ips;
	rc = cert_check_names(&r.names, err);
	if (rc != GV_OK)
		return rc;
	cert_parse(cur, &r.p);
	ERR_clear_error();

	rc = rotate_signer(&r, err);
	if (rc == GV_OK)
		rc = rotate_leaf(&r, &m, &keep_leaf, err);
	if (rc == GV_OK)
		rc = rotate_bundle(&r, &m, err);
	if (rc != GV_OK || r.did == 0) {
		if (rc == GV_OK)
			*what = 0;
		goto out;
	}
	rc = rotate_keys(&r, &m, keep_leaf, err);
	if (rc != GV_OK)
		goto out;
	*next = m;
	m = (cert_material)CERT_MATERIAL_INIT;
	*what = r.did;
out:
	cert_material_release(&m);
	X509_free(r.new_ca);
	EVP_PKEY_free(r.new_key);
	cert_parsed_release(&r.p);
	return rc;
}
