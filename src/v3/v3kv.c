/* v3kv.c - Range, Put, DeleteRange, Txn and Compaction as etcd 3.4's
 * applier runs them (etcdserver/apply.go), on the MVCC store.
 *
 * A Txn is checked in full before anything is written (etcd's
 * checkRequests): the compares pick a branch, then every operation of that
 * branch, nested txns included, is checked (ignore_value/ignore_lease on a
 * missing key, an unknown lease, a range at a future or compacted
 * revision); only then are they executed, so a failing Txn writes nothing.
 */
#include "config.h"
#include "v3/v3.h"
#include "v3/v3_int.h"
#include "pb/pb.h"
#include "store/lease.h"
#include "store/mvcc.h"
#include "util/err.h"

#include <stdio.h>
#include <string.h>

/* Field numbers of etcd's messages (api/etcdserverpb/rpc.proto, mvccpb). */
enum {
	HDR_CLUSTER = 1, HDR_MEMBER = 2, HDR_REV = 3, HDR_TERM = 4,
	KV_KEY = 1, KV_CREATE = 2, KV_MOD = 3, KV_VERSION = 4, KV_VALUE = 5, KV_LEASE = 6,
	RR_KEY = 1, RR_END = 2, RR_LIMIT = 3, RR_REV = 4, RR_SORT_ORDER = 5, RR_SORT_TARGET = 6,
	RR_SERIALIZABLE = 7, RR_KEYS_ONLY = 8, RR_COUNT_ONLY = 9, RR_MIN_MOD = 10, RR_MAX_MOD = 11,
	RR_MIN_CREATE = 12, RR_MAX_CREATE = 13,
	RRESP_HEADER = 1, RRESP_KVS = 2, RRESP_MORE = 3, RRESP_COUNT = 4,
	PR_KEY = 1, PR_VALUE = 2, PR_LEASE = 3, PR_PREV_KV = 4, PR_IGNORE_VALUE = 5, PR_IGNORE_LEASE = 6,
	PRESP_HEADER = 1, PRESP_PREV_KV = 2,
	DR_KEY = 1, DR_END = 2, DR_PREV_KV = 3,
	DRESP_HEADER = 1, DRESP_DELETED = 2, DRESP_PREV_KVS = 3,
	OP_RANGE = 1, OP_PUT = 2, OP_DELETE = 3, OP_TXN = 4,
	CMP_RESULT = 1, CMP_TARGET = 2, CMP_KEY = 3, CMP_VERSION = 4, CMP_CREATE = 5, CMP_MOD = 6,
	CMP_VALUE = 7, CMP_LEASE = 8, CMP_END = 64,
	TXN_COMPARE = 1, TXN_SUCCESS = 2, TXN_FAILURE = 3,
	TRESP_HEADER = 1, TRESP_SUCCEEDED = 2, TRESP_RESPONSES = 3,
	COMPACT_REV = 1, COMPACT_PHYSICAL = 2,
};

#define V3_MAX_TXN_DEPTH 16

int v3_fail(int *code, char *msg, size_t msglen, int c, const char *text)
{
	*code = c;
	snprintf(msg, msglen, "%s", text);
	return 0;
}

/* mvcc_rc turns an mvcc return into a gRPC error (0 stays 0). */
static int mvcc_rc(int rc, int *code, char *msg, size_t msglen)
{
	switch (rc) {
	case 0:
		return 0;
	case MVCC_ERR_COMPACTED:
		return v3_fail(code, msg, msglen, V3_OUT_OF_RANGE,
			"etcdserver: mvcc: required revision has been compacted");
	case MVCC_ERR_FUTURE_REV:
		return v3_fail(code, msg, msglen, V3_OUT_OF_RANGE,
			"etcdserver: mvcc: required revision is a future revision");
	case MVCC_ERR_KEY_NOT_FOUND:
		return v3_fail(code, msg, msglen, V3_INVALID_ARGUMENT, "etcdserver: key not found");
	default:
		return rc < 0 ? rc : CE_CORRUPT;
	}
}

void v3_put_header(struct buf *b, const struct v3_ctx *c, int64_t rev, int full)
{
	size_t m = pb_msg_begin(b, RRESP_HEADER);

	if (full) {
		pb_put_u64(b, HDR_CLUSTER, c->cluster_id);
		pb_put_u64(b, HDR_MEMBER, c->member_id);
	}
	pb_put_i64(b, HDR_REV, rev);
	if (full)
		pb_put_u64(b, HDR_TERM, c->raft_term);
	pb_msg_end(b, m);
}

