/* conn.h - a framed IPC connection on a libevent loop, and the abstract-
 * namespace Unix sockets the workers listen on.
 *
 * Each worker that serves others listens on "\0cetcd.<supervisor pid>.<name>"
 * so that restarted workers find each other again without files to clean up
 * and two cetcd instances on one host never collide.
 */
#ifndef CETCD_IPC_CONN_H
#define CETCD_IPC_CONN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ipc/frame.h"

struct event_base;
struct ipc_conn;

/* Called once per complete frame. payload has h->len bytes and is valid only
 * during the call. The callback may call ipc_conn_free(c). */
typedef void (*ipc_msg_cb)(struct ipc_conn *c, const struct ipc_hdr *h, const uint8_t *payload,
	void *arg);
/* Called after the frames of one read burst were delivered (group work). */
typedef void (*ipc_burst_cb)(struct ipc_conn *c, void *arg);
/* Called once when the peer closed or broke the connection. The callback
 * owns c and must ipc_conn_free it (now or later). */
typedef void (*ipc_close_cb)(struct ipc_conn *c, void *arg);

struct ipc_conn *ipc_conn_new(struct event_base *base, int fd, ipc_msg_cb on_msg,
	ipc_burst_cb on_burst, ipc_close_cb on_close, void *arg);
void ipc_conn_free(struct ipc_conn *c);

/* ipc_conn_send queues one frame: header fields from h (len is computed)
 * and a payload in up to two parts (either may be NULL/0). Returns 0 or
 * CE_NOMEM/CE_CLOSED. */
int ipc_conn_send(struct ipc_conn *c, uint8_t type, uint64_t req_id, uint32_t origin, uint32_t gen,
	const void *p1, size_t n1, const void *p2, size_t n2);

/* Bytes queued for the peer and not yet written (for flow control). */
size_t ipc_conn_backlog(const struct ipc_conn *c);

void ipc_conn_set_user(struct ipc_conn *c, void *user);
void *ipc_conn_user(const struct ipc_conn *c);

/* ipc_set_instance sets the <supervisor pid> part of socket names; the
 * supervisor calls it before forking. */
void ipc_set_instance(pid_t supervisor_pid);

/* ipc_listen returns a non-blocking, close-on-exec listening socket for
 * name, or -1 with errno set. */
int ipc_listen(const char *name);

/* ipc_connect connects (blocking only for the connect itself, which on a
 * local socket is immediate) and returns a non-blocking fd, or -1. */
int ipc_connect(const char *name);

/* ipc_serve listens on name and calls on_fd with each accepted connection
 * (non-blocking, close-on-exec). NULL on failure, errno set. */
struct evconnlistener;
typedef void (*ipc_accept_cb)(int fd, void *arg);
struct evconnlistener *ipc_serve(struct event_base *base, const char *name, ipc_accept_cb on_fd,
	void *arg);

#endif
