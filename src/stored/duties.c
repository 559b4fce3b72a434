/* duties.c - periodic work of the storage worker:
 *  - on the leader, publish this member's attributes once per start and
 *    the cluster version once, as etcd does;
 *  - on the leader, propose TTL expiry (SYNC with the leader's clock) when
 *    keys are due, so every member and every replay expires the same keys.
 */
#include "config.h"
#include "stored/stored_int.h"
#include "ipc/frame.h"
#include "ipc/proto.h"
#include "ipc/worker.h"
#include "store/env.h"
#include "store/v2req.h"
#include "store/v2store.h"
#include "store/v2query.h"
#include "util/log.h"
#include "util/clock.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void propose_v2(struct stored *s, uint8_t kind, const struct v2_req *req)
{
	struct proto_envelope env;
	struct buf body, out;

	buf_init(&body);
	buf_init(&out);
	v2_req_encode(req, &body);
	memset(&env, 0, sizeof(env));
	env.kind = kind;
	env.origin = PROTO_ORIGIN_NONE;
	env.body = body.data;
	env.len = body.len;
	proto_envelope_encode(&out, &env);
	stored_send_to_raft(s, IPC_PROPOSE, out.data, out.len);
	buf_close(&body);
	buf_close(&out);
}

static void propose_put(struct stored *s, const char *path, const char *value)
{
	struct v2_req req;

	stored_internal_put(&req, path, value, clock_wall_ns());
	propose_v2(s, PROTO_PUBLISH, &req);
}

static void publish(struct stored *s, const struct shm_raft *r)
{
	const struct member *self = &s->cluster.v[s->cluster.self];
	char path[96];
	char *attrs;

	if (s->w->shm->store->published || r->leader_id != r->member_id || s->raft == NULL ||
		s->applied < r->commit_index)
		return;
	attrs = cluster_attributes_json(self);
	if (attrs == NULL)
		return;
	snprintf(path, sizeof(path), "/0/members/%" PRIx64 "/attributes", self->id);
	propose_put(s, path, attrs);
	free(attrs);
	if (!v2store_exists(s->v2, "/0/version"))
		propose_put(s, "/0/version", CETCD_COMPAT_CLUSTER_VERSION);
	s->w->shm->store->published = 1;
	log_info("published member attributes of %016" PRIx64, self->id);
}

static void expire(struct stored *s, const struct shm_raft *r, uint64_t now_ms)
{
	struct v2_req req;
	int64_t now = clock_wall_ns();
	int64_t due;

	if (r->leader_id != r->member_id || s->raft == NULL || now_ms < s->sync_pending_until_ms)
		return;
	if (v2store_next_expiry(s->v2, &due) != 0 || due == 0 || due > now)
		return;
	memset(&req, 0, sizeof(req));
	req.op = V2_OP_SYNC;
	req.prev_exist = -1;
	req.path = "/";
	req.path_len = 1;
	req.time_ns = now;
	propose_v2(s, PROTO_V2_SYNC, &req);
	s->sync_pending_until_ms = now_ms + STORED_TICK_MS;
}

/* After each batch: a new leader publishes at once rather than at the
 * next tick, so clients are served as soon as possible. */
void stored_duties_after_batch(struct stored *s)
{
	struct shm_raft r;

	if (s->w->shm->store->published)
		return;
	shm_raft_read(s->w->shm, &r);
	publish(s, &r);
}

void stored_duties_tick(struct stored *s)
{
	struct shm_raft r;
	uint64_t now_ms = shm_now_ms();

	shm_raft_read(s->w->shm, &r);
	publish(s, &r);
	expire(s, &r, now_ms);
}
