/* snap.h - database snapshots: a consistent logical dump of every database
 * of the storage environment in one checksummed, streamable file, and the
 * restore that builds a fresh environment from such a file.
 *
 * The raft worker ships these files to followers that fell behind the
 * compacted log (the file is <data-dir>/member/snap/<index %016x>.snap.db),
 * so the format is versioned, position-independent and checked end to end.
 *
 * File format (all integers little-endian):
 *   header, 64 bytes: "CETCDSDB" | u32 version (1) | u32 header size (64) |
 *     u64 applied index | u64 term | i64 created (unix ns) | 20 zero bytes |
 *     u32 CRC-32C of bytes 0..59
 *   frames, each a 16-byte frame header and a body:
 *     u32 kind | u32 body length | u32 record count | u32 CRC-32C of the
 *     first 12 header bytes followed by the body
 *   kind 1, chunk: body = u8 name length, database name, then `count`
 *     records (u32 key length, key, u32 value length, value), in the
 *     database's key order; bodies are about STORE_SNAP_CHUNK bytes (one
 *     record may make a chunk bigger). A database may span many chunks.
 *   kind 2, trailer (last, exactly at the end of the file): body = u64 total
 *     records | u64 chunk count | u32 CRC-32C of every file byte before the
 *     trailer's frame header | u32 zero.
 * A reader needs at most one chunk in memory; any bad CRC, short read,
 * unknown kind or database name, or byte after the trailer is CE_CORRUPT
 * with the file and offset in the message.
 *
 * Which databases are dumped: the table store_snap_dbs (the v2 store and
 * the meta table today; a v3 store is one more row). A name missing from
 * the environment is skipped.
 */
#ifndef CETCD_STORE_SNAP_H
#define CETCD_STORE_SNAP_H

#include <stddef.h>
#include <stdint.h>
#include <db.h>

#define STORE_SNAP_MAGIC "CETCDSDB"
#define STORE_SNAP_VERSION 1u
#define STORE_SNAP_HDR_SIZE 64u
#define STORE_SNAP_FRAME_SIZE 16u
#define STORE_SNAP_CHUNK (1u << 20)
/* Largest chunk body a reader accepts (a v2 value is far smaller). */
#define STORE_SNAP_MAX_CHUNK (256u << 20)
/* File name suffix of database snapshots in <data-dir>/member/snap. */
#define STORE_SNAP_SUFFIX ".snap.db"

enum store_snap_kind { STORE_SNAP_CHUNK_KIND = 1, STORE_SNAP_TRAILER_KIND = 2 };

/* The header as it lands on disk (packed by hand; this states the layout). */
struct store_snap_hdr {
	char magic[8];
	uint32_t version;
	uint32_t hdr_size;
	uint64_t index;
	uint64_t term;
	int64_t created_ns;
	uint8_t zero[20];
	uint32_t crc;
};
_Static_assert(sizeof(struct store_snap_hdr) == STORE_SNAP_HDR_SIZE, "snapshot header layout");

struct store_snap_frame {
	uint32_t kind;
	uint32_t len;
	uint32_t count;
	uint32_t crc;
};
_Static_assert(sizeof(struct store_snap_frame) == STORE_SNAP_FRAME_SIZE, "snapshot frame layout");

/* store_snap_frame_encode fills the frame header f for body: kind, length,
 * record count and the CRC-32C of the first 12 header bytes and the body.
 * store_snap_frame_ok checks a read header's CRC against its body. Every
 * writer and reader of the format (the save, restore and info here, the
 * storage worker's filtering copy) goes through these two. */
void store_snap_frame_encode(uint8_t f[STORE_SNAP_FRAME_SIZE], uint32_t kind, const void *body,
                             size_t len, uint32_t count);
int store_snap_frame_ok(const uint8_t f[STORE_SNAP_FRAME_SIZE], const void *body, size_t len);

/* The databases a snapshot holds, NULL-terminated. */
extern const char *const store_snap_dbs[];

struct store_snap_info {
	uint64_t index;   /* applied raft index the dump reflects */
	uint64_t term;    /* its term */
	uint64_t records; /* save/restore: records written/loaded */
	uint64_t bytes;   /* save/restore: file size */
};

/* store_snap_save dumps every database of env to path: written to
 * <path>.tmp, fsynced, renamed, and the directory fsynced. The index and
 * term come from the meta table, read in the same transaction as the dump.
 * Precondition: the caller is the only writer and does not write until this
 * returns (the storage worker calls it between batches); the dump reads in
 * read-committed transactions so it never holds many locks. Memory use is
 * bounded by one chunk plus the largest record. On failure the .tmp file is
 * removed. 0, CE_IO, CE_DB or CE_NOMEM; info may be NULL. */
int store_snap_save(DB_ENV *env, const char *path, struct store_snap_info *info, char *err,
                    size_t errlen);

/* store_snap_restore builds a new environment in env_dir (which must not
 * exist: CE_EXISTS) from the snapshot file: it loads each chunk after
 * checking its CRC, checks the trailer, sets the meta table's applied index
 * and term to the header's, checkpoints, and leaves a closed environment
 * whose files are synced, ready to be renamed into place and opened with
 * recovery. On any failure (CE_CORRUPT for a bad or truncated file, with the
 * file name and offset in err; CE_VERSION; CE_IO; CE_DB) env_dir is removed
 * again, so nothing else is ever touched. info may be NULL. */
int store_snap_restore(const char *snap_path, const char *env_dir, struct store_snap_info *info,
                       char *err, size_t errlen);

/* store_snap_info reads and checks the header only (the function shares
 * its name with the struct: C keeps tags apart). 0, CE_CORRUPT, CE_VERSION
 * or CE_IO. (records and bytes: 0 and the file size.) */
int store_snap_info(const char *snap_path, struct store_snap_info *info, char *err,
                    size_t errlen);

#endif
