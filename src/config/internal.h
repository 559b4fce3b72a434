/* internal.h - helpers shared by the files of src/config only. Other
 * modules include "config/cfg.h", never this. */
#ifndef CETCD_CONFIG_INTERNAL_H
#define CETCD_CONFIG_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "config/cfg.h"
#include "util/goparse.h"

/* The reason texts Go's flag package gives for a bad number or choice. */
#define CFG_PARSE_ERROR "parse error"
#define CFG_RANGE_ERROR "value out of range"
#define CFG_CHOICE_ERROR "invalid value"

/* cfg_value_set parses val for flag f and stores it in cfg, replacing the
 * old value. On a bad value returns CE_INVAL with only the reason in why
 * ("parse error", a URL error...); callers add where the value came from.
 * CT_IGNORED records a warning. */
int cfg_value_set(struct cetcd_config *cfg, const struct config_flag *f, const char *val, char *why,
		  size_t whylen);

/* cfg_defaults zeroes cfg and loads every flag's default. 0 or CE_NOMEM. */
int cfg_defaults(struct cetcd_config *cfg, char *err, size_t errlen);

/* cfg_free_values frees the values every table flag owns. */
void cfg_free_values(struct cetcd_config *cfg);

/* cfg_warn appends a formatted warning to cfg->warnings (dropped on OOM). */
void cfg_warn(struct cetcd_config *cfg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* cfg_load_yaml applies the YAML file at path onto cfg; marks each flag it
 * sets in set[] (indexed like the table). Errors name file, line and key. */
int cfg_load_yaml(struct cetcd_config *cfg, const char *path, unsigned char *set, char *err, size_t errlen);

/* cfg_validate runs etcd's checks and fills derived fields. cmdline says
 * whether settings came from flags/env (1) or a file (0); set[] marks the
 * flags given explicitly. */
int cfg_validate(struct cetcd_config *cfg, const unsigned char *set, int cmdline, char *err, size_t errlen);

/* go_parse_duration parses Go's time.ParseDuration syntax into ns. On error
 * writes Go's message ("time: invalid duration \"x\"") into why. */
int go_parse_duration(const char *s, int64_t *ns, char *why, size_t whylen);

/* go_parse_int is strconv.ParseInt(s, 0, 64): 0, -1 (syntax), -2 (range). */
int go_parse_int(const char *s, int64_t *out);


/* str_list helpers. */
int str_list_split(const char *csv, struct str_list *out);
int str_list_push(struct str_list *l, const char *s);
void str_list_free(struct str_list *l);

/* cfg_flag_index gives f's position in the table. */
int cfg_flag_index(const struct config_flag *f);

#endif
