/* err.c - error strings and message-buffer helpers. */
#include "config.h"
#include "util/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *ce_strerror(int code)
{
	switch (code) {
#define CE_CASE(name, val, str) case val: return str;
	CE_ERRORS(CE_CASE)
#undef CE_CASE
	}
	return "unknown error";
}

int errf(char *buf, size_t len, int code, const char *fmt, ...)
{
	va_list ap;

	if (buf == NULL || len == 0)
		return code;
	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return code;
}

int errwrap(char *buf, size_t len, int code, const char *fmt, ...)
{
	char prefix[512];
	char old[1024];
	va_list ap;

	if (buf == NULL || len == 0)
		return code;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	snprintf(old, sizeof(old), "%s", buf);
	snprintf(buf, len, "%s: %s", prefix, old);
	return code;
}
