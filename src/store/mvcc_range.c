/* mvcc_range.c - reads of the v3 store: Range with etcd's limit, count,
 * filter and sort rules (etcdserver/apply.go Range + mvcc rangeKeys),
 * Txn compares (applyCompare/compareKV), and the watch history (events of
 * a revision interval, as etcd's watchable store reads them back).
 */
#include "config.h"
#include "store/mvcc.h"

#include "store/env.h"
#include "store/mvcc_int.h"
#include "util/err.h"

#include <stdlib.h>
#include <string.h>

static int bytes_cmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	size_t n = an < bn ? an : bn;
	int c = n ? memcmp(a, b, n) : 0;

	if (c != 0)
		return c < 0 ? -1 : 1;
	return an < bn ? -1 : an > bn ? 1 : 0;
}

static int i64_cmp(int64_t a, int64_t b)
{
	return a < b ? -1 : a > b ? 1 : 0;
}

/* ---- Range ---- */

struct range_ctx {
	const struct mvcc_range_req *req;
	struct mvcc_range_res *res;
	int64_t lim;    /* stop collecting after this many (0: all) */
	int want_value;
};

static int pruned(const struct mvcc_range_req *r, const struct mvcc_ent *e)
{
	return (r->max_mod_revision && e->main > r->max_mod_revision) ||
	       (r->min_mod_revision && e->main < r->min_mod_revision) ||
	       (r->max_create_revision && e->create > r->max_create_revision) ||
	       (r->min_create_revision && e->create < r->min_create_revision);
}

static int range_cb(struct mvcc *m, DB_TXN *txn, const struct mvcc_ent *e, void *arg)
{
	struct range_ctx *x = arg;
	struct mvcc_range_res *res = x->res;

	res->count++;
	if (x->req->count_only || (x->lim && (int64_t)res->nkvs >= x->lim))
		return 0; /* etcd's count is of every key in range */
	if (pruned(x->req, e))
		return 0;
	if (res->nkvs == res->cap) {
		size_t cap = res->cap ? res->cap * 2 : 16;
		struct mvcc_kv *kvs = realloc(res->kvs, cap * sizeof(*kvs));
		if (kvs == NULL)
			return CE_NOMEM;
		res->kvs = kvs;
		res->cap = cap;
	}
	int rc = mvcc_kv_fill(m, txn, e, x->want_value, &res->arena, &res->kvs[res->nkvs]);
	if (rc == 0)
		res->nkvs++;
	return rc;
}

/* Ties keep key order, in both directions: what etcd's sort.Sort (an
 * insertion sort below 13 elements) gives. */
static int kv_order(const void *pa, const void *pb, void *arg)
{
	const struct mvcc_kv *a = pa, *b = pb;
	const int *how = arg; /* target, descending */
	int c;

	switch (how[0]) {
	case MVCC_SORT_VERSION: c = i64_cmp(a->version, b->version); break;
	case MVCC_SORT_CREATE: c = i64_cmp(a->create_revision, b->create_revision); break;
	case MVCC_SORT_MOD: c = i64_cmp(a->mod_revision, b->mod_revision); break;
	case MVCC_SORT_VALUE: c = bytes_cmp(a->value, a->value_len, b->value, b->value_len); break;
	default: c = 0; break;
	}
	if (how[1])
		c = -c;
	if (c == 0) {
		c = bytes_cmp(a->key, a->key_len, b->key, b->key_len);
		if (how[0] == MVCC_SORT_KEY && how[1])
			c = -c;
	}
	return c;
}

static void range_reset(struct mvcc_range_res *res)
{
	res->nkvs = 0;
	res->count = 0;
	res->more = 0;
	res->rev = 0;
	mvcc_arena_reset(&res->arena);
}

