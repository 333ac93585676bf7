/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rec_worker_int.h: what rec_worker.c (informers, queue, threads) and
 * rec_sync.c (one set brought to its plan) share. Private to reconcile/.
 */
#ifndef GROVED_REC_WORKER_INT_H
#define GROVED_REC_WORKER_INT_H

#include <stdatomic.h>

#include "groved/reconcile.h"
#include "rec_int.h"

#define REC_MANAGED_SELECTOR "app.kubernetes.io/managed-by=grove-operator"
#define REC_PART_OF "app.kubernetes.io/part-of"

/* The kinds the worker reads or writes: X(id, kind, group, version,
 * resource, namespaced, label selector, watched). Watched: the sets,
 * every kind the planner makes (only ours: managed-by), the topology
 * bindings the gangs translate through, and the nodes that say whether a
 * terminating pod can finish. Secrets are written, never watched: a
 * watch, whatever its selector, needs `list` on every Secret in the
 * cluster (RBAC cannot narrow it by label), and the worker needs only
 * to know that the token Secret exists (rec_sync.c remembers). */
#define REC_KINDS(X)                                                          \
	X(PCS, "PodCliqueSet", "grove.io", "v1alpha1", "podcliquesets", true, \
	  NULL, true)                                                         \
	X(PCLQ, "PodClique", "grove.io", "v1alpha1", "podcliques", true,      \
	  REC_MANAGED_SELECTOR, true)                                         \
	X(PCSG, "PodCliqueScalingGroup", "grove.io", "v1alpha1",              \
	  "podcliquescalinggroups", true, REC_MANAGED_SELECTOR, true)         \
	X(PG, "PodGang", "scheduler.grove.io", "v1alpha1", "podgangs", true,  \
	  REC_MANAGED_SELECTOR, true)                                         \
	X(POD, "Pod", "", "v1", "pods", true, REC_MANAGED_SELECTOR, true)     \
	X(SVC, "Service", "", "v1", "services", true, REC_MANAGED_SELECTOR,   \
	  true)                                                               \
	X(SA, "ServiceAccount", "", "v1", "serviceaccounts", true,            \
	  REC_MANAGED_SELECTOR, true)                                         \
	X(SECRET, "Secret", "", "v1", "secrets", true, NULL, false)           \
	X(ROLE, "Role", "rbac.authorization.k8s.io", "v1", "roles", true,     \
	  REC_MANAGED_SELECTOR, true)                                         \
	X(RB, "RoleBinding", "rbac.authorization.k8s.io", "v1",               \
	  "rolebindings", true, REC_MANAGED_SELECTOR, true)                   \
	X(HPA, "HorizontalPodAutoscaler", "autoscaling", "v2",                \
	  "horizontalpodautoscalers", true, REC_MANAGED_SELECTOR, true)       \
	X(CTB, "ClusterTopologyBinding", "grove.io", "v1alpha1",              \
	  "clustertopologybindings", false, NULL, true)                       \
	X(NODE, "Node", "", "v1", "nodes", false, NULL, true)                 \
	X(EVENT, "Event", "", "v1", "events", true, NULL, false)              \
	X(TOPOLOGY, "Topology", "kai.scheduler", "v1alpha1", "topologies",    \
	  false, NULL, false)

typedef enum {
#define REC_KIND_ID(id, ...) REC_K_##id,
	REC_KINDS(REC_KIND_ID)
#undef REC_KIND_ID
	    REC_K_COUNT
} rec_kind;

typedef struct rec_kind_info {
	const char *kind;
	kube_gvr gvr;
	const char *selector;
	bool watched; /* an informer fills its store */
} rec_kind_info;

extern const rec_kind_info rec_kinds[REC_K_COUNT];

/* The kind's index (REC_K_COUNT when it is none of the worker's). */
rec_kind rec_kind_of(const char *kind);

/* The verbs of the worker's writes, for the counters. */
#define REC_WRITES(X)       \
	X(CREATE, "create") \
	X(PATCH, "patch") X(DELETE, "delete") X(STATUS, "status")

