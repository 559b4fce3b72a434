/* apid_int.h - state shared by the api worker's files. */
#ifndef CETCD_APID_APID_INT_H
#define CETCD_APID_APID_INT_H

#include <stddef.h>
#include <stdint.h>

#include <db.h>

#include "cluster/cluster.h"
#include "ipc/shm.h"

struct httpd;
struct hreq;
struct event;
struct ipc_conn;
struct v2store;
struct mvcc;
struct lease;
struct etcd_gw_route;
struct worker;
struct proto_result;
struct proto_event;

/* etcd's default request timeout for a proposal (5 s + election slack). */
#define APID_REQUEST_TIMEOUT_MS 7000
#define APID_PENDING_BUCKETS 4096
#define APID_MAX_LISTENERS 16
/* Attempts of a read that lost a deadlock against the writer. */
#define APID_READ_RETRIES 10
#define APID_MAX_SIZE_DBS 16

enum pending_kind { PENDING_V2_WRITE = 1, PENDING_V2_QUORUM_GET, PENDING_V2_WAIT_READY, PENDING_MEMBERS, PENDING_V3,
	PENDING_DISCOVERY };

/* A request waiting for the cluster: a proposal's result, or a read index. */
struct pending {
	struct pending *next;
	uint64_t req_id;
	uint64_t deadline_ms;
	int kind;
	struct hreq *req;
	/* quorum GET: what to read once applied >= read index */
	char *path;
	size_t path_len;
	int recursive, sorted;
	uint64_t read_index;
	int no_value_on_success;
	/* v3: the gateway route and the request in protobuf */
	const struct etcd_gw_route *route;
	int v3_method;
	void *stream; /* v3 client stream the result belongs to (keepalive) */
};

struct watcher {
	struct watcher *next, *prev;
	struct hreq *req;
	char *key;      /* user key, cleaned, e.g. "/foo" */
	size_t key_len;
	int recursive;
	int stream;
	uint64_t since; /* next event index this watcher wants */
	int started;    /* reply headers sent */
};

struct apid {
	struct worker *w;
	struct cluster cluster;
	struct httpd *http;
	DB_ENV *env;
	struct v2store *v2;
	struct mvcc *mvcc;
	struct lease *lease;
	uint64_t db_gen;
	struct ipc_conn *raft;
	struct ipc_conn *store;
	struct event *reconnect_ev;
	struct event *sweep_ev;
	struct pending *pending[APID_PENDING_BUCKETS];
	size_t npending;
	struct pending *reads_waiting; /* quorum reads waiting for apply */
	struct watcher *watchers;
	size_t nwatchers;
	/* read handles v3maint.c keeps to measure the database files */
	DB *size_dbs[APID_MAX_SIZE_DBS];
	char size_names[APID_MAX_SIZE_DBS][64];
	size_t nsize_dbs;
	uint64_t next_req_id;
	int stopping;
};

/* main.c */
int apid_db_ready(struct apid *a);

/* ipc.c */
int apid_ipc_start(struct apid *a);
void apid_ipc_close(struct apid *a);
int apid_propose(struct apid *a, uint8_t kind, const void *body, size_t len, uint64_t *req_id);
/* apid_propose_frame: an IPC message of type to the raft worker holding
 * prefix (e.g. a raft conf change), the envelope, then body. */
int apid_propose_frame(struct apid *a, uint8_t type, const void *prefix, size_t prefix_len,
	uint8_t kind, const void *body, size_t len, uint64_t *req_id);
int apid_read_index(struct apid *a, uint64_t *req_id);

/* pending.c */
struct pending *pending_add(struct apid *a, uint64_t req_id, int kind, struct hreq *req);
struct pending *pending_take(struct apid *a, uint64_t req_id);
void pending_free(struct pending *p);
void pending_sweep(struct apid *a, uint64_t now_ms);
void pending_fail_all(struct apid *a);

/* http.c */
int apid_http_start(struct apid *a);
void apid_http_close(struct apid *a);
void http_send(struct hreq *req, int status, const char *ctype, const void *body, size_t len);
void http_send_text(struct hreq *req, int status, const char *text);
/* etcd's v2 error JSON: {"errorCode":..,"message":..,"cause":..,"index":..}\n */
void http_v2_error(struct apid *a, struct hreq *req, int code, const char *cause,
	uint64_t index);

/* v2keys.c */
void v2keys_handle(struct apid *a, struct hreq *req, const char *path);
void v2keys_on_result(struct apid *a, struct pending *p, const struct proto_result *r);
/* apid_on_read_index: a linearizable read (v2 quorum GET or v3) got its
 * read index (0 = failed): wait until it is applied, then serve it. */
