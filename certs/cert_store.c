/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cert_store.c: the serving credentials, reloadable while handshakes run.
 * The lifetime rules are in certs.h ("Credential lifetime").
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <sys/stat.h>

#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include "groved/certs.h"
#include "groved/gv_file.h"
#include "groved/gv_time.h"

#define CERT_HASH_LEN 32 /* SHA-256 */
#define CERT_STR_(x) #x
#define CERT_STR(x) CERT_STR_(x)

struct cert_creds {
	atomic_uint refs; /* cert_store_acquire() references */
	gnutls_pcert_st pcert[CERT_STORE_MAX_CHAIN];
	unsigned int n;
	gnutls_privkey_t key;
	unsigned char hash[CERT_HASH_LEN]; /* of both files' contents */
	cert_store_info info;
	uint64_t retired_at_ms; /* gv_now_ms() */
	cert_creds *next; /* in the retired list */
};

/* The one store cert_store_retrieve() serves; see certs.h for why. */
static _Atomic(cert_store *) cert_store_bound;

/* One file's contents, NUL-terminated, and its fstat. */
typedef struct cert_fbuf {
	char *data;
	size_t len;
	struct stat st;
} cert_fbuf;

static void cert_fbuf_release(cert_fbuf *f, bool secret)
{
	if (f->data && secret)
		gnutls_memset(f->data, 0, f->len);
	free(f->data);
	f->data = NULL;
	f->len = 0;
}

static void cert_creds_free(cert_creds *c)
{
	unsigned int i = 0;

	if (!c)
		return;
	for (i = 0; i < c->n; i++)
		gnutls_pcert_deinit(&c->pcert[i]);
	if (c->key)
		gnutls_privkey_deinit(c->key);
	free(c);
}

/* The UTC time t as text, for messages. */
static const char *cert_time_text(int64_t t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) ||
	    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, size, "%lld", (long long)t);
	return buf;
}

/* Reads path whole (at most CERT_STORE_MAX_FILE) into *f. what names the
 * file's role in messages ("certificate", "private key"). A missing file
 * is GV_EIO here (certs.h). */
static int cert_read_file(const char *path, const char *what, cert_fbuf *f,
			  gv_error_t *err)
{
	gv_read_opts o = {
		.what = what, .regular = true, .secret = true, .st = &f->st
	};
	int rc =
	    gv_read_file(path, CERT_STORE_MAX_FILE, &o, &f->data, &f->len, err);

	return rc == GV_ENOTFOUND ? GV_EIO : rc;
}

static void cert_stamp_set(cert_store_stamp *sp, int i, const struct stat *st)
{
	sp->dev[i] = st->st_dev;
	sp->ino[i] = st->st_ino;
	sp->size[i] = st->st_size;
	sp->mtime[i] = st->st_mtim;
	sp->ctime[i] = st->st_ctim;
}

static bool cert_stamp_equal(const cert_store_stamp *a,
			     const cert_store_stamp *b)
{
	int i = 0;

	if (!a->valid || !b->valid)
		return false;
	for (i = 0; i < 2; i++)
		if (a->dev[i] != b->dev[i] || a->ino[i] != b->ino[i] ||
		    a->size[i] != b->size[i] ||
		    a->mtime[i].tv_sec != b->mtime[i].tv_sec ||
		    a->mtime[i].tv_nsec != b->mtime[i].tv_nsec ||
		    a->ctime[i].tv_sec != b->ctime[i].tv_sec ||
		    a->ctime[i].tv_nsec != b->ctime[i].tv_nsec)
			return false;
	return true;
}

/* SHA-256 over both contents (lengths included, so no two pairs of
 * files hash alike by moving bytes from one to the other). */
static int cert_hash_pair(const cert_fbuf *cf, const cert_fbuf *kf,
			  unsigned char out[CERT_HASH_LEN])
{
	gnutls_hash_hd_t h = NULL;
	uint64_t lens[2] = { cf->len, kf->len };

	if (gnutls_hash_init(&h, GNUTLS_DIG_SHA256) < 0)
		return -1;
	gnutls_hash(h, lens, sizeof(lens));
	gnutls_hash(h, cf->data, cf->len);
	gnutls_hash(h, kf->data, kf->len);
	gnutls_hash_deinit(h, out);
	return 0;
}

