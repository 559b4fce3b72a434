# src/http: the api worker's HTTP/1.1 server on raw libevent events. No main.
noinst_LIBRARIES += src/http/libhttp.a
src_http_libhttp_a_SOURCES = src/http/httpd.c src/http/httpd.h
EXTRA_DIST += src/http/README
