/* election.c - leader election (§5.2) with the election restriction
 * (§5.4.1), pre-vote (thesis §9.6) and the forced election of a leader
 * transfer (thesis §3.10). */
#include "config.h"
#include "raft/raft_impl.h"

static void votes_reset(struct raft *r)
{
	for (size_t i = 0; i < r->nprs; i++)
		r->prs[i].vote = -1;
}

enum { POLL_PENDING = 0, POLL_WON = 1, POLL_LOST = 2 };

static int poll(const struct raft *r)
{
	size_t voters = raft_nvoters(r), quorum = voters / 2 + 1;
	size_t yes = 0, no = 0;

	for (size_t i = 0; i < r->nprs; i++) {
		if (!r->prs[i].voter)
			continue;
		yes += r->prs[i].vote == 1;
		no += r->prs[i].vote == 0;
	}
	if (yes >= quorum)
		return POLL_WON;
	if (no > voters - quorum)
		return POLL_LOST;
	return POLL_PENDING;
}

static void won(struct raft *r)
{
	if (r->role == RAFT_PRE_CANDIDATE) {
		election_campaign(r, CAMPAIGN_ELECTION);
		return;
	}
	raft_become_leader(r);
	repl_bcast_append(r);
}

void election_campaign(struct raft *r, int type)
{
	struct raft_progress *self = raft_progress(r, r->id);
	uint64_t term;
	int mtype;

	if (type == CAMPAIGN_PRE) {
		/* Ask first whether we could win, without touching any term:
		 * a partitioned node then cannot inflate terms and depose a
		 * healthy leader when it comes back. */
		r->role = RAFT_PRE_CANDIDATE;
		r->leader = RAFT_NONE;
		votes_reset(r);
		term = r->term + 1;
		mtype = RAFT_MSG_PRE_VOTE;
	} else {
		raft_reset(r, r->term + 1);
		r->role = RAFT_CANDIDATE;
		r->vote = r->id; /* persisted (hard state) before any vote request leaves */
		votes_reset(r);
		term = r->term;
		mtype = RAFT_MSG_VOTE;
	}
	if (self)
		self->vote = 1;
	if (poll(r) == POLL_WON) {
		won(r);
		return;
	}
	for (size_t i = 0; i < r->nprs; i++) {
		struct raft_msg m = { 0 };
		if (!r->prs[i].voter || r->prs[i].id == r->id)
			continue;
		m.type = (uint8_t)mtype;
		m.to = r->prs[i].id;
		m.term = term;
		m.index = log_last_index(&r->log);
		m.log_term = log_last_term(&r->log);
		m.ctx = type == CAMPAIGN_TRANSFER ? RAFT_CTX_TRANSFER : 0;
		raft_send(r, &m);
	}
}

int election_step_vote_req(struct raft *r, const struct raft_msg *m)
{
	struct raft_msg resp = { 0 };
	int pre = m->type == RAFT_MSG_PRE_VOTE;
	/* One vote per term (§5.2); a pre-vote for a future term binds nothing. */
	int can_vote = r->vote == m->from ||
		(r->vote == RAFT_NONE && r->leader == RAFT_NONE) ||
		(pre && m->term > r->term);

	resp.type = pre ? RAFT_MSG_PRE_VOTE_RESP : RAFT_MSG_VOTE_RESP;
	resp.to = m->from;
	if (can_vote && log_up_to_date(&r->log, m->index, m->log_term)) {
		resp.term = m->term;
		if (!pre) {
			r->election_elapsed = 0;
			r->vote = m->from;
		}
	} else {
		resp.term = r->term;
		resp.reject = 1;
	}
	return raft_send(r, &resp);
}

void election_step_vote_resp(struct raft *r, const struct raft_msg *m)
{
	struct raft_progress *pr = raft_progress(r, m->from);
	int res;

	if (pr == NULL || !pr->voter)
		return;
	if (pr->vote == -1)
		pr->vote = m->reject ? 0 : 1;
	res = poll(r);
	if (res == POLL_WON)
		won(r);
	else if (res == POLL_LOST)
		raft_become_follower(r, r->term, RAFT_NONE);
}

void election_tick(struct raft *r)
{
	struct raft_progress *self = raft_progress(r, r->id);

	r->election_elapsed++;
	if (self == NULL || !self->voter)
		return;
	if (r->election_elapsed >= r->randomized_timeout) {
		r->election_elapsed = 0;
		election_campaign(r, r->pre_vote ? CAMPAIGN_PRE : CAMPAIGN_ELECTION);
	}
}
