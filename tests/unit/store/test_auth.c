/* test_auth.c - etcd's v3 auth store on the meta table (src/v3/v3auth*.c)
 * and the member's token table (src/store/authtok.c): the Auth calls as
 * etcd 3.4 answers them (errors, sorted users/roles/permissions, the root
 * invariants, the auth revision), the permission checks (prefix coverage
 * by several permissions, READ vs WRITE, txn compares and branches, the
 * root role, an old auth revision), the V3_AUTH_WRAP envelope, the state
 * surviving a reopen and a database snapshot, bcrypt hashes, and tokens
 * (lookup, idle expiry, renewal on use, per-user drop, a full table). */
#include "config.h"
#include "v3/v3.h"
#include "v3/v3auth.h"
#include "v3meta.h"

#include "pb/pb.h"
#include "store/authtok.h"
#include "store/env.h"
#include "store/envdir.h"
#include "store/meta.h"
#include "store/snap.h"
#include "util/buf.h"
#include "util/err.h"

#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static char tokf[160];
static struct authtok *tok;
static uint64_t next_index = 100;

static void setup(void)
{
	v3meta_setup("/tmp/cetcd-auth-XXXXXX");
	snprintf(tokf, sizeof(tokf), "%s/%s", root, AUTHTOK_FILE);
	ck_assert_int_eq(authtok_open(&tok, tokf, 1, err, sizeof(err)), 0);
}

static void teardown(void)
{
	authtok_free(tok);
	tok = NULL;
	v3meta_teardown();
}

/* call applies one Auth op (protobuf body req) as user (NULL: nobody)
 * the way the storage worker does: the wrap check, then the apply. The
 * returned gRPC code; the response (no header here) in out if given. */
static int call_as(const char *user, int op, const struct buf *req, struct buf *out, char *msg)
{
	struct v3_auth_who who = { 0 };
	struct buf body, o;
	DB_TXN *txn;
	int code = 0, enabled;
	uint64_t rev;

	buf_init(&body);
	buf_init(&o);
	buf_put_u8(&body, (uint8_t)op);
	if (req)
		buf_put(&body, req->data, req->len);
	ck_assert_int_eq(v3_auth_state(meta, NULL, &enabled, &rev), 0);
	if (user) {
		who.user = user;
		who.user_len = strlen(user);
		who.rev = rev ? rev : 1;
	}
	ck_assert_int_eq(env->txn_begin(env, NULL, &txn, 0), 0);
	ck_assert_int_eq(v3_auth_check(meta, txn, NULL, &who, V3_AUTH, body.data, body.len, &code,
		msg, 256), 0);
	if (code == 0)
		ck_assert_int_eq(v3_auth_apply(NULL, meta, txn, next_index++, tok, 300000, 1000,
			body.data, body.len, &o, &code, msg, 256), 0);
	ck_assert_int_eq(txn->commit(txn, 0), 0);
	if (out) {
		out->len = 0;
		buf_put(out, o.data, o.len);
	}
	buf_close(&body);
	buf_close(&o);
	return code;
}

static int call(int op, const struct buf *req, struct buf *out, char *msg)
{
	return call_as(NULL, op, req, out, msg);
}

/* req builds a request of string fields (number, value)... ending at 0. */
static struct buf *req(struct buf *b, ...)
{
	va_list ap;
	uint32_t f;

	buf_reset(b);
	va_start(ap, b);
	while ((f = va_arg(ap, uint32_t)) != 0) {
		const char *v = va_arg(ap, const char *);
		pb_put_bytes_always(b, f, v, strlen(v));
	}
	va_end(ap);
	return b;
}

/* end_len: test strings name ends; "\0Z" stands for the one-byte "\0"
 * (sz: the literal's size). */
static size_t end_len(const char *e, size_t sz)
{
	return e[0] ? strlen(e) : (sz > 2 && e[1] == 'Z');
}

static struct buf *perm_req(struct buf *b, const char *role, int type, const char *k,
	const char *e, size_t esz)
{
	struct buf p;

	buf_init(&p);
	pb_put_i32(&p, 1, type);
	pb_put_bytes(&p, 2, k, strlen(k));
	pb_put_bytes(&p, 3, e, end_len(e, esz));
	buf_reset(b);
	pb_put_str(b, 1, role);
	pb_put_msg(b, 2, p.data, p.len);
	buf_close(&p);
	return b;
}

