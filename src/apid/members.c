/* members.c - etcd's v2 members API (/v2/members, /v2/members/leader) and
 * /v2/machines.
 *
 * The membership is read from this member's store, where the applied
 * configuration changes and published attributes live (etcd's
 * /0/members/<id>/{raftAttributes,attributes}), so every member answers
 * from the same replicated state. Changes are proposed to the raft worker
 * as configuration-change entries; the raft worker refuses what the member
 * table forbids (duplicate peer URL, unknown or removed id) and the storage
 * worker answers once the change is applied.
 */
#include "config.h"
#include "apid/apid_int.h"
#include "config/url.h"
#include "http/httpd.h"
#include "ipc/conn.h"
#include "ipc/frame.h"
#include "ipc/proto.h"
#include "ipc/worker.h"
#include "pb/pb.h"
#include "pb/etcd_schema.h"
#include "v3/v3.h"
#include "raft/raft.h"
#include "store/v2store.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/err.h"
#include "util/memberid.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

struct mlist {
	struct member v[CLUSTER_MAX_MEMBERS];
	size_t n;
};

static void mlist_close(struct mlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		cluster_member_close(&l->v[i]);
	l->n = 0;
}

/* One /0/members/<id> directory node of the store's JSON listing. */
static void add_member_node(struct mlist *l, json_t *dir)
{
	const char *key = json_string_value(json_object_get(dir, "key"));
	json_t *kids = json_object_get(dir, "nodes"), *k;
	struct member *m;
	const char *slash;
	size_t i;
	char *end;

	if (key == NULL || (slash = strrchr(key, '/')) == NULL || l->n == CLUSTER_MAX_MEMBERS)
		return;
	m = &l->v[l->n];
	memset(m, 0, sizeof(*m));
	m->id = strtoull(slash + 1, &end, 16);
	if (*end != '\0' || m->id == 0)
		return;
	json_array_foreach(kids, i, k) {
		const char *kk = json_string_value(json_object_get(k, "key"));
		const char *val = json_string_value(json_object_get(k, "value"));
		json_t *o, *urls, *u;
		size_t j;
		if (kk == NULL || val == NULL || (o = json_loads(val, 0, NULL)) == NULL)
			continue;
		if (strstr(kk, "/raftAttributes") != NULL) {
			urls = json_object_get(o, "peerURLs");
			json_array_foreach(urls, j, u)
				if (json_is_string(u) && m->npeer < CLUSTER_MAX_URLS)
					m->peer_urls[m->npeer++] = strdup(json_string_value(u));
			m->learner = json_is_true(json_object_get(o, "isLearner"));
		} else if (strstr(kk, "/attributes") != NULL) {
			const char *name = json_string_value(json_object_get(o, "name"));
			if (name)
				snprintf(m->name, sizeof(m->name), "%s", name);
			urls = json_object_get(o, "clientURLs");
			json_array_foreach(urls, j, u)
				if (json_is_string(u) && m->nclient < CLUSTER_MAX_URLS)
					m->client_urls[m->nclient++] = strdup(json_string_value(u));
		}
		json_decref(o);
	}
	l->n++;
}

static int by_id(const void *x, const void *y)
{
	const struct member *a = x, *b = y;
	return a->id < b->id ? -1 : a->id > b->id;
}

/* load_members reads the membership from the store, sorted by id as
 * etcd's cluster.Members() is. 0, or CE_AGAIN when the store is not open. */
static int load_members(struct apid *a, struct mlist *l)
{
	struct v2_result res;
	json_t *root, *nodes, *n;
	size_t i;
	int rc, tries = 0;

	l->n = 0;
	if (!apid_db_ready(a))
		return CE_AGAIN;
	v2_result_init(&res);
	while ((rc = v2store_get_internal(a->v2, "/0/members", 1, clock_wall_ns(), &res)) == CE_AGAIN &&
		++tries < APID_READ_RETRIES)
		;
	if (rc != 0 || res.http_status != 200) {
		v2_result_close(&res);
		return rc != 0 ? rc : 0; /* no members directory yet: none */
	}
	root = json_loadb((const char *)res.body.data, res.body.len, 0, NULL);
	v2_result_close(&res);
	nodes = json_object_get(json_object_get(root, "node"), "nodes");
	json_array_foreach(nodes, i, n)
		add_member_node(l, n);
	json_decref(root);
	qsort(l->v, l->n, sizeof(l->v[0]), by_id);
	return 0;
}

