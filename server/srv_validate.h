/* SPDX-License-Identifier: Apache-2.0 */
/*
 * srv_validate.h: the checks of `groved validate` over files, shared with
 * `groved plan` (which plans what they call valid).
 */
#ifndef SRV_VALIDATE_H
#define SRV_VALIDATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "groved/policy.h"

typedef enum { SRV_OUT_TEXT, SRV_OUT_JSON } srv_out_format;

typedef struct srv_validate_opts {
	const char *cmd; /* "groved validate": how messages start */
	const char *ns;
	const char *kubeconfig;
	const char *context;
	const char *scheduler;
	const char *old; /* --old PATH: validate as an UPDATE of these */
	bool strict;
	/* >= 0: each PodCliqueSet is checked (and handed to valid) with
	 * spec.replicas set to this, as `kubectl scale` would */
	int64_t replicas;
	srv_out_format format;
	FILE *text; /* where text results go; NULL: stdout */
	bool summary_on_failure; /* the summary only when the exit is not 0 */
	/* Called, when not NULL, for each object that validates: a
	 * PodCliqueSet (defaulted, borrowed for the call) or a
	 * ClusterTopologyBinding, with its namespace (NULL for the binding).
	 * Returns GV_OK or GV_ENOMEM. */
	int (*valid)(void *ctx, pol_kind kind, const json_t *obj,
		     const char *ns);
	void *ctx;
} srv_validate_opts;

/*
 * Reads the n paths (as -f names them) and checks every object in them,
 * printing what `groved validate` prints. Returns its exit code: 0 every
 * object valid, 1 one invalid or an input without objects, 2 an input
 * unreadable or out of memory.
 */
int srv_validate_paths(const srv_validate_opts *opts, char *const *paths,
		       size_t n);

#endif