void v3_put_kv(struct buf *b, uint32_t field, const struct mvcc_kv *kv)
{
	size_t m = pb_msg_begin(b, field);

	pb_put_bytes(b, KV_KEY, kv->key, kv->key_len);
	pb_put_i64(b, KV_CREATE, kv->create_revision);
	pb_put_i64(b, KV_MOD, kv->mod_revision);
	pb_put_i64(b, KV_VERSION, kv->version);
	pb_put_bytes(b, KV_VALUE, kv->value, kv->value_len);
	pb_put_i64(b, KV_LEASE, kv->lease);
	pb_msg_end(b, m);
}

static int get_i64(const uint8_t *p, size_t n, uint32_t f, int64_t *v)
{
	int rc = pb_get_i64(p, n, f, v);
	return rc < 0 ? rc : 0;
}

static int get_bool(const uint8_t *p, size_t n, uint32_t f, int *v)
{
	int rc = pb_get_bool(p, n, f, v);
	return rc < 0 ? rc : 0;
}

static int get_bytes(const uint8_t *p, size_t n, uint32_t f, const uint8_t **v, size_t *len)
{
	int rc = pb_get_bytes(p, n, f, v, len);
	return rc < 0 ? rc : 0;
}

static int decode_range(const uint8_t *p, size_t n, struct mvcc_range_req *r)
{
	const uint8_t *k, *e;
	int32_t so = 0, st = 0;
	int rc;

	memset(r, 0, sizeof(*r));
	if ((rc = get_bytes(p, n, RR_KEY, &k, &r->key_len)) != 0 ||
		(rc = get_bytes(p, n, RR_END, &e, &r->range_end_len)) != 0 ||
		(rc = get_i64(p, n, RR_LIMIT, &r->limit)) != 0 ||
		(rc = get_i64(p, n, RR_REV, &r->revision)) != 0 ||
		(rc = pb_get_i32(p, n, RR_SORT_ORDER, &so)) < 0 ||
		(rc = pb_get_i32(p, n, RR_SORT_TARGET, &st)) < 0 ||
		(rc = get_bool(p, n, RR_KEYS_ONLY, &r->keys_only)) != 0 ||
		(rc = get_bool(p, n, RR_COUNT_ONLY, &r->count_only)) != 0 ||
		(rc = get_i64(p, n, RR_MIN_MOD, &r->min_mod_revision)) != 0 ||
		(rc = get_i64(p, n, RR_MAX_MOD, &r->max_mod_revision)) != 0 ||
		(rc = get_i64(p, n, RR_MIN_CREATE, &r->min_create_revision)) != 0 ||
		(rc = get_i64(p, n, RR_MAX_CREATE, &r->max_create_revision)) != 0)
		return rc < 0 ? rc : CE_CORRUPT;
	r->key = k;
	r->range_end = e;
	r->sort_order = so;
	r->sort_target = st;
	return 0;
}

/* range runs a Range in the write txn (writer) or on its own (reader). */
static int do_range(struct v3_ctx *c, int writer, const uint8_t *p, size_t n, struct buf *out,
	int full_header, int *code, char *msg, size_t msglen)
{
	struct mvcc_range_req req;
	struct mvcc_range_res res;
	char err[256];
	int rc;

	if ((rc = decode_range(p, n, &req)) != 0)
		return v3_fail(code, msg, msglen, V3_INVALID_ARGUMENT, "etcdserver: bad range request");
	mvcc_range_res_init(&res);
	rc = writer ? mvcc_txn_range(c->mvcc, &req, &res, err, sizeof(err)) :
		mvcc_range(c->mvcc, &req, &res, err, sizeof(err));
	if (rc != 0) {
		mvcc_range_res_close(&res);
		return mvcc_rc(rc, code, msg, msglen);
	}
	v3_put_header(out, c, res.rev, full_header);
	for (size_t i = 0; i < res.nkvs; i++)
		v3_put_kv(out, RRESP_KVS, &res.kvs[i]);
	pb_put_bool(out, RRESP_MORE, res.more);
	pb_put_i64(out, RRESP_COUNT, res.count);
	mvcc_range_res_close(&res);
	return 0;
}

