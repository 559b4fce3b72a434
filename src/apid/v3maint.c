/* v3maint.c - the v3 cluster and maintenance calls an api worker answers
 * itself: Cluster/MemberList (from the replicated /0/members, as
 * /v2/members), Maintenance/Status (this member's raft and database state
 * from shared memory and the database files, with the alarms set as its
 * errors), Maintenance/Hash and Maintenance/Defragment (asked of the storage
 * worker, which compacts the files online, src/stored/defrag.c).
 *
 * Also the backend quota (etcd's quotaKVServer and quotaLeaseServer): a
 * Put, a Txn with puts or a LeaseGrant whose cost would take the database
 * files to --quota-backend-bytes raises the NOSPACE alarm for this member
 * and is refused with etcd's ErrGRPCNoSpace. The size measured is the
 * database files' (*.db) bytes, which a defragment brings back down. */
#include "config.h"
#include "apid/apid_int.h"
#include "config/cfg.h"
#include "http/httpd.h"
#include "ipc/conn.h"
#include "ipc/frame.h"
#include "ipc/proto.h"
#include "ipc/worker.h"
#include "store/env.h"
#include "store/meta.h"
#include "util/log.h"
#include "pb/etcd_schema.h"
#include "pb/pb.h"
#include "pb/pb_json.h"
#include "raft/raft.h"
#include "store/mvcc.h"
#include "util/buf.h"
#include "util/err.h"
#include "v3/v3.h"

#include <dirent.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* How long a defragment may take before the client gets a timeout. */
#define DEFRAG_TIMEOUT_MS (10u * 60u * 1000u)
/* The quota check reuses a size measured this recently (it stats files). */
#define QUOTA_SIZE_CACHE_MS 20u

/* file_bytes: the size of database file name as the shared cache knows it
 * (pages the writer added are in the file only once they are flushed,
 * which may be a checkpoint later) into *size, at least the size on disk;
 * *free_b gets the bytes of its free pages (what a defragment can give
 * back), when in_use is wanted: that needs a full DB->stat (the free
 * list is not counted by DB_FAST_STAT), a walk of the file, so only Status
 * asks for it. */
/* size_db: a read handle on database file name, opened once and kept
 * until the environment is let go (apid_size_dbs_close): opening a handle
 * takes locks and reads the file's meta page, too dear for the quota check
 * that runs every QUOTA_SIZE_CACHE_MS while writes go on. */
static DB *size_db(struct apid *a, const char *name)
{
	char err[128];
	DB *db;

	for (size_t i = 0; i < a->nsize_dbs; i++)
		if (strcmp(a->size_names[i], name) == 0)
			return a->size_dbs[i];
	if (a->env == NULL || a->nsize_dbs == APID_MAX_SIZE_DBS ||
		strlen(name) >= sizeof(a->size_names[0]) ||
		store_db_open(&db, a->env, name, 0, err, sizeof(err)) != 0)
		return NULL;
	snprintf(a->size_names[a->nsize_dbs], sizeof(a->size_names[0]), "%s", name);
	a->size_dbs[a->nsize_dbs++] = db;
	return db;
}

void apid_size_dbs_close(struct apid *a)
{
	for (size_t i = 0; i < a->nsize_dbs; i++)
		a->size_dbs[i]->close(a->size_dbs[i], 0);
	a->nsize_dbs = 0;
}

static void file_bytes(struct apid *a, const char *name, int64_t on_disk, int64_t *size,
	int64_t *free_b)
{
	DB_BTREE_STAT *bs = NULL;
	db_pgno_t last = 0;
	u_int32_t psize = 0;
	DB *db = size_db(a, name);

	*size = on_disk;
	if (free_b)
		*free_b = 0;
	if (db == NULL)
		return;
	if (db->get_pagesize(db, &psize) == 0 &&
		db->get_mpf(db)->get_last_pgno(db->get_mpf(db), &last) == 0 &&
		((int64_t)last + 1) * (int64_t)psize > on_disk)
		*size = ((int64_t)last + 1) * (int64_t)psize;
	if (free_b && db->stat(db, NULL, &bs, DB_READ_COMMITTED) == 0 && bs) {
		*free_b = (int64_t)bs->bt_free * (int64_t)bs->bt_pagesize;
		free(bs);
	}
}

