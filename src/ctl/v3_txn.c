/* v3_txn.c - cetcdctl v3's txn (etcdctl's grammar on stdin: compares, a
 * blank line, success ops, a blank line, failure ops, a blank line) and
 * compaction, over the gateway's /v3/kv/txn and /v3/kv/compaction. */
#include "config.h"
#include "ctl/v3_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads one line without its newline into a malloc'd string; NULL at EOF. */
static char *read_line(void)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, stdin);

	if (n < 0) {
		free(line);
		return NULL;
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	return line;
}

/* Go's strconv.Unquote of a double-quoted token starting at *p (in place:
 * the result is written over the input); advances *p past it. */
static int unquote(char **p, char **out)
{
	char *s = *p + 1, *d = *p;

	*out = d;
	for (; *s && *s != '"'; s++) {
		if (*s != '\\') {
			*d++ = *s;
			continue;
		}
		s++;
		switch (*s) {
		case 'n': *d++ = '\n'; break;
		case 't': *d++ = '\t'; break;
		case 'r': *d++ = '\r'; break;
		case '\\': *d++ = '\\'; break;
		case '"': *d++ = '"'; break;
		case 'x': {
			unsigned v;
			if (sscanf(s + 1, "%2x", &v) != 1)
				return -1;
			*d++ = (char)v;
			s += 2;
			break;
		}
		default: return -1;
		}
	}
	if (*s != '"')
		return -1;
	*d = '\0';
	*p = s + 1;
	return 0;
}

/* etcdctl's argify: words split on spaces, "quoted words" unquoted. */
static int argify(char *line, char **argv, int max)
{
	int n = 0;
	char *p = line;

	while (*p && n < max) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		if (*p == '"') {
			char *w;
			if (unquote(&p, &w) != 0)
				return -1;
			argv[n++] = w;
			if (*p)
				p++;
			continue;
		}
		argv[n++] = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		if (*p)
			*p++ = '\0';
	}
	return n;
}

static json_t *b64_string(const char *s)
{
	char *e = v3_b64enc(s, strlen(s));
	json_t *j = json_string(e ? e : "");

	free(e);
	return j;
}

/* `target("key") op "value"` into a Compare. */
static int parse_compare(char *line, json_t **out)
{
	static const struct { const char *a, *b, *target, *field; int num; } tg[] = {
		{ "ver", "version", "VERSION", "version", 1 },
		{ "c", "create", "CREATE", "create_revision", 1 },
		{ "m", "mod", "MOD", "mod_revision", 1 },
		{ "val", "value", "VALUE", "value", 0 },
		{ "lease", "lease", "LEASE", "lease", 1 },
	};
	static const struct { const char *op, *res; } ops[] = {
		{ "=", "EQUAL" }, { "==", "EQUAL" }, { "!=", "NOT_EQUAL" }, { "<", "LESS" },
		{ ">", "GREATER" },
	};
	char *copy = strdup(line), *lp = copy ? strchr(copy, '(') : NULL, *p, *key, *val, *op;
	size_t t, o;

	*out = NULL;
	if (lp == NULL)
		goto fail;
	*lp = '\0';
	p = lp + 1;
	if (*p != '"' || unquote(&p, &key) != 0 || *p++ != ')' || *p++ != ' ')
		goto fail;
	op = p;
	while (*p && *p != ' ')
		p++;
	if (*p != ' ')
		goto fail;
	*p++ = '\0';
	if (*p != '"' || unquote(&p, &val) != 0)
		goto fail;
	for (t = 0; t < 5 && strcmp(copy, tg[t].a) != 0 && strcmp(copy, tg[t].b) != 0; t++)
		;
	for (o = 0; o < 5 && strcmp(op, ops[o].op) != 0; o++)
		;
	if (t == 5) {
		free(copy);
		return -2;
	}
	if (o == 5)
		goto fail;
	json_t *cmp = json_pack("{s:o,s:s,s:s}", "key", b64_string(key), "result", ops[o].res,
		"target", tg[t].target);
	if (tg[t].num) {
		char *end;
		errno = 0;
		long long v = strtoll(val, &end, 10);
		if (errno || *val == '\0' || *end) {
			json_decref(cmp);
			free(copy);
			return -3;
		}
		json_object_set_new(cmp, tg[t].field, json_integer(v));
	} else
		json_object_set_new(cmp, "value", b64_string(val));
	free(copy);
	*out = cmp;
	return 0;
fail:
	free(copy);
	return -1; /* the caller prints etcdctl's message */
}

static int eof_fail(void)
{
	return v3_fail(V3_EXIT_INVALID_INPUT, "EOF");
}

static int read_compares(json_t *arr)
{
	char *line;

	while ((line = read_line()) != NULL) {
		json_t *cmp;
		int rc;

		if (*line == '\0') {
			free(line);
			return 0;
		}
		rc = parse_compare(line, &cmp);
		if (rc != 0) {
			char *lp = strchr(line, '(');
			if (rc == -3)
				rc = v3_fail(V3_EXIT_INVALID_INPUT, "invalid txn compare request: %s", line);
			else if (rc == -2)
				rc = v3_fail(V3_EXIT_INVALID_INPUT, "malformed comparison: %s (unknown "
					"target %.*s)", line, (int)(lp - line), line);
			else
				rc = v3_fail(V3_EXIT_INVALID_INPUT, "malformed comparison: %s", line);
			free(line);
			return rc;
		}
		json_array_append_new(arr, cmp);
		free(line);
	}
	return eof_fail();
}

