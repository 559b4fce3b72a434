"""Multi-member clusters: every member serves reads and writes, the
cluster-wide endpoints (/v2/members, /v2/machines, /v2/stats/self,
/v2/stats/leader, /health) agree, quorum loss and recovery, runtime
membership changes (/v2/members POST, PUT, DELETE) and their errors.

Every status and body asserted here was measured on Debian's etcd 3.4.23
(CETCD_TEST_TARGET=etcd) with members started as cluster.Cluster does
(--heartbeat-interval 50 --election-timeout 500, strict reconfig check on).
"""

import json
import time

import pytest

import cluster

JSON = "application/json"
TEXT = "text/plain; charset=utf-8"


@pytest.fixture(scope="module")
def c3(request):
    """One healthy 3-member cluster shared by the read-only tests."""
    c = cluster.Cluster(3)
    failed_before = request.session.testsfailed

    def fin():
        keep = request.session.testsfailed > failed_before
        c.cleanup(keep)
        if keep:
            import itfixtures
            itfixtures.KEPT.append(c.base)
    request.addfinalizer(fin)
    c.start()
    return c


@pytest.fixture
def cluster_factory(request):
    return cluster.cluster_fixture_factory(request)


def members_json(c):
    """etcd's /v2/members body for cluster c: sorted by numeric id."""
    ms = sorted(c.active(), key=lambda m: m.id)
    return json.dumps({"members": [
        {"id": m.id_hex, "name": m.name, "peerURLs": [m.adv_peer_url],
         "clientURLs": [m.client_url]} for m in ms]},
        separators=(",", ":")) + "\n"


def member_json(m):
    return json.dumps({"id": m.id_hex, "name": m.name,
                       "peerURLs": [m.adv_peer_url],
                       "clientURLs": [m.client_url]},
                      separators=(",", ":")) + "\n"


# -- every member serves ----------------------------------------------------

def test_every_member_accepts_writes_and_reads(c3):
    for i in range(3):
        r = c3[i].put("/v2/keys/cl/w%d" % i, data={"value": "v%d" % i})
        assert r.status_code == 201, r.text
        assert r.json()["node"]["value"] == "v%d" % i
        for j in range(3):
            q = c3[j].get("/v2/keys/cl/w%d" % i, params={"quorum": "true"})
            assert q.status_code == 200, (i, j, q.text)
            assert q.json()["node"]["value"] == "v%d" % i
            # after a quorum GET the member has applied the write locally
            g = c3[j].get("/v2/keys/cl/w%d" % i)
            assert g.status_code == 200 and g.json()["node"] == \
                q.json()["node"]


def test_headers_consistent_across_members(c3):
    f = c3.followers()[0]
    r = c3[f].put("/v2/keys/cl/h", data={"value": "x"})
    assert r.status_code == 201
    idx = int(r.headers["X-Etcd-Index"])
    assert idx == r.json()["node"]["modifiedIndex"]
    term = r.headers["X-Raft-Term"]
    cid = r.headers["X-Etcd-Cluster-Id"]
    for j in range(3):
        q = c3[j].get("/v2/keys/cl/h", params={"quorum": "true"})
        assert q.headers["X-Etcd-Cluster-Id"] == cid
        assert q.headers["X-Raft-Term"] == term
        assert int(q.headers["X-Etcd-Index"]) >= idx
        assert int(q.headers["X-Raft-Index"]) >= \
            int(r.headers["X-Raft-Index"])
        assert q.json()["node"]["modifiedIndex"] == idx
    # once nothing else is written, every member reports the same index
    indexes = set()
    for j in range(3):
        c3[j].get("/v2/keys/cl/h", params={"quorum": "true"})
        indexes.add(c3[j].get("/v2/keys/cl/h").headers["X-Etcd-Index"])
    assert len(indexes) == 1, indexes


def test_members_list(c3):
    c3.learn_ids()
    want = members_json(c3)
    for j in range(3):
        r = c3[j].get("/v2/members")
        assert r.status_code == 200
        assert r.headers["Content-Type"] == JSON
        assert r.text == want


