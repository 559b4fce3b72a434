/* proto.c - encode and decode cross-process payloads. Every decoder is
 * bounds-checked: a corrupt payload is an error, never a crash. */
#include "config.h"
#include "ipc/proto.h"
#include "util/err.h"

void proto_envelope_encode(struct buf *b, const struct proto_envelope *e)
{
	buf_put_u8(b, PROTO_VERSION);
	buf_put_u8(b, e->kind);
	buf_put_u64(b, e->member);
	buf_put_u32(b, e->origin);
	buf_put_u32(b, e->gen);
	buf_put_u64(b, e->req_id);
	buf_put(b, e->body, e->len);
}

int proto_envelope_decode(struct proto_envelope *e, const void *p, size_t n)
{
	struct rd r;

	uint8_t version;

	rd_init(&r, p, n);
	version = rd_u8(&r);
	if (r.err)
		return CE_CORRUPT;
	if (version != 1 && version != PROTO_VERSION)
		return CE_VERSION;
	e->kind = rd_u8(&r);
	e->member = version >= 2 ? rd_u64(&r) : 0;
	e->origin = rd_u32(&r);
	e->gen = rd_u32(&r);
	e->req_id = rd_u64(&r);
	if (r.err)
		return CE_CORRUPT;
	e->len = rd_left(&r);
	e->body = rd_bytes(&r, e->len);
	return 0;
}

void proto_result_encode_fixed(uint8_t out[PROTO_RESULT_FIXED], const struct proto_result *r)
{
	le_put32(out, r->http_status);
	le_put32(out + 4, r->error_code);
	le_put64(out + 8, r->etcd_index);
	le_put64(out + 16, r->raft_index);
	le_put64(out + 24, r->raft_term);
}

int proto_result_decode(struct proto_result *r, const void *p, size_t n)
{
	const uint8_t *b = p;

	if (n < PROTO_RESULT_FIXED)
		return CE_CORRUPT;
	r->http_status = le_get32(b);
	r->error_code = le_get32(b + 4);
	r->etcd_index = le_get64(b + 8);
	r->raft_index = le_get64(b + 16);
	r->raft_term = le_get64(b + 24);
	r->body = b + PROTO_RESULT_FIXED;
	r->len = n - PROTO_RESULT_FIXED;
	return 0;
}

void proto_event_encode(struct buf *b, const struct proto_event *ev)
{
	buf_put_u64(b, ev->index);
	buf_put_u8(b, ev->flags);
	buf_put_str(b, ev->key, ev->key_len);
	buf_put(b, ev->body, ev->len);
}

int proto_event_decode(struct proto_event *ev, const void *p, size_t n)
{
	struct rd r;

	rd_init(&r, p, n);
	ev->index = rd_u64(&r);
	ev->flags = rd_u8(&r);
	ev->key = rd_str(&r, &ev->key_len);
	if (r.err)
		return CE_CORRUPT;
	ev->len = rd_left(&r);
	ev->body = rd_bytes(&r, ev->len);
	return 0;
}

void proto_apply_encode_fixed(uint8_t out[PROTO_APPLY_FIXED], const struct proto_apply *a)
{
	le_put64(out, a->index);
	le_put64(out + 8, a->term);
	out[16] = a->type;
}

int proto_apply_decode(struct proto_apply *a, const void *p, size_t n)
{
	const uint8_t *b = p;

	if (n < PROTO_APPLY_FIXED)
		return CE_CORRUPT;
	a->index = le_get64(b);
	a->term = le_get64(b + 8);
	a->type = b[16];
	a->data = b + PROTO_APPLY_FIXED;
	a->len = n - PROTO_APPLY_FIXED;
	return 0;
}

void proto_hello_encode(uint8_t out[PROTO_HELLO_SIZE], const struct proto_hello *h)
{
	le_put32(out, h->role);
	le_put32(out + 4, h->slot);
	le_put32(out + 8, h->gen);
	le_put64(out + 12, h->applied);
	le_put64(out + 20, h->durable);
	le_put64(out + 28, h->db_gen);
}

int proto_hello_decode(struct proto_hello *h, const void *p, size_t n)
{
	const uint8_t *b = p;

	if (n < PROTO_HELLO_SIZE)
		return CE_CORRUPT;
	h->role = le_get32(b);
	h->slot = le_get32(b + 4);
	h->gen = le_get32(b + 8);
	h->applied = le_get64(b + 12);
	h->durable = le_get64(b + 20);
	h->db_gen = le_get64(b + 28);
	return 0;
}
