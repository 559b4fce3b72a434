/* lease.c - the replicated half of the v3 leases: the lease databases, the
 * applies of LeaseGrant / LeaseRevoke / LeaseCheckpoint and key
 * attachments (writer, in the caller's transaction) and the reads of api
 * workers. The writer's in-memory table and deadlines are lease_mem.c's.
 */
#include "config.h"
#include "store/lease.h"

#include "store/env.h"
#include "store/lease_int.h"
#include "util/err.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define LEASE_IDLEN 8

/* ---- errors and configuration ---- */

const char *lease_err_str(int code)
{
	switch (code) {
	case LEASE_ERR_NOT_FOUND:
	case LEASE_ERR_EXPIRED:
		return "etcdserver: requested lease not found";
	case LEASE_ERR_EXISTS:
		return "etcdserver: lease already exists";
	case LEASE_ERR_TTL_TOO_BIG:
		return "etcdserver: too large lease TTL";
	case LEASE_ERR_NOT_PRIMARY:
		return "not a primary lessor";
	default:
		return "";
	}
}

static int lease_eret(int code, char *err, size_t errlen)
{
	return errf(err, errlen, code, "%s", lease_err_str(code));
}

int64_t lease_min_ttl(int64_t heartbeat_ms, int64_t election_ms)
{
	int64_t ticks, min_ms;

	if (heartbeat_ms <= 0)
		return 0;
	ticks = election_ms / heartbeat_ms;
	min_ms = ((3 * ticks) / 2) * heartbeat_ms;
	return (min_ms + 999) / 1000;
}

void lease_cfg_init(struct lease_cfg *cfg, int64_t heartbeat_ms, int64_t election_ms)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->min_ttl = lease_min_ttl(heartbeat_ms, election_ms);
	cfg->checkpoint_ms = LEASE_DEFAULT_CHECKPOINT_MS;
	/* etcd's ReqTimeout: 5 s + 2 * the election timeout. */
	cfg->retry_ms = 5000 + 2 * election_ms;
}

/* ---- key list ---- */

void lease_keys_init(struct lease_keys *k)
{
	memset(k, 0, sizeof(*k));
	buf_init(&k->data);
}

void lease_keys_close(struct lease_keys *k)
{
	buf_close(&k->data);
	free(k->off);
	memset(k, 0, sizeof(*k));
}

static void keys_reset(struct lease_keys *k)
{
	buf_reset(&k->data);
	k->n = 0;
}

static int keys_add(struct lease_keys *k, const void *p, size_t n)
{
	if (k->n == k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 16;
		size_t *off = realloc(k->off, cap * sizeof(*off));

		if (off == NULL)
			return CE_NOMEM;
		k->off = off;
		k->cap = cap;
	}
	k->off[k->n] = k->data.len;
	buf_put_str(&k->data, p, n);
	if (k->data.oom)
		return CE_NOMEM;
	k->n++;
	return 0;
}

const uint8_t *lease_keys_at(const struct lease_keys *k, size_t i, size_t *len)
{
	const uint8_t *p = k->data.data + k->off[i];

	*len = le_get32(p);
	return p + 4;
}

/* ---- encodings ---- */

static void id_put(uint8_t out[LEASE_IDLEN], int64_t id)
{
	uint64_t v = (uint64_t)id;

	for (int i = LEASE_IDLEN - 1; i >= 0; i--, v >>= 8)
		out[i] = (uint8_t)v;
}

static int64_t id_get(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < LEASE_IDLEN; i++)
		v = v << 8 | p[i];
	return (int64_t)v;
}

static void rec_pack(uint8_t out[sizeof(struct lease_rec)], int64_t ttl, int64_t remaining)
{
	le_put64(out, (uint64_t)ttl);
	le_put64(out + 8, (uint64_t)remaining);
}

static void dbt_init(DBT *d, const void *p, size_t n)
{
	memset(d, 0, sizeof(*d));
	d->data = (void *)p;
	d->size = (u_int32_t)n;
}

