/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kube_config.c: finding the API server and the credentials for it, from
 * kubeconfig files (kubectl's lookup and merge rules) or from the pod's
 * service account.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "groved/gv_file.h"
#include "groved/gv_read.h"
#include "kube_int.h"

/* One kubeconfig file of the merged set. */
typedef struct kc_file {
	char *path; /* owned */
	json_t *doc; /* owned; an object */
} kc_file;

typedef struct kc_set {
	kc_file *files; /* owned, n of them, in precedence order */
	size_t n;
	const char *desc; /* borrowed: the path, or $KUBECONFIG */
} kc_set;

/* The entry an error is about: "cluster \"c\"", in file path. */
typedef struct kc_where {
	const char *path;
	char entry[160];
} kc_where;

void kube_config_init(kube_config *c)
{
	*c = (kube_config)KUBE_CONFIG_INIT;
}

void kube_config_release(kube_config *c)
{
	if (!c)
		return;
	free(c->server);
	free(c->ca_pem);
	free(c->tls_server_name);
	free(c->client_cert_pem);
	free(c->client_key_pem);
	free(c->token);
	free(c->token_file);
	free(c->namespace);
	free(c->context);
	kube_config_init(c);
}

/* Fills err with "kubeconfig 'path': <entry>: <message>" (no entry part
 * when entry is empty). Returns rc. */
static int fail(gv_error_t *err, int rc, const char *path, const char *entry,
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int fail(gv_error_t *err, int rc, const char *path, const char *entry,
		const char *fmt, ...)
{
	char msg[GV_ERROR_TEXT_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (entry && entry[0])
		return gv_error_set(err, rc, path, 0, 0,
				    "kubeconfig '%s': %s: %s", path, entry,
				    msg);
	return gv_error_set(err, rc, path, 0, 0, "kubeconfig '%s': %s", path,
			    msg);
}

static char *xstrndup(const char *s, size_t n)
{
	char *p = malloc(n + 1);

	if (!p)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/* A new string (caller frees) printed from fmt, or NULL. */
static char *xprintf(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static char *xprintf(const char *fmt, ...)
{
	va_list ap;
	char *p = NULL;
	int n = 0;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	p = malloc((size_t)n + 1);
	if (!p)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

/* ---------------------------------------------------------------------
 * Reading and merging kubeconfig files
 * ------------------------------------------------------------------- */

static void set_release(kc_set *set)
{
	size_t i = 0;

	for (i = 0; i < set->n; i++) {
		free(set->files[i].path);
		json_decref(set->files[i].doc);
	}
	free(set->files);
	set->files = NULL;
	set->n = 0;
}

/* Reads and parses path onto set. A missing file is skipped (returns
 * GV_ENOTFOUND without touching err) when skip_missing. */
static int set_add(kc_set *set, const char *path, size_t path_len,
		   bool skip_missing, gv_error_t *err)
{
	char *name = NULL;
	char *data = NULL;
	size_t len = 0;
	json_t *docs = NULL;
	json_t *doc = NULL;
	kc_file *files = NULL;
	gv_read_opts ro = { .what = "kubeconfig", .secret = true };
	gv_error_t rerr = GV_ERROR_INIT;
	int rc = GV_OK;

	name = xstrndup(path, path_len);
	if (!name) {
		rc = gv_error_set(err, GV_ENOMEM, NULL, 0, 0, "out of memory");
		goto out;
	}
	rc = gv_read_file(name, KUBE_CONFIG_FILE_MAX, &ro, &data, &len, &rerr);
	if (rc == GV_ENOTFOUND && skip_missing)
		goto out;
	if (rc != GV_OK) {
		if (err)
			*err = rerr;
		goto out;
	}
	rc = gv_read_documents(data, len, name, &docs, NULL, err);
	if (rc != GV_OK) {
		char text[GV_ERROR_TEXT_MAX];

		snprintf(text, sizeof(text), "%s", err ? err->text : "");
		if (err)
			gv_error_set(err, rc, name, err->line, err->column,
				     "kubeconfig '%s': %d:%d: %s", name,
				     err->line, err->column, text);
		goto out;
	}
	if (json_array_size(docs) > 1) {
		rc = fail(err, GV_EPARSE, name, NULL,
			  "holds more than one document");
		goto out;
	}
	doc = json_array_get(docs, 0);
	if (!doc || json_is_null(doc)) {
		doc = json_object(); /* an empty file is an empty config */
		if (!doc) {
			rc = fail(err, GV_ENOMEM, name, NULL, "out of memory");
			goto out;
		}
	} else if (!json_is_object(doc)) {
		rc = fail(err, GV_EPARSE, name, NULL, "is not a mapping");
		doc = NULL;
		goto out;
	} else {
		json_incref(doc);
	}
	files = realloc(set->files, (set->n + 1) * sizeof(*files));
	if (!files) {
		rc = fail(err, GV_ENOMEM, name, NULL, "out of memory");
		goto out;
	}
	set->files = files;
	set->files[set->n].path = name;
	set->files[set->n].doc = doc;
	set->n++;
	name = NULL;
	doc = NULL;
out:
	json_decref(doc);
	json_decref(docs);
	free(data);
	free(name);
	return rc;
}

/* Fills set from the rules kubectl follows (see kube_config_load);
 * *home_path (owned) keeps the name of ~/.kube/config alive for desc. */
static int set_load(kc_set *set, const char *explicit_path, char **home_path,
		    gv_error_t *err)
{
	const char *list = getenv("KUBECONFIG");
	const char *home = getenv("HOME");
	const char *p = NULL;
	int rc = GV_OK;

	if (explicit_path) {
		set->desc = explicit_path;
		return set_add(set, explicit_path, strlen(explicit_path), false,
			       err);
	}
	if (list && list[0]) {
		set->desc = list;
		for (p = list; *p;) {
			size_t n = strcspn(p, ":");

			if (n > 0) {
				rc = set_add(set, p, n, true, err);
				if (rc != GV_OK && rc != GV_ENOTFOUND)
					return rc;
			}
			p += n;
			if (*p == ':')
				p++;
		}
		if (set->n == 0)
			return gv_error_set(
			    err, GV_ENOTFOUND, NULL, 0, 0,
			    "no kubeconfig: none of the files in $KUBECONFIG "
			    "'%s' exists",
			    list);
		return GV_OK;
	}
	if (!home || !home[0])
		return gv_error_set(err, GV_ENOTFOUND, NULL, 0, 0,
				    "no kubeconfig: --kubeconfig, $KUBECONFIG "
				    "and $HOME are all unset");
	*home_path = xprintf("%s/.kube/config", home);
	if (!*home_path) {
		return gv_error_set(err, GV_ENOMEM, NULL, 0, 0,
				    "out of memory");
	}
	set->desc = *home_path;
	return set_add(set, *home_path, strlen(*home_path), false, err);
}

/*
 * Finds the entry named name in the list `list` ("clusters") of the first
 * file that defines it; *body_out is its `body` ("cluster") mapping,
 * borrowed, *file_out the file. Returns GV_ENOTFOUND (err untouched) when
 * no file defines it, GV_EPARSE for a malformed list.
 */
static int set_find(const kc_set *set, const char *list, const char *body,
		    const char *name, json_t **body_out,
		    const kc_file **file_out, gv_error_t *err)
{
	size_t i = 0;
	size_t j = 0;

	for (i = 0; i < set->n; i++) {
		const kc_file *f = &set->files[i];
		json_t *arr = json_object_get(f->doc, list);

		if (!arr || json_is_null(arr))
			continue;
		if (!json_is_array(arr))
			return fail(err, GV_EPARSE, f->path, NULL,
				    "%s is not a list", list);
		for (j = 0; j < json_array_size(arr); j++) {
			json_t *item = json_array_get(arr, j);
			json_t *n = json_object_get(item, "name");
			json_t *b = json_object_get(item, body);

			if (!json_is_object(item))
				return fail(err, GV_EPARSE, f->path, NULL,
					    "%s[%zu] is not a mapping", list,
					    j);
			if (!n)
				return fail(err, GV_EPARSE, f->path, NULL,
					    "%s[%zu] has no name", list, j);
			if (!json_is_string(n))
				return fail(err, GV_EPARSE, f->path, NULL,
					    "%s[%zu]: name is not a string "
					    "(quote it)",
					    list, j);
			if (strcmp(json_string_value(n), name) != 0)
				continue;
			if (!json_is_object(b))
				return fail(err, GV_EPARSE, f->path, NULL,
					    "%s \"%s\" has no %s mapping", body,
					    name, body);
			*body_out = b;
			*file_out = f;
			return GV_OK;
		}
	}
	return GV_ENOTFOUND;
}

/* *out (borrowed, NULL when absent, null or "") is the string at key. */
static int get_str(const json_t *obj, const char *key, const kc_where *w,
		   const char **out, gv_error_t *err)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (!v || json_is_null(v))
		return GV_OK;
	if (!json_is_string(v))
		return fail(err, GV_EINVAL, w->path, w->entry,
			    "%s is not a string", key);
	if (json_string_value(v)[0])
		*out = json_string_value(v);
	return GV_OK;
}

/* *out (caller frees) is name, when relative taken from the directory of
 * the kubeconfig w->path. */
static int resolve_named(const kc_where *w, const char *name, char **out,
			 gv_error_t *err)
{
	const char *slash = strrchr(w->path, '/');
	char *full = NULL;

	if (name[0] == '/' || !slash)
		full = strdup(name);
	else
		full =
		    xprintf("%.*s/%s", (int)(slash - w->path), w->path, name);
	if (!full)
		return fail(err, GV_ENOMEM, w->path, w->entry, "out of memory");
	*out = full;
	return GV_OK;
}

/* The path of the file that file_key (e.g. "client-key") names, relative
 * ones from the kubeconfig's directory, read into *out (caller frees). */
static int read_named(const kc_where *w, const char *file_key, const char *name,
		      char **out, gv_error_t *err)
{
	char *full = NULL;
	char *data = NULL;
	size_t len = 0;
	gv_read_opts ro = { .what = file_key, .secret = true };
	gv_error_t rerr = GV_ERROR_INIT;
	int rc = GV_OK;

	rc = resolve_named(w, name, &full, err);
	if (rc != GV_OK)
		goto out;
	rc = gv_read_file(full, KUBE_CONFIG_FILE_MAX, &ro, &data, &len, &rerr);
	if (rc != GV_OK) {
		rc =
		    rc == GV_ENOTFOUND ? GV_EIO : rc; /* ENOTFOUND: no config */
		fail(err, rc, w->path, w->entry, "%s", rerr.text);
		goto out;
	}
	if (memchr(data, '\0', len)) {
		rc = fail(err, GV_EINVAL, w->path, w->entry,
			  "%s '%s' holds a NUL byte", file_key, full);
		goto out;
	}
	*out = data;
	data = NULL;
out:
	free(full);
	free(data);
	return rc;
}

/*
 * One PEM field given as a file (file_key) or inline (data_key, base64):
 * *out is the text (caller frees) or stays NULL when neither is set.
 */
static int pem_field(const json_t *obj, const kc_where *w, const char *file_key,
		     const char *data_key, char **out, gv_error_t *err)
{
	const char *file = NULL;
	const char *data = NULL;
	char *text = NULL;
	size_t len = 0;
	size_t bad = 0;
	int rc = GV_OK;

	rc = get_str(obj, file_key, w, &file, err);
	if (rc == GV_OK)
		rc = get_str(obj, data_key, w, &data, err);
	if (rc != GV_OK)
		goto out;
	if (file && data) {
		rc = fail(err, GV_EINVAL, w->path, w->entry,
			  "%s and %s are both set", file_key, data_key);
		goto out;
	}
	if (file) {
		rc = read_named(w, file_key, file, &text, err);
		if (rc != GV_OK)
			goto out;
	} else if (data) {
		rc = gv_base64_decode(data, strlen(data), &text, &len, &bad);
		if (rc == GV_ENOMEM) {
			fail(err, rc, w->path, w->entry, "out of memory");
			goto out;
		}
		if (rc != GV_OK) {
			fail(err, rc, w->path, w->entry,
			     "%s is not valid base64 (at byte %zu)", data_key,
			     bad);
			goto out;
		}
		if (memchr(text, '\0', len)) {
			rc = fail(err, GV_EINVAL, w->path, w->entry,
				  "%s holds a NUL byte", data_key);
			goto out;
		}
	}
	*out = text;
	text = NULL;
out:
	free(text);
	return rc;
}

/* True when s has a control character (it goes into an HTTP header). */
static bool has_control(const char *s, size_t n)
{
	size_t i = 0;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return true;
	return false;
}

/* Fills server, ca_pem, insecure and tls_server_name of out. */
static int parse_cluster(const json_t *cl, const kc_where *w, kube_config *out,
			 gv_error_t *err)
{
	const char *server = NULL;
	const char *sni = NULL;
	const char *host = NULL;
	json_t *insecure = json_object_get(cl, "insecure-skip-tls-verify");
	size_t n = 0;
	int rc = GV_OK;

	rc = get_str(cl, "server", w, &server, err);
	if (rc != GV_OK)
		return rc;
	if (!server)
		return fail(err, GV_EINVAL, w->path, w->entry,
			    "server is not set");
	if (strncmp(server, "https://", 8) == 0)
		host = server + 8;
	else if (strncmp(server, "http://", 7) == 0)
		host = server + 7;
	if (!host || !host[0] || host[0] == '/' ||
	    has_control(server, strlen(server)) || strchr(server, ' '))
		return fail(err, GV_EINVAL, w->path, w->entry,
			    "server '%s' is not an https:// or http:// URL",
			    server);
	n = strlen(server);
	while (n > 0 && server[n - 1] == '/')
		n--;
	out->server = xstrndup(server, n);
	if (!out->server)
		return fail(err, GV_ENOMEM, w->path, w->entry, "out of memory");

	if (insecure && !json_is_null(insecure) && !json_is_boolean(insecure))
		return fail(err, GV_EINVAL, w->path, w->entry,
			    "insecure-skip-tls-verify is not a boolean");
	out->insecure = json_is_true(insecure);

	rc = get_str(cl, "tls-server-name", w, &sni, err);
	if (rc != GV_OK)
		return rc;
	if (sni) {
		out->tls_server_name = strdup(sni);
		if (!out->tls_server_name)
			return fail(err, GV_ENOMEM, w->path, w->entry,
				    "out of memory");
	}
	rc = pem_field(cl, w, "certificate-authority",
		       "certificate-authority-data", &out->ca_pem, err);
	if (rc != GV_OK)
		return rc;
	if (out->ca_pem && out->insecure)
		return fail(err, GV_EINVAL, w->path, w->entry,
			    "a certificate authority and "
			    "insecure-skip-tls-verify are both set");
	return GV_OK;
}

/* Reads a token file: the token without trailing white space, at most
 * KUBE_TOKEN_MAX bytes, into *out (caller frees). err names the file. */
static int read_token(const char *path, char **out, gv_error_t *err)
{
	char *data = NULL;
	size_t len = 0;
	gv_read_opts ro = { .what = "token file", .secret = true };
	int rc = GV_OK;

	rc = gv_read_file(path, KUBE_TOKEN_MAX, &ro, &data, &len, err);
	if (rc == GV_ETOOBIG) {
		gv_error_set(err, rc, path, 0, 0,
			     "token file '%s' is larger than %zu bytes", path,
			     KUBE_TOKEN_MAX);
		goto out;
	}
	if (rc != GV_OK) {
		rc =
		    rc == GV_ENOTFOUND ? GV_EIO : rc; /* ENOTFOUND: no config */
		goto out;
	}
	while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r' ||
			   data[len - 1] == ' ' || data[len - 1] == '\t'))
		data[--len] = '\0';
	if (len == 0) {
		rc = gv_error_set(err, GV_EINVAL, path, 0, 0,
				  "token file '%s' is empty", path);
		goto out;
	}
	if (has_control(data, len)) {
		rc = gv_error_set(err, GV_EINVAL, path, 0, 0,
				  "token file '%s' holds a control character",
				  path);
		goto out;
	}
	*out = data;
	data = NULL;
out:
	free(data);
	return rc;
}

/* Fills the client certificate, key and token of out. */
static int parse_user(const json_t *u, const kc_where *w, kube_config *out,
		      gv_error_t *err)
{
	const char *token = NULL;
	const char *token_file = NULL;
	char *checked = NULL;
	gv_error_t inner = GV_ERROR_INIT;
	int rc = GV_OK;

	if (json_object_get(u, "exec"))
		return fail(err, GV_EUNSUPPORTED, w->path, w->entry,
			    "exec credential plugins are not supported");
	if (json_object_get(u, "auth-provider"))
		return fail(err, GV_EUNSUPPORTED, w->path, w->entry,
			    "auth-provider plugins are not supported");
	if (json_object_get(u, "username") || json_object_get(u, "password"))
		return fail(err, GV_EUNSUPPORTED, w->path, w->entry,
			    "basic authentication (username and password) "
			    "is not supported");
	rc = pem_field(u, w, "client-certificate", "client-certificate-data",
		       &out->client_cert_pem, err);
	if (rc != GV_OK)
		return rc;
	rc = pem_field(u, w, "client-key", "client-key-data",
		       &out->client_key_pem, err);
	if (rc != GV_OK)
		return rc;
	if (!out->client_cert_pem != !out->client_key_pem)
		return fail(err, GV_EINVAL, w->path, w->entry,
			    "%s is set without %s",
			    out->client_cert_pem ? "a client certificate"
						 : "a client key",
			    out->client_cert_pem ? "a client key"
						 : "a client certificate");
	rc = get_str(u, "token", w, &token, err);
	if (rc == GV_OK)
		rc = get_str(u, "tokenFile", w, &token_file, err);
	if (rc != GV_OK)
		return rc;
	if (token) {
		/* As client-go: a token given inline wins over tokenFile. */
		if (has_control(token, strlen(token)))
			return fail(err, GV_EINVAL, w->path, w->entry,
				    "token holds a control character");
		out->token = strdup(token);
		if (!out->token)
			return fail(err, GV_ENOMEM, w->path, w->entry,
				    "out of memory");
	} else if (token_file) {
		rc = resolve_named(w, token_file, &out->token_file, err);
		if (rc != GV_OK)
			return rc;
		rc = read_token(out->token_file, &checked, &inner);
		free(checked);
		if (rc != GV_OK)
			return fail(err, rc, w->path, w->entry, "%s",
				    inner.text);
	}
	return GV_OK;
}

int kube_config_load(kube_config *c, const char *explicit_path,
		     const char *context, gv_error_t *err)
{
	kc_set set = { 0 };
	kube_config tmp = KUBE_CONFIG_INIT;
	char *home_path = NULL;
	const char *ctx_name = NULL;
	const char *ctx_path = NULL; /* the file that chose ctx_name */
	const char *cluster_name = NULL;
	const char *user_name = NULL;
	const char *ns = NULL;
	json_t *ctx = NULL;
	json_t *body = NULL;
	const kc_file *cf = NULL;
	const kc_file *bf = NULL;
	kc_where w = { 0 };
	size_t i = 0;
	int rc = GV_OK;

	rc = set_load(&set, explicit_path, &home_path, err);
	if (rc != GV_OK)
		goto out;

	if (context && context[0]) {
		ctx_name = context;
	} else {
		for (i = 0; i < set.n && !ctx_name; i++) {
			json_t *v = json_object_get(set.files[i].doc,
						    "current-context");

			if (v && !json_is_null(v) && !json_is_string(v)) {
				rc = fail(err, GV_EPARSE, set.files[i].path,
					  NULL,
					  "current-context is not a string");
				goto out;
			}
			if (json_is_string(v) && json_string_value(v)[0]) {
				ctx_name = json_string_value(v);
				ctx_path = set.files[i].path;
			}
		}
		if (!ctx_name) {
			rc = fail(err, GV_EINVAL, set.desc, NULL,
				  "no current-context");
			goto out;
		}
	}

	rc = set_find(&set, "contexts", "context", ctx_name, &ctx, &cf, err);
	if (rc == GV_ENOTFOUND) {
		if (ctx_path)
			fail(err, GV_EINVAL, ctx_path, NULL,
			     "current-context \"%s\" is not defined", ctx_name);
		else
			fail(err, GV_EINVAL, set.desc, NULL,
			     "context \"%s\" is not defined", ctx_name);
		rc = GV_EINVAL;
	}
	if (rc != GV_OK)
		goto out;
	w.path = cf->path;
	snprintf(w.entry, sizeof(w.entry), "context \"%s\"", ctx_name);
	rc = get_str(ctx, "cluster", &w, &cluster_name, err);
	if (rc == GV_OK)
		rc = get_str(ctx, "user", &w, &user_name, err);
	if (rc == GV_OK)
		rc = get_str(ctx, "namespace", &w, &ns, err);
	if (rc != GV_OK)
		goto out;
	if (!cluster_name) {
		rc = fail(err, GV_EINVAL, w.path, w.entry, "names no cluster");
		goto out;
	}

	rc = set_find(&set, "clusters", "cluster", cluster_name, &body, &bf,
		      err);
	if (rc == GV_ENOTFOUND)
		rc = fail(err, GV_EINVAL, cf->path, NULL,
			  "context \"%s\" names cluster \"%s\", which is not "
			  "defined",
			  ctx_name, cluster_name);
	if (rc != GV_OK)
		goto out;
	w.path = bf->path;
	snprintf(w.entry, sizeof(w.entry), "cluster \"%s\"", cluster_name);
	rc = parse_cluster(body, &w, &tmp, err);
	if (rc != GV_OK)
		goto out;

	if (user_name) {
		rc =
		    set_find(&set, "users", "user", user_name, &body, &bf, err);
		if (rc == GV_ENOTFOUND)
			rc = fail(err, GV_EINVAL, cf->path, NULL,
				  "context \"%s\" names user \"%s\", which is "
				  "not defined",
				  ctx_name, user_name);
		if (rc != GV_OK)
			goto out;
		w.path = bf->path;
		snprintf(w.entry, sizeof(w.entry), "user \"%s\"", user_name);
		rc = parse_user(body, &w, &tmp, err);
		if (rc != GV_OK)
			goto out;
	}

	tmp.namespace = strdup(ns ? ns : "default");
	tmp.context = strdup(ctx_name);
	if (!tmp.namespace || !tmp.context) {
		rc = gv_error_set(err, GV_ENOMEM, NULL, 0, 0, "out of memory");
		goto out;
	}
	kube_config_release(c);
	*c = tmp;
	tmp = (kube_config)KUBE_CONFIG_INIT;
out:
	kube_config_release(&tmp);
	set_release(&set);
	free(home_path);
	return rc;
}

/* ---------------------------------------------------------------------
 * In a cluster
 * ------------------------------------------------------------------- */

static bool is_port(const char *s)
{
	unsigned long v = 0;
	size_t i = 0;

	for (i = 0; s[i]; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= 5)
			return false;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	return i > 0 && v >= 1 && v <= 65535;
}

int kube_config_in_cluster(kube_config *c, const char *root, gv_error_t *err)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	kube_config tmp = KUBE_CONFIG_INIT;
	char *path = NULL;
	char *data = NULL;
	char *token = NULL;
	size_t len = 0;
	gv_read_opts sa_ca = { .what = "service account CA" };
	gv_read_opts sa_ns = { .what = "service account namespace" };
	gv_error_t rerr = GV_ERROR_INIT;
	int rc = GV_OK;

	if (!root)
		root = "";
	if (!host || !host[0] || !port || !port[0]) {
		rc = gv_error_set(err, GV_ENOTFOUND, NULL, 0, 0,
				  "not in a cluster: KUBERNETES_SERVICE_HOST "
				  "and KUBERNETES_SERVICE_PORT are not set");
		goto out;
	}
	if (!is_port(port)) {
		rc = gv_error_set(err, GV_EINVAL, NULL, 0, 0,
				  "KUBERNETES_SERVICE_PORT '%s' is not a port "
				  "number",
				  port);
		goto out;
	}
	if (has_control(host, strlen(host)) || strpbrk(host, " /[]@?#")) {
		rc = gv_error_set(err, GV_EINVAL, NULL, 0, 0,
				  "KUBERNETES_SERVICE_HOST '%s' is not a host",
				  host);
		goto out;
	}
	if (strchr(host, ':'))
		tmp.server = xprintf("https://[%s]:%s", host, port);
	else
		tmp.server = xprintf("https://%s:%s", host, port);
	if (!tmp.server) {
		rc = gv_error_set(err, GV_ENOMEM, NULL, 0, 0, "out of memory");
		goto out;
	}

	tmp.token_file = xprintf("%s" KUBE_SA_DIR "/token", root);
	path = xprintf("%s" KUBE_SA_DIR "/ca.crt", root);
	if (!tmp.token_file || !path) {
		rc = gv_error_set(err, GV_ENOMEM, NULL, 0, 0, "out of memory");
		goto out;
	}
	rc = read_token(tmp.token_file, &token, err);
	if (rc != GV_OK)
		goto out;
	rc = gv_read_file(path, KUBE_CONFIG_FILE_MAX, &sa_ca, &tmp.ca_pem, &len,
			  err);
	if (rc != GV_OK) {
		rc = rc == GV_ENOTFOUND ? GV_EIO
					: rc; /* ENOTFOUND: no cluster */
		goto out;
	}
	free(path);
	path = xprintf("%s" KUBE_SA_DIR "/namespace", root);
	if (!path) {
		rc = gv_error_set(err, GV_ENOMEM, NULL, 0, 0, "out of memory");
		goto out;
	}
	rc = gv_read_file(path, KUBE_CONFIG_FILE_MAX, &sa_ns, &data, &len,
			  &rerr);
	if (rc == GV_ENOTFOUND) {
		rc = GV_OK;
	} else if (rc != GV_OK) {
		if (err)
			*err = rerr;
		goto out;
	}
	while (data && len > 0 &&
	       (data[len - 1] == '\n' || data[len - 1] == '\r' ||
		data[len - 1] == ' ' || data[len - 1] == '\t'))
		data[--len] = '\0';
	if (data && has_control(data, len)) {
		rc = gv_error_set(err, GV_EINVAL, path, 0, 0,
				  "service account namespace '%s' holds a "
				  "control character",
				  path);
		goto out;
	}
	tmp.namespace = strdup(data && data[0] ? data : "default");
	tmp.context = strdup("");
	if (!tmp.namespace || !tmp.context) {
		rc = gv_error_set(err, GV_ENOMEM, NULL, 0, 0, "out of memory");
		goto out;
	}
	kube_config_release(c);
	*c = tmp;
	tmp = (kube_config)KUBE_CONFIG_INIT;
out:
	kube_config_release(&tmp);
	free(path);
	free(data);
	free(token);
	return rc;
}

int kube_config_token(const kube_config *c, char *buf, size_t size,
		      gv_error_t *err)
{
	char *fresh = NULL;
	const char *token = "";
	size_t len = 0;
	int rc = GV_OK;

	if (c->token_file) {
		rc = read_token(c->token_file, &fresh, err);
		if (rc != GV_OK)
			goto out;
		token = fresh;
	} else if (c->token) {
		token = c->token;
	}
	len = strlen(token);
	if (len >= size) {
		rc = gv_error_set(err, GV_ETOOBIG, c->token_file, 0, 0,
				  "bearer token of %zu bytes does not fit in "
				  "%zu",
				  len, size);
		goto out;
	}
	memcpy(buf, token, len + 1);
out:
	free(fresh);
	return rc;
}
