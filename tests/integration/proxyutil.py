"""Helpers for the proxy-mode tests (test_proxy.py and
../fault/test_proxy_kill.py).

  proxy(server_factory, ...)   a started etcd-style v2 proxy (--proxy on or
                               readonly) of the target kind, custom argv
  wait_proxy(p, n)             wait until the proxy answers its own
                               /v2/config/local/proxy (n endpoints if given)
  endpoints(p)                 that endpoint list, sorted
  cluster_file(p)              the PeerURLs of <data-dir>/proxy/cluster
  FakeMember                   a Python HTTP server that answers a peer's
                               GET /members (as an etcd member does) and
                               records and echoes every other request, so a
                               test sees exactly what the proxy forwarded
  etcd_server, etcd_cluster    a Debian etcd Server / Cluster whatever
                               the target is
  restart_proxy(p, **changes)  stop, change some proxy_argv arguments, start

A proxy's /health is forwarded to a member (503 when it has no endpoint),
so proxies are waited for on /v2/config/local/proxy, which every proxy
answers itself.  Every wait is bounded; every process is stopped by PID by
the fixture that made it.
"""

import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

import cluster

PROXY_READY_TIMEOUT = 15.0


def proxy_argv(s, initial_cluster=None, mode="on", refresh=1000,
               failure_wait=None, extra=()):
    """etcd 3.4's proxy command line for Server s.  mode None leaves out
    --proxy (a data dir holding proxy/ starts as a proxy anyway; etcd then
    checks its member flags, so --advertise-client-urls is passed too);
    initial_cluster None leaves out --initial-cluster (the proxy reads
    <data-dir>/proxy/cluster)."""
    a = [s.binary, "--name", s.name, "--data-dir", s.data_dir,
         "--listen-client-urls", s.client_url]
    if mode is None:
        a += ["--advertise-client-urls", s.client_url]
    else:
        a += ["--proxy", mode]
    if initial_cluster is not None:
        a += ["--initial-cluster", initial_cluster]
    if refresh is not None:
        a += ["--proxy-refresh-interval", str(refresh)]
    if failure_wait is not None:
        a += ["--proxy-failure-wait", str(failure_wait)]
    return a + list(extra)


def proxy(server_factory, name="proxy1", initial_cluster=None, mode="on",
          refresh=1000, failure_wait=None, extra=(), n_endpoints=None,
          start=True):
    """A proxy Server (made by server_factory, so stopped by PID and its
    dir kept on failure).  Its ports are below the ephemeral range so a
    restart finds them free.  With start, waits until it serves its
    endpoint list (and lists n_endpoints endpoints when given)."""
    s = server_factory(start=False, name=name, ports=cluster.stable_ports(2))
    s.proxy_args = dict(initial_cluster=initial_cluster, mode=mode,
                        refresh=refresh, failure_wait=failure_wait,
                        extra=extra)
    s.argv = lambda s=s: proxy_argv(s, **s.proxy_args)
    if start:
        s.start(wait=False)
        wait_proxy(s, n_endpoints)
    return s


def restart_proxy(s, n_endpoints=None, **changes):
    """Stop s, change some of its proxy_argv arguments, start and wait."""
    s.stop()
    s.proxy_args.update(changes)
    s.http = requests.Session()
    s.start(wait=False)
    wait_proxy(s, n_endpoints)
    return s


def endpoints(s, timeout=2):
    r = s.get("/v2/config/local/proxy", timeout=timeout)
    assert r.status_code == 200, (r.status_code, r.text)
    return sorted(r.json()["endpoints"])


def wait_proxy(s, n_endpoints=None, timeout=PROXY_READY_TIMEOUT):
    def ok():
        if s.proc.poll() is not None:
            raise RuntimeError("proxy exited with %s; log %s:\n%s" % (
                s.proc.returncode, s.log_path, s.log_tail()))
        eps = endpoints(s, timeout=1)
        return n_endpoints is None or len(eps) == n_endpoints
    try:
        cluster.wait_until(ok, timeout, "proxy %s endpoints" % s.name)
    except TimeoutError as e:
        raise TimeoutError("%s\nlog %s:\n%s" % (e, s.log_path, s.log_tail()))


def cluster_file(s):
    with open(os.path.join(s.data_dir, "proxy", "cluster")) as f:
        return json.load(f)["PeerURLs"]


def etcd_server(name, **kw):
    """A cluster.Server running Debian's etcd whatever CETCD_TEST_TARGET
    says (cluster.server_binary reads the module's TARGET)."""
    saved = cluster.TARGET
    cluster.TARGET = "etcd"
    try:
        return cluster.Server(name=name, **kw)
    finally:
        cluster.TARGET = saved


def etcd_cluster(size=3, **kw):
    """An unstarted cluster.Cluster of Debian etcd members (each Server
    takes its binary when made, see etcd_server)."""
    saved = cluster.TARGET
    cluster.TARGET = "etcd"
    try:
        return cluster.Cluster(size=size, **kw)
    finally:
        cluster.TARGET = saved


class FakeMember:
    """A loopback HTTP server playing one etcd member for a proxy.

    GET /members (the peer API a proxy polls) answers the JSON list of
    members etcd's peer handler serves, with X-Etcd-Cluster-Id; members is
    a list of (name, peer URL, client URL).  Every other request is recorded
    in self.requests as (method, path with query, headers dict, body) and
    answered 200 with a JSON echo, X-Etcd-Index: 42 and X-Etcd-Cluster-Id,
    or with self.reply = (status, headers, body) when set."""

    CLUSTER_ID = "cdf818194e3a8c32"

    def __init__(self):
        self.members = []
        self.requests = []
        self.reply = None
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _serve(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                if self.command == "GET" and self.path == "/members":
                    out = json.dumps([
                        {"id": 1000 + i, "peerURLs": [p], "name": name,
                         "clientURLs": [c]}
                        for i, (name, p, c) in enumerate(fake.members)])
                    self._answer(200, {"Content-Type": "application/json",
                                       "X-Etcd-Cluster-Id": fake.CLUSTER_ID},
                                 out.encode())
                    return
                with fake.lock:
                    fake.requests.append((self.command, self.path,
                                          dict(self.headers.items()), body))
                    reply = fake.reply
                if reply is None:
                    out = json.dumps({"method": self.command,
                                      "path": self.path,
                                      "body": body.decode("latin-1")})
                    reply = (200, {"Content-Type": "application/json",
                                   "X-Etcd-Index": "42",
                                   "X-Etcd-Cluster-Id": fake.CLUSTER_ID},
                             out.encode())
                self._answer(*reply)

            def _answer(self, status, headers, body):
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _serve
            do_PATCH = do_OPTIONS = _serve

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       daemon=True)
        self.thread.start()

    def forwarded(self):
        """The requests recorded so far (a copy)."""
        with self.lock:
            return list(self.requests)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
