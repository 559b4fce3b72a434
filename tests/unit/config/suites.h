/* suites.h - the suites of the config library's test runner, and helpers
 * the test files share. */
#ifndef CETCD_TESTS_CONFIG_SUITES_H
#define CETCD_TESTS_CONFIG_SUITES_H

#include <check.h>

#include "config/cfg.h"

Suite *suite_config(void);
Suite *suite_url(void);
Suite *suite_yaml(void);
Suite *suite_docs(void);

/* parse_args runs config_parse on "cetcd" followed by the NULL-terminated
 * arguments, with envp as the environment (NULL: empty). */
int parse_args(struct cetcd_config *c, char *err, size_t errlen, char **envp, ...);

/* has_warning: some warning contains needle. */
int has_warning(const struct cetcd_config *c, const char *needle);

/* write_file writes text to dir/name and returns the malloc'd path. */
char *write_file(const char *dir, const char *name, const char *text);

/* tmpdir_new makes a fresh directory under /tmp; tmpdir_rm removes it
 * recursively and frees the name. */
char *tmpdir_new(void);
void tmpdir_rm(char *dir);

#endif
