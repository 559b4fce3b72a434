"""Linearizability checking of client histories on per-key registers.

A history is a list of Op: write(key, value), read(key) -> value or absent,
cas(key, expected, new) and delete(key), each with invoke/complete times
(time.monotonic) and an outcome:

  ok       the operation took effect once, between invoke and complete, and
           `result` is what it observed (reads: the value, None = absent);
  failed   it definitely did not take effect.  `result` may still carry an
           observation made at its linearization point: a cas refused by
           the comparison saw the key absent (ABSENT_SEEN) or holding some
           other value (MISMATCH, or the actual value when known); a
           delete refused with "Key not found" saw it absent.  Failed ops
           without an observation (result None) are ignored;
  unknown  a timeout or connection error: it may or may not take effect, at
           any time after invoke (its completion is +infinity).

check(history) runs Wing & Gong's search with Lowe's memoisation (the
(linearized set, state) pairs already explored are cached) for every key
independently, and returns (True, "") or (False, explanation naming the key
and the smallest window of ops around where every linearization failed).

History records ops made through the v2 HTTP API (requests) and classifies
their outcomes from the HTTP status and etcd error code.
"""

import threading
import time

import requests

ABSENT = None           # register state / read result of a missing key
ABSENT_SEEN = ("absent-seen",)    # observation: the key did not exist
MISMATCH = ("mismatch",)          # observation: present, value != expected

OK = "ok"
FAILED = "failed"
UNKNOWN = "unknown"

INF = float("inf")


class Op:
    __slots__ = ("kind", "key", "value", "expected", "result", "outcome",
                 "invoke", "complete", "client", "id")

    def __init__(self, kind, key, value=None, expected=None, result=None,
                 outcome=OK, invoke=0.0, complete=0.0, client=None):
        assert kind in ("write", "read", "cas", "delete"), kind
        assert outcome in (OK, FAILED, UNKNOWN), outcome
        self.kind = kind
        self.key = key
        self.value = value
        self.expected = expected
        self.result = result
        self.outcome = outcome
        self.invoke = invoke
        self.complete = INF if outcome == UNKNOWN else complete
        self.client = client
        self.id = None

    def __repr__(self):
        if self.kind == "write":
            what = "write(%s, %r)" % (self.key, self.value)
        elif self.kind == "read":
            what = "read(%s)" % self.key
        elif self.kind == "cas":
            what = "cas(%s, %r -> %r)" % (self.key, self.expected, self.value)
        else:
            what = "delete(%s)" % self.key
        res = ""
        if self.outcome != UNKNOWN and (self.kind == "read"
                                        or self.result is not None):
            res = " -> %s" % ("absent" if self.result is None
                              else "absent-seen" if self.result is ABSENT_SEEN
                              else "mismatch" if self.result is MISMATCH
                              else repr(self.result))
        return "%s%s [%s %.3f..%s%s]" % (
            what, res, self.outcome, self.invoke,
            "inf" if self.complete == INF else "%.3f" % self.complete,
            "" if self.client is None else " c%s" % self.client)


def _observes(op):
    """True when a failed op still constrains the state (see module doc)."""
    return op.outcome == FAILED and op.result is not None


def step(op, state):
    """Apply op to the register state: (allowed, new_state)."""
    k, out = op.kind, op.outcome
    if out == FAILED:
        r = op.result
        if r is ABSENT_SEEN:
            return state is ABSENT, state
        if r is MISMATCH:
            return state is not ABSENT and state != op.expected, state
        # cas refused while the key held the value r
        return state == r and state != op.expected, state
    if k == "read":
        return state == op.result, state
    if k == "write":
        return True, op.value
    if k == "cas":
        if state is not ABSENT and state == op.expected:
            return True, op.value
        # an ok cas must have matched; an unknown one that did not match
        # is the same as one that never happened
        return out == UNKNOWN, state
    # delete
    if state is not ABSENT:
        return True, ABSENT
    return out == UNKNOWN, state


def _relevant(ops):
    out = []
    for op in ops:
        if op.outcome == FAILED and not _observes(op):
            continue            # definitely no effect, nothing observed
        if op.outcome == UNKNOWN and op.kind == "read":
            continue            # no effect, nothing observed
        out.append(op)
    return out


class _Entry:
    __slots__ = ("op", "is_call", "match", "prev", "next", "t")

    def __init__(self, op, is_call, t):
        self.op = op
        self.is_call = is_call
        self.t = t
        self.match = None
        self.prev = None
        self.next = None


