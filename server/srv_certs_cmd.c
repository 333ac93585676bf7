/* SPDX-License-Identifier: Apache-2.0 */
/*
 * srv_certs_cmd.c: `groved certs generate`, a CA and a serving certificate
 * for the webhook's Service, written as a kubernetes.io/tls secret names
 * its keys, and the CA as the caBundle of the webhook configuration.
 *
 * stdout carries the caBundle alone, so that
 *   kubectl patch ... -p "{\"caBundle\": \"$(groved certs generate ...)\"}"
 * works; everything for people goes to stderr.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "groved/certs.h"
#include "groved/gv_time.h"
#include "groved/server.h"
#include "srv_config.h"

#define CMD "groved certs generate"

/* Kubernetes object names are RFC 1123 labels: at most 63 characters. */
#define CERTS_LABEL_MAX 63
/* RFC 1035: a name of at most 253 characters in text form. */
#define CERTS_NAME_MAX 253
/* Longer than any sensible webhook certificate, short of dates OpenSSL
 * or a client might mishandle. */
#define CERTS_MAX_SECONDS (100L * 365 * 86400)

/* What the command line asked for. Strings are borrowed from argv. */
typedef struct gen_args {
	const char *service;
	const char *ns;
	const char *out;
	const char *validity; /* as written, for messages; NULL: default */
	const char *ca_validity;
	long leaf_seconds;
	long ca_seconds;
	const char **extra_dns; /* --dns, n_dns of them */
	size_t n_dns;
	const char **ips; /* --ip, NULL-terminated, n_ips of them */
	size_t n_ips;
	bool force;
} gen_args;

static void usage_top(FILE *to)
{
	fputs("usage: groved certs COMMAND [options]\n"
	      "\n"
	      "commands:\n"
	      "  generate   write a CA and a serving certificate for the "
	      "webhook's Service,\n"
	      "             and print the caBundle\n"
	      "\n"
	      "Run 'groved certs generate --help' for its options.\n",
	      to);
}

static void usage_generate(FILE *to)
{
	fputs("usage: groved certs generate --service NAME --namespace NS "
	      "--out DIR [options]\n"
	      "\n"
	      "Writes DIR/ca.crt, DIR/tls.crt and DIR/tls.key (0600): a new "
	      "ECDSA P-256 CA\n"
	      "and a serving certificate it signs for NAME, NAME.NS, "
	      "NAME.NS.svc and\n"
	      "NAME.NS.svc.cluster.local. Prints the base64 of ca.crt (the "
	      "caBundle of a\n"
	      "webhook configuration) on stdout, on one line, and nothing "
	      "else.\n"
	      "\n"
	      "  -s, --service NAME      the webhook's Service (a DNS label)\n"
	      "  -n, --namespace NS      its namespace (a DNS label)\n"
	      "  -o, --out DIR           where to write; made (0700) if "
	      "missing\n"
	      "      --validity DURATION lifetime of the serving certificate "
	      "(default 365d)\n"
	      "      --ca-validity DURATION\n"
	      "                          lifetime of the CA (default 365d, or "
	      "--validity\n"
	      "                          when that is longer)\n"
	      "      --dns NAME          one more DNS name; repeatable\n"
	      "      --ip ADDR           an IPv4 or IPv6 address; repeatable\n"
	      "      --force             replace the files of an existing "
	      "pair\n"
	      "\n"
	      "DURATION: 8760h, 720h, 90m, 30s, 1h30m, or whole days as "
	      "365d; at most 100\n"
	      "years. The CA's private key is not kept: to renew, generate "
	      "a new pair and\n"
	      "update the caBundle.\n"
	      "\n"
	      "Exit status: 0 written, 1 generation or writing failed (or "
	      "files exist\n"
	      "without --force), 2 bad usage.\n",
	      to);
}

/* ---- checks ----------------------------------------------------------- */

