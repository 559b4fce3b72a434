/* snap.c - database snapshots for the raft worker.
 *
 * IPC_SNAP_SAVE: after the batch in progress commits, dump the database at
 * the applied index to <data-dir>/member/snap/<index %016x>.snap.db and
 * answer IPC_SNAP_SAVED with the index, term and the membership read from
 * the same state (nothing is applied in between: this process is the only
 * writer and does both in one event-loop turn). Only the newest
 * --max-snapshots files are kept.
 *
 * IPC_RESTORE: a follower too far behind gets the leader's file; it is
 * loaded into <data-dir>/member/db.new and swapped in (store/envdir.h), the
 * database generation is bumped so api workers reattach, and the raft
 * worker hears IPC_APPLIED at the snapshot's index. Api workers keep their
 * old environment open until they get the new generation (a new
 * IPC_HELLO); meanwhile shared memory says RECOVERING, so they park
 * requests rather than read a database that is going away.
 */
#include "config.h"
#include "stored/stored_int.h"
#include "config/cfg.h"
#include "ipc/conn.h"
#include "ipc/frame.h"
#include "ipc/proto.h"
#include "ipc/worker.h"
#include "store/envdir.h"
#include "store/snap.h"
#include "store/v2members.h"
#include "store/v2store.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/log.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

static void snap_dir(const struct stored *s, char *out, size_t n)
{
	snprintf(out, n, "%s/member/snap", s->w->cfg->data_dir);
}

