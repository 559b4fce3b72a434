/* peer.c - the raft worker's peer transport (cluster/peerproto.h).
 *
 * Outbound: one stream connection to every other member, dialled with
 * capped exponential backoff, carrying raft messages and forwarded
 * proposals. A connection whose send buffer is over PEER_MAX_BACKLOG drops
 * messages (Raft tolerates loss; the core is told the peer is unreachable
 * so it probes instead of pipelining into the void).
 *
 * Inbound: the listeners the supervisor bound on --listen-peer-urls. The
 * preamble is checked (cluster id, receiver id, removed senders) before any
 * frame is believed; a refused dialler gets PEER_REFUSED and the close.
 */
#include "config.h"
#include "raftd/raftd_int.h"
#include "cluster/peerproto.h"
#include "config/url.h"
#include "ipc/conn.h"
#include "ipc/frame.h"
#include "ipc/worker.h"
#include "raft/raft.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/log.h"

#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#define PEER_MAX_BACKLOG (8u << 20)
#define PEER_BACKOFF_MIN_MS 50
#define PEER_BACKOFF_MAX_MS 1000
#define PEER_MAX_FRAME (64u << 20)

static void dial(struct raftd_peer *p);

static uint64_t now_ms(void)
{
	return shm_now_ms();
}

static void set_nodelay(evutil_socket_t fd)
{
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* --- outbound ----------------------------------------------------------- */

struct raftd_peer *raftd_peer_find(struct raftd *d, uint64_t id)
{
	for (size_t i = 0; i < d->npeers; i++)
		if (d->peers[i]->id == id)
			return d->peers[i];
	return NULL;
}

static void drop_conn(struct raftd_peer *p)
{
	if (p->bev) {
		bufferevent_free(p->bev);
		p->bev = NULL;
	}
	if (p->connected)
		log_info("peer %016" PRIx64 ": connection lost", p->id);
	p->connected = 0;
}

static void schedule_dial(struct raftd_peer *p)
{
	struct timeval tv;

	if (p->backoff_ms == 0)
		p->backoff_ms = PEER_BACKOFF_MIN_MS;
	tv.tv_sec = (time_t)(p->backoff_ms / 1000);
	tv.tv_usec = (suseconds_t)((p->backoff_ms % 1000) * 1000);
	evtimer_add(p->retry_ev, &tv);
	p->backoff_ms *= 2;
	if (p->backoff_ms > PEER_BACKOFF_MAX_MS)
		p->backoff_ms = PEER_BACKOFF_MAX_MS;
}

/* The listener only ever answers a stream with PEER_REFUSED. */
static void out_read_cb(struct bufferevent *bev, void *arg)
{
	struct raftd_peer *p = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	uint8_t hb[IPC_HDR_SIZE], body[260];
	struct ipc_hdr h;
	size_t n;
	int code;

	if (evbuffer_get_length(in) < IPC_HDR_SIZE)
		return;
	evbuffer_copyout(in, hb, sizeof(hb));
	if (ipc_hdr_unpack(&h, hb) != 0 || h.type != PEER_REFUSED || h.len < 4) {
		evbuffer_drain(in, evbuffer_get_length(in));
		return;
	}
	if (evbuffer_get_length(in) < IPC_HDR_SIZE + h.len)
		return;
	evbuffer_drain(in, IPC_HDR_SIZE);
	n = h.len < sizeof(body) - 1 ? h.len : sizeof(body) - 1;
	evbuffer_remove(in, body, n);
	evbuffer_drain(in, h.len - n);
	body[n] = '\0';
	code = -(int)le_get32(body);
	if (code == CE_GONE) {
		log_error("the member has been permanently removed from the cluster (told by %016" PRIx64
			"); the data-dir used by this member must be removed", p->id);
		exit(WORKER_EXIT_REMOVED);
	}
	log_error("peer %016" PRIx64 " refused this member: %s", p->id, (char *)body + 4);
	p->backoff_ms = PEER_BACKOFF_MAX_MS;
}

static void out_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct raftd_peer *p = arg;
	struct raftd *d = p->d;

	if (what & BEV_EVENT_CONNECTED) {
		struct peer_preamble pre = { d->cluster.cluster_id, d->cluster.self_id, p->id,
			PEER_KIND_STREAM };
		uint8_t pb[PEER_PREAMBLE_SIZE];

		set_nodelay(bufferevent_getfd(bev));
		peer_preamble_encode(pb, &pre);
		bufferevent_write(bev, pb, sizeof(pb));
		p->connected = 1;
		p->backoff_ms = PEER_BACKOFF_MIN_MS;
		log_info("peer %016" PRIx64 ": connected to %s", p->id, p->url);
		return;
	}
	if (what & (BEV_EVENT_ERROR | BEV_EVENT_EOF)) {
		drop_conn(p);
		schedule_dial(p);
	}
}

