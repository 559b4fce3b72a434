/* move.c - Maintenance/MoveLeader for api workers (IPC_MOVE_LEADER): the
 * leader hands leadership to a voter with the core's transfer (thesis
 * §3.10, as on stop in main.c) and answers once the target leads, or with
 * etcd's timeout error. Answers are IPC_PROPOSE_ERR frames: u32 gRPC code
 * and etcd's message, code 0 and no message for success (ipc/frame.h).
 */
#include "config.h"
#include "raftd/raftd_int.h"
#include "ipc/frame.h"
#include "raft/raft.h"
#include "util/buf.h"
#include "util/log.h"

#include <inttypes.h>
#include <string.h>

/* etcd's clients give MoveLeader 5 s (etcdctl --command-timeout). */
#define MOVE_TIMEOUT_MS 5000u
#define MOVE_MAX 16u
#define GRPC_FAILED_PRECONDITION 9u
#define GRPC_UNAVAILABLE 14u

/* One raft worker per process, so the waiting requests live here rather
 * than in struct raftd (a handful at most). */
static struct move_wait {
	uint32_t slot, gen;
	uint64_t req_id, target, deadline_ms;
} waits[MOVE_MAX];
static uint32_t nwaits;

static void answer(struct raftd *d, uint32_t slot, uint32_t gen, uint64_t req_id, uint32_t code,
	const char *msg)
{
	uint8_t b[4 + 128];
	size_t n = strlen(msg);

	if (n > 128)
		n = 128;
	le_put32(b, code);
	memcpy(b + 4, msg, n);
	raftd_api_send(d, slot, gen, IPC_PROPOSE_ERR, req_id, b, 4 + n);
}

void raftd_move_leader(struct raftd *d, const struct ipc_hdr *h, const uint8_t *p)
{
	uint64_t target = h->len >= 8 ? le_get64(p) : 0;
	uint64_t self = raft_id(d->raft);
	struct move_wait *w;

	if (raft_role(d->raft) != RAFT_LEADER) {
		answer(d, h->origin, h->gen, h->req_id, GRPC_FAILED_PRECONDITION, "etcdserver: not leader");
		return;
	}
	/* etcd: an unknown member or a learner is a bad transferee; the
	 * leader itself is already leader. */
	if (target != self && !raft_is_voter(d->raft, target)) {
		answer(d, h->origin, h->gen, h->req_id, GRPC_FAILED_PRECONDITION,
			"etcdserver: bad leader transferee");
		return;
	}
	if (target == self) {
		answer(d, h->origin, h->gen, h->req_id, 0, "");
		return;
	}
	if (nwaits == MOVE_MAX) {
		answer(d, h->origin, h->gen, h->req_id, GRPC_UNAVAILABLE, "etcdserver: too many requests");
		return;
	}
	/* CE_AGAIN: a transfer is under way already; this one waits for it. */
	if (raft_transfer_leader(d->raft, target) == 0)
		log_info("transferring leadership to %016" PRIx64 " (MoveLeader)", target);
	raftd_schedule_ready(d);
	w = &waits[nwaits++];
	w->slot = h->origin;
	w->gen = h->gen;
	w->req_id = h->req_id;
	w->target = target;
	w->deadline_ms = shm_now_ms() + MOVE_TIMEOUT_MS;
}

void raftd_move_tick(struct raftd *d)
{
	uint64_t now = shm_now_ms(), leader = raft_leader(d->raft);

	for (uint32_t i = 0; i < nwaits;) {
		struct move_wait *w = &waits[i];
		if (leader == w->target)
			answer(d, w->slot, w->gen, w->req_id, 0, "");
		else if (now >= w->deadline_ms)
			answer(d, w->slot, w->gen, w->req_id, GRPC_UNAVAILABLE,
				"etcdserver: request timed out, leader transfer took too long");
		else {
			i++;
			continue;
		}
		waits[i] = waits[--nwaits];
	}
}
