"""Hostile and broken input through a real ``ztmcp run`` process, byte by byte on real pipes.

A test agent writes raw lines to ``ztmcp run -- <server>`` and reads its stdout through a reader
thread and a queue, always with a timeout. Every case checks four things: a clear answer (or a
clear silence, for frames nobody waits for), no hang, no crash (the relay still answers the next
valid request), and an audit record of what happened.

The server is a small Python script written to ``tmp_path`` that logs every line it receives, so
a test can also prove that a refused frame never reached it; one case runs real server-everything.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.peers import Peers
from ztmcp.state.audit import verify_file

pytestmark = pytest.mark.e2e

TIMEOUT = 10.0  # seconds for any single expected answer

SERVER = r"""
import json, os, signal, sys, time

log_path, pid_path = sys.argv[1], sys.argv[2]
stubborn = "--stubborn" in sys.argv
if stubborn:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
with open(pid_path, "w") as f:
    f.write(str(os.getpid()))
log = open(log_path, "ab", buffering=0)
out = sys.stdout.buffer

def send(obj):
    out.write(json.dumps(obj).encode() + b"\n")
    out.flush()

for line in sys.stdin.buffer:
    log.write(line)
    try:
        msg = json.loads(line)
    except ValueError:
        continue
    if "method" not in msg or "id" not in msg:
        continue
    mid, method = msg["id"], msg["method"]
    if method == "ping":
        send({"jsonrpc": "2.0", "id": mid, "result": {}})
    elif method == "tools/call":
        name = msg["params"]["name"]
        if name == "crash":
            os._exit(3)
        if name == "hang":
            continue
        if name in ("huge", "huge-tail"):  # a 20 MiB result; "-tail": the id last, as TS servers do
            big = {"content": [{"type": "text", "text": "B" * (20 * 1024 * 1024)}]}
            if name == "huge":
                send({"jsonrpc": "2.0", "id": mid, "result": big})
            else:
                send({"result": big, "jsonrpc": "2.0", "id": mid})
            continue
        if name == "dup-tail":  # a duplicate key, the id last
            out.write(b'{"result":{"content":[],"content":[]},"jsonrpc":"2.0","id":'
                      + json.dumps(mid).encode() + b"}\n")
            out.flush()
            continue
        if name == "stray":  # a response nobody asked for, then the real answer
            send({"jsonrpc": "2.0", "id": "never-asked", "result": {"leak": "stray"}})
        if name == "noise":  # a log line on stdout, then the real answer
            out.write(b"server log: this is not JSON-RPC\n")
            out.flush()
        text = msg["params"].get("arguments", {}).get("message", name)
        send({"jsonrpc": "2.0", "id": mid,
              "result": {"content": [{"type": "text", "text": text}]}})
    else:
        send({"jsonrpc": "2.0", "id": mid, "error": {"code": -32601, "message": "no"}})

if stubborn:  # ignore EOF too: only SIGKILL ends this one
    while True:
        time.sleep(1)
