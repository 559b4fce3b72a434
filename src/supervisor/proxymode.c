/* proxymode.c - the peer URLs a proxy starts from (proxymode.h). */
#include "config.h"
#include "supervisor/proxymode.h"

#include <stdlib.h>
#include <string.h>

#include "config/cfg.h"
#include "config/cluster.h"
#include "proxyd/clusterfile.h"
#include "supervisor/discover.h"
#include "supervisor/srv.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/log.h"

static int by_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* urls_of: the URLs of an initial cluster, sorted and unique, as etcd's
 * URLsMap.URLs(). */
static char *urls_of(const struct initial_cluster *ic)
{
	const char **v = calloc((size_t)ic->n + 1, sizeof(*v));
	struct buf b;

	if (v == NULL)
		return NULL;
	for (int i = 0; i < ic->n; i++)
		v[i] = ic->v[i].url.str;
	qsort(v, (size_t)ic->n, sizeof(*v), by_str);
	buf_init(&b);
	for (int i = 0; i < ic->n; i++) {
		if (i > 0 && strcmp(v[i], v[i - 1]) == 0)
			continue;
		if (b.len)
			buf_put(&b, ",", 1);
		buf_puts(&b, v[i]);
	}
	buf_put(&b, "", 1);
	free(v);
	return b.oom ? NULL : (char *)buf_take(&b, NULL);
}

static int from_text(const char *text, char **csv, char *err, size_t errlen)
{
	struct initial_cluster ic;
	int rc;

	if ((rc = initial_cluster_parse(text, &ic, err, errlen)) != 0)
		return errwrap(err, errlen, rc, "error setting up initial cluster");
	if (ic.n == 0) {
		initial_cluster_free(&ic);
		return errf(err, errlen, CE_INVAL, "error setting up initial cluster: no peer URLs");
	}
	*csv = urls_of(&ic);
	initial_cluster_free(&ic);
	return *csv ? 0 : CE_NOMEM;
}

int proxy_peers_resolve(const struct cetcd_config *cfg, char **csv, char *err, size_t errlen)
{
	char *text = NULL;
	int rc, full = 0;

	*csv = NULL;
	rc = proxy_cluster_read(cfg->data_dir, csv, err, errlen);
	if (rc == 0) {
		if (cfg->discovery[0])
			log_warn("discovery token ignored since the proxy has already been initialized. "
				"Valid cluster file found at %s/proxy/cluster", cfg->data_dir);
		if (cfg->discovery_srv[0])
			log_warn("DNS SRV discovery ignored since the proxy has already been "
				"initialized. Valid cluster file found at %s/proxy/cluster", cfg->data_dir);
		log_info("proxy: using peer urls %s from cluster file %s/proxy/cluster", *csv,
			cfg->data_dir);
		return 0;
	}
	if (rc != CE_NOTFOUND)
		return rc;
	if (cfg->discovery[0])
		rc = discover_cluster(cfg, 0, 1, &text, &full, err, errlen);
	else if (cfg->discovery_srv[0])
		rc = srv_initial_cluster(cfg, &text, err, errlen);
	else
		return from_text(cfg->initial_cluster, csv, err, errlen);
	if (rc != 0)
		return rc;
	rc = from_text(text, csv, err, errlen);
	free(text);
	return rc;
}
