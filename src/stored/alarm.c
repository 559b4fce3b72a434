/* alarm.c - the storage worker's side of etcd's alarms: AlarmRequests
 * applied to the meta table in the batch transaction, and etcd's
 * applierV3Capped (while a NOSPACE alarm is set anywhere in the cluster,
 * Put, LeaseGrant and Txns with puts are refused with ErrNoSpace; reads,
 * deletes, compactions, lease revokes and alarms still apply). */
#include "config.h"
#include "stored/stored_int.h"
#include "config/cfg.h"
#include "ipc/proto.h"
#include "ipc/worker.h"
#include "store/meta.h"
#include "util/err.h"
#include "util/log.h"
#include "v3/v3.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* Our own handle on meta.db (the v2 store keeps its handle private); one
 * storage worker per process, used by the event loop thread only. */
static DB *alarm_meta;

/* The quota's log lines, once per process as etcd's NewBackendQuota. */
static void log_quota(int64_t configured)
{
	static int logged;

	if (logged++)
		return;
	if (configured < 0)
		log_info("disabled backend quota (quota-size-bytes %" PRId64 ")", configured);
	else if (configured == 0)
		log_info("enabled backend quota with default value (quota-size-bytes %" PRId64 ")",
			V3_QUOTA_DEFAULT_BYTES);
	else {
		if (configured > V3_QUOTA_MAX_BYTES)
			log_warn("quota exceeds the maximum value (quota-size-bytes %" PRId64
				", quota-maximum-size-bytes %" PRId64 ")", configured, V3_QUOTA_MAX_BYTES);
		log_info("enabled backend quota (quota-size-bytes %" PRId64 ")", configured);
	}
}

int stored_alarm_open(struct stored *s, char *err, size_t errlen)
{
	log_quota(s->w->cfg->quota_backend_bytes);
	return meta_db_open(&alarm_meta, s->env, 1, err, errlen);
}

void stored_alarm_close(struct stored *s)
{
	(void)s;
	if (alarm_meta)
		alarm_meta->close(alarm_meta, 0);
	alarm_meta = NULL;
}

static int nospace_set(struct stored *s, uint64_t index)
{
	struct v3_alarm al[V3_ALARM_MAX];
	size_t n = 0;
	int rc = v3_alarm_list(alarm_meta, s->txn, al, V3_ALARM_MAX, &n);

	if (rc != 0) {
		log_error("entry %" PRIu64 ": read alarms: %s; exiting", index, ce_strerror(rc));
		exit(WORKER_EXIT_CRASH);
	}
	for (size_t i = 0; i < n; i++)
		if (al[i].type == V3_ALARM_NOSPACE)
			return 1;
	return 0;
}

int stored_alarm_hook(struct stored *s, const struct proto_envelope *env, uint64_t index)
{
	const uint8_t *body = env->body;
	struct buf out;
	int rc;

	if (alarm_meta == NULL || env->len < 1)
		return 0;
	if (body[0] == V3_ALARM) {
		buf_init(&out);
		rc = v3_alarm_apply(alarm_meta, s->txn, body + 1, env->len - 1, &out);
		if (rc != 0 || out.oom) {
			log_error("entry %" PRIu64 ": alarm apply failed: %s; exiting", index,
				ce_strerror(rc));
			exit(WORKER_EXIT_CRASH);
		}
		stored_queue_result(s, env, 200, 0, 0, out.data, out.len, index);
		buf_close(&out);
		return 1;
	}
	if (!v3_alarm_capped(body[0], body + 1, env->len - 1) || !nospace_set(s, index))
		return 0;
	stored_queue_result(s, env, v3_http_status(V3_RESOURCE_EXHAUSTED), V3_RESOURCE_EXHAUSTED, 0, V3_ERR_NOSPACE,
		strlen(V3_ERR_NOSPACE), index);
	return 1;
}
