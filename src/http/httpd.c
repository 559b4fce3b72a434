/* httpd.c - the api worker's HTTP/1.1 server: raw libevent events, one
 * read() per readable socket, every complete request in it answered with
 * one write each; epoll is touched only when a send buffer fills up.
 *
 * Life of a connection: it sits on the idle list while no request is
 * pending (the sweep timer closes it after idle_timeout_s), moves to the
 * busy list while its one request is with the handler, and to the linger
 * list when the server closes it after a response (shutdown(SHUT_WR), then
 * wait briefly for the client's FIN so unread input cannot turn into a RST
 * that destroys the response on its way).
 *
 * Re-entrancy: handlers run from inside the read callback and may answer at
 * once; the callbacks and the public reply functions count their nesting
 * in conn.depth and a connection is freed only when the outermost one
 * leaves (conn_leave). The close callback is only ever called from the
 * event loop, never from inside a reply function.
 */
#include "config.h"
#include "http/httpd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "util/buf.h"
#include "util/err.h"

#define RBUF_SIZE 65536           /* shared read buffer */
#define SHRINK_OVER 65536         /* free a buffer bigger than this when idle */
#define LINGER_S 2                /* wait this long for the FIN after closing */
#define ACCEPT_BATCH 256          /* accepts per callback; level-triggered */
#define CHUNK_LINE_MAX 4096       /* a chunk-size line longer than this is bad */
#define DEFAULT_MAX_HEADER (1u << 20)
#define DEFAULT_MAX_BODY (32u << 20)

enum pstate { PS_HEAD, PS_BODY, PS_CHUNK_SIZE, PS_CHUNK_DATA, PS_CHUNK_CRLF, PS_TRAILER };
enum rstate { RS_NONE, RS_STREAM };
enum clist { L_IDLE, L_BUSY, L_LINGER, L_COUNT };

struct hdr {
	const char *name;
	const char *value;
};

struct hreq {
	struct httpd *s;
	struct conn *c;            /* NULL once detached (client gone) */
	struct hreq *dnext, *dprev; /* on httpd.detached while detached */
	int method;
	int minor;
	const char *mname, *uri;   /* point into head */
	struct hdr *hv;
	size_t nh, caph;
	struct buf head;           /* request line + headers, split by NULs */
	struct buf body;           /* de-chunked body, NUL after len */
	struct buf rh;             /* response headers added by the handler */
	hreq_close_cb cb;
	void *cbarg;
	hreq_close_cb drain_cb;    /* queued output written out (streams) */
	void *drain_arg;
	size_t clen;               /* declared Content-Length */
	enum rstate rs;
	unsigned keepalive : 1, close_after : 1, notified : 1, raw_stream : 1,
		no_body : 1, user_conn : 1, expect : 1, chunked : 1;
};

struct conn {
	struct httpd *s;
	int fd;
	struct event *rev, *wev;
	struct conn *next, *prev;
	enum clist where;
	time_t last;               /* last activity, for the idle sweep */
	struct buf in;             /* unparsed input from in_off */
	size_t in_off;
	struct buf out;            /* unsent output from out_off */
	size_t out_off;
	struct hreq *req;
	enum pstate ps;
	size_t hscan;              /* head bytes already scanned for the end */
	size_t rem;                /* body/chunk bytes still to come */
	int depth;
	unsigned busy : 1, dead : 1, rd_eof : 1, wfail : 1, closing : 1,
		discard : 1, lingering : 1, rev_on : 1, wev_on : 1,
		in_dispatch : 1, kick : 1;
};

struct lst {
	struct conn *head, *tail;
};

struct httpd {
	struct event_base *base;
	struct httpd_opts o;
	httpd_handler handler;
	void *arg;
	struct event **lev;
	size_t nlev;
	int accept_paused;
	struct event *sweep;
	struct lst lists[L_COUNT];
	struct hreq *detached;
	struct buf scratch;        /* response head being built */
	time_t date_sec;
	char date[48];             /* "Date: ...\r\n" for date_sec */
	uint8_t rbuf[RBUF_SIZE];
};

static const char bad_request[] = "HTTP/1.1 400 Bad Request\r\n"
	"Content-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"
	"400 Bad Request";
static const char too_large[] = "HTTP/1.1 413 Request Entity Too Large\r\n"
	"Content-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"
	"413 Request Entity Too Large";
static const char not_impl[] = "HTTP/1.1 501 Not Implemented\r\n"
	"Content-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"
	"Unsupported transfer encoding";
static const char continue_100[] = "HTTP/1.1 100 Continue\r\n\r\n";

static void conn_read_cb(evutil_socket_t fd, short what, void *arg);
static void conn_write_cb(evutil_socket_t fd, short what, void *arg);

/* ---- small helpers ---- */

static time_t now_sec(struct httpd *s)
{
	struct timeval tv;

	if (event_base_gettimeofday_cached(s->base, &tv) != 0)
		return time(NULL);
	return tv.tv_sec;
}

/* date_line returns "Date: <RFC 1123 in GMT>\r\n", formatted once a second
 * and without the locale (Go's http.TimeFormat). */
