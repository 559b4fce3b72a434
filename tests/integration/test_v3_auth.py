"""etcd 3.4's v3 authentication and authorization through the JSON gateway:
user / role management answers and errors (a transcript recorded from
Debian's etcd 3.4.23), AuthEnable refused without a root user with the
root role, and once enabled: requests without a token refused, tokens from
Authenticate ("<16 letters>.<raft index>") accepted, a user with READ on a
prefix ranging it but not writing it nor watching outside it, root doing
anything, wrong passwords, a revoked role taking effect at once, root-only
maintenance / membership calls, AuthDisable; the auth state surviving a
restart; and on three members a token from one member working on another.

Responses are compared without their header (ids and revisions differ
between runs); the rest of each body must be etcd's byte for byte.
"""

import base64
import json
import re

import pytest
import requests

import cluster
from cluster import is_etcd, wait_until

TOKEN_RE = re.compile(r"^[A-Za-z]{16}\.[0-9]+$")


def b64(s):
    return base64.b64encode(s.encode()).decode()


def call(s, path, body, token=None):
    headers = {"Authorization": token} if token else {}
    r = s.post(path, data=body if isinstance(body, str) else json.dumps(body), headers=headers)
    return r.status_code, r.text


def strip(text):
    """The body with its "header" member removed (etcd orders members as
    its JSON marshaller does: header first)."""
    return re.sub(r'^\{"header":\{[^{}]*\},?', "{", text)


def ok(s, path, body, token=None):
    st, text = call(s, path, body, token)
    assert st == 200, (path, body, st, text)
    return json.loads(text)


def authenticate(s, name, pw):
    tok = ok(s, "/v3/auth/authenticate", {"name": name, "password": pw})["token"]
    assert TOKEN_RE.match(tok), tok
    return tok


def err(msg, code, status):
    return status, json.dumps({"error": msg, "message": msg, "code": code}, separators=(",", ":"))


E_USER_EXISTS = err("etcdserver: user name already exists", 9, 412)
E_USER_EMPTY = err("etcdserver: user name is empty", 3, 400)
E_USER_NOT_FOUND = err("etcdserver: user name not found", 9, 412)
E_ROLE_EXISTS = err("etcdserver: role name already exists", 9, 412)
E_ROLE_EMPTY = err("etcdserver: role name is empty", 3, 400)
E_ROLE_NOT_FOUND = err("etcdserver: role name not found", 9, 412)
E_PERM_NOT_GRANTED = err("etcdserver: permission is not granted to the role", 9, 412)
E_ROLE_NOT_GRANTED = err("etcdserver: role is not granted to the user", 9, 412)
E_NO_ROOT_ROLE = err("etcdserver: root user does not have root role", 9, 412)
E_NO_ROOT_USER = err("etcdserver: root user does not exist", 9, 412)
E_NOT_ENABLED = err("etcdserver: authentication is not enabled", 9, 412)
E_AUTH_FAILED = err("etcdserver: authentication failed, invalid user ID or password", 3, 400)
E_DENIED = err("etcdserver: permission denied", 7, 403)
E_BAD_TOKEN = err("etcdserver: invalid auth token", 16, 401)
E_MGMT = err("etcdserver: invalid auth management", 3, 400)
E_NO_PW_USER = err("auth: authentication failed, password was given for no password user", 2, 500)

