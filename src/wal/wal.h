/* wal.h - cetcd's write-ahead log: durable raft state for the raft worker.
 *
 * A WAL is a directory of preallocated segment files holding CRC-checked
 * records: raft entries, hard states, snapshot markers and the member's
 * metadata. The format and the recovery rules are in src/wal/README.
 *
 * Group commit: the wal_append_* calls only encode into an in-memory buffer
 * (rarely they write it out when it grows large, or cut a new segment);
 * wal_sync() writes everything pending and runs one fdatasync. The raft
 * worker appends all of one event-loop turn's state and calls wal_sync()
 * once before it sends messages or acknowledges anything.
 *
 * A struct wal is used by one thread. It does not lock the directory: the
 * supervisor's data-dir lock keeps a second process out.
 *
 * Errors are 0 or a negative CE_* code (util/err.h). Functions that take
 * err/errlen put a message there; the others leave one in wal_last_error().
 * After a failed write or sync the wal is "failed": every later append or
 * sync returns the same code, because what reached the disk is unknown
 * (the caller should exit and recover from the files on restart).
 */
#ifndef CETCD_WAL_WAL_H
#define CETCD_WAL_WAL_H

#include <stddef.h>
#include <stdint.h>

#define WAL_DEFAULT_SEGMENT_BYTES (64ull << 20)
#define WAL_DEFAULT_BUFFER_BYTES (1u << 20)

struct wal_opts {
	uint64_t segment_bytes; /* preallocated size of a segment; 0 = 64 MiB */
	size_t buffer_bytes;    /* write out (without sync) past this; 0 = 1 MiB */
};

struct wal_entry {
	uint64_t index;
	uint64_t term;
	uint8_t type;  /* raft entry type, opaque to the WAL */
	uint8_t *data; /* malloc'd copy, NULL when len == 0 */
	size_t len;
};

struct wal_hardstate {
	uint64_t term;
	uint64_t vote;
	uint64_t commit;
};

struct wal_snapshot {
	uint64_t index; /* state up to here lives in a snapshot elsewhere */
	uint64_t term;
	uint8_t *conf;  /* the caller's bytes recorded with it (membership), or NULL */
	size_t conf_len;
};

/* What wal_open replays. Caller-owned: wal_open fills it, the caller frees
 * it with wal_recovered_close (also safe after a failed wal_open). */
struct wal_recovered {
	uint64_t member_id;
	uint64_t cluster_id;
	uint8_t *meta; /* the extra metadata bytes (latest segment's), may be NULL */
	size_t metalen;

	int has_hardstate;
	struct wal_hardstate hardstate; /* the latest one written */
	int has_snapshot;
	struct wal_snapshot snapshot;   /* the latest marker written */

	/* Entries after the snapshot marker, contiguous and in index order,
	 * with overwritten (conflicting) suffixes already replaced. */
	struct wal_entry *entries;
	size_t n_entries;
	/* Index of the last entry or of the snapshot, whichever is later: the
	 * next entry appended must have an index <= last_index + 1. */
	uint64_t last_index;

	/* Torn tail: the last segment ended in an incomplete or bad record with
	 * nothing valid after it. The log was cut at torn_offset of
	 * torn_segment and torn_bytes of debris were zeroed. The caller logs it. */
	int torn;
	char torn_segment[48];
	uint64_t torn_offset;
	uint64_t torn_bytes;

	size_t segments; /* how many segment files were read */
};

/* Counters for /metrics. fsync_buckets[i] counts syncs that took at most
 * 2^i ms (cumulative, as a Prometheus histogram: 1 ms .. 8.192 s). */
#define WAL_FSYNC_BUCKETS 14
struct wal_stats {
	uint64_t fsyncs;        /* fsync/fdatasync calls on segment files */
	uint64_t fsync_ns;      /* their cumulative duration */
	uint64_t fsync_buckets[WAL_FSYNC_BUCKETS];
	uint64_t bytes_written; /* record bytes written to segment files */
	uint64_t records;       /* records appended */
	uint64_t segments_created;
	uint64_t segments_released;
};

