/* v2keys.c - etcd's v2 keys API (/v2/keys/...).
 *
 * Request validation follows etcd's parseKeyRequest field by field, in its
 * order, with its error codes and causes. Reads are served from the
 * database environment directly; writes become proposals whose outcome the
 * storage worker sends back; quorum reads wait for a read index; wait=true
 * becomes a watcher (v2watch.c).
 */
#include "config.h"
#include "apid/apid_int.h"
#include "v3/v3.h"
#include "apid/form.h"
#include "config/cfg.h"
#include "http/httpd.h"
#include "ipc/proto.h"
#include "ipc/worker.h"
#include "store/v2req.h"
#include "store/v2store.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/goparse.h"
#include "util/log.h"
#include "util/clock.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>


#define KEYS_PREFIX "/v2/keys"

struct keyreq {
	int method; /* enum hmethod */
	char *key;  /* cleaned user key, "/..." */
	size_t key_len;
	uint64_t prev_index, wait_index;
	int recursive, sorted, wait, dir, quorum, stream, no_value;
	int8_t prev_exist; /* -1 unset */
	int refresh;
	const char *value;
	size_t value_len;
	const char *prev_value;
	size_t prev_value_len;
	int has_prev_value;
	int has_ttl;
	uint64_t ttl;
};

static int get_bool(const struct form *f, const char *key, int *out)
{
	const char *v = form_get(f, key, NULL);
	bool b = false;
	int rc = v ? go_parse_bool(v, &b) : 0;

	*out = b;
	return rc;
}

static int get_u64(const struct form *f, const char *key, uint64_t *out)
{
	const char *v = form_get(f, key, NULL);
	*out = 0;
	return v ? go_parse_u64(v, out) : 0;
}

/* path.Join("/", p) as Go cleans it: no empty, "." or ".." elements. */
static char *clean_key(const char *p, size_t *len)
{
	size_t n = strlen(p);
	char *out = malloc(n + 2);
	size_t j = 0;
	size_t i = 0;

	if (out == NULL)
		return NULL;
	out[j++] = '/';
	while (i < n) {
		size_t s = i;
		while (i < n && p[i] != '/')
			i++;
		size_t seg = i - s;
		if (seg == 0 || (seg == 1 && p[s] == '.')) {
		} else if (seg == 2 && p[s] == '.' && p[s + 1] == '.') {
			while (j > 1 && out[j - 1] != '/')
				j--;
			if (j > 1)
				j--;
		} else {
			if (j > 1)
				out[j++] = '/';
			memcpy(out + j, p + s, seg);
			j += seg;
		}
		i++;
	}
	out[j] = '\0';
	*len = j;
	return out;
}

static int method_allowed(struct hreq *req)
{
	if (hreq_method(req) & (H_GET | H_HEAD | H_PUT | H_POST | H_DELETE))
		return 1;
	hreq_add_header(req, "Allow", "HEAD,GET,PUT,POST,DELETE");
	hreq_add_header(req, "X-Content-Type-Options", "nosniff");
	http_send_text(req, 405, "Method Not Allowed\n");
	return 0;
}

/* Go's ParseForm: a form body (PUT, POST, PATCH with the urlencoded
 * content type) first, then the query string. */
static int read_form(struct hreq *req, struct form *f, char *err, size_t errlen)
{
	const char *uri = hreq_uri(req);
	const char *q = strchr(uri, '?');
	const char *ct = hreq_header(req, "Content-Type");

	if ((hreq_method(req) & (H_PUT | H_POST | H_PATCH)) && ct &&
		strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0) {
		size_t n;
		const char *p = hreq_body(req, &n);
		if (form_parse(f, p, n, err, errlen) != 0)
			return -1;
	}
	if (q && form_parse(f, q + 1, strlen(q + 1), err, errlen) != 0)
		return -1;
	return 0;
}

#define FAIL(code, cause)                          \
	do {                                           \
		*ecode = (code);                           \
		*ecause = (cause);                         \
		return -1;                                 \
	} while (0)

