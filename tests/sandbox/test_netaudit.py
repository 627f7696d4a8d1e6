"""Direct sockets audited by seccomp user notification (``ztmcp/sandbox/netaudit.py``).

Pure parts by property: the ``sockaddr`` reader against the kernel's layout, and ``decide``
(nothing that leaves the sandbox's loopback ever continues). Then real sandboxes (bubblewrap,
the launcher in ``bridge.py``, the kernel's notifications) with faults injected: the audit
cannot write, the supervisor goes away, the filter is torn; and what must keep working: a
server talking to itself on loopback, Unix sockets, sends on connected sockets.
"""

from __future__ import annotations

import errno
import ipaddress
import json
import os
import socket
import struct
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ztmcp.errors import AuditError, UsageError
from ztmcp.sandbox.bwrap import AUDIT_SOCKET, PROXY_PORT, Host, plan
from ztmcp.sandbox.netaudit import (
    AF_NETLINK,
    Attempt,
    Destination,
    FloodLimits,
    Listeners,
    NetAudit,
    Verdict,
    compile_filter,
    decide,
    parse_sockaddr,
)
from ztmcp.sandbox.profile import Profile

# -- the sockaddr reader ------------------------------------------------------------------


def _sockaddr_in(address: ipaddress.IPv4Address, port: int) -> bytes:
    # struct sockaddr_in: sa_family_t (host order), in_port_t (network order), in_addr, zero[8]
    return struct.pack("=H", socket.AF_INET) + struct.pack("!H", port) + address.packed + bytes(8)


def _sockaddr_in6(address: ipaddress.IPv6Address, port: int, flow: int, scope: int) -> bytes:
    return (
        struct.pack("=H", socket.AF_INET6)
        + struct.pack("!HI", port, flow)
        + address.packed
        + struct.pack("=I", scope)
    )


@given(st.ip_addresses(v=4), st.integers(0, 65535))
def test_sockaddr_in(address: ipaddress.IPv4Address, port: int) -> None:
    dest = parse_sockaddr(_sockaddr_in(address, port))
    assert dest == Destination(socket.AF_INET, str(address), port)


@given(st.ip_addresses(v=6), st.integers(0, 65535), st.integers(0, 2**32 - 1), st.integers(0, 99))
def test_sockaddr_in6(address: ipaddress.IPv6Address, port: int, flow: int, scope: int) -> None:
    dest = parse_sockaddr(_sockaddr_in6(address, port, flow, scope))
    assert dest == Destination(socket.AF_INET6, str(address), port)


@given(st.binary(max_size=130))
def test_any_bytes_parse_or_refuse(raw: bytes) -> None:
    try:
        dest = parse_sockaddr(raw)
    except ValueError:
        return  # refused: the supervisor then denies the call
    assert isinstance(dest, Destination)