int mvcc_range_at(struct mvcc *m, DB_TXN *txn, const struct mvcc_state *st, int64_t cur,
                  const struct mvcc_range_req *req, struct mvcc_range_res *res, char *err,
                  size_t errlen)
{
	struct range_ctx x;
	struct mvcc_span sp;
	int64_t at;
	int order = req->sort_order, rc;

	range_reset(res);
	if ((rc = mvcc_check_rev(st, req->revision, cur, &at, err, errlen)) != 0)
		return rc;
	/* etcd sorts ascending by default only when the target is not KEY */
	if (req->sort_target != MVCC_SORT_KEY && order == MVCC_SORT_NONE)
		order = MVCC_SORT_ASCEND;
	memset(&x, 0, sizeof(x));
	x.req = req;
	x.res = res;
	if (req->limit > 0 && (order == MVCC_SORT_NONE ||
	                       (order == MVCC_SORT_ASCEND && req->sort_target == MVCC_SORT_KEY)))
		x.lim = req->limit + 1; /* already in key order: one extra says "more" */
	x.want_value = !req->keys_only || (order != MVCC_SORT_NONE && req->sort_target == MVCC_SORT_VALUE);
	mvcc_span_init(m, &sp, req->key, req->key_len, req->range_end, req->range_end_len);
	if (m->tmp.oom || m->tmp2.oom)
		return errf(err, errlen, CE_NOMEM, "mvcc: range: out of memory");
	if ((rc = mvcc_scan(m, txn, &sp, at, range_cb, &x)) != 0)
		return errf(err, errlen, rc, "mvcc: range: %s", ce_strerror(rc));
	if (order != MVCC_SORT_NONE && res->nkvs > 1) {
		int how[2] = { req->sort_target, order == MVCC_SORT_DESCEND };
		qsort_r(res->kvs, res->nkvs, sizeof(res->kvs[0]), kv_order, how);
	}
	if (req->limit > 0 && res->nkvs > (size_t)req->limit) {
		res->nkvs = (size_t)req->limit;
		res->more = 1;
	}
	if (req->keys_only)
		for (size_t i = 0; i < res->nkvs; i++) {
			res->kvs[i].value = NULL;
			res->kvs[i].value_len = 0;
		}
	res->rev = cur;
	return 0;
}

int mvcc_txn_range(struct mvcc *m, const struct mvcc_range_req *req, struct mvcc_range_res *res,
                   char *err, size_t errlen)
{
	return mvcc_range_at(m, m->txn, &m->st, mvcc_wtxn_rev(m), req, res, err, errlen);
}

/* recheck: a compaction committed while a reader read at rev may have
 * removed what it needed; then the read fails as if it had started later. */
static int recheck(struct mvcc *m, DB_TXN *txn, int64_t rev, char *err, size_t errlen)
{
	struct mvcc_state st;
	int rc = mvcc_state_read(m, txn, &st);

	if (rc != 0)
		return errf(err, errlen, rc, "mvcc: read state: %s", ce_strerror(rc));
	return rev < st.compacted ? mvcc_eret(MVCC_ERR_COMPACTED, err, errlen) : 0;
}

struct read_range {
	const struct mvcc_range_req *req;
	struct mvcc_range_res *res;
};

static int read_range(struct mvcc *m, DB_TXN *txn, void *arg, char *err, size_t errlen)
{
	struct read_range *a = arg;
	struct mvcc_state st;
	int rc = mvcc_state_read(m, txn, &st);

	if (rc != 0)
		return errf(err, errlen, rc, "mvcc: read state: %s", ce_strerror(rc));
	if ((rc = mvcc_range_at(m, txn, &st, st.current, a->req, a->res, err, errlen)) != 0)
		return rc;
	if ((rc = recheck(m, txn, a->req->revision > 0 ? a->req->revision : st.current, err,
	                  errlen)) == MVCC_ERR_COMPACTED && a->req->revision <= 0)
		rc = CE_AGAIN; /* "the current revision" moved on: read again */
	return rc;
}

