/* pb_json.c - protobuf <-> etcd 3.4 grpc-gateway JSON, driven by the schema
 * tables. The rules (and the etcd quirks they copy) are in src/pb/README;
 * the error texts are Go's, produced through gojson.c. */
#include "config.h"
#include "pb/pb_json.h"

#include "pb/gojson.h"
#include "util/err.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ====================================================================== */
/* protobuf -> JSON                                                        */
/* ====================================================================== */

struct out_ctx {
	struct buf *out;
	char *err;
	size_t errlen;
};

static int msg_to_json(const struct pb_msgdef *md, const uint8_t *p, size_t len, int depth,
		       struct out_ctx *c);

static void put_key(struct buf *out, const struct pb_field *f, int *first)
{
	if (!*first)
		buf_put_u8(out, ',');
	*first = 0;
	buf_put_u8(out, '"');
	buf_put(out, f->name, strlen(f->name));
	buf_put(out, "\":", 2);
}

/* scalar_zero: would Go's struct field hold its zero value? */
static int scalar_zero(const struct pb_field *f, uint64_t u)
{
	switch (f->type) {
	case PB_INT32:
	case PB_UINT32:
	case PB_ENUM:
		return (uint32_t)u == 0;
	default:
		return u == 0;
	}
}

static void put_number(struct buf *out, const struct pb_field *f, uint64_t u)
{
	char t[32];
	const char *name;

	switch (f->type) {
	case PB_INT64:
		snprintf(t, sizeof(t), "\"%" PRId64 "\"", (int64_t)u);
		break;
	case PB_UINT64:
		snprintf(t, sizeof(t), "\"%" PRIu64 "\"", u);
		break;
	case PB_INT32:
		snprintf(t, sizeof(t), "%" PRId32, (int32_t)(uint32_t)u);
		break;
	case PB_UINT32:
		snprintf(t, sizeof(t), "%" PRIu32, (uint32_t)u);
		break;
	case PB_BOOL:
		snprintf(t, sizeof(t), "%s", u ? "true" : "false");
		break;
	default: /* PB_ENUM: by name; a number the schema does not know, bare */
		name = pb_enum_name(f->en, (int32_t)(uint32_t)u);
		if (name != NULL) {
			buf_put_u8(out, '"');
			buf_put(out, name, strlen(name));
			buf_put_u8(out, '"');
			return;
		}
		snprintf(t, sizeof(t), "%" PRId32, (int32_t)(uint32_t)u);
		break;
	}
	buf_put(out, t, strlen(t));
}

/* put_value writes one element: a varint item, or a LEN item's payload. */
static int put_value(const struct pb_field *f, const struct pb_item *it, int depth,
		     struct out_ctx *c)
{
	switch (f->type) {
	case PB_STRING:
		gojson_quote(c->out, it->data, it->len);
		return 0;
	case PB_BYTES:
		buf_put_u8(c->out, '"');
		gojson_b64_encode(c->out, it->data, it->len);
		buf_put_u8(c->out, '"');
		return 0;
	case PB_MSG:
		return msg_to_json(f->msg, it->data, it->len, depth + 1, c);
	default:
		put_number(c->out, f, it->u);
		return 0;
	}
}

static int is_packed(const struct pb_field *f, const struct pb_item *it)
{
	return it->wire == PB_WIRE_LEN && f->type != PB_STRING && f->type != PB_BYTES &&
	       f->type != PB_MSG;
}

static int repeated_to_json(const struct pb_field *f, const uint8_t *p, size_t len, int depth,
			    int *first, struct out_ctx *c)
{
	struct pb_reader r, pr;
	struct pb_item it, el;
	size_t n = 0;
	int rc;

	pb_reader_init(&r, p, len);
	while (pb_next_of(&r, f->number, &it) == 1) {
		if (!is_packed(f, &it)) {
			n++;
			continue;
		}
		pb_reader_init(&pr, it.data, it.len);
		while (pb_packed_next(&pr, &el.u) == 1)
			n++;
	}
	if (n == 0)
		return 0;
	put_key(c->out, f, first);
	buf_put_u8(c->out, '[');
	n = 0;
	pb_reader_init(&r, p, len);
	while (pb_next_of(&r, f->number, &it) == 1) {
		if (!is_packed(f, &it)) {
			if (n++ > 0)
				buf_put_u8(c->out, ',');
			if ((rc = put_value(f, &it, depth, c)) != 0)
				return rc;
			continue;
		}
		pb_reader_init(&pr, it.data, it.len);
		while (pb_packed_next(&pr, &el.u) == 1) {
			if (n++ > 0)
				buf_put_u8(c->out, ',');
			put_number(c->out, f, el.u);
		}
	}
	buf_put_u8(c->out, ']');
	return 0;
}

