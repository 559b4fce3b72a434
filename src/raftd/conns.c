/* conns.c - the raft worker's IPC: api workers send proposals and read-
 * index requests; the storage worker says where it is (HELLO, APPLIED) and
 * receives committed entries in order. */
#include "config.h"
#include "raftd/raftd_int.h"
#include "config/cfg.h"
#include "ipc/conn.h"
#include "ipc/proto.h"
#include "ipc/worker.h"
#include "raft/raft.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>

struct peer_info {
	struct raftd *d;
	int role; /* 0 until HELLO */
	uint32_t slot;
};

static void read_answer(struct raftd *d, uint32_t j, uint64_t index)
{
	struct raftd_read *r = &d->reads[j];
	uint8_t idx[8];

	le_put64(idx, index);
	if (r->slot < SHM_MAX_SLOTS && d->api[r->slot] && d->api_gen[r->slot] == r->gen)
		ipc_conn_send(d->api[r->slot], IPC_READ_INDEX_RESP, r->req_id, r->slot, r->gen, idx, 8,
			NULL, 0);
	d->reads[j] = d->reads[--d->nreads];
}

static void read_issue(struct raftd *d, struct raftd_read *r, uint64_t now)
{
	uint64_t ctx = ++d->next_ctx;

	if (raft_read_index(d->raft, ctx) == 0) {
		r->ctx = ctx;
		r->issued_ms = now;
		raftd_schedule_ready(d);
	}
}

void raftd_reads_tick(struct raftd *d)
{
	uint64_t now = shm_now_ms(), retry = d->w->cfg->election_timeout_ms;
	int leader = raft_leader(d->raft) != RAFT_NONE;

	for (uint32_t j = 0; j < d->nreads;) {
		struct raftd_read *r = &d->reads[j];
		if (now >= r->expires_ms) {
			read_answer(d, j, 0);
			continue;
		}
		if (leader && (r->ctx == 0 || now - r->issued_ms >= retry))
			read_issue(d, r, now);
		j++;
	}
}

static void on_read_index(struct raftd *d, struct ipc_conn *c, const struct ipc_hdr *h)
{
	uint8_t zero[8] = { 0 };
	struct raftd_read *r;

	if (d->nreads == RAFTD_MAX_READS) {
		ipc_conn_send(c, IPC_READ_INDEX_RESP, h->req_id, h->origin, h->gen, zero, 8, NULL, 0);
		return;
	}
	r = &d->reads[d->nreads++];
	memset(r, 0, sizeof(*r));
	r->slot = h->origin;
	r->gen = h->gen;
	r->req_id = h->req_id;
	r->expires_ms = shm_now_ms() + raftd_held_ms(d);
	/* Without a leader (or before the leader committed in its term) the
	 * read waits for the tick to issue it, as a proposal waits. */
	read_issue(d, r, shm_now_ms());
}

void raftd_answer_reads(struct raftd *d, const void *reads_v, size_t n)
{
	const struct raft_read_state *rs = reads_v;

	for (size_t i = 0; i < n; i++) {
		for (uint32_t j = 0; j < d->nreads; j++) {
			if (d->reads[j].ctx == rs[i].ctx && rs[i].ctx != 0) {
				read_answer(d, j, rs[i].index);
				break;
			}
		}
	}
}

static void on_hello(struct peer_info *pi, struct ipc_conn *c, const uint8_t *p, size_t n)
{
	struct raftd *d = pi->d;
	struct proto_hello hello;

	if (proto_hello_decode(&hello, p, n) != 0 || hello.slot >= SHM_MAX_SLOTS) {
		log_warn("bad hello; closing connection");
		return;
	}
	pi->role = (int)hello.role;
	pi->slot = hello.slot;
	if (hello.role == ROLE_STORE) {
		if (d->store && d->store != c)
			ipc_conn_free(d->store);
		d->store = c;
		d->store_sent = hello.applied;
		d->restore_index = 0;
		d->snap_saving = 0;
		log_info("storage worker connected at applied index %llu",
			(unsigned long long)hello.applied);
		raftd_store_progress(d, hello.applied, hello.durable);
	} else if (hello.role == ROLE_API) {
		if (d->api[hello.slot] && d->api[hello.slot] != c)
			ipc_conn_free(d->api[hello.slot]);
		d->api[hello.slot] = c;
		d->api_gen[hello.slot] = hello.gen;
	}
}

static void on_msg(struct ipc_conn *c, const struct ipc_hdr *h, const uint8_t *p, void *arg)
{
	struct peer_info *pi = arg;
	struct raftd *d = pi->d;

	switch (h->type) {
	case IPC_HELLO:
		on_hello(pi, c, p, h->len);
		break;
	case IPC_PROPOSE:
		raftd_submit(d, RAFT_ENTRY_NORMAL, p, h->len, d->cluster.self_id, h->req_id, h->origin,
			h->gen);
		break;
	case IPC_PROPOSE_CONF:
		raftd_submit(d, RAFT_ENTRY_CONF_CHANGE, p, h->len, d->cluster.self_id, h->req_id,
			h->origin, h->gen);
		break;
	case IPC_SNAP_SAVED:
		if (c == d->store)
			raftd_snap_saved(d, p, h->len);
		break;
	case IPC_READ_INDEX:
		on_read_index(d, c, h);
		break;
	case IPC_MOVE_LEADER: /* move.c */
		raftd_move_leader(d, h, p);
		break;
	case IPC_APPLIED:
		if (h->len >= 16 && c == d->store)
			raftd_store_progress(d, le_get64(p), le_get64(p + 8));
		break;
	default:
		log_warn("unexpected ipc message type %u", h->type);
		break;
	}
}

static void on_close(struct ipc_conn *c, void *arg)
{
	struct peer_info *pi = arg;
	struct raftd *d = pi->d;

	if (d->store == c) {
		d->store = NULL;
		log_warn("storage worker disconnected");
	}
	for (uint32_t i = 0; i < SHM_MAX_SLOTS; i++)
		if (d->api[i] == c)
			d->api[i] = NULL;
	ipc_conn_free(c);
	free(pi);
}

static void accept_fd(int fd, void *arg)
{
	struct raftd *d = arg;
	struct peer_info *pi = calloc(1, sizeof(*pi));

	if (pi == NULL) {
		close(fd);
		return;
	}
	pi->d = d;
	if (ipc_conn_new(d->w->base, fd, on_msg, NULL, on_close, pi) == NULL) {
		close(fd);
		free(pi);
	}
}

int raftd_conns_listen(struct raftd *d)
{
	d->listener = ipc_serve(d->w->base, "raft", accept_fd, d);
	if (d->listener == NULL) {
		log_error("listen on raft ipc socket: %s", strerror(errno));
		return -1;
	}
	return 0;
}

void raftd_conns_close(struct raftd *d)
{
	if (d->listener)
		evconnlistener_free(d->listener);
}
