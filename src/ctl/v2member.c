/* v2member.c - cetcdctl's v2 cluster commands: member list|add|remove|
 * update over /v2/members, cluster-health (each member's /health), and
 * user/role/auth, which cetcd does not serve (/v2/auth answers 404): they
 * print what etcdctl 3.4 prints against such a server.
 */
#include "config.h"
#include "ctl/v2_int.h"
#include "pb/gojson.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A members API call (after the sync); 0, or the exit code after
 * printing the error as etcdctl's member commands do: the bare message
 * (err.Error()), exit 1. */
static int m_call(struct v2_ctx *x, const char *method, const char *path, const char *body,
	struct ctl_resp *r)
{
	char msg[2048], detail[2048];
	int rc;

	if ((rc = v2_sync(x)) != 0)
		return rc;
	if (v2_do_raw(x, method, path, "application/json", body, r, msg, sizeof(msg), detail,
		    sizeof(detail)) != 0) {
		fprintf(stderr, "%s\n", msg);
		return V2_EXIT_BADARGS;
	}
	return 0;
}

static const char *jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s != NULL ? s : "";
}

static void join_urls(json_t *a, char *out, size_t len)
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < json_array_size(a) && o < len; i++)
		o += (size_t)snprintf(out + o, len - o, "%s%s", i > 0 ? "," : "",
			json_string_value(json_array_get(a, i)));
}

/* The members list; NULL after printing why (exit code in *rc). */
static json_t *m_list(struct v2_ctx *x, int *rc, int quiet_prefix)
{
	struct ctl_resp r;
	json_t *j = NULL;

	ctl_resp_init(&r);
	if ((*rc = m_call(x, "GET", "/v2/members", NULL, &r)) != 0) {
		ctl_resp_close(&r);
		return NULL;
	}
	if (r.status != 200) {
		fprintf(stderr, "%sunexpected status code %d\n", quiet_prefix ? "" : "", r.status);
		*rc = V2_EXIT_BADARGS;
	} else {
		j = json_loadb((const char *)r.body.data, r.body.len, 0, NULL);
	}
	ctl_resp_close(&r);
	return j;
}

static int member_list(struct v2_ctx *x)
{
	struct ctl_resp r;
	json_t *j, *ms, *lj = NULL;
	const char *leader = "";
	char peers[2048], clients[2048];
	int rc;

	if ((j = m_list(x, &rc, 0)) == NULL)
		return rc;
	ctl_resp_init(&r);
	if ((rc = m_call(x, "GET", "/v2/members/leader", NULL, &r)) != 0)
		goto out;
	if (r.status != 200) {
		fprintf(stderr, "Failed to get leader:  unexpected status code %d\n", r.status);
		rc = V2_EXIT_BADARGS;
		goto out;
	}
	lj = json_loadb((const char *)r.body.data, r.body.len, 0, NULL);
	leader = jstr(lj, "id");
	ms = json_object_get(j, "members");
	for (size_t i = 0; i < json_array_size(ms); i++) {
		json_t *m = json_array_get(ms, i);

		join_urls(json_object_get(m, "peerURLs"), peers, sizeof(peers));
		join_urls(json_object_get(m, "clientURLs"), clients, sizeof(clients));
		if (jstr(m, "name")[0] == '\0')
			printf("%s[unstarted]: peerURLs=%s\n", jstr(m, "id"), peers);
		else
			printf("%s: name=%s peerURLs=%s clientURLs=%s isLeader=%s\n", jstr(m, "id"),
				jstr(m, "name"), peers, clients,
				strcmp(jstr(m, "id"), leader) == 0 ? "true" : "false");
	}
out:
	json_decref(lj);
	json_decref(j);
	ctl_resp_close(&r);
	return rc;
}

/* etcd's types.NewURLs checks, made before any request: 0, or 1 after
 * printing why a peer URL is refused. */