def test_sockaddr_matches_the_kernels_own(tmp_path: Path) -> None:
    """Differential: what the kernel reports for a bound socket parses to the same address."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        raw = _sockaddr_in(ipaddress.IPv4Address("127.0.0.1"), port)
        assert parse_sockaddr(raw) == Destination(socket.AF_INET, "127.0.0.1", port)
    path = str(tmp_path / "s")
    raw = struct.pack("=H", socket.AF_UNIX) + path.encode() + b"\0"
    assert parse_sockaddr(raw) == Destination(socket.AF_UNIX, path, None)
    abstract = struct.pack("=H", socket.AF_UNIX) + b"\0name"
    assert parse_sockaddr(abstract) == Destination(socket.AF_UNIX, "@name", None)


# -- decide -------------------------------------------------------------------------------

_local = st.sampled_from(["127.0.0.1", "127.9.8.7", "0.0.0.0", "::1", "::", "::ffff:127.0.0.1"])
_inet = st.one_of(st.ip_addresses(v=4), st.ip_addresses(v=6)).map(str)


def _dest(address: str, port: int) -> Destination:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    return Destination(family, address, port)


def _far(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (ip.is_loopback or ip.is_unspecified)


@given(
    st.lists(st.tuples(_inet, st.integers(0, 65535)), min_size=1, max_size=4),
    st.sampled_from(["tcp", "udp", "unknown"]),
    st.booleans(),
)
def test_nothing_beyond_loopback_continues(
    dests: list[tuple[str, int]], transport: str, listening: bool
) -> None:
    attempt = Attempt("sendmmsg", tuple(_dest(a, p) for a, p in dests), transport)
    verdict, refused = decide(attempt, PROXY_PORT, lambda _k, _d: listening)
    far = [d for d in attempt.destinations if _far(d.address)]
    assert set(far) <= set(refused)
    assert (verdict is Verdict.DENY) == bool(refused)
    if not listening:  # nothing listens: only the proxy port over TCP continues
        kept = set(attempt.destinations) - set(refused)
        assert all(d.port == PROXY_PORT and transport != "udp" for d in kept)


@given(_local, st.integers(1, 65535), st.sampled_from(["tcp", "udp", "unknown"]))
def test_loopback_inside_the_sandbox(address: str, port: int, transport: str) -> None:
    attempt = Attempt("connect", (_dest(address, port),), transport)
    heard = decide(attempt, PROXY_PORT, lambda kind, d: kind == transport and d.port == port)
    assert heard == (Verdict.CONTINUE, ())
    unheard = decide(attempt, PROXY_PORT, lambda _k, _d: False)
    # without a lookup only the proxy listener's own address (127.0.0.1, what 0.0.0.0 means)
    bridge = address in ("127.0.0.1", "0.0.0.0", "::ffff:127.0.0.1")
    proxy = port == PROXY_PORT and transport != "udp" and bridge
    assert unheard[0] is (Verdict.CONTINUE if proxy else Verdict.DENY)


def test_not_egress_and_unreadable() -> None:
    never: Callable[[str, Destination], bool] = lambda _k, _d: False  # noqa: E731
    for family in (socket.AF_UNIX, AF_NETLINK, socket.AF_UNSPEC):
        attempt = Attempt("connect", (Destination(family, "/x", None),), "unknown")
        assert decide(attempt, PROXY_PORT, never) == (Verdict.CONTINUE, ())
    # A send to AF_UNSPEC is IPv4 to the kernel (udp_sendmsg): judged as such.
    raw = struct.pack("=H", socket.AF_UNSPEC) + struct.pack("!H", 53) + bytes([1, 1, 1, 1])
    unspec = parse_sockaddr(raw + bytes(8))
    assert unspec == Destination(socket.AF_UNSPEC, "1.1.1.1", 53)
    assert decide(Attempt("sendto", (unspec,), "udp"), PROXY_PORT, never)[0] is Verdict.DENY
    assert decide(Attempt("connect", (unspec,), "udp"), PROXY_PORT, never)[0] is Verdict.CONTINUE
    assert decide(Attempt("sendmsg", (), "udp"), PROXY_PORT, never) == (Verdict.CONTINUE, ())
    unreadable = Destination(-1, "", None)
    assert decide(Attempt("connect", (unreadable,), "tcp"), PROXY_PORT, never) == (
        Verdict.DENY,
        (unreadable,),
    )
    packet = Destination(17, "", None)  # AF_PACKET, AF_VSOCK …: refused
    assert decide(Attempt("sendto", (packet,), "raw"), PROXY_PORT, never)[0] is Verdict.DENY


def test_filter_is_a_whole_program() -> None:
    program = compile_filter()
    assert program and len(program) % 8 == 0


def test_without_libseccomp_the_sandbox_refuses_to_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyseccomp", None)  # as if libseccomp were missing
    with pytest.raises(UsageError) as caught:
        compile_filter()
    assert "libseccomp" in caught.value.message and caught.value.hint


# -- real sandboxes -----------------------------------------------------------------------

PROBE = r"""
import ctypes, errno, json, os, socket, sys
out = {}
def attempt(name, fn):
    try:
        out[name] = fn() or "ok"
    except OSError as exc:
        out[name] = errno.errorcode.get(exc.errno, str(exc.errno))
