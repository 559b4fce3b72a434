/* director.c - which members the proxy sends to (etcd's httpproxy
 * director): the members' client URLs, learned by asking the peer URLs
 * for the membership (GET <peer>/members, as etcd's proxy does; cetcd's
 * and etcd's members both answer it) at start and every
 * --proxy-refresh-interval ms, shuffled so that proxies spread their
 * load. An endpoint that fails is left out for --proxy-failure-wait ms.
 * A refresh in which no peer answers empties the list, as in etcd; while
 * it is empty and the interval is the default 30 s or more, the next
 * refresh comes after 1 s.
 *
 * The peer URLs follow the membership too and are written to the cluster
 * file, so a restarted proxy finds a cluster whose members moved.
 */
#include "config.h"
#include "proxyd/proxyd_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "config/cfg.h"
#include "config/url.h"
#include "ipc/shm.h"
#include "ipc/worker.h"
#include "proxyd/clusterfile.h"
#include "proxyd/upstream.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/log.h"

#define MEMBERS_MAX_BODY (4u << 20)
#define DEFAULT_REFRESH_MS 30000u
#define EMPTY_REFRESH_MS 1000u

struct px_refresh {
	struct proxyd *px;
	size_t next;            /* the next peer URL to ask */
	int stage2;             /* asking client URLs for /v2/members */
	char **peers, **clients; /* what the peers' /members gave */
	size_t npeers, nclients;
	size_t cnext;           /* the next client URL to ask */
	struct ups_call *call;
	struct buf body;
	int status;
	int has_cluster_id;
	int too_big;
};

static uint64_t now_ms(void)
{
	return shm_now_ms();
}

static void ep_unref(struct px_ep *ep)
{
	if (ep == NULL || --ep->refs > 0)
		return;
	free(ep->url);
	free(ep->host);
	free(ep);
}

static struct px_ep *ep_new(const char *url)
{
	struct cetcd_url u;
	struct px_ep *ep;
	char err[256];

	if (url_parse(url, &u, err, sizeof(err)) != 0)
		return NULL;
	if (strcmp(u.scheme, "http") != 0 || (ep = calloc(1, sizeof(*ep))) == NULL) {
		log_warn("proxy: upstream URL %s not usable (only http is)", url);
		url_close(&u);
		return NULL;
	}
	ep->url = strdup(u.str);
	ep->host = strdup(u.host);
	ep->port = u.port;
	ep->refs = 1;
	url_close(&u);
	if (ep->url == NULL || ep->host == NULL) {
		ep_unref(ep);
		return NULL;
	}
	return ep;
}

struct px_ep **director_available(struct proxyd *px, size_t *n)
{
	struct px_ep **v = calloc(px->neps + 1, sizeof(*v));
	uint64_t now = now_ms();

	*n = 0;
	if (v == NULL)
		return NULL;
	for (size_t i = 0; i < px->neps; i++) {
		if (px->eps[i]->down_until_ms > now)
			continue;
		px->eps[i]->refs++;
		v[(*n)++] = px->eps[i];
	}
	return v;
}

void director_release(struct px_ep **eps, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ep_unref(eps[i]);
	free(eps);
}

void director_failed(struct proxyd *px, struct px_ep *ep)
{
	uint64_t now = now_ms();

	if (ep->down_until_ms > now)
		return;
	ep->down_until_ms = now + px->w->cfg->proxy_failure_wait_ms;
	log_warn("proxy: marked endpoint %s unavailable", ep->url);
}

static int by_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* strv_text joins v with commas, for logs. */
static char *strv_text(char **v, size_t n)
{
	struct buf b;

	buf_init(&b);
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_put(&b, ",", 1);
		buf_puts(&b, v[i]);
	}
	buf_put(&b, "", 1);
	return (char *)buf_take(&b, NULL);
}

