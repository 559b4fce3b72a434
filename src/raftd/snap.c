/* snap.c - database snapshots between members (Raft §7 InstallSnapshot).
 *
 * The database is the state machine, so a snapshot is a file the storage
 * worker writes on request (IPC_SNAP_SAVE -> IPC_SNAP_SAVED) at its applied
 * index, together with the membership at that index. When the core wants a
 * follower to get a snapshot, the leader asks for a fresh file and streams
 * it over its own connection (PEER_KIND_SNAPSHOT) straight from disk; the
 * follower writes it to member/snap, fsyncs, and only then steps the
 * snapshot message into its core. The ready that installs it records the
 * snapshot in the WAL (with the membership), and the storage worker is told
 * to replace its database with the file (IPC_RESTORE) before any entry after
 * the snapshot is applied. A crash anywhere in between restarts from the
 * WAL's snapshot marker and the file it names.
 */
#include "config.h"
#include "raftd/raftd_int.h"
#include "cluster/peerproto.h"
#include "config/cfg.h"
#include "ipc/conn.h"
#include "ipc/frame.h"
#include "ipc/worker.h"
#include "raft/raft.h"
#include "store/envdir.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/log.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#define SNAP_IO_TIMEOUT_S 60
#define SNAP_MAX_HDR (4u << 20)
#define SNAP_RESTORE_RETRY_MS 30000u

struct raftd_snap_tx {
	struct raftd_peer *peer;
	struct bufferevent *bev;
	uint64_t term;   /* the leader's term when the core asked */
	int sending;     /* 0: waiting for the storage worker's file */
};

struct raftd_snap_rx {
	struct raftd *d;
	uint64_t from;
	struct bufferevent *bev;
	int have_hdr;
	uint64_t left;
	int fd;
	struct raft_msg msg;
	char *conf;
	char tmp[PATH_MAX + 8], path[PATH_MAX];
};

void raftd_snap_path(const struct raftd *d, uint64_t index, char *out, size_t len)
{
	snprintf(out, len, "%s/member/snap/%016" PRIx64 ".snap.db", d->w->cfg->data_dir, index);
}

/* --- sending (leader) --------------------------------------------------- */

static void tx_done(struct raftd_snap_tx *tx, int ok)
{
	struct raftd_peer *p = tx->peer;
	struct raftd *d = p->d;

	if (tx->bev)
		bufferevent_free(tx->bev);
	p->tx = NULL;
	free(tx);
	log_info("snapshot to %016" PRIx64 ": %s", p->id, ok ? "sent" : "failed");
	raft_report_snapshot(d->raft, p->id, ok);
	raftd_schedule_ready(d);
}

static void tx_read_cb(struct bufferevent *bev, void *arg)
{
	struct raftd_snap_tx *tx = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	uint8_t hb[IPC_HDR_SIZE + 4];
	struct ipc_hdr h;

	if (evbuffer_get_length(in) < sizeof(hb))
		return;
	evbuffer_remove(in, hb, sizeof(hb));
	tx_done(tx, ipc_hdr_unpack(&h, hb) == 0 && h.type == PEER_SNAP_ACK && le_get32(hb + IPC_HDR_SIZE) == 1);
}

