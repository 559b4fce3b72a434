/* url.c - parse the URLs etcd accepts in its flags (see url.h). Only the
 * subset etcd's types.NewURLs lets through is recognised: anything with a
 * path, an unknown scheme or an authority that is not host:port is refused
 * with etcd's wording. */
#include "config.h"
#include "config/url.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"

static const char *const url_schemes[] = {"http", "https", "unix", "unixs"};

/* scheme_len returns the length of a Go-valid scheme at s followed by ':',
 * or 0 when s does not start with one. */
static size_t scheme_len(const char *s)
{
	size_t i;

	if (!isalpha((unsigned char)s[0]))
		return 0;
	for (i = 1; s[i] != '\0' && s[i] != ':'; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!isalnum(c) && c != '+' && c != '-' && c != '.')
			return 0;
	}
	return s[i] == ':' ? i : 0;
}

static int scheme_known(const char *s, size_t n, char out[8])
{
	size_t i;

	if (n >= 8)
		return 0;
	for (i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)s[i]);
	out[n] = '\0';
	for (i = 0; i < sizeof(url_schemes) / sizeof(url_schemes[0]); i++)
		if (strcmp(out, url_schemes[i]) == 0)
			return 1;
	return 0;
}

/* split_host_port splits "host:port" / "[v6]:port" like Go's
 * net.SplitHostPort, additionally requiring a decimal port <= 65535.
 * *host gets a malloc'd copy. Returns 0, 1 (bad form) or CE_NOMEM. */
static int split_host_port(const char *a, size_t n, char **host, int *port)
{
	const char *hs, *colon;
	size_t hn, i;
	long p = 0;

	if (n > 0 && a[0] == '[') {
		const char *rb = memchr(a, ']', n);
		if (rb == NULL || (size_t)(rb - a) + 1 >= n || rb[1] != ':')
			return 1;
		hs = a + 1;
		hn = (size_t)(rb - hs);
		colon = rb + 1;
	} else {
		colon = NULL;
		for (i = 0; i < n; i++) {
			if (a[i] == ':') {
				if (colon != NULL)
					return 1; /* "too many colons" */
				colon = a + i;
			} else if (a[i] == '[' || a[i] == ']') {
				return 1;
			}
		}
		if (colon == NULL)
			return 1; /* "missing port in address" */
		hs = a;
		hn = (size_t)(colon - a);
	}
	if (colon + 1 == a + n)
		return 1;
	for (const char *c = colon + 1; c < a + n; c++) {
		if (!isdigit((unsigned char)*c))
			return 1;
		p = p * 10 + (*c - '0');
		if (p > 65535)
			return 1;
	}
	*host = strndup(hs, hn);
	if (*host == NULL)
		return CE_NOMEM;
	*port = (int)p;
	return 0;
}

int url_parse(const char *s, struct cetcd_url *out, char *err, size_t errlen)
{
	const char *b = s, *e, *auth, *aend;
	size_t n, sl;
	char *in;
	int rc;

	memset(out, 0, sizeof(*out));
	while (isspace((unsigned char)*b))
		b++;
	e = b + strlen(b);
	while (e > b && isspace((unsigned char)e[-1]))
		e--;
	n = (size_t)(e - b);
	in = strndup(b, n);
	if (in == NULL)
		return errf(err, errlen, CE_NOMEM, "out of memory");

	sl = scheme_len(in);
	if (sl == 0 || !scheme_known(in, sl, out->scheme)) {
		rc = errf(err, errlen, CE_INVAL, "URL scheme must be http, https, unix, or unixs: %s", in);
		goto fail;
	}
	if (strncmp(in + sl, "://", 3) != 0) {
		rc = errf(err, errlen, CE_INVAL, "URL address does not have the form \"host:port\": %s", in);
		goto fail;
	}
	auth = in + sl + 3;
	aend = auth + strcspn(auth, "/?#");
	if (memchr(auth, '@', (size_t)(aend - auth)) != NULL ||
	    (rc = split_host_port(auth, (size_t)(aend - auth), &out->host, &out->port)) == 1) {
		rc = errf(err, errlen, CE_INVAL, "URL address does not have the form \"host:port\": %s", in);
		goto fail;
	}
	if (rc < 0) {
		rc = errf(err, errlen, CE_NOMEM, "out of memory");
		goto fail;
	}
	if (*aend != '\0') {
		rc = errf(err, errlen, CE_INVAL, "URL must not contain a path: %s", in);
		goto fail;
	}
	memcpy(in, out->scheme, sl); /* Go lowercases the scheme */
	out->str = in;
	return 0;
fail:
	free(in);
	url_close(out);
	return rc;
}