void apid_on_read_index(struct apid *a, struct pending *p, uint64_t index);
void v2keys_applied_advanced(struct apid *a);

/* v2watch.c */
void v2watch_start(struct apid *a, struct hreq *req, const char *key, size_t key_len,
	int recursive, int stream, uint64_t since);
void v2watch_on_event(struct apid *a, const struct proto_event *ev);
void v2watch_close_all(struct apid *a);

/* http.c */
char *url_unescape_path(const char *s, size_t n, char *err, size_t errlen);

/* misc.c */
void misc_handle(struct apid *a, struct hreq *req, const char *path);
struct json_t;
/* apid_send_json sends o (consumed), with a newline after it if asked. */
void apid_send_json(struct hreq *req, int status, const char *ctype, struct json_t *o, int newline);

/* v3gw.c: etcd's v3 JSON gateway (/v3/...) */
int v3gw_handle(struct apid *a, struct hreq *req, const char *path);
void v3gw_on_result(struct apid *a, struct pending *p, const struct proto_result *r);
void v3gw_on_error(struct apid *a, struct pending *p, const char *msg);
/* v3gw_header writes a ResponseHeader (field 1) of this member at rev. */
struct buf;
void v3gw_header(struct apid *a, struct buf *b, int64_t rev);
/* v3gw_applied_advanced serves v3 reads waiting for the applied index. */
int v3gw_serve_read(struct apid *a, struct pending *p);

/* v3watch.c: the v3 watch stream; body holds the client's WatchRequests */
void v3watch_start(struct apid *a, struct hreq *req, const char *body, size_t blen);
void v3watch_on_event(struct apid *a, const uint8_t *p, size_t n);
void v3watch_close_all(struct apid *a);

/* v3keepalive.c: LeaseKeepAlive, a stream of requests answered in order
 * (results come back as pending v3_method V3_GW_KEEPALIVE) */
#define V3_GW_KEEPALIVE 102
void v3keepalive_start(struct apid *a, struct hreq *req, const char *body, size_t blen);
void v3keepalive_done(struct apid *a, struct pending *p, const struct proto_result *r,
	const char *errmsg);
/* v3gw_propose: propose a v3 request (method byte + protobuf) and park it
 * as pending v3_method method; NULL when it could not be proposed. */
struct pending *v3gw_propose(struct apid *a, struct hreq *req, const struct etcd_gw_route *r,
	int method, const uint8_t *pb, size_t len);

/* discovery.c: GET /v2/discovery/new?size=N (pending kind PENDING_DISCOVERY) */
void discovery_new(struct apid *a, struct hreq *req);
void discovery_on_result(struct apid *a, struct pending *p, const struct proto_result *r);

/* members.c: /v2/members and /v2/machines from the store's /0/members */
void members_handle(struct apid *a, struct hreq *req, const char *rest);
void members_machines(struct apid *a, struct hreq *req);
struct buf;
int members_v3_list(struct apid *a, struct buf *pb, uint32_t field);
/* members_client_url: the first client URL member id published; 0, or
 * CE_NOTFOUND / CE_AGAIN. */
int members_client_url(struct apid *a, uint64_t id, char *out, size_t outlen);
/* v3forward.c: on a follower, LeaseTimeToLive is asked of the leader; 1
 * when it went (answered later), 0 to answer here. */
int v3forward_lease_ttl(struct apid *a, struct hreq *req, const struct etcd_gw_route *r,
	const uint8_t *pb, size_t len);
/* v3 membership changes (pending kind PENDING_V3, v3_method V3_GW_MEMBER) */
#define V3_GW_MEMBER 100
void members_v3_handle(struct apid *a, struct hreq *req, const struct etcd_gw_route *r,
	const uint8_t *pb, size_t len);
void members_v3_done(struct apid *a, struct pending *p, int http_status, const char *body,
	size_t len);
void members_v3_error(struct apid *a, struct pending *p, int code, const char *msg);

/* v3conc.c: v3lock and v3election (pending kind PENDING_V3, v3_method
 * V3_GW_CONC routes a step's result back there) */
#define V3_GW_CONC 101
void v3conc_handle(struct apid *a, struct hreq *req, const struct etcd_gw_route *r,
	const uint8_t *pb, size_t len);
