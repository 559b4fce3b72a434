/* conn.c - framed IPC connections over libevent bufferevents. */
#include "config.h"
#include "ipc/conn.h"
#include "util/err.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

struct ipc_conn {
	struct bufferevent *bev;
	ipc_msg_cb on_msg;
	ipc_burst_cb on_burst;
	ipc_close_cb on_close;
	void *arg;
	void *user;
	int dispatching; /* inside read_cb: free is deferred */
	int dead;        /* freed while dispatching, or closed */
};

static pid_t instance_pid;

void ipc_set_instance(pid_t supervisor_pid)
{
	instance_pid = supervisor_pid;
}

static socklen_t ipc_addr(struct sockaddr_un *sa, const char *name)
{
	int n;

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	/* sun_path[0] = '\0': the abstract namespace. */
	n = snprintf(sa->sun_path + 1, sizeof(sa->sun_path) - 1, "cetcd.%ld.%s", (long)instance_pid,
		name);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
}

int ipc_listen(const char *name)
{
	struct sockaddr_un sa;
	socklen_t len = ipc_addr(&sa, name);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&sa, len) < 0 || listen(fd, 64) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int ipc_connect(const char *name)
{
	struct sockaddr_un sa;
	socklen_t len = ipc_addr(&sa, name);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, len) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return fd;
}

static void conn_closed(struct ipc_conn *c)
{
	if (c->dead)
		return;
	c->dead = 1;
	bufferevent_disable(c->bev, EV_READ | EV_WRITE);
	c->on_close(c, c->arg);
}

static void read_cb(struct bufferevent *bev, void *arg)
{
	struct ipc_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	uint8_t raw[IPC_HDR_SIZE];
	struct ipc_hdr h;
	int delivered = 0;

	c->dispatching = 1;
	while (!c->dead && evbuffer_get_length(in) >= IPC_HDR_SIZE) {
		evbuffer_copyout(in, raw, IPC_HDR_SIZE);
		if (ipc_hdr_unpack(&h, raw) != 0) {
			conn_closed(c);
			break;
		}
		if (evbuffer_get_length(in) < IPC_HDR_SIZE + (size_t)h.len)
			break;
		uint8_t *p = evbuffer_pullup(in, (ev_ssize_t)(IPC_HDR_SIZE + h.len));
		if (p == NULL) {
			conn_closed(c);
			break;
		}
		c->on_msg(c, &h, p + IPC_HDR_SIZE, c->arg);
		if (c->dead)
			break;
		evbuffer_drain(in, IPC_HDR_SIZE + h.len);
		delivered++;
	}
	if (!c->dead && delivered && c->on_burst)
		c->on_burst(c, c->arg);
	c->dispatching = 0;
	if (c->dead && c->bev == NULL)
		free(c);
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct ipc_conn *c = arg;

	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		conn_closed(c);
}

struct ipc_conn *ipc_conn_new(struct event_base *base, int fd, ipc_msg_cb on_msg,
	ipc_burst_cb on_burst, ipc_close_cb on_close, void *arg)
{
	struct ipc_conn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		free(c);
		return NULL;
	}
	c->on_msg = on_msg;
	c->on_burst = on_burst;
	c->on_close = on_close;
	c->arg = arg;
	bufferevent_setcb(c->bev, read_cb, NULL, event_cb, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	return c;
}

void ipc_conn_free(struct ipc_conn *c)
{
	if (c == NULL)
		return;
	if (c->bev) {
		bufferevent_free(c->bev);
		c->bev = NULL;
	}
	if (c->dispatching) {
		c->dead = 1; /* read_cb frees c when it unwinds */
		return;
	}
	free(c);
}

int ipc_conn_send(struct ipc_conn *c, uint8_t type, uint64_t req_id, uint32_t origin, uint32_t gen,
	const void *p1, size_t n1, const void *p2, size_t n2)
{
	struct ipc_hdr h = { IPC_MAGIC, IPC_VERSION, type, (uint32_t)(n1 + n2), req_id, origin, gen };
	uint8_t raw[IPC_HDR_SIZE];
	struct evbuffer *out;

	if (c->dead || c->bev == NULL)
		return CE_CLOSED;
	if (n1 + n2 > IPC_MAX_PAYLOAD)
		return CE_TOOBIG;
	out = bufferevent_get_output(c->bev);
	ipc_hdr_pack(&h, raw);
	if (evbuffer_add(out, raw, sizeof(raw)) != 0 || (n1 && evbuffer_add(out, p1, n1) != 0) ||
		(n2 && evbuffer_add(out, p2, n2) != 0))
		return CE_NOMEM;
	return 0;
}

size_t ipc_conn_backlog(const struct ipc_conn *c)
{
	if (c->bev == NULL)
		return 0;
	return evbuffer_get_length(bufferevent_get_output(c->bev));
}

void ipc_conn_set_user(struct ipc_conn *c, void *user)
{
	c->user = user;
}

void *ipc_conn_user(const struct ipc_conn *c)
{
	return c->user;
}

struct serve_ctx {
	ipc_accept_cb on_fd;
	void *arg;
};

static void serve_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
	int len, void *arg)
{
	struct serve_ctx *ctx = arg;
	ctx->on_fd(fd, ctx->arg);
}

struct evconnlistener *ipc_serve(struct event_base *base, const char *name, ipc_accept_cb on_fd,
	void *arg)
{
	static struct serve_ctx ctxs[4];
	static int nctx;
	int fd = ipc_listen(name);
	struct evconnlistener *l;

	if (fd < 0 || nctx == (int)(sizeof(ctxs) / sizeof(ctxs[0]))) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	ctxs[nctx].on_fd = on_fd;
	ctxs[nctx].arg = arg;
	l = evconnlistener_new(base, serve_accept, &ctxs[nctx], LEV_OPT_CLOSE_ON_FREE |
		LEV_OPT_CLOSE_ON_EXEC, -1, fd);
	if (l == NULL) {
		close(fd);
		return NULL;
	}
	nctx++;
	return l;
}
