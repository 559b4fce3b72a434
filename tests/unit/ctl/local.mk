# tests/unit/ctl: unit tests of cetcdctl's pieces that need no server.
check_PROGRAMS += tests/unit/ctl/test_ctl
TESTS += tests/unit/ctl/test_ctl
tests_unit_ctl_test_ctl_SOURCES = tests/unit/ctl/main.c tests/unit/ctl/test_http_lines.c \
	src/ctl/http_lines.c src/ctl/http_lines.h
tests_unit_ctl_test_ctl_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_ctl_test_ctl_LDADD = src/util/libutil.a $(CHECK_LIBS)
