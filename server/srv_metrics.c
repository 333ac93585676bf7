/* SPDX-License-Identifier: Apache-2.0 */
/*
 * srv_metrics.c: counters and histograms as relaxed C11 atomics, rendered
 * on demand as Prometheus text. See srv_metrics.h.
 */
#include <stdatomic.h>
#include <stdint.h>

#include "groved/gv.h"
#include "groved/reconcile.h"
#include "srv_metrics.h"

typedef atomic_uint_fast64_t met_counter;

/* Upper bounds, as compared (integers) and as printed. */
static const uint64_t duration_ns[MET_DURATION_BUCKETS] = {
	100000,	  250000,   500000,   1000000,	 2500000,   5000000,
	10000000, 25000000, 50000000, 100000000, 250000000, 1000000000
};
static const char *const duration_le[MET_DURATION_BUCKETS] = {
	"0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005",
	"0.01",	  "0.025",   "0.05",   "0.1",	"0.25",	  "1"
};
static const uint64_t bytes_bounds[MET_BYTES_BUCKETS] = {
	1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 8388608
};
static const char *const bytes_le[MET_BYTES_BUCKETS] = { "1024",    "4096",
							 "16384",   "65536",
							 "262144",  "1048576",
							 "4194304", "8388608" };

static const char *const outcome_names[] = {
#define MET_X_NAME(id, name) name,
	MET_OUTCOME_TABLE(MET_X_NAME)
#undef MET_X_NAME
};

/* One webhook's series. Bucket counts are per bucket (not cumulative);
 * the last one is +Inf. */
typedef struct met_hook {
	char *name;
	met_counter requests[MET_OUTCOME_COUNT];
	met_counter dur_buckets[MET_DURATION_BUCKETS + 1];
	met_counter dur_sum_ns;
	met_counter size_buckets[MET_BYTES_BUCKETS + 1];
	met_counter size_sum;
} met_hook;

struct met_registry {
	met_hook *hooks;
	size_t n_hooks;
	char *version;
	bool process;
	double start_time; /* seconds since the epoch */
	atomic_int_fast64_t in_flight;
	met_counter tls_failures;
	atomic_int_fast64_t cert_expiry; /* 0: no certificate served yet */
	met_counter cert_loads;
	met_counter renewals[2]; /* certificate, ca */
	atomic_int leader; /* -1: no election (not rendered) */
	_Atomic(rec_worker *) worker; /* borrowed; NULL: none running */
};

