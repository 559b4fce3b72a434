/* http.c - the api worker's HTTP server: libevent's evhttp on the sockets
 * the supervisor bound, a router, and the response helpers every handler
 * uses (etcd's CORS headers, v2 error bodies). */
#include "config.h"
#include "apid/apid_int.h"
#include "apid/form.h"
#include "config/cfg.h"
#include "ipc/worker.h"
#include "util/log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <jansson.h>

/* Idle or slow clients are cut off after this many seconds. */
#define HTTP_TIMEOUT_S 120

static const struct {
	int code;
	int status;
	const char *msg;
} v2_errors[] = {
	{ 100, 404, "Key not found" },
	{ 101, 412, "Compare failed" },
	{ 102, 403, "Not a file" },
	{ 104, 400, "Not a directory" },
	{ 105, 412, "Key already exists" },
	{ 106, 400, "The prefix of given key is a keyword in etcd" },
	{ 107, 400, "Root is read only" },
	{ 108, 403, "Directory not empty" },
	{ 110, 401, "The request requires user authentication" },
	{ 200, 400, "Value is Required in POST form" },
	{ 201, 400, "PrevValue is Required in POST form" },
	{ 202, 400, "The given TTL in POST form is not a number" },
	{ 203, 400, "The given index in POST form is not a number" },
	{ 204, 400, "Value or TTL is required in POST form" },
	{ 205, 400, "The given timeout in POST form is not a number" },
	{ 206, 400, "Name is required in POST form" },
	{ 207, 400, "Index or value is required" },
	{ 208, 400, "Index and value cannot both be specified" },
	{ 209, 400, "Invalid field" },
	{ 210, 400, "Invalid POST form" },
	{ 211, 400, "Value provided on refresh" },
	{ 212, 400, "A TTL must be provided on refresh" },
	{ 300, 500, "Raft Internal Error" },
	{ 301, 500, "During Leader Election" },
	{ 400, 400, "watcher is cleared due to etcd recovery" },
	{ 401, 400, "The event in requested index is outdated and cleared" },
};

static int v2_error_find(int code)
{
	for (size_t i = 0; i < sizeof(v2_errors) / sizeof(v2_errors[0]); i++)
		if (v2_errors[i].code == code)
			return (int)i;
	return -1;
}

int v2_error_status(int code)
{
	int i = v2_error_find(code);
	return i < 0 ? 400 : v2_errors[i].status;
}

const char *v2_error_message(int code)
{
	int i = v2_error_find(code);
	return i < 0 ? "" : v2_errors[i].msg;
}

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
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	json_t *o = json_object();
	char idx[24];
	char *s;

	json_object_set_new(o, "errorCode", json_integer(code));
	json_object_set_new(o, "message", json_string(v2_error_message(code)));
	json_object_set_new(o, "cause", json_string(cause ? cause : ""));
	json_object_set_new(o, "index", json_integer((json_int_t)index));
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	snprintf(idx, sizeof(idx), "%" PRIu64, index);
	evhttp_add_header(h, "X-Etcd-Index", idx);
	if (s) {
		size_t n = strlen(s);
		char *body = malloc(n + 2);
		if (body) {
			memcpy(body, s, n);
			body[n] = '\n';
			http_send(req, v2_error_status(code), "application/json", body, n + 1);
			free(body);
		} else {
			http_send_text(req, 500, "out of memory");
		}
		free(s);
	} else {
		http_send_text(req, 500, "out of memory");
	}
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
