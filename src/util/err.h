/* err.h - cetcd's library error codes and their strings, from one list.
 *
 * Library functions return 0 or a negative CE_* code and put context in a
 * caller-supplied message buffer (see errf()).
 */
#ifndef CETCD_UTIL_ERR_H
#define CETCD_UTIL_ERR_H

#include <stddef.h>

#define CE_ERRORS(X)                                              \
	X(CE_OK, 0, "ok")                                             \
	X(CE_NOMEM, -1, "out of memory")                              \
	X(CE_IO, -2, "i/o error")                                     \
	X(CE_CORRUPT, -3, "corrupt data")                             \
	X(CE_INVAL, -4, "invalid argument")                           \
	X(CE_NOTFOUND, -5, "not found")                               \
	X(CE_EXISTS, -6, "already exists")                            \
	X(CE_TOOBIG, -7, "too big")                                   \
	X(CE_AGAIN, -8, "try again")                                  \
	X(CE_CLOSED, -9, "closed")                                    \
	X(CE_DB, -10, "database error")                               \
	X(CE_VERSION, -11, "unsupported version")                     \
	X(CE_LOCKED, -12, "locked by another process")                \
	X(CE_GONE, -13, "permanently removed")

enum ce_err {
#define CE_ENUM(name, val, str) name = val,
	CE_ERRORS(CE_ENUM)
#undef CE_ENUM
};

/* ce_strerror returns the fixed string for a CE_* code. */
const char *ce_strerror(int code);

/* errf formats a message into buf (if buf is not NULL) and returns code,
 * so a caller can write: return errf(err, errlen, CE_IO, "open %s: %m", p); */
int errf(char *buf, size_t len, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* errwrap prefixes an existing message in buf: "ctx: old". Returns code. */
int errwrap(char *buf, size_t len, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
