/* v3auth_perm.c - who may do what once auth is enabled, as etcd 3.4's
 * auth store decides (isOpPermitted, IsAdminPermitted) and its
 * authApplierV3 applies it per request (etcdserver/apply_auth.go): reads
 * need READ on the range, writes WRITE, a put or revoke also WRITE on
 * every key of the lease, the root role anything; and the V3_AUTH_WRAP
 * envelope that carries the sender through raft. */
#include "config.h"
#include "v3/v3auth.h"
#include "v3/v3auth_int.h"

#include "pb/pb.h"
#include "store/lease.h"
#include "util/err.h"
#include "v3/v3.h"
#include "v3/v3_int.h"

#include <stdlib.h>
#include <string.h>

/* ---- the envelope ---------------------------------------------------- */

void v3_auth_wrap(struct buf *out, const struct v3_auth_who *who, int method, const uint8_t *req,
	size_t len)
{
	uint8_t m = V3_AUTH_WRAP, im = (uint8_t)method;
	size_t ul = who && who->user_len <= 0xffff ? who->user_len : 0;

	buf_put(out, &m, 1);
	buf_put_u64(out, who ? who->rev : 0);
	buf_put_u32(out, (uint32_t)ul);
	if (ul)
		buf_put(out, who->user, ul);
	buf_put(out, &im, 1);
	buf_put(out, req, len);
}

int v3_auth_unwrap(const uint8_t *p, size_t n, struct v3_auth_who *who, int *method,
	const uint8_t **req, size_t *len)
{
	uint32_t ul;

	if (n < 13)
		return CE_CORRUPT;
	who->rev = le_get64(p);
	ul = le_get32(p + 8);
	if (n - 12 < (size_t)ul + 1)
		return CE_CORRUPT;
	who->user = (const char *)p + 12;
	who->user_len = ul;
	*method = p[12 + ul];
	*req = p + 13 + ul;
	*len = n - 13 - ul;
	return 0;
}

/* ---- what a user may touch -------------------------------------------- */

/* One interval [b, e) of keys; inf: no end. Ends live in an arena (the
 * successor of a single key is key + "\0"). */
struct ivl {
	size_t b, bl, e, el;
	int inf;
};

struct perms {
	int root;
	struct buf arena;
	struct ivl *v;
	size_t n, cap;
};

static int add_ivl(struct perms *ps, const uint8_t *k, size_t kl, const uint8_t *e, size_t el)
{
	struct ivl iv = { 0 };
	uint8_t zero = 0;

	if (ps->n == ps->cap) {
		size_t cap = ps->cap ? ps->cap * 2 : 16;
		struct ivl *v = realloc(ps->v, cap * sizeof(*v));
		if (v == NULL)
			return CE_NOMEM;
		ps->v = v;
		ps->cap = cap;
	}
	iv.b = ps->arena.len;
	iv.bl = kl;
	buf_put(&ps->arena, k, kl);
	if (el == 1 && e[0] == 0) {
		iv.inf = 1;
	} else if (el == 0) {
		iv.e = ps->arena.len;
		iv.el = kl + 1;
		buf_put(&ps->arena, k, kl);
		buf_put(&ps->arena, &zero, 1);
	} else {
		iv.e = ps->arena.len;
		iv.el = el;
		buf_put(&ps->arena, e, el);
	}
	ps->v[ps->n++] = iv;
	return ps->arena.oom ? CE_NOMEM : 0;
}

static void perms_free(struct perms *ps)
{
	buf_close(&ps->arena);
	free(ps->v);
}

/* load_perms: the intervals of user's roles granting write (WRITE or
 * READWRITE) or read (READ or READWRITE); *found = 0: no such user. */
static int load_perms(DB *meta, DB_TXN *txn, const struct v3_auth_who *who, int write,
	struct perms *ps, int *found)
{
	struct v3auth_strs roles = { 0 };
	struct buf u, r;
	int rc;

