/* sim.c - the simulated cluster behind test_sim.c (see sim.h). Each node's
 * "driver" here follows src/raft/README: persist snapshot, entries and hard
 * state, then send, then apply, then advance. */
#include "config.h"
#include "sim.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIM_ELECTION 10
#define SIM_HEARTBEAT 1

static uint64_t sim_rand(struct sim *s)
{
	uint64_t z = (s->rng += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static int pct(struct sim *s, int p)
{
	return (int)(sim_rand(s) % 100) < p;
}

static int fail(struct sim *s, const char *fmt, ...)
{
	va_list ap;
	if (s->failed)
		return -1;
	va_start(ap, fmt);
	vsnprintf(s->err, sizeof(s->err), fmt, ap);
	va_end(ap);
	s->failed = 1;
	return -1;
}

static void trace(struct sim *s, const char *fmt, ...)
{
	va_list ap;
	if (!s->trace)
		return;
	fprintf(stderr, "[t=%llu] ", (unsigned long long)s->now);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static uint64_t val_of(const struct raft_entry *e)
{
	uint64_t v = 0;
	if (e->len == sizeof(v))
		memcpy(&v, e->data, sizeof(v));
	return v;
}

/* --- persisted state --- */

static void plog_truncate(struct sim_node *n, uint64_t index)
{
	while (n->nlog > 0 && n->snap_index + n->nlog >= index) {
		n->nlog--;
		free(n->log[n->nlog].data);
	}
}

static void plog_append(struct sim_node *n, const struct raft_entry *e)
{
	struct raft_entry *c;
	if (n->nlog == n->caplog) {
		n->caplog = n->caplog ? n->caplog * 2 : 64;
		n->log = realloc(n->log, n->caplog * sizeof(*n->log));
		if (n->log == NULL)
			abort();
	}
	c = &n->log[n->nlog++];
	*c = *e;
	c->data = NULL;
	if (e->len) {
		c->data = malloc(e->len);
		if (c->data == NULL)
			abort();
		memcpy(c->data, e->data, e->len);
	}
}

static void plog_compact(struct sim_node *n, uint64_t index, uint64_t term)
{
	size_t drop = (size_t)(index - n->snap_index);
	if (drop > n->nlog)
		drop = n->nlog;
	for (size_t i = 0; i < drop; i++)
		free(n->log[i].data);
	memmove(n->log, n->log + drop, (n->nlog - drop) * sizeof(*n->log));
	n->nlog -= drop;
	n->snap_index = index;
	n->snap_term = term;
}

/* --- nodes --- */

static void voters(const struct sim *s, uint64_t *ids)
{
	for (size_t i = 0; i < s->n; i++)
		ids[i] = s->nodes[i].id;
}

static int node_start(struct sim *s, struct sim_node *n)
{
	uint64_t ids[SIM_MAX_NODES];
	struct raft_config cfg = { 0 };
	struct raft_snapshot_meta meta = { 0 };
	char err[256];
	int rc;

	voters(s, ids);
	cfg.id = n->id;
	cfg.peers = ids;
	cfg.npeers = s->n;
	cfg.election_tick = s->election_tick;
	cfg.heartbeat_tick = s->heartbeat_tick;
	cfg.pre_vote = s->pre_vote;
	cfg.check_quorum = s->check_quorum;
	cfg.max_inflight = 4;
	cfg.max_msg_bytes = 64;
	cfg.seed = sim_rand(s);
	meta.index = n->snap_index;
	meta.term = n->snap_term;
	meta.voters = ids;
	meta.nvoters = s->n;
	rc = raft_new(&n->r, &cfg, &n->hs, n->log, n->nlog,
		n->snap_index ? &meta : NULL, err, sizeof(err));
	if (rc != 0)
		return fail(s, "node %llu restart: %s", (unsigned long long)n->id, err);
	n->applied = n->snap_index;
	n->nlead_terms = 0;
	n->lead_term = 0;
	trace(s, "node %llu up (term %llu, log %llu..%llu)", (unsigned long long)n->id,
		(unsigned long long)n->hs.term, (unsigned long long)n->snap_index + 1,
		(unsigned long long)(n->snap_index + n->nlog));
	return 0;
}

static void node_crash(struct sim *s, struct sim_node *n)
{
	trace(s, "node %llu crash", (unsigned long long)n->id);
	raft_free(n->r);
	n->r = NULL;
}

static struct sim_node *node_by_id(struct sim *s, uint64_t id)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->nodes[i].id == id)
			return &s->nodes[i];
	return NULL;
}

/* --- network --- */

static void net_free_msg(struct sim_msg *sm)
{
	for (size_t i = 0; i < sm->m.nentries; i++)
		free(sm->m.entries[i].data);
	free(sm->m.entries);
}

static void net_push(struct sim *s, const struct raft_msg *m, uint64_t at,
	const struct sim_node *from)
{
	struct sim_msg *sm;
	if (s->nnet == s->capnet) {
		s->capnet = s->capnet ? s->capnet * 2 : 64;
		s->net = realloc(s->net, s->capnet * sizeof(*s->net));
		if (s->net == NULL)
			abort();
	}
	sm = &s->net[s->nnet++];
	sm->at = at;
	sm->lost = 0;
	sm->m = *m;
	sm->m.snap = NULL;
	sm->snap_index = from->snap_index;
	sm->snap_term = from->snap_term;
	sm->m.entries = NULL;
	if (m->nentries) {
		sm->m.entries = calloc(m->nentries, sizeof(*m->entries));
		if (sm->m.entries == NULL)
			abort();
		for (size_t i = 0; i < m->nentries; i++) {
			sm->m.entries[i] = m->entries[i];
			if (m->entries[i].len) {
				sm->m.entries[i].data = malloc(m->entries[i].len);
				if (sm->m.entries[i].data == NULL)
					abort();
				memcpy(sm->m.entries[i].data, m->entries[i].data, m->entries[i].len);
			}
		}
	}
}

static void net_send(struct sim *s, struct sim_node *from, const struct raft_msg *m)
{
	uint64_t delay = s->max_delay ? sim_rand(s) % (uint64_t)(s->max_delay + 1) : 0;
	if (pct(s, s->drop_pct)) {
		trace(s, "drop %s %llu->%llu", raft_msg_type_name(m->type),
			(unsigned long long)m->from, (unsigned long long)m->to);
		if (m->type != RAFT_MSG_SNAPSHOT)
			return;
		/* A snapshot stream that breaks is noticed by the sending
		 * driver, which reports it (on delivery, see deliver()). */
		net_push(s, m, s->now + delay, from);
		s->net[s->nnet - 1].lost = 1;
		return;
	}
	net_push(s, m, s->now + delay, from);
	if (pct(s, s->dup_pct))
		net_push(s, m, s->now + (s->max_delay ? sim_rand(s) % (uint64_t)(s->max_delay + 1) : 0), from);
}

/* --- ready processing --- */

static int apply_entry(struct sim *s, struct sim_node *n, const struct raft_entry *e)
{
	struct sim_commit *c;

	if (e->index != n->applied + 1)
		return fail(s, "node %llu applies %llu after %llu", (unsigned long long)n->id,
			(unsigned long long)e->index, (unsigned long long)n->applied);
	if (e->index >= s->ncommits) {
		size_t cap = s->ncommits ? s->ncommits : 64;
		while (cap <= e->index)
			cap *= 2;
		s->commits = realloc(s->commits, cap * sizeof(*s->commits));
		if (s->commits == NULL)
			abort();
		memset(s->commits + s->ncommits, 0, (cap - s->ncommits) * sizeof(*s->commits));
		s->ncommits = cap;
	}
	c = &s->commits[e->index];
	if (!c->set) {
		c->set = 1;
		c->term = e->term;
		c->value = val_of(e);
		c->seen_term = raft_term(n->r);
	} else if (c->term != e->term || c->value != val_of(e)) {
		/* State Machine Safety */
		return fail(s, "state machine safety: node %llu applies index %llu term %llu "
			"value %llu, earlier term %llu value %llu", (unsigned long long)n->id,
			(unsigned long long)e->index, (unsigned long long)e->term,
			(unsigned long long)val_of(e), (unsigned long long)c->term,
			(unsigned long long)c->value);
	}
	n->applied = e->index;
	s->applies++;
	return 0;
}

/* Linearizable reads: a read point covers every entry committed anywhere
 * before the read was asked for. */
static int check_read(struct sim *s, struct sim_node *n, const struct raft_read_state *rs)
{
	size_t k;
	for (k = 0; k < s->nreadreq; k++)
		if (s->readreq[k].ctx == rs->ctx)
			break;
	if (k == s->nreadreq)
		return 0; /* answered already: the network duplicated the request */
	if (s->readreq[k].node != n->id)
		return fail(s, "read ctx %llu answered on node %llu", (unsigned long long)rs->ctx,
			(unsigned long long)n->id);
	if (rs->index < s->readreq[k].min_index)
		return fail(s, "stale read: ctx %llu got index %llu, %llu was committed before",
			(unsigned long long)rs->ctx, (unsigned long long)rs->index,
			(unsigned long long)s->readreq[k].min_index);
	s->reads_done++;
	memmove(s->readreq + k, s->readreq + k + 1, (s->nreadreq - k - 1) * sizeof(*s->readreq));
	s->nreadreq--;
	return 0;
}

static void read_index(struct sim *s, struct sim_node *n)
{
	uint64_t min = 0;
	int rc;
	if (n->r == NULL)
		return;
	if (s->nreadreq == SIM_MAX_READS) {
		/* the oldest was lost with some message: forget it */
		memmove(s->readreq, s->readreq + 1, (SIM_MAX_READS - 1) * sizeof(*s->readreq));
		s->nreadreq--;
	}
	for (size_t i = 0; i < s->n; i++)
		if (s->nodes[i].r && raft_commit(s->nodes[i].r) > min)
			min = raft_commit(s->nodes[i].r);
	rc = raft_read_index(n->r, ++s->next_ctx);
	trace(s, "node %llu read index ctx %llu: %d", (unsigned long long)n->id,
		(unsigned long long)s->next_ctx, rc);
	if (rc != 0)
		return;
	s->readreq[s->nreadreq++] = (struct sim_read){ s->next_ctx, n->id, min };
}

static int process_ready(struct sim *s, struct sim_node *n)
{
	struct raft_ready rd;

	raft_ready(n->r, &rd);
	if (rd.snapshot) {
		plog_truncate(n, 0);
		n->nlog = 0;
		n->snap_index = rd.snapshot->index;
		n->snap_term = rd.snapshot->term;
		n->applied = rd.snapshot->index;
		trace(s, "node %llu installs snapshot %llu/%llu", (unsigned long long)n->id,
			(unsigned long long)n->snap_index, (unsigned long long)n->snap_term);
	}
	if (rd.nentries) {
		if (rd.entries[0].index <= n->snap_index)
			return fail(s, "node %llu persists %llu below snapshot %llu",
				(unsigned long long)n->id, (unsigned long long)rd.entries[0].index,
				(unsigned long long)n->snap_index);
		if (rd.entries[0].index > n->snap_index + n->nlog + 1)
			return fail(s, "node %llu persists %llu leaving a gap after %llu",
				(unsigned long long)n->id, (unsigned long long)rd.entries[0].index,
				(unsigned long long)(n->snap_index + n->nlog));
		plog_truncate(n, rd.entries[0].index);
		for (size_t i = 0; i < rd.nentries; i++)
			plog_append(n, &rd.entries[i]);
	}
	if (rd.hs_changed)
		n->hs = rd.hs;
	if (pct(s, s->crash_mid_ready_pct)) {
		node_crash(s, n); /* durable, but nothing sent or applied */
		return 0;
	}
	for (size_t i = 0; i < rd.nmsgs; i++)
		net_send(s, n, &rd.msgs[i]);
	for (size_t i = 0; i < rd.nreads; i++)
		if (check_read(s, n, &rd.reads[i]) != 0)
			return -1;
	for (size_t i = 0; i < rd.ncommitted; i++)
		if (apply_entry(s, n, &rd.committed[i]) != 0)
			return -1;
	raft_advance(n->r, &rd);
	return 0;
}

static int process_all(struct sim *s)
{
	int again = 1;
	for (int round = 0; again && round < 100; round++) {
		again = 0;
		for (size_t i = 0; i < s->n; i++) {
			struct sim_node *n = &s->nodes[i];
			if (n->r == NULL || !raft_has_ready(n->r))
				continue;
			again = 1;
			if (process_ready(s, n) != 0)
				return -1;
		}
	}
	return sim_check(s);
}

/* --- actions --- */

static int deliver(struct sim *s, size_t k)
{
	struct sim_msg sm = s->net[k];
	struct sim_node *to, *from;
	struct raft_snapshot_meta meta;
	uint64_t ids[SIM_MAX_NODES];
	int rc = 0;

	s->net[k] = s->net[--s->nnet];
	to = node_by_id(s, sm.m.to);
	from = node_by_id(s, sm.m.from);
	if (to == NULL || from == NULL) {
		net_free_msg(&sm);
		return fail(s, "message to unknown node %llu", (unsigned long long)sm.m.to);
	}
	if (sm.lost || to->r == NULL || to->group != from->group) {
		if (sm.m.type == RAFT_MSG_SNAPSHOT && from->r)
			raft_report_snapshot(from->r, to->id, 0);
		net_free_msg(&sm);
		return 0;
	}
	if (sm.m.type == RAFT_MSG_SNAPSHOT) {
		voters(s, ids);
		meta = (struct raft_snapshot_meta){ sm.snap_index, sm.snap_term, ids, s->n, NULL, 0 };
		sm.m.snap = &meta;
	}
	trace(s, "deliver %s %llu->%llu term %llu idx %llu/%llu n=%zu commit %llu%s",
		raft_msg_type_name(sm.m.type), (unsigned long long)sm.m.from,
		(unsigned long long)sm.m.to, (unsigned long long)sm.m.term,
		(unsigned long long)sm.m.index, (unsigned long long)sm.m.log_term,
		sm.m.nentries, (unsigned long long)sm.m.commit, sm.m.reject ? " reject" : "");
	rc = raft_step(to->r, &sm.m);
	if (rc != 0)
		rc = fail(s, "node %llu step %s from %llu: error %d", (unsigned long long)to->id,
			raft_msg_type_name(sm.m.type), (unsigned long long)sm.m.from, rc);
	if (rc == 0 && sm.m.type == RAFT_MSG_SNAPSHOT && from->r)
		raft_report_snapshot(from->r, to->id, 1);
	net_free_msg(&sm);
	return rc;
}

static int deliver_random(struct sim *s)
{
	size_t due = 0, pick;
	for (size_t i = 0; i < s->nnet; i++)
		due += s->net[i].at <= s->now;
	if (due == 0)
		return 0;
	pick = (size_t)(sim_rand(s) % due);
	for (size_t i = 0; i < s->nnet; i++) {
		if (s->net[i].at > s->now)
			continue;
		if (pick-- == 0)
			return deliver(s, i);
	}
	return 0;
}

static void tick_all(struct sim *s)
{
	s->now++;
	for (size_t i = 0; i < s->n; i++)
		if (s->nodes[i].r)
			raft_tick(s->nodes[i].r);
}

static void propose(struct sim *s, struct sim_node *n)
{
	uint64_t v = ++s->next_value, idx;
	if (n->r == NULL)
		return;
	if (raft_propose(n->r, RAFT_ENTRY_NORMAL, &v, sizeof(v), &idx) == 0) {
		s->proposals++;
		trace(s, "node %llu proposes %llu at %llu", (unsigned long long)n->id,
			(unsigned long long)v, (unsigned long long)idx);
	}
}

static void partition(struct sim *s)
{
	int heal = pct(s, 40);
	for (size_t i = 0; i < s->n; i++)
		s->nodes[i].group = heal ? 0 : (int)(sim_rand(s) % 2);
	trace(s, heal ? "heal" : "partition");
}

static void compact(struct sim *s, struct sim_node *n)
{
	uint64_t idx, term;
	const struct raft_entry *e;
	if (n->r == NULL || !s->compact || n->applied < n->snap_index + 4)
		return;
	idx = n->applied - sim_rand(s) % 3;
	e = raft_entry_at(n->r, idx);
	if (e == NULL)
		return;
	term = e->term; /* e dies with the compaction */
	if (raft_compact(n->r, idx) != 0)
		return;
	/* The driver first saves a snapshot of its state at idx. */
	plog_compact(n, idx, term);
	trace(s, "node %llu compacts to %llu", (unsigned long long)n->id, (unsigned long long)idx);
}

int sim_chaos_step(struct sim *s)
{
	struct sim_node *n = &s->nodes[sim_rand(s) % s->n];
	int roll = (int)(sim_rand(s) % 100);

	if (roll < 50) {
		if (deliver_random(s) != 0)
			return -1;
	} else if (roll < 76) {
		tick_all(s);
	} else if (roll < 86) {
		/* mostly at a leader, so that logs grow and diverge */
		for (size_t i = 0; i < s->n && pct(s, 80); i++)
			if (s->nodes[i].r && raft_role(s->nodes[i].r) == RAFT_LEADER)
				n = &s->nodes[i];
		propose(s, n);
	} else if (roll < 89) {
		partition(s);
	} else if (roll < 91) {
		if (n->r)
			node_crash(s, n);
	} else if (roll < 95) {
		if (n->r == NULL && node_start(s, n) != 0)
			return -1;
	} else if (roll < 97) {
		compact(s, n);
	} else {
		/* any node that believes it leads, stale ones included */
		for (size_t i = 0; i < s->n && pct(s, 70); i++)
			if (s->nodes[(i + s->now) % s->n].r &&
			    raft_role(s->nodes[(i + s->now) % s->n].r) == RAFT_LEADER)
				n = &s->nodes[(i + s->now) % s->n];
		read_index(s, n);
	}
	return process_all(s);
}

/* --- invariants --- */

static uint64_t term_at(const struct raft *r, uint64_t i)
{
	const struct raft_entry *e = raft_entry_at(r, i);
	return e ? e->term : 0;
}

static int check_election_safety(struct sim *s, struct sim_node *n)
{
	uint64_t t = raft_term(n->r);
	if (t >= s->nterm_leader) {
		size_t cap = s->nterm_leader ? s->nterm_leader : 64;
		while (cap <= t)
			cap *= 2;
		s->term_leader = realloc(s->term_leader, cap * sizeof(*s->term_leader));
		if (s->term_leader == NULL)
			abort();
		memset(s->term_leader + s->nterm_leader, 0, (cap - s->nterm_leader) * sizeof(uint64_t));
		s->nterm_leader = cap;
	}
	if (s->term_leader[t] == 0) {
		s->term_leader[t] = n->id;
		s->elections++;
	} else if (s->term_leader[t] != n->id) {
		return fail(s, "election safety: term %llu has leaders %llu and %llu",
			(unsigned long long)t, (unsigned long long)s->term_leader[t],
			(unsigned long long)n->id);
	}
	return 0;
}

/* Leader Append-Only: while a node leads one term its log only grows. */
static int check_append_only(struct sim *s, struct sim_node *n)
{
	uint64_t t = raft_term(n->r), first = raft_first_index(n->r);
	uint64_t last = raft_last_index(n->r);

	if (n->lead_term == t) {
		for (size_t k = 0; k < n->nlead_terms; k++) {
			uint64_t i = n->lead_first + k;
			if (i < first)
				continue;
			if (i > last || term_at(n->r, i) != n->lead_terms[k])
				return fail(s, "leader append-only: leader %llu term %llu changed index %llu",
					(unsigned long long)n->id, (unsigned long long)t, (unsigned long long)i);
		}
	}
	n->lead_term = t;
	n->lead_first = first;
	n->nlead_terms = (size_t)(last - first + 1);
	n->lead_terms = realloc(n->lead_terms, (n->nlead_terms + 1) * sizeof(uint64_t));
	if (n->lead_terms == NULL)
		abort();
	for (size_t k = 0; k < n->nlead_terms; k++)
		n->lead_terms[k] = term_at(n->r, first + k);
	return 0;
}

/* Leader Completeness: a leader holds every entry committed in its term
 * or earlier (seen_term is a safe upper bound of the committing term). */
static int check_completeness(struct sim *s, struct sim_node *n)
{
	uint64_t t = raft_term(n->r), first = raft_first_index(n->r);
	for (uint64_t i = first; i < s->ncommits; i++) {
		const struct sim_commit *c = &s->commits[i];
		if (!c->set || c->seen_term > t)
			continue;
		if (term_at(n->r, i) != c->term)
			return fail(s, "leader completeness: leader %llu term %llu lacks committed "
				"index %llu term %llu", (unsigned long long)n->id, (unsigned long long)t,
				(unsigned long long)i, (unsigned long long)c->term);
	}
	return 0;
}

static int entries_equal(const struct raft_entry *a, const struct raft_entry *b)
{
	return a->term == b->term && a->type == b->type && a->len == b->len &&
		(a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

/* Log Matching: two logs holding an entry with the same index and term
 * are identical up to it. */
static int check_log_matching(struct sim *s, struct sim_node *a, struct sim_node *b)
{
	uint64_t fa = raft_first_index(a->r), fb = raft_first_index(b->r);
	uint64_t la = raft_last_index(a->r), lb = raft_last_index(b->r);
	uint64_t lo = fa > fb ? fa : fb, hi = la < lb ? la : lb, i;

	for (i = hi; i >= lo && i > 0; i--)
		if (term_at(a->r, i) == term_at(b->r, i))
			break;
	for (; i >= lo && i > 0; i--) {
		if (!entries_equal(raft_entry_at(a->r, i), raft_entry_at(b->r, i)))
			return fail(s, "log matching: nodes %llu and %llu differ at %llu",
				(unsigned long long)a->id, (unsigned long long)b->id,
				(unsigned long long)i);
	}
	return 0;
}

int sim_check(struct sim *s)
{
	for (size_t i = 0; i < s->n && !s->failed; i++) {
		struct sim_node *n = &s->nodes[i];
		if (n->r == NULL)
			continue;
		if (raft_commit(n->r) > raft_last_index(n->r))
			return fail(s, "node %llu commit past its log", (unsigned long long)n->id);
		if (raft_role(n->r) == RAFT_LEADER) {
			if (check_election_safety(s, n) || check_append_only(s, n) ||
			    check_completeness(s, n))
				return -1;
		} else {
			n->lead_term = 0;
		}
		for (size_t j = i + 1; j < s->n; j++)
			if (s->nodes[j].r && check_log_matching(s, n, &s->nodes[j]))
				return -1;
	}
	return s->failed ? -1 : 0;
}

/* --- lifecycle --- */

int sim_init(struct sim *s, size_t n, uint64_t seed)
{
	memset(s, 0, sizeof(*s));
	if (n == 0 || n > SIM_MAX_NODES)
		return -1;
	s->n = n;
	s->seed = seed;
	s->rng = seed;
	s->election_tick = SIM_ELECTION;
	s->heartbeat_tick = SIM_HEARTBEAT;
	s->pre_vote = (int)(sim_rand(s) & 1);
	s->check_quorum = (int)(sim_rand(s) & 1);
	s->compact = (int)(sim_rand(s) % 4 != 0);
	s->drop_pct = (int)(sim_rand(s) % 20);
	s->dup_pct = (int)(sim_rand(s) % 10);
	s->max_delay = (int)(sim_rand(s) % 4);
	s->crash_mid_ready_pct = (int)(sim_rand(s) % 2);
	s->trace = getenv("RAFT_SIM_TRACE") != NULL;
	for (size_t i = 0; i < n; i++)
		s->nodes[i].id = i + 1;
	for (size_t i = 0; i < n; i++) {
		if (node_start(s, &s->nodes[i]) != 0)
			return -1;
	}
	return 0;
}

void sim_close(struct sim *s)
{
	for (size_t i = 0; i < s->n; i++) {
		struct sim_node *n = &s->nodes[i];
		raft_free(n->r);
		plog_truncate(n, 0);
		free(n->log);
		free(n->lead_terms);
	}
	for (size_t i = 0; i < s->nnet; i++)
		net_free_msg(&s->net[i]);
	free(s->net);
	free(s->term_leader);
	free(s->commits);
	memset(s, 0, sizeof(*s));
}

int sim_heal(struct sim *s)
{
	s->drop_pct = s->dup_pct = s->crash_mid_ready_pct = 0;
	s->max_delay = 0;
	for (size_t i = 0; i < s->n; i++) {
		s->nodes[i].group = 0;
		if (s->nodes[i].r == NULL && node_start(s, &s->nodes[i]) != 0)
			return -1;
	}
	trace(s, "heal all");
	return process_all(s);
}

int sim_tick_round(struct sim *s)
{
	tick_all(s);
	if (process_all(s) != 0)
		return -1;
	for (int round = 0; round < 50 && s->nnet > 0; round++) {
		while (s->nnet > 0)
			if (deliver(s, 0) != 0)
				return -1;
		if (process_all(s) != 0)
			return -1;
	}
	return 0;
}

static struct sim_node *leader_of(struct sim *s)
{
	struct sim_node *best = NULL;
	for (size_t i = 0; i < s->n; i++) {
		struct sim_node *n = &s->nodes[i];
		if (n->r && raft_role(n->r) == RAFT_LEADER &&
		    (best == NULL || raft_term(n->r) > raft_term(best->r)))
			best = n;
	}
	return best;
}

int sim_converge(struct sim *s, uint64_t max_ticks)
{
	uint64_t start = s->now, want = 0, v = 0, lead = 0, term = 0;

	while (s->now - start < max_ticks) {
		struct sim_node *l = leader_of(s);
		if (want != 0 && (l == NULL || l->id != lead || raft_term(l->r) != term))
			want = 0; /* leadership moved: the entry may be lost, propose anew */
		if (want == 0 && l != NULL) {
			v = ++s->next_value;
			if (raft_propose(l->r, RAFT_ENTRY_NORMAL, &v, sizeof(v), &want) != 0)
				want = 0;
			lead = l->id;
			term = raft_term(l->r);
			if (process_all(s) != 0)
				return -1;
		}
		if (want != 0) {
			size_t done = 0;
			for (size_t i = 0; i < s->n; i++)
				done += s->nodes[i].applied >= want;
			if (done == s->n) {
				if (s->commits[want].value == v)
					return 0;
				want = 0;
			}
		}
		if (sim_tick_round(s) != 0)
			return -1;
	}
	return fail(s, "no progress within %llu ticks after healing (leader %llu)",
		(unsigned long long)max_ticks,
		leader_of(s) ? (unsigned long long)leader_of(s)->id : 0ULL);
}
