/* SPDX-License-Identifier: Apache-2.0 */
/*
 * srv_log.h: structured logs for `groved serve`, one JSON object per line.
 *
 *   {"time":"2025-01-02T03:04:05.678Z","level":"info","func":"serve_hook",
 *    "msg":"request","uid":"...","webhook":"mutate-pod","allowed":true}
 *
 * A log_ctx is an object the caller creates (log_init) and passes to the
 * threads that log; there is no global logger. Many threads may log on one
 * log_ctx at once: each line is built in a stack buffer of LOG_LINE_MAX
 * bytes (no allocation) and written with one write(2) under the context's
 * mutex, so lines never interleave, even on a pipe.
 *
 * Fields are typed (LOG_STR, LOG_INT, LOG_BOOL, LOG_NUM, LOG_RAW) and
 * collected by the macros into an array, so a call costs nothing beyond
 * the level test when its level is off: the macros test the level before
 * evaluating any argument, and capture __func__.
 *
 *   LOG_INFO(lg, "request", LOG_STR("uid", uid), LOG_STR("webhook", name),
 *            LOG_BOOL("allowed", allowed), LOG_NUM("duration_ms", ms));
 *   LOG_WARNF(lg, "cannot reload certificate '%s': %s", path, why);
 *
 * Every string (message, keys, values) is JSON-escaped: quotes, backslash,
 * control bytes, and invalid UTF-8 (each bad byte becomes \ufffd). A line
 * that would exceed LOG_LINE_MAX is cut: string values are shortened,
 * fields that no longer fit are left out, and the line ends with
 * "truncated":true; it is always valid JSON.
 *
 * Request fields, by convention: uid, webhook, kind, namespace, name,
 * operation, user, allowed, patched, duration_ms. Never log whole objects
 * or secrets at info.
 */
#ifndef GROVED_SRV_LOG_H
#define GROVED_SRV_LOG_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest line written, the final newline included. */
#define LOG_LINE_MAX 8192

/* Not LOG_INFO etc.: those are the macros below (and syslog.h's). */
typedef enum {
	LOG_LVL_DEBUG,
	LOG_LVL_INFO,
	LOG_LVL_WARN,
	LOG_LVL_ERROR
} log_level;

typedef struct log_ctx {
	atomic_int level; /* log_level; lines below it are dropped */
	int fd; /* borrowed: the caller closes it */
	pthread_mutex_t lock; /* held only around write(2) */
	atomic_uint_fast64_t dropped; /* lines write(2) failed to take */
} log_ctx;

/* One field. Built with the LOG_* field macros below, not by hand. */
typedef enum {
	LOG_F_STR,
	LOG_F_INT,
	LOG_F_BOOL,
	LOG_F_NUM,
	LOG_F_RAW
} log_field_type;

typedef struct log_field {
	const char *key; /* borrowed */
	log_field_type type;
	union {
		const char *s; /* STR (NULL writes null), RAW */
		int64_t i; /* INT */
		bool b; /* BOOL */
		double d; /* NUM (non-finite writes null) */
	} v;
} log_field;

#define LOG_STR(k, val) \
	((log_field){ .key = (k), .type = LOG_F_STR, .v.s = (val) })
#define LOG_INT(k, val) \
	((log_field){ .key = (k), .type = LOG_F_INT, .v.i = (int64_t)(val) })
#define LOG_BOOL(k, val) \
	((log_field){ .key = (k), .type = LOG_F_BOOL, .v.b = (val) })
#define LOG_NUM(k, val) \
	((log_field){ .key = (k), .type = LOG_F_NUM, .v.d = (double)(val) })
/* val must be one valid JSON value (e.g. cfg_serve_dump's object); it is
 * copied as is, or written as null when it does not fit the line. */
#define LOG_RAW(k, val) \
	((log_field){ .key = (k), .type = LOG_F_RAW, .v.s = (val) })

/* Fills lg: lines at level and above go to fd (borrowed, e.g.
 * STDERR_FILENO). Returns GV_OK, or GV_EINVAL when the mutex cannot be
 * created. */
