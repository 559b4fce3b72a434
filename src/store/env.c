/* env.c - open, check, checkpoint and close the Berkeley DB environment. */
#include "config.h"
#include "store/env.h"

#include "util/err.h"
#include "util/log.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

/* A small cache keeps idle memory low; MVCC page copies live in it too. */
#define STORE_ENV_CACHE_BYTES (4u * 1024 * 1024)
#define STORE_ENV_LOG_BUF (256u * 1024)
#define STORE_ENV_LOG_FILE (16u * 1024 * 1024)
#define STORE_ENV_TX_MAX 512
#define STORE_ENV_LOCKS 20000

int store_db_open(DB **out, DB_ENV *env, const char *file, int writer, char *err, size_t errlen)
{
	DB *db = NULL;
	u_int32_t flags = DB_THREAD | DB_AUTO_COMMIT | (writer ? DB_CREATE : 0);
	int rc;

	*out = NULL;
	if ((rc = db_create(&db, env, 0)) != 0)
		return errf(err, errlen, CE_DB, "db_create: %s", db_strerror(rc));
	rc = db->open(db, NULL, file, NULL, DB_BTREE, flags, 0600);
	if (rc != 0) {
		db->close(db, 0);
		if (!writer && rc == ENOENT)
			return errf(err, errlen, CE_AGAIN, "open %s: not created yet", file);
		return errf(err, errlen, store_db_err(rc), "open %s: %s", file, db_strerror(rc));
	}
	*out = db;
	return 0;
}

int store_db_err(int rc)
{
	switch (rc) {
	case 0:
		return 0;
	case DB_NOTFOUND:
	case DB_KEYEMPTY:
		return CE_NOTFOUND;
	case DB_KEYEXIST:
		return CE_EXISTS;
	case ENOMEM:
		return CE_NOMEM;
	case DB_LOCK_DEADLOCK:
	case DB_LOCK_NOTGRANTED:
	case DB_RUNRECOVERY:
		return CE_AGAIN;
	default:
		return CE_DB;
	}
}

static int mkdir_p(const char *dir, char *err, size_t errlen)
{
	char tmp[4096];
	size_t n = strlen(dir);
	size_t i;

	if (n == 0 || n >= sizeof(tmp))
		return errf(err, errlen, CE_INVAL, "bad directory name");
	memcpy(tmp, dir, n + 1);
	for (i = 1; i <= n; i++) {
		if (tmp[i] != '/' && tmp[i] != '\0')
			continue;
		tmp[i] = '\0';
		if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
			return errf(err, errlen, CE_IO, "mkdir %s: %s", tmp, strerror(errno));
		if (i < n)
			tmp[i] = '/';
	}
	return 0;
}

/* Berkeley DB asks whether a registered process is still alive so failchk
 * can release what a dead one held. */
static int env_isalive(DB_ENV *env, pid_t pid, db_threadid_t tid, u_int32_t flags)
{
	(void)env;
	(void)tid;
	(void)flags;
	if (kill(pid, 0) == 0 || errno == EPERM)
		return 1;
	return 0;
}

static void env_errcall(const DB_ENV *env, const char *pfx, const char *msg)
{
	(void)env;
	(void)pfx;
	log_warn("berkeley db: %s", msg);
}

/* Informational messages (e.g. "Freeing mutex for process" after failchk)
 * go to our log, not straight to stderr. */
static void env_msgcall(const DB_ENV *env, const char *msg)
{
	(void)env;
	log_info("berkeley db: %s", msg);
}

static int env_configure(DB_ENV *env, char *err, size_t errlen)
{
	int rc;

	env->set_errcall(env, env_errcall);
	env->set_msgcall(env, env_msgcall);
	if ((rc = env->set_cachesize(env, 0, STORE_ENV_CACHE_BYTES, 1)) != 0 ||
	    (rc = env->set_lg_bsize(env, STORE_ENV_LOG_BUF)) != 0 ||
	    (rc = env->set_lg_max(env, STORE_ENV_LOG_FILE)) != 0 ||
	    (rc = env->log_set_config(env, DB_LOG_AUTO_REMOVE, 1)) != 0 ||
	    (rc = env->set_tx_max(env, STORE_ENV_TX_MAX)) != 0 ||
	    (rc = env->set_lk_max_locks(env, STORE_ENV_LOCKS)) != 0 ||
	    (rc = env->set_lk_max_objects(env, STORE_ENV_LOCKS)) != 0 ||
	    (rc = env->set_lk_max_lockers(env, STORE_ENV_LOCKS)) != 0 ||
	    (rc = env->set_lk_detect(env, DB_LOCK_MINWRITE)) != 0 ||
	    (rc = env->set_thread_count(env, STORE_ENV_MAX_THREADS)) != 0 ||
	    (rc = env->set_isalive(env, env_isalive)) != 0 ||
	    (rc = env->set_flags(env, DB_TXN_NOSYNC, 1)) != 0)
		return errf(err, errlen, CE_DB, "configure environment: %s", db_strerror(rc));
	return 0;
}

int store_env_open(DB_ENV **out, const char *dir, int writer, char *err, size_t errlen)
{
	DB_ENV *env = NULL;
	u_int32_t flags = DB_INIT_MPOOL | DB_INIT_LOCK | DB_INIT_LOG | DB_INIT_TXN | DB_THREAD;
	int rc;

	*out = NULL;
	if (writer) {
		if ((rc = mkdir_p(dir, err, errlen)) != 0)
			return errwrap(err, errlen, rc, "open db environment");
		flags |= DB_CREATE | DB_RECOVER;
	}
	if ((rc = db_env_create(&env, 0)) != 0)
		return errf(err, errlen, CE_DB, "db_env_create: %s", db_strerror(rc));
	if ((rc = env_configure(env, err, errlen)) != 0)
		goto fail;
	rc = env->open(env, dir, flags, 0600);
	if (rc != 0) {
		if (!writer && rc == ENOENT)
			rc = errf(err, errlen, CE_AGAIN, "open db environment %s: not created yet", dir);
		else
			rc = errf(err, errlen, store_db_err(rc) == CE_AGAIN ? CE_AGAIN : CE_DB,
			          "open db environment %s: %s", dir, db_strerror(rc));
		goto fail;
	}
	*out = env;
	return 0;
fail:
	env->close(env, 0);
	return rc;
}

int store_env_failchk(DB_ENV *env)
{
	int rc = env->failchk(env, 0);

	if (rc == 0)
		return 0;
	if (rc == DB_RUNRECOVERY)
		return CE_AGAIN;
	return CE_DB;
}

int store_env_checkpoint(DB_ENV *env)
{
	int rc = env->txn_checkpoint(env, 0, 0, 0);

	return rc == 0 ? 0 : CE_DB;
}

void store_env_close(DB_ENV *env)
{
	if (env != NULL)
		env->close(env, 0);
}
