/* test_mvcc.c - the v3 mvcc store against etcd 3.4's rules: revisions,
 * versions and generations, Range forms, limit/count/more, sorting,
 * filters, DeleteRange, put options, compaction and its errors, Txn
 * compares, the watch history, HashKV (values taken from etcd 3.4.23 for
 * the same history) and persistence. The randomized model test and the
 * timing are in test_mvcc_model.c.
 */
#include "config.h"
#include "store_test.h"
#include "test_mvcc.h"

#include "store/env.h"
#include "store/snap.h"
#include "util/buf.h"
#include "util/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

DB_ENV *mt_env;
struct mvcc *mt_m;
char mt_err[256];
static char dir[64];

/* ---- helpers ---- */

static void open_all(void)
{
	ck_assert_msg(store_env_open(&mt_env, dir, 1, mt_err, sizeof(mt_err)) == 0, "%s", mt_err);
	ck_assert_msg(mvcc_open(&mt_m, mt_env, 1, mt_err, sizeof(mt_err)) == 0, "%s", mt_err);
}

static void close_all(void)
{
	mvcc_free(mt_m);
	store_env_close(mt_env);
	mt_m = NULL;
	mt_env = NULL;
}

void mt_setup(void)
{
	strcpy(dir, "/tmp/cetcd-mvcc-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	open_all();
}

void mt_teardown(void)
{
	char cmd[128];

	close_all();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

void mt_reopen(void)
{
	close_all();
	open_all();
}

DB_TXN *mt_begin(void)
{
	DB_TXN *txn = NULL;

	ck_assert_int_eq(mt_env->txn_begin(mt_env, NULL, &txn, 0), 0);
	return txn;
}

void mt_commit(DB_TXN *txn)
{
	ck_assert_int_eq(txn->commit(txn, 0), 0);
}

int64_t mt_put(const void *k, size_t kl, const void *v, size_t vl, int64_t lease)
{
	struct mvcc_put_req r = { k, kl, v, vl, lease, 0, 0 };
	DB_TXN *txn = mt_begin();
	int64_t rev;

	ck_assert_int_eq(mvcc_wtxn_begin(mt_m, txn), 0);
	ck_assert_msg(mvcc_put(mt_m, &r, NULL, mt_err, sizeof(mt_err)) == 0, "%s", mt_err);
	ck_assert_int_eq(mvcc_wtxn_end(mt_m, &rev), 0);
	mt_commit(txn);
	return rev;
}

int64_t mt_puts(const char *k, const char *v)
{
	return mt_put(k, strlen(k), v, strlen(v), 0);
}

int64_t mt_del(const void *k, size_t kl, const void *e, size_t el, int64_t *deleted)
{
	DB_TXN *txn = mt_begin();
	int64_t rev, n;

	ck_assert_int_eq(mvcc_wtxn_begin(mt_m, txn), 0);
	ck_assert_msg(mvcc_delete_range(mt_m, k, kl, e, el, &n, NULL, mt_err, sizeof(mt_err)) == 0, "%s",
	              mt_err);
	ck_assert_int_eq(mvcc_wtxn_end(mt_m, &rev), 0);
	mt_commit(txn);
	if (deleted)
		*deleted = n;
	return rev;
}

int mt_range(const struct mvcc_range_req *req, struct mvcc_range_res *res)
{
	return mvcc_range(mt_m, req, res, mt_err, sizeof(mt_err));
}

size_t mt_db_records(const char *file)
{
	DB *db = NULL;
	DB_BTREE_STAT *sp = NULL;
	size_t n;

	ck_assert_int_eq(db_create(&db, mt_env, 0), 0);
	ck_assert_int_eq(db->open(db, NULL, file, NULL, DB_BTREE, DB_AUTO_COMMIT, 0600), 0);
	ck_assert_int_eq(db->stat(db, NULL, &sp, 0), 0);
	n = sp->bt_nkeys;
	free(sp);
	db->close(db, 0);
	return n;
}

static struct mvcc_range_req rq(const char *k, const char *e)
{
	struct mvcc_range_req r;

	memset(&r, 0, sizeof(r));
	r.key = k;
	r.key_len = strlen(k);
	r.range_end = e;
	r.range_end_len = e ? (e[0] ? strlen(e) : 1) : 0; /* "" is "\0" */
	return r;
}

static struct mvcc_range_req rqb(const void *k, size_t kl, const void *e, size_t el)
{
	struct mvcc_range_req r;

	memset(&r, 0, sizeof(r));
	r.key = k;
	r.key_len = kl;
	r.range_end = e;
	r.range_end_len = el;
	return r;
}

static int kv_is(const struct mvcc_kv *kv, const char *k, const char *v, int64_t c, int64_t mod,
                 int64_t ver)
{
	return kv->key_len == strlen(k) && memcmp(kv->key, k, kv->key_len) == 0 &&
	       kv->value_len == strlen(v) && (kv->value_len == 0 || memcmp(kv->value, v, kv->value_len) == 0) &&
	       kv->create_revision == c && kv->mod_revision == mod && kv->version == ver;
}

/* get1: the single key at rev; 1 found, 0 missing. */
static int get1(const char *k, int64_t rev, struct mvcc_range_res *res)
{
	struct mvcc_range_req r = rq(k, NULL);
	int rc;

	r.revision = rev;
	rc = mt_range(&r, res);
	ck_assert_msg(rc == 0, "get %s@%lld: %d %s", k, (long long)rev, rc, mt_err);
	return res->nkvs == 1;
}

/* ---- tests ---- */

START_TEST(test_mvcc_versions)
{
	struct mvcc_range_res res;
	struct mvcc_state st;
	int64_t n;

	mvcc_range_res_init(&res);
	ck_assert_int_eq(mvcc_revisions(mt_m, &st, mt_err, sizeof(mt_err)), 0);
	ck_assert_int_eq(st.current, 1); /* etcd starts at revision 1 */
	ck_assert_int_eq(st.compacted, -1);
	ck_assert_int_eq(mt_puts("foo", "bar"), 2);
	ck_assert(get1("foo", 0, &res));
	ck_assert(kv_is(&res.kvs[0], "foo", "bar", 2, 2, 1));
	ck_assert_int_eq(res.rev, 2);
	ck_assert_int_eq(mt_puts("foo", "baz"), 3);
	ck_assert(get1("foo", 0, &res));
	ck_assert(kv_is(&res.kvs[0], "foo", "baz", 2, 3, 2));
	ck_assert_int_eq(mt_del("foo", 3, NULL, 0, &n), 4);
	ck_assert_int_eq(n, 1);
	ck_assert(!get1("foo", 0, &res));
	ck_assert_int_eq(res.count, 0);
	ck_assert_int_eq(res.rev, 4);
	/* a new generation */
	ck_assert_int_eq(mt_puts("foo", "again"), 5);
	ck_assert(get1("foo", 0, &res));
	ck_assert(kv_is(&res.kvs[0], "foo", "again", 5, 5, 1));
	/* old revisions */
	ck_assert(get1("foo", 2, &res) && kv_is(&res.kvs[0], "foo", "bar", 2, 2, 1));
	ck_assert_int_eq(res.rev, 5); /* header: the current revision */
	ck_assert(get1("foo", 3, &res) && kv_is(&res.kvs[0], "foo", "baz", 2, 3, 2));
	ck_assert(!get1("foo", 4, &res));
	ck_assert(!get1("foo", 1, &res));
	struct mvcc_range_req r = rq("foo", NULL);
	r.revision = 6;
	ck_assert_int_eq(mt_range(&r, &res), MVCC_ERR_FUTURE_REV);
	ck_assert_str_eq(mt_err, "mvcc: required revision is a future revision");
	ck_assert_int_eq(mvcc_key_count(mt_m, &n, mt_err, sizeof(mt_err)), 0);
	ck_assert_int_eq(n, 1);
	/* deleting nothing writes nothing */
	ck_assert_int_eq(mt_del("nope", 4, NULL, 0, &n), 5);
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(mt_puts("x", ""), 6);
	ck_assert(get1("x", 0, &res) && res.kvs[0].value_len == 0 && res.kvs[0].value == NULL);
	mt_reopen();
	ck_assert_int_eq(mvcc_revisions(mt_m, &st, mt_err, sizeof(mt_err)), 0);
	ck_assert_int_eq(st.current, 6);
	ck_assert_int_eq(st.keys, 2);
	ck_assert(get1("foo", 3, &res) && kv_is(&res.kvs[0], "foo", "baz", 2, 3, 2));
	mvcc_range_res_close(&res);
}
END_TEST

START_TEST(test_mvcc_wtxn)
{
	struct mvcc_range_res res;
	struct mvcc_range_req r = rq("a", "\0");
	struct mvcc_put_req p = { "a", 1, "1", 1, 0, 0, 0 };
	const struct mvcc_event *ev;
	const struct mvcc_kv *prev;
	DB_TXN *txn;
	size_t nev, first;
	int64_t rev, n;

	mvcc_range_res_init(&res);
	mt_puts("b", "old");
	txn = mt_begin();
	/* an empty write transaction does not bump the revision */
	ck_assert_int_eq(mvcc_wtxn_begin(mt_m, txn), 0);
	ck_assert_int_eq(mvcc_wtxn_rev(mt_m), 2);
	ck_assert_int_eq(mvcc_wtxn_end(mt_m, &rev), 0);
	ck_assert_int_eq(rev, 2);
	/* several changes share one main revision, subs 0, 1, 2 */
	ck_assert_int_eq(mvcc_wtxn_begin(mt_m, txn), 0);
	ck_assert_int_eq(mvcc_txn_range(mt_m, &r, &res, mt_err, sizeof(mt_err)), 0);
	ck_assert_int_eq(res.rev, 2);
	ck_assert_int_eq(mvcc_put(mt_m, &p, &prev, mt_err, sizeof(mt_err)), 0);
	ck_assert_ptr_null(prev);
	ck_assert_int_eq(mvcc_wtxn_rev(mt_m), 3);
	/* a range inside sees the txn's own writes */
	ck_assert_int_eq(mvcc_txn_range(mt_m, &r, &res, mt_err, sizeof(mt_err)), 0);
	ck_assert_int_eq(res.nkvs, 2);
	ck_assert_int_eq(res.rev, 3);
	p.key = "b";
	p.value = "2";
	ck_assert_int_eq(mvcc_put(mt_m, &p, &prev, mt_err, sizeof(mt_err)), 0);
	ck_assert_ptr_nonnull(prev);
	ck_assert(kv_is(prev, "b", "old", 2, 2, 1));
	ck_assert_int_eq(mvcc_delete_range(mt_m, "a", 1, NULL, 0, &n, &first, mt_err, sizeof(mt_err)), 0);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(first, 2);
	ck_assert_int_eq(mvcc_wtxn_end(mt_m, &rev), 0);
	ck_assert_int_eq(rev, 3);
	ev = mvcc_wtxn_events(mt_m, &nev);
	ck_assert_int_eq(nev, 3);
	ck_assert_int_eq(ev[0].type, MVCC_EV_PUT);
	ck_assert(kv_is(&ev[0].kv, "a", "1", 3, 3, 1) && !ev[0].has_prev && ev[0].sub == 0);
	ck_assert(kv_is(&ev[1].kv, "b", "2", 2, 3, 2) && ev[1].has_prev && ev[1].sub == 1);
	ck_assert(kv_is(&ev[1].prev, "b", "old", 2, 2, 1));
	ck_assert_int_eq(ev[2].type, MVCC_EV_DELETE);
	ck_assert(kv_is(&ev[2].kv, "a", "", 0, 3, 0) && ev[2].sub == 2);
	ck_assert(ev[2].has_prev && kv_is(&ev[2].prev, "a", "1", 3, 3, 1));
	mt_commit(txn);
	ck_assert(!get1("a", 0, &res));
	ck_assert(get1("b", 0, &res) && kv_is(&res.kvs[0], "b", "2", 2, 3, 2));
	mvcc_range_res_close(&res);
}
END_TEST

START_TEST(test_mvcc_put_options)
{
	struct mvcc_put_req p = { "k", 1, "v1", 2, 7, 0, 0 };
	struct mvcc_range_res res;
	const struct mvcc_kv *prev;
	DB_TXN *txn = mt_begin();

	mvcc_range_res_init(&res);
	ck_assert_int_eq(mvcc_wtxn_begin(mt_m, txn), 0);
	p.ignore_value = 1;
	ck_assert_int_eq(mvcc_put(mt_m, &p, &prev, mt_err, sizeof(mt_err)), MVCC_ERR_KEY_NOT_FOUND);
	ck_assert_str_eq(mt_err, "etcdserver: key not found");
	p.ignore_value = 0;
	p.ignore_lease = 1;
	ck_assert_int_eq(mvcc_put(mt_m, &p, &prev, mt_err, sizeof(mt_err)), MVCC_ERR_KEY_NOT_FOUND);
	p.ignore_lease = 0;
	ck_assert_int_eq(mvcc_put(mt_m, &p, &prev, mt_err, sizeof(mt_err)), 0);
	ck_assert_int_eq(mvcc_wtxn_end(mt_m, NULL), 0);
	ck_assert_int_eq(mvcc_wtxn_begin(mt_m, txn), 0);
	p.ignore_value = 1; /* keep the value, new lease */
	p.lease = 9;
	ck_assert_int_eq(mvcc_put(mt_m, &p, &prev, mt_err, sizeof(mt_err)), 0);
	ck_assert_int_eq(prev->lease, 7);
	ck_assert_int_eq(mvcc_wtxn_end(mt_m, NULL), 0);
	ck_assert_int_eq(mvcc_wtxn_begin(mt_m, txn), 0);
	p.ignore_value = 0;
	p.ignore_lease = 1; /* new value, lease kept */
	p.value = "v3";
	ck_assert_int_eq(mvcc_put(mt_m, &p, &prev, mt_err, sizeof(mt_err)), 0);
	ck_assert_int_eq(mvcc_wtxn_end(mt_m, NULL), 0);
	mt_commit(txn);
	ck_assert(get1("k", 0, &res));
	ck_assert(kv_is(&res.kvs[0], "k", "v3", 2, 4, 3));
	ck_assert_int_eq(res.kvs[0].lease, 9);
	ck_assert(get1("k", 3, &res) && kv_is(&res.kvs[0], "k", "v1", 2, 3, 2));
	ck_assert_int_eq(res.kvs[0].lease, 9);
	ck_assert(get1("k", 2, &res) && res.kvs[0].lease == 7);
	mvcc_range_res_close(&res);
}
END_TEST

/* keys sorted as bytes, with 0x00 and 0xff inside */
static const struct { const char *k; size_t n; } bkeys[] = {
	{ "\x00", 1 }, { "a", 1 }, { "a\x00", 2 }, { "a\x00\x00", 3 }, { "a\x00\x01", 3 },
	{ "a\x01", 2 }, { "a\xff", 2 }, { "a\xff\xff", 3 }, { "b", 1 }, { "\xff", 1 }, { "\xff\x00", 2 },
};
#define NBKEYS (sizeof(bkeys) / sizeof(bkeys[0]))

/* expect_keys: res holds bkeys[from..to) in order */
static void expect_keys(const struct mvcc_range_res *res, size_t from, size_t to)
{
	ck_assert_int_eq(res->nkvs, to - from);
	for (size_t i = from; i < to; i++) {
		const struct mvcc_kv *kv = &res->kvs[i - from];
		ck_assert_msg(kv->key_len == bkeys[i].n && memcmp(kv->key, bkeys[i].k, kv->key_len) == 0,
		              "key %zu", i);
	}
}

START_TEST(test_mvcc_range_forms)
{
	struct mvcc_range_res res;
	struct mvcc_range_req r;
	size_t i;

	mvcc_range_res_init(&res);
	for (i = NBKEYS; i-- > 0;) /* inserted out of order */
		mt_put(bkeys[i].k, bkeys[i].n, "v", 1, 0);
	for (i = 0; i < NBKEYS; i++) { /* each single key */
		r = rqb(bkeys[i].k, bkeys[i].n, NULL, 0);
		ck_assert_int_eq(mt_range(&r, &res), 0);
		expect_keys(&res, i, i + 1);
	}
	r = rqb("a\x00\x02", 3, NULL, 0); /* missing, between keys */
	ck_assert_int_eq(mt_range(&r, &res), 0);
	ck_assert_int_eq(res.nkvs, 0);
	r = rqb("\x00", 1, "\x00", 1); /* "\0": everything from key */
	ck_assert_int_eq(mt_range(&r, &res), 0);
	expect_keys(&res, 0, NBKEYS);
	ck_assert_int_eq(res.count, NBKEYS);
	r = rqb("", 0, "\x00", 1);
	ck_assert_int_eq(mt_range(&r, &res), 0);
	expect_keys(&res, 0, NBKEYS);
	r = rqb("a\xff", 2, "\x00", 1);
	ck_assert_int_eq(mt_range(&r, &res), 0);
	expect_keys(&res, 6, NBKEYS);
	r = rqb("a", 1, "b", 1); /* prefix "a": end "b" */
	ck_assert_int_eq(mt_range(&r, &res), 0);
	expect_keys(&res, 1, 8);
	r = rqb("a\x00", 2, "a\x01", 2); /* prefix "a\0" */
	ck_assert_int_eq(mt_range(&r, &res), 0);
	expect_keys(&res, 2, 5);
	r = rqb("a\x00", 2, "a\x00\x01", 3);
	ck_assert_int_eq(mt_range(&r, &res), 0);
	expect_keys(&res, 2, 4);
	r = rqb("a\xff", 2, "b", 1); /* prefix "a\xff": end "b" */
	ck_assert_int_eq(mt_range(&r, &res), 0);
	expect_keys(&res, 6, 8);
	r = rqb("\xff", 1, "\xff\x00", 2);
	ck_assert_int_eq(mt_range(&r, &res), 0);
	expect_keys(&res, 9, 10);
	r = rqb("b", 1, "a", 1); /* end before key: nothing */
	ck_assert_int_eq(mt_range(&r, &res), 0);
	ck_assert_int_eq(res.nkvs, 0);
	ck_assert_int_eq(res.count, 0);
	/* deleting a range with 0x00 keys, then old revisions still see them */
	int64_t n, rev = mt_del("a\x00", 2, "a\x01", 2, &n);
	ck_assert_int_eq(n, 3);
	r = rqb("", 0, "\x00", 1);
	ck_assert_int_eq(mt_range(&r, &res), 0);
	ck_assert_int_eq(res.count, NBKEYS - 3);
	r.revision = rev - 1;
	ck_assert_int_eq(mt_range(&r, &res), 0);
	expect_keys(&res, 0, NBKEYS);
	mvcc_range_res_close(&res);
}
END_TEST

START_TEST(test_mvcc_limit_count)
{
	struct mvcc_range_res res;
	struct mvcc_range_req r = rq("k", "l");
	char k[8];

	mvcc_range_res_init(&res);
	for (int i = 0; i < 10; i++) {
		snprintf(k, sizeof(k), "k%d", i);
		mt_puts(k, "v");
	}
	mt_puts("z", "v");
	r.limit = 3;
	ck_assert_int_eq(mt_range(&r, &res), 0);
	ck_assert_int_eq(res.nkvs, 3);
	ck_assert_int_eq(res.count, 10);
	ck_assert_int_eq(res.more, 1);
	ck_assert(kv_is(&res.kvs[2], "k2", "v", 4, 4, 1));
	r.limit = 10;
	ck_assert_int_eq(mt_range(&r, &res), 0);
	ck_assert_int_eq(res.nkvs, 10);
	ck_assert_int_eq(res.more, 0);
	r.limit = 0;
	r.count_only = 1;
	ck_assert_int_eq(mt_range(&r, &res), 0);
	ck_assert_int_eq(res.nkvs, 0);
	ck_assert_int_eq(res.count, 10);
	ck_assert_int_eq(res.more, 0);
	r.count_only = 0;
	r.keys_only = 1;
	r.limit = 2;
	ck_assert_int_eq(mt_range(&r, &res), 0);
	ck_assert_int_eq(res.nkvs, 2);
	ck_assert(res.kvs[1].value == NULL && res.kvs[1].value_len == 0 && res.kvs[1].version == 1);
	ck_assert_int_eq(res.rev, 12);
	/* filters prune kvs but not count; limit applies after them */
	r = rq("k", "l");
	r.min_mod_revision = 4;
	r.max_mod_revision = 8;
	r.limit = 3;
	ck_assert_int_eq(mt_range(&r, &res), 0);
	ck_assert_int_eq(res.count, 10);
	ck_assert_int_eq(res.nkvs, 3);
	ck_assert_int_eq(res.more, 1);
	ck_assert_int_eq(res.kvs[0].mod_revision, 4);
	r.limit = 0;
	ck_assert_int_eq(mt_range(&r, &res), 0);
	ck_assert_int_eq(res.nkvs, 5);
	ck_assert_int_eq(res.more, 0);
	r = rq("k", "l");
	r.min_create_revision = 10;
	ck_assert_int_eq(mt_range(&r, &res), 0);
	ck_assert_int_eq(res.nkvs, 2); /* k8 (10), k9 (11) */
	r.min_create_revision = 0;
	r.max_create_revision = 3;
	ck_assert_int_eq(mt_range(&r, &res), 0);
	ck_assert_int_eq(res.nkvs, 2); /* k0 (2), k1 (3) */
	ck_assert_int_eq(res.count, 10);
	mvcc_range_res_close(&res);
}
END_TEST

/* A reference sort: insertion sort (stable), as Go's sort.Sort does below
 * 13 elements; descending reverses Less only. */
static int ref_less(const struct mvcc_kv *a, const struct mvcc_kv *b, int target)
{
	size_t n;
	int c;

	switch (target) {
	case MVCC_SORT_KEY:
		n = a->key_len < b->key_len ? a->key_len : b->key_len;
		c = memcmp(a->key, b->key, n);
		return c < 0 || (c == 0 && a->key_len < b->key_len);
	case MVCC_SORT_VERSION: return a->version < b->version;
	case MVCC_SORT_CREATE: return a->create_revision < b->create_revision;
	case MVCC_SORT_MOD: return a->mod_revision < b->mod_revision;
	default:
		n = a->value_len < b->value_len ? a->value_len : b->value_len;
		c = n ? memcmp(a->value, b->value, n) : 0;
		return c < 0 || (c == 0 && a->value_len < b->value_len);
	}
}

static void ref_sort(struct mvcc_kv *kv, size_t n, int target, int desc)
{
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0; j--) {
			int less = desc ? ref_less(&kv[j - 1], &kv[j], target) : ref_less(&kv[j], &kv[j - 1], target);
			if (!less)
				break;
			struct mvcc_kv t = kv[j];
			kv[j] = kv[j - 1];
			kv[j - 1] = t;
		}
}

START_TEST(test_mvcc_sort)
{
	struct mvcc_range_res all, res;
	struct mvcc_range_req r;
	/* versions, create and mod revisions and values all differ in order,
	 * with ties in version and value */
	static const char *ops[][2] = {
		{ "d", "3" }, { "b", "1" }, { "a", "9" }, { "c", "1" }, { "b", "7" }, { "e", "" },
		{ "d", "5" }, { "b", "2" }, { "a", "9" }, { "f", "0" },
	};

	mvcc_range_res_init(&all);
	mvcc_range_res_init(&res);
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		mt_puts(ops[i][0], ops[i][1]);
	r = rq("a", "z");
	ck_assert_int_eq(mt_range(&r, &all), 0);
	ck_assert_int_eq(all.nkvs, 6);
	for (int target = 0; target <= 4; target++)
		for (int order = 0; order <= 2; order++)
			for (int64_t limit = 0; limit <= 4; limit += 4) {
				struct mvcc_kv exp[6];
				int eff = order == 0 && target != MVCC_SORT_KEY ? MVCC_SORT_ASCEND : order;
				size_t n = 6;

				memcpy(exp, all.kvs, sizeof(exp));
				if (eff != MVCC_SORT_NONE)
					ref_sort(exp, 6, target, eff == MVCC_SORT_DESCEND);
				r = rq("a", "z");
				r.sort_target = target;
				r.sort_order = order;
				r.limit = limit;
				ck_assert_int_eq(mt_range(&r, &res), 0);
				if (limit && (size_t)limit < n)
					n = (size_t)limit;
				ck_assert_int_eq(res.nkvs, n);
				ck_assert_int_eq(res.count, 6);
				ck_assert_int_eq(res.more, limit == 4);
				for (size_t i = 0; i < n; i++)
					ck_assert_msg(res.kvs[i].key_len == 1 && res.kvs[i].key[0] == exp[i].key[0],
					              "target %d order %d limit %lld at %zu: %c != %c", target,
					              order, (long long)limit, i, res.kvs[i].key[0], exp[i].key[0]);
			}
	/* keys_only with a value sort still sorts by value, then drops it */
	r = rq("a", "z");
	r.sort_target = MVCC_SORT_VALUE;
	r.sort_order = MVCC_SORT_DESCEND;
	r.keys_only = 1;
	ck_assert_int_eq(mt_range(&r, &res), 0);
	ck_assert_int_eq(res.kvs[0].key[0], 'a');
	ck_assert_int_eq(res.kvs[5].key[0], 'e');
	ck_assert_int_eq(res.kvs[0].value_len, 0);
	mvcc_range_res_close(&all);
	mvcc_range_res_close(&res);
}
END_TEST

START_TEST(test_mvcc_delete_prev)
{
	DB_TXN *txn;
	const struct mvcc_event *ev;
	size_t nev, first;
	int64_t n;

	mt_puts("p/1", "a");
	mt_puts("p/2", "b");
	mt_puts("p/2", "c");
	mt_puts("q", "d");
	txn = mt_begin();
	ck_assert_int_eq(mvcc_wtxn_begin(mt_m, txn), 0);
	ck_assert_int_eq(mvcc_delete_range(mt_m, "p/", 2, "p0", 2, &n, &first, mt_err, sizeof(mt_err)), 0);
	ck_assert_int_eq(n, 2);
	ev = mvcc_wtxn_events(mt_m, &nev);
	ck_assert_int_eq(nev - first, 2);
	ck_assert(kv_is(&ev[0].prev, "p/1", "a", 2, 2, 1));
	ck_assert(kv_is(&ev[1].prev, "p/2", "c", 3, 4, 2));
	ck_assert(kv_is(&ev[1].kv, "p/2", "", 0, 6, 0));
	ck_assert_int_eq(mvcc_wtxn_end(mt_m, NULL), 0);
	mt_commit(txn);
	ck_assert_int_eq(mt_del("p/", 2, "p0", 2, &n), 6); /* nothing left */
	ck_assert_int_eq(n, 0);
}
END_TEST

static int cmp1(const char *k, const char *e, int target, int result, int64_t num, const char *v)
{
	struct mvcc_cmp c;
	DB_TXN *txn = mt_begin();
	int ok = -1;

	memset(&c, 0, sizeof(c));
	c.key = k;
	c.key_len = strlen(k);
	c.range_end = e;
	c.range_end_len = e ? (e[0] ? strlen(e) : 1) : 0; /* "" is "\0" */
	c.target = target;
	c.result = result;
	c.num = num;
	c.value = v;
	c.value_len = v ? strlen(v) : 0;
	ck_assert_int_eq(mvcc_wtxn_begin(mt_m, txn), 0);
	ck_assert_int_eq(mvcc_compare(mt_m, &c, &ok, mt_err, sizeof(mt_err)), 0);
	ck_assert_int_eq(mvcc_wtxn_end(mt_m, NULL), 0);
	mt_commit(txn);
	int rok = -1;
	ck_assert_int_eq(mvcc_read_compare(mt_m, 0, &c, &rok, mt_err, sizeof(mt_err)), 0);
	ck_assert_int_eq(ok, rok);
	return ok;
}

START_TEST(test_mvcc_compare)
{
	mt_puts("a", "x");     /* 2 */
	mt_puts("b", "y");     /* 3 */
	mt_puts("b", "z");     /* 4 */
	mt_put("c", 1, "w", 1, 5); /* 5 */
	ck_assert(cmp1("a", NULL, MVCC_CMP_VALUE, MVCC_CMP_EQUAL, 0, "x"));
	ck_assert(!cmp1("a", NULL, MVCC_CMP_VALUE, MVCC_CMP_NOT_EQUAL, 0, "x"));
	ck_assert(cmp1("a", NULL, MVCC_CMP_VALUE, MVCC_CMP_GREATER, 0, ""));
	ck_assert(cmp1("a", NULL, MVCC_CMP_VALUE, MVCC_CMP_LESS, 0, "xa"));
	ck_assert(cmp1("b", NULL, MVCC_CMP_VERSION, MVCC_CMP_EQUAL, 2, NULL));
	ck_assert(cmp1("b", NULL, MVCC_CMP_CREATE, MVCC_CMP_EQUAL, 3, NULL));
	ck_assert(cmp1("b", NULL, MVCC_CMP_MOD, MVCC_CMP_GREATER, 3, NULL));
	ck_assert(cmp1("c", NULL, MVCC_CMP_LEASE, MVCC_CMP_EQUAL, 5, NULL));
	ck_assert(cmp1("a", NULL, MVCC_CMP_LEASE, MVCC_CMP_EQUAL, 0, NULL));
	/* missing key: a zero kv, but VALUE always fails */
	ck_assert(cmp1("nope", NULL, MVCC_CMP_VERSION, MVCC_CMP_EQUAL, 0, NULL));
	ck_assert(cmp1("nope", NULL, MVCC_CMP_CREATE, MVCC_CMP_LESS, 1, NULL));
	ck_assert(!cmp1("nope", NULL, MVCC_CMP_VALUE, MVCC_CMP_EQUAL, 0, ""));
	ck_assert(!cmp1("nope", NULL, MVCC_CMP_VALUE, MVCC_CMP_NOT_EQUAL, 0, "q"));
	/* ranges: every key must satisfy */
	ck_assert(cmp1("a", "d", MVCC_CMP_VERSION, MVCC_CMP_GREATER, 0, NULL));
	ck_assert(!cmp1("a", "d", MVCC_CMP_VERSION, MVCC_CMP_EQUAL, 1, NULL));
	ck_assert(cmp1("a", "b", MVCC_CMP_VERSION, MVCC_CMP_EQUAL, 1, NULL));
	ck_assert(cmp1("a", "\0", MVCC_CMP_MOD, MVCC_CMP_LESS, 6, NULL));
	ck_assert(!cmp1("a", "\0", MVCC_CMP_VALUE, MVCC_CMP_GREATER, 0, "w"));
	ck_assert(cmp1("x", "z", MVCC_CMP_MOD, MVCC_CMP_EQUAL, 0, NULL)); /* empty range */
	/* a compare at an old revision (serializable read-only txn) */
	struct mvcc_cmp c;
	int ok;
	memset(&c, 0, sizeof(c));
	c.key = "b";
	c.key_len = 1;
	c.target = MVCC_CMP_VERSION;
	c.num = 1;
	ck_assert_int_eq(mvcc_read_compare(mt_m, 3, &c, &ok, mt_err, sizeof(mt_err)), 0);
	ck_assert(ok);
	ck_assert_int_eq(mvcc_read_compare(mt_m, 9, &c, &ok, mt_err, sizeof(mt_err)), MVCC_ERR_FUTURE_REV);
}
END_TEST

/* snapshot_all: every key at every revision from..to, as a string. */
static void snapshot_all(int64_t from, int64_t to, struct buf *out)
{
	struct mvcc_range_res res;
	struct mvcc_range_req r = rq("", "\0");
	char line[128];

	mvcc_range_res_init(&res);
	buf_reset(out);
	for (int64_t rev = from; rev <= to; rev++) {
		r.revision = rev;
		ck_assert_msg(mt_range(&r, &res) == 0, "rev %lld: %s", (long long)rev, mt_err);
		for (size_t i = 0; i < res.nkvs; i++) {
			const struct mvcc_kv *kv = &res.kvs[i];
			snprintf(line, sizeof(line), "%lld %.*s=%.*s c%lld m%lld v%lld l%lld\n", (long long)rev,
			         (int)kv->key_len, kv->key, (int)kv->value_len, kv->value,
			         (long long)kv->create_revision, (long long)kv->mod_revision,
			         (long long)kv->version, (long long)kv->lease);
			buf_put(out, line, strlen(line));
		}
	}
	mvcc_range_res_close(&res);
}

static void compact(int64_t rev, int expect)
{
	DB_TXN *txn = mt_begin();

	ck_assert_int_eq(mvcc_compact(mt_m, txn, rev, mt_err, sizeof(mt_err)), expect);
	mt_commit(txn);
}

/* compact_all runs the physical removal in steps of budget. */
static int compact_all(size_t budget)
{
	int done = 0, steps = 0;

	while (!done) {
		DB_TXN *txn = mt_begin();
		ck_assert_msg(mvcc_compact_step(mt_m, txn, budget, &done, mt_err, sizeof(mt_err)) == 0, "%s", mt_err);
		mt_commit(txn);
		ck_assert_int_lt(++steps, 100000);
	}
	return steps;
}

START_TEST(test_mvcc_compaction)
{
	struct mvcc_range_res res;
	struct mvcc_range_req r = rq("a", NULL);
	struct mvcc_state st;
	struct buf before, after;
	int64_t n;

	mvcc_range_res_init(&res);
	buf_init(&before);
	buf_init(&after);
	mt_puts("a", "1");          /* 2 */
	mt_puts("a", "2");          /* 3 */
	mt_puts("b", "1");          /* 4 */
	mt_del("b", 1, NULL, 0, &n); /* 5 */
	mt_puts("a", "3");          /* 6 */
	mt_puts("c", "1");          /* 7 */
	mt_del("c", 1, NULL, 0, &n); /* 8 */
	mt_puts("c", "2");          /* 9 */
	mt_puts("d", "1");          /* 10 */
	compact(11, MVCC_ERR_FUTURE_REV);
	ck_assert_str_eq(mt_err, "mvcc: required revision is a future revision");
	ck_assert_int_eq(mt_db_records(MVCC_REV_FILE), 9);
	snapshot_all(6, 10, &before);
	compact(6, 0);
	compact(6, MVCC_ERR_COMPACTED);
	ck_assert_str_eq(mt_err, "mvcc: required revision has been compacted");
	compact(5, MVCC_ERR_COMPACTED);
	/* logically compacted, physically not yet */
	r.revision = 5;
	ck_assert_int_eq(mt_range(&r, &res), MVCC_ERR_COMPACTED);
	ck_assert_str_eq(mt_err, "mvcc: required revision has been compacted");
	r.revision = 6; /* reading at the compacted revision itself works */
	ck_assert_int_eq(mt_range(&r, &res), 0);
	ck_assert(kv_is(&res.kvs[0], "a", "3", 2, 6, 3));
	ck_assert_int_eq(mvcc_revisions(mt_m, &st, mt_err, sizeof(mt_err)), 0);
	ck_assert_int_eq(st.compacted, 6);
	ck_assert_int_eq(st.finished, -1);
	ck_assert_int_eq(st.current, 10);
	ck_assert_int_gt(compact_all(2), 1);
	ck_assert_int_eq(mvcc_revisions(mt_m, &st, mt_err, sizeof(mt_err)), 0);
	ck_assert_int_eq(st.finished, 6);
	/* kept: a@6, c@7..9, d@10 (b's tombstone 5 and its put 4, a@2,3 gone) */
	ck_assert_int_eq(mt_db_records(MVCC_REV_FILE), 5);
	ck_assert_int_eq(mt_db_records(MVCC_KEY_FILE), 5);
	snapshot_all(6, 10, &after);
	ck_assert_int_eq(before.len, after.len);
	ck_assert(memcmp(before.data, after.data, before.len) == 0);
	/* compaction at the newest revision removes the tombstone c@8 too */
	compact(10, 0);
	ck_assert_int_eq(compact_all(1000), 1);
	ck_assert_int_eq(mt_db_records(MVCC_REV_FILE), 3);
	ck_assert_int_eq(mt_db_records(MVCC_KEY_FILE), 3);
	ck_assert_int_eq(mvcc_key_count(mt_m, &n, mt_err, sizeof(mt_err)), 0);
	ck_assert_int_eq(n, 3);
	/* a compaction interrupted by a restart resumes */
	mt_puts("d", "2");
	mt_puts("d", "3");
	compact(12, 0);
	DB_TXN *txn = mt_begin();
	int done;
	ck_assert_int_eq(mvcc_compact_step(mt_m, txn, 2, &done, mt_err, sizeof(mt_err)), 0);
	ck_assert(!done);
	mt_commit(txn);
	mt_reopen();
	compact_all(2);
	ck_assert_int_eq(mt_db_records(MVCC_REV_FILE), 3);
	r = rq("d", NULL);
	ck_assert(get1("d", 12, &res) && kv_is(&res.kvs[0], "d", "3", 10, 12, 3));
	mvcc_range_res_close(&res);
	buf_close(&before);
	buf_close(&after);
}
END_TEST

START_TEST(test_mvcc_events)
{
	struct mvcc_events_res ev;
	int64_t n;

	mvcc_events_res_init(&ev);
	mt_puts("a", "1");           /* 2 */
	mt_puts("b", "1");           /* 3 */
	mt_puts("a", "2");           /* 4 */
	mt_del("a", 1, NULL, 0, &n); /* 5 */
	mt_puts("c", "1");           /* 6 */
	ck_assert_int_eq(mvcc_events(mt_m, "a", 1, NULL, 0, 3, 0, 0, 1, &ev, mt_err, sizeof(mt_err)), 0);
	ck_assert_int_eq(ev.n, 2);
	ck_assert_int_eq(ev.evs[0].type, MVCC_EV_PUT);
	ck_assert(kv_is(&ev.evs[0].kv, "a", "2", 2, 4, 2));
	ck_assert(ev.evs[0].has_prev && kv_is(&ev.evs[0].prev, "a", "1", 2, 2, 1));
	ck_assert_int_eq(ev.evs[1].type, MVCC_EV_DELETE);
	ck_assert(kv_is(&ev.evs[1].kv, "a", "", 0, 5, 0));
	ck_assert(ev.evs[1].has_prev && kv_is(&ev.evs[1].prev, "a", "2", 2, 4, 2));
	ck_assert_int_eq(ev.next, 7);
	ck_assert_int_eq(ev.rev, 6);
	/* all keys, bounded, limited */
	ck_assert_int_eq(mvcc_events(mt_m, "", 0, "\0", 1, 1, 5, 2, 0, &ev, mt_err, sizeof(mt_err)), 0);
	ck_assert_int_eq(ev.n, 2);
	ck_assert_int_eq(ev.next, 4);
	ck_assert(!ev.evs[0].has_prev);
	ck_assert_int_eq(mvcc_events(mt_m, "", 0, "\0", 1, ev.next, 5, 2, 0, &ev, mt_err, sizeof(mt_err)), 0);
	ck_assert_int_eq(ev.n, 2);
	ck_assert_int_eq(ev.next, 6);
	ck_assert_int_eq(mvcc_events(mt_m, "b", 1, "d", 1, 1, 0, 0, 0, &ev, mt_err, sizeof(mt_err)), 0);
	ck_assert_int_eq(ev.n, 2);
	ck_assert_int_eq(ev.evs[1].kv.mod_revision, 6);
	compact(4, 0);
	ck_assert_int_eq(mvcc_events(mt_m, "a", 1, NULL, 0, 3, 0, 0, 1, &ev, mt_err, sizeof(mt_err)),
	                 MVCC_ERR_COMPACTED);
	ck_assert_int_eq(mvcc_events(mt_m, "a", 1, NULL, 0, 4, 0, 0, 1, &ev, mt_err, sizeof(mt_err)), 0);
	ck_assert_int_eq(ev.n, 2);
	ck_assert(!ev.evs[0].has_prev); /* its prev (revision 3) is compacted */
	ck_assert(ev.evs[1].has_prev);
	compact_all(1000);
	ck_assert_int_eq(mvcc_events(mt_m, "a", 1, NULL, 0, 4, 0, 0, 1, &ev, mt_err, sizeof(mt_err)), 0);
	ck_assert_int_eq(ev.n, 2);
	mvcc_events_res_close(&ev);
}
END_TEST

static uint32_t hashkv(int64_t rev, int expect)
{
	uint32_t h = 0;
	int64_t cur, comp;

	ck_assert_int_eq(mvcc_hash_kv(mt_m, rev, &h, &cur, &comp, mt_err, sizeof(mt_err)), expect);
	return h;
}

/* The same history as given to etcd 3.4.23, with the HashKV values it
 * reported (etcdctl endpoint hashkv --rev). */
START_TEST(test_mvcc_hash)
{
	int64_t n;
	uint32_t h1, h2;

	mt_puts("foo", "bar");                            /* 2 */
	mt_puts("foo", "baz");                            /* 3 */
	mt_puts("a", "1");                                /* 4 */
	mt_del("a", 1, NULL, 0, &n);                      /* 5 */
	mt_puts("b", "2");                                /* 6 */
	mt_puts("foo", "qux");                            /* 7 */
	ck_assert_uint_eq(hashkv(0, 0), 3237427751u);
	ck_assert_uint_eq(hashkv(2, 0), 3305255506u);
	ck_assert_uint_eq(hashkv(3, 0), 2020292994u);
	ck_assert_uint_eq(hashkv(4, 0), 3093655596u);
	ck_assert_uint_eq(hashkv(5, 0), 1832146948u);
	ck_assert_uint_eq(hashkv(6, 0), 3231996909u);
	ck_assert_uint_eq(hashkv(7, 0), 3237427751u);
	hashkv(8, MVCC_ERR_FUTURE_REV);
	mt_put("l", 1, "v", 1, 4111120216436470027LL);    /* 8 */
	mt_del("foo", 3, NULL, 0, &n);                    /* 9 */
	compact(5, 0);
	hashkv(5, MVCC_ERR_COMPACTED);
	for (int pass = 0; pass < 2; pass++) { /* before and after the removal */
		ck_assert_uint_eq(hashkv(0, 0), 3055439408u);
		ck_assert_uint_eq(hashkv(6, 0), 2711702469u);
		ck_assert_uint_eq(hashkv(7, 0), 1558185213u);
		ck_assert_uint_eq(hashkv(8, 0), 4041296804u);
		ck_assert_uint_eq(hashkv(9, 0), 3055439408u);
		compact_all(3);
	}
	mt_put("z\x01", 2, "w", 1, 0);                    /* 10 */
	compact(9, 0);
	ck_assert_uint_eq(hashkv(0, 0), 3394609838u);
	compact_all(1000);
	ck_assert_uint_eq(hashkv(10, 0), 3394609838u);
	/* the whole-store hash moves with any change and survives a reopen */
	ck_assert_int_eq(mvcc_hash(mt_m, &h1, mt_err, sizeof(mt_err)), 0);
	mt_reopen();
	ck_assert_int_eq(mvcc_hash(mt_m, &h2, mt_err, sizeof(mt_err)), 0);
	ck_assert_uint_eq(h1, h2);
	mt_puts("y", "1");
	ck_assert_int_eq(mvcc_hash(mt_m, &h2, mt_err, sizeof(mt_err)), 0);
	ck_assert_uint_ne(h1, h2);
}
END_TEST

/* The mvcc databases travel in database snapshots. */
START_TEST(test_mvcc_snapshot)
{
	char path[128], dir2[128], cmd[300];
	struct mvcc_range_res res;
	struct mvcc_state st;
	DB_ENV *env2 = NULL;
	struct mvcc *m2 = NULL;
	uint32_t h1, h2;
	int64_t n;

	mvcc_range_res_init(&res);
	mt_puts("a", "1");
	mt_puts("a", "2");
	mt_del("a", 1, NULL, 0, &n);
	mt_puts("b\x00", "3");
	compact(3, 0);
	ck_assert_int_eq(mvcc_hash(mt_m, &h1, mt_err, sizeof(mt_err)), 0);
	snprintf(path, sizeof(path), "%s/snap.db", dir);
	snprintf(dir2, sizeof(dir2), "%s/restored", dir);
	ck_assert_msg(store_snap_save(mt_env, path, NULL, mt_err, sizeof(mt_err)) == 0, "%s", mt_err);
	ck_assert_msg(store_snap_restore(path, dir2, NULL, mt_err, sizeof(mt_err)) == 0, "%s", mt_err);
	ck_assert_msg(store_env_open(&env2, dir2, 1, mt_err, sizeof(mt_err)) == 0, "%s", mt_err);
	ck_assert_msg(mvcc_open(&m2, env2, 0, mt_err, sizeof(mt_err)) == 0, "%s", mt_err);
	ck_assert_int_eq(mvcc_hash(m2, &h2, mt_err, sizeof(mt_err)), 0);
	ck_assert_uint_eq(h1, h2);
	ck_assert_int_eq(mvcc_revisions(m2, &st, mt_err, sizeof(mt_err)), 0);
	ck_assert_int_eq(st.current, 5);
	ck_assert_int_eq(st.compacted, 3);
	struct mvcc_range_req r = rq("a", NULL);
	r.revision = 3;
	ck_assert_int_eq(mvcc_range(m2, &r, &res, mt_err, sizeof(mt_err)), 0);
	ck_assert(res.nkvs == 1 && kv_is(&res.kvs[0], "a", "2", 2, 3, 2));
	mvcc_free(m2);
	store_env_close(env2);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", dir2, path);
	ck_assert_int_eq(system(cmd), 0);
	mvcc_range_res_close(&res);
}
END_TEST

/* A reader in another process sees whole write transactions only: every
 * transaction sets all of k0..k9 to one value, and every Range of them,
 * read-committed and racing the writer and a compaction, gets ten equal
 * values at one revision. */
START_TEST(test_mvcc_concurrent_reader)
{
	pid_t pid;
	int status, rounds = 300;

	mt_puts("k0", "x"); /* the files exist before the reader joins */
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		DB_ENV *env = NULL;
		struct mvcc *m = NULL;
		struct mvcc_range_res res;
		struct mvcc_range_req r = rq("k", "l");
		int bad = 0, reads = 0, again = 0;
		/* the parent's handles are not used here (opened anew) */
		if (store_env_open(&env, dir, 0, mt_err, sizeof(mt_err)) != 0 ||
		    mvcc_open(&m, env, 0, mt_err, sizeof(mt_err)) != 0)
			_exit(3);
		mvcc_range_res_init(&res);
		for (int i = 0; i < 3000 && !bad; i++) {
			int rc = mvcc_range(m, &r, &res, mt_err, sizeof(mt_err));
			if (rc == CE_AGAIN) {
				again++;
				continue;
			}
			if (rc != 0) {
				fprintf(stderr, "reader: %d %s\n", rc, mt_err);
				_exit(4);
			}
			reads++;
			for (size_t j = 1; j < res.nkvs; j++)
				bad |= res.kvs[j].value_len != res.kvs[0].value_len ||
				       memcmp(res.kvs[j].value, res.kvs[0].value, res.kvs[0].value_len) != 0 ||
				       res.kvs[j].mod_revision != res.kvs[0].mod_revision;
		}
		if (getenv("MVCC_VERBOSE"))
			fprintf(stderr, "reader: %d reads, %d lost deadlocks, last at revision %lld\n", reads,
			        again, (long long)res.rev);
		mvcc_range_res_close(&res);
		mvcc_free(m);
		store_env_close(env);
		_exit(bad ? 5 : reads > 0 ? 0 : 6);
	}
	for (int i = 0; i < rounds; i++) {
		DB_TXN *txn = mt_begin();
		char v[16];
		ck_assert_int_eq(mvcc_wtxn_begin(mt_m, txn), 0);
		snprintf(v, sizeof(v), "v%d", i);
		for (int j = 0; j < 10; j++) {
			char k[4] = { 'k', (char)('0' + j), 0, 0 };
			struct mvcc_put_req p = { k, 2, v, strlen(v), 0, 0, 0 };
			ck_assert_int_eq(mvcc_put(mt_m, &p, NULL, mt_err, sizeof(mt_err)), 0);
		}
		ck_assert_int_eq(mvcc_wtxn_end(mt_m, NULL), 0);
		if (i % 50 == 49) {
			int done = 0;
			ck_assert_int_eq(mvcc_compact(mt_m, txn, mvcc_wtxn_rev(mt_m) - 1, mt_err, sizeof(mt_err)), 0);
			while (!done)
				ck_assert_int_eq(mvcc_compact_step(mt_m, txn, 50, &done, mt_err, sizeof(mt_err)), 0);
		}
		mt_commit(txn);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "reader exit %d", WEXITSTATUS(status));
}
END_TEST

Suite *suite_mvcc(void)
{
	Suite *s = suite_create("mvcc");
	TCase *tc = tcase_create("mvcc");

	tcase_add_checked_fixture(tc, mt_setup, mt_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_mvcc_versions);
	tcase_add_test(tc, test_mvcc_wtxn);
	tcase_add_test(tc, test_mvcc_put_options);
	tcase_add_test(tc, test_mvcc_range_forms);
	tcase_add_test(tc, test_mvcc_limit_count);
	tcase_add_test(tc, test_mvcc_sort);
	tcase_add_test(tc, test_mvcc_delete_prev);
	tcase_add_test(tc, test_mvcc_compare);
	tcase_add_test(tc, test_mvcc_compaction);
	tcase_add_test(tc, test_mvcc_events);
	tcase_add_test(tc, test_mvcc_hash);
	tcase_add_test(tc, test_mvcc_snapshot);
	tcase_add_test(tc, test_mvcc_concurrent_reader);
	suite_add_tcase(s, tc);
	return s;
}
