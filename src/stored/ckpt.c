/* ckpt.c - the storage worker's checkpoint thread.
 *
 * The database is written without fsync; a checkpoint (which flushes dirty
 * pages and the log with fsync) makes every batch committed before it
 * durable, after which the raft worker may forget the log entries up to
 * that batch. A checkpoint can take long on a slow disk, so it runs in a
 * helper thread: the event loop never waits for it. The thread talks to the
 * loop only through atomics and an eventfd, as memcached's helper threads
 * do.
 */
#include "config.h"
#include "stored/stored_int.h"
#include "ipc/frame.h"
#include "ipc/worker.h"
#include "store/env.h"
#include "util/buf.h"
#include "util/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

static void *ckpt_main(void *arg)
{
	struct stored *s = arg;
	uint64_t last = __atomic_load_n(&s->committed, __ATOMIC_ACQUIRE);

	for (;;) {
		/* Sleep in short steps so a stop is noticed quickly. */
		struct timespec ts = { 0, 50 * 1000000L };
		for (int i = 0; i < STORED_CHECKPOINT_MS / 50 &&
			!__atomic_load_n(&s->ckpt_stop, __ATOMIC_ACQUIRE); i++)
			nanosleep(&ts, NULL);
		if (__atomic_load_n(&s->ckpt_stop, __ATOMIC_ACQUIRE))
			break;
		/* Everything committed before the checkpoint starts is durable
		 * once it returns. */
		uint64_t upto = __atomic_load_n(&s->committed, __ATOMIC_ACQUIRE);
		if (upto == last)
			continue;
		if (store_env_checkpoint(s->env) != 0) {
			log_warn("database checkpoint failed");
			continue;
		}
		last = upto;
		__atomic_store_n(&s->ckpt_durable, upto, __ATOMIC_RELEASE);
		uint64_t one = 1;
		ssize_t w = write(s->ckpt_fd, &one, sizeof(one));
		(void)w;
	}
	return NULL;
}

static void ckpt_done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct stored *s = arg;
	uint64_t n;

	if (read(fd, &n, sizeof(n)) != sizeof(n))
		return;
	s->durable = __atomic_load_n(&s->ckpt_durable, __ATOMIC_ACQUIRE);
	shm_write_begin(&s->w->shm->store->seq);
	s->w->shm->store->durable_index = s->durable;
	shm_write_end(&s->w->shm->store->seq);
	stored_send_progress(s);
}

int stored_ckpt_start(struct stored *s)
{
	int rc;

	__atomic_store_n(&s->committed, s->applied, __ATOMIC_RELEASE);
	__atomic_store_n(&s->ckpt_durable, s->durable, __ATOMIC_RELEASE);
	__atomic_store_n(&s->ckpt_stop, 0, __ATOMIC_RELEASE); /* restarted after a restore */
	s->ckpt_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->ckpt_fd < 0) {
		log_error("eventfd: %s", strerror(errno));
		return -1;
	}
	s->ckpt_ev = event_new(s->w->base, s->ckpt_fd, EV_READ | EV_PERSIST, ckpt_done_cb, s);
	event_add(s->ckpt_ev, NULL);
	rc = pthread_create(&s->ckpt_thread, NULL, ckpt_main, s);
	if (rc != 0) {
		log_error("start checkpoint thread: %s", strerror(rc));
		return -1;
	}
	s->ckpt_running = 1;
	return 0;
}

void stored_ckpt_stop(struct stored *s)
{
	if (s->ckpt_running) {
		__atomic_store_n(&s->ckpt_stop, 1, __ATOMIC_RELEASE);
		pthread_join(s->ckpt_thread, NULL);
		s->ckpt_running = 0;
	}
	if (s->ckpt_ev)
		event_free(s->ckpt_ev);
	if (s->ckpt_fd >= 0)
		close(s->ckpt_fd);
	s->ckpt_ev = NULL;
	s->ckpt_fd = -1;
}