/* Appends text to buf (size bytes, NUL-terminated), truncating. */
static void cert_append(char *buf, size_t size, const char *text)
{
	size_t used = strlen(buf);

	if (used + 1 < size)
		snprintf(buf + used, size - used, "%s", text);
}

/* Fills c->info from its leaf; returns a gnutls error code or 0. */
static int cert_fill_info(cert_creds *c)
{
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t dn = { NULL, 0 };
	char name[512];
	char ip[INET6_ADDRSTRLEN];
	size_t size = 0;
	unsigned int seq = 0;
	unsigned int critical = 0;
	int type = 0;
	int ret = 0;

	ret = gnutls_x509_crt_init(&crt);
	if (ret < 0)
		goto out;
	ret =
	    gnutls_x509_crt_import(crt, &c->pcert[0].cert, GNUTLS_X509_FMT_DER);
	if (ret < 0)
		goto out;
	c->info.not_before = gnutls_x509_crt_get_activation_time(crt);
	c->info.not_after = gnutls_x509_crt_get_expiration_time(crt);
	c->info.chain_len = c->n;
	if (gnutls_x509_crt_get_dn3(crt, &dn, 0) >= 0)
		snprintf(c->info.subject, sizeof(c->info.subject), "%.*s",
			 (int)dn.size, (const char *)dn.data);
	for (seq = 0;; seq++) {
		size = sizeof(name) - 1;
		type = gnutls_x509_crt_get_subject_alt_name(crt, seq, name,
							    &size, &critical);
		if (type == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (type == GNUTLS_E_SHORT_MEMORY_BUFFER)
			continue;
		if (type < 0)
			break;
		if (c->info.sans[0])
			cert_append(c->info.sans, sizeof(c->info.sans), ", ");
		if (type == GNUTLS_SAN_DNSNAME) {
			name[size] = '\0';
			cert_append(c->info.sans, sizeof(c->info.sans), "DNS:");
			cert_append(c->info.sans, sizeof(c->info.sans), name);
		} else if (type == GNUTLS_SAN_IPADDRESS &&
			   (size == 4 || size == 16) &&
			   inet_ntop(size == 4 ? AF_INET : AF_INET6, name, ip,
				     sizeof(ip))) {
			cert_append(c->info.sans, sizeof(c->info.sans), "IP:");
			cert_append(c->info.sans, sizeof(c->info.sans), ip);
		} else {
			cert_append(c->info.sans, sizeof(c->info.sans),
				    "other");
		}
	}
	ret = 0;
out:
	gnutls_free(dn.data);
	if (crt)
		gnutls_x509_crt_deinit(crt);
	return ret;
}

/* 0 when key's public key is the leaf's, else a gnutls error or 1. */
static int cert_key_matches(gnutls_privkey_t key, gnutls_pubkey_t leaf)
{
	gnutls_pubkey_t pub = NULL;
	gnutls_datum_t a = { NULL, 0 };
	gnutls_datum_t b = { NULL, 0 };
	int ret = 0;

	ret = gnutls_pubkey_init(&pub);
	if (ret < 0)
		goto out;
	ret = gnutls_pubkey_import_privkey(pub, key, 0, 0);
	if (ret < 0)
		goto out;
	ret = gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &a);
	if (ret < 0)
		goto out;
	ret = gnutls_pubkey_export2(leaf, GNUTLS_X509_FMT_DER, &b);
	if (ret < 0)
		goto out;
	ret = a.size == b.size && memcmp(a.data, b.data, a.size) == 0 ? 0 : 1;
out:
	gnutls_free(a.data);
	gnutls_free(b.data);
	if (pub)
		gnutls_pubkey_deinit(pub);
	return ret;
}