"""


class Agent:
    """The agent side of one ``ztmcp run`` process: raw writes, queued line reads."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path) -> None:
        self.last_ping: int | str | None = None  # the id of the last answered ping
        self.proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=cwd,
            bufsize=0,
        )
        self.lines: queue.Queue[bytes | None] = queue.Queue()
        self.stderr = bytearray()
        threading.Thread(target=self._read_stdout, daemon=True).start()
        threading.Thread(target=self._read_stderr, daemon=True).start()

    def _read_stdout(self) -> None:
        assert self.proc.stdout is not None
        fd, buf = self.proc.stdout.fileno(), b""
        while chunk := os.read(fd, 1 << 16):
            buf += chunk
            *done, buf = buf.split(b"\n")
            for line in done:
                self.lines.put(line)
        if buf:
            self.lines.put(buf)
        self.lines.put(None)  # EOF

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        while chunk := os.read(self.proc.stderr.fileno(), 1 << 16):
            self.stderr += chunk

    def write(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)

    def send(self, obj: dict[str, Any]) -> None:
        self.write(json.dumps(obj).encode() + b"\n")

    def recv_line(self, timeout: float = TIMEOUT) -> bytes | None:
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            pytest.fail(f"no output from ztmcp within {timeout}s; stderr: {bytes(self.stderr)!r}")

    def recv(self, timeout: float = TIMEOUT) -> dict[str, Any]:
        line = self.recv_line(timeout)
        assert line is not None, f"ztmcp closed stdout; stderr: {bytes(self.stderr)!r}"
        try:
            return json.loads(line)  # type: ignore[no-any-return]
        except ValueError:
            pytest.fail(f"agent received a non-JSON line: {line[:200]!r}")

    def silence(self, seconds: float = 0.3) -> list[bytes | None]:
        """Whatever arrives within ``seconds`` (expected: nothing)."""
        got: list[bytes | None] = []
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                got.append(self.lines.get(timeout=left))
            except queue.Empty:
                break
        return got

    def ping(self, msg_id: int | str) -> None:
        """The relay is alive: a valid request still gets its answer."""
        self.send({"jsonrpc": "2.0", "id": msg_id, "method": "ping"})
        assert self.recv() == {"jsonrpc": "2.0", "id": msg_id, "result": {}}
        self.last_ping = msg_id

    def close_stdin(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()

    def wait(self, timeout: float = TIMEOUT) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"ztmcp did not exit within {timeout}s; stderr: {bytes(self.stderr)!r}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=TIMEOUT)


class Rig:
    """A ztmcp run over the logging test server, with access to its audit and receive log."""

    def __init__(self, agent: Agent, home: Path, recv_log: Path, pid_file: Path) -> None:
        self.agent = agent
        self.home = home
        self.recv_log = recv_log
        self.pid_file = pid_file

    def audit(self) -> list[dict[str, Any]]:
        files = sorted((self.home / "audit").glob("*.jsonl"))
        assert len(files) == 1, files
        return [json.loads(line) for line in files[0].read_bytes().splitlines()]

    def audit_for(self, pred: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
        """Message records matching ``pred``, once the last ping's answer is on record.

        The proxy writes audit records on a background thread, in order: when the record of the
        last ping's answer is there, so is everything that came before it.
        """
        ping = self.agent.last_ping
        deadline = time.monotonic() + TIMEOUT
        while True:
            records = self.audit()
            if (
                ping is None
                or time.monotonic() > deadline
                or any(
                    r.get("direction") == "to_client" and r.get("jsonrpc.request.id") == ping
                    for r in records
                )
            ):
                break
            time.sleep(0.01)
        return [r for r in records if r.get("event") == "message" and pred(r)]

    def server_received(self) -> bytes:
        return self.recv_log.read_bytes() if self.recv_log.exists() else b""

    def server_pid(self) -> int:
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            text = self.pid_file.read_text() if self.pid_file.exists() else ""
            if text:
                return int(text)
            time.sleep(0.02)
        pytest.fail("test server never started")


@pytest.fixture()
def start(
    tmp_path: Path, ztmcp_argv: list[str], child_env: dict[str, str], ztmcp_home: Path
) -> Iterator[Callable[..., Rig]]:
    agents: list[Agent] = []

    def _start(*server_flags: str, run_flags: tuple[str, ...] = ()) -> Rig:
        script = tmp_path / "server.py"
        script.write_text(SERVER)
        recv_log, pid_file = tmp_path / "received.log", tmp_path / "server.pid"
        argv = [
            *ztmcp_argv,
            "run",
            "--name",
            "testsrv",
            *run_flags,
            "--",
            sys.executable,
            str(script),
            str(recv_log),
            str(pid_file),
            *server_flags,
        ]
        agent = Agent(argv, child_env, tmp_path)
        agents.append(agent)
        return Rig(agent, ztmcp_home, recv_log, pid_file)

    yield _start
    for agent in agents:
        agent.stop()


def _by_id(msg_id: Any) -> Callable[[dict[str, Any]], bool]:
    return lambda r: r.get("jsonrpc.request.id") == msg_id


def _rules(record: dict[str, Any]) -> list[str]:
    return [v["rule"] for v in record.get("verdicts", [])]


# -- malformed frames from the agent ------------------------------------------------------


def test_malformed_json_gets_a_parse_error_with_the_id(start: Callable[..., Rig]) -> None:
    rig = start()
    rig.agent.write(b'{"jsonrpc":"2.0","id":1,"method":"ping",,,}\n')
    reply = rig.agent.recv()
    assert reply["id"] == 1
    assert reply["error"]["code"] == -32700
    rig.agent.ping(2)
    [rec] = rig.audit_for(lambda r: r["kind"] == "invalid")
    assert rec["outcome"] == "denied" and rec["direction"] == "to_server"
    assert rec["jsonrpc.request.id"] == 1
    assert _rules(rec) == ["json.syntax"]
    assert b",,," not in rig.server_received()


def test_batch_is_refused_whole(start: Callable[..., Rig]) -> None:
    rig = start()
    batch = [{"jsonrpc": "2.0", "id": i, "method": "ping"} for i in (10, 11)]
    rig.agent.write(json.dumps(batch).encode() + b"\n")
    reply = rig.agent.recv()
    assert reply["id"] is None  # a batch has no single id to answer
    assert reply["error"]["code"] == -32600
    assert "batch" in reply["error"]["message"]
    assert rig.agent.silence() == []  # no per-element answers either
    rig.agent.ping(12)
    [rec] = rig.audit_for(lambda r: r["kind"] == "invalid")
    assert _rules(rec) == ["jsonrpc.batch"] and rec["outcome"] == "denied"
    assert b"[" not in rig.server_received()  # no element reached the server


def _vm_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"{field} not in /proc/{pid}/status")


def test_100mb_line_is_streamed_past_not_buffered(start: Callable[..., Rig]) -> None:
    rig = start()
    rig.agent.ping(0)  # fully started: the baseline RSS below is meaningful
    pid = rig.agent.proc.pid
    baseline = _vm_kib(pid, "VmRSS")
    total = 100 * 1024 * 1024
    head = (
        b'{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo",'
        b'"arguments":{"message":"'
    )
    tail = b'"}}}\n'
    chunk = b"A" * (1024 * 1024)
    failure: list[BaseException] = []

    def writer() -> None:
        try:
            rig.agent.write(head)
            sent = len(head) + len(tail)
            while sent < total:
                piece = chunk[: total - sent]
                rig.agent.write(piece)
                sent += len(piece)
            rig.agent.write(tail)
        except BaseException as exc:  # reported by the main thread
            failure.append(exc)

    thread = threading.Thread(target=writer, daemon=True)
    started = time.monotonic()
    thread.start()
    peak = baseline
    while thread.is_alive() and time.monotonic() - started < 60:
        peak = max(peak, _vm_kib(pid, "VmRSS"))
        thread.join(timeout=0.05)
    assert not thread.is_alive(), "writing 100 MB to ztmcp took over 60 s (is it reading?)"
    assert not failure, failure

    reply = rig.agent.recv()
    assert reply["id"] == 7  # recovered from the first bytes of the line
    assert reply["error"]["code"] == -32600
    assert "exceeds the limit" in reply["error"]["message"]
    peak = max(peak, _vm_kib(pid, "VmHWM"))  # the kernel's own high-water mark
    # The default limit is 16 MiB, so up to that much may sit in the framer before it switches
    # to discarding; 100 MB would mean the line was buffered.
    assert peak < 64 * 1024, f"ztmcp peak RSS {peak} KiB (baseline {baseline} KiB)"
    rig.agent.ping(8)
    [rec] = rig.audit_for(lambda r: r["kind"] == "invalid")
    assert _rules(rec) == ["limits.size"] and rec["outcome"] == "denied"
    assert rec["size"] == total - 1  # every byte before the newline was counted
    assert rec["jsonrpc.request.id"] == 7
    assert len(rig.server_received()) < 1024  # only the pings reached the server


def test_deep_nesting_is_refused(start: Callable[..., Rig]) -> None:
    rig = start()
    depth = 10_000
    line = (
        b'{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo","arguments":'
        + b'{"a":[' * depth
        + b"]}" * depth
        + b"}}\n"
    )
    rig.agent.write(line)
    reply = rig.agent.recv()
    assert reply["id"] == 3
    assert reply["error"]["code"] == -32600
    assert "nesting" in reply["error"]["message"]
    rig.agent.ping(4)
    [rec] = rig.audit_for(lambda r: r["kind"] == "invalid")
    assert _rules(rec) == ["limits.depth"]
    assert b'"a":[' not in rig.server_received()


def test_invalid_utf8_is_refused(start: Callable[..., Rig]) -> None:
    rig = start()
    rig.agent.write(
        b'{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"e\xff\xfe"}}\n'
    )
    reply = rig.agent.recv()
    assert reply["id"] == 5
    assert reply["error"]["code"] == -32700
    assert "UTF-8" in reply["error"]["message"]
    rig.agent.ping(6)
    [rec] = rig.audit_for(lambda r: r["kind"] == "invalid")
    assert _rules(rec) == ["json.utf8"] and rec["jsonrpc.request.id"] == 5
    assert b"\xff" not in rig.server_received()


def test_unknown_method_is_answered_32601_with_the_same_id(start: Callable[..., Rig]) -> None:
    rig = start()
    rig.agent.send({"jsonrpc": "2.0", "id": "req-\u00e9", "method": "vendor/exfiltrate"})
    reply = rig.agent.recv()
    assert reply["id"] == "req-\u00e9"
    assert reply["error"]["code"] == -32601
    assert reply["error"]["data"]["ztmcp"]["rule"] == "envelope.unknown_method"
    rig.agent.ping(7)
    [rec] = rig.audit_for(_by_id("req-\u00e9"))
    assert rec["outcome"] == "denied" and rec["mcp.method.name"] == "vendor/exfiltrate"
    assert b"vendor/exfiltrate" not in rig.server_received()


def test_agent_response_to_unknown_id_is_dropped(start: Callable[..., Rig]) -> None:
    rig = start()
    rig.agent.send({"jsonrpc": "2.0", "id": 4242, "result": {"smuggled": True}})
    assert rig.agent.silence() == []  # nobody is waiting: no answer either way
    rig.agent.ping(1)
    [rec] = rig.audit_for(_by_id(4242))
    assert rec["outcome"] == "dropped" and rec["direction"] == "to_server"
    assert _rules(rec) == ["envelope.unknown_id"]
    assert b"smuggled" not in rig.server_received()


def test_server_response_to_unknown_id_is_dropped(start: Callable[..., Rig]) -> None:
    rig = start()
    rig.agent.send(
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {"name": "stray", "arguments": {"message": "real"}},
        }
    )
    reply = rig.agent.recv()  # the stray response came first on the wire but never arrives
    assert reply["id"] == 1
    assert reply["result"]["content"][0]["text"] == "real"
    assert rig.agent.silence() == []
    rig.agent.ping(2)
    [rec] = rig.audit_for(_by_id("never-asked"))
    assert rec["outcome"] == "dropped" and rec["direction"] == "to_client"
    assert _rules(rec) == ["envelope.unknown_id"]


