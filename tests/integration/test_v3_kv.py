"""The v3 KV API through etcd's JSON gateway (/v3/kv/...): put, range
(every option), deleterange, txn (compares, both branches, nesting,
duplicate keys), compaction, every error with etcd's gRPC code, HTTP status
and text, malformed JSON and base64, unknown paths and methods, /v3beta.

The transcript was recorded from Debian's etcd 3.4.23 on a fresh
single-member server; the test replays it request by request and compares
status and body byte for byte (member and cluster ids are the server's).
"""

import time

import pytest

import cluster

# (method, path, JSON body, HTTP status, body with {cid}/{mid} for the ids)
TRANSCRIPT = [
    ('POST', '/v3/kv/put', '{"key":"Zm9v","value":"YmFy"}', 200, '{"header":{"cluster_id":"{cid}","member_id":"{mid}","revision":"2","raft_term":"2"}}'),
    ('POST', '/v3/kv/range', '{"key":"Zm9v"}', 200, '{"header":{"cluster_id":"{cid}","member_id":"{mid}","revision":"2","raft_term":"2"},"kvs":[{"key":"Zm9v","create_revision":"2","mod_revision":"2","version":"1","value":"YmFy"}],"count":"1"}'),
    ('POST', '/v3/kv/txn', '{"compare":[{"key":"Zm9v","result":"EQUAL","target":"VALUE","value":"YmFy"}],"success":[{"request_put":{"key":"Zm9v","value":"YmF6"}},{"request_range":{"key":"Zm9v"}},{"request_delete_range":{"key":"bm9uZQ=="}}],"failure":[]}', 200, '{"header":{"cluster_id":"{cid}","member_id":"{mid}","revision":"3","raft_term":"2"},"succeeded":true,"responses":[{"response_put":{"header":{"revision":"3"}}},{"response_range":{"header":{"revision":"3"},"kvs":[{"key":"Zm9v","create_revision":"2","mod_revision":"3","version":"2","value":"YmF6"}],"count":"1"}},{"response_delete_range":{"header":{"revision":"3"}}}]}'),
    ('POST', '/v3/kv/txn', '{"compare":[{"key":"Zm9v","result":"EQUAL","target":"VALUE","value":"YmFy"}],"success":[{"request_put":{"key":"Zm9v","value":"YmF6"}}],"failure":[{"request_range":{"key":"Zm9v"}}]}', 200, '{"header":{"cluster_id":"{cid}","member_id":"{mid}","revision":"3","raft_term":"2"},"responses":[{"response_range":{"header":{"revision":"3"},"kvs":[{"key":"Zm9v","create_revision":"2","mod_revision":"3","version":"2","value":"YmF6"}],"count":"1"}}]}'),
    ('POST', '/v3/kv/put', '{"key":"","value":"YmFy"}', 400, '{"error":"etcdserver: key is not provided","message":"etcdserver: key is not provided","code":3}'),
    ('POST', '/v3/kv/range', '{"key":"Zm9v","revision":100}', 400, '{"error":"etcdserver: mvcc: required revision is a future revision","message":"etcdserver: mvcc: required revision is a future revision","code":11}'),
    ('POST', '/v3/kv/put', '{"key":"Zm9vMQ==","value":"MQ=="}', 200, '{"header":{"cluster_id":"{cid}","member_id":"{mid}","revision":"4","raft_term":"2"}}'),
    ('POST', '/v3/kv/put', '{"key":"Zm9vMg==","value":"Mg==","prev_kv":true}', 200, '{"header":{"cluster_id":"{cid}","member_id":"{mid}","revision":"5","raft_term":"2"}}'),
    ('POST', '/v3/kv/put', '{"key":"Zm9vMg==","value":"Mw==","prev_kv":true}', 200, '{"header":{"cluster_id":"{cid}","member_id":"{mid}","revision":"6","raft_term":"2"},"prev_kv":{"key":"Zm9vMg==","create_revision":"5","mod_revision":"5","version":"1","value":"Mg=="}}'),
    ('POST', '/v3/kv/range', '{"key":"Zm9v","range_end":"Zm9w"}', 200, '{"header":{"cluster_id":"{cid}","member_id":"{mid}","revision":"6","raft_term":"2"},"kvs":[{"key":"Zm9v","create_revision":"2","mod_revision":"3","version":"2","value":"YmF6"},{"key":"Zm9vMQ==","create_revision":"4","mod_revision":"4","version":"1","value":"MQ=="},{"key":"Zm9vMg==","create_revision":"5","mod_revision":"6","version":"2","value":"Mw=="}],"count":"3"}'),
    ('POST', '/v3/kv/range', '{"key":"Zm9v","range_end":"Zm9w","limit":2}', 200, '{"header":{"cluster_id":"{cid}","member_id":"{mid}","revision":"6","raft_term":"2"},"kvs":[{"key":"Zm9v","create_revision":"2","mod_revision":"3","version":"2","value":"YmF6"},{"key":"Zm9vMQ==","create_revision":"4","mod_revision":"4","version":"1","value":"MQ=="}],"more":true,"count":"3"}'),
    ('POST', '/v3/kv/range', '{"key":"Zm9v","range_end":"Zm9w","count_only":true}', 200, '{"header":{"cluster_id":"{cid}","member_id":"{mid}","revision":"6","raft_term":"2"},"count":"3"}'),
    ('POST', '/v3/kv/range', '{"key":"Zm9v","range_end":"Zm9w","keys_only":true,"sort_order":"DESCEND"}', 200, '{"header":{"cluster_id":"{cid}","member_id":"{mid}","revision":"6","raft_term":"2"},"kvs":[{"key":"Zm9vMg==","create_revision":"5","mod_revision":"6","version":"2"},{"key":"Zm9vMQ==","create_revision":"4","mod_revision":"4","version":"1"},{"key":"Zm9v","create_revision":"2","mod_revision":"3","version":"2"}],"count":"3"}'),
    ('POST', '/v3/kv/range', '{"key":"AA==","range_end":"AA=="}', 200, '{"header":{"cluster_id":"{cid}","member_id":"{mid}","revision":"6","raft_term":"2"},"kvs":[{"key":"Zm9v","create_revision":"2","mod_revision":"3","version":"2","value":"YmF6"},{"key":"Zm9vMQ==","create_revision":"4","mod_revision":"4","version":"1","value":"MQ=="},{"key":"Zm9vMg==","create_revision":"5","mod_revision":"6","version":"2","value":"Mw=="}],"count":"3"}'),
    ('POST', '/v3/kv/range', '{"key":"Zm9v","range_end":"Zm9w","serializable":true,"sort_target":"MOD","sort_order":"DESCEND"}', 200, '{"header":{"cluster_id":"{cid}","member_id":"{mid}","revision":"6","raft_term":"2"},"kvs":[{"key":"Zm9vMg==","create_revision":"5","mod_revision":"6","version":"2","value":"Mw=="},{"key":"Zm9vMQ==","create_revision":"4","mod_revision":"4","version":"1","value":"MQ=="},{"key":"Zm9v","create_revision":"2","mod_revision":"3","version":"2","value":"YmF6"}],"count":"3"}'),
    ('POST', '/v3/kv/deleterange', '{"key":"Zm9v","prev_kv":true}', 200, '{"header":{"cluster_id":"{cid}","member_id":"{mid}","revision":"7","raft_term":"2"},"deleted":"1","prev_kvs":[{"key":"Zm9v","create_revision":"2","mod_revision":"3","version":"2","value":"YmF6"}]}'),
    ('POST', '/v3/kv/deleterange', '{"key":"bm9uZQ=="}', 200, '{"header":{"cluster_id":"{cid}","member_id":"{mid}","revision":"7","raft_term":"2"}}'),
    ('POST', '/v3/kv/compaction', '{"revision":"3"}', 200, '{"header":{"cluster_id":"{cid}","member_id":"{mid}","revision":"7","raft_term":"2"}}'),
    ('POST', '/v3/kv/compaction', '{"revision":"3"}', 400, '{"error":"etcdserver: mvcc: required revision has been compacted","message":"etcdserver: mvcc: required revision has been compacted","code":11}'),
    ('POST', '/v3/kv/compaction', '{"revision":"300"}', 400, '{"error":"etcdserver: mvcc: required revision is a future revision","message":"etcdserver: mvcc: required revision is a future revision","code":11}'),
    ('POST', '/v3/kv/range', '{"key":"Zm9v","revision":2}', 400, '{"error":"etcdserver: mvcc: required revision has been compacted","message":"etcdserver: mvcc: required revision has been compacted","code":11}'),
    ('POST', '/v3/kv/range', '{"key":"Zm9vMg==","revision":5}', 200, '{"header":{"cluster_id":"{cid}","member_id":"{mid}","revision":"7","raft_term":"2"},"kvs":[{"key":"Zm9vMg==","create_revision":"5","mod_revision":"5","version":"1","value":"Mg=="}],"count":"1"}'),
    ('POST', '/v3/kv/put', '{"key":"YQ==","value":"YmFy","lease":"123"}', 404, '{"error":"etcdserver: requested lease not found","message":"etcdserver: requested lease not found","code":5}'),
    ('POST', '/v3/kv/put', '{"key":"YQ==","ignore_value":true}', 400, '{"error":"etcdserver: key not found","message":"etcdserver: key not found","code":3}'),
    ('POST', '/v3/kv/put', '{"key":"YQ==","ignore_value":true,"value":"eA=="}', 400, '{"error":"etcdserver: value is provided","message":"etcdserver: value is provided","code":3}'),
    ('POST', '/v3/kv/put', '{"key":"YQ==","ignore_lease":true,"lease":"5"}', 400, '{"error":"etcdserver: lease is provided","message":"etcdserver: lease is provided","code":3}'),
    ('POST', '/v3/kv/txn', '{"success":[{"request_put":{"key":"YQ==","value":"eA=="}},{"request_put":{"key":"YQ==","value":"eQ=="}}]}', 400, '{"error":"etcdserver: duplicate key given in txn request","message":"etcdserver: duplicate key given in txn request","code":3}'),
    ('POST', '/v3/kv/txn', '{"success":[{"request_delete_range":{"key":"YQ==","range_end":"Yg=="}},{"request_put":{"key":"YQ==","value":"eQ=="}}]}', 400, '{"error":"etcdserver: duplicate key given in txn request","message":"etcdserver: duplicate key given in txn request","code":3}'),
    ('POST', '/v3/kv/txn', '{"compare":[{"key":"Zm9vMQ==","target":"VERSION","result":"GREATER","version":"0"}],"success":[{"request_range":{"key":"Zm9vMQ=="}}]}', 200, '{"header":{"cluster_id":"{cid}","member_id":"{mid}","revision":"7","raft_term":"2"},"succeeded":true,"responses":[{"response_range":{"header":{"revision":"7"},"kvs":[{"key":"Zm9vMQ==","create_revision":"4","mod_revision":"4","version":"1","value":"MQ=="}],"count":"1"}}]}'),
    ('POST', '/v3/kv/txn', '{"compare":[{"key":"Zm9vMQ==","target":"CREATE","result":"LESS","create_revision":"100"}],"success":[{"request_txn":{"success":[{"request_put":{"key":"bg==","value":"MQ=="}}]}}]}', 200, '{"header":{"cluster_id":"{cid}","member_id":"{mid}","revision":"8","raft_term":"2"},"succeeded":true,"responses":[{"response_txn":{"header":{},"succeeded":true,"responses":[{"response_put":{"header":{"revision":"8"}}}]}}]}'),
    ('POST', '/v3/kv/range', '{"key":"AA==","range_end":"AA==","count_only":true}', 200, '{"header":{"cluster_id":"{cid}","member_id":"{mid}","revision":"8","raft_term":"2"},"count":"3"}'),
    ('POST', '/v3/kv/put', '{bad', 400, '{"error":"invalid character \'b\' looking for beginning of object key string","message":"invalid character \'b\' looking for beginning of object key string","code":3}'),
    ('POST', '/v3/kv/put', '{"key":"Zm9v","value":"!!"}', 400, '{"error":"illegal base64 data at input byte 0","message":"illegal base64 data at input byte 0","code":3}'),
    ('POST', '/v3/kv/put', '{"key":"Zm9v","lease":"abc"}', 400, '{"error":"invalid character \'a\' looking for beginning of value","message":"invalid character \'a\' looking for beginning of value","code":3}'),
    ('POST', '/v3/kv/range', '[]', 400, '{"error":"json: cannot unmarshal array into Go value of type map[string]json.RawMessage","message":"json: cannot unmarshal array into Go value of type map[string]json.RawMessage","code":3}'),
    ('POST', '/v3/kv/nosuch', '{}', 404, 'Not Found\n'),
    ('GET', '/v3/kv/range', None, 405, 'Method Not Allowed\n'),
    ('POST', '/v3beta/kv/range', '{"key":"YQ=="}', 200, '{"header":{"cluster_id":"{cid}","member_id":"{mid}","revision":"8","raft_term":"2"}}'),
]