# (path, body, HTTP status, body without its header) as etcd 3.4.23 answers
# with auth disabled
TRANSCRIPT = [
    ("user/add", {"name": "root", "password": "pw"}, 200, "{}"),
    ("user/add", {"name": "root", "password": "pw"}) + E_USER_EXISTS,
    ("user/add", {"name": "", "password": "pw"}) + E_USER_EMPTY,
    ("user/add", {"name": "u1", "password": "x", "options": {"no_password": True}}, 200, "{}"),
    ("user/get", {"name": "root"}, 200, "{}"),
    ("user/get", {"name": "nobody"}) + E_USER_NOT_FOUND,
    ("user/list", {}, 200, '{"users":["root","u1"]}'),
    ("role/add", {"name": "r1"}, 200, "{}"),
    ("role/add", {"name": "r1"}) + E_ROLE_EXISTS,
    ("role/add", {"name": ""}) + E_ROLE_EMPTY,
    ("role/get", {"role": "r1"}, 200, "{}"),
    ("role/get", {"role": "zz"}) + E_ROLE_NOT_FOUND,
    ("role/list", {}, 200, '{"roles":["r1"]}'),
    ("role/grant", {"name": "r1", "perm": {"permType": "READ", "key": b64("foo"),
                                           "range_end": b64("fop")}}, 200, "{}"),
    ("role/grant", {"name": "r1", "perm": {"permType": "WRITE", "key": b64("a")}}, 200, "{}"),
    ("role/get", {"role": "r1"}, 200,
     '{"perm":[{"permType":"WRITE","key":"YQ=="},{"key":"Zm9v","range_end":"Zm9w"}]}'),
    ("role/grant", {"name": "zz", "perm": {"permType": "READ", "key": b64("a")}}) + E_ROLE_NOT_FOUND,
    ("role/revoke", {"role": "r1", "key": b64("a")}, 200, "{}"),
    ("role/revoke", {"role": "r1", "key": b64("a")}) + E_PERM_NOT_GRANTED,
    ("role/revoke", {"role": "zz", "key": b64("a")}) + E_ROLE_NOT_FOUND,
    ("user/grant", {"user": "u1", "role": "r1"}, 200, "{}"),
    ("user/grant", {"user": "u1", "role": "zz"}) + E_ROLE_NOT_FOUND,
    ("user/grant", {"user": "zz", "role": "r1"}) + E_USER_NOT_FOUND,
    ("user/get", {"name": "u1"}, 200, '{"roles":["r1"]}'),
    ("user/revoke", {"name": "u1", "role": "zz"}) + E_ROLE_NOT_GRANTED,
    ("user/revoke", {"name": "zz", "role": "r1"}) + E_USER_NOT_FOUND,
    ("user/changepw", {"name": "u1", "password": "y"}, 200, "{}"),
    ("user/changepw", {"name": "zz", "password": "y"}) + E_USER_NOT_FOUND,
    ("enable", {}) + E_NO_ROOT_ROLE,
    ("user/grant", {"user": "root", "role": "root"}, 200, "{}"),
    ("user/get", {"name": "root"}, 200, '{"roles":["root"]}'),
    ("role/get", {"role": "root"}) + E_ROLE_NOT_FOUND,
    ("role/list", {}, 200, '{"roles":["r1"]}'),
    ("user/delete", {"name": "zz"}) + E_USER_NOT_FOUND,
    ("role/delete", {"role": "zz"}) + E_ROLE_NOT_FOUND,
    ("disable", {}, 200, "{}"),
    ("authenticate", {"name": "root", "password": "pw"}) + E_NOT_ENABLED,
    # permissions: same key and end updates, same key goes first, revoke
    # needs the exact end
    ("role/grant", {"name": "r1", "perm": {"permType": "READWRITE", "key": b64("foo"),
                                           "range_end": "AA=="}}, 200, "{}"),
    ("role/grant", {"name": "r1", "perm": {"permType": "WRITE", "key": b64("foo"),
                                           "range_end": b64("fop")}}, 200, "{}"),
    ("role/get", {"role": "r1"}, 200,
     '{"perm":[{"permType":"WRITE","key":"Zm9v","range_end":"Zm9w"},'
     '{"permType":"READWRITE","key":"Zm9v","range_end":"AA=="}]}'),
    ("role/revoke", {"role": "r1", "key": b64("foo"), "range_end": b64("fop")}, 200, "{}"),
    ("role/revoke", {"role": "r1", "key": b64("foo")}) + E_PERM_NOT_GRANTED,
    ("role/get", {"role": "r1"}, 200,
     '{"perm":[{"permType":"READWRITE","key":"Zm9v","range_end":"AA=="}]}'),
    ("role/add", {"name": "r2"}, 200, "{}"),
    ("user/grant", {"user": "u1", "role": "r2"}, 200, "{}"),
    ("user/grant", {"user": "u1", "role": "r2"}, 200, "{}"),
    ("user/get", {"name": "u1"}, 200, '{"roles":["r1","r2"]}'),
    ("role/delete", {"role": "r2"}, 200, "{}"),
    ("user/get", {"name": "u1"}, 200, '{"roles":["r1"]}'),
    ("user/delete", {"name": "u1"}, 200, "{}"),
    ("user/list", {}, 200, '{"users":["root"]}'),
]


