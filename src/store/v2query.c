/* v2query.c - small questions the storage worker asks its own store:
 * when does the next TTL expire, does an internal key exist. */
#include "config.h"
#include "store/v2store.h"
#include "store/v2store_int.h"
#include "store/v2query.h"
#include "util/err.h"

#include <string.h>

#include <db.h>

int v2store_next_expiry(struct v2store *st, int64_t *when_ns)
{
	int rc = v2tree_first_expiry(st, NULL, when_ns);

	if (rc == CE_NOTFOUND) {
		*when_ns = 0;
		return 0;
	}
	return rc;
}

int v2store_exists(struct v2store *st, const char *store_path)
{
	struct v2_node n;

	return v2tree_get(st, NULL, store_path, strlen(store_path), &n) == 0;
}
