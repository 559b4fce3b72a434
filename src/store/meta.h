/* meta.h - the meta table: the applied raft index, the v2 store index and
 * the v2 write counters of /v2/stats/store.
 *
 * Written only by the storage worker, in the same transaction as the apply
 * it describes, so after a crash the database and the recorded applied
 * index always agree. Readers see it through snapshot transactions.
 * Records are little-endian (see README).
 */
#ifndef CETCD_STORE_META_H
#define CETCD_STORE_META_H

#include <stddef.h>
#include <stdint.h>
#include <db.h>

#define META_DB_FILE "meta.db"

/* The v2 write counters, in the order etcd's /v2/stats/store prints them. */
#define META_V2_STATS(X)                              \
	X(META_SETS_SUCCESS, "setsSuccess")               \
	X(META_SETS_FAIL, "setsFail")                     \
	X(META_DELETE_SUCCESS, "deleteSuccess")           \
	X(META_DELETE_FAIL, "deleteFail")                 \
	X(META_UPDATE_SUCCESS, "updateSuccess")           \
	X(META_UPDATE_FAIL, "updateFail")                 \
	X(META_CREATE_SUCCESS, "createSuccess")           \
	X(META_CREATE_FAIL, "createFail")                 \
	X(META_CAS_SUCCESS, "compareAndSwapSuccess")      \
	X(META_CAS_FAIL, "compareAndSwapFail")            \
	X(META_CAD_SUCCESS, "compareAndDeleteSuccess")    \
	X(META_CAD_FAIL, "compareAndDeleteFail")          \
	X(META_EXPIRE_COUNT, "expireCount")

enum meta_v2_stat {
#define META_ENUM(id, name) id,
	META_V2_STATS(META_ENUM)
#undef META_ENUM
	META_V2_NSTATS
};

/* meta_v2_stat_name gives etcd's JSON field name of a counter. */
const char *meta_v2_stat_name(int stat);

/* The v2 record: the store index and the counters. On disk as
 * 8 + 8 * META_V2_NSTATS little-endian bytes. */
struct meta_v2 {
	uint64_t index;
	uint64_t stats[META_V2_NSTATS];
};
_Static_assert(sizeof(struct meta_v2) == 8 + 8 * META_V2_NSTATS, "meta_v2 layout");

/* meta_db_open opens the meta database (writer creates it). Reader: CE_AGAIN
 * if the writer has not created it yet. */
int meta_db_open(DB **out, DB_ENV *env, int writer, char *err, size_t errlen);

/* Getters give 0 / zeroes for a fresh database. txn may be a snapshot txn.
 * Return 0 or CE_DB/CE_AGAIN (deadlock: abort and retry) / CE_CORRUPT. */
int meta_get_applied(DB *db, DB_TXN *txn, uint64_t *out);
int meta_set_applied(DB *db, DB_TXN *txn, uint64_t index);
/* The term of the applied entry (0 in databases written before it was
 * recorded, until the next batch). */
int meta_get_applied_term(DB *db, DB_TXN *txn, uint64_t *out);
int meta_set_applied_term(DB *db, DB_TXN *txn, uint64_t term);
int meta_get_v2(DB *db, DB_TXN *txn, struct meta_v2 *out);
int meta_put_v2(DB *db, DB_TXN *txn, const struct meta_v2 *v);

#endif
