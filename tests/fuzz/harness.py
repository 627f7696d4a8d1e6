"""A real ``StdioRelay`` in this process, between pipes the test holds on both sides.

The server the relay spawns is a conduit (``bash`` and two ``cat``): whatever the test writes as
the server goes to the relay's server pipe verbatim, and whatever the relay forwards to the
server comes back to the test verbatim. So the test plays both peers with exact bytes, and
sees exactly what each peer would read, while the relay, the Session, the checks and the audit
log are the real ones (``ztmcp run``'s pipeline, built from the default policy).

Each side answers the requests it receives (``answer_agent`` / ``answer_server`` build the
answer), so that "every request is answered" can be checked end to end. ``sync`` is a barrier:
a ping through both directions, after which every frame sent before it has been handled.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ztmcp.adapters.stdio import RunResult, StdioRelay
from ztmcp.checks.base import Check
from ztmcp.jsonrpc import Direction
from ztmcp.policy import build_checks, load_policy
from ztmcp.session import Decision, Edge, Session
from ztmcp.state.audit import AuditLog, read_records, session_files

TIMEOUT = 10.0
ROOT = Path(__file__).resolve().parents[2]


def default_checks(home: Path) -> list[Check]:
    """The checks ``ztmcp run`` builds from the default policy (no policy file anywhere)."""
    policy = load_policy(None, cwd=home, user_config=home / "absent.toml")
    return build_checks(policy)


def read_json(line: bytes) -> Any:
    try:
        return json.loads(line)
    except ValueError:
        return None


def is_request(body: Any) -> bool:
    return (
        isinstance(body, dict)
        and isinstance(body.get("method"), str)
        and isinstance(body.get("id"), str | int)
        and not isinstance(body.get("id"), bool)
    )


def is_response(body: Any) -> bool:
    return isinstance(body, dict) and "method" not in body and ("result" in body or "error" in body)


def echo_answer(request: dict[str, Any]) -> bytes:
    """A plain answer: the call's ``message`` argument back as text, the id first."""
    params = request.get("params")
    args = params.get("arguments") if isinstance(params, dict) else None
    text = args.get("message", "ok") if isinstance(args, dict) else "ok"
    result: dict[str, Any] = {"content": [{"type": "text", "text": str(text)}]}
    if request.get("method") == "tools/list":  # a listing must be one: pins refuse other shapes
        result = {"tools": []}
    return json.dumps({"id": request["id"], "jsonrpc": "2.0", "result": result}).encode()