static int check_urls(const char *urls, int split)
{
	char *dup = strdup(urls), *save = NULL;
	int rc = 0;

	for (char *t = split ? strtok_r(dup, ",", &save) : dup; t != NULL && rc == 0;
		t = split ? strtok_r(NULL, ",", &save) : NULL) {
		char *sep = strstr(t, "://"), *host, *slash, *colon;

		if (sep == NULL || !((sep - t == 4 && strncmp(t, "http", 4) == 0) ||
			(sep - t == 5 && strncmp(t, "https", 5) == 0) ||
			(sep - t == 4 && strncmp(t, "unix", 4) == 0) ||
			(sep - t == 5 && strncmp(t, "unixs", 5) == 0))) {
			fprintf(stderr, "URL scheme must be http, https, unix, or unixs: %s\n", t);
			rc = V2_EXIT_BADARGS;
			break;
		}
		host = sep + 3;
		slash = strchr(host, '/');
		colon = memchr(host, ':', slash != NULL ? (size_t)(slash - host) : strlen(host));
		if (colon == NULL || (host[0] != '[' &&
			memchr(colon + 1, ':', slash != NULL ? (size_t)(slash - colon - 1) : strlen(colon + 1)))) {
			fprintf(stderr, "URL address does not have the form \"host:port\": %s\n", t);
			rc = V2_EXIT_BADARGS;
		} else if (slash != NULL) {
			fprintf(stderr, "URL must not contain a path: %s\n", t);
			rc = V2_EXIT_BADARGS;
		}
	}
	free(dup);
	return rc;
}

/* {"peerURLs":["a","b"]} from "a,b" (split), or one URL. */
static char *peer_body(const char *urls, int split)
{
	json_t *o = json_object(), *a = json_array();
	char *dup = strdup(urls), *save = NULL, *out;

	for (char *t = split ? strtok_r(dup, ",", &save) : dup; t != NULL;
		t = split ? strtok_r(NULL, ",", &save) : NULL)
		json_array_append_new(a, json_string(t));
	json_object_set_new(o, "peerURLs", a);
	out = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	free(dup);
	return out;
}

static int member_add(struct v2_ctx *x, int npos, char **pos)
{
	struct ctl_resp r;
	json_t *j = NULL, *ms;
	char *body;
	const char *id;
	struct buf conf, q;
	int rc;

	if (npos != 2) {
		fprintf(stderr, "Provide a name and a single member peerURL\n");
		return V2_EXIT_BADARGS;
	}
	if (check_urls(pos[1], 0) != 0)
		return V2_EXIT_BADARGS;
	body = peer_body(pos[1], 0);
	ctl_resp_init(&r);
	rc = m_call(x, "POST", "/v2/members", body, &r);
	free(body);
	if (rc != 0)
		goto out;
	j = json_loadb((const char *)r.body.data, r.body.len, 0, NULL);
	if (r.status != 201) {
		if (r.status == 409 && json_object_get(j, "message") != NULL)
			fprintf(stderr, "%s\n", jstr(j, "message"));
		else
			fprintf(stderr, "unexpected status code %d\n", r.status);
		rc = V2_EXIT_BADARGS;
		goto out;
	}
	id = jstr(j, "id");
	printf("Added member named %s with ID %s to cluster\n", pos[0], id);
	if ((ms = m_list(x, &rc, 0)) == NULL)
		goto out;
	buf_init(&conf);
	for (size_t i = 0; i < json_array_size(json_object_get(ms, "members")); i++) {
		json_t *m = json_array_get(json_object_get(ms, "members"), i);
		const char *n = strcmp(jstr(m, "id"), id) == 0 ? pos[0] : jstr(m, "name");
		json_t *pu = json_object_get(m, "peerURLs");

		for (size_t k = 0; k < json_array_size(pu); k++) {
			const char *u = json_string_value(json_array_get(pu, k));

			if (conf.len > 0)
				buf_put_u8(&conf, ',');
			buf_put(&conf, n, strlen(n));
			buf_put_u8(&conf, '=');
			buf_put(&conf, u, strlen(u));
		}
	}
	buf_put_u8(&conf, '\0');
	buf_init(&q);
	gojson_goquote(&q, pos[0], strlen(pos[0]));
	buf_put(&q, "\0", 1);
	printf("\nETCD_NAME=%s\n", (char *)q.data);
	buf_reset(&q);
	gojson_goquote(&q, conf.data, strlen((char *)conf.data));
	buf_put(&q, "\0", 1);
	printf("ETCD_INITIAL_CLUSTER=%s\n", (char *)q.data);
	printf("ETCD_INITIAL_CLUSTER_STATE=\"existing\"\n");
	buf_close(&q);
	buf_close(&conf);
	json_decref(ms);
out:
	json_decref(j);
	ctl_resp_close(&r);
	return rc;
}

