/* v3_cluster.c - cetcdctl v3's member (list, add, remove, update,
 * promote) and endpoint (health, status, hashkv [--cluster]) commands,
 * printed as etcdctl 3.4 prints them, tables included. */
#include "config.h"
#include "ctl/v3_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- member ---- */

static int member_id(const char *s, uint64_t *id)
{
	char *end;

	errno = 0;
	*id = strtoull(s, &end, 16);
	if (errno || *s == '\0' || *end || *s == '-')
		return v3_fail(V3_EXIT_BAD_ARGS, "bad member ID arg (strconv.ParseUint: parsing \"%s\": "
			"%s), expecting ID in Hex", s, errno == ERANGE ? "value out of range"
								    : "invalid syntax");
	return 0;
}

/* Joins a JSON array of strings with sep into a malloc'd string. */
static char *join(json_t *arr, const char *sep)
{
	size_t i, n = 1;
	json_t *v;
	char *o;

	json_array_foreach(arr, i, v)
		n += strlen(json_string_value(v) ? json_string_value(v) : "") + strlen(sep);
	o = calloc(1, n);
	if (o == NULL)
		return NULL;
	json_array_foreach(arr, i, v) {
		if (i)
			strcat(o, sep);
		strcat(o, json_string_value(v) ? json_string_value(v) : "");
	}
	return o;
}

static const char *jstr(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_string(v) ? json_string_value(v) : "";
}

static void member_list_print(struct v3_ctx *c, json_t *resp)
{
	json_t *ms = json_object_get(resp, "members"), *m, *u;
	size_t i, j, n = json_array_size(ms);

	if (c->out == V3_OUT_JSON) {
		v3_print_json(resp);
		return;
	}
	if (c->out == V3_OUT_FIELDS) {
		v3_fields_header(resp);
		json_array_foreach(ms, i, m) {
			printf("\"ID\" : %" PRIu64 "\n\"Name\" : ", v3_juint(m, "ID"));
			v3_print_quoted(jstr(m, "name"), strlen(jstr(m, "name")));
			putchar('\n');
			json_array_foreach(json_object_get(m, "peerURLs"), j, u)
				printf("\"PeerURL\" : \"%s\"\n", json_string_value(u));
			json_array_foreach(json_object_get(m, "clientURLs"), j, u)
				printf("\"ClientURL\" : \"%s\"\n", json_string_value(u));
			printf("\"IsLearner\" : %s\n\n", v3_jbool(m, "isLearner") ? "true" : "false");
		}
		return;
	}
	char **cells = calloc(n * 6 + 1, sizeof(char *));
	if (cells == NULL)
		return;
	json_array_foreach(ms, i, m) {
		char **r = cells + i * 6;
		const char *name = jstr(m, "name");
		if (asprintf(&r[0], "%" PRIx64, v3_juint(m, "ID")) < 0)
			r[0] = NULL;
		r[1] = strdup(*name ? "started" : "unstarted");
		r[2] = strdup(name);
		r[3] = join(json_object_get(m, "peerURLs"), ",");
		r[4] = join(json_object_get(m, "clientURLs"), ",");
		r[5] = strdup(v3_jbool(m, "isLearner") ? "true" : "false");
		if (c->out != V3_OUT_TABLE)
			printf("%s, %s, %s, %s, %s, %s\n", r[0], r[1], r[2], r[3], r[4], r[5]);
	}
	if (c->out == V3_OUT_TABLE) {
		static const char *const head[] = { "ID", "STATUS", "NAME", "PEER ADDRS",
			"CLIENT ADDRS", "IS LEARNER" };
		v3_table(head, 6, cells, n);
	}
	for (i = 0; i < n * 6; i++)
		free(cells[i]);
	free(cells);
}

static int member_list_run(struct v3_ctx *c, int argc, char **argv)
{
	json_t *resp = NULL, *req = json_object();
	int rc;

	(void)argc;
	(void)argv;
	rc = v3_call(c, "/v3/cluster/member/list", req, &resp);
	json_decref(req);
	if (rc != 0)
		return rc;
	member_list_print(c, resp);
	json_decref(resp);
	return V3_EXIT_OK;
}

