"""Fault test for the v2 proxy (--proxy on): clients writing and reading
through a proxy in front of 3 members keep succeeding while the member the
proxy forwards to is SIGKILLed and later restarted.

The proxy (--proxy-refresh-interval 1000, --proxy-failure-wait 1000)
shuffles its endpoints at each refresh and lists the killed member again
every second (the live members still name it in /members), so the dead
member is tried again and again: each failed connection must be retried
by the proxy on another member, never seen by the client.  The member in
use is found from the member_id of a v3 range answered through the proxy.

Measured on Debian's etcd 3.4.23 (many runs): killing a follower the proxy
uses, no client request fails.  A request in flight on the killed member
is re-sent by the proxy to another member (etcd's proxy retries any
method: a PUT the dead member had applied comes back 200 with prevNode
instead of 201).  Killing the leader the proxy uses, exactly the request
each client had in flight fails, and not with a proxy error: the proxy
re-sends it to a surviving member whose proposal is lost with the old
leader, so that member answers 500 errorCode 300 "Raft Internal Error"
("etcdserver: request timed out[, possibly due to previous leader
failure]") after its request timeout.  So the bound is 0 failures for a
follower and at most one per client, each such a member's 500, for the
leader.  Every loop is bounded in time and count.
"""

import json
import threading
import time

import pytest
import requests

import cluster
import proxyutil

CLIENTS = 2
MAX_OPS = 20000          # per client: a bound on the loop, never reached
MAX_FAILED = {"follower": 0, "leader": CLIENTS}    # see above
RAFT_TIMEOUT = '500 {"errorCode":300,"message":"Raft Internal Error"'
OP_TIMEOUT = 10.0        # each HTTP request


@pytest.fixture
def cluster_factory(request):
    return cluster.cluster_fixture_factory(request)


class Clients:
    """CLIENTS threads: PUT /v2/keys/pk/c<t>/<n> = n through the proxy,
    then a quorum GET of it through the proxy, recording every outcome
    as (time, op, status code or exception text)."""

    def __init__(self, proxy):
        self.url = proxy.client_url
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.log = []
        self.acked = {}
        self.threads = [threading.Thread(target=self._run, args=(t,),
                                         daemon=True) for t in range(CLIENTS)]
        for th in self.threads:
            th.start()

    def _rec(self, op, outcome):
        with self.lock:
            self.log.append((time.monotonic(), op, outcome,
                             threading.current_thread().name))

    def _run(self, t):
        s = requests.Session()
        for n in range(MAX_OPS):
            if self.stop.is_set():
                break
            key = "/v2/keys/pk/c%d/%d" % (t, n)
            try:
                r = s.put(self.url + key, data={"value": str(n)},
                          timeout=OP_TIMEOUT)
                # 200: the proxy re-sent a PUT the killed member had
                # already applied (etcd's proxy retries any request)
                self._rec("put", r.status_code if r.status_code in (200, 201)
                          else "%d %s" % (r.status_code, r.text[:100]))
                if r.status_code not in (200, 201):
                    continue
                with self.lock:
                    self.acked[key] = str(n)
                g = s.get(self.url + key, params={"quorum": "true"},
                          timeout=OP_TIMEOUT)
                ok = g.status_code == 200 and \
                    g.json()["node"]["value"] == str(n)
                self._rec("get", g.status_code if ok else
                          "%d %s" % (g.status_code, g.text[:100]))
            except (requests.RequestException, ValueError) as e:
                self._rec("put/get", "%s" % e)
        s.close()

    def finish(self):
        self.stop.set()
        for th in self.threads:
            th.join(2 * OP_TIMEOUT + 5)
            assert not th.is_alive(), "client thread stuck"

    def count(self, since=0.0):
        with self.lock:
            return len([x for x in self.log if x[0] >= since])

    def failures(self):
        with self.lock:
            return [x for x in self.log if x[2] not in (200, 201)]


def member_in_use(c, p):
    """Index of the member answering the proxy's requests right now."""
    r = p.post("/v3/kv/range", data=json.dumps({"key": "eA=="}), timeout=5)
    assert r.status_code == 200, r.text
    mid = int(r.json()["header"]["member_id"])
    for m in c.members:
        if m.id == mid:
            return m.index
    raise AssertionError("member id %x not in the cluster" % mid)


def wait_progress(cl, since, n, timeout, what):
    cluster.wait_until(lambda: cl.count(since) >= n, timeout, what)


@pytest.mark.parametrize("role", ["follower", "leader"])
def test_kill_member_in_use(cluster_factory, server_factory, role):
    c = cluster_factory(3)
    p = proxyutil.proxy(server_factory,
                        initial_cluster=c.initial_cluster_string(),
                        refresh=1000, failure_wait=1000, n_endpoints=3)
    lead = c.leader_index()
    want = (lambda i: i == lead) if role == "leader" else \
        (lambda i: i != lead)
    cl = Clients(p)
    try:
        wait_progress(cl, 0, 20, 10, "operations before the kill")
        # the proxy reshuffles every second: wait for it to use a member
        # of the wanted role (bounded)
        victim = cluster.wait_until(
            lambda: (lambda i: (i,) if want(i) else None)(
                member_in_use(c, p)), 20, "proxy using the %s" % role,
            interval=0.2)[0]
        c.kill9(victim)
        t_kill = time.monotonic()
        # keep going across several refreshes that list the dead member
        time.sleep(4)
        wait_progress(cl, t_kill + 3, 10, 10, "operations after the kill")
        survivors = [i for i in range(3) if i != victim]
        assert c.leader_index(members=survivors) is not None
        c.restart(victim)
        t_back = time.monotonic()
        proxyutil.wait_proxy(p, 3)
        time.sleep(1.5)
        wait_progress(cl, t_back, 10, 10, "operations after the restart")
    finally:
        cl.finish()
    bad = cl.failures()
    assert len(bad) <= MAX_FAILED[role], bad[:10]
    for b in bad:       # never the proxy's 502/503, never a lost connection
        assert isinstance(b[2], str) and b[2].startswith(RAFT_TIMEOUT), b
    assert len(set(b[3] for b in bad)) == len(bad), bad    # one per client
    assert cl.count() >= 50
    # every acknowledged write is on every member
    ks = c.wait_converged()
    with cl.lock:
        acked = dict(cl.acked)
    for key, v in acked.items():
        assert ks[key[len("/v2/keys"):]][0] == v, key
