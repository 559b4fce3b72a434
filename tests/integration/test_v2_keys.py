"""The /v2/keys API, byte for byte as etcd 3.4 (--enable-v2) answers.

Every expectation here was measured against Debian's etcd 3.4.23.  Bodies
are compared whole (see v2util for the exact spelling); indexes are taken
from each response's X-Etcd-Index so the tests do not depend on what other
tests in the module wrote before.
"""

import json
import re
import time

import pytest
import requests

import cluster
from v2util import (Watcher, dnode, error, event, fnode, idx, ttl_extra,
                    wait_for_watchers, watcher_count)


# -- the curl commands from the user's notes -------------------------------

def test_notes_put_get_delete(server, kp):
    k = kp + "/message"
    r = server.put("/v2/keys" + k, data={"value": "Hello world"})
    assert r.status_code == 201
    i = idx(r)
    assert r.text == event("set", fnode(k, "Hello world", i))
    assert r.headers["Content-Type"] == "application/json"

    r = server.get("/v2/keys" + k)
    assert r.status_code == 200
    assert r.text == event("get", fnode(k, "Hello world", i))

    r = server.delete("/v2/keys" + k)
    assert r.status_code == 200
    d = idx(r)
    assert d == i + 1
    assert r.text == event("delete", fnode(k, None, d, i),
                           fnode(k, "Hello world", i))

    r = server.get("/v2/keys" + k)
    assert r.status_code == 404
    assert r.text == error(100, "Key not found", k, d)


def test_notes_dir_with_ttl_via_post(server, kp):
    # `curl .../v2/keys/dir -d ttl=30 -d dir=true` is a POST: etcd creates
    # an in-order directory below /dir.
    k = kp + "/dir"
    r = server.post("/v2/keys" + k, data={"ttl": "30", "dir": "true"})
    assert r.status_code == 201
    i = idx(r)
    child = "%s/%020d" % (k, i)
    extra = ttl_extra(r.text, 30)
    assert r.text == event("create", dnode(child, i, extra=extra))
    # `curl .../v2/keys/dir/message -XPUT -d value="Hello world"`
    r = server.put("/v2/keys" + k + "/message", data={"value": "Hello world"})
    assert r.status_code == 201
    assert r.text == event("set", fnode(k + "/message", "Hello world", i + 1))


def test_dir_with_ttl_via_put(server, kp):
    k = kp + "/dir"
    r = server.put("/v2/keys" + k, data={"ttl": "30", "dir": "true"})
    assert r.status_code == 201
    i = idx(r)
    extra = ttl_extra(r.text, 30)
    assert r.text == event("set", dnode(k, i, extra=extra))
    r = server.put("/v2/keys" + k + "/message", data={"value": "Hello world"})
    assert r.status_code == 201
    r = server.get("/v2/keys" + k)
    assert r.status_code == 200
    body = r.text
    m = re.search(r'"ttl":(\d+)', body)
    assert m and 28 <= int(m.group(1)) <= 30
    got_extra = re.search(r',"expiration":"[^"]+","ttl":\d+', body).group(0)
    assert body == event("get", dnode(
        k, i, nodes=[fnode(k + "/message", "Hello world", i + 1)],
        extra=got_extra))


def test_notes_queue_in_order(server, kp):
    q = kp + "/queue"
    r1 = server.post("/v2/keys" + q, data={"value": "Job1"})
    r2 = server.post("/v2/keys" + q, data={"value": "Job2"})
    assert (r1.status_code, r2.status_code) == (201, 201)
    i1, i2 = idx(r1), idx(r2)
    k1, k2 = "%s/%020d" % (q, i1), "%s/%020d" % (q, i2)
    assert len(k1.rsplit("/", 1)[1]) == 20
    assert r1.text == event("create", fnode(k1, "Job1", i1))
    assert r2.text == event("create", fnode(k2, "Job2", i2))
    r = server.get("/v2/keys" + q,
                   params={"recursive": "true", "sorted": "true"})
    assert r.status_code == 200
    assert r.text == event("get", dnode(
        q, i1, nodes=[fnode(k1, "Job1", i1), fnode(k2, "Job2", i2)]))


def test_notes_wait(server, kp):
    k = kp + "/message"
    base = watcher_count(server)
    w = Watcher(server, "/v2/keys" + k)
    wait_for_watchers(server, base + 1)
    r = server.put("/v2/keys" + k, data={"value": "Hello world"})
    i = idx(r)
    got = w.result()
    assert got.status_code == 200
    assert got.text == event("set", fnode(k, "Hello world", i))
    assert got.headers["Content-Type"] == "application/json"
    # X-Etcd-Index of a watch is the index when the watch started.
    assert int(got.headers["X-Etcd-Index"]) == i - 1


