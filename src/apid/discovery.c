/* discovery.c - GET /v2/discovery/new?size=N: the discovery service that
 * discovery.etcd.io runs, built into every member. It makes a fresh token,
 * stores <token>/_config/size = N in this cluster's v2 keyspace (under
 * /_etcd/registry, as discovery.etcd.io keeps its tokens) and answers the
 * discovery URL, http://<host>/v2/keys/_etcd/registry/<token>: etcd's
 * discovery client sends its v2 key requests to the URL's own path (what
 * discovery.etcd.io serves at /<token>), so the URL names the keys API.
 */
#include "config.h"
#include "apid/apid_int.h"
#include "config/cfg.h"
#include "config/url.h"
#include "http/httpd.h"
#include "ipc/proto.h"
#include "ipc/worker.h"
#include "store/v2req.h"
#include "util/buf.h"
#include "util/clock.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DISCOVERY_PREFIX "/_etcd/registry/"
/* discovery.etcd.io's default and largest sizes */
#define DISCOVERY_DEFAULT_SIZE 3
#define DISCOVERY_MAX_SIZE 100

/* new_token: 32 hex characters from the kernel's random source. */
static int new_token(char out[33])
{
	unsigned char r[16];
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, r, sizeof(r)) : -1;

	if (fd >= 0)
		close(fd);
	if (n != (ssize_t)sizeof(r))
		return -1;
	for (size_t i = 0; i < sizeof(r); i++)
		snprintf(out + 2 * i, 3, "%02x", r[i]);
	return 0;
}

/* size_param: the size query parameter (default 3); -1 when malformed. */
static long size_param(const char *uri)
{
	const char *q = strchr(uri, '?'), *s;
	char *end;
	long v;

	if (q == NULL || (s = strstr(q, "size=")) == NULL || (s != q + 1 && s[-1] != '&'))
		return DISCOVERY_DEFAULT_SIZE;
	v = strtol(s + 5, &end, 10);
	if (end == s + 5 || (*end != '\0' && *end != '&') || v < 1 || v > DISCOVERY_MAX_SIZE)
		return -1;
	return v;
}

void discovery_new(struct apid *a, struct hreq *req)
{
	char token[33], key[96], value[16];
	struct v2_req r;
	struct buf body;
	struct pending *p;
	uint64_t req_id;
	long size;

	if (!http_only(req, H_GET, "GET"))
		return;
	if ((size = size_param(hreq_uri(req))) < 0) {
		http_send_text(req, 400, "Unable to parse size\n");
		return;
	}
	if (new_token(token) != 0) {
		http_send_text(req, 500, "Unable to generate token\n");
		return;
	}
	snprintf(key, sizeof(key), DISCOVERY_PREFIX "%s/_config/size", token);
	snprintf(value, sizeof(value), "%ld", size);
	memset(&r, 0, sizeof(r));
	r.op = V2_OP_PUT;
	r.prev_exist = -1;
	r.time_ns = clock_wall_ns();
	r.path = key;
	r.path_len = strlen(key);
	r.value = value;
	r.value_len = strlen(value);
	buf_init(&body);
	v2_req_encode(&r, &body);
	if (body.oom || apid_propose(a, PROTO_V2, body.data, body.len, &req_id) != 0 ||
		(p = pending_add(a, req_id, PENDING_DISCOVERY, req)) == NULL) {
		buf_close(&body);
		http_v2_error(a, req, 300, "etcdserver: server stopped", 0);
		return;
	}
	buf_close(&body);
	p->path = strdup(token);
	p->path_len = p->path ? strlen(p->path) : 0;
}

void discovery_on_result(struct apid *a, struct pending *p, const struct proto_result *r)
{
	const char *host = hreq_header(p->req, "Host");
	const struct url_list *adv = &a->w->cfg->advertise_client_urls;
	struct buf url;

	if (r->http_status != 200 && r->http_status != 201) {
		http_v2_error(a, p->req, (int)r->error_code ? (int)r->error_code : 300,
			"etcdserver: cannot create the discovery token", 0);
		return;
	}
	/* The URL as the client reached us; the advertised URL otherwise. */
	buf_init(&url);
	if (host != NULL && *host != '\0') {
		buf_put(&url, "http://", 7);
		buf_put(&url, host, strlen(host));
	} else if (adv->n > 0) {
		buf_put(&url, adv->v[0].str, strlen(adv->v[0].str));
	}
	buf_put(&url, "/v2/keys" DISCOVERY_PREFIX, strlen("/v2/keys" DISCOVERY_PREFIX));
	buf_put(&url, p->path, p->path_len);
	http_send(p->req, 200, "text/plain; charset=utf-8", url.data, url.len);
	buf_close(&url);
}
