/* mvcc_compact.c - compaction of the v3 store and its hashes.
 *
 * Compaction follows etcd 3.4 (kvstore.go updateCompactRev,
 * kvstore_compaction.go, key_index.go compact): the Compaction entry only
 * records the revision ("scheduled"; reads below it fail from then on);
 * the removal runs later in bounded steps, each in the writer's own
 * transaction, and records "finished" at the end. For every key the newest
 * revision <= the compacted one is kept unless it is a tombstone; all its
 * older revisions go. A key's tombstone is removed only after its older
 * revisions, so a read between two steps never sees an older value through
 * a missing tombstone.
 *
 * HashKV is etcd's HashByRev byte for byte: CRC-32C over "key" and then, in
 * revision order, etcd's bucket key (BE main, '_', BE sub, 't' for a
 * tombstone) and its protobuf mvccpb.KeyValue, for revisions <= rev; of
 * those <= the compacted revision only the ones etcd's Keep(rev) keeps.
 */
#include "config.h"
#include "store/mvcc.h"

#include "store/env.h"
#include "store/mvcc_int.h"
#include "util/err.h"
#include "wal/crc32c.h"

#include <stdlib.h>
#include <string.h>

/* ---- compaction ---- */

static int next_get(struct mvcc *m, DB_TXN *txn, struct buf *out)
{
	DBT k, d;
	int rc;

	memset(&k, 0, sizeof(k));
	memset(&d, 0, sizeof(d));
	k.data = MVCC_META_NEXT;
	k.size = (u_int32_t)strlen(MVCC_META_NEXT);
	d.flags = DB_DBT_MALLOC;
	buf_reset(out);
	rc = m->meta->get(m->meta, txn, &k, &d, 0);
	if (rc == DB_NOTFOUND)
		return 0;
	if (rc != 0)
		return store_db_err(rc);
	buf_put(out, d.data, d.size);
	free(d.data);
	return out->oom ? CE_NOMEM : 0;
}

static int next_set(struct mvcc *m, DB_TXN *txn, const uint8_t *p, size_t n)
{
	DBT k, d;
	int rc;

	memset(&k, 0, sizeof(k));
	memset(&d, 0, sizeof(d));
	k.data = MVCC_META_NEXT;
	k.size = (u_int32_t)strlen(MVCC_META_NEXT);
	if (p == NULL) {
		rc = m->meta->del(m->meta, txn, &k, 0);
		return rc == DB_NOTFOUND ? 0 : store_db_err(rc);
	}
	d.data = (void *)p;
	d.size = (u_int32_t)n;
	return store_db_err(m->meta->put(m->meta, txn, &k, &d, 0));
}

int mvcc_compact(struct mvcc *m, DB_TXN *txn, int64_t rev, char *err, size_t errlen)
{
	struct mvcc_state st;
	int rc;

	if ((rc = mvcc_state_read(m, txn, &st)) != 0)
		return errf(err, errlen, rc, "mvcc: compact: read state: %s", ce_strerror(rc));
	if (rev <= st.compacted)
		return mvcc_eret(MVCC_ERR_COMPACTED, err, errlen);
	if (rev > st.current)
		return mvcc_eret(MVCC_ERR_FUTURE_REV, err, errlen);
	st.compacted = rev;
	/* a removal still running restarts from the first key at the new
	 * revision (it covers the old one) */
	if ((rc = mvcc_state_write(m, txn, &st)) != 0 || (rc = next_set(m, txn, NULL, 0)) != 0)
		return errf(err, errlen, rc, "mvcc: compact: %s", ce_strerror(rc));
	return 0;
}

static int del_rev(struct mvcc *m, DB_TXN *txn, int64_t main, int64_t sub)
{
	uint8_t r[MVCC_REVLEN];
	DBT k;
	int rc;

	be_put64(r, (uint64_t)main);
	be_put64(r + 8, (uint64_t)sub);
	memset(&k, 0, sizeof(k));
	k.data = r;
	k.size = sizeof(r);
	rc = m->rev->del(m->rev, txn, &k, 0);
	return rc == DB_NOTFOUND ? CE_CORRUPT : store_db_err(rc);
}

/* The walk over the key index, one key at a time. */
struct cwalk {
	struct mvcc *m;
	DB_TXN *txn;
	DBC *c;
	int64_t at;         /* the compacted revision */
	size_t budget, work;
	struct buf pos;     /* where the next key starts (a prefix) */
	struct buf prefix;  /* the key being compacted */
	struct buf seek;    /* scratch: a seek key */
	DBT k, d;
};

