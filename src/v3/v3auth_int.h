/* v3auth_int.h - shared by src/v3/v3auth*.c (not a public API). */
#ifndef CETCD_V3_V3AUTH_INT_H
#define CETCD_V3_V3AUTH_INT_H

#include <stddef.h>
#include <stdint.h>

#include <db.h>

#include "util/buf.h"

/* Meta-table keys (see v3auth.h). */
#define V3AUTH_KEY_ENABLED "v3auth/enabled"
#define V3AUTH_KEY_REV "v3auth/rev"
#define V3AUTH_USER "v3auth/user/"
#define V3AUTH_ROLE "v3auth/role/"
#define V3AUTH_ROOT "root"

/* authpb field numbers (api/authpb/auth.proto). */
enum {
	AU_NAME = 1, AU_PASSWORD = 2, AU_ROLES = 3, AU_OPTIONS = 4, AU_OPT_NO_PASSWORD = 1,
	AR_NAME = 1, AR_PERMS = 2,
	AP_TYPE = 1, AP_KEY = 2, AP_END = 3,
};

/* A list of byte strings pointing into someone else's bytes. */
struct v3auth_str {
	const uint8_t *p;
	size_t n;
};
struct v3auth_strs {
	size_t n, cap;
	struct v3auth_str *v;
};
int v3auth_strs_add(struct v3auth_strs *s, size_t at, const uint8_t *p, size_t n);
void v3auth_strs_free(struct v3auth_strs *s);
/* v3auth_strs_of: every occurrence of field in msg (repeated strings or
 * submessages). 0 or CE_CORRUPT/CE_NOMEM. */
int v3auth_strs_of(const uint8_t *msg, size_t len, uint32_t field, struct v3auth_strs *s);

int v3auth_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl);

/* v3auth_get reads record kind (V3AUTH_USER/V3AUTH_ROLE) name into val
 * (replacing its content); *found = 0 when absent. 0 or CE_*. */
int v3auth_get(DB *meta, DB_TXN *txn, const char *kind, const uint8_t *name, size_t nl,
	struct buf *val, int *found);

#endif
