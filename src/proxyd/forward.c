/* forward.c - one client request through the proxy (etcd's httpproxy
 * reverseProxy, with streaming).
 *
 * The request goes out as HTTP/1.1 with the client's headers minus the
 * hop-by-hop ones etcd drops, its Host kept, and X-Forwarded-For
 * extended. Endpoints are tried in the director's order: one that cannot
 * be reached, or that drops the connection before it answers, is marked
 * failed and the next is tried. A request that may change data is not
 * sent a second time once a member may have acted on it (the connection
 * broke after it was written) unless a second application leaves the
 * same data (is_safe): it is answered 502 rather than risk applying it
 * twice. etcd's proxy sends every request again.
 *
 * Answers: one with a Content-Length of at most PX_BUFFER_MAX is
 * collected and sent whole with the member's status and headers; any
 * other (chunked: watches, long polls, snapshots) is passed on chunk by
 * chunk as it arrives, reading from the member paused while more than
 * PX_PAUSE_BYTES wait for a slow client. Trailers pass through.
 */
#include "config.h"
#include "proxyd/proxyd_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/httpd.h"
#include "ipc/shm.h"
#include "proxyd/upstream.h"
#include "util/buf.h"
#include "util/log.h"

#define PX_BUFFER_MAX (8u << 20)
#define PX_PAUSE_BYTES (1u << 20)

struct px_req {
	struct proxyd *px;
	struct hreq *r;
	struct px_req *next, *prev;   /* on px->live */
	struct buf head;              /* request line and headers, no Host */
	const char *host;             /* the client's Host, or NULL */
	int method;
	int safe;                     /* may be sent again after a member saw it */
	int waiting;                  /* before the first refresh */
	struct px_ep **eps;
	size_t neps, at;
	struct ups_call *call;
	int status;
	int buffered;                 /* Content-Length answer: sent whole */
	size_t head_len;              /* HEAD: the length the member declared */
	struct buf rhead;             /* its headers, "name\0value\0" each */
	struct buf body;
	uint64_t start_ms;
};

/* Headers a proxy does not pass on (etcd's singleHopHeaders), plus the
 * framing and date the two ends set for themselves. */
static const char *const hop_headers[] = { "Connection", "Keep-Alive", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailers", "Transfer-Encoding", "Upgrade", "Content-Length",
	NULL };

static int skipped(const char *name, const char *const *extra)
{
	for (const char *const *h = hop_headers; *h; h++)
		if (strcasecmp(name, *h) == 0)
			return 1;
	for (const char *const *h = extra; h && *h; h++)
		if (strcasecmp(name, *h) == 0)
			return 1;
	return 0;
}

/* has_param: name=... appears among the &-separated parameters of q. */
static int has_param(const char *q, size_t n, const char *name)
{
	size_t l = strlen(name);

	for (size_t i = 0; i + l < n; i++)
		if ((i == 0 || q[i - 1] == '&' || q[i - 1] == '?') && strncmp(q + i, name, l) == 0 &&
			q[i + l] == '=')
			return 1;
	return 0;
}

/* is_safe: sending the request to a second member after the first may
 * have acted on it leaves the same data as sending it once: reads, and
 * writes that set a value unconditionally (a v2 PUT without prevIndex,
 * prevValue or prevExist; a v3 put). A conditional or relative write
 * (compare-and-swap, create, delete, in-order POST, txn) is not. */
static int is_safe(struct hreq *r)
{
	static const char *const reads[] = { "/kv/range", "/kv/put", "/watch",
		"/cluster/member/list", "/maintenance/status", "/maintenance/hash",
		"/maintenance/hashkv", "/lease/timetolive", "/lease/leases", NULL };
	static const char *const conds[] = { "prevIndex", "prevValue", "prevExist", NULL };
	int method = hreq_method(r);
	const char *uri = hreq_uri(r), *rest, *q;
	size_t blen;
	const char *body = hreq_body(r, &blen);

	if (method & (H_GET | H_HEAD | H_OPTIONS))
		return 1;
	if (method == H_PUT && strncmp(uri, "/v2/keys/", 9) == 0) {
		q = strchr(uri, '?');
		for (const char *const *c = conds; *c; c++)
			if ((q && has_param(q + 1, strlen(q + 1), *c)) || has_param(body, blen, *c))
				return 0;
		return 1;
	}
	if (method != H_POST || strncmp(uri, "/v3", 3) != 0 || (rest = strchr(uri + 1, '/')) == NULL)
		return 0;
	for (const char *const *p = reads; *p; p++) {
		size_t n = strlen(*p);
		if (strncmp(rest, *p, n) == 0 && (rest[n] == '\0' || rest[n] == '?'))
			return 1;
	}
	return 0;
}

