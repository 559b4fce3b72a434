/* main.c - runs every suite of the config library's unit tests, plus the
 * helpers the test files share. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suites.h"

int parse_args(struct cetcd_config *c, char *err, size_t errlen, char **envp, ...)
{
	char *argv[64];
	int argc = 0;
	va_list ap;
	char *a;

	argv[argc++] = "cetcd";
	va_start(ap, envp);
	while ((a = va_arg(ap, char *)) != NULL && argc < 63)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	err[0] = '\0';
	return config_parse(c, argc, argv, envp, err, errlen);
}

int has_warning(const struct cetcd_config *c, const char *needle)
{
	for (int i = 0; i < c->warnings.n; i++)
		if (strstr(c->warnings.v[i], needle) != NULL)
			return 1;
	return 0;
}

char *write_file(const char *dir, const char *name, const char *text)
{
	char *path;
	FILE *f;

	if (asprintf(&path, "%s/%s", dir, name) < 0)
		return NULL;
	f = fopen(path, "w");
	if (f == NULL) {
		free(path);
		return NULL;
	}
	fputs(text, f);
	fclose(f);
	return path;
}

char *tmpdir_new(void)
{
	char *d = strdup("/tmp/cetcd-config-test-XXXXXX");

	if (d == NULL || mkdtemp(d) == NULL) {
		free(d);
		return NULL;
	}
	return d;
}

void tmpdir_rm(char *dir)
{
	char *cmd;

	if (dir == NULL)
		return;
	if (strncmp(dir, "/tmp/cetcd-config-test-", 23) == 0 && asprintf(&cmd, "rm -rf '%s'", dir) >= 0) {
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", dir);
		free(cmd);
	}
	free(dir);
}

int main(void)
{
	SRunner *sr = srunner_create(suite_config());
	int failed;

	srunner_add_suite(sr, suite_url());
	srunner_add_suite(sr, suite_yaml());
	srunner_add_suite(sr, suite_docs());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
