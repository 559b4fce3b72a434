/* v3watch.c - etcd's Watch through the JSON gateway: POST /v3/watch with a
 * WatchRequest{create_request} answers a stream of {"result":
 * WatchResponse} lines: "created", then the history from start_revision
 * (one response, read from the MVCC store), then every later change of the
 * key range as the storage worker publishes it (IPC_EVENT_V3), one
 * response per revision, as etcd's watch stream sends them.
 *
 * A watcher remembers the next revision it wants, so history read from the
 * database and live events never overlap. A compacted start_revision ends
 * the watch with canceled and compact_revision, as etcd does.
 */
#include "config.h"
#include "apid/apid_int.h"
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

#include <stdlib.h>
#include <string.h>

enum {
	WR_CREATE = 1,
	WC_KEY = 1, WC_END = 2, WC_START = 3, WC_FILTERS = 5, WC_PREV_KV = 6, WC_WATCH_ID = 7,
	WRESP_WATCH_ID = 2, WRESP_CREATED = 3, WRESP_CANCELED = 4,
	WRESP_COMPACT_REV = 5, WRESP_EVENTS = 11,
	FILTER_NOPUT = 0, FILTER_NODELETE = 1,
};

#define V3WATCH_HISTORY_BATCH 1000

struct v3watcher {
	struct v3watcher *next, *prev;
	struct apid *a;
	struct hreq *req;
	uint8_t *key, *end;
	size_t key_len, end_len;
	int64_t watch_id;
	int64_t next_rev; /* events at or after this revision are still due */
	int prev_kv, noput, nodelete;
};

static struct v3watcher *watchers;

/* send writes one WatchResponse as a stream line. */
static void send(struct v3watcher *w, const struct buf *resp)
{
	struct buf line;
	char err[128];

	buf_init(&line);
	if (pb_json_stream_chunk(&etcdpb_watch_response, resp->data, resp->len, &line, err,
		sizeof(err)) == 0)
		hreq_reply_chunk(w->req, line.data, line.len);
	buf_close(&line);
}

static void unlink_free(struct v3watcher *w)
{
	if (w->prev)
		w->prev->next = w->next;
	else if (watchers == w)
		watchers = w->next;
	if (w->next)
		w->next->prev = w->prev;
	worker_count(w->a->w, WC_WATCHERS, -1);
	free(w->key);
	free(w->end);
	free(w);
}

static void close_cb(struct hreq *req, void *arg)
{
	struct v3watcher *w = arg;

	w->req = NULL;
	unlink_free(w);
}

static int wanted(const struct v3watcher *w, const struct mvcc_event *ev)
{
	if ((ev->type == MVCC_EV_PUT && w->noput) || (ev->type == MVCC_EV_DELETE && w->nodelete))
		return 0;
	return v3_key_in_range(ev->kv.key, ev->kv.key_len, w->key, w->key_len, w->end, w->end_len);
}

/* history sends the events of [next_rev, current] from the database in
 * one response; 0, or -1 when the watch was canceled (compacted). */
static int history(struct v3watcher *w, int64_t current)
{
	struct mvcc_events_res res;
	struct buf resp;
	char err[256];
	int rc, any = 0;

	buf_init(&resp);
	v3gw_header(w->a, &resp, current);
	pb_put_i64(&resp, WRESP_WATCH_ID, w->watch_id);
	while (w->next_rev <= current) {
		mvcc_events_res_init(&res);
		rc = mvcc_events(w->a->mvcc, w->key, w->key_len, w->end, w->end_len, w->next_rev, current,
			V3WATCH_HISTORY_BATCH, w->prev_kv, &res, err, sizeof(err));
		if (rc == MVCC_ERR_COMPACTED) {
			struct buf cancel;
			buf_init(&cancel);
			v3gw_header(w->a, &cancel, 0); /* etcd leaves the revision out here */
			pb_put_i64(&cancel, WRESP_WATCH_ID, w->watch_id);
			pb_put_bool(&cancel, WRESP_CANCELED, 1);
			pb_put_i64(&cancel, WRESP_COMPACT_REV, res.compacted);
			send(w, &cancel);
			buf_close(&cancel);
			mvcc_events_res_close(&res);
			buf_close(&resp);
			return -1;
		}
		if (rc != 0) {
			log_warn("watch history: %s", err);
			mvcc_events_res_close(&res);
			break;
		}
		for (size_t i = 0; i < res.n; i++) {
			if (!wanted(w, &res.evs[i]))
				continue;
			v3_put_event(&resp, WRESP_EVENTS, &res.evs[i], w->prev_kv);
			any = 1;
		}
		w->next_rev = res.next > w->next_rev ? res.next : current + 1;
		mvcc_events_res_close(&res);
	}
	if (any)
		send(w, &resp);
	buf_close(&resp);
	return 0;
}

