/* SPDX-License-Identifier: Apache-2.0 */
/*
 * srv_log.c: one JSON object per line, built on the stack, written with
 * one write(2). See srv_log.h for the format and the rules.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>

#include "groved/gv.h"
#include "groved/gv_buf.h"
#include "groved/gv_json.h"
#include "srv_log.h"

static const char *const level_names[] = { "debug", "info", "warn", "error" };

/* Room kept at the end of every line for what closes it. */
static const char tail_truncated[] = ",\"truncated\":true}\n";
#define LINE_RESERVE (sizeof(tail_truncated) - 1)

/* A line being built, on the stack. Appends that do not fit set `full`
 * and write nothing, so the text is always a prefix that can still be
 * closed. */
typedef struct line {
	char mem[LOG_LINE_MAX + 1];
	gv_buf b; /* over mem: never allocates, never fails below limit */
	size_t limit; /* LOG_LINE_MAX - LINE_RESERVE, then LOG_LINE_MAX */
	bool full;
} line;

int log_init(log_ctx *lg, log_level level, int fd)
{
	if (pthread_mutex_init(&lg->lock, NULL) != 0)
		return GV_EINVAL;
	atomic_init(&lg->level, (int)level);
	atomic_init(&lg->dropped, 0);
	lg->fd = fd;
	return GV_OK;
}

void log_release(log_ctx *lg)
{
	if (!lg)
		return;
	pthread_mutex_destroy(&lg->lock);
}

void log_set_level(log_ctx *lg, log_level level)
{
	atomic_store_explicit(&lg->level, (int)level, memory_order_relaxed);
}

const char *log_level_name(log_level level)
{
	if ((int)level < 0 ||
	    (size_t)level >= sizeof(level_names) / sizeof(level_names[0]))
		return "unknown";
	return level_names[level];
}

int log_level_parse(const char *s, log_level *out)
{
	size_t i = 0;

	for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (s && strcmp(s, level_names[i]) == 0) {
			*out = (log_level)i;
			return GV_OK;
		}
	}
	return GV_EINVAL;
}

static bool put(line *l, const char *s, size_t n)
{
	if (l->full || n > l->limit - l->b.len) {
		l->full = true;
		return false;
	}
	gv_buf_add(&l->b, s, n);
	return true;
}

static bool puts_(line *l, const char *s)
{
	return put(l, s, strlen(s));
}

/*
 * Appends s as a JSON string. When it does not all fit, as much as fits
 * is kept (never half an escape or half a character), the string is
 * closed, and the line is marked full.
 */
static void put_string(line *l, const char *s)
{
	gv_json_esc o = { .max = l->limit - l->b.len };
	bool cut = false;

	/* the opening and the closing quote */
	if (l->full || o.max < 2) {
		l->full = true;
		return;
	}
	if (gv_json_escape(&l->b, s, strlen(s), &o, &cut) != GV_OK || cut)
		l->full = true;
}

static void put_key(line *l, const char *key)
{
	/* a key with nothing after it would leave invalid JSON: keep room
	 * for the shortest value, "null" */
	size_t before = l->b.len;

	if (!put(l, ",", 1))
		return;
	put_string(l, key ? key : "");
	if (!l->full && l->limit - l->b.len < 5)
		l->full = true;
	if (!l->full)
		put(l, ":", 1);
	if (l->full)
		gv_buf_truncate(&l->b, before);
}

static void put_field(line *l, const log_field *f)
{
	char num[48];
	size_t before = l->b.len;

	put_key(l, f->key);
	if (l->full)
		return;
	switch (f->type) {
	case LOG_F_STR:
		if (f->v.s)
			put_string(l, f->v.s);
		else
			puts_(l, "null");
		break;
	case LOG_F_INT:
		snprintf(num, sizeof(num), "%lld", (long long)f->v.i);
		if (!puts_(l, num))
			gv_buf_truncate(&l->b, before);
		break;
	case LOG_F_BOOL:
		if (!puts_(l, f->v.b ? "true" : "false"))
			gv_buf_truncate(&l->b, before);
		break;
	case LOG_F_NUM:
		if (isfinite(f->v.d))
			snprintf(num, sizeof(num), "%.17g", f->v.d);
		else
			snprintf(num, sizeof(num), "null");
		if (!puts_(l, num))
			gv_buf_truncate(&l->b, before);
		break;
	case LOG_F_RAW:
		/* cut raw JSON would be invalid: all of it, or null */
		if (f->v.s && strlen(f->v.s) <= l->limit - l->b.len) {
			puts_(l, f->v.s);
		} else {
			puts_(l, "null");
			l->full = f->v.s != NULL;
		}
		break;
	}
}

static void put_time(line *l)
{
	struct timespec ts = { 0 };
	struct tm tm = { 0 };
	char buf[40];
	size_t n = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(buf, sizeof(buf), "\"%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, sizeof(buf) - n, ".%03ldZ\"",
		 (long)(ts.tv_nsec / 1000000));
	puts_(l, buf);
}

static int emit(log_ctx *lg, line *l)
{
	const char *p = l->b.s;
	size_t left = l->b.len;
	ssize_t n = 0;
	int rc = GV_OK;

	pthread_mutex_lock(&lg->lock);
	while (left > 0) {
		n = write(lg->fd, p, left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			atomic_fetch_add_explicit(&lg->dropped, 1,
						  memory_order_relaxed);
			rc = GV_EIO;
			break;
		}
		p += n;
		left -= (size_t)n;
	}
	pthread_mutex_unlock(&lg->lock);
	return rc;
}

int log_fields(log_ctx *lg, log_level level, const char *func, const char *msg,
	       const log_field *fields, size_t n)
{
	line l;
	size_t i = 0;
	bool truncated = false;

	gv_buf_init_fixed(&l.b, l.mem, sizeof(l.mem));
	l.limit = LOG_LINE_MAX - LINE_RESERVE;
	l.full = false;
	puts_(&l, "{\"time\":");
	put_time(&l);
	puts_(&l, ",\"level\":\"");
	puts_(&l, log_level_name(level));
	puts_(&l, "\",\"func\":");
	put_string(&l, func ? func : "");
	puts_(&l, ",\"msg\":");
	put_string(&l, msg ? msg : "");
	for (i = 0; i < n && !l.full; i++)
		put_field(&l, &fields[i]);
	truncated = l.full;
	l.limit = LOG_LINE_MAX;
	l.full = false;
	if (truncated)
		put(&l, tail_truncated, LINE_RESERVE);
	else
		put(&l, "}\n", 2);
	return emit(lg, &l);
}

int log_printf(log_ctx *lg, log_level level, const char *func, const char *fmt,
	       ...)
{
	char msg[LOG_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return log_fields(lg, level, func, msg, NULL, 0);
}

bool log_once(log_ctx *lg, log_level level, const char *func, char *last,
	      size_t size, const char *msg, const char *key,
	      const char *subject, const char *text)
{
	log_field f[2];
	size_t n = 0;

	if (!text)
		text = "";
	if (strcmp(last, text) == 0)
		return false;
	snprintf(last, size, "%s", text);
	if (!log_enabled(lg, level))
		return false;
	if (key)
		f[n++] = LOG_STR(key, subject);
	f[n++] = LOG_STR("error", text);
	log_fields(lg, level, func, msg, f, n);
	return true;
}

bool log_once_clear(char *last)
{
	bool had = last[0] != '\0';

	last[0] = '\0';
	return had;
}
