/* v3authgw.c - the api worker's side of etcd 3.4's v3 auth: the
 * /v3/auth/... calls (passwords checked and hashed here, then proposed as
 * V3_AUTH entries), the token of a request (etcd's gateway passes the
 * HTTP "Authorization" header as the gRPC "authorization" metadata), and
 * the checks etcd makes before serving or proposing: reads need READ on
 * the range, maintenance and membership changes the root role; every
 * request proposed while one is being dispatched is wrapped with its
 * sender (V3_AUTH_WRAP) so the storage workers check it again at apply.
 * Tokens are resolved in this member's token table (store/authtok.h). */
#include "config.h"
#include "apid/apid_int.h"
#include "config/cfg.h"
#include "http/httpd.h"
#include "ipc/proto.h"
#include "ipc/worker.h"
#include "pb/etcd_schema.h"
#include "pb/pb.h"
#include "pb/pb_json.h"
#include "store/authtok.h"
#include "store/meta.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/log.h"
#include "v3/v3.h"
#include "v3/v3auth.h"

#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>

/* The request being dispatched: who sent it (set by v3authgw_dispatch,
 * cleared by v3authgw_end; proposals made meanwhile carry it). */
struct whob {
	struct v3_auth_who who;
	char user[AUTHTOK_USER_MAX];
	int set;
};
static struct whob cur;

/* Our read handle on meta.db, for the environment it was opened in. An
 * environment replaced by a snapshot closes its handles with it. */
static DB *gw_meta;
static DB_ENV *gw_env;
static uint64_t gw_gen;

static DB *meta_of(struct apid *a)
{
	char err[128];

	if (a->env == NULL)
		return NULL;
	if (gw_meta != NULL && (gw_env != a->env || gw_gen != a->db_gen))
		gw_meta = NULL;
	if (gw_meta == NULL && meta_db_open(&gw_meta, a->env, 0, err, sizeof(err)) != 0) {
		gw_meta = NULL;
		return NULL;
	}
	gw_env = a->env;
	gw_gen = a->db_gen;
	return gw_meta;
}

/* The token table, mapped again when the storage worker made a new one
 * (it does at each start). */
static struct authtok *gw_tok;
static ino_t gw_tok_ino;

static struct authtok *tokens_of(struct apid *a)
{
	char path[4096], err[128];
	struct stat st;

	snprintf(path, sizeof(path), "%s/member/%s", a->w->cfg->data_dir, AUTHTOK_FILE);
	if (stat(path, &st) != 0)
		return NULL;
	if (gw_tok != NULL && st.st_ino == gw_tok_ino)
		return gw_tok;
	authtok_free(gw_tok);
	gw_tok = NULL;
	if (authtok_open(&gw_tok, path, 0, err, sizeof(err)) != 0)
		return NULL;
	gw_tok_ino = st.st_ino;
	return gw_tok;
}

static int auth_state(struct apid *a, int *enabled, uint64_t *rev)
{
	DB *meta = meta_of(a);
	int rc = CE_AGAIN;

	*enabled = 0;
	*rev = 0;
	for (int tries = 0; meta != NULL && tries < APID_READ_RETRIES; tries++)
		if ((rc = v3_auth_state(meta, NULL, enabled, rev)) != CE_AGAIN)
			break;
	return rc;
}

/* resolve: who sent req. 0 (w->who.rev 0: no token given), or -1 when
 * the token is unknown or expired (etcd checks it even with auth off). */
static int resolve(struct apid *a, struct hreq *req, uint64_t rev, struct whob *w)
{
	const char *tk = hreq_header(req, "Authorization");

	memset(w, 0, sizeof(*w));
	w->who.user = w->user;
	w->set = 1;
	if (tk == NULL || tk[0] == '\0')
		return 0;
	if (!authtok_lookup(tokens_of(a), tk, strlen(tk), (int64_t)shm_now_ms(),
		(int64_t)a->w->cfg->auth_token_ttl * 1000, w->user, sizeof(w->user)))
		return -1;
	w->who.user_len = strlen(w->user);
	w->who.rev = rev ? rev : 1; /* a user given: never "no user" */
	return 0;
}

static void send_err(struct hreq *req, int code, const char *msg)
{
	v3gw_send_error(req, v3_http_status(code), code, msg);
}

/* ---- root-only calls outside the Auth service ------------------------- */

