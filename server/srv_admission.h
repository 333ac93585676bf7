/* SPDX-License-Identifier: Apache-2.0 */
/*
 * srv_admission.h: AdmissionReview in, AdmissionReview out (docs/api.md
 * sections 3, 4, 6 and 8). No sockets here: srv_admission_serve() takes
 * the request body and returns the HTTP answer, so the whole webhook path
 * is testable and fuzzable as bytes in, bytes out. The HTTP server
 * (srv_http.c) calls it from its worker threads; everything here is
 * reentrant and reads shared state only through the cache.
 */
#ifndef GROVED_SRV_ADMISSION_H
#define GROVED_SRV_ADMISSION_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "groved/policy.h"
#include "srv_cache.h"

/* The webhooks of docs/api.md section 8, one per path. */
#define SRV_HOOK_TABLE(X)                                              \
	X(SRV_HOOK_DEFAULT_PCS, "/webhooks/default-podcliqueset",      \
	  "default-podcliqueset")                                      \
	X(SRV_HOOK_VALIDATE_PCS, "/webhooks/validate-podcliqueset",    \
	  "validate-podcliqueset")                                     \
	X(SRV_HOOK_VALIDATE_SCALE, "/webhooks/validate-scale",         \
	  "validate-scale")                                            \
	X(SRV_HOOK_MUTATE_POD, "/webhooks/mutate-pod", "mutate-pod")   \
	X(SRV_HOOK_VALIDATE_CTB, "/webhooks/validate-clustertopology", \
	  "validate-clustertopology")                                  \
	X(SRV_HOOK_AUTHORIZER, "/webhooks/authorizer-webhook",         \
	  "authorizer-webhook")

typedef enum {
#define SRV_HOOK_X_ENUM(id, path, name) id,
	SRV_HOOK_TABLE(SRV_HOOK_X_ENUM)
#undef SRV_HOOK_X_ENUM
	    SRV_HOOK_COUNT
} srv_hook;

/* The hook served at path (the query string already cut off), or -1. */
int srv_hook_from_path(const char *path);
/* "/webhooks/..." and the short name used in logs and metrics. Static. */
const char *srv_hook_path(srv_hook hook);
const char *srv_hook_name(srv_hook hook);

/* A request body is refused above this (an UPDATE carries object and
 * oldObject, so 7 MiB must pass). */
#define SRV_MAX_BODY ((size_t)7 << 20)

/*
 * A parsed AdmissionReview request. Strings and objects are borrowed
 * from doc, which the review owns. Absent strings are "" (never NULL);
 * absent or null objects are NULL.
 */
typedef struct srv_review {
	json_t *doc; /* owned: the whole AdmissionReview */
	const char *api_version; /* of the review: admission.k8s.io/v1 */
	const char *uid;
	const char *operation; /* CREATE, UPDATE, DELETE, CONNECT */
	const char *group; /* request.kind.group ("" for core) */
	const char *version; /* request.kind.version */
	const char *kind; /* request.kind.kind */
	const char *resource; /* request.resource.resource */
	const char *sub_resource; /* request.subResource, "" for none */
	const char *namespace;
	const char *name;
	const char *user; /* request.userInfo.username */
	const json_t *groups; /* request.userInfo.groups, or NULL */
	const json_t *object;
	const json_t *old_object;
	bool dry_run;
} srv_review;

/*
 * What a hook decides. Denials carry Kubernetes' Status fields
 * (docs/api.md 4.3: code 403, reason "Forbidden", a message, causes); mutations a JSON
 * Patch. Everything here is owned by the answer; srv_answer_release frees
 * it.
 */
typedef struct srv_answer {
	bool allowed;
	int code; /* denial status code; 0 means 403 */
	const char *reason; /* static; NULL means "Forbidden" */
	char *message; /* denial message (malloc'd), or NULL */
	json_t *causes; /* details.causes, or NULL */
	json_t *warnings; /* array of strings, or NULL */
	json_t *patch; /* JSON Patch array; NULL or [] sends none */
} srv_answer;

void srv_answer_init(srv_answer *a);
void srv_answer_release(srv_answer *a);
/* Fills a (allowed, or a 403 denial with message and causes, plus the
 * warnings) from a verdict. Returns GV_OK or GV_ENOMEM. */
int srv_answer_from_verdict(srv_answer *a, const pol_verdict *v);

/* What the hooks may read: configuration and the caches. Shared by all
 * threads, read-only. */
typedef struct srv_hook_env {
	const srv_cache *cache;
	const char *default_scheduler; /* "kai-scheduler" */
	const char *initc_image; /* image of the grove-initc container */
	const char *self_user; /* groved's own service account user */
	const char *const *exempt_users; /* NULL-terminated; the authorizer's
					    exempt list */
} srv_hook_env;

/*
 * One webhook's logic. Returns GV_OK with out filled, GV_EINVAL when the
 * review is not one this hook handles (wrong kind or resource: out->message
 * says what was expected), or GV_ENOMEM. Never does I/O except through
 * env->cache.
 */
typedef int (*srv_hook_fn)(const srv_review *r, const srv_hook_env *env,
			   srv_answer *out);

/* The hooks, each in its own file. */
int srv_hook_default_pcs(const srv_review *r, const srv_hook_env *env,
			 srv_answer *out); /* srv_hook_pcs.c */
int srv_hook_validate_pcs(const srv_review *r, const srv_hook_env *env,
			  srv_answer *out); /* srv_hook_pcs.c */
int srv_hook_validate_scale(const srv_review *r, const srv_hook_env *env,
			    srv_answer *out); /* srv_hook_scale.c */
int srv_hook_validate_ctb(const srv_review *r, const srv_hook_env *env,
			  srv_answer *out); /* srv_hook_pcs.c */
int srv_hook_mutate_pod(const srv_review *r, const srv_hook_env *env,
			srv_answer *out); /* srv_hook_pod.c */
int srv_hook_authorize(const srv_review *r, const srv_hook_env *env,
		       srv_answer *out); /* srv_hook_authz.c */

/* The HTTP answer to one request: status and body (malloc'd). */
typedef struct srv_reply {
	int status; /* 200, or 400 for a malformed review */
	const char *content_type; /* static */
	char *body;
	size_t len;
} srv_reply;

void srv_reply_release(srv_reply *r);

/* What the access log records about one review (no object contents). */
typedef struct srv_review_log {
	char uid[64];
	char kind[64];
	char namespace[64];
	char name[254];
	char operation[16];
	char user[128];
	bool allowed;
	bool patched;
	bool malformed; /* answered 400 */
	char error[256]; /* why it was malformed, for the log */
} srv_review_log;

/*
 * Parses body as an AdmissionReview (admission.k8s.io/v1), runs hook, and
 * writes the response review (uid echoed, apiVersion and kind, allowed,
 * status, warnings, base64 JSON Patch with patchType) into reply. A body
 * that is not a valid review gets status 400 and a Status JSON body whose
 * message says what is wrong and where. Returns GV_OK (reply filled, also
 * for 400s) or GV_ENOMEM; GV_ETOOBIG or GV_ETOODEEP for an answer that
 * cannot be written (past 256 MiB, or nested deeper than a request may
 * be), which no review within SRV_MAX_BODY produces. log may be NULL.
 */
int srv_admission_serve(srv_hook hook, const char *body, size_t len,
			const srv_hook_env *env, srv_reply *reply,
			srv_review_log *log);

#endif
