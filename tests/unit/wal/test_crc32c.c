/* test_crc32c.c - CRC-32C against known vectors and its own byte-wise
 * definition, across lengths and alignments the slice-by-8 loop splits. */
#include "config.h"
#include "wal/crc32c.h"

#include <stdint.h>
#include <string.h>

#include "suites.h"

/* The textbook bit-at-a-time definition, to check the tables against. */
static uint32_t crc_bitwise(const uint8_t *p, size_t n)
{
	uint32_t c = 0xFFFFFFFFu;

	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
	}
	return ~c;
}

START_TEST(test_known_vectors)
{
	uint8_t zeros[32] = { 0 }, ones[32];

	memset(ones, 0xff, sizeof(ones));
	ck_assert_uint_eq(crc32c(0, "123456789", 9), 0xE3069283u);
	ck_assert_uint_eq(crc32c(0, NULL, 0), 0);
	/* RFC 3720 (iSCSI) appendix B.4 vectors. */
	ck_assert_uint_eq(crc32c(0, zeros, 32), 0x8A9136AAu);
	ck_assert_uint_eq(crc32c(0, ones, 32), 0x62A8AB43u);
}
END_TEST

START_TEST(test_matches_bitwise_and_extends)
{
	uint8_t data[300];
	uint32_t x = 12345;

	for (size_t i = 0; i < sizeof(data); i++) {
		x = x * 1103515245u + 12345u;
		data[i] = (uint8_t)(x >> 16);
	}
	for (size_t start = 0; start < 9; start++) {
		for (size_t len = 0; start + len <= sizeof(data); len += 7) {
			uint32_t whole = crc32c(0, data + start, len);
			ck_assert_uint_eq(whole, crc_bitwise(data + start, len));
			size_t half = len / 3;
			ck_assert_uint_eq(crc32c(crc32c(0, data + start, half), data + start + half, len - half), whole);
		}
	}
}
END_TEST

Suite *suite_crc32c(void)
{
	Suite *s = suite_create("crc32c");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_known_vectors);
	tcase_add_test(tc, test_matches_bitwise_and_extends);
	suite_add_tcase(s, tc);
	return s;
}
