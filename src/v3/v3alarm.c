/* v3alarm.c - etcd's Maintenance/Alarm (the alarm store of
 * etcdserver/api/v3alarm and the Alarm method of etcdserver/apply.go), the
 * backend quota's cost rules (etcdserver/quota.go) and the requests
 * etcd's applierV3Capped refuses while a NOSPACE alarm is set.
 *
 * The alarms live in the meta table under one key, as a sorted array of
 * 12-byte records {u64 member id, u32 type} (little-endian), so every
 * member keeps them through restarts and database snapshots carry them
 * (the snapshot dumps every meta record). */
#include "config.h"
#include "v3/v3.h"

#include "pb/pb.h"
#include "store/env.h"
#include "util/err.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* AlarmRequest / AlarmResponse / AlarmMember field numbers (rpc.proto). */
enum { ALREQ_ACTION = 1, ALREQ_MEMBER = 2, ALREQ_ALARM = 3 };
enum { ALRESP_ALARMS = 2 };
enum { ALMEM_MEMBER = 1, ALMEM_ALARM = 2 };

static int alarm_cmp(const struct v3_alarm *a, const struct v3_alarm *b)
{
	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	if (a->member_id != b->member_id)
		return a->member_id < b->member_id ? -1 : 1;
	return 0;
}

