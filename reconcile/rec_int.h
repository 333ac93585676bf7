/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rec_int.h: what the planner's, the statuses' and the worker's files
 * share. Private to reconcile/.
 */
#ifndef GROVED_REC_INT_H
#define GROVED_REC_INT_H

#include <jansson.h>
#include <stdint.h>

/* A decimal in [0, INT32_MAX] at s (up to end, or the whole string when
 * end is NULL), with no sign and no leading zero, as groved writes its
 * index labels and names; -1 for anything else. (rec_plan.c) */
int64_t rec_parse_index(const char *s, const char *end);

/* The value of label key of object o (borrowed), or NULL. (rec_plan.c) */
const char *rec_label(const json_t *o, const char *key);

#endif
