/* gojson.c - Go-compatible JSON syntax checking, string (un)quoting and
 * base64, so /v3 requests are accepted or refused with exactly the texts
 * etcd 3.4's gateway (Go encoding/json) produces. The scanner follows the
 * states of Go's encoding/json scanner one for one, because its error texts
 * name the state ("after object key", "in numeric literal", ...). */
#include "config.h"
#include "pb/gojson.h"

#include "util/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- scanner ---------------------------------------------------------- */

enum st {
	ST_BEGIN_VALUE,
	ST_BEGIN_VALUE_OR_EMPTY,
	ST_BEGIN_STRING,
	ST_BEGIN_STRING_OR_EMPTY,
	ST_END_VALUE,
	ST_END_TOP,
	ST_IN_STRING,
	ST_IN_STRING_ESC,
	ST_ESC_U, /* + 0..3 hex digits seen */
	ST_ESC_U1,
	ST_ESC_U12,
	ST_ESC_U123,
	ST_NEG,
	ST_1,
	ST_0,
	ST_DOT,
	ST_DOT0,
	ST_E,
	ST_ESIGN,
	ST_E0,
	ST_T, ST_TR, ST_TRU,
	ST_F, ST_FA, ST_FAL, ST_FALS,
	ST_N, ST_NU, ST_NUL,
	ST_ERROR
};

enum ps { PS_OBJ_KEY, PS_OBJ_VALUE, PS_ARR_VALUE };

enum ev { EV_CONTINUE, EV_BEGIN_LITERAL, EV_SKIP_SPACE, EV_END_OBJECT, EV_END_ARRAY, EV_END,
	  EV_ERROR };

struct scanner {
	enum st step;
	uint8_t *stack;
	size_t depth, cap;
	int end_top;
	int nomem;
	char *msg;
	size_t msglen;
	int has_err;
};

