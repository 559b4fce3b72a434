/* ident.h - who this member is, decided once by the supervisor before it
 * forks: the member table from the flags, this member's id and the
 * cluster id. A restart takes the ids from the WAL; a member joining a
 * running cluster (--initial-cluster-state existing, no WAL yet) asks the
 * other members for the membership and finds itself by its peer URLs, as
 * etcd does. Workers inherit the result across fork. */
#ifndef CETCD_SUPERVISOR_IDENT_H
#define CETCD_SUPERVISOR_IDENT_H

#include <stddef.h>

struct cluster;
struct cetcd_config;

/* ident_resolve fills c. 0, or a CE_* code with etcd's message in err,
 * or IDENT_FALLBACK_PROXY: discovery found the cluster full and
 * --discovery-fallback is proxy, so this cetcd is to run as a proxy. */
#define IDENT_FALLBACK_PROXY 1
int ident_resolve(struct cluster *c, const struct cetcd_config *cfg, char *err, size_t errlen);

#endif
