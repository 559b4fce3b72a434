/* watchfan.c - the watch fan-out client of contrib/bench/watch-fanout.sh.
 *
 * It opens N connections to one server, each an HTTP/1.1 watch stream of
 * etcd's JSON gateway (POST /v3/watch) holding W create_requests on the
 * same key, waits until every watcher has answered "created", then runs
 * rounds: one put of the key over a separate keep-alive connection, the
 * clock read just before the put is sent (t0), and for every watcher the
 * moment its event line arrives. A round's figure is the last arrival
 * minus t0 (the write-to-last-delivery time the issue asks about); the
 * median over watchers and the put's own latency come along. The server
 * is the same for both sides of the comparison, so only ratios matter.
 *
 * Output, one record a line, key=value fields (parsed by the script):
 *   setup conns=.. watchers=.. per_conn=.. ms=..
 *   round n=.. rev=.. put_ms=.. p50_ms=.. last_ms=..
 *   summary rounds=.. last_median_ms=.. last_max_ms=.. p50_median_ms=..
 *           put_median_ms=.. put_max_ms=.. failed_streams=..
 *   hold pid=..        (with -H: streams stay open until SIGUSR1)
 * Errors go to stderr; the exit status is 0 only when every watcher got
 * every round's event for the put's revision and no stream ended.
 *
 * Built by the script: cc -O2 -o watchfan watchfan.c -levent (C11 and
 * libevent 2.1 only, so it builds without the cetcd tree).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#define READ_SIZE 65536

/* ---- options and global state ---- */

struct opts {
	const char *host;
	int port;
	int conns;          /* N */
	int per_conn;       /* W */
	int rounds;         /* R, measured */
	int warmup;         /* rounds run first and not counted */
	int interval_ms;    /* pause between rounds */
	int pending_max;    /* streams being set up at once */
	int setup_timeout;  /* seconds for every watcher to be created */
	int round_timeout;  /* seconds for one round */
	int hold;           /* keep streams open after the rounds until SIGUSR1 */
	const char *key;
};

/* a byte buffer with a consumed prefix, compacted lazily */
struct bytes {
	char *p;
	size_t off, len, cap;
};

enum sstate { S_CONNECTING, S_SENDING, S_HEAD, S_CHUNK_SIZE, S_CHUNK_DATA, S_CHUNK_CRLF, S_RAW };

struct stream {
	int id;
	int fd;
	struct event *ev;
	enum sstate st;
	size_t sent;          /* request bytes sent */
	size_t chunk_left;    /* bytes left in the current chunk */
	struct bytes in;      /* raw bytes not parsed yet */
	struct bytes line;    /* body bytes not yet a full line */
	int created;          /* watchers created */
	int got;              /* events of the current round */
	int64_t last_rev;     /* header revision of the last event */
};

struct putconn {
	int fd;
	struct event *ev;
	struct bytes in;
	int busy;
	double done_at;
	int64_t rev;
};

static struct opts o = {
	.host = "127.0.0.1", .port = 2379, .conns = 10000, .per_conn = 1, .rounds = 20,
	.warmup = 1, .interval_ms = 200, .pending_max = 256, .setup_timeout = 120,
	.round_timeout = 30, .hold = 0, .key = "watchfan",
};

static struct event_base *base;
static struct sockaddr_in addr;
static struct stream *streams;
static struct putconn put;
static char *watch_req;        /* the full HTTP request of every stream */
static size_t watch_req_len;
static char key_b64[256];

static int next_connect;       /* next stream to start */
static int pending;            /* streams started and not yet fully created */
static int ready;              /* streams with all watchers created */
static int failed;             /* streams that ended or errored */
static double setup_start;

