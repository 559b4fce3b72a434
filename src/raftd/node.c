/* node.c - the raft worker's driver: recover the WAL, build the Raft core,
 * tick it, and carry out its ready batches in the order the core requires:
 *
 *   1. append new entries and the hard state to the WAL,
 *   2. one fdatasync for everything appended this loop turn (group commit),
 *   3. only then send messages (they may acknowledge what was just synced),
 *   4. queue committed entries to the storage worker,
 *   5. answer read-index requests, then raft_advance().
 *
 * The ready batch is processed from a low-priority event, so every proposal
 * that arrived in this loop turn is in the same batch and the same fsync.
 */
#include "config.h"
#include "raftd/raftd_int.h"
#include "config/cfg.h"
#include "ipc/conn.h"
#include "ipc/frame.h"
#include "ipc/proto.h"
#include "ipc/worker.h"
#include "raft/raft.h"
#include "util/err.h"
#include "util/log.h"
#include "wal/wal.h"

#include <limits.h>
#include <malloc.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

/* A brand-new member: write the bootstrap log etcd writes — one committed
 * configuration change per initial member, at term 1 — so the first user
 * write gets the same indexes as on etcd. */
static int bootstrap_wal(struct raftd *d, const char *dir, char *err, size_t errlen)
{
	struct wal_opts opts = { 0 };
	struct wal *wal = NULL;
	struct wal_recovered rec;
	int rc;

	rc = wal_create(dir, &opts, d->cluster.self_id, d->cluster.cluster_id, NULL, 0, err, errlen);
	if (rc != 0)
		return rc;
	rc = wal_open(&wal, dir, &opts, &rec, err, errlen);
	if (rc != 0)
		return rc;
	wal_recovered_close(&rec);
	for (size_t i = 0; i < d->cluster.n; i++) {
		struct raft_conf_change cc = { RAFT_CONF_ADD_NODE, d->cluster.v[i].id };
		uint8_t raw[RAFT_CONF_CHANGE_LEN];
		raft_conf_change_encode(&cc, raw);
		rc = wal_append_entry(wal, i + 1, 1, RAFT_ENTRY_CONF_CHANGE, raw, sizeof(raw));
		if (rc != 0)
			break;
	}
	if (rc == 0)
		rc = wal_append_hardstate(wal, 1, 0, d->cluster.n);
	if (rc == 0)
		rc = wal_sync(wal);
	wal_close(wal);
	if (rc != 0)
		return errf(err, errlen, rc, "bootstrap wal %s: %s", dir, ce_strerror(rc));
	log_info("bootstrapped a new member %016llx of cluster %016llx",
		(unsigned long long)d->cluster.self_id, (unsigned long long)d->cluster.cluster_id);
	return 0;
}

static void publish_status(struct raftd *d)
{
	struct shm_raft *s = d->w->shm->raft;
	uint64_t leader = raft_leader(d->raft);
	struct wal_stats ws;

	wal_get_stats(d->wal, &ws);
	shm_write_begin(&s->seq);
	s->role = (uint32_t)raft_role(d->raft);
	s->member_id = d->cluster.self_id;
	s->cluster_id = d->cluster.cluster_id;
	if (leader != d->last_leader && leader != RAFT_NONE)
		s->leader_changes++;
	s->leader_id = leader;
	s->term = raft_term(d->raft);
	s->commit_index = raft_commit(d->raft);
	s->last_index = raft_last_index(d->raft);
	s->wal_fsyncs = ws.fsyncs;
	s->wal_fsync_ns = ws.fsync_ns;
	shm_write_end(&s->seq);
	d->last_leader = leader;
}

static int persist(struct raftd *d, const struct raft_ready *rd)
{
	int rc = 0;

	for (size_t i = 0; i < rd->nentries && rc == 0; i++) {
		const struct raft_entry *e = &rd->entries[i];
		rc = wal_append_entry(d->wal, e->index, e->term, e->type, e->data, e->len);
	}
	if (rc == 0 && rd->hs_changed)
		rc = wal_append_hardstate(d->wal, rd->hs.term, rd->hs.vote, rd->hs.commit);
	if (rc == 0)
		rc = wal_sync(d->wal);
	return rc;
}

