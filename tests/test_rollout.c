/* SPDX-License-Identifier: Apache-2.0 */
/* test_rollout.c: rec_rollout.c's decision (helper "rolltest" fills it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../reconcile/rec_rollout.h"

static void one_at_a_time(void **state)
{
	rec_roll_item items[3] = { { .outdated = true, .available = true },
				   { .outdated = true, .available = true },
				   { .outdated = true, .available = true } };
	rec_roll_budget b = { .min_available = 2,
			      .max_unavailable = 1,
			      .turn = true };
	rec_roll_result r;

	(void)state;
	rec_roll_decide(&b, items, 3, &r);
	assert_int_equal(items[0].act, REC_ROLL_RECREATE);
	assert_int_equal(items[1].act, REC_ROLL_KEEP);
	assert_int_equal(r.acted, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(one_at_a_time),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
