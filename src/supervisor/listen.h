/* listen.h - the supervisor binds the client listening sockets before it
 * forks, as nginx's master does: a bind error stops startup with a clear
 * message, every api worker accepts on the same sockets, and a restarted
 * api worker inherits them without a window where the port is closed. */
#ifndef CETCD_SUPERVISOR_LISTEN_H
#define CETCD_SUPERVISOR_LISTEN_H

#include <stddef.h>

struct url_list;

#define LISTEN_MAX_FDS 16

/* listen_urls binds and listens on every URL; returns the number of fds
 * put in fds, or a negative CE_* code with a message. */
int listen_urls(const struct url_list *urls, int *fds, int max, char *err, size_t errlen);

#endif
