/* test_v3alarm.c - etcd's alarm store on the meta table (src/v3/v3alarm.c):
 * AlarmRequest semantics as etcd 3.4 answers them, persistence across a
 * reopen and through a database snapshot, the quota cost rules and the
 * requests a NOSPACE alarm refuses, and Status's error strings. */
#include "config.h"
#include "v3/v3.h"
#include "v3meta.h"

#include "pb/pb.h"
#include "store/env.h"
#include "store/envdir.h"
#include "store/meta.h"
#include "store/snap.h"
#include "util/buf.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void setup(void)
{
	v3meta_setup("/tmp/cetcd-alarm-XXXXXX");
}

static void teardown(void)
{
	v3meta_teardown();
}

/* apply runs one AlarmRequest in its own transaction; the response's
 * alarms go to got (as "member/type" words), returns how many. */
static int apply(int action, uint64_t member, int type, char *got, size_t gotlen)
{
	struct buf req, out;
	struct pb_reader r;
	struct pb_item it;
	DB_TXN *txn;
	int n = 0;

	buf_init(&req);
	buf_init(&out);
	v3_alarm_request(&req, action, member, type);
	ck_assert_int_eq(env->txn_begin(env, NULL, &txn, 0), 0);
	ck_assert_int_eq(v3_alarm_apply(meta, txn, req.data, req.len, &out), 0);
	ck_assert_int_eq(txn->commit(txn, 0), 0);
	got[0] = '\0';
	pb_reader_init(&r, out.data, out.len);
	while (pb_next(&r, &it) == 1) {
		uint64_t m = 0;
		int32_t t = 0;
		size_t l = strlen(got);
		ck_assert_uint_eq(it.number, 2); /* only alarms: no header */
		pb_get_u64(it.data, it.len, 1, &m);
		pb_get_i32(it.data, it.len, 2, &t);
		snprintf(got + l, gotlen - l, "%s%llu/%d", l ? " " : "", (unsigned long long)m, (int)t);
		n++;
	}
	buf_close(&req);
	buf_close(&out);
	return n;
}

START_TEST(test_alarm_actions)
{
	char got[256];

	ck_assert_int_eq(apply(V3_ALARM_GET, 0, V3_ALARM_NONE, got, sizeof(got)), 0);
	ck_assert_int_eq(apply(V3_ALARM_ACTIVATE, 7, V3_ALARM_NOSPACE, got, sizeof(got)), 1);
	ck_assert_str_eq(got, "7/1");
	/* again: answered, not doubled */
	ck_assert_int_eq(apply(V3_ALARM_ACTIVATE, 7, V3_ALARM_NOSPACE, got, sizeof(got)), 1);
	ck_assert_int_eq(apply(V3_ALARM_ACTIVATE, 3, V3_ALARM_NOSPACE, got, sizeof(got)), 1);
	ck_assert_int_eq(apply(V3_ALARM_ACTIVATE, 9, V3_ALARM_CORRUPT, got, sizeof(got)), 1);
	ck_assert_int_eq(apply(V3_ALARM_GET, 0, V3_ALARM_NONE, got, sizeof(got)), 3);
	ck_assert_str_eq(got, "3/1 7/1 9/2");
	ck_assert_int_eq(apply(V3_ALARM_GET, 0, V3_ALARM_CORRUPT, got, sizeof(got)), 1);
	ck_assert_str_eq(got, "9/2");
	/* deactivating what is not set answers nothing */
	ck_assert_int_eq(apply(V3_ALARM_DEACTIVATE, 8, V3_ALARM_NOSPACE, got, sizeof(got)), 0);
	ck_assert_int_eq(apply(V3_ALARM_DEACTIVATE, 7, V3_ALARM_NOSPACE, got, sizeof(got)), 1);
	ck_assert_str_eq(got, "7/1");
	ck_assert_int_eq(apply(V3_ALARM_GET, 0, V3_ALARM_NOSPACE, got, sizeof(got)), 1);
	ck_assert_str_eq(got, "3/1");
	/* an unknown action changes nothing */
	ck_assert_int_eq(apply(9, 1, V3_ALARM_NOSPACE, got, sizeof(got)), 0);
	ck_assert_int_eq(apply(V3_ALARM_GET, 0, V3_ALARM_NONE, got, sizeof(got)), 2);
}
END_TEST

