/* v3watch.c - etcd's Watch through the JSON gateway. POST /v3/watch opens a
 * watch stream; its body holds one or more WatchRequests (grpc-gateway
 * reads a client stream as JSON value after value): create_request,
 * cancel_request and progress_request, handled in order. The answer is a
 * stream of {"result": WatchResponse} lines that stays open until the
 * client goes away, as etcd's gateway keeps the gRPC stream open.
 *
 * A watcher remembers the next revision it wants, so history read from the
 * database and live events (IPC_EVENT_V3, one message per revision) never
 * overlap. History is sent in responses of at most V3WATCH_HISTORY_BATCH
 * events; a compacted start revision cancels the watcher with
 * compact_revision.
 *
 * Slow clients never slow writes: when a stream's connection has more than
 * V3WATCH_MAX_PENDING bytes unsent, its watchers stop taking live events
 * and become "unsynced"; once the connection drains they catch up from the
 * database (as etcd's unsynced watcher group does), so memory per stream
 * stays bounded and nothing is lost unless it is compacted meanwhile.
 */
#include "config.h"
#include "apid/apid_int.h"
#include "config/cfg.h"
#include "http/httpd.h"
#include "ipc/worker.h"
#include "pb/etcd_schema.h"
#include "pb/pb.h"
#include "pb/pb_json.h"
#include "store/mvcc.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/log.h"
#include "v3/v3.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

enum {
	WR_CREATE = 1, WR_CANCEL = 2, WR_PROGRESS = 3,
	WC_KEY = 1, WC_END = 2, WC_START = 3, WC_PROGRESS_NOTIFY = 4, WC_FILTERS = 5,
	WC_PREV_KV = 6, WC_WATCH_ID = 7, WC_FRAGMENT = 8,
	WX_WATCH_ID = 1,
	WRESP_WATCH_ID = 2, WRESP_CREATED = 3, WRESP_CANCELED = 4,
	WRESP_COMPACT_REV = 5, WRESP_CANCEL_REASON = 6, WRESP_FRAGMENT = 7, WRESP_EVENTS = 11,
	FILTER_NOPUT = 0, FILTER_NODELETE = 1,
};

#define V3WATCH_HISTORY_BATCH 1000
/* Unsent bytes on a stream's connection beyond which its watchers stop
 * taking live events and catch up from the database later. */
#define V3WATCH_MAX_PENDING (256u * 1024u)
/* etcd fragments at --max-request-bytes plus gRPC's overhead allowance. */
#define V3WATCH_GRPC_OVERHEAD (512 * 1024)
/* etcd's watch IDs are chosen by the server unless the client gives one. */
#define V3WATCH_AUTO_ID 0

struct v3stream;

struct v3watcher {
	struct v3watcher *next;
	struct v3stream *s;
	uint8_t *key, *end;
	size_t key_len, end_len;
	int64_t watch_id;
	int64_t next_rev; /* events at or after this revision are still due */
	unsigned prev_kv : 1, noput : 1, nodelete : 1, progress_notify : 1, fragment : 1,
		unsynced : 1;
};

struct v3stream {
	struct v3stream *next, *prev;
	struct apid *a;
	struct hreq *req;
	struct v3watcher *ws;
	int64_t next_id;   /* the next automatic watch id to try */
	int unsynced;      /* some watcher waits for the connection to drain */
};

static struct v3stream *streams;
static struct event *progress_ev;

static int64_t current_rev(struct apid *a)
{
	struct mvcc_state st;
	char err[128];

	if (mvcc_revisions(a->mvcc, &st, err, sizeof(err)) != 0)
		return 0;
	return st.current;
}

/* send_pb writes one WatchResponse as a stream line. */
static void send_pb(struct v3stream *s, const void *pb, size_t len)
{
	struct buf line;
	char err[128];

	buf_init(&line);
	if (pb_json_stream_chunk(&etcdpb_watch_response, pb, len, &line, err, sizeof(err)) == 0)
		hreq_reply_chunk(s->req, line.data, line.len);
	else
		log_error("watch: cannot encode a response: %s", err);
	buf_close(&line);
}

/* send_ctl sends a response without events: header at rev, watch_id, then
 * the flags given (created, canceled), cancel_reason and compact_revision
 * when set. */
