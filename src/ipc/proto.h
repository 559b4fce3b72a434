/* proto.h - payloads that cross processes: the envelope of a proposal as it
 * travels in a raft entry, and the result and event messages the storage
 * worker sends back to api workers.
 *
 * The envelope names the api worker slot, its generation and the request id,
 * so the storage worker can route the outcome of an applied entry to the
 * process that is waiting for it (or drop it if that process restarted).
 */
#ifndef CETCD_IPC_PROTO_H
#define CETCD_IPC_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

/* Version 2 added the origin member id; version 1 envelopes (written by
 * single-member cetcd) still decode, with member 0 = "this member". */
#define PROTO_VERSION 2u
#define PROTO_ORIGIN_NONE 0xffffffffu

enum proto_kind {
	PROTO_V2 = 1,       /* body: a v2_req (store/v2req.h) */
	PROTO_PUBLISH = 2,  /* body: a v2_req for the cluster data under /0 */
	PROTO_V2_SYNC = 3,  /* body: a v2_req SYNC (TTL expiry) */
	/* In a RAFT_ENTRY_CONF_CHANGE entry after the 9-byte raft_conf_change:
	 * body is the member JSON, etcd's Member: {"id":"<hex>","name":"...",
	 * "peerURLs":[...],"clientURLs":[...],"isLearner":true} (isLearner only
	 * when true). The bootstrap entries carry origin PROTO_ORIGIN_NONE. */
	PROTO_CONF = 4,
	/* body: u8 method (enum v3_method, v3/v3.h), then etcd's request in
	 * protobuf; the result carries the protobuf response (status 200) or
	 * the gRPC code (error_code) and etcd's message */
	PROTO_V3 = 5
};

/* Membership JSON (raft worker <-> storage worker, WAL snapshot records):
 * {"members":[<member JSON>...],"removed":["<hex id>",...]} */

struct proto_envelope {
	uint8_t kind;
	uint64_t member;  /* member whose api worker waits (0: this member) */
	uint32_t origin; /* api worker slot, or PROTO_ORIGIN_NONE */
	uint32_t gen;
	uint64_t req_id;
	const void *body; /* points into the decoded input */
	size_t len;
};

#define PROTO_ENVELOPE_SIZE 26u

void proto_envelope_encode(struct buf *b, const struct proto_envelope *e);
/* proto_envelope_decode: 0 or CE_CORRUPT/CE_VERSION. */
int proto_envelope_decode(struct proto_envelope *e, const void *p, size_t n);

/* IPC_RESULT payload: fixed part, then the JSON body. */
struct proto_result {
	uint32_t http_status;
	uint32_t error_code;
	uint64_t etcd_index;
	uint64_t raft_index;
	uint64_t raft_term;
	const void *body;
	size_t len;
};
#define PROTO_RESULT_FIXED 32u
void proto_result_encode_fixed(uint8_t out[PROTO_RESULT_FIXED], const struct proto_result *r);
int proto_result_decode(struct proto_result *r, const void *p, size_t n);

/* IPC_EVENT payload: one v2 watch event. */
enum { PROTO_EV_DIR = 1, PROTO_EV_INTERNAL = 2 };
struct proto_event {
	uint64_t index;
	uint8_t flags;
	const char *key; /* user-facing key, e.g. "/foo/bar" */
	size_t key_len;
	const void *body; /* the JSON a watcher receives */
	size_t len;
};
void proto_event_encode(struct buf *b, const struct proto_event *ev);
int proto_event_decode(struct proto_event *ev, const void *p, size_t n);

/* IPC_APPLY payload: one committed raft entry. */
struct proto_apply {
	uint64_t index;
	uint64_t term;
	uint8_t type;
	const void *data;
	size_t len;
};
#define PROTO_APPLY_FIXED 17u
void proto_apply_encode_fixed(uint8_t out[PROTO_APPLY_FIXED], const struct proto_apply *a);
int proto_apply_decode(struct proto_apply *a, const void *p, size_t n);

/* IPC_HELLO payload: who is connecting; the storage worker adds its applied
 * and durable indexes (where the raft worker resumes sending entries) and
 * the database generation api workers must reopen at. */
struct proto_hello {
	uint32_t role;
	uint32_t slot;
	uint32_t gen;
	uint64_t applied;
	uint64_t durable;
	uint64_t db_gen;
};
#define PROTO_HELLO_SIZE 36u
void proto_hello_encode(uint8_t out[PROTO_HELLO_SIZE], const struct proto_hello *h);
int proto_hello_decode(struct proto_hello *h, const void *p, size_t n);

#endif
