/* main.c - cetcd's supervisor: the first process.
 *
 * It parses flags, environment and config file, locks the data directory,
 * creates the shared-memory segment (but never touches what workers keep
 * in it), forks the raft, storage and api workers and then only waits:
 * for signals, for children that exit (restarted with capped exponential
 * backoff), for children that stop sending heartbeats (killed). It never
 * touches client or peer traffic, so it cannot be blocked by a client.
 */
#include "config.h"
#include "config/cfg.h"
#include "ipc/conn.h"
#include "ipc/shm.h"
#include "supervisor/children.h"
#include "supervisor/datadir.h"
#include "supervisor/listen.h"
#include "supervisor/ident.h"
#include "cluster/cluster.h"
#include "supervisor/notify.h"
#include "supervisor/proxymode.h"
#include "store/lease.h"
#include "util/clock.h"
#include "util/err.h"
#include "util/log.h"
#include "util/proctitle.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SUPERVISOR_TICK_MS 50
#define STOP_GRACE_MS 4000
#define START_AS_PROXY (-1) /* start_member: not an exit code */

extern char **environ;

struct supervisor {
	struct cetcd_config cfg;
	struct shm shm;
	struct children children;
	int lock_fd;
	int stopping;
	uint64_t stop_deadline_ms;
	int exit_code;
	int notified_ready;
	int client_fds[LISTEN_MAX_FDS];
	int nclient_fds;
	int peer_fds[LISTEN_MAX_FDS];
	int npeer_fds;
	struct cluster cluster;
	char *proxy_peers;   /* proxy mode: the cluster's peer URLs */
};

static int write_pid_file(const char *path)
{
	char buf[32];
	int fd;
	int n;

	if (path == NULL || path[0] == '\0')
		return 0;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		log_error("open pid file %s: %s", path, strerror(errno));
		return -1;
	}
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (write(fd, buf, (size_t)n) != n)
		log_warn("write pid file %s: %s", path, strerror(errno));
	close(fd);
	return 0;
}

static int setup_logging(const struct cetcd_config *cfg, char *err, size_t errlen)
{
	char outs[1024] = "";
	size_t used = 0;
	int level = log_parse_level(cfg->log_level);

	for (int i = 0; i < cfg->log_outputs.n; i++) {
		int n = snprintf(outs + used, sizeof(outs) - used, "%s%s", i ? "," : "",
			cfg->log_outputs.v[i]);
		if (n < 0 || (size_t)n >= sizeof(outs) - used)
			break;
		used += (size_t)n;
	}
	if (used && log_set_outputs(outs, err, (unsigned)errlen) != 0)
		return -1;
	if (level >= 0)
		log_min_level = level;
	return 0;
}

static void begin_stop(struct supervisor *s, int exit_code)
{
	if (s->stopping)
		return;
	s->stopping = 1;
	s->exit_code = exit_code;
	s->stop_deadline_ms = shm_now_ms() + STOP_GRACE_MS;
	notify_send("STOPPING=1");
	log_info("stopping: asking %u workers to exit", children_alive(&s->children));
	children_signal(&s->children, SIGTERM);
}

static void reap(struct supervisor *s)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		int r = children_reaped(&s->children, pid, status, s->stopping);
		if (r != 0 && !s->stopping)
			begin_stop(s, r == 1 ? WORKER_EXIT_FATAL : 0);
	}
}

static int run_loop(struct supervisor *s)
{
	struct timespec tick = { 0, SUPERVISOR_TICK_MS * 1000000L };
	sigset_t set;
	siginfo_t info;

	sigfillset(&set);
	for (;;) {
		int sig = sigtimedwait(&set, &info, &tick);
		uint64_t now = shm_now_ms();

		switch (sig) {
		case SIGTERM:
		case SIGINT:
			log_info("received %s", sig == SIGTERM ? "SIGTERM" : "SIGINT");
			begin_stop(s, 0);
			break;
		case SIGHUP:
			log_reopen();
			children_signal(&s->children, SIGHUP);
			break;
		default:
			break;
		}
		reap(s);
		if (s->stopping) {
			if (children_alive(&s->children) == 0)
				return s->exit_code;
			if (now >= s->stop_deadline_ms) {
				log_warn("workers did not stop in %d ms; killing them", STOP_GRACE_MS);
				children_signal(&s->children, SIGKILL);
				s->stop_deadline_ms = now + 1000;
			}
			continue;
		}
		children_tick(&s->children, now);
		if (!s->notified_ready && children_all_ready(&s->children)) {
			s->notified_ready = 1;
			log_info("ready to serve client requests");
			notify_send("READY=1");
		}
	}
}

