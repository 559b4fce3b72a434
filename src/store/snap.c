/* snap.c - save a logical dump of the storage environment to a checksummed
 * file, and build a new environment from one (format: see snap.h).
 *
 * Both directions stream: the writer holds one chunk and the current
 * record, the reader one chunk, so a database of any size snapshots in
 * bounded memory.
 */
#include "config.h"
#include "store/snap.h"

#include "store/env.h"
#include "store/envdir.h"
#include "store/lease.h"
#include "store/meta.h"
#include "store/mvcc.h"
#include "store/v2store_int.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/err.h"
#include "util/fdio.h"
#include "wal/crc32c.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Every database of the environment, meta first. A future v3 store adds
 * its file names here; readers refuse names they do not know. */
const char *const store_snap_dbs[] = {
	META_DB_FILE, V2_NODES_FILE, V2_EXPIRY_FILE, V2_HISTORY_FILE,
	LEASE_FILE, LEASE_KEYS_FILE,
	MVCC_REV_FILE, MVCC_KEY_FILE,
	NULL,
};
/* Counted from the table, so adding a row is a one-line change. */
#define SNAP_NDBS ((int)(sizeof(store_snap_dbs) / sizeof(store_snap_dbs[0])) - 1)
#define SNAP_TRAILER_LEN 24u

static int snap_db_slot(const char *name, size_t n)
{
	for (int i = 0; store_snap_dbs[i] != NULL; i++)
		if (strlen(store_snap_dbs[i]) == n && memcmp(store_snap_dbs[i], name, n) == 0)
			return i;
	return -1;
}

/* open_dbh opens one database of env by file name. create = 0: a missing
 * file gives CE_NOTFOUND. */
static int open_dbh(DB **out, DB_ENV *env, const char *name, int create, char *err, size_t errlen)
{
	int rc = store_db_open(out, env, name, create, err, errlen);

	return rc == CE_AGAIN && !create ? CE_NOTFOUND : rc;
}

static void close_dbhs(DB **dbs)
{
	for (int i = 0; i < SNAP_NDBS; i++) {
		if (dbs[i])
			dbs[i]->close(dbs[i], 0);
		dbs[i] = NULL;
	}
}

static void hdr_pack(uint8_t out[STORE_SNAP_HDR_SIZE], uint64_t index, uint64_t term)
{
	memset(out, 0, STORE_SNAP_HDR_SIZE);
	memcpy(out, STORE_SNAP_MAGIC, 8);
	le_put32(out + 8, STORE_SNAP_VERSION);
	le_put32(out + 12, STORE_SNAP_HDR_SIZE);
	le_put64(out + 16, index);
	le_put64(out + 24, term);
	le_put64(out + 32, (uint64_t)clock_wall_ns());
	le_put32(out + 60, crc32c(0, out, 60));
}

/* hdr_check: 0, CE_CORRUPT or CE_VERSION, with a message. */
static int hdr_check(const uint8_t *h, const char *path, struct store_snap_info *info, char *err,
                     size_t errlen)
{
	if (memcmp(h, STORE_SNAP_MAGIC, 8) != 0)
		return errf(err, errlen, CE_CORRUPT, "snapshot %s: not a database snapshot (bad magic at offset 0)", path);
	if (le_get32(h + 60) != crc32c(0, h, 60))
		return errf(err, errlen, CE_CORRUPT, "snapshot %s: bad header crc at offset 60", path);
	if (le_get32(h + 8) != STORE_SNAP_VERSION || le_get32(h + 12) != STORE_SNAP_HDR_SIZE)
		return errf(err, errlen, CE_VERSION, "snapshot %s: unsupported version %u", path, le_get32(h + 8));
	info->index = le_get64(h + 16);
	info->term = le_get64(h + 24);
	return 0;
}

/* ---- writing ---- */

struct snap_w {
	int fd;
	const char *path;
	uint64_t off;
	uint32_t file_crc; /* of every byte written so far */
	struct buf body;   /* the chunk being built */
	uint32_t count;
	uint64_t records, chunks;
	char *err;
	size_t errlen;
};

void store_snap_frame_encode(uint8_t f[STORE_SNAP_FRAME_SIZE], uint32_t kind, const void *body,
                             size_t len, uint32_t count)
{
	le_put32(f, kind);
	le_put32(f + 4, (uint32_t)len);
	le_put32(f + 8, count);
	le_put32(f + 12, crc32c(crc32c(0, f, 12), body, len));
}

int store_snap_frame_ok(const uint8_t f[STORE_SNAP_FRAME_SIZE], const void *body, size_t len)
{
	return le_get32(f + 12) == crc32c(crc32c(0, f, 12), body, len);
}

