check_PROGRAMS += tests/unit/util/test_util
TESTS += tests/unit/util/test_util
tests_unit_util_test_util_SOURCES = tests/unit/util/test_util.c
tests_unit_util_test_util_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_util_test_util_LDADD = src/util/libutil.a $(CHECK_LIBS)
