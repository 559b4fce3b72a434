/* etcd_schema.c - cetcd's tables of etcd 3.4's v3 protobuf messages and of
 * the grpc-gateway paths that serve them. Keep fields in declaration order
 * (the gateway's JSON key order); json_name is protoc's lowerCamel form of
 * the name (a unit test recomputes it). */
#include "config.h"
#include "pb/etcd_schema.h"

#include <string.h>

/* ---- enums and messages ----------------------------------------------- */

static const struct pb_enumval etcdpb_sort_order_v[] = {
	{ "NONE", 0 },
	{ "ASCEND", 1 },
	{ "DESCEND", 2 },
};
const struct pb_enumdef etcdpb_sort_order = { "etcdserverpb.RangeRequest_SortOrder", etcdpb_sort_order_v, 3 };

static const struct pb_enumval etcdpb_sort_target_v[] = {
	{ "KEY", 0 },
	{ "VERSION", 1 },
	{ "CREATE", 2 },
	{ "MOD", 3 },
	{ "VALUE", 4 },
};
const struct pb_enumdef etcdpb_sort_target = { "etcdserverpb.RangeRequest_SortTarget", etcdpb_sort_target_v, 5 };

static const struct pb_enumval etcdpb_compare_result_v[] = {
	{ "EQUAL", 0 },
	{ "GREATER", 1 },
	{ "LESS", 2 },
	{ "NOT_EQUAL", 3 },
};
const struct pb_enumdef etcdpb_compare_result = { "etcdserverpb.Compare_CompareResult", etcdpb_compare_result_v, 4 };

static const struct pb_enumval etcdpb_compare_target_v[] = {
	{ "VERSION", 0 },
	{ "CREATE", 1 },
	{ "MOD", 2 },
	{ "VALUE", 3 },
	{ "LEASE", 4 },
};
const struct pb_enumdef etcdpb_compare_target = { "etcdserverpb.Compare_CompareTarget", etcdpb_compare_target_v, 5 };

static const struct pb_enumval etcdpb_filter_type_v[] = {
	{ "NOPUT", 0 },
	{ "NODELETE", 1 },
};
const struct pb_enumdef etcdpb_filter_type = { "etcdserverpb.WatchCreateRequest_FilterType", etcdpb_filter_type_v, 2 };

static const struct pb_enumval etcdpb_alarm_type_v[] = {
	{ "NONE", 0 },
	{ "NOSPACE", 1 },
	{ "CORRUPT", 2 },
};
const struct pb_enumdef etcdpb_alarm_type = { "etcdserverpb.AlarmType", etcdpb_alarm_type_v, 3 };

static const struct pb_enumval etcdpb_alarm_action_v[] = {
	{ "GET", 0 },
	{ "ACTIVATE", 1 },
	{ "DEACTIVATE", 2 },
};
const struct pb_enumdef etcdpb_alarm_action = { "etcdserverpb.AlarmRequest_AlarmAction", etcdpb_alarm_action_v, 3 };

static const struct pb_enumval mvccpb_event_type_v[] = {
	{ "PUT", 0 },
	{ "DELETE", 1 },
};
const struct pb_enumdef mvccpb_event_type = { "mvccpb.Event_EventType", mvccpb_event_type_v, 2 };

static const struct pb_enumval authpb_perm_type_v[] = {
	{ "READ", 0 },
	{ "WRITE", 1 },
	{ "READWRITE", 2 },
};
const struct pb_enumdef authpb_perm_type = { "authpb.Permission_Type", authpb_perm_type_v, 3 };

static const struct pb_field mvccpb_key_value_f[] = {
	{ 1, "key", "key", PB_BYTES, 0, NULL, NULL, 0 },
	{ 2, "create_revision", "createRevision", PB_INT64, 0, NULL, NULL, 0 },
	{ 3, "mod_revision", "modRevision", PB_INT64, 0, NULL, NULL, 0 },
	{ 4, "version", "version", PB_INT64, 0, NULL, NULL, 0 },
	{ 5, "value", "value", PB_BYTES, 0, NULL, NULL, 0 },
	{ 6, "lease", "lease", PB_INT64, 0, NULL, NULL, 0 },
};
const struct pb_msgdef mvccpb_key_value = { "mvccpb.KeyValue", mvccpb_key_value_f, 6 };

static const struct pb_field mvccpb_event_f[] = {
	{ 1, "type", "type", PB_ENUM, 0, NULL, &mvccpb_event_type, 0 },
	{ 2, "kv", "kv", PB_MSG, 0, &mvccpb_key_value, NULL, 0 },
	{ 3, "prev_kv", "prevKv", PB_MSG, 0, &mvccpb_key_value, NULL, 0 },
};
const struct pb_msgdef mvccpb_event = { "mvccpb.Event", mvccpb_event_f, 3 };

static const struct pb_field authpb_user_add_options_f[] = {
	{ 1, "no_password", "noPassword", PB_BOOL, 0, NULL, NULL, 0 },
};
const struct pb_msgdef authpb_user_add_options = { "authpb.UserAddOptions", authpb_user_add_options_f, 1 };

static const struct pb_field authpb_user_f[] = {
	{ 1, "name", "name", PB_BYTES, 0, NULL, NULL, 0 },
	{ 2, "password", "password", PB_BYTES, 0, NULL, NULL, 0 },
	{ 3, "roles", "roles", PB_STRING, 1, NULL, NULL, 0 },
	{ 4, "options", "options", PB_MSG, 0, &authpb_user_add_options, NULL, 0 },
};
const struct pb_msgdef authpb_user = { "authpb.User", authpb_user_f, 4 };

static const struct pb_field authpb_permission_f[] = {
	{ 1, "permType", "permType", PB_ENUM, 0, NULL, &authpb_perm_type, 0 },
	{ 2, "key", "key", PB_BYTES, 0, NULL, NULL, 0 },
	{ 3, "range_end", "rangeEnd", PB_BYTES, 0, NULL, NULL, 0 },
};
const struct pb_msgdef authpb_permission = { "authpb.Permission", authpb_permission_f, 3 };

static const struct pb_field authpb_role_f[] = {
	{ 1, "name", "name", PB_BYTES, 0, NULL, NULL, 0 },
	{ 2, "keyPermission", "keyPermission", PB_MSG, 1, &authpb_permission, NULL, 0 },
};
const struct pb_msgdef authpb_role = { "authpb.Role", authpb_role_f, 2 };

static const struct pb_field etcdpb_response_header_f[] = {
	{ 1, "cluster_id", "clusterId", PB_UINT64, 0, NULL, NULL, 0 },
	{ 2, "member_id", "memberId", PB_UINT64, 0, NULL, NULL, 0 },
	{ 3, "revision", "revision", PB_INT64, 0, NULL, NULL, 0 },
	{ 4, "raft_term", "raftTerm", PB_UINT64, 0, NULL, NULL, 0 },
};
const struct pb_msgdef etcdpb_response_header = { "etcdserverpb.ResponseHeader", etcdpb_response_header_f, 4 };

static const struct pb_field etcdpb_range_request_f[] = {
	{ 1, "key", "key", PB_BYTES, 0, NULL, NULL, 0 },
	{ 2, "range_end", "rangeEnd", PB_BYTES, 0, NULL, NULL, 0 },
	{ 3, "limit", "limit", PB_INT64, 0, NULL, NULL, 0 },
	{ 4, "revision", "revision", PB_INT64, 0, NULL, NULL, 0 },
	{ 5, "sort_order", "sortOrder", PB_ENUM, 0, NULL, &etcdpb_sort_order, 0 },
	{ 6, "sort_target", "sortTarget", PB_ENUM, 0, NULL, &etcdpb_sort_target, 0 },
	{ 7, "serializable", "serializable", PB_BOOL, 0, NULL, NULL, 0 },
	{ 8, "keys_only", "keysOnly", PB_BOOL, 0, NULL, NULL, 0 },
	{ 9, "count_only", "countOnly", PB_BOOL, 0, NULL, NULL, 0 },
	{ 10, "min_mod_revision", "minModRevision", PB_INT64, 0, NULL, NULL, 0 },
	{ 11, "max_mod_revision", "maxModRevision", PB_INT64, 0, NULL, NULL, 0 },
	{ 12, "min_create_revision", "minCreateRevision", PB_INT64, 0, NULL, NULL, 0 },
	{ 13, "max_create_revision", "maxCreateRevision", PB_INT64, 0, NULL, NULL, 0 },
};
const struct pb_msgdef etcdpb_range_request = { "etcdserverpb.RangeRequest", etcdpb_range_request_f, 13 };

