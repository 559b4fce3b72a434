/* test_raft.c - scripted scenarios for the raft core: single node, elections,
 * the Raft paper's Figure 7 (a new leader repairs lagging and divergent
 * followers, all six of the figure's), Figure 8 (no commit of an old-term
 * entry by counting: a unit check and the figure's story (c)-(d), (c)-(e)),
 * the election restriction, pre-vote, check-quorum, ReadIndex, leader
 * transfer (also to a lagging follower, and its timeout), snapshots and
 * membership changes (update-node, a leader removing itself). A tiny
 * synchronous network drives the nodes. */
#include "config.h"
#include "raft/raft.h"
#include "util/err.h"

#include "suites.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#define TN 7
#define ELECTION 10

struct tnet {
	size_t n;
	struct raft *r[TN + 1]; /* by id, 1-based */
	int cut[TN + 1][TN + 1];
	struct raft_msg *q;
	size_t nq, capq;
	uint64_t applied[TN + 1];
	uint64_t last_value[TN + 1];
	struct raft_read_state reads[TN + 1][8];
	size_t nreads[TN + 1];
	int snap_installed[TN + 1];
	uint64_t msgs_seen[RAFT_MSG_TYPE_MAX + 1];
	uint64_t strip_above; /* if set, entries past this index are lost in transit */
};

static const uint64_t ids7[] = { 1, 2, 3, 4, 5, 6, 7 };

static struct raft *mk(uint64_t id, size_t n, int pre_vote, int check_quorum,
	const struct raft_hard_state *hs, const struct raft_entry *ents, size_t nents)
{
	struct raft_config cfg = { 0 };
	struct raft *r;
	char err[128];

	cfg.id = id;
	cfg.peers = ids7;
	cfg.npeers = n;
	cfg.election_tick = ELECTION;
	cfg.heartbeat_tick = 1;
	cfg.pre_vote = pre_vote;
	cfg.check_quorum = check_quorum;
	cfg.max_inflight = 2;
	cfg.max_msg_bytes = 16;
	cfg.seed = id * 1000 + 17;
	ck_assert_msg(raft_new(&r, &cfg, hs, ents, nents, NULL, err, sizeof(err)) == 0, "%s", err);
	return r;
}

static void net_init(struct tnet *t, size_t n, int pre_vote, int check_quorum)
{
	memset(t, 0, sizeof(*t));
	t->n = n;
	for (size_t i = 1; i <= n; i++)
		t->r[i] = mk(i, n, pre_vote, check_quorum, NULL, NULL, 0);
}

static void msg_free(struct raft_msg *m)
{
	for (size_t i = 0; i < m->nentries; i++)
		free(m->entries[i].data);
	free(m->entries);
}

static void net_close(struct tnet *t)
{
	for (size_t i = 1; i <= TN; i++)
		raft_free(t->r[i]);
	for (size_t i = 0; i < t->nq; i++)
		msg_free(&t->q[i]);
	free(t->q);
}

static void enqueue(struct tnet *t, const struct raft_msg *m)
{
	struct raft_msg *c;
	if (t->nq == t->capq) {
		t->capq = t->capq ? t->capq * 2 : 32;
		t->q = realloc(t->q, t->capq * sizeof(*t->q));
		ck_assert_ptr_nonnull(t->q);
	}
	c = &t->q[t->nq++];
	*c = *m;
	c->entries = NULL;
	if (m->nentries) {
		c->entries = calloc(m->nentries, sizeof(*c->entries));
		for (size_t i = 0; i < m->nentries; i++) {
			c->entries[i] = m->entries[i];
			if (m->entries[i].len) {
				c->entries[i].data = malloc(m->entries[i].len);
				memcpy(c->entries[i].data, m->entries[i].data, m->entries[i].len);
			}
		}
	}
	t->msgs_seen[m->type]++;
}

/* drain plays the driver for node id until it has nothing left to do. */
static void drain(struct tnet *t, uint64_t id)
{
	struct raft *r = t->r[id];
	struct raft_ready rd;

	while (r && raft_has_ready(r)) {
		raft_ready(r, &rd);
		if (rd.snapshot) {
			t->snap_installed[id]++;
			t->applied[id] = rd.snapshot->index;
		}
		for (size_t i = 0; i < rd.nmsgs; i++)
			enqueue(t, &rd.msgs[i]);
		for (size_t i = 0; i < rd.ncommitted; i++) {
			const struct raft_entry *e = &rd.committed[i];
			ck_assert_uint_eq(e->index, t->applied[id] + 1);
			t->applied[id] = e->index;
			if (e->len == 8)
				memcpy(&t->last_value[id], e->data, 8);
			if (e->type == RAFT_ENTRY_CONF_CHANGE) {
				struct raft_conf_change cc;
				ck_assert_int_eq(raft_conf_change_decode(&cc, e->data, e->len), 0);
				ck_assert_int_eq(raft_apply_conf_change(r, &cc), 0);
			}
		}
		for (size_t i = 0; i < rd.nreads && t->nreads[id] < 8; i++)
			t->reads[id][t->nreads[id]++] = rd.reads[i];
		raft_advance(r, &rd);
	}
}

static void drain_all(struct tnet *t)
{
	for (size_t i = 1; i <= t->n; i++)
		drain(t, i);
}

static void step_one(struct tnet *t, struct raft_msg *m)
{
	/* The driver sends its newest snapshot; here exactly the one asked for. */
	struct raft_snapshot_meta meta = { m->index, m->log_term, ids7, t->n, NULL, 0 };
	struct raft *to = t->r[m->to];

	while (t->strip_above && m->nentries &&
	       m->entries[m->nentries - 1].index > t->strip_above)
		free(m->entries[--m->nentries].data);
	if (to == NULL || t->cut[m->from][m->to] || t->cut[m->to][m->from]) {
		if (m->type == RAFT_MSG_SNAPSHOT && t->r[m->from])
			raft_report_snapshot(t->r[m->from], m->to, 0);
		return;
	}
	if (m->type == RAFT_MSG_SNAPSHOT)
		m->snap = &meta;
	ck_assert_int_eq(raft_step(to, m), 0);
	if (m->type == RAFT_MSG_SNAPSHOT)
		raft_report_snapshot(t->r[m->from], m->to, 1);
}

