/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gv_file.h: reading a whole file, bounded (base/gv_file.c).
 *
 * Every file groved reads (manifests, kubeconfigs, token files, TLS
 * material, its configuration) goes through here, so each has a maximum
 * size and a failure reads the same everywhere: err->source is the path,
 * and err->text says what failed:
 *
 *   without o->what:  "cannot open: No such file or directory",
 *                     "cannot read: Is a directory", "larger than 65536
 *                     bytes", "not a regular file", "out of memory"
 *   with o->what:     "cannot read kubeconfig '/x': <the same reasons>"
 *
 * The first form is for callers that print err with gv_error_format
 * (which puts the source first); the second for messages that stand on
 * their own.
 */
#ifndef GROVED_GV_FILE_H
#define GROVED_GV_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include "groved/gv.h"

/* How gv_read_file reads; all fields may be zero (or o NULL). */
typedef struct gv_read_opts {
	const char *what; /* the file's role in messages ("certificate") */
	bool regular; /* refuse what is not a regular file, before reading
			 (a FIFO could block) */
	bool secret; /* wipe every buffer given up on the way (on growth
			and on failure); the caller wipes the result */
	struct stat *st; /* when not NULL, the file's fstat, on success */
} gv_read_opts;

/*
 * Reads the file at path whole, at most max bytes, into *data: a new
 * malloc'd buffer, NUL-terminated (the caller frees it), and its length
 * (without the NUL, which the content may also hold) in *len. Reads to
 * the end, not to the size fstat gave: a file may still be growing.
 * Returns GV_OK; GV_ENOTFOUND when path does not exist; GV_EIO when it
 * cannot be opened or read (or, with o->regular, is no regular file);
 * GV_ETOOBIG past max; GV_ENOMEM. err is filled on failure, and the
 * out-params are written only on success.
 */
int gv_read_file(const char *path, size_t max, const gv_read_opts *o,
		 char **data, size_t *len, gv_error_t *err);

/* gv_read_file with the default options. */
int gv_read_file_max(const char *path, size_t max, char **data, size_t *len,
		     gv_error_t *err);

/* The same from an open descriptor (standard input: "-"); name stands
 * for the path in messages. fd is read to its end, not closed. */
int gv_read_fd(int fd, const char *name, size_t max, const gv_read_opts *o,
	       char **data, size_t *len, gv_error_t *err);

#endif
