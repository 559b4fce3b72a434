/* test_recover.c - WAL recovery after damage: torn tails are cut and
 * reported, everything else is a clear error; a seeded random test checks
 * that recovery from a cut at any offset returns exactly a prefix. */
#include "config.h"
#include "wal/wal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"
#include "suites.h"
#include "util/err.h"
#include "wal/crc32c.h"

static char tmp[256], dir[300];
static char err[512];
static const struct wal_opts small = { .segment_bytes = 64 * 1024 };

static void setup(void)
{
	t_tmpdir(tmp);
	t_waldir(dir, tmp);
	err[0] = '\0';
}

static void teardown(void)
{
	t_rmrf(tmp);
}

static struct wal *open_ok(struct wal_recovered *rec)
{
	struct wal *w = NULL;
	int rc = wal_open(&w, dir, &small, rec, err, sizeof(err));

	ck_assert_msg(rc == 0, "wal_open: %d %s", rc, err);
	return w;
}

static int open_fails(void)
{
	struct wal_recovered rec;
	struct wal *w = NULL;
	int rc = wal_open(&w, dir, &small, &rec, err, sizeof(err));

	ck_assert_int_ne(rc, 0);
	ck_assert_ptr_null(w);
	ck_assert_uint_eq(rec.n_entries, 0);
	wal_recovered_close(&rec);
	return rc;
}

/* build writes entries 1..n (data of 'x', 40 bytes) and syncs. */
static void build(uint64_t n)
{
	struct wal_recovered rec;
	uint8_t data[40];
	struct wal *w;

	memset(data, 'x', sizeof(data));
	ck_assert_int_eq(wal_create(dir, &small, 1, 2, "meta", 4, err, sizeof(err)), 0);
	w = open_ok(&rec);
	wal_recovered_close(&rec);
	ck_assert_int_eq(wal_append_hardstate(w, 1, 1, 0), 0);
	for (uint64_t i = 1; i <= n; i++)
		ck_assert_int_eq(wal_append_entry(w, i, 1, 0, data, sizeof(data)), 0);
	ck_assert_int_eq(wal_sync(w), 0);
	wal_close(w);
}

static void last_seg(char path[400])
{
	char names[T_MAX_SEGS][64];
	int n = t_segs(dir, names, T_MAX_SEGS);

	ck_assert_int_ge(n, 1);
	t_path(path, dir, names[n - 1]);
}

/* append_and_check appends entries from..to, reopens and expects 1..to. */
static void append_and_check(struct wal *w, uint64_t from, uint64_t to)
{
	struct wal_recovered rec;

	for (uint64_t i = from; i <= to; i++)
		ck_assert_int_eq(wal_append_entry(w, i, 2, 0, "new", 3), 0);
	ck_assert_int_eq(wal_sync(w), 0);
	wal_close(w);
	w = open_ok(&rec);
	ck_assert_int_eq(rec.torn, 0);
	ck_assert_uint_eq(rec.n_entries, to);
	ck_assert_uint_eq(rec.entries[to - 1].index, to);
	ck_assert_uint_eq(rec.entries[to - 1].term, 2);
	wal_close(w);
	wal_recovered_close(&rec);
}

START_TEST(test_torn_truncated)
{
	struct wal_recovered rec;
	char path[400];
	uint64_t end;
	struct wal *w;

	build(20);
	last_seg(path);
	end = t_data_end(path);
	t_truncate(path, end - 10); /* cut into the last entry */
	w = open_ok(&rec);
	ck_assert_int_eq(rec.torn, 1);
	ck_assert_uint_eq(rec.n_entries, 19);
	ck_assert_uint_eq(rec.last_index, 19);
	ck_assert_uint_lt(rec.torn_offset, end - 10);
	ck_assert_uint_gt(rec.torn_bytes, 0);
	ck_assert_str_eq(rec.torn_segment, "0000000000000000-0000000000000001.wal");
	ck_assert_uint_ge(t_file_size(path), small.segment_bytes); /* preallocated again */
	wal_recovered_close(&rec);
	append_and_check(w, 20, 25);
}
END_TEST

START_TEST(test_torn_garbage_then_zeros)
{
	struct wal_recovered rec;
	uint8_t junk[100];
	char path[400];
	uint64_t end;
	struct wal *w;

	build(20);
	last_seg(path);
	end = (t_data_end(path) + 7) & ~7ull;
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 73 + 11);
	t_write(path, end, junk, sizeof(junk));
	w = open_ok(&rec);
	ck_assert_int_eq(rec.torn, 1);
	ck_assert_uint_eq(rec.torn_offset, end);
	ck_assert_uint_eq(rec.n_entries, 20);
	wal_recovered_close(&rec);
	/* The debris was zeroed: a short append leaves no stale bytes behind. */
	append_and_check(w, 21, 21);
}
END_TEST

