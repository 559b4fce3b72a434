/* yaml.c - load etcd's YAML configuration file (--config-file) with libyaml.
 *
 * Keys are the flag names (see the table's yaml column); TLS settings sit in
 * the client-transport-security / peer-transport-security mappings as in
 * etcd. Value types follow etcd's loader: booleans and numbers must be YAML
 * booleans and integers, URL lists are comma-separated strings, log-outputs
 * is a sequence. Durations are integer nanoseconds as in etcd; cetcd also
 * takes Go duration text ("5s"). Every error names the file, line and key;
 * unknown keys are warned about (etcd silently drops them).
 */
#include "config.h"
#include "config/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "util/err.h"

struct yctx {
	struct cetcd_config *cfg;
	yaml_document_t *doc;
	const char *path;
	unsigned char *set;
	char *err;
	size_t errlen;
};

static unsigned long node_line(const yaml_node_t *n)
{
	return (unsigned long)n->start_mark.line + 1;
}

static int is_plain(const yaml_node_t *n)
{
	return n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

static int word_in(const char *s, const char *const *words)
{
	for (; *words; words++)
		if (strcmp(s, *words) == 0)
			return 1;
	return 0;
}

/* YAML 1.1 null and boolean words (yaml.v2, which etcd uses, reads them). */
static const char *const y_null[] = {"", "~", "null", "Null", "NULL", NULL};
static const char *const y_true[] = {"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON", NULL};
static const char *const y_false[] = {"n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF", NULL};

static int bad_value(struct yctx *y, const yaml_node_t *n, const char *key, const char *val, const char *why)
{
	return errf(y->err, y->errlen, CE_INVAL, "%s:%lu: key \"%s\": invalid value \"%s\": %s", y->path, node_line(n),
		    key, val, why);
}

static int bad_type(struct yctx *y, const yaml_node_t *n, const char *key, const char *want)
{
	static const char *const kinds[] = {"nothing", "a scalar", "a sequence", "a mapping"};

	return errf(y->err, y->errlen, CE_INVAL, "%s:%lu: key \"%s\": expected %s, got %s", y->path, node_line(n), key,
		    want, kinds[n->type <= YAML_MAPPING_NODE ? n->type : 0]);
}

/* dur_value: an integer is nanoseconds (etcd reads a time.Duration from
 * JSON/YAML as a number); text is a Go duration (a cetcd extension). */
static int dur_value(struct yctx *y, const struct config_flag *f, const yaml_node_t *n, const char *key,
		     const char *v)
{
	int64_t *dst = (int64_t *)(void *)((char *)y->cfg + f->off);
	char why[256];

	if (is_plain(n) && go_parse_int(v, dst) == 0)
		return 0;
	if (go_parse_duration(v, dst, why, sizeof(why)) == 0)
		return 0;
	return bad_value(y, n, key, v, "expected integer nanoseconds or a duration such as \"5s\"");
}

/* scalar_value applies one scalar to flag f with YAML's typing rules. */
static int scalar_value(struct yctx *y, const struct config_flag *f, const yaml_node_t *n, const char *key)
{
	const char *v = (const char *)n->data.scalar.value;
	char why[512];

	if (is_plain(n) && word_in(v, y_null))
		return 0; /* null keeps the default, as in etcd */
	switch (f->type) {
	case CT_BOOL:
		if (!is_plain(n) || (!word_in(v, y_true) && !word_in(v, y_false)))
			return bad_value(y, n, key, v, "expected a boolean (true or false)");
		*(bool *)(void *)((char *)y->cfg + f->off) = word_in(v, y_true);
		return 0;
	case CT_UINT:
	case CT_INT:
		if (!is_plain(n) || cfg_value_set(y->cfg, f, v, why, sizeof(why)) != 0)
			return bad_value(y, n, key, v,
					 f->type == CT_UINT ? "expected a non-negative integer" : "expected an integer");
		return 0;
	case CT_DUR:
		return dur_value(y, f, n, key, v);
	case CT_URLS:
		if (*v == '\0')
			return 0; /* etcd ignores an empty URL string */
		break;
	default:
		break;
	}
	if (cfg_value_set(y->cfg, f, v, why, sizeof(why)) != 0) {
		if (f->type == CT_ENUM) {
			char list[128] = "";
			for (const char *const *c = f->choices; *c; c++)
				snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", c == f->choices ? "" : ", ",
					 *c);
			snprintf(why, sizeof(why), "expected one of: %s", list);
		}
		return bad_value(y, n, key, v, why);
	}
	return 0;
}

/* seq_value applies a sequence of scalars to a list flag. */
static int seq_value(struct yctx *y, const struct config_flag *f, const yaml_node_t *n, const char *key)
{
	struct str_list items = {0, NULL};
	char *joined = NULL, why[512];
	size_t len = 1;
	int rc = 0;

	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
		yaml_node_t *item = yaml_document_get_node(y->doc, *it);
		if (item == NULL || item->type != YAML_SCALAR_NODE) {
			rc = bad_type(y, item ? item : n, key, "a list of strings");
			goto out;
		}
		if (str_list_push(&items, (const char *)item->data.scalar.value) != 0) {
			rc = errf(y->err, y->errlen, CE_NOMEM, "out of memory");
			goto out;
		}
		len += strlen(items.v[items.n - 1]) + 1;
	}
	joined = calloc(len, 1);
	if (joined == NULL) {
		rc = errf(y->err, y->errlen, CE_NOMEM, "out of memory");
		goto out;
	}
	for (int i = 0; i < items.n; i++) {
		if (i > 0)
			strcat(joined, ",");
		strcat(joined, items.v[i]);
	}
	if (cfg_value_set(y->cfg, f, joined, why, sizeof(why)) != 0)
		rc = bad_value(y, n, key, joined, why);