def test_notes_prev_exist_false(server, kp):
    k = kp + "/foo"
    server.put("/v2/keys" + k, data={"value": "one"})
    r = server.put("/v2/keys" + k, params={"prevExist": "false"},
                   data={"value": "two"})
    assert r.status_code == 412
    assert r.text == error(105, "Key already exists", k, idx(r))


def test_notes_prev_value_mismatch(server, kp):
    k = kp + "/foo"
    i = idx(server.put("/v2/keys" + k, data={"value": "one"}))
    r = server.put("/v2/keys" + k, params={"prevValue": "three"},
                   data={"value": "two"})
    assert r.status_code == 412
    assert r.text == error(101, "Compare failed", "[three != one]", i)
    assert idx(r) == i
    assert server.get("/v2/keys" + k).json()["node"]["value"] == "one"


# -- methods and plain reads/writes -----------------------------------------

def test_head_matches_get_without_body(server, kp):
    k = kp + "/k"
    server.put("/v2/keys" + k, data={"value": "v"})
    g = server.get("/v2/keys" + k)
    h = server.req("HEAD", "/v2/keys" + k)
    assert h.status_code == 200 and h.content == b""
    for name in ("Content-Type", "Content-Length", "X-Etcd-Index",
                 "X-Etcd-Cluster-Id"):
        assert h.headers[name] == g.headers[name]
    h = server.req("HEAD", "/v2/keys" + kp + "/none")
    assert h.status_code == 404 and h.content == b""


def test_set_replaces_and_reports_prev_node(server, kp):
    k = kp + "/k"
    i = idx(server.put("/v2/keys" + k, data={"value": "a"}))
    r = server.put("/v2/keys" + k, data={"value": "b"})
    assert r.status_code == 200
    assert r.text == event("set", fnode(k, "b", i + 1), fnode(k, "a", i))


def test_put_without_value_is_empty_string(server, kp):
    k = kp + "/k"
    r = server.put("/v2/keys" + k)
    assert r.status_code == 201
    assert r.text == event("set", fnode(k, "", idx(r)))


def test_value_in_query_string(server, kp):
    k = kp + "/k"
    r = server.put("/v2/keys" + k, params={"value": "q"})
    assert r.status_code == 201
    assert r.text == event("set", fnode(k, "q", idx(r)))


def test_json_escaping_like_go(server, kp):
    k = kp + "/esc"
    v = '<a&b> "q" \\ \u00e9 \n\t\x01 \u2028'
    r = server.put("/v2/keys" + k, data={"value": v})
    assert r.status_code == 201
    assert r.text == event("set", fnode(k, v, idx(r)))
    assert "\\u003ca\\u0026b\\u003e" in r.text and "\u00e9" in r.text
    assert server.get("/v2/keys" + k).json()["node"]["value"] == v


def test_key_with_escaped_space(server, kp):
    r = server.put("/v2/keys" + kp + "/sp%20ace", data={"value": "1"})
    assert r.status_code == 201
    assert r.text == event("set", fnode(kp + "/sp ace", "1", idx(r)))


def test_get_directory_listing_and_recursive(server, kp):
    d = kp + "/d"
    ia = idx(server.put("/v2/keys" + d + "/a", data={"value": "1"}))
    ib = idx(server.put("/v2/keys" + d + "/sub/b", data={"value": "2"}))
    r = server.get("/v2/keys" + d, params={"sorted": "true"})
    assert r.text == event("get", dnode(d, ia, nodes=[
        fnode(d + "/a", "1", ia), dnode(d + "/sub", ib)]))
    r = server.get("/v2/keys" + d,
                   params={"sorted": "true", "recursive": "true"})
    assert r.text == event("get", dnode(d, ia, nodes=[
        fnode(d + "/a", "1", ia),
        dnode(d + "/sub", ib, nodes=[fnode(d + "/sub/b", "2", ib)])]))


def test_sorted_orders_keys(server, kp):
    d = kp + "/s"
    for name in ("c", "a", "e", "b", "d"):
        server.put("/v2/keys%s/%s" % (d, name), data={"value": name})
    r = server.get("/v2/keys" + d, params={"sorted": "true"})
    keys = [n["key"] for n in r.json()["node"]["nodes"]]
    assert keys == [d + "/" + c for c in "abcde"]
    r = server.get("/v2/keys" + d)
    assert sorted(n["key"] for n in r.json()["node"]["nodes"]) == keys


