/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_names.c: the name rules and text helpers of policy/pol_names.c.
 * They are internal, so this test includes the private header.
 */
#include "test_util.h"

#include "../policy/pol_int.h"

static void test_dns_label(void **state)
{
	gv_error_t err;
	char long_name[80];

	(void)state;
	assert_int_equal(pol_check_dns_label("a", &err), GV_OK);
	assert_int_equal(pol_check_dns_label("prefill-clique", &err), GV_OK);
	assert_int_equal(pol_check_dns_label("0abc9", &err), GV_OK);
	assert_int_equal(pol_check_dns_label("", &err), GV_EINVAL);
	assert_string_equal(err.text, "must not be empty");
	assert_int_equal(pol_check_dns_label("-a", &err), GV_EINVAL);
	assert_non_null(strstr(err.text, "'-' at position 1"));
	assert_int_equal(pol_check_dns_label("a-", &err), GV_EINVAL);
	assert_non_null(strstr(err.text, "'-' at position 2"));
	assert_int_equal(pol_check_dns_label("Prefill", &err), GV_EINVAL);
	assert_non_null(strstr(err.text, "'P' at position 1"));
	assert_int_equal(pol_check_dns_label("a.b", &err), GV_EINVAL);
	assert_non_null(strstr(err.text, "'.' at position 2"));
	assert_int_equal(pol_check_dns_label("a\x01", &err), GV_EINVAL);
	assert_non_null(strstr(err.text, "byte 0x01 at position 2"));
	memset(long_name, 'a', 63);
	long_name[63] = '\0';
	assert_int_equal(pol_check_dns_label(long_name, &err), GV_OK);
	long_name[63] = 'a';
	long_name[64] = '\0';
	assert_int_equal(pol_check_dns_label(long_name, &err), GV_EINVAL);
	assert_non_null(strstr(err.text, "no more than 63"));
}

static void test_qualified_name(void **state)
{
	gv_error_t err;

	(void)state;
	assert_int_equal(
	    pol_check_qualified_name("kubernetes.io/hostname", &err), GV_OK);
	assert_int_equal(pol_check_qualified_name("rack", &err), GV_OK);
	assert_int_equal(pol_check_qualified_name("Rack_1.x", &err), GV_OK);
	assert_int_equal(pol_check_qualified_name("/rack", &err), GV_EINVAL);
	assert_int_equal(pol_check_qualified_name("Example.com/rack", &err),
			 GV_EINVAL);
	assert_int_equal(pol_check_qualified_name("example.com/", &err),
			 GV_EINVAL);
	assert_int_equal(pol_check_qualified_name("example.com/-rack", &err),
			 GV_EINVAL);
	assert_non_null(strstr(err.text, "at position 13"));
}

static void test_env_name(void **state)
{
	gv_error_t err;

	(void)state;
	assert_int_equal(pol_check_env_name("GROVE_PCS_NAME", &err), GV_OK);
	/* Kubernetes 1.32+ accepts any printable ASCII except '=' */
	assert_int_equal(pol_check_env_name("1.weird-name with space", &err),
			 GV_OK);
	assert_int_equal(pol_check_env_name("A=B", &err), GV_EINVAL);
	assert_non_null(strstr(err.text, "'=' at position 2"));
	assert_int_equal(pol_check_env_name("tab\there", &err), GV_EINVAL);
	assert_int_equal(pol_check_env_name("caf\xc3\xa9", &err), GV_EINVAL);
	assert_int_equal(pol_check_env_name("", &err), GV_EINVAL);
}

static void test_did_you_mean(void **state)
{
	const char *const keys[] = { "startsAfter", "replicas", "minAvailable",
				     "containers", NULL };

	(void)state;
	assert_string_equal(pol_did_you_mean("startAfter", keys),
			    "startsAfter");
	assert_string_equal(pol_did_you_mean("replica", keys), "replicas");
	assert_string_equal(pol_did_you_mean("MinAvailable", keys),
			    "minAvailable");
	assert_string_equal(pol_did_you_mean("container", keys), "containers");
	assert_null(pol_did_you_mean("image", keys));
	assert_null(pol_did_you_mean("x", keys));
	assert_int_equal(pol_edit_distance("kitten", "sitting", 5), 3);
	assert_int_equal(pol_edit_distance("kitten", "sitting", 2), 3);
}

static void test_duration(void **state)
{
	double s = -1;

	(void)state;
	assert_true(pol_parse_duration("4h", &s));
	assert_true(s == 14400);
	assert_true(pol_parse_duration("1h30m", &s));
	assert_true(s == 5400);
	assert_true(pol_parse_duration("1.5s", &s));
	assert_true(s == 1.5);
	assert_true(pol_parse_duration("300ms", &s));
	assert_true(s > 0.29 && s < 0.31);
	assert_true(pol_parse_duration("0", &s));
	assert_true(s == 0);
	assert_true(pol_parse_duration("-1m", &s));
	assert_true(s == -60);
	assert_false(pol_parse_duration("", &s));
	assert_false(pol_parse_duration("4", &s));
	assert_false(pol_parse_duration("h", &s));
	assert_false(pol_parse_duration("4 h", &s));
	assert_false(pol_parse_duration("4d", &s));
	assert_false(pol_parse_duration("four hours", &s));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dns_label),
		cmocka_unit_test(test_qualified_name),
		cmocka_unit_test(test_env_name),
		cmocka_unit_test(test_did_you_mean),
		cmocka_unit_test(test_duration),
	};

	return cmocka_run_group_tests_name("names", tests, NULL, NULL);
}
