/* upstream.h - the proxy worker's HTTP/1.1 client: one request at a time
 * per connection to a member's client URL, idle connections kept per
 * host for reuse (keep-alive), answers handed over as they arrive so that
 * long polls and watch streams pass through unbuffered.
 *
 * Why not evhttp's client: it cannot stop reading when the proxy's client
 * is slow (no backpressure), it has no connect-only timeout in libevent
 * 2.1, and its default 50 s read timeout would cut idle watches.
 *
 * Idle kept-alive connections are closed after 60 s, before a member's
 * own idle cut could race with a request written into them.
 *
 * Timeouts follow etcd's proxy transport: dial (connect), write (sending
 * the request) and read (each wait for answer bytes; 0 = none, the
 * default, so a long poll may idle for ever).
 *
 * Ownership: ups_send copies the request; the struct ups_call belongs to
 * the pool until its final callback (on_end or on_fail), after which the
 * caller must not touch it. ups_cancel ends a call without callbacks.
 */
#ifndef CETCD_PROXYD_UPSTREAM_H
#define CETCD_PROXYD_UPSTREAM_H

#include <stddef.h>

struct event_base;
struct ups_pool;
struct ups_call;

/* Where a call failed. Before UPS_SENT nothing reached the member, so the
 * request may go to another one; after it the member may have acted. */
enum ups_phase {
	UPS_CONNECT = 1, /* resolving or connecting */
	UPS_SENDING = 2, /* connected, request not fully written */
	UPS_SENT = 3,    /* written, no answer byte yet */
	UPS_ANSWER = 4   /* the answer had begun */
};

struct ups_head {
	int status;
	size_t nh;
	const char *const *names;  /* nh header names, as the member wrote them */
	const char *const *values;
	int has_length;            /* Content-Length framing ... */
	size_t length;             /* ... of this many bytes */
};

struct ups_cbs {
	/* The answer's status line and headers. */
	void (*on_head)(void *arg, const struct ups_head *h);
	/* Body bytes (de-chunked), as they arrive. */
	void (*on_data)(void *arg, const void *p, size_t n);
	/* The answer is complete; trailers: raw "Name: value\r\n" lines or NULL. */
	void (*on_end)(void *arg, const char *trailers);
	/* The call failed at phase (see enum ups_phase), with a reason. */
	void (*on_fail)(void *arg, int phase, const char *why);
};

struct ups_opts {
	int dial_timeout_ms;
	int write_timeout_ms;
	int read_timeout_ms;   /* 0: no read timeout */
	int max_idle_per_host;
};

struct ups_pool *ups_pool_new(struct event_base *base, const struct ups_opts *o);
void ups_pool_free(struct ups_pool *p);

/* ups_send starts a request to host:port (connections to the same pair
 * are reused). head is the request line and headers without the final empty
 * line ("GET /x HTTP/1.1\r\nHost: h\r\n"); Content-Length is added when
 * body is not NULL (even for 0 bytes). is_head: the method is HEAD (no answer body). Returns the call
 * or NULL: it failed at once (no callback comes), as a failure at
 * UPS_CONNECT would (unresolvable host, no socket, out of memory). */
struct ups_call *ups_send(struct ups_pool *p, const char *host, int port, const char *head,
	size_t headlen, const void *body, size_t bodylen, int is_head, const struct ups_cbs *cbs,
	void *arg);

/* ups_cancel drops a call: no more callbacks, its connection is closed. */
void ups_cancel(struct ups_call *c);

/* ups_pause / ups_resume stop and restart reading the answer (backpressure
 * while the proxy's own client is slow). */
void ups_pause(struct ups_call *c);
void ups_resume(struct ups_call *c);

#endif