START_TEST(test_torn_partial_header)
{
	struct wal_recovered rec;
	uint8_t junk[5] = { 1, 2, 3, 4, 5 };
	char path[400];
	uint64_t end;
	struct wal *w;

	build(3);
	last_seg(path);
	end = (t_data_end(path) + 7) & ~7ull;
	t_write(path, end, junk, sizeof(junk));
	t_truncate(path, end + sizeof(junk)); /* EOF inside a header */
	w = open_ok(&rec);
	ck_assert_int_eq(rec.torn, 1);
	ck_assert_uint_eq(rec.n_entries, 3);
	wal_recovered_close(&rec);
	append_and_check(w, 4, 4);
}
END_TEST

/* flip_x flips a payload byte ('x') near the middle of [lo, hi). */
static uint64_t flip_x(const char *path, uint64_t lo, uint64_t hi)
{
	for (uint64_t off = lo + (hi - lo) / 2; off < hi; off++) {
		uint8_t c;
		t_read(path, off, &c, 1);
		if (c == 'x') {
			c ^= 0x40;
			t_write(path, off, &c, 1);
			return off;
		}
	}
	ck_abort_msg("no payload byte found");
	return 0;
}

START_TEST(test_flip_mid_last_segment)
{
	char path[400];
	int rc;

	build(50);
	last_seg(path);
	flip_x(path, 0, t_data_end(path));
	rc = open_fails();
	ck_assert_int_eq(rc, CE_CORRUPT);
	ck_assert_msg(strstr(err, "open wal: segment 0000000000000000-0000000000000001.wal: bad crc at offset ") == err,
		      "message: %s", err);
}
END_TEST

START_TEST(test_zeroed_record_mid_log)
{
	uint8_t zeros[64] = { 0 };
	char path[400];
	uint64_t end;

	build(50);
	last_seg(path);
	end = t_data_end(path);
	/* Records are 72 bytes here; zero one header-aligned stretch. */
	t_write(path, (end / 2) & ~7ull, zeros, sizeof(zeros));
	ck_assert_int_eq(open_fails(), CE_CORRUPT);
	ck_assert_ptr_nonnull(strstr(err, "at offset"));
}
END_TEST

START_TEST(test_flip_earlier_segment)
{
	char names[T_MAX_SEGS][64];
	char path[400];
	int n;

	build(3000);
	n = t_segs(dir, names, T_MAX_SEGS);
	ck_assert_int_ge(n, 3);
	t_path(path, dir, names[0]);
	flip_x(path, 0, t_data_end(path));
	ck_assert_int_eq(open_fails(), CE_CORRUPT);
	ck_assert_ptr_nonnull(strstr(err, names[0]));
	ck_assert_ptr_nonnull(strstr(err, "bad crc at offset"));
}
END_TEST

START_TEST(test_torn_in_sealed_segment_is_corrupt)
{
	char names[T_MAX_SEGS][64];
	char path[400];

	build(3000);
	ck_assert_int_ge(t_segs(dir, names, T_MAX_SEGS), 3);
	t_path(path, dir, names[1]);
	t_truncate(path, t_data_end(path) - 3);
	ck_assert_int_eq(open_fails(), CE_CORRUPT);
	ck_assert_ptr_nonnull(strstr(err, names[1]));
}
END_TEST

START_TEST(test_missing_segment)
{
	char names[T_MAX_SEGS][64];
	char path[400];

	build(3000);
	ck_assert_int_ge(t_segs(dir, names, T_MAX_SEGS), 3);
	t_path(path, dir, names[1]);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(open_fails(), CE_CORRUPT);
	ck_assert_ptr_nonnull(strstr(err, "missing segment"));
}
END_TEST

START_TEST(test_bad_version)
{
	uint8_t rec[48];
	char path[400];
	uint32_t crc;

	build(2);
	last_seg(path);
	/* Segment header record: 12-byte header, then magic, version u32. */
	t_read(path, 0, rec, sizeof(rec));
	rec[20] = 7; /* version 7, little-endian */
	crc = crc32c(crc32c(0, rec + 8, 4), rec + 12, 32);
	rec[0] = (uint8_t)crc; rec[1] = (uint8_t)(crc >> 8);
	rec[2] = (uint8_t)(crc >> 16); rec[3] = (uint8_t)(crc >> 24);
	t_write(path, 0, rec, sizeof(rec));
	ck_assert_int_eq(open_fails(), CE_VERSION);
	ck_assert_ptr_nonnull(strstr(err, "0000000000000000-0000000000000001.wal"));
	ck_assert_ptr_nonnull(strstr(err, "unsupported wal format version 7"));
}
END_TEST

