/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_config.c: `groved serve` options: defaults, the YAML file, flags
 * over the file, every error message, --help and the dump.
 */
#include <sys/stat.h>

#include "test_util.h"
#include "srv_config.h"

#define ARGC(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* A temporary directory for config files. */
static char dir[64];

static int group_setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/gv-config-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int group_teardown(void **state)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/c.yaml", dir);
	unlink(path);
	rmdir(dir);
	return 0;
}

/* Writes text to the config file; returns its path (static). */
static const char *config_file(const char *text)
{
	static char path[128];
	FILE *f = NULL;

	snprintf(path, sizeof(path), "%s/c.yaml", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static void test_defaults(void **state)
{
	const char *argv[] = { "serve", "--self-signed", "/tmp/certs" };
	cfg_serve c;
	gv_error_t err = GV_ERROR_INIT;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);

	assert_int_equal(cfg_serve_init(&c), GV_OK);
	assert_int_equal(cfg_serve_load(&c, ARGC(argv), (char **)argv, &err),
			 GV_OK);
	assert_string_equal(c.webhook_addr, ":9443");
	assert_string_equal(c.health_addr, ":9444");
	assert_string_equal(c.metrics_addr, ":9445");
	assert_null(c.tls_cert_file);
	assert_null(c.tls_key_file);
	assert_null(c.config);
	assert_string_equal(c.self_signed, "/tmp/certs");
	assert_int_equal(c.threads, cores < 1 ? 1 : cores);
	assert_int_equal(c.max_connections, 1024);
	assert_int_equal(c.connection_idle_timeout_ms, 120000);
	assert_int_equal(c.request_timeout_ms, 10000);
	assert_int_equal(c.shutdown_timeout_ms, 15000);
	assert_int_equal(c.log_level, LOG_LVL_INFO);
	assert_string_equal(c.default_scheduler, "kai-scheduler");
	/* the policy's default, the one place the image is written */
	assert_string_equal(c.initc_image, POL_DEFAULT_INITC_IMAGE);
	assert_null(c.self_user); /* cfg_self_user() decides */
	assert_non_null(c.exempt_users);
	assert_null(c.exempt_users[0]);
	assert_false(c.no_reconcile);
	assert_null(c.kubeconfig);
	assert_false(c.help);
	cfg_serve_release(&c);
	cfg_serve_release(&c); /* twice is fine */
}

static void test_file_and_flags(void **state)
{
	const char *path = config_file("# groved serve\n"
				       "webhook-addr: \"127.0.0.1:0\"\n"
				       "health-addr: '[::1]:9444'\n"
				       "tls-cert-file: /etc/tls/tls.crt\n"
				       "tls-key-file: /etc/tls/tls.key\n"
				       "threads: 3\n"
				       "max-connections: 10\n"
				       "connection-idle-timeout: 2m\n"
				       "request-timeout: 1m30s\n"
				       "shutdown-timeout: 5\n"
				       "log-level: debug\n"
				       "exempt-users:\n"
				       "  - system:admin\n"
				       "  - 'ops, the team'\n"
				       "no-reconcile: true\n"
				       "kubeconfig: /root/.kube/config\n");
	const char *argv[] = { "serve",
			       "--config",
			       path,
			       "--threads=5",
			       "--log-level",
			       "warn",
			       "--no-reconcile=false",
			       "--request-timeout=500ms",
			       "--initc-image",
			       "registry.local/initc:1" };
	cfg_serve c;
	gv_error_t err = GV_ERROR_INIT;

	assert_int_equal(cfg_serve_init(&c), GV_OK);
	if (cfg_serve_load(&c, ARGC(argv), (char **)argv, &err) != GV_OK)
		print_error("%s\n", err.text);
	assert_string_equal(c.config, path);
	assert_string_equal(c.webhook_addr, "127.0.0.1:0");
	assert_string_equal(c.health_addr, "[::1]:9444");
	assert_string_equal(c.metrics_addr, ":9445");
	assert_string_equal(c.tls_cert_file, "/etc/tls/tls.crt");
	assert_string_equal(c.tls_key_file, "/etc/tls/tls.key");
	assert_int_equal(c.threads, 5); /* flag */
	assert_int_equal(c.max_connections, 10); /* file */
	assert_int_equal(c.connection_idle_timeout_ms, 120000); /* file */
	assert_int_equal(c.request_timeout_ms, 500); /* flag */
	assert_int_equal(c.shutdown_timeout_ms, 5000); /* file */
	assert_int_equal(c.log_level, LOG_LVL_WARN);
	assert_string_equal(c.initc_image, "registry.local/initc:1");
	assert_string_equal(c.exempt_users[0], "system:admin");
	assert_string_equal(c.exempt_users[1], "ops, the team");
	assert_null(c.exempt_users[2]);
	assert_false(c.no_reconcile);
	assert_string_equal(c.kubeconfig, "/root/.kube/config");
	cfg_serve_release(&c);
}

static void test_flag_forms(void **state)
{
	const char *argv[] = { "serve",
			       "--self-signed=/tmp/d",
			       "--no-reconcile",
			       "--exempt-users",
			       " a , b,,c ",
			       "--webhook-addr",
			       "localhost:9443",
			       "--connection-idle-timeout=91",
			       "--default-scheduler=volcano" };
	const char *help[] = { "serve", "--threads", "x", "-h" };
	const char *help2[] = { "serve", "--help", "--bogus" };
	cfg_serve c;
	gv_error_t err = GV_ERROR_INIT;

	assert_int_equal(cfg_serve_init(&c), GV_OK);
	assert_int_equal(cfg_serve_load(&c, ARGC(argv), (char **)argv, &err),
			 GV_OK);
	assert_true(c.no_reconcile);
	assert_string_equal(c.exempt_users[0], "a");
	assert_string_equal(c.exempt_users[1], "b");
	assert_string_equal(c.exempt_users[2], "c");
	assert_null(c.exempt_users[3]);
	assert_string_equal(c.webhook_addr, "localhost:9443");
	assert_int_equal(c.connection_idle_timeout_ms, 91000);
	assert_string_equal(c.default_scheduler, "volcano");
	assert_false(c.help);
	/* --help wins over anything else after the flags are split */
	assert_int_equal(cfg_serve_load(&c, ARGC(help), (char **)help, &err),
			 GV_OK);
	assert_true(c.help);
	assert_int_equal(c.threads > 0, 1);
	cfg_serve_release(&c);
	assert_int_equal(cfg_serve_init(&c), GV_OK);
	assert_int_equal(cfg_serve_load(&c, ARGC(help2), (char **)help2, &err),
			 GV_EINVAL);
	assert_string_equal(err.text, "unknown flag --bogus");
	cfg_serve_release(&c);
}

/* One failing load: argv after "serve", a config file (or NULL), the
 * exact message. */
typedef struct bad_case {
	const char *file;
	const char *args[6];
	const char *message;
} bad_case;

#define TLS "--self-signed=/tmp/d"

static const bad_case bad_cases[] = {
	{ NULL,
	  { TLS, "--leader-lease-duration=5s", "--leader-renew-deadline=5s" },
	  "leader-retry-period < leader-renew-deadline < "
	  "leader-lease-duration must hold: a leader must step down before "
	  "another may take its Lease" },
	{ "tls-key-file: /k\nwebhok-addr: :1\n",
	  { "--tls-cert-file=/c" },
	  "config file '@': line 2: unknown key \"webhok-addr\" (did you mean "
	  "\"webhook-addr\"?)" },
	{ "\n\nfrobnicate: 1\n",
	  { TLS },
	  "config file '@': line 3: unknown key \"frobnicate\"" },
	{ "config: /x\n",
	  { TLS },
	  "config file '@': line 1: \"config\" can "
	  "only be given as a flag" },
	{ "threads: x\n",
	  { TLS },
	  "config file '@': line 1: threads: \"x\" "
	  "is not an integer" },
	{ "threads: 1.5\n",
	  { TLS },
	  "config file '@': line 1: threads: "
	  "\"1.5\" is not an integer" },
	{ "log-level: verbose\n",
	  { TLS },
	  "config file '@': line 1: log-level: \"verbose\" is not a log level "
	  "(debug, info, warn or error)" },
	{ "a: 1\nthreads:\n",
	  { TLS },
	  "config file '@': line 1: unknown key "
	  "\"a\"" },
	{ "max-connections: 4\nthreads:\n",
	  { TLS },
	  "config file '@': line 2: threads: has no value" },
	{ "webhook-addr: [1, 2]\n",
	  { TLS },
	  "config file '@': line 1: webhook-addr: must be a single value" },
	{ "exempt-users: [a, 3]\n",
	  { TLS },
	  "config file '@': line 1: exempt-users: item 2 is not a non-empty "
	  "string" },
	{ "- a\n- b\n",
	  { TLS },
	  "config file '@': must be one mapping of "
	  "option names to values" },
	{ "a: 1\n---\nb: 2\n",
	  { TLS },
	  "config file '@': must be one "
	  "mapping of option names to values" },
	{ "no-reconcile: maybe\n",
	  { TLS },
	  "config file '@': line 1: no-reconcile: \"maybe\" is not a boolean "
	  "(true or false)" },
	{ NULL,
	  { "--threads", "x", TLS },
	  "flag --threads: \"x\" is not an integer" },
	{ NULL,
	  { "--threads=0", TLS },
	  "flag --threads: \"0\" must be "
	  "between 1 and 1024" },
	{ NULL,
	  { "--max-connections=-1", TLS },
	  "flag --max-connections: \"-1\" must be at least 1" },
	{ NULL, { TLS, "--threads" }, "flag --threads: missing value" },
	{ NULL,
	  { "--webhok-addr=:1", TLS },
	  "unknown flag --webhok-addr "
	  "(did you mean --webhook-addr?)" },
	{ NULL, { "--zzz", TLS }, "unknown flag --zzz" },
	{ NULL,
	  { TLS, "extra" },
	  "unexpected argument 'extra' (options start "
	  "with --)" },
	{ NULL,
	  { TLS, "-t", "4" },
	  "unexpected argument '-t' (options start "
	  "with --)" },
	{ NULL,
	  { TLS, "--request-timeout=10" },
	  NULL }, /* plain seconds are fine */
	{ NULL,
	  { TLS, "--request-timeout=1.5s" },
	  "flag --request-timeout: \"1.5s\" is not a duration (e.g. 90s, 2m, "
	  "1m30s, 500ms, or seconds)" },
	{ NULL,
	  { TLS, "--shutdown-timeout=10x" },
	  "flag --shutdown-timeout: \"10x\" is not a duration (e.g. 90s, 2m, "
	  "1m30s, 500ms, or seconds)" },
	{ NULL,
	  { TLS, "--request-timeout=0s" },
	  "flag --request-timeout: "
	  "\"0s\" must be more than "
	  "0s" },
	{ NULL,
	  { TLS, "--connection-idle-timeout=90s" },
	  "flag --connection-idle-timeout: \"90s\" is too short: must be at "
	  "least 91s, longer than kube-apiserver's 90s idle timeout" },
	{ "connection-idle-timeout: 60\n",
	  { TLS },
	  "config file '@': line 1: connection-idle-timeout: \"60\" is too "
	  "short: must be at least 91s, longer than kube-apiserver's 90s idle "
	  "timeout" },
	{ NULL,
	  { TLS, "--tls-cert-file=/c", "--tls-key-file=/k" },
	  "self-signed cannot be combined with tls-cert-file or tls-key-file: "
	  "give either a directory for a self-signed certificate or the "
	  "certificate files" },
	{ NULL,
	  { "--tls-cert-file=/c" },
	  "tls-cert-file is set without "
	  "tls-key-file: give both files" },
	{ NULL,
	  { "--tls-key-file=/k" },
	  "tls-key-file is set without "
	  "tls-cert-file: give both files" },
	{ NULL,
	  { "--log-level=info" },
	  "no serving certificate: give "
	  "--tls-cert-file and --tls-key-file, "
	  "--self-signed DIR or --cert-secret NAME" },
	{ NULL,
	  { "--tls-cert-file=/c", "--tls-key-file=/k", "--cert-secret=s" },
	  "cert-secret cannot be combined with "
	  "tls-cert-file: certificates come from one place" },
	{ NULL,
	  { "--self-signed=/d", "--cert-secret=s" },
	  "cert-secret cannot be combined with "
	  "self-signed: certificates come from one place" },
	{ NULL,
	  { "--cert-secret=s",
	    "--inject-ca-into=validatingwebhookconfigurations" },
	  "inject-ca-into: \"validatingwebhookconfigurations\" is not "
	  "mutatingwebhookconfigurations/NAME or "
	  "validatingwebhookconfigurations/NAME" },
	{ NULL,
	  { "--cert-secret=s", "--inject-ca-into=secrets/x" },
	  "inject-ca-into: \"secrets/x\" is not "
	  "mutatingwebhookconfigurations/NAME or "
	  "validatingwebhookconfigurations/NAME" },
	{ NULL,
	  { TLS, "--inject-ca-into=mutatingwebhookconfigurations/m" },
	  "inject-ca-into needs cert-secret: only "
	  "self-managed certificates are injected" },
	{ NULL,
	  { "--cert-secret=s", "--cert-validity=1500ms" },
	  "flag --cert-validity: \"1500ms\" must be whole seconds, at "
	  "least 1s" },
	{ NULL,
	  { "--cert-secret=s",
	    "--inject-ca-into=mutatingwebhookconfigurations/m,"
	    "validatingwebhookconfigurations/v",
	    "--cert-validity=720h", "--leader-elect" },
	  NULL },
	{ NULL,
	  { TLS, "--default-scheduler=" },
	  "flag --default-scheduler: "
	  "\"\" is empty" },
	{ NULL,
	  { TLS, "--webhook-addr=9443" },
	  "flag --webhook-addr: "
	  "\"9443\" is not HOST:PORT "
	  "(e.g. \":9443\", "
	  "\"127.0.0.1:0\", "
	  "\"[::1]:9443\")" },
	{ NULL,
	  { TLS, "--health-addr=::1:9443" },
	  "flag --health-addr: "
	  "\"::1:9443\" has more "
	  "than one ':' (write IPv6 "
	  "addresses in brackets: "
	  "\"[::1]:9443\")" },
	{ NULL,
	  { TLS, "--metrics-addr=[::1:9443" },
	  "flag --metrics-addr: "
	  "\"[::1:9443\" has no "
	  "']' after the IPv6 "
	  "address" },
	{ NULL,
	  { TLS, "--metrics-addr=[::1]9443" },
	  "flag --metrics-addr: "
	  "\"[::1]9443\" needs "
	  "':PORT' after ']'" },
	{ NULL,
	  { TLS, "--webhook-addr=host:" },
	  "flag --webhook-addr: "
	  "\"host:\" has no port after "
	  "':'" },
	{ NULL,
	  { TLS, "--webhook-addr=host:65536" },
	  "flag --webhook-addr: "
	  "\"host:65536\" has a "
	  "port above 65535" },
	{ NULL,
	  { TLS, "--webhook-addr=host:https" },
	  "flag --webhook-addr: "
	  "\"host:https\" has a "
	  "port that is not a "
	  "number" },
	{ NULL,
	  { TLS, "--webhook-addr=a b:1" },
	  "flag --webhook-addr: \"a "
	  "b:1\" has a bad host name "
	  "(letters, digits, '.' and "
	  "'-')" },
	{ NULL,
	  { TLS, "--config=/nonexistent/groved.yaml" },
	  "config file '/nonexistent/groved.yaml': cannot read: No such file "
	  "or directory" },
	{ "threads: [\n",
	  { TLS },
	  "" /* a parse error: starts with the file */ },
};

/* Replaces '@' in want with the config file's path. */
static void expand(char *out, size_t size, const char *want, const char *path)
{
	const char *at = strchr(want, '@');

	if (at)
		snprintf(out, size, "%.*s%s%s", (int)(at - want), want, path,
			 at + 1);
	else
		snprintf(out, size, "%s", want);
}

static void test_errors(void **state)
{
	size_t i = 0;

	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const bad_case *bc = &bad_cases[i];
		const char *argv[10] = { "serve" };
		int argc = 1;
		size_t k = 0;
		const char *path = NULL;
		char config_arg[256];
		char want[1024];
		cfg_serve c;
		gv_error_t err = GV_ERROR_INIT;
		int rc = 0;

		if (bc->file) {
			path = config_file(bc->file);
			snprintf(config_arg, sizeof(config_arg), "--config=%s",
				 path);
			argv[argc++] = config_arg;
		}
		for (k = 0; k < 6 && bc->args[k]; k++)
			argv[argc++] = bc->args[k];
		assert_int_equal(cfg_serve_init(&c), GV_OK);
		c.threads = 77; /* a failed load leaves c alone */
		rc = cfg_serve_load(&c, argc, (char **)argv, &err);
		if (!bc->message) {
			assert_int_equal(rc, GV_OK);
			cfg_serve_release(&c);
			continue;
		}
		if (rc == GV_OK)
			print_error("case %zu loaded\n", i);
		assert_int_not_equal(rc, GV_OK);
		assert_int_equal(c.threads, 77);
		assert_string_equal(err.source, "");
		assert_int_equal(err.line, 0);
		if (!*bc->message) {
			expand(want, sizeof(want), "config file '@': line ",
			       path);
			assert_int_equal(rc, GV_EPARSE);
			assert_memory_equal(err.text, want, strlen(want));
		} else {
			expand(want, sizeof(want), bc->message, path);
			if (strcmp(err.text, want) != 0)
				print_error("case %zu\n", i);
			assert_string_equal(err.text, want);
		}
		cfg_serve_release(&c);
	}
}

