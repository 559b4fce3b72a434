/* main.c - the proxy worker's entry point and front: the HTTP server on
 * the client sockets the supervisor bound, the proxy's own endpoints
 * (/metrics, /v2/config/local/proxy) and --proxy readonly; everything
 * else is forwarded (forward.c).
 */
#include "config.h"
#include "proxyd/proxyd.h"
#include "proxyd/proxyd_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>

#include "config/cfg.h"
#include "http/httpd.h"
#include "ipc/shm.h"
#include "ipc/worker.h"
#include "proxyd/upstream.h"
#include "util/buf.h"
#include "util/log.h"

/* Idle or stuck clients are cut off after this many seconds (a pending
 * long poll is not idle). */
#define PX_HTTP_TIMEOUT_S 120
/* The proxy takes bodies as large as a member could (the member
 * enforces its own --max-request-bytes). */
#define PX_MAX_BODY (64u << 20)
#define PX_MAX_IDLE_PER_HOST 128 /* etcd's DefaultMaxIdleConnsPerHost */

static const char *const method_names[PX_METHODS] = { "GET", "HEAD", "PUT", "POST", "DELETE",
	"OPTIONS", "PATCH", "OTHER" };

static struct proxyd proxyd;

int px_method_index(int hmethod)
{
	switch (hmethod) {
	case H_GET: return 0;
	case H_HEAD: return 1;
	case H_PUT: return 2;
	case H_POST: return 3;
	case H_DELETE: return 4;
	case H_OPTIONS: return 5;
	case H_PATCH: return 6;
	default: return 7;
	}
}

void px_count_handled(struct proxyd *px, int method, int code, uint64_t start_ms)
{
	struct px_metrics *m = &px->m;
	int mi = px_method_index(method);
	double s = (double)(shm_now_ms() - start_ms) / 1000.0;
	size_t i;

	for (i = 0; i < m->nhandled; i++)
		if (m->handled[i].method == mi && m->handled[i].code == code)
			break;
	if (i == m->nhandled && m->nhandled < sizeof(m->handled) / sizeof(m->handled[0])) {
		m->handled[i].method = mi;
		m->handled[i].code = code;
		m->nhandled++;
	}
	if (i < m->nhandled)
		m->handled[i].n++;
	for (i = 0; i < PX_BUCKETS && s > 0.0005 * (double)(1u << i); i++)
		;
	m->duration[mi][i]++;
	m->duration_sum[mi] += s;
}

void px_count_dropped(struct proxyd *px, int method, enum px_drop why)
{
	px->m.dropped[px_method_index(method)][why]++;
}

void px_http_error(struct hreq *r, int status, const char *msg)
{
	json_t *o = json_pack("{s:s}", "message", msg);
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	hreq_add_header(r, "Content-Type", "application/json");
	if (s)
		hreq_reply(r, status, s, strlen(s));
	else
		hreq_reply(r, status, "", 0);
	free(s);
}

