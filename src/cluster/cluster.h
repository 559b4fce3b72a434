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

struct member {
	uint64_t id;
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
	struct member v[CLUSTER_MAX_MEMBERS];
	size_t n;
};

/* cluster_from_config builds the bootstrap member table. */
int cluster_from_config(struct cluster *c, const struct cetcd_config *cfg, char *err,
	size_t errlen);
void cluster_close(struct cluster *c);

/* cluster_member_json writes etcd's v2 member JSON for m:
 * {"id":"...","name":"...","peerURLs":[...],"clientURLs":[...]} */
char *cluster_member_json(const struct member *m);
/* The values etcd keeps under /0/members/<id>/: raftAttributes and
 * attributes. Caller frees. */
char *cluster_raft_attributes_json(const struct member *m);
char *cluster_attributes_json(const struct member *m);

#endif
