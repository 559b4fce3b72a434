/* test_mvcc_model.c - the mvcc store against a simple in-memory model
 * (every revision in an array) over thousands of random writes,
 * transactions, compactions (removal interleaved in random steps) and
 * reads at random revisions with random range forms, limits and sorts;
 * and a timing of 100k puts in batches of 100 per transaction.
 * The seed is printed; MVCC_SEED=<n> replays one.
 */
#include "config.h"
#include "store_test.h"
#include "test_mvcc.h"

#include "store/env.h"
#include "util/err.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- the model ---- */

#define MK 6 /* longest key */

struct mrec {
	uint8_t key[MK];
	size_t klen;
	int64_t main, sub, create, version, lease;
	int tomb;
	char value[12];
};

static struct mrec *recs;
static size_t nrecs, caprecs;
static int64_t m_current, m_compacted;
static uint64_t rng;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static size_t rndn(size_t n)
{
	return (size_t)(rnd() % n);
}

/* keys from a small alphabet with 0x00 and 0xff so ranges and prefixes
 * cross the escaping */
static size_t rnd_key(uint8_t *k)
{
	static const uint8_t alpha[] = { 0x00, 0x01, 'a', 'b', 0xfe, 0xff };
	size_t n = 1 + rndn(3);

	for (size_t i = 0; i < n; i++)
		k[i] = alpha[rndn(sizeof(alpha))];
	return n;
}

/* key_id: a small number per possible key (alphabet position, base 7) */
#define NKEYID 400
static size_t key_id(const uint8_t *k, size_t kl)
{
	static const uint8_t alpha[] = { 0x00, 0x01, 'a', 'b', 0xfe, 0xff };
	size_t id = 0;

	for (size_t i = 0; i < kl; i++) {
		size_t pos = 0;
		while (pos < sizeof(alpha) && alpha[pos] != k[i])
			pos++;
		ck_assert_uint_lt(pos, sizeof(alpha));
		id = id * 7 + pos + 1;
	}
	ck_assert_uint_lt(id, NKEYID);
	return id;
}

static int key_cmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	size_t n = an < bn ? an : bn;
	int c = n ? memcmp(a, b, n) : 0;

	return c ? c : (an < bn ? -1 : an > bn);
}

/* m_at: the newest record of key <= rev, or NULL */
static const struct mrec *m_at(const uint8_t *k, size_t kl, int64_t rev)
{
	const struct mrec *best = NULL;

	for (size_t i = 0; i < nrecs; i++)
		if (recs[i].main <= rev && key_cmp(recs[i].key, recs[i].klen, k, kl) == 0 &&
		    (!best || recs[i].main > best->main || (recs[i].main == best->main && recs[i].sub > best->sub)))
			best = &recs[i];
	return best;
}

static struct mrec *m_add(void)
{
	if (nrecs == caprecs) {
		caprecs = caprecs ? caprecs * 2 : 1024;
		recs = realloc(recs, caprecs * sizeof(*recs));
		ck_assert_ptr_nonnull(recs);
	}
	memset(&recs[nrecs], 0, sizeof(recs[0]));
	return &recs[nrecs++];
}

static int in_range(const uint8_t *k, size_t kl, const uint8_t *key, size_t keyl, const uint8_t *end,
                    size_t endl)
{
	if (endl == 0)
		return key_cmp(k, kl, key, keyl) == 0;
	if (key_cmp(k, kl, key, keyl) < 0)
		return 0;
	return (endl == 1 && end[0] == 0) || key_cmp(k, kl, end, endl) < 0;
}

