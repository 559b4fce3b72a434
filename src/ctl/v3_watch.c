/* v3_watch.c - cetcdctl v3's watch: one streamed POST /v3/watch per
 * watched range, each event printed as etcdctl 3.4 prints it, and the
 * `watch KEY -- CMD` form that runs CMD after each event with the
 * ETCD_WATCH_* variables set. Interactive mode (-i) reads "watch ..."
 * lines from stdin and serves each in a child process so that several
 * watches stream at once. */
#include "config.h"
#include "ctl/v3_int.h"

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int w_prefix, w_prev, w_inter;
static int64_t w_rev;
static struct v3_flag watch_flags[] = {
	{ "interactive", 'i', V3_FLAG_BOOL, &w_inter, "false", "Interactive mode", 0 },
	{ "prefix", 0, V3_FLAG_BOOL, &w_prefix, "false", "Watch on a prefix if prefix is set", 0 },
	{ "rev", 0, V3_FLAG_INT, &w_rev, "0", "Revision to start watching", 0 },
	{ "prev-kv", 0, V3_FLAG_BOOL, &w_prev, "false", "get the previous key-value pair before the event happens", 0 },
	{ NULL, 0, 0, NULL, NULL, NULL, 0 },
};

struct watch_run {
	struct v3_ctx *c;
	char **cmd;      /* exec form, or NULL */
	int status;      /* exit code to report when the stream stops */
};

/* Go's %q of bytes into a malloc'd string (for ETCD_WATCH_*). */
static char *go_quote(const char *p, size_t n)
{
	char *out = NULL;
	size_t sz = 0;
	FILE *m = open_memstream(&out, &sz);
	FILE *save = stdout;

	if (m == NULL)
		return NULL;
	stdout = m;
	v3_print_quoted(p, n);
	stdout = save;
	fclose(m);
	return out;
}

static char *field_quoted(json_t *kv, const char *k)
{
	json_t *v = json_object_get(kv, k);
	size_t n = 0;
	char *d = v3_b64dec(json_is_string(v) ? json_string_value(v) : "", &n), *q;

	q = d ? go_quote(d, n) : NULL;
	free(d);
	return q;
}

static void exec_cmd(struct watch_run *w, json_t *res, json_t *ev)
{
	json_t *kv = json_object_get(ev, "kv");
	json_t *t = json_object_get(ev, "type");
	char rev[64], typ[32], *key = field_quoted(kv, "key"), *val = field_quoted(kv, "value");
	pid_t pid;

	snprintf(rev, sizeof(rev), "%" PRId64, v3_jint(json_object_get(res, "header"), "revision"));
	snprintf(typ, sizeof(typ), "\"%s\"", json_is_string(t) ? json_string_value(t) : "PUT");
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		setenv("ETCD_WATCH_REVISION", rev, 1);
		setenv("ETCD_WATCH_EVENT_TYPE", typ, 1);
		setenv("ETCD_WATCH_KEY", key ? key : "\"\"", 1);
		setenv("ETCD_WATCH_VALUE", val ? val : "\"\"", 1);
		execvp(w->cmd[0], w->cmd);
		fprintf(stderr, "command %s failed to run\n", w->cmd[0]);
		_exit(127);
	}
	if (pid > 0)
		waitpid(pid, NULL, 0);
	free(key);
	free(val);
}

static void print_event(struct watch_run *w, json_t *res, json_t *ev)
{
	struct v3_ctx *c = w->c;
	json_t *t = json_object_get(ev, "type"), *prev = json_object_get(ev, "prev_kv");
	const char *type = json_is_string(t) ? json_string_value(t) : "PUT";

	if (c->out == V3_OUT_FIELDS) {
		printf("\"Type\" : %s\n", type);
		if (prev)
			v3_fields_kv(c, prev, "Prev");
		v3_fields_kv(c, json_object_get(ev, "kv"), "");
	} else {
		puts(type);
		if (prev)
			v3_simple_kv(c, prev, 0, 0);
		v3_simple_kv(c, json_object_get(ev, "kv"), 0, 0);
	}
	(void)res;
}

static int watch_line(const char *line, size_t len, void *arg)
{
	struct watch_run *w = arg;
	json_t *j = json_loadb(line, len, 0, NULL), *res, *evs, *ev;
	size_t i;

	if (j == NULL)
		return 0;
	res = json_object_get(j, "result");
	if (res == NULL) {
		json_t *e = json_object_get(j, "error");
		if (json_is_object(e))
			e = json_object_get(e, "message");
		v3_fail(V3_EXIT_ERROR, "%s", json_is_string(e) ? json_string_value(e) : "bad answer");
		w->status = V3_EXIT_ERROR;
		json_decref(j);
		return 1;
	}
	if (v3_jbool(res, "canceled")) {
		json_t *r = json_object_get(res, "cancel_reason");
		printf("watch was canceled (%s)\n", json_is_string(r) ? json_string_value(r) : "");
		fflush(stdout);
		w->status = V3_EXIT_INTERRUPTED;
		json_decref(j);
		return 1;
	}
	evs = json_object_get(res, "events");
	if (json_array_size(evs) == 0) {
		json_decref(j);
		return 0; /* created / progress notices are not printed */
	}
	if (w->c->out == V3_OUT_JSON) {
		/* clientv3.WatchResponse: Go field names, the header not flattened */
		fputs("{\"Header\":", stdout);
		v3_print_json_inline(json_object_get(res, "header"));
		fputs(",\"Events\":", stdout);
		v3_print_json_inline(evs);
		printf(",\"CompactRevision\":%" PRId64 ",\"Canceled\":false,\"Created\":false}\n",
			v3_jint(res, "compact_revision"));
	}
	if (w->c->out == V3_OUT_FIELDS)
		v3_fields_header(res);
	/* etcdctl prints the whole response, then runs the command per event */
	json_array_foreach(evs, i, ev)
		if (w->c->out != V3_OUT_JSON)
			print_event(w, res, ev);
	json_array_foreach(evs, i, ev)
		if (w->cmd)
			exec_cmd(w, res, ev);
	fflush(stdout);
	json_decref(j);
	return 0;
}