/* s is an RFC 1123 label as Kubernetes names objects; else why says what
 * is wrong with it. */
static bool label_ok(const char *s, char *why, size_t size)
{
	size_t n = strlen(s);
	size_t i = 0;

	if (n == 0) {
		snprintf(why, size, "empty");
		return false;
	}
	if (n > CERTS_LABEL_MAX) {
		snprintf(why, size, "%zu characters, at most %d", n,
			 CERTS_LABEL_MAX);
		return false;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-')) {
			if (c >= 0x20 && c < 0x7f)
				snprintf(why, size,
					 "'%c' at position %zu: only lower-case"
					 " letters, digits and '-' are allowed",
					 c, i + 1);
			else
				snprintf(why, size,
					 "byte 0x%02x at position %zu: only "
					 "lower-case letters, digits and '-' "
					 "are allowed",
					 c, i + 1);
			return false;
		}
	}
	if (s[0] == '-' || s[n - 1] == '-') {
		snprintf(why, size,
			 "must start and end with a letter or digit");
		return false;
	}
	return true;
}

/* s is a DNS name for a certificate: RFC 1123 labels of letters, digits
 * and '-', joined by dots, a leading "*." allowed (as cert_generate()
 * accepts); else why says what is wrong with it. */
static bool dns_name_ok(const char *s, char *why, size_t size)
{
	const char *p = s;
	size_t n = strlen(s);

	if (n == 0 || n > CERTS_NAME_MAX) {
		snprintf(why, size, "%s",
			 n ? "longer than 253 characters" : "empty");
		return false;
	}
	if (p[0] == '*' && p[1] == '.')
		p += 2;
	for (;;) {
		size_t len = strcspn(p, ".");
		size_t i = 0;

		if (len == 0 || len > CERTS_LABEL_MAX) {
			snprintf(why, size,
				 len ? "a label is longer than 63 characters"
				     : "empty label");
			return false;
		}
		for (i = 0; i < len; i++) {
			unsigned char c = (unsigned char)p[i];

			if (!((c >= 'a' && c <= 'z') ||
			      (c >= 'A' && c <= 'Z') ||
			      (c >= '0' && c <= '9') || c == '-')) {
				snprintf(why, size,
					 "only letters, digits, '-' and '.' "
					 "are allowed (and a leading '*.')");
				return false;
			}
		}
		if (p[0] == '-' || p[len - 1] == '-') {
			snprintf(why, size,
				 "a label must start and end with a letter "
				 "or digit");
			return false;
		}
		if (p[len] == '\0')
			return true;
		p += len + 1;
	}
}

static bool ip_ok(const char *s)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, s, buf) == 1 ||
	       inet_pton(AF_INET6, s, buf) == 1;
}

/*
 * Parses a lifetime into *seconds: Go-style durations (8760h, 720h, 90m,
 * 30s, 1h30m, as cfg_parse_duration() reads them for `serve`) or whole
 * days ("365d"), which Go lacks but certificate lifetimes are counted in.
 * A bare number is refused: cfg_parse_duration() would read it as seconds
 * while someone used to `openssl -days` means days.
 */
static bool lifetime_parse(const char *s, long *seconds, char *why, size_t size)
{
	size_t n = strlen(s);
	size_t digits = strspn(s, "0123456789");
	uint64_t ms = 0;
	uint64_t secs = 0;
	size_t i = 0;

	if (n == 0) {
		snprintf(why, size, "empty");
		return false;
	}
	if (digits == n) {
		snprintf(why, size,
			 "needs a unit: d, h, m or s (e.g. 365d, 8760h)");
		return false;
	}
	if (digits > 0 && digits == n - 1 && s[n - 1] == 'd') {
		/* at most 6 digits: CERTS_MAX_SECONDS is 36500 days */
		if (digits > 6) {
			snprintf(why, size, "longer than 100 years");
			return false;
		}
		for (i = 0; i < digits; i++)
			secs = secs * 10 + (uint64_t)(s[i] - '0');
		secs *= 86400;
	} else {
		if (cfg_parse_duration(s, &ms) != GV_OK) {
			snprintf(why, size,
				 "not a duration (e.g. 365d, 8760h, 90m, "
				 "30s, 1h30m)");
			return false;
		}
		if (ms % 1000 != 0) {
			snprintf(why, size, "not a whole number of seconds");
			return false;
		}
		secs = ms / 1000;
	}
	if (secs == 0) {
		snprintf(why, size, "must be longer than zero");
		return false;
	}
	if (secs > (uint64_t)CERTS_MAX_SECONDS) {
		snprintf(why, size, "longer than 100 years");
		return false;
	}
	*seconds = (long)secs;
	return true;
}

