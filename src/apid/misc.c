/* misc.c - the small endpoints: /version, /health, /metrics,
 * /v2/stats/{self,store,leader}, and Go's 404 for the rest (members.c has
 * /v2/members and /v2/machines). */
#include "config.h"
#include "apid/apid_int.h"
#include "config/cfg.h"
#include "http/httpd.h"
#include "ipc/worker.h"
#include "raft/raft.h"
#include "store/v2json.h"
#include "store/v2store.h"
#include "util/buf.h"
#include "util/clock.h"
#include "v3/v3.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

static void not_found(struct hreq *req)
{
	hreq_add_header(req, "X-Content-Type-Options", "nosniff");
	http_send_text(req, 404, "404 page not found\n");
}

void apid_send_json(struct hreq *req, int status, const char *ctype, json_t *o, int newline)
{
	char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (s == NULL) {
		http_send_text(req, 500, "out of memory");
		return;
	}
	size_t n = strlen(s);
	if (newline) {
		char *t = realloc(s, n + 2);
		if (t) {
			s = t;
			s[n++] = '\n';
			s[n] = '\0';
		}
	}
	http_send(req, status, ctype, s, n);
	free(s);
}

/* go_time: Go's time.Time text (RFC 3339, nanoseconds, trailing zeros
 * cut), as the v2 store writes it, without the JSON quotes. */
static void go_time(uint64_t ns, char *out, size_t len)
{
	struct buf b;

	buf_init(&b);
	v2json_time(&b, (int64_t)ns);
	snprintf(out, len, "%.*s", b.len >= 2 ? (int)b.len - 2 : 0, b.len >= 2 ? (const char *)b.data + 1 : "");
	buf_close(&b);
}

/* Go's time.Duration String(), e.g. "8m24.116781939s". */
static void go_duration(uint64_t ns, char *out, size_t len)
{
	uint64_t h = ns / 3600000000000ull;
	uint64_t m = ns / 60000000000ull % 60;
	uint64_t s = ns / 1000000000ull % 60;
	uint64_t frac = ns % 1000000000ull;
	char fs[16] = "";
	size_t n = 0;

	if (frac) {
		snprintf(fs, sizeof(fs), ".%09" PRIu64, frac);
		for (size_t i = strlen(fs) - 1; fs[i] == '0'; i--)
			fs[i] = '\0';
	}
	if (h)
		n += (size_t)snprintf(out + n, len - n, "%" PRIu64 "h", h);
	if (h || m)
		n += (size_t)snprintf(out + n, len - n, "%" PRIu64 "m", m);
	snprintf(out + n, len - n, "%" PRIu64 "%ss", s, fs);
}

static void id_str(uint64_t id, char out[17])
{
	snprintf(out, 17, "%" PRIx64, id);
}

static void serve_version(struct hreq *req)
{
	json_t *o = json_object();

	json_object_set_new(o, "etcdserver", json_string(CETCD_COMPAT_SERVER_VERSION));
	json_object_set_new(o, "etcdcluster", json_string(CETCD_COMPAT_CLUSTER_VERSION));
	apid_send_json(req, 200, "application/json", o, 0);
}

static void serve_health(struct apid *a, struct hreq *req)
{
	struct shm_raft r;
	int ok;

	shm_raft_read(a->w->shm, &r);
	ok = r.leader_id != RAFT_NONE && apid_db_ready(a) &&
		__atomic_load_n(&a->w->shm->store->serving, __ATOMIC_ACQUIRE);
	if (ok) {
		/* etcd: unhealthy while any alarm is set (e.g. NOSPACE) */
		struct v3_alarm al[1];
		ok = apid_alarms(a, al, 1) == 0;
	}
	if (!ok) /* Go's http.Error: nosniff and a newline */
		hreq_add_header(req, "X-Content-Type-Options", "nosniff");
	http_send(req, ok ? 200 : 503, "text/plain; charset=utf-8",
		ok ? "{\"health\":\"true\"}" : "{\"health\":\"false\"}\n", ok ? 17 : 19);
}