static int is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static int is_hex(unsigned char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* quote_char renders a byte as Go's scanner quoteChar does. */
static void quote_char(unsigned char c, char *out, size_t n)
{
	if (c == '\'')
		snprintf(out, n, "'\\''");
	else if (c == '"')
		snprintf(out, n, "'\"'");
	else {
		/* Go quotes string(c): the byte taken as a Latin-1 rune. */
		uint8_t u[2] = { c, 0 };
		size_t un = 1;
		struct buf b;

		if (c >= 0x80) {
			u[0] = (uint8_t)(0xc0 | c >> 6);
			u[1] = (uint8_t)(0x80 | (c & 0x3f));
			un = 2;
		}
		buf_init(&b);
		gojson_goquote(&b, u, un);
		/* strip the double quotes strconv.Quote added */
		if (!b.oom && b.len >= 2)
			snprintf(out, n, "'%.*s'", (int)(b.len - 2), (const char *)b.data + 1);
		else
			snprintf(out, n, "'?'");
		buf_close(&b);
	}
}

static enum ev sc_error(struct scanner *s, unsigned char c, const char *context)
{
	char q[16];

	s->step = ST_ERROR;
	if (!s->has_err) {
		quote_char(c, q, sizeof(q));
		errf(s->msg, s->msglen, CE_INVAL, "invalid character %s %s", q, context);
		s->has_err = 1;
	}
	return EV_ERROR;
}

static enum ev sc_push(struct scanner *s, unsigned char c, enum ps p)
{
	if (s->depth == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 32;
		uint8_t *n = realloc(s->stack, cap);
		if (n == NULL) {
			s->nomem = 1;
			s->step = ST_ERROR;
			return EV_ERROR;
		}
		s->stack = n;
		s->cap = cap;
	}
	s->stack[s->depth++] = (uint8_t)p;
	if (s->depth > GOJSON_MAX_DEPTH)
		return sc_error(s, c, "exceeded max depth");
	return EV_CONTINUE;
}

static void sc_pop(struct scanner *s)
{
	s->depth--;
	if (s->depth == 0) {
		s->step = ST_END_TOP;
		s->end_top = 1;
	} else {
		s->step = ST_END_VALUE;
	}
}

static enum ev sc_step(struct scanner *s, unsigned char c);

static enum ev st_begin_value(struct scanner *s, unsigned char c)
{
	if (is_space(c))
		return EV_SKIP_SPACE;
	switch (c) {
	case '{':
		s->step = ST_BEGIN_STRING_OR_EMPTY;
		return sc_push(s, c, PS_OBJ_KEY);
	case '[':
		s->step = ST_BEGIN_VALUE_OR_EMPTY;
		return sc_push(s, c, PS_ARR_VALUE);
	case '"':
		s->step = ST_IN_STRING;
		return EV_BEGIN_LITERAL;
	case '-':
		s->step = ST_NEG;
		return EV_BEGIN_LITERAL;
	case '0':
		s->step = ST_0;
		return EV_BEGIN_LITERAL;
	case 't':
		s->step = ST_T;
		return EV_BEGIN_LITERAL;
	case 'f':
		s->step = ST_F;
		return EV_BEGIN_LITERAL;
	case 'n':
		s->step = ST_N;
		return EV_BEGIN_LITERAL;
	}
	if (c >= '1' && c <= '9') {
		s->step = ST_1;
		return EV_BEGIN_LITERAL;
	}
	return sc_error(s, c, "looking for beginning of value");
}

static enum ev st_end_top(struct scanner *s, unsigned char c)
{
	if (!is_space(c))
		sc_error(s, c, "after top-level value"); /* reported on the next call */
	return EV_END;
}

static enum ev st_end_value(struct scanner *s, unsigned char c)
{
	if (s->depth == 0) {
		s->step = ST_END_TOP;
		s->end_top = 1;
		return st_end_top(s, c);
	}
	if (is_space(c)) {
		s->step = ST_END_VALUE;
		return EV_SKIP_SPACE;
	}
	switch (s->stack[s->depth - 1]) {
	case PS_OBJ_KEY:
		if (c == ':') {
			s->stack[s->depth - 1] = PS_OBJ_VALUE;
			s->step = ST_BEGIN_VALUE;
			return EV_CONTINUE;
		}
		return sc_error(s, c, "after object key");
	case PS_OBJ_VALUE:
		if (c == ',') {
			s->stack[s->depth - 1] = PS_OBJ_KEY;
			s->step = ST_BEGIN_STRING;
			return EV_CONTINUE;
		}
		if (c == '}') {
			sc_pop(s);
			return EV_END_OBJECT;
		}
		return sc_error(s, c, "after object key:value pair");
	default:
		if (c == ',') {
			s->step = ST_BEGIN_VALUE;
			return EV_CONTINUE;
		}
		if (c == ']') {
			sc_pop(s);
			return EV_END_ARRAY;
		}
		return sc_error(s, c, "after array element");
	}
}

/* literal_step handles the fixed letters of true/false/null. */
static enum ev literal_step(struct scanner *s, unsigned char c, char want, enum st next,
			    const char *ctx)
{
	if (c == want) {
		s->step = next;
		return EV_CONTINUE;
	}
	return sc_error(s, c, ctx);
}

static enum ev st_number(struct scanner *s, unsigned char c)
{
	switch (s->step) {
	case ST_NEG:
		if (c == '0') {
			s->step = ST_0;
			return EV_CONTINUE;
		}
		if (c >= '1' && c <= '9') {
			s->step = ST_1;
			return EV_CONTINUE;
		}
		return sc_error(s, c, "in numeric literal");
	case ST_1:
		if (is_digit(c))
			return EV_CONTINUE;
		/* state1 continues as state0 */
		/* fall through */
	case ST_0:
		if (c == '.') {
			s->step = ST_DOT;
			return EV_CONTINUE;
		}
		if (c == 'e' || c == 'E') {
			s->step = ST_E;
			return EV_CONTINUE;
		}
		return st_end_value(s, c);
	case ST_DOT:
		if (is_digit(c)) {
			s->step = ST_DOT0;
			return EV_CONTINUE;
		}
		return sc_error(s, c, "after decimal point in numeric literal");
	case ST_DOT0:
		if (is_digit(c))
			return EV_CONTINUE;
		if (c == 'e' || c == 'E') {
			s->step = ST_E;
			return EV_CONTINUE;
		}
		return st_end_value(s, c);
	case ST_E:
		if (c == '+' || c == '-') {
			s->step = ST_ESIGN;
			return EV_CONTINUE;
		}
		/* stateE continues as stateESign */
		/* fall through */
	case ST_ESIGN:
		if (is_digit(c)) {
			s->step = ST_E0;
			return EV_CONTINUE;
		}
		return sc_error(s, c, "in exponent of numeric literal");
	default: /* ST_E0 */
		if (is_digit(c))
			return EV_CONTINUE;
		return st_end_value(s, c);
	}
}

static enum ev st_string(struct scanner *s, unsigned char c)
{
	switch (s->step) {
	case ST_IN_STRING:
		if (c == '"') {
			s->step = ST_END_VALUE;
			return EV_CONTINUE;
		}
		if (c == '\\') {
			s->step = ST_IN_STRING_ESC;
			return EV_CONTINUE;
		}
		if (c < 0x20)
			return sc_error(s, c, "in string literal");
		return EV_CONTINUE;
	case ST_IN_STRING_ESC:
		if (strchr("bfnrt\\/\"", c) != NULL && c != 0) {
			s->step = ST_IN_STRING;
			return EV_CONTINUE;
		}
		if (c == 'u') {
			s->step = ST_ESC_U;
			return EV_CONTINUE;
		}
		return sc_error(s, c, "in string escape code");
	default:
		if (!is_hex(c))
			return sc_error(s, c, "in \\u hexadecimal character escape");
		s->step = s->step == ST_ESC_U123 ? ST_IN_STRING : (enum st)(s->step + 1);
		return EV_CONTINUE;
	}
}

static enum ev sc_step(struct scanner *s, unsigned char c)
{
	switch (s->step) {
	case ST_BEGIN_VALUE:
		return st_begin_value(s, c);
	case ST_BEGIN_VALUE_OR_EMPTY:
		if (is_space(c))
			return EV_SKIP_SPACE;
		if (c == ']')
			return st_end_value(s, c);
		return st_begin_value(s, c);
	case ST_BEGIN_STRING_OR_EMPTY:
		if (is_space(c))
			return EV_SKIP_SPACE;
		if (c == '}') {
			s->stack[s->depth - 1] = PS_OBJ_VALUE;
			return st_end_value(s, c);
		}
		/* fall through */
	case ST_BEGIN_STRING:
		if (is_space(c))
			return EV_SKIP_SPACE;
		if (c == '"') {
			s->step = ST_IN_STRING;
			return EV_BEGIN_LITERAL;
		}
		return sc_error(s, c, "looking for beginning of object key string");
	case ST_END_VALUE:
		return st_end_value(s, c);
	case ST_END_TOP:
		return st_end_top(s, c);
	case ST_IN_STRING:
	case ST_IN_STRING_ESC:
	case ST_ESC_U:
	case ST_ESC_U1:
	case ST_ESC_U12:
	case ST_ESC_U123:
		return st_string(s, c);
	case ST_T:
		return literal_step(s, c, 'r', ST_TR, "in literal true (expecting 'r')");
	case ST_TR:
		return literal_step(s, c, 'u', ST_TRU, "in literal true (expecting 'u')");
	case ST_TRU:
		return literal_step(s, c, 'e', ST_END_VALUE, "in literal true (expecting 'e')");
	case ST_F:
		return literal_step(s, c, 'a', ST_FA, "in literal false (expecting 'a')");
	case ST_FA:
		return literal_step(s, c, 'l', ST_FAL, "in literal false (expecting 'l')");
	case ST_FAL:
		return literal_step(s, c, 's', ST_FALS, "in literal false (expecting 's')");
	case ST_FALS:
		return literal_step(s, c, 'e', ST_END_VALUE, "in literal false (expecting 'e')");
	case ST_N:
		return literal_step(s, c, 'u', ST_NU, "in literal null (expecting 'u')");
	case ST_NU:
		return literal_step(s, c, 'l', ST_NUL, "in literal null (expecting 'l')");
	case ST_NUL:
		return literal_step(s, c, 'l', ST_END_VALUE, "in literal null (expecting 'l')");
	case ST_ERROR:
		return EV_ERROR;
	default:
		return st_number(s, c);
	}
}

static int scan_stream(struct scanner *s, const char *p, size_t len, size_t *end)
{
	int nonspace = 0;

	for (size_t i = 0; i < len; i++) {
		enum ev v = sc_step(s, (unsigned char)p[i]);

		if (!is_space((unsigned char)p[i]))
			nonspace = 1;
		if (v == EV_END_OBJECT || v == EV_END_ARRAY) {
			if (s->depth == 0) {
				*end = i + 1;
				return 0;
			}
		} else if (v == EV_END) {
			*end = i;
			return 0;
		} else if (v == EV_ERROR) {
			return s->nomem ? CE_NOMEM : CE_INVAL;
		}
	}
	/* At EOF Go feeds one space: a number or literal may end there. */
	if (sc_step(s, ' ') == EV_END) {
		*end = len;
		return 0;
	}
	if (s->nomem)
		return CE_NOMEM;
	if (!nonspace)
		return GOJSON_EOF;
	s->has_err = 0;
	return errf(s->msg, s->msglen, CE_INVAL, "unexpected EOF");
}

static int scan_whole(struct scanner *s, const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (sc_step(s, (unsigned char)p[i]) == EV_ERROR)
			return s->nomem ? CE_NOMEM : CE_INVAL;
	if (s->has_err)
		return CE_INVAL;
	if (s->end_top)
		return 0;
	sc_step(s, ' ');
	if (s->end_top && !s->has_err)
		return 0;
	if (s->nomem)
		return CE_NOMEM;
	if (!s->has_err)
		errf(s->msg, s->msglen, CE_INVAL, "unexpected end of JSON input");
	return CE_INVAL;
}

int gojson_scan(const char *p, size_t len, enum gojson_mode mode, size_t *start, size_t *end,
		char *msg, size_t msglen)
{
	struct scanner s;
	int rc;

	memset(&s, 0, sizeof(s));
	s.step = ST_BEGIN_VALUE;
	s.msg = msg;
	s.msglen = msglen;
	*end = len;
	if (mode == GOJSON_STREAM)
		rc = scan_stream(&s, p, len, end);
	else
		rc = scan_whole(&s, p, len);
	free(s.stack);
	if (rc == 0) {
		*start = gojson_skip_space(p, len, 0);
		if (mode == GOJSON_WHOLE)
			*end = gojson_value_end(p, len, *start);
	}
	if (rc == CE_NOMEM)
		errf(msg, msglen, CE_NOMEM, "out of memory");
	return rc;
}

/* ---- walking validated JSON ------------------------------------------- */

size_t gojson_skip_space(const char *p, size_t len, size_t off)
{
	while (off < len && is_space((unsigned char)p[off]))
		off++;
	return off;
}

static size_t string_end(const char *p, size_t len, size_t off)
{
	for (off++; off < len; off++) {
		if (p[off] == '\\')
			off++;
		else if (p[off] == '"')
			return off + 1;
	}
	return len;
}

size_t gojson_value_end(const char *p, size_t len, size_t off)
{
	size_t depth = 0;

	if (off >= len)
		return len;
	if (p[off] == '"')
		return string_end(p, len, off);
	if (p[off] != '{' && p[off] != '[') {
		while (off < len && !is_space((unsigned char)p[off]) && p[off] != ',' &&
		       p[off] != '}' && p[off] != ']' && p[off] != ':')
			off++;
		return off;
	}
	while (off < len) {
		char c = p[off];

		if (c == '"') {
			off = string_end(p, len, off);
			continue;
		}
		if (c == '{' || c == '[')
			depth++;
		else if (c == '}' || c == ']') {
			if (--depth == 0)
				return off + 1;
		}
		off++;
	}
	return len;
}

const char *gojson_kind(char first)
{
	switch (first) {
	case '{':
		return "object";
	case '[':
		return "array";
	case '"':
		return "string";
	case 't':
	case 'f':
		return "bool";
	case 'n':
		return "null";
	default:
		return "number";
	}
}

/* ---- UTF-8 ------------------------------------------------------------ */

size_t gojson_utf8_next(const uint8_t *s, size_t n, int32_t *r)
{
	uint8_t c = s[0];
	size_t need;
	int32_t v, min;

	if (c < 0x80) {
		*r = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		need = 2;
		v = c & 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 3;
		v = c & 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 4;
		v = c & 0x07;
		min = 0x10000;
	} else {
		*r = -1;
		return 1;
	}
	if (n < need) {
		*r = -1;
		return 1;
	}
	for (size_t i = 1; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			*r = -1;
			return 1;
		}
		v = v << 6 | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) {
		*r = -1;
		return 1;
	}
	*r = v;
	return need;
}

