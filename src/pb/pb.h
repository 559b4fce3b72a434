/* pb.h - protobuf wire format (proto3) for etcd's v3 messages: a zero-copy
 * reader over encoded bytes, getters by field number, a writer on struct buf,
 * and the schema tables (struct pb_msgdef) that pb_json.c and the validator
 * walk.
 *
 * Nothing read from the wire is trusted: every decoder here bounds-checks and
 * returns CE_CORRUPT on malformed input. Unknown fields are skipped (proto3).
 * Proto3 scalars equal to their zero value are not written by the pb_put_*
 * helpers, matching what etcd's gogo-generated marshalers emit.
 */
#ifndef CETCD_PB_PB_H
#define CETCD_PB_PB_H

#include "util/buf.h"

#include <stddef.h>
#include <stdint.h>

/* Wire types (the low three bits of a tag). */
enum pb_wire {
	PB_WIRE_VARINT = 0,
	PB_WIRE_I64 = 1,
	PB_WIRE_LEN = 2,
	PB_WIRE_SGROUP = 3, /* deprecated groups: skipped, never written */
	PB_WIRE_EGROUP = 4,
	PB_WIRE_I32 = 5
};

#define PB_MAX_FIELD 536870911u /* 2^29 - 1 */
#define PB_MAX_DEPTH 1000	/* nested messages followed by the walkers */

/* ---- schema ----------------------------------------------------------- */

/* Field types used by etcd's protos (proto3; no signed zigzag, no fixed). */
enum pb_type {
	PB_INT64,
	PB_UINT64,
	PB_INT32,
	PB_UINT32,
	PB_BOOL,
	PB_ENUM,
	PB_STRING,
	PB_BYTES,
	PB_MSG
};

struct pb_enumval {
	const char *name;
	int32_t number;
};

struct pb_enumdef {
	/* Go type name, as etcd's gateway names it in errors, e.g.
	 * "etcdserverpb.RangeRequest_SortOrder". */
	const char *name;
	const struct pb_enumval *values;
	size_t nvalues;
};

struct pb_msgdef;

struct pb_field {
	uint32_t number;
	const char *name;      /* proto field name (JSON output uses it) */
	const char *json_name; /* lowerCamel name, also accepted on input */
	enum pb_type type;
	int repeated;
	const struct pb_msgdef *msg; /* PB_MSG only */
	const struct pb_enumdef *en; /* PB_ENUM only */
	/* 0, or the 1-based oneof group this field belongs to. A oneof member
	 * is present even when it holds a zero value. */
	int oneof;
};

struct pb_msgdef {
	const char *name; /* full proto name, e.g. "etcdserverpb.RangeRequest" */
	const struct pb_field *fields; /* in declaration (= Go struct) order */
	size_t nfields;
};

/* pb_field_by_number returns the field or NULL. */
const struct pb_field *pb_field_by_number(const struct pb_msgdef *md, uint32_t number);
/* pb_field_by_name matches the proto name or the json name; NULL if none. */
const struct pb_field *pb_field_by_name(const struct pb_msgdef *md, const char *name);
/* pb_enum_name returns the value's name or NULL if unknown. */
const char *pb_enum_name(const struct pb_enumdef *en, int32_t number);
/* pb_enum_value sets *number; 0 found, CE_NOTFOUND otherwise. */
int pb_enum_value(const struct pb_enumdef *en, const char *name, size_t len, int32_t *number);

/* ---- primitives ------------------------------------------------------- */

/* pb_varint_get decodes a varint at p[0..len). Returns the number of bytes
 * used (1..10) or 0 if truncated or longer than 10 bytes. */
