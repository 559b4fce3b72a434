"""Cluster fault tests that only make sense for cetcd: SIGKILL of each
worker type on the leader and on a follower, catch-up of a far-behind
follower by a database snapshot, --snapshot-count and --max-snapshots,
leadership transfer on SIGTERM, a member of another cluster refused, a
removed member that may not come back, and --force-new-cluster.

Each scenario runs the concurrent writers of test_cluster_faults.py and
its checks (acknowledged writes on every member, identical keyspaces,
linearizable history) where writes are involved.  Every wait is bounded.
"""

import glob
import os
import subprocess
import time

import pytest

import cluster
from test_cluster_faults import Workload, verify, new_leader_within
from test_kill import workers

pytestmark = pytest.mark.skipif(
    cluster.is_etcd(), reason="cetcd only: worker processes, snapshot "
    "files and log lines of cetcd's own")


@pytest.fixture
def cluster_factory(request):
    return cluster.cluster_fixture_factory(request)


def log_text(m):
    with open(m.log_path, errors="replace") as f:
        return f.read()


def snap_files(m):
    return sorted(glob.glob(os.path.join(m.data_dir, "member", "snap",
                                         "*.snap.db")))


@pytest.mark.parametrize("role", ["raft worker", "storage worker",
                                  "api worker"])
@pytest.mark.parametrize("where", ["leader", "follower"])
def test_kill_worker_in_cluster(cluster_factory, role, where):
    c = cluster_factory(3)
    wl = Workload(c)
    try:
        wl.wait_progress(20, 10)
        i = c.leader_index() if where == "leader" else c.followers()[0]
        pids = workers(c[i].pid)[role]
        assert pids, "no %s under m%d" % (role, i)
        os.kill(pids[0], 9)
        # the supervisor replaces it and the cluster keeps committing
        cluster.wait_until(
            lambda: workers(c[i].pid)[role] and
            pids[0] not in workers(c[i].pid)[role], 10,
            "the %s of m%d to be replaced" % (role, i))
        wl.wait_progress(30, 15)
        cluster.wait_until(lambda: c[i].healthy(), 15, "m%d healthy" % i)
    finally:
        wl.stop()
    verify(c, wl)


def test_far_behind_follower_gets_snapshot(cluster_factory):
    c = cluster_factory(3)
    lead = c.leader_index()
    f = c.followers()[0]
    c.kill9(f)
    # More entries than the leader keeps behind its durable checkpoint
    # (1000), so the follower can only be brought back by a snapshot.
    sess = c[lead].http
    for n in range(2500):
        r = sess.put(c[lead].url("/v2/keys/far/k%d" % (n % 300)),
                     data={"value": "v%d" % n}, timeout=10)
        assert r.status_code in (200, 201), r.text
    time.sleep(1.5)  # a checkpoint, then compaction behind it
    c.restart(f)
    ks = c.wait_converged()
    assert ks["/far/k7"][0] == "v2407"
    text = log_text(c[f])
    assert "receiving snapshot" in text and "installed snapshot" in text, \
        text[-2000:]
    assert snap_files(c[f]), "no snapshot file on the follower"
    # and it serves new writes like the others
    r = c[f].put("/v2/keys/far/after", data={"value": "x"})
    assert r.status_code == 201, r.text
    c.wait_converged()


def test_snapshot_count_and_max_snapshots(cluster_factory):
    c = cluster_factory(3, extra_args=["--snapshot-count", "100",
                                       "--max-snapshots", "2"])
    lead = c.leader_index()
    sess = c[lead].http
    for n in range(600):
        r = sess.put(c[lead].url("/v2/keys/sc/k%d" % (n % 50)),
                     data={"value": str(n)}, timeout=10)
        assert r.status_code in (200, 201), r.text

    def enough():
        files = snap_files(c[lead])
        return files if len(files) >= 2 else None
    files = cluster.wait_until(enough, 10, "two snapshot files")
    assert len(files) <= 2, files
    for m in c.members:
        assert len(snap_files(m)) <= 2


def test_sigterm_leader_transfers_leadership(cluster_factory):
    # A long election timeout: without a transfer, the next leader would
    # need at least that long.
    c = cluster_factory(3, heartbeat=100, election=3000)
    old = c.leader_index()
    t0 = time.monotonic()
    c[old].proc.terminate()
    others = [i for i in range(3) if i != old]
    lead = c.leader_index(timeout=10, members=others)
    took = time.monotonic() - t0
    assert lead != old
    assert took < 2.5, "new leader after %.2fs: no transfer" % took
    assert c[old].proc.wait(10) == 0
    assert "transferring leadership" in log_text(c[old])
    r = c[lead].put("/v2/keys/xfer", data={"value": "1"})
    assert r.status_code == 201, r.text


def test_member_of_another_cluster_is_refused(cluster_factory):
    a = cluster_factory(3)
    # A one-member "cluster" whose initial cluster names a member of a: its
    # token differs, so its cluster id differs.
    b = cluster_factory(1, start=False, token="another-cluster")
    outsider = b[0]
    outsider.initial_cluster = "%s,%s=%s" % (
        b.initial_cluster_string(), a[0].name + "x", a[0].adv_peer_url)
    outsider.start(wait=False)

    def refused():
        return "cluster ID mismatch" in log_text(a[0])
    cluster.wait_until(refused, 15, "a to refuse the outsider")
    assert "refused this member" in log_text(outsider)
    for i in range(3):
        assert a[i].healthy()
    r = a[0].put("/v2/keys/still", data={"value": "ok"})
    assert r.status_code == 201
    assert len(a[0].get("/v2/members").json()["members"]) == 3


def test_removed_member_cannot_rejoin(cluster_factory):
    c = cluster_factory(3)
    victim = c.followers()[0]
    keep = [i for i in range(3) if i != victim]
    c.remove_member(victim, via=keep[0])
    assert c[victim].proc.wait(15) == 0
    # started again on its old data, it is turned away and exits 0
    c[victim].start(wait=False)
    assert c[victim].proc.wait(20) == 0
    assert "permanently removed" in log_text(c[victim])
    assert len(c[keep[0]].get("/v2/members").json()["members"]) == 2


def test_force_new_cluster(cluster_factory):
    c = cluster_factory(3)
    for n in range(20):
        assert c[n % 3].put("/v2/keys/fnc/k%d" % n,
                            data={"value": str(n)}).status_code == 201
    c.wait_converged()
    for i in range(3):
        c.stop(i)
    m = c[0]
    m.extra_args = m.extra_args + ["--force-new-cluster"]
    m.start()
    ms = m.get("/v2/members").json()["members"]
    assert [x["name"] for x in ms] == ["m0"], ms
    g = m.get("/v2/keys/fnc/k19")
    assert g.status_code == 200 and g.json()["node"]["value"] == "19"
    r = m.put("/v2/keys/fnc/after", data={"value": "alone"})
    assert r.status_code == 201, r.text
    # restarting without the flag keeps the one-member cluster
    m.stop()
    m.extra_args = [a for a in m.extra_args if a != "--force-new-cluster"]
    m.start()
    assert m.get("/v2/keys/fnc/after").json()["node"]["value"] == "alone"
