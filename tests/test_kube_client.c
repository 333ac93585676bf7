/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_kube_client.c: the kube REST client against a fake API server.
 *
 * The fake is a tiny HTTP/1.1 server on raw sockets and one thread (the
 * srv_http layer only routes GET and JSON POST): it answers one request
 * per connection from a script of canned responses and records what it
 * was sent.
 */
#include "test_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include "groved/kube.h"

/* ---------------------------------------------------------------------
 * The fake API server
 * ------------------------------------------------------------------- */

#define FK_MAX_REQ 32
#define FK_MAX_RESP 8
#define FK_BUF 65536

typedef struct fk_resp {
	int status;
	const char *retry_after; /* NULL: none */
	const char *body; /* NULL: "{}" */
} fk_resp;

typedef struct fk_req {
	char method[16];
	char target[1024];
	char ctype[128];
	char accept[128];
	char auth[256];
	char host[256];
	char ua[128];
	char body[4096];
} fk_req;

typedef struct fake {
	int lfd;
	unsigned port;
	pthread_t th;
	atomic_bool stop;
	pthread_mutex_t lock;
	fk_resp resp[FK_MAX_RESP];
	size_t n_resp;
	size_t next_resp;
	fk_req req[FK_MAX_REQ];
	size_t n_req;
} fake;

static void fk_header(const char *line, size_t len, const char *name, char *dst,
		      size_t size)
{
	size_t n = strlen(name);

	if (len <= n || strncasecmp(line, name, n) != 0)
		return;
	line += n;
	len -= n;
	while (len > 0 && *line == ' ') {
		line++;
		len--;
	}
	snprintf(dst, size, "%.*s", (int)len, line);
}

static void fk_serve_one(fake *f, int fd)
{
	static char buf[FK_BUF];
	fk_req rq;
	fk_resp rs = { 200, NULL, NULL };
	char head[512];
	size_t got = 0;
	char *end = NULL;
	char *p = NULL;
	long clen = 0;
	ssize_t n = 0;
	size_t hlen = 0;
	size_t blen = 0;

	memset(&rq, 0, sizeof(rq));
	while (got < sizeof(buf) - 1) {
		n = recv(fd, buf + got, sizeof(buf) - 1 - got, 0);
		if (n <= 0)
			return;
		got += (size_t)n;
		buf[got] = '\0';
		end = strstr(buf, "\r\n\r\n");
		if (end)
			break;
	}
	if (!end)
		return;
	hlen = (size_t)(end - buf) + 4;
	if (sscanf(buf, "%15s %1023s", rq.method, rq.target) != 2)
		return;
	for (p = strstr(buf, "\r\n") + 2; p < end;) {
		char *eol = strstr(p, "\r\n");
		size_t len = (size_t)(eol - p);
		char cl[32] = "";

		fk_header(p, len, "content-type:", rq.ctype, sizeof(rq.ctype));
		fk_header(p, len, "accept:", rq.accept, sizeof(rq.accept));
		fk_header(p, len, "authorization:", rq.auth, sizeof(rq.auth));
		fk_header(p, len, "host:", rq.host, sizeof(rq.host));
		fk_header(p, len, "user-agent:", rq.ua, sizeof(rq.ua));
		fk_header(p, len, "content-length:", cl, sizeof(cl));
		if (cl[0])
			clen = strtol(cl, NULL, 10);
		p = eol + 2;
	}
	if (clen < 0 || (size_t)clen > sizeof(buf) - 1 - hlen)
		return;
	while (got < hlen + (size_t)clen) {
		n = recv(fd, buf + got, hlen + (size_t)clen - got, 0);
		if (n <= 0)
			return;
		got += (size_t)n;
	}
	blen = (size_t)clen < sizeof(rq.body) - 1 ? (size_t)clen
						  : sizeof(rq.body) - 1;
	memcpy(rq.body, buf + hlen, blen);

	pthread_mutex_lock(&f->lock);
	if (f->n_req < FK_MAX_REQ)
		f->req[f->n_req++] = rq;
	if (f->n_resp > 0) {
		rs = f->resp[f->next_resp];
		if (f->next_resp + 1 < f->n_resp)
			f->next_resp++;
	}
	pthread_mutex_unlock(&f->lock);

	if (!rs.body)
		rs.body = "{}";
	snprintf(
	    head, sizeof(head),
	    "HTTP/1.1 %d Fake\r\nContent-Type: application/json\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n%s%s%s\r\n",
	    rs.status, strlen(rs.body), rs.retry_after ? "Retry-After: " : "",
	    rs.retry_after ? rs.retry_after : "", rs.retry_after ? "\r\n" : "");
	if (send(fd, head, strlen(head), MSG_NOSIGNAL) < 0)
		return;
	send(fd, rs.body, strlen(rs.body), MSG_NOSIGNAL);
}

static void *fk_main(void *arg)
{
	fake *f = arg;
	struct timeval tv = { .tv_sec = 5 };

	while (!atomic_load(&f->stop)) {
		struct pollfd pfd = { .fd = f->lfd, .events = POLLIN };
		int fd = -1;

		if (poll(&pfd, 1, 50) <= 0)
			continue;
		fd = accept(f->lfd, NULL, NULL);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		fk_serve_one(f, fd);
		shutdown(fd, SHUT_WR);
		close(fd);
	}
	return NULL;
}

