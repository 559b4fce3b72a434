/* recover.h - internal to src/wal: scanning the segments at open time and
 * replaying their records into a struct wal_recovered. Read-only: the
 * writer (wal.c) does the repairs recovery asks for.
 */
#ifndef CETCD_WAL_RECOVER_H
#define CETCD_WAL_RECOVER_H

#include <stddef.h>
#include <stdint.h>

#include "wal/segment.h"
#include "wal/wal.h"

/* Where the writer resumes in the last segment. */
struct wal_tail {
	uint64_t end_off;    /* just past the last good record */
	uint64_t dirty_end;  /* debris to zero lies in [end_off, dirty_end) */
	uint64_t data_start; /* just past the segment's header and metadata */
	uint64_t file_size;
};

/* wal_recover scans segs[0..n) (sorted, n >= 1) in dirfd and fills rec
 * (which must be zeroed) and tail. On error rec may be partly filled; the
 * caller clears it with wal_recovered_close. */
int wal_recover(int dirfd, const struct wal_seg *segs, size_t n, struct wal_recovered *rec,
		struct wal_tail *tail, char *err, size_t errlen);

#endif
