/* v3_misc.c - cetcdctl v3's maintenance and concurrency commands: alarm
 * list|disarm, defrag, snapshot save|status, move-leader, version, and
 * lock / elect on a session (a lease kept alive by a helper process while
 * the command blocks in the gateway's /v3/lock and /v3/election calls). */
#include "config.h"
#include "ctl/v3_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- alarm ---- */

static void alarm_print(struct v3_ctx *c, json_t *resp)
{
	json_t *a;
	size_t i;

	if (c->out == V3_OUT_FIELDS)
		v3_fields_header(resp);

	if (c->out == V3_OUT_JSON) {
		v3_print_json(resp);
		return;
	}
	json_array_foreach(json_object_get(resp, "alarms"), i, a) {
		json_t *t = json_object_get(a, "alarm");
		/* gogoproto's compact text form, as etcdctl's %+v prints it */
		printf("memberID:%" PRIu64 " alarm:%s \n", v3_juint(a, "memberID"),
			json_is_string(t) ? json_string_value(t) : "NONE");
	}
}

static int alarm_list_run(struct v3_ctx *c, int argc, char **argv)
{
	json_t *req = json_pack("{s:s}", "action", "GET"), *resp = NULL;
	int rc;

	(void)argc;
	(void)argv;
	rc = v3_call(c, "/v3/maintenance/alarm", req, &resp);
	json_decref(req);
	if (rc != 0)
		return rc;
	if (c->out == V3_OUT_TABLE) {
		json_decref(resp);
		return v3_fail(V3_EXIT_BAD_FEATURE, "table not supported as output format");
	}
	alarm_print(c, resp);
	json_decref(resp);
	return V3_EXIT_OK;
}

static int alarm_disarm_run(struct v3_ctx *c, int argc, char **argv)
{
	json_t *req = json_pack("{s:s}", "action", "GET"), *resp = NULL, *a, *all;
	size_t i;
	int rc;

	(void)argc;
	(void)argv;
	rc = v3_call(c, "/v3/maintenance/alarm", req, &resp);
	json_decref(req);
	if (rc != 0)
		return rc;
	/* clientv3's AlarmDisarm: deactivate each active alarm, answer the last */
	all = json_array();
	json_array_foreach(json_object_get(resp, "alarms"), i, a) {
		json_t *r2 = NULL;
		req = json_pack("{s:s,s:O,s:O}", "action", "DEACTIVATE", "memberID",
			json_object_get(a, "memberID"), "alarm", json_object_get(a, "alarm"));
		rc = v3_call(c, "/v3/maintenance/alarm", req, &r2);
		json_decref(req);
		if (rc != 0)
			break;
		json_t *x;
		size_t j;
		json_array_foreach(json_object_get(r2, "alarms"), j, x)
			json_array_append(all, x);
		json_decref(r2);
	}
	if (rc == 0) {
		json_t *out = json_object();
		if (json_object_get(resp, "header") != NULL)
			json_object_set(out, "header", json_object_get(resp, "header"));
		if (json_array_size(all))
			json_object_set(out, "alarms", all);
		alarm_print(c, out);
		json_decref(out);
	}
	json_decref(all);
	json_decref(resp);
	return rc;
}

/* ---- defrag ---- */

static int df_cluster;
static const char *df_data_dir = "";
static struct v3_flag defrag_flags[] = {
	{ "cluster", 0, V3_FLAG_BOOL, &df_cluster, "false", "use all endpoints from the cluster member list", 0 },
	{ "data-dir", 0, V3_FLAG_STRING, &df_data_dir, "\"\"", "Optional. If present, defragments a data directory not in use by etcd.", 0 },
	{ NULL, 0, 0, NULL, NULL, NULL, 0 },
};

