"""cetcdctl's v2 command set (ETCDCTL_API=2) against a server, compared
with what Debian's etcdctl 3.4.23 printed against Debian's etcd for the
same scenario (tests/ctl/expected/v2/<scenario>.txt, byte for byte after
normalising indexes, ids and ports).

Run: CETCDCTL_BIN=.../cetcdctl CETCD_BIN=.../cetcd python3 -m pytest
tests/ctl/test_ctl_v2.py; CETCD_TEST_TARGET=etcd runs cetcdctl against
Debian's etcd instead.  CTL_RECORD=1 (with CETCD_TEST_TARGET=etcd)
re-records the expected files with the real etcdctl.
"""

import os
import re
import select
import signal
import subprocess
import sys
import time

import pytest

from ctlutil import CTL_TIMEOUT, HERE, RECORD, cluster, ctl_binary  # noqa: E402,F401

EXPECTED = os.path.join(HERE, "expected", "v2")


def run(endpoints, args, timeout=CTL_TIMEOUT, env=None, stdin=None):
    e = dict(os.environ, ETCDCTL_API="2")
    for k in list(e):
        if k.startswith("ETCDCTL_") and k != "ETCDCTL_API":
            del e[k]
    e.update(env or {})
    argv = [ctl_binary()]
    if endpoints:
        argv += ["--endpoints", endpoints]
    return subprocess.run(argv + list(args), env=e, input=stdin,
                          stdin=None if stdin else subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=timeout)


def normalise(text, srv):
    """Indexes, ids, ports and times differ between runs and servers."""
    for s in srv:
        text = text.replace(s.client_url, "http://127.0.0.1:CPORT")
        text = text.replace(s.peer_url, "http://127.0.0.1:PPORT")
    text = re.sub(r"\[\d+\]\n", "[N]\n", text)
    # etcdctl shuffles its endpoints: the two dead ones are one to us
    text = re.sub(r"127\.0\.0\.1:[13]\b", "127.0.0.1:DEAD", text)
    text = re.sub(r"\[(.*?) != \d+\]", r"[\1 != N]", text)
    text = re.sub(r"(Index\"?:) ?\d+", r"\1 N", text)
    text = re.sub(r"(Index)=\d+", r"\1=N", text)
    text = re.sub(r"\b[0-9a-f]{16}\b", "ID", text)
    text = re.sub(r"\b[0-9a-f]{13,15}\b", "ID", text)
    text = re.sub(r"\"expiration\":\"[^\"]*\"", "\"expiration\":\"T\"", text)
    text = re.sub(r"(TTL:|\"ttl\":) ?\d+", r"\1 T", text)
    text = re.sub(r"/queue/\d+", "/queue/N", text)
    text = re.sub(r"--after-index \d+", "--after-index N", text)
    text = re.sub(r"cetcdctl|etcdctl", "CTL", text)
    text = re.sub(r'ETCD_INITIAL_CLUSTER="([^"]*)"', lambda m: 'ETCD_INITIAL_CLUSTER="%s"'
                  % ",".join(sorted(m.group(1).split(","))), text)
    return text


def expand(args, srv):
    """{idx} (the server's current etcd index, +/- n), {id} (its member
    id), {peer} (its peer URL) in a step."""
    if "{" not in args:
        return args
    s = srv[0]

    def sub(m):
        what = m.group(1)
        if what.startswith("idx"):
            return str(s.index() + int(what[3:] or "0"))
        if what == "id":
            return s.get("/v2/members").json()["members"][0]["id"]
        if what == "peer":
            return s.peer_url
        if what == "url":
            return s.client_url
        raise KeyError(what)
    return re.sub(r"\{([a-z]+(?:[+-]\d+)?)\}", sub, args)