/* A port with nothing listening (bound, then closed). */
static unsigned fk_closed_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	close(fd);
	return ntohs(sa.sin_port);
}

static fake *fk_start(void)
{
	fake *f = calloc(1, sizeof(*f));
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	int one = 1;

	assert_non_null(f);
	f->lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(f->lfd >= 0);
	setsockopt(f->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(f->lfd, 16), 0);
	assert_int_equal(getsockname(f->lfd, (struct sockaddr *)&sa, &sl), 0);
	f->port = ntohs(sa.sin_port);
	pthread_mutex_init(&f->lock, NULL);
	atomic_init(&f->stop, false);
	assert_int_equal(pthread_create(&f->th, NULL, fk_main, f), 0);
	return f;
}

static void fk_stop(fake *f)
{
	atomic_store(&f->stop, true);
	pthread_join(f->th, NULL);
	close(f->lfd);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

/* Replaces the script and forgets the recorded requests. */
static void fk_script(fake *f, const fk_resp *r, size_t n)
{
	pthread_mutex_lock(&f->lock);
	memcpy(f->resp, r, n * sizeof(*r));
	f->n_resp = n;
	f->next_resp = 0;
	f->n_req = 0;
	pthread_mutex_unlock(&f->lock);
}

static size_t fk_count(fake *f)
{
	size_t n = 0;

	pthread_mutex_lock(&f->lock);
	n = f->n_req;
	pthread_mutex_unlock(&f->lock);
	return n;
}

/* ---------------------------------------------------------------------
 * Fixture
 * ------------------------------------------------------------------- */

typedef struct fixture {
	fake *f;
	kube_client c;
	char url[64];
} fixture;

static void fx_client(fixture *x, kube_client_opts o)
{
	gv_error_t err = GV_ERROR_INIT;

	if (!o.server)
		o.server = x->url;
	if (!o.backoff_base_ms)
		o.backoff_base_ms = 1;
	if (!o.backoff_cap_ms)
		o.backoff_cap_ms = 5;
	if (!o.qps)
		o.qps = -1;
	if (kube_client_init(&x->c, &o, &err) != GV_OK)
		fail_msg("kube_client_init: %s", err.text);
}

static char token_secret[] = "secret";

static int setup(void **state)
{
	fixture *x = calloc(1, sizeof(*x));

	assert_non_null(x);
	x->f = fk_start();
	snprintf(x->url, sizeof(x->url), "http://127.0.0.1:%u/", x->f->port);
	fx_client(x, (kube_client_opts){ .token = kube_token_static,
					 .token_ctx = token_secret });
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	fixture *x = *state;

	kube_client_release(&x->c);
	fk_stop(x->f);
	free(x);
	return 0;
}

static const kube_gvr gvr_pods = { "", "v1", "pods", true };
static const kube_gvr gvr_nodes = { "", "v1", "nodes", false };
static const kube_gvr gvr_deploy = { "apps", "v1", "deployments", true };
static const kube_gvr gvr_crd = { "apiextensions.k8s.io", "v1",
				  "customresourcedefinitions", false };

static double now_s(void)
{
	return (double)gv_now_ns() / 1e9;
}

/* ---------------------------------------------------------------------
 * Paths
 * ------------------------------------------------------------------- */

static void test_path_table(void **state)
{
	static const kube_query q = {
		.label_selector = "app=web,tier in (a,b)",
		.field_selector = "spec.nodeName=n 1",
		.limit = 5,
		.continue_token = "tok+1/=",
		.resource_version = "42",
	};
	static const kube_query qdel = { .propagation_policy = "Foreground" };
	static const struct {
		const kube_gvr *gvr;
		const char *ns, *name, *sub;
		const kube_query *q;
		const char *want; /* NULL: GV_EINVAL */
	} cases[] = {
		{ &gvr_pods, "x", "y", NULL, NULL,
		  "/api/v1/namespaces/x/pods/y" },
		{ &gvr_pods, "x", NULL, NULL, NULL,
		  "/api/v1/namespaces/x/pods" },
		{ &gvr_pods, NULL, NULL, NULL, NULL, "/api/v1/pods" },
		{ &gvr_nodes, NULL, "n1", NULL, NULL, "/api/v1/nodes/n1" },
		{ &gvr_nodes, "ignored", "n1", "status", NULL,
		  "/api/v1/nodes/n1/status" },
		{ &gvr_deploy, "x", "d", NULL, NULL,
		  "/apis/apps/v1/namespaces/x/deployments/d" },
		{ &gvr_deploy, "x", "d", "status", NULL,
		  "/apis/apps/v1/namespaces/x/deployments/d/status" },
		{ &gvr_deploy, "x", "d", "scale", NULL,
		  "/apis/apps/v1/namespaces/x/deployments/d/scale" },
		{ &gvr_crd, NULL, "a.b.io", NULL, NULL,
		  "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/"
		  "a.b.io" },
		{ &gvr_pods, "x y", "a b/c?", NULL, NULL,
		  "/api/v1/namespaces/x%20y/pods/a%20b%2Fc%3F" },
		{ &gvr_pods, "x", NULL, NULL, &q,
		  "/api/v1/namespaces/x/pods"
		  "?labelSelector=app%3Dweb%2Ctier%20in%20%28a%2Cb%29"
		  "&fieldSelector=spec.nodeName%3Dn%201&limit=5"
		  "&continue=tok%2B1%2F%3D&resourceVersion=42" },
		{ &gvr_pods, "x", "y", NULL, &qdel,
		  "/api/v1/namespaces/x/pods/y?propagationPolicy=Foreground" },
		{ &gvr_pods, NULL, "y", NULL, NULL, NULL },
		{ &gvr_pods, "x", NULL, "status", NULL, NULL },
		{ &gvr_pods, "x", "", NULL, NULL, NULL },
		{ &gvr_pods, "", "y", NULL, NULL, NULL },
	};
	size_t i = 0;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		gv_error_t err = GV_ERROR_INIT;
		char *path = NULL;
		int rc = kube_url_path(cases[i].gvr, cases[i].ns, cases[i].name,
				       cases[i].sub, cases[i].q, &path, &err);

		if (!cases[i].want) {
			assert_int_equal(rc, GV_EINVAL);
			assert_null(path);
			assert_true(err.text[0] != '\0');
			continue;
		}
		if (rc != GV_OK)
			fail_msg("case %zu: %s", i, err.text);
		assert_string_equal(path, cases[i].want);
		free(path);
	}
}

