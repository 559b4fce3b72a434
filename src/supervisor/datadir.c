/* datadir.c - create the data directory layout and lock it. */
#include "config.h"
#include "supervisor/datadir.h"
#include "util/err.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

int datadir_mkdirs(const char *path, char *err, size_t errlen)
{
	char p[PATH_MAX];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(p))
		return errf(err, errlen, CE_INVAL, "bad directory path '%s'", path);
	memcpy(p, path, n + 1);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST)
			return errf(err, errlen, CE_IO, "mkdir %s: %s", p, strerror(errno));
		*s = '/';
	}
	if (mkdir(p, 0700) < 0 && errno != EEXIST)
		return errf(err, errlen, CE_IO, "mkdir %s: %s", p, strerror(errno));
	return 0;
}

/* lock_file takes the exclusive lock on path and writes our pid in it. */
static int lock_file(const char *path, const char *data_dir, char *err, size_t errlen)
{
	char pidbuf[32];
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0)
		return errf(err, errlen, CE_IO, "open %s: %s", path, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		ssize_t n = read(fd, pidbuf, sizeof(pidbuf) - 1);
		pidbuf[n > 0 ? n : 0] = '\0';
		close(fd);
		return errf(err, errlen, CE_LOCKED,
			"data dir %s is in use by another cetcd (pid %ld); refusing to start", data_dir,
			strtol(pidbuf, NULL, 10));
	}
	if (ftruncate(fd, 0) == 0) {
		int n = snprintf(pidbuf, sizeof(pidbuf), "%ld\n", (long)getpid());
		if (pwrite(fd, pidbuf, (size_t)n, 0) != n) {
			close(fd);
			return errf(err, errlen, CE_IO, "write %s: %s", path, strerror(errno));
		}
	}
	return fd;
}

int datadir_prepare(const char *data_dir, const char *wal_dir, char *err, size_t errlen)
{
	static const char *const subs[] = { "member", "member/snap", "member/db" };
	char path[PATH_MAX];
	int rc;

	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", data_dir, subs[i]);
		if ((rc = datadir_mkdirs(path, err, errlen)) != 0)
			return rc;
	}
	if (wal_dir && wal_dir[0])
		snprintf(path, sizeof(path), "%s", wal_dir);
	else
		snprintf(path, sizeof(path), "%s/member/wal", data_dir);
	if ((rc = datadir_mkdirs(path, err, errlen)) != 0)
		return rc;
	snprintf(path, sizeof(path), "%s/member/lock", data_dir);
	return lock_file(path, data_dir, err, errlen);
}

int datadir_prepare_proxy(const char *data_dir, char *err, size_t errlen)
{
	char path[PATH_MAX];
	int rc;

	snprintf(path, sizeof(path), "%s/proxy", data_dir);
	if ((rc = datadir_mkdirs(path, err, errlen)) != 0)
		return rc;
	snprintf(path, sizeof(path), "%s/proxy/lock", data_dir);
	return lock_file(path, data_dir, err, errlen);
}

void datadir_discard_member(const char *data_dir, const char *wal_dir, int lock_fd)
{
	static const char *const subs[] = { "member/wal", "member/snap", "member/db", "member" };
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/member/lock", data_dir);
	unlink(path);
	close(lock_fd);
	if (wal_dir && wal_dir[0])
		rmdir(wal_dir);
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", data_dir, subs[i]);
		rmdir(path); /* only if empty: nothing written is lost */
	}
}

int datadir_identify(const char *data_dir, char *err, size_t errlen)
{
	char path[PATH_MAX];
	struct stat st;
	int m, p;

	snprintf(path, sizeof(path), "%s/member", data_dir);
	m = stat(path, &st) == 0 && S_ISDIR(st.st_mode);
	snprintf(path, sizeof(path), "%s/proxy", data_dir);
	p = stat(path, &st) == 0 && S_ISDIR(st.st_mode);
	if (m && p)
		return errf(err, errlen, CE_INVAL,
			"invalid datadir. Both member and proxy directories exist.");
	return m ? DATADIR_MEMBER : p ? DATADIR_PROXY : DATADIR_EMPTY;
}
