/* SPDX-License-Identifier: Apache-2.0 */
/*
 * srv_http.c: the HTTP(S) servers of `groved serve` on libmicrohttpd.
 *
 * libmicrohttpd runs a pool of threads, each polling its share of the
 * connections with epoll, so a slow client costs a socket and a little
 * memory, never a thread. What it lacks, this file adds:
 *
 * - request checks before the body is read: method (405), path (404),
 *   Content-Type (415), Content-Length over the limit (413, unread);
 * - an absolute deadline per request on top of the idle timeout. The idle
 *   timeout restarts on every byte, so a client sending a byte a second
 *   would never hit it. A watchdog thread therefore cuts (shutdown(2) on a
 *   dup of the socket, so a recycled descriptor number can never be hit)
 *   any connection whose current request has run past request_timeout, or
 *   that has spent longer than the idle timeout without completing one;
 * - an orderly stop: quiesce, wait (bounded) for in-flight requests, stop.
 */
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include "srv_http.h"

#include "groved/gv_buf.h"
#include "groved/gv_thread.h"
#include "groved/gv_time.h"

/* Headers and the connection's own buffers; bodies live outside it. */
#define CONN_MEMORY_LIMIT ((size_t)64 << 10)
/* A modern TLS configuration: 1.3 and 1.2 only, AEAD ciphers, ECDHE. */
#define TLS_PRIORITIES                                                         \
	"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-GCM:" \
	"+AES-256-GCM:+CHACHA20-POLY1305:-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:" \
	"+ECDHE-RSA:%SERVER_PRECEDENCE"
/* The first buffer of a request body. */
#define FIRST_BODY_CAP ((size_t)8192)
/* How often the watchdog looks at the connections. */
#define WATCHDOG_PERIOD_MS 250

/* One connection, from accept to close. */
typedef struct conn {
	struct conn *prev;
	struct conn *next;
	int fd; /* our dup of the socket, for the watchdog */
	uint64_t phase_start_ms; /* accepted, or the last answer sent */
	uint64_t request_start_ms; /* first call of the current request */
	bool in_request;
	bool cut;
} conn;

/* One request, from its headers to its answer. */
typedef struct request {
	conn *c;
	int route;
	gv_buf body; /* at most max_body */
	int early_status; /* answer decided before the body (4xx), or 0 */
	const char *early_text;
} request;

struct srv_http {
	srv_http_opts o;
	struct MHD_Daemon *daemon;
	unsigned port;
	atomic_uint in_flight;
	pthread_mutex_t lock; /* guards the connection list */
	conn *conns;
	pthread_t watchdog;
	bool watchdog_running;
	gv_stopper stop; /* the watchdog's */
};

/* ---- connections and the watchdog ------------------------------------- */

static void notify_connection(void *cls, struct MHD_Connection *connection,
			      void **socket_context,
			      enum MHD_ConnectionNotificationCode toe)
{
	srv_http *h = cls;
	conn *c = *socket_context;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
		    connection, MHD_CONNECTION_INFO_CONNECTION_FD);

		c = calloc(1, sizeof(*c));
		if (!c)
			return; /* untracked: only the idle timeout applies */
		c->fd = ci ? fcntl(ci->connect_fd, F_DUPFD_CLOEXEC, 0) : -1;
		c->phase_start_ms = gv_now_ms();
		pthread_mutex_lock(&h->lock);
		c->next = h->conns;
		if (h->conns)
			h->conns->prev = c;
		h->conns = c;
		pthread_mutex_unlock(&h->lock);
		*socket_context = c;
		return;
	}
	if (!c)
		return;
	pthread_mutex_lock(&h->lock);
	if (c->prev)
		c->prev->next = c->next;
	else
		h->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	pthread_mutex_unlock(&h->lock);
	if (c->fd >= 0)
		close(c->fd);
	free(c);
	*socket_context = NULL;
}

/* Cuts the connections past their deadline; runs until stop. */
static void *watchdog_main(void *arg)
{
	srv_http *h = arg;

	while (!gv_stopper_stopped(&h->stop)) {
		uint64_t now = gv_now_ms();
		conn *c = NULL;

		pthread_mutex_lock(&h->lock);
		for (c = h->conns; c; c = c->next) {
			bool late =
			    c->in_request
				? now - c->request_start_ms >
				      (uint64_t)h->o.request_timeout * 1000u
				: now - c->phase_start_ms >
				      (uint64_t)h->o.idle_timeout * 1000u;

			if (late && !c->cut && c->fd >= 0) {
				/* the thread serving it sees EOF and closes */
				shutdown(c->fd, SHUT_RDWR);
				c->cut = true;
			}
		}
		pthread_mutex_unlock(&h->lock);
		gv_stopper_wait(&h->stop, WATCHDOG_PERIOD_MS);
	}
	return NULL;
}

