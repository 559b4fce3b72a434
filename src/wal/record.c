/* record.c - framing of WAL records: encode, decode and verify, and the
 * scans recovery uses to classify a damaged spot. */
#include "config.h"
#include "wal/record.h"

#include <string.h>

#include "util/err.h"
#include "wal/crc32c.h"

int wal_rec_put(struct buf *b, uint8_t type, const void *fixed, size_t flen,
		const void *data, size_t dlen)
{
	static const uint8_t zeros[WAL_REC_ALIGN];
	uint8_t hdr[WAL_REC_HDR_LEN] = { 0 };
	uint64_t total;
	uint32_t crc;

	if (flen > WAL_REC_MAX_PAYLOAD || dlen > WAL_REC_MAX_PAYLOAD - flen)
		return CE_TOOBIG;
	total = wal_rec_size(flen + dlen);
	/* Reserve first so a failure never leaves half a record behind. */
	if (buf_reserve(b, (size_t)total) != 0)
		return CE_NOMEM;
	le_put32(hdr + 4, (uint32_t)(flen + dlen));
	hdr[8] = type;
	crc = crc32c(0, hdr + 8, 4);
	crc = crc32c(crc, fixed, flen);
	crc = crc32c(crc, data, dlen);
	le_put32(hdr, crc);
	buf_put(b, hdr, sizeof(hdr));
	buf_put(b, fixed, flen);
	buf_put(b, data, dlen);
	buf_put(b, zeros, (size_t)(total - WAL_REC_HDR_LEN - flen - dlen));
	return 0;
}

static int all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

int wal_rec_decode(const uint8_t *p, size_t n, size_t off, struct wal_rec *r, const char **why)
{
	const uint8_t *h = p + off;
	uint32_t len;

	*why = NULL;
	if (off >= n)
		return WAL_REC_END;
	if (n - off < WAL_REC_HDR_LEN) {
		if (all_zero(h, n - off))
			return WAL_REC_END;
		*why = "incomplete record header";
		return WAL_REC_BAD;
	}
	if (all_zero(h, WAL_REC_HDR_LEN))
		return WAL_REC_END;
	len = le_get32(h + 4);
	if (len == 0) {
		*why = "zero-length record";
		return WAL_REC_BAD;
	}
	if (h[9] != 0 || h[10] != 0 || h[11] != 0) {
		*why = "bad record header";
		return WAL_REC_BAD;
	}
	if (len > WAL_REC_MAX_PAYLOAD || len > n - off - WAL_REC_HDR_LEN) {
		*why = "record runs past end of file";
		return WAL_REC_BAD;
	}
	if (crc32c(crc32c(0, h + 8, 4), h + WAL_REC_HDR_LEN, len) != le_get32(h)) {
		*why = "bad crc";
		return WAL_REC_BAD;
	}
	r->type = h[8];
	r->payload = h + WAL_REC_HDR_LEN;
	r->len = len;
	r->total = wal_rec_size(len);
	return WAL_REC_OK;
}

size_t wal_rec_find_valid(const uint8_t *p, size_t n, size_t from, size_t until)
{
	size_t y = (from + WAL_REC_ALIGN - 1) & ~(size_t)(WAL_REC_ALIGN - 1);
	struct wal_rec r;
	const char *why;

	if (until > n)
		until = n;
	for (; y < until && n - y >= WAL_REC_HDR_LEN; y += WAL_REC_ALIGN) {
		const uint8_t *h = p + y;
		/* Cheap filters first: most candidates are zeros or have a type
		 * byte and reserved bytes no real header has. */
		if (h[8] == 0 || h[8] > WAL_REC_TYPE_MAX || h[9] || h[10] || h[11])
			continue;
		if (wal_rec_decode(p, n, y, &r, &why) == WAL_REC_OK)
			return y;
	}
	return SIZE_MAX;
}

size_t wal_nonzero_end(const uint8_t *p, size_t n, size_t from)
{
	size_t end = n;

	while (end > from && p[end - 1] == 0)
		end--;
	return end;
}
