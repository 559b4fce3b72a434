/* dbsnap.h - client database snapshots (etcd's Maintenance/Snapshot and
 * "snapshot restore"): the SHA-256 a streamed snapshot ends with, and the
 * restore of such a stream into a fresh data directory.
 *
 * A client snapshot is the storage environment's snapshot file (format:
 * store/snap.h) followed by the SHA-256 of every byte before it, as etcd
 * appends a SHA-256 to its bbolt file, so a saved file can be verified.
 *
 * Library code: no process state, usable by the cetcd binary (the api
 * worker hashes the stream it sends) and by offline tools (restore).
 */
#ifndef CETCD_STORED_DBSNAP_H
#define CETCD_STORED_DBSNAP_H

#include <stddef.h>
#include <stdint.h>

#include "store/snap.h"

#define DBSNAP_SHA256_LEN 32u

/* FIPS 180-4 SHA-256, streaming. Caller-owned state, no allocation. */
struct dbsnap_sha256 {
	uint32_t h[8];
	uint64_t total; /* bytes hashed */
	uint8_t block[64];
	size_t n; /* bytes waiting in block */
};
_Static_assert(sizeof(((struct dbsnap_sha256 *)0)->block) == 64, "sha-256 block size");

void dbsnap_sha256_init(struct dbsnap_sha256 *s);
void dbsnap_sha256_update(struct dbsnap_sha256 *s, const void *p, size_t n);
void dbsnap_sha256_final(struct dbsnap_sha256 *s, uint8_t out[DBSNAP_SHA256_LEN]);

/* dbsnap_verify checks that the file at path (a saved client snapshot)
 * ends with the SHA-256 of the bytes before it. 0, CE_CORRUPT (hash
 * mismatch or a file shorter than the hash) or CE_IO. Reads in bounded
 * memory. */
int dbsnap_verify(const char *path, char *err, size_t errlen);

/* dbsnap_restore builds a new member database in <data_dir>/member/db from
 * a saved client snapshot at path (what etcdctl snapshot restore does with
 * etcd's file): it checks the SHA-256 trailer, keeps the v3 data (MVCC
 * keys, leases and the MVCC state) and drops the v2 store and the raft
 * position (applied index and term become 0), so the directory starts as a
 * new cluster that bootstraps its own membership from its flags and serves
 * the snapshot's v3 keys and revisions. <data_dir>/member/db must not
 * exist (CE_EXISTS). A scratch file <data_dir>/member/snap/restore.tmp is
 * used and removed. 0, CE_CORRUPT, CE_VERSION, CE_EXISTS, CE_IO, CE_DB.
 * info (may be NULL) gets the restored records and the source header. */
int dbsnap_restore(const char *path, const char *data_dir, struct store_snap_info *info, char *err,
	size_t errlen);

#endif
