"""Direct sockets from inside the sandbox: refused *and audited* (seccomp user notification).

The sandbox's network namespace already contains every direct socket (loopback only, no
route): a connection to a host port, UDP, a DNS lookup fail inside, at the kernel, and were
invisible from outside. This module makes each attempt an audit record:

- ``compile_filter()``: a seccomp filter (built by libseccomp through ``pyseccomp``, exported
  as BPF) that sends ``connect``, ``sendto`` with an address, ``sendmsg``, ``sendmmsg``, and
  ``socket`` of a family outside ``FAMILIES`` or of a raw type (refused and recorded before the
  socket exists) to a supervisor, and refuses ``io_uring_setup`` (whose rings would issue the
  same calls unseen); every other system call, the MCP server's stdio included, never meets
  it. The in-sandbox launcher (``bridge.py``) installs it with
  ``SECCOMP_FILTER_FLAG_NEW_LISTENER`` before it execs the server and hands the listener fd
  out over a Unix socket (``SCM_RIGHTS``).
- ``NetAudit``: that socket on the host, and the supervisor thread. For each notification it
  reads the destination from ``/proc/PID/mem``, decides (``decide``, pure), records a refusal,
  and answers: ``EPERM``, or "continue" for what is not egress (Unix and netlink sockets, a
  message without an address, the bridge's proxy listener at its own address, a loopback port
  that something inside the sandbox listens on).
- ``Denials``: the audit-flood bound (identical refusals aggregated per window with a count,
  a sweep of destinations folded into an overflow record); past ``FloodLimits.stop_count``
  refusals in ``stop_seconds`` the sandbox is stopped.

Failure is closed: a destination that cannot be read or any exception refuses the call; a
refusal that cannot be recorded (the audit write fails, the handler or the supervisor thread
fails) also stops the sandbox (one line, then its PID namespace killed); if the supervisor is
closed the kernel fails every filtered call with ``ENOSYS``. The namespace, not this filter,
is the boundary: "continue" lets the kernel decide, and a thread racing to rewrite the address
after it was read reaches only the sandbox's own loopback (not audited; see docs/sandbox.md).
"""

from __future__ import annotations

import collections
import contextlib
import ctypes
import enum
import errno
import fcntl
import ipaddress
import logging
import os
import select
import signal
import socket
import struct
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from ztmcp.errors import UsageError, ZtmcpError

log = logging.getLogger(__name__)

Post = Callable[[dict[str, Any]], None]

# The calls the filter sends to the supervisor (sendto only with a destination address;
# socket only for a family outside FAMILIES, or a raw/packet type).
NOTIFIED: Final = ("connect", "sendto", "sendmsg", "sendmmsg", "socket")
REFUSED: Final = ("io_uring_setup",)
# The socket families a sandboxed server may create: Unix, IPv4, IPv6, netlink (getifaddrs,
# the kernel's answers only: no capability to change anything). Every other family (AF_PACKET,
# AF_VSOCK, which no network namespace contains, AF_ALG, AF_BLUETOOTH …) is refused at socket().
FAMILIES: Final = frozenset({1, 2, 10, 16})
# Socket types refused for IPv4/IPv6 (no capability grants them inside anyway): SOCK_RAW,
# SOCK_PACKET. The low 4 bits of the type; the rest are SOCK_NONBLOCK/SOCK_CLOEXEC.
RAW_TYPES: Final = frozenset({3, 10})
# Protocols refused for IPv4/IPv6: SCTP, which connects through setsockopt(SCTP_SOCKOPT_CONNECTX),
# a path the connect rule never sees.
PROTOCOLS: Final = frozenset({132})
# Where the launcher's proxy listener is bound (127.0.0.1:PROXY_PORT): a connect there, and to
# what the kernel sends there (0.0.0.0, mapped into IPv6 too), continues without a lookup.
BRIDGE_ADDRESSES: Final = frozenset({"127.0.0.1", "0.0.0.0"})