/* strings: the repeated string field 2 of out joined by ',' */
static const char *strings(const struct buf *out)
{
	static char s[512];
	struct pb_reader r;
	struct pb_item it;

	s[0] = '\0';
	pb_reader_init(&r, out->data, out->len);
	while (pb_next(&r, &it) == 1)
		if (it.number == 2)
			snprintf(s + strlen(s), sizeof(s) - strlen(s), "%s%.*s", s[0] ? "," : "",
				(int)it.len, (const char *)it.data);
	return s;
}

static void add_user(const char *name)
{
	struct buf b;
	char msg[256];

	buf_init(&b);
	req(&b, 1, name, 4, "$2b$04$invalidinvalidinvalidinvalidinvalidinvalidinvalidinv", 0);
	ck_assert_int_eq(call(V3_AUTH_USER_ADD, &b, NULL, msg), 0);
	buf_close(&b);
}

START_TEST(test_management)
{
	struct buf b, out;
	char msg[256];
	int enabled;
	uint64_t rev0, rev;

	buf_init(&b);
	buf_init(&out);
	ck_assert_int_eq(call(V3_AUTH_ENABLE, NULL, NULL, msg), V3_FAILED_PRECONDITION);
	ck_assert_str_eq(msg, "etcdserver: root user does not exist");
	add_user("root");
	add_user("bob");
	add_user("alice");
	ck_assert_int_eq(call(V3_AUTH_USER_ADD, req(&b, 1, "bob", 0), NULL, msg), 9);
	ck_assert_str_eq(msg, "etcdserver: user name already exists");
	ck_assert_int_eq(call(V3_AUTH_USER_ADD, req(&b, 1, "", 0), NULL, msg), 3);
	ck_assert_int_eq(call(V3_AUTH_USER_LIST, NULL, &out, msg), 0);
	ck_assert_str_eq(strings(&out), "alice,bob,root");
	ck_assert_int_eq(call(V3_AUTH_ENABLE, NULL, NULL, msg), 9);
	ck_assert_str_eq(msg, "etcdserver: root user does not have root role");
	ck_assert_int_eq(call(V3_AUTH_ROLE_ADD, req(&b, 1, "w", 0), NULL, msg), 0);
	ck_assert_int_eq(call(V3_AUTH_ROLE_ADD, req(&b, 1, "r", 0), NULL, msg), 0);
	ck_assert_int_eq(call(V3_AUTH_ROLE_LIST, NULL, &out, msg), 0);
	ck_assert_str_eq(strings(&out), "r,w");
	ck_assert_int_eq(call(V3_AUTH_USER_GRANT, req(&b, 1, "bob", 2, "w", 0), NULL, msg), 0);
	ck_assert_int_eq(call(V3_AUTH_USER_GRANT, req(&b, 1, "bob", 2, "r", 0), NULL, msg), 0);
	ck_assert_int_eq(call(V3_AUTH_USER_GRANT, req(&b, 1, "bob", 2, "nope", 0), NULL, msg), 9);
	ck_assert_str_eq(msg, "etcdserver: role name not found");
	ck_assert_int_eq(call(V3_AUTH_USER_GET, req(&b, 1, "bob", 0), &out, msg), 0);
	ck_assert_str_eq(strings(&out), "r,w");
	ck_assert_int_eq(call(V3_AUTH_USER_REVOKE, req(&b, 1, "bob", 2, "x", 0), NULL, msg), 9);
	ck_assert_str_eq(msg, "etcdserver: role is not granted to the user");
	/* deleting a role takes it from its users */
	ck_assert_int_eq(call(V3_AUTH_ROLE_DELETE, req(&b, 1, "w", 0), NULL, msg), 0);
	ck_assert_int_eq(call(V3_AUTH_USER_GET, req(&b, 1, "bob", 0), &out, msg), 0);
	ck_assert_str_eq(strings(&out), "r");
	/* every change moves the auth revision; a failed call does not */
	ck_assert_int_eq(v3_auth_state(meta, NULL, &enabled, &rev0), 0);
	ck_assert_int_eq(call(V3_AUTH_ROLE_DELETE, req(&b, 1, "w", 0), NULL, msg), 9);
	ck_assert_int_eq(v3_auth_state(meta, NULL, &enabled, &rev), 0);
	ck_assert_uint_eq(rev, rev0);
	ck_assert_int_eq(call(V3_AUTH_USER_GRANT, req(&b, 1, "root", 2, "root", 0), NULL, msg), 0);
	ck_assert_int_eq(v3_auth_state(meta, NULL, &enabled, &rev), 0);
	ck_assert_uint_eq(rev, rev0 + 1);
	ck_assert_int_eq(call(V3_AUTH_ENABLE, NULL, NULL, msg), 0);
	ck_assert_int_eq(v3_auth_state(meta, NULL, &enabled, &rev), 0);
	ck_assert_int_eq(enabled, 1);
	/* enabled: admin calls need root; root's role and user stay */
	ck_assert_int_eq(call(V3_AUTH_USER_LIST, NULL, NULL, msg), 3);
	ck_assert_str_eq(msg, "etcdserver: user name is empty");
	ck_assert_int_eq(call_as("bob", V3_AUTH_USER_LIST, NULL, NULL, msg), 7);
	ck_assert_int_eq(call_as("bob", V3_AUTH_USER_GET, req(&b, 1, "bob", 0), &out, msg), 0);
	ck_assert_int_eq(call_as("bob", V3_AUTH_USER_GET, req(&b, 1, "alice", 0), &out, msg), 7);
	ck_assert_int_eq(call_as("bob", V3_AUTH_ROLE_GET, req(&b, 1, "r", 0), &out, msg), 0);
	ck_assert_int_eq(call_as("root", V3_AUTH_USER_DELETE, req(&b, 1, "root", 0), NULL, msg), 3);
	ck_assert_str_eq(msg, "etcdserver: invalid auth management");
	ck_assert_int_eq(call_as("root", V3_AUTH_USER_REVOKE, req(&b, 1, "root", 2, "root", 0), NULL,
		msg), 3);
	ck_assert_int_eq(call_as("root", V3_AUTH_DISABLE, NULL, NULL, msg), 0);
	buf_close(&b);
	buf_close(&out);
}
END_TEST

