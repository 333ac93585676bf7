/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gv_read.h: YAML and JSON documents in, jansson values out
 * (base/gv_read.c).
 *
 * The one reader of manifests, kubeconfigs and configuration files: a
 * YAML stream or a JSON text, untrusted, bounded by the limits below. It
 * does no I/O (gv_file.h reads the file) and keeps no state.
 *
 * Ownership follows jansson: the arrays it returns are new references
 * (the caller json_decrefs them). Aliases share the anchored json_t
 * (json_incref), so a document may hold the same subtree in several
 * places: a caller that mutates a document must copy it first.
 */
#ifndef GROVED_GV_READ_H
#define GROVED_GV_READ_H

#include <jansson.h>
#include <stddef.h>

#include "groved/gv.h"

/* Limits on untrusted manifests and request bodies. */
#define GV_READ_MAX_BYTES ((size_t)64 << 20) /* one input */
#define GV_READ_MAX_DEPTH 128 /* nesting of maps/lists */
#define GV_READ_MAX_NODES ((size_t)4 << 20) /* nodes, aliases expanded */

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
int gv_read_documents(const char *data, size_t len, const char *source,
		      json_t **docs_out, json_t **lines_out, gv_error_t *err);

#endif
