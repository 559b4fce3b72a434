/* log.h - the one leveled logger. Every line carries time, level, role and
 * pid. The level is checked before any formatting happens.
 *
 * Output goes to stderr by default, or to files named by --log-outputs
 * (etcd's "stderr", "stdout", or a path). log_reopen() reopens files (SIGHUP).
 */
#ifndef CETCD_UTIL_LOG_H
#define CETCD_UTIL_LOG_H

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR, LOG_FATAL };

extern int log_min_level;

/* log_parse_level maps etcd's names (debug, info, warn, error, panic,
 * fatal) to a level; returns -1 for an unknown name. */
int log_parse_level(const char *name);

/* log_set_role names the process on every line ("supervisor", "raft"...). */
void log_set_role(const char *role);

/* log_set_outputs takes a comma-separated list as --log-outputs does.
 * Returns 0, or -1 with a message in err when a file cannot be opened. */
int log_set_outputs(const char *outputs, char *err, unsigned errlen);

/* log_reopen reopens file outputs (after logrotate moved them). */
void log_reopen(void);

void log_write(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define LOG_AT(lvl, ...)                          \
	do {                                          \
		if ((lvl) >= log_min_level)               \
			log_write((lvl), __VA_ARGS__);        \
	} while (0)
#define log_debug(...) LOG_AT(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) LOG_AT(LOG_INFO, __VA_ARGS__)
#define log_warn(...) LOG_AT(LOG_WARN, __VA_ARGS__)
#define log_error(...) LOG_AT(LOG_ERROR, __VA_ARGS__)

#endif
