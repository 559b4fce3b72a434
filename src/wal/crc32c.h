/* crc32c.h - CRC-32C (Castagnoli), the checksum on every WAL record.
 *
 * A portable table implementation (slice-by-8), no special CPU instructions.
 * Thread-safe: the tables are built once on first use.
 */
#ifndef CETCD_WAL_CRC32C_H
#define CETCD_WAL_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* crc32c continues a checksum: pass 0 to start, and the previous result to
 * extend it, so crc32c(crc32c(0, a, na), b, nb) == crc32c(0, a||b, na+nb).
 * crc32c(0, "123456789", 9) == 0xE3069283. p may be NULL when n == 0. */
uint32_t crc32c(uint32_t crc, const void *p, size_t n);

#endif
