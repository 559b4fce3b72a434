"""pytest fixtures and hooks shared by tests/integration and tests/fault
(each folder's conftest.py star-imports this module).

Fixtures:
  server          one healthy single-member server per test module
  server_factory  start extra servers with custom flags (per test)
  kp              a key prefix unique to the running test, e.g. /it/test_x
Servers are always stopped by PID in a finalizer.  When a test that used a
server failed, its temp dir (data dir + log) is kept and its path is listed
in the failure report and the terminal summary; otherwise it is removed.
"""

import re

import pytest

import cluster

KEPT = []

__all__ = ["pytest_report_header", "pytest_runtest_makereport",
           "pytest_terminal_summary", "server", "server_factory", "kp"]


def pytest_report_header(config):
    try:
        binary = cluster.server_binary()
    except RuntimeError as e:
        binary = str(e)
    return "cetcd integration target: %s (%s)" % (cluster.TARGET, binary)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed and cluster.LIVE:
        lines = []
        for s in cluster.LIVE:
            lines.append("%r (kept: data dir %s, log %s)" % (
                s, s.data_dir, s.log_path))
            lines.append(s.log_tail(15))
        rep.sections.append(("cetcd servers", "\n".join(lines)))


def pytest_terminal_summary(terminalreporter):
    for base in KEPT:
        terminalreporter.write_line("kept server dir (test failed): %s" % base)


def _finish(server, session, failed_before):
    keep = session.testsfailed > failed_before
    server.cleanup(keep)
    if keep:
        KEPT.append(server.base)


@pytest.fixture(scope="module")
def server(request):
    """One healthy v2-enabled server shared by a test module."""
    s = cluster.Server(name="node1")
    failed_before = request.session.testsfailed
    request.addfinalizer(lambda: _finish(s, request.session, failed_before))
    s.start()
    return s


@pytest.fixture
def server_factory(request):
    """Call make(**kw) to get a started Server (kw as cluster.Server,
    plus start=False to get it unstarted)."""
    made = []
    failed_before = request.session.testsfailed

    def fin():
        for s in made:
            _finish(s, request.session, failed_before)
    request.addfinalizer(fin)

    def make(start=True, **kw):
        s = cluster.Server(**kw)
        made.append(s)
        if start:
            s.start()
        return s
    return make


@pytest.fixture
def kp(request):
    """A key prefix unique to this test (no trailing slash).

    When the test uses the module's server, the prefix is deleted
    afterwards so that no TTL set by one test expires in the middle of a
    later one (an expiry moves the etcd index)."""
    name = re.sub(r"[^A-Za-z0-9_]", "_", request.node.name)
    prefix = "/it/" + name
    yield prefix
    if "server" in request.fixturenames:
        s = request.getfixturevalue("server")
        if s.alive():
            try:
                s.delete("/v2/keys" + prefix, params={"recursive": "true"},
                         timeout=5)
            except Exception:
                pass
