/* datadir.h - the data directory: its layout and the lock that keeps a
 * second cetcd off it.
 *
 *   <data-dir>/member/wal   raft log segments (or --wal-dir)
 *   <data-dir>/member/snap  raft snapshots
 *   <data-dir>/member/db    the Berkeley DB environment
 *   <data-dir>/member/lock  held with flock by the running cetcd, holds its pid
 *   <data-dir>/proxy/       a proxy's instead (etcd's layout): cluster, lock
 */
#ifndef CETCD_SUPERVISOR_DATADIR_H
#define CETCD_SUPERVISOR_DATADIR_H

#include <stddef.h>

/* datadir_prepare creates the layout and takes the lock; returns the lock
 * fd (kept open for the daemon's life) or a negative CE_* code with a
 * message (CE_LOCKED when another process holds it). */
int datadir_prepare(const char *data_dir, const char *wal_dir, char *err, size_t errlen);

/* datadir_prepare_proxy makes <data-dir>/proxy and locks it; the lock fd
 * or a negative CE_* code, as datadir_prepare. */
int datadir_prepare_proxy(const char *data_dir, char *err, size_t errlen);

/* datadir_discard_member undoes datadir_prepare for a member that turned
 * out to be a proxy (discovery found the cluster full): unlocks and
 * removes the member directories, which are still empty. */
void datadir_discard_member(const char *data_dir, const char *wal_dir, int lock_fd);

/* datadir_identify tells what a data dir holds, as etcd's
 * identifyDataDirOrDie: DATADIR_EMPTY, DATADIR_MEMBER or DATADIR_PROXY,
 * or CE_INVAL when it has both. */
enum { DATADIR_EMPTY = 0, DATADIR_MEMBER = 1, DATADIR_PROXY = 2 };
int datadir_identify(const char *data_dir, char *err, size_t errlen);

/* datadir_mkdirs is mkdir -p with mode 0700. */
int datadir_mkdirs(const char *path, char *err, size_t errlen);

#endif