static void serve_stats_self(struct apid *a, struct hreq *req)
{
	struct shm_raft r;
	char id[17], lid[17], start[64], lstart[64], up[64];
	json_t *o = json_object(), *li = json_object();
	uint64_t now = (uint64_t)clock_wall_ns();

	shm_raft_read(a->w->shm, &r);
	id_str(a->cluster.self_id, id);
	id_str(r.leader_id, lid);
	go_time(a->w->shm->hdr->start_time_ns, start, sizeof(start));
	go_time(r.start_time_ns ? r.start_time_ns : a->w->shm->hdr->start_time_ns, lstart,
		sizeof(lstart));
	go_duration(now - (r.start_time_ns ? r.start_time_ns : a->w->shm->hdr->start_time_ns), up,
		sizeof(up));
	json_object_set_new(o, "name", json_string(a->w->cfg->name));
	json_object_set_new(o, "id", json_string(id));
	json_object_set_new(o, "state", json_string(r.role == RAFT_LEADER ? "StateLeader" :
		r.role == RAFT_CANDIDATE || r.role == RAFT_PRE_CANDIDATE ? "StateCandidate" :
		"StateFollower"));
	json_object_set_new(o, "startTime", json_string(start));
	json_object_set_new(li, "leader", json_string(lid));
	json_object_set_new(li, "uptime", json_string(up));
	json_object_set_new(li, "startTime", json_string(lstart));
	json_object_set_new(o, "leaderInfo", li);
	json_object_set_new(o, "recvAppendRequestCnt", json_integer((json_int_t)r.recv_appends));
	json_object_set_new(o, "sendAppendRequestCnt", json_integer((json_int_t)r.sent_appends));
	apid_send_json(req, 200, "application/json", o, 0);
}

static uint64_t sum_counter(struct apid *a, enum worker_counter c)
{
	uint64_t v = 0;
	for (uint32_t i = 0; i < a->w->shm->hdr->nslots; i++)
		v += __atomic_load_n(&a->w->shm->slots[i].counters[c], __ATOMIC_RELAXED);
	return v;
}

static void serve_stats_store(struct apid *a, struct hreq *req)
{
	json_t *o = json_object(), *w = NULL;

	json_object_set_new(o, "getsSuccess", json_integer((json_int_t)sum_counter(a, WC_V2_GETS_SUCCESS)));
	json_object_set_new(o, "getsFail", json_integer((json_int_t)sum_counter(a, WC_V2_GETS_FAIL)));
	if (apid_db_ready(a) && v2store_write_stats(a->v2, &w) == 0 && w) {
		const char *k;
		json_t *v;
		json_object_foreach(w, k, v)
			json_object_set(o, k, v);
		json_decref(w);
	}
	json_object_set_new(o, "watchers", json_integer((json_int_t)sum_counter(a, WC_WATCHERS)));
	apid_send_json(req, 200, "application/json", o, 0);
}

