/* ident.c - this member's identity: bootstrap, restart or join. */
#include "config.h"
#include "supervisor/ident.h"
#include "supervisor/srv.h"
#include "supervisor/discover.h"
#include "util/memberid.h"
#include "cluster/cluster.h"
#include "cluster/peerproto.h"
#include "config/cfg.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/log.h"
#include "wal/wal.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define JOIN_QUERY_TIMEOUT_MS 2000
#define JOIN_ATTEMPTS 5

static int is_own_url(const struct cetcd_config *cfg, const char *url)
{
	for (int i = 0; i < cfg->initial_advertise_peer_urls.n; i++)
		if (strcmp(cfg->initial_advertise_peer_urls.v[i].str, url) == 0)
			return 1;
	return 0;
}

/* join asks the other members of --initial-cluster for the membership. */
static int join(struct cluster *c, const struct cetcd_config *cfg, char *err, size_t errlen)
{
	char qerr[256] = "";

	for (int attempt = 0; attempt < JOIN_ATTEMPTS; attempt++) {
		for (int i = 0; i < cfg->cluster.n; i++) {
			const char *url = cfg->cluster.v[i].url.str;
			uint64_t cid;
			char *json = NULL;
			struct member *self;

			if (is_own_url(cfg, url))
				continue;
			if (peer_query_members(url, JOIN_QUERY_TIMEOUT_MS, &cid, &json, qerr, sizeof(qerr)) != 0)
				continue;
			if (cluster_members_load(c, json, strlen(json)) != 0) {
				free(json);
				return errf(err, errlen, CE_CORRUPT, "bad membership from %s", url);
			}
			free(json);
			c->cluster_id = cid;
			self = NULL;
			for (int j = 0; j < cfg->initial_advertise_peer_urls.n && self == NULL; j++)
				self = cluster_find_peer_url(c, cfg->initial_advertise_peer_urls.v[j].str);
			if (self == NULL)
				return errf(err, errlen, CE_INVAL,
					"error validating peerURLs: member with peer URLs %s is not in the cluster "
					"(add it first with member add)",
					cfg->initial_advertise_peer_urls.n ? cfg->initial_advertise_peer_urls.v[0].str : "");
			c->self_id = self->id;
			c->self = (size_t)(self - c->v);
			snprintf(self->name, sizeof(self->name), "%s", cfg->name);
			c->join = 1;
			return 0;
		}
		sleep(1);
	}
	return errf(err, errlen, CE_IO,
		"cannot fetch cluster info from peer urls: could not retrieve cluster information "
		"from the given URLs (%s)", qerr);
}

/* with_cluster: cluster_from_config on cfg with the initial cluster ic
 * (--initial-cluster text) instead of its own. */
static int with_cluster(struct cluster *c, const struct cetcd_config *cfg, const char *ic,
	int check, char *err, size_t errlen)
{
	struct cetcd_config tmp = *cfg;
	int rc;

	memset(&tmp.cluster, 0, sizeof(tmp.cluster));
	if ((rc = initial_cluster_parse(ic, &tmp.cluster, err, errlen)) != 0)
		rc = errwrap(err, errlen, rc, "error setting up initial cluster");
	else if (check && ((rc = initial_cluster_has_member(&tmp.cluster, cfg->name, err, errlen)) != 0 ||
		(rc = initial_cluster_check_advertise(&tmp.cluster, cfg->name,
			&cfg->initial_advertise_peer_urls, err, errlen)) != 0 ||
		(rc = initial_cluster_check_dup(&tmp.cluster, err, errlen)) != 0))
		;
	else
		rc = cluster_from_config(c, &tmp, err, errlen);
	initial_cluster_free(&tmp.cluster);
	return rc;
}

/* self_only: a member bootstrapped by discovery or DNS restarts from its
 * WAL, which has the ids and the membership (the raft worker loads it);
 * no initial cluster is given, so the table starts with this member. */