def test_empty_directory_has_no_nodes_field(server, kp):
    d = kp + "/empty"
    i = idx(server.put("/v2/keys" + d, data={"dir": "true"}))
    r = server.get("/v2/keys" + d)
    assert r.text == event("get", dnode(d, i))


def test_root_listing(server, kp):
    server.put("/v2/keys" + kp + "/x", data={"value": "1"})
    r = server.get("/v2/keys/")
    assert r.status_code == 200
    assert r.text.startswith('{"action":"get","node":{"dir":true,"nodes":[')
    assert '"key":"/it"' in r.text
    r2 = server.get("/v2/keys")
    assert r2.status_code == 200 and r2.json()["node"]["dir"] is True


def test_quorum_get(server, kp):
    k = kp + "/k"
    i = idx(server.put("/v2/keys" + k, data={"value": "q"}))
    r = server.get("/v2/keys" + k, params={"quorum": "true"})
    assert r.status_code == 200
    assert r.text == event("get", fnode(k, "q", i))


# -- hidden keys -------------------------------------------------------------

def test_hidden_keys(server, kp):
    d = kp + "/h"
    iv = idx(server.put("/v2/keys" + d + "/visible", data={"value": "v"}))
    ih = idx(server.put("/v2/keys" + d + "/_hidden", data={"value": "h"}))
    r = server.get("/v2/keys" + d, params={"recursive": "true"})
    assert r.text == event("get", dnode(d, iv, nodes=[
        fnode(d + "/visible", "v", iv)]))
    r = server.get("/v2/keys" + d + "/_hidden")
    assert r.text == event("get", fnode(d + "/_hidden", "h", ih))


# -- directories ---------------------------------------------------------------

def test_dir_create_and_delete(server, kp):
    d = kp + "/d"
    r = server.put("/v2/keys" + d, data={"dir": "true"})
    assert r.status_code == 201
    i = idx(r)
    assert r.text == event("set", dnode(d, i))
    # a directory is not a file: plain DELETE and PUT value refuse it
    r = server.delete("/v2/keys" + d)
    assert r.status_code == 403
    assert r.text == error(102, "Not a file", d, i)
    r = server.put("/v2/keys" + d, data={"value": "x"})
    assert r.status_code == 403
    assert r.text == error(102, "Not a file", d, i)
    r = server.delete("/v2/keys" + d, params={"dir": "true"})
    assert r.status_code == 200
    assert r.text == event("delete", dnode(d, i + 1, i), dnode(d, i))


def test_dir_not_empty_and_recursive_delete(server, kp):
    d = kp + "/d"
    i = idx(server.put("/v2/keys" + d + "/a", data={"value": "1"}))
    r = server.delete("/v2/keys" + d, params={"dir": "true"})
    assert r.status_code == 403
    assert r.text == error(108, "Directory not empty", d, i)
    r = server.delete("/v2/keys" + d, params={"recursive": "true"})
    assert r.status_code == 200
    assert r.text == event("delete", dnode(d, i + 1, i), dnode(d, i))
    r = server.get("/v2/keys" + d + "/a")
    assert r.status_code == 404


def test_put_dir_on_existing_dir_fails(server, kp):
    d = kp + "/d"
    i = idx(server.put("/v2/keys" + d, data={"dir": "true"}))
    r = server.put("/v2/keys" + d, data={"dir": "true"})
    assert r.status_code == 403
    assert r.text == error(102, "Not a file", d, i)
    r = server.put("/v2/keys" + d, data={"dir": "true", "prevExist": "false"})
    assert r.status_code == 412
    assert r.text == error(105, "Key already exists", d, i)


def test_put_dir_replaces_file(server, kp):
    k = kp + "/k"
    i = idx(server.put("/v2/keys" + k, data={"value": "v"}))
    r = server.put("/v2/keys" + k, data={"dir": "true"})
    assert r.status_code == 200
    assert r.text == event("set", dnode(k, i + 1), fnode(k, "v", i))


def test_dir_ttl_update_with_prev_exist(server, kp):
    d = kp + "/d"
    r = server.put("/v2/keys" + d, data={"dir": "true", "ttl": "50"})
    i = idx(r)
    e50 = ttl_extra(r.text, 50)
    r = server.put("/v2/keys" + d, data={"dir": "true", "ttl": "60",
                                         "prevExist": "true"})
    assert r.status_code == 200
    e60 = ttl_extra(r.text, 60)
    assert r.text == event("update", dnode(d, i + 1, i, extra=e60),
                           dnode(d, i, extra=e50))