def test_non_json_line_from_the_server_never_reaches_the_agent(start: Callable[..., Rig]) -> None:
    rig = start()
    rig.agent.send(
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {"name": "noise", "arguments": {"message": "after noise"}},
        }
    )
    reply = rig.agent.recv()
    assert reply == {
        "jsonrpc": "2.0",
        "id": 1,
        "result": {"content": [{"type": "text", "text": "after noise"}]},
    }
    rig.agent.ping(2)
    [rec] = rig.audit_for(lambda r: r["kind"] == "invalid")
    assert rec["direction"] == "to_client" and rec["outcome"] == "dropped"
    assert _rules(rec) == ["json.syntax"]
    # Digests, never content, in the audit.
    assert "this is not JSON-RPC" not in json.dumps(rig.audit())


def test_duplicate_in_flight_id_is_a_jsonrpc_error(start: Callable[..., Rig]) -> None:
    """A second call with an id still in flight is a protocol error, never a tool result (which
    the agent would read as the answer to the first call)."""
    rig = start()
    call = {
        "jsonrpc": "2.0",
        "id": 9,
        "method": "tools/call",
        "params": {"name": "hang", "arguments": {}},
    }
    rig.agent.send(call)  # the server never answers this one: id 9 stays in flight
    rig.agent.send(call)
    reply = rig.agent.recv()
    assert reply["id"] == 9
    assert reply["error"]["code"] == -32600
    assert reply["error"]["data"]["ztmcp"]["rule"] == "session.duplicate_id"
    rig.agent.ping(10)
    denied = rig.audit_for(lambda r: r["outcome"] == "denied")
    assert [_rules(r) for r in denied] == [["session.duplicate_id"]]
    assert denied[0]["gen_ai.tool.name"] == "hang"
    assert rig.server_received().count(b'"hang"') == 1


