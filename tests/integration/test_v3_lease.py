"""v3 leases through etcd's JSON gateway: grant (given ids, duplicates,
too large TTL, TTL raised to the minimum), put with a lease, timetolive
(with and without keys, unknown lease), leases, revoke (keys deleted in one
revision), expiry decided by the leader (a 1 s lease is raised to the 2 s
minimum and its key disappears), keepalive (stream answer).

Recorded from Debian's etcd 3.4.23; lists whose order etcd leaves to a Go
map (leases, keys) are compared as sets, and TimeToLive's TTL may be a
second lower than recorded (time passes).
"""

import json
import time

import pytest

from test_v3_kv import ids

# (path, JSON body, HTTP status, body with {cid}/{mid}); (None, seconds) sleeps
TRANSCRIPT = [
    ('/v3/lease/grant', '{"TTL":60,"ID":1000}', 200, '{"header":{"cluster_id":"{cid}","member_id":"{mid}","revision":"1","raft_term":"2"},"ID":"1000","TTL":"60"}'),
    ('/v3/lease/grant', '{"TTL":60,"ID":1000}', 412, '{"error":"etcdserver: lease already exists","message":"etcdserver: lease already exists","code":9}'),
    ('/v3/lease/grant', '{"TTL":9000000001,"ID":1001}', 400, '{"error":"etcdserver: too large lease TTL","message":"etcdserver: too large lease TTL","code":11}'),
    ('/v3/lease/grant', '{"TTL":1,"ID":1002}', 200, '{"header":{"cluster_id":"{cid}","member_id":"{mid}","revision":"1","raft_term":"2"},"ID":"1002","TTL":"2"}'),
    ('/v3/kv/put', '{"key":"bGsx","value":"dg==","lease":"1000"}', 200, '{"header":{"cluster_id":"{cid}","member_id":"{mid}","revision":"2","raft_term":"2"}}'),
    ('/v3/kv/put', '{"key":"bGsy","value":"dg==","lease":"1000"}', 200, '{"header":{"cluster_id":"{cid}","member_id":"{mid}","revision":"3","raft_term":"2"}}'),
    ('/v3/lease/timetolive', '{"ID":1000,"keys":true}', 200, '{"header":{"cluster_id":"{cid}","member_id":"{mid}","revision":"3","raft_term":"2"},"ID":"1000","TTL":"59","grantedTTL":"60","keys":["bGsx","bGsy"]}'),
    ('/v3/lease/timetolive', '{"ID":1000}', 200, '{"header":{"cluster_id":"{cid}","member_id":"{mid}","revision":"3","raft_term":"2"},"ID":"1000","TTL":"59","grantedTTL":"60"}'),
    ('/v3/lease/timetolive', '{"ID":999}', 200, '{"header":{"cluster_id":"{cid}","member_id":"{mid}","revision":"3","raft_term":"2"},"ID":"999","TTL":"-1"}'),
    ('/v3/lease/leases', '{}', 200, '{"header":{"cluster_id":"{cid}","member_id":"{mid}","revision":"3","raft_term":"2"},"leases":[{"ID":"1002"},{"ID":"1000"}]}'),
    ('/v3/lease/revoke', '{"ID":1000}', 200, '{"header":{"cluster_id":"{cid}","member_id":"{mid}","revision":"4","raft_term":"2"}}'),
    ('/v3/lease/revoke', '{"ID":1000}', 404, '{"error":"etcdserver: requested lease not found","message":"etcdserver: requested lease not found","code":5}'),
    ('/v3/kv/range', '{"key":"bGsx"}', 200, '{"header":{"cluster_id":"{cid}","member_id":"{mid}","revision":"4","raft_term":"2"}}'),
    ('/v3/lease/leases', '{}', 200, '{"header":{"cluster_id":"{cid}","member_id":"{mid}","revision":"4","raft_term":"2"},"leases":[{"ID":"1002"}]}'),
    ('/v3/kv/put', '{"key":"bGsz","value":"dg==","lease":"1002"}', 200, '{"header":{"cluster_id":"{cid}","member_id":"{mid}","revision":"5","raft_term":"2"}}'),
    (None, 3.5, None, None),
    ('/v3/kv/range', '{"key":"bGsz"}', 200, '{"header":{"cluster_id":"{cid}","member_id":"{mid}","revision":"6","raft_term":"2"}}'),
    ('/v3/lease/leases', '{}', 200, '{"header":{"cluster_id":"{cid}","member_id":"{mid}","revision":"6","raft_term":"2"}}'),
    ('/v3/lease/keepalive', '{"ID":1002}', 200, '{"result":{"header":{"cluster_id":"{cid}","member_id":"{mid}","revision":"6","raft_term":"2"},"ID":"1002"}}\n'),
    ('/v3/lease/grant', '{"TTL":30,"ID":1003}', 200, '{"header":{"cluster_id":"{cid}","member_id":"{mid}","revision":"6","raft_term":"2"},"ID":"1003","TTL":"30"}'),
    ('/v3/lease/keepalive', '{"ID":1003}', 200, '{"result":{"header":{"cluster_id":"{cid}","member_id":"{mid}","revision":"6","raft_term":"2"},"ID":"1003","TTL":"30"}}\n'),
]