def test_file_below_file_is_not_a_directory(server, kp):
    k = kp + "/f"
    i = idx(server.put("/v2/keys" + k, data={"value": "1"}))
    for method in ("PUT", "GET"):
        r = server.req(method, "/v2/keys" + k + "/below",
                       data={"value": "x"} if method == "PUT" else None)
        assert r.status_code == 400
        assert r.text == error(104, "Not a directory", k, i)
    r = server.post("/v2/keys" + k, data={"value": "x"})
    assert r.status_code == 400
    assert r.text == error(104, "Not a directory", k, i)


def test_root_is_read_only(server):
    for method, params in (("PUT", {"value": "v"}), ("DELETE", {}),
                           ("DELETE", {"recursive": "true"}),
                           ("DELETE", {"dir": "true"})):
        r = server.req(method, "/v2/keys/", params=params)
        assert r.status_code == 400
        assert r.text == error(107, "Root is read only", "/", idx(r))


# -- atomic compare-and-swap / compare-and-delete ---------------------------

def test_prev_exist_true_updates(server, kp):
    k = kp + "/k"
    i = idx(server.put("/v2/keys" + k, data={"value": "a"}))
    r = server.put("/v2/keys" + k, data={"value": "b", "prevExist": "true"})
    assert r.status_code == 200
    assert r.text == event("update", fnode(k, "b", i + 1, i),
                           fnode(k, "a", i))
    r = server.put("/v2/keys" + kp + "/missing",
                   data={"value": "b", "prevExist": "true"})
    assert r.status_code == 404
    assert r.text == error(100, "Key not found", kp + "/missing", i + 1)


def test_prev_exist_false_creates(server, kp):
    k = kp + "/k"
    r = server.put("/v2/keys" + k, data={"value": "a", "prevExist": "false"})
    assert r.status_code == 201
    assert r.text == event("create", fnode(k, "a", idx(r)))


def test_prev_value_swap(server, kp):
    k = kp + "/k"
    i = idx(server.put("/v2/keys" + k, data={"value": "one"}))
    r = server.put("/v2/keys" + k, data={"value": "two", "prevValue": "one"})
    assert r.status_code == 200
    assert r.text == event("compareAndSwap", fnode(k, "two", i + 1, i),
                           fnode(k, "one", i))


def test_prev_index_swap(server, kp):
    k = kp + "/k"
    i = idx(server.put("/v2/keys" + k, data={"value": "one"}))
    r = server.put("/v2/keys" + k, data={"value": "two", "prevIndex": "1"})
    assert r.status_code == 412
    assert r.text == error(101, "Compare failed", "[1 != %d]" % i, i)
    r = server.put("/v2/keys" + k, data={"value": "two", "prevIndex": "1",
                                         "prevValue": "x"})
    assert r.status_code == 412
    assert r.text == error(101, "Compare failed",
                           "[x != one] [1 != %d]" % i, i)
    r = server.put("/v2/keys" + k, data={"value": "two",
                                         "prevIndex": str(i)})
    assert r.status_code == 200
    assert r.text == event("compareAndSwap", fnode(k, "two", i + 1, i),
                           fnode(k, "one", i))


def test_prev_index_zero_is_plain_set(server, kp):
    k = kp + "/k"
    i = idx(server.put("/v2/keys" + k, data={"value": "a"}))
    r = server.put("/v2/keys" + k, data={"value": "b", "prevIndex": "0"})
    assert r.status_code == 200
    assert r.text == event("set", fnode(k, "b", i + 1), fnode(k, "a", i))


def test_compare_and_swap_on_missing_key(server, kp):
    server.put("/v2/keys" + kp + "/sibling", data={"value": "s"})
    k = kp + "/missing"
    r = server.put("/v2/keys" + k, data={"value": "b", "prevValue": "a"})
    assert r.status_code == 404
    assert r.text == error(100, "Key not found", k, idx(r))


def test_compare_and_delete(server, kp):
    k = kp + "/k"
    i = idx(server.put("/v2/keys" + k, data={"value": "four"}))
    r = server.delete("/v2/keys" + k, params={"prevValue": "zz"})
    assert r.status_code == 412
    assert r.text == error(101, "Compare failed", "[zz != four]", i)
    r = server.delete("/v2/keys" + k, params={"prevIndex": "1"})
    assert r.status_code == 412
    assert r.text == error(101, "Compare failed", "[1 != %d]" % i, i)
    r = server.delete("/v2/keys" + k, params={"prevValue": "four"})
    assert r.status_code == 200
    assert r.text == event("compareAndDelete", fnode(k, None, i + 1, i),
                           fnode(k, "four", i))
    i = idx(server.put("/v2/keys" + k, data={"value": "again"}))
    r = server.delete("/v2/keys" + k, params={"prevIndex": str(i)})
    assert r.status_code == 200
    assert r.text == event("compareAndDelete", fnode(k, None, i + 1, i),
                           fnode(k, "again", i))


