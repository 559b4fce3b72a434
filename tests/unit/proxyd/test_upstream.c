/* test_upstream.c - the proxy worker's HTTP/1.1 client (src/proxyd/upstream.c)
 * against a fake member on a loopback socket.
 *
 * The fake member runs in its own thread with blocking sockets: it accepts,
 * reads each request whole (head and Content-Length body), keeps the bytes,
 * and plays a scripted answer - segments written in small pieces with
 * delays, then the connection kept or closed. The client side runs the
 * test's event_base with EVLOOP_ONCE until a flag is set or a timer says the
 * wait is over, so every wait is bounded. The member's records are read
 * only after its thread has been joined.
 */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "proxyd/upstream.h"

/* ---- the fake member ---- */

#define M_MAXREQ 4
#define M_REQCAP 16384
#define M_MAXSEG 8

struct seg {
	int delay_ms;       /* before the first byte */
	const char *p;
	size_t n;
	size_t piece;       /* write in pieces of this size (0: at once) */
	int piece_delay_ms; /* between pieces */
};

struct answer {
	struct seg seg[M_MAXSEG];
	int nseg;
	int close_after;    /* close the connection once written */
};

static struct {
	int lfd, port;
	int stop[2];
	pthread_t th;
	int running;
	struct answer ans[M_MAXREQ];
	int nans;           /* requests with a scripted answer; later ones get none */
	/* records, read after the join */
	int accepts;
	int nreq;
	char req[M_MAXREQ][M_REQCAP];
	size_t reqlen[M_MAXREQ];
	int reqconn[M_MAXREQ]; /* which accept (1-based) carried request i */
} M;

/* m_wait: 1 when fd is readable, 0 on timeout, -1 when told to stop. */
static int m_wait(int fd, int ms)
{
	struct pollfd p[2] = { { M.stop[0], POLLIN, 0 }, { fd, POLLIN, 0 } };
	int n = poll(p, fd >= 0 ? 2 : 1, ms);

	if (n > 0 && p[0].revents)
		return -1;
	return n > 0 ? 1 : 0;
}

/* m_read_req: 1 with a whole request in out, 0 when the peer closed, -1 stop. */
static int m_read_req(int fd, char *out, size_t cap, size_t *len)
{
	size_t n = 0, need = 0;
	int have_head = 0;

	for (;;) {
		ssize_t r;
		int w;

		if (!have_head) {
			char *e = memmem(out, n, "\r\n\r\n", 4);
			if (e != NULL) {
				char *cl = strcasestr(out, "\r\ncontent-length:");
				have_head = 1;
				need = (size_t)(e + 4 - out);
				if (cl != NULL && cl < e)
					need += strtoul(cl + 17, NULL, 10);
			}
		}
		if (have_head && n >= need) {
			*len = n;
			return 1;
		}
		if ((w = m_wait(fd, 5000)) <= 0)
			return w;
		if ((r = read(fd, out + n, cap - n - 1)) <= 0)
			return 0;
		n += (size_t)r;
		out[n] = '\0';
	}
}

/* m_play writes an answer; -1 when told to stop. */
static int m_play(int fd, const struct answer *a)
{
	for (int i = 0; i < a->nseg; i++) {
		const struct seg *s = &a->seg[i];
		size_t off = 0;

		if (s->delay_ms && m_wait(-1, s->delay_ms) < 0)
			return -1;
		while (off < s->n) {
			size_t k = s->piece && s->piece < s->n - off ? s->piece : s->n - off;
			if (off && s->piece_delay_ms && m_wait(-1, s->piece_delay_ms) < 0)
				return -1;
			if (send(fd, s->p + off, k, MSG_NOSIGNAL) < 0)
				return 0; /* the client went away: fine */
			off += k;
		}
	}
	return 0;
}

