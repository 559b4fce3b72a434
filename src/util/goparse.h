/* goparse.h - Go's strconv parsing rules where etcd's users meet them:
 * flag and form booleans (strconv.ParseBool) and decimal unsigned numbers
 * (strconv.ParseUint(s, 10, 64)). */
#ifndef CETCD_UTIL_GOPARSE_H
#define CETCD_UTIL_GOPARSE_H

#include <stdbool.h>
#include <stdint.h>

/* go_parse_bool accepts 1 t T TRUE true True / 0 f F FALSE false False.
 * Returns 0, or -1 for anything else. */
int go_parse_bool(const char *s, bool *out);

/* go_parse_u64 parses a non-empty decimal string; -1 on syntax or range. */
int go_parse_u64(const char *s, uint64_t *out);

#endif
