/* v2watch.c - v2 watchers (wait=true, stream=true, waitIndex).
 *
 * A watcher first replays matching events at or after its index from the
 * event history in the database (etcd's 1000-event window), then takes live
 * events the storage worker sends after each commit. Each watcher remembers
 * the next index it wants, so an event seen both in the history and live is
 * delivered once.
 */
#include "config.h"
#include "apid/apid_int.h"
#include "http/httpd.h"
#include "ipc/proto.h"
#include "ipc/worker.h"
#include "store/v2store.h"
#include "util/err.h"
#include "util/log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

static void watcher_unlink(struct apid *a, struct watcher *w)
{
	if (w->prev)
		w->prev->next = w->next;
	else
		a->watchers = w->next;
	if (w->next)
		w->next->prev = w->prev;
	a->nwatchers--;
	worker_count(a->w, WC_WATCHERS, -1);
}

static void watcher_free(struct watcher *w)
{
	free(w->key);
	free(w);
}

/* The client went away: the request is finished for us, and freed. */
static void close_cb(struct hreq *r, void *arg)
{
	struct apid *a = arg;

	for (struct watcher *w = a->watchers; w; w = w->next) {
		if (w->req != r)
			continue;
		hreq_reply_end(r);
		w->req = NULL;
		watcher_unlink(a, w);
		watcher_free(w);
		return;
	}
}

static void start_reply(struct apid *a, struct watcher *w)
{
	struct shm_store st;
	struct shm_raft rs;
	char v[24];

	if (w->started)
		return;
	shm_store_read(a->w->shm, &st);
	shm_raft_read(a->w->shm, &rs);
	hreq_add_header(w->req, "Content-Type", "application/json");
	snprintf(v, sizeof(v), "%" PRIu64, st.v2_index);
	hreq_add_header(w->req, "X-Etcd-Index", v);
	snprintf(v, sizeof(v), "%" PRIu64, st.applied_index);
	hreq_add_header(w->req, "X-Raft-Index", v);
	snprintf(v, sizeof(v), "%" PRIu64, rs.term);
	hreq_add_header(w->req, "X-Raft-Term", v);
	hreq_reply_start(w->req, 200);
	w->started = 1;
}

/* Deliver one event body; returns 1 when the watcher is finished. */
static int deliver(struct apid *a, struct watcher *w, const void *body, size_t len, uint64_t index)
{
	start_reply(a, w);
	hreq_reply_chunk(w->req, body, len);
	w->since = index + 1;
	if (w->stream)
		return 0;
	hreq_reply_end(w->req);
	w->req = NULL;
	return 1;
}

/* etcd's isHidden: the part of key below the watched path has a "/_". */
static int hidden_below(const struct watcher *w, const char *key, size_t len)
{
	size_t start = w->key_len == 1 ? 0 : w->key_len;

	for (size_t i = start; i + 1 < len; i++)
		if (key[i] == '/' && key[i + 1] == '_')
			return 1;
	return 0;
}

/* As etcd's watcherHub.notify: the event's key itself, any recursive
 * watcher on an ancestor (unless the key is hidden below it), and, when a
 * directory goes away, watchers on anything inside it. */
static int key_matches(const struct watcher *w, const char *key, size_t len, int is_dir)
{
	if (len == w->key_len && memcmp(key, w->key, len) == 0)
		return 1;
	if (w->recursive && (w->key_len == 1 || (len > w->key_len &&
		memcmp(key, w->key, w->key_len) == 0 && key[w->key_len] == '/')))
		return !hidden_below(w, key, len);
	if (is_dir && w->key_len > len && memcmp(key, w->key, len) == 0 &&
		(len == 1 || w->key[len] == '/'))
		return 1;
	return 0;
}

/* The index of a history event: its node's modifiedIndex, as etcd's
 * Event.Index(). */
static uint64_t event_index(const void *body, size_t len)
{
	json_t *o = json_loadb(body, len, 0, NULL);
	json_t *mi = json_object_get(json_object_get(o, "node"), "modifiedIndex");
	uint64_t v = json_is_integer(mi) ? (uint64_t)json_integer_value(mi) : 0;

	json_decref(o);
	return v;
}

/* Replay history; returns 1 if the watcher finished (or failed). */
static int replay(struct apid *a, struct watcher *w)
{
	for (int i = 0; i < 1000; i++) {
		struct v2_result res;
		int rc;

		int tries = 0;

		memset(&res, 0, sizeof(res));
		while ((rc = v2store_watch_lookup(a->v2, w->key, w->key_len, w->recursive, w->since,
				&res)) == CE_AGAIN && ++tries < APID_READ_RETRIES)
			;
		if (rc != 0) {
			v2_result_close(&res);
			if (!w->started)
				http_v2_error(a, w->req, 300, "etcdserver: storage read failed", 0);
			else
				hreq_reply_end(w->req);
			w->req = NULL;
			return 1;
		}
		if (res.error_code) {
			/* 401: the index is older than the history window. */
			if (!w->started) {
				char v[24];
				snprintf(v, sizeof(v), "%" PRIu64, res.etcd_index);
				hreq_add_header(w->req, "X-Etcd-Index", v);
				http_send(w->req, res.http_status, "application/json", res.body.data, res.body.len);
			} else {
				hreq_reply_end(w->req);
			}
			w->req = NULL;
			v2_result_close(&res);
			return 1;
		}
		if (!res.found) {
			v2_result_close(&res);
			return 0;
		}
		uint64_t idx = event_index(res.body.data, res.body.len);
		int done = deliver(a, w, res.body.data, res.body.len, idx);
		v2_result_close(&res);
		if (done)
			return 1;
	}
	return 0;
}

void v2watch_start(struct apid *a, struct hreq *req, const char *key, size_t key_len,
	int recursive, int stream, uint64_t since)
{
	struct watcher *w = calloc(1, sizeof(*w));

	if (w == NULL || (w->key = strndup(key, key_len)) == NULL) {
		free(w);
		http_v2_error(a, req, 300, "etcdserver: out of memory", 0);
		return;
	}
	w->req = req;
	w->key_len = key_len;
	w->recursive = recursive;
	w->stream = stream;
	w->since = since ? since : v2store_current_index(a->v2) + 1;
	if (replay(a, w)) {
		watcher_free(w);
		return;
	}
	/* etcd flushes the headers at once, so a long poll shows 200 early. */
	start_reply(a, w);
	hreq_set_close_cb(req, close_cb, a);
	w->next = a->watchers;
	if (a->watchers)
		a->watchers->prev = w;
	a->watchers = w;
	a->nwatchers++;
	worker_count(a->w, WC_WATCHERS, 1);
}

void v2watch_on_event(struct apid *a, const struct proto_event *ev)
{
	struct watcher *w = a->watchers;

	if (ev->flags & PROTO_EV_INTERNAL)
		return;
	while (w) {
		struct watcher *next = w->next;
		if (w->req && ev->index >= w->since &&
			key_matches(w, ev->key, ev->key_len, ev->flags & PROTO_EV_DIR) &&
			deliver(a, w, ev->body, ev->len, ev->index)) {
			watcher_unlink(a, w);
			watcher_free(w);
		}
		w = next;
	}
}

void v2watch_close_all(struct apid *a)
{
	while (a->watchers) {
		struct watcher *w = a->watchers;
		if (w->req)
			hreq_reply_end(w->req);
		watcher_unlink(a, w);
		watcher_free(w);
	}
}