static void *m_main(void *arg)
{
	static char scratch[M_REQCAP];
	int fd = -1, one = 1;

	(void)arg;
	for (;;) {
		int i = M.nreq, r;
		char *buf = i < M_MAXREQ ? M.req[i] : scratch;
		size_t len = 0;

		if (fd < 0) {
			if (m_wait(M.lfd, 5000) != 1 || (fd = accept(M.lfd, NULL, NULL)) < 0)
				break;
			M.accepts++;
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		}
		if ((r = m_read_req(fd, buf, M_REQCAP, &len)) < 0)
			break;
		if (r == 0) {
			close(fd);
			fd = -1;
			continue;
		}
		if (i < M_MAXREQ) {
			M.reqlen[i] = len;
			M.reqconn[i] = M.accepts;
		}
		M.nreq++;
		if (i >= M.nans || i >= M_MAXREQ)
			continue; /* no answer: stay silent */
		if (m_play(fd, &M.ans[i]) < 0)
			break;
		if (M.ans[i].close_after) {
			close(fd);
			fd = -1;
		}
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

/* ans_seg appends a segment to the answer for request i. */
static void ans_segn(int i, int delay_ms, const char *p, size_t n, size_t piece, int piece_ms)
{
	struct answer *a = &M.ans[i];

	ck_assert_int_lt(a->nseg, M_MAXSEG);
	a->seg[a->nseg++] = (struct seg){ delay_ms, p, n, piece, piece_ms };
	if (i >= M.nans)
		M.nans = i + 1;
}

static void ans_seg(int i, int delay_ms, const char *s, size_t piece, int piece_ms)
{
	ans_segn(i, delay_ms, s, strlen(s), piece, piece_ms);
}

static void ans_close(int i)
{
	M.ans[i].close_after = 1;
	if (i >= M.nans)
		M.nans = i + 1;
}

static int listen_any(int *port)
{
	struct sockaddr_in a;
	socklen_t al = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &al), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

/* member_start runs the member with the answers scripted so far. */
static void member_start(void)
{
	M.lfd = listen_any(&M.port);
	ck_assert_int_eq(listen(M.lfd, 16), 0);
	ck_assert_int_eq(pipe(M.stop), 0);
	ck_assert_int_eq(pthread_create(&M.th, NULL, m_main, NULL), 0);
	M.running = 1;
}

static void member_stop(void)
{
	if (!M.running)
		return;
	ck_assert_int_eq(write(M.stop[1], "x", 1), 1);
	pthread_join(M.th, NULL);
	close(M.stop[0]);
	close(M.stop[1]);
	close(M.lfd);
	M.running = 0;
}

/* ---- the client side ---- */

#define R_MAXH 16

struct rec {
	struct ups_call *call;
	int heads, datas, ends, fails;
	int done;
	int status, has_length;
	size_t length, nh;
	char names[R_MAXH][64], values[R_MAXH][128];
	char body[65536];
	size_t blen;
	char *trailers;
	int phase;
	char why[160];
	/* what the callbacks do */
	int pause_in_head, pause_in_data, cancel_in_head, cancel_in_data;
	int paused;
	int datas_at_pause;
};

static struct event_base *base;
static struct ups_pool *pool;

static void cb_head(void *arg, const struct ups_head *h)
{
	struct rec *r = arg;

	ck_assert_int_eq(r->done, 0);
	r->heads++;
	r->status = h->status;
	r->has_length = h->has_length;
	r->length = h->length;
	r->nh = h->nh;
	for (size_t i = 0; i < h->nh && i < R_MAXH; i++) {
		snprintf(r->names[i], sizeof(r->names[i]), "%s", h->names[i]);
		snprintf(r->values[i], sizeof(r->values[i]), "%s", h->values[i]);
	}
	if (r->pause_in_head) {
		ups_pause(r->call);
		r->paused = 1;
		r->datas_at_pause = r->datas;
	}
	if (r->cancel_in_head) {
		ups_cancel(r->call);
		r->done = 1;
	}
}

static void cb_data(void *arg, const void *p, size_t n)
{
	struct rec *r = arg;

	ck_assert_int_eq(r->done, 0);
	ck_assert_int_eq(r->paused, 0);
	ck_assert_int_eq(r->heads, 1);
	ck_assert_uint_gt(n, 0);
	ck_assert_uint_le(r->blen + n, sizeof(r->body) - 1);
	memcpy(r->body + r->blen, p, n);
	r->blen += n;
	r->body[r->blen] = '\0';
	r->datas++;
	if (r->pause_in_data && r->datas == 1) {
		ups_pause(r->call);
		r->paused = 1;
		r->datas_at_pause = r->datas;
	}
	if (r->cancel_in_data && r->datas == 1) {
		ups_cancel(r->call);
		r->done = 1;
	}
}

static void cb_end(void *arg, const char *trailers)
{
	struct rec *r = arg;

	ck_assert_int_eq(r->done, 0);
	r->ends++;
	r->done = 1;
	r->trailers = trailers ? strdup(trailers) : NULL;
}

static void cb_fail(void *arg, int phase, const char *why)
{
	struct rec *r = arg;

	ck_assert_int_eq(r->done, 0);
	ck_assert_ptr_nonnull(why);
	r->fails++;
	r->done = 1;
	r->phase = phase;
	snprintf(r->why, sizeof(r->why), "%s", why);
}

static const struct ups_cbs cbs = { cb_head, cb_data, cb_end, cb_fail };

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	*(int *)arg = 1;
}

/* run_until runs the loop until *flag or ms have passed; 1 if *flag. */
static int run_until(const int *flag, int ms)
{
	int expired = 0;
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	struct event *t = evtimer_new(base, on_timer, &expired);

	ck_assert_ptr_nonnull(t);
	evtimer_add(t, &tv);
	while (!*flag && !expired)
		event_base_loop(base, EVLOOP_ONCE);
	event_free(t);
	return *flag;
}

static void run_for(int ms)
{
	static const int never = 0;

	run_until(&never, ms);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void pool_start(int read_timeout_ms)
{
	struct ups_opts o = { .dial_timeout_ms = 1000, .write_timeout_ms = 1000,
		.read_timeout_ms = read_timeout_ms, .max_idle_per_host = 4 };

	pool = ups_pool_new(base, &o);
	ck_assert_ptr_nonnull(pool);
}

static struct rec *rec_new(void)
{
	struct rec *r = calloc(1, sizeof(*r));

	ck_assert_ptr_nonnull(r);
	return r;
}

static void rec_free(struct rec *r)
{
	free(r->trailers);
	free(r);
}

/* send_get starts "GET path" on r (no body). */
static void send_get(struct rec *r, const char *path, int is_head)
{
	char head[256];
	int n = snprintf(head, sizeof(head), "%s %s HTTP/1.1\r\nHost: m\r\n",
		is_head ? "HEAD" : "GET", path);

	r->call = ups_send(pool, "127.0.0.1", M.port, head, (size_t)n, NULL, 0, is_head, &cbs, r);
	ck_assert_ptr_nonnull(r->call);
}

/* get_ok sends a GET and waits for it to end; asserts success. */
static void get_ok(struct rec *r, const char *path)
{
	send_get(r, path, 0);
	ck_assert_int_eq(run_until(&r->done, 2000), 1);
	ck_assert_msg(r->ends == 1 && r->fails == 0, "call failed: %s", r->why);
}

static void setup(void)
{
	memset(&M, 0, sizeof(M));
	base = event_base_new();
	ck_assert_ptr_nonnull(base);
	pool = NULL;
}

static void teardown(void)
{
	ups_pool_free(pool);
	pool = NULL;
	member_stop();
	event_base_free(base);
	base = NULL;
}

/* ---- 1. Content-Length framing and the request bytes ---- */

START_TEST(t_length_answer)
{
	static const char head[] = "PUT /v2/keys/a HTTP/1.1\r\nHost: m\r\n";
	struct rec *r = rec_new();

	ans_seg(0, 0, "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
		"X-Etcd-Index:   7  \r\nx-lower: Mixed Case\r\nContent-Length: 11\r\n\r\n"
		"{\"a\":\"b\"}\r\n", 0, 0);
	member_start();
	pool_start(0);
	r->call = ups_send(pool, "127.0.0.1", M.port, head, strlen(head), "value=1", 7, 0, &cbs, r);
	ck_assert_ptr_nonnull(r->call);
	ck_assert_int_eq(run_until(&r->done, 2000), 1);
	ck_assert_int_eq(r->ends, 1);
	ck_assert_int_eq(r->fails, 0);
	ck_assert_int_eq(r->heads, 1);
	ck_assert_int_eq(r->status, 201);
	ck_assert_uint_eq(r->nh, 4);
	ck_assert_str_eq(r->names[0], "Content-Type");
	ck_assert_str_eq(r->values[0], "application/json");
	ck_assert_str_eq(r->names[1], "X-Etcd-Index");
	ck_assert_str_eq(r->values[1], "7");
	ck_assert_str_eq(r->names[2], "x-lower");
	ck_assert_str_eq(r->values[2], "Mixed Case");
	ck_assert_str_eq(r->names[3], "Content-Length");
	ck_assert_str_eq(r->values[3], "11");
	ck_assert_int_eq(r->has_length, 1);
	ck_assert_uint_eq(r->length, 11);
	ck_assert_uint_eq(r->blen, 11);
	ck_assert_str_eq(r->body, "{\"a\":\"b\"}\r\n");
	ck_assert_ptr_null(r->trailers);
	rec_free(r);
	member_stop();
	ck_assert_int_eq(M.nreq, 1);
	ck_assert_str_eq(M.req[0], "PUT /v2/keys/a HTTP/1.1\r\nHost: m\r\n"
		"Content-Length: 7\r\n\r\nvalue=1");
}
END_TEST

/* Without a body no Content-Length is added; an empty one gets "0". */
START_TEST(t_request_framing)
{
	static const char head[] = "POST /x HTTP/1.1\r\nHost: m\r\n";
	static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
	struct rec *a = rec_new(), *b = rec_new();

	ans_seg(0, 0, ok, 0, 0);
	ans_seg(1, 0, ok, 0, 0);
	member_start();
	pool_start(0);
	get_ok(a, "/nobody");
	ck_assert_uint_eq(a->blen, 0);
	ck_assert_int_eq(a->datas, 0);
	ck_assert_int_eq(a->has_length, 1);
	ck_assert_uint_eq(a->length, 0);
	b->call = ups_send(pool, "127.0.0.1", M.port, head, strlen(head), "", 0, 0, &cbs, b);
	ck_assert_ptr_nonnull(b->call);
	ck_assert_int_eq(run_until(&b->done, 2000), 1);
	ck_assert_int_eq(b->ends, 1);
	rec_free(a);
	rec_free(b);
	member_stop();
	ck_assert_int_eq(M.nreq, 2);
	ck_assert_str_eq(M.req[0], "GET /nobody HTTP/1.1\r\nHost: m\r\n\r\n");
	ck_assert_str_eq(M.req[1], "POST /x HTTP/1.1\r\nHost: m\r\nContent-Length: 0\r\n\r\n");
}
END_TEST

/* A body larger than one socket read arrives whole and in order. */
START_TEST(t_length_big)
{
	static char ans[70000];
	struct rec *r = rec_new();
	int hl = snprintf(ans, sizeof(ans), "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", 60000);

	for (int i = 0; i < 60000; i++)
		ans[hl + i] = (char)('a' + i % 26);
	ans_segn(0, 0, ans, (size_t)hl + 60000, 7000, 1);
	member_start();
	pool_start(0);
	get_ok(r, "/big");
	ck_assert_uint_eq(r->blen, 60000);
	ck_assert_int_eq(memcmp(r->body, ans + hl, 60000), 0);
	ck_assert_int_gt(r->datas, 1);
	rec_free(r);
}
END_TEST

/* ---- 2. chunked answers ---- */

START_TEST(t_chunked_pieces)
{
	struct rec *r = rec_new();

	ans_seg(0, 0, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		"5;x=y\r\nhello\r\n"
		"1a; name=\"q\"\r\nabcdefghijklmnopqrstuvwxyz\r\n"
		"3\r\n\r\n!\r\n"
		"0;last\r\nX-Trailer: 1\r\nGrpc-Status: two words\r\n\r\n", 3, 1);
	member_start();
	pool_start(0);
	get_ok(r, "/chunked");
	ck_assert_int_eq(r->status, 200);
	ck_assert_int_eq(r->has_length, 0);
	ck_assert_uint_eq(r->blen, 5 + 26 + 3);
	ck_assert_str_eq(r->body, "helloabcdefghijklmnopqrstuvwxyz\r\n!");
	ck_assert_int_gt(r->datas, 3); /* delivered as it came, not buffered */
	ck_assert_ptr_nonnull(r->trailers);
	ck_assert_str_eq(r->trailers, "X-Trailer: 1\r\nGrpc-Status: two words\r\n");
	rec_free(r);
}
END_TEST

START_TEST(t_chunked_no_trailer)
{
	struct rec *r = rec_new(), *r2 = rec_new();

	ans_seg(0, 0, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		"4\r\nwiki\r\n0\r\n\r\n", 0, 0);
	/* Transfer-Encoding wins over Content-Length */
	ans_seg(1, 0, "HTTP/1.1 200 OK\r\nContent-Length: 99\r\nTransfer-Encoding: chunked\r\n\r\n"
		"2\r\nok\r\n0\r\n\r\n", 0, 0);
	member_start();
	pool_start(0);
	get_ok(r, "/c");
	ck_assert_str_eq(r->body, "wiki");
	ck_assert_ptr_null(r->trailers);
	get_ok(r2, "/c2");
	ck_assert_int_eq(r2->has_length, 0);
	ck_assert_str_eq(r2->body, "ok");
	ck_assert_ptr_null(r2->trailers);
	rec_free(r);
	rec_free(r2);
	member_stop();
	ck_assert_int_eq(M.accepts, 1); /* the chunked framing kept the connection usable */
}
END_TEST

/* Trailers of exactly 64 bytes: the trailer buffer is full when call_end
 * NUL-terminates it, so it grows (realloc) just before on_end reads it;
 * call_end must take the data pointer after that append, not before. */
START_TEST(t_chunked_trailer_64)
{
	static char ans[256];
	char tline[65];
	struct rec *r = rec_new();

	memset(tline, 'p', sizeof(tline));
	memcpy(tline, "X-Pad: ", 7);
	memcpy(tline + 62, "\r\n", 3);
	ck_assert_uint_eq(strlen(tline), 64);
	snprintf(ans, sizeof(ans), "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		"1\r\nz\r\n0\r\n%s\r\n", tline);
	ans_seg(0, 0, ans, 0, 0);
	member_start();
	pool_start(0);
	get_ok(r, "/t64");
	ck_assert_str_eq(r->body, "z");
	ck_assert_ptr_nonnull(r->trailers);
	ck_assert_str_eq(r->trailers, tline);
	rec_free(r);
}
END_TEST

/* A chunk size that is not plain hex digits ("zz", a sign, a 0x prefix,
 * leading blanks) fails the answer instead of being read as a size. */
START_TEST(t_chunked_malformed)
{
	static const char *const sizes[] = { "zz", "-1", "0x5", " 5", "+5" };
	const char *sz = sizes[_i];
	char ans[256];
	struct rec *r = rec_new();

	snprintf(ans, sizeof(ans), "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%s\r\n"
		"hello\r\n0\r\n\r\n", sz);
	ans_seg(0, 0, ans, 0, 0);
	member_start();
	pool_start(0);
	send_get(r, "/bad", 0);
	ck_assert_int_eq(run_until(&r->done, 2000), 1);
	ck_assert_msg(r->fails == 1, "chunk size '%s' accepted", sz);
	ck_assert_int_eq(r->heads, 1);
	ck_assert_int_eq(r->phase, UPS_ANSWER);
	ck_assert_int_eq(r->datas, 0);
	rec_free(r);
}
END_TEST

/* ---- 3. close-delimited answers ---- */

START_TEST(t_close_delimited)
{
	struct rec *r = rec_new(), *r2 = rec_new();

	ans_seg(0, 0, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n", 0, 0);
	ans_seg(0, 20, "first part, ", 4, 1);
	ans_seg(0, 20, "second part", 0, 0);
	ans_close(0);
	ans_seg(1, 0, "HTTP/1.0 200 OK\r\n\r\nold", 0, 0);
	ans_close(1);
	member_start();
	pool_start(0);
	get_ok(r, "/close");
	ck_assert_int_eq(r->has_length, 0);
	ck_assert_str_eq(r->body, "first part, second part");
	ck_assert_ptr_null(r->trailers);
	get_ok(r2, "/old");
	ck_assert_str_eq(r2->body, "old");
	rec_free(r);
	rec_free(r2);
	member_stop();
	ck_assert_int_eq(M.accepts, 2);
}
END_TEST

/* ---- 4. keep-alive ---- */

START_TEST(t_keepalive_reuse)
{
	struct rec *a = rec_new(), *b = rec_new(), *c = rec_new();

	ans_seg(0, 0, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none", 0, 0);
	ans_seg(1, 0, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\ntwo\r\n0\r\n\r\n", 0, 0);
	ans_seg(2, 0, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nthree", 0, 0);
	member_start();
	pool_start(0);
	get_ok(a, "/1");
	get_ok(b, "/2");
	get_ok(c, "/3");
	ck_assert_str_eq(a->body, "one");
	ck_assert_str_eq(b->body, "two");
	ck_assert_str_eq(c->body, "three");
	rec_free(a);
	rec_free(b);
	rec_free(c);
	member_stop();
	ck_assert_int_eq(M.nreq, 3);
	ck_assert_int_eq(M.accepts, 1);
	ck_assert_int_eq(M.reqconn[2], 1);
}
END_TEST

START_TEST(t_keepalive_connection_close)
{
	struct rec *a = rec_new(), *b = rec_new();

	/* the member keeps the socket open; the client must still not reuse it */
	ans_seg(0, 0, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nhi", 0, 0);
	ans_seg(1, 0, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nyo", 0, 0);
	member_start();
	pool_start(0);
	get_ok(a, "/1");
	get_ok(b, "/2");
	ck_assert_str_eq(a->body, "hi");
	ck_assert_str_eq(b->body, "yo");
	rec_free(a);
	rec_free(b);
	member_stop();
	ck_assert_int_eq(M.nreq, 2);
	ck_assert_int_eq(M.accepts, 2);
	ck_assert_int_eq(M.reqconn[0], 1);
	ck_assert_int_eq(M.reqconn[1], 2);
}
END_TEST

/* An idle connection the member closes is dropped; the next call dials. */
START_TEST(t_keepalive_idle_closed)
{
	struct rec *a = rec_new(), *b = rec_new();

	ans_seg(0, 0, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi", 0, 0);
	ans_close(0);
	ans_seg(1, 0, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nyo", 0, 0);
	member_start();
	pool_start(0);
	get_ok(a, "/1");
	run_for(100); /* let the client see the member's close */
	get_ok(b, "/2");
	ck_assert_str_eq(b->body, "yo");
	rec_free(a);
	rec_free(b);
	member_stop();
	ck_assert_int_eq(M.accepts, 2);
}
END_TEST

/* ---- 5. interim answers, 204, HEAD ---- */

START_TEST(t_continue_skipped)
{
	struct rec *r = rec_new();

	ans_seg(0, 0, "HTTP/1.1 100 Continue\r\n\r\n", 0, 0);
	ans_seg(0, 20, "HTTP/1.1 102 Processing\r\nX-Info: 1\r\n\r\n"
		"HTTP/1.1 200 OK\r\nX-Real: yes\r\nContent-Length: 2\r\n\r\nok", 5, 1);
	member_start();
	pool_start(0);
	get_ok(r, "/cont");
	ck_assert_int_eq(r->heads, 1);
	ck_assert_int_eq(r->status, 200);
	ck_assert_uint_eq(r->nh, 2);
	ck_assert_str_eq(r->names[0], "X-Real");
	ck_assert_str_eq(r->body, "ok");
	rec_free(r);
}
END_TEST

START_TEST(t_no_body_answers)
{
	struct rec *a = rec_new(), *b = rec_new(), *c = rec_new(), *d = rec_new();

	ans_seg(0, 0, "HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n", 0, 0);
	ans_seg(1, 0, "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n", 0, 0);
	ans_seg(2, 0, "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", 0, 0);
	ans_seg(3, 0, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nlast", 0, 0);
	member_start();
	pool_start(0);
	get_ok(a, "/204");
	ck_assert_int_eq(a->status, 204);
	ck_assert_int_eq(a->datas, 0);
	send_get(b, "/head", 1);
	ck_assert_int_eq(run_until(&b->done, 2000), 1);
	ck_assert_int_eq(b->ends, 1);
	ck_assert_int_eq(b->status, 200);
	ck_assert_int_eq(b->has_length, 1);
	ck_assert_uint_eq(b->length, 1234);
	ck_assert_int_eq(b->datas, 0);
	get_ok(c, "/304");
	ck_assert_int_eq(c->status, 304);
	ck_assert_int_eq(c->datas, 0);
	/* none of them waited for or ate body bytes: the connection is in step */
	get_ok(d, "/after");
	ck_assert_str_eq(d->body, "last");
	rec_free(a);
	rec_free(b);
	rec_free(c);
	rec_free(d);
	member_stop();
	ck_assert_int_eq(M.accepts, 1);
	ck_assert_int_eq(strncmp(M.req[1], "HEAD /head HTTP/1.1\r\n", 21), 0);
}
END_TEST

/* ---- 6. failures and their phases ---- */

START_TEST(t_fail_connect_refused)
{
	struct rec *r = rec_new();
	int port, fd = listen_any(&port); /* bound, not listening: refused */

	M.port = port;
	pool_start(0);
	r->call = ups_send(pool, "127.0.0.1", port, "GET / HTTP/1.1\r\n", 16, NULL, 0, 0, &cbs, r);
	if (r->call != NULL) {
		ck_assert_int_eq(run_until(&r->done, 2000), 1);
		ck_assert_int_eq(r->fails, 1);
		ck_assert_int_eq(r->phase, UPS_CONNECT);
		ck_assert_int_eq(r->heads, 0);
	}
	close(fd);
	rec_free(r);
}
END_TEST

START_TEST(t_fail_closed_before_answer)
{
	struct rec *r = rec_new();

	ans_close(0);
	member_start();
	pool_start(0);
	send_get(r, "/x", 0);
	ck_assert_int_eq(run_until(&r->done, 2000), 1);
	ck_assert_int_eq(r->fails, 1);
	ck_assert_int_eq(r->phase, UPS_SENT);
	ck_assert_int_eq(r->heads, 0);
	rec_free(r);
	member_stop();
	ck_assert_int_eq(M.nreq, 1);
}
END_TEST

START_TEST(t_fail_closed_mid_body)
{
	struct rec *r = rec_new();

	ans_seg(0, 0, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789", 0, 0);
	ans_close(0);
	member_start();
	pool_start(0);
	send_get(r, "/x", 0);
	ck_assert_int_eq(run_until(&r->done, 2000), 1);
	ck_assert_int_eq(r->fails, 1);
	ck_assert_int_eq(r->ends, 0);
	ck_assert_int_eq(r->phase, UPS_ANSWER);
	ck_assert_int_eq(r->heads, 1);
	ck_assert_str_eq(r->body, "0123456789");
	rec_free(r);
}
END_TEST

START_TEST(t_fail_closed_mid_chunk)
{
	struct rec *r = rec_new();

	ans_seg(0, 0, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", 0, 0);
	ans_close(0);
	member_start();
	pool_start(0);
	send_get(r, "/x", 0);
	ck_assert_int_eq(run_until(&r->done, 2000), 1);
	ck_assert_int_eq(r->fails, 1);
	ck_assert_int_eq(r->phase, UPS_ANSWER);
	ck_assert_str_eq(r->body, "hel");
	rec_free(r);
}
END_TEST

START_TEST(t_fail_malformed_status)
{
	static const char *const bad[] = {
		"HTTX/1.1 200 OK\r\n\r\n",
		"HTTP/1.1 abc OK\r\n\r\n",
		"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 12x\r\n\r\n",
		"garbage\r\n\r\n",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct rec *r = rec_new();

		memset(&M, 0, sizeof(M));
		ans_seg(0, 0, bad[i], 0, 0);
		member_start();
		if (pool == NULL)
			pool_start(0);
		send_get(r, "/x", 0);
		ck_assert_int_eq(run_until(&r->done, 2000), 1);
		ck_assert_msg(r->fails == 1, "answer %zu did not fail", i);
		ck_assert_int_eq(r->heads, 0);
		ck_assert_int_ge(r->phase, UPS_SENT);
		rec_free(r);
		member_stop();
	}
}
END_TEST

/* 20 headers of 4000 bytes: 80 KB, written in pieces. */
START_TEST(t_fail_head_too_large)
{
	static char ans[90000];
	size_t n = (size_t)snprintf(ans, sizeof(ans), "HTTP/1.1 200 OK\r\n");
	struct rec *r = rec_new();

	for (int i = 0; i < 20; i++) {
		n += (size_t)snprintf(ans + n, sizeof(ans) - n, "X-Big-%02d: ", i);
		memset(ans + n, 'v', 4000);
		n += 4000;
		n += (size_t)snprintf(ans + n, sizeof(ans) - n, "\r\n");
	}
	n += (size_t)snprintf(ans + n, sizeof(ans) - n, "Content-Length: 0\r\n\r\n");
	ans_segn(0, 0, ans, n, 8192, 1);
	member_start();
	pool_start(0);
	send_get(r, "/x", 0);
	ck_assert_int_eq(run_until(&r->done, 2000), 1);
	ck_assert_int_eq(r->fails, 1);
	ck_assert_int_eq(r->heads, 0);
	ck_assert_ptr_nonnull(strstr(r->why, "too large"));
	rec_free(r);
}
END_TEST

/* A head just over 64 KiB (65,600 bytes) written at once must fail too,
 * whatever the sizes of the client's socket reads: read_head must check the
 * size of a head whose end it found, not only of one still incomplete. */
START_TEST(t_fail_head_just_over_limit)
{
	static char ans[70000];
	size_t n = (size_t)snprintf(ans, sizeof(ans), "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n");
	struct rec *r = rec_new();

	for (int i = 0; n < 65600 - 4100; i++) {
		n += (size_t)snprintf(ans + n, sizeof(ans) - n, "X-Big-%02d: ", i);
		memset(ans + n, 'v', 4000);
		n += 4000;
		n += (size_t)snprintf(ans + n, sizeof(ans) - n, "\r\n");
	}
	n += (size_t)snprintf(ans + n, sizeof(ans) - n, "X-Last: ");
	memset(ans + n, 'w', 65600 - 4 - n);
	n = 65600 - 4;
	n += (size_t)snprintf(ans + n, sizeof(ans) - n, "\r\n\r\n");
	ck_assert_uint_eq(n, 65600);
	ans_segn(0, 0, ans, n, 0, 0);
	member_start();
	pool_start(0);
	send_get(r, "/x", 0);
	ck_assert_int_eq(run_until(&r->done, 2000), 1);
	ck_assert_msg(r->heads == 0 && r->fails == 1, "a %zu-byte head was accepted", n);
	rec_free(r);
}
END_TEST

START_TEST(t_fail_read_timeout)
{
	struct rec *r = rec_new();
	long t0;

	member_start(); /* no answer scripted: the member stays silent */
	pool_start(200);
	t0 = now_ms();
	send_get(r, "/slow", 0);
	ck_assert_int_eq(run_until(&r->done, 2000), 1);
	ck_assert_int_eq(r->fails, 1);
	ck_assert_str_eq(r->why, "read timeout");
	ck_assert_int_eq(r->phase, UPS_SENT);
	ck_assert_int_ge(now_ms() - t0, 180);
	ck_assert_int_lt(now_ms() - t0, 1000);
	rec_free(r);
}
END_TEST

/* The read timeout bounds each wait, not the whole answer. */
START_TEST(t_read_timeout_per_wait)
{
	struct rec *r = rec_new();

	ans_seg(0, 100, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n", 0, 0);
	ans_seg(0, 120, "a", 0, 0);
	ans_seg(0, 120, "b", 0, 0);
	ans_seg(0, 120, "cd", 0, 0);
	member_start();
	pool_start(300);
	get_ok(r, "/drip");
	ck_assert_str_eq(r->body, "abcd");
	rec_free(r);
}
END_TEST

START_TEST(t_no_read_timeout)
{
	struct rec *r = rec_new();

	ans_seg(0, 1000, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nlate", 0, 0);
	member_start();
	pool_start(0);
	send_get(r, "/poll", 0);
	ck_assert_int_eq(run_until(&r->done, 3000), 1);
	ck_assert_msg(r->ends == 1, "failed: %s", r->why);
	ck_assert_str_eq(r->body, "late");
	rec_free(r);
}
END_TEST

/* ---- 7. pause and resume ---- */

START_TEST(t_pause_resume_length)
{
	struct rec *r = rec_new();

	r->pause_in_data = 1;
	ans_seg(0, 0, "HTTP/1.1 200 OK\r\nContent-Length: 15\r\n\r\nAAAAA", 0, 0);
	ans_seg(0, 50, "BBBBB", 0, 0);
	ans_seg(0, 50, "CCCCC", 0, 0);
	member_start();
	pool_start(0);
	send_get(r, "/p", 0);
	ck_assert_int_eq(run_until(&r->paused, 2000), 1);
	run_for(300); /* everything has been sent by now */
	ck_assert_int_eq(r->datas, r->datas_at_pause);
	ck_assert_int_eq(r->done, 0);
	ck_assert_uint_lt(r->blen, 15);
	r->paused = 0;
	ups_resume(r->call);
	ck_assert_int_eq(run_until(&r->done, 2000), 1);
	ck_assert_int_eq(r->ends, 1);
	ck_assert_str_eq(r->body, "AAAAABBBBBCCCCC");
	rec_free(r);
}
END_TEST

START_TEST(t_pause_resume_chunked_in_head)
{
	struct rec *r = rec_new();

	r->pause_in_head = 1;
	ans_seg(0, 0, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		"3\r\none\r\n3\r\ntwo\r\n5\r\nthree\r\n0\r\nX-T: t\r\n\r\n", 0, 0);
	member_start();
	pool_start(0);
	send_get(r, "/p", 0);
	ck_assert_int_eq(run_until(&r->paused, 2000), 1);
	run_for(150);
	ck_assert_int_eq(r->datas, 0);
	ck_assert_int_eq(r->done, 0);
	r->paused = 0;
	ups_resume(r->call);
	ck_assert_int_eq(run_until(&r->done, 2000), 1);
	ck_assert_int_eq(r->ends, 1);
	ck_assert_str_eq(r->body, "onetwothree");
	ck_assert_str_eq(r->trailers, "X-T: t\r\n");
	rec_free(r);
}
END_TEST

/* The member sent a close-delimited body and closed while the client was
 * paused: the end must still be seen after resume. */
START_TEST(t_pause_close_delimited)
{
	struct rec *r = rec_new();

	r->pause_in_data = 1;
	ans_seg(0, 0, "HTTP/1.1 200 OK\r\n\r\nfirst", 0, 0);
	ans_seg(0, 30, "-second", 0, 0);
	ans_seg(0, 30, "-third", 0, 0);
	ans_close(0);
	member_start();
	pool_start(0);
	send_get(r, "/p", 0);
	ck_assert_int_eq(run_until(&r->paused, 2000), 1);
	run_for(250);
	ck_assert_int_eq(r->datas, 1);
	ck_assert_int_eq(r->done, 0);
	r->paused = 0;
	ups_resume(r->call);
	ck_assert_int_eq(run_until(&r->done, 2000), 1);
	ck_assert_msg(r->ends == 1, "failed: %s", r->why);
	ck_assert_str_eq(r->body, "first-second-third");
	rec_free(r);
}
END_TEST

/* A big body the client pauses on: no read while paused (the member's
 * writes back up), then everything in order. */
START_TEST(t_pause_big)
{
	enum { BIG = 1 << 20 };
	char *ans = malloc(BIG + 100);
	int hl;
	struct rec *r = rec_new();
	static char got[BIG];
	size_t gotlen = 0;

	ck_assert_ptr_nonnull(ans);
	hl = sprintf(ans, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", BIG);
	for (int i = 0; i < BIG; i++)
		ans[hl + i] = (char)(i * 7 + i / 251);
	ans_segn(0, 0, ans, (size_t)hl + BIG, 0, 0);
	member_start();
	pool_start(0);
	send_get(r, "/big", 0);
	/* rec's body holds 64 KiB: drain it into got at each pause */
	r->pause_in_data = 1;
	for (int rounds = 0; !r->done && rounds < 2000; rounds++) {
		int datas;

		ck_assert_int_eq(run_until(&r->paused, 2000) || r->done, 1);
		if (r->done)
			break;
		datas = r->datas;
		run_for(rounds == 0 ? 50 : 0);
		ck_assert_int_eq(r->datas, datas);
		memcpy(got + gotlen, r->body, r->blen);
		gotlen += r->blen;
		r->blen = 0;
		r->datas = 0;
		r->paused = 0;
		ups_resume(r->call);
	}
	ck_assert_int_eq(r->ends, 1);
	memcpy(got + gotlen, r->body, r->blen);
	gotlen += r->blen;
	ck_assert_uint_eq(gotlen, BIG);
	ck_assert_int_eq(memcmp(got, ans + hl, BIG), 0);
	rec_free(r);
	member_stop();
	free(ans);
}
END_TEST

/* ---- 8. cancel from inside callbacks ---- */

START_TEST(t_cancel_in_head)
{
	struct rec *r = rec_new(), *r2 = rec_new();

	r->cancel_in_head = 1;
	ans_seg(0, 0, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01234", 0, 0);
	ans_seg(0, 30, "56789", 0, 0);
	ans_seg(1, 0, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 0, 0);
	member_start();
	pool_start(0);
	send_get(r, "/c", 0);
	ck_assert_int_eq(run_until(&r->done, 2000), 1);
	run_for(100);
	ck_assert_int_eq(r->heads, 1);
	ck_assert_int_eq(r->datas, 0);
	ck_assert_int_eq(r->ends + r->fails, 0);
	/* the cancelled connection is not reused for the next call */
	get_ok(r2, "/next");
	ck_assert_str_eq(r2->body, "ok");
	rec_free(r);
	rec_free(r2);
	member_stop();
	ck_assert_int_eq(M.accepts, 2);
}
END_TEST

START_TEST(t_cancel_in_data)
{
	struct rec *r = rec_new();

	r->cancel_in_data = 1;
	ans_seg(0, 0, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nfirst\r\n", 0, 0);
	ans_seg(0, 30, "6\r\nsecond\r\n0\r\n\r\n", 0, 0);
	member_start();
	pool_start(0);
	send_get(r, "/c", 0);
	ck_assert_int_eq(run_until(&r->done, 2000), 1);
	run_for(100);
	ck_assert_int_eq(r->heads, 1);
	ck_assert_int_eq(r->datas, 1);
	ck_assert_int_eq(r->ends + r->fails, 0);
	rec_free(r);
}
END_TEST

/* Cancel while still connecting, and cancel while paused. */
START_TEST(t_cancel_outside_callbacks)
{
	struct rec *a = rec_new(), *b = rec_new();

	b->pause_in_data = 1;
	ans_seg(0, 0, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab", 0, 0);
	ans_seg(0, 20, "cd", 0, 0);
	member_start();
	pool_start(0);
	send_get(a, "/a", 0);
	ups_cancel(a->call);
	send_get(b, "/b", 0);
	ck_assert_int_eq(run_until(&b->paused, 2000), 1);
	ups_cancel(b->call);
	run_for(100);
	ck_assert_int_eq(a->heads + a->datas + a->ends + a->fails, 0);
	ck_assert_int_eq(b->datas, 1);
	ck_assert_int_eq(b->ends + b->fails, 0);
	rec_free(a);
	rec_free(b);
}
END_TEST

static Suite *suite_upstream(void)
{
	Suite *s = suite_create("upstream");
	TCase *tc = tcase_create("upstream");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, t_length_answer);
	tcase_add_test(tc, t_request_framing);
	tcase_add_test(tc, t_length_big);
	tcase_add_test(tc, t_chunked_pieces);
	tcase_add_test(tc, t_chunked_no_trailer);
	tcase_add_test(tc, t_chunked_trailer_64);
	tcase_add_loop_test(tc, t_chunked_malformed, 0, 5);
	tcase_add_test(tc, t_close_delimited);
	tcase_add_test(tc, t_keepalive_reuse);
	tcase_add_test(tc, t_keepalive_connection_close);
	tcase_add_test(tc, t_keepalive_idle_closed);
	tcase_add_test(tc, t_continue_skipped);
	tcase_add_test(tc, t_no_body_answers);
	tcase_add_test(tc, t_fail_connect_refused);
	tcase_add_test(tc, t_fail_closed_before_answer);
	tcase_add_test(tc, t_fail_closed_mid_body);
	tcase_add_test(tc, t_fail_closed_mid_chunk);
	tcase_add_test(tc, t_fail_malformed_status);
	tcase_add_test(tc, t_fail_head_too_large);
	tcase_add_test(tc, t_fail_head_just_over_limit);
	tcase_add_test(tc, t_fail_read_timeout);
	tcase_add_test(tc, t_read_timeout_per_wait);
	tcase_add_test(tc, t_no_read_timeout);
	tcase_add_test(tc, t_pause_resume_length);
	tcase_add_test(tc, t_pause_resume_chunked_in_head);
	tcase_add_test(tc, t_pause_close_delimited);
	tcase_add_test(tc, t_pause_big);
	tcase_add_test(tc, t_cancel_in_head);
	tcase_add_test(tc, t_cancel_in_data);
	tcase_add_test(tc, t_cancel_outside_callbacks);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite_upstream());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