/* admin: etcd's IsAdminPermitted for the request: 0 allowed, else the
 * error in code/msg ("auth: ..." when raw, as the maintenance server
 * sends them untranslated). */
static int admin(struct apid *a, struct hreq *req, int raw, int *code, char *msg, size_t msglen)
{
	struct whob w;
	uint64_t rev;
	int enabled, bad;
	int ecode = 0;
	char emsg[128];

	if (auth_state(a, &enabled, &rev) != 0)
		enabled = 0;
	bad = resolve(a, req, rev, &w);
	if (bad) {
		*code = raw ? V3_UNKNOWN : V3_UNAUTHENTICATED;
		snprintf(msg, msglen, "%s", raw ? "auth: invalid auth token" : V3_ERR_INVALID_TOKEN);
		return -1;
	}
	if (!enabled)
		return 0;
	if (w.who.user_len == 0) {
		*code = raw ? V3_UNKNOWN : V3_INVALID_ARGUMENT;
		snprintf(msg, msglen, "%s", raw ? "auth: user name is empty" : V3_ERR_USER_EMPTY);
		return -1;
	}
	{
		uint8_t op = V3_AUTH_USER_LIST; /* any root-only op */
		if (v3_auth_check(meta_of(a), NULL, NULL, &w.who, V3_AUTH, &op, 1, &ecode, emsg,
			sizeof(emsg)) != 0) {
			*code = V3_UNAVAILABLE;
			snprintf(msg, msglen, "etcdserver: not ready");
			return -1;
		}
	}
	if (ecode == 0)
		return 0;
	*code = raw ? V3_UNKNOWN : ecode;
	if (raw)
		snprintf(msg, msglen, "auth: %s", strncmp(emsg, "etcdserver: ", 12) == 0 ? emsg + 12 : emsg);
	else
		snprintf(msg, msglen, "%s", emsg);
	return -1;
}

int v3authgw_pre(struct apid *a, struct hreq *req, const struct etcd_gw_route *r)
{
	static const char *const maint[] = { "/etcdserverpb.Maintenance/Snapshot",
		"/etcdserverpb.Maintenance/Hash", "/etcdserverpb.Maintenance/HashKV",
		"/etcdserverpb.Maintenance/Defragment", "/etcdserverpb.Maintenance/MoveLeader" };
	char msg[160];
	int code = 0;

	for (size_t i = 0; i < sizeof(maint) / sizeof(maint[0]); i++) {
		if (strcmp(r->grpc_method, maint[i]) != 0 || admin(a, req, 1, &code, msg, sizeof(msg)) == 0)
			continue;
		if (i == 0) { /* a stream: grpc-gateway's stream error line */
			struct buf b;
			buf_init(&b);
			pb_json_stream_error(&b, msg, code, 500, "Internal Server Error");
			hreq_add_header(req, "Content-Type", "application/json");
			hreq_reply(req, 500, b.data, b.len);
			buf_close(&b);
		} else {
			send_err(req, code, msg);
		}
		return 1;
	}
	if (strncmp(r->grpc_method, "/etcdserverpb.Cluster/Member", 28) == 0 &&
		strcmp(r->grpc_method, "/etcdserverpb.Cluster/MemberList") != 0 &&
		admin(a, req, 0, &code, msg, sizeof(msg)) != 0) {
		send_err(req, code, msg);
		return 1;
	}
	return 0;
}

/* ---- the Auth service ------------------------------------------------- */

static int op_of(const char *grpc)
{
	static const struct {
		const char *name;
		int op;
	} map[] = {
		{ "AuthEnable", V3_AUTH_ENABLE }, { "AuthDisable", V3_AUTH_DISABLE },
		{ "Authenticate", V3_AUTH_AUTHENTICATE }, { "UserAdd", V3_AUTH_USER_ADD },
		{ "UserGet", V3_AUTH_USER_GET }, { "UserList", V3_AUTH_USER_LIST },
		{ "UserDelete", V3_AUTH_USER_DELETE }, { "UserChangePassword", V3_AUTH_USER_CHANGE_PW },
		{ "UserGrantRole", V3_AUTH_USER_GRANT }, { "UserRevokeRole", V3_AUTH_USER_REVOKE },
		{ "RoleAdd", V3_AUTH_ROLE_ADD }, { "RoleGet", V3_AUTH_ROLE_GET },
		{ "RoleList", V3_AUTH_ROLE_LIST }, { "RoleDelete", V3_AUTH_ROLE_DELETE },
		{ "RoleGrantPermission", V3_AUTH_ROLE_GRANT },
		{ "RoleRevokePermission", V3_AUTH_ROLE_REVOKE },
	};
	const char *m = grpc + strlen("/etcdserverpb.Auth/");

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(m, map[i].name) == 0)
			return map[i].op;
	return 0;
}

