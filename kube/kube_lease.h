/*
 * kube_lease.h: leader election on a coordination.k8s.io/v1 Lease, as
 * client-go's leaderelection does it. Every replica runs the informers
 * and serves the webhooks; only the holder of the lease runs the
 * controllers that write.
 */
#ifndef GROVED_KUBE_LEASE_H
#define GROVED_KUBE_LEASE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "kube_client.h"

typedef struct kube_elector_opts {
	const char *namespace; /* of the Lease */
	const char *name; /* of the Lease */
	const char *identity; /* this replica, e.g. the pod name */
	long lease_ms; /* how long a silent holder keeps it (15 s) */
	long renew_deadline_ms; /* a leader that cannot renew for this long
				   steps down (10 s) */
	long retry_ms; /* between attempts (2 s) */
	/* Called on this thread when leadership starts and when it ends
	 * (lost, or released at stop). on_stopped must stop the writers at
	 * once: another replica may lead a lease_ms later. */
	void (*on_started)(void *ctx);
	void (*on_stopped)(void *ctx);
	void *ctx;
} kube_elector_opts;

/* One replica's view of the lease. */
typedef struct kube_elector {
	kube_elector_opts o;
	kube_client *client; /* borrowed */
	bool leading;
	char observed[512]; /* holder and renewTime last seen */
	uint64_t observed_at; /* monotonic ms when that record changed */
	uint64_t renewed_at; /* monotonic ms of our last renewal */
} kube_elector;

/* Fills e (defaults for zero durations); client is borrowed. */
void kube_elector_init(kube_elector *e, kube_client *client,
		       const kube_elector_opts *o);

/*
 * One round: acquire the lease when it is free or expired, or renew it
 * when ours. Returns true when this replica leads after the round. Calls
 * on_started / on_stopped on a change. Never blocks beyond one request.
 */
bool kube_elector_round(kube_elector *e, uint64_t now_ms);

/*
 * Rounds every retry_ms until *stop; then releases the lease when
 * leading (so a successor need not wait out the lease). Blocking: run it
 * on its own thread.
 */
void kube_elector_run(kube_elector *e, const atomic_bool *stop);

/* Monotonic milliseconds, for kube_elector_round: gv_now_ms() under the
 * name the tests use (phase 2 of the base layer renames them). */
uint64_t kube_now_ms(void);

#endif
