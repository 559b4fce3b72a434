/* segment.c - WAL segment files: naming, listing, atomic creation (temp
 * file + fsync + rename + directory fsync) and the low-level write/sync
 * helpers the writer shares. */
#include "config.h"
#include "wal/segment.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/err.h"

void wal_seg_name(char out[WAL_SEG_NAME_MAX], uint64_t seq, uint64_t index)
{
	snprintf(out, WAL_SEG_NAME_MAX, "%016" PRIx64 "-%016" PRIx64 ".wal", seq, index);
}

static int parse_hex16(const char *s, uint64_t *v)
{
	uint64_t x = 0;

	for (int i = 0; i < 16; i++) {
		char c = s[i];
		int d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else
			return 0;
		x = x << 4 | (uint64_t)d;
	}
	*v = x;
	return 1;
}

int wal_seg_parse_name(const char *name, uint64_t *seq, uint64_t *index)
{
	if (strlen(name) != 37 || name[16] != '-' || strcmp(name + 33, ".wal") != 0)
		return 0;
	return parse_hex16(name, seq) && parse_hex16(name + 17, index);
}

static int is_tmp_name(const char *name)
{
	size_t n = strlen(name);
	uint64_t s, i;
	char base[WAL_SEG_NAME_MAX];

	if (n != 41 || strcmp(name + 37, ".tmp") != 0)
		return 0;
	memcpy(base, name, 37);
	base[37] = '\0';
	return wal_seg_parse_name(base, &s, &i);
}

static int seg_cmp(const void *a, const void *b)
{
	const struct wal_seg *x = a, *y = b;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int seg_push(struct wal_seg **v, size_t *n, size_t *cap, uint64_t seq, uint64_t index)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		struct wal_seg *p = realloc(*v, nc * sizeof(*p));
		if (p == NULL)
			return CE_NOMEM;
		*v = p;
		*cap = nc;
	}
	(*v)[*n].seq = seq;
	(*v)[*n].index = index;
	(*n)++;
	return 0;
}

int wal_seg_list(int dirfd, int remove_tmp, struct wal_seg **out, size_t *n, char *err, size_t errlen)
{
	struct wal_seg *v = NULL;
	size_t cnt = 0, cap = 0;
	struct dirent *de;
	DIR *d;
	int fd, rc = 0;

	*out = NULL;
	*n = 0;
	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		rc = errf(err, errlen, CE_IO, "list segments: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return rc;
	}
	while ((de = readdir(d)) != NULL) {
		uint64_t seq, index;
		if (remove_tmp && is_tmp_name(de->d_name)) {
			/* A crash during wal_seg_create: never renamed, never used. */
			if (unlinkat(dirfd, de->d_name, 0) != 0 && errno != ENOENT) {
				rc = errf(err, errlen, CE_IO, "remove %s: %s", de->d_name, strerror(errno));
				goto out;
			}
			continue;
		}
		if (!wal_seg_parse_name(de->d_name, &seq, &index))
			continue;
		if ((rc = seg_push(&v, &cnt, &cap, seq, index)) != 0) {
			errf(err, errlen, rc, "list segments: out of memory");
			goto out;
		}
	}
	if (cnt > 1)
		qsort(v, cnt, sizeof(*v), seg_cmp);
	for (size_t i = 1; i < cnt; i++) {
		if (v[i].seq == v[i - 1].seq) {
			rc = errf(err, errlen, CE_CORRUPT, "two segments with sequence %016" PRIx64, v[i].seq);
			goto out;
		}
	}
out:
	closedir(d);
	if (rc != 0) {
		free(v);
		return rc;
	}
	*out = v;
	*n = cnt;
	return 0;
}