static void tx_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct raftd_snap_tx *tx = arg;
	struct raftd *d = tx->peer->d;

	if (what & BEV_EVENT_CONNECTED) {
		struct peer_preamble pre = { d->cluster.cluster_id, d->cluster.self_id, tx->peer->id,
			PEER_KIND_SNAPSHOT };
		uint8_t pb[PEER_PREAMBLE_SIZE], fixed[12];
		struct raft_msg m;
		struct stat st;
		struct buf mb;
		char path[PATH_MAX];
		int fd;

		raftd_snap_path(d, d->snap_index, path, sizeof(path));
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || fstat(fd, &st) != 0) {
			log_error("snapshot %s: %s", path, strerror(errno));
			if (fd >= 0)
				close(fd);
			tx_done(tx, 0);
			return;
		}
		memset(&m, 0, sizeof(m));
		m.type = RAFT_MSG_SNAPSHOT;
		m.from = d->cluster.self_id;
		m.to = tx->peer->id;
		m.term = tx->term;
		m.index = d->snap_index;
		m.log_term = d->snap_term;
		buf_init(&mb);
		raft_msg_encode(&m, &mb);
		le_put64(fixed, (uint64_t)st.st_size);
		le_put32(fixed + 8, (uint32_t)mb.len);
		peer_preamble_encode(pb, &pre);
		bufferevent_write(bev, pb, sizeof(pb));
		{
			struct buf hdr;
			buf_init(&hdr);
			buf_put(&hdr, fixed, sizeof(fixed));
			buf_put(&hdr, mb.data, mb.len);
			raftd_write_frame(bev, PEER_SNAP, hdr.data, hdr.len, d->snap_conf,
				d->snap_conf ? strlen(d->snap_conf) : 0);
			buf_close(&hdr);
		}
		buf_close(&mb);
		/* From the file, by the kernel: never the whole file in memory. */
		if (evbuffer_add_file(bufferevent_get_output(bev), fd, 0, st.st_size) != 0) {
			close(fd);
			tx_done(tx, 0);
			return;
		}
		log_info("sending snapshot at %" PRIu64 " (%lld bytes) to %016" PRIx64, d->snap_index,
			(long long)st.st_size, tx->peer->id);
		return;
	}
	if (what & (BEV_EVENT_ERROR | BEV_EVENT_EOF | BEV_EVENT_TIMEOUT))
		tx_done(tx, 0);
}

static void tx_start(struct raftd_snap_tx *tx)
{
	struct timeval tv = { SNAP_IO_TIMEOUT_S, 0 };
	struct raftd *d = tx->peer->d;

	tx->sending = 1;
	tx->bev = raftd_dial(d, tx->peer->url, tx_read_cb, tx_event_cb, tx);
	if (tx->bev == NULL) {
		tx_done(tx, 0);
		return;
	}
	bufferevent_set_timeouts(tx->bev, &tv, &tv);
}

static void request_save(struct raftd *d)
{
	if (d->snap_saving || d->store == NULL)
		return;
	d->snap_saving = 1;
	ipc_conn_send(d->store, IPC_SNAP_SAVE, 0, d->w->slot_index, d->w->gen, NULL, 0, NULL, 0);
}

void raftd_snap_wanted(struct raftd *d, const struct raft_msg *m)
{
	struct raftd_peer *p = raftd_peer_find(d, m->to);
	struct raftd_snap_tx *tx;

	if (p == NULL || p->tx != NULL)
		return;
	if ((tx = calloc(1, sizeof(*tx))) == NULL)
		return;
	tx->peer = p;
	tx->term = m->term;
	p->tx = tx;
	log_info("member %016" PRIx64 " needs a snapshot (it is behind index %" PRIu64 ")", p->id,
		m->index);
	/* A file at or after what the core compacted will do; else make one. */
	if (d->snap_index >= m->index && d->snap_index != 0)
		tx_start(tx);
	else
		request_save(d);
}

void raftd_snap_saved(struct raftd *d, const uint8_t *p, size_t n)
{
	uint64_t index = n >= 16 ? le_get64(p) : 0;

	d->snap_saving = 0;
	if (index == 0) {
		log_error("storage worker could not write a snapshot: %.*s", (int)(n > 16 ? n - 16 : 0),
			(const char *)p + (n > 16 ? 16 : 0));
	} else {
		free(d->snap_conf);
		d->snap_conf = strndup((const char *)p + 16, n - 16);
		d->snap_index = index;
		d->snap_term = le_get64(p + 8);
		d->last_snap_applied = index;
		log_info("snapshot saved at index %" PRIu64, index);
	}
	for (size_t i = 0; i < d->npeers; i++) {
		struct raftd_snap_tx *tx = d->peers[i]->tx;
		if (tx == NULL || tx->sending)
			continue;
		if (index == 0)
			tx_done(tx, 0);
		else
			tx_start(tx);
	}
}

void raftd_snap_peer_gone(struct raftd_peer *p)
{
	if (p->tx) {
		if (p->tx->bev)
			bufferevent_free(p->tx->bev);
		free(p->tx);
		p->tx = NULL;
	}
}

