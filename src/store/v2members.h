/* v2members.h - etcd's cluster membership as its v2 store records it:
 * /0/members/<hex id>/raftAttributes {"peerURLs":[...],"isLearner":true?},
 * /0/members/<hex id>/attributes {"name":"...","clientURLs":[...]} and
 * /0/removed_members/<hex id>. The storage worker reads it to validate a
 * configuration change when it applies it (as etcd's
 * ValidateConfigurationChange does) and to report the membership that goes
 * with a database snapshot.
 */
#ifndef CETCD_STORE_V2MEMBERS_H
#define CETCD_STORE_V2MEMBERS_H

#include <db.h>
#include <jansson.h>

struct v2store;

/* v2store_members builds the membership JSON object
 * {"members":[{"id":"<hex>","name":"...","peerURLs":[...],"clientURLs":[...],
 *   "isLearner":true (only when true)}...],"removed":["<hex>",...]}
 * from the store, members in key order. txn: the writer's batch transaction
 * (so changes earlier in the batch are seen) or NULL. A member whose JSON
 * values do not parse still appears, with what could be read. The caller
 * owns *out (json_decref). 0 or a negative CE_* code. */
int v2store_members(struct v2store *st, DB_TXN *txn, json_t **out);

#endif
