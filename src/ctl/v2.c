/* v2.c - cetcdctl's v2 command set (ETCDCTL_API=2), as etcdctl 3.4 has
 * it: global options, the urfave/cli flag rules its commands follow, the
 * cluster sync it does before each command, failover across the
 * endpoints with its cluster error, and the dispatch to the commands.
 */
#include "config.h"
#include "ctl/v2_int.h"
#include "pb/gojson.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/err.h"

#define V2_DEFAULT_ENDPOINTS "http://127.0.0.1:2379,http://127.0.0.1:4001"

int v2_fail(int code, const char *msg)
{
	fprintf(stderr, "Error:  %s\n", msg);
	return code;
}

/* ---- flags ---------------------------------------------------------- */

static int flag_has_name(const struct v2_flag *f, const char *name, size_t n)
{
	const char *p = f->names;

	while (*p != '\0') {
		size_t l = strcspn(p, ",");

		if (l == n && memcmp(p, name, n) == 0)
			return 1;
		p += l;
		while (*p == ',' || *p == ' ')
			p++;
	}
	return 0;
}

static struct v2_flag *flag_find(struct v2_flag *fl, size_t nfl, const char *name, size_t n)
{
	for (size_t i = 0; i < nfl; i++)
		if (flag_has_name(&fl[i], name, n))
			return &fl[i];
	return NULL;
}

struct v2_flag *v2_flag(struct v2_flag *fl, size_t nfl, const char *name)
{
	return flag_find(fl, nfl, name, strlen(name));
}

/* The flag name of "-x", "--x" or "--x=v"; NULL when arg is no flag. */
static const char *flag_name(const char *arg, size_t *n)
{
	if (arg[0] != '-' || arg[1] == '\0')
		return NULL;
	arg += arg[1] == '-' ? 2 : 1;
	if (*arg == '\0' || *arg == '-' || *arg == '=')
		return NULL;
	*n = strcspn(arg, "=");
	return arg;
}

/* what is the whole message, e.g. "flag provided but not defined: -o". */
static int usage_error(const char *cmd, const char *what)
{
	const char *help = v2_help_text(cmd);

	/* urfave/cli words the app's and a command's differently */
	printf("Incorrect Usage%s %s\n\n%s", cmd[0] == '\0' ? "." : ":", what,
		help != NULL ? help : "");
	fflush(stdout);
	fprintf(stderr, "%s\n", what);
	return -1;
}

static int parse_bool(const char *s, int *out)
{
	static const char *t[] = {"1", "t", "T", "TRUE", "true", "True"};
	static const char *f[] = {"0", "f", "F", "FALSE", "false", "False"};

	for (size_t i = 0; i < 6; i++) {
		if (strcmp(s, t[i]) == 0)
			return *out = 1, 0;
		if (strcmp(s, f[i]) == 0)
			return *out = 0, 0;
	}
	return -1;
}

/* Go's flag package: flags until the first non-flag or "--". */
static int flags_go(const char *cmd, char **av, int ac, struct v2_flag *fl, size_t nfl, int *used)
{
	char msg[300];
	int i = 0;

	while (i < ac) {
		const char *a = av[i], *name, *eq;
		struct v2_flag *f;
		size_t n;

		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		if ((name = flag_name(a, &n)) == NULL)
			break;
		if ((f = flag_find(fl, nfl, name, n)) == NULL) {
			snprintf(msg, sizeof(msg), "flag provided but not defined: -%.*s", (int)n, name);
			return usage_error(cmd, msg);
		}
		eq = name[n] == '=' ? name + n + 1 : NULL;
		i++;
		f->set = 1;
		if (f->kind == V2F_BOOL) {
			if (eq != NULL && parse_bool(eq, &f->b) != 0)
				return usage_error(cmd, "invalid boolean value for flag");
			if (eq == NULL)
				f->b = 1;
			continue;
		}
		if (eq == NULL) {
			if (i >= ac) {
				snprintf(msg, sizeof(msg), "flag needs an argument: -%.*s", (int)n, name);
				return usage_error(cmd, msg);
			}
			eq = av[i++];
		}
		if (f->kind == V2F_STR) {
			f->s = eq;
		} else {
			char *end;

			f->i = strtoll(eq, &end, 0);
			if (*eq == '\0' || *end != '\0')
			{
				snprintf(msg, sizeof(msg), "invalid value \"%s\" for flag -%.*s: parse error", eq,
					(int)n, name);
				return usage_error(cmd, msg);
			}
		}
	}
	*used = i;
	return 0;
}

