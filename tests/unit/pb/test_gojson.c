/* test_gojson.c - the Go encoding/json look-alike: scanner error texts
 * (those etcd 3.4.23's gateway returned when we sent these bodies, and
 * Go's scanner states for the rest), string quoting both ways, %q and
 * base64 with Go's error offsets. */
#include "config.h"
#include "pb_test.h"

#include "pb/gojson.h"
#include "util/err.h"

#include <stdlib.h>
#include <string.h>

struct scan_case {
	const char *in;
	enum gojson_mode mode;
	const char *msg; /* NULL: accepted */
};

static const struct scan_case scan_cases[] = {
	/* recorded from etcd 3.4.23 (POST /v3/kv/range with this body) */
	{ "{\"key\":", GOJSON_STREAM, "unexpected EOF" },
	{ "{\"key\":\"Zm9v\"", GOJSON_STREAM, "unexpected EOF" },
	{ "nonsense", GOJSON_STREAM, "invalid character 'o' in literal null (expecting 'u')" },
	{ "{\"key\":\"Zm9v\"x", GOJSON_STREAM, "invalid character 'x' after object key:value pair" },
	{ "{\"key\" \"Zm9v\"}", GOJSON_STREAM, "invalid character '\"' after object key" },
	{ "{key:1}", GOJSON_STREAM,
	  "invalid character 'k' looking for beginning of object key string" },
	{ "{\"key\":\"Zm9v\",}", GOJSON_STREAM,
	  "invalid character '}' looking for beginning of object key string" },
	{ "{\"key\":\"a\\x\"}", GOJSON_STREAM, "invalid character 'x' in string escape code" },
	{ "{\"key\":\"a\\u12\"}", GOJSON_STREAM,
	  "invalid character '\"' in \\u hexadecimal character escape" },
	{ "{\"key\":-x}", GOJSON_STREAM, "invalid character 'x' in numeric literal" },
	{ "{\"key\":1.x}", GOJSON_STREAM,
	  "invalid character 'x' after decimal point in numeric literal" },
	{ "{\"key\":1ex}", GOJSON_STREAM, "invalid character 'x' in exponent of numeric literal" },
	{ "{\"key\":tx}", GOJSON_STREAM, "invalid character 'x' in literal true (expecting 'r')" },
	{ "{\"key\":fals}", GOJSON_STREAM,
	  "invalid character '}' in literal false (expecting 'e')" },
	{ "}", GOJSON_STREAM, "invalid character '}' looking for beginning of value" },
	{ "{\"key\":\"Zm9v\",\"limit\":01}", GOJSON_STREAM,
	  "invalid character '1' after object key:value pair" },
	{ "{\"key\":\"Zm9v\"} {\"x\":1}", GOJSON_STREAM, NULL },
	{ "{\"key\":\"Zm9v\"} xx", GOJSON_STREAM, NULL },
	/* Go's scanner states, not sent to etcd */
	{ "{\"a\":[1 2]}", GOJSON_STREAM, "invalid character '2' after array element" },
	{ "{\"a\":\"\x01\"}", GOJSON_STREAM, "invalid character '\\x01' in string literal" },
	{ "\xff", GOJSON_STREAM, "invalid character '\xc3\xbf' looking for beginning of value" },
	{ "'", GOJSON_STREAM, "invalid character '\\'' looking for beginning of value" },
	{ "tru", GOJSON_STREAM, "unexpected EOF" },
	{ "5x", GOJSON_STREAM, NULL },
	{ " [1, {\"a\": [true, false, null, -0.5e+7, \"\\ud83d\\ude00\"]}] ", GOJSON_STREAM, NULL },
	/* json.Unmarshal of what jsonpb finds between a number's quotes
	 * (recorded: "limit":"" / "1 2" / "01" / "abc" / "\"1\"") */
	{ "", GOJSON_WHOLE, "unexpected end of JSON input" },
	{ "1 2", GOJSON_WHOLE, "invalid character '2' after top-level value" },
	{ "01", GOJSON_WHOLE, "invalid character '1' after top-level value" },
	{ "abc", GOJSON_WHOLE, "invalid character 'a' looking for beginning of value" },
	{ "\\\"1\\\"", GOJSON_WHOLE, "invalid character '\\\\' looking for beginning of value" },
	{ " 1", GOJSON_WHOLE, NULL },
	{ "1e2", GOJSON_WHOLE, NULL },
	{ "tru", GOJSON_WHOLE, "invalid character ' ' in literal true (expecting 'e')" },
	{ "{}", GOJSON_WHOLE, NULL },
};

