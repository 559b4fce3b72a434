# src/supervisor: the cetcd binary's first process; the role folders
# (raftd, stored, apid, proxyd) add their sources to cetcd_SOURCES.
bin_PROGRAMS += cetcd
cetcd_SOURCES = src/supervisor/main.c \
	src/supervisor/children.c src/supervisor/children.h \
	src/supervisor/datadir.c src/supervisor/datadir.h \
	src/supervisor/listen.c src/supervisor/listen.h \
	src/supervisor/notify.c src/supervisor/notify.h \
	src/supervisor/ident.c src/supervisor/ident.h \
	src/supervisor/srv.c src/supervisor/srv.h \
	src/supervisor/discover.c src/supervisor/discover.h \
	src/supervisor/proxymode.c src/supervisor/proxymode.h
cetcd_LDADD = src/http/libhttp.a src/v3/libv3.a src/pb/libpb.a src/store/libstore.a src/raft/libraft.a src/wal/libwal.a \
	src/ctl/libctlhttp.a src/cluster/libcluster.a src/config/libconfig.a src/ipc/libipc.a src/util/libutil.a \
	$(LIBEVENT_LIBS) $(JANSSON_LIBS) $(YAML_LIBS) $(DB_LIBS) -lresolv -lm
