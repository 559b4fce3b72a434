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


_ASSIGNED = set()      # ports handed out by stable_ports in this process


def _ephemeral_low():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def stable_ports(n):
    """n loopback ports for cluster members, below the kernel's ephemeral
    range: a member that is down for a while (killed, restarting, not yet
    started) must find its ports free again, and ports from the ephemeral
    range can meanwhile be taken by any outgoing connection's local end.
    Each port is free when chosen and never handed out twice."""
    import random
    hi = max(_ephemeral_low() - 1, 12000)
    lo = max(hi - 20000, 10000)
    out = []
    tries = 0
    while len(out) < n:
        tries += 1
        if tries > 10000:
            raise RuntimeError("no free ports in %d-%d" % (lo, hi))
        p = random.randint(lo, hi)
        if p in _ASSIGNED:
            continue
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind(("127.0.0.1", p))
        except OSError:
            continue
        finally:
            s.close()
        _ASSIGNED.add(p)
        out.append(p)
    return out


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
                 base=None, env=None, ports=None, preexec=None):
        """enable_v2: True/False pass --enable-v2[=false]; None passes no
        flag.  env: extra environment variables for the process.
        ports: (client port, peer port) to use instead of free ones.
        preexec: called in the child before exec (e.g. to set limits)."""
        self.preexec = preexec
        self.binary = server_binary()   # fail before making any temp dir
        self.name = name
        self.extra_args = list(extra_args)
        self.enable_v2 = enable_v2
        self.env = dict(env or {})
        self.base = base or tempfile.mkdtemp(prefix="cetcd-it-", dir="/tmp")
        self.data_dir = os.path.join(self.base, name + ".etcd")
        self.log_path = os.path.join(self.base, name + ".log")
        self.client_port, self.peer_port = ports or free_ports(2)
        self.client_url = "http://127.0.0.1:%d" % self.client_port
        self.peer_url = "http://127.0.0.1:%d" % self.peer_port
        self.proc = None
        self.http = requests.Session()

    # -- process control -------------------------------------------------

    def advertised_peer_url(self):
        """The peer URL the others dial (a cluster member may advertise a
        relay's port instead of its own)."""
        return self.peer_url

    def cluster_argv(self):
        """--initial-cluster and friends: a one-member cluster here."""
        return ["--initial-cluster", "%s=%s" % (self.name, self.peer_url)]

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
                "--initial-advertise-peer-urls", self.advertised_peer_url(),
                ] + self.cluster_argv() + v2 + self.extra_args

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
                                         start_new_session=True,
                                         preexec_fn=self.preexec)
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


# -- multi-member clusters ---------------------------------------------------

HEARTBEAT_MS = 50          # default --heartbeat-interval of cluster members
ELECTION_MS = 500          # default --election-timeout
READY_TIMEOUT = 30.0       # whole cluster healthy with an agreed leader
RECONFIG_TIMEOUT = 15.0    # retrying a membership change refused as early


class Member(Server):
    """One member of a Cluster.  Same API as Server, plus:
    index (position in the Cluster), adv_peer_url (what the others dial:
    the relay's port when the cluster has a relay, else peer_url), id (int
    member id once known) and removed (deleted from the membership)."""

    def __init__(self, cluster, index, ports, adv_peer_port, state="new"):
        Server.__init__(self, name="m%d" % index, base=cluster.base,
                        extra_args=cluster.extra_args, ports=ports,
                        enable_v2=cluster.enable_v2, env=cluster.env)
        self.cluster = cluster
        self.index = index
        self.adv_peer_port = adv_peer_port
        self.adv_peer_url = "http://127.0.0.1:%d" % adv_peer_port
        self.initial_cluster = None     # set by the Cluster before start
        self.state = state
        self.id = None
        self.removed = False

    @property
    def id_hex(self):
        return None if self.id is None else "%x" % self.id

    def advertised_peer_url(self):
        return self.adv_peer_url

    def cluster_argv(self):
        c = self.cluster
        return ["--initial-cluster", self.initial_cluster,
                "--initial-cluster-state", self.state,
                "--initial-cluster-token", c.token,
                "--heartbeat-interval", str(c.heartbeat),
                "--election-timeout", str(c.election)]

    def stats_self(self, timeout=1.0):
        return self.http.get(self.url("/v2/stats/self"),
                             timeout=timeout).json()

    def cleanup(self, keep):
        """Stop for good; the Cluster owns (and removes) the directory."""
        self.stop()
        if self in LIVE:
            LIVE.remove(self)