/* ---------------------------------------------------------------------
 * Verbs
 * ------------------------------------------------------------------- */

enum verb {
	V_GET,
	V_GET_SCALE,
	V_CREATE,
	V_UPDATE,
	V_UPDATE_STATUS,
	V_PATCH_MERGE,
	V_PATCH_JSON,
	V_DELETE,
	V_DELETE_OPTS,
};

static void test_verb_table(void **state)
{
	static const struct {
		enum verb v;
		const char *method, *target, *ctype;
		const char *body; /* substring; "" for an empty body */
	} cases[] = {
		{ V_GET, "GET", "/api/v1/namespaces/x/pods/y", "", "" },
		{ V_GET_SCALE, "GET",
		  "/apis/apps/v1/namespaces/x/deployments/d/scale", "", "" },
		{ V_CREATE, "POST", "/api/v1/namespaces/x/pods",
		  "application/json", "\"name\":\"y\"" },
		{ V_UPDATE, "PUT", "/api/v1/namespaces/x/pods/y",
		  "application/json", "\"resourceVersion\":\"7\"" },
		{ V_UPDATE_STATUS, "PUT",
		  "/apis/apps/v1/namespaces/x/deployments/y/status",
		  "application/json", "\"status\":{\"replicas\":2}" },
		{ V_PATCH_MERGE, "PATCH", "/api/v1/namespaces/x/pods/y",
		  "application/merge-patch+json",
		  "{\"metadata\":{\"labels\":{\"a\":\"b\"}}}" },
		{ V_PATCH_JSON, "PATCH",
		  "/apis/apps/v1/namespaces/x/deployments/d/scale",
		  "application/json-patch+json",
		  "[{\"op\":\"replace\",\"path\":\"/spec/replicas\","
		  "\"value\":3}]" },
		{ V_DELETE, "DELETE", "/api/v1/namespaces/x/pods/y", "", "" },
		{ V_DELETE_OPTS, "DELETE", "/api/v1/namespaces/x/pods/y",
		  "application/json", "\"propagationPolicy\":\"Foreground\"" },
	};
	fixture *x = *state;
	json_t *obj = tu_doc("{\"apiVersion\":\"v1\",\"kind\":\"Pod\","
			     "\"metadata\":{\"name\":\"y\",\"namespace\":"
			     "\"x\",\"resourceVersion\":\"7\"}}");
	json_t *st = tu_doc("{\"metadata\":{\"name\":\"y\",\"namespace\":"
			    "\"x\"},\"status\":{\"replicas\":2}}");
	json_t *merge = tu_doc("{\"metadata\":{\"labels\":{\"a\":\"b\"}}}");
	json_t *jp = tu_doc("[{\"op\":\"replace\",\"path\":"
			    "\"/spec/replicas\",\"value\":3}]");
	kube_delete_opts dopts = { .propagation_policy = "Foreground",
				   .precondition_uid = "u-1" };
	fk_resp ok = { 200, NULL,
		       "{\"kind\":\"Pod\",\"metadata\":"
		       "{\"name\":\"y\"}}" };
	size_t i = 0;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		gv_error_t err = GV_ERROR_INIT;
		kube_result res;
		json_t *out = NULL;
		int rc = -1;
		fk_req rq;

		fk_script(x->f, &ok, 1);
		switch (cases[i].v) {
		case V_GET:
			rc = kube_get(&x->c, &gvr_pods, "x", "y", NULL, &out,
				      &res, &err);
			break;
		case V_GET_SCALE:
			rc = kube_get(&x->c, &gvr_deploy, "x", "d", "scale",
				      &out, &res, &err);
			break;
		case V_CREATE:
			rc = kube_create(&x->c, &gvr_pods, NULL, obj, &out,
					 &res, &err);
			break;
		case V_UPDATE:
			rc = kube_update(&x->c, &gvr_pods, NULL, NULL, obj,
					 &out, &res, &err);
			break;
		case V_UPDATE_STATUS:
			rc = kube_update(&x->c, &gvr_deploy, "x", "status", st,
					 &out, &res, &err);
			break;
		case V_PATCH_MERGE:
			rc = kube_patch(&x->c, &gvr_pods, "x", "y", NULL,
					KUBE_PATCH_MERGE, merge, &out, &res,
					&err);
			break;
		case V_PATCH_JSON:
			rc = kube_patch(&x->c, &gvr_deploy, "x", "d", "scale",
					KUBE_PATCH_JSON, jp, &out, &res, &err);
			break;
		case V_DELETE:
			rc = kube_delete(&x->c, &gvr_pods, "x", "y", NULL, &out,
					 &res, &err);
			break;
		case V_DELETE_OPTS:
			rc = kube_delete(&x->c, &gvr_pods, "x", "y", &dopts,
					 &out, &res, &err);
			break;
		}
		if (rc != GV_OK)
			fail_msg("case %zu: %s", i, err.text);
		assert_int_equal(res.status, 200);
		assert_int_equal(res.kind, KUBE_ERR_NONE);
		assert_int_equal(res.attempts, 1);
		assert_string_equal(
		    json_string_value(json_object_get(out, "kind")), "Pod");
		json_decref(out);

		assert_int_equal(fk_count(x->f), 1);
		rq = x->f->req[0];
		assert_string_equal(rq.method, cases[i].method);
		assert_string_equal(rq.target, cases[i].target);
		assert_string_equal(rq.ctype, cases[i].ctype);
		assert_string_equal(rq.accept, "application/json");
		assert_string_equal(rq.auth, "Bearer secret");
		assert_string_equal(rq.ua, "groved/" GROVED_VERSION);
		if (!cases[i].body[0])
			assert_string_equal(rq.body, "");
		else if (!strstr(rq.body, cases[i].body))
			fail_msg("case %zu: body %s lacks %s", i, rq.body,
				 cases[i].body);
		if (cases[i].v == V_DELETE_OPTS)
			assert_non_null(strstr(rq.body, "\"preconditions\":"
							"{\"uid\":\"u-1\"}"));
	}
	json_decref(obj);
	json_decref(st);
	json_decref(merge);
	json_decref(jp);
}

