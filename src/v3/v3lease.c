/* v3lease.c - etcd's lease requests: LeaseGrant and LeaseRevoke applied
 * through raft (a revoke deletes the lease's keys in one revision, as
 * etcd's), LeaseKeepAlive applied through raft too so that the leader's
 * lessor renews it wherever the client sent it, LeaseCheckpoint (the
 * leader's record of each long lease's remaining TTL, so that a new leader
 * does not renew it), and the reads LeaseLeases and LeaseTimeToLive served
 * from the database.
 */
#include "config.h"
#include "v3/v3.h"
#include "v3/v3_int.h"
#include "pb/pb.h"
#include "store/lease.h"
#include "store/mvcc.h"
#include "util/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	LG_TTL = 1, LG_ID = 2,
	LGR_ID = 2, LGR_TTL = 3,
	LR_ID = 1,
	LK_ID = 1,
	LKR_ID = 2, LKR_TTL = 3,
	LT_ID = 1, LT_KEYS = 2,
	LTR_ID = 2, LTR_TTL = 3, LTR_GRANTED = 4, LTR_KEYS = 5,
	LL_LEASES = 2, LS_ID = 1,
	LC_CHECKPOINTS = 1, LCP_ID = 1, LCP_REMAINING = 2,
};

static int lease_rc(int rc, int *code, char *msg, size_t msglen)
{
	switch (rc) {
	case 0:
		return 0;
	case LEASE_ERR_NOT_FOUND:
		return v3_fail(code, msg, msglen, V3_NOT_FOUND, "etcdserver: requested lease not found");
	case LEASE_ERR_EXISTS:
		return v3_fail(code, msg, msglen, V3_FAILED_PRECONDITION, "etcdserver: lease already exists");
	case LEASE_ERR_TTL_TOO_BIG:
		return v3_fail(code, msg, msglen, V3_OUT_OF_RANGE, "etcdserver: too large lease TTL");
	default:
		return rc < 0 ? rc : CE_CORRUPT;
	}
}

static int current_rev(struct v3_ctx *c, int64_t *rev)
{
	struct mvcc_state st;
	int rc = mvcc_state_get(c->mvcc, c->txn, &st);

	*rev = st.current;
	return rc < 0 ? rc : rc > 0 ? CE_DB : 0;
}

int v3_lease_grant(struct v3_ctx *c, const uint8_t *p, size_t n, struct buf *out, int *code,
	char *msg, size_t msglen)
{
	int64_t ttl = 0, id = 0, granted = 0, rev;
	char err[256];
	int rc;

	if (pb_get_i64(p, n, LG_TTL, &ttl) < 0 || pb_get_i64(p, n, LG_ID, &id) < 0)
		return v3_fail(code, msg, msglen, V3_INVALID_ARGUMENT, "etcdserver: bad lease request");
	rc = lease_grant(c->lease, c->txn, id, ttl, c->now_ms, &granted, err, sizeof(err));
	if (rc != 0)
		return lease_rc(rc, code, msg, msglen);
	if ((rc = current_rev(c, &rev)) != 0)
		return rc;
	v3_put_header(out, c, rev, 1);
	pb_put_i64(out, LGR_ID, id);
	pb_put_i64(out, LGR_TTL, granted);
	return 0;
}

int v3_lease_revoke(struct v3_ctx *c, const uint8_t *p, size_t n, struct buf *out, int *code,
	char *msg, size_t msglen)
{
	struct lease_keys keys;
	int64_t id = 0, rev;
	char err[256];
	int rc, rc2;

	if (pb_get_i64(p, n, LR_ID, &id) < 0)
		return v3_fail(code, msg, msglen, V3_INVALID_ARGUMENT, "etcdserver: bad lease request");
	lease_keys_init(&keys);
	rc = lease_revoke(c->lease, c->txn, id, &keys, err, sizeof(err));
	if (rc != 0) {
		lease_keys_close(&keys);
		return lease_rc(rc, code, msg, msglen);
	}
	/* The attached keys go in one revision, in byte order. */
	if ((rc = mvcc_wtxn_begin(c->mvcc, c->txn)) == 0) {
		for (size_t i = 0; i < keys.n && rc == 0; i++) {
			size_t kl, first;
			int64_t deleted;
			const uint8_t *k = lease_keys_at(&keys, i, &kl);
			rc = mvcc_delete_range(c->mvcc, k, kl, NULL, 0, &deleted, &first, err, sizeof(err));
		}
		rc2 = mvcc_wtxn_end(c->mvcc, &rev);
		v3_note_events(c, rev);
		if (rc == 0)
			rc = rc2;
	}
	lease_keys_close(&keys);
	if (rc != 0)
		return rc < 0 ? rc : CE_DB;
	v3_put_header(out, c, rev, 1);
	return 0;
}