def check_key(ops, init=ABSENT, max_steps=5_000_000):
    """WGL search for one key's ops: (True, None) or (False, info) where info
    is (deepest linearized prefix as a list, blocking op, candidates there).
    Raises RuntimeError when max_steps is exceeded (history too hard)."""
    ops = _relevant(ops)
    for i, op in enumerate(ops):
        op.id = i
    # events sorted by time; at equal times calls before returns would let
    # ops that merely touch overlap, so returns come first
    events = []
    for op in ops:
        events.append((op.invoke, 1, op.id, True))
        if op.complete != INF:
            events.append((op.complete, 0, op.id, False))
    events.sort()
    head = _Entry(None, False, -INF)
    prev = head
    calls = {}
    for t, _, oid, is_call in events:
        e = _Entry(ops[oid], is_call, t)
        if is_call:
            calls[oid] = e
        else:
            calls[oid].match = e
        prev.next = e
        e.prev = prev
        prev = e
    required = sum(1 for op in ops if op.complete != INF)

    def lift(e):
        e.prev.next = e.next
        if e.next:
            e.next.prev = e.prev
        m = e.match
        if m is not None:
            m.prev.next = m.next
            if m.next:
                m.next.prev = m.prev

    def unlift(e):
        m = e.match
        if m is not None:
            m.prev.next = m
            if m.next:
                m.next.prev = m
        e.prev.next = e
        if e.next:
            e.next.prev = e

    state = init
    linearized = 0
    done_required = 0
    cache = set()
    stack = []
    best = (-1, None, None)        # (depth, stack snapshot, blocking op)
    steps = 0
    entry = head.next
    while True:
        if done_required == required:
            return True, None
        steps += 1
        if steps > max_steps:
            raise RuntimeError("linearizability search exceeded %d steps"
                               % max_steps)
        if entry is not None and entry.is_call:
            op = entry.op
            allowed, new_state = step(op, state)
            if allowed:
                lin2 = linearized | (1 << op.id)
                key = (lin2, new_state)
                if key not in cache:
                    cache.add(key)
                    stack.append((entry, state))
                    state = new_state
                    linearized = lin2
                    if op.complete != INF:
                        done_required += 1
                    lift(entry)
                    entry = head.next
                    continue
            entry = entry.next
            continue
        # a return (or the end of the list) reached: the op it completes
        # could not be linearized in any order tried so far -> backtrack
        if len(stack) > best[0]:
            best = (len(stack), [s[0].op for s in stack],
                    entry.op if entry is not None else None, state)
        if not stack:
            return False, best
        e, state = stack.pop()
        op = e.op
        linearized &= ~(1 << op.id)
        if op.complete != INF:
            done_required -= 1
        unlift(e)
        entry = e.next


def _explain(key, ops, info):
    depth, order, blocker, state = info
    lines = ["key %s: not linearizable (%d ops)" % (key, len(ops))]
    if blocker is None:
        lines.append("no op order fits (deepest prefix %d ops)" % depth)
        return "\n".join(lines)
    # the minimal bad window: the blocking op, every op overlapping it, and
    # the last few ops linearized before it
    lo = blocker.invoke
    hi = blocker.complete
    window = [op for op in ops if op.invoke <= hi and op.complete >= lo
              and not (op.outcome == FAILED and not _observes(op))]
    window.sort(key=lambda o: o.invoke)
    tail = [op for op in (order or [])[-3:] if op not in window]
    lines.append("after linearizing %d ops (state then %r), no order makes "
                 "this op fit: %r" % (depth, state, blocker))
    if tail:
        lines.append("last ops linearized before it:")
        lines.extend("  %r" % op for op in tail)
    lines.append("ops overlapping it in time (the bad window):")
    lines.extend("  %r" % op for op in window)
    return "\n".join(lines)


def check(history, init=ABSENT, max_steps=5_000_000):
    """Check a History (or a list of Op) key by key: (ok, explanation)."""
    ops = history.ops() if isinstance(history, History) else list(history)
    by_key = {}
    for op in ops:
        by_key.setdefault(op.key, []).append(op)
    for key in sorted(by_key):
        kops = by_key[key]
        ok, info = check_key(kops, init, max_steps)
        if not ok:
            return False, _explain(key, kops, info)
    return True, ""


# -- recording over the v2 HTTP API -------------------------------------------

# etcd error codes that mean "definitely not applied" (the request was
# refused before being proposed, or was applied and refused by the store)
DEFINITE_ERRORS = {100, 101, 102, 104, 105, 106, 107, 108, 200, 201, 202,
                   203, 204, 205, 206, 207, 208, 209, 210}


