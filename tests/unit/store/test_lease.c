/* test_lease.c - v3 leases: grant/revoke with keys, attachments, etcd's
 * errors and TTL limits, expiry on a virtual clock, promotion from
 * checkpoints, checkpoint scheduling, persistence, ids. */
#include "config.h"
#include "store_test.h"

#include "store/env.h"
#include "store/lease.h"
#include "store/snap.h"
#include "util/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A writer and a reader on one environment in a temp dir. */
struct fx {
	char dir[64];
	DB_ENV *env;
	struct lease *w, *r;
	struct lease_cfg cfg;
	DB_TXN *txn;
	char err[256];
};

static void fx_open_leases(struct fx *f)
{
	ck_assert_int_eq(lease_open(&f->w, f->env, 1, &f->cfg, f->err, sizeof(f->err)), 0);
	ck_assert_int_eq(lease_open(&f->r, f->env, 0, NULL, f->err, sizeof(f->err)), 0);
}

static void fx_init(struct fx *f, int checkpointing, int64_t ckpt_ms)
{
	memset(f, 0, sizeof(*f));
	strcpy(f->dir, "/tmp/cetcd-lease-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(f->dir));
	ck_assert_int_eq(store_env_open(&f->env, f->dir, 1, f->err, sizeof(f->err)), 0);
	lease_cfg_init(&f->cfg, 100, 1000);
	f->cfg.checkpointing = checkpointing;
	if (ckpt_ms)
		f->cfg.checkpoint_ms = ckpt_ms;
	f->cfg.retry_ms = 3000;
	fx_open_leases(f);
}

static void fx_close_leases(struct fx *f)
{
	lease_free(f->w);
	lease_free(f->r);
	f->w = f->r = NULL;
}

static void fx_close(struct fx *f)
{
	char cmd[128];

	ck_assert_ptr_null(f->txn);
	fx_close_leases(f);
	store_env_close(f->env);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	ck_assert_int_eq(system(cmd), 0);
}

static DB_TXN *tx(struct fx *f)
{
	if (f->txn == NULL)
		ck_assert_int_eq(f->env->txn_begin(f->env, NULL, &f->txn, 0), 0);
	return f->txn;
}

static void commit(struct fx *f)
{
	if (f->txn)
		ck_assert_int_eq(f->txn->commit(f->txn, 0), 0);
	f->txn = NULL;
}

static void grant(struct fx *f, int64_t id, int64_t ttl, int64_t now)
{
	int64_t g;

	ck_assert_int_eq(lease_grant(f->w, tx(f), id, ttl, now, &g, f->err, sizeof(f->err)), 0);
}

static void attach(struct fx *f, int64_t id, const char *key)
{
	ck_assert_int_eq(lease_attach(f->w, tx(f), id, key, strlen(key), f->err, sizeof(f->err)), 0);
}

/* keys_str joins a key list with commas. */
static const char *keys_str(const struct lease_keys *k, char *out, size_t n)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < k->n; i++) {
		size_t len;
		const uint8_t *p = lease_keys_at(k, i, &len);

		used += (size_t)snprintf(out + used, n - used, "%s%.*s", i ? "," : "", (int)len, p);
	}
	return out;
}

/* reader_keys: the keys a reader sees under id ("-" if no such lease). */
static const char *reader_keys(struct fx *f, int64_t id, char *out, size_t n)
{
	struct lease_info info;
	struct lease_keys k;
	int rc;

	lease_keys_init(&k);
	rc = lease_get(f->r, id, &info, &k, f->err, sizeof(f->err));
	if (rc == LEASE_ERR_NOT_FOUND)
		snprintf(out, n, "-");
	else {
		ck_assert_int_eq(rc, 0);
		keys_str(&k, out, n);
	}
	lease_keys_close(&k);
	return out;
}