START_TEST(test_scan_errors)
{
	for (size_t i = 0; i < sizeof(scan_cases) / sizeof(scan_cases[0]); i++) {
		const struct scan_case *c = &scan_cases[i];
		char msg[256] = "";
		size_t s, e;
		int rc = gojson_scan(c->in, strlen(c->in), c->mode, &s, &e, msg, sizeof(msg));

		if (c->msg == NULL) {
			ck_assert_msg(rc == 0, "%s: %d %s", c->in, rc, msg);
		} else {
			ck_assert_msg(rc == CE_INVAL, "%s: rc %d", c->in, rc);
			ck_assert_str_eq(msg, c->msg);
		}
	}
}
END_TEST

START_TEST(test_scan_spans)
{
	char msg[128];
	size_t s, e;

	ck_assert_int_eq(gojson_scan("", 0, GOJSON_STREAM, &s, &e, msg, sizeof(msg)), GOJSON_EOF);
	ck_assert_int_eq(gojson_scan(" \n\t", 3, GOJSON_STREAM, &s, &e, msg, sizeof(msg)),
			 GOJSON_EOF);
	ck_assert_int_eq(gojson_scan("  {\"a\":1} zz", 12, GOJSON_STREAM, &s, &e, msg, sizeof(msg)),
			 0);
	ck_assert_uint_eq(s, 2);
	ck_assert_uint_eq(e, 9);
	ck_assert_int_eq(gojson_scan(" 12 ", 4, GOJSON_STREAM, &s, &e, msg, sizeof(msg)), 0);
	ck_assert_uint_eq(s, 1);
	ck_assert_uint_eq(e, 3);
	ck_assert_int_eq(gojson_scan(" 12 ", 4, GOJSON_WHOLE, &s, &e, msg, sizeof(msg)), 0);
	ck_assert_uint_eq(e, 3);
	ck_assert_uint_eq(gojson_value_end("\"a\\\"b\",", 7, 0), 6);
	ck_assert_uint_eq(gojson_value_end("[1,[2],\"]\"] x", 13, 0), 11);
}
END_TEST

START_TEST(test_scan_depth)
{
	size_t n = GOJSON_MAX_DEPTH + 1;
	char *p = malloc(n);
	char msg[128];
	size_t s, e;

	memset(p, '[', n);
	ck_assert_int_eq(gojson_scan(p, n, GOJSON_STREAM, &s, &e, msg, sizeof(msg)), CE_INVAL);
	ck_assert_str_eq(msg, "invalid character '[' exceeded max depth");
	ck_assert_int_eq(gojson_scan(p, n - 1, GOJSON_STREAM, &s, &e, msg, sizeof(msg)), CE_INVAL);
	ck_assert_str_eq(msg, "unexpected EOF");
	free(p);
}
END_TEST

static void check_quote(const char *in, size_t n, const char *want)
{
	struct buf b;

	buf_init(&b);
	gojson_quote(&b, in, n);
	buf_put_u8(&b, 0);
	ck_assert_str_eq((char *)b.data, want);
	buf_close(&b);
}

START_TEST(test_quote)
{
	/* recorded from etcd 3.4.23: a user named with these characters,
	 * listed by /v3/auth/user/list */
	check_quote("<a&b>\xe2\x80\xa8\x01\xc3\xa9\b\f\t\"\\/", 17,
		    "\"\\u003ca\\u0026b\\u003e\\u2028\\u0001\xc3\xa9\\u0008\\u000c\\t\\\"\\\\/\"");
	/* invalid UTF-8 and encoded surrogates */
	check_quote("raw\xff\xfez", 6, "\"raw\\ufffd\\ufffdz\"");
	check_quote("\xed\xa0\x80", 3, "\"\\ufffd\\ufffd\\ufffd\"");
	check_quote("\xf0\x9f\x98\x80\x7f\n\r\xe2\x80\xa9", 10,
		    "\"\xf0\x9f\x98\x80\x7f\\n\\r\\u2029\"");
	check_quote("", 0, "\"\"");
}
END_TEST

static void check_unquote(const char *lit, const char *want, size_t wantn)
{
	struct buf b;

	buf_init(&b);
	gojson_unquote(lit, strlen(lit), &b);
	ck_assert_uint_eq(b.len, wantn);
	ck_assert(memcmp(b.data, want, wantn) == 0);
	buf_close(&b);
}