static void add(met_counter *c, uint64_t n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static uint64_t get(const met_counter *c)
{
	return atomic_load_explicit((met_counter *)c, memory_order_relaxed);
}

int met_new(const met_options *opts, met_registry **out)
{
	met_registry *reg = NULL;
	struct timespec ts = { 0 };
	size_t i = 0;
	size_t j = 0;
	int rc = GV_OK;

	if (!opts || !opts->webhooks || opts->n_webhooks == 0)
		return GV_EINVAL;
	for (i = 0; i < opts->n_webhooks; i++)
		if (!opts->webhooks[i])
			return GV_EINVAL;
	reg = calloc(1, sizeof(*reg));
	if (!reg) {
		rc = GV_ENOMEM;
		goto out;
	}
	reg->hooks = calloc(opts->n_webhooks, sizeof(*reg->hooks));
	reg->version = strdup(opts->version ? opts->version : "");
	if (!reg->hooks || !reg->version) {
		rc = GV_ENOMEM;
		goto out;
	}
	reg->n_hooks = opts->n_webhooks;
	for (i = 0; i < reg->n_hooks; i++) {
		met_hook *h = &reg->hooks[i];

		for (j = 0; j < MET_OUTCOME_COUNT; j++)
			atomic_init(&h->requests[j], 0);
		for (j = 0; j <= MET_DURATION_BUCKETS; j++)
			atomic_init(&h->dur_buckets[j], 0);
		for (j = 0; j <= MET_BYTES_BUCKETS; j++)
			atomic_init(&h->size_buckets[j], 0);
		atomic_init(&h->dur_sum_ns, 0);
		atomic_init(&h->size_sum, 0);
		h->name = strdup(opts->webhooks[i]);
		if (!h->name) {
			rc = GV_ENOMEM;
			goto out;
		}
	}
	atomic_init(&reg->in_flight, 0);
	atomic_init(&reg->cert_expiry, 0);
	atomic_init(&reg->leader, -1);
	atomic_init(&reg->tls_failures, 0);
	reg->process = opts->process;
	clock_gettime(CLOCK_REALTIME, &ts);
	reg->start_time = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	*out = reg;
	reg = NULL;
out:
	met_free(reg);
	return rc;
}

void met_free(met_registry *reg)
{
	size_t i = 0;

	if (!reg)
		return;
	for (i = 0; reg->hooks && i < reg->n_hooks; i++)
		free(reg->hooks[i].name);
	free(reg->hooks);
	free(reg->version);
	free(reg);
}

void met_request_begin(met_registry *reg)
{
	atomic_fetch_add_explicit(&reg->in_flight, 1, memory_order_relaxed);
}

void met_request_end(met_registry *reg)
{
	atomic_fetch_sub_explicit(&reg->in_flight, 1, memory_order_relaxed);
}

static size_t bucket(const uint64_t *bounds, size_t n, uint64_t v)
{
	size_t i = 0;

	while (i < n && v > bounds[i])
		i++;
	return i; /* n is +Inf */
}

void met_observe(met_registry *reg, size_t webhook, met_outcome outcome,
		 uint64_t dur_ns, uint64_t body_bytes)
{
	met_hook *h = NULL;

	if (webhook >= reg->n_hooks || (unsigned)outcome >= MET_OUTCOME_COUNT)
		return;
	h = &reg->hooks[webhook];
	add(&h->requests[outcome], 1);
	add(&h->dur_buckets[bucket(duration_ns, MET_DURATION_BUCKETS, dur_ns)],
	    1);
	add(&h->dur_sum_ns, dur_ns);
	add(&h->size_buckets[bucket(bytes_bounds, MET_BYTES_BUCKETS,
				    body_bytes)],
	    1);
	add(&h->size_sum, body_bytes);
}

void met_tls_failure(met_registry *reg)
{
	add(&reg->tls_failures, 1);
}

void met_cert_loaded(met_registry *reg, int64_t not_after)
{
	add(&reg->cert_loads, 1);
	atomic_store_explicit(&reg->cert_expiry, not_after,
			      memory_order_relaxed);
}

void met_cert_renewed(met_registry *reg, bool ca)
{
	add(&reg->renewals[ca ? 1 : 0], 1);
}

void met_set_leader(met_registry *reg, bool leading)
{
	atomic_store_explicit(&reg->leader, leading ? 1 : 0,
			      memory_order_relaxed);
}

/* ---- rendering ---------------------------------------------------------- */

/* A label value: backslash, double quote and newline escaped. */
static void put_label(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '"')
			fputs("\\\"", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static void put_header(FILE *f, const char *name, const char *type,
		       const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* ns as seconds, exactly: "0.000153", "2", "12.5". */
static void put_seconds(FILE *f, uint64_t ns)
{
	char frac[16];
	int n = 0;

	fprintf(f, "%llu", (unsigned long long)(ns / 1000000000u));
	if (ns % 1000000000u == 0)
		return;
	n = snprintf(frac, sizeof(frac), "%09llu",
		     (unsigned long long)(ns % 1000000000u));
	while (n > 0 && frac[n - 1] == '0')
		frac[--n] = '\0';
	fprintf(f, ".%s", frac);
}

static void put_histogram(FILE *f, const char *metric, const char *hook,
			  const met_counter *buckets, const char *const *le,
			  size_t n, uint64_t sum, bool seconds)
{
	uint64_t cum = 0;
	size_t i = 0;

	for (i = 0; i <= n; i++) {
		cum += get(&buckets[i]);
		fprintf(f, "%s_bucket{webhook=\"", metric);
		put_label(f, hook);
		fprintf(f, "\",le=\"%s\"} %llu\n", i < n ? le[i] : "+Inf",
			(unsigned long long)cum);
	}
	fprintf(f, "%s_sum{webhook=\"", metric);
	put_label(f, hook);
	fputs("\"} ", f);
	if (seconds)
		put_seconds(f, sum);
	else
		fprintf(f, "%llu", (unsigned long long)sum);
	fprintf(f, "\n%s_count{webhook=\"", metric);
	put_label(f, hook);
	fprintf(f, "\"} %llu\n", (unsigned long long)cum);
}

/* Resident set size from /proc/self/statm, or -1. */
static long long resident_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long long size = 0;
	unsigned long long rss = 0;
	long page = sysconf(_SC_PAGESIZE);
	int n = 0;

	if (!f)
		return -1;
	n = fscanf(f, "%llu %llu", &size, &rss);
	fclose(f);
	if (n != 2 || page <= 0)
		return -1;
	return (long long)(rss * (unsigned long long)page);
}

static void put_process(FILE *f, const met_registry *reg)
{
	struct timespec cpu = { 0 };
	long long rss = resident_bytes();

	put_header(f, "process_cpu_seconds_total", "counter",
		   "Total user and system CPU time spent in seconds.");
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu);
	fputs("process_cpu_seconds_total ", f);
	put_seconds(f,
		    (uint64_t)cpu.tv_sec * 1000000000u + (uint64_t)cpu.tv_nsec);
	fputc('\n', f);
	if (rss >= 0) {
		put_header(f, "process_resident_memory_bytes", "gauge",
			   "Resident memory size in bytes.");
		fprintf(f, "process_resident_memory_bytes %lld\n", rss);
	}
	put_header(f, "process_start_time_seconds", "gauge",
		   "Start time of the process since unix epoch in seconds.");
	fprintf(f, "process_start_time_seconds %.3f\n", reg->start_time);
}

void met_set_worker(met_registry *reg, rec_worker *w)
{
	atomic_store(&reg->worker, w);
}

static void put_write(void *ctx, const char *verb, const char *kind, uint64_t n)
{
	FILE *f = ctx;

	fprintf(f, "groved_reconcile_api_writes_total{verb=\"%s\",kind=\"",
		verb);
	put_label(f, kind);
	fprintf(f, "\"} %llu\n", (unsigned long long)n);
}

/* The worker's counters (reconcile/), when one runs. */
static void put_worker(FILE *f, rec_worker *w)
{
	rec_worker_stats st;

	if (!w)
		return;
	rec_worker_stats_get(w, &st);
	put_header(f, "groved_reconcile_total", "counter",
		   "Syncs of a PodCliqueSet, by controller and result.");
	fprintf(f,
		"groved_reconcile_total{controller=\"podcliqueset\","
		"result=\"success\"} %llu\n",
		(unsigned long long)(st.reconciles - st.reconcile_errors));
	fprintf(f,
		"groved_reconcile_total{controller=\"podcliqueset\","
		"result=\"error\"} %llu\n",
		(unsigned long long)st.reconcile_errors);
	put_header(f, "groved_reconcile_duration_seconds_total", "counter",
		   "Time spent syncing PodCliqueSets, by controller.");
	fputs("groved_reconcile_duration_seconds_total{controller="
	      "\"podcliqueset\"} ",
	      f);
	put_seconds(f, st.reconcile_ns);
	fputc('\n', f);
	put_header(f, "groved_reconcile_queue_depth", "gauge",
		   "PodCliqueSets waiting for a reconcile thread.");
	fprintf(f, "groved_reconcile_queue_depth %zu\n", st.queue_depth);
	put_header(f, "groved_reconcile_gates_removed_total", "counter",
		   "Scheduling gates lifted from pods whose gang may go.");
	fprintf(f, "groved_reconcile_gates_removed_total %llu\n",
		(unsigned long long)st.gates_removed);
	put_header(f, "groved_reconcile_gate_latency_seconds", "histogram",
		   "From what lets a pod's gang go, as the worker saw it, to "
		   "its scheduling gate lifted.");
	{
		uint64_t cum = 0;
		size_t i = 0;

		for (i = 0; i < REC_GATE_BUCKETS; i++) {
			cum += st.gate_buckets[i];
			fprintf(f,
				"groved_reconcile_gate_latency_seconds_bucket"
				"{le=\"%g\"} %llu\n",
				rec_gate_buckets[i], (unsigned long long)cum);
		}
		cum += st.gate_buckets[REC_GATE_BUCKETS];
		fprintf(f,
			"groved_reconcile_gate_latency_seconds_bucket{le=\"+"
			"Inf\"} %llu\n",
			(unsigned long long)cum);
		fputs("groved_reconcile_gate_latency_seconds_sum ", f);
		put_seconds(f, st.gate_sum_ns);
		fprintf(f,
			"\ngroved_reconcile_gate_latency_seconds_count %llu\n",
			(unsigned long long)cum);
	}
	put_header(f, "groved_reconcile_api_writes_total", "counter",
		   "Writes to the API server by the worker, by verb and kind.");
	rec_worker_writes_each(w, put_write, f);
}

int met_render(const met_registry *reg, char **text, size_t *len)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = NULL;
	size_t i = 0;
	size_t j = 0;
	int rc = GV_OK;

	f = open_memstream(&buf, &size);
	if (!f) {
		rc = GV_ENOMEM;
		goto out;
	}
	put_header(f, "groved_admission_requests_total", "counter",
		   "Admission reviews answered, by webhook and outcome.");
	for (i = 0; i < reg->n_hooks; i++) {
		for (j = 0; j < MET_OUTCOME_COUNT; j++) {
			fputs("groved_admission_requests_total{webhook=\"", f);
			put_label(f, reg->hooks[i].name);
			fprintf(f, "\",outcome=\"%s\"} %llu\n",
				outcome_names[j],
				(unsigned long long)get(
				    &reg->hooks[i].requests[j]));
		}
	}
	put_header(f, "groved_admission_duration_seconds", "histogram",
		   "Time to answer an admission review, by webhook.");
	for (i = 0; i < reg->n_hooks; i++)
		put_histogram(f, "groved_admission_duration_seconds",
			      reg->hooks[i].name, reg->hooks[i].dur_buckets,
			      duration_le, MET_DURATION_BUCKETS,
			      get(&reg->hooks[i].dur_sum_ns), true);
	put_header(f, "groved_admission_request_bytes", "histogram",
		   "Size of admission review bodies, by webhook.");
	for (i = 0; i < reg->n_hooks; i++)
		put_histogram(f, "groved_admission_request_bytes",
			      reg->hooks[i].name, reg->hooks[i].size_buckets,
			      bytes_le, MET_BYTES_BUCKETS,
			      get(&reg->hooks[i].size_sum), false);
	put_header(f, "groved_admission_in_flight_requests", "gauge",
		   "Admission requests being served.");
	fprintf(f, "groved_admission_in_flight_requests %lld\n",
		(long long)atomic_load_explicit(
		    &((met_registry *)reg)->in_flight, memory_order_relaxed));
	put_header(f, "groved_tls_handshake_failures_total", "counter",
		   "TLS handshakes that failed.");
	fprintf(f, "groved_tls_handshake_failures_total %llu\n",
		(unsigned long long)get(&reg->tls_failures));
	put_header(f, "groved_serving_certificate_expiration_timestamp_seconds",
		   "gauge",
		   "When the served certificate expires (0: none loaded yet).");
	fprintf(f,
		"groved_serving_certificate_expiration_timestamp_seconds "
		"%lld\n",
		(long long)atomic_load_explicit(
		    &((met_registry *)reg)->cert_expiry, memory_order_relaxed));
	put_header(f, "groved_serving_certificate_loads_total", "counter",
		   "Serving certificates loaded (the first, and every swap).");
	fprintf(f, "groved_serving_certificate_loads_total %llu\n",
		(unsigned long long)get(&reg->cert_loads));
	put_header(f, "groved_certificate_renewals_total", "counter",
		   "Self-managed renewals this replica made as leader.");
	fprintf(f,
		"groved_certificate_renewals_total{what=\"certificate\"} "
		"%llu\n"
		"groved_certificate_renewals_total{what=\"ca\"} %llu\n",
		(unsigned long long)get(&reg->renewals[0]),
		(unsigned long long)get(&reg->renewals[1]));
	if (atomic_load_explicit(&((met_registry *)reg)->leader,
				 memory_order_relaxed) >= 0) {
		put_header(f, "groved_leader", "gauge",
			   "1 while this replica holds the leader Lease.");
		fprintf(f, "groved_leader %d\n",
			atomic_load_explicit(&((met_registry *)reg)->leader,
					     memory_order_relaxed));
	}
	put_header(f, "groved_build_info", "gauge",
		   "Always 1; the version label says which groved runs.");
	fputs("groved_build_info{version=\"", f);
	put_label(f, reg->version);
	fputs("\"} 1\n", f);
	if (reg->process)
		put_process(f, reg);
	put_worker(f, atomic_load(&((met_registry *)reg)->worker));
	if (ferror(f)) {
		rc = GV_ENOMEM;
		goto out;
	}
	if (fclose(f) != 0) {
		f = NULL;
		rc = GV_ENOMEM;
		goto out;
	}
	f = NULL;
	*text = buf;
	*len = size;
	buf = NULL;
out:
	if (f)
		fclose(f);
	free(buf);
	return rc;
}