static void test_list_page(void **state)
{
	fixture *x = *state;
	fk_resp r = { 200, NULL,
		      "{\"kind\":\"PodList\",\"metadata\":{\"resourceVersion\":"
		      "\"99\",\"continue\":\"next\"},\"items\":[{\"metadata\":"
		      "{\"name\":\"a\"}},{\"metadata\":{\"name\":\"b\"}}]}" };
	fk_resp last = { 200, NULL,
			 "{\"kind\":\"PodList\",\"metadata\":"
			 "{\"resourceVersion\":\"100\"},\"items\":[]}" };
	kube_query q = { .limit = 2, .label_selector = "app=web" };
	kube_list_page page = KUBE_LIST_PAGE_INIT;
	gv_error_t err = GV_ERROR_INIT;
	kube_result res;

	fk_script(x->f, &r, 1);
	assert_int_equal(
	    kube_list(&x->c, &gvr_pods, "x", &q, &page, &res, &err), GV_OK);
	assert_int_equal(json_array_size(page.items), 2);
	assert_string_equal(page.continue_token, "next");
	assert_string_equal(page.resource_version, "99");
	assert_string_equal(x->f->req[0].target,
			    "/api/v1/namespaces/x/pods"
			    "?labelSelector=app%3Dweb&limit=2");
	kube_list_page_release(&page);

	fk_script(x->f, &last, 1);
	q.continue_token = "next";
	assert_int_equal(
	    kube_list(&x->c, &gvr_pods, NULL, &q, &page, &res, &err), GV_OK);
	assert_int_equal(json_array_size(page.items), 0);
	assert_null(page.continue_token);
	assert_string_equal(page.resource_version, "100");
	assert_string_equal(x->f->req[0].target,
			    "/api/v1/pods?labelSelector=app%3Dweb&limit=2"
			    "&continue=next");
	kube_list_page_release(&page);
}

/* ---------------------------------------------------------------------
 * Errors
 * ------------------------------------------------------------------- */

#define STATUS(code, reason, msg)                                        \
	"{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":"         \
	"\"Failure\",\"message\":\"" msg "\",\"reason\":\"" reason "\"," \
	"\"code\":" #code "}"

