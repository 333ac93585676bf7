/* SPDX-License-Identifier: Apache-2.0 */
/*
 * policy.h: manifests in, verdicts out.
 *
 * The policy module turns a PodCliqueSet, read from YAML or JSON by base's
 * gv_read_documents (groved/gv_read.h), into one model, computes its
 * defaults as a JSON Patch and validates it into Kubernetes-style field
 * errors. It does no I/O, keeps
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
int pol_pointer_append(char *buf, size_t size, size_t *used, const char *key);

/* ---------------------------------------------------------------------
 * Field errors and verdicts (pol_verdict.c)
 * ------------------------------------------------------------------- */

/* X-macro: id, text as Kubernetes prints it, cause reason, prints value. */
#define POL_FE_TABLE(X)                                                        \
	X(POL_FE_INVALID, "Invalid value", "FieldValueInvalid", true)          \
	X(POL_FE_REQUIRED, "Required value", "FieldValueRequired", false)      \
	X(POL_FE_DUPLICATE, "Duplicate value", "FieldValueDuplicate", true)    \
	X(POL_FE_NOT_SUPPORTED, "Unsupported value", "FieldValueNotSupported", \
	  true)                                                                \
	X(POL_FE_FORBIDDEN, "Forbidden", "FieldValueForbidden", false)         \
	X(POL_FE_TOO_LONG, "Too long", "FieldValueTooLong", false)             \
	X(POL_FE_NOT_FOUND, "Not found", "FieldValueNotFound", true)           \
	X(POL_FE_TOO_MANY, "Too many", "FieldValueTooMany", true)

typedef enum {
#define POL_FE_X_ENUM(id, text, reason, shows) id,
	POL_FE_TABLE(POL_FE_X_ENUM)
#undef POL_FE_X_ENUM
} pol_fe_type;

/* One field error, as k8s.io/apimachinery's field.Error. */
typedef struct pol_ferr {
	char *field; /* the user's path, e.g. spec.podCliques[2].name */
	pol_fe_type type;
	json_t *value; /* owned; NULL: no value (absent, or a type without) */
	char *detail; /* owned; may be NULL */
} pol_ferr;

/*
 * The most a verdict's errors print to, all together ("[e1, e2, ...]",
 * the status.message of a denial): an error that would go past it is not
 * kept. The first one left out adds a last error instead,
 * `<object>: Too many: N: ...`, whose N counts the errors left out, so a
 * denial always fits and always says that it is cut. One value prints at
 * most POL_VERDICT_VALUE_MAX bytes (then "..."), one detail at most
 * POL_VERDICT_TEXT_MAX.
 */
#define POL_VERDICT_BYTES_MAX ((size_t)1 << 20)
#define POL_VERDICT_VALUE_MAX ((size_t)4 << 10)
#define POL_VERDICT_TEXT_MAX ((size_t)64 << 10)
#define POL_VERDICT_MORE_FIELD "<object>"

/*
 * The outcome of a check: field errors (deny) and warnings (allow, but
 * tell the user). Append-only while checks run.
 *
 * `oom` means out of memory and nothing else: it is set only where an
 * allocation failed (by the functions below, or by a check whose own
 * allocation failed), never for what an input can cause: an absent value,
 * a long list, too many errors. It is sticky: once set, every later add
 * is a no-op, so checks need not test each call; the caller tests `oom`
 * once and answers GV_ENOMEM.
 */
typedef struct pol_verdict {
	pol_ferr *errors;
	size_t n_errors;
	size_t cap_errors;
	char **warnings;
	size_t n_warnings;
	size_t cap_warnings;
	size_t bytes; /* what the errors print to, see BYTES_MAX */
	size_t n_omitted; /* errors left out, counted in the last one */
	bool oom;
} pol_verdict;

