/* mvcc_kv.c - the v3 store's records and writes: the order-preserving key
 * encoding, walking the key index (newest revision <= R of each key), the
 * revision records, and etcd's write transaction (put, delete range) with
 * its revision, version and generation rules (mvcc/kvstore_txn.go).
 */
#include "config.h"
#include "store/mvcc.h"

#include "store/env.h"
#include "store/mvcc_int.h"
#include "util/err.h"

#include <stdlib.h>
#include <string.h>

/* ---- encoding ---- */

void mvcc_esc(struct buf *out, const void *key, size_t n, int term)
{
	const uint8_t *p = key;
	size_t i, run = 0;

	buf_reserve(out, n + 2 + MVCC_REVLEN);
	for (i = 0; i < n; i++) {
		if (p[i] != 0)
			continue;
		buf_put(out, p + run, i + 1 - run); /* through the 0x00 */
		buf_put_u8(out, 0xff);
		run = i + 1;
	}
	buf_put(out, p + run, n - run);
	if (term) {
		buf_put_u8(out, 0x00);
		buf_put_u8(out, 0x01);
	}
}

size_t mvcc_unesc_len(const uint8_t *prefix, size_t plen)
{
	size_t i, n = 0;

	for (i = 0; i + 2 <= plen; i++, n++) {
		if (prefix[i] == 0) {
			if (prefix[i + 1] == 0x01)
				break;
			i++;
		}
	}
	return n;
}

void mvcc_unesc_to(uint8_t *dst, const uint8_t *prefix, size_t plen)
{
	size_t i;

	for (i = 0; i + 2 <= plen; i++) {
		if (prefix[i] == 0) {
			if (prefix[i + 1] == 0x01)
				break;
			i++;
			*dst++ = 0;
		} else {
			*dst++ = prefix[i];
		}
	}
}

void mvcc_unesc(struct buf *out, const uint8_t *prefix, size_t plen)
{
	size_t n = mvcc_unesc_len(prefix, plen);

	buf_reset(out);
	if (buf_reserve(out, n) != 0)
		return;
	mvcc_unesc_to(out->data, prefix, plen);
	out->len = n;
}

static void put_inv_rev(uint8_t *p, int64_t main, int64_t sub)
{
	be_put64(p, ~(uint64_t)main);
	be_put64(p + 8, ~(uint64_t)sub);
}

int mvcc_parse_ent(const uint8_t *k, size_t klen, const uint8_t *d, size_t dlen, struct mvcc_ent *e)
{
	if (klen < MVCC_REVLEN + 2 || dlen != sizeof(struct mvcc_key_rec))
		return CE_CORRUPT;
	e->prefix = k;
	e->plen = klen - MVCC_REVLEN;
	e->main = (int64_t)~be_get64(k + e->plen);
	e->sub = (int64_t)~be_get64(k + e->plen + 8);
	e->tomb = (d[0] & MVCC_TOMBSTONE) != 0;
	e->create = (int64_t)le_get64(d + 8);
	e->version = (int64_t)le_get64(d + 16);
	e->lease = (int64_t)le_get64(d + 24);
	return 0;
}

int mvcc_parse_rev(const uint8_t *d, size_t dlen, struct mvcc_rev_hdr *hdr, const uint8_t **key,
                   const uint8_t **value, size_t *value_len)
{
	if (dlen < sizeof(*hdr))
		return CE_CORRUPT;
	memset(hdr, 0, sizeof(*hdr));
	hdr->flags = d[0];
	hdr->key_len = le_get32(d + 4);
	hdr->create = (int64_t)le_get64(d + 8);
	hdr->version = (int64_t)le_get64(d + 16);
	hdr->lease = (int64_t)le_get64(d + 24);
	if (hdr->key_len > dlen - sizeof(*hdr))
		return CE_CORRUPT;
	*key = d + sizeof(*hdr);
	*value = *key + hdr->key_len;
	*value_len = dlen - sizeof(*hdr) - hdr->key_len;
	return 0;
}

int mvcc_rev_get(struct mvcc *m, DB_TXN *txn, int64_t main, int64_t sub, struct mvcc_rev_hdr *hdr,
                 const uint8_t **key, const uint8_t **value, size_t *value_len)
{
	int rc;

	be_put64(m->rkey, (uint64_t)main);
	be_put64(m->rkey + 8, (uint64_t)sub);
	rc = m->rev->get(m->rev, txn, &m->rk, &m->rd, 0);
	if (rc != 0)
		return store_db_err(rc);
	return mvcc_parse_rev(m->rd.data, m->rd.size, hdr, key, value, value_len);
}

