/* v2store.c - the v2 store's operations, as etcd 3.4's store package
 * performs them (store.go), including its quirks: which counters an error
 * bumps, which errors still count as a success, which index an error
 * reports. Node records live in v2tree.c, the history in v2hist.c.
 */
#include "config.h"
#include "store/v2store.h"

#include "store/env.h"
#include "store/meta.h"
#include "store/v2json.h"
#include "store/v2store_int.h"
#include "util/err.h"
#include "util/clock.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Expire times before 2000-01-01 mean "permanent" on create (etcd's
 * minExpireTime guards against times serialised badly by clients). */
#define V2_MIN_EXPIRE_NS 946684800000000000LL

static const char *const action_names[V2_ACT_COUNT] = {
	"get", "create", "set", "update", "delete", "compareAndSwap", "compareAndDelete", "expire",
};

const char *v2_action_name(int action)
{
	return action >= 0 && action < V2_ACT_COUNT ? action_names[action] : "";
}

/* ---- results ---- */

void v2_result_init(struct v2_result *res)
{
	memset(res, 0, sizeof(*res));
}

void v2_result_close(struct v2_result *res)
{
	buf_close(&res->body);
	buf_close(&res->evdata);
	free(res->events);
	memset(res, 0, sizeof(*res));
}

static void result_reset(struct v2_result *res)
{
	res->http_status = 200;
	res->error_code = 0;
	res->etcd_index = 0;
	res->found = 0;
	res->nevents = 0;
	buf_reset(&res->body);
	buf_reset(&res->evdata);
}

static void result_error(struct v2_result *res, int code, const char *cause, size_t clen, uint64_t index)
{
	res->error_code = code;
	res->http_status = v2_error_status(code);
	res->etcd_index = index;
	buf_reset(&res->body);
	v2json_error(&res->body, code, cause, clen, index);
}

/* ---- paths (Go's path.Clean on rooted paths) ---- */

static size_t clean_rooted(char *s, size_t n)
{
	size_t r = 1, w = 1, dotdot = 1;

	/* s[0] == '/' */
	while (r < n) {
		if (s[r] == '/') {
			r++;
		} else if (s[r] == '.' && (r + 1 == n || s[r + 1] == '/')) {
			r++;
		} else if (s[r] == '.' && r + 1 < n && s[r + 1] == '.' && (r + 2 == n || s[r + 2] == '/')) {
			r += 2;
			if (w > dotdot) {
				w--;
				while (w > dotdot && s[w] != '/')
					w--;
			}
		} else {
			if (w != 1)
				s[w++] = '/';
			while (r < n && s[r] != '/')
				s[w++] = s[r++];
		}
	}
	return w;
}

void v2_path_clean(struct buf *out, const char *p, size_t n)
{
	size_t start = out->len;

	buf_put_u8(out, '/');
	buf_put(out, p, n);
	if (out->oom)
		return;
	out->len = start + clean_rooted((char *)out->data + start, out->len - start);
}

void v2_path_user(struct buf *out, const char *p, size_t n)
{
	buf_reset(out);
	buf_put(out, "/1/", 3);
	buf_put(out, p, n);
	if (!out->oom)
		out->len = clean_rooted((char *)out->data, out->len);
}

void v2_path_store(struct buf *out, const char *p, size_t n)
{
	buf_reset(out);
	v2_path_clean(out, p, n);
}

static int is_readonly(const char *p, size_t n)
{
	return (n == 1 && p[0] == '/') || (n == 2 && p[0] == '/' && (p[1] == '0' || p[1] == '1'));
}

static int is_internal_key(const char *p, size_t n)
{
	return !(n >= 2 && p[0] == '/' && p[1] == '1' && (n == 2 || p[2] == '/'));
}

/* ---- open / free ---- */

/* ensure_namespaces creates etcd's "/0" (cluster) and "/1" (keys)
 * directories, index 0, on a fresh store. */
static int ensure_namespaces(struct v2store *st, char *err, size_t errlen)
{
	static const char *const ns[] = { "/0", "/1" };
	struct v2_node node, dir = { 1, 0, 0, 0, "", 0 };
	DB_TXN *txn = NULL;
	int rc, i;

	if ((rc = st->env->txn_begin(st->env, NULL, &txn, 0)) != 0)
		return errf(err, errlen, CE_DB, "txn_begin: %s", db_strerror(rc));
	for (i = 0; i < 2; i++) {
		rc = v2tree_get(st, txn, ns[i], 2, &node);
		if (rc == CE_NOTFOUND)
			rc = v2tree_put(st, txn, ns[i], 2, &dir, 0);
		if (rc != 0) {
			txn->abort(txn);
			return errf(err, errlen, rc, "create namespace %s", ns[i]);
		}
	}
	if ((rc = txn->commit(txn, 0)) != 0)
		return errf(err, errlen, CE_DB, "commit: %s", db_strerror(rc));
	return 0;
}

