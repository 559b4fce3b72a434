/* discover.c - --discovery URL: etcd 3.4's v2 discovery protocol (its
 * discovery package), run by the supervisor before it forks raft.
 *
 * The URL's path is a v2 keys directory on any v2 keys API (discovery.etcd.io,
 * cetcd's own /v2/discovery/new, Debian's etcd). The member:
 *  1. reads <dir>/_config/size (missing: "discovery: size key not found";
 *     not a number: "discovery: size key is bad");
 *  2. checks the directory: when size members registered already and it
 *     is not among the first size by createdIndex, the cluster is full;
 *  3. registers <dir>/<member id in hex> = "name=peerURL,..." with
 *     prevExist=false (taken: "discovery: found duplicate id");
 *  4. waits (a recursive v2 watch) until size members registered, and
 *     takes the first size by createdIndex as the initial cluster, whose
 *     token is the discovery URL (so members agree on the ids).
 * Connection failures are retried with etcd's backoff (1 s doubling to
 * 256 s), for ever, as etcd does. --discovery-proxy sends the requests
 * through that HTTP proxy.
 */
#include "config.h"
#include "supervisor/discover.h"

#include "config/cfg.h"
#include "config/url.h"
#include "ctl/ctl.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/log.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DISCOVER_TIMEOUT_MS 5000 /* etcd's client.DefaultRequestTimeout */
#define DISCOVER_MAX_BACKOFF_EXP 8

struct node {
	char *key, *value;
	uint64_t created;
};

struct disc {
	const struct cetcd_config *cfg;
	struct ctl_conn conn;
	char *endpoint;       /* scheme://host[:port] of the discovery URL */
	char *dir;            /* its path: the token directory */
	char self_key[64];    /* basename of this member's key */
	int retries;
};

static void nodes_free(struct node *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].key);
		free(v[i].value);
	}
	free(v);
}

static int by_created(const void *x, const void *y)
{
	const struct node *a = x, *b = y;

	return a->created < b->created ? -1 : a->created > b->created;
}

static const char *base_of(const char *key)
{
	const char *s = strrchr(key, '/');

	return s ? s + 1 : key;
}

/* backoff sleeps before a retry, as etcd's discovery does. */
static void backoff(struct disc *d, const char *why)
{
	int exp = d->retries < DISCOVER_MAX_BACKOFF_EXP ? d->retries : DISCOVER_MAX_BACKOFF_EXP;
	unsigned secs = 1u << exp;

	log_warn("discovery: %s; retrying in %us", why, secs);
	d->retries++;
	sleep(secs);
}

/* call does one v2 request on the discovery service (retrying a service
 * that cannot be reached); the path is the key path under the endpoint. */
static int call(struct disc *d, const char *method, const char *path, const char *body,
	int64_t timeout_ms, struct ctl_resp *r, char *err, size_t errlen)
{
	char full[2048];
	int rc;

	/* through a proxy, the request names the whole URL */
	snprintf(full, sizeof(full), "%s%s", d->cfg->discovery_proxy[0] ? d->endpoint : "", path);
	for (;;) {
		d->conn.command_timeout_ms = timeout_ms;
		ctl_resp_init(r);
		rc = ctl_http(&d->conn, method, full,
			body ? "application/x-www-form-urlencoded" : NULL, body,
			body ? strlen(body) : 0, r, err, errlen);
		if (rc == 0)
			return 0;
		ctl_resp_close(r);
		if (rc != CE_CLOSED && rc != CTL_ETIMEOUT)
			return rc;
		backoff(d, err);
	}
}

/* parse_node reads a v2 answer's "node" (or one of its "nodes"). */
static int node_of(json_t *n, struct node *out)
{
	const char *k = json_string_value(json_object_get(n, "key"));
	const char *v = json_string_value(json_object_get(n, "value"));

	if (k == NULL)
		return -1;
	out->key = strdup(k);
	out->value = strdup(v ? v : "");
	out->created = (uint64_t)json_integer_value(json_object_get(n, "createdIndex"));
	return out->key && out->value ? 0 : -1;
}

/* v2_error: the errorCode of a v2 error answer, or 0. */
static int v2_error(const struct ctl_resp *r)
{
	json_t *o = json_loadb((const char *)r->body.data, r->body.len, 0, NULL);
	int code = (int)json_integer_value(json_object_get(o, "errorCode"));

	json_decref(o);
	return code;
}

/* check: the size, the registered members sorted by createdIndex (the
 * _config entry left out), and the index to watch from. CE_FULL-like
 * refusal when full and self is not among the first size. */
