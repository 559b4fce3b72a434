/* cluster.c - parse --initial-cluster and run etcd's bootstrap checks on it
 * (see cluster.h). */
#include "config.h"
#include "config/cluster.h"

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "util/err.h"

static int entry_add(struct initial_cluster *ic, int *cap, const char *item, size_t n, char *err,
		     size_t errlen)
{
	const char *eq = memchr(item, '=', n);
	size_t nl = eq ? (size_t)(eq - item) : n;
	char *url = eq ? strndup(eq + 1, n - nl - 1) : strdup("");
	struct initial_cluster_entry *e;
	int rc;

	if (url == NULL)
		return errf(err, errlen, CE_NOMEM, "out of memory");
	if (ic->n == *cap) {
		int nc = *cap ? *cap * 2 : 4;
		void *nv = realloc(ic->v, (size_t)nc * sizeof(ic->v[0]));
		if (nv == NULL) {
			free(url);
			return errf(err, errlen, CE_NOMEM, "out of memory");
		}
		ic->v = nv;
		*cap = nc;
	}
	e = &ic->v[ic->n];
	memset(e, 0, sizeof(*e));
	rc = url_parse(url, &e->url, err, errlen);
	free(url);
	if (rc != 0)
		return rc;
	e->name = strndup(item, nl);
	if (e->name == NULL) {
		url_close(&e->url);
		return errf(err, errlen, CE_NOMEM, "out of memory");
	}
	ic->n++;
	return 0;
}

int initial_cluster_parse(const char *s, struct initial_cluster *out, char *err, size_t errlen)
{
	struct initial_cluster ic = {0, NULL};
	int cap = 0, rc;

	while (*s != '\0') {
		size_t n = strcspn(s, ",");
		if (n > 0 && (rc = entry_add(&ic, &cap, s, n, err, errlen)) != 0) {
			initial_cluster_free(&ic);
			return rc;
		}
		s += n;
		if (*s == ',')
			s++;
	}
	*out = ic;
	return 0;
}

void initial_cluster_free(struct initial_cluster *ic)
{
	for (int i = 0; i < ic->n; i++) {
		free(ic->v[i].name);
		url_close(&ic->v[i].url);
	}
	free(ic->v);
	ic->v = NULL;
	ic->n = 0;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int url_cmp(const void *a, const void *b)
{
	return strcmp(((const struct cetcd_url *)a)->str, ((const struct cetcd_url *)b)->str);
}

int initial_cluster_urls(const struct initial_cluster *ic, const char *name, struct url_list *out)
{
	struct url_list l = {0, NULL};

	l.v = calloc((size_t)ic->n + 1, sizeof(l.v[0]));
	if (l.v == NULL)
		return CE_NOMEM;
	for (int i = 0; i < ic->n; i++) {
		if (strcmp(ic->v[i].name, name) != 0)
			continue;
		if (url_copy(&l.v[l.n], &ic->v[i].url) != 0) {
			url_list_free(&l);
			return CE_NOMEM;
		}
		l.n++;
	}
	qsort(l.v, (size_t)l.n, sizeof(l.v[0]), url_cmp);
	*out = l;
	return 0;
}

/* pairs_sorted builds the sorted "name=url" strings etcd prints. */
static char **pairs_sorted(const struct initial_cluster *ic)
{
	char **p = calloc((size_t)ic->n + 1, sizeof(*p));

	if (p == NULL)
		return NULL;
	for (int i = 0; i < ic->n; i++) {
		if (asprintf(&p[i], "%s=%s", ic->v[i].name, ic->v[i].url.str) < 0) {
			for (int j = 0; j < i; j++)
				free(p[j]);
			free(p);
			return NULL;
		}
	}
	qsort(p, (size_t)ic->n, sizeof(*p), str_cmp);
	return p;
}

size_t initial_cluster_format(const struct initial_cluster *ic, char *buf, size_t len)
{
	char **p = pairs_sorted(ic);
	size_t need = 0;

	if (len > 0)
		buf[0] = '\0';
	if (p == NULL)
		return 0;
	for (int i = 0; i < ic->n; i++) {
		int w = snprintf(buf + (need < len ? need : len), need < len ? len - need : 0, "%s%s",
				 i ? "," : "", p[i]);
		need += (size_t)(w > 0 ? w : 0);
		free(p[i]);
	}
	free(p);
	return need;
}

int initial_cluster_has_member(const struct initial_cluster *ic, const char *name, char *err, size_t errlen)
{
	for (int i = 0; i < ic->n; i++)
		if (strcmp(ic->v[i].name, name) == 0)
			return 0;
	return errf(err, errlen, CE_INVAL, "couldn't find local name \"%s\" in the initial cluster configuration",
		    name);
}

int initial_cluster_check_dup(const struct initial_cluster *ic, char *err, size_t errlen)
{
	for (int i = 0; i < ic->n; i++) {
		for (int j = i + 1; j < ic->n; j++) {
			if (strcmp(ic->v[i].url.str, ic->v[j].url.str) == 0) {
				char txt[1024];
				initial_cluster_format(ic, txt, sizeof(txt));
				return errf(err, errlen, CE_INVAL, "initial cluster %s has duplicate url", txt);
			}
		}
	}
	return 0;
}

/* resolve_url gives the URL text with its host replaced by the first
 * address it resolves to (IPv4 preferred, like Go's ResolveTCPAddr), so that
 * "localhost" and "127.0.0.1" compare equal as they do in etcd. */
static void resolve_url(const struct cetcd_url *u, char *out, size_t len)
{
	struct addrinfo hints, *res = NULL, *pick = NULL;
	char ip[64];

	snprintf(out, len, "%s", u->str);
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(u->host, NULL, &hints, &res) != 0)
		return;
	for (struct addrinfo *a = res; a != NULL; a = a->ai_next) {
		if (a->ai_family == AF_INET) {
			pick = a;
			break;
		}
		if (pick == NULL && a->ai_family == AF_INET6)
			pick = a;
	}
	if (pick != NULL &&
	    getnameinfo(pick->ai_addr, pick->ai_addrlen, ip, sizeof(ip), NULL, 0, NI_NUMERICHOST) == 0) {
		if (pick->ai_family == AF_INET6)
			snprintf(out, len, "%s://[%s]:%d", u->scheme, ip, u->port);
		else
			snprintf(out, len, "%s://%s:%d", u->scheme, ip, u->port);
	}
	freeaddrinfo(res);
}

