"""Inside the sandbox: the only way out, from 127.0.0.1:PORT to the egress gate's Unix socket.

Run by the sandbox's interpreter with ``-I -S`` (standard library only, no site packages):

    python -I -S bridge.py PORT SOCKET [--audit FILTER AUDIT_SOCKET SECCOMP_NR] -- CMD ARGS…

The sandbox's network namespace has loopback only, so the server's ``HTTP_PROXY`` points here;
each connection is relayed, byte for byte, to the Unix socket bind-mounted from the host, where
ztmcp's mitmproxy decides. The listener is bound before the server starts (no race with its
first request); then a forked child relays and this process becomes the server (``exec``), so
the server keeps the PID, stdio, signals and exit status that bwrap reports back to ztmcp.
Everything dies with the sandbox's PID namespace.

With ``--audit`` (``netaudit.py``), before the ``exec`` this process installs the seccomp filter
in ``FILTER`` with ``SECCOMP_FILTER_FLAG_NEW_LISTENER`` and hands the listener fd to ztmcp over
``AUDIT_SOCKET``, with a ``NETLINK_SOCK_DIAG`` socket of the sandbox's network namespace (for
ztmcp to ask whether a loopback destination is inside): from then on the server's direct
``connect``/``sendto``/``sendmsg`` calls are decided and audited by ztmcp. A helper thread
started *before* the filter sends the fds (the filtered thread's own ``sendmsg`` would wait
for a supervisor that has no listener yet); the process keeps no copy of them. If the filter
cannot be installed the server is not started. The relay, forked before, is unfiltered (it
only reaches the Unix socket) and not dumpable (the server cannot ptrace it into connecting
for it).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import socket
import sys
import threading

CHUNK = 1 << 16


def _pump(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(CHUNK):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for sock, how in ((dst, socket.SHUT_WR), (src, socket.SHUT_RD)):
            with contextlib.suppress(OSError):
                sock.shutdown(how)


def _relay(client: socket.socket, path: str) -> None:
    upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        upstream.connect(path)
    except OSError:
        client.close()
        upstream.close()
        return
    back = threading.Thread(target=_pump, args=(upstream, client), daemon=True)
    back.start()
    _pump(client, upstream)
    back.join()
    client.close()
    upstream.close()


def _serve(listener: socket.socket, path: str) -> None:
    while True:
        try:
            client, _ = listener.accept()
        except OSError:
            return
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=_relay, args=(client, path), daemon=True).start()


PR_SET_DUMPABLE = 4
PR_SET_NO_NEW_PRIVS = 38
SECCOMP_SET_MODE_FILTER = 1
SECCOMP_FILTER_FLAG_NEW_LISTENER = 8
NETLINK_SOCK_DIAG = 4


class _Prog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def _audit(filter_path: str, socket_path: str, seccomp_nr: int) -> None:
    """Install the filter on this thread; a thread started before it hands the listener out."""
    libc = ctypes.CDLL(None, use_errno=True)
    with open(filter_path, "rb") as f:
        program = f.read()
    if not program or len(program) % 8:
        raise OSError(0, "the seccomp filter file is empty or torn")
    # ztmcp asks the kernel, through this socket of the sandbox's network namespace, whether a
    # loopback destination is something inside the sandbox (sock_diag: read-only).
    diag = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_SOCK_DIAG)
    control = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    control.settimeout(30)
    control.connect(socket_path)
    box: list[int] = []
    ready = threading.Event()
    failure: list[BaseException] = []

    def hand_out() -> None:
        ready.wait()
        try:
            if box:
                socket.send_fds(control, [b"fd"], [*box, diag.fileno()])
                if control.recv(1) != b"k":
                    raise OSError(0, "ztmcp did not take the seccomp listener")
        except BaseException as exc:
            failure.append(exc)

    helper = threading.Thread(target=hand_out)
    helper.start()  # before the filter: this thread's own sendmsg is not filtered
    try:
        if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS)")
        code = ctypes.create_string_buffer(program, len(program))
        prog = _Prog(len(program) // 8, ctypes.addressof(code))
        fd = libc.syscall(
            seccomp_nr,
            SECCOMP_SET_MODE_FILTER,
            SECCOMP_FILTER_FLAG_NEW_LISTENER,
            ctypes.byref(prog),
        )
        if fd < 0:
            raise OSError(ctypes.get_errno(), "seccomp(SECCOMP_FILTER_FLAG_NEW_LISTENER)")
        box.append(fd)
    finally:
        ready.set()
        helper.join()
        for fd in box:
            os.close(fd)
        diag.close()
        control.close()
    if failure:
        raise failure[0]


def main(argv: list[str]) -> int:
    audit: list[str] = []
    if len(argv) >= 2 and argv[2:3] == ["--audit"]:
        audit, argv = argv[3:6], argv[:2] + argv[6:]
    if len(argv) < 4 or argv[2] != "--" or (audit and len(audit) != 3):
        print(
            "usage: bridge.py PORT SOCKET [--audit FILTER SOCKET NR] -- CMD ARGS…",
            file=sys.stderr,
        )
        return 2
    port, path, command = int(argv[0]), argv[1], argv[3:]
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(64)
    if os.fork() == 0:  # the relay: away from the server's stdio, so its pipes close with it
        ctypes.CDLL(None).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 0)
        os.dup2(null, 1)
        _serve(listener, path)
        os._exit(0)
    listener.close()
    if audit:
        try:
            _audit(audit[0], audit[1], int(audit[2]))
        except (OSError, ValueError) as exc:
            print(
                f"ztmcp sandbox: cannot install the socket audit ({exc}); "
                "the server was not started",
                file=sys.stderr,
            )
            return 126
    try:
        os.execvp(command[0], command)
    except OSError as exc:
        print(f"ztmcp sandbox: cannot start {command[0]!r}: {exc.strerror}", file=sys.stderr)
    return 127


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
