/* conf.c - apply a committed configuration change to the v2 store's
 * membership keys, as etcd 3.4 does (membership/store.go, cluster.go):
 *   add / add learner: create /0/members/<id>/raftAttributes
 *                      {"peerURLs":[...]} (+ "isLearner":true)
 *   remove:            delete /0/members/<id> recursively, create
 *                      /0/removed_members/<id> with an empty value
 *   promote / update:  update raftAttributes (without isLearner / with the
 *                      new peerURLs)
 * The change is validated first against the membership in the store, as
 * etcd's ValidateConfigurationChange does at apply time on every member, so
 * every member skips the same invalid changes. The api worker that proposed
 * it (on this member) gets etcd's /v2/members answer.
 *
 * Entry data: struct raft_conf_change (9 bytes), then a proto envelope of
 * kind PROTO_CONF whose body is the member JSON. The bootstrap entries the
 * raft worker writes carry no envelope: their members come from the flags.
 */
#include "config.h"
#include "stored/stored_int.h"
#include "ipc/proto.h"
#include "ipc/worker.h"
#include "raft/raft.h"
#include "store/v2json.h"
#include "store/v2members.h"
#include "store/v2req.h"
#include "store/v2store.h"
#include "util/err.h"
#include "util/log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

/* etcd 3.4 allows one learner (membership/cluster.go maxLearners). */
#define CONF_MAX_LEARNERS 1

/* etcd's membership errors (membership/errors.go). */
enum conf_err {
	CONF_OK = 0,
	CONF_ID_REMOVED,
	CONF_ID_EXISTS,
	CONF_ID_NOT_FOUND,
	CONF_PEER_URL_EXISTS,
	CONF_NOT_LEARNER,
	CONF_TOO_MANY_LEARNERS,
};

static const char *const conf_err_msg[] = {
	"",
	"membership: ID removed",
	"membership: ID exists",
	"membership: ID not found",
	"membership: peerURL exists",
	"membership: can only promote a learner member",
	"membership: too many learner members in cluster",
};

struct conf_ctx {
	struct stored *s;
	struct raft_conf_change cc;
	uint64_t index;
	char id[17];             /* etcd's types.ID.String(): %x */
	struct proto_envelope env;
	json_t *member;          /* the member JSON of the entry */
	json_t *ms;              /* membership in the store before the change */
};

static json_t *find_member(json_t *ms, const char *id)
{
	json_t *arr = json_object_get(ms, "members"), *m;
	size_t i;

	json_array_foreach(arr, i, m)
		if (strcmp(json_string_value(json_object_get(m, "id")), id) == 0)
			return m;
	return NULL;
}

static int is_removed(json_t *ms, const char *id)
{
	json_t *arr = json_object_get(ms, "removed"), *v;
	size_t i;

	json_array_foreach(arr, i, v)
		if (strcmp(json_string_value(v), id) == 0)
			return 1;
	return 0;
}

/* url_taken: some member other than skip_id advertises one of urls. */
static int url_taken(json_t *ms, json_t *urls, const char *skip_id)
{
	json_t *arr = json_object_get(ms, "members"), *m, *u, *w;
	size_t i, j, k;

	json_array_foreach(arr, i, m) {
		if (skip_id && strcmp(json_string_value(json_object_get(m, "id")), skip_id) == 0)
			continue;
		json_array_foreach(json_object_get(m, "peerURLs"), j, u)
			json_array_foreach(urls, k, w)
				if (json_equal(u, w))
					return 1;
	}
	return 0;
}

static int count_learners(json_t *ms)
{
	json_t *arr = json_object_get(ms, "members"), *m;
	size_t i;
	int n = 0;

	json_array_foreach(arr, i, m)
		n += json_is_true(json_object_get(m, "isLearner"));
	return n;
}

static json_t *peer_urls(json_t *member)
{
	json_t *a = json_object_get(member, "peerURLs");

	return json_is_array(a) ? a : NULL;
}