static const char *date_line(struct httpd *s)
{
	static const char *const wd[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const mo[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
		"Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t t = now_sec(s);
	struct tm tm;

	if (t == s->date_sec && s->date[0])
		return s->date;
	gmtime_r(&t, &tm);
	snprintf(s->date, sizeof(s->date), "Date: %s, %02d %s %04d %02d:%02d:%02d GMT\r\n",
		wd[tm.tm_wday % 7], tm.tm_mday, mo[tm.tm_mon % 12], tm.tm_year + 1900,
		tm.tm_hour, tm.tm_min, tm.tm_sec);
	s->date_sec = t;
	return s->date;
}

static const char *reason(int code)
{
	switch (code) {
	case 100: return "Continue";
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 301: return "Moved Permanently";
	case 304: return "Not Modified";
	case 307: return "Temporary Redirect";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 412: return "Precondition Failed";
	case 413: return "Request Entity Too Large";
	case 415: return "Unsupported Media Type";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return "Unknown";
	}
}

/* buf_shrink frees a buffer that grew past SHRINK_OVER once it is empty,
 * so one big request does not pin memory on a long-lived connection. */
static void buf_shrink(struct buf *b)
{
	if (b->len == 0 && b->cap > SHRINK_OVER)
		buf_close(b);
}

static int is_tchar(unsigned char ch)
{
	if (ch >= 'a' && ch <= 'z')
		return 1;
	if (ch >= 'A' && ch <= 'Z')
		return 1;
	if (ch >= '0' && ch <= '9')
		return 1;
	return ch && strchr("!#$%&'*+-.^_`|~", ch) != NULL;
}

/* http_has_token (httpd.h): does the comma-separated list v hold tok? */
int http_has_token(const char *v, const char *tok)
{
	size_t tl = strlen(tok);

	while (*v) {
		while (*v == ' ' || *v == '\t' || *v == ',')
			v++;
		const char *e = v;
		while (*e && *e != ',')
			e++;
		const char *t = e;
		while (t > v && (t[-1] == ' ' || t[-1] == '\t'))
			t--;
		if ((size_t)(t - v) == tl && strncasecmp(v, tok, tl) == 0)
			return 1;
		v = e;
	}
	return 0;
}

/* ---- connection lists ---- */

static void list_del(struct conn *c)
{
	struct lst *l = &c->s->lists[c->where];

	if (c->prev)
		c->prev->next = c->next;
	else
		l->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		l->tail = c->prev;
	c->next = c->prev = NULL;
}

static void list_add(struct conn *c, enum clist where)
{
	struct lst *l = &c->s->lists[where];

	c->where = where;
	c->next = NULL;
	c->prev = l->tail;
	if (l->tail)
		l->tail->next = c;
	else
		l->head = c;
	l->tail = c;
}

/* conn_move puts c at the tail of a list: lists stay ordered by c->last. */
static void conn_move(struct conn *c, enum clist where)
{
	list_del(c);
	c->last = now_sec(c->s);
	list_add(c, where);
}

/* ---- requests ---- */

static struct hreq *req_new(struct httpd *s, struct conn *c)
{
	struct hreq *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->s = s;
	r->c = c;
	buf_init(&r->head);
	buf_init(&r->body);
	buf_init(&r->rh);
	return r;
}

static void req_free(struct hreq *r)
{
	buf_close(&r->head);
	buf_close(&r->body);
	buf_close(&r->rh);
	free(r->hv);
	free(r);
}

/* req_reset readies the connection's request object for the next one. */
static void req_reset(struct hreq *r)
{
	buf_reset(&r->head);
	buf_reset(&r->body);
	buf_reset(&r->rh);
	buf_shrink(&r->head);
	buf_shrink(&r->body);
	buf_shrink(&r->rh);
	if (r->caph > 64) {
		free(r->hv);
		r->hv = NULL;
		r->caph = 0;
	}
	r->nh = 0;
	r->cb = NULL;
	r->cbarg = NULL;
	r->drain_cb = NULL;
	r->drain_arg = NULL;
	r->clen = 0;
	r->rs = RS_NONE;
	r->keepalive = r->close_after = r->notified = r->raw_stream = 0;
	r->no_body = r->user_conn = r->expect = r->chunked = 0;
}

static void detached_del(struct hreq *r)
{
	struct httpd *s = r->s;

	if (r->dprev)
		r->dprev->dnext = r->dnext;
	else
		s->detached = r->dnext;
	if (r->dnext)
		r->dnext->dprev = r->dprev;
	req_free(r);
}

/* ---- connection teardown and event bookkeeping ---- */

static void conn_free(struct conn *c)
{
	struct hreq *r = c->req;

	list_del(c);
	event_free(c->rev);
	event_free(c->wev);
	close(c->fd);
	buf_close(&c->in);
	buf_close(&c->out);
	if (r && c->busy) {
		/* the handler still holds it: keep it until its reply */
		r->c = NULL;
		r->dprev = NULL;
		r->dnext = c->s->detached;
		if (r->dnext)
			r->dnext->dprev = r;
		c->s->detached = r;
	} else if (r) {
		req_free(r);
	}
	free(c);
}

/* conn_drop: the client is gone. A pending request is detached and its
 * close callback told (from the loop only); the connection is freed once
 * the outermost callback leaves. */
static void conn_drop(struct conn *c)
{
	struct hreq *r = c->busy ? c->req : NULL;

	if (c->dead)
		return;
	c->dead = 1;
	if (r == NULL)
		return;
	r->c = NULL;
	c->req = NULL;
	c->busy = 0;
	r->dprev = NULL;
	r->dnext = c->s->detached;
	if (r->dnext)
		r->dnext->dprev = r;
	c->s->detached = r;
	if (r->cb && !r->notified) {
		r->notified = 1;
		r->cb(r, r->cbarg); /* may reply: that frees r */
	}
}

static void set_rev(struct conn *c, int on)
{
	if (on && !c->rev_on)
		event_add(c->rev, NULL);
	else if (!on && c->rev_on)
		event_del(c->rev);
	c->rev_on = on ? 1 : 0;
}

static void set_wev(struct conn *c, int on)
{
	if (on && !c->wev_on)
		event_add(c->wev, NULL);
	else if (!on && c->wev_on)
		event_del(c->wev);
	c->wev_on = on ? 1 : 0;
}

static size_t in_pending(const struct conn *c)
{
	return c->in.len - c->in_off;
}

/* conn_settle decides, with no callback on the stack, whether the
 * connection closes, lingers or waits, and which events it needs. */
static void conn_settle(struct conn *c)
{
	struct httpd *s = c->s;
	int out = c->out.len > c->out_off;

	if (c->dead || (c->wfail && !c->busy)) {
		conn_free(c);
		return;
	}
	if (!c->busy && !c->kick && (c->closing || c->rd_eof)) {
		if (!out && c->rd_eof) {
			conn_free(c);
			return;
		}
		c->discard = 1;
		if (!out && !c->lingering) {
			shutdown(c->fd, SHUT_WR);
			c->lingering = 1;
			conn_move(c, L_LINGER);
		}
	}
	int stall = c->busy && in_pending(c) > s->o.max_header + s->o.max_body;
	set_rev(c, !c->rd_eof && !stall);
	set_wev(c, out);
}

static void conn_enter(struct conn *c)
{
	c->depth++;
}

static void conn_leave(struct conn *c)
{
	if (--c->depth == 0)
		conn_settle(c);
}

/* ---- output ---- */

/* conn_wfail: the socket cannot be written; the read callback, run from the
 * loop, finds out and drops the connection (telling the close callback). */
static void conn_wfail(struct conn *c)
{
	c->wfail = 1;
	buf_reset(&c->out);
	c->out_off = 0;
	event_active(c->rev, EV_READ, 1);
}

/* conn_send writes iov at once if nothing is queued; whatever the kernel
 * does not take is queued and EV_WRITE armed. */
static void conn_send(struct conn *c, struct iovec *iov, int n)
{
	size_t done = 0;

	if (c->wfail || c->dead)
		return;
	if (c->out.len == c->out_off) {
		struct msghdr m;
		ssize_t w;

		memset(&m, 0, sizeof(m));
		m.msg_iov = iov;
		m.msg_iovlen = (size_t)n;
		do
			w = sendmsg(c->fd, &m, MSG_NOSIGNAL);
		while (w < 0 && errno == EINTR);
		if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			conn_wfail(c);
			return;
		}
		done = w > 0 ? (size_t)w : 0;
	}
	for (int i = 0; i < n; i++) {
		if (done >= iov[i].iov_len) {
			done -= iov[i].iov_len;
			continue;
		}
		buf_put(&c->out, (const char *)iov[i].iov_base + done, iov[i].iov_len - done);
		done = 0;
	}
	if (c->out.oom) {
		conn_wfail(c);
		return;
	}
	set_wev(c, c->out.len > c->out_off);
}

static void conn_send1(struct conn *c, const void *p, size_t len)
{
	struct iovec iov = { (void *)p, len };

	conn_send(c, &iov, 1);
}

static void conn_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	ssize_t w;

	conn_enter(c);
	do
		w = send(fd, c->out.data + c->out_off, c->out.len - c->out_off, MSG_NOSIGNAL);
	while (w < 0 && errno == EINTR);
	if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
		c->wfail = 1;
		buf_reset(&c->out);
		c->out_off = 0;
		conn_drop(c);
	} else if (w > 0) {
		c->out_off += (size_t)w;
		if (c->out_off == c->out.len) {
			buf_reset(&c->out);
			c->out_off = 0;
			buf_shrink(&c->out);
			if (c->req && c->req->rs == RS_STREAM && c->req->drain_cb)
				c->req->drain_cb(c->req, c->req->drain_arg);
		}
		if (!c->busy && !c->lingering)
			conn_move(c, L_IDLE);
	}
	conn_leave(c);
}

