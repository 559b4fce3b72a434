"""Unit tests of the test tools themselves (no server needed, all fast):
linearize.py's checker on hand-made histories, and relay.py's blocking on
plain sockets (an echo server behind the relay, fake cetcd preambles and a
fake etcd HTTP request), so both are known to work before any cluster
test relies on them."""

import random
import socket
import threading
import time

import pytest

import linearize as lz
import relay as rl
from linearize import Op, OK, FAILED, UNKNOWN


def W(key, v, t0, t1, outcome=OK, c=None):
    return Op("write", key, value=v, invoke=t0, complete=t1, outcome=outcome,
              client=c)


def R(key, v, t0, t1, c=None):
    return Op("read", key, result=v, invoke=t0, complete=t1, client=c)


def CAS(key, exp, v, t0, t1, outcome=OK, result=None):
    return Op("cas", key, value=v, expected=exp, invoke=t0, complete=t1,
              outcome=outcome, result=result)


def D(key, t0, t1, outcome=OK, result=None):
    return Op("delete", key, invoke=t0, complete=t1, outcome=outcome,
              result=result)


def ok(h):
    good, why = lz.check(h)
    assert good, why


def bad(h, key="/k"):
    good, why = lz.check(h)
    assert not good
    assert "key %s" % key in why
    return why


# -- linearizable histories --------------------------------------------------

def test_empty_and_sequential():
    ok([])
    ok([R("/k", None, 0, 1), W("/k", "a", 2, 3), R("/k", "a", 4, 5),
        CAS("/k", "a", "b", 6, 7), R("/k", "b", 8, 9), D("/k", 10, 11),
        R("/k", None, 12, 13)])


@pytest.mark.parametrize("seen", ["a", "b"])
def test_concurrent_writes_either_order(seen):
    # two overlapping writes; a later read may see either one
    ok([W("/k", "a", 0, 10), W("/k", "b", 1, 9), R("/k", seen, 11, 12)])


@pytest.mark.parametrize("first", ["old", "new"])
def test_read_overlapping_write_either_value(first):
    ok([W("/k", "old", 0, 1), W("/k", "new", 2, 10),
        R("/k", first, 3, 4)])


def test_unknown_write_that_appears_later():
    ok([W("/k", "a", 0, 1), W("/k", "x", 2, 3, outcome=UNKNOWN),
        R("/k", "a", 4, 5), R("/k", "x", 20, 21)])


def test_unknown_write_that_never_appears():
    ok([W("/k", "a", 0, 1), W("/k", "x", 2, 3, outcome=UNKNOWN),
        R("/k", "a", 4, 5), R("/k", "a", 30, 31)])


def test_failed_write_is_ignored():
    ok([W("/k", "a", 0, 1), W("/k", "x", 2, 3, outcome=FAILED),
        R("/k", "a", 4, 5)])


def test_cas_observations():
    ok([W("/k", "a", 0, 1),
        CAS("/k", "zz", "q", 2, 3, outcome=FAILED, result="a"),
        CAS("/k", "zz", "q", 2, 3, outcome=FAILED, result=lz.MISMATCH),
        CAS("/k", "a", "b", 4, 5), D("/k", 6, 7),
        D("/k", 8, 9, outcome=FAILED, result=lz.ABSENT_SEEN),
        CAS("/k", "b", "c", 10, 11, outcome=FAILED, result=lz.ABSENT_SEEN)])


def test_keys_are_independent():
    ok([W("/a", "1", 0, 1), W("/b", "2", 0, 1), R("/a", "1", 2, 3),
        R("/b", "2", 2, 3)])


def test_unknown_cas_and_delete():
    ok([W("/k", "a", 0, 1), CAS("/k", "a", "b", 2, 3, outcome=UNKNOWN),
        R("/k", "a", 4, 5), R("/k", "b", 6, 7),
        D("/k", 8, 9, outcome=UNKNOWN), R("/k", "b", 10, 11),
        R("/k", None, 12, 13)])


# -- non-linearizable histories ----------------------------------------------

def test_stale_read():
    why = bad([W("/k", "a", 0, 1), W("/k", "b", 2, 3), R("/k", "a", 4, 5)])
    assert "read(/k) -> 'a'" in why


def test_lost_write():
    bad([W("/k", "a", 0, 1), R("/k", None, 2, 3)])


def test_read_of_never_written_value():
    bad([W("/k", "a", 0, 1), R("/k", "zz", 2, 3)])


def test_unknown_write_cannot_appear_before_its_invoke():
    bad([R("/k", "x", 0, 1), W("/k", "x", 2, 3, outcome=UNKNOWN)])