/* validate mirrors etcd's ValidateConfigurationChange. */
static int validate(const struct conf_ctx *c)
{
	json_t *cur = find_member(c->ms, c->id);
	json_t *urls = peer_urls(c->member);

	if (is_removed(c->ms, c->id))
		return CONF_ID_REMOVED;
	switch (c->cc.type) {
	case RAFT_CONF_ADD_NODE:
	case RAFT_CONF_ADD_LEARNER:
		if (cur)
			return CONF_ID_EXISTS;
		if (urls && url_taken(c->ms, urls, NULL))
			return CONF_PEER_URL_EXISTS;
		if (c->cc.type == RAFT_CONF_ADD_LEARNER && count_learners(c->ms) + 1 > CONF_MAX_LEARNERS)
			return CONF_TOO_MANY_LEARNERS;
		return CONF_OK;
	case RAFT_CONF_PROMOTE:
		if (!cur)
			return CONF_ID_NOT_FOUND;
		return json_is_true(json_object_get(cur, "isLearner")) ? CONF_OK : CONF_NOT_LEARNER;
	case RAFT_CONF_REMOVE_NODE:
		return cur ? CONF_OK : CONF_ID_NOT_FOUND;
	case RAFT_CONF_UPDATE_NODE:
		if (!cur)
			return CONF_ID_NOT_FOUND;
		if (urls && url_taken(c->ms, urls, c->id))
			return CONF_PEER_URL_EXISTS;
		return CONF_OK;
	default:
		return CONF_ID_NOT_FOUND;
	}
}

/* raft_attrs writes etcd's RaftAttributes JSON as Go's encoding/json does. */
static void raft_attrs(struct buf *b, json_t *urls, int learner)
{
	json_t *u;
	size_t i;

	V2JSON_LIT(b, "{\"peerURLs\":");
	if (urls == NULL) {
		V2JSON_LIT(b, "null");
	} else {
		buf_put_u8(b, '[');
		json_array_foreach(urls, i, u) {
			if (i > 0)
				buf_put_u8(b, ',');
			v2json_str(b, json_string_value(u), json_string_length(u));
		}
		buf_put_u8(b, ']');
	}
	if (learner)
		V2JSON_LIT(b, ",\"isLearner\":true");
	buf_put_u8(b, '}');
}

/* member_body writes the /v2/members JSON of a member (etcd's
 * httptypes.Member: no isLearner) and json.Encoder's newline. */
static void member_body(struct buf *b, const char *id, json_t *m)
{
	json_t *name = json_object_get(m, "name"), *arr, *u;
	const char *fields[2] = { "peerURLs", "clientURLs" };
	size_t i;

	V2JSON_LIT(b, "{\"id\":");
	v2json_str(b, id, strlen(id));
	V2JSON_LIT(b, ",\"name\":");
	if (json_is_string(name))
		v2json_str(b, json_string_value(name), json_string_length(name));
	else
		V2JSON_LIT(b, "\"\"");
	for (int f = 0; f < 2; f++) {
		buf_put_u8(b, ',');
		v2json_str(b, fields[f], strlen(fields[f]));
		V2JSON_LIT(b, ":[");
		arr = json_object_get(m, fields[f]);
		if (json_is_array(arr)) {
			json_array_foreach(arr, i, u) {
				if (i > 0)
					buf_put_u8(b, ',');
				v2json_str(b, json_string_value(u), json_string_length(u));
			}
		}
		buf_put_u8(b, ']');
	}
	V2JSON_LIT(b, "}\n");
}

static void store_write(struct conf_ctx *c, struct v2_req *req)
{
	struct v2_result res;

	v2_result_init(&res);
	if (v2store_apply(c->s->v2, c->s->txn, req, &res) != 0) {
		log_error("entry %" PRIu64 ": apply conf change: database failure", c->index);
		exit(WORKER_EXIT_CRASH);
	}
	if (res.error_code != 0)
		log_warn("entry %" PRIu64 ": conf change on %s: v2 error %d", c->index,
			req->path, res.error_code);
	v2_result_close(&res);
}

