/* SPDX-License-Identifier: Apache-2.0 */
/*
 * srv_metrics.h: the Prometheus metrics of `groved serve`, rendered in the
 * text exposition format 0.0.4 for /metrics.
 *
 *   groved_admission_requests_total{webhook,outcome}      counter
 *   groved_admission_duration_seconds{webhook}            histogram
 *   groved_admission_request_bytes{webhook}               histogram
 *   groved_admission_in_flight_requests                   gauge
 *   groved_tls_handshake_failures_total                   counter
 *   groved_serving_certificate_expiration_timestamp_seconds gauge
 *   groved_serving_certificate_loads_total                counter
 *   groved_certificate_renewals_total{what}               counter
 *   groved_leader (only once met_set_leader was called)   gauge
 *   groved_build_info{version} 1                          gauge
 *   process_resident_memory_bytes (/proc/self/statm),
 *   process_start_time_seconds (when the registry was made, at start),
 *   process_cpu_seconds_total                             (optional)
 *
 * A met_registry is an object the caller creates and passes around; there
 * is no global registry. The label values are fixed when it is created
 * (the webhook names are passed in), so an observation allocates nothing
 * and takes no lock: it is a few relaxed atomic adds (C11). Rendering reads
 * the same atomics; a scrape concurrent with requests sees each series at
 * some recent value, and every histogram's _count equals its +Inf bucket.
 */
#ifndef GROVED_SRV_METRICS_H
#define GROVED_SRV_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct met_registry met_registry;

/* The outcome label of groved_admission_requests_total. */
#define MET_OUTCOME_TABLE(X)      \
	X(MET_ALLOWED, "allowed") \
	X(MET_DENIED, "denied")   \
	X(MET_PATCHED, "patched") \
	X(MET_ERROR, "error")     \
	X(MET_MALFORMED, "malformed")

typedef enum {
#define MET_X_ENUM(id, name) id,
	MET_OUTCOME_TABLE(MET_X_ENUM)
#undef MET_X_ENUM
	    MET_OUTCOME_COUNT
} met_outcome;

/* Bucket upper bounds: duration in seconds, body size in bytes. */
#define MET_DURATION_BUCKETS 12 /* 0.0001 .. 1 */
#define MET_BYTES_BUCKETS 8 /* 1 KiB .. 8 MiB */

typedef struct met_options {
	/* the webhook label values, in the order met_observe's index uses
	 * (srv_hook order); borrowed for the call, copied */
	const char *const *webhooks;
	size_t n_webhooks;
	const char *version; /* groved_build_info's label; copied */
	bool process; /* add the process_* metrics */
} met_options;

/* Creates a registry with every series at zero. Returns GV_OK with *out
 * set (the caller frees it with met_free), GV_EINVAL (no webhooks, or a
 * NULL name), or GV_ENOMEM. */
int met_new(const met_options *opts, met_registry **out);
/* Frees reg; NULL is fine. No thread may still use it. */
void met_free(met_registry *reg);

/* In-flight gauge: +1 when a request starts, -1 when it is answered. */
void met_request_begin(met_registry *reg);
void met_request_end(met_registry *reg);

/*
 * Records one answered review: its outcome, how long it took, and its
 * body size. A webhook index out of range is ignored. Lock-free, no
 * allocation.
 */
void met_observe(met_registry *reg, size_t webhook, met_outcome outcome,
		 uint64_t duration_ns, uint64_t body_bytes);

/* Counts one failed TLS handshake. */
void met_tls_failure(met_registry *reg);

/* A serving certificate became current; not_after in epoch seconds. */
void met_cert_loaded(met_registry *reg, int64_t not_after);
/* The leader renewed the serving certificate (ca false) or the CA. */
void met_cert_renewed(met_registry *reg, bool ca);
/* Leadership, with --leader-elect or without (then always 1). */
void met_set_leader(met_registry *reg, bool leading);

/*
 * Renders every metric as exposition text (HELP and TYPE lines, escaped
 * label values, cumulative buckets ending with le="+Inf", _sum and
 * _count). On success *text is a new NUL-terminated string the caller
 * frees and *len its length. Returns GV_OK or GV_ENOMEM.
 */
int met_render(const met_registry *reg, char **text, size_t *len);

/* The reconcile worker whose counters /metrics adds (borrowed; NULL when
 * it stops; set before the metrics server starts and cleared after it
 * stops, so a scrape never reads a freed worker):
 *
 *   groved_reconcile_total{controller,result}             counter
 *   groved_reconcile_duration_seconds_total{controller}   counter
 *   groved_reconcile_queue_depth                          gauge
 *   groved_reconcile_gates_removed_total                  counter
 *   groved_reconcile_gate_latency_seconds                 histogram
 *   groved_reconcile_api_writes_total{verb,kind}          counter
 */
struct rec_worker;
void met_set_worker(met_registry *reg, struct rec_worker *w);

/* The Content-Type to serve the text with. */
#define MET_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
