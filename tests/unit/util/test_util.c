/* test_util.c - buffers, readers, SHA-1 and etcd-compatible IDs. */
#include "config.h"

#include <check.h>
#include <string.h>

#include "util/buf.h"
#include "util/memberid.h"
#include "util/sha1.h"

START_TEST(test_buf_roundtrip)
{
	struct buf b;
	struct rd r;
	size_t n;

	buf_init(&b);
	buf_put_u8(&b, 7);
	buf_put_u32(&b, 0xdeadbeef);
	buf_put_u64(&b, 0x0102030405060708ull);
	buf_put_str(&b, "hello", 5);
	rd_init(&r, b.data, b.len);
	ck_assert_uint_eq(rd_u8(&r), 7);
	ck_assert_uint_eq(rd_u32(&r), 0xdeadbeef);
	ck_assert_uint_eq(rd_u64(&r), 0x0102030405060708ull);
	const char *s = rd_str(&r, &n);
	ck_assert_uint_eq(n, 5);
	ck_assert_int_eq(memcmp(s, "hello", 5), 0);
	ck_assert_int_eq(r.err, 0);
	ck_assert_uint_eq(rd_left(&r), 0);
	rd_u8(&r);
	ck_assert_int_eq(r.err, 1);
	buf_close(&b);
}
END_TEST

START_TEST(test_rd_short_string)
{
	uint8_t raw[6] = { 100, 0, 0, 0, 'a', 'b' }; /* claims 100 bytes */
	struct rd r;
	size_t n;

	rd_init(&r, raw, sizeof(raw));
	ck_assert_ptr_null(rd_str(&r, &n));
	ck_assert_int_eq(r.err, 1);
}
END_TEST

START_TEST(test_sha1_vectors)
{
	uint8_t h[20];
	static const uint8_t abc[20] = { 0xa9, 0x99, 0x3e, 0x36, 0x47, 0x06, 0x81, 0x6a, 0xba, 0x3e,
		0x25, 0x71, 0x78, 0x50, 0xc2, 0x6c, 0x9c, 0xd0, 0xd8, 0x9d };
	static const uint8_t empty[20] = { 0xda, 0x39, 0xa3, 0xee, 0x5e, 0x6b, 0x4b, 0x0d, 0x32, 0x55,
		0xbf, 0xef, 0x95, 0x60, 0x18, 0x90, 0xaf, 0xd8, 0x07, 0x09 };

	sha1("abc", 3, h);
	ck_assert_int_eq(memcmp(h, abc, 20), 0);
	sha1("", 0, h);
	ck_assert_int_eq(memcmp(h, empty, 20), 0);
}
END_TEST

/* The IDs Debian's etcd 3.4 printed for --initial-cluster
 * default=http://127.0.0.1:12380 and the default token. */
START_TEST(test_member_and_cluster_id_match_etcd)
{
	const char *urls[] = { "http://127.0.0.1:12380" };
	uint64_t mid = member_id_compute(urls, 1, "etcd-cluster");

	ck_assert_uint_eq(mid, 0xddd67b312462fd7bull);
	ck_assert_uint_eq(cluster_id_compute(&mid, 1), 0xa7ef944b95711739ull);
}
END_TEST

Suite *suite_util(void);
Suite *suite_util(void)
{
	Suite *s = suite_create("util");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_buf_roundtrip);
	tcase_add_test(tc, test_rd_short_string);
	tcase_add_test(tc, test_sha1_vectors);
	tcase_add_test(tc, test_member_and_cluster_id_match_etcd);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite_util());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
