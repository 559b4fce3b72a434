/* v3conc.c - etcd 3.4's v3lock (Lock, Unlock) and v3election (Campaign,
 * Proclaim, Leader, Observe, Resign) services through the JSON gateway.
 *
 * etcd serves them with its own client (clientv3/concurrency): a session
 * on the given lease (a fresh 60 s lease when none is given) that is
 * orphaned at once, so the lease is NOT kept alive while a call waits; a
 * Mutex / Election on name + "/" whose key is prefix + the lease id in hex.
 * This file runs the same steps server-side, each one a Txn proposed
 * through raft (so every read is linearizable) whose result comes back as a
 * pending of v3_method V3_GW_CONC:
 *
 *   Lock:     txn(create(key)==0 ? put(key,"",lease),first : get(key),first);
 *             own rev = header rev or the key's create rev; owner = the
 *             first key by create revision; unless it is ours, waitDeletes.
 *   waitDeletes: txn{range(prefix, max_create = own-1, last by create)};
 *             empty: done; else wait for that key's DELETE event, repeat.
 *   Campaign: txn(create(key)==0 ? put(key,val,lease) : get(key)), a
 *             Proclaim when the value differs, then waitDeletes.
 *   Proclaim / Resign: txn(create(key)==rev ? put / delete).
 *   Leader:   txn{range(prefix, first by create)}.
 *   Observe:  Leader, then the leader key's changes until it is deleted
 *             (or the first put under the prefix when there is none).
 *
 * Waits use the v3 events the storage worker publishes (v3conc_on_event),
 * after checking the database for what happened since the revision read,
 * so nothing in between is missed. A client that goes away while waiting
 * gets its key deleted (Lock: Unlock; Campaign: Resign), as etcd's Mutex
 * and Election do when their context ends. Every error is answered as
 * etcd's gateway shows errors of these services: gRPC code 2, HTTP 500.
 *
 * This file holds the calls' life cycle, the entry points and the event
 * routing; v3lock.c the Lock steps and waitDeletes, v3election.c
 * Campaign's answer and Observe.
 */
#include "config.h"
#include "apid/v3conc_int.h"
#include "apid/apid_int.h"
#include "http/httpd.h"
#include "ipc/proto.h"
#include "ipc/worker.h"
#include "pb/etcd_schema.h"
#include "pb/pb.h"
#include "pb/pb_json.h"
#include "store/lease.h"
#include "store/mvcc.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/log.h"
#include "v3/v3.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct conc *ops;

/* ---- protobuf pieces ---------------------------------------------------- */


void conc_put_cmp_create(struct buf *b, const struct buf *key, int64_t rev)
{
	size_t m = pb_msg_begin(b, TXN_COMPARE);

	pb_put_i32(b, 1, MVCC_CMP_EQUAL);
	pb_put_i32(b, 2, MVCC_CMP_CREATE);
	pb_put_bytes(b, 3, key->data, key->len);
	pb_put_varint_always(b, 5, (uint64_t)rev);
	pb_msg_end(b, m);
}

/* put_range: a RequestOp range of [key, end) sorted by create revision,
 * limit 1, optionally with max_create_revision. */
void conc_put_range(struct buf *b, uint32_t field, const struct buf *key, const struct buf *end,
	int order, int64_t max_create)
{
	size_t m = pb_msg_begin(b, field), r = pb_msg_begin(b, OP_RANGE);

	pb_put_bytes(b, 1, key->data, key->len);
	if (end) {
		pb_put_bytes(b, 2, end->data, end->len);
		pb_put_i64(b, 3, 1);
		pb_put_i32(b, 5, order);
		pb_put_i32(b, 6, MVCC_SORT_CREATE);
		pb_put_i64(b, 13, max_create);
	}
	pb_msg_end(b, r);
	pb_msg_end(b, m);
}