static int round_no;           /* 0 = none yet; counts warm-up rounds too */
static int in_round;
static double t0;
static long arrived;           /* events of the current round */
static double *arrivals;       /* per watcher, this round */
static double *last_ms, *p50_ms, *put_ms;
static int measured;
static struct event *round_timer, *deadline_timer, *usr1_ev;
static int exit_code = 1;

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void fail(const char *fmt, ...)
{
	va_list ap;

	fputs("watchfan: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit_code = 1;
	event_base_loopbreak(base);
}

static void bytes_add(struct bytes *b, const char *p, size_t n)
{
	if (b->off > 0 && b->off == b->len) {
		b->off = b->len = 0;
	}
	if (b->len + n > b->cap) {
		if (b->off > 0) { /* compact before growing */
			memmove(b->p, b->p + b->off, b->len - b->off);
			b->len -= b->off;
			b->off = 0;
		}
		size_t cap = b->cap ? b->cap : 512;
		while (cap < b->len + n)
			cap *= 2;
		if (cap != b->cap) {
			char *np = realloc(b->p, cap);
			if (np == NULL) {
				fprintf(stderr, "watchfan: out of memory\n");
				exit(1);
			}
			b->p = np;
			b->cap = cap;
		}
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static size_t bytes_avail(const struct bytes *b) { return b->len - b->off; }
static char *bytes_at(const struct bytes *b) { return b->p + b->off; }

static void b64(const unsigned char *in, size_t n, char *out)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, j = 0;

	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[j++] = tab[v >> 18 & 63];
		out[j++] = tab[v >> 12 & 63];
		out[j++] = tab[v >> 6 & 63];
		out[j++] = tab[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0);
		out[j++] = tab[v >> 18 & 63];
		out[j++] = tab[v >> 12 & 63];
		out[j++] = i + 1 < n ? tab[v >> 6 & 63] : '=';
		out[j++] = '=';
	}
	out[j] = '\0';
}

/* ---- tiny JSON probes: the lines are etcd's compact jsonpb output ---- */

/* find_field: the value after "name": in line (len n), or NULL. */
static const char *find_field(const char *line, size_t n, const char *name)
{
	size_t nl = strlen(name);
	const char *p = line, *end = line + n;

	while ((p = memmem(p, (size_t)(end - p), name, nl)) != NULL) {
		const char *q = p + nl;
		if (p > line && p[-1] == '"' && q < end && *q == '"') {
			q++;
			while (q < end && (*q == ' ' || *q == ':'))
				q++;
			return q;
		}
		p = q;
	}
	return NULL;
}

static int field_true(const char *line, size_t n, const char *name)
{
	const char *v = find_field(line, n, name);
	return v && (size_t)(line + n - v) >= 4 && memcmp(v, "true", 4) == 0;
}

/* field_int reads "name":"123" or "name":123; -1 when absent. */
static int64_t field_int(const char *line, size_t n, const char *name)
{
	const char *v = find_field(line, n, name), *end = line + n;
	int64_t x = 0;

	if (v == NULL)
		return -1;
	if (v < end && *v == '"')
		v++;
	if (v >= end || *v < '0' || *v > '9')
		return -1;
	while (v < end && *v >= '0' && *v <= '9')
		x = x * 10 + (*v++ - '0');
	return x;
}

/* ---- rounds ---- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void start_round(evutil_socket_t fd, short what, void *arg);

static void put_send(void)
{
	char body[512], val[64], vb64[128], req[1024];
	int bl, rl;

	snprintf(val, sizeof(val), "round-%06d", round_no);
	b64((const unsigned char *)val, strlen(val), vb64);
	bl = snprintf(body, sizeof(body), "{\"key\":\"%s\",\"value\":\"%s\"}", key_b64, vb64);
	rl = snprintf(req, sizeof(req),
		"POST /v3/kv/put HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/json\r\n"
		"Content-Length: %d\r\n\r\n%s", o.host, o.port, bl, body);
	put.busy = 1;
	put.rev = -1;
	t0 = now_ms();
	/* a few hundred bytes on an idle loopback socket: one send suffices */
	if (send(put.fd, req, (size_t)rl, MSG_NOSIGNAL) != rl)
		fail("put: send: %s", strerror(errno));
}

