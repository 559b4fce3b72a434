"""Debian's etcdctl (ETCDCTL_API=2) against the server: stdout, stderr
and exit codes as measured with etcd 3.4.23.  etcdctl exits 4 on a
cluster error (with "Error:  <code>: <message> (<cause>) [<index>]" on
stderr) and 1 on other errors."""

import json
import os
import subprocess

import pytest

import cluster
from v2util import idx

CTL_TIMEOUT = 20


@pytest.fixture
def ctl(server):
    """ctl(*args) -> CompletedProcess with text stdout/stderr."""
    env = dict(os.environ, ETCDCTL_API="2")

    def run(*args, timeout=CTL_TIMEOUT):
        return subprocess.run(
            [cluster.ETCDCTL_BIN, "--endpoints", server.client_url]
            + list(args), env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            timeout=timeout)
    run.env = env
    return run


def ok(p, stdout):
    assert (p.returncode, p.stdout, p.stderr) == (0, stdout, ""), p


def fails(p, code, message, cause, index=None):
    assert p.returncode == 4, p
    assert p.stdout == ""
    prefix = "Error:  %d: %s (%s) [" % (code, message, cause)
    assert p.stderr.startswith(prefix), p.stderr
    if index is not None:
        assert p.stderr == prefix + "%d]\n" % index


def test_set_get(ctl, kp):
    k = kp + "/testkey"
    ok(ctl("set", k, "Hello world"), "Hello world\n")
    ok(ctl("get", k), "Hello world\n")


def test_get_missing(ctl, server, kp):
    server.put("/v2/keys" + kp + "/x", data={"value": "1"})
    i = server.index()
    fails(ctl("get", kp + "/none"), 100, "Key not found", kp + "/none", i)


def test_get_directory(ctl, server, kp):
    server.put("/v2/keys" + kp + "/d", data={"dir": "true"})
    p = ctl("get", kp + "/d")
    assert (p.returncode, p.stdout, p.stderr) == (
        1, "", "%s/d: is a directory\n" % kp)


def test_update(ctl, server, kp):
    k = kp + "/k"
    ctl("set", k, "Hello world")
    ok(ctl("update", k, "Hello"), "Hello\n")
    assert server.get("/v2/keys" + k).json()["node"]["value"] == "Hello"
    fails(ctl("update", kp + "/none", "v"), 100, "Key not found",
          kp + "/none")


def test_update_ttl(ctl, server, kp):
    k = kp + "/k"
    ctl("set", k, "v")
    ok(ctl("update", "--ttl", "500", k, "v2"), "v2\n")
    assert 498 <= server.get("/v2/keys" + k).json()["node"]["ttl"] <= 500


def test_mk(ctl, server, kp):
    k = kp + "/k"
    ok(ctl("mk", k, "Hello world"), "Hello world\n")
    fails(ctl("mk", k, "again"), 105, "Key already exists", k,
          server.index())


def test_mkdir_rmdir(ctl, server, kp):
    d = kp + "/dir2"
    ok(ctl("mkdir", d), "")
    assert server.get("/v2/keys" + d).json()["node"]["dir"] is True
    fails(ctl("mkdir", d), 105, "Key already exists", d, server.index())
    ok(ctl("rmdir", d), "")
    assert server.get("/v2/keys" + d).status_code == 404
    fails(ctl("rmdir", d), 100, "Key not found", d)


def test_rmdir_not_empty(ctl, server, kp):
    d = kp + "/d"
    server.put("/v2/keys" + d + "/a", data={"value": "1"})
    fails(ctl("rmdir", d), 108, "Directory not empty", d, server.index())


def test_rm_variants(ctl, server, kp):
    d = kp + "/d"
    server.put("/v2/keys" + d + "/a", data={"value": "1"})
    i = server.index()
    fails(ctl("rm", d), 102, "Not a file", d, i)
    fails(ctl("rm", "--dir", d), 108, "Directory not empty", d, i)
    ok(ctl("rm", "--recursive", d), "")
    assert server.get("/v2/keys" + d).status_code == 404
    server.put("/v2/keys" + d, data={"dir": "true"})
    ok(ctl("rm", "--dir", d), "")
    assert server.get("/v2/keys" + d).status_code == 404


def test_rm_with_value_and_index(ctl, server, kp):
    k = kp + "/k"
    i = idx(server.put("/v2/keys" + k, data={"value": "upd"}))
    fails(ctl("rm", "--with-value", "nope", k), 101, "Compare failed",
          "[nope != upd]", i)
    fails(ctl("rm", "--with-index", "1", k), 101, "Compare failed",
          "[1 != %d]" % i, i)
    ok(ctl("rm", "--with-value", "upd", k), "\n")
    i = idx(server.put("/v2/keys" + k, data={"value": "again"}))
    ok(ctl("rm", "--with-index", str(i), k), "\n")
    assert server.get("/v2/keys" + k).status_code == 404


