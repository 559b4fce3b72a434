"""etcd 3.4's v2 proxy mode (--proxy on|readonly): a process that learns
the members' client URLs from their peer URLs (GET <peer>/members, every
--proxy-refresh-interval ms) and forwards every HTTP request to one of
them.  In front of a 3-member cluster: v2 set/get, a long-poll watch, the
v3 JSON gateway, /v2/config/local/proxy, <data-dir>/proxy/cluster;
restarts from the cluster file (with and without --proxy); readonly (501);
no endpoint (503); what exactly is forwarded, a dead endpoint skipped and
every endpoint dead (502), seen on a fake member; members found through a
discovery URL with a 4th and 5th member falling back to proxies; a v3
watch stream through the proxy (cetcd only: etcd's proxy does not flush
streams); a proxy of the target kind in front of Debian etcd members.
Every status, body and header asserted here was measured on Debian's etcd
3.4.23."""

import base64
import json
import os
import queue
import socket
import threading
import time

import pytest
import requests

import cluster
import proxyutil
from proxyutil import cluster_file, endpoints, proxy, restart_proxy

ZERO_BODY = b'{"message":"httpproxy: zero endpoints currently available"}'
WAIT = 10.0           # bound on every watch / event wait here


@pytest.fixture
def cluster_factory(request):
    return cluster.cluster_fixture_factory(request)


@pytest.fixture
def etcd_cluster_factory(request):
    """Like cluster_factory, but the members are Debian's etcd whatever
    the target is; stopped by PID at the end."""
    return cluster.cluster_fixture_factory(
        request, new=lambda size, **kw: proxyutil.etcd_cluster(size))


def b64(s):
    return base64.b64encode(s.encode()).decode()


def client_urls(c):
    return sorted(m.client_url for m in c.members)


def peer_urls(c):
    return sorted(m.peer_url for m in c.members)


class Bg:
    """A request run by a thread (a watch blocks until its event)."""

    def __init__(self, fn):
        self.q = queue.Queue()
        self.t = threading.Thread(target=self._run, args=(fn,), daemon=True)
        self.t.start()

    def _run(self, fn):
        try:
            self.q.put(fn())
        except Exception as e:    # handed to the test by result()
            self.q.put(e)

    def result(self, timeout=WAIT):
        r = self.q.get(timeout=timeout)
        if isinstance(r, Exception):
            raise r
        return r


def set_get(p, m, key, value):
    """Set key through proxy p; the answer and a quorum read on member m
    agree; returns the set response."""
    r = p.put("/v2/keys" + key, data={"value": value})
    assert r.status_code in (200, 201), r.text
    node = r.json()["node"]
    assert node["value"] == value
    assert int(r.headers["X-Etcd-Index"]) == node["modifiedIndex"]
    g = p.get("/v2/keys" + key, params={"quorum": "true"})
    d = m.get("/v2/keys" + key, params={"quorum": "true"})
    assert g.status_code == d.status_code == 200
    assert g.json() == d.json()
    assert g.json()["node"]["value"] == value
    assert g.headers["X-Etcd-Cluster-Id"] == d.headers["X-Etcd-Cluster-Id"]
    return r