void conc_put_put(struct buf *b, uint32_t field, const struct conc *o)
{
	size_t m = pb_msg_begin(b, field), r = pb_msg_begin(b, OP_PUT);

	pb_put_bytes(b, 1, o->key.data, o->key.len);
	pb_put_bytes(b, 2, o->value.data, o->value.len);
	pb_put_i64(b, 3, o->lease);
	pb_msg_end(b, r);
	pb_msg_end(b, m);
}

void conc_put_delete(struct buf *b, uint32_t field, const struct buf *key)
{
	size_t m = pb_msg_begin(b, field), r = pb_msg_begin(b, OP_DELETE);

	pb_put_bytes(b, 1, key->data, key->len);
	pb_msg_end(b, r);
	pb_msg_end(b, m);
}

void conc_txn_parse(const uint8_t *pb, size_t len, struct txn_view *v)
{
	struct pb_reader r;
	struct pb_item it;
	int i = 0;

	memset(v, 0, sizeof(*v));
	pb_get_bytes(pb, len, 1, &v->hdr, &v->hdr_len);
	pb_get_i64(v->hdr, v->hdr_len, 3, &v->rev);
	pb_get_bool(pb, len, 2, &v->succeeded);
	pb_reader_init(&r, pb, len);
	while (i < 2 && pb_next_of(&r, 3, &it) == 1) {
		const uint8_t *rr;
		size_t rl;
		if (pb_get_bytes(it.data, it.len, OP_RANGE, &rr, &rl) == 1)
			pb_get_bytes(rr, rl, 2, &v->kv[i], &v->kv_len[i]); /* first kvs */
		i++;
	}
}

void conc_buf_set(struct buf *b, const void *p, size_t n)
{
	buf_reset(b);
	buf_put(b, p, n);
}

/* ---- life cycle ------------------------------------------------------- */

static void conc_free(struct conc *o)
{
	if (o->prev)
		o->prev->next = o->next;
	else if (ops == o)
		ops = o->next;
	if (o->next)
		o->next->prev = o->prev;
	buf_close(&o->name);
	buf_close(&o->pfx);
	buf_close(&o->pfx_end);
	buf_close(&o->key);
	buf_close(&o->value);
	buf_close(&o->hdr);
	buf_close(&o->wkey);
	free(o);
}

/* reply_pb answers the call (unary) with a response message and ends it. */
void conc_reply_pb(struct conc *o, const struct buf *resp)
{
	hreq_set_close_cb(o->req, NULL, NULL);
	v3gw_send_pb(o->req, o->route, resp->data, resp->len);
	conc_free(o);
}

void conc_reply_error(struct conc *o, const char *msg)
{
	hreq_set_close_cb(o->req, NULL, NULL);
	if (o->started)
		hreq_reply_end(o->req);
	else
		v3gw_send_error(o->req, CONC_STATUS, CONC_CODE, msg);
	conc_free(o);
}

/* finish ends a call whose client is gone (or an Observe stream). */
void conc_finish(struct conc *o)
{
	hreq_set_close_cb(o->req, NULL, NULL);
	if (o->started)
		hreq_reply_end(o->req);
	else
		hreq_reply(o->req, 200, "", 0);
	conc_free(o);
}

/* propose sends method + pb through raft; the result comes back to
 * v3conc_on_result under step. 0, or -1 (nothing in flight). */
int conc_propose(struct conc *o, int method, const struct buf *pb, int step)
{
	uint8_t m = (uint8_t)method;
	struct pending *p;
	uint64_t id;
	struct buf body;
	int rc = -1;

	buf_init(&body);
	buf_put(&body, &m, 1);
	buf_put(&body, pb->data, pb->len);
	if (!body.oom && !pb->oom && apid_propose(o->a, PROTO_V3, body.data, body.len, &id) == 0 &&
		(p = pending_add(o->a, id, PENDING_V3, o->req)) != NULL) {
		p->route = o->route;
		p->v3_method = V3_GW_CONC;
		o->req_id = id;
		o->step = step;
		rc = 0;
	}
	buf_close(&body);
	return rc;
}

