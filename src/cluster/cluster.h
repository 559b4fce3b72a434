/* cluster.h - the member table as the flags describe it at bootstrap
 * (--initial-cluster, --initial-cluster-token, this member's name and URLs),
 * with etcd-compatible member and cluster IDs.
 */
#ifndef CETCD_CLUSTER_CLUSTER_H
#define CETCD_CLUSTER_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

struct cetcd_config;

#define CLUSTER_MAX_MEMBERS 64
#define CLUSTER_MAX_URLS 8
#define CLUSTER_MAX_REMOVED 256

struct member {
	uint64_t id;
	int learner;
	char name[128];
	char *peer_urls[CLUSTER_MAX_URLS];
	size_t npeer;
	char *client_urls[CLUSTER_MAX_URLS]; /* known for self only at bootstrap */
	size_t nclient;
};

struct cluster {
	uint64_t cluster_id;
	uint64_t self_id;
	size_t self; /* index of this member in v */
	int join;    /* joining a running cluster: no bootstrap entries */
	struct member v[CLUSTER_MAX_MEMBERS];
	size_t n;
	uint64_t removed[CLUSTER_MAX_REMOVED]; /* ids that may never come back */
	size_t nremoved;
};

/* cluster_from_config builds the bootstrap member table. */
int cluster_from_config(struct cluster *c, const struct cetcd_config *cfg, char *err,
	size_t errlen);
void cluster_close(struct cluster *c);

/* cluster_copy makes dst an independent deep copy of src. 0 or CE_NOMEM. */
int cluster_copy(struct cluster *dst, const struct cluster *src);

/* cluster_find returns the member with id, or NULL. */
struct member *cluster_find(struct cluster *c, uint64_t id);
int cluster_is_removed(const struct cluster *c, uint64_t id);
/* cluster_find_peer_url returns a member advertising url, or NULL. */
struct member *cluster_find_peer_url(struct cluster *c, const char *url);

/* cluster_member_parse fills m (zeroed first; strings owned by m, release
 * with cluster_member_close) from etcd's member JSON text. CE_INVAL on
 * anything that is not a member with a hex id and URL arrays. */
int cluster_member_parse(struct member *m, const char *json, size_t len);
void cluster_member_close(struct member *m);

/* cluster_apply_conf applies a committed configuration change (raft conf
 * change type and node id; ctx is the member JSON, may be NULL for the
 * bootstrap entries, whose members are already in the table) to the
 * member table. Returns 1 if the table changed, 0 if not. */
int cluster_apply_conf(struct cluster *c, int type, uint64_t id, const char *ctx, size_t ctxlen);

/* Membership JSON {"members":[...],"removed":[...]}: cluster_members_json
 * (caller frees) and cluster_members_load, which replaces c's members and
 * removed ids (cluster and self ids stay). */
char *cluster_members_json(const struct cluster *c);
int cluster_members_load(struct cluster *c, const char *json, size_t len);

/* cluster_member_json writes etcd's v2 member JSON for m:
 * {"id":"...","name":"...","peerURLs":[...],"clientURLs":[...]} */
char *cluster_member_json(const struct member *m);
/* cluster_set_attributes takes a member's published attributes (etcd's
 * {"name":"...","clientURLs":[...]}) into the table; 1 if they changed,
 * 0 if not (or the member is unknown, or the JSON is bad). */
int cluster_set_attributes(struct cluster *c, uint64_t id, const char *json, size_t len);
/* cluster_peer_members_json writes what etcd's peer handler answers on
 * GET /members: the members sorted by id, [{"id":N,"peerURLs":[...],
 * "name":"...","clientURLs":[...]}] (a member's client URLs only where
 * this table knows them). Caller frees. */
char *cluster_peer_members_json(const struct cluster *c);
/* The values etcd keeps under /0/members/<id>/: raftAttributes and
 * attributes. Caller frees. */
char *cluster_raft_attributes_json(const struct member *m);
char *cluster_attributes_json(const struct member *m);

#endif
