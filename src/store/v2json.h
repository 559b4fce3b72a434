/* v2json.h - byte-exact JSON of etcd's v2 API (what Go's encoding/json
 * writes for etcd's Event, NodeExtern and v2error.Error): Go's string
 * escaping (HTML-safe, \ufffd for invalid UTF-8), RFC3339Nano times, field
 * order and omitempty rules. Used by the v2 store; api workers may use the
 * error writer for request errors (codes 2xx) that never reach the store.
 */
#ifndef CETCD_STORE_V2JSON_H
#define CETCD_STORE_V2JSON_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

/* etcd's v2 error codes (error/error.go). */
enum v2_ecode {
	V2_ECODE_KEY_NOT_FOUND = 100,
	V2_ECODE_TEST_FAILED = 101,
	V2_ECODE_NOT_FILE = 102,
	V2_ECODE_NOT_DIR = 104,
	V2_ECODE_NODE_EXIST = 105,
	V2_ECODE_ROOT_RONLY = 107,
	V2_ECODE_DIR_NOT_EMPTY = 108,
	V2_ECODE_UNAUTHORIZED = 110,
	V2_ECODE_PREV_VALUE_REQUIRED = 201,
	V2_ECODE_TTL_NAN = 202,
	V2_ECODE_INDEX_NAN = 203,
	V2_ECODE_INVALID_FIELD = 209,
	V2_ECODE_INVALID_FORM = 210,
	V2_ECODE_REFRESH_VALUE = 211,
	V2_ECODE_REFRESH_TTL_REQUIRED = 212,
	V2_ECODE_RAFT_INTERNAL = 300,
	V2_ECODE_LEADER_ELECT = 301,
	V2_ECODE_WATCHER_CLEARED = 400,
	V2_ECODE_EVENT_INDEX_CLEARED = 401,
};

/* v2_error_message gives etcd's message for a code ("" if unknown). */
const char *v2_error_message(int code);
/* v2_error_status gives the HTTP status etcd sends with a code. */
int v2_error_status(int code);

/* v2json_str appends s as a JSON string literal, escaped as Go does. */
void v2json_str(struct buf *b, const char *s, size_t n);
/* v2json_time appends a unix-ns time as Go's time.Time JSON in UTC. */
void v2json_time(struct buf *b, int64_t ns);
void v2json_u64(struct buf *b, uint64_t v);
void v2json_i64(struct buf *b, int64_t v);
static inline void v2json_lit(struct buf *b, const char *s, size_t n)
{
	buf_put(b, s, n);
}
#define V2JSON_LIT(b, s) v2json_lit((b), (s), sizeof(s) - 1)

/* v2json_ttl is etcd's remaining ttl: ceil((expire - now) / 1s), truncated
 * toward zero when negative. */
int64_t v2json_ttl(int64_t expire_ns, int64_t now_ns);

/* A node as etcd's NodeExtern shows it. The key is the store path; the
 * writer drops etcd's "/1" keys prefix as the v2 HTTP layer does. */
struct v2_node_ext {
	const char *key;
	size_t key_len;
	const char *value; /* NULL: no "value" field */
	size_t value_len;
	int dir;
	int64_t expire_ns; /* 0: permanent (no expiration/ttl) */
	uint64_t modified, created;
};

/* v2json_node_head writes "{" and the fields up to and including ttl;
 * the caller may then add ",\"nodes\":[...]" and calls v2json_node_tail,
 * which writes the indexes and "}". */
void v2json_node_head(struct buf *b, const struct v2_node_ext *n, int64_t now_ns);
void v2json_node_tail(struct buf *b, const struct v2_node_ext *n);
void v2json_node(struct buf *b, const struct v2_node_ext *n, int64_t now_ns);

/* v2json_error writes etcd's error JSON plus the trailing newline. The cause
 * loses a leading "/1" as etcd's v2 HTTP layer trims it. */
void v2json_error(struct buf *b, int code, const char *cause, size_t cause_len, uint64_t index);

/* v2json_trim_key drops the "/1" keys prefix (strings.TrimPrefix). */
void v2json_trim_key(const char **key, size_t *len);

#endif
