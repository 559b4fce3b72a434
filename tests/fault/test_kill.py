"""Fault tests: SIGKILL cetcd's workers (and then the whole process group)
under concurrent writers; no acknowledged write may be lost.

The worker test is cetcd only: the reference etcd is a single process
with no workers to kill.  The process-group test runs on both.  Worker
processes are found by their titles under the supervisor
("cetcd: raft worker", "cetcd: storage worker", "cetcd: api worker").
Every loop is bounded in time and in count.
"""

import os
import signal
import subprocess
import threading
import time

import pytest
import requests

import cluster

cetcd_only = pytest.mark.skipif(
    cluster.is_etcd(), reason="cetcd only: etcd has no worker processes "
    "to kill (its single process is the whole server)")

ROLES = ["raft worker", "storage worker", "api worker"]
WRITERS = 3
MAX_WRITES_PER_WRITER = 20000
RECOVER_WITHIN = 2.0     # a GET must succeed again this soon after a kill
RESPAWN_WITHIN = 10.0    # the supervisor must have replaced the worker


def workers(supervisor_pid):
    """{role: [pid, ...]} of the supervisor's children, by process title."""
    out = subprocess.run(["ps", "-o", "pid=,args=", "--ppid",
                          str(supervisor_pid)], stdout=subprocess.PIPE,
                         text=True, timeout=5).stdout
    found = {r: [] for r in ROLES}
    for line in out.splitlines():
        pid, _, args = line.strip().partition(" ")
        for r in ROLES:
            if "cetcd: " + r in args:
                found[r].append(int(pid))
    return found


class Writers:
    """WRITERS threads doing PUT /v2/keys/fault/g<gen>/w<t>/<n> = "v<n>",
    each recording the writes the server acknowledged (2xx)."""

    def __init__(self, server, gen):
        self.server = server
        self.gen = gen
        self.stop_flag = threading.Event()
        self.acked = [dict() for _ in range(WRITERS)]
        self.errors = [0] * WRITERS
        self.threads = [threading.Thread(target=self._run, args=(t,),
                                         daemon=True)
                        for t in range(WRITERS)]
        for th in self.threads:
            th.start()

    def _run(self, t):
        sess = requests.Session()
        n = 0
        while not self.stop_flag.is_set() and n < MAX_WRITES_PER_WRITER:
            key = "/fault/g%d/w%d/%d" % (self.gen, t, n)
            value = "v%d" % n
            n += 1
            try:
                r = sess.put(self.server.url("/v2/keys" + key),
                             data={"value": value}, timeout=2)
            except requests.RequestException:
                self.errors[t] += 1
                sess.close()
                sess = requests.Session()
                time.sleep(0.02)
                continue
            if r.status_code in (200, 201):
                self.acked[t][key] = value
            else:
                self.errors[t] += 1
        sess.close()

    def count(self):
        return sum(len(a) for a in self.acked)

    def stop(self):
        self.stop_flag.set()
        for th in self.threads:
            th.join(10)
            assert not th.is_alive(), "writer thread hung"


def wait_get_ok(server, timeout):
    """Poll a GET until the server answers it properly; return seconds."""
    t0 = time.monotonic()

    def ok():
        r = requests.get(server.url("/v2/keys/fault"), timeout=0.5)
        return r.status_code in (200, 404) and "X-Etcd-Index" in r.headers
    cluster.wait_until(ok, timeout, "GET to succeed after a kill")
    return time.monotonic() - t0


def check_acked(server, writers):
    """Every acknowledged write is present with its value."""
    for t in range(WRITERS):
        r = server.get("/v2/keys/fault/g%d/w%d" % (writers.gen, t),
                       params={"recursive": "true"}, timeout=30)
        have = {}
        if r.status_code == 200:
            for n in r.json()["node"].get("nodes", []):
                have[n["key"]] = n.get("value")
        missing = [k for k, v in writers.acked[t].items() if have.get(k) != v]
        assert not missing, "writer %d: %d acknowledged writes lost or " \
            "wrong, e.g. %s" % (t, len(missing), missing[:5])


def wait_for_progress(writers, more, timeout):
    start = writers.count()
    cluster.wait_until(lambda: writers.count() >= start + more, timeout,
                       "%d more acknowledged writes" % more)


@cetcd_only
def test_kill_each_worker(server_factory):
    s = server_factory()
    found = cluster.wait_until(
        lambda: (lambda w: w if all(w.values()) else None)(workers(s.pid)),
        5, "all worker kinds to be running")
    writers = Writers(s, 1)
    try:
        wait_for_progress(writers, 20, 10)
        for role in ROLES:
            victim = found[role][0]
            os.kill(victim, signal.SIGKILL)
            took = wait_get_ok(s, RECOVER_WITHIN)
            assert took <= RECOVER_WITHIN, (role, took)
            found = cluster.wait_until(
                lambda: (lambda w: w if w[role] and victim not in w[role]
                         and all(w.values()) else None)(workers(s.pid)),
                RESPAWN_WITHIN, "supervisor to respawn the %s" % role)
            assert s.alive(), "supervisor died after killing its %s" % role
            wait_for_progress(writers, 20, 10)
    finally:
        writers.stop()
    check_acked(s, writers)
    # and everything survives a clean restart too
    s.restart()
    check_acked(s, writers)


def test_kill_process_group_and_restart(server_factory):
    s = server_factory()
    writers = Writers(s, 2)
    try:
        wait_for_progress(writers, 50, 10)
        s.kill9()      # writers keep going: some PUTs are in flight
        time.sleep(0.1)
    finally:
        writers.stop()
    assert writers.count() >= 50
    s.restart()
    check_acked(s, writers)
    # the restarted server takes new writes on top of the old ones
    more = Writers(s, 3)
    try:
        wait_for_progress(more, 20, 10)
    finally:
        more.stop()
    check_acked(s, writers)
    check_acked(s, more)