#define POL_VERDICT_INIT                                              \
	{                                                             \
		.errors = NULL, .n_errors = 0, .cap_errors = 0,       \
		.warnings = NULL, .n_warnings = 0, .cap_warnings = 0, \
		.bytes = 0, .n_omitted = 0, .oom = false              \
	}

void pol_verdict_init(pol_verdict *v);
/* Frees the errors and warnings; v can be reused after pol_verdict_init. */
void pol_verdict_release(pol_verdict *v);

/*
 * Adds an error. value is stolen and may be NULL: no value to show (the
 * field is absent), printed as `null` by a type that prints its value;
 * a type that prints none drops it. NULL is never taken for a failed
 * allocation: build a value with pol_verdict_copy, _str or _int, which
 * mark v->oom when they cannot allocate (the add is then a no-op).
 * detail is printf-like and may be NULL. Past POL_VERDICT_BYTES_MAX the
 * error is counted in the closing "Too many" error instead.
 */
void pol_verdict_add(pol_verdict *v, pol_fe_type type, const char *field,
		     json_t *value, const char *detail_fmt, ...)
    __attribute__((format(printf, 5, 6)));
void pol_verdict_warn(pol_verdict *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Values for pol_verdict_add. Each returns a new reference, or NULL: when
 * there is no value (x or s NULL) or, marking v->oom, when it cannot
 * allocate. pol_verdict_str repairs invalid UTF-8 (each bad byte becomes
 * U+FFFD) instead of failing on it.
 */
json_t *pol_verdict_copy(pol_verdict *v, const json_t *x);
json_t *pol_verdict_str(pol_verdict *v, const char *s);
json_t *pol_verdict_int(pol_verdict *v, int64_t n);

/* Orders the errors as their fields appear in doc (stable: errors on the
 * same field keep the order the checks found them in; the closing "Too
 * many" error stays last). Marks v->oom when it cannot allocate its
 * scratch space. */
void pol_verdict_sort(pol_verdict *v, const json_t *doc);

/* "Invalid value: \"x\": detail": the error without its field, as
 * Kubernetes prints a cause's message. Returns a new malloc'd string, or
 * NULL when out of memory (only then: the parts are bounded). */
char *pol_ferr_message(const pol_ferr *e);
/* "<field>: <message>". New malloc'd string or NULL. */
char *pol_ferr_string(const pol_ferr *e);
/* The status.message of a denial: one error alone, several as
 * "[e1, e2]". New malloc'd string, or NULL when there is no error or when
 * out of memory (never for its size: see POL_VERDICT_BYTES_MAX). */
char *pol_verdict_message(const pol_verdict *v);
/* status.details.causes: a new reference to an array of
 * {reason, message, field}, or NULL when out of memory. */
json_t *pol_verdict_causes(const pol_verdict *v);
/* The cause reason of a type, e.g. "FieldValueInvalid". Static string. */
const char *pol_fe_reason(pol_fe_type type);
/* The type as printed, e.g. "Invalid value". Static string. */
const char *pol_fe_text(pol_fe_type type);

/* ---------------------------------------------------------------------
 * The PodCliqueSet model (pol_model.c)
 * ------------------------------------------------------------------- */

#define POL_PATH_MAX 256

typedef enum {
	POL_FORM_COMPACT = 1,
	POL_FORM_TEMPLATE = 2,
} pol_form;

typedef enum {
	POL_STARTUP_ANY_ORDER = 0,
	POL_STARTUP_IN_ORDER,
	POL_STARTUP_EXPLICIT,
	POL_STARTUP_INVALID, /* written, but none of the three */
} pol_startup;

/*
 * A component's rollingUpdate: how the worker rolls a template change
 * through a standalone clique's pods or a scaling group's units
 * (docs/api.md section 4, V19; docs/reconcile.md, "Rollouts"). Read from
 * a clique's `rollingUpdate` (template form: beside its `spec`, else
 * `spec.rollingUpdate`) or a group's; absent members, and members that
 * fail V19, keep their defaults, so the model never asks for a rollout
 * that cannot move (maxUnavailable 0 with maxSurge 0 reads as 1).
 */
typedef struct pol_rolling {
	int64_t max_unavailable; /* 1 when absent */
	int64_t max_surge; /* 0; always 0 on a group and a grouped clique
			      (standalone cliques only) */
	double progress_deadline_s; /* 0: none */
	const char *progress_deadline; /* as written or NULL */
	bool set; /* a rollingUpdate object was written */
} pol_rolling;

/*
 * One clique, in the template form's meaning. Strings and json_t pointers
 * are borrowed from the document the model was built from. A field the
 * user left out has its default value and *_set false.
 */
typedef struct pol_clique {
	const char *name; /* NULL when absent or not a string */
	const char *role_name; /* compact: the name */
	int64_t replicas; /* pods (per unit, for a grouped clique) */
	int64_t min_available;
	bool replicas_set;
	bool min_available_set;
	const json_t *starts_after; /* as written: string, array, or NULL */
	const json_t *pod; /* the object holding containers etc.:
				       compact the clique, template podSpec */
	const json_t *claims; /* resourceClaims array or NULL */
	const json_t *autoscaling; /* template autoScalingConfig or NULL */
	const json_t *topology; /* template topologyConstraint or NULL */
	const json_t *node; /* the clique object as written */
	int group; /* index into groups, -1 standalone */
	size_t group_pos; /* position within the group */
	pol_rolling rolling; /* as written; a grouped clique's is ignored
				(V19 warns): its group's applies */
	char path[POL_PATH_MAX]; /* spec.podCliques[2] */
	char
	    spec_path[POL_PATH_MAX]; /* holds roleName, replicas, startsAfter */
	char pod_path[POL_PATH_MAX]; /* holds containers */
} pol_clique;

typedef struct pol_group {
	const char *name;
	const json_t *clique_names; /* the array as written, or NULL */
	int64_t *ratio; /* compact: pods of each listed clique
				       per unit; n_cliques entries */
	size_t *cliques; /* index of each listed clique, or
				       SIZE_MAX when it names none */
	size_t n_cliques;
	int64_t replicas; /* units */
	int64_t min_available;
	int64_t max_replicas; /* the most units the spec allows */
	bool replicas_set;
	bool min_available_set;
	const json_t *scale_config; /* template scaleConfig or NULL */
	const json_t *topology; /* template topologyConstraint or NULL */
	pol_rolling rolling; /* per unit; max_surge always 0 */
	const json_t *node;
	char path[POL_PATH_MAX]; /* spec.scalingGroups[0] */
	char cliques_path[POL_PATH_MAX]; /* ...cliques / ...cliqueNames */
} pol_group;

typedef struct pol_pcs {
	pol_form form;
	const char *name; /* metadata.name, or NULL */
	const char *namespace; /* metadata.namespace, or NULL */
	const char *generate_name;
	int64_t replicas; /* spec.replicas, defaulted */
	bool replicas_set;
	int64_t min_replicas; /* compact scaling; template: replicas */
	int64_t max_replicas;
	bool scaling_set;
	pol_startup startup;
	const char *startup_written; /* cliqueStartupType as written */
	const char *termination_delay;
	double termination_delay_s; /* parsed; 0 when absent or invalid */
	bool on_delete; /* spec.updateStrategy.type OnDelete (template form);
			   false: RollingRecreate, the compact form's only */
	const json_t *topology; /* template topologyConstraint */
	const json_t *claim_templates; /* template resourceClaimTemplates */
	const json_t *clique_list; /* the cliques array as written */
	pol_clique *cliques;
	size_t n_cliques;
	pol_group *groups;
	size_t n_groups;
	const json_t *doc; /* borrowed: the object the model was built from */
	json_t *clique_index; /* owned: clique name -> index of its first use */
	char cliques_path[POL_PATH_MAX];
	char groups_path[POL_PATH_MAX];
} pol_pcs;

/*
 * Builds the model of the PodCliqueSet obj (either form). Structural
 * problems (wrong form, wrong JSON types, unknown compact fields) are
 * added to v as field errors; the model is still built from whatever is
 * usable. Returns GV_OK with *out filled, GV_EINVAL when no model can be
 * built (no spec, or both forms: v says why), or GV_ENOMEM. The model
 * borrows from obj: keep obj alive until pol_pcs_release.
 */
int pol_pcs_build(const json_t *obj, pol_pcs *out, pol_verdict *v);
void pol_pcs_release(pol_pcs *pcs);

/* Index of the (first) clique named name, or SIZE_MAX; constant time. */
size_t pol_pcs_find_clique(const pol_pcs *pcs, const char *name);

/* What an object is, as the API server decides before any webhook. */
typedef enum {
	POL_KIND_OTHER = 0, /* a kind of another API group */
	POL_KIND_INVALID, /* no apiVersion or kind, not an object, or a
			     Grove group's unknown kind or unserved version */
	POL_KIND_PODCLIQUESET,
	POL_KIND_PODCLIQUE,
	POL_KIND_PODCLIQUESCALINGGROUP,
	POL_KIND_CLUSTERTOPOLOGYBINDING,
	POL_KIND_PODGANG,
} pol_kind;

/*
 * The kind of obj. For POL_KIND_INVALID, v says why: apiVersion or kind
 * Required; for the Grove groups (grove.io, scheduler.grove.io, both
 * served as v1alpha1) an unknown kind (Unsupported, with a did-you-mean
 * or the kinds the group serves), a kind of the other group, or an
 * unserved version (Unsupported, naming the served one). An object of a
 * Grove group also gets V1's unknown-field error, with its did-you-mean,
 * for a top-level member other than apiVersion, kind, metadata, spec and
 * status (then its kind is still returned). Allocation failure marks
 * v->oom.
 */
pol_kind pol_kind_of(const json_t *obj, pol_verdict *v);

/* ---------------------------------------------------------------------
 * Defaults (pol_defaults.c)
 * ------------------------------------------------------------------- */

/*
 * The defaults of docs/api.md section 3 for the PodCliqueSet obj, as an RFC
 * 6902 JSON Patch: only absent fields are set, only inside objects that
 * exist, and a default derived from an invalid value (replicas 0) is not
 * written, so validation never reports a field that only defaults wrote.
 * Applying the patch and calling this again yields an empty patch.
 * On success *patch_out is a new reference to an array (empty when
 * nothing changes). Returns GV_ENOMEM or GV_ETOOBIG (a path too long).
 */
int pol_defaults_pcs(const json_t *obj, json_t **patch_out, gv_error_t *err);

/* ---------------------------------------------------------------------
 * Validation (pol_validate.c, pol_update.c, pol_topology.c)
 * ------------------------------------------------------------------- */

typedef enum {
	POL_LOOKUP_FOUND = 0,
	POL_LOOKUP_MISSING,
	POL_LOOKUP_UNKNOWN, /* could not be checked: says why */
} pol_lookup_result;

/*
 * How validation finds objects outside the PodCliqueSet: the webhook
 * passes the informer caches, `groved validate` the objects in its files.
 * A NULL function (or a NULL pol_lookup) answers POL_LOOKUP_UNKNOWN.
 * `why` receives, for UNKNOWN, a short reason ("offline: no
 * ResourceClaimTemplate of namespace \"x\" in the files").
 */
typedef struct pol_lookup {
	pol_lookup_result (*claim_template)(void *ctx, const char *ns,
					    const char *name, char *why,
					    size_t why_size);
	/* On FOUND, *levels is a new reference to the binding's
	 * spec.levels array. */
	pol_lookup_result (*topology)(void *ctx, const char *name,
				      json_t **levels, char *why,
				      size_t why_size);
	void *ctx;
} pol_lookup;

#define POL_DEFAULT_SCHEDULER "kai-scheduler"
#define POL_DEFAULT_TOPOLOGY "grove-topology"
#define POL_NAME_MAX 63

typedef struct pol_options {
	const char *default_scheduler; /* NULL: POL_DEFAULT_SCHEDULER */
	const char *default_namespace; /* NULL: "default" */
	const pol_lookup *lookup; /* NULL: nothing can be checked */
} pol_options;

/*
 * Validates the (defaulted) PodCliqueSet obj: rules V1..V20 and, when old
 * is not NULL (UPDATE), U1..U3. Errors and warnings are added to v in
 * document order. Returns GV_OK (whatever the verdict) or GV_ENOMEM.
 */
int pol_validate_pcs(const json_t *obj, const json_t *old,
		     const pol_options *opts, pol_verdict *v);

/*
 * What the API server does with the two webhooks, in one call: the
 * defaults patch applied to obj, then pol_validate_pcs on the result, as
 * a CREATE (old NULL) or an UPDATE of old (used as it is: it was stored
 * defaulted). When defaulted_out is not NULL it receives a new reference
 * to the defaulted object.
 */
int pol_review_pcs(const json_t *obj, const json_t *old,
		   const pol_options *opts, pol_verdict *v,
		   json_t **defaulted_out);

/* Validates a ClusterTopologyBinding (spec.levels). */
int pol_validate_topology_binding(const json_t *obj, pol_verdict *v);

/* ---------------------------------------------------------------------
 * Pod shaping (pol_pod.c): docs/api.md sections 5 and 6
 * ------------------------------------------------------------------- */

/* Label keys and values of section 5. */
#define POL_LABEL_MANAGED_BY "app.kubernetes.io/managed-by"
#define POL_LABEL_PART_OF "app.kubernetes.io/part-of"
#define POL_LABEL_COMPONENT "app.kubernetes.io/component"
#define POL_LABEL_APP_NAME "app.kubernetes.io/name" /* the PodClique's name */
#define POL_LABEL_PCS "grove.io/podcliquesets"
#define POL_LABEL_PCS_CLIQUE "grove.io/podcliquesets-clique"
#define POL_LABEL_PCLQ "grove.io/podclique"
#define POL_LABEL_PODGANG "grove.io/podgang"
#define POL_LABEL_BASE_PODGANG "grove.io/base-podgang"
#define POL_LABEL_PCS_INDEX "grove.io/podcliqueset-replica-index"
#define POL_LABEL_PCSG "grove.io/podcliquescalinggroup"
#define POL_LABEL_PCSG_INDEX "grove.io/podcliquescalinggroup-replica-index"
#define POL_LABEL_PCSG_POD_INDEX "grove.io/podcliquescalinggroup-pod-index"
#define POL_LABEL_POD_INDEX "grove.io/podclique-pod-index"
#define POL_LABEL_TEMPLATE_HASH "grove.io/pod-template-hash"
#define POL_LABEL_KAI_QUEUE "kai.scheduler/queue"
#define POL_MANAGED_BY "grove-operator"
/* app.kubernetes.io/component of a standalone and a grouped PodClique
 * and their pods */
#define POL_COMPONENT_PCS_PCLQ "pcs-podclique"
#define POL_COMPONENT_PCSG_PCLQ "pcsg-podclique"
#define POL_COMPONENT_PODGANG "podgang"
/* Left out of a pod's annotations: the PodGang owns topology. */
#define POL_ANNOTATION_TOPOLOGY "grove.io/topology-name"

#define POL_GATE_PODGANG "grove.io/podgang-pending-creation"
#define POL_INITC_NAME "grove-initc"
/* grove-initc's credentials (section 6): the token of the set's
 * ServiceAccount <pcs>, from Secret <pcs>-ic-sat, in a volume of this
 * name mounted at the path clients read a token from, in grove-initc
 * only. */
#define POL_INITC_SECRET_SUFFIX "-ic-sat"
#define POL_INITC_TOKEN_VOLUME "sa-token-secret-vol"
#define POL_INITC_TOKEN_PATH "/var/run/secrets/kubernetes.io/serviceaccount"
/* The grove-initc image when pol_pod_options.initc_image is NULL, and the
 * default of `groved serve --initc-image`: the one place it is written. The
 * image runs `groved`, so args start with "initc". It is the install's own
 * image (deploy/base/deployment.yaml), tagged with the project's version;
 * tests/deploy/check_image.py keeps them and the README in step. */
#define POL_DEFAULT_INITC_IMAGE "ghcr.io/groved/groved:0.1.0"
/* What kube-apiserver writes into a pod that names no scheduler. */
#define POL_APISERVER_SCHEDULER "default-scheduler"
/* Characters of grove.io/pod-template-hash. */
#define POL_TEMPLATE_HASH_LEN 10

/* Which pod of a PodCliqueSet: i, the clique, j, k of docs/api.md 5. */
typedef struct pol_pod_ref {
	int64_t set_index; /* i: replica of the PodCliqueSet */
	size_t clique; /* index into pol_pcs.cliques */
	int64_t group_index; /* j: unit of the clique's group; ignored for
				a standalone clique */
	int64_t pod_index; /* k: pod of the PodClique */
} pol_pod_ref;

typedef struct pol_pod_options {
	const char *default_scheduler; /* NULL: POL_DEFAULT_SCHEDULER */
	const char *initc_image; /* NULL: POL_DEFAULT_INITC_IMAGE */
	const char *namespace; /* NULL: the set's, else "default" */
	/* NULL: computed; else the clique's grove.io/pod-template-hash as
	 * pol_pod_shape gave it before (a caller's cache: the planner
	 * shapes thousands of pods of one clique) */
	const char *template_hash;
} pol_pod_options;

/*
 * The shape groved gives pod ref of pcs: the parts of the pod it owns,
 * not a whole pod. On success *shape_out is a new reference to
 *
 *   {"metadata": {"name": "<pclq>-<k>", "namespace": ns,
 *                 "labels": {the clique template's labels, the set's
 *                            kai.scheduler/queue when the template has
 *                            none, then section 5's, which win},
 *                 "annotations": {the template's but
 *                                 grove.io/topology-name} (when any)},
 *    "spec": {"schedulerName", "schedulingGates": [{"name": gate}],
 *             "hostname": "<pclq>-<k>", "subdomain": "<pcs>-<i>",
 *             "initContainers": [{"name", "env"} per template init
 *                                container, then grove-initc (only
 *                                with parents) with its token mount],
 *             "volumes": [the token volume] (only with grove-initc),
 *             "containers": [{"name", "env": [GROVE_* vars]}, ...]}}
 *
 * with one entry per container and init container of the clique (but
 * one named grove-initc), each with the same env in section 6's order.
 * grove-initc mounts POL_INITC_TOKEN_VOLUME, the Secret <pcs>-ic-sat,
 * at POL_INITC_TOKEN_PATH; serviceAccountName is not part of the shape.
 * The worker lays this over the clique's pod spec: groved's variables
 * before a container's own (a same-named one replaced), grove-initc
 * after the template's init containers; pol_pod_patch does the same to
 * a pod the webhook sees.
 *
 * grove.io/pod-template-hash is the first POL_TEMPLATE_HASH_LEN hex
 * digits of the 64-bit FNV-1a hash of the clique's pod template dumped as
 * compact JSON with sorted keys: the template form's podSpec, or the
 * compact form's clique without name, replicas, minAvailable,
 * startsAfter and rollingUpdate (which do not shape a pod).
 *
 * Returns GV_EINVAL (ref out of range, negative indices, or a set, clique
 * or group without a name), GV_ETOOBIG (a generated name over 253
 * characters) or GV_ENOMEM; *shape_out is then untouched.
 */
int pol_pod_shape(const pol_pcs *pcs, const pol_pod_ref *ref,
		  const pol_pod_options *o, json_t **shape_out);

/*
 * The RFC 6902 patch that makes pod (borrowed) what shape (borrowed, from
 * pol_pod_shape) says, in this order: the gate (/spec/schedulingGates
 * created, or the gate appended to other gates); schedulerName (added
 * when absent or empty, replaced when it is apiserver_default, NULL
 * meaning POL_APISERVER_SCHEDULER, which the API server fills before
 * webhooks run; any other scheduler on the pod is kept); each label of
 * the shape the pod lacks or has with another value (groved's win); each
 * annotation the pod lacks (the pod's own value is kept); per container,
 * then per init container but grove-initc, the env with groved's
 * variables first and the container's own others after them, replaced
 * only when it differs (from the shape entry of the same name, else the
 * shape's first); the token volume when none of its name is there;
 * grove-initc after the pod's own init containers when none of its name
 * is there. metadata.name, namespace, hostname, subdomain and
 * serviceAccountName are not patched (the webhook neither renames nor
 * re-homes a pod, and the pod's own identity is the user's). Applying
 * the patch to pod and calling this again gives [].
 *
 * On success *patch_out is a new reference to an array (empty when
 * nothing is missing). Returns GV_EINVAL (pod or shape not an object),
 * GV_ETOOBIG (a path too long) or GV_ENOMEM.
 */
int pol_pod_patch(const json_t *pod, const json_t *shape,
		  const char *apiserver_default, json_t **patch_out);

/*
 * The metadata of the PodClique of ref (its pod_index is ignored), as
 * section 5 says: {"name": <pclq>, "labels": {the template's, then
 * managed-by, part-of, app.kubernetes.io/component and name,
 * grove.io/podgang, grove.io/base-podgang for a scaled gang, the
 * replica indices, grove.io/pod-template-hash, the group}, "annotations":
 * {the template's but grove.io/topology-name} (when any)}: the labels a
 * pod of it carries in pol_pod_shape, less the pod's own. o may be NULL:
 * only its template_hash is read. On success *meta_out is a new
 * reference; errors as pol_pod_shape.
 */
int pol_podclique_meta(const pol_pcs *pcs, const pol_pod_ref *ref,
		       const pol_pod_options *o, json_t **meta_out);

/*
 * Another pod of the same clique and set as pod (borrowed: a whole pod
 * that pol_pod_shape's shape was laid over by pol_pod_patch and
 * pol_patch_apply), made into the pod shape (borrowed, pol_pod_shape's
 * for the pod wanted) says: everything groved shapes is taken from
 * shape, the clique's own parts from pod. metadata.labels and
 * annotations, spec.hostname and subdomain are shape's; in each
 * container and init container the shape names, the head of env
 * (groved's variables, as many as the shape's) is the shape's, and
 * grove-initc is the shape's whole. metadata.name is pod's: the caller
 * sets its own (the worker may suffix it).
 *
 * On success *pod_out is a new reference that SHARES unchanged values
 * with pod and shape (jansson reference counts): treat all three as
 * read-only, or json_deep_copy before changing. For the planner: this
 * costs a fraction of a patch per pod and gives the same pod (test_plan
 * compares both over 3,000 generated sets). Returns GV_EINVAL (pod or
 * shape not a pod, or pod lacks a container the shape names) or
 * GV_ENOMEM, *pod_out untouched.
 */
int pol_pod_restamped(const json_t *pod, const json_t *shape, json_t **pod_out);

/*
 * The labels and annotations of every PodGang of pcs (section 5):
 * {"labels": {the set's labels but those under grove.io/, then
 * managed-by, part-of, app.kubernetes.io/component: podgang},
 * "annotations": {the set's but those under grove.io/ and kubectl's
 * last-applied-configuration}}. KAI takes the queue kai.scheduler/queue
 * from the gang first. grove.io/topology-name is the topology builder's
 * to add. On
 * success *meta_out is a new reference; GV_EINVAL (no set name) or
 * GV_ENOMEM.
 */
int pol_podgang_meta(const pol_pcs *pcs, json_t **meta_out);
#define POL_ANNOTATION_LAST_APPLIED \
	"kubectl.kubernetes.io/last-applied-configuration"

/*
 * Which pod of pcs the pod (borrowed) is, for the pod webhook: the clique
 * from label grove.io/podcliquesets-clique; each of i, j, k from its
 * label (grove.io/podcliqueset-replica-index,
 * grove.io/podcliquescalinggroup-replica-index,
 * grove.io/podclique-pod-index) when that is a decimal number, else from
 * metadata.name when it is the generated `<pcs>-<i>-<clique>-<k>` or
 * `<pcs>-<i>-<group>-<j>-<clique>-<k>`, else 0.
 * Returns GV_OK with *ref_out filled, or GV_ENOTFOUND when the pod has no
 * clique label or it names no clique of pcs.
 */
int pol_pod_ref_from_pod(const pol_pcs *pcs, const json_t *pod,
			 pol_pod_ref *ref_out);

/* ---------------------------------------------------------------------
 * The authorizer (pol_authz.c): docs/api.md section 8, authorizer-webhook
 * ------------------------------------------------------------------- */

typedef enum {
	POL_AUTHZ_ALLOW = 0,
	POL_AUTHZ_DENY,
} pol_authz_decision;

/* One request; every pointer borrowed, strings never NULL ("" when
 * absent), objects NULL when absent. */
typedef struct pol_authz_request {
	const char *user; /* userInfo.username */
	const char *operation; /* CREATE, UPDATE, DELETE, CONNECT */
	const char *group; /* API group of the resource, "" for core */
	const char *resource; /* plural, e.g. "podcliques" */
	const char *sub_resource; /* "" for the main resource */
	const char *namespace;
	const char *name; /* "" on a CREATE with generateName */
	const json_t *object;
	const json_t *old_object;
} pol_authz_request;

typedef struct pol_authz_config {
	const char *self_user; /* groved's service account; may be NULL */
	const char *const *exempt_users; /* NULL-terminated; NULL:
					    pol_authz_default_exempt */
} pol_authz_config;

/*
 * The default exempt users, NULL-terminated: the garbage collector, the
 * namespace controller, the HPA controller, kube-controller-manager, and
 * KAI Scheduler's pod-grouper and binder as a Helm install of KAI in
 * namespace kai-scheduler names them
 * (system:serviceaccount:kai-scheduler:pod-grouper and ...:binder;
 * configure others when KAI runs elsewhere).
 */
extern const char *const pol_authz_default_exempt[];

/*
 * Decides whether rq may change a groved-managed object. Denied: a CREATE,
 * UPDATE or DELETE of podcliques or podcliquescalinggroups (grove.io) or
 * podgangs (scheduler.grove.io), an UPDATE or DELETE of services,
 * secrets, serviceaccounts (core), roles or rolebindings
 * (rbac.authorization.k8s.io), or an UPDATE of pods, when the object or
 * the old object carries app.kubernetes.io/managed-by: grove-operator and
 * the user is neither cfg->self_user nor exempt. Everything else is
 * allowed: subresources, pod DELETE, unmanaged objects, other resources.
 * system:masters is not exempt: the rule exists to stop people editing
 * what the worker owns, and people are usually admins; an admin who must
 * can remove the webhook configuration.
 *
 * reason (size bytes, always NUL-terminated, may be NULL when size is 0)
 * receives why: for a denial the message the API server shows,
 * `<resource> "<ns>/<name>" is managed by groved; changes by user
 * "<user>" are not allowed (edit the PodCliqueSet instead)`.
 */
pol_authz_decision pol_authorize(const pol_authz_request *rq,
				 const pol_authz_config *cfg, char *reason,
				 size_t size);

#endif
