/* upstream.c - the proxy worker's HTTP/1.1 client (upstream.h).
 *
 * A connection is a bufferevent with at most one call on it. The answer
 * is parsed as it arrives: status line and headers (at most
 * UPS_MAX_HEAD bytes, interim 1xx answers skipped), then a body framed by
 * Content-Length, by chunked coding (trailers kept) or by the end of the
 * connection. A connection whose answer ended cleanly and may be kept
 * alive goes back to its host's idle list; an idle connection that
 * becomes readable (the member closed it) is dropped.
 *
 * Callbacks may cancel or pause the call they report on; `depth` counts
 * the callbacks running so that a cancelled call is freed only once the
 * outermost one returns.
 */
#include "config.h"
#include "proxyd/upstream.h"

#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "http/httpd.h"
#include "util/buf.h"

#define UPS_MAX_HEAD (64u * 1024u)
#define UPS_MAX_HEADERS 256
#define UPS_MAX_LINE 4096u
#define UPS_IDLE_S 60 /* an idle kept-alive connection is closed after this */

enum ups_rstate { RS_HEAD, RS_LENGTH, RS_CHUNK_SIZE, RS_CHUNK_DATA, RS_CHUNK_CRLF, RS_TRAILER,
	RS_CLOSE, RS_DONE };

struct ups_host;

struct ups_conn {
	struct ups_pool *p;
	struct ups_host *host;
	struct bufferevent *bev;
	struct ups_conn *next;  /* on host->idle while idle */
	struct ups_call *call;  /* the call using it, or NULL while idle */
	int connected;
	struct addrinfo *ai;    /* the host's addresses while connecting */
	struct addrinfo *ai_at; /* the one being tried */
};

struct ups_host {
	char *name;
	int port;
	struct ups_conn *idle;
	int nidle;
	struct ups_host *next;
};

struct ups_call {
	struct ups_pool *p;
	struct ups_conn *conn;
	struct ups_cbs cbs;
	void *arg;
	int phase;
	int is_head;
	int paused;
	int depth;     /* callbacks of this call on the stack */
	int dead;      /* cancelled or finished: free when depth is 0 */
	int keepalive; /* the answer lets the connection be reused */
	int eof;       /* the member closed the connection */
	enum ups_rstate rs;
	size_t rem;    /* body or chunk bytes still to come */
	struct buf trailers;
};

struct ups_pool {
	struct event_base *base;
	struct ups_opts o;
	struct ups_host *hosts;
};

static struct timeval ms_tv(int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	return tv;
}

struct ups_pool *ups_pool_new(struct event_base *base, const struct ups_opts *o)
{
	struct ups_pool *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	p->base = base;
	p->o = *o;
	return p;
}

static void conn_free(struct ups_conn *c)
{
	if (c->bev)
		bufferevent_free(c->bev);
	if (c->ai)
		freeaddrinfo(c->ai);
	free(c);
}

void ups_pool_free(struct ups_pool *p)
{
	if (p == NULL)
		return;
	while (p->hosts) {
		struct ups_host *h = p->hosts;
		p->hosts = h->next;
		while (h->idle) {
			struct ups_conn *c = h->idle;
			h->idle = c->next;
			conn_free(c);
		}
		free(h->name);
		free(h);
	}
	free(p);
}

static struct ups_host *host_get(struct ups_pool *p, const char *name, int port)
{
	struct ups_host *h;

	for (h = p->hosts; h; h = h->next)
		if (h->port == port && strcmp(h->name, name) == 0)
			return h;
	if ((h = calloc(1, sizeof(*h))) == NULL || (h->name = strdup(name)) == NULL) {
		free(h);
		return NULL;
	}
	h->port = port;
	h->next = p->hosts;
	p->hosts = h;
	return h;
}

static void idle_remove(struct ups_conn *c)
{
	for (struct ups_conn **pp = &c->host->idle; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			c->host->nidle--;
			return;
		}
	}
}

/* ---- ending a call ---- */

static void call_free(struct ups_call *k)
{
	buf_close(&k->trailers);
	free(k);
}

