"""Property-based fuzzing of the real ``ztmcp proxy`` with a hostile upstream MCP server.

``ztmcp proxy`` runs as in production (a subprocess with its embedded mitmproxy,
tests/e2e/proxy_process.py) in front of a loopback HTTP MCP server written here, which answers
each call with hypothesis-drawn hostile content: any media type and charset, JSON or SSE, a BOM,
CR/LF variants, extra server requests and notifications, an answer that is malformed, hostile or
ambiguous. The client is ``http.client``, posting hostile frames.

Invariants, on every frame: each POST is answered, no hang; every request gets an answer with
its id; every frame of the server's that the client decodes (an SSE reader that follows the
spec, BOM and CR included) is one the checks saw as those exact bytes and let through (its
digest in the audit log with a forwarding outcome); every frame of the client's that the
server read likewise; a frame ztmcp refused never arrives; ``ztmcp audit verify`` is ok.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.e2e.proxy_process import child_env, ztmcp_proxy
from tests.fuzz.frames import HOSTILE_TEXT, frame
from tests.fuzz.harness import is_request, is_response, read_json
from tests.fuzz.invariants import ambiguous
from ztmcp.state.audit import read_records, session_files

pytestmark = pytest.mark.e2e

EXAMPLES = int(os.environ.get("ZTMCP_FUZZ_EXAMPLES", "30"))  # more for a longer local run
TIMEOUT = 15.0
FORWARDING = {"forwarded", "flagged"}
CONTENT_TYPES = [
    "application/json",
    "application/json; charset=utf-8",
    "application/JSON",
    "application/json-rpc",
    "application/json; charset=iso-8859-1",
    "text/plain",
    "text/event-stream",
    "text/event-stream; charset=utf-8",
    "Text/Event-Stream",
]


@dataclass(frozen=True)
class Plan:
    """How the hostile upstream answers the next call."""

    content_type: str
    extra: tuple[bytes, ...]  # server frames sent before the answer (SSE only)
    tail: int  # which hostile answer
    bom: bool
    newline: bytes


def answer_for(mid: Any, tail: int) -> bytes:
    head = b'{"id":' + json.dumps(mid).encode() + b',"jsonrpc":"2.0",'
    text = json.dumps(HOSTILE_TEXT[tail % len(HOSTILE_TEXT)]).encode()
    tails = [
        b'"result":{"content":[{"type":"text","text":' + text + b"}]}}",
        b'"result":{"tools":[{"name":"echo","description":' + text + b',"inputSchema":{}}]}}',
        b'"error":{"code":-32000,"message":' + text + b"}}",
        b'"result":{"content":[],"Content":[{"type":"text","text":' + text + b"}]}}",
        b'"result":{"x":NaN}}',
        b'"result":{"s":"\\ud800"}}',
        b'"result":{"content":[{"type":"text","text":"ok"}]}}',
        b'"result":{"content":[{"type":"text","text":"ok"}]',
        b'"result":{"content":[{"type":"text","text":"\xff"}]}}',
        b'"method":"x","result":{}}',
    ]
    return head + tails[tail % len(tails)]


class Hostile(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    plan: ClassVar[Plan | None] = None
    received: ClassVar[list[bytes]] = []
    sent: ClassVar[list[bytes]] = []  # every frame the server wrote, as a client decodes it

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        self.received.append(body)
        msg = read_json(body)
        plan = self.plan
        if not is_request(msg) or plan is None:
            self._send(202, "application/json", b"")
            return
        answer = answer_for(msg["id"], plan.tail)
        if "event-stream" in plan.content_type.lower():
            nl = plan.newline
            events = [*plan.extra, answer]
            self.sent.extend(events)
            payload = b"".join(b"data: " + e + nl + nl for e in events)
            self._send(200, plan.content_type, (b"\xef\xbb\xbf" if plan.bom else b"") + payload)
        else:
            self.sent.append(answer)
            self._send(200, plan.content_type, (b"\xef\xbb\xbf" if plan.bom else b"") + answer)


def sse_frames(body: bytes) -> list[bytes]:
    """What a client that follows the SSE spec dispatches (the TypeScript SDK strips a BOM)."""
    if body.startswith(b"\xef\xbb\xbf"):
        body = body[3:]
    frames, data = [], []
    for line in body.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n"):
        if not line:
            if data:
                frames.append(b"\n".join(data))
            data = []
        elif line.startswith(b"data:"):
            value = line[5:]
            data.append(value[1:] if value.startswith(b" ") else value)
    return frames


def client_frames(content_type: str, body: bytes) -> list[bytes]:
    if "event-stream" in content_type.lower():
        return sse_frames(body)
    return [body] if body.strip() else []


@pytest.fixture()
def upstream() -> Iterator[int]:
    Hostile.received, Hostile.sent, Hostile.plan = [], [], None
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hostile)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


def post(port: int, body: bytes) -> tuple[int, str, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        headers = {
            "content-type": "application/json",
            "accept": "application/json, text/event-stream",
        }
        conn.request("POST", "/mcp", body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.getheader("content-type") or "", response.read()
    finally:
        conn.close()


plans = st.builds(
    Plan,
    content_type=st.sampled_from(CONTENT_TYPES),
    extra=st.lists(frame(False), max_size=3).map(tuple),
    tail=st.integers(0, 99),
    bom=st.integers(0, 5).map(lambda n: n == 0),
    newline=st.sampled_from([b"\n", b"\n", b"\r\n", b"\r"]),
)
calls = st.one_of(
    frame(True),
    st.tuples(st.sampled_from(HOSTILE_TEXT), st.integers(0, 10**6)).map(
        lambda t: json.dumps(
            {
                "jsonrpc": "2.0",
                "id": t[1],
                "method": "tools/call",
                "params": {"name": "echo", "arguments": {"message": t[0]}},
            }
        ).encode()
    ),
)


def test_the_proxy_under_a_hostile_upstream(upstream: int, tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {**child_env(), "ZTMCP_HOME": str(home)}
    exchanges: list[tuple[bytes, Plan, int, str, bytes]] = []
    problems: list[str] = []
    with ztmcp_proxy(f"http://127.0.0.1:{upstream}/mcp", cwd=tmp_path, env=env) as proxy:
        port = int(proxy.url.split(":")[2].split("/")[0])

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        )
        @given(body=calls, plan=plans)
        def run(body: bytes, plan: Plan) -> None:
            Hostile.plan = plan
            status, ctype, answer = post(port, body)  # raises on a hang (timeout)
            exchanges.append((body, plan, status, ctype, answer))
            assert proxy.proc.poll() is None, "the proxy died"

        run()
    assert proxy.proc.returncode is not None
    problems += _check(home, exchanges)
    verify = subprocess.run(
        [sys.executable, "-m", "ztmcp", "audit", "verify"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if verify.returncode != 0:
        problems.append(f"audit verify failed: {verify.stdout} {verify.stderr}")
    report = os.environ.get("ZTMCP_FUZZ_REPORT")
    if report:
        Path(report).write_text("\n".join(problems) + "\n")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("extra", [(), (b'{"jsonrpc":"2.0","method":"notifications/message"}',)])
def test_an_unreadable_sse_answer_is_answered_with_an_error(
    upstream: int, tmp_path: Path, extra: tuple[bytes, ...]
) -> None:
    """The answer event is not UTF-8, so ztmcp drops it; the stream then ends: the client gets
    an error for its call in the stream, not an empty stream (found by the fuzz test above)."""
    home = tmp_path / "home"
    env = {**child_env(), "ZTMCP_HOME": str(home)}
    Hostile.plan = Plan("text/event-stream", extra, tail=8, bom=False, newline=b"\n")
    body = b'{"jsonrpc":"2.0","id":41,"method":"tools/call","params":{"name":"echo"}}'
    with ztmcp_proxy(f"http://127.0.0.1:{upstream}/mcp", cwd=tmp_path, env=env) as proxy:
        port = int(proxy.url.split(":")[2].split("/")[0])
        status, ctype, answer = post(port, body)
    answers = [read_json(f) for f in client_frames(ctype, answer)]
    answers = [a for a in answers if is_response(a)]
    assert status == 200 and len(answers) == 1, (status, answer)
    assert answers[0]["id"] == 41 and "error" in answers[0]
    rules = [r.get("rule") for r in read_records(session_files(home / "audit"))]
    assert "sse.unreadable" in rules and "sse.unanswered" in rules


def _check(home: Path, exchanges: list[tuple[bytes, Plan, int, str, bytes]]) -> list[str]:
    records = [
        r for r in read_records(session_files(home / "audit")) if r.get("event") == "message"
    ]
    passed: dict[str, set[str]] = {"to_server": set(), "to_client": set()}
    refused: dict[str, set[str]] = {"to_server": set(), "to_client": set()}
    for r in records:
        (passed if r.get("outcome") in FORWARDING else refused)[r["direction"]].add(r["sha256"])
    problems: list[str] = []
    sent_by_server = set(Hostile.sent)
    sent_by_client = {body for body, *_ in exchanges}

    def digest(data: bytes) -> str:
        return hashlib.sha256(data).hexdigest()

    for body, plan, status, ctype, answer in exchanges:
        where = f"client sent {body[:160]!r}; upstream {plan}; proxy answered {status} {ctype}"
        got = client_frames(ctype, answer)
        for f in got:
            if f in sent_by_server and digest(f) not in passed["to_client"]:
                problems.append(f"UNCHECKED server frame reached the client: {f[:200]!r} ({where})")
            elif f not in sent_by_server and read_json(f) is None:
                problems.append(f"the client got a frame it cannot decode: {f[:200]!r} ({where})")
            if f in sent_by_server and (why := ambiguous(f)):
                problems.append(f"AMBIGUOUS server frame ({why}) reached the client: {f[:200]!r}")
        msg = read_json(body)
        if is_request(msg) and ambiguous(body) is None:
            ids = [read_json(f).get("id") for f in got if is_response(read_json(f))]
            if msg["id"] not in ids:
                problems.append(f"UNANSWERED request {msg['id']!r} ({where}; got {answer[:300]!r})")
    for body in Hostile.received:
        if body in sent_by_client and digest(body) not in passed["to_server"]:
            problems.append(f"UNCHECKED client frame reached the server: {body[:200]!r}")
        elif body not in sent_by_client and read_json(body) is None:
            problems.append(f"the server got a frame it cannot decode: {body[:200]!r}")
    return problems