static int read_ops(struct v3_ctx *c, json_t *arr)
{
	char *line;

	while ((line = read_line()) != NULL) {
		char *argv[64];
		json_t *op;
		int argc, rc;

		if (*line == '\0') {
			free(line);
			return 0;
		}
		char *typed = strdup(line); /* argify writes over line */
		argc = argify(line, argv, 64);
		rc = argc > 0 ? v3_kv_op(c, argc, argv, &op) : -1;
		if (rc != 0)
			rc = v3_fail(V3_EXIT_INVALID_INPUT, "invalid txn request: %s",
				typed ? typed : "");
		free(typed);
		free(line);
		if (rc != 0)
			return rc;
		json_array_append_new(arr, op);
	}
	return eof_fail();
}

static void txn_print_resp(struct v3_ctx *c, json_t *r)
{
	json_t *x;

	if ((x = json_object_get(r, "response_put")) != NULL)
		v3_put_print(c, x);
	else if ((x = json_object_get(r, "response_range")) != NULL)
		v3_get_print(c, x);
	else if ((x = json_object_get(r, "response_delete_range")) != NULL)
		v3_del_print(c, x);
}

/* The gateway's oneof names as Go's encoding/json writes the wrapper. */
static json_t *txn_go_json(json_t *resp)
{
	static const char *const map[][2] = { { "response_put", "ResponsePut" },
		{ "response_range", "ResponseRange" }, { "response_delete_range", "ResponseDeleteRange" },
		{ "response_txn", "ResponseTxn" } };
	json_t *out = json_deep_copy(resp), *rs = json_object_get(out, "responses"), *r;
	size_t i;

	json_array_foreach(rs, i, r) {
		for (size_t m = 0; m < 4; m++) {
			json_t *x = json_object_get(r, map[m][0]);
			if (x == NULL)
				continue;
			json_t *w = json_pack("{s:{s:O}}", "Response", map[m][1], x);
			json_array_set_new(rs, i, w);
			break;
		}
	}
	return out;
}

static int t_inter;
static struct v3_flag txn_flags[] = {
	{ "interactive", 'i', V3_FLAG_BOOL, &t_inter, "false", "Input transaction in interactive mode", 0 },
	{ NULL, 0, 0, NULL, NULL, NULL, 0 },
};

static int txn_run(struct v3_ctx *c, int argc, char **argv)
{
	json_t *req = json_pack("{s:[],s:[],s:[]}", "compare", "success", "failure");
	json_t *resp = NULL, *rs, *r;
	size_t i;
	int rc;

	if (argc != 0) {
		json_decref(req);
		return v3_fail(V3_EXIT_BAD_ARGS, "txn command does not accept argument");
	}
	if (t_inter)
		puts("compares:");
	if ((rc = read_compares(json_object_get(req, "compare"))) != 0)
		goto out;
	if (t_inter)
		puts("success requests (get, put, del):");
	if ((rc = read_ops(c, json_object_get(req, "success"))) != 0)
		goto out;
	if (t_inter)
		puts("failure requests (get, put, del):");
	if ((rc = read_ops(c, json_object_get(req, "failure"))) != 0)
		goto out;
	if (c->out == V3_OUT_TABLE) {
		rc = v3_fail(V3_EXIT_BAD_FEATURE, "table not supported as output format");
		goto out;
	}
	if ((rc = v3_call(c, "/v3/kv/txn", req, &resp)) != 0)
		goto out;
	rs = json_object_get(resp, "responses");
	if (c->out == V3_OUT_JSON) {
		json_t *g = txn_go_json(resp);
		v3_print_json(g);
		json_decref(g);
	} else if (c->out == V3_OUT_FIELDS) {
		v3_fields_header(resp);
		printf("\"Succeeded\" : %s\n", v3_jbool(resp, "succeeded") ? "true" : "false");
		json_array_foreach(rs, i, r)
			txn_print_resp(c, r);
	} else {
		puts(v3_jbool(resp, "succeeded") ? "SUCCESS" : "FAILURE");
		json_array_foreach(rs, i, r) {
			putchar('\n');
			txn_print_resp(c, r);
		}
	}
out:
	json_decref(req);
	json_decref(resp);
	return rc;
}

static int physical;
static struct v3_flag compact_flags[] = {
	{ "physical", 0, V3_FLAG_BOOL, &physical, "false", "'true' to wait for compaction to physically remove all old revisions", 0 },
	{ NULL, 0, 0, NULL, NULL, NULL, 0 },
};

static int compaction_run(struct v3_ctx *c, int argc, char **argv)
{
	json_t *req, *resp = NULL;
	char *end;
	int64_t rev;
	int rc;

	if (argc != 1)
		return v3_fail(V3_EXIT_BAD_ARGS, "compaction command needs 1 argument");
	errno = 0;
	rev = strtoll(argv[0], &end, 10);
	if (errno || *argv[0] == '\0' || *end)
		return v3_fail(V3_EXIT_ERROR, "strconv.ParseInt: parsing \"%s\": %s", argv[0],
			errno == ERANGE ? "value out of range" : "invalid syntax");
	req = json_pack("{s:I,s:b}", "revision", (json_int_t)rev, "physical", physical);
	rc = v3_call(c, "/v3/kv/compaction", req, &resp);
	json_decref(req);
	if (rc != 0)
		return rc;
	printf("compacted revision %" PRId64 "\n", rev);
	json_decref(resp);
	return V3_EXIT_OK;
}

const struct v3_cmd v3_txn_cmds[] = {
	{ "txn", "txn [options]", "Txn processes all the requests in one transaction", NULL,
		txn_flags, txn_run, 0 },
	{ "compaction", "compaction [options] <revision>", "Compacts the event history in etcd",
		NULL, compact_flags, compaction_run, 0 },
	{ NULL, NULL, NULL, NULL, NULL, NULL, 0 },
};
