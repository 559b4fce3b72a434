"""Maintenance calls of the v3 gateway: Snapshot (the stream's shape as
etcd 3.4.23 sends it: 32 KiB blobs with remaining_bytes counting down to
0, then a 32-byte SHA-256 of everything before it; no header), restore of
the streamed file into a fresh single-member server showing the same keys,
snapshots while writes go on, HashKV (cetcd serves it on etcd 3.5's
/v3/maintenance/hashkv; etcd 3.4's gateway has no such path) and
MoveLeader (/v3/maintenance/transfer-leadership) on 3 members."""

import base64
import hashlib
import json
import os
import subprocess
import threading
import time

import pytest

import cluster

BLOB = 32 * 1024


def b64(s):
    return base64.b64encode(s.encode() if isinstance(s, str) else s).decode()


def put(s, k, v):
    r = s.post("/v3/kv/put", data=json.dumps({"key": b64(k), "value": b64(v)}))
    assert r.status_code == 200, r.text
    return int(r.json()["header"]["revision"])


def prefix_kvs(s, prefix):
    end = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    r = s.post("/v3/kv/range", data=json.dumps({"key": b64(prefix), "range_end": b64(end)}))
    assert r.status_code == 200, r.text
    return r.json().get("kvs", [])


def snapshot(s):
    """The stream's messages (result objects) and the raw response."""
    r = s.post("/v3/maintenance/snapshot", data="{}", timeout=60)
    assert r.status_code == 200, r.text
    msgs = []
    for line in r.text.splitlines():
        o = json.loads(line)
        assert set(o) == {"result"}, line[:200]
        msgs.append(o["result"])
    return msgs, r


def check_stream(msgs):
    """etcd 3.4's shape; returns the file (database bytes + SHA-256)."""
    assert len(msgs) >= 2
    blobs = [base64.b64decode(m.get("blob", "")) for m in msgs]
    db = b"".join(blobs[:-1])
    sent = 0
    for m, b in zip(msgs[:-1], blobs[:-1]):
        assert "header" not in m           # etcd 3.4 sends none
        assert 0 < len(b) <= BLOB
        sent += len(b)
        assert int(m.get("remaining_bytes", "0")) == len(db) - sent
        if sent < len(db):
            assert len(b) == BLOB
    assert "remaining_bytes" not in msgs[-2] and "remaining_bytes" not in msgs[-1]
    assert len(blobs[-1]) == 32
    assert hashlib.sha256(db).digest() == blobs[-1]
    return db + blobs[-1]


@pytest.fixture
def fresh(server_factory):
    return server_factory()


@pytest.fixture
def cluster_factory(request):
    return cluster.cluster_fixture_factory(request)


def restore_tool():
    b = cluster.server_binary()
    t = os.path.join(os.path.dirname(b), "src", "stored", "cetcd-snaprestore")
    if not os.access(t, os.X_OK):
        pytest.skip("cetcd-snaprestore not built (make check or make src/stored/cetcd-snaprestore)")
    return t


def restore_and_start(server_factory, snap_bytes, tmp_path):
    """A new single-member server whose data dir is restored from the
    snapshot (etcdctl snapshot restore for etcd, cetcd-snaprestore for
    cetcd)."""
    path = str(tmp_path / "snap.db")
    with open(path, "wb") as f:
        f.write(snap_bytes)
    s = server_factory(start=False, name="restored")
    if cluster.is_etcd():
        env = dict(os.environ, ETCDCTL_API="3")
        out = subprocess.run([cluster.ETCDCTL_BIN, "snapshot", "restore", path,
                              "--data-dir", s.data_dir, "--name", s.name,
                              "--initial-cluster", "%s=%s" % (s.name, s.peer_url),
                              "--initial-advertise-peer-urls", s.peer_url],
                             capture_output=True, env=env, timeout=60)
    else:
        out = subprocess.run([restore_tool(), path, s.data_dir], capture_output=True, timeout=60)
    assert out.returncode == 0, out.stderr
    s.start()
    return s


def strip(kvs):
    return [(kv["key"], kv.get("value"), kv["create_revision"], kv["mod_revision"],
             kv["version"]) for kv in kvs]


def test_snapshot_stream_and_restore(fresh, server_factory, tmp_path):
    for i in range(40):
        put(fresh, "snap/k%02d" % i, "x" * 4000)
    put(fresh, "snap/k00", "changed")
    msgs, r = snapshot(fresh)
    assert r.headers["Content-Type"] == "application/json"
    assert len(msgs) >= 4                 # > 160 KB of values: several blobs
    data = check_stream(msgs)
    before = strip(prefix_kvs(fresh, "snap/"))
    assert len(before) == 40
    s = restore_and_start(server_factory, data, tmp_path)
    assert strip(prefix_kvs(s, "snap/")) == before
    # the restored member goes on from the snapshot's revision
    assert put(s, "snap/new", "1") == put(fresh, "snap/new", "1")