/* A new credential set from the two files' contents, checked. */
static int cert_creds_build(const cert_store *s, const cert_fbuf *cf,
			    const cert_fbuf *kf, cert_creds **out,
			    gv_error_t *err)
{
	cert_creds *c = NULL;
	gnutls_datum_t d = { NULL, 0 };
	time_t now = time(NULL);
	char when[32];
	int ret = 0;
	int rc = GV_OK;

	if (cf->len == 0 || !strstr(cf->data, "-----BEGIN CERTIFICATE-----")) {
		rc = gv_error_set(
		    err, GV_EPARSE, s->cert_file, 0, 0,
		    "cannot load certificate '%s': %s", s->cert_file,
		    cf->len ? "no PEM CERTIFICATE block" : "file is empty");
		goto out;
	}
	if (kf->len == 0 || !strstr(kf->data, "-----BEGIN ") ||
	    !strstr(kf->data, "PRIVATE KEY-----")) {
		rc = gv_error_set(
		    err, GV_EPARSE, s->key_file, 0, 0,
		    "cannot load private key '%s': %s", s->key_file,
		    kf->len ? "no PEM PRIVATE KEY block" : "file is empty");
		goto out;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		rc = gv_error_set(err, GV_ENOMEM, NULL, 0, 0, "out of memory");
		goto out;
	}
	atomic_init(&c->refs, 0);
	c->n = CERT_STORE_MAX_CHAIN;
	d.data = (unsigned char *)cf->data;
	d.size = (unsigned int)cf->len;
	ret = gnutls_pcert_list_import_x509_raw(c->pcert, &c->n, &d,
						GNUTLS_X509_FMT_PEM, 0);
	if (ret < 0) {
		c->n = 0;
		rc = gv_error_set(
		    err,
		    ret == GNUTLS_E_SHORT_MEMORY_BUFFER ? GV_ETOOBIG
							: GV_EPARSE,
		    s->cert_file, 0, 0, "cannot load certificate '%s': %s",
		    s->cert_file,
		    ret == GNUTLS_E_SHORT_MEMORY_BUFFER
			? "more than " CERT_STR(
			      CERT_STORE_MAX_CHAIN) " certificates"
			: gnutls_strerror(ret));
		goto out;
	}
	ret = gnutls_privkey_init(&c->key);
	if (ret >= 0) {
		d.data = (unsigned char *)kf->data;
		d.size = (unsigned int)kf->len;
		ret = gnutls_privkey_import_x509_raw(
		    c->key, &d, GNUTLS_X509_FMT_PEM, NULL, 0);
	}
	if (ret < 0) {
		rc = gv_error_set(err, GV_EPARSE, s->key_file, 0, 0,
				  "cannot load private key '%s': %s",
				  s->key_file, gnutls_strerror(ret));
		goto out;
	}
	ret = cert_key_matches(c->key, c->pcert[0].pubkey);
	if (ret != 0) {
		rc = gv_error_set(
		    err, ret > 0 ? GV_ECONFLICT : GV_EPARSE, s->key_file, 0, 0,
		    "private key '%s' does not match certificate '%s'%s%s",
		    s->key_file, s->cert_file, ret > 0 ? "" : ": ",
		    ret > 0 ? "" : gnutls_strerror(ret));
		goto out;
	}
	ret = cert_fill_info(c);
	if (ret < 0) {
		rc = gv_error_set(err, GV_EPARSE, s->cert_file, 0, 0,
				  "cannot load certificate '%s': %s",
				  s->cert_file, gnutls_strerror(ret));
		goto out;
	}
	if (c->info.not_after <= now) {
		rc = gv_error_set(
		    err, GV_EINVAL, s->cert_file, 0, 0,
		    "certificate '%s' expired at %s", s->cert_file,
		    cert_time_text(c->info.not_after, when, sizeof(when)));
		goto out;
	}
	if (c->info.not_before > now + CERT_STORE_SKEW_SECONDS) {
		rc = gv_error_set(
		    err, GV_EINVAL, s->cert_file, 0, 0,
		    "certificate '%s' is not valid before %s", s->cert_file,
		    cert_time_text(c->info.not_before, when, sizeof(when)));
		goto out;
	}
	if (cert_hash_pair(cf, kf, c->hash) != 0) {
		rc = gv_error_set(err, GV_ENOMEM, NULL, 0, 0,
				  "cannot hash certificate '%s'", s->cert_file);
		goto out;
	}
	*out = c;
	c = NULL;
out:
	cert_creds_free(c);
	return rc;
}

/* Frees retired sets nobody can still use (certs.h); under s->lock. */
static void cert_store_reap(cert_store *s)
{
	cert_creds **pp = &s->retired;
	cert_creds *c = NULL;
	uint64_t now = gv_now_ms();

	if (s->retire_grace <= 0)
		return;
	while ((c = *pp) != NULL) {
		if (atomic_load(&c->refs) == 0 &&
		    now - c->retired_at_ms >
			(uint64_t)s->retire_grace * 1000u) {
			*pp = c->next;
			s->n_retired--;
			cert_creds_free(c);
		} else {
			pp = &c->next;
		}
	}
}