static void put_rune(struct buf *out, int32_t r)
{
	uint8_t t[4];

	if (r < 0 || r > 0x10ffff || (r >= 0xd800 && r <= 0xdfff))
		r = 0xfffd;
	if (r < 0x80) {
		t[0] = (uint8_t)r;
		buf_put(out, t, 1);
	} else if (r < 0x800) {
		t[0] = (uint8_t)(0xc0 | r >> 6);
		t[1] = (uint8_t)(0x80 | (r & 0x3f));
		buf_put(out, t, 2);
	} else if (r < 0x10000) {
		t[0] = (uint8_t)(0xe0 | r >> 12);
		t[1] = (uint8_t)(0x80 | ((r >> 6) & 0x3f));
		t[2] = (uint8_t)(0x80 | (r & 0x3f));
		buf_put(out, t, 3);
	} else {
		t[0] = (uint8_t)(0xf0 | r >> 18);
		t[1] = (uint8_t)(0x80 | ((r >> 12) & 0x3f));
		t[2] = (uint8_t)(0x80 | ((r >> 6) & 0x3f));
		t[3] = (uint8_t)(0x80 | (r & 0x3f));
		buf_put(out, t, 4);
	}
}

/* ---- strings ---------------------------------------------------------- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return c - 'A' + 10;
}

/* getu4 reads \uXXXX at p[i..]; -1 if not there. */
static int32_t getu4(const char *p, size_t n, size_t i)
{
	int32_t v = 0;

	if (i + 6 > n || p[i] != '\\' || p[i + 1] != 'u')
		return -1;
	for (size_t k = 2; k < 6; k++) {
		if (!is_hex((unsigned char)p[i + k]))
			return -1;
		v = v << 4 | hexval(p[i + k]);
	}
	return v;
}

