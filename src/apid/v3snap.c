/* v3snap.c - the Maintenance calls that need another worker or a long
 * stream: Snapshot, HashKV and MoveLeader, as etcd 3.4's gateway serves
 * them (HashKV on /v3/maintenance/hashkv, etcd 3.5's path: in 3.4 the
 * gateway's /v3/maintenance/hash is Hash).
 *
 * Snapshot: the storage worker writes a point-in-time snapshot file at its
 * applied index (IPC_DBSNAP; it pauses applies only for the dump); this
 * worker opens it, unlinks it at once (so a crash leaks nothing) and
 * streams it as etcd does: 32 KiB blobs, each with the bytes still to come
 * after it (remaining_bytes), then one more message with the SHA-256 of
 * the whole file. The next blob is read only when the connection's output
 * has drained below a high-water mark, so a file of any size streams in
 * bounded memory.
 *
 * MoveLeader: forwarded to the raft worker (IPC_MOVE_LEADER), which
 * answers when the target leads or the transfer timed out.
 */
#include "config.h"
#include "apid/apid_int.h"
#include "http/httpd.h"
#include "ipc/conn.h"
#include "ipc/proto.h"
#include "ipc/worker.h"
#include "pb/etcd_schema.h"
#include "pb/pb.h"
#include "pb/pb_json.h"
#include "store/mvcc.h"
#include "stored/dbsnap.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/log.h"
#include "v3/v3.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* etcd's snapshotSendBufferSize */
#define SNAP_BLOB (32u * 1024u)
/* Queue more only while less than this waits for the client. */
#define SNAP_HIGH_WATER (4u * SNAP_BLOB)
/* Writing the file may take a while on a big database. */
#define SNAP_WAIT_MS (10u * 60u * 1000u)

struct snapstream {
	struct hreq *req;
	const struct etcd_gw_route *route;
	int fd;
	uint64_t size, sent;
	struct dbsnap_sha256 sha;
	int busy, gone, ended;
	uint8_t blob[SNAP_BLOB];
};

static void stream_free(struct snapstream *st)
{
	if (st->fd >= 0)
		close(st->fd);
	free(st);
}

/* end_reply completes the request (which frees it in the server). */
static void end_reply(struct snapstream *st)
{
	hreq_set_close_cb(st->req, NULL, NULL);
	hreq_set_drain_cb(st->req, NULL, NULL);
	st->ended = 1;
	hreq_reply_end(st->req);
}

/* send_msg sends one SnapshotResponse{remaining_bytes, blob} line. */
static int send_msg(struct snapstream *st, uint64_t remaining, const void *blob, size_t n)
{
	struct buf pb, json;
	char err[128];
	int rc;

	buf_init(&pb);
	buf_init(&json);
	pb_put_u64(&pb, 2, remaining);
	pb_put_bytes(&pb, 3, blob, n);
	rc = pb_json_stream_chunk(st->route->resp, pb.data, pb.len, &json, err, sizeof(err));
	if (rc == 0)
		hreq_reply_chunk(st->req, json.data, json.len);
	buf_close(&pb);
	buf_close(&json);
	return rc;
}

static void stream_fail(struct snapstream *st, const char *msg)
{
	struct buf b;

	log_error("snapshot stream: %s", msg);
	buf_init(&b);
	pb_json_error_body(&b, msg, 13);
	buf_put(&b, "\n", 1);
	hreq_reply_chunk(st->req, b.data, b.len);
	buf_close(&b);
	if (!st->gone)
		end_reply(st);
}

/* pump sends blobs while the client keeps up; 1 when the stream is over
 * (answered or failed), 0 to wait for the drain callback. */