# <linux/seccomp.h>
_NOTIF = struct.Struct("=QII iIQ 6Q")  # seccomp_notif: id, pid, flags, seccomp_data
_RESP = struct.Struct("=QqiI")  # seccomp_notif_resp: id, val, error, flags
_IOC_RECV: Final = 0xC0502100  # SECCOMP_IOCTL_NOTIF_RECV  _IOWR('!', 0, seccomp_notif)
_IOC_SEND: Final = 0xC0182101  # SECCOMP_IOCTL_NOTIF_SEND  _IOWR('!', 1, seccomp_notif_resp)
_IOC_ID_VALID: Final = 0x40082102  # SECCOMP_IOCTL_NOTIF_ID_VALID  _IOW('!', 2, __u64)
_FLAG_CONTINUE: Final = 1  # SECCOMP_USER_NOTIF_FLAG_CONTINUE
_MSGHDR = struct.Struct("=QI4xQQQQi4x")  # name, namelen, iov, iovlen, control, controllen, flags
_MMSGHDR_SIZE: Final = _MSGHDR.size + 8  # + msg_len, padded
_MAX_VLEN: Final = 1024  # UIO_MAXIOV: the kernel sends no more messages per sendmmsg
_SYS_PIDFD_GETFD: Final = 438
AF_NETLINK: Final = 16
AF_VSOCK: Final = 40

REASON: Final = (
    "direct socket from the sandbox: its only way out is the egress gate "
    "(HTTP_PROXY; allow hosts with --allow-net)"
)


class Verdict(enum.Enum):
    CONTINUE = "continue"  # not egress: the kernel decides (inside the sandbox's namespace)
    DENY = "deny"  # refused with EPERM and audited


@dataclass(frozen=True, slots=True)
class Destination:
    family: int
    address: str  # an IP address, a Unix path (abstract: "@name"), or "" when unreadable
    port: int | None


@dataclass(frozen=True, slots=True)
class Attempt:
    """One notified call, as read from the server's memory."""

    syscall: str
    destinations: tuple[Destination, ...]  # none: no address (a connected socket's send)
    transport: str  # "tcp", "udp", "raw", "unknown"


def parse_sockaddr(raw: bytes) -> Destination:
    """A ``struct sockaddr`` as the kernel would read it; raises ``ValueError`` when short."""
    if len(raw) < 2:
        raise ValueError("sockaddr shorter than its family")
    (family,) = struct.unpack_from("=H", raw)
    # AF_UNSPEC: the kernel's IPv4 UDP send takes it for AF_INET (an old compatibility)
    if family == socket.AF_INET or (family == socket.AF_UNSPEC and len(raw) >= 8):
        if len(raw) < 8:
            raise ValueError("sockaddr_in too short")
        port, packed = struct.unpack_from("!H4s", raw, 2)
        return Destination(family, str(ipaddress.IPv4Address(packed)), port)
    if family == socket.AF_INET6:
        if len(raw) < 24:
            raise ValueError("sockaddr_in6 too short")
        port, _flow, packed = struct.unpack_from("!HI16s", raw, 2)
        return Destination(family, str(ipaddress.IPv6Address(packed)), port)
    if family == AF_VSOCK:
        if len(raw) < 12:
            raise ValueError("sockaddr_vm too short")
        vport, cid = struct.unpack_from("=II", raw, 4)
        return Destination(family, f"cid {cid}", vport)
    if family == socket.AF_UNIX:
        path = raw[2:]
        if path[:1] == b"\0":
            return Destination(family, "@" + path[1:].decode(errors="replace"), None)
        return Destination(family, path.split(b"\0", 1)[0].decode(errors="replace"), None)
    return Destination(family, "", None)


