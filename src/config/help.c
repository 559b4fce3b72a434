/* help.c - --help and --version output, generated from the flag table in
 * etcd's layout (usage header, then flags by group with their defaults). */
#include "config.h"
#include "config/cfg.h"

#include <stdio.h>
#include <string.h>

static const char help_header[] =
	"Usage:\n"
	"\n"
	"  cetcd [flags]\n"
	"    Start a cetcd server: a drop-in etcd 3.4 member.\n"
	"\n"
	"  cetcd --version\n"
	"    Show the version of cetcd.\n"
	"\n"
	"  cetcd -h | --help\n"
	"    Show this help.\n"
	"\n"
	"  cetcd --config-file\n"
	"    Path to the server configuration file. Note that if a configuration file is provided, other "
	"command line flags and environment variables will be ignored.\n"
	"\n"
	"Every flag can also be set with an environment variable ETCD_<NAME>: upper case, '-' replaced\n"
	"by '_' (e.g. ETCD_DATA_DIR=/var/lib/cetcd). A flag given on the command line must not also be\n"
	"set in the environment.\n";

static const char unsafe_warning[] =
	"\nCAUTIOUS with unsafe flag! It may break the guarantees given by the consensus protocol!\n";

static void print_flag(FILE *f, const struct config_flag *fl)
{
	const char *shown = fl->shown ? fl->shown : (fl->def ? fl->def : "");

	if (fl->type == CT_BOOL && !fl->shown && !fl->def)
		shown = "false";
	fprintf(f, "  --%s '%s'\n    %s\n", fl->name, shown, fl->help);
}

void config_print_help(FILE *f)
{
	fputs(help_header, f);
	for (int g = CG_MEMBER; g < CG_INVOCATION; g++) {
		fprintf(f, "\n%s:\n", config_group_title((enum config_group)g));
		for (int i = 0; i < config_flag_count(); i++) {
			const struct config_flag *fl = config_flag_get(i);
			if ((int)fl->group == g)
				print_flag(f, fl);
		}
		if (g == CG_UNSAFE)
			fputs(unsafe_warning, f);
	}
}

/* Go prints GOOS/GOARCH; these are the same names for the usual targets. */
#if defined(__x86_64__)
#define CFG_ARCH "amd64"
#elif defined(__aarch64__)
#define CFG_ARCH "arm64"
#elif defined(__i386__)
#define CFG_ARCH "386"
#elif defined(__arm__)
#define CFG_ARCH "arm"
#elif defined(__powerpc64__)
#define CFG_ARCH "ppc64le"
#elif defined(__s390x__)
#define CFG_ARCH "s390x"
#else
#define CFG_ARCH "unknown"
#endif

#if defined(__linux__)
#define CFG_OS "linux"
#else
#define CFG_OS "unknown"
#endif

void config_print_version(FILE *f)
{
	fprintf(f, "cetcd Version: %s\n", PACKAGE_VERSION);
	fprintf(f, "etcd API Version: %s\n", CETCD_COMPAT_SERVER_VERSION);
	fprintf(f, "Git SHA: Not provided\n");
#if defined(__clang__)
	fprintf(f, "C Compiler: clang %s\n", __clang_version__);
#elif defined(__GNUC__)
	fprintf(f, "C Compiler: gcc %s\n", __VERSION__);
#endif
	fprintf(f, "OS/Arch: %s/%s\n", CFG_OS, CFG_ARCH);
}

void config_print_error(FILE *f, const char *msg)
{
	fprintf(f, "cetcd: %s\nSee 'cetcd --help'.\n", msg);
}
