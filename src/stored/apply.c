/* apply.c - apply committed entries to the database.
 *
 * Entries of one read burst from the raft worker share one transaction,
 * which also records the applied index and term; only after it commits are
 * results sent to api workers and events published, so a client that sees
 * a response can read what it wrote.
 */
#include "config.h"
#include "stored/stored_int.h"
#include "config/cfg.h"
#include "ipc/frame.h"
#include "ipc/proto.h"
#include "ipc/worker.h"
#include "raft/raft.h"
#include "store/v2req.h"
#include "store/v2store.h"
#include "util/err.h"
#include "util/log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void stored_queue_result(struct stored *s, const struct proto_envelope *env, uint32_t http_status,
	uint32_t error_code, uint64_t etcd_index, const void *body, size_t len, uint64_t index)
{
	struct proto_result pr;
	uint8_t fixed[PROTO_RESULT_FIXED];

	if (env->origin == PROTO_ORIGIN_NONE)
		return;
	if (env->member != 0 && env->member != s->cluster.self_id)
		return; /* proposed on another member: its storage worker answers */
	pr.http_status = http_status;
	pr.error_code = error_code;
	pr.etcd_index = etcd_index;
	pr.raft_index = index;
	pr.raft_term = s->applied_term;
	proto_result_encode_fixed(fixed, &pr);
	buf_put_u32(&s->out.results, env->origin);
	buf_put_u32(&s->out.results, env->gen);
	buf_put_u64(&s->out.results, env->req_id);
	buf_put_u32(&s->out.results, (uint32_t)(sizeof(fixed) + len));
	buf_put(&s->out.results, fixed, sizeof(fixed));
	buf_put(&s->out.results, body, len);
}

static void queue_result(struct stored *s, const struct proto_envelope *env,
	const struct v2_result *res, uint64_t index)
{
	stored_queue_result(s, env, (uint32_t)res->http_status, (uint32_t)res->error_code,
		res->etcd_index, res->body.data, res->body.len, index);
}

static void queue_events(struct stored *s, const struct v2_result *res)
{
	struct buf one;

	buf_init(&one);
	for (size_t i = 0; i < res->nevents; i++) {
		const struct v2_event *e = &res->events[i];
		struct proto_event pe;

		if (e->refresh)
			continue; /* in the history, but etcd notifies no watcher */
		pe.index = e->modified_index;
		pe.flags = (uint8_t)((e->is_dir ? PROTO_EV_DIR : 0) | (e->internal ? PROTO_EV_INTERNAL : 0));
		pe.key = e->key;
		pe.key_len = e->key_len;
		pe.body = e->body;
		pe.len = e->body_len;
		buf_reset(&one);
		proto_event_encode(&one, &pe);
		buf_put_u32(&s->out.events, (uint32_t)one.len);
		buf_put(&s->out.events, one.data, one.len);
	}
	buf_close(&one);
}

static int begin_txn(struct stored *s)
{
	int rc;

	if (s->txn)
		return 0;
	rc = s->env->txn_begin(s->env, NULL, &s->txn, 0);
	if (rc != 0) {
		log_error("txn_begin: %s", db_strerror(rc));
		exit(WORKER_EXIT_CRASH);
	}
	clock_gettime(CLOCK_MONOTONIC, &s->batch_t0);
	s->batch_entries = 0;
	return 0;
}

/* warn_slow_batch: etcd's warning when applying entries takes longer than
 * --experimental-warning-apply-duration. */
static void warn_slow_batch(struct stored *s)
{
	struct timespec t1;
	int64_t ns;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	ns = (int64_t)(t1.tv_sec - s->batch_t0.tv_sec) * 1000000000 + (t1.tv_nsec - s->batch_t0.tv_nsec);
	if (s->w->cfg->experimental_warning_apply_duration_ns > 0 &&
		ns > s->w->cfg->experimental_warning_apply_duration_ns)
		log_warn("apply entries took too long [%.6fms for %u entries]", (double)ns / 1e6,
			s->batch_entries);
}

static void apply_v2(struct stored *s, const struct proto_envelope *env, uint64_t index)
{
	struct v2_req req;
	struct v2_result res;
	int rc;

	if (v2_req_decode(&req, env->body, env->len) != 0) {
		log_error("entry %" PRIu64 ": undecodable v2 request; skipped", index);
		return;
	}
	memset(&res, 0, sizeof(res));
	rc = v2store_apply(s->v2, s->txn, &req, &res);
	if (rc != 0) {
		/* A database failure, not a request error: the batch cannot
		 * commit. Crash; recovery replays from the applied index. */
		log_error("entry %" PRIu64 ": apply failed: %s", index, ce_strerror(rc));
		exit(WORKER_EXIT_CRASH);
	}
	queue_result(s, env, &res, index);
	queue_events(s, &res);
	v2_result_close(&res);
}

