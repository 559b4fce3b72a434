/* test_wal.c - the WAL's normal life: create, append, group-commit sync,
 * reopen, segment cuts, overwritten entries, snapshot markers, release. */
#include "config.h"
#include "wal/wal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "suites.h"
#include "util/err.h"

static char tmp[256], dir[300];
static char err[512];

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

static const struct wal_opts small = { .segment_bytes = 64 * 1024 };

static struct wal *reopen(struct wal_recovered *rec, const struct wal_opts *o)
{
	struct wal *w = NULL;
	int rc = wal_open(&w, dir, o, rec, err, sizeof(err));

	ck_assert_msg(rc == 0, "wal_open: %d %s", rc, err);
	ck_assert_ptr_nonnull(w);
	return w;
}

/* fill makes deterministic entry data so a reader can check it. */
static size_t fill(uint8_t *p, uint64_t index, uint64_t term, size_t len)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(index * 31 + term * 7 + i);
	return len;
}

static void check_entry(const struct wal_entry *e, uint64_t index, uint64_t term, size_t len)
{
	uint8_t want[4096];

	ck_assert_uint_eq(e->index, index);
	ck_assert_uint_eq(e->term, term);
	ck_assert_uint_eq(e->len, len);
	fill(want, index, term, len);
	ck_assert(len == 0 || memcmp(e->data, want, len) == 0);
}

START_TEST(test_create_exists)
{
	struct wal_recovered rec;
	struct wal *w;

	ck_assert_int_eq(wal_exists(dir), 0);
	ck_assert_int_eq(wal_create(dir, &small, 0x1111, 0x2222, "hello", 5, err, sizeof(err)), 0);
	ck_assert_int_eq(wal_exists(dir), 1);
	ck_assert_int_eq(wal_create(dir, &small, 1, 2, NULL, 0, err, sizeof(err)), CE_EXISTS);
	ck_assert_ptr_nonnull(strstr(err, "already holds a wal"));

	w = reopen(&rec, &small);
	ck_assert_uint_eq(rec.member_id, 0x1111);
	ck_assert_uint_eq(rec.cluster_id, 0x2222);
	ck_assert_uint_eq(rec.metalen, 5);
	ck_assert_int_eq(memcmp(rec.meta, "hello", 5), 0);
	ck_assert_int_eq(rec.has_hardstate, 0);
	ck_assert_int_eq(rec.has_snapshot, 0);
	ck_assert_uint_eq(rec.n_entries, 0);
	ck_assert_uint_eq(rec.last_index, 0);
	ck_assert_int_eq(rec.torn, 0);
	ck_assert_uint_eq(rec.segments, 1);
	wal_close(w);
	wal_recovered_close(&rec);
}
END_TEST

START_TEST(test_open_missing)
{
	struct wal_recovered rec;
	struct wal *w = (struct wal *)1;

	ck_assert_int_eq(wal_open(&w, dir, NULL, &rec, err, sizeof(err)), CE_NOTFOUND);
	ck_assert_ptr_null(w);
	ck_assert_ptr_nonnull(strstr(err, "open wal"));
	wal_recovered_close(&rec);
}
END_TEST

START_TEST(test_roundtrip)
{
	struct wal_recovered rec;
	uint8_t data[512];
	struct wal *w;

	ck_assert_int_eq(wal_create(dir, NULL, 7, 9, "m", 1, err, sizeof(err)), 0);
	w = reopen(&rec, NULL);
	wal_recovered_close(&rec);
	for (uint64_t i = 1; i <= 20; i++)
		ck_assert_int_eq(wal_append_entry(w, i, 1 + i / 10, (uint8_t)(i % 3), data,
						  fill(data, i, 1 + i / 10, (size_t)(i * 13 % 300))), 0);
	ck_assert_int_eq(wal_append_entry(w, 21, 3, 0, NULL, 0), 0);
	ck_assert_int_eq(wal_append_hardstate(w, 3, 7, 15), 0);
	ck_assert_int_eq(wal_append_snapshot(w, 4, 1), 0);
	ck_assert_int_eq(wal_append_hardstate(w, 3, 7, 18), 0);
	ck_assert_int_eq(wal_sync(w), 0);
	ck_assert_uint_eq(wal_last_index(w), 21);
	wal_close(w);

	w = reopen(&rec, NULL);
	ck_assert_uint_eq(rec.member_id, 7);
	ck_assert_uint_eq(rec.cluster_id, 9);
	ck_assert_int_eq(rec.has_hardstate, 1);
	ck_assert_uint_eq(rec.hardstate.term, 3);
	ck_assert_uint_eq(rec.hardstate.vote, 7);
	ck_assert_uint_eq(rec.hardstate.commit, 18);
	ck_assert_int_eq(rec.has_snapshot, 1);
	ck_assert_uint_eq(rec.snapshot.index, 4);
	ck_assert_uint_eq(rec.snapshot.term, 1);
	ck_assert_uint_eq(rec.n_entries, 17); /* 5..21 */
	for (uint64_t i = 5; i <= 20; i++) {
		check_entry(&rec.entries[i - 5], i, 1 + i / 10, (size_t)(i * 13 % 300));
		ck_assert_uint_eq(rec.entries[i - 5].type, i % 3);
	}
	check_entry(&rec.entries[16], 21, 3, 0);
	ck_assert_ptr_null(rec.entries[16].data);
	ck_assert_uint_eq(rec.last_index, 21);
	ck_assert_int_eq(rec.torn, 0);
	wal_close(w);
	wal_recovered_close(&rec);
}
END_TEST