static const struct pb_field etcdpb_range_response_f[] = {
	{ 1, "header", "header", PB_MSG, 0, &etcdpb_response_header, NULL, 0 },
	{ 2, "kvs", "kvs", PB_MSG, 1, &mvccpb_key_value, NULL, 0 },
	{ 3, "more", "more", PB_BOOL, 0, NULL, NULL, 0 },
	{ 4, "count", "count", PB_INT64, 0, NULL, NULL, 0 },
};
const struct pb_msgdef etcdpb_range_response = { "etcdserverpb.RangeResponse", etcdpb_range_response_f, 4 };

static const struct pb_field etcdpb_put_request_f[] = {
	{ 1, "key", "key", PB_BYTES, 0, NULL, NULL, 0 },
	{ 2, "value", "value", PB_BYTES, 0, NULL, NULL, 0 },
	{ 3, "lease", "lease", PB_INT64, 0, NULL, NULL, 0 },
	{ 4, "prev_kv", "prevKv", PB_BOOL, 0, NULL, NULL, 0 },
	{ 5, "ignore_value", "ignoreValue", PB_BOOL, 0, NULL, NULL, 0 },
	{ 6, "ignore_lease", "ignoreLease", PB_BOOL, 0, NULL, NULL, 0 },
};
const struct pb_msgdef etcdpb_put_request = { "etcdserverpb.PutRequest", etcdpb_put_request_f, 6 };

static const struct pb_field etcdpb_put_response_f[] = {
	{ 1, "header", "header", PB_MSG, 0, &etcdpb_response_header, NULL, 0 },
	{ 2, "prev_kv", "prevKv", PB_MSG, 0, &mvccpb_key_value, NULL, 0 },
};
const struct pb_msgdef etcdpb_put_response = { "etcdserverpb.PutResponse", etcdpb_put_response_f, 2 };

static const struct pb_field etcdpb_delete_range_request_f[] = {
	{ 1, "key", "key", PB_BYTES, 0, NULL, NULL, 0 },
	{ 2, "range_end", "rangeEnd", PB_BYTES, 0, NULL, NULL, 0 },
	{ 3, "prev_kv", "prevKv", PB_BOOL, 0, NULL, NULL, 0 },
};
const struct pb_msgdef etcdpb_delete_range_request = { "etcdserverpb.DeleteRangeRequest", etcdpb_delete_range_request_f, 3 };

static const struct pb_field etcdpb_delete_range_response_f[] = {
	{ 1, "header", "header", PB_MSG, 0, &etcdpb_response_header, NULL, 0 },
	{ 2, "deleted", "deleted", PB_INT64, 0, NULL, NULL, 0 },
	{ 3, "prev_kvs", "prevKvs", PB_MSG, 1, &mvccpb_key_value, NULL, 0 },
};
const struct pb_msgdef etcdpb_delete_range_response = { "etcdserverpb.DeleteRangeResponse", etcdpb_delete_range_response_f, 3 };

static const struct pb_field etcdpb_request_op_f[] = {
	{ 1, "request_range", "requestRange", PB_MSG, 0, &etcdpb_range_request, NULL, 1 },
	{ 2, "request_put", "requestPut", PB_MSG, 0, &etcdpb_put_request, NULL, 1 },
	{ 3, "request_delete_range", "requestDeleteRange", PB_MSG, 0, &etcdpb_delete_range_request, NULL, 1 },
	{ 4, "request_txn", "requestTxn", PB_MSG, 0, &etcdpb_txn_request, NULL, 1 },
};
const struct pb_msgdef etcdpb_request_op = { "etcdserverpb.RequestOp", etcdpb_request_op_f, 4 };

static const struct pb_field etcdpb_response_op_f[] = {
	{ 1, "response_range", "responseRange", PB_MSG, 0, &etcdpb_range_response, NULL, 1 },
	{ 2, "response_put", "responsePut", PB_MSG, 0, &etcdpb_put_response, NULL, 1 },
	{ 3, "response_delete_range", "responseDeleteRange", PB_MSG, 0, &etcdpb_delete_range_response, NULL, 1 },
	{ 4, "response_txn", "responseTxn", PB_MSG, 0, &etcdpb_txn_response, NULL, 1 },
};
const struct pb_msgdef etcdpb_response_op = { "etcdserverpb.ResponseOp", etcdpb_response_op_f, 4 };

static const struct pb_field etcdpb_compare_f[] = {
	{ 1, "result", "result", PB_ENUM, 0, NULL, &etcdpb_compare_result, 0 },
	{ 2, "target", "target", PB_ENUM, 0, NULL, &etcdpb_compare_target, 0 },
	{ 3, "key", "key", PB_BYTES, 0, NULL, NULL, 0 },
	{ 4, "version", "version", PB_INT64, 0, NULL, NULL, 1 },
	{ 5, "create_revision", "createRevision", PB_INT64, 0, NULL, NULL, 1 },
	{ 6, "mod_revision", "modRevision", PB_INT64, 0, NULL, NULL, 1 },
	{ 7, "value", "value", PB_BYTES, 0, NULL, NULL, 1 },
	{ 8, "lease", "lease", PB_INT64, 0, NULL, NULL, 1 },
	{ 64, "range_end", "rangeEnd", PB_BYTES, 0, NULL, NULL, 0 },
};
const struct pb_msgdef etcdpb_compare = { "etcdserverpb.Compare", etcdpb_compare_f, 9 };

static const struct pb_field etcdpb_txn_request_f[] = {
	{ 1, "compare", "compare", PB_MSG, 1, &etcdpb_compare, NULL, 0 },
	{ 2, "success", "success", PB_MSG, 1, &etcdpb_request_op, NULL, 0 },
	{ 3, "failure", "failure", PB_MSG, 1, &etcdpb_request_op, NULL, 0 },
};
const struct pb_msgdef etcdpb_txn_request = { "etcdserverpb.TxnRequest", etcdpb_txn_request_f, 3 };

static const struct pb_field etcdpb_txn_response_f[] = {
	{ 1, "header", "header", PB_MSG, 0, &etcdpb_response_header, NULL, 0 },
	{ 2, "succeeded", "succeeded", PB_BOOL, 0, NULL, NULL, 0 },
	{ 3, "responses", "responses", PB_MSG, 1, &etcdpb_response_op, NULL, 0 },
};
const struct pb_msgdef etcdpb_txn_response = { "etcdserverpb.TxnResponse", etcdpb_txn_response_f, 3 };

static const struct pb_field etcdpb_compaction_request_f[] = {
	{ 1, "revision", "revision", PB_INT64, 0, NULL, NULL, 0 },
	{ 2, "physical", "physical", PB_BOOL, 0, NULL, NULL, 0 },
};
const struct pb_msgdef etcdpb_compaction_request = { "etcdserverpb.CompactionRequest", etcdpb_compaction_request_f, 2 };

static const struct pb_field etcdpb_compaction_response_f[] = {
	{ 1, "header", "header", PB_MSG, 0, &etcdpb_response_header, NULL, 0 },
};
const struct pb_msgdef etcdpb_compaction_response = { "etcdserverpb.CompactionResponse", etcdpb_compaction_response_f, 1 };

const struct pb_msgdef etcdpb_hash_request = { "etcdserverpb.HashRequest", NULL, 0 };