int mvcc_kv_fill(struct mvcc *m, DB_TXN *txn, const struct mvcc_ent *e, int want_value,
                 struct mvcc_arena *a, struct mvcc_kv *kv)
{
	size_t klen = mvcc_unesc_len(e->prefix, e->plen);
	uint8_t *k = NULL;
	int rc;

	memset(kv, 0, sizeof(*kv));
	if (klen > 0) {
		if ((k = mvcc_arena_alloc(a, klen)) == NULL)
			return CE_NOMEM;
		mvcc_unesc_to(k, e->prefix, e->plen);
	}
	kv->key = k;
	kv->key_len = klen;
	kv->create_revision = e->create;
	kv->mod_revision = e->main;
	kv->version = e->version;
	kv->lease = e->lease;
	if (want_value) {
		struct mvcc_rev_hdr h;
		const uint8_t *rk, *v;
		size_t vlen;
		int oom = 0;

		rc = mvcc_rev_get(m, txn, e->main, e->sub, &h, &rk, &v, &vlen);
		if (rc != 0)
			return rc == CE_NOTFOUND ? CE_CORRUPT : rc;
		kv->value = mvcc_arena_dup(a, v, vlen, &oom);
		kv->value_len = vlen;
		if (oom)
			return CE_NOMEM;
	}
	return 0;
}

/* ---- walking the key index ---- */

/* cur_get positions c at the first entry >= the n bytes at p. 0, CE_NOTFOUND
 * or a code; the entry is in m->ck / m->cd. */
static int cur_get(struct mvcc *m, DBC *c, const uint8_t *p, size_t n)
{
	/* After any get the buffer holds at least ck.size bytes (Berkeley DB
	 * reallocs a DB_DBT_REALLOC buffer only when the old size is short). */
	if (m->ck.data == NULL || n > m->ck.size) {
		void *d = realloc(m->ck.data, n ? n : 1);
		if (d == NULL)
			return CE_NOMEM;
		m->ck.data = d;
	}
	if (n > 0)
		memmove(m->ck.data, p, n);
	m->ck.size = (u_int32_t)n;
	return store_db_err(c->get(c, &m->ck, &m->cd, DB_SET_RANGE));
}

static int cur_next(struct mvcc *m, DBC *c)
{
	return store_db_err(c->get(c, &m->ck, &m->cd, DB_NEXT));
}

/* seek_key sets m->seek to prefix then a revision part. */
static const uint8_t *seek_key(struct mvcc *m, const uint8_t *prefix, size_t plen, int64_t main,
                               int past)
{
	uint8_t r[MVCC_REVLEN];

	if (past) {
		memset(r, 0xff, sizeof(r));
	} else {
		put_inv_rev(r, main, 0);
		memset(r + 8, 0, 8); /* every sub of main */
	}
	buf_reset(&m->seek);
	buf_put(&m->seek, prefix, plen);
	buf_put(&m->seek, r, sizeof(r));
	return m->seek.oom ? NULL : m->seek.data;
}

void mvcc_span_init(struct mvcc *m, struct mvcc_span *sp, const void *key, size_t klen,
                    const void *end, size_t elen)
{
	buf_reset(&m->tmp);
	buf_reset(&m->tmp2);
	memset(sp, 0, sizeof(*sp));
	if (elen == 0) {
		sp->single = 1;
		mvcc_esc(&m->tmp, key, klen, 1);
	} else {
		mvcc_esc(&m->tmp, key, klen, 0);
		if (!(elen == 1 && ((const uint8_t *)end)[0] == 0)) {
			mvcc_esc(&m->tmp2, end, elen, 0);
			sp->end = m->tmp2.data;
			sp->elen = m->tmp2.len;
		}
	}
	sp->start = m->tmp.data;
	sp->slen = m->tmp.len;
}

/* past_end: the entry's key is outside the span. */
static int past_end(const struct mvcc_span *sp, const struct mvcc_ent *e)
{
	if (sp->single)
		return e->plen != sp->slen || memcmp(e->prefix, sp->start, sp->slen) != 0;
	if (sp->end) {
		size_t n = e->plen + MVCC_REVLEN < sp->elen ? e->plen + MVCC_REVLEN : sp->elen;
		int c = memcmp(e->prefix, sp->end, n);
		/* equal over n bytes: past unless the entry is a proper prefix */
		return c > 0 || (c == 0 && e->plen + MVCC_REVLEN >= sp->elen);
	}
	return 0;
}

static int cur_ent(struct mvcc *m, struct mvcc_ent *e)
{
	return mvcc_parse_ent(m->ck.data, m->ck.size, m->cd.data, m->cd.size, e);
}

