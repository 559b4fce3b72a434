# src/apid: the api worker process (part of the cetcd binary).
cetcd_SOURCES += \
	src/apid/main.c src/apid/apid.h src/apid/apid_int.h \
	src/apid/http.c src/apid/form.c src/apid/form.h \
	src/apid/ipc.c src/apid/pending.c \
	src/apid/v2keys.c src/apid/v2watch.c src/apid/misc.c src/apid/members.c src/apid/v3gw.c src/apid/v3watch.c src/apid/v3keepalive.c src/apid/v3forward.c src/apid/discovery.c src/apid/v3maint.c \
	src/apid/v3snap.c src/apid/v3conc.c src/apid/v3conc_int.h \
	src/apid/v3lock.c src/apid/v3election.c
# v3 auth at the gateway (v3authgw.c)
cetcd_SOURCES += src/apid/v3authgw.c
