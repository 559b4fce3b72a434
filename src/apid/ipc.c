/* ipc.c - the api worker's connections to the raft worker (proposals and
 * read indexes out) and the storage worker (results and events in), with
 * reconnects, and the database handles that follow the storage worker's
 * generation: when it restarts, readers leave the environment so it can
 * run recovery, then join again. */
#include "config.h"
#include "apid/apid_int.h"
#include "config/cfg.h"
#include "ipc/conn.h"
#include "ipc/proto.h"
#include "ipc/worker.h"
#include "store/env.h"
#include "store/lease.h"
#include "store/mvcc.h"
#include "store/v2store.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/log.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#define RECONNECT_MS 50

static void db_detach(struct apid *a)
{
	apid_size_dbs_close(a);
	if (a->v2)
		v2store_free(a->v2);
	if (a->mvcc)
		mvcc_free(a->mvcc);
	a->mvcc = NULL;
	if (a->lease)
		lease_free(a->lease);
	a->lease = NULL;
	if (a->env)
		store_env_close(a->env);
	a->v2 = NULL;
	a->env = NULL;
	a->db_gen = 0;
	__atomic_store_n(&a->w->slot->db_gen_attached, 0, __ATOMIC_RELEASE);
}

static void db_attach(struct apid *a, uint64_t gen)
{
	char dir[PATH_MAX];
	char err[512] = "";

	struct lease_cfg lc;

	if (a->env && a->db_gen == gen)
		return;
	db_detach(a);
	lease_cfg_init(&lc, (int64_t)a->w->cfg->heartbeat_interval_ms,
		(int64_t)a->w->cfg->election_timeout_ms);
	snprintf(dir, sizeof(dir), "%s/member/db", a->w->cfg->data_dir);
	if (store_env_open(&a->env, dir, 0, err, sizeof(err)) != 0 ||
		v2store_open(&a->v2, a->env, 0, err, sizeof(err)) != 0 ||
		mvcc_open(&a->mvcc, a->env, 0, err, sizeof(err)) != 0 ||
		lease_open(&a->lease, a->env, 0, &lc, err, sizeof(err)) != 0) {
		log_error("open database for reading: %s", err);
		db_detach(a);
		return;
	}
	a->db_gen = gen;
	__atomic_store_n(&a->w->slot->db_gen_attached, gen, __ATOMIC_RELEASE);
}

int apid_db_ready(struct apid *a)
{
	struct shm_store st;

	if (a->v2 == NULL)
		return 0;
	shm_store_read(a->w->shm, &st);
	/* Like etcd, keys are served once this member's attributes are
	 * published (applied), so the first write gets etcd's indexes. */
	return st.db_state == DB_STATE_READY && st.db_gen == a->db_gen && st.serving;
}

static void send_hello(struct apid *a, struct ipc_conn *c)
{
	struct proto_hello h;
	uint8_t raw[PROTO_HELLO_SIZE];

	memset(&h, 0, sizeof(h));
	h.role = ROLE_API;
	h.slot = a->w->slot_index;
	h.gen = a->w->gen;
	proto_hello_encode(raw, &h);
	ipc_conn_send(c, IPC_HELLO, 0, a->w->slot_index, a->w->gen, raw, sizeof(raw), NULL, 0);
}

static void on_result(struct apid *a, const struct ipc_hdr *h, const uint8_t *p)
{
	struct pending *pd = pending_take(a, h->req_id);
	struct proto_result r;

	if (pd == NULL)
		return; /* timed out already */
	if (proto_result_decode(&r, p, h->len) == 0 && pd->req) {
		if (pd->kind == PENDING_V3)
			v3gw_on_result(a, pd, &r);
		else if (pd->kind == PENDING_MEMBERS)
			members_on_result(a, pd, &r);
		else if (pd->kind == PENDING_DISCOVERY)
			discovery_on_result(a, pd, &r);
		else
			v2keys_on_result(a, pd, &r);
	}
	pending_free(pd);
}

static void store_msg(struct ipc_conn *c, const struct ipc_hdr *h, const uint8_t *p, void *arg)
{
	struct apid *a = arg;
	struct proto_hello hello;
	struct proto_event ev;

	switch (h->type) {
	case IPC_HELLO:
		if (proto_hello_decode(&hello, p, h->len) == 0)
			db_attach(a, hello.db_gen);
		break;
	case IPC_RESULT:
		on_result(a, h, p);
		break;
	case IPC_EVENT:
		if (proto_event_decode(&ev, p, h->len) == 0)
			v2watch_on_event(a, &ev);
		break;
	case IPC_EVENT_V3:
		v3watch_on_event(a, p, h->len);
		break;
	default:
		break;
	}
}

static void store_burst(struct ipc_conn *c, void *arg)
{
	v2keys_applied_advanced(arg);
}

