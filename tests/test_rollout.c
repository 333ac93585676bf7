/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_rollout.c: rec_roll_decide, one component's rollout decision
 * (reconcile/rec_rollout.h's contract; docs/reconcile.md, "Rollouts").
 *
 * A component is written as a string, one character an item:
 *   O outdated, available          o outdated, not available
 *   N current, available           n current, not available
 *   g outdated, going (terminating, so not available)
 *   h current, going
 *   k outdated, available, going (a unit: one pod terminating, its
 *     PodCliques still within minAvailable)
 *   j current, available, going (the same, on the current template)
 *   s outdated, available, a replacement beside it not Ready yet
 *   S outdated, available, its replacement Ready
 *   T outdated, going, its replacement Ready (retired last round)
 *   u outdated, not available, a replacement beside it not Ready yet
 *   z outdated, available, its replacement stalled (progressDeadline)
 *   x current, not available, stalled (progressDeadline)
 *   w current, available, stalled (a unit still within minAvailable)
 *   B outdated, available, base unit   b outdated, not available, base
 *   P current, available, base unit
 * and the decision one character an item:
 *   - keep   r recreate   s surge   t retire
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../reconcile/rec_rollout.h"

#define MAX_ITEMS 32

static rec_roll_item items[MAX_ITEMS];
static char acts[MAX_ITEMS + 1];

static size_t build(const char *spec)
{
	size_t n = strlen(spec);
	size_t x = 0;

	assert_true(n <= MAX_ITEMS);
	memset(items, 0, sizeof(items));
	for (x = 0; x < n; x++) {
		rec_roll_item *it = &items[x];

		switch (spec[x]) {
		case 'O':
			it->outdated = it->available = true;
			break;
		case 'o':
			it->outdated = true;
			break;
		case 'N':
			it->available = true;
			break;
		case 'n':
			break;
		case 'g':
			it->outdated = it->going = true;
			break;
		case 'h':
			it->going = true;
			break;
		case 'k':
			it->outdated = it->available = it->going = true;
			break;
		case 'j':
			it->available = it->going = true;
			break;
		case 's':
			it->outdated = it->available = it->surged = true;
			break;
		case 'S':
			it->outdated = it->available = it->surged = true;
			it->surge_ready = true;
			break;
		case 'T':
			it->outdated = it->going = it->surged = true;
			it->surge_ready = true;
			break;
		case 'u':
			it->outdated = it->surged = true;
			break;
		case 'z':
			it->outdated = it->available = it->surged = true;
			it->stalled = true;
			break;
		case 'x':
			it->stalled = true;
			break;
		case 'w':
			it->available = it->stalled = true;
			break;
		case 'B':
			it->outdated = it->available = it->base = true;
			break;
		case 'b':
			it->outdated = it->base = true;
			break;
		case 'P':
			it->available = it->base = true;
			break;
		default:
			fail_msg("unknown item '%c' in \"%s\"", spec[x], spec);
		}
	}
	return n;
}

static const char *act_string(size_t n)
{
	size_t x = 0;

	for (x = 0; x < n; x++) {
		switch (items[x].act) {
		case REC_ROLL_KEEP:
			acts[x] = '-';
			break;
		case REC_ROLL_RECREATE:
			acts[x] = 'r';
			break;
		case REC_ROLL_SURGE:
			acts[x] = 's';
			break;
		case REC_ROLL_RETIRE:
			acts[x] = 't';
			break;
		default:
			acts[x] = '?';
		}
	}
	acts[n] = '\0';
	return acts;
}

/* Decides spec under (m, u, s, turn); returns the decision string. *r is
 * filled with garbage first so that every field must be written. */
static const char *decide(const char *spec, int64_t m, int64_t u, int64_t s,
			  bool turn, rec_roll_result *r)
{
	rec_roll_budget b = { .min_available = m,
			      .max_unavailable = u,
			      .max_surge = s,
			      .turn = turn };
	size_t n = build(spec);

	memset(r, 0xa5, sizeof(*r));
	rec_roll_decide(&b, items, n, r);
	return act_string(n);
}

struct room_case {
	const char *spec;
	int64_t m;
	int64_t u;
	const char *want;
	size_t unavailable;
};

/* room = min(maxUnavailable - unavailable, available - minAvailable),
 * taken lowest index first. */
static void room_is_min_of_both(void **state)
{
	static const struct room_case cases[] = {
		/* by maxUnavailable: min(2, 5) */
		{ "OOOOO", 0, 2, "rr---", 0 },
		/* by minAvailable: min(3, 5 - 4) */
		{ "OOOOO", 4, 3, "r----", 0 },
		/* min(10, 5 - 2) */
		{ "OOOOO", 2, 10, "rrr--", 0 },
		{ "OOOOO", 0, 5, "rrrrr", 0 },
		/* an unavailable current item uses budget: min(3 - 1, 5 - 2) */
		{ "nOOOOO", 2, 3, "-rr---", 1 },
		/* min(2 - 2, 4 - 3): nothing */
		{ "nnOOOO", 3, 2, "------", 2 },
		/* min(5 - 2, 4 - 3) */
		{ "nnOOOO", 3, 5, "--r---", 2 },
		/* min(4 - 2, 4 - 1) */
		{ "nnOOOO", 1, 4, "--rr--", 2 },
		/* already below minAvailable: min(4 - 2, 2 - 3) */
		{ "nnOO", 3, 4, "----", 2 },
		/* current items are never taken: min(2, 6 - 2) */
		{ "NONONO", 2, 2, "-r-r--", 0 },
		/* min(3, 6 - 5) */
		{ "NNNOOO", 5, 3, "---r--", 0 },
		/* room beyond the outdated items takes only those */
		{ "NON", 0, 3, "-r-", 0 },
		/* maxUnavailable 0 (without maxSurge): nothing */
		{ "OOOO", 0, 0, "----", 0 },
		/* an outdated unavailable item goes for free and uses budget:
		 * min(2 - 1, 4 - 1) */
		{ "oOOOO", 1, 2, "rr---", 1 },
		/* min(2 - 2, 3 - 1): only the free ones */
		{ "ooOOO", 1, 2, "rr---", 2 },
		/* min(4 - 2, 3 - 1): two more */
		{ "ooOOO", 1, 4, "rrrr-", 2 },
		/* a going item is unavailable: min(2 - 1, 3 - 0) */
		{ "gOOO", 0, 2, "-r--", 1 },
	};
	size_t c = 0;

	(void)state;
	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		const struct room_case *k = &cases[c];
		rec_roll_result r;
		const char *got = decide(k->spec, k->m, k->u, 0, true, &r);
		size_t want_acted = strlen(k->want);
		size_t x = 0;

		for (x = 0; k->want[x]; x++) {
			if (k->want[x] == '-')
				want_acted--;
		}
		if (strcmp(got, k->want) != 0)
			fail_msg(
			    "\"%s\" M=%lld U=%lld: want \"%s\", got \"%s\"",
			    k->spec, (long long)k->m, (long long)k->u, k->want,
			    got);
		assert_int_equal(r.acted, want_acted);
		assert_int_equal(r.unavailable, k->unavailable);
		assert_false(r.held);
		assert_false(r.below_min);
		assert_true(r.unfinished);
	}
}

