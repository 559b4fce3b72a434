/* v2watch.c - cetcdctl's v2 "watch" and "exec-watch": long polls of
 * /v2/keys/<key>?wait=true, each asking for the index after the last event
 * seen, as etcd's Go client Watcher does; exec-watch starts the command for
 * each event with ETCD_WATCH_* in its environment and does not wait for it.
 */
#include "config.h"
#include "ctl/v2_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

enum { W_FOREVER, W_AFTER, W_REC, W_N };

static void on_sigint(int sig)
{
	(void)sig;
	_exit(0); /* etcdctl exits 0 on an interrupt */
}

struct watch {
	struct v2_ctx *x;
	const char *key;
	int recursive;
	int64_t wait_index;  /* 0: from now on */
};

/* One long poll; 0 with the event in *out (NULL when the poll ended
 * without one), else the exit code (already printed). */
static int watch_next(struct watch *w, json_t **out, struct ctl_resp *r)
{
	char path[4096], q[128];
	json_t *j;
	int rc;

	*out = NULL;
	v2_keys_path(w->key, path, sizeof(path) - sizeof(q));
	snprintf(q, sizeof(q), "?recursive=%s&wait=true&waitIndex=%" PRId64,
		w->recursive ? "true" : "false", w->wait_index);
	strcat(path, q);
	if ((rc = v2_do(w->x, "GET", path, NULL, r, V2_EXIT_SERVER)) != 0)
		return rc;
	if (r->body.len == 0)
		return 0;
	j = json_loadb((const char *)r->body.data, r->body.len, 0, NULL);
	if (r->status < 200 || r->status >= 300) {
		rc = v2_key_error(w->x, r, j);
		json_decref(j);
		return rc;
	}
	if (j != NULL)
		w->wait_index = json_integer_value(json_object_get(json_object_get(j, "node"),
			"modifiedIndex")) + 1;
	*out = j;
	return 0;
}

static void setenv_event(json_t *j)
{
	json_t *n = json_object_get(j, "node");
	char idx[32];
	const char *a = json_string_value(json_object_get(j, "action"));
	const char *k = json_string_value(json_object_get(n, "key"));
	const char *v = json_string_value(json_object_get(n, "value"));

	snprintf(idx, sizeof(idx), "%" JSON_INTEGER_FORMAT,
		json_integer_value(json_object_get(n, "modifiedIndex")));
	setenv("ETCD_WATCH_ACTION", a != NULL ? a : "", 1);
	setenv("ETCD_WATCH_MODIFIED_INDEX", idx, 1);
	setenv("ETCD_WATCH_KEY", k != NULL ? k : "", 1);
	setenv("ETCD_WATCH_VALUE", v != NULL ? v : "", 1);
}

/* Starts argv with the event's environment; a failure to start it ends
 * cetcdctl with exit 1, as etcdctl does. */
static void exec_event(json_t *j, char **argv)
{
	int p[2];
	pid_t pid;
	int e = 0;

	fflush(stdout);
	fflush(stderr);
	if (pipe2(p, O_CLOEXEC) != 0)
		return;
	if ((pid = fork()) == 0) {
		setenv_event(j);
		execvp(argv[0], argv);
		e = errno;
		if (write(p[1], &e, sizeof(e)) < 0)
			_exit(127);
		_exit(127);
	}
	close(p[1]);
	if (pid > 0 && read(p[0], &e, sizeof(e)) == (ssize_t)sizeof(e)) {
		fprintf(stderr, "exec: \"%s\": %s", argv[0],
			e == ENOENT ? "executable file not found in $PATH" : strerror(e));
		exit(1);
	}
	close(p[0]);
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

static int watch_loop(struct watch *w, int forever, char **cmd)
{
	struct ctl_resp r;
	int rc = 0;

	for (;;) {
		json_t *j, *n;

		ctl_resp_init(&r);
		rc = watch_next(w, &j, &r);
		if (rc != 0 || j == NULL) {
			ctl_resp_close(&r);
			if (rc != 0)
				return rc;
			continue;
		}
		n = json_object_get(j, "node");
		if (json_is_true(json_object_get(n, "dir"))) {
			if (cmd != NULL)
				fprintf(stderr, "Ignored dir %s change\n",
					json_string_value(json_object_get(n, "key")));
		} else if (cmd != NULL) {
			exec_event(j, cmd);
		} else {
			if (w->recursive)
				printf("[%s] %s\n", json_string_value(json_object_get(j, "action")),
					json_string_value(json_object_get(n, "key")));
			v2_print_response(w->x, &r, j);
			fflush(stdout);
			if (!forever) {
				json_decref(j);
				ctl_resp_close(&r);
				return 0;
			}
		}
		json_decref(j);
		ctl_resp_close(&r);
	}
}

int v2_cmd_watch(struct v2_ctx *x, const char *cmd, int argc, char **argv)
{
	struct v2_flag fl[W_N] = {
		{"forever, f", V2F_BOOL, 0, 0, NULL, 0},
		{"after-index", V2F_INT, 0, 0, NULL, 0},
		{"recursive, r", V2F_BOOL, 0, 0, NULL, 0},
	};
	int exec = strcmp(cmd, "exec-watch") == 0;
	struct watch w;
	char **pos, **cmdv;
	int npos, rc;

	/* exec-watch has no --forever */
	if (v2_flags_parse(x, cmd, argc, argv, exec ? fl + 1 : fl, exec ? 2 : 3, &pos, &npos) != 0)
		return V2_EXIT_BADARGS;
	memset(&w, 0, sizeof(w));
	w.x = x;
	x->conn.command_timeout_ms = 0; /* --total-timeout does not bound a watch */
	w.recursive = fl[W_REC].b;
	w.wait_index = fl[W_AFTER].i > 0 ? fl[W_AFTER].i + 1 : 0;
	signal(SIGINT, on_sigint);
	if (!exec) {
		if (npos < 1) {
			free(pos);
			return v2_fail(V2_EXIT_BADARGS, "key required");
		}
		w.key = pos[0];
		rc = watch_loop(&w, fl[W_FOREVER].b, NULL);
		free(pos);
		return rc;
	}
	if (npos < 2) {
		free(pos);
		return v2_fail(V2_EXIT_BADARGS, "key and command to exec required");
	}
	/* etcdctl: "KEY -- CMD..." when a "--" follows the key, otherwise
	 * the key comes last ("CMD... KEY"). */
	cmdv = calloc((size_t)npos + 1, sizeof(*cmdv));
	if (cmdv == NULL) {
		free(pos);
		return V2_EXIT_BADARGS;
	}
	int sep = 0;
	for (int i = 1; i < npos; i++)
		sep |= strcmp(pos[i], "--") == 0;
	if (sep) {
		w.key = pos[0];
		memcpy(cmdv, pos + 2, (size_t)(npos - 2) * sizeof(*cmdv));
	} else {
		w.key = pos[npos - 1];
		memcpy(cmdv, pos, (size_t)(npos - 1) * sizeof(*cmdv));
	}
	if (cmdv[0] == NULL)
		rc = v2_fail(V2_EXIT_BADARGS, "key and command to exec required");
	else
		rc = watch_loop(&w, 1, cmdv);
	free(cmdv);
	free(pos);
	return rc;
}
