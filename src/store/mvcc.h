/* mvcc.h - etcd 3.4's v3 multi-version key-value store (its mvcc package,
 * plus the Range / Put / DeleteRange / Txn compare / Compaction rules of
 * etcdserver/apply.go) on Berkeley DB.
 *
 * Everything a read needs is on disk (no in-memory index), so the storage
 * worker (the only writer) and the api workers (readers, other processes)
 * share the same databases; see src/store/README for the layout.
 *
 * Revisions: a write transaction (one raft entry: a Put, a DeleteRange, a
 * Txn, a lease revoke) gets main = current + 1; its puts and deletes get
 * sub 0, 1, 2... The revision becomes current only if something was written.
 *
 * Who calls what:
 *   writer (storage worker), inside its own DB_TXN: mvcc_wtxn_begin, then
 *   mvcc_put / mvcc_delete_range / mvcc_txn_range / mvcc_compare, then
 *   mvcc_wtxn_end; mvcc_compact for a Compaction entry (outside a wtxn);
 *   mvcc_compact_step between batches until it reports done.
 *   readers (any process): mvcc_range, mvcc_events, mvcc_revisions,
 *   mvcc_key_count, mvcc_hash_kv, mvcc_hash. Each begins its own
 *   read-committed transaction and retries a lost deadlock itself (up to
 *   MVCC_READ_RETRIES times, then CE_AGAIN).
 *
 * Return values: 0; a positive enum mvcc_err for etcd's own errors (the
 * message in err is then exactly mvcc_err_str(code), etcd's text); or a
 * negative CE_* code for failures (the writer must then abort its DB_TXN;
 * CE_AGAIN = deadlock). A struct mvcc keeps scratch buffers and the state of
 * the write transaction: one per thread.
 */
#ifndef CETCD_STORE_MVCC_H
#define CETCD_STORE_MVCC_H

#include <stddef.h>
#include <stdint.h>
#include <db.h>

#define MVCC_REV_FILE "mvcc_rev.db"
#define MVCC_KEY_FILE "mvcc_key.db"

/* How often a reader retries after losing a deadlock to the writer. */
#define MVCC_READ_RETRIES 64
/* etcd's CompactionBatchLimit: a good budget for mvcc_compact_step. */
#define MVCC_COMPACT_BATCH 1000

/* etcd's errors (mvcc/kvstore.go, etcdserver/errors.go). The api layer adds
 * "etcdserver: " to the mvcc ones as etcd's rpctypes do. */
enum mvcc_err {
	MVCC_ERR_COMPACTED = 1,    /* "mvcc: required revision has been compacted" */
	MVCC_ERR_FUTURE_REV = 2,   /* "mvcc: required revision is a future revision" */
	MVCC_ERR_KEY_NOT_FOUND = 3 /* "etcdserver: key not found" (ignore_value/lease) */
};
const char *mvcc_err_str(int code);

/* Enumerations with etcd's protobuf numbers (rpc.proto, kv.proto). */
enum mvcc_sort_order { MVCC_SORT_NONE = 0, MVCC_SORT_ASCEND = 1, MVCC_SORT_DESCEND = 2 };
enum mvcc_sort_target {
	MVCC_SORT_KEY = 0, MVCC_SORT_VERSION = 1, MVCC_SORT_CREATE = 2, MVCC_SORT_MOD = 3,
	MVCC_SORT_VALUE = 4
};
enum mvcc_cmp_result { MVCC_CMP_EQUAL = 0, MVCC_CMP_GREATER = 1, MVCC_CMP_LESS = 2, MVCC_CMP_NOT_EQUAL = 3 };
enum mvcc_cmp_target {
	MVCC_CMP_VERSION = 0, MVCC_CMP_CREATE = 1, MVCC_CMP_MOD = 2, MVCC_CMP_VALUE = 3,
	MVCC_CMP_LEASE = 4
};
enum mvcc_event_type { MVCC_EV_PUT = 0, MVCC_EV_DELETE = 1 };

/* mvccpb.KeyValue. Pointers refer to memory owned by the result or the
 * write transaction that produced it. A deleted key's kv in an event has
 * only key and mod_revision (the tombstone's revision), as etcd's. */
struct mvcc_kv {
	const uint8_t *key;
	size_t key_len;
	const uint8_t *value; /* NULL when value_len == 0 */
	size_t value_len;
	int64_t create_revision, mod_revision, version, lease;
};

/* mvccpb.Event; prev is the kv before the change (has_prev = 0 when the
 * key did not exist, or, for mvcc_events, when that revision is compacted). */