def test_no_value_on_success(server, kp):
    k = kp + "/k"
    r = server.put("/v2/keys" + k, data={"value": "a",
                                         "noValueOnSuccess": "true"})
    assert r.status_code == 201
    assert r.text == '{"action":"set"}\n'
    r = server.put("/v2/keys" + k, data={"value": "b", "prevValue": "a",
                                         "noValueOnSuccess": "true"})
    assert r.status_code == 200
    assert r.text == '{"action":"compareAndSwap"}\n'
    r = server.put("/v2/keys" + k, data={"value": "c", "prevExist": "true",
                                         "noValueOnSuccess": "true"})
    assert r.text == '{"action":"update"}\n'
    r = server.post("/v2/keys" + kp + "/q", data={"value": "c",
                                                  "noValueOnSuccess": "true"})
    assert r.status_code == 201
    assert r.text == '{"action":"create"}\n'
    # deletes still carry their nodes
    r = server.delete("/v2/keys" + k, params={"noValueOnSuccess": "true"})
    assert r.json()["prevNode"]["value"] == "c"
    assert server.get("/v2/keys" + kp + "/k").status_code == 404


# -- TTL ---------------------------------------------------------------------

def test_ttl_set_and_countdown(server, kp):
    k = kp + "/t"
    r = server.put("/v2/keys" + k, data={"value": "a", "ttl": "100"})
    assert r.status_code == 201
    i = idx(r)
    extra = ttl_extra(r.text, 100)
    assert r.text == event("set", fnode(k, "a", i, extra=extra))
    r = server.get("/v2/keys" + k)
    ttl = r.json()["node"]["ttl"]
    assert 98 <= ttl <= 100
    assert r.json()["node"]["expiration"] == json.loads(
        "{" + extra[1:] + "}")["expiration"]


def test_ttl_empty_clears_ttl(server, kp):
    k = kp + "/t"
    r = server.put("/v2/keys" + k, data={"value": "a", "ttl": "100"})
    i = idx(r)
    e = ttl_extra(r.text, 100)
    r = server.put("/v2/keys" + k, data={"value": "b", "ttl": "",
                                         "prevExist": "true"})
    assert r.status_code == 200
    assert r.text == event("update", fnode(k, "b", i + 1, i),
                           fnode(k, "a", i, extra=e))
    r = server.get("/v2/keys" + k)
    assert "ttl" not in r.json()["node"]
    # plain set with an empty ttl also drops it
    r = server.put("/v2/keys" + k, data={"value": "c", "ttl": "100"})
    e = ttl_extra(r.text, 100)
    r = server.put("/v2/keys" + k, data={"value": "d", "ttl": ""})
    assert r.status_code == 200
    assert r.text == event("set", fnode(k, "d", i + 3),
                           fnode(k, "c", i + 2, extra=e))


def test_ttl_clear_keeps_nothing_without_value(server, kp):
    # prevExist=true with only ttl= (the notes' "cancel ttl"): the value
    # becomes empty because none was given.
    k = kp + "/t"
    r = server.put("/v2/keys" + k, data={"value": "a", "ttl": "100"})
    i = idx(r)
    e = ttl_extra(r.text, 100)
    r = server.put("/v2/keys" + k, data={"ttl": "", "prevExist": "true"})
    assert r.status_code == 200
    assert r.text == event("update", fnode(k, "", i + 1, i),
                           fnode(k, "a", i, extra=e))


def test_refresh_with_prev_exist(server, kp):
    k = kp + "/t"
    r = server.put("/v2/keys" + k, data={"value": "a", "ttl": "100"})
    i = idx(r)
    e100 = ttl_extra(r.text, 100)
    r = server.put("/v2/keys" + k, data={"ttl": "50", "refresh": "true",
                                         "prevExist": "true"})
    assert r.status_code == 200
    e50 = ttl_extra(r.text, 50)
    assert r.text == event("update", fnode(k, "a", i + 1, i, extra=e50),
                           fnode(k, "a", i, extra=e100))


