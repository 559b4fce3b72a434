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
struct raft_ready;
struct wal;
struct worker;

/* Most committed-but-unapplied bytes queued to the storage worker. */
#define RAFTD_STORE_BACKLOG (32u << 20)
/* Log entries kept in memory behind the storage worker's durable index. */
#define RAFTD_KEEP_ENTRIES 1000u
#define RAFTD_MAX_READS 4096u
#define RAFTD_MAX_UNREACHABLE 256u
#define RAFTD_MAX_PEER_LISTENERS 16
/* Proposals held while no leader is known, and for how long. */
#define RAFTD_MAX_HELD 8192u
#define RAFTD_HELD_MS 5000u

struct bufferevent;
struct evbuffer;
struct raft_msg;
struct raftd;
struct raftd_snap_tx;
struct raftd_snap_rx;

/* One other member: the outbound stream and what /v2/stats/leader shows. */
struct raftd_peer {
	struct raftd *d;
	uint64_t id;
	char url[256];
	struct bufferevent *bev;
	int connected;
	struct event *retry_ev;
	uint64_t backoff_ms;
	uint64_t last_heard_ms;
	uint64_t hb_sent_ns;
	uint64_t sent_appends;
	uint64_t successes, fails;
	uint64_t sent_bytes, recv_bytes;
	uint64_t lat_n, lat_cur_ns, lat_min_ns, lat_max_ns;
	double lat_sum, lat_sumsq; /* in ms */
	struct raftd_snap_tx *tx;  /* a snapshot being sent to it */
};

/* A proposal waiting for a leader. */
struct raftd_held {
	struct raftd_held *next;
	uint64_t from, req_id, expires_ms;
	uint32_t origin, gen;
	uint8_t type;
	size_t len;
	uint8_t data[];
};

/* A linearizable read waiting for its read index. It is (re)issued to the
 * core whenever there is a leader and the last attempt got no answer
 * within an election timeout (the core drops requests when leadership
 * changes), and failed once it is older than the proposal hold time. */
struct raftd_read {
	uint64_t ctx;       /* 0: not issued yet */
	uint32_t slot;
	uint32_t gen;
	uint64_t req_id;
	uint64_t expires_ms;
	uint64_t issued_ms;
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
	uint64_t compacted_term;
	uint64_t last_leader;
	int stopping;

	/* peers (peer.c) */
	struct raftd_peer *peers[CLUSTER_MAX_MEMBERS];
	size_t npeers;
	struct evconnlistener *peer_listeners[RAFTD_MAX_PEER_LISTENERS];
	uint64_t unreachable[RAFTD_MAX_UNREACHABLE];
	uint32_t nunreachable;
	uint64_t recv_appends;
	struct raftd_held *held, **held_tail;
	uint32_t nheld;
	int removed; /* this member's removal was applied: exit after the ready */

	/* snapshots (snap.c) */
	uint64_t snap_index;     /* newest snapshot file we hold (0: none) */
	uint64_t snap_term;
	char *snap_conf;         /* membership JSON at snap_index */
	char *snap_rx_conf;      /* membership of a received snapshot being installed */
	struct event *exit_ev;   /* removed from the cluster: exit shortly */
	int lone_started;
	int snap_saving;         /* IPC_SNAP_SAVE sent, waiting for SAVED */
	uint64_t restore_index;  /* IPC_RESTORE sent for this index */
	uint64_t restore_sent_ms;
	uint64_t last_snap_applied; /* applied index at the last --snapshot-count snapshot */
};

/* node.c: WAL + core */
int raftd_node_open(struct raftd *d, char *err, size_t errlen);
void raftd_node_close(struct raftd *d);
void raftd_schedule_ready(struct raftd *d);
void raftd_pump_store(struct raftd *d);
void raftd_store_progress(struct raftd *d, uint64_t applied, uint64_t durable);

/* peer.c: the peer transport */
int raftd_peers_start(struct raftd *d);
void raftd_peers_stop(struct raftd *d);
void raftd_peers_sync(struct raftd *d);
struct raftd_peer *raftd_peer_find(struct raftd *d, uint64_t id);
int raftd_peer_send(struct raftd *d, uint64_t id, uint8_t type, uint64_t req_id, uint32_t origin,
	uint32_t gen, const void *a, size_t alen, const void *b, size_t blen);
void raftd_peers_send_msgs(struct raftd *d, const struct raft_msg *msgs, size_t n);
/* raftd_dial starts a connection to a peer URL; NULL when it cannot even
 * start (bad URL, no address). The callbacks see BEV_EVENT_CONNECTED. */
struct bufferevent *raftd_dial(struct raftd *d, const char *url,
	void (*readcb)(struct bufferevent *, void *), void (*eventcb)(struct bufferevent *, short, void *),
	void *arg);
void raftd_write_frame(struct bufferevent *bev, uint8_t type, const void *a, size_t alen,
	const void *b, size_t blen);

/* stats.c: per-peer numbers for /v2/stats and /metrics */
uint64_t raftd_now_ns(void);
void raftd_peer_latency(struct raftd_peer *p, uint64_t ns);
void raftd_stats_publish(struct raftd *d);

/* propose.c: one path for proposals from local api workers and peers */
void raftd_submit(struct raftd *d, uint8_t type, const void *data, size_t len, uint64_t from,
	uint64_t req_id, uint32_t origin, uint32_t gen);
void raftd_flush_held(struct raftd *d);
uint64_t raftd_held_ms(const struct raftd *d);
void raftd_api_send(struct raftd *d, uint32_t slot, uint32_t gen, uint8_t type, uint64_t req_id,
	const void *p, size_t n);

/* snap.c: database snapshots to and from peers */
void raftd_snap_wanted(struct raftd *d, const struct raft_msg *m);
void raftd_snap_saved(struct raftd *d, const uint8_t *p, size_t n);
void raftd_snap_peer_gone(struct raftd_peer *p);
struct raftd_snap_rx *raftd_snap_rx_new(struct raftd *d, uint64_t from, struct bufferevent *bev);
/* feed: 0 more wanted, 1 done (the rx answers and frees itself), -1 failed (caller frees via abort) */
int raftd_snap_rx_feed(struct raftd_snap_rx *rx, struct evbuffer *in);
void raftd_snap_rx_abort(struct raftd_snap_rx *rx);
void raftd_snap_installed(struct raftd *d, const struct raft_ready *rd);
int raftd_snap_load(struct raftd *d, uint64_t index, char *err, size_t errlen);
void raftd_snap_maybe_save(struct raftd *d, uint64_t applied);
void raftd_snap_path(const struct raftd *d, uint64_t index, char *out, size_t len);
int raftd_snap_restore_store(struct raftd *d);

/* move.c: Maintenance/MoveLeader (IPC_MOVE_LEADER from an api worker);
 * raftd_move_tick answers the waiting ones (every tick). */
struct ipc_hdr;
void raftd_move_leader(struct raftd *d, const struct ipc_hdr *h, const uint8_t *p);
void raftd_move_tick(struct raftd *d);

/* conns.c: IPC with api and storage workers */
int raftd_conns_listen(struct raftd *d);
void raftd_conns_close(struct raftd *d);
void raftd_answer_reads(struct raftd *d, const void *reads, size_t n);
/* raftd_reads_tick (re)issues waiting reads and fails expired ones. */
void raftd_reads_tick(struct raftd *d);

#endif
