/* SPDX-License-Identifier: Apache-2.0 */
/*
 * srv_config.c: `groved serve` options: one table drives the YAML file,
 * the flags, --help and the dump. See srv_config.h.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#include "groved/gv_file.h"
#include "groved/gv_json.h"
#include "groved/gv_read.h"
#include "groved/policy.h"
#include "srv_config.h"

typedef enum {
	T_STR, /* non-empty string */
	T_PATH, /* non-empty path */
	T_ADDR, /* host:port */
	T_INT, /* long */
	T_DURATION, /* uint64_t milliseconds */
	T_BOOL,
	T_LEVEL, /* log_level */
	T_LIST /* char **, NULL-terminated */
} cfg_type;

enum {
	F_SENSITIVE = 1, /* dumped as "<redacted>" */
	F_RESTART = 2, /* takes effect only at start */
	F_FLAG_ONLY = 4, /* not a key of the config file */
	F_NO_DUMP = 8
};

#define WHY_MAX 160

/* Checks a parsed value (field points into the struct); on failure
 * writes why, to follow the quoted value: "must be at least 1". */
typedef bool (*cfg_check)(const void *field, char *why, size_t size);

typedef struct cfg_row {
	const char *name;
	cfg_type type;
	size_t offset;
	const char *def; /* parsed like a flag value; NULL: unset */
	cfg_check check; /* NULL: the type's own checks only */
	const char *arg; /* placeholder in --help */
	const char *def_help; /* --help's default when def does not say */
	const char *help;
	unsigned flags;
} cfg_row;

static bool check_positive(const void *field, char *why, size_t size)
{
	if (*(const long *)field >= 1)
		return true;
	snprintf(why, size, "must be at least 1");
	return false;
}

static bool check_threads(const void *field, char *why, size_t size)
{
	long n = *(const long *)field;

	if (n >= 1 && n <= 1024)
		return true;
	snprintf(why, size, "must be between 1 and 1024");
	return false;
}

/* kube-apiserver closes idle connections after 90 s; ours must outlast
 * that or a request may race our close. */
static bool check_idle(const void *field, char *why, size_t size)
{
	if (*(const uint64_t *)field >= 91000)
		return true;
	snprintf(why, size,
		 "is too short: must be at least 91s, longer than "
		 "kube-apiserver's 90s idle timeout");
	return false;
}

static bool check_nonzero_duration(const void *field, char *why, size_t size)
{
	if (*(const uint64_t *)field > 0)
		return true;
	snprintf(why, size, "must be more than 0s");
	return false;
}

/* Certificate lifetimes are whole seconds, one second or more. */
static bool check_validity(const void *field, char *why, size_t size)
{
	uint64_t ms = *(const uint64_t *)field;

	if (ms >= 1000 && ms % 1000 == 0 && ms / 1000 <= (uint64_t)LONG_MAX)
		return true;
	snprintf(why, size, "must be whole seconds, at least 1s");
	return false;
}

#define OFF(f) offsetof(cfg_serve, f)

