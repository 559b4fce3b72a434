/* main.c - runs the store library's unit test suites. */
#include "config.h"
#include "store_test.h"

#include <stdlib.h>

int main(void)
{
	SRunner *sr = srunner_create(suite_v2req());
	int failed;

	srunner_add_suite(sr, suite_v2store());
	srunner_add_suite(sr, suite_env());
	srunner_add_suite(sr, suite_snap());
	srunner_add_suite(sr, suite_mvcc());
	srunner_add_suite(sr, suite_mvcc_model());
	srunner_add_suite(sr, suite_lease());
	srunner_add_suite(sr, suite_lease_model());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
