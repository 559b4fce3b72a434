/* shm.c - create and check the shared segment; seqlocks. */
#include "config.h"
#include "ipc/shm.h"
#include "util/err.h"
#include "util/clock.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static size_t align64(size_t n)
{
	return (n + 63) & ~(size_t)63;
}

size_t shm_size(uint32_t nslots)
{
	return align64(sizeof(struct shm_header)) + align64(sizeof(struct shm_raft)) +
		align64(sizeof(struct shm_store)) + align64((size_t)nslots * sizeof(struct shm_slot)) +
		sizeof(struct shm_leases);
}

static void shm_map_regions(struct shm *s, void *base)
{
	uint8_t *p = base;
	s->hdr = base;
	s->raft = (struct shm_raft *)(p + s->hdr->raft_off);
	s->store = (struct shm_store *)(p + s->hdr->store_off);
	s->slots = (struct shm_slot *)(p + s->hdr->slots_off);
	s->leases = (struct shm_leases *)(p + s->hdr->leases_off);
}

int shm_create(struct shm *s, uint32_t nslots, char *err, size_t errlen)
{
	size_t size;
	void *base;

	if (nslots == 0 || nslots > SHM_MAX_SLOTS)
		return errf(err, errlen, CE_INVAL, "shm: bad slot count %u", nslots);
	size = shm_size(nslots);
	memset(s, 0, sizeof(*s));
	s->fd = -1;
	base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED)
		return errf(err, errlen, CE_NOMEM, "shm: mmap %zu bytes: %s", size, strerror(errno));
	memset(base, 0, size);
	s->hdr = base;
	s->hdr->magic = SHM_MAGIC;
	s->hdr->version = SHM_LAYOUT_VERSION;
	s->hdr->size = size;
	s->hdr->raft_off = (uint32_t)align64(sizeof(struct shm_header));
	s->hdr->store_off = s->hdr->raft_off + (uint32_t)align64(sizeof(struct shm_raft));
	s->hdr->slots_off = s->hdr->store_off + (uint32_t)align64(sizeof(struct shm_store));
	s->hdr->nslots = nslots;
	s->hdr->leases_off = s->hdr->slots_off + (uint32_t)align64((size_t)nslots * sizeof(struct shm_slot));
	s->hdr->start_time_ns = (uint64_t)clock_wall_ns();
	s->size = size;
	shm_map_regions(s, base);
	return 0;
}

int shm_attach(struct shm *s, void *base, size_t size, char *err, size_t errlen)
{
	const struct shm_header *h = base;

	if (size < sizeof(*h) || h->magic != SHM_MAGIC)
		return errf(err, errlen, CE_CORRUPT, "shm: bad magic");
	if (h->version != SHM_LAYOUT_VERSION)
		return errf(err, errlen, CE_VERSION, "shm: layout version %u, want %u", h->version,
			SHM_LAYOUT_VERSION);
	if (h->size != size || h->slots_off + (uint64_t)h->nslots * sizeof(struct shm_slot) > size ||
		h->leases_off + (uint64_t)sizeof(struct shm_leases) > size)
		return errf(err, errlen, CE_CORRUPT, "shm: size %llu does not match mapping %zu",
			(unsigned long long)h->size, size);
	memset(s, 0, sizeof(*s));
	s->fd = -1;
	s->size = size;
	shm_map_regions(s, base);
	return 0;
}

void shm_destroy(struct shm *s)
{
	if (s->hdr)
		munmap(s->hdr, s->size);
	memset(s, 0, sizeof(*s));
}

void shm_write_begin(uint32_t *seq)
{
	__atomic_store_n(seq, *seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

void shm_write_end(uint32_t *seq)
{
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(seq, *seq + 1, __ATOMIC_RELAXED);
}

void shm_writer_reset(uint32_t *seq)
{
	if (__atomic_load_n(seq, __ATOMIC_RELAXED) & 1u)
		shm_write_end(seq);
}

uint32_t shm_read_begin(const uint32_t *seq)
{
	uint32_t v;
	/* A writer killed mid-update leaves the count odd until its successor
	 * calls shm_writer_reset; spin a bounded time, then read anyway. */
	for (int i = 0; i < 100000; i++) {
		v = __atomic_load_n(seq, __ATOMIC_ACQUIRE);
		if (!(v & 1u))
			return v;
	}
	return v & ~1u;
}

int shm_read_retry(const uint32_t *seq, uint32_t start)
{
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return __atomic_load_n(seq, __ATOMIC_RELAXED) != start;
}

void shm_raft_read(const struct shm *s, struct shm_raft *out)
{
	int tries = 1000;
	uint32_t v;
	do {
		v = shm_read_begin(&s->raft->seq);
		memcpy(out, (const void *)s->raft, sizeof(*out));
	} while (shm_read_retry(&s->raft->seq, v) && --tries > 0);
}

void shm_store_read(const struct shm *s, struct shm_store *out)
{
	int tries = 1000;
	uint32_t v;
	do {
		v = shm_read_begin(&s->store->seq);
		memcpy(out, (const void *)s->store, sizeof(*out));
	} while (shm_read_retry(&s->store->seq, v) && --tries > 0);
}

uint64_t shm_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}
