/* replication.c - log replication (§5.3): per-follower progress with
 * probing, pipelining bounded by max_inflight and max_msg_bytes, fast
 * backtracking on rejection, heartbeats, the commit rule (§5.4.2: only
 * entries of the leader's term commit by counting) and snapshot install on
 * followers (§7). */
#include "config.h"
#include "raft/raft_impl.h"
#include "util/err.h"

#include <stdlib.h>
#include <string.h>

/* --- progress --- */

int progress_init(struct raft *r, struct raft_progress *pr, uint64_t id, int voter)
{
	memset(pr, 0, sizeof(*pr));
	pr->inflight = calloc(r->max_inflight, sizeof(*pr->inflight));
	if (pr->inflight == NULL)
		return CE_NOMEM;
	pr->id = id;
	pr->voter = voter;
	pr->next = log_last_index(&r->log) + 1;
	pr->vote = -1;
	return 0;
}

void progress_free(struct raft_progress *pr)
{
	free(pr->inflight);
	pr->inflight = NULL;
}

static void progress_reset(struct raft *r, struct raft_progress *pr)
{
	pr->match = pr->id == r->id ? r->log.stable : 0;
	pr->next = log_last_index(&r->log) + 1;
	pr->state = pr->id == r->id ? PR_REPLICATE : PR_PROBE;
	pr->probe_sent = 0;
	pr->recent_active = pr->id == r->id;
	pr->pending_snapshot = 0;
	pr->in_start = pr->in_count = 0;
	pr->vote = -1;
}

void progress_reset_all(struct raft *r)
{
	for (size_t i = 0; i < r->nprs; i++)
		progress_reset(r, &r->prs[i]);
}

static int progress_paused(const struct raft *r, const struct raft_progress *pr)
{
	switch (pr->state) {
	case PR_PROBE:
		return pr->probe_sent;
	case PR_REPLICATE:
		return pr->in_count >= r->max_inflight;
	default:
		return 1;
	}
}

static void inflight_add(struct raft *r, struct raft_progress *pr, uint64_t last)
{
	size_t slot = (pr->in_start + pr->in_count) % r->max_inflight;
	pr->inflight[slot] = last;
	pr->in_count++;
}

/* inflight_free_to releases appends whose last index is <= index. */
static void inflight_free_to(struct raft *r, struct raft_progress *pr, uint64_t index)
{
	while (pr->in_count > 0 && pr->inflight[pr->in_start] <= index) {
		pr->in_start = (pr->in_start + 1) % r->max_inflight;
		pr->in_count--;
	}
}

static void become_probe(struct raft_progress *pr)
{
	uint64_t base = pr->state == PR_SNAPSHOT && pr->pending_snapshot > pr->match ?
		pr->pending_snapshot : pr->match;
	pr->state = PR_PROBE;
	pr->next = base + 1;
	pr->probe_sent = 0;
	pr->pending_snapshot = 0;
	pr->in_start = pr->in_count = 0;
}

static void become_replicate(struct raft_progress *pr)
{
	pr->state = PR_REPLICATE;
	pr->next = pr->match + 1;
	pr->probe_sent = 0;
	pr->in_start = pr->in_count = 0;
}

/* --- leader: sending --- */

static int send_snapshot(struct raft *r, struct raft_progress *pr)
{
	struct raft_msg m = { 0 };
	/* Do not start a snapshot for a node that seems down. */
	if (!pr->recent_active)
		return 0;
	m.type = RAFT_MSG_SNAPSHOT;
	m.to = pr->id;
	m.index = r->log.snap_index;
	m.log_term = r->log.snap_term;
	pr->state = PR_SNAPSHOT;
	pr->pending_snapshot = r->log.snap_index;
	raft_send(r, &m);
	return 1;
}

/* entries_copy shares entries [from, last] of the log, bounded by bytes
 * (at least one entry), into a new array whose data blobs are referenced. */
static size_t entries_copy(struct raft *r, uint64_t from, struct raft_entry **out)
{
	uint64_t last = log_last_index(&r->log);
	size_t n = 0, bytes = 0;
	struct raft_entry *v;

	*out = NULL;
	while (from + n <= last) {
		const struct raft_entry *e = log_at(&r->log, from + n);
		if (n > 0 && bytes + e->len > r->max_msg_bytes)
			break;
		bytes += e->len;
		n++;
	}
	if (n == 0)
		return 0;
	v = malloc(n * sizeof(*v));
	if (v == NULL) {
		r->oom = 1;
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		v[i] = *log_at(&r->log, from + i);
		raft_blob_ref(v[i].data);
	}
	*out = v;
	return n;
}

