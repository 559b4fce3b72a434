/* test_pb.c - the protobuf wire layer: varints, writer/reader round trips,
 * getters, malformed input (CE_CORRUPT, never a crash, also for seeded
 * random bytes against every etcd message), and a generator of random
 * canonical messages that other suites use. */
#include "config.h"
#include "pb_test.h"

#include "pb/etcd_schema.h"
#include "pb/pb.h"
#include "pb/pb_json.h"
#include "util/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

unsigned pbt_seed(const char *what)
{
	const char *env = getenv("PB_SEED");
	unsigned seed = env != NULL ? (unsigned)strtoul(env, NULL, 10) : (unsigned)time(NULL);

	printf("%s: seed %u (rerun with PB_SEED=%u)\n", what, seed, seed);
	fflush(stdout);
	return seed;
}

static uint64_t rnd64(unsigned *s)
{
	uint64_t v = 0;

	for (int i = 0; i < 4; i++)
		v = v << 16 | (uint64_t)(rand_r(s) & 0xffff);
	/* Favour small and boundary values: they are where encoders slip. */
	switch (rand_r(s) % 6) {
	case 0:
		return v & 0x7f;
	case 1:
		return v & 0x3fff;
	case 2:
		return (uint64_t)-(int64_t)(v & 0xff);
	case 3:
		return rand_r(s) % 2 ? UINT64_MAX : (uint64_t)INT64_MIN;
	default:
		return v;
	}
}

/* Strings that survive a JSON round trip: valid UTF-8 with the characters
 * Go escapes. */
static void gen_text(struct buf *t, unsigned *s, int binary)
{
	static const char *const parts[] = { "a", "Z", "<", ">", "&", "\"", "\\", "/", "\n", "\t",
					     "\x01", "\x7f", "\xc3\xa9", "\xe2\x80\xa8", "\xf0\x9f\x98\x80",
					     " ", "key" };
	int n = 1 + rand_r(s) % 12;

	for (int i = 0; i < n; i++) {
		if (binary) {
			buf_put_u8(t, (uint8_t)rand_r(s));
		} else {
			const char *p = parts[rand_r(s) % (sizeof(parts) / sizeof(parts[0]))];
			buf_put(t, p, strlen(p));
		}
	}
}

static void gen_value(const struct pb_field *f, struct buf *b, unsigned *s, int depth, int always)
{
	struct buf t;
	uint64_t v;

	switch (f->type) {
	case PB_MSG: {
		size_t mark = pb_msg_begin(b, f->number);
		if (depth < 4)
			pbt_gen_msg(f->msg, b, s, depth + 1);
		pb_msg_end(b, mark);
		return;
	}
	case PB_STRING:
	case PB_BYTES:
		buf_init(&t);
		gen_text(&t, s, f->type == PB_BYTES);
		pb_put_bytes_always(b, f->number, t.data, t.len);
		buf_close(&t);
		return;
	default:
		break;
	}
	v = rnd64(s);
	if (f->type == PB_INT32 || f->type == PB_ENUM)
		v = (uint64_t)(int64_t)(int32_t)v;
	else if (f->type == PB_UINT32)
		v = (uint32_t)v;
	else if (f->type == PB_BOOL)
		v = v & 1;
	if (f->type == PB_ENUM && rand_r(s) % 4 != 0)
		v = (uint64_t)(int64_t)f->en->values[rand_r(s) % f->en->nvalues].number;
	if (v == 0 && !always)
		v = 1;
	pb_put_varint_always(b, f->number, v);
}

static void gen_repeated(const struct pb_field *f, struct buf *b, unsigned *s, int depth)
{
	int n = 1 + rand_r(s) % 3;
	struct buf packed;

	if (f->type == PB_MSG || f->type == PB_STRING || f->type == PB_BYTES) {
		for (int i = 0; i < n; i++)
			gen_value(f, b, s, depth, 1);
		return;
	}
	buf_init(&packed);
	for (int i = 0; i < n; i++) {
		struct buf one;
		struct pb_item it;
		struct pb_reader r;

		buf_init(&one);
		gen_value(f, &one, s, depth, 1);
		pb_reader_init(&r, one.data, one.len);
		if (pb_next(&r, &it) == 1)
			pb_put_varint(&packed, it.u);
		buf_close(&one);
	}
	pb_put_bytes_always(b, f->number, packed.data, packed.len);
	buf_close(&packed);
}