static const cfg_row rows[] = {
	{ "config", T_PATH, OFF(config), NULL, NULL, "FILE", NULL,
	  "read options from this YAML file, a mapping of option names (as "
	  "below, without the dashes) to values; flags win over the file",
	  F_FLAG_ONLY | F_RESTART },
	{ "webhook-addr", T_ADDR, OFF(webhook_addr), ":9443", NULL, "HOST:PORT",
	  NULL,
	  "address of the HTTPS admission webhooks (\":9443\" is every "
	  "interface, \"[::1]:9443\" IPv6, port 0 an ephemeral port)",
	  F_RESTART },
	{ "health-addr", T_ADDR, OFF(health_addr), ":9444", NULL, "HOST:PORT",
	  NULL, "address of /healthz and /readyz (plain HTTP)", F_RESTART },
	{ "metrics-addr", T_ADDR, OFF(metrics_addr), ":9445", NULL, "HOST:PORT",
	  NULL, "address of the Prometheus /metrics (plain HTTP)", F_RESTART },
	{ "tls-cert-file", T_PATH, OFF(tls_cert_file), NULL, NULL, "FILE", NULL,
	  "serving certificate (PEM, chain allowed); reloaded when it "
	  "changes. Needs --tls-key-file",
	  0 },
	{ "tls-key-file", T_PATH, OFF(tls_key_file), NULL, NULL, "FILE", NULL,
	  "private key of --tls-cert-file (PEM)", 0 },
	{ "self-signed", T_PATH, OFF(self_signed), NULL, NULL, "DIR", NULL,
	  "for local use: generate a CA and a certificate for localhost and "
	  "127.0.0.1 into DIR (ca.crt, tls.crt, tls.key; reused while "
	  "valid). Exclusive with --tls-cert-file and --tls-key-file",
	  F_RESTART },
	{ "threads", T_INT, OFF(threads), NULL, check_threads, "N",
	  "the online cores, capped by the container's CPU limit (2 at least)",
	  "worker threads (1 to 1024)", F_RESTART },
	{ "max-connections", T_INT, OFF(max_connections), "1024",
	  check_positive, "N", NULL,
	  "most connections open at once on the webhook port", F_RESTART },
	{ "connection-idle-timeout", T_DURATION,
	  OFF(connection_idle_timeout_ms), "120s", check_idle, "DURATION", NULL,
	  "close a keep-alive connection idle this long; at least 91s, "
	  "longer than kube-apiserver's 90s idle timeout. Durations are Go "
	  "style (90s, 2m, 1m30s, 500ms) or plain seconds",
	  F_RESTART },
	{ "request-timeout", T_DURATION, OFF(request_timeout_ms), "10s",
	  check_nonzero_duration, "DURATION", NULL,
	  "absolute deadline of one request, from its headers to the answer; "
	  "slower clients are cut off (headers that trickle in are bounded "
	  "by the idle timeout, counted from the connection's last answer)",
	  F_RESTART },
	{ "shutdown-timeout", T_DURATION, OFF(shutdown_timeout_ms), "15s", NULL,
	  "DURATION", NULL,
	  "on SIGTERM, how long in-flight requests may take to finish", 0 },
	{ "log-level", T_LEVEL, OFF(log_level), "info", NULL, "LEVEL", NULL,
	  "debug, info, warn or error", 0 },
	{ "default-scheduler", T_STR, OFF(default_scheduler), "kai-scheduler",
	  NULL, "NAME", NULL,
	  "scheduler name the defaulting webhook sets when a PodCliqueSet "
	  "names none",
	  0 },
	{ "initc-image", T_STR, OFF(initc_image), POL_DEFAULT_INITC_IMAGE, NULL,
	  "IMAGE", NULL,
	  "image of the grove-initc container the pod webhook adds", 0 },
	{ "self-user", T_STR, OFF(self_user), NULL, NULL, "USER",
	  "system:serviceaccount:$POD_NAMESPACE:$POD_SERVICE_ACCOUNT, else "
	  "system:serviceaccount:groved-system:groved",
	  "groved's own user, which the authorizer webhook always allows", 0 },
	{ "exempt-users", T_LIST, OFF(exempt_users), "", NULL, "USER,...",
	  "empty: the built-in list",
	  "users the authorizer webhook allows to change managed objects "
	  "(comma-separated as a flag, a list in the file)",
	  0 },
	{ "no-reconcile", T_BOOL, OFF(no_reconcile), "false", NULL, NULL, NULL,
	  "serve the webhooks only, without the reconcile worker", F_RESTART },
	{ "reconcile-threads", T_INT, OFF(reconcile_threads), "2",
	  check_threads, "N", NULL,
	  "threads that reconcile PodCliqueSets, one set each at a time "
	  "(1 to 1024)",
	  F_RESTART },
	{ "kube-qps", T_INT, OFF(kube_qps), "50", check_positive, "N", NULL,
	  "requests per second the reconcile worker may send to the API "
	  "server, sustained",
	  F_RESTART },
	{ "kube-burst", T_INT, OFF(kube_burst), "100", check_positive, "N",
	  NULL,
	  "requests the reconcile worker may send at once above "
	  "--kube-qps",
	  F_RESTART },
	{ "kubeconfig", T_PATH, OFF(kubeconfig), NULL, NULL, "FILE",
	  "in-cluster configuration",
	  "kubeconfig of the API server to watch (informers fill the webhooks' "
	  "caches; in a pod the in-cluster configuration is used without it)",
	  F_RESTART },
	{ "namespace", T_STR, OFF(namespace), NULL, NULL, "NS",
	  "$POD_NAMESPACE, else the pod's own, else groved-system",
	  "groved's namespace: of its Lease and its certificate Secret",
	  F_RESTART },
	{ "leader-elect", T_BOOL, OFF(leader_elect), "false", NULL, NULL, NULL,
	  "elect one leader among the replicas on a Lease; only the leader "
	  "writes (certificates, the reconcile worker). Off: this process "
	  "leads",
	  F_RESTART },
	{ "leader-election-id", T_STR, OFF(leader_election_id), "groved-leader",
	  NULL, "NAME", NULL, "name of the Lease in --namespace", F_RESTART },
	{ "leader-lease-duration", T_DURATION, OFF(leader_lease_ms), "15s",
	  check_nonzero_duration, "DURATION", NULL,
	  "how long a leader that stopped renewing keeps the Lease: the "
	  "longest a failover waits",
	  F_RESTART },
	{ "leader-renew-deadline", T_DURATION, OFF(leader_renew_ms), "10s",
	  check_nonzero_duration, "DURATION", NULL,
	  "a leader that cannot renew for this long stops writing (shorter "
	  "than --leader-lease-duration)",
	  F_RESTART },
	{ "leader-retry-period", T_DURATION, OFF(leader_retry_ms), "2s",
	  check_nonzero_duration, "DURATION", NULL,
	  "between two tries to take or renew the Lease", F_RESTART },
	{ "cert-secret", T_STR, OFF(cert_secret), NULL, NULL, "NAME", NULL,
	  "self-managed certificates: the leader keeps a CA and the serving "
	  "certificate in this Secret of --namespace and renews them; every "
	  "replica serves what it holds. Needs the cluster; exclusive with "
	  "--tls-cert-file and --self-signed",
	  F_RESTART },
	{ "cert-service", T_STR, OFF(cert_service), "groved-webhook", NULL,
	  "NAME", NULL,
	  "the webhook Service: the serving certificate is for NAME, "
	  "NAME.NS, NAME.NS.svc and NAME.NS.svc.cluster.local",
	  F_RESTART },
	{ "cert-validity", T_DURATION, OFF(cert_validity_ms), "8760h",
	  check_validity, "DURATION", NULL,
	  "lifetime of a self-managed serving certificate; renewed after "
	  "two thirds of it",
	  F_RESTART },
	{ "ca-validity", T_DURATION, OFF(ca_validity_ms), "87600h",
	  check_validity, "DURATION", NULL,
	  "lifetime of the self-managed CA; a new one after two thirds",
	  F_RESTART },
	{ "cert-propagation", T_DURATION, OFF(cert_propagation_ms), "60s",
	  check_validity, "DURATION", NULL,
	  "how long a new CA is in the webhook configurations before a "
	  "serving certificate it signed is used (API servers re-read them)",
	  F_RESTART },
	{ "inject-ca-into", T_LIST, OFF(inject_ca_into), "", NULL,
	  "KIND/NAME,...", "none",
	  "webhook configurations whose caBundle the leader keeps equal to "
	  "the self-managed CA, as mutatingwebhookconfigurations/NAME or "
	  "validatingwebhookconfigurations/NAME",
	  F_RESTART },
	{ "help", T_BOOL, OFF(help), "false", NULL, NULL, NULL,
	  "print this help and exit", F_FLAG_ONLY | F_NO_DUMP },
};

