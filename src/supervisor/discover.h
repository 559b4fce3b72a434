/* discover.h - bootstrap through a discovery URL (--discovery), etcd's v2
 * discovery protocol. */
#ifndef CETCD_SUPERVISOR_DISCOVER_H
#define CETCD_SUPERVISOR_DISCOVER_H

#include <stddef.h>
#include <stdint.h>

struct cetcd_config;

/* discover_cluster registers this member (self_id, computed with the
 * discovery URL as the cluster token) under cfg->discovery unless
 * read_only, waits until the configured size registered, and gives the
 * initial cluster as --initial-cluster text in *out (malloc'd). *full = 1
 * (and CE_EXISTS, "discovery: cluster is full") when size members are
 * there without this one. Other errors carry etcd's discovery messages.
 * self_id 0 (a proxy, etcd's GetCluster) only reads: a full registry
 * gives its first size members. Blocking; retries an unreachable service
 * for ever, as etcd. */
int discover_cluster(const struct cetcd_config *cfg, uint64_t self_id, int read_only, char **out,
	int *full, char *err, size_t errlen);

#endif
