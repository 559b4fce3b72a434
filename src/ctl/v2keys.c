/* v2keys.c - the v2 keys commands of cetcdctl (set, get, update, mk,
 * mkdir, setdir, updatedir, rm, rmdir, ls) and the way etcdctl 2 prints
 * an answer (-o simple | extended | json) or an error line
 * ("Error:  100: Key not found (/foo) [12]", exit 4).
 */
#include "config.h"
#include "ctl/v2_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/v2json.h"
#include "util/err.h"

/* ---- rendering ------------------------------------------------------ */

/* json_str appends s (NULL: "") as Go's encoding/json writes a string. */
static void json_str(struct buf *b, const char *s)
{
	v2json_str(b, s ? s : "", s ? strlen(s) : 0);
}

static void json_int(struct buf *b, const char *name, json_int_t v)
{
	char t[64];
	int n = snprintf(t, sizeof(t), ",\"%s\":%" JSON_INTEGER_FORMAT, name, v);

	buf_put(b, t, (size_t)n);
}

/* A client.Node as etcd's Go client marshals it (field order and
 * omitempty as its struct tags say). */
static void json_node(struct buf *b, json_t *n)
{
	json_t *nodes = json_object_get(n, "nodes");
	const char *exp = json_string_value(json_object_get(n, "expiration"));
	json_int_t ttl = json_integer_value(json_object_get(n, "ttl"));

	if (n == NULL) {
		buf_put(b, "null", 4);
		return;
	}
	buf_put(b, "{\"key\":", 7);
	json_str(b, json_string_value(json_object_get(n, "key")));
	if (json_is_true(json_object_get(n, "dir")))
		buf_put(b, ",\"dir\":true", 11);
	buf_put(b, ",\"value\":", 9);
	json_str(b, json_string_value(json_object_get(n, "value")));
	buf_put(b, ",\"nodes\":", 9);
	if (json_array_size(nodes) == 0) {
		buf_put(b, "null", 4);
	} else {
		buf_put_u8(b, '[');
		for (size_t i = 0; i < json_array_size(nodes); i++) {
			if (i > 0)
				buf_put_u8(b, ',');
			json_node(b, json_array_get(nodes, i));
		}
		buf_put_u8(b, ']');
	}
	json_int(b, "createdIndex", json_integer_value(json_object_get(n, "createdIndex")));
	json_int(b, "modifiedIndex", json_integer_value(json_object_get(n, "modifiedIndex")));
	if (exp != NULL) {
		buf_put(b, ",\"expiration\":", 14);
		json_str(b, exp);
	}
	if (ttl != 0)
		json_int(b, "ttl", ttl);
	buf_put_u8(b, '}');
}

static const char *jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s != NULL ? s : "";
}