static int member_remove(struct v2_ctx *x, int npos, char **pos)
{
	struct ctl_resp r;
	json_t *j, *ms;
	char path[300];
	int rc, found = 0;

	if (npos != 1) {
		fprintf(stderr, "Provide a single member ID\n");
		return V2_EXIT_BADARGS;
	}
	if ((j = m_list(x, &rc, 1)) == NULL)
		return rc;
	ms = json_object_get(j, "members");
	for (size_t i = 0; i < json_array_size(ms); i++) {
		json_t *m = json_array_get(ms, i);

		if (strcmp(jstr(m, "id"), pos[0]) == 0)
			found = 1;
		if (strcmp(jstr(m, "name"), pos[0]) == 0) {
			fprintf(stderr, "Found a member named %s; if this is correct, please use its ID, "
				"eg:\n\tetcdctl member remove %s\n", jstr(m, "name"), jstr(m, "id"));
			fprintf(stderr, "For more details, read the documentation at https://github.com/"
				"etcd-io/etcd/blob/master/Documentation/runtime-configuration.md"
				"#remove-a-member\n\n");
		}
	}
	json_decref(j);
	if (!found) {
		fprintf(stderr, "Couldn't find a member in the cluster with an ID of %s.\n", pos[0]);
		return V2_EXIT_BADARGS;
	}
	snprintf(path, sizeof(path), "/v2/members/%s", pos[0]);
	ctl_resp_init(&r);
	if ((rc = m_call(x, "DELETE", path, NULL, &r)) == 0) {
		if (r.status != 204 && r.status != 410) {
			fprintf(stderr, "Received an error trying to remove member %s: "
				"unexpected status code %d", pos[0], r.status);
			rc = V2_EXIT_BADARGS;
		} else {
			printf("Removed member %s from cluster\n", pos[0]);
		}
	}
	ctl_resp_close(&r);
	return rc;
}

static int member_update(struct v2_ctx *x, int npos, char **pos)
{
	struct ctl_resp r;
	char path[300], *body;
	int rc;

	if (npos != 2) {
		fprintf(stderr, "Provide an ID and a list of comma separated peerURL "
			"(0xabcd http://example.com,http://example1.com)\n");
		return V2_EXIT_BADARGS;
	}
	if (check_urls(pos[1], 1) != 0)
		return V2_EXIT_BADARGS;
	snprintf(path, sizeof(path), "/v2/members/%s", pos[0]);
	body = peer_body(pos[1], 1);
	ctl_resp_init(&r);
	rc = m_call(x, "PUT", path, body, &r);
	free(body);
	if (rc == 0 && r.status != 204) {
		json_t *j = json_loadb((const char *)r.body.data, r.body.len, 0, NULL);

		if ((r.status == 404 || r.status == 409) && json_object_get(j, "message") != NULL)
			fprintf(stderr, "%s\n", jstr(j, "message"));
		else
			fprintf(stderr, "unexpected status code %d\n", r.status);
		json_decref(j);
		rc = V2_EXIT_BADARGS;
	} else if (rc == 0) {
		printf("Updated member with ID %s in cluster\n", pos[0]);
	}
	ctl_resp_close(&r);
	return rc;
}

