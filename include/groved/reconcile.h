/* SPDX-License-Identifier: Apache-2.0 */
/*
 * reconcile.h: the planner. One defaulted, valid PodCliqueSet in, every
 * object the reconcile worker owns out (docs/api.md sections 5 and 6),
 * in the order the worker creates them.
 *
 * The planner is pure: no I/O, no global state, no threads; the same
 * input gives a byte-identical plan. It builds pods with policy's shared
 * pod builder (pol_pod_shape and pol_pod_patch), so a planned pod carries
 * exactly what the pod webhook would give it.
 *
 * Offline there is no cluster, so no uid: objects carry no
 * ownerReferences. Each plan entry names its owner instead (the one
 * controller ownerReference the worker writes).
 *
 * Ownership follows jansson: every prototype says whether a returned
 * json_t is a new reference (the caller must json_decref it) or borrowed.
 */
#ifndef GROVED_RECONCILE_H
#define GROVED_RECONCILE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "groved/gv.h"
#include "groved/kube.h"
#include "groved/policy.h"

/*
 * What is observed of the set's children. Every member is borrowed and
 * may be NULL (none observed). rec_plan_build reads the spec.replicas of
 * observed PodCliques and PodCliqueScalingGroups in the template form (a
 * child that exists keeps its count; template replicas apply when it is
 * first created), and the pods of ours (managed-by and part-of the set)
 * by their grove.io/podclique and grove.io/podclique-pod-index labels:
 *
 *   - a pod holds its index k unless it is terminating and stuck (named
 *     in stuck: its node is unreachable, it cannot finish); a terminating
 *     pod that can finish still holds k until it is gone;
 *   - pods to create take the lowest indices held by no pod, named
 *     <pclq>-<k>, or <pclq>-<k>-<s> (s = 1, 2, ... the lowest suffix no
 *     observed pod uses) when a stuck pod of ours is <pclq>-<k>; hostname
 *     <pclq>-<k> and pod-index label k either way;
 *   - surplus pods (more holders than replicas) are left out of the plan
 *     in upstream's order: terminating, unscheduled (no spec.nodeName),
 *     Pending, not Ready, an outdated grove.io/pod-template-hash, then the
 *     most recently created; ties by the highest index, then suffix.
 *
 * A pod that is not ours is never counted or adopted: a planned pod of
 * its name is a "conflict" of rec_plan_actions. rec_plan_actions
 * compares a plan with all of them.
 */
typedef struct rec_observed {
	const json_t *podcliques; /* array of PodClique objects */
	const json_t *groups; /* array of PodCliqueScalingGroups */
	const json_t *podgangs; /* array of PodGangs */
	const json_t *pods; /* array of Pods (labels, phase, deletion) */
	const json_t *others; /* Services, ServiceAccounts, Secrets, Roles,
				 RoleBindings, HPAs, or anything in the way */
	const json_t *stuck; /* array of pod names: terminating pods that
				cannot finish (node unreachable or gone) */
} rec_observed;

typedef struct rec_input {
	const pol_pcs *pcs; /* borrowed: model of the defaulted set */
	const char *namespace; /* NULL: the set's, else "default" */
	/* borrowed: ClusterTopologyBinding name -> its spec.levels array;
	 * NULL or a missing name: the binding is absent (no constraint is
	 * built, and the plan's notes say so) */
	const json_t *bindings;
	const pol_pod_options *pod_options; /* may be NULL */
	rec_observed observed;
	/* false: each PodClique's first pod is shaped (pol_pod_shape and
	 * the webhook's patch), the others are copies of it restamped
	 * (pol_pod_restamped); true: every pod is shaped anew, the slow path
	 * tests compare the plan with */
	bool shape_every_pod;
	/* unix seconds: a rollout's progressDeadline is measured against
	 * it; 0: not checked (groved plan, offline) */
	int64_t now;
} rec_input;

