/* suites.h - the check suites of the raft test runner (main.c). */
#ifndef CETCD_TESTS_RAFT_SUITES_H
#define CETCD_TESTS_RAFT_SUITES_H

#include <check.h>

Suite *suite_raft(void);
Suite *suite_sim(void);
Suite *suite_codec(void);

#endif
