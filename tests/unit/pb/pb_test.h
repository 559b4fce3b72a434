/* pb_test.h - the suites of the pb library's test runner. */
#ifndef CETCD_TESTS_PB_TEST_H
#define CETCD_TESTS_PB_TEST_H

#include <check.h>

#include "pb/pb.h"
#include "util/buf.h"

Suite *suite_pb(void);
Suite *suite_gojson(void);
Suite *suite_pb_json(void);
Suite *suite_etcd_schema(void);

/* pbt_seed picks a seed (PB_SEED from the environment, else the time) and
 * prints it. */
unsigned pbt_seed(const char *what);
/* pbt_gen_msg appends a random canonical encoding of md to b (number order,
 * no zero scalars, at most one member per oneof, valid UTF-8 strings), so
 * that protobuf -> JSON -> protobuf gives back the same bytes. */
void pbt_gen_msg(const struct pb_msgdef *md, struct buf *b, unsigned *seed, int depth);

#endif
