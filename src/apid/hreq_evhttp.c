/* hreq_evhttp.c - the src/http/httpd.h interface implemented on libevent's
 * evhttp. The api worker's handlers speak only httpd.h, so the server under
 * them can be swapped. */
#include "config.h"
#include "http/httpd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/http_struct.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>

struct httpd {
	struct event_base *base;
	struct evhttp *http;
	httpd_handler handler;
	void *arg;
};

struct hreq {
	struct evhttp_request *req;
	struct evhttp_connection *evcon;
	hreq_close_cb close_cb;
	void *close_arg;
	int closed;
};

static void conn_closed(struct evhttp_connection *evcon, void *arg)
{
	struct hreq *r = arg;

	r->evcon = NULL;
	if (r->closed)
		return;
	r->closed = 1;
	if (r->close_cb)
		r->close_cb(r, r->close_arg);
}

static void done(struct hreq *r)
{
	if (r->evcon && r->close_cb)
		evhttp_connection_set_closecb(r->evcon, NULL, NULL);
	free(r);
}

static void gencb(struct evhttp_request *req, void *arg)
{
	struct httpd *s = arg;
	struct hreq *r = calloc(1, sizeof(*r));

	if (r == NULL) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	r->req = req;
	r->evcon = evhttp_request_get_connection(req);
	s->handler(r, s->arg);
}

struct httpd *httpd_new(struct event_base *base, const struct httpd_opts *opts,
	httpd_handler handler, void *arg)
{
	struct httpd *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->http = evhttp_new(base);
	if (s->http == NULL) {
		free(s);
		return NULL;
	}
	s->base = base;
	s->handler = handler;
	s->arg = arg;
	evhttp_set_gencb(s->http, gencb, s);
	evhttp_set_allowed_methods(s->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
		EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH |
		EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT);
	evhttp_set_max_body_size(s->http, (ev_ssize_t)opts->max_body);
	evhttp_set_max_headers_size(s->http, (ev_ssize_t)opts->max_header);
	evhttp_set_timeout(s->http, opts->idle_timeout_s);
	return s;
}

int httpd_listen_fd(struct httpd *s, int fd)
{
	struct evconnlistener *l = evconnlistener_new(s->base, NULL, NULL,
		LEV_OPT_REUSEABLE, -1, fd);

	if (l == NULL || evhttp_bind_listener(s->http, l) == NULL)
		return -1;
	return 0;
}

void httpd_free(struct httpd *s)
{
	if (s == NULL)
		return;
	evhttp_free(s->http);
	free(s);
}

int hreq_method(const struct hreq *r)
{
	switch (evhttp_request_get_command(r->req)) {
	case EVHTTP_REQ_GET: return H_GET;
	case EVHTTP_REQ_HEAD: return H_HEAD;
	case EVHTTP_REQ_PUT: return H_PUT;
	case EVHTTP_REQ_POST: return H_POST;
	case EVHTTP_REQ_DELETE: return H_DELETE;
	case EVHTTP_REQ_OPTIONS: return H_OPTIONS;
	case EVHTTP_REQ_PATCH: return H_PATCH;
	default: return H_OTHER;
	}
}

const char *hreq_method_name(const struct hreq *r)
{
	switch (hreq_method(r)) {
	case H_GET: return "GET";
	case H_HEAD: return "HEAD";
	case H_PUT: return "PUT";
	case H_POST: return "POST";
	case H_DELETE: return "DELETE";
	case H_OPTIONS: return "OPTIONS";
	case H_PATCH: return "PATCH";
	default: return "OTHER";
	}
}

const char *hreq_uri(const struct hreq *r)
{
	return evhttp_request_get_uri(r->req);
}

int hreq_minor(const struct hreq *r)
{
	return r->req->minor;
}

const char *hreq_header(const struct hreq *r, const char *name)
{
	return evhttp_find_header(evhttp_request_get_input_headers(r->req), name);
}

const char *hreq_body(const struct hreq *r, size_t *len)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(r->req);
	size_t n = evbuffer_get_length(in);

	*len = n;
	return n ? (const char *)evbuffer_pullup(in, (ev_ssize_t)n) : "";
}

void hreq_add_header(struct hreq *r, const char *name, const char *value)
{
	evhttp_add_header(evhttp_request_get_output_headers(r->req), name, value);
}

void hreq_reply(struct hreq *r, int status, const void *body, size_t len)
{
	struct evbuffer *b = evbuffer_new();

	if (hreq_method(r) == H_HEAD) {
		char n[24];
		snprintf(n, sizeof(n), "%zu", len);
		hreq_add_header(r, "Content-Length", n);
		len = 0;
	}
	if (b && len)
		evbuffer_add(b, body, len);
	evhttp_send_reply(r->req, status, NULL, b);
	if (b)
		evbuffer_free(b);
	done(r);
}

void hreq_reply_start(struct hreq *r, int status)
{
	evhttp_send_reply_start(r->req, status, NULL);
}

void hreq_reply_chunk(struct hreq *r, const void *p, size_t len)
{
	struct evbuffer *b = evbuffer_new();

	if (b == NULL)
		return;
	evbuffer_add(b, p, len);
	evhttp_send_reply_chunk(r->req, b);
	evbuffer_free(b);
}

void hreq_reply_end(struct hreq *r)
{
	evhttp_send_reply_end(r->req);
	done(r);
}

void hreq_set_close_cb(struct hreq *r, hreq_close_cb cb, void *arg)
{
	r->close_cb = cb;
	r->close_arg = arg;
	if (r->evcon)
		evhttp_connection_set_closecb(r->evcon, conn_closed, r);
}

void hreq_close_after(struct hreq *r)
{
	hreq_add_header(r, "Connection", "close");
}