/* skip_key moves c from an entry of the key whose prefix is in pbuf to the
 * first entry of a later key. A few DB_NEXTs first (most keys have few
 * revisions left after compaction), then one seek past every revision. */
static int skip_key(struct mvcc *m, DBC *c, struct buf *pbuf)
{
	struct mvcc_ent e;
	int rc, i;

	for (i = 0; i < 4; i++) {
		if ((rc = cur_next(m, c)) != 0)
			return rc;
		if ((rc = cur_ent(m, &e)) != 0)
			return rc;
		if (e.plen != pbuf->len || memcmp(e.prefix, pbuf->data, pbuf->len) != 0)
			return 0;
	}
	const uint8_t *s = seek_key(m, pbuf->data, pbuf->len, 0, 1);
	if (s == NULL)
		return CE_NOMEM;
	return cur_get(m, c, s, m->seek.len);
}

static int scan_loop(struct mvcc *m, DB_TXN *txn, DBC *c, const struct mvcc_span *sp, int64_t rev,
                     mvcc_scan_cb cb, void *arg, struct buf *pbuf)
{
	struct mvcc_ent e;
	const uint8_t *s;
	int rc;

	if (sp->single) {
		/* the newest revision <= rev of the one key, directly */
		if ((s = seek_key(m, sp->start, sp->slen, rev, 0)) == NULL)
			return CE_NOMEM;
		rc = cur_get(m, c, s, m->seek.len);
	} else {
		rc = cur_get(m, c, sp->start, sp->slen);
	}
	for (;;) {
		if (rc == CE_NOTFOUND)
			return 0;
		if (rc != 0 || (rc = cur_ent(m, &e)) != 0)
			return rc;
		if (past_end(sp, &e))
			return 0;
		if (e.main > rev) { /* newer than the read: jump to the newest <= rev */
			buf_reset(pbuf);
			buf_put(pbuf, e.prefix, e.plen);
			if ((s = seek_key(m, e.prefix, e.plen, rev, 0)) == NULL || pbuf->oom)
				return CE_NOMEM;
			rc = cur_get(m, c, s, m->seek.len);
			if (rc != 0 || (rc = cur_ent(m, &e)) != 0)
				continue;
			if (e.plen != pbuf->len || memcmp(e.prefix, pbuf->data, pbuf->len) != 0)
				continue; /* no revision <= rev: e is already the next key */
		}
		if (!e.tomb && (rc = cb(m, txn, &e, arg)) != 0)
			return rc > 0 ? 0 : rc;
		if (sp->single)
			return 0;
		buf_reset(pbuf);
		buf_put(pbuf, e.prefix, e.plen);
		if (pbuf->oom)
			return CE_NOMEM;
		rc = skip_key(m, c, pbuf);
	}
}

int mvcc_scan(struct mvcc *m, DB_TXN *txn, const struct mvcc_span *sp, int64_t rev,
              mvcc_scan_cb cb, void *arg)
{
	struct buf pbuf;
	DBC *c = NULL;
	int rc;

	if ((rc = m->key->cursor(m->key, txn, &c, 0)) != 0)
		return store_db_err(rc);
	buf_init(&pbuf);
	rc = scan_loop(m, txn, c, sp, rev, cb, arg, &pbuf);
	buf_close(&pbuf);
	c->close(c);
	return rc;
}

int mvcc_newest(struct mvcc *m, DB_TXN *txn, const void *key, size_t klen, int64_t main,
                int64_t sub, struct mvcc_ent *e)
{
	DBC *c = NULL;
	uint8_t r[MVCC_REVLEN];
	int rc;

	buf_reset(&m->seek);
	mvcc_esc(&m->seek, key, klen, 1);
	size_t plen = m->seek.len;
	/* ~INT64_MAX sorts before the inverse of any real revision, so
	 * INT64_MAX means "the newest" (main) or "any sub" (sub). */
	put_inv_rev(r, main, sub);
	buf_put(&m->seek, r, sizeof(r));
	if (m->seek.oom)
		return CE_NOMEM;
	if ((rc = m->key->cursor(m->key, txn, &c, 0)) != 0)
		return store_db_err(rc);
	rc = cur_get(m, c, m->seek.data, m->seek.len);
	if (rc == 0)
		rc = cur_ent(m, e);
	if (rc == 0 && (e->plen != plen || memcmp(e->prefix, m->seek.data, plen) != 0))
		rc = CE_NOTFOUND;
	c->close(c);
	return rc;
}

/* ---- the write transaction ---- */

