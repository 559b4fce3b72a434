/* v2members.c - read etcd's membership keys under /0 into one JSON object
 * (see v2members.h). */
#include "config.h"
#include "store/v2members.h"

#include "store/v2store_int.h"
#include "util/err.h"

#include <string.h>

#define MEMBERS_DIR "/0/members"
#define REMOVED_DIR "/0/removed_members"

/* collect_name appends each child's name to the JSON array arg; the
 * values are read after the scan, whose buffers they would share. */
static int collect_name(void *arg, const char *name, size_t name_len, const struct v2_node *child)
{
	json_t *names = arg;

	(void)child;
	if (json_array_append_new(names, json_stringn(name, name_len)) != 0)
		return CE_NOMEM;
	return 0;
}

static int list_names(struct v2store *st, DB_TXN *txn, const char *dir, json_t **out)
{
	json_t *names = json_array();
	int rc;

	*out = NULL;
	if (names == NULL)
		return CE_NOMEM;
	rc = v2tree_list(st, txn, dir, strlen(dir), collect_name, names);
	if (rc != 0 && rc != CE_NOTFOUND) {
		json_decref(names);
		return rc;
	}
	*out = names;
	return 0;
}

/* read_json parses the value of store path as a JSON object (NULL if the
 * node is missing or its value is not an object). */
static int read_json(struct v2store *st, DB_TXN *txn, const char *path, json_t **out)
{
	struct v2_node n;
	int rc = v2tree_get(st, txn, path, strlen(path), &n);

	*out = NULL;
	if (rc == CE_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	*out = json_loadb(n.value, n.value_len, 0, NULL);
	if (*out != NULL && !json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
	}
	return 0;
}

static json_t *array_or_empty(json_t *o, const char *field)
{
	json_t *a = o ? json_object_get(o, field) : NULL;

	return json_is_array(a) ? json_deep_copy(a) : json_array();
}

static int member_json(struct v2store *st, DB_TXN *txn, const char *id, json_t **out)
{
	char path[128];
	json_t *raft = NULL, *attrs = NULL, *m, *name;
	int rc;

	*out = NULL;
	snprintf(path, sizeof(path), MEMBERS_DIR "/%s/raftAttributes", id);
	if ((rc = read_json(st, txn, path, &raft)) != 0)
		return rc;
	snprintf(path, sizeof(path), MEMBERS_DIR "/%s/attributes", id);
	if ((rc = read_json(st, txn, path, &attrs)) != 0) {
		json_decref(raft);
		return rc;
	}
	m = json_object();
	name = attrs ? json_object_get(attrs, "name") : NULL;
	json_object_set_new(m, "id", json_string(id));
	json_object_set_new(m, "name", json_string(json_is_string(name) ? json_string_value(name) : ""));
	json_object_set_new(m, "peerURLs", array_or_empty(raft, "peerURLs"));
	json_object_set_new(m, "clientURLs", array_or_empty(attrs, "clientURLs"));
	if (raft && json_is_true(json_object_get(raft, "isLearner")))
		json_object_set_new(m, "isLearner", json_true());
	json_decref(raft);
	json_decref(attrs);
	*out = m;
	return m ? 0 : CE_NOMEM;
}

int v2store_members(struct v2store *st, DB_TXN *txn, json_t **out)
{
	json_t *ids = NULL, *removed = NULL, *members = NULL, *o = NULL, *v;
	size_t i;
	int rc;

	*out = NULL;
	if ((rc = list_names(st, txn, MEMBERS_DIR, &ids)) != 0 ||
	    (rc = list_names(st, txn, REMOVED_DIR, &removed)) != 0)
		goto out;
	members = json_array();
	json_array_foreach(ids, i, v) {
		json_t *m = NULL;
		if ((rc = member_json(st, txn, json_string_value(v), &m)) != 0)
			goto out;
		json_array_append_new(members, m);
	}
	o = json_object();
	if (o == NULL) {
		rc = CE_NOMEM;
		goto out;
	}
	json_object_set_new(o, "members", members);
	json_object_set_new(o, "removed", removed);
	members = removed = NULL;
	*out = o;
out:
	json_decref(ids);
	json_decref(removed);
	json_decref(members);
	return rc;
}
