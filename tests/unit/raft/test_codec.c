/* test_codec.c - the raft message wire format: round trips, and decode
 * refusing truncated, extended and random input without crashing. */
#include "config.h"
#include "raft/raft.h"
#include "util/buf.h"
#include "util/err.h"

#include "suites.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static void sample(struct raft_msg *m, struct raft_entry *e)
{
	memset(m, 0, sizeof(*m));
	m->type = RAFT_MSG_APPEND;
	m->from = 1;
	m->to = 0x1122334455667788ULL;
	m->term = 7;
	m->log_term = 6;
	m->index = 41;
	m->commit = 40;
	m->reject = 1;
	m->reject_hint = 12;
	m->ctx = 99;
	e[0] = (struct raft_entry){ 42, 7, RAFT_ENTRY_NORMAL, "hello", 5 };
	e[1] = (struct raft_entry){ 43, 7, RAFT_ENTRY_CONF_CHANGE, NULL, 0 };
	m->entries = e;
	m->nentries = 2;
}

START_TEST(test_codec_roundtrip)
{
	struct raft_msg m, d;
	struct raft_entry e[2];
	struct buf b;

	sample(&m, e);
	buf_init(&b);
	ck_assert_int_eq(raft_msg_encode(&m, &b), 0);
	ck_assert_int_eq(raft_msg_decode(&d, b.data, b.len), 0);
	ck_assert_int_eq(d.type, m.type);
	ck_assert_uint_eq(d.from, m.from);
	ck_assert_uint_eq(d.to, m.to);
	ck_assert_uint_eq(d.term, m.term);
	ck_assert_uint_eq(d.log_term, m.log_term);
	ck_assert_uint_eq(d.index, m.index);
	ck_assert_uint_eq(d.commit, m.commit);
	ck_assert_int_eq(d.reject, 1);
	ck_assert_uint_eq(d.reject_hint, 12);
	ck_assert_uint_eq(d.ctx, 99);
	ck_assert_uint_eq(d.nentries, 2);
	ck_assert_uint_eq(d.entries[0].index, 42);
	ck_assert_uint_eq(d.entries[0].len, 5);
	ck_assert_mem_eq(d.entries[0].data, "hello", 5);
	ck_assert_int_eq(d.entries[1].type, RAFT_ENTRY_CONF_CHANGE);
	ck_assert_ptr_null(d.entries[1].data);
	raft_msg_decoded_free(&d);
	buf_close(&b);
}
END_TEST

START_TEST(test_codec_truncated_and_extended)
{
	struct raft_msg m, d;
	struct raft_entry e[2];
	struct buf b;

	sample(&m, e);
	buf_init(&b);
	ck_assert_int_eq(raft_msg_encode(&m, &b), 0);
	for (size_t len = 0; len < b.len; len++)
		ck_assert_int_eq(raft_msg_decode(&d, b.data, len), CE_CORRUPT);
	buf_put_u8(&b, 0);
	ck_assert_int_eq(raft_msg_decode(&d, b.data, b.len), CE_CORRUPT);
	buf_close(&b);
}
END_TEST

START_TEST(test_codec_fuzz)
{
	uint64_t seed = 20240601, s;
	struct raft_msg m, d;
	struct raft_entry e[2];
	struct buf b;
	int ok = 0;

	printf("raft codec fuzz seed %llu\n", (unsigned long long)seed);
	s = seed;
	sample(&m, e);
	buf_init(&b);
	ck_assert_int_eq(raft_msg_encode(&m, &b), 0);
	for (int iter = 0; iter < 20000; iter++) {
		uint8_t tmp[256];
		size_t len = b.len;
		memcpy(tmp, b.data, len);
		/* flip a few bytes, sometimes cut the tail */
		for (int k = 0, n = 1 + (int)(rng_next(&s) % 4); k < n; k++)
			tmp[rng_next(&s) % len] = (uint8_t)rng_next(&s);
		if (rng_next(&s) % 4 == 0)
			len = rng_next(&s) % len;
		int rc = raft_msg_decode(&d, tmp, len);
		ck_assert(rc == 0 || rc == CE_CORRUPT);
		if (rc == 0) {
			ok++;
			for (size_t i = 0; i < d.nentries; i++)
				if (d.entries[i].len)
					ck_assert_ptr_nonnull(d.entries[i].data);
			raft_msg_decoded_free(&d);
		}
	}
	/* pure noise */
	for (int iter = 0; iter < 5000; iter++) {
		uint8_t tmp[128];
		size_t len = rng_next(&s) % sizeof(tmp);
		for (size_t i = 0; i < len; i++)
			tmp[i] = (uint8_t)rng_next(&s);
		tmp[0] = 1;
		int rc = raft_msg_decode(&d, tmp, len);
		ck_assert(rc == 0 || rc == CE_CORRUPT);
		if (rc == 0)
			raft_msg_decoded_free(&d);
	}
	ck_assert_int_gt(ok, 0); /* some mutations only touch values */
	buf_close(&b);
}
END_TEST

START_TEST(test_conf_change_codec)
{
	struct raft_conf_change c = { RAFT_CONF_PROMOTE, 0xabcdef }, d;
	uint8_t out[RAFT_CONF_CHANGE_LEN + 4] = { 0 };

	raft_conf_change_encode(&c, out);
	ck_assert_int_eq(raft_conf_change_decode(&d, out, RAFT_CONF_CHANGE_LEN), 0);
	ck_assert_int_eq(d.type, RAFT_CONF_PROMOTE);
	ck_assert_uint_eq(d.node_id, 0xabcdef);
	/* a context after the fixed part is the driver's: ignored */
	memcpy(out + RAFT_CONF_CHANGE_LEN, "ctx!", 4);
	ck_assert_int_eq(raft_conf_change_decode(&d, out, sizeof(out)), 0);
	ck_assert_uint_eq(d.node_id, 0xabcdef);
	ck_assert_int_eq(raft_conf_change_decode(&d, out, RAFT_CONF_CHANGE_LEN - 1), CE_CORRUPT);
	out[0] = 9;
	ck_assert_int_eq(raft_conf_change_decode(&d, out, sizeof(out)), CE_CORRUPT);
}
END_TEST

Suite *suite_codec(void)
{
	Suite *s = suite_create("raft_codec");
	TCase *tc = tcase_create("codec");

	tcase_add_test(tc, test_codec_roundtrip);
	tcase_add_test(tc, test_codec_truncated_and_extended);
	tcase_add_test(tc, test_codec_fuzz);
	tcase_add_test(tc, test_conf_change_codec);
	suite_add_tcase(s, tc);
	return s;
}