/* m_live: live keys at rev in the range, in key order */
static size_t m_live(int64_t rev, const uint8_t *key, size_t keyl, const uint8_t *end, size_t endl,
                     const struct mrec **out)
{
	static const struct mrec *best[NKEYID];
	size_t n = 0;

	memset(best, 0, sizeof(best));
	for (size_t i = 0; i < nrecs; i++) { /* records are in revision order */
		const struct mrec *r = &recs[i];
		if (r->main <= rev && in_range(r->key, r->klen, key, keyl, end, endl))
			best[key_id(r->key, r->klen)] = r;
	}
	for (size_t id = 0; id < NKEYID; id++) {
		const struct mrec *c = best[id];
		if (c == NULL || c->tomb)
			continue;
		size_t at = n++;
		while (at > 0 && key_cmp(out[at - 1]->key, out[at - 1]->klen, c->key, c->klen) > 0) {
			out[at] = out[at - 1];
			at--;
		}
		out[at] = c;
	}
	return n;
}

/* m_physical drops what a finished compaction at c removes: for each key
 * everything <= c but its newest revision <= c, and that too if it is a
 * tombstone. */
static void m_physical(int64_t c)
{
	static ptrdiff_t top[NKEYID];
	size_t w = 0;

	for (size_t id = 0; id < NKEYID; id++)
		top[id] = -1;
	for (size_t i = 0; i < nrecs; i++)
		if (recs[i].main <= c)
			top[key_id(recs[i].key, recs[i].klen)] = (ptrdiff_t)i;
	for (size_t i = 0; i < nrecs; i++) {
		ptrdiff_t t = top[key_id(recs[i].key, recs[i].klen)];
		if (recs[i].main > c || ((ptrdiff_t)i == t && !recs[i].tomb))
			recs[w++] = recs[i];
	}
	nrecs = w;
}

/* ---- operations on both ---- */

static int64_t w_sub;

static void do_put(const uint8_t *k, size_t kl)
{
	const struct mrec *o = m_at(k, kl, m_current + 1);
	struct mrec oldc, *old = o ? &oldc : NULL, *r;
	struct mvcc_put_req p;
	const struct mvcc_kv *prev;

	if (o)
		oldc = *o; /* m_add may move the records */
	r = m_add();
	memcpy(r->key, k, kl);
	r->klen = kl;
	r->main = m_current + 1;
	r->sub = w_sub++;
	r->lease = (int64_t)rndn(3);
	snprintf(r->value, sizeof(r->value), "v%u", (unsigned)rndn(1000));
	int live = old && !old->tomb;
	r->create = live ? old->create : r->main;
	r->version = live ? old->version + 1 : 1;
	memset(&p, 0, sizeof(p));
	p.key = k;
	p.key_len = kl;
	p.value = r->value;
	p.value_len = strlen(r->value);
	p.lease = r->lease;
	ck_assert_msg(mvcc_put(mt_m, &p, &prev, mt_err, sizeof(mt_err)) == 0, "%s", mt_err);
	ck_assert_int_eq(prev != NULL, live);
	if (live)
		ck_assert_int_eq(prev->mod_revision, old->main);
}

static void do_del(const uint8_t *k, size_t kl, const uint8_t *e, size_t el)
{
	static const struct mrec *live[NKEYID];
	static struct mrec keys[NKEYID];
	size_t n = m_live(m_current + (w_sub > 0), k, kl, e, el, live);
	int64_t deleted;

	for (size_t i = 0; i < n; i++) /* m_add may move the records */
		keys[i] = *live[i];
	for (size_t i = 0; i < n; i++) {
		struct mrec *r = m_add();
		memcpy(r->key, keys[i].key, keys[i].klen);
		r->klen = keys[i].klen;
		r->tomb = 1;
		r->main = m_current + 1;
		r->sub = w_sub++;
	}
	ck_assert_msg(mvcc_delete_range(mt_m, k, kl, e, el, &deleted, NULL, mt_err, sizeof(mt_err)) == 0,
	              "%s", mt_err);
	ck_assert_int_eq(deleted, n);
}