static void test_error_table(void **state)
{
	static const struct {
		int status;
		const char *body;
		kube_err kind;
		int rc;
		const char *reason;
		const char *text;
	} cases[] = {
		{ 404, STATUS(404, "NotFound", "pods \\\"y\\\" not found"),
		  KUBE_ERR_NOT_FOUND, GV_ENOTFOUND, "NotFound",
		  "GET /api/v1/namespaces/x/pods/y: not found: pods \"y\" not "
		  "found" },
		{ 409,
		  STATUS(409, "AlreadyExists", "pods \\\"y\\\" already exists"),
		  KUBE_ERR_ALREADY_EXISTS, GV_EEXIST, "AlreadyExists",
		  "GET /api/v1/namespaces/x/pods/y: already exists: pods \"y\" "
		  "already exists" },
		{ 409,
		  STATUS(409, "Conflict",
			 "the object has been modified; please apply your "
			 "changes to the latest version and try again"),
		  KUBE_ERR_CONFLICT, GV_ECONFLICT, "Conflict",
		  "GET /api/v1/namespaces/x/pods/y: conflict: the object has "
		  "been modified; please apply your changes to the latest "
		  "version and try again" },
		{ 410,
		  STATUS(410, "Expired", "too old resource version: 1 (5)"),
		  KUBE_ERR_GONE, GV_EIO, "Expired",
		  "GET /api/v1/namespaces/x/pods/y: gone: too old resource "
		  "version: 1 (5)" },
		{ 422,
		  STATUS(422, "Invalid",
			 "Pod \\\"y\\\" is invalid: spec.containers: Required "
			 "value"),
		  KUBE_ERR_INVALID, GV_EIO, "Invalid",
		  "GET /api/v1/namespaces/x/pods/y: invalid: Pod \"y\" is "
		  "invalid: spec.containers: Required value" },
		{ 403,
		  STATUS(403, "Forbidden",
			 "pods \\\"y\\\" is forbidden: User \\\"u\\\" cannot "
			 "get resource"),
		  KUBE_ERR_FORBIDDEN, GV_EIO, "Forbidden",
		  "GET /api/v1/namespaces/x/pods/y: forbidden: pods \"y\" is "
		  "forbidden: User \"u\" cannot get resource" },
		{ 401, STATUS(401, "Unauthorized", "Unauthorized"),
		  KUBE_ERR_UNAUTHORIZED, GV_EIO, "Unauthorized",
		  "GET /api/v1/namespaces/x/pods/y: unauthorized: "
		  "Unauthorized" },
		{ 400, "not json", KUBE_ERR_BAD_REQUEST, GV_EIO, "",
		  "GET /api/v1/namespaces/x/pods/y: bad request: HTTP status "
		  "400" },
		{ 200, "[1]", KUBE_ERR_PROTOCOL, GV_EPARSE, "",
		  "GET /api/v1/namespaces/x/pods/y: malformed response: not a "
		  "JSON object" },
	};
	fixture *x = *state;
	size_t i = 0;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fk_resp r = { cases[i].status, NULL, cases[i].body };
		gv_error_t err = GV_ERROR_INIT;
		kube_result res;
		json_t *out = NULL;
		int rc = 0;

		fk_script(x->f, &r, 1);
		rc = kube_get(&x->c, &gvr_pods, "x", "y", NULL, &out, &res,
			      &err);
		assert_int_equal(rc, cases[i].rc);
		assert_null(out);
		assert_int_equal(res.status, cases[i].status);
		assert_int_equal(res.kind, cases[i].kind);
		assert_int_equal(res.attempts, 1);
		assert_string_equal(res.reason, cases[i].reason);
		assert_string_equal(err.text, cases[i].text);
	}
	assert_string_equal(kube_strerror(KUBE_ERR_GONE), "gone");
	assert_string_equal(kube_strerror(-1), "unknown error");
	assert_string_equal(kube_strerror(KUBE_ERR_COUNT), "unknown error");
}

static void test_retry_after_429(void **state)
{
	fixture *x = *state;
	fk_resp r[] = {
		{ 429, "1", STATUS(429, "TooManyRequests", "slow down") },
		{ 200, NULL, "{\"kind\":\"Pod\"}" },
	};
	gv_error_t err = GV_ERROR_INIT;
	kube_result res;
	json_t *out = NULL;
	json_t *obj = tu_doc("{\"metadata\":{\"name\":\"y\"}}");
	double t0 = now_s();

	fk_script(x->f, r, 2);
	assert_int_equal(
	    kube_get(&x->c, &gvr_pods, "x", "y", NULL, &out, &res, &err),
	    GV_OK);
	assert_true(now_s() - t0 >= 0.9);
	assert_int_equal(res.attempts, 2);
	assert_int_equal(res.status, 200);
	assert_int_equal(fk_count(x->f), 2);
	json_decref(out);

	/* 429 is retried on POST too: the server did not process it. */
	r[0].retry_after = "0";
	fk_script(x->f, r, 2);
	assert_int_equal(
	    kube_create(&x->c, &gvr_pods, "x", obj, &out, &res, &err), GV_OK);
	assert_int_equal(res.attempts, 2);
	assert_int_equal(fk_count(x->f), 2);
	json_decref(out);
	json_decref(obj);
}

