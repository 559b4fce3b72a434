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

# check-raft-long: many more simulation seeds than `make check` runs
# (RAFT_LONG_SEEDS, default 100000), split over RAFT_LONG_JOBS processes.
# A failing seed prints itself and the command that replays it alone.
RAFT_LONG_SEEDS ?= 100000
RAFT_LONG_JOBS ?= 2
.PHONY: check-raft-long
check-raft-long: tests/unit/raft/test_raft$(EXEEXT)
	@per=$$(( ($(RAFT_LONG_SEEDS) + $(RAFT_LONG_JOBS) - 1) / $(RAFT_LONG_JOBS) )); \
	pids=""; \
	for j in $$(seq 0 $$(( $(RAFT_LONG_JOBS) - 1 ))); do \
		first=$$(( j * per + 1 )); \
		RAFT_SIM_FIRST=$$first RAFT_SIM_SEEDS=$$per CK_RUN_SUITE=raft_sim \
			CK_VERBOSITY=normal ./tests/unit/raft/test_raft$(EXEEXT) \
			> tests/unit/raft/long-$$j.log 2>&1 & pids="$$pids $$!"; \
	done; \
	rc=0; for p in $$pids; do wait $$p || rc=1; done; \
	cat tests/unit/raft/long-*.log; rm -f tests/unit/raft/long-*.log; exit $$rc
