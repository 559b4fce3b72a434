/* pb.c - protobuf wire primitives: varints, a bounds-checked field reader,
 * getters by field number, a schema validator and a writer on struct buf. */
#include "config.h"
#include "pb/pb.h"

#include "util/err.h"

#include <string.h>

/* ---- schema lookups --------------------------------------------------- */

const struct pb_field *pb_field_by_number(const struct pb_msgdef *md, uint32_t number)
{
	for (size_t i = 0; i < md->nfields; i++)
		if (md->fields[i].number == number)
			return &md->fields[i];
	return NULL;
}

const struct pb_field *pb_field_by_name(const struct pb_msgdef *md, const char *name)
{
	for (size_t i = 0; i < md->nfields; i++) {
		const struct pb_field *f = &md->fields[i];
		if (strcmp(f->name, name) == 0 || strcmp(f->json_name, name) == 0)
			return f;
	}
	return NULL;
}

const char *pb_enum_name(const struct pb_enumdef *en, int32_t number)
{
	for (size_t i = 0; i < en->nvalues; i++)
		if (en->values[i].number == number)
			return en->values[i].name;
	return NULL;
}

int pb_enum_value(const struct pb_enumdef *en, const char *name, size_t len, int32_t *number)
{
	for (size_t i = 0; i < en->nvalues; i++) {
		const char *n = en->values[i].name;
		if (strlen(n) == len && memcmp(n, name, len) == 0) {
			*number = en->values[i].number;
			return 0;
		}
	}
	return CE_NOTFOUND;
}

/* ---- varints ---------------------------------------------------------- */

size_t pb_varint_get(const uint8_t *p, size_t len, uint64_t *v)
{
	uint64_t x = 0;

	/* Like Go's decoders: at most 10 bytes; bits past 64 are dropped. */
	for (size_t i = 0; i < 10 && i < len; i++) {
		x |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		if ((p[i] & 0x80) == 0) {
			*v = x;
			return i + 1;
		}
	}
	*v = 0;
	return 0;
}

size_t pb_varint_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

/* ---- reader ----------------------------------------------------------- */

void pb_reader_init(struct pb_reader *r, const void *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->off = 0;
	r->err = 0;
}

static int rd_varint(struct pb_reader *r, uint64_t *v)
{
	size_t n = pb_varint_get(r->p + r->off, r->len - r->off, v);

	if (n == 0)
		return r->err = CE_CORRUPT;
	r->off += n;
	return 0;
}

static int rd_tag(struct pb_reader *r, uint32_t *number, enum pb_wire *wire)
{
	uint64_t t;

	if (rd_varint(r, &t) != 0)
		return CE_CORRUPT;
	if ((t >> 3) == 0 || (t >> 3) > PB_MAX_FIELD || (t & 7) > 5)
		return r->err = CE_CORRUPT;
	*number = (uint32_t)(t >> 3);
	*wire = (enum pb_wire)(t & 7);
	return 0;
}

/* rd_value reads the payload of a non-group field. */
static int rd_value(struct pb_reader *r, enum pb_wire wire, struct pb_item *it)
{
	uint64_t n;

	it->u = 0;
	it->data = NULL;
	it->len = 0;
	switch (wire) {
	case PB_WIRE_VARINT:
		return rd_varint(r, &it->u);
	case PB_WIRE_I64:
		if (r->len - r->off < 8)
			return r->err = CE_CORRUPT;
		it->u = le_get64(r->p + r->off);
		r->off += 8;
		return 0;
	case PB_WIRE_I32:
		if (r->len - r->off < 4)
			return r->err = CE_CORRUPT;
		it->u = le_get32(r->p + r->off);
		r->off += 4;
		return 0;
	case PB_WIRE_LEN:
		if (rd_varint(r, &n) != 0)
			return CE_CORRUPT;
		if (n > r->len - r->off)
			return r->err = CE_CORRUPT;
		it->data = r->p + r->off;
		it->len = (size_t)n;
		r->off += (size_t)n;
		return 0;
	default:
		return r->err = CE_CORRUPT;
	}
}

/* skip_group skips to the end-group tag matching number (nesting allowed,
 * bounded so hostile input cannot recurse without limit). */
static int skip_group(struct pb_reader *r, uint32_t number)
{
	uint32_t stack[64];
	size_t depth = 0;
	struct pb_item it;

	stack[depth++] = number;
	while (depth > 0) {
		uint32_t n;
		enum pb_wire w;

		if (r->off >= r->len || rd_tag(r, &n, &w) != 0)
			return r->err = CE_CORRUPT;
		if (w == PB_WIRE_SGROUP) {
			if (depth == sizeof(stack) / sizeof(stack[0]))
				return r->err = CE_CORRUPT;
			stack[depth++] = n;
		} else if (w == PB_WIRE_EGROUP) {
			if (stack[--depth] != n)
				return r->err = CE_CORRUPT;
		} else if (rd_value(r, w, &it) != 0) {
			return CE_CORRUPT;
		}
	}
	return 0;
}

