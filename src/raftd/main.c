/* main.c - the raft worker's entry point. */
#include "config.h"
#include "raftd/raftd.h"
#include "raftd/raftd_int.h"
#include "ipc/worker.h"
#include "util/log.h"

#include <string.h>

#include <event2/event.h>

static struct raftd raftd;

static void on_stop(struct worker *w)
{
	/* Everything acknowledged is already in the WAL; stop now. */
	event_base_loopexit(w->base, NULL);
}

int raftd_main(struct worker *w)
{
	struct raftd *d = &raftd;
	char err[1024] = "";
	int rc;

	memset(d, 0, sizeof(*d));
	d->w = w;
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
	worker_set_state(w, WSTATE_READY);
	rc = worker_run(w);
	raftd_node_close(d);
	raftd_conns_close(d);
	cluster_close(&d->cluster);
	return rc;
}