/* db_size: the bytes of the database files (etcd's dbSize is its bbolt
 * file's size); *in_use (if not NULL) gets them minus their free pages
 * (etcd's dbSizeInUse). */
static int64_t db_size_used(struct apid *a, int64_t *in_use)
{
	char dir[PATH_MAX], path[PATH_MAX + 256];
	struct dirent *de;
	struct stat st;
	int64_t n = 0, used = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/member/db", a->w->cfg->data_dir);
	if ((d = opendir(dir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		if (l < 4 || strcmp(de->d_name + l - 3, ".db") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (stat(path, &st) != 0)
			continue;
		int64_t size, f;
		file_bytes(a, de->d_name, (int64_t)st.st_size, &size, in_use ? &f : NULL);
		n += size;
		if (in_use)
			used += f < size ? size - f : 0;
	}
	closedir(d);
	if (in_use)
		*in_use = used;
	return n;
}

static int64_t db_size(struct apid *a)
{
	return db_size_used(a, NULL);
}

size_t apid_alarms(struct apid *a, struct v3_alarm *al, size_t max)
{
	char err[128];
	size_t n = 0;
	DB *meta;

	if (a->env == NULL || meta_db_open(&meta, a->env, 0, err, sizeof(err)) != 0)
		return 0;
	for (int tries = 0; tries < APID_READ_RETRIES; tries++)
		if (v3_alarm_list(meta, NULL, al, max, &n) != CE_AGAIN)
			break;
	meta->close(meta, 0);
	return n;
}

/* put_alarm_errors: StatusResponse.errors, the alarms set (etcd lists
 * every alarm of the cluster). */
static void put_alarm_errors(struct apid *a, struct buf *pb)
{
	struct v3_alarm al[V3_ALARM_MAX];
	size_t n = apid_alarms(a, al, V3_ALARM_MAX);

	v3_alarm_put_errors(pb, 8, al, n);
}

int v3maint_quota_refuse(struct apid *a, struct hreq *req, const struct etcd_gw_route *r,
	int method, const uint8_t *pb, size_t len)
{
	static uint64_t measured_ms;
	static int64_t size;
	int64_t quota = v3_quota_bytes(a->w->cfg->quota_backend_bytes);
	int64_t cost = v3_quota_cost(method, pb, len);
	uint64_t now = shm_now_ms(), req_id;
	struct pending *p;
	struct buf body;
	uint8_t m = V3_ALARM;

	/* etcd 3.4.23 lets a request that adds nothing pass (cost 0). */
	if (quota <= 0 || cost == 0)
		return 0;
	if (measured_ms == 0 || now - measured_ms >= QUOTA_SIZE_CACHE_MS) {
		size = db_size(a);
		measured_ms = now;
	}
	if (size + cost < quota)
		return 0;
	measured_ms = 0; /* measure again next time */
	buf_init(&body);
	buf_put(&body, &m, 1);
	v3_alarm_request(&body, V3_ALARM_ACTIVATE, a->cluster.self_id, V3_ALARM_NOSPACE);
	p = NULL;
	if (apid_propose(a, PROTO_V3, body.data, body.len, &req_id) == 0 &&
		(p = pending_add(a, req_id, PENDING_V3, req)) != NULL) {
		p->route = r;
		p->v3_method = V3_GW_NOSPACE;
	}
	buf_close(&body);
	if (p == NULL)
		v3gw_send_error(req, v3_http_status(V3_RESOURCE_EXHAUSTED), V3_RESOURCE_EXHAUSTED, V3_ERR_NOSPACE);
	return 1;
}

void v3maint_nospace_done(struct apid *a, struct pending *p)
{
	(void)a;
	/* As etcd's quotaAlarmer: the alarm was asked for, whatever came of
	 * it, and the request is refused. */
	v3gw_send_error(p->req, v3_http_status(V3_RESOURCE_EXHAUSTED), V3_RESOURCE_EXHAUSTED, V3_ERR_NOSPACE);
}

/* defragment asks the storage worker; the answer comes back as an
 * IPC_RESULT routed to v3gw_on_result (an empty DefragmentResponse). */
static int defragment(struct apid *a, struct hreq *req, const struct etcd_gw_route *r)
{
	uint64_t req_id = ++a->next_req_id;
	struct pending *p;

	if (a->store == NULL)
		return -1;
	if ((p = pending_add(a, req_id, PENDING_V3, req)) == NULL)
		return -1;
	p->route = r;
	p->v3_method = 0;
	p->deadline_ms = shm_now_ms() + DEFRAG_TIMEOUT_MS;
	if (ipc_conn_send(a->store, IPC_DEFRAG, req_id, a->w->slot_index, a->w->gen, NULL, 0,
		NULL, 0) != 0) {
		pending_free(pending_take(a, req_id));
		return -1;
	}
	return 1;
}

static void reply(struct hreq *req, const struct etcd_gw_route *r, const struct buf *pb)
{
	struct buf json;
	char err[128];

	buf_init(&json);
	if (pb_to_json(r->resp, pb->data, pb->len, &json, err, sizeof(err)) == 0) {
		hreq_add_header(req, "Content-Type", "application/json");
		hreq_add_header(req, "Grpc-Metadata-Content-Type", "application/grpc");
		hreq_reply(req, 200, json.data, json.len);
	} else {
		http_send_text(req, 500, "internal error\n");
	}
	buf_close(&json);
}

int v3maint_handle(struct apid *a, struct hreq *req, const char *grpc_method,
	const struct etcd_gw_route *r)
{
	struct buf pb;

	buf_init(&pb);
	if (strcmp(grpc_method, "/etcdserverpb.Cluster/MemberList") == 0) {
		/* etcd's member list header has no revision */
		v3gw_header(a, &pb, 0);
		if (members_v3_list(a, &pb, 2) != 0) {
			buf_close(&pb);
			return -1;
		}
	} else if (strcmp(grpc_method, "/etcdserverpb.Maintenance/Status") == 0) {
		struct shm_raft rs;
		struct shm_store ss;
		struct mvcc_state st;
		char err[128];
		int64_t in_use = 0, size = db_size_used(a, &in_use);

		if (!apid_db_ready(a) || mvcc_revisions(a->mvcc, &st, err, sizeof(err)) != 0) {
			buf_close(&pb);
			return -1;
		}
		shm_raft_read(a->w->shm, &rs);
		shm_store_read(a->w->shm, &ss);
		v3gw_header(a, &pb, st.current);
		pb_put_str(&pb, 2, CETCD_COMPAT_SERVER_VERSION);
		pb_put_i64(&pb, 3, size);
		pb_put_u64(&pb, 4, rs.leader_id);
		pb_put_u64(&pb, 5, rs.commit_index);
		pb_put_u64(&pb, 6, rs.term);
		pb_put_u64(&pb, 7, ss.applied_index);
		put_alarm_errors(a, &pb);
		pb_put_i64(&pb, 9, in_use);
		pb_put_bool(&pb, 10, rs.is_learner != 0);
	} else if (strcmp(grpc_method, "/etcdserverpb.Maintenance/Hash") == 0) {
		/* etcd's gateway maps /v3/maintenance/hash to Hash (the whole
		 * database); cetcd hashes its MVCC records, so members agree
		 * with each other, not with etcd's bbolt bytes. */
		struct mvcc_state st;
		uint32_t h = 0;
		char err[128];

		if (!apid_db_ready(a) || mvcc_revisions(a->mvcc, &st, err, sizeof(err)) != 0 ||
			mvcc_hash(a->mvcc, &h, err, sizeof(err)) != 0) {
			buf_close(&pb);
			return -1;
		}
		v3gw_header(a, &pb, st.current);
		pb_put_u64(&pb, 2, h);
	} else if (strcmp(grpc_method, "/etcdserverpb.Maintenance/Defragment") == 0) {
		buf_close(&pb);
		return defragment(a, req, r);
	} else {
		buf_close(&pb);
		return 0;
	}
	reply(req, r, &pb);
	buf_close(&pb);
	return 1;
}