int mvcc_wtxn_begin(struct mvcc *m, DB_TXN *txn)
{
	m->txn = txn;
	m->nchanges = 0;
	m->keys_delta = 0;
	m->nevs = 0;
	mvcc_arena_reset(&m->evmem);
	return mvcc_state_read(m, txn, &m->st);
}

int64_t mvcc_wtxn_rev(const struct mvcc *m)
{
	return m->st.current + (m->nchanges > 0 ? 1 : 0);
}

int mvcc_wtxn_end(struct mvcc *m, int64_t *rev)
{
	int rc = 0;

	if (rev)
		*rev = mvcc_wtxn_rev(m);
	if (m->nchanges > 0) {
		struct mvcc_state st = m->st;

		st.current++;
		st.keys += m->keys_delta;
		if ((rc = mvcc_state_write(m, m->txn, &st)) != 0)
			return rc;
		m->st = st;
		m->nchanges = 0;
		m->keys_delta = 0;
	}
	return 0;
}

const struct mvcc_event *mvcc_wtxn_events(const struct mvcc *m, size_t *n)
{
	*n = m->nevs;
	return m->evs;
}

static struct mvcc_event *new_event(struct mvcc *m)
{
	if (m->nevs == m->evcap) {
		size_t cap = m->evcap ? m->evcap * 2 : 16;
		struct mvcc_event *evs = realloc(m->evs, cap * sizeof(*evs));
		if (evs == NULL)
			return NULL;
		m->evs = evs;
		m->evcap = cap;
	}
	memset(&m->evs[m->nevs], 0, sizeof(m->evs[0]));
	return &m->evs[m->nevs++];
}

/* write_rev stores a revision in both databases. */
static int write_rev(struct mvcc *m, const struct mvcc_kv *kv, int64_t sub, int tomb)
{
	uint8_t hdr[sizeof(struct mvcc_rev_hdr)], rec[sizeof(struct mvcc_key_rec)];
	uint8_t r[MVCC_REVLEN];
	DBT k, d;
	int rc;

	memset(hdr, 0, sizeof(hdr));
	hdr[0] = tomb ? MVCC_TOMBSTONE : 0;
	le_put32(hdr + 4, (uint32_t)kv->key_len);
	le_put64(hdr + 8, (uint64_t)kv->create_revision);
	le_put64(hdr + 16, (uint64_t)kv->version);
	le_put64(hdr + 24, (uint64_t)kv->lease);
	buf_reset(&m->tmp);
	buf_put(&m->tmp, hdr, sizeof(hdr));
	buf_put(&m->tmp, kv->key, kv->key_len);
	buf_put(&m->tmp, kv->value, kv->value_len);
	buf_reset(&m->tmp2);
	mvcc_esc(&m->tmp2, kv->key, kv->key_len, 1);
	put_inv_rev(r, kv->mod_revision, sub);
	buf_put(&m->tmp2, r, sizeof(r));
	if (m->tmp.oom || m->tmp2.oom)
		return CE_NOMEM;
	be_put64(r, (uint64_t)kv->mod_revision);
	be_put64(r + 8, (uint64_t)sub);
	memset(&k, 0, sizeof(k));
	memset(&d, 0, sizeof(d));
	k.data = r;
	k.size = sizeof(r);
	d.data = m->tmp.data;
	d.size = (u_int32_t)m->tmp.len;
	if ((rc = m->rev->put(m->rev, m->txn, &k, &d, 0)) != 0)
		return store_db_err(rc);
	memcpy(rec, hdr, sizeof(rec)); /* same fields at the same offsets */
	memset(rec + 1, 0, 7);
	k.data = m->tmp2.data;
	k.size = (u_int32_t)m->tmp2.len;
	d.data = rec;
	d.size = sizeof(rec);
	return store_db_err(m->key->put(m->key, m->txn, &k, &d, 0));
}

/* live_prev finds the key's live kv at the wtxn's view (into the event
 * arena, value included). 0 with *found. */