void gojson_unquote(const char *p, size_t n, struct buf *out)
{
	size_t i = 1, end = n > 0 ? n - 1 : 0;

	while (i < end) {
		unsigned char c = (unsigned char)p[i];

		if (c == '\\') {
			char e = p[i + 1];
			static const char from[] = "bfnrt\\/\"", to[] = "\b\f\n\r\t\\/\"";
			const char *k = strchr(from, e);
			int32_t r, r2;

			if (e != 'u' && k != NULL) {
				buf_put_u8(out, (uint8_t)to[k - from]);
				i += 2;
				continue;
			}
			r = getu4(p, end, i);
			i += 6;
			if (r >= 0xd800 && r < 0xdc00 && (r2 = getu4(p, end, i)) >= 0xdc00 &&
			    r2 < 0xe000) {
				put_rune(out, 0x10000 + ((r - 0xd800) << 10) + (r2 - 0xdc00));
				i += 6;
				continue;
			}
			put_rune(out, r); /* lone surrogates become U+FFFD */
			continue;
		}
		if (c < 0x80) {
			buf_put_u8(out, c);
			i++;
		} else {
			int32_t r;
			size_t k = gojson_utf8_next((const uint8_t *)p + i, end - i, &r);

			if (r < 0)
				put_rune(out, 0xfffd);
			else
				buf_put(out, p + i, k);
			i += k;
		}
	}
}

