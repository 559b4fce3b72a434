/* v3gw.c - etcd 3.4's grpc-gateway: POST /v3/<service>/<method> with a
 * JSON body, answered in JSON (src/pb maps both ways). /v3beta/ paths are
 * the same routes (etcd 3.4 serves both).
 *
 * The request becomes etcd's protobuf message, which is what travels:
 * - writes (Put, DeleteRange, Compaction, Txn with writes) are proposed to
 *   raft (envelope PROTO_V3: method byte + protobuf) and answered with the
 *   protobuf response the storage worker produces when it applies them;
 * - reads (Range, Txn without writes) are served here from the database:
 *   serializable at once, linearizable (the default) after a ReadIndex
 *   round once this member has applied up to the read index.
 */
#include "config.h"
#include "apid/apid_int.h"
#include "config/cfg.h"
#include "http/httpd.h"
#include "ipc/proto.h"
#include "ipc/worker.h"
#include "pb/etcd_schema.h"
#include "pb/pb.h"
#include "pb/pb_json.h"
#include "store/lease.h"
#include "store/mvcc.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/log.h"
#include "v3/v3.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Which routes are KV methods the v3 executor knows. */
static int method_of(const struct etcd_gw_route *r)
{
	static const struct {
		const char *grpc;
		int method;
	} map[] = {
		{ "/etcdserverpb.KV/Range", V3_RANGE },
		{ "/etcdserverpb.KV/Put", V3_PUT },
		{ "/etcdserverpb.KV/DeleteRange", V3_DELETE_RANGE },
		{ "/etcdserverpb.KV/Txn", V3_TXN },
		{ "/etcdserverpb.KV/Compact", V3_COMPACT },
		{ "/etcdserverpb.Lease/LeaseGrant", V3_LEASE_GRANT },
		{ "/etcdserverpb.Lease/LeaseRevoke", V3_LEASE_REVOKE },
		{ "/etcdserverpb.Lease/LeaseKeepAlive", V3_LEASE_KEEPALIVE },
		{ "/etcdserverpb.Lease/LeaseLeases", V3_LEASE_LEASES },
		{ "/etcdserverpb.Lease/LeaseTimeToLive", V3_LEASE_TTL },
		{ "/etcdserverpb.Maintenance/Alarm", V3_ALARM }, /* v3maint.c */
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(r->grpc_method, map[i].grpc) == 0)
			return map[i].method;
	return 0;
}

void v3gw_send_decode_error(struct hreq *req, int status, int code, const char *msg)
{
	struct buf b;

	buf_init(&b);
	pb_json_error_body(&b, msg, code);
	hreq_add_header(req, "Content-Type", "application/json");
	hreq_reply(req, status, b.data, b.len);
	buf_close(&b);
}

void v3gw_send_error(struct hreq *req, int status, int code, const char *msg)
{
	struct buf b;

	/* grpc-gateway declares the gRPC trailer it will send, so Go's server
	 * answers chunked */
	buf_init(&b);
	pb_json_error_body(&b, msg, code);
	hreq_add_header(req, "Content-Type", "application/json");
	hreq_add_header(req, "Trailer", "Grpc-Trailer-Content-Type");
	hreq_reply_start(req, status);
	hreq_reply_chunk(req, b.data, b.len);
	hreq_reply_end_trailer(req, "Grpc-Trailer-Content-Type: application/grpc\r\n");
	buf_close(&b);
}

void v3gw_send_pb(struct hreq *req, const struct etcd_gw_route *r, const void *pb, size_t len)
{
	struct buf b;
	char err[256];

	buf_init(&b);
	if ((r->kind == ETCD_GW_UNARY ? pb_to_json(r->resp, pb, len, &b, err, sizeof(err)) :
		pb_json_stream_chunk(r->resp, pb, len, &b, err, sizeof(err))) != 0) {
		log_error("v3 %s: cannot encode the response: %s", r->path, err);
		v3gw_send_error(req, 500, 13, "etcdserver: internal error");
	} else {
		hreq_add_header(req, "Content-Type", "application/json");
		hreq_add_header(req, "Grpc-Metadata-Content-Type", "application/grpc");
		hreq_reply(req, 200, b.data, b.len);
	}
	buf_close(&b);
}

/* Seconds left of lease id, from the deadlines the leader's storage
 * worker publishes; < -1 when this member is not the leader or does not
 * know the lease (etcd forwards TimeToLive to the leader; cetcd answers
 * the granted TTL there). */