/* submsg_to_json: several occurrences of a singular submessage merge, which
 * for protobuf is the same as parsing their concatenation. */
static int submsg_to_json(const struct pb_field *f, const uint8_t *p, size_t len, int depth,
			  int *first, struct out_ctx *c)
{
	struct pb_reader r;
	struct pb_item it, last;
	struct buf cat;
	int n = 0, rc;

	buf_init(&cat);
	pb_reader_init(&r, p, len);
	while (pb_next_of(&r, f->number, &it) == 1) {
		buf_put(&cat, it.data, it.len);
		last = it;
		n++;
	}
	if (n == 0)
		return 0;
	put_key(c->out, f, first);
	if (n == 1)
		rc = msg_to_json(f->msg, last.data, last.len, depth + 1, c);
	else if (cat.oom)
		rc = CE_NOMEM;
	else
		rc = msg_to_json(f->msg, cat.data, cat.len, depth + 1, c);
	buf_close(&cat);
	return rc;
}

static int in_group(const struct pb_msgdef *md, uint32_t number, int group)
{
	const struct pb_field *f = pb_field_by_number(md, number);

	return f != NULL && f->oneof == group;
}

static int field_to_json(const struct pb_msgdef *md, const struct pb_field *f, const uint8_t *p,
			 size_t len, int depth, int *first, struct out_ctx *c)
{
	struct pb_reader r;
	struct pb_item it, last;
	int found = 0;

	if (f->repeated)
		return repeated_to_json(f, p, len, depth, first, c);
	if (f->type == PB_MSG && f->oneof == 0)
		return submsg_to_json(f, p, len, depth, first, c);
	/* Scalars, and oneof members: the last occurrence wins; for a oneof,
	 * the last occurrence of any member of its group. */
	pb_reader_init(&r, p, len);
	while (pb_next(&r, &it) == 1) {
		if (it.number == f->number || (f->oneof && in_group(md, it.number, f->oneof))) {
			last = it;
			found = 1;
		}
	}
	if (!found || last.number != f->number)
		return 0;
	if (f->oneof == 0) {
		if (f->type == PB_STRING && last.len == 0)
			return 0;
		if (f->type != PB_STRING && f->type != PB_BYTES && scalar_zero(f, last.u))
			return 0;
	}
	put_key(c->out, f, first);
	return put_value(f, &last, depth, c);
}

static int msg_to_json(const struct pb_msgdef *md, const uint8_t *p, size_t len, int depth,
		       struct out_ctx *c)
{
	struct pb_reader r;
	struct pb_item it;
	int rc, first = 1;

	if (depth > PB_MAX_DEPTH)
		return errf(c->err, c->errlen, CE_CORRUPT, "%s: nested too deeply", md->name);
	/* Check the whole encoding first, so the field walks below cannot
	 * meet a malformed byte. */
	pb_reader_init(&r, p, len);
	while ((rc = pb_next(&r, &it)) == 1) {
		const struct pb_field *f = pb_field_by_number(md, it.number);

		if (f != NULL && !pb_field_wire_ok(f, it.wire))
			return errf(c->err, c->errlen, CE_CORRUPT, "%s.%s: wrong wire type %d",
				    md->name, f->name, (int)it.wire);
		if (f != NULL && is_packed(f, &it)) {
			struct pb_reader pr;
			uint64_t v;

			pb_reader_init(&pr, it.data, it.len);
			while ((rc = pb_packed_next(&pr, &v)) == 1)
				;
			if (rc < 0)
				return errf(c->err, c->errlen, CE_CORRUPT, "%s.%s: bad packed field",
					    md->name, f->name);
		}
	}
	if (rc < 0)
		return errf(c->err, c->errlen, CE_CORRUPT, "%s: malformed protobuf at offset %zu",
			    md->name, r.off);
	buf_put_u8(c->out, '{');
	for (size_t i = 0; i < md->nfields; i++) {
		rc = field_to_json(md, &md->fields[i], p, len, depth, &first, c);
		if (rc != 0)
			return errwrap(c->err, c->errlen, rc, "%s.%s", md->name, md->fields[i].name);
	}
	buf_put_u8(c->out, '}');
	return 0;
}