def test_management_transcript(server_factory):
    s = server_factory()
    for i, (path, body, st, want) in enumerate(TRANSCRIPT):
        got_st, got = call(s, "/v3/auth/" + path, body)
        assert (got_st, strip(got)) == (st, want), (i, path, body, got)


def test_enable_needs_root_user(server_factory):
    s = server_factory()
    assert call(s, "/v3/auth/enable", {}) == E_NO_ROOT_USER
    ok(s, "/v3/auth/role/add", {"name": "root"})
    assert call(s, "/v3/auth/enable", {}) == E_NO_ROOT_USER
    ok(s, "/v3/auth/user/add", {"name": "root", "password": "pw"})
    assert call(s, "/v3/auth/enable", {}) == E_NO_ROOT_ROLE
    # still off: everything works without a token
    ok(s, "/v3/kv/put", {"key": b64("k"), "value": b64("v")})


def setup_auth(s):
    """root (root role) and u2 with READ on foo..fop, auth enabled."""
    ok(s, "/v3/auth/user/add", {"name": "root", "password": "pw"})
    ok(s, "/v3/auth/user/grant", {"user": "root", "role": "root"})
    ok(s, "/v3/auth/role/add", {"name": "r1"})
    ok(s, "/v3/auth/role/grant", {"name": "r1", "perm": {"permType": "READ", "key": b64("foo"),
                                                        "range_end": b64("fop")}})
    ok(s, "/v3/auth/user/add", {"name": "u2", "password": "p"})
    ok(s, "/v3/auth/user/grant", {"user": "u2", "role": "r1"})
    ok(s, "/v3/kv/put", {"key": b64("foo1"), "value": b64("v")})
    ok(s, "/v3/auth/enable", {})


def watch_first(s, create, token=None):
    """The first message of a watch stream with this create_request."""
    headers = {"Authorization": token} if token else {}
    r = requests.post(s.url("/v3/watch"), data=json.dumps({"create_request": create}),
                      headers=headers, stream=True, timeout=10)
    try:
        assert r.status_code == 200
        for line in r.iter_lines():
            if line:
                return json.loads(line)["result"]
    finally:
        r.close()
    return None


