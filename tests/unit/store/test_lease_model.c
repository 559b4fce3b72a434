/* test_lease_model.c - a randomized test of the leases against a plain
 * model (arrays and linear scans, written from etcd's lessor rules): grants,
 * revokes, key moves and deletes, checkpoints, promotions and demotions,
 * keepalives, expiry and checkpoint queries on a virtual clock, commits,
 * aborted batches (lease_reload) and reopens. After every step the
 * writer's memory is compared with the model; after every commit, what a
 * reader sees too. The seed is printed; LEASE_SEED=<n> replays one.
 */
#include "config.h"
#include "store_test.h"

#include "store/env.h"
#include "store/lease.h"
#include "util/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NID 24   /* lease ids 1..NID */
#define NKEY 12  /* keys "k00".."k11" */
#define MIN_TTL 2
#define CKPT_MS 2000
#define RETRY_MS 3000
#define NEVER LEASE_FOREVER

struct mlease {
	int exists;
	int64_t ttl, remaining, deadline, notify, ckpt;
};

struct model {
	struct mlease l[NID + 1];
	int64_t key_lease[NKEY];
	int primary;
};

static uint64_t rng;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int64_t pick(int64_t lo, int64_t hi)
{
	return lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1));
}

static int64_t m_eff(const struct mlease *e)
{
	return e->remaining > 0 ? e->remaining : e->ttl;
}

static void m_sched(struct model *m, struct mlease *e, int64_t now, int ckpting)
{
	if (ckpting && m_eff(e) > CKPT_MS / 1000)
		e->ckpt = now + CKPT_MS;
}

static void m_demote(struct model *m)
{
	for (int i = 1; i <= NID; i++)
		m->l[i].deadline = m->l[i].notify = m->l[i].ckpt = NEVER;
	m->primary = 0;
}

/* m_min finds the lease with the smallest (field, id) below NEVER. */
static int m_min(struct model *m, int ckpt)
{
	int best = 0;

	for (int i = 1; i <= NID; i++) {
		int64_t t;

		if (!m->l[i].exists)
			continue;
		t = ckpt ? m->l[i].ckpt : m->l[i].notify;
		if (t == NEVER)
			continue;
		if (best == 0 || t < (ckpt ? m->l[best].ckpt : m->l[best].notify))
			best = i;
	}
	return best;
}

struct run {
	char dir[64];
	DB_ENV *env;
	struct lease *w, *r;
	struct lease_cfg cfg;
	DB_TXN *txn;
	struct model m, committed;
	int64_t now;
	char err[256];
};

static DB_TXN *tx(struct run *r)
{
	if (r->txn == NULL)
		ck_assert_int_eq(r->env->txn_begin(r->env, NULL, &r->txn, 0), 0);
	return r->txn;
}

static void key_name(char out[4], int k)
{
	snprintf(out, 4, "k%02d", k);
}

/* check_memory compares the writer's memory with the model. */
static void check_memory(struct run *r)
{
	int64_t wake = NEVER;

	ck_assert_int_eq(lease_is_primary(r->w), r->m.primary);
	for (int i = 1; i <= NID; i++) {
		struct lease_status st;
		const struct mlease *e = &r->m.l[i];
		int rc = lease_time_to_live(r->w, i, r->now, &st);

		ck_assert_int_eq(lease_exists(r->w, i), e->exists);
		if (!e->exists) {
			ck_assert_int_eq(rc, LEASE_ERR_NOT_FOUND);
			continue;
		}
		ck_assert_int_eq(rc, 0);
		ck_assert_int_eq(st.granted_ttl, e->ttl);
		ck_assert_int_eq(st.remaining_ttl, e->remaining);
		ck_assert_int_eq(st.deadline_ms, e->deadline);
		if (e->notify < wake)
			wake = e->notify;
		if (r->cfg.checkpointing && e->ckpt < wake)
			wake = e->ckpt;
	}
	ck_assert_int_eq(lease_next_wakeup(r->w), (r->m.primary ? wake : NEVER));
}