/* rnd_span: a random range form */
static void rnd_span(uint8_t *k, size_t *kl, uint8_t *e, size_t *el)
{
	*kl = rnd_key(k);
	switch (rndn(4)) {
	case 0: *el = 0; break;
	case 1: e[0] = 0; *el = 1; break;
	default: *el = rnd_key(e); break;
	}
}

static void write_txn(DB_TXN *txn)
{
	uint8_t k[MK], e[MK], used[8][MK];
	size_t kl, el, nused = 0, usedl[8];
	int ops = 1 + (int)rndn(rndn(4) == 0 ? 5 : 1);

	ck_assert_int_eq(mvcc_wtxn_begin(mt_m, txn), 0);
	w_sub = 0;
	for (int i = 0; i < ops; i++) {
		int dup = 0;
		kl = rnd_key(k);
		for (size_t j = 0; j < nused; j++) /* etcd refuses duplicate keys in a txn */
			dup |= key_cmp(used[j], usedl[j], k, kl) == 0;
		if (dup)
			continue;
		if (rndn(5) == 0 && i == ops - 1) {
			rnd_span(k, &kl, e, &el);
			do_del(k, kl, e, el);
		} else {
			memcpy(used[nused], k, kl);
			usedl[nused++] = kl;
			do_put(k, kl);
		}
	}
	ck_assert_int_eq(mvcc_wtxn_end(mt_m, NULL), 0);
	if (w_sub > 0)
		m_current++;
}

static void check_range(void)
{
	uint8_t k[MK], e[MK];
	size_t kl, el;
	static const struct mrec *live[NKEYID];
	struct mvcc_range_req r;
	struct mvcc_range_res res;
	int64_t rev = rndn(3) == 0 ? 0 : (int64_t)rndn((size_t)m_current + 2);
	int rc;

	mvcc_range_res_init(&res);
	rnd_span(k, &kl, e, &el);
	memset(&r, 0, sizeof(r));
	r.key = k;
	r.key_len = kl;
	r.range_end = e;
	r.range_end_len = el;
	r.revision = rev;
	r.limit = rndn(2) ? 0 : (int64_t)rndn(4);
	r.sort_target = rndn(3) == 0 ? (int)rndn(5) : 0;
	r.sort_order = rndn(3) == 0 ? (int)rndn(3) : 0;
	rc = mt_range(&r, &res);
	if (rev > m_current) {
		ck_assert_int_eq(rc, MVCC_ERR_FUTURE_REV);
		goto out;
	}
	if (rev > 0 && rev < m_compacted) {
		ck_assert_int_eq(rc, MVCC_ERR_COMPACTED);
		goto out;
	}
	ck_assert_msg(rc == 0, "range: %d %s", rc, mt_err);
	size_t n = m_live(rev ? rev : m_current, k, kl, e, el, live);
	ck_assert_int_eq(res.count, n);
	ck_assert_int_eq(res.rev, m_current);
	size_t want = r.limit > 0 && (size_t)r.limit < n ? (size_t)r.limit : n;
	ck_assert_int_eq(res.nkvs, want);
	ck_assert_int_eq(res.more, want < n);
	if (r.sort_order == 0 && r.sort_target == 0) {
		for (size_t i = 0; i < want; i++) {
			const struct mvcc_kv *kv = &res.kvs[i];
			ck_assert(key_cmp(kv->key, kv->key_len, live[i]->key, live[i]->klen) == 0);
			ck_assert_int_eq(kv->mod_revision, live[i]->main);
			ck_assert_int_eq(kv->create_revision, live[i]->create);
			ck_assert_int_eq(kv->version, live[i]->version);
			ck_assert_int_eq(kv->lease, live[i]->lease);
			ck_assert(kv->value_len == strlen(live[i]->value) &&
			          memcmp(kv->value, live[i]->value, kv->value_len) == 0);
		}
	} else {
		for (size_t i = 0; i < want; i++) { /* sorted: every kv is a live one */
			const struct mvcc_kv *kv = &res.kvs[i];
			const struct mrec *c = m_at(kv->key, kv->key_len, rev ? rev : m_current);
			ck_assert(c && !c->tomb && c->main == kv->mod_revision);
		}
	}
out:
	mvcc_range_res_close(&res);
}

