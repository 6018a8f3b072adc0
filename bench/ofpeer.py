#!/usr/bin/env python3
"""Minimal OpenFlow 1.3 peer for bench/compare-ovs.sh (Python 3 standard library only).

  ofpeer.py echo HOST PORT N            N sequential ECHO_REQUEST -> ECHO_REPLY round trips on one connection
  ofpeer.py conns HOST PORT N PID       N idle connections (HELLO, one echo each); the daemon's VmRSS before/after
  ofpeer.py pktin PORT N [WINDOW]       listen as the controller; N PACKET_OUTs (output:CONTROLLER) -> PACKET_INs

Each prints one JSON object on stdout and exits non-zero on a protocol error, a timeout or a wrong reply.
"""

import json
import os
import selectors
import socket
import statistics
import struct
import sys
import time

OFP13 = 0x04
HELLO, ERROR, ECHO_REQUEST, ECHO_REPLY = 0, 1, 2, 3
FEATURES_REQUEST, FEATURES_REPLY, PACKET_IN, PACKET_OUT = 5, 6, 10, 13
OFPP_CONTROLLER = 0xFFFFFFFD
OFPCML_NO_BUFFER = 0xFFFF
NO_BUFFER = 0xFFFFFFFF
# A broadcast ARP request, padded to the Ethernet minimum.
FRAME = bytes.fromhex("ffffffffffff00000000000108060001080006040001000000000001c0a80001000000000000c0a80002").ljust(
    60, b"\0"
)


def msg(type_, xid, body=b""):
    return struct.pack("!BBHI", OFP13, type_, 8 + len(body), xid) + body


def die(text):
    print(f"ofpeer: {text}", file=sys.stderr)
    sys.exit(1)


class Conn:
    """One OpenFlow connection: buffered framing, answers echo requests itself."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = bytearray()
        self.out = bytearray()

    def send(self, data):
        self.out += data
        self.flush()

    def flush(self):
        while self.out:
            try:
                n = self.sock.send(self.out)
            except (BlockingIOError, OSError) as e:
                # Still connecting (EAGAIN, or ENOTCONN on some kernels): the caller flushes again later.
                if isinstance(e, BlockingIOError) or e.errno == 107:
                    return
                raise
            del self.out[:n]

    def read(self):
        """Reads what is available; returns the complete messages as (type, xid, bytes). Raises EOFError."""
        try:
            data = self.sock.recv(1 << 20)
        except BlockingIOError:
            return []
        if not data:
            raise EOFError
        self.buf += data
        msgs = []
        while len(self.buf) >= 8:
            _, type_, length, xid = struct.unpack_from("!BBHI", self.buf)
            if length < 8:
                die(f"bad message length {length}")
            if len(self.buf) < length:
                break
            m = bytes(self.buf[:length])
            del self.buf[:length]
            if type_ == ECHO_REQUEST:
                self.send(msg(ECHO_REPLY, xid, m[8:]))
            elif type_ == ERROR:
                die(f"error message from the switch: {m.hex()}")
            msgs.append((type_, xid, m))
        return msgs


def blocking_wait(conn, want_type, want_xid=None, timeout=10.0):
    """Reads on a blocking connection until a message of want_type (and xid) arrives."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            die(f"timed out waiting for message type {want_type}")
        conn.sock.settimeout(left)
        try:
            msgs = conn.read()
        except socket.timeout:
            continue
        except EOFError:
            die(f"connection closed while waiting for message type {want_type}")
        for type_, xid, m in msgs:
            if type_ == want_type and (want_xid is None or xid == want_xid):
                return m


def cmd_echo(host, port, n):
    conn = Conn(socket.create_connection((host, int(port)), timeout=10))
    conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    conn.send(msg(HELLO, 1))
    hello = blocking_wait(conn, HELLO)
    if hello[0] < OFP13:
        die(f"switch offered version {hello[0]}")
    samples = []
    payload = b"ofpeer-echo-0123"
    for i in range(int(n)):
        xid = 0x10000 + i
        t0 = time.perf_counter()
        conn.send(msg(ECHO_REQUEST, xid, payload))
        reply = blocking_wait(conn, ECHO_REPLY, xid)
        samples.append(time.perf_counter() - t0)
        if reply[8:] != payload:
            die(f"echo reply {xid:#x} carries {reply[8:].hex()}, not the request's payload")
    print(
        json.dumps(
            {
                "n": len(samples),
                "mean_us": round(statistics.fmean(samples) * 1e6, 1),
                "median_us": round(statistics.median(samples) * 1e6, 1),
            }
        )
    )


def vmrss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    die(f"no VmRSS for pid {pid}")


