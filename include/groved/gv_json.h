/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gv_json.h: JSON in and out for every module: the parser that builds
 * jansson values (base/gv_json.c) and the one string escaper
 * (base/gv_json_escape.c).
 *
 * Ownership follows jansson: a returned json_t is a new reference the
 * caller must json_decref. The escaper appends to a caller's gv_buf and
 * follows that buffer's rules (groved/gv_buf.h).
 */
#ifndef GROVED_GV_JSON_H
#define GROVED_GV_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "groved/gv.h"
#include "groved/gv_buf.h"

/*
 * Parses one JSON text (a request body, an API server's answer) into
 * jansson values, several times faster than json_loadb: it scans the
 * buffer in place and copies each string once. Numbers without fraction
 * or exponent are integers (an integer beyond int64 is an error), others
 * reals; strings must be valid UTF-8 without NUL (\u0000 is refused, as
 * jansson does by default: C reads a string up to its first NUL); the
 * last of duplicate keys wins unless flags has GV_JSON_REJECT_DUPLICATES;
 * nesting deeper than max_depth is refused. data need not be
 * NUL-terminated.
 * On success *out is a new reference. On failure returns GV_EPARSE,
 * GV_ETOODEEP or GV_ENOMEM with err naming source, line, column and byte
 * offset, and leaves *out untouched.
 */
#define GV_JSON_REJECT_DUPLICATES 0x1u
int gv_json_parse(const char *data, size_t len, const char *source,
		  size_t max_depth, unsigned flags, json_t **out,
		  gv_error_t *err);

/* How gv_json_escape writes; a zeroed struct (or NULL) is the default:
 * quoted, no length limit, invalid UTF-8 written as U+FFFD. */
typedef struct gv_json_esc {
	/*
	 * The most bytes appended, quotes and marker included; 0 for no
	 * limit. A string that does not fit is cut at a character boundary
	 * (never inside a UTF-8 sequence or an escape), followed by marker
	 * and the closing quote: the result is always valid JSON.
	 */
	size_t max;
	const char *marker; /* appended inside the quotes when cut; or NULL */
	bool strict; /* invalid UTF-8 is refused (GV_EINVAL), not U+FFFD */
	bool bare; /* no surrounding quotes (to build a string in pieces) */
} gv_json_esc;

/*
 * Appends s[0..n) to b as a JSON string. Every escape JSON needs is
 * written, and more, so that the text is safe in a log line or a
 * terminal: \" \\ \n \r \t \b \f by name, every other byte below 0x20
 * and 0x7f as \u00XX. Valid UTF-8 is copied as it is; a byte that does
 * not start a valid sequence (bad, truncated, overlong, a surrogate,
 * beyond U+10FFFF; as gv_utf8_len says) becomes \ufffd, or is refused
 * with o->strict. s may hold NUL bytes (written as \u0000).
 *
 * Returns GV_OK, and *cut (when not NULL) says whether o->max cut the
 * string. GV_EINVAL with o->strict when s holds invalid UTF-8 anywhere,
 * or GV_ETOOBIG when o->max leaves no room for the quotes (and the
 * marker, when s must be cut): b is then unchanged and not failed. Or
 * b's own failure (GV_ETOOBIG past b->max, GV_ENOMEM), sticky as the
 * buffer's rules say.
 */
int gv_json_escape(gv_buf *b, const char *s, size_t n, const gv_json_esc *o,
		   bool *cut);

/* gv_json_escape with the defaults, of the NUL-terminated s. */
int gv_json_escape_str(gv_buf *b, const char *s);

/*
 * A builder's step where the first failure sticks: obj[key] = val
 * (stealing val, also when nothing is set), unless *rc already holds a
 * failure. A NULL obj or val (an allocation that failed) or a set that
 * fails makes *rc GV_ENOMEM. So a tree is built with one check at its
 * end.
 */
void gv_json_put(json_t *obj, const char *key, json_t *val, int *rc);

/* The same step appending val to the array arr. */
void gv_json_push(json_t *arr, json_t *val, int *rc);

#endif
