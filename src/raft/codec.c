/* codec.c - the wire form of a raft message for the peer protocol. Little
 * endian, fixed field order; decode checks every length against the input so
 * garbage yields CE_CORRUPT, never a crash or an over-read. */
#include "config.h"
#include "raft/raft.h"
#include "util/buf.h"
#include "util/err.h"

#include <stdlib.h>
#include <string.h>

#define CODEC_VERSION 1
/* index, term, type, data length: the least an entry takes on the wire. */
#define ENTRY_MIN_BYTES (8 + 8 + 1 + 4)

int raft_msg_encode(const struct raft_msg *m, struct buf *b)
{
	if (m->nentries > UINT32_MAX)
		return CE_TOOBIG;
	buf_put_u8(b, CODEC_VERSION);
	buf_put_u8(b, m->type);
	buf_put_u64(b, m->from);
	buf_put_u64(b, m->to);
	buf_put_u64(b, m->term);
	buf_put_u64(b, m->log_term);
	buf_put_u64(b, m->index);
	buf_put_u64(b, m->commit);
	buf_put_u8(b, m->reject ? 1 : 0);
	buf_put_u64(b, m->reject_hint);
	buf_put_u64(b, m->ctx);
	buf_put_u32(b, (uint32_t)m->nentries);
	for (size_t i = 0; i < m->nentries; i++) {
		const struct raft_entry *e = &m->entries[i];
		if (e->len > UINT32_MAX)
			return CE_TOOBIG;
		buf_put_u64(b, e->index);
		buf_put_u64(b, e->term);
		buf_put_u8(b, e->type);
		buf_put_str(b, e->data, e->len);
	}
	return b->oom ? CE_NOMEM : 0;
}

static void decode_header(struct raft_msg *m, struct rd *r)
{
	m->type = rd_u8(r);
	m->from = rd_u64(r);
	m->to = rd_u64(r);
	m->term = rd_u64(r);
	m->log_term = rd_u64(r);
	m->index = rd_u64(r);
	m->commit = rd_u64(r);
	m->reject = rd_u8(r);
	m->reject_hint = rd_u64(r);
	m->ctx = rd_u64(r);
}

/* entries_size walks the entries once to validate them and size the one
 * allocation that will hold the array and all data. */
static int entries_size(struct rd r, uint32_t n, size_t *total)
{
	size_t sum = (size_t)n * sizeof(struct raft_entry);
	for (uint32_t i = 0; i < n; i++) {
		size_t len;
		rd_u64(&r);
		rd_u64(&r);
		if (rd_u8(&r) > RAFT_ENTRY_CONF_CHANGE)
			return CE_CORRUPT;
		rd_str(&r, &len);
		if (r.err)
			return CE_CORRUPT;
		sum += len;
	}
	if (rd_left(&r) != 0)
		return CE_CORRUPT;
	*total = sum;
	return 0;
}

int raft_msg_decode(struct raft_msg *m, const void *p, size_t len)
{
	struct rd r;
	uint32_t n;
	size_t total;
	unsigned char *mem, *data;
	int rc;

	memset(m, 0, sizeof(*m));
	rd_init(&r, p, len);
	if (rd_u8(&r) != CODEC_VERSION)
		return CE_CORRUPT;
	decode_header(m, &r);
	n = rd_u32(&r);
	if (r.err || m->type < 1 || m->type > RAFT_MSG_TYPE_MAX || m->reject > 1)
		return CE_CORRUPT;
	if (n > rd_left(&r) / ENTRY_MIN_BYTES)
		return CE_CORRUPT;
	if ((rc = entries_size(r, n, &total)) != 0)
		return rc;
	if (n == 0)
		return 0;
	mem = malloc(total);
	if (mem == NULL)
		return CE_NOMEM;
	m->entries = (struct raft_entry *)mem;
	m->nentries = n;
	data = mem + (size_t)n * sizeof(struct raft_entry);
	for (uint32_t i = 0; i < n; i++) {
		struct raft_entry *e = &m->entries[i];
		const void *src;
		e->index = rd_u64(&r);
		e->term = rd_u64(&r);
		e->type = rd_u8(&r);
		src = rd_str(&r, &e->len);
		e->data = e->len ? data : NULL;
		if (e->len)
			memcpy(data, src, e->len);
		data += e->len;
	}
	return 0;
}

void raft_msg_decoded_free(struct raft_msg *m)
{
	free(m->entries);
	m->entries = NULL;
	m->nentries = 0;
}
