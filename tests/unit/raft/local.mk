# tests/unit/raft: the raft core's scripted scenarios, wire codec and the
# deterministic cluster simulation (RAFT_SIM_SEED / RAFT_SIM_SEEDS).
check_PROGRAMS += tests/unit/raft/test_raft
TESTS += tests/unit/raft/test_raft
tests_unit_raft_test_raft_SOURCES = tests/unit/raft/main.c \
	tests/unit/raft/test_raft.c tests/unit/raft/test_codec.c \
	tests/unit/raft/test_sim.c tests/unit/raft/sim.c tests/unit/raft/sim.h \
	tests/unit/raft/suites.h
tests_unit_raft_test_raft_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_raft_test_raft_LDADD = src/raft/libraft.a src/util/libutil.a $(CHECK_LIBS)