static void req_free(struct px_req *q)
{
	struct proxyd *px = q->px;

	if (q->prev)
		q->prev->next = q->next;
	else
		px->live = q->next;
	if (q->next)
		q->next->prev = q->prev;
	director_release(q->eps, q->neps);
	buf_close(&q->head);
	buf_close(&q->rhead);
	buf_close(&q->body);
	free(q);
}

/* detach: q's last answer is about to go out; the request may be freed
 * by it, so nothing of q is left hooked to it. */
static void detach(struct px_req *q)
{
	hreq_set_close_cb(q->r, NULL, NULL);
	hreq_set_drain_cb(q->r, NULL, NULL);
}

static void fail_reply(struct px_req *q, int status, const char *msg)
{
	detach(q);
	px_http_error(q->r, status, msg);
	req_free(q);
}

static void try_next(struct px_req *q);

static void on_head(void *arg, const struct ups_head *h)
{
	struct px_req *q = arg;
	static const char *const resp_skip[] = { "Date", "Access-Control-Allow-Headers",
		"Access-Control-Allow-Methods", "Access-Control-Allow-Origin", NULL };

	q->status = h->status;
	q->buffered = h->has_length && (h->length <= PX_BUFFER_MAX || q->method == H_HEAD);
	q->head_len = h->length;
	for (size_t i = 0; i < h->nh; i++) {
		if (skipped(h->names[i], resp_skip))
			continue;
		if (!q->buffered) {
			hreq_add_header(q->r, h->names[i], h->values[i]);
			continue;
		}
		/* kept until the answer is whole: a cut one is answered 502 */
		buf_put(&q->rhead, h->names[i], strlen(h->names[i]) + 1);
		buf_put(&q->rhead, h->values[i], strlen(h->values[i]) + 1);
	}
	if (!q->buffered)
		hreq_reply_start(q->r, h->status);
}

static void on_data(void *arg, const void *p, size_t n)
{
	struct px_req *q = arg;

	if (q->buffered) {
		buf_put(&q->body, p, n);
		return;
	}
	hreq_reply_chunk(q->r, p, n);
	if (hreq_out_pending(q->r) > PX_PAUSE_BYTES)
		ups_pause(q->call);
}

static void on_end(void *arg, const char *trailers)
{
	struct px_req *q = arg;

	q->call = NULL;
	px_count_handled(q->px, q->method, q->status, q->start_ms);
	detach(q);
	if (!q->buffered) {
		hreq_reply_end_trailer(q->r, trailers);
	} else if (q->body.oom || q->rhead.oom) {
		px_http_error(q->r, 500, "httpproxy: out of memory");
	} else {
		for (size_t off = 0; off < q->rhead.len;) {
			const char *name = (const char *)q->rhead.data + off;
			const char *value = name + strlen(name) + 1;
			hreq_add_header(q->r, name, value);
			off += strlen(name) + strlen(value) + 2;
		}
		/* a HEAD answer declares the length without the body */
		hreq_reply(q->r, q->status, q->method == H_HEAD ? (const void *)"" : q->body.data,
			q->method == H_HEAD ? q->head_len : q->body.len);
	}
	req_free(q);
}

static void on_fail(void *arg, int phase, const char *why)
{
	struct px_req *q = arg;
	struct px_ep *ep = q->eps[q->at - 1];
	char msg[512];

	q->call = NULL;
	if (phase == UPS_ANSWER) {
		log_warn("proxy: answer from %s cut: %s", ep->url, why);
		director_failed(q->px, ep);
		px_count_dropped(q->px, q->method, PX_DROP_RESPONSE);
		if (q->buffered) {
			fail_reply(q, 502, "httpproxy: the member's answer was cut short");
		} else {
			detach(q);
			hreq_abort(q->r);
			req_free(q);
		}
		return;
	}
	log_warn("proxy: failed to direct request to %s: %s", ep->url, why);
	director_failed(q->px, ep);
	px_count_dropped(q->px, q->method, PX_DROP_SEND);
	if (phase >= UPS_SENT && !q->safe) {
		snprintf(msg, sizeof(msg), "httpproxy: %s went away after the request reached it; "
			"it may or may not have been applied", ep->url);
		fail_reply(q, 502, msg);
		return;
	}
	try_next(q);
}

static const struct ups_cbs fwd_cbs = { on_head, on_data, on_end, on_fail };

