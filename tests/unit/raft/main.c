/* main.c - check runner for the raft core's unit tests. */
#include "config.h"

#include "suites.h"

#include <stdlib.h>

int main(void)
{
	SRunner *sr = srunner_create(suite_raft());
	int failed;

	srunner_add_suite(sr, suite_codec());
	srunner_add_suite(sr, suite_sim());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