int v3_alarm_list(DB *meta, DB_TXN *txn, struct v3_alarm *out, size_t max, size_t *n)
{
	uint8_t raw[V3_ALARM_MAX * V3_ALARM_REC_SIZE];
	DBT k, d;
	int rc;

	*n = 0;
	memset(&k, 0, sizeof(k));
	memset(&d, 0, sizeof(d));
	k.data = (void *)V3_ALARM_META_KEY;
	k.size = (u_int32_t)strlen(V3_ALARM_META_KEY);
	d.data = raw;
	d.ulen = sizeof(raw);
	d.flags = DB_DBT_USERMEM;
	rc = meta->get(meta, txn, &k, &d, txn ? 0 : DB_READ_COMMITTED);
	if (rc == DB_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc == DB_BUFFER_SMALL ? CE_CORRUPT : store_db_err(rc);
	if (d.size % V3_ALARM_REC_SIZE != 0)
		return CE_CORRUPT;
	for (size_t i = 0; i < d.size / V3_ALARM_REC_SIZE && *n < max; i++) {
		const uint8_t *p = raw + i * V3_ALARM_REC_SIZE;
		out[*n].member_id = le_get64(p);
		out[*n].type = (int32_t)le_get32(p + 8);
		(*n)++;
	}
	return 0;
}

static int alarm_store(DB *meta, DB_TXN *txn, const struct v3_alarm *al, size_t n)
{
	uint8_t raw[V3_ALARM_MAX * V3_ALARM_REC_SIZE];
	DBT k, d;

	memset(&k, 0, sizeof(k));
	memset(&d, 0, sizeof(d));
	k.data = (void *)V3_ALARM_META_KEY;
	k.size = (u_int32_t)strlen(V3_ALARM_META_KEY);
	if (n == 0) {
		int rc = meta->del(meta, txn, &k, 0);
		return rc == DB_NOTFOUND ? 0 : store_db_err(rc);
	}
	for (size_t i = 0; i < n; i++) {
		le_put64(raw + i * V3_ALARM_REC_SIZE, al[i].member_id);
		le_put32(raw + i * V3_ALARM_REC_SIZE + 8, (uint32_t)al[i].type);
	}
	d.data = raw;
	d.size = (u_int32_t)(n * V3_ALARM_REC_SIZE);
	return store_db_err(meta->put(meta, txn, &k, &d, 0));
}

static void put_member(struct buf *b, uint32_t field, const struct v3_alarm *a)
{
	size_t m = pb_msg_begin(b, field);

	pb_put_u64(b, ALMEM_MEMBER, a->member_id);
	pb_put_i32(b, ALMEM_ALARM, a->type);
	pb_msg_end(b, m);
}

/* find: index of (member, type) in the sorted list, or -1. */
static long find(const struct v3_alarm *al, size_t n, const struct v3_alarm *want)
{
	for (size_t i = 0; i < n; i++)
		if (alarm_cmp(&al[i], want) == 0)
			return (long)i;
	return -1;
}

static int activate(DB *meta, DB_TXN *txn, struct v3_alarm *al, size_t n,
	const struct v3_alarm *want, struct buf *out)
{
	size_t at = 0;

	/* Activating an alarm that is set answers it again (etcd's
	 * AlarmStore.Activate returns the existing member). */
	if (find(al, n, want) < 0) {
		if (n == V3_ALARM_MAX)
			return CE_TOOBIG;
		while (at < n && alarm_cmp(&al[at], want) < 0)
			at++;
		memmove(al + at + 1, al + at, (n - at) * sizeof(al[0]));
		al[at] = *want;
		n++;
		if (alarm_store(meta, txn, al, n) != 0)
			return CE_DB;
	}
	put_member(out, ALRESP_ALARMS, want);
	return 0;
}

static int deactivate(DB *meta, DB_TXN *txn, struct v3_alarm *al, size_t n,
	const struct v3_alarm *want, struct buf *out)
{
	long at = find(al, n, want);

	if (at < 0)
		return 0; /* not set: an empty response, as etcd's */
	memmove(al + at, al + at + 1, (n - (size_t)at - 1) * sizeof(al[0]));
	if (alarm_store(meta, txn, al, n - 1) != 0)
		return CE_DB;
	put_member(out, ALRESP_ALARMS, want);
	return 0;
}

int v3_alarm_apply(DB *meta, DB_TXN *txn, const uint8_t *req, size_t len, struct buf *out)
{
	struct v3_alarm al[V3_ALARM_MAX], want;
	int32_t action = 0, type = 0;
	uint64_t member = 0;
	size_t n = 0;
	int rc;

	if (pb_get_i32(req, len, ALREQ_ACTION, &action) < 0 ||
		pb_get_u64(req, len, ALREQ_MEMBER, &member) < 0 ||
		pb_get_i32(req, len, ALREQ_ALARM, &type) < 0)
		return 0; /* undecodable: an empty response (nothing changes) */
	if ((rc = v3_alarm_list(meta, txn, al, V3_ALARM_MAX, &n)) != 0)
		return rc;
	want.member_id = member;
	want.type = type;
	switch (action) {
	case V3_ALARM_GET:
		/* NONE lists every alarm, otherwise those of the type. */
		for (size_t i = 0; i < n; i++)
			if (type == V3_ALARM_NONE || al[i].type == type)
				put_member(out, ALRESP_ALARMS, &al[i]);
		return 0;
	case V3_ALARM_ACTIVATE:
		return activate(meta, txn, al, n, &want, out);
	case V3_ALARM_DEACTIVATE:
		return deactivate(meta, txn, al, n, &want, out);
	default:
		return 0;
	}
}

/* Txn field numbers: TxnRequest.success 2, failure 3; RequestOp
 * request_put 2; PutRequest key 1, value 2. */
static int64_t cost_put(const uint8_t *p, size_t n)
{
	const uint8_t *k = NULL, *v = NULL;
	size_t kl = 0, vl = 0;

	pb_get_bytes(p, n, 1, &k, &kl);
	pb_get_bytes(p, n, 2, &v, &vl);
	return 256 + (int64_t)kl + (int64_t)vl; /* etcd's kvOverhead + key + value */
}

static int64_t cost_ops(const uint8_t *req, size_t len, uint32_t field)
{
	struct pb_reader r;
	struct pb_item it;
	int64_t sum = 0;

	pb_reader_init(&r, req, len);
	while (pb_next_of(&r, field, &it) == 1) {
		const uint8_t *put;
		size_t pl;
		if (it.wire == PB_WIRE_LEN && pb_get_bytes(it.data, it.len, 2, &put, &pl) == 1)
			sum += cost_put(put, pl);
	}
	return sum;
}

int64_t v3_quota_cost(int method, const uint8_t *req, size_t len)
{
	int64_t s, f;

	switch (method) {
	case V3_PUT:
		return cost_put(req, len);
	case V3_LEASE_GRANT:
		return 64; /* etcd's leaseOverhead */
	case V3_TXN:
		/* The larger branch, as etcd's costTxn (nested Txns cost 0). */
		s = cost_ops(req, len, 2);
		f = cost_ops(req, len, 3);
		return s > f ? s : f;
	default:
		return 0;
	}
}

int v3_alarm_capped(int method, const uint8_t *req, size_t len)
{
	switch (method) {
	case V3_PUT:
	case V3_LEASE_GRANT:
		return 1;
	case V3_TXN:
		return v3_quota_cost(method, req, len) > 0;
	default:
		return 0;
	}
}

int64_t v3_quota_bytes(int64_t configured)
{
	if (configured < 0)
		return 0;
	return configured == 0 ? V3_QUOTA_DEFAULT_BYTES : configured;
}

void v3_alarm_request(struct buf *b, int action, uint64_t member_id, int type)
{
	pb_put_i32(b, ALREQ_ACTION, action);
	pb_put_u64(b, ALREQ_MEMBER, member_id);
	pb_put_i32(b, ALREQ_ALARM, type);
}

void v3_alarm_put_errors(struct buf *b, uint32_t field, const struct v3_alarm *al, size_t n)
{
	static const char *const names[] = { "NONE", "NOSPACE", "CORRUPT" };

	for (size_t i = 0; i < n; i++) {
		char s[96];
		int l = 0;

		/* gogoproto's compact text form: zero fields are left out,
		 * every field is followed by a space. */
		if (al[i].member_id != 0)
			l += snprintf(s + l, sizeof(s) - (size_t)l, "memberID:%" PRIu64 " ",
				al[i].member_id);
		if (al[i].type > 0 && al[i].type <= 2)
			snprintf(s + l, sizeof(s) - (size_t)l, "alarm:%s ", names[al[i].type]);
		else if (al[i].type != 0)
			snprintf(s + l, sizeof(s) - (size_t)l, "alarm:%d ", (int)al[i].type);
		pb_put_str(b, field, s);
	}
}
