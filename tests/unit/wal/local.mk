# tests/unit/wal: unit tests for src/wal (one runner, one suite per file).
check_PROGRAMS += tests/unit/wal/test_wal
TESTS += tests/unit/wal/test_wal
tests_unit_wal_test_wal_SOURCES = tests/unit/wal/main.c tests/unit/wal/suites.h \
	tests/unit/wal/helpers.c tests/unit/wal/helpers.h \
	tests/unit/wal/test_crc32c.c tests/unit/wal/test_wal.c \
	tests/unit/wal/test_recover.c
tests_unit_wal_test_wal_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_wal_test_wal_LDADD = src/wal/libwal.a src/util/libutil.a $(CHECK_LIBS)