/* An outdated item that is not available serves nothing: recreated at
 * once, whatever the turn, the hold or the budget. */
static void unavailable_outdated_free(void **state)
{
	rec_roll_result r;

	(void)state;
	/* without the turn: only the unavailable outdated ones */
	assert_string_equal(decide("oOnoN", 0, 5, 0, false, &r), "r--r-");
	assert_int_equal(r.acted, 2);
	assert_int_equal(r.unavailable, 3);
	assert_int_equal(r.outdated, 3);
	/* held by a stalled item: the same */
	assert_string_equal(decide("oOxo", 0, 5, 0, true, &r), "r--r");
	assert_true(r.held);
	assert_int_equal(r.acted, 2);
	/* beyond the budget: min(1 - 2, 2 - 2) */
	assert_string_equal(decide("ooOO", 2, 1, 0, true, &r), "rr--");
	assert_int_equal(r.acted, 2);
	/* a base unit too, before the others */
	assert_string_equal(decide("bBO", 0, 0, 0, false, &r), "r--");
	/* with minAvailable equal to the items */
	assert_string_equal(decide("oOO", 3, 1, 0, true, &r), "r--");
	assert_false(r.below_min);
	/* a current unavailable item is not outdated: kept */
	assert_string_equal(decide("nnn", 0, 5, 0, true, &r), "---");
	assert_int_equal(r.acted, 0);
}

/* Without the turn (an earlier component is unfinished): no budgeted
 * work of any kind. */
