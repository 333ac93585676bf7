/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_log.c: srv_log's lines are JSON, escaped, filtered by level, cut
 * to LOG_LINE_MAX without breaking, and never interleaved across threads.
 */
#include <pthread.h>

#include "test_util.h"
#include "srv_log.h"

/* A logger writing into a temporary file. */
typedef struct fixture {
	FILE *file;
	log_ctx lg;
} fixture;

static int setup(void **state)
{
	fixture *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	fx->file = tmpfile();
	assert_non_null(fx->file);
	assert_int_equal(log_init(&fx->lg, LOG_LVL_INFO, fileno(fx->file)),
			 GV_OK);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	fixture *fx = *state;

	log_release(&fx->lg);
	fclose(fx->file);
	free(fx);
	return 0;
}

/* Everything written so far, as a JSON array of the parsed lines; fails
 * the test on a line that is not a JSON object or is too long. */
static json_t *lines_of(fixture *fx)
{
	json_t *all = json_array();
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n = 0;

	assert_int_equal(fseek(fx->file, 0, SEEK_SET), 0);
	while ((n = getline(&buf, &cap, fx->file)) > 0) {
		json_error_t jerr;
		json_t *v = NULL;

		assert_true((size_t)n <= LOG_LINE_MAX);
		assert_int_equal(buf[n - 1], '\n');
		v = json_loadb(buf, (size_t)n, 0, &jerr);
		if (!v)
			print_error("bad line: %s: %s\n", jerr.text, buf);
		assert_non_null(v);
		assert_true(json_is_object(v));
		json_array_append_new(all, v);
	}
	free(buf);
	assert_int_equal(fseek(fx->file, 0, SEEK_END), 0);
	return all;
}

static const char *str_of(const json_t *line, const char *key)
{
	const char *s = json_string_value(json_object_get(line, key));

	assert_non_null(s);
	return s;
}

static void test_fields(void **state)
{
	fixture *fx = *state;
	json_t *lines = NULL;
	json_t *l = NULL;
	const char *t = NULL;

	LOG_INFO(&fx->lg, "request", LOG_STR("uid", "u-1"),
		 LOG_STR("webhook", "mutate-pod"), LOG_INT("code", -403),
		 LOG_BOOL("allowed", false), LOG_NUM("duration_ms", 0.25),
		 LOG_STR("user", NULL), LOG_RAW("config", "{\"a\":[1,2]}"));
	LOG_WARN(&fx->lg, "no fields");
	LOG_ERRORF(&fx->lg, "cannot bind '%s': %s", ":9443", "in use");
	lines = lines_of(fx);
	assert_int_equal(json_array_size(lines), 3);

	l = json_array_get(lines, 0);
	assert_string_equal(str_of(l, "level"), "info");
	assert_string_equal(str_of(l, "func"), "test_fields");
	assert_string_equal(str_of(l, "msg"), "request");
	assert_string_equal(str_of(l, "uid"), "u-1");
	assert_string_equal(str_of(l, "webhook"), "mutate-pod");
	assert_int_equal(json_integer_value(json_object_get(l, "code")), -403);
	assert_true(json_is_false(json_object_get(l, "allowed")));
	assert_true(json_real_value(json_object_get(l, "duration_ms")) == 0.25);
	assert_true(json_is_null(json_object_get(l, "user")));
	assert_int_equal(
	    json_integer_value(json_array_get(
		json_object_get(json_object_get(l, "config"), "a"), 1)),
	    2);
	assert_null(json_object_get(l, "truncated"));
	/* RFC 3339 UTC with milliseconds: 2025-01-02T03:04:05.678Z */
	t = str_of(l, "time");
	assert_int_equal(strlen(t), 24);
	assert_true(t[4] == '-' && t[7] == '-' && t[10] == 'T' &&
		    t[13] == ':' && t[16] == ':' && t[19] == '.' &&
		    t[23] == 'Z');

	l = json_array_get(lines, 1);
	assert_string_equal(str_of(l, "level"), "warn");
	assert_int_equal(json_object_size(l), 4);
	l = json_array_get(lines, 2);
	assert_string_equal(str_of(l, "level"), "error");
	assert_string_equal(str_of(l, "msg"), "cannot bind ':9443': in use");
	json_decref(lines);
}