int repl_send_append(struct raft *r, struct raft_progress *pr, int send_if_empty)
{
	struct raft_msg m = { 0 };
	uint64_t prev = pr->next - 1;
	int ok;

	if (pr->id == r->id || progress_paused(r, pr))
		return 0;
	m.log_term = log_term(&r->log, prev, &ok);
	if (!ok || (pr->next <= log_last_index(&r->log) && log_at(&r->log, pr->next) == NULL))
		return send_snapshot(r, pr);
	m.nentries = entries_copy(r, pr->next, &m.entries);
	if (m.nentries == 0 && !send_if_empty)
		return 0;
	m.type = RAFT_MSG_APPEND;
	m.to = pr->id;
	m.index = prev;
	m.commit = r->log.committed;
	if (m.nentries > 0) {
		if (pr->state == PR_REPLICATE) {
			/* Pipelining: assume success, roll back on rejection. */
			uint64_t last = m.entries[m.nentries - 1].index;
			pr->next = last + 1;
			inflight_add(r, pr, last);
		} else {
			pr->probe_sent = 1;
		}
	}
	raft_send(r, &m);
	return m.nentries > 0;
}

void repl_bcast_append(struct raft *r)
{
	for (size_t i = 0; i < r->nprs; i++)
		repl_send_append(r, &r->prs[i], 1);
}

void repl_bcast_heartbeat(struct raft *r, uint64_t ctx)
{
	for (size_t i = 0; i < r->nprs; i++) {
		struct raft_progress *pr = &r->prs[i];
		struct raft_msg m = { 0 };
		if (pr->id == r->id)
			continue;
		m.type = RAFT_MSG_HEARTBEAT;
		m.to = pr->id;
		/* Never tell a follower to commit past what it is known to hold. */
		m.commit = pr->match < r->log.committed ? pr->match : r->log.committed;
		m.ctx = ctx;
		raft_send(r, &m);
	}
}

/* --- leader: commit --- */

static int cmp_desc(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? 1 : x > y ? -1 : 0;
}

int repl_maybe_commit(struct raft *r)
{
	uint64_t v[RAFT_MAX_MEMBERS];
	size_t n = 0;
	uint64_t mci;
	int ok;

	for (size_t i = 0; i < r->nprs && n < RAFT_MAX_MEMBERS; i++)
		if (r->prs[i].voter)
			v[n++] = r->prs[i].match;
	if (n == 0)
		return 0;
	qsort(v, n, sizeof(v[0]), cmp_desc);
	mci = v[n / 2]; /* the highest index a majority holds */
	if (mci <= r->log.committed)
		return 0;
	/* §5.4.2: count replicas only for entries of the current term. */
	if (log_term(&r->log, mci, &ok) != r->term || !ok)
		return 0;
	r->log.committed = mci;
	return 1;
}

void repl_commit_to(struct raft *r, uint64_t index)
{
	if (index > r->log.committed)
		r->log.committed = index;
}

/* repl_self_stable: the leader's own durable entries count toward commit
 * only once the driver reports them persisted. */
void repl_self_stable(struct raft *r)
{
	struct raft_progress *self = raft_progress(r, r->id);
	if (r->role != RAFT_LEADER || self == NULL)
		return;
	if (r->log.stable > self->match)
		self->match = r->log.stable;
	self->next = log_last_index(&r->log) + 1;
	if (repl_maybe_commit(r))
		repl_bcast_append(r);
}

static void send_more(struct raft *r, struct raft_progress *pr)
{
	while (repl_send_append(r, pr, 0))
		;
}

static void step_reject(struct raft *r, struct raft_progress *pr, const struct raft_msg *m)
{
	uint64_t hint = m->reject_hint;
	uint64_t next;

	if (m->log_term > 0)
		hint = log_conflict_hint(&r->log, m->reject_hint, m->log_term);
	if (pr->state == PR_REPLICATE) {
		if (m->index <= pr->match)
			return; /* stale */
		become_probe(pr);
	} else if (pr->state == PR_PROBE) {
		if (pr->next - 1 != m->index)
			return; /* answer to an older probe */
		next = m->index < hint + 1 ? m->index : hint + 1;
		pr->next = next > pr->match + 1 ? next : pr->match + 1;
		pr->probe_sent = 0;
	} else {
		return;
	}
	repl_send_append(r, pr, 1);
}

void repl_step_append_resp(struct raft *r, const struct raft_msg *m)
{
	struct raft_progress *pr = raft_progress(r, m->from);
	int was_paused;

	if (pr == NULL)
		return;
	pr->recent_active = 1;
	if (m->reject) {
		step_reject(r, pr, m);
		return;
	}
	was_paused = progress_paused(r, pr);
	if (m->index > pr->match) {
		pr->match = m->index;
		pr->probe_sent = 0;
	} else if (pr->state != PR_SNAPSHOT) {
		return; /* stale or duplicate */
	}
	if (pr->next < pr->match + 1)
		pr->next = pr->match + 1;
	if (pr->state == PR_PROBE)
		become_replicate(pr);
	else if (pr->state == PR_SNAPSHOT && pr->match >= pr->pending_snapshot)
		become_probe(pr);
	else if (pr->state == PR_REPLICATE)
		inflight_free_to(r, pr, pr->match);
	if (repl_maybe_commit(r))
		repl_bcast_append(r);
	else if (was_paused)
		repl_send_append(r, pr, 0);
	send_more(r, pr);
	if (m->from == r->lead_transferee && pr->match == log_last_index(&r->log)) {
		struct raft_msg tn = { .type = RAFT_MSG_TIMEOUT_NOW, .to = m->from };
		raft_send(r, &tn);
	}
}