static void apply_conf_changes(struct raftd *d, const struct raft_ready *rd)
{
	for (size_t i = 0; i < rd->ncommitted; i++) {
		const struct raft_entry *e = &rd->committed[i];
		struct raft_conf_change cc;
		if (e->type != RAFT_ENTRY_CONF_CHANGE)
			continue;
		if (raft_conf_change_decode(&cc, e->data, e->len) == 0)
			raft_apply_conf_change(d->raft, &cc);
	}
}

static void ready_cb(evutil_socket_t fd, short what, void *arg)
{
	struct raftd *d = arg;
	int rounds = 0;

	while (raft_has_ready(d->raft) && rounds++ < 16) {
		struct raft_ready rd;
		int rc;

		raft_ready(d->raft, &rd);
		rc = persist(d, &rd);
		if (rc != 0) {
			/* Without a durable log we may not acknowledge anything:
			 * crash and let the supervisor restart us from the WAL. */
			log_error("wal write failed: %s; exiting", ce_strerror(rc));
			exit(WORKER_EXIT_CRASH);
		}
		/* Peers arrive with the clustering work; a single member
		 * sends nothing. */
		apply_conf_changes(d, &rd);
		if (rd.nreads)
			raftd_answer_reads(d, rd.reads, rd.nreads);
		raft_advance(d->raft, &rd);
		raftd_pump_store(d);
	}
	publish_status(d);
	if (raft_has_ready(d->raft))
		raftd_schedule_ready(d);
}

void raftd_schedule_ready(struct raftd *d)
{
	event_active(d->ready_ev, 0, 0);
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct raftd *d = arg;

	raft_tick(d->raft);
	if (raft_has_ready(d->raft))
		raftd_schedule_ready(d);
}

void raftd_pump_store(struct raftd *d)
{
	uint64_t commit = raft_commit(d->raft);

	if (d->store == NULL)
		return;
	while (d->store_sent < commit && ipc_conn_backlog(d->store) < RAFTD_STORE_BACKLOG) {
		const struct raft_entry *e = raft_entry_at(d->raft, d->store_sent + 1);
		struct proto_apply a;
		uint8_t fixed[PROTO_APPLY_FIXED];

		if (e == NULL) {
			/* The storage worker is behind our compacted log: that
			 * needs a database snapshot, which only a peer can lack
			 * (our own store never loses what it made durable). */
			log_error("storage worker needs entry %llu, compacted away",
				(unsigned long long)(d->store_sent + 1));
			exit(WORKER_EXIT_CRASH);
		}
		a.index = e->index;
		a.term = e->term;
		a.type = e->type;
		proto_apply_encode_fixed(fixed, &a);
		if (ipc_conn_send(d->store, IPC_APPLY, 0, 0, 0, fixed, sizeof(fixed), e->data, e->len) != 0)
			return;
		d->store_sent = e->index;
	}
}

void raftd_store_progress(struct raftd *d, uint64_t applied, uint64_t durable)
{
	uint64_t upto;

	raftd_pump_store(d);
	/* Entries the database has made durable are not needed for recovery;
	 * keep a tail in memory for peers that lag a little. */
	if (durable <= RAFTD_KEEP_ENTRIES || durable - RAFTD_KEEP_ENTRIES <= d->compacted)
		return;
	upto = durable - RAFTD_KEEP_ENTRIES;
	const struct raft_entry *e = raft_entry_at(d->raft, upto);
	if (e == NULL)
		return;
	if (wal_append_snapshot(d->wal, upto, e->term) != 0 || wal_sync(d->wal) != 0)
		return;
	if (raft_compact(d->raft, upto) == 0) {
		d->compacted = upto;
		wal_release_before(d->wal, upto);
		malloc_trim(0); /* give the compacted entries' memory back */
	}
}