static void no_budget_without_turn(void **state)
{
	rec_roll_result r;

	(void)state;
	assert_string_equal(decide("OOOO", 0, 4, 0, false, &r), "----");
	assert_int_equal(r.acted, 0);
	assert_int_equal(r.outdated, 4);
	assert_true(r.unfinished);
	/* no surge */
	assert_string_equal(decide("OOOO", 4, 1, 2, false, &r), "----");
	assert_int_equal(r.acted, 0);
	/* no one-at-a-time allowance */
	assert_string_equal(decide("OOO", 3, 1, 0, false, &r), "---");
	assert_false(r.below_min);
	/* no base unit */
	assert_string_equal(decide("BB", 0, 2, 0, false, &r), "--");
	/* the same inputs with the turn do act (so the above is the turn) */
	assert_string_equal(decide("OOOO", 0, 4, 0, true, &r), "rrrr");
	assert_string_equal(decide("OOOO", 4, 1, 2, true, &r), "ss--");
	assert_string_equal(decide("OOO", 3, 1, 0, true, &r), "r--");
}

/* A stalled item (progressDeadline) holds: no budgeted work, but the
 * free recreations and retirements go on. */
static void held_stops_budget(void **state)
{
	rec_roll_result r;

	(void)state;
	/* the same component, unheld, takes three */
	assert_string_equal(decide("nOOOO", 0, 4, 0, true, &r), "-rrr-");
	assert_false(r.held);
	assert_string_equal(decide("xOOOO", 0, 4, 0, true, &r), "-----");
	assert_true(r.held);
	assert_int_equal(r.acted, 0);
	assert_true(r.unfinished);
	/* free recreation and retirement still, no surge, no recreation */
	assert_string_equal(decide("xoSOs", 0, 5, 2, true, &r), "-rt--");
	assert_true(r.held);
	assert_int_equal(r.acted, 2);
	/* held blocks surges: unheld, two surges */
	assert_string_equal(decide("nOO", 0, 0, 2, true, &r), "-ss");
	assert_string_equal(decide("xOO", 0, 0, 2, true, &r), "---");
	assert_true(r.held);
	/* a stalled replacement (maxSurge) holds */
	assert_string_equal(decide("zOO", 0, 3, 2, true, &r), "---");
	assert_true(r.held);
	/* a stalled pod in an available unit holds; no one-at-a-time */
	assert_string_equal(decide("wOO", 3, 1, 0, true, &r), "---");
	assert_true(r.held);
	assert_false(r.below_min);
	/* a stalled item anywhere in the component holds */
	assert_string_equal(decide("OOx", 0, 3, 0, true, &r), "---");
	assert_true(r.held);
}

/* minAvailable >= items, no maxSurge: one item at a time, only when
 * every item is available, said in below_min. */
static void below_min_one_at_a_time(void **state)
{
	rec_roll_result r;

	(void)state;
	assert_string_equal(decide("OOO", 3, 1, 0, true, &r), "r--");
	assert_true(r.below_min);
	assert_int_equal(r.acted, 1);
	assert_int_equal(r.unavailable, 0);
	assert_string_equal(decide("NON", 3, 1, 0, true, &r), "-r-");
	assert_true(r.below_min);
	/* minAvailable above the items */
	assert_string_equal(decide("OO", 5, 1, 0, true, &r), "r-");
	assert_true(r.below_min);
	/* one at a time even with maxUnavailable 2 */
	assert_string_equal(decide("OOO", 3, 2, 0, true, &r), "r--");
	assert_true(r.below_min);
	assert_int_equal(r.acted, 1);
	/* a single item */
	assert_string_equal(decide("O", 1, 1, 0, true, &r), "r");
	assert_true(r.below_min);
	/* base units last here too */
	assert_string_equal(decide("BO", 2, 1, 0, true, &r), "-r");
	assert_true(r.below_min);
	/* something unavailable: nothing more */
	assert_string_equal(decide("nOO", 3, 1, 0, true, &r), "---");
	assert_false(r.below_min);
	assert_int_equal(r.acted, 0);
	/* the previous one still going: wait for it */
	assert_string_equal(decide("gOO", 3, 1, 0, true, &r), "---");
	assert_false(r.below_min);
	assert_string_equal(decide("hOO", 3, 1, 0, true, &r), "---");
	assert_false(r.below_min);
	/* an outdated unavailable one: free, but nothing more */
	assert_string_equal(decide("oOO", 3, 1, 0, true, &r), "r--");
	assert_false(r.below_min);
	assert_int_equal(r.acted, 1);
	/* never with maxSurge: a surge instead */
	assert_string_equal(decide("OOO", 3, 1, 1, true, &r), "s--");
	assert_false(r.below_min);
	/* maxSurge with its replacement in flight: nothing, still not */
	assert_string_equal(decide("sOO", 3, 1, 1, true, &r), "---");
	assert_false(r.below_min);
	/* never with maxUnavailable 0 */
	assert_string_equal(decide("OOO", 3, 0, 0, true, &r), "---");
	assert_false(r.below_min);
	assert_int_equal(r.acted, 0);
	assert_string_equal(decide("OOO", 3, 0, 1, true, &r), "s--");
	assert_false(r.below_min);
	/* nothing outdated: nothing taken, not said */
	assert_string_equal(decide("NNN", 3, 1, 0, true, &r), "---");
	assert_false(r.below_min);
	assert_false(r.unfinished);
	/* minAvailable below the items is the ordinary budget, not said */
	assert_string_equal(decide("OOOO", 3, 1, 0, true, &r), "r---");
	assert_false(r.below_min);
	/* one below the items, one unavailable: min(1 - 1, 3 - 3) */
	assert_string_equal(decide("nOOO", 3, 1, 0, true, &r), "----");
	assert_false(r.below_min);
}

