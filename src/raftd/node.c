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
#include "store/v2req.h"
#include "config/cfg.h"
#include "ipc/conn.h"
#include "ipc/frame.h"
#include "ipc/proto.h"
#include "ipc/worker.h"
#include "raft/raft.h"
#include "util/buf.h"
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
	{
		/* Who the members are and where they listen, so that a restart
		 * needs neither the flags nor the discovery service or DNS that
		 * found them (etcd restarts from its stored membership too).
		 * Joining a running cluster, the leader sends the log or a
		 * snapshot later. */
		char *conf = cluster_members_json(&d->cluster);
		rc = conf ? wal_append_snapshot_conf(wal, 0, 0, conf, strlen(conf)) : CE_NOMEM;
		free(conf);
	}
	if (!d->cluster.join) {
		for (size_t i = 0; i < d->cluster.n && rc == 0; i++) {
			struct raft_conf_change cc = { RAFT_CONF_ADD_NODE, d->cluster.v[i].id };
			uint8_t raw[RAFT_CONF_CHANGE_LEN];
			raft_conf_change_encode(&cc, raw);
			rc = wal_append_entry(wal, i + 1, 1, RAFT_ENTRY_CONF_CHANGE, raw, sizeof(raw));
		}
		if (rc == 0)
			rc = wal_append_hardstate(wal, 1, 0, d->cluster.n);
	}
	if (rc == 0)
		rc = wal_sync(wal);
	wal_close(wal);
	if (rc != 0)
		return errf(err, errlen, rc, "bootstrap wal %s: %s", dir, ce_strerror(rc));
	log_info("%s member %016llx of cluster %016llx", d->cluster.join ? "joining as" :
		"bootstrapped a new", (unsigned long long)d->cluster.self_id,
		(unsigned long long)d->cluster.cluster_id);
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
	memcpy(s->wal_fsync_buckets, ws.fsync_buckets, sizeof(s->wal_fsync_buckets));
	raftd_stats_publish(d);
	shm_write_end(&s->seq);
	if (leader != d->last_leader) {
		if (leader != RAFT_NONE)
			log_info("leader is %016llx at term %llu", (unsigned long long)leader,
				(unsigned long long)raft_term(d->raft));
		else
			log_info("no leader at term %llu", (unsigned long long)raft_term(d->raft));
	}
	d->last_leader = leader;
	if (d->stopping && leader != d->cluster.self_id && leader != RAFT_NONE)
		event_base_loopexit(d->w->base, NULL); /* leadership handed over */
	if (leader != RAFT_NONE && d->held != NULL)
		raftd_flush_held(d);
}