START_TEST(test_grant_revoke_keys)
{
	struct fx f;
	struct lease_info info;
	struct lease_keys k;
	int64_t g = 0, *ids;
	size_t n;
	char s[256];

	fx_init(&f, 0, 0);
	ck_assert_int_eq(lease_grant(f.w, tx(&f), 7, 10, 0, &g, f.err, sizeof(f.err)), 0);
	ck_assert_int_eq(g, 10);
	grant(&f, 9, 20, 0);
	attach(&f, 7, "b");
	attach(&f, 7, "a");
	attach(&f, 7, "c");
	attach(&f, 7, "a"); /* again: still one attachment */
	attach(&f, 9, "z");
	commit(&f);

	lease_keys_init(&k);
	ck_assert_int_eq(lease_get(f.r, 7, &info, &k, f.err, sizeof(f.err)), 0);
	ck_assert_int_eq(info.id, 7);
	ck_assert_int_eq(info.ttl, 10);
	ck_assert_int_eq(info.remaining_ttl, 0);
	ck_assert_str_eq(keys_str(&k, s, sizeof(s)), "a,b,c");
	ck_assert_int_eq(lease_get(f.r, 9, &info, NULL, f.err, sizeof(f.err)), 0);
	ck_assert_int_eq(info.ttl, 20);
	ck_assert_int_eq(lease_list(f.r, &ids, &n, f.err, sizeof(f.err)), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(ids[0], 7);
	ck_assert_int_eq(ids[1], 9);
	free(ids);

	ck_assert_int_eq(lease_revoke(f.w, tx(&f), 7, &k, f.err, sizeof(f.err)), 0);
	ck_assert_str_eq(keys_str(&k, s, sizeof(s)), "a,b,c");
	/* The caller deletes these keys; deletes detach (no-op now). */
	ck_assert_int_eq(lease_detach(f.w, tx(&f), 7, "a", 1, f.err, sizeof(f.err)), 0);
	commit(&f);
	ck_assert_int_eq(lease_get(f.r, 7, &info, &k, f.err, sizeof(f.err)), LEASE_ERR_NOT_FOUND);
	ck_assert_str_eq(f.err, "etcdserver: requested lease not found");
	ck_assert_uint_eq(k.n, 0);
	ck_assert_str_eq(reader_keys(&f, 9, s, sizeof(s)), "z");
	ck_assert(!lease_exists(f.w, 7));
	ck_assert(lease_exists(f.w, 9));
	ck_assert_uint_eq(lease_count(f.w), 1);
	ck_assert_int_eq(lease_revoke(f.w, tx(&f), 9, NULL, f.err, sizeof(f.err)), 0);
	commit(&f);
	ck_assert_int_eq(lease_list(f.r, &ids, &n, f.err, sizeof(f.err)), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(ids);
	/* Keys with NUL and high bytes keep byte order. */
	grant(&f, 3, 10, 0);
	ck_assert_int_eq(lease_attach(f.w, tx(&f), 3, "a\0b", 3, f.err, sizeof(f.err)), 0);
	ck_assert_int_eq(lease_attach(f.w, tx(&f), 3, "\xff", 1, f.err, sizeof(f.err)), 0);
	ck_assert_int_eq(lease_attach(f.w, tx(&f), 3, "a", 1, f.err, sizeof(f.err)), 0);
	ck_assert_int_eq(lease_revoke(f.w, tx(&f), 3, &k, f.err, sizeof(f.err)), 0);
	commit(&f);
	{
		size_t len;
		const uint8_t *p;

		ck_assert_uint_eq(k.n, 3);
		p = lease_keys_at(&k, 0, &len);
		ck_assert(len == 1 && p[0] == 'a');
		p = lease_keys_at(&k, 1, &len);
		ck_assert(len == 3 && memcmp(p, "a\0b", 3) == 0);
		p = lease_keys_at(&k, 2, &len);
		ck_assert(len == 1 && p[0] == 0xff);
	}
	lease_keys_close(&k);
	fx_close(&f);
}
END_TEST

START_TEST(test_attach_move_detach)
{
	struct fx f;
	char s[256];

	fx_init(&f, 0, 0);
	grant(&f, 1, 10, 0);
	grant(&f, 2, 10, 0);
	/* put k with lease 1 (no previous lease) */
	ck_assert_int_eq(lease_move(f.w, tx(&f), 0, 1, "k", 1, f.err, sizeof(f.err)), 0);
	ck_assert_int_eq(lease_move(f.w, tx(&f), 0, 1, "j", 1, f.err, sizeof(f.err)), 0);
	commit(&f);
	ck_assert_str_eq(reader_keys(&f, 1, s, sizeof(s)), "j,k");
	/* put k with lease 2 moves it */
	ck_assert_int_eq(lease_move(f.w, tx(&f), 1, 2, "k", 1, f.err, sizeof(f.err)), 0);
	commit(&f);
	ck_assert_str_eq(reader_keys(&f, 1, s, sizeof(s)), "j");
	ck_assert_str_eq(reader_keys(&f, 2, s, sizeof(s)), "k");
	/* put k again with the same lease: unchanged */
	ck_assert_int_eq(lease_move(f.w, tx(&f), 2, 2, "k", 1, f.err, sizeof(f.err)), 0);
	/* put k without a lease detaches it */
	ck_assert_int_eq(lease_move(f.w, tx(&f), 2, 0, "k", 1, f.err, sizeof(f.err)), 0);
	/* delete j detaches it */
	ck_assert_int_eq(lease_detach(f.w, tx(&f), 1, "j", 1, f.err, sizeof(f.err)), 0);
	commit(&f);
	ck_assert_str_eq(reader_keys(&f, 1, s, sizeof(s)), "");
	ck_assert_str_eq(reader_keys(&f, 2, s, sizeof(s)), "");
	/* unknown leases */
	ck_assert_int_eq(lease_attach(f.w, tx(&f), 5, "x", 1, f.err, sizeof(f.err)), LEASE_ERR_NOT_FOUND);
	ck_assert_str_eq(f.err, "etcdserver: requested lease not found");
	ck_assert_int_eq(lease_move(f.w, tx(&f), 1, 5, "x", 1, f.err, sizeof(f.err)), LEASE_ERR_NOT_FOUND);
	ck_assert_int_eq(lease_move(f.w, tx(&f), 5, 5, "x", 1, f.err, sizeof(f.err)), LEASE_ERR_NOT_FOUND);
	ck_assert_int_eq(lease_detach(f.w, tx(&f), 5, "x", 1, f.err, sizeof(f.err)), 0);
	ck_assert_int_eq(lease_detach(f.w, tx(&f), 0, "x", 1, f.err, sizeof(f.err)), 0);
	ck_assert_int_eq(lease_detach(f.w, tx(&f), 1, "never", 5, f.err, sizeof(f.err)), 0);
	/* a failed move changed nothing: x is nowhere, moving from 5 to 1 works */
	ck_assert_int_eq(lease_move(f.w, tx(&f), 5, 1, "x", 1, f.err, sizeof(f.err)), 0);
	commit(&f);
	ck_assert_str_eq(reader_keys(&f, 1, s, sizeof(s)), "x");
	fx_close(&f);
}
END_TEST

START_TEST(test_errors_and_ttl_limits)
{
	struct fx f;
	int64_t g = 99;

	ck_assert_int_eq(lease_min_ttl(100, 1000), 2);  /* etcd's defaults */
	ck_assert_int_eq(lease_min_ttl(50, 500), 1);    /* 15 * 50 ms */
	ck_assert_int_eq(lease_min_ttl(300, 1000), 2);  /* (9 / 2) * 300 ms */
	ck_assert_int_eq(lease_min_ttl(100, 5000), 8);  /* 75 * 100 ms */
	ck_assert_int_eq(lease_min_ttl(1000, 10000), 15);
	fx_init(&f, 0, 0);
	ck_assert_int_eq(f.cfg.min_ttl, 2);
	ck_assert_int_eq(f.cfg.checkpoint_ms, 300000);

	ck_assert_int_eq(lease_grant(f.w, tx(&f), 0, 10, 0, &g, f.err, sizeof(f.err)), LEASE_ERR_NOT_FOUND);
	ck_assert_int_eq(g, 0);
	ck_assert_int_eq(lease_grant(f.w, tx(&f), 1, LEASE_MAX_TTL + 1, 0, &g, f.err, sizeof(f.err)),
	                 LEASE_ERR_TTL_TOO_BIG);
	ck_assert_str_eq(f.err, "etcdserver: too large lease TTL");
	ck_assert_int_eq(lease_grant(f.w, tx(&f), 1, LEASE_MAX_TTL, 0, &g, f.err, sizeof(f.err)), 0);
	ck_assert_int_eq(g, 9000000000LL);
	ck_assert_int_eq(lease_grant(f.w, tx(&f), 1, 5, 0, &g, f.err, sizeof(f.err)), LEASE_ERR_EXISTS);
	ck_assert_str_eq(f.err, "etcdserver: lease already exists");
	ck_assert_int_eq(lease_grant(f.w, tx(&f), 2, 1, 0, &g, f.err, sizeof(f.err)), 0);
	ck_assert_int_eq(g, 2); /* raised to the minimum */
	ck_assert_int_eq(lease_grant(f.w, tx(&f), 3, -5, 0, &g, f.err, sizeof(f.err)), 0);
	ck_assert_int_eq(g, 2);
	ck_assert_int_eq(lease_grant(f.w, tx(&f), 4, 2, 0, &g, f.err, sizeof(f.err)), 0);
	ck_assert_int_eq(g, 2);
	ck_assert_int_eq(lease_grant(f.w, tx(&f), -4, 3, 0, &g, f.err, sizeof(f.err)), 0);
	ck_assert_int_eq(lease_revoke(f.w, tx(&f), 42, NULL, f.err, sizeof(f.err)), LEASE_ERR_NOT_FOUND);
	ck_assert_str_eq(f.err, "etcdserver: requested lease not found");
	ck_assert_int_eq(lease_checkpoint(f.w, tx(&f), 42, 5, 0, f.err, sizeof(f.err)), 0);
	commit(&f);
	{
		struct lease_info info;

		ck_assert_int_eq(lease_get(f.r, 2, &info, NULL, f.err, sizeof(f.err)), 0);
		ck_assert_int_eq(info.ttl, 2); /* stored raised, as etcd persists it */
		ck_assert_int_eq(lease_get(f.r, 42, &info, NULL, f.err, sizeof(f.err)), LEASE_ERR_NOT_FOUND);
		ck_assert_int_eq(lease_get(f.r, -4, &info, NULL, f.err, sizeof(f.err)), 0);
	}
	ck_assert_str_eq(lease_err_str(LEASE_ERR_EXISTS), "etcdserver: lease already exists");
	fx_close(&f);
}
END_TEST

START_TEST(test_expiry_virtual_clock)
{
	struct fx f;
	int64_t ids[8], ttl;
	struct lease_status st;
	int clear = 7;

	fx_init(&f, 0, 0);
	grant(&f, 1, 5, 0);
	ck_assert_int_eq(lease_renew(f.w, 1, 0, &ttl, &clear), LEASE_ERR_NOT_PRIMARY);
	ck_assert_uint_eq(lease_expired(f.w, 1000000, ids, 8), 0); /* followers never expire */
	ck_assert_int_eq(lease_next_wakeup(f.w), LEASE_FOREVER);
	ck_assert_int_eq(lease_time_to_live(f.w, 1, 0, &st), 0);
	ck_assert_int_eq(st.deadline_ms, LEASE_FOREVER);
	ck_assert_int_eq(st.ttl, 9223372036LL);

	lease_promote(f.w, 1000, 0);
	ck_assert(lease_is_primary(f.w));
	grant(&f, 2, 3, 1000);  /* deadline 4000 */
	grant(&f, 3, 10, 1000); /* 11000 */
	grant(&f, 4, 3, 1000);  /* 4000, after 2 by id */
	commit(&f);
	/* lease 1 got 1000 + 5000 at promotion */
	ck_assert_int_eq(lease_time_to_live(f.w, 1, 1000, &st), 0);
	ck_assert_int_eq(st.deadline_ms, 6000);
	ck_assert_int_eq(st.ttl, 5);
	ck_assert_int_eq(st.granted_ttl, 5);
	ck_assert_int_eq(lease_time_to_live(f.w, 1, 1001, &st), 0);
	ck_assert_int_eq(st.ttl, 4); /* truncated */
	ck_assert_int_eq(lease_time_to_live(f.w, 99, 0, &st), LEASE_ERR_NOT_FOUND);
	ck_assert_int_eq(lease_next_wakeup(f.w), 4000);

	ck_assert_uint_eq(lease_expired(f.w, 3999, ids, 8), 0);
	ck_assert_uint_eq(lease_expired(f.w, 4000, ids, 1), 1);
	ck_assert_int_eq(ids[0], 2);
	ck_assert_uint_eq(lease_expired(f.w, 4000, ids, 8), 1);
	ck_assert_int_eq(ids[0], 4);
	/* expired but not revoked: keepalive says so, TimeToLive goes negative */
	ck_assert_int_eq(lease_renew(f.w, 2, 4000, &ttl, NULL), LEASE_ERR_EXPIRED);
	ck_assert_int_eq(lease_time_to_live(f.w, 2, 5500, &st), 0);
	ck_assert_int_eq(st.ttl, -1);
	/* renew 1 before it expires */
	ck_assert_int_eq(lease_renew(f.w, 1, 5000, &ttl, &clear), 0);
	ck_assert_int_eq(ttl, 5);
	ck_assert_int_eq(clear, 0);
	ck_assert_int_eq(lease_renew(f.w, 99, 5000, &ttl, NULL), LEASE_ERR_NOT_FOUND);
	/* the revoke of 4 is applied; 2's is lost: reported again after retry */
	ck_assert_int_eq(lease_revoke(f.w, tx(&f), 4, NULL, f.err, sizeof(f.err)), 0);
	commit(&f);
	ck_assert_int_eq(lease_next_wakeup(f.w), 7000);
	ck_assert_uint_eq(lease_expired(f.w, 6999, ids, 8), 0);
	ck_assert_uint_eq(lease_expired(f.w, 10000, ids, 8), 2);
	ck_assert_int_eq(ids[0], 2); /* retry at 7000 */
	ck_assert_int_eq(ids[1], 1); /* renewed: 10000 */
	ck_assert_uint_eq(lease_expired(f.w, 12000, ids, 8), 1);
	ck_assert_int_eq(ids[0], 3); /* 11000; 2 and 1 wait for their retry at 13000 */
	ck_assert_uint_eq(lease_expired(f.w, 13000, ids, 8), 2);
	ck_assert_int_eq(ids[0], 1);
	ck_assert_int_eq(ids[1], 2);
	lease_demote(f.w);
	ck_assert(!lease_is_primary(f.w));
	ck_assert_uint_eq(lease_expired(f.w, 100000, ids, 8), 0);
	ck_assert_int_eq(lease_renew(f.w, 1, 100000, &ttl, NULL), LEASE_ERR_NOT_PRIMARY);
	ck_assert_int_eq(lease_time_to_live(f.w, 1, 0, &st), 0);
	ck_assert_int_eq(st.deadline_ms, LEASE_FOREVER);
	fx_close(&f);
}
END_TEST

START_TEST(test_promote_from_checkpoints)
{
	struct fx f;
	struct lease_status st;
	struct lease_info info;
	int64_t ids[4];

	fx_init(&f, 1, 0);
	grant(&f, 1, 100, 0);
	grant(&f, 2, 100, 0);
	ck_assert_int_eq(lease_checkpoint(f.w, tx(&f), 1, 30, 0, f.err, sizeof(f.err)), 0);
	commit(&f);
	ck_assert_int_eq(lease_get(f.r, 1, &info, NULL, f.err, sizeof(f.err)), 0);
	ck_assert_int_eq(info.remaining_ttl, 30);
	ck_assert_int_eq(info.ttl, 100);
	lease_promote(f.w, 1000, 1000); /* extend = election timeout */
	ck_assert_int_eq(lease_time_to_live(f.w, 1, 1000, &st), 0);
	ck_assert_int_eq(st.deadline_ms, 1000 + 1000 + 30000);
	ck_assert_int_eq(st.ttl, 31);
	ck_assert_int_eq(st.granted_ttl, 100);
	ck_assert_int_eq(st.remaining_ttl, 30);
	ck_assert_int_eq(lease_time_to_live(f.w, 2, 1000, &st), 0);
	ck_assert_int_eq(st.deadline_ms, 1000 + 1000 + 100000);
	ck_assert_uint_eq(lease_expired(f.w, 32000, ids, 4), 1);
	ck_assert_int_eq(ids[0], 1);
	/* checkpoint cleared (0): the next promotion uses the full TTL */
	ck_assert_int_eq(lease_checkpoint(f.w, tx(&f), 1, 0, 32000, f.err, sizeof(f.err)), 0);
	commit(&f);
	lease_demote(f.w);
	lease_promote(f.w, 50000, 0);
	ck_assert_int_eq(lease_time_to_live(f.w, 1, 50000, &st), 0);
	ck_assert_int_eq(st.deadline_ms, 150000);
	fx_close(&f);
}
END_TEST

START_TEST(test_checkpoint_schedule)
{
	struct fx f;
	struct lease_ckpt c[8];
	int64_t ttl;
	int clear;

	fx_init(&f, 1, 2000); /* checkpoint every 2 s */
	lease_promote(f.w, 0, 0);
	grant(&f, 1, 10, 0); /* due at 2000 */
	grant(&f, 2, 2, 0);  /* 2 is not more than 2 s: never */
	grant(&f, 3, 10, 0); /* due at 2000, but renewed then */
	commit(&f);
	ck_assert_int_eq(lease_next_wakeup(f.w), 2000);
	ck_assert_uint_eq(lease_checkpoints_due(f.w, 1999, c, 8), 0);
	ck_assert_int_eq(lease_renew(f.w, 3, 2000, &ttl, &clear), 0);
	ck_assert_int_eq(clear, 0);
	ck_assert_uint_eq(lease_checkpoints_due(f.w, 2000, c, 8), 1);
	ck_assert_int_eq(c[0].id, 1);
	ck_assert_int_eq(c[0].remaining_ttl, 8);
	ck_assert_uint_eq(lease_checkpoints_due(f.w, 2000, c, 8), 0);
	ck_assert_int_eq(lease_next_wakeup(f.w), 2000); /* lease 2 expires */
	/* applying the checkpoint schedules the next one */
	ck_assert_int_eq(lease_checkpoint(f.w, tx(&f), 1, 8, 2000, f.err, sizeof(f.err)), 0);
	commit(&f);
	ck_assert_int_eq(lease_renew(f.w, 1, 2500, &ttl, &clear), 0);
	ck_assert_int_eq(clear, 1); /* propose LeaseCheckpoint(1, 0) */
	ck_assert_int_eq(ttl, 10);
	ck_assert_uint_eq(lease_checkpoints_due(f.w, 4000, c, 8), 1);
	ck_assert_int_eq(c[0].id, 1);
	ck_assert_int_eq(c[0].remaining_ttl, 9); /* ceil(8.5) */
	/* partial batches */
	grant(&f, 10, 100, 5000);
	grant(&f, 11, 100, 5000);
	grant(&f, 12, 100, 5000);
	commit(&f);
	ck_assert_uint_eq(lease_checkpoints_due(f.w, 7500, c, 2), 2);
	ck_assert_int_eq(c[0].id, 10);
	ck_assert_int_eq(c[1].id, 11);
	ck_assert_int_eq(c[0].remaining_ttl, 98); /* ceil(97.5) */
	ck_assert_uint_eq(lease_checkpoints_due(f.w, 7500, c, 2), 1);
	ck_assert_int_eq(c[0].id, 12);
	/* followers have no schedule */
	ck_assert_int_eq(lease_checkpoint(f.w, tx(&f), 10, 90, 7500, f.err, sizeof(f.err)), 0);
	commit(&f);
	lease_demote(f.w);
	ck_assert_uint_eq(lease_checkpoints_due(f.w, 100000, c, 8), 0);
	fx_close(&f);

	/* checkpointing off (etcd 3.4's default): nothing is ever due */
	fx_init(&f, 0, 2000);
	lease_promote(f.w, 0, 0);
	grant(&f, 1, 10, 0);
	ck_assert_int_eq(lease_checkpoint(f.w, tx(&f), 1, 5, 0, f.err, sizeof(f.err)), 0);
	commit(&f);
	ck_assert_uint_eq(lease_checkpoints_due(f.w, 5000, c, 8), 0);
	ck_assert_int_eq(lease_renew(f.w, 1, 1000, &ttl, &clear), 0);
	ck_assert_int_eq(clear, 0);
	ck_assert_int_eq(lease_next_wakeup(f.w), 11000);
	fx_close(&f);
}
END_TEST

START_TEST(test_persist_reopen)
{
	struct fx f;
	struct lease_status st;
	char s[128];
	int64_t ids[4];

	fx_init(&f, 1, 0);
	lease_promote(f.w, 0, 0);
	grant(&f, 5, 60, 0);
	grant(&f, 6, 1, 0); /* raised to 2 */
	attach(&f, 5, "k1");
	attach(&f, 5, "k2");
	ck_assert_int_eq(lease_checkpoint(f.w, tx(&f), 5, 20, 0, f.err, sizeof(f.err)), 0);
	commit(&f);
	/* an aborted batch is forgotten by lease_reload */
	grant(&f, 7, 10, 0);
	ck_assert(lease_exists(f.w, 7));
	f.txn->abort(f.txn);
	f.txn = NULL;
	ck_assert_int_eq(lease_reload(f.w, f.err, sizeof(f.err)), 0);
	ck_assert(!lease_exists(f.w, 7));
	ck_assert(!lease_is_primary(f.w));
	ck_assert_uint_eq(lease_count(f.w), 2);
	ck_assert_int_eq(lease_reload(f.r, f.err, sizeof(f.err)), CE_INVAL);

	fx_close_leases(&f);
	store_env_close(f.env);
	ck_assert_int_eq(store_env_open(&f.env, f.dir, 1, f.err, sizeof(f.err)), 0);
	fx_open_leases(&f);
	ck_assert_uint_eq(lease_count(f.w), 2);
	ck_assert(!lease_is_primary(f.w));
	ck_assert_int_eq(lease_time_to_live(f.w, 5, 0, &st), 0);
	ck_assert_int_eq(st.deadline_ms, LEASE_FOREVER);
	ck_assert_int_eq(st.remaining_ttl, 20);
	ck_assert_str_eq(reader_keys(&f, 5, s, sizeof(s)), "k1,k2");
	lease_promote(f.w, 100000, 1000);
	ck_assert_int_eq(lease_time_to_live(f.w, 5, 100000, &st), 0);
	ck_assert_int_eq(st.deadline_ms, 100000 + 1000 + 20000);
	ck_assert_int_eq(lease_time_to_live(f.w, 6, 100000, &st), 0);
	ck_assert_int_eq(st.deadline_ms, 100000 + 1000 + 2000);
	ck_assert_uint_eq(lease_expired(f.w, 121000, ids, 4), 2);
	ck_assert_int_eq(ids[0], 6);
	ck_assert_int_eq(ids[1], 5);
	fx_close(&f);
}
END_TEST

/* A minimum TTL raised after the fact applies to loaded leases (etcd's
 * recovery), in memory only. */
START_TEST(test_reopen_raises_min_ttl)
{
	struct fx f;
	struct lease_status st;
	struct lease_info info;

	fx_init(&f, 0, 0);
	grant(&f, 1, 3, 0);
	commit(&f);
	fx_close_leases(&f);
	f.cfg.min_ttl = 8;
	fx_open_leases(&f);
	ck_assert_int_eq(lease_time_to_live(f.w, 1, 0, &st), 0);
	ck_assert_int_eq(st.granted_ttl, 8);
	ck_assert_int_eq(lease_get(f.r, 1, &info, NULL, f.err, sizeof(f.err)), 0);
	ck_assert_int_eq(info.ttl, 3);
	fx_close(&f);
}
END_TEST

/* etcd's Promote spreads expiries once LEASE_REVOKE_RATE leases exist: at
 * most 750 expire in the first second of a window. */
START_TEST(test_promote_spreads_expiries)
{
	struct fx f;
	struct lease_status st;
	static int64_t ids[2000];
	int64_t max = 0;
	int i;

	fx_init(&f, 0, 0);
	for (i = 1; i <= 2000; i++)
		grant(&f, i, 10, 0);
	commit(&f);
	lease_promote(f.w, 0, 0);
	ck_assert_uint_eq(lease_expired(f.w, 10000, ids, 2000), 750);
	ck_assert_int_eq(ids[0], 1);
	ck_assert_int_eq(ids[749], 750);
	ck_assert_int_eq(lease_time_to_live(f.w, 751, 0, &st), 0);
	ck_assert_int_eq(st.deadline_ms, 11001); /* 1 s * 751 / 750 */
	for (i = 1; i <= 2000; i++) {
		ck_assert_int_eq(lease_time_to_live(f.w, i, 0, &st), 0);
		if (st.deadline_ms > max)
			max = st.deadline_ms;
	}
	ck_assert_int_eq(max, 10000 + 2666); /* 1 s * 2000 / 750 */
	ck_assert_uint_eq(lease_expired(f.w, 11000, ids, 2000), 0);
	ck_assert_uint_eq(lease_expired(f.w, 12000, ids, 2000), 750);
	fx_close(&f);
}
END_TEST

START_TEST(test_expiry_table)
{
	struct fx f;
	struct lease_expiry tab[4];
	const struct lease_expiry *e;
	uint64_t gen;
	int64_t ttl;

	fx_init(&f, 0, 0);
	grant(&f, 30, 5, 0);
	grant(&f, 10, 5, 0);
	grant(&f, 20, 5, 0);
	commit(&f);
	ck_assert_uint_eq(lease_expiry_dump(f.w, tab, 2), 3); /* too small */
	ck_assert_uint_eq(lease_expiry_dump(f.w, tab, 4), 3);
	ck_assert_int_eq(tab[0].id, 10);
	ck_assert_int_eq(tab[2].id, 30);
	ck_assert_int_eq(tab[1].deadline_ms, LEASE_FOREVER);
	gen = lease_expiry_gen(f.w);
	lease_promote(f.w, 1000, 0);
	ck_assert(lease_expiry_gen(f.w) != gen);
	gen = lease_expiry_gen(f.w);
	ck_assert_int_eq(lease_renew(f.w, 20, 2000, &ttl, NULL), 0);
	ck_assert(lease_expiry_gen(f.w) != gen);
	ck_assert_uint_eq(lease_expiry_dump(f.w, tab, 4), 3);
	e = lease_expiry_find(tab, 3, 20);
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(e->deadline_ms, 7000);
	ck_assert_int_eq(lease_ttl_left(e->deadline_ms, 2500), 4);
	ck_assert_int_eq(lease_expiry_find(tab, 3, 30)->deadline_ms, 6000);
	ck_assert_ptr_null(lease_expiry_find(tab, 3, 25));
	ck_assert_ptr_null(lease_expiry_find(tab, 0, 10));
	fx_close(&f);
}
END_TEST

START_TEST(test_idgen)
{
	struct lease_idgen g;
	int64_t ms = 1700000000123LL, a, b;
	uint64_t want;

	lease_idgen_init(&g, 0x8e9e05c52164694dULL, ms);
	want = (0x694dULL << 48) | (((uint64_t)ms & 0xffffffffffULL) << 8);
	a = lease_idgen_next(&g);
	b = lease_idgen_next(&g);
	ck_assert_uint_eq((uint64_t)a, want + 1);
	ck_assert_uint_eq((uint64_t)b, want + 2);
	/* a member id whose low 16 bits set the sign bit: masked off */
	lease_idgen_init(&g, 0xffff, ms);
	a = lease_idgen_next(&g);
	ck_assert(a > 0);
	ck_assert_uint_eq((uint64_t)a, ((0x7fffULL << 48) | (((uint64_t)ms & 0xffffffffffULL) << 8)) + 1);
	/* never 0 */
	g.prefix = 0;
	g.suffix = (1ULL << 48) - 1;
	a = lease_idgen_next(&g);
	ck_assert_int_eq(a, 1);
	{
		struct lease_cfg c;

		lease_cfg_init(&c, 100, 1000);
		ck_assert_int_eq(c.retry_ms, 7000);
		ck_assert_int_eq(c.checkpointing, 0);
	}
}
END_TEST

/* Many leases: the id table and the timer heap survive removals in any
 * order (revokes while primary), and expiry still comes out sorted. */
START_TEST(test_many_leases)
{
	struct fx f;
	static int64_t ids[3000];
	static unsigned char gone[3001];
	uint64_t x = 12345;
	size_t n, i;
	int64_t prev_deadline = 0, prev_id = 0;

	fx_init(&f, 1, 1000);
	for (i = 1; i <= 3000; i++)
		grant(&f, (int64_t)i * 7919, (int64_t)(i % 50) + 2, 0);
	commit(&f);
	lease_promote(f.w, 0, 0);
	for (i = 0; i < 4000; i++) {
		size_t v;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		v = (size_t)(x % 3000) + 1;
		if (v % 3 == 0 || gone[v])
			continue;
		gone[v] = 1;
		ck_assert_int_eq(lease_revoke(f.w, tx(&f), (int64_t)v * 7919, NULL, f.err, sizeof(f.err)), 0);
	}
	commit(&f);
	for (i = 1; i <= 3000; i++) {
		ck_assert_int_eq(lease_exists(f.w, (int64_t)i * 7919), !gone[i]);
		ck_assert(!lease_exists(f.w, (int64_t)i * 7919 + 1));
	}
	n = lease_expired(f.w, 1000000, ids, 3000);
	ck_assert_uint_eq(n, lease_count(f.w));
	for (i = 0; i < n; i++) {
		struct lease_status st;

		ck_assert_int_eq(lease_time_to_live(f.w, ids[i], 0, &st), 0);
		ck_assert(st.deadline_ms > prev_deadline || (st.deadline_ms == prev_deadline && ids[i] > prev_id));
		prev_deadline = st.deadline_ms;
		prev_id = ids[i];
	}
	fx_close(&f);
}
END_TEST

/* Leases are part of database snapshots: a restored environment has the
 * same leases, checkpoints and attachments. */
START_TEST(test_snapshot_roundtrip)
{
	struct fx f;
	char snapf[128], fresh[128], s[128], cmd[300];
	DB_ENV *env2 = NULL;
	struct lease *r2 = NULL;
	struct lease_info info;
	struct lease_keys k;

	fx_init(&f, 0, 0);
	grant(&f, 11, 30, 0);
	grant(&f, 12, 40, 0);
	attach(&f, 11, "x");
	attach(&f, 11, "y");
	ck_assert_int_eq(lease_checkpoint(f.w, tx(&f), 12, 17, 0, f.err, sizeof(f.err)), 0);
	commit(&f);
	snprintf(snapf, sizeof(snapf), "%s/s.snap.db", f.dir);
	snprintf(fresh, sizeof(fresh), "%s/restored", f.dir);
	ck_assert_msg(store_snap_save(f.env, snapf, NULL, f.err, sizeof(f.err)) == 0, "%s", f.err);
	ck_assert_msg(store_snap_restore(snapf, fresh, NULL, f.err, sizeof(f.err)) == 0, "%s", f.err);
	ck_assert_int_eq(store_env_open(&env2, fresh, 1, f.err, sizeof(f.err)), 0);
	ck_assert_int_eq(lease_open(&r2, env2, 0, NULL, f.err, sizeof(f.err)), 0);
	lease_keys_init(&k);
	ck_assert_int_eq(lease_get(r2, 11, &info, &k, f.err, sizeof(f.err)), 0);
	ck_assert_int_eq(info.ttl, 30);
	ck_assert_str_eq(keys_str(&k, s, sizeof(s)), "x,y");
	ck_assert_int_eq(lease_get(r2, 12, &info, NULL, f.err, sizeof(f.err)), 0);
	ck_assert_int_eq(info.remaining_ttl, 17);
	lease_keys_close(&k);
	lease_free(r2);
	store_env_close(env2);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fresh);
	ck_assert_int_eq(system(cmd), 0);
	fx_close(&f);
}
END_TEST

Suite *suite_lease(void)
{
	Suite *s = suite_create("lease");
	TCase *tc = tcase_create("lease");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_grant_revoke_keys);
	tcase_add_test(tc, test_attach_move_detach);
	tcase_add_test(tc, test_errors_and_ttl_limits);
	tcase_add_test(tc, test_expiry_virtual_clock);
	tcase_add_test(tc, test_promote_from_checkpoints);
	tcase_add_test(tc, test_checkpoint_schedule);
	tcase_add_test(tc, test_persist_reopen);
	tcase_add_test(tc, test_reopen_raises_min_ttl);
	tcase_add_test(tc, test_promote_spreads_expiries);
	tcase_add_test(tc, test_expiry_table);
	tcase_add_test(tc, test_idgen);
	tcase_add_test(tc, test_many_leases);
	tcase_add_test(tc, test_snapshot_roundtrip);
	suite_add_tcase(s, tc);
	return s;
}