int conc_propose_txn(struct conc *o, const struct buf *txn, int step)
{
	return conc_propose(o, V3_TXN, txn, step);
}

/* cleanup deletes the own key (Lock: Unlock; Campaign: Resign, only if
 * it is still ours), then answers errmsg, or nothing when closed. */
void conc_cleanup(struct conc *o, const char *msg)
{
	struct buf t;
	int rc;

	o->wait = W_NONE;
	if (msg)
		snprintf(o->errmsg, sizeof(o->errmsg), "%s", msg);
	if (!o->have_key) {
		rc = -1;
	} else {
		buf_init(&t);
		if (o->kind == CK_CAMPAIGN)
			conc_put_cmp_create(&t, &o->key, o->rev);
		conc_put_delete(&t, TXN_SUCCESS, &o->key);
		rc = conc_propose_txn(o, &t, ST_CLEANUP);
		buf_close(&t);
	}
	if (rc == 0)
		return;
	if (o->closed)
		conc_finish(o);
	else
		conc_reply_error(o, o->errmsg[0] ? o->errmsg : "etcdserver: no leader");
}

/* fail answers msg now (nothing of ours to undo) or after the cleanup. */
void conc_fail(struct conc *o, const char *msg)
{
	if (o->have_key && (o->kind == CK_LOCK || o->kind == CK_CAMPAIGN)) {
		conc_cleanup(o, msg);
		return;
	}
	if (o->closed)
		conc_finish(o);
	else
		conc_reply_error(o, msg);
}

static void close_cb(struct hreq *req, void *arg)
{
	struct conc *o = arg;

	(void)req;
	o->closed = 1;
	if (o->req_id != 0)
		return; /* the result in flight sees closed */
	if (o->kind == CK_OBSERVE || !o->have_key)
		conc_finish(o);
	else
		conc_cleanup(o, NULL);
}

/* ---- one-txn calls ---------------------------------------------------- */

static void on_simple(struct conc *o, const struct txn_view *v, const uint8_t *pb, size_t len)
{
	struct buf r;

	if (o->closed) {
		conc_finish(o);
		return;
	}
	buf_init(&r);
	if (o->kind == CK_UNLOCK) {
		const uint8_t *h = NULL;
		size_t hl = 0;
		pb_get_bytes(pb, len, 1, &h, &hl); /* DeleteRangeResponse.header */
		pb_put_msg(&r, 1, h, hl);
	} else if (o->kind == CK_PROCLAIM && !v->succeeded) {
		buf_close(&r);
		conc_reply_error(o, "election: not leader");
		return;
	} else if (o->kind == CK_LEADER) {
		if (v->kv[0] == NULL) {
			buf_close(&r);
			conc_reply_error(o, "election: no leader");
			return;
		}
		pb_put_msg(&r, 1, v->hdr, v->hdr_len);
		pb_put_msg(&r, 2, v->kv[0], v->kv_len[0]);
	} else {
		pb_put_msg(&r, 1, v->hdr, v->hdr_len);
	}
	conc_reply_pb(o, &r);
	buf_close(&r);
}

