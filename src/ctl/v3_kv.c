/* v3_kv.c - cetcdctl v3's key-value commands (put, get, del) over the
 * gateway's /v3/kv/{put,range,deleterange}, with etcdctl 3.4's argument
 * rules, error lines, exit codes and its simple / json / fields output. */
#include "config.h"
#include "ctl/v3_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Adds a bytes field (base64) to a request object. */
static void set_bytes(json_t *o, const char *k, const char *p, size_t n)
{
	char *e = v3_b64enc(p, n);

	if (e != NULL)
		json_object_set_new(o, k, json_string(e));
	free(e);
}

/* clientv3's GetPrefixRangeEnd: the key with its last byte below 0xff
 * incremented and the rest dropped; "\0" (to the end) when none is. */
static size_t prefix_end(const char *k, size_t n, char *out)
{
	memcpy(out, k, n);
	for (size_t i = n; i > 0; i--) {
		if ((unsigned char)out[i - 1] < 0xff) {
			out[i - 1]++;
			return i;
		}
	}
	out[0] = '\0';
	return 1;
}

/* Sets key and range_end as etcdctl does for [key] [end] --prefix --from-key. */
static int key_range(json_t *req, int argc, char **argv, int prefix, int from_key,
	const char *cmd)
{
	const char *key = argv[0];
	size_t klen = strlen(key);

	if (prefix && from_key)
		return v3_fail(V3_EXIT_BAD_ARGS, "`--prefix` and `--from-key` cannot be set at the "
			"same time, choose one");
	if ((prefix || from_key) && argc > 1)
		return v3_fail(V3_EXIT_BAD_ARGS, "too many arguments, only accept one argument when "
			"`--prefix` or `--from-key` is set");
	(void)cmd;
	if ((prefix || from_key) && klen == 0) {
		set_bytes(req, "key", "", 1);
		set_bytes(req, "range_end", "", 1);
		return 0;
	}
	set_bytes(req, "key", key, klen);
	if (argc > 1)
		set_bytes(req, "range_end", argv[1], strlen(argv[1]));
	if (from_key)
		set_bytes(req, "range_end", "", 1);
	if (prefix) {
		char *end = malloc(klen + 1);
		if (end == NULL)
			return V3_EXIT_ERROR;
		size_t n = prefix_end(key, klen, end);
		set_bytes(req, "range_end", end, n);
		free(end);
	}
	return 0;
}

/* ---- put ---- */

static int p_prev, p_ign_val, p_ign_lease;
static const char *p_lease = "0";
static struct v3_flag put_flags[] = {
	{ "lease", 0, V3_FLAG_STRING, &p_lease, "\"0\"", "lease ID (in hexadecimal) to attach to the key", 0 },
	{ "prev-kv", 0, V3_FLAG_BOOL, &p_prev, "false", "return the previous key-value pair before modification", 0 },
	{ "ignore-value", 0, V3_FLAG_BOOL, &p_ign_val, "false", "updates the key using its current value", 0 },
	{ "ignore-lease", 0, V3_FLAG_BOOL, &p_ign_lease, "false", "updates the key using its current lease", 0 },
	{ NULL, 0, 0, NULL, NULL, NULL, 0 },
};

/* Builds the PutRequest from put's arguments and flags; exit code. */
static int put_build(int argc, char **argv, json_t **out)
{
	struct buf in;
	json_t *req;
	int64_t lease;
	char *end;

	*out = NULL;
	if (argc == 0)
		return v3_fail(V3_EXIT_BAD_ARGS, "put command needs 1 argument and input from "
			"stdin or 2 arguments");
	errno = 0;
	lease = strtoll(p_lease, &end, 16);
	if (errno != 0 || *p_lease == '\0' || *end != '\0')
		return v3_fail(V3_EXIT_BAD_ARGS, "bad lease ID (strconv.ParseInt: parsing \"%s\": %s), "
			"expecting ID in Hex", p_lease, errno == ERANGE ? "value out of range" : "invalid syntax");
	req = json_object();
	set_bytes(req, "key", argv[0], strlen(argv[0]));
	if (argc >= 2)
		set_bytes(req, "value", argv[1], strlen(argv[1]));
	else if (!p_ign_val) {
		buf_init(&in);
		if (v3_read_stdin(&in) != 0 || in.len == 0) {
			buf_close(&in);
			json_decref(req);
			return v3_fail(V3_EXIT_BAD_ARGS, "put command needs 1 argument and input from "
				"stdin or 2 arguments");
		}
		set_bytes(req, "value", (const char *)in.data, in.len);
		buf_close(&in);
	}
	if (lease != 0)
		json_object_set_new(req, "lease", json_integer(lease));
	if (p_prev)
		json_object_set_new(req, "prev_kv", json_true());
	if (p_ign_val)
		json_object_set_new(req, "ignore_value", json_true());
	if (p_ign_lease)
		json_object_set_new(req, "ignore_lease", json_true());
	*out = req;
	return V3_EXIT_OK;
}

