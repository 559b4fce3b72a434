/* suites.h - the check suites of the src/wal test runner. */
#ifndef CETCD_TEST_WAL_SUITES_H
#define CETCD_TEST_WAL_SUITES_H

#include <check.h>

Suite *suite_crc32c(void);
Suite *suite_wal(void);
Suite *suite_recover(void);

#endif
