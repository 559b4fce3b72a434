/* peerproto.h - cetcd's peer protocol: what members send each other over
 * TCP on their peer URLs (not etcd's rafthttp; a cluster is all cetcd).
 *
 * Every connection starts with a 40-byte preamble written by the dialer:
 *   0-7   "CETCDP01" (the last two characters are the protocol version)
 *   8-15  cluster id        u64 little endian (0 for a members query)
 *   16-23 sender member id  u64 LE (0 for a members query)
 *   24-31 receiver id       u64 LE (0 for a members query)
 *   32-35 kind              u32 LE, enum peer_kind
 *   36-39 zero
 * then frames: the IPC frame header (ipc/frame.h, 24 bytes, type from
 * enum peer_frame) and a payload. A stream connection carries raft traffic
 * one way, dialer to listener; the listener writes only PEER_REFUSED (then
 * closes). Each member dials every other member, so a pair of members
 * talks over two connections. The fixed preamble lets a test relay tell
 * who talks to whom without parsing anything else.
 */
#ifndef CETCD_CLUSTER_PEERPROTO_H
#define CETCD_CLUSTER_PEERPROTO_H

#include <stddef.h>
#include <stdint.h>

#define PEER_MAGIC "CETCDP01"
#define PEER_PREAMBLE_SIZE 40u

enum peer_kind {
	PEER_KIND_STREAM = 1,   /* raft messages and forwarded proposals */
	PEER_KIND_SNAPSHOT = 2, /* one database snapshot, answered with PEER_SNAP_ACK */
	PEER_KIND_MEMBERS = 3   /* a joining member asks for the membership */
};

enum peer_frame {
	PEER_MSG = 1,          /* an encoded raft message (raft_msg_encode) */
	PEER_PROPOSE = 2,      /* follower -> leader: u8 entry type, entry data;
	                        * header req_id/origin/gen name the waiting api worker */
	PEER_PROPOSE_ERR = 3,  /* leader -> follower: u32 -code, message; same header */
	PEER_SNAP = 4,         /* u64 size, u32 msg length, raft message, membership JSON;
	                        * then size raw bytes of the snapshot file */
	PEER_SNAP_ACK = 5,     /* u32 ok (1) or failure (0) */
	PEER_REFUSED = 6,      /* u32 -code (CE_GONE: you were removed), message */
	PEER_MEMBERS = 7       /* u64 cluster id, membership JSON */
};

struct peer_preamble {
	uint64_t cluster_id;
	uint64_t from;
	uint64_t to;
	uint32_t kind;
};

void peer_preamble_encode(uint8_t out[PEER_PREAMBLE_SIZE], const struct peer_preamble *p);
/* peer_preamble_decode: 0, or CE_CORRUPT (not a cetcd peer) / CE_VERSION. */
int peer_preamble_decode(struct peer_preamble *p, const uint8_t in[PEER_PREAMBLE_SIZE]);

/* peer_query_members asks the member at peer URL url (http://host:port)
 * for the cluster id and membership JSON (caller frees *json). Blocking,
 * every step bounded by timeout_ms. 0, CE_IO (unreachable, with err),
 * CE_CORRUPT (not a cetcd peer) or the code a PEER_REFUSED carried. */
int peer_query_members(const char *url, int timeout_ms, uint64_t *cluster_id, char **json,
	char *err, size_t errlen);

#endif