/* deliver runs the network until quiet (FIFO, honouring cuts). */
static void deliver(struct tnet *t)
{
	for (int guard = 0; guard < 10000; guard++) {
		struct raft_msg m;
		drain_all(t);
		if (t->nq == 0)
			return;
		m = t->q[0];
		memmove(t->q, t->q + 1, (t->nq - 1) * sizeof(*t->q));
		t->nq--;
		step_one(t, &m);
		msg_free(&m);
	}
	ck_abort_msg("network did not quiesce");
}

static void tick_all(struct tnet *t, int ticks)
{
	while (ticks-- > 0) {
		for (size_t i = 1; i <= t->n; i++)
			if (t->r[i])
				raft_tick(t->r[i]);
		deliver(t);
	}
}

static void isolate(struct tnet *t, uint64_t id, int on)
{
	for (size_t i = 1; i <= TN; i++)
		t->cut[id][i] = t->cut[i][id] = on;
}

static uint64_t propose_u64(struct raft *r, uint64_t v)
{
	uint64_t idx = 0;
	ck_assert_int_eq(raft_propose(r, RAFT_ENTRY_NORMAL, &v, sizeof(v), &idx), 0);
	return idx;
}

/* --- single node --- */

START_TEST(test_single_node_commit)
{
	struct raft *r = mk(1, 1, 0, 0, NULL, NULL, 0);
	struct raft_ready rd;
	uint64_t v = 42, idx;

	ck_assert_int_eq(raft_propose(r, RAFT_ENTRY_NORMAL, &v, 8, &idx), CE_AGAIN);
	for (int i = 0; i < 2 * ELECTION && raft_role(r) != RAFT_LEADER; i++)
		raft_tick(r);
	ck_assert_int_eq(raft_role(r), RAFT_LEADER);
	ck_assert_uint_eq(raft_term(r), 1);
	ck_assert_uint_eq(raft_leader(r), 1);

	/* The leader's empty entry of its term is persisted, then commits. */
	raft_ready(r, &rd);
	ck_assert(rd.hs_changed);
	ck_assert_uint_eq(rd.hs.term, 1);
	ck_assert_uint_eq(rd.hs.vote, 1);
	ck_assert_uint_eq(rd.nentries, 1);
	ck_assert_uint_eq(rd.entries[0].len, 0);
	ck_assert_uint_eq(rd.entries[0].term, 1);
	ck_assert_uint_eq(rd.ncommitted, 0);
	ck_assert_int_eq(raft_propose(r, RAFT_ENTRY_NORMAL, &v, 8, &idx), CE_AGAIN);
	raft_advance(r, &rd);
	ck_assert_uint_eq(raft_commit(r), 1);

	ck_assert_int_eq(raft_propose(r, RAFT_ENTRY_NORMAL, &v, 8, &idx), 0);
	ck_assert_uint_eq(idx, 2);
	v = 0; /* the core copied it */
	raft_ready(r, &rd);
	ck_assert_uint_eq(rd.ncommitted, 1); /* only the empty entry */
	ck_assert_uint_eq(rd.nentries, 1);
	ck_assert_uint_eq(rd.entries[0].index, 2);
	ck_assert_uint_eq(raft_commit(r), 1); /* not durable yet: not committed */
	raft_advance(r, &rd);
	ck_assert_uint_eq(raft_commit(r), 2);
	ck_assert(raft_has_ready(r));
	raft_ready(r, &rd);
	ck_assert_uint_eq(rd.ncommitted, 1);
	ck_assert_uint_eq(rd.committed[0].index, 2);
	memcpy(&v, rd.committed[0].data, 8);
	ck_assert_uint_eq(v, 42);
	ck_assert(rd.hs_changed);
	ck_assert_uint_eq(rd.hs.commit, 2);
	raft_advance(r, &rd);
	ck_assert(!raft_has_ready(r));
	ck_assert_uint_eq(raft_applied(r), 2);
	raft_free(r);
}
END_TEST

START_TEST(test_single_node_restart)
{
	struct raft_entry ents[2] = { { 1, 1, 0, NULL, 0 }, { 2, 1, 0, "abcdefgh", 8 } };
	struct raft_hard_state hs = { 1, 1, 2 };
	struct raft *r = mk(1, 1, 0, 0, &hs, ents, 2);
	struct raft_ready rd;

	ck_assert_uint_eq(raft_term(r), 1);
	ck_assert_uint_eq(raft_last_index(r), 2);
	raft_ready(r, &rd);
	ck_assert(!rd.hs_changed);
	ck_assert_uint_eq(rd.nentries, 0);
	ck_assert_uint_eq(rd.ncommitted, 2); /* replayed to the state machine */
	raft_advance(r, &rd);
	ck_assert_int_eq(raft_campaign(r), 0);
	ck_assert_int_eq(raft_role(r), RAFT_LEADER);
	ck_assert_uint_eq(raft_term(r), 2);
	raft_free(r);
}
END_TEST

START_TEST(test_bad_config)
{
	struct raft_config cfg = { .id = 1, .peers = ids7, .npeers = 1, .election_tick = 1,
		.heartbeat_tick = 1, .max_inflight = 1 };
	struct raft *r;
	struct raft_hard_state hs = { 1, 0, 5 };
	char err[128];

	ck_assert_int_eq(raft_new(&r, &cfg, NULL, NULL, 0, NULL, err, sizeof(err)), CE_INVAL);
	cfg.election_tick = 10;
	ck_assert_int_eq(raft_new(&r, &cfg, &hs, NULL, 0, NULL, err, sizeof(err)), CE_CORRUPT);
	ck_assert_ptr_null(r);
}
END_TEST