/* collect adds the strings of member field f of every member, sorted. */
static char **collect(json_t *members, const char *f, size_t *n)
{
	size_t i, j, cap = 0;
	json_t *m, *u;
	char **v;

	json_array_foreach(members, i, m)
		cap += json_array_size(json_object_get(m, f));
	*n = 0;
	if ((v = calloc(cap + 1, sizeof(*v))) == NULL)
		return NULL;
	json_array_foreach(members, i, m) {
		json_array_foreach(json_object_get(m, f), j, u) {
			if (json_is_string(u) && (v[*n] = strdup(json_string_value(u))) != NULL)
				(*n)++;
		}
	}
	qsort(v, *n, sizeof(*v), by_str);
	return v;
}

/* set_endpoints replaces the endpoint list; an URL already known keeps
 * its failure state. */
static void set_endpoints(struct proxyd *px, char **urls, size_t n)
{
	struct px_ep **v = calloc(n + 1, sizeof(*v));
	size_t k = 0;

	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		struct px_ep *ep = NULL;
		if (i > 0 && strcmp(urls[i], urls[i - 1]) == 0)
			continue;
		for (size_t j = 0; j < px->neps && ep == NULL; j++)
			if (strcmp(px->eps[j]->url, urls[i]) == 0)
				(ep = px->eps[j])->refs++;
		if (ep == NULL && (ep = ep_new(urls[i])) == NULL)
			continue;
		v[k++] = ep;
	}
	/* shuffle so that proxies do not all pick the same member */
	for (size_t i = k; i > 1; i--) {
		size_t j = (size_t)random() % i;
		struct px_ep *t = v[i - 1];
		v[i - 1] = v[j];
		v[j] = t;
	}
	director_release(px->eps, px->neps);
	px->eps = v;
	px->neps = k;
}

static void set_peers(struct proxyd *px, char **peers, size_t n)
{
	int same = n == px->npeers;
	char err[256];

	for (size_t i = 0; same && i < n; i++)
		same = strcmp(peers[i], px->peers[i]) == 0;
	if (same && px->refreshed) {
		strv_free(peers, n);
		return;
	}
	if (!same) {
		char *from = strv_text(px->peers, px->npeers), *to = strv_text(peers, n);
		log_info("proxy: updated peer urls in cluster file from %s to %s", from ? from : "",
			to ? to : "");
		free(from);
		free(to);
	}
	if (px->writes_cluster_file &&
		proxy_cluster_write(px->w->cfg->data_dir, (const char *const *)peers, n, err,
			sizeof(err)) != 0)
		log_warn("proxy: error on writing urls %s", err);
	strv_free(px->peers, px->npeers);
	px->peers = peers;
	px->npeers = n;
}

/* take_members reads a /members answer (a JSON array of members) into
 * rf; 0 when it named members. *partial: a member's client URLs are
 * missing (a cetcd member knows only its own; a member not started yet
 * has none), so they are to be asked of a member's /v2/members. */
static int take_members(struct px_refresh *rf, int *partial)
{
	/* ids are uint64 numbers, past what jansson's integers hold */
	json_t *a = json_loadb((const char *)rf->body.data, rf->body.len, JSON_DECODE_INT_AS_REAL,
		NULL), *m;
	size_t i;

	*partial = 0;
	if (!json_is_array(a) || json_array_size(a) == 0) {
		json_decref(a);
		return -1;
	}
	json_array_foreach(a, i, m)
		if (json_array_size(json_object_get(m, "clientURLs")) == 0)
			*partial = 1;
	rf->clients = collect(a, "clientURLs", &rf->nclients);
	rf->peers = collect(a, "peerURLs", &rf->npeers);
	json_decref(a);
	if (rf->clients == NULL || rf->peers == NULL || rf->npeers == 0)
		return -1;
	return 0;
}

/* take_v2_members reads a member's GET /v2/members answer
 * ({"members":[...]}) for the client URLs of every member. */
static int take_v2_members(struct px_refresh *rf)
{
	json_t *o = json_loadb((const char *)rf->body.data, rf->body.len, 0, NULL);
	json_t *a = json_object_get(o, "members");
	char **v;
	size_t n;

	if (!json_is_array(a) || (v = collect(a, "clientURLs", &n)) == NULL || n == 0) {
		if (json_is_array(a) && (v = collect(a, "clientURLs", &n)) != NULL)
			strv_free(v, n);
		json_decref(o);
		return -1;
	}
	json_decref(o);
	strv_free(rf->clients, rf->nclients);
	rf->clients = v;
	rf->nclients = n;
	return 0;
}

