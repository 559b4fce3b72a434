/* v2hist.c - the v2 event history (etcd's EventHistory, capacity 1000) as a
 * btree keyed by big-endian store index, written in the apply transaction.
 * Every store index has exactly one event, so trimming deletes the single
 * event that falls out of the window.
 */
#include "config.h"
#include "store/v2store_int.h"

#include "store/env.h"
#include "util/err.h"

#include <stdlib.h>
#include <string.h>

static void be64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static uint64_t get_be64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

int v2hist_add(struct v2store *st, DB_TXN *txn, uint64_t index, int action, uint8_t flags,
               const char *key, size_t key_len, const void *body, size_t body_len)
{
	uint8_t kb[8], hdr[sizeof(struct v2_hist_hdr)];
	struct buf rec;
	DBT k, d;
	int rc;

	memset(hdr, 0, sizeof(hdr));
	hdr[0] = (uint8_t)action;
	hdr[1] = flags;
	le_put32(hdr + 4, (uint32_t)key_len);
	buf_init(&rec);
	buf_reserve(&rec, sizeof(hdr) + key_len + body_len);
	buf_put(&rec, hdr, sizeof(hdr));
	buf_put(&rec, key, key_len);
	buf_put(&rec, body, body_len);
	if (rec.oom) {
		buf_close(&rec);
		return CE_NOMEM;
	}
	be64(kb, index);
	memset(&k, 0, sizeof(k));
	memset(&d, 0, sizeof(d));
	k.data = kb;
	k.size = 8;
	d.data = rec.data;
	d.size = (u_int32_t)rec.len;
	rc = st->hist->put(st->hist, txn, &k, &d, 0);
	buf_close(&rec);
	if (rc == 0 && index > V2_HISTORY_CAPACITY) {
		be64(kb, index - V2_HISTORY_CAPACITY);
		rc = st->hist->del(st->hist, txn, &k, 0);
		if (rc == DB_NOTFOUND)
			rc = 0;
	}
	return store_db_err(rc);
}

static int has_prefix(const char *s, size_t n, const char *p, size_t pn)
{
	return n >= pn && memcmp(s, p, pn) == 0;
}

/* hist_match is etcd's scan condition for one event. */
static int hist_match(const char *wkey, size_t wlen, int recursive, const struct v2_hist_hdr *h,
                      const char *ekey)
{
	if (h->flags & V2_HIST_REFRESH)
		return 0;
	if (h->key_len == wlen && memcmp(ekey, wkey, wlen) == 0)
		return 1;
	if (recursive) {
		/* wkey is clean: only "/" ends in a slash */
		if (wlen == 1 && wkey[0] == '/') {
			if (h->key_len >= 1 && ekey[0] == '/')
				return 1;
		} else if (h->key_len > wlen && memcmp(ekey, wkey, wlen) == 0 && ekey[wlen] == '/') {
			return 1;
		}
	}
	if ((h->action == V2_ACT_DELETE || h->action == V2_ACT_EXPIRE) && (h->flags & V2_HIST_PREV_DIR) &&
	    has_prefix(wkey, wlen, ekey, h->key_len))
		return 1;
	return 0;
}

static int hist_edge(struct v2store *st, DB_TXN *txn, u_int32_t op, uint64_t *out)
{
	DBC *c = NULL;
	DBT k, d;
	int rc;

	*out = 0;
	if ((rc = st->hist->cursor(st->hist, txn, &c, 0)) != 0)
		return store_db_err(rc);
	memset(&k, 0, sizeof(k));
	memset(&d, 0, sizeof(d));
	k.flags = DB_DBT_REALLOC;
	d.flags = DB_DBT_REALLOC | DB_DBT_PARTIAL; /* the key is all we need */
	d.dlen = 0;
	rc = c->get(c, &k, &d, op);
	if (rc == 0 && k.size == 8)
		*out = get_be64(k.data);
	else if (rc == 0)
		rc = CE_CORRUPT;
	free(k.data);
	free(d.data);
	c->close(c);
	if (rc == DB_NOTFOUND)
		return 0;
	return rc < 0 ? rc : store_db_err(rc);
}

struct hist_scan {
	const char *key;
	size_t key_len;
	int recursive;
	int *found;
	struct buf *out;
};

static int hist_one(void *arg, DBC *c, const uint8_t *kb, size_t klen, const uint8_t *p,
                    size_t dlen)
{
	struct hist_scan *x = arg;
	struct v2_hist_hdr h;

	(void)c;
	(void)kb;
	(void)klen;
	if (dlen < sizeof(h) || le_get32(p + 4) > dlen - sizeof(h))
		return CE_CORRUPT;
	h.action = p[0];
	h.flags = p[1];
	h.key_len = le_get32(p + 4);
	if (!hist_match(x->key, x->key_len, x->recursive, &h, (const char *)p + sizeof(h)))
		return 0;
	buf_put(x->out, p + sizeof(h) + h.key_len, dlen - sizeof(h) - h.key_len);
	*x->found = 1;
	return x->out->oom ? CE_NOMEM : 1;
}

int v2hist_scan(struct v2store *st, DB_TXN *txn, const char *key, size_t key_len, int recursive,
                uint64_t since, int *found, struct buf *out, uint64_t *oldest)
{
	struct hist_scan x = { key, key_len, recursive, found, out };
	DBC *c = NULL;
	uint8_t kb[8];
	int rc;

	*found = 0;
	if ((rc = hist_edge(st, txn, DB_FIRST, oldest)) != 0)
		return rc;
	if (since < *oldest)
		return 0; /* the caller reports 401 */
	if ((rc = st->hist->cursor(st->hist, txn, &c, 0)) != 0)
		return store_db_err(rc);
	be64(kb, since);
	rc = v2_scan(c, kb, sizeof(kb), NULL, 0, hist_one, &x);
	c->close(c);
	return rc > 0 ? 0 : rc;
}
