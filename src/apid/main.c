/* main.c - the api worker's entry point. */
#include "config.h"
#include "apid/apid.h"
#include "apid/apid_int.h"
#include "ipc/worker.h"
#include "util/clock.h"
#include "util/log.h"

#include <string.h>
#include <sys/random.h>
#include <unistd.h>

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
	/* Request ids start at a random point: slot and generation numbers
	 * start over when the whole daemon restarts, and committed entries
	 * replayed from the WAL then carry (member, slot, generation) of a
	 * waiting request of this process; only the id tells them apart. */
	if (getrandom(&a->next_req_id, sizeof(a->next_req_id), 0) != sizeof(a->next_req_id))
		a->next_req_id = (uint64_t)clock_wall_ns() ^ ((uint64_t)getpid() << 32);
	a->next_req_id &= UINT64_C(0x7fffffffffffffff);
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
	v3watch_close_all(a);
	v3conc_close_all(a);
	pending_fail_all(a);
	apid_http_close(a);
	apid_ipc_close(a);
	cluster_close(&a->cluster);
	return rc;
}