int mvcc_range(struct mvcc *m, const struct mvcc_range_req *req, struct mvcc_range_res *res,
               char *err, size_t errlen)
{
	struct read_range a = { req, res };

	return mvcc_read(m, read_range, &a, err, errlen);
}

/* ---- Compare ---- */

struct cmp_ctx {
	const struct mvcc_cmp *c;
	int ok, seen;
	struct mvcc_arena mem;
};

static int cmp_kv(const struct mvcc_cmp *c, const struct mvcc_kv *kv)
{
	int r;

	switch (c->target) {
	case MVCC_CMP_VALUE: r = bytes_cmp(kv->value, kv->value_len, c->value, c->value_len); break;
	case MVCC_CMP_CREATE: r = i64_cmp(kv->create_revision, c->num); break;
	case MVCC_CMP_MOD: r = i64_cmp(kv->mod_revision, c->num); break;
	case MVCC_CMP_VERSION: r = i64_cmp(kv->version, c->num); break;
	case MVCC_CMP_LEASE: r = i64_cmp(kv->lease, c->num); break;
	default: r = 0; break;
	}
	switch (c->result) {
	case MVCC_CMP_EQUAL: return r == 0;
	case MVCC_CMP_NOT_EQUAL: return r != 0;
	case MVCC_CMP_GREATER: return r > 0;
	case MVCC_CMP_LESS: return r < 0;
	default: return 1;
	}
}

static int cmp_cb(struct mvcc *m, DB_TXN *txn, const struct mvcc_ent *e, void *arg)
{
	struct cmp_ctx *x = arg;
	struct mvcc_kv kv;
	int rc;

	x->seen = 1;
	mvcc_arena_reset(&x->mem);
	if ((rc = mvcc_kv_fill(m, txn, e, x->c->target == MVCC_CMP_VALUE, &x->mem, &kv)) != 0)
		return rc;
	if (!cmp_kv(x->c, &kv)) {
		x->ok = 0;
		return 1; /* one failing key decides */
	}
	return 0;
}

int mvcc_compare_at(struct mvcc *m, DB_TXN *txn, int64_t rev, const struct mvcc_cmp *c, int *ok)
{
	struct cmp_ctx x;
	struct mvcc_span sp;
	int rc;

	memset(&x, 0, sizeof(x));
	x.c = c;
	x.ok = 1;
	mvcc_arena_init(&x.mem);
	mvcc_span_init(m, &sp, c->key, c->key_len, c->range_end, c->range_end_len);
	rc = (m->tmp.oom || m->tmp2.oom) ? CE_NOMEM : mvcc_scan(m, txn, &sp, rev, cmp_cb, &x);
	mvcc_arena_close(&x.mem);
	if (rc != 0)
		return rc;
	if (!x.seen) {
		/* no key: VALUE always fails (no way to say "missing"), the other
		 * targets compare a zero kv */
		struct mvcc_kv zero;
		memset(&zero, 0, sizeof(zero));
		x.ok = c->target == MVCC_CMP_VALUE ? 0 : cmp_kv(c, &zero);
	}
	*ok = x.ok;
	return 0;
}

int mvcc_compare(struct mvcc *m, const struct mvcc_cmp *c, int *ok, char *err, size_t errlen)
{
	int rc = mvcc_compare_at(m, m->txn, mvcc_wtxn_rev(m), c, ok);

	return rc ? errf(err, errlen, rc, "mvcc: compare: %s", ce_strerror(rc)) : 0;
}

struct read_cmp {
	int64_t rev;
	const struct mvcc_cmp *c;
	int *ok;
};