_FAKE_KEY = (  # a syntactically plausible, never-used OpenSSH key block (test data)
    "-----BEGIN OPENSSH PRIVATE KEY-----\n"
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
    "QyNTUxOQAAACD3n5bsdI2zTlq3zWjJ5Zg7tL0xAq3c8yWbq6vF0dQmUQAAAJhM2y8cTNsv\n"
    "-----END OPENSSH PRIVATE KEY-----"
)


def test_policy_denied_tools_call_is_an_is_error_tool_result(start: Callable[..., Rig]) -> None:
    rig = start()
    rig.agent.send(
        {
            "jsonrpc": "2.0",
            "id": 21,
            "method": "tools/call",
            "params": {"name": "echo", "arguments": {"note": _FAKE_KEY}},
        }
    )
    reply = rig.agent.recv()
    assert reply["id"] == 21 and "error" not in reply
    assert reply["result"]["isError"] is True
    text = reply["result"]["content"][0]["text"]
    assert text.startswith("ztmcp blocked this:") and "secret.private_key" in text
    assert "OPENSSH" not in text and "b3BlbnNz" not in text  # never the evidence
    rig.agent.ping(22)
    assert b"b3BlbnNz" not in rig.server_received()
    [denied] = rig.audit_for(lambda r: r["outcome"] == "denied")
    assert _rules(denied) == ["secret.private_key"]
    log = b"".join(p.read_bytes() for p in (rig.home / "audit").glob("*.jsonl"))
    assert b"b3BlbnNz" not in log


