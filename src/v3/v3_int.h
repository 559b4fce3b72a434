/* v3_int.h - shared by src/v3's files (not a public API). */
#ifndef CETCD_V3_V3_INT_H
#define CETCD_V3_V3_INT_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

struct v3_ctx;

/* v3_fail sets etcd's gRPC error and returns 0 (the request failed, the
 * server did not). */
int v3_fail(int *code, char *msg, size_t msglen, int c, const char *text);
/* v3_put_header writes the ResponseHeader (field 1); a nested response
 * (full = 0) carries only the revision, as etcd's. */
void v3_put_header(struct buf *b, const struct v3_ctx *c, int64_t rev, int full);

/* v3_note_events records, after a write transaction ended at rev, whether
 * it produced watch events (c->events_rev). */
void v3_note_events(struct v3_ctx *c, int64_t rev);

/* v3lease.c */
int v3_lease_grant(struct v3_ctx *c, const uint8_t *p, size_t n, struct buf *out, int *code,
	char *msg, size_t msglen);
int v3_lease_revoke(struct v3_ctx *c, const uint8_t *p, size_t n, struct buf *out, int *code,
	char *msg, size_t msglen);
int v3_lease_checkpoint(struct v3_ctx *c, const uint8_t *p, size_t n, struct buf *out, int *code,
	char *msg, size_t msglen);
int v3_lease_keepalive(struct v3_ctx *c, const uint8_t *p, size_t n, struct buf *out, int *code,
	char *msg, size_t msglen);
int v3_lease_read(struct v3_ctx *c, int method, const uint8_t *p, size_t n, struct buf *out,
	int *code, char *msg, size_t msglen);

#endif
