/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_kube_config.c: finding the API server: kubeconfig files (explicit,
 * $KUBECONFIG merged, ~/.kube/config), the in-cluster service account,
 * bearer tokens re-read on use, and a table of bad kubeconfigs with the
 * exact message each gives.
 */
#include <errno.h>
#include <sys/stat.h>

#include "test_util.h"
#include "groved/kube.h"

#define FIXTURES GV_SOURCE_DIR "/tests/fixtures/kubeconfig"

typedef struct fx {
	char dir[64]; /* a fresh temporary directory */
	char path[128]; /* dir/config */
} fx;

static const char *const env_names[] = { "KUBECONFIG", "HOME",
					 "KUBERNETES_SERVICE_HOST",
					 "KUBERNETES_SERVICE_PORT" };

static int setup(void **state)
{
	fx *f = calloc(1, sizeof(*f));
	size_t i = 0;

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/gv-kubeconfig-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/config", f->dir);
	for (i = 0; i < sizeof(env_names) / sizeof(env_names[0]); i++)
		unsetenv(env_names[i]);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx *f = *state;

	char cmd[128];

	/* as test_certs.c: the directory is ours, made by mkdtemp */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* Writes text to dir/rel, making the directories on the way. */
static void put(const char *dir, const char *rel, const char *text)
{
	char path[512];
	char *slash = NULL;
	FILE *out = NULL;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	for (slash = strchr(path + strlen(dir) + 1, '/'); slash;
	     slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		if (mkdir(path, 0700) != 0)
			assert_int_equal(errno, EEXIST);
		*slash = '/';
	}
	out = fopen(path, "wb");
	assert_non_null(out);
	assert_int_equal(fwrite(text, 1, strlen(text), out), strlen(text));
	assert_int_equal(fclose(out), 0);
}

static void assert_token(const kube_config *c, const char *want)
{
	char buf[KUBE_TOKEN_MAX + 1];
	gv_error_t err = GV_ERROR_INIT;
	int rc = kube_config_token(c, buf, sizeof(buf), &err);

	if (rc != GV_OK)
		print_error("token: %s\n", err.text);
	assert_int_equal(rc, GV_OK);
	assert_string_equal(buf, want);
}

static void load_ok(kube_config *c, const char *path, const char *context)
{
	gv_error_t err = GV_ERROR_INIT;
	int rc = kube_config_load(c, path, context, &err);

	if (rc != GV_OK)
		print_error("load: %s\n", err.text);
	assert_int_equal(rc, GV_OK);
}

/* The checked-in fixture: files named relative to its directory. */
static void test_fixture_all_fields(void **state)
{
	kube_config c = KUBE_CONFIG_INIT;
	char *ca = tu_file("tests/fixtures/kubeconfig/ca.pem");
	char *cert = tu_file("tests/fixtures/kubeconfig/client.pem");
	char *key = tu_file("tests/fixtures/kubeconfig/keys/client-key.pem");

	(void)state;
	load_ok(&c, FIXTURES "/config", NULL);
	assert_string_equal(c.server, "https://dev.example.com:6443");
	assert_string_equal(c.ca_pem, ca);
	assert_false(c.insecure);
	assert_string_equal(c.tls_server_name, "api.dev.example.com");
	assert_string_equal(c.client_cert_pem, cert);
	assert_string_equal(c.client_key_pem, key);
	assert_string_equal(c.token, "static-token");
	assert_null(c.token_file);
	assert_string_equal(c.namespace, "team-a");
	assert_string_equal(c.context, "dev");
	assert_token(&c, "static-token");

	/* --context: another cluster, no user, the default namespace; the
	 * old contents are released. */
	load_ok(&c, FIXTURES "/config", "other");
	assert_string_equal(c.server, "http://127.0.0.1:8080");
	assert_null(c.ca_pem);
	assert_true(c.insecure);
	assert_null(c.tls_server_name);
	assert_null(c.client_cert_pem);
	assert_null(c.client_key_pem);
	assert_null(c.token);
	assert_string_equal(c.namespace, "default");
	assert_string_equal(c.context, "other");
	assert_token(&c, "");

	kube_config_release(&c);
	assert_null(c.server);
	kube_config_release(&c); /* twice is fine */
	free(ca);
	free(cert);
	free(key);
}

/* The -data forms (base64, folded over lines) and a relative tokenFile. */
static void test_data_forms(void **state)
{
	fx *f = *state;
	kube_config c = KUBE_CONFIG_INIT;

	put(f->dir, "config",
	    "current-context: d\n"
	    "clusters:\n"
	    "- name: c\n"
	    "  cluster:\n"
	    "    server: https://[::1]:6443\n"
	    "    certificate-authority-data: Q0EtUEVN\n"
	    "users:\n"
	    "- name: u\n"
	    "  user:\n"
	    "    client-certificate-data: |\n"
	    "      Q0VS\n"
	    "      VA==\n"
	    "    client-key-data: S0VZMQ==\n"
	    "    tokenFile: secrets/token\n"
	    "contexts:\n"
	    "- name: d\n"
	    "  context: {cluster: c, user: u, namespace: ''}\n");
	put(f->dir, "secrets/token", "file-token\n");
	load_ok(&c, f->path, NULL);
	assert_string_equal(c.server, "https://[::1]:6443");
	assert_string_equal(c.ca_pem, "CA-PEM");
	assert_string_equal(c.client_cert_pem, "CERT");
	assert_string_equal(c.client_key_pem, "KEY1");
	assert_null(c.token);
	assert_non_null(c.token_file);
	assert_true(strncmp(c.token_file, f->dir, strlen(f->dir)) == 0);
	assert_string_equal(c.token_file + strlen(f->dir), "/secrets/token");
	assert_string_equal(c.namespace, "default");
	assert_token(&c, "file-token");
	kube_config_release(&c);
}

/* $KUBECONFIG: the first file to define a name wins; current-context
 * comes from the first file that sets it; missing files are skipped;
 * --kubeconfig beats $KUBECONFIG. */
static void test_kubeconfig_env_merge(void **state)
{
	fx *f = *state;
	kube_config c = KUBE_CONFIG_INIT;
	char list[512];
	char one[256];

	put(f->dir, "one/config",
	    "clusters:\n"
	    "- {name: c, cluster: {server: 'https://one', "
	    "certificate-authority: ca.pem}}\n"
	    "contexts:\n"
	    "- {name: x, context: {cluster: c, user: u, namespace: one}}\n");
	put(f->dir, "one/ca.pem", "CA ONE");
	put(f->dir, "two/config",
	    "current-context: x\n"
	    "clusters:\n"
	    "- {name: c, cluster: {server: 'https://two'}}\n"
	    "users:\n"
	    "- {name: u, user: {client-certificate: c.pem, "
	    "client-key: k.pem}}\n"
	    "contexts:\n"
	    "- {name: x, context: {cluster: c, namespace: two}}\n"
	    "- {name: z, context: {cluster: c}}\n");
	put(f->dir, "two/c.pem", "CERT TWO");
	put(f->dir, "two/k.pem", "KEY TWO");
	put(f->dir, "three/config", "current-context: z\n");
	snprintf(list, sizeof(list),
		 "%s/missing:%s/one/config::%s/two/config:%s/three/config",
		 f->dir, f->dir, f->dir, f->dir);
	assert_int_equal(setenv("KUBECONFIG", list, 1), 0);

	load_ok(&c, NULL, NULL);
	assert_string_equal(c.context, "x");
	assert_string_equal(c.server, "https://one");
	assert_string_equal(c.ca_pem, "CA ONE"); /* from one/'s directory */
	assert_string_equal(c.namespace, "one");
	/* user u only in two/config, its files from two/'s directory */
	assert_string_equal(c.client_cert_pem, "CERT TWO");
	assert_string_equal(c.client_key_pem, "KEY TWO");

	load_ok(&c, NULL, "z");
	assert_string_equal(c.context, "z");
	assert_string_equal(c.server, "https://one");
	assert_string_equal(c.namespace, "default");

	snprintf(one, sizeof(one), "%s/two/config", f->dir);
	load_ok(&c, one, NULL);
	assert_string_equal(c.server, "https://two");
	assert_string_equal(c.namespace, "two");
	kube_config_release(&c);
}

static void test_kubeconfig_env_none_exists(void **state)
{
	fx *f = *state;
	kube_config c = KUBE_CONFIG_INIT;
	gv_error_t err = GV_ERROR_INIT;
	char list[256];
	char want[512];

	snprintf(list, sizeof(list), "%s/a:%s/b", f->dir, f->dir);
	assert_int_equal(setenv("KUBECONFIG", list, 1), 0);
	assert_int_equal(kube_config_load(&c, NULL, NULL, &err), GV_ENOTFOUND);
	snprintf(want, sizeof(want),
		 "no kubeconfig: none of the files in $KUBECONFIG '%s' exists",
		 list);
	assert_string_equal(err.text, want);
	assert_null(c.server);
}

/* ~/.kube/config through $HOME. */
static void test_home(void **state)
{
	fx *f = *state;
	kube_config c = KUBE_CONFIG_INIT;
	gv_error_t err = GV_ERROR_INIT;
	char want[512];

	assert_int_equal(kube_config_load(&c, NULL, NULL, &err), GV_ENOTFOUND);
	assert_string_equal(err.text, "no kubeconfig: --kubeconfig, "
				      "$KUBECONFIG and $HOME are all unset");

	assert_int_equal(setenv("HOME", f->dir, 1), 0);
	assert_int_equal(kube_config_load(&c, NULL, NULL, &err), GV_ENOTFOUND);
	snprintf(want, sizeof(want),
		 "cannot read kubeconfig '%s/.kube/config': No such file or "
		 "directory",
		 f->dir);
	assert_string_equal(err.text, want);

	put(f->dir, ".kube/config",
	    "current-context: h\n"
	    "clusters: [{name: c, cluster: {server: 'https://home:443'}}]\n"
	    "contexts: [{name: h, context: {cluster: c, namespace: hn}}]\n");
	assert_int_equal(setenv("KUBECONFIG", "", 1), 0); /* empty: unset */
	load_ok(&c, NULL, NULL);
	assert_string_equal(c.server, "https://home:443");
	assert_string_equal(c.namespace, "hn");
	kube_config_release(&c);
}

static void put_service_account(const char *dir, bool with_namespace)
{
	put(dir, KUBE_SA_DIR "/token", "sa-token-1\n");
	put(dir, KUBE_SA_DIR "/ca.crt", "SA CA");
	if (with_namespace)
		put(dir, KUBE_SA_DIR "/namespace", "groved-system\n");
}

static void test_in_cluster_ipv4(void **state)
{
	fx *f = *state;
	kube_config c = KUBE_CONFIG_INIT;
	gv_error_t err = GV_ERROR_INIT;
	char want[512];

	put_service_account(f->dir, true);
	assert_int_equal(kube_config_in_cluster(&c, f->dir, &err),
			 GV_ENOTFOUND);
	assert_string_equal(err.text,
			    "not in a cluster: KUBERNETES_SERVICE_HOST and "
			    "KUBERNETES_SERVICE_PORT are not set");
	assert_null(c.server);

	assert_int_equal(setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1), 0);
	assert_int_equal(setenv("KUBERNETES_SERVICE_PORT", "65536", 1), 0);
	assert_int_equal(kube_config_in_cluster(&c, f->dir, &err), GV_EINVAL);
	assert_string_equal(err.text, "KUBERNETES_SERVICE_PORT '65536' is not "
				      "a port number");

	assert_int_equal(setenv("KUBERNETES_SERVICE_PORT", "443", 1), 0);
	assert_int_equal(kube_config_in_cluster(&c, f->dir, &err), GV_OK);
	assert_string_equal(c.server, "https://10.96.0.1:443");
	assert_string_equal(c.ca_pem, "SA CA");
	assert_false(c.insecure);
	assert_null(c.token);
	snprintf(want, sizeof(want), "%s" KUBE_SA_DIR "/token", f->dir);
	assert_string_equal(c.token_file, want);
	assert_string_equal(c.namespace, "groved-system");
	assert_string_equal(c.context, "");
	assert_token(&c, "sa-token-1");
	kube_config_release(&c);
}