static void propose_auth(struct apid *a, struct hreq *req, const struct etcd_gw_route *r,
	const struct buf *body)
{
	if (body->oom || v3gw_propose(a, req, r, V3_AUTH, body->data, body->len) == NULL)
		v3gw_send_error(req, 503, V3_UNAVAILABLE, "etcdserver: no leader");
}

/* authenticate: etcd's CheckPassword on this member, then the entry that
 * gives every member the token (16 random letters + "." + raft index). */
static void authenticate(struct apid *a, struct hreq *req, const struct etcd_gw_route *r,
	int enabled, uint64_t rev, const uint8_t *pb, size_t len)
{
	static const char letters[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
	const uint8_t *name = NULL, *pw = NULL;
	size_t nl = 0, pl = 0;
	char hash[256];
	uint8_t rnd[16], op = V3_AUTH_AUTHENTICATE;
	char prefix[17];
	int no_pw = 0, rc = CE_AGAIN;
	struct buf body;

	if (!enabled) {
		send_err(req, V3_FAILED_PRECONDITION, V3_ERR_AUTH_NOT_ENABLED);
		return;
	}
	pb_get_bytes(pb, len, 1, &name, &nl);
	pb_get_bytes(pb, len, 2, &pw, &pl);
	for (int tries = 0; meta_of(a) != NULL && tries < APID_READ_RETRIES && rc == CE_AGAIN; tries++)
		rc = v3_auth_user_hash(meta_of(a), NULL, name ? name : (const uint8_t *)"", nl, hash,
			sizeof(hash), &no_pw);
	if (rc == 0 && no_pw) {
		send_err(req, V3_UNKNOWN, V3_ERR_NO_PASSWORD_USER);
		return;
	}
	if (rc != 0 || !v3_auth_verify(pw ? pw : (const uint8_t *)"", pl, hash)) {
		if (rc != 0 && rc != CE_NOTFOUND)
			v3gw_send_error(req, 503, V3_UNAVAILABLE, "etcdserver: not ready");
		else
			send_err(req, V3_INVALID_ARGUMENT, V3_ERR_AUTH_FAILED);
		return;
	}
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		v3gw_send_error(req, 503, V3_UNAVAILABLE, "etcdserver: no randomness");
		return;
	}
	for (size_t i = 0; i < sizeof(rnd); i++)
		prefix[i] = letters[rnd[i] % 52];
	prefix[16] = '\0';
	buf_init(&body);
	buf_put(&body, &op, 1);
	pb_put_bytes(&body, 1, name, nl); /* InternalAuthenticateRequest.name */
	pb_put_str(&body, 3, prefix);     /* .simple_token */
	pb_put_u64(&body, 10, rev);       /* cetcd: the auth revision checked at */
	propose_auth(a, req, r, &body);
	buf_close(&body);
}

/* with_hash: UserAdd / UserChangePassword travel with the bcrypt hash of
 * the password (field hf) instead of the password. */
static void with_hash(struct apid *a, struct hreq *req, const struct etcd_gw_route *r, int op,
	const uint8_t *pb, size_t len)
{
	const uint8_t *name = NULL, *pw = NULL, *o = NULL;
	size_t nl = 0, pl = 0, ol = 0;
	char hash[256] = "";
	int no_pw = 0;
	uint8_t ob = (uint8_t)op;
	struct buf body;

	pb_get_bytes(pb, len, 1, &name, &nl);
	pb_get_bytes(pb, len, 2, &pw, &pl);
	if (op == V3_AUTH_USER_ADD && pb_get_bytes(pb, len, 3, &o, &ol) == 1)
		pb_get_bool(o, ol, 1, &no_pw);
	if (!no_pw && v3_auth_hash(pw ? pw : (const uint8_t *)"", pl, (int)a->w->cfg->bcrypt_cost,
		hash, sizeof(hash)) != 0) {
		v3gw_send_error(req, 500, 13, "etcdserver: cannot hash the password");
		return;
	}
	buf_init(&body);
	buf_put(&body, &ob, 1);
	pb_put_bytes(&body, 1, name, nl);
	if (op == V3_AUTH_USER_ADD) {
		if (o != NULL)
			pb_put_bytes_always(&body, 3, o, ol);
		pb_put_str(&body, 4, hash);
	} else {
		pb_put_str(&body, 3, hash);
	}
	propose_auth(a, req, r, &body);
	buf_close(&body);
}

