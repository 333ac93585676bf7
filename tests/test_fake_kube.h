/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_fake_kube.h: an API server inside the test process, for unit tests
 * of modules that talk to the cluster through kube_client.h. The test is
 * linked with -Wl,--wrap=kube_get,--wrap=kube_create,--wrap=kube_update
 * (gv_fake_kube_test in tests/CMakeLists.txt), so the module's calls land
 * in tests/test_fake_kube.c instead of libcurl: objects in memory, a
 * resourceVersion per write, preconditions (409 Conflict), AlreadyExists,
 * NotFound, and failures injected per verb and resource. Every call is
 * counted.
 *
 * A fake is attached to the kube_client values the module is given (none
 * of them is ever initialised: no request leaves the process). Tests run
 * one at a time; a fake is used on one thread at a time unless noted.
 */
#ifndef GROVED_TEST_FAKE_KUBE_H
#define GROVED_TEST_FAKE_KUBE_H

#include <pthread.h>
#include <stdbool.h>

#include "groved/kube.h"

#define FK_MAX_FAULTS 8

typedef enum { FK_GET, FK_CREATE, FK_UPDATE, FK_VERBS } fk_verb;

typedef struct fk_fault {
	fk_verb verb;
	char resource[64]; /* "" for every resource */
	int rc;
	kube_err kind;
	long status;
	unsigned times; /* calls left to fail */
} fk_fault;

typedef struct fk_call {
	const kube_client *client;
	fk_verb verb;
	char resource[64];
	char ns[64];
	char name[128];
} fk_call;

#define FK_MAX_CALLS 2048

typedef struct fake_kube {
	pthread_mutex_t lock; /* the calls may come from several threads */
	json_t *objects; /* "resource/ns/name" -> object (ns "" for cluster) */
	unsigned long rv; /* the last resourceVersion given */
	fk_fault faults[FK_MAX_FAULTS];
	size_t n_faults;
	fk_call calls[FK_MAX_CALLS];
	size_t n_calls; /* counting more than FK_MAX_CALLS fails the test */
	/* Called (lock released) after each GET that found its object:
	 * another writer between a module's read and its write. */
	void (*after_get)(struct fake_kube *fk, const kube_gvr *gvr,
			  const char *name, void *ctx);
	void *after_get_ctx;
} fake_kube;

/* An empty fake; fk_release frees it and detaches its clients. */
void fk_init(fake_kube *fk);
void fk_release(fake_kube *fk);
/* Calls through client (borrowed, never initialised) now reach fk. */
void fk_attach(fake_kube *fk, kube_client *client);

/* Stores a copy of obj (borrowed) under gvr, ns (ignored for cluster
 * scope) and its metadata.name, with a new resourceVersion, as a write
 * from someone else would. */
void fk_put(fake_kube *fk, const kube_gvr *gvr, const char *ns,
	    const json_t *obj);
/* The stored object (new reference) or NULL. */
json_t *fk_object(fake_kube *fk, const kube_gvr *gvr, const char *ns,
		  const char *name);
/* The next `times` calls of verb on resource ("" for any) fail with rc,
 * the kind and HTTP status as the client would report them. */
void fk_fail(fake_kube *fk, fk_verb verb, const char *resource, int rc,
	     kube_err kind, long status, unsigned times);
/* Forgets every injected failure. */
void fk_heal(fake_kube *fk);
/* How many calls of verb on resource ("" for any) were made. */
size_t fk_count(fake_kube *fk, fk_verb verb, const char *resource);
/* The same, through client only. */
size_t fk_count_from(fake_kube *fk, const kube_client *client, fk_verb verb,
		     const char *resource);

#endif
