/* main.c - runs the src/wal unit test suites. */
#include "config.h"

#include <stdlib.h>

#include "suites.h"

int main(void)
{
	SRunner *sr = srunner_create(suite_crc32c());
	int failed;

	srunner_add_suite(sr, suite_wal());
	srunner_add_suite(sr, suite_recover());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