def test_members_leader(c3):
    lead = c3.leader_index()
    for j in range(3):
        r = c3[j].get("/v2/members/leader")
        assert r.status_code == 200
        assert r.headers["Content-Type"] == JSON
        assert r.text == member_json(c3[lead])


def test_machines(c3):
    # etcd sorts the client URLs as strings
    want = ", ".join(sorted(m.client_url for m in c3.active()))
    for j in range(3):
        r = c3[j].get("/v2/machines")
        assert r.status_code == 200
        assert r.headers["Content-Type"] == TEXT
        assert r.text == want


def test_health_all(c3):
    for j in range(3):
        r = c3[j].get("/health")
        assert r.status_code == 200
        assert r.text == '{"health":"true"}'


def test_stats_self_roles(c3):
    stats = [c3[j].get("/v2/stats/self").json() for j in range(3)]
    states = [s["state"] for s in stats]
    assert states.count("StateLeader") == 1, states
    assert states.count("StateFollower") == 2, states
    lead = states.index("StateLeader")
    assert {s["leaderInfo"]["leader"] for s in stats} == {stats[lead]["id"]}
    for j, s in enumerate(stats):
        assert s["name"] == "m%d" % j
        assert s["id"] == c3[j].id_hex
    assert c3.leader_index() == lead
    # followers count the appends they received
    for j, s in enumerate(stats):
        if j != lead:
            assert s["recvAppendRequestCnt"] > 0


def test_stats_leader(c3):
    lead = c3.leader_index()
    r = c3[lead].get("/v2/stats/leader")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == JSON
    s = r.json()
    assert list(s) == ["leader", "followers"]
    assert s["leader"] == c3[lead].id_hex
    assert set(s["followers"]) == {c3[j].id_hex for j in range(3)
                                   if j != lead}
    for f in s["followers"].values():
        assert list(f) == ["latency", "counts"]
        assert list(f["latency"]) == ["current", "average",
                                      "standardDeviation", "minimum",
                                      "maximum"]
        assert list(f["counts"]) == ["fail", "success"]
        assert f["counts"]["success"] > 0
    for j in c3.followers():
        r = c3[j].get("/v2/stats/leader")
        assert r.status_code == 403
        assert r.headers["Content-Type"] == JSON
        assert r.text == '{"message":"not current leader"}'


# -- quorum loss ------------------------------------------------------------------

def test_quorum_loss_and_recovery(cluster_factory):
    c = cluster_factory(3)
    r = c[0].put("/v2/keys/cl/q", data={"value": "before"})
    assert r.status_code == 201
    survivor = c.leader_index()          # the leader is the one kept
    dead = [i for i in range(3) if i != survivor]
    for i in dead:
        c.kill9(i)

    def unhealthy():
        h = c[survivor].get("/health", timeout=5)
        return (h,) if h.status_code != 200 else None   # 503 is falsy
    h, = cluster.wait_until(unhealthy, c.timeout_s(10),
                            "/health to report the lost quorum")
    assert h.status_code == 503
    assert h.headers["Content-Type"] == TEXT
    assert h.text == '{"health":"false"}\n'
    # a write cannot commit: etcd answers after its request timeout
    # (5 s + 2 election timeouts) with a raft error
    t0 = time.monotonic()
    w = c[survivor].put("/v2/keys/cl/q", data={"value": "lost"},
                        timeout=20)
    took = time.monotonic() - t0
    assert w.status_code == 500, w.text
    assert w.headers["X-Etcd-Index"] == "0"
    assert w.text == ('{"errorCode":300,"message":"Raft Internal Error",'
                      '"cause":"etcdserver: request timed out","index":0}\n')
    assert took < 15
    # local reads still answer with the last applied data
    g = c[survivor].get("/v2/keys/cl/q")
    assert g.status_code == 200 and g.json()["node"]["value"] == "before"
    for i in dead:
        c.restart(i, wait=False)
    c.wait_ready()
    for i in range(3):
        cluster.wait_until(lambda: c[i].healthy(), 10, "health back")
    r = c[dead[0]].put("/v2/keys/cl/q2", data={"value": "after"})
    assert r.status_code == 201
    ks = c.wait_converged()
    assert ks["/cl/q"][0] == "before" and ks["/cl/q2"][0] == "after"