static int defrag_run(struct v3_ctx *c, int argc, char **argv)
{
	struct ctl_conn save = c->conn;
	char err[512], **eps = c->conn.endpoints;
	size_t n = c->conn.nendpoints;
	json_t *mresp = NULL;
	int failed = 0;

	(void)argc;
	(void)argv;
	if (*df_data_dir)
		return v3_fail(V3_EXIT_BAD_FEATURE, "defrag --data-dir is not supported by cetcdctl "
			"(cetcd's storage is compacted online; use `cetcdctl defrag` against a member)");
	if (df_cluster) {
		json_t *req = json_object(), *m, *u;
		size_t i, j;
		int rc = v3_call(c, "/v3/cluster/member/list", req, &mresp);
		json_decref(req);
		if (rc != 0)
			return rc;
		n = 0;
		eps = calloc(64, sizeof(char *));
		json_array_foreach(json_object_get(mresp, "members"), i, m)
			json_array_foreach(json_object_get(m, "clientURLs"), j, u)
				if (eps && n < 64)
					eps[n++] = (char *)json_string_value(u);
	}
	for (size_t i = 0; eps && i < n; i++) {
		char *one[1] = { eps[i] };
		json_t *req = json_object(), *resp = NULL;
		c->conn.endpoints = one;
		c->conn.nendpoints = 1;
		int rc = v3_call_raw(c, "/v3/maintenance/defragment", req, &resp, err, sizeof(err));
		c->conn = save;
		json_decref(req);
		json_decref(resp);
		if (rc != 0) {
			if (rc == -1)
				fprintf(stderr, "Failed to defragment etcd member[%s] (%s)\n", eps[i], err);
			failed = 1;
		} else
			printf("Finished defragmenting etcd member[%s]\n", eps[i]);
	}
	if (df_cluster)
		free(eps);
	json_decref(mresp);
	return failed ? V3_EXIT_ERROR : V3_EXIT_OK;
}

/* ---- snapshot ---- */

struct snap_save {
	FILE *f;
	char err[512];
	int bad;
};

static int snap_line(const char *line, size_t len, void *arg)
{
	struct snap_save *s = arg;
	json_t *j = json_loadb(line, len, 0, NULL), *r, *blob;

	if (j == NULL)
		return 0;
	r = json_object_get(j, "result");
	if (r == NULL) {
		json_t *e = json_object_get(j, "error");
		if (json_is_object(e))
			e = json_object_get(e, "message");
		snprintf(s->err, sizeof(s->err), "%s", json_is_string(e) ? json_string_value(e)
									 : "bad answer");
		s->bad = 1;
		json_decref(j);
		return 1;
	}
	blob = json_object_get(r, "blob");
	if (json_is_string(blob)) {
		size_t n = 0;
		char *d = v3_b64dec(json_string_value(blob), &n);
		if (d == NULL || fwrite(d, 1, n, s->f) != n) {
			snprintf(s->err, sizeof(s->err), "write: %s", strerror(errno));
			s->bad = 1;
			free(d);
			json_decref(j);
			return 1;
		}
		free(d);
	}
	json_decref(j);
	return 0;
}

static int snap_save_run(struct v3_ctx *c, int argc, char **argv)
{
	struct snap_save s = { NULL, "", 0 };
	struct ctl_conn conn = c->conn;
	char part[4096], err[512];
	int status = 0, rc;

	if (argc != 1)
		return v3_fail(V3_EXIT_BAD_ARGS, "snapshot save expects one argument");
	snprintf(part, sizeof(part), "%s.part", argv[0]);
	int fd = open(part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	s.f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (s.f == NULL)
		return v3_fail(V3_EXIT_INTERRUPTED, "could not open %s (%s)", part, strerror(errno));
	/* etcdctl saves from the first endpoint only */
	conn.nendpoints = 1;
	conn.command_timeout_ms = 0;
	rc = ctl_http_lines(&conn, "POST", "/v3/maintenance/snapshot", "application/json", "{}", 2,
		&status, snap_line, &s, err, sizeof(err));
	if (fflush(s.f) != 0 || fsync(fileno(s.f)) != 0)
		s.bad = 1;
	fclose(s.f);
	if (s.bad || (rc < 0 && status == 0)) {
		unlink(part);
		return v3_fail(V3_EXIT_INTERRUPTED, "%s", s.err[0] ? s.err : err);
	}
	if (rename(part, argv[0]) != 0) {
		unlink(part);
		return v3_fail(V3_EXIT_INTERRUPTED, "could not rename %s to %s (%s)", part, argv[0],
			strerror(errno));
	}
	printf("Snapshot saved at %s\n", argv[0]);
	return V3_EXIT_OK;
}

/* Go spells system errors in lower case ("no such file or directory"). */
static const char *go_strerror(int e)
{
	static char buf[128];

	snprintf(buf, sizeof(buf), "%s", strerror(e));
	if (buf[0] >= 'A' && buf[0] <= 'Z')
		buf[0] = (char)(buf[0] - 'A' + 'a');
	return buf;
}

static uint64_t le64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* A saved cetcd snapshot: store/snap.h's file (magic "CETCDSDB", frames,
 * a 24-byte trailer body) followed by the SHA-256 of it (stored/dbsnap.h). */