START_TEST(test_bad_magic)
{
	char path[400];

	build(2);
	last_seg(path);
	t_write(path, 12, "XXXX", 4);
	ck_assert_int_eq(open_fails(), CE_CORRUPT);
	ck_assert_ptr_nonnull(strstr(err, "bad segment header"));
}
END_TEST

START_TEST(test_stray_tmp_removed)
{
	struct wal_recovered rec;
	char path[400];
	struct wal *w;
	FILE *f;

	build(5);
	t_path(path, dir, "0000000000000001-0000000000000006.wal.tmp");
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("half a segment", f);
	fclose(f);
	w = open_ok(&rec);
	ck_assert_uint_eq(rec.n_entries, 5);
	ck_assert_int_ne(access(path, F_OK), 0);
	wal_close(w);
	wal_recovered_close(&rec);
}
END_TEST

/* --- randomised: cut the last segment anywhere, expect a prefix --- */

static uint64_t rnd_state;

static uint64_t rnd(void)
{
	/* xorshift64*: deterministic for a printed seed. */
	rnd_state ^= rnd_state >> 12;
	rnd_state ^= rnd_state << 25;
	rnd_state ^= rnd_state >> 27;
	return rnd_state * 0x2545F4914F6CDD1Dull;
}

static uint64_t rnd_below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

struct scenario {
	struct t_op *ops;
	size_t n;
	size_t sealed; /* ops before the last segment cut: must survive */
};

static void gen_ops(struct scenario *sc, size_t n)
{
	uint64_t last = 0, term = 1, snap = 0;

	sc->ops = calloc(n, sizeof(*sc->ops));
	ck_assert_ptr_nonnull(sc->ops);
	sc->n = n;
	for (size_t i = 0; i < n; i++) {
		struct t_op *op = &sc->ops[i];
		uint64_t r = rnd_below(100);
		if (r < 8) {
			*op = (struct t_op){ .kind = T_HS, .a = term, .b = rnd_below(5), .c = rnd_below(last + 1) };
		} else if (r < 11) {
			/* Mostly behind the log (compaction), sometimes ahead of it
			 * (a follower installing a leader's snapshot). */
			uint64_t idx = snap + rnd_below(last - snap + 3);
			*op = (struct t_op){ .kind = T_SNAP, .a = idx, .b = term };
			snap = idx;
			if (idx > last)
				last = idx;
		} else {
			uint64_t idx = last + 1;
			if (r < 16 && last > snap) { /* conflict: overwrite a suffix */
				idx = snap + 1 + rnd_below(last - snap);
				term++;
			}
			*op = (struct t_op){ .kind = T_ENTRY, .a = idx, .b = term, .c = rnd_below(4) };
			op->len = (size_t)rnd_below(r < 13 ? 3000 : 200);
			op->data = malloc(op->len ? op->len : 1);
			ck_assert_ptr_nonnull(op->data);
			for (size_t k = 0; k < op->len; k++)
				op->data[k] = (uint8_t)rnd();
			last = idx;
		}
	}
}

static void free_ops(struct scenario *sc)
{
	for (size_t i = 0; i < sc->n; i++)
		free(sc->ops[i].data);
	free(sc->ops);
}

static void write_ops(struct scenario *sc, const struct wal_opts *o)
{
	struct wal_recovered rec;
	struct wal_stats st;
	uint64_t cuts = 0;
	struct wal *w = NULL;

	ck_assert_int_eq(wal_create(dir, o, 3, 4, "rnd", 3, err, sizeof(err)), 0);
	ck_assert_int_eq(wal_open(&w, dir, o, &rec, err, sizeof(err)), 0);
	wal_recovered_close(&rec);
	sc->sealed = 0;
	for (size_t i = 0; i < sc->n; i++) {
		ck_assert_int_eq(t_op_append(w, &sc->ops[i]), 0);
		wal_get_stats(w, &st);
		if (st.segments_created != cuts) {
			cuts = st.segments_created;
			sc->sealed = i; /* op i went into the new segment */
		}
		if (rnd_below(10) == 0)
			ck_assert_int_eq(wal_sync(w), 0);
	}
	ck_assert_int_eq(wal_sync(w), 0);
	wal_close(w);
}

/* damage cuts the last segment at a random offset past its opening
 * records, sometimes leaving random debris there instead. Returns 1 if
 * every record survived (the cut fell exactly at the end of the data). */