static int64_t ttl_left(void *arg, int64_t id)
{
	struct apid *a = arg;
	const struct shm_leases *sl = a->w->shm->leases;
	int64_t left = -2;
	int tries = 100;
	uint32_t v;

	_Static_assert(sizeof(struct shm_lease_deadline) == sizeof(struct lease_expiry), "layout");
	do {
		const struct lease_expiry *e;
		uint32_t n;
		v = shm_read_begin(&sl->seq);
		n = sl->n < SHM_MAX_LEASE_DEADLINES ? sl->n : SHM_MAX_LEASE_DEADLINES;
		e = lease_expiry_find((const struct lease_expiry *)sl->v, n, id);
		left = e ? lease_ttl_left(e->deadline_ms, (int64_t)shm_now_ms()) : -2;
	} while (shm_read_retry(&sl->seq, v) && --tries > 0);
	return left;
}

void v3gw_header(struct apid *a, struct buf *b, int64_t rev)
{
	struct shm_raft r;
	size_t m = pb_msg_begin(b, 1);

	shm_raft_read(a->w->shm, &r);
	pb_put_u64(b, 1, a->cluster.cluster_id);
	pb_put_u64(b, 2, a->cluster.self_id);
	pb_put_i64(b, 3, rev);
	pb_put_u64(b, 4, r.term);
	pb_msg_end(b, m);
}

static void ctx_init(struct apid *a, struct v3_ctx *c)
{
	struct shm_raft r;

	memset(c, 0, sizeof(*c));
	shm_raft_read(a->w->shm, &r);
	c->mvcc = a->mvcc;
	c->lease = a->lease;
	c->cluster_id = a->cluster.cluster_id;
	c->member_id = a->cluster.self_id;
	c->raft_term = r.term;
	c->max_txn_ops = (int64_t)a->w->cfg->max_txn_ops;
	c->lease_ttl_left = ttl_left;
	c->lease_arg = a;
}

/* serve_read answers a read from the database; 1 if it turned out to be a
 * write (a Txn with puts or deletes), 0 when answered. */
static int serve_read(struct apid *a, struct hreq *req, const struct etcd_gw_route *r, int method,
	const uint8_t *pb, size_t len)
{
	struct v3_ctx c;
	struct buf out;
	char msg[256];
	int code = 0, is_write = 0, rc;

	ctx_init(a, &c);
	buf_init(&out);
	rc = v3_read(&c, method, pb, len, &out, &code, msg, sizeof(msg), &is_write);
	if (rc == 0 && !is_write) {
		if (code != 0)
			v3gw_send_error(req, v3_http_status(code), code, msg);
		else
			v3gw_send_pb(req, r, out.data, out.len);
	} else if (rc != 0) {
		v3gw_send_error(req, 503, V3_UNAVAILABLE, "etcdserver: database read failed");
	}
	buf_close(&out);
	return rc == 0 && is_write;
}

static struct pending *park(struct apid *a, struct hreq *req, uint64_t req_id,
	const struct etcd_gw_route *r, int method, const uint8_t *pb, size_t len)
{
	struct pending *p = pending_add(a, req_id, PENDING_V3, req);

	if (p == NULL)
		return NULL;
	p->route = r;
	p->v3_method = method;
	if (len > 0 && (p->path = malloc(len)) != NULL)
		memcpy(p->path, pb, len);
	p->path_len = p->path ? len : 0;
	return p;
}

struct pending *v3gw_propose(struct apid *a, struct hreq *req, const struct etcd_gw_route *r,
	int method, const uint8_t *pb, size_t len)
{
	uint8_t m = (uint8_t)method;
	uint64_t req_id;
	struct pending *p = NULL;
	struct buf body;

	buf_init(&body);
	buf_put(&body, &m, 1);
	buf_put(&body, pb, len);
	v3authgw_wrap(a, &body); /* v3authgw.c: the sender, checked again at apply */
	if (apid_propose(a, PROTO_V3, body.data, body.len, &req_id) == 0)
		p = park(a, req, req_id, r, method, NULL, 0);
	buf_close(&body);
	return p;
}

static void propose(struct apid *a, struct hreq *req, const struct etcd_gw_route *r, int method,
	const uint8_t *pb, size_t len)
{
	if (v3gw_propose(a, req, r, method, pb, len) == NULL)
		v3gw_send_error(req, 503, V3_UNAVAILABLE, "etcdserver: no leader");
}

