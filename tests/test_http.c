/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_http.c: the HTTP layer over loopback with raw sockets, so every
 * byte and its timing is the test's: routing, methods, Content-Type, body
 * limits answered before the body, keep-alive, slow clients cut by the
 * deadline while others are served, and a stop that finishes in-flight
 * requests. Deadlines here are short and the bounds generous: these are
 * behaviour checks, not timings.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include "test_util.h"

#include "srv_http.h"

typedef struct fixture {
	srv_http *h;
	unsigned port;
} fixture;

/* Whether something accepts connections on 127.0.0.1:port. */
static bool listening(unsigned port)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool ok = false;

	if (fd < 0)
		return true; /* cannot tell: as if nothing changed */
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

static int route(void *ctx, const char *path)
{
	(void)ctx;
	if (strcmp(path, "/echo") == 0)
		return 1;
	if (strcmp(path, "/slow") == 0)
		return 2;
	return -1;
}

/* Echoes the body back with its length. On /slow it first waits (at
 * most 10 s) until the server stops listening: the request is still in
 * the handler when a stop begins, however slow the machine. */
static void handler(void *ctx, const srv_http_request *rq,
		    srv_http_response *rs)
{
	fixture *f = ctx;
	size_t cap = rq->len + 64;
	int i = 0;

	for (i = 0; rq->route == 2 && i < 500 && listening(f->port); i++) {
		struct timespec ts = { 0, 20 * 1000000L };

		nanosleep(&ts, NULL);
	}
	rs->body = malloc(cap);
	rs->len = (size_t)snprintf(rs->body, cap, "%zu:%s", rq->len, rq->body);
	rs->content_type = "text/plain";
}

static int start_on(void **state, const char *host, unsigned idle,
		    unsigned deadline)
{
	fixture *f = calloc(1, sizeof(*f));
	srv_http_opts o;
	gv_error_t err = GV_ERROR_INIT;

	memset(&o, 0, sizeof(o));
	o.host = host;
	o.port = 0;
	o.kind = SRV_HTTP_JSON_POST;
	o.threads = 2;
	o.max_connections = 64;
	o.idle_timeout = idle;
	o.request_timeout = deadline;
	o.max_body = 1024;
	o.route = route;
	o.handler = handler;
	o.ctx = f;
	if (srv_http_start(&o, &f->h, &err) != GV_OK) {
		print_error("start: %s\n", err.text);
		return -1;
	}
	f->port = srv_http_port(f->h);
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return start_on(state, "127.0.0.1", 120, 10);
}

static int setup_short(void **state)
{
	return start_on(state, "127.0.0.1", 2, 1);
}

/* ":PORT": every interface (IPv4 reached through 127.0.0.1) */
static int setup_any(void **state)
{
	return start_on(state, "", 120, 10);
}

static int teardown(void **state)
{
	fixture *f = *state;

	srv_http_stop(f->h, 1);
	free(f);
	return 0;
}

/* strcasestr is a GNU extension; headers only need ASCII folding. */
static const char *find_nocase(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay; hay++) {
		if (strncasecmp(hay, needle, n) == 0)
			return hay;
	}
	return NULL;
}

static int dial(const fixture *f)
{
	struct sockaddr_in sa;
	struct timeval tv = { 10, 0 };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)f->port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static void send_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = send(fd, s, n, MSG_NOSIGNAL);

		if (w <= 0)
			return; /* the server may have cut us: tests check */
		s += w;
		n -= (size_t)w;
	}
}

/* Reads one response (headers and Content-Length body) into buf;
 * returns its status, or -1 when the connection ends first. */
static int read_response(int fd, char *buf, size_t size)
{
	size_t used = 0;
	char *end = NULL;
	long clen = 0;
	int status = -1;

	buf[0] = '\0';
	while (used + 1 < size) {
		ssize_t r = recv(fd, buf + used, size - used - 1, 0);

		if (r <= 0)
			return -1;
		used += (size_t)r;
		buf[used] = '\0';
		end = strstr(buf, "\r\n\r\n");
		if (!end)
			continue;
		{
			const char *cl = find_nocase(buf, "Content-Length:");

			clen = cl ? strtol(cl + 15, NULL, 10) : 0;
		}
		if (used >= (size_t)(end - buf) + 4 + (size_t)clen)
			break;
	}
	if (sscanf(buf, "HTTP/1.1 %d", &status) != 1)
		return -1;
	return status;
}