START_TEST(test_permissions)
{
	struct buf b, out;
	struct v3_auth_who bob = { 0 }, nobody = { 0 };
	char msg[256];
	int code, enabled;
	uint64_t rev;

	buf_init(&b);
	buf_init(&out);
	add_user("root");
	add_user("bob");
	ck_assert_int_eq(call(V3_AUTH_USER_GRANT, req(&b, 1, "root", 2, "root", 0), NULL, msg), 0);
	ck_assert_int_eq(call(V3_AUTH_ROLE_ADD, req(&b, 1, "r", 0), NULL, msg), 0);
	/* READ on [a, c) in two pieces, WRITE on the key "w", READWRITE from "x" */
	ck_assert_int_eq(call(V3_AUTH_ROLE_GRANT, perm_req(&b, "r", V3_PERM_READ, "a", "b", sizeof("b")), NULL, msg), 0);
	ck_assert_int_eq(call(V3_AUTH_ROLE_GRANT, perm_req(&b, "r", V3_PERM_READ, "b", "c", sizeof("c")), NULL, msg), 0);
	ck_assert_int_eq(call(V3_AUTH_ROLE_GRANT, perm_req(&b, "r", V3_PERM_WRITE, "w", "", sizeof("")), NULL, msg), 0);
	ck_assert_int_eq(call(V3_AUTH_ROLE_GRANT, perm_req(&b, "r", V3_PERM_READWRITE, "x", "\0Z", sizeof("\0Z")), NULL,
		msg), 0);
	ck_assert_int_eq(call(V3_AUTH_USER_GRANT, req(&b, 1, "bob", 2, "r", 0), NULL, msg), 0);
	ck_assert_int_eq(call(V3_AUTH_ENABLE, NULL, NULL, msg), 0);
	ck_assert_int_eq(v3_auth_state(meta, NULL, &enabled, &rev), 0);
	bob.user = "bob";
	bob.user_len = 3;
	bob.rev = rev;
#define RANGE(who, w, k, e) \
	(v3_auth_check_range(meta, NULL, who, w, (const uint8_t *)k, end_len(k, sizeof(k)), (const uint8_t *)e, \
		end_len(e, sizeof(e)), &code, msg, sizeof(msg)) == 0 ? code : -1)
	ck_assert_int_eq(RANGE(&bob, 0, "a", ""), 0);
	ck_assert_int_eq(RANGE(&bob, 0, "a", "c"), 0);      /* covered by two */
	ck_assert_int_eq(RANGE(&bob, 0, "bzz", "c"), 0);
	ck_assert_int_eq(RANGE(&bob, 0, "a", "c\x01"), 7);
	ck_assert_int_eq(RANGE(&bob, 1, "a", ""), 7);        /* READ is not WRITE */
	ck_assert_int_eq(RANGE(&bob, 1, "w", ""), 0);
	ck_assert_int_eq(RANGE(&bob, 1, "w", "x"), 7);       /* w alone, not w.. */
	ck_assert_int_eq(RANGE(&bob, 0, "w", ""), 7);
	ck_assert_int_eq(RANGE(&bob, 1, "x", "\0Z"), 0);     /* x and everything after */
	ck_assert_int_eq(RANGE(&bob, 0, "zzzz", ""), 0);
	ck_assert_int_eq(RANGE(&bob, 0, "\0Z", "\0Z"), 7);   /* all keys */
	ck_assert_int_eq(RANGE(&nobody, 0, "a", ""), 3);     /* no user */
	ck_assert_str_eq(msg, "etcdserver: user name is empty");
	bob.rev = rev - 1;
	ck_assert_int_eq(RANGE(&bob, 0, "a", ""), 3);
	ck_assert_str_eq(msg, "etcdserver: revision of auth store is old");
	bob.rev = rev;
	/* a txn: compares need READ, both branches are checked */
	buf_reset(&b);
	{
		struct buf cmp, op, put;
		buf_init(&cmp);
		buf_init(&op);
		buf_init(&put);
		pb_put_bytes(&cmp, 3, "a", 1);
		pb_put_msg(&b, 1, cmp.data, cmp.len);
		pb_put_bytes(&put, 1, "a", 1);
		pb_put_msg(&op, 2, put.data, put.len); /* request_put a */
		pb_put_msg(&b, 3, op.data, op.len);   /* in failure */
		ck_assert_int_eq(v3_auth_check(meta, NULL, NULL, &bob, V3_TXN, b.data, b.len, &code, msg,
			sizeof(msg)), 0);
		ck_assert_int_eq(code, 7);
		ck_assert_int_eq(v3_auth_check(meta, NULL, NULL, &bob, V3_RANGE, put.data, put.len,
			&code, msg, sizeof(msg)), 0);
		ck_assert_int_eq(code, 0);
		ck_assert_int_eq(v3_auth_check(meta, NULL, NULL, &bob, V3_PUT, put.data, put.len, &code,
			msg, sizeof(msg)), 0);
		ck_assert_int_eq(code, 7);
		buf_close(&cmp);
		buf_close(&op);
		buf_close(&put);
	}
	/* root may do anything */
	{
		struct v3_auth_who r = { rev, "root", 4 };
		ck_assert_int_eq(RANGE(&r, 1, "\0Z", "\0Z"), 0);
	}
	/* the envelope */
	{
		struct v3_auth_who got;
		const uint8_t *q;
		size_t ql;
		int m;
		buf_reset(&out);
		v3_auth_wrap(&out, &bob, V3_PUT, (const uint8_t *)"xyz", 3);
		ck_assert_uint_eq(out.data[0], V3_AUTH_WRAP);
		ck_assert_int_eq(v3_auth_unwrap(out.data + 1, out.len - 1, &got, &m, &q, &ql), 0);
		ck_assert_uint_eq(got.rev, rev);
		ck_assert_uint_eq(got.user_len, 3);
		ck_assert(memcmp(got.user, "bob", 3) == 0);
		ck_assert_int_eq(m, V3_PUT);
		ck_assert_uint_eq(ql, 3);
		ck_assert(memcmp(q, "xyz", 3) == 0);
		ck_assert_int_eq(v3_auth_unwrap(out.data + 1, 5, &got, &m, &q, &ql), CE_CORRUPT);
	}
	buf_close(&b);
	buf_close(&out);
#undef RANGE
}
END_TEST