def test_five_members_survive_two_kills(cluster_factory):
    c = cluster_factory(5)
    for i in range(5):
        assert c[i].put("/v2/keys/cl5/k%d" % i,
                        data={"value": str(i)}).status_code == 201
    lead = c.leader_index()
    victims = [lead, (lead + 1) % 5]
    for i in victims:
        c.kill9(i)
    alive = [i for i in range(5) if i not in victims]
    c.leader_index(members=alive)
    for i in alive:
        r = c[i].put("/v2/keys/cl5/after%d" % i, data={"value": "a"},
                     timeout=15)
        assert r.status_code == 201, r.text
        for j in alive:
            q = c[j].get("/v2/keys/cl5", params={"quorum": "true",
                                                  "recursive": "true"})
            assert q.status_code == 200
    for i in victims:
        c.restart(i, wait=False)
    c.wait_ready()
    ks = c.wait_converged()
    assert len([k for k in ks if k.startswith("/cl5/")]) == 8


# -- runtime membership ------------------------------------------------------------

def test_add_update_remove_member(cluster_factory):
    c = cluster_factory(3)
    assert c[0].put("/v2/keys/cl/m", data={"value": "data"}).status_code \
        == 201
    lead = c.leader_index()
    m, r = c.add_member(start=False)
    assert r.status_code == 201, r.text
    assert r.headers["Content-Type"] == JSON
    assert r.text == ('{"id":"%s","name":"","peerURLs":["%s"],'
                      '"clientURLs":[]}\n' % (m.id_hex, m.adv_peer_url))
    # listed at once, without a name or client URLs until it starts
    lst = c[lead].get("/v2/members").json()["members"]
    assert {"id": m.id_hex, "name": "", "peerURLs": [m.adv_peer_url],
            "clientURLs": []} in lst
    # PUT changes its peer URLs (and back, so that it can start)
    other = "http://127.0.0.1:%d" % cluster.stable_ports(1)[0]
    for urls in ([other], [m.adv_peer_url]):
        u = c[lead].put("/v2/members/%s" % m.id_hex,
                        json={"peerURLs": urls})
        assert u.status_code == 204, u.text
        assert u.content == b""
        got = [x for x in c[lead].get("/v2/members").json()["members"]
               if x["id"] == m.id_hex]
        assert got[0]["peerURLs"] == urls
    m.start(wait=False)
    c.wait_member_healthy(m.index)
    c.wait_ready()
    q = m.get("/v2/keys/cl/m", params={"quorum": "true"})
    assert q.status_code == 200 and q.json()["node"]["value"] == "data"
    assert m.get("/v2/keys/cl/m").json()["node"]["value"] == "data"
    cluster.wait_until(lambda: c[lead].get("/v2/members").text
                       == members_json(c), 10, "the new member's name")
    assert m.put("/v2/keys/cl/m4", data={"value": "x"}).status_code == 201
    # DELETE: 204, the member stops by itself
    d = c.remove_member(m.index)
    assert d.status_code == 204, d.text
    assert d.content == b""
    m.proc.wait(20)
    assert c[lead].get("/v2/members").text == members_json(c)
    assert len(c[lead].get("/v2/members").json()["members"]) == 3
    # a removed id: 410 for DELETE
    g = c[lead].delete("/v2/members/%s" % m.id_hex)
    assert g.status_code == 410
    assert g.headers["Content-Type"] == JSON
    assert g.text == '{"message":"Member permanently removed: %s"}' % \
        m.id_hex
    # the remaining three still work
    for i in range(3):
        assert c[i].put("/v2/keys/cl/after",
                        data={"value": str(i)}).status_code in (200, 201)
    c.wait_converged()


