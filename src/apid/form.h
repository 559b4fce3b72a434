/* form.h - URL decoding and form values with Go's net/http semantics:
 * body values (application/x-www-form-urlencoded PUT/POST/PATCH) come
 * before query values, the first value of a key wins, and a bad escape is
 * an error with Go's message ("invalid URL escape \"%zz\""). */
#ifndef CETCD_APID_FORM_H
#define CETCD_APID_FORM_H

#include <stddef.h>

struct form_pair {
	char *key;
	char *val;
	size_t val_len;
};

struct form {
	struct form_pair *v;
	size_t n, cap;
};

/* url_unescape decodes %XX (and '+' as space when plus != 0) from s[0..n)
 * into a new NUL-terminated string; *out_len gets its length. Returns NULL
 * on a bad escape, writing Go's message to err. */
char *url_unescape(const char *s, size_t n, int plus, size_t *out_len, char *err, size_t errlen);

/* form_parse adds the pairs of one "a=1&b=2" string. 0, or -1 with err. */
int form_parse(struct form *f, const char *s, size_t n, char *err, size_t errlen);
void form_close(struct form *f);

/* form_get: the first value of key, or NULL if absent. */
const char *form_get(const struct form *f, const char *key, size_t *len);
int form_has(const struct form *f, const char *key);

#endif
