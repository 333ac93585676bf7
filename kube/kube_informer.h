/*
 * kube_informer.h: list and watch one resource into a kube_store, as
 * client-go's informers do. Every replica runs them (the webhooks read
 * the stores); the controllers that write wait for leadership.
 */
#ifndef GROVED_KUBE_INFORMER_H
#define GROVED_KUBE_INFORMER_H

#include <pthread.h>
#include <stdatomic.h>

#include "kube_client.h"
#include "kube_store.h"

typedef struct kube_informer_opts {
	kube_gvr gvr;
	const char *namespace; /* NULL: every namespace */
	const char *label_selector; /* NULL: everything */
	long page_size; /* list page; 0: 500 */
	long watch_timeout_s; /* the server ends each watch; 0: 300 */
	/* Called on the informer's thread for every change the store takes
	 * (a controller enqueues the key here); may be NULL. */
	kube_store_event_fn on_event;
	void *arg;
} kube_informer_opts;

typedef struct kube_informer {
	kube_informer_opts o;
	kube_client *client; /* borrowed */
	kube_store *store; /* borrowed */
	char resource_version[64]; /* the last one seen (informer thread) */
	atomic_bool stop;
	atomic_uint lists; /* full lists done (1 + relists) */
	atomic_uint watches; /* watches started */
	pthread_t thread;
	bool running;
} kube_informer;

/*
 * Starts the informer's thread: list (paged) into store, mark it synced,
 * then watch from the list's resourceVersion; resume after a dropped or
 * silent connection (backoff), relist after 410 Gone. client and store
 * are borrowed and must outlive the informer. Returns GV_OK or GV_ENOMEM.
 */
int kube_informer_start(kube_informer *inf, kube_client *client,
			kube_store *store, const kube_informer_opts *o,
			gv_error_t *err);

/* Stops the thread (ends a running watch at once) and waits for it. */
void kube_informer_stop(kube_informer *inf);

#endif
