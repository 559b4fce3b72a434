# src/raftd: the raft worker process (part of the cetcd binary).
cetcd_SOURCES += \
	src/raftd/main.c src/raftd/raftd.h src/raftd/raftd_int.h \
	src/raftd/node.c src/raftd/conns.c src/raftd/peer.c src/raftd/propose.c \
	src/raftd/snap.c src/raftd/stats.c \
	src/raftd/move.c