/* ---- request parsing ---- */

static int head_add(struct hreq *r, const char *name, const char *value)
{
	if (r->nh == r->caph) {
		size_t cap = r->caph ? r->caph * 2 : 16;
		struct hdr *hv = realloc(r->hv, cap * sizeof(*hv));
		if (hv == NULL)
			return -1;
		r->hv = hv;
		r->caph = cap;
	}
	r->hv[r->nh].name = name;
	r->hv[r->nh].value = value;
	r->nh++;
	return 0;
}

static int method_code(const char *m)
{
	static const struct {
		const char *name;
		int code;
	} t[] = {
		{ "GET", H_GET }, { "HEAD", H_HEAD }, { "PUT", H_PUT }, { "POST", H_POST },
		{ "DELETE", H_DELETE }, { "OPTIONS", H_OPTIONS }, { "PATCH", H_PATCH },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcmp(m, t[i].name) == 0)
			return t[i].code;
	return H_OTHER;
}

/* parse_reqline splits "METHOD SP target SP HTTP/1.x" in place. */
static int parse_reqline(struct hreq *r, char *line)
{
	char *sp1 = strchr(line, ' ');
	char *p;

	if (sp1 == NULL || sp1 == line)
		return -1;
	for (p = line; p < sp1; p++)
		if (!is_tchar((unsigned char)*p))
			return -1;
	*sp1 = '\0';
	char *uri = sp1 + 1;
	char *sp2 = strchr(uri, ' ');
	if (sp2 == NULL || sp2 == uri)
		return -1;
	for (p = uri; p < sp2; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p == 0x7f)
			return -1;
	*sp2 = '\0';
	const char *v = sp2 + 1;
	if (strncmp(v, "HTTP/1.", 7) != 0 || v[7] < '0' || v[7] > '9' || v[8] != '\0')
		return -1;
	r->mname = line;
	r->method = method_code(line);
	r->uri = uri;
	r->minor = v[7] - '0';
	return 0;
}