static int read_cmp(struct mvcc *m, DB_TXN *txn, void *arg, char *err, size_t errlen)
{
	struct read_cmp *a = arg;
	struct mvcc_state st;
	int64_t at;
	int rc = mvcc_state_read(m, txn, &st);

	if (rc != 0)
		return errf(err, errlen, rc, "mvcc: read state: %s", ce_strerror(rc));
	if ((rc = mvcc_check_rev(&st, a->rev, st.current, &at, err, errlen)) != 0)
		return rc;
	if ((rc = mvcc_compare_at(m, txn, at, a->c, a->ok)) != 0)
		return errf(err, errlen, rc, "mvcc: compare: %s", ce_strerror(rc));
	if ((rc = recheck(m, txn, at, err, errlen)) == MVCC_ERR_COMPACTED && a->rev <= 0)
		rc = CE_AGAIN; /* as read_range */
	return rc;
}

int mvcc_read_compare(struct mvcc *m, int64_t rev, const struct mvcc_cmp *c, int *ok, char *err,
                      size_t errlen)
{
	struct read_cmp a = { rev, c, ok };

	*ok = 0;
	return mvcc_read(m, read_cmp, &a, err, errlen);
}

/* ---- watch history ---- */

struct ev_args {
	const uint8_t *key, *end;
	size_t klen, elen;
	int64_t from, to;
	size_t max;
	int want_prev;
	struct mvcc_events_res *res;
};

static int key_in(const struct ev_args *a, const uint8_t *k, size_t n)
{
	if (a->elen == 0)
		return bytes_cmp(k, n, a->key, a->klen) == 0;
	if (bytes_cmp(k, n, a->key, a->klen) < 0)
		return 0;
	if (a->elen == 1 && a->end[0] == 0)
		return 1;
	return bytes_cmp(k, n, a->end, a->elen) < 0;
}

static struct mvcc_event *ev_new(struct mvcc_events_res *res)
{
	if (res->n == res->cap) {
		size_t cap = res->cap ? res->cap * 2 : 16;
		struct mvcc_event *evs = realloc(res->evs, cap * sizeof(*evs));
		if (evs == NULL)
			return NULL;
		res->evs = evs;
		res->cap = cap;
	}
	memset(&res->evs[res->n], 0, sizeof(res->evs[0]));
	return &res->evs[res->n++];
}

/* ev_prev fills the event's prev kv as etcd's watch server does: a Range
 * of the key at mod_revision - 1 (nothing when that is compacted). */
static int ev_prev(struct mvcc *m, DB_TXN *txn, const struct mvcc_state *st,
                   struct mvcc_events_res *res, struct mvcc_event *ev)
{
	struct mvcc_ent e;
	int64_t at = ev->kv.mod_revision - 1;
	int rc;

	if (at < st->compacted || at < 1)
		return 0;
	rc = mvcc_newest(m, txn, ev->kv.key, ev->kv.key_len, at, INT64_MAX, &e);
	if (rc == CE_NOTFOUND || (rc == 0 && e.tomb))
		return 0;
	if (rc == 0 && (rc = mvcc_kv_fill(m, txn, &e, 1, &res->arena, &ev->prev)) == 0)
		ev->has_prev = 1;
	return rc;
}

static int ev_add(struct mvcc *m, DB_TXN *txn, const struct ev_args *a, const struct mvcc_state *st,
                  int64_t main, int64_t sub, const uint8_t *d, size_t dlen)
{
	struct mvcc_rev_hdr h;
	const uint8_t *k, *v;
	size_t vlen;
	struct mvcc_event *ev;
	int oom = 0, rc;

	if ((rc = mvcc_parse_rev(d, dlen, &h, &k, &v, &vlen)) != 0)
		return rc;
	if (!key_in(a, k, h.key_len))
		return 0;
	if ((ev = ev_new(a->res)) == NULL)
		return CE_NOMEM;
	ev->sub = sub;
	ev->kv.key = mvcc_arena_dup(&a->res->arena, k, h.key_len, &oom);
	ev->kv.key_len = h.key_len;
	ev->kv.mod_revision = main;
	if (h.flags & MVCC_TOMBSTONE) {
		ev->type = MVCC_EV_DELETE;
	} else {
		ev->type = MVCC_EV_PUT;
		ev->kv.create_revision = h.create;
		ev->kv.version = h.version;
		ev->kv.lease = h.lease;
		ev->kv.value = mvcc_arena_dup(&a->res->arena, v, vlen, &oom);
		ev->kv.value_len = vlen;
	}
	if (oom)
		return CE_NOMEM;
	/* the record buffer is the cursor's own: prev lookups do not touch it */
	return a->want_prev ? ev_prev(m, txn, st, a->res, ev) : 0;
}

