"""v3 watch through etcd's JSON gateway (POST /v3/watch, a stream of
{"result": WatchResponse} lines): created, live events for a key and a
range, prev_kv, NOPUT filter, history from a past start_revision (one
response), a compacted start revision (canceled with compact_revision),
and a malformed request (code 2, HTTP 500). Shapes and values measured on
Debian's etcd 3.4.23."""

import base64
import json
import queue
import threading

import pytest
import requests

READ_TIMEOUT = 10


def b64(s):
    return base64.b64encode(s.encode()).decode()


class Stream:
    """A watch stream read by a thread; lines() waits (bounded) for lines."""

    def __init__(self, server, create):
        self.q = queue.Queue()
        self.r = requests.post(server.url("/v3/watch"),
                               data=json.dumps({"create_request": create}),
                               stream=True, timeout=READ_TIMEOUT)
        assert self.r.status_code == 200
        assert self.r.headers["Content-Type"] == "application/json"
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        try:
            for line in self.r.iter_lines():
                if line:
                    self.q.put(json.loads(line))
        except (requests.RequestException, ValueError):
            pass
        self.q.put(None)

    def next(self):
        m = self.q.get(timeout=READ_TIMEOUT)
        assert m is not None, "stream ended"
        return m["result"]

    def close(self):
        # Closing the response would wait for the reader thread's read to
        # time out; shutting the socket down ends both at once.
        import socket
        try:
            self.r.raw._fp.fp.raw._sock.shutdown(socket.SHUT_RDWR)
        except (AttributeError, OSError):
            pass
        self.t.join(READ_TIMEOUT)
        self.r.close()


@pytest.fixture
def fresh(server_factory):
    return server_factory()


def put(s, k, v):
    r = s.post("/v3/kv/put", data=json.dumps({"key": b64(k), "value": b64(v)}))
    assert r.status_code == 200, r.text
    return int(r.json()["header"]["revision"])


def kvs(events):
    return [(e.get("type", "PUT"), base64.b64decode(e["kv"]["key"]).decode(),
             e["kv"]["mod_revision"]) for e in events]


def test_live_events_prev_kv_and_filters(fresh):
    rng = Stream(fresh, {"key": b64("wk"), "range_end": b64("wl")})
    one = Stream(fresh, {"key": b64("wk1"), "prev_kv": True})
    nop = Stream(fresh, {"key": b64("wk1"), "filters": ["NOPUT"]})
    try:
        for st in (rng, one, nop):
            c = st.next()
            assert c["created"] is True and "events" not in c
            assert "watch_id" not in c          # 0 is left out
        r1 = put(fresh, "wk1", "a")
        r2 = put(fresh, "wk2", "b")
        r3 = put(fresh, "wk1", "c")
        d = fresh.post("/v3/kv/deleterange", data=json.dumps({"key": b64("wk1")}))
        r4 = int(d.json()["header"]["revision"])
        got = [rng.next() for _ in range(4)]
        assert [g["header"]["revision"] for g in got] == [str(r) for r in (r1, r2, r3, r4)]
        assert [kvs(g["events"]) for g in got] == [
            [("PUT", "wk1", str(r1))], [("PUT", "wk2", str(r2))],
            [("PUT", "wk1", str(r3))], [("DELETE", "wk1", str(r4))]]
        assert got[3]["events"][0]["kv"] == {"key": b64("wk1"), "mod_revision": str(r4)}
        assert all("prev_kv" not in e for g in got for e in g["events"])
        o = [one.next() for _ in range(3)]
        assert "prev_kv" not in o[0]["events"][0]
        assert o[1]["events"][0]["prev_kv"]["value"] == b64("a")
        assert o[2]["events"][0]["prev_kv"]["value"] == b64("c")
        n = nop.next()
        assert kvs(n["events"]) == [("DELETE", "wk1", str(r4))]
    finally:
        for st in (rng, one, nop):
            st.close()


def test_history_and_compaction(fresh):
    revs = [put(fresh, "hk", "v%d" % i) for i in range(3)]
    st = Stream(fresh, {"key": b64("hk"), "start_revision": str(revs[0])})
    try:
        assert st.next()["created"] is True
        h = st.next()
        assert h["header"]["revision"] == str(revs[-1])
        assert [e["kv"]["value"] for e in h["events"]] == [b64("v0"), b64("v1"), b64("v2")]
        r = put(fresh, "hk", "v3")
        assert kvs(st.next()["events"]) == [("PUT", "hk", str(r))]
    finally:
        st.close()
    c = fresh.post("/v3/kv/compaction", data=json.dumps({"revision": str(revs[1])}))
    assert c.status_code == 200, c.text
    st = Stream(fresh, {"key": b64("hk"), "start_revision": str(revs[0])})
    try:
        assert st.next()["created"] is True
        x = st.next()
        assert x["canceled"] is True and x["compact_revision"] == str(revs[1])
        assert "revision" not in x["header"]
    finally:
        st.close()


def test_malformed_watch_request(fresh):
    r = fresh.post("/v3/watch", data="{bad")
    assert r.status_code == 500
    assert r.json() == {"error": "invalid character 'b' looking for beginning of object key string",
                        "message": "invalid character 'b' looking for beginning of object key string",
                        "code": 2}