START_TEST(test_group_commit)
{
	struct wal_recovered rec;
	struct wal_stats s0, s1;
	uint8_t data[100];
	struct wal *w;

	ck_assert_int_eq(wal_create(dir, &small, 1, 1, NULL, 0, err, sizeof(err)), 0);
	w = reopen(&rec, &small);
	wal_recovered_close(&rec);
	wal_get_stats(w, &s0);
	ck_assert_uint_eq(wal_pending(w), 0);
	for (uint64_t i = 1; i <= 100; i++)
		ck_assert_int_eq(wal_append_entry(w, i, 1, 0, data, fill(data, i, 1, 40)), 0);
	ck_assert_int_eq(wal_append_hardstate(w, 1, 1, 100), 0);
	ck_assert_uint_gt(wal_pending(w), 100 * 40);
	wal_get_stats(w, &s1);
	ck_assert_uint_eq(s1.fsyncs, s0.fsyncs);       /* appends never sync */
	ck_assert_uint_eq(s1.bytes_written, s0.bytes_written); /* nor write */
	ck_assert_int_eq(wal_sync(w), 0);
	wal_get_stats(w, &s1);
	ck_assert_uint_eq(s1.fsyncs, s0.fsyncs + 1);   /* one fdatasync for all */
	ck_assert_uint_eq(s1.records, 101);
	ck_assert_uint_ge(s1.bytes_written - s0.bytes_written, 100 * 40);
	ck_assert_uint_eq(wal_pending(w), 0);
	ck_assert_int_eq(wal_sync(w), 0);              /* nothing pending: no-op */
	wal_get_stats(w, &s0);
	ck_assert_uint_eq(s0.fsyncs, s1.fsyncs);
	/* Unsynced and unwritten appends are gone after a close. */
	ck_assert_int_eq(wal_append_entry(w, 101, 1, 0, NULL, 0), 0);
	wal_close(w);
	w = reopen(&rec, &small);
	ck_assert_uint_eq(rec.n_entries, 100);
	ck_assert_uint_eq(rec.hardstate.commit, 100);
	wal_close(w);
	wal_recovered_close(&rec);
}
END_TEST

START_TEST(test_gap_rejected)
{
	struct wal_recovered rec;
	struct wal *w;

	ck_assert_int_eq(wal_create(dir, &small, 1, 1, NULL, 0, err, sizeof(err)), 0);
	w = reopen(&rec, &small);
	ck_assert_int_eq(wal_append_entry(w, 2, 1, 0, NULL, 0), CE_INVAL);
	ck_assert_ptr_nonnull(strstr(wal_last_error(w), "gap"));
	ck_assert_int_eq(wal_append_entry(w, 0, 1, 0, NULL, 0), CE_INVAL);
	/* Not sticky: the log is fine. */
	ck_assert_int_eq(wal_append_entry(w, 1, 1, 0, NULL, 0), 0);
	ck_assert_int_eq(wal_append_entry(w, 2, 1, 0, NULL, 0), 0);
	ck_assert_int_eq(wal_append_snapshot(w, 2, 1), 0);
	ck_assert_int_eq(wal_append_entry(w, 2, 2, 0, NULL, 0), CE_INVAL);
	ck_assert_ptr_nonnull(strstr(wal_last_error(w), "covered by the snapshot"));
	ck_assert_int_eq(wal_append_entry(w, 3, 2, 0, NULL, 0), 0);
	ck_assert_int_eq(wal_sync(w), 0);
	wal_close(w);
	wal_recovered_close(&rec);
}
END_TEST

