/* SPDX-License-Identifier: Apache-2.0 */
/*
 * srv_leader.c: who leads among groved's replicas (srv_leader.h).
 * Leadership gates every write to the cluster; the webhooks are served
 * by every replica whatever this says.
 */
#include <unistd.h>

#include "srv_leader.h"

const char *srv_own_namespace(const cfg_serve *c, const char *in_cluster_ns)
{
	const char *env = getenv("POD_NAMESPACE");

	if (c->namespace && c->namespace[0])
		return c->namespace;
	if (env && env[0])
		return env;
	if (in_cluster_ns && in_cluster_ns[0] &&
	    getenv("KUBERNETES_SERVICE_HOST"))
		return in_cluster_ns;
	return "groved-system";
}

static void leader_set(srv_leader *l, bool leading)
{
	atomic_store(&l->leading, leading);
	LOG_INFO(l->log, leading ? "leading" : "no longer leading",
		 LOG_STR("lease", l->lease), LOG_STR("identity", l->identity));
	if (l->on_change)
		l->on_change(l->ctx);
}

static void on_started(void *ctx)
{
	leader_set(ctx, true);
}

static void on_stopped(void *ctx)
{
	leader_set(ctx, false);
}

static void *elector_main(void *arg)
{
	srv_leader *l = arg;

	kube_elector_run(&l->elector, &l->stop);
	return NULL;
}

void srv_leader_init(srv_leader *l, const cfg_serve *c, log_ctx *log,
		     void (*on_change)(void *), void *ctx)
{
	const char *pod = getenv("POD_NAME");
	char host[128] = "";

	memset(l, 0, sizeof(*l));
	/* without election this process leads: the writers may act at
	 * once; srv_leader_start() says so */
	atomic_init(&l->leading, !c->leader_elect);
	l->elect = c->leader_elect;
	l->log = log;
	l->on_change = on_change;
	l->ctx = ctx;
	snprintf(l->lease, sizeof(l->lease), "%s", c->leader_election_id);
	l->lease_ms = (long)c->leader_lease_ms;
	l->renew_deadline_ms = (long)c->leader_renew_ms;
	l->retry_ms = (long)c->leader_retry_ms;
	/* the pod name is unique among replicas; outside a pod, host and
	 * pid are */
	if (pod && pod[0]) {
		snprintf(l->identity, sizeof(l->identity), "%s", pod);
	} else {
		(void)gethostname(host, sizeof(host) - 1);
		snprintf(l->identity, sizeof(l->identity), "%s_%ld",
			 host[0] ? host : "groved", (long)getpid());
	}
}

int srv_leader_start(srv_leader *l, kube_client *client, const char *ns,
		     gv_error_t *err)
{
	kube_elector_opts o;

	snprintf(l->namespace, sizeof(l->namespace), "%s", ns);
	if (!l->elect) {
		leader_set(l, true);
		return GV_OK;
	}
	memset(&o, 0, sizeof(o));
	o.namespace = l->namespace;
	o.name = l->lease;
	o.identity = l->identity;
	o.on_started = on_started;
	o.on_stopped = on_stopped;
	o.lease_ms = l->lease_ms;
	o.renew_deadline_ms = l->renew_deadline_ms;
	o.retry_ms = l->retry_ms;
	o.ctx = l;
	kube_elector_init(&l->elector, client, &o);
	gv_stopper_init(&l->stop);
	if (pthread_create(&l->thread, NULL, elector_main, l) != 0) {
		gv_stopper_release(&l->stop);
		return gv_error_set(err, GV_ENOMEM, NULL, 0, 0,
				    "cannot start the leader election thread");
	}
	l->electing = true;
	return GV_OK;
}

void srv_leader_stop(srv_leader *l)
{
	if (l->electing) {
		gv_stopper_stop(&l->stop);
		pthread_join(l->thread, NULL);
		gv_stopper_release(&l->stop);
		l->electing = false;
	}
	atomic_store(&l->leading, false);
}

bool srv_leader_leading(srv_leader *l)
{
	return atomic_load(&l->leading);
}
