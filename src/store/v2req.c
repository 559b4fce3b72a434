/* v2req.c - the versioned binary encoding of struct v2_req.
 *
 * Layout (little-endian): u8 version, u8 op, u8 flags, u8 prev_exist
 * (0xff unset, 0, 1), u64 prev_index, i64 expiration_ns, i64 time_ns,
 * then path, value and prev_value, each u32 length + bytes. Nothing after.
 */
#include "config.h"
#include "store/v2req.h"

#include "util/err.h"

#include <string.h>

enum {
	V2_F_INTERNAL = 1 << 0,
	V2_F_DIR = 1 << 1,
	V2_F_RECURSIVE = 1 << 2,
	V2_F_REFRESH = 1 << 3,
	V2_F_NOVALUE = 1 << 4,
	V2_F_PREVVALUE = 1 << 5,
	V2_F_ALL = (1 << 6) - 1,
};

void v2_req_encode(const struct v2_req *r, struct buf *out)
{
	uint8_t flags = 0;

	flags |= r->internal ? V2_F_INTERNAL : 0;
	flags |= r->dir ? V2_F_DIR : 0;
	flags |= r->recursive ? V2_F_RECURSIVE : 0;
	flags |= r->refresh ? V2_F_REFRESH : 0;
	flags |= r->no_value_on_success ? V2_F_NOVALUE : 0;
	flags |= r->has_prev_value ? V2_F_PREVVALUE : 0;
	buf_put_u8(out, V2_REQ_VERSION);
	buf_put_u8(out, r->op);
	buf_put_u8(out, flags);
	buf_put_u8(out, r->prev_exist < 0 ? 0xff : (uint8_t)(r->prev_exist != 0));
	buf_put_u64(out, r->prev_index);
	buf_put_u64(out, (uint64_t)r->expiration_ns);
	buf_put_u64(out, (uint64_t)r->time_ns);
	buf_put_str(out, r->path, r->path_len);
	buf_put_str(out, r->value, r->value_len);
	buf_put_str(out, r->prev_value, r->prev_value_len);
}

int v2_req_decode(struct v2_req *r, const void *p, size_t n)
{
	struct rd rd;
	uint8_t version, flags, pe;

	memset(r, 0, sizeof(*r));
	rd_init(&rd, p, n);
	version = rd_u8(&rd);
	if (rd.err)
		return CE_CORRUPT;
	if (version != V2_REQ_VERSION)
		return CE_VERSION;
	r->op = rd_u8(&rd);
	flags = rd_u8(&rd);
	pe = rd_u8(&rd);
	r->prev_index = rd_u64(&rd);
	r->expiration_ns = (int64_t)rd_u64(&rd);
	r->time_ns = (int64_t)rd_u64(&rd);
	r->path = rd_str(&rd, &r->path_len);
	r->value = rd_str(&rd, &r->value_len);
	r->prev_value = rd_str(&rd, &r->prev_value_len);
	if (rd.err || rd_left(&rd) != 0)
		goto corrupt;
	if (r->op < V2_OP_PUT || r->op > V2_OP_SYNC || (flags & ~V2_F_ALL) != 0)
		goto corrupt;
	if (pe != 0xff && pe > 1)
		goto corrupt;
	r->prev_exist = pe == 0xff ? -1 : (int8_t)pe;
	r->internal = (flags & V2_F_INTERNAL) != 0;
	r->dir = (flags & V2_F_DIR) != 0;
	r->recursive = (flags & V2_F_RECURSIVE) != 0;
	r->refresh = (flags & V2_F_REFRESH) != 0;
	r->no_value_on_success = (flags & V2_F_NOVALUE) != 0;
	r->has_prev_value = (flags & V2_F_PREVVALUE) != 0;
	return 0;
corrupt:
	memset(r, 0, sizeof(*r));
	return CE_CORRUPT;
}