/* check_reader compares what a reader sees (committed state). */
static void check_reader(struct run *r)
{
	int64_t *ids;
	size_t n, j = 0;
	struct lease_keys k;

	ck_assert_int_eq(lease_list(r->r, &ids, &n, r->err, sizeof(r->err)), 0);
	lease_keys_init(&k);
	for (int i = 1; i <= NID; i++) {
		struct lease_info info;
		int rc = lease_get(r->r, i, &info, &k, r->err, sizeof(r->err));
		size_t nk = 0;

		if (!r->m.l[i].exists) {
			ck_assert_int_eq(rc, LEASE_ERR_NOT_FOUND);
			continue;
		}
		ck_assert_int_eq(rc, 0);
		ck_assert(j < n && ids[j] == i);
		j++;
		ck_assert_int_eq(info.ttl, r->m.l[i].ttl);
		ck_assert_int_eq(info.remaining_ttl, r->m.l[i].remaining);
		for (int kk = 0; kk < NKEY; kk++) {
			char name[4];
			size_t len;
			const uint8_t *p;

			if (r->m.key_lease[kk] != i)
				continue;
			ck_assert_uint_lt(nk, k.n);
			key_name(name, kk);
			p = lease_keys_at(&k, nk++, &len);
			ck_assert(len == 3 && memcmp(p, name, 3) == 0);
		}
		ck_assert_uint_eq(nk, k.n);
	}
	ck_assert_uint_eq(j, n);
	lease_keys_close(&k);
	free(ids);
}

static void op_grant(struct run *r)
{
	int64_t id = pick(0, 12) == 0 ? 0 : pick(1, NID), ttl = pick(-1, 30), g;
	int want = 0, rc;
	struct mlease *e = &r->m.l[id];

	if (pick(0, 30) == 0)
		ttl = LEASE_MAX_TTL + pick(0, 1);
	if (id == 0)
		want = LEASE_ERR_NOT_FOUND;
	else if (ttl > LEASE_MAX_TTL)
		want = LEASE_ERR_TTL_TOO_BIG;
	else if (e->exists)
		want = LEASE_ERR_EXISTS;
	rc = lease_grant(r->w, tx(r), id, ttl, r->now, &g, r->err, sizeof(r->err));
	ck_assert_int_eq(rc, want);
	if (want) {
		ck_assert_str_eq(r->err, lease_err_str(want));
		return;
	}
	if (ttl < MIN_TTL)
		ttl = MIN_TTL;
	ck_assert_int_eq(g, ttl);
	memset(e, 0, sizeof(*e));
	e->exists = 1;
	e->ttl = ttl;
	e->deadline = e->notify = e->ckpt = NEVER;
	if (r->m.primary) {
		e->deadline = e->notify = r->now + ttl * 1000;
		m_sched(&r->m, e, r->now, r->cfg.checkpointing);
	}
}

static void op_revoke(struct run *r)
{
	int64_t id = pick(1, NID);
	struct lease_keys k;
	int rc;
	size_t nk = 0;

	lease_keys_init(&k);
	rc = lease_revoke(r->w, tx(r), id, &k, r->err, sizeof(r->err));
	if (!r->m.l[id].exists) {
		ck_assert_int_eq(rc, LEASE_ERR_NOT_FOUND);
		lease_keys_close(&k);
		return;
	}
	ck_assert_int_eq(rc, 0);
	for (int kk = 0; kk < NKEY; kk++) {
		char name[4];
		size_t len;
		const uint8_t *p;

		if (r->m.key_lease[kk] != id)
			continue;
		key_name(name, kk);
		ck_assert_uint_lt(nk, k.n);
		p = lease_keys_at(&k, nk++, &len);
		ck_assert(len == 3 && memcmp(p, name, 3) == 0);
		/* the caller deletes the key through mvcc: a delete detaches */
		ck_assert_int_eq(lease_detach(r->w, tx(r), id, name, 3, r->err, sizeof(r->err)), 0);
		r->m.key_lease[kk] = 0;
	}
	ck_assert_uint_eq(nk, k.n);
	lease_keys_close(&k);
	memset(&r->m.l[id], 0, sizeof(r->m.l[id]));
	r->m.l[id].deadline = r->m.l[id].notify = r->m.l[id].ckpt = NEVER;
}

