/* authtok.c - the member's simple-token table on a shared mapping (see
 * authtok.h for why it lives there and who writes what). */
#include "config.h"
#include "store/authtok.h"

#include "util/err.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define AUTHTOK_MAP_SIZE (sizeof(struct authtok_slot) * AUTHTOK_SLOTS)

struct authtok {
	struct authtok_slot *slots;
	int writer;
};

int authtok_open(struct authtok **out, const char *path, int writer, char *err, size_t errlen)
{
	struct authtok *t;
	struct stat st;
	void *map;
	int fd;

	*out = NULL;
	if (writer)
		unlink(path); /* a fresh, empty table: tokens do not outlive a restart */
	fd = open(path, writer ? O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC : O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0)
		return errf(err, errlen, errno == ENOENT ? CE_NOTFOUND : CE_IO, "open %s: %m", path);
	if (writer && ftruncate(fd, (off_t)AUTHTOK_MAP_SIZE) != 0) {
		close(fd);
		return errf(err, errlen, CE_IO, "size %s: %m", path);
	}
	if (fstat(fd, &st) != 0 || (size_t)st.st_size < AUTHTOK_MAP_SIZE) {
		close(fd);
		return errf(err, errlen, CE_AGAIN, "%s: not sized yet", path);
	}
	map = mmap(NULL, AUTHTOK_MAP_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return errf(err, errlen, CE_IO, "map %s: %m", path);
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		munmap(map, AUTHTOK_MAP_SIZE);
		return errf(err, errlen, CE_NOMEM, "out of memory");
	}
	t->slots = map;
	t->writer = writer;
	*out = t;
	return 0;
}

void authtok_free(struct authtok *t)
{
	if (t == NULL)
		return;
	munmap(t->slots, AUTHTOK_MAP_SIZE);
	free(t);
}

/* FNV-1a: where a token's probe sequence starts. */
static uint32_t tok_hash(const char *s, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)s[i]) * 16777619u;
	return h;
}

static void slot_write_begin(struct authtok_slot *s)
{
	__atomic_store_n(&s->seq, s->seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static void slot_write_end(struct authtok_slot *s)
{
	__atomic_store_n(&s->seq, s->seq + 1, __ATOMIC_RELEASE);
}

static int live(const struct authtok_slot *s, int64_t now_ms, int64_t ttl_ms)
{
	return s->used && now_ms - __atomic_load_n(&s->last_use_ms, __ATOMIC_RELAXED) < ttl_ms;
}

int authtok_add(struct authtok *t, const char *token, const char *user, int64_t now_ms,
	int64_t ttl_ms)
{
	size_t tl = strlen(token), ul = strlen(user);
	uint32_t h = tok_hash(token, tl);
	struct authtok_slot *pick = NULL;

	if (tl >= AUTHTOK_TOKEN_MAX || ul >= AUTHTOK_USER_MAX || !t->writer)
		return CE_INVAL;
	/* The probe run of a token is the whole table in order, so lookups
	 * stop at the first free slot only if adds never leave holes: they
	 * take the first free or expired slot, and lookups scan to a free
	 * one. */
	for (uint32_t i = 0; i < AUTHTOK_SLOTS; i++) {
		struct authtok_slot *s = &t->slots[(h + i) % AUTHTOK_SLOTS];
		if (!live(s, now_ms, ttl_ms)) {
			pick = s;
			break;
		}
		if (pick == NULL || s->last_use_ms < pick->last_use_ms)
			pick = s;
	}
	slot_write_begin(pick);
	memset(pick->token, 0, sizeof(pick->token));
	memcpy(pick->token, token, tl);
	memset(pick->user, 0, sizeof(pick->user));
	memcpy(pick->user, user, ul);
	__atomic_store_n(&pick->last_use_ms, now_ms, __ATOMIC_RELAXED);
	pick->used = 1;
	slot_write_end(pick);
	return 0;
}

/* read_slot copies a consistent view of slot s; 0 when it is free. */
static int read_slot(struct authtok_slot *s, char *token, char *user)
{
	for (int tries = 0; tries < 1000; tries++) {
		uint32_t v = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);
		int used;
		if (v & 1)
			continue;
		used = (int)s->used;
		memcpy(token, s->token, AUTHTOK_TOKEN_MAX);
		memcpy(user, s->user, AUTHTOK_USER_MAX);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&s->seq, __ATOMIC_RELAXED) == v) {
			token[AUTHTOK_TOKEN_MAX - 1] = '\0';
			user[AUTHTOK_USER_MAX - 1] = '\0';
			return used;
		}
	}
	return 0;
}

int authtok_lookup(struct authtok *t, const char *token, size_t tlen, int64_t now_ms,
	int64_t ttl_ms, char *user, size_t userlen)
{
	char tk[AUTHTOK_TOKEN_MAX], us[AUTHTOK_USER_MAX];
	uint32_t h = tok_hash(token, tlen);

	if (t == NULL || tlen == 0 || tlen >= AUTHTOK_TOKEN_MAX)
		return 0;
	for (uint32_t i = 0; i < AUTHTOK_SLOTS; i++) {
		struct authtok_slot *s = &t->slots[(h + i) % AUTHTOK_SLOTS];
		if (!read_slot(s, tk, us))
			return 0; /* a free slot ends the probe run */
		if (strlen(tk) != tlen || memcmp(tk, token, tlen) != 0)
			continue;
		if (!live(s, now_ms, ttl_ms) || strlen(us) >= userlen)
			return 0;
		__atomic_store_n(&s->last_use_ms, now_ms, __ATOMIC_RELAXED);
		memcpy(user, us, strlen(us) + 1);
		return 1;
	}
	return 0;
}

void authtok_drop_user(struct authtok *t, const char *user)
{
	if (t == NULL || !t->writer)
		return;
	/* Dropped slots stay "used" with an expired time so that probe runs
	 * through them go on (they are reused by the next add). */
	for (uint32_t i = 0; i < AUTHTOK_SLOTS; i++) {
		struct authtok_slot *s = &t->slots[i];
		if (!s->used || (user != NULL && strcmp(s->user, user) != 0))
			continue;
		slot_write_begin(s);
		memset(s->token, 0, sizeof(s->token));
		__atomic_store_n(&s->last_use_ms, INT64_MIN / 2, __ATOMIC_RELAXED);
		slot_write_end(s);
	}
}
