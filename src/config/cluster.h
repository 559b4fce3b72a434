/* cluster.h - the --initial-cluster value: "name=url,name=url,...".
 *
 * Parsed as etcd 3.4's types.NewURLsMap does: entries split on ',', empty
 * entries skipped, name and URL split at the first '='; a name may appear
 * several times (a member with several peer URLs). The checks etcd makes
 * before bootstrapping a member (its name is present, its advertised peer
 * URLs match, no URL is used twice) live here too, with etcd's messages.
 */
#ifndef CETCD_CONFIG_CLUSTER_H
#define CETCD_CONFIG_CLUSTER_H

#include <stddef.h>

#include "config/url.h"

struct initial_cluster_entry {
	char *name;
	struct cetcd_url url;
};

/* Entries in the order given. Owns everything; free with
 * initial_cluster_free(). */
struct initial_cluster {
	int n;
	struct initial_cluster_entry *v;
};

/* initial_cluster_parse parses s into *out (caller-owned, previously
 * unowned). An empty string gives an empty cluster. 0, CE_INVAL, CE_NOMEM. */
int initial_cluster_parse(const char *s, struct initial_cluster *out, char *err, size_t errlen);

void initial_cluster_free(struct initial_cluster *ic);

/* initial_cluster_urls collects the (sorted, unique) URLs of member name
 * into *out. An unknown name gives an empty list. 0 or CE_NOMEM. */
int initial_cluster_urls(const struct initial_cluster *ic, const char *name, struct url_list *out);

/* initial_cluster_format writes etcd's canonical text: members sorted by
 * name, each URL as "name=url", joined by ','. Returns the length needed. */
size_t initial_cluster_format(const struct initial_cluster *ic, char *buf, size_t len);

/* initial_cluster_has_member: etcd's "couldn't find local name %q in the
 * initial cluster configuration". 0 or CE_INVAL. */
int initial_cluster_has_member(const struct initial_cluster *ic, const char *name, char *err, size_t errlen);

/* initial_cluster_check_dup: etcd's "initial cluster ... has duplicate url". */
int initial_cluster_check_dup(const struct initial_cluster *ic, char *err, size_t errlen);

/* initial_cluster_check_advertise compares this member's entries with its
 * --initial-advertise-peer-urls (textually; cetcd does not resolve names)
 * and reports a mismatch with etcd's message. 0, CE_INVAL or CE_NOMEM. */
int initial_cluster_check_advertise(const struct initial_cluster *ic, const char *name,
				    const struct url_list *apurls, char *err, size_t errlen);

#endif