static int w_write(struct snap_w *w, const void *p, size_t n)
{
	int e = fd_write_all(w->fd, p, n);

	if (e != 0)
		return errf(w->err, w->errlen, CE_IO, "write %s: %s", w->path, strerror(e));
	w->file_crc = crc32c(w->file_crc, p, n);
	w->off += n;
	return 0;
}

static int w_frame(struct snap_w *w, uint32_t kind, const uint8_t *body, size_t len, uint32_t count)
{
	uint8_t f[STORE_SNAP_FRAME_SIZE];
	int rc;

	store_snap_frame_encode(f, kind, body, len, count);
	if ((rc = w_write(w, f, sizeof(f))) != 0)
		return rc;
	return w_write(w, body, len);
}

static int w_flush(struct snap_w *w)
{
	int rc;

	if (w->count == 0)
		return 0;
	if (w->body.oom)
		return errf(w->err, w->errlen, CE_NOMEM, "snapshot: out of memory");
	rc = w_frame(w, STORE_SNAP_CHUNK_KIND, w->body.data, w->body.len, w->count);
	buf_reset(&w->body);
	w->count = 0;
	w->chunks++;
	return rc;
}

static int w_record(struct snap_w *w, const char *db, const void *k, size_t kn, const void *v,
                    size_t vn)
{
	if (w->body.len == 0) {
		buf_put_u8(&w->body, (uint8_t)strlen(db));
		buf_put(&w->body, db, strlen(db));
	}
	buf_put_str(&w->body, k, kn);
	buf_put_str(&w->body, v, vn);
	w->count++;
	w->records++;
	if (w->body.len >= STORE_SNAP_CHUNK || w->body.oom)
		return w_flush(w);
	return 0;
}

/* dump_db writes every record of db, in key order, as chunks of its own. */
static int dump_db(struct snap_w *w, DB *db, DB_TXN *txn, const char *name)
{
	DBC *c = NULL;
	DBT k, d;
	int rc;

	if ((rc = db->cursor(db, txn, &c, DB_READ_COMMITTED)) != 0)
		return errf(w->err, w->errlen, CE_DB, "cursor %s: %s", name, db_strerror(rc));
	memset(&k, 0, sizeof(k));
	memset(&d, 0, sizeof(d));
	k.flags = DB_DBT_REALLOC;
	d.flags = DB_DBT_REALLOC;
	while ((rc = c->get(c, &k, &d, DB_NEXT)) == 0)
		if ((rc = w_record(w, name, k.data, k.size, d.data, d.size)) != 0)
			break;
	if (rc == DB_NOTFOUND)
		rc = w_flush(w);
	else if (rc > 0)
		rc = errf(w->err, w->errlen, store_db_err(rc), "read %s: %s", name, db_strerror(rc));
	c->close(c);
	free(k.data);
	free(d.data);
	return rc;
}

static int w_trailer(struct snap_w *w)
{
	uint8_t t[SNAP_TRAILER_LEN];

	le_put64(t, w->records);
	le_put64(t + 8, w->chunks);
	le_put32(t + 16, w->file_crc);
	le_put32(t + 20, 0);
	return w_frame(w, STORE_SNAP_TRAILER_KIND, t, sizeof(t), 0);
}

/* dump_all writes header, chunks and trailer in one read transaction. */
static int dump_all(struct snap_w *w, DB_ENV *env, struct store_snap_info *info)
{
	DB *dbs[SNAP_NDBS] = { NULL };
	DB_TXN *txn = NULL;
	uint8_t hdr[STORE_SNAP_HDR_SIZE];
	int rc, i;

	for (i = 0; store_snap_dbs[i] != NULL; i++) {
		rc = open_dbh(&dbs[i], env, store_snap_dbs[i], 0, w->err, w->errlen);
		if (rc != 0 && rc != CE_NOTFOUND)
			goto out;
	}
	if ((rc = env->txn_begin(env, NULL, &txn, DB_READ_COMMITTED)) != 0) {
		rc = errf(w->err, w->errlen, CE_DB, "txn_begin: %s", db_strerror(rc));
		goto out;
	}
	info->index = info->term = 0;
	if (dbs[0] && ((rc = meta_get_applied(dbs[0], txn, &info->index)) != 0 ||
	               (rc = meta_get_applied_term(dbs[0], txn, &info->term)) != 0)) {
		errf(w->err, w->errlen, rc, "read applied index: %s", ce_strerror(rc));
		goto out;
	}
	hdr_pack(hdr, info->index, info->term);
	if ((rc = w_write(w, hdr, sizeof(hdr))) != 0)
		goto out;
	for (i = 0; store_snap_dbs[i] != NULL; i++)
		if (dbs[i] && (rc = dump_db(w, dbs[i], txn, store_snap_dbs[i])) != 0)
			goto out;
	rc = w_trailer(w);
out:
	if (txn)
		txn->commit(txn, 0);
	close_dbhs(dbs);
	return rc;
}