def test_values_flip_back():
    # a then b then a again, with only one write of a: not linearizable
    bad([W("/k", "a", 0, 10), W("/k", "b", 0, 10), R("/k", "a", 11, 12),
         R("/k", "b", 13, 14), R("/k", "a", 15, 16)])


def test_concurrent_reads_disagree_with_order():
    # two reads in sequence after both writes completed must not flip
    bad([W("/k", "a", 0, 5), W("/k", "b", 1, 6), R("/k", "b", 7, 8),
         R("/k", "a", 9, 10)])


def test_cas_success_on_wrong_value():
    bad([W("/k", "a", 0, 1), CAS("/k", "b", "c", 2, 3)])


def test_cas_mismatch_when_it_matched():
    bad([W("/k", "a", 0, 1),
         CAS("/k", "a", "c", 2, 3, outcome=FAILED, result=lz.MISMATCH)])


def test_double_delete():
    bad([W("/k", "a", 0, 1), D("/k", 2, 3), D("/k", 4, 5)])


def test_bad_key_named_among_good():
    why = bad([W("/a", "1", 0, 1), R("/a", "1", 2, 3),
               W("/z", "1", 0, 1), R("/z", "2", 2, 3)], key="/z")
    assert "bad window" in why


def test_random_sequential_histories_pass():
    seed = random.randrange(1 << 30)
    print("seed", seed)
    rnd = random.Random(seed)
    state, t, h = None, 0.0, []
    for i in range(400):
        k = rnd.random()
        if k < 0.4:
            state = "v%d" % i
            h.append(W("/k", state, t, t + 0.5))
        elif k < 0.7:
            h.append(R("/k", state, t, t + 0.5))
        elif k < 0.85 and state is not None:
            h.append(CAS("/k", state, "c%d" % i, t, t + 0.5))
            state = "c%d" % i
        else:
            h.append(Op("write", "/k", value="u%d" % i, invoke=t,
                        outcome=UNKNOWN))
        t += 1.0
    ok(h)


def test_many_concurrent_ops_fast():
    # 4 clients, each op overlapping the others', 600 ops: must stay quick
    seed = random.randrange(1 << 30)
    print("seed", seed)
    rnd = random.Random(seed)
    h, state, t = [], None, 0.0
    for i in range(150):
        # 4 overlapping ops; the actual order applied is a shuffle of them
        batch = []
        for c in range(4):
            if rnd.random() < 0.5:
                batch.append(("w", "v%d_%d" % (i, c), c))
            else:
                batch.append(("r", None, c))
        rnd.shuffle(batch)
        for kind, v, c in batch:
            if kind == "w":
                state = v
                h.append(W("/k", v, t + c * 0.01, t + 1, c=c))
            else:
                h.append(R("/k", state, t + c * 0.01, t + 1, c=c))
        t += 2
    t0 = time.monotonic()
    ok(h)
    assert time.monotonic() - t0 < 10


# -- History recording (no server: connection refused = failed) --------------

def test_history_refused_connection_is_failed():
    port = rl_free_port()
    h = lz.History(timeout=1)
    op = h.write("http://127.0.0.1:%d" % port, "/k", "v")
    assert op.outcome == FAILED
    assert len(h) == 1
    ok(h)


def test_history_timeout_is_unknown():
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)          # accepts (kernel backlog) but never answers
    try:
        h = lz.History(timeout=0.3)
        op = h.write("http://127.0.0.1:%d" % ls.getsockname()[1], "/k", "v")
        assert op.outcome == UNKNOWN and op.complete == lz.INF
    finally:
        ls.close()


# -- relay self-test ------------------------------------------------------------

def rl_free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Echo:
    """A threaded echo server on a free loopback port."""

    def __init__(self):
        self.ls = socket.socket()
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(16)
        self.ls.settimeout(0.1)
        self.port = self.ls.getsockname()[1]
        self.stop = threading.Event()
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        while not self.stop.is_set():
            try:
                c, _ = self.ls.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self._echo, args=(c,), daemon=True).start()

    def _echo(self, c):
        c.settimeout(0.2)
        try:
            while not self.stop.is_set():
                try:
                    d = c.recv(65536)
                except socket.timeout:
                    continue
                if not d:
                    break
                c.sendall(d)
        except OSError:
            pass
        c.close()

    def close(self):
        self.stop.set()
        self.ls.close()
        self.t.join(2)


@pytest.fixture
def relayed():
    echo = Echo()
    r = rl.Relay()
    port = rl_free_port()
    r.add_route(port, echo.port)
    r.set_owner(port, 2)
    yield r, port
    r.close()
    echo.close()


