"""v3 alarms, --quota-backend-bytes and defragment through etcd's JSON
gateway: Maintenance/Alarm bodies (GET, ACTIVATE, DEACTIVATE, repeated and
unknown alarms), the NOSPACE sequence with a 1 MiB quota (etcd's error,
the alarm in the list and in Status's errors, puts / txns with puts / lease
grants refused while ranges, deletes, txns without puts and compaction go
on, then compaction + defragment + disarm make puts work again), the alarm
surviving a restart, and (cetcd only) an online defragment under a writer
and a reader that keep succeeding, with the database files shrinking.

Recorded from Debian's etcd 3.4.23 (alarm responses carry no header, a
DefragmentResponse is "{}").
"""

import base64
import json
import os
import threading
import time

import pytest

from cluster import is_etcd, wait_until

QUOTA = 1024 * 1024
NOSPACE = (429, '{"error":"etcdserver: mvcc: database space exceeded",'
                '"message":"etcdserver: mvcc: database space exceeded","code":8}')

# (JSON body of /v3/maintenance/alarm, HTTP status, body) as etcd answers
ALARM_TRANSCRIPT = [
    ('{}', 200, '{}'),
    ('{"action":"GET"}', 200, '{}'),
    ('{"action":"ACTIVATE","memberID":"1","alarm":"NOSPACE"}', 200,
     '{"alarms":[{"memberID":"1","alarm":"NOSPACE"}]}'),
    ('{"action":"ACTIVATE","memberID":"1","alarm":"NOSPACE"}', 200,
     '{"alarms":[{"memberID":"1","alarm":"NOSPACE"}]}'),
    ('{"action":"GET"}', 200, '{"alarms":[{"memberID":"1","alarm":"NOSPACE"}]}'),
    ('{"action":"GET","alarm":"CORRUPT"}', 200, '{}'),
    ('{"action":"GET","alarm":"NOSPACE"}', 200,
     '{"alarms":[{"memberID":"1","alarm":"NOSPACE"}]}'),
    ('{"action":"DEACTIVATE","memberID":"2","alarm":"NOSPACE"}', 200, '{}'),
    ('{"action":"DEACTIVATE","memberID":"1","alarm":"NOSPACE"}', 200,
     '{"alarms":[{"memberID":"1","alarm":"NOSPACE"}]}'),
    ('{"action":"ACTIVATE","memberID":"1","alarm":"NONE"}', 200, '{"alarms":[{"memberID":"1"}]}'),
    ('{"action":"GET"}', 200, '{"alarms":[{"memberID":"1"}]}'),
    ('{"action":"DEACTIVATE","memberID":"1","alarm":"NONE"}', 200,
     '{"alarms":[{"memberID":"1"}]}'),
    ('{"action":"GET"}', 200, '{}'),
]


def b64(s):
    return base64.b64encode(s.encode() if isinstance(s, str) else s).decode()


def call(s, path, body):
    r = s.post(path, data=json.dumps(body) if not isinstance(body, str) else body)
    return r.status_code, r.text


def status(s):
    st, body = call(s, "/v3/maintenance/status", {})
    assert st == 200, body
    return json.loads(body)


def fill_until_nospace(s, limit=3000):
    """Overwrite 20 keys with 10 kB values until the quota refuses."""
    val = b64("x" * 10000)
    for i in range(limit):
        st, body = call(s, "/v3/kv/put", {"key": b64("k%d" % (i % 20)), "value": val})
        if st != 200:
            return i, (st, body)
    pytest.fail("no NOSPACE after %d puts" % limit)


@pytest.fixture
def quota_server(server_factory):
    return server_factory(extra_args=["--quota-backend-bytes", str(QUOTA)])


def test_alarm_transcript(server_factory):
    s = server_factory()
    for i, (body, st, want) in enumerate(ALARM_TRANSCRIPT):
        assert call(s, "/v3/maintenance/alarm", body) == (st, want), (i, body)
    # no alarm: Status has no errors field
    assert "errors" not in status(s)


