"""etcd's v3lock and v3election services through the JSON gateway
(/v3/lock/..., /v3/election/...): a lock taken at once, a second locker
waiting for Unlock, for the holder's lease revocation, and a queue of three
served in create-revision order; a locker whose client goes away leaves
no key; a missing lease; Lock without a lease (a fresh 60 s session
lease); election campaign, leader, proclaim, resign (also by a
non-leader), leader of an empty name, and Observe seeing a proclaim and
the next leader after a resign.

The transcript was recorded from Debian's etcd 3.4.23 on a fresh
single-member server; errors of these services reach the gateway as gRPC
code 2 (HTTP 500) whatever their origin.
"""

import base64
import json
import queue
import threading
import time

import pytest
import requests

from test_v3_kv import ids

WAIT = 10.0  # bound of every wait for an answer


def b64(s):
    return base64.b64encode(s.encode()).decode()


def unb64(s):
    return base64.b64decode(s).decode()


H = '{{"cluster_id":"{{cid}}","member_id":"{{mid}}","revision":"{}","raft_term":"2"}}'


def hdr(rev):
    return H.format(rev)


def err(msg):
    m = json.dumps(msg)
    return '{"error":%s,"message":%s,"code":2}' % (m, m)


LK = b64("l1/3e8")
EK = b64("e1/3e8")
LEADER4 = '{"name":"%s","key":"%s","rev":"4","lease":"1000"}' % (b64("e1"), EK)

# (path, JSON body, HTTP status, body with {cid}/{mid})
TRANSCRIPT = [
    ('/v3/lease/grant', '{"TTL":60,"ID":1000}', 200, '{"header":%s,"ID":"1000","TTL":"60"}' % hdr(1)),
    ('/v3/lock/lock', '{"name":"%s","lease":"1000"}' % b64("l1"), 200, '{"header":%s,"key":"%s"}' % (hdr(2), LK)),
    ('/v3/lock/lock', '{"name":"%s","lease":"1000"}' % b64("l1"), 200, '{"header":%s,"key":"%s"}' % (hdr(2), LK)),
    ('/v3/lock/lock', '{"name":"%s","lease":"12345"}' % b64("l1"), 500, err("etcdserver: requested lease not found")),
    ('/v3/lock/unlock', '{}', 500, err("etcdserver: key is not provided")),
    ('/v3/lock/unlock', '{"key":"%s"}' % LK, 200, '{"header":%s}' % hdr(3)),
    ('/v3/lock/unlock', '{"key":"%s"}' % LK, 200, '{"header":%s}' % hdr(3)),
    ('/v3/election/leader', '{"name":"%s"}' % b64("e1"), 500, err("election: no leader")),
    ('/v3/election/campaign', '{"name":"%s","lease":"1000","value":"%s"}' % (b64("e1"), b64("v1")), 200,
     '{"header":%s,"leader":%s}' % (hdr(4), LEADER4)),
    # the same session again with another value: a proclaim (revision 5),
    # but the answer carries the campaign's header
    ('/v3/election/campaign', '{"name":"%s","lease":"1000","value":"%s"}' % (b64("e1"), b64("v2")), 200,
     '{"header":%s,"leader":%s}' % (hdr(4), LEADER4)),
    ('/v3/election/leader', '{"name":"%s"}' % b64("e1"), 200,
     '{"header":%s,"kv":{"key":"%s","create_revision":"4","mod_revision":"5","version":"2","value":"%s","lease":"1000"}}'
     % (hdr(5), EK, b64("v2"))),
    ('/v3/election/proclaim', '{"leader":%s,"value":"%s"}' % (LEADER4, b64("v3")), 200, '{"header":%s}' % hdr(6)),
    ('/v3/election/proclaim', '{"leader":{"name":"%s","key":"%s","rev":"5","lease":"1000"},"value":"%s"}'
     % (b64("e1"), EK, b64("v4")), 500, err("election: not leader")),
    ('/v3/election/proclaim', '{"leader":{"name":"%s","key":"%s","rev":"4","lease":"77"},"value":"%s"}'
     % (b64("e1"), EK, b64("v4")), 500, err("etcdserver: requested lease not found")),
    ('/v3/election/proclaim', '{"value":"%s"}' % b64("v4"), 500, err('"leader" field must be provided')),
    ('/v3/election/resign', '{}', 500, err('"leader" field must be provided')),
    ('/v3/election/resign', '{"leader":{}}', 500, err("etcdserver: key is not provided")),
    ('/v3/election/proclaim', '{"leader":{"rev":"4"}}', 500, err("etcdserver: key is not provided")),
    # a non-leader's resign changes nothing and is no error
    ('/v3/election/resign', '{"leader":{"name":"%s","key":"%s","rev":"99","lease":"1000"}}' % (b64("e1"), EK), 200,
     '{"header":%s}' % hdr(6)),
    ('/v3/election/leader', '{"name":"%s"}' % b64("e1"), 200,
     '{"header":%s,"kv":{"key":"%s","create_revision":"4","mod_revision":"6","version":"3","value":"%s","lease":"1000"}}'
     % (hdr(6), EK, b64("v3"))),
    ('/v3/election/resign', '{"leader":%s}' % LEADER4, 200, '{"header":%s}' % hdr(7)),
    ('/v3/election/leader', '{"name":"%s"}' % b64("e1"), 500, err("election: no leader")),
    ('/v3/election/leader', '{}', 500, err("election: no leader")),
]