/* Makes c (stolen) current; under s->lock. */
static void cert_store_publish(cert_store *s, cert_creds *c)
{
	cert_creds *old = NULL;

	c->info.generation = ++s->generation;
	old = atomic_exchange_explicit(&s->current, c, memory_order_acq_rel);
	if (old) {
		old->retired_at_ms = gv_now_ms();
		old->next = s->retired;
		s->retired = old;
		s->n_retired++;
	}
	cert_store_reap(s);
}

/* Makes the pair in cf/kf (contents NUL-terminated; borrowed) current,
 * unless only_if_new and it is the current one. Under s->lock. */
static int cert_store_take_locked(cert_store *s, const cert_fbuf *cf,
				  const cert_fbuf *kf, bool only_if_new,
				  bool *changed, gv_error_t *err)
{
	cert_creds *cur = atomic_load(&s->current);
	cert_creds *c = NULL;
	unsigned char hash[CERT_HASH_LEN];
	int rc = GV_OK;

	if (only_if_new && cur && cert_hash_pair(cf, kf, hash) == 0 &&
	    memcmp(hash, cur->hash, sizeof(hash)) == 0)
		return GV_OK;
	rc = cert_creds_build(s, cf, kf, &c, err);
	if (rc != GV_OK)
		return rc;
	cert_store_publish(s, c);
	*changed = true;
	return GV_OK;
}

/* Reads both files; loads them unless only_if_new and their hash is the
 * current set's. Under s->lock. */
static int cert_store_load_locked(cert_store *s, bool only_if_new,
				  bool *changed, gv_error_t *err)
{
	cert_fbuf cf = { NULL, 0, { 0 } };
	cert_fbuf kf = { NULL, 0, { 0 } };
	cert_store_stamp stamp = { .valid = false };
	gv_error_t local = GV_ERROR_INIT;
	int rc = GV_OK;

	rc = cert_read_file(s->cert_file, "certificate", &cf, &local);
	if (rc == GV_OK)
		rc = cert_read_file(s->key_file, "private key", &kf, &local);
	if (rc != GV_OK)
		goto out; /* not cached: a missing file is retried */
	cert_stamp_set(&stamp, 0, &cf.st);
	cert_stamp_set(&stamp, 1, &kf.st);
	stamp.valid = true;
	rc = cert_store_take_locked(s, &cf, &kf, only_if_new, changed, &local);
	s->seen = stamp;
	s->seen_rc = rc;
	s->seen_err = local;
out:
	if (rc != GV_OK && err)
		*err = local;
	cert_fbuf_release(&cf, false);
	cert_fbuf_release(&kf, true);
	return rc;
}

int cert_store_load_pem(cert_store *s, const char *cert, size_t cert_len,
			const char *key, size_t key_len, bool *changed,
			gv_error_t *err)
{
	/* borrowed views: nothing here frees or wipes them */
	cert_fbuf cf = { (char *)cert, cert_len, { 0 } };
	cert_fbuf kf = { (char *)key, key_len, { 0 } };
	bool ch = false;
	int rc = GV_OK;

	if (!cert || !key || cert[cert_len] || key[key_len])
		return gv_error_set(err, GV_EINVAL, s->cert_file, 0, 0,
				    "cannot load certificate '%s': nothing "
				    "to load",
				    s->cert_file);
	if (cert_len > CERT_STORE_MAX_FILE || key_len > CERT_STORE_MAX_FILE)
		return gv_error_set(err, GV_ETOOBIG, s->cert_file, 0, 0,
				    "cannot load certificate '%s': larger than "
				    "%zu bytes",
				    s->cert_file, CERT_STORE_MAX_FILE);
	pthread_mutex_lock(&s->lock);
	rc = cert_store_take_locked(s, &cf, &kf, true, &ch, err);
	pthread_mutex_unlock(&s->lock);
	if (changed)
		*changed = ch;
	return rc;
}

