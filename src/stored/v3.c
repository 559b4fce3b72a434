/* v3.c - the storage worker's side of the v3 API: the MVCC and lease
 * stores opened for writing, and committed v3 entries executed in the
 * batch transaction (src/v3 does the work). */
#include "config.h"
#include "stored/stored_int.h"
#include "config/cfg.h"
#include "ipc/frame.h"
#include "ipc/proto.h"
#include "ipc/shm.h"
#include "pb/pb.h"
#include "ipc/worker.h"
#include "store/lease.h"
#include "store/mvcc.h"
#include "util/err.h"
#include "util/log.h"
#include <string.h>
#include "v3/v3.h"
#include "v3/v3auth.h"
#include "store/authtok.h"
#include "store/meta.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* v3 auth (v3auth.h): our handle on meta.db and this member's tokens. */
static DB *auth_meta;
static struct authtok *auth_tok;

static int auth_open(struct stored *s, char *err, size_t errlen)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/member/%s", s->w->cfg->data_dir, AUTHTOK_FILE);
	if (authtok_open(&auth_tok, path, 1, err, errlen) != 0)
		log_warn("v3 auth tokens: %s (Authenticate will give tokens nobody knows)", err);
	return meta_db_open(&auth_meta, s->env, 1, err, errlen);
}

int stored_v3_open(struct stored *s, char *err, size_t errlen)
{
	const struct cetcd_config *cfg = s->w->cfg;
	struct lease_cfg lc;
	int rc;

	if ((rc = mvcc_open(&s->mvcc, s->env, 1, err, errlen)) != 0)
		return rc;
	if ((rc = stored_alarm_open(s, err, errlen)) != 0) /* alarm.c */
		return rc;
	if ((rc = auth_open(s, err, errlen)) != 0) /* v3auth */
		return rc;
	lease_cfg_init(&lc, (int64_t)cfg->heartbeat_interval_ms, (int64_t)cfg->election_timeout_ms);
	/* Always on (etcd 3.4: --experimental-enable-lease-checkpoint, off by
	 * default): a leader change must not hand a lease its full TTL again. */
	lc.checkpointing = 1;
	lc.checkpoint_ms = cfg->experimental_lease_checkpoint_interval_ns / 1000000;
	return lease_open(&s->lease, s->env, 1, &lc, err, errlen);
}

void stored_v3_close(struct stored *s)
{
	stored_defrag_stop(s); /* defrag.c, alarm.c */
	stored_alarm_close(s);
	if (auth_meta)
		auth_meta->close(auth_meta, 0);
	auth_meta = NULL;
	authtok_free(auth_tok);
	auth_tok = NULL;
	if (s->lease)
		lease_free(s->lease);
	s->lease = NULL;
	if (s->mvcc)
		mvcc_free(s->mvcc);
	s->mvcc = NULL;
}

/* queue_events: the watch events of the revision just written, for every
 * api worker, sent after the batch commits. */
static void queue_events(struct stored *s, const struct v3_ctx *c)
{
	const struct mvcc_event *ev;
	struct buf one;
	size_t n;

	ev = mvcc_wtxn_events(s->mvcc, &n);
	buf_init(&one);
	buf_put_u64(&one, (uint64_t)c->events_rev);
	for (size_t i = 0; i < n; i++)
		v3_put_event(&one, 11, &ev[i], 1);
	buf_put_u32(&s->out.events_v3, (uint32_t)one.len);
	buf_put(&s->out.events_v3, one.data, one.len);
	buf_close(&one);
}

