/* test_docs.c - keeps the shipped documentation honest against the flag
 * table: etc/cetcd.conf.yml loads cleanly and gives exactly the defaults,
 * and every flag / key / variable appears in the man pages and the sample
 * environment file. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suites.h"

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *text = NULL;
	long n;

	ck_assert_msg(f != NULL, "cannot open %s", path);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	text = calloc((size_t)n + 1, 1);
	ck_assert_ptr_nonnull(text);
	ck_assert_uint_eq(fread(text, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return text;
}

/* roff writes '-' as "\-"; dashes turns "data-dir" into "data\-dir". */
static void dashes(const char *in, char *out, size_t len)
{
	size_t o = 0;

	for (; *in && o + 2 < len; in++) {
		if (*in == '-')
			out[o++] = '\\';
		out[o++] = *in;
	}
	out[o] = '\0';
}

static int documented(const struct config_flag *f)
{
	return f->type != CT_IGNORED && f->group != CG_HIDDEN;
}

#define FIELD(c, f, t) (*(const t *)(const void *)((const char *)(c) + (f)->off))

/* same_value compares one flag's value in two configurations. */
static int same_value(const struct cetcd_config *a, const struct cetcd_config *b, const struct config_flag *f)
{
	switch (f->type) {
	case CT_STR:
	case CT_ENUM:
		return strcmp(FIELD(a, f, char *), FIELD(b, f, char *)) == 0;
	case CT_BOOL:
		return FIELD(a, f, bool) == FIELD(b, f, bool);
	case CT_UINT:
		return FIELD(a, f, uint64_t) == FIELD(b, f, uint64_t);
	case CT_INT:
	case CT_DUR:
		return FIELD(a, f, int64_t) == FIELD(b, f, int64_t);
	case CT_URLS: {
		const struct url_list *x = &FIELD(a, f, struct url_list), *y = &FIELD(b, f, struct url_list);
		if (x->n != y->n)
			return 0;
		for (int i = 0; i < x->n; i++)
			if (strcmp(x->v[i].str, y->v[i].str) != 0)
				return 0;
		return 1;
	}
	case CT_LIST: {
		const struct str_list *x = &FIELD(a, f, struct str_list), *y = &FIELD(b, f, struct str_list);
		if (x->n != y->n)
			return 0;
		for (int i = 0; i < x->n; i++)
			if (strcmp(x->v[i], y->v[i]) != 0)
				return 0;
		return 1;
	}
	case CT_IGNORED:
		return 1;
	}
	return 0;
}

START_TEST(test_sample_config_gives_defaults)
{
	struct cetcd_config sample, def;
	char err[1024];

	ck_assert_msg(parse_args(&sample, err, sizeof(err), NULL, "--config-file", SAMPLE_CONFIG, NULL) == 0, "%s", err);
	ck_assert_msg(sample.warnings.n == 0, "warning: %s", sample.warnings.n ? sample.warnings.v[0] : "");
	ck_assert_int_eq(parse_args(&def, err, sizeof(err), NULL, NULL), 0);
	for (int i = 0; i < config_flag_count(); i++) {
		const struct config_flag *f = config_flag_get(i);
		if (f->yaml != NULL)
			ck_assert_msg(same_value(&sample, &def, f), "sample config: %s is not the default", f->yaml);
	}
	ck_assert(sample.enable_v2);
	ck_assert_str_eq(sample.data_dir, "default.etcd");
	config_close(&sample);
	config_close(&def);
}
END_TEST

START_TEST(test_sample_config_has_every_key)
{
	char *text = slurp(SAMPLE_CONFIG);

	for (int i = 0; i < config_flag_count(); i++) {
		const struct config_flag *f = config_flag_get(i);
		const char *dot;
		char want[160];

		if (f->yaml == NULL)
			continue;
		dot = strchr(f->yaml, '.');
		if (dot == NULL)
			snprintf(want, sizeof(want), "\n%s:", f->yaml);
		else
			snprintf(want, sizeof(want), "\n  %s:", dot + 1);
		ck_assert_msg(strstr(text, want) != NULL, "etc/cetcd.conf.yml lacks %s", f->yaml);
	}
	free(text);
}
END_TEST

START_TEST(test_man_pages_cover_table)
{
	char *man1 = slurp(MAN_CETCD), *man5 = slurp(MAN_CETCD_CONF), *env = slurp(SAMPLE_ENV);

	for (int i = 0; i < config_flag_count(); i++) {
		const struct config_flag *f = config_flag_get(i);
		char want[200], tmp[160], var[160];

		if (!documented(f))
			continue;
		dashes(f->name, tmp, sizeof(tmp));
		snprintf(want, sizeof(want), "\\-\\-%s", tmp);
		ck_assert_msg(strstr(man1, want) != NULL, "man/cetcd.1 lacks --%s", f->name);
		config_flag_env(f, var, sizeof(var));
		if (!(f->flags & CF_NOENV)) {
			ck_assert_msg(strstr(man1, var) != NULL, "man/cetcd.1 lacks %s", var);
			snprintf(want, sizeof(want), "%s=", var);
			ck_assert_msg(strstr(env, want) != NULL, "etc/cetcd.env lacks %s", var);
		}
		if (f->yaml != NULL) {
			const char *dot = strchr(f->yaml, '.');
			dashes(dot ? dot + 1 : f->yaml, tmp, sizeof(tmp));
			ck_assert_msg(strstr(man5, tmp) != NULL, "man/cetcd.conf.5 lacks %s", f->yaml);
		}
	}
	free(man1);
	free(man5);
	free(env);
}
END_TEST

Suite *suite_docs(void)
{
	Suite *s = suite_create("docs");
	TCase *tc = tcase_create("shipped");

	tcase_add_test(tc, test_sample_config_gives_defaults);
	tcase_add_test(tc, test_sample_config_has_every_key);
	tcase_add_test(tc, test_man_pages_cover_table);
	suite_add_tcase(s, tc);
	return s;
}
