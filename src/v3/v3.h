/* v3.h - etcd's v3 KV requests executed against the MVCC store: Range,
 * Put, DeleteRange, Txn and Compaction, in etcd's protobuf wire format
 * (src/pb) in and out, independent of how they arrived (the JSON gateway
 * now, gRPC later).
 *
 * Writes run in the storage worker inside the batch's Berkeley DB
 * transaction (v3_apply); serializable reads run anywhere the database is
 * open (v3_read). The caller adds nothing: responses come complete with
 * their ResponseHeader from the v3_ctx.
 *
 * Errors are etcd's gRPC status: *code (gRPC code, 0 = OK) and msg with
 * etcd's text, e.g. 3 "etcdserver: key is not provided". The return value
 * is 0, or a negative CE_* for failures that are not the client's (the
 * database), after which the caller must not commit.
 */
#ifndef CETCD_V3_V3_H
#define CETCD_V3_V3_H

#include <stddef.h>
#include <stdint.h>

#include <db.h>

#include "util/buf.h"

struct mvcc;
struct mvcc_kv;
struct mvcc_event;
struct lease;

/* Methods as they travel in a raft entry (first byte of the body). */
enum v3_method {
	V3_RANGE = 1,
	V3_PUT = 2,
	V3_DELETE_RANGE = 3,
	V3_TXN = 4,
	V3_COMPACT = 5,
	V3_LEASE_GRANT = 6,
	V3_LEASE_REVOKE = 7,
	V3_LEASE_KEEPALIVE = 8,
	V3_LEASE_LEASES = 9, /* a read */
	V3_LEASE_TTL = 10,   /* a read */
};

/* gRPC codes etcd's errors use. */
enum {
	V3_OK = 0,
	V3_INVALID_ARGUMENT = 3,
	V3_NOT_FOUND = 5,
	V3_FAILED_PRECONDITION = 9,
	V3_OUT_OF_RANGE = 11,
	V3_UNAVAILABLE = 14,
};

struct v3_ctx {
	struct mvcc *mvcc;
	struct lease *lease;      /* may be NULL until leases are wired */
	uint64_t cluster_id;
	uint64_t member_id;
	uint64_t raft_term;       /* the header's raft_term */
	int64_t max_txn_ops;      /* --max-txn-ops */
	int64_t now_ms;           /* the storage worker's clock (lease deadlines) */
	/* TimeToLive: seconds left of lease id as the leader's lessor knows
	 * it, or < -1 when unknown here (then the granted TTL is answered). */
	int64_t (*lease_ttl_left)(void *arg, int64_t id);
	void *lease_arg;
	int64_t events_rev;       /* out of v3_apply: the revision whose watch
	                           * events mvcc_wtxn_events holds, 0 = none */
	DB_TXN *txn;              /* private: the write transaction of v3_apply */
};

/* Protobuf pieces for the watch code: a KeyValue and an Event (with its
 * prev_kv only when asked) as submessage field. */
void v3_put_kv(struct buf *b, uint32_t field, const struct mvcc_kv *kv);
void v3_put_event(struct buf *b, uint32_t field, const struct mvcc_event *ev, int with_prev);

/* v3_key_in_range: is key k in the range a RangeRequest's key b and
 * range_end e name (e empty: b alone; e "\0": every key >= b)? */
int v3_key_in_range(const uint8_t *k, size_t kl, const uint8_t *b, size_t bl, const uint8_t *e,
	size_t el);

/* v3_http_status: the HTTP status etcd's gateway (grpc-gateway's
 * HTTPStatusFromCode) sends for a gRPC code. */
int v3_http_status(int code);

/* v3_check validates a request before it is proposed, as etcd's v3rpc
 * does (empty key, value/lease given with ignore_*, txn size, duplicate
 * keys in a txn). 0 and *code = 0 when it may go on. */
void v3_check(const struct v3_ctx *c, int method, const uint8_t *req, size_t len, int *code,
	char *msg, size_t msglen);

/* v3_apply executes a write (or a Txn) in txn; out gets the encoded
 * response. The mvcc write transaction is begun and ended here; events
 * are then available from mvcc_wtxn_events until the next call. */
int v3_apply(struct v3_ctx *c, DB_TXN *txn, int method, const uint8_t *req, size_t len,
	struct buf *out, int *code, char *msg, size_t msglen);

/* v3_read answers a Range, or a Txn without writes, from the database as
 * it is (serializable). *is_write = 1 when a Txn has writes (the caller
 * must propose it instead). */
int v3_read(struct v3_ctx *c, int method, const uint8_t *req, size_t len, struct buf *out,
	int *code, char *msg, size_t msglen, int *is_write);

#endif