static json_t *member_obj(const struct member *m)
{
	char id[17];
	json_t *o = json_object(), *p = json_array(), *c = json_array();

	snprintf(id, sizeof(id), "%" PRIx64, m->id);
	json_object_set_new(o, "id", json_string(id));
	json_object_set_new(o, "name", json_string(m->name));
	for (size_t i = 0; i < m->npeer; i++)
		json_array_append_new(p, json_string(m->peer_urls[i]));
	for (size_t i = 0; i < m->nclient; i++)
		json_array_append_new(c, json_string(m->client_urls[i]));
	json_object_set_new(o, "peerURLs", p);
	json_object_set_new(o, "clientURLs", c);
	return o;
}

/* etcd's httptypes.HTTPError: {"message":"..."} (json.Marshal: no newline). */
static void http_error(struct hreq *req, int status, const char *msg)
{
	json_t *e = json_object();

	json_object_set_new(e, "message", json_string(msg));
	apid_send_json(req, status, "application/json", e, 0);
}

static int cmp_str(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

void members_machines(struct apid *a, struct hreq *req)
{
	char *urls[CLUSTER_MAX_MEMBERS * CLUSTER_MAX_URLS];
	struct mlist l;
	struct buf b;
	size_t n = 0;

	if (load_members(a, &l) != 0) {
		http_error(req, 503, "etcdserver: not ready");
		return;
	}
	for (size_t i = 0; i < l.n; i++)
		for (size_t j = 0; j < l.v[i].nclient; j++)
			urls[n++] = l.v[i].client_urls[j];
	qsort(urls, n, sizeof(urls[0]), cmp_str);
	buf_init(&b);
	for (size_t i = 0; i < n; i++) {
		if (b.len)
			buf_put(&b, ", ", 2);
		buf_put(&b, urls[i], strlen(urls[i]));
	}
	http_send(req, 200, "text/plain; charset=utf-8", b.data, b.len);
	buf_close(&b);
	mlist_close(&l);
}

static void list_members(struct apid *a, struct hreq *req)
{
	json_t *arr = json_array(), *o = json_object();
	struct mlist l;

	if (load_members(a, &l) != 0) {
		json_decref(arr);
		json_decref(o);
		http_error(req, 503, "etcdserver: not ready");
		return;
	}
	for (size_t i = 0; i < l.n; i++)
		json_array_append_new(arr, member_obj(&l.v[i]));
	json_object_set_new(o, "members", arr);
	apid_send_json(req, 200, "application/json", o, 1);
	mlist_close(&l);
}

int members_client_url(struct apid *a, uint64_t id, char *out, size_t outlen)
{
	struct mlist l;
	int rc = CE_NOTFOUND;

	if (load_members(a, &l) != 0)
		return CE_AGAIN;
	for (size_t i = 0; i < l.n; i++) {
		if (l.v[i].id == id && l.v[i].nclient > 0) {
			snprintf(out, outlen, "%s", l.v[i].client_urls[0]);
			rc = 0;
		}
	}
	mlist_close(&l);
	return rc;
}

static void leader_member(struct apid *a, struct hreq *req)
{
	struct shm_raft r;
	struct mlist l;

	shm_raft_read(a->w->shm, &r);
	if (load_members(a, &l) == 0) {
		for (size_t i = 0; i < l.n; i++) {
			if (l.v[i].id == r.leader_id) {
				apid_send_json(req, 200, "application/json", member_obj(&l.v[i]), 1);
				mlist_close(&l);
				return;
			}
		}
		mlist_close(&l);
	}
	http_error(req, 503, "During election");
}

/* go_json_error words a JSON decoding failure as Go's encoding/json does
 * for the usual cases (etcd puts that text in the 400 answer). */
static void go_json_error(const char *body, size_t n, int not_object, char *err, size_t errlen)
{
	size_t i = 0;

	while (i < n && (body[i] == ' ' || body[i] == '\t' || body[i] == '\n' || body[i] == '\r'))
		i++;
	if (i == n) {
		snprintf(err, errlen, "unexpected end of JSON input");
	} else if (not_object) {
		snprintf(err, errlen, "json: cannot unmarshal %s into Go value of type "
			"httptypes.MemberCreateRequest", body[i] == '[' ? "array" : body[i] == '"' ? "string" :
			body[i] == 't' || body[i] == 'f' ? "bool" : body[i] == 'n' ? "null" : "number");
	} else if (body[i] != '{') {
		snprintf(err, errlen, "invalid character '%c' looking for beginning of value", body[i]);
	} else {
		i++;
		while (i < n && (body[i] == ' ' || body[i] == '\t' || body[i] == '\n' || body[i] == '\r'))
			i++;
		if (i == n)
			snprintf(err, errlen, "unexpected end of JSON input");
		else if (body[i] != '"' && body[i] != '}')
			snprintf(err, errlen, "invalid character '%c' looking for beginning of object key string",
				body[i]);
		else
			snprintf(err, errlen, "invalid JSON");
	}
}

/* peer_urls_of parses {"peerURLs":[...]} as etcd's MemberCreateRequest and
 * MemberUpdateRequest do. Returns a JSON array of canonical URLs, or NULL
 * with the 400 message in err. */
static json_t *peer_urls_of(struct hreq *req, char *err, size_t errlen)
{
	const char *ctype = hreq_header(req, "Content-Type");
	size_t blen, i;
	const char *body = hreq_body(req, &blen);
	json_t *o, *urls, *u, *out;
	json_error_t jerr;

	if (ctype == NULL || strncmp(ctype, "application/json", 16) != 0 ||
		(ctype[16] != '\0' && ctype[16] != ';')) {
		snprintf(err, errlen, "Bad Content-Type %s, accept application/json", ctype ? ctype : "");
		return NULL;
	}
	o = json_loadb(body, blen, 0, &jerr);
	if (o == NULL || !json_is_object(o)) {
		go_json_error(body, blen, o != NULL, err, errlen);
		json_decref(o);
		return NULL;
	}
	urls = json_object_get(o, "peerURLs");
	out = json_array();
	json_array_foreach(urls, i, u) {
		struct cetcd_url cu;
		char uerr[256];
		if (!json_is_string(u) || url_parse(json_string_value(u), &cu, uerr, sizeof(uerr)) != 0) {
			snprintf(err, errlen, "%s", json_is_string(u) ? uerr : "bad peer URL");
			json_decref(out);
			json_decref(o);
			return NULL;
		}
		json_array_append_new(out, json_string(cu.str));
		url_close(&cu);
	}
	json_decref(o);
	if (json_array_size(out) == 0) {
		snprintf(err, errlen, "%s", "no valid URLs given");
		json_decref(out);
		return NULL;
	}
	return out;
}

/* propose_conf proposes a configuration change carrying member (consumed)
 * and parks req; the pending entry is returned (NULL on failure, after
 * which nothing was answered). */
static struct pending *propose_conf(struct apid *a, struct hreq *req, uint8_t type, uint64_t id,
	json_t *member, int kind)
{
	struct raft_conf_change cc = { type, id };
	uint8_t raw[RAFT_CONF_CHANGE_LEN];
	char *json = json_dumps(member, JSON_COMPACT | JSON_PRESERVE_ORDER);
	struct pending *p = NULL;
	uint64_t req_id;

	json_decref(member);
	raft_conf_change_encode(&cc, raw);
	if (json != NULL && apid_propose_frame(a, IPC_PROPOSE_CONF, raw, sizeof(raw), PROTO_CONF, json,
		strlen(json), &req_id) == 0)
		p = pending_add(a, req_id, kind, req);
	free(json);
	return p;
}

static void propose(struct apid *a, struct hreq *req, uint8_t type, uint64_t id, json_t *member)
{
	if (propose_conf(a, req, type, id, member, PENDING_MEMBERS) == NULL)
		http_error(req, 500, "Internal Server Error");
}

static json_t *new_member(uint64_t id, json_t *urls)
{
	struct member m;
	json_t *o;
	size_t i;
	json_t *u;

	memset(&m, 0, sizeof(m));
	m.id = id;
	json_array_foreach(urls, i, u)
		if (m.npeer < CLUSTER_MAX_URLS)
			m.peer_urls[m.npeer++] = (char *)json_string_value(u);
	o = member_obj(&m);
	return o;
}

static void add_member(struct apid *a, struct hreq *req)
{
	const char *urls[CLUSTER_MAX_URLS];
	char err[512], now[32];
	json_t *list = peer_urls_of(req, err, sizeof(err)), *u;
	size_t n = 0, i;
	uint64_t id;

	if (list == NULL) {
		http_error(req, strncmp(err, "Bad Content-Type", 16) == 0 ? 415 : 400, err);
		return;
	}
	json_array_foreach(list, i, u)
		if (n < CLUSTER_MAX_URLS)
			urls[n++] = json_string_value(u);
	/* etcd's NewMember with no name and no cluster token, salted with
	 * the time so a re-added URL gets a new id. */
	snprintf(now, sizeof(now), "%lld", (long long)(clock_wall_ns() / 1000000000));
	id = member_id_compute(urls, n, now);
	propose(a, req, RAFT_CONF_ADD_NODE, id, new_member(id, list));
	json_decref(list);
}

static int parse_id(const char *s, uint64_t *id)
{
	char *end;

	if (*s == '\0')
		return -1;
	*id = strtoull(s, &end, 16);
	return *end == '\0' ? 0 : -1;
}

void members_handle(struct apid *a, struct hreq *req, const char *rest)
{
	char cid[17], msg[256];
	int method = hreq_method(req);
	uint64_t id;

	snprintf(cid, sizeof(cid), "%" PRIx64, a->cluster.cluster_id);
	hreq_add_header(req, "X-Etcd-Cluster-Id", cid);
	if (*rest == '\0') {
		if (!http_only(req, H_GET | H_POST, "GET,POST"))
			return;
		if (method == H_GET)
			list_members(a, req);
		else
			add_member(a, req);
		return;
	}
	if (strcmp(rest, "leader") == 0) {
		if (http_only(req, H_GET, "GET"))
			leader_member(a, req);
		return;
	}
	if (!http_only(req, H_DELETE | H_PUT, "DELETE,PUT"))
		return;
	if (parse_id(rest, &id) != 0) {
		snprintf(msg, sizeof(msg), "No such member: %s", rest);
		http_error(req, 404, msg);
		return;
	}
	if (method == H_DELETE) {
		propose(a, req, RAFT_CONF_REMOVE_NODE, id, new_member(id, NULL));
	} else {
		json_t *list = peer_urls_of(req, msg, sizeof(msg));
		if (list == NULL) {
			http_error(req, strncmp(msg, "Bad Content-Type", 16) == 0 ? 415 : 400, msg);
			return;
		}
		propose(a, req, RAFT_CONF_UPDATE_NODE, id, new_member(id, list));
		json_decref(list);
	}
}

void members_on_result(struct apid *a, struct pending *p, const struct proto_result *r)
{
	(void)a;
	if (r->http_status == 204 || r->len == 0)
		http_send(p->req, (int)r->http_status, NULL, NULL, 0);
	else
		http_send(p->req, (int)r->http_status, "application/json", r->body, r->len);
}

void members_on_error(struct apid *a, struct pending *p, int code, const char *msg)
{
	const char *uri = hreq_uri(p->req), *slash = strrchr(uri, '/');
	char text[256], id[64];

	(void)a;
	snprintf(id, sizeof(id), "%.*s", (int)strcspn(slash ? slash + 1 : "", "?"), slash ? slash + 1 : "");
	switch (code) {
	case CE_EXISTS:
		http_error(p->req, 409, msg);
		break;
	case CE_NOTFOUND:
		snprintf(text, sizeof(text), "No such member: %s", id);
		http_error(p->req, 404, text);
		break;
	case CE_GONE:
		snprintf(text, sizeof(text), "Member permanently removed: %s", id);
		http_error(p->req, 410, text);
		break;
	default:
		http_error(p->req, 500, "Internal Server Error");
		break;
	}
}

/* members_v3_list encodes the members as etcd's Member messages in field
 * of pb: 0, or CE_AGAIN when the store is not open. */
int members_v3_list(struct apid *a, struct buf *pb, uint32_t field)
{
	struct mlist l;
	int rc = load_members(a, &l);

	if (rc != 0)
		return rc;
	for (size_t i = 0; i < l.n; i++) {
		const struct member *m = &l.v[i];
		size_t mk = pb_msg_begin(pb, field);
		pb_put_u64(pb, 1, m->id);
		pb_put_str(pb, 2, m->name);
		for (size_t j = 0; j < m->npeer; j++)
			pb_put_bytes_always(pb, 3, m->peer_urls[j], strlen(m->peer_urls[j]));
		for (size_t j = 0; j < m->nclient; j++)
			pb_put_bytes_always(pb, 4, m->client_urls[j], strlen(m->client_urls[j]));
		pb_put_bool(pb, 5, m->learner);
		pb_msg_end(pb, mk);
	}
	mlist_close(&l);
	return 0;
}

/* --- v3: Cluster/MemberAdd, MemberRemove, MemberUpdate, MemberPromote --- */

static int v3_fail_member(struct hreq *req, int code, const char *msg)
{
	v3gw_send_error(req, v3_http_status(code), code, msg);
	return 0;
}

void members_v3_handle(struct apid *a, struct hreq *req, const struct etcd_gw_route *r,
	const uint8_t *pb, size_t len)
{
	const char *gm = r->grpc_method;
	struct pending *p = NULL;
	uint64_t id = 0;

	pb_get_u64(pb, len, 1, &id);
	if (strcmp(gm, "/etcdserverpb.Cluster/MemberAdd") == 0 ||
		strcmp(gm, "/etcdserverpb.Cluster/MemberUpdate") == 0) {
		int add = gm[sizeof("/etcdserverpb.Cluster/Member") - 1] == 'A';
		const char *urls[CLUSTER_MAX_URLS];
		json_t *list = json_array();
		struct pb_reader rd;
		struct pb_item it;
		size_t n = 0;
		int learner = 0;
		char now[32];

		pb_reader_init(&rd, pb, len);
		while (pb_next_of(&rd, add ? 1 : 2, &it) == 1) {
			struct cetcd_url u;
			char tmp[512], uerr[128];
			snprintf(tmp, sizeof(tmp), "%.*s", (int)it.len, (const char *)it.data);
			if (url_parse(tmp, &u, uerr, sizeof(uerr)) != 0) {
				json_decref(list);
				v3_fail_member(req, 3, "etcdserver: given member URLs are invalid");
				return;
			}
			json_array_append_new(list, json_string(u.str));
			url_close(&u);
		}
		for (size_t i = 0; i < json_array_size(list) && n < CLUSTER_MAX_URLS; i++)
			urls[n++] = json_string_value(json_array_get(list, i));
		if (n == 0) {
			json_decref(list);
			v3_fail_member(req, 3, "etcdserver: given member URLs are invalid");
			return;
		}
		if (add) {
			pb_get_bool(pb, len, 2, &learner);
			snprintf(now, sizeof(now), "%lld", (long long)(clock_wall_ns() / 1000000000));
			id = member_id_compute(urls, n, now);
		}
		{
			json_t *m = new_member(id, list);
			if (learner)
				json_object_set_new(m, "isLearner", json_true());
			p = propose_conf(a, req, add ? (learner ? RAFT_CONF_ADD_LEARNER : RAFT_CONF_ADD_NODE) :
				RAFT_CONF_UPDATE_NODE, id, m, PENDING_V3);
		}
		json_decref(list);
	} else if (strcmp(gm, "/etcdserverpb.Cluster/MemberRemove") == 0) {
		p = propose_conf(a, req, RAFT_CONF_REMOVE_NODE, id, new_member(id, NULL), PENDING_V3);
	} else if (strcmp(gm, "/etcdserverpb.Cluster/MemberPromote") == 0) {
		p = propose_conf(a, req, RAFT_CONF_PROMOTE, id, new_member(id, NULL), PENDING_V3);
	} else {
		v3_fail_member(req, 12, "unknown service or method");
		return;
	}
	if (p == NULL) {
		v3_fail_member(req, 14, "etcdserver: no leader");
		return;
	}
	p->route = r;
	p->v3_method = V3_GW_MEMBER;
	p->read_index = id; /* the member the change is about */
}

/* The change was applied: answer with the cluster as it is now (etcd's
 * responses carry a header without a revision). */
void members_v3_done(struct apid *a, struct pending *p, int http_status, const char *body,
	size_t len)
{
	const char *gm = p->route->grpc_method;
	int add = strcmp(gm, "/etcdserverpb.Cluster/MemberAdd") == 0;
	struct buf out;

	if (http_status >= 300) {
		members_v3_error(a, p, http_status == 409 ? CE_EXISTS : CE_NOTFOUND,
			body && strstr(body, "peerURL") ? "membership: peerURL exists" : "");
		return;
	}
	buf_init(&out);
	v3gw_header(a, &out, 0);
	if (add) {
		struct member m;
		json_t *o = json_loadb(body, len, 0, NULL);
		char *js = o ? json_dumps(o, JSON_COMPACT) : NULL;
		if (js && cluster_member_parse(&m, js, strlen(js)) == 0) {
			size_t mk = pb_msg_begin(&out, 2);
			pb_put_u64(&out, 1, m.id);
			for (size_t j = 0; j < m.npeer; j++)
				pb_put_bytes_always(&out, 3, m.peer_urls[j], strlen(m.peer_urls[j]));
			/* the v2-style answer has no isLearner: take it from the store */
			{
				struct mlist l;
				if (load_members(a, &l) == 0) {
					for (size_t i = 0; i < l.n; i++)
						if (l.v[i].id == m.id)
							pb_put_bool(&out, 5, l.v[i].learner);
					mlist_close(&l);
				}
			}
			pb_msg_end(&out, mk);
			cluster_member_close(&m);
		}
		free(js);
		json_decref(o);
	}
	members_v3_list(a, &out, add ? 3 : 2);
	v3gw_send_pb(p->req, p->route, out.data, out.len);
	buf_close(&out);
}

/* etcd's gRPC errors for membership refusals (v3rpc/util.go). */
void members_v3_error(struct apid *a, struct pending *p, int code, const char *msg)
{
	(void)a;
	switch (code) {
	case CE_EXISTS:
		if (strstr(msg, "peerURL"))
			v3_fail_member(p->req, 9, "etcdserver: Peer URLs already exists");
		else
			v3_fail_member(p->req, 9, "etcdserver: member ID already exist");
		break;
	case CE_NOTFOUND:
	case CE_GONE:
		v3_fail_member(p->req, 5, "etcdserver: member not found");
		break;
	case CE_INVAL:
		v3_fail_member(p->req, 9, "etcdserver: can only promote a learner member");
		break;
	default:
		if (strstr(msg, "in sync with leader"))
			v3_fail_member(p->req, 9, msg);
		else if (strstr(msg, "not enough started"))
			v3_fail_member(p->req, 9,
				"etcdserver: re-configuration failed due to not enough started members");
		else if (strstr(msg, "unhealthy"))
			v3_fail_member(p->req, 14, "etcdserver: unhealthy cluster");
		else
			v3_fail_member(p->req, 14, "etcdserver: request timed out");
		break;
	}
}