static int decode_put(const uint8_t *p, size_t n, struct mvcc_put_req *r, int *prev_kv)
{
	const uint8_t *k, *v;
	int rc;

	memset(r, 0, sizeof(*r));
	if ((rc = get_bytes(p, n, PR_KEY, &k, &r->key_len)) != 0 ||
		(rc = get_bytes(p, n, PR_VALUE, &v, &r->value_len)) != 0 ||
		(rc = get_i64(p, n, PR_LEASE, &r->lease)) != 0 ||
		(rc = get_bool(p, n, PR_PREV_KV, prev_kv)) != 0 ||
		(rc = get_bool(p, n, PR_IGNORE_VALUE, &r->ignore_value)) != 0 ||
		(rc = get_bool(p, n, PR_IGNORE_LEASE, &r->ignore_lease)) != 0)
		return rc;
	r->key = k;
	r->value = v;
	return 0;
}

static int lease_known(struct v3_ctx *c, int64_t id)
{
	return id == 0 || (c->lease != NULL && lease_exists(c->lease, id));
}

static int do_put(struct v3_ctx *c, const uint8_t *p, size_t n, struct buf *out, int full_header,
	int *code, char *msg, size_t msglen)
{
	struct mvcc_put_req req;
	const struct mvcc_kv *prev = NULL;
	int want_prev = 0, rc;
	char err[256];

	if (decode_put(p, n, &req, &want_prev) != 0)
		return v3_fail(code, msg, msglen, V3_INVALID_ARGUMENT, "etcdserver: bad put request");
	if (!req.ignore_lease && !lease_known(c, req.lease))
		return v3_fail(code, msg, msglen, V3_NOT_FOUND, "etcdserver: requested lease not found");
	if ((rc = mvcc_put(c->mvcc, &req, &prev, err, sizeof(err))) != 0)
		return mvcc_rc(rc, code, msg, msglen);
	if (c->lease != NULL) {
		int64_t old = prev ? prev->lease : 0;
		int64_t now = req.ignore_lease ? old : req.lease;
		if (old != now && (rc = lease_move(c->lease, c->txn, old, now, req.key, req.key_len, err,
			sizeof(err))) < 0)
			return rc;
	}
	v3_put_header(out, c, mvcc_wtxn_rev(c->mvcc), full_header);
	if (want_prev && prev != NULL)
		v3_put_kv(out, PRESP_PREV_KV, prev);
	return 0;
}

static int do_delete(struct v3_ctx *c, const uint8_t *p, size_t n, struct buf *out, int full_header,
	int *code, char *msg, size_t msglen)
{
	const uint8_t *k, *e;
	size_t kl, el, first, nev;
	int64_t deleted = 0;
	int want_prev = 0, rc;
	char err[256];
	const struct mvcc_event *ev;

	if (get_bytes(p, n, DR_KEY, &k, &kl) != 0 || get_bytes(p, n, DR_END, &e, &el) != 0 ||
		get_bool(p, n, DR_PREV_KV, &want_prev) != 0)
		return v3_fail(code, msg, msglen, V3_INVALID_ARGUMENT, "etcdserver: bad delete request");
	if ((rc = mvcc_delete_range(c->mvcc, k, kl, e, el, &deleted, &first, err, sizeof(err))) != 0)
		return mvcc_rc(rc, code, msg, msglen);
	ev = mvcc_wtxn_events(c->mvcc, &nev);
	if (c->lease != NULL) {
		for (size_t i = first; i < nev; i++)
			if (ev[i].has_prev && ev[i].prev.lease != 0 &&
				(rc = lease_detach(c->lease, c->txn, ev[i].prev.lease, ev[i].prev.key,
					ev[i].prev.key_len, err, sizeof(err))) < 0)
				return rc;
	}
	v3_put_header(out, c, mvcc_wtxn_rev(c->mvcc), full_header);
	pb_put_i64(out, DRESP_DELETED, deleted);
	if (want_prev)
		for (size_t i = first; i < nev; i++)
			if (ev[i].has_prev)
				v3_put_kv(out, DRESP_PREV_KVS, &ev[i].prev);
	return 0;
}

