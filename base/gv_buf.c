/* SPDX-License-Identifier: Apache-2.0 */
/* gv_buf.c: the bounded growable buffer (rules in groved/gv_buf.h). */
#include <stdint.h>

#include "groved/gv_buf.h"

/* The first allocation; most buffers are short texts. */
#define GV_BUF_FIRST_CAP 64

void gv_buf_init(gv_buf *b, size_t max)
{
	b->s = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
	b->failed = false;
	b->toobig = false;
	b->fixed = false;
}

void gv_buf_init_fixed(gv_buf *b, char *mem, size_t size)
{
	b->s = mem;
	b->len = 0;
	b->cap = size;
	b->max = size ? size - 1 : 0;
	b->failed = false;
	b->toobig = false;
	b->fixed = true;
	if (size)
		mem[0] = '\0';
}

void gv_buf_release(gv_buf *b)
{
	if (!b)
		return;
	if (b->fixed) {
		gv_buf_reset(b);
		return;
	}
	free(b->s);
	gv_buf_init(b, b->max);
}

void gv_buf_reset(gv_buf *b)
{
	b->len = 0;
	b->failed = false;
	b->toobig = false;
	if (b->s)
		b->s[0] = '\0';
}

void gv_buf_truncate(gv_buf *b, size_t len)
{
	if (len >= b->len)
		return;
	b->len = len;
	b->s[len] = '\0';
}

/* Records a failure; returns its code. */
static int buf_fail(gv_buf *b, bool toobig)
{
	b->failed = true;
	b->toobig = toobig;
	return gv_buf_rc(b);
}

/* Makes room for extra more bytes and the NUL, or records why not. */
static int buf_reserve(gv_buf *b, size_t extra)
{
	size_t need = 0;
	size_t cap = 0;
	char *s = NULL;

	if (b->failed)
		return gv_buf_rc(b);
	/* the second test: a max of SIZE_MAX leaves no room for the NUL */
	if (extra > b->max - b->len || extra == SIZE_MAX - b->len)
		return buf_fail(b, true);
	need = b->len + extra + 1; /* no overflow: len + extra < SIZE_MAX */
	if (need <= b->cap)
		return GV_OK;
	if (b->fixed)
		return buf_fail(b, true); /* cannot happen: cap is max + 1 */
	cap = b->cap ? b->cap : GV_BUF_FIRST_CAP;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	/* never more than the maximum can use */
	if (b->max < SIZE_MAX && cap > b->max + 1)
		cap = b->max + 1;
	s = realloc(b->s, cap);
	if (!s)
		return buf_fail(b, false);
	b->s = s;
	b->cap = cap;
	return GV_OK;
}

int gv_buf_grow(gv_buf *b, size_t n)
{
	int rc = buf_reserve(b, n);

	if (rc == GV_OK && b->len == 0)
		b->s[0] = '\0';
	return rc;
}

int gv_buf_add(gv_buf *b, const void *p, size_t n)
{
	int rc = buf_reserve(b, n);

	if (rc != GV_OK)
		return rc;
	if (n)
		memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
	return GV_OK;
}

int gv_buf_addstr(gv_buf *b, const char *s)
{
	return gv_buf_add(b, s, strlen(s));
}

int gv_buf_addch(gv_buf *b, char c)
{
	return gv_buf_add(b, &c, 1);
}

int gv_buf_vprintf(gv_buf *b, const char *fmt, va_list ap)
{
	va_list again;
	int n = 0;
	int rc = GV_OK;

	if (b->failed)
		return gv_buf_rc(b);
	va_copy(again, ap);
	n = vsnprintf(NULL, 0, fmt, ap);
	if (n < 0) { /* EOVERFLOW: longer than INT_MAX */
		rc = buf_fail(b, true);
		goto out;
	}
	rc = buf_reserve(b, (size_t)n);
	if (rc != GV_OK)
		goto out;
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, again);
	b->len += (size_t)n;
out:
	va_end(again);
	return rc;
}

int gv_buf_printf(gv_buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc = GV_OK;

	va_start(ap, fmt);
	rc = gv_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

const char *gv_buf_str(const gv_buf *b)
{
	return b->s ? b->s : "";
}

int gv_buf_add_cut(gv_buf *b, const gv_buf *src, const char *marker)
{
	const char *s = gv_buf_str(src);

	if (src->failed && !src->toobig)
		return GV_ENOMEM;
	if (!src->failed)
		return gv_buf_add(b, s, src->len);
	gv_buf_add(b, s, gv_utf8_cut(s, src->len));
	return gv_buf_addstr(b, marker);
}

char *gv_buf_detach(gv_buf *b, size_t *len)
{
	char *s = NULL;
	size_t n = b->len;

	if (b->failed) {
		gv_buf_release(b);
		return NULL;
	}
	if (b->fixed || !b->s) {
		s = malloc(n + 1);
		if (!s)
			return NULL;
		if (n)
			memcpy(s, b->s, n);
		s[n] = '\0';
		gv_buf_reset(b);
	} else {
		s = b->s;
		gv_buf_init(b, b->max);
	}
	if (len)
		*len = n;
	return s;
}