START_TEST(test_persists)
{
	struct buf b, out;
	char msg[256], hash[256];
	int enabled, no_pw;
	uint64_t rev;

	buf_init(&b);
	buf_init(&out);
	add_user("root");
	ck_assert_int_eq(call(V3_AUTH_USER_GRANT, req(&b, 1, "root", 2, "root", 0), NULL, msg), 0);
	ck_assert_int_eq(call(V3_AUTH_ENABLE, NULL, NULL, msg), 0);
	ck_assert_int_eq(v3_auth_user_hash(meta, NULL, (const uint8_t *)"root", 4, hash,
		sizeof(hash), &no_pw), 0);
	ck_assert_int_eq(strncmp(hash, "$2b$04$", 7), 0);
	ck_assert_int_eq(v3_auth_user_hash(meta, NULL, (const uint8_t *)"x", 1, hash, sizeof(hash),
		&no_pw), CE_NOTFOUND);
	close_all();
	open_at(live);
	ck_assert_int_eq(v3_auth_state(meta, NULL, &enabled, &rev), 0);
	ck_assert_int_eq(enabled, 1);
	ck_assert_uint_eq(rev, 3);
	ck_assert_int_eq(store_snap_save(env, snapf, NULL, err, sizeof(err)), 0);
	close_all();
	ck_assert_int_eq(store_snap_restore(snapf, fresh, NULL, err, sizeof(err)), 0);
	open_at(fresh);
	ck_assert_int_eq(v3_auth_state(meta, NULL, &enabled, &rev), 0);
	ck_assert_int_eq(enabled, 1);
	ck_assert_uint_eq(rev, 3);
	ck_assert_int_eq(call_as("root", V3_AUTH_USER_GET, req(&b, 1, "root", 0), &out, msg), 0);
	ck_assert_str_eq(strings(&out), "root");
	buf_close(&b);
	buf_close(&out);
}
END_TEST