static int decode_compare(const uint8_t *p, size_t n, struct mvcc_cmp *cmp)
{
	const uint8_t *k, *e, *v = NULL;
	int32_t result = 0, target = 0;
	int rc;

	memset(cmp, 0, sizeof(*cmp));
	if ((rc = pb_get_i32(p, n, CMP_RESULT, &result)) < 0 ||
		(rc = pb_get_i32(p, n, CMP_TARGET, &target)) < 0 ||
		(rc = get_bytes(p, n, CMP_KEY, &k, &cmp->key_len)) != 0 ||
		(rc = get_bytes(p, n, CMP_END, &e, &cmp->range_end_len)) != 0)
		return CE_CORRUPT;
	cmp->result = result;
	cmp->target = target;
	cmp->key = k;
	cmp->range_end = e;
	/* target_union: field 4 + target (version, create_revision,
	 * mod_revision, value, lease), as rpc.proto numbers them. */
	if (target == MVCC_CMP_VALUE) {
		rc = get_bytes(p, n, CMP_VALUE, &v, &cmp->value_len);
		cmp->value = v;
	} else if (target >= MVCC_CMP_VERSION && target <= MVCC_CMP_LEASE) {
		rc = get_i64(p, n, (uint32_t)(CMP_VERSION + target), &cmp->num);
	} else {
		return CE_CORRUPT;
	}
	return rc;
}

/* txn_branch evaluates the compares: 1 success, 0 failure, < 0 error. */
static int txn_branch(struct v3_ctx *c, int writer, const uint8_t *p, size_t n)
{
	struct pb_reader r;
	struct pb_item it;
	char err[256];
	int rc, all = 1;

	pb_reader_init(&r, p, n);
	while ((rc = pb_next_of(&r, TXN_COMPARE, &it)) == 1) {
		struct mvcc_cmp cmp;
		int ok = 0;
		if (decode_compare(it.data, it.len, &cmp) != 0)
			return CE_CORRUPT;
		rc = writer ? mvcc_compare(c->mvcc, &cmp, &ok, err, sizeof(err)) :
			mvcc_read_compare(c->mvcc, 0, &cmp, &ok, err, sizeof(err));
		if (rc != 0)
			return rc < 0 ? rc : CE_CORRUPT;
		if (!ok)
			all = 0;
	}
	return rc < 0 ? rc : all;
}

/* The op field of a RequestOp: which one and its body. */
static int op_of(const uint8_t *p, size_t n, const uint8_t **body, size_t *len)
{
	for (int f = OP_RANGE; f <= OP_TXN; f++)
		if (pb_get_bytes(p, n, (uint32_t)f, body, len) == 1)
			return f;
	return 0;
}

/* precheck: etcd's checkRequests for the ops of the chosen branch. */
static int precheck(struct v3_ctx *c, int writer, const uint8_t *p, size_t n, int depth, int *code,
	char *msg, size_t msglen)
{
	struct pb_reader r;
	struct pb_item it;
	int branch, rc;

	if (depth > V3_MAX_TXN_DEPTH)
		return v3_fail(code, msg, msglen, V3_INVALID_ARGUMENT, "etcdserver: txn nested too deep");
	if ((branch = txn_branch(c, writer, p, n)) < 0)
		return v3_fail(code, msg, msglen, V3_INVALID_ARGUMENT, "etcdserver: bad compare");
	pb_reader_init(&r, p, n);
	while ((rc = pb_next_of(&r, branch ? TXN_SUCCESS : TXN_FAILURE, &it)) == 1) {
		const uint8_t *b;
		size_t bl;
		int f = op_of(it.data, it.len, &b, &bl);

		if (f == OP_PUT) {
			struct mvcc_put_req req;
			int pk;
			if (decode_put(b, bl, &req, &pk) != 0)
				return v3_fail(code, msg, msglen, V3_INVALID_ARGUMENT, "etcdserver: bad put request");
			if (req.ignore_value || req.ignore_lease) {
				struct mvcc_range_req rr;
				struct mvcc_range_res res;
				char err[256];
				memset(&rr, 0, sizeof(rr));
				rr.key = req.key;
				rr.key_len = req.key_len;
				rr.count_only = 1;
				mvcc_range_res_init(&res);
				rc = writer ? mvcc_txn_range(c->mvcc, &rr, &res, err, sizeof(err)) :
					mvcc_range(c->mvcc, &rr, &res, err, sizeof(err));
				int64_t cnt = res.count;
				mvcc_range_res_close(&res);
				if (rc != 0)
					return mvcc_rc(rc, code, msg, msglen);
				if (cnt == 0)
					return v3_fail(code, msg, msglen, V3_INVALID_ARGUMENT, "etcdserver: key not found");
			}
			if (!req.ignore_lease && !lease_known(c, req.lease))
				return v3_fail(code, msg, msglen, V3_NOT_FOUND, "etcdserver: requested lease not found");
		} else if (f == OP_RANGE) {
			struct mvcc_range_req rr;
			struct mvcc_state st;
			char err[256];
			if (decode_range(b, bl, &rr) != 0)
				return v3_fail(code, msg, msglen, V3_INVALID_ARGUMENT, "etcdserver: bad range request");
			if (rr.revision == 0)
				continue;
			if (mvcc_revisions(c->mvcc, &st, err, sizeof(err)) != 0)
				return CE_DB;
			if (rr.revision > (writer ? mvcc_wtxn_rev(c->mvcc) : st.current))
				return mvcc_rc(MVCC_ERR_FUTURE_REV, code, msg, msglen);
			if (rr.revision < st.compacted)
				return mvcc_rc(MVCC_ERR_COMPACTED, code, msg, msglen);
		} else if (f == OP_TXN) {
			if ((rc = precheck(c, writer, b, bl, depth + 1, code, msg, msglen)) != 0 || *code)
				return rc;
		}
	}
	return rc < 0 ? v3_fail(code, msg, msglen, V3_INVALID_ARGUMENT, "etcdserver: bad txn request") : 0;
}

