"""The python-etcd library (Debian python3-etcd) against the server."""

import threading

import etcd
import pytest

import cluster


@pytest.fixture
def client(server):
    c = etcd.Client(host="127.0.0.1", port=server.client_port,
                    protocol="http", read_timeout=10)
    yield c
    c.http.clear()


def test_write_read_delete(client, kp):
    k = kp + "/k"
    w = client.write(k, "v1")
    assert (w.key, w.value, w.action) == (k, "v1", "set")
    assert w.createdIndex == w.modifiedIndex == w.etcd_index
    r = client.read(k)
    assert (r.key, r.value, r.dir) == (k, "v1", False)
    assert r.modifiedIndex == w.modifiedIndex
    assert client.get(k).value == "v1"
    client.set(k, "v2")
    assert client.read(k).value == "v2"
    d = client.delete(k)
    assert d.action == "delete"
    with pytest.raises(etcd.EtcdKeyNotFound):
        client.read(k)
    assert k not in client


def test_directories(client, kp):
    d = kp + "/dir"
    client.write(d, None, dir=True)
    assert client.read(d).dir is True
    client.write(d + "/a", "1")
    client.write(d + "/b/c", "2")
    r = client.read(d, recursive=True, sorted=True)
    assert [(n.key, n.value) for n in r.leaves] == [
        (d + "/a", "1"), (d + "/b/c", "2")]
    with pytest.raises(etcd.EtcdNotFile):
        client.delete(d)
    with pytest.raises(etcd.EtcdDirNotEmpty):
        client.delete(d, dir=True)
    client.delete(d, recursive=True)
    with pytest.raises(etcd.EtcdKeyNotFound):
        client.read(d)


def test_ttl(client, kp):
    k = kp + "/t"
    r = client.write(k, "v", ttl=300)
    assert r.ttl == 300
    assert 298 <= client.read(k).ttl <= 300
    client.refresh(k, ttl=600)
    r = client.read(k)
    assert 598 <= r.ttl <= 600 and r.value == "v"


def test_ttl_expiry(client, kp):
    k = kp + "/t"
    client.write(k, "v", ttl=1)

    def gone():
        try:
            client.read(k)
            return False
        except etcd.EtcdKeyNotFound:
            return True
    cluster.wait_until(gone, 5, "ttl=1 key to expire")


def test_append_in_order(client, kp):
    q = kp + "/queue"
    a = client.write(q, "job1", append=True)
    b = client.write(q, "job2", append=True)
    assert a.key == "%s/%020d" % (q, a.createdIndex)
    assert b.key == "%s/%020d" % (q, b.createdIndex)
    r = client.read(q, sorted=True)
    assert [n.value for n in r.children] == ["job1", "job2"]


def test_test_and_set(client, kp):
    k = kp + "/k"
    client.write(k, "one")
    r = client.test_and_set(k, "two", "one")
    assert (r.value, r.action) == ("two", "compareAndSwap")
    with pytest.raises(etcd.EtcdCompareFailed) as ei:
        client.test_and_set(k, "three", "one")
    assert "[one != two]" in str(ei.value)
    assert client.read(k).value == "two"


def test_prev_exist(client, kp):
    k = kp + "/k"
    client.write(k, "a", prevExist=False)
    with pytest.raises(etcd.EtcdAlreadyExist):
        client.write(k, "b", prevExist=False)
    with pytest.raises(etcd.EtcdKeyNotFound):
        client.write(kp + "/none", "b", prevExist=True)
    r = client.write(k, "c", prevExist=True)
    assert r.action == "update"


def test_update_object(client, kp):
    k = kp + "/k"
    client.write(k, "a")
    obj = client.read(k)
    obj.value = "b"
    r = client.update(obj)
    assert r.value == "b" and r.action == "compareAndSwap"


def test_watch(client, kp):
    k = kp + "/w"
    start = client.write(kp + "/mark", "m").modifiedIndex
    got = {}

    def watcher():
        try:
            got["r"] = client.watch(k, index=start + 1, timeout=10)
        except Exception as e:  # reported below
            got["e"] = e
    t = threading.Thread(target=watcher, daemon=True)
    t.start()
    client.write(k, "changed")
    t.join(15)
    assert not t.is_alive()
    assert "e" not in got, got.get("e")
    assert (got["r"].key, got["r"].value, got["r"].action) == (
        k, "changed", "set")


def test_watch_timeout(client, kp):
    with pytest.raises(etcd.EtcdWatchTimedOut):
        client.watch(kp + "/quiet", timeout=0.5)


def test_machines_members_stats(client, server):
    assert client.machines == [server.client_url]
    members = list(client.members.values())
    assert len(members) == 1 and members[0]["name"] == "node1"
    assert client.stats["state"] == "StateLeader"
    assert "setsSuccess" in client.store_stats
    assert client.version.startswith("3.4.")
    assert client.leader["name"] == "node1"


def test_lock(client, kp):
    lock = etcd.Lock(client, kp.strip("/").replace("/", "_"))
    assert lock.acquire(blocking=True, lock_ttl=60, timeout=5)
    assert lock.is_acquired
    other = etcd.Lock(client, kp.strip("/").replace("/", "_"))
    assert not other.acquire(blocking=False, lock_ttl=60)
    lock.release()
    assert other.acquire(blocking=False, lock_ttl=60)
    other.release()
