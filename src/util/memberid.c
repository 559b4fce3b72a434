/* memberid.c - derive member and cluster IDs as etcd does. */
#include "config.h"
#include "util/memberid.h"
#include "util/buf.h"
#include "util/sha1.h"

#include <stdlib.h>
#include <string.h>

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static uint64_t be64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

uint64_t member_id_compute(const char *const *peer_urls, size_t n, const char *token)
{
	const char **sorted = calloc(n ? n : 1, sizeof(*sorted));
	struct buf b;
	uint8_t h[20];

	if (sorted == NULL)
		return 0;
	memcpy(sorted, peer_urls, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), cmp_str);
	buf_init(&b);
	for (size_t i = 0; i < n; i++)
		buf_put(&b, sorted[i], strlen(sorted[i]));
	buf_put(&b, token, strlen(token));
	sha1(b.data ? b.data : (const uint8_t *)"", b.len, h);
	buf_close(&b);
	free(sorted);
	return be64(h);
}

uint64_t cluster_id_compute(const uint64_t *member_ids, size_t n)
{
	uint64_t *ids = calloc(n ? n : 1, sizeof(*ids));
	uint8_t *raw = calloc(n ? n : 1, 8);
	uint8_t h[20];

	if (ids == NULL || raw == NULL) {
		free(ids);
		free(raw);
		return 0;
	}
	memcpy(ids, member_ids, n * sizeof(*ids));
	qsort(ids, n, sizeof(*ids), cmp_u64);
	for (size_t i = 0; i < n; i++)
		for (int j = 0; j < 8; j++)
			raw[i * 8 + (size_t)j] = (uint8_t)(ids[i] >> (56 - 8 * j));
	sha1(raw, n * 8, h);
	free(ids);
	free(raw);
	return be64(h);
}