static int cw_get(struct cwalk *w, u_int32_t op, struct mvcc_ent *e)
{
	int rc = w->c->get(w->c, &w->k, &w->d, op);

	if (rc != 0)
		return store_db_err(rc);
	return mvcc_parse_ent(w->k.data, w->k.size, w->d.data, w->d.size, e);
}

static int cw_seek(struct cwalk *w, const uint8_t *p, size_t n, struct mvcc_ent *e)
{
	void *d = realloc(w->k.data, n ? n : 1);

	if (d == NULL)
		return CE_NOMEM;
	w->k.data = d;
	if (n)
		memcpy(d, p, n);
	w->k.size = (u_int32_t)n;
	return cw_get(w, DB_SET_RANGE, e);
}

static int same_key(const struct mvcc_ent *e, const struct buf *prefix)
{
	return e->plen == prefix->len && memcmp(e->prefix, prefix->data, prefix->len) == 0;
}

/* cw_seek_at positions the walk at the key's newest revision <= rev. */
static int cw_seek_at(struct cwalk *w, int64_t rev, struct mvcc_ent *e)
{
	uint8_t r[MVCC_REVLEN];

	be_put64(r, ~(uint64_t)rev);
	memset(r + 8, 0, 8); /* any sub */
	buf_reset(&w->seek);
	buf_put(&w->seek, w->prefix.data, w->prefix.len);
	buf_put(&w->seek, r, sizeof(r));
	return w->seek.oom ? CE_NOMEM : cw_seek(w, w->seek.data, w->seek.len, e);
}

/* cw_tomb deletes the key's tombstone (main, sub). The cursor stays where
 * it is (on the next key). */
static int cw_tomb(struct cwalk *w, int64_t main, int64_t sub)
{
	uint8_t r[MVCC_REVLEN];
	DBT k;
	int rc;

	be_put64(r, ~(uint64_t)main);
	be_put64(r + 8, ~(uint64_t)sub);
	buf_reset(&w->seek);
	buf_put(&w->seek, w->prefix.data, w->prefix.len);
	buf_put(&w->seek, r, sizeof(r));
	if (w->seek.oom)
		return CE_NOMEM;
	memset(&k, 0, sizeof(k));
	k.data = w->seek.data;
	k.size = (u_int32_t)w->seek.len;
	if ((rc = w->m->key->del(w->m->key, w->txn, &k, 0)) != 0)
		return rc == DB_NOTFOUND ? CE_CORRUPT : store_db_err(rc);
	w->work++;
	return del_rev(w->m, w->txn, main, sub);
}

/* cw_key compacts the key at or after w->pos. Returns 0 with w->pos set to
 * the next key (*end = 1 when there is none), 1 when the budget ran out
 * inside the key (w->pos unchanged: the next step resumes there, finding
 * the kept revision or the tombstone again), or a negative code. */
static int cw_key(struct cwalk *w, int *end)
{
	struct mvcc_ent e;
	int64_t tmain, tsub;
	int tomb, rc;

	*end = 0;
	if ((rc = cw_seek(w, w->pos.data, w->pos.len, &e)) != 0)
		goto out;
	buf_reset(&w->prefix);
	buf_put(&w->prefix, e.prefix, e.plen);
	w->work++;
	if ((rc = cw_seek_at(w, w->at, &e)) != 0 || !same_key(&e, &w->prefix))
		goto out; /* nothing of this key <= at: e is the next key */
	tomb = e.tomb;
	tmain = e.main;
	tsub = e.sub;
	while ((rc = cw_get(w, DB_NEXT, &e)) == 0 && same_key(&e, &w->prefix)) {
		if (w->work >= w->budget)
			return 1;
		if ((rc = w->c->del(w->c, 0)) != 0)
			return store_db_err(rc);
		if ((rc = del_rev(w->m, w->txn, e.main, e.sub)) != 0)
			return rc;
		w->work++;
	}
	if (rc != 0 && rc != CE_NOTFOUND)
		return rc;
	if (tomb) { /* last, once the older revisions are gone */
		int trc = cw_tomb(w, tmain, tsub);
		if (trc != 0)
			return trc;
	}
out:
	if (rc == CE_NOTFOUND) {
		*end = 1;
		return 0;
	}
	if (rc != 0)
		return rc;
	buf_reset(&w->pos);
	buf_put(&w->pos, e.prefix, e.plen);
	return w->pos.oom ? CE_NOMEM : 0;
}