static int do_txn(struct v3_ctx *c, int writer, const uint8_t *p, size_t n, struct buf *out,
	int full_header, int *code, char *msg, size_t msglen);

/* run_ops executes the chosen branch, appending ResponseOps to out. */
static int run_ops(struct v3_ctx *c, int writer, const uint8_t *p, size_t n, int branch,
	struct buf *out, int *code, char *msg, size_t msglen)
{
	struct pb_reader r;
	struct pb_item it;
	int rc;

	pb_reader_init(&r, p, n);
	while ((rc = pb_next_of(&r, branch ? TXN_SUCCESS : TXN_FAILURE, &it)) == 1) {
		const uint8_t *b;
		size_t bl;
		int f = op_of(it.data, it.len, &b, &bl);
		size_t op = pb_msg_begin(out, TRESP_RESPONSES);
		size_t inner = pb_msg_begin(out, (uint32_t)f);

		switch (f) {
		case OP_RANGE:
			rc = do_range(c, writer, b, bl, out, 0, code, msg, msglen);
			break;
		case OP_PUT:
			rc = do_put(c, b, bl, out, 0, code, msg, msglen);
			break;
		case OP_DELETE:
			rc = do_delete(c, b, bl, out, 0, code, msg, msglen);
			break;
		case OP_TXN:
			rc = do_txn(c, writer, b, bl, out, 0, code, msg, msglen);
			break;
		default:
			rc = v3_fail(code, msg, msglen, V3_INVALID_ARGUMENT, "etcdserver: bad txn request");
			break;
		}
		if (rc != 0 || *code)
			return rc;
		pb_msg_end(out, inner);
		pb_msg_end(out, op);
	}
	return rc < 0 ? CE_CORRUPT : 0;
}

static int do_txn(struct v3_ctx *c, int writer, const uint8_t *p, size_t n, struct buf *out,
	int full_header, int *code, char *msg, size_t msglen)
{
	struct buf ops;
	int branch, rc;
	int64_t rev = 0;

	if (!writer) {
		struct mvcc_state st;
		char err[128];
		if ((rc = mvcc_revisions(c->mvcc, &st, err, sizeof(err))) != 0)
			return rc < 0 ? rc : CE_DB;
		rev = st.current;
	}
	if ((branch = txn_branch(c, writer, p, n)) < 0)
		return v3_fail(code, msg, msglen, V3_INVALID_ARGUMENT, "etcdserver: bad compare");
	buf_init(&ops);
	rc = run_ops(c, writer, p, n, branch, &ops, code, msg, msglen);
	if (rc == 0 && *code == 0) {
		/* etcd leaves a nested txn's header empty */
		if (full_header)
			v3_put_header(out, c, writer ? mvcc_wtxn_rev(c->mvcc) : rev, 1);
		else
			pb_msg_end(out, pb_msg_begin(out, TRESP_HEADER));
		pb_put_bool(out, TRESP_SUCCEEDED, branch);
		buf_put(out, ops.data, ops.len);
	}
	buf_close(&ops);
	return rc;
}

