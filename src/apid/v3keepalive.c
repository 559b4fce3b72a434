/* v3keepalive.c - LeaseKeepAlive through the JSON gateway. The body holds
 * one or more LeaseKeepAliveRequests (grpc-gateway decodes a client stream
 * value after value); each is proposed in turn and its answer sent as a
 * {"result": LeaseKeepAliveResponse} line before the next one goes, the
 * order etcd's keepalive loop (receive, renew, send) gives. The response
 * ends after the last request, as etcd's stream ends when the gateway
 * closes its sending side at the end of the body.
 *
 * A request that fails to decode ends the requests there (grpc-gateway
 * stops reading); a renewal that fails (no leader, timeout) sends
 * grpc-gateway's stream error line and ends the response.
 */
#include "config.h"
#include "apid/apid_int.h"
#include "http/httpd.h"
#include "ipc/proto.h"
#include "pb/etcd_schema.h"
#include "pb/pb_json.h"
#include "util/buf.h"
#include "util/log.h"
#include "v3/v3.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct kastream {
	struct hreq *req;
	char *body;
	size_t len, off;
	int started;
};

static void ka_free(struct kastream *k)
{
	free(k->body);
	free(k);
}

static void ka_start_reply(struct kastream *k, int status)
{
	if (k->started)
		return;
	k->started = 1;
	hreq_add_header(k->req, "Content-Type", "application/json");
	if (status == 200)
		hreq_add_header(k->req, "Grpc-Metadata-Content-Type", "application/grpc");
	hreq_reply_start(k->req, status);
}

static void ka_end(struct kastream *k)
{
	ka_start_reply(k, 200);
	hreq_reply_end(k->req);
	ka_free(k);
}

/* ka_fail ends the stream with grpc-gateway's error line. */
static void ka_fail(struct kastream *k, int code, const char *msg)
{
	static const struct {
		int status;
		const char *text;
	} st[] = { { 400, "Bad Request" }, { 401, "Unauthorized" }, { 403, "Forbidden" },
		{ 404, "Not Found" }, { 408, "Request Timeout" }, { 409, "Conflict" },
		{ 412, "Precondition Failed" }, { 429, "Too Many Requests" },
		{ 500, "Internal Server Error" }, { 501, "Not Implemented" },
		{ 503, "Service Unavailable" }, { 504, "Gateway Timeout" } };
	int status = v3_http_status(code);
	const char *text = "Internal Server Error";
	struct buf b;

	for (size_t i = 0; i < sizeof(st) / sizeof(st[0]); i++)
		if (st[i].status == status)
			text = st[i].text;
	buf_init(&b);
	pb_json_stream_error(&b, msg, code, status, text);
	ka_start_reply(k, status);
	hreq_reply_chunk(k->req, b.data, b.len);
	buf_close(&b);
	hreq_reply_end(k->req);
	ka_free(k);
}

/* ka_next proposes the next request of the body, or ends the stream. */
static void ka_next(struct apid *a, struct kastream *k)
{
	size_t start, vlen;
	struct pending *p;
	struct buf pb;
	char err[256];

	if (pb_json_next_value(k->body, k->len, &k->off, &start, &vlen) != 1) {
		ka_end(k);
		return;
	}
	buf_init(&pb);
	if (pb_from_json(&etcdpb_lease_keep_alive_request, k->body + start, vlen, &pb, err,
		sizeof(err)) != 0) {
		buf_close(&pb);
		ka_end(k);
		return;
	}
	p = v3gw_propose(a, k->req, NULL, V3_LEASE_KEEPALIVE, (const uint8_t *)pb.data, pb.len);
	buf_close(&pb);
	if (p == NULL) {
		ka_fail(k, V3_UNAVAILABLE, "etcdserver: no leader");
		return;
	}
	p->v3_method = V3_GW_KEEPALIVE;
	p->stream = k;
}

void v3keepalive_start(struct apid *a, struct hreq *req, const char *body, size_t blen)
{
	size_t off = 0, start, vlen;
	struct kastream *k;
	struct buf pb;
	char err[256];
	int rc;

	/* a first request that does not decode is refused as a whole, with
	 * code 2 as etcd's stream handlers report it */
	buf_init(&pb);
	rc = pb_json_next_value(body, blen, &off, &start, &vlen);
	if (rc != 0 && pb_from_json(&etcdpb_lease_keep_alive_request, body + start, vlen, &pb, err,
		sizeof(err)) != 0) {
		v3gw_send_decode_error(req, 500, 2, err);
		buf_close(&pb);
		return;
	}
	buf_close(&pb);
	if ((k = calloc(1, sizeof(*k))) == NULL || (k->body = malloc(blen ? blen : 1)) == NULL) {
		free(k);
		v3gw_send_error(req, 500, 13, "etcdserver: out of memory");
		return;
	}
	memcpy(k->body, body, blen);
	k->len = blen;
	k->req = req;
	ka_next(a, k);
}

void v3keepalive_done(struct apid *a, struct pending *p, const struct proto_result *r,
	const char *errmsg)
{
	struct kastream *k = p->stream;
	struct buf b;
	char err[128];

	if (k == NULL)
		return;
	p->stream = NULL;
	if (r == NULL || r->error_code != 0) {
		char msg[256];
		if (r != NULL)
			snprintf(msg, sizeof(msg), "%.*s", (int)r->len, (const char *)r->body);
		ka_fail(k, r ? (int)r->error_code : V3_UNAVAILABLE, r ? msg : errmsg);
		return;
	}
	buf_init(&b);
	if (pb_json_stream_chunk(&etcdpb_lease_keep_alive_response, r->body, r->len, &b, err,
		sizeof(err)) != 0) {
		buf_close(&b);
		ka_fail(k, 13, "etcdserver: internal error");
		return;
	}
	ka_start_reply(k, 200);
	hreq_reply_chunk(k->req, b.data, b.len);
	buf_close(&b);
	ka_next(a, k);
}
