/* shm.h - the shared-memory segment the supervisor creates before forking.
 *
 * Layout (offsets, never pointers; versioned):
 *   struct shm_header   magic, layout version, total size, offsets
 *   struct shm_raft     raft worker's status, under its own seqlock
 *   struct shm_store    storage worker's status, under its own seqlock
 *   struct shm_slot[n]  one per worker: pid, role, state, heartbeat, counters
 *
 * Who writes what: the supervisor writes slot pid/role/gen/restarts; a
 * worker writes its own slot's state, heartbeat and counters; only the raft
 * worker writes shm_raft and only the storage worker writes shm_store. Every
 * region has exactly one writer, so a seqlock per region is enough.
 */
#ifndef CETCD_IPC_SHM_H
#define CETCD_IPC_SHM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SHM_MAGIC 0x43455443u /* "CETC" */
#define SHM_LAYOUT_VERSION 5u
#define SHM_MAX_SLOTS 72u

enum worker_role { ROLE_NONE = 0, ROLE_RAFT, ROLE_STORE, ROLE_API, ROLE_PROXY };

enum worker_state { WSTATE_EMPTY = 0, WSTATE_STARTING, WSTATE_READY, WSTATE_STOPPING, WSTATE_DEAD };

/* Per-worker counters exported by /metrics. */
enum worker_counter {
	WC_HTTP_REQUESTS = 0,
	WC_V2_GETS_SUCCESS,
	WC_V2_GETS_FAIL,
	WC_PROPOSALS_PENDING,
	WC_PROPOSALS_FAILED,
	WC_WATCHERS,        /* v2 watchers */
	WC_V3_WATCHERS,     /* v3 watchers */
	WC_V3_SLOW_WATCHERS, /* v3 watchers catching up from the database */
	WC_COUNTERS_MAX = 16
};

struct shm_header {
	uint32_t magic;
	uint32_t version;
	uint64_t size;
	uint32_t raft_off;
	uint32_t store_off;
	uint32_t slots_off;
	uint32_t nslots;
	uint64_t start_time_ns; /* wall clock at supervisor start */
	/* This member's lease id generator (store/lease.h struct
	 * lease_idgen), shared by the api workers; set by the supervisor. */
	uint64_t lease_idgen[2];
	uint32_t leases_off;   /* struct shm_leases, after the slots */
	uint32_t pad;
};
_Static_assert(sizeof(struct shm_header) == 64, "shm_header layout");

/* The leader's lease deadlines (written by the storage worker while it is
 * the primary lessor, sorted by id; n = 0 elsewhere), so api workers can
 * answer LeaseTimeToLive with the time left. Seqlocked, one writer. */
#define SHM_MAX_LEASE_DEADLINES 4096
struct shm_lease_deadline {
	int64_t id;
	int64_t deadline_ms; /* shm_now_ms clock */
};
struct shm_leases {
	uint32_t seq;
	uint32_t n;
	uint64_t gen;
	struct shm_lease_deadline v[SHM_MAX_LEASE_DEADLINES];
};
_Static_assert(sizeof(struct shm_leases) == 16 + 16 * SHM_MAX_LEASE_DEADLINES, "shm_leases layout");

/* What the leader knows of one follower (/v2/stats/leader). */
#define SHM_MAX_PEER_STATS 16
struct shm_peer_stat {
	uint64_t id;
	uint64_t successes, fails;
	uint64_t lat_cur_ns, lat_avg_ns, lat_min_ns, lat_max_ns, lat_stddev_ns;
	uint64_t sent_bytes, recv_bytes; /* peer traffic, for /metrics */
};
_Static_assert(sizeof(struct shm_peer_stat) == 80, "shm_peer_stat layout");

struct shm_raft {
	uint32_t seq; /* seqlock: odd while being written */
	uint32_t role; /* 0 follower, 1 candidate, 2 leader, 3 pre-candidate */
	uint64_t member_id;
	uint64_t cluster_id;
	uint64_t leader_id;
	uint64_t term;
	uint64_t commit_index;
	uint64_t last_index;
	uint64_t leader_changes;
	uint64_t proposals_committed;
	uint64_t wal_fsyncs;
	uint64_t wal_fsync_ns;
	uint64_t start_time_ns; /* when the current leader term began here */
	uint64_t recv_appends;  /* append requests received (follower) */
	uint64_t sent_appends;  /* append requests sent (leader) */
	uint64_t proposals_pending; /* held for a leader or in flight */
	uint64_t wal_fsync_buckets[14]; /* cumulative: <= 1ms, 2ms, ... 8.192s */
	uint32_t npeers;
	uint32_t is_learner;
	struct shm_peer_stat peers[SHM_MAX_PEER_STATS];
};
_Static_assert(sizeof(struct shm_raft) == 128 + 14 * 8 + 80 * SHM_MAX_PEER_STATS, "shm_raft layout");

struct shm_store {
	uint32_t seq;
	uint32_t db_state; /* enum shm_db_state */
	uint64_t db_gen;   /* bumped each time the writer (re)opened the env */
	uint64_t applied_index;
	uint64_t applied_term;
	uint64_t durable_index; /* applied index covered by the last DB checkpoint */
	uint64_t v2_index;      /* X-Etcd-Index */
	uint64_t proposals_applied;
	uint64_t db_size;
	uint64_t published; /* this member's attributes were proposed since start */
	uint64_t serving;   /* ...and applied: clients may be served (etcd's ReadyNotify) */
};
_Static_assert(sizeof(struct shm_store) == 80, "shm_store layout");

enum shm_db_state { DB_STATE_DOWN = 0, DB_STATE_RECOVERING, DB_STATE_READY };

struct shm_slot {
	int32_t pid;
	uint32_t role;
	uint32_t state;
	uint32_t gen; /* incarnation, bumped by the supervisor at each fork */
	uint64_t heartbeat_ms; /* CLOCK_MONOTONIC ms, written by the worker */
	uint64_t restarts;
	uint64_t db_gen_attached; /* api worker: env generation it has open, 0 = none */
	uint64_t counters[WC_COUNTERS_MAX];
};
_Static_assert(sizeof(struct shm_slot) == 40 + 8 * WC_COUNTERS_MAX, "shm_slot layout");

struct shm {
	struct shm_header *hdr;
	struct shm_raft *raft;
	struct shm_store *store;
	struct shm_slot *slots;
	struct shm_leases *leases;
	size_t size;
	int fd;
};

/* shm_size returns the segment size for nslots worker slots. */
size_t shm_size(uint32_t nslots);

/* shm_create makes an anonymous shared mapping and initialises the
 * header. The mapping is inherited by forked children. */
int shm_create(struct shm *s, uint32_t nslots, char *err, size_t errlen);

/* shm_attach checks the header of a mapping (magic, version, size). */
int shm_attach(struct shm *s, void *base, size_t size, char *err, size_t errlen);

void shm_destroy(struct shm *s);

/* Seqlock helpers for one-writer regions. A (re)started writer calls
 * shm_writer_reset first, in case its predecessor died mid-update. */
void shm_writer_reset(uint32_t *seq);
void shm_write_begin(uint32_t *seq);
void shm_write_end(uint32_t *seq);
uint32_t shm_read_begin(const uint32_t *seq);
int shm_read_retry(const uint32_t *seq, uint32_t start);

/* Consistent copies of the status regions (readers anywhere). */
void shm_raft_read(const struct shm *s, struct shm_raft *out);
void shm_store_read(const struct shm *s, struct shm_store *out);

uint64_t shm_now_ms(void); /* CLOCK_MONOTONIC in ms */

#endif
