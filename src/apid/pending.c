/* pending.c - requests waiting for the cluster, by request id, each with a
 * deadline after which the client gets etcd's timeout error. */
#include "config.h"
#include "apid/apid_int.h"
#include "ipc/worker.h"
#include "util/err.h"

#include <stdlib.h>
#include <string.h>


static size_t bucket(uint64_t id)
{
	return (size_t)(id * 0x9E3779B97F4A7C15ull >> 52) % APID_PENDING_BUCKETS;
}

struct pending *pending_add(struct apid *a, uint64_t req_id, int kind, struct hreq *req)
{
	struct pending *p = calloc(1, sizeof(*p));
	size_t b = bucket(req_id);

	if (p == NULL)
		return NULL;
	p->req_id = req_id;
	p->kind = kind;
	p->req = req;
	p->deadline_ms = shm_now_ms() + APID_REQUEST_TIMEOUT_MS;
	p->next = a->pending[b];
	a->pending[b] = p;
	a->npending++;
	worker_count(a->w, WC_PROPOSALS_PENDING, 1);
	return p;
}

struct pending *pending_take(struct apid *a, uint64_t req_id)
{
	struct pending **pp = &a->pending[bucket(req_id)];

	for (; *pp; pp = &(*pp)->next) {
		struct pending *p = *pp;
		if (p->req_id == req_id) {
			*pp = p->next;
			p->next = NULL;
			a->npending--;
			worker_count(a->w, WC_PROPOSALS_PENDING, -1);
			return p;
		}
	}
	return NULL;
}

void pending_free(struct pending *p)
{
	free(p->path);
	free(p);
}

static void expire(struct apid *a, struct pending *p)
{
	if (p->req && p->kind == PENDING_V3) {
		v3gw_on_error(a, p, "etcdserver: request timed out");
	} else if (p->req && p->kind == PENDING_MEMBERS) {
		members_on_error(a, p, CE_AGAIN, "etcdserver: request timed out");
	} else if (p->req) {
		if (p->kind == PENDING_V2_WRITE)
			worker_count(a->w, WC_PROPOSALS_FAILED, 1);
		http_v2_error(a, p->req, 300, "etcdserver: request timed out", 0);
	}
	pending_free(p);
}

/* Time out what waited too long; hand parked requests back to the router
 * once the database is open again. */
void pending_sweep(struct apid *a, uint64_t now_ms)
{
	int ready = apid_db_ready(a);

	for (size_t b = 0; b < APID_PENDING_BUCKETS; b++) {
		struct pending **pp = &a->pending[b];
		while (*pp) {
			struct pending *p = *pp;
			int wake = p->kind == PENDING_V2_WAIT_READY && ready;
			if (!wake && now_ms < p->deadline_ms) {
				pp = &p->next;
				continue;
			}
			*pp = p->next;
			a->npending--;
			worker_count(a->w, WC_PROPOSALS_PENDING, -1);
			if (wake) {
				v2keys_handle(a, p->req, p->path);
				p->req = NULL;
				pending_free(p);
			} else {
				expire(a, p);
			}
		}
	}
	for (struct pending **pp = &a->reads_waiting; *pp;) {
		struct pending *p = *pp;
		if (now_ms < p->deadline_ms) {
			pp = &p->next;
			continue;
		}
		*pp = p->next;
		expire(a, p);
	}
}

void pending_fail_all(struct apid *a)
{
	for (size_t b = 0; b < APID_PENDING_BUCKETS; b++) {
		while (a->pending[b]) {
			struct pending *p = a->pending[b];
			a->pending[b] = p->next;
			expire(a, p);
		}
	}
	a->npending = 0;
	while (a->reads_waiting) {
		struct pending *p = a->reads_waiting;
		a->reads_waiting = p->next;
		expire(a, p);
	}
}