int v2store_open(struct v2store **out, DB_ENV *env, int writer, char *err, size_t errlen)
{
	struct v2store *st;
	int rc;

	*out = NULL;
	st = calloc(1, sizeof(*st));
	if (st == NULL)
		return errf(err, errlen, CE_NOMEM, "v2store: out of memory");
	st->env = env;
	st->writer = writer;
	if ((rc = meta_db_open(&st->meta, env, writer, err, errlen)) != 0 ||
	    (rc = store_db_open(&st->nodes, env, V2_NODES_FILE, writer, err, errlen)) != 0 ||
	    (rc = store_db_open(&st->expiry, env, V2_EXPIRY_FILE, writer, err, errlen)) != 0 ||
	    (rc = store_db_open(&st->hist, env, V2_HISTORY_FILE, writer, err, errlen)) != 0)
		goto fail;
	if (writer && (rc = ensure_namespaces(st, err, errlen)) != 0)
		goto fail;
	*out = st;
	return 0;
fail:
	errwrap(err, errlen, rc, "open v2 store");
	v2store_free(st);
	return rc;
}

void v2store_free(struct v2store *st)
{
	if (st == NULL)
		return;
	if (st->hist)
		st->hist->close(st->hist, 0);
	if (st->expiry)
		st->expiry->close(st->expiry, 0);
	if (st->nodes)
		st->nodes->close(st->nodes, 0);
	if (st->meta)
		st->meta->close(st->meta, 0);
	buf_close(&st->key);
	buf_close(&st->path);
	buf_close(&st->path2);
	buf_close(&st->prev);
	buf_close(&st->node);
	buf_close(&st->cause);
	buf_close(&st->val);
	free(st->rbuf);
	free(st->kbuf);
	free(st);
}

/* ---- lookups ---- */

/* internal_get is etcd's internalGet: 0 with the node, or an etcd error
 * code (100, 104) with its cause in st->cause, or a negative CE_* code. */
static int internal_get(struct v2store *st, DB_TXN *txn, const char *path, size_t n, struct v2_node *node)
{
	size_t pos = 1, end, cur_len = 1;
	int rc, cur_dir = 1;

	rc = v2tree_get(st, txn, path, n, node);
	if (rc != CE_NOTFOUND)
		return rc;
	/* Walk down from the root to name the first missing or file component. */
	while (pos < n) {
		end = pos;
		while (end < n && path[end] != '/')
			end++;
		buf_reset(&st->cause);
		if (!cur_dir) {
			buf_put(&st->cause, path, cur_len);
			return V2_ECODE_NOT_DIR;
		}
		rc = v2tree_get(st, txn, path, end, node);
		if (rc == CE_NOTFOUND) {
			buf_put(&st->cause, path, end);
			return V2_ECODE_KEY_NOT_FOUND;
		}
		if (rc != 0)
			return rc;
		cur_dir = node->dir;
		cur_len = end;
		pos = end + 1;
	}
	buf_reset(&st->cause);
	buf_put(&st->cause, path, n);
	return V2_ECODE_KEY_NOT_FOUND;
}

static void node_ext(struct v2_node_ext *e, const char *path, size_t n, const struct v2_node *node)
{
	e->key = path;
	e->key_len = n;
	e->value = node->dir ? NULL : node->value;
	e->value_len = node->dir ? 0 : node->value_len;
	e->dir = node->dir;
	e->expire_ns = node->expire_ns;
	e->modified = node->modified;
	e->created = node->created;
}

/* ---- apply ---- */

struct actx {
	struct v2store *st;
	DB_TXN *txn;
	const struct v2_req *req;
	struct v2_result *res;
	struct meta_v2 m;
	int64_t now;
	const char *path; /* clean store path */
	size_t plen;
	int have_prev;    /* st->prev holds the prevNode JSON */
	int prev_dir;
};

static void a_stat(struct actx *a, int stat)
{
	a->m.stats[stat]++;
}

/* a_fail reports an etcd error at the current index. Returns 0: an error
 * result is not a failure of the call. */
static int a_fail(struct actx *a, int stat, int code, const char *cause, size_t clen)
{
	if (stat >= 0)
		a_stat(a, stat);
	result_error(a->res, code, cause, clen, a->m.index);
	return 0;
}

static int a_fail_get(struct actx *a, int stat, int code)
{
	return a_fail(a, stat, code, (const char *)a->st->cause.data, a->st->cause.len);
}

static void a_prev(struct actx *a, const struct v2_node *n)
{
	struct v2_node_ext e;

	node_ext(&e, a->path, a->plen, n);
	buf_reset(&a->st->prev);
	v2json_node(&a->st->prev, &e, a->now);
	a->have_prev = 1;
	a->prev_dir = n->dir;
}

