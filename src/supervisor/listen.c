/* listen.c - bind the client URLs. */
#include "config.h"
#include "supervisor/listen.h"
#include "config/url.h"
#include "util/err.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int bind_one(const struct cetcd_url *u, char *err, size_t errlen)
{
	struct addrinfo hints, *res = NULL, *ai;
	char port[16];
	int fd = -1;
	int one = 1;
	int rc;
	const char *host = u->host[0] ? u->host : NULL;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%d", u->port);
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0)
		return errf(err, errlen, CE_INVAL, "listen %s: %s", u->str, gai_strerror(rc));
	/* Prefer IPv4, as Go resolves "localhost" for etcd. */
	for (ai = res; ai && ai->ai_family != AF_INET; ai = ai->ai_next)
		;
	if (ai == NULL)
		ai = res;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = errf(err, errlen, CE_IO, "listen %s: socket: %s", u->str, strerror(errno));
		goto out;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 1024) < 0) {
		rc = errf(err, errlen, CE_IO, "listen tcp %s:%d: bind: %s", u->host, u->port,
			strerror(errno));
		close(fd);
		goto out;
	}
	rc = fd;
out:
	freeaddrinfo(res);
	return rc;
}

int listen_urls(const struct url_list *urls, int *fds, int max, char *err, size_t errlen)
{
	int n = 0;

	for (int i = 0; i < urls->n && n < max; i++) {
		if (strcmp(urls->v[i].scheme, "http") != 0) {
			for (int j = 0; j < n; j++)
				close(fds[j]);
			return errf(err, errlen, CE_INVAL, "listen %s: scheme %s is not supported yet",
				urls->v[i].str, urls->v[i].scheme);
		}
		int fd = bind_one(&urls->v[i], err, errlen);
		if (fd < 0) {
			for (int j = 0; j < n; j++)
				close(fds[j]);
			return fd;
		}
		fds[n++] = fd;
	}
	return n;
}
