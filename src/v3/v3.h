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
	V3_ALARM = 11,       /* Maintenance/Alarm, every action (v3alarm.c) */
	/* LeaseCheckpointRequest: proposed by the leader's storage worker
	 * only, never by clients (etcd's internal LeaseCheckpoint) */
	V3_LEASE_CHECKPOINT = 12,
	/* v3auth.h: an Auth service call ([op][protobuf]), and a client
	 * request wrapped with its sender (user, auth revision) */
	V3_AUTH = 13,
	V3_AUTH_WRAP = 14,
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

/* ---- v3alarm.c: Maintenance/Alarm, the backend quota, NOSPACE ------------
 * Alarms are replicated state: AlarmRequests (every action) go through raft
 * and each member's storage worker applies them to the meta table (key
 * V3_ALARM_META_KEY), so they survive restarts and travel in database
 * snapshots. While a NOSPACE alarm is set anywhere, every member refuses
 * what etcd's applierV3Capped refuses (v3_alarm_capped). */

/* gRPC ResourceExhausted: etcd's ErrGRPCNoSpace (HTTP 429 at the gateway). */
#define V3_RESOURCE_EXHAUSTED 8
#define V3_ERR_NOSPACE "etcdserver: mvcc: database space exceeded"
#define V3_ALARM_META_KEY "v3_alarms"
/* etcd's DefaultQuotaBytes and MaxQuotaBytes (etcdserver/quota.go). */
#define V3_QUOTA_DEFAULT_BYTES (INT64_C(2) * 1024 * 1024 * 1024)
#define V3_QUOTA_MAX_BYTES (INT64_C(8) * 1024 * 1024 * 1024)
#define V3_ALARM_MAX 256

enum v3_alarm_type { V3_ALARM_NONE = 0, V3_ALARM_NOSPACE = 1, V3_ALARM_CORRUPT = 2 };
enum v3_alarm_action { V3_ALARM_GET = 0, V3_ALARM_ACTIVATE = 1, V3_ALARM_DEACTIVATE = 2 };

/* etcdserverpb.AlarmMember; on disk as 12 little-endian bytes each. */
struct v3_alarm {
	uint64_t member_id;
	int32_t type;
};
#define V3_ALARM_REC_SIZE 12u

/* v3_alarm_list reads the alarms set (sorted by type, then member) in txn
 * (NULL: auto-commit read); at most max, *n = how many. 0 or CE_*. */
int v3_alarm_list(DB *meta, DB_TXN *txn, struct v3_alarm *out, size_t max, size_t *n);

/* v3_alarm_apply executes an AlarmRequest in the writer's txn; out gets
 * the AlarmResponse (no header, as etcd's). 0 or CE_* (do not commit). */
int v3_alarm_apply(DB *meta, DB_TXN *txn, const uint8_t *req, size_t len, struct buf *out);

/* v3_alarm_capped: would etcd's applierV3Capped refuse this request
 * (Put, LeaseGrant, a Txn with a put in either branch)? */
int v3_alarm_capped(int method, const uint8_t *req, size_t len);

/* v3_quota_cost is etcd's backendQuota.Cost of a Put, Txn or LeaseGrant
 * (0 for anything else). */
int64_t v3_quota_cost(int method, const uint8_t *req, size_t len);

/* v3_quota_bytes turns --quota-backend-bytes into the quota in force:
 * 0 = the default 2 GiB, negative = no quota (returns 0). */
int64_t v3_quota_bytes(int64_t configured);

/* v3_alarm_request encodes an AlarmRequest (method byte not included). */
void v3_alarm_request(struct buf *b, int action, uint64_t member_id, int type);

/* v3_alarm_put_errors writes StatusResponse.errors (field) for alarms as
 * etcd formats them: "memberID:<id> alarm:NOSPACE ". */
void v3_alarm_put_errors(struct buf *b, uint32_t field, const struct v3_alarm *al, size_t n);

#endif