/* --- elections and replication --- */

START_TEST(test_three_nodes_elect_and_replicate)
{
	struct tnet t;
	uint64_t idx;

	net_init(&t, 3, 0, 0);
	ck_assert_int_eq(raft_campaign(t.r[1]), 0);
	deliver(&t);
	ck_assert_int_eq(raft_role(t.r[1]), RAFT_LEADER);
	ck_assert_uint_eq(raft_leader(t.r[2]), 1);
	ck_assert_uint_eq(raft_leader(t.r[3]), 1);
	ck_assert_int_eq(raft_propose(t.r[2], RAFT_ENTRY_NORMAL, "x", 1, NULL), CE_AGAIN);
	idx = propose_u64(t.r[1], 7);
	deliver(&t);
	tick_all(&t, 2); /* heartbeats carry the commit index */
	for (int i = 1; i <= 3; i++) {
		ck_assert_uint_ge(t.applied[i], idx);
		ck_assert_uint_eq(t.last_value[i], 7);
	}
	net_close(&t);
}
END_TEST

START_TEST(test_election_by_timeout)
{
	struct tnet t;
	int leaders = 0;

	net_init(&t, 5, 0, 0);
	tick_all(&t, 3 * ELECTION);
	for (int i = 1; i <= 5; i++)
		leaders += raft_role(t.r[i]) == RAFT_LEADER;
	ck_assert_int_eq(leaders, 1);
	net_close(&t);
}
END_TEST

static void mk_log(struct raft_entry *e, const uint64_t *terms, size_t n)
{
	for (size_t i = 0; i < n; i++)
		e[i] = (struct raft_entry){ i + 1, terms[i], RAFT_ENTRY_NORMAL, NULL, 0 };
}

/* Figure 7: a new leader forces its log on a lagging and a divergent
 * follower (fast backtracking + truncation). */
START_TEST(test_figure7_repair)
{
	static const uint64_t lead[] = { 1, 1, 1, 4, 4, 5, 5, 6, 6, 6 };
	static const uint64_t lag[] = { 1, 1, 1, 4 };
	static const uint64_t div[] = { 1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3 };
	struct raft_entry el[10], eg[4], ed[11];
	struct raft_hard_state h1 = { 6, 0, 3 }, h2 = { 4, 0, 3 }, h3 = { 3, 0, 3 };
	struct tnet t;

	memset(&t, 0, sizeof(t));
	t.n = 3;
	mk_log(el, lead, 10);
	mk_log(eg, lag, 4);
	mk_log(ed, div, 11);
	t.r[1] = mk(1, 3, 0, 0, &h1, el, 10);
	t.r[2] = mk(2, 3, 0, 0, &h2, eg, 4);
	t.r[3] = mk(3, 3, 0, 0, &h3, ed, 11);
	t.applied[1] = t.applied[2] = t.applied[3] = 0;
	ck_assert_int_eq(raft_campaign(t.r[1]), 0);
	deliver(&t);
	ck_assert_int_eq(raft_role(t.r[1]), RAFT_LEADER);
	ck_assert_uint_eq(raft_term(t.r[1]), 7);
	tick_all(&t, 3);
	for (int i = 1; i <= 3; i++) {
		ck_assert_uint_eq(raft_last_index(t.r[i]), 11);
		for (uint64_t k = 1; k <= 10; k++)
			ck_assert_uint_eq(raft_entry_at(t.r[i], k)->term, lead[k - 1]);
		ck_assert_uint_eq(raft_entry_at(t.r[i], 11)->term, 7);
		ck_assert_uint_eq(raft_commit(t.r[i]), 11);
	}
	/* Backtracking used few probes, not one per entry. */
	ck_assert_uint_lt(t.msgs_seen[RAFT_MSG_APPEND_RESP], 40);
	net_close(&t);
}
END_TEST

/* Figure 8: an entry of an earlier term on a majority is not committed by
 * counting; it commits once an entry of the leader's term does (§5.4.2). */
START_TEST(test_figure8_no_commit_by_counting)
{
	static const uint64_t l12[] = { 1, 2 };
	struct raft_entry e2[2], e1[1];
	struct raft_hard_state h12 = { 2, 0, 1 }, h3 = { 2, 0, 1 };
	struct raft_msg m = { 0 };
	struct raft *r1, *r2, *r3;
	struct raft_ready rd;

	mk_log(e2, l12, 2);
	mk_log(e1, l12, 1);
	r1 = mk(1, 3, 0, 0, &h12, e2, 2);
	r2 = mk(2, 3, 0, 0, &h12, e2, 2);
	r3 = mk(3, 3, 0, 0, &h3, e1, 1);
	ck_assert_int_eq(raft_campaign(r1), 0);
	m = (struct raft_msg){ .type = RAFT_MSG_VOTE_RESP, .from = 3, .to = 1, .term = 3 };
	ck_assert_int_eq(raft_step(r1, &m), 0);
	ck_assert_int_eq(raft_role(r1), RAFT_LEADER);
	ck_assert_uint_eq(raft_last_index(r1), 3); /* empty entry of term 3, unstable */

	/* Node 2 acknowledges index 2 (term 2): a majority holds it... */
	m = (struct raft_msg){ .type = RAFT_MSG_APPEND_RESP, .from = 2, .to = 1, .term = 3, .index = 2 };
	ck_assert_int_eq(raft_step(r1, &m), 0);
	ck_assert_uint_eq(raft_commit(r1), 1); /* ...but it is not committed. */

	/* Once the leader's own term-3 entry is durable and on node 2, both commit. */
	raft_ready(r1, &rd);
	raft_advance(r1, &rd);
	ck_assert_uint_eq(raft_commit(r1), 1);
	m.index = 3;
	ck_assert_int_eq(raft_step(r1, &m), 0);
	ck_assert_uint_eq(raft_commit(r1), 3);
	raft_free(r1);
	raft_free(r2);
	raft_free(r3);
}
END_TEST

