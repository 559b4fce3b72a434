/* v3maint.c - the v3 cluster and maintenance calls an api worker answers
 * itself: Cluster/MemberList (from the replicated /0/members, as
 * /v2/members), Maintenance/Status (this member's raft and database state
 * from shared memory and the database files) and Maintenance/Hash. */
#include "config.h"
#include "apid/apid_int.h"
#include "config/cfg.h"
#include "http/httpd.h"
#include "ipc/worker.h"
#include "pb/etcd_schema.h"
#include "pb/pb.h"
#include "pb/pb_json.h"
#include "raft/raft.h"
#include "store/mvcc.h"
#include "util/buf.h"
#include "util/err.h"
#include "v3/v3.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* db_size: the bytes of the database files (etcd's dbSize is its bbolt
 * file's size). */
static int64_t db_size(struct apid *a)
{
	char dir[PATH_MAX], path[PATH_MAX + 256];
	struct dirent *de;
	struct stat st;
	int64_t n = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/member/db", a->w->cfg->data_dir);
	if ((d = opendir(dir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		if (l < 4 || strcmp(de->d_name + l - 3, ".db") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (stat(path, &st) == 0)
			n += (int64_t)st.st_size;
	}
	closedir(d);
	return n;
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
		int64_t size = db_size(a);

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
		pb_put_i64(&pb, 9, size);
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
	} else {
		buf_close(&pb);
		return 0;
	}
	reply(req, r, &pb);
	buf_close(&pb);
	return 1;
}