#define N_ROWS (sizeof(rows) / sizeof(rows[0]))

static void *field_of(cfg_serve *c, const cfg_row *r)
{
	return (char *)c + r->offset;
}

static const void *cfield_of(const cfg_serve *c, const cfg_row *r)
{
	return (const char *)c + r->offset;
}

static const cfg_row *find_row(const char *name, size_t n)
{
	size_t i = 0;

	for (i = 0; i < N_ROWS; i++)
		if (strlen(rows[i].name) == n &&
		    strncmp(rows[i].name, name, n) == 0)
			return &rows[i];
	return NULL;
}

/* ---- errors ------------------------------------------------------------ */

static int fail(gv_error_t *err, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(gv_error_t *err, int rc, const char *fmt, ...)
{
	char text[GV_ERROR_TEXT_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	return gv_error_set(err, rc, NULL, 0, 0, "%s", text);
}

/* Where a value came from, for messages. file NULL means a flag. */
typedef struct origin {
	const char *file;
	int line; /* 0: unknown */
} origin;

/* "flag --threads" or "config file 'x': line 3: threads". */
static void where(char *buf, size_t size, const origin *o, const char *name)
{
	if (!o->file)
		snprintf(buf, size, "flag --%s", name);
	else if (o->line > 0)
		snprintf(buf, size, "config file '%s': line %d: %s", o->file,
			 o->line, name);
	else
		snprintf(buf, size, "config file '%s': %s", o->file, name);
}

/* Levenshtein distance of two short names (longer ones count as far). */
static size_t distance(const char *a, const char *b)
{
	size_t prev[64];
	size_t cur[64];
	size_t la = strlen(a);
	size_t lb = strlen(b);
	size_t i = 0;
	size_t j = 0;

	if (la >= 64 || lb >= 64)
		return SIZE_MAX;
	for (j = 0; j <= lb; j++)
		prev[j] = j;
	for (i = 1; i <= la; i++) {
		cur[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			size_t del = prev[j] + 1;
			size_t ins = cur[j - 1] + 1;

			cur[j] = sub < del ? sub : del;
			if (ins < cur[j])
				cur[j] = ins;
		}
		memcpy(prev, cur, (lb + 1) * sizeof(prev[0]));
	}
	return prev[lb];
}

/* The option nearest to name, when near enough to be a typo; or NULL. */
static const char *suggest(const char *name, bool file)
{
	const char *best = NULL;
	size_t best_d = SIZE_MAX;
	size_t i = 0;

	for (i = 0; i < N_ROWS; i++) {
		size_t d = 0;

		if (file && (rows[i].flags & F_FLAG_ONLY))
			continue;
		d = distance(name, rows[i].name);
		if (d < best_d) {
			best_d = d;
			best = rows[i].name;
		}
	}
	if (best && best_d <= 3 && best_d * 2 < strlen(best))
		return best;
	return NULL;
}

/* ---- values ------------------------------------------------------------ */

static bool parse_long(const char *s, long *out)
{
	char *end = NULL;
	long v = 0;

	if (!*s || isspace((unsigned char)*s))
		return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return false;
	*out = v;
	return true;
}

int cfg_parse_duration(const char *s, uint64_t *ms)
{
	static const struct {
		const char *unit;
		uint64_t ms;
	} units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 }
	};
	const uint64_t max = (uint64_t)1 << 50;
	uint64_t total = 0;
	const char *p = s;
	long n = 0;

	if (!s || !*s)
		return GV_EINVAL;
	if (parse_long(s, &n)) { /* plain seconds */
		if (n < 0 || (uint64_t)n > max / 1000)
			return GV_EINVAL;
		*ms = (uint64_t)n * 1000;
		return GV_OK;
	}
	while (*p) {
		uint64_t v = 0;
		size_t i = 0;
		size_t len = 0;

		if (!isdigit((unsigned char)*p))
			return GV_EINVAL;
		while (isdigit((unsigned char)*p)) {
			v = v * 10 + (uint64_t)(*p++ - '0');
			if (v > max)
				return GV_EINVAL;
		}
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			len = strlen(units[i].unit);
			if (strncmp(p, units[i].unit, len) == 0 &&
			    !isalpha((unsigned char)p[len]))
				break;
		}
		if (i == sizeof(units) / sizeof(units[0]))
			return GV_EINVAL;
		p += len;
		if (v > max / units[i].ms || total + v * units[i].ms > max)
			return GV_EINVAL;
		total += v * units[i].ms;
	}
	*ms = total;
	return GV_OK;
}