static void check_events(void)
{
	struct mvcc_events_res ev;
	int64_t from = m_compacted + 1 + (int64_t)rndn((size_t)(m_current - m_compacted) + 1);
	size_t j = 0;

	if (from < 2)
		from = 2;
	mvcc_events_res_init(&ev);
	ck_assert_int_eq(mvcc_events(mt_m, "", 0, "\0", 1, from, 0, 0, 0, &ev, mt_err, sizeof(mt_err)), 0);
	for (size_t i = 0; i < nrecs; i++) {
		if (recs[i].main < from)
			continue;
		ck_assert_uint_lt(j, ev.n);
		ck_assert_int_eq(ev.evs[j].kv.mod_revision, recs[i].main);
		ck_assert_int_eq(ev.evs[j].sub, recs[i].sub);
		ck_assert_int_eq(ev.evs[j].type, recs[i].tomb ? MVCC_EV_DELETE : MVCC_EV_PUT);
		j++;
	}
	ck_assert_int_eq(j, ev.n);
	mvcc_events_res_close(&ev);
}

START_TEST(test_mvcc_model)
{
	const char *env_seed = getenv("MVCC_SEED");
	uint64_t seed = env_seed ? strtoull(env_seed, NULL, 10) : (uint64_t)time(NULL) * 2654435761u;
	int compacting = 0, ops = 4000, nchecked = 0;

	printf("test_mvcc_model: seed %llu (MVCC_SEED=%llu to replay)\n", (unsigned long long)seed,
	       (unsigned long long)seed);
	fflush(stdout);
	rng = seed ? seed : 1;
	nrecs = 0;
	m_current = 1;
	m_compacted = -1;
	for (int op = 0; op < ops; op++) {
		DB_TXN *txn = mt_begin();
		int batch = 1 + (int)rndn(3);

		for (int b = 0; b < batch; b++) /* several etcd txns per DB txn */
			write_txn(txn);
		if (rndn(60) == 0 && m_current > m_compacted + 1) {
			int64_t c = m_compacted + 1 + (int64_t)rndn((size_t)(m_current - m_compacted));
			if (c < 1)
				c = 1;
			ck_assert_int_eq(mvcc_compact(mt_m, txn, c, mt_err, sizeof(mt_err)), 0);
			ck_assert_int_eq(mvcc_compact(mt_m, txn, c, mt_err, sizeof(mt_err)), MVCC_ERR_COMPACTED);
			m_compacted = c;
			compacting = 1;
		}
		if (compacting && rndn(2) == 0) {
			int done = 0;
			ck_assert_msg(mvcc_compact_step(mt_m, txn, 2 + rndn(100), &done, mt_err, sizeof(mt_err)) == 0,
			              "%s", mt_err);
			if (done) {
				m_physical(m_compacted);
				compacting = 0;
			}
		}
		mt_commit(txn);
		if (!compacting && rndn(20) == 0) {
			ck_assert_int_eq(mt_db_records(MVCC_REV_FILE), nrecs);
			nchecked++;
		}
		check_range();
		if (rndn(50) == 0)
			check_events();
	}
	if (compacting) { /* finish the removal: the databases hold what the model keeps */
		int done = 0;
		while (!done) {
			DB_TXN *txn = mt_begin();
			ck_assert_int_eq(mvcc_compact_step(mt_m, txn, 7, &done, mt_err, sizeof(mt_err)), 0);
			mt_commit(txn);
		}
		m_physical(m_compacted);
	}
	ck_assert_int_eq(mt_db_records(MVCC_REV_FILE), nrecs);
	ck_assert_int_eq(mt_db_records(MVCC_KEY_FILE), nrecs);
	check_events();
	struct mvcc_state st;
	ck_assert_int_eq(mvcc_revisions(mt_m, &st, mt_err, sizeof(mt_err)), 0);
	ck_assert_int_eq(st.current, m_current);
	ck_assert_int_eq(st.compacted, m_compacted);
	static const struct mrec *live[NKEYID];
	ck_assert_int_eq(st.keys, m_live(m_current, (const uint8_t *)"", 0, (const uint8_t *)"\0", 1, live));
	printf("test_mvcc_model: %lld revisions, %zu records kept, compacted at %lld, %d record "
	       "checks after finished compactions\n", (long long)m_current, nrecs, (long long)m_compacted,
	       nchecked);
	free(recs);
	recs = NULL;
	caprecs = 0;
}
END_TEST

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