	buf_init(&u);
	buf_init(&r);
	rc = v3auth_get(meta, txn, V3AUTH_USER, (const uint8_t *)who->user, who->user_len, &u, found);
	if (rc == 0 && *found)
		rc = v3auth_strs_of(u.data, u.len, AU_ROLES, &roles);
	for (size_t i = 0; rc == 0 && i < roles.n && !ps->root; i++) {
		struct v3auth_strs pv = { 0 };
		int rf = 0;
		if (roles.v[i].n == 4 && memcmp(roles.v[i].p, V3AUTH_ROOT, 4) == 0) {
			ps->root = 1;
			break;
		}
		if ((rc = v3auth_get(meta, txn, V3AUTH_ROLE, roles.v[i].p, roles.v[i].n, &r, &rf)) != 0 ||
			!rf)
			continue;
		rc = v3auth_strs_of(r.data, r.len, AR_PERMS, &pv);
		for (size_t j = 0; rc == 0 && j < pv.n; j++) {
			const uint8_t *k = NULL, *e = NULL;
			size_t kl = 0, el = 0;
			int32_t t = 0;
			pb_get_i32(pv.v[j].p, pv.v[j].n, AP_TYPE, &t);
			if (!(t == V3_PERM_READWRITE || (write ? t == V3_PERM_WRITE : t == V3_PERM_READ)))
				continue;
			pb_get_bytes(pv.v[j].p, pv.v[j].n, AP_KEY, &k, &kl);
			pb_get_bytes(pv.v[j].p, pv.v[j].n, AP_END, &e, &el);
			rc = add_ivl(ps, k ? k : (const uint8_t *)"", kl, e, el);
		}
		v3auth_strs_free(&pv);
	}
	v3auth_strs_free(&roles);
	buf_close(&u);
	buf_close(&r);
	return rc;
}

/* covered: is the request interval q inside the union of ps's intervals
 * (etcd's interval tree Contains)? */
static int covered(const struct perms *ps, const struct ivl *q, const uint8_t *qa)
{
	const uint8_t *pa = ps->arena.data;
	const uint8_t *cur = qa + q->b;
	size_t cl = q->bl;

	for (size_t round = 0; round <= ps->n; round++) {
		const struct ivl *best = NULL;
		for (size_t i = 0; i < ps->n; i++) {
			const struct ivl *v = &ps->v[i];
			if (v3auth_cmp(pa + v->b, v->bl, cur, cl) > 0)
				continue;
			if (!v->inf && v3auth_cmp(pa + v->e, v->el, cur, cl) <= 0)
				continue;
			if (best == NULL || v->inf ||
				(!best->inf && v3auth_cmp(pa + v->e, v->el, pa + best->e, best->el) > 0))
				best = v;
		}
		if (best == NULL)
			return 0;
		if (best->inf)
			return 1;
		if (!q->inf && v3auth_cmp(pa + best->e, best->el, qa + q->e, q->el) >= 0)
			return 1;
		cur = pa + best->e;
		cl = best->el;
	}
	return 0;
}

static int denied(int *code, char *msg, size_t msglen)
{
	return v3_fail(code, msg, msglen, V3_PERMISSION_DENIED, V3_ERR_PERMISSION_DENIED);
}

/* op_permitted: etcd's isOpPermitted, auth known to be enabled at rev. */
static int op_permitted(DB *meta, DB_TXN *txn, uint64_t rev, const struct v3_auth_who *who,
	int write, const uint8_t *k, size_t kl, const uint8_t *e, size_t el, int *code, char *msg,
	size_t msglen)
{
	struct perms ps = { 0 };
	struct ivl q = { 0 };
	struct buf qa;
	int found = 0, rc;
	uint8_t zero = 0;

	if (who == NULL || who->rev == 0)
		return v3_fail(code, msg, msglen, V3_INVALID_ARGUMENT, V3_ERR_USER_EMPTY);
	if (who->rev < rev)
		return v3_fail(code, msg, msglen, V3_INVALID_ARGUMENT,
			"etcdserver: revision of auth store is old");
	buf_init(&ps.arena);
	buf_init(&qa);
	rc = load_perms(meta, txn, who, write, &ps, &found);
	if (rc == 0 && !found)
		denied(code, msg, msglen);
	if (rc == 0 && found && !ps.root) {
		buf_put(&qa, k, kl);
		q.bl = kl;
		if (el == 1 && e[0] == 0) {
			q.inf = 1;
		} else if (el == 0) {
			buf_put(&qa, k, kl);
			buf_put(&qa, &zero, 1);
			q.e = kl;
			q.el = kl + 1;
		} else {
			buf_put(&qa, e, el);
			q.e = kl;
			q.el = el;
		}
		if (qa.oom)
			rc = CE_NOMEM;
		else if (!covered(&ps, &q, qa.data))
			denied(code, msg, msglen);
	}
	perms_free(&ps);
	buf_close(&qa);
	return rc;
}