@pytest.fixture
def fresh(server_factory):
    return server_factory()


def test_conc_transcript(fresh):
    cid, mid = ids(fresh)
    for i, (path, body, status, want) in enumerate(TRANSCRIPT):
        r = fresh.post(path, data=body)
        want = want.replace("{cid}", cid).replace("{mid}", mid)
        assert (r.status_code, r.text) == (status, want), (i, path, body)


def grant(s, ttl=60):
    r = s.post("/v3/lease/grant", data=json.dumps({"TTL": ttl}))
    assert r.status_code == 200, r.text
    return int(r.json()["ID"])


def lock(s, name, lease):
    r = s.post("/v3/lock/lock", data=json.dumps({"name": b64(name), "lease": str(lease)}),
               timeout=WAIT)
    assert r.status_code == 200, r.text
    return r.json()


def unlock(s, key_b64):
    r = s.post("/v3/lock/unlock", data=json.dumps({"key": key_b64}))
    assert r.status_code == 200, r.text
    return int(r.json()["header"]["revision"])


class Call(threading.Thread):
    """A blocking call in a thread; .done tells whether it answered."""

    def __init__(self, s, path, body, timeout=WAIT):
        super().__init__(daemon=True)
        self.url, self.body, self.timeout = s.url(path), body, timeout
        self.resp = self.exc = None
        self.finished = threading.Event()
        self.start()

    def run(self):
        try:
            self.resp = requests.post(self.url, data=self.body, timeout=self.timeout)
        except Exception as e:  # noqa: BLE001 - reported by the test
            self.exc = e
        self.finished.set()

    def result(self):
        assert self.finished.wait(WAIT), "no answer"
        assert self.exc is None, self.exc
        assert self.resp.status_code == 200, self.resp.text
        return self.resp.json()


def lock_call(s, name, lease):
    return Call(s, "/v3/lock/lock", json.dumps({"name": b64(name), "lease": str(lease)}))


def keys(s, prefix):
    end = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    r = s.post("/v3/kv/range", data=json.dumps({"key": b64(prefix), "range_end": b64(end)}))
    return [unb64(kv["key"]) for kv in r.json().get("kvs", [])]


def test_lock_waits_for_unlock(fresh):
    la, lb = grant(fresh), grant(fresh)
    a = lock(fresh, "q", la)
    assert unb64(a["key"]) == "q/%x" % la
    b = lock_call(fresh, "q", lb)
    assert not b.finished.wait(1.0), "second locker did not wait"
    rev = unlock(fresh, a["key"])
    got = b.result()
    assert unb64(got["key"]) == "q/%x" % lb
    assert int(got["header"]["revision"]) >= rev


def test_lock_waits_for_lease_revoke(fresh):
    la, lb = grant(fresh), grant(fresh)
    lock(fresh, "r", la)
    b = lock_call(fresh, "r", lb)
    assert not b.finished.wait(1.0)
    r = fresh.post("/v3/lease/revoke", data=json.dumps({"ID": str(la)}))
    assert r.status_code == 200, r.text
    assert unb64(b.result()["key"]) == "r/%x" % lb
    assert keys(fresh, "r/") == ["r/%x" % lb]


def test_lock_queue_in_create_order(fresh):
    la, lb, lc = grant(fresh), grant(fresh), grant(fresh)
    a = lock(fresh, "z", la)
    b = lock_call(fresh, "z", lb)
    time.sleep(0.5)  # b's key is created before c's
    c = lock_call(fresh, "z", lc)
    time.sleep(0.5)
    assert len(keys(fresh, "z/")) == 3
    unlock(fresh, a["key"])
    bk = b.result()["key"]
    assert unb64(bk) == "z/%x" % lb
    assert not c.finished.wait(1.0), "third locker did not wait for the second"
    unlock(fresh, bk)
    assert unb64(c.result()["key"]) == "z/%x" % lc