START_TEST(test_unquote)
{
	check_unquote("\"a\\n\\t\\\"\\\\\\/\\b\\f\\r\"", "a\n\t\"\\/\b\f\r", 9);
	check_unquote("\"\\u00e9\\u0000\"", "\xc3\xa9\0", 3);
	check_unquote("\"\\ud83d\\ude00\"", "\xf0\x9f\x98\x80", 4);
	/* lone surrogates: U+FFFD each, as etcd stored "bad\udc00x\ud800" */
	check_unquote("\"bad\\udc00x\\ud800\"", "bad\xef\xbf\xbdx\xef\xbf\xbd", 10);
	check_unquote("\"\\ud800\\u0041\"", "\xef\xbf\xbd" "A", 4);
	/* raw invalid bytes: U+FFFD each, as etcd stored "raw\xff\xfez" */
	check_unquote("\"raw\xff\xfez\"", "raw\xef\xbf\xbd\xef\xbf\xbdz", 10);
}
END_TEST

START_TEST(test_goquote)
{
	static const struct {
		const char *in;
		const char *want;
	} cases[] = {
		{ "\\u0041SCEND", "\"\\\\u0041SCEND\"" },
		{ "a\"b", "\"a\\\"b\"" },
		{ "\x01\x7f\n\a\v", "\"\\x01\\x7f\\n\\a\\v\"" },
		{ "\xff", "\"\\xff\"" },
		{ "\xc3\xa9\xc2\x80", "\"\xc3\xa9\\u0080\"" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf b;

		buf_init(&b);
		gojson_goquote(&b, cases[i].in, strlen(cases[i].in));
		buf_put_u8(&b, 0);
		ck_assert_str_eq((char *)b.data, cases[i].want);
		buf_close(&b);
	}
}
END_TEST

START_TEST(test_base64)
{
	static const struct {
		const char *in;
		const char *out; /* NULL: error at bad */
		size_t bad;
	} cases[] = {
		{ "", "", 0 },
		{ "Zm9v", "foo", 0 },
		{ "Zm9vYg==", "foob", 0 },
		{ "Zm9vYmE=", "fooba", 0 },
		{ "Zm9v\r\nYmFy\n", "foobar", 0 },
		{ "Zh==", "f", 0 }, /* non-zero trailing bits: Go accepts */
		/* recorded from etcd 3.4.23: all "at input byte 0" */
		{ "Zm9", NULL, 0 },
		{ "%%%", NULL, 0 },
		{ "_-8=", NULL, 0 },
		{ "/+8", NULL, 0 },
		{ "Zg", NULL, 0 },
		/* Go's offsets elsewhere */
		{ "Zm9v%", NULL, 4 },
		{ "Zg==Zg==", NULL, 4 },
		{ "Z===", NULL, 1 },
		{ "Zg=", NULL, 3 },
		{ "Zg=x", NULL, 2 },
		{ "Zm9vZ", NULL, 4 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf b;
		size_t bad = 99;
		int rc;

		buf_init(&b);
		rc = gojson_b64_decode(cases[i].in, strlen(cases[i].in), &b, &bad);
		if (cases[i].out != NULL) {
			ck_assert_msg(rc == 0, "%s", cases[i].in);
			ck_assert_uint_eq(b.len, strlen(cases[i].out));
			ck_assert(b.len == 0 || memcmp(b.data, cases[i].out, b.len) == 0);
		} else {
			ck_assert_msg(rc == CE_INVAL, "%s", cases[i].in);
			ck_assert_msg(bad == cases[i].bad, "%s: bad %zu", cases[i].in, bad);
		}
		buf_close(&b);
	}
}
END_TEST

START_TEST(test_base64_roundtrip)
{
	unsigned seed = pbt_seed("base64");

	for (int round = 0; round < 500; round++) {
		uint8_t in[40];
		size_t n = (size_t)(rand_r(&seed) % 40), bad;
		struct buf enc, dec;

		for (size_t i = 0; i < n; i++)
			in[i] = (uint8_t)rand_r(&seed);
		buf_init(&enc);
		buf_init(&dec);
		gojson_b64_encode(&enc, in, n);
		ck_assert_uint_eq(enc.len, (n + 2) / 3 * 4);
		ck_assert_int_eq(gojson_b64_decode(enc.data, enc.len, &dec, &bad), 0);
		ck_assert_uint_eq(dec.len, n);
		ck_assert(n == 0 || memcmp(dec.data, in, n) == 0);
		buf_close(&enc);
		buf_close(&dec);
	}
}
END_TEST

Suite *suite_gojson(void)
{
	Suite *s = suite_create("gojson");
	TCase *tc = tcase_create("go");

	tcase_add_test(tc, test_scan_errors);
	tcase_add_test(tc, test_scan_spans);
	tcase_add_test(tc, test_scan_depth);
	tcase_add_test(tc, test_quote);
	tcase_add_test(tc, test_unquote);
	tcase_add_test(tc, test_goquote);
	tcase_add_test(tc, test_base64);
	tcase_add_test(tc, test_base64_roundtrip);
	suite_add_tcase(s, tc);
	return s;
}
