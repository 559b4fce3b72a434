"""cetcdctl's v3 command set (the default) against a server, compared with
what Debian's etcdctl 3.4.23 printed against Debian's etcd for the same
scenario (tests/ctl/expected/v3/<scenario>.txt: each command's stdout, its
"Error:" lines on stderr and its exit code, after normalising cluster and
member ids, raft terms, lease ids, ports and timings).

Run: CETCDCTL_BIN=.../cetcdctl CETCD_BIN=.../cetcd python3 -m pytest
tests/ctl/test_ctl_v3.py; CETCD_TEST_TARGET=etcd runs cetcdctl against
Debian's etcd instead. CTL_RECORD=1 CETCD_TEST_TARGET=etcd re-records the
expected files with the real etcdctl. Each scenario gets a fresh server so
revisions are the same on both sides.
"""

import os
import re
import shlex
import signal
import subprocess
import sys
import time

import pytest

from ctlutil import CTL_TIMEOUT, HERE, RECORD, cluster, ctl_binary  # noqa: E402,F401

EXPECTED = os.path.join(HERE, "expected", "v3")


def ctl_env(extra=None):
    e = dict(os.environ)
    for k in list(e):
        if k.startswith("ETCDCTL_"):
            del e[k]
    e.update(extra or {})
    return e


def run(endpoints, args, timeout=CTL_TIMEOUT, env=None, stdin=None):
    argv = [ctl_binary()]
    if endpoints:
        argv += ["--endpoints", endpoints]
    return subprocess.run(argv + list(args), env=ctl_env(env), input=stdin,
                          stdin=None if stdin is not None else subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=timeout)


def normalise(text, srv):
    """Ids, terms, ports and timings differ between runs and servers."""
    for s in srv:
        text = text.replace(s.client_url, "http://127.0.0.1:CPORT")
        text = text.replace(s.peer_url, "http://127.0.0.1:PPORT")
    text = re.sub(r'("cluster_id":|"member_id":|"ClusterID" : |"MemberID" : )\d+',
                  r"\1ID", text)
    text = re.sub(r'("raft_term":|"RaftTerm" : )\d+', r"\1T", text)
    text = re.sub(r"\b[0-9a-f]{16}\b", "ID", text)
    text = re.sub(r"\b[0-9a-f]{13,15}\b", "ID", text)
    text = re.sub(r'("ID":|"ID" : |"id":)\d+', r"\1ID", text)
    text = re.sub(r'("lease":|"Lease" : |"PrevLease" : )[1-9]\d*', r"\1ID", text)
    text = re.sub(r"remaining\(\d+s\)", "remaining(Ns)", text)
    text = re.sub(r'"ttl":[1-9]\d*', '"ttl":N', text)
    text = re.sub(r"took = [0-9.]+[µmn]?s", "took = D", text)
    text = re.sub(r'"took":"[0-9.]+[µmn]?s"', '"took":"D"', text)
    text = re.sub(r'"Took" : [0-9.]+[µmn]?s', '"Took" : D', text)
    text = re.sub(r"cetcdctl|etcdctl", "CTL", text)
    return text


def normalise_status(text):
    """member / endpoint output: member ids are random (their width and
    order vary); sizes, raft indexes and versions are the server's own."""
    text = re.sub(r'("dbSize"|"dbSizeInUse"|"raftIndex"|"raftAppliedIndex"|'
                  r'"raftTerm"|"revision"):\d+', r"\1:N", text)
    text = re.sub(r'("DBSize"|"RaftIndex"|"RaftAppliedIndex"|"Revision") : \d+',
                  r"\1 : N", text)
    text = re.sub(r"(CPORT, ID, [^,]+), \d+ [kMG]?B, (\w+, \w+), \d+, \d+, \d+,",
                  r"\1, SIZE, \2, T, N, N,", text)
    text = re.sub(r'("leader":|"Leader" : )\d+', r"\1ID", text)
    text = re.sub(r"(?m)^\+-+\+", "+-ID-+", text)
    text = re.sub(r"(?m)^\|\s+ID\s+\|", "| ID |", text)
    text = re.sub(r'ETCD_INITIAL_CLUSTER="([^"]*)"', lambda m: 'ETCD_INITIAL_CLUSTER="%s"'
                  % ",".join(sorted(m.group(1).split(","))), text)
    text = re.sub(r'"version":"[0-9.]+"|"Version" : "[0-9.]+"', "VERSION", text)
    text = re.sub(r"(CPORT, ID), [0-9.]+,", r"\1, VERSION,", text)
    text = re.sub(r"(Member|cluster) +ID", r"\1 ID", text)
    return text