static void put_internal(struct conf_ctx *c, const char *path, const char *value, size_t vlen,
	int prev_exist)
{
	struct v2_req req;

	stored_internal_put(&req, path, "", 0);
	req.value = value;
	req.value_len = vlen;
	req.prev_exist = (int8_t)prev_exist;
	store_write(c, &req);
}

/* apply_store makes the change in the v2 store (etcd's mustSaveMemberToStore,
 * mustDeleteMemberFromStore, mustUpdateMemberInStore). */
static void apply_store(struct conf_ctx *c)
{
	char path[128];
	struct buf v;
	struct v2_req req;
	json_t *cur = find_member(c->ms, c->id);

	buf_init(&v);
	snprintf(path, sizeof(path), "/0/members/%s/raftAttributes", c->id);
	switch (c->cc.type) {
	case RAFT_CONF_ADD_NODE:
	case RAFT_CONF_ADD_LEARNER:
		raft_attrs(&v, peer_urls(c->member), c->cc.type == RAFT_CONF_ADD_LEARNER);
		put_internal(c, path, (const char *)v.data, v.len, 0); /* Create */
		break;
	case RAFT_CONF_PROMOTE:
		raft_attrs(&v, peer_urls(cur), 0);
		put_internal(c, path, (const char *)v.data, v.len, 1); /* Update */
		break;
	case RAFT_CONF_UPDATE_NODE:
		/* The learner flag stays what it is: only the URLs change. */
		raft_attrs(&v, peer_urls(c->member), json_is_true(json_object_get(cur, "isLearner")));
		put_internal(c, path, (const char *)v.data, v.len, 1); /* Update */
		break;
	case RAFT_CONF_REMOVE_NODE:
		snprintf(path, sizeof(path), "/0/members/%s", c->id);
		stored_internal_put(&req, path, "", 0);
		req.op = V2_OP_DELETE;
		req.dir = 1;
		req.recursive = 1;
		store_write(c, &req);
		snprintf(path, sizeof(path), "/0/removed_members/%s", c->id);
		put_internal(c, path, "", 0, 0); /* Create, value "" */
		break;
	default:
		break;
	}
	buf_close(&v);
}

static void result_error(struct conf_ctx *c, int e)
{
	char msg[160];
	struct buf b;
	uint32_t status = 500;

	/* etcd's v2http membersHandler: which errors it names, with what. */
	switch (c->cc.type == RAFT_CONF_ADD_LEARNER ? RAFT_CONF_ADD_NODE : c->cc.type) {
	case RAFT_CONF_ADD_NODE:
		if (e == CONF_ID_EXISTS || e == CONF_PEER_URL_EXISTS)
			status = 409;
		else if (e == CONF_TOO_MANY_LEARNERS)
			status = 400;
		snprintf(msg, sizeof(msg), "%s", status == 500 ? "Internal Server Error" : conf_err_msg[e]);
		break;
	case RAFT_CONF_REMOVE_NODE:
		if (e == CONF_ID_REMOVED) {
			status = 410;
			snprintf(msg, sizeof(msg), "Member permanently removed: %s", c->id);
		} else {
			status = 404;
			snprintf(msg, sizeof(msg), "No such member: %s", c->id);
		}
		break;
	default: /* update, promote */
		if (e == CONF_PEER_URL_EXISTS) {
			status = 409;
			snprintf(msg, sizeof(msg), "%s", conf_err_msg[e]);
		} else if (e == CONF_ID_NOT_FOUND) {
			status = 404;
			snprintf(msg, sizeof(msg), "No such member: %s", c->id);
		} else if (e == CONF_NOT_LEARNER) {
			status = 400;
			snprintf(msg, sizeof(msg), "%s", conf_err_msg[e]);
		} else {
			snprintf(msg, sizeof(msg), "Internal Server Error");
		}
		break;
	}
	buf_init(&b);
	V2JSON_LIT(&b, "{\"message\":");
	v2json_str(&b, msg, strlen(msg));
	buf_put_u8(&b, '}'); /* HTTPError.WriteTo: json.Marshal, no newline */
	stored_queue_result(c->s, &c->env, status, 0, 0, b.data, b.len, c->index);
	buf_close(&b);
}

