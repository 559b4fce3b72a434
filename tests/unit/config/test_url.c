/* test_url.c - URL, URL-list, initial-cluster and Go duration parsing. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "config/cluster.h"
#include "config/internal.h"
#include "config/url.h"
#include "suites.h"
#include "util/err.h"

START_TEST(test_url_ok)
{
	struct cetcd_url u;
	char err[256];

	ck_assert_int_eq(url_parse("http://127.0.0.1:2379", &u, err, sizeof(err)), 0);
	ck_assert_str_eq(u.scheme, "http");
	ck_assert_str_eq(u.host, "127.0.0.1");
	ck_assert_int_eq(u.port, 2379);
	ck_assert_str_eq(u.str, "http://127.0.0.1:2379");
	url_close(&u);
	ck_assert_int_eq(url_parse("  HTTPS://Node-1.example:443 ", &u, err, sizeof(err)), 0);
	ck_assert_str_eq(u.scheme, "https");
	ck_assert_str_eq(u.str, "https://Node-1.example:443");
	ck_assert_str_eq(u.host, "Node-1.example");
	url_close(&u);
	ck_assert_int_eq(url_parse("http://[fe80::1]:2380", &u, err, sizeof(err)), 0);
	ck_assert_str_eq(u.host, "fe80::1");
	ck_assert_int_eq(u.port, 2380);
	url_close(&u);
	ck_assert_int_eq(url_parse("unixs://localhost:1", &u, err, sizeof(err)), 0);
	ck_assert_str_eq(u.scheme, "unixs");
	url_close(&u);
	ck_assert_int_eq(url_parse("http://:0", &u, err, sizeof(err)), 0);
	ck_assert_str_eq(u.host, "");
	url_close(&u);
}
END_TEST

START_TEST(test_url_errors)
{
	static const struct {
		const char *in, *msg;
	} cases[] = {
		{"foo", "URL scheme must be http, https, unix, or unixs: foo"},
		{"", "URL scheme must be http, https, unix, or unixs: "},
		{"ftp://a:1", "URL scheme must be http, https, unix, or unixs: ftp://a:1"},
		{"http//a:1", "URL scheme must be"},
		{"http://a", "URL address does not have the form \"host:port\": http://a"},
		{"http://a:b", "does not have the form \"host:port\""},
		{"http://a:", "does not have the form \"host:port\""},
		{"http://a:99999", "does not have the form \"host:port\""},
		{"http://a:1:2", "does not have the form \"host:port\""},
		{"http://::1:2", "does not have the form \"host:port\""},
		{"http://[::1]", "does not have the form \"host:port\""},
		{"http://u@a:1", "does not have the form \"host:port\""},
		{"http:a:1", "does not have the form \"host:port\""},
		{"http://a:1/", "URL must not contain a path: http://a:1/"},
		{"http://a:1?x=1", "URL must not contain a path"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cetcd_url u;
		char err[256] = "";
		ck_assert_msg(url_parse(cases[i].in, &u, err, sizeof(err)) == CE_INVAL, "accepted %s", cases[i].in);
		ck_assert_msg(strstr(err, cases[i].msg) != NULL, "%s: %s", cases[i].in, err);
		ck_assert_ptr_null(u.str);
		ck_assert_ptr_null(u.host);
	}
}
END_TEST

START_TEST(test_url_list)
{
	struct url_list l;
	char err[256], buf[256];

	ck_assert_int_eq(url_list_parse("http://b:1, http://a:1,http://b:1", &l, err, sizeof(err)), 0);
	ck_assert_int_eq(l.n, 2);
	ck_assert_str_eq(l.v[0].str, "http://a:1");
	ck_assert_str_eq(l.v[1].str, "http://b:1");
	ck_assert_uint_eq(url_list_format(&l, buf, sizeof(buf)), strlen("http://a:1,http://b:1"));
	ck_assert_str_eq(buf, "http://a:1,http://b:1");
	ck_assert_uint_eq(url_list_format(&l, buf, 5), 21); /* truncates, reports the full size */
	ck_assert_str_eq(buf, "http");
	url_list_free(&l);
	ck_assert_int_eq(l.n, 0);
	ck_assert_int_eq(url_list_parse("", &l, err, sizeof(err)), CE_INVAL);
	ck_assert_str_eq(err, "no valid URLs given");
	ck_assert_int_eq(url_list_parse("http://a:1,", &l, err, sizeof(err)), CE_INVAL);
	ck_assert_int_eq(url_list_parse("http://a:1,bad", &l, err, sizeof(err)), CE_INVAL);
	ck_assert_str_eq(err, "URL scheme must be http, https, unix, or unixs: bad");
	ck_assert(url_is_ip("10.1.2.3"));
	ck_assert(url_is_ip("::1"));
	ck_assert(!url_is_ip("localhost"));
	ck_assert(!url_is_ip("1.2.3"));
}
END_TEST

