/* url.h - etcd-style URL and URL-list parsing, shared by the configuration
 * (listen/advertise URLs, --initial-cluster) and by later modules that dial
 * peers or clients (raft worker, proxy worker, member add/update).
 *
 * The accepted form follows etcd 3.4's types.NewURLs: scheme http, https,
 * unix or unixs; an authority of the form host:port (IPv6 in brackets);
 * no path. Unix URLs also need host:port, as in etcd ("unix://localhost:1").
 * Error texts are etcd's, so messages users search for still match.
 */
#ifndef CETCD_CONFIG_URL_H
#define CETCD_CONFIG_URL_H

#include <stddef.h>

/* One parsed URL. Owns its strings; release with url_close(). */
struct cetcd_url {
	char *str;     /* canonical text "scheme://host:port" (scheme lowercased) */
	char scheme[8]; /* "http", "https", "unix" or "unixs" */
	char *host;    /* host name or IP address; IPv6 without the brackets */
	int port;      /* 0..65535 */
};

/* A list of URLs in etcd's order: sorted by text, duplicates removed. */
struct url_list {
	int n;
	struct cetcd_url *v;
};

/* url_parse parses one URL (surrounding blanks are ignored). On success
 * *out is filled and owned by the caller; on error *out is left zeroed.
 * Returns 0, CE_INVAL (message in err) or CE_NOMEM. */
int url_parse(const char *s, struct cetcd_url *out, char *err, size_t errlen);

/* url_close frees what url_parse allocated and zeroes u. NULL-safe. */
void url_close(struct cetcd_url *u);

/* url_copy makes an independent copy of src into *dst. 0 or CE_NOMEM. */
int url_copy(struct cetcd_url *dst, const struct cetcd_url *src);

/* url_list_parse parses a comma-separated list ("http://a:1,http://b:2").
 * An empty string is an error ("no valid URLs given"), as in etcd.
 * On success *out (previously unowned) holds the sorted unique list. */
int url_list_parse(const char *csv, struct url_list *out, char *err, size_t errlen);

/* url_list_free frees every URL and the array; leaves an empty list. */
void url_list_free(struct url_list *l);

/* url_list_format writes the list as "a,b,c" into buf (truncating).
 * Returns the length the full text needs, like snprintf. */
size_t url_list_format(const struct url_list *l, char *buf, size_t len);

/* url_is_ip reports whether host is a literal IPv4 or IPv6 address. */
int url_is_ip(const char *host);

#endif