def test_refresh_without_prev_exist(server, kp):
    # etcd answers a bare refresh as a "set" that re-creates the node.
    k = kp + "/t"
    r = server.put("/v2/keys" + k, data={"value": "a", "ttl": "100"})
    i = idx(r)
    e100 = ttl_extra(r.text, 100)
    r = server.put("/v2/keys" + k, data={"ttl": "200", "refresh": "true"})
    assert r.status_code == 200
    e200 = ttl_extra(r.text, 200)
    assert r.text == event("set", fnode(k, "a", i + 1, extra=e200),
                           fnode(k, "a", i, extra=e100))


def test_refresh_with_prev_value(server, kp):
    k = kp + "/t"
    r = server.put("/v2/keys" + k, data={"value": "a", "ttl": "100"})
    i = idx(r)
    e100 = ttl_extra(r.text, 100)
    r = server.put("/v2/keys" + k, data={"ttl": "50", "refresh": "true",
                                         "prevValue": "b"})
    assert r.status_code == 412
    assert r.text == error(101, "Compare failed", "[b != a]", i)
    r = server.put("/v2/keys" + k, data={"ttl": "50", "refresh": "true",
                                         "prevValue": "a"})
    assert r.status_code == 200
    e50 = ttl_extra(r.text, 50)
    assert r.text == event("compareAndSwap",
                           fnode(k, "a", i + 1, i, extra=e50),
                           fnode(k, "a", i, extra=e100))


def test_refresh_errors(server, kp):
    k = kp + "/t"
    server.put("/v2/keys" + k, data={"value": "a", "ttl": "100"})
    r = server.put("/v2/keys" + k, data={"refresh": "true"})
    assert r.status_code == 400
    assert r.text == error(212, "A TTL must be provided on refresh",
                           "No TTL value set", 0)
    assert r.headers["X-Etcd-Index"] == "0"
    r = server.put("/v2/keys" + k, data={"refresh": "true", "ttl": "5",
                                         "value": "q"})
    assert r.status_code == 400
    assert r.text == error(211, "Value provided on refresh",
                           "A value was provided on a refresh", 0)
    r = server.put("/v2/keys" + kp + "/none",
                   data={"refresh": "true", "ttl": "5"})
    assert r.status_code == 404
    assert r.text == error(100, "Key not found", kp + "/none", idx(r))
    d = kp + "/d"
    i = idx(server.put("/v2/keys" + d, data={"dir": "true", "ttl": "50"}))
    r = server.put("/v2/keys" + d, data={"dir": "true", "ttl": "60",
                                         "refresh": "true"})
    assert r.status_code == 403
    assert r.text == error(102, "Not a file", d, i)


def test_refresh_does_not_wake_watchers(server, kp):
    k = kp + "/t"
    i = idx(server.put("/v2/keys" + k, data={"value": "a", "ttl": "100"}))
    w = Watcher(server, "/v2/keys" + k, params={"waitIndex": str(i + 1)})
    r = server.put("/v2/keys" + k, data={"ttl": "50", "refresh": "true",
                                         "prevExist": "true"})
    assert r.status_code == 200
    time.sleep(0.2)
    assert w.thread.is_alive(), "refresh must not notify watchers"
    i = idx(server.put("/v2/keys" + k, data={"value": "real"}))
    got = w.result()
    assert got.json()["action"] == "set"
    assert got.json()["node"]["modifiedIndex"] == i


def test_key_ttl_expires(server, kp):
    k = kp + "/t"
    server.put("/v2/keys" + k, data={"value": "a", "ttl": "1"})
    assert server.get("/v2/keys" + k).status_code == 200
    cluster.wait_until(lambda: server.get("/v2/keys" + k).status_code == 404,
                       5, "key with ttl=1 to expire")


def test_dir_ttl_expiry_removes_children(server, kp):
    d = kp + "/d"
    r = server.put("/v2/keys" + d, data={"dir": "true", "ttl": "1"})
    assert r.status_code == 201
    server.put("/v2/keys" + d + "/a", data={"value": "1"})
    server.put("/v2/keys" + d + "/sub/b", data={"value": "2"})
    assert server.get("/v2/keys" + d + "/sub/b").status_code == 200
    cluster.wait_until(lambda: server.get("/v2/keys" + d).status_code == 404,
                       5, "dir with ttl=1 to expire")
    for k in ("/a", "/sub", "/sub/b"):
        r = server.get("/v2/keys" + d + k)
        assert r.status_code == 404
        assert r.json()["errorCode"] == 100