struct mvcc_event {
	int type; /* enum mvcc_event_type */
	struct mvcc_kv kv;
	int has_prev;
	struct mvcc_kv prev;
	int64_t sub; /* the change's sub revision */
};

/* Stable-address memory for results (private; results init it). */
struct mvcc_chunk;
struct mvcc_arena {
	struct mvcc_chunk *head;
};

/* etcdserverpb.RangeRequest (key must not be NULL unless key_len is 0).
 * range_end: empty = the single key; "\0" = every key >= key; otherwise
 * [key, range_end). revision 0 = current. */
struct mvcc_range_req {
	const void *key;
	size_t key_len;
	const void *range_end;
	size_t range_end_len;
	int64_t limit;
	int64_t revision;
	int sort_order;  /* enum mvcc_sort_order */
	int sort_target; /* enum mvcc_sort_target */
	int keys_only, count_only;
	int64_t min_mod_revision, max_mod_revision;
	int64_t min_create_revision, max_create_revision;
};

/* The answer: kvs (values dropped when keys_only; none when count_only),
 * count = keys in range at the revision before filters and limit, more =
 * more kvs than limit, rev = the header revision (the current revision). */
struct mvcc_range_res {
	struct mvcc_kv *kvs;
	size_t nkvs;
	int64_t count;
	int more;
	int64_t rev;
	size_t cap;              /* private */
	struct mvcc_arena arena; /* private */
};
void mvcc_range_res_init(struct mvcc_range_res *res);
void mvcc_range_res_close(struct mvcc_range_res *res);

/* Watch history: events of revisions [from, to] for keys in a range. */
struct mvcc_events_res {
	struct mvcc_event *evs;
	size_t n;
	int64_t next;      /* the revision to continue from (to + 1 when complete) */
	int64_t rev;       /* current revision when read */
	int64_t compacted; /* compacted revision when read */
	size_t cap;              /* private */
	struct mvcc_arena arena; /* private */
};
void mvcc_events_res_init(struct mvcc_events_res *res);
void mvcc_events_res_close(struct mvcc_events_res *res);

/* etcdserverpb.PutRequest (prev_kv is always reported, see mvcc_put). */
struct mvcc_put_req {
	const void *key;
	size_t key_len;
	const void *value;
	size_t value_len;
	int64_t lease;
	int ignore_value, ignore_lease;
};

/* etcdserverpb.Compare. num is the target's number (version, create or
 * mod revision, lease); value the VALUE target. A request whose
 * target_union does not match target passes num 0 / an empty value, as
 * etcd reads it. */
struct mvcc_cmp {
	int result; /* enum mvcc_cmp_result */
	int target; /* enum mvcc_cmp_target */
	const void *key;
	size_t key_len;
	const void *range_end;
	size_t range_end_len;
	int64_t num;
	const void *value;
	size_t value_len;
};

/* The persistent state (meta.db "mvcc"). */
struct mvcc_state {
	int64_t current;   /* current revision */
	int64_t compacted; /* compaction scheduled (reads below it fail) */
	int64_t finished;  /* physical compaction done up to here */
	int64_t keys;      /* live keys at the current revision */
};

struct mvcc;

/* mvcc_open opens the databases (the writer creates them; a reader gets
 * CE_AGAIN until the writer has). */
int mvcc_open(struct mvcc **out, DB_ENV *env, int writer, char *err, size_t errlen);
void mvcc_free(struct mvcc *m);

/* ---- writer ---- */

/* mvcc_state_get reads the state inside txn (writer). */
int mvcc_state_get(struct mvcc *m, DB_TXN *txn, struct mvcc_state *st);

/* mvcc_wtxn_begin starts one etcd write transaction inside txn (which the
 * caller keeps and commits; several wtxns may share one DB_TXN, one after
 * the other). Events and prev kvs of the previous wtxn are released. */
int mvcc_wtxn_begin(struct mvcc *m, DB_TXN *txn);
/* mvcc_wtxn_rev: the revision a Range inside the wtxn reads and a response
 * header shows: current + 1 once something was written, else current. */
int64_t mvcc_wtxn_rev(const struct mvcc *m);
/* mvcc_wtxn_end records the new current revision if anything was written
 * and gives the header revision (mvcc_wtxn_rev) in *rev (may be NULL). On
 * a failure anywhere, abort the DB_TXN instead; the next begin starts over. */
int mvcc_wtxn_end(struct mvcc *m, int64_t *rev);
/* mvcc_wtxn_events: the events of the wtxn so far, in sub order, valid
 * until the next mvcc_wtxn_begin. */
const struct mvcc_event *mvcc_wtxn_events(const struct mvcc *m, size_t *n);

