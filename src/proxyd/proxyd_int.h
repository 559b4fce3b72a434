/* proxyd_int.h - the proxy worker's parts: the director (which members to
 * send to; director.c), the forwarder (forward.c) and the worker's front
 * (main.c: listeners, its own endpoints, metrics). */
#ifndef CETCD_PROXYD_PROXYD_INT_H
#define CETCD_PROXYD_PROXYD_INT_H

#include <stddef.h>
#include <stdint.h>

struct event;
struct hreq;
struct httpd;
struct ups_pool;
struct worker;

/* One member client URL the proxy may send to. Shared by reference with
 * the requests trying it, so a refresh can replace the list meanwhile. */
struct px_ep {
	char *url;              /* "http://127.0.0.1:2379" */
	char *host;
	int port;
	uint64_t down_until_ms; /* unavailable until then (failure wait) */
	int refs;
};

/* Request outcomes counted for /metrics (etcd's etcd_proxy_* names). */
enum px_drop { PX_DROP_ZERO = 0, PX_DROP_SEND, PX_DROP_RESPONSE, PX_DROP_N };

#define PX_METHODS 8 /* GET HEAD PUT POST DELETE OPTIONS PATCH other */
#define PX_BUCKETS 13

struct px_metrics {
	uint64_t requests[PX_METHODS];
	uint64_t dropped[PX_METHODS][PX_DROP_N];
	uint64_t duration[PX_METHODS][PX_BUCKETS + 1]; /* histogram, +Inf last */
	double duration_sum[PX_METHODS];
	struct px_code { int method, code; uint64_t n; } handled[64];
	size_t nhandled;
};

struct proxyd {
	struct worker *w;
	struct httpd *http;
	struct ups_pool *ups;      /* to members' client URLs */
	struct ups_pool *peer_ups; /* to members' peer URLs (membership) */
	int readonly;
	/* director */
	char **peers;              /* peer URLs to ask for the membership */
	size_t npeers;
	struct px_ep **eps;        /* the members' client URLs, shuffled */
	size_t neps;
	int refreshed;             /* the first refresh finished */
	struct event *refresh_ev;
	struct px_refresh *refresh; /* the refresh in progress, or NULL */
	struct px_req *live;       /* requests being forwarded or waiting */
	int writes_cluster_file;
	struct px_metrics m;
};

/* director.c */
int director_start(struct proxyd *px, const char *peers_csv);
void director_stop(struct proxyd *px);
/* director_available gives the endpoints to try now, in order, each with
 * a reference taken (release with director_release). */
struct px_ep **director_available(struct proxyd *px, size_t *n);
void director_release(struct px_ep **eps, size_t n);
/* director_failed marks ep unavailable for --proxy-failure-wait. */
void director_failed(struct proxyd *px, struct px_ep *ep);

/* forward.c */
void forward_request(struct proxyd *px, struct hreq *r);
/* forward_resume_waiting dispatches the requests that came before the
 * first refresh finished. */
void forward_resume_waiting(struct proxyd *px);
void forward_close_all(struct proxyd *px);

/* main.c: the metrics the forwarder reports */
int px_method_index(int hmethod);
void px_count_handled(struct proxyd *px, int method, int code, uint64_t start_ms);
void px_count_dropped(struct proxyd *px, int method, enum px_drop why);
/* px_http_error answers etcd's httptypes.HTTPError: {"message":"..."}. */
void px_http_error(struct hreq *r, int status, const char *msg);

#endif
