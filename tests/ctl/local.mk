# tests/ctl: cetcdctl against real servers, its output compared with what
# Debian's etcdctl 3.4 printed for the same commands (tests/ctl/expected).
# `make check-ctl` runs them; `make check-integration` runs them too.
EXTRA_DIST += \
	tests/ctl/conftest.py \
	tests/ctl/pytest.ini \
	tests/ctl/ctlutil.py \
	tests/ctl/test_ctl_v2.py \
	tests/ctl/test_ctl_v3.py \
	tests/ctl/test_ctl_restore.py \
	tests/ctl/expected/v2/dirs.txt \
	tests/ctl/expected/v2/failover.txt \
	tests/ctl/expected/v2/keys.txt \
	tests/ctl/expected/v2/members.txt \
	tests/ctl/expected/v2/misc.txt \
	tests/ctl/expected/v2/noauth.txt \
	tests/ctl/expected/v2/seed.txt \
	tests/ctl/expected/v2/timeouts.txt \
	tests/ctl/expected/v2/watch.txt \
	tests/ctl/expected/v2/watch_forever.txt \
	tests/ctl/expected/v3/auth.txt \
	tests/ctl/expected/v3/cluster.txt \
	tests/ctl/expected/v3/kv.txt \
	tests/ctl/expected/v3/kv_errors.txt \
	tests/ctl/expected/v3/lease.txt \
	tests/ctl/expected/v3/misc.txt \
	tests/ctl/expected/v3/txn.txt \
	tests/ctl/expected/v3/watch.txt

.PHONY: check-ctl
check-ctl: all
	cd $(abs_top_srcdir)/tests/ctl && \
	PYTHONDONTWRITEBYTECODE=1 CETCD_BIN=$(abs_top_builddir)/cetcd \
	CETCDCTL_BIN=$(abs_top_builddir)/cetcdctl $(PYTEST) $(PYTEST_FLAGS)
