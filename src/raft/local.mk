# src/raft: the Raft consensus core, a pure state machine (no I/O, clock or
# globals). The raft worker (src/raftd) drives it; see src/raft/README.
noinst_LIBRARIES += src/raft/libraft.a
src_raft_libraft_a_SOURCES = \
	src/raft/raft.h src/raft/raft_impl.h \
	src/raft/raft.c src/raft/log.c src/raft/election.c \
	src/raft/replication.c src/raft/read.c src/raft/conf.c \
	src/raft/codec.c
EXTRA_DIST += src/raft/README
