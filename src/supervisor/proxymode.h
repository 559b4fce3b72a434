/* proxymode.h - where a proxy starts from: the cluster's peer URLs, from
 * its cluster file if it ran before, else from the discovery URL, DNS SRV
 * or --initial-cluster (etcd's startProxy). */
#ifndef CETCD_SUPERVISOR_PROXYMODE_H
#define CETCD_SUPERVISOR_PROXYMODE_H

#include <stddef.h>

struct cetcd_config;

/* proxy_peers_resolve gives the peer URLs, sorted and comma-separated,
 * in *csv (malloc'd). 0, or a CE_* code with a message. Blocking (the
 * discovery service, DNS). */
int proxy_peers_resolve(const struct cetcd_config *cfg, char **csv, char *err, size_t errlen);

#endif