int v2_flags_parse(struct v2_ctx *x, const char *cmd, int argc, char **argv, struct v2_flag *fl,
	size_t nfl, char ***pos, int *npos)
{
	char **re = calloc((size_t)argc + 1, sizeof(*re));
	char **rest = calloc((size_t)argc + 1, sizeof(*rest));
	int nre = 0, nrest = 0, maybe_value = 0, used = 0, rc;

	(void)x;
	if (re == NULL || rest == NULL) {
		free(re);
		free(rest);
		return -1;
	}
	/* urfave/cli 1.22's reorderArgs: defined flags (and the argument after
	 * one, if it is no defined flag) move to the front; a "--" moves to the
	 * front of the rest, so Go's flag parser then drops it. */
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *name;
		size_t n;
		int defined = (name = flag_name(a, &n)) != NULL && flag_find(fl, nfl, name, n) != NULL;

		if (maybe_value && !defined) {
			maybe_value = 0;
			re[nre++] = argv[i];
		} else if (strcmp(a, "--") == 0) {
			memmove(rest + 1, rest, (size_t)nrest * sizeof(*rest));
			rest[0] = argv[i];
			nrest++;
			while (++i < argc)
				rest[nrest++] = argv[i];
			break;
		} else if (defined) {
			re[nre++] = argv[i];
			maybe_value = strchr(a, '=') == NULL;
		} else {
			rest[nrest++] = argv[i];
		}
	}
	for (int i = 0; i < nrest; i++)
		re[nre++] = rest[i];
	free(rest);
	rc = flags_go(cmd, re, nre, fl, nfl, &used);
	if (rc != 0) {
		free(re);
		return -1;
	}
	memmove(re, re + used, (size_t)(nre - used) * sizeof(*re));
	*pos = re;
	*npos = nre - used;
	return 0;
}

/* ---- paths and quoting ---------------------------------------------- */

static int unreserved(unsigned char c)
{
	return isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

void v2_query_escape(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		char e[4];

		if (unreserved(c)) {
			buf_put_u8(b, c);
		} else if (c == ' ') {
			buf_put_u8(b, '+');
		} else {
			snprintf(e, sizeof(e), "%%%02X", c);
			buf_put(b, e, 3);
		}
	}
}

void v2_keys_path(const char *key, char *out, size_t outlen)
{
	struct buf b;
	const char *p = key;
	int trailing = key[0] != '\0' && key[strlen(key) - 1] == '/';

	/* Clean like path.Clean: drop empty and "." parts; keep a trailing
	 * slash (etcd's CanonicalURLPath). ".." is left to the server. */
	buf_init(&b);
	buf_put(&b, "/v2/keys", 8);
	while (*p != '\0') {
		size_t n;

		while (*p == '/')
			p++;
		n = strcspn(p, "/");
		if (n == 0)
			break;
		if (!(n == 1 && p[0] == '.')) {
			buf_put_u8(&b, '/');
			for (size_t i = 0; i < n; i++) {
				unsigned char c = (unsigned char)p[i];
				char e[4];

				if (unreserved(c) || strchr("!$&'()*+,;=:@", c) != NULL) {
					buf_put_u8(&b, c);
				} else {
					snprintf(e, sizeof(e), "%%%02X", c);
					buf_put(&b, e, 3);
				}
			}
		}
		p += n;
	}
	if (trailing || b.len == 8)
		buf_put_u8(&b, '/');
	snprintf(out, outlen, "%.*s", (int)b.len, b.data != NULL ? (char *)b.data : "");
	buf_close(&b);
}

/* ---- the client ----------------------------------------------------- */