int v3_auth_check_range(DB *meta, DB_TXN *txn, const struct v3_auth_who *who, int write,
	const uint8_t *key, size_t kl, const uint8_t *end, size_t el, int *code, char *msg,
	size_t msglen)
{
	uint64_t rev;
	int enabled, rc;

	*code = 0;
	if ((rc = v3_auth_state(meta, txn, &enabled, &rev)) != 0 || !enabled)
		return rc;
	return op_permitted(meta, txn, rev, who, write, key ? key : (const uint8_t *)"", kl, end, el,
		code, msg, msglen);
}

/* One check context: auth state read once per request. */
struct chk {
	DB *meta;
	DB_TXN *txn;
	struct lease *lease;
	const struct v3_auth_who *who;
	uint64_t rev;
	int *code;
	char *msg;
	size_t msglen;
};

static int chk_range(struct chk *c, int write, const uint8_t *p, size_t n, uint32_t fk,
	uint32_t fe)
{
	const uint8_t *k = NULL, *e = NULL;
	size_t kl = 0, el = 0;

	if (*c->code != 0)
		return 0;
	pb_get_bytes(p, n, fk, &k, &kl);
	if (fe != 0)
		pb_get_bytes(p, n, fe, &e, &el);
	return op_permitted(c->meta, c->txn, c->rev, c->who, write, k ? k : (const uint8_t *)"", kl,
		e, el, c->code, c->msg, c->msglen);
}

/* chk_lease: etcd's checkLeasePuts, WRITE on every key of the lease. */
static int chk_lease(struct chk *c, int64_t id)
{
	struct lease_keys keys;
	struct lease_info info;
	char err[128];
	int rc = 0;

	if (id == 0 || c->lease == NULL || *c->code != 0)
		return 0;
	lease_keys_init(&keys);
	if (lease_get(c->lease, id, &info, &keys, err, sizeof(err)) == 0) {
		for (size_t i = 0; rc == 0 && *c->code == 0 && i < keys.n; i++) {
			size_t kl;
			const uint8_t *k = lease_keys_at(&keys, i, &kl);
			rc = op_permitted(c->meta, c->txn, c->rev, c->who, 1, k, kl, NULL, 0, c->code,
				c->msg, c->msglen);
		}
	}
	lease_keys_close(&keys);
	return rc;
}

/* chk_txn: etcd's checkTxnReqsPermission: READ on every compare, then
 * every operation of both branches (nested txns too). */
static int chk_txn(struct chk *c, const uint8_t *p, size_t n, int depth)
{
	struct pb_reader r;
	struct pb_item it;
	int rc = 0;

	if (depth > 16)
		return 0;
	pb_reader_init(&r, p, n);
	while (rc == 0 && *c->code == 0 && pb_next_of(&r, 1, &it) == 1) /* compare */
		rc = chk_range(c, 0, it.data, it.len, 3, 64);
	for (uint32_t f = 2; f <= 3; f++) { /* success, failure */
		pb_reader_init(&r, p, n);
		while (rc == 0 && *c->code == 0 && pb_next_of(&r, f, &it) == 1) {
			struct pb_reader o;
			struct pb_item op;
			pb_reader_init(&o, it.data, it.len);
			while (rc == 0 && *c->code == 0 && pb_next(&o, &op) == 1) {
				if (op.number == 1)      /* request_range */
					rc = chk_range(c, 0, op.data, op.len, 1, 2);
				else if (op.number == 2) /* request_put */
					rc = chk_range(c, 1, op.data, op.len, 1, 0);
				else if (op.number == 3) /* request_delete_range */
					rc = chk_range(c, 1, op.data, op.len, 1, 2);
				else if (op.number == 4) /* request_txn */
					rc = chk_txn(c, op.data, op.len, depth + 1);
			}
		}
	}
	return rc;
}