void v3_put_print(struct v3_ctx *c, json_t *resp)
{
	json_t *prev = json_object_get(resp, "prev_kv");

	if (c->out == V3_OUT_JSON)
		v3_print_json(resp);
	else if (c->out == V3_OUT_FIELDS) {
		v3_fields_header(resp);
		if (prev)
			v3_fields_kv(c, prev, "Prev");
	} else {
		puts("OK");
		if (prev)
			v3_simple_kv(c, prev, 0, 0);
	}
}

static int put_run(struct v3_ctx *c, int argc, char **argv)
{
	json_t *req, *resp = NULL;
	int rc;

	if (c->out == V3_OUT_TABLE)
		return v3_fail(V3_EXIT_BAD_FEATURE, "table not supported as output format");
	if ((rc = put_build(argc, argv, &req)) != 0)
		return rc;
	rc = v3_call(c, "/v3/kv/put", req, &resp);
	json_decref(req);
	if (rc != 0)
		return rc;
	v3_put_print(c, resp);
	json_decref(resp);
	return V3_EXIT_OK;
}

/* ---- get ---- */

static const char *g_consistency = "l", *g_order = "", *g_sort = "";
static int g_prefix, g_from_key, g_keys_only, g_value_only, g_count_only;
static int64_t g_limit, g_rev;
static struct v3_flag get_flags[] = {
	{ "consistency", 0, V3_FLAG_STRING, &g_consistency, "\"l\"", "Linearizable(l) or Serializable(s)", 0 },
	{ "order", 0, V3_FLAG_STRING, &g_order, "\"\"", "Order of results; ASCEND or DESCEND (ASCEND by default)", 0 },
	{ "sort-by", 0, V3_FLAG_STRING, &g_sort, "\"\"", "Sort target; CREATE, KEY, MODIFY, VALUE, or VERSION", 0 },
	{ "limit", 0, V3_FLAG_INT, &g_limit, "0", "Maximum number of results", 0 },
	{ "prefix", 0, V3_FLAG_BOOL, &g_prefix, "false", "Get keys with matching prefix", 0 },
	{ "from-key", 0, V3_FLAG_BOOL, &g_from_key, "false", "Get keys that are greater than or equal to the given key using byte compare", 0 },
	{ "rev", 0, V3_FLAG_INT, &g_rev, "0", "Specify the kv revision", 0 },
	{ "keys-only", 0, V3_FLAG_BOOL, &g_keys_only, "false", "Get only the keys", 0 },
	{ "print-value-only", 0, V3_FLAG_BOOL, &g_value_only, "false", "Only write values when using the \"simple\" output format", 0 },
	{ "count-only", 0, V3_FLAG_BOOL, &g_count_only, NULL, "Get only the count (cetcdctl, as etcdctl 3.5; fields output only)", 0 },
	{ NULL, 0, 0, NULL, NULL, NULL, 0 },
};