static int open_core(struct raftd *d, struct wal_recovered *rec, char *err, size_t errlen)
{
	const struct cetcd_config *cfg = d->w->cfg;
	uint64_t peers[CLUSTER_MAX_MEMBERS];
	struct raft_config rc;
	struct raft_hard_state hs;
	struct raft_entry *ents;
	struct raft_snapshot_meta snap;
	int r;

	for (size_t i = 0; i < d->cluster.n; i++)
		peers[i] = d->cluster.v[i].id;
	memset(&rc, 0, sizeof(rc));
	rc.id = d->cluster.self_id;
	rc.peers = peers;
	rc.npeers = d->cluster.n;
	rc.heartbeat_tick = 1;
	rc.election_tick = (int)(cfg->election_timeout_ms / (cfg->heartbeat_interval_ms ? cfg->heartbeat_interval_ms : 100));
	if (rc.election_tick <= rc.heartbeat_tick)
		rc.election_tick = 10;
	rc.pre_vote = cfg->pre_vote;
	rc.check_quorum = 1;
	rc.max_inflight = 256;
	rc.max_msg_bytes = 1u << 20;
	rc.seed = d->cluster.self_id ^ (uint64_t)getpid();
	hs.term = rec->hardstate.term;
	hs.vote = rec->hardstate.vote;
	hs.commit = rec->hardstate.commit;
	ents = calloc(rec->n_entries ? rec->n_entries : 1, sizeof(*ents));
	if (ents == NULL)
		return errf(err, errlen, CE_NOMEM, "out of memory");
	for (size_t i = 0; i < rec->n_entries; i++) {
		ents[i].index = rec->entries[i].index;
		ents[i].term = rec->entries[i].term;
		ents[i].type = rec->entries[i].type;
		ents[i].data = (void *)rec->entries[i].data;
		ents[i].len = rec->entries[i].len;
	}
	memset(&snap, 0, sizeof(snap));
	snap.index = rec->snapshot.index;
	snap.term = rec->snapshot.term;
	snap.voters = peers;
	snap.nvoters = d->cluster.n;
	r = raft_new(&d->raft, &rc, rec->has_hardstate ? &hs : NULL, ents, rec->n_entries,
		rec->has_snapshot ? &snap : NULL, err, errlen);
	free(ents);
	d->compacted = rec->snapshot.index;
	return r;
}

int raftd_node_open(struct raftd *d, char *err, size_t errlen)
{
	const struct cetcd_config *cfg = d->w->cfg;
	struct wal_opts opts = { 0 };
	struct wal_recovered rec;
	struct timeval tick;
	char dir[PATH_MAX];
	int rc;

	config_wal_dir(d->w->cfg, dir, sizeof(dir));
	if (!wal_exists(dir) && (rc = bootstrap_wal(d, dir, err, errlen)) != 0)
		return rc;
	rc = wal_open(&d->wal, dir, &opts, &rec, err, errlen);
	if (rc != 0)
		return rc;
	if (rec.torn)
		log_warn("wal: truncated a torn tail of %llu bytes at offset %llu",
			(unsigned long long)rec.torn_bytes, (unsigned long long)rec.torn_offset);
	if (rec.member_id != d->cluster.self_id)
		log_warn("wal belongs to member %016llx, flags say %016llx; using the wal's",
			(unsigned long long)rec.member_id, (unsigned long long)d->cluster.self_id);
	rc = open_core(d, &rec, err, errlen);
	log_info("recovered wal: %zu entries after snapshot %llu, term %llu, commit %llu",
		rec.n_entries, (unsigned long long)rec.snapshot.index, (unsigned long long)rec.hardstate.term,
		(unsigned long long)rec.hardstate.commit);
	wal_recovered_close(&rec);
	if (rc != 0)
		return rc;
	d->ready_ev = event_new(d->w->base, -1, 0, ready_cb, d);
	event_priority_set(d->ready_ev, 1);
	d->tick_ev = event_new(d->w->base, -1, EV_PERSIST, tick_cb, d);
	tick.tv_sec = (time_t)(cfg->heartbeat_interval_ms / 1000);
	tick.tv_usec = (suseconds_t)((cfg->heartbeat_interval_ms % 1000) * 1000);
	event_add(d->tick_ev, &tick);
	if (d->cluster.n == 1)
		raft_campaign(d->raft); /* a lone member need not wait a timeout */
	raftd_schedule_ready(d);
	return 0;
}

void raftd_node_close(struct raftd *d)
{
	if (d->tick_ev)
		event_free(d->tick_ev);
	if (d->ready_ev)
		event_free(d->ready_ev);
	if (d->raft)
		raft_free(d->raft);
	if (d->wal) {
		wal_sync(d->wal);
		wal_close(d->wal);
	}
}