/* maxSurge: replacements first, up to maxSurge in flight; a Ready
 * replacement retires its old item. */
static void surge_first(void **state)
{
	rec_roll_result r;

	(void)state;
	assert_string_equal(decide("OOOO", 4, 1, 2, true, &r), "ss--");
	assert_int_equal(r.acted, 2);
	assert_false(r.below_min);
	/* a replacement not Ready counts as in flight */
	assert_string_equal(decide("sOOO", 4, 1, 2, true, &r), "-s--");
	assert_int_equal(r.acted, 1);
	assert_string_equal(decide("ssOO", 4, 1, 2, true, &r), "----");
	assert_int_equal(r.acted, 0);
	assert_true(r.unfinished);
	assert_string_equal(decide("Os", 2, 1, 1, true, &r), "--");
	/* a Ready one is not in flight: retired, and the next surges */
	assert_string_equal(decide("SOO", 3, 1, 1, true, &r), "ts-");
	assert_int_equal(r.acted, 2);
	assert_string_equal(decide("SsO", 3, 1, 1, true, &r), "t--");
	/* retirement needs neither the turn nor the absence of a hold */
	assert_string_equal(decide("SOO", 3, 1, 1, false, &r), "t--");
	assert_string_equal(decide("SOw", 3, 1, 1, true, &r), "t--");
	assert_true(r.held);
	/* a retired old pod, going: not again; a surge for the next */
	assert_string_equal(decide("TOO", 3, 1, 1, true, &r), "-s-");
	assert_int_equal(r.acted, 1);
	/* the last one retired: nothing left but the going one */
	assert_string_equal(decide("NNT", 3, 1, 1, true, &r), "---");
	assert_true(r.unfinished);
	assert_string_equal(decide("NNN", 3, 1, 1, true, &r), "---");
	assert_false(r.unfinished);
	/* an unavailable item is recreated, not surged */
	assert_string_equal(decide("oOO", 3, 1, 1, true, &r), "rs-");
	/* surges never go to current items */
	assert_string_equal(decide("NNO", 3, 1, 2, true, &r), "--s");
	/* maxSurge 0 with maxUnavailable 0: nothing */
	assert_string_equal(decide("OO", 2, 0, 0, true, &r), "--");
}

/* With room as well, surge and recreate together: the surged ones are
 * not recreated, the others are within the room. */
static void surge_and_recreate(void **state)
{
	rec_roll_result r;

	(void)state;
	/* one surge, then min(1 - 0, 4 - 2) */
	assert_string_equal(decide("OOOO", 2, 1, 1, true, &r), "sr--");
	assert_int_equal(r.acted, 2);
	/* two surges, then min(2 - 0, 5 - 1) */
	assert_string_equal(decide("OOOOO", 1, 2, 2, true, &r), "ssrr-");
	assert_int_equal(r.acted, 4);
	/* one in flight fills maxSurge; its item is not recreated:
	 * min(2, 4 - 0) */
	assert_string_equal(decide("sOOO", 0, 2, 1, true, &r), "-rr-");
	assert_int_equal(r.acted, 2);
	/* free, retire, surge and recreate in one round:
	 * min(2 - 1, 4 - 0) */
	assert_string_equal(decide("oSOOO", 0, 2, 1, true, &r), "rtsr-");
	assert_int_equal(r.acted, 4);
	assert_int_equal(r.unavailable, 1);
	assert_int_equal(r.outdated, 5);
}