/* call_release ends k's use of its connection: back to the idle list if
 * the answer ended cleanly, else closed. */
static void call_release(struct ups_call *k, int reuse)
{
	struct ups_conn *c = k->conn;

	k->conn = NULL;
	if (c == NULL)
		return;
	c->call = NULL;
	if (reuse && c->host->nidle < k->p->o.max_idle_per_host &&
		evbuffer_get_length(bufferevent_get_input(c->bev)) == 0) {
		/* dropped before the member's own idle cut (cetcd: 120 s), so a
		 * request is never written into a connection it is closing */
		struct timeval idle = { UPS_IDLE_S, 0 };
		bufferevent_set_timeouts(c->bev, &idle, NULL);
		bufferevent_enable(c->bev, EV_READ);
		c->next = c->host->idle;
		c->host->idle = c;
		c->host->nidle++;
		return;
	}
	conn_free(c);
}

static void call_fail(struct ups_call *k, const char *why)
{
	int phase = k->phase;

	if (k->dead)
		return;
	k->dead = 1;
	call_release(k, 0);
	k->depth++;
	k->cbs.on_fail(k->arg, phase, why);
	k->depth--;
	if (k->depth == 0)
		call_free(k);
}

static void call_end(struct ups_call *k)
{
	const char *tr = NULL;

	k->rs = RS_DONE;
	k->dead = 1;
	if (k->trailers.len) { /* NUL-end first: that may move the data */
		buf_put(&k->trailers, "", 1);
		tr = k->trailers.oom ? NULL : (const char *)k->trailers.data;
	}
	call_release(k, k->keepalive);
	k->depth++;
	k->cbs.on_end(k->arg, tr);
	k->depth--;
	if (k->depth == 0)
		call_free(k);
}

void ups_cancel(struct ups_call *k)
{
	if (k == NULL || k->dead)
		return;
	k->dead = 1;
	call_release(k, 0);
	if (k->depth == 0)
		call_free(k);
}

/* ---- parsing the answer ---- */

/* parse_head takes the status line and headers out of text (NUL-ended,
 * without the final empty line); 0, 1 for an interim answer to skip, or
 * -1 for a malformed one. */
static int parse_head(struct ups_call *k, char *text)
{
	const char *names[UPS_MAX_HEADERS], *values[UPS_MAX_HEADERS];
	struct ups_head h;
	char *save = NULL, *line;
	int minor, chunked = 0, close = 0, keep = 0;

	memset(&h, 0, sizeof(h));
	line = strtok_r(text, "\n", &save);
	if (line == NULL || sscanf(line, "HTTP/1.%d %3d", &minor, &h.status) != 2 ||
		h.status < 100 || h.status > 999)
		return -1;
	if (h.status < 200 && h.status != 101)
		return 1;
	while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
		size_t l = strlen(line);
		char *colon, *v;

		if (l && line[l - 1] == '\r')
			line[--l] = '\0';
		if (l == 0)
			continue;
		if ((colon = strchr(line, ':')) == NULL || colon == line || h.nh >= UPS_MAX_HEADERS)
			return -1;
		*colon = '\0';
		for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
			;
		for (char *e = v + strlen(v); e > v && (e[-1] == ' ' || e[-1] == '\t'); e--)
			e[-1] = '\0';
		if (strcasecmp(line, "Transfer-Encoding") == 0 && http_has_token(v, "chunked"))
			chunked = 1;
		else if (strcasecmp(line, "Connection") == 0)
			close |= http_has_token(v, "close"), keep |= http_has_token(v, "keep-alive");
		else if (strcasecmp(line, "Content-Length") == 0) {
			char *end;
			unsigned long long n = strtoull(v, &end, 10);
			if (*v < '0' || *v > '9' || *end != '\0')
				return -1;
			h.has_length = 1;
			h.length = (size_t)n;
		}
		names[h.nh] = line;
		values[h.nh++] = v;
	}
	h.names = names;
	h.values = values;
	k->keepalive = !close && (minor >= 1 || keep);
	if (chunked)
		h.has_length = 0;
	if (k->is_head || h.status == 204 || h.status == 304) {
		h.has_length = 1;
		k->rs = RS_DONE;
	} else if (chunked) {
		k->rs = RS_CHUNK_SIZE;
	} else if (h.has_length) {
		k->rs = RS_LENGTH;
		k->rem = h.length;
	} else {
		k->rs = RS_CLOSE;
		k->keepalive = 0;
	}
	k->phase = UPS_ANSWER;
	k->cbs.on_head(k->arg, &h);
	return 0;
}