static void serve_metrics(struct proxyd *px, struct hreq *r)
{
	static const char *const drops[PX_DROP_N] = { "zero_endpoints", "failed_sending_request",
		"failed_getting_response" };
	const struct px_metrics *m = &px->m;
	struct buf b;

	buf_init(&b);
	buf_puts(&b, "# HELP etcd_proxy_requests_total Counter requests incoming by method.\n"
		"# TYPE etcd_proxy_requests_total counter\n");
	for (int i = 0; i < PX_METHODS; i++)
		if (m->requests[i])
			buf_printf(&b, "etcd_proxy_requests_total{method=\"%s\"} %" PRIu64 "\n",
				method_names[i], m->requests[i]);
	buf_puts(&b, "# HELP etcd_proxy_handled_total Counter of requests fully handled (by "
		"authoratitave servers)\n# TYPE etcd_proxy_handled_total counter\n");
	for (size_t i = 0; i < m->nhandled; i++)
		buf_printf(&b, "etcd_proxy_handled_total{code=\"%d\",method=\"%s\"} %" PRIu64 "\n",
			m->handled[i].code, method_names[m->handled[i].method], m->handled[i].n);
	buf_puts(&b, "# HELP etcd_proxy_dropped_total Counter of requests dropped on the proxy.\n"
		"# TYPE etcd_proxy_dropped_total counter\n");
	for (int i = 0; i < PX_METHODS; i++)
		for (int d = 0; d < PX_DROP_N; d++)
			if (m->dropped[i][d])
				buf_printf(&b, "etcd_proxy_dropped_total{method=\"%s\",proxying_error=\"%s\"} %"
					PRIu64 "\n", method_names[i], drops[d], m->dropped[i][d]);
	buf_puts(&b, "# HELP etcd_proxy_handling_duration_seconds Bucketed histogram of handling "
		"time of successful events (non-watches), by method (GET/PUT etc.).\n"
		"# TYPE etcd_proxy_handling_duration_seconds histogram\n");
	for (int i = 0; i < PX_METHODS; i++) {
		uint64_t cum = 0;
		for (int k = 0; k <= PX_BUCKETS; k++)
			cum += m->duration[i][k];
		if (cum == 0)
			continue;
		cum = 0;
		for (int k = 0; k < PX_BUCKETS; k++) {
			cum += m->duration[i][k];
			buf_printf(&b, "etcd_proxy_handling_duration_seconds_bucket{method=\"%s\","
				"le=\"%g\"} %" PRIu64 "\n", method_names[i], 0.0005 * (double)(1u << k), cum);
		}
		cum += m->duration[i][PX_BUCKETS];
		buf_printf(&b, "etcd_proxy_handling_duration_seconds_bucket{method=\"%s\",le=\"+Inf\"} %"
			PRIu64 "\netcd_proxy_handling_duration_seconds_sum{method=\"%s\"} %.9f\n"
			"etcd_proxy_handling_duration_seconds_count{method=\"%s\"} %" PRIu64 "\n",
			method_names[i], cum, method_names[i], m->duration_sum[i], method_names[i], cum);
	}
	hreq_add_header(r, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	hreq_reply(r, 200, b.data, b.len);
	buf_close(&b);
}

/* serve_config answers etcd's GET /v2/config/local/proxy: the endpoints
 * available now. */
static void serve_config(struct proxyd *px, struct hreq *r)
{
	size_t n = 0;
	struct px_ep **eps;
	json_t *list, *o;
	char *s;

	if (!http_only(r, H_GET, "GET"))
		return;
	list = json_array();
	eps = director_available(px, &n);
	for (size_t i = 0; i < n && list; i++)
		json_array_append_new(list, json_string(eps[i]->url));
	director_release(eps, n);
	o = json_pack("{s:o}", "endpoints", list); /* takes list */
	s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	/* Go's json.Encoder ends the value with a newline; etcd sets no
	 * type, so Go's sniffing names it text */
	hreq_add_header(r, "Content-Type", "text/plain; charset=utf-8");
	{
		struct buf b;
		buf_init(&b);
		buf_puts(&b, s ? s : "{\"endpoints\":[]}");
		buf_put(&b, "\n", 1);
		hreq_reply(r, 200, b.data, b.len);
		buf_close(&b);
	}
	free(s);
}

static void route(struct hreq *r, void *arg)
{
	struct proxyd *px = arg;
	const char *uri = hreq_uri(r);
	size_t plen = strcspn(uri, "?");

	px->m.requests[px_method_index(hreq_method(r))]++;
	if (plen == 8 && strncmp(uri, "/metrics", 8) == 0) {
		serve_metrics(px, r);
		return;
	}
	if (px->readonly && hreq_method(r) != H_GET) {
		hreq_reply(r, 501, "", 0);
		return;
	}
	/* every answer of etcd's proxy handler has them (forward.c drops the
	 * members' own copies) */
	if (http_cors(r))
		return;
	if (plen == 22 && strncmp(uri, "/v2/config/local/proxy", 22) == 0) {
		serve_config(px, r);
		return;
	}
	forward_request(px, r);
}

static void on_stop(struct worker *w)
{
	event_base_loopexit(w->base, NULL);
}

static int start(struct proxyd *px)
{
	const struct cetcd_config *cfg = px->w->cfg;
	struct httpd_opts o = { PX_MAX_BODY, 1u << 20, PX_HTTP_TIMEOUT_S };
	struct ups_opts u = { (int)cfg->proxy_dial_timeout_ms, (int)cfg->proxy_write_timeout_ms,
		(int)cfg->proxy_read_timeout_ms, PX_MAX_IDLE_PER_HOST };
	uint32_t first, count;

	px->readonly = strcmp(cfg->proxy, "readonly") == 0;
	worker_role_slots(px->w->shm, ROLE_PROXY, &first, &count);
	px->writes_cluster_file = px->w->slot_index == first;
	if ((px->ups = ups_pool_new(px->w->base, &u)) == NULL ||
		(px->http = httpd_new(px->w->base, &o, route, px)) == NULL)
		return -1;
	for (int i = 0; i < px->w->nclient_fds; i++) {
		if (httpd_listen_fd(px->http, px->w->client_fds[i]) != 0) {
			log_error("cannot serve client socket %d", px->w->client_fds[i]);
			return -1;
		}
	}
	return director_start(px, px->w->proxy_peers);
}

int proxyd_main(struct worker *w)
{
	struct proxyd *px = &proxyd;
	int rc;

	memset(px, 0, sizeof(*px));
	px->w = w;
	w->user = px;
	w->on_stop = on_stop;
	log_info("%s proxy started listening on client requests",
		strcmp(w->cfg->proxy, "readonly") == 0 ? "readonly v2" : "v2");
	if (start(px) != 0) {
		log_error("proxy: cannot start");
		rc = WORKER_EXIT_CRASH;
	} else {
		/* ready once the first refresh has run (director.c) */
		rc = worker_run(w);
	}
	forward_close_all(px);
	director_stop(px);
	httpd_free(px->http);
	ups_pool_free(px->ups);
	return rc;
}
