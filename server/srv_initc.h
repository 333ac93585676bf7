/* SPDX-License-Identifier: Apache-2.0 */
/*
 * srv_initc.h: `groved initc`, the startup-order init container
 * (docs/initc.md, docs/api.md section 6). srv_initc_wait.c holds the
 * pure part (arguments in, parents out; pods in, "done" or what is
 * still awaited out); srv_initc.c the command, which watches the pods
 * of the parent PodCliques and exits 0 once each has enough Ready ones.
 *
 * Ownership: srv_initc_args owns its parents array and borrows its
 * strings from the argv it was parsed from; every json_t * passed in is
 * borrowed for the call.
 */
#ifndef GROVED_SRV_INITC_H
#define GROVED_SRV_INITC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "groved/gv.h"

/* A PodClique name is a label value and a DNS label: 63 characters. */
#define SRV_INITC_NAME_MAX 63
/* The largest count of Ready pods a parent may ask for (a clique's
 * minAvailable is an int32). */
#define SRV_INITC_COUNT_MAX 2147483647u
/* How often what is still awaited is logged, unless --log-every says. */
#define SRV_INITC_LOG_EVERY_MS 5000u
/* Unfinished parents named in one log line; the rest are counted. */
#define SRV_INITC_SHOWN_MAX 8
/* The environment variable naming the filesystem prefix under which the
 * service account files are read (docs/initc.md): unset or empty in a
 * pod; kube-sim's kubelet sets it to a directory of its own. */
#define SRV_INITC_ROOT_ENV "GROVED_SERVICEACCOUNT_ROOT"

/* One parent PodClique and how many of its pods must be Ready. */
typedef struct srv_initc_parent {
	char name[SRV_INITC_NAME_MAX + 1];
	uint32_t need; /* 1..SRV_INITC_COUNT_MAX */
	uint32_t ready; /* written by srv_initc_count */
} srv_initc_parent;

/* The command line of `groved initc`. */
typedef struct srv_initc_args {
	srv_initc_parent *parents; /* owned; sorted by name, no duplicates */
	size_t n_parents;
	const char *kubeconfig; /* borrowed from argv, or NULL */
	const char *namespace; /* borrowed from argv, or NULL */
	uint64_t log_every_ms;
	bool help; /* -h or --help: print the usage, nothing else */
} srv_initc_args;

#define SRV_INITC_ARGS_INIT     \
	{                       \
		.parents = NULL \
	}

/*
 * Parses argv[1..argc) (argv[0] is "initc"):
 *   --podcliques=NAME:N[,NAME:N...]  repeatable, at least one parent
 *   --kubeconfig=PATH, -n/--namespace=NS, --log-every=DURATION, -h/--help
 * Values go after '=' or as the next argument. On GV_OK a is filled
 * (release it with srv_initc_args_release). On GV_EINVAL err's text says
 * what is wrong, lower case, the argument quoted (e.g. `--podcliques
 * 'a:0': count '0' is not a whole number from 1 to 2147483647`), and a
 * is untouched; GV_ENOMEM likewise.
 */
int srv_initc_parse(int argc, char *const *argv, srv_initc_args *a,
		    gv_error_t *err);

/* Frees what a owns and empties it; a may be NULL. */
void srv_initc_args_release(srv_initc_args *a);

/* Whether pod (borrowed) counts as Ready: its Ready condition is "True"
 * and it is not terminating (no metadata.deletionTimestamp). */
bool srv_initc_pod_ready(const json_t *pod);

/*
 * Counts, for each parent, the Ready pods (srv_initc_pod_ready) among
 * pods (borrowed: an object of name -> pod, or an array of pods) whose
 * label grove.io/podclique names it, into parents[].ready. Pods of
 * other PodCliques are not counted. parents is sorted by name (as
 * srv_initc_parse leaves it). Returns true when every parent has at
 * least its need.
 */
bool srv_initc_count(srv_initc_parent *parents, size_t n, const json_t *pods);

/*
 * One change, as a watch event tells it: old_pod (the pod as it was
 * counted, NULL for an added one) is taken out of parents[].ready and
 * new_pod (NULL for a deleted one) put in, each as srv_initc_count
 * counts it, so a watch costs O(log parents) per event, not a recount.
 * Both borrowed. Returns true when every parent has its need.
 */
bool srv_initc_update(srv_initc_parent *parents, size_t n,
		      const json_t *old_pod, const json_t *new_pod);

/* Whether every parent has at least its need (parents[].ready as
 * counted). */
bool srv_initc_done(const srv_initc_parent *parents, size_t n);

/*
 * What the counts say, into buf (size bytes, always NUL-terminated, cut
 * when too long): "done: "a" (2 Ready, 2 needed), ..." when every parent
 * has its need, else "waiting for "b" (0 Ready, 1 needed), ..." naming
 * the unfinished parents only, at most SRV_INITC_SHOWN_MAX of them, then
 * " and N more". Returns true when done.
 */
bool srv_initc_describe(const srv_initc_parent *parents, size_t n, char *buf,
			size_t size);

/*
 * The label selector of the parents' pods into buf:
 * "grove.io/podclique in (a,b)", or "grove.io/podclique" (every
 * PodClique's pods; srv_initc_count picks the parents') when that would
 * not fit in size bytes.
 */
void srv_initc_selector(const srv_initc_parent *parents, size_t n, char *buf,
			size_t size);

/* `groved initc`: returns the exit code (0 done, 1 the credentials were
 * refused or the client cannot be set up, 2 bad usage). */
int srv_cmd_initc(int argc, char **argv);

#endif
