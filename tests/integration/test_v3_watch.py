"""v3 watch through etcd's JSON gateway (POST /v3/watch, a stream of
{"result": WatchResponse} lines): created, live events for a key and a
range, prev_kv, NOPUT filter, history from a past start_revision (one
response), a compacted start revision (canceled with compact_revision),
and a malformed request (code 2, HTTP 500); several requests on one
stream (create, cancel, progress request, client and automatic watch ids,
duplicate ids, empty ranges), progress notifications, fragmented
responses, and a client that stops reading for a while catching up on
every event. Shapes and values measured on Debian's etcd 3.4.23."""

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

    def __init__(self, server, create=None, body=None):
        self.q = queue.Queue()
        if body is None:
            body = json.dumps({"create_request": create})
        self.r = requests.post(server.url("/v3/watch"), data=body,
                               stream=True, timeout=READ_TIMEOUT)
        assert self.r.status_code == 200
        assert self.r.headers["Content-Type"] == "application/json"
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        try:
            for line in self.r.iter_lines(chunk_size=65536):
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


def reqs(*objs):
    """A watch stream body holding several requests, as a client stream."""
    return "".join(json.dumps(o) + ("\n" if i % 2 else " ")
                   for i, o in enumerate(objs))


def no_more(st, wait=1.0):
    try:
        m = st.q.get(timeout=wait)
    except queue.Empty:
        return True
    raise AssertionError("unexpected message %r" % (m,))


def test_several_requests_on_one_stream(fresh):
    cur = put(fresh, "mx0", "x")
    st = Stream(fresh, body=reqs(
        {"create_request": {"key": b64("ma")}},
        {"create_request": {"key": b64("mb"), "progress_notify": True}},
        {"cancel_request": {"watch_id": "0"}},
        {"cancel_request": {"watch_id": "7"}},   # unknown: no answer
        {"progress_request": {}}))
    try:
        a, b, c, p = st.next(), st.next(), st.next(), st.next()
        for m in (a, b, c, p):
            assert m["header"]["revision"] == str(cur)
        assert a == {"header": a["header"], "created": True}
        assert b == {"header": b["header"], "watch_id": "1", "created": True}
        assert c == {"header": c["header"], "canceled": True}
        assert p == {"header": p["header"], "watch_id": "-1"}
        put(fresh, "ma", "1")                # canceled: nothing
        r = put(fresh, "mb", "2")
        e = st.next()
        assert e["watch_id"] == "1" and kvs(e["events"]) == [("PUT", "mb", str(r))]
        no_more(st, 0.5)
    finally:
        st.close()


def test_watch_ids_and_bad_ranges(fresh):
    st = Stream(fresh, body=reqs(
        {"create_request": {"key": b64("ia"), "watch_id": "5"}},
        {"create_request": {"key": b64("ib"), "watch_id": "5"}},
        {"create_request": {"key": b64("ic")}},
        {"create_request": {"key": b64("id")}},
        {"create_request": {"key": b64("z"), "range_end": b64("a")}},
        {"create_request": {"key": b64("z"), "range_end": b64("z")}},
        {"create_request": {"key": b64("a"), "range_end": "AA=="}}))
    try:
        got = [st.next() for _ in range(7)]
        hdr = got[0]["header"]
        assert got[0] == {"header": hdr, "watch_id": "5", "created": True}
        assert got[1] == {"header": hdr, "watch_id": "-1", "created": True, "canceled": True,
                          "cancel_reason": "mvcc: duplicate watch ID provided on the WatchStream"}
        assert got[2] == {"header": hdr, "created": True}
        assert got[3] == {"header": hdr, "watch_id": "1", "created": True}
        for g in got[4:6]:
            assert g == {"header": hdr, "watch_id": "-1", "created": True, "canceled": True,
                         "cancel_reason": "mvcc: watcher range is empty"}
        assert got[6] == {"header": hdr, "watch_id": "2", "created": True}
        r = put(fresh, "ib", "x")            # the refused duplicate saw nothing
        r2 = put(fresh, "zz", "y")           # ">= a" watcher (id 2)
        e = st.next()
        assert e["watch_id"] == "2" and kvs(e["events"]) == [("PUT", "ib", str(r))]
        e = st.next()
        assert e["watch_id"] == "2" and kvs(e["events"]) == [("PUT", "zz", str(r2))]
    finally:
        st.close()


