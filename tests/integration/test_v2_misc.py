"""Everything around /v2/keys: headers and CORS, /version, /health,
/v2/machines, /v2/members, /v2/stats/*, /metrics, malformed input, and the
server's command line (flags, environment, --enable-v2=false, data-dir
lock).  Expectations measured against Debian's etcd 3.4.23."""

import json
import re
import socket
import subprocess
import time

import pytest

import cluster
from v2util import error, event, fnode, idx

CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "POST, GET, OPTIONS, PUT, DELETE",
    "Access-Control-Allow-Headers": "accept, content-type, authorization",
}


def member_id(server):
    return server.get("/v2/stats/self").json()["id"]


def assert_cors(r):
    for name, value in CORS.items():
        assert r.headers.get(name) == value, (r.request.method, r.url, name)


def raw_exchange(server, data, timeout=5.0):
    """Send raw bytes, read until the server closes (or timeout).

    Returns (bytes received, closed_by_server)."""
    s = socket.create_connection(("127.0.0.1", server.client_port), timeout=5)
    s.settimeout(timeout)
    out = b""
    closed = False
    try:
        s.sendall(data)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            chunk = s.recv(65536)
            if not chunk:
                closed = True
                break
            out += chunk
    except socket.timeout:
        pass
    except ConnectionResetError:
        closed = True
    finally:
        s.close()
    return out, closed


def assert_still_serving(server, kp, value="intact"):
    """A normal write and read work and an earlier key is unchanged."""
    r = server.put("/v2/keys" + kp + "/after", data={"value": value})
    assert r.status_code in (200, 201)
    r = server.get("/v2/keys" + kp + "/after")
    assert r.json()["node"]["value"] == value
    r = server.get("/v2/keys" + kp + "/before")
    assert r.status_code == 200 and r.json()["node"]["value"] == "kept"


@pytest.fixture
def before(server, kp):
    server.put("/v2/keys" + kp + "/before", data={"value": "kept"})


# -- headers -------------------------------------------------------------------

def test_keys_headers(server, kp):
    k = kp + "/k"
    r = server.put("/v2/keys" + k, data={"value": "v"})
    cid = r.headers["X-Etcd-Cluster-Id"]
    assert re.fullmatch(r"[0-9a-f]{1,16}", cid)
    assert int(r.headers["X-Etcd-Index"]) == r.json()["node"]["modifiedIndex"]
    assert int(r.headers["X-Raft-Index"]) > 0
    assert int(r.headers["X-Raft-Term"]) >= 1
    g = server.get("/v2/keys" + k)
    assert g.headers["X-Etcd-Cluster-Id"] == cid
    assert int(g.headers["X-Etcd-Index"]) >= idx(r)
    assert int(g.headers["X-Raft-Index"]) >= int(r.headers["X-Raft-Index"])
    assert int(g.headers["X-Raft-Term"]) == int(r.headers["X-Raft-Term"])
    e = server.get("/v2/keys" + kp + "/none")
    assert e.headers["X-Etcd-Cluster-Id"] == cid
    assert int(e.headers["X-Etcd-Index"]) == e.json()["index"]
    m = server.get("/v2/members")
    assert m.headers["X-Etcd-Cluster-Id"] == cid


def test_cors_on_every_response(server, kp):
    server.put("/v2/keys" + kp + "/k", data={"value": "v"})
    reqs = [("GET", "/v2/keys" + kp + "/k"), ("GET", "/v2/keys" + kp + "/no"),
            ("PUT", "/v2/keys" + kp + "/k?ttl=abc"), ("DELETE", "/v2/keys/"),
            ("PATCH", "/v2/keys" + kp + "/k"), ("GET", "/version"),
            ("GET", "/health"), ("GET", "/v2/members"),
            ("GET", "/v2/machines"), ("GET", "/v2/stats/self"),
            ("GET", "/v2/stats/store"), ("GET", "/v2/stats/leader"),
            ("GET", "/metrics"), ("GET", "/no/such/path"),
            ("OPTIONS", "/v2/keys" + kp + "/k")]
    for method, path in reqs:
        assert_cors(server.req(method, path))


