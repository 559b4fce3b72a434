/* v3_lease.c - cetcdctl v3's lease commands (grant, revoke, timetolive,
 * list, keep-alive) over the gateway's /v3/lease/..., printed as etcdctl
 * 3.4 prints them: lease ids as %016x, and for -w json the clientv3
 * structs (whose embedded header is flattened into the object). */
#include "config.h"
#include "ctl/v3_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Parses a hex lease id as etcdctl does; prints its error on failure. */
static int lease_id(const char *s, int64_t *id, const char *what)
{
	char *end;

	errno = 0;
	*id = strtoll(s, &end, 16);
	if (errno != 0 || *s == '\0' || *end != '\0')
		return v3_fail(V3_EXIT_BAD_ARGS, "bad lease ID arg (strconv.ParseInt: parsing \"%s\": "
			"%s), expecting ID in Hex%s", s, errno == ERANGE ? "value out of range"
								    : "invalid syntax", what);
	return 0;
}

/* The header's four fields, for clientv3 structs that embed it. */
static void json_flat_header(json_t *resp)
{
	json_t *h = json_object_get(resp, "header");

	printf("\"cluster_id\":%" PRIu64 ",\"member_id\":%" PRIu64 ",\"revision\":%" PRId64
		",\"raft_term\":%" PRIu64, v3_juint(h, "cluster_id"), v3_juint(h, "member_id"),
		v3_jint(h, "revision"), v3_juint(h, "raft_term"));
}

static int no_table(const struct v3_ctx *c)
{
	if (c->out == V3_OUT_TABLE)
		return v3_fail(V3_EXIT_BAD_FEATURE, "table not supported as output format");
	return 0;
}

static int grant_run(struct v3_ctx *c, int argc, char **argv)
{
	json_t *req, *resp = NULL;
	char *end, err[1024];
	int64_t ttl;
	int rc;

	if (argc != 1)
		return v3_fail(V3_EXIT_BAD_ARGS, "lease grant command needs TTL argument");
	errno = 0;
	ttl = strtoll(argv[0], &end, 10);
	if (errno != 0 || *argv[0] == '\0' || *end != '\0')
		return v3_fail(V3_EXIT_BAD_ARGS, "bad TTL (strconv.ParseInt: parsing \"%s\": %s)",
			argv[0], errno == ERANGE ? "value out of range" : "invalid syntax");
	if ((rc = no_table(c)) != 0)
		return rc;
	req = json_pack("{s:I}", "TTL", (json_int_t)ttl);
	rc = v3_call_raw(c, "/v3/lease/grant", req, &resp, err, sizeof(err));
	json_decref(req);
	if (rc == -1)
		return v3_fail(V3_EXIT_ERROR, "failed to grant lease (%s)", err);
	if (rc != 0)
		return rc;
	if (c->out == V3_OUT_JSON) {
		putchar('{');
		json_flat_header(resp);
		printf(",\"ID\":%" PRId64 ",\"TTL\":%" PRId64 ",\"Error\":\"\"}\n",
			v3_jint(resp, "ID"), v3_jint(resp, "TTL"));
	} else if (c->out == V3_OUT_FIELDS) {
		v3_fields_header(resp);
		printf("\"ID\" : %" PRId64 "\n\"TTL\" : %" PRId64 "\n", v3_jint(resp, "ID"),
			v3_jint(resp, "TTL"));
	} else
		printf("lease %016" PRIx64 " granted with TTL(%" PRId64 "s)\n",
			(uint64_t)v3_jint(resp, "ID"), v3_jint(resp, "TTL"));
	json_decref(resp);
	return V3_EXIT_OK;
}

static int revoke_run(struct v3_ctx *c, int argc, char **argv)
{
	json_t *req, *resp = NULL;
	char err[1024];
	int64_t id;
	int rc;

	if (argc != 1)
		return v3_fail(V3_EXIT_BAD_ARGS, "lease revoke command needs 1 argument");
	if ((rc = lease_id(argv[0], &id, "")) != 0 || (rc = no_table(c)) != 0)
		return rc;
	req = json_pack("{s:I}", "ID", (json_int_t)id);
	rc = v3_call_raw(c, "/v3/lease/revoke", req, &resp, err, sizeof(err));
	json_decref(req);
	if (rc == -1)
		return v3_fail(V3_EXIT_ERROR, "failed to revoke lease (%s)", err);
	if (rc != 0)
		return rc;
	if (c->out == V3_OUT_JSON)
		v3_print_json(resp);
	else if (c->out == V3_OUT_FIELDS)
		v3_fields_header(resp);
	else
		printf("lease %016" PRIx64 " revoked\n", (uint64_t)id);
	json_decref(resp);
	return V3_EXIT_OK;
}

