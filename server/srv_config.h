/* SPDX-License-Identifier: Apache-2.0 */
/*
 * srv_config.h: the configuration of `groved serve`: defaults, then the
 * YAML file named by --config, then the flags (flags win).
 *
 * One table in srv_config.c, a row per option {name, type, offset,
 * default, check, help, flags}, drives everything: the YAML keys (same
 * names as the flags), the flags (`--name=value`, `--name value`; booleans
 * as `--no-reconcile` or `--no-reconcile=false`), `groved serve --help`
 * and the one-line JSON dump logged at start.
 *
 * A cfg_serve is read-only once loaded, shared by every thread. SIGHUP
 * reloads by building a fresh one (cfg_serve_init, cfg_serve_load with the
 * same argv) and swapping it in when the load succeeds; options marked
 * "restart" (addresses, threads, ...) only take effect at start:
 * cfg_serve_restart_needed names one that changed.
 */
#ifndef GROVED_SRV_CONFIG_H
#define GROVED_SRV_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "groved/gv.h"
#include "srv_log.h"

/* A config file larger than this is refused. */
#define CFG_FILE_MAX ((size_t)1 << 20)

/* Every string is owned by the struct (malloc'd), NULL when unset.
 * Durations are in milliseconds. */
typedef struct cfg_serve {
	char *config; /* --config FILE (flag only) */
	char *webhook_addr; /* host:port, checked */
	char *health_addr;
	char *metrics_addr;
	char *tls_cert_file;
	char *tls_key_file;
	char *self_signed; /* directory; exclusive with the files */
	long threads; /* >= 1; default: online cores */
	long max_connections; /* >= 1 */
	uint64_t connection_idle_timeout_ms; /* >= 91 s */
	uint64_t request_timeout_ms; /* > 0: absolute deadline */
	uint64_t shutdown_timeout_ms;
	log_level log_level;
	char *default_scheduler;
	char *initc_image;
	char *self_user;
	char **exempt_users; /* NULL-terminated, never NULL once
				    initialised; empty means the
				    authorizer's built-in list */
	bool no_reconcile;
	long reconcile_threads; /* 1..1024 */
	long kube_qps; /* >= 1: the worker's client-side rate limit */
	long kube_burst; /* >= 1 */
	char *kubeconfig; /* NULL: in-cluster when in a pod */
	char *namespace; /* NULL: found at start (srv_serve.c) */
	bool leader_elect;
	char *leader_election_id;
	uint64_t leader_lease_ms; /* a silent leader keeps the Lease so long */
	uint64_t leader_renew_ms; /* a leader that cannot renew steps down */
	uint64_t leader_retry_ms; /* between election rounds */
	char *cert_secret; /* self-managed mode when set */
	char *cert_service;
	uint64_t cert_validity_ms; /* whole seconds */
	uint64_t ca_validity_ms;
	uint64_t cert_propagation_ms;
	char **inject_ca_into; /* NULL-terminated, never NULL */
	bool help; /* --help or -h was given: print
				    cfg_serve_help(stdout), exit 0 */
} cfg_serve;

/* cgroup v2's CPU limit of this container ("max 100000" or "QUOTA
 * PERIOD"). */
#define CFG_CPU_MAX_PATH "/sys/fs/cgroup/cpu.max"

/*
 * The default of --threads: cores (online), capped by the CPU limit in
 * the cgroup v2 file cpu_max (NULL, missing, unreadable or "max": no cap)
 * rounded up and never below 2; between 1 and 1024. A pod limited to one
 * CPU on a 128-core node then runs 2 threads, not 128.
 */
long cfg_default_threads(long cores, const char *cpu_max);

/*
 * groved's own user for the authorizer: --self-user when given, else
 * system:serviceaccount:$POD_NAMESPACE:$POD_SERVICE_ACCOUNT when both are
 * set (the Deployment passes them from the downward API), else
 * system:serviceaccount:groved-system:groved. Returns c's string, buf
 * (size bytes) or a static string; borrowed.
 */
const char *cfg_self_user(const cfg_serve *c, char *buf, size_t size);

/* Fills c with the defaults. Returns GV_OK or GV_ENOMEM (c is then
 * released, safe to pass to cfg_serve_release again). */
int cfg_serve_init(cfg_serve *c);

/*
 * Builds a configuration from the defaults, the file named by the last
 * --config in argv (if any), then the flags, and checks it. argv[0] is the
 * subcommand ("serve") and is skipped. With --help or -h anywhere, only
 * `help` is set (defaults for the rest, nothing read or checked).
 *
 * On success releases what c held and fills it (c must have been through
 * cfg_serve_init, or be a loaded config). On failure c is untouched and
 * err->text says what is wrong, naming the source:
 *   config file '/etc/groved.yaml': line 3: unknown key "webhok-addr"
 *   (did you mean "webhook-addr"?)
 *   flag --threads: "x" is not an integer
 * (err->source and err->line are left empty so gv_error_format prints the
 * text alone). Returns GV_OK, GV_EINVAL (bad value or usage), GV_EIO (file
 * unreadable), GV_EPARSE (file not YAML), GV_ETOOBIG or GV_ENOMEM.
 */
int cfg_serve_load(cfg_serve *c, int argc, char **argv, gv_error_t *err);

/* Frees the strings of c; c may be NULL. */
void cfg_serve_release(cfg_serve *c);

/* Writes the usage of `groved serve`, every option with its help and
 * default. */
void cfg_serve_help(FILE *to);

/* c as one line of compact JSON, options in table order, sensitive ones
 * as "<redacted>". Returns a new string the caller frees, or NULL when
 * out of memory. */
char *cfg_serve_dump(const cfg_serve *c);

/* The name of the first option that differs between a and b and only
 * takes effect at start (addresses, threads, ...), or NULL. Static. */
const char *cfg_serve_restart_needed(const cfg_serve *a, const cfg_serve *b);

/*
 * Parses an address: ":9443" (every interface, host ""), "127.0.0.1:0",
 * "[::1]:9443" (host "::1"), "localhost:9443". Port 0..65535 (0 means
 * an ephemeral port). Returns GV_OK with host (NUL-terminated, of hostsz
 * bytes) and *port written, or GV_EINVAL.
 */
int cfg_parse_hostport(const char *s, char *host, size_t hostsz,
		       unsigned *port);

/* Parses "90s", "2m", "1m30s", "500ms", "1h" or a plain integer (seconds)
 * into milliseconds. Returns GV_OK or GV_EINVAL. */
int cfg_parse_duration(const char *s, uint64_t *ms);

#endif