static void debug_request(struct v2_ctx *x, const char *ep, const char *method, const char *path,
	const char *form)
{
	struct buf b;

	buf_init(&b);
	if (form != NULL) { /* Go prints a body, even an empty one */
		buf_put(&b, " -d ", 4);
		gojson_goquote(&b, form, strlen(form));
	}
	buf_put_u8(&b, '\0');
	fprintf(stderr, "cURL Command: curl -X %s %s%s%s\n", method, ep, path,
		b.oom ? "" : (char *)b.data);
	(void)x;
	buf_close(&b);
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One endpoint at a time, so each failure becomes its own "error #i"
 * as in etcd's client.ClusterError; the total timeout spans them all.
 * 0, -1 (cluster error: msg and detail) or -2 (the total timeout: msg is
 * "context deadline exceeded", no detail). */
static int do_endpoints(struct v2_ctx *x, const char *method, const char *path, const char *ctype,
	const char *form, struct ctl_resp *r, char *msg, size_t msglen, char *detail, size_t dlen)
{
	struct ctl_conn one = x->conn;
	int64_t deadline = x->conn.command_timeout_ms > 0 ? mono_ms() + x->conn.command_timeout_ms : 0;
	size_t mo, dn;
	char err[300];

	mo = (size_t)snprintf(msg, msglen, "client: etcd cluster is unavailable or misconfigured");
	dn = 0;
	detail[0] = '\0';
	one.nendpoints = 1;
	one.debug = 0;
	for (size_t i = 0; i < x->conn.nendpoints; i++) {
		int rc;

		one.endpoints = &x->conn.endpoints[i];
		if (deadline > 0 && (one.command_timeout_ms = deadline - mono_ms()) <= 0)
			rc = CTL_ETIMEOUT;
		else {
			if (x->debug)
				debug_request(x, one.endpoints[0], method, path, form);
			ctl_resp_close(r);
			ctl_resp_init(r);
			rc = ctl_http(&one, method, path, form != NULL ? ctype : NULL, form,
				form != NULL ? strlen(form) : 0, r, err, sizeof(err));
		}
		if (rc == 0) {
			r->endpoint = x->conn.endpoints[i];
			return 0;
		}
		if (rc == CTL_ETIMEOUT) {
			snprintf(msg, msglen, "context deadline exceeded");
			return -2;
		}
		if (mo < msglen)
			mo += (size_t)snprintf(msg + mo, msglen - mo, "; error #%zu: %s\n", i, err);
		if (dn < dlen)
			dn += (size_t)snprintf(detail + dn, dlen - dn, "error #%zu: %s\n", i, err);
	}
	return -1;
}

/* etcdctl's handleError for a failed request: the cluster error with its
 * detail, or just the deadline. */
void v2_print_call_error(int rc, const char *msg, const char *detail)
{
	if (rc == -2)
		fprintf(stderr, "Error:  %s\n", msg);
	else
		fprintf(stderr, "Error:  %s\n%s\n", msg, detail);
}

static void set_endpoints(struct v2_ctx *x, const char *list)
{
	char *dup = strdup(list), *save = NULL, *tok;
	size_t n = 1;

	char **eps;

	for (const char *p = list; *p != '\0'; p++)
		n += *p == ',';
	if (dup == NULL || (eps = calloc(n, sizeof(char *))) == NULL) {
		free(dup);
		return; /* out of memory: keep the old list */
	}
	for (size_t i = 0; i < x->conn.nendpoints; i++) /* a sync replaces the list */
		free(x->conn.endpoints[i]);
	free(x->conn.endpoints);
	x->conn.endpoints = eps;
	x->conn.nendpoints = 0;
	for (tok = strtok_r(dup, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save))
		if ((eps[x->conn.nendpoints] = strdup(tok)) != NULL)
			x->conn.nendpoints++;
	free(dup);
}

static void print_endpoints(const char *what, struct v2_ctx *x, const char *tail)
{
	fprintf(stderr, "%s", what);
	for (size_t i = 0; i < x->conn.nendpoints; i++)
		fprintf(stderr, "%s%s", i > 0 ? "," : "", x->conn.endpoints[i]);
	fprintf(stderr, "%s", tail);
}

int v2_sync(struct v2_ctx *x)
{
	struct ctl_resp r;
	char msg[2048], detail[2048];
	json_t *j = NULL, *ms;
	struct buf urls;
	size_t i;
	int rc;

	if (x->no_sync || x->synced)
		return 0;
	x->synced = 1;
	if (x->debug)
		print_endpoints("start to sync cluster using endpoints(", x, ")\n");
	ctl_resp_init(&r);
	if ((rc = do_endpoints(x, "GET", "/v2/members", NULL, NULL, &r, msg, sizeof(msg), detail,
		     sizeof(detail))) != 0) {
		v2_print_call_error(rc, msg, detail);
		ctl_resp_close(&r);
		return V2_EXIT_BADCONN;
	}
	buf_init(&urls);
	if (r.status == 200)
		j = json_loadb((const char *)r.body.data, r.body.len, 0, NULL);
	ms = json_object_get(j, "members");
	for (i = 0; i < json_array_size(ms); i++) {
		json_t *cu = json_object_get(json_array_get(ms, i), "clientURLs");

		for (size_t k = 0; k < json_array_size(cu); k++) {
			const char *u = json_string_value(json_array_get(cu, k));

			if (u == NULL)
				continue;
			if (urls.len > 0)
				buf_put_u8(&urls, ',');
			buf_put(&urls, u, strlen(u));
		}
	}
	/* No published client URLs: keep the given endpoints, as etcd's
	 * client keeps its old list when a sync finds none. */
	if (urls.len > 0 && !urls.oom) {
		buf_put_u8(&urls, '\0');
		set_endpoints(x, (const char *)urls.data);
	}
	if (x->debug) {
		print_endpoints("got endpoints(", x, ") after sync\n");
	}
	json_decref(j);
	buf_close(&urls);
	ctl_resp_close(&r);
	return 0;
}

int v2_do_raw(struct v2_ctx *x, const char *method, const char *path, const char *ctype,
	const char *body, struct ctl_resp *r, char *msg, size_t msglen, char *detail, size_t dlen)
{
	if (x->debug)
		print_endpoints("Cluster-Endpoints: ", x, "\n");
	return do_endpoints(x, method, path, ctype, body, r, msg, msglen, detail, dlen);
}

int v2_do(struct v2_ctx *x, const char *method, const char *path, const char *form,
	struct ctl_resp *r, int exit_code)
{
	char msg[2048], detail[2048];
	int rc;

	if ((rc = v2_sync(x)) != 0)
		return rc;
	if ((rc = v2_do_raw(x, method, path, "application/x-www-form-urlencoded", form, r, msg, sizeof(msg), detail, sizeof(detail))) == 0)
		return 0;
	v2_print_call_error(rc, msg, detail);
	return exit_code;
}

/* ---- globals and dispatch ------------------------------------------- */

static int64_t parse_duration_ms(const char *s, int *ok)
{
	double total = 0;
	const char *p = s;

	*ok = 0;
	while (*p != '\0') {
		char *end;
		double v = strtod(p, &end);

		if (end == p)
			return 0;
		p = end;
		if (strncmp(p, "ms", 2) == 0)
			total += v, p += 2;
		else if (*p == 's')
			total += v * 1000, p++;
		else if (*p == 'm')
			total += v * 60000, p++;
		else if (*p == 'h')
			total += v * 3600000, p++;
		else if (strncmp(p, "us", 2) == 0)
			total += v / 1000, p += 2;
		else if (strncmp(p, "ns", 2) == 0)
			total += v / 1e6, p += 2;
		else if (*p == '\0' && v == 0)
			break;
		else
			return 0;
	}
	*ok = 1;
	return (int64_t)total;
}

enum {
	G_DEBUG, G_NOSYNC, G_OUTPUT, G_DSRV, G_INSECDISC, G_PEERS, G_ENDPOINT, G_ENDPOINTS,
	G_CERT, G_KEY, G_CA, G_USER, G_TIMEOUT, G_TOTAL, G_HELP, G_VERSION, G_N
};

static void globals_spec(struct v2_flag *g)
{
	static const struct {
		const char *n;
		enum v2_flag_kind k;
	} spec[G_N] = {
		{"debug", V2F_BOOL}, {"no-sync", V2F_BOOL}, {"output, o", V2F_STR},
		{"discovery-srv, D", V2F_STR}, {"insecure-discovery", V2F_BOOL},
		{"peers, C", V2F_STR}, {"endpoint", V2F_STR}, {"endpoints", V2F_STR},
		{"cert-file", V2F_STR}, {"key-file", V2F_STR}, {"ca-file", V2F_STR},
		{"username, u", V2F_STR}, {"timeout", V2F_STR}, {"total-timeout", V2F_STR},
		{"help, h", V2F_BOOL}, {"version, v", V2F_BOOL},
	};

	memset(g, 0, sizeof(*g) * G_N);
	for (int i = 0; i < G_N; i++) {
		g[i].names = spec[i].n;
		g[i].kind = spec[i].k;
	}
}

static const char *first_of(const char *a, const char *env)
{
	const char *e;

	if (a != NULL && a[0] != '\0')
		return a;
	e = getenv(env);
	return e != NULL && e[0] != '\0' ? e : NULL;
}

static int bad_duration(const char *flag, const char *v)
{
	char msg[300];

	snprintf(msg, sizeof(msg), "invalid value \"%s\" for flag -%s: parse error", v, flag);
	return usage_error("", msg);
}

static int globals_apply(struct v2_ctx *x, struct v2_flag *g)
{
	const char *eps, *user;
	int ok = 1;

	x->debug = x->conn.debug = g[G_DEBUG].b;
	x->no_sync = g[G_NOSYNC].b;
	x->output = g[G_OUTPUT].set ? g[G_OUTPUT].s : "simple";
	eps = first_of(g[G_ENDPOINTS].s, "ETCDCTL_ENDPOINTS");
	if (eps == NULL)
		eps = first_of(g[G_ENDPOINT].s, "ETCDCTL_ENDPOINT");
	if (eps == NULL)
		eps = first_of(g[G_PEERS].s, "ETCDCTL_PEERS");
	set_endpoints(x, eps != NULL ? eps : V2_DEFAULT_ENDPOINTS);
	x->conn.dial_timeout_ms = 2000;
	x->conn.command_timeout_ms = 5000;
	if (g[G_TIMEOUT].set)
		x->conn.dial_timeout_ms = parse_duration_ms(g[G_TIMEOUT].s, &ok);
	if (!ok)
		return bad_duration("timeout", g[G_TIMEOUT].s);
	x->conn.header_timeout_ms = x->conn.dial_timeout_ms;
	if (g[G_TOTAL].set)
		x->conn.command_timeout_ms = parse_duration_ms(g[G_TOTAL].s, &ok);
	if (!ok)
		return bad_duration("total-timeout", g[G_TOTAL].s);
	user = first_of(g[G_USER].s, "ETCDCTL_USERNAME");
	if (user != NULL) {
		if (strchr(user, ':') == NULL) {
			char *pw = getpass("Password: ");
			size_t n = strlen(user) + (pw != NULL ? strlen(pw) : 0) + 2;

			x->user = malloc(n);
			if (x->user != NULL)
				snprintf(x->user, n, "%s:%s", user, pw != NULL ? pw : "");
		} else {
			x->user = strdup(user);
		}
		x->conn.basic_user = x->user;
	}
	return 0;
}

static void ctx_free(struct v2_ctx *x)
{
	for (size_t i = 0; i < x->conn.nendpoints; i++)
		free(x->conn.endpoints[i]);
	free(x->conn.endpoints);
	free(x->user);
}

static int is_help(int argc, char **argv)
{
	for (int i = 0; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return 1;
	return 0;
}

static int dispatch(struct v2_ctx *x, const char *cmd, int argc, char **argv)
{
	static const char *keys[] = {"set", "get", "update", "mk", "mkdir", "setdir", "updatedir",
		"rm", "rmdir", "ls"};

	if (is_help(argc, argv) && v2_help_text(cmd) != NULL) {
		fputs(v2_help_text(cmd), stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(cmd, keys[i]) == 0)
			return v2_cmd_keys(x, cmd, argc, argv);
	if (strcmp(cmd, "watch") == 0 || strcmp(cmd, "exec-watch") == 0)
		return v2_cmd_watch(x, cmd, argc, argv);
	if (strcmp(cmd, "member") == 0)
		return v2_cmd_member(x, argc, argv);
	if (strcmp(cmd, "cluster-health") == 0)
		return v2_cmd_cluster_health(x, argc, argv);
	if (strcmp(cmd, "user") == 0 || strcmp(cmd, "role") == 0 || strcmp(cmd, "auth") == 0)
		return v2_cmd_auth(x, cmd, argc, argv);
	if (strcmp(cmd, "backup") == 0) {
		fprintf(stderr, "cetcdctl: backup: not supported (use cetcd's own data dir tools)\n");
		return V2_EXIT_BADARGS;
	}
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "h") == 0) {
		const char *t = v2_help_text(argc > 0 ? argv[0] : "");

		if (t == NULL) {
			fprintf(stderr, "No help topic for '%s'\n", argv[0]);
			return 3;
		}
		fputs(t, stdout);
		return 0;
	}
	fprintf(stderr, "No help topic for '%s'\n", cmd);
	return 3;
}

int ctl_v2_main(int argc, char **argv)
{
	struct v2_ctx x;
	struct v2_flag g[G_N];
	int used = 0, rc;

	memset(&x, 0, sizeof(x));
	globals_spec(g);
	if (flags_go("", argv + 1, argc - 1, g, G_N, &used) != 0)
		return V2_EXIT_BADARGS;
	if (g[G_VERSION].b) {
		printf("etcdctl version: 3.4.23\nAPI version: 2\n");
		return 0;
	}
	if (g[G_HELP].b || used + 1 >= argc) {
		fputs(v2_help_text(""), stdout);
		return 0;
	}
	if (globals_apply(&x, g) != 0) {
		ctx_free(&x);
		return V2_EXIT_BADARGS;
	}
	x.cmd = argv[used + 1];
	rc = dispatch(&x, x.cmd, argc - used - 2, argv + used + 2);
	ctx_free(&x);
	return rc;
}
