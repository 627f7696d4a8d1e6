"""SDK parity: the official ``mcp`` client sees the same results through ``ztmcp run`` as direct.

Each test runs one scripted session twice, in the same test, against the same pinned real
server: once directly, once through ``python -m ztmcp run -- SERVER``. Every result is dumped
with pydantic (so both sides are parsed identically) and compared whole. Only fields that
genuinely depend on the wall clock are normalised (mcp-server-time's current time).

Protocol eras, as recorded on the pinned peers:

- server-everything 2026.8.31 is handshake era: ``mode="auto"`` sends ``server/discover``,
  gets method-not-found and falls back to ``initialize``; both modes end on 2025-11-25.
- mcp-server-time 2026.10.19 answers ``server/discover``: ``mode="auto"`` runs the
  2026-07-28 era (``_meta`` on every request and result, no ``initialize``); ``mode="legacy"``
  uses the ``initialize`` handshake and lands on 2025-11-25.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import mcp_types as types
import pytest
from mcp import Client, StdioServerParameters

from tests.e2e.peers import Peers

pytestmark = pytest.mark.e2e

# Generous bounds: a cold node/python start on a loaded CI box takes a few seconds.
SESSION_TIMEOUT = 60.0
AUDIT_TIMEOUT = 15.0

MODES = ("auto", "legacy")

# What each pinned server negotiates under each client mode (see the module docstring).
EXPECTED_VERSION = {
    ("everything", "auto"): "2025-11-25",
    ("everything", "legacy"): "2025-11-25",
    ("time", "auto"): "2026-07-28",
    ("time", "legacy"): "2025-11-25",
}


def dump(value: Any) -> Any:
    """A pydantic model (or None) as plain JSON data, aliases as on the wire."""
    if value is None:
        return None
    return value.model_dump(mode="json", by_alias=True)


@dataclass
class Recorder:
    """Client callbacks that answer server → client requests and remember what they were asked."""

    asked: list[tuple[str, Any]] = field(default_factory=list)

    async def sampling(
        self, context: Any, params: types.CreateMessageRequestParams
    ) -> types.CreateMessageResult:
        self.asked.append(("sampling/createMessage", dump(params)))
        return types.CreateMessageResult(
            role="assistant",
            content=types.TextContent(type="text", text="sampled by the test client ✓"),
            model="parity-test-model",
            stop_reason="endTurn",
        )

    async def elicitation(
        self, context: Any, params: types.ElicitRequestParams
    ) -> types.ElicitResult:
        self.asked.append(("elicitation/create", dump(params)))
        return types.ElicitResult(action="accept", content={"name": "Ada Lovelace"})


Scenario = Callable[[Client], Awaitable[dict[str, Any]]]


async def _connected_facts(client: Client) -> dict[str, Any]:
    return {
        "protocol_version": client.protocol_version,
        "server_info": dump(client.server_info),
        "server_capabilities": dump(client.server_capabilities),
        "instructions": client.instructions,
    }


async def everything_scenario(client: Client) -> dict[str, Any]:
    out = await _connected_facts(client)
    tools = await client.list_tools()
    out["tools/list"] = dump(tools)
    names = {t.name for t in tools.tools}
    # Registered only once the client declared sampling / elicitation in the handshake.
    assert {
        "echo",
        "get-structured-content",
        "trigger-sampling-request",
        "trigger-elicitation-request",
    } <= names, sorted(names)
    out["tools/call echo"] = dump(await client.call_tool("echo", {"message": 'hi ✓ \u2028 "q"'}))
    structured = await client.call_tool("get-structured-content", {"location": "Chicago"})
    assert structured.structured_content, "structuredContent must survive"
    out["tools/call get-structured-content"] = dump(structured)
    out["resources/list"] = dump(await client.list_resources())
    out["prompts/list"] = dump(await client.list_prompts())
    # Server → client requests, answered by the Recorder's callbacks, relayed back.
    out["tools/call trigger-sampling-request"] = dump(
        await client.call_tool("trigger-sampling-request", {"prompt": "parity", "maxTokens": 16})
    )
    out["tools/call trigger-elicitation-request"] = dump(
        await client.call_tool("trigger-elicitation-request", {})
    )
    return out


_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}([+-]\d{2}:\d{2}|Z)$")


def _normalise_time_result(result: dict[str, Any]) -> dict[str, Any]:
    """Replace the current time (and its weekday) by placeholders, after checking them.

    ``get_current_time`` returns the wall-clock time at call time: the direct and the proxied
    call run a second or more apart (and may straddle midnight, changing ``day_of_week``), so
    these two values, and only these, are genuinely time-dependent. Everything else in the
    result, including the text block's exact formatting around them, is compared verbatim.
    """
    structured = result["structuredContent"]
    stamp, weekday = structured["datetime"], structured["day_of_week"]
    assert _ISO.match(stamp), stamp
    moment = datetime.fromisoformat(stamp)
    assert abs(moment - datetime.now(UTC)) < timedelta(minutes=5), stamp
    assert weekday == moment.strftime("%A"), (stamp, weekday)
    text = json.dumps(result, ensure_ascii=False)
    text = text.replace(stamp, "<now>").replace(weekday, "<weekday>")
    normalised: dict[str, Any] = json.loads(text)
    return normalised


async def time_scenario(client: Client) -> dict[str, Any]:
    out = await _connected_facts(client)
    tools = await client.list_tools()
    out["tools/list"] = dump(tools)
    assert "get_current_time" in {t.name for t in tools.tools}
    result = await client.call_tool("get_current_time", {"timezone": "UTC"})
    assert result.structured_content, "structuredContent must survive"
    out["tools/call get_current_time"] = _normalise_time_result(dump(result))
    out["resources/list"] = dump(await client.list_resources())
    out["prompts/list"] = dump(await client.list_prompts())
    return out


async def _session(
    argv: list[str], *, mode: str, env: dict[str, str], cwd: Path, scenario: Scenario
) -> tuple[dict[str, Any], list[tuple[str, Any]]]:
    recorder = Recorder()
    params = StdioServerParameters(command=argv[0], args=argv[1:], env=env, cwd=str(cwd))
    with anyio.fail_after(SESSION_TIMEOUT):
        async with Client(
            params,
            mode=mode,
            cache=None,
            sampling_callback=recorder.sampling,
            elicitation_callback=recorder.elicitation,
        ) as client:
            results = await scenario(client)
    return results, recorder.asked


def _run_pair(
    server_argv: list[str],
    ztmcp_argv: list[str],
    *,
    name: str,
    mode: str,
    env: dict[str, str],
    cwd: Path,
    scenario: Scenario,
) -> tuple[tuple[dict[str, Any], list[Any]], tuple[dict[str, Any], list[Any]], float, float]:
    proxied_argv = [*ztmcp_argv, "run", "--name", name, "--", *server_argv]

    async def both() -> tuple[Any, Any, float, float]:
        t0 = time.perf_counter()
        direct = await _session(server_argv, mode=mode, env=env, cwd=cwd, scenario=scenario)
        t1 = time.perf_counter()
        proxied = await _session(proxied_argv, mode=mode, env=env, cwd=cwd, scenario=scenario)
        t2 = time.perf_counter()
        return direct, proxied, t1 - t0, t2 - t1

    return anyio.run(both)


def _closed_audit_log(home: Path, name: str) -> tuple[Path, list[dict[str, Any]]]:
    """The session's audit log, once ztmcp has written its ``session.end`` (bounded wait)."""
    deadline = time.monotonic() + AUDIT_TIMEOUT
    while True:
        logs = sorted((home / "audit").glob(f"*-{name}-*.jsonl"))
        if len(logs) == 1:
            records = [json.loads(line) for line in logs[0].read_bytes().splitlines() if line]
            if records and records[-1].get("event") == "session.end":
                return logs[0], records
        assert time.monotonic() < deadline, (
            f"no closed audit log for {name!r} after {AUDIT_TIMEOUT}s: {logs}"
        )
        time.sleep(0.05)


