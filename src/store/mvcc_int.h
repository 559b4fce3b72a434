/* mvcc_int.h - internals shared by the mvcc files (mvcc.c: open, state,
 * arena, reads' transactions; mvcc_kv.c: key encoding, index scans,
 * writes; mvcc_range.c: Range, Compare, events; mvcc_compact.c:
 * compaction and hashes). Not for other modules.
 *
 * On-disk layout (README "Databases" has the same):
 *   mvcc_rev.db  BE u64 main, BE u64 sub -> struct mvcc_rev_hdr (LE), key,
 *                value. The history, in revision order.
 *   mvcc_key.db  esc(key) 0x00 0x01, BE u64 ~main, BE u64 ~sub ->
 *                struct mvcc_key_rec (LE). esc() writes 0x00 as 0x00 0xFF,
 *                so byte order of entries is key order, and within a key
 *                the newest revision comes first: the newest revision <= R
 *                of a key is one DB_SET_RANGE away.
 *   meta.db      "mvcc" -> struct mvcc_meta_rec (LE);
 *                "mvcc_compact_next" -> esc(key) 0x00 0x01 where the
 *                running physical compaction resumes.
 */
#ifndef CETCD_STORE_MVCC_INT_H
#define CETCD_STORE_MVCC_INT_H

#include "store/mvcc.h"
#include "util/buf.h"

#define MVCC_META_KEY "mvcc"
#define MVCC_META_NEXT "mvcc_compact_next"

#define MVCC_TOMBSTONE 0x01

struct mvcc_rev_hdr {
	uint8_t flags; /* MVCC_TOMBSTONE */
	uint8_t reserved[3];
	uint32_t key_len;
	int64_t create;
	int64_t version;
	int64_t lease;
};
_Static_assert(sizeof(struct mvcc_rev_hdr) == 32, "mvcc_rev_hdr layout");

struct mvcc_key_rec {
	uint8_t flags; /* MVCC_TOMBSTONE */
	uint8_t reserved[7];
	int64_t create;
	int64_t version;
	int64_t lease;
};
_Static_assert(sizeof(struct mvcc_key_rec) == 32, "mvcc_key_rec layout");

struct mvcc_meta_rec {
	int64_t current, compacted, finished, keys;
};
_Static_assert(sizeof(struct mvcc_meta_rec) == 32, "mvcc_meta_rec layout");

#define MVCC_REVLEN 16 /* main + sub in a key */

/* One key-index entry as a scan sees it. prefix = esc(key) 0x00 0x01
 * (points into the cursor's buffer: copy before moving the cursor). */
struct mvcc_ent {
	const uint8_t *prefix;
	size_t plen;
	int64_t main, sub;
	int tomb;
	int64_t create, version, lease;
};

struct mvcc {
	DB_ENV *env;
	int writer;
	DB *rev, *key, *meta;
	/* the write transaction */
	DB_TXN *txn;
	struct mvcc_state st;
	int64_t nchanges;
	int64_t keys_delta;
	struct mvcc_event *evs;
	size_t nevs, evcap;
	struct mvcc_arena evmem;
	/* scratch */
	struct buf seek; /* a seek key */
	struct buf tmp;  /* an encoded key */
	struct buf tmp2; /* an encoded range end */
	DBT ck, cd;      /* cursor key/data (DB_DBT_REALLOC) */
	DBT rk, rd;      /* rev db get (DB_DBT_REALLOC data) */
	uint8_t rkey[MVCC_REVLEN];
};

/* Arena (mvcc.c): memory that never moves until reset/close. */
void mvcc_arena_init(struct mvcc_arena *a);
void mvcc_arena_reset(struct mvcc_arena *a);
void mvcc_arena_close(struct mvcc_arena *a);
void *mvcc_arena_alloc(struct mvcc_arena *a, size_t n);
/* mvcc_arena_dup copies n bytes (NULL when n == 0; *oom set on failure). */
const uint8_t *mvcc_arena_dup(struct mvcc_arena *a, const void *p, size_t n, int *oom);

/* State (mvcc.c). */
int mvcc_state_read(struct mvcc *m, DB_TXN *txn, struct mvcc_state *st);
int mvcc_state_write(struct mvcc *m, DB_TXN *txn, const struct mvcc_state *st);

/* Reads (mvcc.c): run fn in a read-committed transaction, retrying a lost
 * deadlock. fn must reset its outputs first. */