/* read_head: 1 when the head was taken, 0 to wait for more, -1 failed. */
static int read_head(struct ups_call *k, struct evbuffer *in)
{
	for (;;) {
		struct evbuffer_ptr e = evbuffer_search(in, "\r\n\r\n", 4, NULL);
		char *text;
		int r;

		if (e.pos < 0) {
			if (evbuffer_get_length(in) > UPS_MAX_HEAD) {
				call_fail(k, "answer headers too large");
				return -1;
			}
			return 0;
		}
		if ((size_t)e.pos > UPS_MAX_HEAD) {
			call_fail(k, "answer headers too large");
			return -1;
		}
		if ((text = malloc((size_t)e.pos + 1)) == NULL) {
			call_fail(k, "out of memory");
			return -1;
		}
		evbuffer_remove(in, text, (size_t)e.pos);
		evbuffer_drain(in, 4);
		text[e.pos] = '\0';
		r = parse_head(k, text);
		free(text);
		if (r < 0) {
			call_fail(k, "malformed answer from the member");
			return -1;
		}
		if (r == 0)
			return 1;
	}
}

/* deliver hands up to n body bytes to on_data. */
static void deliver(struct ups_call *k, struct evbuffer *in, size_t n)
{
	while (n > 0 && !k->dead) {
		struct evbuffer_iovec v;
		size_t take;

		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
			break;
		take = v.iov_len < n ? v.iov_len : n;
		k->cbs.on_data(k->arg, v.iov_base, take);
		if (k->dead)
			return;
		evbuffer_drain(in, take);
		n -= take;
		if (k->rs == RS_LENGTH || k->rs == RS_CHUNK_DATA)
			k->rem -= take;
		if (k->paused)
			return;
	}
}

/* read_chunk_line reads a chunk-size or trailer line; NULL to wait. */
static char *read_chunk_line(struct ups_call *k, struct evbuffer *in, size_t *len)
{
	char *line = evbuffer_readln(in, len, EVBUFFER_EOL_CRLF);

	if (line == NULL && evbuffer_get_length(in) > UPS_MAX_LINE)
		call_fail(k, "malformed chunked answer");
	return line;
}

/* parse_body runs the body states over what arrived. */
static void parse_body(struct ups_call *k, struct evbuffer *in)
{
	while (!k->dead && !k->paused) {
		size_t avail = evbuffer_get_length(in), l;
		char *line, *end = NULL;

		switch (k->rs) {
		case RS_DONE:
			call_end(k);
			return;
		case RS_LENGTH:
			if (k->rem == 0) {
				k->rs = RS_DONE;
				continue;
			}
			if (avail == 0)
				return;
			deliver(k, in, avail < k->rem ? avail : k->rem);
			continue;
		case RS_CLOSE:
			if (avail == 0)
				return;
			deliver(k, in, avail);
			continue;
		case RS_CHUNK_SIZE:
			if ((line = read_chunk_line(k, in, &l)) == NULL)
				return;
			errno = 0;
			end = line;
			if (isxdigit((unsigned char)line[0]) && line[1] != 'x' && line[1] != 'X')
				k->rem = (size_t)strtoull(line, &end, 16);
			if (end == line || errno != 0 ||
				(*end != '\0' && *end != ';' && *end != ' ' && *end != '\t')) {
				free(line);
				call_fail(k, "malformed chunked answer");
				return;
			}
			free(line);
			k->rs = k->rem ? RS_CHUNK_DATA : RS_TRAILER;
			continue;
		case RS_CHUNK_DATA:
			if (k->rem == 0) {
				k->rs = RS_CHUNK_CRLF;
				continue;
			}
			if (avail == 0)
				return;
			deliver(k, in, avail < k->rem ? avail : k->rem);
			continue;
		case RS_CHUNK_CRLF:
			if ((line = read_chunk_line(k, in, &l)) == NULL)
				return;
			free(line);
			if (l != 0) {
				call_fail(k, "malformed chunked answer");
				return;
			}
			k->rs = RS_CHUNK_SIZE;
			continue;
		case RS_TRAILER:
			if ((line = read_chunk_line(k, in, &l)) == NULL)
				return;
			if (l == 0) {
				free(line);
				k->rs = RS_DONE;
				continue;
			}
			if (k->trailers.len + l > UPS_MAX_HEAD) {
				free(line);
				call_fail(k, "answer trailers too large");
				return;
			}
			buf_put(&k->trailers, line, l);
			buf_put(&k->trailers, "\r\n", 2);
			free(line);
			continue;
		case RS_HEAD:
			return;
		}
	}
}