/* mvcc_put writes a revision of key. *prev (may be NULL) gets the previous
 * kv (the PutResponse prev_kv; NULL if the key did not exist), valid until
 * the next mvcc_wtxn_begin; the caller detaches prev->lease and attaches
 * req->lease (or, with ignore_lease, the kept lease) in its lease index.
 * MVCC_ERR_KEY_NOT_FOUND: ignore_value/ignore_lease on a missing key
 * (nothing written). The caller checks that a lease exists. */
int mvcc_put(struct mvcc *m, const struct mvcc_put_req *req, const struct mvcc_kv **prev,
             char *err, size_t errlen);
/* mvcc_delete_range deletes every key of the range (forms as in a
 * RangeRequest) alive at mvcc_wtxn_rev; *deleted gets the count. The
 * DeleteResponse prev_kvs are the prev kvs of the events this call added
 * (events *first_ev .. end; first_ev may be NULL). Deleting nothing
 * writes nothing. */
int mvcc_delete_range(struct mvcc *m, const void *key, size_t key_len, const void *end,
                      size_t end_len, int64_t *deleted, size_t *first_ev, char *err, size_t errlen);
/* mvcc_txn_range: a Range inside the wtxn (sees its writes), as etcd's
 * write txn Range. */
int mvcc_txn_range(struct mvcc *m, const struct mvcc_range_req *req, struct mvcc_range_res *res,
                   char *err, size_t errlen);
/* mvcc_compare evaluates a Compare at mvcc_wtxn_rev: *ok = 1 when every
 * key of the range satisfies it; an empty range compares a zero kv (and
 * always fails for VALUE), as etcd's applyCompare. */
int mvcc_compare(struct mvcc *m, const struct mvcc_cmp *c, int *ok, char *err, size_t errlen);

/* mvcc_compact schedules compaction at rev (a Compaction entry; outside a
 * wtxn, does not change the revision): MVCC_ERR_COMPACTED if rev <= the
 * compacted revision, MVCC_ERR_FUTURE_REV if rev > current. From then on
 * reads below rev fail. The physical removal is mvcc_compact_step's. */
int mvcc_compact(struct mvcc *m, DB_TXN *txn, int64_t rev, char *err, size_t errlen);
/* mvcc_compact_step removes up to about budget index entries of revisions
 * no read at >= the compacted revision can see (for each key the newest
 * revision <= it is kept unless it is a tombstone); *done = 1 when nothing
 * is left (the "finished" mark is then recorded). Commit txn between steps;
 * writes may run between steps. */
int mvcc_compact_step(struct mvcc *m, DB_TXN *txn, size_t budget, int *done, char *err,
                      size_t errlen);

/* ---- readers (own read-committed transaction) ---- */

int mvcc_revisions(struct mvcc *m, struct mvcc_state *st, char *err, size_t errlen);
/* mvcc_key_count: live keys at the current revision. */
int mvcc_key_count(struct mvcc *m, int64_t *n, char *err, size_t errlen);
int mvcc_range(struct mvcc *m, const struct mvcc_range_req *req, struct mvcc_range_res *res,
               char *err, size_t errlen);
/* mvcc_read_compare evaluates c at revision rev (0 = current), for
 * serializable read-only txns; errors as mvcc_range. */
int mvcc_read_compare(struct mvcc *m, int64_t rev, const struct mvcc_cmp *c, int *ok, char *err,
                      size_t errlen);
/* mvcc_events gives the events of revisions [from, to] (to 0 = current)
 * for keys of the range (forms as in a RangeRequest), with prev kvs when
 * want_prev. MVCC_ERR_COMPACTED when from < the compacted revision. At most
 * about max_events (0 = no limit) are returned, never splitting a
 * revision; res->next says where to continue. */
int mvcc_events(struct mvcc *m, const void *key, size_t key_len, const void *end, size_t end_len,
                int64_t from, int64_t to, size_t max_events, int want_prev,
                struct mvcc_events_res *res, char *err, size_t errlen);
/* mvcc_hash_kv is etcd 3.4's HashKV (CRC-32C over etcd's bucket bytes of
 * the revisions <= rev, skipping compacted ones no read can see), so it
 * equals etcd's for the same history. rev 0 = current. *current and
 * *compacted as etcd reports them (may be NULL). */
int mvcc_hash_kv(struct mvcc *m, int64_t rev, uint32_t *hash, int64_t *current,
                 int64_t *compacted, char *err, size_t errlen);
/* mvcc_hash: CRC-32C over every record of the mvcc databases and the state
 * (the Maintenance Hash; cetcd members agree, etcd's bytes differ). */
int mvcc_hash(struct mvcc *m, uint32_t *hash, char *err, size_t errlen);

#endif
