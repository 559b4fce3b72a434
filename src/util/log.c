/* log.c - leveled logger writing whole lines with one write(2) each, so lines
 * from the supervisor and the workers never interleave mid-line. */
#include "config.h"
#include "util/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define LOG_MAX_OUTPUTS 8

int log_min_level = LOG_INFO;

static const char *log_role = "cetcd";
static struct {
	char path[256]; /* empty for stderr/stdout */
	int fd;
} outs[LOG_MAX_OUTPUTS] = { { "", 2 } };
static int nouts = 1;

static const char *const level_names[] = { "debug", "info", "warn", "error", "fatal" };

int log_parse_level(const char *name)
{
	if (strcmp(name, "debug") == 0)
		return LOG_DEBUG;
	if (strcmp(name, "info") == 0)
		return LOG_INFO;
	if (strcmp(name, "warn") == 0)
		return LOG_WARN;
	if (strcmp(name, "error") == 0)
		return LOG_ERROR;
	if (strcmp(name, "panic") == 0 || strcmp(name, "fatal") == 0 || strcmp(name, "dpanic") == 0)
		return LOG_FATAL;
	return -1;
}

void log_set_role(const char *role)
{
	log_role = role;
}

int log_set_outputs(const char *outputs, char *err, unsigned errlen)
{
	char buf[1024];
	char *save = NULL;
	int n = 0;

	snprintf(buf, sizeof(buf), "%s", outputs);
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (n == LOG_MAX_OUTPUTS)
			break;
		if (strcmp(tok, "stderr") == 0 || strcmp(tok, "default") == 0) {
			outs[n].path[0] = '\0';
			outs[n++].fd = 2;
		} else if (strcmp(tok, "stdout") == 0) {
			outs[n].path[0] = '\0';
			outs[n++].fd = 1;
		} else {
			int fd = open(tok, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
			if (fd < 0) {
				snprintf(err, errlen, "open log output %s: %s", tok, strerror(errno));
				return -1;
			}
			snprintf(outs[n].path, sizeof(outs[n].path), "%s", tok);
			outs[n++].fd = fd;
		}
	}
	if (n > 0)
		nouts = n;
	return 0;
}

void log_reopen(void)
{
	for (int i = 0; i < nouts; i++) {
		if (outs[i].path[0] == '\0')
			continue;
		int fd = open(outs[i].path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
		if (fd < 0)
			continue;
		dup2(fd, outs[i].fd);
		close(fd);
	}
}

void log_write(int level, const char *fmt, ...)
{
	char line[4096];
	struct timeval tv;
	struct tm tm;
	va_list ap;
	int n;
	int saved = errno;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ %-5s %s[%d] ",
		tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		(long)tv.tv_usec, level_names[level], log_role, (int)getpid());
	errno = saved;
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	for (int i = 0; i < nouts; i++) {
		ssize_t w = write(outs[i].fd, line, (size_t)n);
		(void)w;
	}
	errno = saved;
}