def cmd_conns(host, port, n, pid, settle=2.0, in_flight=8, warmup=1):
    """Opens n connections, at most in_flight handshaking at once (ovs-vswitchd listens with a backlog of 10 and
    accepts one connection per main-loop iteration; more in flight overflows its accept queue). A connection is ready once the switch's
    HELLO and the reply to one ECHO_REQUEST (sent after our HELLO) came back, so the switch has negotiated it.
    `warmup` connections are made ready (and kept) before the first VmRSS reading: what a daemon faults in for its
    very first connection (code pages, about 300 KB for ofagent) is not memory per connection."""
    n = int(n)
    sel = selectors.DefaultSelector()
    conns, unsent, ready, opened = [], [], 0, 0
    state = {}  # fd -> "hello" | "echo" | "ready"
    deadline = time.monotonic() + 60 + n / 50

    def service(timeout):
        nonlocal ready
        for key, _ in sel.select(timeout):
            conn = key.data
            try:
                msgs = conn.read()
            except EOFError:
                die(f"the switch closed connection {conn.sock.getsockname()} ({ready} ready, {opened} opened)")
            except ConnectionError as e:
                die(f"connection error after {ready} ready, {opened} opened: {e}")
            for type_, xid, _ in msgs:
                fd = conn.sock.fileno()
                if type_ == HELLO and state[fd] == "hello":
                    conn.send(msg(ECHO_REQUEST, 7))
                    state[fd] = "echo"
                elif type_ == ECHO_REPLY and xid == 7 and state[fd] == "echo":
                    state[fd] = "ready"
                    ready += 1

    def open_until(target):
        nonlocal unsent, opened
        while ready < target:
            if time.monotonic() > deadline:
                die(f"timed out: {ready} of {target} connections ready ({opened} opened)")
            while opened < target and opened - ready < in_flight:
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.setblocking(False)
                try:
                    s.connect((host, int(port)))
                except BlockingIOError:
                    pass
                conn = Conn(s)
                conn.send(msg(HELLO, 1))  # queued until the connection is up; flushed on readability
                state[s.fileno()] = "hello"
                sel.register(s, selectors.EVENT_READ, conn)
                conns.append(conn)
                unsent.append(conn)
                opened += 1
            for c in [c for c in unsent if c.out]:
                try:
                    c.flush()
                except OSError as e:
                    die(f"connect/send failed after {ready} ready, {opened} opened: {e}")
            unsent = [c for c in unsent if c.out]
            service(0.05)

    def settle_down():
        end = time.monotonic() + settle
        while time.monotonic() < end:
            service(0.1)

    open_until(warmup)
    settle_down()
    before = vmrss_kb(pid)
    t0 = time.monotonic()
    open_until(warmup + n)
    setup = time.monotonic() - t0
    settle_down()
    after = vmrss_kb(pid)
    print(
        json.dumps(
            {
                "n": n,
                "warmup": warmup,
                "setup_s": round(setup, 2),
                "rss_before_kb": before,
                "rss_after_kb": after,
                "bytes_per_conn": round((after - before) * 1024 / n),
            }
        )
    )
    for c in conns:
        c.sock.close()


def cmd_pktin(port, n, window=100, accept_timeout=60.0):
    """Controller side: waits for the switch, then keeps at most `window` PACKET_OUTs whose PACKET_IN has not
    come back; stops after n have come back, or when none arrives for 2 s (the rest counted as lost)."""
    n, window = int(n), int(window)
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", int(port)))
    ls.listen(8)
    ls.settimeout(accept_timeout)
    try:
        s, _ = ls.accept()
    except socket.timeout:
        die("the switch did not connect")
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    conn = Conn(s)
    conn.send(msg(HELLO, 1))
    hello = blocking_wait(conn, HELLO)
    if hello[0] < OFP13:
        die(f"switch offered version {hello[0]}")
    conn.send(msg(FEATURES_REQUEST, 2))
    blocking_wait(conn, FEATURES_REPLY, 2)
    actions = struct.pack("!HHIH6x", 0, 16, OFPP_CONTROLLER, OFPCML_NO_BUFFER)
    body = struct.pack("!IIH6x", NO_BUFFER, OFPP_CONTROLLER, len(actions)) + actions + FRAME
    s.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(s, selectors.EVENT_READ, conn)
    sent = received = 0
    t0 = last = time.monotonic()
    while received < n:
        burst = bytearray()
        while sent < n and sent - received < window:
            burst += msg(PACKET_OUT, 0x100000 + sent, body)
            sent += 1
        if burst:
            conn.send(burst)
        if conn.out:
            sel.modify(s, selectors.EVENT_READ | selectors.EVENT_WRITE, conn)
        else:
            sel.modify(s, selectors.EVENT_READ, conn)
        for _, events in sel.select(0.5):
            if events & selectors.EVENT_WRITE:
                conn.flush()
            if events & selectors.EVENT_READ:
                try:
                    msgs = conn.read()
                except EOFError:
                    die(f"the switch closed the connection after {received} packet-ins")
                for type_, _, m in msgs:
                    if type_ == PACKET_IN:
                        if not m.endswith(FRAME):
                            die(f"packet-in does not carry the frame sent: {m.hex()}")
                        received += 1
                        last = time.monotonic()
        if time.monotonic() - last > 2.0:
            break
    elapsed = last - t0
    print(
        json.dumps(
            {
                "sent": sent,
                "received": received,
                "lost": sent - received,
                "seconds": round(elapsed, 3),
                "per_sec": round(received / elapsed) if elapsed > 0 else 0,
            }
        )
    )


def main():
    cmds = {"echo": (cmd_echo, 3), "conns": (cmd_conns, 4), "pktin": (cmd_pktin, 2)}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds or len(sys.argv) - 2 < cmds[sys.argv[1]][1]:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    fn, _ = cmds[sys.argv[1]]
    fn(*sys.argv[2:])


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