def test_ls(ctl, server, kp):
    d = kp + "/c"
    for key in ("/d/a", "/d/sub/b", "/z"):
        server.put("/v2/keys" + d + key, data={"value": "v"})
    ok(ctl("ls", d, "--recursive", "--sort"),
       "".join("%s%s\n" % (d, s) for s in
               ("/d", "/d/a", "/d/sub", "/d/sub/b", "/z")))
    ok(ctl("ls", "--sort", "-p", d), "%s/d/\n%s/z\n" % (d, d))
    p = ctl("ls", d)
    assert p.returncode == 0
    assert sorted(p.stdout.splitlines()) == [d + "/d", d + "/z"]
    fails(ctl("ls", d + "/none"), 100, "Key not found", d + "/none")


def test_set_ttl(ctl, server, kp):
    k = kp + "/t"
    ok(ctl("set", "--ttl", "300", k, "tv"), "tv\n")
    n = server.get("/v2/keys" + k).json()["node"]
    assert 298 <= n["ttl"] <= 300
    p = ctl("-o", "extended", "get", k)
    assert p.returncode == 0
    lines = p.stdout.split("\n")
    assert lines[0] == "Key: " + k
    assert lines[1] == "Created-Index: %d" % n["createdIndex"]
    assert lines[2] == "Modified-Index: %d" % n["modifiedIndex"]
    assert lines[3].startswith("TTL: ") and 297 <= int(lines[3][5:]) <= 300
    assert lines[4].startswith("Index: ")
    assert lines[5:] == ["", "tv", ""]


def test_swap_with_value(ctl, server, kp):
    k = kp + "/s"
    i = idx(server.put("/v2/keys" + k, data={"value": "v1"}))
    fails(ctl("set", "--swap-with-value", "v0", k, "v2"), 101,
          "Compare failed", "[v0 != v1]", i)
    ok(ctl("set", "--swap-with-value", "v1", k, "v2"), "v2\n")
    assert server.get("/v2/keys" + k).json()["node"]["value"] == "v2"


def test_swap_with_index(ctl, server, kp):
    k = kp + "/s"
    i = idx(server.put("/v2/keys" + k, data={"value": "v1"}))
    fails(ctl("set", "--swap-with-index", "1", k, "v2"), 101,
          "Compare failed", "[1 != %d]" % i, i)
    ok(ctl("set", "--swap-with-index", str(i), k, "v2"), "v2\n")


def test_output_json(ctl, server, kp):
    k = kp + "/j"
    p = ctl("-o", "json", "set", k, "v")
    assert p.returncode == 0
    i = json.loads(p.stdout)["node"]["createdIndex"]
    assert p.stdout == (
        '{"action":"set","node":{"key":"%s","value":"v","nodes":null,'
        '"createdIndex":%d,"modifiedIndex":%d},"prevNode":null}\n'
        % (k, i, i))
    p = ctl("-o", "json", "rm", k)
    assert p.stdout == (
        '{"action":"delete","node":{"key":"%s","value":"","nodes":null,'
        '"createdIndex":%d,"modifiedIndex":%d},"prevNode":{"key":"%s",'
        '"value":"v","nodes":null,"createdIndex":%d,"modifiedIndex":%d}}\n'
        % (k, i, i + 1, k, i, i))
    p = ctl("-o", "json", "mk", k, "m")
    assert json.loads(p.stdout)["action"] == "create"


def test_output_extended(ctl, server, kp):
    k = kp + "/x"
    p = ctl("-o", "extended", "set", k, "v")
    assert p.returncode == 0
    i = server.get("/v2/keys" + k).json()["node"]["modifiedIndex"]
    assert p.stdout == ("Key: %s\nCreated-Index: %d\nModified-Index: %d\n"
                        "TTL: 0\nIndex: %d\n\nv\n" % (k, i, i, i))


def _watch(ctl, server, *args):
    return subprocess.Popen(
        [cluster.ETCDCTL_BIN, "--endpoints", server.client_url, "watch"]
        + list(args), env=ctl.env, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_watch(ctl, server, kp):
    k = kp + "/w"
    i = server.index()
    # --after-index makes the watch independent of when it registers
    p = _watch(ctl, server, "--after-index", str(i), k)
    try:
        server.put("/v2/keys" + kp + "/other", data={"value": "no"})
        server.put("/v2/keys" + k, data={"value": "new"})
        out, err = p.communicate(timeout=CTL_TIMEOUT)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(5)
    assert (p.returncode, out, err) == (0, "new\n", "")


def test_watch_recursive(ctl, server, kp):
    d = kp + "/d"
    i = idx(server.put("/v2/keys" + d, data={"dir": "true"}))
    p = _watch(ctl, server, "--recursive", "--after-index", str(i), d)
    try:
        server.put("/v2/keys" + d + "/child", data={"value": "c"})
        out, err = p.communicate(timeout=CTL_TIMEOUT)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(5)
    assert (p.returncode, out) == (0, "[set] %s/child\nc\n" % d)
