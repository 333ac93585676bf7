/* SPDX-License-Identifier: Apache-2.0 */
/*
 * certs.h: TLS material. OpenSSL generates it (cert_gen.c), GnuTLS serves
 * it (cert_store.c).
 *
 * Generation: an ECDSA P-256 CA signs one ECDSA P-256 serving certificate
 * for a list of DNS names and IP addresses. The CA's private key never
 * leaves cert_generate(): the CA can sign nothing else, and a new pair gets
 * a new CA. Files are written atomically (temporary file, fsync, rename),
 * the key with mode 0600.
 *
 * Serving: a cert_store holds the credentials read from a certificate file
 * (PEM, leaf first, then any intermediates) and a key file (PEM, PKCS#8,
 * SEC1 or PKCS#1). cert_store_reload_if_changed() swaps in new files while
 * TLS handshakes on other threads keep using the old ones; a pair that does
 * not load (half written, key of another certificate, expired) is refused
 * and the old one stays.
 *
 * Credential lifetime: a loaded credential set is immutable. Handshakes
 * borrow the current set through one atomic load; a reload publishes a
 * new set with one atomic store and moves the old one to a retired list.
 * GnuTLS does not copy what a gnutls_certificate_retrieve_function2 hands
 * it and gives no signal when a session stops using it, so a retired set
 * is freed only when both
 *   - no cert_store_acquire() reference is held (atomic refcount), and
 *   - it has been retired for longer than s->retire_grace seconds, which
 *     must exceed the longest possible handshake (libmicrohttpd's
 *     connection timeout); 0, the default, keeps every retired set until
 *     cert_store_release().
 * A set is a few kilobytes and one is retired only when the files change
 * to a different valid pair, so the default costs little.
 *
 * Thread safety: cert_store_select(), cert_store_retrieve(),
 * cert_store_acquire()/cert_store_creds_put() and cert_store_info() may be
 * called from any number of threads at once and concurrently with
 * cert_store_load()/cert_store_reload_if_changed(), which serialise among
 * themselves. cert_store_init()/cert_store_release() must not race with
 * anything.
 */
#ifndef GROVED_CERTS_H
#define GROVED_CERTS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>

#include "groved/gv.h"

/* ---------------------------------------------------------------------
 * Generation (cert_gen.c, OpenSSL)
 * ------------------------------------------------------------------- */

#define CERT_DEFAULT_DAYS \
	365 /* CA and leaf alike: the CA key is discarded,
				 so a longer-lived CA would buy nothing */
#define CERT_BACKDATE_SECONDS 300 /* notBefore = now - 5 min: clock skew */
#define CERT_MAX_NAMES 64 /* DNS names + IP addresses in one certificate */

/* The file names cert_write_dir() writes and cert_ensure_self_signed()
 * reads, as Kubernetes names the keys of a kubernetes.io/tls secret. */
#define CERT_CA_FILE "ca.crt"
#define CERT_CERT_FILE "tls.crt"
#define CERT_KEY_FILE "tls.key"

typedef struct cert_gen_opts {
	/* NULL-terminated lists, borrowed; either may be NULL, not both.
	 * DNS names: letters, digits, '-', '.', a leading "*." allowed.
	 * IPs: IPv4 or IPv6 text. The leaf's CN is the first DNS name (else
	 * the first IP). */
	const char *const *dns;
	const char *const *ips;
	long ca_seconds; /* CA lifetime after now; 0: CERT_DEFAULT_DAYS */
	long leaf_seconds; /* leaf lifetime after now; 0: CERT_DEFAULT_DAYS */
	time_t now; /* 0: time(NULL); tests set it to age a pair */
} cert_gen_opts;

/* One certificate and, for the leaf, its private key, PEM text in
 * malloc'd, NUL-terminated buffers (lengths exclude the NUL). Owned by
 * the struct: cert_pem_release() frees them. */
typedef struct cert_pem {
	char *cert;
	size_t cert_len;
	char *key; /* NULL for the CA: its key is never exported */
	size_t key_len;
} cert_pem;

#define CERT_PEM_INIT            \
	{                        \
		NULL, 0, NULL, 0 \
	}

/* Frees the buffers of p (may be NULL) and resets it to CERT_PEM_INIT. */
void cert_pem_release(cert_pem *p);

