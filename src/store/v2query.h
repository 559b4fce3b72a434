/* v2query.h - questions the storage worker (the writer) asks its store. */
#ifndef CETCD_STORE_V2QUERY_H
#define CETCD_STORE_V2QUERY_H

#include <stdint.h>

struct v2store;

/* v2store_next_expiry: the earliest TTL expiration (unix ns), 0 if no node
 * has a TTL. 0 or a negative CE_* code. */
int v2store_next_expiry(struct v2store *st, int64_t *when_ns);

/* v2store_exists: 1 if the store path (e.g. "/0/version") exists. */
int v2store_exists(struct v2store *st, const char *store_path);

#endif
