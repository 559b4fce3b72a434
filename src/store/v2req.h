/* v2req.h - a v2 keys write as it travels through raft: the api worker
 * builds it from the HTTP request, the raft worker replicates its encoding,
 * the storage worker decodes and applies it (v2store_apply).
 *
 * The api worker only translates HTTP fields; which etcd store operation a
 * request is (set, create, update, compareAndSwap, ...) is decided by the
 * store, as etcd's applierV2 does.
 */
#ifndef CETCD_STORE_V2REQ_H
#define CETCD_STORE_V2REQ_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

/* First byte of every encoding. */
#define V2_REQ_VERSION 1

enum v2_op { V2_OP_PUT = 1, V2_OP_POST = 2, V2_OP_DELETE = 3, V2_OP_SYNC = 4 };

struct v2_req {
	uint8_t op;       /* enum v2_op */
	uint8_t internal; /* 1: path is absolute in the store (cluster data under "/0");
	                   * 0: a user key, stored under etcd's "/1" keys root */
	uint8_t dir, recursive, refresh, no_value_on_success;
	int8_t prev_exist; /* -1 unset, 0 false, 1 true */
	uint8_t has_prev_value; /* an empty prevValue counts as unset, as in etcd */
	uint64_t prev_index; /* 0 = unset */
	int64_t expiration_ns; /* absolute unix ns (now + ttl); 0 = permanent */
	int64_t time_ns; /* when proposed; SYNC expires nodes with expiration <= time_ns,
	                  * and the "ttl" fields of the response are computed at it */
	const char *path;
	size_t path_len;
	const char *value;
	size_t value_len;
	const char *prev_value;
	size_t prev_value_len;
};

/* v2_req_encode appends the encoding of r to out (check out->oom). */
void v2_req_encode(const struct v2_req *r, struct buf *out);

/* v2_req_decode fills r from p[0..n): its string pointers point into p,
 * which must outlive r. Returns 0, CE_VERSION for an unknown version byte,
 * or CE_CORRUPT for anything malformed (safe on any input). */
int v2_req_decode(struct v2_req *r, const void *p, size_t n);

#endif