void pbt_gen_msg(const struct pb_msgdef *md, struct buf *b, unsigned *s, int depth)
{
	int chosen_group[8] = { 0 };

	/* Canonical: number order (the tables are in number order), no zero
	 * scalars, at most one member per oneof (written even when zero). */
	for (size_t i = 0; i < md->nfields; i++) {
		const struct pb_field *f = &md->fields[i];

		if (rand_r(s) % 3 == 0)
			continue;
		if (f->oneof) {
			if (chosen_group[f->oneof] || rand_r(s) % 2)
				continue;
			chosen_group[f->oneof] = 1;
			if (f->type == PB_MSG && depth >= 3)
				continue;
			gen_value(f, b, s, depth, 1);
		} else if (f->repeated) {
			gen_repeated(f, b, s, depth);
		} else {
			gen_value(f, b, s, depth, 0);
		}
	}
}

/* ---- tests ------------------------------------------------------------ */

START_TEST(test_varint)
{
	static const uint64_t vals[] = { 0, 1, 127, 128, 300, 16383, 16384, UINT32_MAX,
					 (uint64_t)INT64_MAX, UINT64_MAX };
	uint8_t ten[11];
	uint64_t v;

	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		struct buf b;

		buf_init(&b);
		pb_put_varint(&b, vals[i]);
		ck_assert_uint_eq(b.len, pb_varint_len(vals[i]));
		ck_assert_uint_eq(pb_varint_get(b.data, b.len, &v), b.len);
		ck_assert(v == vals[i]);
		/* truncated */
		ck_assert_uint_eq(pb_varint_get(b.data, b.len - 1, &v), 0);
		buf_close(&b);
	}
	ck_assert_uint_eq(pb_varint_len(UINT64_MAX), 10);
	/* eleven continuation bytes: too long */
	memset(ten, 0x80, sizeof(ten));
	ck_assert_uint_eq(pb_varint_get(ten, sizeof(ten), &v), 0);
	/* a padded (non-minimal) varint is accepted, as Go does */
	ten[0] = 0x81;
	ten[1] = 0x80;
	ten[2] = 0x00;
	ck_assert_uint_eq(pb_varint_get(ten, 3, &v), 3);
	ck_assert(v == 1);
	ck_assert(pb_zigzag_dec(pb_zigzag_enc(-5)) == -5);
	ck_assert(pb_zigzag_enc(-1) == 1);
	ck_assert(pb_zigzag_enc(1) == 2);
}
END_TEST

