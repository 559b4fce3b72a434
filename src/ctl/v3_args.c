/* v3_args.c - cetcdctl v3's command-line parsing, shaped like the pflag
 * library etcdctl 3.4 uses: --flag=value, --flag value, -f value, -fvalue,
 * booleans as --flag or --flag=true|false, flags anywhere among the
 * positional arguments (unless the command stops at its first positional,
 * as `watch KEY -- CMD` does), "--" ending the flags; and the help pages
 * etcdctl prints for a command (NAME / USAGE / OPTIONS / GLOBAL OPTIONS). */
#include "config.h"
#include "ctl/v3_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Go's time.ParseDuration for the forms etcdctl users type: "5s",
 * "500ms", "1m30s", "2h", "1.5s". Result in milliseconds. */
int v3_parse_duration(const char *s, int64_t *ms)
{
	double total = 0;
	const char *p = s;

	if (*p == '\0')
		return -1;
	if (strcmp(p, "0") == 0) {
		*ms = 0;
		return 0;
	}
	while (*p) {
		char *end;
		double v = strtod(p, &end);
		double unit;

		if (end == p)
			return -1;
		p = end;
		if (strncmp(p, "ms", 2) == 0) { unit = 1; p += 2; }
		else if (strncmp(p, "us", 2) == 0) { unit = 0.001; p += 2; }
		else if (strncmp(p, "ns", 2) == 0) { unit = 0.000001; p += 2; }
		else if (*p == 's') { unit = 1000; p++; }
		else if (*p == 'm') { unit = 60000; p++; }
		else if (*p == 'h') { unit = 3600000; p++; }
		else return -1;
		total += v * unit;
	}
	*ms = (int64_t)total;
	return 0;
}

static const char *type_name(enum v3_flag_type t)
{
	switch (t) {
	case V3_FLAG_INT: return "int64";
	case V3_FLAG_DURATION: return "duration";
	case V3_FLAG_LIST: return "stringSlice";
	default: return "string";
	}
}

/* Sets f from text; prints pflag's message on a bad value. */
static int flag_set(struct v3_flag *f, const char *val, int *seen_list, char *msg, size_t ml)
{
	char *end;

	switch (f->type) {
	case V3_FLAG_BOOL:
		if (strcmp(val, "true") == 0 || strcmp(val, "1") == 0 || strcmp(val, "t") == 0 ||
			strcmp(val, "TRUE") == 0 || strcmp(val, "True") == 0 || strcmp(val, "T") == 0)
			*(int *)f->ptr = 1;
		else if (strcmp(val, "false") == 0 || strcmp(val, "0") == 0 ||
			strcmp(val, "f") == 0 || strcmp(val, "FALSE") == 0 ||
			strcmp(val, "False") == 0 || strcmp(val, "F") == 0)
			*(int *)f->ptr = 0;
		else {
			snprintf(msg, ml, "invalid argument \"%s\" for \"--%s\" flag: "
				"strconv.ParseBool: parsing \"%s\": invalid syntax", val, f->name, val);
			return -1;
		}
		return 0;
	case V3_FLAG_STRING:
		*(const char **)f->ptr = val;
		return 0;
	case V3_FLAG_LIST:
		/* a repeated list flag appends; the first use replaces the default */
		if (*seen_list && *(const char **)f->ptr != NULL) {
			size_t n = strlen(*(const char **)f->ptr) + strlen(val) + 2;
			char *j = malloc(n);
			if (j == NULL) {
				snprintf(msg, ml, "out of memory");
				return -1;
			}
			snprintf(j, n, "%s,%s", *(const char **)f->ptr, val);
			*(const char **)f->ptr = j; /* lives until exit */
		} else
			*(const char **)f->ptr = val;
		*seen_list = 1;
		return 0;
	case V3_FLAG_INT:
		errno = 0;
		*(int64_t *)f->ptr = strtoll(val, &end, 0);
		if (errno != 0 || *val == '\0' || *end != '\0') {
			snprintf(msg, ml, "invalid argument \"%s\" for \"--%s\" flag: "
				"strconv.ParseInt: parsing \"%s\": %s", val, f->name, val,
				errno == ERANGE ? "value out of range" : "invalid syntax");
			return -1;
		}
		return 0;
	case V3_FLAG_DURATION:
		if (v3_parse_duration(val, (int64_t *)f->ptr) != 0) {
			snprintf(msg, ml, "invalid argument \"%s\" for \"--%s\" flag: "
				"time: invalid duration \"%s\"", val, f->name, val);
			return -1;
		}
		return 0;
	}
	(void)type_name;
	return -1;
}

static struct v3_flag *flag_find(struct v3_flag *cmdf, const char *name, size_t nlen, char sh)
{
	struct v3_flag *sets[2] = { cmdf, v3_global_flags };

	for (int s = 0; s < 2; s++) {
		for (struct v3_flag *f = sets[s]; f != NULL && f->name != NULL; f++) {
			if (sh != 0 ? f->shorthand == sh
				    : (strlen(f->name) == nlen && strncmp(f->name, name, nlen) == 0))
				return f;
		}
	}
	return NULL;
}