int pb_to_json(const struct pb_msgdef *md, const void *pb, size_t len, struct buf *out, char *err,
	       size_t errlen)
{
	struct out_ctx c = { out, err, errlen };
	int rc = msg_to_json(md, pb, len, 0, &c);

	if (rc == 0 && out->oom)
		rc = errf(err, errlen, CE_NOMEM, "out of memory");
	return rc;
}

int pb_json_stream_chunk(const struct pb_msgdef *md, const void *pb, size_t len, struct buf *out,
			 char *err, size_t errlen)
{
	int rc;

	buf_put(out, "{\"result\":", 10);
	rc = pb_to_json(md, pb, len, out, err, errlen);
	buf_put(out, "}\n", 2);
	if (rc == 0 && out->oom)
		rc = errf(err, errlen, CE_NOMEM, "out of memory");
	return rc;
}

void pb_json_error_body(struct buf *out, const char *msg, int code)
{
	char t[32];

	buf_put(out, "{\"error\":", 9);
	gojson_quote(out, msg, strlen(msg));
	buf_put(out, ",\"message\":", 11);
	gojson_quote(out, msg, strlen(msg));
	snprintf(t, sizeof(t), ",\"code\":%d}", code);
	buf_put(out, t, strlen(t));
}

void pb_json_stream_error(struct buf *out, const char *msg, int grpc_code, int http_code,
			  const char *http_status)
{
	char t[64];

	buf_put(out, "{\"error\":{", 10);
	snprintf(t, sizeof(t), "\"grpc_code\":%d,\"http_code\":%d", grpc_code, http_code);
	buf_put(out, t, strlen(t));
	if (*msg) {
		buf_put(out, ",\"message\":", 11);
		gojson_quote(out, msg, strlen(msg));
	}
	buf_put(out, ",\"http_status\":", 15);
	gojson_quote(out, http_status, strlen(http_status));
	buf_put(out, "}}\n", 3);
}

static int json_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int pb_json_next_value(const char *p, size_t n, size_t *off, size_t *start, size_t *len)
{
	size_t i = *off, depth = 0;
	int in_str = 0;

	while (i < n && json_ws(p[i]))
		i++;
	if (i >= n) {
		*off = n;
		return 0;
	}
	*start = i;
	for (; i < n; i++) {
		char c = p[i];
		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = 0;
			else
				continue;
			if (depth == 0 && !in_str)
				break;
			continue;
		}
		if (c == '"') {
			in_str = 1;
		} else if (c == '{' || c == '[') {
			depth++;
		} else if (c == '}' || c == ']') {
			if (depth == 0 || --depth == 0)
				break;
		} else if (depth == 0 && (json_ws(c) || c == ',')) {
			if (i > *start)
				i--; /* a scalar ends before its delimiter */
			break;
		}
	}
	if (i >= n) {
		*len = n - *start;
		*off = n;
		return -1;
	}
	*len = i + 1 - *start;
	*off = i + 1;
	return 1;
}

/* ====================================================================== */
/* JSON -> protobuf                                                        */
/* ====================================================================== */

struct in_ctx {
	char *err;
	size_t errlen;
	int depth;
};

/* One decoded scalar: absent (JSON null), a varint, or bytes in data. */
enum sv_kind { SV_NULL, SV_VARINT, SV_LEN };

struct sval {
	enum sv_kind kind;
	uint64_t u;
	struct buf data;
};

static int msg_from_json(const struct pb_msgdef *md, const char *raw, size_t n, struct buf *out,
			 struct in_ctx *c);

static const char *go_type(const struct pb_field *f)
{
	switch (f->type) {
	case PB_INT64:
		return "int64";
	case PB_UINT64:
		return "uint64";
	case PB_INT32:
		return "int32";
	case PB_UINT32:
		return "uint32";
	case PB_BOOL:
		return "bool";
	case PB_STRING:
		return "string";
	case PB_BYTES:
		return "[]uint8";
	case PB_ENUM:
		return f->en->name;
	default:
		return "map[string]json.RawMessage";
	}
}