static void test_server_errors(void **state)
{
	fixture *x = *state;
	fk_resp r500 = { 500, NULL, STATUS(500, "InternalError", "boom") };
	fk_resp r501 = { 501, NULL, STATUS(501, "NotImplemented", "no") };
	fk_resp r503 = { 503, NULL, STATUS(503, "ServiceUnavailable", "") };
	json_t *obj = tu_doc("{\"metadata\":{\"name\":\"y\"}}");
	gv_error_t err = GV_ERROR_INIT;
	kube_result res;
	json_t *out = NULL;

	kube_client_release(&x->c);
	fx_client(x, (kube_client_opts){ .max_attempts = 3 });

	fk_script(x->f, &r500, 1);
	assert_int_equal(
	    kube_get(&x->c, &gvr_pods, "x", "y", NULL, &out, &res, &err),
	    GV_EIO);
	assert_int_equal(res.kind, KUBE_ERR_SERVER);
	assert_int_equal(res.attempts, 3);
	assert_int_equal(fk_count(x->f), 3);
	assert_string_equal(err.text, "GET /api/v1/namespaces/x/pods/y: "
				      "server error: boom");

	fk_script(x->f, &r501, 1);
	assert_int_equal(
	    kube_get(&x->c, &gvr_pods, "x", "y", NULL, &out, &res, &err),
	    GV_EIO);
	assert_int_equal(res.kind, KUBE_ERR_SERVER);
	assert_int_equal(res.attempts, 1);

	/* Not idempotent: a POST that reached the server is not resent. */
	fk_script(x->f, &r503, 1);
	assert_int_equal(
	    kube_create(&x->c, &gvr_pods, "x", obj, &out, &res, &err), GV_EIO);
	assert_int_equal(res.attempts, 1);
	assert_int_equal(fk_count(x->f), 1);
	assert_string_equal(err.text, "POST /api/v1/namespaces/x/pods: server "
				      "error: HTTP status 503");
	json_decref(obj);
}

static void test_transport_error(void **state)
{
	fixture *x = *state;
	kube_client c;
	char url[64];
	char want[128];
	gv_error_t err = GV_ERROR_INIT;
	kube_result res;
	json_t *out = NULL;
	json_t *obj = tu_doc("{\"metadata\":{\"name\":\"y\"}}");
	unsigned port = fk_closed_port();

	(void)x;
	snprintf(url, sizeof(url), "http://127.0.0.1:%u", port);
	assert_int_equal(kube_client_init(&c,
					  &(kube_client_opts){
					      .server = url,
					      .max_attempts = 2,
					      .backoff_base_ms = 1,
					      .backoff_cap_ms = 2,
					  },
					  &err),
			 GV_OK);
	assert_int_equal(
	    kube_get(&c, &gvr_pods, "x", "y", NULL, &out, &res, &err), GV_EIO);
	assert_null(out);
	assert_int_equal(res.kind, KUBE_ERR_TRANSPORT);
	assert_int_equal(res.status, 0);
	assert_int_equal(res.attempts, 2);
	snprintf(want, sizeof(want),
		 "GET http://127.0.0.1:%u/api/v1/namespaces/x/pods/y: "
		 "transport error: Couldn't connect to server (curl 7)",
		 port);
	if (strncmp(err.text, want, strlen(want)) != 0)
		fail_msg("got '%s', want '%s...'", err.text, want);

	/* A POST whose connection failed was never sent: retried. */
	assert_int_equal(kube_create(&c, &gvr_pods, "x", obj, &out, &res, &err),
			 GV_EIO);
	assert_int_equal(res.attempts, 2);
	kube_client_release(&c);
	json_decref(obj);
}

/* What the client's error callback was told, in order. */
typedef struct err_log {
	unsigned n;
	char what[8][64];
	char text[8][GV_ERROR_TEXT_MAX]; /* "" for "works again" */
} err_log;

static void record_error(void *ctx, const char *what, const gv_error_t *err)
{
	err_log *l = ctx;

	if (l->n >= 8)
		fail_msg("more than 8 reports");
	snprintf(l->what[l->n], sizeof(l->what[0]), "%s", what);
	snprintf(l->text[l->n], sizeof(l->text[0]), "%s", err ? err->text : "");
	l->n++;
}

/* The client reports what is the whole client's (5xx after retries, an
 * unreachable server), with the API server's words and the HTTP status,
 * then that it answers again; an answer about one object is no report. */
