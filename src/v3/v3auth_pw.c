/* v3auth_pw.c - password hashes as etcd keeps them: bcrypt (etcd uses
 * golang.org/x/crypto/bcrypt at --bcrypt-cost, default 10), here through
 * libxcrypt's "$2b$" method. Hashing happens in the api worker that
 * receives UserAdd/UserChangePassword, so every member stores the same
 * hash (as etcd 3.5 does; etcd 3.4 hashed on each member). */
#include "config.h"
#include "v3/v3auth.h"

#include "util/err.h"

#include <crypt.h>
#include <stdlib.h>
#include <string.h>

/* crypt takes C strings: a password ends at its first NUL byte (bcrypt
 * itself reads at most 72 bytes). */
static char *cstr(const uint8_t *pw, size_t n)
{
	char *s = malloc(n + 1);

	if (s != NULL) {
		memcpy(s, pw, n);
		s[n] = '\0';
	}
	return s;
}

int v3_auth_hash(const uint8_t *pw, size_t pwlen, int cost, char *out, size_t outlen)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *cd;
	char *s, *h;
	int rc = CE_INVAL;

	if (cost < 4 || cost > 31)
		cost = 10;
	if (crypt_gensalt_rn("$2b$", (unsigned long)cost, NULL, 0, salt, sizeof(salt)) == NULL)
		return CE_IO;
	if ((cd = calloc(1, sizeof(*cd))) == NULL || (s = cstr(pw, pwlen)) == NULL) {
		free(cd);
		return CE_NOMEM;
	}
	h = crypt_r(s, salt, cd);
	if (h != NULL && h[0] != '*' && strlen(h) < outlen) {
		memcpy(out, h, strlen(h) + 1);
		rc = 0;
	}
	explicit_bzero(s, pwlen);
	free(s);
	free(cd);
	return rc;
}

int v3_auth_verify(const uint8_t *pw, size_t pwlen, const char *hash)
{
	struct crypt_data *cd;
	char *s, *h;
	int ok = 0;

	if (hash == NULL || hash[0] != '$')
		return 0;
	if ((cd = calloc(1, sizeof(*cd))) == NULL || (s = cstr(pw, pwlen)) == NULL) {
		free(cd);
		return 0;
	}
	h = crypt_r(s, hash, cd);
	ok = h != NULL && h[0] != '*' && strcmp(h, hash) == 0;
	explicit_bzero(s, pwlen);
	free(s);
	free(cd);
	return ok;
}
