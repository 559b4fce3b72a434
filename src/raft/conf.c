/* conf.c - cluster membership: the member list kept as progress entries,
 * quorum counting, and single-server configuration changes (§6, thesis
 * §4.1: one change at a time, applied when the entry is applied). */
#include "config.h"
#include "raft/raft_impl.h"
#include "util/buf.h"
#include "util/err.h"

#include <stdlib.h>

int conf_add(struct raft *r, uint64_t id, int voter)
{
	struct raft_progress *pr = raft_progress(r, id);
	struct raft_progress *p;
	int rc;

	if (id == RAFT_NONE)
		return CE_INVAL;
	if (pr) {
		if (voter)
			pr->voter = 1;
		return 0;
	}
	if (r->nprs >= RAFT_MAX_MEMBERS)
		return CE_TOOBIG;
	p = realloc(r->prs, (r->nprs + 1) * sizeof(*p));
	if (p == NULL)
		return CE_NOMEM;
	r->prs = p;
	if ((rc = progress_init(r, &r->prs[r->nprs], id, voter)) != 0)
		return rc;
	/* A new member gets one election timeout before it counts as down. */
	r->prs[r->nprs].recent_active = 1;
	r->nprs++;
	read_clear(r); /* acks are kept by member position */
	return 0;
}

void conf_remove(struct raft *r, uint64_t id)
{
	size_t i;

	for (i = 0; i < r->nprs; i++)
		if (r->prs[i].id == id)
			break;
	if (i == r->nprs)
		return;
	progress_free(&r->prs[i]);
	for (; i + 1 < r->nprs; i++)
		r->prs[i] = r->prs[i + 1];
	r->nprs--;
	read_clear(r);
	if (r->lead_transferee == id)
		r->lead_transferee = RAFT_NONE;
}

int conf_has_quorum(const struct raft *r, int (*pred)(const struct raft_progress *))
{
	size_t yes = 0, voters = raft_nvoters(r);
	for (size_t i = 0; i < r->nprs; i++) {
		const struct raft_progress *pr = &r->prs[i];
		if (pr->voter && (pred ? pred(pr) : pr->recent_active))
			yes++;
	}
	return voters > 0 && yes >= voters / 2 + 1;
}

/* The encoding lands in the WAL: u8 type + u64 node id, little endian. */
_Static_assert(RAFT_CONF_CHANGE_LEN == sizeof(uint8_t) + sizeof(uint64_t),
	"conf change encoding is 9 bytes");

void raft_conf_change_encode(const struct raft_conf_change *cc, uint8_t out[RAFT_CONF_CHANGE_LEN])
{
	out[0] = cc->type;
	le_put64(out + 1, cc->node_id);
}

int raft_conf_change_decode(struct raft_conf_change *cc, const void *data, size_t len)
{
	const uint8_t *p = data;
	if (len < RAFT_CONF_CHANGE_LEN || p == NULL || p[0] > RAFT_CONF_UPDATE_NODE)
		return CE_CORRUPT;
	cc->type = p[0];
	cc->node_id = le_get64(p + 1);
	return cc->node_id == RAFT_NONE ? CE_CORRUPT : 0;
}

int raft_apply_conf_change(struct raft *r, const struct raft_conf_change *cc)
{
	struct raft_progress *pr = raft_progress(r, cc->node_id);
	int rc = 0;

	if (cc->node_id == RAFT_NONE)
		return CE_INVAL;
	switch (cc->type) {
	case RAFT_CONF_ADD_NODE:
		rc = conf_add(r, cc->node_id, 1);
		break;
	case RAFT_CONF_ADD_LEARNER:
		if (pr && pr->voter)
			return CE_INVAL;
		rc = conf_add(r, cc->node_id, 0);
		break;
	case RAFT_CONF_PROMOTE:
		if (pr == NULL || pr->voter)
			return CE_INVAL;
		pr->voter = 1;
		read_clear(r);
		break;
	case RAFT_CONF_UPDATE_NODE:
		if (pr == NULL)
			return CE_INVAL;
		break; /* new peer URLs: the driver's business, not the core's */
	case RAFT_CONF_REMOVE_NODE:
		conf_remove(r, cc->node_id);
		if (cc->node_id == r->id && r->role == RAFT_LEADER)
			raft_become_follower(r, r->term, RAFT_NONE);
		break;
	default:
		return CE_INVAL;
	}
	if (rc == 0 && r->role == RAFT_LEADER && repl_maybe_commit(r))
		repl_bcast_append(r);
	return rc;
}