static void test_error_callback(void **state)
{
	fixture *x = *state;
	fk_resp r403 = { 403, NULL,
			 STATUS(403, "Forbidden",
				"pods \\\"y\\\" is forbidden: User \\\"u\\\" "
				"cannot get resource") };
	fk_resp r500 = { 500, NULL, STATUS(500, "InternalError", "etcd down") };
	fk_resp r200 = { 200, NULL, "{\"kind\":\"Pod\"}" };
	err_log l;
	kube_client c;
	char url[64];
	char want[160];
	gv_error_t err = GV_ERROR_INIT;
	kube_result res;
	json_t *out = NULL;

	memset(&l, 0, sizeof(l));
	kube_client_release(&x->c);
	fx_client(x, (kube_client_opts){ .max_attempts = 2 });
	kube_client_on_error(&x->c, record_error, &l);

	fk_script(x->f, &r403, 1);
	assert_int_equal(
	    kube_get(&x->c, &gvr_pods, "x", "y", NULL, &out, &res, &err),
	    GV_EIO);
	assert_int_equal(l.n, 0);

	fk_script(x->f, &r500, 1);
	assert_int_equal(
	    kube_get(&x->c, &gvr_pods, "x", "y", NULL, &out, &res, &err),
	    GV_EIO);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.what[0], "client");
	assert_string_equal(l.text[0], "GET /api/v1/namespaces/x/pods/y: "
				       "server error: etcd down (HTTP 500)");

	fk_script(x->f, &r200, 1);
	assert_int_equal(
	    kube_get(&x->c, &gvr_pods, "x", "y", NULL, &out, &res, &err),
	    GV_OK);
	json_decref(out);
	out = NULL;
	assert_int_equal(l.n, 2);
	assert_string_equal(l.what[1], "client");
	assert_string_equal(l.text[1], "");
	/* said once: a second success says nothing */
	fk_script(x->f, &r200, 1);
	assert_int_equal(
	    kube_get(&x->c, &gvr_pods, "x", "y", NULL, &out, &res, &err),
	    GV_OK);
	json_decref(out);
	out = NULL;
	assert_int_equal(l.n, 2);

	/* no server at all: curl's words, no HTTP status */
	snprintf(url, sizeof(url), "http://127.0.0.1:%u", fk_closed_port());
	assert_int_equal(kube_client_init(&c,
					  &(kube_client_opts){
					      .server = url,
					      .max_attempts = 1,
					  },
					  &err),
			 GV_OK);
	kube_client_on_error(&c, record_error, &l);
	assert_int_equal(
	    kube_get(&c, &gvr_pods, "x", "y", NULL, &out, &res, &err), GV_EIO);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.what[2], "client");
	snprintf(want, sizeof(want),
		 "GET %s/api/v1/namespaces/x/pods/y: transport error: "
		 "Couldn't connect to server (curl 7)",
		 url);
	if (strncmp(l.text[2], want, strlen(want)) != 0)
		fail_msg("got '%s', want '%s...'", l.text[2], want);
	assert_null(strstr(l.text[2], "(HTTP"));
	kube_client_release(&c);
}

static void test_too_big(void **state)
{
	fixture *x = *state;
	fk_resp r = { 200, NULL,
		      "{\"kind\":\"Pod\",\"data\":\"0123456789012345678901234"
		      "5678901234567890123456789\"}" };
	gv_error_t err = GV_ERROR_INIT;
	kube_result res;
	json_t *out = NULL;

	kube_client_release(&x->c);
	fx_client(x, (kube_client_opts){ .max_response = 32 });
	fk_script(x->f, &r, 1);
	assert_int_equal(
	    kube_get(&x->c, &gvr_pods, "x", "y", NULL, &out, &res, &err),
	    GV_ETOOBIG);
	assert_null(out);
	assert_int_equal(res.attempts, 1);
}

/* ---------------------------------------------------------------------
 * Token, TLS server name, options
 * ------------------------------------------------------------------- */

typedef struct rotating {
	int calls;
	char buf[32];
} rotating;

static const char *rotating_token(void *ctx)
{
	rotating *t = ctx;

	t->calls++;
	snprintf(t->buf, sizeof(t->buf), "tok%d", t->calls);
	return t->buf;
}

static void test_token_per_request(void **state)
{
	fixture *x = *state;
	rotating t = { 0 };
	fk_resp r[] = { { 503, NULL, NULL }, { 200, NULL, NULL } };
	gv_error_t err = GV_ERROR_INIT;
	kube_result res;
	json_t *out = NULL;

	kube_client_release(&x->c);
	fx_client(
	    x, (kube_client_opts){ .token = rotating_token, .token_ctx = &t });
	fk_script(x->f, r, 2);
	assert_int_equal(
	    kube_get(&x->c, &gvr_pods, "x", "y", NULL, &out, &res, &err),
	    GV_OK);
	json_decref(out);
	assert_int_equal(
	    kube_get(&x->c, &gvr_pods, "x", "y", NULL, &out, &res, &err),
	    GV_OK);
	json_decref(out);
	assert_int_equal(t.calls, 3);
	assert_int_equal(fk_count(x->f), 3);
	assert_string_equal(x->f->req[0].auth, "Bearer tok1");
	assert_string_equal(x->f->req[1].auth, "Bearer tok2");
	assert_string_equal(x->f->req[2].auth, "Bearer tok3");
}

static void test_tls_server_name(void **state)
{
	fixture *x = *state;
	gv_error_t err = GV_ERROR_INIT;
	kube_result res;
	json_t *out = NULL;

	/* The URL names api.example; CONNECT_TO sends it to 127.0.0.1. */
	kube_client_release(&x->c);
	fx_client(x, (kube_client_opts){ .tls_server_name = "api.example" });
	fk_script(x->f, &(fk_resp){ 200, NULL, NULL }, 1);
	assert_int_equal(
	    kube_get(&x->c, &gvr_nodes, NULL, "n1", NULL, &out, &res, &err),
	    GV_OK);
	json_decref(out);
	assert_non_null(strstr(x->f->req[0].host, "api.example"));
	assert_string_equal(x->f->req[0].auth, "");
}

static void *concurrent_gets(void *arg)
{
	kube_client *c = arg;
	int i = 0;

	for (i = 0; i < 10; i++) {
		gv_error_t err = GV_ERROR_INIT;
		kube_result res;
		json_t *out = NULL;

		if (kube_get(c, &gvr_pods, "x", "y", NULL, &out, &res, &err) !=
		    GV_OK)
			return err.text[0] ? (void *)1 : (void *)2;
		json_decref(out);
	}
	return NULL;
}