"""


@contextmanager
def sandboxed(
    tmp_path: Path,
    post: Callable[[dict[str, Any]], None],
    script: str,
    *,
    program: bytes | None = None,
    limits: FloodLimits | None = None,
    extra: dict[str, Any] | None = None,
) -> Iterator[tuple[subprocess.Popen[bytes], NetAudit]]:
    """``script`` run by the launcher under the socket audit (the egress socket is a bare
    Unix listener: these tests never use the proxy). ``program``: injected in place of the
    filter the launcher reads."""
    gate = tmp_path / "gate"
    gate.mkdir(mode=0o700)
    egress = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    egress.bind(str(gate / "egress.sock"))
    egress.listen(1)
    options = dict(extra or {}) | ({} if limits is None else {"limits": limits})
    audit = NetAudit("probe", post, gate, proxy_port=PROXY_PORT, **options)
    audit.start()
    if program is not None:
        audit.filter_path.chmod(0o600)
        audit.filter_path.write_bytes(program)
    host = Host.current()
    command = [str(host.python), "-I", "-S", "-c", PROBE + script]
    sandbox = plan(
        Profile(),
        command,
        host,
        egress_socket=gate / "egress.sock",
        secret=lambda _k: "",
        audit=(audit.filter_path, audit.socket_path, audit.seccomp_nr),
    )
    proc = subprocess.Popen(
        list(sandbox.argv),
        env=dict(sandbox.env),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        yield proc, audit
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)
        audit.close()
        egress.close()


def _result(proc: subprocess.Popen[bytes]) -> dict[str, Any]:
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err.decode()
    result: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    return result


def test_what_is_not_egress_keeps_working(tmp_path: Path) -> None:
    records: list[dict[str, Any]] = []
    script = r"""
def tcp_self():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0)); server.listen(1)
        with socket.create_connection(server.getsockname(), timeout=3) as c:
            peer, _ = server.accept(); c.sendall(b"ping"); got = peer.recv(4); peer.close()
    return got.decode()
def udp_self():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as a:
        a.bind(("127.0.0.1", 0))
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as b:
            b.sendto(b"pong", a.getsockname())
        return a.recv(4).decode()
def unix_pair():
    a, b = socket.socketpair(); a.sendmsg([b"unix"]); got = b.recv(4); a.close(); b.close()
    return got.decode()