def test_options_preflight(server, kp):
    for hdrs in ({}, {"Origin": "http://example.com",
                      "Access-Control-Request-Method": "PUT"}):
        r = server.req("OPTIONS", "/v2/keys" + kp + "/k", headers=hdrs)
        assert r.status_code == 200
        assert r.content == b""
        assert r.headers["Content-Length"] == "0"
        assert_cors(r)


def test_unknown_method(server, kp):
    r = server.req("PATCH", "/v2/keys" + kp + "/k")
    assert r.status_code == 405
    assert r.headers["Allow"] == "HEAD,GET,PUT,POST,DELETE"
    assert r.text == "Method Not Allowed\n"
    r = server.req("POST", "/version")
    assert r.status_code == 405
    assert r.headers["Allow"] == "GET"
    assert r.text == "Method Not Allowed\n"
    r = server.req("PUT", "/health")
    assert r.status_code == 405 and r.headers["Allow"] == "GET"


def test_unknown_path_404(server):
    for path in ("/no/such/path", "/v2", "/v2/nothing"):
        r = server.get(path)
        assert r.status_code == 404
        assert r.text == "404 page not found\n"


# -- info endpoints ------------------------------------------------------------

def test_version(server):
    r = server.get("/version")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"
    v = json.loads(r.text)
    assert list(v) == ["etcdserver", "etcdcluster"]
    assert re.fullmatch(r"3\.4\.\d+", v["etcdserver"])
    assert v["etcdcluster"] == "3.4.0"
    assert r.text == '{"etcdserver":"%s","etcdcluster":"3.4.0"}' % (
        v["etcdserver"])


def test_health(server):
    r = server.get("/health")
    assert r.status_code == 200
    assert r.text == '{"health":"true"}'


def test_machines(server):
    r = server.get("/v2/machines")
    assert r.status_code == 200
    assert r.text == server.client_url


def test_members(server):
    mid = member_id(server)
    assert re.fullmatch(r"[0-9a-f]{1,16}", mid)
    r = server.get("/v2/members")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"
    assert r.text == ('{"members":[{"id":"%s","name":"node1","peerURLs":'
                      '["%s"],"clientURLs":["%s"]}]}\n' % (
                          mid, server.peer_url, server.client_url))


def test_stats_self(server):
    r = server.get("/v2/stats/self")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"
    s = r.json()
    assert list(s)[:5] == ["name", "id", "state", "startTime", "leaderInfo"]
    assert s["name"] == "node1"
    assert s["state"] == "StateLeader"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+(Z|[+-]\d\d:\d\d)",
                        s["startTime"])
    li = s["leaderInfo"]
    assert li["leader"] == s["id"]
    assert re.fullmatch(r"[\d.]+(ns|µs|ms|s|m\S*|h\S*)", li["uptime"])
    assert "startTime" in li
    assert s["recvAppendRequestCnt"] == 0
    assert "sendAppendRequestCnt" in s


def test_stats_leader(server):
    r = server.get("/v2/stats/leader")
    assert r.status_code == 200
    assert r.text == '{"leader":"%s","followers":{}}' % member_id(server)


STORE_FIELDS = ["getsSuccess", "getsFail", "setsSuccess", "setsFail",
                "deleteSuccess", "deleteFail", "updateSuccess", "updateFail",
                "createSuccess", "createFail", "compareAndSwapSuccess",
                "compareAndSwapFail", "compareAndDeleteSuccess",
                "compareAndDeleteFail", "expireCount", "watchers"]


