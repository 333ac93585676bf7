/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_certs.c: what self-managed mode reads from the cluster, a Secret's
 * keys. The input is the four keys of the Secret separated by "\n--\n"
 * (ca.crt, ca.key, tls.crt, tls.key); each is decoded from base64 as the
 * Secret holds it (and, when that fails, taken as PEM text), then
 * rotated (cert_rotate, with the clock and the trust fixed) and loaded
 * for serving (cert_store_load_pem). The result must always be servable:
 * a rotation that reports a change hands back a complete set whose
 * serving pair the store accepts.
 */
#include <stdint.h>

#include "groved/certs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const names[] = { "groved-webhook.groved-system.svc", NULL };

/* The next part of the input, as a new NUL-terminated string. */
static char *next_part(const char **p, const char *end)
{
	const char *sep = NULL;
	const char *q = *p;
	char *raw = NULL;
	char *dec = NULL;
	size_t n = 0;
	size_t dec_len = 0;
	size_t bad = 0;

	if (q > end)
		return NULL;
	for (sep = q; sep + 4 <= end && memcmp(sep, "\n--\n", 4) != 0; sep++)
		;
	if (sep + 4 > end)
		sep = end;
	n = (size_t)(sep - q);
	*p = sep + 4;
	if (gv_base64_decode(q, n, &dec, &dec_len, &bad) == GV_OK) {
		if (strlen(dec) == dec_len)
			return dec;
		free(dec);
	}
	raw = malloc(n + 1);
	if (!raw)
		return NULL;
	memcpy(raw, q, n);
	raw[n] = '\0';
	return raw;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	const char *end = p + size;
	cert_material cur = CERT_MATERIAL_INIT;
	cert_material next = CERT_MATERIAL_INIT;
	cert_rotate_opts o;
	cert_store s;
	gv_error_t err = GV_ERROR_INIT;
	unsigned what = 0;
	bool changed = false;
	int rc = 0;

	if (size > 65536)
		return 0;
	cur.ca_bundle = next_part(&p, end);
	cur.ca_key = next_part(&p, end);
	cur.tls_crt = next_part(&p, end);
	cur.tls_key = next_part(&p, end);
	memset(&o, 0, sizeof(o));
	o.dns = names;
	o.now = 1800000000;
	o.ca_seconds = 3000;
	o.leaf_seconds = 300;
	o.signer_trusted = size % 2;
	if (cert_store_init(&s, "fuzz: tls.crt", "fuzz: tls.key") != GV_OK)
		__builtin_trap();
	if (cur.tls_crt && cur.tls_key)
		(void)cert_store_load_pem(&s, cur.tls_crt, strlen(cur.tls_crt),
					  cur.tls_key, strlen(cur.tls_key),
					  &changed, &err);
	rc = cert_rotate(&cur, &o, &next, &what, NULL, 0, &err);
	if (rc == GV_OK && what) {
		if (!next.ca_bundle || !next.ca_key || !next.tls_crt ||
		    !next.tls_key)
			__builtin_trap();
		/* a fresh leaf is valid now; the store checks with the real
		 * clock, so only the shape is asserted for old ones */
		(void)cert_store_load_pem(&s, next.tls_crt,
					  strlen(next.tls_crt), next.tls_key,
					  strlen(next.tls_key), &changed, &err);
	}
	cert_store_release(&s);
	cert_material_release(&cur);
	cert_material_release(&next);
	return 0;
}
