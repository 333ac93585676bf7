/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rec_rollout.h: the rollout's decision for one component of a set
 * replica (docs/reconcile.md, "Rollouts"). Private to reconcile/.
 *
 * A component is a standalone PodClique (its items are its pods, by
 * index) or a PodCliqueScalingGroup (its items are its units). The
 * planner describes each item as it observes it; rec_roll_decide says
 * what happens to each this round. Pure: the same items give the same
 * answer, so a new leader continues a rollout from the cluster's state
 * alone.
 */
#ifndef GROVED_REC_ROLLOUT_H
#define GROVED_REC_ROLLOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
	REC_ROLL_KEEP = 0, /* nothing this round */
	REC_ROLL_RECREATE, /* its pods are deleted; made again on the
			      current template once gone */
	REC_ROLL_SURGE, /* a replacement is made first, beside it */
	REC_ROLL_RETIRE, /* its replacement is Ready: the old pod goes */
} rec_roll_act;

typedef struct rec_roll_item {
	/* in: what is observed */
	bool outdated; /* a pod of it, not terminating, runs another
			  template than the current one */
	bool available; /* counts toward minAvailable now (Ready and not
			   terminating; a unit: each of its PodCliques) */
	bool going; /* a pod of it is terminating */
	bool surged; /* a replacement on the current template stands
			beside it (maxSurge) */
	bool surge_ready; /* ... and is Ready */
	bool stalled; /* a pod of it on the current template has not been
			 Ready for longer than progressDeadline */
	bool base; /* a unit below its group's minAvailable: goes last */
	/* out */
	rec_roll_act act;
} rec_roll_item;

typedef struct rec_roll_budget {
	int64_t min_available; /* pods, or units */
	int64_t max_unavailable; /* at once (0 allowed with max_surge) */
	int64_t max_surge; /* replacements made first (pods only) */
	bool turn; /* budgeted work allowed: no earlier component of the
		      rollout is unfinished */
} rec_roll_budget;

typedef struct rec_roll_result {
	size_t outdated; /* items on another template (going or not) */
	size_t unavailable; /* items not available */
	size_t acted; /* items given an act other than KEEP */
	bool held; /* a stalled item: no further budgeted work */
	bool below_min; /* minAvailable equals the items and there is no
			   maxSurge: one item was taken below it, the least
			   possible disruption */
	bool unfinished; /* outdated, unavailable or going items remain:
			    later components wait */
} rec_roll_result;

/*
 * Decides items[0..n) (n = the component's replicas) under b: always
 * the old pod of a Ready replacement retired, and an outdated item that
 * is not available recreated (it serves nothing), unless its replacement
 * is in flight (surged: it goes once that is Ready); a going item counts
 * as unavailable and is never acted on again; then, on b->turn and
 * unless held, budgeted work: replacements first up to max_surge in
 * flight, then recreations while no more than max_unavailable items are
 * unavailable and at least min_available stay available. With
 * min_available >= n and no surge, one item at a time when every item
 * is available (out->below_min). Items are taken in array order, except
 * that base units go after the others. *out is filled.
 */
void rec_roll_decide(const rec_roll_budget *b, rec_roll_item *items, size_t n,
		     rec_roll_result *out);

#endif