void v3conc_on_result(struct apid *a, struct pending *p, const struct proto_result *r);
void v3conc_on_error(struct apid *a, struct pending *p, const char *msg);
/* v3conc_on_event: a v3 event batch (IPC_EVENT_V3 payload), for waits. */
void v3conc_on_event(struct apid *a, const uint8_t *p, size_t n);
/* v3conc_resync: events may have been missed (storage connection lost):
 * re-check lock/campaign waits, end Observe streams. */
void v3conc_resync(struct apid *a);
/* v3conc_close_all frees every call (the worker stops). */
void v3conc_close_all(struct apid *a);
/* v3gw_send_error: an error of the gRPC call (chunked, with grpc-gateway's
 * Grpc-Trailer-Content-Type trailer); v3gw_send_decode_error: the gateway's
 * own refusal of a body it cannot decode (with a Content-Length). */
void v3gw_send_error(struct hreq *req, int status, int code, const char *msg);
void v3gw_send_decode_error(struct hreq *req, int status, int code, const char *msg);
void v3gw_send_pb(struct hreq *req, const struct etcd_gw_route *r, const void *pb, size_t len);
/* v3maint.c: Cluster/MemberList and Maintenance/Status */
struct v3_alarm;
/* apid_size_dbs_close closes the handles the size measurement keeps (before
 * the environment is closed). */
void apid_size_dbs_close(struct apid *a);
/* apid_alarms reads the cluster's alarms (at most max); how many. */
size_t apid_alarms(struct apid *a, struct v3_alarm *al, size_t max);
int v3maint_handle(struct apid *a, struct hreq *req, const char *grpc_method,
	const struct etcd_gw_route *r);
/* v3maint.c: the backend quota (etcd's quotaKVServer/quotaLeaseServer) and
 * Maintenance/Alarm|Defragment. v3maint_quota_refuse: 1 when a Put, Txn
 * with puts or LeaseGrant is over --quota-backend-bytes (it then proposes
 * the NOSPACE alarm, parked as v3_method V3_GW_NOSPACE, and answers
 * etcd's ErrGRPCNoSpace once that is done: v3maint_nospace_done). */
#define V3_GW_NOSPACE 111
int v3maint_quota_refuse(struct apid *a, struct hreq *req, const struct etcd_gw_route *r,
	int method, const uint8_t *pb, size_t len);
void v3maint_nospace_done(struct apid *a, struct pending *p);
/* v3snap.c: Maintenance/Snapshot (a stream of the storage worker's
 * snapshot file), HashKV (/v3/maintenance/hashkv) and MoveLeader (through
 * the raft worker). v3snap_handle: 1 if r is one of them (answered). */
#define V3_GW_SNAPSHOT 121
#define V3_GW_MOVE_LEADER 122
int v3snap_handle(struct apid *a, struct hreq *req, const struct etcd_gw_route *r,
	const uint8_t *pb, size_t len);
void v3snap_on_result(struct apid *a, struct pending *p, const struct proto_result *r);
void v3snap_on_error(struct apid *a, struct pending *p, const char *msg);
void members_on_result(struct apid *a, struct pending *p, const struct proto_result *r);
void members_on_error(struct apid *a, struct pending *p, int code, const char *msg);
/* v3authgw.c: etcd's v3 auth at the gateway. v3authgw_pre: root-only
 * maintenance and membership calls (1 = refused, answered);
 * v3authgw_dispatch: the /v3/auth/... calls and the permission checks of a
 * decoded request (1 = answered); it remembers the sender until
 * v3authgw_end, and v3authgw_wrap puts it around proposals made meanwhile;
 * v3authgw_watch_denied: NULL, or the cancel reason of a watch. */
int v3authgw_pre(struct apid *a, struct hreq *req, const struct etcd_gw_route *r);
int v3authgw_dispatch(struct apid *a, struct hreq *req, const struct etcd_gw_route *r, int method,
	const uint8_t *pb, size_t len);
void v3authgw_end(struct apid *a);
/* v3authgw_on_result: 1 when the result of a V3_AUTH proposal was handled
 * there (an Authenticate retried). */
int v3authgw_on_result(struct apid *a, struct pending *p, const struct proto_result *res);
/* v3authgw_resume: the sender of req again, for a proposal made later
 * (a linearizable Txn found to write after its read index). */
void v3authgw_resume(struct apid *a, struct hreq *req);
void v3authgw_wrap(struct apid *a, struct buf *body);
const char *v3authgw_watch_denied(struct apid *a, struct hreq *req, const uint8_t *k, size_t kl,
	const uint8_t *e, size_t el);


#endif
