/* frame.h - the framed, versioned messages cetcd's processes exchange over
 * Unix-domain stream sockets.
 *
 * A frame is a fixed 24-byte little-endian header followed by `len` payload
 * bytes. Stream sockets (not SOCK_SEQPACKET) because a frame may carry a raft
 * entry up to --max-request-bytes and more, beyond a datagram's size limit.
 */
#ifndef CETCD_IPC_FRAME_H
#define CETCD_IPC_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define IPC_MAGIC 0xCE7Du
#define IPC_VERSION 1u
#define IPC_HDR_SIZE 24u
/* Largest payload accepted; a peer sending more is broken and is cut off. */
#define IPC_MAX_PAYLOAD (256u * 1024u * 1024u)

/* Message types; the comment says who sends it to whom. */
enum ipc_type {
	IPC_HELLO = 1,          /* any -> any: role, slot, generation, then role data */
	IPC_PROPOSE = 2,        /* api|store -> raft: a proposal (see proposal.h) */
	IPC_PROPOSE_ERR = 3,    /* raft -> api: proposal refused: u32 code, message */
	IPC_APPLY = 4,          /* raft -> store: committed entry: u64 index, u64 term, u8 type, data */
	IPC_APPLIED = 5,        /* store -> raft: u64 applied index, u64 durable index */
	IPC_RESULT = 6,         /* store -> api: the outcome of one proposal */
	IPC_EVENT = 7,          /* store -> api: one v2 watch event */
	IPC_READ_INDEX = 8,     /* api -> raft: ask for a linearizable read index */
	IPC_READ_INDEX_RESP = 9, /* raft -> api: u64 index (0 = failed) */
	/* raft -> store: write a database snapshot file at the applied index
	 * (no payload; the store answers when the current batch is done). */
	IPC_SNAP_SAVE = 10,
	/* store -> raft: u64 index, u64 term, then the membership at that
	 * index as JSON (see proto.h "membership JSON"); the file is
	 * <data-dir>/member/snap/<index as %016x>.snap.db. u64 index 0 and a
	 * message instead of JSON: the snapshot failed. */
	IPC_SNAP_SAVED = 11,
	/* raft -> store: replace the database with the snapshot file at
	 * u64 index, u64 term, then the file path; the store answers with
	 * IPC_APPLIED once it is applied through index. */
	IPC_RESTORE = 12,
	/* api -> raft: a configuration change: the entry data as it goes in
	 * the log: struct raft_conf_change (9 bytes), then a proto envelope
	 * of kind PROTO_CONF whose body is the member JSON. */
	IPC_PROPOSE_CONF = 13,
	/* store -> api: the v3 watch events of one revision: u64 revision,
	 * then mvccpb.Event messages (with prev_kv) as field 11, the way a
	 * WatchResponse carries them */
	IPC_EVENT_V3 = 14,
	/* api -> store: Maintenance/Defragment of this member (no payload);
	 * the store answers with an IPC_RESULT for req_id when it is done
	 * (src/stored/defrag.c). 16 stays reserved for the defragment work. */
	IPC_DEFRAG = 15,
	/* api -> store: write a point-in-time database snapshot file for a
	 * client (Maintenance/Snapshot; no payload). Answered with IPC_RESULT
	 * (same req_id): status 200 and the file's path as body, or the gRPC
	 * code and etcd's message. The api worker deletes the file. */
	IPC_DBSNAP = 17,
	/* api -> raft: Maintenance/MoveLeader: u64 target member id. Answered
	 * with IPC_PROPOSE_ERR (same req_id): u32 gRPC code, etcd's message;
	 * code 0 with no message when the target has become leader. */
	IPC_MOVE_LEADER = 19
	/* 18 and 20 are reserved for more of the above. */
};

struct ipc_hdr {
	uint16_t magic;
	uint8_t version;
	uint8_t type;
	uint32_t len;    /* payload bytes after the header */
	uint64_t req_id; /* request id chosen by the origin, echoed in replies */
	uint32_t origin; /* worker slot that originated the request */
	uint32_t gen;    /* origin slot's generation (incarnation) */
};

/* ipc_hdr_pack writes the 24-byte wire form of h into out. */
void ipc_hdr_pack(const struct ipc_hdr *h, uint8_t out[IPC_HDR_SIZE]);

/* ipc_hdr_unpack parses a wire header; returns 0, CE_VERSION for a bad
 * magic or version, CE_TOOBIG for a payload over IPC_MAX_PAYLOAD. */
int ipc_hdr_unpack(struct ipc_hdr *h, const uint8_t in[IPC_HDR_SIZE]);

#endif
