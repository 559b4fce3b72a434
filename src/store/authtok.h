/* authtok.h - etcd's "simple" auth tokens of one member, shared by its
 * storage worker (which adds and removes them as raft entries apply) and
 * its api workers (which resolve and renew them on every request).
 *
 * Where tokens live, and why: etcd 3.4 keeps simple tokens in memory only
 * (simple_token.go): every member assigns the token when it applies the
 * Authenticate entry, renews it on each use on that member, forgets it
 * after --auth-token-ttl seconds without use on that member, and forgets
 * them all on restart. cetcd's api workers are separate processes, so the
 * member's tokens are a fixed table in a file mapped MAP_SHARED by all of
 * the member's processes (<data-dir>/member/v3auth.tokens), re-created
 * empty each time the storage worker starts: the same lifetime as etcd's
 * map, visible to every api worker, and a token issued through raft is
 * known to every member (each one's storage worker adds it).
 *
 * Concurrency: one writer of tokens and users (the storage worker's event
 * loop); each slot has a sequence counter (odd while written) that readers
 * check. The last-use time is a separate 64-bit atomic any process stores.
 * Times are CLOCK_MONOTONIC milliseconds (shared by all processes).
 */
#ifndef CETCD_STORE_AUTHTOK_H
#define CETCD_STORE_AUTHTOK_H

#include <stddef.h>
#include <stdint.h>

#define AUTHTOK_FILE "v3auth.tokens"
#define AUTHTOK_SLOTS 4096u
#define AUTHTOK_TOKEN_MAX 48u  /* 16 letters + "." + a 20-digit index + NUL */
#define AUTHTOK_USER_MAX 192u  /* longer user names cannot hold tokens */

/* One slot; on a shared mapping, so its layout is fixed. */
struct authtok_slot {
	uint32_t seq;         /* odd while the writer changes the slot */
	uint32_t used;        /* 1 = holds a token */
	int64_t last_use_ms;  /* atomic: issue or last use */
	char token[AUTHTOK_TOKEN_MAX];
	char user[AUTHTOK_USER_MAX];
};
_Static_assert(sizeof(struct authtok_slot) == 256, "authtok_slot layout");

struct authtok;

/* authtok_open maps path: the writer (storage worker) creates it anew and
 * empty; a reader maps what exists (CE_NOTFOUND when it does not yet). */
int authtok_open(struct authtok **out, const char *path, int writer, char *err, size_t errlen);
void authtok_free(struct authtok *t);

/* authtok_add (writer): token for user, used at now_ms. When the table is
 * full, expired slots are reused first, then the least recently used.
 * CE_INVAL when token or user is too long. */
int authtok_add(struct authtok *t, const char *token, const char *user, int64_t now_ms,
	int64_t ttl_ms);

/* authtok_lookup: 1 and the user (NUL-terminated) when token is known and
 * not idle for ttl_ms, and renews it (etcd's resetSimpleToken); else 0. */
int authtok_lookup(struct authtok *t, const char *token, size_t tlen, int64_t now_ms,
	int64_t ttl_ms, char *user, size_t userlen);

/* authtok_drop_user (writer): forget user's tokens (password changed,
 * user deleted); user NULL: every token (auth disabled). */
void authtok_drop_user(struct authtok *t, const char *user);

#endif
