/* clock.h - the wall clock, in the unit etcd's v2 requests carry (unix ns).
 * Monotonic time for timeouts and heartbeats is shm_now_ms (ipc/shm.h). */
#ifndef CETCD_UTIL_CLOCK_H
#define CETCD_UTIL_CLOCK_H

#include <stdint.h>

/* clock_wall_ns: CLOCK_REALTIME as nanoseconds since the epoch. */
int64_t clock_wall_ns(void);

#endif