/*
 * Generates a fresh CA (basicConstraints critical CA:TRUE, keyUsage
 * critical keyCertSign+cRLSign, subjectKeyIdentifier, CN
 * "groved-ca@<unix time>") and a leaf signed by it (CA:FALSE, keyUsage
 * critical digitalSignature, extendedKeyUsage serverAuth, the SANs of o,
 * subject and authority key identifiers), both ECDSA P-256 with SHA-256,
 * random positive 127-bit serials, valid from now - CERT_BACKDATE_SECONDS.
 * On success fills *ca_out (certificate only) and *leaf_out (certificate
 * and PKCS#8 key); the caller releases both with cert_pem_release(). On
 * failure returns GV_EINVAL (no names, a bad name or IP, too many names),
 * GV_ENOMEM or GV_EIO (OpenSSL failed; err says why) and leaves the
 * out-params untouched.
 */
int cert_generate(const cert_gen_opts *o, cert_pem *ca_out, cert_pem *leaf_out,
		  gv_error_t *err);

/* The names a Service is reached by inside the cluster, and so the DNS
 * names of its serving certificate: NAME, NAME.NS, NAME.NS.svc (the one
 * kube-apiserver dials) and NAME.NS.svc.cluster.local. */
#define CERT_SERVICE_NAMES 4
#define CERT_SERVICE_NAME_MAX 254 /* a DNS name, NUL included */

typedef struct cert_service_names {
	char name[CERT_SERVICE_NAMES][CERT_SERVICE_NAME_MAX];
	const char *list[CERT_SERVICE_NAMES + 1]; /* name[0..3], then NULL:
						     for cert_gen_opts.dns */
} cert_service_names;

/* Fills *out (caller's) for service in ns. Returns GV_OK, or GV_EINVAL
 * when a name would be longer than a DNS name may be (out untouched). */
int cert_service_names_fill(cert_service_names *out, const char *service,
			    const char *ns);

/*
 * Writes dir/ca.crt (0644, from ca, borrowed), dir/tls.crt (0644) and
 * dir/tls.key (0600, from leaf, borrowed). Each file is written to a
 * temporary file in dir, fsync'd and renamed over the old one, so a reader
 * sees the old file or the new one, never a part; the key and certificate
 * change in two renames (key first), so a reader may briefly see a
 * mismatched pair: cert_store refuses those and retries. dir must exist.
 * Returns GV_OK, or GV_EIO with err naming the file.
 */
int cert_write_dir(const char *dir, const cert_pem *ca, const cert_pem *leaf,
		   gv_error_t *err);

/*
 * `--self-signed DIR`: makes DIR (mode 0700) if missing and keeps the pair
 * in it when still good, else generates and writes a new one. Good means:
 * ca.crt, tls.crt and tls.key parse; tls.crt verifies against ca.crt as a
 * TLS server certificate at o->now; neither certificate expires within a
 * third of its lifetime; tls.crt's SANs contain every name of o; tls.key
 * matches tls.crt and no one but the owner can read it.
 * *generated (may be NULL) is set on success: true when a new pair was
 * written. Returns GV_OK, or an error from cert_generate/cert_write_dir
 * or GV_EIO (cannot make DIR).
 */
int cert_ensure_self_signed(const char *dir, const cert_gen_opts *o,
			    bool *generated, gv_error_t *err);

/* ---------------------------------------------------------------------
 * Serving (cert_store.c, GnuTLS)
 * ------------------------------------------------------------------- */

#define CERT_STORE_MAX_FILE ((size_t)1 << 20) /* each file, bytes */
#define CERT_STORE_MAX_CHAIN 16 /* certificates in the file */
#define CERT_STORE_SKEW_SECONDS 300 /* a notBefore this far ahead is ok */

/* What a credential set holds, for logs and metrics. */
typedef struct cert_store_info {
	char subject[256]; /* RFC 4514, truncated if longer */
	char sans[1024]; /* "DNS:a, DNS:b, IP:127.0.0.1", truncated */
	int64_t not_before; /* seconds since the epoch */
	int64_t not_after;
	unsigned chain_len; /* certificates sent, leaf included */
	uint64_t generation; /* 1 for the first load, +1 per swap */
} cert_store_info;