@dataclass
class Seen:
    """The decisions the Session took, frame by frame (observed, never changed)."""

    decisions: list[tuple[Direction, bytes, Decision]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Lines:
    """One read end, split into lines by a thread."""

    def __init__(self, fd: int, on_line: Callable[[bytes], None]) -> None:
        self.fd = fd
        self.lines: list[bytes] = []
        self.cond = threading.Condition()
        self.eof = False
        self.torn = b""  # bytes after the last newline at the end of the stream
        self._on_line = on_line
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        buf = b""
        while True:
            try:
                chunk = os.read(self.fd, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                break
            buf += chunk
            *done, buf = buf.split(b"\n")
            with self.cond:
                self.lines.extend(done)
                self.cond.notify_all()
            for line in done:
                self._on_line(line)
        with self.cond:
            self.torn = buf
            self.eof = True
            self.cond.notify_all()

    def wait(self, predicate: Callable[[list[bytes]], bool], timeout: float = TIMEOUT) -> bool:
        deadline = time.monotonic() + timeout
        with self.cond:
            while not predicate(self.lines):
                left = deadline - time.monotonic()
                if left <= 0 or self.eof:
                    return predicate(self.lines)
                self.cond.wait(left)
            return True


class _Peers:
    """Both peers, played by the test: what each side writes, what each read, auto-answers."""

    answer_server: Callable[[dict[str, Any]], bytes | None]
    answer_agent: Callable[[dict[str, Any]], bytes | None]
    agent: _Lines
    server: _Lines
    _to_relay: int
    _as_server: int

    def _peers(
        self,
        answer_server: Callable[[dict[str, Any]], bytes | None],
        answer_agent: Callable[[dict[str, Any]], bytes | None] | None,
    ) -> None:
        self.answer_server = answer_server
        self.answer_agent = answer_agent or (
            lambda r: json.dumps({"jsonrpc": "2.0", "id": r["id"], "result": {}}).encode()
        )
        self._agent_lock = threading.Lock()  # one per side: a full pipe must not block the other
        self._server_lock = threading.Lock()
        self._syncs = 0
        self.sent_by_agent: list[bytes] = []  # every line each side wrote, as written
        self.sent_by_server: list[bytes] = []

    # -- the two peers ----------------------------------------------------------------------

    def _agent_got(self, line: bytes) -> None:
        body = read_json(line)
        if is_request(body):
            answer = self.answer_agent(body)
            if answer is not None:
                self.send_agent(answer + b"\n")

    def _server_got_line(self, line: bytes) -> None:
        body = read_json(line)
        if is_request(body):
            answer = self.answer_server(body)
            if answer is not None:
                self.send_server(answer + b"\n")

    def send_agent(self, data: bytes) -> None:
        """Bytes from the agent to ztmcp's stdin."""
        with self._agent_lock, contextlib.suppress(OSError):
            self.sent_by_agent.extend(data.split(b"\n")[:-1])
            os.write(self._to_relay, data)

    def send_server(self, data: bytes) -> None:
        """Bytes from the server to ztmcp."""
        with self._server_lock, contextlib.suppress(OSError):
            self.sent_by_server.extend(data.split(b"\n")[:-1])
            os.write(self._as_server, data)

    def sync(self) -> bool:
        """A ping from the agent, answered by the server: True once it came back, so every
        frame either side sent before it has been handled."""
        self._syncs += 1
        marker = f'"ztmcp-sync-{self._syncs}"'.encode()
        with self.agent.cond:
            start = len(self.agent.lines)
        ping = b'{"jsonrpc":"2.0","id":%s,"method":"ping"}\n' % marker
        self.send_agent(ping)
        return self.agent.wait(lambda lines: any(marker in line for line in lines[start:]))


class Relay(_Peers):
    """``ztmcp run``'s relay and Session in this process, both peers played by the test."""

    def __init__(
        self,
        tmp: Path,
        *,
        checks: list[Check] | None = None,
        edge: Edge | None = None,
        answer_server: Callable[[dict[str, Any]], bytes | None] = echo_answer,
        answer_agent: Callable[[dict[str, Any]], bytes | None] | None = None,
        grace: float = 1.0,
        when_idle: Callable[[], None] | None = None,
    ) -> None:
        self.audit = AuditLog.create(tmp / "audit", "fuzz")
        self.session = Session("fuzz", checks or default_checks(tmp), self.audit, edge=edge)
        self.seen = Seen()
        self._spy()
        self._peers(answer_server, answer_agent)
        agent_in, self._to_relay = os.pipe()
        self._from_relay, agent_out = os.pipe()
        ctl_r, self._as_server = os.pipe()
        self._server_got, rx_w = os.pipe()
        # The server's stdin goes to the test, the test's bytes to its stdout; when its stdin
        # ends (the relay shuts it down), both cats end.
        script = f"cat <&{ctl_r} & pid=$!; cat >&{rx_w}; kill $pid"
        self.child = subprocess.Popen(
            ["bash", "-c", script],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            pass_fds=(ctl_r, rx_w),
            start_new_session=True,
            bufsize=0,
        )
        os.close(ctl_r)
        os.close(rx_w)
        self.said: list[str] = []
        self.relay = StdioRelay(
            self.session,
            ["conduit"],
            child=self.child,
            agent_in=agent_in,
            agent_out=agent_out,
            grace=grace,
            say=self.said.append,
            when_idle=when_idle,
        )
        self._agent_in, self._agent_out = agent_in, agent_out
        self.result: RunResult | None = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="relay", daemon=True)
        self.agent = _Lines(self._from_relay, self._agent_got)
        self.server = _Lines(self._server_got, self._server_got_line)
        self.thread.start()

    def _spy(self) -> None:
        session, seen = self.session, self.seen
        handle, oversize, refuse = session.handle, session.handle_oversize, session.refuse

        def spied_handle(direction: Direction, raw: bytes) -> Decision:
            decision = handle(direction, raw)
            with seen.lock:
                seen.decisions.append((direction, raw, decision))
            return decision

        def spied_oversize(
            direction: Direction, prefix: bytes, size: int, suffix: bytes = b""
        ) -> Decision:
            decision = oversize(direction, prefix, size, suffix)
            with seen.lock:
                seen.decisions.append((direction, prefix, decision))
            return decision

        def spied_refuse(
            direction: Direction, raw: bytes, exc: BaseException, *a: Any, **k: Any
        ) -> Decision:
            decision = refuse(direction, raw, exc, *a, **k)
            with seen.lock:
                seen.decisions.append((direction, raw, decision))
            return decision

        resume = session.resume

        def spied_resume(msg: Any, refusal: Any) -> Decision:
            decision = resume(msg, refusal)
            with seen.lock:
                seen.decisions.append((msg.direction, msg.raw, decision))
            return decision

        session.resume = spied_resume  # type: ignore[method-assign]
        session.handle = spied_handle  # type: ignore[method-assign]
        session.handle_oversize = spied_oversize  # type: ignore[method-assign]
        session.refuse = spied_refuse  # type: ignore[method-assign]

    def _run(self) -> None:
        try:
            self.result = self.relay.run()
        except BaseException as exc:
            self.error = exc
        finally:
            os.close(self._agent_out)  # the agent sees the end of the stream

    def take(self) -> tuple[list[tuple[Direction, bytes, Decision]], list[bytes], list[bytes]]:
        """The decisions and the lines each peer read so far, forgotten here (long runs check
        them batch by batch; call it only when the relay is quiet, after ``sync``)."""
        with self.seen.lock:
            decisions, self.seen.decisions = self.seen.decisions, []
        with self.agent.cond:
            agent, self.agent.lines = self.agent.lines, []
        with self.server.cond:
            server, self.server.lines = self.server.lines, []
        with self._agent_lock:
            self.sent_by_agent = []
        with self._server_lock:
            self.sent_by_server = []
        return decisions, agent, server

    def stop(self, timeout: float = TIMEOUT) -> RunResult | None:
        """Close the agent's stdin; the relay shuts the conduit down and ends."""
        os.close(self._to_relay)
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the relay did not stop"
        os.close(self._as_server)
        self.agent.thread.join(timeout)
        self.server.thread.join(timeout)
        return self.result


class RunProcess(_Peers):
    """``ztmcp run`` as a subprocess, assembled by the CLI itself (policy, checks, the pin and
    access edges, the audit log), in front of the same conduit through two FIFOs."""

    def __init__(
        self,
        tmp: Path,
        *,
        answer_server: Callable[[dict[str, Any]], bytes | None] = echo_answer,
        answer_agent: Callable[[dict[str, Any]], bytes | None] | None = None,
    ) -> None:
        self._peers(answer_server, answer_agent)
        self.home = tmp / "home"
        ctl, rx = tmp / "ctl.fifo", tmp / "rx.fifo"
        os.mkfifo(ctl)
        os.mkfifo(rx)
        env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
        env.update(ZTMCP_HOME=str(self.home), PYTHONPATH=str(ROOT))
        script = f'cat < "{ctl}" & pid=$!; cat > "{rx}"; kill $pid'
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ztmcp", "run", "--name", "fuzz", "--grace", "1", "--",
             "bash", "-c", script],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=tmp,
            env=env,
            bufsize=0,
        )  # fmt: skip
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self._to_relay = self.proc.stdin.fileno()
        self._server_got = os.open(rx, os.O_RDONLY | os.O_NONBLOCK)
        os.set_blocking(self._server_got, True)
        deadline = time.monotonic() + TIMEOUT
        while True:  # the conduit opens its end once ztmcp started it
            try:
                self._as_server = os.open(ctl, os.O_WRONLY | os.O_NONBLOCK)
                break
            except OSError:
                assert time.monotonic() < deadline, "the server never started"
                time.sleep(0.02)
        os.set_blocking(self._as_server, True)
        self.agent = _Lines(self.proc.stdout.fileno(), self._agent_got)
        self.server = _Lines(self._server_got, self._server_got_line)

    def audit_records(self) -> list[dict[str, Any]]:
        return list(read_records(session_files(self.home / "audit")))

    def stop(self, timeout: float = TIMEOUT) -> int:
        """Close ztmcp's stdin; it shuts the conduit down and exits; its exit status."""
        assert self.proc.stdin is not None and self.proc.stderr is not None
        self.proc.stdin.close()
        code = self.proc.wait(timeout)
        os.close(self._as_server)
        self.agent.thread.join(timeout)
        self.server.thread.join(timeout)
        os.close(self._server_got)
        self.stderr = self.proc.stderr.read().decode(errors="replace")
        return code
