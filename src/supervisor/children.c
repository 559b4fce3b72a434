/* children.c - fork, reap, restart and watch the worker processes. */
#include "config.h"
#include "supervisor/children.h"
#include "apid/apid.h"
#include "proxyd/proxyd.h"
#include "raftd/raftd.h"
#include "stored/stored.h"
#include "util/log.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define WORKER_KINDS(X)                                   \
	X(ROLE_RAFT, "raft worker", "raft", raftd_main)       \
	X(ROLE_STORE, "storage worker", "storage", stored_main) \
	X(ROLE_API, "api worker", "api", apid_main)           \
	X(ROLE_PROXY, "proxy worker", "proxy", proxyd_main)

static const struct child_kind kinds[] = {
#define KIND(role, title, log_role, fn) { role, title, log_role, fn },
	WORKER_KINDS(KIND)
#undef KIND
};

static const struct child_kind *kind_of(int role)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (kinds[i].role == role)
			return &kinds[i];
	return NULL;
}

/* slots_init gives slot i the role roles(i) for n slots. */
static int slots_init(struct children *cs, struct shm *shm, const struct cetcd_config *cfg,
	uint32_t n, int (*role_of)(uint32_t i))
{
	memset(cs, 0, sizeof(*cs));
	cs->n = n;
	if (cs->n > shm->hdr->nslots)
		return -1;
	cs->v = calloc(cs->n, sizeof(*cs->v));
	if (cs->v == NULL)
		return -1;
	cs->shm = shm;
	cs->cfg = cfg;
	cs->self = getpid();
	for (uint32_t i = 0; i < cs->n; i++) {
		int role = role_of(i);
		cs->v[i].kind = kind_of(role);
		cs->v[i].backoff_ms = CHILD_BACKOFF_MIN_MS;
		shm->slots[i].role = (uint32_t)role;
	}
	return 0;
}

static int member_role(uint32_t i)
{
	return i == 0 ? ROLE_RAFT : i == 1 ? ROLE_STORE : ROLE_API;
}

static int proxy_role(uint32_t i)
{
	(void)i;
	return ROLE_PROXY;
}

int children_init(struct children *cs, struct shm *shm, const struct cetcd_config *cfg,
	uint32_t napi)
{
	return slots_init(cs, shm, cfg, 2 + napi, member_role);
}

int children_init_proxy(struct children *cs, struct shm *shm, const struct cetcd_config *cfg)
{
	return slots_init(cs, shm, cfg, 1, proxy_role);
}

void children_close(struct children *cs)
{
	free(cs->v);
	cs->v = NULL;
}

static void child_run(struct children *cs, uint32_t i)
{
	struct worker w;
	int rc;

	memset(&w, 0, sizeof(w));
	w.cfg = cs->cfg;
	w.shm = cs->shm;
	w.slot = &cs->shm->slots[i];
	w.slot_index = i;
	w.gen = w.slot->gen;
	w.role = cs->v[i].kind->role;
	w.supervisor = cs->self;
	w.client_fds = cs->client_fds;
	w.nclient_fds = cs->nclient_fds;
	w.peer_fds = cs->peer_fds;
	w.npeer_fds = cs->npeer_fds;
	w.cluster = cs->cluster;
	w.proxy_peers = cs->proxy_peers;
	if (worker_start(&w, cs->v[i].kind->title, cs->v[i].kind->log_role) != 0)
		_exit(WORKER_EXIT_CRASH);
	rc = cs->v[i].kind->main(&w);
	_exit(rc);
}

int children_spawn(struct children *cs, uint32_t i)
{
	struct child *c = &cs->v[i];
	struct shm_slot *slot = &cs->shm->slots[i];
	pid_t pid;

	slot->gen++;
	slot->state = WSTATE_STARTING;
	slot->heartbeat_ms = shm_now_ms();
	pid = fork();
	if (pid < 0) {
		log_error("fork %s: %s", c->kind->title, strerror(errno));
		c->restart_at_ms = shm_now_ms() + c->backoff_ms;
		return -1;
	}
	if (pid == 0)
		child_run(cs, i);
	c->pid = pid;
	c->started_ms = shm_now_ms();
	c->restart_at_ms = 0;
	slot->pid = pid;
	log_info("started %s (slot %u, pid %d)", c->kind->title, i, (int)pid);
	return 0;
}

static struct child *child_by_pid(struct children *cs, pid_t pid, uint32_t *idx)
{
	for (uint32_t i = 0; i < cs->n; i++) {
		if (cs->v[i].pid == pid) {
			*idx = i;
			return &cs->v[i];
		}
	}
	return NULL;
}

/* The storage worker died, maybe inside a Berkeley DB mutex or lock that
 * an api worker now waits on forever. Recovery needs every process out of
 * the environment, and api workers keep no state: kill them too, and
 * restart them at once (this is no fault of theirs: no backoff). */
