/* value.c - turn the text of a setting into its typed value, with the
 * syntax Go's flag package accepts (numbers with 0x/0o/0b prefixes, Go
 * durations, strconv.ParseBool's spellings), so every value etcd takes is
 * taken here too. Also: loading defaults and freeing values. */
#include "config.h"
#include "config/internal.h"
#include "util/goparse.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"

#define FIELD(cfg, f, type) ((type *)(void *)((char *)(cfg) + (f)->off))

/* go_parse_uint is strconv.ParseUint(s, 0, 64) without '_' separators.
 * Returns 0, -1 (syntax) or -2 (range). */
static int go_parse_uint(const char *s, uint64_t *out)
{
	unsigned base = 10;
	uint64_t v = 0;
	int range = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	} else if (s[0] == '0' && (s[1] == 'b' || s[1] == 'B')) {
		base = 2;
		s += 2;
	} else if (s[0] == '0' && (s[1] == 'o' || s[1] == 'O')) {
		base = 8;
		s += 2;
	} else if (s[0] == '0' && s[1] != '\0') {
		base = 8;
		s += 1;
	}
	if (*s == '\0')
		return -1;
	for (; *s; s++) {
		unsigned d;
		if (isdigit((unsigned char)*s))
			d = (unsigned)(*s - '0');
		else if (isxdigit((unsigned char)*s))
			d = (unsigned)(tolower((unsigned char)*s) - 'a' + 10);
		else
			return -1;
		if (d >= base)
			return -1;
		if (v > (UINT64_MAX - d) / base)
			range = 1;
		else
			v = v * base + d;
	}
	if (range)
		return -2;
	*out = v;
	return 0;
}

int go_parse_int(const char *s, int64_t *out)
{
	int neg = 0, rc;
	uint64_t u;

	if (*s == '+' || *s == '-') {
		neg = *s == '-';
		s++;
	}
	if ((rc = go_parse_uint(s, &u)) != 0)
		return rc;
	if (neg ? u > (uint64_t)INT64_MAX + 1 : u > (uint64_t)INT64_MAX)
		return -2;
	*out = neg ? (int64_t)(0 - u) : (int64_t)u;
	return 0;
}

static uint64_t unit_ns(const char *u, size_t n)
{
	static const struct {
		const char *name;
		uint64_t ns;
	} units[] = {{"ns", 1},          {"us", 1000},           {"\xc2\xb5s", 1000}, {"\xce\xbcs", 1000},
		     {"ms", 1000000},    {"s", 1000000000ULL},   {"m", 60000000000ULL},
		     {"h", 3600000000000ULL}};

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strlen(units[i].name) == n && memcmp(units[i].name, u, n) == 0)
			return units[i].ns;
	return 0;
}

