/* read.c - linearizable reads without a log write (§8, thesis §6.4
 * ReadIndex): the leader notes its commit index, confirms it is still leader
 * with a heartbeat round acknowledged by a quorum, then hands the index back
 * as a read state. The caller reads once it has applied up to that index. */
#include "config.h"
#include "raft/raft_impl.h"
#include "util/err.h"

#include <stdlib.h>

int read_state_add(struct raft *r, uint64_t index, uint64_t ctx)
{
	if (r->nreads == r->capreads) {
		size_t cap = r->capreads ? r->capreads * 2 : 8;
		struct raft_read_state *p = realloc(r->reads, cap * sizeof(*p));
		if (p == NULL)
			return CE_NOMEM;
		r->reads = p;
		r->capreads = cap;
	}
	r->reads[r->nreads++] = (struct raft_read_state){ index, ctx };
	return 0;
}

static int respond(struct raft *r, uint64_t from, uint64_t index, uint64_t ctx)
{
	struct raft_msg m = { .type = RAFT_MSG_READ_INDEX_RESP, .to = from };
	if (from == r->id)
		return read_state_add(r, index, ctx);
	m.index = index;
	m.ctx = ctx;
	return raft_send(r, &m);
}

static size_t self_pos(const struct raft *r, uint64_t id)
{
	for (size_t i = 0; i < r->nprs; i++)
		if (r->prs[i].id == id)
			return i;
	return r->nprs;
}

int read_index_local(struct raft *r, uint64_t ctx, uint64_t from)
{
	int ok;
	struct raft_read_req *q;

	if (r->role != RAFT_LEADER)
		return CE_AGAIN;
	/* Until an entry of this term commits, the leader may not know the
	 * latest commit index (§8). */
	if (log_term(&r->log, r->log.committed, &ok) != r->term || !ok)
		return CE_AGAIN;
	if (raft_nvoters(r) == 1 && raft_is_voter(r, r->id))
		return respond(r, from, r->log.committed, ctx);
	if (r->nrreqs == r->caprreqs) {
		size_t cap = r->caprreqs ? r->caprreqs * 2 : 8;
		struct raft_read_req *p = realloc(r->rreqs, cap * sizeof(*p));
		if (p == NULL)
			return CE_NOMEM;
		r->rreqs = p;
		r->caprreqs = cap;
	}
	q = &r->rreqs[r->nrreqs++];
	q->index = r->log.committed;
	q->ctx = ctx;
	q->from = from;
	q->acks = UINT64_C(1) << self_pos(r, r->id);
	repl_bcast_heartbeat(r, ctx);
	return 0;
}

static int acked_quorum(const struct raft *r, uint64_t acks)
{
	size_t yes = 0;
	for (size_t i = 0; i < r->nprs; i++)
		if (r->prs[i].voter && (acks >> i & 1))
			yes++;
	return yes >= raft_nvoters(r) / 2 + 1;
}

void read_heartbeat_ack(struct raft *r, uint64_t from, uint64_t ctx)
{
	size_t pos = self_pos(r, from), k, i;

	if (pos >= r->nprs)
		return;
	for (k = 0; k < r->nrreqs; k++)
		if (r->rreqs[k].ctx == ctx)
			break;
	if (k == r->nrreqs)
		return;
	/* A heartbeat answered for a later request confirms earlier ones too. */
	for (i = 0; i <= k; i++)
		r->rreqs[i].acks |= UINT64_C(1) << pos;
	if (!acked_quorum(r, r->rreqs[k].acks))
		return;
	for (i = 0; i <= k; i++)
		respond(r, r->rreqs[i].from, r->rreqs[i].index, r->rreqs[i].ctx);
	r->nrreqs -= k + 1;
	for (i = 0; i < r->nrreqs; i++)
		r->rreqs[i] = r->rreqs[i + k + 1];
}

void read_clear(struct raft *r)
{
	r->nrreqs = 0;
}

int raft_read_index(struct raft *r, uint64_t ctx)
{
	if (r->in_ready)
		return CE_AGAIN;
	if (ctx == 0)
		return CE_INVAL;
	if (r->role == RAFT_LEADER)
		return read_index_local(r, ctx, r->id);
	if (r->leader == RAFT_NONE)
		return CE_AGAIN;
	{
		struct raft_msg m = { .type = RAFT_MSG_READ_INDEX, .to = r->leader, .ctx = ctx };
		return raft_send(r, &m);
	}
}