static int type_error(struct in_ctx *c, const char *what, const char *type)
{
	return errf(c->err, c->errlen, CE_INVAL, "json: cannot unmarshal %s into Go value of type %s",
		    what, type);
}

static int number_error(struct in_ctx *c, const char *lit, size_t n, const char *type)
{
	return errf(c->err, c->errlen, CE_INVAL,
		    "json: cannot unmarshal number %.*s into Go value of type %s", (int)n, lit, type);
}

/* parse_int parses a JSON number literal as Go's strconv.ParseInt/ParseUint
 * would for the given width, after encoding/json picked it as an integer
 * target. 0 or -1. */
static int parse_int(const char *s, size_t n, int is_signed, int bits, uint64_t *out)
{
	int neg = 0;
	uint64_t v = 0, limit;
	size_t i = 0;

	if (n > 0 && s[0] == '-') {
		if (!is_signed)
			return -1;
		neg = 1;
		i = 1;
	}
	if (i == n)
		return -1;
	for (; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1; /* fraction or exponent: not an integer */
		if (v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (is_signed) {
		limit = (uint64_t)1 << (bits - 1);
		if (neg ? v > limit : v >= limit)
			return -1;
		*out = neg ? (uint64_t)0 - v : v;
	} else {
		limit = bits == 64 ? UINT64_MAX : ((uint64_t)1 << bits) - 1;
		if (v > limit)
			return -1;
		*out = v;
	}
	return 0;
}

static int numeric_bits(const struct pb_field *f, int *is_signed)
{
	*is_signed = f->type == PB_INT64 || f->type == PB_INT32 || f->type == PB_ENUM;
	return f->type == PB_INT64 || f->type == PB_UINT64 ? 64 : 32;
}

/* number_from_json: encoding/json unmarshalling a value into a Go integer
 * (or enum) field; raw is one validated value. */
static int number_from_json(const struct pb_field *f, const char *raw, size_t n, struct sval *v,
			    struct in_ctx *c)
{
	int is_signed, bits = numeric_bits(f, &is_signed);

	switch (raw[0]) {
	case 'n':
		v->kind = SV_NULL;
		return 0;
	case '{':
	case '[':
	case '"':
	case 't':
	case 'f':
		return type_error(c, gojson_kind(raw[0]), go_type(f));
	}
	if (parse_int(raw, n, is_signed, bits, &v->u) != 0)
		return number_error(c, raw, n, go_type(f));
	v->kind = SV_VARINT;
	return 0;
}

static int enum_by_name(const struct pb_field *f, const char *raw, size_t n, uint64_t *u,
			struct in_ctx *c)
{
	int32_t num;
	struct buf q;
	int rc;

	/* jsonpb takes the bytes between the quotes as they are, escapes and
	 * all (so "\u0041SCEND" is not ASCEND). */
	if (pb_enum_value(f->en, raw + 1, n - 2, &num) == 0) {
		*u = (uint64_t)(int64_t)num;
		return 0;
	}
	buf_init(&q);
	gojson_goquote(&q, raw + 1, n - 2);
	rc = errf(c->err, c->errlen, CE_INVAL, "unknown value %.*s for enum %s",
		  q.oom ? 0 : (int)q.len, q.oom ? "" : (const char *)q.data, f->en->name);
	buf_close(&q);
	return rc;
}

static int bytes_array(const char *raw, size_t n, struct buf *out, struct in_ctx *c)
{
	size_t i = gojson_skip_space(raw, n, 1);

	/* encoding/json fills a []byte from an array element by element. */
	while (i < n && raw[i] != ']') {
		size_t e = gojson_value_end(raw, n, i);
		uint64_t u = 0;

		if (raw[i] == 'n')
			u = 0;
		else if (strchr("{[\"tf", raw[i]) != NULL)
			return type_error(c, gojson_kind(raw[i]), "uint8");
		else if (parse_int(raw + i, e - i, 0, 8, &u) != 0)
			return number_error(c, raw + i, e - i, "uint8");
		buf_put_u8(out, (uint8_t)u);
		i = gojson_skip_space(raw, n, e);
		if (i < n && raw[i] == ',')
			i = gojson_skip_space(raw, n, i + 1);
	}
	return 0;
}

static int bytes_from_json(const char *raw, size_t n, struct sval *v, struct in_ctx *c)
{
	struct buf s;
	size_t bad;
	int rc;

	if (raw[0] == 'n') {
		v->kind = SV_NULL;
		return 0;
	}
	v->kind = SV_LEN;
	if (raw[0] == '[')
		return bytes_array(raw, n, &v->data, c);
	if (raw[0] != '"')
		return type_error(c, gojson_kind(raw[0]), "[]uint8");
	buf_init(&s);
	gojson_unquote(raw, n, &s);
	rc = gojson_b64_decode(s.data, s.len, &v->data, &bad);
	buf_close(&s);
	if (rc != 0)
		return errf(c->err, c->errlen, CE_INVAL, "illegal base64 data at input byte %zu", bad);
	return 0;
}

/* scalar_from_json decodes one non-message value into v. */
static int scalar_from_json(const struct pb_field *f, const char *raw, size_t n, struct sval *v,
			    struct in_ctx *c)
{
	size_t s, e;
	int rc;

	v->kind = SV_NULL;
	switch (f->type) {
	case PB_BOOL:
		if (raw[0] == 'n')
			return 0;
		if (raw[0] != 't' && raw[0] != 'f')
			return type_error(c, gojson_kind(raw[0]), "bool");
		v->kind = SV_VARINT;
		v->u = raw[0] == 't';
		return 0;
	case PB_STRING:
		if (raw[0] == 'n')
			return 0;
		if (raw[0] != '"')
			return type_error(c, gojson_kind(raw[0]), "string");
		v->kind = SV_LEN;
		gojson_unquote(raw, n, &v->data);
		return 0;
	case PB_BYTES:
		return bytes_from_json(raw, n, v, c);
	default:
		break;
	}
	if (raw[0] != '"')
		return number_from_json(f, raw, n, v, c);
	if (f->type == PB_ENUM) {
		v->kind = SV_VARINT;
		return enum_by_name(f, raw, n, &v->u, c);
	}
	/* jsonpb strips the quotes of a quoted number and hands the rest,
	 * unescaped, to json.Unmarshal: " 1" works, "1e2" and "\u0031" fail. */
	rc = gojson_scan(raw + 1, n - 2, GOJSON_WHOLE, &s, &e, c->err, c->errlen);
	if (rc != 0)
		return rc;
	return number_from_json(f, raw + 1 + s, e - s, v, c);
}

/* put_sval writes a decoded scalar; oneof members are written even when
 * zero or null (jsonpb sets the oneof wrapper either way). */
static void put_sval(const struct pb_field *f, const struct sval *v, struct buf *out)
{
	int always = f->oneof != 0;

	if (v->kind == SV_LEN || f->type == PB_STRING || f->type == PB_BYTES) {
		size_t len = v->kind == SV_LEN ? v->data.len : 0;

		if (len > 0 || always)
			pb_put_bytes_always(out, f->number, len ? v->data.data : NULL, len);
		return;
	}
	if (v->kind == SV_NULL) {
		if (always)
			pb_put_varint_always(out, f->number, 0);
		return;
	}
	if (!scalar_zero(f, v->u) || always)
		pb_put_varint_always(out, f->number, v->u);
}

static int submsg_from_json(const struct pb_field *f, const char *raw, size_t n, int always,
			    struct buf *out, struct in_ctx *c)
{
	size_t mark;
	int rc;

	if (raw[0] == 'n') {
		if (!always)
			return 0;
		/* a null element of a repeated message: etcd's gateway panics
		 * on it (connection dropped); cetcd sends an empty message. */
		mark = pb_msg_begin(out, f->number);
		pb_msg_end(out, mark);
		return 0;
	}
	if (raw[0] != '{')
		return type_error(c, gojson_kind(raw[0]), "map[string]json.RawMessage");
	mark = pb_msg_begin(out, f->number);
	rc = msg_from_json(f->msg, raw, n, out, c);
	pb_msg_end(out, mark);
	return rc;
}

static int element_from_json(const struct pb_field *f, const char *raw, size_t n,
			     struct buf *out, struct buf *packed, struct in_ctx *c)
{
	struct sval v;
	int rc;

	if (f->type == PB_MSG)
		return submsg_from_json(f, raw, n, 1, out, c);
	memset(&v, 0, sizeof(v));
	buf_init(&v.data);
	rc = scalar_from_json(f, raw, n, &v, c);
	if (rc == 0) {
		if (f->type == PB_STRING || f->type == PB_BYTES)
			pb_put_bytes_always(out, f->number, v.data.data, v.data.len);
		else
			pb_put_varint(packed, v.kind == SV_NULL ? 0 : v.u);
	}
	buf_close(&v.data);
	return rc;
}

static int repeated_from_json(const struct pb_field *f, const char *raw, size_t n,
			      struct buf *out, struct in_ctx *c)
{
	struct buf packed;
	size_t i;
	int rc = 0;

	if (raw[0] == '"' && f->type == PB_ENUM) {
		uint64_t u;

		/* jsonpb tries the enum name before noticing the slice */
		if ((rc = enum_by_name(f, raw, n, &u, c)) != 0)
			return rc;
		return errf(c->err, c->errlen, CE_INVAL, "invalid target \"slice\" for enum %s",
			    f->en->name);
	}
	if (raw[0] == 'n')
		return 0;
	if (raw[0] != '[')
		return type_error(c, gojson_kind(raw[0]), "[]json.RawMessage");
	buf_init(&packed);
	i = gojson_skip_space(raw, n, 1);
	while (rc == 0 && i < n && raw[i] != ']') {
		size_t e = gojson_value_end(raw, n, i);

		rc = element_from_json(f, raw + i, e - i, out, &packed, c);
		i = gojson_skip_space(raw, n, e);
		if (i < n && raw[i] == ',')
			i = gojson_skip_space(raw, n, i + 1);
	}
	if (rc == 0 && packed.len > 0)
		pb_put_bytes_always(out, f->number, packed.data, packed.len);
	if (rc == 0 && packed.oom)
		rc = CE_NOMEM;
	buf_close(&packed);
	return rc;
}

static int field_from_json(const struct pb_field *f, const char *raw, size_t n, struct buf *out,
			   struct in_ctx *c)
{
	struct sval v;
	int rc;

	if (f->repeated)
		return repeated_from_json(f, raw, n, out, c);
	if (f->type == PB_MSG)
		return submsg_from_json(f, raw, n, 0, out, c);
	memset(&v, 0, sizeof(v));
	buf_init(&v.data);
	rc = scalar_from_json(f, raw, n, &v, c);
	if (rc == 0)
		put_sval(f, &v, out);
	buf_close(&v.data);
	return rc;
}

/* ---- objects ---------------------------------------------------------- */

/* A member of a JSON object: its unquoted key (in keys) and value span. */
struct member {
	size_t koff, klen;
	size_t voff, vlen;
};

struct members {
	struct member *m;
	size_t n, cap;
	struct buf keys;
};

static int members_parse(const char *raw, size_t n, struct members *ms)
{
	size_t i = gojson_skip_space(raw, n, 1);

	while (i < n && raw[i] == '"') {
		size_t ke = gojson_value_end(raw, n, i), ve;
		struct member m;

		m.koff = ms->keys.len;
		gojson_unquote(raw + i, ke - i, &ms->keys);
		m.klen = ms->keys.len - m.koff;
		i = gojson_skip_space(raw, n, ke);
		i = gojson_skip_space(raw, n, i + 1); /* past ':' */
		ve = gojson_value_end(raw, n, i);
		m.voff = i;
		m.vlen = ve - i;
		if (ms->n == ms->cap) {
			size_t cap = ms->cap ? ms->cap * 2 : 8;
			struct member *p = realloc(ms->m, cap * sizeof(*p));
			if (p == NULL)
				return CE_NOMEM;
			ms->m = p;
			ms->cap = cap;
		}
		ms->m[ms->n++] = m;
		i = gojson_skip_space(raw, n, ve);
		if (i < n && raw[i] == ',')
			i = gojson_skip_space(raw, n, i + 1);
	}
	return ms->keys.oom ? CE_NOMEM : 0;
}

/* members_find returns the last member whose key is name (JSON objects
 * decode into a Go map, so a repeated key keeps its last value), or NULL. */
static const struct member *members_find(const struct members *ms, const char *name)
{
	size_t len = strlen(name);

	for (size_t i = ms->n; i-- > 0;) {
		const struct member *m = &ms->m[i];
		if (m->klen == len && memcmp(ms->keys.data + m->koff, name, len) == 0)
			return m;
	}
	return NULL;
}

/* An encoded field, to be put in number order once all are done. */
struct seg {
	uint32_t number;
	int oneof;
	size_t off, len;
};

static void emit_segs(struct seg *s, size_t ns, const struct buf *scratch, struct buf *out)
{
	/* Insertion sort by number: the tables are nearly sorted already. */
	for (size_t i = 1; i < ns; i++) {
		struct seg t = s[i];
		size_t j = i;

		while (j > 0 && s[j - 1].number > t.number) {
			s[j] = s[j - 1];
			j--;
		}
		s[j] = t;
	}
	for (size_t i = 0; i < ns; i++)
		buf_put(out, scratch->data + s[i].off, s[i].len);
}

/* fields_from_json encodes every field found in ms. jsonpb visits plain
 * fields in declaration order and then oneof members, so the first error
 * reported is the same. For two members of one oneof etcd picks one at
 * random (Go map order); cetcd keeps the later one in declaration order. */
static int fields_from_json(const struct pb_msgdef *md, const char *raw, const struct members *ms,
			    struct seg *segs, size_t *nsegs, struct buf *scratch, struct in_ctx *c)
{
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < md->nfields; i++) {
			const struct pb_field *f = &md->fields[i];
			const struct member *m;
			size_t off = scratch->len;
			int rc;

			if ((f->oneof != 0) != (pass == 1))
				continue;
			/* Both names are accepted; the lowerCamel one wins. */
			m = members_find(ms, f->json_name);
			if (m == NULL)
				m = members_find(ms, f->name);
			if (m == NULL)
				continue;
			rc = field_from_json(f, raw + m->voff, m->vlen, scratch, c);
			if (rc != 0)
				return rc;
			if (scratch->len == off && f->oneof == 0)
				continue;
			if (f->oneof != 0 && scratch->len == off)
				continue; /* null oneof message: not set */
			for (size_t k = 0; f->oneof != 0 && k < *nsegs; k++)
				if (segs[k].oneof == f->oneof)
					segs[k] = segs[--*nsegs];
			segs[*nsegs].number = f->number;
			segs[*nsegs].oneof = f->oneof;
			segs[*nsegs].off = off;
			segs[*nsegs].len = scratch->len - off;
			(*nsegs)++;
		}
	}
	return 0;
}

