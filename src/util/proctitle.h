/* proctitle.h - set the process title `ps` shows (e.g. "cetcd: raft worker").
 *
 * Workers are forked without exec, so the title is written over the
 * original argv area (environ is moved out of the way first), and the
 * kernel's comm name is set with prctl(PR_SET_NAME).
 */
#ifndef CETCD_UTIL_PROCTITLE_H
#define CETCD_UTIL_PROCTITLE_H

/* proctitle_init must run first thing in main: it copies argv strings and
 * environ to the heap and returns the new argv (use it instead of argv). */
char **proctitle_init(int argc, char **argv);
void proctitle_set(const char *title);

#endif