static void test_hostport(void **state)
{
	static const struct {
		const char *in;
		const char *host;
		unsigned port;
	} good[] = {
		{ ":9443", "", 9443 },
		{ "127.0.0.1:0", "127.0.0.1", 0 },
		{ "[::1]:9443", "::1", 9443 },
		{ "[fe80::1%eth0]:80", "fe80::1%eth0", 80 },
		{ "localhost:9443", "localhost", 9443 },
		{ "my-host.example.com:65535", "my-host.example.com", 65535 },
	};
	static const char *const bad[] = {
		"",
		"9443",
		":",
		"host:",
		":-1",
		":+1",
		": 1",
		":65536",
		"::1:9443",
		"[::1]",
		"[::1]:",
		"[::1]9443",
		"[]:1",
		"[x::1]:1",
		"[127.0.0.1]:1",
		"a_b:1",
		"host:1a",
		"[::1:1",
		":99999999999999999999",
	};
	char host[64];
	char small[4];
	unsigned port = 0;
	size_t i = 0;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(
		    cfg_parse_hostport(good[i].in, host, sizeof(host), &port),
		    GV_OK);
		assert_string_equal(host, good[i].host);
		assert_int_equal(port, good[i].port);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (cfg_parse_hostport(bad[i], host, sizeof(host), &port) ==
		    GV_OK)
			print_error("accepted '%s'\n", bad[i]);
		assert_int_equal(
		    cfg_parse_hostport(bad[i], host, sizeof(host), &port),
		    GV_EINVAL);
	}
	assert_int_equal(
	    cfg_parse_hostport("localhost:1", small, sizeof(small), &port),
	    GV_EINVAL);
}

