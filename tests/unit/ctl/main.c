/* main.c - the runner of cetcdctl's unit tests. */
#include "config.h"

#include <check.h>
#include <stdlib.h>

Suite *suite_http_lines(void);

int main(void)
{
	SRunner *sr = srunner_create(suite_http_lines());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