def test_proxy_in_front_of_three_members(cluster_factory, server_factory):
    c = cluster_factory(3)
    p = proxy(server_factory, initial_cluster=c.initial_cluster_string(),
              n_endpoints=3)
    assert endpoints(p) == client_urls(c)
    assert sorted(cluster_file(p)) == peer_urls(c)
    r = set_get(p, c[1], "/px/a", "1")
    assert r.status_code == 201 and r.json()["action"] == "set"
    assert "X-Raft-Index" in r.headers and "X-Raft-Term" in r.headers
    # a long-poll watch through the proxy gets a write made on a member
    idx = r.json()["node"]["modifiedIndex"]
    w = Bg(lambda: p.get("/v2/keys/px/a", params={
        "wait": "true", "waitIndex": str(idx + 1)}, timeout=WAIT))
    time.sleep(0.3)
    assert c[2].put("/v2/keys/px/a", data={"value": "2"}).status_code == 200
    got = w.result()
    assert got.status_code == 200, got.text
    assert got.json()["action"] == "set"
    assert got.json()["node"]["value"] == "2"
    assert got.json()["prevNode"]["value"] == "1"
    # the v3 JSON gateway is forwarded too
    pr = p.post("/v3/kv/put", data=json.dumps({"key": b64("pk"),
                                               "value": b64("pv")}))
    assert pr.status_code == 200, pr.text
    rev = pr.json()["header"]["revision"]
    rr = p.post("/v3/kv/range", data=json.dumps({"key": b64("pk")}))
    assert rr.status_code == 200
    assert [(kv["key"], kv["value"], kv["mod_revision"])
            for kv in rr.json()["kvs"]] == [(b64("pk"), b64("pv"), rev)]
    dr = c[0].post("/v3/kv/range", data=json.dumps({"key": b64("pk")}))
    assert dr.json()["kvs"][0]["value"] == b64("pv")
    # a missing key: the member's 404 and error body come through
    nf = p.get("/v2/keys/px/nothere")
    assert nf.status_code == 404 and nf.json()["errorCode"] == 100
    assert "X-Etcd-Index" in nf.headers
    # the proxy's own endpoint list: GET only
    cfg = p.get("/v2/config/local/proxy")
    assert cfg.status_code == 200 and cfg.text.endswith("\n")
    assert p.put("/v2/config/local/proxy").status_code == 405
    # what a proxy asks: every member's peer port names every member with
    # its client URLs (the members' uint64 ids as JSON numbers)
    for m in c.members:
        got = requests.get(m.peer_url + "/members", timeout=5)
        assert got.status_code == 200
        assert int(got.headers["X-Etcd-Cluster-Id"], 16) > 0
        ms = json.loads(got.text)
        assert sorted(u for x in ms for u in x["clientURLs"]) == client_urls(c)
        assert sorted(u for x in ms for u in x["peerURLs"]) == peer_urls(c)
        assert [x["id"] for x in ms] == sorted(x["id"] for x in ms)


def test_restart_from_cluster_file(cluster_factory, server_factory):
    c = cluster_factory(3)
    # one peer URL is enough: the proxy learns (and saves) the others
    f = c.followers()[0]
    others = [i for i in range(3) if i != f]
    p = proxy(server_factory, initial_cluster="%s=%s" % (c[f].name,
                                                           c[f].peer_url),
              n_endpoints=3)
    assert endpoints(p) == client_urls(c)
    cluster.wait_until(lambda: sorted(cluster_file(p)) == peer_urls(c), 5,
                       "all three peer URLs in the cluster file")
    set_get(p, c[f], "/px/r", "before")
    code = p.stop()
    assert code in (0, -15), code       # etcd: -15 (killed by SIGTERM)
    # the only peer named on the first command line is gone (a follower:
    # the others keep their leader): the restarted proxy can only have
    # found the cluster through its file
    c.kill9(f)
    restart_proxy(p, n_endpoints=3, initial_cluster=None)
    assert sorted(cluster_file(p)) == peer_urls(c)
    g = p.get("/v2/keys/px/r", params={"quorum": "true"})
    assert g.status_code == 200 and g.json()["node"]["value"] == "before"
    set_get(p, c[others[0]], "/px/r", "after1")
    # without --proxy: the data dir says proxy; no member is created
    restart_proxy(p, n_endpoints=3, mode=None)
    assert sorted(os.listdir(p.data_dir)) == ["proxy"]
    set_get(p, c[others[1]], "/px/r", "after2")


