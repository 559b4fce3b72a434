/* cluster.c - the bootstrap member table from the flags. */
#include "config.h"
#include "cluster/cluster.h"
#include "config/cfg.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/memberid.h"

#include <jansson.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *url_array(char *const *v, size_t n);

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

void cluster_member_close(struct member *m)
{
	for (size_t j = 0; j < m->npeer; j++)
		free(m->peer_urls[j]);
	for (size_t j = 0; j < m->nclient; j++)
		free(m->client_urls[j]);
	memset(m, 0, sizeof(*m));
}

void cluster_close(struct cluster *c)
{
	for (size_t i = 0; i < c->n; i++)
		cluster_member_close(&c->v[i]);
	memset(c, 0, sizeof(*c));
}

static int member_copy(struct member *dst, const struct member *src)
{
	*dst = *src;
	for (size_t j = 0; j < src->npeer; j++)
		if ((dst->peer_urls[j] = strdup(src->peer_urls[j])) == NULL)
			return CE_NOMEM;
	for (size_t j = 0; j < src->nclient; j++)
		if ((dst->client_urls[j] = strdup(src->client_urls[j])) == NULL)
			return CE_NOMEM;
	return 0;
}

int cluster_copy(struct cluster *dst, const struct cluster *src)
{
	*dst = *src;
	for (size_t i = 0; i < src->n; i++)
		if (member_copy(&dst->v[i], &src->v[i]) != 0)
			return CE_NOMEM;
	return 0;
}

struct member *cluster_find(struct cluster *c, uint64_t id)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->v[i].id == id)
			return &c->v[i];
	return NULL;
}

int cluster_is_removed(const struct cluster *c, uint64_t id)
{
	for (size_t i = 0; i < c->nremoved; i++)
		if (c->removed[i] == id)
			return 1;
	return 0;
}

struct member *cluster_find_peer_url(struct cluster *c, const char *url)
{
	for (size_t i = 0; i < c->n; i++)
		for (size_t j = 0; j < c->v[i].npeer; j++)
			if (strcmp(c->v[i].peer_urls[j], url) == 0)
				return &c->v[i];
	return NULL;
}

static int url_array_parse(json_t *a, char **out, size_t *n)
{
	size_t i;
	json_t *v;

	*n = 0;
	if (a == NULL)
		return 0;
	if (!json_is_array(a))
		return CE_INVAL;
	json_array_foreach(a, i, v) {
		if (!json_is_string(v))
			return CE_INVAL;
		if (*n == CLUSTER_MAX_URLS)
			continue;
		if ((out[*n] = strdup(json_string_value(v))) == NULL)
			return CE_NOMEM;
		(*n)++;
	}
	return 0;
}

static int member_from_json(struct member *m, json_t *o)
{
	json_t *id = json_object_get(o, "id"), *name = json_object_get(o, "name");
	char *end;
	int rc;

	memset(m, 0, sizeof(*m));
	if (!json_is_object(o) || !json_is_string(id))
		return CE_INVAL;
	m->id = strtoull(json_string_value(id), &end, 16);
	if (*end != '\0' || m->id == 0)
		return CE_INVAL;
	if (json_is_string(name))
		snprintf(m->name, sizeof(m->name), "%s", json_string_value(name));
	m->learner = json_is_true(json_object_get(o, "isLearner"));
	if ((rc = url_array_parse(json_object_get(o, "peerURLs"), m->peer_urls, &m->npeer)) != 0 ||
		(rc = url_array_parse(json_object_get(o, "clientURLs"), m->client_urls, &m->nclient)) != 0) {
		cluster_member_close(m);
		return rc;
	}
	return 0;
}

int cluster_member_parse(struct member *m, const char *json, size_t len)
{
	json_t *o = json_loadb(json, len, 0, NULL);
	int rc;

	memset(m, 0, sizeof(*m));
	if (o == NULL)
		return CE_INVAL;
	rc = member_from_json(m, o);
	json_decref(o);
	return rc;
}

