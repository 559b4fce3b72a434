/* http_lines.c - a streamed body cut into lines (http_lines.h). */
#include "config.h"
#include "ctl/http_lines.h"

#include <string.h>

#include "util/err.h"

void ctl_lines_init(struct ctl_lines *l)
{
	buf_init(&l->pend);
}

void ctl_lines_close(struct ctl_lines *l)
{
	buf_close(&l->pend);
}

int ctl_lines_feed(struct ctl_lines *l, const void *p, size_t n, ctl_lines_emit_cb emit,
	void *arg)
{
	const char *s = p, *end = s + n;

	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		int rc;

		if (nl == NULL) { /* keep the unfinished tail for the next piece */
			buf_put(&l->pend, s, (size_t)(end - s));
			return l->pend.oom ? CE_NOMEM : 0;
		}
		if (l->pend.len > 0) {
			buf_put(&l->pend, s, (size_t)(nl - s));
			if (l->pend.oom)
				return CE_NOMEM;
			rc = emit((const char *)l->pend.data, l->pend.len, arg);
			buf_reset(&l->pend);
		} else {
			rc = emit(s, (size_t)(nl - s), arg);
		}
		if (rc != 0)
			return rc;
		s = nl + 1;
	}
	return 0;
}

int ctl_lines_finish(struct ctl_lines *l, ctl_lines_emit_cb emit, void *arg)
{
	int rc = 0;

	if (l->pend.len > 0)
		rc = emit((const char *)l->pend.data, l->pend.len, arg);
	buf_reset(&l->pend);
	return rc;
}