/* One immutable credential set; see "Credential lifetime" above. */
typedef struct cert_creds cert_creds;

/* The file state a reload compares against (stat and content). */
typedef struct cert_store_stamp {
	dev_t dev[2];
	ino_t ino[2];
	off_t size[2];
	struct timespec mtime[2];
	struct timespec ctime[2];
	bool valid;
} cert_store_stamp;

/* Caller-allocated; every field is private except retire_grace, which may
 * be set after cert_store_init() and before the first load. */
typedef struct cert_store {
	char *cert_file; /* owned copies */
	char *key_file;
	long retire_grace; /* seconds; 0: keep retired sets until release */
	pthread_mutex_t lock; /* serialises loads and the retired list */
	_Atomic(cert_creds *) current; /* NULL until the first load */
	cert_creds *retired; /* singly linked, newest first */
	unsigned n_retired; /* its length; readable under lock, e.g. metrics */
	uint64_t generation;
	cert_store_stamp seen; /* files last read (loaded or refused) */
	int seen_rc; /* what reading them gave */
	gv_error_t seen_err;
} cert_store;

/*
 * Fills s for the two files (paths copied). Loads nothing: call
 * cert_store_load(). Returns GV_OK, GV_EINVAL (a path is NULL or empty) or
 * GV_ENOMEM; on failure s needs no release.
 */
int cert_store_init(cert_store *s, const char *cert_file, const char *key_file);

/* Frees everything s holds, current and retired sets included. No
 * handshake may be using s any more (stop the server first). */
void cert_store_release(cert_store *s);

/*
 * Reads both files and, if they make a good pair, makes it current: the
 * certificate file holds at least one PEM CERTIFICATE and at most
 * CERT_STORE_MAX_CHAIN; the key parses; the key's public key is the
 * leaf's; the leaf is valid now (notBefore up to CERT_STORE_SKEW_SECONDS
 * ahead is tolerated). Loads even when the content is unchanged.
 * Returns GV_OK, or GV_EIO (a file cannot be read), GV_EPARSE (empty, no
 * PEM block, bad PEM/DER), GV_ETOOBIG, GV_ECONFLICT (key does not match),
 * GV_EINVAL (expired, not yet valid) or GV_ENOMEM, with err naming the
 * file; the previous credentials stay current.
 */
int cert_store_load(cert_store *s, gv_error_t *err);

/*
 * For a timer (every few seconds). stat()s both paths (following symlinks,
 * so Kubernetes' ..data symlink swap of a mounted secret shows as a new
 * inode); when device, inode, size, mtime and ctime of both match the
 * last read, returns at once. Otherwise reads both; when their SHA-256
 * matches the current set, only the stamp is updated. Else loads as
 * cert_store_load() does.
 * *changed (may be NULL) is set on every return: true when a new set
 * became current. On a refused pair returns its error (the old set stays)
 * and, until a file changes again, returns the same error from the cached
 * result without reading the files.
 */
int cert_store_reload_if_changed(cert_store *s, bool *changed, gv_error_t *err);

/*
 * Fills *info (caller's) from the current set. Returns GV_OK, or
 * GV_ENOTFOUND before the first successful load (info untouched).
 */
int cert_store_info_get(cert_store *s, cert_store_info *info);

/*
 * The current set with a new reference (NULL before the first load);
 * it stays valid, and is not freed, until cert_store_creds_put(). For a
 * caller that keeps the credentials beyond a handshake.
 */
cert_creds *cert_store_acquire(cert_store *s);
/* Drops a reference from cert_store_acquire(); creds may be NULL. */
void cert_store_creds_put(cert_creds *creds);

/*
 * The handshake half of a gnutls_certificate_retrieve_function2, with the
 * store passed explicitly: sets *pcert, *pcert_length and *pkey to the current
 * set, borrowed (GnuTLS reads but never frees them; they stay valid as
 * the lifetime rules above say). Returns 0, or -1 before the first load
 * (GnuTLS then aborts the handshake). Never blocks.
 */
int cert_store_select(cert_store *s, gnutls_pcert_st **pcert,
		      unsigned int *pcert_length, gnutls_privkey_t *pkey);