static const struct pb_field etcdpb_hash_kv_request_f[] = {
	{ 1, "revision", "revision", PB_INT64, 0, NULL, NULL, 0 },
};
const struct pb_msgdef etcdpb_hash_kv_request = { "etcdserverpb.HashKVRequest", etcdpb_hash_kv_request_f, 1 };

static const struct pb_field etcdpb_hash_kv_response_f[] = {
	{ 1, "header", "header", PB_MSG, 0, &etcdpb_response_header, NULL, 0 },
	{ 2, "hash", "hash", PB_UINT32, 0, NULL, NULL, 0 },
	{ 3, "compact_revision", "compactRevision", PB_INT64, 0, NULL, NULL, 0 },
};
const struct pb_msgdef etcdpb_hash_kv_response = { "etcdserverpb.HashKVResponse", etcdpb_hash_kv_response_f, 3 };

static const struct pb_field etcdpb_hash_response_f[] = {
	{ 1, "header", "header", PB_MSG, 0, &etcdpb_response_header, NULL, 0 },
	{ 2, "hash", "hash", PB_UINT32, 0, NULL, NULL, 0 },
};
const struct pb_msgdef etcdpb_hash_response = { "etcdserverpb.HashResponse", etcdpb_hash_response_f, 2 };

const struct pb_msgdef etcdpb_snapshot_request = { "etcdserverpb.SnapshotRequest", NULL, 0 };

static const struct pb_field etcdpb_snapshot_response_f[] = {
	{ 1, "header", "header", PB_MSG, 0, &etcdpb_response_header, NULL, 0 },
	{ 2, "remaining_bytes", "remainingBytes", PB_UINT64, 0, NULL, NULL, 0 },
	{ 3, "blob", "blob", PB_BYTES, 0, NULL, NULL, 0 },
};
const struct pb_msgdef etcdpb_snapshot_response = { "etcdserverpb.SnapshotResponse", etcdpb_snapshot_response_f, 3 };

static const struct pb_field etcdpb_watch_request_f[] = {
	{ 1, "create_request", "createRequest", PB_MSG, 0, &etcdpb_watch_create_request, NULL, 1 },
	{ 2, "cancel_request", "cancelRequest", PB_MSG, 0, &etcdpb_watch_cancel_request, NULL, 1 },
	{ 3, "progress_request", "progressRequest", PB_MSG, 0, &etcdpb_watch_progress_request, NULL, 1 },
};
const struct pb_msgdef etcdpb_watch_request = { "etcdserverpb.WatchRequest", etcdpb_watch_request_f, 3 };

static const struct pb_field etcdpb_watch_create_request_f[] = {
	{ 1, "key", "key", PB_BYTES, 0, NULL, NULL, 0 },
	{ 2, "range_end", "rangeEnd", PB_BYTES, 0, NULL, NULL, 0 },
	{ 3, "start_revision", "startRevision", PB_INT64, 0, NULL, NULL, 0 },
	{ 4, "progress_notify", "progressNotify", PB_BOOL, 0, NULL, NULL, 0 },
	{ 5, "filters", "filters", PB_ENUM, 1, NULL, &etcdpb_filter_type, 0 },
	{ 6, "prev_kv", "prevKv", PB_BOOL, 0, NULL, NULL, 0 },
	{ 7, "watch_id", "watchId", PB_INT64, 0, NULL, NULL, 0 },
	{ 8, "fragment", "fragment", PB_BOOL, 0, NULL, NULL, 0 },
};
const struct pb_msgdef etcdpb_watch_create_request = { "etcdserverpb.WatchCreateRequest", etcdpb_watch_create_request_f, 8 };

static const struct pb_field etcdpb_watch_cancel_request_f[] = {
	{ 1, "watch_id", "watchId", PB_INT64, 0, NULL, NULL, 0 },
};
const struct pb_msgdef etcdpb_watch_cancel_request = { "etcdserverpb.WatchCancelRequest", etcdpb_watch_cancel_request_f, 1 };

const struct pb_msgdef etcdpb_watch_progress_request = { "etcdserverpb.WatchProgressRequest", NULL, 0 };

static const struct pb_field etcdpb_watch_response_f[] = {
	{ 1, "header", "header", PB_MSG, 0, &etcdpb_response_header, NULL, 0 },
	{ 2, "watch_id", "watchId", PB_INT64, 0, NULL, NULL, 0 },
	{ 3, "created", "created", PB_BOOL, 0, NULL, NULL, 0 },
	{ 4, "canceled", "canceled", PB_BOOL, 0, NULL, NULL, 0 },
	{ 5, "compact_revision", "compactRevision", PB_INT64, 0, NULL, NULL, 0 },
	{ 6, "cancel_reason", "cancelReason", PB_STRING, 0, NULL, NULL, 0 },
	{ 7, "fragment", "fragment", PB_BOOL, 0, NULL, NULL, 0 },
	{ 11, "events", "events", PB_MSG, 1, &mvccpb_event, NULL, 0 },
};
const struct pb_msgdef etcdpb_watch_response = { "etcdserverpb.WatchResponse", etcdpb_watch_response_f, 8 };

static const struct pb_field etcdpb_lease_grant_request_f[] = {
	{ 1, "TTL", "TTL", PB_INT64, 0, NULL, NULL, 0 },
	{ 2, "ID", "ID", PB_INT64, 0, NULL, NULL, 0 },
};
const struct pb_msgdef etcdpb_lease_grant_request = { "etcdserverpb.LeaseGrantRequest", etcdpb_lease_grant_request_f, 2 };

static const struct pb_field etcdpb_lease_grant_response_f[] = {
	{ 1, "header", "header", PB_MSG, 0, &etcdpb_response_header, NULL, 0 },
	{ 2, "ID", "ID", PB_INT64, 0, NULL, NULL, 0 },
	{ 3, "TTL", "TTL", PB_INT64, 0, NULL, NULL, 0 },
	{ 4, "error", "error", PB_STRING, 0, NULL, NULL, 0 },
};
const struct pb_msgdef etcdpb_lease_grant_response = { "etcdserverpb.LeaseGrantResponse", etcdpb_lease_grant_response_f, 4 };

static const struct pb_field etcdpb_lease_revoke_request_f[] = {
	{ 1, "ID", "ID", PB_INT64, 0, NULL, NULL, 0 },
};
const struct pb_msgdef etcdpb_lease_revoke_request = { "etcdserverpb.LeaseRevokeRequest", etcdpb_lease_revoke_request_f, 1 };

static const struct pb_field etcdpb_lease_revoke_response_f[] = {
	{ 1, "header", "header", PB_MSG, 0, &etcdpb_response_header, NULL, 0 },
};
const struct pb_msgdef etcdpb_lease_revoke_response = { "etcdserverpb.LeaseRevokeResponse", etcdpb_lease_revoke_response_f, 1 };

static const struct pb_field etcdpb_lease_checkpoint_f[] = {
	{ 1, "ID", "ID", PB_INT64, 0, NULL, NULL, 0 },
	{ 2, "remaining_TTL", "remainingTTL", PB_INT64, 0, NULL, NULL, 0 },
};
const struct pb_msgdef etcdpb_lease_checkpoint = { "etcdserverpb.LeaseCheckpoint", etcdpb_lease_checkpoint_f, 2 };

static const struct pb_field etcdpb_lease_checkpoint_request_f[] = {
	{ 1, "checkpoints", "checkpoints", PB_MSG, 1, &etcdpb_lease_checkpoint, NULL, 0 },
};
const struct pb_msgdef etcdpb_lease_checkpoint_request = { "etcdserverpb.LeaseCheckpointRequest", etcdpb_lease_checkpoint_request_f, 1 };

static const struct pb_field etcdpb_lease_checkpoint_response_f[] = {
	{ 1, "header", "header", PB_MSG, 0, &etcdpb_response_header, NULL, 0 },
};
const struct pb_msgdef etcdpb_lease_checkpoint_response = { "etcdserverpb.LeaseCheckpointResponse", etcdpb_lease_checkpoint_response_f, 1 };

