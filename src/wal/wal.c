/* wal.c - the WAL writer: create, open (recovery + repair), buffered
 * appends, group-commit sync, segment cuts and release of old segments. */
#include "config.h"
#include "wal/wal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/err.h"
#include "wal/record.h"
#include "wal/recover.h"
#include "wal/segment.h"

struct wal {
	int dirfd;
	uint64_t seg_bytes;
	size_t buffer_bytes;

	struct wal_seg *segs; /* on-disk segments, oldest first; last = current */
	size_t nsegs, capsegs;

	int fd;               /* current segment */
	uint64_t pending_off; /* file offset where the pending buffer goes */
	struct buf pending;   /* encoded records not yet written */
	uint64_t data_start;  /* end of the current segment's opening records */
	uint64_t unsynced;    /* bytes appended since the last sync */

	/* State every new segment starts with, so old ones can be released. */
	uint64_t last_index;
	uint64_t member_id, cluster_id;
	uint8_t *meta;
	size_t metalen;
	int has_hs, has_snap;
	struct wal_hardstate hs;
	struct wal_snapshot snap;

	struct wal_stats stats;
	int failed;
	char errmsg[256];
};

static void opts_resolve(const struct wal_opts *o, uint64_t *seg, size_t *bufb)
{
	*seg = (o != NULL && o->segment_bytes) ? o->segment_bytes : WAL_DEFAULT_SEGMENT_BYTES;
	*bufb = (o != NULL && o->buffer_bytes) ? o->buffer_bytes : WAL_DEFAULT_BUFFER_BYTES;
}

/* build_init encodes the records that open every segment. */
static int build_init(struct buf *b, uint64_t seq, uint64_t index, uint64_t member,
		      uint64_t cluster, const void *meta, size_t metalen,
		      const struct wal_hardstate *hs, const struct wal_snapshot *snap)
{
	uint8_t h[WAL_SEGHDR_LEN] = { 0 };
	uint8_t md[WAL_METADATA_FIXED];
	uint8_t f[WAL_HARDSTATE_LEN];
	int rc;

	memcpy(h, WAL_MAGIC, 8);
	le_put32(h + 8, WAL_FORMAT_VERSION);
	le_put64(h + 16, seq);
	le_put64(h + 24, index);
	le_put64(md, member);
	le_put64(md + 8, cluster);
	if ((rc = wal_rec_put(b, WAL_REC_SEGHDR, h, sizeof(h), NULL, 0)) != 0 ||
	    (rc = wal_rec_put(b, WAL_REC_METADATA, md, sizeof(md), meta, metalen)) != 0)
		return rc;
	if (snap != NULL) {
		le_put64(f, snap->index);
		le_put64(f + 8, snap->term);
		if ((rc = wal_rec_put(b, WAL_REC_SNAPSHOT, f, WAL_SNAPSHOT_LEN, snap->conf,
			     snap->conf_len)) != 0)
			return rc;
	}
	if (hs != NULL) {
		le_put64(f, hs->term);
		le_put64(f + 8, hs->vote);
		le_put64(f + 16, hs->commit);
		if ((rc = wal_rec_put(b, WAL_REC_HARDSTATE, f, WAL_HARDSTATE_LEN, NULL, 0)) != 0)
			return rc;
	}
	return 0;
}

static int mkdir_p(const char *dir, char *err, size_t errlen)
{
	char path[4096];
	size_t n = strlen(dir);

	if (n == 0 || n >= sizeof(path))
		return errf(err, errlen, CE_INVAL, "bad wal directory name");
	memcpy(path, dir, n + 1);
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0700) != 0 && errno != EEXIST)
			return errf(err, errlen, CE_IO, "mkdir %s: %s", path, strerror(errno));
		*p = '/';
	}
	if (mkdir(path, 0700) != 0 && errno != EEXIST)
		return errf(err, errlen, CE_IO, "mkdir %s: %s", path, strerror(errno));
	return 0;
}

/* fsync_parent makes a new directory entry for dir durable. */
static void fsync_parent(const char *dir)
{
	char path[4096];
	char *slash;
	int fd;

	snprintf(path, sizeof(path), "%s", dir);
	while ((slash = strrchr(path, '/')) != NULL && slash[1] == '\0' && slash != path)
		*slash = '\0';
	slash = strrchr(path, '/');
	if (slash == NULL)
		snprintf(path, sizeof(path), ".");
	else if (slash == path)
		path[1] = '\0';
	else
		*slash = '\0';
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void)fsync(fd); /* best effort: the segment itself is fsynced */
		close(fd);
	}
}