def _ip(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _local(address: str) -> bool:
    """An address that stays inside the sandbox's own network namespace."""
    ip = _ip(address)
    return ip.is_loopback or ip.is_unspecified


def _bridge(address: str) -> bool:
    """The launcher's proxy listener's own address (``::`` is ``::1``, where it is not)."""
    ip = _ip(address)
    return ip.version == 4 and str(ip) in BRIDGE_ADDRESSES


def socket_allowed(family: int, kind: int, proto: int = 0) -> bool:
    """Whether ``socket(family, kind, proto)`` is one the sandbox allows (the filter's rule)."""
    inet = family in (socket.AF_INET, socket.AF_INET6)
    return family in FAMILIES and not (inet and ((kind & 0xF) in RAW_TYPES or proto in PROTOCOLS))


def decide(
    attempt: Attempt, proxy_port: int, listening: Callable[[str, Destination], bool]
) -> tuple[Verdict, tuple[Destination, ...]]:
    """The verdict and the destinations it refuses (empty when it continues).

    Not egress: no address; Unix, netlink, a ``connect`` to ``AF_UNSPEC`` (dissolving an
    association; a *send* to ``AF_UNSPEC`` is IPv4 to the kernel, and judged as such); the
    bridge's proxy listener (its own address only: ``127.0.0.2`` or ``::`` to that port reach
    nothing and are refused like any unheard port); a loopback port that something in the
    sandbox listens on (``listening(transport, destination)``). Everything else (IPv4/IPv6
    anywhere else, other families, an unreadable address, a ``socket()`` of a family or type
    the sandbox does not allow) is refused.
    """
    if attempt.syscall == "socket":
        kinds, proto = {"raw": 3, "packet": 10}, 132 if attempt.transport == "sctp" else 0
        refused_sockets = tuple(
            d
            for d in attempt.destinations
            if not socket_allowed(d.family, kinds.get(attempt.transport, 1), proto)
        )
        return (Verdict.DENY, refused_sockets) if refused_sockets else (Verdict.CONTINUE, ())
    refused = []
    for dest in attempt.destinations:
        if dest.family in (socket.AF_UNIX, AF_NETLINK) or (
            dest.family == socket.AF_UNSPEC and attempt.syscall == "connect"
        ):
            continue
        family = socket.AF_INET if dest.family == socket.AF_UNSPEC else dest.family
        if (
            family in (socket.AF_INET, socket.AF_INET6)
            and dest.port is not None
            and _local(dest.address)
            and (
                (
                    dest.port == proxy_port
                    and attempt.transport in ("tcp", "unknown")
                    and _bridge(dest.address)
                )
                or listening(attempt.transport, dest)
            )
        ):
            continue
        refused.append(dest)
    return (Verdict.DENY, tuple(refused)) if refused else (Verdict.CONTINUE, ())


def technique(attempt: Attempt, dest: Destination) -> str:
    if attempt.syscall == "socket":
        return "socket"
    if dest.family not in (socket.AF_INET, socket.AF_INET6, socket.AF_UNSPEC) or not dest.address:
        return "socket"
    if dest.port == 53:
        return "dns"
    return attempt.transport if attempt.transport != "unknown" else "socket"


def record(server: str, attempt: Attempt, dest: Destination) -> dict[str, Any]:
    """The ``egress`` record of one refused destination."""
    family: dict[int, str] = {socket.AF_INET: "ipv4", socket.AF_INET6: "ipv6"}
    if dest.family not in family and dest.family >= 0:
        with contextlib.suppress(ValueError):
            family[dest.family] = socket.AddressFamily(dest.family).name.lower()
    return {
        "event": "egress",
        "server": server,
        "egress.verdict": "deny",
        "egress.technique": technique(attempt, dest),
        "egress.syscall": attempt.syscall,
        "network.transport": attempt.transport,
        "network.type": family.get(dest.family, f"family {dest.family}"),
        # socket(): refused before any address exists
        "server.address": None if attempt.syscall == "socket" else dest.address or "unreadable",
        "server.port": dest.port,
        "egress.reason": REASON,
    }


@dataclass(frozen=True, slots=True)
class FloodLimits:
    """The audit-flood bound. ``window``: identical refusals (same server, technique, system
    call, destination) within it after the first become one record with their count, written
    when the window closes (and at shutdown). Beyond ``distinct`` destinations open at once,
    a new one joins its technique's overflow record (``server.address`` "*": a server sweeping
    addresses or ports writes a bounded number of records too). ``stop_count`` refusals of any
    kind within ``stop_seconds``: the sandbox is stopped (a limit refuses; it never skips).
    At most ``2 x (distinct + overflow kinds)`` records per window, whatever the server does."""

    window: float = 2.0
    distinct: int = 32
    stop_count: int = 2000
    stop_seconds: float = 10.0


_KEY_FIELDS: Final = (
    "egress.technique",
    "egress.syscall",
    "network.transport",
    "network.type",
    "server.address",
    "server.port",
)


@dataclass(slots=True)
class _Window:
    opened: float
    first: dict[str, Any]
    repeats: int = 0


class Denials:
    """Refusals, bounded for the audit log (pure: time is the caller's). Every refusal is
    counted in exactly one record: the first of a kind at once (``egress.count`` 1), the
    repeats within its window in one record when the window closes (``egress.count`` N,
    ``egress.aggregated``). The sum of ``egress.count`` is the number of refusals."""

    def __init__(self, limits: FloodLimits) -> None:
        self.limits = limits
        self._open: dict[tuple[Any, ...], _Window] = {}
        self._recent: collections.deque[float] = collections.deque(maxlen=limits.stop_count)
        self.total = 0

    def add(self, rec: dict[str, Any], now: float) -> tuple[list[dict[str, Any]], bool]:
        """The records to write now, and whether the stop limit is crossed."""
        self.total += 1
        self._recent.append(now)
        flood = (
            len(self._recent) == self.limits.stop_count
            and now - self._recent[0] <= self.limits.stop_seconds
        )
        out = self.due(now)
        key: tuple[Any, ...] = tuple(rec.get(k) for k in _KEY_FIELDS)
        if key not in self._open and len(self._open) >= self.limits.distinct:
            key = ("*", rec.get("egress.technique"), rec.get("egress.syscall"))
            rec = {**rec, "server.address": "*", "server.port": None, "egress.overflow": True}
        window = self._open.get(key)
        if window is None:
            self._open[key] = _Window(now, rec)
            out.append({**rec, "egress.count": 1})
        else:
            window.repeats += 1
        return out, flood

    def next_due(self) -> float | None:
        """When the earliest open window closes (None: none open)."""
        return min((w.opened for w in self._open.values()), default=None) if self._open else None

    def due(self, now: float) -> list[dict[str, Any]]:
        """The records of the windows closed by ``now``."""
        closed = [k for k, w in self._open.items() if now - w.opened >= self.limits.window]
        return [r for k in closed if (r := self._summary(self._open.pop(k))) is not None]

    def drain(self) -> list[dict[str, Any]]:
        """At shutdown: every open window's record."""
        out = [r for w in self._open.values() if (r := self._summary(w)) is not None]
        self._open.clear()
        return out

    def _summary(self, window: _Window) -> dict[str, Any] | None:
        if not window.repeats:
            return None
        return {
            **window.first,
            "egress.count": window.repeats,
            "egress.aggregated": True,
            "egress.window_s": self.limits.window,
        }


def flood_line(server: str, count: int, seconds: float) -> str:
    return f"server {server} made {count} refused connection attempts in {seconds:g} s; stopped"


def sandbox_init(pid: int) -> int:
    """The first process of ``pid``'s PID namespace (killing it ends the whole namespace)."""
    ns = os.readlink(f"/proc/{pid}/ns/pid")
    for _ in range(_MAX_DEPTH):
        status = Path(f"/proc/{pid}/status").read_text()
        parent = int(status.split("\nPPid:", 1)[1].split()[0])
        if parent <= 1 or os.readlink(f"/proc/{parent}/ns/pid") != ns:
            return pid
        pid = parent
    raise ValueError(f"no namespace root within {_MAX_DEPTH} parents")  # the caller: kill pid


_MAX_DEPTH: Final = 256  # parents walked from a caller to its PID namespace's first process


# -- the filter ---------------------------------------------------------------------------


def compile_filter() -> bytes:
    """The BPF program (native architecture; any other kills the process: no ``int 0x80``
    or x32 way around it)."""
    try:
        import pyseccomp as sc  # type: ignore[import-untyped]
    except (ImportError, OSError, RuntimeError, AttributeError) as exc:
        raise UsageError(
            f"cannot sandbox: libseccomp is not available ({exc})",
            hint="install libseccomp2 (the sandbox audits direct sockets through it)",
        ) from None
    flt = sc.SyscallFilter(sc.ALLOW)
    flt.set_attr(sc.Attr.ACT_BADARCH, sc.KILL_PROCESS)
    flt.add_rule(sc.NOTIFY, "connect")
    flt.add_rule(sc.NOTIFY, "sendto", sc.Arg(4, sc.NE, 0))
    flt.add_rule(sc.NOTIFY, "sendmsg")
    flt.add_rule(sc.NOTIFY, "sendmmsg")
    # socket(): every family outside FAMILIES (one rule per number below the largest, one for
    # anything above it: a value with high bits set is above too, and the supervisor judges
    # the low 32 bits, as the kernel does), and raw types and PROTOCOLS of IPv4/IPv6 (compared
    # on the low 32 bits: high garbage cannot slip past an equality).
    top = max(FAMILIES)
    for family in range(top):
        if family not in FAMILIES:
            flt.add_rule(sc.NOTIFY, "socket", sc.Arg(0, sc.EQ, family))
    flt.add_rule(sc.NOTIFY, "socket", sc.Arg(0, sc.GT, top))
    for family in (socket.AF_INET, socket.AF_INET6):
        inet = sc.Arg(0, sc.MASKED_EQ, 0xFFFFFFFF, family)
        for kind in RAW_TYPES:
            flt.add_rule(sc.NOTIFY, "socket", inet, sc.Arg(1, sc.MASKED_EQ, 0xF, kind))
        for proto in PROTOCOLS:
            flt.add_rule(sc.NOTIFY, "socket", inet, sc.Arg(2, sc.MASKED_EQ, 0xFFFFFFFF, proto))
    for name in REFUSED:
        flt.add_rule(sc.ERRNO(errno.EPERM), name)
    with tempfile.TemporaryFile() as out:
        flt.export_bpf(out)
        out.seek(0)
        return out.read()


def seccomp_syscall() -> int:
    import pyseccomp as sc

    return int(sc.resolve_syscall(sc.Arch.NATIVE, "seccomp"))


def syscall_names() -> dict[int, str]:
    import pyseccomp as sc

    return {int(sc.resolve_syscall(sc.Arch.NATIVE, n)): n for n in NOTIFIED}


# -- reading the server's memory ----------------------------------------------------------


def _read(mem: int, address: int, size: int) -> bytes:
    data = os.pread(mem, size, address)
    if len(data) != size:
        raise OSError(errno.EFAULT, "short read")
    return data


def _int(register: int) -> int:
    """A C ``int`` argument as the kernel takes it: the low 32 bits, signed."""
    value = register & 0xFFFFFFFF
    return value - (1 << 32) if value >= 1 << 31 else value


def _name(mem: int, pointer: int, length: int) -> Destination:
    if pointer == 0:
        raise ValueError("no address")
    size = _int(length)
    if size < 0:
        raise ValueError("negative address length")  # the kernel: EINVAL
    return parse_sockaddr(_read(mem, pointer, min(size, 128)))


def _msghdr_dest(mem: int, raw: bytes) -> Destination | None:
    name, namelen = _MSGHDR.unpack(raw)[:2]
    return _name(mem, name, namelen) if name and namelen else None  # the kernel's rule too


def destinations(syscall: str, args: tuple[int, ...], mem: int) -> tuple[Destination, ...]:
    """The destination addresses a call names (none: it sends on a connected socket)."""
    if syscall == "socket":  # nothing to read: the family is the argument
        return (Destination(_int(args[0]), "", None),)
    if syscall == "connect":
        return (_name(mem, args[1], args[2]),)
    if syscall == "sendto":
        return (_name(mem, args[4], args[5]),) if args[4] else ()
    if syscall == "sendmsg":
        dest = _msghdr_dest(mem, _read(mem, args[1], _MSGHDR.size))
        return (dest,) if dest is not None else ()
    if syscall == "sendmmsg":
        count = min(args[2] & 0xFFFFFFFF, _MAX_VLEN)
        table = _read(mem, args[1], count * _MMSGHDR_SIZE) if count else b""
        found = []
        for i in range(count):
            chunk = table[i * _MMSGHDR_SIZE : i * _MMSGHDR_SIZE + _MSGHDR.size]
            dest = _msghdr_dest(mem, chunk)
            if dest is not None:
                found.append(dest)
        return tuple(found)
    raise ValueError(f"unexpected system call {syscall}")


_libc = ctypes.CDLL(None, use_errno=True)


def transport(pid: int, fd: int) -> str:
    """The socket's type, from a duplicate taken with ``pidfd_getfd`` ("unknown" if not)."""
    try:
        pidfd = os.pidfd_open(pid)
    except OSError:  # the notification names a thread; pidfd_open wants its process
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            pidfd = os.pidfd_open(int(status.split("\nTgid:", 1)[1].split()[0]))
        except (OSError, IndexError, ValueError):
            return "unknown"
    try:
        dup = _libc.syscall(_SYS_PIDFD_GETFD, pidfd, ctypes.c_int(fd), 0)
        if dup < 0:
            return "unknown"
        try:
            with socket.socket(fileno=os.dup(dup)) as sock:
                kind, proto = sock.type, sock.proto
        except OSError:
            return "unknown"
        finally:
            os.close(dup)
    finally:
        os.close(pidfd)
    if kind == socket.SOCK_STREAM:
        return "tcp"
    if kind == socket.SOCK_DGRAM:
        return "udp" if proto in (0, socket.IPPROTO_UDP) else "dgram"
    if kind == socket.SOCK_RAW:
        return "raw"
    return "unknown"


_SOCKET_TYPES: Final = {1: "tcp", 2: "udp", 3: "raw", 5: "seqpacket", 10: "packet"}

_NLMSG = struct.Struct("=IHHII")  # nlmsghdr: len, type, flags, seq, pid
_DIAG_REQ = struct.Struct("=BBBxI2s2s16s16sIII")  # inet_diag_req_v2 with its inet_diag_sockid
_SOCK_DIAG_BY_FAMILY: Final = 20
_NLMSG_ERROR: Final = 2
_NOCOOKIE: Final = 0xFFFFFFFF


def _fd_kind(fd: int) -> str:
    """What a received fd is (no copy of it is left open: a stray copy of the seccomp listener
    would keep the kernel waiting for a supervisor that is gone)."""
    link = os.readlink(f"/proc/self/fd/{fd}")
    if not link.startswith("socket:"):
        return link
    dup = os.dup(fd)
    try:
        sock = socket.socket(fileno=dup)
    except OSError:
        os.close(dup)
        return link
    with sock:
        return "netlink" if sock.family == AF_NETLINK else f"socket {sock.family}"


class Listeners:
    """Whether a socket in the sandbox would take a connection or datagram to an address.

    Asked of the kernel itself, through a ``NETLINK_SOCK_DIAG`` socket the launcher opened in
    the sandbox's network namespace and handed out with the seccomp listener: an exact lookup
    (no dump), the one the kernel makes for an arriving packet, so its cost does not grow with
    the machine's socket tables (``/proc/PID/net/tcp`` walks them all). Any failure: "no"."""

    def __init__(self, fd: int) -> None:
        self.sock = socket.socket(fileno=fd)
        self.sock.settimeout(1.0)
        self.seq = 0

    def __call__(self, transport: str, dest: Destination) -> bool:
        kinds = ("tcp", "udp") if transport not in ("tcp", "udp") else (transport,)
        return any(self._lookup(kind, dest) for kind in kinds)

    def _lookup(self, kind: str, dest: Destination) -> bool:
        ip = ipaddress.ip_address(dest.address)
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if ip.is_unspecified:  # the kernel connects 0.0.0.0 / :: to loopback
            ip = ipaddress.ip_address("::1" if ip.version == 6 else "127.0.0.1")
        family = socket.AF_INET if ip.version == 4 else socket.AF_INET6
        local, port = ip.packed.ljust(16, b"\0"), struct.pack("!H", dest.port or 0)
        none, zero = bytes(16), b"\0\0"
        if kind == "tcp":  # inet_diag_find_one_icsk: src is the local side
            sockid = (port, zero, local, none)
            proto = socket.IPPROTO_TCP
        else:  # udp_dump_one: src and dst swapped "for historical reasons"
            sockid = (zero, port, none, local)
            proto = socket.IPPROTO_UDP
        self.seq = (self.seq + 1) & 0xFFFFFFFF
        body = _DIAG_REQ.pack(family, proto, 0, 0xFFFFFFFF, *sockid, 0, _NOCOOKIE, _NOCOOKIE)
        head = _NLMSG.pack(_NLMSG.size + len(body), _SOCK_DIAG_BY_FAMILY, 1, self.seq, 0)
        try:
            self.sock.send(head + body)
            while True:
                reply = self.sock.recv(65536)
                if len(reply) < _NLMSG.size:
                    return False
                _length, kind_, _flags, seq, _pid = _NLMSG.unpack_from(reply)
                if seq != self.seq:
                    continue  # a late answer to an earlier question
                if kind_ == _NLMSG_ERROR:
                    return False  # ENOENT: nothing there (or another error: the same answer)
                return bool(kind_ == _SOCK_DIAG_BY_FAMILY)
        except OSError:
            return False

    def close(self) -> None:
        self.sock.close()


# -- the supervisor -----------------------------------------------------------------------


class NetAudit:
    """The Unix socket the launcher hands the listener to, and the supervisor thread."""

    def __init__(
        self,
        server: str,
        post: Post,
        directory: Path,
        *,
        proxy_port: int,
        limits: FloodLimits = FloodLimits(),
        clock: Callable[[], float] = time.monotonic,
        say: Callable[[str], None] | None = None,
    ) -> None:
        self.server = server
        self.post = post
        self.proxy_port = proxy_port
        self.clock = clock
        # the user's one line when the flood limit stops the sandbox (as ztmcp run's own notes)
        self.say = say or (lambda text: print(f"ztmcp: {text}", file=sys.stderr, flush=True))
        self.denials = Denials(limits)
        self.stopped: str | None = None  # the line, once the sandbox was stopped
        self._pid: int | None = None  # the last caller (a way to the sandbox's namespace)
        self.socket_path = directory / "netaudit.sock"
        self.filter_path = directory / "netfilter.bpf"
        self.filter_path.write_bytes(compile_filter())
        os.chmod(self.filter_path, 0o444)
        self.seccomp_nr = seccomp_syscall()
        self._names = syscall_names()
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(str(self.socket_path))
        os.chmod(self.socket_path, 0o600)
        self._listener.listen(1)
        self._wake_r, self._wake_w = os.pipe()
        self._thread: threading.Thread | None = None
        self._closed = False
        self.handled = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._main, name="ztmcp-netaudit", daemon=True)
        self._thread.start()

    def _main(self) -> None:
        try:
            received = self._receive()
        except Exception as exc:  # the launcher stops itself: the server never starts
            self._halt(f"the sandbox's socket audit failed ({exc}); server {self.server} stopped")
            return
        if received is None:
            return
        fd, listeners = received
        try:
            self._supervise(fd, listeners)
        except Exception as exc:
            # Attempts would go unrecorded: the sandbox is stopped, *before* the listener
            # closes (closing it fails the call in hand with ENOSYS: the caller would run on).
            self._halt(f"the sandbox's socket audit failed ({exc}); server {self.server} stopped")
        finally:
            os.close(fd)
            listeners.close()
            try:
                self._write(self.denials.drain())  # the windows still open: their counts
            except Exception as exc:
                self.say(f"the sandbox's refusal counts could not be recorded ({exc!r})")

    def _receive(self) -> tuple[int, Listeners] | None:
        """From the first (the launcher's) connection: the seccomp listener and the sandbox's
        sock_diag socket; then the socket takes no more connections."""
        ready, _, _ = select.select([self._listener.fileno(), self._wake_r], [], [])
        if self._wake_r in ready:
            return None
        conn, _ = self._listener.accept()
        self._listener.close()
        with conn:
            conn.settimeout(10)
            creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
            _, fds, _, _ = socket.recv_fds(conn, 16, 4)
            kinds = [_fd_kind(fd) for fd in fds]
            if kinds != ["anon_inode:seccomp notify", "netlink"]:
                for fd in fds:
                    os.close(fd)
                raise OSError(errno.EPROTO, f"the launcher sent {kinds}, not the audit's fds")
            conn.sendall(b"k")
            # the launcher, about to become the server: a way to its sandbox from now on (a
            # launcher that failed before this stops itself: the server never starts)
            self._pid = struct.unpack("3i", creds)[0] or None
            return fds[0], Listeners(fds[1])

    def _supervise(self, fd: int, listeners: Listeners) -> None:
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        poller.register(self._wake_r, select.POLLIN)
        while True:
            due = self.denials.next_due()
            wait = None if due is None else max(0, due + self.denials.limits.window - self.clock())
            ready = poller.poll(None if wait is None else int(wait * 1000) + 1)
            self._record(self.denials.due(self.clock()))
            for which, events in ready:
                if which == self._wake_r:
                    return
                if events & select.POLLIN:
                    self._one(fd, listeners)
                elif events & (select.POLLHUP | select.POLLERR):
                    return  # no process left under the filter

    def _one(self, fd: int, listeners: Listeners) -> None:
        buf = bytearray(_NOTIF.size)
        try:
            fcntl.ioctl(fd, _IOC_RECV, buf, True)
        except OSError as exc:  # ENOENT: the caller was interrupted or died; nothing to answer
            if exc.errno in (errno.ENOENT, errno.EINTR):
                return
            raise
        fields = _NOTIF.unpack(buf)
        ident, pid, nr, args = fields[0], fields[1], fields[3], tuple(fields[6:12])
        self._pid = pid
        flags, error = 0, -errno.EPERM
        try:
            name = self._names.get(nr, f"syscall {nr}")
            if self.handle(fd, ident, pid, name, args, listeners):
                flags, error = _FLAG_CONTINUE, 0
        except Exception as exc:  # at the boundary: refuse the call in hand and say so; it
            # went unrecorded, so the sandbox is stopped too
            self._halt(f"the sandbox's socket audit failed ({exc!r}); server {self.server} stopped")
        self.handled += 1
        try:
            fcntl.ioctl(fd, _IOC_SEND, bytearray(_RESP.pack(ident, 0, error, flags)), True)
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                return  # the caller is gone (killed, or its call interrupted)
            # A kernel without "continue" (before 5.5) or any other refusal of the answer: the
            # call is refused rather than left waiting forever.
            log.error("sandbox socket call refused: the kernel took no answer (%s)", exc)
            with contextlib.suppress(OSError):
                resp = _RESP.pack(ident, 0, -errno.EPERM, 0)
                fcntl.ioctl(fd, _IOC_SEND, bytearray(resp), True)

    def handle(
        self,
        fd: int,
        ident: int,
        pid: int,
        syscall: str,
        args: tuple[int, ...],
        listeners: Callable[[str, Destination], bool],
    ) -> bool:
        """True: continue; False: refused (and recorded). Raises when it cannot record."""
        try:
            mem = os.open(f"/proc/{pid}/mem", os.O_RDONLY)
        except OSError:
            mem = -1
        try:
            try:
                dests = destinations(syscall, args, mem) if mem >= 0 else None
            except (OSError, ValueError):
                dests = None
            # The memory read is only meaningful if the call is still the one notified.
            try:
                fcntl.ioctl(fd, _IOC_ID_VALID, bytearray(struct.pack("=Q", ident)), True)
            except OSError:
                return False  # the caller is gone: nothing to answer, nothing happened
        finally:
            if mem >= 0:
                os.close(mem)
        if syscall == "socket":
            dests, kind = destinations(syscall, args, -1), _SOCKET_TYPES.get(args[1] & 0xF)
            kind = "sctp" if _int(args[2]) in PROTOCOLS else kind
        else:
            kind = transport(pid, args[0] & 0xFFFFFFFF)
        attempt = Attempt(
            syscall,
            dests if dests is not None else (Destination(-1, "", None),),
            kind or "unknown",
        )
        verdict, refused = decide(attempt, self.proxy_port, listeners)
        for dest in refused:
            records, flood = self.denials.add(record(self.server, attempt, dest), self.clock())
            self._record(records)
            if flood:
                limits = self.denials.limits
                line = flood_line(self.server, limits.stop_count, limits.stop_seconds)
                event = {"event": "sandbox.flood", "server": self.server, "sandbox.reason": line}
                self._halt(line, {**event, "egress.refused": self.denials.total})
        return verdict is Verdict.CONTINUE

    def _write(self, records: list[dict[str, Any]]) -> str | None:
        """Post each record; the first failure's message (None: all written)."""
        failure = None
        for rec in records:
            try:
                self.post(rec)
            except ZtmcpError as exc:
                failure = failure or exc.message
        return failure

    def _record(self, records: list[dict[str, Any]]) -> None:
        """Refusals that cannot be recorded stop the sandbox (the call in hand is refused)."""
        failure = self._write(records)
        if failure is not None:
            self._halt(f"the audit log failed ({failure}); server {self.server} stopped")

    def _halt(self, line: str, event: dict[str, Any] | None = None) -> None:
        """Stop the sandbox, once: its record (when there is one to write), one line for the
        user, then a kill of the sandbox's PID namespace (every process in it)."""
        if self.stopped is not None:
            return
        self.stopped = line
        if event is not None:
            self._write([event])
        self.say(line)
        if self._pid is None:
            return  # no call came from the sandbox: nothing of it to find
        try:
            init = sandbox_init(self._pid)
        except (OSError, ValueError, IndexError):
            init = self._pid  # the namespace could not be walked: at least the caller
        # The caller first: it never returns from the call in hand (its answer is not sent
        # yet); then the namespace's first process, whose death ends every other one.
        for target in (self._pid, init):
            with contextlib.suppress(OSError):
                os.kill(target, signal.SIGKILL)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"x")
        if self._thread is not None:
            self._thread.join(5)
        with contextlib.suppress(OSError):
            self._listener.close()
        for path in (self.socket_path, self.filter_path):
            with contextlib.suppress(OSError):
                path.unlink()
        for end in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(end)
