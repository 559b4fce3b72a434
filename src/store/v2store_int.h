/* v2store_int.h - internals shared by the v2 store's files (v2store.c:
 * operations; v2tree.c: node records; v2hist.c: event history). Not for
 * other modules.
 */
#ifndef CETCD_STORE_V2STORE_INT_H
#define CETCD_STORE_V2STORE_INT_H

#include "store/meta.h"
#include "store/v2store.h"

#define V2_NODES_FILE "v2_nodes.db"
#define V2_EXPIRY_FILE "v2_expiry.db"
#define V2_HISTORY_FILE "v2_history.db"

/* A node record on disk: this header (little-endian fields) then the value.
 * The key is parent path, '\0', name, so a directory's children are one
 * contiguous range in name order. */
struct v2_node_hdr {
	uint8_t flags; /* V2_NODE_DIR */
	uint8_t reserved[7];
	uint64_t created;
	uint64_t modified;
	int64_t expire_ns; /* 0 = permanent */
};
_Static_assert(sizeof(struct v2_node_hdr) == 32, "v2_node_hdr layout");
#define V2_NODE_DIR 0x01

/* A node in memory; value points into a store scratch buffer. */
struct v2_node {
	int dir;
	uint64_t created, modified;
	int64_t expire_ns;
	const char *value;
	size_t value_len;
};

/* A history record: this header, the store key, then the watcher JSON. */
struct v2_hist_hdr {
	uint8_t action; /* enum v2_action */
	uint8_t flags;  /* V2_HIST_* */
	uint8_t reserved[2];
	uint32_t key_len;
};
_Static_assert(sizeof(struct v2_hist_hdr) == 8, "v2_hist_hdr layout");
#define V2_HIST_REFRESH 0x01
#define V2_HIST_PREV_DIR 0x02
#define V2_HIST_DIR 0x04

enum v2_action {
	V2_ACT_GET, V2_ACT_CREATE, V2_ACT_SET, V2_ACT_UPDATE, V2_ACT_DELETE,
	V2_ACT_CAS, V2_ACT_CAD, V2_ACT_EXPIRE, V2_ACT_COUNT
};
const char *v2_action_name(int action);

struct v2store {
	DB_ENV *env;
	int writer;
	DB *nodes, *expiry, *hist, *meta;
	struct buf key;    /* scratch: DB keys */
	struct buf path;   /* scratch: cleaned store path */
	struct buf path2;  /* scratch: in-order key / listing path */
	struct buf prev;   /* scratch: prevNode JSON */
	struct buf node;   /* scratch: event JSON */
	struct buf cause;  /* scratch: error cause */
	struct buf val;    /* scratch: a value kept across reads (refresh) */
	void *rbuf;        /* DB_DBT_REALLOC buffer for record reads */
	void *kbuf;        /* DB_DBT_REALLOC buffer for cursor keys */
};

/* Paths. v2_path_clean appends Go's path.Clean(p) to out; v2_path_user
 * puts Clean("/1/" + p) in out, v2_path_store Clean("/" + p). */
void v2_path_clean(struct buf *out, const char *p, size_t n);
void v2_path_user(struct buf *out, const char *p, size_t n);
void v2_path_store(struct buf *out, const char *p, size_t n);

/* Node records (v2tree.c). Paths are clean store paths; "/" is a virtual
 * permanent directory. Returns 0, CE_NOTFOUND or a DB error code. */
int v2tree_get(struct v2store *st, DB_TXN *txn, const char *path, size_t n, struct v2_node *out);
/* v2tree_put writes the node; old_expire_ns is the expiry currently indexed
 * for this path (0: none) so the expiry index follows. */
int v2tree_put(struct v2store *st, DB_TXN *txn, const char *path, size_t n,
               const struct v2_node *node, int64_t old_expire_ns);
int v2tree_del(struct v2store *st, DB_TXN *txn, const char *path, size_t n, int64_t expire_ns);
/* v2tree_del_below deletes every descendant of the directory path. */
int v2tree_del_below(struct v2store *st, DB_TXN *txn, const char *path, size_t n);
/* v2tree_has_children: 1, 0, or a negative code. */
int v2tree_has_children(struct v2store *st, DB_TXN *txn, const char *path, size_t n);
/* v2tree_first_expiry gives the earliest expiring path (into st->path2) and
 * its expiry; CE_NOTFOUND when none. */
int v2tree_first_expiry(struct v2store *st, DB_TXN *txn, int64_t *exp_ns);
/* v2tree_list calls cb for each child of directory path in name order;
 * name points into a scratch buffer valid during the call. cb returns 0 or
 * a negative code to stop. */
typedef int (*v2tree_list_cb)(void *arg, const char *name, size_t name_len,
                              const struct v2_node *child);
int v2tree_list(struct v2store *st, DB_TXN *txn, const char *path, size_t n,
                v2tree_list_cb cb, void *arg);

/* v2_scan walks cursor c from the first key >= start, while keys begin
 * with prefix (plen 0: no bound), calling cb with each record; cb returns 0
 * to go on, a positive value to stop (v2_scan returns it), or a negative
 * code. Keys and data live in buffers
 * of the scan's own, so cb may run other cursors (a nested listing). */
typedef int (*v2_scan_cb)(void *arg, DBC *c, const uint8_t *key, size_t klen,
                          const uint8_t *data, size_t dlen);
int v2_scan(DBC *c, const void *start, size_t slen, const void *prefix, size_t plen,
            v2_scan_cb cb, void *arg);

/* History (v2hist.c). */
int v2hist_add(struct v2store *st, DB_TXN *txn, uint64_t index, int action, uint8_t flags,
               const char *key, size_t key_len, const void *body, size_t body_len);
/* v2hist_scan: 0 with *found and the body appended to out, or a code. It
 * reports the oldest and newest retained index (0, 0 when empty). */
int v2hist_scan(struct v2store *st, DB_TXN *txn, const char *key, size_t key_len, int recursive,
                uint64_t since, int *found, struct buf *out, uint64_t *oldest);

#endif
