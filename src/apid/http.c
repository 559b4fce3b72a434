/* http.c - the api worker's HTTP front: the server (src/http/httpd.h) on the sockets
 * the supervisor bound, a router, and the response helpers every handler
 * uses (etcd's CORS headers, v2 error bodies). */
#include "config.h"
#include "apid/apid_int.h"
#include "apid/form.h"
#include "config/cfg.h"
#include "http/httpd.h"
#include "ipc/worker.h"
#include "store/v2json.h"
#include "util/buf.h"
#include "util/log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* Idle or slow clients are cut off after this many seconds. */
#define HTTP_TIMEOUT_S 120

void http_send(struct hreq *req, int status, const char *ctype, const void *body, size_t len)
{
	if (ctype)
		hreq_add_header(req, "Content-Type", ctype);
	hreq_reply(req, status, body, len);
}

void http_send_text(struct hreq *req, int status, const char *text)
{
	http_send(req, status, "text/plain; charset=utf-8", text, strlen(text));
}

void http_v2_error(struct apid *a, struct hreq *req, int code, const char *cause, uint64_t index)
{
	struct buf body;
	char idx[24];

	buf_init(&body);
	v2json_error(&body, code, cause ? cause : "", cause ? strlen(cause) : 0, index);
	snprintf(idx, sizeof(idx), "%" PRIu64, index);
	hreq_add_header(req, "X-Etcd-Index", idx);
	if (body.oom)
		http_send_text(req, 500, "out of memory");
	else
		http_send(req, v2_error_status(code), "application/json", body.data, body.len);
	buf_close(&body);
}

static void route(struct hreq *req, void *arg)
{
	struct apid *a = arg;
	const char *uri = hreq_uri(req);
	const char *q = strchr(uri, '?');
	size_t plen = q ? (size_t)(q - uri) : strlen(uri);
	char err[128];
	char *path;

	worker_count(a->w, WC_HTTP_REQUESTS, 1);
	if (hreq_minor(req) >= 1 && hreq_header(req, "Host") == NULL) {
		/* Go's server: an HTTP/1.1 request must name its Host. */
		hreq_close_after(req);
		http_send_text(req, 400, "400 Bad Request: missing required Host header");
		return;
	}
	if (http_cors(req))
		return;
	path = url_unescape_path(uri, plen, err, sizeof(err));
	if (path == NULL) {
		hreq_close_after(req);
		http_send_text(req, 400, "400 Bad Request");
		return;
	}
	if (strcmp(path, "/v2/keys") == 0 || strncmp(path, "/v2/keys/", 9) == 0) {
		if (a->w->cfg->enable_v2)
			v2keys_handle(a, req, path);
		else
			http_send_text(req, 404, "404 page not found\n");
	} else if (!v3gw_handle(a, req, path)) {
		misc_handle(a, req, path);
	}
	free(path);
}

/* Go's http server answers a bad escape in the path with a bare 400. */
char *url_unescape_path(const char *s, size_t n, char *err, size_t errlen)
{
	return url_unescape(s, n, 0, NULL, err, errlen);
}

int apid_http_start(struct apid *a)
{
	const struct cetcd_config *cfg = a->w->cfg;
	struct httpd_opts o;

	o.max_body = (size_t)cfg->max_request_bytes;
	o.max_header = 1u << 20;
	o.idle_timeout_s = HTTP_TIMEOUT_S;
	a->http = httpd_new(a->w->base, &o, route, a);
	if (a->http == NULL)
		return -1;
	for (int i = 0; i < a->w->nclient_fds; i++) {
		if (httpd_listen_fd(a->http, a->w->client_fds[i]) != 0) {
			log_error("cannot serve client socket %d", a->w->client_fds[i]);
			return -1;
		}
	}
	return 0;
}

void apid_http_close(struct apid *a)
{
	httpd_free(a->http);
	a->http = NULL;
}
