/* v2tree.c - the v2 store's node records and expiry index in Berkeley DB.
 *
 * nodes:  key = parent path '\0' name  -> struct v2_node_hdr + value
 * expiry: key = big-endian (expire_ns ^ sign bit) + path -> empty
 * Directory children are one key range (sorted listings come free); a
 * subtree is the ranges "dir\0" and "dir/". See README.
 */
#include "config.h"
#include "store/v2store_int.h"

#include "store/env.h"
#include "util/err.h"

#include <stdlib.h>
#include <string.h>

static void dbt_init(DBT *d, const void *p, size_t n)
{
	memset(d, 0, sizeof(*d));
	d->data = (void *)p;
	d->size = (u_int32_t)n;
}

/* node_key writes the nodes-table key of a (non-root) path into k. */
static void node_key(struct buf *k, const char *path, size_t n)
{
	size_t slash = n;

	while (slash > 0 && path[slash - 1] != '/')
		slash--;
	/* slash is one past the last '/' */
	buf_reset(k);
	if (slash <= 1)
		buf_put_u8(k, '/');
	else
		buf_put(k, path, slash - 1);
	buf_put_u8(k, 0);
	buf_put(k, path + slash, n - slash);
}

static void expiry_key(struct buf *k, int64_t exp, const char *path, size_t n)
{
	uint64_t v = (uint64_t)exp ^ (1ULL << 63);
	uint8_t be[8];
	int i;

	for (i = 0; i < 8; i++)
		be[i] = (uint8_t)(v >> (56 - 8 * i));
	buf_reset(k);
	buf_put(k, be, 8);
	buf_put(k, path, n);
}

static int node_decode(const DBT *d, struct v2_node *out)
{
	const uint8_t *p = d->data;

	if (d->size < sizeof(struct v2_node_hdr))
		return CE_CORRUPT;
	out->dir = (p[0] & V2_NODE_DIR) != 0;
	out->created = le_get64(p + 8);
	out->modified = le_get64(p + 16);
	out->expire_ns = (int64_t)le_get64(p + 24);
	out->value = (const char *)p + sizeof(struct v2_node_hdr);
	out->value_len = d->size - sizeof(struct v2_node_hdr);
	return 0;
}

int v2tree_get(struct v2store *st, DB_TXN *txn, const char *path, size_t n, struct v2_node *out)
{
	DBT k, d;
	int rc;

	memset(out, 0, sizeof(*out));
	if (n == 1 && path[0] == '/') {
		out->dir = 1;
		out->value = "";
		return 0;
	}
	node_key(&st->key, path, n);
	if (st->key.oom)
		return CE_NOMEM;
	dbt_init(&k, st->key.data, st->key.len);
	memset(&d, 0, sizeof(d));
	d.flags = DB_DBT_REALLOC;
	d.data = st->rbuf;
	rc = st->nodes->get(st->nodes, txn, &k, &d, 0);
	st->rbuf = d.data;
	if (rc != 0)
		return store_db_err(rc);
	return node_decode(&d, out);
}

static int expiry_put(struct v2store *st, DB_TXN *txn, int64_t exp, const char *path, size_t n, int del)
{
	struct buf k;
	DBT kd, dd;
	int rc;

	buf_init(&k);
	expiry_key(&k, exp, path, n);
	if (k.oom) {
		buf_close(&k);
		return CE_NOMEM;
	}
	dbt_init(&kd, k.data, k.len);
	dbt_init(&dd, "", 0);
	if (del) {
		rc = st->expiry->del(st->expiry, txn, &kd, 0);
		if (rc == DB_NOTFOUND)
			rc = 0;
	} else {
		rc = st->expiry->put(st->expiry, txn, &kd, &dd, 0);
	}
	buf_close(&k);
	return store_db_err(rc);
}

