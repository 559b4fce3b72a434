/* etcd_schema.h - schema tables for every message etcd 3.4's v3 API and its
 * grpc-gateway use (etcdserverpb, mvccpb, authpb, v3lockpb, v3electionpb),
 * and the table of gateway paths etcd 3.4 serves.
 *
 * Field numbers, names and types are etcd 3.4's (learnt from its .proto
 * files; the tables are cetcd's own). Fields are listed in declaration
 * order, which is the order etcd's gateway writes JSON keys in.
 *
 * Names: <package>_<message in snake case>; etcdserverpb is shortened to
 * etcdpb. Every header-only Auth*Response shares etcdpb_auth_header_response.
 */
#ifndef CETCD_PB_ETCD_SCHEMA_H
#define CETCD_PB_ETCD_SCHEMA_H

#include "pb/pb.h"

#include <stddef.h>

extern const struct pb_enumdef etcdpb_sort_order;
extern const struct pb_enumdef etcdpb_sort_target;
extern const struct pb_enumdef etcdpb_compare_result;
extern const struct pb_enumdef etcdpb_compare_target;
extern const struct pb_enumdef etcdpb_filter_type;
extern const struct pb_enumdef etcdpb_alarm_type;
extern const struct pb_enumdef etcdpb_alarm_action;
extern const struct pb_enumdef mvccpb_event_type;
extern const struct pb_enumdef authpb_perm_type;

