/* v3auth.c - etcd 3.4's auth store (auth/store.go) on the meta table: the
 * Auth service calls as every member's storage worker applies them, and
 * the reads the api workers need (state, password hashes). Layout and
 * travel format: v3auth.h. */
#include "config.h"
#include "v3/v3auth.h"
#include "v3/v3auth_int.h"

#include "pb/pb.h"
#include "store/authtok.h"
#include "store/env.h"
#include "store/mvcc.h"
#include "util/err.h"
#include "v3/v3.h"
#include "v3/v3_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- small pieces ---------------------------------------------------- */

int v3auth_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
	int c = memcmp(a, b, al < bl ? al : bl);

	if (c != 0)
		return c;
	return al < bl ? -1 : al > bl ? 1 : 0;
}

int v3auth_strs_add(struct v3auth_strs *s, size_t at, const uint8_t *p, size_t n)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 8;
		struct v3auth_str *v = realloc(s->v, cap * sizeof(*v));
		if (v == NULL)
			return CE_NOMEM;
		s->v = v;
		s->cap = cap;
	}
	memmove(s->v + at + 1, s->v + at, (s->n - at) * sizeof(*s->v));
	s->v[at].p = p;
	s->v[at].n = n;
	s->n++;
	return 0;
}

void v3auth_strs_free(struct v3auth_strs *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

int v3auth_strs_of(const uint8_t *msg, size_t len, uint32_t field, struct v3auth_strs *s)
{
	struct pb_reader r;
	struct pb_item it;
	int rc;

	pb_reader_init(&r, msg, len);
	while ((rc = pb_next_of(&r, field, &it)) == 1)
		if (it.wire == PB_WIRE_LEN && (rc = v3auth_strs_add(s, s->n, it.data, it.len)) != 0)
			return rc;
	return rc < 0 ? rc : 0;
}

static void key_of(struct buf *k, const char *kind, const uint8_t *name, size_t nl)
{
	buf_init(k);
	buf_put(k, kind, strlen(kind));
	buf_put(k, name, nl);
}

static int meta_get(DB *meta, DB_TXN *txn, const void *key, size_t kl, struct buf *val,
	int *found)
{
	DBT k, d;
	int rc;

	memset(&k, 0, sizeof(k));
	memset(&d, 0, sizeof(d));
	k.data = (void *)key;
	k.size = (u_int32_t)kl;
	d.flags = DB_DBT_MALLOC;
	*found = 0;
	val->len = 0;
	rc = meta->get(meta, txn, &k, &d, txn ? 0 : DB_READ_COMMITTED);
	if (rc == DB_NOTFOUND)
		return 0;
	if (rc != 0)
		return store_db_err(rc);
	buf_put(val, d.data, d.size);
	free(d.data);
	*found = 1;
	return val->oom ? CE_NOMEM : 0;
}

static int meta_put(DB *meta, DB_TXN *txn, const void *key, size_t kl, const void *v, size_t vl)
{
	DBT k, d;

	memset(&k, 0, sizeof(k));
	memset(&d, 0, sizeof(d));
	k.data = (void *)key;
	k.size = (u_int32_t)kl;
	d.data = (void *)v;
	d.size = (u_int32_t)vl;
	return store_db_err(meta->put(meta, txn, &k, &d, 0));
}

static int meta_del(DB *meta, DB_TXN *txn, const void *key, size_t kl)
{
	DBT k;
	int rc;

	memset(&k, 0, sizeof(k));
	k.data = (void *)key;
	k.size = (u_int32_t)kl;
	rc = meta->del(meta, txn, &k, 0);
	return rc == DB_NOTFOUND ? 0 : store_db_err(rc);
}

int v3auth_get(DB *meta, DB_TXN *txn, const char *kind, const uint8_t *name, size_t nl,
	struct buf *val, int *found)
{
	struct buf k;
	int rc;

	key_of(&k, kind, name, nl);
	rc = k.oom ? CE_NOMEM : meta_get(meta, txn, k.data, k.len, val, found);
	buf_close(&k);
	return rc;
}

static int rec_put(DB *meta, DB_TXN *txn, const char *kind, const uint8_t *name, size_t nl,
	const struct buf *val)
{
	struct buf k;
	int rc;

	key_of(&k, kind, name, nl);
	rc = k.oom || val->oom ? CE_NOMEM : meta_put(meta, txn, k.data, k.len, val->data, val->len);
	buf_close(&k);
	return rc;
}

static int rec_del(DB *meta, DB_TXN *txn, const char *kind, const uint8_t *name, size_t nl)
{
	struct buf k;
	int rc;

	key_of(&k, kind, name, nl);
	rc = k.oom ? CE_NOMEM : meta_del(meta, txn, k.data, k.len);
	buf_close(&k);
	return rc;
}

/* rec_names: the names of every record of kind, in byte order, as
 * repeated string field of out. */
static int rec_names(DB *meta, DB_TXN *txn, const char *kind, struct buf *out, uint32_t field)
{
	size_t pl = strlen(kind);
	DBC *cur;
	DBT k, d;
	int rc;

	if ((rc = meta->cursor(meta, txn, &cur, txn ? 0 : DB_READ_COMMITTED)) != 0)
		return store_db_err(rc);
	memset(&k, 0, sizeof(k));
	memset(&d, 0, sizeof(d));
	k.data = (void *)kind;
	k.size = (u_int32_t)pl;
	d.flags = DB_DBT_PARTIAL; /* names only */
	for (rc = cur->get(cur, &k, &d, DB_SET_RANGE); rc == 0; rc = cur->get(cur, &k, &d, DB_NEXT)) {
		if (k.size < pl || memcmp(k.data, kind, pl) != 0)
			break;
		pb_put_bytes_always(out, field, (const uint8_t *)k.data + pl, k.size - pl);
	}
	cur->close(cur);
	return rc == 0 || rc == DB_NOTFOUND ? 0 : store_db_err(rc);
}

int v3_auth_state(DB *meta, DB_TXN *txn, int *enabled, uint64_t *rev)
{
	struct buf v;
	int found, rc;

	buf_init(&v);
	*enabled = 0;
	*rev = 0;
	rc = meta_get(meta, txn, V3AUTH_KEY_ENABLED, strlen(V3AUTH_KEY_ENABLED), &v, &found);
	if (rc == 0 && found && v.len == 1)
		*enabled = v.data[0] != 0;
	if (rc == 0)
		rc = meta_get(meta, txn, V3AUTH_KEY_REV, strlen(V3AUTH_KEY_REV), &v, &found);
	if (rc == 0 && found && v.len == 8)
		*rev = le_get64(v.data);
	buf_close(&v);
	return rc;
}

int v3_auth_user_hash(DB *meta, DB_TXN *txn, const uint8_t *name, size_t nl, char *hash,
	size_t hashlen, int *no_password)
{
	const uint8_t *p = NULL, *o = NULL;
	size_t pl = 0, ol = 0;
	struct buf v;
	int found = 0, rc;

	buf_init(&v);
	*no_password = 0;
	rc = v3auth_get(meta, txn, V3AUTH_USER, name, nl, &v, &found);
	if (rc == 0 && !found)
		rc = CE_NOTFOUND;
	if (rc == 0) {
		pb_get_bytes(v.data, v.len, AU_PASSWORD, &p, &pl);
		if (pb_get_bytes(v.data, v.len, AU_OPTIONS, &o, &ol) == 1)
			pb_get_bool(o, ol, AU_OPT_NO_PASSWORD, no_password);
		snprintf(hash, hashlen, "%.*s", (int)pl, (const char *)p);
	}
	buf_close(&v);
	return rc;
}

/* ---- apply ----------------------------------------------------------- */

/* Request field numbers (api/etcdserverpb/rpc.proto). */
enum {
	UA_NAME = 1, UA_OPTIONS = 3, UA_HASH = 4,     /* AuthUserAddRequest (+hash) */
	UCP_NAME = 1, UCP_HASH = 3,                   /* AuthUserChangePasswordRequest */
	UGR_USER = 1, UGR_ROLE = 2,                   /* AuthUserGrantRoleRequest */
	URR_NAME = 1, URR_ROLE = 2,                   /* AuthUserRevokeRoleRequest */
	RGP_NAME = 1, RGP_PERM = 2,                   /* AuthRoleGrantPermissionRequest */
	RRP_ROLE = 1, RRP_KEY = 2, RRP_END = 3,       /* AuthRoleRevokePermissionRequest */
	IAR_NAME = 1, IAR_TOKEN = 3,                  /* InternalAuthenticateRequest */
	IAR_CHECKED_REV = 10,                         /* cetcd: rev of the password check */
};

/* One apply: the request and what it works on. */
struct aap {
	struct v3_ctx *c;
	DB *meta;
	DB_TXN *txn;
	int *code;
	char *msg;
	size_t msglen;
	int changed; /* the auth revision goes up */
};

static int fail(struct aap *a, int code, const char *text)
{
	return v3_fail(a->code, a->msg, a->msglen, code, text);
}

static int fail_fp(struct aap *a, const char *text)
{
	return fail(a, V3_FAILED_PRECONDITION, text);
}

static const uint8_t *str(const uint8_t *req, size_t len, uint32_t f, size_t *n)
{
	const uint8_t *p = NULL;

	*n = 0;
	pb_get_bytes(req, len, f, &p, n);
	return p ? p : (const uint8_t *)"";
}

static int is_root(const uint8_t *p, size_t n)
{
	return n == 4 && memcmp(p, V3AUTH_ROOT, 4) == 0;
}

static int state(struct aap *a, int *enabled)
{
	uint64_t rev;

	return v3_auth_state(a->meta, a->txn, enabled, &rev);
}

static int set_enabled(struct aap *a, int on)
{
	uint8_t b = (uint8_t)(on != 0);

	a->changed = 1;
	return meta_put(a->meta, a->txn, V3AUTH_KEY_ENABLED, strlen(V3AUTH_KEY_ENABLED), &b, 1);
}

/* user_roles: the roles of a user record (sorted, as etcd keeps them). */
static int has_role(const struct buf *user, const char *role, size_t rl)
{
	struct v3auth_strs s = { 0 };
	int yes = 0;

	if (v3auth_strs_of(user->data, user->len, AU_ROLES, &s) == 0)
		for (size_t i = 0; i < s.n && !yes; i++)
			yes = s.v[i].n == rl && memcmp(s.v[i].p, role, rl) == 0;
	v3auth_strs_free(&s);
	return yes;
}

/* put_user re-encodes a user record with roles replaced. */
static int put_user(struct aap *a, const struct buf *old, const struct v3auth_strs *roles,
	const uint8_t *hash, size_t hl, int new_hash)
{
	const uint8_t *n, *p, *o = NULL;
	size_t nl, pl, ol = 0;
	struct buf v;
	int rc;

	n = str(old->data, old->len, AU_NAME, &nl);
	p = str(old->data, old->len, AU_PASSWORD, &pl);
	pb_get_bytes(old->data, old->len, AU_OPTIONS, &o, &ol);
	if (new_hash) {
		p = hash;
		pl = hl;
	}
	buf_init(&v);
	pb_put_bytes(&v, AU_NAME, n, nl);
	pb_put_bytes(&v, AU_PASSWORD, p, pl);
	for (size_t i = 0; i < roles->n; i++)
		pb_put_bytes_always(&v, AU_ROLES, roles->v[i].p, roles->v[i].n);
	if (o != NULL)
		pb_put_bytes_always(&v, AU_OPTIONS, o, ol);
	rc = rec_put(a->meta, a->txn, V3AUTH_USER, n, nl, &v);
	buf_close(&v);
	a->changed = 1;
	return rc;
}

static int load(struct aap *a, const char *kind, const uint8_t *name, size_t nl, struct buf *v,
	int *found)
{
	return v3auth_get(a->meta, a->txn, kind, name, nl, v, found);
}

static int op_enable(struct aap *a, int on, struct authtok *tok)
{
	struct buf u;
	int enabled, found, rc;

	if ((rc = state(a, &enabled)) != 0)
		return rc;
	if (!on) {
		if (!enabled)
			return 0;
		authtok_drop_user(tok, NULL);
		return set_enabled(a, 0);
	}
	if (enabled)
		return 0;
	buf_init(&u);
	rc = load(a, V3AUTH_USER, (const uint8_t *)V3AUTH_ROOT, 4, &u, &found);
	if (rc == 0 && !found)
		rc = fail_fp(a, "etcdserver: root user does not exist");
	else if (rc == 0 && !has_role(&u, V3AUTH_ROOT, 4))
		rc = fail_fp(a, "etcdserver: root user does not have root role");
	else if (rc == 0)
		rc = set_enabled(a, 1);
	buf_close(&u);
	return rc;
}

static int op_authenticate(struct aap *a, uint64_t index, struct authtok *tok, int64_t ttl_ms,
	int64_t now_ms, const uint8_t *req, size_t len, struct buf *out)
{
	char token[96], user[AUTHTOK_USER_MAX];
	const uint8_t *name, *prefix;
	size_t nl, tl;
	struct buf u;
	int enabled, found = 0, no_pw = 0, rc;
	uint64_t rev, checked = 0;

	name = str(req, len, IAR_NAME, &nl);
	prefix = str(req, len, IAR_TOKEN, &tl);
	if ((rc = v3_auth_state(a->meta, a->txn, &enabled, &rev)) != 0)
		return rc;
	if (!enabled)
		return fail_fp(a, V3_ERR_AUTH_NOT_ENABLED);
	if (pb_get_u64(req, len, IAR_CHECKED_REV, &checked) == 1 && checked != rev)
		return fail(a, V3_AUTH_STALE_CODE, V3_AUTH_STALE_MSG);
	buf_init(&u);
	rc = load(a, V3AUTH_USER, name, nl, &u, &found);
	if (rc == 0 && found) {
		const uint8_t *o = NULL;
		size_t ol = 0;
		if (pb_get_bytes(u.data, u.len, AU_OPTIONS, &o, &ol) == 1)
			pb_get_bool(o, ol, AU_OPT_NO_PASSWORD, &no_pw);
	}
	buf_close(&u);
	if (rc != 0)
		return rc;
	if (!found || no_pw)
		return fail(a, V3_INVALID_ARGUMENT, V3_ERR_AUTH_FAILED);
	snprintf(token, sizeof(token), "%.*s.%" PRIu64, (int)(tl < 64 ? tl : 64),
		(const char *)prefix, index);
	snprintf(user, sizeof(user), "%.*s", (int)nl, (const char *)name);
	/* A name too long for the table gets a token nobody resolves. */
	if (tok != NULL && nl < AUTHTOK_USER_MAX)
		authtok_add(tok, token, user, now_ms, ttl_ms);
	pb_put_str(out, 2, token); /* AuthenticateResponse.token */
	return 0;
}

static int op_user_add(struct aap *a, const uint8_t *req, size_t len)
{
	const uint8_t *name, *hash, *o = NULL;
	size_t nl, hl, ol = 0;
	struct buf u;
	int found, rc;

	name = str(req, len, UA_NAME, &nl);
	hash = str(req, len, UA_HASH, &hl);
	if (nl == 0)
		return fail(a, V3_INVALID_ARGUMENT, V3_ERR_USER_EMPTY);
	buf_init(&u);
	rc = load(a, V3AUTH_USER, name, nl, &u, &found);
	if (rc == 0 && found)
		rc = fail_fp(a, "etcdserver: user name already exists");
	else if (rc == 0) {
		int no_pw = 0;
		u.len = 0;
		if (pb_get_bytes(req, len, UA_OPTIONS, &o, &ol) == 1)
			pb_get_bool(o, ol, AU_OPT_NO_PASSWORD, &no_pw);
		pb_put_bytes(&u, AU_NAME, name, nl);
		if (!no_pw)
			pb_put_bytes(&u, AU_PASSWORD, hash, hl);
		if (o != NULL)
			pb_put_bytes_always(&u, AU_OPTIONS, o, ol);
		rc = rec_put(a->meta, a->txn, V3AUTH_USER, name, nl, &u);
		a->changed = 1;
	}
	buf_close(&u);
	return rc;
}

static int user_not_found(struct aap *a)
{
	return fail_fp(a, "etcdserver: user name not found");
}

static int role_not_found(struct aap *a)
{
	return fail_fp(a, "etcdserver: role name not found");
}

static int invalid_mgmt(struct aap *a)
{
	return fail(a, V3_INVALID_ARGUMENT, "etcdserver: invalid auth management");
}

/* op_user covers the calls on one existing user: get, delete, change
 * password, grant and revoke a role. */
static int op_user(struct aap *a, int op, struct authtok *tok, const uint8_t *req, size_t len,
	struct buf *out)
{
	struct v3auth_strs roles = { 0 };
	const uint8_t *name, *role, *hash;
	size_t nl, rl = 0, hl = 0, at;
	struct buf u, r;
	int enabled, found = 0, rc;
	char uname[AUTHTOK_USER_MAX];

	name = str(req, len, op == V3_AUTH_USER_GRANT ? UGR_USER : 1, &nl);
	role = str(req, len, 2, &rl);
	hash = str(req, len, UCP_HASH, &hl);
	if ((rc = state(a, &enabled)) != 0)
		return rc;
	if (op == V3_AUTH_USER_DELETE && enabled && is_root(name, nl))
		return invalid_mgmt(a);
	if (op == V3_AUTH_USER_REVOKE && enabled && is_root(name, nl) && is_root(role, rl))
		return invalid_mgmt(a);
	buf_init(&u);
	buf_init(&r);
	if ((rc = load(a, V3AUTH_USER, name, nl, &u, &found)) != 0 || !found) {
		rc = rc ? rc : user_not_found(a);
		goto out;
	}
	if ((rc = v3auth_strs_of(u.data, u.len, AU_ROLES, &roles)) != 0)
		goto out;
	snprintf(uname, sizeof(uname), "%.*s", (int)nl, (const char *)name);
	switch (op) {
	case V3_AUTH_USER_GET:
		for (size_t i = 0; i < roles.n; i++)
			pb_put_bytes_always(out, 2, roles.v[i].p, roles.v[i].n);
		break;
	case V3_AUTH_USER_DELETE:
		rc = rec_del(a->meta, a->txn, V3AUTH_USER, name, nl);
		a->changed = 1;
		authtok_drop_user(tok, uname);
		break;
	case V3_AUTH_USER_CHANGE_PW:
		rc = put_user(a, &u, &roles, hash, hl, 1);
		authtok_drop_user(tok, uname);
		break;
	case V3_AUTH_USER_GRANT:
		if (!is_root(role, rl) &&
			((rc = load(a, V3AUTH_ROLE, role, rl, &r, &found)) != 0 || !found)) {
			rc = rc ? rc : role_not_found(a);
			break;
		}
		for (at = 0; at < roles.n && v3auth_cmp(roles.v[at].p, roles.v[at].n, role, rl) < 0; at++)
			;
		if (at < roles.n && v3auth_cmp(roles.v[at].p, roles.v[at].n, role, rl) == 0)
			break; /* already granted: etcd answers OK and changes nothing */
		if ((rc = v3auth_strs_add(&roles, at, role, rl)) == 0)
			rc = put_user(a, &u, &roles, NULL, 0, 0);
		break;
	case V3_AUTH_USER_REVOKE:
		for (at = 0; at < roles.n && v3auth_cmp(roles.v[at].p, roles.v[at].n, role, rl) != 0; at++)
			;
		if (at == roles.n) {
			rc = fail_fp(a, "etcdserver: role is not granted to the user");
			break;
		}
		memmove(roles.v + at, roles.v + at + 1, (roles.n - at - 1) * sizeof(*roles.v));
		roles.n--;
		rc = put_user(a, &u, &roles, NULL, 0, 0);
		break;
	}
out:
	v3auth_strs_free(&roles);
	buf_close(&u);
	buf_close(&r);
	return rc;
}

/* drop_role_from_users: RoleDelete takes the role from every user. */
static int drop_role_from_users(struct aap *a, const uint8_t *role, size_t rl)
{
	struct v3auth_strs names = { 0 };
	struct buf list, u;
	int rc, found;

	buf_init(&list);
	buf_init(&u);
	if ((rc = rec_names(a->meta, a->txn, V3AUTH_USER, &list, 1)) == 0)
		rc = v3auth_strs_of(list.data, list.len, 1, &names);
	for (size_t i = 0; rc == 0 && i < names.n; i++) {
		struct v3auth_strs roles = { 0 };
		size_t w = 0;
		if ((rc = load(a, V3AUTH_USER, names.v[i].p, names.v[i].n, &u, &found)) != 0 || !found ||
			(rc = v3auth_strs_of(u.data, u.len, AU_ROLES, &roles)) != 0) {
			v3auth_strs_free(&roles);
			continue;
		}
		for (size_t j = 0; j < roles.n; j++)
			if (!(roles.v[j].n == rl && memcmp(roles.v[j].p, role, rl) == 0))
				roles.v[w++] = roles.v[j];
		if (w != roles.n) {
			roles.n = w;
			rc = put_user(a, &u, &roles, NULL, 0, 0);
		}
		v3auth_strs_free(&roles);
	}
	v3auth_strs_free(&names);
	buf_close(&list);
	buf_close(&u);
	return rc;
}

static void put_role(struct buf *v, const uint8_t *name, size_t nl, const struct v3auth_strs *perms)
{
	v->len = 0;
	pb_put_bytes(v, AR_NAME, name, nl);
	for (size_t i = 0; i < perms->n; i++)
		pb_put_bytes_always(v, AR_PERMS, perms->v[i].p, perms->v[i].n);
}

/* perm_find: where key/end sits among perms sorted by key (etcd's
 * sort.Search), and whether that entry has the same key and end. */
static size_t perm_find(const struct v3auth_strs *perms, const uint8_t *k, size_t kl,
	const uint8_t *e, size_t el, int *same)
{
	size_t at;

	*same = 0;
	for (at = 0; at < perms->n; at++) {
		size_t pkl, pel;
		const uint8_t *pk = str(perms->v[at].p, perms->v[at].n, AP_KEY, &pkl);
		const uint8_t *pe = str(perms->v[at].p, perms->v[at].n, AP_END, &pel);
		if (v3auth_cmp(pk, pkl, k, kl) >= 0) {
			*same = v3auth_cmp(pk, pkl, k, kl) == 0 && v3auth_cmp(pe, pel, e, el) == 0;
			return at;
		}
	}
	return at;
}

static int op_role(struct aap *a, int op, const uint8_t *req, size_t len, struct buf *out)
{
	struct v3auth_strs perms = { 0 };
	const uint8_t *name, *pm = NULL, *k, *e;
	size_t nl, pml = 0, kl, el, at;
	struct buf r, np;
	int enabled, found = 0, same, rc;

	name = str(req, len, 1, &nl);
	if ((rc = state(a, &enabled)) != 0)
		return rc;
	if (op == V3_AUTH_ROLE_ADD && nl == 0)
		return fail(a, V3_INVALID_ARGUMENT, "etcdserver: role name is empty");
	if (op == V3_AUTH_ROLE_DELETE && enabled && is_root(name, nl))
		return invalid_mgmt(a);
	buf_init(&r);
	buf_init(&np);
	if ((rc = load(a, V3AUTH_ROLE, name, nl, &r, &found)) != 0)
		goto out;
	if (op == V3_AUTH_ROLE_ADD) {
		if (found) {
			rc = fail_fp(a, "etcdserver: role name already exists");
		} else {
			put_role(&r, name, nl, &perms);
			rc = rec_put(a->meta, a->txn, V3AUTH_ROLE, name, nl, &r);
			a->changed = 1;
		}
		goto out;
	}
	if (!found) {
		rc = role_not_found(a);
		goto out;
	}
	if ((rc = v3auth_strs_of(r.data, r.len, AR_PERMS, &perms)) != 0)
		goto out;
	switch (op) {
	case V3_AUTH_ROLE_GET:
		for (size_t i = 0; i < perms.n; i++)
			pb_put_bytes_always(out, 2, perms.v[i].p, perms.v[i].n);
		break;
	case V3_AUTH_ROLE_DELETE:
		rc = rec_del(a->meta, a->txn, V3AUTH_ROLE, name, nl);
		if (rc == 0)
			rc = drop_role_from_users(a, name, nl);
		a->changed = 1;
		break;
	case V3_AUTH_ROLE_GRANT: {
		int32_t type = 0;
		pb_get_bytes(req, len, RGP_PERM, &pm, &pml);
		k = str(pm, pml, AP_KEY, &kl);
		e = str(pm, pml, AP_END, &el);
		pb_get_i32(pm, pml, AP_TYPE, &type);
		/* the stored permission is re-encoded: no stray fields */
		pb_put_i32(&np, AP_TYPE, type);
		pb_put_bytes(&np, AP_KEY, k, kl);
		pb_put_bytes(&np, AP_END, e, el);
		/* etcd looks at the first permission with a key >= this one
		 * only: same key and end there updates it; anything else is
		 * appended and the list sorted by key again (stably: after the
		 * permissions with the same key) */
		at = perm_find(&perms, k, kl, e, el, &same);
		if (same) {
			perms.v[at].p = np.data;
			perms.v[at].n = np.len;
		} else {
			while (at < perms.n) {
				size_t pkl;
				const uint8_t *pk = str(perms.v[at].p, perms.v[at].n, AP_KEY, &pkl);
				if (v3auth_cmp(pk, pkl, k, kl) > 0)
					break;
				at++;
			}
			if ((rc = v3auth_strs_add(&perms, at, np.data, np.len)) != 0)
				break;
		}
		{
			/* perms points into r: encode the role apart */
			struct buf nr;
			buf_init(&nr);
			put_role(&nr, name, nl, &perms);
			rc = np.oom ? CE_NOMEM : rec_put(a->meta, a->txn, V3AUTH_ROLE, name, nl, &nr);
			buf_close(&nr);
		}
		a->changed = 1;
		break;
	}
	case V3_AUTH_ROLE_REVOKE:
		k = str(req, len, RRP_KEY, &kl);
		e = str(req, len, RRP_END, &el);
		for (at = 0; at < perms.n; at++) {
			size_t pkl, pel;
			const uint8_t *pk = str(perms.v[at].p, perms.v[at].n, AP_KEY, &pkl);
			const uint8_t *pe = str(perms.v[at].p, perms.v[at].n, AP_END, &pel);
			if (v3auth_cmp(pk, pkl, k, kl) == 0 && v3auth_cmp(pe, pel, e, el) == 0)
				break;
		}
		if (at == perms.n) {
			rc = fail_fp(a, "etcdserver: permission is not granted to the role");
			break;
		}
		memmove(perms.v + at, perms.v + at + 1, (perms.n - at - 1) * sizeof(*perms.v));
		perms.n--;
		/* put_role rewrites r, which perms points into: encode apart */
		put_role(&np, name, nl, &perms);
		rc = np.oom ? CE_NOMEM : rec_put(a->meta, a->txn, V3AUTH_ROLE, name, nl, &np);
		a->changed = 1;
		break;
	}
out:
	v3auth_strs_free(&perms);
	buf_close(&r);
	buf_close(&np);
	return rc;
}

static int bump_rev(struct aap *a)
{
	uint8_t raw[8];
	uint64_t rev;
	int enabled, rc;

	if ((rc = v3_auth_state(a->meta, a->txn, &enabled, &rev)) != 0)
		return rc;
	le_put64(raw, rev + 1);
	return meta_put(a->meta, a->txn, V3AUTH_KEY_REV, strlen(V3AUTH_KEY_REV), raw, 8);
}

int v3_auth_apply(struct v3_ctx *c, DB *meta, DB_TXN *txn, uint64_t index, struct authtok *tok,
	int64_t ttl_ms, int64_t now_ms, const uint8_t *req, size_t len, struct buf *out, int *code,
	char *msg, size_t msglen)
{
	struct aap a = { c, meta, txn, code, msg, msglen, 0 };
	struct mvcc_state st = { 0 };
	struct buf body;
	int op, rc;

	*code = 0;
	if (len < 1)
		return fail(&a, V3_INVALID_ARGUMENT, "etcdserver: bad auth request");
	op = req[0];
	req++;
	len--;
	buf_init(&body);
	switch (op) {
	case V3_AUTH_ENABLE:
	case V3_AUTH_DISABLE:
		rc = op_enable(&a, op == V3_AUTH_ENABLE, tok);
		break;
	case V3_AUTH_AUTHENTICATE:
		rc = op_authenticate(&a, index, tok, ttl_ms, now_ms, req, len, &body);
		break;
	case V3_AUTH_USER_ADD:
		rc = op_user_add(&a, req, len);
		break;
	case V3_AUTH_USER_LIST:
		rc = rec_names(meta, txn, V3AUTH_USER, &body, 2);
		break;
	case V3_AUTH_ROLE_LIST:
		rc = rec_names(meta, txn, V3AUTH_ROLE, &body, 2);
		break;
	case V3_AUTH_USER_GET:
	case V3_AUTH_USER_DELETE:
	case V3_AUTH_USER_CHANGE_PW:
	case V3_AUTH_USER_GRANT:
	case V3_AUTH_USER_REVOKE:
		rc = op_user(&a, op, tok, req, len, &body);
		break;
	case V3_AUTH_ROLE_ADD:
	case V3_AUTH_ROLE_GET:
	case V3_AUTH_ROLE_DELETE:
	case V3_AUTH_ROLE_GRANT:
	case V3_AUTH_ROLE_REVOKE:
		rc = op_role(&a, op, req, len, &body);
		break;
	default:
		rc = fail(&a, V3_INVALID_ARGUMENT, "etcdserver: bad auth request");
	}
	if (rc == 0 && *code == 0 && a.changed)
		rc = bump_rev(&a);
	if (rc == 0 && *code == 0 && c != NULL && c->mvcc != NULL)
		rc = mvcc_state_get(c->mvcc, txn, &st);
	if (rc == 0 && *code == 0) {
		if (c != NULL)
			v3_put_header(out, c, st.current, 1);
		buf_put(out, body.data, body.len);
		if (body.oom || out->oom)
			rc = CE_NOMEM;
	}
	buf_close(&body);
	return rc;
}
