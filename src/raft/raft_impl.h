/* raft_impl.h - internals shared by the raft core's files (not for callers:
 * include raft/raft.h). The core is split by concern: log.c (the in-memory
 * log), raft.c (roles, ticks, step dispatch, ready/advance), election.c
 * (§5.2, pre-vote), replication.c (§5.3 progress, flow control, commit),
 * read.c (§8 ReadIndex), conf.c (§6 membership), codec.c (wire format).
 */
#ifndef CETCD_RAFT_RAFT_IMPL_H
#define CETCD_RAFT_RAFT_IMPL_H

#include "raft/raft.h"

/* Entry data is reference counted so that outgoing messages can share it
 * with the log: a message built now stays valid even if the log moves its
 * array or truncates before the driver sends it. */
void *raft_blob_new(const void *data, size_t len);
void *raft_blob_ref(void *data);
void raft_blob_unref(void *data);

/* The in-memory log (§5.3): ents[i] has index snap_index + 1 + i. Entries
 * up to stable are durable in the driver's WAL; the rest are unstable. */
struct raft_log {
	struct raft_entry *ents;
	size_t n, cap;
	uint64_t snap_index, snap_term; /* last compacted entry */
	uint64_t stable;                /* last durable index */
	uint64_t committed;             /* §5.3 commit index */
	uint64_t applied;               /* handed to the driver for applying */
};

void log_init(struct raft_log *l);
void log_close(struct raft_log *l);
uint64_t log_last_index(const struct raft_log *l);
uint64_t log_last_term(const struct raft_log *l);
/* log_term: 0 and *ok = 1 for index 0; *ok = 0 when compacted or absent. */
uint64_t log_term(const struct raft_log *l, uint64_t index, int *ok);
int log_match_term(const struct raft_log *l, uint64_t index, uint64_t term);
struct raft_entry *log_at(const struct raft_log *l, uint64_t index);
/* log_append copies e (data via a new blob); index must be last+1. */
int log_append(struct raft_log *l, uint64_t term, uint8_t type,
	const void *data, size_t len);
/* log_truncate drops entries >= index (never committed ones). */
void log_truncate(struct raft_log *l, uint64_t index);
void log_compact(struct raft_log *l, uint64_t index);
/* log_reset empties the log to a snapshot point. */
void log_reset(struct raft_log *l, uint64_t index, uint64_t term);
/* log_up_to_date: §5.4.1 election restriction. */
int log_up_to_date(const struct raft_log *l, uint64_t last_index, uint64_t last_term);
/* log_conflict_hint: largest index <= index whose term <= term (fast
 * backtracking of a rejected append). */
uint64_t log_conflict_hint(const struct raft_log *l, uint64_t index, uint64_t term);

enum progress_state { PR_PROBE = 0, PR_REPLICATE = 1, PR_SNAPSHOT = 2 };

/* Per-member replication progress, kept on every node (a follower keeps
 * membership here too; only the leader uses match/next). */
struct raft_progress {
	uint64_t id;
	int voter;          /* 0 = learner */
	uint64_t match, next;
	int state;
	int probe_sent;     /* in PROBE: one append outstanding */
	int recent_active;  /* heard from within this election timeout */
	uint64_t pending_snapshot;
	/* ring of last indexes of in-flight appends (REPLICATE) */
	uint64_t *inflight;
	size_t in_start, in_count;
	int vote;           /* -1 none, 0 rejected, 1 granted */
};

struct raft_read_req {
	uint64_t index, ctx, from;
	uint64_t acks; /* bit per position in r->prs */
};

struct raft {
	uint64_t id;
	uint64_t term, vote;
	int role;
	uint64_t leader;
	struct raft_log log;

	struct raft_progress *prs;
	size_t nprs;

	int election_tick, heartbeat_tick;
	int pre_vote, check_quorum;
	size_t max_inflight, max_msg_bytes;
	uint64_t rng;

	int election_elapsed, heartbeat_elapsed, randomized_timeout;
	uint64_t pending_conf_index;
	uint64_t lead_transferee;

	struct raft_msg *msgs;
	size_t nmsgs, capmsgs;
	struct raft_read_state *reads;
	size_t nreads, capreads;
	struct raft_read_req *rreqs; /* leader: reads awaiting a quorum */
	size_t nrreqs, caprreqs;

	struct raft_snapshot_meta snap_pending; /* restored, to hand out */
	uint64_t *snap_ids;                     /* owns voters/learners above */
	int has_snap_pending;

	struct raft_hard_state prev_hs;
	struct raft_soft_state prev_ss;

	/* ready bookkeeping */
	int in_ready;
	int pending_ticks;
	uint64_t rd_stable_index, rd_stable_term; /* last entry handed out */
	uint64_t rd_applied;                      /* last committed handed out */
	struct raft_msg *rd_msgs;
	size_t rd_nmsgs;
	struct raft_read_state *rd_reads;
	int rd_snap;
	int oom; /* an allocation failed inside a void path */
};

/* raft.c */
int raft_send(struct raft *r, struct raft_msg *m); /* takes m->entries */
void raft_become_follower(struct raft *r, uint64_t term, uint64_t leader);
void raft_become_leader(struct raft *r);
void raft_reset(struct raft *r, uint64_t term);
struct raft_progress *raft_progress(const struct raft *r, uint64_t id);
size_t raft_nvoters(const struct raft *r);
uint64_t raft_rand(struct raft *r);

/* election.c */
enum campaign_type { CAMPAIGN_PRE = 0, CAMPAIGN_ELECTION = 1, CAMPAIGN_TRANSFER = 2 };
void election_campaign(struct raft *r, int type);
int election_step_vote_req(struct raft *r, const struct raft_msg *m);
void election_step_vote_resp(struct raft *r, const struct raft_msg *m);
void election_tick(struct raft *r);

/* replication.c */
void progress_reset_all(struct raft *r);
int repl_send_append(struct raft *r, struct raft_progress *pr, int send_if_empty);
void repl_bcast_append(struct raft *r);
void repl_bcast_heartbeat(struct raft *r, uint64_t ctx);
int repl_maybe_commit(struct raft *r);
void repl_commit_to(struct raft *r, uint64_t index);
int repl_handle_append(struct raft *r, const struct raft_msg *m);
void repl_handle_heartbeat(struct raft *r, const struct raft_msg *m);
int repl_handle_snapshot(struct raft *r, const struct raft_msg *m);
void repl_step_append_resp(struct raft *r, const struct raft_msg *m);
void repl_step_heartbeat_resp(struct raft *r, const struct raft_msg *m);
void repl_self_stable(struct raft *r);
int progress_init(struct raft *r, struct raft_progress *pr, uint64_t id, int voter);
void progress_free(struct raft_progress *pr);

/* read.c */
int read_index_local(struct raft *r, uint64_t ctx, uint64_t from);
void read_heartbeat_ack(struct raft *r, uint64_t from, uint64_t ctx);
int read_state_add(struct raft *r, uint64_t index, uint64_t ctx);
void read_clear(struct raft *r);

/* conf.c */
int conf_add(struct raft *r, uint64_t id, int voter);
void conf_remove(struct raft *r, uint64_t id);
int conf_has_quorum(const struct raft *r, int (*pred)(const struct raft_progress *));

#endif
