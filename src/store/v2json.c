/* v2json.c - Go-compatible JSON pieces for the v2 API. */
#include "config.h"
#include "store/v2json.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

const char *v2_error_message(int code)
{
	switch (code) {
	case 100: return "Key not found";
	case 101: return "Compare failed";
	case 102: return "Not a file";
	case 103: return "Reached the max number of peers in the cluster";
	case 104: return "Not a directory";
	case 105: return "Key already exists";
	case 106: return "The prefix of given key is a keyword in etcd";
	case 107: return "Root is read only";
	case 108: return "Directory not empty";
	case 109: return "Peer address has existed";
	case 110: return "The request requires user authentication";
	case 200: return "Value is Required in POST form";
	case 201: return "PrevValue is Required in POST form";
	case 202: return "The given TTL in POST form is not a number";
	case 203: return "The given index in POST form is not a number";
	case 204: return "Value or TTL is required in POST form";
	case 205: return "The given timeout in POST form is not a number";
	case 206: return "Name is required in POST form";
	case 207: return "Index or value is required";
	case 208: return "Index and value cannot both be specified";
	case 209: return "Invalid field";
	case 210: return "Invalid POST form";
	case 211: return "Value provided on refresh";
	case 212: return "A TTL must be provided on refresh";
	case 300: return "Raft Internal Error";
	case 301: return "During Leader Election";
	case 400: return "watcher is cleared due to etcd recovery";
	case 401: return "The event in requested index is outdated and cleared";
	case 402: return "Standby Internal Error";
	case 403: return "Invalid active size";
	case 404: return "Standby remove delay";
	case 500: return "Client Internal Error";
	default: return "";
	}
}

int v2_error_status(int code)
{
	switch (code) {
	case 100: return 404;
	case 102: case 108: return 403;
	case 110: return 401;
	case 101: case 105: return 412;
	case 300: case 301: return 500;
	default: return 400;
	}
}

/* utf8_len returns the length of a valid UTF-8 sequence at s (by Go's
 * rules: no overlongs, no surrogates, at most U+10FFFF), or 0. */
static size_t utf8_len(const uint8_t *s, size_t n, uint32_t *cp)
{
	uint8_t c = s[0], lo = 0x80, hi = 0xbf;
	size_t len, i;
	uint32_t v;

	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		v = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		v = c & 0x0f;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		v = c & 0x07;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else {
		return 0;
	}
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	v = v << 6 | (s[1] & 0x3f);
	for (i = 2; i < len; i++) {
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
		v = v << 6 | (s[i] & 0x3f);
	}
	*cp = v;
	return len;
}

static const char hexd[] = "0123456789abcdef";

static void put_u_escape(struct buf *b, uint32_t v)
{
	char e[6] = { '\\', 'u', hexd[(v >> 12) & 15], hexd[(v >> 8) & 15], hexd[(v >> 4) & 15], hexd[v & 15] };
	buf_put(b, e, 6);
}

/* Bytes Go writes as they are inside a string (escapeHTML on). */
static int go_safe(uint8_t c)
{
	return c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&';
}

void v2json_str(struct buf *b, const char *str, size_t n)
{
	const uint8_t *s = (const uint8_t *)str;
	size_t i = 0, start = 0;
	uint32_t cp;
	size_t len;

	buf_reserve(b, n + 2);
	buf_put_u8(b, '"');
	while (i < n) {
		uint8_t c = s[i];
		if (c < 0x80) {
			if (go_safe(c)) {
				i++;
				continue;
			}
			buf_put(b, s + start, i - start);
			switch (c) {
			case '"': buf_put(b, "\\\"", 2); break;
			case '\\': buf_put(b, "\\\\", 2); break;
			case '\n': buf_put(b, "\\n", 2); break;
			case '\r': buf_put(b, "\\r", 2); break;
			case '\t': buf_put(b, "\\t", 2); break;
			default: put_u_escape(b, c); break;
			}
			start = ++i;
			continue;
		}
		len = utf8_len(s + i, n - i, &cp);
		if (len == 0 || cp == 0x2028 || cp == 0x2029) {
			buf_put(b, s + start, i - start);
			put_u_escape(b, len == 0 ? 0xfffd : cp);
			i += len == 0 ? 1 : len;
			start = i;
			continue;
		}
		i += len;
	}
	buf_put(b, s + start, n - start);
	buf_put_u8(b, '"');
}

