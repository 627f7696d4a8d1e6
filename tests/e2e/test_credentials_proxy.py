"""Credential brokering end to end: ``ztmcp secret set`` → keyring → ``ztmcp proxy`` → upstream.

A tiny loopback MCP upstream records the headers of every request it receives. The secret is
stored with the real CLI into a real keyring backend that both processes load through
``PYTHON_KEYRING_BACKEND`` (``tests.keyring_backends.FileKeyring``). The agent side is plain
HTTP (urllib): what matters here is what reaches the upstream, and what does not come back.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from tests.e2e.proxy_process import child_env, ztmcp_proxy
from tests.keyring_backends import FILE_ENV
from ztmcp.state import paths

pytestmark = pytest.mark.e2e

TOKEN = "brokered-Token-9f3c2a71e5d84b06"  # no known token shape: only exact matching finds it
HEADERS = {
    "accept": "application/json, text/event-stream",
    "content-type": "application/json",
    "mcp-protocol-version": "2025-11-25",
}
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "credentials-test", "version": "1"},
    },
}
CALL = {
    "jsonrpc": "2.0",
    "id": 2,
    "method": "tools/call",
    "params": {"name": "whoami", "arguments": {}},
}


@dataclass(frozen=True)
class Reply:
    status: int
    headers: str
    text: str

    def json(self) -> Any:
        return json.loads(self.text)


def post(url: str, body: dict[str, Any], headers: dict[str, str]) -> Reply:
    """One POST as an agent sends it; an HTTP error status is a reply too."""
    request = urllib.request.Request(url, json.dumps(body).encode(), headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return Reply(response.status, str(response.headers), response.read().decode())
    except urllib.error.HTTPError as exc:
        return Reply(exc.code, str(exc.headers), exc.read().decode(errors="replace"))


class Recorder(BaseHTTPRequestHandler):
    """Answers just enough MCP (JSON responses) and records each request's headers."""

    seen: list[dict[str, str]]

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", "0"))))
        self.seen.append({k.lower(): v for k, v in self.headers.items()})
        if "id" not in body:
            self.send_response(202)
            self.send_header("content-length", "0")
            self.end_headers()
            return
        method = body.get("method")
        result: dict[str, Any]
        if method == "initialize":
            result = {
                "protocolVersion": "2025-11-25",
                "capabilities": {"tools": {}},
                "serverInfo": {"name": "recorder", "version": "1"},
            }
        elif method == "tools/call" and body["params"]["name"] in self.echoes:
            self.echoes[body["params"]["name"]](self, body["id"], self.headers["authorization"])
            return
        elif method == "tools/call":
            result = {"content": [{"type": "text", "text": "you are someone"}], "isError": False}
        else:
            result = {}
        data = json.dumps({"jsonrpc": "2.0", "id": body["id"], "result": result}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    # An upstream that reflects the Authorization it received, in each place it could.

    def _echo_result(self, msg_id: int, auth: str) -> None:
        text = {"content": [{"type": "text", "text": f"you sent {auth}"}], "isError": False}
        self._json(200, {"jsonrpc": "2.0", "id": msg_id, "result": text}, {"x-echo": auth})

    def _echo_error(self, msg_id: int, auth: str) -> None:
        error = {"code": -32603, "message": f"token {auth} is not allowed here"}
        self._json(200, {"jsonrpc": "2.0", "id": msg_id, "error": error})

    def _echo_plain(self, msg_id: int, auth: str) -> None:
        data = f"401: {auth} was refused\n".encode()
        self.send_response(401)
        self.send_header("content-type", "text/plain")
        self.send_header("content-length", str(len(data)))
        self.send_header("www-authenticate", f'Bearer error="invalid_token" was="{auth}"')
        self.end_headers()
        self.wfile.write(data)

    def _echo_sse(self, msg_id: int, auth: str) -> None:
        """An event stream whose event carries the token, split across two writes mid-token."""
        note = {"jsonrpc": "2.0", "method": "notifications/message"}
        note["params"] = {"level": "info", "data": f"auth={auth}"}
        text = {"content": [{"type": "text", "text": f"you sent {auth}"}], "isError": False}
        answer = {"jsonrpc": "2.0", "id": msg_id, "result": text}
        stream = f"data: {json.dumps(note)}\n\nevent: message\ndata: {json.dumps(answer)}\n\n"
        cut = stream.index(TOKEN) + len(TOKEN) // 2
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.end_headers()
        for part in (stream[:cut], stream[cut:]):
            self.wfile.write(part.encode())
            self.wfile.flush()
            time.sleep(0.05)

    def _json(self, status: int, body: dict[str, Any], extra: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    echoes: ClassVar[dict[str, Callable[[Recorder, int, str], None]]] = {
        "echo_result": _echo_result,
        "echo_error": _echo_error,
        "echo_plain": _echo_plain,
        "echo_sse": _echo_sse,
    }


@contextmanager
def recording_upstream() -> Iterator[tuple[str, list[dict[str, str]]]]:
    seen: list[dict[str, str]] = []
    handler = type("Handler", (Recorder,), {"seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/mcp", seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture()
def keyring_env(tmp_path: Path) -> dict[str, str]:
    """The environment selecting a file-backed keyring that the CLI and the proxy share."""
    return {
        **os.environ,
        "PYTHON_KEYRING_BACKEND": "tests.keyring_backends.FileKeyring",
        FILE_ENV: str(tmp_path / "keyring.json"),
    }


def write_policy(tmp_path: Path, upstream: str) -> Path:
    policy = tmp_path / "ztmcp.toml"
    policy.write_text(
        f'[[proxy.header]]\nupstream = "{upstream}"\nname = "Authorization"\n'
        'value = "Bearer {secret:upstream-token}"\n\n'
        f'[[proxy.header]]\nupstream = "{upstream}"\nname = "X-Tenant"\nvalue = "acme"\n'
    )
    return policy


def secret_set(env: dict[str, str], value: str, cwd: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ztmcp", "secret", "set", "upstream-token"],
        input=value.encode(),
        capture_output=True,
        env=child_env(env),
        cwd=cwd,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert value.encode() not in done.stdout + done.stderr


def audit_bytes() -> bytes:
    return b"".join(p.read_bytes() for p in paths.audit_dir().rglob("*") if p.is_file())


def test_the_upstream_gets_the_secret_and_the_agent_never_sees_it(
    tmp_path: Path, keyring_env: dict[str, str]
) -> None:
    secret_set(keyring_env, TOKEN, tmp_path)
    with recording_upstream() as (upstream, seen):
        policy = write_policy(tmp_path, upstream)
        with ztmcp_proxy(
            upstream, "--name", "recorder", "--policy", str(policy), env=keyring_env, cwd=tmp_path
        ) as proxy:
            first = post(proxy.url, INITIALIZE, HEADERS)
            second = post(proxy.url, CALL, HEADERS)
    assert first.status == 200 and second.status == 200, (first.text, second.text)
    assert second.json()["result"]["content"][0]["text"] == "you are someone"
    assert len(seen) == 2
    for request in seen:
        assert request["authorization"] == f"Bearer {TOKEN}"
        assert request["x-tenant"] == "acme"
    # Only names are shown; the value is in no response, output or audit record.
    assert "adding Authorization, X-Tenant to every upstream request" in proxy.text
    for text in (first.text, second.text, first.headers, second.headers, proxy.text):
        assert TOKEN not in text
    audit = audit_bytes()
    assert b'"tools/call"' in audit and TOKEN.encode() not in audit


def test_a_credential_the_upstream_echoes_back_never_reaches_the_agent(
    tmp_path: Path, keyring_env: dict[str, str]
) -> None:
    """The upstream reflects its Authorization in a tool result and a response header, a
    JSON-RPC error, a plain-text 401 and an SSE stream (the token split across two writes):
    the agent gets each answer with the token cut out, and the audit says so without it."""
    secret_set(keyring_env, TOKEN, tmp_path)
    with recording_upstream() as (upstream, seen):
        policy = write_policy(tmp_path, upstream)
        with ztmcp_proxy(
            upstream, "--name", "recorder", "--policy", str(policy), env=keyring_env, cwd=tmp_path
        ) as proxy:
            assert post(proxy.url, INITIALIZE, HEADERS).status == 200
            replies = {
                name: post(proxy.url, {**CALL, "params": {"name": name, "arguments": {}}}, HEADERS)
                for name in ("echo_result", "echo_error", "echo_plain", "echo_sse", "whoami")
            }
    assert all(r["authorization"] == f"Bearer {TOKEN}" for r in seen)  # still brokered
    for name, reply in replies.items():
        assert TOKEN not in reply.text and TOKEN not in reply.headers, name
        assert TOKEN[: len(TOKEN) // 2] not in reply.text, name  # no half left at a chunk edge
    mark = "[REDACTED:credential]"
    result = replies["echo_result"]
    assert (
        result.status == 200 and f"Bearer {mark}" in result.json()["result"]["content"][0]["text"]
    )
    assert f"x-echo: Bearer {mark}\n" in result.headers
    error = replies["echo_error"]
    assert error.json()["error"]["message"] == f"token Bearer {mark} is not allowed here"
    plain = replies["echo_plain"]
    assert plain.status == 401 and plain.text == f"401: Bearer {mark} was refused\n"
    assert f'was="Bearer {mark}"' in plain.headers
    events = [
        json.loads(line[6:])
        for line in replies["echo_sse"].text.splitlines()
        if line.startswith("data: ")
    ]
    assert events[0]["params"]["data"] == f"auth=Bearer {mark}"
    assert events[1]["result"]["content"][0]["text"] == f"you sent Bearer {mark}"
    assert replies["whoami"].json()["result"]["content"][0]["text"] == "you are someone"
    # Audited as a rewrite by the proxy, with where and how often, never the value.
    audit = audit_bytes()
    assert TOKEN.encode() not in audit
    records = [json.loads(line) for line in audit.splitlines() if line.strip()]
    rewrites = [r for r in records if r.get("rule") == "credentials.reflected"]
    assert {r["event"] for r in rewrites} == {"http.rewritten"}
    assert all(r["outcome"] == "rewritten" and r["count"] >= 1 for r in rewrites)
    where = {r["reason"].split("(")[1].split(")")[0] for r in rewrites}
    assert {"body", "header x-echo", "header www-authenticate"} <= where
    # result 1, error 1, plain 1, SSE 2 (the notification and the answer)
    assert sum(r["count"] for r in rewrites if "(body)" in r["reason"]) == 5


def test_the_agents_own_authorization_never_reaches_the_upstream(
    tmp_path: Path, keyring_env: dict[str, str]
) -> None:
    secret_set(keyring_env, TOKEN, tmp_path)
    agent_token = "agent-held-Token-5d1e"
    with recording_upstream() as (upstream, seen):
        policy = write_policy(tmp_path, upstream)
        with ztmcp_proxy(
            upstream, "--name", "recorder", "--policy", str(policy), env=keyring_env, cwd=tmp_path
        ) as proxy:
            post(proxy.url, INITIALIZE, {**HEADERS, "authorization": f"Bearer {agent_token}"})
    assert all(r.get("authorization") != f"Bearer {agent_token}" for r in seen)
    assert agent_token not in proxy.text and TOKEN not in proxy.text
    audit = audit_bytes()
    assert agent_token.encode() not in audit and TOKEN.encode() not in audit


def test_a_request_with_an_agent_authorization_is_refused_not_patched(
    tmp_path: Path, keyring_env: dict[str, str]
) -> None:
    secret_set(keyring_env, TOKEN, tmp_path)
    with recording_upstream() as (upstream, seen):
        policy = write_policy(tmp_path, upstream)
        with ztmcp_proxy(
            upstream, "--name", "recorder", "--policy", str(policy), env=keyring_env, cwd=tmp_path
        ) as proxy:
            refused = post(proxy.url, INITIALIZE, {**HEADERS, "authorization": "Bearer agent"})
    assert refused.status == 400 and "authorization" in refused.text.lower()
    assert "remove it from the client" in refused.text
    assert seen == []  # refused before anything went upstream
    audit = audit_bytes()
    assert b"http.brokered_header" in audit and TOKEN.encode() not in audit


@pytest.mark.parametrize(
    ("backend", "needle"),
    [
        ("keyring.backends.fail.Keyring", "no keyring backend is available"),
        ("tests.keyring_backends.FileKeyring", "no secret named 'upstream-token'"),
    ],
)
def test_proxy_start_fails_in_one_line_without_the_secret(
    tmp_path: Path, keyring_env: dict[str, str], backend: str, needle: str
) -> None:
    env = child_env({**keyring_env, "PYTHON_KEYRING_BACKEND": backend})
    with recording_upstream() as (upstream, seen):
        policy = write_policy(tmp_path, upstream)
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "ztmcp",
                "proxy",
                upstream,
                "--port",
                "0",
                "--policy",
                str(policy),
            ],
            capture_output=True,
            env=env,
            cwd=tmp_path,
            timeout=60,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    err = done.stderr.decode()
    assert done.returncode == 2, err
    assert err.startswith("ztmcp: error: ") and needle in err.splitlines()[0]
    assert "Traceback" not in err and len(err.splitlines()) <= 2 and seen == []
