"""--discovery-srv: the initial cluster from DNS SRV records
(_etcd-server._tcp.<domain>), served by a dnsmasq on loopback that the
members reach through CETCD_DNS_SERVER. The record at a member's own
advertised peer URL takes its name, as etcd's srv.GetCluster does.
cetcd only (etcd's resolver cannot be pointed at a test DNS server)."""

import os
import shutil
import signal
import subprocess
import tempfile

import pytest
import requests

import cluster

pytestmark = pytest.mark.skipif(cluster.is_etcd(), reason="CETCD_DNS_SERVER is cetcd's")
DNSMASQ = "/usr/sbin/dnsmasq"
DOMAIN = "cetcd.test"


@pytest.fixture
def dns(request):
    """A dnsmasq answering SRV records; returns (port, add) where add(port)
    adds a record before start() is called."""
    base = tempfile.mkdtemp(prefix="cetcd-srv-", dir="/tmp")
    port = cluster.free_ports(1)[0]
    state = {"records": [], "proc": None}

    def start():
        args = [DNSMASQ, "--keep-in-foreground", "--no-resolv", "--no-hosts",
                "--port=%d" % port, "--listen-address=127.0.0.1", "--bind-interfaces",
                "--pid-file=" + os.path.join(base, "dns.pid")]
        args += ["--srv-host=_etcd-server._tcp.%s,localhost,%d" % (DOMAIN, p)
                 for p in state["records"]]
        log = open(os.path.join(base, "dns.log"), "wb")
        state["proc"] = subprocess.Popen(args, stdout=log, stderr=log, start_new_session=True)
        log.close()

        def bound():
            out = subprocess.run(["ss", "-Hlun", "sport = :%d" % port],
                                 capture_output=True, text=True).stdout
            return str(port) in out
        cluster.wait_until(bound, 10, "dnsmasq listening")

    def fin():
        if state["proc"] is not None:
            try:
                os.killpg(state["proc"].pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            state["proc"].wait(timeout=10)
        shutil.rmtree(base, ignore_errors=True)
    request.addfinalizer(fin)
    return port, state, start


def member(server_factory, i, dns_port, cport, pport, start=True):
    s = server_factory(start=False, name="m%d" % i, ports=(cport, pport),
                       env={"CETCD_DNS_SERVER": "127.0.0.1:%d" % dns_port})
    s.argv = lambda s=s: [s.binary, "--name", s.name, "--data-dir", s.data_dir,
                          "--listen-client-urls", s.client_url,
                          "--advertise-client-urls", s.client_url,
                          "--listen-peer-urls", "http://127.0.0.1:%d" % pport,
                          "--initial-advertise-peer-urls", "http://localhost:%d" % pport,
                          "--discovery-srv", DOMAIN, "--enable-v2"]
    if start:
        s.start(wait=False)
    return s


def test_three_members_from_srv_records(server_factory, dns):
    dns_port, state, start_dns = dns
    ports = cluster.free_ports(6)
    state["records"] = [ports[2 * i + 1] for i in range(3)]
    start_dns()
    ms = [member(server_factory, i, dns_port, ports[2 * i], ports[2 * i + 1]) for i in range(3)]
    for m in ms:
        m.wait_healthy()
    got = requests.get(ms[0].client_url + "/v2/members", timeout=5).json()["members"]
    assert sorted((m["name"], m["peerURLs"][0]) for m in got) == \
        [("m%d" % i, "http://localhost:%d" % ports[2 * i + 1]) for i in range(3)]
    assert requests.put(ms[2].client_url + "/v2/keys/srv", data={"value": "1"},
                        timeout=5).status_code == 201
    # a restart comes back from its WAL, which has the peers' addresses:
    # with the DNS server gone, it still reaches them
    os.killpg(state["proc"].pid, signal.SIGKILL)
    state["proc"].wait(timeout=10)
    state["proc"] = None
    ms[1].stop()
    ms[1].start()
    assert requests.put(ms[1].client_url + "/v2/keys/after", data={"value": "2"},
                        timeout=5).status_code == 201
    assert requests.get(ms[1].client_url + "/v2/keys/srv?quorum=true",
                        timeout=5).json()["node"]["value"] == "1"
    for line in open(ms[0].log_path):
        if "got bootstrap from DNS" in line:
            assert "m0=http://localhost:%d" % ports[1] in line
            break
    else:
        raise AssertionError("no bootstrap-from-DNS line in the log")


def test_no_records_is_etcds_error(server_factory, dns):
    dns_port, state, start_dns = dns
    start_dns()
    cport, pport = cluster.free_ports(2)
    s = member(server_factory, 0, dns_port, cport, pport, start=False)
    r = subprocess.run(s.argv(), env=dict(os.environ, CETCD_DNS_SERVER="127.0.0.1:%d" % dns_port),
                       capture_output=True, text=True, timeout=30)
    assert r.returncode != 0
    assert "srv: too many errors querying DNS SRV records" in r.stderr