void v2json_u64(struct buf *b, uint64_t v)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof(tmp), "%" PRIu64, v);
	buf_put(b, tmp, (size_t)n);
}

void v2json_i64(struct buf *b, int64_t v)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof(tmp), "%" PRId64, v);
	buf_put(b, tmp, (size_t)n);
}

void v2json_time(struct buf *b, int64_t ns)
{
	int64_t sec = ns / 1000000000, frac = ns % 1000000000;
	time_t t;
	struct tm tm;
	char tmp[64];
	int n, digits = 9;

	if (frac < 0) {
		frac += 1000000000;
		sec--;
	}
	t = (time_t)sec;
	gmtime_r(&t, &tm);
	n = snprintf(tmp, sizeof(tmp), "\"%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
	             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	if (frac != 0) {
		while (frac % 10 == 0) {
			frac /= 10;
			digits--;
		}
		n += snprintf(tmp + n, sizeof(tmp) - (size_t)n, ".%0*" PRId64, digits, frac);
	}
	n += snprintf(tmp + n, sizeof(tmp) - (size_t)n, "Z\"");
	buf_put(b, tmp, (size_t)n);
}

int64_t v2json_ttl(int64_t expire_ns, int64_t now_ns)
{
	int64_t d = expire_ns - now_ns;
	int64_t ttl = d / 1000000000;

	if (d % 1000000000 > 0)
		ttl++;
	return ttl;
}

void v2json_trim_key(const char **key, size_t *len)
{
	if (*len >= 2 && (*key)[0] == '/' && (*key)[1] == '1') {
		*key += 2;
		*len -= 2;
	}
}

void v2json_node_head(struct buf *b, const struct v2_node_ext *n, int64_t now_ns)
{
	const char *key = n->key;
	size_t klen = n->key_len;
	int first = 1;
	int64_t ttl;

	v2json_trim_key(&key, &klen);
	buf_put_u8(b, '{');
	if (klen > 0) {
		V2JSON_LIT(b, "\"key\":");
		v2json_str(b, key, klen);
		first = 0;
	}
	if (n->value != NULL) {
		if (!first)
			buf_put_u8(b, ',');
		V2JSON_LIT(b, "\"value\":");
		v2json_str(b, n->value, n->value_len);
		first = 0;
	}
	if (n->dir) {
		if (!first)
			buf_put_u8(b, ',');
		V2JSON_LIT(b, "\"dir\":true");
		first = 0;
	}
	if (n->expire_ns != 0) {
		if (!first)
			buf_put_u8(b, ',');
		V2JSON_LIT(b, "\"expiration\":");
		v2json_time(b, n->expire_ns);
		ttl = v2json_ttl(n->expire_ns, now_ns);
		if (ttl != 0) {
			V2JSON_LIT(b, ",\"ttl\":");
			v2json_i64(b, ttl);
		}
	}
}

void v2json_node_tail(struct buf *b, const struct v2_node_ext *n)
{
	/* Every field before is optional; a comma is needed iff "{" is not the
	 * last byte written. */
	int need_comma = b->len > 0 && b->data[b->len - 1] != '{';

	if (n->modified != 0) {
		if (need_comma)
			buf_put_u8(b, ',');
		V2JSON_LIT(b, "\"modifiedIndex\":");
		v2json_u64(b, n->modified);
		need_comma = 1;
	}
	if (n->created != 0) {
		if (need_comma)
			buf_put_u8(b, ',');
		V2JSON_LIT(b, "\"createdIndex\":");
		v2json_u64(b, n->created);
	}
	buf_put_u8(b, '}');
}

void v2json_node(struct buf *b, const struct v2_node_ext *n, int64_t now_ns)
{
	v2json_node_head(b, n, now_ns);
	v2json_node_tail(b, n);
}

void v2json_error(struct buf *b, int code, const char *cause, size_t cause_len, uint64_t index)
{
	const char *msg = v2_error_message(code);

	V2JSON_LIT(b, "{\"errorCode\":");
	v2json_u64(b, (uint64_t)code);
	V2JSON_LIT(b, ",\"message\":");
	v2json_str(b, msg, strlen(msg));
	if (cause != NULL)
		v2json_trim_key(&cause, &cause_len);
	if (cause != NULL && cause_len > 0) {
		V2JSON_LIT(b, ",\"cause\":");
		v2json_str(b, cause, cause_len);
	}
	V2JSON_LIT(b, ",\"index\":");
	v2json_u64(b, index);
	V2JSON_LIT(b, "}\n");
}