/* ---- the command ------------------------------------------------------ */

/*
 * The DNS names of the certificate: the Service's four, then --dns names
 * not already there (names compare without case, as DNS does), then NULL.
 * list has room for 4 + a->n_dns + 1. Returns how many names it holds.
 */
static size_t dns_list_fill(const gen_args *a, const cert_service_names *names,
			    const char **list)
{
	size_t n = 0;
	size_t i = 0;
	size_t k = 0;

	for (n = 0; n < CERT_SERVICE_NAMES; n++)
		list[n] = names->name[n];
	for (i = 0; i < a->n_dns; i++) {
		for (k = 0; k < n; k++)
			if (strcasecmp(list[k], a->extra_dns[i]) == 0)
				break;
		if (k == n)
			list[n++] = a->extra_dns[i];
	}
	list[n] = NULL;
	return n;
}

/* Checks the values of a after parsing; prints why not and returns false
 * on the first bad one. */
static bool args_check(gen_args *a)
{
	char why[128];
	size_t i = 0;

	if (!a->service || !a->ns || !a->out) {
		fprintf(stderr, CMD ": missing %s\n",
			!a->service ? "--service NAME"
			: !a->ns    ? "--namespace NS"
				    : "--out DIR");
		return false;
	}
	if (!label_ok(a->service, why, sizeof(why))) {
		fprintf(stderr, CMD ": invalid --service '%s': %s\n",
			a->service, why);
		return false;
	}
	if (!label_ok(a->ns, why, sizeof(why))) {
		fprintf(stderr, CMD ": invalid --namespace '%s': %s\n", a->ns,
			why);
		return false;
	}
	if (!a->out[0]) {
		fprintf(stderr, CMD ": invalid --out '': empty\n");
		return false;
	}
	for (i = 0; i < a->n_dns; i++) {
		if (!dns_name_ok(a->extra_dns[i], why, sizeof(why))) {
			fprintf(stderr, CMD ": invalid --dns '%s': %s\n",
				a->extra_dns[i], why);
			return false;
		}
	}
	for (i = 0; i < a->n_ips; i++) {
		if (!ip_ok(a->ips[i])) {
			fprintf(stderr,
				CMD ": invalid --ip '%s': not an IPv4 or IPv6 "
				    "address\n",
				a->ips[i]);
			return false;
		}
	}
	if (4 + a->n_dns + a->n_ips > CERT_MAX_NAMES) {
		fprintf(stderr,
			CMD ": too many names: %zu, at most %d in one "
			    "certificate\n",
			4 + a->n_dns + a->n_ips, CERT_MAX_NAMES);
		return false;
	}
	if (a->validity &&
	    !lifetime_parse(a->validity, &a->leaf_seconds, why, sizeof(why))) {
		fprintf(stderr, CMD ": invalid --validity '%s': %s\n",
			a->validity, why);
		return false;
	}
	if (a->ca_validity &&
	    !lifetime_parse(a->ca_validity, &a->ca_seconds, why, sizeof(why))) {
		fprintf(stderr, CMD ": invalid --ca-validity '%s': %s\n",
			a->ca_validity, why);
		return false;
	}
	/* a chain stops verifying when its CA expires: a longer leaf
	 * lifetime would be a promise the pair cannot keep */
	if (!a->ca_validity && a->ca_seconds < a->leaf_seconds)
		a->ca_seconds = a->leaf_seconds;
	if (a->ca_seconds < a->leaf_seconds) {
		fprintf(stderr,
			CMD ": --validity '%s' outlasts --ca-validity '%s': "
			    "the certificate would stop verifying when the "
			    "CA expires\n",
			a->validity ? a->validity : "365d (the default)",
			a->ca_validity);
		return false;
	}
	return true;
}

