/* SPDX-License-Identifier: Apache-2.0 */
/* pol_cycles.h: V8, cycle detection over startsAfter (pol_cycles.c). */
#ifndef GROVED_POL_CYCLES_H
#define GROVED_POL_CYCLES_H

#include "pol_int.h"

/* Adds one error per strongly connected component with a cycle. Only
 * cliques with a name take part; the caller runs it only when startsAfter
 * is in force. Returns GV_OK or GV_ENOMEM. */
int pol_check_cycles(const pol_pcs *pcs, pol_verdict *v);

#endif
