check_PROGRAMS += tests/unit/ipc/test_ipc
TESTS += tests/unit/ipc/test_ipc
tests_unit_ipc_test_ipc_SOURCES = tests/unit/ipc/test_ipc.c
tests_unit_ipc_test_ipc_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_ipc_test_ipc_LDADD = src/ipc/libipc.a src/util/libutil.a $(LIBEVENT_LIBS) $(CHECK_LIBS)