static const char hexdig[] = "0123456789abcdef";

void gojson_quote(struct buf *out, const void *sv, size_t n)
{
	const uint8_t *s = sv;
	size_t i = 0, start = 0;

	buf_put_u8(out, '"');
	while (i < n) {
		uint8_t c = s[i];
		int32_t r;
		size_t k;

		if (c < 0x80) {
			if (c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&') {
				i++;
				continue;
			}
			buf_put(out, s + start, i - start);
			if (c == '"' || c == '\\') {
				buf_put_u8(out, '\\');
				buf_put_u8(out, c);
			} else if (c == '\n') {
				buf_put(out, "\\n", 2);
			} else if (c == '\r') {
				buf_put(out, "\\r", 2);
			} else if (c == '\t') {
				buf_put(out, "\\t", 2);
			} else {
				uint8_t e[6] = { '\\', 'u', '0', '0', (uint8_t)hexdig[c >> 4],
						 (uint8_t)hexdig[c & 15] };
				buf_put(out, e, 6);
			}
			start = ++i;
			continue;
		}
		k = gojson_utf8_next(s + i, n - i, &r);
		if (r < 0 || r == 0x2028 || r == 0x2029) {
			buf_put(out, s + start, i - start);
			if (r < 0)
				buf_put(out, "\\ufffd", 6);
			else
				buf_put(out, r == 0x2028 ? "\\u2028" : "\\u2029", 6);
			i += k;
			start = i;
			continue;
		}
		i += k;
	}
	buf_put(out, s + start, n - start);
	buf_put_u8(out, '"');
}

static int go_isprint(int32_t r)
{
	if (r < 0x20 || r == 0x7f)
		return 0;
	if (r >= 0x80 && r <= 0xa0)
		return 0; /* C1 controls and NBSP: Go escapes them */
	if (r == 0xad || r == 0x2028 || r == 0x2029 || r == 0xfeff)
		return 0;
	return 1;
}