static size_t seg_len_for(uint64_t i)
{
	return (size_t)(20 + i * 37 % 180);
}

START_TEST(test_many_segments)
{
	struct wal_recovered rec;
	char names[T_MAX_SEGS][64];
	static uint8_t big[200 * 1024];
	uint8_t data[256];
	struct wal_stats st;
	struct wal *w;
	int nseg;

	ck_assert_int_eq(wal_create(dir, &small, 5, 6, "meta", 4, err, sizeof(err)), 0);
	w = reopen(&rec, &small);
	wal_recovered_close(&rec);
	ck_assert_int_eq(wal_append_hardstate(w, 1, 5, 0), 0);
	for (uint64_t i = 1; i <= 3000; i++) {
		ck_assert_int_eq(wal_append_entry(w, i, 1, 0, data, fill(data, i, 1, seg_len_for(i))), 0);
		if (i % 37 == 0)
			ck_assert_int_eq(wal_sync(w), 0);
		if (i == 1500) /* bigger than a whole segment: gets its own */
			ck_assert_int_eq(wal_append_entry(w, ++i, 1, 9, big, sizeof(big)), 0);
	}
	ck_assert_int_eq(wal_sync(w), 0);
	wal_get_stats(w, &st);
	ck_assert_uint_ge(st.segments_created, 6);
	wal_close(w);

	nseg = t_segs(dir, names, T_MAX_SEGS);
	ck_assert_int_ge(nseg, 7);
	ck_assert_str_eq(names[0], "0000000000000000-0000000000000001.wal");
	w = reopen(&rec, &small);
	ck_assert_uint_eq(rec.segments, (size_t)nseg);
	ck_assert_uint_eq(rec.n_entries, 3000);
	ck_assert_uint_eq(rec.member_id, 5);
	ck_assert_uint_eq(rec.metalen, 4);
	ck_assert_int_eq(rec.has_hardstate, 1);
	ck_assert_uint_eq(rec.hardstate.vote, 5);
	for (uint64_t i = 1; i <= 3000; i++) {
		if (i == 1501) {
			ck_assert_uint_eq(rec.entries[i - 1].len, sizeof(big));
			continue;
		}
		check_entry(&rec.entries[i - 1], i, 1, seg_len_for(i));
	}
	/* Appending continues in the last segment and across new cuts. */
	for (uint64_t i = 3001; i <= 3600; i++)
		ck_assert_int_eq(wal_append_entry(w, i, 2, 0, data, fill(data, i, 2, 150)), 0);
	ck_assert_int_eq(wal_sync(w), 0);
	wal_close(w);
	wal_recovered_close(&rec);
	w = reopen(&rec, &small);
	ck_assert_uint_eq(rec.n_entries, 3600);
	check_entry(&rec.entries[3599], 3600, 2, 150);
	ck_assert_int_gt(t_segs(dir, names, T_MAX_SEGS), nseg);
	wal_close(w);
	wal_recovered_close(&rec);
}
END_TEST

START_TEST(test_overwrite)
{
	struct wal_recovered rec;
	uint8_t data[64];
	struct wal *w;

	ck_assert_int_eq(wal_create(dir, &small, 1, 1, NULL, 0, err, sizeof(err)), 0);
	w = reopen(&rec, &small);
	wal_recovered_close(&rec);
	for (uint64_t i = 1; i <= 10; i++)
		ck_assert_int_eq(wal_append_entry(w, i, 1, 0, data, fill(data, i, 1, 30)), 0);
	ck_assert_int_eq(wal_sync(w), 0);
	for (uint64_t i = 6; i <= 8; i++)
		ck_assert_int_eq(wal_append_entry(w, i, 2, 0, data, fill(data, i, 2, 20)), 0);
	ck_assert_uint_eq(wal_last_index(w), 8);
	ck_assert_int_eq(wal_sync(w), 0);
	wal_close(w);

	w = reopen(&rec, &small);
	ck_assert_uint_eq(rec.n_entries, 8);
	for (uint64_t i = 1; i <= 5; i++)
		check_entry(&rec.entries[i - 1], i, 1, 30);
	for (uint64_t i = 6; i <= 8; i++)
		check_entry(&rec.entries[i - 1], i, 2, 20);
	ck_assert_uint_eq(rec.last_index, 8);
	wal_recovered_close(&rec);
	/* Overwrite again after a reopen, down to index 1. */
	ck_assert_int_eq(wal_append_entry(w, 1, 3, 0, data, fill(data, 1, 3, 5)), 0);
	ck_assert_int_eq(wal_sync(w), 0);
	wal_close(w);
	w = reopen(&rec, &small);
	ck_assert_uint_eq(rec.n_entries, 1);
	check_entry(&rec.entries[0], 1, 3, 5);
	wal_close(w);
	wal_recovered_close(&rec);
}
END_TEST