static void op_put(struct run *r)
{
	int kk = (int)pick(0, NKEY - 1);
	int64_t nid = pick(0, 3) == 0 ? 0 : pick(1, NID), old = r->m.key_lease[kk];
	char name[4];
	int rc;

	key_name(name, kk);
	rc = lease_move(r->w, tx(r), old, nid, name, 3, r->err, sizeof(r->err));
	if (nid != 0 && !r->m.l[nid].exists) {
		ck_assert_int_eq(rc, LEASE_ERR_NOT_FOUND);
		return;
	}
	ck_assert_int_eq(rc, 0);
	r->m.key_lease[kk] = nid;
}

static void op_delete(struct run *r)
{
	int kk = (int)pick(0, NKEY - 1);
	char name[4];

	key_name(name, kk);
	ck_assert_int_eq(lease_detach(r->w, tx(r), r->m.key_lease[kk], name, 3, r->err, sizeof(r->err)), 0);
	r->m.key_lease[kk] = 0;
}

static void op_checkpoint(struct run *r)
{
	int64_t id = pick(1, NID), rem = pick(0, 30);
	struct mlease *e = &r->m.l[id];

	ck_assert_int_eq(lease_checkpoint(r->w, tx(r), id, rem, r->now, r->err, sizeof(r->err)), 0);
	if (!e->exists)
		return;
	e->remaining = rem;
	if (r->m.primary)
		m_sched(&r->m, e, r->now, r->cfg.checkpointing);
}

static void op_promote(struct run *r)
{
	int64_t extend = pick(0, 2000);

	if (r->m.primary) {
		lease_demote(r->w);
		m_demote(&r->m);
		return;
	}
	lease_promote(r->w, r->now, extend);
	r->m.primary = 1;
	for (int i = 1; i <= NID; i++) {
		struct mlease *e = &r->m.l[i];

		if (!e->exists)
			continue;
		e->deadline = e->notify = r->now + extend + m_eff(e) * 1000;
		m_sched(&r->m, e, r->now, r->cfg.checkpointing);
	}
}

static void op_renew(struct run *r)
{
	int64_t id = pick(1, NID), ttl;
	struct mlease *e = &r->m.l[id];
	int clear, want = 0;

	if (!r->m.primary)
		want = LEASE_ERR_NOT_PRIMARY;
	else if (!e->exists)
		want = LEASE_ERR_NOT_FOUND;
	else if (e->deadline <= r->now)
		want = LEASE_ERR_EXPIRED;
	ck_assert_int_eq(lease_renew(r->w, id, r->now, &ttl, &clear), want);
	if (want)
		return;
	ck_assert_int_eq(ttl, e->ttl);
	ck_assert_int_eq(clear, r->cfg.checkpointing && e->remaining > 0);
	e->deadline = e->notify = r->now + e->ttl * 1000;
}

static void op_expired(struct run *r)
{
	int64_t got[8], want[8];
	size_t max = (size_t)pick(1, 8), n = 0, g;

	g = lease_expired(r->w, r->now, got, max);
	while (r->m.primary && n < max) {
		int i = m_min(&r->m, 0);
		struct mlease *e = &r->m.l[i];

		if (i == 0 || e->notify > r->now)
			break;
		if (e->deadline > r->now) {
			e->notify = e->deadline;
			continue;
		}
		want[n++] = i;
		e->notify = r->now + RETRY_MS;
	}
	ck_assert_uint_eq(g, n);
	for (size_t i = 0; i < n; i++)
		ck_assert_int_eq(got[i], want[i]);
}

static void op_ckpt_due(struct run *r)
{
	struct lease_ckpt got[8];
	size_t max = (size_t)pick(1, 8), n = 0, g;

	g = lease_checkpoints_due(r->w, r->now, got, max);
	while (r->m.primary && r->cfg.checkpointing && n < max) {
		int i = m_min(&r->m, 1);
		struct mlease *e = &r->m.l[i];
		int64_t left;

		if (i == 0 || e->ckpt > r->now)
			break;
		e->ckpt = NEVER;
		if (e->deadline <= r->now)
			continue;
		left = (e->deadline - r->now + 999) / 1000;
		if (left >= e->ttl)
			continue;
		ck_assert_uint_lt(n, g);
		ck_assert_int_eq(got[n].id, i);
		ck_assert_int_eq(got[n].remaining_ttl, left);
		n++;
	}
	ck_assert_uint_eq(g, n);
}