def test_enforcement(server_factory):
    s = server_factory()
    setup_auth(s)
    put = {"key": b64("foo1"), "value": b64("w")}
    # no token
    assert call(s, "/v3/kv/put", put) == E_USER_EMPTY
    assert call(s, "/v3/kv/range", {"key": b64("foo1")}) == E_USER_EMPTY
    assert call(s, "/v3/auth/user/list", {}) == E_USER_EMPTY
    assert call(s, "/v3/auth/enable", {}) == E_USER_EMPTY
    assert call(s, "/v3/auth/user/get", {"name": "u2"}) == E_USER_EMPTY
    assert call(s, "/v3/auth/role/get", {"role": "r1"}) == E_USER_EMPTY
    # bad token, wrong password, no-password user
    assert call(s, "/v3/kv/put", put, "bogus.1") == E_BAD_TOKEN
    assert call(s, "/v3/kv/range", {"key": b64("foo1")}, "bogus.1") == E_BAD_TOKEN
    assert call(s, "/v3/auth/authenticate", {"name": "root", "password": "bad"}) == E_AUTH_FAILED
    assert call(s, "/v3/auth/authenticate", {"name": "nobody", "password": "x"}) == E_AUTH_FAILED
    root = authenticate(s, "root", "pw")
    ok(s, "/v3/auth/user/add", {"name": "np", "options": {"no_password": True}}, root)
    assert call(s, "/v3/auth/authenticate", {"name": "np", "password": "x"}) == E_NO_PW_USER
    # root does anything
    ok(s, "/v3/kv/put", put, root)
    ok(s, "/v3/kv/put", {"key": b64("zzz"), "value": b64("1")}, root)
    # a linearizable txn that writes (proposed after its read index)
    assert ok(s, "/v3/kv/txn", {"success": [{"request_put": {"key": b64("t"), "value": b64("1")}}]},
              root)["succeeded"] is True
    assert strip(call(s, "/v3/auth/user/list", {}, root)[1]) == '{"users":["np","root","u2"]}'
    assert ok(s, "/v3/maintenance/hash", {}, root)["hash"] > 0
    # u2: READ on foo..fop only
    u2 = authenticate(s, "u2", "p")
    assert ok(s, "/v3/kv/range", {"key": b64("foo1")}, u2)["kvs"][0]["value"] == b64("w")
    assert ok(s, "/v3/kv/range", {"key": b64("foo"), "range_end": b64("fop")}, u2)["count"] == "1"
    assert call(s, "/v3/kv/range", {"key": b64("foo"), "range_end": b64("foq")}, u2) == E_DENIED
    assert call(s, "/v3/kv/range", {"key": b64("zzz")}, u2) == E_DENIED
    assert call(s, "/v3/kv/put", put, u2) == E_DENIED
    assert call(s, "/v3/kv/deleterange", {"key": b64("foo1")}, u2) == E_DENIED
    assert ok(s, "/v3/kv/txn", {"success": [{"request_range": {"key": b64("foo1")}}]}, u2)["succeeded"]
    assert call(s, "/v3/kv/txn", {"compare": [{"key": b64("zzz"), "target": "VERSION", "version": "0"}],
                                  "success": [{"request_range": {"key": b64("foo1")}}]}, u2) == E_DENIED
    assert call(s, "/v3/kv/txn", {"success": [{"request_put": {"key": b64("foo1")}}]}, u2) == E_DENIED
    assert call(s, "/v3/auth/user/list", {}, u2) == E_DENIED
    assert call(s, "/v3/auth/user/add", {"name": "u3", "password": "p"}, u2) == E_DENIED
    assert strip(call(s, "/v3/auth/user/get", {"name": "u2"}, u2)[1]) == '{"roles":["r1"]}'
    assert strip(call(s, "/v3/auth/role/get", {"role": "r1"}, u2)[1]) == \
        '{"perm":[{"key":"Zm9v","range_end":"Zm9w"}]}'
    assert call(s, "/v3/auth/role/get", {"role": "root"}, u2) == E_DENIED
    assert call(s, "/v3/maintenance/hash", {}, u2) == \
        err("auth: permission denied", 2, 500)
    assert call(s, "/v3/maintenance/hash", {}) == err("auth: user name is empty", 2, 500)
    assert call(s, "/v3/cluster/member/remove", {"ID": "1"}, u2) == E_DENIED
    assert call(s, "/v3/cluster/member/remove", {"ID": "1"}) == E_USER_EMPTY
    # not checked by etcd: status, member list
    ok(s, "/v3/maintenance/status", {})
    ok(s, "/v3/cluster/member/list", {})
    # watch: READ on the range
    w = watch_first(s, {"key": b64("foo1")}, u2)
    assert w["created"] is True and "canceled" not in w
    w = watch_first(s, {"key": b64("a")}, u2)
    assert w["canceled"] is True and w["watch_id"] == "-1"
    assert w["cancel_reason"] == "rpc error: code = PermissionDenied desc = etcdserver: permission denied"
    w = watch_first(s, {"key": b64("foo1")})
    assert w["cancel_reason"] == "rpc error: code = InvalidArgument desc = etcdserver: user name is empty"
    w = watch_first(s, {"key": b64("foo1")}, "bogus.1")
    assert w["cancel_reason"] == "rpc error: code = Unauthenticated desc = etcdserver: invalid auth token"
    # what etcd 3.4 leaves unchecked, and its other error shapes
    ok(s, "/v3/kv/compaction", {"revision": "1"})
    assert call(s, "/v3/lease/grant", {"TTL": 60}, "bogus.1") == E_BAD_TOKEN
    assert call(s, "/v3/maintenance/alarm", {}, "bogus.1") == err("auth: invalid auth token", 2, 500)
    assert call(s, "/v3/lock/lock", {"name": b64("foo")}) == err("etcdserver: user name is empty", 2, 500)
    assert call(s, "/v3/lock/lock", {"name": b64("foo")}, "bogus.1") == \
        err("etcdserver: invalid auth token", 2, 500)
    assert call(s, "/v3/lock/lock", {"name": b64("foo")}, u2) == err("etcdserver: permission denied", 2, 500)
    assert call(s, "/v3/election/leader", {"name": b64("a")}, u2) == \
        err("etcdserver: permission denied", 2, 500)
    assert call(s, "/v3/kv/range", {"key": b64("foo1")}, "Bearer " + u2) == E_BAD_TOKEN
    # root-only invariants
    assert call(s, "/v3/auth/user/revoke", {"name": "root", "role": "root"}, root) == E_MGMT
    assert call(s, "/v3/auth/user/delete", {"name": "root"}, root) == E_MGMT
    assert call(s, "/v3/auth/role/delete", {"role": "root"}, root) == E_MGMT
    # revoking a role takes effect at once (the token stays valid)
    ok(s, "/v3/auth/user/revoke", {"name": "u2", "role": "r1"}, root)
    assert call(s, "/v3/kv/range", {"key": b64("foo1")}, u2) == E_DENIED
    ok(s, "/v3/auth/user/grant", {"user": "u2", "role": "r1"}, root)
    ok(s, "/v3/kv/range", {"key": b64("foo1")}, u2)
    # a changed password ends the user's tokens
    ok(s, "/v3/auth/user/changepw", {"name": "u2", "password": "q"}, root)
    assert call(s, "/v3/kv/range", {"key": b64("foo1")}, u2) == E_BAD_TOKEN
    assert call(s, "/v3/auth/authenticate", {"name": "u2", "password": "p"}) == E_AUTH_FAILED
    authenticate(s, "u2", "q")
    # disable: tokens are gone, requests without one work again
    ok(s, "/v3/auth/disable", {}, root)
    assert call(s, "/v3/auth/disable", {}, root) == E_BAD_TOKEN
    ok(s, "/v3/kv/put", put)
    assert call(s, "/v3/kv/put", put, "bogus.1") == E_BAD_TOKEN
    assert call(s, "/v3/auth/authenticate", {"name": "root", "password": "pw"}) == E_NOT_ENABLED


