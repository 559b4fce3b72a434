/* main.c - the storage worker's entry point: wait until no api worker has
 * the database environment open, finish any interrupted restore, recover
 * it, then apply entries. Also opens and closes the database for a restore
 * (snap.c). */
#include "config.h"
#include "stored/stored.h"
#include "stored/stored_int.h"
#include "config/cfg.h"
#include "ipc/worker.h"
#include "store/env.h"
#include "store/envdir.h"
#include "store/v2store.h"
#include "util/log.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#define DETACH_WAIT_MS 2000

static struct stored stored;

/* Recovery must run with nobody else inside the environment: api workers
 * detach when the storage worker is gone or the state is not READY. */
static void wait_for_readers(struct stored *s)
{
	struct shm *shm = s->w->shm;
	uint64_t deadline = shm_now_ms() + DETACH_WAIT_MS;

	for (;;) {
		int attached = 0;
		for (uint32_t i = 0; i < shm->hdr->nslots; i++)
			if (shm->slots[i].role == ROLE_API && shm->slots[i].pid > 0 &&
				__atomic_load_n(&shm->slots[i].db_gen_attached, __ATOMIC_ACQUIRE))
				attached++;
		if (attached == 0)
			return;
		if (shm_now_ms() > deadline) {
			log_warn("%d api workers still attached to the database; recovering anyway", attached);
			return;
		}
		usleep(10000);
	}
}

void stored_set_db_state(struct stored *s, uint32_t state)
{
	struct shm_store *st = s->w->shm->store;

	shm_write_begin(&st->seq);
	st->db_state = state;
	if (state == DB_STATE_READY) {
		st->db_gen++;
		s->db_gen = st->db_gen;
		st->applied_index = s->applied;
		st->applied_term = s->applied_term;
		st->durable_index = s->durable;
		st->v2_index = v2store_current_index(s->v2);
	}
	shm_write_end(&st->seq);
}

void stored_db_dir(const struct stored *s, char *out, size_t n)
{
	snprintf(out, n, "%s/member/db", s->w->cfg->data_dir);
}

int stored_db_open(struct stored *s, char *err, size_t errlen)
{
	char dir[PATH_MAX];
	int rc;

	stored_db_dir(s, dir, sizeof(dir));
	if ((rc = store_env_open(&s->env, dir, 1, err, errlen)) != 0)
		return rc;
	if ((rc = v2store_open(&s->v2, s->env, 1, err, errlen)) != 0)
		return rc;
	if ((rc = stored_v3_open(s, err, errlen)) != 0)
		return rc;
	if ((rc = stored_meta_load(s, err, errlen)) != 0)
		return rc;
	/* Make the recovered state durable before telling the raft worker
	 * it may forget entries up to it. */
	store_env_checkpoint(s->env);
	return 0;
}

void stored_db_close(struct stored *s)
{
	v2store_free(s->v2);
	s->v2 = NULL;
	stored_v3_close(s);
	if (s->env)
		store_env_checkpoint(s->env);
	store_env_close(s->env);
	s->env = NULL;
}

static int open_db(struct stored *s, char *err, size_t errlen)
{
	char dir[PATH_MAX];
	const char *what = "";
	int rc;

	stored_set_db_state(s, DB_STATE_RECOVERING);
	wait_for_readers(s);
	/* A restore a crash interrupted is finished (or undone) first. */
	stored_db_dir(s, dir, sizeof(dir));
	if ((rc = store_envdir_recover(dir, &what, err, errlen)) != 0)
		return rc;
	if (*what)
		log_warn("database directory %s: %s", dir, what);
	if ((rc = stored_db_open(s, err, errlen)) != 0)
		return rc;
	log_info("database recovered at applied index %llu", (unsigned long long)s->applied);
	stored_set_db_state(s, DB_STATE_READY);
	return 0;
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	stored_duties_tick(arg);
}

static void on_stop(struct worker *w)
{
	struct stored *s = w->user;

	stored_apply_batch_end(s);
	event_base_loopexit(w->base, NULL);
}

int stored_main(struct worker *w)
{
	struct stored *s = &stored;
	struct timeval tv = { 0, STORED_TICK_MS * 1000 };
	char err[1024] = "";
	int rc;

	memset(s, 0, sizeof(*s));
	s->w = w;
	s->ckpt_fd = -1;
	w->user = s;
	w->on_stop = on_stop;
	buf_init(&s->out.results);
	buf_init(&s->out.events);
	buf_init(&s->out.events_v3);
	shm_writer_reset(&w->shm->store->seq);
	if (cluster_copy(&s->cluster, w->cluster) != 0) {
		log_error("out of memory");
		return WORKER_EXIT_FATAL;
	}
	if (open_db(s, err, sizeof(err)) != 0) {
		log_error("open database: %s", err);
		return WORKER_EXIT_CRASH;
	}
	if (stored_conns_start(s) != 0 || stored_ckpt_start(s) != 0)
		return WORKER_EXIT_CRASH;
	s->tick_ev = event_new(w->base, -1, EV_PERSIST, tick_cb, s);
	event_add(s->tick_ev, &tv);
	worker_set_state(w, WSTATE_READY);
	rc = worker_run(w);
	stored_apply_batch_end(s);
	stored_ckpt_stop(s);
	event_free(s->tick_ev);
	stored_conns_close(s);
	stored_db_close(s);
	buf_close(&s->out.results);
	buf_close(&s->out.events);
	buf_close(&s->out.events_v3);
	cluster_close(&s->cluster);
	return rc;
}