void stored_internal_put(struct v2_req *req, const char *path, const char *value, int64_t time_ns)
{
	memset(req, 0, sizeof(*req));
	req->op = V2_OP_PUT;
	req->internal = 1;
	req->prev_exist = -1;
	req->path = path;
	req->path_len = strlen(path);
	req->value = value;
	req->value_len = strlen(value);
	req->time_ns = time_ns;
}

/* is_own_publish: the entry publishes this member's attributes (etcd
 * serves clients once its own attributes are applied, not another's). */
static int is_own_publish(struct stored *s, const struct proto_envelope *env)
{
	struct v2_req req;
	char path[96];
	int n;

	if (v2_req_decode(&req, env->body, env->len) != 0)
		return 0;
	n = snprintf(path, sizeof(path), "/0/members/%" PRIx64 "/attributes", s->cluster.self_id);
	return req.path_len == (size_t)n && memcmp(req.path, path, (size_t)n) == 0;
}

void stored_apply_entry(struct stored *s, const uint8_t *p, size_t n)
{
	struct proto_apply a;
	struct proto_envelope env;

	if (proto_apply_decode(&a, p, n) != 0) {
		log_error("bad apply message");
		return;
	}
	if (a.index <= s->applied)
		return; /* replayed after a reconnect: already in the database */
	if (a.index != s->applied + 1) {
		log_error("entry %" PRIu64 " arrived after %" PRIu64 "; gap", a.index, s->applied);
		exit(WORKER_EXIT_CRASH);
	}
	begin_txn(s);
	s->batch_entries++;
	s->applied = a.index;
	s->applied_term = a.term;
	if (a.type == RAFT_ENTRY_CONF_CHANGE) {
		stored_apply_conf(s, a.data, a.len, a.index);
		return;
	}
	if (a.len == 0)
		return; /* a new leader's empty entry */
	if (proto_envelope_decode(&env, a.data, a.len) != 0) {
		log_error("entry %" PRIu64 ": bad envelope; skipped", a.index);
		return;
	}
	switch (env.kind) {
	case PROTO_PUBLISH:
		apply_v2(s, &env, a.index);
		/* etcd serves clients once its attributes are published. */
		if (is_own_publish(s, &env))
			__atomic_store_n(&s->w->shm->store->serving, 1, __ATOMIC_RELEASE);
		break;
	case PROTO_V2:
	case PROTO_V2_SYNC:
		apply_v2(s, &env, a.index);
		break;
	case PROTO_V3:
		stored_apply_v3(s, &env, a.index);
		break;
	default:
		log_error("entry %" PRIu64 ": unknown kind %u; skipped", a.index, env.kind);
		break;
	}
}

void stored_apply_batch_end(struct stored *s)
{
	struct shm_store *st = s->w->shm->store;
	int rc;

	if (s->txn == NULL)
		return;
	if ((rc = v2store_set_applied(s->v2, s->txn, s->applied)) != 0 ||
		(rc = v2store_set_applied_term(s->v2, s->txn, s->applied_term)) != 0 ||
		(rc = s->txn->commit(s->txn, 0)) != 0) {
		log_error("commit applied batch: %s", rc > 0 ? db_strerror(rc) : ce_strerror(rc));
		exit(WORKER_EXIT_CRASH);
	}
	s->txn = NULL;
	warn_slow_batch(s);
	__atomic_store_n(&s->committed, s->applied, __ATOMIC_RELEASE);
	shm_write_begin(&st->seq);
	st->applied_index = s->applied;
	st->applied_term = s->applied_term;
	st->v2_index = v2store_current_index(s->v2);
	shm_write_end(&st->seq);
	stored_v3_after_batch(s);
	stored_flush_out(s);
	stored_duties_after_batch(s);
	stored_send_progress(s);
}

void stored_send_progress(struct stored *s)
{
	uint8_t prog[16];

	le_put64(prog, s->applied);
	le_put64(prog + 8, s->durable);
	stored_send_to_raft(s, IPC_APPLIED, prog, sizeof(prog));
}

int stored_meta_load(struct stored *s, char *err, size_t errlen)
{
	int rc = v2store_applied_index(s->v2, NULL, &s->applied);

	if (rc == 0)
		rc = v2store_applied_term(s->v2, NULL, &s->applied_term);
	if (rc != 0)
		return errf(err, errlen, rc, "read applied index: %s", ce_strerror(rc));
	s->durable = s->applied;
	return 0;
}