def test_lock_client_gone_removes_key(fresh):
    la, lb = grant(fresh), grant(fresh)
    lock(fresh, "g", la)
    b = Call(fresh, "/v3/lock/lock", json.dumps({"name": b64("g"), "lease": str(lb)}),
             timeout=1.0)
    assert b.finished.wait(WAIT) and b.exc is not None  # the client gave up
    deadline = time.time() + WAIT
    while time.time() < deadline and len(keys(fresh, "g/")) != 1:
        time.sleep(0.1)
    assert keys(fresh, "g/") == ["g/%x" % la]


def test_lock_without_lease_gets_session_lease(fresh):
    r = fresh.post("/v3/lock/lock", data=json.dumps({"name": b64("n")}))
    assert r.status_code == 200, r.text
    key = unb64(r.json()["key"])
    assert key.startswith("n/")
    lease = int(key[2:], 16)
    t = fresh.post("/v3/lease/timetolive", data=json.dumps({"ID": str(lease)})).json()
    assert t["grantedTTL"] == "60"


class Observer(threading.Thread):
    def __init__(self, s, name):
        super().__init__(daemon=True)
        self.url, self.name = s.url("/v3/election/observe"), name
        self.q = queue.Queue()
        self.r = None
        self.start()

    def run(self):
        try:
            self.r = requests.post(self.url, data=json.dumps({"name": b64(self.name)}),
                                   stream=True, timeout=WAIT)
            for line in self.r.iter_lines():
                if line:
                    self.q.put(json.loads(line)["result"])
        except Exception as e:  # noqa: BLE001
            self.q.put(e)

    def next(self):
        got = self.q.get(timeout=WAIT)
        assert not isinstance(got, Exception), got
        return got

    def close(self):
        if self.r is not None:
            self.r.close()


def campaign(s, name, lease, value):
    return Call(s, "/v3/election/campaign",
                json.dumps({"name": b64(name), "lease": str(lease), "value": b64(value)}))


def test_election_observe(fresh):
    la, lb = grant(fresh), grant(fresh)
    obs = Observer(fresh, "el")
    try:
        time.sleep(0.5)
        a = campaign(fresh, "el", la, "a1").result()["leader"]
        assert unb64(a["key"]) == "el/%x" % la
        got = obs.next()
        assert unb64(got["kv"]["value"]) == "a1"
        assert got["header"]["revision"] == got["kv"]["mod_revision"]
        r = fresh.post("/v3/election/proclaim", data=json.dumps({"leader": a, "value": b64("a2")}))
        assert r.status_code == 200, r.text
        got = obs.next()
        assert unb64(got["kv"]["value"]) == "a2"
        assert got["header"]["revision"] == r.json()["header"]["revision"]
        b = campaign(fresh, "el", lb, "b1")
        assert not b.finished.wait(1.0), "second candidate did not wait"
        r = fresh.post("/v3/election/resign", data=json.dumps({"leader": a}))
        assert r.status_code == 200, r.text
        bl = b.result()["leader"]
        assert unb64(bl["key"]) == "el/%x" % lb
        got = obs.next()
        assert unb64(got["kv"]["key"]) == "el/%x" % lb
        assert unb64(got["kv"]["value"]) == "b1"
        lr = fresh.post("/v3/election/leader", data=json.dumps({"name": b64("el")}))
        assert lr.json()["kv"] == got["kv"]
    finally:
        obs.close()


@pytest.fixture
def cluster_factory(request):
    import cluster
    return cluster.cluster_fixture_factory(request)


def test_lock_and_observe_across_members(cluster_factory):
    """The holder on one member, a waiting locker on a follower (woken by
    that follower's own events), an observer on the third member."""
    c = cluster_factory(3)
    lead = c.leader_index()
    f1, f2 = [i for i in range(3) if i != lead]
    la, lb = grant(c[lead]), grant(c[f1])
    a = lock(c[lead], "m", la)
    b = lock_call(c[f1], "m", lb)
    assert not b.finished.wait(1.0)
    obs = Observer(c[f2], "m")
    try:
        got = obs.next()
        assert got["kv"]["key"] == a["key"]
        unlock(c[f2], a["key"])
        assert unb64(b.result()["key"]) == "m/%x" % lb
        # Observe follows keys under the name: the next "leader" is b's key
        assert unb64(obs.next()["kv"]["key"]) == "m/%x" % lb
    finally:
        obs.close()