def test_readonly(cluster_factory, server_factory):
    c = cluster_factory(3)
    p = proxy(server_factory, initial_cluster=c.initial_cluster_string(),
              mode="readonly", n_endpoints=3)
    def index():
        return int(c[0].get("/v2/keys/").headers["X-Etcd-Index"])
    before = index()
    for method in ("PUT", "POST", "DELETE", "PATCH"):
        r = p.req(method, "/v2/keys/ro/k", data={"value": "x"})
        assert (r.status_code, r.content) == (501, b""), method
    r = p.post("/v3/kv/put", data=json.dumps({"key": b64("ro"),
                                              "value": b64("x")}))
    assert (r.status_code, r.content) == (501, b"")
    assert c[0].get("/v2/keys/ro/k", params={"quorum": "true"}
                    ).status_code == 404
    assert c[0].post("/v3/kv/range", data=json.dumps({"key": b64("ro")})
                     ).json().get("kvs") is None
    assert index() == before
    # GETs are forwarded
    assert c[1].put("/v2/keys/ro/k", data={"value": "m"}).status_code == 201
    g = p.get("/v2/keys/ro/k", params={"quorum": "true"})
    assert g.status_code == 200 and g.json()["node"]["value"] == "m"
    assert endpoints(p) == client_urls(c)


def test_zero_endpoints(server_factory):
    dead = cluster.stable_ports(1)[0]       # nobody listens there
    p = proxy(server_factory, initial_cluster="m0=http://127.0.0.1:%d" % dead,
              n_endpoints=0)
    assert p.get("/v2/config/local/proxy").json() == {"endpoints": []}
    for method, path in (("GET", "/v2/keys/a"), ("PUT", "/v2/keys/a"),
                         ("POST", "/v3/kv/range"), ("GET", "/health")):
        r = p.req(method, path)
        assert r.status_code == 503, (method, path, r.status_code)
        assert r.content == ZERO_BODY     # no newline after the JSON
        assert r.headers["Content-Type"] == "application/json"
        # the proxy's own answers carry etcd's CORS headers
        assert r.headers["Access-Control-Allow-Origin"] == "*"
        assert r.headers["Access-Control-Allow-Methods"] == \
            "POST, GET, OPTIONS, PUT, DELETE"
    # OPTIONS is answered by the proxy itself (etcd's CORS wrapper)
    r = p.req("OPTIONS", "/v2/keys/a")
    assert r.status_code == 200 and r.content == b""
    assert r.headers["Access-Control-Allow-Headers"] == "accept, content-type, authorization"
    # nothing learnt: no cluster file is written
    assert os.path.isdir(os.path.join(p.data_dir, "proxy"))
    assert not os.path.exists(os.path.join(p.data_dir, "proxy", "cluster"))
    assert p.alive()


@pytest.fixture
def fake():
    f = proxyutil.FakeMember()
    yield f
    f.close()


def test_what_is_forwarded(fake, server_factory):
    """On a fake member: method, path, query and body unchanged, request
    headers passed plus X-Forwarded-For, hop-by-hop headers dropped both
    ways; the member's status, headers and body come back."""
    fake.members = [("f0", fake.url, fake.url)]
    p = proxy(server_factory, initial_cluster="f0=" + fake.url,
              n_endpoints=1)
    assert endpoints(p) == [fake.url]
    r = p.put("/v2/keys/x?a=b%20c&d=", data={"value": "1"},
              headers={"X-Custom": "yes", "Connection": "keep-alive"})
    assert r.status_code == 200
    assert r.headers["X-Etcd-Index"] == "42"
    assert r.headers["X-Etcd-Cluster-Id"] == fake.CLUSTER_ID
    assert r.json() == {"method": "PUT", "path": "/v2/keys/x?a=b%20c&d=",
                        "body": "value=1"}
    method, path, headers, body = fake.forwarded()[-1]
    assert headers["X-Forwarded-For"] == "127.0.0.1"
    assert headers["X-Custom"] == "yes"
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert "Connection" not in headers
    fake.reply = (404, {"Content-Type": "text/plain", "X-Etcd-Index": "7",
                        "X-Other": "z", "Connection": "close"}, b"nope\n")
    r = p.post("/v3/anything", data=b"\x00\x01raw")
    assert (r.status_code, r.content) == (404, b"nope\n")
    assert r.headers["X-Etcd-Index"] == "7" and r.headers["X-Other"] == "z"
    assert r.headers["Content-Type"] == "text/plain"
    assert fake.forwarded()[-1][:2] == ("POST", "/v3/anything")
    assert fake.forwarded()[-1][3] == b"\x00\x01raw"
    # the proxy answers its own endpoint list: never forwarded
    n = len(fake.forwarded())
    endpoints(p)
    assert len(fake.forwarded()) == n