int wal_exists(const char *dir)
{
	struct wal_seg *segs = NULL;
	size_t n = 0;
	int dirfd, rc;

	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return 0;
	rc = wal_seg_list(dirfd, 0, &segs, &n, NULL, 0);
	close(dirfd);
	free(segs);
	return rc == 0 && n > 0;
}

int wal_read_ids(const char *dir, uint64_t *member_id, uint64_t *cluster_id, char *err,
	size_t errlen)
{
	uint8_t head[512];
	struct wal_seg *segs = NULL;
	struct wal_rec r;
	char name[WAL_SEG_NAME_MAX];
	const char *why = "";
	size_t n = 0;
	ssize_t got;
	int dirfd, fd, rc;

	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return errf(err, errlen, CE_NOTFOUND, "open wal %s: %s", dir, strerror(errno));
	rc = wal_seg_list(dirfd, 0, &segs, &n, err, errlen);
	if (rc != 0 || n == 0) {
		close(dirfd);
		free(segs);
		return rc != 0 ? rc : errf(err, errlen, CE_NOTFOUND, "no wal segment in %s", dir);
	}
	wal_seg_name(name, segs[0].seq, segs[0].index);
	free(segs);
	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	close(dirfd);
	if (fd < 0)
		return errf(err, errlen, CE_IO, "open wal segment %s: %s", name, strerror(errno));
	got = pread(fd, head, sizeof(head), 0);
	close(fd);
	if (got <= 0 || wal_rec_decode(head, (size_t)got, 0, &r, &why) != WAL_REC_OK ||
		r.type != WAL_REC_SEGHDR ||
		wal_rec_decode(head, (size_t)got, r.total, &r, &why) != WAL_REC_OK ||
		r.type != WAL_REC_METADATA || r.len < WAL_METADATA_FIXED)
		return errf(err, errlen, CE_CORRUPT, "wal segment %s: bad header %s", name, why);
	*member_id = le_get64(r.payload);
	*cluster_id = le_get64(r.payload + 8);
	return 0;
}

int wal_create(const char *dir, const struct wal_opts *opts, uint64_t member_id,
	       uint64_t cluster_id, const void *meta, size_t metalen, char *err, size_t errlen)
{
	struct wal_seg *segs = NULL;
	struct buf init;
	uint64_t seg_bytes;
	size_t bufb, n = 0;
	int dirfd = -1, fd = -1, rc;

	opts_resolve(opts, &seg_bytes, &bufb);
	buf_init(&init);
	if ((rc = mkdir_p(dir, err, errlen)) != 0)
		goto out;
	fsync_parent(dir);
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		rc = errf(err, errlen, CE_IO, "open %s: %s", dir, strerror(errno));
		goto out;
	}
	if ((rc = wal_seg_list(dirfd, 1, &segs, &n, err, errlen)) != 0)
		goto out;
	if (n > 0) {
		rc = errf(err, errlen, CE_EXISTS, "%s already holds a wal", dir);
		goto out;
	}
	/* The first segment expects raft index 1. */
	if ((rc = build_init(&init, 0, 1, member_id, cluster_id, meta, metalen, NULL, NULL)) != 0) {
		errf(err, errlen, rc, "encode metadata: %s", ce_strerror(rc));
		goto out;
	}
	rc = wal_seg_create(dirfd, 0, 1, init.data, init.len, seg_bytes, &fd, NULL, err, errlen);
out:
	if (rc != 0)
		errwrap(err, errlen, rc, "create wal");
	if (fd >= 0)
		close(fd);
	if (dirfd >= 0)
		close(dirfd);
	free(segs);
	buf_close(&init);
	return rc;
}

