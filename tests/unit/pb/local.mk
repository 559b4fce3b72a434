# tests/unit/pb: unit tests of the pb library (one runner).
check_PROGRAMS += tests/unit/pb/test_pb
TESTS += tests/unit/pb/test_pb
tests_unit_pb_test_pb_SOURCES = tests/unit/pb/main.c tests/unit/pb/pb_test.h \
	tests/unit/pb/test_pb.c tests/unit/pb/test_gojson.c tests/unit/pb/test_pb_json.c \
	tests/unit/pb/test_etcd_schema.c
tests_unit_pb_test_pb_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_pb_test_pb_LDADD = src/pb/libpb.a src/util/libutil.a $(CHECK_LIBS)