/* parse_field checks one "name: value" line, trims the value and notes
 * the headers that steer framing and keep-alive. */
static int parse_field(struct hreq *r, char *line, int *conn_close, int *conn_ka)
{
	char *colon = strchr(line, ':');
	char *p;

	if (colon == NULL || colon == line)
		return -1;
	for (p = line; p < colon; p++)
		if (!is_tchar((unsigned char)*p))
			return -1;
	*colon = '\0';
	char *v = colon + 1;
	for (p = v; *p; p++)
		if (((unsigned char)*p < 0x20 && *p != '\t') || (unsigned char)*p == 0x7f)
			return -1;
	while (*v == ' ' || *v == '\t')
		v++;
	while (p > v && (p[-1] == ' ' || p[-1] == '\t'))
		*--p = '\0';
	if (head_add(r, line, v) != 0)
		return -1;
	if (strcasecmp(line, "Content-Length") == 0) {
		size_t n = 0;
		if (*v == '\0')
			return -1;
		for (p = v; *p; p++) {
			if (*p < '0' || *p > '9' || n > (SIZE_MAX - 9) / 10)
				return -1;
			n = n * 10 + (size_t)(*p - '0');
		}
		if (r->clen != SIZE_MAX && r->clen != n)
			return -1; /* two different lengths */
		r->clen = n;
	} else if (strcasecmp(line, "Transfer-Encoding") == 0) {
		if (strcasecmp(v, "chunked") == 0)
			r->chunked = 1;
		else if (strcasecmp(v, "identity") != 0)
			return -2; /* Go: 501 */
	} else if (strcasecmp(line, "Connection") == 0) {
		*conn_close |= http_has_token(v, "close");
		*conn_ka |= http_has_token(v, "keep-alive");
	} else if (strcasecmp(line, "Expect") == 0) {
		r->expect |= strcasecmp(v, "100-continue") == 0;
	}
	return 0;
}

/* parse_head copies the request head out of the input (which may move
 * while the request is pending) and splits it in place. */
static int parse_head(struct hreq *r, const uint8_t *p, size_t len)
{
	int conn_close = 0, conn_ka = 0;
	char *line, *end;

	if (memchr(p, '\0', len) != NULL)
		return -1;
	buf_reset(&r->head);
	buf_put(&r->head, p, len);
	buf_put_u8(&r->head, 0);
	if (r->head.oom)
		return -1;
	r->nh = 0;
	r->clen = SIZE_MAX;
	r->mname = NULL;
	line = (char *)r->head.data;
	for (int first = 1;; first = 0) {
		end = strchr(line, '\n');
		if (end == NULL)
			return -1;
		*end = '\0';
		if (end > line && end[-1] == '\r')
			end[-1] = '\0';
		if (*line == '\0')
			break;
		int rc = first ? parse_reqline(r, line) : parse_field(r, line, &conn_close, &conn_ka);
		if (rc != 0)
			return rc;
		line = end + 1;
	}
	if (r->mname == NULL)
		return -1;
	if (r->chunked && r->clen != SIZE_MAX)
		return -1;
	if (r->clen == SIZE_MAX)
		r->clen = 0;
	r->keepalive = r->minor >= 1 ? !conn_close : conn_ka && !conn_close;
	return 0;
}

/* parse_step_head finds the end of the head (resuming where the last scan
 * stopped), parses it and sets up body framing. */
static int parse_step_head(struct conn *c, const uint8_t *p, size_t len, size_t *off)
{
	struct httpd *s = c->s;
	struct hreq *r = c->req;
	size_t start, i, hlen;

	if (c->hscan == 0) /* RFC 7230 3.5: ignore empty lines before a request */
		while (*off < len && (p[*off] == '\r' || p[*off] == '\n'))
			(*off)++;
	start = *off;
	i = start + c->hscan;
	for (;;) {
		const uint8_t *nl = memchr(p + i, '\n', len - i);
		if (nl == NULL) {
			c->hscan = i - start;
			return len - start > s->o.max_header ? 400 : 0;
		}
		size_t ll = (size_t)(nl - (p + i));
		if (ll == 0 || (ll == 1 && p[i] == '\r')) {
			hlen = (size_t)(nl + 1 - (p + start));
			break;
		}
		i = (size_t)(nl + 1 - p);
	}
	c->hscan = 0;
	if (hlen > s->o.max_header)
		return 400;
	int rc = parse_head(r, p + start, hlen);
	if (rc != 0)
		return rc == -2 ? 501 : 400;
	*off = start + hlen;
	if (r->chunked) {
		c->ps = PS_CHUNK_SIZE;
	} else if (r->clen > s->o.max_body) {
		return 413;
	} else if (r->clen > 0) {
		c->ps = PS_BODY;
		c->rem = r->clen;
		if (buf_reserve(&r->body, r->clen + 1) != 0)
			return 413;
	} else {
		return 1;
	}
	if (r->expect && r->minor >= 1 && *off == len)
		conn_send1(c, continue_100, sizeof(continue_100) - 1);
	return 2;
}