/* --- checks before proposing (etcd's v3rpc key.go) ----------------------- */

/* A Txn's keys: a put may not touch a key another put or a delete range of
 * the same branch touches (etcd's checkIntervals). */
struct txn_keys {
	const uint8_t *k[256], *e[256];
	size_t kl[256], el[256];
	int put[256];
	size_t n;
};

int v3_key_in_range(const uint8_t *k, size_t kl, const uint8_t *b, size_t bl, const uint8_t *e,
	size_t el)
{
	size_t m;
	int c;

	if (el == 0)
		return kl == bl && memcmp(k, b, kl) == 0;
	m = kl < bl ? kl : bl;
	c = memcmp(k, b, m);
	if (c < 0 || (c == 0 && kl < bl))
		return 0;
	if (el == 1 && e[0] == 0)
		return 1;
	m = kl < el ? kl : el;
	c = memcmp(k, e, m);
	return c < 0 || (c == 0 && kl < el);
}

static int check_ops(const struct v3_ctx *c, const uint8_t *p, size_t n, uint32_t field, int depth,
	int *code, char *msg, size_t msglen);

static int check_one(int method, const uint8_t *p, size_t n, int *code, char *msg, size_t msglen)
{
	const uint8_t *k, *v;
	size_t kl = 0, vl = 0;
	int64_t lease = 0;
	int iv = 0, il = 0;

	if (get_bytes(p, n, 1, &k, &kl) != 0)
		return v3_fail(code, msg, msglen, V3_INVALID_ARGUMENT, "etcdserver: bad request");
	if (kl == 0)
		return v3_fail(code, msg, msglen, V3_INVALID_ARGUMENT, "etcdserver: key is not provided");
	if (method != V3_PUT)
		return 0;
	get_bytes(p, n, PR_VALUE, &v, &vl);
	get_i64(p, n, PR_LEASE, &lease);
	get_bool(p, n, PR_IGNORE_VALUE, &iv);
	get_bool(p, n, PR_IGNORE_LEASE, &il);
	if (iv && vl != 0)
		return v3_fail(code, msg, msglen, V3_INVALID_ARGUMENT, "etcdserver: value is provided");
	if (il && lease != 0)
		return v3_fail(code, msg, msglen, V3_INVALID_ARGUMENT, "etcdserver: lease is provided");
	return 0;
}

static int check_dups(const uint8_t *p, size_t n, uint32_t field, int *code, char *msg,
	size_t msglen)
{
	struct txn_keys t;
	struct pb_reader r;
	struct pb_item it;

	t.n = 0;
	pb_reader_init(&r, p, n);
	while (pb_next_of(&r, field, &it) == 1 && t.n < 256) {
		const uint8_t *b;
		size_t bl;
		int f = op_of(it.data, it.len, &b, &bl);
		if (f != OP_PUT && f != OP_DELETE)
			continue;
		get_bytes(b, bl, 1, &t.k[t.n], &t.kl[t.n]);
		t.el[t.n] = 0;
		t.e[t.n] = NULL;
		if (f == OP_DELETE)
			get_bytes(b, bl, DR_END, &t.e[t.n], &t.el[t.n]);
		t.put[t.n++] = f == OP_PUT;
	}
	for (size_t i = 0; i < t.n; i++) {
		if (!t.put[i])
			continue;
		for (size_t j = 0; j < t.n; j++) {
			if (i == j || (t.put[j] && j < i))
				continue;
			if (v3_key_in_range(t.k[i], t.kl[i], t.k[j], t.kl[j], t.e[j], t.el[j]))
				return v3_fail(code, msg, msglen, V3_INVALID_ARGUMENT,
					"etcdserver: duplicate key given in txn request");
		}
	}
	return 0;
}

