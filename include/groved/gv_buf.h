/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gv_buf.h: the one growable buffer of groved (base/gv_buf.c), after
 * curl's dynbuf: every buffer has a maximum size, and a failure is sticky.
 *
 * Rules, as git's strbuf.h states its own:
 *
 * - A gv_buf is filled by gv_buf_init() (or GV_BUF_INIT) with the most
 *   bytes it may ever hold, not counting the NUL. Input that would go past
 *   it is refused: nothing untrusted can grow a buffer without bound.
 * - `s` is NULL until the first append, then always NUL-terminated, with
 *   `len` bytes before the NUL (which may contain NUL bytes of their own
 *   when gv_buf_add() was given some). Read `s` and `len` freely; write
 *   them only through these functions. Any append may move `s`.
 * - Sticky failure: the first append that fails sets `failed`, and
 *   `toobig` too when it failed because the text would pass max (not for
 *   want of memory); every later append is a no-op that returns the same
 *   code, GV_ETOOBIG or GV_ENOMEM (gv_buf_rc). So a writer may append
 *   many pieces and test once at the end, and a caller can always tell an
 *   input that is too large from a failed allocation: report the first as
 *   the input's fault, never as "out of memory". After an over-max
 *   failure the text is everything appended before the append that did
 *   not fit (a caller may show it, cut, with a "..."); after GV_ENOMEM it
 *   is an undefined prefix.
 * - The buffer owns `s`. gv_buf_release() frees it; gv_buf_detach() gives
 *   it to the caller (who frees it with free()); gv_buf_reset() empties
 *   the buffer but keeps its memory. Both release and reset clear a
 *   failure.
 * - A fixed buffer (gv_buf_init_fixed) writes into the caller's array and
 *   never allocates: for text built where allocating is not wanted (a log
 *   line). Its max is the array's size less one; release and reset empty
 *   it; detach returns a malloc'd copy.
 * - Not thread-safe: one buffer, one thread at a time.
 */
#ifndef GROVED_GV_BUF_H
#define GROVED_GV_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "groved/gv.h"

typedef struct gv_buf {
	char *s; /* NULL, or NUL-terminated text of len bytes */
	size_t len;
	size_t cap; /* bytes at s, the NUL's included */
	size_t max; /* len never exceeds it */
	bool failed; /* an append failed: sticky */
	bool toobig; /* ... because it would have passed max */
	bool fixed; /* s is the caller's array: never reallocated or freed */
} gv_buf;

#define GV_BUF_INIT(max_)                          \
	{                                          \
		.s = NULL, .len = 0, .max = (max_) \
	}

/* Fills b: empty, holding at most max bytes (plus the NUL). */
void gv_buf_init(gv_buf *b, size_t max);

/* Fills b over the caller's array mem of size bytes (at least 1): b never
 * allocates and holds at most size - 1 bytes. mem must outlive b. */
void gv_buf_init_fixed(gv_buf *b, char *mem, size_t size);

/* Frees what b holds (a fixed buffer's array is only emptied) and clears
 * a failure; b keeps its max and can be used again. b may be NULL. */
void gv_buf_release(gv_buf *b);

/* Empties b, keeping its memory and max, and clears a failure. */
void gv_buf_reset(gv_buf *b);

/* Cuts b to its first len bytes (len <= b->len; larger is ignored). A
 * failure stays: this undoes text, not errors. */
void gv_buf_truncate(gv_buf *b, size_t len);

/* Makes room for n more bytes without a reallocation (a size hint: for
 * a body whose length is known). As gv_buf_add: past max, b fails. */
int gv_buf_grow(gv_buf *b, size_t n);

/* Appends n bytes of p (which may hold NUL bytes). Returns GV_OK, or
 * GV_ETOOBIG / GV_ENOMEM, now or from an earlier append (sticky). */
int gv_buf_add(gv_buf *b, const void *p, size_t n);

/* Appends the string s; as gv_buf_add. */
int gv_buf_addstr(gv_buf *b, const char *s);

/* Appends the byte c; as gv_buf_add. */
int gv_buf_addch(gv_buf *b, char c);

/* Appends printf-style text; as gv_buf_add (text longer than INT_MAX,
 * which vsnprintf refuses, is GV_ETOOBIG). */
int gv_buf_printf(gv_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int gv_buf_vprintf(gv_buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* Appends the base64 of data[0..len) (RFC 4648, standard alphabet,
 * padded; base/gv_base64.c); as gv_buf_add. */
int gv_buf_add_base64(gv_buf *b, const void *data, size_t len);

/* GV_OK, or why b failed: GV_ETOOBIG or GV_ENOMEM. */
static inline int gv_buf_rc(const gv_buf *b)
{
	return !b->failed ? GV_OK : b->toobig ? GV_ETOOBIG : GV_ENOMEM;
}

/*
 * Appends what src holds to b: all of it when src did not fail; when src
 * grew past its maximum, what fit, cut on a UTF-8 character boundary,
 * then marker (a printed value shortened rather than lost). Returns
 * GV_ENOMEM, appending nothing, when src failed for want of memory; else
 * as gv_buf_add on b.
 */
int gv_buf_add_cut(gv_buf *b, const gv_buf *src, const char *marker);

/* b's text: never NULL ("" before the first append). Borrowed: valid
 * until the next call that changes b. */
const char *gv_buf_str(const gv_buf *b);

/*
 * Gives the caller b's text, a new malloc'd NUL-terminated string (""
 * when b is empty), with its length in *len when len is not NULL, and
 * empties b. Returns NULL when b has failed (the failure is then cleared
 * and b emptied, as by gv_buf_release) or when out of memory.
 */
char *gv_buf_detach(gv_buf *b, size_t *len);

#endif