def test_dead_endpoints(fake, server_factory):
    """One dead client URL of two: every request is answered by the live
    one and the dead one leaves the list; every client URL dead: 502 with
    the number of endpoints tried, then 503 while they are marked."""
    dead1, dead2 = ("http://127.0.0.1:%d" % x for x in cluster.stable_ports(2))
    fake.members = [("f0", fake.url, dead1), ("f1", fake.url, fake.url)]
    # etcd shuffles its endpoints at every refresh, so with a short refresh
    # the dead one soon comes first; a failed connection is retried on the
    # live one at once, and leaves the list until the next refresh
    p = proxy(server_factory, initial_cluster="f0=" + fake.url,
              refresh=300, failure_wait=60000, n_endpoints=2)
    assert endpoints(p) == sorted([dead1, fake.url])
    deadline = time.monotonic() + 15
    n = 0
    while True:
        r = p.put("/v2/keys/d%d" % n, data={"value": str(n)})
        assert r.status_code == 200, (n, r.status_code, r.text)
        assert r.json()["path"] == "/v2/keys/d%d" % n
        n += 1
        if endpoints(p) == [fake.url]:
            break       # the dead endpoint was tried (and skipped)
        assert time.monotonic() < deadline, "dead endpoint never tried"
        time.sleep(0.05)
    # the same request is never forwarded twice to the live member
    assert [q[1] for q in fake.forwarded()] == [
        "/v2/keys/d%d" % i for i in range(n)]
    fake.members = [("f0", fake.url, dead1), ("f1", fake.url, dead2)]
    p2 = proxy(server_factory, name="proxy2",
               initial_cluster="f0=" + fake.url, refresh=30000,
               failure_wait=60000, n_endpoints=2)
    r = p2.get("/v2/keys/a")
    assert r.status_code == 502
    assert r.content == (b'{"message":"httpproxy: unable to get response '
                         b'from 2 endpoint(s)"}')
    assert r.headers["Content-Type"] == "application/json"
    assert endpoints(p2) == []
    r = p2.get("/v2/keys/a")
    assert r.status_code == 503 and r.content == ZERO_BODY


def discovery_member(server_factory, i, url):
    """A target server started with --discovery url (etcd's member
    flags; the default --discovery-fallback proxy)."""
    s = server_factory(start=False, name="d%d" % i)
    s.argv = lambda s=s: [
        s.binary, "--name", s.name, "--data-dir", s.data_dir,
        "--listen-client-urls", s.client_url,
        "--advertise-client-urls", s.client_url,
        "--listen-peer-urls", s.peer_url,
        "--initial-advertise-peer-urls", s.peer_url,
        "--discovery", url, "--enable-v2", "--proxy-refresh-interval", "1000"]
    s.start(wait=False)
    return s


def discovered_proxies(server_factory, url):
    ms = [discovery_member(server_factory, i, url) for i in range(3)]
    for m in ms:
        m.wait_healthy()
    got = requests.get(ms[0].client_url + "/v2/members",
                       timeout=5).json()["members"]
    assert sorted(m["name"] for m in got) == ["d0", "d1", "d2"]
    px = [discovery_member(server_factory, i, url) for i in (3, 4)]
    for p in px:
        proxyutil.wait_proxy(p, 3)
        assert endpoints(p) == sorted(m.client_url for m in ms)
        assert sorted(cluster_file(p)) == sorted(m.peer_url for m in ms)
        assert "discovery cluster full, falling back to proxy" in \
            p.log_tail(100)
        # (etcd leaves the member/ its failed start made)
        assert "proxy" in os.listdir(p.data_dir)
        # a proxy serves clients only: nothing on its --listen-peer-urls
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", p.peer_port), 2).close()
    r = px[0].put("/v2/keys/dk", data={"value": "via4"})
    assert r.status_code == 201, r.text
    g = px[1].get("/v2/keys/dk", params={"quorum": "true"})
    assert g.status_code == 200 and g.json()["node"]["value"] == "via4"
    idx = r.json()["node"]["modifiedIndex"]
    w = Bg(lambda: px[1].get("/v2/keys/dk", params={
        "wait": "true", "waitIndex": str(idx + 1)}, timeout=WAIT))
    time.sleep(0.3)
    assert ms[2].put("/v2/keys/dk", data={"value": "m2"}).status_code == 200
    got = w.result()
    assert got.status_code == 200 and got.json()["node"]["value"] == "m2"
    # a proxy does not register itself: three members in the registry
    return ms, px