def dial(port, src, dst, kind=1):
    s = socket.create_connection(("127.0.0.1", port), timeout=2)
    s.sendall(rl.make_preamble(0xC1, src, dst, kind))
    return s


def echo_ok(s, payload=b"ping"):
    """True when payload comes back (the preamble is echoed first)."""
    try:
        s.sendall(payload)
        want = rl.PREAMBLE_LEN + len(payload) if s.fresh else len(payload)
        got = b""
        s.settimeout(0.6)
        while len(got) < want:
            d = s.recv(want - len(got))
            if not d:
                return False
            got += d
        s.fresh = False
        return got.endswith(payload)
    except (socket.timeout, OSError):
        return False


class Sock:
    def __init__(self, s):
        self.s = s
        self.fresh = True

    def sendall(self, b):
        self.s.sendall(b)

    def recv(self, n):
        return self.s.recv(n)

    def settimeout(self, t):
        self.s.settimeout(t)

    def close(self):
        self.s.close()


def test_preamble_roundtrip():
    p = rl.make_preamble(7, 0x1122334455667788, 9, 3)
    assert len(p) == 40 and p[:8] == b"CETCDP01"
    assert rl.parse_preamble(p) == (7, 0x1122334455667788, 9, 3)
    assert rl.parse_preamble(b"GET / HTTP/1.1\r\n" + b"x" * 40) is None


def test_relay_forwards(relayed):
    r, port = relayed
    s = Sock(dial(port, 1, 2))
    assert echo_ok(s)
    assert echo_ok(s, b"x" * 100000)
    s.close()


def test_relay_drop_and_heal(relayed):
    r, port = relayed
    s12 = Sock(dial(port, 1, 2))
    s32 = Sock(dial(port, 3, 2))
    assert echo_ok(s12) and echo_ok(s32)
    r.block(1, 2, "drop")
    assert not echo_ok(s12)               # existing connection closed
    assert echo_ok(s32)                   # other pairs untouched
    n = Sock(dial(port, 1, 2))            # new one closed after preamble
    assert not echo_ok(n)
    r.heal()
    n = Sock(dial(port, 1, 2))
    assert echo_ok(n)
    for s in (s12, s32, n):
        s.close()


def test_relay_blackhole_stalls_then_heal_closes(relayed):
    r, port = relayed
    s = Sock(dial(port, 1, 2))
    assert echo_ok(s)
    r.block(1, 2, "blackhole")
    assert not echo_ok(s)                 # stalls: no data, no close
    n = Sock(dial(port, 1, 2))            # new connections stall too
    assert not echo_ok(n)
    r.heal(1, 2)
    # stalled connections are closed on heal; a new one works
    s.s.settimeout(2)
    try:
        rest = s.s.recv(100)
    except OSError:
        rest = b""
    assert rest == b""
    fresh = Sock(dial(port, 1, 2))
    assert echo_ok(fresh)
    for x in (s, n, fresh):
        x.close()


def test_relay_isolate_and_partition(relayed):
    r, port = relayed
    r.isolate(2, [1, 2, 3])
    assert not echo_ok(Sock(dial(port, 1, 2)))
    assert not echo_ok(Sock(dial(port, 3, 2)))
    r.heal()
    r.partition([1], [2, 3])
    assert not echo_ok(Sock(dial(port, 1, 2)))
    assert echo_ok(Sock(dial(port, 3, 2)))
    r.heal()
    assert echo_ok(Sock(dial(port, 1, 2)))


def test_relay_http_sender_and_unknown(relayed):
    r, port = relayed
    req = (b"GET /raft/stream/message/1 HTTP/1.1\r\nHost: x\r\n"
           b"X-Server-From: 1\r\n\r\n")

    def http_conn(data):
        s = socket.create_connection(("127.0.0.1", port), timeout=2)
        s.sendall(data)
        s.settimeout(0.6)
        got = b""
        try:
            while len(got) < len(data):
                d = s.recv(4096)
                if not d:
                    break
                got += d
        except OSError:
            pass
        s.close()
        return got == data
    assert http_conn(req)
    r.block(1, 2, "drop")            # X-Server-From 1 to owner 2: cut
    assert not http_conn(req)
    assert not http_conn(req.replace(b"X-Server-From: 1\r\n", b""))
    r.heal()
    r.block(3, 2, "drop")
    assert not http_conn(req.replace(b"From: 1", b"From: 3"))
    assert http_conn(req)
    r.heal()