START_TEST(test_overwrite_across_segments)
{
	struct wal_recovered rec;
	uint8_t data[256];
	struct wal *w;

	ck_assert_int_eq(wal_create(dir, &small, 1, 1, NULL, 0, err, sizeof(err)), 0);
	w = reopen(&rec, &small);
	wal_recovered_close(&rec);
	for (uint64_t i = 1; i <= 1000; i++)
		ck_assert_int_eq(wal_append_entry(w, i, 1, 0, data, fill(data, i, 1, 200)), 0);
	/* The conflict reaches back into an earlier, sealed segment. */
	for (uint64_t i = 10; i <= 20; i++)
		ck_assert_int_eq(wal_append_entry(w, i, 2, 0, data, fill(data, i, 2, 10)), 0);
	ck_assert_int_eq(wal_sync(w), 0);
	wal_close(w);
	w = reopen(&rec, &small);
	ck_assert_uint_gt(rec.segments, 2);
	ck_assert_uint_eq(rec.n_entries, 20);
	check_entry(&rec.entries[8], 9, 1, 200);
	check_entry(&rec.entries[19], 20, 2, 10);
	wal_close(w);
	wal_recovered_close(&rec);
}
END_TEST

START_TEST(test_snapshot_marker)
{
	struct wal_recovered rec;
	struct wal *w;

	ck_assert_int_eq(wal_create(dir, &small, 1, 1, NULL, 0, err, sizeof(err)), 0);
	w = reopen(&rec, &small);
	wal_recovered_close(&rec);
	for (uint64_t i = 1; i <= 10; i++)
		ck_assert_int_eq(wal_append_entry(w, i, 1, 0, NULL, 0), 0);
	ck_assert_int_eq(wal_append_snapshot(w, 7, 1), 0);
	ck_assert_int_eq(wal_sync(w), 0);
	wal_close(w);
	w = reopen(&rec, &small);
	ck_assert_uint_eq(rec.snapshot.index, 7);
	ck_assert_uint_eq(rec.n_entries, 3);
	ck_assert_uint_eq(rec.entries[0].index, 8);
	ck_assert_uint_eq(rec.last_index, 10);
	wal_recovered_close(&rec);
	/* A snapshot installed beyond the log (follower catching up). */
	ck_assert_int_eq(wal_append_snapshot(w, 50, 4), 0);
	ck_assert_uint_eq(wal_last_index(w), 50);
	ck_assert_int_eq(wal_append_entry(w, 51, 4, 0, NULL, 0), 0);
	ck_assert_int_eq(wal_sync(w), 0);
	wal_close(w);
	w = reopen(&rec, &small);
	ck_assert_uint_eq(rec.snapshot.index, 50);
	ck_assert_uint_eq(rec.snapshot.term, 4);
	ck_assert_uint_eq(rec.n_entries, 1);
	ck_assert_uint_eq(rec.entries[0].index, 51);
	ck_assert_uint_eq(rec.last_index, 51);
	wal_close(w);
	wal_recovered_close(&rec);
}
END_TEST

/* The membership recorded with a snapshot marker survives reopen, a later
 * marker without conf, segment cuts and the release of old segments. */