typedef enum {
#define REC_W_ID(id, name) REC_W_##id,
	REC_WRITES(REC_W_ID)
#undef REC_W_ID
	    REC_W_COUNT
} rec_write;

/* Removes from obj (of kind k, the caller's) what the worker's cache
 * leaves out: the informers' trim, for what a write answered. */
void rec_trim(struct rec_worker *w, rec_kind k, json_t *obj);

/* Counts a gate lifted latency_ns after its condition was seen. */
void rec_count_gate(struct rec_worker *w, uint64_t latency_ns);

/* Counts one write of verb on kind k. */
void rec_count_write(struct rec_worker *w, rec_write verb, rec_kind k);

/* The informers' event argument: which kind, of which worker. */
typedef struct rec_kind_arg {
	struct rec_worker *w;
	rec_kind kind;
} rec_kind_arg;

struct rec_worker {
	rec_worker_opts o;
	rec_kind_arg args[REC_K_COUNT];
	kube_store stores[REC_K_COUNT];
	kube_informer informers[REC_K_COUNT];
	bool store_up[REC_K_COUNT];
	bool informer_up[REC_K_COUNT];
	kube_queue queue;
	bool queue_up;
	pthread_t *threads;
	unsigned n_threads;
	pthread_t resync_thread;
	bool resync_up;
	gv_stopper stop;
	/* counters (rec_worker_stats) */
	atomic_uint_fast64_t reconciles, reconcile_errors, reconcile_ns;
	/* API writes by verb (rec_write) and kind */
	atomic_uint_fast64_t writes[REC_W_COUNT][REC_K_COUNT];
	atomic_uint_fast64_t gates_removed;
	/* gate latency, rec_gate_buckets' upper bounds, then +Inf */
	atomic_uint_fast64_t gate_buckets[REC_GATE_BUCKETS + 1];
	atomic_uint_fast64_t gate_sum_ns;
	/* set key -> the monotonic ns its oldest queued event was seen at */
	pthread_mutex_t seen_lock;
	json_t *seen;
	/* the ResourceClaimTemplates of every namespace, when the cluster
	 * serves them (opts.claim_api_version) */
	kube_store claim_templates;
	kube_informer claims_informer;
	bool claims_store_up, claims_informer_up;
	rec_kind_arg claims_arg;
	/* KAI's Topology kind: -1 not known yet, 0 not served, 1 served;
	 * when it was last found out (rec_topology.c) */
	atomic_int kai_topology;
	atomic_uint_fast64_t kai_checked_ms;
	/* the token Secrets known to exist: rec_sync.c's secret_* */
	pthread_mutex_t secrets_lock;
	json_t *secrets;
};

/* Logs a line (printf format) for set (may be NULL) through o->log. */
void rec_log(rec_worker *w, rec_log_level level, const char *set,
	     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The queue key of the KAI Topology sync (no "/": no set's key). */
#define REC_KEY_TOPOLOGIES "#topologies"

/* Whether KAI's Topology kind is served: 1, 0, or -1 while unknown
 * (asked of the API server at most once a minute). */
int rec_worker_kai_topology(struct rec_worker *w);

/* A Topology per ClusterTopologyBinding, when KAI's kind is served.
 * Returns GV_OK or the failed write (err filled). */
int rec_sync_topologies(struct rec_worker *w, gv_error_t *err);

/* Whether node (may be NULL: gone) can no longer finish its pods'
 * deletion: Ready Unknown, the unreachable taint, or no node at all. */
bool rec_node_lost(const json_t *node);

/*
 * Brings set ns/name to its plan (seen_ns: when the oldest event that
 * queued it was seen, monotonic; the start of a gate's latency): reads it and its children from the
 * caches, plans, writes what differs, lifts the gates of pods whose gang
 * is ready. Returns GV_OK (done; *requeue_ms, when not 0, asks for
 * another sync after that long), or the failure of a write (the caller
 * requeues with back-off; err says what failed).
 */
int rec_sync(rec_worker *w, const char *ns, const char *name, uint64_t seen_ns,
	     uint64_t *requeue_ms, gv_error_t *err);

#endif
