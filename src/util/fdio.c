/* fdio.c - whole writes to a file descriptor (see fdio.h). */
#include "config.h"
#include "util/fdio.h"

#include <errno.h>
#include <unistd.h>

int fd_write_all(int fd, const void *p, size_t n)
{
	const char *b = p;
	size_t done = 0;

	while (done < n) {
		ssize_t k = write(fd, b + done, n - done);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return errno;
		done += (size_t)k;
	}
	return 0;
}