/* run parses what arrived; after the member closed the connection (eof)
 * a body that ends with the connection is complete, any other is cut. */
static void run(struct ups_call *k)
{
	struct evbuffer *in = bufferevent_get_input(k->conn->bev);
	int r = 1;

	k->depth++;
	if (k->rs == RS_HEAD)
		r = read_head(k, in);
	if (r > 0)
		parse_body(k, in);
	if (r >= 0 && !k->dead && !k->paused && k->eof) {
		if (k->rs == RS_CLOSE) {
			k->keepalive = 0;
			call_end(k);
		} else {
			call_fail(k, "the member closed the connection");
		}
	}
	k->depth--;
	if (k->dead && k->depth == 0)
		call_free(k);
}

/* ---- connection events ---- */

static int conn_next_addr(struct ups_conn *c);
static void set_call_timeouts(struct ups_conn *c, int sent);

static void read_cb(struct bufferevent *bev, void *arg)
{
	struct ups_conn *c = arg;

	(void)bev;
	if (c->call == NULL) { /* idle: the member spoke out of turn */
		idle_remove(c);
		conn_free(c);
		return;
	}
	if (c->call->phase < UPS_SENT) {
		c->call->phase = UPS_SENT;
		set_call_timeouts(c, 1);
	}
	run(c->call);
}

/* set_call_timeouts: the write timeout while the request is sent, then
 * the read timeout for each wait for the answer. */
static void set_call_timeouts(struct ups_conn *c, int sent)
{
	const struct ups_opts *o = &c->p->o;
	struct timeval r = ms_tv(o->read_timeout_ms), w = ms_tv(o->write_timeout_ms);

	bufferevent_set_timeouts(c->bev, sent && o->read_timeout_ms > 0 ? &r : NULL,
		o->write_timeout_ms > 0 ? &w : NULL);
}

static void write_cb(struct bufferevent *bev, void *arg)
{
	struct ups_conn *c = arg;

	(void)bev;
	if (c->call && c->call->phase < UPS_SENT) {
		c->call->phase = UPS_SENT;
		set_call_timeouts(c, 1);
	}
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct ups_conn *c = arg;
	struct ups_call *k = c->call;
	char why[160];

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		c->connected = 1;
		freeaddrinfo(c->ai);
		c->ai = c->ai_at = NULL;
		if (k) {
			k->phase = UPS_SENDING;
			set_call_timeouts(c, 0);
		}
		return;
	}
	if (!c->connected && k && c->ai_at && c->ai_at->ai_next && conn_next_addr(c) == 0)
		return; /* e.g. "localhost" is ::1 first, the member on 127.0.0.1 */
	if (k == NULL) {
		idle_remove(c);
		conn_free(c);
		return;
	}
	if (what & BEV_EVENT_EOF) {
		k->eof = 1;
		run(k); /* what arrived before the end may complete the answer */
		return;
	}
	if (what & BEV_EVENT_TIMEOUT)
		snprintf(why, sizeof(why), "%s timeout", !c->connected ? "dial" :
			(what & BEV_EVENT_WRITING) ? "write" : "read");
	else
		snprintf(why, sizeof(why), "%s",
			evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	call_fail(k, why);
}

