/* http.c - cetcdctl's HTTP/1.1 client core (ctl.h): one request at a time
 * through libevent's evhttp client, with etcdctl's failover across the
 * endpoints, a per-endpoint dial timeout, a whole-command timeout, and
 * streamed answers (watches) cut into lines as they arrive.
 *
 * Each call runs its own event_base, so the commands stay plain
 * synchronous code. libevent 2.1 has no connect-only timeout, so the dial
 * timeout is a timer that checks whether the socket got a peer; the
 * connection's own inactivity timeout covers the rest of the command.
 */
#include "config.h"
#include "ctl/ctl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "ctl/http_lines.h"
#include "util/err.h"

/* An endpoint taken apart: "http://host:port[/prefix]". */
struct ctl_ep {
	char host[256];
	int port;
	char prefix[256];
};

/* The state of one attempt against one endpoint. */
struct ctl_call {
	struct event_base *base;
	struct evhttp_connection *evcon;
	int done;            /* the request callback ran */
	int answered;        /* headers arrived: the endpoint is reachable */
	int dial_failed;     /* no connection within the dial timeout */
	int header_failed;   /* no answer headers within the header timeout */
	int timed_out;       /* the command deadline passed */
	int stopped;         /* on_line asked to stop */
	int reqerr;          /* an evhttp_request_error, or -1 */
	int status;
	struct ctl_resp *out;        /* whole-body mode, or NULL */
	struct ctl_lines lines;      /* streaming mode */
	ctl_line_cb on_line;
	void *arg;
	int cbret;
};

void ctl_resp_init(struct ctl_resp *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->body);
}

