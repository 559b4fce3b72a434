/* defrag.c - Maintenance/Defragment for this member (not through raft),
 * done online by a helper thread of the storage worker.
 *
 * etcd rewrites its bbolt file while holding every write; cetcd instead
 * runs Berkeley DB's DB->compact with DB_FREE_SPACE over every database
 * file of the environment in small steps: each step is its own
 * transaction begun with DB_TXN_NOWAIT, so the compaction never waits for a
 * lock and can never be part of a deadlock with the batch writer (the
 * writer merely waits for one short step to commit); a step that finds a
 * page locked is aborted and tried again a moment later. Readers (api
 * workers) keep reading throughout. Emptied pages at the end of a file are
 * given back to the filesystem, so the files shrink after a compaction of
 * the key-value store freed pages.
 *
 * An api worker asks with IPC_DEFRAG; every request that arrives while a
 * defragmentation runs is answered when it ends (one run serves them
 * all). The answer is an IPC_RESULT for the request id (HTTP 200, an empty
 * DefragmentResponse), so the api worker routes it like a proposal's. The
 * thread talks to the event loop only through an eventfd, as ckpt.c.
 */
#include "config.h"
#include "stored/stored_int.h"
#include "ipc/conn.h"
#include "ipc/frame.h"
#include "ipc/proto.h"
#include "ipc/worker.h"
#include "store/env.h"
#include "store/snap.h"
#include "util/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

/* Pages one step may process: short enough that the writer never waits
 * long for a step's locks. */
#define DEFRAG_STEP_PAGES 32
/* Tries of one step that keeps finding pages locked before giving up on
 * the file (the next defragment carries on). */
#define DEFRAG_STEP_TRIES 2000
#define DEFRAG_MAX_WAITERS 256

struct defrag_waiter {
	uint32_t slot, gen;
	uint64_t req_id;
};

static struct {
	struct defrag_waiter w[DEFRAG_MAX_WAITERS];
	size_t n;
	int running;     /* a thread is started and not joined */
	int stop;        /* atomic: stop soon (database closing) */
	int failed;      /* atomic: a file could not be compacted */
	int fd;
	struct event *ev;
	pthread_t thread;
	DB_ENV *env;
} dg = { .fd = -1 };

static void pause_ms(long ms)
{
	struct timespec ts = { 0, ms * 1000000L };

	nanosleep(&ts, NULL);
}

/* compact_step runs one bounded compaction from *start (NULL: the first
 * key); *end gets where the next step starts. Returns 0, 1 = the file is
 * done, or a Berkeley DB error. */
static int compact_step(DB *db, DBT *start, DBT *end)
{
	DB_COMPACT c;
	DB_TXN *t = NULL;
	int rc;

	memset(&c, 0, sizeof(c));
	c.compact_pages = DEFRAG_STEP_PAGES;
	if ((rc = dg.env->txn_begin(dg.env, NULL, &t, DB_TXN_NOWAIT)) != 0)
		return rc;
	rc = db->compact(db, t, start->size ? start : NULL, NULL, &c, DB_FREE_SPACE, end);
	if (rc != 0) {
		t->abort(t);
		return rc;
	}
	if ((rc = t->commit(t, 0)) != 0)
		return rc;
	/* Done when Berkeley DB names no further key, the step stopped where
	 * it began, or it saw fewer pages than it was allowed (it reached the
	 * end of the tree). */
	if (end->size == 0 || c.compact_pages_examine < DEFRAG_STEP_PAGES ||
		(start->size == end->size && memcmp(start->data, end->data, end->size) == 0))
		return 1;
	return 0;
}