/* Writes one OPTIONS block with its tabs as Go's tabwriter pads them. */
void v3_help_flags(FILE *o, const struct v3_flag *fl, const struct v3_flag *extra,
	int with_help, const char *cmdname)
{
	char lines[64][160];
	const char *helps[64], *names[64];
	size_t n = 0, maxw = 0;
	int in_extra = 0;

	if (with_help) {
		snprintf(lines[n], sizeof(lines[n]), "  -h, --help[=false]");
		names[n] = "help";
		helps[n++] = NULL;
	}
	for (const struct v3_flag *f = fl; f != NULL && n < 64; f++) {
		if (f->name == NULL) {
			/* then the parent's persistent flags, in the global section */
			f = extra;
			extra = NULL;
			in_extra = 1;
			if (f == NULL || f->name == NULL)
				break;
		}
		const char *d = f->defshow;
		char sh[8] = "    ";

		if (d == NULL)
			continue; /* hidden: a cetcdctl extension etcdctl 3.4 does not list */
		if (in_extra ? !f->persistent : (f->persistent && fl != v3_global_flags))
			continue;

		if (f->shorthand)
			snprintf(sh, sizeof(sh), "-%c, ", f->shorthand);
		if (f->type == V3_FLAG_BOOL)
			snprintf(lines[n], sizeof(lines[n]), "  %s--%s[=%s]", sh, f->name,
				d[0] ? d : "false");
		else
			snprintf(lines[n], sizeof(lines[n]), "  %s--%s=%s", sh, f->name, d);
		names[n] = f->name;
		helps[n++] = f->help;
	}
	/* pflag sorts flags by name */
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0; j--) {
			if (strcmp(names[j - 1], names[j]) <= 0)
				break;
			char t[160];
			const char *th = helps[j], *tn = names[j];
			names[j] = names[j - 1];
			names[j - 1] = tn;
			memcpy(t, lines[j], sizeof(t));
			memcpy(lines[j], lines[j - 1], sizeof(t));
			memcpy(lines[j - 1], t, sizeof(t));
			helps[j] = helps[j - 1];
			helps[j - 1] = th;
		}
	for (size_t i = 0; i < n; i++)
		if (strlen(lines[i]) > maxw)
			maxw = strlen(lines[i]);
	size_t col = (maxw / 8 + 1) * 8;
	for (size_t i = 0; i < n; i++) {
		size_t w = strlen(lines[i]);
		fputs(lines[i], o);
		do {
			fputc('\t', o);
			w = (w / 8 + 1) * 8;
		} while (w < col);
		if (helps[i])
			fputs(helps[i], o);
		else
			fprintf(o, "help for %s", cmdname);
		fputc('\n', o);
	}
}

void v3_help_cmd(const struct v3_cmd *cmd, FILE *o)
{
	const char *last = strrchr(cmd->name, ' ');

	last = last ? last + 1 : cmd->name;
	fprintf(o, "NAME:\n\t%s - %s\n\nUSAGE:\n\tetcdctl %s [flags]\n\n", cmd->name, cmd->desc,
		cmd->usage);
	if (cmd->long_desc != NULL) {
		fputs("DESCRIPTION:\n\t", o);
		for (const char *p = cmd->long_desc; *p; p++) {
			fputc(*p, o);
			if (*p == '\n')
				fputc('\t', o);
		}
		fputs("\n\n", o);
	}
	fputs("OPTIONS:\n", o);
	v3_help_flags(o, cmd->flags, NULL, 1, last);
	fputs("\nGLOBAL OPTIONS:\n", o);
	v3_help_flags(o, v3_global_flags, cmd->flags, 0, last);
	fputs("\n", o);
}

/* cobra prints the error, the command's usage (on stdout), and the error again. */
static int parse_fail(const struct v3_cmd *cmd, const char *msg)
{
	fprintf(stderr, "Error: %s\n", msg);
	fflush(stderr);
	v3_help_cmd(cmd, stdout);
	fflush(stdout);
	fprintf(stderr, "\nError: %s\n", msg);
	return V3_EXIT_ERROR;
}

int v3_parse(struct v3_ctx *c, const struct v3_cmd *cmd, int argc, char **argv, char **pos,
	int *npos)
{
	int seen_list = 0, help = 0, only_pos = 0;
	char msg[512];

	(void)c;
	*npos = 0;
	for (int i = 0; i < argc; i++) {
		char *a = argv[i];
		struct v3_flag *f;
		const char *val = NULL;

		if (only_pos || a[0] != '-' || a[1] == '\0') {
			pos[(*npos)++] = a;
			continue;
		}
		if (strcmp(a, "--") == 0) {
			only_pos = 1;
			/* etcdctl's watch sees the "--" to find the command */
			if (cmd->keep_dashdash)
				pos[(*npos)++] = a;
			continue;
		}
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			help = 1;
			continue;
		}
		if (a[1] == '-') {
			const char *nm = a + 2, *eq = strchr(nm, '=');
			size_t nlen = eq ? (size_t)(eq - nm) : strlen(nm);
			f = flag_find(cmd->flags, nm, nlen, 0);
			if (f == NULL) {
				snprintf(msg, sizeof(msg), "unknown flag: --%.*s", (int)nlen, nm);
				return parse_fail(cmd, msg);
			}
			if (eq)
				val = eq + 1;
		} else {
			f = flag_find(cmd->flags, NULL, 0, a[1]);
			if (f == NULL) {
				snprintf(msg, sizeof(msg), "unknown shorthand flag: '%c' in %s", a[1], a);
				return parse_fail(cmd, msg);
			}
			if (a[2] != '\0')
				val = a[2] == '=' ? a + 3 : a + 2;
		}
		if (val == NULL && f->type == V3_FLAG_BOOL)
			val = "true";
		if (val == NULL) {
			if (i + 1 >= argc) {
				snprintf(msg, sizeof(msg), "flag needs an argument: %s", a);
				return parse_fail(cmd, msg);
			}
			val = argv[++i];
		}
		if (flag_set(f, val, &seen_list, msg, sizeof(msg)) != 0)
			return parse_fail(cmd, msg);
	}
	if (help) {
		v3_help_cmd(cmd, stdout);
		return -1;
	}
	return V3_EXIT_OK;
}