/* quote_list renders a list as Go's %q of a []string: ["a" "b"]. */
static void quote_list(const struct url_list *l, char *out, size_t len)
{
	size_t o = (size_t)snprintf(out, len, "[");

	for (int i = 0; i < l->n && o < len; i++)
		o += (size_t)snprintf(out + o, len - o, "%s\"%s\"", i ? " " : "", l->v[i].str);
	if (o < len)
		snprintf(out + o, len - o, "]");
}

/* lists_equal compares two sorted lists, textually then resolved; on a
 * difference it writes etcd's explanation into why. */
static int lists_equal(const struct url_list *a, const struct url_list *b, char *why, size_t wlen)
{
	char ra[300], rb[300];

	if (a->n != b->n) {
		char ta[512], tb[512];
		quote_list(a, ta, sizeof(ta));
		quote_list(b, tb, sizeof(tb));
		snprintf(why, wlen, "len(%s) != len(%s)", ta, tb);
		return 0;
	}
	for (int i = 0; i < a->n; i++) {
		if (strcmp(a->v[i].str, b->v[i].str) == 0)
			continue;
		resolve_url(&a->v[i], ra, sizeof(ra));
		resolve_url(&b->v[i], rb, sizeof(rb));
		if (strcmp(ra, rb) != 0) {
			snprintf(why, wlen, "resolved urls: \"%s\" != \"%s\"", ra, rb);
			return 0;
		}
	}
	return 1;
}

static int in_list(const struct url_list *l, const char *s)
{
	for (int i = 0; i < l->n; i++)
		if (strcmp(l->v[i].str, s) == 0)
			return 1;
	return 0;
}

/* missing_text joins "prefix+url" for every URL of a not in b. */
static void missing_text(const struct url_list *a, const struct url_list *b, const char *prefix, char *out,
			 size_t len)
{
	size_t o = 0;

	out[0] = '\0';
	for (int i = 0; i < a->n; i++) {
		if (in_list(b, a->v[i].str) || o >= len)
			continue;
		o += (size_t)snprintf(out + o, len - o, "%s%s%s", o ? "," : "", prefix, a->v[i].str);
	}
}

int initial_cluster_check_advertise(const struct initial_cluster *ic, const char *name,
				    const struct url_list *apurls, char *err, size_t errlen)
{
	static const struct url_list none = {0, NULL};
	struct url_list mine;
	char why[1200], miss[1024], aps[1024], mymap[1024], pre[256];
	int rc = 0;

	if (initial_cluster_urls(ic, name, &mine) != 0)
		return errf(err, errlen, CE_NOMEM, "out of memory");
	if (lists_equal(apurls, &mine, why, sizeof(why)))
		goto out;
	url_list_format(apurls, aps, sizeof(aps));
	snprintf(pre, sizeof(pre), "%s=", name);
	missing_text(apurls, &none, pre, mymap, sizeof(mymap));
	missing_text(&mine, apurls, pre, miss, sizeof(miss));
	if (miss[0] != '\0') {
		rc = errf(err, errlen, CE_INVAL,
			  "--initial-cluster has %s but missing from --initial-advertise-peer-urls=%s (%s)", miss, aps,
			  why);
		goto out;
	}
	missing_text(apurls, &mine, "", miss, sizeof(miss));
	if (miss[0] != '\0') {
		rc = errf(err, errlen, CE_INVAL, "--initial-advertise-peer-urls has %s but missing from --initial-cluster=%s",
			  miss, mymap);
		goto out;
	}
	rc = errf(err, errlen, CE_INVAL, "failed to resolve %s to match --initial-cluster=%s (%s)", aps, mymap, why);
out:
	url_list_free(&mine);
	return rc;
}