/* raise_nofile lifts the soft open-file limit to the hard one, as Go's
 * runtime does for etcd: every client connection and watch stream is a
 * descriptor in an api worker, and workers inherit the limit. */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
		log_warn("cannot raise the open file limit: %s", strerror(errno));
}

/* block_signals: signals are taken synchronously with sigtimedwait;
 * children unblock them after fork (worker_start). */
static void block_signals(void)
{
	sigset_t all;

	sigfillset(&all);
	sigdelset(&all, SIGSEGV);
	sigdelset(&all, SIGBUS);
	sigdelset(&all, SIGFPE);
	sigdelset(&all, SIGILL);
	sigprocmask(SIG_BLOCK, &all, NULL);
}

/* start_member locks the member data dir, binds the client and peer
 * URLs, resolves who this member is and forks raft, storage and api
 * workers. 0, an exit code, or START_AS_PROXY (discovery found the
 * cluster full: nothing forked, the member directories undone, the peer
 * sockets closed). */
static int start_member(struct supervisor *s)
{
	char err[1024] = "";
	int rc;

	s->lock_fd = datadir_prepare(s->cfg.data_dir, s->cfg.wal_dir, err, sizeof(err));
	if (s->lock_fd < 0) {
		log_error("%s", err);
		return s->lock_fd == CE_LOCKED ? 1 : 2;
	}
	s->nclient_fds = listen_urls(&s->cfg.listen_client_urls, s->client_fds, LISTEN_MAX_FDS, err,
		sizeof(err));
	if (s->nclient_fds < 0) {
		log_error("%s", err);
		return 1;
	}
	s->npeer_fds = listen_urls(&s->cfg.listen_peer_urls, s->peer_fds, LISTEN_MAX_FDS, err,
		sizeof(err));
	if (s->npeer_fds < 0) {
		log_error("%s", err);
		return 1;
	}
	rc = ident_resolve(&s->cluster, &s->cfg, err, sizeof(err));
	if (rc == IDENT_FALLBACK_PROXY) {
		for (int i = 0; i < s->npeer_fds; i++)
			close(s->peer_fds[i]);
		s->npeer_fds = 0;
		datadir_discard_member(s->cfg.data_dir, s->cfg.wal_dir, s->lock_fd);
		s->lock_fd = -1;
		return START_AS_PROXY;
	}
	if (rc != 0) {
		log_error("%s", err);
		return 1;
	}
	log_info("member %016llx of cluster %016llx%s", (unsigned long long)s->cluster.self_id,
		(unsigned long long)s->cluster.cluster_id, s->cluster.join ? " (joining)" : "");
	if (shm_create(&s->shm, 2 + (uint32_t)s->cfg.api_workers, err, sizeof(err)) != 0) {
		log_error("%s", err);
		return 1;
	}
	lease_idgen_init((struct lease_idgen *)s->shm.hdr->lease_idgen, s->cluster.self_id,
		clock_wall_ns() / 1000000);
	ipc_set_instance(getpid());
	write_pid_file(s->cfg.pid_file);
	log_info("cetcd %s starting: name %s, data dir %s", PACKAGE_VERSION, s->cfg.name,
		s->cfg.data_dir);
	block_signals();
	if (children_init(&s->children, &s->shm, &s->cfg, (uint32_t)s->cfg.api_workers) != 0) {
		log_error("cannot set up the worker table");
		return 1;
	}
	s->children.client_fds = s->client_fds;
	s->children.nclient_fds = s->nclient_fds;
	s->children.peer_fds = s->peer_fds;
	s->children.npeer_fds = s->npeer_fds;
	s->children.cluster = &s->cluster;
	for (uint32_t i = 0; i < s->children.n; i++)
		children_spawn(&s->children, i);
	return 0;
}