/* §5.4.1: votes go only to candidates whose log is at least as up to date. */
START_TEST(test_vote_rejected_for_stale_log)
{
	static const uint64_t terms[] = { 1, 1, 2 };
	struct raft_entry e[3];
	struct raft_hard_state hs = { 2, 0, 0 };
	struct raft *r;
	struct raft_ready rd;
	struct raft_msg m = { .type = RAFT_MSG_VOTE, .from = 2, .to = 1 };

	mk_log(e, terms, 3);
	r = mk(1, 3, 0, 0, &hs, e, 3);
	/* longer log, older last term */
	m.term = 3; m.index = 5; m.log_term = 1;
	ck_assert_int_eq(raft_step(r, &m), 0);
	/* same last term, shorter */
	m.from = 3; m.index = 2; m.log_term = 2;
	ck_assert_int_eq(raft_step(r, &m), 0);
	raft_ready(r, &rd);
	ck_assert_uint_eq(rd.nmsgs, 2);
	ck_assert_int_eq(rd.msgs[0].type, RAFT_MSG_VOTE_RESP);
	ck_assert(rd.msgs[0].reject);
	ck_assert(rd.msgs[1].reject);
	ck_assert_uint_eq(rd.hs.term, 3);
	ck_assert_uint_eq(rd.hs.vote, 0);
	raft_advance(r, &rd);
	/* up to date: granted, and the vote is in the hard state of the same
	 * ready that carries the response (persist before send). */
	m.from = 2; m.index = 3; m.log_term = 2;
	ck_assert_int_eq(raft_step(r, &m), 0);
	raft_ready(r, &rd);
	ck_assert_uint_eq(rd.nmsgs, 1);
	ck_assert(!rd.msgs[0].reject);
	ck_assert(rd.hs_changed);
	ck_assert_uint_eq(rd.hs.vote, 2);
	raft_advance(r, &rd);
	/* one vote per term */
	m.from = 3;
	ck_assert_int_eq(raft_step(r, &m), 0);
	raft_ready(r, &rd);
	ck_assert(rd.msgs[0].reject);
	raft_advance(r, &rd);
	raft_free(r);
}
END_TEST

/* A vote request of an older term is rejected with our term (§5.1: the
 * reply carries currentTerm "for candidate to update itself"). Regression
 * (long-run simulation seed 88913): a voter with an inflated term and a
 * stale log, which saw the candidate with the best log as a learner and so
 * never asked it for votes, silently ignored that candidate's requests;
 * neither learned the other's term and no leader was elected for hundreds of
 * ticks after the faults healed. */
START_TEST(test_stale_vote_gets_term)
{
	struct raft_hard_state hs = { 9, 0, 0 };
	struct raft *voter = mk(1, 3, 0, 0, &hs, NULL, 0);
	struct raft *cand = mk(2, 3, 0, 0, NULL, NULL, 0);
	struct raft_msg m = { .type = RAFT_MSG_VOTE, .from = 2, .to = 1, .term = 4,
		.index = 7, .log_term = 3 };
	struct raft_ready rd;

	ck_assert_int_eq(raft_step(voter, &m), 0);
	raft_ready(voter, &rd);
	ck_assert_uint_eq(rd.nmsgs, 1);
	ck_assert_int_eq(rd.msgs[0].type, RAFT_MSG_VOTE_RESP);
	ck_assert(rd.msgs[0].reject);
	ck_assert_uint_eq(rd.msgs[0].term, 9);
	raft_advance(voter, &rd);
	ck_assert_uint_eq(raft_term(voter), 9);

	ck_assert_int_eq(raft_campaign(cand), 0);
	ck_assert_int_eq(raft_role(cand), RAFT_CANDIDATE);
	m = (struct raft_msg){ .type = RAFT_MSG_VOTE_RESP, .from = 1, .to = 2, .term = 9,
		.reject = 1 };
	ck_assert_int_eq(raft_step(cand, &m), 0);
	ck_assert_int_eq(raft_role(cand), RAFT_FOLLOWER);
	ck_assert_uint_eq(raft_term(cand), 9); /* its next campaign outbids the voter */
	raft_free(voter);
	raft_free(cand);
}
END_TEST

static void prevote_partition(int pre_vote, uint64_t *term3, uint64_t *term1_after, int *still_leader)
{
	struct tnet t;
	uint64_t term;

	net_init(&t, 3, pre_vote, 0);
	ck_assert_int_eq(raft_campaign(t.r[1]), 0);
	deliver(&t);
	ck_assert_int_eq(raft_role(t.r[1]), RAFT_LEADER);
	term = raft_term(t.r[1]);
	isolate(&t, 3, 1);
	propose_u64(t.r[1], 1); /* node 3's log falls behind */
	deliver(&t);
	tick_all(&t, 5 * ELECTION);
	*term3 = raft_term(t.r[3]);
	isolate(&t, 3, 0);
	tick_all(&t, 5 * ELECTION);
	*term1_after = raft_term(t.r[1]) - term;
	*still_leader = raft_role(t.r[1]) == RAFT_LEADER;
	ck_assert_uint_eq(raft_last_index(t.r[3]), raft_last_index(t.r[1]));
	net_close(&t);
}

START_TEST(test_prevote_no_disruption)
{
	uint64_t term3, bumped;
	int leader;

	prevote_partition(1, &term3, &bumped, &leader);
	ck_assert_uint_eq(term3, 1); /* pre-votes never raised its term */
	ck_assert_uint_eq(bumped, 0);
	ck_assert(leader);
	/* Control: without pre-vote the rejoining node deposes the leader. */
	prevote_partition(0, &term3, &bumped, &leader);
	ck_assert_uint_gt(term3, 1);
	ck_assert_uint_gt(bumped, 0);
}
END_TEST