static int snap_status_run(struct v3_ctx *c, int argc, char **argv)
{
	unsigned char hdr[64], tr[40];
	struct stat st;
	FILE *f;
	int rc = V3_EXIT_OK;

	if (argc != 1)
		return v3_fail(V3_EXIT_BAD_ARGS, "snapshot status requires exactly one argument");
	if (stat(argv[0], &st) != 0)
		return v3_fail(V3_EXIT_ERROR, "stat %s: %s", argv[0], go_strerror(errno));
	f = fopen(argv[0], "rb");
	if (f == NULL)
		return v3_fail(V3_EXIT_ERROR, "open %s: %s", argv[0], strerror(errno));
	if (fread(hdr, 1, sizeof(hdr), f) != sizeof(hdr) || st.st_size < 64 + 40 + 32) {
		rc = v3_fail(V3_EXIT_ERROR, "%s: not a snapshot file (too short)", argv[0]);
		goto out;
	}
	if (memcmp(hdr, "CETCDSDB", 8) != 0) {
		/* bbolt's meta page: magic 0xED0CDAED after the 16-byte page header */
		if (hdr[16] == 0xed && hdr[17] == 0xda && hdr[18] == 0x0c && hdr[19] == 0xed)
			rc = v3_fail(V3_EXIT_ERROR, "%s is an etcd (bbolt) snapshot: cetcdctl reads "
				"only cetcd's snapshot format; use etcdctl for etcd's files", argv[0]);
		else
			rc = v3_fail(V3_EXIT_ERROR, "%s: not a cetcd snapshot (bad magic)", argv[0]);
		goto out;
	}
	/* trailer frame (16) + body (24), then the SHA-256 (32) */
	if (fseeko(f, st.st_size - 32 - 40, SEEK_SET) != 0 || fread(tr, 1, 40, f) != 40 ||
		tr[0] != 2 || tr[1] || tr[2] || tr[3]) {
		rc = v3_fail(V3_EXIT_ERROR, "%s: snapshot trailer not found (truncated file?)",
			argv[0]);
		goto out;
	}
	uint64_t total = le64(tr + 16);
	uint32_t crc = (uint32_t)tr[32] | (uint32_t)tr[33] << 8 | (uint32_t)tr[34] << 16 |
		       (uint32_t)tr[35] << 24;
	/* cetcd's file does not state the MVCC revision outside its records;
	 * REVISION shows the raft index the dump reflects */
	uint64_t index = le64(hdr + 16);
	char size[32];
	uint64_t s = (uint64_t)st.st_size;
	if (s < 10)
		snprintf(size, sizeof(size), "%" PRIu64 " B", s);
	else {
		static const char *const u[] = { "B", "kB", "MB", "GB", "TB" };
		uint64_t div = 1;
		int e = 0;
		while (e < 4 && s / div >= 1000) {
			div *= 1000;
			e++;
		}
		uint64_t tenths = (s * 10 + div / 2) / div;
		if (tenths < 100)
			snprintf(size, sizeof(size), "%" PRIu64 ".%" PRIu64 " %s", tenths / 10,
				tenths % 10, u[e]);
		else
			snprintf(size, sizeof(size), "%" PRIu64 " %s", (tenths + 5) / 10, u[e]);
	}
	if (c->out == V3_OUT_JSON)
		printf("{\"hash\":%" PRIu32 ",\"revision\":%" PRIu64 ",\"totalKey\":%" PRIu64
		       ",\"totalSize\":%" PRIu64 "}\n", crc, index, total, s);
	else if (c->out == V3_OUT_FIELDS)
		printf("\"Hash\" : %" PRIu32 "\n\"Revision\" : %" PRIu64 "\n\"Keys\" : %" PRIu64
		       "\n\"Size\" : %" PRIu64 "\n", crc, index, total, s);
	else {
		char h[16], r[32], k[32];
		snprintf(h, sizeof(h), "%x", crc);
		snprintf(r, sizeof(r), "%" PRIu64, index);
		snprintf(k, sizeof(k), "%" PRIu64, total);
		if (c->out == V3_OUT_TABLE) {
			static const char *const head[] = { "HASH", "REVISION", "TOTAL KEYS",
				"TOTAL SIZE" };
			char *cells[4] = { h, r, k, size };
			v3_table(head, 4, cells, 1);
		} else
			printf("%s, %s, %s, %s\n", h, r, k, size);
	}
out:
	fclose(f);
	return rc;
}

