/* test_httpd.c - the HTTP/1.1 server against real loopback sockets.
 *
 * One thread: the test drives the server's event_base with EVLOOP_NONBLOCK
 * between its own non-blocking socket reads, and plays the "later" side of
 * asynchronous handlers by calling hreq_* directly. Every wait is bounded.
 */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "http/httpd.h"

static const char bad_request[] = "HTTP/1.1 400 Bad Request\r\n"
	"Content-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"
	"400 Bad Request";
static const char not_impl[] = "HTTP/1.1 501 Not Implemented\r\n"
	"Content-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"
	"Unsupported transfer encoding";
static const char too_large[] = "HTTP/1.1 413 Request Entity Too Large\r\n"
	"Content-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"
	"413 Request Entity Too Large";

/* ---- fixture: a server on 127.0.0.1:<ephemeral> ---- */

static struct {
	struct event_base *base;
	struct httpd *s;
	int lfd;
	int port;
	int calls;
	int closed;              /* close callbacks seen */
	struct hreq *pending;    /* request held by an async handler */
	int last_method;
	int last_minor;
	char last_mname[32];
	char last_body[4096];
	size_t last_blen;
} T;

static char *big_body;
#define BIG_LEN (4u << 20)

static void on_close(struct hreq *r, void *arg)
{
	ck_assert_ptr_eq(r, T.pending);
	T.closed++;
}

static void handler(struct hreq *r, void *arg)
{
	const char *uri = hreq_uri(r);
	size_t blen;
	const char *body = hreq_body(r, &blen);
	char out[8192];

	T.calls++;
	T.last_method = hreq_method(r);
	T.last_minor = hreq_minor(r);
	snprintf(T.last_mname, sizeof(T.last_mname), "%s", hreq_method_name(r));
	T.last_blen = blen;
	if (blen < sizeof(T.last_body))
		memcpy(T.last_body, body, blen + 1); /* the NUL after the body too */
	if (strncmp(uri, "/async", 6) == 0 || strncmp(uri, "/stream", 7) == 0) {
		T.pending = r;
		hreq_set_close_cb(r, on_close, NULL);
		if (uri[1] == 's')
			hreq_reply_start(r, 200);
		return;
	}
	if (strcmp(uri, "/big") == 0) {
		hreq_reply(r, 200, big_body, BIG_LEN);
		return;
	}
	if (strcmp(uri, "/close") == 0)
		hreq_close_after(r);
	if (strcmp(uri, "/hdr") == 0) {
		const char *v = hreq_header(r, "x-foo");
		snprintf(out, sizeof(out), "[%s]", v ? v : "(null)");
		hreq_reply(r, 200, out, strlen(out));
		return;
	}
	if (strcmp(uri, "/nocontent") == 0) {
		hreq_reply(r, 204, NULL, 0);
		return;
	}
	hreq_add_header(r, "X-Test", "1");
	hreq_add_header(r, "Content-Type", "text/plain");
	int n = snprintf(out, sizeof(out), "%s %s %zu:%.*s", hreq_method_name(r), uri, blen,
		(int)(blen < 4000 ? blen : 4000), body);
	hreq_reply(r, 200, out, (size_t)n);
}

static void fx_start(int idle_s)
{
	struct sockaddr_in a;
	socklen_t al = sizeof(a);
	struct httpd_opts o = { .max_body = 1024, .max_header = 2048, .idle_timeout_s = idle_s };

	memset(&T, 0, sizeof(T));
	T.base = event_base_new();
	ck_assert_ptr_nonnull(T.base);
	T.lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(T.lfd, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(T.lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(T.lfd, 128), 0);
	ck_assert_int_eq(getsockname(T.lfd, (struct sockaddr *)&a, &al), 0);
	T.port = ntohs(a.sin_port);
	T.s = httpd_new(T.base, &o, handler, NULL);
	ck_assert_ptr_nonnull(T.s);
	ck_assert_int_eq(httpd_listen_fd(T.s, T.lfd), 0);
}

static void fx_stop(void)
{
	httpd_free(T.s);
	close(T.lfd);
	event_base_free(T.base);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

static void pump(int ms)
{
	long end = now_ms() + ms;

	do {
		event_base_loop(T.base, EVLOOP_NONBLOCK);
		usleep(1000);
	} while (now_ms() < end);
}

/* ---- client side ---- */

struct cbuf {
	char *d;
	size_t n, cap;
	int eof;
};

static int cl_connect(void)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)T.port);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return fd;
}

static void cl_send(int fd, const void *p, size_t n)
{
	ck_assert_int_eq(send(fd, p, n, MSG_NOSIGNAL), (ssize_t)n);
}

static void cl_sends(int fd, const char *str)
{
	cl_send(fd, str, strlen(str));
}