static void finish_round(void)
{
	int nw = o.conns * o.per_conn;
	double last = 0, p50, pms = put.done_at - t0;
	int64_t bad = 0;

	for (int i = 0; i < o.conns; i++)
		if (streams[i].last_rev != put.rev)
			bad++;
	if (bad) {
		fail("round %d: %lld streams saw a revision other than the put's %lld", round_no,
			(long long)bad, (long long)put.rev);
		return;
	}
	for (int i = 0; i < nw; i++)
		if (arrivals[i] > last)
			last = arrivals[i];
	last -= t0;
	p50 = median(arrivals, nw) - t0;
	in_round = 0;
	event_del(round_timer);
	printf("round n=%d%s rev=%lld put_ms=%.3f p50_ms=%.3f last_ms=%.3f\n", round_no,
		round_no <= o.warmup ? " warmup=1" : "", (long long)put.rev, pms, p50, last);
	fflush(stdout);
	if (round_no > o.warmup) {
		last_ms[measured] = last;
		p50_ms[measured] = p50;
		put_ms[measured] = pms;
		measured++;
	}
	struct timeval tv = { o.interval_ms / 1000, (o.interval_ms % 1000) * 1000 };
	if (round_no < o.warmup + o.rounds) {
		evtimer_del(round_timer);
		evtimer_assign(round_timer, base, start_round, NULL);
		evtimer_add(round_timer, &tv);
		return;
	}
	double mx = 0, pmx = 0;
	for (int i = 0; i < measured; i++) {
		if (last_ms[i] > mx)
			mx = last_ms[i];
		if (put_ms[i] > pmx)
			pmx = put_ms[i];
	}
	printf("summary rounds=%d last_median_ms=%.3f last_max_ms=%.3f p50_median_ms=%.3f "
	       "put_median_ms=%.3f put_max_ms=%.3f failed_streams=%d\n", measured,
		median(last_ms, measured), mx, median(p50_ms, measured), median(put_ms, measured),
		pmx, failed);
	fflush(stdout);
	exit_code = 0;
	if (o.hold) {
		printf("hold pid=%ld\n", (long)getpid());
		fflush(stdout);
		return; /* SIGUSR1 ends the loop */
	}
	event_base_loopbreak(base);
}

static void maybe_finish_round(void)
{
	if (in_round && !put.busy && arrived == (long)o.conns * o.per_conn)
		finish_round();
}

static void round_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what, (void)arg;
	fail("round %d: timed out after %d s: %ld of %ld events, put %s", round_no,
		o.round_timeout, arrived, (long)o.conns * o.per_conn,
		put.busy ? "unanswered" : "answered");
}

static void start_round(evutil_socket_t fd, short what, void *arg)
{
	struct timeval tv = { o.round_timeout, 0 };

	(void)fd, (void)what, (void)arg;
	round_no++;
	in_round = 1;
	arrived = 0;
	for (int i = 0; i < o.conns; i++) {
		streams[i].got = 0;
		streams[i].last_rev = -1;
	}
	evtimer_assign(round_timer, base, round_timeout_cb, NULL);
	evtimer_add(round_timer, &tv);
	put_send();
}

/* ---- the put connection ---- */

static void put_read_cb(evutil_socket_t fd, short what, void *arg)
{
	char rb[8192];
	ssize_t n = recv(fd, rb, sizeof(rb), 0);
	double now = now_ms();

	(void)what, (void)arg;
	if (n <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		fail("put connection closed: %s", n ? strerror(errno) : "EOF");
		return;
	}
	bytes_add(&put.in, rb, (size_t)n);
	char *p = bytes_at(&put.in);
	size_t av = bytes_avail(&put.in);
	char *he = memmem(p, av, "\r\n\r\n", 4);
	if (he == NULL)
		return;
	size_t hl = (size_t)(he - p) + 4;
	if (av < 12 || memcmp(p + 9, "200", 3) != 0) {
		fail("put: answer %.*s", (int)(memchr(p, '\r', av) ? (char *)memchr(p, '\r', av) - p : 12), p);
		return;
	}
	/* Content-Length or chunked with a final 0 chunk */
	const char *cl = memmem(p, hl, "\r\nContent-Length:", 17);
	if (cl == NULL)
		cl = memmem(p, hl, "\r\ncontent-length:", 17);
	size_t total;
	if (cl != NULL) {
		total = hl + strtoul(cl + 17, NULL, 10);
		if (av < total)
			return;
	} else {
		char *z = memmem(p + hl, av - hl, "\r\n0\r\n\r\n", 7);
		if (z == NULL)
			return;
		total = (size_t)(z - p) + 7;
	}
	put.rev = field_int(p + hl, total - hl, "revision");
	put.in.off += total;
	put.done_at = now;
	put.busy = 0;
	maybe_finish_round();
}

