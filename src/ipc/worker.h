/* worker.h - what every forked worker process shares: its slot in shared
 * memory, its event loop, heartbeat, signals and title.
 *
 * A worker's main function gets a struct worker and returns the process
 * exit code: 0 clean stop, 2 fatal configuration error (the supervisor then
 * stops the whole daemon), anything else a crash (restarted with backoff).
 */
#ifndef CETCD_IPC_WORKER_H
#define CETCD_IPC_WORKER_H

#include <stdint.h>
#include <sys/types.h>

#include "ipc/shm.h"

struct event_base;
struct event;
struct cetcd_config;

#define WORKER_EXIT_OK 0
#define WORKER_EXIT_CRASH 1
#define WORKER_EXIT_FATAL 2
/* This member was removed from the cluster: the daemon stops, exit 0. */
#define WORKER_EXIT_REMOVED 3
#define WORKER_HEARTBEAT_MS 100

struct cluster;

struct worker {
	const struct cetcd_config *cfg;
	struct shm *shm;
	struct shm_slot *slot;
	uint32_t slot_index;
	uint32_t gen;
	int role;
	pid_t supervisor;
	struct event_base *base;
	struct event *heartbeat_ev;
	struct event *sig_ev[4];
	void (*on_stop)(struct worker *w); /* SIGTERM: begin a graceful stop */
	const int *client_fds; /* listening sockets the supervisor bound */
	int nclient_fds;
	const int *peer_fds;   /* peer listening sockets (raft worker) */
	int npeer_fds;
	const struct cluster *cluster; /* identity the supervisor resolved (copy it) */
	const char *proxy_peers; /* proxy worker: the cluster's peer URLs, comma-separated */
	void *user;
};

/* worker_start: called in the child right after fork. Sets the title
 * "cetcd: <title>", the log role, parent-death signal, an event base with
 * signal events and the heartbeat timer. Returns 0 or -1 (logged). */
int worker_start(struct worker *w, const char *title, const char *log_role);

/* worker_run runs the loop until a stop; then frees what worker_start made. */
int worker_run(struct worker *w);

void worker_set_state(struct worker *w, enum worker_state st);

static inline void worker_count(struct worker *w, enum worker_counter c, int64_t delta)
{
	__atomic_add_fetch(&w->slot->counters[c], (uint64_t)delta, __ATOMIC_RELAXED);
}

/* worker_slots_of returns the first slot index of role and their count. */
void worker_role_slots(const struct shm *s, int role, uint32_t *first, uint32_t *count);

#endif