def stderr_lines(err):
    # etcdctl's gRPC client logs JSON warnings (with timestamps); only
    # the "Error: ..." lines are part of the interface.
    return "".join(l + "\n" for l in err.splitlines()
                   if not l.startswith('{"level"'))


def transcript(srv, endpoints, steps):
    out = []
    vars_ = {}
    for st in steps:
        args, kw = (st[0], dict(st[1])) if isinstance(st, tuple) else (st, {})
        args = args.format(**vars_)
        p = run(endpoints, shlex.split(args), **kw)
        for var, rx in (("lease", r"lease ([0-9a-f]+) granted"),
                        ("mid", r"([0-9a-f]+), started"),
                        ("newid", r"Member +([0-9a-f]+) added")):
            m = re.match(rx, p.stdout)
            if m:
                vars_[var] = m.group(1)
        shown = args
        for var, val in vars_.items():
            shown = shown.replace(val, "{%s}" % var)
        step = "$ etcdctl %s\n%s--- stderr\n%s--- rc=%d\n" % (
            shown, p.stdout, stderr_lines(p.stderr), p.returncode)
        if args.startswith(("endpoint", "member")):
            step = normalise_status(normalise(step, srv))
        out.append(step)
    return normalise("".join(out), srv)


def check(name, got):
    path = os.path.join(EXPECTED, name + ".txt")
    if RECORD:
        os.makedirs(EXPECTED, exist_ok=True)
        with open(path, "w") as f:
            f.write(got)
        return
    with open(path) as f:
        want = f.read()
    if got != want:
        import difflib
        d = "".join(difflib.unified_diff(want.splitlines(True), got.splitlines(True),
                                         "expected", "got", n=2))
        pytest.fail("%s differs from etcdctl's transcript:\n%s" % (name, d[:6000]))


if RECORD and not cluster.is_etcd():
    raise RuntimeError("CTL_RECORD=1 needs CETCD_TEST_TARGET=etcd")


# ---- scenarios: (name, steps); each step "args" or ("args", {run kw}) ----

KV = [
    "put foo bar",
    "put foo bar2 --prev-kv",
    "put foo bar3 --prev-kv -w json",
    "put foo bar4 --prev-kv -w fields",
    ("put fromstdin", {"stdin": "line one\nline two\n"}),
    "get fromstdin -w json",
    "get foo",
    "get foo -w json",
    "get foo -w fields",
    "get nokey",
    "get nokey -w json",
    "get nokey -w fields",
    "put a 1", "put ab 2", "put b 3", "put c 4",
    "get a --prefix",
    "get a --prefix --keys-only",
    "get a --prefix --print-value-only",
    "get a --prefix --keys-only -w json",
    "get a --from-key --limit 1",
    "get a --from-key --limit 2 -w fields",
    "get a c",
    "get a --prefix --order=DESCEND --sort-by=VALUE",
    "get '' --prefix --sort-by=MODIFY --order DESCEND --keys-only",
    "get a --prefix --sort-by=CREATE -w json",
    "get a --rev=5",
    "get a --consistency=s",
    "--hex get a --prefix",
    "--hex get a -w json",
    "--hex get a -w fields",
    "--hex put x y --prev-kv",
    "--hex put x z --prev-kv",
    "get foo -w=fields --hex=false",
    "del a --prefix --prev-kv",
    "del b -w json",
    "del b --prev-kv -w fields",
    "del c --from-key -w fields",
    "del x --prev-kv -w json",
    "get '' --from-key",
    "put -- k1 -v1",
    "get k1",
    "put k2 -- -v2",
    "get k2 --print-value-only",
]

KV_ERRORS = [
    "put foo",
    "put",
    "get",
    "del",
    "get a b c",
    "get foo --order=ASC",
    "get foo --sort-by=BAD",
    "get foo --consistency=x",
    "get foo --prefix --from-key",
    "get foo bar --prefix",
    "del foo bar --from-key",
    "get foo --rev=1000",
    "put k v --lease=zz",
    "put k v --lease=1234",
    "put k --ignore-value",
    "put k v --ignore-lease",
    "-w yaml get foo",
    "-w table get foo",
    "-w table put foo bar",
    "bogus",
    "get foo --bogus",
    "get --limit x foo",
    "--dial-timeout=xx get foo",
    "put --help",
    "get -h",
    "del --help",
]