/* The checks of etcd's parseKeyRequest, in its order. */
static int parse_keyreq(const struct form *f, struct keyreq *k, int *ecode, const char **ecause)
{
	const char *ttl;

	if (get_u64(f, "prevIndex", &k->prev_index))
		FAIL(203, "invalid value for \"prevIndex\"");
	if (get_u64(f, "waitIndex", &k->wait_index))
		FAIL(203, "invalid value for \"waitIndex\"");
	if (get_bool(f, "recursive", &k->recursive))
		FAIL(209, "invalid value for \"recursive\"");
	if (get_bool(f, "sorted", &k->sorted))
		FAIL(209, "invalid value for \"sorted\"");
	if (get_bool(f, "wait", &k->wait))
		FAIL(209, "invalid value for \"wait\"");
	if (get_bool(f, "dir", &k->dir))
		FAIL(209, "invalid value for \"dir\"");
	if (get_bool(f, "quorum", &k->quorum))
		FAIL(209, "invalid value for \"quorum\"");
	if (get_bool(f, "stream", &k->stream))
		FAIL(209, "invalid value for \"stream\"");
	if (k->wait && k->method != H_GET)
		FAIL(209, "\"wait\" can only be used with GET requests");
	k->prev_value = form_get(f, "prevValue", &k->prev_value_len);
	k->has_prev_value = k->prev_value != NULL;
	if (k->has_prev_value && k->prev_value_len == 0)
		FAIL(201, "\"prevValue\" cannot be empty");
	if (get_bool(f, "noValueOnSuccess", &k->no_value))
		FAIL(209, "invalid value for \"noValueOnSuccess\"");
	ttl = form_get(f, "ttl", NULL);
	if (ttl && ttl[0]) {
		if (go_parse_u64(ttl, &k->ttl))
			FAIL(202, "invalid value for \"ttl\"");
		k->has_ttl = 1;
	}
	k->prev_exist = -1;
	if (form_has(f, "prevExist")) {
		int b;
		if (get_bool(f, "prevExist", &b))
			FAIL(209, "invalid value for prevExist");
		k->prev_exist = (int8_t)b;
	}
	if (form_has(f, "refresh")) {
		if (get_bool(f, "refresh", &k->refresh))
			FAIL(209, "invalid value for refresh");
		if (k->refresh) {
			size_t vl;
			const char *v = form_get(f, "value", &vl);
			if (v && vl)
				FAIL(211, "A value was provided on a refresh");
			if (!k->has_ttl)
				FAIL(212, "No TTL value set");
		}
	}
	k->value = form_get(f, "value", &k->value_len);
	if (k->value == NULL) {
		k->value = "";
		k->value_len = 0;
	}
	return 0;
}

static void set_index_headers(struct hreq *req, uint64_t etcd_index, uint64_t raft_index,
	uint64_t raft_term, int with_raft)
{
	char v[24];

	snprintf(v, sizeof(v), "%" PRIu64, etcd_index);
	hreq_add_header(req, "X-Etcd-Index", v);
	if (!with_raft)
		return;
	snprintf(v, sizeof(v), "%" PRIu64, raft_index);
	hreq_add_header(req, "X-Raft-Index", v);
	snprintf(v, sizeof(v), "%" PRIu64, raft_term);
	hreq_add_header(req, "X-Raft-Term", v);
}

static void send_result(struct hreq *req, int status, int error_code,
	uint64_t etcd_index, uint64_t raft_index, uint64_t raft_term, const void *body, size_t len)
{
	set_index_headers(req, etcd_index, raft_index, raft_term, error_code == 0);
	http_send(req, status, "application/json", body, len);
}

/* A local (serializable) GET/HEAD: straight from the database. */
static void serve_get(struct apid *a, struct hreq *req, const char *key, size_t len,
	int recursive, int sorted)
{
	struct v2_result res;
	struct shm_store st;
	struct shm_raft rs;

	int rc, tries = 0;

	memset(&res, 0, sizeof(res));
	/* CE_AGAIN: this reader lost a deadlock against the writer; retry. */
	while ((rc = v2store_get(a->v2, key, len, recursive, sorted, clock_wall_ns(), &res)) == CE_AGAIN &&
		++tries < APID_READ_RETRIES)
		;
	if (rc != 0) {
		http_v2_error(a, req, 300, "etcdserver: storage read failed", 0);
		v2_result_close(&res);
		return;
	}
	shm_store_read(a->w->shm, &st);
	shm_raft_read(a->w->shm, &rs);
	worker_count(a->w, res.error_code ? WC_V2_GETS_FAIL : WC_V2_GETS_SUCCESS, 1);
	send_result(req, res.http_status, res.error_code, res.etcd_index, st.applied_index, rs.term,
		res.body.data, res.body.len);
	v2_result_close(&res);
}

static void park_until_ready(struct apid *a, struct hreq *req, const char *path)
{
	struct pending *p = pending_add(a, ++a->next_req_id, PENDING_V2_WAIT_READY, req);

	if (p == NULL) {
		http_v2_error(a, req, 300, "etcdserver: out of memory", 0);
		return;
	}
	p->path = strdup(path);
}

