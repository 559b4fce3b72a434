/* raft.h - cetcd's Raft consensus core: a pure state machine.
 *
 * Messages and ticks go in; a "ready" batch comes out holding the hard state
 * and entries to persist, the messages to send and the committed entries to
 * apply. The core does no I/O, reads no clock, keeps no globals, never logs
 * and draws randomness only from a PRNG seeded through raft_config. The raft
 * worker drives it; src/raft/README states the order the driver must follow.
 *
 * Paper references (Ongaro & Ousterhout, "In Search of an Understandable
 * Consensus Algorithm", extended version): §5.2 leader election, §5.3 log
 * replication, §5.4 safety, §6 membership changes, §7 log compaction,
 * §8 client interaction (read-only queries). Pre-vote, check-quorum and leader
 * transfer follow Ongaro's thesis §9.6, §6.2 and §3.10.
 *
 * Ownership: the caller keeps everything it passes in; the core copies what
 * it keeps (entry data included). Everything the core hands out in a ready is
 * owned by the core and valid until the matching raft_advance().
 *
 * Threading: none. One struct raft is used by one thread at a time.
 */
#ifndef CETCD_RAFT_RAFT_H
#define CETCD_RAFT_RAFT_H

#include <stddef.h>
#include <stdint.h>

struct buf;

/* Node id 0 means "nobody" (no leader, no vote). */
#define RAFT_NONE 0

/* Clusters are small; read-index acknowledgements use a 64-bit member set. */
#define RAFT_MAX_MEMBERS 64

enum raft_role {
	RAFT_FOLLOWER = 0,
	RAFT_PRE_CANDIDATE = 1,
	RAFT_CANDIDATE = 2,
	RAFT_LEADER = 3,
};

enum raft_entry_type {
	RAFT_ENTRY_NORMAL = 0,
	RAFT_ENTRY_CONF_CHANGE = 1, /* data is a raft_conf_change encoding */
};

enum raft_msg_type {
	RAFT_MSG_APPEND = 1,         /* §5.3 AppendEntries */
	RAFT_MSG_APPEND_RESP = 2,
	RAFT_MSG_VOTE = 3,           /* §5.2 RequestVote */
	RAFT_MSG_VOTE_RESP = 4,
	RAFT_MSG_PRE_VOTE = 5,       /* thesis §9.6 */
	RAFT_MSG_PRE_VOTE_RESP = 6,
	RAFT_MSG_HEARTBEAT = 7,      /* empty AppendEntries carrying commit */
	RAFT_MSG_HEARTBEAT_RESP = 8,
	RAFT_MSG_SNAPSHOT = 9,       /* §7 InstallSnapshot (data: driver's job) */
	RAFT_MSG_TIMEOUT_NOW = 10,   /* thesis §3.10 leader transfer */
	RAFT_MSG_READ_INDEX = 11,    /* follower -> leader, ctx = request */
	RAFT_MSG_READ_INDEX_RESP = 12,
};
#define RAFT_MSG_TYPE_MAX 12

/* ctx value a vote request carries when it comes from a leader transfer:
 * voters then grant it even inside a check-quorum lease. */
#define RAFT_CTX_TRANSFER UINT64_C(0x7472616e73666572)

struct raft_entry {
	uint64_t index;
	uint64_t term;
	uint8_t type; /* enum raft_entry_type */
	void *data;   /* owned by whoever owns the entry array */
	size_t len;
};

struct raft_hard_state {
	uint64_t term;
	uint64_t vote;
	uint64_t commit;
};

/* Membership as of a snapshot (§7). Arrays owned by the caller. */
struct raft_snapshot_meta {
	uint64_t index;
	uint64_t term;
	const uint64_t *voters;
	size_t nvoters;
	const uint64_t *learners;
	size_t nlearners;
};

struct raft_msg {
	uint8_t type;          /* enum raft_msg_type */
	uint64_t from, to;
	uint64_t term;
	uint64_t log_term;     /* term of the entry at index (prev entry, last entry, hint) */
	uint64_t index;
	uint64_t commit;
	int reject;
	uint64_t reject_hint;
	struct raft_entry *entries;
	size_t nentries;
	uint64_t ctx;          /* read-index request id / transfer marker */
	/* RAFT_MSG_SNAPSHOT on the receiving side only: the snapshot the driver
	 * has received in full (index, term, membership). NULL elsewhere. */
	const struct raft_snapshot_meta *snap;
};