int mvcc_compact_step(struct mvcc *m, DB_TXN *txn, size_t budget, int *done, char *err,
                      size_t errlen)
{
	struct mvcc_state st;
	struct cwalk w;
	int rc, end = 0;

	*done = 0;
	if ((rc = mvcc_state_read(m, txn, &st)) != 0)
		return errf(err, errlen, rc, "mvcc: compact: read state: %s", ce_strerror(rc));
	if (st.finished >= st.compacted) {
		*done = 1;
		return 0;
	}
	memset(&w, 0, sizeof(w));
	w.m = m;
	w.txn = txn;
	w.at = st.compacted;
	w.budget = budget < 2 ? 2 : budget; /* 2: every step removes something */
	w.k.flags = w.d.flags = DB_DBT_REALLOC;
	buf_init(&w.pos);
	buf_init(&w.prefix);
	buf_init(&w.seek);
	if ((rc = next_get(m, txn, &w.pos)) != 0)
		goto out;
	if ((rc = m->key->cursor(m->key, txn, &w.c, 0)) != 0) {
		rc = store_db_err(rc);
		goto out;
	}
	while (rc == 0 && !end && w.work < w.budget)
		rc = cw_key(&w, &end);
	if (rc == 1)
		rc = 0; /* w.pos is still the key to resume */
	if (rc == 0 && end) {
		st.finished = st.compacted;
		if ((rc = mvcc_state_write(m, txn, &st)) == 0)
			rc = next_set(m, txn, NULL, 0);
		*done = rc == 0;
	} else if (rc == 0) {
		rc = next_set(m, txn, w.pos.data, w.pos.len);
	}
out:
	if (w.c)
		w.c->close(w.c);
	free(w.k.data);
	free(w.d.data);
	buf_close(&w.pos);
	buf_close(&w.prefix);
	buf_close(&w.seek);
	return rc ? errf(err, errlen, rc, "mvcc: compact step: %s", ce_strerror(rc)) : 0;
}

/* ---- hashes ---- */

