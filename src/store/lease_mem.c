/* lease_mem.c - the storage worker's in-memory lessor: a table of every
 * lease and, on the leader, each lease's deadline on this member's clock,
 * with two timer heaps (expiry notifications, checkpoints). Nothing here is
 * replicated or touches the database; lease.c keeps the table in step with
 * the applied entries. Also etcd's lease id generator.
 */
#include "config.h"
#include "store/lease.h"

#include "store/lease_int.h"

#include <stdlib.h>
#include <string.h>

/* ---- the id table (open addressing, linear probing, backward-shift
 * deletion so no tombstones accumulate) ---- */

static size_t slot_of(int64_t id, size_t nslots)
{
	uint64_t x = (uint64_t)id;

	/* splitmix64's finaliser: ids from idutil differ in their low bits. */
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return (size_t)x & (nslots - 1);
}

struct lease_ent *lease_mem_find(const struct lease *l, int64_t id)
{
	size_t i;

	if (l->nslots == 0)
		return NULL;
	for (i = slot_of(id, l->nslots); l->slots[i]; i = (i + 1) & (l->nslots - 1))
		if (l->slots[i]->id == id)
			return l->slots[i];
	return NULL;
}

static void slot_insert(struct lease_ent **slots, size_t nslots, struct lease_ent *e)
{
	size_t i = slot_of(e->id, nslots);

	while (slots[i])
		i = (i + 1) & (nslots - 1);
	slots[i] = e;
}

static int table_grow(struct lease *l)
{
	size_t n = l->nslots ? l->nslots * 2 : 64, i;
	struct lease_ent **s = calloc(n, sizeof(*s));

	if (s == NULL)
		return -1;
	for (i = 0; i < l->nslots; i++)
		if (l->slots[i])
			slot_insert(s, n, l->slots[i]);
	free(l->slots);
	l->slots = s;
	l->nslots = n;
	return 0;
}

static void slot_remove(struct lease *l, int64_t id)
{
	size_t mask = l->nslots - 1, i = slot_of(id, l->nslots), j;

	while (l->slots[i]->id != id)
		i = (i + 1) & mask;
	l->slots[i] = NULL;
	/* Move later members of the probe run back into the hole when their
	 * home slot does not lie cyclically in (i, j]. */
	for (j = (i + 1) & mask; l->slots[j]; j = (j + 1) & mask) {
		size_t h = slot_of(l->slots[j]->id, l->nslots);
		int keep = i <= j ? (i < h && h <= j) : (i < h || h <= j);

		if (!keep) {
			l->slots[i] = l->slots[j];
			l->slots[j] = NULL;
			i = j;
		}
	}
}

/* ---- timer heaps ---- */

static int ent_less(const struct lease_ent *a, const struct lease_ent *b, int k)
{
	return a->at[k] < b->at[k] || (a->at[k] == b->at[k] && a->id < b->id);
}

static void heap_set(struct lease_heap *h, size_t i, struct lease_ent *e)
{
	h->a[i] = e;
	e->hpos[h->k] = i;
}