struct raft_read_state {
	uint64_t index; /* apply at least up to here, then read */
	uint64_t ctx;   /* the caller's request id */
};

struct raft_soft_state {
	uint64_t leader;
	int role;
};

/* One batch of work for the driver. All pointers are owned by the core and
 * stay valid until raft_advance(). Act on the parts in this order:
 *   1. snapshot (if set): persist its meta; the data already arrived;
 *   2. entries: append to the WAL; an entry at index i replaces any stored
 *      entry at i and everything after it;
 *   3. hard state (if hs_changed): persist; then fdatasync once;
 *   4. msgs: only now send them (they may be acks of step 2-3);
 *   5. committed: hand to the state machine in order;
 *   6. reads: answer the waiting linearizable reads;
 * then call raft_advance(). */
struct raft_ready {
	struct raft_hard_state hs;
	int hs_changed;
	struct raft_soft_state ss;
	int ss_changed;
	const struct raft_snapshot_meta *snapshot;
	const struct raft_entry *entries;
	size_t nentries;
	const struct raft_msg *msgs;
	size_t nmsgs;
	const struct raft_entry *committed;
	size_t ncommitted;
	const struct raft_read_state *reads;
	size_t nreads;
};

struct raft_config {
	uint64_t id;             /* this node, != RAFT_NONE */
	const uint64_t *peers;   /* voters incl. self; used only without a snapshot */
	size_t npeers;
	int election_tick;       /* ticks; > heartbeat_tick */
	int heartbeat_tick;      /* ticks; >= 1 */
	int pre_vote;            /* thesis §9.6 */
	int check_quorum;        /* leader steps down without a quorum in an election timeout */
	size_t max_inflight;     /* append messages in flight per follower, >= 1 */
	size_t max_msg_bytes;    /* payload bytes per append (at least one entry is sent) */
	uint64_t applied;        /* index already applied by the state machine (restart) */
	uint64_t seed;           /* PRNG seed for election timeouts */
};

enum raft_conf_change_type {
	RAFT_CONF_ADD_NODE = 0,
	RAFT_CONF_REMOVE_NODE = 1,
	RAFT_CONF_ADD_LEARNER = 2,
	RAFT_CONF_PROMOTE = 3, /* learner becomes voter */
	RAFT_CONF_UPDATE_NODE = 4, /* same membership, new peer URLs (context) */
};

struct raft_conf_change {
	uint8_t type;
	uint64_t node_id;
};
/* u8 type, u64 node id, little endian; an entry may carry more bytes after
 * these (the driver's context, e.g. the member's URLs): decode ignores them. */
#define RAFT_CONF_CHANGE_LEN 9

struct raft;

/* raft_new builds a node. Without restored state pass hs = NULL, n = 0,
 * snap = NULL: a fresh member of cfg->peers. On restart pass what the WAL and
 * snapshot hold: hs, the persisted entries (contiguous; those at or below
 * snap->index are skipped) and the snapshot meta (membership comes from it).
 * Returns 0, CE_INVAL (bad config), CE_CORRUPT (restored state does not fit
 * together) or CE_NOMEM; err gets context. */
int raft_new(struct raft **out, const struct raft_config *cfg,
	const struct raft_hard_state *hs, const struct raft_entry *ents, size_t n,
	const struct raft_snapshot_meta *snap, char *err, size_t errlen);
void raft_free(struct raft *r);

/* raft_tick advances the logical clock by one tick. */
void raft_tick(struct raft *r);

/* raft_step feeds a message from a peer. The core copies what it keeps.
 * Returns 0, CE_INVAL (malformed), CE_CORRUPT (would overwrite committed
 * entries: a broken peer or a lost WAL), CE_NOMEM or CE_AGAIN (called
 * between raft_ready and raft_advance). */
int raft_step(struct raft *r, const struct raft_msg *m);

/* raft_propose appends a new entry (§5.3). Leader only: elsewhere CE_AGAIN
 * (forward to raft_leader(), or retry when it is RAFT_NONE). CE_AGAIN too
 * during a leader transfer, or for a second configuration change while one
 * is not yet applied (§6, one change at a time). Copies data. */
int raft_propose(struct raft *r, uint8_t type, const void *data, size_t len,
	uint64_t *index_out);

/* raft_campaign starts an election now (pre-vote first if configured).
 * CE_INVAL if this node is not a voter; a no-op for a leader. */