/* parse_chunk_size reads "hex[;ext]\r\n"; a zero size starts the trailer. */
static int parse_chunk_size(struct conn *c, const uint8_t *p, size_t len, size_t *off)
{
	const uint8_t *nl = memchr(p + *off, '\n', len - *off);
	size_t n = 0, i = *off;
	int digits = 0;

	if (nl == NULL)
		return len - *off > CHUNK_LINE_MAX ? 400 : 0;
	for (; p + i < nl; i++, digits++) {
		int d;
		if (p[i] >= '0' && p[i] <= '9')
			d = p[i] - '0';
		else if ((p[i] | 0x20) >= 'a' && (p[i] | 0x20) <= 'f')
			d = (p[i] | 0x20) - 'a' + 10;
		else
			break;
		if (n > c->s->o.max_body || n > SIZE_MAX / 16)
			return 413;
		n = n * 16 + (size_t)d;
	}
	if (digits == 0 || (p + i < nl && p[i] != ';' && p[i] != '\r' && p[i] != ' ' && p[i] != '\t'))
		return 400;
	*off = (size_t)(nl + 1 - p);
	if (n == 0) {
		c->ps = PS_TRAILER;
		return 2;
	}
	if (n > c->s->o.max_body || c->req->body.len + n > c->s->o.max_body)
		return 413;
	c->rem = n;
	c->ps = PS_CHUNK_DATA;
	return 2;
}

/* parse_step runs one state of the request parser: 1 request complete,
 * 2 progress, 0 needs more input, 400, 413 or 501 an answer to give. */
static int parse_step(struct conn *c, const uint8_t *p, size_t len, size_t *off)
{
	struct hreq *r = c->req;
	size_t n;

	switch (c->ps) {
	case PS_HEAD:
		return parse_step_head(c, p, len, off);
	case PS_CHUNK_SIZE:
		return parse_chunk_size(c, p, len, off);
	case PS_BODY:
	case PS_CHUNK_DATA:
		n = len - *off < c->rem ? len - *off : c->rem;
		if (n == 0)
			return 0;
		buf_put(&r->body, p + *off, n);
		*off += n;
		c->rem -= n;
		if (c->rem == 0)
			c->ps = c->ps == PS_BODY ? PS_HEAD : PS_CHUNK_CRLF;
		return c->ps == PS_HEAD ? 1 : 2;
	case PS_CHUNK_CRLF:
		if (*off < len && p[*off] == '\n') {
			(*off)++;
		} else if (*off + 1 < len && p[*off] == '\r' && p[*off + 1] == '\n') {
			*off += 2;
		} else if (*off == len || (*off + 1 == len && p[*off] == '\r')) {
			return 0;
		} else {
			return 400;
		}
		c->ps = PS_CHUNK_SIZE;
		return 2;
	case PS_TRAILER: {
		const uint8_t *nl = memchr(p + *off, '\n', len - *off);
		if (nl == NULL)
			return len - *off > c->s->o.max_header ? 400 : 0;
		size_t ll = (size_t)(nl - (p + *off));
		int last = ll == 0 || (ll == 1 && p[*off] == '\r');
		*off = (size_t)(nl + 1 - p);
		if (!last)
			return 2;
		c->ps = PS_HEAD;
		return 1;
	}
	}
	return 400;
}

static int parse(struct conn *c, const uint8_t *p, size_t len, size_t *off)
{
	int rc;

	do
		rc = parse_step(c, p, len, off);
	while (rc == 2);
	if (rc == 1) {
		struct buf *b = &c->req->body;
		buf_put_u8(b, 0); /* handlers may treat the body as a string */
		if (b->oom)
			return 413;
		b->len--;
	}
	return rc;
}

/* ---- dispatch ---- */

static void conn_reject(struct conn *c, int code)
{
	if (code == 413)
		conn_send1(c, too_large, sizeof(too_large) - 1);
	else if (code == 501)
		conn_send1(c, not_impl, sizeof(not_impl) - 1);
	else
		conn_send1(c, bad_request, sizeof(bad_request) - 1);
	c->closing = 1;
	c->ps = PS_HEAD;
	c->hscan = 0;
}

static void dispatch(struct conn *c)
{
	struct httpd *s = c->s;

	c->busy = 1;
	conn_move(c, L_BUSY);
	c->in_dispatch = 1;
	s->handler(c->req, s->arg);
	c->in_dispatch = 0;
}

/* conn_process answers every complete request in p[*off..len) until one
 * is left pending with the handler. */
static void conn_process(struct conn *c, const uint8_t *p, size_t len, size_t *off)
{
	while (!c->busy && !c->dead && !c->wfail && !c->closing && !c->discard) {
		int rc = parse(c, p, len, off);
		if (rc == 0)
			return;
		if (rc != 1) {
			conn_reject(c, rc);
			return;
		}
		dispatch(c);
	}
}

