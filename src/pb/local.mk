# src/pb: protobuf wire format, etcd 3.4's message schemas and gateway
# routes, and the grpc-gateway JSON mapping. No main.
noinst_LIBRARIES += src/pb/libpb.a
src_pb_libpb_a_SOURCES = \
	src/pb/pb.c src/pb/pb.h \
	src/pb/gojson.c src/pb/gojson.h \
	src/pb/pb_json.c src/pb/pb_json.h \
	src/pb/etcd_schema.c src/pb/etcd_schema.h
EXTRA_DIST += src/pb/README
