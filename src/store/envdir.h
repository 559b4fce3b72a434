/* envdir.h - replace the environment directory crash-safely.
 *
 * A restored database is built beside the live one (<live>.new) and swapped
 * in by two renames: <live> -> <live>.old, <live>.new -> <live>, then
 * <live>.old is removed and the parent directory fsynced. A crash may stop
 * anywhere in that sequence; store_envdir_recover, run before the writer
 * opens the environment, finishes or undoes it:
 *   <live> missing, <live>.new present -> the new one was complete (it is
 *     only renamed after it is synced): finish the swap;
 *   <live> missing, only <live>.old    -> undo: put the old one back;
 *   then any leftover <live>.old or <live>.new is removed (a .new next to a
 *   live directory may be half-built; the raft worker sends it again).
 * No process may have the environment open during either call.
 */
#ifndef CETCD_STORE_ENVDIR_H
#define CETCD_STORE_ENVDIR_H

#include <stddef.h>

/* store_dir_remove deletes path and everything below it (a missing path is
 * fine). 0 or CE_IO. */
int store_dir_remove(const char *path, char *err, size_t errlen);

/* store_dir_fsync fsyncs a directory (makes renames and creations in it
 * durable). 0 or CE_IO. */
int store_dir_fsync(const char *dir, char *err, size_t errlen);
/* store_fsync_parent fsyncs the directory that holds path (after a rename
 * or creation of path). */
int store_fsync_parent(const char *path, char *err, size_t errlen);

/* store_envdir_swap puts fresh in place of live as described above. 0 or
 * CE_IO (then store_envdir_recover sorts out what is left). */
int store_envdir_swap(const char *live, const char *fresh, char *err, size_t errlen);

/* store_envdir_recover finishes or undoes an interrupted swap of live (the
 * fresh directory being <live>.new). *what (may be NULL) gets a short note
 * of what was done, "" if nothing. 0 or CE_IO. */
int store_envdir_recover(const char *live, const char **what, char *err, size_t errlen);

#endif
