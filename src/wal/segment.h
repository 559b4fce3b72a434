/* segment.h - internal to src/wal: segment file names, listing, atomic
 * creation and durable deletion. All paths are relative to an open
 * directory fd so a renamed data dir cannot split a WAL.
 */
#ifndef CETCD_WAL_SEGMENT_H
#define CETCD_WAL_SEGMENT_H

#include <stddef.h>
#include <stdint.h>

#include "wal/wal.h"

/* "%016llx-%016llx.wal" plus NUL, and room for a ".tmp" suffix. */
#define WAL_SEG_NAME_MAX 48

struct wal_seg {
	uint64_t seq;   /* 0, 1, 2, ... with no gaps */
	uint64_t index; /* raft index of the first entry the segment was cut for */
};

void wal_seg_name(char out[WAL_SEG_NAME_MAX], uint64_t seq, uint64_t index);

/* wal_seg_parse_name returns 1 and fills seq/index for a segment name,
 * 0 for any other name. */
int wal_seg_parse_name(const char *name, uint64_t *seq, uint64_t *index);

/* wal_seg_list returns the segments in dirfd sorted by sequence (caller
 * frees *out). With remove_tmp, leftover "<name>.tmp" files from a crash
 * during segment creation are deleted. Two segments with one sequence are
 * CE_CORRUPT. */
int wal_seg_list(int dirfd, int remove_tmp, struct wal_seg **out, size_t *n, char *err, size_t errlen);

/* wal_seg_create writes init[0..len) to a temp file, preallocates it to
 * prealloc bytes, fsyncs it, renames it into place and fsyncs the
 * directory, so a segment is either absent or whole. *fdout gets an O_RDWR
 * fd for the new segment. stats (may be NULL) counts fsyncs and bytes. */
int wal_seg_create(int dirfd, uint64_t seq, uint64_t index, const void *init, size_t len,
		uint64_t prealloc, int *fdout, struct wal_stats *stats, char *err, size_t errlen);

/* wal_seg_remove unlinks a segment; the caller fsyncs the directory. */
int wal_seg_remove(int dirfd, uint64_t seq, uint64_t index, char *err, size_t errlen);

/* wal_fsync_dir makes renames and unlinks in dirfd durable. */
int wal_fsync_dir(int dirfd, char *err, size_t errlen);

/* wal_preallocate extends fd to at least size bytes of zeros, with
 * fallocate where the file system supports it. */
int wal_preallocate(int fd, uint64_t size);

/* wal_write_all writes all of p at off, retrying short writes and EINTR. */
int wal_write_all(int fd, const void *p, size_t n, uint64_t off);

/* wal_timed_sync runs fdatasync (datasync) or fsync and records the count
 * and duration in stats (may be NULL). Returns 0 or -errno. */
int wal_timed_sync(int fd, int datasync, struct wal_stats *stats);

#endif
