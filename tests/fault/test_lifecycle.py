"""Lifecycle tests: the supervisor's promises, checked against real
processes (see docs/architecture.md, "Processes").

  - SIGTERM: exit 0 within 5 s, nothing left in the process group, a
    restart on the same data dir has every key;
  - a hung (SIGSTOPped) raft or storage worker is killed after 5 s without
    heartbeat and restarted, and the server serves again;
  - a WAL damaged in the middle (valid records after the damage) is a fatal
    startup error (exit 2, message naming the WAL); a torn tail in the last
    record is truncated and the server serves;
  - sd_notify: READY=1 once serving, STOPPING=1 on SIGTERM;
  - SIGHUP reopens --log-outputs files;
  - workers exit when the supervisor is SIGKILLed.

The second-server-on-the-same-data-dir and unknown-flag promises are
covered in tests/integration/test_v2_misc.py and not repeated here.

cetcd only: the reference etcd is one process with no supervisor, no
workers and a different WAL format.  Every wait is bounded; every process
is found and cleaned up by PID / process group (cluster.Server.stop).
"""

import os
import re
import signal
import socket
import struct
import subprocess
import time

import pytest
import requests

import cluster

pytestmark = pytest.mark.skipif(
    cluster.is_etcd(), reason="cetcd only: etcd has no supervisor or worker "
    "processes and a different WAL format")

ROLES = ["raft worker", "storage worker", "api worker"]

# -- process helpers ------------------------------------------------------


def proc_stat(pid):
    """(state, pgrp, ppid) of a live pid, or None when it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
    except OSError:
        return None
    fields = s[s.rindex(")") + 2:].split()
    return fields[0], int(fields[2]), int(fields[1])


def running(pid):
    """True when pid exists and is not a zombie."""
    st = proc_stat(pid)
    return st is not None and st[0] != "Z"


def group_members(pgid):
    """Live (non-zombie) pids in process group pgid."""
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        st = proc_stat(int(name))
        if st and st[1] == pgid and st[0] != "Z":
            out.append(int(name))
    return out


def group_left(pgid, timeout):
    """Wait up to timeout for process group pgid to have no live process;
    return the pids still there (empty when it emptied in time)."""
    deadline = time.monotonic() + timeout
    while True:
        left = group_members(pgid)
        if not left or time.monotonic() >= deadline:
            return left
        time.sleep(cluster.POLL)


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


def all_workers(s, timeout=5):
    """Wait until every worker kind runs (two api workers); return them."""
    def ok():
        w = workers(s.pid)
        if w["raft worker"] and w["storage worker"] and \
                len(w["api worker"]) >= 2:
            return w
        return None
    return cluster.wait_until(ok, timeout, "all workers of %d" % s.pid)


def wait_exit(s, timeout):
    """The supervisor's exit code, or None if it still runs after timeout."""
    try:
        return s.proc.wait(timeout)
    except subprocess.TimeoutExpired:
        return None