/* rec_get reads lease id's record: 0, DB_NOTFOUND, or a CE_* code. */
static int rec_get(struct lease *l, DB_TXN *txn, int64_t id, struct lease_rec *out)
{
	uint8_t kb[LEASE_IDLEN], vb[64];
	DBT k, d;
	int rc;

	id_put(kb, id);
	dbt_init(&k, kb, sizeof(kb));
	memset(&d, 0, sizeof(d));
	d.data = vb;
	d.ulen = sizeof(vb);
	d.flags = DB_DBT_USERMEM;
	rc = l->rec->get(l->rec, txn, &k, &d, 0);
	if (rc == DB_NOTFOUND)
		return rc;
	if (rc != 0)
		return rc == DB_BUFFER_SMALL ? CE_CORRUPT : store_db_err(rc);
	if (d.size < sizeof(struct lease_rec))
		return CE_CORRUPT;
	out->ttl = (int64_t)le_get64(vb);
	out->remaining = (int64_t)le_get64(vb + 8);
	return 0;
}

static int rec_put(struct lease *l, DB_TXN *txn, int64_t id, int64_t ttl, int64_t remaining)
{
	uint8_t kb[LEASE_IDLEN], vb[sizeof(struct lease_rec)];
	DBT k, d;

	id_put(kb, id);
	rec_pack(vb, ttl, remaining);
	dbt_init(&k, kb, sizeof(kb));
	dbt_init(&d, vb, sizeof(vb));
	return store_db_err(l->rec->put(l->rec, txn, &k, &d, 0));
}

/* attach_key encodes id + key into l->kbuf. */
static int attach_key(struct lease *l, int64_t id, const void *key, size_t klen, DBT *k)
{
	uint8_t ib[LEASE_IDLEN];

	id_put(ib, id);
	buf_reset(&l->kbuf);
	buf_put(&l->kbuf, ib, sizeof(ib));
	buf_put(&l->kbuf, key, klen);
	if (l->kbuf.oom)
		return CE_NOMEM;
	dbt_init(k, l->kbuf.data, l->kbuf.len);
	return 0;
}

/* scan_keys lists (keys not NULL) and/or deletes (del) the attachments of
 * lease id, in byte order, through a cursor of txn. */
static int scan_keys(struct lease *l, DB_TXN *txn, int64_t id, struct lease_keys *keys, int del)
{
	uint8_t ib[LEASE_IDLEN];
	DBC *c = NULL;
	DBT k, d;
	int rc;
	u_int32_t op = DB_SET_RANGE;

	id_put(ib, id);
	memset(&k, 0, sizeof(k));
	memset(&d, 0, sizeof(d));
	k.flags = d.flags = DB_DBT_REALLOC;
	if ((k.data = malloc(LEASE_IDLEN)) == NULL)
		return CE_NOMEM;
	memcpy(k.data, ib, LEASE_IDLEN);
	k.size = LEASE_IDLEN;
	if ((rc = store_db_err(l->keys->cursor(l->keys, txn, &c, 0))) != 0)
		goto out;
	for (;;) {
		rc = c->get(c, &k, &d, op);
		op = DB_NEXT;
		if (rc == DB_NOTFOUND || (rc == 0 && (k.size < LEASE_IDLEN || memcmp(k.data, ib, LEASE_IDLEN) != 0))) {
			rc = 0;
			break;
		}
		if (rc != 0) {
			rc = store_db_err(rc);
			break;
		}
		if (keys && (rc = keys_add(keys, (uint8_t *)k.data + LEASE_IDLEN, k.size - LEASE_IDLEN)) != 0)
			break;
		if (del && (rc = store_db_err(c->del(c, 0))) != 0)
			break;
	}
out:
	if (c)
		c->close(c);
	free(k.data);
	free(d.data);
	return rc;
}

/* ---- open / load ---- */

/* load_all reads every lease into the (empty) in-memory table. Like etcd's
 * recovery, a stored TTL below min_ttl is raised in memory. */