/* start runs the call's first step once the session lease is known. */
static void start(struct conc *o)
{
	struct buf t;
	int rc = 0;

	buf_init(&t);
	switch (o->kind) {
	case CK_LOCK:
	case CK_CAMPAIGN:
		buf_close(&t);
		conc_acquire(o);
		return;
	case CK_UNLOCK:
		pb_put_bytes(&t, 1, o->key.data, o->key.len);
		rc = conc_propose(o, V3_DELETE_RANGE, &t, ST_SIMPLE);
		break;
	case CK_PROCLAIM:
		conc_put_cmp_create(&t, &o->key, o->rev);
		conc_put_put(&t, TXN_SUCCESS, o);
		rc = conc_propose_txn(o, &t, ST_SIMPLE);
		break;
	case CK_RESIGN:
		conc_put_cmp_create(&t, &o->key, o->rev);
		conc_put_delete(&t, TXN_SUCCESS, &o->key);
		rc = conc_propose_txn(o, &t, ST_SIMPLE);
		break;
	case CK_LEADER:
		conc_put_range(&t, TXN_SUCCESS, &o->pfx, &o->pfx_end, MVCC_SORT_ASCEND, 0);
		rc = conc_propose_txn(o, &t, ST_SIMPLE);
		break;
	case CK_OBSERVE:
		buf_close(&t);
		conc_obs_get(o);
		return;
	}
	buf_close(&t);
	if (rc != 0)
		conc_fail(o, "etcdserver: no leader");
}

/* lease_known: the session lease is there; Lock's and Campaign's key
 * is the prefix + the lease id in lowercase hex (etcd's "%s%x"). */
static void lease_known(struct conc *o)
{
	char hex[24];

	if (o->closed) {
		conc_finish(o);
		return;
	}
	if (o->kind == CK_LOCK || o->kind == CK_CAMPAIGN) {
		snprintf(hex, sizeof(hex), "%" PRIx64, (uint64_t)o->lease);
		conc_buf_set(&o->key, o->pfx.data, o->pfx.len);
		buf_put(&o->key, hex, strlen(hex));
	}
	start(o);
}

/* grant asks for etcd's session lease (TTL 60 s) when none was given. */
static void grant(struct conc *o)
{
	struct buf t;

	o->lease = lease_idgen_next((struct lease_idgen *)o->a->w->shm->hdr->lease_idgen);
	buf_init(&t);
	pb_put_i64(&t, 1, CONC_SESSION_TTL);
	pb_put_i64(&t, 2, o->lease);
	if (conc_propose(o, V3_LEASE_GRANT, &t, ST_GRANT) != 0)
		conc_fail(o, "etcdserver: no leader");
	buf_close(&t);
}

/* ---- the gateway entry points ----------------------------------------- */

/* parse fills o from the request; NULL, or the error to answer. */
static const char *parse(struct conc *o, const char *m, const uint8_t *pb, size_t len)
{
	const uint8_t *p = NULL, *lk = NULL;
	size_t n = 0, lkl = 0;

	if (strcmp(m, "Lock") == 0 || strcmp(m, "Campaign") == 0) {
		o->kind = m[0] == 'L' ? CK_LOCK : CK_CAMPAIGN;
		pb_get_bytes(pb, len, 1, &p, &n);
		conc_buf_set(&o->name, p, n);
		pb_get_i64(pb, len, 2, &o->lease);
		pb_get_bytes(pb, len, 3, &p, &n);
		if (o->kind == CK_CAMPAIGN)
			conc_buf_set(&o->value, p, n);
	} else if (strcmp(m, "Unlock") == 0) {
		o->kind = CK_UNLOCK;
		pb_get_bytes(pb, len, 1, &p, &n);
		conc_buf_set(&o->key, p, n);
		return n == 0 ? "etcdserver: key is not provided" : NULL;
	} else if (strcmp(m, "Leader") == 0 || strcmp(m, "Observe") == 0) {
		o->kind = m[0] == 'L' ? CK_LEADER : CK_OBSERVE;
		pb_get_bytes(pb, len, 1, &p, &n);
		conc_buf_set(&o->name, p, n);
		o->lease = -1;
	} else if (strcmp(m, "Proclaim") == 0 || strcmp(m, "Resign") == 0) {
		o->kind = m[0] == 'P' ? CK_PROCLAIM : CK_RESIGN;
		if (pb_get_bytes(pb, len, 1, &lk, &lkl) != 1)
			return "\"leader\" field must be provided";
		pb_get_bytes(lk, lkl, 1, &p, &n);
		conc_buf_set(&o->name, p, n);
		pb_get_bytes(lk, lkl, 2, &p, &n);
		conc_buf_set(&o->key, p, n);
		pb_get_i64(lk, lkl, 3, &o->rev);
		pb_get_i64(lk, lkl, 4, &o->lease);
		pb_get_bytes(pb, len, 2, &p, &n);
		if (o->kind == CK_PROCLAIM)
			conc_buf_set(&o->value, p, n);
		if (o->key.len == 0) /* the Txn's put / delete of "" (etcd's v3rpc check) */
			return "etcdserver: key is not provided";
	} else {
		return NULL;
	}
	conc_buf_set(&o->pfx, o->name.data, o->name.len);
	buf_put(&o->pfx, "/", 1);
	conc_buf_set(&o->pfx_end, o->name.data, o->name.len);
	buf_put(&o->pfx_end, "0", 1); /* '/' + 1 */
	return NULL;
}