def test_expire_event_for_watcher(server, kp):
    k = kp + "/t"
    r = server.put("/v2/keys" + k, data={"value": "e", "ttl": "1"})
    i = idx(r)
    e = re.search(r',"expiration":"[^"]+"', r.text).group(0)
    got = Watcher(server, "/v2/keys" + k,
                  params={"waitIndex": str(i + 1)}).result()
    assert got.status_code == 200
    j = got.json()["node"]["modifiedIndex"]
    assert j > i
    assert got.text == event("expire", fnode(k, None, j, i),
                             fnode(k, "e", i, extra=e))


# -- watches -------------------------------------------------------------------

def test_wait_index_returns_history(server, kp):
    k = kp + "/k"
    i1 = idx(server.put("/v2/keys" + k, data={"value": "1"}))
    server.put("/v2/keys" + k, data={"value": "2"})
    r = server.get("/v2/keys" + k, params={"wait": "true",
                                           "waitIndex": str(i1)})
    assert r.status_code == 200
    assert r.text == event("set", fnode(k, "1", i1))
    assert idx(r) == i1 + 1
    r = server.get("/v2/keys" + k, params={"wait": "true",
                                           "waitIndex": str(i1 + 1)})
    assert r.text == event("set", fnode(k, "2", i1 + 1), fnode(k, "1", i1))


def test_wait_index_in_future_waits(server, kp):
    k = kp + "/k"
    i = server.index()
    w = Watcher(server, "/v2/keys" + k, params={"waitIndex": str(i + 2)})
    server.put("/v2/keys" + kp + "/other", data={"value": "x"})  # i+1
    j = idx(server.put("/v2/keys" + k, data={"value": "y"}))
    got = w.result()
    assert got.text == event("set", fnode(k, "y", j))
    assert j >= i + 2


def test_recursive_watch_sees_children(server, kp):
    d = kp + "/d"
    r = server.put("/v2/keys" + d, data={"dir": "true"})
    w = Watcher(server, "/v2/keys" + d,
                params={"recursive": "true", "waitIndex": str(idx(r) + 1)})
    i = idx(server.put("/v2/keys" + d + "/x/y", data={"value": "deep"}))
    assert w.result().text == event("set", fnode(d + "/x/y", "deep", i))


def test_watch_sees_delete(server, kp):
    k = kp + "/k"
    i = idx(server.put("/v2/keys" + k, data={"value": "v"}))
    w = Watcher(server, "/v2/keys" + k, params={"waitIndex": str(i + 1)})
    server.delete("/v2/keys" + k)
    assert w.result().text == event("delete", fnode(k, None, i + 1, i),
                                    fnode(k, "v", i))


def test_wait_index_outdated(server, kp):
    k = kp + "/many"
    start = server.index()
    sess = requests.Session()
    url = server.url("/v2/keys" + k)
    for n in range(1005):
        r = sess.put(url, data={"value": str(n)}, timeout=10)
        assert r.status_code in (200, 201)
    sess.close()
    r = server.get("/v2/keys" + k, params={"wait": "true",
                                           "waitIndex": str(start + 1)})
    assert r.status_code == 400
    cur = idx(r)
    assert cur >= start + 1005
    assert r.text == error(
        401, "The event in requested index is outdated and cleared",
        "the requested history has been cleared [%d/%d]" % (cur - 999,
                                                          start + 1), cur)
    # the newest 1000 events are still served
    r = server.get("/v2/keys" + k, params={"wait": "true",
                                           "waitIndex": str(cur - 999)})
    assert r.status_code == 200


def test_stream_several_events(server, kp):
    k = kp + "/s"
    start = server.index()
    r = server.get("/v2/keys" + k, params={"wait": "true", "stream": "true",
                                           "waitIndex": str(start + 1)},
                   stream=True, timeout=10)
    try:
        assert r.status_code == 200
        assert r.headers.get("Transfer-Encoding") == "chunked"
        lines = r.iter_lines(chunk_size=1)
        for n in range(3):
            i = idx(server.put("/v2/keys" + k, data={"value": str(n)}))
            line = next(lines)
            while not line:
                line = next(lines)
            prev = None if n == 0 else fnode(k, str(n - 1), i - 1)
            assert line.decode() + "\n" == event("set", fnode(k, str(n), i),
                                                 prev)
    finally:
        r.close()


def test_wait_only_with_get(server, kp):
    r = server.put("/v2/keys" + kp + "/k", params={"wait": "true"},
                   data={"value": "1"})
    assert r.status_code == 400
    assert r.text == error(209, "Invalid field",
                           '"wait" can only be used with GET requests', 0)