class History:
    """Thread-safe recorder of ops made against member URLs.

    Each call returns the Op (already recorded).  Requests use a session
    per thread; timeouts and connection errors are outcome unknown, except
    a refused connection (nothing was sent): failed."""

    def __init__(self, timeout=2.0):
        self.timeout = timeout
        self.lock = threading.Lock()
        self._ops = []
        self.local = threading.local()

    def ops(self):
        with self.lock:
            return list(self._ops)

    def add(self, op):
        with self.lock:
            self._ops.append(op)
        return op

    def __len__(self):
        with self.lock:
            return len(self._ops)

    def acked_writes(self):
        """{key: [values of ok writes/cas]} (for durability checks)."""
        out = {}
        for op in self.ops():
            if op.outcome == OK and op.kind in ("write", "cas"):
                out.setdefault(op.key, []).append(op.value)
        return out

    def _session(self):
        s = getattr(self.local, "s", None)
        if s is None:
            s = self.local.s = requests.Session()
        return s

    def _reset_session(self):
        s = getattr(self.local, "s", None)
        if s is not None:
            s.close()
        self.local.s = None

    def _do(self, op, method, url, **kw):
        kw.setdefault("timeout", self.timeout)
        op.invoke = time.monotonic()
        try:
            r = self._session().request(method, url, **kw)
        except requests.ConnectionError as e:
            op.complete = time.monotonic()
            self._reset_session()
            refused = "refused" in str(e).lower()
            op.outcome = FAILED if refused else UNKNOWN
            if op.outcome == UNKNOWN:
                op.complete = INF
            op.result = None
            return self.add(op), None
        except requests.RequestException:
            self._reset_session()
            op.outcome, op.complete, op.result = UNKNOWN, INF, None
            return self.add(op), None
        op.complete = time.monotonic()
        return op, r

    @staticmethod
    def _errcode(r):
        try:
            return int(r.json().get("errorCode"))
        except Exception:
            return None

    def _finish(self, op, r, ok_codes):
        if r.status_code in ok_codes:
            op.outcome = OK
        else:
            code = self._errcode(r)
            if code in DEFINITE_ERRORS:
                op.outcome = FAILED
            else:
                op.outcome = UNKNOWN      # 5xx, 300 raft error, timeouts
                op.complete = INF
        return self.add(op)

    def write(self, base, key, value, client=None):
        op = Op("write", key, value=value, client=client)
        op, r = self._do(op, "PUT", base + "/v2/keys" + key,
                         data={"value": value})
        if r is None:
            return op
        return self._finish(op, r, (200, 201))

    def read(self, base, key, quorum=True, client=None):
        op = Op("read", key, client=client)
        params = {"quorum": "true"} if quorum else {}
        op, r = self._do(op, "GET", base + "/v2/keys" + key, params=params)
        if r is None:
            return op
        if r.status_code == 200:
            op.outcome, op.result = OK, r.json()["node"].get("value")
            return self.add(op)
        if self._errcode(r) == 100:
            op.outcome, op.result = OK, ABSENT
            return self.add(op)
        op.outcome, op.complete = UNKNOWN, INF   # dropped by the checker
        return self.add(op)

    def cas(self, base, key, expected, value, client=None):
        op = Op("cas", key, value=value, expected=expected, client=client)
        op, r = self._do(op, "PUT", base + "/v2/keys" + key,
                         data={"value": value, "prevValue": expected})
        if r is None:
            return op
        code = self._errcode(r)
        if r.status_code == 200:
            op.outcome = OK
        elif code == 100:
            op.outcome, op.result = FAILED, ABSENT_SEEN
        elif code == 101:
            op.outcome, op.result = FAILED, _mismatch_actual(r, expected)
        else:
            return self._finish(op, r, ())
        return self.add(op)

    def delete(self, base, key, client=None):
        op = Op("delete", key, client=client)
        op, r = self._do(op, "DELETE", base + "/v2/keys" + key)
        if r is None:
            return op
        if r.status_code == 200:
            op.outcome = OK
        elif self._errcode(r) == 100:
            op.outcome, op.result = FAILED, ABSENT_SEEN
        else:
            return self._finish(op, r, ())
        return self.add(op)


def _mismatch_actual(r, expected):
    """etcd's 101 cause is "[expected != actual]": return the actual value
    when it can be parsed unambiguously, else MISMATCH."""
    try:
        cause = r.json().get("cause", "")
    except Exception:
        return MISMATCH
    prefix = "[%s != " % expected
    if cause.startswith(prefix) and cause.endswith("]"):
        actual = cause[len(prefix):-1]
        if " != " not in actual:
            return actual
    return MISMATCH
