# tests/unit/proxyd: the proxy worker's upstream HTTP/1.1 client against a
# fake member on loopback. upstream.c is compiled into the test directly
# (the proxy worker is part of the cetcd binary, not a library).
check_PROGRAMS += tests/unit/proxyd/test_proxyd
TESTS += tests/unit/proxyd/test_proxyd
tests_unit_proxyd_test_proxyd_SOURCES = tests/unit/proxyd/test_upstream.c \
	src/proxyd/upstream.c src/proxyd/upstream.h
tests_unit_proxyd_test_proxyd_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_proxyd_test_proxyd_LDADD = src/http/libhttp.a src/util/libutil.a $(LIBEVENT_LIBS) $(CHECK_LIBS)