static int get_opts(json_t *req)
{
	static const char *const targets[][2] = { { "CREATE", "CREATE" }, { "KEY", "KEY" },
		{ "MODIFY", "MOD" }, { "VALUE", "VALUE" }, { "VERSION", "VERSION" } };
	const char *order = NULL;

	if (strcmp(g_consistency, "l") != 0 && strcmp(g_consistency, "s") != 0)
		return v3_fail(V3_EXIT_BAD_FEATURE, "unknown consistency flag \"%s\"", g_consistency);
	if (strcmp(g_consistency, "s") == 0)
		json_object_set_new(req, "serializable", json_true());
	if (strcmp(g_order, "ASCEND") == 0 || strcmp(g_order, "DESCEND") == 0)
		order = g_order;
	else if (*g_order)
		return v3_fail(V3_EXIT_BAD_FEATURE, "bad sort order %s", g_order);
	if (*g_sort) {
		size_t i;
		for (i = 0; i < 5 && strcmp(g_sort, targets[i][0]) != 0; i++)
			;
		if (i == 5)
			return v3_fail(V3_EXIT_BAD_FEATURE, "bad sort target %s", g_sort);
		json_object_set_new(req, "sort_target", json_string(targets[i][1]));
		if (order == NULL)
			order = "ASCEND";
	}
	if (order)
		json_object_set_new(req, "sort_order", json_string(order));
	if (g_limit)
		json_object_set_new(req, "limit", json_integer(g_limit));
	if (g_rev)
		json_object_set_new(req, "revision", json_integer(g_rev));
	if (g_keys_only)
		json_object_set_new(req, "keys_only", json_true());
	if (g_count_only)
		json_object_set_new(req, "count_only", json_true());
	return 0;
}

void v3_get_print(struct v3_ctx *c, json_t *resp)
{
	json_t *kvs = json_object_get(resp, "kvs"), *kv;
	size_t i;

	if (c->out == V3_OUT_JSON) {
		v3_print_json(resp);
		return;
	}
	if (c->out == V3_OUT_FIELDS) {
		v3_fields_header(resp);
		json_array_foreach(kvs, i, kv)
			v3_fields_kv(c, kv, "");
		printf("\"More\" : %s\n", v3_jbool(resp, "more") ? "true" : "false");
		printf("\"Count\" : %" PRId64 "\n", v3_jint(resp, "count"));
		return;
	}
	json_array_foreach(kvs, i, kv)
		v3_simple_kv(c, kv, g_keys_only, g_value_only);
}

static int get_build(int argc, char **argv, json_t **out)
{
	json_t *req;
	int rc;

	*out = NULL;
	if (argc == 0)
		return v3_fail(V3_EXIT_BAD_ARGS, "get command needs one argument as key and an "
			"optional argument as range_end");
	req = json_object();
	if ((rc = get_opts(req)) != 0 ||
		(rc = key_range(req, argc, argv, g_prefix, g_from_key, "get")) != 0) {
		json_decref(req);
		return rc;
	}
	*out = req;
	return V3_EXIT_OK;
}

static int get_run(struct v3_ctx *c, int argc, char **argv)
{
	json_t *req, *resp = NULL;
	int rc;

	if (argc > 2)
		return V3_EXIT_OK; /* etcdctl 3.4 silently does nothing */
	if (argc > 0 && g_count_only && c->out != V3_OUT_FIELDS)
		return v3_fail(V3_EXIT_BAD_ARGS, "--count-only is only for `--write-out=fields`");
	if (argc > 0 && c->out == V3_OUT_TABLE)
		return v3_fail(V3_EXIT_BAD_FEATURE, "table not supported as output format");
	if ((rc = get_build(argc, argv, &req)) != 0)
		return rc;
	rc = v3_call(c, "/v3/kv/range", req, &resp);
	json_decref(req);
	if (rc != 0)
		return rc;
	v3_get_print(c, resp);
	json_decref(resp);
	return V3_EXIT_OK;
}

/* ---- del ---- */

static int d_prefix, d_prev, d_from_key;
static struct v3_flag del_flags[] = {
	{ "prefix", 0, V3_FLAG_BOOL, &d_prefix, "false", "delete keys with matching prefix", 0 },
	{ "prev-kv", 0, V3_FLAG_BOOL, &d_prev, "false", "return deleted key-value pairs", 0 },
	{ "from-key", 0, V3_FLAG_BOOL, &d_from_key, "false", "delete keys that are greater than or equal to the given key using byte compare", 0 },
	{ NULL, 0, 0, NULL, NULL, NULL, 0 },
};

static int del_build(int argc, char **argv, json_t **out)
{
	json_t *req;
	int rc;

	*out = NULL;
	if (argc == 0 || argc > 2)
		return v3_fail(V3_EXIT_BAD_ARGS, "del command needs one argument as key and an "
			"optional argument as range_end");
	req = json_object();
	if ((rc = key_range(req, argc, argv, d_prefix, d_from_key, "del")) != 0) {
		json_decref(req);
		return rc;
	}
	if (d_prev)
		json_object_set_new(req, "prev_kv", json_true());
	*out = req;
	return V3_EXIT_OK;
}

