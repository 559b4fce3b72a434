/* clusterfile.h - <data-dir>/proxy/cluster, where a proxy keeps the
 * cluster's peer URLs between runs, in etcd's format
 * ({"PeerURLs":["http://10.0.0.1:2380",...]}), so a proxy restarts
 * without its discovery URL or --initial-cluster, as etcd's does.
 */
#ifndef CETCD_PROXYD_CLUSTERFILE_H
#define CETCD_PROXYD_CLUSTERFILE_H

#include <stddef.h>

/* proxy_dir writes "<data_dir>/proxy" into out. */
void proxy_dir(const char *data_dir, char *out, size_t outlen);

/* proxy_cluster_read reads the file: 0 with *csv (malloc'd,
 * comma-separated peer URLs), CE_NOTFOUND when there is none, or
 * CE_CORRUPT / CE_IO with a message. */
int proxy_cluster_read(const char *data_dir, char **csv, char *err, size_t errlen);

/* proxy_cluster_write replaces the file with urls (n of them) durably:
 * a temporary file, fsync, rename, fsync of the directory. */
int proxy_cluster_write(const char *data_dir, const char *const *urls, size_t n, char *err,
	size_t errlen);

#endif