static int compact_file(const char *name)
{
	char err[256];
	DB *db = NULL;
	DBT start, end;
	int rc, tries = 0;

	if (store_db_open(&db, dg.env, name, 0, err, sizeof(err)) != 0)
		return 0; /* not created (yet): nothing to do */
	memset(&start, 0, sizeof(start));
	memset(&end, 0, sizeof(end));
	end.flags = DB_DBT_REALLOC;
	for (;;) {
		if (__atomic_load_n(&dg.stop, __ATOMIC_ACQUIRE)) {
			rc = 0;
			break;
		}
		rc = compact_step(db, &start, &end);
		if (rc == 1)
			break;
		if (rc == DB_LOCK_NOTGRANTED || rc == DB_LOCK_DEADLOCK) {
			if (++tries > DEFRAG_STEP_TRIES)
				break;
			pause_ms(1);
			continue;
		}
		tries = 0;
		if (rc != 0)
			break;
		/* go on from where the step stopped */
		free(start.data);
		start.data = end.data;
		start.size = end.size;
		end.data = NULL;
		end.size = 0;
		if (start.size == 0)
			break;
	}
	if (rc < 0 || rc > 1)
		log_warn("defragment %s: %s", name, db_strerror(rc));
	free(start.data);
	free(end.data);
	db->close(db, 0);
	return rc < 0 || rc > 1 ? -1 : 0;
}

static void *defrag_main(void *arg)
{
	uint64_t one = 1;
	ssize_t w;

	(void)arg;
	for (int i = 0; store_snap_dbs[i] != NULL; i++)
		if (compact_file(store_snap_dbs[i]) != 0)
			__atomic_store_n(&dg.failed, 1, __ATOMIC_RELEASE);
	w = write(dg.fd, &one, sizeof(one));
	(void)w;
	return NULL;
}

static void answer(struct stored *s, const struct defrag_waiter *wt, int ok)
{
	static const char msg[] = "etcdserver: defragment failed";
	uint8_t fixed[PROTO_RESULT_FIXED];
	struct proto_result pr;

	if (wt->slot >= SHM_MAX_SLOTS || s->api[wt->slot] == NULL || s->api_gen[wt->slot] != wt->gen)
		return;
	memset(&pr, 0, sizeof(pr));
	pr.http_status = ok ? 200 : 500;
	pr.error_code = ok ? 0 : 13; /* gRPC Internal */
	proto_result_encode_fixed(fixed, &pr);
	ipc_conn_send(s->api[wt->slot], IPC_RESULT, wt->req_id, wt->slot, wt->gen, fixed,
		sizeof(fixed), ok ? NULL : msg, ok ? 0 : sizeof(msg) - 1);
}

static void finish(struct stored *s)
{
	int ok = !__atomic_load_n(&dg.failed, __ATOMIC_ACQUIRE) &&
		!__atomic_load_n(&dg.stop, __ATOMIC_ACQUIRE);

	pthread_join(dg.thread, NULL);
	dg.running = 0;
	for (size_t i = 0; i < dg.n; i++)
		answer(s, &dg.w[i], ok);
	dg.n = 0;
	log_info("defragment %s", ok ? "done" : "failed");
}

static void done_cb(evutil_socket_t fd, short what, void *arg)
{
	uint64_t n;

	(void)what;
	if (read(fd, &n, sizeof(n)) != sizeof(n) || !dg.running)
		return;
	finish(arg);
}

static int start_thread(struct stored *s)
{
	int rc;

	if (dg.fd < 0) {
		dg.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (dg.fd < 0)
			return -1;
		dg.ev = event_new(s->w->base, dg.fd, EV_READ | EV_PERSIST, done_cb, s);
		event_add(dg.ev, NULL);
	}
	dg.env = s->env;
	__atomic_store_n(&dg.stop, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&dg.failed, 0, __ATOMIC_RELEASE);
	if ((rc = pthread_create(&dg.thread, NULL, defrag_main, NULL)) != 0) {
		log_error("start defragment thread: %s", strerror(rc));
		return -1;
	}
	dg.running = 1;
	log_info("defragment started");
	return 0;
}

void stored_defrag_request(struct stored *s, uint32_t slot, uint32_t gen, uint64_t req_id)
{
	struct defrag_waiter wt = { slot, gen, req_id };

	if (s->env == NULL || dg.n == DEFRAG_MAX_WAITERS) {
		answer(s, &wt, 0);
		return;
	}
	dg.w[dg.n++] = wt;
	if (!dg.running && start_thread(s) != 0) {
		for (size_t i = 0; i < dg.n; i++)
			answer(s, &dg.w[i], 0);
		dg.n = 0;
	}
}

void stored_defrag_stop(struct stored *s)
{
	if (!dg.running)
		return;
	__atomic_store_n(&dg.stop, 1, __ATOMIC_RELEASE);
	finish(s);
}
