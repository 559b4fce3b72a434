"""Process harness for cetcd's integration and fault tests.

Starts one server (cetcd, or Debian's etcd as the reference when
CETCD_TEST_TARGET=etcd) on free loopback ports with its own temporary
directory, waits for it to be healthy, and stops or kills it by PID /
process group.  Every wait here is bounded: a hung server must fail a test,
never hang the suite.
"""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import requests

HEALTH_TIMEOUT = 15.0   # seconds to wait for /health after start
STOP_TIMEOUT = 10.0     # seconds to wait after SIGTERM before SIGKILL
POLL = 0.05             # poll interval for every wait loop
HTTP_TIMEOUT = 10.0     # default timeout of each HTTP request

TARGET = os.environ.get("CETCD_TEST_TARGET", "cetcd")
ETCD_BIN = os.environ.get("ETCD_BIN", "/usr/bin/etcd")
ETCDCTL_BIN = os.environ.get("ETCDCTL_BIN", "/usr/bin/etcdctl")

# Every Server alive in this process, so a failing test's report can name
# the data dirs and logs involved (see conftest.py).
LIVE = []


def is_etcd():
    """True when the suite runs against the reference etcd."""
    return TARGET == "etcd"


def server_binary():
    """Path of the server under test; raises when cetcd cannot be found."""
    if is_etcd():
        return ETCD_BIN
    b = os.environ.get("CETCD_BIN")
    if b:
        return b
    here = os.path.dirname(os.path.abspath(__file__))
    guess = os.path.normpath(os.path.join(here, "..", "..", "cetcd"))
    if os.access(guess, os.X_OK):
        return guess
    raise RuntimeError("cetcd binary not found: set CETCD_BIN (or "
                       "CETCD_TEST_TARGET=etcd to test the reference etcd)")