static void propose(struct apid *a, struct hreq *req, const struct keyreq *k)
{
	struct v2_req r;
	struct buf body;
	uint64_t req_id;
	struct pending *p;
	int m = k->method;

	memset(&r, 0, sizeof(r));
	r.op = m == H_PUT ? V2_OP_PUT : m == H_POST ? V2_OP_POST : V2_OP_DELETE;
	r.dir = (uint8_t)k->dir;
	r.recursive = (uint8_t)k->recursive;
	r.refresh = (uint8_t)k->refresh;
	r.no_value_on_success = (uint8_t)k->no_value;
	r.prev_exist = k->prev_exist;
	r.has_prev_value = (uint8_t)k->has_prev_value;
	r.prev_index = k->prev_index;
	r.time_ns = clock_wall_ns();
	r.expiration_ns = k->has_ttl ? r.time_ns + (int64_t)k->ttl * 1000000000 : 0;
	r.path = k->key;
	r.path_len = k->key_len;
	r.value = k->value;
	r.value_len = k->value_len;
	r.prev_value = k->prev_value;
	r.prev_value_len = k->prev_value_len;
	buf_init(&body);
	v2_req_encode(&r, &body);
	if (body.oom || apid_propose(a, PROTO_V2, body.data, body.len, &req_id) != 0) {
		buf_close(&body);
		http_v2_error(a, req, 300, "etcdserver: server stopped", 0);
		return;
	}
	buf_close(&body);
	p = pending_add(a, req_id, PENDING_V2_WRITE, req);
	if (p == NULL)
		http_v2_error(a, req, 300, "etcdserver: out of memory", 0);
}

static void quorum_get(struct apid *a, struct hreq *req, const struct keyreq *k)
{
	uint64_t req_id;
	struct pending *p;

	if (apid_read_index(a, &req_id) != 0) {
		http_v2_error(a, req, 300, "etcdserver: server stopped", 0);
		return;
	}
	p = pending_add(a, req_id, PENDING_V2_QUORUM_GET, req);
	if (p == NULL) {
		http_v2_error(a, req, 300, "etcdserver: out of memory", 0);
		return;
	}
	p->path = strndup(k->key, k->key_len);
	p->path_len = k->key_len;
	p->recursive = k->recursive;
	p->sorted = k->sorted;
}

void v2keys_handle(struct apid *a, struct hreq *req, const char *path)
{
	struct form f = { 0 };
	struct keyreq k;
	char err[256];
	char cid[24];
	int ecode = 0;
	const char *ecause = NULL;

	if (!method_allowed(req))
		return;
	snprintf(cid, sizeof(cid), "%" PRIx64, a->cluster.cluster_id);
	hreq_add_header(req, "X-Etcd-Cluster-Id", cid);
	if (!apid_db_ready(a)) {
		park_until_ready(a, req, path);
		return;
	}
	memset(&k, 0, sizeof(k));
	k.method = hreq_method(req);
	if (read_form(req, &f, err, sizeof(err)) != 0) {
		http_v2_error(a, req, 210, err, 0);
		goto out;
	}
	k.key = clean_key(path + strlen(KEYS_PREFIX), &k.key_len);
	if (k.key == NULL) {
		http_v2_error(a, req, 300, "etcdserver: out of memory", 0);
		goto out;
	}
	if (parse_keyreq(&f, &k, &ecode, &ecause) != 0) {
		http_v2_error(a, req, ecode, ecause, 0);
		goto out;
	}
	switch (k.method) {
	case H_GET:
	case H_HEAD:
		if (k.wait && k.method == H_GET)
			v2watch_start(a, req, k.key, k.key_len, k.recursive, k.stream, k.wait_index);
		else if (k.quorum)
			quorum_get(a, req, &k);
		else
			serve_get(a, req, k.key, k.key_len, k.recursive, k.sorted);
		break;
	default:
		propose(a, req, &k);
		break;
	}
out:
	free(k.key);
	form_close(&f);
}

void v2keys_on_result(struct apid *a, struct pending *p, const struct proto_result *r)
{
	send_result(p->req, (int)r->http_status, (int)r->error_code, r->etcd_index, r->raft_index,
		r->raft_term, r->body, r->len);
	p->req = NULL;
}

void apid_on_read_index(struct apid *a, struct pending *p, uint64_t index)
{
	if (index == 0) {
		if (p->kind == PENDING_V3)
			v3gw_send_error(p->req, 503, V3_UNAVAILABLE, "etcdserver: request timed out");
		else
			http_v2_error(a, p->req, 300, "etcdserver: request timed out", 0);
		p->req = NULL;
		pending_free(p);
		return;
	}
	p->read_index = index;
	p->next = a->reads_waiting;
	a->reads_waiting = p;
	v2keys_applied_advanced(a);
}

/* Serve quorum reads whose read index has been applied locally, and
 * requests parked while the database was being recovered. */
void v2keys_applied_advanced(struct apid *a)
{
	struct pending **pp = &a->reads_waiting;
	struct shm_store st;

	shm_store_read(a->w->shm, &st);
	while (*pp) {
		struct pending *p = *pp;
		if (st.applied_index < p->read_index || !apid_db_ready(a)) {
			pp = &p->next;
			continue;
		}
		*pp = p->next;
		if (p->kind == PENDING_V3)
			v3gw_serve_read(a, p);
		else
			serve_get(a, p->req, p->path, p->path_len, p->recursive, p->sorted);
		p->req = NULL;
		pending_free(p);
	}
}