/*
 * A plan. items: array of {"owner": "Kind/name" or null (the set itself
 * has none here), "object": {...}} in creation order; notes: array of
 * strings (what the planner could not do offline, e.g. an absent
 * topology binding); template_hash: docs/api.md 7.1's generation hash.
 * Pods of one clique share their unchanged values (jansson reference
 * counts): the plan is read-only; json_deep_copy an object to change it.
 */
typedef struct rec_plan {
	json_t *items; /* owned */
	json_t *notes; /* owned */
	char template_hash[17]; /* 16 hex digits */
	/* the set packs by topology but its ClusterTopologyBinding is not
	 * in rec_input.bindings: gangs are planned without constraints */
	bool binding_missing;
	/* owned, may be NULL (no report): the rollout of docs/api.md 7.1 as
	 * this round sees it, which the statuses read:
	 *   {"active": bool (a pod of ours is outdated),
	 *    "strategy": "RollingRecreate" | "OnDelete",
	 *    "replicaIndex": i or -1 (the set replica being rolled),
	 *    "component": PodClique or group name, or null,
	 *    "held": message or null (progressDeadline exceeded),
	 *    "waiting": message or null,
	 *    "recreate": {"<pod name>": true, ...} (pods the round deletes
	 *                for the rollout),
	 *    "outdatedUnits": {"<group>/<unit>": true, ...} (units with a pod
	 *               of ours on another template, terminating or not:
	 *               their new pods keep the scheduling gate),
	 *    "steps": [{"what": "pod" | "unit" | "surge" | "retire",
	 *               "component", "unit" (-1 for a pod), "pod" (or
	 *               absent), "belowMin": bool}] (what the round does,
	 *               for Events),
	 *    "recheckSeconds": n (a progressDeadline runs out then; 0:
	 *               none)} */
	json_t *rollout;
} rec_plan;

#define REC_PLAN_INIT                                                 \
	{                                                             \
		.items = NULL, .notes = NULL, .template_hash = { 0 }, \
		.binding_missing = false, .rollout = NULL             \
	}

/*
 * Plans in->pcs. On GV_OK *out is filled (release it with
 * rec_plan_release). Returns GV_EINVAL (a set, clique or group without a
 * name: validate first), GV_ETOOBIG (a name over 63 characters; err
 * names it) or GV_ENOMEM. On failure *out is left empty.
 */
int rec_plan_build(const rec_input *in, rec_plan *out, gv_error_t *err);
void rec_plan_release(rec_plan *plan);

/*
 * The template generation hash of docs/api.md 7.1: FNV-1a 64 of the
 * compact JSON (sorted keys) of [{name, labels, annotations, podSpec,
 * priorityClassName} per clique], as 16 hex digits into out (17 bytes).
 * replicas, minAvailable, scaling and autoscaling never change it.
 * Returns GV_OK or GV_ENOMEM.
 */
int rec_template_hash(const pol_pcs *pcs, char out[17]);

/*
 * The startup order of the PodCliques of plan (borrowed) as waves: wave 1
 * holds the PodCliques with no parent (spec.startsAfter), wave n + 1 those
 * whose parents are all in waves 1..n. On GV_OK *waves_out is a new
 * reference to an array of arrays of PodClique names, in plan order within
 * a wave. A PodClique left over (a cycle; validation refuses those) makes
 * a last wave of its own. Returns GV_OK or GV_ENOMEM.
 */
int rec_plan_waves(const rec_plan *plan, json_t **waves_out);

