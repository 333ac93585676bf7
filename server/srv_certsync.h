/* SPDX-License-Identifier: Apache-2.0 */
/*
 * srv_certsync.h: self-managed certificates in `groved serve`
 * (--cert-secret).
 *
 * One thread per process: when this replica leads, a round of
 * cert_secret_rotate() (create or renew the Secret, inject the CA
 * bundle); on every replica, a GET of the Secret and, when its serving
 * pair changed, cert_store_load_pem(), so a renewal reaches every replica
 * without a restart. The period follows the certificate's lifetime (a
 * twentieth, between 200 ms and 10 s). Who leads: srv_leader.h.
 */
#ifndef GROVED_SRV_CERTSYNC_H
#define GROVED_SRV_CERTSYNC_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "groved/certs.h"
#include "groved/gv_thread.h"
#include "srv_config.h"
#include "srv_leader.h"
#include "srv_log.h"
#include "srv_metrics.h"

typedef struct srv_certsync {
	cert_secret cs;
	cert_store *store; /* borrowed */
	srv_leader *leader; /* borrowed */
	log_ctx *log; /* borrowed */
	met_registry *met; /* borrowed */
	atomic_bool *loaded; /* borrowed: set once a pair is served */
	cert_service_names names; /* of the serving certificate */
	char namespace[254];
	long period_ms;
	gv_stopper stop; /* and kicks: a round now */
	pthread_t thread;
	bool running;
	/* each logged once per text, until the next success */
	char last_error[GV_ERROR_TEXT_MAX]; /* reading the Secret */
	char last_leader_error[GV_ERROR_TEXT_MAX]; /* renewing, injecting */
} srv_certsync;

/*
 * Starts the thread for c->cert_secret in ns. store must have been
 * cert_store_init()ed; loaded is set when the first pair is current.
 * All pointers are borrowed and must outlive srv_certsync_stop().
 * Returns GV_OK, GV_EINVAL (a bad name: err) or GV_ENOMEM.
 */
int srv_certsync_start(srv_certsync *s, kube_client *client, const cfg_serve *c,
		       const char *ns, cert_store *store, srv_leader *leader,
		       log_ctx *log, met_registry *met, atomic_bool *loaded,
		       gv_error_t *err);
/* Runs a round now (leadership changed). Any thread. */
void srv_certsync_kick(srv_certsync *s);
void srv_certsync_stop(srv_certsync *s);

#endif