static void send_ctl(struct v3stream *s, int64_t rev, int64_t id, int created, int canceled,
	const char *reason, int64_t compact_rev)
{
	struct buf b;

	buf_init(&b);
	v3gw_header(s->a, &b, rev);
	pb_put_i64(&b, WRESP_WATCH_ID, id);
	pb_put_bool(&b, WRESP_CREATED, created);
	pb_put_bool(&b, WRESP_CANCELED, canceled);
	pb_put_i64(&b, WRESP_COMPACT_REV, compact_rev);
	if (reason)
		pb_put_str(&b, WRESP_CANCEL_REASON, reason);
	send_pb(s, b.data, b.len);
	buf_close(&b);
}

/* send_events sends a watcher's events (Event messages encoded as field
 * WRESP_EVENTS, n of them) of a response whose header says rev; with
 * fragment asked, a response over etcd's limit goes out in pieces marked
 * fragment, the last one unmarked (etcd's sendFragments). */
static void send_events(struct v3watcher *w, int64_t rev, const struct buf *evs, size_t n)
{
	size_t limit = (size_t)w->s->a->w->cfg->max_request_bytes + V3WATCH_GRPC_OVERHEAD;
	struct buf b, head;
	struct pb_reader r;
	struct pb_item it;

	buf_init(&head);
	v3gw_header(w->s->a, &head, rev);
	pb_put_i64(&head, WRESP_WATCH_ID, w->watch_id);
	if (!w->fragment || n < 2 || head.len + evs->len < limit) {
		buf_put(&head, evs->data, evs->len);
		send_pb(w->s, head.data, head.len);
		buf_close(&head);
		return;
	}
	/* etcd adds events while the response stays under the limit, and
	 * always at least one */
	buf_init(&b);
	pb_reader_init(&r, evs->data, evs->len);
	size_t cur = 0, in_cur = 0;
	while (r.off < evs->len) {
		size_t at = r.off;
		if (pb_next_of(&r, WRESP_EVENTS, &it) != 1)
			break;
		if (in_cur > 0 && head.len + 2 + (r.off - cur) >= limit) {
			buf_reset(&b);
			buf_put(&b, head.data, head.len);
			pb_put_bool(&b, WRESP_FRAGMENT, 1);
			buf_put(&b, evs->data + cur, at - cur);
			send_pb(w->s, b.data, b.len);
			cur = at;
			in_cur = 0;
		}
		in_cur++;
	}
	buf_reset(&b);
	buf_put(&b, head.data, head.len);
	buf_put(&b, evs->data + cur, evs->len - cur);
	send_pb(w->s, b.data, b.len);
	buf_close(&b);
	buf_close(&head);
}

static int congested(const struct v3stream *s)
{
	return hreq_out_pending(s->req) > V3WATCH_MAX_PENDING;
}

static int wanted(const struct v3watcher *w, int type, const uint8_t *k, size_t kl)
{
	if ((type == MVCC_EV_PUT && w->noput) || (type == MVCC_EV_DELETE && w->nodelete))
		return 0;
	return v3_key_in_range(k, kl, w->key, w->key_len, w->end, w->end_len);
}

/* set_unsynced marks w as catching up from the database (or not). */
static void set_unsynced(struct v3watcher *w, int on)
{
	if (w->unsynced == (unsigned)(on != 0))
		return;
	w->unsynced = on != 0;
	worker_count(w->s->a->w, WC_V3_SLOW_WATCHERS, on ? 1 : -1);
	if (on)
		w->s->unsynced = 1;
}

static void watcher_free(struct v3watcher *w)
{
	set_unsynced(w, 0);
	worker_count(w->s->a->w, WC_V3_WATCHERS, -1);
	free(w->key);
	free(w->end);
	free(w);
}

static void watcher_unlink(struct v3watcher *w)
{
	struct v3watcher **pp = &w->s->ws;

	while (*pp && *pp != w)
		pp = &(*pp)->next;
	if (*pp)
		*pp = w->next;
	watcher_free(w);
}

static void stream_free(struct v3stream *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else if (streams == s)
		streams = s->next;
	if (s->next)
		s->next->prev = s->prev;
	while (s->ws) {
		struct v3watcher *w = s->ws;
		s->ws = w->next;
		watcher_free(w);
	}
	free(s);
}

static void close_cb(struct hreq *req, void *arg)
{
	stream_free(arg);
	hreq_reply_end(req); /* frees the request the server kept for us */
}

/* history sends the events of [next_rev, current] from the database.
 * Returns 1 when caught up, 0 when the connection filled up first (the
 * watcher goes on later from next_rev), -1 when the watcher was canceled
 * (compacted) and freed. */