static int load_all(struct lease *l, char *err, size_t errlen)
{
	DB_TXN *txn = NULL;
	DBC *c = NULL;
	DBT k, d;
	int rc;

	memset(&k, 0, sizeof(k));
	memset(&d, 0, sizeof(d));
	k.flags = d.flags = DB_DBT_REALLOC;
	if ((rc = store_db_err(l->env->txn_begin(l->env, NULL, &txn, 0))) != 0 ||
	    (rc = store_db_err(l->rec->cursor(l->rec, txn, &c, 0))) != 0)
		goto out;
	while ((rc = c->get(c, &k, &d, DB_NEXT)) == 0) {
		int64_t ttl, rem;

		if (k.size != LEASE_IDLEN || d.size < sizeof(struct lease_rec)) {
			rc = CE_CORRUPT;
			goto out;
		}
		ttl = (int64_t)le_get64(d.data);
		rem = (int64_t)le_get64((uint8_t *)d.data + 8);
		if (ttl < l->cfg.min_ttl)
			ttl = l->cfg.min_ttl;
		if (lease_mem_add(l, id_get(k.data), ttl, rem) == NULL) {
			rc = CE_NOMEM;
			goto out;
		}
	}
	rc = rc == DB_NOTFOUND ? 0 : store_db_err(rc);
out:
	if (c)
		c->close(c);
	if (txn)
		txn->abort(txn);
	free(k.data);
	free(d.data);
	if (rc != 0)
		return errf(err, errlen, rc, "lease: load %s: %s", LEASE_FILE, ce_strerror(rc));
	return 0;
}

int lease_open(struct lease **out, DB_ENV *env, int writer, const struct lease_cfg *cfg,
               char *err, size_t errlen)
{
	struct lease *l;
	int rc;

	*out = NULL;
	if (writer && cfg == NULL)
		return errf(err, errlen, CE_INVAL, "lease: the writer needs a configuration");
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return errf(err, errlen, CE_NOMEM, "lease: out of memory");
	l->env = env;
	l->writer = writer;
	if (cfg)
		l->cfg = *cfg;
	if (l->cfg.checkpoint_ms <= 0)
		l->cfg.checkpoint_ms = LEASE_DEFAULT_CHECKPOINT_MS;
	if (l->cfg.retry_ms <= 0)
		l->cfg.retry_ms = LEASE_DEFAULT_RETRY_MS;
	l->heap[LEASE_H_NOTIFY].k = LEASE_H_NOTIFY;
	l->heap[LEASE_H_CKPT].k = LEASE_H_CKPT;
	buf_init(&l->kbuf);
	if ((rc = store_db_open(&l->rec, env, LEASE_FILE, writer, err, errlen)) != 0 ||
	    (rc = store_db_open(&l->keys, env, LEASE_KEYS_FILE, writer, err, errlen)) != 0 ||
	    (writer && (rc = load_all(l, err, errlen)) != 0)) {
		lease_free(l);
		return rc;
	}
	*out = l;
	return 0;
}

void lease_free(struct lease *l)
{
	if (l == NULL)
		return;
	lease_mem_clear(l);
	if (l->keys)
		l->keys->close(l->keys, 0);
	if (l->rec)
		l->rec->close(l->rec, 0);
	buf_close(&l->kbuf);
	free(l);
}

int lease_reload(struct lease *l, char *err, size_t errlen)
{
	if (!l->writer)
		return errf(err, errlen, CE_INVAL, "lease: reload is for the writer");
	lease_mem_clear(l);
	return load_all(l, err, errlen);
}

/* ---- writer ---- */

int lease_grant(struct lease *l, DB_TXN *txn, int64_t id, int64_t ttl, int64_t now_ms,
                int64_t *granted, char *err, size_t errlen)
{
	struct lease_ent *e;
	int rc;

	if (granted)
		*granted = 0;
	if (id == 0)
		return lease_eret(LEASE_ERR_NOT_FOUND, err, errlen);
	if (ttl > LEASE_MAX_TTL)
		return lease_eret(LEASE_ERR_TTL_TOO_BIG, err, errlen);
	if (lease_mem_find(l, id) != NULL)
		return lease_eret(LEASE_ERR_EXISTS, err, errlen);
	if (ttl < l->cfg.min_ttl)
		ttl = l->cfg.min_ttl;
	if ((rc = rec_put(l, txn, id, ttl, 0)) != 0)
		return errf(err, errlen, rc, "lease: grant %lld: %s", (long long)id, ce_strerror(rc));
	if ((e = lease_mem_add(l, id, ttl, 0)) == NULL)
		return errf(err, errlen, CE_NOMEM, "lease: grant: out of memory");
	lease_mem_on_grant(l, e, now_ms);
	if (granted)
		*granted = ttl;
	return 0;
}

