/* parse.c - config_parse(): command line with Go flag semantics, then
 * either the YAML file or the ETCD_* environment, then validation; the
 * precedence rules are etcd 3.4's (see cfg.h). */
#include "config.h"
#include "config/cfg.h"

#include <stdlib.h>
#include <string.h>

#include "config/internal.h"
#include "util/err.h"

/* Values of the per-flag "set" marks. */
#define SET_ARGV 1
#define SET_ENV 2

#define PARSE_STOP 1
#define PARSE_HELP 2

/* parse_value applies one flag's value given on the command line and
 * reports errors as Go's flag package words them. */
static int parse_value(struct cetcd_config *cfg, const struct config_flag *f, const char *val, char *err,
		       size_t errlen)
{
	char why[512];

	if (cfg_value_set(cfg, f, val, why, sizeof(why)) == 0)
		return 0;
	if (f->type == CT_BOOL)
		return errf(err, errlen, CE_INVAL, "invalid boolean value \"%s\" for -%s: %s", val, f->name, why);
	return errf(err, errlen, CE_INVAL, "invalid value \"%s\" for flag -%s: %s", val, f->name, why);
}

/* parse_one handles argv[*i] like Go's FlagSet.parseOne: returns 0 (a flag
 * was consumed), PARSE_STOP (first non-flag or "--"), PARSE_HELP, or an
 * error. */
static int parse_one(struct cetcd_config *cfg, unsigned char *set, int argc, char **argv, int *i, char *err,
		     size_t errlen)
{
	const char *s = argv[*i], *name, *eq, *val;
	const struct config_flag *f;
	char fname[128];
	size_t nl;

	if (s[0] != '-' || s[1] == '\0')
		return PARSE_STOP;
	name = s + 1;
	if (*name == '-') {
		name++;
		if (*name == '\0') {
			(*i)++;
			return PARSE_STOP;
		}
	}
	if (*name == '-' || *name == '=')
		return errf(err, errlen, CE_INVAL, "bad flag syntax: %s", s);
	eq = strchr(name, '=');
	nl = eq ? (size_t)(eq - name) : strlen(name);
	snprintf(fname, sizeof(fname), "%.*s", (int)nl, name);
	f = nl < sizeof(fname) ? config_flag_find(fname) : NULL;
	if (f == NULL) {
		if (strcmp(fname, "help") == 0 || strcmp(fname, "h") == 0)
			return PARSE_HELP;
		return errf(err, errlen, CE_INVAL, "flag provided but not defined: -%.*s", (int)nl, name);
	}
	(*i)++;
	if (eq != NULL)
		val = eq + 1;
	else if (f->type == CT_BOOL || f->type == CT_IGNORED)
		val = "true"; /* a bare boolean never takes the next argument */
	else if (*i < argc)
		val = argv[(*i)++];
	else
		return errf(err, errlen, CE_INVAL, "flag needs an argument: -%s", f->name);
	set[cfg_flag_index(f)] = SET_ARGV;
	return parse_value(cfg, f, val, err, errlen);
}

static int parse_args(struct cetcd_config *cfg, unsigned char *set, int argc, char **argv, char *err,
		      size_t errlen)
{
	int i = 1, rc = 0;

	while (i < argc && (rc = parse_one(cfg, set, argc, argv, &i, err, errlen)) == 0)
		;
	if (rc == PARSE_HELP) {
		cfg->print_help = true;
		return PARSE_HELP;
	}
	if (rc < 0)
		return rc;
	if (i < argc)
		return errf(err, errlen, CE_INVAL, "'%s' is not a valid flag", argv[i]);
	return 0;
}

static const char *env_get(char **envp, const char *key)
{
	size_t kl = strlen(key);

	for (char **e = envp; e && *e; e++)
		if (strncmp(*e, key, kl) == 0 && (*e)[kl] == '=')
			return *e + kl + 1; /* first one wins, as in Go */
	return NULL;
}

/* env_flag finds the flag whose variable is the key of entry ("K=V"). */
static const struct config_flag *env_flag(const char *entry)
{
	size_t kl = strcspn(entry, "=");
	char name[160];

	for (int i = 0; i < config_flag_count(); i++) {
		const struct config_flag *f = config_flag_get(i);
		config_flag_env(f, name, sizeof(name));
		if (strlen(name) == kl && strncmp(name, entry, kl) == 0)
			return f;
	}
	return NULL;
}

/* apply_env is etcd's flags.SetFlagsFromEnv: fill each flag not given on
 * the command line from a non-empty ETCD_<NAME>; then refuse variables
 * that shadow a command-line flag and warn about unknown ETCD_* ones. */
