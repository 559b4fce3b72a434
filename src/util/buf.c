/* buf.c - growable buffer and bounds-checked reader. */
#include "config.h"
#include "util/buf.h"
#include "util/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(struct buf *b)
{
	memset(b, 0, sizeof(*b));
}

void buf_close(struct buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	b->oom = 0;
}

int buf_reserve(struct buf *b, size_t extra)
{
	size_t need;
	size_t cap;
	uint8_t *p;

	if (b->oom)
		return CE_NOMEM;
	need = b->len + extra;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap *= 2;
	p = realloc(b->data, cap);
	if (p == NULL) {
		b->oom = 1;
		return CE_NOMEM;
	}
	b->data = p;
	b->cap = cap;
	return 0;
}

void buf_put(struct buf *b, const void *p, size_t n)
{
	if (n == 0 || buf_reserve(b, n) != 0)
		return;
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

void buf_put_u8(struct buf *b, uint8_t v)
{
	buf_put(b, &v, 1);
}

void buf_put_u16(struct buf *b, uint16_t v)
{
	uint8_t p[2] = { (uint8_t)v, (uint8_t)(v >> 8) };
	buf_put(b, p, 2);
}

void buf_put_u32(struct buf *b, uint32_t v)
{
	uint8_t p[4];
	le_put32(p, v);
	buf_put(b, p, 4);
}

void buf_put_u64(struct buf *b, uint64_t v)
{
	uint8_t p[8];
	le_put64(p, v);
	buf_put(b, p, 8);
}

void buf_put_str(struct buf *b, const void *p, size_t n)
{
	buf_put_u32(b, (uint32_t)n);
	buf_put(b, p, n);
}

uint8_t *buf_take(struct buf *b, size_t *len)
{
	uint8_t *p = b->data;
	if (len)
		*len = b->len;
	memset(b, 0, sizeof(*b));
	return p;
}

void rd_init(struct rd *r, const void *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->off = 0;
	r->err = 0;
}

const void *rd_bytes(struct rd *r, size_t n)
{
	const void *p;
	if (r->err || n > r->len - r->off) {
		r->err = 1;
		return NULL;
	}
	p = r->p + r->off;
	r->off += n;
	return p;
}

uint8_t rd_u8(struct rd *r)
{
	const uint8_t *p = rd_bytes(r, 1);
	return p ? p[0] : 0;
}

uint16_t rd_u16(struct rd *r)
{
	const uint8_t *p = rd_bytes(r, 2);
	return p ? (uint16_t)(p[0] | p[1] << 8) : 0;
}

uint32_t rd_u32(struct rd *r)
{
	const uint8_t *p = rd_bytes(r, 4);
	return p ? le_get32(p) : 0;
}

uint64_t rd_u64(struct rd *r)
{
	const uint8_t *p = rd_bytes(r, 8);
	return p ? le_get64(p) : 0;
}

const void *rd_str(struct rd *r, size_t *n)
{
	uint32_t len = rd_u32(r);
	const void *p;
	if (r->err) {
		*n = 0;
		return NULL;
	}
	p = rd_bytes(r, len);
	*n = p ? len : 0;
	return p ? p : (len == 0 ? "" : NULL);
}

size_t rd_left(const struct rd *r)
{
	return r->err ? 0 : r->len - r->off;
}

void buf_puts(struct buf *b, const char *str)
{
	buf_put(b, str, strlen(str));
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || buf_reserve(b, (size_t)n + 1) != 0)
		return;
	va_start(ap, fmt);
	vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}
