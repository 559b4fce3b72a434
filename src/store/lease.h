/* lease.h - etcd 3.4's v3 leases (its lease package, lessor.go, and the
 * LeaseGrant / LeaseRevoke / LeaseCheckpoint applies of etcdserver) on
 * Berkeley DB, without protobuf: the caller decodes requests and encodes
 * responses.
 *
 * Two kinds of state, kept apart on purpose:
 *   replicated (every member applies the same raft entries, in the caller's
 *   DB_TXN): which leases exist, their granted TTL, the checkpointed
 *   remaining TTL and the keys attached to each. On disk (lease.db,
 *   lease_keys.db; see README), so api workers read it directly.
 *   local (the storage worker's memory only, never replicated): each lease's
 *   deadline on THIS member's monotonic clock. Only the leader ("primary")
 *   has deadlines; it decides expiry and proposes revokes through raft.
 *   Followers hold every lease "forever" until they become leader and call
 *   lease_promote, which sets each deadline to now + extend + the lease's
 *   remaining TTL (the checkpointed one if any, else the granted TTL).
 *
 * Who calls what:
 *   storage worker (the only writer), inside the batch's DB_TXN:
 *     lease_grant, lease_revoke, lease_attach, lease_detach, lease_move,
 *     lease_checkpoint. They also update the in-memory table, so a failed
 *     DB_TXN must be followed by lease_reload (or a crash and reopen).
 *   storage worker, in memory (no DB access): lease_exists, lease_promote,
 *     lease_demote, lease_renew, lease_expired, lease_checkpoints_due,
 *     lease_time_to_live, lease_next_wakeup, lease_expiry_dump.
 *   readers (any process, own read-committed transaction, deadlock retries
 *     inside): lease_get, lease_list.
 * A struct lease is not thread-safe: one per thread.
 *
 * Times: now_ms is the caller's monotonic clock in milliseconds (any
 * epoch, must not go backwards); TTLs are seconds, as in etcd's API.
 *
 * Return values: 0; a positive enum lease_err for etcd's own errors (err
 * then holds exactly lease_err_str(code)); or a negative CE_* code for
 * failures (the writer must abort its DB_TXN; CE_AGAIN = deadlock).
 */
#ifndef CETCD_STORE_LEASE_H
#define CETCD_STORE_LEASE_H

#include <stddef.h>
#include <stdint.h>
#include <db.h>

#include "util/buf.h"

#define LEASE_FILE "lease.db"
#define LEASE_KEYS_FILE "lease_keys.db"

/* etcd's MaxLeaseTTL (seconds). */
#define LEASE_MAX_TTL 9000000000LL
/* etcd's defaultLeaseCheckpointInterval. */
#define LEASE_DEFAULT_CHECKPOINT_MS (5 * 60 * 1000)
/* etcd's defaultExpiredleaseRetryInterval (the lessor's own default;
 * etcdserver passes its request timeout instead, see lease_cfg_init). */
#define LEASE_DEFAULT_RETRY_MS 3000
/* etcd's leaseRevokeRate: revokes per second. The lessor looks for at most
 * half of it every 500 ms; lease_promote spreads expiries so that no more
 * than 3/4 of it fall in one second once this many leases exist. */
#define LEASE_REVOKE_RATE 1000
/* etcd's maxLeaseCheckpointBatchSize: checkpoints per raft entry. */
#define LEASE_CHECKPOINT_BATCH 1000
/* How often a reader retries after losing a deadlock to the writer. */
#define LEASE_READ_RETRIES 64
/* A deadline of a lease that does not expire on this member (follower). */
#define LEASE_FOREVER INT64_MAX

/* etcd's errors, with its v3rpc texts. Values do not overlap enum mvcc_err
 * so one apply may carry either. */
enum lease_err {
	LEASE_ERR_NOT_FOUND = 20,   /* "etcdserver: requested lease not found" */
	LEASE_ERR_EXISTS = 21,      /* "etcdserver: lease already exists" */
	LEASE_ERR_TTL_TOO_BIG = 22, /* "etcdserver: too large lease TTL" */
	/* lease_renew on a follower: forward the keepalive to the leader
	 * (etcd's lease.ErrNotPrimary, "not a primary lessor"). */
	LEASE_ERR_NOT_PRIMARY = 23,
	/* lease_renew of a lease whose deadline has passed: its revoke is on its
	 * way. etcd waits for the revoke and then answers "not found" (a
	 * keepalive gets TTL 0), or ErrNotPrimary if leadership was lost. */
	LEASE_ERR_EXPIRED = 24
};
const char *lease_err_str(int code);

