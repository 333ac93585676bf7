/* SPDX-License-Identifier: Apache-2.0 */
/*
 * srv_leader.h: who leads among groved's replicas (server/srv_leader.c).
 *
 * Leadership gates every write to the cluster (the certificate Secret and
 * the caBundles today, the reconcile worker next); the webhooks are
 * served by every replica whatever this says. With --leader-elect a
 * thread runs kube_elector on the Lease --leader-election-id; without,
 * this process always leads.
 *
 * Two steps, so that the writers can be given the leader before it
 * starts (and be stopped after it, which releases the Lease):
 * srv_leader_init() fills the struct and starts nothing; the writers
 * may call srv_leader_leading() from then on; srv_leader_start() starts
 * the election; srv_leader_stop() ends it.
 */
#ifndef GROVED_SRV_LEADER_H
#define GROVED_SRV_LEADER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "groved/gv_thread.h"
#include "groved/kube.h"
#include "srv_config.h"
#include "srv_log.h"

typedef struct srv_leader {
	atomic_bool leading;
	bool elect; /* --leader-elect */
	bool electing; /* the elector thread runs */
	kube_elector elector;
	char identity[256];
	char namespace[254];
	char lease[254];
	long lease_ms, renew_deadline_ms, retry_ms; /* 0: the elector's */
	gv_stopper stop; /* the elector's, while electing */
	pthread_t thread;
	log_ctx *log; /* borrowed; may be NULL */
	void (*on_change)(void *ctx); /* borrowed; after every change */
	void *ctx;
} srv_leader;

/*
 * Fills l from c's election options and the identity ($POD_NAME, else
 * host and pid); takes nothing to release, starts nothing and asks the
 * cluster nothing. Without c->leader_elect the process leads from here
 * on, silently until srv_leader_start(). log (may be NULL) and on_change
 * (may be NULL; called after leadership starts or ends, on the elector's
 * thread with election) are borrowed.
 */
void srv_leader_init(srv_leader *l, const cfg_serve *c, log_ctx *log,
		     void (*on_change)(void *), void *ctx);
/*
 * With --leader-elect, starts the election on the Lease in namespace ns
 * (copied) with client (borrowed); without, says at once that this
 * process leads (log, on_change). Returns GV_OK or GV_ENOMEM (err).
 */
int srv_leader_start(srv_leader *l, kube_client *client, const char *ns,
		     gv_error_t *err);
/* Stops the elector (releasing the Lease when held) and waits for it;
 * then this process does not lead. After srv_leader_init(), started or
 * not. */
void srv_leader_stop(srv_leader *l);
bool srv_leader_leading(srv_leader *l);

/* groved's namespace: flag, $POD_NAMESPACE, the in-cluster one
 * (in_cluster_ns, may be NULL), else "groved-system". Borrowed result. */
const char *srv_own_namespace(const cfg_serve *c, const char *in_cluster_ns);

#endif
