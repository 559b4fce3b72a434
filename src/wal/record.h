/* record.h - internal to src/wal: the on-disk framing of WAL records and the
 * payload layout of each record type. See src/wal/README for the format.
 *
 * Every record is a 12-byte header {u32 crc32c, u32 payload length, u8 type,
 * 3 reserved zero bytes} followed by the payload and zero padding up to a
 * multiple of 8 bytes. The CRC covers type, reserved bytes and payload.
 * A header of 12 zero bytes means "end of log" (preallocated space).
 * All integers are little-endian.
 */
#ifndef CETCD_WAL_RECORD_H
#define CETCD_WAL_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

#define WAL_REC_HDR_LEN 12
#define WAL_REC_ALIGN 8
/* Largest payload we write or accept; keeps the aligned size in a u32. */
#define WAL_REC_MAX_PAYLOAD (UINT32_MAX - 64u)

#define WAL_MAGIC "CETCDWAL"
#define WAL_FORMAT_VERSION 1u

enum wal_rec_type {
	WAL_REC_SEGHDR = 1,    /* first record of every segment */
	WAL_REC_METADATA = 2,  /* second record of every segment */
	WAL_REC_ENTRY = 3,
	WAL_REC_HARDSTATE = 4,
	WAL_REC_SNAPSHOT = 5,
	WAL_REC_TYPE_MAX = 5
};

/* Layout documentation for the compiler to check; the code encodes fields
 * explicitly as little-endian and never casts file bytes to these. */
struct wal_rec_hdr_disk {
	uint32_t crc;
	uint32_t len;
	uint8_t type;
	uint8_t reserved[3];
};
_Static_assert(sizeof(struct wal_rec_hdr_disk) == WAL_REC_HDR_LEN, "record header is 12 bytes");

struct wal_seghdr_disk {
	char magic[8];        /* "CETCDWAL" */
	uint32_t version;     /* WAL_FORMAT_VERSION */
	uint32_t flags;       /* 0 */
	uint64_t seq;         /* must match the file name */
	uint64_t first_index; /* must match the file name */
};
_Static_assert(sizeof(struct wal_seghdr_disk) == 32, "segment header payload is 32 bytes");

#define WAL_ENTRY_FIXED 17     /* u64 index, u64 term, u8 entry type; data follows */
#define WAL_HARDSTATE_LEN 24   /* u64 term, u64 vote, u64 commit */
#define WAL_SNAPSHOT_LEN 16    /* u64 index, u64 term */
#define WAL_METADATA_FIXED 16  /* u64 member id, u64 cluster id; extra bytes follow */
#define WAL_SEGHDR_LEN 32

/* wal_rec_size is the aligned on-disk size of a record with this payload. */
static inline uint64_t wal_rec_size(uint64_t payload_len)
{
	return (WAL_REC_HDR_LEN + payload_len + WAL_REC_ALIGN - 1) & ~(uint64_t)(WAL_REC_ALIGN - 1);
}

/* wal_rec_put appends one framed record to b; its payload is fixed[0..flen)
 * followed by data[0..dlen). Returns 0, CE_TOOBIG or CE_NOMEM; on error b is
 * unchanged. */
int wal_rec_put(struct buf *b, uint8_t type, const void *fixed, size_t flen,
		const void *data, size_t dlen);

enum wal_rec_status { WAL_REC_OK, WAL_REC_END, WAL_REC_BAD };

struct wal_rec {
	uint8_t type;
	const uint8_t *payload; /* points into the scanned bytes */
	size_t len;
	uint64_t total; /* aligned size; the next record starts at off + total */
};

/* wal_rec_decode looks at the record at p[off] within p[0..n). Returns
 * WAL_REC_OK (r filled, CRC verified; the type may still be unknown),
 * WAL_REC_END (a zero header or only zeros left), or WAL_REC_BAD with *why
 * set to a short static reason ("bad crc", ...). */
int wal_rec_decode(const uint8_t *p, size_t n, size_t off, struct wal_rec *r, const char **why);

/* wal_rec_find_valid returns the first 8-aligned offset in [from, until)
 * holding a record with a known type and a good CRC (the record itself may
 * extend to n), or SIZE_MAX. Used to tell a torn tail (nothing valid
 * follows) from corruption in the middle of the log. */
size_t wal_rec_find_valid(const uint8_t *p, size_t n, size_t from, size_t until);

/* wal_nonzero_end returns the offset just past the last non-zero byte in
 * p[from..n), or from if that range is all zeros. */
size_t wal_nonzero_end(const uint8_t *p, size_t n, size_t from);

#endif