class Cluster:
    """N members of the target on loopback, names m0..m{N-1}.

    Every member gets a client port and a peer port (plus a relay port when
    relay=True: the member listens on its peer port but advertises the relay
    port, so all peer traffic crosses self.relay, see relay.py).  Each has
    its own data dir under one temp dir; the cluster token is unique.
    Methods take member indexes; every wait is bounded."""

    def __init__(self, size=3, heartbeat=HEARTBEAT_MS, election=ELECTION_MS,
                 relay=False, extra_args=(), enable_v2=True, env=None,
                 token=None):
        server_binary()                 # fail before making any temp dir
        self.size = size
        self.heartbeat = heartbeat
        self.election = election
        self.extra_args = list(extra_args)
        self.enable_v2 = enable_v2
        self.env = dict(env or {})
        self.base = tempfile.mkdtemp(prefix="cetcd-cl-", dir="/tmp")
        self.token = token or "cetcd-test-%s" % os.path.basename(self.base)
        self.relay = None
        if relay:
            import relay as relay_mod
            self.relay = relay_mod.Relay()
        self.members = []
        for _ in range(size):
            self._make_member("new")
        ic = self.initial_cluster_string()
        for m in self.members:
            m.initial_cluster = ic

    # -- construction ------------------------------------------------------

    def _make_member(self, state):
        i = len(self.members)
        ports = stable_ports(3)
        adv = ports[1]
        if self.relay is not None:
            adv = ports[2]
            self.relay.add_route(adv, ports[1])
        m = Member(self, i, (ports[0], ports[1]), adv, state)
        self.members.append(m)
        return m

    def initial_cluster_string(self, members=None):
        ms = members if members is not None else self.active()
        return ",".join("%s=%s" % (m.name, m.adv_peer_url) for m in ms)

    def __getitem__(self, i):
        return self.members[i]

    def __len__(self):
        return len(self.members)

    def active(self):
        """Members not removed from the membership (alive or not)."""
        return [m for m in self.members if not m.removed]

    def alive(self):
        """Indexes of members whose process is running."""
        return [m.index for m in self.active() if m.alive()]

    def timeout_s(self, elections):
        """Seconds in so many election timeouts."""
        return elections * self.election / 1000.0

    # -- start / wait --------------------------------------------------------

    def start(self, wait=True, timeout=READY_TIMEOUT):
        for m in self.active():
            if not m.alive():
                m.start(wait=False)
        if wait:
            self.wait_ready(timeout)
        return self

    def _check_running(self, idxs):
        for i in idxs:
            m = self.members[i]
            if m.proc is None or m.proc.poll() is not None:
                raise RuntimeError("%s exited (%s); log %s:\n%s" % (
                    m.name, None if m.proc is None else m.proc.returncode,
                    m.log_path, m.log_tail()))

    def wait_ready(self, timeout=READY_TIMEOUT, members=None):
        """Wait until the given (default: every running) members are healthy,
        agree on one leader, and their ids are known."""
        idxs = list(members) if members is not None else self.alive()

        def ready():
            self._check_running(idxs)
            leaders = set()
            for i in idxs:
                m = self.members[i]
                if not m.healthy():
                    return False
                st = m.stats_self()
                leaders.add(st.get("leaderInfo", {}).get("leader"))
            if len(leaders) != 1 or None in leaders or "" in leaders:
                return False
            return self.leader_index(timeout=0, members=idxs) is not None
        try:
            wait_until(ready, timeout, "cluster members %s ready" % idxs)
        except TimeoutError as e:
            raise TimeoutError("%s\n%s" % (e, self.log_tails()))
        self.learn_ids()
        return self

    def wait_member_healthy(self, i, timeout=READY_TIMEOUT):
        m = self.members[i]

        def ok():
            self._check_running([i])
            return m.healthy()
        try:
            wait_until(ok, timeout, "%s healthy" % m.name)
        except TimeoutError as e:
            raise TimeoutError("%s\n%s" % (e, self.log_tails()))

    def learn_ids(self):
        """Fill in member ids from GET /v2/members on a running member."""
        for i in self.alive():
            try:
                r = self.members[i].get("/v2/members", timeout=2)
                ms = r.json()["members"]
            except Exception:
                continue
            for j in ms:
                for m in self.members:
                    if m.adv_peer_url in j.get("peerURLs", []):
                        m.id = int(j["id"], 16)
                        if self.relay is not None:
                            self.relay.set_owner(m.adv_peer_port, m.id)
            return
        raise RuntimeError("no running member answered /v2/members")

    def leader_index(self, timeout=None, members=None):
        """Index of the leader among members (default: every running one).

        A member is the leader when its /v2/stats/self says StateLeader and
        a majority of the cluster's active members (itself included) name
        it in leaderInfo.leader.  The vote is needed because etcd's "state"
        is sticky: a leader that lost its quorum, or a lone survivor, keeps
        reporting StateLeader.  Waits up to timeout seconds (default 5
        election timeouts + 2 s); timeout=0 returns None at once instead."""
        if timeout is None:
            timeout = self.timeout_s(5) + 2.0
        quorum = len(self.active()) // 2 + 1

        def find():
            idxs = list(members) if members is not None else self.alive()
            stats = {}
            for i in idxs:
                try:
                    stats[i] = self.members[i].stats_self(timeout=0.5)
                except Exception:
                    continue
            found = []
            for i, st in stats.items():
                if st.get("state") != "StateLeader":
                    continue
                votes = sum(1 for o in stats.values()
                            if o.get("leaderInfo", {}).get("leader")
                            == st.get("id"))
                if votes >= quorum:
                    found.append(i)
            return found[0] if len(found) == 1 else None
        if timeout == 0:
            return find()
        v = wait_until(lambda: (lambda x: (x,) if x is not None else None)
                       (find()), timeout, "a single leader")
        return v[0]

    def followers(self, members=None):
        """Indexes of the running members that are not the leader."""
        lead = self.leader_index(members=members)
        idxs = list(members) if members is not None else self.alive()
        return [i for i in idxs if i != lead]

    # -- process control -----------------------------------------------------

    def kill9(self, i):
        self.members[i].kill9()

    def stop(self, i):
        return self.members[i].stop()

    def restart(self, i, wait=True, timeout=READY_TIMEOUT):
        """Start member i again on its data dir (killing it first when it
        is running); with wait, until it is healthy."""
        m = self.members[i]
        if m.alive():
            m.stop()
        m.http = requests.Session()
        m.start(wait=False)
        if wait:
            self.wait_member_healthy(i, timeout)
        return m

    def add_member(self, start=True, via=None, timeout=READY_TIMEOUT):
        """Runtime membership: POST /v2/members on member `via` (default the
        leader) with the new member's peer URL, then (start=True) start it
        with --initial-cluster-state existing and wait until healthy.
        Returns (member, response of the POST)."""
        m = self._make_member("existing")
        if via is None:
            via = self.leader_index()
        r = self.post_member(via, [m.adv_peer_url])
        if r.status_code != 201:
            m.removed = True
            return m, r
        m.id = int(r.json()["id"], 16)
        if self.relay is not None:
            self.relay.set_owner(m.adv_peer_port, m.id)
        m.initial_cluster = self.initial_cluster_string()
        if start:
            m.start(wait=False)
            self.wait_member_healthy(m.index, timeout)
        return m, r

    def post_member(self, via, peer_urls, timeout=RECONFIG_TIMEOUT):
        """POST /v2/members {"peerURLs": peer_urls} on member via, retried
        while the answer is etcd's 500 for "unhealthy cluster": with
        --strict-reconfig-check (the default) etcd refuses reconfiguration
        until every member has been connected for 5 s (HealthInterval)."""
        deadline = time.monotonic() + timeout
        while True:
            r = self.members[via].post("/v2/members",
                                       json={"peerURLs": peer_urls})
            if r.status_code != 500 or time.monotonic() >= deadline:
                return r
            time.sleep(0.25)

    def remove_member(self, i, via=None):
        """DELETE /v2/members/<id of i> on member `via` (default: the leader,
        or another member when i leads).  Returns the response; on 204 the
        member is marked removed (etcd's process exits by itself)."""
        m = self.members[i]
        if m.id is None:
            self.learn_ids()
        if via is None:
            via = self.leader_index()
            if via == i:
                via = [j for j in self.alive() if j != i][0]
        deadline = time.monotonic() + RECONFIG_TIMEOUT
        while True:     # 500 = not yet "healthy" for reconfiguration
            r = self.members[via].delete("/v2/members/%x" % m.id)
            if r.status_code != 500 or time.monotonic() >= deadline:
                break
            time.sleep(0.25)
        if r.status_code == 204:
            m.removed = True
        return r

    def stop_all(self, kill=True):
        """Stop every member (SIGKILL by default: fastest) and the relay."""
        for m in self.members:
            if m.proc is not None:
                if kill:
                    m.kill9()
                m.stop()
        if self.relay is not None:
            self.relay.close()

    def cleanup(self, keep):
        self.stop_all()
        for m in self.members:
            if m in LIVE:
                LIVE.remove(m)
        if not keep:
            shutil.rmtree(self.base, ignore_errors=True)

    def log_tails(self, n=15):
        out = []
        for m in self.members:
            out.append("--- %s (%s) log %s" % (m.name, "alive" if m.alive()
                                               else "down", m.log_path))
            out.append(m.log_tail(n))
        return "\n".join(out)

    # -- data helpers ----------------------------------------------------------

    def keyspace(self, i, quorum=False, timeout=HTTP_TIMEOUT):
        """Member i's whole visible v2 keyspace as {key: value or None for a
        directory}, without the etcd index (which differs by nothing but is
        not part of the data)."""
        params = {"recursive": "true", "sorted": "true"}
        if quorum:
            params["quorum"] = "true"
        r = self.members[i].get("/v2/keys/", params=params, timeout=timeout)
        r.raise_for_status()
        flat = {}

        def walk(n):
            for c in n.get("nodes", []) or []:
                if c.get("dir"):
                    flat[c["key"]] = None
                    walk(c)
                else:
                    flat[c["key"]] = (c.get("value"), c.get("modifiedIndex"),
                                      c.get("createdIndex"))
        walk(r.json()["node"])
        return flat

    def keyspace_hash(self, i, quorum=False):
        import hashlib
        import json as _json
        ks = self.keyspace(i, quorum)
        return hashlib.sha256(_json.dumps(ks, sort_keys=True).encode()
                              ).hexdigest()

    def wait_converged(self, timeout=READY_TIMEOUT, members=None):
        """Wait until the running members have identical keyspaces (same
        keys, values and modified/created indexes); return that keyspace."""
        idxs = list(members) if members is not None else self.alive()
        box = {}

        def same():
            ks = [self.keyspace(i, timeout=5) for i in idxs]
            if all(k == ks[0] for k in ks[1:]):
                box["ks"] = ks[0]
                return True
            return False
        wait_until(same, timeout, "members %s to converge" % idxs,
                   interval=0.2)
        return box["ks"]

    def __repr__(self):
        return "<Cluster %d members dir=%s>" % (len(self.members), self.base)


def cluster_fixture_factory(request, new=None):
    """Body of the `cluster_factory` fixture (tests import it from here):
    returns make(size=3, start=True, **kw) -> started Cluster (or what
    new(size=, **kw) makes); every cluster
    is stopped by PID at the end of the test, its dir kept on failure."""
    made = []
    failed_before = request.session.testsfailed

    def fin():
        keep = request.session.testsfailed > failed_before
        for c in made:
            c.cleanup(keep)
            if keep:
                try:
                    import itfixtures
                    itfixtures.KEPT.append(c.base)
                except Exception:
                    pass
    request.addfinalizer(fin)

    def make(size=3, start=True, **kw):
        c = (new or Cluster)(size=size, **kw)
        made.append(c)
        if start:
            c.start()
        return c
    return make
