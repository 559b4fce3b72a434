/* dbsnap.c - SHA-256 for client snapshots, their verification, and the
 * restore of a saved client snapshot into a fresh data directory (see
 * dbsnap.h). Everything streams: at most one snapshot chunk is in memory.
 */
#include "config.h"
#include "stored/dbsnap.h"

#include "store/lease.h"
#include "store/meta.h"
#include "store/mvcc.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/fdio.h"
#include "wal/crc32c.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- SHA-256 (FIPS 180-4) ---- */

static const uint32_t sha_k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t ror(uint32_t x, int n)
{
	return (x >> n) | (x << (32 - n));
}

static void sha_block(struct dbsnap_sha256 *s, const uint8_t *p)
{
	uint32_t w[64], v[8], t1, t2;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
			(uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (; i < 64; i++) {
		uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);
		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	memcpy(v, s->h, sizeof(v));
	for (i = 0; i < 64; i++) {
		t1 = v[7] + (ror(v[4], 6) ^ ror(v[4], 11) ^ ror(v[4], 25)) +
			((v[4] & v[5]) ^ (~v[4] & v[6])) + sha_k[i] + w[i];
		t2 = (ror(v[0], 2) ^ ror(v[0], 13) ^ ror(v[0], 22)) +
			((v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]));
		memmove(v + 1, v, 7 * sizeof(v[0]));
		v[4] += t1;
		v[0] = t1 + t2;
	}
	for (i = 0; i < 8; i++)
		s->h[i] += v[i];
}

void dbsnap_sha256_init(struct dbsnap_sha256 *s)
{
	static const uint32_t iv[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
		0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };

	memcpy(s->h, iv, sizeof(iv));
	s->total = 0;
	s->n = 0;
}

void dbsnap_sha256_update(struct dbsnap_sha256 *s, const void *p, size_t n)
{
	const uint8_t *b = p;

	s->total += n;
	while (n > 0) {
		size_t k = 64 - s->n < n ? 64 - s->n : n;
		if (s->n == 0 && n >= 64) {
			sha_block(s, b);
			b += 64;
			n -= 64;
			continue;
		}
		memcpy(s->block + s->n, b, k);
		s->n += k;
		b += k;
		n -= k;
		if (s->n == 64) {
			sha_block(s, s->block);
			s->n = 0;
		}
	}
}

void dbsnap_sha256_final(struct dbsnap_sha256 *s, uint8_t out[DBSNAP_SHA256_LEN])
{
	uint64_t bits = s->total * 8;
	uint8_t pad[72] = { 0x80 };
	size_t padn = (s->n < 56 ? 56 : 120) - s->n;

	for (int i = 0; i < 8; i++)
		pad[padn + (size_t)i] = (uint8_t)(bits >> (56 - 8 * i));
	dbsnap_sha256_update(s, pad, padn + 8);
	for (int i = 0; i < 8; i++) {
		out[4 * i] = (uint8_t)(s->h[i] >> 24);
		out[4 * i + 1] = (uint8_t)(s->h[i] >> 16);
		out[4 * i + 2] = (uint8_t)(s->h[i] >> 8);
		out[4 * i + 3] = (uint8_t)s->h[i];
	}
}

/* ---- reading a saved stream ---- */

/* A source file read up to `limit` (its size minus the hash). */
struct src {
	int fd;
	const char *path;
	uint64_t off, limit;
	char *err;
	size_t errlen;
};

static int src_read(struct src *r, void *p, size_t n)
{
	uint8_t *b = p;
	size_t done = 0;

	if (r->off + n > r->limit)
		return errf(r->err, r->errlen, CE_CORRUPT, "snapshot %s: truncated at offset %" PRIu64,
			r->path, r->limit);
	while (done < n) {
		ssize_t k = read(r->fd, b + done, n - done);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return errf(r->err, r->errlen, k < 0 ? CE_IO : CE_CORRUPT, "read %s at offset %" PRIu64
				": %s", r->path, r->off + done, k < 0 ? strerror(errno) : "unexpected end");
		done += (size_t)k;
	}
	r->off += n;
	return 0;
}