LEASE = [
    "lease grant 100",
    "put --lease={lease} lk v",
    "lease timetolive {lease}",
    "lease timetolive {lease} --keys",
    "lease timetolive {lease} --keys -w json",
    "lease timetolive {lease} -w json",
    "lease list",
    "lease list -w json",
    "lease list -w fields",
    "lease keep-alive --once {lease}",
    "lease keep-alive --once {lease} -w json",
    "lease keep-alive --once {lease} -w fields",
    "get lk -w fields",
    "get lk -w json",
    "put lk v2 --ignore-lease --prev-kv -w fields",
    "lease revoke {lease}",
    "get lk",
    "lease revoke {lease}",
    "lease timetolive {lease}",
    "lease timetolive {lease} -w json",
    "lease timetolive {lease} -w fields",
    "lease keep-alive --once {lease}",
    "lease keep-alive {lease}",
    "lease list",
    "lease list -w json",
    "lease grant 5 -w json",
    "lease grant 5 -w fields",
    "lease grant",
    "lease grant x",
    "lease revoke",
    "lease revoke zz",
    "lease timetolive zz",
    "lease timetolive",
    "lease keep-alive",
    "-w table lease list",
    "-w table lease grant 5",
    "lease grant 5 --bogus",
    "lease timetolive -h",
    "lease keep-alive --help",
]

TXN = [
    "put tk v1",
    ("txn", {"stdin": 'value("tk") = "v1"\nversion("tk") > "0"\n\nput tk v2\nget tk\n'
                      'del nothere\n\nput tk bad\n\n'}),
    ("txn -w json", {"stdin": 'mod("tk") < "1"\n\nput tk v3\n\nget tk --prefix\n'
                              'get tk\n\n'}),
    ("txn -w fields", {"stdin": 'create("tk") = "0"\n\nput tk v3\n\nget tk\n'
                                'del tk --prev-kv\n\n'}),
    ("txn -w json", {"stdin": 'c("tk") = "0"\n\nput tk v4 --prev-kv\nput t2 x\n'
                              'del nothere\n\n\n'}),
    ("txn", {"stdin": '\n\n\n'}),
    ("txn -w json", {"stdin": '\n\n\n'}),
    ("txn", {"stdin": 'val("tk") != "x"\n\nput "k 1" "v 2"\nget "k 1"\n\n\n'}),
    ("--hex txn", {"stdin": 'ver("tk") = "1"\nm("t2") > "3"\n\nget t --prefix\n\n\n'}),
    ("txn -i", {"stdin": 'value("tk") = "zz"\n\nput tk a\n\nput tk b\n\n'}),
    ("txn", {"stdin": 'bogus\n'}),
    ("txn", {"stdin": 'value("tk") = "v1"\n'}),
    ("txn", {"stdin": 'value("tk") = "v1"\n\nput tk a\n'}),
    ("txn", {"stdin": 'nope("tk") = "v1"\n\n\n\n'}),
    ("txn", {"stdin": 'version("tk") = "x"\n\n\n\n'}),
    ("txn", {"stdin": '\n\nfrob tk\n\n\n'}),
    ("txn a", {"stdin": ''}),
    "compaction 3",
    "compaction 3",
    "compaction --physical 5",
    "compaction 6 -w json",
    "compaction 100",
    "compaction",
    "compaction x",
    "get tk --rev=2",
    "txn --help",
]

CLUSTER = [
    "member list",
    "member list -w table",
    "member list -w json",
    "member list -w fields",
    "member add n2 --peer-urls=http://127.0.0.1:1,http://127.0.0.1:2 --learner",
    "member update {newid} --peer-urls=http://127.0.0.1:3",
    "member remove {newid}",
    "member remove {newid}",
    "member update {mid}",
    "member promote {mid}",
    "member promote 1234",
    "member add",
    "member add x",
    "member add x y",
    "member remove",
    "member remove zz",
    "member add n3 --peer-urls=http://127.0.0.1:4 --learner",
    "member remove {newid} -w json",
    "member add n4 --peer-urls=http://127.0.0.1:5 --learner -w fields",
    "endpoint status",
    "endpoint status -w json",
    "endpoint status -w fields",
    "endpoint status --cluster",
    "endpoint health",
    "endpoint health -w json",
    "endpoint health -w fields",
    "endpoint health --cluster",
    "member list --help",
    "endpoint status -h",
]