def test_nospace_sequence(quota_server):
    s = quota_server
    n, refused = fill_until_nospace(s)
    assert refused == NOSPACE
    assert n > 20  # the quota is not hit at once
    mid = status(s)["header"]["member_id"]
    alarm = {"alarms": [{"memberID": mid, "alarm": "NOSPACE"}]}
    assert call(s, "/v3/maintenance/alarm", {"action": "GET"}) == (200, json.dumps(alarm, separators=(",", ":")))
    st = status(s)
    assert st["errors"] == ["memberID:%s alarm:NOSPACE " % mid]
    assert int(st["dbSize"]) >= QUOTA * 9 // 10
    # refused: puts, txns with a put, lease grants
    assert call(s, "/v3/kv/put", {"key": b64("a"), "value": b64("b")}) == NOSPACE
    assert call(s, "/v3/lease/grant", {"TTL": 10}) == NOSPACE
    assert call(s, "/v3/kv/txn", {"success": [{"request_put": {"key": b64("a"), "value": b64("b")}}]}) == NOSPACE
    # allowed: range, txn without puts, delete, compaction
    code, body = call(s, "/v3/kv/range", {"key": b64("k2"), "keys_only": True})
    assert code == 200 and json.loads(body)["count"] == "1"
    code, body = call(s, "/v3/kv/txn", {"success": [{"request_delete_range": {"key": b64("k1")}}]})
    assert code == 200 and json.loads(body)["responses"][0]["response_delete_range"]["deleted"] == "1"
    code, body = call(s, "/v3/kv/deleterange", {"key": b64("k3")})
    assert code == 200 and json.loads(body)["deleted"] == "1"
    rev = json.loads(body)["header"]["revision"]
    assert call(s, "/v3/kv/compaction", {"revision": rev, "physical": True})[0] == 200
    before = int(status(s)["dbSize"])
    assert call(s, "/v3/maintenance/defragment", {}) == (200, "{}")
    after = status(s)
    print("dbSize before defragment %d, after %d, in use %s" % (before, int(after["dbSize"]), after["dbSizeInUse"]))
    assert int(after["dbSize"]) < QUOTA // 2 < before
    assert int(after["dbSizeInUse"]) <= int(after["dbSize"])
    # still armed: the alarm, not the size, refuses
    assert call(s, "/v3/kv/put", {"key": b64("a"), "value": b64("b")}) == NOSPACE
    assert call(s, "/v3/maintenance/alarm", {"action": "DEACTIVATE", "memberID": mid, "alarm": "NOSPACE"}) == \
        (200, json.dumps(alarm, separators=(",", ":")))
    code, body = call(s, "/v3/kv/put", {"key": b64("a"), "value": b64("b")})
    assert code == 200, body
    assert "errors" not in status(s)
    assert call(s, "/v3/maintenance/alarm", {"action": "GET"}) == (200, "{}")


def test_alarm_survives_restart(server_factory):
    s = server_factory()
    mid = status(s)["header"]["member_id"]
    arm = {"action": "ACTIVATE", "memberID": mid, "alarm": "NOSPACE"}
    assert call(s, "/v3/maintenance/alarm", arm)[0] == 200
    h = s.get("/health")
    assert (h.status_code, h.text) == (503, '{"health":"false"}\n')
    s.stop()
    # etcd's /health says false while an alarm is set: wait for the v3 API
    s.start(wait=False)
    wait_until(lambda: call(s, "/v3/maintenance/alarm", {"action": "GET"})[0] == 200, 15,
               "v3 API after restart")
    want = json.dumps({"alarms": [{"memberID": mid, "alarm": "NOSPACE"}]}, separators=(",", ":"))
    assert call(s, "/v3/maintenance/alarm", {"action": "GET"}) == (200, want)
    assert call(s, "/v3/kv/put", {"key": b64("a"), "value": b64("b")}) == NOSPACE
    assert s.get("/health").status_code == 503
    arm["action"] = "DEACTIVATE"
    assert call(s, "/v3/maintenance/alarm", arm)[0] == 200
    assert call(s, "/v3/kv/put", {"key": b64("a"), "value": b64("b")})[0] == 200
    h = s.get("/health")
    assert (h.status_code, h.text) == (200, '{"health":"true"}')