static int push_event(struct actx *a, int action, const struct v2_node_ext *e, int refresh)
{
	struct v2_result *res = a->res;
	struct v2_event *ev;
	const char *key = e->key;
	size_t klen = e->key_len;

	if (res->nevents == res->ev_cap) {
		size_t cap = res->ev_cap ? res->ev_cap * 2 : 4;
		struct v2_event *p = realloc(res->events, cap * sizeof(*p));
		if (p == NULL)
			return CE_NOMEM;
		res->events = p;
		res->ev_cap = cap;
	}
	ev = &res->events[res->nevents++];
	memset(ev, 0, sizeof(*ev));
	ev->action = v2_action_name(action);
	ev->internal = is_internal_key(key, klen);
	v2json_trim_key(&key, &klen);
	ev->key_off = res->evdata.len;
	ev->key_len = klen;
	buf_put(&res->evdata, key, klen);
	ev->body_off = res->evdata.len;
	ev->body_len = a->st->node.len;
	buf_put(&res->evdata, a->st->node.data, a->st->node.len);
	buf_put_u8(&res->evdata, 0); /* bodies are also C strings */
	ev->is_dir = e->dir;
	ev->refresh = refresh;
	ev->modified_index = e->modified;
	return res->evdata.oom ? CE_NOMEM : 0;
}

/* a_event finishes a successful write: the event JSON (node and, if
 * a->have_prev, prevNode), the response, the history record. The store
 * index must already be advanced. */
static int a_event(struct actx *a, int action, const struct v2_node_ext *e)
{
	struct v2store *st = a->st;
	struct buf *b = &st->node;
	const char *name = v2_action_name(action);
	int refresh = a->req->refresh && (action == V2_ACT_SET || action == V2_ACT_UPDATE || action == V2_ACT_CAS);
	uint8_t flags = 0;
	int rc;

	buf_reset(b);
	V2JSON_LIT(b, "{\"action\":");
	v2json_str(b, name, strlen(name));
	V2JSON_LIT(b, ",\"node\":");
	v2json_node(b, e, a->now);
	if (a->have_prev) {
		V2JSON_LIT(b, ",\"prevNode\":");
		buf_put(b, st->prev.data, st->prev.len);
	}
	V2JSON_LIT(b, "}\n");
	if (b->oom)
		return CE_NOMEM;
	flags |= refresh ? V2_HIST_REFRESH : 0;
	flags |= e->dir ? V2_HIST_DIR : 0;
	flags |= a->have_prev && a->prev_dir ? V2_HIST_PREV_DIR : 0;
	rc = v2hist_add(st, a->txn, e->modified, action, flags, e->key, e->key_len, b->data, b->len);
	if (rc == 0)
		rc = push_event(a, action, e, refresh);
	if (rc != 0)
		return rc;
	a->res->etcd_index = a->m.index;
	if (a->req->op == V2_OP_SYNC)
		return 0;
	a->res->http_status = action == V2_ACT_CREATE || (action == V2_ACT_SET && !a->have_prev) ? 201 : 200;
	buf_reset(&a->res->body);
	if (a->req->no_value_on_success && action != V2_ACT_DELETE && action != V2_ACT_CAD) {
		V2JSON_LIT(&a->res->body, "{\"action\":");
		v2json_str(&a->res->body, name, strlen(name));
		V2JSON_LIT(&a->res->body, "}\n");
	} else {
		buf_put(&a->res->body, b->data, b->len);
	}
	return a->res->body.oom ? CE_NOMEM : 0;
}

/* compare is etcd's node.Compare; on mismatch it writes the cause. */
static int compare(struct actx *a, const struct v2_node *n)
{
	const struct v2_req *r = a->req;
	int has_pv = r->has_prev_value && r->prev_value_len > 0;
	int vmatch = !has_pv || (n->value_len == r->prev_value_len && memcmp(n->value, r->prev_value, n->value_len) == 0);
	int imatch = r->prev_index == 0 || n->modified == r->prev_index;
	struct buf *c = &a->st->cause;
	char num[64];

	if (vmatch && imatch)
		return 1;
	buf_reset(c);
	if (!vmatch) {
		buf_put_u8(c, '[');
		buf_put(c, r->prev_value, r->prev_value_len);
		buf_put(c, " != ", 4);
		buf_put(c, n->value, n->value_len);
		buf_put_u8(c, ']');
	}
	if (!imatch) {
		int k = snprintf(num, sizeof(num), "%s[%" PRIu64 " != %" PRIu64 "]", vmatch ? "" : " ",
		                 r->prev_index, n->modified);
		buf_put(c, num, (size_t)k);
	}
	return 0;
}