/* Four threads share one client (handle pool, CURLSH caches). */
static void test_concurrent(void **state)
{
	fixture *x = *state;
	pthread_t th[4];
	void *ret = NULL;
	int i = 0;

	fk_script(x->f, &(fk_resp){ 200, NULL, NULL }, 1);
	for (i = 0; i < 4; i++)
		assert_int_equal(
		    pthread_create(&th[i], NULL, concurrent_gets, &x->c), 0);
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], &ret);
		assert_null(ret);
	}
	/* 40 requests; the recorder keeps the first FK_MAX_REQ. */
	assert_int_equal(fk_count(x->f), FK_MAX_REQ);
}

static void test_init_errors(void **state)
{
	kube_client c;
	gv_error_t err = GV_ERROR_INIT;

	(void)state;
	assert_int_equal(kube_client_init(&c, &(kube_client_opts){ 0 }, &err),
			 GV_EINVAL);
	assert_string_equal(err.text, "cannot make kube client: no server");
	assert_int_equal(
	    kube_client_init(&c, &(kube_client_opts){ .server = "ftp://x" },
			     &err),
	    GV_EINVAL);
	assert_string_equal(err.text, "invalid server URL 'ftp://x'");
	kube_client_release(NULL);
}

/* ---------------------------------------------------------------------
 * Rate limit and backoff, with an injected clock
 * ------------------------------------------------------------------- */

#define MS 1000000ull

static void test_ratelimit_clock(void **state)
{
	kube_ratelimit rl;
	uint64_t wait = 0;
	int i = 0;

	(void)state;
	/* QPS 10, burst 1: 20 calls at t=0 are spread over 1.9 s. */
	kube_ratelimit_init(&rl, 10, 1, 0);
	for (i = 0; i < 20; i++) {
		wait = kube_ratelimit_reserve(&rl, 0);
		assert_true(wait + MS / 1000 >= (uint64_t)i * 100 * MS);
		assert_true(wait <= (uint64_t)i * 100 * MS + MS / 1000);
	}
	/* At 1.9 s the debt is paid; at 2.0 s one token is back, and the
	 * bucket never holds more than burst. */
	assert_int_equal(kube_ratelimit_reserve(&rl, 2000 * MS), 0);
	wait = kube_ratelimit_reserve(&rl, 2000 * MS);
	assert_true(wait >= 99 * MS && wait <= 101 * MS);
	assert_int_equal(kube_ratelimit_reserve(&rl, 60000 * MS), 0);
	wait = kube_ratelimit_reserve(&rl, 60000 * MS);
	assert_true(wait >= 99 * MS && wait <= 101 * MS);
	kube_ratelimit_release(&rl);

	/* QPS 50, burst 100: the first 100 free, the 101st waits 20 ms. */
	kube_ratelimit_init(&rl, 50, 100, 5 * MS);
	for (i = 0; i < 100; i++)
		assert_int_equal(kube_ratelimit_reserve(&rl, 5 * MS), 0);
	wait = kube_ratelimit_reserve(&rl, 5 * MS);
	assert_true(wait >= 19 * MS && wait <= 21 * MS);
	kube_ratelimit_release(&rl);

	/* No limit. */
	kube_ratelimit_init(&rl, -1, 1, 0);
	for (i = 0; i < 1000; i++)
		assert_int_equal(kube_ratelimit_reserve(&rl, 0), 0);
	kube_ratelimit_release(&rl);
}

static void test_backoff(void **state)
{
	static const uint64_t rnds[] = {
		0, 1, 99, 12345, UINT64_MAX, 0x9E3779B97F4A7C15u
	};
	unsigned attempt = 0;
	size_t i = 0;

	(void)state;
	for (attempt = 1; attempt <= 80; attempt++) {
		uint64_t ceiling =
		    attempt > 7 ? 10000 : 100ull << (attempt - 1);

		if (ceiling > 10000)
			ceiling = 10000;
		for (i = 0; i < sizeof(rnds) / sizeof(rnds[0]); i++) {
			uint64_t d =
			    kube_backoff_ms(attempt, 100, 10000, 0, rnds[i]);
			assert_true(d <= ceiling);
		}
	}
	/* Full jitter reaches the ceiling and zero. */
	assert_int_equal(kube_backoff_ms(3, 100, 10000, 0, 400), 400);
	assert_int_equal(kube_backoff_ms(3, 100, 10000, 0, 401), 0);
	/* Retry-After wins when larger, not when smaller. */
	assert_int_equal(kube_backoff_ms(1, 100, 10000, 3, 50), 3000);
	assert_int_equal(kube_backoff_ms(20, 100, 10000, 1, 9999), 9999);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_table),
		cmocka_unit_test(test_ratelimit_clock),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_init_errors),
		cmocka_unit_test_setup_teardown(test_verb_table, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_list_page, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_error_table, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_retry_after_429, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_server_errors, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_transport_error, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_too_big, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_callback, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_token_per_request, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_tls_server_name, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_concurrent, setup,
						teardown),
	};
	int rc = 0;

	/* The program's job, done once: curl's only global state. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