@pytest.fixture
def fresh(server_factory):
    return server_factory()


def normal(body, ttl_slack):
    """Parsed body with map-ordered lists sorted; TTL rounded into the
    recorded value when within the slack."""
    if not body.startswith("{"):
        return body
    o = json.loads(body)
    res = o.get("result", o)
    for k in ("leases", "keys"):
        if k in res:
            res[k] = sorted(res[k], key=json.dumps)
    if ttl_slack and "grantedTTL" in res:
        res["TTL"] = int(res["TTL"])
    return o


def test_lease_transcript(fresh):
    cid, mid = ids(fresh)
    for i, (path, body, status, want) in enumerate(TRANSCRIPT):
        if path is None:
            time.sleep(body)
            continue
        r = fresh.post(path, data=body)
        want = want.replace("{cid}", cid).replace("{mid}", mid)
        assert r.status_code == status, (i, path, body, r.text)
        got, exp = normal(r.text, True), normal(want, True)
        if isinstance(got, dict) and "grantedTTL" in got:
            assert exp["TTL"] - 1 <= got["TTL"] <= int(exp["grantedTTL"]), (i, r.text)
            got["TTL"] = exp["TTL"]
        assert got == exp, (i, path, body)


def test_generated_lease_ids_are_distinct(fresh):
    seen = set()
    for _ in range(20):
        r = fresh.post("/v3/lease/grant", data='{"TTL":30}')
        assert r.status_code == 200, r.text
        lid = r.json()["ID"]
        assert int(lid) > 0 and lid not in seen
        seen.add(lid)
    listed = {l["ID"] for l in fresh.post("/v3/lease/leases", data="{}").json()["leases"]}
    assert seen <= listed


def test_keepalive_stream_of_requests(fresh):
    """Several LeaseKeepAliveRequests in one body are answered in order, one
    line each (an unknown lease gets TTL 0, left out), and the response
    ends after the last; a request that does not decode ends the requests
    there; a first one that does not decode is refused with code 2."""
    g = fresh.post("/v3/lease/grant", data='{"TTL":60,"ID":77}')
    assert g.status_code == 200, g.text
    r = fresh.post("/v3/lease/keepalive", data='{"ID":77}{"ID":77} {"ID":78}\n{"ID":"77"}',
                   timeout=10)
    assert r.status_code == 200
    assert r.headers.get("Transfer-Encoding") == "chunked"
    lines = [json.loads(x)["result"] for x in r.text.splitlines()]
    assert [(x["ID"], x.get("TTL")) for x in lines] == [
        ("77", "60"), ("77", "60"), ("78", None), ("77", "60")]
    r = fresh.post("/v3/lease/keepalive", data='{"ID":77}{"ID":x}{"ID":77}', timeout=10)
    assert r.status_code == 200
    assert [json.loads(x)["result"]["ID"] for x in r.text.splitlines()] == ["77"]
    r = fresh.post("/v3/lease/keepalive", data='{"ID":"x"}', timeout=10)
    assert r.status_code == 500
    assert r.json() == {"error": "invalid character 'x' looking for beginning of value",
                        "message": "invalid character 'x' looking for beginning of value",
                        "code": 2}