static int persist(struct raftd *d, const struct raft_ready *rd)
{
	int rc = 0;

	if (rd->snapshot != NULL) {
		const char *conf = d->snap_rx_conf;
		rc = wal_append_snapshot_conf(d->wal, rd->snapshot->index, rd->snapshot->term, conf,
			conf ? strlen(conf) : 0);
	}
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

static void exit_removed(evutil_socket_t fd, short what, void *arg)
{
	log_error("the member has been permanently removed from the cluster; the data-dir used by "
		"this member must be removed");
	exit(WORKER_EXIT_REMOVED);
}

/* note_attributes: a committed publish of a member's attributes (name and
 * client URLs) goes into the member table too, so that the peer port's
 * GET /members names every member's client URLs, as etcd's does (proxies
 * ask it), and snapshot records carry them. */
static void note_attributes(struct raftd *d, const struct raft_entry *e)
{
	static const char pre[] = "/0/members/", suf[] = "/attributes";
	struct proto_envelope env;
	struct v2_req req;
	char idhex[17];
	size_t n;

	if (e->type != RAFT_ENTRY_NORMAL || e->len == 0 ||
		proto_envelope_decode(&env, e->data, e->len) != 0 || env.kind != PROTO_PUBLISH ||
		v2_req_decode(&req, env.body, env.len) != 0 || req.path_len <= sizeof(pre) - 1 +
		sizeof(suf) - 1 || memcmp(req.path, pre, sizeof(pre) - 1) != 0 ||
		memcmp(req.path + req.path_len - (sizeof(suf) - 1), suf, sizeof(suf) - 1) != 0)
		return;
	n = req.path_len - (sizeof(pre) - 1) - (sizeof(suf) - 1);
	if (n == 0 || n >= sizeof(idhex))
		return;
	memcpy(idhex, req.path + sizeof(pre) - 1, n);
	idhex[n] = '\0';
	cluster_set_attributes(&d->cluster, strtoull(idhex, NULL, 16), req.value, req.value_len);
}

/* Committed configuration changes update the core and the member table
 * (peer connections follow); the storage worker records them under /0. */
static void apply_conf_changes(struct raftd *d, const struct raft_ready *rd)
{
	int changed = 0;

	for (size_t i = 0; i < rd->ncommitted; i++) {
		const struct raft_entry *e = &rd->committed[i];
		struct raft_conf_change cc;
		struct proto_envelope env;
		const char *ctx = NULL;
		size_t ctxlen = 0;

		if (e->type != RAFT_ENTRY_CONF_CHANGE) {
			note_attributes(d, e);
			continue;
		}
		if (raft_conf_change_decode(&cc, e->data, e->len) != 0)
			continue;
		if (e->len > RAFT_CONF_CHANGE_LEN &&
			proto_envelope_decode(&env, (const uint8_t *)e->data + RAFT_CONF_CHANGE_LEN,
				e->len - RAFT_CONF_CHANGE_LEN) == 0 && env.kind == PROTO_CONF) {
			ctx = env.body;
			ctxlen = env.len;
		}
		raft_apply_conf_change(d->raft, &cc);
		changed |= cluster_apply_conf(&d->cluster, cc.type, cc.node_id, ctx, ctxlen);
		if (cc.type == RAFT_CONF_REMOVE_NODE && cc.node_id == d->cluster.self_id && !d->removed) {
			struct timeval tv = { 0, 500000 }; /* let the answer and the commit get out */
			d->removed = 1;
			d->exit_ev = evtimer_new(d->w->base, exit_removed, d);
			evtimer_add(d->exit_ev, &tv);
		}
	}
	if (changed)
		raftd_peers_sync(d);
}

static void after_advance(struct raftd *d)
{
	for (uint32_t i = 0; i < d->nunreachable; i++)
		raft_report_unreachable(d->raft, d->unreachable[i]);
	d->nunreachable = 0;
	/* A lone voter need not wait an election timeout. */
	if (!d->lone_started && raft_leader(d->raft) == RAFT_NONE && raft_is_voter(d->raft, raft_id(d->raft))) {
		uint64_t v[2];
		d->lone_started = 1;
		if (raft_voters(d->raft, v, 2) == 1)
			raft_campaign(d->raft);
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
		raftd_peers_send_msgs(d, rd.msgs, rd.nmsgs);
		apply_conf_changes(d, &rd);
		if (rd.nreads)
			raftd_answer_reads(d, rd.reads, rd.nreads);
		if (rd.snapshot)
			raftd_snap_installed(d, &rd);
		raft_advance(d->raft, &rd);
		after_advance(d);
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
	if (d->held != NULL)
		raftd_flush_held(d);
	if (d->store_sent < d->compacted)
		raftd_pump_store(d); /* a snapshot load may need asking again */
	if (d->nreads)
		raftd_reads_tick(d);
	raftd_move_tick(d); /* MoveLeader waiters (move.c) */
	if (raft_has_ready(d->raft))
		raftd_schedule_ready(d);
}

void raftd_pump_store(struct raftd *d)
{
	uint64_t commit = raft_commit(d->raft);

	if (d->store == NULL)
		return;
	if (d->store_sent < d->compacted) {
		raftd_snap_restore_store(d);
		return;
	}
	while (d->store_sent < commit && ipc_conn_backlog(d->store) < RAFTD_STORE_BACKLOG) {
		const struct raft_entry *e = raft_entry_at(d->raft, d->store_sent + 1);
		struct proto_apply a;
		uint8_t fixed[PROTO_APPLY_FIXED];

		if (e == NULL) {
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

	if (applied > d->store_sent)
		d->store_sent = applied; /* a snapshot was loaded */
	raftd_pump_store(d);
	raftd_snap_maybe_save(d, applied);
	/* Entries the database has made durable are not needed for recovery;
	 * keep a tail in memory for peers that lag a little. */
	if (durable <= RAFTD_KEEP_ENTRIES || durable - RAFTD_KEEP_ENTRIES <= d->compacted)
		return;
	upto = durable - RAFTD_KEEP_ENTRIES;
	const struct raft_entry *e = raft_entry_at(d->raft, upto);
	if (e == NULL)
		return;
	{
		char *conf = cluster_members_json(&d->cluster);
		int rc = wal_append_snapshot_conf(d->wal, upto, e->term, conf, conf ? strlen(conf) : 0);
		free(conf);
		if (rc != 0 || wal_sync(d->wal) != 0)
			return;
	}
	if (raft_compact(d->raft, upto) == 0) {
		d->compacted = upto;
		d->compacted_term = e->term;
		wal_release_before(d->wal, upto);
		malloc_trim(0); /* give the compacted entries' memory back */
	}
}

static int open_core(struct raftd *d, struct wal_recovered *rec, char *err, size_t errlen)
{
	const struct cetcd_config *cfg = d->w->cfg;
	uint64_t voters[CLUSTER_MAX_MEMBERS], learners[CLUSTER_MAX_MEMBERS];
	struct raft_config rc;
	struct raft_hard_state hs;
	struct raft_entry *ents;
	struct raft_snapshot_meta snap;
	int r, have_snap = rec->has_snapshot;

	/* Membership: the snapshot marker's, else the log's configuration
	 * changes replayed from an empty set (etcd's RestartNode). Markers
	 * written by a single-member cetcd carry none: the flags' table. */
	if (rec->has_snapshot && rec->snapshot.conf_len > 0 &&
		cluster_members_load(&d->cluster, (const char *)rec->snapshot.conf,
			rec->snapshot.conf_len) != 0)
		return errf(err, errlen, CE_CORRUPT, "wal: bad membership in the snapshot record");
	memset(&snap, 0, sizeof(snap));
	if (rec->has_snapshot) {
		for (size_t i = 0; i < d->cluster.n; i++) {
			if (d->cluster.v[i].learner)
				learners[snap.nlearners++] = d->cluster.v[i].id;
			else
				voters[snap.nvoters++] = d->cluster.v[i].id;
		}
	}
	snap.index = rec->snapshot.index;
	snap.term = rec->snapshot.term;
	snap.voters = voters;
	snap.learners = learners;
	memset(&rc, 0, sizeof(rc));
	rc.id = d->cluster.self_id;
	rc.peers = voters;
	rc.npeers = 0;
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
	r = raft_new(&d->raft, &rc, rec->has_hardstate ? &hs : NULL, ents, rec->n_entries,
		have_snap ? &snap : NULL, err, errlen);
	free(ents);
	d->compacted = rec->snapshot.index;
	d->compacted_term = rec->snapshot.term;
	return r;
}

/* --force-new-cluster (etcd's forceNewCluster): keep the data, drop the
 * uncommitted tail, and commit locally one removal per other member, so
 * this member restarts as a one-member cluster with everything it had
 * committed. Idempotent: a second run finds nobody left to remove. */
static int force_new_cluster(struct raftd *d, struct wal_recovered *rec, char *err, size_t errlen)
{
	struct cluster c;
	uint64_t index = rec->hardstate.commit, term = rec->hardstate.term;
	int rc = 0, n = 0;

	if (cluster_copy(&c, &d->cluster) != 0)
		return errf(err, errlen, CE_NOMEM, "out of memory");
	if (rec->has_snapshot && rec->snapshot.conf_len > 0)
		cluster_members_load(&c, (const char *)rec->snapshot.conf, rec->snapshot.conf_len);
	for (size_t i = 0; i < rec->n_entries && rec->entries[i].index <= index; i++) {
		const struct wal_entry *e = &rec->entries[i];
		struct raft_conf_change cc;
		struct proto_envelope env;
		if (e->type != RAFT_ENTRY_CONF_CHANGE || raft_conf_change_decode(&cc, e->data, e->len) != 0)
			continue;
		if (e->len > RAFT_CONF_CHANGE_LEN && proto_envelope_decode(&env, e->data + RAFT_CONF_CHANGE_LEN,
			e->len - RAFT_CONF_CHANGE_LEN) == 0)
			cluster_apply_conf(&c, cc.type, cc.node_id, env.body, env.len);
		else
			cluster_apply_conf(&c, cc.type, cc.node_id, NULL, 0);
	}
	for (size_t i = 0; i < c.n && rc == 0; i++) {
		struct raft_conf_change cc = { RAFT_CONF_REMOVE_NODE, c.v[i].id };
		struct proto_envelope env;
		struct buf b;
		char *json;

		if (c.v[i].id == d->cluster.self_id)
			continue;
		json = cluster_member_json(&c.v[i]);
		memset(&env, 0, sizeof(env));
		env.kind = PROTO_CONF;
		env.origin = PROTO_ORIGIN_NONE;
		env.body = json;
		env.len = json ? strlen(json) : 0;
		buf_init(&b);
		buf_put(&b, "\0\0\0\0\0\0\0\0\0", RAFT_CONF_CHANGE_LEN);
		raft_conf_change_encode(&cc, b.data);
		proto_envelope_encode(&b, &env);
		rc = wal_append_entry(d->wal, ++index, term, RAFT_ENTRY_CONF_CHANGE, b.data, b.len);
		buf_close(&b);
		free(json);
		n++;
		log_warn("force-new-cluster: removing member %016llx", (unsigned long long)cc.node_id);
	}
	cluster_close(&c);
	if (rc == 0 && n > 0 && (rc = wal_append_hardstate(d->wal, term, rec->hardstate.vote, index)) == 0)
		rc = wal_sync(d->wal);
	if (rc != 0)
		return errf(err, errlen, rc, "force-new-cluster: %s", ce_strerror(rc));
	return n;
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
	if (cfg->force_new_cluster && (rc = force_new_cluster(d, &rec, err, errlen)) != 0) {
		/* Read back what we wrote, as a restart would. */
		wal_recovered_close(&rec);
		wal_close(d->wal);
		d->wal = NULL;
		if (rc < 0)
			return rc;
		if ((rc = wal_open(&d->wal, dir, &opts, &rec, err, errlen)) != 0)
			return rc;
	}
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
	raftd_schedule_ready(d);
	return 0;
}

void raftd_node_close(struct raftd *d)
{
	if (d->exit_ev)
		event_free(d->exit_ev);
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
