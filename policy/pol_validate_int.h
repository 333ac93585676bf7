/* SPDX-License-Identifier: Apache-2.0 */
/* pol_validate_int.h: the rule families that live in their own files. */
#ifndef GROVED_POL_VALIDATE_INT_H
#define GROVED_POL_VALIDATE_INT_H

#include "pol_int.h"

/* V20 (pol_topology.c): topology constraints against their binding.
 * Returns GV_OK or GV_ENOMEM. */
int pol_check_topology(const pol_pcs *pcs, const pol_options *o,
		       pol_verdict *v);

/*
 * U1..U3 (pol_update.c): what an UPDATE may not change. A scheduler left
 * unset equals default_scheduler. defaulted, when not NULL, is a set (json
 * object) of the fields that only the defaults wrote into cur: a value
 * that the defaults derived anew is not the user's change, so it is not
 * reported as one.
 */
void pol_check_update(const pol_pcs *cur, const pol_pcs *old,
		      const char *default_scheduler, const json_t *defaulted,
		      pol_verdict *v);

#endif
