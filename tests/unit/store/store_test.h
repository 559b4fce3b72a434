/* store_test.h - the suites of the store library's test runner. */
#ifndef CETCD_TESTS_STORE_TEST_H
#define CETCD_TESTS_STORE_TEST_H

#include <check.h>

Suite *suite_v2req(void);
Suite *suite_v2store(void);
Suite *suite_env(void);
Suite *suite_snap(void);
Suite *suite_mvcc(void);
Suite *suite_mvcc_model(void);
Suite *suite_lease(void);
Suite *suite_lease_model(void);

#endif
