/* main.c - the api worker's entry point. */
#include "config.h"
#include "apid/apid.h"
#include "apid/apid_int.h"
#include "ipc/worker.h"
#include "util/log.h"

#include <string.h>

#include <event2/event.h>

static struct apid apid;

static void on_stop(struct worker *w)
{
	struct apid *a = w->user;

	a->stopping = 1;
	event_base_loopexit(w->base, NULL);
}

int apid_main(struct worker *w)
{
	struct apid *a = &apid;
	int rc;

	memset(a, 0, sizeof(*a));
	a->w = w;
	w->user = a;
	w->on_stop = on_stop;
	if (cluster_copy(&a->cluster, w->cluster) != 0) {
		log_error("out of memory");
		return WORKER_EXIT_FATAL;
	}
	if (apid_http_start(a) != 0 || apid_ipc_start(a) != 0)
		return WORKER_EXIT_CRASH;
	worker_set_state(w, WSTATE_READY);
	rc = worker_run(w);
	v2watch_close_all(a);
	pending_fail_all(a);
	apid_http_close(a);
	apid_ipc_close(a);
	cluster_close(&a->cluster);
	return rc;
}
