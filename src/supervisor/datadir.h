/* datadir.h - the data directory: its layout and the lock that keeps a
 * second cetcd off it.
 *
 *   <data-dir>/member/wal   raft log segments (or --wal-dir)
 *   <data-dir>/member/snap  raft snapshots
 *   <data-dir>/member/db    the Berkeley DB environment
 *   <data-dir>/member/lock  held with flock by the running cetcd, holds its pid
 */
#ifndef CETCD_SUPERVISOR_DATADIR_H
#define CETCD_SUPERVISOR_DATADIR_H

#include <stddef.h>

/* datadir_prepare creates the layout and takes the lock; returns the lock
 * fd (kept open for the daemon's life) or a negative CE_* code with a
 * message (CE_LOCKED when another process holds it). */
int datadir_prepare(const char *data_dir, const char *wal_dir, char *err, size_t errlen);

/* datadir_mkdirs is mkdir -p with mode 0700. */
int datadir_mkdirs(const char *path, char *err, size_t errlen);

#endif