# -- refused frames from the server: the waiting agent must be answered -----------------------


def test_oversize_server_response_answers_the_waiting_call(start: Callable[..., Rig]) -> None:
    rig = start()
    rig.agent.send(
        {
            "jsonrpc": "2.0",
            "id": 11,
            "method": "tools/call",
            "params": {"name": "huge", "arguments": {}},
        }
    )
    reply = rig.agent.recv()
    assert reply["id"] == 11
    assert reply["error"]["code"] == -32600 and "exceeds the limit" in reply["error"]["message"]
    rig.agent.ping(12)
    [rec] = rig.audit_for(lambda r: r["kind"] == "invalid")
    assert rec["direction"] == "to_client" and rec["outcome"] == "denied"
    assert _rules(rec) == ["limits.size"]


def test_oversize_server_response_with_the_id_last_answers_the_call(
    start: Callable[..., Rig],
) -> None:
    rig = start()
    rig.agent.send(
        {
            "jsonrpc": "2.0",
            "id": 13,
            "method": "tools/call",
            "params": {"name": "huge-tail", "arguments": {}},
        }
    )
    reply = rig.agent.recv(timeout=3)
    assert reply["id"] == 13 and reply["error"]["code"] == -32600


def test_unparseable_server_response_with_the_id_last_answers_the_call(
    start: Callable[..., Rig],
) -> None:
    rig = start()
    rig.agent.send(
        {
            "jsonrpc": "2.0",
            "id": 14,
            "method": "tools/call",
            "params": {"name": "dup-tail", "arguments": {}},
        }
    )
    reply = rig.agent.recv(timeout=3)
    assert reply["id"] == 14 and reply["error"]["code"] == -32600


# -- endings -------------------------------------------------------------------------------


def test_server_crash_mid_call(start: Callable[..., Rig]) -> None:
    rig = start()
    rig.agent.ping(1)
    rig.agent.send(
        {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "tools/call",
            "params": {"name": "crash", "arguments": {}},
        }
    )
    reply = rig.agent.recv()
    assert reply["id"] == 2
    assert reply["error"]["code"] == -32000
    assert "exited with code 3" in reply["error"]["message"]
    assert rig.agent.recv_line() is None  # then stdout closes
    code = rig.agent.wait()
    assert code == 3
    err = bytes(rig.agent.stderr).decode()
    assert "server 'testsrv' exited with code 3" in err
    assert "1 pending request(s) answered with an error" in err
    records = rig.audit()
    assert records[-1]["event"] == "session.end"
    assert records[-1]["unanswered"] == 1
    assert "exited with code 3" in records[-1]["reason"]
    assert verify_file(sorted((rig.home / "audit").glob("*.jsonl"))[0]).ok


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status")
    try:
        return "State:\tZ" not in status.read_text()
    except FileNotFoundError:
        return False


def test_agent_closes_stdin_mid_call_and_a_stubborn_server_is_killed(
    start: Callable[..., Rig],
) -> None:
    grace = 0.5
    rig = start("--stubborn", run_flags=("--grace", str(grace)))
    rig.agent.ping(1)
    server_pid = rig.server_pid()
    rig.agent.send(
        {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "tools/call",
            "params": {"name": "hang", "arguments": {}},
        }
    )
    # Wait until the call reached the server, so it is truly mid-call.
    deadline = time.monotonic() + TIMEOUT
    while b'"hang"' not in rig.server_received():
        assert time.monotonic() < deadline, "the call never reached the server"
        time.sleep(0.02)
    closed = time.monotonic()
    rig.agent.close_stdin()
    reply = rig.agent.recv()  # the agent may still read: the pending call is answered
    assert reply["id"] == 2 and reply["error"]["code"] == -32000
    assert rig.agent.recv_line() is None
    code = rig.agent.wait()
    took = time.monotonic() - closed
    assert code == 0
    # grace for EOF, then a bounded wait for SIGTERM, then SIGKILL.
    assert took < grace + 5.0, f"ztmcp took {took:.1f}s to exit"
    assert took >= grace  # it did give the server its grace period
    assert not _alive(server_pid), "the stubborn server survived ztmcp"
    assert "ignored SIGTERM" in bytes(rig.agent.stderr).decode()
    end = rig.audit()[-1]
    assert end["event"] == "session.end" and end["reason"] == "agent closed stdin"
    assert end["unanswered"] == 1


