/* v3meta_main.c - runner and shared fixture of the unit tests of v3 state
 * on the meta table (libv3 has no test folder of its own). */
#include "config.h"
#include "v3meta.h"

#include "store/env.h"
#include "store/envdir.h"
#include "store/meta.h"
#include "store/snap.h"

#include <stdio.h>
#include <stdlib.h>

char root[64], live[128], fresh[128], snapf[160];
char err[512];
DB_ENV *env;
DB *meta;

void open_at(const char *dir)
{
	ck_assert_int_eq(store_env_open(&env, dir, 1, err, sizeof(err)), 0);
	ck_assert_int_eq(meta_db_open(&meta, env, 1, err, sizeof(err)), 0);
}

void close_all(void)
{
	if (meta)
		meta->close(meta, 0);
	meta = NULL;
	store_env_close(env);
	env = NULL;
}

void v3meta_setup(const char *template)
{
	snprintf(root, sizeof(root), "%s", template);
	ck_assert_ptr_nonnull(mkdtemp(root));
	snprintf(live, sizeof(live), "%s/db", root);
	snprintf(fresh, sizeof(fresh), "%s/db.new", root);
	snprintf(snapf, sizeof(snapf), "%s/1%s", root, STORE_SNAP_SUFFIX);
	open_at(live);
}

void v3meta_teardown(void)
{
	char e[128];

	close_all();
	ck_assert_int_eq(store_dir_remove(root, e, sizeof(e)), 0);
}

int main(void)
{
	SRunner *sr = srunner_create(suite_v3alarm());
	int failed;

	srunner_add_suite(sr, suite_auth());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