def db_files_bytes(s):
    d = os.path.join(s.data_dir, "member", "db")
    return sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d) if f.endswith(".db"))


@pytest.mark.skipif(is_etcd(), reason="etcd's defragment blocks writes; cetcd's is online")
def test_defragment_under_load(server_factory):
    s = server_factory()
    val = b64("v" * 4000)
    for i in range(600):
        assert call(s, "/v3/kv/put", {"key": b64("d%d" % (i % 30)), "value": val})[0] == 200
    code, body = call(s, "/v3/kv/range", {"key": b64("d0")})
    rev = json.loads(body)["header"]["revision"]
    assert call(s, "/v3/kv/compaction", {"revision": rev, "physical": True})[0] == 200
    time.sleep(1.5)  # a checkpoint writes the freed pages out
    before = db_files_bytes(s)
    stop = threading.Event()
    errors, counts = [], {"w": 0, "r": 0}

    def writer():
        i = 0
        while not stop.is_set():
            st, body = call(s, "/v3/kv/put", {"key": b64("w%d" % (i % 10)), "value": b64("w")})
            if st != 200:
                errors.append(("put", st, body))
            counts["w"] += 1
            i += 1

    def reader():
        while not stop.is_set():
            st, body = call(s, "/v3/kv/range", {"key": b64("d"), "range_end": b64("e"), "count_only": True})
            if st != 200 or json.loads(body)["count"] != "30":
                errors.append(("range", st, body))
            counts["r"] += 1

    ts = [threading.Thread(target=writer), threading.Thread(target=reader)]
    for t in ts:
        t.start()
    try:
        time.sleep(0.3)
        w0, r0 = counts["w"], counts["r"]
        assert call(s, "/v3/maintenance/defragment", {}) == (200, "{}")
        # concurrent requests: each gets the same answer
        outs = []
        cs = [threading.Thread(target=lambda: outs.append(call(s, "/v3/maintenance/defragment", {})))
              for _ in range(3)]
        for t in cs:
            t.start()
        for t in cs:
            t.join(60)
        time.sleep(0.3)
    finally:
        stop.set()
        for t in ts:
            t.join(30)
    assert outs == [(200, "{}")] * 3
    assert not errors, errors[:3]
    assert counts["w"] > w0 and counts["r"] > r0
    time.sleep(1.5)
    after = db_files_bytes(s)
    print("database files: %d bytes before defragment, %d after" % (before, after))
    assert after < before * 0.6


def test_nospace_alarm_is_cluster_wide(request):
    """An alarm raised through one member refuses puts on every member,
    shows in each member's Status, and a disarm anywhere lifts it."""
    import cluster
    c = cluster.cluster_fixture_factory(request)(3)
    lead = c.leader_index()
    f1, f2 = [i for i in range(3) if i != lead]
    mid = status(c[f1])["header"]["member_id"]
    arm = {"action": "ACTIVATE", "memberID": mid, "alarm": "NOSPACE"}
    assert call(c[f1], "/v3/maintenance/alarm", arm)[0] == 200
    want = "memberID:%s alarm:NOSPACE " % mid
    for i in range(3):
        assert call(c[i], "/v3/kv/put", {"key": b64("cl"), "value": b64("v")}) == NOSPACE, i
        wait_until(lambda: status(c[i]).get("errors") == [want], 5, "alarm on member %d" % i)
    arm["action"] = "DEACTIVATE"
    assert call(c[f2], "/v3/maintenance/alarm", arm)[0] == 200
    for i in range(3):
        assert call(c[i], "/v3/kv/put", {"key": b64("cl"), "value": b64("v")})[0] == 200, i
