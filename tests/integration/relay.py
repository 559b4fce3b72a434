"""Fault-injecting TCP relay for cluster tests (threads in the test process).

One Relay listens on any number of relay ports R_i and forwards every
connection accepted there to the member's real peer port P_i.  Members
advertise R_i, so every peer connection between two members crosses the
relay, which can then cut or stall it:

  block(src, dst, "drop")       close the src->dst connections now, and close
                                new ones right after their preamble;
  block(src, dst, "blackhole")  stop forwarding (and stop reading) on them:
                                a silent partition, data just stalls;
  heal() / heal(src, dst)       lift blocks; blackholed connections are
                                closed on heal so streams restart clean;
  isolate(id)                   block every pair involving id, both ways;
  partition([ids], [ids])       block every pair across the two sides.

Who talks to whom is learnt per connection:
  - cetcd: the dialer's 40-byte preamble, "CETCDP01", cluster id, sender id,
    receiver id, kind (all little endian);
  - otherwise (etcd's HTTP peer traffic): the X-Server-From header of the
    first request names the sender and the listener's owner (see
    set_owner) is the receiver.  A connection with neither is forwarded
    with the sender unknown and is only affected by isolate/partition of
    the listener's owner.
A block is directional by connection: block(a, b) affects connections
dialed by a to b.  cetcd streams carry data only in the dialer's direction,
so that is "a's messages to b"; etcd's connections carry both directions,
which is why partition tests use isolate/partition (both ways).

Member ids are ints (parse the hex "id" of GET /v2/members).  Every thread
is a daemon and every blocking call has a timeout; close() stops them all.
"""

import socket
import struct
import threading
import time

MAGIC = b"CETCDP01"
PREAMBLE_LEN = 40
SNIFF_MAX = 16384        # bytes read while looking for an HTTP header end
SNIFF_TIMEOUT = 2.0      # seconds a dialer may take to send its preamble
IO_TIMEOUT = 0.1         # socket timeout so pump threads see state changes
CONNECT_TIMEOUT = 2.0

DROP = "drop"
BLACKHOLE = "blackhole"


def parse_preamble(b):
    """(cluster_id, sender, receiver, kind) of a 40-byte cetcd preamble, or
    None when b does not start with the magic."""
    if len(b) < PREAMBLE_LEN or b[:8] != MAGIC:
        return None
    cid, snd, rcv, kind, _zero = struct.unpack("<QQQII", b[8:PREAMBLE_LEN])
    return cid, snd, rcv, kind


def make_preamble(cluster_id, sender, receiver, kind=1):
    """The preamble a cetcd dialer writes (used by the relay self-test)."""
    return MAGIC + struct.pack("<QQQII", cluster_id, sender, receiver,
                               kind, 0)


def _http_sender(head):
    """The X-Server-From member id of an HTTP request head, or None."""
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"x-server-from":
            try:
                return int(value.strip(), 16)
            except ValueError:
                return None
    return None


