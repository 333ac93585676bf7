/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_plan_util.h: helpers shared by the planner's and the statuses'
 * tests (test_plan.c, test_plan_rollout.c, test_status.c): a set's text
 * defaulted and modelled, reading planned objects, the plan's objects
 * as rec_observed holds them (a simulated cluster), observed pods, and
 * the texts of the sets they share. Every helper fails the test on what
 * it does not expect; none returns an error.
 */
#ifndef GROVED_TEST_PLAN_UTIL_H
#define GROVED_TEST_PLAN_UTIL_H

#include "test_util.h"

#include "groved/reconcile.h"

/* ---- set texts ----------------------------------------------------------- */

/* The name of the sets of TP_HEAD. */
#define TP_SET "t"

/* The first lines of a PodCliqueSet TP_SET in namespace ns. */
#define TP_HEAD                                         \
	"apiVersion: grove.io/v1alpha1\n"               \
	"kind: PodCliqueSet\n"                          \
	"metadata: {name: " TP_SET ", namespace: ns}\n" \
	"spec:\n"

/* A clique of the template form (in spec.template.cliques): name, its
 * replicas (a string), more lines of its spec (or "") and the image of
 * its one container; TP_CLIQUE_SPEC its lines from spec on. */
/* clang-format off */
#define TP_CLIQUE_SPEC(replicas, more, image)                           \
	"      spec:\n"                                                 \
	"        replicas: " replicas "\n"                              \
	more                                                            \
	"        podSpec: {containers: [{name: c, image: " image "}]}\n"
#define TP_CLIQUE(name, replicas, more, image)                          \
	"    - name: " name "\n"                                        \
	TP_CLIQUE_SPEC(replicas, more, image)
/* clang-format on */

/* One standalone clique a packed in topology level zone of
 * ClusterTopologyBinding dc: the set p, no namespace. */
extern const char tp_packed_set[];

/* text with every from replaced by to: the caller frees it. */
char *tp_replaced(const char *text, const char *from, const char *to);

/* ---- a set --------------------------------------------------------------- */

/* text (a PodCliqueSet) defaulted as the mutating webhook does, with
 * spec.replicas set to replicas first when >= 0: a new reference. When
 * must_be_valid, a set that does not validate fails the test with its
 * message. */
json_t *tp_default(const char *text, int64_t replicas, bool must_be_valid);

/* The model of the defaulted set doc (borrowed) into *pcs, which the
 * caller releases (pol_pcs_release). */
void tp_build(const json_t *doc, pol_pcs *pcs);

/* The next generated set (test_gen.h, from *seed) that validates,
 * defaulted: a new reference. *generated counts the sets generated,
 * valid or not (the one returned is number *generated - 1); fails past
 * 200,000. */
json_t *tp_next_valid(uint64_t *seed, size_t *generated);

/* ---- objects ------------------------------------------------------------- */

/* o's metadata.name, metadata.labels[key] (borrowed), or NULL. */
const char *tp_name_of(const json_t *o);
const char *tp_label_of(const json_t *o, const char *key);

/* Whether o's kind is kind. */
bool tp_kind_is(const json_t *o, const char *kind);

/* Sets o[obj][key] to val (stolen), making o[obj] when it is missing. */
void tp_set_member(json_t *o, const char *obj, const char *key, json_t *val);

/* Sets o's label key to value (copied), making metadata.labels when it
 * is missing. */
void tp_set_label(json_t *o, const char *key, const char *value);

/* ---- a plan -------------------------------------------------------------- */

/* The planned object kind/name (borrowed), or NULL. */
const json_t *tp_planned(const rec_plan *plan, const char *kind,
			 const char *name);

/* The grove.io/pod-template-hash label of the planned PodClique pclq
 * (borrowed), which must exist. */
const char *tp_planned_hash(const rec_plan *plan, const char *pclq);

/* The plan's pods by the PodGang that lists them, pod name -> gang name:
 * a new reference. Fails when a PodGang lists a pod twice, or a
 * podgroup its podReferences out of name order. */
json_t *tp_gang_map(const rec_plan *plan);

/* ---- what is observed ---------------------------------------------------- */

/* rec_observed's five lists, in this order. */
enum { TP_PODCLIQUES, TP_GROUPS, TP_PODGANGS, TP_PODS, TP_OTHERS, TP_LISTS };

/* A cluster as rec_observed sees it: lists owned, obs borrows them. */
typedef struct tp_cluster {
	json_t *lists[TP_LISTS];
	rec_observed obs;
} tp_cluster;

/* Five empty lists. */
void tp_cluster_init(tp_cluster *c);
void tp_cluster_release(tp_cluster *c);

/* The list that holds kind (TP_OTHERS for any other, or NULL). */
size_t tp_list_of(const char *kind);

/* The plan's objects, copied into a new cluster: release it. */
void tp_observe(tp_cluster *c, const rec_plan *plan);

/* The observed object kind/name (borrowed, mutable), or NULL; *at (when
 * not NULL) its index in its list. */
json_t *tp_cluster_find(const tp_cluster *c, const char *kind, const char *name,
			size_t *at);

/* pod bound to node n1, Running, Ready or not. */
void tp_bind(json_t *pod, bool ready);

/* pod terminating since when (its deletionTimestamp). */
void tp_terminate(json_t *pod, const char *when);

#endif