void v3_del_print(struct v3_ctx *c, json_t *resp)
{
	json_t *kvs = json_object_get(resp, "prev_kvs"), *kv;
	size_t i;

	if (c->out == V3_OUT_JSON)
		v3_print_json(resp);
	else if (c->out == V3_OUT_FIELDS) {
		v3_fields_header(resp);
		printf("\"Deleted\" : %" PRId64 "\n", v3_jint(resp, "deleted"));
		json_array_foreach(kvs, i, kv)
			v3_fields_kv(c, kv, "Prev");
	} else {
		printf("%" PRId64 "\n", v3_jint(resp, "deleted"));
		json_array_foreach(kvs, i, kv)
			v3_simple_kv(c, kv, 0, 0);
	}
}

static int del_run(struct v3_ctx *c, int argc, char **argv)
{
	json_t *req, *resp = NULL;
	int rc;

	if (c->out == V3_OUT_TABLE && argc > 0)
		return v3_fail(V3_EXIT_BAD_FEATURE, "table not supported as output format");
	if ((rc = del_build(argc, argv, &req)) != 0)
		return rc;
	rc = v3_call(c, "/v3/kv/deleterange", req, &resp);
	json_decref(req);
	if (rc != 0)
		return rc;
	v3_del_print(c, resp);
	json_decref(resp);
	return V3_EXIT_OK;
}

/* Resets every kv flag to its default (txn parses one op line at a time). */
static void kv_flags_reset(void)
{
	p_lease = "0";
	p_prev = p_ign_val = p_ign_lease = 0;
	g_consistency = "l";
	g_order = g_sort = "";
	g_prefix = g_from_key = g_keys_only = g_value_only = g_count_only = 0;
	g_limit = g_rev = 0;
	d_prefix = d_prev = d_from_key = 0;
}

extern const struct v3_cmd v3_kv_cmds[];

int v3_kv_op(struct v3_ctx *c, int argc, char **argv, json_t **op)
{
	static const char *const names[] = { "put", "get", "del" };
	static const char *const keys[] = { "request_put", "request_range", "request_delete_range" };
	char *pos[64];
	int npos = 0, rc, k;
	json_t *req = NULL;

	*op = NULL;
	for (k = 0; k < 3 && strcmp(argv[0], names[k]) != 0; k++)
		;
	if (k == 3 || argc > 64)
		return -1;
	kv_flags_reset();
	rc = v3_parse(c, &v3_kv_cmds[k], argc - 1, argv + 1, pos, &npos);
	if (rc != 0)
		return -1;
	rc = k == 0 ? put_build(npos, pos, &req) : k == 1 ? get_build(npos, pos, &req)
							 : del_build(npos, pos, &req);
	if (rc != 0)
		return rc;
	*op = json_pack("{s:o}", keys[k], req);
	return V3_EXIT_OK;
}

const struct v3_cmd v3_kv_cmds[] = {
	{ "put", "put [options] <key> <value> (<value> can also be given from stdin)",
		"Puts the given key into the store",
		"Puts the given key into the store.\n\n"
		"When <value> begins with '-', <value> is interpreted as a flag.\n"
		"Insert '--' for workaround:\n\n"
		"$ put <key> -- <value>\n"
		"$ put -- <key> <value>\n\n"
		"If <value> isn't given as a command line argument and '--ignore-value' is not specified,\n"
		"this command tries to read the value from standard input.\n\n"
		"If <lease> isn't given as a command line argument and '--ignore-lease' is not specified,\n"
		"this command tries to read the value from standard input.\n\n"
		"For example,\n"
		"$ cat file | put <key>\n"
		"will store the content of the file to <key>.",
		put_flags, put_run, 0 },
	{ "get", "get [options] <key> [range_end]", "Gets the key or a range of keys", NULL,
		get_flags, get_run, 0 },
	{ "del", "del [options] <key> [range_end]",
		"Removes the specified key or range of keys [key, range_end)", NULL, del_flags,
		del_run, 0 },
	{ NULL, NULL, NULL, NULL, NULL, NULL, 0 },
};