/* ---- move-leader ---- */

static int move_leader_run(struct v3_ctx *c, int argc, char **argv)
{
	struct ctl_conn save = c->conn;
	json_t *req, *resp = NULL;
	uint64_t target, leader = 0;
	char err[512], *end, ids[32];
	int rc = V3_EXIT_OK;

	if (argc != 1)
		return v3_fail(V3_EXIT_BAD_ARGS, "move-leader command needs 1 argument");
	errno = 0;
	target = strtoull(argv[0], &end, 16);
	if (errno || *argv[0] == '\0' || *end)
		return v3_fail(V3_EXIT_BAD_ARGS, "strconv.ParseUint: parsing \"%s\": invalid syntax",
			argv[0]);
	/* the transfer must be asked of the leader: find it among --endpoints */
	size_t i, li = SIZE_MAX;
	for (i = 0; i < save.nendpoints && li == SIZE_MAX; i++) {
		char *one[1] = { save.endpoints[i] };
		c->conn.endpoints = one;
		c->conn.nendpoints = 1;
		req = json_object();
		if (v3_call_raw(c, "/v3/maintenance/status", req, &resp, err, sizeof(err)) == 0) {
			leader = v3_juint(resp, "leader");
			if (leader == v3_juint(json_object_get(resp, "header"), "member_id"))
				li = i;
		}
		json_decref(req);
		json_decref(resp);
		resp = NULL;
		c->conn = save;
	}
	if (li == SIZE_MAX) {
		fputs("Error: no leader endpoint given at [", stderr);
		for (i = 0; i < save.nendpoints; i++)
			fprintf(stderr, "%s%s", i ? " " : "", save.endpoints[i]);
		fputs("]\n", stderr);
		return V3_EXIT_ERROR;
	}
	char *one[1] = { save.endpoints[li] };
	c->conn.endpoints = one;
	c->conn.nendpoints = 1;
	snprintf(ids, sizeof(ids), "%" PRIu64, target);
	req = json_pack("{s:s}", "targetID", ids);
	rc = v3_call(c, "/v3/maintenance/transfer-leadership", req, &resp);
	c->conn = save;
	json_decref(req);
	if (rc == 0)
		printf("Leadership transferred from %" PRIx64 " to %" PRIx64 "\n", leader, target);
	json_decref(resp);
	return rc;
}

/* ---- version ---- */

static int version_run(struct v3_ctx *c, int argc, char **argv)
{
	(void)c;
	(void)argc;
	(void)argv;
	/* the etcdctl release cetcdctl follows, and the v3 API it speaks */
	printf("etcdctl version: 3.4.23\nAPI version: 3.4\n");
	return V3_EXIT_OK;
}

/* ---- sessions: lock and elect ---- */

static int64_t s_ttl = 10;
static volatile sig_atomic_t s_stop;

static void on_signal(int sig)
{
	(void)sig;
	s_stop = 1;
}

/* Grants the session lease and forks a keeper that renews it every
 * TTL/3 until the parent exits. */
static int session_open(struct v3_ctx *c, int64_t *lease, pid_t *keeper)
{
	json_t *req = json_pack("{s:I}", "TTL", (json_int_t)s_ttl), *resp = NULL;
	int rc = v3_call(c, "/v3/lease/grant", req, &resp);
	pid_t parent = getpid();

	json_decref(req);
	if (rc != 0)
		return rc;
	*lease = v3_jint(resp, "ID");
	json_decref(resp);
	fflush(stdout);
	*keeper = fork();
	if (*keeper == 0) {
		char body[64], err[256];
		snprintf(body, sizeof(body), "{\"ID\":%" PRId64 "}", *lease);
		while (getppid() == parent) {
			struct timespec ts = { s_ttl / 3 > 0 ? s_ttl / 3 : 1, 0 };
			nanosleep(&ts, NULL);
			struct ctl_resp r;
			ctl_resp_init(&r);
			ctl_http(&c->conn, "POST", "/v3/lease/keepalive", "application/json", body,
				strlen(body), &r, err, sizeof(err));
			ctl_resp_close(&r);
		}
		_exit(0);
	}
	return V3_EXIT_OK;
}

