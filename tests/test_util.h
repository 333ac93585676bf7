/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_util.h: helpers shared by the cmocka test files: parse a YAML or
 * JSON string, read a repository file, run the policy on it, wait for a
 * condition with a bounded poll (never sleep, then assert).
 */
#ifndef GROVED_TEST_UTIL_H
#define GROVED_TEST_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "groved/gv_read.h"
#include "groved/gv_time.h"
#include "groved/policy.h"

/* The first document of text (YAML or JSON); fails the test when it
 * does not parse. Returns a new reference. */
static inline json_t *tu_doc(const char *text)
{
	json_t *docs = NULL;
	json_t *doc = NULL;
	gv_error_t err = GV_ERROR_INIT;
	int rc =
	    gv_read_documents(text, strlen(text), "test", &docs, NULL, &err);

	if (rc != GV_OK)
		print_error("parse: %d:%d: %s\n", err.line, err.column,
			    err.text);
	assert_int_equal(rc, GV_OK);
	doc = json_incref(json_array_get(docs, 0));
	json_decref(docs);
	assert_non_null(doc);
	return doc;
}

/* A repository file (relative to the source dir) as a string; the
 * caller frees it. */
static inline char *tu_file(const char *rel)
{
	char path[1024];
	FILE *f = NULL;
	char *buf = NULL;
	long n = 0;

	snprintf(path, sizeof(path), "%s/%s", GV_SOURCE_DIR, rel);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* The denial message pol_review_pcs gives text (NULL when allowed);
 * the caller frees it. Warnings go to *warnings when not NULL (new
 * reference, array of strings). */
static inline char *tu_review(const char *text, const pol_options *opts,
			      json_t **warnings)
{
	json_t *doc = tu_doc(text);
	pol_verdict v = POL_VERDICT_INIT;
	char *msg = NULL;
	size_t i = 0;

	assert_int_equal(pol_review_pcs(doc, NULL, opts, &v, NULL), GV_OK);
	msg = pol_verdict_message(&v);
	if (warnings) {
		*warnings = json_array();
		for (i = 0; i < v.n_warnings; i++)
			json_array_append_new(*warnings,
					      json_string(v.warnings[i]));
	}
	pol_verdict_release(&v);
	json_decref(doc);
	return msg;
}

#define TU_POLL_MS 10 /* between two looks at a condition */

/* Polls cond(arg) every TU_POLL_MS until it holds (true) or timeout_ms
 * have passed (false, after a last look). For a test that must clean up
 * before it fails; others use tu_wait_until. */
static inline bool tu_poll(bool (*cond)(void *arg), void *arg, long timeout_ms)
{
	uint64_t until = gv_now_ms() + (uint64_t)timeout_ms;

	while (!cond(arg)) {
		struct timespec ts = { 0, TU_POLL_MS * 1000000L };

		if (gv_now_ms() >= until)
			return cond(arg);
		nanosleep(&ts, NULL);
	}
	return true;
}

static inline void tu_wait_until_at(bool (*cond)(void *arg), void *arg,
				    long timeout_ms, const char *what,
				    const char *file, int line)
{
	if (tu_poll(cond, arg, timeout_ms))
		return;
	print_error("timed out after %ld ms waiting for %s\n", timeout_ms,
		    what);
	_fail(file, line);
}

/*
 * Waits until cond(arg) holds, polling every TU_POLL_MS, and fails the
 * test naming cond when it does not within timeout_ms: a slow machine
 * makes a slower test, not a false one. Give timeouts far above the
 * expected wait.
 */
#define tu_wait_until(cond, arg, timeout_ms) \
	tu_wait_until_at((cond), (arg), (timeout_ms), #cond, __FILE__, __LINE__)

#endif