static int history(struct v3watcher *w, int64_t current)
{
	struct mvcc_events_res res;
	struct buf evs;
	char err[256];
	int rc;

	buf_init(&evs);
	while (w->next_rev <= current) {
		size_t n = 0;

		if (congested(w->s)) {
			buf_close(&evs);
			return 0;
		}
		mvcc_events_res_init(&res);
		rc = mvcc_events(w->s->a->mvcc, w->key, w->key_len, w->end, w->end_len, w->next_rev,
			current, V3WATCH_HISTORY_BATCH, w->prev_kv, &res, err, sizeof(err));
		if (rc == MVCC_ERR_COMPACTED) {
			/* etcd leaves the header's revision out here */
			send_ctl(w->s, 0, w->watch_id, 0, 1, NULL, res.compacted);
			mvcc_events_res_close(&res);
			buf_close(&evs);
			watcher_unlink(w);
			return -1;
		}
		if (rc != 0) {
			log_warn("watch history: %s", err);
			mvcc_events_res_close(&res);
			buf_close(&evs);
			return 0;
		}
		buf_reset(&evs);
		for (size_t i = 0; i < res.n; i++) {
			const struct mvcc_event *ev = &res.evs[i];
			if (!wanted(w, ev->type, ev->kv.key, ev->kv.key_len))
				continue;
			v3_put_event(&evs, WRESP_EVENTS, ev, w->prev_kv);
			n++;
		}
		w->next_rev = res.next > w->next_rev ? res.next : current + 1;
		mvcc_events_res_close(&res);
		if (n > 0)
			send_events(w, current, &evs, n);
	}
	buf_close(&evs);
	return 1;
}

/* catch_up runs the history of a stream's unsynced watchers while the
 * connection keeps up. */
static void catch_up(struct v3stream *s)
{
	int64_t current = current_rev(s->a);
	struct v3watcher *w, *next;

	s->unsynced = 0;
	for (w = s->ws; w; w = next) {
		next = w->next;
		if (!w->unsynced)
			continue;
		int rc = history(w, current);
		if (rc == 0) {
			s->unsynced = 1;
			return;
		}
		if (rc == 1)
			set_unsynced(w, 0);
	}
}

static void drain_cb(struct hreq *req, void *arg)
{
	struct v3stream *s = arg;

	(void)req;
	if (s->unsynced)
		catch_up(s);
}

static struct v3watcher *find(struct v3stream *s, int64_t id)
{
	for (struct v3watcher *w = s->ws; w; w = w->next)
		if (w->watch_id == id)
			return w;
	return NULL;
}

static void read_filters(struct v3watcher *w, const uint8_t *cr, size_t crl)
{
	struct pb_reader r;
	struct pb_item it;

	pb_reader_init(&r, cr, crl);
	while (pb_next_of(&r, WC_FILTERS, &it) == 1) {
		if (it.wire == PB_WIRE_VARINT) {
			w->noput |= it.u == FILTER_NOPUT;
			w->nodelete |= it.u == FILTER_NODELETE;
		} else {
			struct pb_reader pr;
			uint64_t v;
			pb_reader_init(&pr, it.data, it.len);
			while (pb_packed_next(&pr, &v) == 1) {
				w->noput |= v == FILTER_NOPUT;
				w->nodelete |= v == FILTER_NODELETE;
			}
		}
	}
}

static uint8_t *dup_bytes(const uint8_t *p, size_t n)
{
	uint8_t *d = malloc(n ? n : 1);

	if (d && n)
		memcpy(d, p, n);
	return d;
}

static int bytes_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
	int c = al && bl ? memcmp(a, b, al < bl ? al : bl) : 0;

	return c != 0 ? c : (al > bl) - (al < bl);
}