int store_snap_save(DB_ENV *env, const char *path, struct store_snap_info *info, char *err,
                    size_t errlen)
{
	struct store_snap_info local;
	struct snap_w w;
	char tmp[PATH_MAX];
	int rc;

	if (info == NULL)
		info = &local;
	memset(info, 0, sizeof(*info));
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return errf(err, errlen, CE_INVAL, "snapshot path too long: %s", path);
	memset(&w, 0, sizeof(w));
	w.path = tmp;
	w.err = err;
	w.errlen = errlen;
	buf_init(&w.body);
	w.fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (w.fd < 0)
		return errf(err, errlen, CE_IO, "create %s: %s", tmp, strerror(errno));
	rc = dump_all(&w, env, info);
	if (rc == 0 && fsync(w.fd) != 0)
		rc = errf(err, errlen, CE_IO, "fsync %s: %s", tmp, strerror(errno));
	if (close(w.fd) != 0 && rc == 0)
		rc = errf(err, errlen, CE_IO, "close %s: %s", tmp, strerror(errno));
	buf_close(&w.body);
	if (rc == 0 && rename(tmp, path) != 0)
		rc = errf(err, errlen, CE_IO, "rename %s: %s", tmp, strerror(errno));
	if (rc != 0) {
		unlink(tmp);
		return rc;
	}
	if ((rc = store_fsync_parent(path, err, errlen)) != 0)
		return rc;
	info->records = w.records;
	info->bytes = w.off;
	return 0;
}

/* ---- reading ---- */

struct snap_r {
	int fd;
	const char *path;
	uint64_t off, size;
	uint32_t file_crc;
	struct buf body;
	char *err;
	size_t errlen;
};

/* r_read reads exactly n bytes; fewer is a truncated file. */
static int r_read(struct snap_r *r, void *p, size_t n)
{
	uint8_t *b = p;
	size_t done = 0;

	while (done < n) {
		ssize_t k = read(r->fd, b + done, n - done);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return errf(r->err, r->errlen, CE_IO, "read %s at offset %" PRIu64 ": %s", r->path,
			            r->off + done, strerror(errno));
		if (k == 0)
			return errf(r->err, r->errlen, CE_CORRUPT,
			            "snapshot %s: truncated at offset %" PRIu64 " (%zu more bytes expected)",
			            r->path, r->off + done, n - done);
		done += (size_t)k;
	}
	r->off += n;
	return 0;
}

static int r_open(struct snap_r *r, const char *path, struct store_snap_info *info, char *err,
                  size_t errlen)
{
	uint8_t hdr[STORE_SNAP_HDR_SIZE];
	struct stat st;
	int rc;

	memset(r, 0, sizeof(*r));
	r->path = path;
	r->err = err;
	r->errlen = errlen;
	buf_init(&r->body);
	r->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (r->fd < 0)
		return errf(err, errlen, CE_IO, "open %s: %s", path, strerror(errno));
	if (fstat(r->fd, &st) != 0) {
		rc = errf(err, errlen, CE_IO, "stat %s: %s", path, strerror(errno));
		goto fail;
	}
	r->size = (uint64_t)st.st_size;
	if ((rc = r_read(r, hdr, sizeof(hdr))) != 0 ||
	    (rc = hdr_check(hdr, path, info, err, errlen)) != 0)
		goto fail;
	r->file_crc = crc32c(0, hdr, sizeof(hdr));
	return 0;
fail:
	close(r->fd);
	r->fd = -1;
	return rc;
}

static void r_close(struct snap_r *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	buf_close(&r->body);
}

/* r_frame reads the next frame and its body (into r->body), checking its
 * CRC. *at gets the frame's offset for messages. */