def transcript(srv, endpoints, steps):
    out = []
    for st in steps:
        args, kw = (st[0], st[1]) if isinstance(st, tuple) else (st, {})
        shown = args
        args = expand(args, srv)
        kw = dict(kw)
        eps = kw.pop("endpoints", endpoints)
        if eps is not None:
            eps = eps.replace("{url}", srv[0].client_url)
        if "env" in kw:
            kw["env"] = {k: v.replace("{url}", srv[0].client_url)
                         for k, v in kw["env"].items()}
        p = run(eps, args.split(" ") if isinstance(args, str) else args,
                **kw)
        args = shown
        out.append("$ %s\n--- stdout\n%s--- stderr\n%s--- rc %d\n" % (
            args if isinstance(args, str) else " ".join(args),
            p.stdout, p.stderr, p.returncode))
    return normalise("".join(out), srv)


def check(name, srv, endpoints, steps):
    got = transcript(srv, endpoints, steps)
    path = os.path.join(EXPECTED, name + ".txt")
    if RECORD:
        with open(path, "w") as f:
            f.write(got)
        return
    with open(path) as f:
        want = f.read()
    assert got == want


@pytest.fixture
def fresh(server_factory):
    return server_factory()


# Nothing listens on these (ports 1 and 3 are privileged and unused).
DEAD = "http://127.0.0.1:1"
DEAD2 = "http://127.0.0.1:3"

SCENARIOS = {
    "keys": [
        "set /foo bar",
        "get /foo",
        "-o extended get /foo",
        "-o json get /foo",
        "get /nokey",
        "update /foo baz",
        "-o extended update /foo qux",
        "update /nokey v",
        "mk /foo x",
        "mk /new v",
        "-o json mk /new2 v",
        "set --swap-with-value wrong /foo y",
        "set --swap-with-value qux /foo y",
        "set --swap-with-index 1 /foo z",
        "-o extended set /foo z",
        "get --quorum /foo",
        "rm --with-value wrong /foo",
        "rm --with-value z /foo",
        "rm /new",
        "-o extended rm /new2",
        "rm /new",
        "get",
        "set /onlykey",
        "mk --in-order /queue job1",
        "-o json rmdir /nodir",
    ],
    "dirs": [
        "mkdir /dir",
        "mkdir /dir",
        "setdir /dir2",
        "-o extended setdir /dir3",
        "updatedir --ttl 500 /dir2",
        "updatedir /nodir",
        "get /dir",
        "set /dir/b 2",
        "set /dir/a 1",
        "set /dir/sub/c 3",
        "ls --sort",
        "ls --sort -p",
        "ls --sort -r",
        "ls --sort -r -p /dir",
        "-o extended ls /dir/sub",
        "-o json ls /dir/sub",
        "ls /nodir",
        "ls /dir/a",
        "rm /dir",
        "rmdir /dir",
        "rmdir /dir/a",
        "rm --dir /dir/sub",
        "rm -r /dir/sub",
        "rm --dir /dir2",
        "rmdir /dir3",
        "-o extended rm -r /dir",
        "ls --sort",
        "mkdir /dir",
        "set /dir v",
        "update /dir v",
    ],
    "watch": [
        "set /w/a 1",
        "watch --after-index {idx-1} /w/a",
        "-o extended watch --after-index {idx-1} /w/a",
        "-o json watch --after-index {idx-1} /w/a",
        "set /w/b 2",
        "watch -r --after-index {idx-1} /w",
        "-o extended watch --recursive --after-index {idx-1} /w",
        "mkdir /w/d",
        "set /w/c 3",
        "watch -r --after-index {idx-2} /w",
        "rm /w/c",
        "watch --after-index {idx-1} /w/c",
        "exec-watch /w/c",
    ],
    "members": [
        "member update",
        "member update {id} {peer}",
        "member add n2",
        "member update 1 http://x",
        "member add a ftp://x:1",
        "member update 1 http://x:1/p",
        "member remove node1",
        "member list extra",
        "member add n2 http://127.0.0.1:2",
    ],
    # the ETCDCTL_API=2 commands of the seed notes, as typed there
    "seed": [
        "set /testdir/testkey Hello world",
        ["set", "/testdir/testkey", "Hello world"],
        "get /testdir/testkey",
        "update /testdir/testkey Hello",
        "rm /testdir/testkey",
        ["mk", "/testdir/testkey", "Hello world"],
        "mkdir testdir2",
        "ls --sort",
        "rmdir dir1",
        "rmdir testdir2",
        "set --ttl 100 /ttlkey v",
        "-o extended get --sort /ttlkey",
        "ls --sort --recursive -p /",
    ],
    "failover": [
        "set /foo bar",
        ("get /foo", {"endpoints": DEAD + ",{url}"}),
        ("--no-sync get /foo", {"endpoints": DEAD + ",{url}"}),
        ("get /foo", {"endpoints": DEAD}),
        ("--no-sync get /foo", {"endpoints": DEAD}),
        ("--no-sync set /foo baz", {"endpoints": DEAD + "," + DEAD2}),
        ("member list", {"endpoints": DEAD}),
        ("cluster-health", {"endpoints": DEAD}),
        ("get /foo", {"endpoints": None, "env": {"ETCDCTL_ENDPOINTS": "{url}"}}),
        ("get /foo", {"endpoints": None, "env": {"ETCDCTL_PEERS": "{url}"}}),
        ("--peers {url} get /foo", {"endpoints": None}),
        ("-C {url} get /foo", {"endpoints": None}),
        "--debug get /foo",
        "--debug --no-sync set /foo qux",
        "--debug -o json --no-sync rm /foo",
    ],
    "misc": [
        "member list",
        "cluster-health",
        "nosuchcommand",
        "mkdir",
        "rm",
        "watch",
        "-o bogus get /x",
        "member remove",
        "member remove 1234",
        "--bogus get /x",
        "--timeout 1 get /x",
        "--total-timeout 1x get /x",
        "ls --sort -r -o json /",
        "set --ttl x /k v",
        "get /x extra --sort",
        "--version",
        "help get",
        "-o",
    ],
}