/* cfg_parse_hostport, saying why it failed. */
static int hostport(const char *s, char *host, size_t hostsz, unsigned *port,
		    char *why, size_t size)
{
	const char *h = s;
	size_t hlen = 0;
	const char *colon = NULL;
	const char *p = NULL;
	long v = 0;
	size_t i = 0;

	if (!s || !*s) {
		snprintf(why, size, "is empty");
		return GV_EINVAL;
	}
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close) {
			snprintf(why, size,
				 "has no ']' after the IPv6 address");
			return GV_EINVAL;
		}
		h = s + 1;
		hlen = (size_t)(close - h);
		if (close[1] != ':') {
			snprintf(why, size, "needs ':PORT' after ']'");
			return GV_EINVAL;
		}
		p = close + 2;
		for (i = 0; i < hlen && h[i] != '%'; i++) {
			if (!isxdigit((unsigned char)h[i]) && h[i] != ':' &&
			    h[i] != '.') {
				snprintf(why, size,
					 "has a bad IPv6 address in brackets");
				return GV_EINVAL;
			}
		}
		if (hlen == 0 || !memchr(h, ':', hlen)) {
			snprintf(why, size,
				 "has a bad IPv6 address in brackets");
			return GV_EINVAL;
		}
	} else {
		colon = strrchr(s, ':');
		if (!colon) {
			snprintf(why, size,
				 "is not HOST:PORT (e.g. \":9443\", "
				 "\"127.0.0.1:0\", \"[::1]:9443\")");
			return GV_EINVAL;
		}
		if (memchr(s, ':', (size_t)(colon - s))) {
			snprintf(why, size,
				 "has more than one ':' (write IPv6 addresses "
				 "in brackets: \"[::1]:9443\")");
			return GV_EINVAL;
		}
		hlen = (size_t)(colon - s);
		p = colon + 1;
		for (i = 0; i < hlen; i++) {
			if (!isalnum((unsigned char)h[i]) && h[i] != '.' &&
			    h[i] != '-') {
				snprintf(
				    why, size,
				    "has a bad host name (letters, digits, "
				    "'.' and '-')");
				return GV_EINVAL;
			}
		}
	}
	if (!*p) {
		snprintf(why, size, "has no port after ':'");
		return GV_EINVAL;
	}
	for (i = 0; p[i]; i++) {
		if (!isdigit((unsigned char)p[i])) {
			snprintf(why, size, "has a port that is not a number");
			return GV_EINVAL;
		}
	}
	if (!parse_long(p, &v) || v > 65535) {
		snprintf(why, size, "has a port above 65535");
		return GV_EINVAL;
	}
	if (hlen >= hostsz) {
		snprintf(why, size, "has a host name that is too long");
		return GV_EINVAL;
	}
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	*port = (unsigned)v;
	return GV_OK;
}

int cfg_parse_hostport(const char *s, char *host, size_t hostsz, unsigned *port)
{
	char why[WHY_MAX];

	return hostport(s, host, hostsz, port, why, sizeof(why));
}

static void list_free(char **list)
{
	size_t i = 0;

	for (i = 0; list && list[i]; i++)
		free(list[i]);
	free(list);
}

static char **list_new(size_t n)
{
	return calloc(n + 1, sizeof(char *));
}

/* Splits a comma-separated flag value; blanks around items and empty
 * items are dropped. */
static int list_split(const char *s, char ***out)
{
	char **list = NULL;
	size_t n = 1;
	size_t k = 0;
	const char *p = s;
	int rc = GV_OK;

	for (p = s; *p; p++)
		n += *p == ',';
	list = list_new(n);
	if (!list) {
		rc = GV_ENOMEM;
		goto out;
	}
	p = s;
	while (*p) {
		const char *end = strchr(p, ',');
		const char *stop = end ? end : p + strlen(p);

		while (p < stop && isspace((unsigned char)*p))
			p++;
		while (stop > p && isspace((unsigned char)stop[-1]))
			stop--;
		if (stop > p) {
			list[k] = strndup(p, (size_t)(stop - p));
			if (!list[k++]) {
				rc = GV_ENOMEM;
				goto out;
			}
		}
		if (!end)
			break;
		p = end + 1;
	}
	*out = list;
	list = NULL;
out:
	list_free(list);
	return rc;
}

/*
 * Parses text into r's field of c, replacing what was there. Returns
 * GV_OK; GV_EINVAL with why (to follow the quoted text); or GV_ENOMEM.
 */
static int set_text(cfg_serve *c, const cfg_row *r, const char *text, char *why,
		    size_t size)
{
	void *f = field_of(c, r);
	char host[256];
	unsigned port = 0;
	char *copy = NULL;
	char **list = NULL;
	long n = 0;
	uint64_t ms = 0;
	log_level lv = LOG_LVL_INFO;

	switch (r->type) {
	case T_STR:
	case T_PATH:
	case T_ADDR:
		if (!*text) {
			snprintf(why, size, "is empty");
			return GV_EINVAL;
		}
		if (r->type == T_ADDR && hostport(text, host, sizeof(host),
						  &port, why, size) != GV_OK)
			return GV_EINVAL;
		copy = strdup(text);
		if (!copy)
			return GV_ENOMEM;
		free(*(char **)f);
		*(char **)f = copy;
		break;
	case T_INT:
		if (!parse_long(text, &n)) {
			snprintf(why, size, "is not an integer");
			return GV_EINVAL;
		}
		*(long *)f = n;
		break;
	case T_DURATION:
		if (cfg_parse_duration(text, &ms) != GV_OK) {
			snprintf(why, size,
				 "is not a duration (e.g. 90s, 2m, 1m30s, "
				 "500ms, or seconds)");
			return GV_EINVAL;
		}
		*(uint64_t *)f = ms;
		break;
	case T_BOOL:
		if (strcmp(text, "true") == 0) {
			*(bool *)f = true;
		} else if (strcmp(text, "false") == 0) {
			*(bool *)f = false;
		} else {
			snprintf(why, size, "is not a boolean (true or false)");
			return GV_EINVAL;
		}
		break;
	case T_LEVEL:
		if (log_level_parse(text, &lv) != GV_OK) {
			snprintf(why, size,
				 "is not a log level (debug, info, warn or "
				 "error)");
			return GV_EINVAL;
		}
		*(log_level *)f = lv;
		break;
	case T_LIST:
		if (list_split(text, &list) != GV_OK)
			return GV_ENOMEM;
		list_free(*(char ***)f);
		*(char ***)f = list;
		break;
	}
	if (r->check && !r->check(f, why, size))
		return GV_EINVAL;
	return GV_OK;
}

