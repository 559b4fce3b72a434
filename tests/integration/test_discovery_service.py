"""The discovery service built into every member (what discovery.etcd.io
runs): GET /v2/discovery/new?size=N makes a token whose _config/size is N
in this cluster's v2 keyspace and answers its URL (the keys API path of
the token: etcd's discovery client requests the URL's own path); Debian's etcd 3.4
members started with --discovery <that URL> register there and form a
cluster of N. cetcd only (etcd has no such endpoint)."""

import os
import shutil
import signal
import subprocess
import tempfile
import time

import pytest
import requests

import cluster

pytestmark = pytest.mark.skipif(cluster.is_etcd(), reason="a cetcd endpoint")


def test_new_token_and_errors(server_factory):
    s = server_factory()
    r = s.get("/v2/discovery/new?size=5")
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "text/plain; charset=utf-8"
    url = r.text
    prefix = s.client_url + "/v2/keys/_etcd/registry/"
    assert url.startswith(prefix) and len(url) == len(prefix) + 32
    token = url[len(prefix):]
    g = s.get("/v2/keys/_etcd/registry/%s/_config/size" % token)
    assert g.status_code == 200 and g.json()["node"]["value"] == "5"
    d = s.get("/v2/discovery/new")            # size 3 by default
    assert d.status_code == 200 and d.text != url
    t2 = d.text[len(prefix):]
    assert s.get("/v2/keys/_etcd/registry/%s/_config/size" % t2).json()["node"]["value"] == "3"
    for bad in ("size=0", "size=x", "size=101", "size="):
        b = s.get("/v2/discovery/new?" + bad)
        assert (b.status_code, b.text) == (400, "Unable to parse size\n"), bad
    assert s.post("/v2/discovery/new").status_code == 405


def test_etcd_members_bootstrap_through_it(server_factory):
    host = server_factory()
    url = host.get("/v2/discovery/new?size=3").text
    base = tempfile.mkdtemp(prefix="cetcd-disc-", dir="/tmp")
    procs = []
    try:
        ports = cluster.free_ports(6)
        for i in range(3):
            cport, pport = ports[2 * i], ports[2 * i + 1]
            log = open(os.path.join(base, "m%d.log" % i), "wb")
            procs.append(subprocess.Popen(
                [cluster.ETCD_BIN, "--name", "m%d" % i,
                 "--data-dir", os.path.join(base, "m%d" % i),
                 "--listen-client-urls", "http://127.0.0.1:%d" % cport,
                 "--advertise-client-urls", "http://127.0.0.1:%d" % cport,
                 "--listen-peer-urls", "http://127.0.0.1:%d" % pport,
                 "--initial-advertise-peer-urls", "http://127.0.0.1:%d" % pport,
                 "--enable-v2", "--discovery", url],
                stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True))
            log.close()
        c0 = "http://127.0.0.1:%d" % ports[0]

        def three_members():
            try:
                r = requests.get(c0 + "/v2/members", timeout=2)
                return r.status_code == 200 and len(r.json()["members"]) == 3
            except requests.RequestException:
                return False
        cluster.wait_until(three_members, 60, "3 etcd members through cetcd's discovery")
        names = sorted(m["name"] for m in requests.get(c0 + "/v2/members", timeout=5)
                       .json()["members"])
        assert names == ["m0", "m1", "m2"]
        regs = host.get("/v2/keys/_etcd/registry/%s" % url.rsplit("/", 1)[1]).json()
        assert len([n for n in regs["node"]["nodes"] if not n["key"].endswith("_config")]) == 3
        p = requests.put("http://127.0.0.1:%d/v2/keys/x" % ports[2], data={"value": "1"}, timeout=5)
        assert p.status_code == 201
    finally:
        for pr in procs:
            try:
                os.killpg(pr.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            pr.wait(timeout=10)
        shutil.rmtree(base, ignore_errors=True)
