# src/proxyd: the proxy worker process (part of the cetcd binary).
cetcd_SOURCES += \
	src/proxyd/main.c src/proxyd/proxyd.h src/proxyd/proxyd_int.h \
	src/proxyd/director.c src/proxyd/forward.c \
	src/proxyd/upstream.c src/proxyd/upstream.h \
	src/proxyd/clusterfile.c src/proxyd/clusterfile.h