size_t pb_varint_get(const uint8_t *p, size_t len, uint64_t *v);
/* pb_varint_len is the encoded size of v (1..10). */
size_t pb_varint_len(uint64_t v);
static inline uint64_t pb_zigzag_enc(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}
static inline int64_t pb_zigzag_dec(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

/* ---- reader ----------------------------------------------------------- */

/* One field occurrence. For VARINT/I64/I32 the value is in u; for LEN the
 * payload is data[0..len) (pointing into the reader's input). */
struct pb_item {
	uint32_t number;
	enum pb_wire wire;
	uint64_t u;
	const uint8_t *data;
	size_t len;
};

/* A reader over bytes it does not own (the caller keeps them alive). */
struct pb_reader {
	const uint8_t *p;
	size_t len;
	size_t off;
	int err; /* 0 or CE_CORRUPT, sticky */
};

void pb_reader_init(struct pb_reader *r, const void *p, size_t len);
/* pb_next reads the next field: 1 = *it filled, 0 = clean end of input,
 * CE_CORRUPT = malformed (bad varint, truncated payload, field number 0 or
 * too big, unmatched group). Groups are skipped and never returned. */
int pb_next(struct pb_reader *r, struct pb_item *it);

/* Getters scan a whole encoded message for one field number; the last
 * occurrence wins (proto3 rule for scalars; for a repeated-in-error singular
 * submessage we also take the last one rather than merging). Each returns 1
 * found, 0 absent (outputs zeroed), or CE_CORRUPT (bad encoding, or a wire
 * type that does not fit the request). */
int pb_get_u64(const void *msg, size_t len, uint32_t number, uint64_t *v);
int pb_get_i64(const void *msg, size_t len, uint32_t number, int64_t *v);
int pb_get_i32(const void *msg, size_t len, uint32_t number, int32_t *v);
int pb_get_bool(const void *msg, size_t len, uint32_t number, int *v);
/* bytes, string and submessage: *p points into msg. */
int pb_get_bytes(const void *msg, size_t len, uint32_t number, const uint8_t **p, size_t *n);
/* pb_count returns the number of occurrences of a field (a packed run
 * counts once: it cannot be told from bytes without the schema), or
 * CE_CORRUPT. */
int pb_count(const void *msg, size_t len, uint32_t number);

/* pb_next_of iterates the occurrences of one field number: returns 1 with
 * *it set, 0 at the end, CE_CORRUPT. Packed repeated scalars are not
 * unpacked here (use pb_packed_next on it->data). */
int pb_next_of(struct pb_reader *r, uint32_t number, struct pb_item *it);
/* pb_packed_next reads one varint from a packed payload reader: 1, 0, CE_CORRUPT. */
int pb_packed_next(struct pb_reader *r, uint64_t *v);

/* pb_field_wire_ok says whether wire type w may carry field f (repeated
 * numeric fields may come packed or not). */
int pb_field_wire_ok(const struct pb_field *f, enum pb_wire w);

/* pb_validate checks that msg is a well-formed encoding of md: every known
 * field has a wire type its type allows (packed or not for repeated
 * scalars), nested messages validate recursively (depth <= PB_MAX_DEPTH).
 * 0 or CE_CORRUPT with a message naming the field. */
int pb_validate(const struct pb_msgdef *md, const void *msg, size_t len, char *err, size_t errlen);

/* ---- writer ----------------------------------------------------------- */

/* All pb_put_* append to b; allocation failure sets b->oom (check once at
 * the end). The plain forms skip proto3 zero values; the _always forms
 * write them (repeated elements, oneof members). */
void pb_put_varint(struct buf *b, uint64_t v);
void pb_put_tag(struct buf *b, uint32_t number, enum pb_wire wire);
void pb_put_u64(struct buf *b, uint32_t number, uint64_t v);
void pb_put_i64(struct buf *b, uint32_t number, int64_t v);
void pb_put_i32(struct buf *b, uint32_t number, int32_t v); /* also enums */
void pb_put_bool(struct buf *b, uint32_t number, int v);
void pb_put_bytes(struct buf *b, uint32_t number, const void *p, size_t n); /* also strings */
void pb_put_str(struct buf *b, uint32_t number, const char *s); /* NUL-terminated */
void pb_put_varint_always(struct buf *b, uint32_t number, uint64_t v);
void pb_put_bytes_always(struct buf *b, uint32_t number, const void *p, size_t n);
void pb_put_fixed64(struct buf *b, uint32_t number, uint64_t v);
void pb_put_fixed32(struct buf *b, uint32_t number, uint32_t v);

/* Nested messages: mark = pb_msg_begin(b, number); ...put fields...;
 * pb_msg_end(b, mark). The length prefix is written minimal (the body is
 * moved once when it is known). An empty nested message is still written
 * (tag + zero length): a present-but-empty submessage differs from an
 * absent one in etcd (e.g. "response_put":{}). */
size_t pb_msg_begin(struct buf *b, uint32_t number);
void pb_msg_end(struct buf *b, size_t mark);
/* pb_put_msg writes an already encoded submessage. */
void pb_put_msg(struct buf *b, uint32_t number, const void *p, size_t n);

#endif
