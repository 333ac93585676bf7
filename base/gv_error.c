/* SPDX-License-Identifier: Apache-2.0 */
/* gv_error.c: the project-wide result table, the error struct, and the
 * UTF-8 check every writer of JSON and every parser shares. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "groved/gv.h"

static const char *const gv_messages[] = {
#define GV_X_MSG(name, msg) msg,
	GV_RESULT_TABLE(GV_X_MSG)
#undef GV_X_MSG
};

const char *gv_strerror(int rc)
{
	if (rc < 0 || rc >= GV_RESULT_COUNT)
		return "unknown error";
	return gv_messages[rc];
}

void gv_error_clear(gv_error_t *err)
{
	if (!err)
		return;
	err->source[0] = '\0';
	err->line = 0;
	err->column = 0;
	err->text[0] = '\0';
}

int gv_error_set(gv_error_t *err, int rc, const char *source, int line,
		 int column, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return rc;
	snprintf(err->source, sizeof(err->source), "%s", source ? source : "");
	err->line = line;
	err->column = column;
	va_start(ap, fmt);
	vsnprintf(err->text, sizeof(err->text), fmt, ap);
	va_end(ap);
	return rc;
}

char *gv_error_format(const gv_error_t *err, char *buf, size_t size)
{
	size_t used = 0;
	int n = 0;

	if (!buf || size == 0)
		return buf;
	buf[0] = '\0';
	if (!err)
		return buf;
	if (err->source[0]) {
		n = snprintf(buf, size, "%s:", err->source);
		used = n < 0 ? 0 : (size_t)n;
	}
	if (err->line > 0 && used < size) {
		n = err->column > 0
			? snprintf(buf + used, size - used, "%d:%d:", err->line,
				   err->column)
			: snprintf(buf + used, size - used, "%d:", err->line);
		used += n < 0 ? 0 : (size_t)n;
	}
	if (used < size)
		snprintf(buf + used, size - used, "%s%s", used ? " " : "",
			 err->text);
	return buf;
}

size_t gv_utf8_len(const unsigned char *s, size_t n)
{
	uint32_t cp = 0;
	size_t len = 0;
	size_t i = 0;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* overlong, surrogates, beyond U+10FFFF */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

size_t gv_utf8_cut(const char *s, size_t n)
{
	size_t j = n;
	size_t need = 1;
	unsigned char lead = 0;

	while (j > 0 && n - j < 3 && ((unsigned char)s[j - 1] & 0xc0) == 0x80)
		j--;
	if (j == 0)
		return n;
	lead = (unsigned char)s[j - 1];
	if (lead >= 0xf0)
		need = 4;
	else if (lead >= 0xe0)
		need = 3;
	else if (lead >= 0xc0)
		need = 2;
	return n - (j - 1) < need ? j - 1 : n;
}