/* is_snap_name: "<16 hex digits>.snap.db" (tmp: with ".tmp" after it). */
static int is_snap_name(const char *name, int tmp)
{
	size_t n = strlen(name), want = 16 + strlen(STORE_SNAP_SUFFIX) + (tmp ? 4 : 0);

	if (n != want || strspn(name, "0123456789abcdef") != 16)
		return 0;
	if (strncmp(name + 16, STORE_SNAP_SUFFIX, strlen(STORE_SNAP_SUFFIX)) != 0)
		return 0;
	return !tmp || strcmp(name + n - 4, ".tmp") == 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* prune keeps the newest max files (0: all) and drops stale .tmp files;
 * names sort by index because the index is fixed-width hex. */
static void prune(struct stored *s, const char *dir)
{
	uint64_t max = s->w->cfg->max_snapshots;
	char **names = NULL, path[PATH_MAX + 512];
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d = opendir(dir);

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (is_snap_name(de->d_name, 1)) {
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			unlink(path);
			continue;
		}
		if (!is_snap_name(de->d_name, 0))
			continue;
		if (n == cap) {
			char **nn = realloc(names, (cap = cap ? 2 * cap : 16) * sizeof(*names));
			if (nn == NULL)
				break;
			names = nn;
		}
		if ((names[n] = strdup(de->d_name)) != NULL)
			n++;
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; max > 0 && i + max < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (unlink(path) != 0)
			log_warn("remove old snapshot %s: %s", path, strerror(errno));
		else
			log_info("removed old snapshot %s", path);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static void reply_failed(struct stored *s, const char *msg)
{
	struct buf b;

	buf_init(&b);
	buf_put_u64(&b, 0);
	buf_put_u64(&b, 0);
	buf_put(&b, msg, strlen(msg));
	stored_send_to_raft(s, IPC_SNAP_SAVED, b.data, b.len);
	buf_close(&b);
}

void stored_snap_save(struct stored *s)
{
	struct store_snap_info info;
	char dir[PATH_MAX], path[PATH_MAX + 64], err[1024] = "";
	json_t *ms = NULL;
	char *js = NULL;
	struct buf b;
	int rc;

	stored_apply_batch_end(s); /* the snapshot is of committed state */
	snap_dir(s, dir, sizeof(dir));
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		snprintf(err, sizeof(err), "mkdir %.900s: %s", dir, strerror(errno));
		goto fail;
	}
	snprintf(path, sizeof(path), "%s/%016" PRIx64 "%s", dir, s->applied, STORE_SNAP_SUFFIX);
	if ((rc = store_snap_save(s->env, path, &info, err, sizeof(err))) != 0)
		goto fail;
	if ((rc = v2store_members(s->v2, NULL, &ms)) != 0 ||
		(js = json_dumps(ms, JSON_COMPACT | JSON_PRESERVE_ORDER)) == NULL) {
		snprintf(err, sizeof(err), "read membership: %s", ce_strerror(rc ? rc : CE_NOMEM));
		unlink(path);
		goto fail;
	}
	buf_init(&b);
	buf_put_u64(&b, info.index);
	buf_put_u64(&b, info.term);
	buf_put(&b, js, strlen(js));
	stored_send_to_raft(s, IPC_SNAP_SAVED, b.data, b.len);
	buf_close(&b);
	log_info("saved database snapshot %s (index %" PRIu64 ", term %" PRIu64 ", %" PRIu64
		" records, %" PRIu64 " bytes)", path, info.index, info.term, info.records, info.bytes);
	free(js);
	json_decref(ms);
	prune(s, dir);
	return;
fail:
	json_decref(ms);
	log_error("database snapshot failed: %s", err);
	reply_failed(s, err);
}

/* swap_in replaces the open database with the restored one in fresh.
 * Any failure after the old environment is closed is a crash: the next
 * start finishes or undoes the swap (store_envdir_recover) and recovers. */
static void swap_in(struct stored *s, const char *live, const char *fresh)
{
	char err[1024] = "";

	stored_set_db_state(s, DB_STATE_RECOVERING);
	stored_ckpt_stop(s);
	stored_db_close(s);
	if (store_envdir_swap(live, fresh, err, sizeof(err)) != 0 ||
		stored_db_open(s, err, sizeof(err)) != 0) {
		log_error("restore database: %s", err);
		exit(WORKER_EXIT_CRASH);
	}
	s->durable = s->applied; /* the restored files were synced */
	if (stored_ckpt_start(s) != 0)
		exit(WORKER_EXIT_CRASH);
	stored_set_db_state(s, DB_STATE_READY);
}

/* reload_cluster refreshes the member table from the restored store. */
static void reload_cluster(struct stored *s)
{
	json_t *ms = NULL;
	char *js;

	if (v2store_members(s->v2, NULL, &ms) != 0)
		return;
	js = json_dumps(ms, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (js && cluster_members_load(&s->cluster, js, strlen(js)) != 0)
		log_warn("restored membership does not parse; keeping the old member table");
	free(js);
	json_decref(ms);
}

void stored_restore(struct stored *s, const uint8_t *p, size_t n)
{
	struct store_snap_info info;
	char live[PATH_MAX], fresh[PATH_MAX + 8], path[PATH_MAX], err[1024] = "";
	uint64_t index, term;
	size_t plen;

	if (n < 17) {
		log_error("short restore message");
		return;
	}
	index = le_get64(p);
	term = le_get64(p + 8);
	plen = strnlen((const char *)p + 16, n - 16);
	if (plen >= sizeof(path)) {
		log_error("restore: path too long");
		stored_send_progress(s);
		return;
	}
	memcpy(path, p + 16, plen);
	path[plen] = '\0';
	stored_apply_batch_end(s);
	if (s->applied >= index) {
		stored_send_progress(s);
		return;
	}
	stored_db_dir(s, live, sizeof(live));
	snprintf(fresh, sizeof(fresh), "%s.new", live);
	if (store_dir_remove(fresh, err, sizeof(err)) != 0 ||
		store_snap_restore(path, fresh, &info, err, sizeof(err)) != 0) {
		log_error("restore snapshot at index %" PRIu64 ": %s", index, err);
		stored_send_progress(s); /* still at the old index: the raft worker retries */
		return;
	}
	if (info.index != index || info.term != term)
		log_warn("snapshot %s holds index %" PRIu64 " term %" PRIu64 ", expected %" PRIu64 "/%" PRIu64,
			path, info.index, info.term, index, term);
	log_info("restoring the database from %s: index %" PRIu64 " -> %" PRIu64, path, s->applied,
		info.index);
	swap_in(s, live, fresh);
	reload_cluster(s);
	stored_hello_api(s);
	log_info("database restored at applied index %" PRIu64, s->applied);
	stored_send_progress(s);
}

/* ---- client snapshots (Maintenance/Snapshot, IPC_DBSNAP) ---- */

/* Client snapshot files are "client-<slot>-<gen>-<req>.dbsnap" in the snap
 * directory; the raft worker's prune ignores them. A file whose api
 * worker died before deleting it is removed when its slot asks again. */
static void client_snap_prune(const char *dir, uint32_t slot, uint32_t gen)
{
	char prefix[64], path[PATH_MAX + 512];
	struct dirent *de;
	size_t pn;
	DIR *d = opendir(dir);

	if (d == NULL)
		return;
	pn = (size_t)snprintf(prefix, sizeof(prefix), "client-%u-", slot);
	while ((de = readdir(d)) != NULL) {
		unsigned g = 0;
		if (strncmp(de->d_name, prefix, pn) != 0 || sscanf(de->d_name + pn, "%u-", &g) != 1 ||
			g == gen)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		unlink(path);
	}
	closedir(d);
}

static void client_snap_answer(struct ipc_conn *c, const struct ipc_hdr *h, uint32_t status,
	uint32_t code, const char *body)
{
	struct proto_result pr;
	uint8_t fixed[PROTO_RESULT_FIXED];

	memset(&pr, 0, sizeof(pr));
	pr.http_status = status;
	pr.error_code = code;
	proto_result_encode_fixed(fixed, &pr);
	ipc_conn_send(c, IPC_RESULT, h->req_id, h->origin, h->gen, fixed, sizeof(fixed), body,
		strlen(body));
}

void stored_client_snap(struct stored *s, struct ipc_conn *c, const struct ipc_hdr *h)
{
	struct store_snap_info info;
	char dir[PATH_MAX], path[PATH_MAX + 128], err[1024] = "";
	struct shm_store st;

	shm_store_read(s->w->shm, &st);
	if (s->env == NULL || st.db_state != DB_STATE_READY) {
		client_snap_answer(c, h, 503, 14, "etcdserver: not ready");
		return;
	}
	stored_apply_batch_end(s); /* the snapshot is of committed state */
	snap_dir(s, dir, sizeof(dir));
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		snprintf(err, sizeof(err), "mkdir %.900s: %s", dir, strerror(errno));
		goto fail;
	}
	client_snap_prune(dir, h->origin, h->gen);
	snprintf(path, sizeof(path), "%s/client-%u-%u-%" PRIu64 ".dbsnap", dir, h->origin, h->gen,
		h->req_id);
	if (store_snap_save(s->env, path, &info, err, sizeof(err)) != 0)
		goto fail;
	log_info("client snapshot %s at index %" PRIu64 " (%" PRIu64 " records, %" PRIu64 " bytes)",
		path, info.index, info.records, info.bytes);
	client_snap_answer(c, h, 200, 0, path);
	return;
fail:
	log_error("client snapshot failed: %s", err);
	client_snap_answer(c, h, 500, 13, err);
}