/* conn_connect starts connecting c to the address c->ai_at: a new
 * bufferevent (the request already queued moves over). 0 or -1. */
static int conn_connect(struct ups_conn *c)
{
	struct bufferevent *old = c->bev;
	struct timeval dial = ms_tv(c->p->o.dial_timeout_ms);
	int one = 1;

	c->bev = bufferevent_socket_new(c->p->base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		c->bev = old;
		return -1;
	}
	if (old) {
		bufferevent_write_buffer(c->bev, bufferevent_get_output(old));
		bufferevent_free(old);
	}
	bufferevent_setcb(c->bev, read_cb, write_cb, event_cb, c);
	/* the connect wait is a write wait: its timeout is the dial timeout */
	bufferevent_set_timeouts(c->bev, NULL, c->p->o.dial_timeout_ms > 0 ? &dial : NULL);
	if (bufferevent_socket_connect(c->bev, c->ai_at->ai_addr, (int)c->ai_at->ai_addrlen) != 0)
		return -1;
	if (bufferevent_getfd(c->bev) >= 0)
		setsockopt(bufferevent_getfd(c->bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	return 0;
}

static int conn_next_addr(struct ups_conn *c)
{
	while (c->ai_at && (c->ai_at = c->ai_at->ai_next) != NULL)
		if (conn_connect(c) == 0)
			return 0;
	return -1;
}

static struct ups_conn *conn_dial(struct ups_pool *p, struct ups_host *h)
{
	struct addrinfo hints;
	struct ups_conn *c;
	char port[16];

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->p = p;
	c->host = h;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof(port), "%d", h->port);
	if (getaddrinfo(h->name, port, &hints, &c->ai) != 0 || c->ai == NULL) {
		c->ai = NULL;
		free(c);
		return NULL;
	}
	c->ai_at = c->ai;
	if (conn_connect(c) != 0 && conn_next_addr(c) != 0) {
		conn_free(c);
		return NULL;
	}
	return c;
}

struct ups_call *ups_send(struct ups_pool *p, const char *host, int port, const char *head,
	size_t headlen, const void *body, size_t bodylen, int is_head, const struct ups_cbs *cbs,
	void *arg)
{
	struct ups_host *h = host_get(p, host, port);
	struct ups_call *k;
	struct ups_conn *c;
	struct evbuffer *out;

	if (h == NULL || (k = calloc(1, sizeof(*k))) == NULL)
		return NULL;
	if ((c = h->idle) != NULL) {
		h->idle = c->next;
		h->nidle--;
		c->next = NULL;
	} else if ((c = conn_dial(p, h)) == NULL) {
		free(k);
		return NULL;
	}
	k->p = p;
	k->conn = c;
	k->cbs = *cbs;
	k->arg = arg;
	k->is_head = is_head;
	k->rs = RS_HEAD;
	k->phase = c->connected ? UPS_SENDING : UPS_CONNECT;
	buf_init(&k->trailers);
	c->call = k;
	if (c->connected)
		set_call_timeouts(c, 0);
	out = bufferevent_get_output(c->bev);
	evbuffer_add(out, head, headlen);
	if (body != NULL)
		evbuffer_add_printf(out, "Content-Length: %zu\r\n", bodylen);
	evbuffer_add(out, "\r\n", 2);
	if (bodylen)
		evbuffer_add(out, body, bodylen);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	return k;
}

void ups_pause(struct ups_call *k)
{
	if (k == NULL || k->dead || k->paused)
		return;
	k->paused = 1;
	if (k->conn)
		bufferevent_disable(k->conn->bev, EV_READ);
}

void ups_resume(struct ups_call *k)
{
	if (k == NULL || k->dead || !k->paused)
		return;
	k->paused = 0;
	if (k->conn == NULL)
		return;
	bufferevent_enable(k->conn->bev, EV_READ);
	if (k->depth == 0)
		run(k); /* what arrived before the pause */
}
