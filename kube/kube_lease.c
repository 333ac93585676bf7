/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kube_lease.c: leader election on a Lease.
 *
 * Expiry is judged on this replica's own monotonic clock, never on the
 * timestamps in the Lease (clocks of two nodes differ): a holder is gone
 * when its record (holder and renewTime) has not changed for lease_ms
 * since we first saw it. Writes carry the resourceVersion they read, so
 * two replicas racing for a free lease cannot both win: one gets a
 * Conflict and tries again next round.
 */
#include <time.h>

#include "kube_int.h"

#include "groved/gv_time.h"

static const kube_gvr leases = { "coordination.k8s.io", "v1", "leases", true };

/* The wall time as a MicroTime ("2006-01-02T15:04:05.000000Z"). */
static void micro_time(char *buf, size_t size)
{
	struct timespec ts;
	struct tm tm;
	char base[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, size, "%.20s.%06dZ", base,
		 (int)(ts.tv_nsec / 1000) % 1000000);
}

void kube_elector_init(kube_elector *e, kube_client *client,
		       const kube_elector_opts *o)
{
	memset(e, 0, sizeof(*e));
	e->o = *o;
	e->client = client;
	if (e->o.lease_ms <= 0)
		e->o.lease_ms = 15000;
	if (e->o.renew_deadline_ms <= 0)
		e->o.renew_deadline_ms = 10000;
	if (e->o.retry_ms <= 0)
		e->o.retry_ms = 2000;
}

static void set_leading(kube_elector *e, bool leading)
{
	if (e->leading == leading)
		return;
	e->leading = leading;
	if (leading && e->o.on_started)
		e->o.on_started(e->o.ctx);
	if (!leading && e->o.on_stopped)
		e->o.on_stopped(e->o.ctx);
}

/* spec's fields of a lease held by us from now (now a MicroTime). */
static int lease_spec_set(kube_elector *e, json_t *spec, const char *now,
			  const char *acquired, json_int_t transitions)
{
	if (json_object_set_new(spec, "holderIdentity",
				json_string(e->o.identity)) != 0 ||
	    json_object_set_new(spec, "leaseDurationSeconds",
				json_integer((e->o.lease_ms + 999) / 1000)) !=
		0 ||
	    json_object_set_new(spec, "renewTime", json_string(now)) != 0 ||
	    json_object_set_new(spec, "acquireTime",
				json_string(acquired ? acquired : now)) != 0 ||
	    json_object_set_new(spec, "leaseTransitions",
				json_integer(transitions)) != 0)
		return GV_ENOMEM;
	return GV_OK;
}

/* Writes the lease as ours: create when absent, else update from cur
 * (borrowed; its resourceVersion is the precondition). Returns GV_OK, or
 * the write's failure with res and err filled. */
static int take(kube_elector *e, const json_t *cur, bool ours, kube_result *res,
		gv_error_t *err)
{
	char now[40];
	json_t *obj = NULL;
	json_t *spec = NULL;
	json_int_t transitions = 0;
	const char *acquired = NULL;
	int rc = GV_OK;

	memset(res, 0, sizeof(*res));
	micro_time(now, sizeof(now));
	if (cur) {
		obj = json_deep_copy(cur);
		spec = json_object_get(obj, "spec");
		transitions = json_integer_value(
		    json_object_get(spec, "leaseTransitions"));
		acquired =
		    json_string_value(json_object_get(spec, "acquireTime"));
	} else {
		obj = json_pack("{s:s, s:s, s:{s:s, s:s}, s:{}}", "apiVersion",
				"coordination.k8s.io/v1", "kind", "Lease",
				"metadata", "name", e->o.name, "namespace",
				e->o.namespace, "spec");
		spec = json_object_get(obj, "spec");
	}
	if (!json_is_object(spec) ||
	    lease_spec_set(e, spec, now, ours ? acquired : NULL,
			   ours ? transitions : (cur ? transitions + 1 : 0)) !=
		GV_OK) {
		rc = gv_error_set(err, obj ? GV_EPARSE : GV_ENOMEM, NULL, 0, 0,
				  obj && !json_is_object(spec)
				      ? "lease \"%s/%s\" has no spec object"
				      : "lease \"%s/%s\": out of memory",
				  e->o.namespace, e->o.name);
		goto out;
	}
	rc = cur ? kube_update(e->client, &leases, e->o.namespace, NULL, obj,
			       NULL, res, err)
		 : kube_create(e->client, &leases, e->o.namespace, obj, NULL,
			       res, err);
out:
	json_decref(obj);
	return rc;
}