/* apply puts what the refresh learned in place. */
static void apply(struct px_refresh *rf)
{
	set_endpoints(rf->px, rf->clients, rf->nclients);
	set_peers(rf->px, rf->peers, rf->npeers);
	rf->peers = NULL; /* taken */
	rf->npeers = 0;
}

static void schedule(struct proxyd *px)
{
	uint64_t ms = px->w->cfg->proxy_refresh_interval_ms;
	size_t n = 0;
	struct px_ep **av = director_available(px, &n);
	struct timeval tv;

	director_release(av, n);
	if (ms >= DEFAULT_REFRESH_MS && n == 0)
		ms = EMPTY_REFRESH_MS;
	if (ms == 0)
		ms = 1;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	evtimer_add(px->refresh_ev, &tv);
}

static void refresh_done(struct px_refresh *rf, int ok)
{
	struct proxyd *px = rf->px;

	if (!ok) {
		char *peers = strv_text(px->peers, px->npeers);
		log_warn("proxy: could not retrieve cluster information from the given URLs (%s)",
			peers ? peers : "");
		free(peers);
		set_endpoints(px, NULL, 0);
	}
	buf_close(&rf->body);
	strv_free(rf->peers, rf->npeers);
	strv_free(rf->clients, rf->nclients);
	free(rf);
	px->refresh = NULL;
	schedule(px);
	if (!px->refreshed) {
		px->refreshed = 1;
		if (px->neps > 0) {
			char *eps = NULL;
			struct buf b;
			buf_init(&b);
			for (size_t i = 0; i < px->neps; i++) {
				buf_puts(&b, i ? "," : "");
				buf_puts(&b, px->eps[i]->url);
			}
			buf_put(&b, "", 1);
			eps = (char *)buf_take(&b, NULL);
			log_info("proxy: endpoints found %s", eps ? eps : "");
			free(eps);
		}
		worker_set_state(px->w, WSTATE_READY);
		forward_resume_waiting(px);
	}
}

static void try_next(struct px_refresh *rf);

static void on_head(void *arg, const struct ups_head *h)
{
	struct px_refresh *rf = arg;

	rf->status = h->status;
	for (size_t i = 0; i < h->nh; i++)
		if (strcasecmp(h->names[i], "X-Etcd-Cluster-ID") == 0 && h->values[i][0] != '\0')
			rf->has_cluster_id = 1;
}

static void on_data(void *arg, const void *p, size_t n)
{
	struct px_refresh *rf = arg;

	if (rf->body.len + n > MEMBERS_MAX_BODY)
		rf->too_big = 1;
	else
		buf_put(&rf->body, p, n);
}

static void on_end(void *arg, const char *trailers)
{
	struct px_refresh *rf = arg;
	int ok = rf->status == 200 && !rf->too_big && !rf->body.oom, partial = 0;

	(void)trailers;
	rf->call = NULL;
	if (rf->stage2) {
		if (ok && take_v2_members(rf) == 0) {
			apply(rf);
			refresh_done(rf, 1);
		} else {
			try_next(rf);
		}
		return;
	}
	if (ok && rf->has_cluster_id) {
		strv_free(rf->peers, rf->npeers);
		strv_free(rf->clients, rf->nclients);
		rf->peers = rf->clients = NULL;
		rf->npeers = rf->nclients = 0;
		if (take_members(rf, &partial) == 0) {
			if (!partial || rf->nclients == 0) {
				apply(rf);
				refresh_done(rf, 1);
				return;
			}
			rf->stage2 = 1;
		}
	}
	try_next(rf);
}

static void on_fail(void *arg, int phase, const char *why)
{
	struct px_refresh *rf = arg;

	(void)phase;
	rf->call = NULL;
	log_debug("proxy: membership: %s", why);
	try_next(rf);
}