/* Base units after the others (scaled units first). */
static void base_units_last(void **state)
{
	rec_roll_result r;

	(void)state;
	assert_string_equal(decide("BBOO", 0, 2, 0, true, &r), "--rr");
	assert_string_equal(decide("BBOO", 0, 3, 0, true, &r), "r-rr");
	assert_string_equal(decide("BOBO", 0, 3, 0, true, &r), "rr-r");
	assert_string_equal(decide("BBOO", 0, 4, 0, true, &r), "rrrr");
	/* the scaled ones done: the base ones, lowest first */
	assert_string_equal(decide("BBNN", 2, 1, 0, true, &r), "r---");
	assert_string_equal(decide("PBNN", 2, 1, 0, true, &r), "-r--");
	/* a base unit waits while a scaled one is taken */
	assert_string_equal(decide("BNNO", 3, 1, 0, true, &r), "---r");
	/* an unavailable base unit goes for free, the budget takes the
	 * scaled one: min(2 - 1, 2 - 0) */
	assert_string_equal(decide("bBO", 0, 2, 0, true, &r), "r-r");
	assert_int_equal(r.acted, 2);
	/* all base, room 2 */
	assert_string_equal(decide("BBB", 1, 2, 0, true, &r), "rr-");
}

/* A going item (a pod terminating) is never acted on again. */
static void going_never_again(void **state)
{
	rec_roll_result r;

	(void)state;
	assert_string_equal(decide("gggg", 0, 4, 2, true, &r), "----");
	assert_int_equal(r.acted, 0);
	assert_int_equal(r.outdated, 4);
	assert_int_equal(r.unavailable, 4);
	assert_true(r.unfinished);
	/* not even when its replacement is Ready */
	assert_string_equal(decide("TT", 0, 2, 2, true, &r), "--");
	assert_int_equal(r.acted, 0);
	/* nor without the turn */
	assert_string_equal(decide("gO", 0, 2, 0, false, &r), "--");
	/* a going current item: not outdated, yet unfinished */
	assert_string_equal(decide("hN", 0, 2, 0, true, &r), "--");
	assert_int_equal(r.outdated, 0);
	assert_true(r.unfinished);
	/* a going unit whose other pods still hold minAvailable counts as
	 * unavailable (it is being replaced): min(2 - 1, 2 - 0) */
	assert_string_equal(decide("kOO", 0, 2, 0, true, &r), "-r-");
	assert_int_equal(r.unavailable, 1);
	assert_int_equal(r.acted, 1);
	assert_string_equal(decide("kOO", 3, 1, 1, true, &r), "-s-");
	/* ... so the one-at-a-time allowance waits for it */
	assert_string_equal(decide("kOO", 3, 1, 0, true, &r), "---");
	assert_false(r.below_min);
	/* ... and unfinished while it goes, outdated or not */
	assert_string_equal(decide("Nj", 0, 2, 0, true, &r), "--");
	assert_int_equal(r.outdated, 0);
	assert_int_equal(r.unavailable, 1);
	assert_true(r.unfinished);
}

/*
 * An outdated item that is not available while its replacement is in
 * flight (surged, not Ready) is kept, not recreated (the header says so):
 * recreating it would make a second current pod for the same index
 * beside the replacement; the old one is retired once that is Ready.
 */
static void surged_unavailable_waits(void **state)
{
	rec_roll_result r;

	(void)state;
	assert_string_equal(decide("uOO", 3, 1, 1, true, &r), "---");
	assert_int_equal(r.acted, 0);
	assert_int_equal(r.unavailable, 1);
	assert_true(r.unfinished);
	assert_string_equal(decide("uO", 0, 2, 1, false, &r), "--");
	/* still in flight: a second surge only with maxSurge 2 */
	assert_string_equal(decide("uOO", 3, 1, 2, true, &r), "-s-");
}

