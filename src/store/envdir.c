/* envdir.c - swap a restored environment directory in crash-safely, and
 * finish or undo a swap a crash interrupted (see envdir.h). */
#include "config.h"
#include "store/envdir.h"

#include "util/err.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		return rmdir(path) == 0 || errno == ENOENT ? 0 : -1;
	return unlink(path) == 0 || errno == ENOENT ? 0 : -1;
}

int store_dir_remove(const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (lstat(path, &st) != 0) {
		if (errno == ENOENT)
			return 0;
		return errf(err, errlen, CE_IO, "stat %s: %s", path, strerror(errno));
	}
	if (!S_ISDIR(st.st_mode)) {
		if (unlink(path) != 0)
			return errf(err, errlen, CE_IO, "unlink %s: %s", path, strerror(errno));
		return 0;
	}
	if (nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
		return errf(err, errlen, CE_IO, "remove %s: %s", path, strerror(errno));
	return 0;
}

int store_dir_fsync(const char *dir, char *err, size_t errlen)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return errf(err, errlen, CE_IO, "open %s: %s", dir, strerror(errno));
	if (fsync(fd) != 0)
		rc = errf(err, errlen, CE_IO, "fsync %s: %s", dir, strerror(errno));
	close(fd);
	return rc;
}

/* parent_of writes the directory holding path ("." if none). */
static void parent_of(char *out, size_t n, const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		snprintf(out, n, ".");
	else if (slash == path)
		snprintf(out, n, "/");
	else
		snprintf(out, n, "%.*s", (int)(slash - path), path);
}

int store_fsync_parent(const char *path, char *err, size_t errlen)
{
	char parent[PATH_MAX];

	parent_of(parent, sizeof(parent), path);
	return store_dir_fsync(parent, err, errlen);
}

static int exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

int store_envdir_swap(const char *live, const char *fresh, char *err, size_t errlen)
{
	char old[PATH_MAX], parent[PATH_MAX];
	int rc;

	if (snprintf(old, sizeof(old), "%s.old", live) >= (int)sizeof(old))
		return errf(err, errlen, CE_INVAL, "path too long: %s", live);
	parent_of(parent, sizeof(parent), live);
	if ((rc = store_dir_remove(old, err, errlen)) != 0)
		return rc;
	if (exists(live) && rename(live, old) != 0)
		return errf(err, errlen, CE_IO, "rename %s to %s: %s", live, old, strerror(errno));
	if (rename(fresh, live) != 0)
		return errf(err, errlen, CE_IO, "rename %s to %s: %s", fresh, live, strerror(errno));
	/* The new directory is in place once the parent is synced; the old
	 * one is garbage from then on, whether or not its removal finishes. */
	if ((rc = store_dir_fsync(parent, err, errlen)) != 0)
		return rc;
	if ((rc = store_dir_remove(old, err, errlen)) != 0)
		return rc;
	return store_dir_fsync(parent, err, errlen);
}

int store_envdir_recover(const char *live, const char **what, char *err, size_t errlen)
{
	char old[PATH_MAX], fresh[PATH_MAX], parent[PATH_MAX];
	const char *done = "";
	int rc;

	if (what)
		*what = "";
	if (snprintf(old, sizeof(old), "%s.old", live) >= (int)sizeof(old) ||
	    snprintf(fresh, sizeof(fresh), "%s.new", live) >= (int)sizeof(fresh))
		return errf(err, errlen, CE_INVAL, "path too long: %s", live);
	parent_of(parent, sizeof(parent), live);
	if (!exists(live) && exists(fresh)) {
		if (rename(fresh, live) != 0)
			return errf(err, errlen, CE_IO, "rename %s to %s: %s", fresh, live, strerror(errno));
		done = "finished an interrupted database swap";
	} else if (!exists(live) && exists(old)) {
		if (rename(old, live) != 0)
			return errf(err, errlen, CE_IO, "rename %s to %s: %s", old, live, strerror(errno));
		done = "undid an interrupted database swap";
	} else if (exists(fresh)) {
		done = "removed a partly restored database";
	} else if (exists(old)) {
		done = "removed the database a swap replaced";
	}
	if ((rc = store_dir_remove(fresh, err, errlen)) != 0 ||
	    (rc = store_dir_remove(old, err, errlen)) != 0)
		return rc;
	if (*done && (rc = store_dir_fsync(parent, err, errlen)) != 0)
		return rc;
	if (what)
		*what = done;
	return 0;
}