static void serve_stats_leader(struct apid *a, struct hreq *req)
{
	struct shm_raft r;
	char id[17];
	json_t *o = json_object();

	shm_raft_read(a->w->shm, &r);
	if (r.leader_id != a->cluster.self_id) {
		json_object_set_new(o, "message", json_string("not current leader"));
		apid_send_json(req, 403, "application/json", o, 0);
		return;
	}
	id_str(r.leader_id, id);
	json_object_set_new(o, "leader", json_string(id));
	json_t *fs = json_object();
	for (uint32_t i = 0; i < r.npeers && i < SHM_MAX_PEER_STATS; i++) {
		const struct shm_peer_stat *ps = &r.peers[i];
		json_t *f = json_object(), *lat = json_object(), *cnt = json_object();
		json_object_set_new(lat, "current", json_real((double)ps->lat_cur_ns / 1e6));
		json_object_set_new(lat, "average", json_real((double)ps->lat_avg_ns / 1e6));
		json_object_set_new(lat, "standardDeviation", json_real((double)ps->lat_stddev_ns / 1e6));
		json_object_set_new(lat, "minimum", json_real((double)ps->lat_min_ns / 1e6));
		json_object_set_new(lat, "maximum", json_real((double)ps->lat_max_ns / 1e6));
		json_object_set_new(cnt, "fail", json_integer((json_int_t)ps->fails));
		json_object_set_new(cnt, "success", json_integer((json_int_t)ps->successes));
		json_object_set_new(f, "latency", lat);
		json_object_set_new(f, "counts", cnt);
		id_str(ps->id, id);
		json_object_set_new(fs, id, f);
	}
	json_object_set_new(o, "followers", fs);
	apid_send_json(req, 200, "application/json", o, 0);
}

static void metric(struct buf *b, const char *name, const char *type, const char *help,
	uint64_t v)
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n%s %" PRIu64 "\n", name, help, name, type,
		name, v);
}

static void serve_metrics(struct apid *a, struct hreq *req)
{
	static const char *const roles[] = { "none", "raft", "storage", "api", "proxy" };
	struct buf mb, *b = &mb;
	struct shm_raft r;
	struct shm_store st;

	buf_init(&mb);

	shm_raft_read(a->w->shm, &r);
	shm_store_read(a->w->shm, &st);
	metric(b, "etcd_server_has_leader", "gauge", "Whether or not a leader exists. 1 is existence, 0 is not.", r.leader_id != RAFT_NONE);
	metric(b, "etcd_server_is_leader", "gauge", "Whether or not this member is a leader. 1 if is, 0 otherwise.", r.leader_id == a->cluster.self_id);
	metric(b, "etcd_server_is_learner", "gauge", "Whether or not this member is a learner. 1 if is, 0 otherwise.", r.is_learner);
	metric(b, "etcd_server_leader_changes_seen_total", "counter", "The number of leader changes seen.", r.leader_changes);
	metric(b, "etcd_server_proposals_committed_total", "gauge", "The total number of consensus proposals committed.", r.commit_index);
	metric(b, "etcd_server_proposals_applied_total", "gauge", "The total number of consensus proposals applied.", st.applied_index);
	metric(b, "etcd_server_proposals_pending", "gauge", "The current number of pending proposals to commit.", sum_counter(a, WC_PROPOSALS_PENDING));
	metric(b, "etcd_server_proposals_failed_total", "counter", "The total number of failed proposals seen.", sum_counter(a, WC_PROPOSALS_FAILED));
	metric(b, "etcd_debugging_store_watchers", "gauge", "Count of currently active watchers.", sum_counter(a, WC_WATCHERS));
	metric(b, "etcd_debugging_mvcc_watcher_total", "gauge", "Total number of watchers.", sum_counter(a, WC_V3_WATCHERS));
	metric(b, "etcd_debugging_mvcc_slow_watcher_total", "gauge", "Total number of unsynced slow watchers.", sum_counter(a, WC_V3_SLOW_WATCHERS));
	metric(b, "etcd_http_requests_total", "counter", "Client HTTP requests served by api workers.", sum_counter(a, WC_HTTP_REQUESTS));
	buf_printf(b, "# HELP etcd_disk_wal_fsync_duration_seconds The latency distributions of fsync called by WAL.\n"
		"# TYPE etcd_disk_wal_fsync_duration_seconds histogram\n");
	for (int i = 0; i < 14; i++)
		buf_printf(b, "etcd_disk_wal_fsync_duration_seconds_bucket{le=\"%g\"} %" PRIu64 "\n",
			0.001 * (double)(1u << i), r.wal_fsync_buckets[i]);
	buf_printf(b, "etcd_disk_wal_fsync_duration_seconds_bucket{le=\"+Inf\"} %" PRIu64 "\n"
		"etcd_disk_wal_fsync_duration_seconds_sum %.9f\n"
		"etcd_disk_wal_fsync_duration_seconds_count %" PRIu64 "\n",
		r.wal_fsyncs, (double)r.wal_fsync_ns / 1e9, r.wal_fsyncs);
	buf_printf(b, "# HELP etcd_network_peer_sent_bytes_total The total number of bytes sent to peers.\n"
		"# TYPE etcd_network_peer_sent_bytes_total counter\n");
	for (uint32_t i = 0; i < r.npeers && i < SHM_MAX_PEER_STATS; i++)
		buf_printf(b, "etcd_network_peer_sent_bytes_total{To=\"%" PRIx64 "\"} %" PRIu64 "\n",
			r.peers[i].id, r.peers[i].sent_bytes);
	buf_printf(b, "# HELP etcd_network_peer_received_bytes_total The total number of bytes received from peers.\n"
		"# TYPE etcd_network_peer_received_bytes_total counter\n");
	for (uint32_t i = 0; i < r.npeers && i < SHM_MAX_PEER_STATS; i++)
		buf_printf(b, "etcd_network_peer_received_bytes_total{From=\"%" PRIx64 "\"} %" PRIu64 "\n",
			r.peers[i].id, r.peers[i].recv_bytes);
	buf_printf(b, "# HELP cetcd_worker_restarts_total Times the supervisor restarted a worker.\n"
		"# TYPE cetcd_worker_restarts_total counter\n");
	for (uint32_t i = 0; i < a->w->shm->hdr->nslots; i++) {
		const struct shm_slot *s = &a->w->shm->slots[i];
		if (s->role == 0 || s->role >= sizeof(roles) / sizeof(roles[0]))
			continue;
		buf_printf(b, "cetcd_worker_restarts_total{role=\"%s\",slot=\"%u\"} %" PRIu64 "\n",
			roles[s->role], i, __atomic_load_n(&s->restarts, __ATOMIC_RELAXED));
	}
	http_send(req, 200, "text/plain; version=0.0.4; charset=utf-8", mb.data, mb.len);
	buf_close(&mb);
}