def read_file(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def put_keys(s, prefix, n, size=100):
    """PUT n keys prefix/<i> with values of about size bytes; return them."""
    kv = {}
    for i in range(n):
        v = ("v%d-" % i) + "x" * size
        r = s.put("/v2/keys%s/%d" % (prefix, i), data={"value": v})
        assert r.status_code in (200, 201), r.text
        kv["%s/%d" % (prefix, i)] = v
    return kv


def check_keys(s, kv):
    for k, v in kv.items():
        r = s.get("/v2/keys" + k)
        assert r.status_code == 200, (k, r.status_code, r.text)
        assert r.json()["node"]["value"] == v, k


def restarts(s, role):
    """Sum of cetcd_worker_restarts_total{role=...} over the role's slots."""
    text = s.get("/metrics", timeout=2).text
    vals = re.findall(r'^cetcd_worker_restarts_total\{role="%s",[^}]*\} '
                      r'(\d+)' % role, text, re.M)
    assert vals, "no cetcd_worker_restarts_total for role %s" % role
    return sum(int(v) for v in vals)


def serves(s, key, value):
    """One PUT and GET round trip with short timeouts."""
    r = requests.put(s.url("/v2/keys" + key), data={"value": value},
                     timeout=1)
    if r.status_code not in (200, 201):
        return False
    r = requests.get(s.url("/v2/keys" + key), timeout=1)
    return r.status_code == 200 and r.json()["node"]["value"] == value


# -- WAL helpers (format: src/wal/README) ---------------------------------

def _crc32c_table():
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        t.append(c)
    return t


CRC32C = _crc32c_table()


def crc32c(b):
    c = 0xFFFFFFFF
    for x in b:
        c = CRC32C[(c ^ x) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def wal_records(data):
    """[(offset, payload length, type)] of the valid records of a segment,
    up to the zero header that ends the log."""
    out = []
    off = 0
    while off + 12 <= len(data):
        crc, length, typ = struct.unpack_from("<IIB", data, off)
        if crc == 0 and length == 0:
            break
        end = off + 12 + length
        assert end <= len(data) and crc == crc32c(data[off + 8:end]), \
            "unexpected WAL record at offset %d" % off
        out.append((off, length, typ))
        off = (end + 7) & ~7
    return out


def wal_segments(s):
    d = os.path.join(s.data_dir, "member", "wal")
    segs = sorted(f for f in os.listdir(d) if f.endswith(".wal"))
    assert segs, "no WAL segment in %s" % d
    return [os.path.join(d, f) for f in segs]


# -- tests ----------------------------------------------------------------

def test_sigterm_exits_0_cleanly_and_keeps_data(server_factory):
    s = server_factory()
    all_workers(s)
    kv = put_keys(s, "/lc/term", 20)
    pgid = s.pid
    t0 = time.monotonic()
    s.proc.send_signal(signal.SIGTERM)
    rc = wait_exit(s, 5)
    assert rc is not None, "supervisor still running 5 s after SIGTERM"
    assert rc == 0, "exit code %d after SIGTERM" % rc
    left = group_left(pgid, max(0.0, 5 - (time.monotonic() - t0)))
    assert not left, "left in the process group: %s" % left
    s.restart()
    check_keys(s, kv)


@pytest.mark.parametrize("role", ["raft", "storage"])
def test_hung_worker_is_killed_and_restarted(server_factory, role):
    s = server_factory()
    title = role + " worker"
    victim = all_workers(s)[title][0]
    before = restarts(s, role)
    assert serves(s, "/lc/hang/before", "1")
    os.kill(victim, signal.SIGSTOP)
    t0 = time.monotonic()
    try:
        # killed after 5 s without heartbeat (plus one 50 ms tick)
        cluster.wait_until(lambda: not running(victim), 8,
                           "supervisor to kill the stopped %s" % title)
        took = time.monotonic() - t0
        assert took >= 4.0, "killed after only %.1f s" % took
        cluster.wait_until(
            lambda: any(p != victim for p in workers(s.pid)[title]), 3,
            "a new %s" % title)
        assert s.alive(), "supervisor died"
        cluster.wait_until(lambda: serves(s, "/lc/hang/after", "2"), 5,
                           "PUT/GET after the %s restart" % title)
    finally:
        if running(victim):
            os.kill(victim, signal.SIGKILL)
    assert restarts(s, role) > before
    assert s.get("/v2/keys/lc/hang/before").json()["node"]["value"] == "1"
    log = read_file(s.log_path)
    assert re.search(r"%s \(pid %d\) sent no heartbeat" % (title, victim),
                     log), "no hang message in the log"


def test_corrupt_wal_is_fatal(server_factory):
    s = server_factory()
    put_keys(s, "/lc/corrupt", 100)
    assert s.stop() == 0
    seg = wal_segments(s)[0]
    with open(seg, "rb") as f:
        data = f.read()
    recs = wal_records(data)
    # an entry record past the first 4 KiB with at least 20 records after
    cand = [i for i, (off, length, typ) in enumerate(recs)
            if off >= 4096 and typ == 3 and i + 20 < len(recs)]
    assert cand, "WAL too short to damage in the middle (%d records, " \
        "last at %d)" % (len(recs), recs[-1][0])
    off, length, _ = recs[cand[0]]
    with open(seg, "r+b") as f:
        f.seek(off + 12 + length // 2)
        f.write(bytes(b ^ 0xFF for b in data[off + 12 + length // 2:
                                            off + 12 + length // 2 + 4]))
    s.http = requests.Session()
    logpos = os.path.getsize(s.log_path)
    s.start(wait=False)
    pgid = s.pid
    rc = wait_exit(s, 10)
    assert rc is not None, "cetcd still running 10 s after start on a " \
        "corrupt WAL"
    new_log = read_file(s.log_path)[logpos:]
    assert rc == 2, "exit code %s on a corrupt WAL; log:\n%s" % (rc, new_log)
    assert re.search(r"wal.*(crc|corrupt)|(crc|corrupt).*wal", new_log,
                     re.I), "no WAL corruption message:\n" + new_log
    assert str(off) in new_log or os.path.basename(seg) in new_log, \
        "message names neither the file nor the offset %d:\n%s" % (off,
                                                                   new_log)
    left = group_left(pgid, 1)
    assert not left, "left in the process group: %s" % left


def test_torn_wal_tail_is_truncated(server_factory):
    s = server_factory()
    kv = put_keys(s, "/lc/torn", 30)
    assert s.stop() == 0
    seg = wal_segments(s)[-1]
    with open(seg, "rb") as f:
        recs = wal_records(f.read())
    off, length, _ = recs[-1]
    os.truncate(seg, off + 12 + length // 2)
    s.http = requests.Session()
    logpos = os.path.getsize(s.log_path)
    s.start()
    assert serves(s, "/lc/torn/new", "after")
    # the cut record is the last PUT's entry or the hard state after it:
    # every earlier PUT is in whole records before it
    del kv["/lc/torn/29"]
    check_keys(s, kv)
    new_log = read_file(s.log_path)[logpos:]
    assert re.search(r"wal.*torn tail|torn tail.*wal", new_log, re.I), \
        "no torn-tail message:\n" + new_log


def test_sd_notify_ready_and_stopping(server_factory):
    s = server_factory(start=False)
    path = os.path.join(s.base, "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        sock.bind(path)
        s.env["NOTIFY_SOCKET"] = path
        s.start(wait=False)
        deadline = time.monotonic() + 15
        got = []
        while "READY=1" not in got:
            left = deadline - time.monotonic()
            assert left > 0 and s.alive(), "no READY=1 within 15 s " \
                "(got %r)" % got
            sock.settimeout(left)
            try:
                got += sock.recv(4096).decode().split("\n")
            except socket.timeout:
                pass
        # READY=1 means serving
        cluster.wait_until(s.healthy, 2, "/health right after READY=1")
        assert serves(s, "/lc/notify", "ready")
        s.proc.send_signal(signal.SIGTERM)
        sock.settimeout(5)
        try:
            msg = sock.recv(4096).decode()
        except socket.timeout:
            msg = None
        assert msg is not None and "STOPPING=1" in msg.split("\n"), \
            "no STOPPING=1 within 5 s of SIGTERM (got %r)" % msg
        assert wait_exit(s, 5) == 0
    finally:
        sock.close()


def test_sighup_reopens_log_file(server_factory):
    s = server_factory(start=False)
    logfile = os.path.join(s.base, "server.log")
    rotated = logfile + ".1"
    s.extra_args += ["--log-outputs", logfile]
    s.start()
    w = all_workers(s)
    raft, store = w["raft worker"][0], w["storage worker"][0]
    # the supervisor logs readiness on its next tick, which may come just
    # after /health turned true
    cluster.wait_until(lambda: "ready to serve" in read_file(logfile), 5,
                       "the supervisor to log readiness")
    os.rename(logfile, rotated)
    os.kill(s.pid, signal.SIGHUP)
    cluster.wait_until(lambda: os.path.exists(logfile), 3,
                       "SIGHUP to recreate %s" % logfile)
    time.sleep(0.3)     # the workers reopen on the forwarded SIGHUP
    old_size = os.path.getsize(rotated)
    # Killing the storage worker makes the supervisor log the restart and
    # the (old, SIGHUP-forwarded) raft worker log the reconnection.
    os.kill(store, signal.SIGKILL)
    pats = [r"supervisor\[%d\] storage worker \(pid %d\) killed by "
            r"signal 9" % (s.pid, store),
            r"raft\[%d\] storage worker connected" % raft]
    for pat in pats:
        cluster.wait_until(lambda: re.search(pat, read_file(logfile)), 5,
                           "%r in the new log file" % pat)
    cluster.wait_until(lambda: serves(s, "/lc/hup", "1"), 5,
                       "PUT/GET after the storage worker restart")
    time.sleep(0.3)
    assert os.path.getsize(rotated) == old_size, \
        "written to the rotated file after SIGHUP:\n" + \
        read_file(rotated)[old_size:]


def test_workers_exit_when_supervisor_is_killed(server_factory):
    s = server_factory()
    w = all_workers(s)
    pids = [p for r in ROLES for p in w[r]]
    assert len(pids) >= 4
    os.kill(s.pid, signal.SIGKILL)
    s.proc.wait(5)
    try:
        cluster.wait_until(lambda: not any(running(p) for p in pids), 5,
                           "workers to exit after the supervisor's death")
    except TimeoutError:
        left = ["%d %s" % (p, read_file("/proc/%d/cmdline" % p))
                for p in pids if running(p)]
        pytest.fail("workers still running 5 s after SIGKILL of the "
                    "supervisor: %s" % left)


def test_group_pause_kills_no_worker(server_factory):
    """SIGSTOP of the whole process group (a suspended machine, a
    debugger, the benchmark pausing the server not under test) for longer
    than the hang limit: after SIGCONT every worker is still the same
    process, because the supervisor was paused too and gives them time to
    beat again."""
    s = server_factory()
    before = all_workers(s)
    pgid = os.getpgid(s.pid)
    os.killpg(pgid, signal.SIGSTOP)
    try:
        time.sleep(7)           # > the 5 s hang limit
    finally:
        os.killpg(pgid, signal.SIGCONT)
    time.sleep(1.5)             # a few supervisor ticks
    assert s.healthy()
    assert "killing it" not in s.log_tail(200), s.log_tail(20)
    assert all_workers(s) == before
    assert serves(s, "/lc/pause", "1")
