/* v3.c - cetcdctl's v3 command set (the default, as in etcdctl 3.4): the
 * global flags and their ETCDCTL_* environment variables, dispatch of the
 * command words, the gateway call every command goes through (auth token
 * included), and etcdctl's top-level help. */
#include "config.h"
#include "ctl/v3_int.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *g_endpoints = "127.0.0.1:2379";
static int64_t g_dial_ms = 2000, g_cmd_ms = 5000, g_ka_time = 2000, g_ka_timeout = 6000;
static int g_debug, g_hex, g_insecure_transport = 1, g_insecure_disc = 1, g_skip_verify;
static const char *g_write_out = "simple", *g_user, *g_password, *g_cacert, *g_cert, *g_key;
static const char *g_dsrv, *g_dsrv_name;

struct v3_flag v3_global_flags[] = {
	{ "cacert", 0, V3_FLAG_STRING, &g_cacert, "\"\"",
		"verify certificates of TLS-enabled secure servers using this CA bundle", 0 },
	{ "cert", 0, V3_FLAG_STRING, &g_cert, "\"\"",
		"identify secure client using this TLS certificate file", 0 },
	{ "command-timeout", 0, V3_FLAG_DURATION, &g_cmd_ms, "5s",
		"timeout for short running command (excluding dial timeout)", 0 },
	{ "debug", 0, V3_FLAG_BOOL, &g_debug, "false", "enable client-side debug logging", 0 },
	{ "dial-timeout", 0, V3_FLAG_DURATION, &g_dial_ms, "2s",
		"dial timeout for client connections", 0 },
	{ "discovery-srv", 'd', V3_FLAG_STRING, &g_dsrv, "\"\"",
		"domain name to query for SRV records describing cluster endpoints", 0 },
	{ "discovery-srv-name", 0, V3_FLAG_STRING, &g_dsrv_name, "\"\"",
		"service name to query when using DNS discovery", 0 },
	{ "endpoints", 0, V3_FLAG_LIST, &g_endpoints, "[127.0.0.1:2379]", "gRPC endpoints", 0 },
	{ "hex", 0, V3_FLAG_BOOL, &g_hex, "false", "print byte strings as hex encoded strings", 0 },
	{ "insecure-discovery", 0, V3_FLAG_BOOL, &g_insecure_disc, "true",
		"accept insecure SRV records describing cluster endpoints", 0 },
	{ "insecure-skip-tls-verify", 0, V3_FLAG_BOOL, &g_skip_verify, "false",
		"skip server certificate verification (CAUTION: this option should be enabled only "
		"for testing purposes)", 0 },
	{ "insecure-transport", 0, V3_FLAG_BOOL, &g_insecure_transport, "true",
		"disable transport security for client connections", 0 },
	{ "keepalive-time", 0, V3_FLAG_DURATION, &g_ka_time, "2s",
		"keepalive time for client connections", 0 },
	{ "keepalive-timeout", 0, V3_FLAG_DURATION, &g_ka_timeout, "6s",
		"keepalive timeout for client connections", 0 },
	{ "key", 0, V3_FLAG_STRING, &g_key, "\"\"", "identify secure client using this TLS key file", 0 },
	{ "password", 0, V3_FLAG_STRING, &g_password, "\"\"",
		"password for authentication (if this option is used, --user option shouldn't "
		"include password)", 0 },
	{ "user", 0, V3_FLAG_STRING, &g_user, "\"\"",
		"username[:password] for authentication (prompt if password is not supplied)", 0 },
	{ "write-out", 'w', V3_FLAG_STRING, &g_write_out, "\"simple\"",
		"set the output format (fields, json, protobuf, simple, table)", 0 },
	{ NULL, 0, 0, NULL, NULL, NULL, 0 },
};

