/* log.c - the raft core's in-memory log (§5.3) and reference-counted entry
 * data. Entries live after the last compaction point (§7); the stable mark
 * tells which ones the driver has made durable. */
#include "config.h"
#include "raft/raft_impl.h"
#include "util/err.h"

#include <stdlib.h>
#include <string.h>

struct blob {
	size_t refs;
	_Alignas(max_align_t) unsigned char bytes[];
};

static struct blob *blob_of(void *data)
{
	return (struct blob *)((unsigned char *)data - offsetof(struct blob, bytes));
}

void *raft_blob_new(const void *data, size_t len)
{
	struct blob *b = malloc(sizeof(*b) + (len ? len : 1));
	if (b == NULL)
		return NULL;
	b->refs = 1;
	if (len)
		memcpy(b->bytes, data, len);
	return b->bytes;
}

void *raft_blob_ref(void *data)
{
	if (data)
		blob_of(data)->refs++;
	return data;
}

void raft_blob_unref(void *data)
{
	struct blob *b;
	if (data == NULL)
		return;
	b = blob_of(data);
	if (--b->refs == 0)
		free(b);
}

void log_init(struct raft_log *l)
{
	memset(l, 0, sizeof(*l));
}

void log_close(struct raft_log *l)
{
	for (size_t i = 0; i < l->n; i++)
		raft_blob_unref(l->ents[i].data);
	free(l->ents);
	memset(l, 0, sizeof(*l));
}

uint64_t log_last_index(const struct raft_log *l)
{
	return l->snap_index + l->n;
}

uint64_t log_last_term(const struct raft_log *l)
{
	return l->n ? l->ents[l->n - 1].term : l->snap_term;
}

struct raft_entry *log_at(const struct raft_log *l, uint64_t index)
{
	if (index <= l->snap_index || index > log_last_index(l))
		return NULL;
	return &l->ents[index - l->snap_index - 1];
}

uint64_t log_term(const struct raft_log *l, uint64_t index, int *ok)
{
	const struct raft_entry *e;
	*ok = 1;
	if (index == l->snap_index)
		return l->snap_term;
	e = log_at(l, index);
	if (e == NULL) {
		*ok = 0;
		return 0;
	}
	return e->term;
}

int log_match_term(const struct raft_log *l, uint64_t index, uint64_t term)
{
	int ok;
	uint64_t t = log_term(l, index, &ok);
	return ok && t == term;
}

int log_append(struct raft_log *l, uint64_t term, uint8_t type,
	const void *data, size_t len)
{
	struct raft_entry *e;
	void *copy = NULL;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct raft_entry *p = realloc(l->ents, cap * sizeof(*p));
		if (p == NULL)
			return CE_NOMEM;
		l->ents = p;
		l->cap = cap;
	}
	if (len) {
		copy = raft_blob_new(data, len);
		if (copy == NULL)
			return CE_NOMEM;
	}
	e = &l->ents[l->n++];
	e->index = log_last_index(l);
	e->term = term;
	e->type = type;
	e->data = copy;
	e->len = len;
	return 0;
}

void log_truncate(struct raft_log *l, uint64_t index)
{
	if (index <= l->snap_index)
		index = l->snap_index + 1;
	while (log_last_index(l) >= index && l->n > 0) {
		l->n--;
		raft_blob_unref(l->ents[l->n].data);
	}
	/* Entries at or after index must be written again. */
	if (l->stable >= index)
		l->stable = index - 1;
}

void log_compact(struct raft_log *l, uint64_t index)
{
	size_t drop;
	if (index <= l->snap_index || index > log_last_index(l))
		return;
	drop = (size_t)(index - l->snap_index);
	l->snap_term = l->ents[drop - 1].term;
	for (size_t i = 0; i < drop; i++)
		raft_blob_unref(l->ents[i].data);
	memmove(l->ents, l->ents + drop, (l->n - drop) * sizeof(*l->ents));
	l->n -= drop;
	l->snap_index = index;
}

void log_reset(struct raft_log *l, uint64_t index, uint64_t term)
{
	for (size_t i = 0; i < l->n; i++)
		raft_blob_unref(l->ents[i].data);
	l->n = 0;
	l->snap_index = index;
	l->snap_term = term;
	l->stable = index;
	l->committed = index;
	l->applied = index;
}

int log_up_to_date(const struct raft_log *l, uint64_t last_index, uint64_t last_term)
{
	uint64_t t = log_last_term(l);
	return last_term > t || (last_term == t && last_index >= log_last_index(l));
}

uint64_t log_conflict_hint(const struct raft_log *l, uint64_t index, uint64_t term)
{
	uint64_t last = log_last_index(l);
	if (index > last)
		index = last;
	for (;;) {
		int ok;
		uint64_t t = log_term(l, index, &ok);
		if (!ok || t <= term)
			return index;
		index--;
	}
}