START_TEST(test_initial_cluster)
{
	struct initial_cluster ic;
	struct url_list l;
	char err[512], buf[512];

	ck_assert_int_eq(initial_cluster_parse(",b=http://y:2,,a=http://z:3,a=http://x:1,", &ic, err, sizeof(err)), 0);
	ck_assert_int_eq(ic.n, 3);
	ck_assert_str_eq(ic.v[0].name, "b");
	ck_assert_str_eq(ic.v[1].url.str, "http://z:3");
	initial_cluster_format(&ic, buf, sizeof(buf));
	ck_assert_str_eq(buf, "a=http://x:1,a=http://z:3,b=http://y:2");
	ck_assert_int_eq(initial_cluster_urls(&ic, "a", &l), 0);
	ck_assert_int_eq(l.n, 2);
	ck_assert_str_eq(l.v[0].str, "http://x:1");
	url_list_free(&l);
	ck_assert_int_eq(initial_cluster_has_member(&ic, "a", err, sizeof(err)), 0);
	ck_assert_int_eq(initial_cluster_has_member(&ic, "c", err, sizeof(err)), CE_INVAL);
	ck_assert_str_eq(err, "couldn't find local name \"c\" in the initial cluster configuration");
	ck_assert_int_eq(initial_cluster_check_dup(&ic, err, sizeof(err)), 0);
	ck_assert_int_eq(url_list_parse("http://x:1", &l, err, sizeof(err)), 0);
	ck_assert_int_eq(initial_cluster_check_advertise(&ic, "a", &l, err, sizeof(err)), CE_INVAL);
	ck_assert_str_eq(err, "--initial-cluster has a=http://z:3 but missing from --initial-advertise-peer-urls="
			      "http://x:1 (len([\"http://x:1\"]) != len([\"http://x:1\" \"http://z:3\"]))");
	url_list_free(&l);
	initial_cluster_free(&ic);

	ck_assert_int_eq(initial_cluster_parse("", &ic, err, sizeof(err)), 0);
	ck_assert_int_eq(ic.n, 0);
	initial_cluster_free(&ic);
	ck_assert_int_eq(initial_cluster_parse("a=http://x:1,b", &ic, err, sizeof(err)), CE_INVAL);
	ck_assert_int_eq(initial_cluster_parse("a=http://x:1,b=http://x", &ic, err, sizeof(err)), CE_INVAL);
	ck_assert_str_eq(err, "URL address does not have the form \"host:port\": http://x");
	ck_assert_int_eq(initial_cluster_parse("a=http://x:1,b=http://x:1", &ic, err, sizeof(err)), 0);
	ck_assert_int_eq(initial_cluster_check_dup(&ic, err, sizeof(err)), CE_INVAL);
	ck_assert_str_eq(err, "initial cluster a=http://x:1,b=http://x:1 has duplicate url");
	initial_cluster_free(&ic);
}
END_TEST

START_TEST(test_duration)
{
	static const struct {
		const char *in;
		int64_t ns;
	} ok[] = {
		{"0", 0},
		{"-0", 0},
		{"5s", 5000000000LL},
		{"1h30m", 5400000000000LL},
		{"1.5h", 5400000000000LL},
		{".5s", 500000000LL},
		{"1.s", 1000000000LL},
		{"-1s", -1000000000LL},
		{"+2ms", 2000000LL},
		{"300ms", 300000000LL},
		{"1us", 1000},
		{"1\xc2\xb5s", 1000},
		{"7ns", 7},
		{"1h1m1s1ms1us1ns", 3661001001001LL},
		{"9223372036854775807ns", INT64_MAX},
		{"-9223372036854775808ns", INT64_MIN},
	};
	static const struct {
		const char *in, *msg;
	} bad[] = {
		{"", "time: invalid duration \"\""},
		{"abc", "time: invalid duration \"abc\""},
		{"1", "time: missing unit in duration \"1\""},
		{"1x", "time: unknown unit \"x\" in duration \"1x\""},
		{"1s2", "time: missing unit in duration \"1s2\""},
		{".s", "time: invalid duration \".s\""},
		{"9223372036854775808ns", "time: invalid duration"},
		{"10000000000000h", "time: invalid duration"},
	};
	char why[256];
	int64_t v;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		ck_assert_msg(go_parse_duration(ok[i].in, &v, why, sizeof(why)) == 0, "%s: %s", ok[i].in, why);
		ck_assert_msg(v == ok[i].ns, "%s gave %lld", ok[i].in, (long long)v);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(go_parse_duration(bad[i].in, &v, why, sizeof(why)) != 0, "accepted %s", bad[i].in);
		ck_assert_msg(strstr(why, bad[i].msg) != NULL, "%s: %s", bad[i].in, why);
	}
}
END_TEST

Suite *suite_url(void)
{
	Suite *s = suite_create("url");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, test_url_ok);
	tcase_add_test(tc, test_url_errors);
	tcase_add_test(tc, test_url_list);
	tcase_add_test(tc, test_initial_cluster);
	tcase_add_test(tc, test_duration);
	suite_add_tcase(s, tc);
	return s;
}