void ctl_resp_close(struct ctl_resp *r)
{
	buf_close(&r->body);
	free(r->x_etcd_index);
	free(r->x_etcd_cluster_id);
	r->x_etcd_index = NULL;
	r->x_etcd_cluster_id = NULL;
	r->status = 0;
	r->endpoint = NULL;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct timeval ms_tv(int64_t ms)
{
	struct timeval tv;

	if (ms < 1)
		ms = 1;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	return tv;
}

/* ctl_ep_parse accepts "http://host:port", "host:port" (as etcdctl v3
 * does) and an optional path prefix; https is refused: no TLS here. */
static int ctl_ep_parse(const char *url, struct ctl_ep *ep, char *err, size_t errlen)
{
	const char *p = url, *hs, *he, *slash;
	size_t n;

	memset(ep, 0, sizeof(*ep));
	if (strncmp(p, "http://", 7) == 0)
		p += 7;
	else if (strncmp(p, "https://", 8) == 0)
		return errf(err, errlen, CE_INVAL, "%s: https endpoints are not supported", url);
	else if (strstr(p, "://") != NULL)
		return errf(err, errlen, CE_INVAL, "%s: unsupported scheme", url);
	slash = strchr(p, '/');
	if (slash == NULL)
		slash = p + strlen(p);
	hs = p;
	if (*hs == '[') { /* [v6]:port */
		he = memchr(hs, ']', (size_t)(slash - hs));
		if (he == NULL)
			return errf(err, errlen, CE_INVAL, "%s: bad IPv6 host", url);
		hs++;
		p = he + 1;
	} else {
		he = memchr(hs, ':', (size_t)(slash - hs));
		if (he == NULL)
			he = slash;
		p = he;
	}
	n = (size_t)(he - hs);
	if (n == 0 || n >= sizeof(ep->host))
		return errf(err, errlen, CE_INVAL, "%s: bad host", url);
	memcpy(ep->host, hs, n);
	ep->port = 80;
	if (*p == ':') {
		char *end;
		long v = strtol(p + 1, &end, 10);

		if (end != slash || v <= 0 || v > 65535)
			return errf(err, errlen, CE_INVAL, "%s: bad port", url);
		ep->port = (int)v;
	}
	n = strlen(slash);
	while (n > 0 && slash[n - 1] == '/')
		n--;
	if (n >= sizeof(ep->prefix))
		return errf(err, errlen, CE_INVAL, "%s: path too long", url);
	memcpy(ep->prefix, slash, n);
	return 0;
}

static enum evhttp_cmd_type ctl_method(const char *m)
{
	static const struct {
		const char *name;
		enum evhttp_cmd_type type;
	} tab[] = {
		{"GET", EVHTTP_REQ_GET}, {"PUT", EVHTTP_REQ_PUT}, {"POST", EVHTTP_REQ_POST},
		{"DELETE", EVHTTP_REQ_DELETE}, {"HEAD", EVHTTP_REQ_HEAD},
		{"PATCH", EVHTTP_REQ_PATCH}, {"OPTIONS", EVHTTP_REQ_OPTIONS},
	};

	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (strcmp(tab[i].name, m) == 0)
			return tab[i].type;
	return (enum evhttp_cmd_type)0;
}

static void b64(const char *in, char *out, size_t outlen)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = strlen(in), o = 0;

	for (size_t i = 0; i < n && o + 5 < outlen; i += 3) {
		unsigned v = (unsigned)(unsigned char)in[i] << 16;
		if (i + 1 < n)
			v |= (unsigned)(unsigned char)in[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)in[i + 2];
		out[o++] = a[v >> 18 & 63];
		out[o++] = a[v >> 12 & 63];
		out[o++] = i + 1 < n ? a[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? a[v & 63] : '=';
	}
	out[o] = '\0';
}

/* etcdctl's --debug shape: the request as a curl command line. */
static void ctl_debug_print(const char *method, const char *url, const char *path,
	const void *body, size_t len)
{
	fprintf(stderr, "cURL Command: curl -X %s %s%s", method, url, path);
	if (len > 0)
		fprintf(stderr, " -d %.*s", (int)len, (const char *)body);
	fputc('\n', stderr);
}

static char *hdr_dup(struct evkeyvalq *h, const char *name)
{
	const char *v = evhttp_find_header(h, name);

	return v != NULL ? strdup(v) : NULL;
}

/* Headers arrived: the endpoint is reachable and the status is known
 * before the first streamed line. */
static int ctl_header_cb(struct evhttp_request *req, void *arg)
{
	struct ctl_call *c = arg;

	c->answered = 1;
	c->status = evhttp_request_get_response_code(req);
	return 0;
}

static int ctl_lines_emit(const char *line, size_t len, void *arg)
{
	struct ctl_call *c = arg;

	return c->on_line(line, len, c->arg);
}

static void ctl_chunk_cb(struct evhttp_request *req, void *arg)
{
	struct ctl_call *c = arg;
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t n = evbuffer_get_length(in);
	const unsigned char *p;
	int rc;

	if (c->stopped || n == 0)
		return;
	p = evbuffer_pullup(in, (ssize_t)n);
	rc = ctl_lines_feed(&c->lines, p, n, ctl_lines_emit, c);
	evbuffer_drain(in, n);
	if (rc != 0) {
		c->stopped = 1;
		c->cbret = rc;
		event_base_loopbreak(c->base);
	}
}

static void ctl_error_cb(enum evhttp_request_error e, void *arg)
{
	struct ctl_call *c = arg;

	c->reqerr = (int)e;
}

static void ctl_done_cb(struct evhttp_request *req, void *arg)
{
	struct ctl_call *c = arg;

	c->done = 1;
	event_base_loopbreak(c->base);
	if (req == NULL || evhttp_request_get_response_code(req) == 0)
		return;
	c->answered = 1;
	c->status = evhttp_request_get_response_code(req);
	if (c->out != NULL) {
		struct evbuffer *in = evhttp_request_get_input_buffer(req);
		size_t n = evbuffer_get_length(in);
		struct evkeyvalq *h = evhttp_request_get_input_headers(req);

		c->out->status = c->status;
		if (n > 0)
			buf_put(&c->out->body, evbuffer_pullup(in, (ssize_t)n), n);
		c->out->x_etcd_index = hdr_dup(h, "X-Etcd-Index");
		c->out->x_etcd_cluster_id = hdr_dup(h, "X-Etcd-Cluster-Id");
	}
}

/* The dial timer: still no peer on the socket means the endpoint did not
 * accept the connection in time, so the caller moves on to the next. */
static void ctl_dial_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ctl_call *c = arg;
	struct bufferevent *bev = evhttp_connection_get_bufferevent(c->evcon);
	evutil_socket_t s = bev != NULL ? bufferevent_getfd(bev) : -1;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	(void)fd;
	(void)what;
	if (c->answered || c->done)
		return;
	if (s < 0 || getpeername(s, (struct sockaddr *)&ss, &sl) != 0) {
		c->dial_failed = 1;
		event_base_loopbreak(c->base);
	}
}

/* The header timer (etcd client's HeaderTimeoutPerRequest): connected or
 * not, no answer yet means this endpoint is given up for the next one. */
static void ctl_hdr_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ctl_call *c = arg;

	(void)fd;
	(void)what;
	if (c->answered || c->done)
		return;
	c->header_failed = 1;
	event_base_loopbreak(c->base);
}

static void ctl_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ctl_call *c = arg;

	(void)fd;
	(void)what;
	c->timed_out = 1;
	event_base_loopbreak(c->base);
}

