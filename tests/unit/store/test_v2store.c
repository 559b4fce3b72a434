/* test_v2store.c - the v2 store against bytes copied from etcd 3.4.23
 * (--enable-v2): actions, nodes, errors, indexes, TTLs, expiry, history,
 * statistics, persistence.
 *
 * Each test starts like a fresh single-member etcd: three internal writes
 * under /0 first, so the first user write has index 4 as in etcd. Times are
 * fixed (T0) so expirations and ttls are exact.
 */
#include "config.h"
#include "store_test.h"

#include "store/env.h"
#include "store/v2json.h"
#include "store/v2query.h"
#include "store/v2store.h"
#include "util/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define T0 1800000000000000000LL /* 2027-01-15T08:00:00Z */
#define SEC 1000000000LL

static char dir[64];
static DB_ENV *env;
static struct v2store *st;
static struct v2_result res;
static char err[256];

static void rm_rf(const char *d)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
	ck_assert_int_eq(system(cmd), 0);
}

static void open_store(void)
{
	ck_assert_msg(store_env_open(&env, dir, 1, err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(v2store_open(&st, env, 1, err, sizeof(err)) == 0, "%s", err);
}

static void close_store(void)
{
	v2store_free(st);
	store_env_close(env);
	st = NULL;
	env = NULL;
}

static struct v2_req req(int op, const char *path, const char *value)
{
	struct v2_req r;

	memset(&r, 0, sizeof(r));
	r.op = (uint8_t)op;
	r.prev_exist = -1;
	r.time_ns = T0;
	r.path = path;
	r.path_len = path ? strlen(path) : 0;
	r.value = value;
	r.value_len = value ? strlen(value) : 0;
	return r;
}

/* apply runs one request in its own transaction. */
static void apply(const struct v2_req *r)
{
	DB_TXN *txn = NULL;

	ck_assert_int_eq(env->txn_begin(env, NULL, &txn, 0), 0);
	ck_assert_int_eq(v2store_apply(st, txn, r, &res), 0);
	ck_assert_int_eq(txn->commit(txn, 0), 0);
}

#define BODY_IS(expect) \
	ck_assert_str_eq(strndup_body(), (expect))

static char body_copy[1 << 16];
static const char *strndup_body(void)
{
	size_t n = res.body.len < sizeof(body_copy) - 1 ? res.body.len : sizeof(body_copy) - 1;

	memcpy(body_copy, res.body.data ? (const char *)res.body.data : "", n);
	body_copy[n] = 0;
	return body_copy;
}

/* put/post/del helpers check status, X-Etcd-Index and body at once. */
static void expect(int status, uint64_t index, const char *body)
{
	ck_assert_int_eq(res.http_status, status);
	ck_assert_uint_eq(res.etcd_index, index);
	BODY_IS(body);
}

static void set(const char *path, const char *value)
{
	struct v2_req r = req(V2_OP_PUT, path, value);
	apply(&r);
}

static void get(const char *path, int recursive)
{
	ck_assert_int_eq(v2store_get(st, path, strlen(path), recursive, 1, T0, &res), 0);
}

static void fresh_etcd(void)
{
	struct v2_req r = req(V2_OP_PUT, "/0/members/8e9e05c52164694d/raftAttributes",
	                      "{\"peerURLs\":[\"http://127.0.0.1:22380\"]}");

	r.internal = 1;
	r.prev_exist = 0;
	apply(&r);
	r = req(V2_OP_PUT, "/0/members/8e9e05c52164694d/attributes", "{\"name\":\"default\"}");
	r.internal = 1;
	apply(&r);
	r = req(V2_OP_PUT, "/0/version", "3.4.0");
	r.internal = 1;
	apply(&r);
	ck_assert_uint_eq(v2store_current_index(st), 3);
}

static void setup(void)
{
	strcpy(dir, "/tmp/cetcd-store-XXXXXX");
	ck_assert(mkdtemp(dir) != NULL);
	open_store();
	v2_result_init(&res);
	fresh_etcd();
}

static void teardown(void)
{
	v2_result_close(&res);
	close_store();
	rm_rf(dir);
}

START_TEST(test_set_get)
{
	struct v2_req r;

	get("/", 0);
	expect(200, 3, "{\"action\":\"get\",\"node\":{\"dir\":true}}\n");
	set("/foo", "a<b>");
	expect(201, 4, "{\"action\":\"set\",\"node\":{\"key\":\"/foo\",\"value\":\"a\\u003cb\\u003e\",\"modifiedIndex\":4,\"createdIndex\":4}}\n");
	ck_assert_uint_eq(res.nevents, 1);
	ck_assert_str_eq(res.events[0].action, "set");
	ck_assert_uint_eq(res.events[0].key_len, 4);
	ck_assert(memcmp(res.events[0].key, "/foo", 4) == 0);
	ck_assert_int_eq(res.events[0].internal, 0);
	ck_assert_uint_eq(res.events[0].modified_index, 4);
	ck_assert_uint_eq(res.events[0].body_len, res.body.len);
	set("/foo", "bar");
	expect(200, 5, "{\"action\":\"set\",\"node\":{\"key\":\"/foo\",\"value\":\"bar\",\"modifiedIndex\":5,\"createdIndex\":5},"
	               "\"prevNode\":{\"key\":\"/foo\",\"value\":\"a\\u003cb\\u003e\",\"modifiedIndex\":4,\"createdIndex\":4}}\n");
	get("/foo", 0);
	expect(200, 5, "{\"action\":\"get\",\"node\":{\"key\":\"/foo\",\"value\":\"bar\",\"modifiedIndex\":5,\"createdIndex\":5}}\n");
	get("//foo/", 0);
	expect(200, 5, "{\"action\":\"get\",\"node\":{\"key\":\"/foo\",\"value\":\"bar\",\"modifiedIndex\":5,\"createdIndex\":5}}\n");
	get("/nope", 0);
	expect(404, 5, "{\"errorCode\":100,\"message\":\"Key not found\",\"cause\":\"/nope\",\"index\":5}\n");
	ck_assert_int_eq(res.error_code, 100);
	get("/nope/deeper", 0);
	expect(404, 5, "{\"errorCode\":100,\"message\":\"Key not found\",\"cause\":\"/nope\",\"index\":5}\n");
	get("/foo/deeper", 0);
	expect(400, 5, "{\"errorCode\":104,\"message\":\"Not a directory\",\"cause\":\"/foo\",\"index\":5}\n");

	/* Go's escaping: HTML-safe, \u00XX controls, U+2028, invalid UTF-8 */
	set("/esc", "a<b>&c\"\\\b\f\x01\t\n\r\x7f\xc3\xa9\xe2\x80\xa8\xff/");
	expect(201, 6, "{\"action\":\"set\",\"node\":{\"key\":\"/esc\",\"value\":\"a\\u003cb\\u003e\\u0026c\\\"\\\\\\u0008\\u000c\\u0001\\t\\n\\r\x7f\xc3\xa9\\u2028\\ufffd/\",\"modifiedIndex\":6,\"createdIndex\":6}}\n");
	/* noValueOnSuccess */
	r = req(V2_OP_PUT, "/esc", "1");
	r.no_value_on_success = 1;
	apply(&r);
	expect(200, 7, "{\"action\":\"set\"}\n");
	ck_assert_uint_eq(res.nevents, 1); /* watchers still get the full event */
	ck_assert(strstr(res.events[0].body, "\"prevNode\"") != NULL);
	/* an empty value is still a "value" */
	set("/empty", "");
	expect(201, 8, "{\"action\":\"set\",\"node\":{\"key\":\"/empty\",\"value\":\"\",\"modifiedIndex\":8,\"createdIndex\":8}}\n");
}
END_TEST

START_TEST(test_errors)
{
	struct v2_req r;

	set("/foo", "bar");
	r = req(V2_OP_PUT, "/foo", "x");
	r.prev_exist = 0;
	apply(&r);
	expect(412, 4, "{\"errorCode\":105,\"message\":\"Key already exists\",\"cause\":\"/foo\",\"index\":4}\n");
	ck_assert_uint_eq(res.nevents, 0);
	set("/foo/bar", "x");
	expect(400, 4, "{\"errorCode\":104,\"message\":\"Not a directory\",\"cause\":\"/foo\",\"index\":4}\n");
	set("/", "x");
	expect(400, 4, "{\"errorCode\":107,\"message\":\"Root is read only\",\"cause\":\"/\",\"index\":4}\n");
	r = req(V2_OP_DELETE, "/", NULL);
	apply(&r);
	expect(400, 4, "{\"errorCode\":107,\"message\":\"Root is read only\",\"cause\":\"/\",\"index\":4}\n");
	r = req(V2_OP_DELETE, "/", NULL);
	r.has_prev_value = 1;
	r.prev_value = "a";
	r.prev_value_len = 1;
	apply(&r);
	expect(403, 4, "{\"errorCode\":102,\"message\":\"Not a file\",\"index\":4}\n");
	r = req(V2_OP_PUT, "/stats", "x");
	r.has_prev_value = 1;
	r.prev_value = "y";
	r.prev_value_len = 1;
	r.prev_index = 1;
	apply(&r);
	expect(404, 4, "{\"errorCode\":100,\"message\":\"Key not found\",\"cause\":\"/stats\",\"index\":4}\n");
	r.path = "/foo";
	r.path_len = 4;
	apply(&r);
	expect(412, 4, "{\"errorCode\":101,\"message\":\"Compare failed\",\"cause\":\"[y != bar] [1 != 4]\",\"index\":4}\n");
	r.prev_index = 0;
	apply(&r);
	expect(412, 4, "{\"errorCode\":101,\"message\":\"Compare failed\",\"cause\":\"[y != bar]\",\"index\":4}\n");
	r.has_prev_value = 0;
	r.prev_index = 3;
	apply(&r);
	expect(412, 4, "{\"errorCode\":101,\"message\":\"Compare failed\",\"cause\":\"[3 != 4]\",\"index\":4}\n");
	r = req(V2_OP_DELETE, "/foo", NULL);
	r.has_prev_value = 1;
	r.prev_value = "y";
	r.prev_value_len = 1;
	apply(&r);
	expect(412, 4, "{\"errorCode\":101,\"message\":\"Compare failed\",\"cause\":\"[y != bar]\",\"index\":4}\n");
	r = req(V2_OP_PUT, "/missing", "x");
	r.prev_exist = 1;
	apply(&r);
	expect(404, 4, "{\"errorCode\":100,\"message\":\"Key not found\",\"cause\":\"/missing\",\"index\":4}\n");
	r = req(V2_OP_PUT, "/", "x");
	r.prev_exist = 1;
	apply(&r);
	expect(400, 4, "{\"errorCode\":107,\"message\":\"Root is read only\",\"cause\":\"/\",\"index\":4}\n");
	r = req(V2_OP_DELETE, "/missing", NULL);
	apply(&r);
	expect(404, 4, "{\"errorCode\":100,\"message\":\"Key not found\",\"cause\":\"/missing\",\"index\":4}\n");
	ck_assert_uint_eq(v2store_current_index(st), 4);
}
END_TEST

START_TEST(test_cas_cad_update)
{
	struct v2_req r;

	set("/foo", "one");
	r = req(V2_OP_PUT, "/foo", "two");
	r.has_prev_value = 1;
	r.prev_value = "one";
	r.prev_value_len = 3;
	apply(&r);
	expect(200, 5, "{\"action\":\"compareAndSwap\",\"node\":{\"key\":\"/foo\",\"value\":\"two\",\"modifiedIndex\":5,\"createdIndex\":4},"
	               "\"prevNode\":{\"key\":\"/foo\",\"value\":\"one\",\"modifiedIndex\":4,\"createdIndex\":4}}\n");
	r = req(V2_OP_PUT, "/foo", "three");
	r.prev_index = 5;
	r.prev_exist = 1;
	apply(&r);
	expect(200, 6, "{\"action\":\"compareAndSwap\",\"node\":{\"key\":\"/foo\",\"value\":\"three\",\"modifiedIndex\":6,\"createdIndex\":4},"
	               "\"prevNode\":{\"key\":\"/foo\",\"value\":\"two\",\"modifiedIndex\":5,\"createdIndex\":4}}\n");
	r = req(V2_OP_PUT, "/foo", "four");
	r.prev_exist = 1;
	apply(&r);
	expect(200, 7, "{\"action\":\"update\",\"node\":{\"key\":\"/foo\",\"value\":\"four\",\"modifiedIndex\":7,\"createdIndex\":4},"
	               "\"prevNode\":{\"key\":\"/foo\",\"value\":\"three\",\"modifiedIndex\":6,\"createdIndex\":4}}\n");
	r = req(V2_OP_PUT, "/new", "v");
	r.prev_exist = 0;
	apply(&r);
	expect(201, 8, "{\"action\":\"create\",\"node\":{\"key\":\"/new\",\"value\":\"v\",\"modifiedIndex\":8,\"createdIndex\":8}}\n");
	r = req(V2_OP_DELETE, "/foo", NULL);
	r.prev_index = 7;
	apply(&r);
	expect(200, 9, "{\"action\":\"compareAndDelete\",\"node\":{\"key\":\"/foo\",\"modifiedIndex\":9,\"createdIndex\":4},"
	               "\"prevNode\":{\"key\":\"/foo\",\"value\":\"four\",\"modifiedIndex\":7,\"createdIndex\":4}}\n");
	r = req(V2_OP_DELETE, "/new", NULL);
	apply(&r);
	expect(200, 10, "{\"action\":\"delete\",\"node\":{\"key\":\"/new\",\"modifiedIndex\":10,\"createdIndex\":8},"
	                "\"prevNode\":{\"key\":\"/new\",\"value\":\"v\",\"modifiedIndex\":8,\"createdIndex\":8}}\n");
	r = req(V2_OP_PUT, "/cas", "x");
	r.no_value_on_success = 1;
	apply(&r);
	expect(201, 11, "{\"action\":\"set\"}\n");
	r = req(V2_OP_DELETE, "/cas", NULL);
	r.no_value_on_success = 1;
	apply(&r);
	expect(200, 12, "{\"action\":\"delete\",\"node\":{\"key\":\"/cas\",\"modifiedIndex\":12,\"createdIndex\":11},"
	                "\"prevNode\":{\"key\":\"/cas\",\"value\":\"x\",\"modifiedIndex\":11,\"createdIndex\":11}}\n");
}
END_TEST

START_TEST(test_dirs)
{
	struct v2_req r;

	r = req(V2_OP_PUT, "/d1", NULL);
	r.dir = 1;
	apply(&r);
	expect(201, 4, "{\"action\":\"set\",\"node\":{\"key\":\"/d1\",\"dir\":true,\"modifiedIndex\":4,\"createdIndex\":4}}\n");
	ck_assert_int_eq(res.events[0].is_dir, 1);
	apply(&r);
	expect(403, 4, "{\"errorCode\":102,\"message\":\"Not a file\",\"cause\":\"/d1\",\"index\":4}\n");
	set("/d1", "1");
	expect(403, 4, "{\"errorCode\":102,\"message\":\"Not a file\",\"cause\":\"/d1\",\"index\":4}\n");
	r = req(V2_OP_DELETE, "/d1", NULL);
	apply(&r);
	expect(403, 4, "{\"errorCode\":102,\"message\":\"Not a file\",\"cause\":\"/d1\",\"index\":4}\n");
	set("/d1/_h", "h");
	expect(201, 5, "{\"action\":\"set\",\"node\":{\"key\":\"/d1/_h\",\"value\":\"h\",\"modifiedIndex\":5,\"createdIndex\":5}}\n");
	set("/d1/a/b", "b");
	expect(201, 6, "{\"action\":\"set\",\"node\":{\"key\":\"/d1/a/b\",\"value\":\"b\",\"modifiedIndex\":6,\"createdIndex\":6}}\n");
	set("/d1/c", "c");
	r = req(V2_OP_DELETE, "/d1", NULL);
	r.dir = 1;
	apply(&r);
	expect(403, 7, "{\"errorCode\":108,\"message\":\"Directory not empty\",\"cause\":\"/d1\",\"index\":7}\n");
	get("/d1", 0);
	expect(200, 7, "{\"action\":\"get\",\"node\":{\"key\":\"/d1\",\"dir\":true,\"nodes\":[{\"key\":\"/d1/a\",\"dir\":true,\"modifiedIndex\":6,\"createdIndex\":6},"
	               "{\"key\":\"/d1/c\",\"value\":\"c\",\"modifiedIndex\":7,\"createdIndex\":7}],\"modifiedIndex\":4,\"createdIndex\":4}}\n");
	get("/d1", 1);
	expect(200, 7, "{\"action\":\"get\",\"node\":{\"key\":\"/d1\",\"dir\":true,\"nodes\":[{\"key\":\"/d1/a\",\"dir\":true,\"nodes\":[{\"key\":\"/d1/a/b\",\"value\":\"b\",\"modifiedIndex\":6,\"createdIndex\":6}],"
	               "\"modifiedIndex\":6,\"createdIndex\":6},{\"key\":\"/d1/c\",\"value\":\"c\",\"modifiedIndex\":7,\"createdIndex\":7}],\"modifiedIndex\":4,\"createdIndex\":4}}\n");
	get("/d1/_h", 0);
	expect(200, 7, "{\"action\":\"get\",\"node\":{\"key\":\"/d1/_h\",\"value\":\"h\",\"modifiedIndex\":5,\"createdIndex\":5}}\n");
	get("/", 1);
	expect(200, 7, "{\"action\":\"get\",\"node\":{\"dir\":true,\"nodes\":[{\"key\":\"/d1\",\"dir\":true,\"nodes\":[{\"key\":\"/d1/a\",\"dir\":true,\"nodes\":[{\"key\":\"/d1/a/b\",\"value\":\"b\",\"modifiedIndex\":6,\"createdIndex\":6}],"
	               "\"modifiedIndex\":6,\"createdIndex\":6},{\"key\":\"/d1/c\",\"value\":\"c\",\"modifiedIndex\":7,\"createdIndex\":7}],\"modifiedIndex\":4,\"createdIndex\":4}]}}\n");
	/* an empty directory has no "nodes" */
	r = req(V2_OP_PUT, "/e", NULL);
	r.dir = 1;
	r.prev_exist = 0;
	apply(&r);
	expect(201, 8, "{\"action\":\"create\",\"node\":{\"key\":\"/e\",\"dir\":true,\"modifiedIndex\":8,\"createdIndex\":8}}\n");
	get("/e", 1);
	expect(200, 8, "{\"action\":\"get\",\"node\":{\"key\":\"/e\",\"dir\":true,\"modifiedIndex\":8,\"createdIndex\":8}}\n");
	/* update of a directory: the event has the new index, the node keeps its own */
	r = req(V2_OP_PUT, "/e", NULL);
	r.dir = 1;
	r.prev_exist = 1;
	apply(&r);
	expect(200, 9, "{\"action\":\"update\",\"node\":{\"key\":\"/e\",\"dir\":true,\"modifiedIndex\":9,\"createdIndex\":8},"
	               "\"prevNode\":{\"key\":\"/e\",\"dir\":true,\"modifiedIndex\":8,\"createdIndex\":8}}\n");
	get("/e", 0);
	expect(200, 9, "{\"action\":\"get\",\"node\":{\"key\":\"/e\",\"dir\":true,\"modifiedIndex\":8,\"createdIndex\":8}}\n");
	r = req(V2_OP_PUT, "/e", "4");
	r.prev_exist = 1;
	apply(&r);
	expect(403, 9, "{\"errorCode\":102,\"message\":\"Not a file\",\"cause\":\"/e\",\"index\":9}\n");
	/* recursive delete takes the subtree */
	r = req(V2_OP_DELETE, "/d1", NULL);
	r.recursive = 1;
	apply(&r);
	expect(200, 10, "{\"action\":\"delete\",\"node\":{\"key\":\"/d1\",\"dir\":true,\"modifiedIndex\":10,\"createdIndex\":4},"
	                "\"prevNode\":{\"key\":\"/d1\",\"dir\":true,\"modifiedIndex\":4,\"createdIndex\":4}}\n");
	get("/d1/a/b", 0);
	expect(404, 10, "{\"errorCode\":100,\"message\":\"Key not found\",\"cause\":\"/d1\",\"index\":10}\n");
	get("/d1/_h", 0);
	ck_assert_int_eq(res.error_code, 100);
	/* an empty directory deletes with dir=true */
	r = req(V2_OP_DELETE, "/e", NULL);
	r.dir = 1;
	apply(&r);
	expect(200, 11, "{\"action\":\"delete\",\"node\":{\"key\":\"/e\",\"dir\":true,\"modifiedIndex\":11,\"createdIndex\":8},"
	                "\"prevNode\":{\"key\":\"/e\",\"dir\":true,\"modifiedIndex\":8,\"createdIndex\":8}}\n");
	/* a file replaced by a directory with set dir=true */
	set("/f", "1");
	r = req(V2_OP_PUT, "/f", NULL);
	r.dir = 1;
	apply(&r);
	expect(200, 13, "{\"action\":\"set\",\"node\":{\"key\":\"/f\",\"dir\":true,\"modifiedIndex\":13,\"createdIndex\":13},"
	                "\"prevNode\":{\"key\":\"/f\",\"value\":\"1\",\"modifiedIndex\":12,\"createdIndex\":12}}\n");
	/* sibling name prefixes stay apart: /f vs /fa, and deep dirs */
	set("/fa/x", "1");
	set("/f/x", "2");
	get("/f", 1);
	expect(200, 15, "{\"action\":\"get\",\"node\":{\"key\":\"/f\",\"dir\":true,\"nodes\":[{\"key\":\"/f/x\",\"value\":\"2\",\"modifiedIndex\":15,\"createdIndex\":15}],\"modifiedIndex\":13,\"createdIndex\":13}}\n");
}
END_TEST

START_TEST(test_ttl)
{
	struct v2_req r;

	r = req(V2_OP_PUT, "/foo", "bar");
	r.expiration_ns = T0 + 100 * SEC + 500000000;
	apply(&r);
	expect(201, 4, "{\"action\":\"set\",\"node\":{\"key\":\"/foo\",\"value\":\"bar\",\"expiration\":\"2027-01-15T08:01:40.5Z\",\"ttl\":101,\"modifiedIndex\":4,\"createdIndex\":4}}\n");
	ck_assert_int_eq(v2store_get(st, "/foo", 4, 0, 0, T0 + 50 * SEC, &res), 0);
	expect(200, 4, "{\"action\":\"get\",\"node\":{\"key\":\"/foo\",\"value\":\"bar\",\"expiration\":\"2027-01-15T08:01:40.5Z\",\"ttl\":51,\"modifiedIndex\":4,\"createdIndex\":4}}\n");
	/* past expiry but not yet synced: ttl 0 is omitted, then negative */
	ck_assert_int_eq(v2store_get(st, "/foo", 4, 0, 0, T0 + 101 * SEC, &res), 0);
	expect(200, 4, "{\"action\":\"get\",\"node\":{\"key\":\"/foo\",\"value\":\"bar\",\"expiration\":\"2027-01-15T08:01:40.5Z\",\"modifiedIndex\":4,\"createdIndex\":4}}\n");
	ck_assert_int_eq(v2store_get(st, "/foo", 4, 0, 0, T0 + 102 * SEC, &res), 0);
	expect(200, 4, "{\"action\":\"get\",\"node\":{\"key\":\"/foo\",\"value\":\"bar\",\"expiration\":\"2027-01-15T08:01:40.5Z\",\"ttl\":-1,\"modifiedIndex\":4,\"createdIndex\":4}}\n");
	/* refresh with a plain PUT replaces the node (a new createdIndex) */
	r = req(V2_OP_PUT, "/foo", NULL);
	r.refresh = 1;
	r.expiration_ns = T0 + 200 * SEC;
	apply(&r);
	expect(200, 5, "{\"action\":\"set\",\"node\":{\"key\":\"/foo\",\"value\":\"bar\",\"expiration\":\"2027-01-15T08:03:20Z\",\"ttl\":200,\"modifiedIndex\":5,\"createdIndex\":5},"
	               "\"prevNode\":{\"key\":\"/foo\",\"value\":\"bar\",\"expiration\":\"2027-01-15T08:01:40.5Z\",\"ttl\":101,\"modifiedIndex\":4,\"createdIndex\":4}}\n");
	ck_assert_int_eq(res.events[0].refresh, 1);
	/* refresh with prevExist=true is an update keeping createdIndex */
	r.prev_exist = 1;
	r.expiration_ns = T0 + 300 * SEC + 123456789;
	apply(&r);
	expect(200, 6, "{\"action\":\"update\",\"node\":{\"key\":\"/foo\",\"value\":\"bar\",\"expiration\":\"2027-01-15T08:05:00.123456789Z\",\"ttl\":301,\"modifiedIndex\":6,\"createdIndex\":5},"
	               "\"prevNode\":{\"key\":\"/foo\",\"value\":\"bar\",\"expiration\":\"2027-01-15T08:03:20Z\",\"ttl\":200,\"modifiedIndex\":5,\"createdIndex\":5}}\n");
	/* refresh of a missing key */
	r = req(V2_OP_PUT, "/nokey", NULL);
	r.refresh = 1;
	r.expiration_ns = T0 + SEC;
	apply(&r);
	expect(404, 6, "{\"errorCode\":100,\"message\":\"Key not found\",\"cause\":\"/nokey\",\"index\":6}\n");
	/* an update without ttl makes the key permanent */
	r = req(V2_OP_PUT, "/foo", "p");
	r.prev_exist = 1;
	apply(&r);
	expect(200, 7, "{\"action\":\"update\",\"node\":{\"key\":\"/foo\",\"value\":\"p\",\"modifiedIndex\":7,\"createdIndex\":5},"
	               "\"prevNode\":{\"key\":\"/foo\",\"value\":\"bar\",\"expiration\":\"2027-01-15T08:05:00.123456789Z\",\"ttl\":301,\"modifiedIndex\":6,\"createdIndex\":5}}\n");
	/* ...so a later sync does not expire it */
	r = req(V2_OP_SYNC, NULL, NULL);
	r.time_ns = T0 + 1000 * SEC;
	apply(&r);
	ck_assert_uint_eq(res.nevents, 0);
	ck_assert_uint_eq(res.etcd_index, 7);
	ck_assert_uint_eq(res.body.len, 0);
}
END_TEST

START_TEST(test_post_in_order)
{
	struct v2_req r = req(V2_OP_POST, "/q", "1");

	apply(&r);
	expect(201, 4, "{\"action\":\"create\",\"node\":{\"key\":\"/q/00000000000000000004\",\"value\":\"1\",\"modifiedIndex\":4,\"createdIndex\":4}}\n");
	r.value = "2";
	apply(&r);
	expect(201, 5, "{\"action\":\"create\",\"node\":{\"key\":\"/q/00000000000000000005\",\"value\":\"2\",\"modifiedIndex\":5,\"createdIndex\":5}}\n");
	get("/q", 0);
	expect(200, 5, "{\"action\":\"get\",\"node\":{\"key\":\"/q\",\"dir\":true,\"nodes\":[{\"key\":\"/q/00000000000000000004\",\"value\":\"1\",\"modifiedIndex\":4,\"createdIndex\":4},"
	               "{\"key\":\"/q/00000000000000000005\",\"value\":\"2\",\"modifiedIndex\":5,\"createdIndex\":5}],\"modifiedIndex\":4,\"createdIndex\":4}}\n");
	r = req(V2_OP_POST, "/", "r");
	apply(&r);
	expect(201, 6, "{\"action\":\"create\",\"node\":{\"key\":\"/00000000000000000006\",\"value\":\"r\",\"modifiedIndex\":6,\"createdIndex\":6}}\n");
}
END_TEST

START_TEST(test_expire)
{
	struct v2_req r;
	int64_t due = 0;

	r = req(V2_OP_PUT, "/td", NULL);
	r.dir = 1;
	r.expiration_ns = T0 + SEC;
	apply(&r);
	expect(201, 4, "{\"action\":\"set\",\"node\":{\"key\":\"/td\",\"dir\":true,\"expiration\":\"2027-01-15T08:00:01Z\",\"ttl\":1,\"modifiedIndex\":4,\"createdIndex\":4}}\n");
	r = req(V2_OP_PUT, "/td/x", "1");
	r.expiration_ns = T0 + SEC + 5;
	apply(&r);
	set("/td/y", "2");
	r = req(V2_OP_PUT, "/k", "v");
	r.expiration_ns = T0 + 2 * SEC;
	apply(&r);
	ck_assert_int_eq(v2store_next_expiry(st, &due), 0);
	ck_assert(due == T0 + SEC);
	ck_assert_int_eq(v2store_exists(st, "/1/td/x"), 1);
	ck_assert_int_eq(v2store_exists(st, "/0/version"), 1);
	ck_assert_int_eq(v2store_exists(st, "/0/nope"), 0);
	/* nothing expired yet */
	r = req(V2_OP_SYNC, NULL, NULL);
	r.time_ns = T0 + SEC - 1;
	apply(&r);
	ck_assert_uint_eq(res.nevents, 0);
	/* the directory goes with all its children, one event */
	r.time_ns = T0 + SEC + 5;
	apply(&r);
	ck_assert_uint_eq(res.nevents, 1);
	ck_assert_uint_eq(res.etcd_index, 8);
	ck_assert_str_eq(res.events[0].action, "expire");
	ck_assert_int_eq(res.events[0].is_dir, 1);
	ck_assert_uint_eq(res.events[0].body_len, strlen(res.events[0].body));
	ck_assert_str_eq(res.events[0].body,
	                 "{\"action\":\"expire\",\"node\":{\"key\":\"/td\",\"dir\":true,\"modifiedIndex\":8,\"createdIndex\":4},"
	                 "\"prevNode\":{\"key\":\"/td\",\"dir\":true,\"expiration\":\"2027-01-15T08:00:01Z\",\"modifiedIndex\":4,\"createdIndex\":4}}\n");
	get("/td/y", 0);
	expect(404, 8, "{\"errorCode\":100,\"message\":\"Key not found\",\"cause\":\"/td\",\"index\":8}\n");
	/* two keys at once: one event each, in expiry order */
	r = req(V2_OP_PUT, "/k2", "v2");
	r.expiration_ns = T0 + 3 * SEC;
	apply(&r);
	r = req(V2_OP_SYNC, NULL, NULL);
	r.time_ns = T0 + 10 * SEC;
	apply(&r);
	ck_assert_uint_eq(res.nevents, 2);
	ck_assert_uint_eq(res.etcd_index, 11);
	ck_assert(memcmp(res.events[0].key, "/k", 2) == 0 && res.events[0].key_len == 2);
	ck_assert_uint_eq(res.events[0].modified_index, 10);
	ck_assert(memcmp(res.events[1].key, "/k2", 3) == 0);
	ck_assert_str_eq(res.events[1].body,
	                 "{\"action\":\"expire\",\"node\":{\"key\":\"/k2\",\"modifiedIndex\":11,\"createdIndex\":9},"
	                 "\"prevNode\":{\"key\":\"/k2\",\"value\":\"v2\",\"expiration\":\"2027-01-15T08:00:03Z\",\"ttl\":-7,\"modifiedIndex\":9,\"createdIndex\":9}}\n");
	/* create ignores expirations before 2000 (permanent) */
	r = req(V2_OP_PUT, "/old", "v");
	r.expiration_ns = 5;
	apply(&r);
	expect(201, 12, "{\"action\":\"set\",\"node\":{\"key\":\"/old\",\"value\":\"v\",\"modifiedIndex\":12,\"createdIndex\":12}}\n");
	/* a deleted TTL key leaves nothing to expire */
	r = req(V2_OP_PUT, "/gone", "v");
	r.expiration_ns = T0 + 20 * SEC;
	apply(&r);
	r = req(V2_OP_DELETE, "/gone", NULL);
	apply(&r);
	r = req(V2_OP_SYNC, NULL, NULL);
	r.time_ns = T0 + 30 * SEC;
	apply(&r);
	ck_assert_uint_eq(res.nevents, 0);
	ck_assert_uint_eq(v2store_current_index(st), 14);
	ck_assert_int_eq(v2store_next_expiry(st, &due), 0);
	ck_assert(due == 0);
}
END_TEST

static void watch(const char *key, int recursive, uint64_t since)
{
	ck_assert_int_eq(v2store_watch_lookup(st, key, strlen(key), recursive, since, &res), 0);
}

START_TEST(test_watch_history)
{
	struct v2_req r;
	int i;

	set("/foo", "a<b>");                  /* 4 */
	set("/d/x", "1");                     /* 5 */
	set("/d/_h", "h");                    /* 6 */
	watch("/foo", 0, 1);
	ck_assert_int_eq(res.found, 1);
	ck_assert_uint_eq(res.etcd_index, 6);
	BODY_IS("{\"action\":\"set\",\"node\":{\"key\":\"/foo\",\"value\":\"a\\u003cb\\u003e\",\"modifiedIndex\":4,\"createdIndex\":4}}\n");
	watch("/foo", 0, 5);
	ck_assert_int_eq(res.found, 0);
	ck_assert_uint_eq(res.etcd_index, 6);
	watch("/d", 0, 1);
	ck_assert_int_eq(res.found, 0);
	watch("/d", 1, 1);
	ck_assert_int_eq(res.found, 1);
	BODY_IS("{\"action\":\"set\",\"node\":{\"key\":\"/d/x\",\"value\":\"1\",\"modifiedIndex\":5,\"createdIndex\":5}}\n");
	/* history scans do not hide "_" keys (only live notifications do) */
	watch("/d", 1, 6);
	ck_assert_int_eq(res.found, 1);
	BODY_IS("{\"action\":\"set\",\"node\":{\"key\":\"/d/_h\",\"value\":\"h\",\"modifiedIndex\":6,\"createdIndex\":6}}\n");
	watch("/", 1, 4);
	ck_assert_int_eq(res.found, 1);
	watch("/", 1, 0); /* 0 = current + 1: nothing yet */
	ck_assert_int_eq(res.found, 0);
	/* internal events are in the history but never match user keys */
	watch("/", 1, 1);
	BODY_IS("{\"action\":\"set\",\"node\":{\"key\":\"/foo\",\"value\":\"a\\u003cb\\u003e\",\"modifiedIndex\":4,\"createdIndex\":4}}\n");
	/* refresh events are skipped */
	r = req(V2_OP_PUT, "/foo", NULL);
	r.refresh = 1;
	r.prev_exist = 1;
	r.expiration_ns = T0 + 10 * SEC;
	apply(&r);                             /* 7 */
	watch("/foo", 0, 7);
	ck_assert_int_eq(res.found, 0);
	/* deleting a directory matches watchers below it (and etcd's plain
	 * prefix test: /dx too) */
	r = req(V2_OP_DELETE, "/d", NULL);
	r.recursive = 1;
	apply(&r);                             /* 8 */
	watch("/d/x", 0, 8);
	ck_assert_int_eq(res.found, 1);
	BODY_IS("{\"action\":\"delete\",\"node\":{\"key\":\"/d\",\"dir\":true,\"modifiedIndex\":8,\"createdIndex\":5},"
	        "\"prevNode\":{\"key\":\"/d\",\"dir\":true,\"modifiedIndex\":5,\"createdIndex\":5}}\n");
	watch("/dx", 0, 8);
	ck_assert_int_eq(res.found, 1);
	/* after more than 1000 events the oldest are gone: 401 */
	for (i = 0; i < 1000; i++)
		set("/many", "v");
	ck_assert_uint_eq(v2store_current_index(st), 1008);
	watch("/foo", 0, 8);
	expect(400, 1008, "{\"errorCode\":401,\"message\":\"The event in requested index is outdated and cleared\","
	                  "\"cause\":\"the requested history has been cleared [9/8]\",\"index\":1008}\n");
	watch("/many", 0, 9);
	ck_assert_int_eq(res.found, 1);
	ck_assert_int_eq(res.error_code, 0);
	ck_assert(strstr(strndup_body(), "\"modifiedIndex\":9,") != NULL);
}
END_TEST

START_TEST(test_stats)
{
	struct v2_req r;
	json_t *o = NULL;
	char *s;

	/* the same requests as a session against etcd 3.4.23, whose
	 * /v2/stats/store then read (write counters): */
	set("/foo", "a");
	r = req(V2_OP_PUT, "/foo", "bar");
	r.expiration_ns = T0 + 100 * SEC;
	apply(&r);
	r = req(V2_OP_PUT, "/foo", NULL);
	r.refresh = 1;
	r.expiration_ns = T0 + 200 * SEC;
	apply(&r);
	r.prev_exist = 1;
	apply(&r);
	r = req(V2_OP_PUT, "/foo", "x");
	r.prev_exist = 0;
	apply(&r);
	set("/foo/bar", "x");
	set("/", "x");
	r = req(V2_OP_DELETE, "/", NULL);
	apply(&r);
	r.has_prev_value = 1;
	r.prev_value = "a";
	r.prev_value_len = 1;
	apply(&r);
	r = req(V2_OP_PUT, "/stats", "x");
	r.has_prev_value = 1;
	r.prev_value = "y";
	r.prev_value_len = 1;
	r.prev_index = 1;
	apply(&r);
	r.path = "/foo";
	r.path_len = 4;
	apply(&r);
	r.prev_index = 0;
	apply(&r);
	r.has_prev_value = 0;
	r.prev_index = 3;
	apply(&r);
	r = req(V2_OP_DELETE, "/foo", NULL);
	r.has_prev_value = 1;
	r.prev_value = "y";
	r.prev_value_len = 1;
	apply(&r);
	ck_assert_int_eq(v2store_write_stats(st, &o), 0);
	s = json_dumps(o, JSON_COMPACT);
	ck_assert_str_eq(s, "{\"setsSuccess\":5,\"setsFail\":2,\"deleteSuccess\":1,\"deleteFail\":0,\"updateSuccess\":1,"
	                    "\"updateFail\":0,\"createSuccess\":1,\"createFail\":1,\"compareAndSwapSuccess\":0,"
	                    "\"compareAndSwapFail\":4,\"compareAndDeleteSuccess\":2,\"compareAndDeleteFail\":0,\"expireCount\":0}");
	free(s);
	json_decref(o);
	/* a create under a file counts a failed set too, as etcd does */
	r = req(V2_OP_PUT, "/foo/x", "x");
	r.prev_exist = 0;
	apply(&r);
	ck_assert_int_eq(res.error_code, 104);
	ck_assert_int_eq(v2store_write_stats(st, &o), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(o, "setsFail")), 3);
	ck_assert_int_eq(json_integer_value(json_object_get(o, "createFail")), 2);
	json_decref(o);
}
END_TEST

START_TEST(test_persistence)
{
	DB_TXN *txn = NULL;
	uint64_t applied = 0;
	struct v2_req r;

	ck_assert_int_eq(env->txn_begin(env, NULL, &txn, 0), 0);
	r = req(V2_OP_PUT, "/p/k", "v");
	ck_assert_int_eq(v2store_apply(st, txn, &r, &res), 0);
	r = req(V2_OP_PUT, "/p/k2", "v2");
	r.expiration_ns = T0 + SEC;
	ck_assert_int_eq(v2store_apply(st, txn, &r, &res), 0);
	ck_assert_int_eq(v2store_set_applied(st, txn, 42), 0);
	ck_assert_int_eq(txn->commit(txn, 0), 0);
	/* an aborted batch leaves nothing behind */
	ck_assert_int_eq(env->txn_begin(env, NULL, &txn, 0), 0);
	r = req(V2_OP_PUT, "/p/k3", "v3");
	ck_assert_int_eq(v2store_apply(st, txn, &r, &res), 0);
	ck_assert_int_eq(v2store_set_applied(st, txn, 43), 0);
	ck_assert_int_eq(txn->abort(txn), 0);
	ck_assert_int_eq(store_env_checkpoint(env), 0);
	close_store();
	open_store();
	ck_assert_int_eq(v2store_applied_index(st, NULL, &applied), 0);
	ck_assert_uint_eq(applied, 42);
	ck_assert_uint_eq(v2store_current_index(st), 5);
	get("/p", 1);
	expect(200, 5, "{\"action\":\"get\",\"node\":{\"key\":\"/p\",\"dir\":true,\"nodes\":[{\"key\":\"/p/k\",\"value\":\"v\",\"modifiedIndex\":4,\"createdIndex\":4},"
	               "{\"key\":\"/p/k2\",\"value\":\"v2\",\"expiration\":\"2027-01-15T08:00:01Z\",\"ttl\":1,\"modifiedIndex\":5,\"createdIndex\":5}],\"modifiedIndex\":4,\"createdIndex\":4}}\n");
	/* the expiry index survived too */
	r = req(V2_OP_SYNC, NULL, NULL);
	r.time_ns = T0 + 2 * SEC;
	apply(&r);
	ck_assert_uint_eq(res.nevents, 1);
	watch("/p/k", 0, 4);
	ck_assert_int_eq(res.found, 1);
}
END_TEST

START_TEST(test_big_value)
{
	size_t n = 1536 * 1024;
	char *v = malloc(n + 1);
	struct v2_req r;

	memset(v, 'x', n);
	v[n] = 0;
	r = req(V2_OP_PUT, "/big", v);
	apply(&r);
	ck_assert_int_eq(res.http_status, 201);
	get("/big", 0);
	ck_assert_int_eq(res.http_status, 200);
	ck_assert_uint_gt(res.body.len, n);
	ck_assert(memmem(res.body.data, res.body.len, v, n) != NULL);
	free(v);
}
END_TEST

Suite *suite_v2store(void)
{
	Suite *s = suite_create("v2store");
	TCase *tc = tcase_create("store");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_set_get);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_cas_cad_update);
	tcase_add_test(tc, test_dirs);
	tcase_add_test(tc, test_ttl);
	tcase_add_test(tc, test_post_in_order);
	tcase_add_test(tc, test_expire);
	tcase_add_test(tc, test_watch_history);
	tcase_add_test(tc, test_stats);
	tcase_add_test(tc, test_persistence);
	tcase_add_test(tc, test_big_value);
	suite_add_tcase(s, tc);
	return s;
}