static void auth_call(struct apid *a, struct hreq *req, const struct etcd_gw_route *r, int enabled,
	uint64_t rev, const uint8_t *pb, size_t len)
{
	int op = op_of(r->grpc_method);
	struct buf body;
	uint8_t ob = (uint8_t)op;

	if (op == 0) {
		v3gw_send_error(req, 501, 12, "unknown service or method");
		return;
	}
	if (op == V3_AUTH_AUTHENTICATE) {
		authenticate(a, req, r, enabled, rev, pb, len);
		return;
	}
	if (op == V3_AUTH_USER_ADD || op == V3_AUTH_USER_CHANGE_PW) {
		with_hash(a, req, r, op, pb, len);
		return;
	}
	buf_init(&body);
	buf_put(&body, &ob, 1);
	buf_put(&body, pb, len);
	propose_auth(a, req, r, &body);
	buf_close(&body);
}

/* ---- enforcement -------------------------------------------------------- */

/* prefix_end: etcd's clientv3.GetPrefixRangeEnd of p/n into out. */
static size_t prefix_end(const uint8_t *p, size_t n, uint8_t *out)
{
	memcpy(out, p, n);
	for (size_t i = n; i-- > 0;)
		if (out[i] < 0xff) {
			out[i]++;
			return i + 1;
		}
	out[0] = 0;
	return 1;
}

/* conc_check: v3lock/v3election act through a client carrying the token:
 * Lock and Campaign write under name/, Leader and Observe read it (etcd
 * answers these errors with code Unknown). */
static int conc_check(struct apid *a, struct hreq *req, const struct etcd_gw_route *r,
	const uint8_t *pb, size_t len)
{
	const char *m = r->grpc_method;
	int write = strcmp(m, "/v3lockpb.Lock/Lock") == 0 ||
		strcmp(m, "/v3electionpb.Election/Campaign") == 0;
	int read = write || strcmp(m, "/v3electionpb.Election/Leader") == 0 ||
		strcmp(m, "/v3electionpb.Election/Observe") == 0;
	const uint8_t *name = NULL;
	size_t nl = 0, kl, el;
	uint8_t key[1024], end[1024];
	int code = 0;
	char msg[160];

	if (!read)
		return 0;
	pb_get_bytes(pb, len, 1, &name, &nl);
	if (nl + 1 > sizeof(key))
		return 0;
	memcpy(key, name, nl);
	key[nl] = '/';
	kl = nl + 1;
	el = prefix_end(key, kl, end);
	for (int w = 0; w <= write && code == 0; w++)
		if (v3_auth_check_range(meta_of(a), NULL, &cur.who, w, key, kl, end, el, &code, msg,
			sizeof(msg)) != 0)
			return 0;
	if (code == 0)
		return 0;
	send_err(req, V3_UNKNOWN, msg);
	return 1;
}

int v3authgw_dispatch(struct apid *a, struct hreq *req, const struct etcd_gw_route *r, int method,
	const uint8_t *pb, size_t len)
{
	int enabled = 0, code = 0, rc = CE_AGAIN;
	uint64_t rev = 0;
	char msg[256];
	int is_auth = strncmp(r->grpc_method, "/etcdserverpb.Auth/", 19) == 0;
	int is_conc = strncmp(r->grpc_method, "/v3lockpb.", 10) == 0 ||
		strncmp(r->grpc_method, "/v3electionpb.", 14) == 0;

	if (!is_auth && !is_conc && (method == 0 || method == V3_LEASE_LEASES || method == V3_LEASE_TTL))
		return 0; /* Status, MemberList, ...: etcd does not look */
	if (auth_state(a, &enabled, &rev) != 0) {
		v3gw_send_error(req, 503, V3_UNAVAILABLE, "etcdserver: not ready");
		return 1;
	}
	if (resolve(a, req, rev, &cur) != 0) {
		/* the maintenance server's Alarm sends the auth store's error */
		send_err(req, is_conc || method == V3_ALARM ? V3_UNKNOWN : V3_UNAUTHENTICATED,
			method == V3_ALARM ? "auth: invalid auth token" : V3_ERR_INVALID_TOKEN);
		return 1;
	}
	if (is_auth) {
		auth_call(a, req, r, enabled, rev, pb, len);
		return 1;
	}
	if (!enabled)
		return 0;
	if (is_conc) {
		if (cur.who.user_len == 0) {
			send_err(req, V3_UNKNOWN, V3_ERR_USER_EMPTY);
			return 1;
		}
		return conc_check(a, req, r, pb, len);
	}
	for (int tries = 0; tries < APID_READ_RETRIES && rc == CE_AGAIN; tries++)
		rc = v3_auth_check(meta_of(a), NULL, a->lease, &cur.who, method, pb, len, &code, msg,
			sizeof(msg));
	if (rc != 0) {
		v3gw_send_error(req, 503, V3_UNAVAILABLE, "etcdserver: not ready");
		return 1;
	}
	if (code != 0) {
		send_err(req, code, msg);
		return 1;
	}
	return 0;
}