def test_member_errors(c3):
    c3.learn_ids()
    lead = c3.leader_index()
    s = c3[lead]

    def err(r, status, message, ctype=JSON):
        assert r.status_code == status, r.text
        assert r.headers["Content-Type"] == ctype
        assert r.text == json.dumps({"message": message},
                                    separators=(",", ":"))
    # unknown ids
    err(s.delete("/v2/members/1234"), 404, "No such member: 1234")
    err(s.put("/v2/members/1234", json={"peerURLs": ["http://127.0.0.1:9"]}),
        404, "No such member: 1234")
    err(s.delete("/v2/members/zz"), 404, "No such member: zz")
    # duplicate peer URL: etcd's strict reconfig check first wants every
    # member connected for 5 s (500 before that), then 409
    r = c3.post_member(lead, [c3[0].adv_peer_url])
    err(r, 409, "membership: peerURL exists")
    err(s.put("/v2/members/%s" % c3[1].id_hex,
              json={"peerURLs": [c3[2].adv_peer_url]}),
        409, "membership: peerURL exists")
    # malformed requests
    err(s.post("/v2/members", data="{bad",
               headers={"Content-Type": JSON}), 400,
        "invalid character 'b' looking for beginning of object key string")
    err(s.post("/v2/members", data="", headers={"Content-Type": JSON}),
        400, "unexpected end of JSON input")
    err(s.post("/v2/members", json={}), 400, "no valid URLs given")
    err(s.post("/v2/members", json={"peerURLs": []}), 400,
        "no valid URLs given")
    err(s.post("/v2/members", json={"peerURLs": ["notaurl"]}), 400,
        "URL scheme must be http, https, unix, or unixs: notaurl")
    err(s.post("/v2/members", data='{"peerURLs":["http://127.0.0.1:9"]}'),
        415, "Bad Content-Type , accept application/json")
    err(s.post("/v2/members", data='{"peerURLs":["http://127.0.0.1:9"]}',
               headers={"Content-Type": "text/plain"}), 415,
        "Bad Content-Type text/plain, accept application/json")
    for method, path in (("DELETE", "/v2/members"), ("PATCH", "/v2/members"),
                         ("DELETE", "/v2/members/")):
        r = s.req(method, path)
        assert r.status_code == 405
        assert r.text == "Method Not Allowed\n"
    # nothing above changed the membership
    assert s.get("/v2/members").text == members_json(c3)


# -- etcdctl (v2 mode) against the cluster ------------------------------------

def etcdctl2(m, *args):
    import os
    import subprocess
    env = dict(os.environ, ETCDCTL_API="2")
    return subprocess.run([cluster.ETCDCTL_BIN, "--endpoints", m.client_url]
                          + list(args), env=env, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=30)


def test_etcdctl_member_list_and_cluster_health(c3):
    lead = c3.leader_index()
    p = etcdctl2(c3[0], "member", "list")
    assert p.returncode == 0, p.stderr
    want = sorted("%s: name=%s peerURLs=%s clientURLs=%s isLeader=%s" % (
        m.id_hex, m.name, m.adv_peer_url, m.client_url,
        "true" if m.index == lead else "false") for m in c3.active())
    assert sorted(p.stdout.splitlines()) == want
    p = etcdctl2(c3[1], "cluster-health")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[-1] == "cluster is healthy"
    assert sorted(lines[:-1]) == sorted(
        "member %s is healthy: got healthy result from %s" % (m.id_hex,
                                                               m.client_url)
        for m in c3.active())


def test_etcdctl_member_add_update_remove(cluster_factory):
    c = cluster_factory(3)
    m0 = c[0]
    # etcd refuses membership changes (500, "unhealthy cluster") for ~5 s
    # after its members connect; cetcd as soon as a quorum is connected.
    deadline = time.monotonic() + cluster.RECONFIG_TIMEOUT
    while True:
        p = etcdctl2(m0, "member", "add", "extra", "http://127.0.0.1:1")
        if p.returncode == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("Added member named extra with ID ")
    new_id = p.stdout.split(" with ID ")[1].split()[0]
    assert 'ETCD_INITIAL_CLUSTER_STATE="existing"' in p.stdout
    p = etcdctl2(m0, "member", "update", new_id, "http://127.0.0.1:2")
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "Updated member with ID %s in cluster" % new_id
    listing = etcdctl2(c[1], "member", "list").stdout
    assert "%s[unstarted]: peerURLs=http://127.0.0.1:2" % new_id in listing
    p = etcdctl2(m0, "member", "remove", new_id)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "Removed member %s from cluster" % new_id
    p = etcdctl2(m0, "member", "remove", new_id)
    assert p.returncode == 1
    assert "Couldn't find a member in the cluster with an ID of %s." % new_id \
        in p.stderr