int pb_next(struct pb_reader *r, struct pb_item *it)
{
	for (;;) {
		uint32_t n;
		enum pb_wire w;

		if (r->err)
			return r->err;
		if (r->off >= r->len)
			return 0;
		if (rd_tag(r, &n, &w) != 0)
			return CE_CORRUPT;
		if (w == PB_WIRE_EGROUP)
			return r->err = CE_CORRUPT;
		if (w == PB_WIRE_SGROUP) {
			if (skip_group(r, n) != 0)
				return CE_CORRUPT;
			continue;
		}
		it->number = n;
		it->wire = w;
		if (rd_value(r, w, it) != 0)
			return CE_CORRUPT;
		return 1;
	}
}

int pb_next_of(struct pb_reader *r, uint32_t number, struct pb_item *it)
{
	int rc;

	while ((rc = pb_next(r, it)) == 1)
		if (it->number == number)
			return 1;
	return rc;
}

int pb_packed_next(struct pb_reader *r, uint64_t *v)
{
	if (r->err)
		return r->err;
	if (r->off >= r->len)
		return 0;
	if (rd_varint(r, v) != 0)
		return CE_CORRUPT;
	return 1;
}

/* get_last finds the last occurrence of number with the wanted wire type. */
static int get_last(const void *msg, size_t len, uint32_t number, enum pb_wire wire,
		    struct pb_item *out)
{
	struct pb_reader r;
	struct pb_item it;
	int rc, found = 0;

	memset(out, 0, sizeof(*out));
	pb_reader_init(&r, msg, len);
	while ((rc = pb_next_of(&r, number, &it)) == 1) {
		if (it.wire != wire)
			return CE_CORRUPT;
		*out = it;
		found = 1;
	}
	if (rc < 0) {
		memset(out, 0, sizeof(*out));
		return rc;
	}
	return found;
}

int pb_get_u64(const void *msg, size_t len, uint32_t number, uint64_t *v)
{
	struct pb_item it;
	int rc = get_last(msg, len, number, PB_WIRE_VARINT, &it);

	*v = it.u;
	return rc;
}

int pb_get_i64(const void *msg, size_t len, uint32_t number, int64_t *v)
{
	uint64_t u;
	int rc = pb_get_u64(msg, len, number, &u);

	*v = (int64_t)u;
	return rc;
}

int pb_get_i32(const void *msg, size_t len, uint32_t number, int32_t *v)
{
	uint64_t u;
	int rc = pb_get_u64(msg, len, number, &u);

	*v = (int32_t)(uint32_t)u; /* truncation, as Go's decoders do */
	return rc;
}

int pb_get_bool(const void *msg, size_t len, uint32_t number, int *v)
{
	uint64_t u;
	int rc = pb_get_u64(msg, len, number, &u);

	*v = u != 0;
	return rc;
}

int pb_get_bytes(const void *msg, size_t len, uint32_t number, const uint8_t **p, size_t *n)
{
	struct pb_item it;
	int rc = get_last(msg, len, number, PB_WIRE_LEN, &it);

	*p = it.data;
	*n = it.len;
	return rc;
}

int pb_count(const void *msg, size_t len, uint32_t number)
{
	struct pb_reader r;
	struct pb_item it;
	int rc, n = 0;

	pb_reader_init(&r, msg, len);
	while ((rc = pb_next_of(&r, number, &it)) == 1)
		n++;
	return rc < 0 ? rc : n;
}

/* ---- validation ------------------------------------------------------- */

int pb_field_wire_ok(const struct pb_field *f, enum pb_wire w)
{
	switch (f->type) {
	case PB_STRING:
	case PB_BYTES:
	case PB_MSG:
		return w == PB_WIRE_LEN;
	default:
		return w == PB_WIRE_VARINT || (f->repeated && w == PB_WIRE_LEN);
	}
}