static const struct pb_field etcdpb_lease_keep_alive_request_f[] = {
	{ 1, "ID", "ID", PB_INT64, 0, NULL, NULL, 0 },
};
const struct pb_msgdef etcdpb_lease_keep_alive_request = { "etcdserverpb.LeaseKeepAliveRequest", etcdpb_lease_keep_alive_request_f, 1 };

static const struct pb_field etcdpb_lease_keep_alive_response_f[] = {
	{ 1, "header", "header", PB_MSG, 0, &etcdpb_response_header, NULL, 0 },
	{ 2, "ID", "ID", PB_INT64, 0, NULL, NULL, 0 },
	{ 3, "TTL", "TTL", PB_INT64, 0, NULL, NULL, 0 },
};
const struct pb_msgdef etcdpb_lease_keep_alive_response = { "etcdserverpb.LeaseKeepAliveResponse", etcdpb_lease_keep_alive_response_f, 3 };

static const struct pb_field etcdpb_lease_time_to_live_request_f[] = {
	{ 1, "ID", "ID", PB_INT64, 0, NULL, NULL, 0 },
	{ 2, "keys", "keys", PB_BOOL, 0, NULL, NULL, 0 },
};
const struct pb_msgdef etcdpb_lease_time_to_live_request = { "etcdserverpb.LeaseTimeToLiveRequest", etcdpb_lease_time_to_live_request_f, 2 };

static const struct pb_field etcdpb_lease_time_to_live_response_f[] = {
	{ 1, "header", "header", PB_MSG, 0, &etcdpb_response_header, NULL, 0 },
	{ 2, "ID", "ID", PB_INT64, 0, NULL, NULL, 0 },
	{ 3, "TTL", "TTL", PB_INT64, 0, NULL, NULL, 0 },
	{ 4, "grantedTTL", "grantedTTL", PB_INT64, 0, NULL, NULL, 0 },
	{ 5, "keys", "keys", PB_BYTES, 1, NULL, NULL, 0 },
};
const struct pb_msgdef etcdpb_lease_time_to_live_response = { "etcdserverpb.LeaseTimeToLiveResponse", etcdpb_lease_time_to_live_response_f, 5 };

const struct pb_msgdef etcdpb_lease_leases_request = { "etcdserverpb.LeaseLeasesRequest", NULL, 0 };

static const struct pb_field etcdpb_lease_status_f[] = {
	{ 1, "ID", "ID", PB_INT64, 0, NULL, NULL, 0 },
};
const struct pb_msgdef etcdpb_lease_status = { "etcdserverpb.LeaseStatus", etcdpb_lease_status_f, 1 };

static const struct pb_field etcdpb_lease_leases_response_f[] = {
	{ 1, "header", "header", PB_MSG, 0, &etcdpb_response_header, NULL, 0 },
	{ 2, "leases", "leases", PB_MSG, 1, &etcdpb_lease_status, NULL, 0 },
};
const struct pb_msgdef etcdpb_lease_leases_response = { "etcdserverpb.LeaseLeasesResponse", etcdpb_lease_leases_response_f, 2 };

static const struct pb_field etcdpb_member_f[] = {
	{ 1, "ID", "ID", PB_UINT64, 0, NULL, NULL, 0 },
	{ 2, "name", "name", PB_STRING, 0, NULL, NULL, 0 },
	{ 3, "peerURLs", "peerURLs", PB_STRING, 1, NULL, NULL, 0 },
	{ 4, "clientURLs", "clientURLs", PB_STRING, 1, NULL, NULL, 0 },
	{ 5, "isLearner", "isLearner", PB_BOOL, 0, NULL, NULL, 0 },
};
const struct pb_msgdef etcdpb_member = { "etcdserverpb.Member", etcdpb_member_f, 5 };

static const struct pb_field etcdpb_member_add_request_f[] = {
	{ 1, "peerURLs", "peerURLs", PB_STRING, 1, NULL, NULL, 0 },
	{ 2, "isLearner", "isLearner", PB_BOOL, 0, NULL, NULL, 0 },
};
const struct pb_msgdef etcdpb_member_add_request = { "etcdserverpb.MemberAddRequest", etcdpb_member_add_request_f, 2 };

static const struct pb_field etcdpb_member_add_response_f[] = {
	{ 1, "header", "header", PB_MSG, 0, &etcdpb_response_header, NULL, 0 },
	{ 2, "member", "member", PB_MSG, 0, &etcdpb_member, NULL, 0 },
	{ 3, "members", "members", PB_MSG, 1, &etcdpb_member, NULL, 0 },
};
const struct pb_msgdef etcdpb_member_add_response = { "etcdserverpb.MemberAddResponse", etcdpb_member_add_response_f, 3 };

static const struct pb_field etcdpb_member_remove_request_f[] = {
	{ 1, "ID", "ID", PB_UINT64, 0, NULL, NULL, 0 },
};
const struct pb_msgdef etcdpb_member_remove_request = { "etcdserverpb.MemberRemoveRequest", etcdpb_member_remove_request_f, 1 };

static const struct pb_field etcdpb_member_remove_response_f[] = {
	{ 1, "header", "header", PB_MSG, 0, &etcdpb_response_header, NULL, 0 },
	{ 2, "members", "members", PB_MSG, 1, &etcdpb_member, NULL, 0 },
};
const struct pb_msgdef etcdpb_member_remove_response = { "etcdserverpb.MemberRemoveResponse", etcdpb_member_remove_response_f, 2 };

static const struct pb_field etcdpb_member_update_request_f[] = {
	{ 1, "ID", "ID", PB_UINT64, 0, NULL, NULL, 0 },
	{ 2, "peerURLs", "peerURLs", PB_STRING, 1, NULL, NULL, 0 },
};
const struct pb_msgdef etcdpb_member_update_request = { "etcdserverpb.MemberUpdateRequest", etcdpb_member_update_request_f, 2 };

static const struct pb_field etcdpb_member_update_response_f[] = {
	{ 1, "header", "header", PB_MSG, 0, &etcdpb_response_header, NULL, 0 },
	{ 2, "members", "members", PB_MSG, 1, &etcdpb_member, NULL, 0 },
};
const struct pb_msgdef etcdpb_member_update_response = { "etcdserverpb.MemberUpdateResponse", etcdpb_member_update_response_f, 2 };

const struct pb_msgdef etcdpb_member_list_request = { "etcdserverpb.MemberListRequest", NULL, 0 };

static const struct pb_field etcdpb_member_list_response_f[] = {
	{ 1, "header", "header", PB_MSG, 0, &etcdpb_response_header, NULL, 0 },
	{ 2, "members", "members", PB_MSG, 1, &etcdpb_member, NULL, 0 },
};
const struct pb_msgdef etcdpb_member_list_response = { "etcdserverpb.MemberListResponse", etcdpb_member_list_response_f, 2 };

static const struct pb_field etcdpb_member_promote_request_f[] = {
	{ 1, "ID", "ID", PB_UINT64, 0, NULL, NULL, 0 },
};
const struct pb_msgdef etcdpb_member_promote_request = { "etcdserverpb.MemberPromoteRequest", etcdpb_member_promote_request_f, 1 };

static const struct pb_field etcdpb_member_promote_response_f[] = {
	{ 1, "header", "header", PB_MSG, 0, &etcdpb_response_header, NULL, 0 },
	{ 2, "members", "members", PB_MSG, 1, &etcdpb_member, NULL, 0 },
};
const struct pb_msgdef etcdpb_member_promote_response = { "etcdserverpb.MemberPromoteResponse", etcdpb_member_promote_response_f, 2 };

const struct pb_msgdef etcdpb_defragment_request = { "etcdserverpb.DefragmentRequest", NULL, 0 };

static const struct pb_field etcdpb_defragment_response_f[] = {
	{ 1, "header", "header", PB_MSG, 0, &etcdpb_response_header, NULL, 0 },
};
const struct pb_msgdef etcdpb_defragment_response = { "etcdserverpb.DefragmentResponse", etcdpb_defragment_response_f, 1 };