START_TEST(test_authenticate_gives_tokens)
{
	struct buf b, out;
	char msg[256], user[64];
	const uint8_t *t = NULL;
	size_t tl = 0;

	buf_init(&b);
	buf_init(&out);
	add_user("root");
	ck_assert_int_eq(call(V3_AUTH_AUTHENTICATE, req(&b, 1, "root", 3, "abcdefghijklmnop", 0), NULL,
		msg), 9);
	ck_assert_str_eq(msg, "etcdserver: authentication is not enabled");
	ck_assert_int_eq(call(V3_AUTH_USER_GRANT, req(&b, 1, "root", 2, "root", 0), NULL, msg), 0);
	ck_assert_int_eq(call(V3_AUTH_ENABLE, NULL, NULL, msg), 0);
	ck_assert_int_eq(call(V3_AUTH_AUTHENTICATE, req(&b, 1, "nobody", 3, "abcdefghijklmnop", 0), NULL,
		msg), 3);
	/* the password was checked at another auth revision: check again */
	req(&b, 1, "root", 3, "abcdefghijklmnop", 0);
	pb_put_u64(&b, 10, 1);
	ck_assert_int_eq(call(V3_AUTH_AUTHENTICATE, &b, NULL, msg), V3_AUTH_STALE_CODE);
	next_index = 42;
	ck_assert_int_eq(call(V3_AUTH_AUTHENTICATE, req(&b, 1, "root", 3, "abcdefghijklmnop", 0), &out,
		msg), 0);
	ck_assert_int_eq(pb_get_bytes(out.data, out.len, 2, &t, &tl), 1);
	ck_assert_uint_eq(tl, 19);
	ck_assert(memcmp(t, "abcdefghijklmnop.42", 19) == 0);
	ck_assert_int_eq(authtok_lookup(tok, "abcdefghijklmnop.42", 19, 2000, 300000, user, sizeof(user)), 1);
	ck_assert_str_eq(user, "root");
	/* a new password ends them */
	ck_assert_int_eq(call_as("root", V3_AUTH_USER_CHANGE_PW, req(&b, 1, "root", 3, "$2b$x", 0), NULL,
		msg), 0);
	ck_assert_int_eq(authtok_lookup(tok, "abcdefghijklmnop.42", 19, 2000, 300000, user, sizeof(user)), 0);
	buf_close(&b);
	buf_close(&out);
}
END_TEST