out:
	free(joined);
	str_list_free(&items);
	return rc;
}

static int apply_node(struct yctx *y, const struct config_flag *f, const yaml_node_t *n, const char *key)
{
	int rc;

	if (n->type == YAML_SCALAR_NODE)
		rc = scalar_value(y, f, n, key);
	else if (n->type == YAML_SEQUENCE_NODE && (f->type == CT_LIST || f->type == CT_URLS))
		rc = seq_value(y, f, n, key);
	else
		rc = bad_type(y, n, key, f->type == CT_LIST || f->type == CT_URLS ? "a string or a list" : "a scalar");
	if (rc == 0)
		y->set[cfg_flag_index(f)] = 1;
	return rc;
}

static int apply_mapping(struct yctx *y, const yaml_node_t *map, const char *prefix);

/* apply_pair handles one "key: value" of a mapping; prefix is "" at the top
 * level or "client-transport-security." inside that mapping. */
static int apply_pair(struct yctx *y, const yaml_node_pair_t *p, const char *prefix)
{
	yaml_node_t *k = yaml_document_get_node(y->doc, p->key);
	yaml_node_t *v = yaml_document_get_node(y->doc, p->value);
	const struct config_flag *f;
	char key[256];

	if (k == NULL || v == NULL)
		return errf(y->err, y->errlen, CE_INVAL, "%s: malformed mapping", y->path);
	if (k->type != YAML_SCALAR_NODE)
		return errf(y->err, y->errlen, CE_INVAL, "%s:%lu: a key must be a plain string", y->path, node_line(k));
	snprintf(key, sizeof(key), "%s%s", prefix, (const char *)k->data.scalar.value);
	if (*prefix == '\0' && (strcmp(key, "client-transport-security") == 0 ||
				strcmp(key, "peer-transport-security") == 0)) {
		if (v->type == YAML_SCALAR_NODE && is_plain(v) && word_in((const char *)v->data.scalar.value, y_null))
			return 0;
		if (v->type != YAML_MAPPING_NODE)
			return bad_type(y, v, key, "a mapping");
		strcat(key, ".");
		return apply_mapping(y, v, key);
	}
	f = config_flag_yaml_find(key);
	if (f == NULL) {
		cfg_warn(y->cfg, "%s:%lu: unknown configuration key \"%s\" ignored", y->path, node_line(k), key);
		return 0;
	}
	return apply_node(y, f, v, key);
}

static int apply_mapping(struct yctx *y, const yaml_node_t *map, const char *prefix)
{
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		int rc = apply_pair(y, p, prefix);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int load_doc(yaml_document_t *doc, const char *path, char *err, size_t errlen)
{
	yaml_parser_t parser;
	FILE *fp = fopen(path, "rb");
	int rc = 0;

	if (fp == NULL)
		return errf(err, errlen, CE_INVAL, "open config file %s: %s", path, strerror(errno));
	if (!yaml_parser_initialize(&parser)) {
		fclose(fp);
		return errf(err, errlen, CE_NOMEM, "out of memory");
	}
	yaml_parser_set_input_file(&parser, fp);
	if (!yaml_parser_load(&parser, doc)) {
		const yaml_mark_t *m = parser.problem_mark.line || parser.problem_mark.column || !parser.context
					       ? &parser.problem_mark
					       : &parser.context_mark;
		rc = errf(err, errlen, CE_INVAL, "%s:%lu:%lu: invalid YAML: %s%s%s%s", path, (unsigned long)m->line + 1,
			  (unsigned long)m->column + 1, parser.problem ? parser.problem : "parse error",
			  parser.context ? " (" : "", parser.context ? parser.context : "", parser.context ? ")" : "");
	}
	yaml_parser_delete(&parser);
	fclose(fp);
	return rc;
}

int cfg_load_yaml(struct cetcd_config *cfg, const char *path, unsigned char *set, char *err, size_t errlen)
{
	yaml_document_t doc;
	yaml_node_t *root;
	struct yctx y = {cfg, &doc, path, set, err, errlen};
	int rc;

	if ((rc = load_doc(&doc, path, err, errlen)) != 0)
		return rc;
	root = yaml_document_get_root_node(&doc);
	if (root == NULL)
		rc = 0; /* an empty file: all defaults */
	else if (root->type == YAML_SCALAR_NODE && is_plain(root) &&
		 word_in((const char *)root->data.scalar.value, y_null))
		rc = 0;
	else if (root->type != YAML_MAPPING_NODE)
		rc = errf(err, errlen, CE_INVAL, "%s:%lu: the file must be a mapping of keys to values", path,
			  node_line(root));
	else
		rc = apply_mapping(&y, root, "");
	yaml_document_delete(&doc);
	return rc;
}
