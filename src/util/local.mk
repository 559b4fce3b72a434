# src/util: small shared helpers (errors, logging, buffers, clocks). No main.
noinst_LIBRARIES += src/util/libutil.a
src_util_libutil_a_SOURCES = \
	src/util/err.c src/util/err.h \
	src/util/log.c src/util/log.h \
	src/util/buf.c src/util/buf.h \
	src/util/proctitle.c src/util/proctitle.h \
	src/util/sha1.c src/util/sha1.h \
	src/util/memberid.c src/util/memberid.h \
	src/util/goparse.c src/util/goparse.h \
	src/util/clock.c src/util/clock.h \
	src/util/fdio.c src/util/fdio.h