static int is_serializable(int method, const uint8_t *pb, size_t len)
{
	int s = 0;

	if (method == V3_RANGE)
		pb_get_bool(pb, len, 7, &s); /* RangeRequest.serializable */
	return s;
}

static void dispatch(struct apid *a, struct hreq *req, const struct etcd_gw_route *r,
	const uint8_t *pb, size_t len)
{
	int method = method_of(r), code = 0;
	struct v3_ctx c;
	char msg[256];
	uint64_t req_id;

	if (v3authgw_dispatch(a, req, r, method, pb, len)) /* v3authgw.c: Auth, permissions */
		return;
	if (strncmp(r->grpc_method, "/v3lockpb.Lock/", 15) == 0 || /* v3conc.c */
		strncmp(r->grpc_method, "/v3electionpb.Election/", 23) == 0) {
		v3conc_handle(a, req, r, pb, len);
		return;
	}
	if (method == 0 && strncmp(r->grpc_method, "/etcdserverpb.Cluster/Member", 28) == 0 &&
		strcmp(r->grpc_method, "/etcdserverpb.Cluster/MemberList") != 0) {
		members_v3_handle(a, req, r, pb, len);
		return;
	}
	if (method == 0 && v3snap_handle(a, req, r, pb, len)) /* HashKV, MoveLeader (v3snap.c) */
		return;
	if (method == 0) {
		int rc = v3maint_handle(a, req, r->grpc_method, r);
		if (rc < 0)
			v3gw_send_error(req, 503, V3_UNAVAILABLE, "etcdserver: not ready");
		else if (rc == 0)
			v3gw_send_error(req, 501, 12, "unknown service or method");
		return;
	}
	ctx_init(a, &c);
	v3_check(&c, method, pb, len, &code, msg, sizeof(msg));
	if (code != 0) {
		v3gw_send_error(req, v3_http_status(code), code, msg);
		return;
	}
	if (v3maint_quota_refuse(a, req, r, method, pb, len)) /* NOSPACE (v3maint.c) */
		return;
	if (method == V3_LEASE_GRANT) {
		int64_t id = 0;
		pb_get_i64(pb, len, 2, &id);
		if (id == 0) {
			/* The receiving member picks the id, so every member
			 * applies the same one (etcd's reqIDGen). */
			struct buf with;
			buf_init(&with);
			buf_put(&with, pb, len);
			pb_put_i64(&with, 2, lease_idgen_next((struct lease_idgen *)a->w->shm->hdr->lease_idgen));
			propose(a, req, r, method, with.data, with.len);
			buf_close(&with);
			return;
		}
	}
	if (method == V3_LEASE_TTL && v3forward_lease_ttl(a, req, r, pb, len))
		return;
	if (method != V3_RANGE && method != V3_TXN && method != V3_LEASE_LEASES &&
		method != V3_LEASE_TTL) {
		propose(a, req, r, method, pb, len);
		return;
	}
	if (!apid_db_ready(a)) {
		v3gw_send_error(req, 503, V3_UNAVAILABLE, "etcdserver: not ready");
		return;
	}
	if (is_serializable(method, pb, len)) {
		if (serve_read(a, req, r, method, pb, len))
			propose(a, req, r, method, pb, len);
		return;
	}
	/* Linearizable: a read index first (a Txn with writes is proposed
	 * when its turn comes, see v3gw_serve_read). */
	if (apid_read_index(a, &req_id) != 0 || park(a, req, req_id, r, method, pb, len) == NULL)
		v3gw_send_error(req, 503, V3_UNAVAILABLE, "etcdserver: no leader");
}