def test_lease_revoke_needs_write_on_its_keys(server_factory):
    s = server_factory()
    setup_auth(s)
    root = authenticate(s, "root", "pw")
    u2 = authenticate(s, "u2", "p")
    lid = ok(s, "/v3/lease/grant", {"TTL": 60}, root)["ID"]
    ok(s, "/v3/kv/put", {"key": b64("a"), "value": b64("1"), "lease": lid}, root)
    assert call(s, "/v3/lease/revoke", {"ID": lid}, u2) == E_DENIED
    assert call(s, "/v3/lease/revoke", {"ID": lid}) == E_USER_EMPTY
    ok(s, "/v3/lease/revoke", {"ID": lid}, root)


def test_auth_survives_restart(server_factory):
    s = server_factory()
    setup_auth(s)
    s.stop()
    s.start()
    assert call(s, "/v3/kv/range", {"key": b64("foo1")}) == E_USER_EMPTY
    u2 = authenticate(s, "u2", "p")
    assert ok(s, "/v3/kv/range", {"key": b64("foo1")}, u2)["count"] == "1"
    assert call(s, "/v3/kv/put", {"key": b64("foo1"), "value": b64("x")}, u2) == E_DENIED
    root = authenticate(s, "root", "pw")
    assert strip(call(s, "/v3/auth/role/get", {"role": "r1"}, root)[1]) == \
        '{"perm":[{"key":"Zm9v","range_end":"Zm9w"}]}'