static void member_replace_urls(struct member *dst, struct member *src)
{
	for (size_t j = 0; j < dst->npeer; j++)
		free(dst->peer_urls[j]);
	memcpy(dst->peer_urls, src->peer_urls, sizeof(dst->peer_urls));
	dst->npeer = src->npeer;
	src->npeer = 0;
}

static void remove_at(struct cluster *c, size_t i)
{
	uint64_t id = c->v[i].id;

	cluster_member_close(&c->v[i]);
	memmove(&c->v[i], &c->v[i + 1], (c->n - i - 1) * sizeof(c->v[0]));
	c->n--;
	if (i < c->self)
		c->self--;
	if (!cluster_is_removed(c, id) && c->nremoved < CLUSTER_MAX_REMOVED)
		c->removed[c->nremoved++] = id;
}

int cluster_apply_conf(struct cluster *c, int type, uint64_t id, const char *ctx, size_t ctxlen)
{
	struct member *cur = cluster_find(c, id), m;
	int changed = 0;

	memset(&m, 0, sizeof(m));
	if (ctx != NULL && ctxlen > 0 && cluster_member_parse(&m, ctx, ctxlen) != 0)
		memset(&m, 0, sizeof(m));
	switch (type) {
	case 0: /* add */
	case 2: /* add learner */
		if (cur == NULL && m.id == id && !cluster_is_removed(c, id) && c->n < CLUSTER_MAX_MEMBERS) {
			m.learner = type == 2;
			c->v[c->n++] = m;
			return 1;
		}
		break;
	case 1: /* remove */
		if (cur != NULL) {
			remove_at(c, (size_t)(cur - c->v));
			changed = 1;
		} else if (!cluster_is_removed(c, id) && c->nremoved < CLUSTER_MAX_REMOVED) {
			c->removed[c->nremoved++] = id;
		}
		break;
	case 3: /* promote */
		if (cur != NULL && cur->learner) {
			cur->learner = 0;
			changed = 1;
		}
		break;
	case 4: /* update peer URLs */
		if (cur != NULL && m.id == id && m.npeer > 0) {
			member_replace_urls(cur, &m);
			changed = 1;
		}
		break;
	default:
		break;
	}
	cluster_member_close(&m);
	return changed;
}

static json_t *member_to_json(const struct member *m);

char *cluster_members_json(const struct cluster *c)
{
	json_t *o = json_object(), *ms = json_array(), *rm = json_array();
	char *s;

	for (size_t i = 0; i < c->n; i++)
		json_array_append_new(ms, member_to_json(&c->v[i]));
	for (size_t i = 0; i < c->nremoved; i++) {
		char id[17];
		snprintf(id, sizeof(id), "%llx", (unsigned long long)c->removed[i]);
		json_array_append_new(rm, json_string(id));
	}
	json_object_set_new(o, "members", ms);
	json_object_set_new(o, "removed", rm);
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return s;
}

