/* stored_int.h - state shared by the storage worker's files. */
#ifndef CETCD_STORED_STORED_INT_H
#define CETCD_STORED_STORED_INT_H

#include <pthread.h>
#include <stdint.h>

#include <db.h>

#include "cluster/cluster.h"
#include "ipc/shm.h"
#include "util/buf.h"

struct event;
struct evconnlistener;
struct ipc_conn;
struct v2store;
struct worker;

#define STORED_TICK_MS 500
#define STORED_CHECKPOINT_MS 1000
/* Most result and event bytes queued to one api worker. */
#define STORED_API_BACKLOG (64u << 20)

/* Output of one batch, held until its transaction commits. */
struct stored_out {
	struct buf results; /* [u32 slot][u32 gen][u64 req_id][u32 len][result payload]... */
	struct buf events;  /* [u32 len][event payload]... */
};

struct stored {
	struct worker *w;
	struct cluster cluster;
	DB_ENV *env;
	struct v2store *v2;
	struct ipc_conn *raft;
	struct event *reconnect_ev;
	struct event *tick_ev;
	struct evconnlistener *listener;
	struct ipc_conn *api[SHM_MAX_SLOTS];
	uint32_t api_gen[SHM_MAX_SLOTS];
	DB_TXN *txn; /* open while a batch is being applied */
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
};

struct v2_req;

/* apply.c */
/* stored_internal_put fills req with a PUT of cluster data under "/0"
 * (etcd's membership and version keys); strings are borrowed. */
void stored_internal_put(struct v2_req *req, const char *path, const char *value, int64_t time_ns);
void stored_apply_entry(struct stored *s, const uint8_t *p, size_t n);
void stored_apply_batch_end(struct stored *s);
int stored_meta_load(struct stored *s, char *err, size_t errlen);

/* conns.c */
int stored_conns_start(struct stored *s);
void stored_conns_close(struct stored *s);
void stored_send_to_raft(struct stored *s, uint8_t type, const void *p, size_t n);
void stored_flush_out(struct stored *s);

/* ckpt.c: the checkpoint thread */
int stored_ckpt_start(struct stored *s);
void stored_ckpt_stop(struct stored *s);

/* duties.c: work the leader's storage worker proposes through raft */
void stored_duties_tick(struct stored *s);
void stored_duties_after_batch(struct stored *s);

#endif