static const char *m_peer_urls = "";
static int m_learner;
static struct v3_flag madd_flags[] = {
	{ "peer-urls", 0, V3_FLAG_STRING, &m_peer_urls, "\"\"", "comma separated peer URLs for the new member.", 0 },
	{ "learner", 0, V3_FLAG_BOOL, &m_learner, "false", "indicates if the new member is raft learner", 0 },
	{ NULL, 0, 0, NULL, NULL, NULL, 0 },
};
static struct v3_flag mupd_flags[] = {
	{ "peer-urls", 0, V3_FLAG_STRING, &m_peer_urls, "\"\"", "comma separated peer URLs for the updated member.", 0 },
	{ NULL, 0, 0, NULL, NULL, NULL, 0 },
};

static json_t *url_array(const char *s)
{
	json_t *a = json_array();
	char *copy = strdup(s), *save = NULL;

	for (char *t = copy ? strtok_r(copy, ",", &save) : NULL; t; t = strtok_r(NULL, ",", &save))
		json_array_append_new(a, json_string(t));
	free(copy);
	return a;
}

static void member_add_print(struct v3_ctx *c, json_t *resp, const char *name)
{
	json_t *nm = json_object_get(resp, "member"), *ms = json_object_get(resp, "members"), *m, *u;
	uint64_t id = v3_juint(nm, "ID");
	size_t i, j;
	int first = 1;

	if (c->out == V3_OUT_JSON) {
		v3_print_json(resp);
		return;
	}
	printf("Member %16" PRIx64 " added to cluster %16" PRIx64 "\n\n", id,
		v3_juint(json_object_get(resp, "header"), "cluster_id"));
	printf("ETCD_NAME=\"%s\"\nETCD_INITIAL_CLUSTER=\"", name);
	json_array_foreach(ms, i, m) {
		const char *n = v3_juint(m, "ID") == id ? name : jstr(m, "name");
		json_array_foreach(json_object_get(m, "peerURLs"), j, u) {
			printf("%s%s=%s", first ? "" : ",", n, json_string_value(u));
			first = 0;
		}
	}
	char *peers = join(json_object_get(nm, "peerURLs"), ",");
	printf("\"\nETCD_INITIAL_ADVERTISE_PEER_URLS=\"%s\"\nETCD_INITIAL_CLUSTER_STATE=\"existing\"\n",
		peers ? peers : "");
	free(peers);
}

static int member_add_run(struct v3_ctx *c, int argc, char **argv)
{
	json_t *req, *resp = NULL;
	int rc;

	if (argc < 1)
		return v3_fail(V3_EXIT_BAD_ARGS, "member name not provided");
	if (argc > 1)
		return v3_fail(V3_EXIT_BAD_ARGS, "too many arguments");
	if (*m_peer_urls == '\0')
		return v3_fail(V3_EXIT_BAD_ARGS, "member peer urls not provided");
	req = json_pack("{s:o,s:b}", "peerURLs", url_array(m_peer_urls), "isLearner", m_learner);
	rc = v3_call(c, "/v3/cluster/member/add", req, &resp);
	json_decref(req);
	if (rc != 0)
		return rc;
	/* etcdctl's fields and table printers have no MemberAdd: the member
	 * is added, then the format is refused */
	if (c->out == V3_OUT_FIELDS || c->out == V3_OUT_TABLE) {
		json_decref(resp);
		return v3_fail(V3_EXIT_BAD_FEATURE, "%s not supported as output format",
			c->out == V3_OUT_FIELDS ? "fields" : "table");
	}
	member_add_print(c, resp, argv[0]);
	json_decref(resp);
	return V3_EXIT_OK;
}

/* remove / update / promote share their shape. */
static int member_simple(struct v3_ctx *c, int argc, char **argv, const char *path,
	const char *verb, int urls)
{
	json_t *req, *resp = NULL;
	uint64_t id;
	int rc;

	if (argc != 1)
		return v3_fail(V3_EXIT_BAD_ARGS, "member ID is not provided");
	if ((rc = member_id(argv[0], &id)) != 0)
		return rc;
	if (urls && *m_peer_urls == '\0')
		return v3_fail(V3_EXIT_BAD_ARGS, "member peer urls not provided");
	/* member ids are uint64: a JSON string keeps the top bit */
	char ids[32];
	snprintf(ids, sizeof(ids), "%" PRIu64, id);
	req = json_pack("{s:s}", "ID", ids);
	if (urls)
		json_object_set_new(req, "peerURLs", url_array(m_peer_urls));
	rc = v3_call(c, path, req, &resp);
	json_decref(req);
	if (rc != 0)
		return rc;
	if (c->out == V3_OUT_TABLE) {
		json_decref(resp);
		return v3_fail(V3_EXIT_BAD_FEATURE, "table not supported as output format");
	}
	if (c->out == V3_OUT_JSON)
		v3_print_json(resp);
	else if (c->out == V3_OUT_FIELDS)
		v3_fields_header(resp);
	else
		printf("Member %16" PRIx64 " %s cluster %16" PRIx64 "\n", id, verb,
			v3_juint(json_object_get(resp, "header"), "cluster_id"));
	json_decref(resp);
	return V3_EXIT_OK;
}