int v2_cmd_member(struct v2_ctx *x, int argc, char **argv)
{
	struct v2_flag none[1] = {{"help, h", V2F_BOOL, 0, 0, NULL, 0}};
	char **pos;
	int npos, rc;
	const char *sub = argc > 0 ? argv[0] : "";
	char name[64];

	if (argc == 0 || (strcmp(sub, "list") != 0 && strcmp(sub, "add") != 0 &&
		strcmp(sub, "remove") != 0 && strcmp(sub, "update") != 0)) {
		if (argc > 0 && sub[0] != '-') {
			fprintf(stderr, "No help topic for '%s'\n", sub);
			return 3;
		}
		fputs(v2_help_text("member"), stdout);
		return 0;
	}
	snprintf(name, sizeof(name), "member %s", sub);
	if (v2_flags_parse(x, name, argc - 1, argv + 1, none, 1, &pos, &npos) != 0)
		return V2_EXIT_BADARGS;
	if (none[0].b) {
		fputs(v2_help_text(name), stdout);
		free(pos);
		return 0;
	}
	if (strcmp(sub, "list") == 0 && npos > 0) {
		fprintf(stderr, "No arguments accepted\n");
		rc = V2_EXIT_BADARGS;
	} else if (strcmp(sub, "list") == 0)
		rc = member_list(x);
	else if (strcmp(sub, "add") == 0)
		rc = member_add(x, npos, pos);
	else if (strcmp(sub, "remove") == 0)
		rc = member_remove(x, npos, pos);
	else
		rc = member_update(x, npos, pos);
	free(pos);
	return rc;
}

/* ---- cluster-health ------------------------------------------------- */

/* One member: 1 when it said healthy. */
static int health_member(struct v2_ctx *x, json_t *m)
{
	json_t *cu = json_object_get(m, "clientURLs");
	const char *id = jstr(m, "id");
	char urls[2048];

	if (json_array_size(cu) == 0) {
		printf("member %s is unreachable: no available published client urls\n", id);
		return 0;
	}
	for (size_t i = 0; i < json_array_size(cu); i++) {
		const char *u = json_string_value(json_array_get(cu, i));
		char *eps[1] = {(char *)u}, err[512];
		struct ctl_conn c = x->conn;
		struct ctl_resp r;
		json_t *j;
		int healthy;

		c.endpoints = eps;
		c.nendpoints = 1;
		ctl_resp_init(&r);
		if (ctl_http(&c, "GET", "/health", NULL, NULL, 0, &r, err, sizeof(err)) != 0) {
			printf("failed to check the health of member %s on %s: Get %s/health: %s\n", id,
				u, u, err);
			ctl_resp_close(&r);
			continue;
		}
		j = json_loadb((const char *)r.body.data, r.body.len, 0, NULL);
		ctl_resp_close(&r);
		if (j == NULL) {
			printf("failed to check the health of member %s on %s: bad answer\n", id, u);
			continue;
		}
		healthy = strcmp(jstr(j, "health"), "true") == 0;
		json_decref(j);
		if (healthy)
			printf("member %s is healthy: got healthy result from %s\n", id, u);
		else
			printf("member %s is unhealthy: got unhealthy result from %s\n", id, u);
		return healthy;
	}
	join_urls(cu, urls, sizeof(urls));
	for (char *p = urls; *p != '\0'; p++)
		if (*p == ',')
			*p = ' ';
	printf("member %s is unreachable: [%s] are all unreachable\n", id, urls);
	return 0;
}

