"""A server whose tool schema holds a catastrophic pattern cannot stall ``ztmcp run`` (issue 17).

A small stdio server lists one tool whose ``inputSchema`` has ``pattern: ^(a|aa)+$`` (a
backtracking engine takes exponential time on ``"aaa…ab"``). The official SDK client calls it
through a real ``ztmcp run`` with long arguments: a matching one reaches the server, a
non-matching one is denied by the schema check, and the session carries on. Everything
finishes within the pytest timeout, because the pattern runs on RE2.
"""

from __future__ import annotations

import sys
from pathlib import Path

import anyio
import pytest
from mcp import Client, StdioServerParameters

from ztmcp.state.audit import read_records, session_files

pytestmark = pytest.mark.e2e

SERVER = r"""
import json, sys

TOOL = {"name": "match", "description": "Counts the letters of s.",
        "inputSchema": {"type": "object", "required": ["s"],
                        "properties": {"s": {"type": "string", "pattern": "^(a|aa)+$"}}}}

def send(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()

for line in sys.stdin:
    msg = json.loads(line)
    if "id" not in msg or "method" not in msg:
        continue
    mid, method = msg["id"], msg["method"]
    if method == "initialize":
        send({"jsonrpc": "2.0", "id": mid, "result": {
            "protocolVersion": msg["params"]["protocolVersion"],
            "capabilities": {"tools": {}}, "serverInfo": {"name": "re2", "version": "1"}}})
    elif method == "tools/list":
        send({"jsonrpc": "2.0", "id": mid, "result": {"tools": [TOOL]}})
    elif method == "tools/call":
        s = msg["params"]["arguments"]["s"]
        send({"jsonrpc": "2.0", "id": mid, "result": {
            "content": [{"type": "text", "text": f"{len(s)} letters"}]}})
    else:
        send({"jsonrpc": "2.0", "id": mid, "result": {}})
"""


def test_a_catastrophic_pattern_does_not_stall_the_relay(
    tmp_path: Path, ztmcp_argv: list[str], child_env: dict[str, str], ztmcp_home: Path
) -> None:
    server = tmp_path / "server.py"
    server.write_text(SERVER)
    argv = [*ztmcp_argv, "run", "--name", "re2", "--", sys.executable, str(server)]
    params = StdioServerParameters(command=argv[0], args=argv[1:], env=child_env, cwd=str(tmp_path))
    long = "a" * 100_000

    async def session() -> list[tuple[bool, str]]:
        out = []
        with anyio.fail_after(60):
            async with Client(params, mode="legacy", cache=None) as client:
                listed = await client.list_tools()
                assert [t.name for t in listed.tools] == ["match"]
                for s in (long, long + "b", "aaa"):
                    result = await client.call_tool("match", {"s": s})
                    text = result.content[0].text  # type: ignore[union-attr]
                    out.append((result.is_error, text))
        return out

    matched, refused, after = anyio.run(session)
    assert matched == (False, "100000 letters")  # evaluated and matched: forwarded
    assert refused[0] is True and "schema.arguments" in refused[1] and "pattern" in refused[1]
    assert after == (False, "3 letters")  # the relay carries on
    records = list(read_records(session_files(ztmcp_home / "audit")))
    rules = [v["rule"] for r in records for v in r.get("verdicts", [])]
    assert rules.count("schema.arguments") == 1