static int ttl_keys;
static struct v3_flag ttl_flags[] = {
	{ "keys", 0, V3_FLAG_BOOL, &ttl_keys, "false", "Get keys attached to this lease", 0 },
	{ NULL, 0, 0, NULL, NULL, NULL, 0 },
};

static void ttl_print(struct v3_ctx *c, json_t *resp, int64_t id)
{
	json_t *keys = json_object_get(resp, "keys"), *k;
	int64_t ttl = v3_jint(resp, "TTL"), granted = v3_jint(resp, "grantedTTL");
	size_t i;

	if (c->out == V3_OUT_JSON) {
		putchar('{');
		json_flat_header(resp);
		printf(",\"id\":%" PRId64 ",\"ttl\":%" PRId64 ",\"granted-ttl\":%" PRId64 ",\"keys\":",
			id, ttl, granted);
		if (json_array_size(keys) == 0)
			fputs("null", stdout);
		else {
			putchar('[');
			json_array_foreach(keys, i, k)
				printf("%s\"%s\"", i ? "," : "", json_string_value(k));
			putchar(']');
		}
		puts("}");
		return;
	}
	if (c->out == V3_OUT_FIELDS) {
		v3_fields_header(resp);
		printf("\"ID\" : %" PRId64 "\n\"TTL\" : %" PRId64 "\n\"GrantedTTL\" : %" PRId64 "\n",
			id, ttl, granted);
		json_array_foreach(keys, i, k) {
			size_t n = 0;
			char *d = v3_b64dec(json_string_value(k), &n);
			fputs("\"Key\" : ", stdout);
			if (d)
				v3_print_quoted(d, n);
			putchar('\n');
			free(d);
		}
		return;
	}
	if (ttl == -1) {
		printf("lease %016" PRIx64 " already expired\n", (uint64_t)id);
		return;
	}
	printf("lease %016" PRIx64 " granted with TTL(%" PRId64 "s), remaining(%" PRId64 "s)",
		(uint64_t)id, granted, ttl);
	if (ttl_keys) {
		fputs(", attached keys([", stdout);
		json_array_foreach(keys, i, k) {
			size_t n = 0;
			char *d = v3_b64dec(json_string_value(k), &n);
			if (i)
				putchar(' ');
			if (d)
				fwrite(d, 1, n, stdout);
			free(d);
		}
		fputs("])", stdout);
	}
	putchar('\n');
}

static int ttl_run(struct v3_ctx *c, int argc, char **argv)
{
	json_t *req, *resp = NULL;
	int64_t id;
	int rc;

	if (argc != 1)
		return v3_fail(V3_EXIT_BAD_ARGS, "lease timetolive command needs lease ID as argument");
	if ((rc = lease_id(argv[0], &id, "")) != 0 || (rc = no_table(c)) != 0)
		return rc;
	req = json_pack("{s:I,s:b}", "ID", (json_int_t)id, "keys", ttl_keys);
	rc = v3_call(c, "/v3/lease/timetolive", req, &resp);
	json_decref(req);
	if (rc != 0)
		return rc;
	ttl_print(c, resp, id);
	json_decref(resp);
	return V3_EXIT_OK;
}

static int list_run(struct v3_ctx *c, int argc, char **argv)
{
	json_t *resp = NULL, *leases, *l, *req = json_object();
	char err[1024];
	size_t i;
	int rc;

	(void)argc;
	(void)argv;
	if ((rc = no_table(c)) != 0) {
		json_decref(req);
		return rc;
	}
	rc = v3_call_raw(c, "/v3/lease/leases", req, &resp, err, sizeof(err));
	json_decref(req);
	if (rc == -1)
		return v3_fail(V3_EXIT_ERROR, "failed to list leases (%s)", err);
	if (rc != 0)
		return rc;
	leases = json_object_get(resp, "leases");
	if (c->out == V3_OUT_JSON) {
		putchar('{');
		json_flat_header(resp);
		fputs(",\"leases\":[", stdout);
		json_array_foreach(leases, i, l)
			printf("%s{\"id\":%" PRId64 "}", i ? "," : "", v3_jint(l, "ID"));
		putchar(']');
		puts("}");
	} else if (c->out == V3_OUT_FIELDS) {
		v3_fields_header(resp);
		json_array_foreach(leases, i, l)
			printf("\"ID\" : %" PRId64 "\n", v3_jint(l, "ID"));
	} else {
		printf("found %zu leases\n", json_array_size(leases));
		json_array_foreach(leases, i, l)
			printf("%016" PRIx64 "\n", (uint64_t)v3_jint(l, "ID"));
	}
	json_decref(resp);
	return V3_EXIT_OK;
}

/* ---- keep-alive: one streamed answer per renewal ---- */

struct ka_state {
	json_t *resp;
	char err[512];
};

