# src/supervisor: the cetcd binary's first process; the role folders
# (raftd, stored, apid) add their sources to cetcd_SOURCES.
bin_PROGRAMS += cetcd
cetcd_SOURCES = src/supervisor/main.c
cetcd_LDADD = src/util/libutil.a $(LIBEVENT_LIBS) $(JANSSON_LIBS) $(YAML_LIBS) $(DB_LIBS)