/* ---- watch streams ---- */

static void stream_dead(struct stream *s, const char *why)
{
	failed++;
	fail("stream %d: %s (%d streams failed)", s->id, why, failed);
}

static void on_line(struct stream *s, const char *l, size_t n, double now)
{
	if (n == 0 || (n == 1 && l[0] == '\r'))
		return;
	if (field_true(l, n, "canceled") || find_field(l, n, "error") != NULL) {
		stream_dead(s, "canceled or error from the server");
		return;
	}
	if (field_true(l, n, "created")) {
		if (++s->created == o.per_conn) {
			ready++;
			pending--;
		}
		return;
	}
	if (find_field(l, n, "events") == NULL)
		return; /* progress notification and the like */
	if (!in_round || s->got >= o.per_conn) {
		stream_dead(s, "an event outside a round");
		return;
	}
	arrivals[(size_t)s->id * (size_t)o.per_conn + (size_t)s->got++] = now;
	arrived++;
	s->last_rev = field_int(l, n, "revision");
}

/* body: pass body bytes through the line splitter */
static void body(struct stream *s, const char *p, size_t n, double now)
{
	bytes_add(&s->line, p, n);
	for (;;) {
		char *l = bytes_at(&s->line);
		size_t av = bytes_avail(&s->line);
		char *nl = memchr(l, '\n', av);
		if (nl == NULL)
			return;
		s->line.off += (size_t)(nl - l) + 1;
		on_line(s, l, (size_t)(nl - l), now);
		if (failed)
			return;
	}
}

/* parse: consume s->in (headers, then chunked or raw body). */
static void parse(struct stream *s, double now)
{
	while (bytes_avail(&s->in) > 0 && !failed) {
		char *p = bytes_at(&s->in);
		size_t av = bytes_avail(&s->in);
		char *e;

		switch (s->st) {
		case S_HEAD:
			if ((e = memmem(p, av, "\r\n\r\n", 4)) == NULL)
				return;
			if (av < 12 || memcmp(p + 9, "200", 3) != 0) {
				stream_dead(s, "watch request not answered 200");
				return;
			}
			s->st = memmem(p, (size_t)(e - p), "hunked", 6) ? S_CHUNK_SIZE : S_RAW;
			s->in.off += (size_t)(e - p) + 4;
			break;
		case S_CHUNK_SIZE:
			if ((e = memmem(p, av, "\r\n", 2)) == NULL)
				return;
			s->chunk_left = strtoul(p, NULL, 16);
			s->in.off += (size_t)(e - p) + 2;
			if (s->chunk_left == 0) {
				stream_dead(s, "the stream ended (last chunk)");
				return;
			}
			s->st = S_CHUNK_DATA;
			break;
		case S_CHUNK_DATA: {
			size_t take = av < s->chunk_left ? av : s->chunk_left;
			s->in.off += take;
			s->chunk_left -= take;
			if (s->chunk_left == 0)
				s->st = S_CHUNK_CRLF;
			body(s, p, take, now);
			break;
		}
		case S_CHUNK_CRLF:
			if (av < 2)
				return;
			s->in.off += 2;
			s->st = S_CHUNK_SIZE;
			break;
		case S_RAW:
			s->in.off += av;
			body(s, p, av, now);
			break;
		default:
			return;
		}
	}
}

static void start_streams(void);