static void raft_msg(struct ipc_conn *c, const struct ipc_hdr *h, const uint8_t *p, void *arg)
{
	struct apid *a = arg;
	struct pending *pd;

	if (h->type != IPC_PROPOSE_ERR && h->type != IPC_READ_INDEX_RESP)
		return;
	pd = pending_take(a, h->req_id);
	if (pd == NULL)
		return;
	if (h->type == IPC_READ_INDEX_RESP) {
		apid_on_read_index(a, pd, h->len >= 8 ? le_get64(p) : 0);
		return;
	}
	if (pd->req && pd->kind == PENDING_V3) {
		char msg[256];
		size_t n = h->len > 4 ? h->len - 4 : 0;
		snprintf(msg, sizeof(msg), "%.*s", (int)n, (const char *)p + 4);
		if (pd->v3_method == V3_GW_MEMBER)
			members_v3_error(a, pd, h->len >= 4 ? -(int)le_get32(p) : CE_AGAIN, msg);
		else
			v3gw_on_error(a, pd, msg);
	} else if (pd->req && pd->kind == PENDING_MEMBERS) {
		char msg[256];
		size_t n = h->len > 4 ? h->len - 4 : 0;
		snprintf(msg, sizeof(msg), "%.*s", (int)n, (const char *)p + 4);
		members_on_error(a, pd, h->len >= 4 ? -(int)le_get32(p) : CE_AGAIN, msg);
	} else if (pd->req) {
		char cause[256];
		size_t n = h->len > 4 ? h->len - 4 : 0;
		snprintf(cause, sizeof(cause), "%.*s", (int)n, (const char *)p + 4);
		worker_count(a->w, WC_PROPOSALS_FAILED, 1);
		http_v2_error(a, pd->req, 300, cause, 0);
	}
	pending_free(pd);
}

static void schedule_reconnect(struct apid *a)
{
	struct timeval tv = { 0, RECONNECT_MS * 1000 };
	event_add(a->reconnect_ev, &tv);
}

static void conn_close(struct ipc_conn *c, void *arg)
{
	struct apid *a = arg;

	if (c == a->store) {
		a->store = NULL;
		/* The storage worker is gone: leave the environment now so its
		 * successor can run recovery. Watchers may miss events until we
		 * reconnect: end them, and their clients watch again from the
		 * history with waitIndex, as when etcd drops a slow watcher. */
		db_detach(a);
		v2watch_close_all(a);
		v3watch_close_all(a);
		v3conc_resync(a);
		log_warn("storage worker connection lost");
	} else if (c == a->raft) {
		a->raft = NULL;
		log_warn("raft worker connection lost");
	}
	ipc_conn_free(c);
	schedule_reconnect(a);
}

static struct ipc_conn *dial(struct apid *a, const char *name, ipc_msg_cb cb, ipc_burst_cb burst)
{
	int fd = ipc_connect(name);
	struct ipc_conn *c;

	if (fd < 0)
		return NULL;
	c = ipc_conn_new(a->w->base, fd, cb, burst, conn_close, a);
	if (c == NULL) {
		close(fd);
		return NULL;
	}
	send_hello(a, c);
	return c;
}

static void reconnect_cb(evutil_socket_t fd, short what, void *arg)
{
	struct apid *a = arg;

	if (a->raft == NULL)
		a->raft = dial(a, "raft", raft_msg, NULL);
	if (a->store == NULL)
		a->store = dial(a, "store", store_msg, store_burst);
	if (a->raft == NULL || a->store == NULL)
		schedule_reconnect(a);
}

int apid_propose_frame(struct apid *a, uint8_t type, const void *prefix, size_t prefix_len,
	uint8_t kind, const void *body, size_t len, uint64_t *req_id)
{
	struct proto_envelope env;
	struct buf b;
	int rc;

	if (a->raft == NULL)
		return CE_CLOSED;
	*req_id = ++a->next_req_id;
	memset(&env, 0, sizeof(env));
	env.kind = kind;
	env.member = a->cluster.self_id;
	env.origin = a->w->slot_index;
	env.gen = a->w->gen;
	env.req_id = *req_id;
	buf_init(&b);
	buf_put(&b, prefix, prefix_len);
	/* The envelope header, then the body: one frame, two parts. */
	proto_envelope_encode(&b, &env);
	rc = ipc_conn_send(a->raft, type, *req_id, a->w->slot_index, a->w->gen, b.data, b.len,
		body, len);
	buf_close(&b);
	return rc;
}

int apid_propose(struct apid *a, uint8_t kind, const void *body, size_t len, uint64_t *req_id)
{
	return apid_propose_frame(a, IPC_PROPOSE, NULL, 0, kind, body, len, req_id);
}

int apid_read_index(struct apid *a, uint64_t *req_id)
{
	if (a->raft == NULL)
		return CE_CLOSED;
	*req_id = ++a->next_req_id;
	return ipc_conn_send(a->raft, IPC_READ_INDEX, *req_id, a->w->slot_index, a->w->gen, NULL, 0,
		NULL, 0);
}

static void sweep_cb(evutil_socket_t fd, short what, void *arg)
{
	struct apid *a = arg;
	pending_sweep(a, shm_now_ms());
	v2keys_applied_advanced(a);
}

int apid_ipc_start(struct apid *a)
{
	struct timeval tv = { 0, 100000 };

	a->reconnect_ev = evtimer_new(a->w->base, reconnect_cb, a);
	a->sweep_ev = event_new(a->w->base, -1, EV_PERSIST, sweep_cb, a);
	event_add(a->sweep_ev, &tv);
	reconnect_cb(-1, 0, a);
	return 0;
}

void apid_ipc_close(struct apid *a)
{
	if (a->raft)
		ipc_conn_free(a->raft);
	if (a->store)
		ipc_conn_free(a->store);
	a->raft = a->store = NULL;
	db_detach(a);
	if (a->reconnect_ev)
		event_free(a->reconnect_ev);
	if (a->sweep_ev)
		event_free(a->sweep_ev);
}
