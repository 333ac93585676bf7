/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gv_json_escape.c: the one JSON string escaper (groved/gv_json.h).
 *
 * Text is written in runs: the bytes that need no escape are appended
 * together, so a long clean string costs one copy.
 */
#include <stdbool.h>

#include "groved/gv_json.h"

/* The longest escape: \u00XX or \ufffd, and the NUL. */
#define ESC_MAX 8

/*
 * The character at u[0..n) (n >= 1): *in is how many bytes it takes (1
 * to 4), esc its escape (NUL-terminated) or "" when its bytes are copied
 * as they are. Returns the length of its JSON text.
 */
static size_t classify(const unsigned char *u, size_t n, size_t *in,
		       char esc[ESC_MAX])
{
	unsigned char c = u[0];
	size_t l = 0;

	*in = 1;
	esc[0] = '\0';
	if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
		return 1;
	if (c >= 0x80) {
		l = gv_utf8_len(u, n);
		if (l) {
			*in = l;
			return l;
		}
		memcpy(esc, "\\ufffd", sizeof("\\ufffd"));
		return 6;
	}
	esc[0] = '\\';
	esc[2] = '\0';
	switch (c) {
	case '"':
	case '\\':
		esc[1] = (char)c;
		return 2;
	case '\n':
		esc[1] = 'n';
		return 2;
	case '\r':
		esc[1] = 'r';
		return 2;
	case '\t':
		esc[1] = 't';
		return 2;
	case '\b':
		esc[1] = 'b';
		return 2;
	case '\f':
		esc[1] = 'f';
		return 2;
	default: /* the other controls and DEL */
		snprintf(esc, ESC_MAX, "\\u%04x", c);
		return 6;
	}
}

/* How many bytes of u[0..n), whole characters, escape into room bytes. */
static size_t fit(const unsigned char *u, size_t n, size_t room)
{
	char esc[ESC_MAX];
	size_t used = 0;
	size_t in = 0;
	size_t i = 0;

	while (i < n) {
		size_t out = classify(u + i, n - i, &in, esc);

		if (out > room - used)
			break;
		used += out;
		i += in;
	}
	return i;
}

static bool valid_utf8(const unsigned char *u, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t l = u[i] < 0x80 ? 1 : gv_utf8_len(u + i, n - i);

		if (l == 0)
			return false;
		i += l;
	}
	return true;
}

/* Appends the JSON text of u[0..n), without quotes. */
static void write_text(gv_buf *b, const unsigned char *u, size_t n)
{
	char esc[ESC_MAX];
	size_t run = 0; /* start of the bytes not yet appended */
	size_t in = 0;
	size_t i = 0;

	while (i < n && !b->failed) {
		classify(u + i, n - i, &in, esc);
		if (!esc[0]) {
			i += in;
			continue;
		}
		gv_buf_add(b, u + run, i - run);
		gv_buf_addstr(b, esc);
		i += in;
		run = i;
	}
	gv_buf_add(b, u + run, i - run);
}

int gv_json_escape(gv_buf *b, const char *s, size_t n, const gv_json_esc *o,
		   bool *cut)
{
	static const gv_json_esc defaults = { 0 };
	const unsigned char *u = (const unsigned char *)s;
	size_t quotes = 0;
	size_t mlen = 0;
	size_t take = n;
	bool was_cut = false;

	if (!o)
		o = &defaults;
	if (b->failed)
		return gv_buf_rc(b);
	quotes = o->bare ? 0 : 2;
	mlen = o->marker ? strlen(o->marker) : 0;
	if (o->strict && !valid_utf8(u, n))
		return GV_EINVAL;
	if (o->max && o->max < quotes)
		return GV_ETOOBIG;
	/* 6 bytes out for 1 in is the most any character takes */
	if (o->max && n > (o->max - quotes) / 6 &&
	    fit(u, n, o->max - quotes) < n) {
		if (o->max < quotes + mlen)
			return GV_ETOOBIG;
		take = fit(u, n, o->max - quotes - mlen);
		was_cut = true;
	}
	if (!o->bare)
		gv_buf_addch(b, '"');
	write_text(b, u, take);
	if (was_cut && mlen)
		gv_buf_add(b, o->marker, mlen);
	if (!o->bare)
		gv_buf_addch(b, '"');
	if (b->failed)
		return gv_buf_rc(b);
	if (cut)
		*cut = was_cut;
	return GV_OK;
}

int gv_json_escape_str(gv_buf *b, const char *s)
{
	return gv_json_escape(b, s, strlen(s), NULL, NULL);
}
