/* SPDX-License-Identifier: Apache-2.0 */
/*
 * srv_http.h: the HTTP(S) servers of `groved serve`, on libmicrohttpd.
 *
 * One srv_http is one listening address: the admission webhooks (HTTPS,
 * POST of JSON bodies) or the health and metrics endpoints (plain HTTP,
 * GET). This layer owns everything about HTTP that is not a webhook:
 * methods, paths, Content-Type, body limits, timeouts and deadlines, TLS,
 * connection limits, and an orderly stop; the handler only ever sees a
 * complete, acceptable request.
 */
#ifndef GROVED_SRV_HTTP_H
#define GROVED_SRV_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "groved/gv.h"

typedef struct srv_http_request {
	const char *method;
	const char *path; /* the query string cut off */
	int route; /* what route() answered for path */
	const char *body; /* NUL-terminated; "" for none */
	size_t len;
} srv_http_request;

typedef struct srv_http_response {
	int status;
	const char *content_type; /* static */
	char *body; /* malloc'd; the server frees it */
	size_t len;
} srv_http_response;

typedef enum {
	SRV_HTTP_JSON_POST, /* POST with Content-Type application/json */
	SRV_HTTP_GET, /* GET (and HEAD), no body */
} srv_http_kind;

typedef struct srv_http_opts {
	const char *host; /* NULL or "" for every address */
	unsigned port; /* 0: an ephemeral port (see srv_http_port) */
	srv_http_kind kind;
	unsigned threads; /* worker threads, >= 1 */
	unsigned max_connections;
	unsigned idle_timeout; /* seconds a keep-alive connection may idle */
	unsigned request_timeout; /* seconds from a request's first byte of
				       body to its answer (absolute) */
	size_t max_body; /* larger bodies get 413 unread */
	/* TLS: a gnutls_certificate_retrieve_function2, called on every
	 * handshake (so a reloaded certificate is used at once); NULL for
	 * plain HTTP. */
	void *tls_cert_callback;
	/* Which route serves path: >= 0, or -1 for 404. */
	int (*route)(void *ctx, const char *path);
	/* Answers one complete request; fills rs (status 200 by default). */
	void (*handler)(void *ctx, const srv_http_request *rq,
			srv_http_response *rs);
	/* Optional: a TLS handshake failed; libmicrohttpd reported text. */
	void (*on_tls_error)(void *ctx, const char *text);
	void *ctx;
} srv_http_opts;

typedef struct srv_http srv_http;

/*
 * Binds and starts serving. On success *out is the new server (free with
 * srv_http_stop). On failure returns GV_EIO (cannot bind: err says which
 * address and why) or GV_EINVAL / GV_ENOMEM.
 */
int srv_http_start(const srv_http_opts *o, srv_http **out, gv_error_t *err);

/* The port actually bound (useful after asking for port 0). */
unsigned srv_http_port(const srv_http *h);

/* Stops accepting new connections at once (in-flight requests go on). */
void srv_http_quiesce(srv_http *h);

/* Requests being answered now. */
unsigned srv_http_in_flight(const srv_http *h);

/* Waits up to `grace` seconds for in-flight requests, then stops and frees
 * h. NULL is a no-op. */
void srv_http_stop(srv_http *h, unsigned grace);

#endif