/* ctl_request_new builds the request with etcdctl's headers. */
static struct evhttp_request *ctl_request_new(const struct ctl_conn *cn, struct ctl_call *c,
	const struct ctl_ep *ep, const char *ctype, const void *body, size_t len)
{
	struct evhttp_request *req = evhttp_request_new(ctl_done_cb, c);
	struct evkeyvalq *h;
	char hostport[300];

	if (req == NULL)
		return NULL;
	h = evhttp_request_get_output_headers(req);
	snprintf(hostport, sizeof(hostport), "%s:%d", ep->host, ep->port);
	evhttp_add_header(h, "Host", hostport);
	evhttp_add_header(h, "User-Agent", "cetcdctl");
	evhttp_add_header(h, "Accept", "*/*");
	if (ctype != NULL)
		evhttp_add_header(h, "Content-Type", ctype);
	if (cn->auth_token != NULL)
		evhttp_add_header(h, "Authorization", cn->auth_token);
	if (cn->basic_user != NULL) {
		char enc[1100], v[1200];

		b64(cn->basic_user, enc, sizeof(enc));
		snprintf(v, sizeof(v), "Basic %s", enc);
		evhttp_add_header(h, "Authorization", v);
	}
	if (len > 0)
		evbuffer_add(evhttp_request_get_output_buffer(req), body, len);
	evhttp_request_set_header_cb(req, ctl_header_cb);
	evhttp_request_set_error_cb(req, ctl_error_cb);
	if (c->on_line != NULL)
		evhttp_request_set_chunked_cb(req, ctl_chunk_cb);
	return req;
}

/* ctl_attempt runs one request against one endpoint. 0 when it answered
 * (c->status), CE_CLOSED when it could not be reached or dropped the
 * answer, CTL_ETIMEOUT at the deadline (deadline 0 = none). */
static int ctl_attempt(const struct ctl_conn *cn, size_t i, struct ctl_call *c,
	const char *method, const char *path, const char *ctype, const void *body, size_t len,
	int64_t deadline, char *err, size_t errlen)
{
	const char *url = cn->endpoints[i];
	struct ctl_ep ep;
	struct evhttp_request *req;
	struct event *dial = NULL, *dl = NULL, *hdr = NULL;
	struct timeval tv;
	char full[1500];
	int64_t left = deadline > 0 ? deadline - now_ms() : 0;
	int rc;

	if ((rc = ctl_ep_parse(url, &ep, err, errlen)) != 0)
		return rc;
	if (deadline > 0 && left <= 0)
		return errf(err, errlen, CTL_ETIMEOUT, "context deadline exceeded");
	snprintf(full, sizeof(full), "%s%s", ep.prefix, path);
	if (cn->debug)
		ctl_debug_print(method, url, path, body, len);
	if ((c->base = event_base_new()) == NULL)
		return errf(err, errlen, CE_NOMEM, "event_base_new");
	rc = errf(err, errlen, CE_NOMEM, "evhttp connection");
	c->evcon = evhttp_connection_base_new(c->base, NULL, ep.host, (uint16_t)ep.port);
	if (c->evcon == NULL)
		goto out_base;
	/* Inactivity bound: past the rest of the command (whose own timer
	 * must fire first, to report the deadline), or a day for watches,
	 * which the server keeps alive on its own. */
	tv = ms_tv(deadline > 0 ? left + 1000 : 86400000);
	evhttp_connection_set_timeout_tv(c->evcon, &tv);
	evhttp_connection_set_retries(c->evcon, 0);
	if ((req = ctl_request_new(cn, c, &ep, ctype, body, len)) == NULL)
		goto out_conn;
	if (evhttp_make_request(c->evcon, req, ctl_method(method), full) != 0) {
		rc = errf(err, errlen, CE_CLOSED, "dial %s: cannot start the request", url);
		goto out_conn;
	}
	dial = evtimer_new(c->base, ctl_dial_cb, c);
	dl = evtimer_new(c->base, ctl_deadline_cb, c);
	hdr = evtimer_new(c->base, ctl_hdr_timeout_cb, c);
	if (dial == NULL || dl == NULL || hdr == NULL)
		goto out_ev;
	if (cn->header_timeout_ms > 0) {
		tv = ms_tv(cn->header_timeout_ms);
		evtimer_add(hdr, &tv);
	}
	if (cn->dial_timeout_ms > 0) {
		tv = ms_tv(cn->dial_timeout_ms);
		evtimer_add(dial, &tv);
	}
	if (deadline > 0) {
		tv = ms_tv(left);
		evtimer_add(dl, &tv);
	}
	event_base_dispatch(c->base);
	if (c->stopped || (c->done && c->answered))
		rc = 0;
	else if (c->timed_out)
		rc = errf(err, errlen, CTL_ETIMEOUT, "context deadline exceeded");
	else if (c->dial_failed)
		rc = errf(err, errlen, CE_CLOSED, "dial tcp %s:%d: i/o timeout", ep.host, ep.port);
	else if (c->header_failed)
		rc = errf(err, errlen, CE_CLOSED, "client: endpoint %s exceeded header timeout", url);
	else if (c->answered)
		rc = errf(err, errlen, CE_CLOSED, "%s: connection closed during the answer", url);
	else if (c->reqerr == EVREQ_HTTP_TIMEOUT)
		rc = errf(err, errlen, CE_CLOSED, "dial tcp %s:%d: i/o timeout", ep.host, ep.port);
	else
		rc = errf(err, errlen, CE_CLOSED, "dial tcp %s:%d: connect: connection refused",
			ep.host, ep.port);
out_ev:
	if (dial != NULL)
		event_free(dial);
	if (dl != NULL)
		event_free(dl);
	if (hdr != NULL)
		event_free(hdr);
out_conn:
	evhttp_connection_free(c->evcon);
	c->evcon = NULL;
out_base:
	event_base_free(c->base);
	c->base = NULL;
	return rc;
}

