/* recover.c - WAL recovery: verify every segment, classify damage as a torn
 * tail (cut it) or corruption (refuse), and replay records into the state
 * the raft worker restarts from. The rules are in src/wal/README. */
#include "config.h"
#include "wal/recover.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/err.h"
#include "wal/record.h"

struct replay {
	struct wal_recovered *rec;
	size_t cap;          /* capacity of rec->entries */
	int have_meta;
	uint64_t last_index; /* see wal_recovered.last_index */
};

/* One segment mapped for reading. */
struct segmap {
	const struct wal_seg *seg;
	char name[WAL_SEG_NAME_MAX];
	const uint8_t *p;
	size_t n;
};

static int corrupt(char *err, size_t errlen, const struct segmap *m, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int corrupt(char *err, size_t errlen, const struct segmap *m, const char *fmt, ...)
{
	char what[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return errf(err, errlen, CE_CORRUPT, "segment %s: %s", m->name, what);
}

static void entries_truncate(struct wal_recovered *rec, size_t keep)
{
	while (rec->n_entries > keep)
		free(rec->entries[--rec->n_entries].data);
}

/* entries_drop_upto removes entries with index <= idx from the front. */
static void entries_drop_upto(struct wal_recovered *rec, uint64_t idx)
{
	size_t k = 0;

	while (k < rec->n_entries && rec->entries[k].index <= idx)
		free(rec->entries[k++].data);
	if (k == 0)
		return; /* entries may be NULL: no memmove(NULL, ...) */
	memmove(rec->entries, rec->entries + k, (rec->n_entries - k) * sizeof(*rec->entries));
	rec->n_entries -= k;
}

static int replay_entry(struct replay *rp, const struct segmap *m, const struct wal_rec *r,
			uint64_t off, char *err, size_t errlen)
{
	struct wal_recovered *rec = rp->rec;
	struct wal_entry e;

	if (r->len < WAL_ENTRY_FIXED)
		return corrupt(err, errlen, m, "short entry record at offset %" PRIu64, off);
	e.index = le_get64(r->payload);
	e.term = le_get64(r->payload + 8);
	e.type = r->payload[16];
	e.len = r->len - WAL_ENTRY_FIXED;
	if (e.index == 0 || e.index > rp->last_index + 1)
		return corrupt(err, errlen, m, "entry index %" PRIu64 " after last index %" PRIu64 " leaves a gap at offset %" PRIu64,
			       e.index, rp->last_index, off);
	/* A lower index means raft truncated its log here and wrote anew. */
	while (rec->n_entries > 0 && rec->entries[rec->n_entries - 1].index >= e.index)
		entries_truncate(rec, rec->n_entries - 1);
	rp->last_index = e.index;
	if (rec->has_snapshot && e.index <= rec->snapshot.index)
		return 0;
	if (rec->n_entries == rp->cap) {
		size_t nc = rp->cap ? rp->cap * 2 : 256;
		struct wal_entry *v = realloc(rec->entries, nc * sizeof(*v));
		if (v == NULL)
			return errf(err, errlen, CE_NOMEM, "replay: out of memory");
		rec->entries = v;
		rp->cap = nc;
	}
	e.data = NULL;
	if (e.len > 0) {
		if ((e.data = malloc(e.len)) == NULL)
			return errf(err, errlen, CE_NOMEM, "replay: out of memory");
		memcpy(e.data, r->payload + WAL_ENTRY_FIXED, e.len);
	}
	rec->entries[rec->n_entries++] = e;
	return 0;
}

static int replay_metadata(struct replay *rp, const struct segmap *m, const struct wal_rec *r,
			   uint64_t off, char *err, size_t errlen)
{
	struct wal_recovered *rec = rp->rec;
	uint64_t member, cluster;
	uint8_t *extra = NULL;
	size_t elen;

	if (r->len < WAL_METADATA_FIXED)
		return corrupt(err, errlen, m, "short metadata record at offset %" PRIu64, off);
	member = le_get64(r->payload);
	cluster = le_get64(r->payload + 8);
	if (rp->have_meta && (member != rec->member_id || cluster != rec->cluster_id))
		return corrupt(err, errlen, m, "member or cluster id differs from earlier segments at offset %" PRIu64, off);
	elen = r->len - WAL_METADATA_FIXED;
	if (elen > 0) {
		if ((extra = malloc(elen)) == NULL)
			return errf(err, errlen, CE_NOMEM, "replay: out of memory");
		memcpy(extra, r->payload + WAL_METADATA_FIXED, elen);
	}
	free(rec->meta);
	rec->meta = extra;
	rec->metalen = elen;
	rec->member_id = member;
	rec->cluster_id = cluster;
	rp->have_meta = 1;
	return 0;
}

static int replay_record(struct replay *rp, const struct segmap *m, const struct wal_rec *r,
			 uint64_t off, char *err, size_t errlen)
{
	struct wal_recovered *rec = rp->rec;

	switch (r->type) {
	case WAL_REC_ENTRY:
		return replay_entry(rp, m, r, off, err, errlen);
	case WAL_REC_HARDSTATE:
		if (r->len != WAL_HARDSTATE_LEN)
			return corrupt(err, errlen, m, "bad hardstate record at offset %" PRIu64, off);
		rec->hardstate.term = le_get64(r->payload);
		rec->hardstate.vote = le_get64(r->payload + 8);
		rec->hardstate.commit = le_get64(r->payload + 16);
		rec->has_hardstate = 1;
		return 0;
	case WAL_REC_SNAPSHOT:
		if (r->len < WAL_SNAPSHOT_LEN)
			return corrupt(err, errlen, m, "bad snapshot record at offset %" PRIu64, off);
		rec->snapshot.index = le_get64(r->payload);
		rec->snapshot.term = le_get64(r->payload + 8);
		if (r->len > WAL_SNAPSHOT_LEN) {
			uint8_t *conf = malloc(r->len - WAL_SNAPSHOT_LEN);
			if (conf == NULL)
				return errf(err, errlen, CE_NOMEM, "out of memory");
			memcpy(conf, r->payload + WAL_SNAPSHOT_LEN, r->len - WAL_SNAPSHOT_LEN);
			free(rec->snapshot.conf);
			rec->snapshot.conf = conf;
			rec->snapshot.conf_len = r->len - WAL_SNAPSHOT_LEN;
		}
		rec->has_snapshot = 1;
		entries_drop_upto(rec, rec->snapshot.index);
		if (rec->snapshot.index > rp->last_index)
			rp->last_index = rec->snapshot.index;
		return 0;
	case WAL_REC_METADATA:
		return replay_metadata(rp, m, r, off, err, errlen);
	case WAL_REC_SEGHDR:
		return corrupt(err, errlen, m, "segment header record in the middle at offset %" PRIu64, off);
	default:
		return corrupt(err, errlen, m, "unknown record type at offset %" PRIu64, off);
	}
}

/* check_header verifies the segment header and metadata records; *off
 * gets the offset after them. Damage here is never a torn tail: segments
 * are created whole by rename. */
static int check_header(struct replay *rp, const struct segmap *m, uint64_t *off,
			char *err, size_t errlen)
{
	struct wal_rec r;
	const char *why;
	uint32_t version;
	int st;

	st = wal_rec_decode(m->p, m->n, 0, &r, &why);
	if (st != WAL_REC_OK || r.type != WAL_REC_SEGHDR || r.len != WAL_SEGHDR_LEN ||
	    memcmp(r.payload, WAL_MAGIC, 8) != 0)
		return corrupt(err, errlen, m, "bad segment header at offset 0");
	version = le_get32(r.payload + 8);
	if (version != WAL_FORMAT_VERSION)
		return errf(err, errlen, CE_VERSION,
			    "segment %s: unsupported wal format version %" PRIu32 " (this build reads version %u)",
			    m->name, version, WAL_FORMAT_VERSION);
	if (le_get64(r.payload + 16) != m->seg->seq || le_get64(r.payload + 24) != m->seg->index)
		return corrupt(err, errlen, m, "segment header does not match the file name");
	*off = r.total;
	st = wal_rec_decode(m->p, m->n, (size_t)*off, &r, &why);
	if (st != WAL_REC_OK || r.type != WAL_REC_METADATA)
		return corrupt(err, errlen, m, "bad metadata record at offset %" PRIu64, *off);
	if ((st = replay_metadata(rp, m, &r, *off, err, errlen)) != 0)
		return st;
	*off += r.total;
	return 0;
}

/* classify_end decides what the first non-record spot at off means. */
static int classify_end(struct replay *rp, const struct segmap *m, int is_last, int st,
			const char *why, uint64_t off, struct wal_tail *tail, char *err, size_t errlen)
{
	size_t dirty = off < m->n ? wal_nonzero_end(m->p, m->n, (size_t)off) : (size_t)off;
	/* A valid record has a non-zero header, so none starts at or past dirty. */
	size_t valid = wal_rec_find_valid(m->p, m->n, (size_t)off + WAL_REC_ALIGN, dirty);

	if (valid != SIZE_MAX) {
		if (st == WAL_REC_END)
			return corrupt(err, errlen, m, "zeroed record at offset %" PRIu64 " with valid records after it", off);
		return corrupt(err, errlen, m, "%s at offset %" PRIu64, why, off);
	}
	if (!is_last && (st == WAL_REC_BAD || dirty > off)) {
		return corrupt(err, errlen, m, "%s at offset %" PRIu64 " in a sealed segment",
			       st == WAL_REC_BAD ? why : "garbage after end of log", off);
	}
	if (is_last) {
		tail->end_off = off;
		tail->dirty_end = dirty > off ? dirty : off;
		if (st == WAL_REC_BAD || dirty > off) {
			rp->rec->torn = 1;
			snprintf(rp->rec->torn_segment, sizeof(rp->rec->torn_segment), "%s", m->name);
			rp->rec->torn_offset = off;
			rp->rec->torn_bytes = tail->dirty_end - off;
		}
	}
	return 0;
}

static int scan_records(struct replay *rp, const struct segmap *m, int is_last,
			struct wal_tail *tail, char *err, size_t errlen)
{
	uint64_t off = 0, start;
	struct wal_rec r;
	const char *why;
	int st, rc;

	if ((rc = check_header(rp, m, &off, err, errlen)) != 0)
		return rc;
	start = off;
	for (;;) {
		st = wal_rec_decode(m->p, m->n, (size_t)off, &r, &why);
		if (st != WAL_REC_OK)
			break;
		if ((rc = replay_record(rp, m, &r, off, err, errlen)) != 0)
			return rc;
		off += r.total;
	}
	if (is_last) {
		tail->data_start = start;
		tail->file_size = m->n;
	}
	return classify_end(rp, m, is_last, st, why, off, tail, err, errlen);
}

static int scan_segment(struct replay *rp, int dirfd, const struct wal_seg *seg, int is_last,
			struct wal_tail *tail, char *err, size_t errlen)
{
	struct segmap m = { .seg = seg };
	struct stat st;
	void *map = NULL;
	int fd, rc;

	wal_seg_name(m.name, seg->seq, seg->index);
	fd = openat(dirfd, m.name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errf(err, errlen, CE_IO, "segment %s: open: %s", m.name, strerror(errno));
	if (fstat(fd, &st) != 0) {
		rc = errf(err, errlen, CE_IO, "segment %s: stat: %s", m.name, strerror(errno));
		goto out;
	}
	if (st.st_size < WAL_REC_HDR_LEN) {
		rc = corrupt(err, errlen, &m, "bad segment header at offset 0");
		goto out;
	}
	m.n = (size_t)st.st_size;
	map = mmap(NULL, m.n, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED) {
		map = NULL;
		rc = errf(err, errlen, CE_IO, "segment %s: mmap: %s", m.name, strerror(errno));
		goto out;
	}
	m.p = map;
	rc = scan_records(rp, &m, is_last, tail, err, errlen);
out:
	if (map != NULL)
		munmap(map, m.n);
	close(fd);
	return rc;
}

int wal_recover(int dirfd, const struct wal_seg *segs, size_t n, struct wal_recovered *rec,
		struct wal_tail *tail, char *err, size_t errlen)
{
	struct replay rp = { .rec = rec };
	char name[WAL_SEG_NAME_MAX];
	int rc;

	memset(tail, 0, sizeof(*tail));
	/* Segments before the first one were released; its name tells where
	 * the log it continues had got to. */
	rp.last_index = segs[0].index > 0 ? segs[0].index - 1 : 0;
	for (size_t i = 0; i < n; i++) {
		wal_seg_name(name, segs[i].seq, segs[i].index);
		if (i > 0 && segs[i].seq != segs[i - 1].seq + 1)
			return errf(err, errlen, CE_CORRUPT,
				    "segment %s: missing segment(s) with sequence %016" PRIx64 " before it",
				    name, segs[i - 1].seq + 1);
		if (i > 0 && segs[i].index != rp.last_index + 1)
			return errf(err, errlen, CE_CORRUPT,
				    "segment %s: first index %" PRIu64 " does not follow last index %" PRIu64 " of the previous segment",
				    name, segs[i].index, rp.last_index);
		if ((rc = scan_segment(&rp, dirfd, &segs[i], i + 1 == n, tail, err, errlen)) != 0)
			return rc;
	}
	rec->last_index = rp.last_index;
	rec->segments = n;
	return 0;
}