/* cl_poll runs the server once and takes what has arrived on fd. */
static void cl_poll(int fd, struct cbuf *b)
{
	event_base_loop(T.base, EVLOOP_NONBLOCK);
	for (;;) {
		if (b->cap - b->n < 65536) {
			b->cap = b->cap ? b->cap * 2 : 1 << 17;
			b->d = realloc(b->d, b->cap + 1);
			ck_assert_ptr_nonnull(b->d);
		}
		ssize_t r = recv(fd, b->d + b->n, b->cap - b->n, MSG_DONTWAIT);
		if (r > 0) {
			b->n += (size_t)r;
			continue;
		}
		if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
			b->eof = 1;
		break;
	}
	b->d[b->n] = '\0';
	struct pollfd p = { fd, POLLIN, 0 };
	poll(&p, 1, 1);
}

static void cb_free(struct cbuf *b)
{
	free(b->d);
	memset(b, 0, sizeof(*b));
}

/* A parsed response: status, head text, decoded body (malloc'd). */
struct resp {
	int status;
	char head[4096];
	char *body;
	size_t blen;
};

static const char *resp_hdr(const struct resp *r, const char *name, char *val, size_t vl)
{
	size_t nl = strlen(name);

	for (const char *p = strstr(r->head, "\r\n"); p && p[2]; p = strstr(p + 2, "\r\n")) {
		if (strncasecmp(p + 2, name, nl) == 0 && p[2 + nl] == ':') {
			const char *v = p + 3 + nl;
			while (*v == ' ')
				v++;
			size_t n = strcspn(v, "\r");
			snprintf(val, vl, "%.*s", (int)n, v);
			return val;
		}
	}
	return NULL;
}

/* resp_parse takes one response from p; 0 if it is not complete yet. */
static size_t resp_parse(const char *p, size_t len, int eof, int head_req, struct resp *r)
{
	const char *e = memmem(p, len, "\r\n\r\n", 4);
	char v[64];

	if (e == NULL)
		return 0;
	size_t hl = (size_t)(e + 4 - p);
	ck_assert_uint_lt(hl, sizeof(r->head));
	memcpy(r->head, p, hl);
	r->head[hl] = '\0';
	ck_assert_int_eq(sscanf(r->head, "HTTP/1.%*d %d ", &r->status), 1);
	r->body = NULL;
	r->blen = 0;
	if (r->status < 200 || r->status == 204 || head_req)
		return hl;
	if (resp_hdr(r, "Transfer-Encoding", v, sizeof(v))) {
		ck_assert_str_eq(v, "chunked");
		size_t off = hl;
		char *body = malloc(len + 1);
		size_t bl = 0;
		for (;;) {
			const char *nl = memmem(p + off, len - off, "\r\n", 2);
			if (nl == NULL)
				goto more;
			size_t n = strtoul(p + off, NULL, 16);
			off = (size_t)(nl + 2 - p);
			if (len - off < n + 2)
				goto more;
			ck_assert_int_eq(memcmp(p + off + n, "\r\n", 2), 0);
			memcpy(body + bl, p + off, n);
			bl += n;
			off += n + 2;
			if (n == 0) {
				r->body = body;
				r->blen = bl;
				body[bl] = '\0';
				return off;
			}
		}
more:
		free(body);
		return 0;
	}
	size_t n;
	if (resp_hdr(r, "Content-Length", v, sizeof(v)))
		n = strtoul(v, NULL, 10);
	else if (eof)
		n = len - hl; /* delimited by the close */
	else
		return 0;
	if (len - hl < n)
		return 0;
	r->body = malloc(n + 1);
	memcpy(r->body, p + hl, n);
	r->body[n] = '\0';
	r->blen = n;
	return hl + n;
}

/* cl_responses waits (bounded) for `want` complete responses on fd and
 * parses them into rs; returns how many arrived. */
static int cl_responses(int fd, struct cbuf *b, struct resp *rs, int want, int head_req, int ms)
{
	long end = now_ms() + ms;
	int got;

	for (;;) {
		size_t off = 0;
		cl_poll(fd, b);
		for (got = 0; got < want; got++) {
			size_t n = resp_parse(b->d + off, b->n - off, b->eof, head_req, &rs[got]);
			if (n == 0)
				break;
			off += n;
		}
		if (got == want) {
			memmove(b->d, b->d + off, b->n - off);
			b->n -= off;
			b->d[b->n] = '\0';
			return got;
		}
		for (int i = 0; i < got; i++)
			free(rs[i].body);
		if (b->eof || now_ms() > end)
			return got;
	}
}

static void cl_wait_eof(int fd, struct cbuf *b, int ms)
{
	long end = now_ms() + ms;

	while (!b->eof && now_ms() < end)
		cl_poll(fd, b);
}

