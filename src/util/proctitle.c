/* proctitle.c - rewrite argv so ps shows each worker's role. */
#include "config.h"
#include "util/proctitle.h"

#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

extern char **environ;

static char *title_start;
static size_t title_len;
/* The copies live as long as the process; kept here so leak checkers see
 * them as reachable. */
static char **volatile saved_argv; /* volatile: a store never read is not dropped */

char **proctitle_init(int argc, char **argv)
{
	char **nargv;
	char *end;
	int nenv = 0;

	if (argc == 0 || argv[0] == NULL)
		return argv;
	nargv = calloc((size_t)argc + 1, sizeof(char *));
	if (nargv == NULL)
		return argv;
	/* The argv strings and then the environment strings are contiguous;
	 * the area we may overwrite ends after the last of them. */
	end = argv[0] + strlen(argv[0]) + 1;
	for (int i = 0; i < argc; i++) {
		if (argv[i] == end || i == 0)
			end = argv[i] + strlen(argv[i]) + 1;
		nargv[i] = strdup(argv[i]);
	}
	while (environ[nenv])
		nenv++;
	char **nenv_v = calloc((size_t)nenv + 1, sizeof(char *));
	if (nenv_v) {
		for (int i = 0; i < nenv; i++) {
			if (environ[i] == end)
				end = environ[i] + strlen(environ[i]) + 1;
			nenv_v[i] = strdup(environ[i]);
		}
		environ = nenv_v;
	}
	title_start = argv[0];
	title_len = (size_t)(end - argv[0]);
	saved_argv = nargv;
	return nargv;
}

void proctitle_set(const char *title)
{
	size_t n;

	prctl(PR_SET_NAME, title, 0, 0, 0);
	if (title_start == NULL || title_len < 2)
		return;
	n = strlen(title);
	if (n >= title_len)
		n = title_len - 1;
	memcpy(title_start, title, n);
	memset(title_start + n, 0, title_len - n);
}