/*
 * Makes dir (0700) unless it exists, and checks that none of the pair's
 * files is there unless force. Returns 0, or the exit code after saying
 * why on stderr.
 */
static int out_dir_prepare(const char *dir, bool force)
{
	static const char *const files[] = { CERT_KEY_FILE, CERT_CERT_FILE,
					     CERT_CA_FILE };
	char path[PATH_MAX];
	struct stat st;
	size_t i = 0;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, CMD ": cannot create directory '%s': %s\n", dir,
			strerror(errno));
		return 1;
	}
	if (stat(dir, &st) != 0) {
		fprintf(stderr, CMD ": cannot use directory '%s': %s\n", dir,
			strerror(errno));
		return 1;
	}
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, CMD ": cannot use '%s': not a directory\n",
			dir);
		return 1;
	}
	if (force)
		return 0;
	/* The key first: it is the file whose loss matters. A file that
	 * appears after this check is replaced; the flag guards against
	 * mistakes, not against a concurrent writer. */
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (snprintf(path, sizeof(path), "%s/%s", dir, files[i]) >=
		    (int)sizeof(path)) {
			fprintf(stderr,
				CMD ": cannot use '%s': path too long\n", dir);
			return 1;
		}
		if (lstat(path, &st) == 0) {
			fprintf(stderr,
				CMD ": refusing to overwrite '%s': it exists "
				    "(use --force to replace the pair)\n",
				path);
			return 1;
		}
		if (errno != ENOENT) {
			fprintf(stderr, CMD ": cannot check '%s': %s\n", path,
				strerror(errno));
			return 1;
		}
	}
	return 0;
}