int v2tree_put(struct v2store *st, DB_TXN *txn, const char *path, size_t n,
               const struct v2_node *node, int64_t old_expire_ns)
{
	struct buf rec;
	uint8_t hdr[sizeof(struct v2_node_hdr)];
	DBT k, d;
	int rc;

	memset(hdr, 0, sizeof(hdr));
	hdr[0] = node->dir ? V2_NODE_DIR : 0;
	le_put64(hdr + 8, node->created);
	le_put64(hdr + 16, node->modified);
	le_put64(hdr + 24, (uint64_t)node->expire_ns);
	node_key(&st->key, path, n);
	buf_init(&rec);
	buf_reserve(&rec, sizeof(hdr) + node->value_len);
	buf_put(&rec, hdr, sizeof(hdr));
	buf_put(&rec, node->value, node->value_len);
	if (rec.oom || st->key.oom) {
		rc = CE_NOMEM;
		goto out;
	}
	dbt_init(&k, st->key.data, st->key.len);
	dbt_init(&d, rec.data, rec.len);
	rc = store_db_err(st->nodes->put(st->nodes, txn, &k, &d, 0));
	if (rc == 0 && old_expire_ns != node->expire_ns) {
		if (old_expire_ns != 0)
			rc = expiry_put(st, txn, old_expire_ns, path, n, 1);
		if (rc == 0 && node->expire_ns != 0)
			rc = expiry_put(st, txn, node->expire_ns, path, n, 0);
	}
out:
	buf_close(&rec);
	return rc;
}

int v2tree_del(struct v2store *st, DB_TXN *txn, const char *path, size_t n, int64_t expire_ns)
{
	DBT k;
	int rc;

	node_key(&st->key, path, n);
	if (st->key.oom)
		return CE_NOMEM;
	dbt_init(&k, st->key.data, st->key.len);
	rc = store_db_err(st->nodes->del(st->nodes, txn, &k, 0));
	if (rc == 0 && expire_ns != 0)
		rc = expiry_put(st, txn, expire_ns, path, n, 1);
	return rc;
}

/* range_prefix builds the key prefix of the children ("dir\0") or of the
 * deeper descendants ("dir/") of dir. */
static void range_prefix(struct buf *k, const char *path, size_t n, uint8_t sep)
{
	buf_reset(k);
	buf_put(k, path, n);
	if (!(n == 1 && path[0] == '/') || sep == 0)
		buf_put_u8(k, sep);
}

/* child_path rebuilds a node's path from its nodes-table key. */
static void child_path(struct buf *out, const uint8_t *key, size_t n)
{
	const uint8_t *nul = memchr(key, 0, n);
	size_t plen = nul ? (size_t)(nul - key) : n;

	buf_reset(out);
	buf_put(out, key, plen);
	if (!(plen == 1 && key[0] == '/'))
		buf_put_u8(out, '/');
	if (nul)
		buf_put(out, nul + 1, n - plen - 1);
}

int v2_scan(DBC *c, const void *start, size_t slen, const void *prefix, size_t plen,
            v2_scan_cb cb, void *arg)
{
	DBT k, d;
	u_int32_t op = DB_SET_RANGE;
	int rc;

	memset(&k, 0, sizeof(k));
	memset(&d, 0, sizeof(d));
	k.flags = DB_DBT_REALLOC;
	d.flags = DB_DBT_REALLOC;
	k.data = malloc(slen ? slen : 1);
	if (k.data == NULL)
		return CE_NOMEM;
	memcpy(k.data, start, slen);
	k.size = (u_int32_t)slen;
	for (;;) {
		rc = c->get(c, &k, &d, op);
		op = DB_NEXT;
		if (rc == DB_NOTFOUND) {
			rc = 0;
			break;
		}
		if (rc != 0) {
			rc = store_db_err(rc);
			break;
		}
		if (plen && (k.size < plen || memcmp(k.data, prefix, plen) != 0))
			break;
		rc = cb(arg, c, k.data, k.size, d.data, d.size);
		if (rc != 0)
			break; /* a positive stop value is returned as it is */
	}
	free(k.data);
	free(d.data);
	return rc;
}

struct del_ctx {
	struct v2store *st;
	DB_TXN *txn;
	struct buf path;
};

static int del_one(void *arg, DBC *c, const uint8_t *key, size_t klen, const uint8_t *data,
                   size_t dlen)
{
	struct del_ctx *x = arg;
	struct v2_node node;
	DBT d;
	int rc;

	memset(&d, 0, sizeof(d));
	d.data = (void *)data;
	d.size = (u_int32_t)dlen;
	if ((rc = node_decode(&d, &node)) != 0)
		return rc;
	if (node.expire_ns != 0) {
		child_path(&x->path, key, klen);
		if ((rc = expiry_put(x->st, x->txn, node.expire_ns, (const char *)x->path.data,
		                     x->path.len, 1)) != 0)
			return rc;
	}
	return store_db_err(c->del(c, 0));
}