@pytest.fixture
def fresh(server_factory):
    return server_factory()


def ids(s):
    st = s.get("/v2/stats/self").json()
    cid = s.get("/v2/members").headers["X-Etcd-Cluster-Id"]
    return str(int(cid, 16)), str(int(st["id"], 16))


def test_kv_transcript(fresh):
    cid, mid = ids(fresh)
    for i, (method, path, body, status, want) in enumerate(TRANSCRIPT):
        r = fresh.req(method, path, data=body)
        want = want.replace("{cid}", cid).replace("{mid}", mid)
        assert (r.status_code, r.text) == (status, want), (i, method, path, body)
        if status == 200 and path.startswith("/v3"):
            assert r.headers["Content-Type"] == "application/json"
            assert r.headers["Grpc-Metadata-Content-Type"] == "application/grpc"


def test_linearizable_and_serializable_reads_agree(fresh):
    for n in range(20):
        assert fresh.post("/v3/kv/put", data='{"key":"%s","value":"dg=="}' % (
            ["YQ==", "Yg==", "Yw=="][n % 3])).status_code == 200
    a = fresh.post("/v3/kv/range", data='{"key":"AA==","range_end":"AA=="}').json()
    b = fresh.post("/v3/kv/range", data='{"key":"AA==","range_end":"AA==",'
                   '"serializable":true}').json()
    assert a["count"] == b["count"] == "3"
    assert a["kvs"] == b["kvs"]
    assert [kv["version"] for kv in a["kvs"]] == ["7", "7", "6"]