int cluster_members_load(struct cluster *c, const char *json, size_t len)
{
	json_t *o = json_loadb(json, len, 0, NULL), *ms, *rm, *v;
	struct cluster nc;
	size_t i;
	int rc = CE_INVAL;

	memset(&nc, 0, sizeof(nc));
	if (o == NULL)
		return CE_INVAL;
	ms = json_object_get(o, "members");
	rm = json_object_get(o, "removed");
	if (!json_is_array(ms))
		goto out;
	json_array_foreach(ms, i, v) {
		if (nc.n == CLUSTER_MAX_MEMBERS || member_from_json(&nc.v[nc.n], v) != 0)
			goto out;
		nc.n++;
	}
	if (json_is_array(rm)) {
		json_array_foreach(rm, i, v) {
			if (json_is_string(v) && nc.nremoved < CLUSTER_MAX_REMOVED)
				nc.removed[nc.nremoved++] = strtoull(json_string_value(v), NULL, 16);
		}
	}
	for (size_t k = 0; k < c->n; k++)
		cluster_member_close(&c->v[k]);
	memcpy(c->v, nc.v, sizeof(nc.v));
	c->n = nc.n;
	memcpy(c->removed, nc.removed, sizeof(nc.removed));
	c->nremoved = nc.nremoved;
	c->self = 0;
	for (size_t k = 0; k < c->n; k++)
		if (c->v[k].id == c->self_id)
			c->self = k;
	nc.n = 0;
	rc = 0;
out:
	for (size_t k = 0; k < nc.n; k++)
		cluster_member_close(&nc.v[k]);
	json_decref(o);
	return rc;
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

static json_t *member_to_json(const struct member *m)
{
	char id[17];
	json_t *o = json_object();

	snprintf(id, sizeof(id), "%llx", (unsigned long long)m->id);
	json_object_set_new(o, "id", json_string(id));
	json_object_set_new(o, "name", json_string(m->name));
	json_object_set_new(o, "peerURLs", url_array(m->peer_urls, m->npeer));
	json_object_set_new(o, "clientURLs", url_array(m->client_urls, m->nclient));
	if (m->learner)
		json_object_set_new(o, "isLearner", json_true());
	return o;
}

char *cluster_member_json(const struct member *m)
{
	return dump(member_to_json(m));
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

static int by_member_id(const void *a, const void *b)
{
	uint64_t x = (*(const struct member *const *)a)->id, y = (*(const struct member *const *)b)->id;

	return x < y ? -1 : x > y;
}

char *cluster_peer_members_json(const struct cluster *c)
{
	const struct member *v[CLUSTER_MAX_MEMBERS];
	struct buf b;

	for (size_t i = 0; i < c->n; i++)
		v[i] = &c->v[i];
	qsort(v, c->n, sizeof(v[0]), by_member_id);
	buf_init(&b);
	buf_put(&b, "[", 1);
	for (size_t i = 0; i < c->n; i++) {
		const struct member *m = v[i];
		json_t *o = json_object();
		char *rest;
		/* Go's field order: ID, RaftAttributes, Attributes (omitempty);
		 * the id is a uint64 number, which jansson cannot print */
		json_object_set_new(o, "peerURLs", url_array(m->peer_urls, m->npeer));
		if (m->learner)
			json_object_set_new(o, "isLearner", json_true());
		if (m->name[0])
			json_object_set_new(o, "name", json_string(m->name));
		if (m->nclient)
			json_object_set_new(o, "clientURLs", url_array(m->client_urls, m->nclient));
		if ((rest = dump(o)) == NULL) {
			buf_close(&b);
			return NULL;
		}
		buf_printf(&b, "%s{\"id\":%" PRIu64 ",%s", i ? "," : "", m->id, rest + 1);
		free(rest);
	}
	buf_put(&b, "]", 2);
	if (b.oom) {
		buf_close(&b);
		return NULL;
	}
	return (char *)buf_take(&b, NULL);
}

int cluster_set_attributes(struct cluster *c, uint64_t id, const char *json, size_t len)
{
	struct member *m = cluster_find(c, id);
	json_t *o, *name;
	char *urls[CLUSTER_MAX_URLS];
	size_t n = 0;
	int same;

	if (m == NULL || (o = json_loadb(json, len, 0, NULL)) == NULL)
		return 0;
	name = json_object_get(o, "name");
	if (url_array_parse(json_object_get(o, "clientURLs"), urls, &n) != 0) {
		for (size_t i = 0; i < n; i++)
			free(urls[i]);
		json_decref(o);
		return 0;
	}
	same = n == m->nclient && (!json_is_string(name) ||
		strcmp(m->name, json_string_value(name)) == 0);
	for (size_t i = 0; same && i < n; i++)
		same = strcmp(urls[i], m->client_urls[i]) == 0;
	if (json_is_string(name))
		snprintf(m->name, sizeof(m->name), "%s", json_string_value(name));
	json_decref(o);
	for (size_t i = 0; i < m->nclient; i++)
		free(m->client_urls[i]);
	memcpy(m->client_urls, urls, n * sizeof(urls[0]));
	m->nclient = n;
	return !same;
}
