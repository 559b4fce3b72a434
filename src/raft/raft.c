/* raft.c - the raft core's node: construction, roles, the logical clock,
 * message dispatch, proposals and the ready/advance cycle that hands work
 * to the driver. Election, replication, reads and membership live in their
 * own files (see raft_impl.h). */
#include "config.h"
#include "raft/raft.h"
#include "raft/raft_impl.h"
#include "util/err.h"

#include <stdlib.h>
#include <string.h>

/* splitmix64: small, good enough for spreading election timeouts. */
uint64_t raft_rand(struct raft *r)
{
	uint64_t z = (r->rng += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

struct raft_progress *raft_progress(const struct raft *r, uint64_t id)
{
	for (size_t i = 0; i < r->nprs; i++)
		if (r->prs[i].id == id)
			return &r->prs[i];
	return NULL;
}

size_t raft_nvoters(const struct raft *r)
{
	size_t n = 0;
	for (size_t i = 0; i < r->nprs; i++)
		n += r->prs[i].voter != 0;
	return n;
}

static void msg_free_entries(struct raft_msg *m)
{
	for (size_t i = 0; i < m->nentries; i++)
		raft_blob_unref(m->entries[i].data);
	free(m->entries);
	m->entries = NULL;
	m->nentries = 0;
}

/* raft_send queues m (from and term filled in here) and takes ownership of
 * m->entries. On allocation failure the message is dropped: Raft tolerates
 * lost messages, and r->oom lets tests notice. */
int raft_send(struct raft *r, struct raft_msg *m)
{
	m->from = r->id;
	if (m->term == 0)
		m->term = r->term;
	if (r->nmsgs == r->capmsgs) {
		size_t cap = r->capmsgs ? r->capmsgs * 2 : 16;
		struct raft_msg *p = realloc(r->msgs, cap * sizeof(*p));
		if (p == NULL) {
			msg_free_entries(m);
			r->oom = 1;
			return CE_NOMEM;
		}
		r->msgs = p;
		r->capmsgs = cap;
	}
	r->msgs[r->nmsgs++] = *m;
	return 0;
}

static void reset_randomized_timeout(struct raft *r)
{
	r->randomized_timeout = r->election_tick +
		(int)(raft_rand(r) % (uint64_t)r->election_tick);
}

void raft_reset(struct raft *r, uint64_t term)
{
	if (r->term != term) {
		r->term = term;
		r->vote = RAFT_NONE;
	}
	r->leader = RAFT_NONE;
	r->election_elapsed = 0;
	r->heartbeat_elapsed = 0;
	reset_randomized_timeout(r);
	r->lead_transferee = RAFT_NONE;
	progress_reset_all(r);
	read_clear(r);
}

void raft_become_follower(struct raft *r, uint64_t term, uint64_t leader)
{
	raft_reset(r, term);
	r->role = RAFT_FOLLOWER;
	r->leader = leader;
}

void raft_become_leader(struct raft *r)
{
	raft_reset(r, r->term);
	r->role = RAFT_LEADER;
	r->leader = r->id;
	/* Conservative: any unapplied entry might be a configuration change. */
	r->pending_conf_index = log_last_index(&r->log);
	/* An empty entry of the new term lets the leader commit (and learn the
	 * commit index of) everything before it (§5.4.2, §8). */
	if (log_append(&r->log, r->term, RAFT_ENTRY_NORMAL, NULL, 0) != 0)
		r->oom = 1;
	repl_self_stable(r);
}

/* --- construction --- */

static int config_check(const struct raft_config *c, char *err, size_t errlen)
{
	if (c->id == RAFT_NONE)
		return errf(err, errlen, CE_INVAL, "raft: node id 0");
	if (c->heartbeat_tick < 1 || c->election_tick <= c->heartbeat_tick)
		return errf(err, errlen, CE_INVAL,
			"raft: need 1 <= heartbeat tick (%d) < election tick (%d)",
			c->heartbeat_tick, c->election_tick);
	if (c->max_inflight < 1)
		return errf(err, errlen, CE_INVAL, "raft: max inflight must be >= 1");
	return 0;
}

static int restore_members(struct raft *r, const struct raft_config *cfg,
	const struct raft_snapshot_meta *snap, char *err, size_t errlen)
{
	const uint64_t *v = snap ? snap->voters : cfg->peers;
	size_t nv = snap ? snap->nvoters : cfg->npeers;
	int rc;

	for (size_t i = 0; i < nv; i++)
		if ((rc = conf_add(r, v[i], 1)) != 0)
			return errf(err, errlen, rc, "raft: voter %zu", i);
	for (size_t i = 0; snap && i < snap->nlearners; i++)
		if ((rc = conf_add(r, snap->learners[i], 0)) != 0)
			return errf(err, errlen, rc, "raft: learner %zu", i);
	return 0;
}

static int restore_log(struct raft *r, const struct raft_hard_state *hs,
	const struct raft_entry *ents, size_t n,
	const struct raft_snapshot_meta *snap, char *err, size_t errlen)
{
	struct raft_log *l = &r->log;
	int rc;

	if (snap)
		log_reset(l, snap->index, snap->term);
	for (size_t i = 0; i < n; i++) {
		if (ents[i].index <= l->snap_index)
			continue;
		if (ents[i].index != log_last_index(l) + 1)
			return errf(err, errlen, CE_CORRUPT,
				"raft: restored entry %llu after %llu",
				(unsigned long long)ents[i].index,
				(unsigned long long)log_last_index(l));
		rc = log_append(l, ents[i].term, ents[i].type, ents[i].data, ents[i].len);
		if (rc != 0)
			return errf(err, errlen, rc, "raft: restore log");
	}
	l->stable = log_last_index(l);
	if (hs) {
		if (hs->commit > log_last_index(l))
			return errf(err, errlen, CE_CORRUPT,
				"raft: commit %llu past last index %llu",
				(unsigned long long)hs->commit,
				(unsigned long long)log_last_index(l));
		r->term = hs->term;
		r->vote = hs->vote;
		if (hs->commit > l->committed)
			l->committed = hs->commit;
	}
	return 0;
}

int raft_new(struct raft **out, const struct raft_config *cfg,
	const struct raft_hard_state *hs, const struct raft_entry *ents, size_t n,
	const struct raft_snapshot_meta *snap, char *err, size_t errlen)
{
	struct raft *r;
	int rc;

	*out = NULL;
	if ((rc = config_check(cfg, err, errlen)) != 0)
		return rc;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return errf(err, errlen, CE_NOMEM, "raft: alloc");
	r->id = cfg->id;
	r->election_tick = cfg->election_tick;
	r->heartbeat_tick = cfg->heartbeat_tick;
	r->pre_vote = cfg->pre_vote;
	r->check_quorum = cfg->check_quorum;
	r->max_inflight = cfg->max_inflight;
	r->max_msg_bytes = cfg->max_msg_bytes;
	r->rng = cfg->seed ^ (cfg->id * UINT64_C(0xd1b54a32d192ed03));
	log_init(&r->log);
	if ((rc = restore_members(r, cfg, snap, err, errlen)) != 0)
		goto fail;
	if ((rc = restore_log(r, hs, ents, n, snap, err, errlen)) != 0)
		goto fail;
	if (cfg->applied > r->log.applied)
		r->log.applied = cfg->applied < r->log.committed ? cfg->applied : r->log.committed;
	r->rd_applied = r->log.applied;
	raft_become_follower(r, r->term, RAFT_NONE);
	r->prev_hs = (struct raft_hard_state){ r->term, r->vote, r->log.committed };
	r->prev_ss = (struct raft_soft_state){ RAFT_NONE, RAFT_FOLLOWER };
	*out = r;
	return 0;
fail:
	raft_free(r);
	return rc;
}

static void free_msgs(struct raft_msg *m, size_t n)
{
	for (size_t i = 0; i < n; i++)
		msg_free_entries(&m[i]);
}

void raft_free(struct raft *r)
{
	if (r == NULL)
		return;
	free_msgs(r->msgs, r->nmsgs);
	free(r->msgs);
	free_msgs(r->rd_msgs, r->rd_nmsgs);
	free(r->rd_msgs);
	free(r->rd_reads);
	free(r->reads);
	free(r->rreqs);
	for (size_t i = 0; i < r->nprs; i++)
		progress_free(&r->prs[i]);
	free(r->prs);
	free(r->snap_ids);
	log_close(&r->log);
	free(r);
}

/* --- clock --- */

static void leader_tick(struct raft *r)
{
	r->heartbeat_elapsed++;
	r->election_elapsed++;
	if (r->election_elapsed >= r->election_tick) {
		r->election_elapsed = 0;
		if (r->check_quorum) {
			struct raft_progress *self = raft_progress(r, r->id);
			if (self)
				self->recent_active = 1;
			if (!conf_has_quorum(r, NULL)) {
				raft_become_follower(r, r->term, RAFT_NONE);
				return;
			}
			for (size_t i = 0; i < r->nprs; i++)
				r->prs[i].recent_active = r->prs[i].id == r->id;
		}
		r->lead_transferee = RAFT_NONE; /* transfer timed out */
	}
	if (r->role == RAFT_LEADER && r->heartbeat_elapsed >= r->heartbeat_tick) {
		r->heartbeat_elapsed = 0;
		repl_bcast_heartbeat(r, r->nrreqs ? r->rreqs[r->nrreqs - 1].ctx : 0);
	}
}

void raft_tick(struct raft *r)
{
	if (r->in_ready) {
		r->pending_ticks++;
		return;
	}
	if (r->role == RAFT_LEADER)
		leader_tick(r);
	else
		election_tick(r);
}

/* --- step --- */

static int msg_check(const struct raft *r, const struct raft_msg *m)
{
	if (m->type < 1 || m->type > RAFT_MSG_TYPE_MAX)
		return CE_INVAL;
	if (m->from == RAFT_NONE || m->from == r->id)
		return CE_INVAL;
	if (m->nentries && m->entries == NULL)
		return CE_INVAL;
	for (size_t i = 0; i < m->nentries; i++)
		if (m->entries[i].index != m->index + 1 + i ||
		    (m->entries[i].len && m->entries[i].data == NULL))
			return CE_INVAL;
	if (m->type == RAFT_MSG_SNAPSHOT && m->snap == NULL)
		return CE_INVAL;
	return 0;
}

static int is_vote_req(int t)
{
	return t == RAFT_MSG_VOTE || t == RAFT_MSG_PRE_VOTE;
}

static int is_from_leader(int t)
{
	return t == RAFT_MSG_APPEND || t == RAFT_MSG_HEARTBEAT || t == RAFT_MSG_SNAPSHOT;
}

/* step_term handles a message whose term differs from ours (§5.1): newer
 * terms make us follow, older ones are answered or ignored. Returns 1 if
 * the message is fully handled. */
static int step_term(struct raft *r, const struct raft_msg *m)
{
	if (m->term > r->term) {
		if (is_vote_req(m->type)) {
			int in_lease = r->check_quorum && r->leader != RAFT_NONE &&
				r->election_elapsed < r->election_tick;
			/* Ignore disruptive candidates while we hear from a leader
			 * (thesis §4.2.3), unless the leader asked for it. */
			if (in_lease && m->ctx != RAFT_CTX_TRANSFER)
				return 1;
		}
		if (m->type == RAFT_MSG_PRE_VOTE)
			return 0; /* a pre-vote never changes our term */
		if (m->type == RAFT_MSG_PRE_VOTE_RESP && !m->reject)
			return 0; /* the candidate bumps its term when it wins */
		raft_become_follower(r, m->term,
			is_from_leader(m->type) ? m->from : RAFT_NONE);
		return 0;
	}
	if (m->term < r->term) {
		struct raft_msg resp = { 0 };
		if ((r->check_quorum || r->pre_vote) &&
		    (m->type == RAFT_MSG_HEARTBEAT || m->type == RAFT_MSG_APPEND)) {
			/* Tell a stale leader about the newer term, or else a node
			 * partitioned away with pre-vote could never rejoin. */
			resp.type = RAFT_MSG_APPEND_RESP;
			resp.to = m->from;
			raft_send(r, &resp);
		} else if (is_vote_req(m->type)) {
			/* Reject with our term (§5.1: the reply carries currentTerm
			 * "for candidate to update itself"). Silence could leave a
			 * candidate with the best log below the term of a voter that
			 * never asks it for votes (it sees it as a learner, say), and
			 * no election would ever succeed. */
			resp.type = m->type == RAFT_MSG_PRE_VOTE ?
				RAFT_MSG_PRE_VOTE_RESP : RAFT_MSG_VOTE_RESP;
			resp.to = m->from;
			resp.reject = 1;
			raft_send(r, &resp);
		}
		return 1;
	}
	return 0;
}

static int step_leader(struct raft *r, const struct raft_msg *m)
{
	switch (m->type) {
	case RAFT_MSG_APPEND_RESP:
		repl_step_append_resp(r, m);
		return 0;
	case RAFT_MSG_HEARTBEAT_RESP:
		repl_step_heartbeat_resp(r, m);
		return 0;
	case RAFT_MSG_READ_INDEX:
		read_index_local(r, m->ctx, m->from);
		return 0;
	default:
		return 0;
	}
}

static int step_candidate(struct raft *r, const struct raft_msg *m)
{
	int want = r->role == RAFT_PRE_CANDIDATE ? RAFT_MSG_PRE_VOTE_RESP : RAFT_MSG_VOTE_RESP;

	switch (m->type) {
	case RAFT_MSG_APPEND:
		raft_become_follower(r, m->term, m->from);
		return repl_handle_append(r, m);
	case RAFT_MSG_HEARTBEAT:
		raft_become_follower(r, m->term, m->from);
		repl_handle_heartbeat(r, m);
		return 0;
	case RAFT_MSG_SNAPSHOT:
		raft_become_follower(r, m->term, m->from);
		return repl_handle_snapshot(r, m);
	default:
		if (m->type == want)
			election_step_vote_resp(r, m);
		return 0;
	}
}

static int step_follower(struct raft *r, const struct raft_msg *m)
{
	switch (m->type) {
	case RAFT_MSG_APPEND:
		r->election_elapsed = 0;
		r->leader = m->from;
		return repl_handle_append(r, m);
	case RAFT_MSG_HEARTBEAT:
		r->election_elapsed = 0;
		r->leader = m->from;
		repl_handle_heartbeat(r, m);
		return 0;
	case RAFT_MSG_SNAPSHOT:
		r->election_elapsed = 0;
		r->leader = m->from;
		return repl_handle_snapshot(r, m);
	case RAFT_MSG_TIMEOUT_NOW:
		if (raft_progress(r, r->id) && raft_progress(r, r->id)->voter)
			election_campaign(r, CAMPAIGN_TRANSFER);
		return 0;
	case RAFT_MSG_READ_INDEX_RESP:
		return read_state_add(r, m->index, m->ctx);
	default:
		return 0;
	}
}

int raft_step(struct raft *r, const struct raft_msg *m)
{
	int rc;

	if (r->in_ready)
		return CE_AGAIN;
	if ((rc = msg_check(r, m)) != 0)
		return rc;
	if (step_term(r, m))
		return 0;
	if (is_vote_req(m->type))
		return election_step_vote_req(r, m);
	switch (r->role) {
	case RAFT_LEADER:
		return step_leader(r, m);
	case RAFT_CANDIDATE:
	case RAFT_PRE_CANDIDATE:
		return step_candidate(r, m);
	default:
		return step_follower(r, m);
	}
}

int raft_propose(struct raft *r, uint8_t type, const void *data, size_t len,
	uint64_t *index_out)
{
	int rc;

	if (r->in_ready || r->role != RAFT_LEADER || r->lead_transferee != RAFT_NONE)
		return CE_AGAIN;
	if (type != RAFT_ENTRY_NORMAL && type != RAFT_ENTRY_CONF_CHANGE)
		return CE_INVAL;
	if (len && data == NULL)
		return CE_INVAL;
	if (type == RAFT_ENTRY_CONF_CHANGE) {
		struct raft_conf_change cc;
		if (raft_conf_change_decode(&cc, data, len) != 0)
			return CE_INVAL;
		if (r->pending_conf_index > r->log.applied)
			return CE_AGAIN;
	}
	if ((rc = log_append(&r->log, r->term, type, data, len)) != 0)
		return rc;
	if (type == RAFT_ENTRY_CONF_CHANGE)
		r->pending_conf_index = log_last_index(&r->log);
	if (index_out)
		*index_out = log_last_index(&r->log);
	repl_self_stable(r);
	repl_bcast_append(r);
	return 0;
}

int raft_campaign(struct raft *r)
{
	struct raft_progress *self = raft_progress(r, r->id);

	if (r->in_ready)
		return CE_AGAIN;
	if (self == NULL || !self->voter)
		return CE_INVAL;
	if (r->role == RAFT_LEADER)
		return 0;
	election_campaign(r, r->pre_vote ? CAMPAIGN_PRE : CAMPAIGN_ELECTION);
	return 0;
}

int raft_transfer_leader(struct raft *r, uint64_t target)
{
	struct raft_progress *pr = raft_progress(r, target);

	if (r->in_ready || r->role != RAFT_LEADER)
		return CE_AGAIN;
	if (pr == NULL || !pr->voter || target == r->id)
		return CE_INVAL;
	r->lead_transferee = target;
	r->election_elapsed = 0; /* the transfer must finish within one timeout */
	if (pr->match == log_last_index(&r->log)) {
		struct raft_msg m = { .type = RAFT_MSG_TIMEOUT_NOW, .to = target };
		raft_send(r, &m);
	} else {
		repl_send_append(r, pr, 1);
	}
	return 0;
}

int raft_compact(struct raft *r, uint64_t index)
{
	if (r->in_ready)
		return CE_AGAIN;
	if (index > r->log.applied || index > r->log.stable)
		return CE_INVAL;
	log_compact(&r->log, index);
	return 0;
}

void raft_report_unreachable(struct raft *r, uint64_t id)
{
	struct raft_progress *pr = raft_progress(r, id);
	if (r->role != RAFT_LEADER || pr == NULL || id == r->id)
		return;
	if (pr->state == PR_REPLICATE) {
		pr->state = PR_PROBE;
		pr->next = pr->match + 1;
		pr->in_count = 0;
	}
}

void raft_report_snapshot(struct raft *r, uint64_t id, int ok)
{
	struct raft_progress *pr = raft_progress(r, id);
	if (r->role != RAFT_LEADER || pr == NULL || pr->state != PR_SNAPSHOT)
		return;
	if (!ok)
		pr->pending_snapshot = 0;
	pr->state = PR_PROBE;
	pr->next = (pr->pending_snapshot > pr->match ? pr->pending_snapshot : pr->match) + 1;
	pr->pending_snapshot = 0;
	/* Wait for the follower's answer (or a heartbeat) before probing. */
	pr->probe_sent = 1;
}

/* --- ready / advance --- */

static struct raft_hard_state hard_state(const struct raft *r)
{
	return (struct raft_hard_state){ r->term, r->vote, r->log.committed };
}

static int hs_equal(struct raft_hard_state a, struct raft_hard_state b)
{
	return a.term == b.term && a.vote == b.vote && a.commit == b.commit;
}

int raft_has_ready(const struct raft *r)
{
	struct raft_hard_state hs = hard_state(r);
	if (r->in_ready)
		return 0;
	return !hs_equal(hs, r->prev_hs) || r->leader != r->prev_ss.leader ||
		r->role != r->prev_ss.role || r->has_snap_pending ||
		log_last_index(&r->log) > r->log.stable || r->nmsgs > 0 ||
		r->log.committed > r->log.applied || r->nreads > 0;
}

void raft_ready(struct raft *r, struct raft_ready *rd)
{
	struct raft_log *l = &r->log;
	uint64_t last = log_last_index(l);

	memset(rd, 0, sizeof(*rd));
	rd->hs = hard_state(r);
	rd->hs_changed = !hs_equal(rd->hs, r->prev_hs);
	rd->ss = (struct raft_soft_state){ r->leader, r->role };
	rd->ss_changed = r->leader != r->prev_ss.leader || r->role != r->prev_ss.role;
	if (r->has_snap_pending) {
		rd->snapshot = &r->snap_pending;
		r->rd_snap = 1;
	}
	if (last > l->stable) {
		rd->entries = log_at(l, l->stable + 1);
		rd->nentries = (size_t)(last - l->stable);
	}
	r->rd_stable_index = last;
	r->rd_stable_term = log_last_term(l);
	if (l->committed > l->applied) {
		rd->committed = log_at(l, l->applied + 1);
		rd->ncommitted = (size_t)(l->committed - l->applied);
	}
	r->rd_applied = l->committed;
	rd->msgs = r->msgs;
	rd->nmsgs = r->nmsgs;
	r->rd_msgs = r->msgs;
	r->rd_nmsgs = r->nmsgs;
	r->msgs = NULL;
	r->nmsgs = r->capmsgs = 0;
	rd->reads = r->reads;
	rd->nreads = r->nreads;
	r->rd_reads = r->reads;
	r->reads = NULL;
	r->nreads = r->capreads = 0;
	r->prev_hs = rd->hs;
	r->prev_ss = rd->ss;
	r->in_ready = 1;
}

void raft_advance(struct raft *r, const struct raft_ready *rd)
{
	struct raft_log *l = &r->log;
	int ticks;

	if (!r->in_ready)
		return;
	r->in_ready = 0;
	if (r->rd_snap) {
		r->has_snap_pending = 0;
		r->rd_snap = 0;
	}
	free_msgs(r->rd_msgs, r->rd_nmsgs);
	free(r->rd_msgs);
	r->rd_msgs = NULL;
	r->rd_nmsgs = 0;
	free(r->rd_reads);
	r->rd_reads = NULL;
	if (r->rd_applied > l->applied)
		l->applied = r->rd_applied;
	if (r->rd_stable_index > l->stable &&
	    log_match_term(l, r->rd_stable_index, r->rd_stable_term)) {
		l->stable = r->rd_stable_index;
		repl_self_stable(r);
	}
	ticks = r->pending_ticks;
	r->pending_ticks = 0;
	while (ticks-- > 0)
		raft_tick(r);
}

/* --- accessors --- */

uint64_t raft_id(const struct raft *r) { return r->id; }
uint64_t raft_leader(const struct raft *r) { return r->leader; }
int raft_role(const struct raft *r) { return r->role; }
uint64_t raft_term(const struct raft *r) { return r->term; }
uint64_t raft_commit(const struct raft *r) { return r->log.committed; }
uint64_t raft_applied(const struct raft *r) { return r->log.applied; }
uint64_t raft_last_index(const struct raft *r) { return log_last_index(&r->log); }
uint64_t raft_first_index(const struct raft *r) { return r->log.snap_index + 1; }

const struct raft_entry *raft_entry_at(const struct raft *r, uint64_t index)
{
	return log_at(&r->log, index);
}

int raft_is_voter(const struct raft *r, uint64_t id)
{
	const struct raft_progress *pr = raft_progress(r, id);
	return pr != NULL && pr->voter;
}

uint64_t raft_match(const struct raft *r, uint64_t id)
{
	const struct raft_progress *pr = raft_progress(r, id);

	if (id == r->id)
		return raft_last_index(r);
	return pr != NULL ? pr->match : 0;
}

int raft_is_learner(const struct raft *r, uint64_t id)
{
	const struct raft_progress *pr = raft_progress(r, id);
	return pr != NULL && !pr->voter;
}

size_t raft_voters(const struct raft *r, uint64_t *out, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < r->nprs; i++) {
		if (!r->prs[i].voter)
			continue;
		if (n < cap)
			out[n] = r->prs[i].id;
		n++;
	}
	return n;
}

const char *raft_role_name(int role)
{
	static const char *const names[] = { "follower", "pre-candidate", "candidate", "leader" };
	return role >= 0 && role <= RAFT_LEADER ? names[role] : "unknown";
}

const char *raft_msg_type_name(int type)
{
	static const char *const names[] = { "?", "append", "append-resp", "vote",
		"vote-resp", "pre-vote", "pre-vote-resp", "heartbeat", "heartbeat-resp",
		"snapshot", "timeout-now", "read-index", "read-index-resp" };
	return type >= 1 && type <= RAFT_MSG_TYPE_MAX ? names[type] : "unknown";
}