/* Applies one value, naming its origin in any error. */
static int apply(cfg_serve *c, const cfg_row *r, const char *text,
		 const origin *o, gv_error_t *err)
{
	char why[WHY_MAX] = "";
	char at[GV_ERROR_SOURCE_MAX + 64];
	int rc = set_text(c, r, text, why, sizeof(why));

	if (rc == GV_ENOMEM)
		return fail(err, rc, "out of memory");
	if (rc != GV_OK) {
		where(at, sizeof(at), o, r->name);
		return fail(err, rc, "%s: \"%s\" %s", at, text, why);
	}
	return GV_OK;
}

/* ---- the file ---------------------------------------------------------- */

/* The line of each top-level key of a YAML mapping, as an object of
 * integers (*out, a new reference; keys it could not find are absent).
 * Returns GV_OK or GV_ENOMEM. */
static int key_lines(const char *data, size_t len, json_t **out)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	json_t *lines = json_object();
	int depth = 0;
	bool want_key = true;
	bool done = false;
	int rc = GV_OK;

	if (!lines || !yaml_parser_initialize(&parser)) {
		json_decref(lines);
		return GV_ENOMEM;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
	while (!done) {
		if (!yaml_parser_parse(&parser, &ev))
			break;
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
		case YAML_DOCUMENT_END_EVENT:
			done = true;
			break;
		case YAML_MAPPING_START_EVENT:
		case YAML_SEQUENCE_START_EVENT:
			depth++;
			break;
		case YAML_MAPPING_END_EVENT:
		case YAML_SEQUENCE_END_EVENT:
			if (--depth == 1)
				want_key = true;
			break;
		case YAML_SCALAR_EVENT:
			if (depth == 1 && want_key &&
			    json_object_set_new(
				lines, (const char *)ev.data.scalar.value,
				json_integer((json_int_t)ev.start_mark.line +
					     1)) != 0) {
				rc = GV_ENOMEM;
				done = true;
			}
			if (depth == 1)
				want_key = !want_key;
			break;
		case YAML_ALIAS_EVENT:
			if (depth == 1)
				want_key = !want_key;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	if (rc != GV_OK) {
		json_decref(lines);
		return rc;
	}
	*out = lines;
	return GV_OK;
}

/* The file at path, read whole by gv_read_file; its failures in the
 * words of the other messages about the file. */
static int read_file(const char *path, char **data, size_t *len,
		     gv_error_t *err)
{
	gv_error_t rerr = GV_ERROR_INIT;
	const char *why = NULL;
	int rc = gv_read_file(path, CFG_FILE_MAX, NULL, data, len, &rerr);

	if (rc == GV_OK)
		return GV_OK;
	if (rc == GV_ENOMEM)
		return fail(err, rc, "out of memory");
	if (rc == GV_ETOOBIG)
		return fail(err, rc, "config file '%s': larger than %zu bytes",
			    path, CFG_FILE_MAX);
	/* "cannot open: <strerror>" and the like: the reason after the
	 * verb */
	why = strstr(rerr.text, ": ");
	return fail(err, GV_EIO, "config file '%s': cannot read: %s", path,
		    why ? why + 2 : rerr.text);
}

/* A YAML scalar as the text a flag would give. */
static bool scalar_text(const json_t *v, char *buf, size_t size,
			const char **text)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		*text = json_string_value(v);
		return true;
	case JSON_INTEGER:
		snprintf(buf, size, "%lld", (long long)json_integer_value(v));
		break;
	case JSON_REAL:
		snprintf(buf, size, "%.17g", json_real_value(v));
		break;
	case JSON_TRUE:
		snprintf(buf, size, "true");
		break;
	case JSON_FALSE:
		snprintf(buf, size, "false");
		break;
	default:
		return false;
	}
	*text = buf;
	return true;
}