/* keep_value copies a node's value out of the read buffer. */
static const char *keep_value(struct actx *a, const struct v2_node *n, size_t *len)
{
	buf_reset(&a->st->val);
	buf_put(&a->st->val, n->value, n->value_len);
	*len = n->value_len;
	return a->st->val.data ? (const char *)a->st->val.data : "";
}

/* check_dirs is etcd's walk with checkDir over the parent of a new node:
 * missing directories are created (permanent, at index next). Returns 0,
 * 104 (cause set) or a negative code. */
static int check_dirs(struct actx *a, const char *path, size_t n, uint64_t next)
{
	struct v2store *st = a->st;
	struct v2_node node, dir = { 1, next, next, 0, "", 0 };
	size_t end = 1;
	int rc, missing = 0;

	rc = v2tree_get(st, a->txn, path, n, &node);
	if (rc == 0 && node.dir)
		return 0;
	if (rc == 0) {
		buf_reset(&st->cause);
		buf_put(&st->cause, path, n);
		return V2_ECODE_NOT_DIR;
	}
	if (rc != CE_NOTFOUND)
		return rc;
	while (end < n) {
		while (end < n && path[end] != '/')
			end++;
		rc = missing ? CE_NOTFOUND : v2tree_get(st, a->txn, path, end, &node);
		if (rc == CE_NOTFOUND) {
			missing = 1;
			rc = v2tree_put(st, a->txn, path, end, &dir, 0);
		} else if (rc == 0 && !node.dir) {
			buf_reset(&st->cause);
			buf_put(&st->cause, path, end);
			return V2_ECODE_NOT_DIR;
		}
		if (rc != 0)
			return rc;
		end++;
	}
	return 0;
}

/* create_node is etcd's internalCreate. stat_fail is the caller's failure
 * counter (etcd also counts setsFail when the walk fails). */
static int create_node(struct actx *a, const char *value, size_t vlen, int unique, int replace,
                       int action, int stat_ok, int stat_fail)
{
	struct v2store *st = a->st;
	uint64_t next = a->m.index + 1;
	struct v2_node old, node;
	struct v2_node_ext e;
	int64_t exp = a->req->expiration_ns, old_exp = 0;
	size_t slash;
	int rc;

	if (unique) {
		char seq[32];
		int k = snprintf(seq, sizeof(seq), "/%020" PRIu64, next);
		buf_reset(&st->path2);
		buf_put(&st->path2, a->path, a->plen);
		buf_put(&st->path2, seq, (size_t)k);
		v2_path_store(&st->path, (const char *)st->path2.data, st->path2.len);
		if (st->path.oom)
			return CE_NOMEM;
		a->path = (const char *)st->path.data;
		a->plen = st->path.len;
	}
	if (is_readonly(a->path, a->plen))
		return a_fail(a, stat_fail, V2_ECODE_ROOT_RONLY, "/", 1);
	if (exp < V2_MIN_EXPIRE_NS)
		exp = 0;
	slash = a->plen;
	while (slash > 0 && a->path[slash - 1] != '/')
		slash--;
	rc = check_dirs(a, a->path, slash > 1 ? slash - 1 : 1, next);
	if (rc == V2_ECODE_NOT_DIR) {
		a_stat(a, META_SETS_FAIL);
		return a_fail_get(a, stat_fail, rc);
	}
	if (rc != 0)
		return rc;
	rc = v2tree_get(st, a->txn, a->path, a->plen, &old);
	if (rc == 0) {
		if (!replace)
			return a_fail(a, stat_fail, V2_ECODE_NODE_EXIST, a->path, a->plen);
		if (old.dir)
			return a_fail(a, stat_fail, V2_ECODE_NOT_FILE, a->path, a->plen);
		a_prev(a, &old);
		old_exp = old.expire_ns;
	} else if (rc != CE_NOTFOUND) {
		return rc;
	}
	node.dir = a->req->dir;
	node.created = node.modified = next;
	node.expire_ns = exp;
	node.value = node.dir ? "" : value;
	node.value_len = node.dir ? 0 : vlen;
	if ((rc = v2tree_put(st, a->txn, a->path, a->plen, &node, old_exp)) != 0)
		return rc;
	a->m.index = next;
	a_stat(a, stat_ok);
	node_ext(&e, a->path, a->plen, &node);
	return a_event(a, action, &e);
}

static int op_set(struct actx *a)
{
	const struct v2_req *r = a->req;
	const char *value = r->value ? r->value : "";
	size_t vlen = r->value_len;
	struct v2_node n;
	int rc;

	rc = internal_get(a->st, a->txn, a->path, a->plen, &n);
	if (rc < 0)
		return rc;
	if (rc != 0 && rc != V2_ECODE_KEY_NOT_FOUND)
		return a_fail_get(a, META_SETS_FAIL, rc);
	if (r->refresh) {
		if (rc != 0)
			return a_fail_get(a, META_SETS_FAIL, rc);
		value = keep_value(a, &n, &vlen);
	}
	return create_node(a, value, vlen, 0, 1, V2_ACT_SET, META_SETS_SUCCESS, META_SETS_FAIL);
}

