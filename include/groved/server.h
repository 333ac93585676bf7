/* SPDX-License-Identifier: Apache-2.0 */
/*
 * server.h: the groved program: subcommands and the file helpers they
 * share. The admission server's internals are in server/srv_*.h.
 */
#ifndef GROVED_SERVER_H
#define GROVED_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "groved/gv.h"

/* One input named on the command line, read whole. */
typedef struct srv_input {
	char *name; /* as the user wrote it; "<stdin>" for "-" */
	char *data; /* NUL-terminated; len excludes the NUL */
	size_t len;
} srv_input;

typedef struct srv_inputs {
	srv_input *items;
	size_t n;
	size_t cap;
} srv_inputs;

#define SRV_INPUTS_INIT    \
	{                  \
		NULL, 0, 0 \
	}

/*
 * Appends the inputs that path names: a file; every *.yaml, *.yml and
 * *.json under a directory, recursively, in byte order of their paths;
 * or "-" for standard input. Each is read whole, at most max bytes.
 * Returns GV_OK, or GV_EIO / GV_ETOOBIG / GV_ENOMEM with err naming the
 * path and what went wrong; inputs read before the failure stay in list.
 */
int srv_inputs_add(srv_inputs *list, const char *path, size_t max,
		   gv_error_t *err);
void srv_inputs_release(srv_inputs *list);

/*
 * Says on stderr, as "CMD: ...", why getopt_long (called with opterr 0,
 * an optstring that starts with ':', and longopts) returned c, '?' or
 * ':': an unknown option, one without its value, or a value given to an
 * option that takes none. (main.c)
 */
struct option;
void srv_option_error(const char *cmd, int c, char *const *argv,
		      const struct option *longopts);

/* After getopt_long: says on stderr, as "CMD: ...", that an argument was
 * left over (files are named with -f) or that no -f was given, and returns
 * false then; true when the command has its inputs. (main.c) */
bool srv_inputs_args_ok(const char *cmd, int argc, char *const *argv,
			size_t n_paths);

/* `groved validate`: returns the process exit code (0, 1 or 2). */
int srv_cmd_validate(int argc, char **argv);

/* `groved plan`: returns the process exit code (0, 1 or 2). */
int srv_cmd_plan(int argc, char **argv);

/* `groved certs generate`: a CA and serving certificate for the webhook's
 * Service; returns the exit code (0, 1 or 2). */
int srv_cmd_certs(int argc, char **argv);

/* `groved serve`: runs until SIGTERM or SIGINT; returns the exit code
 * (0 after a clean stop, 2 when it cannot start). */
int srv_cmd_serve(int argc, char **argv);

#endif
