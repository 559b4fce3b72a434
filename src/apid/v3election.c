/* v3election.c - etcd's Election calls run by the server (see v3conc.c):
 * Campaign's answer and Observe, a stream of LeaderResponses: the current
 * leader, then each change of its key until the key is deleted, then the
 * next leader (or, with none, the first key put under the prefix), as
 * clientv3/concurrency's Election.Observe does. */
#include "config.h"
#include "apid/v3conc_int.h"
#include "apid/apid_int.h"
#include "http/httpd.h"
#include "pb/etcd_schema.h"
#include "pb/pb.h"
#include "pb/pb_json.h"
#include "store/mvcc.h"
#include "util/buf.h"
#include "util/err.h"
#include "v3/v3.h"

#include <stdlib.h>
#include <string.h>

void conc_campaign_done(struct conc *o)
{
	struct buf r;
	size_t m;

	buf_init(&r);
	pb_put_msg(&r, 1, o->hdr.data, o->hdr.len);
	m = pb_msg_begin(&r, 2);
	pb_put_bytes(&r, 1, o->name.data, o->name.len);
	pb_put_bytes(&r, 2, o->key.data, o->key.len);
	pb_put_i64(&r, 3, o->rev);
	pb_put_i64(&r, 4, o->lease);
	pb_msg_end(&r, m);
	conc_reply_pb(o, &r);
	buf_close(&r);
}

static void obs_send(struct conc *o, const struct buf *resp)
{
	struct buf line;
	char err[128];

	if (!o->started) {
		hreq_add_header(o->req, "Content-Type", "application/json");
		hreq_add_header(o->req, "Grpc-Metadata-Content-Type", "application/grpc");
		hreq_reply_start(o->req, 200);
		o->started = 1;
	}
	buf_init(&line);
	if (pb_json_stream_chunk(o->route->resp, resp->data, resp->len, &line, err,
		sizeof(err)) == 0)
		hreq_reply_chunk(o->req, line.data, line.len);
	buf_close(&line);
}

/* obs_send_kv sends LeaderResponse{header at rev, kv}. */
void conc_obs_send_kv(struct conc *o, int64_t rev, const struct mvcc_kv *kv, const uint8_t *raw,
	size_t raw_len)
{
	struct buf r;

	buf_init(&r);
	v3gw_header(o->a, &r, rev);
	if (kv)
		v3_put_kv(&r, 2, kv);
	else
		pb_put_msg(&r, 2, raw, raw_len);
	obs_send(o, &r);
	buf_close(&r);
}

void conc_obs_get(struct conc *o)
{
	struct buf t;

	o->wait = W_NONE;
	buf_init(&t);
	conc_put_range(&t, TXN_SUCCESS, &o->pfx, &o->pfx_end, MVCC_SORT_ASCEND, 0);
	if (conc_propose_txn(o, &t, ST_OBS_GET) != 0)
		conc_finish(o);
	buf_close(&t);
}

/* obs_watch: from revision from, the leader key's changes (W_OBS_KEY) or
 * the first put under the prefix (W_OBS_PREFIX), history first. 0, or -1
 * when o is gone. */
static int obs_watch(struct conc *o, int wait, int64_t from)
{
	struct mvcc_events_res res;
	char err[256];
	int rc;

	for (;;) {
		const struct buf *k = wait == W_OBS_KEY ? &o->wkey : &o->pfx;
		const struct buf *e = wait == W_OBS_KEY ? NULL : &o->pfx_end;
		int again = 0, deleted = 0;

		mvcc_events_res_init(&res);
		rc = apid_db_ready(o->a) ? mvcc_events(o->a->mvcc, k->data, k->len, e ? e->data : NULL,
			e ? e->len : 0, from, 0, 0, 0, &res, err, sizeof(err)) : CE_AGAIN;
		if (rc != 0) {
			mvcc_events_res_close(&res);
			conc_finish(o); /* etcd's observe ends when its watch fails */
			return -1;
		}
		for (size_t i = 0; i < res.n && !again && !deleted; i++) {
			const struct mvcc_event *ev = &res.evs[i];
			if (wait == W_OBS_KEY && ev->type == MVCC_EV_DELETE) {
				deleted = 1;
			} else if (wait == W_OBS_KEY) {
				conc_obs_send_kv(o, res.rev, &ev->kv, NULL, 0);
			} else if (ev->type == MVCC_EV_PUT) {
				conc_obs_send_kv(o, ev->kv.mod_revision, &ev->kv, NULL, 0);
				conc_buf_set(&o->wkey, ev->kv.key, ev->kv.key_len);
				from = ev->kv.mod_revision + 1;
				wait = W_OBS_KEY;
				again = 1;
			}
		}
		o->next_rev = res.next > from ? res.next : from;
		mvcc_events_res_close(&res);
		if (deleted) {
			conc_obs_get(o);
			return -1;
		}
		if (!again)
			break;
	}
	o->wait = wait;
	return 0;
}

void conc_on_obs_get(struct conc *o, const struct txn_view *v)
{
	const uint8_t *k = NULL;
	size_t kl = 0;

	if (o->closed) {
		conc_finish(o);
		return;
	}
	if (v->kv[0] == NULL) {
		obs_watch(o, W_OBS_PREFIX, v->rev);
		return;
	}
	{
		struct buf r;
		buf_init(&r);
		pb_put_msg(&r, 1, v->hdr, v->hdr_len);
		pb_put_msg(&r, 2, v->kv[0], v->kv_len[0]);
		obs_send(o, &r);
		buf_close(&r);
	}
	pb_get_bytes(v->kv[0], v->kv_len[0], KV_KEY, &k, &kl);
	conc_buf_set(&o->wkey, k, kl);
	obs_watch(o, W_OBS_KEY, v->rev + 1);
}
