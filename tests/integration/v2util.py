"""Helpers to spell etcd v2 JSON bodies byte-exactly, and a watch thread.

etcd writes v2 bodies with Go's encoding/json: fixed field order, no
spaces, HTML-sensitive characters escaped as \\u003c etc., and (for most
responses) a trailing newline.  The builders below produce exactly that,
so tests can compare whole bodies instead of a few fields.
"""

import re
import threading

import requests

import cluster

EXPIRATION_RE = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z"


def go_str(s):
    """A JSON string literal as Go's encoding/json writes it."""
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif o < 0x20 or ch in "<>&" or o in (0x2028, 0x2029):
            out.append("\\u%04x" % o)
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def fnode(key, value, mi, ci=None, extra=""):
    """A file node. extra is spliced in after value (expiration/ttl)."""
    ci = mi if ci is None else ci
    v = "" if value is None else ',"value":' + go_str(value)
    return '{"key":%s%s%s,"modifiedIndex":%d,"createdIndex":%d}' % (
        go_str(key), v, extra, mi, ci)


def dnode(key, mi, ci=None, nodes=None, extra=""):
    """A directory node; nodes is a list of already-built node strings."""
    ci = mi if ci is None else ci
    n = "" if nodes is None else ',"nodes":[' + ",".join(nodes) + "]"
    return '{"key":%s,"dir":true%s%s,"modifiedIndex":%d,"createdIndex":%d}' \
        % (go_str(key), extra, n, mi, ci)


def event(action, node=None, prev=None):
    """A whole v2 event body including Go's trailing newline."""
    s = '{"action":%s' % go_str(action)
    if node is not None:
        s += ',"node":' + node
    if prev is not None:
        s += ',"prevNode":' + prev
    return s + "}\n"


def error(code, message, cause, index, newline=True):
    """A v2 error body; cause None means the field is absent."""
    c = "" if cause is None else ',"cause":' + go_str(cause)
    return '{"errorCode":%d,"message":%s%s,"index":%d}%s' % (
        code, go_str(message), c, index, "\n" if newline else "")


def idx(r):
    """X-Etcd-Index of a response as an int."""
    return int(r.headers["X-Etcd-Index"])


def ttl_extra(body, ttl):
    """Check a node's expiration format in body and return the
    ',"expiration":"...","ttl":N' fragment it carries."""
    m = re.search(r',"expiration":"(%s)","ttl":(\d+)' % EXPIRATION_RE, body)
    assert m, "no expiration/ttl in %r" % body
    assert int(m.group(3)) == ttl, body
    return m.group(0)


class Watcher:
    """A GET ?wait=true running in a thread; result() joins it."""

    def __init__(self, server, path, params=None, timeout=10.0):
        self.url = server.url(path)
        self.params = dict(params or {})
        self.params.setdefault("wait", "true")
        self.timeout = timeout
        self.response = None
        self.exc = None
        self.started = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            with requests.Session() as s:
                self.started.set()
                self.response = s.get(self.url, params=self.params,
                                      timeout=self.timeout)
        except Exception as e:
            self.exc = e
            self.started.set()

    def result(self, timeout=None):
        self.thread.join(self.timeout + 1 if timeout is None else timeout)
        assert not self.thread.is_alive(), "watch did not return"
        if self.exc:
            raise self.exc
        return self.response


def watcher_count(server):
    """The "watchers" counter of /v2/stats/store."""
    return server.get("/v2/stats/store").json()["watchers"]


def wait_for_watchers(server, n, timeout=5.0):
    """Wait until /v2/stats/store reports at least n watchers, so a write
    made next is guaranteed to be seen by a plain ?wait=true.  Tests that
    can use waitIndex instead do so: it does not race at all."""
    return cluster.wait_until(
        lambda: watcher_count(server) >= n,
        timeout, "%d watcher(s) registered" % n)