void raftd_snap_maybe_save(struct raftd *d, uint64_t applied)
{
	uint64_t every = d->w->cfg->snapshot_count;

	if (every == 0 || applied < d->last_snap_applied + every)
		return;
	request_save(d);
}

/* --- receiving (follower) ----------------------------------------------- */

struct raftd_snap_rx *raftd_snap_rx_new(struct raftd *d, uint64_t from, struct bufferevent *bev)
{
	struct raftd_snap_rx *rx = calloc(1, sizeof(*rx));

	if (rx == NULL)
		return NULL;
	rx->d = d;
	rx->from = from;
	rx->bev = bev;
	rx->fd = -1;
	return rx;
}

void raftd_snap_rx_abort(struct raftd_snap_rx *rx)
{
	if (rx->fd >= 0) {
		close(rx->fd);
		unlink(rx->tmp);
	}
	if (rx->have_hdr)
		raft_msg_decoded_free(&rx->msg);
	free(rx->conf);
	free(rx);
}

static int rx_header(struct raftd_snap_rx *rx, struct evbuffer *in)
{
	struct raftd *d = rx->d;
	uint8_t hb[IPC_HDR_SIZE];
	struct ipc_hdr h;
	const uint8_t *p;
	uint32_t mlen;
	char dir[PATH_MAX];

	if (evbuffer_get_length(in) < IPC_HDR_SIZE)
		return 0;
	evbuffer_copyout(in, hb, sizeof(hb));
	if (ipc_hdr_unpack(&h, hb) != 0 || h.type != PEER_SNAP || h.len < 12 || h.len > SNAP_MAX_HDR)
		return -1;
	if (evbuffer_get_length(in) < IPC_HDR_SIZE + (size_t)h.len)
		return 0;
	evbuffer_drain(in, IPC_HDR_SIZE);
	p = evbuffer_pullup(in, h.len);
	rx->left = le_get64(p);
	mlen = le_get32(p + 8);
	if (mlen > h.len - 12 || raft_msg_decode(&rx->msg, p + 12, mlen) != 0 ||
		rx->msg.type != RAFT_MSG_SNAPSHOT || rx->msg.index == 0) {
		evbuffer_drain(in, h.len);
		return -1;
	}
	rx->have_hdr = 1;
	rx->conf = strndup((const char *)p + 12 + mlen, h.len - 12 - mlen);
	evbuffer_drain(in, h.len);
	snprintf(dir, sizeof(dir), "%s/member/snap", d->w->cfg->data_dir);
	mkdir(dir, 0700);
	raftd_snap_path(d, rx->msg.index, rx->path, sizeof(rx->path));
	snprintf(rx->tmp, sizeof(rx->tmp), "%s.part", rx->path);
	rx->fd = open(rx->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (rx->fd < 0) {
		log_error("snapshot %s: %s", rx->tmp, strerror(errno));
		return -1;
	}
	log_info("receiving snapshot at %" PRIu64 " (%" PRIu64 " bytes) from %016" PRIx64, rx->msg.index,
		rx->left, rx->from);
	return 0;
}

/* step_snapshot hands the received snapshot to the core. */
static int step_snapshot(struct raftd_snap_rx *rx)
{
	struct raftd *d = rx->d;
	uint64_t voters[CLUSTER_MAX_MEMBERS], learners[CLUSTER_MAX_MEMBERS];
	struct raft_snapshot_meta meta;
	struct cluster c;
	int rc;

	memset(&c, 0, sizeof(c));
	if (rx->conf == NULL || cluster_members_load(&c, rx->conf, strlen(rx->conf)) != 0) {
		log_error("snapshot from %016" PRIx64 ": bad membership", rx->from);
		return -1;
	}
	memset(&meta, 0, sizeof(meta));
	meta.index = rx->msg.index;
	meta.term = rx->msg.log_term;
	for (size_t i = 0; i < c.n; i++) {
		if (c.v[i].learner)
			learners[meta.nlearners++] = c.v[i].id;
		else
			voters[meta.nvoters++] = c.v[i].id;
	}
	cluster_close(&c);
	meta.voters = voters;
	meta.learners = learners;
	rx->msg.snap = &meta;
	/* The ready that installs it persists this membership with it. */
	free(d->snap_rx_conf);
	d->snap_rx_conf = rx->conf;
	rx->conf = NULL;
	rc = raft_step(d->raft, &rx->msg);
	rx->msg.snap = NULL;
	raftd_schedule_ready(d);
	return rc == 0 ? 0 : -1;
}

int raftd_snap_rx_feed(struct raftd_snap_rx *rx, struct evbuffer *in)
{
	uint8_t ack[4];
	int ok;

	if (!rx->have_hdr) {
		int r = rx_header(rx, in);
		if (r != 0 || !rx->have_hdr)
			return r;
	}
	while (rx->left > 0 && evbuffer_get_length(in) > 0) {
		size_t want = evbuffer_get_length(in);
		int n;
		if (want > rx->left)
			want = (size_t)rx->left;
		n = evbuffer_write_atmost(in, rx->fd, (ev_ssize_t)want);
		if (n <= 0) {
			log_error("snapshot %s: write: %s", rx->tmp, strerror(errno));
			return -1;
		}
		rx->left -= (uint64_t)n;
	}
	if (rx->left > 0)
		return 0;
	if (fsync(rx->fd) != 0 || close(rx->fd) != 0) {
		rx->fd = -1;
		unlink(rx->tmp);
		return -1;
	}
	rx->fd = -1;
	if (rename(rx->tmp, rx->path) != 0 || store_fsync_parent(rx->path, NULL, 0) != 0) {
		unlink(rx->tmp);
		return -1;
	}
	ok = step_snapshot(rx) == 0;
	le_put32(ack, ok ? 1 : 0);
	raftd_write_frame(rx->bev, PEER_SNAP_ACK, ack, 4, NULL, 0);
	raft_msg_decoded_free(&rx->msg);
	free(rx->conf);
	free(rx);
	return 1;
}

/* raftd_snap_installed: the ready carried a snapshot and it is now in the
 * WAL. Take its membership, and have the storage worker load the file. */
void raftd_snap_installed(struct raftd *d, const struct raft_ready *rd)
{
	d->compacted = rd->snapshot->index;
	d->compacted_term = rd->snapshot->term;
	if (d->snap_rx_conf != NULL &&
		cluster_members_load(&d->cluster, d->snap_rx_conf, strlen(d->snap_rx_conf)) == 0)
		raftd_peers_sync(d);
	log_info("installed snapshot at index %" PRIu64 " term %" PRIu64, rd->snapshot->index,
		rd->snapshot->term);
	raftd_pump_store(d);
}

/* The storage worker is behind our log's start: only a snapshot file can
 * bring it forward. Called from raftd_pump_store. */
int raftd_snap_restore_store(struct raftd *d)
{
	uint8_t fixed[16];
	char path[PATH_MAX];

	/* Asked already: wait for IPC_APPLIED. A storage worker that could
	 * not load the file (it logged why) answers with its old index; ask
	 * again now and then rather than never. */
	if (d->restore_index == d->compacted && shm_now_ms() - d->restore_sent_ms < SNAP_RESTORE_RETRY_MS)
		return 0;
	raftd_snap_path(d, d->compacted, path, sizeof(path));
	if (access(path, R_OK) != 0) {
		log_error("storage worker is at %" PRIu64 " but the log starts after %" PRIu64
			" and the snapshot %s is missing", d->store_sent, d->compacted, path);
		exit(WORKER_EXIT_FATAL);
	}
	le_put64(fixed, d->compacted);
	le_put64(fixed + 8, d->compacted_term);
	if (ipc_conn_send(d->store, IPC_RESTORE, 0, d->w->slot_index, d->w->gen, fixed, sizeof(fixed),
		path, strlen(path)) != 0)
		return -1;
	d->restore_index = d->compacted;
	d->restore_sent_ms = shm_now_ms();
	log_info("asked the storage worker to load snapshot %s", path);
	return 0;
}