START_TEST(test_check_quorum_step_down)
{
	struct tnet t;

	net_init(&t, 3, 0, 1);
	ck_assert_int_eq(raft_campaign(t.r[1]), 0);
	deliver(&t);
	ck_assert_int_eq(raft_role(t.r[1]), RAFT_LEADER);
	tick_all(&t, ELECTION); /* healthy: stays leader */
	ck_assert_int_eq(raft_role(t.r[1]), RAFT_LEADER);
	isolate(&t, 1, 1);
	tick_all(&t, 2 * ELECTION);
	ck_assert_int_eq(raft_role(t.r[1]), RAFT_FOLLOWER);
	ck_assert_uint_eq(raft_leader(t.r[1]), RAFT_NONE);
	net_close(&t);
}
END_TEST

/* With check-quorum, followers that hear from a leader ignore a candidate
 * (leader lease), so a flapping node cannot force elections. */
START_TEST(test_check_quorum_lease)
{
	struct tnet t;
	struct raft_msg m = { .type = RAFT_MSG_VOTE, .from = 3, .to = 2, .term = 10,
		.index = 100, .log_term = 9 };

	net_init(&t, 3, 0, 1);
	ck_assert_int_eq(raft_campaign(t.r[1]), 0);
	deliver(&t);
	ck_assert_int_eq(raft_step(t.r[2], &m), 0);
	ck_assert_uint_eq(raft_term(t.r[2]), 1);
	ck_assert_uint_eq(raft_leader(t.r[2]), 1);
	net_close(&t);
}
END_TEST

START_TEST(test_pipeline_bounded)
{
	struct tnet t;
	size_t appends = 0;

	net_init(&t, 3, 0, 0);
	ck_assert_int_eq(raft_campaign(t.r[1]), 0);
	deliver(&t);
	tick_all(&t, 1);
	isolate(&t, 2, 1);
	for (uint64_t v = 0; v < 20; v++)
		propose_u64(t.r[1], v);
	drain(&t, 1);
	for (size_t i = 0; i < t.nq; i++)
		if (t.q[i].to == 2 && t.q[i].type == RAFT_MSG_APPEND && t.q[i].nentries)
			appends++;
	ck_assert_uint_le(appends, 2); /* max_inflight */
	for (size_t i = 0; i < t.nq; i++)
		if (t.q[i].type == RAFT_MSG_APPEND) {
			size_t bytes = 0;
			for (size_t k = 0; k < t.q[i].nentries; k++)
				bytes += t.q[i].entries[k].len;
			ck_assert(t.q[i].nentries == 1 || bytes <= 16);
		}
	isolate(&t, 2, 0);
	tick_all(&t, 5);
	ck_assert_uint_eq(raft_last_index(t.r[2]), raft_last_index(t.r[1]));
	ck_assert_uint_eq(t.applied[2], raft_last_index(t.r[1]));
	net_close(&t);
}
END_TEST

/* --- reads, transfer, snapshots, membership --- */

START_TEST(test_read_index)
{
	struct tnet t;
	struct raft *single = mk(1, 1, 0, 0, NULL, NULL, 0);
	struct raft_ready rd;

	ck_assert_int_eq(raft_read_index(single, 5), CE_AGAIN);
	raft_campaign(single);
	ck_assert_int_eq(raft_read_index(single, 5), CE_AGAIN); /* nothing of term committed */
	raft_ready(single, &rd);
	raft_advance(single, &rd);
	ck_assert_int_eq(raft_read_index(single, 5), 0);
	raft_ready(single, &rd);
	ck_assert_uint_eq(rd.nreads, 1);
	ck_assert_uint_eq(rd.reads[0].ctx, 5);
	ck_assert_uint_eq(rd.reads[0].index, 1);
	raft_advance(single, &rd);
	raft_free(single);

	net_init(&t, 3, 0, 0);
	ck_assert_int_eq(raft_campaign(t.r[1]), 0);
	deliver(&t);
	propose_u64(t.r[1], 9);
	deliver(&t);
	ck_assert_int_eq(raft_read_index(t.r[1], 77), 0);
	drain(&t, 1);
	ck_assert_uint_eq(t.nreads[1], 0); /* needs a quorum of heartbeat acks */
	deliver(&t);
	ck_assert_uint_eq(t.nreads[1], 1);
	ck_assert_uint_eq(t.reads[1][0].ctx, 77);
	ck_assert_uint_eq(t.reads[1][0].index, raft_commit(t.r[1]));
	/* a follower forwards to the leader */
	ck_assert_int_eq(raft_read_index(t.r[3], 78), 0);
	deliver(&t);
	ck_assert_uint_eq(t.nreads[3], 1);
	ck_assert_uint_eq(t.reads[3][0].ctx, 78);
	ck_assert_uint_eq(t.reads[3][0].index, raft_commit(t.r[1]));
	/* a leader cut off from the quorum answers nothing */
	isolate(&t, 1, 1);
	ck_assert_int_eq(raft_read_index(t.r[1], 79), 0);
	deliver(&t);
	ck_assert_uint_eq(t.nreads[1], 1);
	net_close(&t);
}
END_TEST

START_TEST(test_leader_transfer)
{
	struct tnet t;

	net_init(&t, 3, 1, 1);
	ck_assert_int_eq(raft_campaign(t.r[1]), 0);
	deliver(&t);
	ck_assert_int_eq(raft_role(t.r[1]), RAFT_LEADER);
	ck_assert_int_eq(raft_transfer_leader(t.r[1], 3), 0);
	ck_assert_int_eq(raft_propose(t.r[1], RAFT_ENTRY_NORMAL, "x", 1, NULL), CE_AGAIN);
	deliver(&t);
	ck_assert_int_eq(raft_role(t.r[3]), RAFT_LEADER);
	ck_assert_uint_eq(raft_leader(t.r[1]), 3);
	ck_assert_uint_eq(raft_leader(t.r[2]), 3);
	net_close(&t);
}
END_TEST