def free_ports(n):
    """n distinct loopback ports that were free a moment ago.

    All sockets are held open together so the kernel cannot hand the same
    port out twice within one call."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def wait_until(pred, timeout, what, interval=POLL):
    """Poll pred() until it returns a truthy value; raise after timeout."""
    deadline = time.monotonic() + timeout
    last_exc = None
    while True:
        try:
            v = pred()
            if v:
                return v
        except Exception as e:  # keep polling; report the last error
            last_exc = e
        if time.monotonic() >= deadline:
            raise TimeoutError("timed out after %.1fs waiting for %s (last "
                               "error: %r)" % (timeout, what, last_exc))
        time.sleep(interval)


class Server:
    """One single-member server process with its own temp directory.

    Layout: <base>/<name>.etcd is the data dir, <base>/<name>.log holds the
    process's stdout and stderr."""

    def __init__(self, name="node1", extra_args=(), enable_v2=True,
                 base=None, env=None):
        """enable_v2: True/False pass --enable-v2[=false]; None passes no
        flag.  env: extra environment variables for the process."""
        self.binary = server_binary()   # fail before making any temp dir
        self.name = name
        self.extra_args = list(extra_args)
        self.enable_v2 = enable_v2
        self.env = dict(env or {})
        self.base = base or tempfile.mkdtemp(prefix="cetcd-it-", dir="/tmp")
        self.data_dir = os.path.join(self.base, name + ".etcd")
        self.log_path = os.path.join(self.base, name + ".log")
        self.client_port, self.peer_port = free_ports(2)
        self.client_url = "http://127.0.0.1:%d" % self.client_port
        self.peer_url = "http://127.0.0.1:%d" % self.peer_port
        self.proc = None
        self.http = requests.Session()

    # -- process control -------------------------------------------------

    def argv(self):
        if self.enable_v2 is None:
            v2 = []
        else:
            v2 = ["--enable-v2" if self.enable_v2 else "--enable-v2=false"]
        return [self.binary,
                "--name", self.name,
                "--data-dir", self.data_dir,
                "--listen-client-urls", self.client_url,
                "--advertise-client-urls", self.client_url,
                "--listen-peer-urls", self.peer_url,
                "--initial-advertise-peer-urls", self.peer_url,
                "--initial-cluster", "%s=%s" % (self.name, self.peer_url)
                ] + v2 + self.extra_args

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def start(self, wait=True):
        """Start the process (appending to the log) and wait for health."""
        assert self.proc is None or self.proc.poll() is not None
        log = open(self.log_path, "ab")
        try:
            log.write(("\n=== start %s: %s\n" % (time.strftime("%H:%M:%S"),
                                               " ".join(self.argv())))
                      .encode())
            log.flush()
            env = dict(os.environ)
            env.update(self.env)
            self.proc = subprocess.Popen(self.argv(), stdout=log, stderr=log,
                                         stdin=subprocess.DEVNULL, env=env,
                                         start_new_session=True)
        finally:
            log.close()
        if self not in LIVE:
            LIVE.append(self)
        if wait:
            self.wait_healthy()
        return self

    def healthy(self):
        r = self.http.get(self.url("/health"), timeout=1)
        return r.status_code == 200 and r.json().get("health") == "true"

    def wait_healthy(self, timeout=HEALTH_TIMEOUT):
        def ok():
            if self.proc.poll() is not None:
                raise RuntimeError("server exited with %s during startup; "
                                   "log %s:\n%s" % (self.proc.returncode,
                                                    self.log_path,
                                                    self.log_tail()))
            return self.healthy()
        try:
            wait_until(ok, timeout, "%s /health" % self.name)
        except TimeoutError:
            raise TimeoutError("%s not healthy after %.0fs; log %s:\n%s" % (
                self.name, timeout, self.log_path, self.log_tail()))

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def _killpg(self, sig):
        try:
            os.killpg(self.proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def stop(self, timeout=STOP_TIMEOUT):
        """SIGTERM the server's PID and wait; SIGKILL the group on timeout.

        Returns the exit code (negative = killed by that signal)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._killpg(signal.SIGKILL)
                self.proc.wait(5)
        # Workers left behind by a dead supervisor must not outlive the test.
        self._killpg(signal.SIGKILL)
        self.http.close()
        return self.proc.returncode

    def kill9(self):
        """SIGKILL the whole process group (supervisor and every worker)."""
        if self.proc is None:
            return
        self._killpg(signal.SIGKILL)
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            pass
        self.http.close()

    def restart(self, wait=True):
        """Start again on the same data dir and ports."""
        if self.alive():
            self.stop()
        self.http = requests.Session()
        return self.start(wait)

    def cleanup(self, keep):
        """Stop for good; remove the temp dir unless keep is true."""
        self.stop()
        if self in LIVE:
            LIVE.remove(self)
        if not keep:
            shutil.rmtree(self.base, ignore_errors=True)

    def log_tail(self, n=40):
        try:
            with open(self.log_path, "rb") as f:
                lines = f.read().decode("utf-8", "replace").splitlines()
        except OSError:
            return "(no log)"
        return "\n".join(lines[-n:])

    # -- HTTP helpers ----------------------------------------------------

    def url(self, path):
        return self.client_url + path

    def req(self, method, path, **kw):
        kw.setdefault("timeout", HTTP_TIMEOUT)
        return self.http.request(method, self.url(path), **kw)

    def get(self, path, **kw):
        return self.req("GET", path, **kw)

    def put(self, path, **kw):
        return self.req("PUT", path, **kw)

    def post(self, path, **kw):
        return self.req("POST", path, **kw)

    def delete(self, path, **kw):
        return self.req("DELETE", path, **kw)

    def index(self):
        """The current X-Etcd-Index (read from a GET of the root)."""
        r = self.get("/v2/keys/")
        return int(r.headers["X-Etcd-Index"])

    def __repr__(self):
        return "<Server %s pid=%s %s dir=%s>" % (self.name, self.pid,
                                                 self.client_url, self.base)