/* in_consumed keeps the unparsed input at the front of c->in. */
static void in_consumed(struct conn *c, size_t off)
{
	struct buf *in = &c->in;

	if (c->closing || c->discard || c->dead || off >= in->len) {
		buf_reset(in);
		c->in_off = 0;
		buf_shrink(in);
		return;
	}
	if (off > 0) {
		memmove(in->data, in->data + off, in->len - off);
		in->len -= off;
	}
	c->in_off = 0;
}

/* req_done: the reply is complete; reuse the request object and go on with
 * any pipelined input from the loop (never re-entering a handler). */
static void req_done(struct conn *c)
{
	struct hreq *r = c->req;

	if (r->close_after || !r->keepalive || r->raw_stream)
		c->closing = 1;
	req_reset(r);
	c->busy = 0;
	conn_move(c, L_IDLE);
	if (!c->in_dispatch && !c->closing && in_pending(c) > 0) {
		c->kick = 1;
		event_active(c->rev, EV_READ, 1);
	}
}

/* ---- reading ---- */

static void on_eof(struct conn *c)
{
	struct hreq *r = c->req;

	c->rd_eof = 1;
	/* Like Go, a client that hangs up while its request is pending
	 * cancels it; with pipelined input still queued it is only a
	 * half-close and the queue is served first. */
	if (c->busy && in_pending(c) == 0 && r->cb && !r->notified) {
		r->notified = 1;
		r->cb(r, r->cbarg);
	}
}

static void read_discard(struct conn *c)
{
	ssize_t n = read(c->fd, c->s->rbuf, RBUF_SIZE);

	if (n == 0)
		c->rd_eof = 1;
	else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		c->dead = 1;
}

static void read_input(struct conn *c)
{
	struct httpd *s = c->s;
	int shared = in_pending(c) == 0 && !c->busy;
	uint8_t *dst;
	size_t room, off;
	ssize_t n;

	if (shared) {
		buf_reset(&c->in);
		c->in_off = 0;
		dst = s->rbuf;
		room = RBUF_SIZE;
	} else {
		if (buf_reserve(&c->in, 16384) != 0) {
			conn_drop(c);
			return;
		}
		dst = c->in.data + c->in.len;
		room = c->in.cap - c->in.len;
	}
	n = read(c->fd, dst, room);
	if (n < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			conn_drop(c);
		return;
	}
	if (n == 0) {
		on_eof(c);
		return;
	}
	if (!c->busy)
		conn_move(c, L_IDLE);
	if (shared) {
		off = 0;
		conn_process(c, s->rbuf, (size_t)n, &off);
		if (!c->closing && !c->dead && off < (size_t)n)
			buf_put(&c->in, s->rbuf + off, (size_t)n - off);
		if (c->in.oom)
			conn_drop(c);
		return;
	}
	c->in.len += (size_t)n;
	off = c->in_off;
	if (!c->busy)
		conn_process(c, c->in.data, c->in.len, &off);
	in_consumed(c, off);
}

static void conn_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	conn_enter(c);
	if (c->wfail) {
		conn_drop(c);
	} else if (c->kick) {
		size_t off = c->in_off;
		c->kick = 0;
		conn_process(c, c->in.data, c->in.len, &off);
		in_consumed(c, off);
	} else if (c->discard) {
		read_discard(c);
	} else if (!c->rd_eof) {
		read_input(c);
	}
	conn_leave(c);
}

/* ---- accepting ---- */

static void conn_new(struct httpd *s, int fd)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		goto fail;
	c->s = s;
	c->fd = fd;
	buf_init(&c->in);
	buf_init(&c->out);
	c->req = req_new(s, c);
	if (c->req == NULL)
		goto fail_c;
	c->rev = event_new(s->base, fd, EV_READ | EV_PERSIST, conn_read_cb, c);
	if (c->rev == NULL)
		goto fail_req;
	c->wev = event_new(s->base, fd, EV_WRITE | EV_PERSIST, conn_write_cb, c);
	if (c->wev == NULL)
		goto fail_rev;
	c->last = now_sec(s);
	list_add(c, L_IDLE);
	set_rev(c, 1);
	return;
fail_rev:
	event_free(c->rev);
fail_req:
	req_free(c->req);
fail_c:
	free(c);
fail:
	close(fd);
}

static void accept_pause(struct httpd *s)
{
	for (size_t i = 0; i < s->nlev; i++)
		event_del(s->lev[i]);
	s->accept_paused = 1;
}

static void accept_cb(evutil_socket_t lfd, short what, void *arg)
{
	struct httpd *s = arg;
	int one = 1;

	for (int i = 0; i < ACCEPT_BATCH; i++) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			/* out of descriptors or memory: the level-triggered
			 * listener would spin, so rest until the next sweep */
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
				accept_pause(s);
			return; /* EAGAIN: another process took it, or none left */
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)); /* fails on AF_UNIX: fine */
		conn_new(s, fd);
	}
}

/* sweep_cb runs every second: idle and lingering connections past their
 * time are closed; both lists are ordered by last activity. */
static void sweep_cb(evutil_socket_t fd, short what, void *arg)
{
	struct httpd *s = arg;
	time_t now = now_sec(s);
	struct conn *c;

	if (s->o.idle_timeout_s > 0)
		while ((c = s->lists[L_IDLE].head) && now - c->last >= s->o.idle_timeout_s)
			conn_free(c);
	while ((c = s->lists[L_LINGER].head) && now - c->last >= LINGER_S)
		conn_free(c);
	if (s->accept_paused) {
		s->accept_paused = 0;
		for (size_t i = 0; i < s->nlev; i++)
			event_add(s->lev[i], NULL);
	}
}