static const struct pb_field etcdpb_move_leader_request_f[] = {
	{ 1, "targetID", "targetID", PB_UINT64, 0, NULL, NULL, 0 },
};
const struct pb_msgdef etcdpb_move_leader_request = { "etcdserverpb.MoveLeaderRequest", etcdpb_move_leader_request_f, 1 };

static const struct pb_field etcdpb_move_leader_response_f[] = {
	{ 1, "header", "header", PB_MSG, 0, &etcdpb_response_header, NULL, 0 },
};
const struct pb_msgdef etcdpb_move_leader_response = { "etcdserverpb.MoveLeaderResponse", etcdpb_move_leader_response_f, 1 };

static const struct pb_field etcdpb_alarm_request_f[] = {
	{ 1, "action", "action", PB_ENUM, 0, NULL, &etcdpb_alarm_action, 0 },
	{ 2, "memberID", "memberID", PB_UINT64, 0, NULL, NULL, 0 },
	{ 3, "alarm", "alarm", PB_ENUM, 0, NULL, &etcdpb_alarm_type, 0 },
};
const struct pb_msgdef etcdpb_alarm_request = { "etcdserverpb.AlarmRequest", etcdpb_alarm_request_f, 3 };

static const struct pb_field etcdpb_alarm_member_f[] = {
	{ 1, "memberID", "memberID", PB_UINT64, 0, NULL, NULL, 0 },
	{ 2, "alarm", "alarm", PB_ENUM, 0, NULL, &etcdpb_alarm_type, 0 },
};
const struct pb_msgdef etcdpb_alarm_member = { "etcdserverpb.AlarmMember", etcdpb_alarm_member_f, 2 };

static const struct pb_field etcdpb_alarm_response_f[] = {
	{ 1, "header", "header", PB_MSG, 0, &etcdpb_response_header, NULL, 0 },
	{ 2, "alarms", "alarms", PB_MSG, 1, &etcdpb_alarm_member, NULL, 0 },
};
const struct pb_msgdef etcdpb_alarm_response = { "etcdserverpb.AlarmResponse", etcdpb_alarm_response_f, 2 };

const struct pb_msgdef etcdpb_status_request = { "etcdserverpb.StatusRequest", NULL, 0 };

static const struct pb_field etcdpb_status_response_f[] = {
	{ 1, "header", "header", PB_MSG, 0, &etcdpb_response_header, NULL, 0 },
	{ 2, "version", "version", PB_STRING, 0, NULL, NULL, 0 },
	{ 3, "dbSize", "dbSize", PB_INT64, 0, NULL, NULL, 0 },
	{ 4, "leader", "leader", PB_UINT64, 0, NULL, NULL, 0 },
	{ 5, "raftIndex", "raftIndex", PB_UINT64, 0, NULL, NULL, 0 },
	{ 6, "raftTerm", "raftTerm", PB_UINT64, 0, NULL, NULL, 0 },
	{ 7, "raftAppliedIndex", "raftAppliedIndex", PB_UINT64, 0, NULL, NULL, 0 },
	{ 8, "errors", "errors", PB_STRING, 1, NULL, NULL, 0 },
	{ 9, "dbSizeInUse", "dbSizeInUse", PB_INT64, 0, NULL, NULL, 0 },
	{ 10, "isLearner", "isLearner", PB_BOOL, 0, NULL, NULL, 0 },
};
const struct pb_msgdef etcdpb_status_response = { "etcdserverpb.StatusResponse", etcdpb_status_response_f, 10 };

const struct pb_msgdef etcdpb_auth_enable_request = { "etcdserverpb.AuthEnableRequest", NULL, 0 };

const struct pb_msgdef etcdpb_auth_disable_request = { "etcdserverpb.AuthDisableRequest", NULL, 0 };

static const struct pb_field etcdpb_authenticate_request_f[] = {
	{ 1, "name", "name", PB_STRING, 0, NULL, NULL, 0 },
	{ 2, "password", "password", PB_STRING, 0, NULL, NULL, 0 },
};
const struct pb_msgdef etcdpb_authenticate_request = { "etcdserverpb.AuthenticateRequest", etcdpb_authenticate_request_f, 2 };

static const struct pb_field etcdpb_auth_user_add_request_f[] = {
	{ 1, "name", "name", PB_STRING, 0, NULL, NULL, 0 },
	{ 2, "password", "password", PB_STRING, 0, NULL, NULL, 0 },
	{ 3, "options", "options", PB_MSG, 0, &authpb_user_add_options, NULL, 0 },
};
const struct pb_msgdef etcdpb_auth_user_add_request = { "etcdserverpb.AuthUserAddRequest", etcdpb_auth_user_add_request_f, 3 };

static const struct pb_field etcdpb_auth_user_get_request_f[] = {
	{ 1, "name", "name", PB_STRING, 0, NULL, NULL, 0 },
};
const struct pb_msgdef etcdpb_auth_user_get_request = { "etcdserverpb.AuthUserGetRequest", etcdpb_auth_user_get_request_f, 1 };

static const struct pb_field etcdpb_auth_user_delete_request_f[] = {
	{ 1, "name", "name", PB_STRING, 0, NULL, NULL, 0 },
};
const struct pb_msgdef etcdpb_auth_user_delete_request = { "etcdserverpb.AuthUserDeleteRequest", etcdpb_auth_user_delete_request_f, 1 };

static const struct pb_field etcdpb_auth_user_change_password_request_f[] = {
	{ 1, "name", "name", PB_STRING, 0, NULL, NULL, 0 },
	{ 2, "password", "password", PB_STRING, 0, NULL, NULL, 0 },
};
const struct pb_msgdef etcdpb_auth_user_change_password_request = { "etcdserverpb.AuthUserChangePasswordRequest", etcdpb_auth_user_change_password_request_f, 2 };

static const struct pb_field etcdpb_auth_user_grant_role_request_f[] = {
	{ 1, "user", "user", PB_STRING, 0, NULL, NULL, 0 },
	{ 2, "role", "role", PB_STRING, 0, NULL, NULL, 0 },
};
const struct pb_msgdef etcdpb_auth_user_grant_role_request = { "etcdserverpb.AuthUserGrantRoleRequest", etcdpb_auth_user_grant_role_request_f, 2 };

static const struct pb_field etcdpb_auth_user_revoke_role_request_f[] = {
	{ 1, "name", "name", PB_STRING, 0, NULL, NULL, 0 },
	{ 2, "role", "role", PB_STRING, 0, NULL, NULL, 0 },
};
const struct pb_msgdef etcdpb_auth_user_revoke_role_request = { "etcdserverpb.AuthUserRevokeRoleRequest", etcdpb_auth_user_revoke_role_request_f, 2 };

static const struct pb_field etcdpb_auth_role_add_request_f[] = {
	{ 1, "name", "name", PB_STRING, 0, NULL, NULL, 0 },
};
const struct pb_msgdef etcdpb_auth_role_add_request = { "etcdserverpb.AuthRoleAddRequest", etcdpb_auth_role_add_request_f, 1 };

static const struct pb_field etcdpb_auth_role_get_request_f[] = {
	{ 1, "role", "role", PB_STRING, 0, NULL, NULL, 0 },
};
const struct pb_msgdef etcdpb_auth_role_get_request = { "etcdserverpb.AuthRoleGetRequest", etcdpb_auth_role_get_request_f, 1 };

const struct pb_msgdef etcdpb_auth_user_list_request = { "etcdserverpb.AuthUserListRequest", NULL, 0 };

const struct pb_msgdef etcdpb_auth_role_list_request = { "etcdserverpb.AuthRoleListRequest", NULL, 0 };

static const struct pb_field etcdpb_auth_role_delete_request_f[] = {
	{ 1, "role", "role", PB_STRING, 0, NULL, NULL, 0 },
};
const struct pb_msgdef etcdpb_auth_role_delete_request = { "etcdserverpb.AuthRoleDeleteRequest", etcdpb_auth_role_delete_request_f, 1 };

