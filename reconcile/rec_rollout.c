/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rec_rollout.c: how many pods or units of one component a rollout may
 * take down this round, and which (docs/reconcile.md, "Rollouts").
 */
#include <string.h>

#include "rec_rollout.h"

/* An outdated item the budget may take: available (the unavailable
 * ones go for free), not already going, not already surged. */
static bool candidate(const rec_roll_item *it)
{
	return it->outdated && it->available && !it->going && !it->surged &&
	       it->act == REC_ROLL_KEEP;
}

/* The next candidate in the order: the items other than base units in
 * array order, then the base units. *pos walks both passes (0..2n). */
static rec_roll_item *next_candidate(rec_roll_item *items, size_t n,
				     size_t *pos)
{
	while (*pos < 2 * n) {
		size_t x = *pos < n ? *pos : *pos - n;
		bool base_pass = *pos >= n;

		(*pos)++;
		if (items[x].base == base_pass && candidate(&items[x]))
			return &items[x];
	}
	return NULL;
}

void rec_roll_decide(const rec_roll_budget *b, rec_roll_item *items, size_t n,
		     rec_roll_result *out)
{
	int64_t available = 0;
	int64_t unavailable = 0;
	int64_t in_flight = 0; /* replacements not Ready yet */
	int64_t room = 0;
	rec_roll_item *it = NULL;
	size_t pos = 0;
	size_t x = 0;

	memset(out, 0, sizeof(*out));
	for (x = 0; x < n; x++) {
		items[x].act = REC_ROLL_KEEP;
		if (items[x].outdated)
			out->outdated++;
		/* a going item counts as unavailable even while its unit's
		 * other pods hold minAvailable: it is being replaced, and
		 * the next one waits for it */
		if (items[x].available && !items[x].going)
			available++;
		else
			unavailable++;
		if (items[x].stalled)
			out->held = true;
		if (items[x].surged && !items[x].surge_ready)
			in_flight++;
		if (items[x].outdated || !items[x].available ||
		    items[x].going || items[x].surged)
			out->unfinished = true;
	}
	out->unavailable = (size_t)unavailable;
	/* what costs no availability: a Ready replacement's old pod, and
	 * whatever serves nothing already */
	for (x = 0; x < n; x++) {
		rec_roll_item *i = &items[x];

		if (!i->outdated || i->going)
			continue;
		if (i->surged && i->surge_ready)
			i->act = REC_ROLL_RETIRE;
		else if (!i->available && !i->surged)
			i->act = REC_ROLL_RECREATE;
	}
	if (b->turn && !out->held) {
		/* replacements first: they cost no availability */
		while (in_flight < b->max_surge &&
		       (it = next_candidate(items, n, &pos)) != NULL) {
			it->act = REC_ROLL_SURGE;
			in_flight++;
		}
		pos = 0;
		room = b->max_unavailable - unavailable;
		if (available - b->min_available < room)
			room = available - b->min_available;
		if (room <= 0 && b->min_available >= (int64_t)n &&
		    b->max_surge == 0 && b->max_unavailable > 0 &&
		    unavailable == 0) {
			/* no slack at all: one at a time is the least
			 * possible disruption, said, not a silent stall */
			room = 1;
			out->below_min = true;
		}
		while (room > 0 &&
		       (it = next_candidate(items, n, &pos)) != NULL) {
			it->act = REC_ROLL_RECREATE;
			room--;
		}
		if (out->below_min && room > 0)
			out->below_min = false; /* nothing was taken */
	}
	for (x = 0; x < n; x++) {
		if (items[x].act != REC_ROLL_KEEP)
			out->acted++;
	}
}