static const struct ups_cbs refresh_cbs = { on_head, on_data, on_end, on_fail };

/* ask sends GET path to url; 0 when the call is under way. */
static int ask(struct px_refresh *rf, struct ups_pool *pool, const char *url, const char *path)
{
	struct cetcd_url u;
	char err[256], head[1024];
	int n;

	if (url_parse(url, &u, err, sizeof(err)) != 0)
		return -1;
	n = snprintf(head, sizeof(head), "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: cetcd-proxy\r\n",
		path, u.host, u.port);
	buf_reset(&rf->body);
	rf->status = 0;
	rf->has_cluster_id = rf->too_big = 0;
	if (strcmp(u.scheme, "http") == 0 && n > 0 && (size_t)n < sizeof(head))
		rf->call = ups_send(pool, u.host, u.port, head, (size_t)n, NULL, 0, 0, &refresh_cbs, rf);
	url_close(&u);
	return rf->call != NULL ? 0 : -1;
}

static void try_next(struct px_refresh *rf)
{
	struct proxyd *px = rf->px;

	if (rf->stage2) {
		while (rf->cnext < rf->nclients)
			if (ask(rf, px->peer_ups, rf->clients[rf->cnext++], "/v2/members") == 0)
				return;
		/* no member told the rest: go with the client URLs known */
		apply(rf);
		refresh_done(rf, 1);
		return;
	}
	while (rf->next < px->npeers)
		if (ask(rf, px->peer_ups, px->peers[rf->next++], "/members") == 0)
			return;
	refresh_done(rf, 0);
}

static void refresh_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proxyd *px = arg;
	struct px_refresh *rf;

	(void)fd;
	(void)what;
	if (px->refresh != NULL || (rf = calloc(1, sizeof(*rf))) == NULL)
		return;
	rf->px = px;
	buf_init(&rf->body);
	px->refresh = rf;
	try_next(rf);
}

int director_start(struct proxyd *px, const char *peers_csv)
{
	const struct cetcd_config *cfg = px->w->cfg;
	struct ups_opts o = { (int)cfg->proxy_dial_timeout_ms, (int)cfg->proxy_write_timeout_ms,
		10000, 4 };
	char *copy = strdup(peers_csv ? peers_csv : ""), *save = NULL, *tok;
	size_t cap = 1;

	if (copy == NULL)
		return -1;
	for (const char *p = copy; *p; p++)
		cap += *p == ',';
	px->peers = calloc(cap, sizeof(*px->peers));
	for (tok = strtok_r(copy, ",", &save); tok && px->peers; tok = strtok_r(NULL, ",", &save))
		if ((px->peers[px->npeers] = strdup(tok)) != NULL)
			px->npeers++;
	free(copy);
	srandom((unsigned)(clock_wall_ns() ^ (uint64_t)getpid()));
	px->peer_ups = ups_pool_new(px->w->base, &o);
	px->refresh_ev = evtimer_new(px->w->base, refresh_cb, px);
	if (px->peers == NULL || px->peer_ups == NULL || px->refresh_ev == NULL)
		return -1;
	{
		char *t = strv_text(px->peers, px->npeers);
		log_info("proxy: using peer urls %s", t ? t : "");
		free(t);
	}
	/* the first refresh runs before any request is forwarded */
	event_active(px->refresh_ev, EV_TIMEOUT, 1);
	return 0;
}

void director_stop(struct proxyd *px)
{
	if (px->refresh) {
		ups_cancel(px->refresh->call);
		buf_close(&px->refresh->body);
		free(px->refresh);
		px->refresh = NULL;
	}
	if (px->refresh_ev)
		event_free(px->refresh_ev);
	px->refresh_ev = NULL;
	director_release(px->eps, px->neps);
	px->eps = NULL;
	px->neps = 0;
	strv_free(px->peers, px->npeers);
	px->peers = NULL;
	px->npeers = 0;
	ups_pool_free(px->peer_ups);
	px->peer_ups = NULL;
}
