/* worker.c - the common runtime of forked worker processes. */
#include "config.h"
#include "ipc/worker.h"
#include "util/log.h"
#include "util/proctitle.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <event2/event.h>

static void heartbeat_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	__atomic_store_n(&w->slot->heartbeat_ms, shm_now_ms(), __ATOMIC_RELAXED);
	/* The supervisor is gone (we were reparented): stop at once. */
	if (getppid() != w->supervisor) {
		log_warn("supervisor %d exited; stopping", (int)w->supervisor);
		event_base_loopbreak(w->base);
	}
}

static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct worker *w = arg;

	if (sig == SIGHUP) {
		log_reopen();
		return;
	}
	worker_set_state(w, WSTATE_STOPPING);
	if (w->on_stop)
		w->on_stop(w);
	else
		event_base_loopexit(w->base, NULL);
}

int worker_start(struct worker *w, const char *title, const char *log_role)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP };
	struct timeval hb = { 0, WORKER_HEARTBEAT_MS * 1000 };
	char full[64];
	sigset_t all;

	snprintf(full, sizeof(full), "cetcd: %s", title);
	proctitle_set(full);
	log_set_role(log_role);
	prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
	if (getppid() != w->supervisor)
		return -1;
	signal(SIGPIPE, SIG_IGN);
	/* The changelist folds the enable/disable pairs bufferevents make
	 * around every write into nothing, saving an epoll_ctl each. */
	struct event_config *ec = event_config_new();
	if (ec)
		event_config_set_flag(ec, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	w->base = ec ? event_base_new_with_config(ec) : event_base_new();
	if (ec)
		event_config_free(ec);
	if (w->base == NULL) {
		log_error("event_base_new failed");
		return -1;
	}
	event_base_priority_init(w->base, 2);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		w->sig_ev[i] = evsignal_new(w->base, sigs[i], signal_cb, w);
		evsignal_add(w->sig_ev[i], NULL);
	}
	w->heartbeat_ev = event_new(w->base, -1, EV_PERSIST, heartbeat_cb, w);
	event_add(w->heartbeat_ev, &hb);
	heartbeat_cb(-1, 0, w);
	/* The supervisor forks with every signal blocked; take them now. */
	sigfillset(&all);
	sigprocmask(SIG_UNBLOCK, &all, NULL);
	return 0;
}

int worker_run(struct worker *w)
{
	int rc = event_base_dispatch(w->base);

	worker_set_state(w, WSTATE_STOPPING);
	for (size_t i = 0; i < 4; i++)
		if (w->sig_ev[i])
			event_free(w->sig_ev[i]);
	event_free(w->heartbeat_ev);
	return rc < 0 ? WORKER_EXIT_CRASH : WORKER_EXIT_OK;
}

void worker_set_state(struct worker *w, enum worker_state st)
{
	__atomic_store_n(&w->slot->state, (uint32_t)st, __ATOMIC_RELEASE);
}

void worker_role_slots(const struct shm *s, int role, uint32_t *first, uint32_t *count)
{
	*first = 0;
	*count = 0;
	for (uint32_t i = 0; i < s->hdr->nslots; i++) {
		if ((int)s->slots[i].role != role)
			continue;
		if (*count == 0)
			*first = i;
		(*count)++;
	}
}