static int pump(struct snapstream *st)
{
	while (!st->gone && hreq_out_pending(st->req) < SNAP_HIGH_WATER) {
		uint8_t sum[DBSNAP_SHA256_LEN];
		size_t n;
		ssize_t k;

		if (st->sent == st->size) {
			dbsnap_sha256_final(&st->sha, sum);
			if (send_msg(st, 0, sum, sizeof(sum)) != 0)
				stream_fail(st, "cannot encode the snapshot");
			else if (!st->gone)
				end_reply(st);
			return 1;
		}
		n = st->size - st->sent < SNAP_BLOB ? (size_t)(st->size - st->sent) : SNAP_BLOB;
		do
			k = pread(st->fd, st->blob, n, (off_t)st->sent);
		while (k < 0 && errno == EINTR);
		if (k <= 0) {
			stream_fail(st, k < 0 ? strerror(errno) : "snapshot file truncated");
			return 1;
		}
		dbsnap_sha256_update(&st->sha, st->blob, (size_t)k);
		st->sent += (uint64_t)k;
		if (send_msg(st, st->size - st->sent, st->blob, (size_t)k) != 0) {
			stream_fail(st, "cannot encode the snapshot");
			return 1;
		}
	}
	return st->gone;
}

/* after_pump frees the stream once it is over or its client is gone. */
static void after_pump(struct snapstream *st, int over)
{
	st->busy = 0;
	if (st->gone && !st->ended)
		end_reply(st); /* the server keeps the request until we end it */
	if (st->gone || over)
		stream_free(st);
}

static void close_cb(struct hreq *r, void *arg)
{
	struct snapstream *st = arg;

	(void)r;
	st->gone = 1;
	if (!st->busy)
		after_pump(st, 1);
}

static void drain_cb(struct hreq *r, void *arg)
{
	struct snapstream *st = arg;

	(void)r;
	st->busy = 1;
	after_pump(st, pump(st));
}

static void snapshot_start(struct pending *p, const char *path)
{
	struct snapstream *st = calloc(1, sizeof(*st));
	struct stat sb;

	if (st == NULL) {
		v3gw_send_error(p->req, 503, V3_UNAVAILABLE, "etcdserver: out of memory");
		unlink(path);
		return;
	}
	st->req = p->req;
	st->route = p->route;
	st->fd = open(path, O_RDONLY | O_CLOEXEC);
	/* Unlinked now: the open descriptor keeps it readable until we are
	 * done, and nothing is left behind if this process dies. */
	unlink(path);
	if (st->fd < 0 || fstat(st->fd, &sb) != 0) {
		log_error("open snapshot %s: %s", path, strerror(errno));
		v3gw_send_error(p->req, 500, 13, "etcdserver: cannot read the snapshot");
		stream_free(st);
		return;
	}
	st->size = (uint64_t)sb.st_size;
	dbsnap_sha256_init(&st->sha);
	hreq_add_header(st->req, "Content-Type", "application/json");
	hreq_add_header(st->req, "Grpc-Metadata-Content-Type", "application/grpc");
	hreq_reply_start(st->req, 200);
	hreq_set_close_cb(st->req, close_cb, st);
	hreq_set_drain_cb(st->req, drain_cb, st);
	st->busy = 1;
	after_pump(st, pump(st));
}

/* ask sends an IPC request of type on c for a call parked as pending
 * v3_method; the answer comes back to v3snap_on_result. */
static void ask(struct apid *a, struct hreq *req, const struct etcd_gw_route *r,
	struct ipc_conn *c, uint8_t type, int v3_method, const void *body, size_t len,
	const char *fail)
{
	uint64_t req_id;
	struct pending *p;

	if (c == NULL) {
		v3gw_send_error(req, 503, V3_UNAVAILABLE, fail);
		return;
	}
	req_id = ++a->next_req_id;
	if ((p = pending_add(a, req_id, PENDING_V3, req)) == NULL) {
		v3gw_send_error(req, 503, V3_UNAVAILABLE, "etcdserver: out of memory");
		return;
	}
	p->route = r;
	p->v3_method = v3_method;
	if (v3_method == V3_GW_SNAPSHOT)
		p->deadline_ms = shm_now_ms() + SNAP_WAIT_MS;
	if (ipc_conn_send(c, type, req_id, a->w->slot_index, a->w->gen, body, len, NULL, 0) != 0) {
		p = pending_take(a, req_id);
		v3gw_send_error(req, 503, V3_UNAVAILABLE, fail);
		pending_free(p);
	}
}

static void snapshot_request(struct apid *a, struct hreq *req, const struct etcd_gw_route *r)
{
	if (!apid_db_ready(a)) {
		v3gw_send_error(req, 503, V3_UNAVAILABLE, "etcdserver: not ready");
		return;
	}
	ask(a, req, r, a->store, IPC_DBSNAP, V3_GW_SNAPSHOT, NULL, 0, "etcdserver: not ready");
}

