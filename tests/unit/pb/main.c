/* main.c - runs the pb library's unit test suites. */
#include "config.h"
#include "pb_test.h"

#include <stdlib.h>

int main(void)
{
	SRunner *sr = srunner_create(suite_pb());
	int failed;

	srunner_add_suite(sr, suite_gojson());
	srunner_add_suite(sr, suite_pb_json());
	srunner_add_suite(sr, suite_etcd_schema());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