static int op_create(struct actx *a, int unique)
{
	const struct v2_req *r = a->req;

	return create_node(a, r->value ? r->value : "", r->value_len, unique, 0, V2_ACT_CREATE,
	                   META_CREATE_SUCCESS, META_CREATE_FAIL);
}

/* replace_node writes the new value and TTL of an existing node n (an
 * update or a compare-and-swap) and records the event. A directory keeps
 * its own modifiedIndex; the event still carries the new index. */
static int replace_node(struct actx *a, const struct v2_node *n, const char *value, size_t vlen,
                        int action, int stat)
{
	struct v2_node node = *n;
	struct v2_node_ext e;
	int rc;

	a_prev(a, n);
	a->m.index++;
	if (!n->dir) {
		node.value = value;
		node.value_len = vlen;
		node.modified = a->m.index;
	}
	node.expire_ns = a->req->expiration_ns;
	if ((rc = v2tree_put(a->st, a->txn, a->path, a->plen, &node, n->expire_ns)) != 0)
		return rc;
	a_stat(a, stat);
	node_ext(&e, a->path, a->plen, &node);
	e.modified = a->m.index;
	return a_event(a, action, &e);
}

static int op_update(struct actx *a)
{
	const struct v2_req *r = a->req;
	struct v2_node n;
	const char *value = r->value ? r->value : "";
	size_t vlen = r->value_len;
	int rc;

	if (is_readonly(a->path, a->plen)) /* etcd counts this one a success */
		return a_fail(a, META_UPDATE_SUCCESS, V2_ECODE_ROOT_RONLY, "/", 1);
	rc = internal_get(a->st, a->txn, a->path, a->plen, &n);
	if (rc < 0)
		return rc;
	if (rc > 0)
		return a_fail_get(a, META_UPDATE_FAIL, rc);
	if (n.dir && vlen != 0) /* a success too, for etcd's counters */
		return a_fail(a, META_UPDATE_SUCCESS, V2_ECODE_NOT_FILE, a->path, a->plen);
	if (r->refresh)
		value = keep_value(a, &n, &vlen);
	return replace_node(a, &n, value, vlen, V2_ACT_UPDATE, META_UPDATE_SUCCESS);
}

static int op_cas(struct actx *a)
{
	const struct v2_req *r = a->req;
	struct v2_node n;
	const char *value = r->value ? r->value : "";
	size_t vlen = r->value_len;
	int rc;

	if (is_readonly(a->path, a->plen)) /* counted as a success by etcd */
		return a_fail(a, META_CAS_SUCCESS, V2_ECODE_ROOT_RONLY, "/", 1);
	rc = internal_get(a->st, a->txn, a->path, a->plen, &n);
	if (rc < 0)
		return rc;
	if (rc > 0)
		return a_fail_get(a, META_CAS_FAIL, rc);
	if (n.dir)
		return a_fail(a, META_CAS_FAIL, V2_ECODE_NOT_FILE, a->path, a->plen);
	if (!compare(a, &n))
		return a_fail_get(a, META_CAS_FAIL, V2_ECODE_TEST_FAILED);
	if (r->refresh)
		value = keep_value(a, &n, &vlen);
	return replace_node(a, &n, value, vlen, V2_ACT_CAS, META_CAS_SUCCESS);
}

/* remove_node deletes a node (and, for a directory, everything below). */
static int remove_node(struct actx *a, const char *path, size_t n, const struct v2_node *node)
{
	int rc = 0;

	if (node->dir)
		rc = v2tree_del_below(a->st, a->txn, path, n);
	if (rc == 0)
		rc = v2tree_del(a->st, a->txn, path, n, node->expire_ns);
	return rc;
}

/* removed_event writes the event of a delete / compareAndDelete / expire. */
static int removed_event(struct actx *a, int action, const struct v2_node *n)
{
	struct v2_node_ext e;

	memset(&e, 0, sizeof(e));
	e.key = a->path;
	e.key_len = a->plen;
	e.dir = n->dir;
	e.modified = a->m.index;
	e.created = n->created;
	return a_event(a, action, &e);
}

