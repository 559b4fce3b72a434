/* srv.h - the initial cluster from DNS SRV records (--discovery-srv). */
#ifndef CETCD_SUPERVISOR_SRV_H
#define CETCD_SUPERVISOR_SRV_H

#include <stddef.h>

struct cetcd_config;

/* srv_initial_cluster looks up cfg->discovery_srv's SRV records (with
 * cfg->discovery_srv_name) and gives the initial cluster as etcd's
 * --initial-cluster text in *out (malloc'd). 0, or CE_* with etcd's
 * message in err. Blocking (DNS). */
int srv_initial_cluster(const struct cetcd_config *cfg, char **out, char *err, size_t errlen);

#endif
