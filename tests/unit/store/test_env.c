/* test_env.c - the shared environment: a reader process joins it, sees
 * committed data at once and is not blocked by the writer's open
 * transaction (snapshot isolation); failchk and checkpoint. */
#include "config.h"
#include "store_test.h"

#include "store/env.h"
#include "store/v2store.h"
#include "util/err.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void rm_rf(const char *d)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
	ck_assert_int_eq(system(cmd), 0);
}

static struct v2_req put_req(const char *path, const char *value)
{
	struct v2_req r;

	memset(&r, 0, sizeof(r));
	r.op = V2_OP_PUT;
	r.prev_exist = -1;
	r.time_ns = 1800000000000000000LL;
	r.path = path;
	r.path_len = strlen(path);
	r.value = value;
	r.value_len = strlen(value);
	return r;
}

/* reader_main runs in the child: join, read, report through the exit code
 * (0 ok, 2 wrong data, 3 open failed). SIGALRM kills it if it blocks. */
static int reader_main(const char *dir, int go_fd)
{
	DB_ENV *env = NULL;
	struct v2store *st = NULL;
	struct v2_result res;
	char err[256], c;
	int rc = 0;

	if (read(go_fd, &c, 1) != 1)
		return 4;
	alarm(10);
	if (store_env_open(&env, dir, 0, err, sizeof(err)) != 0)
		return 3;
	if (v2store_open(&st, env, 0, err, sizeof(err)) != 0) {
		store_env_close(env);
		return 3;
	}
	v2_result_init(&res);
	/* Read-committed: the read waits for the writer's open batch and then
	 * sees it committed, never its uncommitted state. */
	if (v2store_get(st, "/k", 2, 0, 0, 0, &res) != 0 || res.http_status != 200 ||
	    strstr((const char *)res.body.data, "\"value\":\"second\"") == NULL)
		rc = 2;
	if (v2store_current_index(st) != 2)
		rc = 2;
	if (store_env_failchk(env) != 0)
		rc = 5;
	v2_result_close(&res);
	v2store_free(st);
	store_env_close(env);
	return rc;
}

START_TEST(test_reader_process)
{
	char dir[64] = "/tmp/cetcd-env-XXXXXX";
	char err[256];
	DB_ENV *env = NULL;
	struct v2store *st = NULL;
	struct v2_result res;
	struct v2_req r;
	DB_TXN *txn = NULL;
	int fds[2], status = 0;
	pid_t pid;

	ck_assert(mkdtemp(dir) != NULL);
	ck_assert_int_eq(pipe(fds), 0);
	/* fork before any Berkeley DB handle exists in this process */
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(fds[1]);
		_exit(reader_main(dir, fds[0]));
	}
	close(fds[0]);

	/* a reader before the writer: not there yet */
	ck_assert_int_eq(store_env_open(&env, dir, 0, err, sizeof(err)), CE_AGAIN);
	ck_assert_msg(store_env_open(&env, dir, 1, err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(v2store_open(&st, env, 1, err, sizeof(err)) == 0, "%s", err);
	v2_result_init(&res);
	r = put_req("/k", "committed");
	ck_assert_int_eq(env->txn_begin(env, NULL, &txn, 0), 0);
	ck_assert_int_eq(v2store_apply(st, txn, &r, &res), 0);
	ck_assert_int_eq(txn->commit(txn, 0), 0);

	/* hold write locks on the same pages while the reader starts, then
	 * commit: the reader must see the second value, never a torn state */
	r = put_req("/k", "second");
	ck_assert_int_eq(env->txn_begin(env, NULL, &txn, 0), 0);
	ck_assert_int_eq(v2store_apply(st, txn, &r, &res), 0);
	ck_assert_int_eq(write(fds[1], "g", 1), 1);
	usleep(200000);
	ck_assert_int_eq(txn->commit(txn, 0), 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status), "reader killed by signal %d (blocked?)",
	              WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	ck_assert_int_eq(WEXITSTATUS(status), 0);

	/* the dead reader's slot is cleaned up without recovery */
	ck_assert_int_eq(store_env_failchk(env), 0);
	ck_assert_int_eq(store_env_checkpoint(env), 0);
	ck_assert_uint_eq(v2store_current_index(st), 2);
	close(fds[1]);
	v2_result_close(&res);
	v2store_free(st);
	store_env_close(env);
	rm_rf(dir);
}
END_TEST

Suite *suite_env(void)
{
	Suite *s = suite_create("env");
	TCase *tc = tcase_create("env");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_reader_process);
	suite_add_tcase(s, tc);
	return s;
}