static int op_delete(struct actx *a)
{
	const struct v2_req *r = a->req;
	int dir = r->dir || r->recursive;
	struct v2_node n;
	int rc;

	if (is_readonly(a->path, a->plen)) /* counted as a success by etcd */
		return a_fail(a, META_DELETE_SUCCESS, V2_ECODE_ROOT_RONLY, "/", 1);
	rc = internal_get(a->st, a->txn, a->path, a->plen, &n);
	if (rc < 0)
		return rc;
	if (rc > 0)
		return a_fail_get(a, META_DELETE_FAIL, rc);
	if (n.dir && !dir)
		return a_fail(a, META_DELETE_FAIL, V2_ECODE_NOT_FILE, a->path, a->plen);
	if (n.dir && !r->recursive) {
		rc = v2tree_has_children(a->st, a->txn, a->path, a->plen);
		if (rc < 0)
			return rc;
		if (rc > 0)
			return a_fail(a, META_DELETE_FAIL, V2_ECODE_DIR_NOT_EMPTY, a->path, a->plen);
	}
	a_prev(a, &n);
	if ((rc = remove_node(a, a->path, a->plen, &n)) != 0)
		return rc;
	a->m.index++;
	a_stat(a, META_DELETE_SUCCESS);
	return removed_event(a, V2_ACT_DELETE, &n);
}

static int op_cad(struct actx *a)
{
	struct v2_node n;
	int rc;

	rc = internal_get(a->st, a->txn, a->path, a->plen, &n);
	if (rc < 0)
		return rc;
	if (rc > 0)
		return a_fail_get(a, META_CAD_FAIL, rc);
	/* etcd counts these two errors as successes */
	if (n.dir)
		return a_fail(a, META_CAD_SUCCESS, V2_ECODE_NOT_FILE, a->path, a->plen);
	if (!compare(a, &n))
		return a_fail_get(a, META_CAD_SUCCESS, V2_ECODE_TEST_FAILED);
	a_prev(a, &n);
	if ((rc = remove_node(a, a->path, a->plen, &n)) != 0)
		return rc;
	a->m.index++;
	a_stat(a, META_CAD_SUCCESS);
	return removed_event(a, V2_ACT_CAD, &n);
}

/* op_sync is etcd's DeleteExpiredKeys(time): one expire event per node
 * whose expiry is at or before the time, earliest first; a directory takes
 * its subtree with it. */
static int op_sync(struct actx *a)
{
	struct v2store *st = a->st;
	struct v2_node n;
	int64_t exp;
	int rc;

	a->res->etcd_index = a->m.index;
	for (;;) {
		rc = v2tree_first_expiry(st, a->txn, &exp);
		if (rc == CE_NOTFOUND || (rc == 0 && exp > a->req->time_ns))
			break;
		if (rc != 0)
			return rc;
		/* path2 holds the path; keep it in path (the event needs it) */
		buf_reset(&st->path);
		buf_put(&st->path, st->path2.data, st->path2.len);
		if (st->path.oom)
			return CE_NOMEM;
		a->path = (const char *)st->path.data;
		a->plen = st->path.len;
		if ((rc = v2tree_get(st, a->txn, a->path, a->plen, &n)) != 0)
			return rc == CE_NOTFOUND ? CE_CORRUPT : rc;
		a->have_prev = 0;
		a_prev(a, &n);
		if ((rc = remove_node(a, a->path, a->plen, &n)) != 0)
			return rc;
		a->m.index++;
		a_stat(a, META_EXPIRE_COUNT);
		if ((rc = removed_event(a, V2_ACT_EXPIRE, &n)) != 0)
			return rc;
	}
	return 0;
}

/* dispatch picks etcd's store operation as its applierV2 does. */
static int dispatch(struct actx *a)
{
	const struct v2_req *r = a->req;
	int cmp = r->prev_index > 0 || (r->has_prev_value && r->prev_value_len > 0);

	switch (r->op) {
	case V2_OP_PUT:
		if (r->prev_exist == 1)
			return cmp ? op_cas(a) : op_update(a);
		if (r->prev_exist == 0)
			return op_create(a, 0);
		return cmp ? op_cas(a) : op_set(a);
	case V2_OP_POST:
		return op_create(a, 1);
	case V2_OP_DELETE:
		return cmp ? op_cad(a) : op_delete(a);
	case V2_OP_SYNC:
		return op_sync(a);
	default:
		return CE_INVAL;
	}
}

