check_PROGRAMS += tests/unit/http/test_http
TESTS += tests/unit/http/test_http
tests_unit_http_test_http_SOURCES = tests/unit/http/test_httpd.c
tests_unit_http_test_http_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_http_test_http_LDADD = src/http/libhttp.a src/util/libutil.a $(LIBEVENT_LIBS) $(CHECK_LIBS)
