/* buf.h - a growable byte buffer and a bounds-checked reader, for the
 * little-endian binary encodings that cross processes (IPC payloads) and land
 * on disk (WAL records, raft entries).
 */
#ifndef CETCD_UTIL_BUF_H
#define CETCD_UTIL_BUF_H

#include <stddef.h>
#include <stdint.h>

struct buf {
	uint8_t *data;
	size_t len;
	size_t cap;
	int oom; /* set once an allocation failed; later puts are no-ops */
};

void buf_init(struct buf *b);
void buf_close(struct buf *b); /* frees data, leaves b empty and reusable */
void buf_reset(struct buf *b); /* len = 0, keeps capacity */
int buf_reserve(struct buf *b, size_t extra); /* 0 or CE_NOMEM */
void buf_put(struct buf *b, const void *p, size_t n);
void buf_put_u8(struct buf *b, uint8_t v);
void buf_put_u16(struct buf *b, uint16_t v);
void buf_put_u32(struct buf *b, uint32_t v);
void buf_put_u64(struct buf *b, uint64_t v);
/* buf_put_str writes a u32 length then the bytes (p may be NULL if n==0). */
void buf_put_str(struct buf *b, const void *p, size_t n);
/* buf_puts appends a C string (without its NUL); buf_printf appends
 * printf output (without the NUL; out of memory sets oom). */
void buf_puts(struct buf *b, const char *str);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* buf_take hands the data to the caller (who frees it) and empties b. */
uint8_t *buf_take(struct buf *b, size_t *len);

/* A reader over bytes it does not own. Any read past the end sets err and
 * returns zeroes, so a decoder checks rd.err once at the end. */
struct rd {
	const uint8_t *p;
	size_t len;
	size_t off;
	int err;
};

void rd_init(struct rd *r, const void *p, size_t len);
uint8_t rd_u8(struct rd *r);
uint16_t rd_u16(struct rd *r);
uint32_t rd_u32(struct rd *r);
uint64_t rd_u64(struct rd *r);
/* rd_bytes returns a pointer into the input, or NULL (and err) if short. */
const void *rd_bytes(struct rd *r, size_t n);
/* rd_str reads what buf_put_str wrote; *n gets the length. */
const void *rd_str(struct rd *r, size_t *n);
size_t rd_left(const struct rd *r);

/* Fixed-position little-endian helpers for headers. */
static inline void le_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static inline uint32_t le_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline void le_put64(uint8_t *p, uint64_t v)
{
	le_put32(p, (uint32_t)v);
	le_put32(p + 4, (uint32_t)(v >> 32));
}
static inline uint64_t le_get64(const uint8_t *p)
{
	return (uint64_t)le_get32(p) | (uint64_t)le_get32(p + 4) << 32;
}

#endif