int wal_write_all(int fd, const void *p, size_t n, uint64_t off)
{
	const uint8_t *q = p;

	while (n > 0) {
		ssize_t w = pwrite(fd, q, n, (off_t)off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		q += w;
		n -= (size_t)w;
		off += (uint64_t)w;
	}
	return 0;
}

int wal_preallocate(int fd, uint64_t size)
{
	struct stat st;

	if (fstat(fd, &st) != 0)
		return -errno;
	if ((uint64_t)st.st_size >= size)
		return 0;
#ifdef HAVE_FALLOCATE
	if (fallocate(fd, 0, 0, (off_t)size) == 0)
		return 0;
	if (errno != EOPNOTSUPP && errno != ENOSYS)
		return -errno;
#endif
	/* No real preallocation here: a sparse file still reads as zeros. */
	if (ftruncate(fd, (off_t)size) != 0)
		return -errno;
	return 0;
}

int wal_timed_sync(int fd, int datasync, struct wal_stats *stats)
{
	struct timespec a, b;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &a);
	rc = datasync ? fdatasync(fd) : fsync(fd);
	if (rc != 0)
		return -errno;
	clock_gettime(CLOCK_MONOTONIC, &b);
	if (stats != NULL) {
		uint64_t ns = (uint64_t)(b.tv_sec - a.tv_sec) * 1000000000u +
			      (uint64_t)b.tv_nsec - (uint64_t)a.tv_nsec;
		uint64_t bound = 1000000; /* 1 ms, doubling: etcd's buckets */
		stats->fsyncs++;
		stats->fsync_ns += ns;
		for (int i = 0; i < WAL_FSYNC_BUCKETS; i++, bound *= 2)
			if (ns <= bound)
				stats->fsync_buckets[i]++;
	}
	return 0;
}

int wal_fsync_dir(int dirfd, char *err, size_t errlen)
{
	if (fsync(dirfd) != 0)
		return errf(err, errlen, CE_IO, "fsync wal directory: %s", strerror(errno));
	return 0;
}

int wal_seg_create(int dirfd, uint64_t seq, uint64_t index, const void *init, size_t len,
		uint64_t prealloc, int *fdout, struct wal_stats *stats, char *err, size_t errlen)
{
	char name[WAL_SEG_NAME_MAX], tmp[WAL_SEG_NAME_MAX + 8];
	int fd, rc;

	wal_seg_name(name, seq, index);
	snprintf(tmp, sizeof(tmp), "%s.tmp", name);
	fd = openat(dirfd, tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return errf(err, errlen, CE_IO, "create %s: %s", tmp, strerror(errno));
	if ((rc = wal_write_all(fd, init, len, 0)) != 0) {
		errf(err, errlen, CE_IO, "write %s: %s", tmp, strerror(-rc));
		goto fail;
	}
	if ((rc = wal_preallocate(fd, prealloc)) != 0) {
		errf(err, errlen, CE_IO, "preallocate %s: %s", tmp, strerror(-rc));
		goto fail;
	}
	/* Full fsync: the file size and extents must be durable too. */
	if ((rc = wal_timed_sync(fd, 0, stats)) != 0) {
		errf(err, errlen, CE_IO, "fsync %s: %s", tmp, strerror(-rc));
		goto fail;
	}
	if (renameat(dirfd, tmp, dirfd, name) != 0) {
		errf(err, errlen, CE_IO, "rename %s: %s", tmp, strerror(errno));
		goto fail;
	}
	if ((rc = wal_fsync_dir(dirfd, err, errlen)) != 0) {
		/* The rename may or may not survive a crash; either is a
		 * consistent log, but we cannot promise durability now. */
		close(fd);
		return rc;
	}
	if (stats != NULL)
		stats->bytes_written += len;
	*fdout = fd;
	return 0;
fail:
	close(fd);
	unlinkat(dirfd, tmp, 0);
	return CE_IO;
}

int wal_seg_remove(int dirfd, uint64_t seq, uint64_t index, char *err, size_t errlen)
{
	char name[WAL_SEG_NAME_MAX];

	wal_seg_name(name, seq, index);
	if (unlinkat(dirfd, name, 0) != 0 && errno != ENOENT)
		return errf(err, errlen, CE_IO, "remove %s: %s", name, strerror(errno));
	return 0;
}