int log_init(log_ctx *lg, log_level level, int fd);
/* Frees what log_init made; lg may be NULL. No thread may still log. */
void log_release(log_ctx *lg);

/* Changes the level at run time (SIGHUP); safe while other threads log. */
void log_set_level(log_ctx *lg, log_level level);

static inline bool log_enabled(log_ctx *lg, log_level level)
{
	return lg && (int)level >=
			 atomic_load_explicit(&lg->level, memory_order_relaxed);
}

/* "debug", "info", "warn", "error" (static). */
const char *log_level_name(log_level level);
/* Parses one of those names into *out. Returns GV_OK or GV_EINVAL. */
int log_level_parse(const char *s, log_level *out);

/*
 * Writes one line: time, level, func, msg, then the n fields in order.
 * Does not test the level (the macros do). Returns GV_OK, or GV_EIO when
 * write(2) fails (the line is lost and counted in lg->dropped).
 */
int log_fields(log_ctx *lg, log_level level, const char *func, const char *msg,
	       const log_field *fields, size_t n);
/* The same with a printf-formatted message and no fields. */
int log_printf(log_ctx *lg, log_level level, const char *func, const char *fmt,
	       ...) __attribute__((format(printf, 4, 5)));

/*
 * Structured: LOG_INFO(lg, "msg", LOG_STR(...), ...). The leading empty
 * element lets the field list be empty; it is skipped.
 */
#define LOG_AT(lg, lvl, msg, ...)                                            \
	do {                                                                 \
		if (log_enabled((lg), (lvl))) {                              \
			const log_field log_f_[] = { { .key = NULL },        \
						     __VA_ARGS__ };          \
			log_fields((lg), (lvl), __func__, (msg), log_f_ + 1, \
				   sizeof(log_f_) / sizeof(log_f_[0]) - 1);  \
		}                                                            \
	} while (0)

#define LOG_DEBUG(lg, ...) LOG_AT((lg), LOG_LVL_DEBUG, __VA_ARGS__)
#define LOG_INFO(lg, ...) LOG_AT((lg), LOG_LVL_INFO, __VA_ARGS__)
#define LOG_WARN(lg, ...) LOG_AT((lg), LOG_LVL_WARN, __VA_ARGS__)
#define LOG_ERROR(lg, ...) LOG_AT((lg), LOG_LVL_ERROR, __VA_ARGS__)

/* printf-like: LOG_INFOF(lg, "listening on %s", addr). */
#define LOG_ATF(lg, lvl, ...)                                           \
	do {                                                            \
		if (log_enabled((lg), (lvl)))                           \
			log_printf((lg), (lvl), __func__, __VA_ARGS__); \
	} while (0)

/*
 * A failure that repeats (a missing RBAC rule, an API server away) is
 * logged once until its text changes, not every period. last is the
 * caller's (size bytes, "" at first) and holds the text last logged; one
 * thread at a time uses it (the caller's thread or lock).
 *
 * log_once writes msg at level with the fields key: subject (left out
 * when key is NULL) and "error": text, when text differs from last, and
 * then keeps it in last. Returns true when it logged.
 * log_once_clear forgets it: the failure is over. Returns true when one
 * had been logged (the caller may say that it works again).
 */
bool log_once(log_ctx *lg, log_level level, const char *func, char *last,
	      size_t size, const char *msg, const char *key,
	      const char *subject, const char *text);
bool log_once_clear(char *last);

#define LOG_DEBUGF(lg, ...) LOG_ATF((lg), LOG_LVL_DEBUG, __VA_ARGS__)
#define LOG_INFOF(lg, ...) LOG_ATF((lg), LOG_LVL_INFO, __VA_ARGS__)
#define LOG_WARNF(lg, ...) LOG_ATF((lg), LOG_LVL_WARN, __VA_ARGS__)
#define LOG_ERRORF(lg, ...) LOG_ATF((lg), LOG_LVL_ERROR, __VA_ARGS__)

#endif