def test_agent_closes_stdin_and_a_polite_server_exits_without_waiting(
    start: Callable[..., Rig],
) -> None:
    rig = start(run_flags=("--grace", "5"))
    rig.agent.ping(1)
    server_pid = rig.server_pid()
    closed = time.monotonic()
    rig.agent.close_stdin()
    assert rig.agent.recv_line() is None
    assert rig.agent.wait() == 0
    assert time.monotonic() - closed < 3.0  # EOF was enough; no grace period spent
    assert not _alive(server_pid)


def test_sigterm_to_ztmcp_stops_it_and_the_server(start: Callable[..., Rig]) -> None:
    rig = start()
    rig.agent.ping(1)
    server_pid = rig.server_pid()
    rig.agent.proc.send_signal(signal.SIGTERM)
    assert rig.agent.wait() == 0
    assert not _alive(server_pid)
    assert rig.audit()[-1]["reason"] == "interrupted by SIGTERM"


# -- the same hostile input against a real server --------------------------------------------


def test_bad_input_against_server_everything(
    peers: Peers,
    ztmcp_argv: list[str],
    child_env: dict[str, str],
    ztmcp_home: Path,
    tmp_path: Path,
) -> None:
    agent = Agent([*ztmcp_argv, "run", "--", *peers.everything], child_env, tmp_path)
    try:
        agent.send(
            {
                "jsonrpc": "2.0",
                "id": 0,
                "method": "initialize",
                "params": {
                    "protocolVersion": "2025-06-18",
                    "capabilities": {},
                    "clientInfo": {"name": "bad-input-test", "version": "1"},
                },
            }
        )
        init = agent.recv(timeout=30)
        while "id" not in init:  # a notification may come first
            init = agent.recv()
        assert init["id"] == 0 and "serverInfo" in init["result"]
        agent.send({"jsonrpc": "2.0", "method": "notifications/initialized"})

        agent.write(b'{"jsonrpc":"2.0","id":1,"method":"tools/list"\n')  # truncated
        agent.write(b'[{"jsonrpc":"2.0","id":2,"method":"tools/list"}]\n')
        agent.write(b'{"jsonrpc":"2.0","id":3,"method":"ping","params":{"x":"\xc3\x28"}}\n')
        agent.send({"jsonrpc": "2.0", "id": 4, "method": "nope/nope"})
        agent.send({"jsonrpc": "2.0", "id": 99, "result": {}})
        agent.send(
            {
                "jsonrpc": "2.0",
                "id": 5,
                "method": "tools/call",
                "params": {"name": "echo", "arguments": {"message": "still here"}},
            }
        )
        answers: dict[Any, dict[str, Any]] = {}
        deadline = time.monotonic() + TIMEOUT
        while 5 not in answers and time.monotonic() < deadline:
            msg = agent.recv()
            if "id" in msg and "method" not in msg:
                answers[msg["id"]] = msg
        assert answers[1]["error"]["code"] == -32700
        assert answers[None]["error"]["code"] == -32600
        assert answers[3]["error"]["code"] == -32700
        assert answers[4]["error"]["code"] == -32601
        assert 99 not in answers
        assert answers[5]["result"]["content"][0]["text"].endswith("still here")
        agent.close_stdin()
        assert agent.wait() == 0
    finally:
        agent.stop()
    [log] = sorted((ztmcp_home / "audit").glob("*.jsonl"))
    records = [json.loads(line) for line in log.read_bytes().splitlines()]
    refused = [r for r in records if r.get("outcome") in ("denied", "dropped")]
    assert sorted(v["rule"] for r in refused for v in r["verdicts"]) == sorted(
        [
            "json.syntax",
            "jsonrpc.batch",
            "json.utf8",
            "envelope.unknown_method",
            "envelope.unknown_id",
        ]
    )
    assert verify_file(log).ok