static void stream_cb(evutil_socket_t fd, short what, void *arg)
{
	struct stream *s = arg;
	char rb[READ_SIZE];

	(void)what;
	if (s->st == S_CONNECTING || s->st == S_SENDING) {
		int err = 0;
		socklen_t el = sizeof(err);
		if (s->st == S_CONNECTING) {
			getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
			if (err != 0) {
				errno = err;
				stream_dead(s, strerror(err));
				return;
			}
			s->st = S_SENDING;
		}
		ssize_t n = send(fd, watch_req + s->sent, watch_req_len - s->sent, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				stream_dead(s, strerror(errno));
			return;
		}
		s->sent += (size_t)n;
		if (s->sent < watch_req_len)
			return;
		s->st = S_HEAD;
		event_del(s->ev);
		event_assign(s->ev, base, fd, EV_READ | EV_PERSIST, stream_cb, s);
		event_add(s->ev, NULL);
		return;
	}
	ssize_t n = recv(fd, rb, sizeof(rb), 0);
	double now = now_ms();
	if (n <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		stream_dead(s, n ? strerror(errno) : "closed by the server");
		return;
	}
	int was_ready = ready;
	bytes_add(&s->in, rb, (size_t)n);
	parse(s, now);
	if (ready != was_ready)
		start_streams();
	maybe_finish_round();
}

static int stream_open(struct stream *s)
{
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		fail("socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 && errno != EINPROGRESS) {
		fail("connect: %s", strerror(errno));
		close(fd);
		return -1;
	}
	s->fd = fd;
	s->st = S_CONNECTING;
	s->ev = event_new(base, fd, EV_WRITE | EV_PERSIST, stream_cb, s);
	if (s->ev == NULL || event_add(s->ev, NULL) != 0) {
		fail("event_new failed");
		return -1;
	}
	return 0;
}

/* start_streams keeps at most pending_max streams in setup; when the last
 * one is created the rounds begin. */
static void start_streams(void)
{
	while (pending < o.pending_max && next_connect < o.conns && !failed) {
		if (stream_open(&streams[next_connect]) != 0)
			return;
		next_connect++;
		pending++;
	}
	if (ready == o.conns && round_no == 0 && !in_round) {
		printf("setup conns=%d watchers=%d per_conn=%d ms=%.1f\n", o.conns,
			o.conns * o.per_conn, o.per_conn, now_ms() - setup_start);
		fflush(stdout);
		event_del(deadline_timer);
		struct timeval tv = { o.interval_ms / 1000, (o.interval_ms % 1000) * 1000 };
		evtimer_assign(round_timer, base, start_round, NULL);
		evtimer_add(round_timer, &tv);
	}
}

static void setup_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what, (void)arg;
	fail("setup timed out after %d s: %d of %d streams fully created (%d connecting)",
		o.setup_timeout, ready, o.conns, pending);
}

static void usr1_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what, (void)arg;
	event_base_loopbreak(base);
}

/* ---- setup ---- */

static void usage(void)
{
	fprintf(stderr,
		"usage: watchfan [-h host] [-p port] [-n conns] [-w watchers-per-conn] [-r rounds]\n"
		"                [-u warmup-rounds] [-i interval-ms] [-P pending] [-T setup-s]\n"
		"                [-R round-s] [-k key] [-H]\n");
	exit(2);
}

static void parse_args(int argc, char **argv)
{
	int c;

	while ((c = getopt(argc, argv, "h:p:n:w:r:u:i:P:T:R:k:H")) != -1) {
		switch (c) {
		case 'h': o.host = optarg; break;
		case 'p': o.port = atoi(optarg); break;
		case 'n': o.conns = atoi(optarg); break;
		case 'w': o.per_conn = atoi(optarg); break;
		case 'r': o.rounds = atoi(optarg); break;
		case 'u': o.warmup = atoi(optarg); break;
		case 'i': o.interval_ms = atoi(optarg); break;
		case 'P': o.pending_max = atoi(optarg); break;
		case 'T': o.setup_timeout = atoi(optarg); break;
		case 'R': o.round_timeout = atoi(optarg); break;
		case 'k': o.key = optarg; break;
		case 'H': o.hold = 1; break;
		default: usage();
		}
	}
	if (o.conns < 1 || o.per_conn < 1 || o.rounds < 1 || o.warmup < 0 || o.pending_max < 1 ||
		o.port < 1 || o.port > 65535 || strlen(o.key) > 150 || optind != argc)
		usage();
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)o.port);
	if (inet_pton(AF_INET, o.host, &addr.sin_addr) != 1) {
		fprintf(stderr, "watchfan: -h wants an IPv4 address\n");
		exit(2);
	}
}