int lease_revoke(struct lease *l, DB_TXN *txn, int64_t id, struct lease_keys *keys, char *err,
                 size_t errlen)
{
	struct lease_ent *e = lease_mem_find(l, id);
	uint8_t kb[LEASE_IDLEN];
	DBT k;
	int rc;

	if (keys)
		keys_reset(keys);
	if (e == NULL)
		return lease_eret(LEASE_ERR_NOT_FOUND, err, errlen);
	if ((rc = scan_keys(l, txn, id, keys, 1)) != 0)
		return errf(err, errlen, rc, "lease: revoke %lld: keys: %s", (long long)id, ce_strerror(rc));
	id_put(kb, id);
	dbt_init(&k, kb, sizeof(kb));
	rc = l->rec->del(l->rec, txn, &k, 0);
	if (rc != 0 && rc != DB_NOTFOUND)
		return errf(err, errlen, store_db_err(rc), "lease: revoke %lld: %s", (long long)id,
		            db_strerror(rc));
	lease_mem_del(l, e);
	return 0;
}

int lease_attach(struct lease *l, DB_TXN *txn, int64_t id, const void *key, size_t klen,
                 char *err, size_t errlen)
{
	DBT k, d;
	int rc;

	if (lease_mem_find(l, id) == NULL)
		return lease_eret(LEASE_ERR_NOT_FOUND, err, errlen);
	if ((rc = attach_key(l, id, key, klen, &k)) != 0)
		return errf(err, errlen, rc, "lease: attach: out of memory");
	dbt_init(&d, NULL, 0);
	if ((rc = store_db_err(l->keys->put(l->keys, txn, &k, &d, 0))) != 0)
		return errf(err, errlen, rc, "lease: attach to %lld: %s", (long long)id, ce_strerror(rc));
	return 0;
}

int lease_detach(struct lease *l, DB_TXN *txn, int64_t id, const void *key, size_t klen,
                 char *err, size_t errlen)
{
	DBT k;
	int rc;

	if (id == 0 || lease_mem_find(l, id) == NULL)
		return 0;
	if ((rc = attach_key(l, id, key, klen, &k)) != 0)
		return errf(err, errlen, rc, "lease: detach: out of memory");
	rc = l->keys->del(l->keys, txn, &k, 0);
	if (rc != 0 && rc != DB_NOTFOUND)
		return errf(err, errlen, store_db_err(rc), "lease: detach from %lld: %s", (long long)id,
		            db_strerror(rc));
	return 0;
}

int lease_move(struct lease *l, DB_TXN *txn, int64_t old_id, int64_t new_id, const void *key,
               size_t klen, char *err, size_t errlen)
{
	int rc;

	if (old_id == new_id)
		return new_id == 0 || lease_mem_find(l, new_id) ? 0 : lease_eret(LEASE_ERR_NOT_FOUND, err, errlen);
	if (new_id != 0 && lease_mem_find(l, new_id) == NULL)
		return lease_eret(LEASE_ERR_NOT_FOUND, err, errlen);
	if ((rc = lease_detach(l, txn, old_id, key, klen, err, errlen)) != 0)
		return rc;
	if (new_id == 0)
		return 0;
	return lease_attach(l, txn, new_id, key, klen, err, errlen);
}

int lease_checkpoint(struct lease *l, DB_TXN *txn, int64_t id, int64_t remaining, int64_t now_ms,
                     char *err, size_t errlen)
{
	struct lease_ent *e = lease_mem_find(l, id);
	int rc;

	if (e == NULL)
		return 0;
	if ((rc = rec_put(l, txn, id, e->ttl, remaining)) != 0)
		return errf(err, errlen, rc, "lease: checkpoint %lld: %s", (long long)id, ce_strerror(rc));
	e->remaining = remaining;
	lease_mem_on_checkpoint(l, e, now_ms);
	return 0;
}

/* ---- readers ---- */

typedef int (*read_fn)(struct lease *l, DB_TXN *txn, void *arg);