static int member_remove_run(struct v3_ctx *c, int argc, char **argv)
{
	return member_simple(c, argc, argv, "/v3/cluster/member/remove", "removed from", 0);
}

static int member_update_run(struct v3_ctx *c, int argc, char **argv)
{
	return member_simple(c, argc, argv, "/v3/cluster/member/update", "updated in", 1);
}

static int member_promote_run(struct v3_ctx *c, int argc, char **argv)
{
	return member_simple(c, argc, argv, "/v3/cluster/member/promote", "promoted in", 0);
}

/* ---- endpoint ---- */

static int e_cluster;
static struct v3_flag ep_flags[] = {
	{ "cluster", 0, V3_FLAG_BOOL, &e_cluster, "false", "use all endpoints from the cluster member list", 1 },
	{ NULL, 0, 0, NULL, NULL, NULL, 0 },
};

/* The endpoints to visit: --endpoints, or every member's client URLs. */
static int ep_list(struct v3_ctx *c, char ***eps, size_t *n)
{
	json_t *resp = NULL, *req, *m, *u;
	size_t i, j;
	int rc;

	*eps = NULL;
	*n = 0;
	if (!e_cluster) {
		*eps = calloc(c->conn.nendpoints, sizeof(char *));
		for (i = 0; *eps && i < c->conn.nendpoints; i++)
			(*eps)[(*n)++] = strdup(c->conn.endpoints[i]);
		return 0;
	}
	req = json_object();
	rc = v3_call(c, "/v3/cluster/member/list", req, &resp);
	json_decref(req);
	if (rc != 0)
		return rc;
	json_array_foreach(json_object_get(resp, "members"), i, m)
		json_array_foreach(json_object_get(m, "clientURLs"), j, u) {
			char **g = realloc(*eps, (*n + 1) * sizeof(char *));
			if (g == NULL)
				break;
			*eps = g;
			(*eps)[(*n)++] = strdup(json_string_value(u));
		}
	json_decref(resp);
	return 0;
}

static void ep_free(char **eps, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(eps[i]);
	free(eps);
}

/* Calls path on one endpoint only; 0, or -1 with err. */
static int ep_call(struct v3_ctx *c, char *ep, const char *path, json_t *req, json_t **resp,
	char *err, size_t errlen)
{
	struct ctl_conn save = c->conn;
	char *one[1] = { ep };
	int rc;

	c->conn.endpoints = one;
	c->conn.nendpoints = 1;
	rc = v3_call_raw(c, path, req, resp, err, errlen);
	c->conn = save;
	return rc;
}