int v2store_apply(struct v2store *st, DB_TXN *txn, const struct v2_req *req, struct v2_result *res)
{
	struct actx a;
	struct meta_v2 before;
	size_t i;
	int rc;

	if (!st->writer)
		return CE_INVAL;
	memset(&a, 0, sizeof(a));
	a.st = st;
	a.txn = txn;
	a.req = req;
	a.res = res;
	a.now = req->time_ns ? req->time_ns : clock_wall_ns();
	result_reset(res);
	if ((rc = meta_get_v2(st->meta, txn, &a.m)) != 0)
		return rc;
	before = a.m;
	if (req->op != V2_OP_SYNC) {
		if (memchr(req->path, 0, req->path_len) != NULL)
			return CE_INVAL; /* a NUL would break the key encoding */
		if (req->internal)
			v2_path_store(&st->path, req->path, req->path_len);
		else
			v2_path_user(&st->path, req->path, req->path_len);
		if (st->path.oom)
			return CE_NOMEM;
		a.path = (const char *)st->path.data;
		a.plen = st->path.len;
	}
	if ((rc = dispatch(&a)) != 0)
		return rc;
	if (memcmp(&before, &a.m, sizeof(before)) != 0 && (rc = meta_put_v2(st->meta, txn, &a.m)) != 0)
		return rc;
	for (i = 0; i < res->nevents; i++) {
		res->events[i].key = (const char *)res->evdata.data + res->events[i].key_off;
		res->events[i].body = (const char *)res->evdata.data + res->events[i].body_off;
	}
	return 0;
}

/* ---- reads ---- */

/* Readers use read-committed transactions: a read lock is held only for
 * the instant of one access, and the deadlock detector (DB_LOCK_MINWRITE)
 * always picks a reader, never the writer, as the victim; the reader then
 * gets CE_AGAIN and retries. Multiversion snapshot reads were measured to
 * cost the writer 40% of its time in page copies (docs/benchmarks.md). */
static int snap_begin(struct v2store *st, DB_TXN **txn)
{
	return store_db_err(st->env->txn_begin(st->env, NULL, txn, DB_READ_COMMITTED));
}

static int snap_end(DB_TXN *txn, int rc)
{
	/* A reader chosen as a deadlock victim must abort, not commit. */
	int c = rc != 0 ? txn->abort(txn) : txn->commit(txn, 0);

	return rc != 0 ? rc : store_db_err(c);
}

struct list_ctx {
	struct v2store *st;
	DB_TXN *txn;
	struct buf *out;
	struct buf *path; /* the directory being listed; children appended */
	int recursive;
	int64_t now;
	int count;
};

static int list_cb(void *arg, const char *name, size_t name_len, const struct v2_node *child);

/* list_dir writes ",\"nodes\":[...]" for the visible children, if any. */
static int list_dir(struct list_ctx *parent)
{
	struct list_ctx lc = *parent;
	int rc;

	lc.count = 0;
	rc = v2tree_list(lc.st, lc.txn, (const char *)lc.path->data, lc.path->len, list_cb, &lc);
	if (rc == 0 && lc.count > 0)
		buf_put_u8(lc.out, ']');
	return rc;
}

static int list_cb(void *arg, const char *name, size_t name_len, const struct v2_node *child)
{
	struct list_ctx *lc = arg;
	size_t keep = lc->path->len;
	struct v2_node_ext e;
	int rc = 0;

	if (name_len > 0 && name[0] == '_') /* hidden */
		return 0;
	if (lc->count++ == 0)
		V2JSON_LIT(lc->out, ",\"nodes\":[");
	else
		buf_put_u8(lc->out, ',');
	if (!(keep == 1 && lc->path->data[0] == '/'))
		buf_put_u8(lc->path, '/');
	buf_put(lc->path, name, name_len);
	if (lc->path->oom)
		return CE_NOMEM;
	node_ext(&e, (const char *)lc->path->data, lc->path->len, child);
	v2json_node_head(lc->out, &e, lc->now);
	if (child->dir && lc->recursive)
		rc = list_dir(lc);
	lc->path->len = keep;
	/* the path buffer may have moved: only indexes are used below */
	v2json_node_tail(lc->out, &e);
	return lc->out->oom ? CE_NOMEM : rc;
}

static int get_at(struct v2store *st, const char *path, size_t len, int internal, int recursive,
	int64_t now_ns, struct v2_result *res);

int v2store_get(struct v2store *st, const char *path, size_t len, int recursive, int sorted,
                int64_t now_ns, struct v2_result *res)
{
	(void)sorted; /* listings are always in key order, which sorted asks for */
	return get_at(st, path, len, 0, recursive, now_ns, res);
}

int v2store_get_internal(struct v2store *st, const char *path, int recursive, int64_t now_ns,
	struct v2_result *res)
{
	return get_at(st, path, strlen(path), 1, recursive, now_ns, res);
}

