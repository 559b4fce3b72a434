/* duties.c - periodic work of the storage worker:
 *  - on every member, publish its attributes once per start (followers'
 *    proposals are forwarded by the raft worker); on the leader, the
 *    cluster version once, as etcd does;
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
#include "store/v2json.h"
#include "store/v2query.h"
#include "config/cfg.h"
#include "util/log.h"
#include "util/clock.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void stored_propose(struct stored *s, uint8_t kind, const void *body, size_t len)
{
	struct proto_envelope env;
	struct buf out;

	buf_init(&out);
	memset(&env, 0, sizeof(env));
	env.kind = kind;
	env.origin = PROTO_ORIGIN_NONE;
	env.body = body;
	env.len = len;
	proto_envelope_encode(&out, &env);
	stored_send_to_raft(s, IPC_PROPOSE, out.data, out.len);
	buf_close(&out);
}

static void propose_v2(struct stored *s, uint8_t kind, const struct v2_req *req)
{
	struct buf body;

	buf_init(&body);
	v2_req_encode(req, &body);
	stored_propose(s, kind, body.data, body.len);
	buf_close(&body);
}

static void propose_put(struct stored *s, const char *path, const char *value)
{
	struct v2_req req;

	stored_internal_put(&req, path, value, clock_wall_ns());
	propose_v2(s, PROTO_PUBLISH, &req);
}

/* How long a published attributes proposal may take to be applied before it
 * is proposed again (it may be lost when leadership changes). */
#define PUBLISH_RETRY_MS 5000

/* publish proposes this member's attributes once per start, as etcd's
 * publish does, on any member with a known leader (a follower's raft worker
 * forwards the proposal), and again if it was not applied in time. The
 * cluster version is set by the leader only. */
/* own_attributes writes etcd's Attributes JSON for this member from its own
 * flags (as etcd publishes cfg.Name and cfg.ClientURLs; a joining member's
 * table from its peers does not know them): Go's encoding, omitempty. */
static void own_attributes(struct stored *s, struct buf *b)
{
	const struct cetcd_config *cfg = s->w->cfg;
	int first = 1;

	buf_put_u8(b, '{');
	if (cfg->name[0]) {
		V2JSON_LIT(b, "\"name\":");
		v2json_str(b, cfg->name, strlen(cfg->name));
		first = 0;
	}
	if (cfg->advertise_client_urls.n > 0) {
		if (!first)
			buf_put_u8(b, ',');
		V2JSON_LIT(b, "\"clientURLs\":[");
		for (int i = 0; i < cfg->advertise_client_urls.n; i++) {
			const char *u = cfg->advertise_client_urls.v[i].str;
			if (i > 0)
				buf_put_u8(b, ',');
			v2json_str(b, u, strlen(u));
		}
		buf_put_u8(b, ']');
	}
	buf_put_u8(b, '}');
	buf_put_u8(b, 0);
}

static void publish(struct stored *s, const struct shm_raft *r, uint64_t now_ms)
{
	struct shm_store *st = s->w->shm->store;
	char path[96];
	struct buf attrs;

	if (r->leader_id == 0 || s->raft == NULL || s->applied < r->commit_index)
		return;
	if (st->published && (__atomic_load_n(&st->serving, __ATOMIC_ACQUIRE) ||
		now_ms < s->publish_retry_ms))
		return;
	buf_init(&attrs);
	own_attributes(s, &attrs);
	if (attrs.oom) {
		buf_close(&attrs);
		return;
	}
	snprintf(path, sizeof(path), "/0/members/%" PRIx64 "/attributes", s->cluster.self_id);
	propose_put(s, path, (const char *)attrs.data);
	buf_close(&attrs);
	if (r->leader_id == r->member_id && !v2store_exists(s->v2, "/0/version"))
		propose_put(s, "/0/version", CETCD_COMPAT_CLUSTER_VERSION);
	if (!st->published)
		log_info("published member attributes of %016" PRIx64, s->cluster.self_id);
	st->published = 1;
	s->publish_retry_ms = now_ms + PUBLISH_RETRY_MS;
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
	publish(s, &r, shm_now_ms());
}

void stored_duties_tick(struct stored *s)
{
	struct shm_raft r;
	uint64_t now_ms = shm_now_ms();

	shm_raft_read(s->w->shm, &r);
	publish(s, &r, now_ms);
	expire(s, &r, now_ms);
	stored_v3_duties(s, &r, now_ms);
}
