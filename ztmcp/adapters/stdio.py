"""The stdio adapter: spawn the MCP server, pump newline-delimited frames both ways.

Raw file descriptors and one reader thread per side: no buffered-reader locks that a daemon
thread could hold at exit, no event loop on the hot path. Writes to each side are serialised
by a lock so a denial reply never interleaves with a forwarded frame. stdout carries MCP only;
the server's stderr passes straight through to ours.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ztmcp.adapters.framing import Line, LineFramer
from ztmcp.errors import UsageError
from ztmcp.jsonrpc import Direction
from ztmcp.session import Decision, Session

# How often the main thread looks for a signal that arrived while it waits for the relay to end.
_SIGNAL_POLL = 0.1

READ_CHUNK = 1 << 16


def spawn_server(argv: Sequence[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """Start the MCP server with piped stdin/stdout; its stderr is ours.

    Separate from the relay so ``ztmcp run`` can start the server first and load policy and
    checks while the server boots (both take a noticeable part of a second).
    """
    if not argv:
        raise UsageError("no server command given", hint="ztmcp run -- CMD ARGS…")
    try:
        return subprocess.Popen(
            list(argv),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=None,
            bufsize=0,
            env=env,
            start_new_session=True,  # so shutdown reaches the server's own children too
        )
    except FileNotFoundError:
        raise UsageError(
            f"cannot start the server: {argv[0]!r} not found",
            hint="check the command after '--' (is it installed and on PATH?)",
        ) from None
    except PermissionError:
        raise UsageError(
            f"cannot start the server: {argv[0]!r} is not executable",
            hint="check the file's permissions",
        ) from None


def kill_server(child: subprocess.Popen[bytes]) -> None:
    """End a server (and its process group) that will not be relayed after all."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.pid, signal.SIGKILL)
    child.wait()


