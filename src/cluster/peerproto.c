/* peerproto.c - the peer protocol's preamble, and the blocking members
 * query the supervisor runs before it forks a member that joins a running
 * cluster (--initial-cluster-state existing). */
#include "config.h"
#include "cluster/peerproto.h"
#include "config/url.h"
#include "ipc/frame.h"
#include "util/buf.h"
#include "ipc/shm.h"
#include "util/err.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

void peer_preamble_encode(uint8_t out[PEER_PREAMBLE_SIZE], const struct peer_preamble *p)
{
	memset(out, 0, PEER_PREAMBLE_SIZE);
	memcpy(out, PEER_MAGIC, 8);
	le_put64(out + 8, p->cluster_id);
	le_put64(out + 16, p->from);
	le_put64(out + 24, p->to);
	le_put32(out + 32, p->kind);
}

int peer_preamble_decode(struct peer_preamble *p, const uint8_t in[PEER_PREAMBLE_SIZE])
{
	if (memcmp(in, PEER_MAGIC, 6) != 0)
		return CE_CORRUPT;
	if (memcmp(in + 6, PEER_MAGIC + 6, 2) != 0)
		return CE_VERSION;
	p->cluster_id = le_get64(in + 8);
	p->from = le_get64(in + 16);
	p->to = le_get64(in + 24);
	p->kind = le_get32(in + 32);
	return 0;
}

static int wait_fd(int fd, short ev, uint64_t deadline_ms)
{
	for (;;) {
		uint64_t now = shm_now_ms();
		struct pollfd p = { fd, ev, 0 };
		int n;

		if (now >= deadline_ms)
			return CE_IO;
		n = poll(&p, 1, (int)(deadline_ms - now));
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return CE_IO;
	}
}

static int dial(const char *host, int port, uint64_t deadline_ms)
{
	struct addrinfo hints, *res = NULL, *ai;
	char portstr[16];
	int fd = -1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	snprintf(portstr, sizeof(portstr), "%d", port);
	if (getaddrinfo(host, portstr, &hints, &res) != 0)
		return -1;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		int soerr = 0;
		socklen_t sl = sizeof(soerr);

		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 ||
			(errno == EINPROGRESS && wait_fd(fd, POLLOUT, deadline_ms) == 0 &&
				getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr == 0))
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

static int io_full(int fd, void *p, size_t n, int writing, uint64_t deadline_ms)
{
	uint8_t *b = p;

	while (n > 0) {
		ssize_t k = writing ? write(fd, b, n) : read(fd, b, n);
		if (k > 0) {
			b += k;
			n -= (size_t)k;
		} else if (k == 0) {
			return CE_CLOSED;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (wait_fd(fd, writing ? POLLOUT : POLLIN, deadline_ms) != 0)
				return CE_IO;
		} else if (errno != EINTR) {
			return CE_IO;
		}
	}
	return 0;
}

int peer_query_members(const char *url, int timeout_ms, uint64_t *cluster_id, char **json,
	char *err, size_t errlen)
{
	uint64_t deadline = shm_now_ms() + (uint64_t)timeout_ms;
	struct peer_preamble pre = { 0, 0, 0, PEER_KIND_MEMBERS };
	uint8_t pb[PEER_PREAMBLE_SIZE], hb[IPC_HDR_SIZE];
	struct cetcd_url u;
	struct ipc_hdr h;
	uint8_t *payload = NULL;
	int fd, rc;

	*json = NULL;
	if (url_parse(url, &u, err, errlen) != 0)
		return CE_INVAL;
	fd = dial(u.host, u.port, deadline);
	url_close(&u);
	if (fd < 0)
		return errf(err, errlen, CE_IO, "could not reach %s", url);
	peer_preamble_encode(pb, &pre);
	if ((rc = io_full(fd, pb, sizeof(pb), 1, deadline)) != 0 ||
		(rc = io_full(fd, hb, sizeof(hb), 0, deadline)) != 0) {
		close(fd);
		return errf(err, errlen, CE_IO, "members query to %s failed", url);
	}
	if (ipc_hdr_unpack(&h, hb) != 0 || h.len > (4u << 20) ||
		(h.type != PEER_MEMBERS && h.type != PEER_REFUSED) || h.len < 4 ||
		(payload = malloc(h.len + 1)) == NULL ||
		io_full(fd, payload, h.len, 0, deadline) != 0) {
		free(payload);
		close(fd);
		return errf(err, errlen, CE_CORRUPT, "%s did not answer as a cetcd member", url);
	}
	close(fd);
	payload[h.len] = '\0';
	if (h.type == PEER_REFUSED) {
		rc = -(int)le_get32(payload);
		errf(err, errlen, rc < 0 ? rc : CE_IO, "%s refused: %s", url, (char *)payload + 4);
		free(payload);
		return rc < 0 ? rc : CE_IO;
	}
	if (h.len < 8) {
		free(payload);
		return errf(err, errlen, CE_CORRUPT, "%s sent a short members answer", url);
	}
	*cluster_id = le_get64(payload);
	memmove(payload, payload + 8, h.len - 8 + 1);
	*json = (char *)payload;
	return 0;
}