static int live_prev(struct mvcc *m, const void *key, size_t klen, struct mvcc_kv *kv, int *found)
{
	struct mvcc_ent e;
	int rc = mvcc_newest(m, m->txn, key, klen, INT64_MAX, INT64_MAX, &e);

	*found = 0;
	if (rc == CE_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if (e.tomb)
		return 0;
	*found = 1;
	return mvcc_kv_fill(m, m->txn, &e, 1, &m->evmem, kv);
}

int mvcc_put(struct mvcc *m, const struct mvcc_put_req *req, const struct mvcc_kv **prev,
             char *err, size_t errlen)
{
	struct mvcc_kv old, kv;
	struct mvcc_event *ev;
	int found, rc, oom = 0;

	if (prev)
		*prev = NULL;
	if ((rc = live_prev(m, req->key, req->key_len, &old, &found)) != 0)
		return errf(err, errlen, rc, "mvcc: put: read previous: %s", ce_strerror(rc));
	if ((req->ignore_value || req->ignore_lease) && !found)
		return mvcc_eret(MVCC_ERR_KEY_NOT_FOUND, err, errlen);
	memset(&kv, 0, sizeof(kv));
	kv.key = mvcc_arena_dup(&m->evmem, req->key, req->key_len, &oom);
	kv.key_len = req->key_len;
	if (req->ignore_value) {
		kv.value = old.value;
		kv.value_len = old.value_len;
	} else {
		kv.value = mvcc_arena_dup(&m->evmem, req->value, req->value_len, &oom);
		kv.value_len = req->value_len;
	}
	kv.lease = req->ignore_lease ? old.lease : req->lease;
	kv.mod_revision = m->st.current + 1;
	kv.create_revision = found ? old.create_revision : kv.mod_revision;
	kv.version = found ? old.version + 1 : 1;
	if (oom || (ev = new_event(m)) == NULL)
		return errf(err, errlen, CE_NOMEM, "mvcc: put: out of memory");
	ev->type = MVCC_EV_PUT;
	ev->kv = kv;
	ev->has_prev = found;
	if (found)
		ev->prev = old;
	ev->sub = m->nchanges;
	if ((rc = write_rev(m, &kv, m->nchanges, 0)) != 0) {
		m->nevs--;
		return errf(err, errlen, rc, "mvcc: put: %s", ce_strerror(rc));
	}
	m->nchanges++;
	if (!found)
		m->keys_delta++;
	if (prev && found)
		*prev = &ev->prev;
	return 0;
}

/* The keys to delete are collected first: writing while the scan's cursor
 * walks the same index would move under it. */
struct del_ctx {
	struct mvcc_kv *kvs;
	size_t n, cap;
};

static int del_collect(struct mvcc *m, DB_TXN *txn, const struct mvcc_ent *e, void *arg)
{
	struct del_ctx *x = arg;

	if (x->n == x->cap) {
		size_t cap = x->cap ? x->cap * 2 : 16;
		struct mvcc_kv *kvs = realloc(x->kvs, cap * sizeof(*kvs));
		if (kvs == NULL)
			return CE_NOMEM;
		x->kvs = kvs;
		x->cap = cap;
	}
	int rc = mvcc_kv_fill(m, txn, e, 1, &m->evmem, &x->kvs[x->n]);
	if (rc == 0)
		x->n++;
	return rc;
}

static int delete_one(struct mvcc *m, const struct mvcc_kv *old)
{
	struct mvcc_event *ev = new_event(m);
	struct mvcc_kv kv;
	int rc;

	if (ev == NULL)
		return CE_NOMEM;
	memset(&kv, 0, sizeof(kv));
	kv.key = old->key;
	kv.key_len = old->key_len;
	kv.mod_revision = m->st.current + 1;
	ev->type = MVCC_EV_DELETE;
	ev->kv = kv;
	ev->has_prev = 1;
	ev->prev = *old;
	ev->sub = m->nchanges;
	if ((rc = write_rev(m, &kv, m->nchanges, 1)) != 0) {
		m->nevs--;
		return rc;
	}
	m->nchanges++;
	m->keys_delta--;
	return 0;
}

int mvcc_delete_range(struct mvcc *m, const void *key, size_t key_len, const void *end,
                      size_t end_len, int64_t *deleted, size_t *first_ev, char *err, size_t errlen)
{
	struct mvcc_span sp;
	struct del_ctx x;
	size_t i;
	int rc;

	*deleted = 0;
	if (first_ev)
		*first_ev = m->nevs;
	memset(&x, 0, sizeof(x));
	mvcc_span_init(m, &sp, key, key_len, end, end_len);
	if (m->tmp.oom || m->tmp2.oom)
		return errf(err, errlen, CE_NOMEM, "mvcc: delete: out of memory");
	rc = mvcc_scan(m, m->txn, &sp, mvcc_wtxn_rev(m), del_collect, &x);
	for (i = 0; rc == 0 && i < x.n; i++)
		rc = delete_one(m, &x.kvs[i]);
	free(x.kvs);
	if (rc != 0)
		return errf(err, errlen, rc, "mvcc: delete range: %s", ce_strerror(rc));
	*deleted = (int64_t)i;
	return 0;
}