static json_int_t jint(json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

void v2_print_response(struct v2_ctx *x, const struct ctl_resp *r, json_t *j)
{
	const char *action = jstr(j, "action");
	json_t *node = json_object_get(j, "node"), *prev = json_object_get(j, "prevNode");
	int del = strcmp(action, "delete") == 0;

	if (strcmp(x->output, "extended") == 0) {
		printf("Key: %s\n", jstr(node, "key"));
		printf("Created-Index: %" JSON_INTEGER_FORMAT "\n", jint(node, "createdIndex"));
		printf("Modified-Index: %" JSON_INTEGER_FORMAT "\n", jint(node, "modifiedIndex"));
		if (prev != NULL)
			printf("PrevNode.Value: %s\n", jstr(prev, "value"));
		printf("TTL: %" JSON_INTEGER_FORMAT "\n", jint(node, "ttl"));
		printf("Index: %s\n", r->x_etcd_index != NULL ? r->x_etcd_index : "0");
		if (!del)
			printf("\n%s\n", jstr(node, "value"));
	} else if (strcmp(x->output, "json") == 0) {
		struct buf b;

		buf_init(&b);
		buf_put(&b, "{\"action\":", 10);
		json_str(&b, action);
		buf_put(&b, ",\"node\":", 8);
		json_node(&b, node);
		buf_put(&b, ",\"prevNode\":", 12);
		json_node(&b, prev);
		buf_put(&b, "}\n", 2);
		fwrite(b.data, 1, b.len, stdout);
		buf_close(&b);
	} else if (strcmp(x->output, "simple") == 0) {
		if (!del)
			printf("%s\n", jstr(node, "value"));
		else
			printf("PrevNode.Value: %s\n", jstr(prev, "value"));
	}
	/* etcdctl prints nothing for an unknown format */
}

/* An error answer of the keys API; the exit code. */
int v2_key_error(struct v2_ctx *x, const struct ctl_resp *r, json_t *j)
{
	(void)x;
	if (json_is_integer(json_object_get(j, "errorCode"))) {
		fprintf(stderr, "Error:  %" JSON_INTEGER_FORMAT ": %s (%s) [%" JSON_INTEGER_FORMAT "]\n",
			jint(j, "errorCode"), jstr(j, "message"), jstr(j, "cause"), jint(j, "index"));
		return V2_EXIT_SERVER;
	}
	if (r->body.len >= 3 && memcmp(r->body.data, "404", 3) == 0)
		fprintf(stderr, "Error:  invalid character 'p' after top-level value\n");
	else
		fprintf(stderr, "Error:  unexpected status code %d\n", r->status);
	return V2_EXIT_SERVER;
}

/* ---- commands ------------------------------------------------------- */

enum {
	F_TTL, F_SWAPV, F_SWAPI, F_SORT, F_QUORUM, F_INORDER, F_DIR, F_REC, F_WITHV, F_WITHI,
	F_P, F_N
};

/* Which flags each command has, as etcdctl 3.4 defines them. */
static const struct {
	const char *cmd;
	unsigned flags;
} cmd_flags[] = {
	{"set", 1u << F_TTL | 1u << F_SWAPV | 1u << F_SWAPI},
	{"get", 1u << F_SORT | 1u << F_QUORUM},
	{"update", 1u << F_TTL},
	{"mk", 1u << F_INORDER | 1u << F_TTL},
	{"mkdir", 1u << F_TTL},
	{"setdir", 1u << F_TTL},
	{"updatedir", 1u << F_TTL},
	{"rm", 1u << F_DIR | 1u << F_REC | 1u << F_WITHV | 1u << F_WITHI},
	{"rmdir", 0},
	{"ls", 1u << F_SORT | 1u << F_REC | 1u << F_P | 1u << F_QUORUM},
};

static size_t flags_for(const char *cmd, struct v2_flag *out, int *idx)
{
	static const struct v2_flag all[F_N] = {
		[F_TTL] = {"ttl", V2F_INT, 0, 0, NULL, 0},
		[F_SWAPV] = {"swap-with-value", V2F_STR, 0, 0, NULL, 0},
		[F_SWAPI] = {"swap-with-index", V2F_INT, 0, 0, NULL, 0},
		[F_SORT] = {"sort", V2F_BOOL, 0, 0, NULL, 0},
		[F_QUORUM] = {"quorum, q", V2F_BOOL, 0, 0, NULL, 0},
		[F_INORDER] = {"in-order", V2F_BOOL, 0, 0, NULL, 0},
		[F_DIR] = {"dir", V2F_BOOL, 0, 0, NULL, 0},
		[F_REC] = {"recursive, r", V2F_BOOL, 0, 0, NULL, 0},
		[F_WITHV] = {"with-value", V2F_STR, 0, 0, NULL, 0},
		[F_WITHI] = {"with-index", V2F_INT, 0, 0, NULL, 0},
		[F_P] = {"p", V2F_BOOL, 0, 0, NULL, 0},
	};
	unsigned mask = 0;
	size_t n = 0;

	for (size_t i = 0; i < sizeof(cmd_flags) / sizeof(cmd_flags[0]); i++)
		if (strcmp(cmd_flags[i].cmd, cmd) == 0)
			mask = cmd_flags[i].flags;
	for (int f = 0; f < F_N; f++) {
		idx[f] = -1;
		if (mask & 1u << f) {
			idx[f] = (int)n;
			out[n++] = all[f];
		}
	}
	return n;
}

struct kcmd {
	struct v2_ctx *x;
	const char *cmd;
	struct v2_flag fl[F_N];
	int idx[F_N];
	char **pos;
	int npos;
};

static struct v2_flag *kf(struct kcmd *k, int f)
{
	static struct v2_flag none;

	if (k->idx[f] < 0) {
		memset(&none, 0, sizeof(none));
		return &none;
	}
	return &k->fl[k->idx[f]];
}

static void q_add(struct buf *q, const char *name, const char *val)
{
	buf_put_u8(q, q->len == 0 ? '?' : '&');
	buf_put(q, name, strlen(name));
	buf_put_u8(q, '=');
	v2_query_escape(q, val);
}

static void q_addi(struct buf *q, const char *name, int64_t v)
{
	char t[32];

	snprintf(t, sizeof(t), "%" PRId64, v);
	q_add(q, name, t);
}

/* The value argument, or all of stdin (etcdctl's argOrStdin). */
static char *value_arg(struct kcmd *k, int i)
{
	struct buf b;
	char chunk[4096];
	ssize_t n;

	if (k->npos > i)
		return strdup(k->pos[i]);
	buf_init(&b);
	while ((n = read(0, chunk, sizeof(chunk))) > 0)
		buf_put(&b, chunk, (size_t)n);
	if (b.len == 0 || b.oom) {
		buf_close(&b);
		return NULL;
	}
	buf_put_u8(&b, '\0');
	return (char *)buf_take(&b, NULL);
}

/* ls in simple output: the keys below, dirs with "/" under -p. */
static void ls_print(json_t *n, int p, int top)
{
	json_t *nodes = json_object_get(n, "nodes");
	int dir = json_is_true(json_object_get(n, "dir"));

	if (top) {
		if (!dir)
			printf("%s\n", jstr(n, "key"));
	} else {
		printf("%s%s\n", jstr(n, "key"), dir && p ? "/" : "");
	}
	for (size_t i = 0; i < json_array_size(nodes); i++)
		ls_print(json_array_get(nodes, i), p, 0);
}

/* Sends the request and prints the answer the way the command does. */
static int k_send(struct kcmd *k, const char *method, const char *key, struct buf *q,
	const char *form, int print_mode)
{
	char path[4096];
	struct ctl_resp r;
	json_t *j;
	int rc;

	v2_keys_path(key, path, sizeof(path));
	if (q->len > 0) {
		size_t pl = strlen(path);
		snprintf(path + pl, sizeof(path) - pl, "%.*s", (int)q->len, (const char *)q->data);
	}
	ctl_resp_init(&r);
	if ((rc = v2_do(k->x, method, path, form, &r, V2_EXIT_SERVER)) != 0) {
		ctl_resp_close(&r);
		return rc;
	}
	j = json_loadb(r.body.data != NULL ? (const char *)r.body.data : "", r.body.len, 0, NULL);
	if (r.status < 200 || r.status >= 300) {
		rc = v2_key_error(k->x, &r, j);
	} else {
		json_t *node = json_object_get(j, "node");
		int dir = json_is_true(json_object_get(node, "dir"));

		rc = 0;
		if (print_mode == 1 && dir) { /* get */
			fprintf(stderr, "%s: is a directory\n", jstr(node, "key"));
			rc = V2_EXIT_BADARGS;
		} else if (print_mode == 2) { /* dir commands: quiet in simple */
			if (strcmp(k->x->output, "simple") != 0)
				v2_print_response(k->x, &r, j);
		} else if (print_mode == 3) { /* rm: quiet for a dir in simple */
			if (!dir || strcmp(k->x->output, "simple") != 0)
				v2_print_response(k->x, &r, j);
		} else if (print_mode == 4) { /* ls */
			if (strcmp(k->x->output, "simple") == 0) {
				ls_print(node, kf(k, F_P)->b, 1);
			} else {
				v2_print_response(k->x, &r, j);
			}
		} else {
			v2_print_response(k->x, &r, j);
		}
	}
	json_decref(j);
	ctl_resp_close(&r);
	return rc;
}

static int k_set_like(struct kcmd *k, const char *prev_exist, int dir, int quiet)
{
	struct buf q, form;
	char *value = NULL;
	int rc;

	if (k->npos < 1)
		return v2_fail(V2_EXIT_BADARGS, "key required");
	if (!dir && (value = value_arg(k, 1)) == NULL)
		return v2_fail(V2_EXIT_BADARGS, "value required");
	buf_init(&q);
	buf_init(&form);
	/* url.Values.Encode sorts by name */
	if (dir)
		q_add(&q, "dir", "true");
	if (prev_exist != NULL)
		q_add(&q, "prevExist", prev_exist);
	if (kf(k, F_SWAPI)->i != 0)
		q_addi(&q, "prevIndex", kf(k, F_SWAPI)->i);
	if (kf(k, F_SWAPV)->s != NULL && kf(k, F_SWAPV)->s[0] != '\0')
		q_add(&q, "prevValue", kf(k, F_SWAPV)->s);
	if (kf(k, F_TTL)->i > 0) {
		buf_put(&form, "ttl=", 4);
		char t[32];
		snprintf(t, sizeof(t), "%" PRId64, kf(k, F_TTL)->i);
		buf_put(&form, t, strlen(t));
	}
	if (!dir) {
		if (form.len > 0)
			buf_put_u8(&form, '&');
		buf_put(&form, "value=", 6);
		v2_query_escape(&form, value);
	}
	buf_put_u8(&form, '\0');
	rc = k_send(k, "PUT", k->pos[0], &q, (const char *)form.data, quiet ? 2 : 0);
	free(value);
	buf_close(&q);
	buf_close(&form);
	return rc;
}

static int k_mk_in_order(struct kcmd *k)
{
	struct buf q, form;
	char *value;
	int rc;

	if ((value = value_arg(k, 1)) == NULL)
		return v2_fail(V2_EXIT_BADARGS, "value required");
	buf_init(&q);
	buf_init(&form);
	if (kf(k, F_TTL)->i > 0) {
		char t[40];
		snprintf(t, sizeof(t), "ttl=%" PRId64 "&", kf(k, F_TTL)->i);
		buf_put(&form, t, strlen(t));
	}
	buf_put(&form, "value=", 6);
	v2_query_escape(&form, value);
	buf_put_u8(&form, '\0');
	rc = k_send(k, "POST", k->pos[0], &q, (const char *)form.data, 0);
	free(value);
	buf_close(&q);
	buf_close(&form);
	return rc;
}

static int k_get(struct kcmd *k, int ls)
{
	struct buf q;
	const char *key = "/";
	int rc;

	if (!ls && k->npos < 1)
		return v2_fail(V2_EXIT_BADARGS, "key required");
	if (k->npos > 0)
		key = k->pos[0];
	buf_init(&q);
	q_add(&q, "quorum", kf(k, F_QUORUM)->b ? "true" : "false");
	q_add(&q, "recursive", kf(k, F_REC)->b ? "true" : "false");
	q_add(&q, "sorted", kf(k, F_SORT)->b ? "true" : "false");
	rc = k_send(k, "GET", key, &q, NULL, ls ? 4 : 1);
	buf_close(&q);
	return rc;
}

static int k_rm(struct kcmd *k, int rmdir)
{
	struct buf q;
	int rc;

	if (k->npos < 1)
		return v2_fail(V2_EXIT_BADARGS, "key required");
	buf_init(&q);
	if (rmdir || kf(k, F_DIR)->b)
		q_add(&q, "dir", "true");
	if (kf(k, F_WITHI)->i != 0)
		q_addi(&q, "prevIndex", kf(k, F_WITHI)->i);
	if (kf(k, F_WITHV)->s != NULL && kf(k, F_WITHV)->s[0] != '\0')
		q_add(&q, "prevValue", kf(k, F_WITHV)->s);
	if (kf(k, F_REC)->b)
		q_add(&q, "recursive", "true");
	rc = k_send(k, "DELETE", k->pos[0], &q, NULL, 3);
	buf_close(&q);
	return rc;
}

int v2_cmd_keys(struct v2_ctx *x, const char *cmd, int argc, char **argv)
{
	struct kcmd k;
	size_t n;
	int rc;

	memset(&k, 0, sizeof(k));
	k.x = x;
	k.cmd = cmd;
	n = flags_for(cmd, k.fl, k.idx);
	if (v2_flags_parse(x, cmd, argc, argv, k.fl, n, &k.pos, &k.npos) != 0)
		return V2_EXIT_BADARGS;
	if (strcmp(cmd, "set") == 0)
		rc = k_set_like(&k, NULL, 0, 0);
	else if (strcmp(cmd, "update") == 0)
		rc = k_set_like(&k, "true", 0, 0);
	else if (strcmp(cmd, "mk") == 0 && kf(&k, F_INORDER)->b && k.npos >= 1)
		rc = k_mk_in_order(&k);
	else if (strcmp(cmd, "mk") == 0)
		rc = k_set_like(&k, "false", 0, 0);
	else if (strcmp(cmd, "mkdir") == 0)
		rc = k_set_like(&k, "false", 1, 1);
	else if (strcmp(cmd, "setdir") == 0)
		rc = k_set_like(&k, NULL, 1, 1);
	else if (strcmp(cmd, "updatedir") == 0)
		rc = k_set_like(&k, "true", 1, 1);
	else if (strcmp(cmd, "get") == 0)
		rc = k_get(&k, 0);
	else if (strcmp(cmd, "ls") == 0)
		rc = k_get(&k, 1);
	else if (strcmp(cmd, "rm") == 0)
		rc = k_rm(&k, 0);
	else
		rc = k_rm(&k, 1);
	free(k.pos);
	return rc;
}
