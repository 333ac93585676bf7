/*
 * policy.h: manifests in, verdicts out.
 *
 * The policy module reads YAML and JSON documents, turns a PodCliqueSet of
 * either form into one model, computes its defaults as a JSON Patch and
 * validates it into Kubernetes-style field errors. It does no I/O, keeps
 * no global state and starts no threads: every function is a pure function
 * of its arguments, safe to call from any number of threads at once.
 *
 * Ownership follows jansson: every prototype says whether a returned json_t
 * is a new reference (the caller must json_decref it) or borrowed (valid as
 * long as the argument it came from).
 */
#ifndef GROVED_POLICY_H
#define GROVED_POLICY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "groved/gv.h"

/* ---------------------------------------------------------------------
 * Reading documents (pol_read.c)
 * ------------------------------------------------------------------- */

/* Limits on untrusted manifests and request bodies. */
#define POL_READ_MAX_BYTES ((size_t)64 << 20) /* one input */
#define POL_READ_MAX_DEPTH 128                /* nesting of maps/lists */
#define POL_READ_MAX_NODES ((size_t)4 << 20)  /* nodes, aliases expanded */

/*
 * Reads every document of a YAML stream (multi-document, anchors and
 * aliases, merge keys `<<`, block scalars, the scalar types Kubernetes
 * accepts) or a JSON text/stream into jansson values.
 *
 * data need not be NUL-terminated. source names the input in errors.
 * Empty documents (a bare `---`, only comments) are skipped.
 *
 * On success *docs_out is a new reference to an array of the documents
 * and, when lines_out is not NULL, *lines_out a new reference to an array
 * of integers, the 1-based line on which each document starts.
 * On failure returns GV_EPARSE, GV_ETOOBIG, GV_ETOODEEP or GV_ENOMEM, fills
 * err with source, line and column (1-based) and a message saying what is
 * wrong, and leaves the out-params untouched.
 */
int pol_read_documents(const char *data, size_t len, const char *source,
		       json_t **docs_out, json_t **lines_out, gv_error_t *err);

/* ---------------------------------------------------------------------
 * JSON Patch, RFC 6902 (pol_patch.c)
 * ------------------------------------------------------------------- */

/*
 * Applies patch (an array of operations: add, remove, replace, move, copy,
 * test) to doc. Atomic: on any failure doc is unchanged.
 *
 * On success *out is a new reference to the patched document (doc itself
 * is never modified; unchanged subtrees may be shared with it).
 * On failure returns GV_EINVAL (malformed patch, missing path, failed
 * test) or GV_ENOMEM, and err->text says which operation (by index) failed
 * and why.
 */
int pol_patch_apply(const json_t *doc, const json_t *patch, json_t **out,
		    gv_error_t *err);

/*
 * Appends the JSON Pointer (RFC 6901) escaping of a key (~ as ~0, / as ~1)
 * to buf at *used, keeping buf NUL-terminated. Returns GV_ETOOBIG, without
 * writing, when it would not fit.
 */
int pol_pointer_append(char *buf, size_t size, size_t *used,
		       const char *key);

#endif