@pytest.mark.skipif(cluster.is_etcd(), reason="cetcd's /v2/discovery/new")
def test_discovery_fallback_cetcd_host(server_factory):
    host = server_factory(name="host")
    url = host.get("/v2/discovery/new?size=3").text
    discovered_proxies(server_factory, url)
    regs = host.get("/v2/keys" + url.split("/v2/keys", 1)[1]).json()
    assert len([n for n in regs["node"]["nodes"]
                if not n["key"].endswith("_config")]) == 3


def test_discovery_fallback_etcd_host(server_factory):
    host = proxyutil.etcd_server("disc")
    cluster.LIVE.append(host)
    try:
        host.start()
        tok = "/_etcd/registry/cetcd-proxy-test"
        assert host.put("/v2/keys%s/_config/size" % tok,
                        data={"value": "3"}).status_code == 201
        discovered_proxies(server_factory, host.client_url + "/v2/keys" + tok)
        regs = host.get("/v2/keys" + tok).json()["node"]["nodes"]
        assert len([n for n in regs if not n["key"].endswith("_config")]) == 3
    finally:
        host.cleanup(False)


@pytest.mark.skipif(cluster.is_etcd(),
                    reason="etcd's v2 proxy does not flush streamed answers")
def test_v3_watch_stream_through_proxy(cluster_factory, server_factory):
    c = cluster_factory(3)
    p = proxy(server_factory, initial_cluster=c.initial_cluster_string(),
              n_endpoints=3)
    lines = queue.Queue()
    box = {}

    def read():
        try:
            r = requests.post(p.url("/v3/watch"), stream=True, timeout=WAIT,
                              data=json.dumps({"create_request":
                                               {"key": b64("wsk")}}))
            box["r"] = r
            lines.put(r.status_code)
            for line in r.iter_lines(chunk_size=1):
                if line:
                    lines.put(json.loads(line))
        except Exception as e:
            lines.put(e)
        lines.put(None)
    t = threading.Thread(target=read, daemon=True)
    t.start()
    try:
        assert lines.get(timeout=WAIT) == 200
        created = lines.get(timeout=WAIT)
        assert created["result"]["created"] is True
        time.sleep(0.2)
        pr = c[1].post("/v3/kv/put", data=json.dumps({"key": b64("wsk"),
                                                      "value": b64("x")}))
        assert pr.status_code == 200
        t0 = time.monotonic()
        ev = lines.get(timeout=5)
        assert time.monotonic() - t0 < 5
        e = ev["result"]["events"][0]
        assert (e["kv"]["key"], e["kv"]["value"]) == (b64("wsk"), b64("x"))
        assert e["kv"]["mod_revision"] == pr.json()["header"]["revision"]
    finally:
        if "r" in box:
            try:
                box["r"].raw._fp.fp.raw._sock.shutdown(2)
            except (AttributeError, OSError):
                pass
            box["r"].close()
        t.join(WAIT)


def test_target_proxy_in_front_of_etcd_members(etcd_cluster_factory,
                                               server_factory):
    c = etcd_cluster_factory(3)
    p = proxy(server_factory, initial_cluster=c.initial_cluster_string(),
              n_endpoints=3)
    assert endpoints(p) == client_urls(c)
    assert sorted(cluster_file(p)) == peer_urls(c)
    r = set_get(p, c[0], "/mixed/k", "v")
    assert r.status_code == 201
    assert c[2].get("/v2/keys/mixed/k", params={"quorum": "true"}
                    ).json()["node"]["value"] == "v"
    d = p.delete("/v2/keys/mixed/k")
    assert d.status_code == 200 and d.json()["action"] == "delete"
    assert c[1].get("/v2/keys/mixed/k", params={"quorum": "true"}
                    ).status_code == 404
