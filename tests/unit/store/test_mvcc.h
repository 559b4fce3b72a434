/* test_mvcc.h - helpers shared by the mvcc test files: a fresh environment
 * per test and one-call writes (each in its own DB transaction). */
#ifndef CETCD_TESTS_TEST_MVCC_H
#define CETCD_TESTS_TEST_MVCC_H

#include <stddef.h>
#include <stdint.h>
#include <db.h>

#include "store/mvcc.h"

extern DB_ENV *mt_env;
extern struct mvcc *mt_m;
extern char mt_err[256];

void mt_setup(void);
void mt_teardown(void);
/* mt_reopen closes and reopens the environment (persistence). */
void mt_reopen(void);

DB_TXN *mt_begin(void);
void mt_commit(DB_TXN *txn);
/* one etcd write transaction per call; return the header revision */
int64_t mt_put(const void *k, size_t kl, const void *v, size_t vl, int64_t lease);
int64_t mt_puts(const char *k, const char *v);
int64_t mt_del(const void *k, size_t kl, const void *e, size_t el, int64_t *deleted);
/* range with the request forms; returns the mvcc code */
int mt_range(const struct mvcc_range_req *req, struct mvcc_range_res *res);
/* count of records in a database of the environment */
size_t mt_db_records(const char *file);

#endif