START_TEST(test_alarm_persists)
{
	struct v3_alarm al[4];
	char got[128];
	size_t n = 0;

	apply(V3_ALARM_ACTIVATE, 42, V3_ALARM_NOSPACE, got, sizeof(got));
	close_all();
	open_at(live);
	ck_assert_int_eq(v3_alarm_list(meta, NULL, al, 4, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(al[0].member_id, 42);
	ck_assert_int_eq(al[0].type, V3_ALARM_NOSPACE);
	/* a database snapshot carries it */
	ck_assert_int_eq(store_snap_save(env, snapf, NULL, err, sizeof(err)), 0);
	close_all();
	ck_assert_int_eq(store_snap_restore(snapf, fresh, NULL, err, sizeof(err)), 0);
	open_at(fresh);
	n = 0;
	ck_assert_int_eq(v3_alarm_list(meta, NULL, al, 4, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(al[0].member_id, 42);
	/* the last one deactivated leaves no record */
	ck_assert_int_eq(apply(V3_ALARM_DEACTIVATE, 42, V3_ALARM_NOSPACE, got, sizeof(got)), 1);
	ck_assert_int_eq(v3_alarm_list(meta, NULL, al, 4, &n), 0);
	ck_assert_uint_eq(n, 0);
}
END_TEST

static void put_req(struct buf *b, const char *k, const char *v)
{
	pb_put_bytes(b, 1, k, strlen(k));
	pb_put_bytes(b, 2, v, strlen(v));
}

START_TEST(test_quota_cost)
{
	struct buf put, op, txn;
	size_t m;

	buf_init(&put);
	buf_init(&op);
	buf_init(&txn);
	put_req(&put, "key", "value!");
	ck_assert_int_eq(v3_quota_cost(V3_PUT, put.data, put.len), 256 + 3 + 6);
	ck_assert_int_eq(v3_alarm_capped(V3_PUT, put.data, put.len), 1);
	ck_assert_int_eq(v3_quota_cost(V3_LEASE_GRANT, NULL, 0), 64);
	ck_assert_int_eq(v3_alarm_capped(V3_LEASE_GRANT, NULL, 0), 1);
	ck_assert_int_eq(v3_quota_cost(V3_RANGE, put.data, put.len), 0);
	ck_assert_int_eq(v3_alarm_capped(V3_DELETE_RANGE, put.data, put.len), 0);
	ck_assert_int_eq(v3_alarm_capped(V3_COMPACT, NULL, 0), 0);
	ck_assert_int_eq(v3_alarm_capped(V3_ALARM, NULL, 0), 0);
	/* a Txn without puts costs nothing and is not refused */
	m = pb_msg_begin(&txn, 2);
	pb_put_msg(&txn, 1, put.data, put.len); /* request_range */
	pb_msg_end(&txn, m);
	ck_assert_int_eq(v3_quota_cost(V3_TXN, txn.data, txn.len), 0);
	ck_assert_int_eq(v3_alarm_capped(V3_TXN, txn.data, txn.len), 0);
	/* success: one put; failure: two puts -> the larger branch */
	m = pb_msg_begin(&txn, 2);
	pb_put_msg(&txn, 2, put.data, put.len);
	pb_msg_end(&txn, m);
	for (int i = 0; i < 2; i++) {
		m = pb_msg_begin(&txn, 3);
		pb_put_msg(&txn, 2, put.data, put.len);
		pb_msg_end(&txn, m);
	}
	ck_assert_int_eq(v3_quota_cost(V3_TXN, txn.data, txn.len), 2 * (256 + 9));
	ck_assert_int_eq(v3_alarm_capped(V3_TXN, txn.data, txn.len), 1);
	ck_assert_int_eq(v3_quota_bytes(0), INT64_C(2147483648));
	ck_assert_int_eq(v3_quota_bytes(-1), 0);
	ck_assert_int_eq(v3_quota_bytes(1048576), 1048576);
	buf_close(&put);
	buf_close(&op);
	buf_close(&txn);
}
END_TEST

START_TEST(test_status_errors)
{
	struct v3_alarm al[3] = { { 10276657743932975437u, V3_ALARM_NOSPACE },
		{ 0, V3_ALARM_CORRUPT }, { 5, V3_ALARM_NONE } };
	const char *want[] = { "memberID:10276657743932975437 alarm:NOSPACE ", "alarm:CORRUPT ",
		"memberID:5 " };
	struct pb_reader r;
	struct pb_item it;
	struct buf b;
	int i = 0;

	buf_init(&b);
	v3_alarm_put_errors(&b, 8, al, 3);
	pb_reader_init(&r, b.data, b.len);
	while (pb_next(&r, &it) == 1) {
		ck_assert_uint_eq(it.number, 8);
		ck_assert_int_lt(i, 3);
		ck_assert_uint_eq(it.len, strlen(want[i]));
		ck_assert(memcmp(it.data, want[i], it.len) == 0);
		i++;
	}
	ck_assert_int_eq(i, 3);
	buf_close(&b);
}
END_TEST

Suite *suite_v3alarm(void)
{
	Suite *s = suite_create("v3alarm");
	TCase *tc = tcase_create("store");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_alarm_actions);
	tcase_add_test(tc, test_alarm_persists);
	suite_add_tcase(s, tc);
	tc = tcase_create("rules");
	tcase_add_test(tc, test_quota_cost);
	tcase_add_test(tc, test_status_errors);
	suite_add_tcase(s, tc);
	return s;
}

/* The runner of the v3 library's tests (libv3 has no test folder of its
 * own yet). */