START_TEST(test_writer_reader)
{
	struct buf b;
	size_t mark, inner;
	struct pb_reader r;
	struct pb_item it;
	int64_t i64;
	int32_t i32;
	uint64_t u64;
	int bl;
	const uint8_t *p;
	size_t n;
	char big[300];

	buf_init(&b);
	pb_put_i64(&b, 1, 0);	 /* zero: not written */
	pb_put_bytes(&b, 2, "", 0); /* empty: not written */
	ck_assert_uint_eq(b.len, 0);
	pb_put_i64(&b, 3, -2);
	pb_put_u64(&b, 4, 150);
	pb_put_bool(&b, 5, 7);
	pb_put_str(&b, 6, "hi");
	mark = pb_msg_begin(&b, 7);
	inner = pb_msg_begin(&b, 1);
	memset(big, 'x', sizeof(big));
	pb_put_bytes(&b, 2, big, sizeof(big)); /* pushes the lengths past one byte */
	pb_msg_end(&b, inner);
	pb_msg_end(&b, mark);
	mark = pb_msg_begin(&b, 8); /* present but empty */
	pb_msg_end(&b, mark);
	pb_put_i32(&b, 9, -1);
	pb_put_fixed64(&b, 10, 0x1122334455667788ULL);
	pb_put_fixed32(&b, 11, 0xaabbccdd);
	ck_assert(!b.oom);
	/* fixed bytes for the start: 3 = -2 as ten-byte varint; 4 = 150 */
	ck_assert_int_eq(b.data[0], 0x18);
	ck_assert_int_eq(b.data[10], 0x01);
	ck_assert_int_eq(b.data[11], 0x20);
	ck_assert_int_eq(b.data[12], 0x96);
	ck_assert_int_eq(b.data[13], 0x01);

	ck_assert_int_eq(pb_get_i64(b.data, b.len, 3, &i64), 1);
	ck_assert(i64 == -2);
	ck_assert_int_eq(pb_get_u64(b.data, b.len, 4, &u64), 1);
	ck_assert(u64 == 150);
	ck_assert_int_eq(pb_get_bool(b.data, b.len, 5, &bl), 1);
	ck_assert_int_eq(bl, 1);
	ck_assert_int_eq(pb_get_i64(b.data, b.len, 1, &i64), 0);
	ck_assert(i64 == 0);
	ck_assert_int_eq(pb_get_bytes(b.data, b.len, 6, &p, &n), 1);
	ck_assert_uint_eq(n, 2);
	ck_assert(memcmp(p, "hi", 2) == 0);
	ck_assert_int_eq(pb_get_bytes(b.data, b.len, 7, &p, &n), 1);
	ck_assert_uint_eq(n, 1 + 2 + 1 + 2 + sizeof(big));
	ck_assert_int_eq(pb_get_bytes(p, n, 1, &p, &n), 1);
	ck_assert_int_eq(pb_get_bytes(p, n, 2, &p, &n), 1);
	ck_assert_uint_eq(n, sizeof(big));
	ck_assert_int_eq(pb_get_bytes(b.data, b.len, 8, &p, &n), 1);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(pb_get_i32(b.data, b.len, 9, &i32), 1);
	ck_assert_int_eq(i32, -1);
	/* wrong wire type for the request */
	ck_assert_int_eq(pb_get_i64(b.data, b.len, 6, &i64), CE_CORRUPT);
	ck_assert_int_eq(pb_count(b.data, b.len, 3), 1);

	pb_reader_init(&r, b.data, b.len);
	n = 0;
	while (pb_next(&r, &it) == 1) {
		if (it.number == 10) {
			ck_assert_int_eq(it.wire, PB_WIRE_I64);
			ck_assert(it.u == 0x1122334455667788ULL);
		}
		if (it.number == 11)
			ck_assert(it.u == 0xaabbccdd);
		n++;
	}
	ck_assert_int_eq(r.err, 0);
	ck_assert_uint_eq(n, 9);
	buf_close(&b);
}
END_TEST

START_TEST(test_last_wins_and_groups)
{
	/* field 1 twice (last wins), an unknown group with a nested group,
	 * then field 2 */
	static const uint8_t msg[] = { 0x08, 0x05, 0x08, 0x07, 0x1b, 0x08, 0x01, 0x23,
				       0x24, 0x1c, 0x10, 0x09 };
	static const uint8_t bad_group[] = { 0x1b, 0x08, 0x01, 0x24 }; /* ends group 4 */
	static const uint8_t stray_end[] = { 0x1c };
	uint64_t v;

	ck_assert_int_eq(pb_get_u64(msg, sizeof(msg), 1, &v), 1);
	ck_assert(v == 7);
	ck_assert_int_eq(pb_get_u64(msg, sizeof(msg), 2, &v), 1);
	ck_assert(v == 9);
	ck_assert_int_eq(pb_count(msg, sizeof(msg), 1), 2);
	ck_assert_int_eq(pb_get_u64(bad_group, sizeof(bad_group), 2, &v), CE_CORRUPT);
	ck_assert_int_eq(pb_get_u64(stray_end, sizeof(stray_end), 2, &v), CE_CORRUPT);
}
END_TEST

START_TEST(test_corrupt)
{
	static const struct {
		const char *what;
		uint8_t b[12];
		size_t n;
	} cases[] = {
		{ "truncated tag", { 0x80 }, 1 },
		{ "field zero", { 0x00, 0x01 }, 2 },
		{ "wire type 6", { 0x0e }, 1 },
		{ "wire type 7", { 0x0f }, 1 },
		{ "truncated varint", { 0x08, 0xff }, 2 },
		{ "length past end", { 0x0a, 0x05, 'a' }, 3 },
		{ "huge length", { 0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f }, 6 },
		{ "truncated fixed64", { 0x09, 1, 2, 3 }, 4 },
		{ "truncated fixed32", { 0x0d, 1 }, 2 },
		{ "unterminated group", { 0x0b, 0x08, 0x01 }, 3 },
	};
	char err[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf out;
		uint64_t v;

		buf_init(&out);
		ck_assert_msg(pb_get_u64(cases[i].b, cases[i].n, 1, &v) == CE_CORRUPT, "%s",
			      cases[i].what);
		ck_assert_msg(pb_validate(&etcdpb_range_request, cases[i].b, cases[i].n, err,
					  sizeof(err)) == CE_CORRUPT,
			      "%s", cases[i].what);
		ck_assert_msg(pb_to_json(&etcdpb_range_request, cases[i].b, cases[i].n, &out, err,
					 sizeof(err)) == CE_CORRUPT,
			      "%s", cases[i].what);
		buf_close(&out);
	}
}
END_TEST

