/* v3_out.c - etcdctl's output formats for cetcdctl v3: base64 and hex
 * bytes, Go's quoting (fields), the gateway answer re-marshalled as Go's
 * encoding/json marshals the gRPC structs (json: numbers as numbers, enums
 * as their integers, HTML-safe escapes), and tablewriter's tables. */
#include "config.h"
#include "ctl/v3_int.h"
#include "store/v2json.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char b64tab[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *v3_b64enc(const void *p, size_t len)
{
	const unsigned char *s = p;
	char *o = malloc((len + 2) / 3 * 4 + 1), *d = o;

	if (o == NULL)
		return NULL;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)s[i + 1] << 8;
		if (i + 2 < len)
			v |= s[i + 2];
		*d++ = b64tab[v >> 18 & 63];
		*d++ = b64tab[v >> 12 & 63];
		*d++ = i + 1 < len ? b64tab[v >> 6 & 63] : '=';
		*d++ = i + 2 < len ? b64tab[v & 63] : '=';
	}
	*d = '\0';
	return o;
}

char *v3_b64dec(const char *s, size_t *len)
{
	size_t n = strlen(s), o = 0;
	char *out = malloc(n / 4 * 3 + 4);
	uint32_t acc = 0;
	int bits = 0;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const char *q = strchr(b64tab, s[i]);
		if (s[i] == '=' || q == NULL || s[i] == '\0')
			continue;
		acc = acc << 6 | (uint32_t)(q - b64tab);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (char)(acc >> bits & 0xff);
		}
	}
	out[o] = '\0';
	*len = o;
	return out;
}

int64_t v3_jint(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	if (json_is_integer(v))
		return json_integer_value(v);
	if (json_is_string(v))
		return strtoll(json_string_value(v), NULL, 10);
	return 0;
}

uint64_t v3_juint(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	if (json_is_integer(v))
		return (uint64_t)json_integer_value(v);
	if (json_is_string(v))
		return strtoull(json_string_value(v), NULL, 10);
	return 0;
}

int v3_jbool(json_t *o, const char *k)
{
	return json_is_true(json_object_get(o, k));
}

void v3_print_bytes(const struct v3_ctx *c, const char *p, size_t len)
{
	if (!c->hex) {
		fwrite(p, 1, len, stdout);
		return;
	}
	for (size_t i = 0; i < len; i++)
		printf("\\x%02x", (unsigned char)p[i]);
}

