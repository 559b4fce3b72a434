check_PROGRAMS += tests/unit/cluster/test_cluster
TESTS += tests/unit/cluster/test_cluster
tests_unit_cluster_test_cluster_SOURCES = tests/unit/cluster/test_cluster.c
tests_unit_cluster_test_cluster_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_cluster_test_cluster_LDADD = src/cluster/libcluster.a src/config/libconfig.a \
	src/ipc/libipc.a src/util/libutil.a $(JANSSON_LIBS) $(YAML_LIBS) $(CHECK_LIBS)
