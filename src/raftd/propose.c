/* propose.c - the one path every proposal takes, whether a local api
 * worker sent it or a follower forwarded it: the leader checks it (a
 * configuration change must make sense against the member table) and
 * appends it; a follower forwards it to the leader; without a leader it
 * waits, as etcd's proposals do, until a leader appears or it expires
 * (the api worker answers the client with a timeout meanwhile).
 * A refusal goes back to the member and worker that are waiting. */
#include "config.h"
#include "raftd/raftd_int.h"
#include "cluster/peerproto.h"
#include "config/cfg.h"
#include "ipc/conn.h"
#include "ipc/frame.h"
#include "ipc/proto.h"
#include "ipc/worker.h"
#include "raft/raft.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/log.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

void raftd_api_send(struct raftd *d, uint32_t slot, uint32_t gen, uint8_t type, uint64_t req_id,
	const void *p, size_t n)
{
	if (slot < SHM_MAX_SLOTS && d->api[slot] && d->api_gen[slot] == gen)
		ipc_conn_send(d->api[slot], type, req_id, slot, gen, p, n, NULL, 0);
}

static void refuse(struct raftd *d, uint64_t from, uint64_t req_id, uint32_t origin, uint32_t gen,
	int code, const char *msg)
{
	uint8_t buf[4 + 256];
	size_t n = strlen(msg);

	if (n > 256)
		n = 256;
	le_put32(buf, (uint32_t)-code);
	memcpy(buf + 4, msg, n);
	if (origin == PROTO_ORIGIN_NONE)
		return;
	if (from == d->cluster.self_id)
		raftd_api_send(d, origin, gen, IPC_PROPOSE_ERR, req_id, buf, 4 + n);
	else
		raftd_peer_send(d, from, PEER_PROPOSE_ERR, req_id, origin, gen, buf, 4 + n, NULL, 0);
}

/* A voter counts as started when we heard from it within an election
 * timeout (the leader hears every follower each heartbeat). */
static size_t started_voters(struct raftd *d)
{
	uint64_t now = shm_now_ms(), window = d->w->cfg->election_timeout_ms;
	size_t n = 0;

	for (size_t i = 0; i < d->cluster.n; i++) {
		const struct member *m = &d->cluster.v[i];
		struct raftd_peer *p;
		if (m->learner)
			continue;
		if (m->id == d->cluster.self_id) {
			n++;
			continue;
		}
		p = raftd_peer_find(d, m->id);
		if (p != NULL && p->last_heard_ms != 0 && now - p->last_heard_ms <= window)
			n++;
	}
	return n;
}

static size_t voters(const struct cluster *c)
{
	size_t n = 0;

	for (size_t i = 0; i < c->n; i++)
		n += !c->v[i].learner;
	return n;
}

/* check_conf: the member-table checks etcd makes before a change. */
static int check_conf(struct raftd *d, const uint8_t *data, size_t len, const char **msg)
{
	struct raft_conf_change cc;
	struct proto_envelope env;
	struct member m, *cur;
	int rc = 0;

	memset(&m, 0, sizeof(m));
	if (raft_conf_change_decode(&cc, data, len) != 0 ||
		proto_envelope_decode(&env, data + RAFT_CONF_CHANGE_LEN, len - RAFT_CONF_CHANGE_LEN) != 0 ||
		env.kind != PROTO_CONF) {
		*msg = "bad configuration change";
		return CE_INVAL;
	}
	cur = cluster_find(&d->cluster, cc.node_id);
	if (cluster_is_removed(&d->cluster, cc.node_id)) {
		*msg = "membership: ID removed";
		return CE_GONE;
	}
	switch (cc.type) {
	case RAFT_CONF_ADD_NODE:
	case RAFT_CONF_ADD_LEARNER:
		if (cur != NULL) {
			*msg = "membership: ID exists";
			return CE_EXISTS;
		}
		/* the new URLs must be free */
		__attribute__((fallthrough));
	case RAFT_CONF_UPDATE_NODE:
		if (cc.type == RAFT_CONF_UPDATE_NODE && cur == NULL) {
			*msg = "membership: ID not found";
			return CE_NOTFOUND;
		}
		if (cluster_member_parse(&m, env.body, env.len) != 0 || m.npeer == 0) {
			*msg = "bad member";
			return CE_INVAL;
		}
		for (size_t i = 0; i < m.npeer && rc == 0; i++) {
			struct member *o = cluster_find_peer_url(&d->cluster, m.peer_urls[i]);
			if (o != NULL && o->id != cc.node_id) {
				*msg = "membership: peerURL exists";
				rc = CE_EXISTS;
			}
		}
		cluster_member_close(&m);
		/* etcd lets a one-member cluster add a voter (it could never
		 * grow otherwise). */
		if (rc == 0 && cc.type == RAFT_CONF_ADD_NODE && d->w->cfg->strict_reconfig_check &&
			voters(&d->cluster) > 1 &&
			started_voters(d) < (voters(&d->cluster) + 1) / 2 + 1) {
			*msg = "etcdserver: unhealthy cluster";
			rc = CE_AGAIN;
		}
		return rc;
	case RAFT_CONF_REMOVE_NODE:
		if (cur == NULL) {
			*msg = "membership: ID not found";
			return CE_NOTFOUND;
		}
		if (d->w->cfg->strict_reconfig_check && !cur->learner) {
			size_t started = started_voters(d), after = voters(&d->cluster) - 1;
			struct raftd_peer *p = raftd_peer_find(d, cc.node_id);
			int cur_started = cc.node_id == d->cluster.self_id ||
				(p != NULL && p->last_heard_ms != 0 &&
					shm_now_ms() - p->last_heard_ms <= d->w->cfg->election_timeout_ms);
			if (cur_started)
				started--;
			if (started < after / 2 + 1) {
				*msg = "etcdserver: re-configuration failed due to not enough started members";
				return CE_AGAIN;
			}
		}
		return 0;
	case RAFT_CONF_PROMOTE:
		if (cur == NULL) {
			*msg = "membership: ID not found";
			return CE_NOTFOUND;
		}
		if (!cur->learner) {
			*msg = "etcdserver: can only promote a learner member";
			return CE_INVAL;
		}
		/* etcd's isLearnerReady: within 90% of the leader's log */
		if ((double)raft_match(d->raft, cc.node_id) <
			(double)raft_match(d->raft, d->cluster.self_id) * 0.9) {
			*msg = "etcdserver: can only promote a learner member which is in sync with leader";
			return CE_AGAIN;
		}
		return 0;
	default:
		*msg = "bad configuration change";
		return CE_INVAL;
	}
}

