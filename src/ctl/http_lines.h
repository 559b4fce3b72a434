/* http_lines.h - cuts a streamed HTTP body into lines as its pieces
 * arrive (watches, keep-alives): a line may span any number of pieces.
 *
 * Ownership: struct ctl_lines is caller-owned (_init/_close); it keeps
 * the unfinished tail of the stream until its newline arrives.
 */
#ifndef CETCD_CTL_HTTP_LINES_H
#define CETCD_CTL_HTTP_LINES_H

#include <stddef.h>

#include "util/buf.h"

struct ctl_lines {
	struct buf pend; /* bytes after the last newline seen */
};

/* emit gets each line without its newline (a trailing "\r" is kept);
 * a nonzero return stops the feed and is returned by it. */
typedef int (*ctl_lines_emit_cb)(const char *line, size_t len, void *arg);

void ctl_lines_init(struct ctl_lines *l);
void ctl_lines_close(struct ctl_lines *l); /* may be called again */

/* ctl_lines_feed splits p[0..n) together with what was pending. Returns 0,
 * emit's nonzero value, or CE_NOMEM. */
int ctl_lines_feed(struct ctl_lines *l, const void *p, size_t n, ctl_lines_emit_cb emit,
	void *arg);

/* ctl_lines_finish hands over a last line that had no newline (the
 * stream ended), if there is one. Returns 0 or emit's value. */
int ctl_lines_finish(struct ctl_lines *l, ctl_lines_emit_cb emit, void *arg);

#endif