static int check(struct disc *d, uint64_t *size, struct node **nodes, size_t *n, uint64_t *index,
	int *full, char *err, size_t errlen)
{
	struct ctl_resp r;
	char path[1024];
	json_t *o, *list, *it;
	const char *v;
	size_t i;
	int rc;

	*nodes = NULL;
	*n = 0;
	*full = 0;
	snprintf(path, sizeof(path), "%s/_config/size", d->dir);
	if ((rc = call(d, "GET", path, NULL, DISCOVER_TIMEOUT_MS, &r, err, errlen)) != 0)
		return rc;
	if (r.status == 404 && v2_error(&r) == 100) {
		ctl_resp_close(&r);
		return errf(err, errlen, CE_NOTFOUND, "discovery: size key not found");
	}
	o = json_loadb((const char *)r.body.data, r.body.len, 0, NULL);
	ctl_resp_close(&r);
	if (o == NULL)
		return errf(err, errlen, CE_CORRUPT, "discovery: bad discovery endpoint");
	v = json_string_value(json_object_get(json_object_get(o, "node"), "value"));
	{
		char *end = NULL;
		unsigned long long s = v ? strtoull(v, &end, 10) : 0;
		if (v == NULL || *v == '\0' || *end != '\0' || s == 0) {
			json_decref(o);
			return errf(err, errlen, CE_INVAL, "discovery: size key is bad");
		}
		*size = s;
	}
	json_decref(o);
	if ((rc = call(d, "GET", d->dir, NULL, DISCOVER_TIMEOUT_MS, &r, err, errlen)) != 0)
		return rc;
	*index = r.x_etcd_index ? strtoull(r.x_etcd_index, NULL, 10) : 0;
	o = json_loadb((const char *)r.body.data, r.body.len, 0, NULL);
	ctl_resp_close(&r);
	if (o == NULL)
		return errf(err, errlen, CE_CORRUPT, "discovery: bad discovery endpoint");
	list = json_object_get(json_object_get(o, "node"), "nodes");
	*nodes = calloc(json_array_size(list) + 1, sizeof(**nodes));
	json_array_foreach(list, i, it) {
		const char *k = json_string_value(json_object_get(it, "key"));
		if (k == NULL || strcmp(base_of(k), "_config") == 0)
			continue;
		if (node_of(it, &(*nodes)[*n]) == 0)
			(*n)++;
	}
	json_decref(o);
	qsort(*nodes, *n, sizeof(**nodes), by_created);
	for (i = 0; i < *n; i++) {
		if (strcmp(base_of((*nodes)[i].key), d->self_key) == 0)
			break;
		if (i >= *size - 1) {
			*full = 1;
			break;
		}
	}
	return 0;
}

static int create_self(struct disc *d, const char *contents, char *err, size_t errlen)
{
	struct ctl_resp r;
	char path[1024];
	struct buf form;
	int rc;

	snprintf(path, sizeof(path), "%s/%s?prevExist=false", d->dir, d->self_key);
	buf_init(&form);
	buf_put(&form, "value=", 6);
	for (const char *p = contents; *p; p++) {
		char esc[4];
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
			strchr("-_.~", *p)) {
			buf_put(&form, p, 1);
		} else {
			snprintf(esc, sizeof(esc), "%%%02X", (unsigned char)*p);
			buf_put(&form, esc, 3);
		}
	}
	buf_put(&form, "", 1);
	rc = call(d, "PUT", path, (const char *)form.data, DISCOVER_TIMEOUT_MS, &r, err, errlen);
	buf_close(&form);
	if (rc != 0)
		return rc;
	if (r.status == 412 && v2_error(&r) == 105)
		rc = errf(err, errlen, CE_EXISTS, "discovery: found duplicate id");
	else if (r.status != 201 && r.status != 200)
		rc = errf(err, errlen, CE_IO, "discovery: registering failed with HTTP %d", r.status);
	ctl_resp_close(&r);
	return rc;
}

