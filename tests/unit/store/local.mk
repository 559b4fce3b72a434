# tests/unit/store: unit tests of the store library (one runner).
check_PROGRAMS += tests/unit/store/test_store
TESTS += tests/unit/store/test_store
tests_unit_store_test_store_SOURCES = tests/unit/store/main.c tests/unit/store/store_test.h \
	tests/unit/store/test_v2req.c tests/unit/store/test_v2store.c tests/unit/store/test_env.c \
	tests/unit/store/test_snap.c
tests_unit_store_test_store_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_store_test_store_LDADD = src/store/libstore.a src/wal/libwal.a src/util/libutil.a \
	$(DB_LIBS) $(JANSSON_LIBS) $(CHECK_LIBS)
tests_unit_store_test_store_SOURCES += tests/unit/store/test_mvcc.h tests/unit/store/test_mvcc.c \
	tests/unit/store/test_mvcc_model.c
tests_unit_store_test_store_SOURCES += tests/unit/store/test_lease.c tests/unit/store/test_lease_model.c
# v3 state on the meta table (alarms, auth) and the token table: own runner,
# as libv3 has no test folder
check_PROGRAMS += tests/unit/store/test_v3meta
TESTS += tests/unit/store/test_v3meta
tests_unit_store_test_v3meta_SOURCES = tests/unit/store/v3meta_main.c tests/unit/store/v3meta.h \
	tests/unit/store/test_v3alarm.c tests/unit/store/test_auth.c
tests_unit_store_test_v3meta_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_store_test_v3meta_LDADD = src/v3/libv3.a src/pb/libpb.a src/store/libstore.a \
	src/wal/libwal.a src/util/libutil.a $(DB_LIBS) $(JANSSON_LIBS) $(CHECK_LIBS)