void v3watch_start(struct apid *a, struct hreq *req, const uint8_t *pb, size_t len)
{
	const uint8_t *cr, *k = NULL, *e = NULL;
	size_t crl, kl = 0, el = 0;
	struct mvcc_state st;
	struct v3watcher *w;
	struct pb_reader r;
	struct pb_item it;
	struct buf resp;
	int64_t start = 0;
	char err[256];

	if (pb_get_bytes(pb, len, WR_CREATE, &cr, &crl) != 1) {
		/* cancel/progress on a one-request stream: nothing to do */
		hreq_add_header(req, "Content-Type", "application/json");
		hreq_reply_start(req, 200);
		hreq_reply_end(req);
		return;
	}
	if (!apid_db_ready(a) || mvcc_revisions(a->mvcc, &st, err, sizeof(err)) != 0) {
		http_send_text(req, 503, "etcdserver: not ready\n");
		return;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		http_send_text(req, 500, "out of memory\n");
		return;
	}
	w->a = a;
	w->req = req;
	pb_get_bytes(cr, crl, WC_KEY, &k, &kl);
	pb_get_bytes(cr, crl, WC_END, &e, &el);
	pb_get_i64(cr, crl, WC_START, &start);
	pb_get_bool(cr, crl, WC_PREV_KV, &w->prev_kv);
	pb_get_i64(cr, crl, WC_WATCH_ID, &w->watch_id);
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
	w->key = malloc(kl ? kl : 1);
	w->end = malloc(el ? el : 1);
	if (kl)
		memcpy(w->key, k, kl);
	if (el)
		memcpy(w->end, e, el);
	w->key_len = kl;
	w->end_len = el;
	w->next_rev = start > 0 ? start : st.current + 1;
	hreq_add_header(req, "Content-Type", "application/json");
	hreq_add_header(req, "Grpc-Metadata-Content-Type", "application/grpc");
	hreq_reply_start(req, 200);
	hreq_set_close_cb(req, close_cb, w);
	w->next = watchers;
	if (watchers)
		watchers->prev = w;
	watchers = w;
	worker_count(a->w, WC_WATCHERS, 1);
	buf_init(&resp);
	v3gw_header(a, &resp, st.current);
	pb_put_i64(&resp, WRESP_WATCH_ID, w->watch_id);
	pb_put_bool(&resp, WRESP_CREATED, 1);
	send(w, &resp);
	buf_close(&resp);
	if (w->next_rev <= st.current && history(w, st.current) != 0) {
		hreq_set_close_cb(req, NULL, NULL);
		hreq_reply_end(req);
		w->req = NULL;
		unlink_free(w);
	}
}

/* The storage worker's events of one revision. */
void v3watch_on_event(struct apid *a, const uint8_t *p, size_t n)
{
	int64_t rev;
	struct pb_reader r;
	struct pb_item it;

	if (n < 8 || watchers == NULL)
		return;
	rev = (int64_t)le_get64(p);
	for (struct v3watcher *w = watchers; w; w = w->next) {
		struct buf resp;
		int any = 0;

		if (w->req == NULL || rev < w->next_rev)
			continue;
		buf_init(&resp);
		v3gw_header(a, &resp, rev);
		pb_put_i64(&resp, WRESP_WATCH_ID, w->watch_id);
		pb_reader_init(&r, p + 8, n - 8);
		while (pb_next_of(&r, WRESP_EVENTS, &it) == 1) {
			struct mvcc_event ev;
			const uint8_t *kv, *key;
			size_t kvl, kl;
			int32_t type = 0;

			memset(&ev, 0, sizeof(ev));
			pb_get_i32(it.data, it.len, 1, &type);
			if (pb_get_bytes(it.data, it.len, 2, &kv, &kvl) != 1 ||
				pb_get_bytes(kv, kvl, 1, &key, &kl) != 1)
				continue;
			ev.type = type;
			ev.kv.key = key;
			ev.kv.key_len = kl;
			if (!wanted(w, &ev))
				continue;
			if (w->prev_kv) {
				pb_put_msg(&resp, WRESP_EVENTS, it.data, it.len);
			} else {
				/* without the prev_kv field (3) */
				size_t m = pb_msg_begin(&resp, WRESP_EVENTS);
				pb_put_i32(&resp, 1, type);
				pb_put_msg(&resp, 2, kv, kvl);
				pb_msg_end(&resp, m);
			}
			any = 1;
		}
		w->next_rev = rev + 1;
		if (any)
			send(w, &resp);
		buf_close(&resp);
	}
}

/* The storage worker connection dropped: events may be missed, so end
 * every watch (clients re-watch from their last revision, as after etcd
 * cancels a slow watcher). */
void v3watch_close_all(struct apid *a)
{
	(void)a;
	while (watchers) {
		struct v3watcher *w = watchers;
		if (w->req) {
			hreq_set_close_cb(w->req, NULL, NULL);
			hreq_reply_end(w->req);
		}
		unlink_free(w);
	}
}
