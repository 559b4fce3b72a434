/* env.h - the Berkeley DB environment shared by the storage worker (the one
 * writer) and the api workers (readers).
 *
 * The writer opens with recovery (it runs Berkeley DB recovery after a
 * crash); readers join the existing environment without recovery and read
 * in read-committed transactions (a read lock lasts one access; the
 * deadlock detector, DB_LOCK_MINWRITE, always sacrifices a reader, never
 * the writer). Durability comes from our WAL, so commits do not sync
 * (DB_TXN_NOSYNC). See src/store/README.
 */
#ifndef CETCD_STORE_ENV_H
#define CETCD_STORE_ENV_H

#include <stddef.h>
#include <db.h>

/* Most processes/threads that may use the environment at once; failchk
 * tracks this many. */
#define STORE_ENV_MAX_THREADS 256

/* store_env_open opens (writer: creates and recovers; reader: joins) the
 * environment in dir (created with parents if missing, writer only).
 * Returns 0, CE_AGAIN (reader: no environment yet, retry after the writer
 * is up), or CE_DB/CE_IO with a message in err. *out is for store_env_close. */
int store_env_open(DB_ENV **out, const char *dir, int writer, char *err, size_t errlen);

/* store_env_failchk cleans up after dead processes (their locks and
 * transactions). Returns 0, or CE_AGAIN when Berkeley DB says
 * DB_RUNRECOVERY: every process must close and the writer reopen with
 * recovery. CE_DB on other failures. */
int store_env_failchk(DB_ENV *env);

/* store_env_checkpoint writes a checkpoint; old log files are then removed
 * automatically. Writer only. 0 or CE_DB. */
int store_env_checkpoint(DB_ENV *env);

/* store_env_close closes env (NULL is fine). All DB handles and transactions
 * of this process must be closed first. */
void store_env_close(DB_ENV *env);

/* store_db_open opens the btree database file in env (auto-commit,
 * free-threaded). The writer creates it; for a reader a missing file is
 * CE_AGAIN (the writer has not created it yet). 0 or CE_* with err. */
int store_db_open(DB **out, DB_ENV *env, const char *file, int writer, char *err, size_t errlen);

/* store_db_err maps a Berkeley DB return code to a CE_* code. */
int store_db_err(int rc);

#endif