static void session_close(struct v3_ctx *c, int64_t lease, pid_t keeper)
{
	json_t *req = json_pack("{s:I}", "ID", (json_int_t)lease), *resp = NULL;
	char err[256];

	if (keeper > 0) {
		kill(keeper, SIGTERM);
		waitpid(keeper, NULL, 0);
	}
	v3_call_raw(c, "/v3/lease/revoke", req, &resp, err, sizeof(err));
	json_decref(req);
	json_decref(resp);
}

/* Prints the key (as etcdctl's Get of it does) and returns its revision. */
static int64_t print_key(struct v3_ctx *c, const char *key_b64)
{
	json_t *req = json_pack("{s:s}", "key", key_b64), *resp = NULL;
	int64_t rev = 0;

	if (v3_call(c, "/v3/kv/range", req, &resp) == 0) {
		rev = v3_jint(json_object_get(resp, "header"), "revision");
		if (c->out == V3_OUT_JSON)
			v3_print_json(resp);
		else
			v3_get_print(c, resp);
		fflush(stdout);
	}
	json_decref(req);
	json_decref(resp);
	return rev;
}

static void wait_signal(void)
{
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	while (!s_stop)
		pause();
}

static struct v3_flag lock_flags[] = {
	{ "ttl", 0, V3_FLAG_INT, &s_ttl, "10", "timeout for session", 0 },
	{ NULL, 0, 0, NULL, NULL, NULL, 0 },
};