/* admin_permitted: etcd's IsAdminPermitted (auth enabled). */
static int admin_permitted(struct chk *c)
{
	struct perms ps = { 0 };
	int found = 0, rc;

	if (c->who == NULL || c->who->user_len == 0)
		return v3_fail(c->code, c->msg, c->msglen, V3_INVALID_ARGUMENT, V3_ERR_USER_EMPTY);
	buf_init(&ps.arena);
	rc = load_perms(c->meta, c->txn, c->who, 0, &ps, &found);
	if (rc == 0 && !found)
		v3_fail(c->code, c->msg, c->msglen, V3_FAILED_PRECONDITION,
			"etcdserver: user name not found");
	else if (rc == 0 && !ps.root)
		denied(c->code, c->msg, c->msglen);
	perms_free(&ps);
	return rc;
}

int v3_auth_is_admin_op(int op)
{
	return op != V3_AUTH_AUTHENTICATE && op != V3_AUTH_USER_GET && op != V3_AUTH_ROLE_GET;
}

/* chk_auth_op: the Auth calls: admin ones need root; UserGet of oneself
 * and RoleGet of one's own role are allowed (authApplierV3). */
static int chk_auth_op(struct chk *c, const uint8_t *p, size_t n)
{
	const uint8_t *name = NULL;
	size_t nl = 0;
	int op, rc;

	if (n < 1)
		return 0;
	op = p[0];
	if (op == V3_AUTH_AUTHENTICATE)
		return 0;
	/* no user: etcd 3.4 answers "user name is empty" to UserGet and
	 * RoleGet too (before looking at whose they are) */
	if ((rc = admin_permitted(c)) != 0 || *c->code == 0 || v3_auth_is_admin_op(op) ||
		c->who == NULL || c->who->user_len == 0)
		return rc;
	pb_get_bytes(p + 1, n - 1, 1, &name, &nl);
	if (op == V3_AUTH_USER_GET && c->who != NULL && nl == c->who->user_len &&
		(nl == 0 || memcmp(name, c->who->user, nl) == 0)) {
		*c->code = 0;
		return 0;
	}
	if (op == V3_AUTH_ROLE_GET && c->who != NULL && c->who->user_len > 0) {
		struct v3auth_strs roles = { 0 };
		struct buf u;
		int found = 0, has = 0;
		buf_init(&u);
		rc = v3auth_get(c->meta, c->txn, V3AUTH_USER, (const uint8_t *)c->who->user,
			c->who->user_len, &u, &found);
		if (rc == 0 && found && v3auth_strs_of(u.data, u.len, AU_ROLES, &roles) == 0)
			for (size_t i = 0; i < roles.n && !has; i++)
				has = v3auth_cmp(roles.v[i].p, roles.v[i].n, name, nl) == 0;
		v3auth_strs_free(&roles);
		buf_close(&u);
		if (has) {
			*c->code = 0;
			return rc;
		}
	}
	return rc == 0 ? denied(c->code, c->msg, c->msglen) : rc;
}

int v3_auth_check(DB *meta, DB_TXN *txn, struct lease *lease, const struct v3_auth_who *who,
	int method, const uint8_t *req, size_t len, int *code, char *msg, size_t msglen)
{
	struct chk c = { meta, txn, lease, who, 0, code, msg, msglen };
	int enabled, b = 0, rc;
	int64_t id = 0;

	*code = 0;
	if ((rc = v3_auth_state(meta, txn, &enabled, &c.rev)) != 0 || !enabled)
		return rc;
	switch (method) {
	case V3_RANGE:
		return chk_range(&c, 0, req, len, 1, 2);
	case V3_PUT: /* key, the lease's keys, then the key's read for prev_kv */
		if ((rc = chk_range(&c, 1, req, len, 1, 0)) != 0)
			return rc;
		pb_get_i64(req, len, 3, &id);
		if ((rc = chk_lease(&c, id)) != 0)
			return rc;
		pb_get_bool(req, len, 4, &b);
		return b ? chk_range(&c, 0, req, len, 1, 0) : 0;
	case V3_DELETE_RANGE:
		if ((rc = chk_range(&c, 1, req, len, 1, 2)) != 0)
			return rc;
		pb_get_bool(req, len, 3, &b);
		return b ? chk_range(&c, 0, req, len, 1, 2) : 0;
	case V3_TXN:
		return chk_txn(&c, req, len, 0);
	case V3_LEASE_REVOKE:
		pb_get_i64(req, len, 1, &id);
		return chk_lease(&c, id);
	case V3_AUTH:
		return chk_auth_op(&c, req, len);
	default:
		return 0;
	}
}