START_TEST(test_snapshot_conf)
{
	struct wal_recovered rec;
	uint8_t data[256] = { 0 };
	struct wal *w;

	ck_assert_int_eq(wal_create(dir, &small, 1, 1, NULL, 0, err, sizeof(err)), 0);
	w = reopen(&rec, &small);
	wal_recovered_close(&rec);
	for (uint64_t i = 1; i <= 10; i++)
		ck_assert_int_eq(wal_append_entry(w, i, 1, 0, NULL, 0), 0);
	ck_assert_int_eq(wal_append_snapshot_conf(w, 5, 1, "{\"m\":1}", 7), 0);
	ck_assert_int_eq(wal_append_snapshot(w, 8, 1), 0);
	for (uint64_t i = 11; i <= 2000; i++)
		ck_assert_int_eq(wal_append_entry(w, i, 1, 0, data, sizeof(data)), 0);
	ck_assert_int_eq(wal_sync(w), 0);
	ck_assert_int_eq(wal_release_before(w, 1900), 0);
	wal_close(w);
	w = reopen(&rec, &small);
	ck_assert_uint_eq(rec.snapshot.index, 8);
	ck_assert_uint_eq(rec.snapshot.conf_len, 7);
	ck_assert_int_eq(memcmp(rec.snapshot.conf, "{\"m\":1}", 7), 0);
	wal_close(w);
	wal_recovered_close(&rec);
}
END_TEST

START_TEST(test_release_before)
{
	char names[T_MAX_SEGS][64];
	struct wal_recovered rec;
	uint8_t data[256];
	struct wal_stats st;
	struct wal *w;
	int before, after;
	uint64_t first;

	ck_assert_int_eq(wal_create(dir, &small, 1, 1, "x", 1, err, sizeof(err)), 0);
	w = reopen(&rec, &small);
	wal_recovered_close(&rec);
	ck_assert_int_eq(wal_append_hardstate(w, 1, 2, 0), 0); /* only in segment 0 */
	for (uint64_t i = 1; i <= 2000; i++)
		ck_assert_int_eq(wal_append_entry(w, i, 1, 0, data, fill(data, i, 1, 150)), 0);
	ck_assert_int_eq(wal_append_snapshot(w, 1500, 1), 0);
	ck_assert_int_eq(wal_sync(w), 0);
	before = t_segs(dir, names, T_MAX_SEGS);
	ck_assert_int_ge(before, 4);
	ck_assert_int_eq(wal_release_before(w, 1500), 0);
	after = t_segs(dir, names, T_MAX_SEGS);
	ck_assert_int_lt(after, before);
	ck_assert_int_ge(after, 1);
	wal_get_stats(w, &st);
	ck_assert_uint_eq(st.segments_released, (uint64_t)(before - after));
	first = strtoull(names[0] + 17, NULL, 16);
	ck_assert_uint_le(first, 1500);
	/* Releasing everything keeps the current segment. */
	ck_assert_int_eq(wal_release_before(w, UINT64_MAX), 0);
	ck_assert_int_eq(t_segs(dir, names, T_MAX_SEGS), 1);
	for (uint64_t i = 2001; i <= 2100; i++)
		ck_assert_int_eq(wal_append_entry(w, i, 2, 0, data, fill(data, i, 2, 150)), 0);
	ck_assert_int_eq(wal_sync(w), 0);
	wal_close(w);

	w = reopen(&rec, &small);
	ck_assert_int_eq(rec.has_hardstate, 1); /* copied into every segment */
	ck_assert_uint_eq(rec.hardstate.vote, 2);
	ck_assert_int_eq(rec.has_snapshot, 1);
	ck_assert_uint_eq(rec.snapshot.index, 1500);
	ck_assert_uint_eq(rec.metalen, 1);
	ck_assert_uint_eq(rec.last_index, 2100);
	ck_assert_uint_ge(rec.n_entries, 100);
	ck_assert_uint_eq(rec.entries[rec.n_entries - 1].index, 2100);
	for (size_t k = 1; k < rec.n_entries; k++)
		ck_assert_uint_eq(rec.entries[k].index, rec.entries[k - 1].index + 1);
	check_entry(&rec.entries[rec.n_entries - 101], 2000, 1, 150);
	wal_close(w);
	wal_recovered_close(&rec);
}
END_TEST

Suite *suite_wal(void)
{
	Suite *s = suite_create("wal");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_create_exists);
	tcase_add_test(tc, test_open_missing);
	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_group_commit);
	tcase_add_test(tc, test_gap_rejected);
	tcase_add_test(tc, test_many_segments);
	tcase_add_test(tc, test_overwrite);
	tcase_add_test(tc, test_overwrite_across_segments);
	tcase_add_test(tc, test_snapshot_marker);
	tcase_add_test(tc, test_snapshot_conf);
	tcase_add_test(tc, test_release_before);
	suite_add_tcase(s, tc);
	return s;
}