/* Length of a valid UTF-8 sequence at p (0 when invalid). */
static size_t utf8_len(const unsigned char *p, size_t left)
{
	size_t n;

	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xe0) == 0xc0 && p[0] >= 0xc2)
		n = 2;
	else if ((p[0] & 0xf0) == 0xe0)
		n = 3;
	else if ((p[0] & 0xf8) == 0xf0 && p[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (n > left)
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

void v3_print_quoted(const char *p, size_t len)
{
	const unsigned char *s = (const unsigned char *)p;

	putchar('"');
	for (size_t i = 0; i < len;) {
		unsigned char ch = s[i];
		size_t n;

		switch (ch) {
		case '"': fputs("\\\"", stdout); i++; continue;
		case '\\': fputs("\\\\", stdout); i++; continue;
		case '\a': fputs("\\a", stdout); i++; continue;
		case '\b': fputs("\\b", stdout); i++; continue;
		case '\f': fputs("\\f", stdout); i++; continue;
		case '\n': fputs("\\n", stdout); i++; continue;
		case '\r': fputs("\\r", stdout); i++; continue;
		case '\t': fputs("\\t", stdout); i++; continue;
		case '\v': fputs("\\v", stdout); i++; continue;
		default: break;
		}
		if (ch < 0x20 || ch == 0x7f) {
			printf("\\x%02x", ch);
			i++;
			continue;
		}
		n = utf8_len(s + i, len - i);
		if (n == 0) {
			printf("\\x%02x", ch);
			i++;
			continue;
		}
		fwrite(s + i, 1, n, stdout);
		i += n;
	}
	putchar('"');
}

void v3_print_b64field(const struct v3_ctx *c, json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	size_t n = 0;
	char *d = v3_b64dec(json_is_string(v) ? json_string_value(v) : "", &n);

	if (d != NULL)
		v3_print_bytes(c, d, n);
	free(d);
}

/* ---- json: Go's encoding/json of the gRPC structs ---- */

/* json_str prints s as Go's encoding/json writes a string (v2json_str). */
static void json_str(const char *s)
{
	struct buf b;

	buf_init(&b);
	v2json_str(&b, s, strlen(s));
	fwrite(b.data, 1, b.len, stdout);
	buf_close(&b);
}

/* Gateway strings that hold bytes or text rather than 64-bit numbers. */
static int text_field(const char *k)
{
	static const char *const t[] = { "key", "value", "range_end", "name", "token", "error",
		"message", NULL };
	for (int i = 0; t[i]; i++)
		if (strcmp(k, t[i]) == 0)
			return 1;
	return 0;
}

static int all_digits(const char *s)
{
	if (*s == '-')
		s++;
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

/* Enum names the gateway writes where Go writes the integer. */
static int enum_value(const char *k, const char *s, long *v)
{
	static const struct { const char *k, *s; long v; } e[] = {
		{ "type", "PUT", 0 }, { "type", "DELETE", 1 },
		{ "alarm", "NONE", 0 }, { "alarm", "NOSPACE", 1 }, { "alarm", "CORRUPT", 2 },
		{ "action", "GET", 0 }, { "action", "ACTIVATE", 1 }, { "action", "DEACTIVATE", 2 },
	};
	for (size_t i = 0; i < sizeof(e) / sizeof(e[0]); i++)
		if (strcmp(k, e[i].k) == 0 && strcmp(s, e[i].s) == 0) {
			*v = e[i].v;
			return 1;
		}
	return 0;
}

static void json_val(const char *key, json_t *v)
{
	long ev;

	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		const char *k;
		json_t *x;
		int first = 1;
		putchar('{');
		json_object_foreach(v, k, x) {
			if (!first)
				putchar(',');
			first = 0;
			json_str(k);
			putchar(':');
			json_val(k, x);
		}
		putchar('}');
		break;
	}
	case JSON_ARRAY: {
		size_t i;
		json_t *x;
		putchar('[');
		json_array_foreach(v, i, x) {
			if (i)
				putchar(',');
			json_val(key, x);
		}
		putchar(']');
		break;
	}
	case JSON_STRING: {
		const char *s = json_string_value(v);
		if (key && !text_field(key) && all_digits(s))
			fputs(s, stdout);
		else if (key && enum_value(key, s, &ev))
			printf("%ld", ev);
		else
			json_str(s);
		break;
	}
	case JSON_INTEGER:
		printf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		printf("%g", json_real_value(v));
		break;
	case JSON_TRUE: fputs("true", stdout); break;
	case JSON_FALSE: fputs("false", stdout); break;
	case JSON_NULL: fputs("null", stdout); break;
	}
}

void v3_print_json_inline(json_t *v)
{
	json_val(NULL, v);
}

void v3_print_json(json_t *resp)
{
	json_val(NULL, resp);
	putchar('\n');
}

/* ---- fields ---- */

void v3_fields_header(json_t *resp)
{
	json_t *h = json_object_get(resp, "header");

	printf("\"ClusterID\" : %" PRIu64 "\n", v3_juint(h, "cluster_id"));
	printf("\"MemberID\" : %" PRIu64 "\n", v3_juint(h, "member_id"));
	printf("\"Revision\" : %" PRId64 "\n", v3_jint(h, "revision"));
	printf("\"RaftTerm\" : %" PRIu64 "\n", v3_juint(h, "raft_term"));
}

static void fields_bytes(const struct v3_ctx *c, const char *label, json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	size_t n = 0;
	char *d = v3_b64dec(json_is_string(v) ? json_string_value(v) : "", &n);

	/* etcdctl's fields printer quotes the bytes even with --hex */
	(void)c;
	printf("\"%s\" : ", label);
	if (d)
		v3_print_quoted(d, n);
	putchar('\n');
	free(d);
}

void v3_fields_kv(const struct v3_ctx *c, json_t *kv, const char *p)
{
	fields_bytes(c, *p ? "PrevKey" : "Key", kv, "key");
	printf("\"%sCreateRevision\" : %" PRId64 "\n", p, v3_jint(kv, "create_revision"));
	printf("\"%sModRevision\" : %" PRId64 "\n", p, v3_jint(kv, "mod_revision"));
	printf("\"%sVersion\" : %" PRId64 "\n", p, v3_jint(kv, "version"));
	fields_bytes(c, *p ? "PrevValue" : "Value", kv, "value");
	printf("\"%sLease\" : %" PRId64 "\n", p, v3_jint(kv, "lease"));
}

void v3_simple_kv(const struct v3_ctx *c, json_t *kv, int keys_only, int value_only)
{
	if (!value_only) {
		v3_print_b64field(c, kv, "key");
		putchar('\n');
	}
	if (keys_only) {
		if (!value_only)
			putchar('\n');
		return;
	}
	v3_print_b64field(c, kv, "value");
	putchar('\n');
}

/* ---- tables (olekukonko/tablewriter as etcdctl configures it) ---- */

/* Display width: count UTF-8 code points (µ in durations). */
static size_t disp_width(const char *s)
{
	size_t w = 0;
	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

static void table_rule(const size_t *w, size_t ncols)
{
	putchar('+');
	for (size_t i = 0; i < ncols; i++) {
		for (size_t j = 0; j < w[i] + 2; j++)
			putchar('-');
		putchar('+');
	}
	putchar('\n');
}

void v3_table(const char *const *head, size_t ncols, char **cells, size_t nrows)
{
	size_t w[32] = { 0 };

	if (ncols > 32)
		ncols = 32;
	for (size_t i = 0; i < ncols; i++) {
		w[i] = disp_width(head[i]);
		for (size_t r = 0; r < nrows; r++)
			if (disp_width(cells[r * ncols + i]) > w[i])
				w[i] = disp_width(cells[r * ncols + i]);
	}
	table_rule(w, ncols);
	putchar('|');
	for (size_t i = 0; i < ncols; i++) {
		size_t l = disp_width(head[i]), left = (w[i] - l) / 2, right = w[i] - l - left;
		printf(" %*s%s%*s |", (int)left, "", head[i], (int)right, "");
	}
	putchar('\n');
	table_rule(w, ncols);
	for (size_t r = 0; r < nrows; r++) {
		putchar('|');
		for (size_t i = 0; i < ncols; i++) {
			const char *s = cells[r * ncols + i];
			printf(" %*s%s |", (int)(w[i] - disp_width(s)), "", s);
		}
		putchar('\n');
	}
	table_rule(w, ncols);
}