int v3_fail(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("Error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

/* ETCDCTL_<FLAG> supplies a global flag's default (the command line wins). */
static void env_defaults(void)
{
	char name[64];

	for (struct v3_flag *f = v3_global_flags; f->name; f++) {
		const char *v;
		size_t i;

		snprintf(name, sizeof(name), "ETCDCTL_%s", f->name);
		for (i = 8; name[i]; i++)
			name[i] = name[i] == '-' ? '_' : (char)toupper((unsigned char)name[i]);
		v = getenv(name);
		if (v == NULL)
			continue;
		switch (f->type) {
		case V3_FLAG_BOOL:
			*(int *)f->ptr = strcmp(v, "true") == 0 || strcmp(v, "1") == 0;
			break;
		case V3_FLAG_DURATION:
			v3_parse_duration(v, (int64_t *)f->ptr);
			break;
		default:
			*(const char **)f->ptr = v;
			break;
		}
	}
}

/* Splits the endpoint list; a bare host:port gets "http://". */
static int setup_conn(struct v3_ctx *c)
{
	size_t n = 1, len = strlen(g_endpoints);
	char *save = NULL, *tok;

	for (const char *p = g_endpoints; *p; p++)
		n += *p == ',';
	c->endpoints_raw = malloc(len * 2 + n * 8 + 1);
	c->conn.endpoints = calloc(n, sizeof(char *));
	if (c->endpoints_raw == NULL || c->conn.endpoints == NULL)
		return -1;
	char *copy = strdup(g_endpoints), *out = c->endpoints_raw;
	if (copy == NULL)
		return -1;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		while (*tok == ' ')
			tok++;
		if (*tok == '\0')
			continue;
		c->conn.endpoints[c->conn.nendpoints++] = out;
		if (strstr(tok, "://") == NULL)
			out += sprintf(out, "http://%s", tok) + 1;
		else
			out += sprintf(out, "%s", tok) + 1;
		/* unix:// and https:// are not spoken by cetcdctl's HTTP client */
	}
	free(copy);
	c->conn.dial_timeout_ms = g_dial_ms;
	c->conn.command_timeout_ms = g_cmd_ms + g_dial_ms;
	c->cmd_timeout_ms = g_cmd_ms;
	c->conn.debug = g_debug;
	c->hex = g_hex;
	c->user = g_user && *g_user ? g_user : NULL;
	c->password = g_password && *g_password ? g_password : NULL;
	return 0;
}

static int set_out(struct v3_ctx *c)
{
	static const struct { const char *n; enum v3_out o; } tab[] = {
		{ "simple", V3_OUT_SIMPLE }, { "json", V3_OUT_JSON }, { "fields", V3_OUT_FIELDS },
		{ "table", V3_OUT_TABLE }, { "protobuf", V3_OUT_PROTOBUF },
	};
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (strcmp(g_write_out, tab[i].n) == 0) {
			c->out = tab[i].o;
			if (c->out == V3_OUT_PROTOBUF)
				return v3_fail(V3_EXIT_BAD_FEATURE, "protobuf output format is not "
					"supported by cetcdctl (it speaks etcd's JSON gateway)");
			return V3_EXIT_OK;
		}
	return v3_fail(V3_EXIT_BAD_FEATURE, "unsupported output format");
}

int v3_read_stdin(struct buf *b)
{
	char chunk[4096];
	ssize_t n;

	while ((n = read(0, chunk, sizeof(chunk))) > 0)
		buf_put(b, chunk, (size_t)n);
	return n < 0 || b->oom ? -1 : 0;
}

void v3_conn_one(const struct v3_ctx *c, struct ctl_conn *one, char **ep)
{
	*one = c->conn;
	one->endpoints = ep;
	one->nendpoints = 1;
}

static int do_http(struct v3_ctx *c, const char *path, json_t *req, json_t **resp, int *status,
	char *err, size_t errlen);

/* --user name[:password] / --password: get a token once per run. */
static int authenticate(struct v3_ctx *c)
{
	char user[256], err[512];
	const char *pw = c->password;
	const char *colon = strchr(c->user, ':');
	json_t *req, *resp = NULL;
	int st = 0, rc;

	snprintf(user, sizeof(user), "%.*s", colon && !pw ? (int)(colon - c->user) : 255, c->user);
	if (pw == NULL && colon)
		pw = colon + 1;
	if (pw == NULL) {
		pw = getpass("Password: ");
		if (pw == NULL)
			return v3_fail(V3_EXIT_BAD_ARGS, "failed to read password");
	}
	req = json_pack("{s:s,s:s}", "name", user, "password", pw);
	rc = do_http(c, "/v3/auth/authenticate", req, &resp, &st, err, sizeof(err));
	json_decref(req);
	/* etcdctl authenticates while creating its client: failures exit 2 */
	if (rc != 0)
		return v3_fail(V3_EXIT_BAD_CONNECTION, "%s", err);
	if (st != 200) {
		json_t *e = json_object_get(resp, "error");
		rc = v3_fail(V3_EXIT_BAD_CONNECTION, "%s", json_is_string(e) ? json_string_value(e)
								  : "authentication failed");
		json_decref(resp);
		return rc;
	}
	json_t *t = json_object_get(resp, "token");
	c->token = json_is_string(t) ? strdup(json_string_value(t)) : NULL;
	c->conn.auth_token = c->token;
	json_decref(resp);
	return V3_EXIT_OK;
}

static int do_http(struct v3_ctx *c, const char *path, json_t *req, json_t **resp, int *status,
	char *err, size_t errlen)
{
	struct ctl_resp r;
	char *body = json_dumps(req ? req : json_object(), JSON_COMPACT);
	json_error_t je;
	int rc;

	if (body == NULL)
		return errf(err, errlen, -1, "out of memory");
	ctl_resp_init(&r);
	rc = ctl_http(&c->conn, "POST", path, "application/json", body, strlen(body), &r, err,
		errlen);
	free(body);
	if (rc != 0) {
		ctl_resp_close(&r);
		/* what etcdctl's gRPC client reports when no endpoint answers */
		snprintf(err, errlen, "context deadline exceeded");
		return -1;
	}
	*status = r.status;
	*resp = json_loadb((const char *)r.body.data, r.body.len, 0, &je);
	ctl_resp_close(&r);
	if (*resp == NULL) {
		snprintf(err, errlen, "bad answer from server (status %d)", *status);
		return -1;
	}
	return 0;
}

int v3_call_raw(struct v3_ctx *c, const char *path, json_t *req, json_t **resp, char *err,
	size_t errlen)
{
	int st = 0, rc;

	*resp = NULL;
	if (c->user && c->token == NULL && (rc = authenticate(c)) != 0)
		return rc;
	if (do_http(c, path, req, resp, &st, err, errlen) != 0)
		return v3_fail(V3_EXIT_ERROR, "%s", err);
	if (st != 200) {
		json_t *e = json_object_get(*resp, "error");
		snprintf(err, errlen, "%s", json_is_string(e) ? json_string_value(e) : "bad answer");
		json_decref(*resp);
		*resp = NULL;
		return -1;
	}
	return V3_EXIT_OK;
}

int v3_call(struct v3_ctx *c, const char *path, json_t *req, json_t **resp)
{
	char err[1024];
	int rc = v3_call_raw(c, path, req, resp, err, sizeof(err));

	if (rc == -1)
		return v3_fail(V3_EXIT_ERROR, "%s", err);
	return rc;
}

static const struct v3_cmd *const *all_tables(void)
{
	static const struct v3_cmd *const t[] = { v3_kv_cmds, v3_txn_cmds, v3_lease_cmds, v3_watch_cmds,
		v3_cluster_cmds, v3_misc_cmds, v3_perf_cmds, NULL };
	return t;
}

/* Finds the longest command name made of the leading words of argv
 * (flags may come before the words, as cobra allows). */
static const struct v3_cmd *find_cmd(int argc, char **argv, int *words, const char **group)
{
	const struct v3_cmd *best = NULL;
	char name[128] = "";
	size_t bestlen = 0;
	int w = 0;

	*group = NULL;
	for (int i = 0; i < argc && w < 2; i++) {
		if (argv[i][0] == '-')
			break;
		if (w)
			strcat(name, " ");
		strncat(name, argv[i], 40);
		w++;
		for (const struct v3_cmd *const *t = all_tables(); *t; t++)
			for (const struct v3_cmd *cmd = *t; cmd->name; cmd++) {
				size_t l = strlen(name);
				if (strcmp(cmd->name, name) == 0 && l > bestlen) {
					best = cmd;
					bestlen = l;
					*words = w;
				} else if (strncmp(cmd->name, name, l) == 0 && cmd->name[l] == ' ')
					*group = cmd->name;
			}
	}
	return best;
}

/* A command group's page ("etcdctl lease"): its subcommands listed. */
static void help_group(const char *group, FILE *o)
{
	static const char *const desc[][2] = { { "lease", "Lease related commands" },
		{ "member", "Membership related commands" }, { "endpoint", "Endpoint related commands" },
		{ "alarm", "Alarm related commands" }, { "snapshot", "Manages etcd node snapshots" },
		{ "check", "commands for checking properties of the etcd cluster" } };
	const char *d = "";
	const struct v3_flag *pers = NULL;
	size_t gl = strlen(group), maxw = 0;

	for (size_t i = 0; i < sizeof(desc) / sizeof(desc[0]); i++)
		if (strcmp(desc[i][0], group) == 0)
			d = desc[i][1];
	fprintf(o, "NAME:\n\t%s - %s\n\nUSAGE:\n\tetcdctl %s <subcommand> [flags]\n\n"
		"API VERSION:\n\t3.4\n\n\nCOMMANDS:\n", group, d, group);
	const struct v3_cmd *subs[32];
	size_t n = 0;

	for (const struct v3_cmd *const *t = all_tables(); *t; t++)
		for (const struct v3_cmd *cmd = *t; cmd->name && n < 32; cmd++) {
			if (strncmp(cmd->name, group, gl) != 0 || cmd->name[gl] != ' ')
				continue;
			subs[n++] = cmd;
			if (8 + strlen(cmd->name + gl + 1) > maxw)
				maxw = 8 + strlen(cmd->name + gl + 1);
			for (const struct v3_flag *f = cmd->flags; f && f->name; f++)
				if (f->persistent)
					pers = cmd->flags;
		}
	/* cobra lists the subcommands sorted by name */
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && strcmp(subs[j - 1]->name, subs[j]->name) > 0; j--) {
			const struct v3_cmd *x = subs[j];
			subs[j] = subs[j - 1];
			subs[j - 1] = x;
		}
	for (size_t i = 0; i < n; i++) {
		const char *sub = subs[i]->name + gl + 1;
		size_t w = 8 + strlen(sub), col = (maxw / 8 + 1) * 8;
		fprintf(o, "\t%s", sub);
		do {
			fputc('\t', o);
			w = (w / 8 + 1) * 8;
		} while (w < col);
		fprintf(o, "%s\n", subs[i]->desc);
	}
	/* the group's own options: help, and the persistent ones (--cluster) */
	static const struct v3_flag none[1];
	fputs("\nOPTIONS:\n", o);
	v3_help_flags(o, none, pers, 1, group);
	fputs("\nGLOBAL OPTIONS:\n", o);
	v3_help_flags(o, v3_global_flags, NULL, 0, group);
	fputs("\n", o);
}