static void resps_free(struct resp *rs, int n)
{
	for (int i = 0; i < n; i++)
		free(rs[i].body);
}

/* get1 sends one request and returns its response (which must come). */
static void get1(int fd, struct cbuf *b, const char *req, struct resp *r)
{
	cl_sends(fd, req);
	ck_assert_int_eq(cl_responses(fd, b, r, 1, strncmp(req, "HEAD", 4) == 0, 3000), 1);
}

/* ---- tests ---- */

START_TEST(test_get_keepalive)
{
	struct cbuf b = { 0 };
	struct resp r;
	char v[128];

	fx_start(0);
	int fd = cl_connect();
	get1(fd, &b, "GET /a?x=1 HTTP/1.1\r\nHost: x\r\n\r\n", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.body, "GET /a?x=1 0:");
	ck_assert_int_eq(T.last_method, H_GET);
	ck_assert_int_eq(T.last_minor, 1);
	ck_assert_ptr_nonnull(strstr(r.head, "HTTP/1.1 200 OK\r\nX-Test: 1\r\nContent-Type: text/plain\r\nDate: "));
	ck_assert_ptr_nonnull(resp_hdr(&r, "Date", v, sizeof(v)));
	ck_assert_uint_eq(strlen(v), 29); /* "Tue, 24 Nov 2026 11:30:44 GMT" */
	ck_assert_str_eq(v + 26, "GMT");
	ck_assert_int_eq(v[3], ',');
	ck_assert_ptr_nonnull(resp_hdr(&r, "Content-Length", v, sizeof(v)));
	ck_assert_str_eq(v, "13");
	ck_assert_ptr_null(resp_hdr(&r, "Connection", v, sizeof(v)));
	resps_free(&r, 1);
	get1(fd, &b, "GET /second HTTP/1.1\r\nHost: x\r\n\r\n", &r);
	ck_assert_str_eq(r.body, "GET /second 0:");
	resps_free(&r, 1);
	ck_assert_int_eq(T.calls, 2);
	ck_assert_int_eq(b.eof, 0);
	close(fd);
	cb_free(&b);
	fx_stop();
}
END_TEST

START_TEST(test_pipelined)
{
	struct cbuf b = { 0 };
	struct resp r[3];

	fx_start(0);
	int fd = cl_connect();
	cl_sends(fd, "GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n"
		"POST /3 HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc");
	ck_assert_int_eq(cl_responses(fd, &b, r, 3, 0, 3000), 3);
	ck_assert_str_eq(r[0].body, "GET /1 0:");
	ck_assert_str_eq(r[1].body, "GET /2 0:");
	ck_assert_str_eq(r[2].body, "POST /3 3:abc");
	resps_free(r, 3);
	/* an async request holds back the one pipelined behind it */
	cl_sends(fd, "GET /async HTTP/1.1\r\n\r\nGET /after HTTP/1.1\r\n\r\n");
	pump(100);
	ck_assert_int_eq(T.calls, 4);
	ck_assert_ptr_nonnull(T.pending);
	ck_assert_int_eq(cl_responses(fd, &b, r, 1, 0, 50), 0);
	hreq_reply(T.pending, 201, "late", 4);
	T.pending = NULL;
	ck_assert_int_eq(cl_responses(fd, &b, r, 2, 0, 3000), 2);
	ck_assert_int_eq(r[0].status, 201);
	ck_assert_ptr_nonnull(strstr(r[0].head, "HTTP/1.1 201 Created\r\n"));
	ck_assert_str_eq(r[0].body, "late");
	ck_assert_str_eq(r[1].body, "GET /after 0:");
	resps_free(r, 2);
	ck_assert_int_eq(T.closed, 0);
	close(fd);
	cb_free(&b);
	fx_stop();
}
END_TEST

START_TEST(test_head_and_204)
{
	struct cbuf b = { 0 };
	struct resp r;
	char v[64];

	fx_start(0);
	int fd = cl_connect();
	get1(fd, &b, "HEAD /h HTTP/1.1\r\n\r\n", &r);
	ck_assert_int_eq(T.last_method, H_HEAD);
	ck_assert_ptr_nonnull(resp_hdr(&r, "Content-Length", v, sizeof(v)));
	ck_assert_str_eq(v, "10"); /* the length of "HEAD /h 0:" */
	resps_free(&r, 1);
	pump(20);
	cl_poll(fd, &b);
	ck_assert_uint_eq(b.n, 0); /* no body bytes */
	get1(fd, &b, "GET /nocontent HTTP/1.1\r\n\r\n", &r);
	ck_assert_int_eq(r.status, 204);
	ck_assert_ptr_null(resp_hdr(&r, "Content-Length", v, sizeof(v)));
	resps_free(&r, 1);
	get1(fd, &b, "GET /x HTTP/1.1\r\n\r\n", &r);
	ck_assert_str_eq(r.body, "GET /x 0:");
	resps_free(&r, 1);
	close(fd);
	cb_free(&b);
	fx_stop();
}
END_TEST

