/* http.c - the api worker's HTTP server: libevent's evhttp on the sockets
 * the supervisor bound, a router, and the response helpers every handler
 * uses (etcd's CORS headers, v2 error bodies). */
#include "config.h"
#include "apid/apid_int.h"
#include "apid/form.h"
#include "config/cfg.h"
#include "ipc/worker.h"
#include "store/v2json.h"
#include "util/buf.h"
#include "util/log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/http_struct.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>

/* Idle or slow clients are cut off after this many seconds. */
#define HTTP_TIMEOUT_S 120

void http_common_headers(struct apid *a, struct evhttp_request *req)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);

	evhttp_add_header(h, "Access-Control-Allow-Headers", "accept, content-type, authorization");
	evhttp_add_header(h, "Access-Control-Allow-Methods", "POST, GET, OPTIONS, PUT, DELETE");
	evhttp_add_header(h, "Access-Control-Allow-Origin", "*");
}

void http_send(struct evhttp_request *req, int status, const char *ctype, const void *body,
	size_t len)
{
	struct evbuffer *b = evbuffer_new();

	if (ctype)
		evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", ctype);
	if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
		/* As Go's server: HEAD carries the length the GET body would have. */
		char n[24];
		snprintf(n, sizeof(n), "%zu", len);
		evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Length", n);
		len = 0;
	}
	if (b && len)
		evbuffer_add(b, body, len);
	evhttp_send_reply(req, status, NULL, b);
	if (b)
		evbuffer_free(b);
}

void http_send_text(struct evhttp_request *req, int status, const char *text)
{
	http_send(req, status, "text/plain; charset=utf-8", text, strlen(text));
}

void http_v2_error(struct apid *a, struct evhttp_request *req, int code, const char *cause,
	uint64_t index)
{
	struct buf body;
	char idx[24];

	buf_init(&body);
	v2json_error(&body, code, cause ? cause : "", cause ? strlen(cause) : 0, index);
	snprintf(idx, sizeof(idx), "%" PRIu64, index);
	evhttp_add_header(evhttp_request_get_output_headers(req), "X-Etcd-Index", idx);
	if (body.oom)
		http_send_text(req, 500, "out of memory");
	else
		http_send(req, v2_error_status(code), "application/json", body.data, body.len);
	buf_close(&body);
}

static void route(struct evhttp_request *req, void *arg)
{
	struct apid *a = arg;
	const char *uri = evhttp_request_get_uri(req);
	const char *q = strchr(uri, '?');
	size_t plen = q ? (size_t)(q - uri) : strlen(uri);
	char err[128];
	char *path;

	worker_count(a->w, WC_HTTP_REQUESTS, 1);
	if (req->major == 1 && req->minor >= 1 &&
		evhttp_find_header(evhttp_request_get_input_headers(req), "Host") == NULL) {
		/* Go's server: an HTTP/1.1 request must name its Host. */
		evhttp_add_header(evhttp_request_get_output_headers(req), "Connection", "close");
		http_send_text(req, 400, "400 Bad Request: missing required Host header");
		return;
	}
	http_common_headers(a, req);
	if (evhttp_request_get_command(req) == EVHTTP_REQ_OPTIONS) {
		http_send(req, 200, NULL, NULL, 0);
		return;
	}
	path = url_unescape_path(uri, plen, err, sizeof(err));
	if (path == NULL) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Connection", "close");
		http_send_text(req, 400, "400 Bad Request");
		return;
	}
	if (strcmp(path, "/v2/keys") == 0 || strncmp(path, "/v2/keys/", 9) == 0) {
		if (a->w->cfg->enable_v2)
			v2keys_handle(a, req, path);
		else
			http_send_text(req, 404, "404 page not found\n");
	} else {
		misc_handle(a, req, path);
	}
	free(path);
}

/* Go's http server answers a bad escape in the path with a bare 400. */
char *url_unescape_path(const char *s, size_t n, char *err, size_t errlen)
{
	return url_unescape(s, n, 0, NULL, err, errlen);
}

int apid_http_start(struct apid *a)
{
	const struct cetcd_config *cfg = a->w->cfg;

	a->http = evhttp_new(a->w->base);
	if (a->http == NULL)
		return -1;
	evhttp_set_gencb(a->http, route, a);
	evhttp_set_allowed_methods(a->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
		EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH |
		EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT);
	evhttp_set_max_body_size(a->http, (ev_ssize_t)cfg->max_request_bytes);
	evhttp_set_max_headers_size(a->http, 1 << 20);
	evhttp_set_timeout(a->http, HTTP_TIMEOUT_S);
	for (int i = 0; i < a->w->nclient_fds && i < APID_MAX_LISTENERS; i++) {
		struct evconnlistener *l = evconnlistener_new(a->w->base, NULL, NULL,
			LEV_OPT_REUSEABLE, -1, a->w->client_fds[i]);
		if (l == NULL || evhttp_bind_listener(a->http, l) == NULL) {
			log_error("cannot serve client socket %d", a->w->client_fds[i]);
			return -1;
		}
		a->listeners[a->nlisteners++] = l;
	}
	return 0;
}

void apid_http_close(struct apid *a)
{
	if (a->http)
		evhttp_free(a->http);
	a->http = NULL;
}
