/* gojson.h - the pieces of Go's encoding/json, encoding/base64 and strconv
 * behaviour that etcd's grpc-gateway exposes to clients, reimplemented so
 * cetcd's /v3 JSON is byte-for-byte what etcd 3.4 sends: the syntax
 * scanner with Go's exact error texts, string quoting (json.Marshal, with
 * HTML escaping) and unquoting, Go's %q, and standard base64.
 *
 * Inputs are raw bytes of any content; nothing here trusts them.
 */
#ifndef CETCD_PB_GOJSON_H
#define CETCD_PB_GOJSON_H

#include "util/buf.h"

#include <stddef.h>
#include <stdint.h>

#define GOJSON_MAX_DEPTH 10000 /* Go's maxNestingDepth */

enum gojson_mode {
	/* json.Decoder.Decode: read the first value, ignore what follows;
	 * truncated input = "unexpected EOF". */
	GOJSON_STREAM,
	/* json.Unmarshal's check: the whole input is one value; trailing
	 * non-space = "after top-level value", short = "unexpected end of
	 * JSON input". */
	GOJSON_WHOLE
};

#define GOJSON_EOF 1 /* GOJSON_STREAM only: input held nothing but space */

/* gojson_scan checks syntax. On success returns 0 and sets *start and *end to
 * the span of the (first) value without surrounding space. Returns
 * GOJSON_EOF (stream mode, empty input) or CE_INVAL with Go's message in
 * msg (e.g. "invalid character 'x' looking for beginning of value"), or
 * CE_NOMEM. */
int gojson_scan(const char *p, size_t len, enum gojson_mode mode, size_t *start, size_t *end,
		char *msg, size_t msglen);

/* For already validated JSON: gojson_skip_space returns the index of the
 * first non-space at or after off; gojson_value_end the index just past the
 * value starting at off. */
size_t gojson_skip_space(const char *p, size_t len, size_t off);
size_t gojson_value_end(const char *p, size_t len, size_t off);

/* gojson_kind names a validated value as Go's type errors do: "object",
 * "array", "string", "number", "bool", or "null". */
const char *gojson_kind(char first);

/* gojson_unquote decodes a validated string literal p[0..n) (with its
 * quotes) into out as Go does: escapes resolved, invalid UTF-8 and lone
 * surrogates become U+FFFD. */
void gojson_unquote(const char *p, size_t n, struct buf *out);

/* gojson_quote appends s as json.Marshal writes a Go string: quotes,
 * \" \\ \n \r \t, other controls and < > & as \u00XX, U+2028/U+2029
 * escaped, invalid UTF-8 as \ufffd. */
void gojson_quote(struct buf *out, const void *s, size_t n);

/* gojson_goquote appends s as Go's strconv.Quote (fmt %q) does. Non-ASCII
 * printability is approximated (C1 controls and U+2028/9 escaped). */
void gojson_goquote(struct buf *out, const void *s, size_t n);

/* gojson_b64_decode decodes Go's base64.StdEncoding (padding required,
 * CR/LF ignored, non-strict trailing bits). 0, or CE_INVAL with *bad set to
 * Go's CorruptInputError offset. Appends to out. */
int gojson_b64_decode(const void *s, size_t n, struct buf *out, size_t *bad);
/* gojson_b64_encode appends standard padded base64. */
void gojson_b64_encode(struct buf *out, const void *p, size_t n);

/* gojson_utf8_next decodes one rune of s[0..n) (n > 0) as Go's utf8 does:
 * returns its length and sets *r, or returns 1 with *r = -1 if invalid. */
size_t gojson_utf8_next(const uint8_t *s, size_t n, int32_t *r);

#endif