START_TEST(test_post_body_and_headers)
{
	struct cbuf b = { 0 };
	struct resp r;

	fx_start(0);
	int fd = cl_connect();
	get1(fd, &b, "POST /p HTTP/1.1\r\nContent-Length: 11\r\n\r\nhello world", &r);
	ck_assert_str_eq(r.body, "POST /p 11:hello world");
	ck_assert_str_eq(T.last_body, "hello world");
	resps_free(&r, 1);
	get1(fd, &b, "GET /hdr HTTP/1.1\r\nx-FOO: \t bar baz \t\r\n\r\n", &r);
	ck_assert_str_eq(r.body, "[bar baz]");
	resps_free(&r, 1);
	get1(fd, &b, "TRACE /t HTTP/1.1\r\n\r\n", &r);
	ck_assert_int_eq(T.last_method, H_OTHER);
	ck_assert_str_eq(T.last_mname, "TRACE");
	resps_free(&r, 1);
	get1(fd, &b, "PATCH /t HTTP/1.1\r\n\r\n", &r);
	ck_assert_int_eq(T.last_method, H_PATCH);
	resps_free(&r, 1);
	close(fd);
	cb_free(&b);
	fx_stop();
}
END_TEST

START_TEST(test_chunked_body)
{
	struct cbuf b = { 0 };
	struct resp r;
	const char *req = "PUT /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
		"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer: x\r\n\r\n";

	fx_start(0);
	int fd = cl_connect();
	get1(fd, &b, req, &r);
	ck_assert_str_eq(r.body, "PUT /c 11:hello world");
	resps_free(&r, 1);
	/* the same, one byte at a time */
	for (const char *p = req; *p; p++) {
		cl_send(fd, p, 1);
		pump(1);
	}
	ck_assert_int_eq(cl_responses(fd, &b, &r, 1, 0, 3000), 1);
	ck_assert_str_eq(r.body, "PUT /c 11:hello world");
	resps_free(&r, 1);
	ck_assert_int_eq(T.calls, 2);
	close(fd);
	cb_free(&b);
	fx_stop();
}
END_TEST