/* Configuration of the writer's lessor. */
struct lease_cfg {
	/* Shorter TTLs are raised to this (etcd: ceil(((3 * election ticks) / 2)
	 * * heartbeat) in seconds; lease_min_ttl computes it). */
	int64_t min_ttl;
	/* etcd --experimental-enable-lease-checkpoint: when 0, no checkpoint is
	 * ever due and lease_renew never asks to clear one. */
	int checkpointing;
	/* Time between checkpoints of one lease (0 = LEASE_DEFAULT_CHECKPOINT_MS). */
	int64_t checkpoint_ms;
	/* An expired lease reported by lease_expired is reported again after
	 * this long if its revoke has not been applied (0 = LEASE_DEFAULT_RETRY_MS). */
	int64_t retry_ms;
};

/* lease_min_ttl gives etcd's minimum TTL for --heartbeat-interval and
 * --election-timeout (ms): 100/1000 gives 2 s. */
int64_t lease_min_ttl(int64_t heartbeat_ms, int64_t election_ms);
/* lease_cfg_init fills cfg as etcdserver configures its lessor: min_ttl
 * from the timeouts, retry = etcd's request timeout (5 s + 2 * election),
 * default checkpoint interval, checkpointing off (etcd 3.4's default). */
void lease_cfg_init(struct lease_cfg *cfg, int64_t heartbeat_ms, int64_t election_ms);

struct lease;

/* lease_open opens the lease databases. writer = 1 (storage worker):
 * creates them and loads every lease into memory, all "forever" (not
 * primary); cfg is required. writer = 0: cfg may be NULL; CE_AGAIN until the
 * writer has created the databases. */
int lease_open(struct lease **out, DB_ENV *env, int writer, const struct lease_cfg *cfg,
               char *err, size_t errlen);
void lease_free(struct lease *l);
/* lease_reload rebuilds the writer's in-memory table from the database
 * (after an aborted DB_TXN, or a restored snapshot). The lessor is demoted;
 * call lease_promote again if this member leads. */
int lease_reload(struct lease *l, char *err, size_t errlen);

/* A list of keys, in byte order (caller-owned; init before use). */
struct lease_keys {
	size_t n;
	struct buf data; /* private: n records of u32 LE length + bytes */
	size_t *off;     /* private */
	size_t cap;      /* private */
};
void lease_keys_init(struct lease_keys *k);
void lease_keys_close(struct lease_keys *k);
/* lease_keys_at gives key i (i < k->n); valid until the list changes. */
const uint8_t *lease_keys_at(const struct lease_keys *k, size_t i, size_t *len);

/* ---- writer: replicated state, in the caller's DB_TXN ---- */

/* lease_grant applies a LeaseGrant: id 0 is LEASE_ERR_NOT_FOUND (the id is
 * chosen before proposing, see lease_idgen), ttl > LEASE_MAX_TTL is
 * LEASE_ERR_TTL_TOO_BIG, an existing id LEASE_ERR_EXISTS; a ttl below
 * min_ttl is raised to it. *granted (may be NULL) gets the TTL to answer.
 * On the leader the new lease's deadline is now_ms + TTL. */
int lease_grant(struct lease *l, DB_TXN *txn, int64_t id, int64_t ttl, int64_t now_ms,
                int64_t *granted, char *err, size_t errlen);
/* lease_revoke applies a LeaseRevoke: LEASE_ERR_NOT_FOUND, or the lease and
 * its attachments are gone and keys (reset first; may be NULL) lists the
 * keys that were attached, in byte order (etcd sorts them so that every
 * member deletes in the same order). The caller deletes those keys in the
 * same mvcc write transaction (one revision). */
int lease_revoke(struct lease *l, DB_TXN *txn, int64_t id, struct lease_keys *keys, char *err,
                 size_t errlen);