/* wait_nodes watches the directory until size members registered. */
static int wait_nodes(struct disc *d, struct node **nodes, size_t *n, uint64_t size,
	uint64_t index, char *err, size_t errlen)
{
	for (size_t i = 0; i < *n; i++)
		log_info("discovery: found %s %s in the cluster",
			strcmp(base_of((*nodes)[i].key), d->self_key) == 0 ? "self" : "peer",
			base_of((*nodes)[i].key));
	for (; *n > size; (*n)--) {
		free((*nodes)[*n - 1].key);
		free((*nodes)[*n - 1].value);
	}
	*nodes = realloc(*nodes, (size + 1) * sizeof(**nodes));
	while (*n < size) {
		struct ctl_resp r;
		char path[1024];
		json_t *o, *node;
		int rc;

		log_info("discovery: found %zu peer(s), waiting for %" PRIu64 " more", *n, size - *n);
		snprintf(path, sizeof(path), "%s?wait=true&recursive=true&waitIndex=%" PRIu64, d->dir,
			index + 1);
		if ((rc = call(d, "GET", path, NULL, 0, &r, err, errlen)) != 0)
			return rc;
		o = json_loadb((const char *)r.body.data, r.body.len, 0, NULL);
		ctl_resp_close(&r);
		node = json_object_get(o, "node");
		if (node == NULL) {
			/* e.g. the watch index was cleared: read the directory again */
			json_decref(o);
			return CE_AGAIN;
		}
		index = (uint64_t)json_integer_value(json_object_get(node, "modifiedIndex"));
		const char *action = json_string_value(json_object_get(o, "action"));
		const char *k = json_string_value(json_object_get(node, "key"));
		if (action && (strcmp(action, "create") == 0 || strcmp(action, "set") == 0) && k &&
			strcmp(base_of(k), "_config") != 0 && strstr(k, "/_config/") == NULL &&
			node_of(node, &(*nodes)[*n]) == 0) {
			log_info("discovery: found peer %s in the cluster", base_of(k));
			(*n)++;
		}
		json_decref(o);
	}
	log_info("discovery: found %" PRIu64 " needed peer(s)", size);
	return 0;
}

/* split_url: endpoint (scheme://host[:port]) and path of the discovery URL. */
static int split_url(const char *url, char **endpoint, char **dir)
{
	const char *p = strstr(url, "://");
	const char *slash;

	if (p == NULL || (slash = strchr(p + 3, '/')) == NULL || slash[1] == '\0')
		return -1;
	*endpoint = strndup(url, (size_t)(slash - url));
	*dir = strdup(slash);
	if (*dir && (*dir)[strlen(*dir) - 1] == '/')
		(*dir)[strlen(*dir) - 1] = '\0';
	return *endpoint && *dir ? 0 : -1;
}

int discover_cluster(const struct cetcd_config *cfg, uint64_t self_id, int read_only, char **out,
	int *full, char *err, size_t errlen)
{
	struct disc d;
	char *ep[1], contents[2048] = "";
	struct node *nodes = NULL;
	size_t n = 0, nout;
	uint64_t size = 0, index = 0;
	int rc;

	memset(&d, 0, sizeof(d));
	*full = 0;
	d.cfg = cfg;
	if (split_url(cfg->discovery, &d.endpoint, &d.dir) != 0) {
		free(d.endpoint);
		free(d.dir);
		return errf(err, errlen, CE_INVAL, "discovery: bad discovery endpoint");
	}
	snprintf(d.self_key, sizeof(d.self_key), "%" PRIx64, self_id);
	ep[0] = cfg->discovery_proxy[0] ? cfg->discovery_proxy : d.endpoint;
	d.conn.endpoints = ep;
	d.conn.nendpoints = 1;
	d.conn.dial_timeout_ms = DISCOVER_TIMEOUT_MS;
	for (int i = 0; i < cfg->initial_advertise_peer_urls.n; i++) {
		size_t l = strlen(contents);
		snprintf(contents + l, sizeof(contents) - l, "%s%s=%s", i ? "," : "", cfg->name,
			cfg->initial_advertise_peer_urls.v[i].str);
	}
	do {
		nodes_free(nodes, n);
		if ((rc = check(&d, &size, &nodes, &n, &index, full, err, errlen)) != 0 || *full)
			break;
		if (!read_only) {
			/* etcd registers once, then reads the directory again */
			if ((rc = create_self(&d, contents, err, errlen)) != 0)
				break;
			read_only = 1;
			nodes_free(nodes, n);
			if ((rc = check(&d, &size, &nodes, &n, &index, full, err, errlen)) != 0 || *full)
				break;
		}
		rc = wait_nodes(&d, &nodes, &n, size, index, err, errlen);
	} while (rc == CE_AGAIN);
	nout = n;
	if (rc == 0 && *full && self_id == 0) {
		/* a proxy only reads: the first size members are the cluster */
		*full = 0;
		nout = n < size ? n : size;
	}
	if (rc == 0 && *full)
		rc = errf(err, errlen, CE_EXISTS, "discovery: cluster is full");
	if (rc == 0) {
		struct buf b;
		buf_init(&b);
		for (size_t i = 0; i < nout; i++) {
			if (i)
				buf_put(&b, ",", 1);
			buf_put(&b, nodes[i].value, strlen(nodes[i].value));
		}
		buf_put(&b, "", 1);
		*out = (char *)buf_take(&b, NULL);
	}
	nodes_free(nodes, n);
	free(d.endpoint);
	free(d.dir);
	return rc;
}