/* Go's time.Duration.String for the sub-minute values health prints. */
static void go_duration(int64_t ns, char *out, size_t len)
{
	const char *unit;
	double v;
	int prec;

	if (ns < 1000) {
		snprintf(out, len, "%" PRId64 "ns", ns);
		return;
	}
	if (ns < 1000000) {
		v = ns / 1e3;
		unit = "µs";
		prec = 3;
	} else if (ns < 1000000000) {
		v = ns / 1e6;
		unit = "ms";
		prec = 6;
	} else {
		v = ns / 1e9;
		unit = "s";
		prec = 9;
	}
	snprintf(out, len, "%.*f", prec, v);
	char *p = out + strlen(out) - 1;
	while (*p == '0')
		*p-- = '\0';
	if (*p == '.')
		*p = '\0';
	strncat(out, unit, len - strlen(out) - 1);
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int health_run(struct v3_ctx *c, int argc, char **argv)
{
	char **eps, err[512], took[64];
	size_t n, i;
	int rc, bad = 0;
	char **cells;

	(void)argc;
	(void)argv;
	if ((rc = ep_list(c, &eps, &n)) != 0)
		return rc;
	cells = calloc(n * 4 + 1, sizeof(char *));
	if (c->out == V3_OUT_JSON)
		putchar('[');
	for (i = 0; i < n; i++) {
		json_t *req = json_pack("{s:s}", "key", "aGVhbHRo"), *resp = NULL; /* "health" */
		int64_t t0 = now_ns();
		int r = ep_call(c, eps[i], "/v3/kv/range", req, &resp, err, sizeof(err));
		int ok = r == 0 || (r == -1 && strstr(err, "permission denied") != NULL);

		go_duration(now_ns() - t0, took, sizeof(took));
		json_decref(req);
		json_decref(resp);
		if (!ok && r != -1)
			snprintf(err, sizeof(err), "context deadline exceeded");
		bad |= !ok;
		if (c->out == V3_OUT_JSON) {
			printf("%s{\"endpoint\":\"%s\",\"health\":%s,\"took\":\"%s\"", i ? "," : "",
				eps[i], ok ? "true" : "false", took);
			if (!ok)
				printf(",\"error\":\"failed to commit proposal: %s\"", err);
			putchar('}');
		} else if (c->out == V3_OUT_FIELDS)
			printf("\"Endpoint\" : \"%s\"\n\"Health\" : %s\n\"Took\" : %s\n\"Error\" : %s%s\n\n",
				eps[i], ok ? "true" : "false", took, ok ? "" : "failed to commit proposal: ",
				ok ? "" : err);
		else if (c->out == V3_OUT_TABLE && cells) {
			cells[i * 4] = strdup(eps[i]);
			cells[i * 4 + 1] = strdup(ok ? "true" : "false");
			cells[i * 4 + 2] = strdup(took);
			if (asprintf(&cells[i * 4 + 3], "%s%s", ok ? "" : "failed to commit proposal: ",
				    ok ? "" : err) < 0)
				cells[i * 4 + 3] = NULL;
		} else if (ok)
			fprintf(stderr, "%s is healthy: successfully committed proposal: took = %s\n",
				eps[i], took);
		else
			fprintf(stderr, "%s is unhealthy: failed to commit proposal: %s\n", eps[i], err);
	}
	if (c->out == V3_OUT_JSON)
		puts("]");
	if (c->out == V3_OUT_TABLE && cells) {
		static const char *const head[] = { "ENDPOINT", "HEALTH", "TOOK", "ERROR" };
		for (i = 0; i < n * 4; i++)
			if (cells[i] == NULL)
				cells[i] = strdup("");
		v3_table(head, 4, cells, n);
	}
	for (i = 0; cells && i < n * 4; i++)
		free(cells[i]);
	free(cells);
	ep_free(eps, n);
	fflush(stdout);
	if (bad)
		return v3_fail(V3_EXIT_ERROR, "unhealthy cluster");
	return V3_EXIT_OK;
}

/* go-humanize's Bytes: SI units, "%.0f" from 10 up, "%.1f" below
 * (integer steps, so cetcdctl needs no libm). */
static void human_bytes(uint64_t s, char *out, size_t len)
{
	static const char *const sz[] = { "B", "kB", "MB", "GB", "TB", "PB", "EB" };
	uint64_t div = 1;
	int e = 0;

	if (s < 10) {
		snprintf(out, len, "%" PRIu64 " B", s);
		return;
	}
	while (e < 6 && s / div >= 1000) {
		div *= 1000;
		e++;
	}
	/* value in tenths, rounded half up as floor(x*10+0.5) */
	uint64_t tenths = (s * 10 + div / 2) / div;
	if (tenths < 100)
		snprintf(out, len, "%" PRIu64 ".%" PRIu64 " %s", tenths / 10, tenths % 10, sz[e]);
	else
		snprintf(out, len, "%" PRIu64 " %s", (tenths + 5) / 10, sz[e]);
}

static int status_run(struct v3_ctx *c, int argc, char **argv)
{
	char **eps, err[512];
	size_t n, i, got = 0;
	int rc, failed = 0;
	json_t **st;

	(void)argc;
	(void)argv;
	if ((rc = ep_list(c, &eps, &n)) != 0)
		return rc;
	st = calloc(n + 1, sizeof(json_t *));
	char **okep = calloc(n + 1, sizeof(char *));
	for (i = 0; st && okep && i < n; i++) {
		json_t *req = json_object(), *resp = NULL;
		int r = ep_call(c, eps[i], "/v3/maintenance/status", req, &resp, err, sizeof(err));
		json_decref(req);
		if (r != 0) {
			if (r == -1)
				fprintf(stderr, "Failed to get the status of endpoint %s (%s)\n", eps[i], err);
			failed = 1;
			continue;
		}
		okep[got] = eps[i];
		st[got++] = resp;
	}
	char **cells = calloc(got * 10 + 1, sizeof(char *));
	if (c->out == V3_OUT_JSON)
		putchar('[');
	for (i = 0; cells && i < got; i++) {
		json_t *s = st[i], *h = json_object_get(s, "header");
		char *errs = join(json_object_get(s, "errors"), ", ");
		char dbs[32];
		int leader = v3_juint(h, "member_id") == v3_juint(s, "leader");

		human_bytes(v3_juint(s, "dbSize"), dbs, sizeof(dbs));
		if (c->out == V3_OUT_JSON) {
			printf("%s{\"Endpoint\":\"%s\",\"Status\":", i ? "," : "", okep[i]);
			v3_print_json_inline(s);
			putchar('}');
		} else if (c->out == V3_OUT_FIELDS) {
			v3_fields_header(s);
			printf("\"Version\" : \"%s\"\n\"DBSize\" : %" PRId64 "\n\"Leader\" : %" PRIu64
			       "\n\"IsLearner\" : %s\n\"RaftIndex\" : %" PRIu64 "\n\"RaftTerm\" : %" PRIu64
			       "\n\"RaftAppliedIndex\" : %" PRIu64 "\n\"Errors\" : [%s]\n"
			       "\"Endpoint\" : \"%s\"\n\n",
				jstr(s, "version"), v3_jint(s, "dbSize"), v3_juint(s, "leader"),
				v3_jbool(s, "isLearner") ? "true" : "false", v3_juint(s, "raftIndex"),
				v3_juint(s, "raftTerm"), v3_juint(s, "raftAppliedIndex"),
				errs ? errs : "", okep[i]);
		} else {
			char **r = cells + i * 10;
			r[0] = strdup(okep[i]);
			if (asprintf(&r[1], "%" PRIx64, v3_juint(h, "member_id")) < 0)
				r[1] = NULL;
			r[2] = strdup(jstr(s, "version"));
			r[3] = strdup(dbs);
			r[4] = strdup(leader ? "true" : "false");
			r[5] = strdup(v3_jbool(s, "isLearner") ? "true" : "false");
			if (asprintf(&r[6], "%" PRIu64, v3_juint(s, "raftTerm")) < 0)
				r[6] = NULL;
			if (asprintf(&r[7], "%" PRIu64, v3_juint(s, "raftIndex")) < 0)
				r[7] = NULL;
			if (asprintf(&r[8], "%" PRIu64, v3_juint(s, "raftAppliedIndex")) < 0)
				r[8] = NULL;
			r[9] = errs ? strdup(errs) : strdup("");
			if (c->out == V3_OUT_SIMPLE)
				printf("%s, %s, %s, %s, %s, %s, %s, %s, %s, %s\n", r[0], r[1], r[2], r[3],
					r[4], r[5], r[6], r[7], r[8], r[9]);
		}
		free(errs);
	}
	if (c->out == V3_OUT_JSON)
		puts("]");
	if (c->out == V3_OUT_TABLE && cells) {
		static const char *const head[] = { "ENDPOINT", "ID", "VERSION", "DB SIZE",
			"IS LEADER", "IS LEARNER", "RAFT TERM", "RAFT INDEX", "RAFT APPLIED INDEX",
			"ERRORS" };
		v3_table(head, 10, cells, got);
	}
	for (i = 0; cells && i < got * 10; i++)
		free(cells[i]);
	for (i = 0; st && i < got; i++)
		json_decref(st[i]);
	free(cells);
	free(st);
	free(okep);
	ep_free(eps, n);
	return failed ? V3_EXIT_ERROR : V3_EXIT_OK;
}

static int hashkv_rev;
static int64_t h_rev;
static struct v3_flag hash_flags[] = {
	{ "cluster", 0, V3_FLAG_BOOL, &e_cluster, "false", "use all endpoints from the cluster member list", 1 },
	{ "rev", 0, V3_FLAG_INT, &h_rev, "0", "maximum revision to hash (default: all revisions)", 0 },
	{ NULL, 0, 0, NULL, NULL, NULL, 0 },
};

static int hashkv_run(struct v3_ctx *c, int argc, char **argv)
{
	char **eps, err[512];
	size_t n, i, got = 0;
	int rc, failed = 0;

	(void)argc;
	(void)argv;
	(void)hashkv_rev;
	if ((rc = ep_list(c, &eps, &n)) != 0)
		return rc;
	char **cells = calloc(n * 2 + 1, sizeof(char *));
	if (c->out == V3_OUT_JSON)
		putchar('[');
	for (i = 0; cells && i < n; i++) {
		json_t *req = json_pack("{s:I}", "revision", (json_int_t)h_rev), *resp = NULL;
		/* HashKV: cetcd serves it at etcd 3.5's gateway path; 3.4 has none */
		int r = ep_call(c, eps[i], "/v3/maintenance/hashkv", req, &resp, err, sizeof(err));
		json_decref(req);
		if (r != 0) {
			if (r == -1)
				fprintf(stderr, "Failed to get the hash of endpoint %s (%s)\n", eps[i],
					strcmp(err, "bad answer") == 0 ? "HashKV is not served by this "
									 "endpoint's gateway" : err);
			failed = 1;
			continue;
		}
		if (c->out == V3_OUT_JSON) {
			printf("%s{\"Endpoint\":\"%s\",\"HashKV\":", got ? "," : "", eps[i]);
			v3_print_json_inline(resp);
			putchar('}');
		} else if (c->out == V3_OUT_FIELDS) {
			v3_fields_header(resp);
			printf("\"Endpoint\" : \"%s\"\n\"Hash\" : %" PRIu64 "\n\n", eps[i],
				v3_juint(resp, "hash"));
		} else {
			cells[got * 2] = strdup(eps[i]);
			if (asprintf(&cells[got * 2 + 1], "%" PRIu64, v3_juint(resp, "hash")) < 0)
				cells[got * 2 + 1] = NULL;
			if (c->out == V3_OUT_SIMPLE)
				printf("%s, %s\n", eps[i], cells[got * 2 + 1]);
		}
		got++;
		json_decref(resp);
	}
	if (c->out == V3_OUT_JSON)
		puts("]");
	if (c->out == V3_OUT_TABLE && cells) {
		static const char *const head[] = { "ENDPOINT", "HASH" };
		v3_table(head, 2, cells, got);
	}
	for (i = 0; cells && i < got * 2; i++)
		free(cells[i]);
	free(cells);
	ep_free(eps, n);
	return failed ? V3_EXIT_ERROR : V3_EXIT_OK;
}

const struct v3_cmd v3_cluster_cmds[] = {
	{ "member list", "member list", "Lists all members in the cluster",
		"When --write-out is set to simple, this command prints out comma-separated member lists for each endpoint.\n"
		"The items in the lists are ID, Status, Name, Peer Addrs, Client Addrs, Is Learner.",
		NULL, member_list_run, 0 },
	{ "member add", "member add <memberName> [options]", "Adds a member into the cluster", NULL,
		madd_flags, member_add_run, 0 },
	{ "member remove", "member remove <memberID>", "Removes a member from the cluster", NULL,
		NULL, member_remove_run, 0 },
	{ "member update", "member update <memberID> [options]", "Updates a member in the cluster",
		NULL, mupd_flags, member_update_run, 0 },
	{ "member promote", "member promote <memberID>", "Promotes a non-voting member in the cluster",
		NULL, NULL, member_promote_run, 0 },
	{ "endpoint health", "endpoint health", "Checks the healthiness of endpoints specified in `--endpoints` flag",
		NULL, ep_flags, health_run, 0 },
	{ "endpoint status", "endpoint status", "Prints out the status of endpoints specified in `--endpoints` flag",
		"When --write-out is set to simple, this command prints out comma-separated status lists for each endpoint.\n"
		"The items in the lists are endpoint, ID, version, db size, is leader, is learner, raft term, raft index, raft applied index, errors.",
		ep_flags, status_run, 0 },
	{ "endpoint hashkv", "endpoint hashkv", "Prints the KV history hash for each endpoint in --endpoints",
		NULL, hash_flags, hashkv_run, 0 },
	{ NULL, NULL, NULL, NULL, NULL, NULL, 0 },
};