static int request(const fixture *f, const char *raw, char *buf, size_t size)
{
	int fd = dial(f);
	int status = 0;

	send_all(fd, raw, strlen(raw));
	status = read_response(fd, buf, size);
	close(fd);
	return status;
}

static void test_post_json_answered(void **state)
{
	char buf[4096];

	assert_int_equal(request(*state,
				 "POST /echo?timeout=10s HTTP/1.1\r\n"
				 "Host: x\r\nContent-Type: application/json\r\n"
				 "Content-Length: 7\r\n\r\n{\"a\":1}",
				 buf, sizeof(buf)),
			 200);
	assert_non_null(strstr(buf, "\r\n\r\n7:{\"a\":1}"));
	/* parameters after the media type are fine */
	assert_int_equal(
	    request(*state,
		    "POST /echo HTTP/1.1\r\nHost: x\r\n"
		    "Content-Type: application/json; charset=utf-8\r\n"
		    "Content-Length: 2\r\n\r\n{}",
		    buf, sizeof(buf)),
	    200);
}

static void test_refusals(void **state)
{
	char buf[4096];

	assert_int_equal(request(*state,
				 "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n", buf,
				 sizeof(buf)),
			 405);
	assert_non_null(find_nocase(buf, "Allow: POST"));
	assert_int_equal(request(*state,
				 "POST /nope HTTP/1.1\r\nHost: x\r\n"
				 "Content-Type: application/json\r\n"
				 "Content-Length: 2\r\n\r\n{}",
				 buf, sizeof(buf)),
			 404);
	assert_int_equal(request(*state,
				 "POST /echo HTTP/1.1\r\nHost: x\r\n"
				 "Content-Length: 2\r\n\r\n{}",
				 buf, sizeof(buf)),
			 415);
	assert_int_equal(request(*state,
				 "POST /echo HTTP/1.1\r\nHost: x\r\n"
				 "Content-Type: text/plain\r\n"
				 "Content-Length: 2\r\n\r\n{}",
				 buf, sizeof(buf)),
			 415);
	assert_int_equal(request(*state,
				 "POST /echo HTTP/1.1\r\nHost: x\r\n"
				 "Content-Type: application/jsonx\r\n"
				 "Content-Length: 2\r\n\r\n{}",
				 buf, sizeof(buf)),
			 415);
}

static void test_too_large_answered_unread(void **state)
{
	char buf[4096];
	int fd = dial(*state);
	/* the body is never sent: the answer must come from the headers */
	const char *head = "POST /echo HTTP/1.1\r\nHost: x\r\n"
			   "Content-Type: application/json\r\n"
			   "Content-Length: 8388608\r\n\r\n";

	send_all(fd, head, strlen(head));
	assert_int_equal(read_response(fd, buf, sizeof(buf)), 413);
	close(fd);
}

static void test_too_large_chunked(void **state)
{
	char body[2200];
	char raw[2600];
	char buf[4096];
	int fd = dial(*state);
	int n = 0;

	memset(body, 'x', sizeof(body) - 1);
	body[sizeof(body) - 1] = '\0';
	n = snprintf(raw, sizeof(raw),
		     "POST /echo HTTP/1.1\r\nHost: x\r\n"
		     "Content-Type: application/json\r\n"
		     "Transfer-Encoding: chunked\r\n\r\n%zx\r\n%s\r\n0\r\n\r\n",
		     strlen(body), body);
	send_all(fd, raw, (size_t)n);
	assert_int_equal(read_response(fd, buf, sizeof(buf)), 413);
	close(fd);
}

static void test_keep_alive(void **state)
{
	const char *one = "POST /echo HTTP/1.1\r\nHost: x\r\n"
			  "Content-Type: application/json\r\n"
			  "Content-Length: 2\r\n\r\n{}";
	char buf[4096];
	int fd = dial(*state);

	send_all(fd, one, strlen(one));
	assert_int_equal(read_response(fd, buf, sizeof(buf)), 200);
	send_all(fd, one, strlen(one));
	assert_int_equal(read_response(fd, buf, sizeof(buf)), 200);
	close(fd);
}

