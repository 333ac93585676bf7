/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_metrics.c: the exposition text of srv_metrics, exactly; cumulative
 * buckets; label escaping; lock-free counts from many threads.
 */
#include <pthread.h>

#include "test_util.h"
#include "srv_metrics.h"

static met_registry *make(const char *const *hooks, size_t n, bool process)
{
	met_options o = { .webhooks = hooks,
			  .n_webhooks = n,
			  .version = "0.1.0",
			  .process = process };
	met_registry *reg = NULL;

	assert_int_equal(met_new(&o, &reg), GV_OK);
	assert_non_null(reg);
	return reg;
}

static char *render(const met_registry *reg)
{
	char *text = NULL;
	size_t len = 0;

	assert_int_equal(met_render(reg, &text, &len), GV_OK);
	assert_int_equal(strlen(text), len);
	return text;
}

/* Fails unless text has the line want (whole line). */
static void assert_line(const char *text, const char *want)
{
	const char *p = text;
	size_t n = strlen(want);

	while ((p = strstr(p, want)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return;
		p++;
	}
	print_error("missing line: %s\n", want);
	fail();
}

static const char golden[] =
    "# HELP groved_admission_requests_total Admission reviews answered, by "
    "webhook and outcome.\n"
    "# TYPE groved_admission_requests_total counter\n"
    "groved_admission_requests_total{webhook=\"hook\",outcome=\"allowed\"} 0\n"
    "groved_admission_requests_total{webhook=\"hook\",outcome=\"denied\"} 1\n"
    "groved_admission_requests_total{webhook=\"hook\",outcome=\"patched\"} 0\n"
    "groved_admission_requests_total{webhook=\"hook\",outcome=\"error\"} 0\n"
    "groved_admission_requests_total{webhook=\"hook\",outcome=\"malformed\"} "
    "0\n"
    "# HELP groved_admission_duration_seconds Time to answer an admission "
    "review, by webhook.\n"
    "# TYPE groved_admission_duration_seconds histogram\n"
    "groved_admission_duration_seconds_bucket{webhook=\"hook\",le=\"0.0001\"} "
    "0\n"
    "groved_admission_duration_seconds_bucket{webhook=\"hook\",le=\"0.00025\"} "
    "0\n"
    "groved_admission_duration_seconds_bucket{webhook=\"hook\",le=\"0.0005\"} "
    "1\n"
    "groved_admission_duration_seconds_bucket{webhook=\"hook\",le=\"0.001\"} "
    "1\n"
    "groved_admission_duration_seconds_bucket{webhook=\"hook\",le=\"0.0025\"} "
    "1\n"
    "groved_admission_duration_seconds_bucket{webhook=\"hook\",le=\"0.005\"} "
    "1\n"
    "groved_admission_duration_seconds_bucket{webhook=\"hook\",le=\"0.01\"} 1\n"
    "groved_admission_duration_seconds_bucket{webhook=\"hook\",le=\"0.025\"} "
    "1\n"
    "groved_admission_duration_seconds_bucket{webhook=\"hook\",le=\"0.05\"} 1\n"
    "groved_admission_duration_seconds_bucket{webhook=\"hook\",le=\"0.1\"} 1\n"
    "groved_admission_duration_seconds_bucket{webhook=\"hook\",le=\"0.25\"} 1\n"
    "groved_admission_duration_seconds_bucket{webhook=\"hook\",le=\"1\"} 1\n"
    "groved_admission_duration_seconds_bucket{webhook=\"hook\",le=\"+Inf\"} 1\n"
    "groved_admission_duration_seconds_sum{webhook=\"hook\"} 0.0003\n"
    "groved_admission_duration_seconds_count{webhook=\"hook\"} 1\n"
    "# HELP groved_admission_request_bytes Size of admission review bodies, by "
    "webhook.\n"
    "# TYPE groved_admission_request_bytes histogram\n"
    "groved_admission_request_bytes_bucket{webhook=\"hook\",le=\"1024\"} 0\n"
    "groved_admission_request_bytes_bucket{webhook=\"hook\",le=\"4096\"} 1\n"
    "groved_admission_request_bytes_bucket{webhook=\"hook\",le=\"16384\"} 1\n"
    "groved_admission_request_bytes_bucket{webhook=\"hook\",le=\"65536\"} 1\n"
    "groved_admission_request_bytes_bucket{webhook=\"hook\",le=\"262144\"} 1\n"
    "groved_admission_request_bytes_bucket{webhook=\"hook\",le=\"1048576\"} 1\n"
    "groved_admission_request_bytes_bucket{webhook=\"hook\",le=\"4194304\"} 1\n"
    "groved_admission_request_bytes_bucket{webhook=\"hook\",le=\"8388608\"} 1\n"
    "groved_admission_request_bytes_bucket{webhook=\"hook\",le=\"+Inf\"} 1\n"
    "groved_admission_request_bytes_sum{webhook=\"hook\"} 2000\n"
    "groved_admission_request_bytes_count{webhook=\"hook\"} 1\n"
    "# HELP groved_admission_in_flight_requests Admission requests being "
    "served.\n"
    "# TYPE groved_admission_in_flight_requests gauge\n"
    "groved_admission_in_flight_requests 1\n"
    "# HELP groved_tls_handshake_failures_total TLS handshakes that failed.\n"
    "# TYPE groved_tls_handshake_failures_total counter\n"
    "groved_tls_handshake_failures_total 1\n"
    "# HELP groved_serving_certificate_expiration_timestamp_seconds When the "
    "served certificate expires (0: none loaded yet).\n"
    "# TYPE groved_serving_certificate_expiration_timestamp_seconds gauge\n"
    "groved_serving_certificate_expiration_timestamp_seconds 0\n"
    "# HELP groved_serving_certificate_loads_total Serving certificates "
    "loaded (the first, and every swap).\n"
    "# TYPE groved_serving_certificate_loads_total counter\n"
    "groved_serving_certificate_loads_total 0\n"
    "# HELP groved_certificate_renewals_total Self-managed renewals this "
    "replica made as leader.\n"
    "# TYPE groved_certificate_renewals_total counter\n"
    "groved_certificate_renewals_total{what=\"certificate\"} 0\n"
    "groved_certificate_renewals_total{what=\"ca\"} 0\n"
    "# HELP groved_build_info Always 1; the version label says which groved "
    "runs.\n"
    "# TYPE groved_build_info gauge\n"
    "groved_build_info{version=\"0.1.0\"} 1\n";

static void test_golden(void **state)
{
	static const char *const hooks[] = { "hook" };
	met_registry *reg = make(hooks, 1, false);
	char *text = NULL;

	met_request_begin(reg);
	met_observe(reg, 0, MET_DENIED, 300000, 2000);
	met_tls_failure(reg);
	met_observe(reg, 1, MET_ALLOWED, 1, 1); /* no such webhook: ignored */
	text = render(reg);
	assert_string_equal(text, golden);
	free(text);
	met_request_end(reg);
	text = render(reg);
	assert_line(text, "groved_admission_in_flight_requests 0");
	free(text);
	met_free(reg);
}

static void test_certificates_and_leader(void **state)
{
	static const char *const hooks[] = { "hook" };
	met_registry *reg = make(hooks, 1, false);
	char *text = NULL;

	text = render(reg);
	/* no election: no groved_leader series at all */
	assert_null(strstr(text, "groved_leader"));
	free(text);
	met_cert_loaded(reg, 1795883895);
	met_cert_loaded(reg, 1795883915);
	met_cert_renewed(reg, false);
	met_cert_renewed(reg, false);
	met_cert_renewed(reg, true);
	met_set_leader(reg, true);
	text = render(reg);
	assert_line(text, "groved_serving_certificate_expiration_timestamp_"
			  "seconds 1795883915");
	assert_line(text, "groved_serving_certificate_loads_total 2");
	assert_line(
	    text, "groved_certificate_renewals_total{what=\"certificate\"} 2");
	assert_line(text, "groved_certificate_renewals_total{what=\"ca\"} 1");
	assert_line(text, "# TYPE groved_leader gauge");
	assert_line(text, "groved_leader 1");
	free(text);
	met_set_leader(reg, false);
	text = render(reg);
	assert_line(text, "groved_leader 0");
	free(text);
	met_free(reg);
}

static void test_histogram(void **state)
{
	static const char *const hooks[] = { "a", "b" };
	met_registry *reg = make(hooks, 2, false);
	char *text = NULL;

	met_observe(reg, 1, MET_ALLOWED, 50000, 10); /* 50 us */
	met_observe(reg, 1, MET_PATCHED, 100000, 1024); /* on a bound */
	met_observe(reg, 1, MET_ALLOWED, 300000, 1025); /* 300 us */
	met_observe(reg, 1, MET_ERROR, 2000000000, 9 << 20); /* 2 s */
	text = render(reg);
#define D "groved_admission_duration_seconds"
#define B "groved_admission_request_bytes"
	assert_line(text, D "_bucket{webhook=\"b\",le=\"0.0001\"} 2");
	assert_line(text, D "_bucket{webhook=\"b\",le=\"0.00025\"} 2");
	assert_line(text, D "_bucket{webhook=\"b\",le=\"0.0005\"} 3");
	assert_line(text, D "_bucket{webhook=\"b\",le=\"1\"} 3");
	assert_line(text, D "_bucket{webhook=\"b\",le=\"+Inf\"} 4");
	assert_line(text, D "_sum{webhook=\"b\"} 2.00045");
	assert_line(text, D "_count{webhook=\"b\"} 4");
	assert_line(text, D "_count{webhook=\"a\"} 0");
	assert_line(text, D "_sum{webhook=\"a\"} 0");
	assert_line(text, B "_bucket{webhook=\"b\",le=\"1024\"} 2");
	assert_line(text, B "_bucket{webhook=\"b\",le=\"4096\"} 3");
	assert_line(text, B "_bucket{webhook=\"b\",le=\"8388608\"} 3");
	assert_line(text, B "_bucket{webhook=\"b\",le=\"+Inf\"} 4");
	assert_line(text, B "_sum{webhook=\"b\"} 9439243");
	assert_line(text, "groved_admission_requests_total{webhook=\"b\","
			  "outcome=\"allowed\"} 2");
	assert_line(text, "groved_admission_requests_total{webhook=\"b\","
			  "outcome=\"error\"} 1");
	assert_line(text, "groved_admission_requests_total{webhook=\"a\","
			  "outcome=\"allowed\"} 0");
#undef D
#undef B
	free(text);
	met_free(reg);
}

static void test_escaping(void **state)
{
	static const char *const hooks[] = { "we\"ird\\name\nx" };
	met_options o = { .webhooks = hooks,
			  .n_webhooks = 1,
			  .version = "1.0\"beta\\" };
	met_registry *reg = NULL;
	char *text = NULL;

	assert_int_equal(met_new(&o, &reg), GV_OK);
	text = render(reg);
	assert_line(text, "groved_admission_requests_total{webhook="
			  "\"we\\\"ird\\\\name\\nx\",outcome=\"denied\"} 0");
	assert_line(text, "groved_build_info{version=\"1.0\\\"beta\\\\\"} 1");
	free(text);
	met_free(reg);
}

static void test_process(void **state)
{
	static const char *const hooks[] = { "hook" };
	met_registry *reg = make(hooks, 1, true);
	char *text = render(reg);

	assert_non_null(strstr(text, "\nprocess_resident_memory_bytes "));
	assert_non_null(strstr(text, "\nprocess_start_time_seconds "));
	assert_non_null(strstr(text, "\nprocess_cpu_seconds_total "));
	assert_non_null(strstr(text, "# TYPE process_cpu_seconds_total "
				     "counter\n"));
	free(text);
	met_free(reg);
}

static void test_bad_options(void **state)
{
	static const char *const holes[] = { "a", NULL };
	met_options o = { .webhooks = holes, .n_webhooks = 0 };
	met_registry *reg = NULL;

	assert_int_equal(met_new(&o, &reg), GV_EINVAL);
	o.n_webhooks = 2;
	assert_int_equal(met_new(&o, &reg), GV_EINVAL);
	assert_int_equal(met_new(NULL, &reg), GV_EINVAL);
	assert_null(reg);
	met_free(NULL);
}

#define THREADS 8
#define PER_THREAD 100000

static void *observe_many(void *arg)
{
	met_registry *reg = arg;
	int i = 0;

	for (i = 0; i < PER_THREAD; i++) {
		met_request_begin(reg);
		met_observe(reg, (size_t)(i % 2), MET_ALLOWED,
			    (uint64_t)(i % 4) * 100000, 1000);
		met_request_end(reg);
	}
	met_tls_failure(reg);
	return NULL;
}

static void test_threads(void **state)
{
	static const char *const hooks[] = { "a", "b" };
	met_registry *reg = make(hooks, 2, false);
	pthread_t tids[THREADS];
	char want[256];
	char *text = NULL;
	size_t i = 0;

	for (i = 0; i < THREADS; i++)
		assert_int_equal(
		    pthread_create(&tids[i], NULL, observe_many, reg), 0);
	for (i = 0; i < THREADS; i++)
		pthread_join(tids[i], NULL);
	text = render(reg);
	snprintf(want, sizeof(want),
		 "groved_admission_requests_total{webhook=\"a\","
		 "outcome=\"allowed\"} %d",
		 THREADS * PER_THREAD / 2);
	assert_line(text, want);
	snprintf(want, sizeof(want),
		 "groved_admission_duration_seconds_count{webhook=\"b\"} %d",
		 THREADS * PER_THREAD / 2);
	assert_line(text, want);
	/* a: i % 4 in {0, 2}: 0 s and 200 us; half of each */
	snprintf(want, sizeof(want),
		 "groved_admission_duration_seconds_bucket{webhook=\"a\","
		 "le=\"0.0001\"} %d",
		 THREADS * PER_THREAD / 4);
	assert_line(text, want);
	snprintf(want, sizeof(want),
		 "groved_admission_duration_seconds_sum{webhook=\"a\"} %d",
		 THREADS * PER_THREAD / 4 / 5000);
	assert_line(text, want);
	snprintf(want, sizeof(want),
		 "groved_admission_request_bytes_sum{webhook=\"b\"} %d",
		 THREADS * PER_THREAD / 2 * 1000);
	assert_line(text, want);
	assert_line(text, "groved_admission_in_flight_requests 0");
	assert_line(text, "groved_tls_handshake_failures_total 8");
	free(text);
	met_free(reg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_certificates_and_leader),
		cmocka_unit_test(test_histogram),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_process),
		cmocka_unit_test(test_bad_options),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
