/* v3conc_int.h - what v3conc.c, v3lock.c and v3election.c (etcd's v3lock
 * and v3election services, see v3conc.c) share: one struct conc per call,
 * owned by v3conc.c's list from v3conc_handle until its answer; every
 * function taking a struct conc runs on the api worker's loop. */
#ifndef CETCD_APID_V3CONC_INT_H
#define CETCD_APID_V3CONC_INT_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

struct apid;
struct hreq;
struct etcd_gw_route;
struct mvcc_kv;

/* etcd's concurrency.NewSession default TTL (seconds). */
#define CONC_SESSION_TTL 60
/* gRPC Unknown: what etcd's gateway shows for these services' errors. */
#define CONC_CODE 2
#define CONC_STATUS 500

enum conc_kind { CK_LOCK = 1, CK_UNLOCK, CK_CAMPAIGN, CK_PROCLAIM, CK_RESIGN, CK_LEADER, CK_OBSERVE };

enum conc_step {
	ST_NONE = 0,
	ST_GRANT,       /* session lease being granted */
	ST_ACQUIRE,     /* Lock's / Campaign's first txn */
	ST_CAMP_PROCLAIM, /* Campaign's Proclaim of a different value */
	ST_WAITQ,       /* waitDeletes: the last lower key */
	ST_CLEANUP,     /* Unlock / Resign after a failure or a disconnect */
	ST_SIMPLE,      /* Unlock, Proclaim, Resign, Leader: one txn */
	ST_OBS_GET,     /* Observe: the current leader */
};

enum conc_wait { W_NONE = 0, W_DELETE, W_OBS_KEY, W_OBS_PREFIX };

struct conc {
	struct conc *next, *prev;
	struct apid *a;
	struct hreq *req;
	const struct etcd_gw_route *route;
	int kind, step, wait;
	int closed;        /* the client went away */
	int started;       /* Observe: stream headers sent */
	uint64_t req_id;   /* the proposal in flight, 0 = none */
	struct buf name, pfx, pfx_end, key, value, hdr, wkey;
	int64_t lease, rev; /* session lease; own (leader) create revision */
	int64_t next_rev;   /* waits: events from this revision are due */
	int have_key;       /* own key was written or found (clean it up) */
	char errmsg[256];   /* error to answer once the cleanup is done */
};

/* etcd's field numbers (rpc.proto, kv.proto) the Txns use. */
enum {
	TXN_COMPARE = 1, TXN_SUCCESS = 2, TXN_FAILURE = 3,
	OP_RANGE = 1, OP_PUT = 2, OP_DELETE = 3,
	KV_KEY = 1, KV_CREATE = 2, KV_MOD = 3, KV_VALUE = 5,
};

/* A TxnResponse as far as these calls read it. */
struct txn_view {
	const uint8_t *hdr;
	size_t hdr_len;
	int64_t rev;
	int succeeded;
	const uint8_t *kv[2]; /* first kv of the first two range responses */
	size_t kv_len[2];
};

/* ---- v3conc.c: the machinery ------------------------------------------ */

/* Protobuf pieces of the Txns: Compare create_revision(key) == rev; a
 * RequestOp range of key (with end: [key, end) sorted by create revision
 * in order, limit 1, max_create_revision when not 0); put of o's key,
 * value and lease; delete of key. */
void conc_put_cmp_create(struct buf *b, const struct buf *key, int64_t rev);
void conc_put_range(struct buf *b, uint32_t field, const struct buf *key, const struct buf *end,
	int order, int64_t max_create);
void conc_put_put(struct buf *b, uint32_t field, const struct conc *o);
void conc_put_delete(struct buf *b, uint32_t field, const struct buf *key);
void conc_txn_parse(const uint8_t *pb, size_t len, struct txn_view *v);
void conc_buf_set(struct buf *b, const void *p, size_t n);
/* Answers; each frees o. */
void conc_reply_pb(struct conc *o, const struct buf *resp);
void conc_reply_error(struct conc *o, const char *msg);
void conc_finish(struct conc *o);
/* conc_propose sends method + pb through raft; the result comes back as
 * step. 0, or -1 when nothing is in flight (o is untouched). */
int conc_propose(struct conc *o, int method, const struct buf *pb, int step);
int conc_propose_txn(struct conc *o, const struct buf *txn, int step);
/* conc_cleanup deletes the own key, then answers msg (or nothing when the
 * client is gone); conc_fail answers msg, after the cleanup if there is
 * a key to clean. Both may free o. */
void conc_cleanup(struct conc *o, const char *msg);
void conc_fail(struct conc *o, const char *msg);

/* ---- v3lock.c: Lock, and the wait for lower keys Campaign shares ------ */

void conc_acquire(struct conc *o);
void conc_on_acquire(struct conc *o, const struct txn_view *v);
void conc_wait_deletes(struct conc *o);
void conc_on_waitq(struct conc *o, const struct txn_view *v);
void conc_lock_done(struct conc *o, const uint8_t *hdr, size_t hdr_len);

/* ---- v3election.c: Campaign's answer, Observe ------------------------- */

void conc_campaign_done(struct conc *o);
void conc_obs_get(struct conc *o);
/* conc_obs_send_kv streams LeaderResponse{header at rev, kv} (kv decoded,
 * or raw KeyValue bytes). */
void conc_obs_send_kv(struct conc *o, int64_t rev, const struct mvcc_kv *kv, const uint8_t *raw,
	size_t raw_len);
void conc_on_obs_get(struct conc *o, const struct txn_view *v);

#endif