static int apply_env(struct cetcd_config *cfg, unsigned char *set, char **envp, char *err, size_t errlen)
{
	char key[160], why[512];

	for (int i = 0; i < config_flag_count(); i++) {
		const struct config_flag *f = config_flag_get(i);
		const char *v;

		if ((f->flags & CF_NOENV) || set[i] == SET_ARGV)
			continue;
		config_flag_env(f, key, sizeof(key));
		v = env_get(envp, key);
		if (v == NULL || *v == '\0')
			continue;
		if (cfg_value_set(cfg, f, v, why, sizeof(why)) != 0)
			return errf(err, errlen, CE_INVAL, "invalid value \"%s\" for %s: %s", v, key, why);
		set[i] = SET_ENV;
	}
	for (char **e = envp; e && *e; e++) {
		const struct config_flag *f = env_flag(*e);
		int kl = (int)strcspn(*e, "=");

		if (f != NULL && set[cfg_flag_index(f)] == SET_ARGV)
			return errf(err, errlen, CE_INVAL,
				    "conflicting environment variable \"%.*s\" is shadowed by corresponding "
				    "command-line flag (either unset environment variable or disable flag)",
				    kl, *e);
		if (f == NULL && strncmp(*e, "ETCD_", 5) == 0)
			cfg_warn(cfg, "unrecognized environment variable %s", *e);
	}
	return 0;
}

/* ignored_list names what a config file makes cetcd ignore. */
static void ignored_list(const unsigned char *set, char **envp, char *out, size_t len)
{
	size_t o = 0;

	out[0] = '\0';
	for (int i = 0; i < config_flag_count() && o < len; i++) {
		const struct config_flag *f = config_flag_get(i);
		if (set[i] == SET_ARGV && strcmp(f->name, "config-file") != 0)
			o += (size_t)snprintf(out + o, len - o, "%s--%s", o ? ", " : "", f->name);
	}
	for (char **e = envp; e && *e && o < len; e++)
		if (strncmp(*e, "ETCD_", 5) == 0 && strncmp(*e, "ETCD_CONFIG_FILE=", 17) != 0)
			o += (size_t)snprintf(out + o, len - o, "%s%.*s", o ? ", " : "", (int)strcspn(*e, "="), *e);
}

/* from_file restarts from defaults and loads the YAML file, as etcd does
 * when --config-file is given. */
static int from_file(struct cetcd_config *cfg, unsigned char *set, const char *path_in, char **envp, char *err,
		     size_t errlen)
{
	struct str_list warnings = cfg->warnings;
	char ign[1024], *path = strdup(path_in);
	int rc;

	if (path == NULL)
		return errf(err, errlen, CE_NOMEM, "out of memory");
	ignored_list(set, envp, ign, sizeof(ign));
	cfg->warnings = (struct str_list){0, NULL};
	cfg_free_values(cfg);
	rc = cfg_defaults(cfg, err, errlen);
	str_list_free(&cfg->warnings);
	cfg->warnings = warnings;
	free(cfg->config_file);
	cfg->config_file = path;
	if (rc != 0)
		return rc;
	if (ign[0] != '\0')
		cfg_warn(cfg,
			 "loaded server configuration from \"%s\"; other command-line flags and environment "
			 "variables are ignored (%s)",
			 path, ign);
	memset(set, 0, (size_t)config_flag_count());
	rc = cfg_load_yaml(cfg, path, set, err, errlen);
	if (rc != 0)
		return rc;
	return cfg_validate(cfg, set, 0, err, errlen);
}

int config_parse(struct cetcd_config *cfg, int argc, char **argv, char **envp, char *err, size_t errlen)
{
	unsigned char *set;
	const char *file;
	int rc;

	if ((rc = cfg_defaults(cfg, err, errlen)) != 0)
		return rc;
	set = calloc((size_t)config_flag_count(), 1);
	if (set == NULL)
		return errf(err, errlen, CE_NOMEM, "out of memory");
	rc = parse_args(cfg, set, argc, argv, err, errlen);
	if (rc == PARSE_HELP) {
		config_print_help(stdout);
		rc = CONFIG_EXIT_OK;
		goto out;
	}
	if (rc != 0)
		goto out;
	if (cfg->print_version) {
		config_print_version(stdout);
		rc = CONFIG_EXIT_OK;
		goto out;
	}
	/* ETCD_CONFIG_FILE is read first: it decides whether the rest of the
	 * environment counts at all. */
	file = cfg->config_file[0] ? cfg->config_file : env_get(envp, "ETCD_CONFIG_FILE");
	if (file != NULL && *file != '\0')
		rc = from_file(cfg, set, file, envp, err, errlen);
	else if ((rc = apply_env(cfg, set, envp, err, errlen)) == 0)
		rc = cfg_validate(cfg, set, 1, err, errlen);
out:
	free(set);
	return rc;
}

void config_close(struct cetcd_config *cfg)
{
	cfg_free_values(cfg);
	str_list_free(&cfg->warnings);
	memset(cfg, 0, sizeof(*cfg));
}
