/* v3.c - the storage worker's side of the v3 API: the MVCC and lease
 * stores opened for writing, and committed v3 entries executed in the
 * batch transaction (src/v3 does the work). */
#include "config.h"
#include "stored/stored_int.h"
#include "config/cfg.h"
#include "ipc/proto.h"
#include "ipc/worker.h"
#include "store/lease.h"
#include "store/mvcc.h"
#include "util/err.h"
#include "util/log.h"
#include "v3/v3.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

int stored_v3_open(struct stored *s, char *err, size_t errlen)
{
	const struct cetcd_config *cfg = s->w->cfg;
	struct lease_cfg lc;
	int rc;

	if ((rc = mvcc_open(&s->mvcc, s->env, 1, err, errlen)) != 0)
		return rc;
	lease_cfg_init(&lc, (int64_t)cfg->heartbeat_interval_ms, (int64_t)cfg->election_timeout_ms);
	return lease_open(&s->lease, s->env, 1, &lc, err, errlen);
}

void stored_v3_close(struct stored *s)
{
	if (s->lease)
		lease_free(s->lease);
	s->lease = NULL;
	if (s->mvcc)
		mvcc_free(s->mvcc);
	s->mvcc = NULL;
}

/* etcd's gateway maps gRPC codes to HTTP statuses (grpc-gateway's
 * HTTPStatusFromCode); the api worker sends them. */
static uint32_t http_of(int code)
{
	switch (code) {
	case 0:
		return 200;
	case V3_NOT_FOUND:
		return 404;
	case V3_FAILED_PRECONDITION:
	case V3_INVALID_ARGUMENT:
	case V3_OUT_OF_RANGE:
		return 400;
	case V3_UNAVAILABLE:
		return 503;
	default:
		return 500;
	}
}

void stored_apply_v3(struct stored *s, const struct proto_envelope *env, uint64_t index)
{
	const uint8_t *body = env->body;
	struct v3_ctx c = { 0 };
	struct buf out;
	char msg[256];
	int code = 0, rc;

	if (env->len < 1) {
		log_error("entry %" PRIu64 ": empty v3 request; skipped", index);
		return;
	}
	c.mvcc = s->mvcc;
	c.lease = s->lease;
	c.cluster_id = s->cluster.cluster_id;
	c.member_id = s->cluster.self_id;
	c.raft_term = s->applied_term;
	c.max_txn_ops = (int64_t)s->w->cfg->max_txn_ops;
	buf_init(&out);
	rc = v3_apply(&c, s->txn, body[0], body + 1, env->len - 1, &out, &code, msg, sizeof(msg));
	if (rc < 0 || out.oom) {
		log_error("entry %" PRIu64 ": v3 apply failed: %s; exiting", index, ce_strerror(rc));
		exit(WORKER_EXIT_CRASH);
	}
	if (code == 0)
		stored_queue_result(s, env, 200, 0, 0, out.data, out.len, index);
	else
		stored_queue_result(s, env, http_of(code), (uint32_t)code, 0, msg, strlen(msg), index);
	buf_close(&out);
}
