"""Cluster fault tests: members SIGKILLed, partitioned and restarted while
several client threads keep reading and writing through every member.

Each client thread records what it did in a linearize.History:
  - register ops (write, quorum read, compare-and-swap) on a few shared
    keys /lin/k<n>, so concurrent clients race on the same keys;
  - writes of unique keys /dur/c<t>/<n> (durability: every acknowledged
    one must be readable everywhere afterwards).
After each scenario: the cluster has one leader again, every running
member has the identical keyspace (keys, values and indexes of
GET /v2/keys/?recursive=true&sorted=true), every acknowledged write is
readable on every member (quorum and local reads), and the history,
plus a final quorum read of every register on every member, is
linearizable.

The partition test puts relay.Relay in front of every peer port.  It is
meant for cetcd (the relay reads its 40-byte peer preamble); etcd's HTTP
peer connections name their sender in X-Server-From, which the relay reads
too, so the same test also runs against etcd.
"""

import random
import threading
import time

import pytest

import cluster
import linearize as lz

REG_KEYS = ["/lin/k%d" % i for i in range(5)]
CLIENTS = 4
OP_PAUSE = 0.01          # seconds between one client's ops (keeps the
                         # histories small enough to check quickly)
CLIENT_TIMEOUT = 2.0     # per request; a timeout is outcome "unknown"


@pytest.fixture
def cluster_factory(request):
    return cluster.cluster_fixture_factory(request)


class Workload:
    """CLIENTS threads of mixed ops through the members in `targets`
    (a list of member indexes, changeable while running)."""

    def __init__(self, c, targets=None, seed=None):
        self.c = c
        self.targets = list(targets if targets is not None
                            else range(len(c.members)))
        self.hist = lz.History(timeout=CLIENT_TIMEOUT)
        self.stop_flag = threading.Event()
        self.seed = seed if seed is not None else random.randrange(1 << 30)
        print("workload seed", self.seed)
        self.last_seen = {}        # key -> a value some client saw lately
        self.threads = [threading.Thread(target=self._run, args=(t,),
                                         daemon=True)
                        for t in range(CLIENTS)]
        for th in self.threads:
            th.start()

    def set_targets(self, targets):
        self.targets = list(targets)

    def _run(self, t):
        rnd = random.Random(self.seed * 31 + t)
        n = 0
        pick = t
        while not self.stop_flag.is_set():
            targets = self.targets
            if not targets:
                time.sleep(0.05)
                continue
            m = self.c[targets[pick % len(targets)]]
            base = m.client_url
            n += 1
            k = rnd.random()
            key = rnd.choice(REG_KEYS)
            if k < 0.35:
                op = self.hist.write(base, key, "c%d-%d" % (t, n), client=t)
            elif k < 0.55:
                op = self.hist.read(base, key, client=t)
                if op.outcome == lz.OK and op.result is not None:
                    self.last_seen[key] = op.result
            elif k < 0.7:
                exp = self.last_seen.get(key, "none")
                op = self.hist.cas(base, key, exp, "c%d-%d" % (t, n),
                                   client=t)
            else:
                op = self.hist.write(base, "/dur/c%d/%d" % (t, n),
                                     "v%d" % n, client=t)
            if op.outcome != lz.OK:
                pick += 1            # try another member next time
                time.sleep(0.05)
            else:
                time.sleep(OP_PAUSE)

    def acked(self):
        return sum(1 for op in self.hist.ops() if op.outcome == lz.OK)

    def wait_progress(self, more, timeout):
        start = self.acked()
        cluster.wait_until(lambda: self.acked() >= start + more, timeout,
                           "%d more acknowledged ops" % more)

    def stop(self):
        self.stop_flag.set()
        for th in self.threads:
            th.join(CLIENT_TIMEOUT + 10)
            assert not th.is_alive(), "client thread hung"


def verify(c, wl):
    """The post-scenario checks (see the module docstring)."""
    wl.stop()
    c.wait_ready()
    alive = c.alive()
    hist = wl.hist
    # a final quorum read of every register through every member
    for i in alive:
        for key in REG_KEYS:
            op = hist.read(c[i].client_url, key, client="final%d" % i)
            assert op.outcome == lz.OK, (i, key, op)
    ks = c.wait_converged()
    acked = {op.key: op.value for op in hist.ops()
             if op.outcome == lz.OK and op.kind == "write"
             and op.key.startswith("/dur/")}
    assert acked, "no write was acknowledged at all"
    for i in alive:
        q = c[i].get("/v2/keys/dur", params={"recursive": "true",
                                              "quorum": "true"}, timeout=30)
        assert q.status_code == 200, q.text
        have = {}

        def walk(n):
            for ch in n.get("nodes", []) or []:
                if ch.get("dir"):
                    walk(ch)
                else:
                    have[ch["key"]] = ch["value"]
        walk(q.json()["node"])
        lost = [k for k, v in acked.items() if have.get(k) != v]
        assert not lost, "member %d lost %d acknowledged writes, e.g. %s" % (
            i, len(lost), lost[:5])
        local = c.keyspace(i)
        lost = [k for k, v in acked.items()
                if (local.get(k) or (None,))[0] != v]
        assert not lost, "member %d (local read) misses %s" % (i, lost[:5])
    assert all(ks.get(k, (None,))[0] == v for k, v in acked.items())
    t0 = time.monotonic()
    ok, why = lz.check(hist)
    print("history: %d ops, %d acknowledged; checked in %.2fs" % (
        len(hist), wl.acked(), time.monotonic() - t0))
    assert ok, why