/* run_read runs fn in a read-committed transaction, starting over when the
 * deadlock detector picked it (readers are always the victims). */
static int run_read(struct lease *l, read_fn fn, void *arg)
{
	for (int tries = 0;; tries++) {
		DB_TXN *txn = NULL;
		int rc = store_db_err(l->env->txn_begin(l->env, NULL, &txn, DB_READ_COMMITTED));

		if (rc != 0)
			return rc;
		rc = fn(l, txn, arg);
		if (rc != 0)
			txn->abort(txn);
		else
			rc = store_db_err(txn->commit(txn, 0));
		if (rc != CE_AGAIN || tries + 1 >= LEASE_READ_RETRIES)
			return rc;
	}
}

struct get_arg {
	int64_t id;
	struct lease_info *info;
	struct lease_keys *keys;
};

static int get_fn(struct lease *l, DB_TXN *txn, void *arg)
{
	struct get_arg *a = arg;
	struct lease_rec r;
	int rc;

	if (a->keys)
		keys_reset(a->keys);
	if ((rc = rec_get(l, txn, a->id, &r)) != 0)
		return rc == DB_NOTFOUND ? LEASE_ERR_NOT_FOUND : rc;
	a->info->id = a->id;
	a->info->ttl = r.ttl;
	a->info->remaining_ttl = r.remaining;
	if (a->keys == NULL)
		return 0;
	if ((rc = scan_keys(l, txn, a->id, a->keys, 0)) != 0)
		return rc;
	/* Read-committed: a revoke may have committed between the accesses. */
	if ((rc = rec_get(l, txn, a->id, &r)) != 0)
		return rc == DB_NOTFOUND ? LEASE_ERR_NOT_FOUND : rc;
	return 0;
}

int lease_get(struct lease *l, int64_t id, struct lease_info *info, struct lease_keys *keys,
              char *err, size_t errlen)
{
	struct get_arg a = { id, info, keys };
	int rc;

	memset(info, 0, sizeof(*info));
	rc = run_read(l, get_fn, &a);
	if (rc == LEASE_ERR_NOT_FOUND) {
		if (keys)
			keys_reset(keys);
		return lease_eret(rc, err, errlen);
	}
	if (rc != 0)
		return errf(err, errlen, rc, "lease: get %lld: %s", (long long)id, ce_strerror(rc));
	return 0;
}

struct list_arg {
	int64_t *ids;
	size_t n, cap;
};

static int list_fn(struct lease *l, DB_TXN *txn, void *arg)
{
	struct list_arg *a = arg;
	DBC *c = NULL;
	DBT k, d;
	int rc;

	a->n = 0;
	memset(&k, 0, sizeof(k));
	memset(&d, 0, sizeof(d));
	k.flags = d.flags = DB_DBT_REALLOC;
	if ((rc = store_db_err(l->rec->cursor(l->rec, txn, &c, 0))) != 0)
		return rc;
	while ((rc = c->get(c, &k, &d, DB_NEXT)) == 0) {
		if (k.size != LEASE_IDLEN) {
			rc = CE_CORRUPT;
			break;
		}
		if (a->n == a->cap) {
			size_t cap = a->cap ? a->cap * 2 : 64;
			int64_t *ids = realloc(a->ids, cap * sizeof(*ids));

			if (ids == NULL) {
				rc = CE_NOMEM;
				break;
			}
			a->ids = ids;
			a->cap = cap;
		}
		a->ids[a->n++] = id_get(k.data);
	}
	if (rc == DB_NOTFOUND)
		rc = 0;
	else if (rc > 0)
		rc = store_db_err(rc);
	c->close(c);
	free(k.data);
	free(d.data);
	return rc;
}

int lease_list(struct lease *l, int64_t **ids, size_t *n, char *err, size_t errlen)
{
	struct list_arg a = { NULL, 0, 0 };
	int rc = run_read(l, list_fn, &a);

	*ids = NULL;
	*n = 0;
	if (rc != 0) {
		free(a.ids);
		return errf(err, errlen, rc, "lease: list: %s", ce_strerror(rc));
	}
	if (a.n == 0)
		free(a.ids);
	else
		*ids = a.ids;
	*n = a.n;
	return 0;
}