class _Conn:
    """One relayed connection: client socket a, upstream socket b."""

    def __init__(self, relay, a, b, src, dst, port):
        self.relay = relay
        self.a, self.b = a, b
        self.src, self._dst = src, dst
        self.port = port
        self.closed = threading.Event()
        self.lock = threading.Lock()

    @property
    def dst(self):
        # without a preamble the receiver is the listener's owner, which
        # may have been named (set_owner) after the connection was made
        if self._dst is not None:
            return self._dst
        return self.relay.owner.get(self.port)

    def close(self):
        with self.lock:
            if self.closed.is_set():
                return
            self.closed.set()
        for s in (self.a, self.b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            try:
                s.close()
            except OSError:
                pass
        self.relay._forget(self)

    def _send_all(self, to, data):
        """sendall that survives the short socket timeout and stops when
        the connection is closed (a slow receiver is not an error)."""
        view = memoryview(data)
        while view and not self.closed.is_set():
            try:
                n = to.send(view)
            except socket.timeout:
                continue
            view = view[n:]

    def pump(self, frm, to):
        """Copy frm -> to until EOF, error or close; stall while blackholed."""
        try:
            while not self.closed.is_set():
                mode = self.relay.mode_of(self.src, self.dst)
                if mode == DROP:
                    break
                if mode == BLACKHOLE:
                    self.closed.wait(IO_TIMEOUT)   # do not read: data stalls
                    continue
                try:
                    data = frm.recv(65536)
                except socket.timeout:
                    continue
                if not data:
                    break
                mode = self.relay.mode_of(self.src, self.dst)
                if mode == DROP:
                    break            # cut while we were reading
                if mode == BLACKHOLE:
                    # hold the chunk until heal closes the connection
                    while not self.closed.wait(IO_TIMEOUT):
                        pass
                    break
                self._send_all(to, data)
        except OSError:
            pass
        self.close()


class Relay:
    """See the module docstring.  routes: {relay_port: real_port}."""

    def __init__(self, host="127.0.0.1"):
        self.host = host
        self.lock = threading.Lock()
        self.blocks = {}        # (src, dst) -> mode
        self.owner = {}         # relay port -> member id behind it
        self.conns = set()
        self.listeners = {}     # relay port -> (socket, real port)
        self.stopping = threading.Event()
        self.threads = []
        self.stats = {"accepted": 0, "dropped": 0, "unknown": 0}

    # -- setup ------------------------------------------------------------

    def add_route(self, relay_port, real_port):
        """Listen on relay_port and forward to real_port on the same host."""
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((self.host, relay_port))
        ls.listen(64)
        ls.settimeout(IO_TIMEOUT)
        with self.lock:
            self.listeners[relay_port] = (ls, real_port)
        t = threading.Thread(target=self._accept_loop,
                             args=(relay_port, ls, real_port), daemon=True,
                             name="relay-accept-%d" % relay_port)
        self.threads.append(t)
        t.start()

    def set_owner(self, relay_port, member_id):
        """Name the member behind relay_port (the receiver of connections
        without a cetcd preamble)."""
        with self.lock:
            self.owner[relay_port] = member_id

    # -- controls -----------------------------------------------------------

    def block(self, src, dst, mode=DROP):
        """Block connections dialed by member src to member dst."""
        assert mode in (DROP, BLACKHOLE), mode
        with self.lock:
            self.blocks[(src, dst)] = mode
            victims = [c for c in self.conns
                       if self._matches(c, src, dst)] if mode == DROP else []
        for c in victims:
            c.close()

    def heal(self, src=None, dst=None):
        """Lift every block (no arguments) or the src->dst one; connections
        that were stalled by a blackhole are closed."""
        with self.lock:
            if src is None and dst is None:
                healed = list(self.blocks.items())
                self.blocks.clear()
            else:
                healed = [((src, dst), self.blocks.pop((src, dst), None))]
            stalled = [c for c in self.conns
                       for (s, d), m in healed
                       if m == BLACKHOLE and self._matches(c, s, d)]
        for c in stalled:
            c.close()

    def isolate(self, member, others, mode=DROP):
        """Block every pair between member and each of others, both ways."""
        self.partition([member], [o for o in others if o != member], mode)

    def partition(self, side_a, side_b, mode=DROP):
        for a in side_a:
            for b in side_b:
                self.block(a, b, mode)
                self.block(b, a, mode)

    def mode_of(self, src, dst):
        """The block mode for this pair, or None.  An unknown sender (None)
        is blocked when any block targets dst (used for etcd's connections
        that carry no sender: safer to cut them than to leak through)."""
        with self.lock:
            if src is None:
                for (s, d), m in self.blocks.items():
                    if d == dst:
                        return m
                return None
            return self.blocks.get((src, dst))

    def close(self):
        """Stop listening and close every relayed connection."""
        self.stopping.set()
        with self.lock:
            ls = [v[0] for v in self.listeners.values()]
            conns = list(self.conns)
        for s in ls:
            try:
                s.close()
            except OSError:
                pass
        for c in conns:
            c.close()
        for t in self.threads:
            t.join(2)

    # -- internals ----------------------------------------------------------

    @staticmethod
    def _matches(c, src, dst):
        return (c.src == src or c.src is None) and c.dst == dst

    def _forget(self, c):
        with self.lock:
            self.conns.discard(c)

    def _accept_loop(self, port, ls, real_port):
        while not self.stopping.is_set():
            try:
                a, _ = ls.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            t = threading.Thread(target=self._serve, args=(port, a, real_port),
                                 daemon=True)
            t.start()

    def _sniff(self, a):
        """Read the connection's first bytes: (bytes, sender, receiver).
        Waits for a full cetcd preamble or a full HTTP request head."""
        a.settimeout(SNIFF_TIMEOUT)
        head = b""
        deadline = time.monotonic() + SNIFF_TIMEOUT
        try:
            while time.monotonic() < deadline and len(head) < SNIFF_MAX:
                if len(head) >= 8 and not head.startswith(MAGIC[:len(head)]) \
                        and b"\r\n\r\n" in head:
                    break
                if len(head) >= PREAMBLE_LEN and head.startswith(MAGIC):
                    break
                if 0 < len(head) < 8 and not MAGIC.startswith(head) \
                        and not head[:1].isalpha():
                    break            # neither cetcd nor HTTP: stop sniffing
                chunk = a.recv(SNIFF_MAX - len(head))
                if not chunk:
                    break
                head += chunk
        except (socket.timeout, OSError):
            pass
        p = parse_preamble(head)
        if p:
            return head, p[1], p[2]
        return head, _http_sender(head.split(b"\r\n\r\n")[0]), None

    def _serve(self, port, a, real_port):
        head, src, dst = self._sniff(a)
        with self.lock:
            self.stats["accepted"] += 1
            if src is None:
                self.stats["unknown"] += 1
        if self.stopping.is_set() or self.mode_of(
                src, dst if dst is not None else self.owner.get(port)) == DROP:
            with self.lock:
                self.stats["dropped"] += 1
            a.close()
            return
        try:
            b = socket.create_connection((self.host, real_port),
                                         timeout=CONNECT_TIMEOUT)
        except OSError:
            a.close()
            return
        c = _Conn(self, a, b, src, dst, port)
        with self.lock:
            self.conns.add(c)
        try:
            if head:
                b.sendall(head)
        except OSError:
            c.close()
            return
        a.settimeout(IO_TIMEOUT)
        b.settimeout(IO_TIMEOUT)
        t = threading.Thread(target=c.pump, args=(b, a), daemon=True)
        t.start()
        c.pump(a, b)
        t.join(5)