def new_leader_within(c, members, elections=5):
    """The leader among members, which must appear within so many election
    timeouts (plus polling slack); returns (index, seconds taken)."""
    t0 = time.monotonic()
    lead = c.leader_index(timeout=c.timeout_s(elections) + 1.0,
                          members=members)
    return lead, time.monotonic() - t0


# -- scenarios -------------------------------------------------------------------

@pytest.mark.parametrize("size,rounds", [(3, 10), (5, 5)])
def test_kill_leader_repeatedly(cluster_factory, size, rounds):
    c = cluster_factory(size)
    wl = Workload(c)
    try:
        wl.wait_progress(20, 10)
        for r in range(rounds):
            old = c.leader_index()
            c.kill9(old)
            others = [i for i in c.alive() if i != old]
            lead, took = new_leader_within(c, others)
            assert lead != old
            print("round %d: killed m%d, m%d leads after %.2fs" % (
                r, old, lead, took))
            wl.wait_progress(15, 10)
            c.restart(old, wait=False)
            c.wait_ready()
    finally:
        wl.stop()
    verify(c, wl)


def test_kill_follower_catches_up(cluster_factory):
    c = cluster_factory(3)
    wl = Workload(c)
    try:
        wl.wait_progress(20, 10)
        f = c.followers()[0]
        c.kill9(f)
        wl.set_targets([i for i in range(3) if i != f])
        before = wl.acked()
        time.sleep(10)
        assert wl.acked() > before + 50, "writes stalled without a follower"
        c.restart(f)
        wl.set_targets(range(3))
        wl.wait_progress(20, 10)
    finally:
        wl.stop()
    verify(c, wl)


@pytest.mark.parametrize("mode", ["drop", "blackhole"])
def test_partition_isolates_leader(cluster_factory, mode):
    c = cluster_factory(3, relay=True)
    c.learn_ids()
    ids = [m.id for m in c.members]
    wl = Workload(c)
    try:
        wl.wait_progress(20, 10)
        old = c.leader_index()
        majority = [i for i in range(3) if i != old]
        wl.set_targets(majority)
        c.relay.isolate(ids[old], ids, mode)
        lead, took = new_leader_within(c, majority)
        assert lead in majority
        print("partitioned m%d (%s): m%d leads after %.2fs" % (
            old, mode, lead, took))
        # the minority commits nothing: a write through the old leader
        # does not succeed (it times out or fails), and is recorded so the
        # checker knows it might still appear
        op = wl.hist.write(c[old].client_url, REG_KEYS[0], "minority",
                           client="minority")
        assert op.outcome != lz.OK, op
        # the majority serves reads and writes
        wl.wait_progress(30, 15)
        q = c[lead].get("/v2/keys" + REG_KEYS[0], params={"quorum": "true"})
        assert q.status_code in (200, 404)
        c.relay.heal()
        wl.set_targets(range(3))
        c.wait_ready()
        # the old leader has stepped down: one leader for everybody
        lead2 = c.leader_index()
        st = c[old].stats_self()
        assert st["leaderInfo"]["leader"] == c[lead2].id_hex
        wl.wait_progress(20, 10)
    finally:
        wl.stop()
        c.relay.heal()
    verify(c, wl)
    # the write sent to the isolated leader never committed
    ks = c.keyspace(0)
    assert ks.get(REG_KEYS[0], (None,))[0] != "minority" or any(
        op.value == "minority" and op.outcome != lz.FAILED
        for op in wl.hist.ops() if op.kind == "write")


def test_full_cluster_kill_and_restart(cluster_factory):
    c = cluster_factory(3)
    wl = Workload(c)
    try:
        wl.wait_progress(50, 10)
        for i in range(3):
            c.kill9(i)
        time.sleep(0.5)
        for i in range(3):
            c.restart(i, wait=False)
        c.wait_ready()
        wl.wait_progress(30, 15)
    finally:
        wl.stop()
    verify(c, wl)