static int get_at(struct v2store *st, const char *path, size_t len, int internal, int recursive,
	int64_t now_ns, struct v2_result *res)
{
	DB_TXN *txn = NULL;
	struct meta_v2 m;
	struct v2_node n;
	struct v2_node_ext e;
	struct list_ctx lc;
	int rc;

	result_reset(res);
	if ((rc = snap_begin(st, &txn)) != 0)
		return rc;
	if (internal) {
		st->path.len = 0;
		buf_put(&st->path, path, len);
	} else {
		v2_path_user(&st->path, path, len);
	}
	rc = internal_get(st, txn, (const char *)st->path.data, st->path.len, &n);
	/* The index is read after the node, so it is never older than the
	 * node's modifiedIndex. */
	if (rc >= 0) {
		int mrc = meta_get_v2(st->meta, txn, &m);
		if (mrc != 0)
			return snap_end(txn, mrc);
	}
	if (rc > 0) {
		result_error(res, rc, (const char *)st->cause.data, st->cause.len, m.index);
		return snap_end(txn, 0);
	}
	if (rc < 0)
		return snap_end(txn, rc);
	res->etcd_index = m.index;
	V2JSON_LIT(&res->body, "{\"action\":\"get\",\"node\":");
	node_ext(&e, (const char *)st->path.data, st->path.len, &n);
	v2json_node_head(&res->body, &e, now_ns);
	if (n.dir) {
		memset(&lc, 0, sizeof(lc));
		lc.st = st;
		lc.txn = txn;
		lc.out = &res->body;
		lc.path = &st->path2;
		lc.recursive = recursive;
		lc.now = now_ns;
		buf_reset(&st->path2);
		buf_put(&st->path2, st->path.data, st->path.len);
		rc = list_dir(&lc);
	}
	v2json_node_tail(&res->body, &e);
	V2JSON_LIT(&res->body, "}\n");
	if (rc == 0 && res->body.oom)
		rc = CE_NOMEM;
	return snap_end(txn, rc);
}

int v2store_watch_lookup(struct v2store *st, const char *path, size_t len, int recursive,
                         uint64_t since_index, struct v2_result *res)
{
	DB_TXN *txn = NULL;
	struct meta_v2 m;
	uint64_t oldest = 0;
	char cause[96];
	int rc, k;

	result_reset(res);
	if ((rc = snap_begin(st, &txn)) != 0)
		return rc;
	if ((rc = meta_get_v2(st->meta, txn, &m)) != 0)
		return snap_end(txn, rc);
	if (since_index == 0)
		since_index = m.index + 1;
	v2_path_user(&st->path, path, len);
	rc = v2hist_scan(st, txn, (const char *)st->path.data, st->path.len, recursive, since_index,
	                 &res->found, &res->body, &oldest);
	if (rc == 0 && since_index < oldest) {
		k = snprintf(cause, sizeof(cause), "the requested history has been cleared [%" PRIu64 "/%" PRIu64 "]",
		             oldest, since_index);
		result_error(res, V2_ECODE_EVENT_INDEX_CLEARED, cause, (size_t)k, m.index);
		return snap_end(txn, 0);
	}
	res->etcd_index = m.index;
	return snap_end(txn, rc);
}

uint64_t v2store_current_index(struct v2store *st)
{
	DB_TXN *txn = NULL;
	struct meta_v2 m;

	if (snap_begin(st, &txn) != 0)
		return 0;
	if (snap_end(txn, meta_get_v2(st->meta, txn, &m)) != 0)
		return 0;
	return m.index;
}

int v2store_write_stats(struct v2store *st, json_t **out)
{
	DB_TXN *txn = NULL;
	struct meta_v2 m;
	json_t *o;
	int rc, i;

	*out = NULL;
	if ((rc = snap_begin(st, &txn)) != 0)
		return rc;
	if ((rc = snap_end(txn, meta_get_v2(st->meta, txn, &m))) != 0)
		return rc;
	o = json_object();
	if (o == NULL)
		return CE_NOMEM;
	for (i = 0; i < META_V2_NSTATS; i++) {
		if (json_object_set_new(o, meta_v2_stat_name(i), json_integer((json_int_t)m.stats[i])) != 0) {
			json_decref(o);
			return CE_NOMEM;
		}
	}
	*out = o;
	return 0;
}

int v2store_applied_index(struct v2store *st, DB_TXN *txn, uint64_t *out)
{
	DB_TXN *own = NULL;
	int rc;

	if (txn != NULL)
		return meta_get_applied(st->meta, txn, out);
	if ((rc = snap_begin(st, &own)) != 0)
		return rc;
	return snap_end(own, meta_get_applied(st->meta, own, out));
}

int v2store_set_applied(struct v2store *st, DB_TXN *txn, uint64_t index)
{
	return meta_set_applied(st->meta, txn, index);
}

int v2store_applied_term(struct v2store *st, DB_TXN *txn, uint64_t *out)
{
	DB_TXN *own = NULL;
	int rc;

	if (txn != NULL)
		return meta_get_applied_term(st->meta, txn, out);
	if ((rc = snap_begin(st, &own)) != 0)
		return rc;
	return snap_end(own, meta_get_applied_term(st->meta, own, out));
}

int v2store_set_applied_term(struct v2store *st, DB_TXN *txn, uint64_t term)
{
	return meta_set_applied_term(st->meta, txn, term);
}