static void try_next(struct px_req *q)
{
	struct buf h;
	char msg[128];

	buf_init(&h);
	while (q->at < q->neps) {
		struct px_ep *ep = q->eps[q->at++];

		buf_reset(&h);
		buf_put(&h, q->head.data, q->head.len);
		buf_puts(&h, "Host: ");
		if (q->host) {
			buf_puts(&h, q->host);
		} else {
			char hp[300];
			snprintf(hp, sizeof(hp), strchr(ep->host, ':') ? "[%s]:%d" : "%s:%d", ep->host,
				ep->port);
			buf_puts(&h, hp);
		}
		buf_put(&h, "\r\n", 2);
		if (h.oom)
			break;
		size_t blen;
		const char *body = hreq_body(q->r, &blen);
		int with_body = blen > 0 || (q->method & (H_POST | H_PUT | H_PATCH));
		q->call = ups_send(q->px->ups, ep->host, ep->port, (const char *)h.data, h.len,
			with_body ? body : NULL, blen, q->method == H_HEAD, &fwd_cbs, q);
		if (q->call != NULL) {
			buf_close(&h);
			return;
		}
		log_warn("proxy: failed to direct request to %s: cannot connect", ep->url);
		director_failed(q->px, ep);
		px_count_dropped(q->px, q->method, PX_DROP_SEND);
	}
	buf_close(&h);
	px_count_dropped(q->px, q->method, PX_DROP_RESPONSE);
	snprintf(msg, sizeof(msg), "httpproxy: unable to get response from %zu endpoint(s)", q->neps);
	log_warn("%s", msg + 11);
	fail_reply(q, 502, msg);
}

static void dispatch(struct px_req *q)
{
	q->waiting = 0;
	q->eps = director_available(q->px, &q->neps);
	if (q->neps == 0) {
		static uint64_t logged_ms;
		uint64_t now = shm_now_ms();
		if (now - logged_ms >= 1000) { /* one line a second, not one per request */
			logged_ms = now;
			log_warn("proxy: zero endpoints currently available");
		}
		px_count_dropped(q->px, q->method, PX_DROP_ZERO);
		fail_reply(q, 503, "httpproxy: zero endpoints currently available");
		return;
	}
	try_next(q);
}

static void on_client_gone(struct hreq *r, void *arg)
{
	struct px_req *q = arg;

	(void)r;
	ups_cancel(q->call);
	q->call = NULL;
	req_free(q);
	/* the server frees r once it is answered: answer into the void */
	hreq_abort(r);
}

static void on_drain(struct hreq *r, void *arg)
{
	struct px_req *q = arg;

	if (q->call && hreq_out_pending(r) <= PX_PAUSE_BYTES / 2)
		ups_resume(q->call);
}

/* build_head writes the request line and the headers to pass on. */
static void build_head(struct px_req *q)
{
	static const char *const req_skip[] = { "Host", "Expect", "X-Forwarded-For", NULL };
	struct hreq *r = q->r;
	struct buf fwd;
	char ip[64];
	const char *v;

	buf_init(&fwd);
	buf_puts(&q->head, hreq_method_name(r));
	buf_put(&q->head, " ", 1);
	buf_puts(&q->head, hreq_uri(r));
	buf_puts(&q->head, " HTTP/1.1\r\n");
	for (size_t i = 0; i < hreq_header_count(r); i++) {
		const char *name = hreq_header_at(r, i, &v);
		if (strcasecmp(name, "X-Forwarded-For") == 0) {
			buf_puts(&fwd, v);
			buf_puts(&fwd, ", ");
		}
		if (skipped(name, req_skip))
			continue;
		buf_puts(&q->head, name);
		buf_put(&q->head, ": ", 2);
		buf_puts(&q->head, v);
		buf_put(&q->head, "\r\n", 2);
	}
	hreq_peer_ip(r, ip, sizeof(ip));
	if (ip[0]) {
		buf_puts(&fwd, ip);
		buf_puts(&q->head, "X-Forwarded-For: ");
		buf_put(&q->head, fwd.data, fwd.len);
		buf_put(&q->head, "\r\n", 2);
	}
	buf_close(&fwd);
	q->host = hreq_header(r, "Host");
}

void forward_request(struct proxyd *px, struct hreq *r)
{
	struct px_req *q = calloc(1, sizeof(*q));

	if (q == NULL) {
		px_http_error(r, 500, "httpproxy: out of memory");
		return;
	}
	q->px = px;
	q->r = r;
	q->method = hreq_method(r);
	q->safe = is_safe(r);
	q->start_ms = shm_now_ms();
	buf_init(&q->head);
	buf_init(&q->rhead);
	buf_init(&q->body);
	q->next = px->live;
	if (px->live)
		px->live->prev = q;
	px->live = q;
	build_head(q);
	if (q->head.oom) {
		fail_reply(q, 500, "httpproxy: out of memory");
		return;
	}
	hreq_set_close_cb(r, on_client_gone, q);
	hreq_set_drain_cb(r, on_drain, q);
	if (!px->refreshed) {
		q->waiting = 1;
		return;
	}
	dispatch(q);
}

void forward_resume_waiting(struct proxyd *px)
{
	struct px_req *q = px->live, *next;

	for (; q; q = next) {
		next = q->next;
		if (q->waiting)
			dispatch(q);
	}
}

void forward_close_all(struct proxyd *px)
{
	while (px->live) {
		struct px_req *q = px->live;
		ups_cancel(q->call);
		req_free(q);
	}
}
