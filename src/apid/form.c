/* form.c - decode URLs and form bodies. */
#include "config.h"
#include "apid/form.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *url_unescape(const char *s, size_t n, int plus, size_t *out_len, char *err, size_t errlen)
{
	char *out = malloc(n + 1);
	size_t j = 0;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%') {
			int hi = i + 1 < n ? hexval((unsigned char)s[i + 1]) : -1;
			int lo = i + 2 < n ? hexval((unsigned char)s[i + 2]) : -1;
			if (hi < 0 || lo < 0) {
				size_t m = n - i < 3 ? n - i : 3;
				snprintf(err, errlen, "invalid URL escape \"%.*s\"", (int)m, s + i);
				free(out);
				return NULL;
			}
			out[j++] = (char)(hi << 4 | lo);
			i += 2;
		} else if (plus && s[i] == '+') {
			out[j++] = ' ';
		} else {
			out[j++] = s[i];
		}
	}
	out[j] = '\0';
	if (out_len)
		*out_len = j;
	return out;
}

static int form_push(struct form *f, char *k, char *v, size_t vlen)
{
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 8;
		struct form_pair *nv = realloc(f->v, cap * sizeof(*nv));
		if (nv == NULL)
			return -1;
		f->v = nv;
		f->cap = cap;
	}
	f->v[f->n].key = k;
	f->v[f->n].val = v;
	f->v[f->n].val_len = vlen;
	f->n++;
	return 0;
}

int form_parse(struct form *f, const char *s, size_t n, char *err, size_t errlen)
{
	size_t i = 0;

	while (i < n) {
		size_t end = i;
		while (end < n && s[end] != '&' && s[end] != ';')
			end++;
		if (end > i) {
			const char *eq = memchr(s + i, '=', end - i);
			size_t klen = eq ? (size_t)(eq - (s + i)) : end - i;
			size_t vlen;
			char *k = url_unescape(s + i, klen, 1, NULL, err, errlen);
			char *v = k ? url_unescape(eq ? eq + 1 : "", eq ? (size_t)(s + end - eq - 1) : 0,
				1, &vlen, err, errlen) : NULL;
			if (k == NULL || v == NULL || form_push(f, k, v, vlen) != 0) {
				free(k);
				free(v);
				return -1;
			}
		}
		i = end + 1;
	}
	return 0;
}

void form_close(struct form *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->v[i].key);
		free(f->v[i].val);
	}
	free(f->v);
	memset(f, 0, sizeof(*f));
}

const char *form_get(const struct form *f, const char *key, size_t *len)
{
	for (size_t i = 0; i < f->n; i++) {
		if (strcmp(f->v[i].key, key) == 0) {
			if (len)
				*len = f->v[i].val_len;
			return f->v[i].val;
		}
	}
	return NULL;
}

int form_has(const struct form *f, const char *key)
{
	return form_get(f, key, NULL) != NULL;
}
