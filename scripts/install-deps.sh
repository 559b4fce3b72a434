#!/bin/sh
# Install every Debian 12 package cetcd needs to build, test and benchmark.
set -e
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends \
	build-essential autoconf automake libtool pkg-config \
	libevent-dev libjansson-dev libdb5.3-dev libyaml-dev libcrypt-dev check \
	python3 python3-pytest python3-etcd python3-requests \
	etcd-server etcd-client curl wrk procps iproute2 dnsmasq-base
