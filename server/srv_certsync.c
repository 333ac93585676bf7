/* SPDX-License-Identifier: Apache-2.0 */
/*
 * srv_certsync.c: the self-managed certificates' thread (srv_certsync.h).
 */
#include <time.h>

#include "srv_certsync.h"

#include "groved/gv_time.h"

#define CERTSYNC_MIN_MS 200
#define CERTSYNC_MAX_MS 10000

/* Logs err once until its text changes: a missing RBAC rule would
 * otherwise log every period (log_once, shared with the kube module's
 * failures in srv_kcache.c). */
static void report_error(srv_certsync *s, char *last, log_level level,
			 const char *what, const gv_error_t *err)
{
	log_once(s->log, level, __func__, last, sizeof(s->last_error), what,
		 "secret", s->cs.o.name, err->text);
}

/* The leader's round; *held (empty) gets what the Secret now holds,
 * when the round learnt it. */
static void leader_round(srv_certsync *s, cert_material *held)
{
	cert_secret_report rep;
	gv_error_t err = GV_ERROR_INIT;
	int rc = cert_secret_rotate(&s->cs, 0, &rep, held, &err);

	if (rep.what)
		LOG_INFO(s->log,
			 rep.created ? "certificate secret created"
				     : "certificate secret renewed",
			 LOG_STR("secret", s->cs.o.name),
			 LOG_BOOL("new_ca", (rep.what & CERT_NEW_CA) != 0),
			 LOG_BOOL("new_certificate",
				  (rep.what & CERT_NEW_LEAF) != 0),
			 LOG_STR("why", rep.why));
	if (rep.what & CERT_NEW_LEAF)
		met_cert_renewed(s->met, false);
	if (rep.what & CERT_NEW_CA)
		met_cert_renewed(s->met, true);
	if (rep.injected)
		LOG_INFO(s->log, "CA bundle injected",
			 LOG_INT("configurations", rep.injected));
	/* another replica that wrote first (a conflict) is no failure:
	 * the next round reads what it wrote */
	if (rc != GV_OK && rc != GV_ECONFLICT && rc != GV_EEXIST)
		report_error(s, s->last_leader_error, LOG_LVL_WARN,
			     "cannot renew the certificate or inject the CA",
			     &err);
	else
		log_once_clear(s->last_leader_error);
}

/* Every replica: serve what the Secret holds. *held is it when the leader's
 * round just learnt it, else empty and the Secret is read; released. */
static void load_round(srv_certsync *s, cert_material *held)
{
	cert_material m = *held;
	gv_error_t err = GV_ERROR_INIT;
	bool changed = false;
	int rc = m.ca_bundle ? GV_OK : cert_secret_read(&s->cs, &m, &err);

	*held = (cert_material)CERT_MATERIAL_INIT;

	if (rc == GV_OK && (!m.tls_crt || !m.tls_key)) {
		rc = gv_error_set(&err, GV_EPARSE, NULL, 0, 0,
				  "secret '%s/%s' has no tls.crt or tls.key",
				  s->namespace, s->cs.o.name);
	}
	if (rc == GV_OK)
		rc = cert_store_load_pem(s->store, m.tls_crt, strlen(m.tls_crt),
					 m.tls_key, strlen(m.tls_key), &changed,
					 &err);
	if (rc != GV_OK) {
		/* no Secret yet is how every install starts */
		if (rc == GV_ENOTFOUND)
			report_error(s, s->last_error, LOG_LVL_INFO,
				     "waiting for the leader to create the "
				     "certificate secret",
				     &err);
		else
			report_error(s, s->last_error, LOG_LVL_WARN,
				     "cannot load the certificate secret",
				     &err);
		goto out;
	}
	log_once_clear(s->last_error);
	if (changed) {
		cert_store_info info;

		if (cert_store_info_get(s->store, &info) == GV_OK) {
			LOG_INFO(s->log, "certificate loaded",
				 LOG_STR("secret", s->cs.o.name),
				 LOG_INT("generation", info.generation),
				 LOG_INT("not_after", info.not_after));
			met_cert_loaded(s->met, info.not_after);
		}
		atomic_store(s->loaded, true);
	}
out:
	cert_material_release(&m);
}

static void *certsync_main(void *arg)
{
	srv_certsync *s = arg;

	while (!gv_stopper_stopped(&s->stop)) {
		cert_material held = CERT_MATERIAL_INIT;

		/* the leader learns the Secret in its round: no second GET */
		if (srv_leader_leading(s->leader))
			leader_round(s, &held);
		load_round(s, &held);
		/* until the period ends, a kick or the stop */
		gv_stopper_wait(&s->stop, (uint64_t)s->period_ms);
	}
	return NULL;
}

int srv_certsync_start(srv_certsync *s, kube_client *client, const cfg_serve *c,
		       const char *ns, cert_store *store, srv_leader *leader,
		       log_ctx *log, met_registry *met, atomic_bool *loaded,
		       gv_error_t *err)
{
	cert_secret_opts o;
	long leaf_ms = 0;
	int rc = GV_OK;

	memset(s, 0, sizeof(*s));
	s->store = store;
	s->leader = leader;
	s->log = log;
	s->met = met;
	s->loaded = loaded;
	snprintf(s->namespace, sizeof(s->namespace), "%s", ns);
	if (cert_service_names_fill(&s->names, c->cert_service, ns) != GV_OK)
		return gv_error_set(err, GV_EINVAL, NULL, 0, 0,
				    "cert-service \"%s\" in namespace \"%s\" "
				    "makes DNS names longer than 253 "
				    "characters",
				    c->cert_service, ns);
	memset(&o, 0, sizeof(o));
	o.namespace = s->namespace;
	o.name = c->cert_secret;
	o.dns = s->names.list;
	o.ca_seconds = (long)(c->ca_validity_ms / 1000);
	o.leaf_seconds = (long)(c->cert_validity_ms / 1000);
	o.propagation_seconds = (long)(c->cert_propagation_ms / 1000);
	if (!o.propagation_seconds)
		o.propagation_seconds = 1; /* 0 would mean the default */
	o.inject = (const char *const *)c->inject_ca_into;
	cert_secret_init(&s->cs, client, &o);
	leaf_ms = (long)(c->cert_validity_ms / 20);
	s->period_ms = leaf_ms < CERTSYNC_MIN_MS   ? CERTSYNC_MIN_MS
		       : leaf_ms > CERTSYNC_MAX_MS ? CERTSYNC_MAX_MS
						   : leaf_ms;
	gv_stopper_init(&s->stop);
	if (pthread_create(&s->thread, NULL, certsync_main, s) != 0) {
		rc = gv_error_set(err, GV_ENOMEM, NULL, 0, 0,
				  "cannot start the certificate thread");
		gv_stopper_release(&s->stop);
		cert_secret_release(&s->cs);
		return rc;
	}
	s->running = true;
	return GV_OK;
}

void srv_certsync_kick(srv_certsync *s)
{
	gv_stopper_kick(&s->stop);
}

void srv_certsync_stop(srv_certsync *s)
{
	if (!s->running)
		return;
	gv_stopper_stop(&s->stop);
	pthread_join(s->thread, NULL);
	gv_stopper_release(&s->stop);
	cert_secret_release(&s->cs);
	s->running = false;
}
