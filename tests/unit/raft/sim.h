/* sim.h - a deterministic simulated cluster for the raft core: a virtual
 * clock, a seeded PRNG, a network that drops, delays, duplicates and
 * reorders messages and can be partitioned, nodes that crash and restart
 * from what they persisted, and checks of Raft's safety properties (§5.4,
 * Figure 3) after every step. Test code only. */
#ifndef CETCD_TESTS_RAFT_SIM_H
#define CETCD_TESTS_RAFT_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "raft/raft.h"

#define SIM_MAX_NODES 7

struct sim_node {
	uint64_t id;
	struct raft *r;            /* NULL while crashed */
	int group;                 /* partition group; messages cross no groups */
	/* what survives a crash */
	struct raft_hard_state hs;
	uint64_t snap_index, snap_term;
	struct raft_entry *log;    /* persisted entries snap_index+1 .. */
	size_t nlog, caplog;
	/* volatile */
	uint64_t applied;
	uint64_t lead_term;        /* term of the leader-log record below */
	uint64_t *lead_terms;      /* entry terms seen while leader (append-only check) */
	size_t nlead_terms;
	uint64_t lead_first;
};

struct sim_msg {
	uint64_t at;               /* deliverable at this virtual tick */
	struct raft_msg m;         /* entries deep-copied, owned here */
	uint64_t snap_index, snap_term; /* for SNAPSHOT: what the sender holds */
	int lost;                  /* dropped SNAPSHOT: report failure when due */
};

struct sim_commit {
	int set;
	uint64_t term, value, seen_term;
};

#define SIM_MAX_READS 64

struct sim_read {
	uint64_t ctx, node;
	uint64_t min_index; /* highest commit index anywhere when asked */
};

struct sim {
	size_t n;
	struct sim_node nodes[SIM_MAX_NODES];
	uint64_t now;
	uint64_t rng;
	uint64_t seed;
	int pre_vote, check_quorum, compact;
	int election_tick, heartbeat_tick;
	/* faults, percent */
	int drop_pct, dup_pct, max_delay, crash_mid_ready_pct;
	struct sim_msg *net;
	size_t nnet, capnet;
	uint64_t *term_leader;     /* election safety: leader seen per term */
	size_t nterm_leader;
	struct sim_commit *commits; /* index -> committed entry seen by anyone */
	size_t ncommits;
	uint64_t next_value;
	struct sim_read readreq[SIM_MAX_READS]; /* reads awaiting an answer */
	size_t nreadreq;
	uint64_t next_ctx, reads_done;
	uint64_t proposals, applies, elections;
	int trace;
	int failed;
	char err[512];
};

int sim_init(struct sim *s, size_t n, uint64_t seed);
void sim_close(struct sim *s);
/* sim_chaos_step does one random action then processes every ready and
 * checks the invariants. Returns 0 or -1 (s->err says what broke). */
int sim_chaos_step(struct sim *s);
/* sim_heal ends partitions and faults and restarts crashed nodes. */
int sim_heal(struct sim *s);
/* sim_converge runs a healed cluster until a leader commits a fresh
 * proposal that every node applies, within max_ticks. */
int sim_converge(struct sim *s, uint64_t max_ticks);
/* sim_tick_round: tick all live nodes once and deliver everything due. */
int sim_tick_round(struct sim *s);
int sim_check(struct sim *s);

#endif