int v3authgw_on_result(struct apid *a, struct pending *p, const struct proto_result *res)
{
	struct buf pb;
	const char *body;
	size_t blen;
	char err[256];
	uint64_t rev;
	int enabled;

	if (res->error_code != V3_AUTH_STALE_CODE || p->req == NULL)
		return 0;
	/* an auth change came between the password check and the token:
	 * check again (the request is still there) */
	log_info("revision when password checked became stale; retrying");
	body = hreq_body(p->req, &blen);
	buf_init(&pb);
	if (auth_state(a, &enabled, &rev) != 0 ||
		pb_from_json(p->route->req, body, blen, &pb, err, sizeof(err)) != 0)
		v3gw_send_error(p->req, 503, V3_UNAVAILABLE, "etcdserver: not ready");
	else if (resolve(a, p->req, rev, &cur) != 0)
		send_err(p->req, V3_UNAUTHENTICATED, V3_ERR_INVALID_TOKEN);
	else
		authenticate(a, p->req, p->route, enabled, rev, pb.data, pb.len);
	v3authgw_end(a);
	buf_close(&pb);
	return 1;
}

void v3authgw_end(struct apid *a)
{
	(void)a;
	memset(&cur, 0, sizeof(cur));
}

void v3authgw_resume(struct apid *a, struct hreq *req)
{
	uint64_t rev;
	int enabled;

	if (auth_state(a, &enabled, &rev) != 0 || resolve(a, req, rev, &cur) != 0)
		cur.who.rev = 0; /* the token ended meanwhile: no user */
	cur.set = 1;
}

void v3authgw_wrap(struct apid *a, struct buf *body)
{
	struct buf w;

	(void)a;
	if (!cur.set || body->len < 1 || body->data[0] == V3_AUTH_WRAP)
		return;
	buf_init(&w);
	cur.who.user = cur.user;
	v3_auth_wrap(&w, &cur.who, body->data[0], body->data + 1, body->len - 1);
	if (!w.oom) {
		buf_reset(body);
		buf_put(body, w.data, w.len);
	}
	buf_close(&w);
}

const char *v3authgw_watch_denied(struct apid *a, struct hreq *req, const uint8_t *k, size_t kl,
	const uint8_t *e, size_t el)
{
	static char reason[320];
	static const char *const names[] = { [V3_INVALID_ARGUMENT] = "InvalidArgument",
		[V3_PERMISSION_DENIED] = "PermissionDenied", [V3_UNAUTHENTICATED] = "Unauthenticated" };
	struct whob w;
	uint64_t rev;
	int enabled, code = 0;
	char msg[256];
	static const uint8_t zero = 0;

	if (auth_state(a, &enabled, &rev) != 0)
		return NULL;
	if (resolve(a, req, rev, &w) != 0) {
		code = V3_UNAUTHENTICATED;
		snprintf(msg, sizeof(msg), "%s", V3_ERR_INVALID_TOKEN);
	} else if (!enabled) {
		return NULL;
	} else {
		if (kl == 0) { /* etcd watches key "\0" for an empty key */
			k = &zero;
			kl = 1;
		}
		if (v3_auth_check_range(meta_of(a), NULL, &w.who, 0, k, kl, e, el, &code, msg,
			sizeof(msg)) != 0 || code == 0)
			return NULL;
	}
	snprintf(reason, sizeof(reason), "rpc error: code = %s desc = %s",
		code < (int)(sizeof(names) / sizeof(names[0])) && names[code] ? names[code] : "Unknown", msg);
	return reason;
}
