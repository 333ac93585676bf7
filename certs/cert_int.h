/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cert_int.h: what the files of certs/ share with each other and nobody
 * else: the OpenSSL building blocks of cert_gen.c, used again by the
 * rotation of cert_rotate.c.
 */
#ifndef GROVED_CERT_INT_H
#define GROVED_CERT_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "groved/certs.h"

/* Fills err with what OpenSSL said last (what: our words first) and
 * clears OpenSSL's queue. Returns GV_EIO. */
int cert_ossl_error(gv_error_t *err, const char *source, const char *what);

/* The names of o are usable in a certificate (GV_OK) or err says which
 * is not (GV_EINVAL). */
int cert_check_names(const cert_gen_opts *o, gv_error_t *err);

/* A new ECDSA P-256 key (new reference), or NULL. */
EVP_PKEY *cert_new_key(void);

/*
 * A new certificate for key with subject CN cn, valid [now - backdate,
 * now + seconds], signed by issuer/issuer_key (NULL, NULL: self-signed).
 * leaf_of NULL makes a CA, else a serving certificate for its names.
 * Returns a new X509 or NULL (OpenSSL's queue says why).
 */
X509 *cert_build(EVP_PKEY *key, const char *cn, time_t now, long seconds,
		 X509 *issuer, EVP_PKEY *issuer_key,
		 const cert_gen_opts *leaf_of);

/* PEM of x (and of key, when not NULL) into p's fresh buffers; 1 or 0. */
int cert_to_pem(X509 *x, EVP_PKEY *key, cert_pem *p);

/* t as seconds since the epoch; false when it cannot be read. */
bool cert_asn1_epoch(const ASN1_TIME *t, int64_t *out);

/* x is valid at now and not within the last third of its life. */
bool cert_fresh(X509 *x, time_t now);

/* x's SANs include every name of o. */
bool cert_covers(X509 *x, const cert_gen_opts *o);

/* leaf verifies against ca as a TLS server certificate at now. */
bool cert_chain_ok(X509 *ca, X509 *leaf, time_t now);

#endif