static void help_top(FILE *o)
{
	extern const char v3_help_text[];
	fputs(v3_help_text, o);
}

int ctl_v3_main(int argc, char **argv)
{
	struct v3_ctx c;
	const struct v3_cmd *cmd;
	const char *group;
	int words = 0, npos = 0, rc, first = 1;
	char **pos, **rest;

	memset(&c, 0, sizeof(c));
	env_defaults();
	/* global flags may precede the command words */
	static struct v3_cmd top = { "etcdctl", "[flags]", "A simple command line client for etcd3.",
		NULL, NULL, NULL, 0 };
	while (first < argc && argv[first][0] == '-' && strcmp(argv[first], "--") != 0) {
		if (strcmp(argv[first], "-h") == 0 || strcmp(argv[first], "--help") == 0) {
			help_top(stdout);
			return 0;
		}
		int takes = !strchr(argv[first], '=') && argv[first][1] == '-';
		struct v3_flag *f = NULL;
		for (struct v3_flag *g = v3_global_flags; g->name; g++)
			if (strncmp(argv[first] + 2, g->name, strlen(g->name)) == 0 &&
				(argv[first][2 + strlen(g->name)] == '\0' ||
					argv[first][2 + strlen(g->name)] == '='))
				f = g;
		if (argv[first][1] != '-')
			takes = argv[first][2] == '\0';
		if (f != NULL && f->type == V3_FLAG_BOOL)
			takes = 0;
		first += takes ? 2 : 1;
	}
	if (first >= argc) {
		help_top(stdout);
		return 0;
	}
	cmd = find_cmd(argc - first, argv + first, &words, &group);
	if (strcmp(argv[first], "help") == 0) {
		help_top(stdout);
		return 0;
	}
	if (cmd == NULL) {
		if (group != NULL) {
			/* cobra shows the group's help for "etcdctl lease" */
			char g[64];
			snprintf(g, sizeof(g), "%.*s", (int)strcspn(group, " "), group);
			help_group(g, stdout);
			return 0;
		}
		fprintf(stderr, "Error: unknown command \"%s\" for \"etcdctl\"\n"
			"Run 'etcdctl --help' for usage.\n", argv[first]);
		fprintf(stderr, "Error: unknown command \"%s\" for \"etcdctl\"\n", argv[first]);
		return V3_EXIT_ERROR;
	}
	(void)top;
	/* everything except the command words goes to the parser */
	rest = calloc((size_t)argc, sizeof(char *));
	pos = calloc((size_t)argc, sizeof(char *));
	if (rest == NULL || pos == NULL)
		return V3_EXIT_ERROR;
	int nrest = 0;
	for (int i = 1; i < argc; i++)
		if (i < first || i >= first + words)
			rest[nrest++] = argv[i];
	rc = v3_parse(&c, cmd, nrest, rest, pos, &npos);
	if (rc == -1) {
		rc = 0;
		goto out;
	}
	if (rc != 0)
		goto out;
	if ((rc = set_out(&c)) != 0)
		goto out;
	if (setup_conn(&c) != 0) {
		rc = v3_fail(V3_EXIT_ERROR, "out of memory");
		goto out;
	}
	rc = cmd->run(&c, npos, pos);
out:
	fflush(stdout);
	free(rest);
	free(pos);
	free(c.endpoints_raw);
	free(c.conn.endpoints);
	free(c.token);
	return rc;
}
