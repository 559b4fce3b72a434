# src/stored: the storage worker process (part of the cetcd binary).
cetcd_SOURCES += \
	src/stored/main.c src/stored/v3.c src/stored/stored.h src/stored/stored_int.h \
	src/stored/apply.c src/stored/conf.c src/stored/conns.c src/stored/duties.c \
	src/stored/ckpt.c src/stored/snap.c
# alarms / NOSPACE apply and online defragment
cetcd_SOURCES += src/stored/alarm.c src/stored/defrag.c
# client snapshots (Maintenance/Snapshot) and their offline restore
cetcd_SOURCES += src/stored/dbsnap.c src/stored/dbsnap.h
check_PROGRAMS += src/stored/cetcd-snaprestore
src_stored_cetcd_snaprestore_SOURCES = src/stored/snaprestore.c src/stored/dbsnap.c src/stored/dbsnap.h
src_stored_cetcd_snaprestore_LDADD = src/store/libstore.a src/wal/libwal.a src/util/libutil.a \
	$(JANSSON_LIBS) $(DB_LIBS) -lm
