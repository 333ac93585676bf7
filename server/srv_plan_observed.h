/* SPDX-License-Identifier: Apache-2.0 */
/*
 * srv_plan_observed.h: the observed state `groved plan --observed` reads
 * (server/srv_plan_observed.c).
 */
#ifndef GROVED_SRV_PLAN_OBSERVED_H
#define GROVED_SRV_PLAN_OBSERVED_H

#include <jansson.h>
#include <stddef.h>

#include "groved/gv.h"
#include "groved/reconcile.h"

/*
 * Reads every document of the inputs paths[0..n) name (files,
 * directories and "-", as srv_inputs_add reads -f; YAML or JSON, objects
 * or `kind: List`s of them, as `kubectl get -o yaml` prints) and sorts
 * the objects by kind. On success *lists_out is a new reference to
 * {"podcliques": [...], "groups": [...], "podgangs": [...], "pods": [...],
 * "others": [...]}. On failure returns srv_inputs_add's or
 * gv_read_documents' error, or GV_EINVAL for a document that is no
 * object (no kind or metadata.name), with err naming the file; the
 * out-param is untouched.
 */
int srv_observed_load(char *const *paths, size_t n, json_t **lists_out,
		      gv_error_t *err);

/*
 * The planner's view of lists (borrowed, from srv_observed_load; NULL: an
 * empty view) for a set in namespace ns: the objects in ns, or with no
 * namespace. *keep gets a new reference holding the view's arrays (the
 * caller json_decrefs it after planning). Returns GV_OK or GV_ENOMEM.
 */
int srv_observed_view(const json_t *lists, const char *ns, json_t **keep,
		      rec_observed *view);

#endif