START_TEST(test_wrong_wire_type)
{
	/* RangeRequest.key (bytes) sent as a varint; .limit sent as LEN is
	 * allowed only for repeated fields */
	static const uint8_t key_varint[] = { 0x08, 0x01 };
	static const uint8_t limit_len[] = { 0x1a, 0x01, 0x01 };
	/* WatchCreateRequest.filters (repeated enum): packed and unpacked */
	static const uint8_t filters[] = { 0x2a, 0x02, 0x00, 0x01, 0x28, 0x01 };
	char err[256];
	struct buf out;

	ck_assert_int_eq(pb_validate(&etcdpb_range_request, key_varint, 2, err, sizeof(err)),
			 CE_CORRUPT);
	ck_assert(strstr(err, "key") != NULL);
	ck_assert_int_eq(pb_validate(&etcdpb_range_request, limit_len, 3, err, sizeof(err)),
			 CE_CORRUPT);
	ck_assert_int_eq(pb_validate(&etcdpb_watch_create_request, filters, sizeof(filters), err,
				     sizeof(err)),
			 0);
	buf_init(&out);
	ck_assert_int_eq(pb_to_json(&etcdpb_watch_create_request, filters, sizeof(filters), &out,
				    err, sizeof(err)),
			 0);
	buf_put_u8(&out, 0);
	ck_assert_str_eq((char *)out.data, "{\"filters\":[\"NOPUT\",\"NODELETE\",\"NODELETE\"]}");
	buf_close(&out);
}
END_TEST

/* Random bytes, and random mutations of valid messages, against every
 * schema: the decoders may refuse but must not crash or read out of
 * bounds (the sanitizer build checks the latter). */
START_TEST(test_fuzz)
{
	unsigned seed = pbt_seed("pb fuzz");
	char err[256];

	for (int round = 0; round < 4000; round++) {
		const struct pb_msgdef *md = etcd_schema_all[rand_r(&seed) % etcd_schema_nall];
		struct buf in, out, back;
		size_t n;
		int rc;

		buf_init(&in);
		buf_init(&out);
		buf_init(&back);
		if (round % 2 == 0) {
			n = (size_t)(rand_r(&seed) % 64);
			for (size_t i = 0; i < n; i++)
				buf_put_u8(&in, (uint8_t)rand_r(&seed));
		} else {
			pbt_gen_msg(md, &in, &seed, 0);
			for (int k = 0; in.len > 0 && k < 1 + rand_r(&seed) % 3; k++)
				in.data[rand_r(&seed) % in.len] ^= (uint8_t)(1 + rand_r(&seed) % 255);
			if (in.len > 0 && rand_r(&seed) % 3 == 0)
				in.len = (size_t)rand_r(&seed) % in.len;
		}
		rc = pb_validate(md, in.data, in.len, err, sizeof(err));
		ck_assert(rc == 0 || rc == CE_CORRUPT);
		rc = pb_to_json(md, in.data, in.len, &out, err, sizeof(err));
		ck_assert(rc == 0 || rc == CE_CORRUPT);
		if (rc == 0) {
			/* whatever we print, we must read back */
			rc = pb_from_json(md, out.data, out.len, &back, err, sizeof(err));
			ck_assert_msg(rc == 0, "%s: %.*s: %s", md->name, (int)out.len,
				      (char *)out.data, err);
		}
		buf_close(&in);
		buf_close(&out);
		buf_close(&back);
	}
}
END_TEST

Suite *suite_pb(void)
{
	Suite *s = suite_create("pb");
	TCase *tc = tcase_create("wire");

	tcase_add_test(tc, test_varint);
	tcase_add_test(tc, test_writer_reader);
	tcase_add_test(tc, test_last_wins_and_groups);
	tcase_add_test(tc, test_corrupt);
	tcase_add_test(tc, test_wrong_wire_type);
	tcase_add_test(tc, test_fuzz);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}