static int apply_list(cfg_serve *c, const cfg_row *r, const json_t *arr,
		      const origin *o, gv_error_t *err)
{
	char at[GV_ERROR_SOURCE_MAX + 64];
	char **list = list_new(json_array_size(arr));
	size_t i = 0;
	int rc = GV_OK;

	if (!list) {
		rc = fail(err, GV_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < json_array_size(arr); i++) {
		const char *s = json_string_value(json_array_get(arr, i));

		if (!s || !*s) {
			where(at, sizeof(at), o, r->name);
			rc = fail(err, GV_EINVAL,
				  "%s: item %zu is not a non-empty string", at,
				  i + 1);
			goto out;
		}
		list[i] = strdup(s);
		if (!list[i]) {
			rc = fail(err, GV_ENOMEM, "out of memory");
			goto out;
		}
	}
	list_free(*(char ***)field_of(c, r));
	*(char ***)field_of(c, r) = list;
	list = NULL;
out:
	list_free(list);
	return rc;
}

static int apply_file(cfg_serve *c, const char *path, gv_error_t *err)
{
	char *data = NULL;
	size_t len = 0;
	json_t *docs = NULL;
	json_t *lines = NULL;
	const json_t *doc = NULL;
	const char *key = NULL;
	json_t *value = NULL;
	gv_error_t perr = GV_ERROR_INIT;
	char at[GV_ERROR_SOURCE_MAX + 64];
	int rc = GV_OK;

	rc = read_file(path, &data, &len, err);
	if (rc != GV_OK)
		goto out;
	rc = gv_read_documents(data, len, path, &docs, NULL, &perr);
	if (rc != GV_OK) {
		if (perr.line > 0)
			rc = fail(err, rc, "config file '%s': line %d: %s",
				  path, perr.line, perr.text);
		else
			rc = fail(err, rc, "config file '%s': %s", path,
				  perr.text);
		goto out;
	}
	if (json_array_size(docs) == 0)
		goto out; /* empty: the defaults */
	doc = json_array_get(docs, 0);
	if (json_array_size(docs) > 1 || !json_is_object(doc)) {
		rc = fail(err, GV_EINVAL,
			  "config file '%s': must be one mapping of option "
			  "names to values",
			  path);
		goto out;
	}
	if (key_lines(data, len, &lines) != GV_OK) {
		rc = fail(err, GV_ENOMEM, "out of memory");
		goto out;
	}
	json_object_foreach((json_t *)doc, key, value)
	{
		const cfg_row *r = find_row(key, strlen(key));
		origin o = { .file = path,
			     .line = (int)json_integer_value(
				 json_object_get(lines, key)) };
		char num[64];
		const char *text = NULL;
		const char *hint = NULL;

		if (o.line > 0)
			snprintf(at, sizeof(at), "config file '%s': line %d",
				 path, o.line);
		else
			snprintf(at, sizeof(at), "config file '%s'", path);
		if (!r) {
			hint = suggest(key, true);
			rc =
			    fail(err, GV_EINVAL, "%s: unknown key \"%s\"%s%s%s",
				 at, key, hint ? " (did you mean \"" : "",
				 hint ? hint : "", hint ? "\"?)" : "");
			goto out;
		}
		if (r->flags & F_FLAG_ONLY) {
			rc = fail(err, GV_EINVAL,
				  "%s: \"%s\" can only be given as a flag", at,
				  key);
			goto out;
		}
		if (r->type == T_LIST && json_is_array(value)) {
			rc = apply_list(c, r, value, &o, err);
			if (rc != GV_OK)
				goto out;
			continue;
		}
		if (!scalar_text(value, num, sizeof(num), &text)) {
			where(at, sizeof(at), &o, key);
			rc = fail(err, GV_EINVAL, "%s: %s", at,
				  json_is_null(value)
				      ? "has no value"
				      : "must be a single value");
			goto out;
		}
		rc = apply(c, r, text, &o, err);
		if (rc != GV_OK)
			goto out;
	}
out:
	json_decref(lines);
	json_decref(docs);
	free(data);
	return rc;
}

/* ---- flags and the whole load ------------------------------------------ */

typedef struct flag_value {
	const cfg_row *row;
	const char *text;
} flag_value;

/* Splits argv into (option, value) pairs; says which is bad. */
static int scan_flags(int argc, char **argv, flag_value *out, size_t *n,
		      gv_error_t *err)
{
	const char *hint = NULL;
	int i = 0;

	*n = 0;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *name = a + 2;
		const char *eq = NULL;
		size_t len = 0;
		const cfg_row *r = NULL;

		if (strcmp(a, "-h") == 0) {
			out[(*n)++] =
			    (flag_value){ find_row("help", 4), "true" };
			continue;
		}
		if (strncmp(a, "--", 2) != 0 || !a[2])
			return fail(err, GV_EINVAL,
				    "unexpected argument '%s' (options start "
				    "with --)",
				    a);
		eq = strchr(name, '=');
		len = eq ? (size_t)(eq - name) : strlen(name);
		r = find_row(name, len);
		if (!r) {
			char unknown[128];

			snprintf(unknown, sizeof(unknown), "%.*s",
				 (int)(len < 100 ? len : 100), name);
			hint = suggest(unknown, false);
			return fail(err, GV_EINVAL, "unknown flag --%s%s%s%s",
				    unknown, hint ? " (did you mean --" : "",
				    hint ? hint : "", hint ? "?)" : "");
		}
		if (eq)
			out[(*n)++] = (flag_value){ r, eq + 1 };
		else if (r->type == T_BOOL)
			out[(*n)++] = (flag_value){ r, "true" };
		else if (i + 1 < argc)
			out[(*n)++] = (flag_value){ r, argv[++i] };
		else
			return fail(err, GV_EINVAL, "flag --%s: missing value",
				    r->name);
	}
	return GV_OK;
}

/* Checks that span options. */
static int check_all(const cfg_serve *c, gv_error_t *err)
{
	size_t i = 0;

	if (c->self_signed && (c->tls_cert_file || c->tls_key_file))
		return fail(err, GV_EINVAL,
			    "self-signed cannot be combined with tls-cert-file "
			    "or tls-key-file: give either a directory for a "
			    "self-signed certificate or the certificate files");
	if (!c->tls_cert_file != !c->tls_key_file)
		return fail(
		    err, GV_EINVAL, "%s is set without %s: give both files",
		    c->tls_cert_file ? "tls-cert-file" : "tls-key-file",
		    c->tls_cert_file ? "tls-key-file" : "tls-cert-file");
	if (c->cert_secret && (c->self_signed || c->tls_cert_file))
		return fail(err, GV_EINVAL,
			    "cert-secret cannot be combined with %s: "
			    "certificates come from one place",
			    c->self_signed ? "self-signed" : "tls-cert-file");
	if (!c->self_signed && !c->tls_cert_file && !c->cert_secret)
		return fail(err, GV_EINVAL,
			    "no serving certificate: give --tls-cert-file and "
			    "--tls-key-file, --self-signed DIR or "
			    "--cert-secret NAME");
	/* client-go's rule: a leader steps down before its Lease could be
	 * taken, and tries more than once before that */
	if (c->leader_renew_ms >= c->leader_lease_ms ||
	    c->leader_retry_ms >= c->leader_renew_ms)
		return fail(err, GV_EINVAL,
			    "leader-retry-period < leader-renew-deadline < "
			    "leader-lease-duration must hold: a leader must "
			    "step down before another may take its Lease");
	for (i = 0; c->inject_ca_into[i]; i++) {
		const char *ref = c->inject_ca_into[i];
		const char *slash = strchr(ref, '/');

		if (!slash || !slash[1] || strchr(slash + 1, '/') ||
		    (strncmp(ref, "mutatingwebhookconfigurations/", 30) != 0 &&
		     strncmp(ref, "validatingwebhookconfigurations/", 32) != 0))
			return fail(err, GV_EINVAL,
				    "inject-ca-into: \"%s\" is not "
				    "mutatingwebhookconfigurations/NAME or "
				    "validatingwebhookconfigurations/NAME",
				    ref);
	}
	if (c->inject_ca_into[0] && !c->cert_secret)
		return fail(err, GV_EINVAL,
			    "inject-ca-into needs cert-secret: only "
			    "self-managed certificates are injected");
	return GV_OK;
}

