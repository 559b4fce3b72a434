/* v2store.h - etcd 3.4's v2 keys store (the state machine behind
 * /v2/keys) on Berkeley DB, reproducing etcd's actions, node JSON, errors,
 * indexes, statistics and event history byte for byte.
 *
 * Who calls what: the storage worker (the only writer) calls
 * v2store_apply for each committed v2 request inside its batch transaction;
 * api workers (readers) call v2store_get, v2store_watch_lookup,
 * v2store_current_index and v2store_write_stats, each of which reads in its
 * own snapshot transaction and never blocks the writer.
 *
 * A struct v2store keeps scratch buffers: use one per thread.
 */
#ifndef CETCD_STORE_V2STORE_H
#define CETCD_STORE_V2STORE_H

#include <stddef.h>
#include <stdint.h>
#include <db.h>
#include <jansson.h>

#include "store/v2req.h"
#include "util/buf.h"

/* etcd's EventHistory capacity: how many events waitIndex can reach back. */
#define V2_HISTORY_CAPACITY 1000

struct v2store;

/* An event produced by an apply, for the api workers' live watchers. */
struct v2_event {
	const char *action;  /* "set", "create", "update", "compareAndSwap",
	                      * "delete", "compareAndDelete", "expire" */
	const char *key;     /* user-facing key ("/1" prefix dropped) */
	size_t key_len;
	int is_dir;          /* the event's node is a directory */
	int refresh;         /* a refresh: in the history, but etcd notifies no
	                      * watcher of it */
	int internal;        /* key outside the "/1" user keys root */
	uint64_t modified_index; /* = the store index of the event */
	const char *body;    /* the exact JSON a watcher receives (with "\n"),
	                      * NUL-terminated */
	size_t body_len;
	size_t key_off, body_off; /* private */
};

struct v2_result {
	int http_status;     /* 200, 201, or the error's status */
	int error_code;      /* 0 or etcd's errorCode */
	uint64_t etcd_index; /* X-Etcd-Index */
	struct buf body;     /* exact JSON body etcd sends, ending in "\n";
	                      * empty for SYNC */
	int found;           /* watch lookup: an event was found */
	struct v2_event *events; /* events this apply produced, in index order */
	size_t nevents;
	size_t ev_cap;       /* private */
	struct buf evdata;   /* private: holds event keys and bodies */
};

/* v2_result_init prepares a result (all zeroes is also a valid init). A
 * result can be reused by many calls; each call overwrites it. */
void v2_result_init(struct v2_result *res);
void v2_result_close(struct v2_result *res);

/* v2store_open opens the v2 databases in env. The writer creates them and
 * etcd's namespace directories "/0" and "/1"; a reader gets CE_AGAIN until
 * the writer has. */
int v2store_open(struct v2store **out, DB_ENV *env, int writer, char *err, size_t errlen);
void v2store_free(struct v2store *st);

/* v2store_apply applies one request in txn (writer only). etcd errors (key
 * exists, compare failed...) are results with error_code != 0 and
 * etcd_index = the current index; the return value is 0 for them. A
 * negative CE_* return is a database failure: abort txn (CE_AGAIN: a
 * deadlock, retry the batch). */
int v2store_apply(struct v2store *st, DB_TXN *txn, const struct v2_req *req, struct v2_result *res);

/* v2store_get answers a GET of a user key (path as in the URL after
 * /v2/keys). now_ns gives the "ttl" fields. 0 or a negative CE_* code. */
int v2store_get(struct v2store *st, const char *path, size_t len, int recursive, int sorted,
                int64_t now_ns, struct v2_result *res);

/* v2store_get_internal is v2store_get of a store path as it is ("/0/..."),
 * for the cluster data the api workers serve (/v2/members). */
int v2store_get_internal(struct v2store *st, const char *path, int recursive, int64_t now_ns,
	struct v2_result *res);

/* v2store_watch_lookup finds the first history event at index >= since
 * that a watch on the user key would see (etcd's EventHistory.scan). found
 * = 0 if there is none yet (the caller then waits for live events);
 * error 401 when since is older than the oldest retained event. since 0
 * means current index + 1. */
int v2store_watch_lookup(struct v2store *st, const char *path, size_t len, int recursive,
                         uint64_t since_index, struct v2_result *res);

/* v2store_current_index is etcd's store index (0 on failure). */
uint64_t v2store_current_index(struct v2store *st);

/* v2store_write_stats returns a new JSON object with the write counters of
 * /v2/stats/store, in etcd's order (the caller adds getsSuccess/getsFail
 * first and watchers last, and owns *out). */
int v2store_write_stats(struct v2store *st, json_t **out);

/* (v2store_exists and v2store_next_expiry: see store/v2query.h) */

/* v2store_applied_index reads the applied raft index (meta table) in txn
 * (NULL: a snapshot read); v2store_set_applied records it in the writer's
 * batch txn. */
int v2store_applied_index(struct v2store *st, DB_TXN *txn, uint64_t *out);
int v2store_set_applied(struct v2store *st, DB_TXN *txn, uint64_t index);
/* The same for the term of the applied entry (0 if never recorded). */
int v2store_applied_term(struct v2store *st, DB_TXN *txn, uint64_t *out);
int v2store_set_applied_term(struct v2store *st, DB_TXN *txn, uint64_t term);

#endif
