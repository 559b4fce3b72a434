/* cluster.c - the bootstrap member table from the flags. */
#include "config.h"
#include "cluster/cluster.h"
#include "config/cfg.h"
#include "util/err.h"
#include "util/memberid.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct member *member_named(struct cluster *c, const char *name)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->v[i].name, name) == 0)
			return &c->v[i];
	if (c->n == CLUSTER_MAX_MEMBERS)
		return NULL;
	struct member *m = &c->v[c->n++];
	memset(m, 0, sizeof(*m));
	snprintf(m->name, sizeof(m->name), "%s", name);
	return m;
}

int cluster_from_config(struct cluster *c, const struct cetcd_config *cfg, char *err,
	size_t errlen)
{
	uint64_t ids[CLUSTER_MAX_MEMBERS];
	int found = 0;

	memset(c, 0, sizeof(*c));
	for (int i = 0; i < cfg->cluster.n; i++) {
		struct member *m = member_named(c, cfg->cluster.v[i].name);
		if (m == NULL)
			return errf(err, errlen, CE_INVAL, "too many members in --initial-cluster");
		if (m->npeer < CLUSTER_MAX_URLS)
			m->peer_urls[m->npeer++] = strdup(cfg->cluster.v[i].url.str);
	}
	for (size_t i = 0; i < c->n; i++) {
		struct member *m = &c->v[i];
		m->id = member_id_compute((const char *const *)m->peer_urls, m->npeer,
			cfg->initial_cluster_token);
		ids[i] = m->id;
		if (strcmp(m->name, cfg->name) == 0) {
			c->self = i;
			c->self_id = m->id;
			found = 1;
			for (int j = 0; j < cfg->advertise_client_urls.n && j < CLUSTER_MAX_URLS; j++)
				m->client_urls[m->nclient++] = strdup(cfg->advertise_client_urls.v[j].str);
		}
	}
	if (!found)
		return errf(err, errlen, CE_INVAL,
			"couldn't find local name \"%s\" in the initial cluster configuration", cfg->name);
	c->cluster_id = cluster_id_compute(ids, c->n);
	return 0;
}

void cluster_close(struct cluster *c)
{
	for (size_t i = 0; i < c->n; i++) {
		for (size_t j = 0; j < c->v[i].npeer; j++)
			free(c->v[i].peer_urls[j]);
		for (size_t j = 0; j < c->v[i].nclient; j++)
			free(c->v[i].client_urls[j]);
	}
	memset(c, 0, sizeof(*c));
}

static json_t *url_array(char *const *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static char *dump(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return s;
}

char *cluster_member_json(const struct member *m)
{
	char id[17];
	json_t *o = json_object();

	snprintf(id, sizeof(id), "%llx", (unsigned long long)m->id);
	json_object_set_new(o, "id", json_string(id));
	json_object_set_new(o, "name", json_string(m->name));
	json_object_set_new(o, "peerURLs", url_array(m->peer_urls, m->npeer));
	json_object_set_new(o, "clientURLs", url_array(m->client_urls, m->nclient));
	return dump(o);
}

char *cluster_raft_attributes_json(const struct member *m)
{
	json_t *o = json_object();
	json_object_set_new(o, "peerURLs", url_array(m->peer_urls, m->npeer));
	return dump(o);
}

char *cluster_attributes_json(const struct member *m)
{
	json_t *o = json_object();
	json_object_set_new(o, "name", json_string(m->name));
	json_object_set_new(o, "clientURLs", url_array(m->client_urls, m->nclient));
	return dump(o);
}
