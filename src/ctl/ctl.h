/* ctl.h - the shared core of cetcdctl, etcdctl 3.4's command-line client:
 * talking HTTP/1.1 to a cetcd (or etcd) cluster through libevent's HTTP
 * client, with failover across the endpoints, and the two command sets,
 * chosen like etcdctl 3.4 by ETCDCTL_API ("2": v2 keys API; unset or "3":
 * v3 through the JSON gateway).
 *
 * Ownership: every function here is synchronous (it runs its own event
 * loop until the call completes or times out); responses belong to the
 * caller (ctl_resp_close). Errors: int return, 0 or a negative CE_* code
 * (util/err.h), with the message in err.
 */
#ifndef CETCD_CTL_CTL_H
#define CETCD_CTL_CTL_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/err.h"

/* Where and how to connect; filled by each command set's global flags. */
struct ctl_conn {
	char **endpoints;          /* "http://host:port", tried in order */
	size_t nendpoints;
	int64_t dial_timeout_ms;   /* per endpoint connection attempt */
	int64_t command_timeout_ms; /* whole request, 0 = none (watches) */
	const char *auth_token;    /* v3 "Authorization" header, or NULL */
	const char *basic_user;    /* v2 basic auth "user:password", or NULL */
	int debug;                 /* log each request and answer to stderr */
	int64_t header_timeout_ms; /* v2 --timeout: the answer's headers must come
	                            * within this after the request, else the
	                            * next endpoint is tried; 0 = no limit */
};

/* The command timeout expired (util/err.h has no timeout code; CE_AGAIN
 * stands for it here, so callers test for CTL_ETIMEOUT). */
#define CTL_ETIMEOUT CE_AGAIN

/* One answer. */
struct ctl_resp {
	int status;                /* HTTP status */
	struct buf body;
	char *x_etcd_index;        /* v2: X-Etcd-Index header (malloc'd), or NULL */
	char *x_etcd_cluster_id;   /* X-Etcd-Cluster-Id, or NULL */
	const char *endpoint;      /* the endpoint that answered (in conn) */
};

void ctl_resp_init(struct ctl_resp *r);
void ctl_resp_close(struct ctl_resp *r);

/* ctl_http sends method path (with query) and body to the first endpoint
 * that accepts a connection, trying the next one when a connection fails
 * (etcdctl's failover). 0 when some endpoint answered (any status);
 * CE_CLOSED when none could be reached, CTL_ETIMEOUT on the command timeout. */
int ctl_http(const struct ctl_conn *c, const char *method, const char *path, const char *ctype,
	const void *body, size_t len, struct ctl_resp *out, char *err, size_t errlen);

/* ctl_http_lines streams a long answer (watches, keep-alives, observe,
 * snapshots): on_line gets each newline-terminated line of the body as it
 * arrives (without the newline); returning nonzero stops the stream, and
 * that value is returned. 0 when the server ended the stream. */
typedef int (*ctl_line_cb)(const char *line, size_t len, void *arg);
int ctl_http_lines(const struct ctl_conn *c, const char *method, const char *path,
	const char *ctype, const void *body, size_t len, int *status, ctl_line_cb on_line, void *arg,
	char *err, size_t errlen);

/* The two command sets: argv as given to cetcdctl (argv[0] the program). */
int ctl_v2_main(int argc, char **argv);
int ctl_v3_main(int argc, char **argv);

#endif