def test_stats_store_counters(server, kp):
    def stats():
        r = server.get("/v2/stats/store")
        assert r.headers["Content-Type"] == "application/json"
        assert list(json.loads(r.text)) == STORE_FIELDS
        return r.json()
    k = "/v2/keys" + kp + "/k"
    before = stats()
    server.put(k, data={"value": "1"})                        # set ok
    server.get(k)                                             # get ok
    server.get(k + "/below")                                  # get fail
    server.put(k, data={"value": "2", "prevValue": "1"})      # cas ok
    server.put(k, data={"value": "3", "prevValue": "x"})      # cas fail
    server.put(k, data={"value": "4", "prevExist": "true"})   # update ok
    server.put(k, data={"value": "5", "prevExist": "false"})  # create fail
    server.post("/v2/keys" + kp + "/q", data={"value": "j"})  # create ok
    server.delete(k, params={"prevValue": "x"})               # cad fail
    server.delete(k, params={"prevValue": "4"})               # cad ok
    server.delete(k)                                          # delete fail
    after = stats()
    delta = {f: after[f] - before[f] for f in STORE_FIELDS}
    # etcd quirks, measured: every v2 keys request also does one failing
    # internal get (the v2 auth "enabled" lookup), so getsFail grows by at
    # least the one real failure; and a failed compare-and-delete is counted
    # under compareAndDeleteSuccess.  Only the unambiguous parts are exact.
    assert delta.pop("getsFail") >= 1
    cad = delta.pop("compareAndDeleteSuccess") + delta.pop(
        "compareAndDeleteFail")
    assert cad == 2
    assert delta == {
        "getsSuccess": 1, "setsSuccess": 1, "setsFail": 0,
        "deleteSuccess": 0, "deleteFail": 1, "updateSuccess": 1,
        "updateFail": 0, "createSuccess": 1, "createFail": 1,
        "compareAndSwapSuccess": 1, "compareAndSwapFail": 1,
        "expireCount": 0, "watchers": 0}


def test_metrics(server, kp):
    server.put("/v2/keys" + kp + "/k", data={"value": "1"})
    r = server.get("/metrics")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/plain")
    lines = r.text.splitlines()
    assert "# TYPE etcd_server_has_leader gauge" in lines
    assert "etcd_server_has_leader 1" in lines
    assert "etcd_server_is_leader 1" in lines
    committed = [ln for ln in lines
                 if ln.startswith("etcd_server_proposals_committed_total ")]
    assert len(committed) == 1 and float(committed[0].split()[1]) >= 1
    for ln in lines:
        assert ln.startswith("#") or re.fullmatch(
            r"[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})? \S+", ln), ln


# -- malformed input -----------------------------------------------------------

@pytest.mark.parametrize("data", [
    b"GARBAGE\r\n\r\n",
    b"\x00\x01\x02\xff\xfe\r\n\r\n",
    b"GET /v2/keys/x HTTP/9.9\r\nHost: x\r\n\r\n",
    b"PUT /v2/keys/x HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
    b"GET /v2/keys/x HTTP/1.1\r\n\r\n",          # HTTP/1.1 without Host
    b"GET /v2/keys/%zz HTTP/1.1\r\nHost: x\r\n\r\n",
], ids=["garbage", "binary", "bad-version", "bad-content-length",
        "no-host", "bad-path-escape"])
def test_malformed_http(server, kp, before, data):
    out, closed = raw_exchange(server, data)
    assert closed, "server must close a connection after a malformed request"
    assert out == b"" or out.startswith(b"HTTP/1.1 400 "), out[:200]
    assert_still_serving(server, kp)


def test_bad_escape_in_form(server, kp, before):
    body = b"value=%z"
    req = (b"PUT /v2/keys" + kp.encode() + b"/bf HTTP/1.1\r\nHost: x\r\n"
           b"Content-Type: application/x-www-form-urlencoded\r\n"
           b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body)
           + body)
    out, closed = raw_exchange(server, req)
    assert out.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    head, _, payload = out.partition(b"\r\n\r\n")
    assert b"\r\nX-Etcd-Index: 0\r\n" in head
    assert payload.decode() == error(210, "Invalid POST form",
                                     'invalid URL escape "%z"', 0)
    out, _ = raw_exchange(server, b"PUT /v2/keys" + kp.encode() +
                          b"/bf?value=%zz HTTP/1.1\r\nHost: x\r\n"
                          b"Connection: close\r\n\r\n")
    assert out.split(b"\r\n\r\n", 1)[1].decode() == error(
        210, "Invalid POST form", 'invalid URL escape "%zz"', 0)
    assert_still_serving(server, kp)