def test_auto_compaction_periodic(server_factory):
    """--auto-compaction-mode periodic with a 2 s retention: old revisions
    become unreadable by themselves (etcd's periodic compactor)."""
    s = server_factory(start=False)
    s.extra_args += ["--auto-compaction-mode", "periodic",
                     "--auto-compaction-retention", "2s"]
    s.start()
    first = None
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        r = s.post("/v3/kv/put", data='{"key":"YWM=","value":"dg=="}')
        assert r.status_code == 200, r.text
        if first is None:
            first = r.json()["header"]["revision"]
        g = s.post("/v3/kv/range", data='{"key":"YWM=","revision":"%s"}' % first)
        if g.status_code == 400:
            assert g.json()["error"] == "etcdserver: mvcc: required revision has been compacted"
            return
        assert g.status_code == 200, g.text
        time.sleep(0.3)
    pytest.fail("revision %s was never compacted" % first)


def raw_post(server, path, body):
    """The exact bytes of an answer (one request, connection closed)."""
    import socket
    host, port = server.url("/").split("//")[1].split("/")[0].split(":")
    s = socket.create_connection((host, int(port)), timeout=10)
    try:
        s.sendall(b"POST %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                  b"Content-Length: %d\r\n\r\n%s" % (path.encode(), len(body), body))
        data = b""
        while True:
            c = s.recv(65536)
            if not c:
                return data
            data += c
    finally:
        s.close()


def test_error_framing(fresh):
    """A refusal by the gRPC server comes chunked with grpc-gateway's
    trailer; a body the gateway cannot decode comes with a Content-Length
    (etcd 3.4.23's bytes, Date aside)."""
    raw = raw_post(fresh, "/v3/kv/put", b'{"key":""}')
    head, body = raw.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert b"\r\nTrailer: Grpc-Trailer-Content-Type\r\n" in head
    assert b"\r\nTransfer-Encoding: chunked" in head
    msg = b'{"error":"etcdserver: key is not provided","message":"etcdserver: key is not provided","code":3}'
    assert body == b"%x\r\n%s\r\n0\r\nGrpc-Trailer-Content-Type: application/grpc\r\n\r\n" % (
        len(msg), msg)
    raw = raw_post(fresh, "/v3/kv/put", b'{"key":1}')
    head, body = raw.split(b"\r\n\r\n", 1)
    assert b"\r\nContent-Length: 152" in head and b"Trailer" not in head
    assert body == (b'{"error":"json: cannot unmarshal number into Go value of type []uint8",'
                    b'"message":"json: cannot unmarshal number into Go value of type []uint8",'
                    b'"code":3}')