/* ---- server ---- */

struct httpd *httpd_new(struct event_base *base, const struct httpd_opts *opts,
	httpd_handler handler, void *arg)
{
	struct httpd *s = calloc(1, sizeof(*s));
	struct timeval sec = { 1, 0 };

	if (s == NULL)
		return NULL;
	s->base = base;
	if (opts)
		s->o = *opts;
	if (s->o.max_header == 0)
		s->o.max_header = DEFAULT_MAX_HEADER;
	if (s->o.max_body == 0)
		s->o.max_body = DEFAULT_MAX_BODY;
	s->handler = handler;
	s->arg = arg;
	buf_init(&s->scratch);
	s->sweep = event_new(base, -1, EV_PERSIST, sweep_cb, s);
	if (s->sweep == NULL || event_add(s->sweep, &sec) != 0) {
		if (s->sweep)
			event_free(s->sweep);
		free(s);
		return NULL;
	}
	return s;
}

int httpd_listen_fd(struct httpd *s, int fd)
{
	struct event **lev;
	struct event *ev;

	if (fd < 0)
		return CE_INVAL;
	lev = realloc(s->lev, (s->nlev + 1) * sizeof(*lev));
	if (lev == NULL)
		return CE_NOMEM;
	s->lev = lev;
	ev = event_new(s->base, fd, EV_READ | EV_PERSIST, accept_cb, s);
	if (ev == NULL)
		return CE_NOMEM;
	if (!s->accept_paused && event_add(ev, NULL) != 0) {
		event_free(ev);
		return CE_INVAL;
	}
	s->lev[s->nlev++] = ev;
	return 0;
}

void httpd_free(struct httpd *s)
{
	struct conn *c;

	if (s == NULL)
		return;
	for (size_t i = 0; i < s->nlev; i++)
		event_free(s->lev[i]);
	free(s->lev);
	event_free(s->sweep);
	for (int l = 0; l < L_COUNT; l++) {
		while ((c = s->lists[l].head) != NULL) {
			c->busy = 0; /* pending requests go with their connection */
			conn_free(c);
		}
	}
	while (s->detached)
		detached_del(s->detached);
	buf_close(&s->scratch);
	free(s);
}

/* ---- request accessors ---- */

int hreq_method(const struct hreq *r)
{
	return r->method;
}

const char *hreq_method_name(const struct hreq *r)
{
	return r->mname;
}

const char *hreq_uri(const struct hreq *r)
{
	return r->uri;
}

int hreq_minor(const struct hreq *r)
{
	return r->minor;
}

const char *hreq_header(const struct hreq *r, const char *name)
{
	for (size_t i = 0; i < r->nh; i++)
		if (strcasecmp(r->hv[i].name, name) == 0)
			return r->hv[i].value;
	return NULL;
}

size_t hreq_header_count(const struct hreq *r)
{
	return r->nh;
}

const char *hreq_header_at(const struct hreq *r, size_t i, const char **value)
{
	if (i >= r->nh)
		return NULL;
	*value = r->hv[i].value;
	return r->hv[i].name;
}

void hreq_peer_ip(const struct hreq *r, char *out, size_t outlen)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	out[0] = '\0';
	if (r->c == NULL || getpeername(r->c->fd, (struct sockaddr *)&ss, &sl) != 0)
		return;
	if (ss.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, out, (socklen_t)outlen);
	else if (ss.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, out, (socklen_t)outlen);
}

const char *hreq_body(const struct hreq *r, size_t *len)
{
	if (len)
		*len = r->body.len;
	return r->body.data ? (const char *)r->body.data : "";
}

/* ---- responses ---- */

void hreq_add_header(struct hreq *r, const char *name, const char *value)
{
	if (r->c == NULL || r->rs != RS_NONE)
		return;
	if (strcasecmp(name, "Connection") == 0) {
		r->user_conn = 1;
		if (http_has_token(value, "close"))
			r->close_after = 1;
	}
	buf_puts(&r->rh, name);
	buf_put(&r->rh, ": ", 2);
	for (const char *v = value; *v; v++) /* no header injection */
		buf_put_u8(&r->rh, *v == '\r' || *v == '\n' ? ' ' : (uint8_t)*v);
	buf_put(&r->rh, "\r\n", 2);
}

static int closes_after(const struct hreq *r)
{
	return r->close_after || !r->keepalive || r->raw_stream;
}

/* resp_head builds the response head in the server's scratch buffer in
 * the order etcd 3.4's Go server uses: status line (HTTP/1.0 to a 1.0
 * client), handler headers, Date, framing (Content-Length or
 * Transfer-Encoding), Connection. Go says "close" only to 1.1 clients and
 * "keep-alive" only to 1.0 clients that asked for it. */
static struct buf *resp_head(struct hreq *r, int status, const char *framing)
{
	struct buf *h = &r->s->scratch;
	char line[64];
	int n = snprintf(line, sizeof(line), "HTTP/1.%d %03d %s\r\n", r->minor ? 1 : 0,
		status, reason(status));