static const struct pb_field etcdpb_auth_role_grant_permission_request_f[] = {
	{ 1, "name", "name", PB_STRING, 0, NULL, NULL, 0 },
	{ 2, "perm", "perm", PB_MSG, 0, &authpb_permission, NULL, 0 },
};
const struct pb_msgdef etcdpb_auth_role_grant_permission_request = { "etcdserverpb.AuthRoleGrantPermissionRequest", etcdpb_auth_role_grant_permission_request_f, 2 };

static const struct pb_field etcdpb_auth_role_revoke_permission_request_f[] = {
	{ 1, "role", "role", PB_STRING, 0, NULL, NULL, 0 },
	{ 2, "key", "key", PB_BYTES, 0, NULL, NULL, 0 },
	{ 3, "range_end", "rangeEnd", PB_BYTES, 0, NULL, NULL, 0 },
};
const struct pb_msgdef etcdpb_auth_role_revoke_permission_request = { "etcdserverpb.AuthRoleRevokePermissionRequest", etcdpb_auth_role_revoke_permission_request_f, 3 };

static const struct pb_field etcdpb_auth_header_response_f[] = {
	{ 1, "header", "header", PB_MSG, 0, &etcdpb_response_header, NULL, 0 },
};
const struct pb_msgdef etcdpb_auth_header_response = { "etcdserverpb.AuthEnableResponse", etcdpb_auth_header_response_f, 1 };

static const struct pb_field etcdpb_authenticate_response_f[] = {
	{ 1, "header", "header", PB_MSG, 0, &etcdpb_response_header, NULL, 0 },
	{ 2, "token", "token", PB_STRING, 0, NULL, NULL, 0 },
};
const struct pb_msgdef etcdpb_authenticate_response = { "etcdserverpb.AuthenticateResponse", etcdpb_authenticate_response_f, 2 };

static const struct pb_field etcdpb_auth_user_get_response_f[] = {
	{ 1, "header", "header", PB_MSG, 0, &etcdpb_response_header, NULL, 0 },
	{ 2, "roles", "roles", PB_STRING, 1, NULL, NULL, 0 },
};
const struct pb_msgdef etcdpb_auth_user_get_response = { "etcdserverpb.AuthUserGetResponse", etcdpb_auth_user_get_response_f, 2 };

static const struct pb_field etcdpb_auth_role_get_response_f[] = {
	{ 1, "header", "header", PB_MSG, 0, &etcdpb_response_header, NULL, 0 },
	{ 2, "perm", "perm", PB_MSG, 1, &authpb_permission, NULL, 0 },
};
const struct pb_msgdef etcdpb_auth_role_get_response = { "etcdserverpb.AuthRoleGetResponse", etcdpb_auth_role_get_response_f, 2 };

static const struct pb_field etcdpb_auth_role_list_response_f[] = {
	{ 1, "header", "header", PB_MSG, 0, &etcdpb_response_header, NULL, 0 },
	{ 2, "roles", "roles", PB_STRING, 1, NULL, NULL, 0 },
};
const struct pb_msgdef etcdpb_auth_role_list_response = { "etcdserverpb.AuthRoleListResponse", etcdpb_auth_role_list_response_f, 2 };

static const struct pb_field etcdpb_auth_user_list_response_f[] = {
	{ 1, "header", "header", PB_MSG, 0, &etcdpb_response_header, NULL, 0 },
	{ 2, "users", "users", PB_STRING, 1, NULL, NULL, 0 },
};
const struct pb_msgdef etcdpb_auth_user_list_response = { "etcdserverpb.AuthUserListResponse", etcdpb_auth_user_list_response_f, 2 };

static const struct pb_field v3lockpb_lock_request_f[] = {
	{ 1, "name", "name", PB_BYTES, 0, NULL, NULL, 0 },
	{ 2, "lease", "lease", PB_INT64, 0, NULL, NULL, 0 },
};
const struct pb_msgdef v3lockpb_lock_request = { "v3lockpb.LockRequest", v3lockpb_lock_request_f, 2 };

static const struct pb_field v3lockpb_lock_response_f[] = {
	{ 1, "header", "header", PB_MSG, 0, &etcdpb_response_header, NULL, 0 },
	{ 2, "key", "key", PB_BYTES, 0, NULL, NULL, 0 },
};
const struct pb_msgdef v3lockpb_lock_response = { "v3lockpb.LockResponse", v3lockpb_lock_response_f, 2 };

static const struct pb_field v3lockpb_unlock_request_f[] = {
	{ 1, "key", "key", PB_BYTES, 0, NULL, NULL, 0 },
};
const struct pb_msgdef v3lockpb_unlock_request = { "v3lockpb.UnlockRequest", v3lockpb_unlock_request_f, 1 };

static const struct pb_field v3lockpb_unlock_response_f[] = {
	{ 1, "header", "header", PB_MSG, 0, &etcdpb_response_header, NULL, 0 },
};
const struct pb_msgdef v3lockpb_unlock_response = { "v3lockpb.UnlockResponse", v3lockpb_unlock_response_f, 1 };

static const struct pb_field v3electionpb_campaign_request_f[] = {
	{ 1, "name", "name", PB_BYTES, 0, NULL, NULL, 0 },
	{ 2, "lease", "lease", PB_INT64, 0, NULL, NULL, 0 },
	{ 3, "value", "value", PB_BYTES, 0, NULL, NULL, 0 },
};
const struct pb_msgdef v3electionpb_campaign_request = { "v3electionpb.CampaignRequest", v3electionpb_campaign_request_f, 3 };

static const struct pb_field v3electionpb_campaign_response_f[] = {
	{ 1, "header", "header", PB_MSG, 0, &etcdpb_response_header, NULL, 0 },
	{ 2, "leader", "leader", PB_MSG, 0, &v3electionpb_leader_key, NULL, 0 },
};
const struct pb_msgdef v3electionpb_campaign_response = { "v3electionpb.CampaignResponse", v3electionpb_campaign_response_f, 2 };

static const struct pb_field v3electionpb_leader_key_f[] = {
	{ 1, "name", "name", PB_BYTES, 0, NULL, NULL, 0 },
	{ 2, "key", "key", PB_BYTES, 0, NULL, NULL, 0 },
	{ 3, "rev", "rev", PB_INT64, 0, NULL, NULL, 0 },
	{ 4, "lease", "lease", PB_INT64, 0, NULL, NULL, 0 },
};
const struct pb_msgdef v3electionpb_leader_key = { "v3electionpb.LeaderKey", v3electionpb_leader_key_f, 4 };

static const struct pb_field v3electionpb_leader_request_f[] = {
	{ 1, "name", "name", PB_BYTES, 0, NULL, NULL, 0 },
};
const struct pb_msgdef v3electionpb_leader_request = { "v3electionpb.LeaderRequest", v3electionpb_leader_request_f, 1 };

static const struct pb_field v3electionpb_leader_response_f[] = {
	{ 1, "header", "header", PB_MSG, 0, &etcdpb_response_header, NULL, 0 },
	{ 2, "kv", "kv", PB_MSG, 0, &mvccpb_key_value, NULL, 0 },
};
const struct pb_msgdef v3electionpb_leader_response = { "v3electionpb.LeaderResponse", v3electionpb_leader_response_f, 2 };

static const struct pb_field v3electionpb_resign_request_f[] = {
	{ 1, "leader", "leader", PB_MSG, 0, &v3electionpb_leader_key, NULL, 0 },
};
const struct pb_msgdef v3electionpb_resign_request = { "v3electionpb.ResignRequest", v3electionpb_resign_request_f, 1 };

static const struct pb_field v3electionpb_resign_response_f[] = {
	{ 1, "header", "header", PB_MSG, 0, &etcdpb_response_header, NULL, 0 },
};
const struct pb_msgdef v3electionpb_resign_response = { "v3electionpb.ResignResponse", v3electionpb_resign_response_f, 1 };

