/* sim.c - the simulated cluster behind test_sim.c (see sim.h). Each node's
 * "driver" here follows src/raft/README: persist snapshot, entries and hard
 * state, then send, then apply (conf changes through
 * raft_apply_conf_change), then answer reads, then advance. A slow disk holds
 * a ready for some virtual ticks; meanwhile the node takes no input (messages
 * to it wait in the network) and its ticks are deferred by the core. */
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

#define U(x) ((unsigned long long)(x))

/* val_of: what the state machine sees of an entry: the proposed number
 * for normal 8-byte entries, a hash of type and bytes for anything else. */
static uint64_t val_of(const struct raft_entry *e)
{
	uint64_t v = 0;
	const unsigned char *p = e->data;
	if (e->type == RAFT_ENTRY_NORMAL && e->len == sizeof(v)) {
		memcpy(&v, e->data, sizeof(v));
		return v;
	}
	v = UINT64_C(1469598103934665603) ^ e->type;
	for (size_t i = 0; i < e->len; i++)
		v = (v ^ p[i]) * UINT64_C(1099511628211);
	return v | UINT64_C(1) << 63;
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

/* --- membership --- */

void sim_membership_at(const struct sim *s, uint64_t index, uint64_t *voters,
	uint64_t *learners)
{
	uint64_t v = (UINT64_C(1) << s->n) - 1, l = 0;
	for (size_t i = 0; i < s->nccs && s->ccs[i].index <= index; i++) {
		uint64_t b = UINT64_C(1) << (s->ccs[i].cc.node_id - 1);
		switch (s->ccs[i].cc.type) {
		case RAFT_CONF_ADD_NODE:
		case RAFT_CONF_PROMOTE:
			v |= b;
			l &= ~b;
			break;
		case RAFT_CONF_ADD_LEARNER:
			if (!(v & b))
				l |= b;
			break;
		case RAFT_CONF_REMOVE_NODE:
			v &= ~b;
			l &= ~b;
			break;
		default:
			break;
		}
	}
	*voters = v;
	*learners = l;
}

/* snap_meta fills meta with the membership as of index (ids from ids[]). */
static void snap_meta(const struct sim *s, uint64_t index, uint64_t term,
	uint64_t ids[SIM_MAX_NODES], struct raft_snapshot_meta *meta)
{
	uint64_t v, l;
	size_t nv = 0, nl = 0;
	sim_membership_at(s, index, &v, &l);
	for (size_t i = 0; i < s->nslots; i++)
		if (v >> i & 1)
			ids[nv++] = i + 1;
	for (size_t i = 0; i < s->nslots; i++)
		if (l >> i & 1)
			ids[nv + nl++] = i + 1;
	*meta = (struct raft_snapshot_meta){ index, term, ids, nv, ids + nv, nl };
}

/* --- nodes --- */

static int node_start(struct sim *s, struct sim_node *n)
{
	uint64_t peers[SIM_MAX_NODES], ids[SIM_MAX_NODES];
	struct raft_config cfg = { 0 };
	struct raft_snapshot_meta meta;
	char err[256];
	int rc;

	/* Everyone boots from the initial configuration (a joiner too) and
	 * replays the committed changes after its snapshot. */
	for (size_t i = 0; i < s->n; i++)
		peers[i] = i + 1;
	cfg.id = n->id;
	cfg.peers = peers;
	cfg.npeers = s->n;
	cfg.election_tick = s->election_tick;
	cfg.heartbeat_tick = s->heartbeat_tick;
	cfg.pre_vote = s->pre_vote;
	cfg.check_quorum = s->check_quorum;
	cfg.max_inflight = s->max_inflight;
	cfg.max_msg_bytes = s->max_msg_bytes;
	cfg.seed = sim_rand(s);
	/* Half the time the state machine kept what it applied before the
	 * crash (as the storage worker's database does): the core then hands
	 * out only what follows, and the driver re-applies the membership
	 * changes between the snapshot and there (src/raft/README). */
	if (n->sm_applied > n->snap_index && pct(s, 50))
		cfg.applied = n->snap_index + 1 + sim_rand(s) % (n->sm_applied - n->snap_index);
	snap_meta(s, n->snap_index, n->snap_term, ids, &meta);
	rc = raft_new(&n->r, &cfg, &n->hs, n->log, n->nlog,
		n->snap_index ? &meta : NULL, err, sizeof(err));
	if (rc != 0)
		return fail(s, "node %llu restart: %s", U(n->id), err);
	n->started = 1;
	n->busy = 0;
	n->applied = n->snap_index;
	for (size_t i = 0; i < n->nlog && n->log[i].index <= cfg.applied; i++) {
		struct raft_conf_change cc;
		const struct raft_entry *e = &n->log[i];
		n->applied = e->index;
		if (e->type != RAFT_ENTRY_CONF_CHANGE)
			continue;
		if (raft_conf_change_decode(&cc, e->data, e->len) != 0 ||
		    raft_apply_conf_change(n->r, &cc) != 0)
			return fail(s, "node %llu restart: re-apply conf change at %llu",
				U(n->id), U(e->index));
	}
	if (raft_applied(n->r) != n->applied)
		return fail(s, "node %llu restarted with applied %llu, core says %llu",
			U(n->id), U(n->applied), U(raft_applied(n->r)));
	n->last_commit = n->hs.commit;
	n->lm_checked = 0;
	n->lc_term = 0;
	n->nlead_terms = 0;
	n->lead_term = 0;
	memset(n->snap_report, 0, sizeof(n->snap_report));
	trace(s, "node %llu up (term %llu, log %llu..%llu, applied %llu)", U(n->id),
		U(n->hs.term), U(n->snap_index + 1), U(n->snap_index + n->nlog), U(n->applied));
	return 0;
}

/* node_crash: everything not yet persisted is lost, a ready being written
 * by a slow disk included. */
static void node_crash(struct sim *s, struct sim_node *n)
{
	trace(s, "node %llu crash%s", U(n->id), n->busy ? " (mid-write)" : "");
	n->sm_applied = n->applied;
	raft_free(n->r);
	n->r = NULL;
	n->busy = 0;
	s->crashes++;
}

static struct sim_node *node_by_id(struct sim *s, uint64_t id)
{
	if (id == 0 || id > s->nslots)
		return NULL;
	return &s->nodes[id - 1];
}

/* usable: up and not in the middle of a ready (so input calls are legal). */
static int usable(const struct sim_node *n)
{
	return n->r != NULL && !n->busy;
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

static uint64_t net_delay(struct sim *s)
{
	return s->max_delay ? sim_rand(s) % (uint64_t)(s->max_delay + 1) : 0;
}

static void net_send(struct sim *s, struct sim_node *from, const struct raft_msg *m)
{
	uint64_t delay = net_delay(s);
	if (pct(s, s->drop_pct)) {
		trace(s, "drop %s %llu->%llu", raft_msg_type_name(m->type), U(m->from), U(m->to));
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
		net_push(s, m, s->now + net_delay(s), from);
}

/* --- ready processing --- */

static struct sim_commit *commit_slot(struct sim *s, uint64_t index)
{
	if (index >= s->ncommits) {
		size_t cap = s->ncommits ? s->ncommits : 64;
		while (cap <= index)
			cap *= 2;
		s->commits = realloc(s->commits, cap * sizeof(*s->commits));
		if (s->commits == NULL)
			abort();
		memset(s->commits + s->ncommits, 0, (cap - s->ncommits) * sizeof(*s->commits));
		s->ncommits = cap;
	}
	return &s->commits[index];
}

/* record_cc: a membership change committed (first applied anywhere). The
 * driver of a removed member shuts it down for good, as etcd's does. */
static void record_cc(struct sim *s, uint64_t index, const struct raft_conf_change *cc)
{
	if (s->nccs == s->capccs) {
		s->capccs = s->capccs ? s->capccs * 2 : 16;
		s->ccs = realloc(s->ccs, s->capccs * sizeof(*s->ccs));
		if (s->ccs == NULL)
			abort();
	}
	s->ccs[s->nccs++] = (struct sim_cc){ index, *cc };
	trace(s, "conf change committed at %llu: type %d node %llu", U(index), cc->type,
		U(cc->node_id));
	if (cc->type == RAFT_CONF_REMOVE_NODE)
		node_by_id(s, cc->node_id)->removed = 1; /* stopped after this ready */
}

static int apply_conf(struct sim *s, struct sim_node *n, const struct raft_entry *e, int first)
{
	struct raft_conf_change cc;
	int rc;

	if (raft_conf_change_decode(&cc, e->data, e->len) != 0)
		return fail(s, "node %llu: undecodable conf change at %llu", U(n->id), U(e->index));
	if (cc.node_id == 0 || cc.node_id > s->nslots)
		return fail(s, "conf change for unknown node %llu", U(cc.node_id));
	rc = raft_apply_conf_change(n->r, &cc);
	if (rc != 0)
		return fail(s, "node %llu: apply conf change %d node %llu at %llu: error %d",
			U(n->id), cc.type, U(cc.node_id), U(e->index), rc);
	if (first)
		record_cc(s, e->index, &cc);
	s->conf_applied++;
	return 0;
}

static int apply_entry(struct sim *s, struct sim_node *n, const struct raft_entry *e)
{
	struct sim_commit *c;
	int first = 0;

	if (e->index != n->applied + 1)
		return fail(s, "node %llu applies %llu after %llu", U(n->id), U(e->index),
			U(n->applied));
	c = commit_slot(s, e->index);
	if (!c->set) {
		c->set = 1;
		c->term = e->term;
		c->value = val_of(e);
		c->seen_term = raft_term(n->r);
		first = 1;
		if (e->index > s->max_applied)
			s->max_applied = e->index;
	} else if (c->term != e->term || c->value != val_of(e)) {
		/* State Machine Safety */
		return fail(s, "state machine safety: node %llu applies index %llu term %llu "
			"value %llx, earlier term %llu value %llx", U(n->id), U(e->index),
			U(e->term), U(val_of(e)), U(c->term), U(c->value));
	}
	if (e->type == RAFT_ENTRY_CONF_CHANGE && apply_conf(s, n, e, first) != 0)
		return -1;
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
		return fail(s, "read ctx %llu answered on node %llu", U(rs->ctx), U(n->id));
	if (rs->index < s->readreq[k].min_index)
		return fail(s, "stale read: ctx %llu got index %llu, %llu was committed before",
			U(rs->ctx), U(rs->index), U(s->readreq[k].min_index));
	s->reads_done++;
	memmove(s->readreq + k, s->readreq + k + 1, (s->nreadreq - k - 1) * sizeof(*s->readreq));
	s->nreadreq--;
	return 0;
}

static void read_index(struct sim *s, struct sim_node *n)
{
	uint64_t min = s->max_applied;
	int rc;
	if (!usable(n))
		return;
	if (s->nreadreq == SIM_MAX_READS) {
		/* the oldest was lost with some message: forget it */
		memmove(s->readreq, s->readreq + 1, (SIM_MAX_READS - 1) * sizeof(*s->readreq));
		s->nreadreq--;
	}
	/* Every index any node knows as committed, crashed ones included. */
	for (size_t i = 0; i < s->nslots; i++) {
		const struct sim_node *o = &s->nodes[i];
		uint64_t c = o->r ? raft_commit(o->r) : o->hs.commit;
		if (c > min)
			min = c;
	}
	rc = raft_read_index(n->r, ++s->next_ctx);
	trace(s, "node %llu read index ctx %llu: %d", U(n->id), U(s->next_ctx), rc);
	if (rc != 0)
		return;
	s->readreq[s->nreadreq++] = (struct sim_read){ s->next_ctx, n->id, min };
}

static void flush_reports(struct sim_node *n)
{
	for (uint64_t id = 1; id <= SIM_MAX_NODES; id++) {
		if (n->snap_report[id] && n->r)
			raft_report_snapshot(n->r, id, n->snap_report[id] == 2);
		n->snap_report[id] = 0;
	}
}

/* ready_finish: the write is durable; do the rest of the ready. */
static int ready_finish(struct sim *s, struct sim_node *n)
{
	struct raft_ready *rd = &n->rd;

	n->busy = 0;
	if (rd->snapshot) {
		plog_truncate(n, 0);
		n->nlog = 0;
		n->snap_index = rd->snapshot->index;
		n->snap_term = rd->snapshot->term;
		n->applied = rd->snapshot->index;
		s->snapshots++;
		trace(s, "node %llu installs snapshot %llu/%llu", U(n->id), U(n->snap_index),
			U(n->snap_term));
	}
	if (rd->nentries) {
		if (rd->entries[0].index <= n->snap_index)
			return fail(s, "node %llu persists %llu below snapshot %llu", U(n->id),
				U(rd->entries[0].index), U(n->snap_index));
		if (rd->entries[0].index > n->snap_index + n->nlog + 1)
			return fail(s, "node %llu persists %llu leaving a gap after %llu",
				U(n->id), U(rd->entries[0].index), U(n->snap_index + n->nlog));
		plog_truncate(n, rd->entries[0].index);
		for (size_t i = 0; i < rd->nentries; i++)
			plog_append(n, &rd->entries[i]);
	}
	if (rd->hs_changed) {
		if (rd->hs.term < n->hs.term ||
		    (rd->hs.term == n->hs.term && n->hs.vote && rd->hs.vote != n->hs.vote))
			return fail(s, "node %llu hard state goes back: term %llu vote %llu -> "
				"term %llu vote %llu", U(n->id), U(n->hs.term), U(n->hs.vote),
				U(rd->hs.term), U(rd->hs.vote));
		n->hs = rd->hs;
	}
	if (pct(s, s->crash_mid_ready_pct)) {
		node_crash(s, n); /* durable, but nothing sent or applied */
		return 0;
	}
	for (size_t i = 0; i < rd->nmsgs; i++)
		net_send(s, n, &rd->msgs[i]);
	for (size_t i = 0; i < rd->ncommitted; i++)
		if (apply_entry(s, n, &rd->committed[i]) != 0)
			return -1;
	for (size_t i = 0; i < rd->nreads; i++)
		if (check_read(s, n, &rd->reads[i]) != 0)
			return -1;
	raft_advance(n->r, rd);
	flush_reports(n);
	return 0;
}

/* ready_start takes a ready; a slow disk keeps it a few ticks. */
static int ready_start(struct sim *s, struct sim_node *n)
{
	raft_ready(n->r, &n->rd);
	n->busy = 1;
	if (n->slow && (n->rd.nentries || n->rd.hs_changed || n->rd.snapshot) && pct(s, 50)) {
		n->done_at = s->now + 1 + sim_rand(s) % (uint64_t)n->slow;
		s->slow_readies++;
		trace(s, "node %llu slow write until t=%llu", U(n->id), U(n->done_at));
		return 0;
	}
	return ready_finish(s, n);
}

/* stop_removed: a member whose removal committed is shut down. */
static void stop_removed(struct sim *s)
{
	for (size_t i = 0; i < s->nslots; i++) {
		struct sim_node *n = &s->nodes[i];
		if (n->removed && n->r) {
			trace(s, "node %llu removed: stops", U(n->id));
			raft_free(n->r);
			n->r = NULL;
			n->busy = 0;
		}
	}
}

static int process_all(struct sim *s)
{
	int again = 1;
	for (int round = 0; again && round < 100; round++) {
		again = 0;
		for (size_t i = 0; i < s->nslots; i++) {
			struct sim_node *n = &s->nodes[i];
			int rc;
			if (n->r == NULL)
				continue;
			if (n->busy) {
				if (s->now < n->done_at)
					continue;
				rc = ready_finish(s, n);
			} else if (raft_has_ready(n->r)) {
				rc = ready_start(s, n);
			} else {
				continue;
			}
			again = 1;
			if (rc != 0)
				return -1;
		}
		stop_removed(s);
	}
	return sim_check(s);
}

/* --- actions --- */

static void report_snapshot(struct sim_node *from, uint64_t to, int ok)
{
	if (from->r == NULL)
		return;
	if (from->busy)
		from->snap_report[to] = (uint8_t)(ok ? 2 : 1);
	else
		raft_report_snapshot(from->r, to, ok);
}

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
		return fail(s, "message %llu->%llu to or from an unknown node", U(sm.m.from),
			U(sm.m.to));
	}
	if (sm.lost || to->r == NULL || to->group != from->group) {
		if (sm.m.type == RAFT_MSG_SNAPSHOT)
			report_snapshot(from, to->id, 0);
		else if (usable(from) && pct(s, 30))
			raft_report_unreachable(from->r, to->id);
		net_free_msg(&sm);
		return 0;
	}
	if (sm.m.type == RAFT_MSG_SNAPSHOT) {
		snap_meta(s, sm.snap_index, sm.snap_term, ids, &meta);
		sm.m.snap = &meta;
	}
	trace(s, "deliver %s %llu->%llu term %llu idx %llu/%llu n=%zu commit %llu%s",
		raft_msg_type_name(sm.m.type), U(sm.m.from), U(sm.m.to), U(sm.m.term),
		U(sm.m.index), U(sm.m.log_term), sm.m.nentries, U(sm.m.commit),
		sm.m.reject ? " reject" : "");
	rc = raft_step(to->r, &sm.m);
	if (rc != 0)
		rc = fail(s, "node %llu step %s from %llu: error %d", U(to->id),
			raft_msg_type_name(sm.m.type), U(sm.m.from), rc);
	if (rc == 0 && sm.m.type == RAFT_MSG_SNAPSHOT)
		report_snapshot(from, to->id, 1);
	net_free_msg(&sm);
	return rc;
}

/* deliverable: due, and its receiver is not busy writing (a busy node's
 * driver reads its socket only after raft_advance). */
static int deliverable(const struct sim *s, const struct sim_msg *sm)
{
	const struct sim_node *to = &s->nodes[sm->m.to - 1];
	return sm->at <= s->now && !(to->r && to->busy);
}

static int deliver_random(struct sim *s)
{
	size_t due = 0, pick;
	/* Random probes first: the queue can be long and scanning it for
	 * every delivery would dominate the run time. */
	for (int probe = 0; probe < 8 && s->nnet > 0; probe++) {
		size_t k = (size_t)(sim_rand(s) % s->nnet);
		if (deliverable(s, &s->net[k]))
			return deliver(s, k);
	}
	for (size_t i = 0; i < s->nnet; i++)
		due += deliverable(s, &s->net[i]);
	if (due == 0)
		return 0;
	pick = (size_t)(sim_rand(s) % due);
	for (size_t i = 0; i < s->nnet; i++) {
		if (!deliverable(s, &s->net[i]))
			continue;
		if (pick-- == 0)
			return deliver(s, i);
	}
	return 0;
}

static void tick_all(struct sim *s)
{
	s->now++;
	for (size_t i = 0; i < s->nslots; i++)
		if (s->nodes[i].r)
			raft_tick(s->nodes[i].r); /* deferred by the core while busy */
}

static void propose(struct sim *s, struct sim_node *n)
{
	uint64_t v = ++s->next_value, idx;
	if (!usable(n))
		return;
	if (raft_propose(n->r, RAFT_ENTRY_NORMAL, &v, sizeof(v), &idx) == 0) {
		s->proposals++;
		trace(s, "node %llu proposes %llu at %llu", U(n->id), U(v), U(idx));
	}
}

static struct sim_node *some_leader(struct sim *s, int p)
{
	for (size_t i = 0; i < s->nslots; i++) {
		struct sim_node *n = &s->nodes[(i + s->now) % s->nslots];
		if (usable(n) && raft_role(n->r) == RAFT_LEADER && pct(s, p))
			return n;
	}
	return NULL;
}

/* partition splits the nodes in two groups for a while (long enough for a
 * new election on one side); half the time the leader ends up in a
 * minority, where it lingers as a stale leader unless check-quorum is on. */
static void partition(struct sim *s)
{
	struct sim_node *l = some_leader(s, 100);
	size_t i;

	if (s->part_left > 0 && !pct(s, 20))
		return;
	for (i = 0; i < s->nslots; i++)
		s->nodes[i].group = (int)(sim_rand(s) % 2);
	if (l && pct(s, 50)) {
		for (i = 0; i < s->nslots; i++)
			s->nodes[i].group = 0;
		l->group = 1;
		for (i = 0; i < s->n / 2 - 1 + (s->n == 3); i++)
			s->nodes[sim_rand(s) % s->nslots].group = 1;
	}
	s->part_left = 50 + (int)(sim_rand(s) % 600);
	trace(s, "partition for %d steps", s->part_left);
}

static void partition_heal(struct sim *s)
{
	for (size_t i = 0; i < s->nslots; i++)
		s->nodes[i].group = 0;
	s->part_left = 0;
	trace(s, "heal");
}

static void compact(struct sim *s, struct sim_node *n)
{
	uint64_t idx, term;
	const struct raft_entry *e;
	if (!usable(n) || !s->compact || n->applied < n->snap_index + 4)
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
	trace(s, "node %llu compacts to %llu", U(n->id), U(idx));
}

/* stale_leader: a leader whose term is not the newest term of any leader. */
static struct sim_node *stale_leader(struct sim *s)
{
	struct sim_node *lo = NULL, *hi = NULL;
	for (size_t i = 0; i < s->nslots; i++) {
		struct sim_node *n = &s->nodes[i];
		if (!usable(n) || raft_role(n->r) != RAFT_LEADER)
			continue;
		if (lo == NULL || raft_term(n->r) < raft_term(lo->r))
			lo = n;
		if (hi == NULL || raft_term(n->r) > raft_term(hi->r))
			hi = n;
	}
	return lo != hi ? lo : NULL;
}

/* conf_pick chooses a single-member change the leader could propose. */
static int conf_pick(struct sim *s, struct sim_node *l, struct raft_conf_change *cc)
{
	uint64_t cand[SIM_MAX_NODES];
	size_t nc = 0, nvoters = raft_voters(l->r, cand, SIM_MAX_NODES);
	/* weights: add learner, add voter, promote, remove, update; some seeds
	 * keep several learners around (they must never count in a quorum) */
	static const int w[2][5] = { { 25, 15, 20, 20, 20 }, { 45, 5, 5, 20, 25 } };
	int roll = (int)(sim_rand(s) % 100), kind = 0;
	while (roll >= w[s->learner_bias][kind])
		roll -= w[s->learner_bias][kind++];

	for (size_t i = 0; i < s->nslots; i++) {
		struct sim_node *o = &s->nodes[i];
		int voter = raft_is_voter(l->r, o->id), learner = raft_is_learner(l->r, o->id);
		int ok;
		switch (kind) {
		case 0: case 1: /* add a new member: learner or straight voter */
			ok = !o->removed && !voter && !learner;
			break;
		case 2: ok = learner; break;
		case 3: ok = learner || (voter && nvoters > 2); break;
		default: ok = voter || learner; break;
		}
		if (ok)
			cand[nc++] = o->id;
	}
	if (nc == 0)
		return -1;
	cc->node_id = cand[sim_rand(s) % nc];
	cc->type = kind == 0 ? RAFT_CONF_ADD_LEARNER : kind == 1 ? RAFT_CONF_ADD_NODE :
		kind == 2 ? RAFT_CONF_PROMOTE : kind == 3 ? RAFT_CONF_REMOVE_NODE :
		RAFT_CONF_UPDATE_NODE;
	return 0;
}

static int conf_change(struct sim *s)
{
	struct sim_node *l = some_leader(s, 90), *o;
	struct raft_conf_change cc;
	uint8_t buf[RAFT_CONF_CHANGE_LEN + 16];
	size_t len = RAFT_CONF_CHANGE_LEN;
	uint64_t idx;

	if (l == NULL || !s->confs || conf_pick(s, l, &cc) != 0)
		return 0;
	raft_conf_change_encode(&cc, buf);
	if (cc.type == RAFT_CONF_UPDATE_NODE || pct(s, 30)) {
		/* the driver's context (peer URLs) rides after the change */
		memcpy(buf + len, "http://10.0.0.9", 16);
		len += 16;
	}
	if (raft_propose(l->r, RAFT_ENTRY_CONF_CHANGE, buf, len, &idx) != 0)
		return 0;
	trace(s, "node %llu proposes conf change %d node %llu at %llu", U(l->id), cc.type,
		U(cc.node_id), U(idx));
	o = node_by_id(s, cc.node_id);
	if (!o->started) /* a joiner starts empty and learns everything */
		return node_start(s, o);
	return 0;
}

static void transfer(struct sim *s)
{
	struct sim_node *l = some_leader(s, 90);
	uint64_t to = 1 + sim_rand(s) % s->nslots;
	if (l == NULL)
		return;
	if (raft_transfer_leader(l->r, to) == 0) {
		s->transfers++;
		trace(s, "node %llu transfers leadership to %llu", U(l->id), U(to));
	}
}

static int restart(struct sim *s, struct sim_node *n)
{
	if (n->r == NULL && n->started && !n->removed)
		return node_start(s, n);
	return 0;
}

/* Storms (partitions, crashes, lossy links) alternate with calm spells in
 * which the cluster can make progress, so that elections, membership
 * changes and snapshots happen amid faults, not only between them. */
static void weather(struct sim *s)
{
	if (s->steps_left-- > 0)
		return;
	s->calm = !s->calm;
	s->steps_left = 100 + (int)(sim_rand(s) % 700);
	if (s->calm) {
		s->drop_pct = s->dup_pct = 0;
		s->max_delay = 1;
	} else {
		s->drop_pct = (int)(sim_rand(s) % (uint64_t)(s->storm_drop + 1));
		s->dup_pct = (int)(sim_rand(s) % 10);
		s->max_delay = (int)(sim_rand(s) % 5);
	}
	trace(s, s->calm ? "calm" : "storm");
}

int sim_chaos_step(struct sim *s)
{
	struct sim_node *n = &s->nodes[sim_rand(s) % s->nslots], *l;
	int roll = (int)(sim_rand(s) % 1000);

	weather(s);
	if (s->part_left > 0 && --s->part_left == 0)
		partition_heal(s);
	/* calm: no new partitions or crashes */
	if (s->calm && roll >= 860 && roll < 910)
		roll = 500 + roll % 260;

	if (roll < 500) {
		/* a burst, so that delivery keeps up with ticks on average */
		for (int k = (int)(sim_rand(s) % 12); k >= 0; k--)
			if (deliver_random(s) != 0)
				return -1;
	} else if (roll < 760) {
		tick_all(s);
	} else if (roll < 860) {
		/* mostly at a leader, so that logs grow and diverge */
		if ((l = some_leader(s, 80)) != NULL)
			n = l;
		propose(s, n);
	} else if (roll < 875) {
		partition(s);
	} else if (roll < 890) {
		tick_all(s);
	} else if (roll < 910) {
		if (n->r)
			node_crash(s, n);
	} else if (roll < 950) {
		if (restart(s, n) != 0)
			return -1;
	} else if (roll < 965) {
		compact(s, n);
	} else if (roll < 975) {
		if (conf_change(s) != 0)
			return -1;
	} else if (roll < 978) {
		transfer(s);
	} else if (roll < 981) {
		if (usable(n) && raft_is_voter(n->r, n->id))
			raft_campaign(n->r);
	} else if (roll < 985) {
		n->slow = n->slow ? 0 : 1 + (int)(sim_rand(s) % 6);
		trace(s, "node %llu disk %s", U(n->id), n->slow ? "slow" : "fast");
	} else {
		/* any node that believes it leads, a stale one by preference:
		 * that is where a read could go wrong */
		if ((l = stale_leader(s)) != NULL && pct(s, 50))
			n = l;
		else if ((l = some_leader(s, 70)) != NULL)
			n = l;
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
		return fail(s, "election safety: term %llu has leaders %llu and %llu", U(t),
			U(s->term_leader[t]), U(n->id));
	}
	return 0;
}

/* Leader Append-Only: while a node leads one term its log only grows. The
 * record starts at the leader's commit index of the previous check (the
 * committed prefix is re-verified by the periodic full check). */
static int check_append_only(struct sim *s, struct sim_node *n)
{
	uint64_t t = raft_term(n->r), first = raft_first_index(n->r);
	uint64_t last = raft_last_index(n->r), c = raft_commit(n->r);

	if (n->lead_term == t) {
		for (size_t k = 0; k < n->nlead_terms; k++) {
			uint64_t i = n->lead_first + k;
			if (i < first)
				continue;
			if (i > last || term_at(n->r, i) != n->lead_terms[k])
				return fail(s, "leader append-only: leader %llu term %llu changed index %llu",
					U(n->id), U(t), U(i));
		}
	}
	if (n->lead_term != t || s->full_check)
		c = first; /* a new leadership records its whole log */
	if (c < first)
		c = first;
	n->lead_term = t;
	n->lead_first = c;
	n->nlead_terms = (size_t)(last + 1 - c);
	if (n->nlead_terms + 1 > n->caplead) {
		n->caplead = 2 * (n->nlead_terms + 1);
		n->lead_terms = realloc(n->lead_terms, n->caplead * sizeof(uint64_t));
		if (n->lead_terms == NULL)
			abort();
	}
	for (size_t k = 0; k < n->nlead_terms; k++)
		n->lead_terms[k] = term_at(n->r, c + k);
	return 0;
}

/* Leader Completeness: a leader holds every entry committed in its term
 * or earlier (seen_term is a safe upper bound of the committing term). */
/* Leader Completeness: a leader holds every entry committed in its term
 * or earlier (seen_term is a safe upper bound of the committing term).
 * Entries first commit in index order, and a leader's log does not change
 * below its end while it leads (checked above), so each leadership re-checks
 * only entries committed since its last check. */
static int check_completeness(struct sim *s, struct sim_node *n)
{
	uint64_t t = raft_term(n->r), first = raft_first_index(n->r);
	uint64_t i = n->lc_term == t && n->lc_checked + 1 > first ? n->lc_checked + 1 : first;

	for (; i <= s->max_applied; i++) {
		const struct sim_commit *c = &s->commits[i];
		if (!c->set || c->seen_term > t)
			continue;
		if (term_at(n->r, i) != c->term)
			return fail(s, "leader completeness: leader %llu term %llu lacks committed "
				"index %llu term %llu", U(n->id), U(t), U(i), U(c->term));
	}
	n->lc_term = t;
	n->lc_checked = s->max_applied;
	return 0;
}

/* Log Matching, checked per entry: every (index, term) that appears in any
 * log always has the same content and the same term at index - 1. By
 * induction that is the Log Matching property (two logs holding an entry
 * with the same index and term are identical up to it). Entries at or below
 * a node's commit index cannot change, so each step re-checks only the
 * tails above them. */
struct sim_lm {
	uint64_t index, term, value, prev_term; /* prev_term 0: not known */
};

static struct sim_lm *lm_slot(struct sim *s, uint64_t index, uint64_t term)
{
	size_t mask, h;
	if (2 * (s->nlm + 1) > s->caplm) {
		struct sim_lm *old = s->lm;
		size_t oldcap = s->caplm;
		s->caplm = s->caplm ? s->caplm * 2 : 1024;
		s->lm = calloc(s->caplm, sizeof(*s->lm));
		if (s->lm == NULL)
			abort();
		s->nlm = 0;
		for (size_t i = 0; i < oldcap; i++)
			if (old[i].index) {
				*lm_slot(s, old[i].index, old[i].term) = old[i];
			}
		free(old);
	}
	mask = s->caplm - 1;
	h = (size_t)((index * UINT64_C(0x9e3779b97f4a7c15)) ^ (term * UINT64_C(0xc2b2ae3d27d4eb4f)));
	for (h &= mask;; h = (h + 1) & mask) {
		struct sim_lm *e = &s->lm[h];
		if (e->index == index && e->term == term)
			return e;
		if (e->index == 0) {
			e->index = index;
			e->term = term;
			s->nlm++;
			return e;
		}
	}
}

static int check_log_matching(struct sim *s, struct sim_node *n)
{
	uint64_t first = raft_first_index(n->r), last = raft_last_index(n->r);
	uint64_t from = n->lm_checked + 1 > first ? n->lm_checked + 1 : first;

	for (uint64_t i = from; i <= last; i++) {
		const struct raft_entry *e = raft_entry_at(n->r, i);
		const struct raft_entry *p = raft_entry_at(n->r, i - 1);
		uint64_t v = val_of(e), pt = p ? p->term : 0;
		struct sim_lm *m = lm_slot(s, i, e->term);
		if (m->value == 0 && m->prev_term == 0) {
			m->value = v;
			m->prev_term = pt;
			continue;
		}
		if (m->value != v)
			return fail(s, "log matching: node %llu holds a different entry %llu term %llu",
				U(n->id), U(i), U(e->term));
		if (pt && m->prev_term && pt != m->prev_term)
			return fail(s, "log matching: node %llu: entry %llu term %llu follows term "
				"%llu, elsewhere term %llu", U(n->id), U(i), U(e->term), U(pt),
				U(m->prev_term));
		if (m->prev_term == 0)
			m->prev_term = pt;
	}
	n->lm_checked = raft_commit(n->r);
	return 0;
}

/* Committed entries stay committed: the commit index of a running node
 * never goes back, and it never points past its log. */
static int check_commit(struct sim *s, struct sim_node *n)
{
	uint64_t c = raft_commit(n->r);
	if (c > raft_last_index(n->r))
		return fail(s, "node %llu commit %llu past its log", U(n->id), U(c));
	if (c < n->last_commit)
		return fail(s, "node %llu commit went back %llu -> %llu", U(n->id),
			U(n->last_commit), U(c));
	n->last_commit = c;
	return 0;
}

int sim_check(struct sim *s)
{
	/* Every step checks what could have changed: the logs above the commit
	 * indexes, new commits, new leaders. Every 32nd step re-checks whole
	 * logs, so that a bug changing committed entries cannot hide. */
	s->full_check = s->nchecks++ % 32 == 0;
	for (size_t i = 0; s->full_check && i < s->nslots; i++) {
		s->nodes[i].lm_checked = 0;
		s->nodes[i].lc_term = 0;
	}
	for (size_t i = 0; i < s->nslots && !s->failed; i++) {
		struct sim_node *n = &s->nodes[i];
		if (n->r == NULL)
			continue;
		if (check_commit(s, n) != 0)
			return -1;
		if (raft_role(n->r) == RAFT_LEADER) {
			if (check_election_safety(s, n) || check_append_only(s, n) ||
			    check_completeness(s, n))
				return -1;
		} else {
			n->lead_term = 0;
		}
		if (check_log_matching(s, n) != 0)
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
	s->nslots = SIM_MAX_NODES;
	s->seed = seed;
	s->rng = seed;
	s->election_tick = SIM_ELECTION;
	s->heartbeat_tick = SIM_HEARTBEAT;
	s->pre_vote = (int)(sim_rand(s) & 1);
	s->check_quorum = (int)(sim_rand(s) & 1);
	s->compact = (int)(sim_rand(s) % 4 != 0);
	s->confs = (int)(sim_rand(s) % 3 != 0);
	s->learner_bias = (int)(sim_rand(s) % 3 == 0);
	s->max_inflight = 1 + (size_t)(sim_rand(s) % 4);
	s->max_msg_bytes = 8 + (size_t)(sim_rand(s) % 57);
	s->storm_drop = (int)(sim_rand(s) % 25);
	s->calm = (int)(sim_rand(s) & 1);
	s->crash_mid_ready_pct = (int)(sim_rand(s) % 2);
	s->trace = getenv("RAFT_SIM_TRACE") != NULL;
	for (size_t i = 0; i < s->nslots; i++) {
		s->nodes[i].id = i + 1;
		s->nodes[i].slow = pct(s, 20) ? 1 + (int)(sim_rand(s) % 6) : 0;
	}
	for (size_t i = 0; i < n; i++) {
		if (node_start(s, &s->nodes[i]) != 0)
			return -1;
	}
	return 0;
}

void sim_close(struct sim *s)
{
	for (size_t i = 0; i < s->nslots; i++) {
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
	free(s->ccs);
	free(s->lm);
	memset(s, 0, sizeof(*s));
}

int sim_heal(struct sim *s)
{
	s->drop_pct = s->dup_pct = s->crash_mid_ready_pct = 0;
	s->max_delay = 0;
	for (size_t i = 0; i < s->nslots; i++) {
		struct sim_node *n = &s->nodes[i];
		n->group = 0;
		n->slow = 0;
		if (n->busy && ready_finish(s, n) != 0)
			return -1;
		if (restart(s, n) != 0)
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
	for (size_t i = 0; i < s->nslots; i++) {
		struct sim_node *n = &s->nodes[i];
		if (n->r && raft_role(n->r) == RAFT_LEADER &&
		    (best == NULL || raft_term(n->r) > raft_term(best->r)))
			best = n;
	}
	return best;
}

/* all_applied: every member in the leader's configuration applied want. */
static int all_applied(struct sim *s, struct sim_node *l, uint64_t want)
{
	for (size_t i = 0; i < s->nslots; i++) {
		struct sim_node *n = &s->nodes[i];
		if (n->removed || !(raft_is_voter(l->r, n->id) || raft_is_learner(l->r, n->id)))
			continue;
		if (n->r == NULL || n->applied < want)
			return 0;
	}
	return 1;
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
		if (want != 0 && all_applied(s, l, want)) {
			if (s->commits[want].value == v) {
				s->converge_ticks = s->now - start;
				return 0;
			}
			want = 0;
		}
		if (sim_tick_round(s) != 0)
			return -1;
	}
	return fail(s, "no progress within %llu ticks after healing (leader %llu)",
		U(max_ticks), leader_of(s) ? U(leader_of(s)->id) : 0ULL);
}