def seccomp_fds():
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            found.append(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:
            pass  # the directory's own fd, closed by now
    return [f for f in found if "seccomp" in f] or "none"
def audit_socket():
    with socket.socket(socket.AF_UNIX) as s:
        s.connect("AUDIT_SOCKET")
attempt("tcp to itself", tcp_self)
attempt("udp to itself", udp_self)
attempt("unix", unix_pair)
attempt("seccomp fds", seccomp_fds)
attempt("audit socket", audit_socket)
attempt("outside", lambda: socket.create_connection(("192.0.2.1", 80), timeout=3))
print(json.dumps(out))
""".replace("AUDIT_SOCKET", AUDIT_SOCKET)
    with sandboxed(tmp_path, records.append, script) as (proc, _audit):
        result = _result(proc)
    assert result["tcp to itself"] == "ping"
    assert result["udp to itself"] == "pong"
    assert result["unix"] == "unix"
    assert result["seccomp fds"] == "none"  # the listener never reaches the server
    assert result["audit socket"] == "ECONNREFUSED"  # one launcher, then closed
    assert result["outside"] == "EPERM"
    assert [(r["server.address"], r["server.port"], r["egress.syscall"]) for r in records] == [
        ("192.0.2.1", 80, "connect")
    ]


def test_sendmmsg_names_each_destination(tmp_path: Path) -> None:
    records: list[dict[str, Any]] = []
    script = r"""
import struct
libc = ctypes.CDLL(None, use_errno=True)
def sin(port, *address):
    return struct.pack("=H", socket.AF_INET) + struct.pack("!H", port) + bytes(address) + bytes(8)
names = [sin(53, 192, 0, 2, 7), b"", sin(9, 127, 0, 0, 1)]
keep = [ctypes.create_string_buffer(n, max(len(n), 1)) for n in names]
payload = ctypes.create_string_buffer(b"x")
iov = struct.pack("=QQ", ctypes.addressof(payload), 1)
iov_buf = ctypes.create_string_buffer(iov)
table = b"".join(
    struct.pack("=QI4xQQQQi4xI4x", ctypes.addressof(k) if n else 0, len(n),
                ctypes.addressof(iov_buf), 1, 0, 0, 0, 0)
    for k, n in zip(keep, names))
table_buf = ctypes.create_string_buffer(table)
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
    sent = libc.sendmmsg(s.fileno(), table_buf, 3, 0)
    out["sendmmsg"] = errno.errorcode.get(ctypes.get_errno()) if sent < 0 else sent
print(json.dumps(out))
"""
    with sandboxed(tmp_path, records.append, script) as (proc, _audit):
        result = _result(proc)
    assert result["sendmmsg"] == "EPERM"
    assert sorted(
        (r["server.address"], r["server.port"], r["egress.technique"]) for r in records
    ) == [
        ("127.0.0.1", 9, "udp"),
        ("192.0.2.7", 53, "dns"),
    ]


def test_a_send_to_af_unspec_is_judged_as_ipv4(tmp_path: Path) -> None:
    """udp_sendmsg takes AF_UNSPEC for AF_INET: a bypass if it were waved through."""
    records: list[dict[str, Any]] = []
    script = r"""
import struct
libc = ctypes.CDLL(None, use_errno=True)
name = struct.pack("=H", 0) + struct.pack("!H", 53) + bytes([192, 0, 2, 9]) + bytes(8)
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
    sent = libc.sendto(s.fileno(), b"x", 1, 0, name, len(name))
    out["unspec"] = errno.errorcode.get(ctypes.get_errno()) if sent < 0 else sent
print(json.dumps(out))
"""
    with sandboxed(tmp_path, records.append, script) as (proc, _audit):
        result = _result(proc)
    assert result["unspec"] == "EPERM"
    assert [(r["server.address"], r["server.port"], r["egress.technique"]) for r in records] == [
        ("192.0.2.9", 53, "dns")
    ]


@pytest.mark.parametrize(
    ("fault", "line"),
    [
        (AuditError("disk full (injected)"), "the audit log failed (disk full (injected))"),
        (RuntimeError("bug (injected)"), "the sandbox's socket audit failed (RuntimeError("),
    ],
)
def test_an_audit_that_cannot_write_still_refuses(
    tmp_path: Path, fault: Exception, line: str
) -> None:
    def broken(_record: dict[str, Any]) -> None:
        raise fault

    script = r"""
attempt("outside", lambda: socket.create_connection(("192.0.2.1", 443), timeout=3))
print(json.dumps(out))
"""
    with sandboxed(tmp_path, broken, script) as (proc, audit):
        out, _err = proc.communicate(timeout=30)
        assert audit.handled == 1
    # an attempt that cannot be recorded stops the flow: refused, and the sandbox killed
    # before the server could go on (nothing printed after the attempt)
    assert proc.returncode != 0 and b"outside" not in out
    assert audit.stopped is not None and audit.stopped.startswith(line)
    assert audit.stopped.endswith("; server probe stopped")


def test_supervisor_gone_fails_closed(tmp_path: Path) -> None:
    """ztmcp's supervisor stops while the server runs: filtered calls fail (ENOSYS), never
    pass, and calls the filter never meets go on."""
    records: list[dict[str, Any]] = []
    script = r"""
attempt("before", lambda: socket.create_connection(("192.0.2.1", 80), timeout=3))
print("ready", flush=True)
sys.stdin.readline()
attempt("after", lambda: socket.create_connection(("192.0.2.1", 80), timeout=3))
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
attempt("udp after", lambda: udp.sendto(b"x", ("127.0.0.1", 9)))
attempt("write after", lambda: str(os.write(1, b"")))
print(json.dumps(out))
"""
    with sandboxed(tmp_path, records.append, script) as (proc, audit):
        assert proc.stdout is not None and proc.stdin is not None
        assert proc.stdout.readline() == b"ready\n"
        audit.close()
        proc.stdin.write(b"go\n")
        proc.stdin.flush()
        result = _result(proc)
    assert result["before"] == "EPERM"
    assert result["after"] == result["udp after"] == errno.errorcode[errno.ENOSYS]
    assert result["write after"] == "0"
    assert len(records) == 1


def test_the_supervisor_dying_stops_the_sandbox(tmp_path: Path) -> None:
    """Fault injection: the supervisor's loop fails (its clock raises) at the first call: the
    call is refused (ENOSYS) and the sandbox is stopped, not left running unrecorded."""

    def clock() -> float:
        raise OSError(errno.EIO, "clock (injected)")

    script = r"""
attempt("outside", lambda: socket.create_connection(("192.0.2.1", 443), timeout=3))
print(json.dumps(out), flush=True)
"""
    lines: list[str] = []
    extra = {"clock": clock, "say": lines.append}
    with sandboxed(tmp_path, lambda _r: None, script, extra=extra) as (proc, audit):
        out, _err = proc.communicate(timeout=30)
        assert audit._thread is not None
        audit._thread.join(5)
    assert proc.returncode != 0 and b"outside" not in out
    assert lines == [audit.stopped]
    assert audit.stopped is not None and "clock (injected)" in audit.stopped


@pytest.mark.parametrize("program", [b"", b"\x00" * 7, b"\x00" * 8])
def test_a_bad_filter_never_starts_the_server(tmp_path: Path, program: bytes) -> None:
    script = 'print("the server started")\n'
    with sandboxed(tmp_path, lambda _r: None, script, program=program) as (proc, _audit):
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 126
    assert b"the server started" not in out
    assert b"cannot install the socket audit" in err


def test_listeners_agree_with_the_kernel() -> None:
    """Differential: the sock_diag lookup says "something listens" exactly when a connection
    (TCP) or a datagram (UDP) to that address would be taken, for v4, v6, dual-stack, 0.0.0.0."""
    diag = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, 4)  # NETLINK_SOCK_DIAG
    ask = Listeners(os.dup(diag.fileno()))
    diag.close()
    tcp4 = socket.socket()
    tcp4.bind(("127.0.0.1", 0))
    tcp4.listen(1)
    dual = socket.socket(socket.AF_INET6)
    dual.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    dual.bind(("::", 0))
    dual.listen(1)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))  # bound, never listening: refuses connections
    try:
        p4, p6, pu, pc = (s.getsockname()[1] for s in (tcp4, dual, udp, closed))
        for address, port, kind, expected in (
            ("127.0.0.1", p4, "tcp", True),
            ("0.0.0.0", p4, "tcp", True),
            ("::ffff:127.0.0.1", p4, "tcp", True),
            ("::1", p4, "tcp", False),
            ("127.0.0.1", p6, "tcp", True),  # dual-stack listener takes IPv4 too
            ("::1", p6, "tcp", True),
            ("127.0.0.1", pc, "tcp", False),
            ("127.0.0.1", pu, "udp", True),
            ("127.0.0.1", pu, "tcp", False),
            ("127.0.0.1", p4, "udp", False),
            ("127.0.0.1", p4, "unknown", True),
        ):
            assert ask(kind, _dest(address, port)) is expected, (address, port, kind)
            if kind == "tcp" and ":" not in address:  # and the kernel agrees
                with socket.socket() as probe:
                    reached = probe.connect_ex((address, port)) == 0
                assert reached is expected, (address, port)
    finally:
        for s in (tcp4, dual, udp, closed):
            s.close()
        ask.close()