MISC = [
    "alarm list",
    "alarm list -w json",
    "alarm disarm",
    "alarm disarm -w json",
    "defrag",
    "defrag -w json",
    "version",
    "move-leader",
    "move-leader zz",
    "move-leader 1234",
    "snapshot save",
    "snapshot status",
    "snapshot status /nonexistent/file",
    "lock",
    "elect",
    "elect x",
    "lock --help",
    "elect -h",
    "defrag --help",
    "lease",
    "member --help",
    "endpoint",
    "alarm",
    "--help",
]

SCENARIOS = [("kv", KV), ("kv_errors", KV_ERRORS), ("lease", LEASE), ("txn", TXN),
             ("cluster", CLUSTER), ("misc", MISC)]


@pytest.mark.parametrize("name,steps", SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_scenario(server_factory, name, steps):
    s = server_factory()
    check(name, transcript([s], s.client_url, steps))


def test_env_endpoints(server_factory):
    """ETCDCTL_ENDPOINTS and ETCDCTL_WRITE_OUT supply the global flags."""
    s = server_factory()
    p = run(None, ["put", "envk", "v"], env={"ETCDCTL_ENDPOINTS": s.client_url})
    assert (p.returncode, p.stdout) == (0, "OK\n")
    p = run(None, ["get", "envk"], env={"ETCDCTL_ENDPOINTS": s.client_url,
                                        "ETCDCTL_WRITE_OUT": "fields"})
    assert p.returncode == 0 and '"Key" : "envk"\n' in p.stdout


def test_failover(server_factory):
    """The first endpoint is down: the command succeeds on the next one."""
    s = server_factory()
    dead = "http://127.0.0.1:%d" % cluster.free_ports(1)[0]
    eps = "%s,%s" % (dead, s.client_url)
    p = run(eps, ["put", "fo", "ok"])
    assert (p.returncode, p.stdout) == (0, "OK\n"), p.stderr
    p = run(eps, ["get", "fo", "--print-value-only"])
    assert (p.returncode, p.stdout) == (0, "ok\n"), p.stderr


def test_all_down():
    """No endpoint answers: etcdctl's deadline error and exit code 1."""
    dead = "http://127.0.0.1:%d" % cluster.free_ports(1)[0]
    p = run(dead, ["--dial-timeout=1s", "--command-timeout=2s", "get", "x"])
    assert p.returncode == 1
    assert p.stderr.splitlines()[-1] == "Error: context deadline exceeded"


# ---- watch: streams, recorded for a fixed time after historical events ----

WATCH_SETUP = ["put w1 a", "put w1 b", "del w1", "put w2 c", "put x y",
               "put w1 -- '-d'"]
WATCH = [
    "watch w1 --rev=1",
    "watch w --prefix --rev=1 --prev-kv",
    "watch w1 w3 --rev=1",
    "--hex watch w2 --rev=1",
    "watch x --rev=1 -w json",
    "watch x --rev=1 -w fields",
    "watch x --rev=1 --prev-kv -w fields",
    "watch w1 --rev=2 --prev-kv -w json",
    "watch w1 --rev=1 -- sh -c 'echo ENV $ETCD_WATCH_EVENT_TYPE $ETCD_WATCH_KEY "
    "$ETCD_WATCH_VALUE $ETCD_WATCH_REVISION'",
    ("watch -i", {"stdin": "watch w2 --rev=1\n"}),
    "watch",
    "watch a --",
    "watch a b --prefix",
    "watch -i a",
]
STREAM_SECS = 1.5


def run_stream(endpoints, args, stdin=None):
    """Runs a command that may stream; stops it after STREAM_SECS."""
    argv = [ctl_binary(), "--endpoints", endpoints] + list(args)
    p = subprocess.Popen(argv, env=ctl_env(), stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, start_new_session=True)
    try:
        if stdin:
            p.stdin.write(stdin)
            p.stdin.flush()
            time.sleep(STREAM_SECS)
        out, err = p.communicate(input=None if stdin else "", timeout=STREAM_SECS)
        rc = "%d" % p.returncode
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGTERM)
        out, err = p.communicate(timeout=CTL_TIMEOUT)
        rc = "running"
    return out, err, rc