static void test_escaping(void **state)
{
	fixture *fx = *state;
	json_t *lines = NULL;
	const char *in = "q\"b\\n\nr\rt\tc\x01\x1f\x7f"
			 "bad\xff"
			 "cut\xc3"
			 "ok\xc3\xa9"
			 "overlong\xc0\xaf"
			 "surrogate\xed\xa0\x80"
			 "emoji\xf0\x9f\x98\x80";
	const char *want = "q\"b\\n\nr\rt\tc\x01\x1f\x7f"
			   "bad\xef\xbf\xbd"
			   "cut\xef\xbf\xbd"
			   "ok\xc3\xa9"
			   "overlong\xef\xbf\xbd\xef\xbf\xbd"
			   "surrogate\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
			   "emoji\xf0\x9f\x98\x80";

	LOG_INFO(&fx->lg, in, LOG_STR(in, in));
	lines = lines_of(fx);
	assert_int_equal(json_array_size(lines), 1);
	assert_string_equal(str_of(json_array_get(lines, 0), "msg"), want);
	assert_string_equal(str_of(json_array_get(lines, 0), want), want);
	json_decref(lines);
}

static int evaluated;

static int side_effect(void)
{
	return ++evaluated;
}

static void test_levels(void **state)
{
	fixture *fx = *state;
	json_t *lines = NULL;
	log_level lv = LOG_LVL_INFO;

	evaluated = 0;
	LOG_DEBUG(&fx->lg, "dropped", LOG_INT("n", side_effect()));
	LOG_DEBUGF(&fx->lg, "dropped %d", side_effect());
	assert_int_equal(evaluated, 0); /* arguments not even built */
	LOG_INFO(&fx->lg, "kept");
	log_set_level(&fx->lg, LOG_LVL_ERROR);
	LOG_WARN(&fx->lg, "dropped");
	LOG_ERROR(&fx->lg, "kept");
	log_set_level(&fx->lg, LOG_LVL_DEBUG);
	LOG_DEBUG(&fx->lg, "kept", LOG_INT("n", side_effect()));
	assert_int_equal(evaluated, 1);
	lines = lines_of(fx);
	assert_int_equal(json_array_size(lines), 3);
	assert_string_equal(str_of(json_array_get(lines, 0), "level"), "info");
	assert_string_equal(str_of(json_array_get(lines, 1), "level"), "error");
	assert_string_equal(str_of(json_array_get(lines, 2), "level"), "debug");
	json_decref(lines);

	assert_int_equal(log_level_parse("warn", &lv), GV_OK);
	assert_int_equal(lv, LOG_LVL_WARN);
	assert_int_equal(log_level_parse("debug", &lv), GV_OK);
	assert_int_equal(lv, LOG_LVL_DEBUG);
	assert_int_equal(log_level_parse("verbose", &lv), GV_EINVAL);
	assert_int_equal(log_level_parse("INFO", &lv), GV_EINVAL);
	assert_string_equal(log_level_name(LOG_LVL_ERROR), "error");
}

/* Long values of every shape: each line stays within LOG_LINE_MAX,
 * parses, and says it was truncated. */