static int del_range(struct v2store *st, DB_TXN *txn, DBC *c, const struct buf *prefix)
{
	struct del_ctx x = { st, txn, { 0 } };
	int rc;

	buf_init(&x.path);
	rc = v2_scan(c, prefix->data, prefix->len, prefix->data, prefix->len, del_one, &x);
	buf_close(&x.path);
	return rc;
}

int v2tree_del_below(struct v2store *st, DB_TXN *txn, const char *path, size_t n)
{
	struct buf prefix;
	DBC *c = NULL;
	int rc;

	if ((rc = st->nodes->cursor(st->nodes, txn, &c, 0)) != 0)
		return store_db_err(rc);
	buf_init(&prefix);
	range_prefix(&prefix, path, n, 0);
	rc = del_range(st, txn, c, &prefix);
	if (rc == 0 && !(n == 1 && path[0] == '/')) {
		range_prefix(&prefix, path, n, '/');
		rc = del_range(st, txn, c, &prefix);
	}
	c->close(c);
	buf_close(&prefix);
	return rc;
}

static int has_children_cb(void *arg, const char *name, size_t name_len, const struct v2_node *child)
{
	(void)arg;
	(void)name;
	(void)name_len;
	(void)child;
	return 1; /* stop at the first child */
}

int v2tree_has_children(struct v2store *st, DB_TXN *txn, const char *path, size_t n)
{
	return v2tree_list(st, txn, path, n, has_children_cb, NULL);
}

int v2tree_first_expiry(struct v2store *st, DB_TXN *txn, int64_t *exp_ns)
{
	DBC *c = NULL;
	DBT k, d;
	const uint8_t *p;
	uint64_t v = 0;
	int rc, i;

	if ((rc = st->expiry->cursor(st->expiry, txn, &c, 0)) != 0)
		return store_db_err(rc);
	memset(&k, 0, sizeof(k));
	memset(&d, 0, sizeof(d));
	k.flags = DB_DBT_REALLOC;
	k.data = st->kbuf;
	d.flags = DB_DBT_REALLOC;
	rc = c->get(c, &k, &d, DB_FIRST);
	st->kbuf = k.data;
	free(d.data);
	c->close(c);
	if (rc != 0)
		return store_db_err(rc);
	if (k.size < 9)
		return CE_CORRUPT;
	p = k.data;
	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	*exp_ns = (int64_t)(v ^ (1ULL << 63));
	buf_reset(&st->path2);
	buf_put(&st->path2, p + 8, k.size - 8);
	return st->path2.oom ? CE_NOMEM : 0;
}

struct list_scan {
	size_t plen;
	v2tree_list_cb cb;
	void *arg;
};

static int list_one(void *arg, DBC *c, const uint8_t *key, size_t klen, const uint8_t *data,
                    size_t dlen)
{
	struct list_scan *x = arg;
	struct v2_node node;
	DBT d;
	int rc;

	(void)c;
	memset(&d, 0, sizeof(d));
	d.data = (void *)data;
	d.size = (u_int32_t)dlen;
	if ((rc = node_decode(&d, &node)) != 0)
		return rc;
	return x->cb(x->arg, (const char *)key + x->plen, klen - x->plen, &node);
}

int v2tree_list(struct v2store *st, DB_TXN *txn, const char *path, size_t n,
                v2tree_list_cb cb, void *arg)
{
	struct buf prefix;
	struct list_scan x;
	DBC *c = NULL;
	int rc;

	if ((rc = st->nodes->cursor(st->nodes, txn, &c, 0)) != 0)
		return store_db_err(rc);
	buf_init(&prefix);
	range_prefix(&prefix, path, n, 0);
	x.plen = prefix.len;
	x.cb = cb;
	x.arg = arg;
	rc = prefix.oom ? CE_NOMEM : v2_scan(c, prefix.data, prefix.len, prefix.data, prefix.len,
	                                     list_one, &x);
	c->close(c);
	buf_close(&prefix);
	return rc;
}