void gojson_goquote(struct buf *out, const void *sv, size_t n)
{
	const uint8_t *s = sv;
	char t[16];

	buf_put_u8(out, '"');
	for (size_t i = 0; i < n;) {
		int32_t r;
		size_t k = gojson_utf8_next(s + i, n - i, &r);

		if (r < 0) {
			snprintf(t, sizeof(t), "\\x%c%c", hexdig[s[i] >> 4], hexdig[s[i] & 15]);
			buf_put(out, t, 4);
		} else if (r == '"' || r == '\\') {
			buf_put_u8(out, '\\');
			buf_put_u8(out, (uint8_t)r);
		} else if (go_isprint(r)) {
			buf_put(out, s + i, k);
		} else {
			const char *named = NULL;

			switch (r) {
			case '\a': named = "\\a"; break;
			case '\b': named = "\\b"; break;
			case '\f': named = "\\f"; break;
			case '\n': named = "\\n"; break;
			case '\r': named = "\\r"; break;
			case '\t': named = "\\t"; break;
			case '\v': named = "\\v"; break;
			}
			if (named != NULL)
				snprintf(t, sizeof(t), "%s", named);
			else if (r < ' ' || r == 0x7f)
				snprintf(t, sizeof(t), "\\x%02x", (unsigned)r);
			else if (r < 0x10000)
				snprintf(t, sizeof(t), "\\u%04x", (unsigned)r);
			else
				snprintf(t, sizeof(t), "\\U%08x", (unsigned)r);
			buf_put(out, t, strlen(t));
		}
		i += k;
	}
	buf_put_u8(out, '"');
}

/* ---- base64 ----------------------------------------------------------- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64val(uint8_t c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static size_t skip_nl(const uint8_t *s, size_t n, size_t si)
{
	while (si < n && (s[si] == '\n' || s[si] == '\r'))
		si++;
	return si;
}

/* quantum decodes up to four symbols starting at *si, as Go's
 * Encoding.decodeQuantum; returns 0 or CE_INVAL with *bad. */
static int quantum(const uint8_t *s, size_t n, size_t *si, struct buf *out, size_t *bad)
{
	int d[4] = { 0, 0, 0, 0 };
	size_t j, dlen = 4;
	uint32_t val;
	uint8_t o[3];
	int err = 0;

	for (j = 0; j < 4; j++) {
		int v;

		if (*si == n) {
			if (j == 0)
				return 0;
			*bad = *si - j; /* padding required: a short tail is corrupt */
			return CE_INVAL;
		}
		v = b64val(s[(*si)++]);
		if (v >= 0) {
			d[j] = v;
			continue;
		}
		if (s[*si - 1] == '\n' || s[*si - 1] == '\r') {
			j--;
			continue;
		}
		if (s[*si - 1] != '=' || j < 2) {
			*bad = *si - 1;
			return CE_INVAL;
		}
		if (j == 2) { /* "==" expected; the first '=' is consumed */
			*si = skip_nl(s, n, *si);
			if (*si == n) {
				*bad = n;
				return CE_INVAL;
			}
			if (s[*si] != '=') {
				*bad = *si - 1;
				return CE_INVAL;
			}
			(*si)++;
		}
		*si = skip_nl(s, n, *si);
		if (*si < n) {
			*bad = *si; /* trailing garbage after padding */
			err = CE_INVAL;
		}
		dlen = j;
		break;
	}
	val = (uint32_t)d[0] << 18 | (uint32_t)d[1] << 12 | (uint32_t)d[2] << 6 | (uint32_t)d[3];
	o[0] = (uint8_t)(val >> 16);
	o[1] = (uint8_t)(val >> 8);
	o[2] = (uint8_t)val;
	buf_put(out, o, dlen - 1);
	return err;
}

int gojson_b64_decode(const void *sv, size_t n, struct buf *out, size_t *bad)
{
	const uint8_t *s = sv;
	size_t si = 0;

	*bad = 0;
	while (si < n) {
		int rc = quantum(s, n, &si, out, bad);
		if (rc != 0)
			return rc;
	}
	return 0;
}

void gojson_b64_encode(struct buf *out, const void *pv, size_t n)
{
	const uint8_t *p = pv;
	char q[4];

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		size_t left = n - i;

		if (left > 1)
			v |= (uint32_t)p[i + 1] << 8;
		if (left > 2)
			v |= p[i + 2];
		q[0] = b64[v >> 18];
		q[1] = b64[(v >> 12) & 63];
		q[2] = left > 1 ? b64[(v >> 6) & 63] : '=';
		q[3] = left > 2 ? b64[v & 63] : '=';
		buf_put(out, q, 4);
	}
}