/* lease_attach records key under lease id: LEASE_ERR_NOT_FOUND if there is
 * no such lease (etcd checks before the put: lease_exists). */
int lease_attach(struct lease *l, DB_TXN *txn, int64_t id, const void *key, size_t klen,
                 char *err, size_t errlen);
/* lease_detach forgets key under lease id (delete of a leased key, or a put
 * that moves it). A missing lease or attachment is not an error (etcd only
 * logs it); id 0 does nothing. */
int lease_detach(struct lease *l, DB_TXN *txn, int64_t id, const void *key, size_t klen,
                 char *err, size_t errlen);
/* lease_move is a put's bookkeeping: the key had lease old_id (0 = none,
 * from the previous kv) and now has new_id (0 = none): detach, then
 * attach (LEASE_ERR_NOT_FOUND if new_id does not exist). */
int lease_move(struct lease *l, DB_TXN *txn, int64_t old_id, int64_t new_id, const void *key,
               size_t klen, char *err, size_t errlen);
/* lease_checkpoint applies one LeaseCheckpoint: the lease's remaining TTL
 * becomes remaining (0 = unset: the granted TTL counts). An unknown id is
 * ignored as in etcd. The deadline does not move; on the leader the next
 * checkpoint is scheduled. */
int lease_checkpoint(struct lease *l, DB_TXN *txn, int64_t id, int64_t remaining, int64_t now_ms,
                     char *err, size_t errlen);

/* ---- writer: in memory ---- */

/* lease_exists: 1 if lease id exists (a put with a lease checks it first;
 * etcd answers LEASE_ERR_NOT_FOUND otherwise). */
int lease_exists(const struct lease *l, int64_t id);
/* lease_count: the number of leases. */
size_t lease_count(const struct lease *l);

/* lease_promote makes this member the primary lessor (call when applying the
 * first entry of its own term as leader, with extend_ms = the election
 * timeout, as etcd): every deadline = now_ms + extend_ms + remaining TTL
 * (checkpointed if set, else granted), spread so that at most 3/4 of
 * LEASE_REVOKE_RATE leases expire per second; checkpoints rescheduled. */
void lease_promote(struct lease *l, int64_t now_ms, int64_t extend_ms);
/* lease_demote (leadership lost): every deadline forever, nothing due. */
void lease_demote(struct lease *l);
int lease_is_primary(const struct lease *l);

/* lease_renew is a keepalive on the leader: deadline = now_ms + granted TTL;
 * *ttl gets the granted TTL to answer. *clear (may be NULL) is set to 1 when
 * checkpointing is on and the lease has a checkpointed remaining TTL: the
 * caller then proposes LeaseCheckpoint(id, 0) so that a later leader does
 * not use the stale value (etcd proposes it and waits for it before
 * refreshing). Errors: LEASE_ERR_NOT_PRIMARY, LEASE_ERR_NOT_FOUND,
 * LEASE_ERR_EXPIRED (no err text; see lease_err_str). */
int lease_renew(struct lease *l, int64_t id, int64_t now_ms, int64_t *ttl, int *clear);

/* lease_expired gives up to max ids (leader only; 0 otherwise) whose deadline
 * is <= now_ms, earliest first (ties by id). The caller proposes a
 * LeaseRevoke for each. A reported lease is reported again retry_ms later if
 * it still exists (the revoke was lost, e.g. in a leader change). */
size_t lease_expired(struct lease *l, int64_t now_ms, int64_t *ids, size_t max);

/* etcdserverpb.LeaseCheckpoint. */
struct lease_ckpt {
	int64_t id;
	int64_t remaining_ttl;
};
/* lease_checkpoints_due gives up to max checkpoints (leader with
 * checkpointing only) of leases whose checkpoint time has come, still alive
 * and with less left than their granted TTL: remaining = ceil(seconds
 * left). The caller proposes them as one LeaseCheckpointRequest (at most
 * LEASE_CHECKPOINT_BATCH). A lease is scheduled (now + checkpoint_ms) on
 * grant and promotion and after each applied checkpoint, when its remaining
 * TTL (checkpointed or granted) exceeds the interval in whole seconds. */
size_t lease_checkpoints_due(struct lease *l, int64_t now_ms, struct lease_ckpt *out, size_t max);