void stored_apply_v3(struct stored *s, const struct proto_envelope *env, uint64_t index)
{
	const uint8_t *body = env->body;
	struct proto_envelope inner; /* v3auth: the request inside a V3_AUTH_WRAP */
	struct v3_ctx c = { 0 };
	struct buf out;
	char msg[256];
	int code = 0, rc;

	if (env->len < 1) {
		log_error("entry %" PRIu64 ": empty v3 request; skipped", index);
		return;
	}
	c.mvcc = s->mvcc;
	c.lease = s->lease;
	c.cluster_id = s->cluster.cluster_id;
	c.member_id = s->cluster.self_id;
	c.raft_term = s->applied_term;
	c.max_txn_ops = (int64_t)s->w->cfg->max_txn_ops;
	c.now_ms = (int64_t)shm_now_ms();
	buf_init(&out);
	if (body[0] == V3_AUTH_WRAP) { /* v3auth: re-check the sender's rights */
		struct v3_auth_who who;
		const uint8_t *req;
		size_t rl;
		int m;
		if (v3_auth_unwrap(body + 1, env->len - 1, &who, &m, &req, &rl) != 0 ||
			(rc = v3_auth_check(auth_meta, s->txn, s->lease, &who, m, req, rl, &code, msg,
				sizeof(msg))) != 0) {
			log_error("entry %" PRIu64 ": v3 auth check failed; exiting", index);
			exit(WORKER_EXIT_CRASH);
		}
		if (code != 0) {
			stored_queue_result(s, env, (uint32_t)v3_http_status(code), (uint32_t)code, 0, msg,
				strlen(msg), index);
			buf_close(&out);
			return;
		}
		inner = *env;
		inner.body = req - 1; /* [method][request] */
		inner.len = rl + 1;
		env = &inner;
		body = req - 1;
	}
	if (stored_alarm_hook(s, env, index)) { /* alarm.c: Alarm, NOSPACE */
		buf_close(&out);
		return;
	}
	if (body[0] == V3_AUTH) /* v3auth.c: the Auth service */
		rc = v3_auth_apply(&c, auth_meta, s->txn, index, auth_tok,
			(int64_t)s->w->cfg->auth_token_ttl * 1000, c.now_ms, body + 1, env->len - 1, &out,
			&code, msg, sizeof(msg));
	else
		rc = v3_apply(&c, s->txn, body[0], body + 1, env->len - 1, &out, &code, msg, sizeof(msg));
	if (rc < 0 || out.oom) {
		log_error("entry %" PRIu64 ": v3 apply failed: %s; exiting", index, ce_strerror(rc));
		exit(WORKER_EXIT_CRASH);
	}
	if (c.events_rev != 0)
		queue_events(s, &c);
	if (code == 0)
		stored_queue_result(s, env, 200, 0, 0, out.data, out.len, index);
	else
		stored_queue_result(s, env, (uint32_t)v3_http_status(code), (uint32_t)code, 0, msg, strlen(msg), index);
	buf_close(&out);
}

/* publish_deadlines copies the primary lessor's deadlines to shared memory
 * when they changed (api workers answer LeaseTimeToLive from them). */
static void publish_deadlines(struct stored *s, int leader)
{
	struct shm_leases *sl = s->w->shm->leases;
	uint64_t gen = leader ? lease_expiry_gen(s->lease) + 1 : 0;
	size_t n = 0;

	if (gen == s->deadlines_gen)
		return;
	s->deadlines_gen = gen;
	shm_write_begin(&sl->seq);
	if (leader) {
		n = lease_expiry_dump(s->lease, (struct lease_expiry *)sl->v, SHM_MAX_LEASE_DEADLINES);
		if (n > SHM_MAX_LEASE_DEADLINES)
			n = SHM_MAX_LEASE_DEADLINES;
	}
	sl->n = (uint32_t)n;
	sl->gen = gen;
	shm_write_end(&sl->seq);
}

/* --auto-compaction-mode/--auto-compaction-retention (etcd's compactor),
 * run by the leader's storage worker, which proposes the Compaction:
 * - periodic: the revision is sampled every retention/10; every retention
 *   (at most every hour) the store is compacted to the newest sample at
 *   least retention old;
 * - revision: every 5 minutes, to the current revision minus retention. */
#define AUTO_COMPACT_REVISION_EVERY_MS (5u * 60u * 1000u)

static void propose_compact(struct stored *s, int64_t rev)
{
	struct buf req;
	uint8_t m = V3_COMPACT;

	buf_init(&req);
	buf_put(&req, &m, 1);
	pb_put_i64(&req, 1, rev); /* CompactionRequest.revision */
	stored_propose(s, PROTO_V3, req.data, req.len);
	buf_close(&req);
	log_info("auto compaction at revision %" PRId64, rev);
}