static conn *conn_of(struct MHD_Connection *connection)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
	    connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci ? ci->socket_context : NULL;
}

/* Marks the request phase; the watchdog reads these under h->lock. */
static void conn_phase(srv_http *h, conn *c, bool in_request)
{
	if (!c)
		return;
	pthread_mutex_lock(&h->lock);
	c->in_request = in_request;
	if (in_request)
		c->request_start_ms = gv_now_ms();
	else
		c->phase_start_ms = gv_now_ms();
	pthread_mutex_unlock(&h->lock);
}

/* ---- answering -------------------------------------------------------- */

static enum MHD_Result send_answer(struct MHD_Connection *connection,
				   int status, const char *content_type,
				   char *body, size_t len, const char *allow)
{
	struct MHD_Response *resp = NULL;
	enum MHD_Result ret = MHD_NO;

	resp =
	    MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				content_type);
	if (allow)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
	ret = MHD_queue_response(connection, (unsigned)status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* A short plain-text answer for the requests that never reach a handler. */
static enum MHD_Result send_text(struct MHD_Connection *connection, int status,
				 const char *text, const char *allow)
{
	size_t n = strlen(text);
	char *body = malloc(n + 2);

	if (!body)
		return MHD_NO;
	memcpy(body, text, n);
	body[n] = '\n';
	body[n + 1] = '\0';
	return send_answer(connection, status, "text/plain; charset=utf-8",
			   body, n + 1, allow);
}

static bool is_json(const char *content_type)
{
	static const char want[] = "application/json";
	size_t n = sizeof(want) - 1;

	if (!content_type || strncasecmp(content_type, want, n) != 0)
		return false;
	/* parameters such as "; charset=utf-8" may follow */
	return content_type[n] == '\0' || content_type[n] == ';' ||
	       content_type[n] == ' ';
}

/* The checks made once the headers are in, before any body byte. */
static void check_headers(srv_http *h, struct MHD_Connection *connection,
			  const char *method, request *rq)
{
	const char *cl = MHD_lookup_connection_value(
	    connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	bool post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
	bool get = strcmp(method, MHD_HTTP_METHOD_GET) == 0 ||
		   strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;

	if (rq->route < 0) {
		rq->early_status = MHD_HTTP_NOT_FOUND;
		rq->early_text = "not found: no such path";
	} else if (h->o.kind == SRV_HTTP_JSON_POST && !post) {
		rq->early_status = MHD_HTTP_METHOD_NOT_ALLOWED;
		rq->early_text = "method not allowed: webhooks take POST";
	} else if (h->o.kind == SRV_HTTP_GET && !get) {
		rq->early_status = MHD_HTTP_METHOD_NOT_ALLOWED;
		rq->early_text = "method not allowed: use GET";
	} else if (h->o.kind == SRV_HTTP_JSON_POST &&
		   !is_json(MHD_lookup_connection_value(
		       connection, MHD_HEADER_KIND,
		       MHD_HTTP_HEADER_CONTENT_TYPE))) {
		rq->early_status = MHD_HTTP_UNSUPPORTED_MEDIA_TYPE;
		rq->early_text = "unsupported media type: send an "
				 "AdmissionReview as application/json";
	} else if (cl && strtoull(cl, NULL, 10) > h->o.max_body) {
		rq->early_status = MHD_HTTP_CONTENT_TOO_LARGE;
		rq->early_text = "request body too large";
	}
}

/* Appends body bytes; past max_body the request becomes a 413, and when
 * memory runs out a 503: a large body is the client's fault, never "out
 * of memory". */
static void take_body(request *rq, const char *data, size_t n)
{
	size_t first = n > FIRST_BODY_CAP ? n : FIRST_BODY_CAP;
	int rc = GV_OK;

	if (rq->early_status)
		return; /* discarded */
	/* one allocation for most reviews */
	if (!rq->body.s && first <= rq->body.max)
		(void)gv_buf_grow(&rq->body, first);
	rc = gv_buf_add(&rq->body, data, n);
	if (rc == GV_ETOOBIG) {
		rq->early_status = MHD_HTTP_CONTENT_TOO_LARGE;
		rq->early_text = "request body too large";
	} else if (rc != GV_OK) {
		rq->early_status = MHD_HTTP_SERVICE_UNAVAILABLE;
		rq->early_text = "out of memory";
	}
}

static enum MHD_Result
access_handler(void *cls, struct MHD_Connection *connection, const char *url,
	       const char *method, const char *version, const char *upload_data,
	       size_t *upload_data_size, void **con_cls)
{
	srv_http *h = cls;
	request *rq = *con_cls;
	srv_http_request in;
	srv_http_response out;
	const char *allow = NULL;
	enum MHD_Result ret = MHD_NO;

	(void)version;
	if (!rq) {
		rq = calloc(1, sizeof(*rq));
		if (!rq)
			return MHD_NO;
		rq->c = conn_of(connection);
		gv_buf_init(&rq->body, h->o.max_body);
		rq->route = h->o.route(h->o.ctx, url);
		*con_cls = rq;
		atomic_fetch_add(&h->in_flight, 1);
		conn_phase(h, rq->c, true);
		check_headers(h, connection, method, rq);
		/* answer a refusal now: the body is never read */
		if (rq->early_status)
			goto early;
		return MHD_YES;
	}
	if (*upload_data_size) {
		take_body(rq, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (rq->early_status < 0)
		return MHD_YES; /* refused already */
	if (rq->early_status)
		goto early;
	memset(&out, 0, sizeof(out));
	in.method = method;
	in.path = url;
	in.route = rq->route;
	in.body = gv_buf_str(&rq->body);
	in.len = rq->body.len;
	out.status = MHD_HTTP_OK;
	out.content_type = "application/json";
	h->o.handler(h->o.ctx, &in, &out);
	if (!out.body) {
		out.body = calloc(1, 1);
		out.len = 0;
	}
	return send_answer(connection, out.status, out.content_type, out.body,
			   out.len, NULL);
early:
	if (rq->early_status == MHD_HTTP_METHOD_NOT_ALLOWED)
		allow = h->o.kind == SRV_HTTP_JSON_POST ? "POST" : "GET, HEAD";
	ret = send_text(connection, rq->early_status, rq->early_text, allow);
	rq->early_status = -1; /* answered; later body bytes are dropped */
	return ret;
}

static void request_completed(void *cls, struct MHD_Connection *connection,
			      void **con_cls,
			      enum MHD_RequestTerminationCode toe)
{
	srv_http *h = cls;
	request *rq = *con_cls;

	(void)connection;
	(void)toe;
	if (!rq)
		return;
	conn_phase(h, rq->c, false);
	atomic_fetch_sub(&h->in_flight, 1);
	gv_buf_release(&rq->body);
	free(rq);
	*con_cls = NULL;
}

/* libmicrohttpd's own messages: TLS handshake failures are counted. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	srv_http *h = cls;
	char text[512];

	vsnprintf(text, sizeof(text), fmt, ap);
	if (h->o.on_tls_error &&
	    (strstr(text, "andshake") || strstr(text, "TLS") ||
	     strstr(text, "GnuTLS")))
		h->o.on_tls_error(h->o.ctx, text);
}

/* ---- lifecycle -------------------------------------------------------- */

static int resolve(const srv_http_opts *o, struct sockaddr_storage *ss,
		   gv_error_t *err)
{
	struct addrinfo hints;
	struct addrinfo *res = NULL;
	char port[16];
	int rc = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%u", o->port);
	rc = getaddrinfo(o->host && o->host[0] ? o->host : NULL, port, &hints,
			 &res);
	if (rc != 0)
		return gv_error_set(err, GV_EIO, o->host, 0, 0,
				    "cannot resolve listen address: %s",
				    gai_strerror(rc));
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	return GV_OK;
}

/* libmicrohttpd with h's options, on ss (NULL: every interface). */
static struct MHD_Daemon *start_daemon(srv_http *h, unsigned flags,
				       struct sockaddr_storage *ss)
{
	const srv_http_opts *o = &h->o;
	struct MHD_OptionItem opt[16];
	size_t n = 0;

	/* the logger first, so that libmicrohttpd's own warnings about the
	 * options that follow reach it too */
	opt[n++] = (struct MHD_OptionItem){ MHD_OPTION_EXTERNAL_LOGGER,
					    (intptr_t)mhd_log, h };
	if (ss)
		opt[n++] =
		    (struct MHD_OptionItem){ MHD_OPTION_SOCK_ADDR, 0, ss };
	/* a pool of one is one polling thread, which is the default */
	if (o->threads > 1)
		opt[n++] = (struct MHD_OptionItem){ MHD_OPTION_THREAD_POOL_SIZE,
						    o->threads, NULL };
	opt[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_LIMIT,
					    o->max_connections, NULL };
	opt[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_TIMEOUT,
					    o->idle_timeout, NULL };
	opt[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_MEMORY_LIMIT,
					    CONN_MEMORY_LIMIT, NULL };
	opt[n++] = (struct MHD_OptionItem){ MHD_OPTION_NOTIFY_COMPLETED,
					    (intptr_t)request_completed, h };
	opt[n++] = (struct MHD_OptionItem){ MHD_OPTION_NOTIFY_CONNECTION,
					    (intptr_t)notify_connection, h };
	if (o->tls_cert_callback) {
		opt[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_PRIORITIES,
						    0, (void *)TLS_PRIORITIES };
		opt[n++] =
		    (struct MHD_OptionItem){ MHD_OPTION_HTTPS_CERT_CALLBACK, 0,
					     o->tls_cert_callback };
	}
	opt[n++] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
	return MHD_start_daemon(flags, (uint16_t)o->port, NULL, NULL,
				access_handler, h, MHD_OPTION_ARRAY, opt,
				MHD_OPTION_END);
}

int srv_http_start(const srv_http_opts *o, srv_http **out, gv_error_t *err)
{
	srv_http *h = NULL;
	struct sockaddr_storage ss;
	const union MHD_DaemonInfo *di = NULL;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
			 MHD_USE_ITC | MHD_USE_ERROR_LOG;
	int rc = GV_OK;

	if (!o->route || !o->handler || o->threads < 1)
		return gv_error_set(err, GV_EINVAL, NULL, 0, 0,
				    "http server needs a route, a handler and "
				    "at least one thread");
	memset(&ss, 0, sizeof(ss));
	if (o->host && o->host[0]) {
		rc = resolve(o, &ss, err);
		if (rc != GV_OK)
			return rc;
	}
	h = calloc(1, sizeof(*h));
	if (!h)
		return gv_error_set(err, GV_ENOMEM, NULL, 0, 0,
				    "out of memory");
	h->o = *o;
	atomic_init(&h->in_flight, 0);
	pthread_mutex_init(&h->lock, NULL);
	gv_stopper_init(&h->stop);
	if (o->tls_cert_callback)
		flags |= MHD_USE_TLS;
	if (!o->host || !o->host[0]) {
		/* every interface: IPv6 and IPv4 on one socket, or IPv4
		 * alone where the kernel has no IPv6 */
		h->daemon = start_daemon(h, flags | MHD_USE_DUAL_STACK, NULL);
		if (!h->daemon)
			h->daemon = start_daemon(h, flags, NULL);
	} else {
		if (ss.ss_family == AF_INET6)
			flags |= MHD_USE_IPv6;
		h->daemon = start_daemon(h, flags, &ss);
	}
	if (!h->daemon) {
		rc = gv_error_set(
		    err, GV_EIO, o->host, 0, 0, "cannot listen on %s:%u: %s",
		    o->host && o->host[0] ? o->host : "*", o->port,
		    errno ? strerror(errno)
			  : "libmicrohttpd refused the options");
		goto out;
	}
	di = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
	h->port = di ? di->port : o->port;
	if (pthread_create(&h->watchdog, NULL, watchdog_main, h) != 0) {
		rc = gv_error_set(err, GV_ENOMEM, NULL, 0, 0,
				  "cannot start the connection watchdog");
		goto out;
	}
	h->watchdog_running = true;
out:
	if (rc != GV_OK) {
		srv_http_stop(h, 0);
		h = NULL;
	} else {
		*out = h;
	}
	return rc;
}

unsigned srv_http_port(const srv_http *h)
{
	return h->port;
}

unsigned srv_http_in_flight(const srv_http *h)
{
	return atomic_load(&((srv_http *)h)->in_flight);
}

void srv_http_quiesce(srv_http *h)
{
	MHD_socket fd = MHD_INVALID_SOCKET;

	if (!h || !h->daemon)
		return;
	fd = MHD_quiesce_daemon(h->daemon);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
}

void srv_http_stop(srv_http *h, unsigned grace)
{
	uint64_t until = 0;

	if (!h)
		return;
	if (h->daemon) {
		srv_http_quiesce(h);
		until = gv_now_ms() + (uint64_t)grace * 1000u;
		while (atomic_load(&h->in_flight) > 0 && gv_now_ms() < until) {
			struct timespec ts = { 0, 10 * 1000000L };

			nanosleep(&ts, NULL);
		}
		MHD_stop_daemon(h->daemon);
	}
	if (h->watchdog_running) {
		gv_stopper_stop(&h->stop);
		pthread_join(h->watchdog, NULL);
	}
	pthread_mutex_destroy(&h->lock);
	gv_stopper_release(&h->stop);
	free(h);
}