static void retry_cb(evutil_socket_t fd, short what, void *arg)
{
	dial(arg);
}

struct bufferevent *raftd_dial(struct raftd *d, const char *url, bufferevent_data_cb readcb,
	bufferevent_event_cb eventcb, void *arg)
{
	struct evutil_addrinfo hints, *res = NULL;
	struct bufferevent *bev;
	struct cetcd_url u;
	char port[16], err[128];

	if (url_parse(url, &u, err, sizeof(err)) != 0) {
		log_error("bad peer URL %s: %s", url, err);
		return NULL;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof(port), "%d", u.port);
	if (evutil_getaddrinfo(u.host, port, &hints, &res) != 0 || res == NULL) {
		url_close(&u);
		return NULL;
	}
	url_close(&u);
	bev = bufferevent_socket_new(d->w->base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (bev != NULL) {
		bufferevent_setcb(bev, readcb, NULL, eventcb, arg);
		bufferevent_enable(bev, EV_READ | EV_WRITE);
		if (bufferevent_socket_connect(bev, res->ai_addr, (int)res->ai_addrlen) != 0) {
			bufferevent_free(bev);
			bev = NULL;
		}
	}
	evutil_freeaddrinfo(res);
	return bev;
}

void raftd_write_frame(struct bufferevent *bev, uint8_t type, const void *a, size_t alen,
	const void *b, size_t blen)
{
	struct ipc_hdr h = { IPC_MAGIC, IPC_VERSION, type, (uint32_t)(alen + blen), 0, 0, 0 };
	uint8_t hb[IPC_HDR_SIZE];

	ipc_hdr_pack(&h, hb);
	bufferevent_write(bev, hb, sizeof(hb));
	if (alen)
		bufferevent_write(bev, a, alen);
	if (blen)
		bufferevent_write(bev, b, blen);
}

static void dial(struct raftd_peer *p)
{
	drop_conn(p);
	p->bev = raftd_dial(p->d, p->url, out_read_cb, out_event_cb, p);
	if (p->bev == NULL)
		schedule_dial(p);
}

static struct raftd_peer *peer_new(struct raftd *d, const struct member *m)
{
	struct raftd_peer *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	p->d = d;
	p->id = m->id;
	snprintf(p->url, sizeof(p->url), "%s", m->npeer ? m->peer_urls[0] : "");
	p->retry_ev = evtimer_new(d->w->base, retry_cb, p);
	dial(p);
	return p;
}

static void peer_free(struct raftd_peer *p)
{
	drop_conn(p);
	if (p->retry_ev)
		event_free(p->retry_ev);
	raftd_snap_peer_gone(p);
	free(p);
}

void raftd_peers_sync(struct raftd *d)
{
	/* Drop peers no longer in the table, redial those whose URL changed. */
	for (size_t i = 0; i < d->npeers;) {
		struct raftd_peer *p = d->peers[i];
		struct member *m = cluster_find(&d->cluster, p->id);
		if (m == NULL) {
			log_info("peer %016" PRIx64 " removed", p->id);
			peer_free(p);
			d->peers[i] = d->peers[--d->npeers];
			continue;
		}
		if (m->npeer && strcmp(m->peer_urls[0], p->url) != 0) {
			snprintf(p->url, sizeof(p->url), "%s", m->peer_urls[0]);
			log_info("peer %016" PRIx64 ": new peer URL %s", p->id, p->url);
			p->backoff_ms = 0;
			dial(p);
		}
		i++;
	}
	for (size_t i = 0; i < d->cluster.n; i++) {
		const struct member *m = &d->cluster.v[i];
		struct raftd_peer *p;
		if (m->id == d->cluster.self_id || raftd_peer_find(d, m->id) != NULL)
			continue;
		if ((p = peer_new(d, m)) != NULL)
			d->peers[d->npeers++] = p;
	}
}

/* raftd_peer_send queues one frame to peer id. Returns 0, or CE_CLOSED when
 * it is not connected or too far behind (the frame is dropped). */
int raftd_peer_send(struct raftd *d, uint64_t id, uint8_t type, uint64_t req_id, uint32_t origin,
	uint32_t gen, const void *a, size_t alen, const void *b, size_t blen)
{
	struct raftd_peer *p = raftd_peer_find(d, id);
	struct ipc_hdr h = { IPC_MAGIC, IPC_VERSION, type, (uint32_t)(alen + blen), req_id, origin, gen };
	uint8_t hb[IPC_HDR_SIZE];
	struct evbuffer *out;

	if (p == NULL || !p->connected || p->bev == NULL)
		return CE_CLOSED;
	out = bufferevent_get_output(p->bev);
	if (evbuffer_get_length(out) > PEER_MAX_BACKLOG)
		return CE_CLOSED;
	ipc_hdr_pack(&h, hb);
	evbuffer_add(out, hb, sizeof(hb));
	p->sent_bytes += sizeof(hb) + alen + blen;
	if (alen)
		evbuffer_add(out, a, alen);
	if (blen)
		evbuffer_add(out, b, blen);
	return 0;
}

void raftd_peers_send_msgs(struct raftd *d, const struct raft_msg *msgs, size_t n)
{
	struct buf b;

	buf_init(&b);
	for (size_t i = 0; i < n; i++) {
		const struct raft_msg *m = &msgs[i];
		struct raftd_peer *p = raftd_peer_find(d, m->to);

		if (m->type == RAFT_MSG_SNAPSHOT) {
			raftd_snap_wanted(d, m);
			continue;
		}
		b.len = 0;
		if (raft_msg_encode(m, &b) != 0)
			continue;
		if (p != NULL && m->type == RAFT_MSG_HEARTBEAT && p->hb_sent_ns == 0)
			p->hb_sent_ns = raftd_now_ns();
		if (p != NULL && (m->type == RAFT_MSG_APPEND || m->type == RAFT_MSG_HEARTBEAT))
			p->sent_appends++;
		if (raftd_peer_send(d, m->to, PEER_MSG, 0, 0, 0, b.data, b.len, NULL, 0) != 0 &&
			d->nunreachable < RAFTD_MAX_UNREACHABLE)
			d->unreachable[d->nunreachable++] = m->to;
	}
	buf_close(&b);
}

/* --- inbound ------------------------------------------------------------ */

struct peer_in {
	struct raftd *d;
	struct bufferevent *bev;
	int http;     /* an HTTP request (GET /members), not a cetcd peer */
	int have_pre;
	struct peer_preamble pre;
	struct raftd_snap_rx *rx; /* kind snapshot: the transfer in progress */
};

static void in_free(struct peer_in *pi)
{
	if (pi->rx)
		raftd_snap_rx_abort(pi->rx);
	bufferevent_free(pi->bev);
	free(pi);
}

static void close_after_write(struct bufferevent *bev, void *arg)
{
	struct peer_in *pi = arg;

	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		in_free(pi);
}

static void reply_frame(struct peer_in *pi, uint8_t type, const void *a, size_t alen, const void *b,
	size_t blen)
{
	raftd_write_frame(pi->bev, type, a, alen, b, blen);
}

/* refuse answers PEER_REFUSED and closes once it is written. */
static void refuse(struct peer_in *pi, int code, const char *msg)
{
	uint8_t c[4];

	le_put32(c, (uint32_t)-code);
	reply_frame(pi, PEER_REFUSED, c, 4, msg, strlen(msg));
	bufferevent_disable(pi->bev, EV_READ);
	bufferevent_setcb(pi->bev, NULL, close_after_write, NULL, pi);
}

static void answer_members(struct peer_in *pi)
{
	struct raftd *d = pi->d;
	char *json = cluster_members_json(&d->cluster);
	uint8_t cid[8];

	le_put64(cid, d->cluster.cluster_id);
	reply_frame(pi, PEER_MEMBERS, cid, 8, json, json ? strlen(json) : 0);
	free(json);
	bufferevent_disable(pi->bev, EV_READ);
	bufferevent_setcb(pi->bev, NULL, close_after_write, NULL, pi);
}

#define PEER_HTTP_MAX_HEAD 8192u

/* http_reply answers an HTTP request on the peer port and closes. */
static void http_reply(struct peer_in *pi, const char *status, const char *ctype,
	const char *body)
{
	struct evbuffer *out = bufferevent_get_output(pi->bev);

	evbuffer_add_printf(out, "HTTP/1.1 %s\r\nContent-Type: %s\r\nX-Etcd-Cluster-Id: %" PRIx64
		"\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s", status, ctype,
		pi->d->cluster.cluster_id, strlen(body), body);
	bufferevent_disable(pi->bev, EV_READ);
	bufferevent_setcb(pi->bev, NULL, close_after_write, NULL, pi);
}

/* on_http serves the one HTTP request the peer port answers, etcd's
 * GET /members (what etcd's and cetcd's proxies ask a cluster for). */
static void on_http(struct peer_in *pi, struct evbuffer *in)
{
	struct evbuffer_ptr end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
	char line[512], *sp;
	size_t n;

	if (end.pos < 0) {
		if (evbuffer_get_length(in) > PEER_HTTP_MAX_HEAD)
			in_free(pi);
		return;
	}
	n = evbuffer_copyout(in, line, sizeof(line) - 1) > 0 ? (size_t)end.pos : 0;
	line[n < sizeof(line) - 1 ? n : sizeof(line) - 1] = '\0';
	line[strcspn(line, "\r\n")] = '\0';
	sp = strchr(line + 4, ' ');
	if (sp)
		*sp = '\0';
	line[4 + strcspn(line + 4, "?")] = '\0';
	if (strcmp(line + 4, "/members") == 0) {
		char *json = cluster_peer_members_json(&pi->d->cluster);
		struct buf b;
		buf_init(&b);
		buf_puts(&b, json ? json : "[]");
		buf_put(&b, "\n", 2); /* Go's json.Encoder ends with a newline */
		http_reply(pi, "200 OK", "application/json", b.oom ? "[]\n" : (char *)b.data);
		buf_close(&b);
		free(json);
		return;
	}
	http_reply(pi, "404 Not Found", "text/plain; charset=utf-8", "404 page not found\n");
}

/* check_preamble: 0 to go on, -1 when the connection was refused/answered. */
static int check_preamble(struct peer_in *pi)
{
	struct raftd *d = pi->d;
	struct peer_preamble *pre = &pi->pre;
	char msg[160];

	if (pre->kind == PEER_KIND_MEMBERS) {
		answer_members(pi);
		return -1;
	}
	if (pre->cluster_id != d->cluster.cluster_id) {
		snprintf(msg, sizeof(msg), "request cluster ID mismatch (got %" PRIx64 " want %" PRIx64 ")",
			pre->cluster_id, d->cluster.cluster_id);
		log_warn("peer connection refused: %s", msg);
		refuse(pi, CE_INVAL, msg);
		return -1;
	}
	if (cluster_is_removed(&d->cluster, pre->from)) {
		log_warn("refused a connection from removed member %016" PRIx64, pre->from);
		refuse(pi, CE_GONE, "the member has been permanently removed from the cluster");
		return -1;
	}
	if (pre->to != d->cluster.self_id) {
		snprintf(msg, sizeof(msg), "this is member %" PRIx64 ", not %" PRIx64, d->cluster.self_id,
			pre->to);
		refuse(pi, CE_INVAL, msg);
		return -1;
	}
	if (pre->kind == PEER_KIND_SNAPSHOT)
		return 0;
	if (pre->kind != PEER_KIND_STREAM) {
		refuse(pi, CE_INVAL, "unknown connection kind");
		return -1;
	}
	return 0;
}

static void on_peer_msg(struct raftd *d, const struct peer_in *pi, const uint8_t *p, size_t n)
{
	struct raftd_peer *peer = raftd_peer_find(d, pi->pre.from);
	struct raft_msg m;
	int rc;

	if (raft_msg_decode(&m, p, n) != 0) {
		log_warn("peer %016" PRIx64 ": undecodable raft message dropped", pi->pre.from);
		return;
	}
	if (peer != NULL) {
		peer->last_heard_ms = now_ms();
		peer->recv_bytes += IPC_HDR_SIZE + n;
		if (m.type == RAFT_MSG_HEARTBEAT_RESP && peer->hb_sent_ns != 0) {
			raftd_peer_latency(peer, raftd_now_ns() - peer->hb_sent_ns);
			peer->hb_sent_ns = 0;
		}
		if (m.type == RAFT_MSG_APPEND_RESP) {
			if (m.reject)
				peer->fails++;
			else
				peer->successes++;
		}
	}
	if (m.type == RAFT_MSG_APPEND)
		d->recv_appends++;
	rc = raft_step(d->raft, &m);
	if (rc == CE_CORRUPT)
		log_error("peer %016" PRIx64 ": raft message would overwrite committed entries",
			pi->pre.from);
	raft_msg_decoded_free(&m);
	raftd_schedule_ready(d);
}

/* on_frame handles one frame; -1 when the connection was refused. */
static int on_frame(struct peer_in *pi, const struct ipc_hdr *h, const uint8_t *p)
{
	struct raftd *d = pi->d;

	/* A member removed while connected learns it from its next message. */
	if (cluster_is_removed(&d->cluster, pi->pre.from)) {
		log_warn("refusing messages from removed member %016" PRIx64, pi->pre.from);
		refuse(pi, CE_GONE, "the member has been permanently removed from the cluster");
		return -1;
	}
	switch (h->type) {
	case PEER_MSG:
		on_peer_msg(d, pi, p, h->len);
		break;
	case PEER_PROPOSE:
		if (h->len >= 1)
			raftd_submit(d, p[0], p + 1, h->len - 1, pi->pre.from, h->req_id, h->origin,
				h->gen);
		break;
	case PEER_PROPOSE_ERR:
		raftd_api_send(d, h->origin, h->gen, IPC_PROPOSE_ERR, h->req_id, p, h->len);
		break;
	default:
		log_warn("peer %016" PRIx64 ": unexpected frame type %u", pi->pre.from, h->type);
		break;
	}
	return 0;
}

static void in_read_cb(struct bufferevent *bev, void *arg)
{
	struct peer_in *pi = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	if (!pi->have_pre) {
		uint8_t pb[PEER_PREAMBLE_SIZE];
		if (!pi->http && evbuffer_get_length(in) >= 4 &&
			memcmp(evbuffer_pullup(in, 4), "GET ", 4) == 0)
			pi->http = 1;
		if (pi->http) {
			on_http(pi, in);
			return;
		}
		if (evbuffer_get_length(in) < PEER_PREAMBLE_SIZE)
			return;
		evbuffer_remove(in, pb, sizeof(pb));
		if (peer_preamble_decode(&pi->pre, pb) != 0) {
			log_warn("peer port: a connection that is not a cetcd peer; closed");
			in_free(pi);
			return;
		}
		pi->have_pre = 1;
		if (check_preamble(pi) != 0)
			return;
		if (pi->pre.kind == PEER_KIND_SNAPSHOT &&
			(pi->rx = raftd_snap_rx_new(pi->d, pi->pre.from, pi->bev)) == NULL) {
			in_free(pi);
			return;
		}
	}
	if (pi->rx) {
		int r = raftd_snap_rx_feed(pi->rx, in);
		if (r < 0) {
			in_free(pi);
		} else if (r > 0) {
			pi->rx = NULL; /* handed over; the rx owns the answer */
			bufferevent_disable(pi->bev, EV_READ);
			bufferevent_setcb(pi->bev, NULL, close_after_write, NULL, pi);
		}
		return;
	}
	for (;;) {
		uint8_t hb[IPC_HDR_SIZE];
		struct ipc_hdr h;
		uint8_t *p;

		if (evbuffer_get_length(in) < IPC_HDR_SIZE)
			return;
		evbuffer_copyout(in, hb, sizeof(hb));
		if (ipc_hdr_unpack(&h, hb) != 0 || h.len > PEER_MAX_FRAME) {
			log_warn("peer %016" PRIx64 ": bad frame; closing", pi->pre.from);
			in_free(pi);
			return;
		}
		if (evbuffer_get_length(in) < IPC_HDR_SIZE + (size_t)h.len)
			return;
		evbuffer_drain(in, IPC_HDR_SIZE);
		p = evbuffer_pullup(in, h.len);
		if (on_frame(pi, &h, p) != 0)
			return;
		evbuffer_drain(in, h.len);
	}
}

static void in_event_cb(struct bufferevent *bev, short what, void *arg)
{
	if (what & (BEV_EVENT_ERROR | BEV_EVENT_EOF))
		in_free(arg);
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
	void *arg)
{
	struct raftd *d = arg;
	struct peer_in *pi = calloc(1, sizeof(*pi));

	if (pi == NULL) {
		evutil_closesocket(fd);
		return;
	}
	pi->d = d;
	pi->bev = bufferevent_socket_new(d->w->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (pi->bev == NULL) {
		evutil_closesocket(fd);
		free(pi);
		return;
	}
	set_nodelay(fd);
	bufferevent_setcb(pi->bev, in_read_cb, NULL, in_event_cb, pi);
	bufferevent_enable(pi->bev, EV_READ | EV_WRITE);
}

int raftd_peers_start(struct raftd *d)
{
	for (int i = 0; i < d->w->npeer_fds && i < RAFTD_MAX_PEER_LISTENERS; i++) {
		evutil_make_socket_nonblocking(d->w->peer_fds[i]);
		d->peer_listeners[i] = evconnlistener_new(d->w->base, accept_cb, d,
			LEV_OPT_CLOSE_ON_EXEC, -1, d->w->peer_fds[i]);
		if (d->peer_listeners[i] == NULL) {
			log_error("peer listener: %s", strerror(errno));
			return -1;
		}
	}
	raftd_peers_sync(d);
	return 0;
}

void raftd_peers_stop(struct raftd *d)
{
	for (int i = 0; i < RAFTD_MAX_PEER_LISTENERS; i++)
		if (d->peer_listeners[i]) {
			evconnlistener_free(d->peer_listeners[i]);
			d->peer_listeners[i] = NULL;
		}
	for (size_t i = 0; i < d->npeers; i++)
		peer_free(d->peers[i]);
	d->npeers = 0;
}