static int src_open(struct src *r, const char *path, char *err, size_t errlen)
{
	struct stat st;

	memset(r, 0, sizeof(*r));
	r->path = path;
	r->err = err;
	r->errlen = errlen;
	if ((r->fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return errf(err, errlen, CE_IO, "open %s: %s", path, strerror(errno));
	if (fstat(r->fd, &st) != 0) {
		close(r->fd);
		return errf(err, errlen, CE_IO, "stat %s: %s", path, strerror(errno));
	}
	if ((uint64_t)st.st_size < DBSNAP_SHA256_LEN + STORE_SNAP_HDR_SIZE) {
		close(r->fd);
		return errf(err, errlen, CE_CORRUPT, "snapshot %s: too short (%lld bytes)", path,
			(long long)st.st_size);
	}
	r->limit = (uint64_t)st.st_size - DBSNAP_SHA256_LEN;
	return 0;
}

int dbsnap_verify(const char *path, char *err, size_t errlen)
{
	struct dbsnap_sha256 sha;
	uint8_t want[DBSNAP_SHA256_LEN], got[DBSNAP_SHA256_LEN], chunk[65536];
	struct src r;
	int rc;

	if ((rc = src_open(&r, path, err, errlen)) != 0)
		return rc;
	dbsnap_sha256_init(&sha);
	while (rc == 0 && r.off < r.limit) {
		size_t n = r.limit - r.off < sizeof(chunk) ? (size_t)(r.limit - r.off) : sizeof(chunk);
		if ((rc = src_read(&r, chunk, n)) == 0)
			dbsnap_sha256_update(&sha, chunk, n);
	}
	r.limit += DBSNAP_SHA256_LEN;
	if (rc == 0 && (rc = src_read(&r, want, sizeof(want))) == 0) {
		dbsnap_sha256_final(&sha, got);
		if (memcmp(want, got, sizeof(got)) != 0)
			rc = errf(err, errlen, CE_CORRUPT, "snapshot %s: sha256 mismatch", path);
	}
	close(r.fd);
	return rc;
}

/* ---- restore ---- */

/* The databases a restore keeps: the v3 data and the meta table (which
 * holds the MVCC state); the v2 store is the old cluster's and is dropped,
 * as etcd's restore starts a fresh v2 store. */
static int keep_db(const uint8_t *name, size_t n)
{
	static const char *const keep[] = { META_DB_FILE, LEASE_FILE, LEASE_KEYS_FILE, MVCC_REV_FILE,
		MVCC_KEY_FILE, NULL };

	for (int i = 0; keep[i] != NULL; i++)
		if (strlen(keep[i]) == n && memcmp(keep[i], name, n) == 0)
			return 1;
	return 0;
}

struct dst {
	int fd;
	const char *path;
	uint32_t crc;
	uint64_t records, chunks;
	char *err;
	size_t errlen;
};

static int dst_write(struct dst *w, const void *p, size_t n)
{
	int e = fd_write_all(w->fd, p, n);

	if (e != 0)
		return errf(w->err, w->errlen, CE_IO, "write %s: %s", w->path, strerror(e));
	w->crc = crc32c(w->crc, p, n);
	return 0;
}

static int dst_frame(struct dst *w, uint32_t kind, const void *body, size_t len, uint32_t count)
{
	uint8_t f[STORE_SNAP_FRAME_SIZE];
	int rc;

	store_snap_frame_encode(f, kind, body, len, count);
	if ((rc = dst_write(w, f, sizeof(f))) != 0)
		return rc;
	return dst_write(w, body, len);
}

/* filter_chunk rewrites one chunk body into out: dropped databases give an
 * empty out; the meta table loses the v2 store's record. */
static int filter_chunk(const uint8_t *body, size_t len, uint32_t count, struct buf *out,
	uint32_t *out_count)
{
	struct rd r;
	size_t nl;
	const uint8_t *name;
	int is_meta;

	rd_init(&r, body, len);
	nl = rd_u8(&r);
	name = rd_bytes(&r, nl);
	*out_count = 0;
	buf_reset(out);
	if (r.err || !keep_db(name, nl))
		return r.err ? CE_CORRUPT : 0;
	is_meta = strlen(META_DB_FILE) == nl && memcmp(name, META_DB_FILE, nl) == 0;
	buf_put_u8(out, (uint8_t)nl);
	buf_put(out, name, nl);
	for (uint32_t i = 0; i < count; i++) {
		size_t kn, vn;
		const void *k = rd_str(&r, &kn), *v = rd_str(&r, &vn);
		if (r.err)
			return CE_CORRUPT;
		if (is_meta && kn == 2 && memcmp(k, "v2", 2) == 0)
			continue;
		buf_put_str(out, k, kn);
		buf_put_str(out, v, vn);
		(*out_count)++;
	}
	return out->oom ? CE_NOMEM : 0;
}

/* copy_frames copies the chunks of r to w through filter_chunk, checking
 * each source frame's CRC, up to and including a new trailer. */
static int copy_frames(struct src *r, struct dst *w)
{
	uint8_t f[STORE_SNAP_FRAME_SIZE], t[24];
	struct buf body, out;
	int rc = 0;

	buf_init(&body);
	buf_init(&out);
	for (;;) {
		uint32_t kind, len, count, n = 0;
		uint64_t at = r->off;
		if ((rc = src_read(r, f, sizeof(f))) != 0)
			break;
		kind = le_get32(f);
		len = le_get32(f + 4);
		count = le_get32(f + 8);
		if (len > STORE_SNAP_MAX_CHUNK) {
			rc = errf(r->err, r->errlen, CE_CORRUPT, "snapshot %s: frame too big at offset %"
				PRIu64, r->path, at);
			break;
		}
		buf_reset(&body);
		if ((rc = buf_reserve(&body, len)) != 0 || (rc = src_read(r, body.data, len)) != 0)
			break;
		body.len = len;
		if (!store_snap_frame_ok(f, body.data, len)) {
			rc = errf(r->err, r->errlen, CE_CORRUPT, "snapshot %s: bad frame crc at offset %"
				PRIu64, r->path, at);
			break;
		}
		if (kind == STORE_SNAP_TRAILER_KIND)
			break;
		if (kind != STORE_SNAP_CHUNK_KIND ||
			(rc = filter_chunk(body.data, len, count, &out, &n)) != 0) {
			rc = errf(r->err, r->errlen, CE_CORRUPT, "snapshot %s: bad frame at offset %"
				PRIu64, r->path, at);
			break;
		}
		if (n == 0)
			continue;
		if ((rc = dst_frame(w, STORE_SNAP_CHUNK_KIND, out.data, out.len, n)) != 0)
			break;
		w->records += n;
		w->chunks++;
	}
	if (rc == 0 && r->off != r->limit)
		rc = errf(r->err, r->errlen, CE_CORRUPT, "snapshot %s: bytes after the trailer at offset %"
			PRIu64, r->path, r->off);
	if (rc == 0) {
		le_put64(t, w->records);
		le_put64(t + 8, w->chunks);
		le_put32(t + 16, w->crc);
		le_put32(t + 20, 0);
		rc = dst_frame(w, STORE_SNAP_TRAILER_KIND, t, sizeof(t), 0);
	}
	buf_close(&body);
	buf_close(&out);
	return rc;
}

/* rewrite_header: the source header with index and term 0 (a restored
 * database has applied nothing of the new cluster's log). */
static int rewrite_header(struct src *r, struct dst *w, struct store_snap_info *info)
{
	uint8_t h[STORE_SNAP_HDR_SIZE];
	int rc;

	if ((rc = src_read(r, h, sizeof(h))) != 0)
		return rc;
	if (memcmp(h, STORE_SNAP_MAGIC, 8) != 0 || le_get32(h + 60) != crc32c(0, h, 60))
		return errf(r->err, r->errlen, CE_CORRUPT, "snapshot %s: not a cetcd snapshot", r->path);
	if (le_get32(h + 8) != STORE_SNAP_VERSION)
		return errf(r->err, r->errlen, CE_VERSION, "snapshot %s: unsupported version %u", r->path,
			le_get32(h + 8));
	info->index = le_get64(h + 16);
	info->term = le_get64(h + 24);
	le_put64(h + 16, 0);
	le_put64(h + 24, 0);
	le_put32(h + 60, crc32c(0, h, 60));
	return dst_write(w, h, sizeof(h));
}

static int mkdir_p(const char *dir, char *err, size_t errlen)
{
	char p[PATH_MAX];
	size_t n = strlen(dir);

	if (n >= sizeof(p))
		return errf(err, errlen, CE_INVAL, "path too long: %s", dir);
	memcpy(p, dir, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		p[i] = '\0';
		if (mkdir(p, 0700) != 0 && errno != EEXIST)
			return errf(err, errlen, CE_IO, "mkdir %s: %s", p, strerror(errno));
		p[i] = dir[i];
	}
	return 0;
}

int dbsnap_restore(const char *path, const char *data_dir, struct store_snap_info *info, char *err,
	size_t errlen)
{
	char snapdir[PATH_MAX], tmp[PATH_MAX + 16], db[PATH_MAX];
	struct store_snap_info src_info = { 0 }, loaded = { 0 };
	struct src r;
	struct dst w;
	struct stat st;
	int rc;

	if (snprintf(snapdir, sizeof(snapdir), "%s/member/snap", data_dir) >= (int)sizeof(snapdir) ||
		snprintf(db, sizeof(db), "%s/member/db", data_dir) >= (int)sizeof(db))
		return errf(err, errlen, CE_INVAL, "data dir path too long: %s", data_dir);
	if (stat(db, &st) == 0)
		return errf(err, errlen, CE_EXISTS, "%s already exists", db);
	if ((rc = dbsnap_verify(path, err, errlen)) != 0 || (rc = mkdir_p(snapdir, err, errlen)) != 0)
		return rc;
	snprintf(tmp, sizeof(tmp), "%s/restore.tmp", snapdir);
	if ((rc = src_open(&r, path, err, errlen)) != 0)
		return rc;
	memset(&w, 0, sizeof(w));
	w.path = tmp;
	w.err = err;
	w.errlen = errlen;
	if ((w.fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0) {
		close(r.fd);
		return errf(err, errlen, CE_IO, "create %s: %s", tmp, strerror(errno));
	}
	rc = rewrite_header(&r, &w, &src_info);
	if (rc == 0)
		rc = copy_frames(&r, &w);
	close(r.fd);
	if (close(w.fd) != 0 && rc == 0)
		rc = errf(err, errlen, CE_IO, "close %s: %s", tmp, strerror(errno));
	if (rc == 0)
		rc = store_snap_restore(tmp, db, &loaded, err, errlen);
	unlink(tmp);
	if (rc == 0 && info) {
		*info = loaded;
		info->index = src_info.index;
		info->term = src_info.term;
	}
	return rc;
}