def test_watch(server_factory):
    s = server_factory()
    for st in WATCH_SETUP:
        assert run(s.client_url, shlex.split(st)).returncode == 0
    out = []
    for st in WATCH:
        args, kw = (st[0], st[1]) if isinstance(st, tuple) else (st, {})
        o, e, rc = run_stream(s.client_url, shlex.split(args), **kw)
        out.append("$ etcdctl %s\n%s--- stderr\n%s--- rc=%s\n" % (
            args, o, stderr_lines(e), rc))
    check("watch", normalise("".join(out), [s]))


def test_watch_live(server_factory):
    """A watch without --rev sees a put made after it started, and the
    exec form runs the command with the ETCD_WATCH_* variables."""
    s = server_factory()
    argv = [ctl_binary(), "--endpoints", s.client_url, "watch", "live", "--",
            "sh", "-c", "echo got $ETCD_WATCH_KEY=$ETCD_WATCH_VALUE"]
    p = subprocess.Popen(argv, env=ctl_env(), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            run(s.client_url, ["put", "live", "v1"])
            time.sleep(0.3)
            if p.poll() is not None:
                break
            # a watch stream has no readiness signal: stop once the
            # command ran at least once
            import select
            r, _, _ = select.select([p.stdout], [], [], 0.2)
            if r:
                break
    finally:
        os.killpg(p.pid, signal.SIGTERM)
        out, err = p.communicate(timeout=CTL_TIMEOUT)
    assert 'PUT\nlive\nv1\ngot "live"="v1"\n' in out, (out, err)


def test_lock_exec(server_factory):
    """lock NAME -- CMD runs CMD holding the lock, with ETCD_LOCK_KEY set;
    a second locker waits until the first one releases."""
    s = server_factory()
    first = subprocess.Popen([ctl_binary(), "--endpoints", s.client_url, "lock", "L"],
                             env=ctl_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, start_new_session=True)
    try:
        line = first.stdout.readline()     # the key, printed once held
        assert line.startswith("L/"), line
        p = subprocess.Popen([ctl_binary(), "--endpoints", s.client_url, "lock", "L", "--",
                              "sh", "-c", "echo held $ETCD_LOCK_KEY"], env=ctl_env(),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             start_new_session=True)
        time.sleep(1.0)
        assert p.poll() is None            # still waiting for the first holder
        os.killpg(first.pid, signal.SIGINT)
        out, err = p.communicate(timeout=CTL_TIMEOUT)
        assert p.returncode == 0, err
        assert re.match(r"held L/[0-9a-f]+\n$", out), out
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
        first.communicate(timeout=CTL_TIMEOUT)


def test_elect(server_factory):
    """A campaigner prints its leader key and proposal; an observer sees it."""
    s = server_factory()
    c = subprocess.Popen([ctl_binary(), "--endpoints", s.client_url, "elect", "E", "p1"],
                         env=ctl_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, start_new_session=True)
    try:
        key = c.stdout.readline()
        assert key.startswith("E/") and c.stdout.readline() == "p1\n"
        o, e, rc = run_stream(s.client_url, ["elect", "-l", "E"])
        assert o == key + "p1\n", (o, e)
    finally:
        os.killpg(c.pid, signal.SIGINT)
        c.communicate(timeout=CTL_TIMEOUT)
    assert c.returncode == 0


def test_snapshot(server_factory, tmp_path):
    """snapshot save writes the server's stream; status reads cetcd's
    format and refuses etcd's bbolt files with a clear error."""
    s = server_factory()
    assert run(s.client_url, ["put", "sk", "sv"]).returncode == 0
    path = str(tmp_path / "snap.db")
    p = run(s.client_url, ["snapshot", "save", path])
    assert (p.returncode, p.stdout) == (0, "Snapshot saved at %s\n" % path), p.stderr
    assert os.path.getsize(path) > 0 and not os.path.exists(path + ".part")
    p = run(None, ["snapshot", "status", path, "-w", "table"])
    if cluster.is_etcd():
        assert p.returncode == 1 and "bbolt" in p.stderr
    else:
        assert p.returncode == 0, p.stderr
        lines = p.stdout.splitlines()
        assert lines[1] == "|   HASH   | REVISION | TOTAL KEYS | TOTAL SIZE |" or \
            re.match(r"^\| +HASH +\| REVISION \| TOTAL KEYS \| TOTAL SIZE \|$", lines[1])


def test_hashkv_and_tables(server_factory):
    """endpoint status / health / hashkv tables are drawn as etcdctl draws
    them (hashkv needs cetcd: etcd 3.4's gateway has no HashKV)."""
    s = server_factory()
    p = run(s.client_url, ["endpoint", "status", "-w", "table"])
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert len(lines) == 5 and lines[0] == lines[2] == lines[4]
    assert re.match(r"^\| +ENDPOINT +\| +ID +\| VERSION \| DB SIZE \| IS LEADER \| "
                    r"IS LEARNER \| RAFT TERM \| RAFT INDEX \| RAFT APPLIED INDEX \| ERRORS \|$",
                    lines[1]), lines[1]
    assert re.match(r"^\| %s \| [0-9a-f]+ \| +[0-9.]+ \| +\d+ k?B \| +true \| +false \| +\d+ \| "
                    r"+\d+ \| +\d+ \| +\|$" % re.escape(s.client_url), lines[3]), lines[3]
    p = run(s.client_url, ["endpoint", "health", "-w", "table"])
    assert p.returncode == 0 and p.stdout.splitlines()[1].startswith(
        "|        ENDPOINT        | HEALTH |") or "| HEALTH |" in p.stdout
    if cluster.is_etcd():
        return
    p = run(s.client_url, ["endpoint", "hashkv"])
    assert p.returncode == 0 and re.match(r"^%s, \d+\n$" % re.escape(s.client_url), p.stdout)
    p = run(s.client_url, ["endpoint", "hashkv", "-w", "table"])
    assert p.returncode == 0 and "|        ENDPOINT        |    HASH    |" in p.stdout or \
        re.search(r"\| +ENDPOINT +\| +HASH +\|", p.stdout)


def test_endpoint_health_down():
    """An endpoint that does not answer: unhealthy, "unhealthy cluster", 1."""
    dead = "http://127.0.0.1:%d" % cluster.free_ports(1)[0]
    p = run(dead, ["--dial-timeout=1s", "--command-timeout=1s", "endpoint", "health"])
    assert p.returncode == 1
    assert p.stderr.splitlines()[-1] == "Error: unhealthy cluster"
    assert "%s is unhealthy: failed to commit proposal:" % dead in p.stderr


AUTH = [
    "--user root:pw put ak v",
    "--user root --password pw get ak",
    "--user=root:bad get ak",
    "--user nobody:x get ak",
    "get ak",
    "put ak v2",
]


def test_auth(server_factory):
    """--user name:password / --password: the token from
    /v3/auth/authenticate goes with every request; etcd's errors otherwise."""
    s = server_factory()
    for path, body in (("/v3/auth/role/add", {"name": "root"}),
                       ("/v3/auth/user/add", {"name": "root", "password": "pw"}),
                       ("/v3/auth/user/grant", {"user": "root", "role": "root"}),
                       ("/v3/auth/enable", {})):
        r = s.post(path, json=body)
        assert r.status_code == 200, (path, r.text)
    check("auth", transcript([s], s.client_url, AUTH))


def test_check_perf(server_factory):
    """check perf's report has etcdctl's shape (a short run through the
    hidden --duration-seconds), and a used prefix is refused as etcdctl
    refuses it. Not run with the real etcdctl (its run takes 60 s)."""
    s = server_factory()
    p = run(s.client_url, ["check", "perf", "--duration-seconds=2"], timeout=60)
    lines = p.stdout.replace("\r", "\n").splitlines()
    assert p.returncode == 0, (p.stdout, p.stderr)
    assert lines[-5].strip() == "2 / 2  100.00% 0m2s"
    assert re.match(r"^PASS: Throughput is \d+ writes/s$", lines[-4])
    assert re.match(r"^PASS: Slowest request took \d+\.\d{6}s$", lines[-3])
    assert re.match(r"^PASS: Stddev is \d+\.\d{6}s$", lines[-2])
    assert lines[-1] == "PASS"
    # the keys were removed afterwards
    assert run(s.client_url, ["get", "/etcdctl-check-perf/", "--prefix"]).stdout == ""
    run(s.client_url, ["put", "/etcdctl-check-perf/x", "y"])
    p = run(s.client_url, ["check", "perf"])
    assert p.returncode == 3
    assert p.stderr == ('Error: prefix "/etcdctl-check-perf/" has keys. Delete with etcdctl '
                        'del --prefix /etcdctl-check-perf/ first\n')