/* ctl_run tries the endpoints in order until one answers; a streamed
 * answer that already delivered lines is not replayed elsewhere. */
static int ctl_run(const struct ctl_conn *cn, struct ctl_call *proto, const char *method,
	const char *path, const char *ctype, const void *body, size_t len, struct ctl_call *res,
	size_t *which, char *err, size_t errlen)
{
	int64_t deadline = cn->command_timeout_ms > 0 ? now_ms() + cn->command_timeout_ms : 0;
	int rc = errf(err, errlen, CE_INVAL, "no endpoints");

	if (ctl_method(method) == 0)
		return errf(err, errlen, CE_INVAL, "unknown method %s", method);
	for (size_t i = 0; i < cn->nendpoints; i++) {
		*res = *proto;
		res->reqerr = -1;
		if (res->out != NULL) {
			buf_reset(&res->out->body);
			free(res->out->x_etcd_index);
			free(res->out->x_etcd_cluster_id);
			res->out->x_etcd_index = res->out->x_etcd_cluster_id = NULL;
		}
		if (res->on_line != NULL)
			ctl_lines_init(&res->lines);
		rc = ctl_attempt(cn, i, res, method, path, ctype, body, len, deadline, err, errlen);
		*which = i;
		if (rc == 0 || rc != CE_CLOSED || res->answered)
			return rc;
		if (res->on_line != NULL)
			ctl_lines_close(&res->lines);
	}
	return rc;
}

int ctl_http(const struct ctl_conn *c, const char *method, const char *path, const char *ctype,
	const void *body, size_t len, struct ctl_resp *out, char *err, size_t errlen)
{
	struct ctl_call proto, res;
	size_t which = 0;
	int rc;

	memset(&proto, 0, sizeof(proto));
	proto.out = out;
	rc = ctl_run(c, &proto, method, path, ctype, body, len, &res, &which, err, errlen);
	if (rc == 0) {
		if (errlen > 0)
			err[0] = '\0';
		if (out->body.oom)
			return errf(err, errlen, CE_NOMEM, "reading the answer");
		out->endpoint = c->endpoints[which];
	}
	return rc;
}

int ctl_http_lines(const struct ctl_conn *c, const char *method, const char *path,
	const char *ctype, const void *body, size_t len, int *status, ctl_line_cb on_line, void *arg,
	char *err, size_t errlen)
{
	struct ctl_call proto, res;
	size_t which = 0;
	int rc;

	memset(&proto, 0, sizeof(proto));
	proto.on_line = on_line;
	proto.arg = arg;
	*status = 0;
	rc = ctl_run(c, &proto, method, path, ctype, body, len, &res, &which, err, errlen);
	if (res.answered)
		*status = res.status;
	if (rc == 0 && !res.stopped)
		rc = ctl_lines_finish(&res.lines, ctl_lines_emit, &res);
	else if (rc == 0)
		rc = res.cbret;
	if (rc == CE_CLOSED && res.answered) /* the server ended the stream */
		rc = ctl_lines_finish(&res.lines, ctl_lines_emit, &res);
	if (res.on_line != NULL)
		ctl_lines_close(&res.lines);
	if (rc == 0 && errlen > 0)
		err[0] = '\0';
	return rc;
}