static int r_frame(struct snap_r *r, uint32_t *kind, uint32_t *count, uint32_t *crc_before,
                   uint64_t *at)
{
	uint8_t f[STORE_SNAP_FRAME_SIZE];
	uint32_t len;
	int rc;

	*at = r->off;
	*crc_before = r->file_crc;
	if (r->off == r->size)
		return errf(r->err, r->errlen, CE_CORRUPT, "snapshot %s: truncated at offset %" PRIu64 " (no trailer)",
		            r->path, r->off);
	if ((rc = r_read(r, f, sizeof(f))) != 0)
		return rc;
	*kind = le_get32(f);
	len = le_get32(f + 4);
	*count = le_get32(f + 8);
	if (len > STORE_SNAP_MAX_CHUNK || len > r->size - r->off)
		return errf(r->err, r->errlen, CE_CORRUPT,
		            "snapshot %s: frame at offset %" PRIu64 " claims %u bytes, %" PRIu64 " left",
		            r->path, *at, len, r->size - r->off);
	buf_reset(&r->body);
	if (buf_reserve(&r->body, len ? len : 1) != 0)
		return errf(r->err, r->errlen, CE_NOMEM, "snapshot: out of memory");
	if ((rc = r_read(r, r->body.data, len)) != 0)
		return rc;
	r->body.len = len;
	if (!store_snap_frame_ok(f, r->body.data, len))
		return errf(r->err, r->errlen, CE_CORRUPT, "snapshot %s: bad crc in frame at offset %" PRIu64,
		            r->path, *at);
	r->file_crc = crc32c(crc32c(r->file_crc, f, sizeof(f)), r->body.data, len);
	return 0;
}

int store_snap_info(const char *snap_path, struct store_snap_info *info, char *err, size_t errlen)
{
	struct snap_r r;
	int rc;

	memset(info, 0, sizeof(*info));
	if ((rc = r_open(&r, snap_path, info, err, errlen)) != 0)
		return rc;
	info->bytes = r.size;
	r_close(&r);
	return 0;
}

/* ---- restoring ---- */

struct snap_load {
	struct snap_r r;
	DB_ENV *env;
	DB *dbs[SNAP_NDBS];
	uint64_t records, chunks;
};

/* load_chunk puts one verified chunk's records in one transaction. */
static int load_chunk(struct snap_load *l, uint32_t count, uint64_t at)
{
	struct rd rd;
	DB_TXN *txn = NULL;
	const char *name;
	size_t nlen;
	int slot, rc;

	rd_init(&rd, l->r.body.data, l->r.body.len);
	nlen = rd_u8(&rd);
	name = rd_bytes(&rd, nlen);
	if (rd.err || (slot = snap_db_slot(name, nlen)) < 0)
		return errf(l->r.err, l->r.errlen, CE_CORRUPT,
		            "snapshot %s: unknown database in chunk at offset %" PRIu64, l->r.path, at);
	if (l->dbs[slot] == NULL &&
	    (rc = open_dbh(&l->dbs[slot], l->env, store_snap_dbs[slot], 1, l->r.err, l->r.errlen)) != 0)
		return rc;
	if ((rc = l->env->txn_begin(l->env, NULL, &txn, 0)) != 0)
		return errf(l->r.err, l->r.errlen, CE_DB, "txn_begin: %s", db_strerror(rc));
	for (uint32_t i = 0; i < count && rc == 0; i++) {
		DBT k, d;
		size_t kn, vn;
		memset(&k, 0, sizeof(k));
		memset(&d, 0, sizeof(d));
		k.data = (void *)rd_str(&rd, &kn);
		d.data = (void *)rd_str(&rd, &vn);
		if (rd.err)
			break;
		k.size = (u_int32_t)kn;
		d.size = (u_int32_t)vn;
		if ((rc = l->dbs[slot]->put(l->dbs[slot], txn, &k, &d, 0)) != 0)
			rc = errf(l->r.err, l->r.errlen, CE_DB, "load %s: %s", store_snap_dbs[slot], db_strerror(rc));
	}
	if (rc == 0 && (rd.err || rd_left(&rd) != 0))
		rc = errf(l->r.err, l->r.errlen, CE_CORRUPT,
		          "snapshot %s: chunk at offset %" PRIu64 " does not hold %u records", l->r.path, at, count);
	if (rc != 0) {
		txn->abort(txn);
		return rc;
	}
	if ((rc = txn->commit(txn, 0)) != 0)
		return errf(l->r.err, l->r.errlen, CE_DB, "commit: %s", db_strerror(rc));
	l->records += count;
	l->chunks++;
	return 0;
}

static int check_trailer(struct snap_load *l, uint32_t crc_before, uint64_t at)
{
	const uint8_t *t = l->r.body.data;

	if (l->r.body.len != SNAP_TRAILER_LEN || le_get64(t) != l->records ||
	    le_get64(t + 8) != l->chunks || le_get32(t + 16) != crc_before)
		return errf(l->r.err, l->r.errlen, CE_CORRUPT,
		            "snapshot %s: trailer at offset %" PRIu64 " does not match the file", l->r.path, at);
	if (l->r.off != l->r.size)
		return errf(l->r.err, l->r.errlen, CE_CORRUPT, "snapshot %s: data after the trailer at offset %" PRIu64,
		            l->r.path, l->r.off);
	return 0;
}