START_TEST(test_snapshot_catch_up)
{
	struct tnet t;
	uint64_t last;

	net_init(&t, 3, 0, 0);
	ck_assert_int_eq(raft_campaign(t.r[1]), 0);
	deliver(&t);
	isolate(&t, 3, 1);
	for (uint64_t v = 1; v <= 10; v++)
		propose_u64(t.r[1], v);
	deliver(&t);
	tick_all(&t, 2);
	last = raft_last_index(t.r[1]);
	ck_assert_int_eq(raft_compact(t.r[1], last + 1), CE_INVAL); /* beyond applied */
	ck_assert_int_eq(raft_compact(t.r[1], last - 1), 0);
	ck_assert_uint_eq(raft_first_index(t.r[1]), last);
	ck_assert_ptr_null(raft_entry_at(t.r[1], last - 1));
	isolate(&t, 3, 0);
	tick_all(&t, 3);
	ck_assert_int_eq(t.snap_installed[3], 1);
	ck_assert_uint_ge(t.msgs_seen[RAFT_MSG_SNAPSHOT], 1);
	ck_assert_uint_eq(raft_last_index(t.r[3]), raft_last_index(t.r[1]));
	ck_assert_uint_eq(raft_commit(t.r[3]), raft_commit(t.r[1]));
	ck_assert_uint_eq(t.applied[3], raft_commit(t.r[1]));
	net_close(&t);
}
END_TEST

START_TEST(test_conf_change)
{
	struct tnet t;
	uint8_t cc[RAFT_CONF_CHANGE_LEN];
	struct raft_conf_change c = { RAFT_CONF_ADD_LEARNER, 2 };
	struct raft_hard_state hs = { 0 };

	memset(&t, 0, sizeof(t));
	t.n = 2;
	t.r[1] = mk(1, 1, 0, 0, NULL, NULL, 0);
	ck_assert_int_eq(raft_campaign(t.r[1]), 0);
	deliver(&t);
	ck_assert_int_eq(raft_propose(t.r[1], RAFT_ENTRY_CONF_CHANGE, "bad", 3, NULL), CE_INVAL);
	raft_conf_change_encode(&c, cc);
	ck_assert_int_eq(raft_propose(t.r[1], RAFT_ENTRY_CONF_CHANGE, cc, sizeof(cc), NULL), 0);
	/* one change at a time */
	ck_assert_int_eq(raft_propose(t.r[1], RAFT_ENTRY_CONF_CHANGE, cc, sizeof(cc), NULL), CE_AGAIN);
	deliver(&t);
	ck_assert(raft_is_learner(t.r[1], 2));
	/* the new member starts empty, knowing only the leader */
	{
		struct raft_config cfg = { .id = 2, .peers = ids7, .npeers = 1,
			.election_tick = ELECTION, .heartbeat_tick = 1, .max_inflight = 2,
			.max_msg_bytes = 16, .seed = 3 };
		char err[64];
		ck_assert_int_eq(raft_new(&t.r[2], &cfg, &hs, NULL, 0, NULL, err, sizeof(err)), 0);
	}
	tick_all(&t, 3);
	ck_assert_uint_eq(raft_last_index(t.r[2]), raft_last_index(t.r[1]));
	ck_assert_uint_eq(raft_commit(t.r[1]), raft_last_index(t.r[1]));
	c.type = RAFT_CONF_PROMOTE;
	raft_conf_change_encode(&c, cc);
	ck_assert_int_eq(raft_propose(t.r[1], RAFT_ENTRY_CONF_CHANGE, cc, sizeof(cc), NULL), 0);
	tick_all(&t, 3);
	ck_assert(raft_is_voter(t.r[1], 2));
	ck_assert(raft_is_voter(t.r[2], 2));
	/* now two voters: a proposal needs node 2 */
	isolate(&t, 2, 1);
	{
		uint64_t idx = propose_u64(t.r[1], 5);
		tick_all(&t, 2);
		ck_assert_uint_lt(raft_commit(t.r[1]), idx);
		isolate(&t, 2, 0);
		tick_all(&t, 2);
		ck_assert_uint_ge(raft_commit(t.r[1]), idx);
	}
	net_close(&t);
}
END_TEST

/* Figure 7, all six followers: a leader of term 8 (here elected from the
 * log of the figure's leader) brings (a) missing one entry, (b) missing
 * many, (c) with an extra entry of term 6, (d) with extra entries of term 7,
 * (e) with extra uncommitted term-4 entries and (f) with entries of terms 2
 * and 3 the others never saw, to its own log. */
START_TEST(test_figure7_all_followers)
{
	static const uint64_t lead[] = { 1, 1, 1, 4, 4, 5, 5, 6, 6, 6 };
	static const uint64_t fa[] = { 1, 1, 1, 4, 4, 5, 5, 6, 6 };
	static const uint64_t fb[] = { 1, 1, 1, 4 };
	static const uint64_t fc[] = { 1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6 };
	static const uint64_t fd[] = { 1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7 };
	static const uint64_t fe[] = { 1, 1, 1, 4, 4, 4, 4 };
	static const uint64_t ff[] = { 1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3 };
	static const uint64_t *const logs[7] = { lead, fa, fb, fc, fd, fe, ff };
	static const size_t lens[7] = { 10, 9, 4, 11, 12, 7, 11 };
	struct raft_entry e[7][12];
	struct tnet t;

	memset(&t, 0, sizeof(t));
	t.n = 7;
	for (size_t i = 0; i < 7; i++) {
		/* the figure's leader is in term 8: it last heard of term 7 */
		struct raft_hard_state hs = { i == 0 ? 7 : logs[i][lens[i] - 1], 0, 3 };
		mk_log(e[i], logs[i], lens[i]);
		t.r[i + 1] = mk(i + 1, 7, 0, 0, &hs, e[i], lens[i]);
	}
	ck_assert_int_eq(raft_campaign(t.r[1]), 0);
	deliver(&t);
	/* (a), (b), (e), (f) vote for it; (c) and (d) hold more up-to-date logs */
	ck_assert_int_eq(raft_role(t.r[1]), RAFT_LEADER);
	ck_assert_uint_eq(raft_term(t.r[1]), 8);
	tick_all(&t, 4);
	for (int i = 1; i <= 7; i++) {
		ck_assert_uint_eq(raft_last_index(t.r[i]), 11);
		for (uint64_t k = 1; k <= 10; k++)
			ck_assert_uint_eq(raft_entry_at(t.r[i], k)->term, lead[k - 1]);
		ck_assert_uint_eq(raft_entry_at(t.r[i], 11)->term, 8);
		ck_assert_uint_eq(raft_commit(t.r[i]), 11);
		ck_assert_uint_eq(t.applied[i], 11);
	}
	net_close(&t);
}
END_TEST