static int ev_walk(struct mvcc *m, DB_TXN *txn, struct ev_args *a, const struct mvcc_state *st,
                   int64_t to)
{
	uint8_t start[MVCC_REVLEN];
	DBT k, d;
	DBC *c = NULL;
	int64_t last = -1;
	int rc;

	be_put64(start, (uint64_t)a->from);
	be_put64(start + 8, 0);
	memset(&k, 0, sizeof(k));
	memset(&d, 0, sizeof(d));
	k.flags = d.flags = DB_DBT_REALLOC;
	if ((k.data = malloc(MVCC_REVLEN)) == NULL)
		return CE_NOMEM;
	memcpy(k.data, start, MVCC_REVLEN);
	k.size = MVCC_REVLEN;
	if ((rc = m->rev->cursor(m->rev, txn, &c, 0)) != 0) {
		free(k.data);
		return store_db_err(rc);
	}
	a->res->next = to + 1;
	rc = 0;
	for (int dbrc = c->get(c, &k, &d, DB_SET_RANGE); rc == 0;
	     dbrc = c->get(c, &k, &d, DB_NEXT)) {
		int64_t main, sub;
		if (dbrc != 0) {
			rc = dbrc == DB_NOTFOUND ? 0 : store_db_err(dbrc);
			break;
		}
		if (k.size != MVCC_REVLEN) {
			rc = CE_CORRUPT;
			break;
		}
		main = (int64_t)be_get64(k.data);
		sub = (int64_t)be_get64((uint8_t *)k.data + 8);
		if (main > to)
			break;
		if (a->max && a->res->n >= a->max && main != last) {
			a->res->next = main;
			break;
		}
		last = main;
		rc = ev_add(m, txn, a, st, main, sub, d.data, d.size);
	}
	c->close(c);
	free(k.data);
	free(d.data);
	return rc;
}

static int read_events(struct mvcc *m, DB_TXN *txn, void *arg, char *err, size_t errlen)
{
	struct ev_args *a = arg;
	struct mvcc_state st;
	int64_t to;
	int rc;

	a->res->n = 0;
	mvcc_arena_reset(&a->res->arena);
	if ((rc = mvcc_state_read(m, txn, &st)) != 0)
		return errf(err, errlen, rc, "mvcc: read state: %s", ce_strerror(rc));
	a->res->rev = st.current;
	a->res->compacted = st.compacted;
	if (a->from < st.compacted)
		return mvcc_eret(MVCC_ERR_COMPACTED, err, errlen);
	to = a->to <= 0 || a->to > st.current ? st.current : a->to;
	a->res->next = to + 1;
	if (a->from > to)
		return 0;
	if ((rc = ev_walk(m, txn, a, &st, to)) != 0)
		return errf(err, errlen, rc, "mvcc: events: %s", ce_strerror(rc));
	return recheck(m, txn, a->from, err, errlen);
}

int mvcc_events(struct mvcc *m, const void *key, size_t key_len, const void *end, size_t end_len,
                int64_t from, int64_t to, size_t max_events, int want_prev,
                struct mvcc_events_res *res, char *err, size_t errlen)
{
	struct ev_args a;

	memset(&a, 0, sizeof(a));
	a.key = key;
	a.klen = key_len;
	a.end = end;
	a.elen = end_len;
	a.from = from < 1 ? 1 : from;
	a.to = to;
	a.max = max_events;
	a.want_prev = want_prev;
	a.res = res;
	return mvcc_read(m, read_events, &a, err, errlen);
}
