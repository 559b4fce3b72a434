/* stats.c - per-follower numbers the leader keeps for /v2/stats/leader
 * (etcd's LeaderStats: success and fail counts, latency of the round trip
 * of a heartbeat in ms: current, average, minimum, maximum, std dev), and
 * the raft status the other workers read from shared memory. */
#include "config.h"
#include "raftd/raftd_int.h"
#include "ipc/worker.h"
#include "raft/raft.h"

#include <math.h>
#include <string.h>
#include <time.h>

uint64_t raftd_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void raftd_peer_latency(struct raftd_peer *p, uint64_t ns)
{
	double ms = (double)ns / 1e6;

	p->lat_cur_ns = ns;
	if (p->lat_n == 0 || ns < p->lat_min_ns)
		p->lat_min_ns = ns;
	if (ns > p->lat_max_ns)
		p->lat_max_ns = ns;
	p->lat_n++;
	p->lat_sum += ms;
	p->lat_sumsq += ms * ms;
}

static void peer_stat(const struct raftd_peer *p, struct shm_peer_stat *o)
{
	memset(o, 0, sizeof(*o));
	o->id = p->id;
	o->successes = p->successes;
	o->fails = p->fails;
	o->sent_bytes = p->sent_bytes;
	o->recv_bytes = p->recv_bytes;
	if (p->lat_n > 0) {
		double avg = p->lat_sum / (double)p->lat_n;
		double var = p->lat_sumsq / (double)p->lat_n - avg * avg;
		o->lat_cur_ns = p->lat_cur_ns;
		o->lat_avg_ns = (uint64_t)(avg * 1e6);
		o->lat_min_ns = p->lat_min_ns;
		o->lat_max_ns = p->lat_max_ns;
		o->lat_stddev_ns = (uint64_t)(sqrt(var > 0 ? var : 0) * 1e6);
	}
}

/* Called inside the shm_raft write section by node.c's publish_status. */
void raftd_stats_publish(struct raftd *d)
{
	struct shm_raft *s = d->w->shm->raft;
	uint32_t n = 0;

	s->recv_appends = d->recv_appends;
	s->proposals_pending = d->nheld;
	s->sent_appends = 0;
	for (size_t i = 0; i < d->npeers; i++) {
		s->sent_appends += d->peers[i]->sent_appends;
		if (n < SHM_MAX_PEER_STATS)
			peer_stat(d->peers[i], &s->peers[n++]);
	}
	s->npeers = n;
	s->is_learner = (uint32_t)raft_is_learner(d->raft, d->cluster.self_id);
}