@pytest.mark.skipif(is_etcd(), reason="etcd 3.4.23 checks no op inside a nested txn")
def test_nested_txn_is_checked(server_factory):
    """A deliberate difference: etcd 3.4's checkTxnReqsPermission skips
    request_txn, so a READ-only user could write through a nested txn."""
    s = server_factory()
    setup_auth(s)
    u2 = authenticate(s, "u2", "p")
    nested = {"success": [{"request_txn": {"success": [{"request_put": {"key": b64("zz")}}]}}]}
    assert call(s, "/v3/kv/txn", nested, u2) == E_DENIED


@pytest.mark.skipif(is_etcd(), reason="cetcd's own refusal")
def test_jwt_tokens_refused_at_startup(server_factory):
    s = server_factory(start=False, extra_args=["--auth-token", "jwt,pub-key=x,priv-key=y"])
    s.start(wait=False)
    wait_until(lambda: s.proc.poll() is not None, 10, "cetcd to refuse --auth-token jwt")
    assert s.proc.returncode != 0
    assert "--auth-token jwt is not supported" in s.log_tail()


def test_token_works_on_another_member(request):
    c = cluster.cluster_fixture_factory(request)(3)
    ok(c[0], "/v3/auth/user/add", {"name": "root", "password": "pw"})
    ok(c[0], "/v3/auth/user/grant", {"user": "root", "role": "root"})
    ok(c[0], "/v3/auth/enable", {})
    tok = authenticate(c[0], "root", "pw")

    def put_ok(i):
        return call(c[i], "/v3/kv/put", {"key": b64("k%d" % i), "value": b64("v")}, tok)[0] == 200
    # the token reaches the others when they apply the Authenticate entry
    for i in (1, 2):
        wait_until(lambda: put_ok(i), 10, "token on member %d" % i)
    assert call(c[2], "/v3/kv/put", {"key": b64("k"), "value": b64("v")}) == E_USER_EMPTY
    assert ok(c[0], "/v3/kv/range", {"key": b64("k2")}, tok)["count"] == "1"


def test_authenticate_while_auth_changes(server_factory):
    """An auth change between the password check and the token makes the
    receiving member check again (etcd's Authenticate loop): every
    Authenticate still answers a working token."""
    import threading
    s = server_factory()
    setup_auth(s)
    root = authenticate(s, "root", "pw")
    stop = threading.Event()

    def churn():
        i = 0
        while not stop.is_set():
            call(s, "/v3/auth/role/add", {"name": "churn%d" % i}, root)
            i += 1
            # etcd's loop never ends if changes come faster than bcrypt
            stop.wait(0.15)
    t = threading.Thread(target=churn, daemon=True)
    t.start()
    try:
        for _ in range(20):
            u2 = authenticate(s, "u2", "p")
            assert ok(s, "/v3/kv/range", {"key": b64("foo1")}, u2)["count"] == "1"
    finally:
        stop.set()
        t.join(10)