static void heap_up(struct lease_heap *h, size_t i)
{
	struct lease_ent *e = h->a[i];

	while (i > 0 && ent_less(e, h->a[(i - 1) / 2], h->k)) {
		heap_set(h, i, h->a[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	heap_set(h, i, e);
}

static void heap_down(struct lease_heap *h, size_t i)
{
	struct lease_ent *e = h->a[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= h->n)
			break;
		if (c + 1 < h->n && ent_less(h->a[c + 1], h->a[c], h->k))
			c++;
		if (!ent_less(h->a[c], e, h->k))
			break;
		heap_set(h, i, h->a[c]);
		i = c;
	}
	heap_set(h, i, e);
}

static void heap_remove(struct lease_heap *h, struct lease_ent *e)
{
	size_t i = e->hpos[h->k];

	if (i == SIZE_MAX)
		return;
	e->hpos[h->k] = SIZE_MAX;
	h->n--;
	if (i == h->n)
		return;
	e = h->a[h->n];
	heap_set(h, i, e);
	heap_up(h, i);
	heap_down(h, e->hpos[h->k]);
}

/* heap_put sets e's time in heap h and inserts or moves it. The heap's
 * capacity always covers every lease (reserved in lease_mem_add), so this
 * cannot fail. */
static void heap_put(struct lease_heap *h, struct lease_ent *e, int64_t at)
{
	e->at[h->k] = at;
	if (e->hpos[h->k] == SIZE_MAX) {
		h->n++;
		heap_set(h, h->n - 1, e);
		heap_up(h, h->n - 1);
		return;
	}
	heap_up(h, e->hpos[h->k]);
	heap_down(h, e->hpos[h->k]);
}

static struct lease_ent *heap_top(const struct lease_heap *h)
{
	return h->n ? h->a[0] : NULL;
}

static int heaps_reserve(struct lease *l, size_t need)
{
	for (int k = 0; k < 2; k++) {
		struct lease_heap *h = &l->heap[k];
		size_t cap = h->cap ? h->cap : 64;
		struct lease_ent **a;

		if (need <= h->cap)
			continue;
		while (cap < need)
			cap *= 2;
		if ((a = realloc(h->a, cap * sizeof(*a))) == NULL)
			return -1;
		h->a = a;
		h->cap = cap;
	}
	return 0;
}

/* ---- entries ---- */

struct lease_ent *lease_mem_add(struct lease *l, int64_t id, int64_t ttl, int64_t remaining)
{
	struct lease_ent *e;

	if ((l->count + 1) * 4 > l->nslots * 3 && table_grow(l) != 0)
		return NULL;
	if (heaps_reserve(l, l->count + 1) != 0 || (e = calloc(1, sizeof(*e))) == NULL)
		return NULL;
	e->id = id;
	e->ttl = ttl;
	e->remaining = remaining;
	e->deadline = LEASE_FOREVER;
	e->at[0] = e->at[1] = LEASE_FOREVER;
	e->hpos[0] = e->hpos[1] = SIZE_MAX;
	slot_insert(l->slots, l->nslots, e);
	l->count++;
	l->gen++;
	return e;
}

void lease_mem_del(struct lease *l, struct lease_ent *e)
{
	heap_remove(&l->heap[LEASE_H_NOTIFY], e);
	heap_remove(&l->heap[LEASE_H_CKPT], e);
	slot_remove(l, e->id);
	l->count--;
	l->gen++;
	free(e);
}

void lease_mem_clear(struct lease *l)
{
	for (size_t i = 0; i < l->nslots; i++)
		free(l->slots[i]);
	free(l->slots);
	l->slots = NULL;
	l->nslots = l->count = 0;
	for (int k = 0; k < 2; k++) {
		free(l->heap[k].a);
		l->heap[k].a = NULL;
		l->heap[k].n = l->heap[k].cap = 0;
	}
	l->primary = 0;
	l->gen++;
}

int lease_exists(const struct lease *l, int64_t id)
{
	return lease_mem_find(l, id) != NULL;
}

size_t lease_count(const struct lease *l)
{
	return l->count;
}

int lease_is_primary(const struct lease *l)
{
	return l->primary;
}

/* ---- leader bookkeeping ---- */

/* ent_remaining is etcd's Lease.RemainingTTL: the checkpointed value when
 * set, else the granted TTL (seconds). */
static int64_t ent_remaining(const struct lease_ent *e)
{
	return e->remaining > 0 ? e->remaining : e->ttl;
}

static int64_t add_sat(int64_t a, int64_t b)
{
	if (b > 0 && a > INT64_MAX - b)
		return INT64_MAX - 1;
	return a + b;
}

/* set_deadline refreshes a lease's expiry and its notification. */
static void set_deadline(struct lease *l, struct lease_ent *e, int64_t deadline)
{
	e->deadline = deadline;
	heap_put(&l->heap[LEASE_H_NOTIFY], e, deadline);
	l->gen++;
}

/* schedule_ckpt is etcd's scheduleCheckpointIfNeeded: only leases with
 * more left than the interval (whole seconds) get one. A lease has one
 * slot, so a new schedule replaces an older one. */
static void schedule_ckpt(struct lease *l, struct lease_ent *e, int64_t now_ms)
{
	if (!l->cfg.checkpointing)
		return;
	if (ent_remaining(e) > l->cfg.checkpoint_ms / 1000)
		heap_put(&l->heap[LEASE_H_CKPT], e, add_sat(now_ms, l->cfg.checkpoint_ms));
}

void lease_mem_on_grant(struct lease *l, struct lease_ent *e, int64_t now_ms)
{
	if (!l->primary)
		return;
	set_deadline(l, e, add_sat(now_ms, ent_remaining(e) * 1000));
	schedule_ckpt(l, e, now_ms);
}

void lease_mem_on_checkpoint(struct lease *l, struct lease_ent *e, int64_t now_ms)
{
	if (l->primary)
		schedule_ckpt(l, e, now_ms);
}

static int cmp_deadline(const void *pa, const void *pb)
{
	const struct lease_ent *a = *(struct lease_ent *const *)pa, *b = *(struct lease_ent *const *)pb;

	if (a->deadline != b->deadline)
		return a->deadline < b->deadline ? -1 : 1;
	return a->id < b->id ? -1 : a->id > b->id;
}

/* spread_expiries is the second half of etcd's Promote: walking leases by
 * time left, once more than 3/4 of the revoke rate would expire within one
 * second of a window's start, later ones are pushed back so that the
 * revokes after a leader change do not pile up. (Skipped when the sort
 * array cannot be allocated: only the spreading is lost.) */
static void spread_expiries(struct lease *l, int64_t now_ms, int64_t extend_ms)
{
	const double target = (3.0 * LEASE_REVOKE_RATE) / 4;
	struct lease_ent **v = malloc(l->count * sizeof(*v));
	size_t i, n = 0;
	int64_t base, next;
	double expires = 0;

	if (v == NULL)
		return;
	for (i = 0; i < l->nslots; i++)
		if (l->slots[i])
			v[n++] = l->slots[i];
	qsort(v, n, sizeof(*v), cmp_deadline);
	base = v[0]->deadline - now_ms;
	next = base + 1000;
	for (i = 0; i < n; i++) {
		int64_t left = v[i]->deadline - now_ms, delay;

		if (left > next) {
			base = left;
			next = base + 1000;
			expires = 1;
			continue;
		}
		if (++expires <= target)
			continue;
		delay = (int64_t)(1000.0 * (expires / target) - (double)(left - base));
		next = base + delay;
		set_deadline(l, v[i], add_sat(now_ms, delay + extend_ms + ent_remaining(v[i]) * 1000));
		schedule_ckpt(l, v[i], now_ms);
	}
	free(v);
}

void lease_promote(struct lease *l, int64_t now_ms, int64_t extend_ms)
{
	l->primary = 1;
	for (size_t i = 0; i < l->nslots; i++) {
		struct lease_ent *e = l->slots[i];

		if (e == NULL)
			continue;
		set_deadline(l, e, add_sat(now_ms, extend_ms + ent_remaining(e) * 1000));
		schedule_ckpt(l, e, now_ms);
	}
	if (l->count >= LEASE_REVOKE_RATE)
		spread_expiries(l, now_ms, extend_ms);
}

void lease_demote(struct lease *l)
{
	for (size_t i = 0; i < l->nslots; i++) {
		struct lease_ent *e = l->slots[i];

		if (e == NULL)
			continue;
		e->deadline = e->at[0] = e->at[1] = LEASE_FOREVER;
		e->hpos[0] = e->hpos[1] = SIZE_MAX;
	}
	l->heap[0].n = l->heap[1].n = 0;
	l->primary = 0;
	l->gen++;
}

int lease_renew(struct lease *l, int64_t id, int64_t now_ms, int64_t *ttl, int *clear)
{
	struct lease_ent *e;

	*ttl = -1;
	if (clear)
		*clear = 0;
	if (!l->primary)
		return LEASE_ERR_NOT_PRIMARY;
	if ((e = lease_mem_find(l, id)) == NULL)
		return LEASE_ERR_NOT_FOUND;
	if (e->deadline <= now_ms)
		return LEASE_ERR_EXPIRED;
	if (clear && l->cfg.checkpointing && e->remaining > 0)
		*clear = 1;
	/* The full TTL, not a stale checkpoint: etcd applies the clearing
	 * checkpoint before it refreshes. */
	set_deadline(l, e, add_sat(now_ms, e->ttl * 1000));
	*ttl = e->ttl;
	return 0;
}

size_t lease_expired(struct lease *l, int64_t now_ms, int64_t *ids, size_t max)
{
	struct lease_heap *h = &l->heap[LEASE_H_NOTIFY];
	struct lease_ent *e;
	size_t n = 0;

	if (!l->primary)
		return 0;
	while (n < max && (e = heap_top(h)) != NULL && e->at[LEASE_H_NOTIFY] <= now_ms) {
		if (e->deadline > now_ms) { /* renewed since: wait for the new deadline */
			heap_put(h, e, e->deadline);
			continue;
		}
		ids[n++] = e->id;
		heap_put(h, e, add_sat(now_ms, l->cfg.retry_ms));
	}
	return n;
}

size_t lease_checkpoints_due(struct lease *l, int64_t now_ms, struct lease_ckpt *out, size_t max)
{
	struct lease_heap *h = &l->heap[LEASE_H_CKPT];
	struct lease_ent *e;
	size_t n = 0;

	if (!l->primary || !l->cfg.checkpointing)
		return 0;
	while (n < max && (e = heap_top(h)) != NULL && e->at[LEASE_H_CKPT] <= now_ms) {
		int64_t left;

		heap_remove(h, e);
		e->at[LEASE_H_CKPT] = LEASE_FOREVER;
		if (e->deadline <= now_ms)
			continue; /* expired: its revoke is coming */
		left = (e->deadline - now_ms + 999) / 1000;
		if (left >= e->ttl)
			continue;
		out[n].id = e->id;
		out[n].remaining_ttl = left;
		n++;
	}
	return n;
}

int64_t lease_next_wakeup(const struct lease *l)
{
	int64_t t = LEASE_FOREVER;

	if (!l->primary)
		return t;
	for (int k = 0; k < 2; k++) {
		const struct lease_ent *e = heap_top(&l->heap[k]);

		if (e && e->at[k] < t && (k == LEASE_H_NOTIFY || l->cfg.checkpointing))
			t = e->at[k];
	}
	return t;
}

/* ---- TimeToLive and the exported deadlines ---- */

int64_t lease_ttl_left(int64_t deadline_ms, int64_t now_ms)
{
	if (deadline_ms == LEASE_FOREVER)
		return INT64_MAX / 1000000000; /* Go: int64(MaxInt64 duration .Seconds()) */
	return (deadline_ms - now_ms) / 1000; /* truncates toward zero, as Go's int64() */
}

int lease_time_to_live(const struct lease *l, int64_t id, int64_t now_ms, struct lease_status *st)
{
	const struct lease_ent *e = lease_mem_find(l, id);

	memset(st, 0, sizeof(*st));
	if (e == NULL)
		return LEASE_ERR_NOT_FOUND;
	st->id = id;
	st->granted_ttl = e->ttl;
	st->remaining_ttl = e->remaining;
	st->deadline_ms = e->deadline;
	st->ttl = lease_ttl_left(e->deadline, now_ms);
	return 0;
}

static int cmp_expiry(const void *pa, const void *pb)
{
	const struct lease_expiry *a = pa, *b = pb;

	return a->id < b->id ? -1 : a->id > b->id;
}

size_t lease_expiry_dump(const struct lease *l, struct lease_expiry *out, size_t max)
{
	size_t n = 0;

	if (l->count > max)
		return l->count;
	for (size_t i = 0; i < l->nslots; i++) {
		if (l->slots[i] == NULL)
			continue;
		out[n].id = l->slots[i]->id;
		out[n].deadline_ms = l->slots[i]->deadline;
		n++;
	}
	qsort(out, n, sizeof(*out), cmp_expiry);
	return n;
}

uint64_t lease_expiry_gen(const struct lease *l)
{
	return l->gen;
}

const struct lease_expiry *lease_expiry_find(const struct lease_expiry *tab, size_t n, int64_t id)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (tab[mid].id == id)
			return &tab[mid];
		if (tab[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* ---- ids (etcd's pkg/idutil) ---- */

#define IDGEN_TS_BITS 40
#define IDGEN_CNT_BITS 8
#define IDGEN_SUFFIX_BITS (IDGEN_TS_BITS + IDGEN_CNT_BITS)

static uint64_t low_bits(uint64_t x, unsigned n)
{
	return x & (UINT64_MAX >> (64 - n));
}

void lease_idgen_init(struct lease_idgen *g, uint64_t member_id, int64_t unix_ms)
{
	g->prefix = (uint64_t)(uint16_t)member_id << IDGEN_SUFFIX_BITS;
	g->suffix = low_bits((uint64_t)unix_ms, IDGEN_TS_BITS) << IDGEN_CNT_BITS;
}

int64_t lease_idgen_next(struct lease_idgen *g)
{
	uint64_t id;

	do {
		uint64_t s = __atomic_add_fetch(&g->suffix, 1, __ATOMIC_RELAXED);

		id = (g->prefix | low_bits(s, IDGEN_SUFFIX_BITS)) & (UINT64_MAX >> 1);
	} while (id == 0);
	return (int64_t)id;
}
