# src/stored: the storage worker process (part of the cetcd binary).
cetcd_SOURCES += \
	src/stored/main.c src/stored/v3.c src/stored/stored.h src/stored/stored_int.h \
	src/stored/apply.c src/stored/conf.c src/stored/conns.c src/stored/duties.c \
	src/stored/ckpt.c src/stored/snap.c
