# src/ipc: frames and connections between cetcd's processes, shared memory.
noinst_LIBRARIES += src/ipc/libipc.a
src_ipc_libipc_a_SOURCES = \
	src/ipc/frame.c src/ipc/frame.h \
	src/ipc/conn.c src/ipc/conn.h \
	src/ipc/shm.c src/ipc/shm.h \
	src/ipc/proto.c src/ipc/proto.h \
	src/ipc/worker.c src/ipc/worker.h
