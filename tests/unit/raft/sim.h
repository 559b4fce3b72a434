/* sim.h - a deterministic simulated cluster for the raft core: a virtual
 * clock, a seeded PRNG, a network that drops, delays, duplicates and
 * reorders messages and can be partitioned, nodes that crash and restart
 * from what they persisted, slow disks (a ready takes virtual ticks to
 * persist while the rest of the cluster goes on), membership changes,
 * leader transfers, ReadIndex and snapshots, and checks of Raft's safety
 * properties (§5.4, Figure 3) after every step. Test code only. */
#ifndef CETCD_TESTS_RAFT_SIM_H
#define CETCD_TESTS_RAFT_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "raft/raft.h"

/* Node slots: the initial 3 or 5 voters plus spares that can join. */
#define SIM_MAX_NODES 7

struct sim_node {
	uint64_t id;
	struct raft *r;            /* NULL while down */
	int group;                 /* partition group; messages cross no groups */
	int started;               /* ever started (initial member or joiner) */
	int removed;               /* its removal committed: stopped for good */
	/* what survives a crash */
	struct raft_hard_state hs;
	uint64_t snap_index, snap_term; /* membership: sim_membership_at() */
	uint64_t sm_applied;       /* the state machine's applied index */
	struct raft_entry *log;    /* persisted entries snap_index+1 .. */
	size_t nlog, caplog;
	/* slow disk: a ready in the middle of being persisted */
	int slow;                  /* max virtual ticks one ready takes; 0 = fast */
	int busy;
	uint64_t done_at;
	struct raft_ready rd;
	/* driver calls deferred while busy: 0 none, 1 failed, 2 ok */
	uint8_t snap_report[SIM_MAX_NODES + 1];
	/* volatile */
	uint64_t applied, last_commit;
	uint64_t lm_checked;       /* log matching verified up to here */
	uint64_t lc_term, lc_checked; /* leader completeness verified (term, index) */
	uint64_t lead_term;        /* term of the leader-log record below */
	uint64_t *lead_terms;      /* entry terms seen while leader (append-only check) */
	size_t nlead_terms, caplead;
	uint64_t lead_first;
};

struct sim_msg {
	uint64_t at;               /* deliverable at this virtual tick */
	struct raft_msg m;         /* entries deep-copied, owned here */
	uint64_t snap_index, snap_term; /* for SNAPSHOT: what the sender holds */
	int lost;                  /* dropped SNAPSHOT: report failure when due */
};

struct sim_lm;

struct sim_commit {
	int set;
	uint64_t term, value, seen_term;
};

/* A committed membership change, in index order. */
struct sim_cc {
	uint64_t index;
	struct raft_conf_change cc;
};

#define SIM_MAX_READS 64

struct sim_read {
	uint64_t ctx, node;
	uint64_t min_index; /* highest index known committed when asked */
};

struct sim {
	size_t n;                  /* initial voters: ids 1..n */
	size_t nslots;             /* ids 1..nslots (the rest can join) */
	struct sim_node nodes[SIM_MAX_NODES];
	uint64_t now;
	uint64_t rng;
	uint64_t seed;
	int pre_vote, check_quorum, compact, confs, learner_bias;
	int election_tick, heartbeat_tick;
	size_t max_inflight, max_msg_bytes;
	/* faults, percent */
	int drop_pct, dup_pct, max_delay, crash_mid_ready_pct;
	int calm, steps_left, storm_drop, part_left; /* weather: storms and calm spells */
	struct sim_msg *net;
	size_t nnet, capnet;
	uint64_t *term_leader;     /* election safety: leader seen per term */
	size_t nterm_leader;
	struct sim_commit *commits; /* index -> committed entry seen by anyone */
	size_t ncommits;
	uint64_t max_applied;
	struct sim_cc *ccs;
	struct sim_lm *lm;         /* (index, term) -> content, previous term */
	size_t nlm, caplm;
	size_t nccs, capccs;
	uint64_t next_value;
	struct sim_read readreq[SIM_MAX_READS]; /* reads awaiting an answer */
	size_t nreadreq;
	uint64_t next_ctx, reads_done;
	uint64_t proposals, applies, elections, snapshots, conf_applied, transfers;
	uint64_t slow_readies, crashes, converge_ticks;
	uint64_t nchecks;
	int full_check;
	int trace;
	int failed;
	char err[512];
};

int sim_init(struct sim *s, size_t n, uint64_t seed);
void sim_close(struct sim *s);
/* sim_chaos_step does one random action then processes every ready and
 * checks the invariants. Returns 0 or -1 (s->err says what broke). */
int sim_chaos_step(struct sim *s);
/* sim_heal ends partitions and faults, finishes slow writes and restarts
 * crashed nodes (not removed ones). */
int sim_heal(struct sim *s);
/* sim_converge runs a healed cluster until a leader commits a fresh
 * proposal that every member applies, within max_ticks; the ticks it took
 * are in s->converge_ticks. */
int sim_converge(struct sim *s, uint64_t max_ticks);
/* sim_tick_round: tick all live nodes once and deliver everything due. */
int sim_tick_round(struct sim *s);
int sim_check(struct sim *s);
/* sim_membership_at: voters and learners (bit id-1) as of log index. */
void sim_membership_at(const struct sim *s, uint64_t index, uint64_t *voters,
	uint64_t *learners);

#endif