START_TEST(test_password_hash)
{
	char h[256];

	ck_assert_int_eq(v3_auth_hash((const uint8_t *)"secret", 6, 4, h, sizeof(h)), 0);
	ck_assert_int_eq(strncmp(h, "$2b$04$", 7), 0);
	ck_assert_int_eq(v3_auth_verify((const uint8_t *)"secret", 6, h), 1);
	ck_assert_int_eq(v3_auth_verify((const uint8_t *)"secreT", 6, h), 0);
	ck_assert_int_eq(v3_auth_verify((const uint8_t *)"", 0, h), 0);
	ck_assert_int_eq(v3_auth_verify((const uint8_t *)"secret", 6, ""), 0);
}
END_TEST

START_TEST(test_tokens)
{
	struct authtok *reader;
	char user[AUTHTOK_USER_MAX], name[32], t[48];
	unsigned seed = (unsigned)time(NULL);

	ck_assert_int_eq(authtok_open(&reader, tokf, 0, err, sizeof(err)), 0);
	ck_assert_int_eq(authtok_add(tok, "tokA.1", "alice", 1000, 5000), 0);
	ck_assert_int_eq(authtok_add(tok, "tokB.2", "bob", 1000, 5000), 0);
	/* the other process sees them, renews on use */
	ck_assert_int_eq(authtok_lookup(reader, "tokA.1", 6, 4000, 5000, user, sizeof(user)), 1);
	ck_assert_str_eq(user, "alice");
	ck_assert_int_eq(authtok_lookup(reader, "tokA.1", 6, 8000, 5000, user, sizeof(user)), 1);
	ck_assert_int_eq(authtok_lookup(reader, "tokB.2", 6, 8000, 5000, user, sizeof(user)), 0);
	ck_assert_int_eq(authtok_lookup(reader, "tokA.", 5, 8000, 5000, user, sizeof(user)), 0);
	authtok_drop_user(tok, "alice");
	ck_assert_int_eq(authtok_lookup(reader, "tokA.1", 6, 8000, 5000, user, sizeof(user)), 0);
	/* a full table: more tokens than slots, the newest always resolve */
	printf("test_tokens seed %u\n", seed);
	srand(seed);
	for (unsigned i = 0; i < AUTHTOK_SLOTS + 100; i++) {
		snprintf(t, sizeof(t), "t%08x.%u", (unsigned)rand(), i);
		snprintf(name, sizeof(name), "u%u", i % 7);
		ck_assert_int_eq(authtok_add(tok, t, name, 10000 + i, 1000000), 0);
		ck_assert_int_eq(authtok_lookup(reader, t, strlen(t), 10000 + i, 1000000, user,
			sizeof(user)), 1);
		ck_assert_str_eq(user, name);
	}
	authtok_drop_user(tok, NULL);
	ck_assert_int_eq(authtok_lookup(reader, t, strlen(t), 20000, 1000000, user, sizeof(user)), 0);
	ck_assert_int_eq(authtok_add(tok, "x", "a-user-name-far-too-long-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 1, 10), CE_INVAL);
	authtok_free(reader);
}
END_TEST

Suite *suite_auth(void)
{
	Suite *s = suite_create("v3auth");
	TCase *tc = tcase_create("store");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_management);
	tcase_add_test(tc, test_permissions);
	tcase_add_test(tc, test_persists);
	tcase_add_test(tc, test_authenticate_gives_tokens);
	tcase_add_test(tc, test_tokens);
	tcase_add_test(tc, test_password_hash);
	suite_add_tcase(s, tc);
	return s;
}