/*
 * What the worker must do to bring obs to plan, in a stable order: an
 * array of
 *
 *   {"action": "create", "kind", "name", "object"}      (plan order)
 *   {"action": "update", "kind", "name", "fields"}      (plan order)
 *   {"action": "conflict", "kind", "name"}              (plan order)
 *   {"action": "delete", "kind", "name"}                (observed order)
 *
 * An object is known by kind and name. "update" carries only what
 * differs among metadata.labels, metadata.annotations and the top-level
 * members other than apiVersion, kind, metadata and status, with their
 * planned values. Labels and annotations differ when a planned key is
 * missing or has another value (others' keys are left alone); PodClique,
 * PodCliqueScalingGroup and PodGang members when not equal; other kinds'
 * members when the planned value is not within the observed one (what
 * the API server fills in, such as a Service's clusterIP, or the token
 * controller's Secret data, is no difference); a pod never differs (its
 * spec is immutable, the scheduling gate is removed by the worker, and
 * its labels record what it was made as: its pod-template-hash changes by
 * a rollout, never by a patch). An observed object of a planned name that is not ours
 * (no app.kubernetes.io/managed-by: grove-operator and part-of the set)
 * is a "conflict": never adopted or overwritten. An observed object of
 * ours that the plan does not hold is deleted, unless it is already
 * terminating (metadata.deletionTimestamp set): no action for it. Planning against its own
 * output gives []. On GV_OK *actions_out is a new reference. Returns
 * GV_OK or GV_ENOMEM.
 */
int rec_plan_actions(const rec_plan *plan, const pol_pcs *pcs,
		     const rec_observed *obs, json_t **actions_out);

/* =====================================================================
 * The worker (rec_worker.c, rec_sync.c): docs/reconcile.md
 * ================================================================== */

/*
 * The reconcile worker: informers on PodCliqueSets and everything they
 * own, a work queue of sets ("namespace/name"), and threads that bring
 * each set's children to its plan (rec_plan_build, rec_plan_actions),
 * lift scheduling gates, and write statuses. Every replica runs the
 * informers (warm caches); only while o->leading says so does a thread
 * write: a key taken while not leading is dropped, and
 * rec_worker_resync() queues every set again when leadership starts.
 */
typedef struct rec_worker rec_worker;

/* Log levels of rec_worker_opts.log. */
typedef enum { REC_LOG_DEBUG, REC_LOG_INFO, REC_LOG_WARN } rec_log_level;

typedef struct rec_worker_opts {
	kube_client *client; /* borrowed; outlives the worker */
	unsigned threads; /* reconcile threads; 0: 2 */
	const char *namespace; /* borrowed; NULL: every namespace */
	const pol_pod_options *pod_options; /* borrowed; may be NULL */
	/* whether this replica may write now (borrowed ctx); NULL: always */
	bool (*leading)(void *ctx);
	void *leading_ctx;
	/* a line for the log: set is "ns/name" or NULL; msg borrowed for
	 * the call; called from the worker's threads at once */
	void (*log)(void *ctx, rec_log_level level, const char *set,
		    const char *msg);
	void *log_ctx;
	uint64_t resync_ms; /* every set queued again after; 0: 5 minutes */
	/* the resource.k8s.io version that serves ResourceClaimTemplates
	 * ("v1", "v1beta2", ...; borrowed); NULL or "": none is served, and
	 * the claim templates the sets name are not checked */
	const char *claim_api_version;
} rec_worker_opts;

/* What the worker has done (monotonic counters, read any time). */
/* The gate-removal latency histogram's upper bounds, in seconds: from
 * the moment the worker sees what lets a pod's gang go (the event that
 * woke its round, or the create of the pod itself) to the gate's patch
 * answered. */
#define REC_GATE_BUCKETS 10
extern const double rec_gate_buckets[REC_GATE_BUCKETS];

typedef struct rec_worker_stats {
	uint64_t gate_buckets[REC_GATE_BUCKETS + 1]; /* cumulative-less
							 counts; the last
							 is +Inf */
	uint64_t gate_sum_ns;
	uint64_t reconciles; /* syncs of a set, done */
	uint64_t reconcile_errors; /* syncs that failed (and were requeued) */
	uint64_t reconcile_ns; /* time spent in syncs */
	uint64_t gates_removed; /* scheduling gates lifted */
	size_t queue_depth; /* sets waiting for a thread */
} rec_worker_stats;

/* Called once per (verb, kind) the worker has written: verb "create",
 * "patch", "delete" or "status", kind as "Pod"; n writes that succeeded
 * (or met AlreadyExists/NotFound: the same end). Strings are static. */
typedef void (*rec_write_fn)(void *ctx, const char *verb, const char *kind,
			     uint64_t n);