void v3conc_handle(struct apid *a, struct hreq *req, const struct etcd_gw_route *r,
	const uint8_t *pb, size_t len)
{
	const char *m = strrchr(r->grpc_method, '/') + 1;
	struct conc *o = calloc(1, sizeof(*o));
	const char *err;

	if (o == NULL) {
		v3gw_send_error(req, CONC_STATUS, CONC_CODE, "out of memory");
		return;
	}
	o->a = a;
	o->req = req;
	o->route = r;
	buf_init(&o->name);
	buf_init(&o->pfx);
	buf_init(&o->pfx_end);
	buf_init(&o->key);
	buf_init(&o->value);
	buf_init(&o->hdr);
	buf_init(&o->wkey);
	o->next = ops;
	if (ops)
		ops->prev = o;
	ops = o;
	if ((err = parse(o, m, pb, len)) != NULL || o->kind == 0) {
		conc_reply_error(o, err ? err : "unknown method");
		return;
	}
	hreq_set_close_cb(req, close_cb, o);
	if (o->lease == 0 && o->kind != CK_UNLOCK)
		grant(o);
	else
		lease_known(o);
}

static struct conc *find(uint64_t req_id)
{
	for (struct conc *o = ops; o; o = o->next)
		if (o->req_id == req_id)
			return o;
	return NULL;
}

/* step_failed: the step's proposal failed (etcd error, timeout, no
 * leader). */
static void step_failed(struct conc *o, const char *msg)
{
	switch (o->step) {
	case ST_CLEANUP:
		if (o->closed)
			conc_finish(o);
		else
			conc_reply_error(o, o->errmsg[0] ? o->errmsg : msg);
		break;
	case ST_OBS_GET:
		conc_finish(o);
		break;
	case ST_WAITQ:
		/* etcd's Campaign resigns only when its context ended */
		if (o->kind == CK_CAMPAIGN && !o->closed)
			conc_reply_error(o, msg);
		else
			conc_fail(o, msg);
		break;
	default:
		conc_fail(o, msg);
	}
}

void v3conc_on_result(struct apid *a, struct pending *p, const struct proto_result *r)
{
	struct conc *o = find(p->req_id);
	const uint8_t *pb = r->body;
	struct txn_view v;
	char msg[256];

	(void)a;
	if (o == NULL)
		return;
	o->req_id = 0;
	if (r->error_code != 0) {
		snprintf(msg, sizeof(msg), "%.*s", (int)r->len, (const char *)r->body);
		step_failed(o, msg);
		return;
	}
	conc_txn_parse(pb, r->len, &v);
	switch (o->step) {
	case ST_GRANT:
		lease_known(o);
		break;
	case ST_ACQUIRE:
		conc_on_acquire(o, &v);
		break;
	case ST_CAMP_PROCLAIM:
		if (!v.succeeded)
			conc_fail(o, "election: not leader");
		else if (o->closed)
			conc_cleanup(o, NULL);
		else
			conc_wait_deletes(o);
		break;
	case ST_WAITQ:
		conc_on_waitq(o, &v);
		break;
	case ST_CLEANUP:
		step_failed(o, "");
		break;
	case ST_SIMPLE:
		on_simple(o, &v, pb, r->len);
		break;
	case ST_OBS_GET:
		conc_on_obs_get(o, &v);
		break;
	}
}

