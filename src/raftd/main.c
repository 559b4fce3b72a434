/* main.c - the raft worker's entry point. */
#include "config.h"
#include "raftd/raftd.h"
#include "raftd/raftd_int.h"
#include "config/cfg.h"
#include "ipc/worker.h"
#include "raft/raft.h"
#include "util/log.h"

#include <string.h>

#include <event2/event.h>

static struct raftd raftd;

/* A leader asked to stop hands leadership to an up-to-date voter first
 * (etcd's TransferLeadership on stop), so the cluster does not wait an
 * election timeout; it gives up after one election timeout. */
static void on_stop(struct worker *w)
{
	struct raftd *d = w->user;
	uint64_t target = RAFT_NONE;
	struct timeval tv;

	d->stopping = 1;
	if (raft_role(d->raft) == RAFT_LEADER) {
		for (size_t i = 0; i < d->npeers && target == RAFT_NONE; i++)
			if (d->peers[i]->connected && raft_is_voter(d->raft, d->peers[i]->id))
				target = d->peers[i]->id;
	}
	if (target == RAFT_NONE || raft_transfer_leader(d->raft, target) != 0) {
		/* Everything acknowledged is already in the WAL; stop now. */
		event_base_loopexit(w->base, NULL);
		return;
	}
	log_info("stopping: transferring leadership to %016llx", (unsigned long long)target);
	raftd_schedule_ready(d);
	tv.tv_sec = (time_t)(w->cfg->election_timeout_ms / 1000);
	tv.tv_usec = (suseconds_t)((w->cfg->election_timeout_ms % 1000) * 1000);
	event_base_loopexit(w->base, &tv);
}

int raftd_main(struct worker *w)
{
	struct raftd *d = &raftd;
	char err[1024] = "";
	int rc;

	memset(d, 0, sizeof(*d));
	d->w = w;
	w->user = d;
	w->on_stop = on_stop;
	shm_writer_reset(&w->shm->raft->seq);
	if (cluster_copy(&d->cluster, w->cluster) != 0) {
		log_error("out of memory");
		return WORKER_EXIT_FATAL;
	}
	if (raftd_conns_listen(d) != 0)
		return WORKER_EXIT_CRASH;
	if (raftd_node_open(d, err, sizeof(err)) != 0) {
		log_error("%s", err);
		return WORKER_EXIT_FATAL;
	}
	if (raftd_peers_start(d) != 0)
		return WORKER_EXIT_CRASH;
	worker_set_state(w, WSTATE_READY);
	rc = worker_run(w);
	raftd_peers_stop(d);
	raftd_node_close(d);
	raftd_conns_close(d);
	cluster_close(&d->cluster);
	return rc;
}