int cfg_serve_load(cfg_serve *c, int argc, char **argv, gv_error_t *err)
{
	cfg_serve next;
	flag_value *flags = NULL;
	size_t n = 0;
	size_t i = 0;
	const char *config = NULL;
	bool help = false;
	const origin flag = { NULL, 0 };
	int rc = GV_OK;

	memset(&next, 0, sizeof(next));
	rc = cfg_serve_init(&next);
	if (rc != GV_OK) {
		rc = fail(err, rc, "out of memory");
		goto out;
	}
	flags = calloc((size_t)(argc > 0 ? argc : 1), sizeof(*flags));
	if (!flags) {
		rc = fail(err, GV_ENOMEM, "out of memory");
		goto out;
	}
	rc = scan_flags(argc, argv, flags, &n, err);
	if (rc != GV_OK)
		goto out;
	for (i = 0; i < n; i++) {
		if (flags[i].row->offset == OFF(help) &&
		    strcmp(flags[i].text, "false") != 0)
			help = true;
		if (flags[i].row->offset == OFF(config))
			config = flags[i].text;
	}
	if (help) {
		next.help = true;
		goto done;
	}
	if (config) {
		if (!*config) {
			rc = fail(err, GV_EINVAL,
				  "flag --config: \"\" is empty");
			goto out;
		}
		rc = apply_file(&next, config, err);
		if (rc != GV_OK)
			goto out;
	}
	for (i = 0; i < n; i++) {
		rc = apply(&next, flags[i].row, flags[i].text, &flag, err);
		if (rc != GV_OK)
			goto out;
	}
	rc = check_all(&next, err);
	if (rc != GV_OK)
		goto out;
done:
	cfg_serve_release(c);
	*c = next;
	memset(&next, 0, sizeof(next));
out:
	cfg_serve_release(&next);
	free(flags);
	return rc;
}

/* ---- init, release, dump, help ----------------------------------------- */

const char *cfg_self_user(const cfg_serve *c, char *buf, size_t size)
{
	const char *ns = getenv("POD_NAMESPACE");
	const char *sa = getenv("POD_SERVICE_ACCOUNT");

	if (c->self_user && c->self_user[0])
		return c->self_user;
	/* in a pod the downward API says who we are, wherever installed */
	if (ns && ns[0] && sa && sa[0] &&
	    snprintf(buf, size, "system:serviceaccount:%s:%s", ns, sa) <
		(int)size)
		return buf;
	return "system:serviceaccount:groved-system:groved";
}

long cfg_default_threads(long cores, const char *cpu_max)
{
	char text[64] = "";
	FILE *f = cpu_max ? fopen(cpu_max, "r") : NULL;
	unsigned long long quota = 0;
	unsigned long long period = 0;
	long limit = 0;

	if (cores < 1)
		cores = 1;
	if (f) {
		if (!fgets(text, sizeof(text), f))
			text[0] = '\0';
		fclose(f);
	}
	/* "max 100000": no limit; "150000 100000": 1.5 CPUs, so 2 */
	if (sscanf(text, "%llu %llu", &quota, &period) == 2 && quota > 0 &&
	    period > 0) {
		limit = (long)((quota + period - 1) / period);
		/* two at least: a live GET on a cache miss blocks its thread,
		 * and one thread would stall every other review behind it */
		if (limit < 2)
			limit = 2;
		if (limit < cores)
			cores = limit;
	}
	return cores > 1024 ? 1024 : cores;
}

int cfg_serve_init(cfg_serve *c)
{
	char why[WHY_MAX];
	long cores = cfg_default_threads(sysconf(_SC_NPROCESSORS_ONLN),
					 CFG_CPU_MAX_PATH);
	size_t i = 0;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < N_ROWS; i++) {
		if (rows[i].def && set_text(c, &rows[i], rows[i].def, why,
					    sizeof(why)) != GV_OK) {
			cfg_serve_release(c);
			return GV_ENOMEM; /* the defaults are valid */
		}
	}
	c->threads = cores;
	return GV_OK;
}

void cfg_serve_release(cfg_serve *c)
{
	size_t i = 0;

	if (!c)
		return;
	for (i = 0; i < N_ROWS; i++) {
		void *f = field_of(c, &rows[i]);

		switch (rows[i].type) {
		case T_STR:
		case T_PATH:
		case T_ADDR:
			free(*(char **)f);
			*(char **)f = NULL;
			break;
		case T_LIST:
			list_free(*(char ***)f);
			*(char ***)f = NULL;
			break;
		default:
			break;
		}
	}
}

/* The dump has no limit of its own: a value is as long as the file or
 * flag it came from let it be. */
#define DUMP_STRING_MAX (SIZE_MAX / 8)

/* s as a JSON string (gv_json_escape: bytes that are not UTF-8 become
 * U+FFFD, so the dump stays valid JSON). Returns false when out of
 * memory. */