extern const struct pb_msgdef mvccpb_key_value; /* mvccpb.KeyValue */
extern const struct pb_msgdef mvccpb_event; /* mvccpb.Event */
extern const struct pb_msgdef authpb_user_add_options; /* authpb.UserAddOptions */
extern const struct pb_msgdef authpb_user; /* authpb.User */
extern const struct pb_msgdef authpb_permission; /* authpb.Permission */
extern const struct pb_msgdef authpb_role; /* authpb.Role */
extern const struct pb_msgdef etcdpb_response_header; /* etcdserverpb.ResponseHeader */
extern const struct pb_msgdef etcdpb_range_request; /* etcdserverpb.RangeRequest */
extern const struct pb_msgdef etcdpb_range_response; /* etcdserverpb.RangeResponse */
extern const struct pb_msgdef etcdpb_put_request; /* etcdserverpb.PutRequest */
extern const struct pb_msgdef etcdpb_put_response; /* etcdserverpb.PutResponse */
extern const struct pb_msgdef etcdpb_delete_range_request; /* etcdserverpb.DeleteRangeRequest */
extern const struct pb_msgdef etcdpb_delete_range_response; /* etcdserverpb.DeleteRangeResponse */
extern const struct pb_msgdef etcdpb_request_op; /* etcdserverpb.RequestOp */
extern const struct pb_msgdef etcdpb_response_op; /* etcdserverpb.ResponseOp */
extern const struct pb_msgdef etcdpb_compare; /* etcdserverpb.Compare */
extern const struct pb_msgdef etcdpb_txn_request; /* etcdserverpb.TxnRequest */
extern const struct pb_msgdef etcdpb_txn_response; /* etcdserverpb.TxnResponse */
extern const struct pb_msgdef etcdpb_compaction_request; /* etcdserverpb.CompactionRequest */
extern const struct pb_msgdef etcdpb_compaction_response; /* etcdserverpb.CompactionResponse */
extern const struct pb_msgdef etcdpb_hash_request; /* etcdserverpb.HashRequest */
extern const struct pb_msgdef etcdpb_hash_kv_request; /* etcdserverpb.HashKVRequest */
extern const struct pb_msgdef etcdpb_hash_kv_response; /* etcdserverpb.HashKVResponse */
extern const struct pb_msgdef etcdpb_hash_response; /* etcdserverpb.HashResponse */
extern const struct pb_msgdef etcdpb_snapshot_request; /* etcdserverpb.SnapshotRequest */
extern const struct pb_msgdef etcdpb_snapshot_response; /* etcdserverpb.SnapshotResponse */
extern const struct pb_msgdef etcdpb_watch_request; /* etcdserverpb.WatchRequest */
extern const struct pb_msgdef etcdpb_watch_create_request; /* etcdserverpb.WatchCreateRequest */
extern const struct pb_msgdef etcdpb_watch_cancel_request; /* etcdserverpb.WatchCancelRequest */
extern const struct pb_msgdef etcdpb_watch_progress_request; /* etcdserverpb.WatchProgressRequest */
extern const struct pb_msgdef etcdpb_watch_response; /* etcdserverpb.WatchResponse */
extern const struct pb_msgdef etcdpb_lease_grant_request; /* etcdserverpb.LeaseGrantRequest */
extern const struct pb_msgdef etcdpb_lease_grant_response; /* etcdserverpb.LeaseGrantResponse */
extern const struct pb_msgdef etcdpb_lease_revoke_request; /* etcdserverpb.LeaseRevokeRequest */
extern const struct pb_msgdef etcdpb_lease_revoke_response; /* etcdserverpb.LeaseRevokeResponse */
extern const struct pb_msgdef etcdpb_lease_checkpoint; /* etcdserverpb.LeaseCheckpoint */
extern const struct pb_msgdef etcdpb_lease_checkpoint_request; /* etcdserverpb.LeaseCheckpointRequest */
extern const struct pb_msgdef etcdpb_lease_checkpoint_response; /* etcdserverpb.LeaseCheckpointResponse */
extern const struct pb_msgdef etcdpb_lease_keep_alive_request; /* etcdserverpb.LeaseKeepAliveRequest */
extern const struct pb_msgdef etcdpb_lease_keep_alive_response; /* etcdserverpb.LeaseKeepAliveResponse */
extern const struct pb_msgdef etcdpb_lease_time_to_live_request; /* etcdserverpb.LeaseTimeToLiveRequest */
extern const struct pb_msgdef etcdpb_lease_time_to_live_response; /* etcdserverpb.LeaseTimeToLiveResponse */
extern const struct pb_msgdef etcdpb_lease_leases_request; /* etcdserverpb.LeaseLeasesRequest */
extern const struct pb_msgdef etcdpb_lease_status; /* etcdserverpb.LeaseStatus */
extern const struct pb_msgdef etcdpb_lease_leases_response; /* etcdserverpb.LeaseLeasesResponse */
extern const struct pb_msgdef etcdpb_member; /* etcdserverpb.Member */
extern const struct pb_msgdef etcdpb_member_add_request; /* etcdserverpb.MemberAddRequest */
extern const struct pb_msgdef etcdpb_member_add_response; /* etcdserverpb.MemberAddResponse */
extern const struct pb_msgdef etcdpb_member_remove_request; /* etcdserverpb.MemberRemoveRequest */
extern const struct pb_msgdef etcdpb_member_remove_response; /* etcdserverpb.MemberRemoveResponse */
extern const struct pb_msgdef etcdpb_member_update_request; /* etcdserverpb.MemberUpdateRequest */
extern const struct pb_msgdef etcdpb_member_update_response; /* etcdserverpb.MemberUpdateResponse */
extern const struct pb_msgdef etcdpb_member_list_request; /* etcdserverpb.MemberListRequest */
extern const struct pb_msgdef etcdpb_member_list_response; /* etcdserverpb.MemberListResponse */
extern const struct pb_msgdef etcdpb_member_promote_request; /* etcdserverpb.MemberPromoteRequest */
extern const struct pb_msgdef etcdpb_member_promote_response; /* etcdserverpb.MemberPromoteResponse */
extern const struct pb_msgdef etcdpb_defragment_request; /* etcdserverpb.DefragmentRequest */
extern const struct pb_msgdef etcdpb_defragment_response; /* etcdserverpb.DefragmentResponse */
extern const struct pb_msgdef etcdpb_move_leader_request; /* etcdserverpb.MoveLeaderRequest */
extern const struct pb_msgdef etcdpb_move_leader_response; /* etcdserverpb.MoveLeaderResponse */
extern const struct pb_msgdef etcdpb_alarm_request; /* etcdserverpb.AlarmRequest */
extern const struct pb_msgdef etcdpb_alarm_member; /* etcdserverpb.AlarmMember */
extern const struct pb_msgdef etcdpb_alarm_response; /* etcdserverpb.AlarmResponse */
extern const struct pb_msgdef etcdpb_status_request; /* etcdserverpb.StatusRequest */
extern const struct pb_msgdef etcdpb_status_response; /* etcdserverpb.StatusResponse */
extern const struct pb_msgdef etcdpb_auth_enable_request; /* etcdserverpb.AuthEnableRequest */
extern const struct pb_msgdef etcdpb_auth_disable_request; /* etcdserverpb.AuthDisableRequest */
extern const struct pb_msgdef etcdpb_authenticate_request; /* etcdserverpb.AuthenticateRequest */
extern const struct pb_msgdef etcdpb_auth_user_add_request; /* etcdserverpb.AuthUserAddRequest */
extern const struct pb_msgdef etcdpb_auth_user_get_request; /* etcdserverpb.AuthUserGetRequest */
extern const struct pb_msgdef etcdpb_auth_user_delete_request; /* etcdserverpb.AuthUserDeleteRequest */
extern const struct pb_msgdef etcdpb_auth_user_change_password_request; /* etcdserverpb.AuthUserChangePasswordRequest */
extern const struct pb_msgdef etcdpb_auth_user_grant_role_request; /* etcdserverpb.AuthUserGrantRoleRequest */
extern const struct pb_msgdef etcdpb_auth_user_revoke_role_request; /* etcdserverpb.AuthUserRevokeRoleRequest */
extern const struct pb_msgdef etcdpb_auth_role_add_request; /* etcdserverpb.AuthRoleAddRequest */
extern const struct pb_msgdef etcdpb_auth_role_get_request; /* etcdserverpb.AuthRoleGetRequest */
extern const struct pb_msgdef etcdpb_auth_user_list_request; /* etcdserverpb.AuthUserListRequest */
extern const struct pb_msgdef etcdpb_auth_role_list_request; /* etcdserverpb.AuthRoleListRequest */
extern const struct pb_msgdef etcdpb_auth_role_delete_request; /* etcdserverpb.AuthRoleDeleteRequest */
extern const struct pb_msgdef etcdpb_auth_role_grant_permission_request; /* etcdserverpb.AuthRoleGrantPermissionRequest */
extern const struct pb_msgdef etcdpb_auth_role_revoke_permission_request; /* etcdserverpb.AuthRoleRevokePermissionRequest */
extern const struct pb_msgdef etcdpb_auth_header_response; /* etcdserverpb.AuthEnableResponse */
extern const struct pb_msgdef etcdpb_authenticate_response; /* etcdserverpb.AuthenticateResponse */
extern const struct pb_msgdef etcdpb_auth_user_get_response; /* etcdserverpb.AuthUserGetResponse */
extern const struct pb_msgdef etcdpb_auth_role_get_response; /* etcdserverpb.AuthRoleGetResponse */
extern const struct pb_msgdef etcdpb_auth_role_list_response; /* etcdserverpb.AuthRoleListResponse */
extern const struct pb_msgdef etcdpb_auth_user_list_response; /* etcdserverpb.AuthUserListResponse */
extern const struct pb_msgdef v3lockpb_lock_request; /* v3lockpb.LockRequest */
extern const struct pb_msgdef v3lockpb_lock_response; /* v3lockpb.LockResponse */
extern const struct pb_msgdef v3lockpb_unlock_request; /* v3lockpb.UnlockRequest */
extern const struct pb_msgdef v3lockpb_unlock_response; /* v3lockpb.UnlockResponse */
extern const struct pb_msgdef v3electionpb_campaign_request; /* v3electionpb.CampaignRequest */
extern const struct pb_msgdef v3electionpb_campaign_response; /* v3electionpb.CampaignResponse */
extern const struct pb_msgdef v3electionpb_leader_key; /* v3electionpb.LeaderKey */
extern const struct pb_msgdef v3electionpb_leader_request; /* v3electionpb.LeaderRequest */
extern const struct pb_msgdef v3electionpb_leader_response; /* v3electionpb.LeaderResponse */
extern const struct pb_msgdef v3electionpb_resign_request; /* v3electionpb.ResignRequest */
extern const struct pb_msgdef v3electionpb_resign_response; /* v3electionpb.ResignResponse */
extern const struct pb_msgdef v3electionpb_proclaim_request; /* v3electionpb.ProclaimRequest */
extern const struct pb_msgdef v3electionpb_proclaim_response; /* v3electionpb.ProclaimResponse */