static int msg_from_json(const struct pb_msgdef *md, const char *raw, size_t n, struct buf *out,
			 struct in_ctx *c)
{
	struct members ms;
	struct buf scratch;
	struct seg *segs = NULL;
	size_t nsegs = 0;
	int rc;

	if (++c->depth > PB_MAX_DEPTH) {
		c->depth--;
		return errf(c->err, c->errlen, CE_INVAL, "exceeded max depth");
	}
	memset(&ms, 0, sizeof(ms));
	buf_init(&ms.keys);
	buf_init(&scratch);
	rc = members_parse(raw, n, &ms);
	if (rc != 0)
		goto out;
	if (md->nfields > 0) {
		segs = calloc(md->nfields, sizeof(*segs));
		if (segs == NULL) {
			rc = CE_NOMEM;
			goto out;
		}
	}
	rc = fields_from_json(md, raw, &ms, segs, &nsegs, &scratch, c);
	if (rc != 0)
		goto out;
	if (scratch.oom) {
		rc = CE_NOMEM;
		goto out;
	}
	emit_segs(segs, nsegs, &scratch, out);
out:
	if (rc == CE_NOMEM)
		errf(c->err, c->errlen, CE_NOMEM, "out of memory");
	free(segs);
	free(ms.m);
	buf_close(&ms.keys);
	buf_close(&scratch);
	c->depth--;
	return rc;
}

int pb_from_json(const struct pb_msgdef *md, const void *json, size_t len, struct buf *out,
		 char *err, size_t errlen)
{
	struct in_ctx c = { err, errlen, 0 };
	const char *p = json;
	size_t s, e;
	int rc;

	/* The gateway reads the body with a json.Decoder: one value, the
	 * rest ignored; an empty body is an empty request. */
	rc = gojson_scan(p, len, GOJSON_STREAM, &s, &e, err, errlen);
	if (rc == GOJSON_EOF)
		return 0;
	if (rc != 0)
		return rc;
	if (p[s] == 'n')
		return 0;
	if (p[s] != '{')
		return type_error(&c, gojson_kind(p[s]), "map[string]json.RawMessage");
	rc = msg_from_json(md, p + s, e - s, out, &c);
	if (rc == 0 && out->oom)
		rc = errf(err, errlen, CE_NOMEM, "out of memory");
	return rc;
}
