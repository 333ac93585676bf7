/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gv.h: what every groved module shares: the result codes and the
 * caller-allocated error struct. The entry point of the base layer
 * (base/, library gv_base), the floor every other module stands on
 * (docs/architecture.md); its friends each hold one tool:
 *
 *   groved/gv_buf.h   gv_buf, the one growable buffer (a maximum, a
 *                     sticky failure that tells too big from no memory)
 *   groved/gv_json.h  the JSON parser and the one JSON string escaper
 *   groved/gv_read.h  the YAML/JSON document reader, bounded
 *   groved/gv_file.h  reading a whole file, bounded
 *   groved/gv_time.h  the monotonic clock
 *
 * Every fallible function returns a gv_rc (0 is success). Where a failure
 * needs words, the caller passes a gv_error_t; it is filled in place and
 * never allocates, so it can be used on any path, including out of memory.
 * A failure is always a gv_rc and a gv_error_t; a `char *why, size_t`
 * buffer carries only a note that is not a failure (why a lookup could
 * not be made, why a certificate is renewed).
 */
#ifndef GROVED_GV_H
#define GROVED_GV_H

#include <stddef.h>

/* X-macro: name, message. Append only; values are stable. */
#define GV_RESULT_TABLE(X)                        \
	X(GV_OK, "success")                       \
	X(GV_ENOMEM, "out of memory")             \
	X(GV_EINVAL, "invalid argument")          \
	X(GV_EIO, "input/output error")           \
	X(GV_EPARSE, "malformed document")        \
	X(GV_ETOOBIG, "input too large")          \
	X(GV_ETOODEEP, "input nested too deeply") \
	X(GV_ENOTFOUND, "not found")              \
	X(GV_EEXIST, "already exists")            \
	X(GV_ECONFLICT, "conflict")               \
	X(GV_EUNSUPPORTED, "not supported")

typedef enum {
#define GV_X_ENUM(name, msg) name,
	GV_RESULT_TABLE(GV_X_ENUM)
#undef GV_X_ENUM
	    GV_RESULT_COUNT
} gv_rc;

/* Returns a static string; never NULL, even for an unknown code. */
const char *gv_strerror(int rc);

#define GV_ERROR_SOURCE_MAX 256
#define GV_ERROR_TEXT_MAX 512

/*
 * Where and why something failed. `source` names the input (a file, a URL,
 * "<stdin>", a field path); line and column are 1-based, 0 when unknown.
 * Filled with gv_error_set(); texts are truncated, never overflowed.
 */
typedef struct gv_error {
	char source[GV_ERROR_SOURCE_MAX];
	int line;
	int column;
	char text[GV_ERROR_TEXT_MAX];
} gv_error_t;

#define GV_ERROR_INIT        \
	{                    \
		{ 0 }, 0, 0, \
		{            \
			0    \
		}            \
	}

/* Resets err to empty; err may be NULL. */
void gv_error_clear(gv_error_t *err);

/* Fills err (may be NULL); source may be NULL. Returns rc, for `rc =
 * gv_error_set(err, GV_EPARSE, ...)` at the point of failure. */
int gv_error_set(gv_error_t *err, int rc, const char *source, int line,
		 int column, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* Writes "source:line:col: text" (parts that are unset are left out) into
 * buf, always NUL-terminated. Returns buf. */
char *gv_error_format(const gv_error_t *err, char *buf, size_t size);

/* Length (1 to 4) of the valid UTF-8 sequence at s, of which at most n
 * bytes may be read; 0 when it is not valid UTF-8 (bad lead or
 * continuation byte, truncated, overlong, a surrogate, or beyond U+10FFFF).
 * n must be at least 1. */
size_t gv_utf8_len(const unsigned char *s, size_t n);

/* How much of s[0..n) to keep so that it does not end inside a UTF-8
 * character: n, unless the last character is cut short. For text cut
 * to a maximum that must stay valid UTF-8 (it ends up in JSON). */
size_t gv_utf8_cut(const char *s, size_t n);

/*
 * Base64, RFC 4648 standard alphabet, padded (gv_base64.c).
 * gv_base64_encode: a new malloc'd NUL-terminated string without line
 * breaks, or NULL when out of memory.
 * gv_base64_decode: decodes in[0..len) into a new malloc'd buffer, NUL-
 * terminated (*out_len excludes the NUL); CR and LF are skipped, as Go's
 * decoder does. Returns GV_OK, GV_EINVAL with *bad_at the offset of the
 * first bad byte (len when the input is cut short), or GV_ENOMEM; the
 * out-params are written only on success (bad_at only on GV_EINVAL).
 */
char *gv_base64_encode(const void *data, size_t len);
int gv_base64_decode(const char *in, size_t len, char **out, size_t *out_len,
		     size_t *bad_at);

#endif
