/* ident.c - this member's identity: bootstrap, restart or join. */
#include "config.h"
#include "supervisor/ident.h"
#include "cluster/cluster.h"
#include "cluster/peerproto.h"
#include "config/cfg.h"
#include "util/err.h"
#include "util/log.h"
#include "wal/wal.h"

#include <inttypes.h>
#include <limits.h>
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

int ident_resolve(struct cluster *c, const struct cetcd_config *cfg, char *err, size_t errlen)
{
	char dir[PATH_MAX];
	uint64_t mid, cid;
	int rc;

	if ((rc = cluster_from_config(c, cfg, err, errlen)) != 0)
		return rc;
	config_wal_dir(cfg, dir, sizeof(dir));
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
