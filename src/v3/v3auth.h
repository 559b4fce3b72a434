/* v3auth.h - etcd 3.4's v3 authentication and authorization
 * (auth/store.go, etcdserver/apply_auth.go): users, roles, permissions,
 * AuthEnable/AuthDisable, Authenticate with etcd's "simple" tokens, and
 * the permission checks every v3 request passes once auth is enabled.
 *
 * State: replicated, in the meta table (so it survives restarts and
 * travels in database snapshots, which dump every meta record):
 *   "v3auth/enabled" 1 byte, "v3auth/rev" u64 LE (etcd's auth revision,
 *   +1 on every change), "v3auth/user/<name>" an authpb.User (password
 *   field = the bcrypt hash), "v3auth/role/<name>" an authpb.Role.
 * Tokens are not replicated state: each member keeps its own (authtok.h).
 *
 * How it travels: every Auth call is a V3_AUTH entry, body [op][protobuf]
 * (passwords are hashed by the receiving api worker; the entry carries the
 * hash, field 4 of AuthUserAddRequest / 3 of AuthUserChangePasswordRequest
 * as etcd 3.5's hashedPassword; Authenticate carries etcd's
 * InternalAuthenticateRequest without the password). Client requests go
 * inside a V3_AUTH_WRAP entry naming the sender (etcd's RequestHeader
 * username/auth_revision), so the storage worker of every member checks
 * the same permissions at apply time (v3_auth_check). Entries proposed by
 * cetcd itself (lease expiry, compactor, checkpoints) are not wrapped and
 * not checked.
 *
 * Deliberate differences from etcd 3.4.23 (both let a user past its
 * permissions there): operations inside a nested Txn are checked, and a
 * watch with range_end "\0" needs READ on every key from its key (etcd
 * checks its key alone).
 *
 * Errors follow v3.h: 0 or a negative CE_* (database), the client's error
 * in *code/msg (etcd's gRPC code and text).
 */
#ifndef CETCD_V3_V3AUTH_H
#define CETCD_V3_V3AUTH_H

#include <stddef.h>
#include <stdint.h>

#include <db.h>

#include "util/buf.h"

struct v3_ctx;
struct lease;
struct authtok;

/* The op byte of a V3_AUTH entry (one per Auth service method). */
enum v3_auth_op {
	V3_AUTH_ENABLE = 1,
	V3_AUTH_DISABLE,
	V3_AUTH_AUTHENTICATE,
	V3_AUTH_USER_ADD,
	V3_AUTH_USER_GET,
	V3_AUTH_USER_LIST,
	V3_AUTH_USER_DELETE,
	V3_AUTH_USER_CHANGE_PW,
	V3_AUTH_USER_GRANT,
	V3_AUTH_USER_REVOKE,
	V3_AUTH_ROLE_ADD,
	V3_AUTH_ROLE_GET,
	V3_AUTH_ROLE_LIST,
	V3_AUTH_ROLE_DELETE,
	V3_AUTH_ROLE_GRANT,
	V3_AUTH_ROLE_REVOKE,
};

/* gRPC codes of etcd's auth errors (v3.h has the others). */
#define V3_UNKNOWN 2
#define V3_PERMISSION_DENIED 7
#define V3_UNAUTHENTICATED 16

#define V3_ERR_USER_EMPTY "etcdserver: user name is empty"
#define V3_ERR_INVALID_TOKEN "etcdserver: invalid auth token"
#define V3_ERR_PERMISSION_DENIED "etcdserver: permission denied"
#define V3_ERR_AUTH_FAILED "etcdserver: authentication failed, invalid user ID or password"
#define V3_ERR_AUTH_NOT_ENABLED "etcdserver: authentication is not enabled"
#define V3_ERR_NO_PASSWORD_USER \
	"auth: authentication failed, password was given for no password user"

/* An Authenticate whose password was checked at another auth revision
 * (field 10 of the entry): the api worker checks the password again, as
 * etcd's Authenticate loop does. Never sent to clients. */
#define V3_AUTH_STALE_CODE 10
#define V3_AUTH_STALE_MSG "v3auth: password checked at an old auth revision"

/* authpb.Permission.Type */
enum { V3_PERM_READ = 0, V3_PERM_WRITE = 1, V3_PERM_READWRITE = 2 };

/* etcd's AuthInfo as it travels: rev 0 = no user (no token given). */
struct v3_auth_who {
	uint64_t rev;
	const char *user; /* not NUL-terminated */
	size_t user_len;
};

/* v3_auth_state: whether auth is enabled and the auth revision, read in
 * txn (NULL: a read-committed read by any process). */
int v3_auth_state(DB *meta, DB_TXN *txn, int *enabled, uint64_t *rev);

/* v3_auth_user_hash: the password hash of user name (NUL-terminated in
 * hash), *no_password as its options say. CE_NOTFOUND when no such user. */
int v3_auth_user_hash(DB *meta, DB_TXN *txn, const uint8_t *name, size_t nl, char *hash,
	size_t hashlen, int *no_password);

/* v3_auth_wrap: a V3_AUTH_WRAP body (method byte V3_AUTH_WRAP included)
 * carrying who and the request [method][req]. */
void v3_auth_wrap(struct buf *out, const struct v3_auth_who *who, int method, const uint8_t *req,
	size_t len);
/* v3_auth_unwrap: p/n is the body after the V3_AUTH_WRAP byte; pointers
 * point into it. 0 or CE_CORRUPT. */
int v3_auth_unwrap(const uint8_t *p, size_t n, struct v3_auth_who *who, int *method,
	const uint8_t **req, size_t *len);

/* v3_auth_check: may who run this request (KV methods, LeaseRevoke, the
 * V3_AUTH ops)? *code 0 = yes, else etcd's error. lease (may be NULL)
 * gives the keys of a lease being revoked or attached to. Methods etcd
 * does not check pass. */
int v3_auth_check(DB *meta, DB_TXN *txn, struct lease *lease, const struct v3_auth_who *who,
	int method, const uint8_t *req, size_t len, int *code, char *msg, size_t msglen);

/* v3_auth_check_range: etcd's IsRangePermitted (write = 0) or
 * IsDeleteRangePermitted (write = 1) on [key, end) (end as in a
 * RangeRequest: empty = key alone, "\0" = every key from key). */
int v3_auth_check_range(DB *meta, DB_TXN *txn, const struct v3_auth_who *who, int write,
	const uint8_t *key, size_t kl, const uint8_t *end, size_t el, int *code, char *msg,
	size_t msglen);

/* v3_auth_is_admin_op: does etcd need the root role for this op? */
int v3_auth_is_admin_op(int op);

/* v3_auth_apply executes a V3_AUTH body (op + protobuf) in the writer's
 * txn: out gets the response. index is the entry's raft index (it ends
 * the simple token); tok (may be NULL) is this member's token table,
 * ttl_ms --auth-token-ttl, now_ms the monotonic clock. */
int v3_auth_apply(struct v3_ctx *c, DB *meta, DB_TXN *txn, uint64_t index, struct authtok *tok,
	int64_t ttl_ms, int64_t now_ms, const uint8_t *req, size_t len, struct buf *out, int *code,
	char *msg, size_t msglen);

/* Passwords (v3auth_pw.c, libcrypt): bcrypt "$2b$" at cost (4..31) into
 * out (at least 128 bytes); verify: 1 when pw matches hash. */
int v3_auth_hash(const uint8_t *pw, size_t pwlen, int cost, char *out, size_t outlen);
int v3_auth_verify(const uint8_t *pw, size_t pwlen, const char *hash);

#endif