void url_close(struct cetcd_url *u)
{
	if (u == NULL)
		return;
	free(u->str);
	free(u->host);
	memset(u, 0, sizeof(*u));
}

int url_copy(struct cetcd_url *dst, const struct cetcd_url *src)
{
	*dst = *src;
	dst->str = strdup(src->str);
	dst->host = strdup(src->host);
	if (dst->str == NULL || dst->host == NULL) {
		url_close(dst);
		return CE_NOMEM;
	}
	return 0;
}

static int url_cmp(const void *a, const void *b)
{
	return strcmp(((const struct cetcd_url *)a)->str, ((const struct cetcd_url *)b)->str);
}

/* sort_unique sorts l and drops repeated URLs, as etcd's unique URL flags
 * do (a URL listed twice would otherwise be bound twice). */
static void sort_unique(struct url_list *l)
{
	int i, j = 0;

	qsort(l->v, (size_t)l->n, sizeof(l->v[0]), url_cmp);
	for (i = 0; i < l->n; i++) {
		if (j > 0 && strcmp(l->v[j - 1].str, l->v[i].str) == 0) {
			url_close(&l->v[i]);
			continue;
		}
		l->v[j++] = l->v[i];
	}
	l->n = j;
}

int url_list_parse(const char *csv, struct url_list *out, char *err, size_t errlen)
{
	struct url_list l = {0, NULL};
	const char *p = csv;
	int cap = 1, rc;

	for (const char *c = csv; *c; c++)
		cap += *c == ',';
	if (*csv == '\0')
		return errf(err, errlen, CE_INVAL, "no valid URLs given");
	l.v = calloc((size_t)cap, sizeof(l.v[0]));
	if (l.v == NULL)
		return errf(err, errlen, CE_NOMEM, "out of memory");
	for (;;) {
		size_t n = strcspn(p, ",");
		char *one = strndup(p, n);

		if (one == NULL) {
			rc = errf(err, errlen, CE_NOMEM, "out of memory");
			goto fail;
		}
		rc = url_parse(one, &l.v[l.n], err, errlen);
		free(one);
		if (rc != 0)
			goto fail;
		l.n++;
		if (p[n] == '\0')
			break;
		p += n + 1;
	}
	sort_unique(&l);
	*out = l;
	return 0;
fail:
	url_list_free(&l);
	return rc;
}

void url_list_free(struct url_list *l)
{
	for (int i = 0; i < l->n; i++)
		url_close(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

size_t url_list_format(const struct url_list *l, char *buf, size_t len)
{
	size_t need = 0;

	if (len > 0)
		buf[0] = '\0';
	for (int i = 0; i < l->n; i++) {
		size_t sl = strlen(l->v[i].str);
		if (i > 0) {
			if (need + 1 < len) {
				buf[need] = ',';
				buf[need + 1] = '\0';
			}
			need++;
		}
		if (need < len) {
			size_t room = len - need - 1;
			size_t c = sl < room ? sl : room;
			memcpy(buf + need, l->v[i].str, c);
			buf[need + c] = '\0';
		}
		need += sl;
	}
	return need;
}

int url_is_ip(const char *host)
{
	unsigned char tmp[16];

	return inet_pton(AF_INET, host, tmp) == 1 || inet_pton(AF_INET6, host, tmp) == 1;
}
