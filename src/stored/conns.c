/* conns.c - the storage worker's IPC: a connection to the raft worker
 * (entries in, progress and proposals out) and a listener for api workers
 * (results and events out). */
#include "config.h"
#include "stored/stored_int.h"
#include "ipc/conn.h"
#include "ipc/frame.h"
#include "ipc/proto.h"
#include "ipc/worker.h"
#include "store/env.h"
#include "util/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>

#define RECONNECT_MS 50

static void hello_payload(const struct stored *s, uint8_t out[PROTO_HELLO_SIZE])
{
	struct proto_hello h;

	h.role = ROLE_STORE;
	h.slot = s->w->slot_index;
	h.gen = s->w->gen;
	h.applied = s->applied;
	h.durable = s->durable;
	h.db_gen = s->db_gen;
	proto_hello_encode(out, &h);
}

void stored_send_to_raft(struct stored *s, uint8_t type, const void *p, size_t n)
{
	if (s->raft)
		ipc_conn_send(s->raft, type, 0, PROTO_ORIGIN_NONE, 0, p, n, NULL, 0);
}

/* broadcast sends every [u32 len][payload] record of b to every api worker. */
static void broadcast(struct stored *s, uint8_t type, const struct buf *b)
{
	struct rd r;

	rd_init(&r, b->data, b->len);
	while (rd_left(&r) > 0) {
		size_t n;
		const void *p = rd_str(&r, &n);
		if (r.err)
			break;
		for (uint32_t i = 0; i < SHM_MAX_SLOTS; i++)
			if (s->api[i])
				ipc_conn_send(s->api[i], type, 0, i, s->api_gen[i], p, n, NULL, 0);
	}
}

void stored_flush_out(struct stored *s)
{
	struct rd r;

	rd_init(&r, s->out.results.data, s->out.results.len);
	while (rd_left(&r) > 0) {
		uint32_t slot = rd_u32(&r), gen = rd_u32(&r);
		uint64_t req_id = rd_u64(&r);
		size_t n;
		const void *p = rd_str(&r, &n);
		if (r.err)
			break;
		if (slot < SHM_MAX_SLOTS && s->api[slot] && s->api_gen[slot] == gen)
			ipc_conn_send(s->api[slot], IPC_RESULT, req_id, slot, gen, p, n, NULL, 0);
	}
	broadcast(s, IPC_EVENT, &s->out.events);
	broadcast(s, IPC_EVENT_V3, &s->out.events_v3);
	buf_reset(&s->out.results);
	buf_reset(&s->out.events);
	buf_reset(&s->out.events_v3);
	/* An api worker that does not read its events is cut off rather than
	 * buffered without bound; it reconnects and its watchers re-watch. */
	for (uint32_t i = 0; i < SHM_MAX_SLOTS; i++) {
		if (s->api[i] && ipc_conn_backlog(s->api[i]) > STORED_API_BACKLOG) {
			log_warn("api worker in slot %u is %zu bytes behind; disconnecting it", i,
				ipc_conn_backlog(s->api[i]));
			ipc_conn_free(s->api[i]);
			s->api[i] = NULL;
		}
	}
}

static void raft_msg(struct ipc_conn *c, const struct ipc_hdr *h, const uint8_t *p, void *arg)
{
	struct stored *s = arg;

	switch (h->type) {
	case IPC_APPLY:
		stored_apply_entry(s, p, h->len);
		break;
	case IPC_PROPOSE_ERR:
		s->sync_pending_until_ms = 0;
		break;
	case IPC_SNAP_SAVE:
		stored_snap_save(s);
		break;
	case IPC_RESTORE:
		stored_restore(s, p, h->len);
		break;
	default:
		break;
	}
}

void stored_hello_api(struct stored *s)
{
	uint8_t out[PROTO_HELLO_SIZE];

	for (uint32_t i = 0; i < SHM_MAX_SLOTS; i++) {
		if (s->api[i] == NULL)
			continue;
		hello_payload(s, out);
		ipc_conn_send(s->api[i], IPC_HELLO, 0, i, s->api_gen[i], out, sizeof(out), NULL, 0);
	}
}

static void raft_burst(struct ipc_conn *c, void *arg)
{
	stored_apply_batch_end(arg);
}

