/* httpd.h - a lean HTTP/1.1 server for the api worker, on a libevent loop.
 *
 * Why not evhttp: evhttp re-arms epoll around every response and asks the
 * kernel how much to read, five system calls per keep-alive request; this
 * server reads what arrived, answers every complete request in it, and
 * writes each response at once (epoll is touched only when a socket's send
 * buffer is full), two system calls per request.
 *
 * Behaviour follows Go's net/http server where clients can tell: keep-alive
 * by default on HTTP/1.1 (HTTP/1.0 only with "Connection: keep-alive"),
 * "Connection: close" honoured, "Expect: 100-continue" answered, chunked
 * request bodies decoded, one request at a time per connection (a
 * pipelined request waits until the one before it is answered), a
 * malformed request answered "400 Bad Request" and the connection closed,
 * a body over max_body answered 413 and the connection closed.
 *
 * Ownership: a struct hreq belongs to the server; the handler may answer at
 * once or later (long polls), and the request stays valid until the reply
 * is complete (hreq_reply or hreq_reply_end), even if the client goes away
 * meanwhile (the close callback, if set, says so; the late reply is then
 * discarded).
 */
#ifndef CETCD_HTTP_HTTPD_H
#define CETCD_HTTP_HTTPD_H

#include <stddef.h>

struct event_base;
struct httpd;
struct hreq;

enum hmethod {
	H_GET = 1,
	H_HEAD = 2,
	H_PUT = 4,
	H_POST = 8,
	H_DELETE = 16,
	H_OPTIONS = 32,
	H_PATCH = 64,
	H_OTHER = 128 /* any other token (TRACE, CONNECT, ...) */
};

/* http_has_token: the comma-separated header value v (Connection,
 * Transfer-Encoding ...) holds tok, compared without case. Shared with the
 * proxy's client. */
int http_has_token(const char *v, const char *tok);

typedef void (*httpd_handler)(struct hreq *r, void *arg);
typedef void (*hreq_close_cb)(struct hreq *r, void *arg);

struct httpd_opts {
	size_t max_body;       /* bytes of request body; more: 413 and close */
	size_t max_header;     /* bytes of request line + headers; more: 431/400 and close */
	int idle_timeout_s;    /* close a connection idle (or stuck mid-request) this long */
};

struct httpd *httpd_new(struct event_base *base, const struct httpd_opts *opts,
	httpd_handler handler, void *arg);
/* httpd_listen_fd serves an already listening, non-blocking socket; the
 * server never closes it (it may be shared with other processes). */
int httpd_listen_fd(struct httpd *s, int fd);
/* httpd_free closes every connection (pending requests are dropped without
 * their close callbacks) and stops accepting. */
void httpd_free(struct httpd *s);

/* Request accessors (valid until the reply completes). */
int hreq_method(const struct hreq *r);        /* enum hmethod */
const char *hreq_method_name(const struct hreq *r);
const char *hreq_uri(const struct hreq *r);   /* raw request-target, e.g. "/v2/keys/a?x=1" */
int hreq_minor(const struct hreq *r);         /* HTTP/1.x minor version */
/* hreq_header: first value of a header, case-insensitive name; NULL if absent. */
const char *hreq_header(const struct hreq *r, const char *name);
/* hreq_header_count / hreq_header_at: every request header in arrival
 * order (a proxy copies them); hreq_header_at returns the name. */
size_t hreq_header_count(const struct hreq *r);
const char *hreq_header_at(const struct hreq *r, size_t i, const char **value);
/* hreq_peer_ip writes the client's address ("127.0.0.1", "::1"), or ""
 * once the client is gone. */
void hreq_peer_ip(const struct hreq *r, char *out, size_t outlen);
/* hreq_body: the whole (de-chunked) body; never NULL ("" when empty). */
const char *hreq_body(const struct hreq *r, size_t *len);

/* Response. Headers are sent in the order added, then Date and (for
 * hreq_reply) Content-Length, as Go's server does. */
void hreq_add_header(struct hreq *r, const char *name, const char *value);
/* hreq_reply sends status + body (HEAD: headers only, with the length the
 * body would have) and completes the request. */
void hreq_reply(struct hreq *r, int status, const void *body, size_t len);
/* Streaming (Transfer-Encoding: chunked), for watches. */
void hreq_reply_start(struct hreq *r, int status);
void hreq_reply_chunk(struct hreq *r, const void *p, size_t len);
void hreq_reply_end(struct hreq *r);
/* hreq_reply_end_trailer ends a stream with trailer fields (each line
 * "Name: value\r\n"; announce them with a "Trailer" header before
 * hreq_reply_start). HTTP/1.0 streams have no trailers: they are dropped. */
void hreq_reply_end_trailer(struct hreq *r, const char *trailers);
/* hreq_set_close_cb: told once if the client disconnects before the reply
 * is complete. */
void hreq_set_close_cb(struct hreq *r, hreq_close_cb cb, void *arg);
/* hreq_set_drain_cb: for a stream (after hreq_reply_start), told each time
 * output the kernel could not take at once has all been written, so a
 * sender of a large or unbounded stream can produce the next piece then.
 * Output written at once triggers nothing: check hreq_out_pending. */
void hreq_set_drain_cb(struct hreq *r, hreq_close_cb cb, void *arg);
/* hreq_out_pending: response bytes queued for this request's connection
 * and not yet taken by the kernel (0 once the client went away). */
size_t hreq_out_pending(const struct hreq *r);
/* http_only answers 405 (Go's "Method Not Allowed", with Allow: allow)
 * unless the request's method is one of methods (enum hmethod bits);
 * 1 when the method is allowed. */
int http_only(struct hreq *r, int methods, const char *allow);
/* http_cors adds the CORS headers etcd puts on every client answer
 * (any origin) and answers an OPTIONS request itself (200, empty), as
 * etcd's CORS wrapper does; 1 when it answered. */
int http_cors(struct hreq *r);
/* hreq_abort ends a started stream without its last chunk and closes the
 * connection once what is queued was written, so the client sees the
 * answer cut (a proxy whose member went away mid-answer). */
void hreq_abort(struct hreq *r);
/* hreq_close_after: close the connection once this reply is written. */
void hreq_close_after(struct hreq *r);

#endif