static void test_in_cluster_ipv6(void **state)
{
	fx *f = *state;
	kube_config c = KUBE_CONFIG_INIT;
	gv_error_t err = GV_ERROR_INIT;
	char want[512];

	assert_int_equal(setenv("KUBERNETES_SERVICE_HOST", "fd00:10:96::1", 1),
			 0);
	assert_int_equal(setenv("KUBERNETES_SERVICE_PORT", "6443", 1), 0);
	/* no token yet */
	assert_int_equal(kube_config_in_cluster(&c, f->dir, &err), GV_EIO);
	snprintf(want, sizeof(want),
		 "cannot read token file '%s" KUBE_SA_DIR
		 "/token': No such file or directory",
		 f->dir);
	assert_string_equal(err.text, want);
	assert_null(c.server);

	put_service_account(f->dir, false);
	assert_int_equal(kube_config_in_cluster(&c, f->dir, &err), GV_OK);
	assert_string_equal(c.server, "https://[fd00:10:96::1]:6443");
	assert_string_equal(c.namespace, "default");
	kube_config_release(&c);
}

/* The token file is read afresh on every call (rotation). */
static void test_token_reread(void **state)
{
	fx *f = *state;
	kube_config c = KUBE_CONFIG_INIT;
	gv_error_t err = GV_ERROR_INIT;
	char small[4] = "old";
	char want[512];
	char *big = NULL;

	put_service_account(f->dir, true);
	assert_int_equal(setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1", 1), 0);
	assert_int_equal(setenv("KUBERNETES_SERVICE_PORT", "443", 1), 0);
	assert_int_equal(kube_config_in_cluster(&c, f->dir, &err), GV_OK);
	assert_token(&c, "sa-token-1");
	put(f->dir, KUBE_SA_DIR "/token", "sa-token-2\r\n");
	assert_token(&c, "sa-token-2");

	assert_int_equal(kube_config_token(&c, small, sizeof(small), &err),
			 GV_ETOOBIG);
	assert_string_equal(small, "old"); /* untouched */

	put(f->dir, KUBE_SA_DIR "/token", "\n");
	assert_int_equal(kube_config_token(&c, small, sizeof(small), &err),
			 GV_EINVAL);
	snprintf(want, sizeof(want), "token file '%s' is empty", c.token_file);
	assert_string_equal(err.text, want);

	put(f->dir, KUBE_SA_DIR "/token", "a\nb");
	assert_int_equal(kube_config_token(&c, small, sizeof(small), &err),
			 GV_EINVAL);
	snprintf(want, sizeof(want),
		 "token file '%s' holds a control character", c.token_file);
	assert_string_equal(err.text, want);

	big = malloc(KUBE_TOKEN_MAX + 2);
	assert_non_null(big);
	memset(big, 'x', KUBE_TOKEN_MAX + 1);
	big[KUBE_TOKEN_MAX + 1] = '\0';
	put(f->dir, KUBE_SA_DIR "/token", big);
	assert_int_equal(kube_config_token(&c, small, sizeof(small), &err),
			 GV_ETOOBIG);
	snprintf(want, sizeof(want),
		 "token file '%s' is larger than 65536 bytes", c.token_file);
	assert_string_equal(err.text, want);
	big[KUBE_TOKEN_MAX] = '\0'; /* exactly the limit fits */
	put(f->dir, KUBE_SA_DIR "/token", big);
	assert_token(&c, big);
	free(big);
	kube_config_release(&c);
}

static void test_file_too_big(void **state)
{
	fx *f = *state;
	kube_config c = KUBE_CONFIG_INIT;
	gv_error_t err = GV_ERROR_INIT;
	char want[512];
	char *big = malloc(KUBE_CONFIG_FILE_MAX + 2);

	assert_non_null(big);
	memset(big, '#', KUBE_CONFIG_FILE_MAX + 1);
	big[KUBE_CONFIG_FILE_MAX + 1] = '\0';
	put(f->dir, "config", big);
	free(big);
	assert_int_equal(kube_config_load(&c, f->path, NULL, &err), GV_ETOOBIG);
	snprintf(want, sizeof(want),
		 "cannot read kubeconfig '%s': larger than 1048576 bytes",
		 f->path);
	assert_string_equal(err.text, want);
	assert_string_equal(err.source, f->path);
}

/* ---------------------------------------------------------------------
 * Bad kubeconfigs. In yaml and msg, {cfg} stands for the kubeconfig's
 * path and {dir} for its directory.
 * ------------------------------------------------------------------- */

#define GOOD_CLUSTER "- {name: c, cluster: {server: 'https://k'}}\n"
#define CTX_CU "contexts: [{name: x, context: {cluster: c, user: u}}]\n"

static const struct bad_case {
	const char *name;
	const char *yaml; /* NULL: no file at all */
	const char *context; /* --context */
	int rc;
	const char *msg;
} bad_cases[] = {
	{ "missing file", NULL, NULL, GV_ENOTFOUND,
	  "cannot read kubeconfig '{cfg}': No such file or directory" },
	{ "not yaml", "clusters: [\n", NULL, GV_EPARSE, NULL },
	{ "not a mapping", "- a\n- b\n", NULL, GV_EPARSE,
	  "kubeconfig '{cfg}': is not a mapping" },
	{ "two documents", "a: 1\n---\nb: 2\n", NULL, GV_EPARSE,
	  "kubeconfig '{cfg}': holds more than one document" },
	{ "empty", "", NULL, GV_EINVAL,
	  "kubeconfig '{cfg}': no current-context" },
	{ "no current-context", "clusters: []\n", NULL, GV_EINVAL,
	  "kubeconfig '{cfg}': no current-context" },
	{ "current-context not a string", "current-context: [a]\n", NULL,
	  GV_EPARSE, "kubeconfig '{cfg}': current-context is not a string" },
	{ "current-context undefined", "current-context: prod\n", NULL,
	  GV_EINVAL,
	  "kubeconfig '{cfg}': current-context \"prod\" is not defined" },
	{ "--context undefined",
	  "current-context: x\nclusters:\n" GOOD_CLUSTER CTX_CU, "nope",
	  GV_EINVAL, "kubeconfig '{cfg}': context \"nope\" is not defined" },
	{ "contexts not a list", "current-context: x\ncontexts: {x: 1}\n", NULL,
	  GV_EPARSE, "kubeconfig '{cfg}': contexts is not a list" },
	{ "context without name",
	  "current-context: x\ncontexts: [{context: {cluster: c}}]\n", NULL,
	  GV_EPARSE, "kubeconfig '{cfg}': contexts[0] has no name" },
	{ "context name not a string (YAML 1.1 y is true)",
	  "current-context: x\ncontexts: [{name: y, context: {cluster: c}}]\n",
	  NULL, GV_EPARSE,
	  "kubeconfig '{cfg}': contexts[0]: name is not a string (quote it)" },
	{ "context not a mapping", "current-context: x\ncontexts: [x]\n", NULL,
	  GV_EPARSE, "kubeconfig '{cfg}': contexts[0] is not a mapping" },
	{ "context without body", "current-context: x\ncontexts: [{name: x}]\n",
	  NULL, GV_EPARSE,
	  "kubeconfig '{cfg}': context \"x\" has no context mapping" },
	{ "context names no cluster",
	  "current-context: x\ncontexts: [{name: x, context: {user: u}}]\n",
	  NULL, GV_EINVAL,
	  "kubeconfig '{cfg}': context \"x\": names no cluster" },
	{ "context namespace not a string",
	  "current-context: x\n"
	  "contexts: [{name: x, context: {cluster: c, namespace: 7}}]\n",
	  NULL, GV_EINVAL,
	  "kubeconfig '{cfg}': context \"x\": namespace is not a string" },
	{ "undefined cluster",
	  "current-context: prod\nclusters:\n" GOOD_CLUSTER
	  "contexts: [{name: prod, context: {cluster: c9}}]\n",
	  NULL, GV_EINVAL,
	  "kubeconfig '{cfg}': context \"prod\" names cluster \"c9\", which "
	  "is not defined" },
	{ "undefined user",
	  "current-context: x\nclusters:\n" GOOD_CLUSTER CTX_CU, NULL,
	  GV_EINVAL,
	  "kubeconfig '{cfg}': context \"x\" names user \"u\", which is not "
	  "defined" },
	{ "server missing",
	  "current-context: x\nclusters: [{name: c, cluster: {}}]\n" CTX_CU,
	  NULL, GV_EINVAL,
	  "kubeconfig '{cfg}': cluster \"c\": server is not set" },
	{ "server not a URL",
	  "current-context: x\n"
	  "clusters: [{name: c, cluster: {server: 'ftp://k'}}]\n" CTX_CU,
	  NULL, GV_EINVAL,
	  "kubeconfig '{cfg}': cluster \"c\": server 'ftp://k' is not an "
	  "https:// or http:// URL" },
	{ "server without host",
	  "current-context: x\n"
	  "clusters: [{name: c, cluster: {server: 'https://'}}]\n" CTX_CU,
	  NULL, GV_EINVAL,
	  "kubeconfig '{cfg}': cluster \"c\": server 'https://' is not an "
	  "https:// or http:// URL" },
	{ "insecure not a boolean",
	  "current-context: x\nclusters: [{name: c, cluster: {server: "
	  "'https://k', insecure-skip-tls-verify: 'yes'}}]\n" CTX_CU,
	  NULL, GV_EINVAL,
	  "kubeconfig '{cfg}': cluster \"c\": insecure-skip-tls-verify is not "
	  "a boolean" },
	{ "insecure with a CA",
	  "current-context: x\nclusters: [{name: c, cluster: {server: "
	  "'https://k', insecure-skip-tls-verify: true, "
	  "certificate-authority-data: QUJD}}]\n" CTX_CU,
	  NULL, GV_EINVAL,
	  "kubeconfig '{cfg}': cluster \"c\": a certificate authority and "
	  "insecure-skip-tls-verify are both set" },
	{ "CA file and data",
	  "current-context: x\nclusters: [{name: c, cluster: {server: "
	  "'https://k', certificate-authority: ca.pem, "
	  "certificate-authority-data: QUJD}}]\n" CTX_CU,
	  NULL, GV_EINVAL,
	  "kubeconfig '{cfg}': cluster \"c\": certificate-authority and "
	  "certificate-authority-data are both set" },
	{ "CA file unreadable",
	  "current-context: x\nclusters: [{name: c, cluster: {server: "
	  "'https://k', certificate-authority: no/ca.pem}}]\n" CTX_CU,
	  NULL, GV_EIO,
	  "kubeconfig '{cfg}': cluster \"c\": cannot read "
	  "certificate-authority "
	  "'{dir}/no/ca.pem': No such file or directory" },
	{ "CA data after padding",
	  "current-context: x\nclusters: [{name: c, cluster: {server: "
	  "'https://k', certificate-authority-data: 'QUJD='}}]\n" CTX_CU,
	  NULL, GV_EINVAL,
	  "kubeconfig '{cfg}': cluster \"c\": certificate-authority-data is "
	  "not valid base64 (at byte 4)" },
	{ "CA data cut short",
	  "current-context: x\nclusters: [{name: c, cluster: {server: "
	  "'https://k', certificate-authority-data: QQ}}]\n" CTX_CU,
	  NULL, GV_EINVAL,
	  "kubeconfig '{cfg}': cluster \"c\": certificate-authority-data is "
	  "not valid base64 (at byte 2)" },
	{ "CA data bad character",
	  "current-context: x\nclusters: [{name: c, cluster: {server: "
	  "'https://k', certificate-authority-data: 'Q!=='}}]\n" CTX_CU,
	  NULL, GV_EINVAL,
	  "kubeconfig '{cfg}': cluster \"c\": certificate-authority-data is "
	  "not valid base64 (at byte 1)" },
	{ "exec plugin",
	  "current-context: x\nclusters:\n" GOOD_CLUSTER
	  "users: [{name: u, user: {exec: {command: aws}}}]\n" CTX_CU,
	  NULL, GV_EUNSUPPORTED,
	  "kubeconfig '{cfg}': user \"u\": exec credential plugins are not "
	  "supported" },
	{ "auth-provider",
	  "current-context: x\nclusters:\n" GOOD_CLUSTER
	  "users: [{name: u, user: {auth-provider: {name: oidc}}}]\n" CTX_CU,
	  NULL, GV_EUNSUPPORTED,
	  "kubeconfig '{cfg}': user \"u\": auth-provider plugins are not "
	  "supported" },
	{ "basic auth",
	  "current-context: x\nclusters:\n" GOOD_CLUSTER
	  "users: [{name: u, user: {username: a, password: b}}]\n" CTX_CU,
	  NULL, GV_EUNSUPPORTED,
	  "kubeconfig '{cfg}': user \"u\": basic authentication (username and "
	  "password) is not supported" },
	{ "client certificate file and data",
	  "current-context: x\nclusters:\n" GOOD_CLUSTER
	  "users: [{name: u, user: {client-certificate: c.pem, "
	  "client-certificate-data: QUJD}}]\n" CTX_CU,
	  NULL, GV_EINVAL,
	  "kubeconfig '{cfg}': user \"u\": client-certificate and "
	  "client-certificate-data are both set" },
	{ "client key data bad",
	  "current-context: x\nclusters:\n" GOOD_CLUSTER
	  "users: [{name: u, user: {client-certificate-data: QUJD, "
	  "client-key-data: 'QU JD'}}]\n" CTX_CU,
	  NULL, GV_EINVAL,
	  "kubeconfig '{cfg}': user \"u\": client-key-data is not valid "
	  "base64 (at byte 2)" },
	{ "client key file unreadable",
	  "current-context: x\nclusters:\n" GOOD_CLUSTER
	  "users: [{name: u, user: {client-certificate-data: QUJD, "
	  "client-key: /nonexistent/key.pem}}]\n" CTX_CU,
	  NULL, GV_EIO,
	  "kubeconfig '{cfg}': user \"u\": cannot read client-key "
	  "'/nonexistent/key.pem': No such file or directory" },
	{ "certificate without key",
	  "current-context: x\nclusters:\n" GOOD_CLUSTER
	  "users: [{name: u, user: {client-certificate-data: QUJD}}]\n" CTX_CU,
	  NULL, GV_EINVAL,
	  "kubeconfig '{cfg}': user \"u\": a client certificate is set without "
	  "a client key" },
	{ "key without certificate",
	  "current-context: x\nclusters:\n" GOOD_CLUSTER
	  "users: [{name: u, user: {client-key-data: QUJD}}]\n" CTX_CU,
	  NULL, GV_EINVAL,
	  "kubeconfig '{cfg}': user \"u\": a client key is set without a "
	  "client certificate" },
	{ "token not a string",
	  "current-context: x\nclusters:\n" GOOD_CLUSTER
	  "users: [{name: u, user: {token: [a]}}]\n" CTX_CU,
	  NULL, GV_EINVAL,
	  "kubeconfig '{cfg}': user \"u\": token is not a string" },
	{ "token file unreadable",
	  "current-context: x\nclusters:\n" GOOD_CLUSTER
	  "users: [{name: u, user: {tokenFile: tok}}]\n" CTX_CU,
	  NULL, GV_EIO,
	  "kubeconfig '{cfg}': user \"u\": cannot read token file '{dir}/tok': "
	  "No such file or directory" },
};

/* text with {cfg} and {dir} replaced. */
static void expand(const fx *f, const char *text, char *out, size_t size)
{
	size_t o = 0;

	while (*text && o + 1 < size) {
		const char *sub = NULL;
		size_t skip = 0;

		if (strncmp(text, "{cfg}", 5) == 0) {
			sub = f->path;
			skip = 5;
		} else if (strncmp(text, "{dir}", 5) == 0) {
			sub = f->dir;
			skip = 5;
		}
		if (sub) {
			o += (size_t)snprintf(out + o, size - o, "%s", sub);
			text += skip;
		} else {
			out[o++] = *text++;
		}
	}
	out[o < size ? o : size - 1] = '\0';
}

static void test_bad_files(void **state)
{
	fx *f = *state;
	size_t i = 0;

	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *bc = &bad_cases[i];
		kube_config c = KUBE_CONFIG_INIT;
		gv_error_t err = GV_ERROR_INIT;
		char want[1024];
		char *sentinel = strdup("sentinel");
		int rc = 0;

		assert_non_null(sentinel);
		c.server = sentinel;
		remove(f->path);
		if (bc->yaml)
			put(f->dir, "config", bc->yaml);
		rc = kube_config_load(&c, f->path, bc->context, &err);
		if (rc != bc->rc)
			print_error("case '%s': rc %d: %s\n", bc->name, rc,
				    err.text);
		assert_int_equal(rc, bc->rc);
		/* out-param untouched */
		assert_ptr_equal(c.server, sentinel);
		assert_string_equal(c.server, "sentinel");
		assert_null(c.ca_pem);
		assert_null(c.namespace);
		assert_string_equal(err.source, f->path);
		if (bc->msg) {
			expand(f, bc->msg, want, sizeof(want));
			if (strcmp(err.text, want) != 0)
				print_error("case '%s'\n", bc->name);
			assert_string_equal(err.text, want);
		} else {
			/* a YAML error: the reader's words with a position */
			snprintf(want, sizeof(want),
				 "kubeconfig '%s': ", f->path);
			assert_true(strncmp(err.text, want, strlen(want)) == 0);
			assert_true(err.line > 0);
		}
		free(sentinel);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fixture_all_fields, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_data_forms, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_kubeconfig_env_merge,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_kubeconfig_env_none_exists,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_home, setup, teardown),
		cmocka_unit_test_setup_teardown(test_in_cluster_ipv4, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_in_cluster_ipv6, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_token_reread, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_file_too_big, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bad_files, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
