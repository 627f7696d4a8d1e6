"""Direct sockets from inside the sandbox: refused *and audited* (seccomp user notification).

The sandbox's network namespace already contains every direct socket (loopback only, no
route): a connection to a host port, UDP, a DNS lookup fail inside, at the kernel, and were
invisible from outside. This module makes each attempt an audit record:

- ``compile_filter()``: a seccomp filter (built by libseccomp through ``pyseccomp``, exported as
  BPF) that sends ``connect``, ``sendto`` with an address, ``sendmsg`` and ``sendmmsg`` to a
  supervisor and refuses ``io_uring_setup`` (whose rings would issue the same calls unseen); every
  other system call, the MCP server's stdio included, never meets it. The in-sandbox launcher
  (``bridge.py``) installs it with ``SECCOMP_FILTER_FLAG_NEW_LISTENER`` before it execs the server
  and hands the listener fd out over a Unix socket (``SCM_RIGHTS``).
- ``NetAudit``: that socket on the host, and the supervisor thread. For each notification it
  reads the destination from ``/proc/PID/mem``, decides (``decide``, pure), writes one ``egress``
  record for a refusal, and answers: ``EPERM``, or "continue" for what is not egress (Unix and
  netlink sockets, a message without an address, the bridge's proxy port, a loopback port that
  something inside the sandbox listens on).

Failure is closed: a destination that cannot be read, a record that cannot be written or any
exception refuses the call; if the supervisor is gone the kernel fails every filtered call with
``ENOSYS``. The namespace, not this filter, is the boundary: "continue" lets the kernel decide,
and a thread racing to rewrite the address after it was read reaches only the sandbox's own
loopback (not audited; see docs/sandbox.md).
"""

from __future__ import annotations

import contextlib
import ctypes
import enum
import errno
import fcntl
import ipaddress
import logging
import os
import select
import socket
import struct
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from ztmcp.errors import UsageError, ZtmcpError

log = logging.getLogger(__name__)

Post = Callable[[dict[str, Any]], None]

# The calls the filter sends to the supervisor (sendto only with a destination address).
NOTIFIED: Final = ("connect", "sendto", "sendmsg", "sendmmsg")
REFUSED: Final = ("io_uring_setup",)

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
    if family == socket.AF_UNIX:
        path = raw[2:]
        if path[:1] == b"\0":
            return Destination(family, "@" + path[1:].decode(errors="replace"), None)
        return Destination(family, path.split(b"\0", 1)[0].decode(errors="replace"), None)
    return Destination(family, "", None)


def _local(address: str) -> bool:
    """An address that stays inside the sandbox's own network namespace."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback or ip.is_unspecified


def decide(
    attempt: Attempt, proxy_port: int, listening: Callable[[str, Destination], bool]
) -> tuple[Verdict, tuple[Destination, ...]]:
    """The verdict and the destinations it refuses (empty when it continues).

    Not egress: no address; Unix, netlink, a ``connect`` to ``AF_UNSPEC`` (dissolving an
    association; a *send* to ``AF_UNSPEC`` is IPv4 to the kernel, and judged as such); the
    bridge's proxy port; a loopback port that something in the sandbox listens on
    (``listening(transport, destination)``). Everything else (IPv4/IPv6 anywhere else, other
    families, an unreadable address) is refused.
    """
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
                (dest.port == proxy_port and attempt.transport in ("tcp", "unknown"))
                or listening(attempt.transport, dest)
            )
        ):
            continue
        refused.append(dest)
    return (Verdict.DENY, tuple(refused)) if refused else (Verdict.CONTINUE, ())


def technique(attempt: Attempt, dest: Destination) -> str:
    if dest.family not in (socket.AF_INET, socket.AF_INET6, socket.AF_UNSPEC) or not dest.address:
        return "socket"
    if dest.port == 53:
        return "dns"
    return attempt.transport if attempt.transport != "unknown" else "socket"


def record(server: str, attempt: Attempt, dest: Destination) -> dict[str, Any]:
    """The ``egress`` record of one refused destination."""
    family: dict[int, str] = {socket.AF_INET: "ipv4", socket.AF_INET6: "ipv6"}
    return {
        "event": "egress",
        "server": server,
        "egress.verdict": "deny",
        "egress.technique": technique(attempt, dest),
        "egress.syscall": attempt.syscall,
        "network.transport": attempt.transport,
        "network.type": family.get(dest.family, f"family {dest.family}"),
        "server.address": dest.address or "unreadable",
        "server.port": dest.port,
        "egress.reason": REASON,
    }


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


def _name(mem: int, pointer: int, length: int) -> Destination:
    if pointer == 0:
        raise ValueError("no address")
    return parse_sockaddr(_read(mem, pointer, min(length, 128)))


def _msghdr_dest(mem: int, raw: bytes) -> Destination | None:
    name, namelen = _MSGHDR.unpack(raw)[:2]
    return _name(mem, name, namelen) if name and namelen else None  # the kernel's rule too


def destinations(syscall: str, args: tuple[int, ...], mem: int) -> tuple[Destination, ...]:
    """The destination addresses a call names (none: it sends on a connected socket)."""
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

    def __init__(self, server: str, post: Post, directory: Path, *, proxy_port: int) -> None:
        self.server = server
        self.post = post
        self.proxy_port = proxy_port
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
            if received is None:
                return
            fd, listeners = received
            try:
                self._supervise(fd, listeners)
            finally:
                os.close(fd)
                listeners.close()
        except Exception as exc:  # the listener closes: every filtered call fails (ENOSYS)
            log.error("the sandbox's socket audit stopped (%s): direct sockets now fail", exc)

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
            _, fds, _, _ = socket.recv_fds(conn, 16, 4)
            kinds = [_fd_kind(fd) for fd in fds]
            if kinds != ["anon_inode:seccomp notify", "netlink"]:
                for fd in fds:
                    os.close(fd)
                raise OSError(errno.EPROTO, f"the launcher sent {kinds}, not the audit's fds")
            conn.sendall(b"k")
            return fds[0], Listeners(fds[1])

    def _supervise(self, fd: int, listeners: Listeners) -> None:
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        poller.register(self._wake_r, select.POLLIN)
        while True:
            for which, events in poller.poll():
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
        flags, error = 0, -errno.EPERM
        try:
            name = self._names.get(nr, f"syscall {nr}")
            if self.handle(fd, ident, pid, name, args, listeners):
                flags, error = _FLAG_CONTINUE, 0
        except Exception as exc:  # at the boundary: refuse the call in hand and say so
            log.error("sandbox socket call refused: the audit failed (%s)", exc)
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
        attempt = Attempt(
            syscall,
            dests if dests is not None else (Destination(-1, "", None),),
            transport(pid, args[0] & 0xFFFFFFFF),
        )
        verdict, refused = decide(attempt, self.proxy_port, listeners)
        for dest in refused:
            try:
                self.post(record(self.server, attempt, dest))
            except ZtmcpError as exc:
                log.error("sandbox socket call refused; its audit record failed (%s)", exc)
        return verdict is Verdict.CONTINUE

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