static int damage(void)
{
	uint8_t junk[300];
	char path[400];
	uint64_t lo = 48 + 32, end, at; /* segment header + metadata("rnd") */

	last_seg(path);
	end = t_data_end(path);
	if (end <= lo)
		return 1;
	at = lo + rnd_below(end - lo + 1);
	if (rnd_below(3) == 0) {
		size_t n = 1 + (size_t)rnd_below(sizeof(junk));
		for (size_t k = 0; k < n; k++)
			junk[k] = (uint8_t)(rnd() | 1);
		t_write(path, at, junk, n);
		if (at + n < end) {
			static const uint8_t z[65536];
			size_t zn = (size_t)(end - at - n);
			t_write(path, at + n, z, zn < sizeof(z) ? zn : sizeof(z));
		}
	} else {
		t_truncate(path, at);
	}
	return at == end;
}

/* matched_prefix returns the k for which ops[0..k) replays to rec, or -1. */
static long matched_prefix(const struct scenario *sc, const struct wal_recovered *rec)
{
	struct t_model m = { 0 };
	long found = -1;

	for (size_t k = 0; k <= sc->n; k++) {
		if (k >= sc->sealed && t_model_equal(&m, rec))
			found = (long)k;
		if (k < sc->n)
			t_model_apply(&m, &sc->ops[k]);
	}
	t_model_free(&m);
	return found;
}

START_TEST(test_random_cut_is_prefix)
{
	const char *env = getenv("WAL_TEST_SEED");
	uint64_t seed = env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL) ^ (uint64_t)getpid() << 20;

	printf("test_random_cut_is_prefix: seed %llu (set WAL_TEST_SEED to repeat)\n",
	       (unsigned long long)seed);
	fflush(stdout);
	rnd_state = seed ? seed : 1;
	for (int iter = 0; iter < 40; iter++) {
		struct wal_opts o = { .segment_bytes = 4096 << rnd_below(3), .buffer_bytes = 1024 };
		struct wal_recovered rec;
		struct scenario sc;
		struct wal *w = NULL;
		int rc, intact;
		long k;

		t_rmrf(dir);
		gen_ops(&sc, 20 + (size_t)rnd_below(300));
		write_ops(&sc, &o);
		intact = damage();
		rc = wal_open(&w, dir, &o, &rec, err, sizeof(err));
		ck_assert_msg(rc == 0, "seed %llu iter %d: %s", (unsigned long long)seed, iter, err);
		k = matched_prefix(&sc, &rec);
		ck_assert_msg(k >= 0, "seed %llu iter %d: recovered state is no prefix", (unsigned long long)seed, iter);
		ck_assert_msg(!intact || (size_t)k == sc.n, "seed %llu iter %d: records lost", (unsigned long long)seed, iter);
		ck_assert_uint_eq(rec.member_id, 3);
		/* The log goes on from there and a later reopen is clean. */
		{
			uint64_t next = rec.last_index + 1;
			size_t before = rec.n_entries;
			wal_recovered_close(&rec);
			ck_assert_int_eq(wal_append_entry(w, next, 99, 1, "z", 1), 0);
			ck_assert_int_eq(wal_sync(w), 0);
			wal_close(w);
			ck_assert_int_eq(wal_open(&w, dir, &o, &rec, err, sizeof(err)), 0);
			ck_assert_int_eq(rec.torn, 0);
			ck_assert_uint_eq(rec.last_index, next);
			ck_assert_msg(rec.n_entries > 0, "seed %llu iter %d: no entries after append at %llu (snapshot %llu)",
				      (unsigned long long)seed, iter, (unsigned long long)next,
				      (unsigned long long)rec.snapshot.index);
			ck_assert_uint_eq(rec.entries[rec.n_entries - 1].term, 99);
			ck_assert_uint_le(rec.n_entries, before + 1);
			wal_close(w);
			wal_recovered_close(&rec);
		}
		free_ops(&sc);
	}
}
END_TEST

Suite *suite_recover(void)
{
	Suite *s = suite_create("wal_recover");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_torn_truncated);
	tcase_add_test(tc, test_torn_garbage_then_zeros);
	tcase_add_test(tc, test_torn_partial_header);
	tcase_add_test(tc, test_flip_mid_last_segment);
	tcase_add_test(tc, test_zeroed_record_mid_log);
	tcase_add_test(tc, test_flip_earlier_segment);
	tcase_add_test(tc, test_torn_in_sealed_segment_is_corrupt);
	tcase_add_test(tc, test_missing_segment);
	tcase_add_test(tc, test_bad_version);
	tcase_add_test(tc, test_bad_magic);
	tcase_add_test(tc, test_stray_tmp_removed);
	tcase_add_test(tc, test_random_cut_is_prefix);
	suite_add_tcase(s, tc);
	return s;
}