static void test_durations(void **state)
{
	static const struct {
		const char *in;
		uint64_t ms;
	} good[] = {
		{ "90s", 90000 }, { "2m", 120000 },  { "1m30s", 90000 },
		{ "500ms", 500 }, { "1h", 3600000 }, { "1h2m3s4ms", 3723004 },
		{ "0", 0 },	  { "120", 120000 }, { "0s", 0 },
	};
	static const char *const bad[] = { "",
					   "s",
					   "1.5s",
					   "-1s",
					   "-1",
					   "10x",
					   "1 s",
					   " 1",
					   "1sm",
					   "1m s",
					   "99999999999999999999s" };
	uint64_t ms = 0;
	size_t i = 0;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(cfg_parse_duration(good[i].in, &ms), GV_OK);
		assert_int_equal(ms, good[i].ms);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (cfg_parse_duration(bad[i], &ms) == GV_OK)
			print_error("accepted '%s'\n", bad[i]);
		assert_int_equal(cfg_parse_duration(bad[i], &ms), GV_EINVAL);
	}
}

static void test_help(void **state)
{
	static const char *const options[] = {
		"config",	   "webhook-addr",
		"health-addr",	   "metrics-addr",
		"tls-cert-file",   "tls-key-file",
		"self-signed",	   "threads",
		"max-connections", "connection-idle-timeout",
		"request-timeout", "shutdown-timeout",
		"log-level",	   "default-scheduler",
		"initc-image",	   "self-user",
		"exempt-users",	   "no-reconcile",
		"kubeconfig",	   "help",
	};
	FILE *f = tmpfile();
	char *text = NULL;
	long n = 0;
	size_t i = 0;
	char want[64];
	const char *line = NULL;

	assert_non_null(f);
	cfg_serve_help(f);
	n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	text = calloc(1, (size_t)n + 1);
	assert_non_null(text);
	assert_int_equal(fread(text, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	for (i = 0; i < sizeof(options) / sizeof(options[0]); i++) {
		snprintf(want, sizeof(want), "\n  --%s", options[i]);
		if (!strstr(text, want))
			print_error("--help lacks %s\n", options[i]);
		assert_non_null(strstr(text, want));
	}
	assert_non_null(strstr(text, "(default \":9443\")"));
	assert_non_null(strstr(text, "(default 120s)"));
	assert_non_null(strstr(text, "(default: the online cores, capped by "));
	/* no line wider than 80 columns */
	for (line = text; *line;) {
		size_t len = strcspn(line, "\n");

		assert_true(len <= 80);
		line += len + (line[len] == '\n');
	}
	free(text);
}

static void test_dump(void **state)
{
	const char *argv[] = { "serve", "--self-signed=/tmp/\"d\"\n",
			       "--exempt-users=a,b",
			       "--request-timeout=1500ms" };
	const char *bad_utf8[] = { "serve", "--self-signed=/tmp/\xff" };
	cfg_serve c;
	gv_error_t err = GV_ERROR_INIT;
	json_error_t jerr;
	json_t *v = NULL;
	char *dump = NULL;

	assert_int_equal(cfg_serve_init(&c), GV_OK);
	assert_int_equal(cfg_serve_load(&c, ARGC(argv), (char **)argv, &err),
			 GV_OK);
	dump = cfg_serve_dump(&c);
	assert_non_null(dump);
	assert_null(strchr(dump, '\n'));
	v = json_loads(dump, 0, &jerr);
	assert_non_null(v);
	assert_int_equal(json_object_size(v), 34); /* every option but help */
	assert_string_equal(
	    json_string_value(json_object_get(v, "webhook-addr")), ":9443");
	assert_string_equal(
	    json_string_value(json_object_get(v, "self-signed")),
	    "/tmp/\"d\"\n");
	assert_true(json_is_null(json_object_get(v, "tls-cert-file")));
	assert_int_equal(json_integer_value(json_object_get(v, "threads")),
			 c.threads);
	assert_string_equal(
	    json_string_value(json_object_get(v, "connection-idle-timeout")),
	    "120s");
	assert_string_equal(
	    json_string_value(json_object_get(v, "request-timeout")), "1500ms");
	assert_string_equal(json_string_value(json_object_get(v, "log-level")),
			    "info");
	assert_string_equal(json_string_value(json_array_get(
				json_object_get(v, "exempt-users"), 1)),
			    "b");
	assert_true(json_is_false(json_object_get(v, "no-reconcile")));
	assert_null(json_object_get(v, "help"));
	json_decref(v);
	free(dump);

	assert_int_equal(
	    cfg_serve_load(&c, ARGC(bad_utf8), (char **)bad_utf8, &err), GV_OK);
	dump = cfg_serve_dump(&c);
	v = json_loads(dump, 0, &jerr);
	assert_non_null(v);
	assert_string_equal(
	    json_string_value(json_object_get(v, "self-signed")),
	    "/tmp/\xef\xbf\xbd");
	json_decref(v);
	free(dump);
	cfg_serve_release(&c);
}

/* SIGHUP: a second load into a fresh struct, then compare. */
static void test_reload(void **state)
{
	const char *path = config_file("self-signed: /tmp/d\n"
				       "log-level: info\n");
	const char *argv[] = { "serve", "--config", path };
	cfg_serve a;
	cfg_serve b;
	gv_error_t err = GV_ERROR_INIT;

	assert_int_equal(cfg_serve_init(&a), GV_OK);
	assert_int_equal(cfg_serve_load(&a, ARGC(argv), (char **)argv, &err),
			 GV_OK);
	assert_int_equal(cfg_serve_init(&b), GV_OK);
	assert_int_equal(cfg_serve_load(&b, ARGC(argv), (char **)argv, &err),
			 GV_OK);
	assert_null(cfg_serve_restart_needed(&a, &b));

	config_file("self-signed: /tmp/d\nlog-level: debug\n");
	assert_int_equal(cfg_serve_load(&b, ARGC(argv), (char **)argv, &err),
			 GV_OK);
	assert_int_equal(b.log_level, LOG_LVL_DEBUG);
	assert_null(cfg_serve_restart_needed(&a, &b)); /* reloadable */

	config_file("self-signed: /tmp/d\nwebhook-addr: ':1'\n");
	assert_int_equal(cfg_serve_load(&b, ARGC(argv), (char **)argv, &err),
			 GV_OK);
	assert_string_equal(cfg_serve_restart_needed(&a, &b), "webhook-addr");

	config_file("self-signed: /tmp/d\nexempt-users: [x]\n");
	assert_int_equal(cfg_serve_load(&b, ARGC(argv), (char **)argv, &err),
			 GV_OK);
	assert_null(cfg_serve_restart_needed(&a, &b));

	config_file(""); /* empty: defaults, so no certificate */
	assert_int_equal(cfg_serve_load(&b, ARGC(argv), (char **)argv, &err),
			 GV_EINVAL);
	assert_string_equal(b.exempt_users[0], "x"); /* untouched */
	cfg_serve_release(&a);
	cfg_serve_release(&b);
}

static void test_self_user(void **state)
{
	cfg_serve c;
	char buf[128];

	(void)state;
	assert_int_equal(cfg_serve_init(&c), GV_OK);
	unsetenv("POD_NAMESPACE");
	unsetenv("POD_SERVICE_ACCOUNT");
	assert_string_equal(cfg_self_user(&c, buf, sizeof(buf)),
			    "system:serviceaccount:groved-system:groved");
	/* in a pod, wherever it was installed */
	setenv("POD_NAMESPACE", "platform", 1);
	assert_string_equal(cfg_self_user(&c, buf, sizeof(buf)),
			    "system:serviceaccount:groved-system:groved");
	setenv("POD_SERVICE_ACCOUNT", "grove", 1);
	assert_string_equal(cfg_self_user(&c, buf, sizeof(buf)),
			    "system:serviceaccount:platform:grove");
	/* too long for buf: the fixed default, never a cut name */
	assert_string_equal(cfg_self_user(&c, buf, 20),
			    "system:serviceaccount:groved-system:groved");
	/* the flag wins */
	c.self_user = strdup("system:serviceaccount:x:y");
	assert_string_equal(cfg_self_user(&c, buf, sizeof(buf)),
			    "system:serviceaccount:x:y");
	unsetenv("POD_NAMESPACE");
	unsetenv("POD_SERVICE_ACCOUNT");
	cfg_serve_release(&c);
}

static void test_default_threads(void **state)
{
	static const struct {
		const char *text; /* NULL: no file */
		long cores;
		long want;
	} cases[] = {
		{ NULL, 8, 8 },
		{ "max 100000\n", 8, 8 },
		{ "100000 100000\n", 64, 2 }, /* one CPU: still two */
		{ "150000 100000\n", 64, 2 },
		{ "250000 100000\n", 64, 3 },
		{ "400000 100000\n", 2, 2 }, /* the cores are the cap */
		{ "garbage\n", 4, 4 },
		{ "", 4, 4 },
		{ "0 100000\n", 4, 4 },
		{ NULL, 0, 1 },
		{ NULL, 5000, 1024 },
	};
	char path[] = "/tmp/gv-cpu-max-XXXXXX";
	int fd = mkstemp(path);
	size_t i = 0;

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		FILE *f = NULL;

		if (cases[i].text) {
			f = fopen(path, "w");
			assert_non_null(f);
			fputs(cases[i].text, f);
			fclose(f);
		}
		if (cfg_default_threads(
			cases[i].cores,
			cases[i].text ? path : "/nonexistent/cpu.max") !=
		    cases[i].want)
			print_error("case %zu\n", i);
		assert_int_equal(
		    cfg_default_threads(cases[i].cores,
					cases[i].text ? path
						      : "/nonexistent/cpu.max"),
		    cases[i].want);
	}
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_file_and_flags),
		cmocka_unit_test(test_flag_forms),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_hostport),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_default_threads),
		cmocka_unit_test(test_self_user),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_dump),
		cmocka_unit_test(test_reload),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