def test_snapshot_corrupt_file_is_refused(fresh, tmp_path):
    if cluster.is_etcd():
        pytest.skip("cetcd's restore tool")
    put(fresh, "c/k", "v")
    data = bytearray(check_stream(snapshot(fresh)[0]))
    data[100] ^= 1
    path = str(tmp_path / "bad.db")
    with open(path, "wb") as f:
        f.write(data)
    out = subprocess.run([restore_tool(), path, str(tmp_path / "dd")], capture_output=True)
    assert out.returncode == 1 and b"sha256 mismatch" in out.stderr
    assert not os.path.exists(str(tmp_path / "dd" / "member" / "db"))


def test_snapshot_while_writing(fresh, server_factory, tmp_path):
    stop = threading.Event()
    errors, done = [], []

    def writer():
        i = 0
        while not stop.is_set():
            try:
                put(fresh, "w/%06d" % i, "v%d" % i)
                done.append(i)
                i += 1
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(repr(e))
                return
    t = threading.Thread(target=writer)
    t.start()
    try:
        time.sleep(0.3)
        snaps = []
        for _ in range(3):
            snaps.append(check_stream(snapshot(fresh)[0]))
            time.sleep(0.1)
    finally:
        stop.set()
        t.join(30)
    assert not errors, errors
    assert len(done) > 10
    # point in time: the restored keys are exactly the first n writes
    s = restore_and_start(server_factory, snaps[-1], tmp_path)
    keys = [base64.b64decode(kv["key"]).decode() for kv in prefix_kvs(s, "w/")]
    assert keys == ["w/%06d" % i for i in range(len(keys))]
    assert 0 < len(keys) <= len(done)


def hashkv(s, rev=0):
    return s.post("/v3/maintenance/hashkv", data=json.dumps({"revision": rev} if rev else {}))


def test_hashkv_errors_and_changes(fresh):
    if cluster.is_etcd():
        pytest.skip("etcd 3.4's gateway maps HashKV to /v3/maintenance/hash (Hash)")
    rev = put(fresh, "h/a", "1")
    r = hashkv(fresh)
    assert r.status_code == 200, r.text
    h = r.json()
    assert h["header"]["revision"] == str(rev)
    assert h["compact_revision"] == "-1"          # as etcd: never compacted
    assert hashkv(fresh, rev).json()["hash"] == h["hash"]
    rev2 = put(fresh, "h/a", "2")
    assert hashkv(fresh).json()["hash"] != h["hash"]
    assert hashkv(fresh, rev).json()["hash"] == h["hash"]   # history unchanged
    r = hashkv(fresh, rev2 + 100)
    assert r.status_code == 400
    assert r.json() == {"error": "etcdserver: mvcc: required revision is a future revision",
                        "message": "etcdserver: mvcc: required revision is a future revision",
                        "code": 11}
    c = fresh.post("/v3/kv/compaction", data=json.dumps({"revision": rev}))
    assert c.status_code == 200, c.text
    r = hashkv(fresh, rev)
    assert r.status_code == 400
    assert r.json()["error"] == "etcdserver: mvcc: required revision has been compacted"
    assert r.json()["code"] == 11
    h2 = hashkv(fresh).json()
    assert h2["compact_revision"] == str(rev)


def test_hashkv_equal_across_members(cluster_factory):
    if cluster.is_etcd():
        pytest.skip("etcd 3.4's gateway has no HashKV path")
    c = cluster_factory(3)
    lead = c.leader_index()
    for i in range(20):
        rev = put(c[lead], "hk/%d" % i, "v%d" % i)
    for m in c.members:                 # linearizable reads: all applied rev
        prefix_kvs(m, "hk/")
    hs = [hashkv(m, rev).json() for m in c.members]
    assert len({h["hash"] for h in hs}) == 1, hs
    rev2 = put(c[lead], "hk/x", "y")
    for m in c.members:
        prefix_kvs(m, "hk/")
    hs2 = [hashkv(m, rev2).json()["hash"] for m in c.members]
    assert len(set(hs2)) == 1 and hs2[0] != hs[0]["hash"]


def member_ids(s):
    ms = s.post("/v3/cluster/member/list", data="{}").json()["members"]
    return {m["name"]: m["ID"] for m in ms}


def move(s, target):
    return s.post("/v3/maintenance/transfer-leadership", data=json.dumps({"targetID": target}),
                  timeout=15)


def test_move_leader(cluster_factory):
    c = cluster_factory(3)
    lead = c.leader_index()
    ids = member_ids(c[lead])
    f1, f2 = [i for i in range(3) if i != lead]
    # to itself: nothing to do
    r = move(c[lead], ids[c[lead].name])
    assert (r.status_code, r.json()) == (200, {})
    # unknown target
    r = move(c[lead], "12345")
    assert r.status_code == 412
    assert r.json() == {"error": "etcdserver: bad leader transferee",
                        "message": "etcdserver: bad leader transferee", "code": 9}
    # to a chosen follower
    r = move(c[lead], ids[c[f1].name])
    assert (r.status_code, r.json()) == (200, {}), r.text
    assert c.leader_index() == f1
    st = c[f2].post("/v3/maintenance/status", data="{}").json()
    assert st["leader"] == ids[c[f1].name]
    # a follower refuses
    r = move(c[lead], ids[c[f2].name])
    assert r.status_code == 412
    assert r.json() == {"error": "etcdserver: not leader",
                        "message": "etcdserver: not leader", "code": 9}
    # the cluster still serves writes
    put(c[f2], "ml/after", "1")
