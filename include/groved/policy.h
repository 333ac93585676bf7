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
#define POL_READ_MAX_DEPTH 128 /* nesting of maps/lists */
#define POL_READ_MAX_NODES ((size_t)4 << 20) /* nodes, aliases expanded */

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
	X(POL_FE_NOT_FOUND, "Not found", "FieldValueNotFound", true)

typedef enum {
#define POL_FE_X_ENUM(id, text, reason, shows) id,
	POL_FE_TABLE(POL_FE_X_ENUM)
#undef POL_FE_X_ENUM
} pol_fe_type;

/* One field error, as k8s.io/apimachinery's field.Error. */
typedef struct pol_ferr {
	char *field; /* the user's path, e.g. spec.podCliques[2].name */
	pol_fe_type type;
	json_t *value; /* owned; NULL when the type prints no value */
	char *detail; /* owned; may be NULL */
} pol_ferr;

/*
 * The outcome of a check: field errors (deny) and warnings (allow, but
 * tell the user). Append-only while checks run. Allocation failure is
 * sticky: the add functions record it in `oom` and every later add is a
 * no-op, so checks need not test each call; the caller tests `oom` once.
 */
typedef struct pol_verdict {
	pol_ferr *errors;
	size_t n_errors;
	size_t cap_errors;
	char **warnings;
	size_t n_warnings;
	size_t cap_warnings;
	bool oom;
} pol_verdict;

#define POL_VERDICT_INIT                      \
	{                                     \
		NULL, 0, 0, NULL, 0, 0, false \
	}

void pol_verdict_init(pol_verdict *v);
/* Frees the errors and warnings; v can be reused after pol_verdict_init. */
void pol_verdict_release(pol_verdict *v);

/* Adds an error. value is stolen; it must not be NULL for a type that
 * prints its value (NULL there is taken for a failed allocation and marks
 * v->oom), and is dropped for one that does not. detail is printf-like
 * and may be NULL. */
void pol_verdict_add(pol_verdict *v, pol_fe_type type, const char *field,
		     json_t *value, const char *detail_fmt, ...)
    __attribute__((format(printf, 5, 6)));
void pol_verdict_warn(pol_verdict *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Orders the errors as their fields appear in doc (stable: errors on the
 * same field keep the order the checks found them in). Marks v->oom when
 * it cannot allocate its scratch space. */
void pol_verdict_sort(pol_verdict *v, const json_t *doc);

/* "Invalid value: \"x\": detail": the error without its field, as
 * Kubernetes prints a cause's message. Returns a new malloc'd string, or
 * NULL when out of memory. */
char *pol_ferr_message(const pol_ferr *e);
/* "<field>: <message>". New malloc'd string or NULL. */
char *pol_ferr_string(const pol_ferr *e);
/* The status.message of a denial: one error alone, several as
 * "[e1, e2]". New malloc'd string or NULL (also when there is no error). */
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

/* ---------------------------------------------------------------------
 * Defaults (pol_defaults.c)
 * ------------------------------------------------------------------- */

/*
 * The defaults of API.md section 3 for the PodCliqueSet obj, as an RFC
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

#endif
