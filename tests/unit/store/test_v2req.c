/* test_v2req.c - the v2 request encoding: round trip, and decoding of
 * truncated, garbage and malformed input (never a crash, CE_CORRUPT). */
#include "config.h"
#include "store_test.h"

#include "store/v2req.h"
#include "util/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static struct v2_req sample(void)
{
	struct v2_req r;

	memset(&r, 0, sizeof(r));
	r.op = V2_OP_PUT;
	r.internal = 1;
	r.dir = 0;
	r.recursive = 1;
	r.refresh = 1;
	r.no_value_on_success = 1;
	r.prev_exist = 0;
	r.has_prev_value = 1;
	r.prev_index = 0x0102030405060708ULL;
	r.expiration_ns = -5;
	r.time_ns = 1800000000000000000LL;
	r.path = "/foo/bar";
	r.path_len = 8;
	r.value = "va\0lue";
	r.value_len = 6;
	r.prev_value = "old";
	r.prev_value_len = 3;
	return r;
}

START_TEST(test_roundtrip)
{
	struct v2_req r = sample(), d;
	struct buf b;

	buf_init(&b);
	v2_req_encode(&r, &b);
	ck_assert(!b.oom);
	ck_assert_int_eq(b.data[0], V2_REQ_VERSION);
	ck_assert_int_eq(v2_req_decode(&d, b.data, b.len), 0);
	ck_assert_int_eq(d.op, V2_OP_PUT);
	ck_assert_int_eq(d.internal, 1);
	ck_assert_int_eq(d.dir, 0);
	ck_assert_int_eq(d.recursive, 1);
	ck_assert_int_eq(d.refresh, 1);
	ck_assert_int_eq(d.no_value_on_success, 1);
	ck_assert_int_eq(d.prev_exist, 0);
	ck_assert_int_eq(d.has_prev_value, 1);
	ck_assert(d.prev_index == r.prev_index);
	ck_assert(d.expiration_ns == -5);
	ck_assert(d.time_ns == r.time_ns);
	ck_assert_uint_eq(d.path_len, 8);
	ck_assert(memcmp(d.path, "/foo/bar", 8) == 0);
	ck_assert_uint_eq(d.value_len, 6);
	ck_assert(memcmp(d.value, "va\0lue", 6) == 0);
	ck_assert(memcmp(d.prev_value, "old", 3) == 0);
	/* pointers point into the input */
	ck_assert(d.path >= (const char *)b.data && d.path < (const char *)b.data + b.len);

	/* unset prev_exist and empty strings */
	r.prev_exist = -1;
	r.value = NULL;
	r.value_len = 0;
	r.op = V2_OP_SYNC;
	buf_reset(&b);
	v2_req_encode(&r, &b);
	ck_assert_int_eq(v2_req_decode(&d, b.data, b.len), 0);
	ck_assert_int_eq(d.prev_exist, -1);
	ck_assert_int_eq(d.op, V2_OP_SYNC);
	ck_assert_uint_eq(d.value_len, 0);
	buf_close(&b);
}
END_TEST

START_TEST(test_truncated)
{
	struct v2_req r = sample(), d;
	struct buf b;
	size_t i;
	uint8_t *copy;

	buf_init(&b);
	v2_req_encode(&r, &b);
	for (i = 0; i < b.len; i++) {
		/* a fresh allocation of exactly i bytes so ASan sees overreads */
		copy = malloc(i ? i : 1);
		memcpy(copy, b.data, i);
		ck_assert_int_eq(v2_req_decode(&d, copy, i), CE_CORRUPT);
		free(copy);
	}
	/* trailing garbage */
	buf_put_u8(&b, 0);
	ck_assert_int_eq(v2_req_decode(&d, b.data, b.len), CE_CORRUPT);
	buf_close(&b);
}
END_TEST

START_TEST(test_malformed)
{
	struct v2_req r = sample(), d;
	struct buf b;

	buf_init(&b);
	v2_req_encode(&r, &b);
	b.data[0] = 2;
	ck_assert_int_eq(v2_req_decode(&d, b.data, b.len), CE_VERSION);
	b.data[0] = V2_REQ_VERSION;
	b.data[1] = 9; /* op */
	ck_assert_int_eq(v2_req_decode(&d, b.data, b.len), CE_CORRUPT);
	b.data[1] = 0;
	ck_assert_int_eq(v2_req_decode(&d, b.data, b.len), CE_CORRUPT);
	b.data[1] = V2_OP_PUT;
	b.data[2] = 0x80; /* unknown flag */
	ck_assert_int_eq(v2_req_decode(&d, b.data, b.len), CE_CORRUPT);
	b.data[2] = 0;
	b.data[3] = 7; /* prev_exist */
	ck_assert_int_eq(v2_req_decode(&d, b.data, b.len), CE_CORRUPT);
	b.data[3] = 1;
	ck_assert_int_eq(v2_req_decode(&d, b.data, b.len), 0);
	/* a string length running past the end */
	b.data[28] = 0xff;
	ck_assert_int_eq(v2_req_decode(&d, b.data, b.len), CE_CORRUPT);
	buf_close(&b);
}
END_TEST

START_TEST(test_garbage)
{
	unsigned seed = (unsigned)time(NULL);
	uint8_t p[256];
	struct v2_req d;
	int i, ok = 0;
	size_t j, n;

	printf("test_v2req garbage seed %u\n", seed);
	srand(seed);
	for (i = 0; i < 20000; i++) {
		n = (size_t)(rand() % (int)sizeof(p));
		for (j = 0; j < n; j++)
			p[j] = (uint8_t)rand();
		if (n > 0 && i % 2)
			p[0] = V2_REQ_VERSION;
		int rc = v2_req_decode(&d, p, n);
		ck_assert(rc == 0 || rc == CE_CORRUPT || rc == CE_VERSION);
		if (rc == 0) {
			ok++;
			ck_assert(d.path + d.path_len <= (const char *)p + n);
		}
	}
	(void)ok;
}
END_TEST

Suite *suite_v2req(void)
{
	Suite *s = suite_create("v2req");
	TCase *tc = tcase_create("encoding");

	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_truncated);
	tcase_add_test(tc, test_malformed);
	tcase_add_test(tc, test_garbage);
	suite_add_tcase(s, tc);
	return s;
}