static int ka_line(const char *line, size_t len, void *arg)
{
	struct ka_state *st = arg;
	json_t *j = json_loadb(line, len, 0, NULL), *r;

	if (j == NULL)
		return 0;
	if ((r = json_object_get(j, "result")) != NULL) {
		st->resp = json_incref(r);
	} else {
		json_t *e = json_object_get(j, "error");
		if (json_is_object(e))
			e = json_object_get(e, "message");
		snprintf(st->err, sizeof(st->err), "%s",
			json_is_string(e) ? json_string_value(e) : "bad answer");
	}
	json_decref(j);
	return 1; /* one answer per request is all we wait for */
}

/* One renewal: 0 with *resp set, or an exit code (message printed). */
static int ka_once(struct v3_ctx *c, int64_t id, json_t **resp)
{
	struct ka_state st = { NULL, "" };
	struct ctl_conn conn = c->conn;
	char body[64], err[512];
	int status = 0, rc;

	snprintf(body, sizeof(body), "{\"ID\":%" PRId64 "}", id);
	rc = ctl_http_lines(&conn, "POST", "/v3/lease/keepalive", "application/json", body,
		strlen(body), &status, ka_line, &st, err, sizeof(err));
	if (st.resp != NULL) {
		*resp = st.resp;
		return 0;
	}
	if (st.err[0])
		return v3_fail(V3_EXIT_BAD_CONNECTION, "%s", st.err);
	(void)rc;
	return v3_fail(V3_EXIT_BAD_CONNECTION, "context deadline exceeded");
}

static void ka_print(struct v3_ctx *c, json_t *resp, int64_t id)
{
	if (c->out == V3_OUT_JSON) {
		putchar('{');
		json_flat_header(resp);
		printf(",\"ID\":%" PRId64 ",\"TTL\":%" PRId64 "}\n", id, v3_jint(resp, "TTL"));
	} else if (c->out == V3_OUT_FIELDS) {
		v3_fields_header(resp);
		printf("\"ID\" : %" PRId64 "\n\"TTL\" : %" PRId64 "\n", id, v3_jint(resp, "TTL"));
	} else
		printf("lease %016" PRIx64 " keepalived with TTL(%" PRId64 ")\n", (uint64_t)id,
			v3_jint(resp, "TTL"));
	fflush(stdout);
}

static int ka_once_flag;
static struct v3_flag ka_flags[] = {
	{ "once", 0, V3_FLAG_BOOL, &ka_once_flag, "false", "Resets the keep-alive time to its original value and exits immediately", 0 },
	{ NULL, 0, 0, NULL, NULL, NULL, 0 },
};

static int ka_run(struct v3_ctx *c, int argc, char **argv)
{
	json_t *resp = NULL;
	int64_t id;
	int rc;

	if (argc != 1)
		return v3_fail(V3_EXIT_BAD_ARGS, "lease keep-alive command needs lease ID as argument");
	if ((rc = lease_id(argv[0], &id, "")) != 0 || (rc = no_table(c)) != 0)
		return rc;
	for (;;) {
		if ((rc = ka_once(c, id, &resp)) != 0)
			return rc;
		int64_t ttl = v3_jint(resp, "TTL");
		if (ttl <= 0) {
			json_decref(resp);
			if (ka_once_flag)
				return v3_fail(V3_EXIT_BAD_CONNECTION,
					"etcdserver: requested lease not found");
			if (c->out == V3_OUT_SIMPLE)
				printf("lease %016" PRIx64 " expired or revoked.\n", (uint64_t)id);
			return V3_EXIT_OK;
		}
		ka_print(c, resp, id);
		json_decref(resp);
		if (ka_once_flag)
			return V3_EXIT_OK;
		/* clientv3 renews a third of the TTL after each answer */
		int64_t wait_ms = ttl * 1000 / 3;
		struct timespec ts = { wait_ms / 1000, (long)(wait_ms % 1000) * 1000000L };
		nanosleep(&ts, NULL);
	}
}

const struct v3_cmd v3_lease_cmds[] = {
	{ "lease grant", "lease grant <ttl>", "Creates leases", NULL, NULL, grant_run, 0 },
	{ "lease revoke", "lease revoke <leaseID>", "Revokes leases", NULL, NULL, revoke_run, 0 },
	{ "lease timetolive", "lease timetolive <leaseID> [options]", "Get lease information",
		NULL, ttl_flags, ttl_run, 0 },
	{ "lease list", "lease list", "List all active leases", NULL, NULL, list_run, 0 },
	{ "lease keep-alive", "lease keep-alive [options] <leaseID>", "Keeps leases alive (renew)",
		NULL, ka_flags, ka_run, 0 },
	{ NULL, NULL, NULL, NULL, NULL, NULL, 0 },
};