int raft_campaign(struct raft *r);

/* raft_read_index asks for a linearizable read point (§8): the answer comes
 * back as a read state with the same ctx (unique, non-zero) in a later ready,
 * once a quorum confirmed leadership. A follower forwards to the leader.
 * CE_AGAIN: no leader known, or the leader has not committed an entry of its
 * term yet; the caller retries. Requests are silently dropped when
 * leadership changes; the caller times out and retries. */
int raft_read_index(struct raft *r, uint64_t ctx);

/* raft_transfer_leader hands leadership to a voter (thesis §3.10): the
 * leader stops taking proposals, brings target up to date and sends
 * TIMEOUT_NOW. Abandoned after an election timeout. Leader only (CE_AGAIN). */
int raft_transfer_leader(struct raft *r, uint64_t target);

/* raft_compact drops log entries up to and including index (§7). The driver
 * must hold a snapshot at index or later: a follower that needs an entry at or
 * below index gets RAFT_MSG_SNAPSHOT {index = this index} in a ready, and the
 * driver then sends its newest snapshot. index <= applied index. */
int raft_compact(struct raft *r, uint64_t index);

/* raft_report_snapshot: the driver finished (ok != 0) or failed sending a
 * snapshot to node id. raft_report_unreachable: a send to id failed. */
void raft_report_snapshot(struct raft *r, uint64_t id, int ok);
void raft_report_unreachable(struct raft *r, uint64_t id);

/* raft_apply_conf_change applies a committed RAFT_ENTRY_CONF_CHANGE entry
 * (§6, single-server changes): the driver calls it when it applies the entry.
 * Returns CE_INVAL for an impossible change (e.g. promote a non-learner). */
int raft_apply_conf_change(struct raft *r, const struct raft_conf_change *cc);
void raft_conf_change_encode(const struct raft_conf_change *cc, uint8_t out[RAFT_CONF_CHANGE_LEN]);
int raft_conf_change_decode(struct raft_conf_change *cc, const void *data, size_t len);

/* raft_has_ready tells whether raft_ready would return any work. */
int raft_has_ready(const struct raft *r);

/* raft_ready fills rd with the pending work. Between raft_ready and
 * raft_advance the driver must not call raft_step, raft_propose,
 * raft_campaign, raft_read_index, raft_transfer_leader or raft_compact (they
 * return CE_AGAIN); raft_tick is deferred until raft_advance. */
void raft_ready(struct raft *r, struct raft_ready *rd);

/* raft_advance: the driver has done everything rd asked for. Frees rd's
 * contents; may make new work ready (e.g. a leader commits once its own
 * entries are durable). */
void raft_advance(struct raft *r, const struct raft_ready *rd);

uint64_t raft_id(const struct raft *r);
uint64_t raft_leader(const struct raft *r);
int raft_role(const struct raft *r);
uint64_t raft_term(const struct raft *r);
uint64_t raft_commit(const struct raft *r);
uint64_t raft_applied(const struct raft *r);
uint64_t raft_last_index(const struct raft *r);
uint64_t raft_first_index(const struct raft *r); /* first entry still in memory */
/* raft_entry_at looks up an in-memory entry; NULL if compacted or past end.
 * The pointer is valid until the next call that changes the log. */
const struct raft_entry *raft_entry_at(const struct raft *r, uint64_t index);
/* raft_is_voter / raft_is_learner: current membership. */
int raft_is_voter(const struct raft *r, uint64_t id);
int raft_is_learner(const struct raft *r, uint64_t id);
/* raft_match: on the leader, the highest index known replicated on id (its
 * own last index for itself); 0 when unknown. */
uint64_t raft_match(const struct raft *r, uint64_t id);
/* raft_voters copies up to cap voter ids into out; returns the count. */
size_t raft_voters(const struct raft *r, uint64_t *out, size_t cap);

const char *raft_role_name(int role);
const char *raft_msg_type_name(int type);

/* Wire encoding of a message for the peer protocol (little endian, versioned
 * by the caller's framing). Decode never trusts its input: CE_CORRUPT on
 * anything malformed. A decoded message's entries (and their data) are in
 * one allocation owned by the caller: free with raft_msg_decoded_free. */
int raft_msg_encode(const struct raft_msg *m, struct buf *b);
int raft_msg_decode(struct raft_msg *m, const void *p, size_t len);
void raft_msg_decoded_free(struct raft_msg *m);

#endif
