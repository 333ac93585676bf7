/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gv_base64.c: base64 (RFC 4648, standard alphabet, padded) for what
 * groved reads and writes of Kubernetes: kubeconfig *-data fields, Secret
 * data, webhook caBundles. Decoding skips CR and LF as Go's decoder does
 * (kubectl, kube-apiserver), and says where a bad byte is.
 */
#include <stdbool.h>
#include <stdint.h>

#include "groved/gv.h"
#include "groved/gv_buf.h"

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Writes the (len + 2) / 3 * 4 characters of data's base64 at out (no
 * NUL). */
static void b64_encode(const unsigned char *p, size_t len, char *out)
{
	size_t o = 0;
	size_t i = 0;

	for (i = 0; i + 2 < len; i += 3) {
		uint32_t v =
		    (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];

		out[o++] = b64_alphabet[v >> 18];
		out[o++] = b64_alphabet[(v >> 12) & 63];
		out[o++] = b64_alphabet[(v >> 6) & 63];
		out[o++] = b64_alphabet[v & 63];
	}
	if (i < len) {
		uint32_t v = (uint32_t)p[i] << 16 |
			     (i + 1 < len ? (uint32_t)p[i + 1] << 8 : 0);

		out[o++] = b64_alphabet[v >> 18];
		out[o++] = b64_alphabet[(v >> 12) & 63];
		out[o++] = i + 1 < len ? b64_alphabet[(v >> 6) & 63] : '=';
		out[o++] = '=';
	}
}

/* The most input bytes whose encoding (and a NUL) a size_t can count. */
#define B64_MAX_IN ((SIZE_MAX - 1) / 4 * 3 - 3)

char *gv_base64_encode(const void *data, size_t len)
{
	size_t n = (len + 2) / 3 * 4;
	char *out = NULL;

	if (len > B64_MAX_IN)
		return NULL;
	out = malloc(n + 1);
	if (!out)
		return NULL;
	b64_encode(data, len, out);
	out[n] = '\0';
	return out;
}

int gv_buf_add_base64(gv_buf *b, const void *data, size_t len)
{
	size_t n = (len + 2) / 3 * 4;
	int rc = GV_OK;

	/* past B64_MAX_IN the encoding would pass any maximum: b fails */
	rc = gv_buf_grow(b, len > B64_MAX_IN ? SIZE_MAX : n);
	if (rc != GV_OK)
		return rc;
	b64_encode(data, len, b->s + b->len);
	b->len += n;
	b->s[b->len] = '\0';
	return GV_OK;
}

static int b64_value(unsigned char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+')
		return 62;
	if (ch == '/')
		return 63;
	return -1;
}

int gv_base64_decode(const char *in, size_t inlen, char **out, size_t *out_len,
		     size_t *bad_at)
{
	char *buf = NULL;
	size_t o = 0;
	uint32_t acc = 0;
	int q = 0; /* characters of the current quartet seen */
	int pad = 0;
	bool ended = false;
	size_t i = 0;
	int rc = GV_OK;

	buf = malloc(inlen / 4 * 3 + 4);
	if (!buf) {
		rc = GV_ENOMEM;
		goto out;
	}
	for (i = 0; i < inlen; i++) {
		unsigned char ch = (unsigned char)in[i];
		int v = 0;

		if (ch == '\r' || ch == '\n')
			continue;
		if (ended)
			goto bad;
		if (ch == '=') {
			if (q == 2 && pad == 0) {
				buf[o++] = (char)(acc >> 4);
				pad = 1;
				q = 3;
			} else if (q == 3 && pad == 0) {
				buf[o++] = (char)(acc >> 10);
				buf[o++] = (char)(acc >> 2);
				ended = true;
			} else if (q == 3 && pad == 1) {
				ended = true;
			} else {
				goto bad;
			}
			continue;
		}
		v = b64_value(ch);
		if (v < 0 || pad)
			goto bad;
		acc = (acc << 6) | (uint32_t)v;
		if (++q == 4) {
			buf[o++] = (char)(acc >> 16);
			buf[o++] = (char)(acc >> 8);
			buf[o++] = (char)acc;
			acc = 0;
			q = 0;
		}
	}
	if (q != 0 && !ended)
		goto bad; /* i == inlen: cut short */
	buf[o] = '\0';
	*out = buf;
	*out_len = o;
	buf = NULL;
	goto out;
bad:
	*bad_at = i;
	rc = GV_EINVAL;
out:
	free(buf);
	return rc;
}