/* How long a proposal waits for a leader: long enough to ride out an
 * election, short enough that a write the client was told timed out (the
 * api worker answers after APID_REQUEST_TIMEOUT_MS) is not applied much
 * later when a lost quorum comes back — etcd drops such proposals. */
uint64_t raftd_held_ms(const struct raftd *d)
{
	uint64_t ms = 3 * d->w->cfg->election_timeout_ms;

	return ms < RAFTD_HELD_MS ? ms : RAFTD_HELD_MS;
}

static void hold(struct raftd *d, uint8_t type, const void *data, size_t len, uint64_t from,
	uint64_t req_id, uint32_t origin, uint32_t gen)
{
	struct raftd_held *h;

	if (d->nheld >= RAFTD_MAX_HELD || (h = malloc(sizeof(*h) + len)) == NULL) {
		refuse(d, from, req_id, origin, gen, CE_AGAIN, "etcdserver: no leader");
		return;
	}
	h->next = NULL;
	h->type = type;
	h->from = from;
	h->req_id = req_id;
	h->origin = origin;
	h->gen = gen;
	h->expires_ms = shm_now_ms() + raftd_held_ms(d);
	h->len = len;
	memcpy(h->data, data, len);
	if (d->held == NULL)
		d->held_tail = &d->held;
	*d->held_tail = h;
	d->held_tail = &h->next;
	d->nheld++;
}

void raftd_submit(struct raftd *d, uint8_t type, const void *data, size_t len, uint64_t from,
	uint64_t req_id, uint32_t origin, uint32_t gen)
{
	uint64_t leader = raft_leader(d->raft), index;
	const char *msg = NULL;
	int rc;

	if (leader == RAFT_NONE) {
		hold(d, type, data, len, from, req_id, origin, gen);
		return;
	}
	if (leader != d->cluster.self_id) {
		uint8_t t = type;
		/* A proposal forwarded to us by a peer is not forwarded again. */
		if (from != d->cluster.self_id ||
			raftd_peer_send(d, leader, PEER_PROPOSE, req_id, origin, gen, &t, 1, data, len) != 0)
			hold(d, type, data, len, from, req_id, origin, gen);
		return;
	}
	if (type == RAFT_ENTRY_CONF_CHANGE && (rc = check_conf(d, data, len, &msg)) != 0) {
		refuse(d, from, req_id, origin, gen, rc, msg);
		return;
	}
	rc = raft_propose(d->raft, type, data, len, &index);
	if (rc == CE_AGAIN && type == RAFT_ENTRY_CONF_CHANGE) {
		refuse(d, from, req_id, origin, gen, CE_AGAIN,
			"etcdserver: another configuration change is in progress");
		return;
	}
	if (rc == CE_AGAIN) {
		/* Leader transfer in progress: wait for the next leader. */
		hold(d, type, data, len, from, req_id, origin, gen);
		return;
	}
	if (rc != 0) {
		refuse(d, from, req_id, origin, gen, rc, "etcdserver: request timed out");
		return;
	}
	raftd_schedule_ready(d);
}

void raftd_flush_held(struct raftd *d)
{
	struct raftd_held *h = d->held, *next;
	uint64_t now = shm_now_ms();

	if (h == NULL || raft_leader(d->raft) == RAFT_NONE)
		return;
	d->held = NULL;
	d->held_tail = &d->held;
	d->nheld = 0;
	for (; h != NULL; h = next) {
		next = h->next;
		if (h->expires_ms > now)
			raftd_submit(d, h->type, h->data, h->len, h->from, h->req_id, h->origin, h->gen);
		free(h);
	}
}