static void schedule_reconnect(struct stored *s)
{
	struct timeval tv = { 0, RECONNECT_MS * 1000 };
	event_add(s->reconnect_ev, &tv);
}

static void raft_close(struct ipc_conn *c, void *arg)
{
	struct stored *s = arg;

	/* Entries of an interrupted burst are still in the open transaction;
	 * commit what was applied, the raft worker resends the rest. */
	stored_apply_batch_end(s);
	log_warn("raft worker connection lost; reconnecting");
	ipc_conn_free(c);
	s->raft = NULL;
	schedule_reconnect(s);
}

static void reconnect_cb(evutil_socket_t fd, short what, void *arg)
{
	struct stored *s = arg;
	uint8_t hello[PROTO_HELLO_SIZE];
	int sfd = ipc_connect("raft");

	if (sfd < 0) {
		schedule_reconnect(s);
		return;
	}
	s->raft = ipc_conn_new(s->w->base, sfd, raft_msg, raft_burst, raft_close, s);
	if (s->raft == NULL) {
		close(sfd);
		schedule_reconnect(s);
		return;
	}
	hello_payload(s, hello);
	ipc_conn_send(s->raft, IPC_HELLO, 0, PROTO_ORIGIN_NONE, 0, hello, sizeof(hello), NULL, 0);
}

static void api_msg(struct ipc_conn *c, const struct ipc_hdr *h, const uint8_t *p, void *arg)
{
	struct stored *s = arg;
	struct proto_hello hello;

	if (h->type == IPC_DBSNAP) { /* Maintenance/Snapshot (snap.c) */
		stored_client_snap(s, c, h);
		return;
	}
	if (h->type == IPC_DEFRAG) { /* Maintenance/Defragment (defrag.c) */
		uintptr_t tag = (uintptr_t)ipc_conn_user(c);
		if (tag)
			stored_defrag_request(s, (uint32_t)(tag - 1), s->api_gen[tag - 1], h->req_id);
		return;
	}
	if (h->type != IPC_HELLO || proto_hello_decode(&hello, p, h->len) != 0 ||
		hello.slot >= SHM_MAX_SLOTS)
		return;
	if (s->api[hello.slot] && s->api[hello.slot] != c)
		ipc_conn_free(s->api[hello.slot]);
	s->api[hello.slot] = c;
	s->api_gen[hello.slot] = hello.gen;
	ipc_conn_set_user(c, (void *)(uintptr_t)(hello.slot + 1));
	{
		uint8_t out[PROTO_HELLO_SIZE];
		hello_payload(s, out);
		ipc_conn_send(c, IPC_HELLO, 0, hello.slot, hello.gen, out, sizeof(out), NULL, 0);
	}
}

static void api_close(struct ipc_conn *c, void *arg)
{
	struct stored *s = arg;
	uintptr_t tag = (uintptr_t)ipc_conn_user(c);

	if (tag && s->api[tag - 1] == c)
		s->api[tag - 1] = NULL;
	ipc_conn_free(c);
	/* An api worker that died inside the database may hold its locks or
	 * mutexes: let Berkeley DB clean up after it, or recover everything. */
	if (s->env && store_env_failchk(s->env) != 0) {
		log_error("an api worker died inside the database; restarting for recovery");
		exit(WORKER_EXIT_CRASH);
	}
}

static void accept_fd(int fd, void *arg)
{
	struct stored *s = arg;

	if (ipc_conn_new(s->w->base, fd, api_msg, NULL, api_close, s) == NULL)
		close(fd);
}

int stored_conns_start(struct stored *s)
{
	s->listener = ipc_serve(s->w->base, "store", accept_fd, s);
	if (s->listener == NULL) {
		log_error("listen on store ipc socket: %s", strerror(errno));
		return -1;
	}
	s->reconnect_ev = evtimer_new(s->w->base, reconnect_cb, s);
	reconnect_cb(-1, 0, s);
	return 0;
}

void stored_conns_close(struct stored *s)
{
	if (s->raft)
		ipc_conn_free(s->raft);
	for (uint32_t i = 0; i < SHM_MAX_SLOTS; i++)
		if (s->api[i])
			ipc_conn_free(s->api[i]);
	if (s->reconnect_ev)
		event_free(s->reconnect_ev);
	if (s->listener)
		evconnlistener_free(s->listener);
}
