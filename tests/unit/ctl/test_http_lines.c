/* test_http_lines.c - the streamed-body line splitter (ctl/http_lines.h):
 * lines split across pieces, empty lines, a last line without newline,
 * stopping from the callback, and every split point of one stream. */
#include "config.h"
#include "ctl/http_lines.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct got {
	char text[4096]; /* lines joined with '|' */
	int n;
	int stop_at;     /* return 7 on this line number (1-based), 0 never */
};

static int collect(const char *line, size_t len, void *arg)
{
	struct got *g = arg;
	size_t o = strlen(g->text);

	snprintf(g->text + o, sizeof(g->text) - o, "%s%.*s", g->n > 0 ? "|" : "", (int)len, line);
	g->n++;
	return g->stop_at == g->n ? 7 : 0;
}

START_TEST(test_whole_lines)
{
	struct ctl_lines l;
	struct got g = {{0}, 0, 0};

	ctl_lines_init(&l);
	ck_assert_int_eq(ctl_lines_feed(&l, "a\nbb\n\nccc\n", 10, collect, &g), 0);
	ck_assert_int_eq(g.n, 4);
	ck_assert_str_eq(g.text, "a|bb||ccc");
	ck_assert_int_eq(ctl_lines_finish(&l, collect, &g), 0);
	ck_assert_int_eq(g.n, 4); /* nothing pending */
	ctl_lines_close(&l);
	ctl_lines_close(&l); /* again: allowed */
}
END_TEST

START_TEST(test_split_pieces)
{
	struct ctl_lines l;
	struct got g = {{0}, 0, 0};

	ctl_lines_init(&l);
	ck_assert_int_eq(ctl_lines_feed(&l, "{\"res", 5, collect, &g), 0);
	ck_assert_int_eq(g.n, 0);
	ck_assert_int_eq(ctl_lines_feed(&l, "ult\":1}", 7, collect, &g), 0);
	ck_assert_int_eq(g.n, 0);
	ck_assert_int_eq(ctl_lines_feed(&l, "\n{\"x\"", 5, collect, &g), 0);
	ck_assert_int_eq(g.n, 1);
	ck_assert_str_eq(g.text, "{\"result\":1}");
	/* the stream ends without a newline: finish hands over the tail */
	ck_assert_int_eq(ctl_lines_finish(&l, collect, &g), 0);
	ck_assert_str_eq(g.text, "{\"result\":1}|{\"x\"");
	ctl_lines_close(&l);
}
END_TEST

START_TEST(test_stop)
{
	struct ctl_lines l;
	struct got g = {{0}, 0, 2};

	ctl_lines_init(&l);
	ck_assert_int_eq(ctl_lines_feed(&l, "1\n2\n3\n", 6, collect, &g), 7);
	ck_assert_int_eq(g.n, 2); /* line 3 never delivered */
	ck_assert_str_eq(g.text, "1|2");
	ctl_lines_close(&l);
}
END_TEST

/* Every way to cut one stream in two (and into single bytes) gives the
 * same lines. */
START_TEST(test_every_split)
{
	const char *s = "first line\n\nthird\r\nlast no newline";
	size_t n = strlen(s);
	const char *want = "first line||third\r|last no newline";

	for (size_t cut = 0; cut <= n; cut++) {
		struct ctl_lines l;
		struct got g = {{0}, 0, 0};

		ctl_lines_init(&l);
		ck_assert_int_eq(ctl_lines_feed(&l, s, cut, collect, &g), 0);
		ck_assert_int_eq(ctl_lines_feed(&l, s + cut, n - cut, collect, &g), 0);
		ck_assert_int_eq(ctl_lines_finish(&l, collect, &g), 0);
		ck_assert_msg(strcmp(g.text, want) == 0, "cut %zu: %s", cut, g.text);
		ctl_lines_close(&l);
	}
	{
		struct ctl_lines l;
		struct got g = {{0}, 0, 0};

		ctl_lines_init(&l);
		for (size_t i = 0; i < n; i++)
			ck_assert_int_eq(ctl_lines_feed(&l, s + i, 1, collect, &g), 0);
		ck_assert_int_eq(ctl_lines_finish(&l, collect, &g), 0);
		ck_assert_str_eq(g.text, want);
		ctl_lines_close(&l);
	}
}
END_TEST

Suite *suite_http_lines(void);
Suite *suite_http_lines(void)
{
	Suite *s = suite_create("http_lines");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_whole_lines);
	tcase_add_test(tc, test_split_pieces);
	tcase_add_test(tc, test_stop);
	tcase_add_test(tc, test_every_split);
	suite_add_tcase(s, tc);
	return s;
}