def _assert_audit(
    home: Path, name: str, env: dict[str, str], ztmcp_argv: list[str], cwd: Path
) -> list[dict[str, Any]]:
    _path, records = _closed_audit_log(home, name)
    assert records[0]["event"] == "session.start"
    assert records[0]["server"] == name
    messages = [r for r in records if r.get("event") == "message"]
    assert messages, "the audit log recorded no messages"
    # Everything the SDK and the server exchanged is legitimate: nothing may be held back.
    held = [r for r in messages if r["outcome"] not in ("forwarded", "flagged")]
    assert not held, json.dumps(held, indent=1)[:4000]
    assert records[-1].get("unanswered") == 0, records[-1]
    done = subprocess.run(
        [*ztmcp_argv, "audit", "verify"],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, (done.stdout, done.stderr)
    assert "ok:" in done.stdout and "1 log(s)" in done.stdout, done.stdout
    assert "without session.end" not in done.stdout, done.stdout
    return records


def _methods(records: list[dict[str, Any]], direction: str) -> set[str]:
    return {
        r["mcp.method.name"]
        for r in records
        if r.get("event") == "message"
        and r.get("direction") == direction
        and r.get("kind") == "request"
    }


@pytest.mark.parametrize("mode", MODES)
def test_everything_parity(
    mode: str,
    peers: Peers,
    ztmcp_argv: list[str],
    child_env: dict[str, str],
    ztmcp_home: Path,
    tmp_path: Path,
) -> None:
    (direct, direct_asked), (proxied, proxied_asked), t_direct, t_proxied = _run_pair(
        peers.everything,
        ztmcp_argv,
        name="everything",
        mode=mode,
        env=child_env,
        cwd=tmp_path,
        scenario=everything_scenario,
    )
    print(f"everything/{mode}: direct {t_direct:.2f}s, through ztmcp {t_proxied:.2f}s")
    assert direct["protocol_version"] == EXPECTED_VERSION[("everything", mode)]
    for key in direct:
        assert proxied.get(key) == direct[key], f"{key} differs through ztmcp"
    assert proxied == direct
    # The server asked the client the same questions, and got the answers through.
    assert [m for m, _ in direct_asked] == ["sampling/createMessage", "elicitation/create"]
    assert proxied_asked == direct_asked
    assert "sampled by the test client" in json.dumps(
        proxied["tools/call trigger-sampling-request"]
    )
    assert "Ada Lovelace" in json.dumps(proxied["tools/call trigger-elicitation-request"])

    records = _assert_audit(ztmcp_home, "everything", child_env, ztmcp_argv, tmp_path)
    to_server = _methods(records, "to_server")
    assert {"initialize", "tools/list", "tools/call", "resources/list", "prompts/list"} <= to_server
    if mode == "auto":
        assert "server/discover" in to_server  # the SDK's probe, forwarded verbatim
    else:
        assert "server/discover" not in to_server
    assert {"sampling/createMessage", "elicitation/create"} <= _methods(records, "to_client")


@pytest.mark.parametrize("mode", MODES)
def test_time_parity(
    mode: str,
    peers: Peers,
    ztmcp_argv: list[str],
    child_env: dict[str, str],
    ztmcp_home: Path,
    tmp_path: Path,
) -> None:
    (direct, direct_asked), (proxied, proxied_asked), t_direct, t_proxied = _run_pair(
        peers.time,
        ztmcp_argv,
        name="time",
        mode=mode,
        env=child_env,
        cwd=tmp_path,
        scenario=time_scenario,
    )
    print(f"time/{mode}: direct {t_direct:.2f}s, through ztmcp {t_proxied:.2f}s")
    assert direct["protocol_version"] == EXPECTED_VERSION[("time", mode)]
    for key in direct:
        assert proxied.get(key) == direct[key], f"{key} differs through ztmcp"
    assert proxied == direct
    assert direct_asked == proxied_asked == []

    records = _assert_audit(ztmcp_home, "time", child_env, ztmcp_argv, tmp_path)
    to_server = _methods(records, "to_server")
    assert {"tools/list", "tools/call", "resources/list", "prompts/list"} <= to_server
    tool_calls = [r for r in records if r.get("mcp.method.name") == "tools/call"]
    assert {r.get("gen_ai.tool.name") for r in tool_calls} == {"get_current_time"}
    if mode == "auto":
        # 2026-07-28: discover instead of the handshake, the version on every request.
        assert "server/discover" in to_server and "initialize" not in to_server
        versions = {
            r.get("mcp.protocol.version")
            for r in records
            if r.get("event") == "message"
            and r.get("direction") == "to_server"
            and r.get("kind") == "request"
        }
        assert versions == {"2026-07-28"}, versions
    else:
        assert "initialize" in to_server and "server/discover" not in to_server


# A server that answers like a minimal MCP server but lingers after stdin closes, as servers
# with background work do. It writes its pid first so the test can check for (and clean up) an
# orphan.
LINGERING_SERVER = r"""
import json, os, sys, time
open(sys.argv[1], "w").write(str(os.getpid()))
buf = b""
while True:
    chunk = os.read(0, 65536)
    if not chunk:
        break
    buf += chunk
    while b"\n" in buf:
        line, buf = buf.split(b"\n", 1)
        msg = json.loads(line)
        if "id" not in msg or "method" not in msg:
            continue
        if msg["method"] == "initialize":
            result = {"protocolVersion": msg["params"]["protocolVersion"],
                      "capabilities": {"tools": {}},
                      "serverInfo": {"name": "lingering", "version": "1"}}
            reply = {"jsonrpc": "2.0", "id": msg["id"], "result": result}
        elif msg["method"] == "tools/list":
            reply = {"jsonrpc": "2.0", "id": msg["id"], "result": {"tools": []}}
        else:
            reply = {"jsonrpc": "2.0", "id": msg["id"], "error": {"code": -32601, "message": "no"}}
        os.write(1, json.dumps(reply).encode() + b"\n")
time.sleep(float(sys.argv[2]))
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_sdk_shutdown_ends_lingering_server_and_closes_audit(
    ztmcp_argv: list[str], child_env: dict[str, str], ztmcp_home: Path, tmp_path: Path
) -> None:
    script, pid_file = tmp_path / "lingering.py", tmp_path / "server.pid"
    script.write_text(LINGERING_SERVER)
    argv = [
        *ztmcp_argv,
        "run",
        "--name",
        "lingering",
        "--",
        sys.executable,
        str(script),
        str(pid_file),
        "60",
    ]

    async def session() -> None:
        params = StdioServerParameters(
            command=argv[0], args=argv[1:], env=child_env, cwd=str(tmp_path)
        )
        with anyio.fail_after(SESSION_TIMEOUT):
            async with Client(params, mode="legacy", cache=None) as client:
                await client.list_tools()

    anyio.run(session)  # returns once the SDK has closed, TERMed or KILLed ztmcp
    pid = int(pid_file.read_text())
    try:
        deadline = time.monotonic() + 5.0
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(pid), "the server outlived ztmcp (orphaned)"
        _assert_audit(ztmcp_home, "lingering", child_env, ztmcp_argv, tmp_path)
    finally:
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