def test_expect_100_continue(server, kp):
    # curl sends "Expect: 100-continue" for bodies over 1 KiB
    body = ("value=" + "c" * 2000).encode()
    s = socket.create_connection(("127.0.0.1", server.client_port), timeout=5)
    try:
        s.sendall(b"PUT /v2/keys" + kp.encode() + b"/big HTTP/1.1\r\n"
                  b"Host: x\r\nExpect: 100-continue\r\nContent-Type: "
                  b"application/x-www-form-urlencoded\r\nContent-Length: "
                  b"%d\r\n\r\n" % len(body))
        first = s.recv(4096)
        assert first.startswith(b"HTTP/1.1 100 Continue\r\n\r\n"), first
        s.sendall(body)
        reply = first[len(b"HTTP/1.1 100 Continue\r\n\r\n"):]
        deadline = time.monotonic() + 5
        while b"\r\n\r\n" not in reply and time.monotonic() < deadline:
            reply += s.recv(65536)
    finally:
        s.close()
    assert reply.startswith(b"HTTP/1.1 201 Created\r\n"), reply[:100]
    v = server.get("/v2/keys" + kp + "/big").json()["node"]["value"]
    assert v == "c" * 2000


def test_chunked_request_body(server, kp):
    def gen():
        yield b"value="
        yield b"chunk"
        yield b"ed"
    r = server.put("/v2/keys" + kp + "/ch", data=gen(),
                   headers={"Content-Type":
                            "application/x-www-form-urlencoded"})
    assert r.request.headers.get("Transfer-Encoding") == "chunked"
    assert r.status_code == 201
    assert r.text == event("set", fnode(kp + "/ch", "chunked", idx(r)))


def test_http10_without_host(server, kp, before):
    out, closed = raw_exchange(server, b"GET /v2/keys" + kp.encode() +
                               b"/before HTTP/1.0\r\n\r\n")
    assert out.startswith(b"HTTP/1.0 200 OK\r\n")
    assert closed
    assert out.endswith(event("get", fnode(kp + "/before", "kept",
                                           _mi(server, kp))).encode())


def _mi(server, kp):
    return server.get("/v2/keys" + kp + "/before").json()["node"][
        "modifiedIndex"]


def test_idle_connections_do_not_block(server, kp, before):
    idle = []
    try:
        for _ in range(20):
            idle.append(socket.create_connection(
                ("127.0.0.1", server.client_port), timeout=5))
        # half a request: headers never finished
        half = socket.create_connection(("127.0.0.1", server.client_port),
                                        timeout=5)
        idle.append(half)
        half.sendall(b"PUT /v2/keys/x HTTP/1.1\r\nHost: x\r\nContent-Len")
        t0 = time.monotonic()
        assert_still_serving(server, kp)
        assert time.monotonic() - t0 < 2.0
    finally:
        for s in idle:
            s.close()
    assert_still_serving(server, kp, "again")


def test_keep_alive_many_requests(server, kp):
    # one connection, many requests (requests.Session keeps it alive)
    for n in range(50):
        r = server.put("/v2/keys" + kp + "/k", data={"value": str(n)})
        assert r.status_code in (200, 201)
    assert server.get("/v2/keys" + kp + "/k").json()["node"]["value"] == "49"


def test_large_body_with_small_max_request_bytes(server_factory):
    # etcd applies --max-request-bytes to gRPC only: a v2 PUT far larger
    # than the limit is accepted. cetcd (documented divergence, as its
    # issue asks) refuses a body over the limit with 413 and stores nothing.
    s = server_factory(extra_args=["--max-request-bytes", "1024"])
    big = "x" * 65536
    r = s.put("/v2/keys/big", data={"value": big})
    if cluster.is_etcd():
        assert r.status_code == 201
        assert r.text == event("set", fnode("/big", big, idx(r)))
        assert s.get("/v2/keys/big").json()["node"]["value"] == big
    else:
        assert r.status_code == 413
        assert s.get("/v2/keys/big").status_code == 404
    r = s.put("/v2/keys/small", data={"value": "s"})
    assert r.status_code == 201


# -- command line ----------------------------------------------------------------

def test_enable_v2_false(server_factory):
    s = server_factory(enable_v2=False)
    for method in ("GET", "PUT", "DELETE"):
        r = s.req(method, "/v2/keys/foo", data={"value": "1"})
        assert r.status_code == 404
        assert r.text == "404 page not found\n"
    for path in ("/v2/members", "/v2/machines", "/v2/stats/self"):
        assert s.get(path).status_code == 404
    assert s.get("/version").status_code == 200
    assert s.get("/health").json() == {"health": "true"}


