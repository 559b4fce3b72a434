/* lease_int.h - internals shared by lease.c (databases) and lease_mem.c
 * (the writer's in-memory table of leases and their local deadlines). */
#ifndef CETCD_STORE_LEASE_INT_H
#define CETCD_STORE_LEASE_INT_H

#include "store/lease.h"

#include <stdint.h>

/* The two timer heaps of the writer. */
enum { LEASE_H_NOTIFY = 0, LEASE_H_CKPT = 1 };

/* One lease in the writer's memory. deadline is LEASE_FOREVER unless this
 * member is primary. at[LEASE_H_NOTIFY] is when lease_expired looks at it
 * (the deadline, or a retry time once reported); at[LEASE_H_CKPT] its next
 * checkpoint. hpos[] is the index in each heap, SIZE_MAX when absent. */
struct lease_ent {
	int64_t id;
	int64_t ttl;
	int64_t remaining;
	int64_t deadline;
	int64_t at[2];
	size_t hpos[2];
};

/* A binary min-heap on (at[k], id) that knows each entry's position, so
 * entries can be moved or removed in O(log n). */
struct lease_heap {
	struct lease_ent **a;
	size_t n, cap;
	int k;
};

struct lease {
	DB_ENV *env;
	int writer;
	struct lease_cfg cfg;
	DB *rec;  /* lease.db */
	DB *keys; /* lease_keys.db */
	/* writer only: open-addressing table id -> entry */
	struct lease_ent **slots;
	size_t nslots, count;
	struct lease_heap heap[2];
	int primary;
	uint64_t gen;
	struct buf kbuf; /* scratch: an encoded lease_keys.db key */
};

/* The on-disk lease.db value: u64 LE ttl, i64 LE remaining TTL. Readers
 * accept longer values (later fields). */
struct lease_rec {
	int64_t ttl;
	int64_t remaining;
};
_Static_assert(sizeof(struct lease_rec) == 16, "lease.db record layout");

/* lease_mem.c */
struct lease_ent *lease_mem_find(const struct lease *l, int64_t id);
/* lease_mem_add inserts a new lease (not primary-aware; see on_grant). NULL
 * on out of memory. */
struct lease_ent *lease_mem_add(struct lease *l, int64_t id, int64_t ttl, int64_t remaining);
void lease_mem_del(struct lease *l, struct lease_ent *e);
void lease_mem_clear(struct lease *l);
/* Leader-side bookkeeping after an apply. */
void lease_mem_on_grant(struct lease *l, struct lease_ent *e, int64_t now_ms);
void lease_mem_on_checkpoint(struct lease *l, struct lease_ent *e, int64_t now_ms);

#endif
