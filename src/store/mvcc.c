/* mvcc.c - the v3 store's frame: opening its databases, the persistent
 * state record, result memory, the read-committed transactions of readers
 * and etcd's error texts. The operations live in mvcc_kv.c (writes and
 * index scans), mvcc_range.c (Range, Compare, events) and mvcc_compact.c.
 */
#include "config.h"
#include "store/mvcc.h"

#include "store/env.h"
#include "store/meta.h"
#include "store/mvcc_int.h"
#include "util/err.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- errors ---- */

const char *mvcc_err_str(int code)
{
	switch (code) {
	case MVCC_ERR_COMPACTED:
		return "mvcc: required revision has been compacted";
	case MVCC_ERR_FUTURE_REV:
		return "mvcc: required revision is a future revision";
	case MVCC_ERR_KEY_NOT_FOUND:
		return "etcdserver: key not found";
	default:
		return "";
	}
}

int mvcc_eret(int code, char *err, size_t errlen)
{
	return errf(err, errlen, code, "%s", mvcc_err_str(code));
}

int mvcc_check_rev(const struct mvcc_state *st, int64_t rev, int64_t cur, int64_t *at, char *err,
                   size_t errlen)
{
	if (rev > cur)
		return mvcc_eret(MVCC_ERR_FUTURE_REV, err, errlen);
	if (rev <= 0)
		rev = cur;
	if (rev < st->compacted)
		return mvcc_eret(MVCC_ERR_COMPACTED, err, errlen);
	*at = rev;
	return 0;
}

/* ---- arena: chunks that never move, so kvs can point into them ---- */

struct mvcc_chunk {
	struct mvcc_chunk *next;
	size_t used, size;
	_Alignas(8) uint8_t data[];
};

#define MVCC_CHUNK (64u * 1024)

void mvcc_arena_init(struct mvcc_arena *a)
{
	a->head = NULL;
}

void mvcc_arena_close(struct mvcc_arena *a)
{
	while (a->head) {
		struct mvcc_chunk *c = a->head;
		a->head = c->next;
		free(c);
	}
}

/* mvcc_arena_reset keeps one standard chunk for the next use. */
void mvcc_arena_reset(struct mvcc_arena *a)
{
	struct mvcc_chunk *keep = NULL;

	while (a->head) {
		struct mvcc_chunk *c = a->head;
		a->head = c->next;
		if (keep == NULL && c->size == MVCC_CHUNK)
			keep = c;
		else
			free(c);
	}
	if (keep) {
		keep->used = 0;
		keep->next = NULL;
		a->head = keep;
	}
}

void *mvcc_arena_alloc(struct mvcc_arena *a, size_t n)
{
	struct mvcc_chunk *c = a->head;
	size_t need = (n + 7) & ~(size_t)7;

	if (c == NULL || c->size - c->used < need) {
		size_t size = need > MVCC_CHUNK ? need : MVCC_CHUNK;
		c = malloc(sizeof(*c) + size);
		if (c == NULL)
			return NULL;
		c->size = size;
		c->used = 0;
		if (size > MVCC_CHUNK && a->head) { /* a big one: keep filling the head */
			c->next = a->head->next;
			a->head->next = c;
		} else {
			c->next = a->head;
			a->head = c;
		}
	}
	c->used += need;
	return c->data + c->used - need;
}

const uint8_t *mvcc_arena_dup(struct mvcc_arena *a, const void *p, size_t n, int *oom)
{
	uint8_t *d;

	if (n == 0)
		return NULL;
	d = mvcc_arena_alloc(a, n);
	if (d == NULL) {
		*oom = 1;
		return NULL;
	}
	memcpy(d, p, n);
	return d;
}

void mvcc_range_res_init(struct mvcc_range_res *res)
{
	memset(res, 0, sizeof(*res));
}

void mvcc_range_res_close(struct mvcc_range_res *res)
{
	free(res->kvs);
	mvcc_arena_close(&res->arena);
	memset(res, 0, sizeof(*res));
}

void mvcc_events_res_init(struct mvcc_events_res *res)
{
	memset(res, 0, sizeof(*res));
}

void mvcc_events_res_close(struct mvcc_events_res *res)
{
	free(res->evs);
	mvcc_arena_close(&res->arena);
	memset(res, 0, sizeof(*res));
}

/* ---- open / free ---- */

int mvcc_open(struct mvcc **out, DB_ENV *env, int writer, char *err, size_t errlen)
{
	struct mvcc *m;
	int rc;

	*out = NULL;
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return errf(err, errlen, CE_NOMEM, "mvcc: out of memory");
	m->env = env;
	m->writer = writer;
	buf_init(&m->seek);
	buf_init(&m->tmp);
	buf_init(&m->tmp2);
	m->ck.flags = m->cd.flags = DB_DBT_REALLOC;
	m->rd.flags = DB_DBT_REALLOC;
	m->rk.data = m->rkey;
	m->rk.size = MVCC_REVLEN;
	mvcc_arena_init(&m->evmem);
	if ((rc = meta_db_open(&m->meta, env, writer, err, errlen)) != 0 ||
	    (rc = store_db_open(&m->rev, env, MVCC_REV_FILE, writer, err, errlen)) != 0 ||
	    (rc = store_db_open(&m->key, env, MVCC_KEY_FILE, writer, err, errlen)) != 0) {
		mvcc_free(m);
		return rc;
	}
	*out = m;
	return 0;
}