static void test_truncation(void **state)
{
	fixture *fx = *state;
	static const char *const units[] = {
		"a", "\"", "\x01", "\xc3\xa9", "\xf0\x9f\x98\x80", "\xff"
	};
	char *big = malloc(3 * LOG_LINE_MAX + 1);
	char *raw = malloc(LOG_LINE_MAX + 16);
	json_t *lines = NULL;
	size_t u = 0;
	size_t k = 0;
	size_t i = 0;

	assert_non_null(big);
	assert_non_null(raw);
	for (u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
		size_t n = 0;

		/* shift the boundary by one byte each time */
		for (k = 0; k < 8; k++) {
			n = 0;
			for (i = 0; i < k; i++)
				big[n++] = 'x';
			while (n + 4 < 3 * LOG_LINE_MAX) {
				memcpy(big + n, units[u], strlen(units[u]));
				n += strlen(units[u]);
			}
			big[n] = '\0';
			LOG_INFO(&fx->lg, big);
			LOG_INFO(&fx->lg, "m", LOG_STR("k", big),
				 LOG_INT("after", 1));
		}
	}
	/* many small fields, the last ones left out */
	LOG_INFO(&fx->lg, "m", LOG_STR("a", big + 3 * LOG_LINE_MAX - 8000),
		 LOG_INT("i1", 1), LOG_INT("i2", 2), LOG_BOOL("b", true),
		 LOG_NUM("d", 1.5), LOG_STR("s", "tail"));
	/* raw JSON that does not fit becomes null */
	raw[0] = '[';
	for (i = 1; i < LOG_LINE_MAX; i += 2)
		memcpy(raw + i, "1,", 2);
	memcpy(raw + i, "1]", 3);
	LOG_INFO(&fx->lg, "m", LOG_RAW("raw", raw));

	lines = lines_of(fx);
	assert_int_equal(json_array_size(lines), 6 * 8 * 2 + 2);
	for (i = 0; i < json_array_size(lines); i++) {
		json_t *l = json_array_get(lines, i);

		assert_true(json_is_true(json_object_get(l, "truncated")));
		assert_non_null(json_object_get(l, "time"));
		assert_non_null(json_object_get(l, "msg"));
	}
	assert_true(json_is_null(json_object_get(
	    json_array_get(lines, json_array_size(lines) - 1), "raw")));
	json_decref(lines);
	free(big);
	free(raw);
}

#define THREADS 8
#define PER_THREAD 1000

typedef struct worker {
	log_ctx *lg;
	int id;
} worker;

static void *log_many(void *arg)
{
	worker *w = arg;
	char pad[1500];
	int i = 0;

	/* long enough that a line is bigger than PIPE_BUF at times */
	memset(pad, 'a' + w->id, sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = '\0';
	for (i = 0; i < PER_THREAD; i++)
		LOG_INFO(w->lg, "line", LOG_INT("thread", w->id),
			 LOG_INT("i", i),
			 LOG_STR("pad", pad + (i % 3 == 0 ? 0 : 1400)),
			 LOG_STR("pad2", i % 7 == 0 ? pad : ""),
			 LOG_STR("pad3", i % 7 == 0 ? pad : ""),
			 LOG_STR("pad4", i % 7 == 0 ? pad : ""));
	return NULL;
}

static void test_threads(void **state)
{
	fixture *fx = *state;
	pthread_t tids[THREADS];
	worker w[THREADS];
	int seen[THREADS] = { 0 };
	json_t *lines = NULL;
	size_t i = 0;

	for (i = 0; i < THREADS; i++) {
		w[i] = (worker){ &fx->lg, (int)i };
		assert_int_equal(
		    pthread_create(&tids[i], NULL, log_many, &w[i]), 0);
	}
	for (i = 0; i < THREADS; i++)
		pthread_join(tids[i], NULL);
	lines = lines_of(fx);
	assert_int_equal(json_array_size(lines), THREADS * PER_THREAD);
	for (i = 0; i < json_array_size(lines); i++) {
		json_t *l = json_array_get(lines, i);
		json_int_t t = json_integer_value(json_object_get(l, "thread"));

		assert_true(t >= 0 && t < THREADS);
		/* each thread's lines arrive in its order */
		assert_int_equal(json_integer_value(json_object_get(l, "i")),
				 seen[t]++);
	}
	json_decref(lines);
	assert_int_equal(atomic_load(&fx->lg.dropped), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_escaping, setup, teardown),
		cmocka_unit_test_setup_teardown(test_levels, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncation, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