static void auto_compact(struct stored *s, int leader, uint64_t now_ms)
{
	const struct cetcd_config *cfg = s->w->cfg;
	int64_t retention = cfg->auto_compaction_retention_value;
	struct auto_compact *ac = &s->auto_compact;
	struct mvcc_state st;
	char err[128];

	if (retention <= 0 || !leader) {
		ac->n = 0;
		ac->last_ms = 0;
		return;
	}
	if (mvcc_revisions(s->mvcc, &st, err, sizeof(err)) != 0)
		return;
	if (strcmp(cfg->auto_compaction_mode, "revision") == 0) {
		if (ac->last_ms == 0)
			ac->last_ms = now_ms;
		if (now_ms - ac->last_ms < AUTO_COMPACT_REVISION_EVERY_MS)
			return;
		ac->last_ms = now_ms;
		if (st.current - retention > 0 && st.current - retention > st.compacted)
			propose_compact(s, st.current - retention);
		return;
	}
	{
		uint64_t ret_ms = (uint64_t)(retention / 1000000), every = ret_ms < 3600000u ? ret_ms : 3600000u;
		uint64_t step = ret_ms / 10 ? ret_ms / 10 : 1;
		int64_t target = 0;

		if (ac->n == 0 || now_ms - ac->samples[ac->n - 1].ms >= step) {
			if (ac->n == AUTO_COMPACT_SAMPLES) {
				memmove(ac->samples, ac->samples + 1, sizeof(ac->samples[0]) * (ac->n - 1));
				ac->n--;
			}
			ac->samples[ac->n].ms = now_ms;
			ac->samples[ac->n].rev = st.current;
			ac->n++;
		}
		if (ac->last_ms == 0)
			ac->last_ms = now_ms;
		if (now_ms - ac->last_ms < every)
			return;
		for (size_t i = 0; i < ac->n; i++)
			if (now_ms - ac->samples[i].ms >= ret_ms)
				target = ac->samples[i].rev;
		if (target > st.compacted && target > 0) {
			ac->last_ms = now_ms;
			propose_compact(s, target);
		}
	}
}

/* propose_checkpoints: the leader records the remaining TTL of leases
 * whose checkpoint is due, in entries of at most LEASE_CHECKPOINT_BATCH,
 * so that whoever leads next starts them from there. */
static void propose_checkpoints(struct stored *s, uint64_t now_ms)
{
	static struct lease_ckpt due[LEASE_CHECKPOINT_BATCH];
	size_t n;

	while ((n = lease_checkpoints_due(s->lease, (int64_t)now_ms, due, LEASE_CHECKPOINT_BATCH)) > 0) {
		struct buf req;
		uint8_t m = V3_LEASE_CHECKPOINT;

		buf_init(&req);
		buf_put(&req, &m, 1);
		for (size_t i = 0; i < n; i++) {
			size_t at = pb_msg_begin(&req, 1); /* LeaseCheckpointRequest.checkpoints */
			pb_put_i64(&req, 1, due[i].id);
			pb_put_i64(&req, 2, due[i].remaining_ttl);
			pb_msg_end(&req, at);
		}
		stored_propose(s, PROTO_V3, req.data, req.len);
		buf_close(&req);
		if (n < LEASE_CHECKPOINT_BATCH)
			break;
	}
}

/* The leader's lessor: promoted when this member leads (deadlines start
 * from the remaining TTLs, plus an election timeout as etcd), demoted when
 * it does not; expired leases are revoked through raft, as etcd's leader
 * does every 500 ms. */
void stored_v3_duties(struct stored *s, const struct shm_raft *r, uint64_t now_ms)
{
	int64_t ids[64];
	size_t n;
	int leader = r->leader_id != 0 && r->leader_id == r->member_id;

	if (s->lease == NULL || s->raft == NULL)
		return;
	if (leader && !lease_is_primary(s->lease))
		lease_promote(s->lease, (int64_t)now_ms, (int64_t)s->w->cfg->election_timeout_ms);
	else if (!leader && lease_is_primary(s->lease))
		lease_demote(s->lease);
	publish_deadlines(s, leader);
	auto_compact(s, leader, now_ms);
	if (!leader)
		return;
	propose_checkpoints(s, now_ms);
	n = lease_expired(s->lease, (int64_t)now_ms, ids, sizeof(ids) / sizeof(ids[0]));
	for (size_t i = 0; i < n; i++) {
		struct buf req;
		uint8_t m = V3_LEASE_REVOKE;

		buf_init(&req);
		buf_put(&req, &m, 1);
		pb_put_i64(&req, 1, ids[i]); /* LeaseRevokeRequest.ID */
		stored_propose(s, PROTO_V3, req.data, req.len);
		buf_close(&req);
	}
}

/* After each batch: a grant or keepalive applied on the leader shows in
 * LeaseTimeToLive at once. */
void stored_v3_after_batch(struct stored *s)
{
	struct shm_raft r;

	if (s->lease == NULL)
		return;
	/* Promote as soon as the new leader's first entries apply (etcd
	 * promotes on becoming leader), not only at the next tick: a lease
	 * granted meanwhile would otherwise start late. */
	shm_raft_read(s->w->shm, &r);
	if (r.leader_id != 0 && r.leader_id == r.member_id && !lease_is_primary(s->lease))
		lease_promote(s->lease, (int64_t)shm_now_ms(), (int64_t)s->w->cfg->election_timeout_ms);
	if (lease_is_primary(s->lease))
		publish_deadlines(s, 1);
}
