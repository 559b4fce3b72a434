/* raftd_int.h - state shared by the raft worker's files (not a public API). */
#ifndef CETCD_RAFTD_RAFTD_INT_H
#define CETCD_RAFTD_RAFTD_INT_H

#include <stdint.h>

#include "cluster/cluster.h"
#include "ipc/shm.h"

struct event;
struct evconnlistener;
struct ipc_conn;
struct raft;
struct wal;
struct worker;

/* Most committed-but-unapplied bytes queued to the storage worker. */
#define RAFTD_STORE_BACKLOG (32u << 20)
/* Log entries kept in memory behind the storage worker's durable index. */
#define RAFTD_KEEP_ENTRIES 1000u
#define RAFTD_MAX_READS 4096u

struct raftd_read {
	uint64_t ctx;
	uint32_t slot;
	uint32_t gen;
	uint64_t req_id;
};

struct raftd {
	struct worker *w;
	struct cluster cluster;
	struct wal *wal;
	struct raft *raft;
	struct event *tick_ev;
	struct event *ready_ev;
	struct evconnlistener *listener;
	struct ipc_conn *store;              /* the storage worker, after its HELLO */
	uint64_t store_sent;                 /* highest index queued to the store */
	struct ipc_conn *api[SHM_MAX_SLOTS]; /* by slot, after HELLO */
	uint32_t api_gen[SHM_MAX_SLOTS];
	struct raftd_read reads[RAFTD_MAX_READS];
	uint32_t nreads;
	uint64_t next_ctx;
	uint64_t compacted; /* log compacted through this index */
	uint64_t last_leader;
	int stopping;
};

/* node.c: WAL + core */
int raftd_node_open(struct raftd *d, char *err, size_t errlen);
void raftd_node_close(struct raftd *d);
void raftd_schedule_ready(struct raftd *d);
void raftd_pump_store(struct raftd *d);
void raftd_store_progress(struct raftd *d, uint64_t applied, uint64_t durable);

/* conns.c: IPC with api and storage workers */
int raftd_conns_listen(struct raftd *d);
void raftd_conns_close(struct raftd *d);
void raftd_answer_reads(struct raftd *d, const void *reads, size_t n);
void raftd_fail_reads(struct raftd *d);

#endif
