/* meta.c - the meta table (applied index, v2 index and write counters). */
#include "config.h"
#include "store/meta.h"

#include "store/env.h"
#include "util/buf.h"
#include "util/err.h"

#include <errno.h>
#include <string.h>

#define META_KEY_APPLIED "raft_applied"
#define META_KEY_APPLIED_TERM "raft_applied_term"
#define META_KEY_V2 "v2"

static const char *const meta_names[] = {
#define META_NAME(id, name) name,
	META_V2_STATS(META_NAME)
#undef META_NAME
};

const char *meta_v2_stat_name(int stat)
{
	if (stat < 0 || stat >= META_V2_NSTATS)
		return "";
	return meta_names[stat];
}

int meta_db_open(DB **out, DB_ENV *env, int writer, char *err, size_t errlen)
{
	return store_db_open(out, env, META_DB_FILE, writer, err, errlen);
}

/* meta_read fills buf (n bytes) from key; a missing key gives zeroes. */
static int meta_read(DB *db, DB_TXN *txn, const char *key, uint8_t *out, size_t n)
{
	DBT k, d;
	int rc;

	memset(&k, 0, sizeof(k));
	memset(&d, 0, sizeof(d));
	k.data = (void *)key;
	k.size = (u_int32_t)strlen(key);
	d.data = out;
	d.ulen = (u_int32_t)n;
	d.flags = DB_DBT_USERMEM;
	rc = db->get(db, txn, &k, &d, 0);
	if (rc == DB_NOTFOUND) {
		memset(out, 0, n);
		return 0;
	}
	if (rc != 0)
		return rc == DB_BUFFER_SMALL ? CE_CORRUPT : store_db_err(rc);
	if (d.size != n)
		return CE_CORRUPT;
	return 0;
}

static int meta_write(DB *db, DB_TXN *txn, const char *key, const uint8_t *p, size_t n)
{
	DBT k, d;

	memset(&k, 0, sizeof(k));
	memset(&d, 0, sizeof(d));
	k.data = (void *)key;
	k.size = (u_int32_t)strlen(key);
	d.data = (void *)p;
	d.size = (u_int32_t)n;
	return store_db_err(db->put(db, txn, &k, &d, 0));
}

int meta_get_applied(DB *db, DB_TXN *txn, uint64_t *out)
{
	uint8_t b[8];
	int rc = meta_read(db, txn, META_KEY_APPLIED, b, sizeof(b));

	*out = rc == 0 ? le_get64(b) : 0;
	return rc;
}

int meta_set_applied(DB *db, DB_TXN *txn, uint64_t index)
{
	uint8_t b[8];

	le_put64(b, index);
	return meta_write(db, txn, META_KEY_APPLIED, b, sizeof(b));
}

int meta_get_applied_term(DB *db, DB_TXN *txn, uint64_t *out)
{
	uint8_t b[8];
	int rc = meta_read(db, txn, META_KEY_APPLIED_TERM, b, sizeof(b));

	*out = rc == 0 ? le_get64(b) : 0;
	return rc;
}

int meta_set_applied_term(DB *db, DB_TXN *txn, uint64_t term)
{
	uint8_t b[8];

	le_put64(b, term);
	return meta_write(db, txn, META_KEY_APPLIED_TERM, b, sizeof(b));
}

int meta_get_v2(DB *db, DB_TXN *txn, struct meta_v2 *out)
{
	uint8_t b[sizeof(struct meta_v2)];
	int rc = meta_read(db, txn, META_KEY_V2, b, sizeof(b));
	int i;

	memset(out, 0, sizeof(*out));
	if (rc != 0)
		return rc;
	out->index = le_get64(b);
	for (i = 0; i < META_V2_NSTATS; i++)
		out->stats[i] = le_get64(b + 8 + 8 * i);
	return 0;
}

int meta_put_v2(DB *db, DB_TXN *txn, const struct meta_v2 *v)
{
	uint8_t b[sizeof(struct meta_v2)];
	int i;

	le_put64(b, v->index);
	for (i = 0; i < META_V2_NSTATS; i++)
		le_put64(b + 8 + 8 * i, v->stats[i]);
	return meta_write(db, txn, META_KEY_V2, b, sizeof(b));
}