/* Every message table above, for tests and tools. */
extern const struct pb_msgdef *const etcd_schema_all[];
extern const size_t etcd_schema_nall;

/* ---- gateway routes --------------------------------------------------- */

enum etcd_gw_kind {
	ETCD_GW_UNARY,
	ETCD_GW_SERVER_STREAM, /* one request, a stream of {"result":...} lines */
	ETCD_GW_BIDI_STREAM    /* requests and responses both streamed */
};

struct etcd_gw_route {
	const char *path;	 /* e.g. "/v3/kv/range"; all are POST */
	const char *grpc_method; /* e.g. "/etcdserverpb.KV/Range" */
	const struct pb_msgdef *req;
	const struct pb_msgdef *resp;
	enum etcd_gw_kind kind;
};

extern const struct etcd_gw_route etcd_gw_routes[];
extern const size_t etcd_gw_nroutes;

/* etcd_gw_route_find returns the route serving path[0..len) (no query
 * string), or NULL. A leading "/v3beta/" is read as "/v3/", as etcd 3.4
 * rewrites it. When two routes share a path (etcd 3.4 binds both Hash and
 * HashKV to /v3/maintenance/hash) the first registered one wins, as in the
 * gateway: Hash. */
const struct etcd_gw_route *etcd_gw_route_find(const char *path, size_t len);

/* etcd_gw_route_by_method finds a route by gRPC full method name. */
const struct etcd_gw_route *etcd_gw_route_by_method(const char *method, size_t len);

#endif
