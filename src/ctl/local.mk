# src/ctl: cetcdctl, the command-line client (etcdctl 3.4 compatible).
bin_PROGRAMS += cetcdctl
cetcdctl_SOURCES = src/ctl/main.c src/ctl/ctl.h
cetcdctl_LDADD =
# the synchronous HTTP client, shared with the supervisor (--discovery)
noinst_LIBRARIES += src/ctl/libctlhttp.a
src_ctl_libctlhttp_a_SOURCES = src/ctl/http.c src/ctl/http_lines.c src/ctl/http_lines.h src/ctl/ctl.h
cetcdctl_LDADD += src/ctl/libctlhttp.a
cetcdctl_SOURCES += src/ctl/v3.c src/ctl/v3_int.h src/ctl/v3_args.c src/ctl/v3_help.c \
	src/ctl/v3_out.c src/ctl/v3_kv.c src/ctl/v3_txn.c src/ctl/v3_watch.c src/ctl/v3_lease.c \
	src/ctl/v3_cluster.c src/ctl/v3_misc.c src/ctl/v3_perf.c \
	src/ctl/v3_restore.c src/stored/dbsnap.c src/stored/dbsnap.h
cetcdctl_SOURCES += src/ctl/v2.c src/ctl/v2keys.c src/ctl/v2watch.c src/ctl/v2member.c src/ctl/v2help.c src/ctl/v2_int.h
cetcdctl_LDADD += src/pb/libpb.a src/store/libstore.a src/wal/libwal.a src/util/libutil.a \
	$(LIBEVENT_LIBS) $(JANSSON_LIBS) $(DB_LIBS) -lm