/* Figure 8 as a story with 5 servers. */
static const char fig8_data[] = "entry 2 of term 2";

/* fig8_c: state (c). S1 (term 4 leader) has replicated index 2 of term 2 to
 * S2 and S3, a majority, and its term-4 entry to S2 and S3 only if
 * share_term4. S5 (index 2 of term 3) is down. */
static void fig8_c(struct tnet *t, int share_term4)
{
	struct raft_entry l12[2] = { { 1, 1, 0, NULL, 0 },
		{ 2, 2, 0, (void *)fig8_data, sizeof(fig8_data) } };
	struct raft_hard_state h = { 3, 0, 1 };

	memset(t, 0, sizeof(*t));
	t->n = 5;
	t->r[1] = mk(1, 5, 0, 0, &h, l12, 2);
	t->r[2] = mk(2, 5, 0, 0, &h, l12, 2);
	t->r[3] = mk(3, 5, 0, 0, &h, l12, 1);
	t->r[4] = mk(4, 5, 0, 0, &h, l12, 1);
	t->strip_above = share_term4 ? 0 : 2; /* S1's index 3 stays home */
	ck_assert_int_eq(raft_campaign(t->r[1]), 0);
	deliver(t);
	ck_assert_int_eq(raft_role(t->r[1]), RAFT_LEADER);
	ck_assert_uint_eq(raft_term(t->r[1]), 4);
	tick_all(t, 3);
	ck_assert_uint_eq(raft_entry_at(t->r[3], 2)->term, 2);
	t->strip_above = 0;
}

/* S1 crashes; S5 comes back (term 4 heard) with index 2 of term 3. */
static void fig8_s1_crash_s5_back(struct tnet *t)
{
	struct raft_entry l5[2] = { { 1, 1, 0, NULL, 0 }, { 2, 3, 0, "S5", 2 } };
	struct raft_hard_state h5 = { 4, 0, 1 };

	raft_free(t->r[1]);
	t->r[1] = NULL;
	t->r[5] = mk(5, 5, 0, 0, &h5, l5, 2);
}

START_TEST(test_figure8_overwrite_uncommitted)
{
	struct tnet t;

	fig8_c(&t, 0);
	/* (c) index 2 is on a majority, but of an older term: not committed */
	for (int i = 1; i <= 4; i++) {
		ck_assert_uint_eq(raft_commit(t.r[i]), 1);
		ck_assert_uint_le(t.applied[i], 1);
	}
	ck_assert_uint_eq(raft_last_index(t.r[1]), 3);
	ck_assert_uint_eq(raft_last_index(t.r[2]), 2);
	/* (d) S5 can win with S2, S3, S4 (its last term 3 beats 2) and
	 * overwrites index 2 everywhere: safe, since nobody applied it. */
	fig8_s1_crash_s5_back(&t);
	for (int i = 0; i < 3 && raft_role(t.r[5]) != RAFT_LEADER; i++) {
		ck_assert_int_eq(raft_campaign(t.r[5]), 0);
		deliver(&t);
	}
	ck_assert_int_eq(raft_role(t.r[5]), RAFT_LEADER);
	tick_all(&t, 3);
	for (int i = 2; i <= 5; i++) {
		ck_assert_uint_eq(raft_entry_at(t.r[i], 2)->term, 3);
		ck_assert_uint_ge(raft_commit(t.r[i]), 3);
	}
	net_close(&t);
}
END_TEST

START_TEST(test_figure8_commit_current_term)
{
	struct tnet t;

	fig8_c(&t, 1);
	/* (e) S1's term-4 entry reached a majority: index 2 and 3 commit */
	ck_assert_uint_eq(raft_commit(t.r[1]), 3);
	fig8_s1_crash_s5_back(&t);
	for (int i = 0; i < 4; i++) {
		ck_assert_int_eq(raft_campaign(t.r[5]), 0);
		deliver(&t);
		ck_assert_int_ne(raft_role(t.r[5]), RAFT_LEADER); /* only S4 votes */
	}
	ck_assert_int_eq(raft_campaign(t.r[2]), 0);
	deliver(&t);
	ck_assert_int_eq(raft_role(t.r[2]), RAFT_LEADER);
	tick_all(&t, 3);
	for (int i = 2; i <= 5; i++) {
		ck_assert_uint_eq(raft_entry_at(t.r[i], 2)->term, 2);
		ck_assert_uint_eq(raft_entry_at(t.r[i], 3)->term, 4);
		ck_assert_uint_ge(t.applied[i], 3);
	}
	net_close(&t);
}
END_TEST

/* Leader transfer to a follower that lags: the leader first brings it up to
 * date, then sends TIMEOUT_NOW. A transfer to an unreachable node is
 * abandoned after an election timeout and proposals resume. */
