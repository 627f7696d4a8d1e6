"""The stdio adapter: spawn the MCP server, pump newline-delimited frames both ways.

Raw file descriptors and one reader thread per side: no buffered-reader locks that a daemon
thread could hold at exit, no event loop on the hot path. Writes to each side are serialised
by a lock so a denial reply never interleaves with a forwarded frame. stdout carries MCP only;
the server's stderr passes straight through to ours (no pump of ours touches it).

Every pump fails closed. A fault while a frame is in hand (checking it, delivering what the
Session decided, a held call's waiter) refuses that frame: ``Session.refuse`` answers its sender
and records it. A fault outside any frame (reading, framing) stops relaying: every request still
waiting is answered and the agent sees the end of the stream. An ``AuditError`` stops relaying in
both directions at once: the frame in hand and every pending request are answered, one line says
so on stderr, and nothing more is forwarded either way. A frame's record is written before the
Session returns its Decision (``AuditLog.post`` writes in the caller's thread), so the frame
whose record failed is the one refused: nothing unrecorded is forwarded.
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

from ztmcp.adapters.framing import Frame, Line, LineFramer
from ztmcp.adapters.spawn import spawn_server
from ztmcp.errors import AuditError
from ztmcp.jsonrpc import Direction
from ztmcp.session import Decision, Hold, Session
from ztmcp.state import paths

# How often the main thread looks for a signal that arrived while it waits for the relay to end.
_SIGNAL_POLL = 0.1

READ_CHUNK = 1 << 16

SERVER_CLOSED = "server closed"
SERVER_DEAF = "the server stopped reading its input"
EXIT_FAULT = 2  # ztmcp itself failed (the audit log, a relay fault): like a usage error


class _Endpoint:
    """One side's write end, serialised."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.lock = threading.Lock()
        self.broken = False
        self.fault: BaseException | None = None  # what broke it, when it was not the peer

    def write(self, frame: bytes) -> bool:
        """Write one frame and its newline; False once the side cannot take frames any more.

        Any failure mid-frame breaks the endpoint for good: after a partial line, nothing more
        may follow on that stream (it would join the torn frame)."""
        data = frame + b"\n"  # the frame and its newline in one write
        with self.lock:
            if self.broken:
                return False
            try:
                paths.write_all(self.fd, data)  # short writes finished; a write of 0 is an error
            except OSError:  # the peer is gone
                self.broken = True
                return False
            except BaseException as exc:
                self.broken = True
                self.fault = exc
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
        watch: Callable[[Direction, bytes, Decision], None] | None = None,
        when_idle: Callable[[], None] | None = None,
    ) -> None:
        self.session = session
        # Sees each frame's Decision before it is carried out (the CLI's hints to the user).
        self._watch = watch
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
        self._fault = False  # the relay stopped because ztmcp itself failed
        self._halted = False  # the audit log failed: nothing more is relayed either way
        self._reason_lock = threading.Lock()
        # Called once, the first time every request the agent sent has been answered (after
        # the server's frames were delivered): ``ztmcp run`` warms its detectors up then, so
        # that the work never competes with the first answer (the client waits for it).
        self._when_idle = when_idle

    def _stop(self, reason: str, *, fault: bool = False) -> None:
        with self._reason_lock:
            if not self._stop_reason:
                self._stop_reason = reason
                self._fault = fault
        self._done.set()

    def _on_signal(self, signum: int, _frame: object) -> None:
        self._signum = signum  # the main thread's wait loop stops the relay

    # -- one frame ------------------------------------------------------------------------

    def _frame(
        self, frame: Frame, direction: Direction, onward: _Endpoint, back: _Endpoint
    ) -> None:
        """Check and deliver one frame; a fault refuses it, answered to its sender."""
        if isinstance(frame, Line):
            data, suffix = frame.data, b""
        else:
            data, suffix = frame.prefix, frame.suffix
        try:
            if self._halted:
                raise AuditError("the audit log failed earlier")
            if isinstance(frame, Line):
                decision = self.session.handle(direction, frame.data)
            else:
                decision = self.session.handle_oversize(
                    direction, frame.prefix, frame.size, frame.suffix
                )
            if self._watch is not None and decision.verdicts:
                self._watch(direction, data, decision)
            self._apply(decision, data, direction, onward, back)
        except AuditError as exc:
            self._halt(exc, data, suffix, direction, onward, back)
        except Exception as exc:  # fail closed: the frame in hand is refused
            self._refuse(exc, data, suffix, direction, onward, back)

    def _apply(
        self,
        decision: Decision,
        data: bytes,
        direction: Direction,
        onward: _Endpoint,
        back: _Endpoint,
    ) -> None:
        if decision.hold is not None:  # held for approval: wait off this reading thread
            hold = decision.hold
            threading.Thread(
                target=self._waiter,
                args=(hold, data, direction, onward, back),
                name="ztmcp-hold",
                daemon=True,
            ).start()
            return
        if decision.forward is not None:
            if self._halted:  # the audit failed meanwhile: nothing more goes on
                raise AuditError("the audit log failed")
            if not onward.write(decision.forward):
                self._broken(onward)
        if decision.reply is not None and not back.write(decision.reply):
            self._broken(back)

    def _broken(self, endpoint: _Endpoint) -> None:
        """A side stopped taking frames: the relay cannot go on (the agent's pending requests
        are answered at close, if the agent can still read)."""
        side = "agent" if endpoint is self._agent else "server"
        if endpoint.fault is not None:
            what = type(endpoint.fault).__name__
            self._stop(f"internal error while writing to the {side} ({what})", fault=True)
        elif endpoint is self._agent:
            self._stop("the agent stopped reading")
        else:
            self._stop(SERVER_DEAF)

    def _waiter(
        self, hold: Hold, data: bytes, direction: Direction, onward: _Endpoint, back: _Endpoint
    ) -> None:
        """A held call's own thread: wait for the approval, then deliver what it decides."""
        try:
            try:
                decision = hold.wait()
                if self._halted:
                    raise AuditError("the audit log failed earlier")
                self._apply(decision, data, direction, onward, back)
            except AuditError as exc:
                self._halt(exc, data, b"", direction, onward, back)
            except Exception as exc:  # fail closed: the held call is refused
                self._refuse(exc, data, b"", direction, onward, back)
        except BaseException as exc:  # refusing failed too: stop rather than leave it waiting
            self._stop(f"internal error in a held call ({type(exc).__name__})", fault=True)

    def _refuse(
        self,
        exc: Exception,
        data: bytes,
        suffix: bytes,
        direction: Direction,
        onward: _Endpoint,
        back: _Endpoint,
    ) -> None:
        try:
            decision = self.session.refuse(direction, data, exc, suffix)
        except AuditError as audit:
            self._halt(audit, data, suffix, direction, onward, back)
            return
        # What a refusal sends never holds; delivering it is all that is left to fail.
        if decision.forward is not None and not onward.write(decision.forward):
            self._broken(onward)
        if decision.reply is not None and not back.write(decision.reply):
            self._broken(back)

    def _halt(
        self,
        exc: AuditError,
        data: bytes,
        suffix: bytes,
        direction: Direction,
        onward: _Endpoint,
        back: _Endpoint,
    ) -> None:
        """The audit log failed: answer the frame in hand, stop relaying both ways, and on the
        first failure answer every pending request and say so, once."""
        decision = self.session.refuse(direction, data, exc, suffix, record=False)
        with self._reason_lock:
            first = not self._halted
            self._halted = True
        if decision.reply is not None:
            back.write(decision.reply)
        if decision.forward is not None:
            onward.write(decision.forward)  # an error to a waiting peer, never the frame
        if not first:
            return
        replies = self.session.drain("the audit log failed; ztmcp stopped relaying")
        for reply in replies:
            self._agent.write(reply)
        self._say(
            f"error: the audit log failed ({exc.message}); stopped relaying in both directions"
            + (f", {len(replies)} pending request(s) answered with an error" if replies else "")
        )
        self._stop(f"the audit log failed ({exc.message})", fault=True)

    # -- the pumps ------------------------------------------------------------------------

    def _pump(
        self, fd: int, direction: Direction, onward: _Endpoint, back: _Endpoint, eof: str
    ) -> None:
        """Read one side, frame it, and hand each frame to ``_frame`` until end of stream."""
        try:
            framer = LineFramer(self.session.limits.max_bytes)
            while True:
                try:
                    chunk = os.read(fd, READ_CHUNK)
                except OSError:
                    chunk = b""
                frames = framer.feed(chunk) if chunk else framer.finish()
                for frame in frames:
                    self._frame(frame, direction, onward, back)
                if not chunk:
                    break
                if self._when_idle is not None and direction is Direction.TO_CLIENT:
                    self._idle()
                if self._agent.broken:
                    self._stop("the agent stopped reading")
                    return
        except BaseException as exc:  # outside any frame: stop relaying, never hang
            self._stop(f"internal error while relaying ({type(exc).__name__}: {exc})", fault=True)
            return
        self._stop(eof)

    def _idle(self) -> None:
        """``when_idle``, once no request is waiting any more (a server frame was delivered)."""
        if self.session.pending:
            return
        when_idle, self._when_idle = self._when_idle, None
        if when_idle is not None:
            with contextlib.suppress(Exception):  # an optimisation: its work is done on demand
                when_idle()

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
            args=(child.stdout.fileno(), Direction.TO_CLIENT, self._agent, server, SERVER_CLOSED),
            name="ztmcp-server",
            daemon=True,
        )
        to_server.start()
        to_client.start()
        try:
            while not self._done.wait(_SIGNAL_POLL):
                if self._signum is not None:
                    self._stop(f"interrupted by {signal.Signals(self._signum).name}")
            reason, fault = self._stop_reason, self._fault
            server_died = reason in (SERVER_CLOSED, SERVER_DEAF)
            if reason != SERVER_CLOSED:
                # The agent is gone (or we were told to stop): close the server politely,
                # then firmly. Its remaining output still reaches the agent meanwhile.
                try:
                    self._shutdown(child, server)
                except Exception:  # never leave the server running
                    self._signal(child, signal.SIGKILL)
                to_client.join(timeout=2.0)
            code = self._reap(child)
            if reason == SERVER_CLOSED:
                reason = f"server {self.session.server!r} exited with code {code}"
            elif reason == SERVER_DEAF:
                reason = f"server {self.session.server!r} stopped reading (exit code {code})"
            replies = self.session.drain(reason)
            for reply in replies:
                self._agent.write(reply)
            pending = (
                f"; {len(replies)} pending request(s) answered with an error" if replies else ""
            )
            try:
                self.session.close(reason)
            except AuditError as exc:
                if not self._halted:
                    self._say(f"error: the audit log failed ({exc.message})")
                return RunResult(EXIT_FAULT, f"the audit log failed ({exc.message})")
            if self._halted:
                return RunResult(EXIT_FAULT, reason)
            if server_died:
                self._say(f"{reason}{pending}")
                return RunResult(code if code > 0 else (0 if code == 0 else 1), reason)
            if fault:
                self._say(f"error: {reason}; stopped relaying{pending}")
                return RunResult(EXIT_FAULT, reason)
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