/*
 * Starts the informers and the threads. On GV_OK *out is the worker (stop
 * it with rec_worker_stop). Returns GV_EINVAL (no client), GV_ENOMEM or
 * GV_EIO (a thread cannot start), with err filled; nothing runs then.
 */
int rec_worker_start(const rec_worker_opts *o, rec_worker **out,
		     gv_error_t *err);

/* Queues every known set (leadership began, or a periodic resync). */
void rec_worker_resync(rec_worker *w);

/* Whether every informer has listed once. */
bool rec_worker_synced(rec_worker *w);

/* A copy of the counters. */
void rec_worker_stats_get(rec_worker *w, rec_worker_stats *out);

/* The writes so far, by verb and kind: fn for each pair written at least
 * once, in a stable order. */
void rec_worker_writes_each(rec_worker *w, rec_write_fn fn, void *ctx);

/* Stops the threads (a sync in progress finishes its current request),
 * then the informers, and frees w. w may be NULL. */
void rec_worker_stop(rec_worker *w);

/* =====================================================================
 * Statuses (rec_status.c): docs/status.md
 * ================================================================== */

/*
 * What the statuses of one set are computed from. Every pointer is
 * borrowed. Pure: no I/O, no clock (now is given), so the same input
 * gives the same output.
 */
typedef struct rec_status_input {
	/* the observed PodCliqueSet: metadata.name, metadata.generation
	 * and its current status (previous conditions) */
	const json_t *set;
	const pol_pcs *pcs; /* its model after defaults */
	const rec_plan *plan; /* rec_plan_build's plan against observed */
	/* PodCliques, groups, PodGangs (with their metadata.generation and
	 * current status) and pods; others and stuck are not read */
	const rec_observed *observed;
	const char *now; /* RFC 3339: lastTransitionTime of a change */
	bool binding_missing; /* the ClusterTopologyBinding the set names
				 does not exist */
	const char *missing_level; /* or NULL: a level the set uses that
				      the binding no longer has */
	/* KAI Scheduler's Topology kind (kai.scheduler/v1alpha1) is not
	 * served: KAI cannot place the set's constrained gangs */
	bool kai_topology_unserved;
	/* names of the ResourceClaimTemplates the set's cliques name that do
	 * not exist in its namespace (borrowed array; NULL: none, or not
	 * checked) */
	const json_t *missing_claim_templates;
} rec_status_input;

/*
 * The status of the set and of every planned child that is observed and
 * ours (a status is written only to an object that exists), as
 * docs/status.md says. On GV_OK *out is a new reference to
 *
 *   {"PodCliqueSet/<name>": status, "PodClique/<name>": status,
 *    "PodCliqueScalingGroup/<name>": status, "PodGang/<name>": status}
 *
 * holding only the statuses that differ from the object's current one
 * (json_equal), so the worker writes only what changed; computed against
 * objects whose statuses are its last output it gives {}. Each status is
 * whole (the object's current status with groved's fields and conditions
 * set: members and condition types groved does not own are kept), to be
 * written as a merge patch: a member groved removes (the set's
 * updateProgress.currentlyUpdating or updateEndedAt) is null in it. A
 * condition keeps its lastTransitionTime while its status is unchanged,
 * else gets now. Returns GV_EINVAL (in, set, pcs, plan or now NULL, or a
 * set without a name) or GV_ENOMEM; *out is then untouched.
 */
int rec_status_build(const rec_status_input *in, json_t **out);

/* The condition type saying whether every ResourceClaimTemplate the set
 * names exists: False, reason ResourceClaimTemplateNotFound, while one is
 * missing (a set made by another operator is accepted before its
 * templates exist, docs/api.md section 4, V14). */
#define REC_CONDITION_CLAIMS "ResourceClaimTemplatesFound"

/* The condition type naming what is scaled to 0 (the set, PodCliques,
 * PodCliqueScalingGroups): docs/status.md. */
#define REC_CONDITION_PAUSED "Paused"

#endif