static void create(struct v3stream *s, const uint8_t *cr, size_t crl)
{
	const uint8_t *k = NULL, *e = NULL;
	size_t kl = 0, el = 0;
	int64_t start = 0, id = V3WATCH_AUTO_ID, current = current_rev(s->a);
	int b = 0;
	struct v3watcher *w;

	pb_get_bytes(cr, crl, WC_KEY, &k, &kl);
	pb_get_bytes(cr, crl, WC_END, &e, &el);
	pb_get_i64(cr, crl, WC_START, &start);
	pb_get_i64(cr, crl, WC_WATCH_ID, &id);
	{ /* v3authgw.c: READ on the range, checked first as etcd's recvLoop */
		const char *denied = v3authgw_watch_denied(s->a, s->req, k, kl, e, el);
		if (denied != NULL) {
			send_ctl(s, current, -1, 1, 1, denied, 0);
			return;
		}
	}
	/* range_end "\0" means every key >= key; any other end must be
	 * above the key (etcd's ErrEmptyWatcherRange) */
	if (el > 0 && !(el == 1 && e[0] == 0) && bytes_cmp(k, kl, e, el) >= 0) {
		send_ctl(s, current, -1, 1, 1, "mvcc: watcher range is empty", 0);
		return;
	}
	if (id != V3WATCH_AUTO_ID && find(s, id) != NULL) {
		send_ctl(s, current, -1, 1, 1, "mvcc: duplicate watch ID provided on the WatchStream",
			0);
		return;
	}
	if (id == V3WATCH_AUTO_ID) {
		while (find(s, s->next_id) != NULL)
			s->next_id++;
		id = s->next_id++;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL || (w->key = dup_bytes(k, kl)) == NULL ||
		(w->end = dup_bytes(e, el)) == NULL) {
		if (w)
			free(w->key);
		free(w);
		send_ctl(s, current, -1, 1, 1, "etcdserver: out of memory", 0);
		return;
	}
	w->s = s;
	w->key_len = kl;
	w->end_len = el;
	w->watch_id = id;
	pb_get_bool(cr, crl, WC_PREV_KV, &b);
	w->prev_kv = b != 0;
	b = 0;
	pb_get_bool(cr, crl, WC_PROGRESS_NOTIFY, &b);
	w->progress_notify = b != 0;
	b = 0;
	pb_get_bool(cr, crl, WC_FRAGMENT, &b);
	w->fragment = b != 0;
	read_filters(w, cr, crl);
	w->next_rev = start > 0 ? start : current + 1;
	w->next = s->ws;
	s->ws = w;
	worker_count(s->a->w, WC_V3_WATCHERS, 1);
	send_ctl(s, current, id, 1, 0, NULL, 0);
	if (w->next_rev <= current) {
		/* the history goes out now, or once the connection drains */
		set_unsynced(w, 1);
		catch_up(s);
	}
}

static void cancel(struct v3stream *s, const uint8_t *cx, size_t cxl)
{
	int64_t id = 0;
	struct v3watcher *w;

	pb_get_i64(cx, cxl, WX_WATCH_ID, &id);
	if ((w = find(s, id)) == NULL)
		return; /* etcd answers nothing for an unknown id */
	watcher_unlink(w);
	send_ctl(s, current_rev(s->a), id, 0, 1, NULL, 0);
}

/* handle runs one WatchRequest of the stream. */
static void handle(struct v3stream *s, const uint8_t *pb, size_t len)
{
	const uint8_t *p;
	size_t n;

	if (pb_get_bytes(pb, len, WR_CREATE, &p, &n) == 1)
		create(s, p, n);
	else if (pb_get_bytes(pb, len, WR_CANCEL, &p, &n) == 1)
		cancel(s, p, n);
	else if (pb_get_bytes(pb, len, WR_PROGRESS, &p, &n) == 1)
		/* not tied to a watcher: etcd broadcasts it with id -1 */
		send_ctl(s, current_rev(s->a), -1, 0, 0, NULL, 0);
}

/* progress_cb: every --experimental-watch-progress-notify-interval, each
 * synced watcher that asked for progress_notify gets an empty response at
 * the current revision. */
static void progress_cb(evutil_socket_t fd, short what, void *arg)
{
	struct apid *a = arg;
	int64_t current;

	(void)fd;
	(void)what;
	if (streams == NULL || !apid_db_ready(a))
		return;
	current = current_rev(a);
	for (struct v3stream *s = streams; s; s = s->next)
		for (struct v3watcher *w = s->ws; w; w = w->next)
			if (w->progress_notify && !w->unsynced && !congested(s))
				send_ctl(s, current, w->watch_id, 0, 0, NULL, 0);
}

static void progress_arm(struct apid *a)
{
	int64_t ns = a->w->cfg->experimental_watch_progress_notify_interval_ns;
	struct timeval tv;

	if (progress_ev != NULL || ns <= 0)
		return;
	progress_ev = event_new(a->w->base, -1, EV_PERSIST, progress_cb, a);
	if (progress_ev == NULL)
		return;
	tv.tv_sec = ns / 1000000000;
	tv.tv_usec = (ns % 1000000000) / 1000;
	event_add(progress_ev, &tv);
}