int v3_lease_keepalive(struct v3_ctx *c, const uint8_t *p, size_t n, struct buf *out, int *code,
	char *msg, size_t msglen)
{
	struct lease_status st;
	int64_t id = 0, ttl = 0, rev;
	int rc;

	if (pb_get_i64(p, n, LK_ID, &id) < 0)
		return v3_fail(code, msg, msglen, V3_INVALID_ARGUMENT, "etcdserver: bad lease request");
	/* The primary lessor renews; every member answers with the granted
	 * TTL of a live lease (etcd: TTL 0, no error, for an unknown one). */
	if (lease_is_primary(c->lease))
		lease_renew(c->lease, id, c->now_ms, &ttl, NULL);
	if (lease_time_to_live(c->lease, id, c->now_ms, &st) == 0) {
		char err[128];
		ttl = st.granted_ttl;
		/* renewed: a checkpointed remaining TTL no longer holds, on
		 * every member (etcd's leader proposes a checkpoint of 0) */
		if (st.remaining_ttl != 0 && (rc = lease_checkpoint(c->lease, c->txn, id, 0,
			c->now_ms, err, sizeof(err))) != 0)
			return rc;
	} else {
		ttl = 0;
	}
	if ((rc = current_rev(c, &rev)) != 0)
		return rc;
	v3_put_header(out, c, rev, 1);
	pb_put_i64(out, LKR_ID, id);
	pb_put_i64(out, LKR_TTL, ttl);
	return 0;
}

int v3_lease_checkpoint(struct v3_ctx *c, const uint8_t *p, size_t n, struct buf *out, int *code,
	char *msg, size_t msglen)
{
	struct pb_reader r;
	struct pb_item it;
	char err[256];
	int64_t rev;
	int rc;

	(void)code;
	(void)msg;
	(void)msglen;
	pb_reader_init(&r, p, n);
	while (pb_next_of(&r, LC_CHECKPOINTS, &it) == 1) {
		int64_t id = 0, left = 0;

		pb_get_i64(it.data, it.len, LCP_ID, &id);
		pb_get_i64(it.data, it.len, LCP_REMAINING, &left);
		if ((rc = lease_checkpoint(c->lease, c->txn, id, left, c->now_ms, err,
			sizeof(err))) != 0)
			return rc;
	}
	if ((rc = current_rev(c, &rev)) != 0)
		return rc;
	v3_put_header(out, c, rev, 1);
	return 0;
}

int v3_lease_read(struct v3_ctx *c, int method, const uint8_t *p, size_t n, struct buf *out,
	int *code, char *msg, size_t msglen)
{
	struct mvcc_state ms;
	char err[256];
	int rc;

	if ((rc = mvcc_revisions(c->mvcc, &ms, err, sizeof(err))) != 0)
		return rc < 0 ? rc : CE_DB;
	if (method == V3_LEASE_LEASES) {
		int64_t *ids = NULL;
		size_t cnt = 0;
		if ((rc = lease_list(c->lease, &ids, &cnt, err, sizeof(err))) < 0)
			return rc;
		v3_put_header(out, c, ms.current, 1);
		for (size_t i = 0; i < cnt; i++) {
			size_t m = pb_msg_begin(out, LL_LEASES);
			pb_put_i64(out, LS_ID, ids[i]);
			pb_msg_end(out, m);
		}
		free(ids);
		return 0;
	}
	if (method == V3_LEASE_TTL) {
		struct lease_info info;
		struct lease_keys keys;
		int64_t id = 0;
		int want_keys = 0;

		if (pb_get_i64(p, n, LT_ID, &id) < 0 || pb_get_bool(p, n, LT_KEYS, &want_keys) < 0)
			return v3_fail(code, msg, msglen, V3_INVALID_ARGUMENT, "etcdserver: bad lease request");
		lease_keys_init(&keys);
		rc = lease_get(c->lease, id, &info, want_keys ? &keys : NULL, err, sizeof(err));
		if (rc < 0) {
			lease_keys_close(&keys);
			return rc;
		}
		v3_put_header(out, c, ms.current, 1);
		pb_put_i64(out, LTR_ID, id);
		if (rc == LEASE_ERR_NOT_FOUND) {
			pb_put_i64(out, LTR_TTL, -1); /* etcd: TTL -1, not an error */
		} else {
			int64_t left = c->lease_ttl_left ? c->lease_ttl_left(c->lease_arg, id) : -2;
			pb_put_i64(out, LTR_TTL, left >= -1 ? left : info.ttl);
			pb_put_i64(out, LTR_GRANTED, info.ttl);
			for (size_t i = 0; i < keys.n; i++) {
				size_t kl;
				const uint8_t *k = lease_keys_at(&keys, i, &kl);
				pb_put_bytes_always(out, LTR_KEYS, k, kl);
			}
		}
		lease_keys_close(&keys);
		return 0;
	}
	return v3_fail(code, msg, msglen, V3_INVALID_ARGUMENT, "etcdserver: unknown method");
}