# cetcd does not serve /v2/auth: these are recorded with etcdctl against
# cetcd (what etcdctl prints against a server without it), so they run
# only against cetcd.
NOAUTH = {
    "noauth": [
        "user list",
        "role list",
        "auth enable",
        "auth disable",
        "user add foo:bar",
        "user get root",
        "role add r",
        "user grant",
    ],
}


@pytest.mark.parametrize("name", sorted(NOAUTH))
def test_noauth(name, fresh):
    if cluster.is_etcd():
        pytest.skip("etcd serves /v2/auth")
    check(name, [fresh], fresh.client_url, NOAUTH[name])


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario(name, fresh):
    if RECORD and not cluster.is_etcd():
        pytest.skip("record against etcd")
    check(name, [fresh], fresh.client_url, SCENARIOS[name])


def stream(srv, args, writes, nlines, timeout=10.0):
    """Start a long-running command, make writes (path, value) through the
    v2 API, collect nlines of its stdout (bounded), then interrupt it by
    PID as a user's ^C would. Returns the transcript text."""
    e = dict(os.environ, ETCDCTL_API="2")
    argv = [ctl_binary(), "--endpoints", srv.client_url] + args
    p = subprocess.Popen(argv, env=e, stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    lines = []
    try:
        for path, value in writes:
            srv.put("/v2/keys" + path, data={"value": value})
        deadline = time.monotonic() + timeout
        fd = p.stdout.fileno()
        buf = ""
        while len(lines) < nlines and time.monotonic() < deadline:
            r, _, _ = select.select([fd], [], [], 0.1)
            if not r:
                continue
            chunk = os.read(fd, 65536).decode()
            if not chunk:
                break
            buf += chunk
            *done, buf = buf.split("\n")
            lines += done
    finally:
        p.send_signal(signal.SIGINT)
        try:
            rc = p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            rc = p.wait(timeout=10)
        err = p.stderr.read()
    return normalise("$ %s\n--- stdout\n%s\n--- stderr\n%s--- rc %d\n" % (
        " ".join(args), "\n".join(sorted(lines)), err, rc), [srv])


def test_watch_forever_and_exec(fresh):
    """watch -f and exec-watch KEY -- CMD: each event printed / run with
    ETCD_WATCH_* set; ^C ends them with exit 0."""
    if RECORD and not cluster.is_etcd():
        pytest.skip("record against etcd")
    idx = str(fresh.index())
    got = stream(fresh, ["watch", "-f", "--after-index", idx, "/fw"],
                 [("/fw", "a"), ("/fw", "b")], 2)
    idx = str(fresh.index())
    got += stream(fresh, ["-o", "extended", "watch", "--forever", "-r",
                          "--after-index", idx, "/fd"],
                  [("/fd/x", "1")], 8)
    idx = str(fresh.index())
    # etcdctl 3.4 (urfave/cli 1.22) drops a "--" that follows only
    # positional arguments, so "exec-watch KEY -- CMD" takes CMD's last
    # word as the key; these two forms do what they say.
    cmd = ("echo $ETCD_WATCH_ACTION $ETCD_WATCH_KEY $ETCD_WATCH_VALUE "
           "$ETCD_WATCH_MODIFIED_INDEX")
    idx = str(fresh.index())
    got += stream(fresh, ["exec-watch", "--after-index", idx, "sh", "-c", cmd,
                          "/ew"], [("/ew", "a"), ("/ew", "b")], 2)
    idx = str(fresh.index())
    got += stream(fresh, ["exec-watch", "--after-index", idx, "-r", "/ed",
                          "--", "sh", "-c", cmd],
                  [("/ed/k", "a"), ("/ed/k", "b")], 2)
    got = re.sub(r"(/e[wd]\S* [ab]) \d+", r"\1 N", got)
    path = os.path.join(EXPECTED, "watch_forever.txt")
    if RECORD:
        with open(path, "w") as f:
            f.write(got)
        return
    with open(path) as f:
        assert got == f.read()


@pytest.fixture
def hang():
    """A TCP endpoint that accepts connections and never answers (its
    URL); closed after the test."""
    import socket
    import threading
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(16)
    ls.settimeout(0.2)
    held, stop = [], threading.Event()

    def loop():
        while not stop.is_set():
            try:
                held.append(ls.accept()[0])
            except OSError:
                pass
    t = threading.Thread(target=loop, daemon=True)
    t.start()
    yield "http://127.0.0.1:%d" % ls.getsockname()[1]
    stop.set()
    t.join(timeout=5)
    for c in held:
        c.close()
    ls.close()


TIMEOUT_STEPS = [
    ("--no-sync --total-timeout 1s get /foo", "{hang}"),
    ("--no-sync --timeout 500ms get /foo", "{hang}"),
    ("--total-timeout 1s get /foo", "{hang}"),
    ("--no-sync --timeout 300ms member list", "{hang}"),
    ("--no-sync --timeout 300ms --total-timeout 1s cluster-health", "{hang}"),
    ("set /foo bar", "{url}"),
    ("--no-sync --timeout 500ms get /foo", "{hang},{url}"),
    ("--timeout 500ms get /foo", "{hang},{url}"),
]


def test_timeouts(fresh, hang):
    """--timeout (per request, then the next endpoint) and --total-timeout
    ("context deadline exceeded") against an endpoint that never answers."""
    if RECORD and not cluster.is_etcd():
        pytest.skip("record against etcd")
    steps = [(a, {"endpoints": e.replace("{hang}", hang)})
             for a, e in TIMEOUT_STEPS]
    got = transcript([fresh], fresh.client_url, steps)
    got = got.replace(hang, "http://127.0.0.1:HANG")
    got = got.replace(hang[len("http://"):], "127.0.0.1:HANG")
    path = os.path.join(EXPECTED, "timeouts.txt")
    if RECORD:
        with open(path, "w") as f:
            f.write(got)
        return
    with open(path) as f:
        assert got == f.read()
