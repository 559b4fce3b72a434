/* v3lock.c - etcd's Mutex.Lock run by the server (see v3conc.c): the
 * acquiring Txn Lock and Campaign share, and waitDeletes, which waits
 * until every key of the prefix created before the own one is gone: find
 * the last such key (a linearizable Txn), wait for its DELETE (the
 * database first, then the events v3conc_on_event routes), repeat. */
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

void conc_wait_deletes(struct conc *o)
{
	struct buf t;

	buf_init(&t);
	conc_put_range(&t, TXN_SUCCESS, &o->pfx, &o->pfx_end, MVCC_SORT_DESCEND, o->rev - 1);
	if (conc_propose_txn(o, &t, ST_WAITQ) != 0)
		conc_fail(o, "etcdserver: no leader");
	buf_close(&t);
}

/* acquire: Lock's and Campaign's first txn. */
void conc_acquire(struct conc *o)
{
	struct buf t;

	buf_init(&t);
	conc_put_cmp_create(&t, &o->key, 0);
	conc_put_put(&t, TXN_SUCCESS, o);
	conc_put_range(&t, TXN_FAILURE, &o->key, NULL, 0, 0);
	if (o->kind == CK_LOCK) {
		conc_put_range(&t, TXN_SUCCESS, &o->pfx, &o->pfx_end, MVCC_SORT_ASCEND, 0);
		conc_put_range(&t, TXN_FAILURE, &o->pfx, &o->pfx_end, MVCC_SORT_ASCEND, 0);
	}
	if (conc_propose_txn(o, &t, ST_ACQUIRE) != 0)
		conc_fail(o, "etcdserver: no leader");
	buf_close(&t);
}

void conc_lock_done(struct conc *o, const uint8_t *hdr, size_t hdr_len)
{
	struct buf r;

	buf_init(&r);
	pb_put_msg(&r, 1, hdr, hdr_len);
	pb_put_bytes(&r, 2, o->key.data, o->key.len);
	conc_reply_pb(o, &r);
	buf_close(&r);
}

void conc_on_acquire(struct conc *o, const struct txn_view *v)
{
	int64_t create = 0;

	o->have_key = 1;
	o->rev = v->rev;
	if (!v->succeeded)
		pb_get_i64(v->kv[0], v->kv_len[0], KV_CREATE, &o->rev);
	conc_buf_set(&o->hdr, v->hdr, v->hdr_len);
	if (o->closed) {
		conc_cleanup(o, NULL);
		return;
	}
	if (o->kind == CK_LOCK) {
		if (v->kv[1] == NULL ||
			(pb_get_i64(v->kv[1], v->kv_len[1], KV_CREATE, &create), create == o->rev)) {
			conc_lock_done(o, v->hdr, v->hdr_len);
			return;
		}
		conc_wait_deletes(o);
		return;
	}
	if (!v->succeeded) {
		const uint8_t *val = NULL;
		size_t vl = 0;
		pb_get_bytes(v->kv[0], v->kv_len[0], KV_VALUE, &val, &vl);
		if (vl != o->value.len || (vl && memcmp(val, o->value.data, vl) != 0)) {
			struct buf t;
			buf_init(&t);
			conc_put_cmp_create(&t, &o->key, o->rev);
			conc_put_put(&t, TXN_SUCCESS, o);
			if (conc_propose_txn(o, &t, ST_CAMP_PROCLAIM) != 0)
				conc_fail(o, "etcdserver: no leader");
			buf_close(&t);
			return;
		}
	}
	conc_wait_deletes(o);
}

/* watch_delete waits for the DELETE of wkey after revision rev (the
 * revision it was read at): the database says whether it is already gone,
 * later events come through v3conc_on_event. */
static void watch_delete(struct conc *o, int64_t create)
{
	struct mvcc_range_req q;
	struct mvcc_range_res res;
	char err[256];
	int rc, gone;

	memset(&q, 0, sizeof(q));
	q.key = o->wkey.data;
	q.key_len = o->wkey.len;
	mvcc_range_res_init(&res);
	rc = apid_db_ready(o->a) ? mvcc_range(o->a->mvcc, &q, &res, err, sizeof(err)) : CE_AGAIN;
	if (rc != 0) {
		mvcc_range_res_close(&res);
		conc_fail(o, "etcdserver: database read failed");
		return;
	}
	gone = res.nkvs == 0 || res.kvs[0].create_revision != create;
	o->next_rev = res.rev + 1;
	mvcc_range_res_close(&res);
	if (gone) {
		conc_wait_deletes(o);
		return;
	}
	o->wait = W_DELETE;
}

void conc_on_waitq(struct conc *o, const struct txn_view *v)
{
	const uint8_t *k = NULL;
	size_t kl = 0;
	int64_t create = 0;

	if (o->closed) {
		conc_cleanup(o, NULL);
		return;
	}
	if (v->kv[0] == NULL) {
		if (o->kind == CK_LOCK)
			conc_lock_done(o, v->hdr, v->hdr_len);
		else
			conc_campaign_done(o);
		return;
	}
	pb_get_bytes(v->kv[0], v->kv_len[0], KV_KEY, &k, &kl);
	pb_get_i64(v->kv[0], v->kv_len[0], KV_CREATE, &create);
	conc_buf_set(&o->wkey, k, kl);
	watch_delete(o, create);
}