/* Tells the client's error callback how the round went: a failure
 * (another replica that wrote first is none), or that it works again. */
static void lease_report(kube_elector *e, int rc, const kube_result *res,
			 const gv_error_t *err)
{
	char what[160];

	snprintf(what, sizeof(what), "lease %s/%s", e->o.namespace, e->o.name);
	if (rc != GV_OK && rc != GV_ECONFLICT && rc != GV_EEXIST) {
		e->failing = true;
		kube_client_report(e->client, what, res, err);
	} else if (e->failing) {
		e->failing = false;
		kube_client_report(e->client, what, res, NULL);
	}
}

bool kube_elector_round(kube_elector *e, uint64_t now_ms)
{
	kube_result res;
	gv_error_t err = GV_ERROR_INIT;
	json_t *cur = NULL;
	const json_t *spec = NULL;
	const char *holder = NULL;
	const char *renew = NULL;
	char record[512];
	bool ours = false;
	bool won = false;
	int rc = kube_get(e->client, &leases, e->o.namespace, e->o.name, NULL,
			  &cur, &res, &err);

	if (rc == GV_ENOTFOUND) {
		rc = take(e, NULL, false, &res, &err);
		won = rc == GV_OK;
		goto out;
	}
	if (rc != GV_OK)
		goto out; /* the API server is away: see the renew deadline */
	spec = json_object_get(cur, "spec");
	holder = json_string_value(json_object_get(spec, "holderIdentity"));
	renew = json_string_value(json_object_get(spec, "renewTime"));
	snprintf(record, sizeof(record), "%s|%s", holder ? holder : "",
		 renew ? renew : "");
	if (strcmp(record, e->observed) != 0) {
		snprintf(e->observed, sizeof(e->observed), "%s", record);
		e->observed_at = now_ms;
	}
	ours = holder && strcmp(holder, e->o.identity) == 0;
	/* someone else's, renewed within lease_ms of our seeing it: wait */
	if (!ours && holder && holder[0] &&
	    now_ms - e->observed_at < (uint64_t)e->o.lease_ms)
		goto out;
	rc = take(e, cur, ours, &res, &err);
	won = rc == GV_OK;
out:
	json_decref(cur);
	lease_report(e, rc, &res, &err);
	if (won)
		e->renewed_at = now_ms;
	/* a leader that cannot renew in time steps down before its lease
	 * can run out for the others */
	if (won)
		set_leading(e, true);
	else if (e->leading &&
		 now_ms - e->renewed_at >= (uint64_t)e->o.renew_deadline_ms)
		set_leading(e, false);
	return e->leading;
}

/* Gives the lease up: renewTime now and a duration of one second. The
 * writers stop first (on_stopped returns): a lease given up while they
 * still write would let a second leader in. */
static void release(kube_elector *e)
{
	kube_result res;
	gv_error_t err = GV_ERROR_INIT;
	json_t *cur = NULL;
	json_t *spec = NULL;

	set_leading(e, false);
	if (kube_get(e->client, &leases, e->o.namespace, e->o.name, NULL, &cur,
		     &res, &err) == GV_OK) {
		spec = json_object_get(cur, "spec");
		if (json_is_object(spec) &&
		    json_string_value(
			json_object_get(spec, "holderIdentity")) &&
		    strcmp(json_string_value(
			       json_object_get(spec, "holderIdentity")),
			   e->o.identity) == 0) {
			/* a release that fails leaves the lease to run
			 * out: the successor waits lease_ms */
			if (json_object_set_new(spec, "holderIdentity",
						json_string("")) == 0 &&
			    json_object_set_new(spec, "leaseDurationSeconds",
						json_integer(1)) == 0)
				(void)kube_update(e->client, &leases,
						  e->o.namespace, NULL, cur,
						  NULL, &res, &err);
		}
	}
	json_decref(cur);
}

void kube_elector_run(kube_elector *e, gv_stopper *stop)
{
	while (!gv_stopper_stopped(stop)) {
		kube_elector_round(e, gv_now_ms());
		gv_stopper_wait(stop, (uint64_t)e->o.retry_ms);
	}
	if (e->leading)
		release(e);
}