void v3conc_on_error(struct apid *a, struct pending *p, const char *msg)
{
	struct conc *o = find(p->req_id);

	(void)a;
	if (o == NULL)
		return;
	o->req_id = 0;
	step_failed(o, msg);
}

/* event_key: the type and key of one mvccpb.Event, and its kv. */
static int event_key(const struct pb_item *it, int32_t *type, const uint8_t **key, size_t *kl,
	const uint8_t **kv, size_t *kvl)
{
	*type = 0;
	pb_get_i32(it->data, it->len, 1, type);
	return pb_get_bytes(it->data, it->len, 2, kv, kvl) == 1 &&
		pb_get_bytes(*kv, *kvl, KV_KEY, key, kl) == 1;
}

static int same(const struct buf *b, const uint8_t *k, size_t kl)
{
	return b->len == kl && (kl == 0 || memcmp(b->data, k, kl) == 0);
}

/* on_event_one: one waiting call and the events of revision rev. */
static void on_event_one(struct conc *o, int64_t rev, const uint8_t *evs, size_t n)
{
	struct pb_reader r;
	struct pb_item it;

	pb_reader_init(&r, evs, n);
	o->next_rev = rev + 1;
	while (o->wait != W_NONE && pb_next_of(&r, 11, &it) == 1) {
		const uint8_t *k, *kv;
		size_t kl, kvl;
		int32_t type;

		if (!event_key(&it, &type, &k, &kl, &kv, &kvl))
			continue;
		if (o->wait == W_DELETE || o->wait == W_OBS_KEY) {
			if (!same(&o->wkey, k, kl))
				continue;
			if (type == MVCC_EV_DELETE) {
				o->wait = W_NONE;
				if (o->kind == CK_OBSERVE)
					conc_obs_get(o);
				else
					conc_wait_deletes(o);
				return;
			}
			if (o->wait == W_OBS_KEY)
				conc_obs_send_kv(o, rev, NULL, kv, kvl);
		} else if (type == MVCC_EV_PUT &&
			v3_key_in_range(k, kl, o->pfx.data, o->pfx.len, o->pfx_end.data, o->pfx_end.len)) {
			conc_obs_send_kv(o, rev, NULL, kv, kvl);
			conc_buf_set(&o->wkey, k, kl);
			o->wait = W_OBS_KEY;
		}
	}
}

void v3conc_on_event(struct apid *a, const uint8_t *p, size_t n)
{
	struct conc *o, *next;
	int64_t rev;

	(void)a;
	if (n < 8 || ops == NULL)
		return;
	rev = (int64_t)le_get64(p);
	for (o = ops; o; o = next) {
		next = o->next;
		if (o->wait != W_NONE && o->req_id == 0 && rev >= o->next_rev)
			on_event_one(o, rev, p + 8, n - 8);
	}
}

void v3conc_resync(struct apid *a)
{
	struct conc *o, *next;

	(void)a;
	for (o = ops; o; o = next) {
		next = o->next;
		if (o->wait == W_DELETE) {
			o->wait = W_NONE;
			conc_wait_deletes(o);
		} else if (o->wait != W_NONE) {
			conc_finish(o);
		}
	}
}

void v3conc_close_all(struct apid *a)
{
	(void)a;
	while (ops) {
		struct conc *o = ops;
		if (o->req_id == 0)
			hreq_set_close_cb(o->req, NULL, NULL);
		conc_free(o);
	}
}