int v2_cmd_cluster_health(struct v2_ctx *x, int argc, char **argv)
{
	struct v2_flag fl[1] = {{"forever, f", V2F_BOOL, 0, 0, NULL, 0}};
	struct ctl_resp r;
	char msg[2048], detail[2048];
	json_t *j, *ms;
	char **pos;
	int npos, rc;

	if (v2_flags_parse(x, "cluster-health", argc, argv, fl, 1, &pos, &npos) != 0)
		return V2_EXIT_BADARGS;
	free(pos);
	ctl_resp_init(&r);
	/* etcdctl asks the given endpoints, without a sync */
	if ((rc = v2_do_raw(x, "GET", "/v2/members", NULL, NULL, &r, msg, sizeof(msg), detail,
		     sizeof(detail))) != 0 || r.status != 200) {
		printf("cluster may be unhealthy: failed to list members\n");
		fflush(stdout);
		if (rc == 0)
			fprintf(stderr, "Error:  unexpected status code %d\n", r.status);
		else
			v2_print_call_error(rc, msg, detail);
		ctl_resp_close(&r);
		return V2_EXIT_SERVER;
	}
	j = json_loadb((const char *)r.body.data, r.body.len, 0, NULL);
	ctl_resp_close(&r);
	ms = json_object_get(j, "members");
	for (;;) {
		size_t healthy = 0, n = json_array_size(ms);

		for (size_t i = 0; i < n; i++)
			healthy += (size_t)health_member(x, json_array_get(ms, i));
		if (healthy == n)
			printf("cluster is healthy\n");
		else if (healthy == 0)
			printf("cluster is unavailable\n");
		else
			printf("cluster is degraded\n");
		if (!fl[0].b) {
			json_decref(j);
			return healthy == n ? V2_EXIT_OK : V2_EXIT_UNHEALTHY;
		}
		printf("\nnext check after 10 second...\n\n");
		fflush(stdout);
		sleep(10);
	}
}

/* ---- user, role, auth ----------------------------------------------- */

int v2_cmd_auth(struct v2_ctx *x, const char *cmd, int argc, char **argv)
{
	struct ctl_resp r;
	char path[300];
	const char *sub = argc > 0 ? argv[0] : "";
	const char *method = "GET";
	int rc, list;

	if (argc == 0 || sub[0] == '-') {
		fputs(v2_help_text(cmd), stdout);
		return 0;
	}
	if (strcmp(cmd, "user") == 0 && strcmp(sub, "grant") == 0 && argc < 3) {
		fprintf(stderr, "No roles specified; please use `--roles`\n");
		return V2_EXIT_BADARGS;
	}
	list = strcmp(sub, "list") == 0;
	if (strcmp(cmd, "auth") == 0) {
		snprintf(path, sizeof(path), "/v2/auth/enable");
		method = strcmp(sub, "enable") == 0 ? "PUT" : "DELETE";
	} else {
		snprintf(path, sizeof(path), "/v2/auth/%ss", cmd);
	}
	ctl_resp_init(&r);
	if ((rc = m_call(x, method, path, NULL, &r)) != 0)
		goto out;
	if (r.status == 200 && list) {
		json_t *j = json_loadb((const char *)r.body.data, r.body.len, 0, NULL);
		json_t *a = json_object_get(j, strcmp(cmd, "user") == 0 ? "users" : "roles");

		for (size_t i = 0; i < json_array_size(a); i++) {
			json_t *e = json_array_get(a, i);
			const char *n = json_is_string(e) ? json_string_value(e)
				: jstr(e, strcmp(cmd, "user") == 0 ? "user" : "role");

			printf("%s\n", n);
		}
		json_decref(j);
	} else if (strcmp(cmd, "role") == 0 && list) {
		fprintf(stderr, "unexpected status code %d\n", r.status);
		rc = V2_EXIT_BADARGS;
	} else if (r.body.len > 0 && r.body.data[0] != '{') {
		/* cetcd's plain "404 page not found", read as JSON by etcd's client */
		fprintf(stderr, "invalid character 'p' after top-level value\n");
		rc = V2_EXIT_BADARGS;
	} else {
		json_t *j = json_loadb((const char *)r.body.data, r.body.len, 0, NULL);

		fprintf(stderr, "%s\n", json_object_get(j, "message") != NULL ? jstr(j, "message")
			: "cetcdctl: this v2 auth command is not supported");
		json_decref(j);
		rc = V2_EXIT_BADARGS;
	}
out:
	ctl_resp_close(&r);
	return rc;
}
