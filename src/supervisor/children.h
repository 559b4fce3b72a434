/* children.h - the supervisor's table of worker processes: who to fork,
 * when to restart them (capped exponential backoff), hang detection.
 *
 * The kinds of child are generated from one list (WORKER_KINDS), as
 * PostgreSQL's postmaster does with its process-type list.
 */
#ifndef CETCD_SUPERVISOR_CHILDREN_H
#define CETCD_SUPERVISOR_CHILDREN_H

#include <stdint.h>
#include <sys/types.h>

#include "ipc/worker.h"

#define CHILD_BACKOFF_MIN_MS 100u
#define CHILD_BACKOFF_MAX_MS 5000u
#define CHILD_STABLE_MS 10000u  /* ran this long: backoff resets */
#define CHILD_HANG_MS 5000u     /* no heartbeat this long while running: killed */
#define CHILD_START_HANG_MS 120000u /* ...while starting (recovery may be slow) */

typedef int (*worker_main_fn)(struct worker *w);

struct child_kind {
	int role;
	const char *title;    /* "raft worker" */
	const char *log_role; /* "raft" */
	worker_main_fn main;
};

struct child {
	const struct child_kind *kind;
	pid_t pid;
	uint64_t started_ms;
	uint64_t restart_at_ms; /* 0: not waiting to restart */
	uint32_t backoff_ms;
	int exited_fatal;
	int collateral; /* killed by the supervisor because another worker died */
};

struct cluster;

struct children {
	struct child *v;
	uint32_t n;
	struct shm *shm;
	const struct cetcd_config *cfg;
	pid_t self;
	const int *client_fds; /* inherited by api workers */
	int nclient_fds;
	const int *peer_fds;   /* inherited by the raft worker */
	int npeer_fds;
	const struct cluster *cluster;
	const char *proxy_peers;      /* proxy mode: given to the proxy worker */
	uint64_t last_tick_ms;        /* children_tick's previous run */
	uint64_t hang_grace_until_ms; /* no hang kills before (after a pause) */
};

/* children_init lays out the slots: raft, storage, then napi api workers;
 * children_init_proxy one proxy worker (proxy mode). */
int children_init(struct children *cs, struct shm *shm, const struct cetcd_config *cfg,
	uint32_t napi);
int children_init_proxy(struct children *cs, struct shm *shm, const struct cetcd_config *cfg);
void children_close(struct children *cs);

/* children_spawn forks slot i now. In the child it never returns. */
int children_spawn(struct children *cs, uint32_t i);

/* children_reaped handles a child that exited: returns 1 if it exited with
 * WORKER_EXIT_FATAL (the daemon must stop with exit 2), 2 if with
 * WORKER_EXIT_REMOVED (stop with exit 0), else schedules its restart
 * unless `stopping` and returns 0. */
int children_reaped(struct children *cs, pid_t pid, int status, int stopping);

/* children_tick restarts due children and kills hung ones. */
void children_tick(struct children *cs, uint64_t now_ms);

/* children_signal sends sig to every live child. */
void children_signal(struct children *cs, int sig);
uint32_t children_alive(const struct children *cs);
int children_all_ready(const struct children *cs);

#endif