/* lease_next_wakeup: the earliest time lease_expired or
 * lease_checkpoints_due may have something (LEASE_FOREVER = none). */
int64_t lease_next_wakeup(const struct lease *l);

/* The leader's answer to LeaseTimeToLive (keys come from lease_get). */
struct lease_status {
	int64_t id;
	int64_t granted_ttl;   /* GrantedTTL */
	int64_t ttl;           /* TTL: seconds left, truncated (negative once expired) */
	int64_t remaining_ttl; /* checkpointed remaining TTL (0 = unset) */
	int64_t deadline_ms;   /* LEASE_FOREVER on a follower */
};
/* lease_time_to_live: LEASE_ERR_NOT_FOUND or 0 (no err text). etcd serves
 * TimeToLive only on the leader (followers forward it), where ttl =
 * int64(Remaining().Seconds()); a follower has no deadlines and would
 * answer 9223372036 (Go's MaxInt64 duration), as etcd's lessor does. The
 * v3rpc layer answers TTL -1 (not an error) for a missing lease. */
int lease_time_to_live(const struct lease *l, int64_t id, int64_t now_ms, struct lease_status *st);

/* Deadlines for other processes: the storage worker may copy a table of
 * these into shared memory (sorted by id) for api workers to answer
 * TimeToLive on the leader without a round trip. */
struct lease_expiry {
	int64_t id;
	int64_t deadline_ms; /* the storage worker's clock; LEASE_FOREVER = none */
};
_Static_assert(sizeof(struct lease_expiry) == 16, "lease_expiry crosses processes");
/* lease_expiry_dump writes up to max entries sorted by id and returns the
 * number of leases (may exceed max: the caller's table is too small). */
size_t lease_expiry_dump(const struct lease *l, struct lease_expiry *out, size_t max);
/* lease_expiry_gen changes whenever any deadline or the set of leases does,
 * so a copy can be refreshed only when needed. */
uint64_t lease_expiry_gen(const struct lease *l);
/* lease_expiry_find: binary search of a dumped table (NULL if absent). */
const struct lease_expiry *lease_expiry_find(const struct lease_expiry *tab, size_t n, int64_t id);
/* lease_ttl_left: etcd's TTL seconds for a deadline at now_ms. */
int64_t lease_ttl_left(int64_t deadline_ms, int64_t now_ms);

/* ---- readers (any process) ---- */

/* What a reader sees of a lease (replicated state only). */
struct lease_info {
	int64_t id;
	int64_t ttl;           /* granted TTL as stored (already raised to min_ttl) */
	int64_t remaining_ttl; /* checkpointed remaining TTL, 0 = unset */
};
/* lease_get: LEASE_ERR_NOT_FOUND, or info and (keys not NULL) the attached
 * keys in byte order. */
int lease_get(struct lease *l, int64_t id, struct lease_info *info, struct lease_keys *keys,
              char *err, size_t errlen);
/* lease_list: every lease id in *ids (malloc'ed, the caller frees; NULL
 * when *n is 0), ordered as unsigned 64-bit numbers. etcd orders LeaseLeases by time left
 * (on the leader) or in map order; clients do not rely on either. */
int lease_list(struct lease *l, int64_t **ids, size_t *n, char *err, size_t errlen);

/* ---- lease ids ---- */

/* etcd's idutil.Generator, as etcdserver's LeaseGrant uses it when the
 * request's ID is 0: the proposing member picks the id (high 2 bytes from
 * its member id, then 5 bytes of unix ms at start, then a counter) and puts
 * it in the request, so every member applies the same id. Keep ONE per
 * member: lease_idgen_next is atomic, so the api workers may share one in
 * MAP_SHARED memory (separate per-process generators could collide). */
struct lease_idgen {
	uint64_t prefix;
	uint64_t suffix;
};
_Static_assert(sizeof(struct lease_idgen) == 16, "lease_idgen may live in shared memory");
void lease_idgen_init(struct lease_idgen *g, uint64_t member_id, int64_t unix_ms);
/* lease_idgen_next: a positive id (etcd masks the sign bit and skips 0). */
int64_t lease_idgen_next(struct lease_idgen *g);

#endif