void mvcc_free(struct mvcc *m)
{
	if (m == NULL)
		return;
	if (m->key)
		m->key->close(m->key, 0);
	if (m->rev)
		m->rev->close(m->rev, 0);
	if (m->meta)
		m->meta->close(m->meta, 0);
	buf_close(&m->seek);
	buf_close(&m->tmp);
	buf_close(&m->tmp2);
	free(m->ck.data);
	free(m->cd.data);
	free(m->rd.data);
	free(m->evs);
	mvcc_arena_close(&m->evmem);
	free(m);
}

/* ---- state ---- */

int mvcc_state_read(struct mvcc *m, DB_TXN *txn, struct mvcc_state *st)
{
	uint8_t b[sizeof(struct mvcc_meta_rec)];
	DBT k, d;
	int rc;

	/* A fresh store: etcd starts at revision 1, nothing compacted (-1). */
	st->current = 1;
	st->compacted = st->finished = -1;
	st->keys = 0;
	memset(&k, 0, sizeof(k));
	memset(&d, 0, sizeof(d));
	k.data = MVCC_META_KEY;
	k.size = (u_int32_t)strlen(MVCC_META_KEY);
	d.data = b;
	d.ulen = sizeof(b);
	d.flags = DB_DBT_USERMEM;
	rc = m->meta->get(m->meta, txn, &k, &d, 0);
	if (rc == DB_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc == DB_BUFFER_SMALL ? CE_CORRUPT : store_db_err(rc);
	if (d.size != sizeof(b))
		return CE_CORRUPT;
	memset(st, 0, sizeof(*st));
	st->current = (int64_t)le_get64(b);
	st->compacted = (int64_t)le_get64(b + 8);
	st->finished = (int64_t)le_get64(b + 16);
	st->keys = (int64_t)le_get64(b + 24);
	return 0;
}

int mvcc_state_write(struct mvcc *m, DB_TXN *txn, const struct mvcc_state *st)
{
	uint8_t b[sizeof(struct mvcc_meta_rec)];
	DBT k, d;

	le_put64(b, (uint64_t)st->current);
	le_put64(b + 8, (uint64_t)st->compacted);
	le_put64(b + 16, (uint64_t)st->finished);
	le_put64(b + 24, (uint64_t)st->keys);
	memset(&k, 0, sizeof(k));
	memset(&d, 0, sizeof(d));
	k.data = MVCC_META_KEY;
	k.size = (u_int32_t)strlen(MVCC_META_KEY);
	d.data = b;
	d.size = sizeof(b);
	return store_db_err(m->meta->put(m->meta, txn, &k, &d, 0));
}

int mvcc_state_get(struct mvcc *m, DB_TXN *txn, struct mvcc_state *st)
{
	return mvcc_state_read(m, txn, st);
}

/* ---- readers ---- */

/* A reader's transaction is read-committed (a read lock lasts one access);
 * the deadlock detector (DB_LOCK_MINWRITE) sacrifices readers, which then
 * abort and start over. Consistency across the many accesses of one read
 * comes from the revisions: a read at revision R ignores newer entries,
 * and a compaction that could remove what it needs is detected by reading
 * the compacted revision again at the end (see mvcc_range_at callers). */
int mvcc_read(struct mvcc *m, mvcc_read_fn fn, void *arg, char *err, size_t errlen)
{
	int rc, tries = 0;

	for (;;) {
		DB_TXN *txn = NULL;

		rc = store_db_err(m->env->txn_begin(m->env, NULL, &txn, DB_READ_COMMITTED));
		if (rc != 0)
			return errf(err, errlen, rc, "mvcc: begin read: %s", ce_strerror(rc));
		rc = fn(m, txn, arg, err, errlen);
		if (rc != 0) {
			txn->abort(txn);
		} else {
			int c = txn->commit(txn, 0);
			if (c != 0)
				rc = errf(err, errlen, store_db_err(c), "mvcc: end read: %s", db_strerror(c));
		}
		if (rc != CE_AGAIN || ++tries >= MVCC_READ_RETRIES)
			return rc;
	}
}

static int read_state(struct mvcc *m, DB_TXN *txn, void *arg, char *err, size_t errlen)
{
	int rc = mvcc_state_read(m, txn, arg);

	return rc ? errf(err, errlen, rc, "mvcc: read state: %s", ce_strerror(rc)) : 0;
}

int mvcc_revisions(struct mvcc *m, struct mvcc_state *st, char *err, size_t errlen)
{
	return mvcc_read(m, read_state, st, err, errlen);
}

int mvcc_key_count(struct mvcc *m, int64_t *n, char *err, size_t errlen)
{
	struct mvcc_state st;
	int rc = mvcc_revisions(m, &st, err, errlen);

	*n = rc == 0 ? st.keys : 0;
	return rc;
}