static double now_s(void)
{
	return (double)gv_now_ns() / 1e9;
}

/* Sends s one byte every 200 ms until the server cuts the connection;
 * returns how long that took (or -1 when it never did within 20 s). */
static double trickle(const fixture *f, const char *s)
{
	int fd = dial(f);
	double t0 = now_s();
	double took = -1;
	size_t i = 0;

	for (i = 0; now_s() - t0 < 20; i = (i + 1) % strlen(s)) {
		struct timespec ts = { 0, 200 * 1000000L };
		char c = 0;

		if (send(fd, &s[i], 1, MSG_NOSIGNAL) != 1 ||
		    recv(fd, &c, 1, MSG_DONTWAIT) == 0) {
			took = now_s() - t0;
			break;
		}
		nanosleep(&ts, NULL);
	}
	close(fd);
	return took;
}

static void test_slow_body_cut_by_deadline(void **state)
{
	fixture *f = *state;
	const char *head = "POST /echo HTTP/1.1\r\nHost: x\r\n"
			   "Content-Type: application/json\r\n"
			   "Content-Length: 1000\r\n\r\n";
	char buf[4096];
	int fd = dial(f);
	double t0 = 0;
	double took = -1;

	/* headers at once, then the body a byte at a time: every byte
	 * restarts the idle timer, so only the deadline (1 s) can stop it */
	send_all(fd, head, strlen(head));
	t0 = now_s();
	while (now_s() - t0 < 20) {
		struct timespec ts = { 0, 200 * 1000000L };
		char c = 0;

		if (send(fd, " ", 1, MSG_NOSIGNAL) != 1 ||
		    recv(fd, &c, 1, MSG_DONTWAIT) == 0) {
			took = now_s() - t0;
			break;
		}
		nanosleep(&ts, NULL);
	}
	close(fd);
	assert_true(took > 0.5 && took < 6);
	/* and the server still answers others */
	assert_int_equal(request(f,
				 "POST /echo HTTP/1.1\r\nHost: x\r\n"
				 "Content-Type: application/json\r\n"
				 "Content-Length: 2\r\n\r\n{}",
				 buf, sizeof(buf)),
			 200);
}

static void test_slow_headers_cut(void **state)
{
	/* a header a byte at a time never completes a request; the idle
	 * timeout (2 s here) bounds the whole wait, not the gap */
	double took = trickle(*state, "POST /echo HTTP/1.1\r\nX-Slow: aaaaa");

	assert_true(took > 1 && took < 8);
}

typedef struct slow_call {
	const fixture *f;
	int status;
} slow_call;

static void *call_slow(void *arg)
{
	slow_call *c = arg;
	char buf[4096];

	c->status = request(c->f,
			    "POST /slow HTTP/1.1\r\nHost: x\r\n"
			    "Content-Type: application/json\r\n"
			    "Content-Length: 2\r\n\r\n{}",
			    buf, sizeof(buf));
	return NULL;
}

static bool one_in_flight(void *arg)
{
	const fixture *f = arg;

	return srv_http_in_flight(f->h) == 1;
}

static void test_stop_finishes_in_flight(void **state)
{
	fixture *f = *state;
	slow_call c = { f, 0 };
	pthread_t t;

	assert_int_equal(pthread_create(&t, NULL, call_slow, &c), 0);
	/* the handler holds the request until the stop below begins */
	tu_wait_until(one_in_flight, f, 10000);
	srv_http_stop(f->h, 15);
	f->h = NULL;
	pthread_join(t, NULL);
	assert_int_equal(c.status, 200);
	/* and nothing listens any more */
	assert_false(listening(f->port));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_post_json_answered, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_post_json_answered,
						setup_any, teardown),
		cmocka_unit_test_setup_teardown(test_too_large_answered_unread,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_large_chunked, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_keep_alive, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_slow_body_cut_by_deadline,
						setup_short, teardown),
		cmocka_unit_test_setup_teardown(test_slow_headers_cut,
						setup_short, teardown),
		cmocka_unit_test_setup_teardown(test_stop_finishes_in_flight,
						setup, teardown),
	};

	return cmocka_run_group_tests_name("http", tests, NULL, NULL);
}