static int set_failed(struct wal *w, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int set_failed(struct wal *w, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(w->errmsg, sizeof(w->errmsg), fmt, ap);
	va_end(ap);
	if (code == CE_IO)
		w->failed = code; /* only I/O leaves the disk state unknown */
	return code;
}

/* repair_tail zeroes torn debris, restores the preallocation and makes
 * whatever a crashed predecessor left in the page cache durable before
 * anyone acts on it. */
static int repair_tail(struct wal *w, const struct wal_tail *t, char *err, size_t errlen)
{
	static const uint8_t zeros[4096];
	uint64_t off = t->end_off;
	int rc;

	while (off < t->dirty_end) {
		size_t chunk = t->dirty_end - off < sizeof(zeros) ? (size_t)(t->dirty_end - off) : sizeof(zeros);
		if ((rc = wal_write_all(w->fd, zeros, chunk, off)) != 0)
			return errf(err, errlen, CE_IO, "zero torn tail: %s", strerror(-rc));
		off += chunk;
	}
	if ((rc = wal_preallocate(w->fd, w->seg_bytes)) != 0)
		return errf(err, errlen, CE_IO, "preallocate: %s", strerror(-rc));
	if ((rc = wal_timed_sync(w->fd, 1, &w->stats)) != 0)
		return errf(err, errlen, CE_IO, "fdatasync: %s", strerror(-rc));
	return 0;
}

static int adopt_state(struct wal *w, const struct wal_recovered *rec)
{
	if (rec->metalen > 0) {
		if ((w->meta = malloc(rec->metalen)) == NULL)
			return CE_NOMEM;
		memcpy(w->meta, rec->meta, rec->metalen);
	}
	w->metalen = rec->metalen;
	w->member_id = rec->member_id;
	w->cluster_id = rec->cluster_id;
	w->has_hs = rec->has_hardstate;
	w->hs = rec->hardstate;
	w->has_snap = rec->has_snapshot;
	w->snap = rec->snapshot;
	w->snap.conf = NULL;
	w->snap.conf_len = 0;
	if (rec->snapshot.conf_len > 0) {
		if ((w->snap.conf = malloc(rec->snapshot.conf_len)) == NULL)
			return CE_NOMEM;
		memcpy(w->snap.conf, rec->snapshot.conf, rec->snapshot.conf_len);
		w->snap.conf_len = rec->snapshot.conf_len;
	}
	w->last_index = rec->last_index;
	return 0;
}

static int open_tail(struct wal *w, const struct wal_tail *t, char *err, size_t errlen)
{
	const struct wal_seg *last = &w->segs[w->nsegs - 1];
	char name[WAL_SEG_NAME_MAX];
	int rc;

	wal_seg_name(name, last->seq, last->index);
	w->fd = openat(w->dirfd, name, O_RDWR | O_CLOEXEC);
	if (w->fd < 0)
		return errf(err, errlen, CE_IO, "segment %s: open: %s", name, strerror(errno));
	if ((rc = repair_tail(w, t, err, errlen)) != 0)
		return errwrap(err, errlen, rc, "segment %s", name);
	w->pending_off = t->end_off;
	w->data_start = t->data_start;
	return 0;
}

int wal_open(struct wal **out, const char *dir, const struct wal_opts *opts,
	     struct wal_recovered *rec, char *err, size_t errlen)
{
	struct wal_tail tail;
	struct wal *w;
	int rc;

	*out = NULL;
	memset(rec, 0, sizeof(*rec));
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return errf(err, errlen, CE_NOMEM, "open wal: out of memory");
	w->fd = -1;
	buf_init(&w->pending);
	opts_resolve(opts, &w->seg_bytes, &w->buffer_bytes);
	w->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (w->dirfd < 0) {
		rc = errf(err, errlen, errno == ENOENT ? CE_NOTFOUND : CE_IO, "%s: %s", dir, strerror(errno));
		goto fail;
	}
	if ((rc = wal_seg_list(w->dirfd, 1, &w->segs, &w->nsegs, err, errlen)) != 0)
		goto fail;
	w->capsegs = w->nsegs;
	if (w->nsegs == 0) {
		rc = errf(err, errlen, CE_NOTFOUND, "%s: no wal segments", dir);
		goto fail;
	}
	if ((rc = wal_recover(w->dirfd, w->segs, w->nsegs, rec, &tail, err, errlen)) != 0)
		goto fail;
	if ((rc = adopt_state(w, rec)) != 0) {
		errf(err, errlen, rc, "out of memory");
		goto fail;
	}
	if ((rc = open_tail(w, &tail, err, errlen)) != 0)
		goto fail;
	*out = w;
	return 0;
fail:
	errwrap(err, errlen, rc, "open wal");
	wal_recovered_close(rec);
	wal_close(w);
	return rc;
}

/* flush writes the pending buffer at its place, without syncing. */
static int flush(struct wal *w)
{
	int rc;

	if (w->pending.len == 0)
		return 0;
	if ((rc = wal_write_all(w->fd, w->pending.data, w->pending.len, w->pending_off)) != 0)
		return set_failed(w, CE_IO, "write wal segment: %s", strerror(-rc));
	w->stats.bytes_written += w->pending.len;
	w->pending_off += w->pending.len;
	buf_reset(&w->pending);
	return 0;
}

static int push_seg(struct wal *w, uint64_t seq, uint64_t index)
{
	if (w->nsegs == w->capsegs) {
		size_t nc = w->capsegs ? w->capsegs * 2 : 16;
		struct wal_seg *v = realloc(w->segs, nc * sizeof(*v));
		if (v == NULL)
			return CE_NOMEM;
		w->segs = v;
		w->capsegs = nc;
	}
	w->segs[w->nsegs].seq = seq;
	w->segs[w->nsegs].index = index;
	w->nsegs++;
	return 0;
}

/* cut seals the current segment (write + fdatasync) and starts the next
 * one with a copy of the metadata, snapshot marker and hard state. */
static int cut(struct wal *w)
{
	uint64_t seq = w->segs[w->nsegs - 1].seq + 1;
	uint64_t index = w->last_index + 1;
	char msg[200] = "";
	struct buf init;
	int fd = -1, rc;

	if ((rc = flush(w)) != 0)
		return rc;
	if ((rc = wal_timed_sync(w->fd, 1, &w->stats)) != 0)
		return set_failed(w, CE_IO, "fdatasync wal segment: %s", strerror(-rc));
	if ((rc = push_seg(w, seq, index)) != 0)
		return set_failed(w, rc, "cut wal segment: out of memory");
	w->nsegs--; /* counted once the file exists */
	buf_init(&init);
	rc = build_init(&init, seq, index, w->member_id, w->cluster_id, w->meta, w->metalen,
			w->has_hs ? &w->hs : NULL, w->has_snap ? &w->snap : NULL);
	if (rc == 0)
		rc = wal_seg_create(w->dirfd, seq, index, init.data, init.len, w->seg_bytes, &fd,
				    &w->stats, msg, sizeof(msg));
	if (rc != 0) {
		buf_close(&init);
		return set_failed(w, CE_IO, "cut wal segment: %s", msg[0] ? msg : ce_strerror(rc));
	}
	close(w->fd);
	w->fd = fd;
	w->nsegs++;
	w->pending_off = init.len;
	w->data_start = init.len;
	w->unsynced = 0;
	w->stats.segments_created++;
	buf_close(&init);
	return 0;
}

static int append_rec(struct wal *w, uint8_t type, const void *fixed, size_t flen,
		      const void *data, size_t dlen)
{
	uint64_t total, end;
	int rc;

	if (w->failed)
		return w->failed;
	if (dlen > WAL_REC_MAX_PAYLOAD - flen)
		return set_failed(w, CE_TOOBIG, "wal record of %zu bytes is too big", dlen);
	total = wal_rec_size(flen + dlen);
	end = w->pending_off + w->pending.len;
	/* A record never spans segments; one larger than a segment gets a
	 * segment of its own. */
	if (end + total > w->seg_bytes && end > w->data_start && (rc = cut(w)) != 0)
		return rc;
	if ((rc = wal_rec_put(&w->pending, type, fixed, flen, data, dlen)) != 0)
		return set_failed(w, rc, "append wal record: %s", ce_strerror(rc));
	w->unsynced += total;
	w->stats.records++;
	if (w->pending.len >= w->buffer_bytes)
		return flush(w);
	return 0;
}

int wal_append_entry(struct wal *w, uint64_t index, uint64_t term, uint8_t type,
		     const void *data, size_t len)
{
	uint8_t f[WAL_ENTRY_FIXED];
	int rc;

	if (index == 0 || index > w->last_index + 1)
		return set_failed(w, CE_INVAL, "entry index %" PRIu64 " after last index %" PRIu64 " leaves a gap",
				  index, w->last_index);
	/* Raft never rewrites what a snapshot already covers. */
	if (w->has_snap && index <= w->snap.index)
		return set_failed(w, CE_INVAL, "entry index %" PRIu64 " is covered by the snapshot at %" PRIu64,
				  index, w->snap.index);
	le_put64(f, index);
	le_put64(f + 8, term);
	f[16] = type;
	if ((rc = append_rec(w, WAL_REC_ENTRY, f, sizeof(f), data, len)) != 0)
		return rc;
	w->last_index = index;
	return 0;
}

int wal_append_hardstate(struct wal *w, uint64_t term, uint64_t vote, uint64_t commit)
{
	uint8_t f[WAL_HARDSTATE_LEN];
	int rc;

	le_put64(f, term);
	le_put64(f + 8, vote);
	le_put64(f + 16, commit);
	if ((rc = append_rec(w, WAL_REC_HARDSTATE, f, sizeof(f), NULL, 0)) != 0)
		return rc;
	w->has_hs = 1;
	w->hs.term = term;
	w->hs.vote = vote;
	w->hs.commit = commit;
	return 0;
}

int wal_append_snapshot(struct wal *w, uint64_t index, uint64_t term)
{
	return wal_append_snapshot_conf(w, index, term, NULL, 0);
}

int wal_append_snapshot_conf(struct wal *w, uint64_t index, uint64_t term,
	const void *conf, size_t conf_len)
{
	uint8_t f[WAL_SNAPSHOT_LEN];
	int rc;

	if (conf_len > 0) {
		uint8_t *copy = malloc(conf_len);
		if (copy == NULL)
			return set_failed(w, CE_NOMEM, "out of memory");
		memcpy(copy, conf, conf_len);
		free(w->snap.conf);
		w->snap.conf = copy;
		w->snap.conf_len = conf_len;
	}
	le_put64(f, index);
	le_put64(f + 8, term);
	if ((rc = append_rec(w, WAL_REC_SNAPSHOT, f, sizeof(f), w->snap.conf, w->snap.conf_len)) != 0)
		return rc;
	w->has_snap = 1;
	w->snap.index = index;
	w->snap.term = term;
	if (index > w->last_index)
		w->last_index = index;
	return 0;
}

int wal_sync(struct wal *w)
{
	int rc;

	if (w->failed)
		return w->failed;
	if (w->unsynced == 0)
		return 0;
	if ((rc = flush(w)) != 0)
		return rc;
	if ((rc = wal_timed_sync(w->fd, 1, &w->stats)) != 0)
		return set_failed(w, CE_IO, "fdatasync wal segment: %s", strerror(-rc));
	w->unsynced = 0;
	return 0;
}

uint64_t wal_pending(const struct wal *w)
{
	return w->unsynced;
}

int wal_release_before(struct wal *w, uint64_t index)
{
	char msg[200] = "";
	size_t k = 0;
	int rc = 0;

	if (w->failed)
		return w->failed;
	/* Segment k's live entries are all below the next segment's index. */
	while (k + 1 < w->nsegs && w->segs[k + 1].index <= index) {
		if ((rc = wal_seg_remove(w->dirfd, w->segs[k].seq, w->segs[k].index, msg, sizeof(msg))) != 0)
			break;
		k++;
	}
	if (k > 0) {
		memmove(w->segs, w->segs + k, (w->nsegs - k) * sizeof(*w->segs));
		w->nsegs -= k;
		w->stats.segments_released += k;
		if (rc == 0)
			rc = wal_fsync_dir(w->dirfd, msg, sizeof(msg));
	}
	if (rc != 0) {
		/* Not sticky: an undeleted old segment loses nothing. */
		snprintf(w->errmsg, sizeof(w->errmsg), "release wal segments: %s", msg);
		return rc;
	}
	return 0;
}

uint64_t wal_last_index(const struct wal *w)
{
	return w->last_index;
}

void wal_get_stats(const struct wal *w, struct wal_stats *out)
{
	*out = w->stats;
}

const char *wal_last_error(const struct wal *w)
{
	return w->errmsg;
}

void wal_close(struct wal *w)
{
	if (w == NULL)
		return;
	if (w->fd >= 0)
		close(w->fd);
	if (w->dirfd >= 0)
		close(w->dirfd);
	buf_close(&w->pending);
	free(w->segs);
	free(w->meta);
	free(w->snap.conf);
	free(w);
}

void wal_recovered_close(struct wal_recovered *rec)
{
	for (size_t i = 0; i < rec->n_entries; i++)
		free(rec->entries[i].data);
	free(rec->entries);
	free(rec->meta);
	free(rec->snapshot.conf);
	memset(rec, 0, sizeof(*rec));
}