static int check_txn(const struct v3_ctx *c, const uint8_t *p, size_t n, int depth, int *code,
	char *msg, size_t msglen)
{
	int64_t max = c->max_txn_ops > 0 ? c->max_txn_ops : 128;

	if (depth > V3_MAX_TXN_DEPTH)
		return v3_fail(code, msg, msglen, V3_INVALID_ARGUMENT, "etcdserver: txn nested too deep");
	if (pb_count(p, n, TXN_COMPARE) > max || pb_count(p, n, TXN_SUCCESS) > max ||
		pb_count(p, n, TXN_FAILURE) > max)
		return v3_fail(code, msg, msglen, V3_INVALID_ARGUMENT,
			"etcdserver: too many operations in txn request");
	if (check_ops(c, p, n, TXN_SUCCESS, depth, code, msg, msglen) != 0 || *code ||
		check_ops(c, p, n, TXN_FAILURE, depth, code, msg, msglen) != 0 || *code)
		return 0;
	if (check_dups(p, n, TXN_SUCCESS, code, msg, msglen) != 0 || *code)
		return 0;
	return check_dups(p, n, TXN_FAILURE, code, msg, msglen);
}

static int check_ops(const struct v3_ctx *c, const uint8_t *p, size_t n, uint32_t field, int depth,
	int *code, char *msg, size_t msglen)
{
	struct pb_reader r;
	struct pb_item it;

	pb_reader_init(&r, p, n);
	while (pb_next_of(&r, field, &it) == 1) {
		const uint8_t *b;
		size_t bl;
		int f = op_of(it.data, it.len, &b, &bl);
		if (f == OP_TXN)
			check_txn(c, b, bl, depth + 1, code, msg, msglen);
		else if (f == OP_PUT)
			check_one(V3_PUT, b, bl, code, msg, msglen);
		else if (f == OP_RANGE || f == OP_DELETE)
			check_one(V3_RANGE, b, bl, code, msg, msglen);
		if (*code)
			return 0;
	}
	return 0;
}

void v3_check(const struct v3_ctx *c, int method, const uint8_t *req, size_t len, int *code,
	char *msg, size_t msglen)
{
	*code = 0;
	msg[0] = '\0';
	switch (method) {
	case V3_RANGE:
	case V3_PUT:
	case V3_DELETE_RANGE:
		check_one(method, req, len, code, msg, msglen);
		break;
	case V3_TXN:
		check_txn(c, req, len, 0, code, msg, msglen);
		break;
	default:
		break;
	}
}

/* --- entry points -------------------------------------------------------- */

static int do_compact(struct v3_ctx *c, const uint8_t *p, size_t n, struct buf *out, int *code,
	char *msg, size_t msglen)
{
	struct mvcc_state st;
	int64_t rev = 0;
	int done = 0, rc;
	char err[256];

	get_i64(p, n, COMPACT_REV, &rev);
	if ((rc = mvcc_compact(c->mvcc, c->txn, rev, err, sizeof(err))) != 0)
		return mvcc_rc(rc, code, msg, msglen);
	/* Physically now, in bounded steps of the same transaction. */
	while (!done)
		if ((rc = mvcc_compact_step(c->mvcc, c->txn, MVCC_COMPACT_BATCH, &done, err, sizeof(err))) != 0)
			return rc < 0 ? rc : CE_DB;
	if ((rc = mvcc_state_get(c->mvcc, c->txn, &st)) != 0)
		return rc < 0 ? rc : CE_DB;
	v3_put_header(out, c, st.current, 1);
	return 0;
}

int v3_apply(struct v3_ctx *c, DB_TXN *txn, int method, const uint8_t *req, size_t len,
	struct buf *out, int *code, char *msg, size_t msglen)
{
	int64_t rev;
	int rc, rc2;