/* The counts: outdated (going or not), unavailable, acted, unfinished. */
static void counts(void **state)
{
	rec_roll_result r;

	(void)state;
	decide("gOoNn", 0, 0, 0, false, &r);
	assert_int_equal(r.outdated, 3);
	assert_int_equal(r.unavailable, 3);
	assert_int_equal(r.acted, 1);
	assert_true(r.unfinished);
	assert_false(r.held);
	assert_false(r.below_min);
	/* done: everything current and available */
	assert_string_equal(decide("NNN", 1, 1, 0, true, &r), "---");
	assert_int_equal(r.outdated, 0);
	assert_int_equal(r.unavailable, 0);
	assert_int_equal(r.acted, 0);
	assert_false(r.unfinished);
	assert_false(r.held);
	assert_false(r.below_min);
	assert_string_equal(decide("PPN", 1, 1, 0, true, &r), "---");
	assert_false(r.unfinished);
	/* a current item not available: unfinished, nothing outdated */
	assert_string_equal(decide("NnN", 1, 1, 0, true, &r), "---");
	assert_int_equal(r.outdated, 0);
	assert_int_equal(r.unavailable, 1);
	assert_true(r.unfinished);
	/* only one outdated: unfinished */
	decide("NNO", 1, 1, 0, false, &r);
	assert_int_equal(r.outdated, 1);
	assert_true(r.unfinished);
	/* every kind of act counted */
	assert_string_equal(decide("oSOOON", 0, 2, 1, true, &r), "rtsr--");
	assert_int_equal(r.acted, 4);
	assert_int_equal(r.outdated, 5);
	/* a stalled current item, nothing outdated: held, and unfinished
	 * since it is not available */
	decide("Nx", 0, 1, 0, true, &r);
	assert_true(r.held);
	assert_true(r.unfinished);
	assert_int_equal(r.outdated, 0);
}

/* Pure: the items' previous acts do not matter, the same items give
 * the same answer. */
static void pure(void **state)
{
	rec_roll_budget b = { .min_available = 1,
			      .max_unavailable = 2,
			      .max_surge = 1,
			      .turn = true };
	rec_roll_result r1;
	rec_roll_result r2;
	size_t n = 0;
	size_t x = 0;

	(void)state;
	n = build("oSOOONB");
	for (x = 0; x < n; x++)
		items[x].act = REC_ROLL_SURGE;
	rec_roll_decide(&b, items, n, &r1);
	assert_string_equal(act_string(n), "rtsr---");
	rec_roll_decide(&b, items, n, &r2);
	assert_string_equal(act_string(n), "rtsr---");
	assert_int_equal(r1.acted, r2.acted);
	assert_int_equal(r1.outdated, r2.outdated);
	assert_int_equal(r1.unavailable, r2.unavailable);
	assert_int_equal(r1.unfinished, r2.unfinished);
	/* a stale RECREATE on a current item is cleared */
	n = build("NO");
	items[0].act = REC_ROLL_RECREATE;
	items[1].act = REC_ROLL_RETIRE;
	b.max_surge = 0;
	b.min_available = 0;
	rec_roll_decide(&b, items, n, &r1);
	assert_string_equal(act_string(n), "-r");
	assert_int_equal(r1.acted, 1);
}

/* No items: nothing to do, nothing said, done. */
static void no_items(void **state)
{
	rec_roll_budget b = { .min_available = 1,
			      .max_unavailable = 1,
			      .max_surge = 0,
			      .turn = true };
	rec_roll_result r;

	(void)state;
	memset(&r, 0xa5, sizeof(r));
	rec_roll_decide(&b, NULL, 0, &r);
	assert_int_equal(r.outdated, 0);
	assert_int_equal(r.unavailable, 0);
	assert_int_equal(r.acted, 0);
	assert_false(r.held);
	assert_false(r.below_min);
	assert_false(r.unfinished);
	b.max_surge = 2;
	b.min_available = 0;
	memset(&r, 0xa5, sizeof(r));
	rec_roll_decide(&b, items, 0, &r);
	assert_int_equal(r.acted, 0);
	assert_false(r.below_min);
	assert_false(r.unfinished);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(room_is_min_of_both),
		cmocka_unit_test(unavailable_outdated_free),
		cmocka_unit_test(no_budget_without_turn),
		cmocka_unit_test(held_stops_budget),
		cmocka_unit_test(below_min_one_at_a_time),
		cmocka_unit_test(surge_first),
		cmocka_unit_test(surge_and_recreate),
		cmocka_unit_test(base_units_last),
		cmocka_unit_test(going_never_again),
		cmocka_unit_test(surged_unavailable_waits),
		cmocka_unit_test(counts),
		cmocka_unit_test(pure),
		cmocka_unit_test(no_items),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