struct wal;

/* wal_create makes a new empty log in dir (created with its parents if
 * missing) whose every segment carries member_id, cluster_id and the meta
 * bytes (copied). CE_EXISTS if dir already holds a segment. opts may be
 * NULL. Open it with wal_open afterwards. */
int wal_create(const char *dir, const struct wal_opts *opts, uint64_t member_id,
	       uint64_t cluster_id, const void *meta, size_t metalen, char *err, size_t errlen);

/* wal_exists returns 1 if dir holds at least one segment file, else 0. */
int wal_exists(const char *dir);

/* wal_read_ids reads the member and cluster ids from the first segment's
 * metadata without replaying the log (the supervisor's identity check).
 * 0, CE_NOTFOUND (no segment) or CE_CORRUPT/CE_IO with a message. */
int wal_read_ids(const char *dir, uint64_t *member_id, uint64_t *cluster_id, char *err,
	size_t errlen);

/* wal_open recovers the log in dir into *rec (see struct wal_recovered and
 * README "Recovery") and returns a writer positioned after the last good
 * record. A torn tail is cut and reported in rec; anything else wrong is
 * CE_CORRUPT (CE_VERSION for an unknown format version, CE_NOTFOUND for no
 * log) with a message like "open wal: segment <name>: bad crc at offset N".
 * On failure *out is NULL and rec is empty. */
int wal_open(struct wal **out, const char *dir, const struct wal_opts *opts,
	     struct wal_recovered *rec, char *err, size_t errlen);

/* wal_append_entry appends a raft entry. index must be in
 * [snapshot index + 1, last_index + 1] (and >= 1); an index <= the last one
 * overwrites the log from there (follower conflict). CE_INVAL otherwise.
 * data is copied. */
int wal_append_entry(struct wal *w, uint64_t index, uint64_t term, uint8_t type,
		     const void *data, size_t len);

int wal_append_hardstate(struct wal *w, uint64_t term, uint64_t vote, uint64_t commit);

/* wal_append_snapshot records that the state up to index is in a snapshot;
 * replay drops entries at or below it. Append it before entries that
 * follow a snapshot installed beyond the current last index. */
int wal_append_snapshot(struct wal *w, uint64_t index, uint64_t term);
/* wal_append_snapshot_conf also records conf (copied): the raft worker's
 * membership as of index, which replay gives back in rec->snapshot.conf.
 * A marker without conf keeps the previous marker's conf. */
int wal_append_snapshot_conf(struct wal *w, uint64_t index, uint64_t term,
	const void *conf, size_t conf_len);

/* wal_sync writes every pending record and makes it durable with one
 * fdatasync. A no-op (no syscall) when nothing was appended since the last
 * sync. */
int wal_sync(struct wal *w);

/* wal_pending returns the bytes appended since the last wal_sync. */
uint64_t wal_pending(const struct wal *w);

/* wal_release_before deletes the oldest segments whose entries all have an
 * index < index (they are covered by a snapshot). The current segment is
 * never deleted. Hard state and snapshot marker survive: every segment
 * starts with a copy of them. */
int wal_release_before(struct wal *w, uint64_t index);

/* wal_last_index is what struct wal_recovered's last_index would be now. */
uint64_t wal_last_index(const struct wal *w);

void wal_get_stats(const struct wal *w, struct wal_stats *out);

/* wal_last_error describes the last failed call that has no err buffer. */
const char *wal_last_error(const struct wal *w);

/* wal_close closes the files. It does not sync: appends since the last
 * wal_sync may be lost. NULL is allowed. */
void wal_close(struct wal *w);

/* wal_recovered_close frees what wal_open put in rec and empties it. */
void wal_recovered_close(struct wal_recovered *rec);

#endif