/*
 * A gnutls_certificate_retrieve_function2, for
 * MHD_OPTION_HTTPS_CERT_CALLBACK (libmicrohttpd 0.9.75):
 * cert_store_select() on the store bound with cert_store_bind().
 *
 * Why a bound store: the callback type has no user-data argument,
 * libmicrohttpd 0.9.75 takes a bare function pointer, GnuTLS credentials
 * carry no user pointer, and libmicrohttpd owns gnutls_session_get_ptr()
 * (it holds the struct MHD_Connection). So the store is one static atomic
 * pointer in cert_store.c, written only by cert_store_bind() (borrowed:
 * s must outlive every handshake; bind NULL before releasing it). A
 * program with two TLS servers would call cert_store_select() from its
 * own callbacks instead.
 */
int cert_store_retrieve(gnutls_session_t session,
			const gnutls_datum_t *req_ca_dn, int nreqs,
			const gnutls_pk_algorithm_t *pk_algos,
			int pk_algos_length, gnutls_pcert_st **pcert,
			unsigned int *pcert_length, gnutls_privkey_t *pkey);
void cert_store_bind(cert_store *s);

/* ---------------------------------------------------------------------
 * Self-managed mode: rotation (cert_rotate.c, OpenSSL, pure) and the
 * Secret and caBundle I/O (cert_secret.c, the kube client)
 *
 * The material lives in one kubernetes.io/tls Secret:
 *   ca.crt  the CAs the webhook configurations trust: the signing CA
 *           first, then older CAs that are still valid (a certificate
 *           one of them signed may still be served somewhere)
 *   ca.key  the signing CA's private key (PKCS#8), so that a serving
 *           certificate can be renewed without a new CA
 *   tls.crt, tls.key  the serving certificate and its key
 * Why two steps for a new CA: kube-apiserver checks the serving
 * certificate against the caBundle it last read, so a certificate signed
 * by a new CA may be served only once that CA is in every caBundle and
 * the API servers have had time to read it (propagation). A new CA is
 * therefore first added to ca.crt (and injected), and the serving
 * certificate moves to it in a later round. Every certificate served at
 * any time verifies against the caBundle the API server holds: renewal
 * fails no request.
 * ------------------------------------------------------------------- */

/* PEM text of the four keys of the Secret; each malloc'd, NUL-terminated
 * and owned by the struct (cert_material_release). NULL: absent. */
typedef struct cert_material {
	char *ca_bundle; /* ca.crt */
	char *ca_key; /* ca.key */
	char *tls_crt;
	char *tls_key;
} cert_material;

#define CERT_MATERIAL_INIT             \
	{                              \
		NULL, NULL, NULL, NULL \
	}

/* Frees what m holds (m may be NULL) and resets it; keys are wiped. */
void cert_material_release(cert_material *m);

/* What cert_rotate() changed (bits of *what). */
#define CERT_NEW_CA 1u /* a new signing CA was added to ca.crt */
#define CERT_NEW_LEAF 2u /* a new serving certificate */
#define CERT_PRUNED_CA 4u /* expired CAs left ca.crt */

typedef struct cert_rotate_opts {
	const char *const *dns; /* the serving certificate's names, as in */
	const char *const *ips; /* cert_gen_opts */
	long ca_seconds; /* a new CA's lifetime; 0: CERT_DEFAULT_CA_DAYS */
	long leaf_seconds; /* a new leaf's; 0: CERT_DEFAULT_DAYS */
	time_t now; /* 0: time(NULL) */
	/* The signing CA (first of ca.crt) has been in every caBundle for
	 * longer than the propagation time: a serving certificate that
	 * another CA signed may now move to it. */
	bool signer_trusted;
} cert_rotate_opts;

#define CERT_DEFAULT_CA_DAYS 3650 /* self-managed CA: its key is kept */