/* One "<number><unit>" element of a duration; adds its value to *total. */
static int duration_elem(const char **sp, const char *orig, uint64_t *total, char *why, size_t whylen)
{
	const char *s = *sp, *us;
	uint64_t v = 0, frac = 0, scale = 1, unit;
	int pre = 0, post = 0;

	for (; isdigit((unsigned char)*s); s++, pre = 1) {
		if (v > ((uint64_t)1 << 63) / 10)
			goto invalid;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (*s == '.') {
		for (s++; isdigit((unsigned char)*s); s++, post = 1) {
			if (scale > UINT64_MAX / 100)
				continue; /* Go also drops digits past what fits */
			frac = frac * 10 + (uint64_t)(*s - '0');
			scale *= 10;
		}
	}
	if (!pre && !post)
		goto invalid;
	for (us = s; *s && *s != '.' && !isdigit((unsigned char)*s); s++)
		;
	if (us == s) {
		snprintf(why, whylen, "time: missing unit in duration \"%s\"", orig);
		return -1;
	}
	unit = unit_ns(us, (size_t)(s - us));
	if (unit == 0) {
		snprintf(why, whylen, "time: unknown unit \"%.*s\" in duration \"%s\"", (int)(s - us), us, orig);
		return -1;
	}
	if (v > ((uint64_t)1 << 63) / unit)
		goto invalid;
	v *= unit;
	if (frac > 0)
		v += (uint64_t)((double)frac * ((double)unit / (double)scale));
	if (v > ((uint64_t)1 << 63) || *total > ((uint64_t)1 << 63) - v)
		goto invalid;
	*total += v;
	*sp = s;
	return 0;
invalid:
	snprintf(why, whylen, "time: invalid duration \"%s\"", orig);
	return -1;
}

int go_parse_duration(const char *orig, int64_t *ns, char *why, size_t whylen)
{
	const char *s = orig;
	uint64_t total = 0;
	int neg = 0;

	if (*s == '-' || *s == '+') {
		neg = *s == '-';
		s++;
	}
	if (strcmp(s, "0") == 0) {
		*ns = 0;
		return 0;
	}
	if (*s == '\0') {
		snprintf(why, whylen, "time: invalid duration \"%s\"", orig);
		return -1;
	}
	while (*s != '\0')
		if (duration_elem(&s, orig, &total, why, whylen) != 0)
			return -1;
	if (!neg && total > (uint64_t)INT64_MAX) {
		snprintf(why, whylen, "time: invalid duration \"%s\"", orig);
		return -1;
	}
	*ns = neg ? (int64_t)(0 - total) : (int64_t)total;
	return 0;
}

void str_list_free(struct str_list *l)
{
	for (int i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

int str_list_push(struct str_list *l, const char *s)
{
	char **nv = realloc(l->v, (size_t)(l->n + 1) * sizeof(*nv));
	char *c = strdup(s);

	if (nv != NULL)
		l->v = nv;
	if (nv == NULL || c == NULL) {
		free(c);
		return CE_NOMEM;
	}
	l->v[l->n++] = c;
	return 0;
}

/* str_list_split splits on ',' and drops repeats (etcd's "unique" string
 * flags); "" gives an empty list. */
int str_list_split(const char *csv, struct str_list *out)
{
	struct str_list l = {0, NULL};
	const char *p = csv;

	if (*csv == '\0')
		goto done;
	for (;;) {
		size_t n = strcspn(p, ",");
		char *one = strndup(p, n);
		int dup = 0;

		if (one == NULL)
			goto oom;
		for (int i = 0; i < l.n && !dup; i++)
			dup = strcmp(l.v[i], one) == 0;
		if (!dup && n > 0 && str_list_push(&l, one) != 0) {
			free(one);
			goto oom;
		}
		free(one);
		if (p[n] == '\0')
			break;
		p += n + 1;
	}
done:
	*out = l;
	return 0;
oom:
	str_list_free(&l);
	return CE_NOMEM;
}

void cfg_warn(struct cetcd_config *cfg, const char *fmt, ...)
{
	va_list ap;
	char *msg = NULL;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) >= 0) {
		str_list_push(&cfg->warnings, msg);
		free(msg);
	}
	va_end(ap);
}

static int set_number(struct cetcd_config *cfg, const struct config_flag *f, const char *val, char *why,
		      size_t whylen)
{
	int rc;

	if (f->type == CT_UINT)
		rc = go_parse_uint(val, FIELD(cfg, f, uint64_t));
	else
		rc = go_parse_int(val, FIELD(cfg, f, int64_t));
	if (rc != 0)
		return errf(why, whylen, CE_INVAL, "%s", rc == -2 ? CFG_RANGE_ERROR : CFG_PARSE_ERROR);
	return 0;
}

static int set_string(struct cetcd_config *cfg, const struct config_flag *f, const char *val, char *why,
		      size_t whylen)
{
	char **dst = FIELD(cfg, f, char *);
	char *c;

	if (f->type == CT_ENUM) {
		int ok = 0;
		for (const char *const *ch = f->choices; *ch && !ok; ch++)
			ok = strcmp(*ch, val) == 0;
		if (!ok)
			return errf(why, whylen, CE_INVAL, CFG_CHOICE_ERROR);
	}
	c = strdup(val);
	if (c == NULL)
		return errf(why, whylen, CE_NOMEM, "out of memory");
	free(*dst);
	*dst = c;
	return 0;
}

static int set_lists(struct cetcd_config *cfg, const struct config_flag *f, const char *val, char *why,
		     size_t whylen)
{
	if (f->type == CT_URLS) {
		struct url_list l = {0, NULL};
		int rc;
		/* etcd's URL flags accept "" and keep their current value */
		if (*val == '\0')
			return 0;
		if ((rc = url_list_parse(val, &l, why, whylen)) != 0)
			return rc;
		url_list_free(FIELD(cfg, f, struct url_list));
		*FIELD(cfg, f, struct url_list) = l;
	} else {
		struct str_list l;
		if (str_list_split(val, &l) != 0)
			return errf(why, whylen, CE_NOMEM, "out of memory");
		str_list_free(FIELD(cfg, f, struct str_list));
		*FIELD(cfg, f, struct str_list) = l;
	}
	return 0;
}

int cfg_value_set(struct cetcd_config *cfg, const struct config_flag *f, const char *val, char *why,
		  size_t whylen)
{
	char tmp[160];

	switch (f->type) {
	case CT_STR:
	case CT_ENUM:
		return set_string(cfg, f, val, why, whylen);
	case CT_BOOL:
		if (go_parse_bool(val, FIELD(cfg, f, bool)) != 0)
			return errf(why, whylen, CE_INVAL, CFG_PARSE_ERROR);
		return 0;
	case CT_UINT:
	case CT_INT:
		return set_number(cfg, f, val, why, whylen);
	case CT_DUR:
		/* Go's flag package reports any bad duration as "parse error" */
		if (go_parse_duration(val, FIELD(cfg, f, int64_t), tmp, sizeof(tmp)) != 0)
			return errf(why, whylen, CE_INVAL, CFG_PARSE_ERROR);
		return 0;
	case CT_URLS:
	case CT_LIST:
		return set_lists(cfg, f, val, why, whylen);
	case CT_IGNORED:
		cfg_warn(cfg, "flag \"-%s\" is no longer supported - ignoring.", f->name);
		return 0;
	}
	return errf(why, whylen, CE_INVAL, "unknown flag type");
}

int cfg_defaults(struct cetcd_config *cfg, char *err, size_t errlen)
{
	char why[256];

	memset(cfg, 0, sizeof(*cfg));
	for (int i = 0; i < config_flag_count(); i++) {
		const struct config_flag *f = config_flag_get(i);
		const char *d = f->def;

		if (f->type == CT_IGNORED)
			continue;
		if (d == NULL && f->type != CT_STR && f->type != CT_ENUM)
			continue; /* zero is the empty value */
		if (cfg_value_set(cfg, f, d ? d : "", why, sizeof(why)) != 0)
			return errf(err, errlen, CE_NOMEM, "default for --%s: %s", f->name, why);
	}
	return 0;
}

void cfg_free_values(struct cetcd_config *cfg)
{
	for (int i = 0; i < config_flag_count(); i++) {
		const struct config_flag *f = config_flag_get(i);

		switch (f->type) {
		case CT_STR:
		case CT_ENUM:
			free(*FIELD(cfg, f, char *));
			*FIELD(cfg, f, char *) = NULL;
			break;
		case CT_URLS:
			url_list_free(FIELD(cfg, f, struct url_list));
			break;
		case CT_LIST:
			str_list_free(FIELD(cfg, f, struct str_list));
			break;
		default:
			break;
		}
	}
	initial_cluster_free(&cfg->cluster);
}