static void result_ok(struct conf_ctx *c)
{
	struct buf b;
	json_t *now = NULL, *m;

	buf_init(&b);
	switch (c->cc.type) {
	case RAFT_CONF_ADD_NODE:
	case RAFT_CONF_ADD_LEARNER:
		member_body(&b, c->id, c->member);
		stored_queue_result(c->s, &c->env, 201, 0, 0, b.data, b.len, c->index);
		break;
	case RAFT_CONF_PROMOTE:
		/* The member as it is now, with its published name and URLs. */
		if (v2store_members(c->s->v2, c->s->txn, &now) == 0 && (m = find_member(now, c->id)))
			member_body(&b, c->id, m);
		stored_queue_result(c->s, &c->env, 200, 0, 0, b.data, b.len, c->index);
		json_decref(now);
		break;
	default: /* remove, update */
		stored_queue_result(c->s, &c->env, 204, 0, 0, "", 0, c->index);
		break;
	}
	buf_close(&b);
}

/* load_member finds the entry's member JSON: the envelope's body, or for a
 * bootstrap entry the member the flags name. */
static int load_member(struct conf_ctx *c, const uint8_t *ctx, size_t n)
{
	memset(&c->env, 0, sizeof(c->env));
	c->env.origin = PROTO_ORIGIN_NONE;
	if (n == 0) {
		struct member *m = cluster_find(&c->s->cluster, c->cc.node_id);
		char *js = m ? cluster_member_json(m) : NULL;
		c->member = js ? json_loads(js, 0, NULL) : json_object();
		free(js);
		return c->member ? 0 : CE_NOMEM;
	}
	if (proto_envelope_decode(&c->env, ctx, n) != 0 || c->env.kind != PROTO_CONF)
		return CE_CORRUPT;
	c->member = json_loadb(c->env.body, c->env.len, 0, NULL);
	if (!json_is_object(c->member))
		return CE_CORRUPT;
	return 0;
}

void stored_apply_conf(struct stored *s, const void *data, size_t len, uint64_t index)
{
	struct conf_ctx c;
	int e;

	memset(&c, 0, sizeof(c));
	c.s = s;
	c.index = index;
	if (raft_conf_change_decode(&c.cc, data, len) != 0) {
		log_error("entry %" PRIu64 ": undecodable configuration change; skipped", index);
		return;
	}
	snprintf(c.id, sizeof(c.id), "%" PRIx64, c.cc.node_id);
	if (load_member(&c, (const uint8_t *)data + RAFT_CONF_CHANGE_LEN, len - RAFT_CONF_CHANGE_LEN) != 0) {
		log_error("entry %" PRIu64 ": bad configuration change context; skipped", index);
		goto out;
	}
	if (v2store_members(s->v2, s->txn, &c.ms) != 0) {
		log_error("entry %" PRIu64 ": read membership: database failure", index);
		exit(WORKER_EXIT_CRASH);
	}
	if ((e = validate(&c)) != CONF_OK) {
		log_warn("entry %" PRIu64 ": configuration change %u of %s refused: %s", index,
			c.cc.type, c.id, conf_err_msg[e]);
		result_error(&c, e);
		goto out;
	}
	apply_store(&c);
	cluster_apply_conf(&s->cluster, c.cc.type, c.cc.node_id, len > RAFT_CONF_CHANGE_LEN ?
		c.env.body : NULL, len > RAFT_CONF_CHANGE_LEN ? c.env.len : 0);
	log_info("entry %" PRIu64 ": configuration change %u of member %s applied", index, c.cc.type, c.id);
	result_ok(&c);
out:
	json_decref(c.member);
	json_decref(c.ms);
}