static int self_only(struct cluster *c, const struct cetcd_config *cfg, char *err, size_t errlen)
{
	struct buf ic;
	int rc;

	buf_init(&ic);
	for (int i = 0; i < cfg->initial_advertise_peer_urls.n; i++) {
		char part[512];
		snprintf(part, sizeof(part), "%s%s=%s", i ? "," : "", cfg->name,
			cfg->initial_advertise_peer_urls.v[i].str);
		buf_put(&ic, part, strlen(part));
	}
	buf_put(&ic, "", 1);
	rc = with_cluster(c, cfg, (const char *)ic.data, 0, err, errlen);
	buf_close(&ic);
	return rc;
}

/* from_srv: with --discovery-srv, the initial cluster comes from DNS; it
 * is checked as a given --initial-cluster would be, then used. */
static int from_srv(struct cluster *c, const struct cetcd_config *cfg, char *err, size_t errlen)
{
	char *ic = NULL;
	int rc;

	if ((rc = srv_initial_cluster(cfg, &ic, err, errlen)) != 0)
		return rc;
	rc = with_cluster(c, cfg, ic, 1, err, errlen);
	free(ic);
	return rc;
}

/* from_discovery: with --discovery, the initial cluster comes from the
 * discovery service, with the discovery URL as the cluster token (etcd's
 * PeerURLsMapAndToken). */
static int from_discovery(struct cluster *c, const struct cetcd_config *cfg, char *err,
	size_t errlen)
{
	struct cetcd_config tmp = *cfg;
	const char *urls[CLUSTER_MAX_URLS];
	size_t n = 0;
	char *ic = NULL;
	int full = 0, rc;

	for (int i = 0; i < cfg->initial_advertise_peer_urls.n && n < CLUSTER_MAX_URLS; i++)
		urls[n++] = cfg->initial_advertise_peer_urls.v[i].str;
	tmp.initial_cluster_token = cfg->discovery;
	rc = discover_cluster(cfg, member_id_compute(urls, n, cfg->discovery), 0, &ic, &full, err,
		errlen);
	if (rc != 0) {
		char m[512];
		snprintf(m, sizeof(m), "%s", err);
		if (full && strcmp(cfg->discovery_fallback, "proxy") == 0) {
			log_warn("discovery cluster full, falling back to proxy");
			return IDENT_FALLBACK_PROXY;
		}
		if (full)
			return errf(err, errlen, rc, "failed to join discovery cluster (%s)", m);
		return errf(err, errlen, rc, "failed to join discovery cluster (%s); discovery token "
			"%s was used, but failed to bootstrap the cluster; please generate a new "
			"discovery token and try to bootstrap again", m, cfg->discovery);
	}
	log_info("discovery: initial cluster %s", ic);
	rc = with_cluster(c, &tmp, ic, 1, err, errlen);
	free(ic);
	return rc;
}

int ident_resolve(struct cluster *c, const struct cetcd_config *cfg, char *err, size_t errlen)
{
	char dir[PATH_MAX];
	uint64_t mid, cid;
	int rc;

	config_wal_dir(cfg, dir, sizeof(dir));
	if (cfg->cluster.n == 0 && wal_exists(dir))
		/* the WAL has the ids and the membership with the peers'
		 * addresses (the raft worker reads it); DNS or the discovery
		 * service are not asked again, as etcd does not */
		rc = self_only(c, cfg, err, errlen);
	else if (cfg->discovery_srv[0] != '\0' && !wal_exists(dir))
		rc = from_srv(c, cfg, err, errlen);
	else if (cfg->discovery[0] != '\0' && !wal_exists(dir))
		rc = from_discovery(c, cfg, err, errlen);
	else
		rc = cluster_from_config(c, cfg, err, errlen);
	if (rc != 0)
		return rc;
	if (wal_exists(dir)) {
		if ((rc = wal_read_ids(dir, &mid, &cid, err, errlen)) != 0)
			return rc;
		if (mid != c->self_id)
			log_info("member id %016" PRIx64 " from the wal", mid);
		c->self_id = mid;
		c->v[c->self].id = mid;
		c->cluster_id = cid;
		return 0;
	}
	if (strcmp(cfg->initial_cluster_state, "existing") == 0 && !cfg->force_new_cluster)
		return join(c, cfg, err, errlen);
	return 0;
}