static int validate(const struct pb_msgdef *md, const void *msg, size_t len, int depth,
		    char *err, size_t errlen)
{
	struct pb_reader r;
	struct pb_item it;
	int rc;

	if (depth > PB_MAX_DEPTH)
		return errf(err, errlen, CE_CORRUPT, "%s: nested too deeply", md->name);
	pb_reader_init(&r, msg, len);
	while ((rc = pb_next(&r, &it)) == 1) {
		const struct pb_field *f = pb_field_by_number(md, it.number);

		if (f == NULL)
			continue; /* unknown field: skipped */
		if (!pb_field_wire_ok(f, it.wire))
			return errf(err, errlen, CE_CORRUPT, "%s.%s: wrong wire type %d", md->name,
				    f->name, (int)it.wire);
		if (f->type == PB_MSG) {
			rc = validate(f->msg, it.data, it.len, depth + 1, err, errlen);
			if (rc != 0)
				return errwrap(err, errlen, rc, "%s.%s", md->name, f->name);
		} else if (it.wire == PB_WIRE_LEN && f->type != PB_STRING && f->type != PB_BYTES) {
			struct pb_reader pr;
			uint64_t v;

			pb_reader_init(&pr, it.data, it.len);
			while ((rc = pb_packed_next(&pr, &v)) == 1)
				;
			if (rc < 0)
				return errf(err, errlen, CE_CORRUPT, "%s.%s: bad packed varints",
					    md->name, f->name);
		}
	}
	if (rc < 0)
		return errf(err, errlen, CE_CORRUPT, "%s: malformed at offset %zu", md->name, r.off);
	return 0;
}

int pb_validate(const struct pb_msgdef *md, const void *msg, size_t len, char *err, size_t errlen)
{
	return validate(md, msg, len, 0, err, errlen);
}

/* ---- writer ----------------------------------------------------------- */

void pb_put_varint(struct buf *b, uint64_t v)
{
	uint8_t tmp[10];
	size_t n = 0;

	while (v >= 0x80) {
		tmp[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	tmp[n++] = (uint8_t)v;
	buf_put(b, tmp, n);
}

void pb_put_tag(struct buf *b, uint32_t number, enum pb_wire wire)
{
	pb_put_varint(b, (uint64_t)number << 3 | (uint64_t)wire);
}

void pb_put_varint_always(struct buf *b, uint32_t number, uint64_t v)
{
	pb_put_tag(b, number, PB_WIRE_VARINT);
	pb_put_varint(b, v);
}

void pb_put_u64(struct buf *b, uint32_t number, uint64_t v)
{
	if (v != 0)
		pb_put_varint_always(b, number, v);
}

void pb_put_i64(struct buf *b, uint32_t number, int64_t v)
{
	pb_put_u64(b, number, (uint64_t)v);
}

void pb_put_i32(struct buf *b, uint32_t number, int32_t v)
{
	/* Negative int32 is sign-extended to ten bytes, as protobuf requires. */
	pb_put_u64(b, number, (uint64_t)(int64_t)v);
}

void pb_put_bool(struct buf *b, uint32_t number, int v)
{
	pb_put_u64(b, number, v ? 1 : 0);
}

void pb_put_bytes_always(struct buf *b, uint32_t number, const void *p, size_t n)
{
	pb_put_tag(b, number, PB_WIRE_LEN);
	pb_put_varint(b, n);
	buf_put(b, p, n);
}

void pb_put_bytes(struct buf *b, uint32_t number, const void *p, size_t n)
{
	if (n > 0)
		pb_put_bytes_always(b, number, p, n);
}

void pb_put_str(struct buf *b, uint32_t number, const char *s)
{
	if (s != NULL)
		pb_put_bytes(b, number, s, strlen(s));
}

void pb_put_msg(struct buf *b, uint32_t number, const void *p, size_t n)
{
	pb_put_bytes_always(b, number, p, n);
}

void pb_put_fixed64(struct buf *b, uint32_t number, uint64_t v)
{
	pb_put_tag(b, number, PB_WIRE_I64);
	buf_put_u64(b, v);
}

void pb_put_fixed32(struct buf *b, uint32_t number, uint32_t v)
{
	pb_put_tag(b, number, PB_WIRE_I32);
	buf_put_u32(b, v);
}

size_t pb_msg_begin(struct buf *b, uint32_t number)
{
	pb_put_tag(b, number, PB_WIRE_LEN);
	return b->len;
}

void pb_msg_end(struct buf *b, size_t mark)
{
	size_t body, k;
	uint8_t tmp[10];

	if (b->oom || mark > b->len)
		return;
	body = b->len - mark;
	k = pb_varint_len(body);
	if (buf_reserve(b, k) != 0)
		return;
	memmove(b->data + mark + k, b->data + mark, body);
	for (size_t i = 0; i < k; i++) {
		tmp[i] = (uint8_t)(body | (i + 1 < k ? 0x80 : 0));
		body >>= 7;
	}
	memcpy(b->data + mark, tmp, k);
	b->len += k;
}
