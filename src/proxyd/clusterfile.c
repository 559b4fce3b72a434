/* clusterfile.c - the proxy's cluster file (clusterfile.h). */
#include "config.h"
#include "proxyd/clusterfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "store/envdir.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/fdio.h"

#define CLUSTER_FILE_MAX (1u << 20)

void proxy_dir(const char *data_dir, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s/proxy", data_dir);
}

int proxy_cluster_read(const char *data_dir, char **csv, char *err, size_t errlen)
{
	char dir[4096], path[4200];
	json_error_t je;
	json_t *o, *list, *u;
	struct buf b;
	size_t i;

	*csv = NULL;
	proxy_dir(data_dir, dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/cluster", dir);
	o = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (o == NULL) {
		if (access(path, F_OK) != 0 && errno == ENOENT)
			return CE_NOTFOUND;
		return errf(err, errlen, CE_CORRUPT, "proxy cluster file %s: %s", path, je.text);
	}
	list = json_object_get(o, "PeerURLs");
	if (!json_is_array(list) || json_array_size(list) == 0) {
		json_decref(o);
		return errf(err, errlen, CE_CORRUPT, "proxy cluster file %s: no PeerURLs", path);
	}
	buf_init(&b);
	json_array_foreach(list, i, u) {
		const char *s = json_string_value(u);
		if (s == NULL || *s == '\0' || strchr(s, ',') != NULL) {
			buf_close(&b);
			json_decref(o);
			return errf(err, errlen, CE_CORRUPT, "proxy cluster file %s: bad peer URL", path);
		}
		if (i)
			buf_put(&b, ",", 1);
		buf_puts(&b, s);
	}
	buf_put(&b, "", 1);
	json_decref(o);
	if (b.oom) {
		buf_close(&b);
		return CE_NOMEM;
	}
	*csv = (char *)buf_take(&b, NULL);
	return 0;
}

int proxy_cluster_write(const char *data_dir, const char *const *urls, size_t n, char *err,
	size_t errlen)
{
	char dir[4096], path[4200], tmp[4300];
	json_t *o = json_object(), *list = json_array();
	char *text = NULL;
	int fd = -1, rc = 0, e;

	proxy_dir(data_dir, dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/cluster", dir);
	snprintf(tmp, sizeof(tmp), "%s/cluster.bak", dir);
	for (size_t i = 0; i < n && list; i++)
		json_array_append_new(list, json_string(urls[i]));
	if (o == NULL || list == NULL || json_object_set(o, "PeerURLs", list) != 0 ||
		(text = json_dumps(o, JSON_COMPACT)) == NULL) {
		rc = CE_NOMEM;
		goto out;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0) {
		rc = errf(err, errlen, CE_IO, "open %s: %s", tmp, strerror(errno));
		goto out;
	}
	if ((e = fd_write_all(fd, text, strlen(text))) != 0 || fsync(fd) != 0) {
		rc = errf(err, errlen, CE_IO, "write %s: %s", tmp, strerror(e ? e : errno));
		goto out;
	}
	close(fd);
	fd = -1;
	if (rename(tmp, path) != 0) {
		rc = errf(err, errlen, CE_IO, "rename %s: %s", tmp, strerror(errno));
		goto out;
	}
	rc = store_dir_fsync(dir, err, errlen);
out:
	if (fd >= 0)
		close(fd);
	free(text);
	json_decref(list);
	json_decref(o);
	return rc;
}