# -- error codes ---------------------------------------------------------------

FORM_ERRORS = [
    # (method, form, code, message, cause)
    ("PUT", {"value": "v", "ttl": "abc"}, 202,
     "The given TTL in POST form is not a number", 'invalid value for "ttl"'),
    ("PUT", {"value": "v", "ttl": "-1"}, 202,
     "The given TTL in POST form is not a number", 'invalid value for "ttl"'),
    ("PUT", {"value": "v", "prevIndex": "x"}, 203,
     "The given index in POST form is not a number",
     'invalid value for "prevIndex"'),
    ("PUT", {"value": "v", "prevIndex": "-1"}, 203,
     "The given index in POST form is not a number",
     'invalid value for "prevIndex"'),
    ("GET", {"wait": "true", "waitIndex": "x"}, 203,
     "The given index in POST form is not a number",
     'invalid value for "waitIndex"'),
    ("PUT", {"value": "v", "prevValue": ""}, 201,
     "PrevValue is Required in POST form", '"prevValue" cannot be empty'),
    ("PUT", {"value": "v", "prevExist": "maybe"}, 209, "Invalid field",
     "invalid value for prevExist"),
    ("PUT", {"value": "v", "refresh": "maybe"}, 209, "Invalid field",
     "invalid value for refresh"),
    ("PUT", {"value": "v", "dir": "maybe"}, 209, "Invalid field",
     'invalid value for "dir"'),
    ("PUT", {"value": "v", "noValueOnSuccess": "maybe"}, 209,
     "Invalid field", 'invalid value for "noValueOnSuccess"'),
    ("GET", {"recursive": "maybe"}, 209, "Invalid field",
     'invalid value for "recursive"'),
    ("GET", {"sorted": "maybe"}, 209, "Invalid field",
     'invalid value for "sorted"'),
    ("GET", {"wait": "maybe"}, 209, "Invalid field",
     'invalid value for "wait"'),
    ("GET", {"quorum": "maybe"}, 209, "Invalid field",
     'invalid value for "quorum"'),
    ("GET", {"stream": "maybe"}, 209, "Invalid field",
     'invalid value for "stream"'),
    ("DELETE", {"recursive": "maybe"}, 209, "Invalid field",
     'invalid value for "recursive"'),
]


@pytest.mark.parametrize("method,form,code,message,cause", FORM_ERRORS,
                         ids=["%s-%d-%s" % (m, c, "-".join(f))
                              for m, f, c, _, _ in FORM_ERRORS])
def test_form_errors(server, kp, method, form, code, message, cause):
    k = "/v2/keys" + kp + "/k"
    server.put(k, data={"value": "orig"})
    if method == "PUT":
        r = server.put(k, data=form)
    else:
        r = server.req(method, k, params=form)
    assert r.status_code == 400
    assert r.headers["X-Etcd-Index"] == "0"
    assert "X-Raft-Index" not in r.headers
    assert r.text == error(code, message, cause, 0)
    assert server.get(k).json()["node"]["value"] == "orig"


def test_bool_params_accept_go_spellings(server, kp):
    # strconv.ParseBool: 1, t, T, TRUE, true, True and the false forms
    d = kp + "/d"
    server.put("/v2/keys" + d + "/a", data={"value": "1"})
    for word in ("1", "t", "T", "TRUE", "true", "True"):
        r = server.get("/v2/keys" + d, params={"recursive": word})
        assert r.status_code == 200, word
    for word in ("0", "f", "F", "FALSE", "false", "False"):
        r = server.get("/v2/keys" + d, params={"recursive": word})
        assert r.status_code == 200, word


def test_not_found_names_first_missing_component(server, kp):
    server.put("/v2/keys" + kp + "/a", data={"value": "1"})
    r = server.get("/v2/keys" + kp + "/x/y/z")
    assert r.status_code == 404
    assert r.text == error(100, "Key not found", kp + "/x", idx(r))
    # an escaped slash is a real separator once decoded
    r = server.get("/v2/keys" + kp + "/q%2Fr")
    assert r.text == error(100, "Key not found", kp + "/q", idx(r))


def test_error_headers(server, kp):
    k = kp + "/none"
    r = server.get("/v2/keys" + k)
    assert r.status_code == 404
    assert r.headers["Content-Type"] == "application/json"
    assert int(r.headers["X-Etcd-Index"]) == r.json()["index"]
    assert "X-Raft-Index" not in r.headers
    assert re.fullmatch(r"[0-9a-f]{1,16}", r.headers["X-Etcd-Cluster-Id"])