static const struct pb_field v3electionpb_proclaim_request_f[] = {
	{ 1, "leader", "leader", PB_MSG, 0, &v3electionpb_leader_key, NULL, 0 },
	{ 2, "value", "value", PB_BYTES, 0, NULL, NULL, 0 },
};
const struct pb_msgdef v3electionpb_proclaim_request = { "v3electionpb.ProclaimRequest", v3electionpb_proclaim_request_f, 2 };

static const struct pb_field v3electionpb_proclaim_response_f[] = {
	{ 1, "header", "header", PB_MSG, 0, &etcdpb_response_header, NULL, 0 },
};
const struct pb_msgdef v3electionpb_proclaim_response = { "v3electionpb.ProclaimResponse", v3electionpb_proclaim_response_f, 1 };

const struct pb_msgdef *const etcd_schema_all[] = {
	&mvccpb_key_value,
	&mvccpb_event,
	&authpb_user_add_options,
	&authpb_user,
	&authpb_permission,
	&authpb_role,
	&etcdpb_response_header,
	&etcdpb_range_request,
	&etcdpb_range_response,
	&etcdpb_put_request,
	&etcdpb_put_response,
	&etcdpb_delete_range_request,
	&etcdpb_delete_range_response,
	&etcdpb_request_op,
	&etcdpb_response_op,
	&etcdpb_compare,
	&etcdpb_txn_request,
	&etcdpb_txn_response,
	&etcdpb_compaction_request,
	&etcdpb_compaction_response,
	&etcdpb_hash_request,
	&etcdpb_hash_kv_request,
	&etcdpb_hash_kv_response,
	&etcdpb_hash_response,
	&etcdpb_snapshot_request,
	&etcdpb_snapshot_response,
	&etcdpb_watch_request,
	&etcdpb_watch_create_request,
	&etcdpb_watch_cancel_request,
	&etcdpb_watch_progress_request,
	&etcdpb_watch_response,
	&etcdpb_lease_grant_request,
	&etcdpb_lease_grant_response,
	&etcdpb_lease_revoke_request,
	&etcdpb_lease_revoke_response,
	&etcdpb_lease_checkpoint,
	&etcdpb_lease_checkpoint_request,
	&etcdpb_lease_checkpoint_response,
	&etcdpb_lease_keep_alive_request,
	&etcdpb_lease_keep_alive_response,
	&etcdpb_lease_time_to_live_request,
	&etcdpb_lease_time_to_live_response,
	&etcdpb_lease_leases_request,
	&etcdpb_lease_status,
	&etcdpb_lease_leases_response,
	&etcdpb_member,
	&etcdpb_member_add_request,
	&etcdpb_member_add_response,
	&etcdpb_member_remove_request,
	&etcdpb_member_remove_response,
	&etcdpb_member_update_request,
	&etcdpb_member_update_response,
	&etcdpb_member_list_request,
	&etcdpb_member_list_response,
	&etcdpb_member_promote_request,
	&etcdpb_member_promote_response,
	&etcdpb_defragment_request,
	&etcdpb_defragment_response,
	&etcdpb_move_leader_request,
	&etcdpb_move_leader_response,
	&etcdpb_alarm_request,
	&etcdpb_alarm_member,
	&etcdpb_alarm_response,
	&etcdpb_status_request,
	&etcdpb_status_response,
	&etcdpb_auth_enable_request,
	&etcdpb_auth_disable_request,
	&etcdpb_authenticate_request,
	&etcdpb_auth_user_add_request,
	&etcdpb_auth_user_get_request,
	&etcdpb_auth_user_delete_request,
	&etcdpb_auth_user_change_password_request,
	&etcdpb_auth_user_grant_role_request,
	&etcdpb_auth_user_revoke_role_request,
	&etcdpb_auth_role_add_request,
	&etcdpb_auth_role_get_request,
	&etcdpb_auth_user_list_request,
	&etcdpb_auth_role_list_request,
	&etcdpb_auth_role_delete_request,
	&etcdpb_auth_role_grant_permission_request,
	&etcdpb_auth_role_revoke_permission_request,
	&etcdpb_auth_header_response,
	&etcdpb_authenticate_response,
	&etcdpb_auth_user_get_response,
	&etcdpb_auth_role_get_response,
	&etcdpb_auth_role_list_response,
	&etcdpb_auth_user_list_response,
	&v3lockpb_lock_request,
	&v3lockpb_lock_response,
	&v3lockpb_unlock_request,
	&v3lockpb_unlock_response,
	&v3electionpb_campaign_request,
	&v3electionpb_campaign_response,
	&v3electionpb_leader_key,
	&v3electionpb_leader_request,
	&v3electionpb_leader_response,
	&v3electionpb_resign_request,
	&v3electionpb_resign_response,
	&v3electionpb_proclaim_request,
	&v3electionpb_proclaim_response,
};
const size_t etcd_schema_nall = sizeof(etcd_schema_all) / sizeof(etcd_schema_all[0]);

/* ---- gateway routes --------------------------------------------------- */

#define ROUTE(path, method, req, resp, kind) { path, method, &req, &resp, ETCD_GW_##kind }