void v3watch_start(struct apid *a, struct hreq *req, const char *body, size_t blen)
{
	size_t off = 0, start, vlen;
	struct v3stream *s;
	struct buf pb;
	char err[512];
	int more;

	buf_init(&pb);
	more = pb_json_next_value(body, blen, &off, &start, &vlen);
	if (more != 0 && pb_from_json(&etcdpb_watch_request, body + start, vlen, &pb, err,
		sizeof(err)) != 0) {
		/* etcd's watch stream reports a bad first request as code 2 */
		v3gw_send_decode_error(req, 500, 2, err);
		buf_close(&pb);
		return;
	}
	if (!apid_db_ready(a)) {
		v3gw_send_error(req, 503, V3_UNAVAILABLE, "etcdserver: not ready");
		buf_close(&pb);
		return;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		v3gw_send_error(req, 500, 13, "etcdserver: out of memory");
		buf_close(&pb);
		return;
	}
	progress_arm(a);
	s->a = a;
	s->req = req;
	s->next = streams;
	if (streams)
		streams->prev = s;
	streams = s;
	hreq_add_header(req, "Content-Type", "application/json");
	hreq_add_header(req, "Grpc-Metadata-Content-Type", "application/grpc");
	hreq_reply_start(req, 200);
	hreq_set_close_cb(req, close_cb, s);
	hreq_set_drain_cb(req, drain_cb, s);
	/* the rest of the body: request after request until one does not
	 * decode, where grpc-gateway stops reading (the stream stays open) */
	while (more == 1) {
		handle(s, (const uint8_t *)pb.data, pb.len);
		buf_reset(&pb);
		more = pb_json_next_value(body, blen, &off, &start, &vlen);
		if (more != 0 && pb_from_json(&etcdpb_watch_request, body + start, vlen, &pb, err,
			sizeof(err)) != 0)
			break;
	}
	buf_close(&pb);
}

/* deliver_live gives one revision's events (the storage worker's message:
 * Event messages with prev_kv as field WRESP_EVENTS) to watcher w. */
static void deliver_live(struct v3watcher *w, int64_t rev, const uint8_t *p, size_t n,
	struct buf *evs)
{
	struct pb_reader r;
	struct pb_item it;
	size_t count = 0;

	buf_reset(evs);
	pb_reader_init(&r, p, n);
	while (pb_next_of(&r, WRESP_EVENTS, &it) == 1) {
		const uint8_t *kv, *key;
		size_t kvl, kl;
		int32_t type = 0;

		pb_get_i32(it.data, it.len, 1, &type);
		if (pb_get_bytes(it.data, it.len, 2, &kv, &kvl) != 1 ||
			pb_get_bytes(kv, kvl, 1, &key, &kl) != 1 || !wanted(w, type, key, kl))
			continue;
		if (w->prev_kv) {
			pb_put_msg(evs, WRESP_EVENTS, it.data, it.len);
		} else {
			/* without the prev_kv field (3) */
			size_t m = pb_msg_begin(evs, WRESP_EVENTS);
			pb_put_i32(evs, 1, type);
			pb_put_msg(evs, 2, kv, kvl);
			pb_msg_end(evs, m);
		}
		count++;
	}
	w->next_rev = rev + 1;
	if (count > 0)
		send_events(w, rev, evs, count);
}

/* The storage worker's events of one revision. */
void v3watch_on_event(struct apid *a, const uint8_t *p, size_t n)
{
	struct buf evs;
	int64_t rev;

	v3conc_on_event(a, p, n);
	if (n < 8 || streams == NULL)
		return;
	rev = (int64_t)le_get64(p);
	buf_init(&evs);
	for (struct v3stream *s = streams; s; s = s->next) {
		for (struct v3watcher *w = s->ws; w; w = w->next) {
			if (w->unsynced || rev < w->next_rev)
				continue;
			if (congested(s)) {
				/* caught up from the database once it drains */
				set_unsynced(w, 1);
				continue;
			}
			deliver_live(w, rev, p + 8, n - 8, &evs);
		}
	}
	buf_close(&evs);
}

/* The storage worker connection dropped: events may be missed, so end
 * every watch stream (clients re-watch from their last revision, as after
 * etcd cancels a slow watcher). */
void v3watch_close_all(struct apid *a)
{
	(void)a;
	while (streams) {
		struct v3stream *s = streams;
		struct hreq *req = s->req;
		hreq_set_close_cb(req, NULL, NULL);
		hreq_set_drain_cb(req, NULL, NULL);
		stream_free(s);
		hreq_reply_end(req);
	}
	if (progress_ev) {
		event_free(progress_ev);
		progress_ev = NULL;
	}
}
