/* v3forward.c - LeaseTimeToLive asked on a follower goes to the leader,
 * as etcd forwards it: only the leader's lessor knows how long a lease has
 * left. The api worker posts the same request to the leader's client URL
 * (learned from the replicated membership) and answers with the leader's
 * response under this member's own ResponseHeader, as etcd's lease server
 * refills the header; an unreachable leader is etcd's request timeout.
 */
#include "config.h"
#include "apid/apid_int.h"
#include "http/httpd.h"
#include "ipc/worker.h"
#include "pb/etcd_schema.h"
#include "pb/pb.h"
#include "pb/pb_json.h"
#include "store/mvcc.h"
#include "util/buf.h"
#include "util/log.h"
#include "v3/v3.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* etcd's request timeout for the forwarded call (ReqTimeout: 5 s + an
 * election allowance). */
#define V3FORWARD_TIMEOUT_S 7
#define V3FORWARD_HEADER "X-Cetcd-Forwarded"

struct fwd {
	struct apid *a;
	struct hreq *req;
	const struct etcd_gw_route *route;
	struct evhttp_connection *conn;
};

static void conn_free_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	evhttp_connection_free(arg);
}

/* reply_rebased answers the leader's response pb under this member's
 * header (field 1 replaced). */
static void reply_rebased(struct fwd *f, const struct buf *pb)
{
	struct mvcc_state st;
	struct pb_reader r;
	struct pb_item it;
	struct buf out;
	char err[128];

	buf_init(&out);
	if (mvcc_revisions(f->a->mvcc, &st, err, sizeof(err)) != 0)
		st.current = 0;
	v3gw_header(f->a, &out, st.current);
	pb_reader_init(&r, pb->data, pb->len);
	for (;;) {
		size_t at = r.off;
		if (pb_next(&r, &it) != 1)
			break;
		if (it.number != 1)
			buf_put(&out, (const uint8_t *)pb->data + at, r.off - at);
	}
	v3gw_send_pb(f->req, f->route, out.data, out.len);
	buf_close(&out);
}

static void done_cb(struct evhttp_request *resp, void *arg)
{
	struct fwd *f = arg;
	int status = resp ? evhttp_request_get_response_code(resp) : 0;
	struct buf body, pb;
	char err[256];

	buf_init(&body);
	buf_init(&pb);
	if (status != 0) {
		struct evbuffer *in = evhttp_request_get_input_buffer(resp);
		size_t n = evbuffer_get_length(in);
		if (n > 0 && buf_reserve(&body, n) == 0)
			buf_put(&body, evbuffer_pullup(in, (ev_ssize_t)n), n);
	}
	if (status == 200 && pb_from_json(f->route->resp, body.data, body.len, &pb, err,
		sizeof(err)) == 0) {
		reply_rebased(f, &pb);
	} else if (status >= 400) {
		/* the leader's gRPC error, passed on */
		json_error_t je;
		json_t *o = json_loadb((const char *)body.data, body.len, 0, &je);
		const char *msg = json_string_value(json_object_get(o, "error"));
		int code = (int)json_integer_value(json_object_get(o, "code"));
		v3gw_send_error(f->req, status, code ? code : 2, msg ? msg : "etcdserver: internal error");
		json_decref(o);
	} else {
		if (status != 0)
			log_warn("lease timetolive: the leader answered %d", status);
		v3gw_send_error(f->req, 503, V3_UNAVAILABLE, "etcdserver: request timed out");
	}
	buf_close(&pb);
	buf_close(&body);
	/* the connection cannot be freed from inside its own callback */
	event_base_once(f->a->w->base, -1, EV_TIMEOUT, conn_free_cb, f->conn, NULL);
	free(f);
}

int v3forward_lease_ttl(struct apid *a, struct hreq *req, const struct etcd_gw_route *r,
	const uint8_t *pb, size_t len)
{
	struct evhttp_request *out = NULL;
	struct evhttp_uri *uri = NULL;
	struct shm_raft rs;
	char url[512], err[128], host[256];
	struct buf json;
	struct fwd *f;
	int port;

	/* a request forwarded to us is answered here, so that members that
	 * disagree on the leader for a moment do not pass it around */
	if (hreq_header(req, V3FORWARD_HEADER) != NULL)
		return 0;
	shm_raft_read(a->w->shm, &rs);
	if (rs.leader_id == 0 || rs.leader_id == rs.member_id ||
		members_client_url(a, rs.leader_id, url, sizeof(url)) != 0 ||
		(uri = evhttp_uri_parse(url)) == NULL || evhttp_uri_get_host(uri) == NULL)
		goto local;
	snprintf(host, sizeof(host), "%s", evhttp_uri_get_host(uri));
	port = evhttp_uri_get_port(uri) > 0 ? evhttp_uri_get_port(uri) : 80;
	evhttp_uri_free(uri);
	if (strncmp(url, "http://", 7) != 0)
		return 0; /* TLS client URLs are not served by cetcd yet */
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return 0;
	f->a = a;
	f->req = req;
	f->route = r;
	buf_init(&json);
	if ((f->conn = evhttp_connection_base_new(a->w->base, NULL, host, (uint16_t)port)) == NULL ||
		(out = evhttp_request_new(done_cb, f)) == NULL ||
		pb_to_json(r->req, pb, len, &json, err, sizeof(err)) != 0) {
		if (out)
			evhttp_request_free(out);
		if (f->conn)
			evhttp_connection_free(f->conn);
		free(f);
		buf_close(&json);
		return 0;
	}
	evhttp_connection_set_timeout(f->conn, V3FORWARD_TIMEOUT_S);
	evhttp_add_header(evhttp_request_get_output_headers(out), "Host", host);
	evhttp_add_header(evhttp_request_get_output_headers(out), "Content-Type", "application/json");
	evhttp_add_header(evhttp_request_get_output_headers(out), V3FORWARD_HEADER, "1");
	evbuffer_add(evhttp_request_get_output_buffer(out), json.data, json.len);
	buf_close(&json);
	if (evhttp_make_request(f->conn, out, EVHTTP_REQ_POST, r->path) != 0) {
		/* libevent has freed the request */
		evhttp_connection_free(f->conn);
		free(f);
		return 0;
	}
	return 1;
local:
	if (uri)
		evhttp_uri_free(uri);
	return 0;
}