def test_enable_v2_from_environment(server_factory):
    s = server_factory(enable_v2=None, env={"ETCD_ENABLE_V2": "true"})
    r = s.put("/v2/keys/env", data={"value": "on"})
    assert r.status_code == 201


def test_default_v2_setting(server_factory):
    # Documented divergence: cetcd enables v2 by default, etcd 3.4 does not.
    s = server_factory(enable_v2=None)
    if cluster.is_etcd():
        assert s.get("/v2/keys/foo").status_code == 404
    else:
        assert s.put("/v2/keys/foo", data={"value": "1"}).status_code == 201


def test_go_style_flag_spellings(server_factory):
    s = server_factory(start=False)
    argv = s.argv()
    # --flag value  ->  -flag=value
    conv = [argv[0]]
    it = iter(argv[1:])
    for a in it:
        if a.startswith("--") and "=" not in a and a != "--enable-v2":
            conv.append("-" + a[2:] + "=" + next(it))
        else:
            conv.append(a)
    s.argv = lambda: conv
    s.start()
    assert s.put("/v2/keys/go", data={"value": "style"}).status_code == 201


def run_server_cmd(args, timeout=10):
    return subprocess.run([cluster.server_binary()] + args,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          stdin=subprocess.DEVNULL, timeout=timeout)


def test_unknown_flag_exits_2(tmp_path):
    p = run_server_cmd(["--bogus-flag", "1", "--data-dir",
                        str(tmp_path / "d")])
    assert p.returncode == 2
    assert b"bogus-flag" in p.stderr


def test_bad_flag_value_exits_2(tmp_path):
    p = run_server_cmd(["--heartbeat-interval", "abc", "--data-dir",
                        str(tmp_path / "d")])
    assert p.returncode == 2
    assert b"heartbeat-interval" in p.stderr


@pytest.mark.skipif(cluster.is_etcd(), reason="etcd blocks forever on the "
                    "data-dir's bbolt flock; cetcd must refuse at once")
def test_second_server_on_same_data_dir_refuses(server_factory):
    first = server_factory()
    first.put("/v2/keys/owner", data={"value": "first"})
    second = cluster.Server(name=first.name, base=first.base)
    try:
        second.start(wait=False)
        try:
            rc = second.proc.wait(5)
        except subprocess.TimeoutExpired:
            rc = None
        assert rc is not None, "second server did not exit within 5 s"
        assert rc != 0
        assert second.log_tail(20).strip(), "no error message"
    finally:
        second.stop()
        if second in cluster.LIVE:
            cluster.LIVE.remove(second)
    assert first.healthy()
    assert first.get("/v2/keys/owner").json()["node"]["value"] == "first"


def test_restart_keeps_data(server_factory):
    s = server_factory()
    i = idx(s.put("/v2/keys/persist", data={"value": "yes"}))
    # etcd re-raises SIGTERM after its cleanup (status -15); exit 0 is
    # equally a clean stop.
    assert s.stop() in (0, -15)
    s.restart()
    r = s.get("/v2/keys/persist")
    assert r.text == event("get", fnode("/persist", "yes", i))
    assert idx(r) >= i


def test_open_file_limit_raised(server_factory):
    """Started with a soft limit of 256 open files, every process of the
    server runs with the soft limit raised to the hard one (as Go's runtime
    does for etcd), so thousands of watch streams fit."""
    import resource
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    assert hard > 256

    def low():
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
    s = server_factory(preexec=low)

    def soft_of(pid):
        with open("/proc/%d/limits" % pid) as f:
            for line in f:
                if line.startswith("Max open files"):
                    return line.split()[3]
        raise AssertionError("no open-files line")
    pids = [s.proc.pid]
    if not cluster.is_etcd():
        out = subprocess.run(["pgrep", "-P", str(s.proc.pid)], capture_output=True, text=True)
        pids += [int(p) for p in out.stdout.split()]
        assert len(pids) >= 4        # supervisor, raft, storage, api workers
    want = "unlimited" if hard == resource.RLIM_INFINITY else str(hard)
    assert [soft_of(p) for p in pids] == [want] * len(pids)
