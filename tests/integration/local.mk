# tests/integration (and tests/fault): build fragment (see Makefile.am)
# Python/pytest suites that start real server processes.  They are not part
# of TESTS: run them with `make check-integration` / `make check-fault`
# (CETCD_TEST_TARGET=etcd runs them against Debian's etcd instead).

EXTRA_DIST += \
	tests/integration/README \
	tests/integration/pytest.ini \
	tests/integration/cluster.py \
	tests/integration/conftest.py \
	tests/integration/itfixtures.py \
	tests/integration/v2util.py \
	tests/integration/test_v2_keys.py \
	tests/integration/test_v2_misc.py \
	tests/integration/test_etcdctl_v2.py \
	tests/integration/test_python_etcd.py \
	tests/integration/test_examples.py \
	tests/integration/relay.py \
	tests/integration/linearize.py \
	tests/integration/test_linearize.py \
	tests/integration/test_discovery_service.py \
	tests/integration/test_discovery_srv.py \
	tests/integration/test_discovery.py \
	tests/integration/test_cluster.py \
	tests/integration/test_v3_kv.py \
	tests/integration/test_v3_lease.py \
	tests/integration/test_v3_watch.py \
	tests/integration/test_v3_cluster.py \
	tests/integration/test_v3_alarm.py \
	tests/integration/test_v3_snapshot.py \
	tests/integration/test_v3_conc.py \
	tests/integration/test_v3_auth.py \
	tests/integration/test_proxy.py \
	tests/integration/proxyutil.py \
	tests/fault/pytest.ini \
	tests/fault/conftest.py \
	tests/fault/test_kill.py \
	tests/fault/test_lifecycle.py \
	tests/fault/test_cluster_faults.py \
	tests/fault/test_cluster_cetcd.py \
	tests/fault/test_proxy_kill.py

# Overridable: make check-integration PYTEST='python3 -m pytest -v'
PYTEST = /usr/bin/python3 -m pytest
PYTEST_FLAGS = -q -x

.PHONY: check-integration check-fault
check-integration: all
	cd $(abs_top_srcdir)/tests/integration && \
	PYTHONDONTWRITEBYTECODE=1 CETCD_BIN=$(abs_top_builddir)/cetcd $(PYTEST) $(PYTEST_FLAGS)
	$(MAKE) $(AM_MAKEFLAGS) check-ctl

check-fault: all
	cd $(abs_top_srcdir)/tests/fault && \
	PYTHONDONTWRITEBYTECODE=1 CETCD_BIN=$(abs_top_builddir)/cetcd $(PYTEST) $(PYTEST_FLAGS)
