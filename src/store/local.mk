# src/store: the v2 keys store and the Berkeley DB environment it lives in
# (library, no main). Linked by the storage worker (writer) and the api
# workers (readers). Users also link $(DB_LIBS) $(JANSSON_LIBS), and
# src/wal/libwal.a (after this library) for snap.c's CRC-32C.
noinst_LIBRARIES += src/store/libstore.a
src_store_libstore_a_SOURCES = \
	src/store/env.c src/store/env.h \
	src/store/meta.c src/store/meta.h \
	src/store/v2req.c src/store/v2req.h \
	src/store/v2json.c src/store/v2json.h \
	src/store/v2tree.c src/store/v2hist.c src/store/v2store_int.h \
	src/store/v2store.c src/store/v2store.h \
	src/store/v2query.c src/store/v2query.h \
	src/store/v2members.c src/store/v2members.h \
	src/store/snap.c src/store/snap.h \
	src/store/envdir.c src/store/envdir.h
EXTRA_DIST += src/store/README
# the v3 mvcc store (README "v3 store")
src_store_libstore_a_SOURCES += \
	src/store/mvcc.c src/store/mvcc.h src/store/mvcc_int.h \
	src/store/mvcc_kv.c src/store/mvcc_range.c src/store/mvcc_compact.c
# v3 leases (README "v3 leases")
src_store_libstore_a_SOURCES += \
	src/store/lease.c src/store/lease.h src/store/lease_int.h src/store/lease_mem.c
# the member's v3 simple auth tokens on a shared mapping (authtok.h)
src_store_libstore_a_SOURCES += src/store/authtok.c src/store/authtok.h