static int cmd_generate(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "service", required_argument, NULL, 's' },
		{ "namespace", required_argument, NULL, 'n' },
		{ "out", required_argument, NULL, 'o' },
		{ "validity", required_argument, NULL, 'V' },
		{ "ca-validity", required_argument, NULL, 'C' },
		{ "dns", required_argument, NULL, 'D' },
		{ "ip", required_argument, NULL, 'I' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	gen_args a = {
		.leaf_seconds = CERT_DEFAULT_DAYS * 86400L,
		.ca_seconds = CERT_DEFAULT_DAYS * 86400L,
	};
	cert_service_names names;
	cert_gen_opts o = { 0 };
	cert_pem ca = CERT_PEM_INIT;
	cert_pem leaf = CERT_PEM_INIT;
	gv_error_t err = GV_ERROR_INIT;
	char msg[GV_ERROR_SOURCE_MAX + GV_ERROR_TEXT_MAX + 32];
	char until[32];
	const char **dns = NULL;
	char *b64 = NULL;
	size_t n_names = 0;
	int exit_code = 2;
	int rc = GV_OK;
	int c = 0;

	/* each repeatable flag takes two argv slots at least, so argc
	 * bounds both lists */
	a.extra_dns = calloc((size_t)argc + 1, sizeof(*a.extra_dns));
	a.ips = calloc((size_t)argc + 1, sizeof(*a.ips));
	dns = calloc((size_t)argc + 5, sizeof(*dns));
	if (!a.extra_dns || !a.ips || !dns) {
		fputs(CMD ": out of memory\n", stderr);
		exit_code = 1;
		goto out;
	}
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":s:n:o:h", longopts, NULL)) !=
	       -1) {
		switch (c) {
		case 's':
			a.service = optarg;
			break;
		case 'n':
			a.ns = optarg;
			break;
		case 'o':
			a.out = optarg;
			break;
		case 'V':
			a.validity = optarg;
			break;
		case 'C':
			a.ca_validity = optarg;
			break;
		case 'D':
			a.extra_dns[a.n_dns++] = optarg;
			break;
		case 'I':
			a.ips[a.n_ips++] = optarg;
			break;
		case 'f':
			a.force = true;
			break;
		case 'h':
			usage_generate(stdout);
			exit_code = 0;
			goto out;
		default:
			srv_option_error(CMD, c, argv, longopts);
			usage_generate(stderr);
			goto out;
		}
	}
	if (optind < argc) {
		fprintf(stderr, CMD ": unexpected argument '%s'\n",
			argv[optind]);
		usage_generate(stderr);
		goto out;
	}
	if (!args_check(&a))
		goto out; /* exit 2 */
	/* checked labels: the names always fit */
	(void)cert_service_names_fill(&names, a.service, a.ns);
	n_names = dns_list_fill(&a, &names, dns);

	exit_code = out_dir_prepare(a.out, a.force);
	if (exit_code != 0)
		goto out;
	exit_code = 1;

	o.dns = dns;
	o.ips = a.n_ips ? a.ips : NULL;
	o.ca_seconds = a.ca_seconds;
	o.leaf_seconds = a.leaf_seconds;
	o.now = time(NULL); /* ours, so that the summary's date is the one
			     written */
	rc = cert_generate(&o, &ca, &leaf, &err);
	if (rc != GV_OK) {
		fprintf(stderr, CMD ": %s\n",
			gv_error_format(&err, msg, sizeof(msg)));
		exit_code = rc == GV_EINVAL ? 2 : 1;
		goto out;
	}
	/* before writing: no files without a caBundle to go with them */
	b64 = gv_base64_encode(ca.cert, ca.cert_len);
	if (!b64) {
		fputs(CMD ": out of memory\n", stderr);
		goto out;
	}
	rc = cert_write_dir(a.out, &ca, &leaf, &err);
	if (rc != GV_OK) {
		fprintf(stderr, CMD ": %s\n",
			gv_error_format(&err, msg, sizeof(msg)));
		goto out;
	}
	if (printf("%s\n", b64) < 0 || fflush(stdout) != 0) {
		/* the pair is written: say where, so that the caBundle
		 * is not lost with it */
		fprintf(stderr,
			CMD ": cannot write the caBundle to stdout: %s (the "
			    "pair is in '%s')\n",
			strerror(errno), a.out);
		goto out;
	}
	gv_time_utc(o.now + a.leaf_seconds, until, sizeof(until));
	fprintf(stderr,
		CMD ": wrote %s/{%s,%s,%s} for '%s' (%zu DNS name%s, %zu IP "
		    "address%s), valid until %s\n",
		a.out, CERT_CA_FILE, CERT_CERT_FILE, CERT_KEY_FILE,
		names.name[2], n_names, n_names == 1 ? "" : "s", a.n_ips,
		a.n_ips == 1 ? "" : "es", until);
	exit_code = 0;
out:
	cert_pem_release(&ca);
	cert_pem_release(&leaf);
	free(b64);
	free(dns);
	free(a.ips);
	free(a.extra_dns);
	return exit_code;
}

int srv_cmd_certs(int argc, char **argv)
{
	if (argc < 2) {
		fputs("groved certs: missing command\n", stderr);
		usage_top(stderr);
		return 2;
	}
	if (strcmp(argv[1], "generate") == 0)
		return cmd_generate(argc - 1, argv + 1);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage_top(stdout);
		return 0;
	}
	fprintf(stderr, "groved certs: unknown command '%s'\n", argv[1]);
	usage_top(stderr);
	return 2;
}