	buf_reset(h);
	buf_put(h, line, (size_t)n);
	buf_put(h, r->rh.data, r->rh.len);
	buf_puts(h, date_line(r->s));
	if (framing)
		buf_puts(h, framing);
	if (!r->user_conn && closes_after(r) && r->minor >= 1)
		buf_puts(h, "Connection: close\r\n");
	else if (!r->user_conn && !closes_after(r) && r->minor == 0)
		buf_puts(h, "Connection: keep-alive\r\n");
	buf_put(h, "\r\n", 2);
	return h;
}

static int body_allowed(int status)
{
	return status >= 200 && status != 204 && status != 304;
}

void hreq_reply(struct hreq *r, int status, const void *body, size_t len)
{
	struct conn *c = r->c;
	struct iovec iov[2];
	char cl[48];

	if (c == NULL) {
		detached_del(r);
		return;
	}
	if (r->rs != RS_NONE)
		return;
	conn_enter(c);
	if (body_allowed(status))
		snprintf(cl, sizeof(cl), "Content-Length: %zu\r\n", len);
	struct buf *h = resp_head(r, status, body_allowed(status) ? cl : NULL);
	iov[0].iov_base = h->data;
	iov[0].iov_len = h->len;
	iov[1].iov_base = (void *)body;
	iov[1].iov_len = body_allowed(status) && r->method != H_HEAD ? len : 0;
	if (h->oom)
		conn_wfail(c);
	else
		conn_send(c, iov, iov[1].iov_len ? 2 : 1);
	req_done(c);
	conn_leave(c);
}

void hreq_reply_start(struct hreq *r, int status)
{
	struct conn *c = r->c;

	if (c == NULL || r->rs != RS_NONE)
		return;
	conn_enter(c);
	r->rs = RS_STREAM;
	r->no_body = r->method == H_HEAD || !body_allowed(status);
	/* HTTP/1.0 has no chunked coding: the body ends with the connection */
	r->raw_stream = !r->no_body && r->minor == 0;
	struct buf *h = resp_head(r, status,
		r->no_body || r->raw_stream ? NULL : "Transfer-Encoding: chunked\r\n");
	if (h->oom)
		conn_wfail(c);
	else
		conn_send1(c, h->data, h->len);
	conn_leave(c);
}

void hreq_reply_chunk(struct hreq *r, const void *p, size_t len)
{
	struct conn *c = r->c;
	char hex[24];
	struct iovec iov[3];

	if (c == NULL || r->rs != RS_STREAM || len == 0 || r->no_body)
		return;
	conn_enter(c);
	if (r->raw_stream) {
		conn_send1(c, p, len);
	} else {
		int n = snprintf(hex, sizeof(hex), "%zx\r\n", len);
		iov[0].iov_base = hex;
		iov[0].iov_len = (size_t)n;
		iov[1].iov_base = (void *)p;
		iov[1].iov_len = len;
		iov[2].iov_base = (void *)"\r\n";
		iov[2].iov_len = 2;
		conn_send(c, iov, 3);
	}
	conn_leave(c);
}

void hreq_reply_end_trailer(struct hreq *r, const char *trailers)
{
	struct conn *c = r->c;

	if (c == NULL) {
		detached_del(r);
		return;
	}
	conn_enter(c);
	if (r->rs == RS_NONE)
		hreq_reply_start(r, 200);
	if (!r->no_body && !r->raw_stream) {
		struct iovec iov[3] = { { (void *)"0\r\n", 3 },
			{ (void *)trailers, trailers ? strlen(trailers) : 0 }, { (void *)"\r\n", 2 } };
		conn_send(c, iov, 3);
	}
	req_done(c);
	conn_leave(c);
}

void hreq_reply_end(struct hreq *r)
{
	hreq_reply_end_trailer(r, NULL);
}

int http_only(struct hreq *r, int methods, const char *allow)
{
	if (r->method & methods)
		return 1;
	hreq_add_header(r, "Allow", allow);
	hreq_add_header(r, "X-Content-Type-Options", "nosniff");
	hreq_add_header(r, "Content-Type", "text/plain; charset=utf-8");
	hreq_reply(r, 405, "Method Not Allowed\n", 19);
	return 0;
}

int http_cors(struct hreq *r)
{
	hreq_add_header(r, "Access-Control-Allow-Headers", "accept, content-type, authorization");
	hreq_add_header(r, "Access-Control-Allow-Methods", "POST, GET, OPTIONS, PUT, DELETE");
	hreq_add_header(r, "Access-Control-Allow-Origin", "*");
	if (r->method != H_OPTIONS)
		return 0;
	hreq_reply(r, 200, NULL, 0);
	return 1;
}

void hreq_abort(struct hreq *r)
{
	struct conn *c = r->c;

	if (c == NULL) {
		detached_del(r);
		return;
	}
	conn_enter(c);
	r->close_after = 1;
	req_done(c);
	conn_leave(c);
}

void hreq_set_close_cb(struct hreq *r, hreq_close_cb cb, void *arg)
{
	r->cb = cb;
	r->cbarg = arg;
}

void hreq_set_drain_cb(struct hreq *r, hreq_close_cb cb, void *arg)
{
	r->drain_cb = cb;
	r->drain_arg = arg;
}

size_t hreq_out_pending(const struct hreq *r)
{
	const struct conn *c = r->c;

	return c ? c->out.len - c->out_off : 0;
}

void hreq_close_after(struct hreq *r)
{
	r->close_after = 1;
}