START_TEST(test_expect_continue)
{
	struct cbuf b = { 0 };
	struct resp r;
	static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";

	fx_start(0);
	int fd = cl_connect();
	cl_sends(fd, "PUT /e HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
	long end = now_ms() + 3000;
	while (b.n < sizeof(cont) - 1 && now_ms() < end)
		cl_poll(fd, &b);
	ck_assert_str_eq(b.d, cont);
	b.n = 0;
	ck_assert_int_eq(T.calls, 0);
	get1(fd, &b, "hello", &r);
	ck_assert_str_eq(r.body, "PUT /e 5:hello");
	resps_free(&r, 1);
	/* body sent along with the head: no 100 */
	get1(fd, &b, "PUT /e HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.body, "PUT /e 2:hi");
	resps_free(&r, 1);
	close(fd);
	cb_free(&b);
	fx_stop();
}
END_TEST

START_TEST(test_http10)
{
	struct cbuf b = { 0 };
	struct resp r;
	char v[64];

	fx_start(0);
	int fd = cl_connect();
	get1(fd, &b, "GET /old HTTP/1.0\r\n\r\n", &r);
	ck_assert_int_eq(T.last_minor, 0);
	/* as Go: a 1.0 status line, and no "Connection: close" to 1.0 */
	ck_assert_ptr_null(resp_hdr(&r, "Connection", v, sizeof(v)));
	ck_assert_ptr_nonnull(strstr(r.head, "HTTP/1.0 200 OK\r\n"));
	resps_free(&r, 1);
	cl_wait_eof(fd, &b, 3000);
	ck_assert_int_eq(b.eof, 1);
	ck_assert_uint_eq(b.n, 0);
	close(fd);
	cb_free(&b);

	fd = cl_connect();
	get1(fd, &b, "GET /ka HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &r);
	ck_assert_str_eq(resp_hdr(&r, "Connection", v, sizeof(v)), "keep-alive");
	ck_assert_ptr_nonnull(strstr(r.head, "\r\nContent-Length: 10\r\nConnection: keep-alive\r\n\r\n"));
	resps_free(&r, 1);
	get1(fd, &b, "GET /ka2 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", &r);
	ck_assert_str_eq(r.body, "GET /ka2 0:");
	resps_free(&r, 1);
	ck_assert_int_eq(b.eof, 0);
	close(fd);
	cb_free(&b);
	fx_stop();
}
END_TEST

START_TEST(test_connection_close)
{
	struct cbuf b = { 0 };
	struct resp r;
	char v[64];

	fx_start(0);
	int fd = cl_connect();
	/* the request after the one asking to close is never answered */
	cl_sends(fd, "GET /c HTTP/1.1\r\nConnection: close\r\n\r\nGET /never HTTP/1.1\r\n\r\n");
	ck_assert_int_eq(cl_responses(fd, &b, &r, 1, 0, 3000), 1);
	ck_assert_str_eq(resp_hdr(&r, "Connection", v, sizeof(v)), "close");
	/* Go's order: Date, Content-Length, Connection */
	ck_assert_ptr_nonnull(strstr(r.head, " GMT\r\nContent-Length: 9\r\nConnection: close\r\n\r\n"));
	resps_free(&r, 1);
	cl_wait_eof(fd, &b, 3000);
	ck_assert_int_eq(b.eof, 1);
	ck_assert_uint_eq(b.n, 0);
	ck_assert_int_eq(T.calls, 1);
	close(fd);
	cb_free(&b);

	fd = cl_connect(); /* the handler asks to close */
	get1(fd, &b, "GET /close HTTP/1.1\r\n\r\n", &r);
	ck_assert_str_eq(resp_hdr(&r, "Connection", v, sizeof(v)), "close");
	resps_free(&r, 1);
	cl_wait_eof(fd, &b, 3000);
	ck_assert_int_eq(b.eof, 1);
	close(fd);
	cb_free(&b);
	fx_stop();
}
END_TEST

static void expect_reject(const void *req, size_t len, const char *answer)
{
	struct cbuf b = { 0 };
	int fd = cl_connect();

	cl_send(fd, req, len);
	cl_wait_eof(fd, &b, 3000);
	ck_assert_msg(b.eof, "no close after %.*s", (int)(len > 40 ? 40 : len), (const char *)req);
	ck_assert_msg(b.n == strlen(answer) && memcmp(b.d, answer, b.n) == 0,
		"request %.40s got [%s]", (const char *)req, b.d);
	close(fd);
	cb_free(&b);
}

START_TEST(test_malformed)
{
	static const char *const bad[] = {
		"garbage\r\n\r\n",
		"GET / HTTP/9.9\r\n\r\n",
		"GET / HTTP/2.0\r\n\r\n",
		"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
		"GET /\r\n\r\n",
		"GET  / HTTP/1.1\r\n\r\n",
		"G(T / HTTP/1.1\r\n\r\n",
		"GET / HTTP/1.1\r\nbad header\r\n\r\n",
		"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n",
		"GET / HTTP/1.1\r\n continued: x\r\n\r\n",
		"POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
		"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
		"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx",
		"POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
		"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXY",
	};
	static const char binary[] = { 0x16, 0x03, 0x01, 0x00, (char)0xa5, 0x01, 0x00, '\r', '\n', '\r', '\n' };
	char huge[4096];

	fx_start(0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_reject(bad[i], strlen(bad[i]), bad_request);
	expect_reject(binary, sizeof(binary), bad_request);
	static const char gzip[] = "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n";
	expect_reject(gzip, sizeof(gzip) - 1, not_impl); /* as Go */
	/* a head over max_header (2048), complete or not */
	memset(huge, 'a', sizeof(huge));
	memcpy(huge, "GET / HTTP/1.1\r\nX-Big: ", 23);
	expect_reject(huge, sizeof(huge), bad_request);
	memcpy(huge + sizeof(huge) - 4, "\r\n\r\n", 4);
	expect_reject(huge, sizeof(huge), bad_request);
	ck_assert_int_eq(T.calls, 0);
	fx_stop();
}
END_TEST

START_TEST(test_too_large)
{
	static const char cl[] = "PUT /x HTTP/1.1\r\nContent-Length: 2000\r\n\r\n";
	static const char ch[] = "PUT /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
		"200\r\n";
	char body[600];
	struct cbuf b = { 0 };
	struct resp r;

	fx_start(0);
	expect_reject(cl, sizeof(cl) - 1, too_large);
	/* decided before the body: Expect gets the 413 and no 100 */
	expect_reject("PUT /x HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5000\r\n\r\n",
		strlen("PUT /x HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5000\r\n\r\n"),
		too_large);
	/* chunked: 512 + 512 + 1 > 1024 */
	memset(body, 'z', sizeof(body));
	int fd = cl_connect();
	cl_sends(fd, ch);
	cl_send(fd, body, 512);
	cl_sends(fd, "\r\n200\r\n");
	cl_send(fd, body, 512);
	cl_sends(fd, "\r\n1\r\n");
	cl_wait_eof(fd, &b, 3000);
	ck_assert_int_eq(b.eof, 1);
	ck_assert_str_eq(b.d, too_large);
	close(fd);
	cb_free(&b);
	/* exactly max_body is fine */
	fd = cl_connect();
	char req[2048];
	int n = snprintf(req, sizeof(req), "PUT /ok HTTP/1.1\r\nContent-Length: 1024\r\n\r\n");
	memset(req + n, 'q', 1024);
	req[n + 1024] = '\0';
	get1(fd, &b, req, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_uint_eq(T.last_blen, 1024);
	resps_free(&r, 1);
	close(fd);
	cb_free(&b);
	ck_assert_int_eq(T.calls, 1);
	fx_stop();
}
END_TEST

static void late_reply(evutil_socket_t fd, short what, void *arg)
{
	hreq_add_header(T.pending, "X-Late", "yes");
	hreq_reply(T.pending, 200, "from timer", 10);
	T.pending = NULL;
}

START_TEST(test_async_reply)
{
	struct cbuf b = { 0 };
	struct resp r;
	struct timeval tv = { 0, 50000 };
	char v[16];

	fx_start(0);
	int fd = cl_connect();
	cl_sends(fd, "GET /async HTTP/1.1\r\n\r\n");
	pump(20);
	ck_assert_ptr_nonnull(T.pending);
	event_base_once(T.base, -1, EV_TIMEOUT, late_reply, NULL, &tv);
	ck_assert_int_eq(cl_responses(fd, &b, &r, 1, 0, 3000), 1);
	ck_assert_str_eq(r.body, "from timer");
	ck_assert_str_eq(resp_hdr(&r, "X-Late", v, sizeof(v)), "yes");
	resps_free(&r, 1);
	ck_assert_ptr_null(T.pending);
	get1(fd, &b, "GET /next HTTP/1.1\r\n\r\n", &r);
	ck_assert_str_eq(r.body, "GET /next 0:");
	resps_free(&r, 1);
	close(fd);
	cb_free(&b);
	fx_stop();
}
END_TEST

START_TEST(test_stream)
{
	struct cbuf b = { 0 };
	struct resp r;
	long end;

	fx_start(0);
	int fd = cl_connect();
	cl_sends(fd, "GET /stream HTTP/1.1\r\n\r\n");
	end = now_ms() + 3000;
	while (!strstr(b.d ? b.d : "", "\r\n\r\n") && now_ms() < end)
		cl_poll(fd, &b);
	ck_assert_ptr_nonnull(strstr(b.d, "HTTP/1.1 200 OK\r\nDate: "));
	ck_assert_ptr_nonnull(strstr(b.d, " GMT\r\nTransfer-Encoding: chunked\r\n\r\n"));
	char *body = strstr(b.d, "\r\n\r\n") + 4;
	size_t hl = (size_t)(body - b.d);
	hreq_reply_chunk(T.pending, "a", 1);
	/* the chunk is on the wire at once, without running the loop */
	struct pollfd p = { fd, POLLIN, 0 };
	ck_assert_int_eq(poll(&p, 1, 1000), 1);
	while (b.n < hl + 6 && now_ms() < end)
		cl_poll(fd, &b);
	ck_assert_str_eq(b.d + hl, "1\r\na\r\n");
	hreq_reply_chunk(T.pending, "", 0); /* skipped, not the end */
	hreq_reply_chunk(T.pending, "bb", 2);
	hreq_reply_chunk(T.pending, "ccc", 3);
	hreq_reply_end(T.pending);
	T.pending = NULL;
	while (b.n < hl + 26 && now_ms() < end)
		cl_poll(fd, &b);
	ck_assert_str_eq(b.d + hl, "1\r\na\r\n2\r\nbb\r\n3\r\nccc\r\n0\r\n\r\n");
	b.n = 0;
	get1(fd, &b, "GET /after HTTP/1.1\r\n\r\n", &r);
	ck_assert_str_eq(r.body, "GET /after 0:");
	resps_free(&r, 1);
	close(fd);
	cb_free(&b);

	/* HTTP/1.0 has no chunks: raw body, closed at the end */
	fd = cl_connect();
	cl_sends(fd, "GET /stream HTTP/1.0\r\n\r\n");
	pump(20);
	hreq_reply_chunk(T.pending, "xyz", 3);
	hreq_reply_end(T.pending);
	T.pending = NULL;
	cl_wait_eof(fd, &b, 3000);
	ck_assert_ptr_nonnull(strstr(b.d, "HTTP/1.0 200 OK\r\n"));
	ck_assert_ptr_null(strstr(b.d, "Connection"));
	ck_assert_ptr_null(strstr(b.d, "Transfer-Encoding"));
	ck_assert_str_eq(strstr(b.d, "\r\n\r\n"), "\r\n\r\nxyz");
	close(fd);
	cb_free(&b);
	fx_stop();
}
END_TEST

START_TEST(test_disconnect)
{
	struct cbuf b = { 0 };
	struct resp r;
	long end;

	fx_start(0);
	/* orderly close (FIN) */
	int fd = cl_connect();
	cl_sends(fd, "GET /async HTTP/1.1\r\n\r\n");
	pump(20);
	ck_assert_ptr_nonnull(T.pending);
	close(fd);
	end = now_ms() + 3000;
	while (T.closed == 0 && now_ms() < end)
		pump(5);
	ck_assert_int_eq(T.closed, 1);
	pump(50);
	ck_assert_int_eq(T.closed, 1);
	hreq_reply(T.pending, 200, "nobody", 6);
	T.pending = NULL;
	pump(50);
	ck_assert_int_eq(T.closed, 1);

	/* abortive close (RST) of a stream */
	T.closed = 0;
	fd = cl_connect();
	cl_sends(fd, "GET /stream HTTP/1.1\r\n\r\n");
	pump(20);
	ck_assert_ptr_nonnull(T.pending);
	struct linger lg = { 1, 0 };
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
	end = now_ms() + 3000;
	while (T.closed == 0 && now_ms() < end)
		pump(5);
	ck_assert_int_eq(T.closed, 1);
	hreq_reply_chunk(T.pending, "x", 1);
	pump(20);
	hreq_reply_chunk(T.pending, "y", 1);
	pump(20);
	hreq_reply_end(T.pending);
	T.pending = NULL;
	pump(50);
	ck_assert_int_eq(T.closed, 1);

	/* the server still serves others */
	fd = cl_connect();
	get1(fd, &b, "GET /alive HTTP/1.1\r\n\r\n", &r);
	ck_assert_str_eq(r.body, "GET /alive 0:");
	resps_free(&r, 1);
	close(fd);
	cb_free(&b);

	/* a pending request at httpd_free is dropped without its callback */
	T.closed = 0;
	fd = cl_connect();
	cl_sends(fd, "GET /async HTTP/1.1\r\n\r\n");
	pump(20);
	ck_assert_ptr_nonnull(T.pending);
	fx_stop();
	ck_assert_int_eq(T.closed, 0);
	close(fd);
}
END_TEST

START_TEST(test_half_close)
{
	struct cbuf b = { 0 };
	struct resp r;

	fx_start(0);
	/* answered at once: the response comes, then the close */
	int fd = cl_connect();
	cl_sends(fd, "GET /sync HTTP/1.1\r\n\r\n");
	shutdown(fd, SHUT_WR);
	ck_assert_int_eq(cl_responses(fd, &b, &r, 1, 0, 3000), 1);
	ck_assert_str_eq(r.body, "GET /sync 0:");
	resps_free(&r, 1);
	cl_wait_eof(fd, &b, 3000);
	ck_assert_int_eq(b.eof, 1);
	close(fd);
	cb_free(&b);
	/* pending: the handler is told, yet a reply still reaches the client */
	fd = cl_connect();
	cl_sends(fd, "GET /async HTTP/1.1\r\n\r\n");
	shutdown(fd, SHUT_WR);
	long end = now_ms() + 3000;
	while (T.closed == 0 && now_ms() < end)
		pump(5);
	ck_assert_int_eq(T.closed, 1);
	hreq_reply(T.pending, 200, "still", 5);
	T.pending = NULL;
	ck_assert_int_eq(cl_responses(fd, &b, &r, 1, 0, 3000), 1);
	ck_assert_str_eq(r.body, "still");
	resps_free(&r, 1);
	cl_wait_eof(fd, &b, 3000);
	ck_assert_int_eq(b.eof, 1);
	close(fd);
	cb_free(&b);
	/* pipelined behind a pending one: all served, no cancel */
	T.closed = 0;
	fd = cl_connect();
	cl_sends(fd, "GET /async HTTP/1.1\r\n\r\nGET /two HTTP/1.1\r\n\r\n");
	shutdown(fd, SHUT_WR);
	pump(50);
	ck_assert_int_eq(T.closed, 0);
	hreq_reply(T.pending, 200, "one", 3);
	T.pending = NULL;
	struct resp rs[2];
	ck_assert_int_eq(cl_responses(fd, &b, rs, 2, 0, 3000), 2);
	ck_assert_str_eq(rs[0].body, "one");
	ck_assert_str_eq(rs[1].body, "GET /two 0:");
	resps_free(rs, 2);
	cl_wait_eof(fd, &b, 3000);
	ck_assert_int_eq(b.eof, 1);
	close(fd);
	cb_free(&b);
	fx_stop();
}
END_TEST

START_TEST(test_idle_timeout)
{
	struct cbuf b1 = { 0 }, b2 = { 0 }, b3 = { 0 };
	struct resp r;

	fx_start(1);
	int idle = cl_connect();
	int partial = cl_connect();
	int busy = cl_connect();
	cl_sends(partial, "GET /slow HTTP/1.1\r\nHost:");
	cl_sends(busy, "GET /async HTTP/1.1\r\n\r\n");
	long start = now_ms();
	while (!(b1.eof && b2.eof) && now_ms() < start + 4000) {
		cl_poll(idle, &b1);
		cl_poll(partial, &b2);
		cl_poll(busy, &b3);
	}
	ck_assert_int_eq(b1.eof, 1);
	ck_assert_int_eq(b2.eof, 1);
	ck_assert_uint_eq(b1.n + b2.n, 0);
	ck_assert_int_ge(now_ms() - start, 900);
	pump(300);
	cl_poll(busy, &b3);
	ck_assert_int_eq(b3.eof, 0); /* a pending request is not idle */
	ck_assert_int_eq(T.closed, 0);
	hreq_reply(T.pending, 200, "ok", 2);
	T.pending = NULL;
	ck_assert_int_eq(cl_responses(busy, &b3, &r, 1, 0, 3000), 1);
	ck_assert_str_eq(r.body, "ok");
	resps_free(&r, 1);
	close(idle);
	close(partial);
	close(busy);
	cb_free(&b1);
	cb_free(&b2);
	cb_free(&b3);
	fx_stop();
}
END_TEST

START_TEST(test_big_response)
{
	struct cbuf b = { 0 };
	struct resp r;

	big_body = malloc(BIG_LEN);
	for (size_t i = 0; i < BIG_LEN; i++)
		big_body[i] = (char)('a' + i % 26);
	fx_start(0);
	int fd = cl_connect();
	/* two: the second waits behind the first's queued output */
	cl_sends(fd, "GET /big HTTP/1.1\r\n\r\nGET /small HTTP/1.1\r\n\r\n");
	pump(20); /* the server fills the socket and queues the rest */
	ck_assert_int_eq(cl_responses(fd, &b, &r, 1, 0, 10000), 1);
	ck_assert_uint_eq(r.blen, BIG_LEN);
	ck_assert_int_eq(memcmp(r.body, big_body, BIG_LEN), 0);
	resps_free(&r, 1);
	ck_assert_int_eq(cl_responses(fd, &b, &r, 1, 0, 3000), 1);
	ck_assert_str_eq(r.body, "GET /small 0:");
	resps_free(&r, 1);
	close(fd);
	cb_free(&b);
	fx_stop();
	free(big_body);
	big_body = NULL;
}
END_TEST

START_TEST(test_many_connections)
{
	enum { N = 50 };
	int fds[N];
	struct cbuf b[N];
	struct resp r;
	char req[64];

	fx_start(0);
	memset(b, 0, sizeof(b));
	for (int i = 0; i < N; i++)
		fds[i] = cl_connect();
	for (int i = 0; i < N; i++) {
		snprintf(req, sizeof(req), "GET /%d HTTP/1.1\r\n\r\n", i);
		cl_sends(fds[i], req);
	}
	for (int i = 0; i < N; i++) {
		char want[32];
		ck_assert_int_eq(cl_responses(fds[i], &b[i], &r, 1, 0, 3000), 1);
		snprintf(want, sizeof(want), "GET /%d 0:", i);
		ck_assert_str_eq(r.body, want);
		resps_free(&r, 1);
		close(fds[i]);
		cb_free(&b[i]);
	}
	ck_assert_int_eq(T.calls, N);
	fx_stop();
}
END_TEST

static Suite *suite_http(void)
{
	Suite *s = suite_create("http");
	TCase *tc = tcase_create("httpd");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_get_keepalive);
	tcase_add_test(tc, test_pipelined);
	tcase_add_test(tc, test_head_and_204);
	tcase_add_test(tc, test_post_body_and_headers);
	tcase_add_test(tc, test_chunked_body);
	tcase_add_test(tc, test_expect_continue);
	tcase_add_test(tc, test_http10);
	tcase_add_test(tc, test_connection_close);
	tcase_add_test(tc, test_malformed);
	tcase_add_test(tc, test_too_large);
	tcase_add_test(tc, test_async_reply);
	tcase_add_test(tc, test_stream);
	tcase_add_test(tc, test_disconnect);
	tcase_add_test(tc, test_half_close);
	tcase_add_test(tc, test_idle_timeout);
	tcase_add_test(tc, test_big_response);
	tcase_add_test(tc, test_many_connections);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite_http());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