/* start_proxy runs cetcd as etcd's v2 proxy: <data-dir>/proxy locked, the
 * peer URLs found (proxymode.c), the client URLs bound (already, after a
 * discovery fallback) and one proxy worker forked. */
static int start_proxy(struct supervisor *s)
{
	char err[1024] = "";

	s->lock_fd = datadir_prepare_proxy(s->cfg.data_dir, err, sizeof(err));
	if (s->lock_fd < 0) {
		log_error("%s", err);
		return s->lock_fd == CE_LOCKED ? 1 : 2;
	}
	if (proxy_peers_resolve(&s->cfg, &s->proxy_peers, err, sizeof(err)) != 0) {
		log_error("%s", err);
		return 1;
	}
	if (s->nclient_fds == 0)
		s->nclient_fds = listen_urls(&s->cfg.listen_client_urls, s->client_fds,
			LISTEN_MAX_FDS, err, sizeof(err));
	if (s->nclient_fds < 0) {
		log_error("%s", err);
		return 1;
	}
	if (shm_create(&s->shm, 1, err, sizeof(err)) != 0) {
		log_error("%s", err);
		return 1;
	}
	ipc_set_instance(getpid());
	write_pid_file(s->cfg.pid_file);
	log_info("cetcd %s starting as a %sproxy: name %s, data dir %s", PACKAGE_VERSION,
		strcmp(s->cfg.proxy, "readonly") == 0 ? "readonly " : "", s->cfg.name,
		s->cfg.data_dir);
	block_signals();
	if (children_init_proxy(&s->children, &s->shm, &s->cfg) != 0) {
		log_error("cannot set up the worker table");
		return 1;
	}
	s->children.client_fds = s->client_fds;
	s->children.nclient_fds = s->nclient_fds;
	s->children.proxy_peers = s->proxy_peers;
	children_spawn(&s->children, 0);
	return 0;
}

int main(int argc, char **argv)
{
	static struct supervisor s;
	char err[1024] = "";
	int rc;

	argv = proctitle_init(argc, argv);
	log_set_role("supervisor");
	rc = config_parse(&s.cfg, argc, argv, environ, err, sizeof(err));
	if (rc == CONFIG_EXIT_OK) {
		config_close(&s.cfg);
		return 0;
	}
	if (rc != 0) {
		config_print_error(stderr, err);
		config_close(&s.cfg);
		return 2;
	}
	if (setup_logging(&s.cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "cetcd: %s\n", err);
		return 2;
	}
	for (int i = 0; i < s.cfg.warnings.n; i++)
		log_warn("%s", s.cfg.warnings.v[i]);
	raise_nofile();
	rc = datadir_identify(s.cfg.data_dir, err, sizeof(err));
	if (rc < 0) {
		log_error("%s", err);
		return 1;
	}
	if (rc == DATADIR_PROXY || (rc == DATADIR_EMPTY && strcmp(s.cfg.proxy, "off") != 0)) {
		if (rc == DATADIR_PROXY)
			log_info("the server is already initialized as proxy before, starting as etcd "
				"proxy...");
		rc = start_proxy(&s);
	} else {
		rc = start_member(&s);
		if (rc == START_AS_PROXY)
			rc = start_proxy(&s);
	}
	if (rc != 0)
		return rc;
	proctitle_set("cetcd: supervisor");
	rc = run_loop(&s);
	log_info("stopped (exit %d)", rc);
	if (s.cfg.pid_file && s.cfg.pid_file[0])
		unlink(s.cfg.pid_file);
	children_close(&s.children);
	shm_destroy(&s.shm);
	free(s.proxy_peers);
	config_close(&s.cfg);
	return rc;
}