static int lock_run(struct v3_ctx *c, int argc, char **argv)
{
	json_t *req, *resp = NULL;
	int64_t lease, rev;
	pid_t keeper = -1;
	int rc;

	if (argc < 1)
		return v3_fail(V3_EXIT_BAD_ARGS, "lock takes a lock name argument and an optional "
			"command to execute");
	if ((rc = session_open(c, &lease, &keeper)) != 0)
		return rc;
	char *name = v3_b64enc(argv[0], strlen(argv[0]));
	req = json_pack("{s:s,s:I}", "name", name, "lease", (json_int_t)lease);
	free(name);
	int64_t keep_to = c->conn.command_timeout_ms;
	c->conn.command_timeout_ms = 0; /* waiting for the lock has no deadline */
	rc = v3_call(c, "/v3/lock/lock", req, &resp);
	c->conn.command_timeout_ms = keep_to;
	json_decref(req);
	if (rc != 0)
		goto out;
	const char *key = json_string_value(json_object_get(resp, "key"));
	if (argc > 1) {
		size_t kn = 0;
		char *k = v3_b64dec(key ? key : "", &kn), revs[32];
		pid_t pid;
		int st = 0;
		rev = v3_jint(json_object_get(resp, "header"), "revision");
		snprintf(revs, sizeof(revs), "%" PRId64, rev);
		fflush(stdout);
		pid = fork();
		if (pid == 0) {
			setenv("ETCD_LOCK_KEY", k ? k : "", 1);
			setenv("ETCD_LOCK_REV", revs, 1);
			execvp(argv[1], argv + 1);
			fprintf(stderr, "Error: exec: \"%s\": %s\n", argv[1], strerror(errno));
			_exit(127);
		}
		free(k);
		waitpid(pid, &st, 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			rc = v3_fail(V3_EXIT_ERROR, "exit status %d",
				WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	} else {
		print_key(c, key ? key : "");
		wait_signal();
	}
	req = json_pack("{s:s}", "key", key ? key : "");
	json_t *r2 = NULL;
	char err[256];
	v3_call_raw(c, "/v3/lock/unlock", req, &r2, err, sizeof(err));
	json_decref(req);
	json_decref(r2);
out:
	json_decref(resp);
	session_close(c, lease, keeper);
	return rc;
}

static int e_listen;
static struct v3_flag elect_flags[] = {
	{ "listen", 'l', V3_FLAG_BOOL, &e_listen, "false", "observation mode", 0 },
	{ "ttl", 0, V3_FLAG_INT, &s_ttl, NULL, "timeout for session", 0 },
	{ NULL, 0, 0, NULL, NULL, NULL, 0 },
};

static int observe_line(const char *line, size_t len, void *arg)
{
	struct v3_ctx *c = arg;
	json_t *j = json_loadb(line, len, 0, NULL), *r, *kv;
	size_t i = 0;

	if (j == NULL)
		return 0;
	if ((r = json_object_get(j, "result")) == NULL) {
		json_t *e = json_object_get(j, "error");
		if (json_is_object(e))
			e = json_object_get(e, "message");
		v3_fail(V3_EXIT_ERROR, "%s", json_is_string(e) ? json_string_value(e) : "bad answer");
		json_decref(j);
		return V3_EXIT_ERROR;
	}
	(void)i;
	kv = json_object_get(r, "kv"); /* LeaderResponse: the leader's key */
	if (kv != NULL)
		v3_simple_kv(c, kv, 0, 0);
	fflush(stdout);
	json_decref(j);
	return 0;
}

static int elect_run(struct v3_ctx *c, int argc, char **argv)
{
	json_t *req, *resp = NULL;
	int64_t lease;
	pid_t keeper = -1;
	int rc, status = 0;
	char err[512];

	if (argc < 1 || argc > 2)
		return v3_fail(V3_EXIT_BAD_ARGS, "elect takes one election name argument and an "
			"optional proposal argument");
	char *name = v3_b64enc(argv[0], strlen(argv[0]));
	if (e_listen) {
		struct ctl_conn conn = c->conn;
		char body[1024];
		snprintf(body, sizeof(body), "{\"name\":\"%s\"}", name);
		free(name);
		conn.command_timeout_ms = 0;
		rc = ctl_http_lines(&conn, "POST", "/v3/election/observe", "application/json", body,
			strlen(body), &status, observe_line, c, err, sizeof(err));
		if (rc > 0)
			return rc;
		return v3_fail(V3_EXIT_ERROR, "%s", rc < 0 && status == 0 ? "context deadline exceeded"
									: "observer is closed");
	}
	if (argc != 2) {
		free(name);
		return v3_fail(V3_EXIT_BAD_ARGS, "no proposal argument but -l not set");
	}
	if ((rc = session_open(c, &lease, &keeper)) != 0) {
		free(name);
		return rc;
	}
	char *val = v3_b64enc(argv[1], strlen(argv[1]));
	req = json_pack("{s:s,s:I,s:s}", "name", name, "lease", (json_int_t)lease, "value", val);
	free(name);
	free(val);
	int64_t keep_to = c->conn.command_timeout_ms;
	c->conn.command_timeout_ms = 0;
	rc = v3_call(c, "/v3/election/campaign", req, &resp);
	c->conn.command_timeout_ms = keep_to;
	json_decref(req);
	if (rc == 0) {
		json_t *leader = json_object_get(resp, "leader");
		print_key(c, json_string_value(json_object_get(leader, "key")) ?
			json_string_value(json_object_get(leader, "key")) : "");
		wait_signal();
		req = json_pack("{s:O}", "leader", leader);
		json_t *r2 = NULL;
		v3_call_raw(c, "/v3/election/resign", req, &r2, err, sizeof(err));
		json_decref(req);
		json_decref(r2);
	}
	json_decref(resp);
	session_close(c, lease, keeper);
	return rc;
}

const struct v3_cmd v3_misc_cmds[] = {
	{ "alarm list", "alarm list", "Lists all alarms", NULL, NULL, alarm_list_run, 0 },
	{ "alarm disarm", "alarm disarm", "Disarms all alarms", NULL, NULL, alarm_disarm_run, 0 },
	{ "defrag", "defrag", "Defragments the storage of the etcd members with given endpoints",
		NULL, defrag_flags, defrag_run, 0 },
	{ "snapshot save", "snapshot save <filename>",
		"Stores an etcd node backend snapshot to a given file", NULL, NULL, snap_save_run, 0 },
	{ "snapshot restore", "snapshot restore <filename> [options]",
		"Restores an etcd member snapshot to an etcd directory", NULL, v3_restore_flags,
		v3_restore_run, 0 },
	{ "snapshot status", "snapshot status <filename>",
		"Gets backend snapshot status of a given file", NULL, NULL, snap_status_run, 0 },
	{ "move-leader", "move-leader <transferee-member-id>",
		"Transfers leadership to another etcd cluster member.", NULL, NULL, move_leader_run, 0 },
	{ "version", "version", "Prints the version of etcdctl", NULL, NULL, version_run, 0 },
	{ "lock", "lock <lockname> [exec-command arg1 arg2 ...]", "Acquires a named lock", NULL,
		lock_flags, lock_run, 0 },
	{ "elect", "elect <election-name> [proposal]",
		"Observes and participates in leader election", NULL, elect_flags, elect_run, 0 },
	{ NULL, NULL, NULL, NULL, NULL, NULL, 0 },
};