START_TEST(test_leader_transfer_lagging_and_timeout)
{
	struct tnet t;
	uint64_t last;

	net_init(&t, 3, 1, 1);
	ck_assert_int_eq(raft_campaign(t.r[1]), 0);
	deliver(&t);
	isolate(&t, 3, 1);
	for (uint64_t v = 1; v <= 5; v++)
		propose_u64(t.r[1], v);
	deliver(&t);
	last = raft_last_index(t.r[1]);
	ck_assert_uint_lt(raft_last_index(t.r[3]), last);
	isolate(&t, 3, 0);
	ck_assert_int_eq(raft_transfer_leader(t.r[1], 3), 0);
	ck_assert_int_eq(raft_propose(t.r[1], RAFT_ENTRY_NORMAL, "x", 1, NULL), CE_AGAIN);
	tick_all(&t, 3);
	ck_assert_int_eq(raft_role(t.r[3]), RAFT_LEADER);
	ck_assert_int_eq(raft_role(t.r[1]), RAFT_FOLLOWER);
	ck_assert_uint_eq(raft_last_index(t.r[3]), last + 1);
	ck_assert_uint_eq(raft_entry_at(t.r[3], last)->term, raft_entry_at(t.r[1], last)->term);

	isolate(&t, 2, 1);
	ck_assert_int_eq(raft_transfer_leader(t.r[3], 2), 0);
	ck_assert_int_eq(raft_propose(t.r[3], RAFT_ENTRY_NORMAL, "y", 1, NULL), CE_AGAIN);
	tick_all(&t, ELECTION);
	ck_assert_int_eq(raft_role(t.r[3]), RAFT_LEADER);
	ck_assert_int_eq(raft_propose(t.r[3], RAFT_ENTRY_NORMAL, "y", 1, NULL), 0);
	net_close(&t);
}
END_TEST

static void propose_cc(struct raft *r, uint8_t type, uint64_t id)
{
	struct raft_conf_change c = { type, id };
	uint8_t b[RAFT_CONF_CHANGE_LEN + 16];
	raft_conf_change_encode(&c, b);
	memcpy(b + RAFT_CONF_CHANGE_LEN, "http://10.0.0.2", 16); /* driver context */
	ck_assert_int_eq(raft_propose(r, RAFT_ENTRY_CONF_CHANGE, b, sizeof(b), NULL), 0);
}

/* Update-node changes no membership; a leader that removes itself steps
 * down once it applies the change and the others go on without it. */
START_TEST(test_conf_update_and_remove_leader)
{
	struct tnet t;
	uint64_t ids[8], lead = 0, idx;

	net_init(&t, 3, 0, 0);
	ck_assert_int_eq(raft_campaign(t.r[1]), 0);
	deliver(&t);
	propose_cc(t.r[1], RAFT_CONF_UPDATE_NODE, 2);
	tick_all(&t, 2);
	for (int i = 1; i <= 3; i++) {
		ck_assert_uint_eq(raft_voters(t.r[i], ids, 8), 3);
		ck_assert(raft_is_voter(t.r[i], 2));
	}
	propose_cc(t.r[1], RAFT_CONF_REMOVE_NODE, 1);
	tick_all(&t, 2);
	ck_assert_int_eq(raft_role(t.r[1]), RAFT_FOLLOWER);
	ck_assert(!raft_is_voter(t.r[1], 1));
	tick_all(&t, 4 * ELECTION);
	for (int i = 2; i <= 3; i++)
		if (raft_role(t.r[i]) == RAFT_LEADER)
			lead = (uint64_t)i;
	ck_assert_uint_ne(lead, 0);
	ck_assert_uint_eq(raft_voters(t.r[lead], ids, 8), 2);
	ck_assert(!raft_is_voter(t.r[lead], 1));
	idx = propose_u64(t.r[lead], 11);
	tick_all(&t, 2);
	ck_assert_uint_ge(t.applied[2], idx);
	ck_assert_uint_ge(t.applied[3], idx);
	net_close(&t);
}
END_TEST

START_TEST(test_step_rejects_garbage)
{
	struct raft *r = mk(1, 3, 0, 0, NULL, NULL, 0);
	struct raft_entry e = { 9, 1, 0, NULL, 0 };
	struct raft_msg m = { .type = 99, .from = 2, .to = 1, .term = 1 };

	ck_assert_int_eq(raft_step(r, &m), CE_INVAL);
	m.type = RAFT_MSG_APPEND;
	m.from = 1;
	ck_assert_int_eq(raft_step(r, &m), CE_INVAL); /* from self */
	m.from = 2;
	m.index = 3; /* entries must follow index */
	m.entries = &e;
	m.nentries = 1;
	ck_assert_int_eq(raft_step(r, &m), CE_INVAL);
	m.type = RAFT_MSG_SNAPSHOT; /* needs meta */
	m.nentries = 0;
	ck_assert_int_eq(raft_step(r, &m), CE_INVAL);
	raft_free(r);
}
END_TEST

Suite *suite_raft(void)
{
	Suite *s = suite_create("raft");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_single_node_commit);
	tcase_add_test(tc, test_single_node_restart);
	tcase_add_test(tc, test_bad_config);
	tcase_add_test(tc, test_three_nodes_elect_and_replicate);
	tcase_add_test(tc, test_election_by_timeout);
	tcase_add_test(tc, test_figure7_repair);
	tcase_add_test(tc, test_figure8_no_commit_by_counting);
	tcase_add_test(tc, test_vote_rejected_for_stale_log);
	tcase_add_test(tc, test_stale_vote_gets_term);
	tcase_add_test(tc, test_prevote_no_disruption);
	tcase_add_test(tc, test_check_quorum_step_down);
	tcase_add_test(tc, test_check_quorum_lease);
	tcase_add_test(tc, test_pipeline_bounded);
	tcase_add_test(tc, test_read_index);
	tcase_add_test(tc, test_leader_transfer);
	tcase_add_test(tc, test_snapshot_catch_up);
	tcase_add_test(tc, test_conf_change);
	tcase_add_test(tc, test_figure7_all_followers);
	tcase_add_test(tc, test_figure8_overwrite_uncommitted);
	tcase_add_test(tc, test_figure8_commit_current_term);
	tcase_add_test(tc, test_leader_transfer_lagging_and_timeout);
	tcase_add_test(tc, test_conf_update_and_remove_leader);
	tcase_add_test(tc, test_step_rejects_garbage);
	suite_add_tcase(s, tc);
	return s;
}