int v3gw_handle(struct apid *a, struct hreq *req, const char *path)
{
	const struct etcd_gw_route *r;
	char alias[256];
	struct buf pb;
	size_t blen;
	const char *body;
	char err[512];

	if (strncmp(path, "/v3beta/", 8) == 0) {
		snprintf(alias, sizeof(alias), "/v3/%s", path + 8);
		path = alias;
	}
	if (strncmp(path, "/v3/", 4) != 0)
		return 0;
	r = etcd_gw_route_find(path, strlen(path));
	if (r == NULL) {
		hreq_add_header(req, "X-Content-Type-Options", "nosniff");
		http_send_text(req, 404, "Not Found\n");
		return 1;
	}
	if (hreq_method(req) != H_POST) {
		hreq_add_header(req, "X-Content-Type-Options", "nosniff");
		http_send_text(req, 405, "Method Not Allowed\n");
		return 1;
	}
	if (v3authgw_pre(a, req, r)) /* v3authgw.c: root-only calls */
		return 1;
	body = hreq_body(req, &blen);
	/* client streams: the body holds request after request */
	if (strcmp(r->grpc_method, "/etcdserverpb.Watch/Watch") == 0) {
		v3watch_start(a, req, body, blen);
		return 1;
	}
	if (strcmp(r->grpc_method, "/etcdserverpb.Lease/LeaseKeepAlive") == 0) {
		v3keepalive_start(a, req, body, blen);
		return 1;
	}
	if (strcmp(r->grpc_method, "/etcdserverpb.Maintenance/Snapshot") == 0) { /* v3snap.c */
		v3snap_handle(a, req, r, NULL, 0);
		return 1;
	}
	if (r->kind != ETCD_GW_UNARY &&
		strcmp(r->grpc_method, "/v3electionpb.Election/Observe") != 0) { /* v3conc.c */
		v3gw_send_error(req, 501, 12, "streaming gateway calls are not served yet");
		return 1;
	}
	buf_init(&pb);
	if (pb_from_json(r->req, body, blen, &pb, err, sizeof(err)) != 0)
		v3gw_send_decode_error(req, 400, PB_GRPC_INVALID_ARGUMENT, err);
	else
		dispatch(a, req, r, pb.data, pb.len);
	v3authgw_end(a); /* v3authgw.c */
	buf_close(&pb);
	return 1;
}

void v3gw_on_result(struct apid *a, struct pending *p, const struct proto_result *r)
{
	char msg[256];

	if (p->v3_method == V3_GW_MEMBER) {
		members_v3_done(a, p, (int)r->http_status, r->body, r->len);
		return;
	}
	if (p->v3_method == V3_GW_CONC) { /* v3conc.c */
		v3conc_on_result(a, p, r);
		return;
	}
	if (p->v3_method == V3_GW_KEEPALIVE) {
		v3keepalive_done(a, p, r, NULL);
		return;
	}
	if (p->v3_method == V3_GW_NOSPACE) { /* v3maint.c */
		v3maint_nospace_done(a, p);
		return;
	}
	if (p->v3_method == V3_GW_SNAPSHOT || p->v3_method == V3_GW_MOVE_LEADER) { /* v3snap.c */
		v3snap_on_result(a, p, r);
		return;
	}
	if (p->v3_method == V3_AUTH && v3authgw_on_result(a, p, r)) /* v3authgw.c */
		return;
	if (r->error_code == 0) {
		v3gw_send_pb(p->req, p->route, r->body, r->len);
		return;
	}
	snprintf(msg, sizeof(msg), "%.*s", (int)r->len, (const char *)r->body);
	v3gw_send_error(p->req, (int)r->http_status, (int)r->error_code, msg);
}

void v3gw_on_error(struct apid *a, struct pending *p, const char *msg)
{
	if (p->v3_method == V3_GW_MEMBER) {
		members_v3_error(a, p, CE_AGAIN, msg);
		return;
	}
	if (p->v3_method == V3_GW_CONC) { /* v3conc.c */
		v3conc_on_error(a, p, msg);
		return;
	}
	if (p->v3_method == V3_GW_KEEPALIVE) {
		v3keepalive_done(a, p, NULL, msg);
		return;
	}
	if (p->v3_method == V3_GW_NOSPACE) { /* v3maint.c */
		v3maint_nospace_done(a, p);
		return;
	}
	if (p->v3_method == V3_GW_SNAPSHOT || p->v3_method == V3_GW_MOVE_LEADER) { /* v3snap.c */
		v3snap_on_error(a, p, msg);
		return;
	}
	/* The raft worker refused it, or it timed out (etcd's Unavailable). */
	v3gw_send_error(p->req, 503, V3_UNAVAILABLE, msg);
}

int v3gw_serve_read(struct apid *a, struct pending *p)
{
	if (serve_read(a, p->req, p->route, p->v3_method, (const uint8_t *)p->path, p->path_len)) {
		v3authgw_resume(a, p->req); /* v3authgw.c: the sender again */
		propose(a, p->req, p->route, p->v3_method, (const uint8_t *)p->path, p->path_len);
		v3authgw_end(a);
	}
	return 0;
}
