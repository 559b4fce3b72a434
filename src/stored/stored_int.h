/* stored_int.h - state shared by the storage worker's files. */
#ifndef CETCD_STORED_STORED_INT_H
#define CETCD_STORED_STORED_INT_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include <db.h>

#include "cluster/cluster.h"
#include "ipc/shm.h"
#include "util/buf.h"

struct event;
struct evconnlistener;
struct ipc_conn;
struct v2store;
struct mvcc;
struct lease;
struct worker;

#define STORED_TICK_MS 500
#define STORED_CHECKPOINT_MS 1000
/* Most result and event bytes queued to one api worker. */
#define STORED_API_BACKLOG (64u << 20)

/* Output of one batch, held until its transaction commits. */
struct stored_out {
	struct buf results; /* [u32 slot][u32 gen][u64 req_id][u32 len][result payload]... */
	struct buf events;  /* [u32 len][event payload]... */
	struct buf events_v3; /* [u32 len][IPC_EVENT_V3 payload]... */
};

/* The leader's auto-compaction state (v3.c). */
#define AUTO_COMPACT_SAMPLES 12
struct auto_compact {
	struct { uint64_t ms; int64_t rev; } samples[AUTO_COMPACT_SAMPLES];
	size_t n;
	uint64_t last_ms;
};

struct stored {
	struct worker *w;
	struct cluster cluster;
	DB_ENV *env;
	struct v2store *v2;
	struct mvcc *mvcc;
	struct lease *lease;
	uint64_t deadlines_gen; /* of the table last copied to shm_leases */
	struct auto_compact auto_compact;
	struct ipc_conn *raft;
	struct event *reconnect_ev;
	struct event *tick_ev;
	struct evconnlistener *listener;
	struct ipc_conn *api[SHM_MAX_SLOTS];
	uint32_t api_gen[SHM_MAX_SLOTS];
	DB_TXN *txn; /* open while a batch is being applied */
	struct timespec batch_t0; /* when that transaction began */
	uint32_t batch_entries;
	struct stored_out out;
	uint64_t applied;
	uint64_t applied_term;
	uint64_t durable;
	uint64_t committed;    /* applied index of the last committed batch (atomic) */
	uint64_t ckpt_durable; /* set by the checkpoint thread (atomic) */
	int ckpt_stop;
	int ckpt_running;
	int ckpt_fd;
	struct event *ckpt_ev;
	pthread_t ckpt_thread;
	uint64_t db_gen;
	uint64_t sync_pending_until_ms; /* a SYNC proposal is in flight */
	uint64_t publish_retry_ms; /* re-propose our attributes if not applied by then */
};

struct v2_req;

/* v3.c: etcd's v3 requests on the MVCC and lease stores */
int stored_v3_open(struct stored *s, char *err, size_t errlen);
void stored_v3_close(struct stored *s);
struct proto_envelope;
void stored_apply_v3(struct stored *s, const struct proto_envelope *env, uint64_t index);
struct shm_raft;
void stored_v3_duties(struct stored *s, const struct shm_raft *r, uint64_t now_ms);
void stored_v3_after_batch(struct stored *s);
struct proto_envelope;

/* main.c: the database handles */
void stored_set_db_state(struct stored *s, uint32_t state);
void stored_db_dir(const struct stored *s, char *out, size_t n);
/* stored_db_open opens <data-dir>/member/db (with recovery) and loads the
 * applied index and term; stored_db_close checkpoints and closes it. */
int stored_db_open(struct stored *s, char *err, size_t errlen);
void stored_db_close(struct stored *s);

/* apply.c */
/* stored_internal_put fills req with a PUT of cluster data under "/0"
 * (etcd's membership and version keys); strings are borrowed. */
void stored_internal_put(struct v2_req *req, const char *path, const char *value, int64_t time_ns);
void stored_apply_entry(struct stored *s, const uint8_t *p, size_t n);
void stored_apply_batch_end(struct stored *s);
int stored_meta_load(struct stored *s, char *err, size_t errlen);
/* stored_queue_result queues the outcome of entry index for the api worker
 * that waits for it (if the envelope names one on this member); sent after
 * the batch commits. */
void stored_queue_result(struct stored *s, const struct proto_envelope *env, uint32_t http_status,
	uint32_t error_code, uint64_t etcd_index, const void *body, size_t len, uint64_t index);
/* stored_send_progress tells the raft worker the applied and durable index. */
void stored_send_progress(struct stored *s);

/* conf.c: a committed configuration change (the entry's data) */
void stored_apply_conf(struct stored *s, const void *data, size_t len, uint64_t index);

/* snap.c: database snapshots for the raft worker */
void stored_snap_save(struct stored *s);
void stored_restore(struct stored *s, const uint8_t *p, size_t n);
/* stored_client_snap (snap.c, IPC_DBSNAP from api worker c): write a
 * client snapshot file at the applied index, answer IPC_RESULT with its
 * path (the api worker streams and deletes it). */
struct ipc_hdr;
void stored_client_snap(struct stored *s, struct ipc_conn *c, const struct ipc_hdr *h);

/* alarm.c: etcd's alarms and the NOSPACE capped apply (v3 entries) */
int stored_alarm_open(struct stored *s, char *err, size_t errlen);
void stored_alarm_close(struct stored *s);
/* stored_alarm_hook applies an AlarmRequest, or refuses what etcd refuses
 * under a NOSPACE alarm; 1 = handled (result queued), 0 = apply as usual. */
int stored_alarm_hook(struct stored *s, const struct proto_envelope *env, uint64_t index);

/* defrag.c: Maintenance/Defragment in a helper thread */
void stored_defrag_request(struct stored *s, uint32_t slot, uint32_t gen, uint64_t req_id);
/* stored_defrag_stop stops and joins a running defragment (before the
 * environment closes); its waiters get a failure. */
void stored_defrag_stop(struct stored *s);

/* conns.c */
int stored_conns_start(struct stored *s);
void stored_conns_close(struct stored *s);
void stored_send_to_raft(struct stored *s, uint8_t type, const void *p, size_t n);
void stored_flush_out(struct stored *s);
/* stored_hello_api sends every api worker a fresh IPC_HELLO (with the
 * database generation they must reattach at). */
void stored_hello_api(struct stored *s);

/* ckpt.c: the checkpoint thread */
int stored_ckpt_start(struct stored *s);
void stored_ckpt_stop(struct stored *s);

/* duties.c: work the leader's storage worker proposes through raft */
/* stored_propose proposes an entry no client waits for (origin none). */
void stored_propose(struct stored *s, uint8_t kind, const void *body, size_t len);
void stored_duties_tick(struct stored *s);
void stored_duties_after_batch(struct stored *s);

#endif