static bool dump_string(FILE *f, const char *s)
{
	gv_buf b;
	bool ok = false;

	gv_buf_init(&b, DUMP_STRING_MAX);
	ok = gv_json_escape_str(&b, s) == GV_OK;
	if (ok)
		fwrite(b.s, 1, b.len, f);
	gv_buf_release(&b);
	return ok;
}

static void dump_duration(FILE *f, uint64_t ms)
{
	if (ms % 1000 == 0)
		fprintf(f, "\"%llus\"", (unsigned long long)(ms / 1000));
	else
		fprintf(f, "\"%llums\"", (unsigned long long)ms);
}

char *cfg_serve_dump(const cfg_serve *c)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	bool first = true;
	bool failed = false;
	size_t i = 0;
	size_t j = 0;

	if (!f)
		return NULL;
	fputc('{', f);
	for (i = 0; i < N_ROWS; i++) {
		const cfg_row *r = &rows[i];
		const void *v = cfield_of(c, r);

		if (r->flags & F_NO_DUMP)
			continue;
		fprintf(f, "%s\"%s\":", first ? "" : ",", r->name);
		first = false;
		if ((r->flags & F_SENSITIVE) && r->type <= T_ADDR &&
		    *(char *const *)v) {
			fputs("\"<redacted>\"", f);
			continue;
		}
		switch (r->type) {
		case T_STR:
		case T_PATH:
		case T_ADDR:
			if (*(char *const *)v)
				failed |= !dump_string(f, *(char *const *)v);
			else
				fputs("null", f);
			break;
		case T_INT:
			fprintf(f, "%ld", *(const long *)v);
			break;
		case T_DURATION:
			dump_duration(f, *(const uint64_t *)v);
			break;
		case T_BOOL:
			fputs(*(const bool *)v ? "true" : "false", f);
			break;
		case T_LEVEL:
			fprintf(f, "\"%s\"",
				log_level_name(*(const log_level *)v));
			break;
		case T_LIST:
			fputc('[', f);
			for (j = 0;
			     *(char **const *)v && (*(char **const *)v)[j];
			     j++) {
				if (j)
					fputc(',', f);
				if (r->flags & F_SENSITIVE)
					fputs("\"<redacted>\"", f);
				else
					failed |= !dump_string(
					    f, (*(char **const *)v)[j]);
			}
			fputc(']', f);
			break;
		}
	}
	fputc('}', f);
	if (failed || ferror(f)) {
		fclose(f);
		free(buf);
		return NULL;
	}
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static bool str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static bool row_equal(const cfg_row *r, const cfg_serve *a, const cfg_serve *b)
{
	const void *x = cfield_of(a, r);
	const void *y = cfield_of(b, r);
	char *const *lx = NULL;
	char *const *ly = NULL;
	size_t i = 0;

	switch (r->type) {
	case T_STR:
	case T_PATH:
	case T_ADDR:
		return str_eq(*(char *const *)x, *(char *const *)y);
	case T_INT:
		return *(const long *)x == *(const long *)y;
	case T_DURATION:
		return *(const uint64_t *)x == *(const uint64_t *)y;
	case T_BOOL:
		return *(const bool *)x == *(const bool *)y;
	case T_LEVEL:
		return *(const log_level *)x == *(const log_level *)y;
	case T_LIST:
		lx = *(char **const *)x;
		ly = *(char **const *)y;
		for (i = 0; lx && ly && lx[i] && ly[i]; i++)
			if (strcmp(lx[i], ly[i]) != 0)
				return false;
		return (!lx || !lx[i]) && (!ly || !ly[i]);
	}
	return true;
}

const char *cfg_serve_restart_needed(const cfg_serve *a, const cfg_serve *b)
{
	size_t i = 0;

	for (i = 0; i < N_ROWS; i++)
		if ((rows[i].flags & F_RESTART) && !row_equal(&rows[i], a, b))
			return rows[i].name;
	return NULL;
}

/* Writes text wrapped at 80 columns, each line indented by 8. */
static void wrap(FILE *to, const char *text)
{
	const char *p = text;
	size_t col = 0;

	while (*p) {
		size_t word = strcspn(p, " ");

		if (col > 0 && col + 1 + word > 80 - 8) {
			fputc('\n', to);
			col = 0;
		}
		fprintf(to, "%s%.*s", col == 0 ? "        " : " ", (int)word,
			p);
		col += word + (col > 0);
		p += word;
		while (*p == ' ')
			p++;
	}
	fputc('\n', to);
}

void cfg_serve_help(FILE *to)
{
	char text[512];
	size_t i = 0;

	fputs("usage: groved serve [options]\n"
	      "\n"
	      "Serves the admission webhooks over HTTPS, /healthz and /readyz, "
	      "and\n"
	      "Prometheus /metrics. Logs go to stderr, one JSON object per "
	      "line.\n"
	      "SIGHUP reloads the configuration and the certificates; SIGTERM "
	      "stops.\n"
	      "\n"
	      "options (each, without the dashes, is also a key of the "
	      "--config file):\n",
	      to);
	for (i = 0; i < N_ROWS; i++) {
		const cfg_row *r = &rows[i];

		fprintf(to, "  --%s%s%s\n", r->name, r->arg ? " " : "",
			r->arg ? r->arg : "");
		if (r->def && *r->def && r->type <= T_ADDR)
			snprintf(text, sizeof(text), "%s (default \"%s\")",
				 r->help, r->def);
		else if (r->def && *r->def && r->type != T_BOOL)
			snprintf(text, sizeof(text), "%s (default %s)", r->help,
				 r->def);
		else if (r->def_help)
			snprintf(text, sizeof(text), "%s (default: %s)",
				 r->help, r->def_help);
		else
			snprintf(text, sizeof(text), "%s", r->help);
		wrap(to, text);
	}
}
