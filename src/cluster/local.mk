# src/cluster: the member table and etcd-compatible IDs. No main.
noinst_LIBRARIES += src/cluster/libcluster.a
src_cluster_libcluster_a_SOURCES = src/cluster/cluster.c src/cluster/cluster.h \
	src/cluster/peerproto.c src/cluster/peerproto.h