/* Streams one watch until it ends; returns the exit code. */
static int watch_one(struct v3_ctx *c, const char *key, const char *end, int prefix,
	int64_t rev, int prev, char **cmd)
{
	struct watch_run w = { c, cmd, V3_EXIT_OK };
	struct ctl_conn conn = c->conn;
	json_t *cr = json_object(), *req;
	char err[512], *k = v3_b64enc(key, strlen(key)), *body;
	int status = 0, rc;

	json_object_set_new(cr, "key", json_string(k));
	free(k);
	if (prefix) {
		size_t n = strlen(key);
		char *e = malloc(n + 1);
		size_t m = n;
		memcpy(e, key, n);
		while (m > 0 && (unsigned char)e[m - 1] == 0xff)
			m--;
		if (m == 0) {
			e[0] = '\0';
			m = 1;
		} else
			e[m - 1]++;
		k = v3_b64enc(e, m);
		json_object_set_new(cr, "range_end", json_string(k));
		free(k);
		free(e);
	} else if (end) {
		k = v3_b64enc(end, strlen(end));
		json_object_set_new(cr, "range_end", json_string(k));
		free(k);
	}
	if (rev)
		json_object_set_new(cr, "start_revision", json_integer(rev));
	if (prev)
		json_object_set_new(cr, "prev_kv", json_true());
	req = json_pack("{s:o}", "create_request", cr);
	body = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	conn.command_timeout_ms = 0; /* a watch runs until interrupted */
	rc = ctl_http_lines(&conn, "POST", "/v3/watch", "application/json", body, strlen(body),
		&status, watch_line, &w, err, sizeof(err));
	free(body);
	if (rc > 0)
		return w.status;
	if (rc < 0 && status == 0)
		return v3_fail(V3_EXIT_ERROR, "context deadline exceeded");
	return v3_fail(V3_EXIT_INTERRUPTED, "watch is canceled by the server");
}

/* Splits "key [end] [-- cmd...]" as etcdctl's watch does. */
static int watch_args(int argc, char **argv, const char **key, const char **end, char ***cmd)
{
	int sep = -1;

	for (int i = 0; i < argc; i++)
		if (strcmp(argv[i], "--") == 0) {
			sep = i;
			break;
		}
	*cmd = NULL;
	if (sep >= 0) {
		if (sep + 1 >= argc)
			return v3_fail(V3_EXIT_BAD_ARGS,
				"bad number of arguments (found separator --, but no commands)");
		*cmd = argv + sep + 1;
		argv[sep] = NULL;
		argc = sep;
	}
	if (argc < 1 || argc > 2)
		return v3_fail(V3_EXIT_BAD_ARGS, "bad number of arguments");
	*key = argv[0];
	*end = argc == 2 ? argv[1] : NULL;
	if (*end && w_prefix)
		return v3_fail(V3_EXIT_BAD_ARGS, "`range_end` and `--prefix` are mutually exclusive");
	return 0;
}

extern const struct v3_cmd v3_watch_cmds[];

/* -i: each "watch ..." line starts a watch in a child; EOF ends all. */
static int watch_interactive(struct v3_ctx *c)
{
	char line[4096];
	pid_t kids[64];
	int nkids = 0, rc = V3_EXIT_INVALID_INPUT;

	while (fgets(line, sizeof(line), stdin) != NULL) {
		char *words[64], *save = NULL, *pos[64];
		int n = 0, npos = 0;

		for (char *t = strtok_r(line, " \t\r\n", &save); t && n < 63;
			t = strtok_r(NULL, " \t\r\n", &save))
			words[n++] = t;
		if (n == 0)
			continue;
		if (strcmp(words[0], "watch") != 0) {
			fprintf(stderr, "Invalid command %s (only support watch)\n", words[0]);
			continue;
		}
		w_prefix = w_prev = 0;
		w_rev = 0;
		if (v3_parse(c, &v3_watch_cmds[0], n - 1, words + 1, pos, &npos) != 0)
			continue;
		const char *key, *end;
		char **cmd;
		if (watch_args(npos, pos, &key, &end, &cmd) != 0)
			continue;
		fflush(stdout);
		pid_t pid = fork();
		if (pid == 0)
			_exit(watch_one(c, key, end, w_prefix, w_rev, w_prev, cmd));
		if (pid > 0 && nkids < 64)
			kids[nkids++] = pid;
	}
	v3_fail(rc, "Error reading watch request line: EOF");
	for (int i = 0; i < nkids; i++) {
		kill(kids[i], SIGTERM);
		waitpid(kids[i], NULL, 0);
	}
	return rc;
}

static int watch_run(struct v3_ctx *c, int argc, char **argv)
{
	const char *key, *end;
	char **cmd;
	int rc;

	if (w_inter)
		return watch_interactive(c); /* etcdctl ignores arguments here */
	if ((rc = watch_args(argc, argv, &key, &end, &cmd)) != 0)
		return rc;
	return watch_one(c, key, end, w_prefix, w_rev, w_prev, cmd);
}

const struct v3_cmd v3_watch_cmds[] = {
	{ "watch", "watch [options] [key or prefix] [range_end] [--] [exec-command arg1 arg2 ...]",
		"Watches events stream on keys or prefixes", NULL, watch_flags, watch_run, 1 },
	{ NULL, NULL, NULL, NULL, NULL, NULL, 0 },
};