static void kill_db_readers(struct children *cs, uint64_t now)
{
	for (uint32_t i = 0; i < cs->n; i++) {
		struct child *c = &cs->v[i];
		if (c->kind->role != ROLE_API || c->pid <= 0)
			continue;
		kill(c->pid, SIGKILL);
		c->collateral = 1;
	}
	(void)now;
}

int children_reaped(struct children *cs, pid_t pid, int status, int stopping)
{
	uint32_t i;
	struct child *c = child_by_pid(cs, pid, &i);
	uint64_t now = shm_now_ms();

	if (c == NULL)
		return 0;
	c->pid = 0;
	cs->shm->slots[i].pid = 0;
	cs->shm->slots[i].state = WSTATE_DEAD;
	cs->shm->slots[i].db_gen_attached = 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == WORKER_EXIT_FATAL) {
		log_error("%s (pid %d) exited with a fatal configuration error; stopping cetcd",
			c->kind->title, (int)pid);
		c->exited_fatal = 1;
		return 1;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == WORKER_EXIT_REMOVED) {
		log_warn("this member was removed from the cluster; stopping cetcd");
		return 2;
	}
	if (stopping)
		return 0;
	if (c->kind->role == ROLE_STORE)
		kill_db_readers(cs, now);
	if (WIFSIGNALED(status))
		log_warn("%s (pid %d) killed by signal %d", c->kind->title, (int)pid, WTERMSIG(status));
	else
		log_warn("%s (pid %d) exited with status %d", c->kind->title, (int)pid,
			WEXITSTATUS(status));
	if (now - c->started_ms >= CHILD_STABLE_MS || c->collateral)
		c->backoff_ms = CHILD_BACKOFF_MIN_MS;
	if (c->collateral) {
		c->collateral = 0;
		c->restart_at_ms = now;
		__atomic_add_fetch(&cs->shm->slots[i].restarts, 1, __ATOMIC_RELAXED);
		log_info("restarting %s now (the storage worker it read from died)", c->kind->title);
		return 0;
	}
	c->restart_at_ms = now + c->backoff_ms;
	log_info("restarting %s in %u ms", c->kind->title, c->backoff_ms);
	c->backoff_ms *= 2;
	if (c->backoff_ms > CHILD_BACKOFF_MAX_MS)
		c->backoff_ms = CHILD_BACKOFF_MAX_MS;
	__atomic_add_fetch(&cs->shm->slots[i].restarts, 1, __ATOMIC_RELAXED);
	return 0;
}

void children_tick(struct children *cs, uint64_t now_ms)
{
	/* If the supervisor itself did not run for a while (the whole group
	 * was stopped with SIGSTOP, or the machine was suspended or starved),
	 * every heartbeat looks old: give the workers time to beat again
	 * instead of killing them all. */
	if (cs->last_tick_ms != 0 && now_ms - cs->last_tick_ms > CHILD_HANG_MS / 2)
		cs->hang_grace_until_ms = now_ms + CHILD_HANG_MS;
	cs->last_tick_ms = now_ms;
	for (uint32_t i = 0; i < cs->n; i++) {
		struct child *c = &cs->v[i];
		struct shm_slot *slot = &cs->shm->slots[i];

		if (c->pid == 0) {
			if (c->restart_at_ms && now_ms >= c->restart_at_ms)
				children_spawn(cs, i);
			continue;
		}
		uint64_t hb = __atomic_load_n(&slot->heartbeat_ms, __ATOMIC_RELAXED);
		uint32_t st = __atomic_load_n(&slot->state, __ATOMIC_ACQUIRE);
		uint64_t limit = st == WSTATE_STARTING ? CHILD_START_HANG_MS : CHILD_HANG_MS;
		if (now_ms > hb && now_ms - hb > limit && now_ms >= cs->hang_grace_until_ms) {
			log_error("%s (pid %d) sent no heartbeat for %llu ms; killing it", c->kind->title,
				(int)c->pid, (unsigned long long)(now_ms - hb));
			kill(c->pid, SIGKILL);
			slot->heartbeat_ms = now_ms; /* one kill per hang */
		}
	}
}

void children_signal(struct children *cs, int sig)
{
	for (uint32_t i = 0; i < cs->n; i++)
		if (cs->v[i].pid > 0)
			kill(cs->v[i].pid, sig);
}

uint32_t children_alive(const struct children *cs)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < cs->n; i++)
		n += cs->v[i].pid > 0;
	return n;
}

int children_all_ready(const struct children *cs)
{
	if (!__atomic_load_n(&cs->shm->store->serving, __ATOMIC_ACQUIRE))
		return 0;
	for (uint32_t i = 0; i < cs->n; i++)
		if (cs->v[i].pid <= 0 ||
			__atomic_load_n(&cs->shm->slots[i].state, __ATOMIC_ACQUIRE) != WSTATE_READY)
			return 0;
	return 1;
}
