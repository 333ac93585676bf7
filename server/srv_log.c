/*
 * srv_log.c: one JSON object per line, built on the stack, written with
 * one write(2). See srv_log.h for the format and the rules.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>

#include "groved/gv.h"
#include "srv_log.h"

static const char *const level_names[] = { "debug", "info", "warn", "error" };

/* Room kept at the end of every line for what closes it. */
static const char tail_truncated[] = ",\"truncated\":true}\n";
#define LINE_RESERVE (sizeof(tail_truncated) - 1)

/* A line being built. Appends that do not fit set `full` and write
 * nothing, so the text is always a prefix that can still be closed. */
typedef struct line {
	char buf[LOG_LINE_MAX];
	size_t len;
	size_t limit; /* LOG_LINE_MAX - LINE_RESERVE */
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
	if (l->full || n > l->limit - l->len) {
		l->full = true;
		return false;
	}
	memcpy(l->buf + l->len, s, n);
	l->len += n;
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
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);
	char esc[8];
	const char *out = NULL;
	size_t out_len = 0;
	size_t step = 0;

	/* the opening and the closing quote */
	if (l->full || l->limit - l->len < 2) {
		l->full = true;
		return;
	}
	l->buf[l->len++] = '"';
	l->limit--; /* the closing quote always fits */
	while (n > 0) {
		step = 1;
		out = esc;
		out_len = 2;
		esc[0] = '\\';
		switch (*p) {
		case '"':
		case '\\':
			esc[1] = (char)*p;
			break;
		case '\n':
			esc[1] = 'n';
			break;
		case '\r':
			esc[1] = 'r';
			break;
		case '\t':
			esc[1] = 't';
			break;
		case '\b':
			esc[1] = 'b';
			break;
		case '\f':
			esc[1] = 'f';
			break;
		default:
			if (*p < 0x20 || *p == 0x7f) {
				snprintf(esc, sizeof(esc), "\\u%04x", *p);
				out_len = 6;
			} else {
				step = gv_utf8_len(p, n);
				if (step == 0) {
					step = 1;
					out = "\\ufffd";
					out_len = 6;
				} else {
					out = (const char *)p;
					out_len = step;
				}
			}
			break;
		}
		if (!put(l, out, out_len))
			break;
		p += step;
		n -= step;
	}
	l->limit++;
	l->buf[l->len++] = '"';
}

static void put_key(line *l, const char *key)
{
	/* a key with nothing after it would leave invalid JSON: keep room
	 * for the shortest value, "null" */
	size_t before = l->len;

	if (!put(l, ",", 1))
		return;
	put_string(l, key ? key : "");
	if (!l->full && l->limit - l->len < 5)
		l->full = true;
	if (!l->full)
		put(l, ":", 1);
	if (l->full)
		l->len = before;
}

static void put_field(line *l, const log_field *f)
{
	char num[48];
	size_t before = l->len;

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
			l->len = before;
		break;
	case LOG_F_BOOL:
		if (!puts_(l, f->v.b ? "true" : "false"))
			l->len = before;
		break;
	case LOG_F_NUM:
		if (isfinite(f->v.d))
			snprintf(num, sizeof(num), "%.17g", f->v.d);
		else
			snprintf(num, sizeof(num), "null");
		if (!puts_(l, num))
			l->len = before;
		break;
	case LOG_F_RAW:
		/* cut raw JSON would be invalid: all of it, or null */
		if (f->v.s && strlen(f->v.s) <= l->limit - l->len) {
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
	const char *p = l->buf;
	size_t left = l->len;
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

	l.len = 0;
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