def test_bad_later_request_stops_reading(fresh):
    """grpc-gateway stops reading at a request it cannot decode; the stream
    and the watchers made before it go on."""
    st = Stream(fresh, body=reqs({"create_request": {"key": b64("bl")}},
                                 {"create_request": {"key": 1}}) +
                json.dumps({"create_request": {"key": b64("bl2")}}))
    try:
        assert st.next()["created"] is True
        r = put(fresh, "bl", "1")
        put(fresh, "bl2", "1")
        assert kvs(st.next()["events"]) == [("PUT", "bl", str(r))]
        no_more(st, 0.5)
    finally:
        st.close()


def test_progress_notify(server_factory):
    s = server_factory(extra_args=["--experimental-watch-progress-notify-interval", "1s"])
    cur = put(s, "pn0", "x")
    st = Stream(s, body=reqs({"create_request": {"key": b64("pa")}},
                             {"create_request": {"key": b64("pb"), "progress_notify": True}}))
    try:
        assert st.next()["created"] is True
        assert st.next()["created"] is True
        m = st.next()                        # within the 10 s read timeout
        assert m == {"header": m["header"], "watch_id": "1"}
        assert m["header"]["revision"] == str(cur)
        r = put(s, "pb", "1")
        m = st.next()
        assert kvs(m["events"]) == [("PUT", "pb", str(r))]
        m = st.next()
        assert m == {"header": m["header"], "watch_id": "1"} and \
            m["header"]["revision"] == str(r)
    finally:
        st.close()


def test_fragmented_responses(fresh):
    """50 events of 100 kB: with fragment asked, etcd splits the history at
    --max-request-bytes + 512 KiB (20, 20, then 10 events, the last piece
    unmarked); without it, one response."""
    val = b64("x" * 100000)
    for t in range(5):
        ops = [{"request_put": {"key": b64("fr/%d%02d" % (t, i)), "value": val}}
               for i in range(10)]
        r = fresh.post("/v3/kv/txn", data=json.dumps({"success": ops}))
        assert r.status_code == 200, r.text[:200]
    last = int(r.json()["header"]["revision"])
    for frag, shape in ((True, [(20, True), (20, True), (10, False)]), (False, [(50, False)])):
        st = Stream(fresh, {"key": b64("fr/"), "range_end": b64("fr0"), "start_revision": "1",
                            "fragment": frag})
        try:
            assert st.next()["created"] is True
            got = [st.next() for _ in shape]
            assert [(len(g["events"]), g.get("fragment", False)) for g in got] == shape
            keys = [base64.b64decode(e["kv"]["key"]).decode() for g in got for e in g["events"]]
            assert keys == ["fr/%d%02d" % (t, i) for t in range(5) for i in range(10)]
            assert all(g["header"]["revision"] == str(last) for g in got)
        finally:
            st.close()


def metric(server, name):
    for line in server.get("/metrics").text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError("no metric " + name)


def test_slow_reader_gets_every_event(fresh):
    """A client that stops reading while 25 MB of events go by: writes are
    not held up, cetcd's watcher falls back to catching up from the
    database (etcd_debugging_mvcc_slow_watcher_total), and once the client
    reads again it gets every event in order."""
    import socket
    import cluster
    host, port = fresh.url("/").split("//")[1].split("/")[0].split(":")
    body = json.dumps({"create_request": {"key": b64("sl/"), "range_end": b64("sl0")}})
    sock = socket.create_connection((host, int(port)), timeout=READ_TIMEOUT)
    try:
        sock.sendall(("POST /v3/watch HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s"
                      % (len(body), body)).encode())
        first = put(fresh, "sl/start", "x")
        val = "v" * 50000
        revs = [put(fresh, "sl/%03d" % i, val) for i in range(400)]
        assert revs == list(range(first + 1, first + 401))
        if not cluster.is_etcd():
            assert metric(fresh, "etcd_debugging_mvcc_slow_watcher_total") >= 1
        got, data, pos = [], b"", 0
        sock.settimeout(READ_TIMEOUT)
        while len(got) < 401:
            chunk = sock.recv(1 << 20)
            assert chunk, "stream ended after %d events" % len(got)
            data = data[pos:] + chunk
            pos = 0
            while True:
                i = data.find(b'{"result"', pos)
                j = data.find(b"\n", i) if i >= 0 else -1
                if j < 0:
                    break
                o = json.loads(data[i:j])
                pos = j + 1
                got += [int(e["kv"]["mod_revision"]) for e in o["result"].get("events", [])]
        assert got == [first] + revs
        if not cluster.is_etcd():
            assert metric(fresh, "etcd_debugging_mvcc_slow_watcher_total") == 0
            assert metric(fresh, "etcd_debugging_mvcc_watcher_total") == 1
    finally:
        sock.close()