const struct etcd_gw_route etcd_gw_routes[] = {
	ROUTE("/v3/kv/range", "/etcdserverpb.KV/Range", etcdpb_range_request,
	      etcdpb_range_response, UNARY),
	ROUTE("/v3/kv/put", "/etcdserverpb.KV/Put", etcdpb_put_request, etcdpb_put_response,
	      UNARY),
	ROUTE("/v3/kv/deleterange", "/etcdserverpb.KV/DeleteRange", etcdpb_delete_range_request,
	      etcdpb_delete_range_response, UNARY),
	ROUTE("/v3/kv/txn", "/etcdserverpb.KV/Txn", etcdpb_txn_request, etcdpb_txn_response,
	      UNARY),
	ROUTE("/v3/kv/compaction", "/etcdserverpb.KV/Compact", etcdpb_compaction_request,
	      etcdpb_compaction_response, UNARY),
	ROUTE("/v3/watch", "/etcdserverpb.Watch/Watch", etcdpb_watch_request,
	      etcdpb_watch_response, BIDI_STREAM),
	ROUTE("/v3/lease/grant", "/etcdserverpb.Lease/LeaseGrant", etcdpb_lease_grant_request,
	      etcdpb_lease_grant_response, UNARY),
	ROUTE("/v3/lease/revoke", "/etcdserverpb.Lease/LeaseRevoke", etcdpb_lease_revoke_request,
	      etcdpb_lease_revoke_response, UNARY),
	ROUTE("/v3/kv/lease/revoke", "/etcdserverpb.Lease/LeaseRevoke",
	      etcdpb_lease_revoke_request, etcdpb_lease_revoke_response, UNARY),
	ROUTE("/v3/lease/keepalive", "/etcdserverpb.Lease/LeaseKeepAlive",
	      etcdpb_lease_keep_alive_request, etcdpb_lease_keep_alive_response, BIDI_STREAM),
	ROUTE("/v3/lease/timetolive", "/etcdserverpb.Lease/LeaseTimeToLive",
	      etcdpb_lease_time_to_live_request, etcdpb_lease_time_to_live_response, UNARY),
	ROUTE("/v3/kv/lease/timetolive", "/etcdserverpb.Lease/LeaseTimeToLive",
	      etcdpb_lease_time_to_live_request, etcdpb_lease_time_to_live_response, UNARY),
	ROUTE("/v3/lease/leases", "/etcdserverpb.Lease/LeaseLeases", etcdpb_lease_leases_request,
	      etcdpb_lease_leases_response, UNARY),
	ROUTE("/v3/kv/lease/leases", "/etcdserverpb.Lease/LeaseLeases",
	      etcdpb_lease_leases_request, etcdpb_lease_leases_response, UNARY),
	ROUTE("/v3/cluster/member/add", "/etcdserverpb.Cluster/MemberAdd",
	      etcdpb_member_add_request, etcdpb_member_add_response, UNARY),
	ROUTE("/v3/cluster/member/remove", "/etcdserverpb.Cluster/MemberRemove",
	      etcdpb_member_remove_request, etcdpb_member_remove_response, UNARY),
	ROUTE("/v3/cluster/member/update", "/etcdserverpb.Cluster/MemberUpdate",
	      etcdpb_member_update_request, etcdpb_member_update_response, UNARY),
	ROUTE("/v3/cluster/member/list", "/etcdserverpb.Cluster/MemberList",
	      etcdpb_member_list_request, etcdpb_member_list_response, UNARY),
	ROUTE("/v3/cluster/member/promote", "/etcdserverpb.Cluster/MemberPromote",
	      etcdpb_member_promote_request, etcdpb_member_promote_response, UNARY),
	ROUTE("/v3/maintenance/alarm", "/etcdserverpb.Maintenance/Alarm", etcdpb_alarm_request,
	      etcdpb_alarm_response, UNARY),
	ROUTE("/v3/maintenance/status", "/etcdserverpb.Maintenance/Status", etcdpb_status_request,
	      etcdpb_status_response, UNARY),
	ROUTE("/v3/maintenance/defragment", "/etcdserverpb.Maintenance/Defragment",
	      etcdpb_defragment_request, etcdpb_defragment_response, UNARY),
	/* Hash and HashKV share a path; the gateway matches Hash (registered
	 * first). Verified against etcd 3.4.23: no compact_revision after a
	 * compaction. */
	ROUTE("/v3/maintenance/hash", "/etcdserverpb.Maintenance/Hash", etcdpb_hash_request,
	      etcdpb_hash_response, UNARY),
	ROUTE("/v3/maintenance/hash", "/etcdserverpb.Maintenance/HashKV", etcdpb_hash_kv_request,
	      etcdpb_hash_kv_response, UNARY),
	ROUTE("/v3/maintenance/hashkv", "/etcdserverpb.Maintenance/HashKV", etcdpb_hash_kv_request,
	      etcdpb_hash_kv_response, UNARY), /* etcd 3.5's path; a cetcd extension on 3.4 */
	ROUTE("/v3/maintenance/snapshot", "/etcdserverpb.Maintenance/Snapshot",
	      etcdpb_snapshot_request, etcdpb_snapshot_response, SERVER_STREAM),
	ROUTE("/v3/maintenance/transfer-leadership", "/etcdserverpb.Maintenance/MoveLeader",
	      etcdpb_move_leader_request, etcdpb_move_leader_response, UNARY),
	ROUTE("/v3/auth/enable", "/etcdserverpb.Auth/AuthEnable", etcdpb_auth_enable_request,
	      etcdpb_auth_header_response, UNARY),
	ROUTE("/v3/auth/disable", "/etcdserverpb.Auth/AuthDisable", etcdpb_auth_disable_request,
	      etcdpb_auth_header_response, UNARY),
	ROUTE("/v3/auth/authenticate", "/etcdserverpb.Auth/Authenticate",
	      etcdpb_authenticate_request, etcdpb_authenticate_response, UNARY),
	ROUTE("/v3/auth/user/add", "/etcdserverpb.Auth/UserAdd", etcdpb_auth_user_add_request,
	      etcdpb_auth_header_response, UNARY),
	ROUTE("/v3/auth/user/get", "/etcdserverpb.Auth/UserGet", etcdpb_auth_user_get_request,
	      etcdpb_auth_user_get_response, UNARY),
	ROUTE("/v3/auth/user/list", "/etcdserverpb.Auth/UserList", etcdpb_auth_user_list_request,
	      etcdpb_auth_user_list_response, UNARY),
	ROUTE("/v3/auth/user/delete", "/etcdserverpb.Auth/UserDelete",
	      etcdpb_auth_user_delete_request, etcdpb_auth_header_response, UNARY),
	ROUTE("/v3/auth/user/changepw", "/etcdserverpb.Auth/UserChangePassword",
	      etcdpb_auth_user_change_password_request, etcdpb_auth_header_response, UNARY),
	ROUTE("/v3/auth/user/grant", "/etcdserverpb.Auth/UserGrantRole",
	      etcdpb_auth_user_grant_role_request, etcdpb_auth_header_response, UNARY),
	ROUTE("/v3/auth/user/revoke", "/etcdserverpb.Auth/UserRevokeRole",
	      etcdpb_auth_user_revoke_role_request, etcdpb_auth_header_response, UNARY),
	ROUTE("/v3/auth/role/add", "/etcdserverpb.Auth/RoleAdd", etcdpb_auth_role_add_request,
	      etcdpb_auth_header_response, UNARY),
	ROUTE("/v3/auth/role/get", "/etcdserverpb.Auth/RoleGet", etcdpb_auth_role_get_request,
	      etcdpb_auth_role_get_response, UNARY),
	ROUTE("/v3/auth/role/list", "/etcdserverpb.Auth/RoleList", etcdpb_auth_role_list_request,
	      etcdpb_auth_role_list_response, UNARY),
	ROUTE("/v3/auth/role/delete", "/etcdserverpb.Auth/RoleDelete",
	      etcdpb_auth_role_delete_request, etcdpb_auth_header_response, UNARY),
	ROUTE("/v3/auth/role/grant", "/etcdserverpb.Auth/RoleGrantPermission",
	      etcdpb_auth_role_grant_permission_request, etcdpb_auth_header_response, UNARY),
	ROUTE("/v3/auth/role/revoke", "/etcdserverpb.Auth/RoleRevokePermission",
	      etcdpb_auth_role_revoke_permission_request, etcdpb_auth_header_response, UNARY),
	ROUTE("/v3/lock/lock", "/v3lockpb.Lock/Lock", v3lockpb_lock_request,
	      v3lockpb_lock_response, UNARY),
	ROUTE("/v3/lock/unlock", "/v3lockpb.Lock/Unlock", v3lockpb_unlock_request,
	      v3lockpb_unlock_response, UNARY),
	ROUTE("/v3/election/campaign", "/v3electionpb.Election/Campaign",
	      v3electionpb_campaign_request, v3electionpb_campaign_response, UNARY),
	ROUTE("/v3/election/proclaim", "/v3electionpb.Election/Proclaim",
	      v3electionpb_proclaim_request, v3electionpb_proclaim_response, UNARY),
	ROUTE("/v3/election/leader", "/v3electionpb.Election/Leader",
	      v3electionpb_leader_request, v3electionpb_leader_response, UNARY),
	ROUTE("/v3/election/observe", "/v3electionpb.Election/Observe",
	      v3electionpb_leader_request, v3electionpb_leader_response, SERVER_STREAM),
	ROUTE("/v3/election/resign", "/v3electionpb.Election/Resign",
	      v3electionpb_resign_request, v3electionpb_resign_response, UNARY),
};

const size_t etcd_gw_nroutes = sizeof(etcd_gw_routes) / sizeof(etcd_gw_routes[0]);

const struct etcd_gw_route *etcd_gw_route_find(const char *path, size_t len)
{
	static const char beta[] = "/v3beta/";
	char tmp[64];

	if (len >= sizeof(beta) - 1 && memcmp(path, beta, sizeof(beta) - 1) == 0) {
		size_t rest = len - (sizeof(beta) - 1);

		if (rest + 4 > sizeof(tmp))
			return NULL;
		memcpy(tmp, "/v3/", 4);
		memcpy(tmp + 4, path + sizeof(beta) - 1, rest);
		path = tmp;
		len = rest + 4;
	}
	for (size_t i = 0; i < etcd_gw_nroutes; i++) {
		const char *p = etcd_gw_routes[i].path;

		if (strlen(p) == len && memcmp(p, path, len) == 0)
			return &etcd_gw_routes[i];
	}
	return NULL;
}

const struct etcd_gw_route *etcd_gw_route_by_method(const char *method, size_t len)
{
	for (size_t i = 0; i < etcd_gw_nroutes; i++) {
		const char *m = etcd_gw_routes[i].grpc_method;

		if (strlen(m) == len && memcmp(m, method, len) == 0)
			return &etcd_gw_routes[i];
	}
	return NULL;
}