typedef int (*mvcc_read_fn)(struct mvcc *m, DB_TXN *txn, void *arg, char *err, size_t errlen);
int mvcc_read(struct mvcc *m, mvcc_read_fn fn, void *arg, char *err, size_t errlen);
/* mvcc_check_rev: etcd's order of checks for a read at rev given current:
 * future first, then compacted (rev < compacted). *at gets the effective
 * revision. 0 or a positive mvcc_err with err set. */
int mvcc_check_rev(const struct mvcc_state *st, int64_t rev, int64_t cur, int64_t *at, char *err,
                   size_t errlen);
int mvcc_eret(int code, char *err, size_t errlen);

/* Encoding (mvcc_kv.c). */
static inline void be_put64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}
static inline uint64_t be_get64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}
/* mvcc_esc appends esc(key) to out; with term, 0x00 0x01 too. */
void mvcc_esc(struct buf *out, const void *key, size_t n, int term);
/* mvcc_unesc decodes a prefix (esc(key) 0x00 0x01) into out (replaced). */
void mvcc_unesc(struct buf *out, const uint8_t *prefix, size_t plen);
/* mvcc_unesc_len: the key length a prefix decodes to. */
size_t mvcc_unesc_len(const uint8_t *prefix, size_t plen);
void mvcc_unesc_to(uint8_t *dst, const uint8_t *prefix, size_t plen);

/* A key range in index terms: the single key, or [start, end) where end
 * NULL means no end. Built from the request forms by mvcc_span_init into
 * m->tmp / m->tmp2 (so one span at a time per struct mvcc). */
struct mvcc_span {
	int single;
	const uint8_t *start;
	size_t slen;
	const uint8_t *end;
	size_t elen;
};
void mvcc_span_init(struct mvcc *m, struct mvcc_span *sp, const void *key, size_t klen,
                    const void *end, size_t elen);

/* mvcc_scan calls cb for each key of the span alive at rev, in key order,
 * with its newest entry <= rev. cb returns 0 to go on, > 0 to stop (the
 * scan returns 0), < 0 to fail. cb may use m->rk/rd (mvcc_rev_get) but not
 * the cursor buffers beyond the call. */
typedef int (*mvcc_scan_cb)(struct mvcc *m, DB_TXN *txn, const struct mvcc_ent *e, void *arg);
int mvcc_scan(struct mvcc *m, DB_TXN *txn, const struct mvcc_span *sp, int64_t rev,
              mvcc_scan_cb cb, void *arg);
/* mvcc_newest finds the newest entry of one key with revision <=
 * (main, sub) (pass INT64_MAX for the newest of all): 0 and *e (pointing
 * into m->ck), or CE_NOTFOUND. Tombstones are reported too. */
int mvcc_newest(struct mvcc *m, DB_TXN *txn, const void *key, size_t klen, int64_t main,
                int64_t sub, struct mvcc_ent *e);
/* mvcc_parse_ent parses a key-index entry; CE_CORRUPT if malformed. */
int mvcc_parse_ent(const uint8_t *k, size_t klen, const uint8_t *d, size_t dlen, struct mvcc_ent *e);
/* mvcc_rev_get reads the revision record into m->rd: 0, CE_NOTFOUND, or a
 * code; *hdr decoded, key/value point into m->rd. */
int mvcc_rev_get(struct mvcc *m, DB_TXN *txn, int64_t main, int64_t sub, struct mvcc_rev_hdr *hdr,
                 const uint8_t **key, const uint8_t **value, size_t *value_len);
int mvcc_parse_rev(const uint8_t *d, size_t dlen, struct mvcc_rev_hdr *hdr, const uint8_t **key,
                   const uint8_t **value, size_t *value_len);
/* mvcc_kv_fill fills kv for entry e (copies into arena; the value too when
 * want_value). */
int mvcc_kv_fill(struct mvcc *m, DB_TXN *txn, const struct mvcc_ent *e, int want_value,
                 struct mvcc_arena *a, struct mvcc_kv *kv);

/* mvcc_range_at runs a Range at view revision cur (mvcc_range_res filled).
 * Used by readers (cur = the current revision) and the wtxn. */
int mvcc_range_at(struct mvcc *m, DB_TXN *txn, const struct mvcc_state *st, int64_t cur,
                  const struct mvcc_range_req *req, struct mvcc_range_res *res, char *err,
                  size_t errlen);
int mvcc_compare_at(struct mvcc *m, DB_TXN *txn, int64_t rev, const struct mvcc_cmp *c, int *ok);

#endif
