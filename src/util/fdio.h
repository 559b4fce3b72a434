/* fdio.h - whole writes to a file descriptor. */
#ifndef CETCD_UTIL_FDIO_H
#define CETCD_UTIL_FDIO_H

#include <stddef.h>

/* fd_write_all writes all n bytes at p, retrying short writes and EINTR.
 * Returns 0, or the errno of the failing write(2). */
int fd_write_all(int fd, const void *p, size_t n);

#endif
