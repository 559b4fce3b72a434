# src/wal: the write-ahead log the raft worker persists through. No main.
noinst_LIBRARIES += src/wal/libwal.a
src_wal_libwal_a_SOURCES = \
	src/wal/wal.c src/wal/wal.h \
	src/wal/recover.c src/wal/recover.h \
	src/wal/segment.c src/wal/segment.h \
	src/wal/record.c src/wal/record.h \
	src/wal/crc32c.c src/wal/crc32c.h
EXTRA_DIST += src/wal/README
