/* notify.h - systemd's sd_notify protocol (READY=1, STOPPING=1, STATUS=),
 * spoken directly on $NOTIFY_SOCKET so cetcd needs no libsystemd. */
#ifndef CETCD_SUPERVISOR_NOTIFY_H
#define CETCD_SUPERVISOR_NOTIFY_H

/* notify_send sends one state string; a no-op without NOTIFY_SOCKET. */
int notify_send(const char *state);

#endif