void repl_step_heartbeat_resp(struct raft *r, const struct raft_msg *m)
{
	struct raft_progress *pr = raft_progress(r, m->from);

	if (pr == NULL)
		return;
	pr->recent_active = 1;
	pr->probe_sent = 0;
	/* A full pipeline whose acks were lost must not stall forever. */
	if (pr->state == PR_REPLICATE && pr->in_count >= r->max_inflight) {
		pr->in_start = (pr->in_start + 1) % r->max_inflight;
		pr->in_count--;
	}
	if (pr->match < log_last_index(&r->log))
		repl_send_append(r, pr, 1);
	if (m->ctx)
		read_heartbeat_ack(r, m->from, m->ctx);
}

/* --- follower --- */

static int append_entries(struct raft *r, const struct raft_msg *m)
{
	struct raft_log *l = &r->log;
	size_t i;
	int rc;

	/* Skip what we already hold; cut our log at the first conflict. A
	 * duplicate or reordered message must never truncate good entries. */
	for (i = 0; i < m->nentries; i++) {
		const struct raft_entry *e = &m->entries[i];
		if (e->index > log_last_index(l))
			break;
		if (log_match_term(l, e->index, e->term))
			continue;
		if (e->index <= l->committed)
			return CE_CORRUPT;
		log_truncate(l, e->index);
		break;
	}
	for (; i < m->nentries; i++) {
		const struct raft_entry *e = &m->entries[i];
		if (e->index <= l->snap_index)
			continue;
		rc = log_append(l, e->term, e->type, e->data, e->len);
		if (rc != 0)
			return rc;
	}
	return 0;
}

int repl_handle_append(struct raft *r, const struct raft_msg *m)
{
	struct raft_msg resp = { .type = RAFT_MSG_APPEND_RESP, .to = m->from };
	struct raft_log *l = &r->log;
	int rc;

	if (m->index < l->committed) {
		resp.index = l->committed;
		return raft_send(r, &resp);
	}
	if (log_match_term(l, m->index, m->log_term)) {
		uint64_t last_new = m->index + m->nentries;
		if ((rc = append_entries(r, m)) != 0)
			return rc;
		repl_commit_to(r, m->commit < last_new ? m->commit : last_new);
		resp.index = last_new;
		return raft_send(r, &resp);
	}
	/* §5.3 consistency check failed: hint where our log could match. */
	resp.reject = 1;
	resp.index = m->index;
	resp.reject_hint = log_conflict_hint(l, m->index, m->log_term);
	{
		int ok;
		resp.log_term = log_term(l, resp.reject_hint, &ok);
	}
	return raft_send(r, &resp);
}

void repl_handle_heartbeat(struct raft *r, const struct raft_msg *m)
{
	struct raft_msg resp = { .type = RAFT_MSG_HEARTBEAT_RESP, .to = m->from };
	uint64_t last = log_last_index(&r->log);

	repl_commit_to(r, m->commit < last ? m->commit : last);
	resp.ctx = m->ctx;
	raft_send(r, &resp);
}

static int restore_snapshot(struct raft *r, const struct raft_snapshot_meta *s)
{
	size_t n = s->nvoters + s->nlearners;
	uint64_t *ids = malloc((n ? n : 1) * sizeof(*ids));
	int rc;

	if (ids == NULL)
		return CE_NOMEM;
	memcpy(ids, s->voters, s->nvoters * sizeof(*ids));
	if (s->nlearners)
		memcpy(ids + s->nvoters, s->learners, s->nlearners * sizeof(*ids));
	log_reset(&r->log, s->index, s->term);
	for (size_t i = 0; i < r->nprs; i++)
		progress_free(&r->prs[i]);
	r->nprs = 0;
	rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = conf_add(r, ids[i], i < s->nvoters);
	free(r->snap_ids);
	r->snap_ids = ids;
	r->snap_pending = (struct raft_snapshot_meta){ s->index, s->term,
		ids, s->nvoters, ids + s->nvoters, s->nlearners };
	r->has_snap_pending = 1;
	return rc;
}

int repl_handle_snapshot(struct raft *r, const struct raft_msg *m)
{
	struct raft_msg resp = { .type = RAFT_MSG_APPEND_RESP, .to = m->from };
	const struct raft_snapshot_meta *s = m->snap;
	int rc;

	if (s->index <= r->log.committed) {
		resp.index = r->log.committed;
	} else if (log_match_term(&r->log, s->index, s->term)) {
		/* We already hold the log up to there: just learn the commit. */
		repl_commit_to(r, s->index);
		resp.index = r->log.committed;
	} else {
		if ((rc = restore_snapshot(r, s)) != 0)
			return rc;
		resp.index = s->index;
	}
	return raft_send(r, &resp);
}