/* raise_nofile lifts the soft descriptor limit to what N streams need. */
static int raise_nofile(void)
{
	struct rlimit rl;
	rlim_t need = (rlim_t)o.conns + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return -1;
	if (rl.rlim_cur >= need)
		return 0;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
		fprintf(stderr, "watchfan: %d connections need %llu descriptors, hard limit is %llu\n",
			o.conns, (unsigned long long)need, (unsigned long long)rl.rlim_max);
		return -1;
	}
	rl.rlim_cur = need;
	return setrlimit(RLIMIT_NOFILE, &rl);
}

static void build_watch_request(void)
{
	size_t one = strlen(key_b64) + 40, blen = 0, cap = (size_t)o.per_conn * one + 256;
	char *body = malloc(cap);

	watch_req = malloc(cap + 256);
	if (body == NULL || watch_req == NULL)
		exit(1);
	for (int i = 0; i < o.per_conn; i++)
		blen += (size_t)sprintf(body + blen, "{\"create_request\":{\"key\":\"%s\"}}\n", key_b64);
	watch_req_len = (size_t)sprintf(watch_req,
		"POST /v3/watch HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/json\r\n"
		"Content-Length: %zu\r\n\r\n%s", o.host, o.port, blen, body);
	free(body);
}

static int put_open(void)
{
	int one = 1;

	put.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (put.fd < 0 || connect(put.fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
		fprintf(stderr, "watchfan: connect %s:%d: %s\n", o.host, o.port, strerror(errno));
		return -1;
	}
	setsockopt(put.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	evutil_make_socket_nonblocking(put.fd);
	put.ev = event_new(base, put.fd, EV_READ | EV_PERSIST, put_read_cb, NULL);
	return put.ev == NULL ? -1 : event_add(put.ev, NULL);
}

int main(int argc, char **argv)
{
	struct timeval st;
	size_t nw;

	parse_args(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	if (raise_nofile() != 0)
		return 1;
	b64((const unsigned char *)o.key, strlen(o.key), key_b64);
	build_watch_request();
	nw = (size_t)o.conns * (size_t)o.per_conn;
	streams = calloc((size_t)o.conns, sizeof(*streams));
	arrivals = calloc(nw, sizeof(*arrivals));
	last_ms = calloc((size_t)o.rounds, sizeof(double));
	p50_ms = calloc((size_t)o.rounds, sizeof(double));
	put_ms = calloc((size_t)o.rounds, sizeof(double));
	base = event_base_new();
	if (!streams || !arrivals || !last_ms || !p50_ms || !put_ms || !base)
		return 1;
	for (int i = 0; i < o.conns; i++) {
		streams[i].id = i;
		streams[i].fd = -1;
	}
	if (put_open() != 0)
		return 1;
	round_timer = evtimer_new(base, start_round, NULL);
	deadline_timer = evtimer_new(base, setup_timeout_cb, NULL);
	usr1_ev = evsignal_new(base, SIGUSR1, usr1_cb, NULL);
	if (!round_timer || !deadline_timer || !usr1_ev || evsignal_add(usr1_ev, NULL) != 0)
		return 1;
	st.tv_sec = o.setup_timeout;
	st.tv_usec = 0;
	evtimer_add(deadline_timer, &st);
	setup_start = now_ms();
	exit_code = 1;
	start_streams();
	event_base_dispatch(base);
	if (exit_code != 0 && round_no == 0 && ready < o.conns)
		fprintf(stderr, "watchfan: %d of %d streams created when stopped\n", ready, o.conns);
	/* the process exit closes every socket; freeing 10,000 events first
	 * would only delay it */
	return exit_code;
}