static size_t pb_varint(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

static uint32_t pb_bytes(uint32_t crc, uint8_t tag, const uint8_t *p, size_t n)
{
	uint8_t h[11];
	size_t hl;

	if (n == 0)
		return crc;
	h[0] = tag;
	hl = 1 + pb_varint(h + 1, n);
	return crc32c(crc32c(crc, h, hl), p, n);
}

static uint32_t pb_int(uint32_t crc, uint8_t tag, int64_t v)
{
	uint8_t h[11];

	if (v == 0)
		return crc;
	h[0] = tag;
	return crc32c(crc, h, 1 + pb_varint(h + 1, (uint64_t)v));
}

/* hash_rec adds one revision as etcd's bolt bucket holds it. */
static uint32_t hash_rec(uint32_t crc, int64_t main, int64_t sub, const struct mvcc_rev_hdr *h,
                         const uint8_t *key, const uint8_t *value, size_t vlen)
{
	uint8_t r[18];
	int tomb = (h->flags & MVCC_TOMBSTONE) != 0;

	be_put64(r, (uint64_t)main);
	r[8] = '_';
	be_put64(r + 9, (uint64_t)sub);
	r[17] = 't';
	crc = crc32c(crc, r, tomb ? 18 : 17);
	crc = pb_bytes(crc, 0x0a, key, h->key_len);
	if (tomb)
		return crc; /* a tombstone is KeyValue{Key: key} */
	crc = pb_int(crc, 0x10, h->create);
	crc = pb_int(crc, 0x18, main);
	crc = pb_int(crc, 0x20, h->version);
	crc = pb_bytes(crc, 0x2a, value, vlen);
	return pb_int(crc, 0x30, h->lease);
}

static int any_live(struct mvcc *m, DB_TXN *txn, const struct mvcc_ent *e, void *arg)
{
	*(int *)arg = 1;
	return 1;
}

struct hash_args {
	int64_t rev;
	uint32_t *hash;
	int64_t *current, *compacted;
};

/* kept: is (main, sub) of key what etcd's Keep(rev) keeps (the key's newest
 * revision <= rev, not a tombstone)? */
static int kept(struct mvcc *m, DB_TXN *txn, const uint8_t *key, size_t klen, int64_t rev,
                int64_t main, int64_t sub, int *yes)
{
	struct mvcc_ent e;
	int rc = mvcc_newest(m, txn, key, klen, rev, INT64_MAX, &e);

	*yes = rc == 0 && !e.tomb && e.main == main && e.sub == sub;
	return rc == CE_NOTFOUND ? 0 : rc;
}

static int hash_walk(struct mvcc *m, DB_TXN *txn, int64_t rev, int64_t compacted, int keep_any,
                     uint32_t *out)
{
	uint32_t crc = crc32c(0, "key", 3);
	DBT k, d;
	DBC *c = NULL;
	int rc, dbrc;

	memset(&k, 0, sizeof(k));
	memset(&d, 0, sizeof(d));
	k.flags = d.flags = DB_DBT_REALLOC;
	if ((rc = m->rev->cursor(m->rev, txn, &c, 0)) != 0)
		return store_db_err(rc);
	for (dbrc = c->get(c, &k, &d, DB_FIRST); dbrc == 0 && rc == 0; dbrc = c->get(c, &k, &d, DB_NEXT)) {
		struct mvcc_rev_hdr h;
		const uint8_t *key, *v;
		size_t vlen;
		int64_t main, sub;
		int yes = 1;

		if (k.size != MVCC_REVLEN) {
			rc = CE_CORRUPT;
			break;
		}
		main = (int64_t)be_get64(k.data);
		sub = (int64_t)be_get64((uint8_t *)k.data + 8);
		if (main > rev)
			break;
		if ((rc = mvcc_parse_rev(d.data, d.size, &h, &key, &v, &vlen)) != 0)
			break;
		if (main <= compacted && keep_any &&
		    (rc = kept(m, txn, key, h.key_len, rev, main, sub, &yes)) != 0)
			break;
		if (yes)
			crc = hash_rec(crc, main, sub, &h, key, v, vlen);
	}
	if (rc == 0 && dbrc != 0 && dbrc != DB_NOTFOUND)
		rc = store_db_err(dbrc);
	c->close(c);
	free(k.data);
	free(d.data);
	*out = crc;
	return rc;
}

static int read_hash_kv(struct mvcc *m, DB_TXN *txn, void *arg, char *err, size_t errlen)
{
	struct hash_args *a = arg;
	struct mvcc_state st;
	struct mvcc_span sp;
	int64_t rev = a->rev;
	int keep_any = 0, rc;

	if ((rc = mvcc_state_read(m, txn, &st)) != 0)
		return errf(err, errlen, rc, "mvcc: read state: %s", ce_strerror(rc));
	*a->current = st.current;
	*a->compacted = st.compacted;
	if (rev > 0 && rev <= st.compacted)
		return mvcc_eret(MVCC_ERR_COMPACTED, err, errlen);
	if (rev > st.current)
		return mvcc_eret(MVCC_ERR_FUTURE_REV, err, errlen);
	if (rev <= 0)
		rev = st.current;
	/* etcd filters compacted revisions only when Keep(rev) is not empty */
	mvcc_span_init(m, &sp, "", 0, "\0", 1);
	if ((rc = mvcc_scan(m, txn, &sp, rev, any_live, &keep_any)) != 0 ||
	    (rc = hash_walk(m, txn, rev, st.compacted, keep_any, a->hash)) != 0)
		return errf(err, errlen, rc, "mvcc: hash: %s", ce_strerror(rc));
	return 0;
}

int mvcc_hash_kv(struct mvcc *m, int64_t rev, uint32_t *hash, int64_t *current,
                 int64_t *compacted, char *err, size_t errlen)
{
	int64_t cur, comp;
	struct hash_args a = { rev, hash, current ? current : &cur, compacted ? compacted : &comp };

	*hash = 0;
	return mvcc_read(m, read_hash_kv, &a, err, errlen);
}

static int hash_db(DB *db, DB_TXN *txn, uint32_t *crc)
{
	DBT k, d;
	DBC *c = NULL;
	int rc;

	memset(&k, 0, sizeof(k));
	memset(&d, 0, sizeof(d));
	k.flags = d.flags = DB_DBT_REALLOC;
	if ((rc = db->cursor(db, txn, &c, 0)) != 0)
		return store_db_err(rc);
	while ((rc = c->get(c, &k, &d, DB_NEXT)) == 0) {
		*crc = crc32c(*crc, k.data, k.size);
		*crc = crc32c(*crc, d.data, d.size);
	}
	c->close(c);
	free(k.data);
	free(d.data);
	return rc == DB_NOTFOUND ? 0 : store_db_err(rc);
}

static int read_hash(struct mvcc *m, DB_TXN *txn, void *arg, char *err, size_t errlen)
{
	struct mvcc_state st;
	uint8_t b[32];
	uint32_t crc = 0;
	int rc;

	if ((rc = mvcc_state_read(m, txn, &st)) != 0 || (rc = hash_db(m->rev, txn, &crc)) != 0 ||
	    (rc = hash_db(m->key, txn, &crc)) != 0)
		return errf(err, errlen, rc, "mvcc: hash: %s", ce_strerror(rc));
	le_put64(b, (uint64_t)st.current);
	le_put64(b + 8, (uint64_t)st.compacted);
	le_put64(b + 16, (uint64_t)st.finished);
	le_put64(b + 24, (uint64_t)st.keys);
	*(uint32_t *)arg = crc32c(crc, b, sizeof(b));
	return 0;
}

int mvcc_hash(struct mvcc *m, uint32_t *hash, char *err, size_t errlen)
{
	*hash = 0;
	return mvcc_read(m, read_hash, hash, err, errlen);
}
