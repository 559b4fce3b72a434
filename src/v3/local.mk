# src/v3: etcd's v3 requests executed on the MVCC and lease stores (library).
noinst_LIBRARIES += src/v3/libv3.a
src_v3_libv3_a_SOURCES = src/v3/v3.h src/v3/v3_int.h src/v3/v3kv.c src/v3/v3lease.c
src_v3_libv3_a_SOURCES += src/v3/v3alarm.c
# v3 authentication and authorization (v3auth.h)
src_v3_libv3_a_SOURCES += src/v3/v3auth.h src/v3/v3auth_int.h src/v3/v3auth.c \
	src/v3/v3auth_perm.c src/v3/v3auth_pw.c