	*code = 0;
	msg[0] = '\0';
	c->txn = txn;
	c->events_rev = 0;
	switch (method) {
	case V3_COMPACT:
		return do_compact(c, req, len, out, code, msg, msglen);
	case V3_LEASE_GRANT:
		return v3_lease_grant(c, req, len, out, code, msg, msglen);
	case V3_LEASE_REVOKE:
		return v3_lease_revoke(c, req, len, out, code, msg, msglen);
	case V3_LEASE_KEEPALIVE:
		return v3_lease_keepalive(c, req, len, out, code, msg, msglen);
	case V3_LEASE_CHECKPOINT:
		return v3_lease_checkpoint(c, req, len, out, code, msg, msglen);
	default:
		break;
	}
	if ((rc = mvcc_wtxn_begin(c->mvcc, txn)) != 0)
		return rc < 0 ? rc : CE_DB;
	switch (method) {
	case V3_PUT:
		rc = do_put(c, req, len, out, 1, code, msg, msglen);
		break;
	case V3_DELETE_RANGE:
		rc = do_delete(c, req, len, out, 1, code, msg, msglen);
		break;
	case V3_RANGE:
		rc = do_range(c, 1, req, len, out, 1, code, msg, msglen);
		break;
	case V3_TXN:
		rc = precheck(c, 1, req, len, 0, code, msg, msglen);
		if (rc == 0 && *code == 0)
			rc = do_txn(c, 1, req, len, out, 1, code, msg, msglen);
		break;
	default:
		rc = v3_fail(code, msg, msglen, V3_INVALID_ARGUMENT, "etcdserver: unknown method");
		break;
	}
	rc2 = mvcc_wtxn_end(c->mvcc, &rev);
	v3_note_events(c, rev);
	return rc != 0 ? rc : rc2 < 0 ? rc2 : 0;
}

/* has_writes: a Txn whose ops (either branch, nested) include a put or a
 * delete must go through raft. */
static int has_writes(const uint8_t *p, size_t n, int depth)
{
	struct pb_reader r;
	struct pb_item it;

	if (depth > V3_MAX_TXN_DEPTH)
		return 1;
	pb_reader_init(&r, p, n);
	while (pb_next(&r, &it) == 1) {
		const uint8_t *b;
		size_t bl;
		int f;
		if (it.number != TXN_SUCCESS && it.number != TXN_FAILURE)
			continue;
		f = op_of(it.data, it.len, &b, &bl);
		if (f == OP_PUT || f == OP_DELETE || (f == OP_TXN && has_writes(b, bl, depth + 1)))
			return 1;
	}
	return 0;
}

int v3_read(struct v3_ctx *c, int method, const uint8_t *req, size_t len, struct buf *out,
	int *code, char *msg, size_t msglen, int *is_write)
{
	int rc;

	*code = 0;
	msg[0] = '\0';
	*is_write = 0;
	if (method == V3_LEASE_LEASES || method == V3_LEASE_TTL)
		return v3_lease_read(c, method, req, len, out, code, msg, msglen);
	if (method == V3_RANGE)
		return do_range(c, 0, req, len, out, 1, code, msg, msglen);
	if (method != V3_TXN || has_writes(req, len, 0)) {
		*is_write = 1;
		return 0;
	}
	rc = precheck(c, 0, req, len, 0, code, msg, msglen);
	if (rc == 0 && *code == 0)
		rc = do_txn(c, 0, req, len, out, 1, code, msg, msglen);
	return rc;
}

int v3_http_status(int code)
{
	/* grpc-gateway v1's HTTPStatusFromCode, indexed by gRPC code */
	static const int status[] = {
		200, /* OK */
		408, /* Canceled */
		500, /* Unknown */
		400, /* InvalidArgument */
		504, /* DeadlineExceeded */
		404, /* NotFound */
		409, /* AlreadyExists */
		403, /* PermissionDenied */
		429, /* ResourceExhausted */
		412, /* FailedPrecondition */
		409, /* Aborted */
		400, /* OutOfRange */
		501, /* Unimplemented */
		500, /* Internal */
		503, /* Unavailable */
		500, /* DataLoss */
		401, /* Unauthenticated */
	};

	if (code < 0 || (size_t)code >= sizeof(status) / sizeof(status[0]))
		return 500;
	return status[code];
}

void v3_put_event(struct buf *b, uint32_t field, const struct mvcc_event *ev, int with_prev)
{
	size_t m = pb_msg_begin(b, field);

	pb_put_i32(b, 1, ev->type); /* mvccpb.Event.type: PUT = 0 is left out */
	v3_put_kv(b, 2, &ev->kv);
	if (with_prev && ev->has_prev)
		v3_put_kv(b, 3, &ev->prev);
	pb_msg_end(b, m);
}

void v3_note_events(struct v3_ctx *c, int64_t rev)
{
	size_t n = 0;

	mvcc_wtxn_events(c->mvcc, &n);
	c->events_rev = n > 0 ? rev : 0;
}