void misc_handle(struct apid *a, struct hreq *req, const char *path)
{
	int v2 = a->w->cfg->enable_v2;

	if (strcmp(path, "/version") == 0) {
		if (http_only(req, H_GET, "GET"))
			serve_version(req);
	} else if (strcmp(path, "/health") == 0) {
		if (http_only(req, H_GET, "GET"))
			serve_health(a, req);
	}
	else if (strcmp(path, "/metrics") == 0)
		serve_metrics(a, req);
	else if (v2 && strcmp(path, "/v2/machines") == 0 && http_only(req, H_GET | H_HEAD, "GET,HEAD"))
		members_machines(a, req);
	else if (v2 && strcmp(path, "/v2/discovery/new") == 0)
		discovery_new(a, req);
	else if (v2 && strcmp(path, "/v2/members") == 0)
		members_handle(a, req, "");
	else if (v2 && strncmp(path, "/v2/members/", 12) == 0)
		members_handle(a, req, path + 12);
	else if (v2 && strcmp(path, "/v2/stats/self") == 0 && http_only(req, H_GET, "GET"))
		serve_stats_self(a, req);
	else if (v2 && strcmp(path, "/v2/stats/store") == 0 && http_only(req, H_GET, "GET"))
		serve_stats_store(a, req);
	else if (v2 && strcmp(path, "/v2/stats/leader") == 0 && http_only(req, H_GET, "GET"))
		serve_stats_leader(a, req);
	else if (v2 && (strcmp(path, "/v2/machines") == 0 || strncmp(path, "/v2/stats/", 10) == 0))
		; /* only() answered 405 */
	else
		not_found(req);
}