int cert_store_init(cert_store *s, const char *cert_file, const char *key_file)
{
	char *c = NULL;
	char *k = NULL;

	if (!cert_file || !cert_file[0] || !key_file || !key_file[0])
		return GV_EINVAL;
	c = strdup(cert_file);
	k = strdup(key_file);
	if (!c || !k) {
		free(c);
		free(k);
		return GV_ENOMEM;
	}
	memset(s, 0, sizeof(*s));
	s->cert_file = c;
	s->key_file = k;
	pthread_mutex_init(&s->lock, NULL);
	atomic_init(&s->current, NULL);
	return GV_OK;
}

void cert_store_release(cert_store *s)
{
	cert_creds *c = NULL;
	cert_store *self = s;

	if (!s || !s->cert_file)
		return;
	atomic_compare_exchange_strong(&cert_store_bound, &self, NULL);
	cert_creds_free(atomic_exchange(&s->current, NULL));
	while ((c = s->retired) != NULL) {
		s->retired = c->next;
		cert_creds_free(c);
	}
	pthread_mutex_destroy(&s->lock);
	free(s->cert_file);
	free(s->key_file);
	memset(s, 0, sizeof(*s));
}

int cert_store_load(cert_store *s, gv_error_t *err)
{
	bool changed = false;
	int rc = GV_OK;

	pthread_mutex_lock(&s->lock);
	rc = cert_store_load_locked(s, false, &changed, err);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int cert_store_reload_if_changed(cert_store *s, bool *changed, gv_error_t *err)
{
	cert_store_stamp stamp = { .valid = true };
	struct stat st[2];
	bool ch = false;
	int rc = GV_OK;

	pthread_mutex_lock(&s->lock);
	if (stat(s->cert_file, &st[0]) == 0 && stat(s->key_file, &st[1]) == 0) {
		cert_stamp_set(&stamp, 0, &st[0]);
		cert_stamp_set(&stamp, 1, &st[1]);
		if (cert_stamp_equal(&stamp, &s->seen)) {
			rc = s->seen_rc;
			if (rc != GV_OK && err)
				*err = s->seen_err;
			goto out;
		}
	}
	/* Changed, or a stat failed: reading says which and why. */
	rc = cert_store_load_locked(s, true, &ch, err);
out:
	pthread_mutex_unlock(&s->lock);
	if (changed)
		*changed = ch;
	return rc;
}

int cert_store_info_get(cert_store *s, cert_store_info *info)
{
	cert_creds *c = NULL;
	int rc = GV_ENOTFOUND;

	pthread_mutex_lock(&s->lock);
	c = atomic_load(&s->current);
	if (c) {
		*info = c->info;
		rc = GV_OK;
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

cert_creds *cert_store_acquire(cert_store *s)
{
	cert_creds *c = NULL;

	/* Under the lock: a set is freed only under it (cert_store_reap),
	 * so it cannot go between the load and the increment. */
	pthread_mutex_lock(&s->lock);
	c = atomic_load(&s->current);
	if (c)
		atomic_fetch_add(&c->refs, 1);
	pthread_mutex_unlock(&s->lock);
	return c;
}

void cert_store_creds_put(cert_creds *creds)
{
	if (creds)
		atomic_fetch_sub(&creds->refs, 1);
}

int cert_store_select(cert_store *s, gnutls_pcert_st **pcert,
		      unsigned int *pcert_length, gnutls_privkey_t *pkey)
{
	cert_creds *c = NULL;

	if (!s)
		return -1;
	c = atomic_load_explicit(&s->current, memory_order_acquire);
	if (!c)
		return -1;
	*pcert = c->pcert;
	*pcert_length = c->n;
	*pkey = c->key;
	return 0;
}

int cert_store_retrieve(gnutls_session_t session,
			const gnutls_datum_t *req_ca_dn, int nreqs,
			const gnutls_pk_algorithm_t *pk_algos,
			int pk_algos_length, gnutls_pcert_st **pcert,
			unsigned int *pcert_length, gnutls_privkey_t *pkey)
{
	(void)session;
	(void)req_ca_dn;
	(void)nreqs;
	(void)pk_algos;
	(void)pk_algos_length;
	return cert_store_select(
	    atomic_load_explicit(&cert_store_bound, memory_order_acquire),
	    pcert, pcert_length, pkey);
}

void cert_store_bind(cert_store *s)
{
	atomic_store_explicit(&cert_store_bound, s, memory_order_release);
}