static void commit(struct run *r)
{
	if (r->txn)
		ck_assert_int_eq(r->txn->commit(r->txn, 0), 0);
	r->txn = NULL;
	r->committed = r->m;
	check_reader(r);
}

static void abort_batch(struct run *r)
{
	if (r->txn)
		r->txn->abort(r->txn);
	r->txn = NULL;
	ck_assert_int_eq(lease_reload(r->w, r->err, sizeof(r->err)), 0);
	r->m = r->committed;
	m_demote(&r->m);
}

static void reopen(struct run *r)
{
	commit(r);
	lease_free(r->w);
	lease_free(r->r);
	ck_assert_int_eq(lease_open(&r->w, r->env, 1, &r->cfg, r->err, sizeof(r->err)), 0);
	ck_assert_int_eq(lease_open(&r->r, r->env, 0, NULL, r->err, sizeof(r->err)), 0);
	m_demote(&r->m);
	r->committed = r->m;
}

static void run_model(uint64_t seed, int checkpointing, int steps)
{
	struct run r;
	char cmd[128];

	memset(&r, 0, sizeof(r));
	rng = seed ? seed : 1;
	strcpy(r.dir, "/tmp/cetcd-leasem-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(r.dir));
	ck_assert_int_eq(store_env_open(&r.env, r.dir, 1, r.err, sizeof(r.err)), 0);
	lease_cfg_init(&r.cfg, 100, 1000);
	r.cfg.checkpointing = checkpointing;
	r.cfg.checkpoint_ms = CKPT_MS;
	r.cfg.retry_ms = RETRY_MS;
	ck_assert_int_eq(r.cfg.min_ttl, MIN_TTL);
	ck_assert_int_eq(lease_open(&r.w, r.env, 1, &r.cfg, r.err, sizeof(r.err)), 0);
	ck_assert_int_eq(lease_open(&r.r, r.env, 0, NULL, r.err, sizeof(r.err)), 0);
	m_demote(&r.m);
	r.committed = r.m;
	r.now = 1000000;
	for (int step = 0; step < steps; step++) {
		int64_t c = pick(0, 99);

		if (c < 14)
			op_grant(&r);
		else if (c < 20)
			op_revoke(&r);
		else if (c < 34)
			op_put(&r);
		else if (c < 40)
			op_delete(&r);
		else if (c < 48)
			op_checkpoint(&r);
		else if (c < 52)
			op_promote(&r);
		else if (c < 62)
			op_renew(&r);
		else if (c < 72)
			op_expired(&r);
		else if (c < 80)
			op_ckpt_due(&r);
		else if (c < 92)
			r.now += pick(0, 3000);
		else if (c < 98)
			commit(&r);
		else if (c < 99)
			abort_batch(&r);
		else
			reopen(&r);
		check_memory(&r);
	}
	commit(&r);
	lease_free(r.w);
	lease_free(r.r);
	store_env_close(r.env);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", r.dir);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(test_lease_model)
{
	const char *env_seed = getenv("LEASE_SEED");
	uint64_t seed = env_seed ? strtoull(env_seed, NULL, 10) : (uint64_t)time(NULL) * 2654435761u;

	printf("test_lease_model: seed %llu (LEASE_SEED=%llu to replay)\n", (unsigned long long)seed,
	       (unsigned long long)seed);
	fflush(stdout);
	for (int i = 0; i < 4; i++)
		run_model(seed + (uint64_t)i, i % 2, 4000);
}
END_TEST

Suite *suite_lease_model(void)
{
	Suite *s = suite_create("lease_model");
	TCase *tc = tcase_create("model");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_lease_model);
	suite_add_tcase(s, tc);
	return s;
}