START_TEST(test_mvcc_perf)
{
	struct mvcc_range_req r;
	struct mvcc_range_res res;
	char key[32], val[64];
	double t0 = now_s(), t1, t2, t3;
	int done = 0;

	for (int b = 0; b < 1000; b++) {
		DB_TXN *txn = mt_begin();
		for (int i = 0; i < 100; i++) {
			struct mvcc_put_req p;
			int n = b * 100 + i;
			/* 50k distinct keys, each written twice */
			snprintf(key, sizeof(key), "/registry/key%06d", (n * 7919) % 50000);
			snprintf(val, sizeof(val), "value-%d-xxxxxxxxxxxxxxxxxxxxxxxx", n);
			memset(&p, 0, sizeof(p));
			p.key = key;
			p.key_len = strlen(key);
			p.value = val;
			p.value_len = strlen(val);
			ck_assert_int_eq(mvcc_wtxn_begin(mt_m, txn), 0);
			ck_assert_int_eq(mvcc_put(mt_m, &p, NULL, mt_err, sizeof(mt_err)), 0);
			ck_assert_int_eq(mvcc_wtxn_end(mt_m, NULL), 0);
		}
		mt_commit(txn);
	}
	t1 = now_s();
	mvcc_range_res_init(&res);
	memset(&r, 0, sizeof(r));
	r.key = "/registry/";
	r.key_len = 10;
	r.range_end = "/registry0";
	r.range_end_len = 10;
	r.count_only = 1;
	ck_assert_int_eq(mt_range(&r, &res), 0);
	ck_assert_int_eq(res.count, 50000);
	r.count_only = 0;
	r.revision = 50001; /* an old revision: half the keys, values of the first round */
	ck_assert_int_eq(mt_range(&r, &res), 0);
	ck_assert_int_eq(res.nkvs, 50000);
	t2 = now_s();
	DB_TXN *txn = mt_begin();
	ck_assert_int_eq(mvcc_compact(mt_m, txn, 100001, mt_err, sizeof(mt_err)), 0);
	mt_commit(txn);
	while (!done) {
		txn = mt_begin();
		ck_assert_int_eq(mvcc_compact_step(mt_m, txn, MVCC_COMPACT_BATCH, &done, mt_err, sizeof(mt_err)), 0);
		mt_commit(txn);
	}
	t3 = now_s();
	ck_assert_int_eq(mt_db_records(MVCC_REV_FILE), 50000);
	printf("test_mvcc_perf: 100k puts (100 per txn) %.2fs, count + 50k-kv range %.2fs, "
	       "compaction of 50k revisions %.2fs\n", t1 - t0, t2 - t1, t3 - t2);
	fflush(stdout);
	ck_assert(t1 - t0 < 60);
	mvcc_range_res_close(&res);
}
END_TEST

Suite *suite_mvcc_model(void)
{
	Suite *s = suite_create("mvcc_model");
	TCase *tc = tcase_create("mvcc_model");

	tcase_add_checked_fixture(tc, mt_setup, mt_teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_mvcc_model);
	tcase_add_test(tc, test_mvcc_perf);
	suite_add_tcase(s, tc);
	return s;
}