/* load_all streams the frames into the environment, then makes sure every
 * database exists and the meta table names the snapshot's index. */
static int load_all(struct snap_load *l, const struct store_snap_info *info)
{
	DB_TXN *txn = NULL;
	uint32_t kind = 0, count = 0, crc_before = 0;
	uint64_t at = 0;
	int rc;

	for (;;) {
		if ((rc = r_frame(&l->r, &kind, &count, &crc_before, &at)) != 0)
			return rc;
		if (kind == STORE_SNAP_TRAILER_KIND)
			break;
		if (kind != STORE_SNAP_CHUNK_KIND)
			return errf(l->r.err, l->r.errlen, CE_CORRUPT, "snapshot %s: unknown frame kind %u at offset %" PRIu64,
			            l->r.path, kind, at);
		if ((rc = load_chunk(l, count, at)) != 0)
			return rc;
	}
	if ((rc = check_trailer(l, crc_before, at)) != 0)
		return rc;
	for (int i = 0; store_snap_dbs[i] != NULL; i++)
		if (l->dbs[i] == NULL &&
		    (rc = open_dbh(&l->dbs[i], l->env, store_snap_dbs[i], 1, l->r.err, l->r.errlen)) != 0)
			return rc;
	if ((rc = l->env->txn_begin(l->env, NULL, &txn, 0)) != 0)
		return errf(l->r.err, l->r.errlen, CE_DB, "txn_begin: %s", db_strerror(rc));
	if ((rc = meta_set_applied(l->dbs[0], txn, info->index)) != 0 ||
	    (rc = meta_set_applied_term(l->dbs[0], txn, info->term)) != 0) {
		txn->abort(txn);
		return errf(l->r.err, l->r.errlen, rc, "set applied index: %s", ce_strerror(rc));
	}
	if ((rc = txn->commit(txn, 0)) != 0)
		return errf(l->r.err, l->r.errlen, CE_DB, "commit: %s", db_strerror(rc));
	return 0;
}

/* finish_env makes the loaded environment durable and drops its region
 * files, so it can be renamed and then opened (with recovery) as any
 * environment the storage worker left behind. */
static int finish_env(struct snap_load *l, const char *env_dir, char *err, size_t errlen)
{
	DB_ENV *rm = NULL;
	int rc;

	close_dbhs(l->dbs);
	rc = l->env->txn_checkpoint(l->env, 0, 0, DB_FORCE);
	store_env_close(l->env);
	l->env = NULL;
	if (rc != 0)
		return errf(err, errlen, CE_DB, "checkpoint %s: %s", env_dir, db_strerror(rc));
	if ((rc = db_env_create(&rm, 0)) != 0)
		return errf(err, errlen, CE_DB, "db_env_create: %s", db_strerror(rc));
	if ((rc = rm->remove(rm, env_dir, 0)) != 0)
		return errf(err, errlen, CE_DB, "remove regions of %s: %s", env_dir, db_strerror(rc));
	return store_dir_fsync(env_dir, err, errlen);
}

int store_snap_restore(const char *snap_path, const char *env_dir, struct store_snap_info *info,
                       char *err, size_t errlen)
{
	struct store_snap_info local;
	struct snap_load l;
	struct stat st;
	char e2[256];
	int rc;

	if (info == NULL)
		info = &local;
	memset(info, 0, sizeof(*info));
	memset(&l, 0, sizeof(l));
	if (lstat(env_dir, &st) == 0)
		return errf(err, errlen, CE_EXISTS, "restore into %s: it already exists", env_dir);
	if ((rc = r_open(&l.r, snap_path, info, err, errlen)) != 0)
		return rc;
	if ((rc = store_env_open(&l.env, env_dir, 1, err, errlen)) != 0)
		goto fail;
	if ((rc = load_all(&l, info)) != 0)
		goto fail;
	if ((rc = finish_env(&l, env_dir, err, errlen)) != 0)
		goto fail;
	info->records = l.records;
	info->bytes = l.r.size;
	r_close(&l.r);
	return 0;
fail:
	close_dbhs(l.dbs);
	store_env_close(l.env);
	r_close(&l.r);
	store_dir_remove(env_dir, e2, sizeof(e2));
	return rc;
}