class _Endpoint:
    """One side's write end, serialised."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.lock = threading.Lock()
        self.broken = False

    def write(self, frame: bytes) -> bool:
        data = memoryview(frame + b"\n")
        with self.lock:
            if self.broken:
                return False
            try:
                while data:
                    written = os.write(self.fd, data)
                    data = data[written:]
            except OSError:
                self.broken = True
                return False
        return True


@dataclass(frozen=True, slots=True)
class RunResult:
    exit_code: int
    reason: str  # why the relay stopped, for the user


class StdioRelay:
    def __init__(
        self,
        session: Session,
        argv: Sequence[str],
        *,
        grace: float = 5.0,
        env: dict[str, str] | None = None,
        child: subprocess.Popen[bytes] | None = None,
        agent_in: int = 0,
        agent_out: int = 1,
        say: Callable[[str], None] | None = None,
    ) -> None:
        self.session = session
        self._child = child
        self.argv = list(argv)
        self.grace = grace
        self.env = env
        self._agent_in = agent_in
        self._agent = _Endpoint(agent_out)
        self._say = say or (lambda text: print(f"ztmcp: {text}", file=sys.stderr, flush=True))
        self._done = threading.Event()
        # The signal that interrupted ztmcp, if any: shut the server down without delay. Set by
        # the handler as a plain attribute, never under a lock: a handler runs on the main
        # thread between two bytecodes, maybe while that thread holds the very lock it needs.
        self._signum: int | None = None
        self._stop_reason = ""
        self._reason_lock = threading.Lock()

    def _stop(self, reason: str) -> None:
        with self._reason_lock:
            if not self._stop_reason:
                self._stop_reason = reason
        self._done.set()

    def _on_signal(self, signum: int, _frame: object) -> None:
        self._signum = signum  # the main thread's wait loop stops the relay

    def _apply(self, decision: Decision, onward: _Endpoint, back: _Endpoint) -> None:
        if decision.hold is not None:  # held for approval: wait off this reading thread
            wait = decision.hold.wait
            threading.Thread(
                target=lambda: self._apply(wait(), onward, back), name="ztmcp-hold", daemon=True
            ).start()
            return
        if decision.forward is not None:
            onward.write(decision.forward)
        if decision.reply is not None:
            back.write(decision.reply)

    def _pump(
        self, fd: int, direction: Direction, onward: _Endpoint, back: _Endpoint, eof: str
    ) -> None:
        framer = LineFramer(self.session.limits.max_bytes)
        handle, oversize = self.session.handle, self.session.handle_oversize
        try:
            while True:
                try:
                    chunk = os.read(fd, READ_CHUNK)
                except OSError:
                    chunk = b""
                frames = framer.feed(chunk) if chunk else framer.finish()
                for frame in frames:
                    if isinstance(frame, Line):
                        decision = handle(direction, frame.data)
                    else:
                        decision = oversize(direction, frame.prefix, frame.size, frame.suffix)
                    self._apply(decision, onward, back)
                if not chunk:
                    break
                if self._agent.broken:
                    self._stop("the agent stopped reading")
                    return
        except BaseException as exc:  # a fault here must stop the relay, never hang it
            self._stop(f"internal error while relaying ({type(exc).__name__}: {exc})")
            return
        self._stop(eof)

    def run(self) -> RunResult:
        child = self._child or spawn_server(self.argv, self.env)
        assert child.stdin is not None and child.stdout is not None
        server = _Endpoint(child.stdin.fileno())
        previous = {}
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                previous[sig] = signal.signal(sig, self._on_signal)
        to_server = threading.Thread(
            target=self._pump,
            args=(self._agent_in, Direction.TO_SERVER, server, self._agent, "agent closed stdin"),
            name="ztmcp-agent",
            daemon=True,
        )
        to_client = threading.Thread(
            target=self._pump,
            args=(child.stdout.fileno(), Direction.TO_CLIENT, self._agent, server, "server closed"),
            name="ztmcp-server",
            daemon=True,
        )
        to_server.start()
        to_client.start()
        try:
            while not self._done.wait(_SIGNAL_POLL):
                if self._signum is not None:
                    self._stop(f"interrupted by {signal.Signals(self._signum).name}")
            reason = self._stop_reason
            server_died = reason == "server closed"
            if not server_died:
                # The agent is gone (or we were told to stop): close the server politely,
                # then firmly. Its remaining output still reaches the agent meanwhile.
                self._shutdown(child, server)
                to_client.join(timeout=2.0)
            code = self._reap(child)
            if server_died:
                reason = f"server {self.session.server!r} exited with code {code}"
            replies = self.session.close(reason)
            for reply in replies:
                self._agent.write(reply)
            if server_died:
                pending = (
                    f"; {len(replies)} pending request(s) answered with an error" if replies else ""
                )
                self._say(f"{reason}{pending}")
                return RunResult(code if code > 0 else (0 if code == 0 else 1), reason)
            return RunResult(0, reason)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            with contextlib.suppress(OSError):
                child.stdout.close()

    def _shutdown(self, child: subprocess.Popen[bytes], server: _Endpoint) -> None:
        """MCP stdio shutdown: close stdin, wait ``grace``, SIGTERM, wait, SIGKILL.

        A signal to ztmcp cuts the wait short: clients (the official SDK among them) send
        SIGTERM two seconds after closing stdin and SIGKILL two seconds later, and a ztmcp
        killed mid-wait would leave the server orphaned in its own process group.
        """
        with server.lock:
            server.broken = True
            with contextlib.suppress(OSError):
                assert child.stdin is not None
                child.stdin.close()
        if self._wait(child, self.grace):
            return
        self._signal(child, signal.SIGTERM)
        if not self._wait(child, 0.5 if self._signum is not None else 2.0, interruptible=False):
            self._say(f"server {self.session.server!r} ignored SIGTERM; killing it")
            self._signal(child, signal.SIGKILL)

    def _wait(
        self, child: subprocess.Popen[bytes], seconds: float, *, interruptible: bool = True
    ) -> bool:
        """True once the child has exited; False after ``seconds`` or on a signal to ztmcp."""
        deadline = time.monotonic() + seconds
        while True:
            try:
                child.wait(timeout=min(0.05, max(deadline - time.monotonic(), 0.0)))
                return True
            except subprocess.TimeoutExpired:
                pass
            if time.monotonic() >= deadline or (interruptible and self._signum is not None):
                return False

    @staticmethod
    def _signal(child: subprocess.Popen[bytes], sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.pid, sig)

    def _reap(self, child: subprocess.Popen[bytes]) -> int:
        try:
            return child.wait(timeout=max(self.grace, 1.0))
        except subprocess.TimeoutExpired:
            # stdout closed but the process lingers: end it rather than hang.
            self._signal(child, signal.SIGKILL)
            return child.wait()