/*
 * Decides and makes the next material from cur (borrowed; any field may
 * be NULL or garbage): a new CA when there is no usable signing CA (none,
 * its key missing or not its own, expired, or in the last third of its
 * life); a new serving certificate, signed by the signing CA and never
 * outliving it, when the current one is missing, unusable (key mismatch,
 * does not verify against ca.crt, lacks a name) or in the last third of
 * its life while the signing CA is trusted, or was signed by another CA
 * and the signing CA is trusted; an unusable one is replaced at once.
 * Expired CAs are dropped from ca.crt.
 * On success *what says what changed; when nothing did it is 0 and next
 * is untouched, else *next (caller's, empty) holds the whole new material
 * and why (may be NULL) says in words why ("serving certificate in the
 * last third of its life"): a note for the log, never a failure.
 * Failures are the rc and err only: GV_EINVAL (bad names), GV_ETOOBIG
 * (ca.crt too large) or GV_EIO/GV_ENOMEM (OpenSSL failed; err says why).
 * Three steps, each a function of cert_rotate.c: the signer (kept or a
 * new CA), the serving certificate (kept or a new one), the bundle.
 */
int cert_rotate(const cert_material *cur, const cert_rotate_opts *o,
		cert_material *next, unsigned *what, char *why, size_t why_size,
		gv_error_t *err);

struct kube_client;

typedef struct cert_secret_opts {
	const char *namespace; /* of the Secret (groved's own) */
	const char *name; /* of the Secret */
	const char *const *dns; /* the serving certificate's DNS names */
	long ca_seconds; /* 0: CERT_DEFAULT_CA_DAYS */
	long leaf_seconds; /* 0: CERT_DEFAULT_DAYS */
	long propagation_seconds; /* see above; 0: 60 */
	/* NULL-terminated "mutatingwebhookconfigurations/NAME" and
	 * "validatingwebhookconfigurations/NAME": every webhook of each
	 * gets ca.crt as its clientConfig.caBundle */
	const char *const *inject;
} cert_secret_opts;

/* One replica's self-managed certificates; fields private to
 * cert_secret.c. Strings of o and the client are borrowed. */
typedef struct cert_secret {
	cert_secret_opts o;
	struct kube_client *client;
	char *trusted_bundle; /* ca.crt last seen in every caBundle */
	time_t trusted_since; /* since when */
} cert_secret;

/* What one leader round did, for the log. */
typedef struct cert_secret_report {
	unsigned what; /* CERT_NEW_CA | CERT_NEW_LEAF | CERT_PRUNED_CA */
	bool created; /* the Secret did not exist */
	char why[160];
	unsigned injected; /* configurations whose caBundle was written */
} cert_secret_report;

void cert_secret_init(cert_secret *cs, struct kube_client *client,
		      const cert_secret_opts *o);
void cert_secret_release(cert_secret *cs);

/*
 * The leader's round at time now (0: time(NULL)): reads the Secret,
 * cert_rotate()s it, writes it back (create, or update with its
 * resourceVersion, so two would-be leaders cannot both win), then writes
 * ca.crt into every caBundle of the configurations of o->inject that
 * differ. *rep (caller's) says what was done, also on failure. held (may
 * be NULL; caller's, empty) gets what the Secret holds after the round as
 * soon as that is known (read unchanged, or written by this round), even
 * if injecting then fails; otherwise it stays empty. Returns GV_OK, or the
 * first failure (GV_ECONFLICT / GV_EEXIST: another writer won; read again
 * next round), with err naming the object.
 */
int cert_secret_rotate(cert_secret *cs, time_t now, cert_secret_report *rep,
		       cert_material *held, gv_error_t *err);

/*
 * Any replica: reads the Secret into *out (caller's, empty; filled only
 * on success). GV_ENOTFOUND when it does not exist yet, GV_EPARSE when a
 * key is not base64, else a kube error.
 */
int cert_secret_read(cert_secret *cs, cert_material *out, gv_error_t *err);

/* ---------------------------------------------------------------------
 * Memory-loaded serving material
 * ------------------------------------------------------------------- */

/*
 * As cert_store_reload_if_changed() but from PEM in memory (borrowed;
 * cert[cert_len] and key[key_len] must be '\0'):
 * makes the pair current unless it is the current one already (*changed
 * false). For the self-managed mode, whose files are a Secret's keys;
 * messages name the store's cert_file/key_file as given to
 * cert_store_init() (for example "secret groved-system/x: tls.crt").
 */
int cert_store_load_pem(cert_store *s, const char *cert, size_t cert_len,
			const char *key, size_t key_len, bool *changed,
			gv_error_t *err);

#endif