/* HashKV is answered from this member's database, as etcd does. */
static void hash_kv(struct apid *a, struct hreq *req, const struct etcd_gw_route *r,
	const uint8_t *pb, size_t len)
{
	int64_t rev = 0, current = 0, compacted = -1;
	uint32_t hash = 0;
	char err[256];
	struct buf out;
	int rc = CE_AGAIN;

	pb_get_i64(pb, len, 1, &rev);
	if (!apid_db_ready(a)) {
		v3gw_send_error(req, 503, V3_UNAVAILABLE, "etcdserver: not ready");
		return;
	}
	for (int i = 0; i < APID_READ_RETRIES && rc == CE_AGAIN; i++)
		rc = mvcc_hash_kv(a->mvcc, rev, &hash, &current, &compacted, err, sizeof(err));
	if (rc == MVCC_ERR_COMPACTED || rc == MVCC_ERR_FUTURE_REV) {
		v3gw_send_error(req, 400, V3_OUT_OF_RANGE, rc == MVCC_ERR_COMPACTED ?
			"etcdserver: mvcc: required revision has been compacted" :
			"etcdserver: mvcc: required revision is a future revision");
		return;
	}
	if (rc != 0) {
		log_error("hashkv: %s", err);
		v3gw_send_error(req, 503, V3_UNAVAILABLE, "etcdserver: database read failed");
		return;
	}
	buf_init(&out);
	v3gw_header(a, &out, current);
	pb_put_u64(&out, 2, hash);
	pb_put_i64(&out, 3, compacted);
	v3gw_send_pb(req, r, out.data, out.len);
	buf_close(&out);
}

static void move_leader(struct apid *a, struct hreq *req, const struct etcd_gw_route *r,
	const uint8_t *pb, size_t len)
{
	uint64_t target = 0;
	uint8_t body[8];

	pb_get_u64(pb, len, 1, &target);
	le_put64(body, target);
	ask(a, req, r, a->raft, IPC_MOVE_LEADER, V3_GW_MOVE_LEADER, body, sizeof(body),
		"etcdserver: no leader");
}

int v3snap_handle(struct apid *a, struct hreq *req, const struct etcd_gw_route *r,
	const uint8_t *pb, size_t len)
{
	if (strcmp(r->grpc_method, "/etcdserverpb.Maintenance/Snapshot") == 0)
		snapshot_request(a, req, r);
	else if (strcmp(r->grpc_method, "/etcdserverpb.Maintenance/HashKV") == 0)
		hash_kv(a, req, r, pb, len);
	else if (strcmp(r->grpc_method, "/etcdserverpb.Maintenance/MoveLeader") == 0)
		move_leader(a, req, r, pb, len);
	else
		return 0;
	return 1;
}

void v3snap_on_result(struct apid *a, struct pending *p, const struct proto_result *r)
{
	char text[4096];

	(void)a;
	snprintf(text, sizeof(text), "%.*s", (int)r->len, (const char *)r->body);
	if (p->v3_method == V3_GW_SNAPSHOT && r->http_status == 200 && r->error_code == 0) {
		snapshot_start(p, text);
		return;
	}
	v3gw_send_error(p->req, r->http_status ? (int)r->http_status : 500,
		r->error_code ? (int)r->error_code : 13, text);
}

void v3snap_on_error(struct apid *a, struct pending *p, const char *msg)
{
	int code = V3_UNAVAILABLE;

	(void)a;
	if (p->v3_method == V3_GW_MOVE_LEADER && msg[0] == '\0') {
		v3gw_send_pb(p->req, p->route, "", 0); /* MoveLeaderResponse{}: etcd sends no header */
		return;
	}
	/* The raft worker's refusals are etcd's FailedPrecondition errors;
	 * timeouts and a lost raft worker are Unavailable. */
	if (strcmp(msg, "etcdserver: not leader") == 0 ||
		strcmp(msg, "etcdserver: bad leader transferee") == 0)
		code = V3_FAILED_PRECONDITION;
	v3gw_send_error(p->req, v3_http_status(code), code, msg);
}
