"""--discovery URL: etcd's v2 discovery protocol, run by cetcd's
supervisor. Three cetcd members bootstrap through a discovery token
hosted on a separate cetcd (its /v2/discovery/new) and through one hosted
on Debian's etcd 3.4 (a plain v2 key); a fourth finds the cluster full
(--discovery-fallback exit) or becomes a proxy (the default fallback);
etcd's errors for a missing or bad size; the
member id is etcd's (the token is the discovery URL); a discovered member
restarts. cetcd only."""

import json
import os
import subprocess

import pytest
import requests

import cluster

pytestmark = pytest.mark.skipif(cluster.is_etcd(), reason="cetcd's discovery client")


def member(server_factory, i, url, extra=(), start=True):
    s = server_factory(start=False, name="d%d" % i)
    s.argv = lambda s=s: [s.binary, "--name", s.name, "--data-dir", s.data_dir,
                          "--listen-client-urls", s.client_url,
                          "--advertise-client-urls", s.client_url,
                          "--listen-peer-urls", s.peer_url,
                          "--initial-advertise-peer-urls", s.peer_url,
                          "--discovery", url, "--enable-v2"] + list(extra)
    if start:
        s.start(wait=False)
    return s


def run_once(s, timeout=30):
    """Run the member's command to its exit; (code, stderr)."""
    r = subprocess.run(s.argv(), capture_output=True, text=True, timeout=timeout)
    return r.returncode, r.stderr


def three(server_factory, url):
    ms = [member(server_factory, i, url) for i in range(3)]
    for m in ms:
        m.wait_healthy()
    got = requests.get(ms[0].client_url + "/v2/members", timeout=5).json()["members"]
    assert sorted(m["name"] for m in got) == ["d0", "d1", "d2"]
    assert requests.put(ms[1].client_url + "/v2/keys/k", data={"value": "v"},
                        timeout=5).status_code == 201
    return ms


def test_three_members_then_full(server_factory):
    host = server_factory()
    url = host.get("/v2/discovery/new?size=3").text
    ms = three(server_factory, url)
    regs = host.get("/v2/keys" + url.split("/v2/keys", 1)[1]).json()["node"]["nodes"]
    ids = sorted(n["key"].rsplit("/", 1)[1] for n in regs if not n["key"].endswith("_config"))
    got = requests.get(ms[0].client_url + "/v2/members", timeout=5).json()["members"]
    assert ids == sorted(m["id"] for m in got)
    fourth = member(server_factory, 3, url, ["--discovery-fallback", "exit"], start=False)
    code, err = run_once(fourth)
    assert code == 1 and "failed to join discovery cluster (discovery: cluster is full)" in err
    # the default fallback: a proxy to the three, not a member
    proxy = member(server_factory, 4, url)
    proxy.wait_healthy()
    assert proxy.get("/v2/keys/k").json()["node"]["value"] == "v"
    assert sorted(requests.get(proxy.client_url + "/v2/config/local/proxy",
                               timeout=5).json()["endpoints"]) == \
        sorted(m.client_url for m in ms)
    assert os.listdir(proxy.data_dir) == ["proxy"]
    assert "discovery cluster full, falling back to proxy" in proxy.log_tail(200)
    got = requests.get(ms[0].client_url + "/v2/members", timeout=5).json()["members"]
    assert len(got) == 3
    # with the discovery host gone, a discovered member restarts from its
    # WAL (which has the peers' addresses) and the proxy from its cluster file
    host.stop()
    ms[2].stop()
    ms[2].start()
    proxy.stop()
    proxy.start()
    assert proxy.get("/v2/keys/k").json()["node"]["value"] == "v"
    assert requests.get(ms[2].client_url + "/v2/keys/k?quorum=true",
                        timeout=5).json()["node"]["value"] == "v"


def test_debian_etcd_as_discovery_host(server_factory, monkeypatch):
    monkeypatch.setenv("CETCD_TEST_TARGET", "etcd")
    etcd = cluster.Server(name="disc")
    monkeypatch.setenv("CETCD_TEST_TARGET", "cetcd")
    cluster.LIVE.append(etcd)
    try:
        etcd.start()
        tok = "/_etcd/registry/cetcd-test-token"
        assert etcd.put("/v2/keys%s/_config/size" % tok, data={"value": "3"}).status_code == 201
        three(server_factory, etcd.client_url + "/v2/keys" + tok)
    finally:
        etcd.stop()


def test_size_errors_and_etcds_member_id(server_factory):
    host = server_factory()
    bad = host.client_url + "/v2/keys/_etcd/registry/nosize"
    code, err = run_once(member(server_factory, 0, bad, start=False))
    assert code == 1 and "discovery: size key not found" in err
    assert host.put("/v2/keys/_etcd/registry/badsize/_config/size",
                    data={"value": "three"}).status_code == 201
    code, err = run_once(member(server_factory, 1, host.client_url +
                                "/v2/keys/_etcd/registry/badsize", start=False))
    assert code == 1 and "discovery: size key is bad" in err
    # etcd registers itself under the id cetcd computes: cetcd then finds
    # its own id taken
    url = host.get("/v2/discovery/new?size=1").text
    e = member(server_factory, 2, url, start=False)
    etcd_argv = [cluster.ETCD_BIN] + e.argv()[1:]
    etcd_argv[etcd_argv.index("--data-dir") + 1] = e.data_dir + ".etcd-side"
    p = subprocess.Popen(etcd_argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)
    try:
        cluster.wait_until(lambda: len([n for n in host.get(
            "/v2/keys" + url.split("/v2/keys", 1)[1]).json()["node"].get("nodes", [])
            if not n["key"].endswith("_config")]) == 1, 20, "etcd registering")
    finally:
        os.killpg(p.pid, 9)
        p.wait(timeout=10)
    code, err = run_once(e)              # same name and peer URL as etcd had
    assert code == 1 and "discovery: found duplicate id" in err
