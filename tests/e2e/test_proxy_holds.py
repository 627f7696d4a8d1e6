"""A held call through ``ztmcp proxy``: waits for an approval, then gets its real result.

The same set-up as the stdio test (tests/e2e/test_access.py): an ``[access]`` rule that needs a
grant, ``hold_seconds`` set, and a watcher attached the way the TUI attaches (a heartbeat in
``state.db`` through ``ApprovalStore``). The SDK client calls the tool through a real
``ztmcp proxy`` in front of the SDK's own MCPServer, in both protocol eras; the test sees the
pending approval, checks that other calls still flow meanwhile, approves it through
``Operator`` (what the TUI and ``ztmcp grant`` use), and the client gets the server's answer.
A second held call is denied in the queue and fails with the actionable text. Every wait is
bounded.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client

from tests.e2e.test_access import Watcher
from tests.e2e.test_proxy_sdk import sdk_server, ztmcp_proxy

pytestmark = pytest.mark.e2e

SCENARIO_TIMEOUT = 90.0
AUDIT_TIMEOUT = 15.0
POLICY = """\
[access]
default = "allow"
hold_seconds = 30

[[access.rule]]
server = "sdk"
tool = "add"
action = "grant"
"""


def proxy_audit(home: Path) -> list[dict[str, Any]]:
    """The proxy's audit log (the TUI's Operator writes a log of its own), once closed."""
    deadline = time.monotonic() + AUDIT_TIMEOUT
    while True:
        logs = sorted((home / "audit").glob("*-sdk-*.jsonl"))
        if len(logs) == 1:
            records = [json.loads(line) for line in logs[0].read_bytes().splitlines() if line]
            if records and records[-1].get("event") == "session.end":
                return records
        assert time.monotonic() < deadline, f"no closed proxy audit log: {logs}"
        time.sleep(0.05)


def _text(result: Any) -> str:
    return " ".join(getattr(c, "text", "") for c in result.content)


@pytest.mark.parametrize(("mode", "version"), [("auto", "2026-07-28"), ("legacy", "2025-11-25")])
def test_held_call_through_the_proxy_is_released_by_an_approval(
    mode: str,
    version: str,
    ztmcp_argv: list[str],
    child_env: dict[str, str],
    tmp_path: Path,
    ztmcp_home: Path,
) -> None:
    from ztmcp.state.approvals import Operator

    (tmp_path / "ztmcp.toml").write_text(POLICY)
    ztmcp_home.mkdir(parents=True, exist_ok=True)
    watcher = Watcher(ztmcp_home)
    results: dict[str, Any] = {}
    approval: list[str] = []

    async def scenario(url: str) -> None:
        with anyio.fail_after(SCENARIO_TIMEOUT):
            async with (
                Client(url, mode=mode, cache=None) as client,
                anyio.create_task_group() as tasks,
            ):
                assert client.protocol_version == version
                tasks.start_soon(watcher.beat)
                await client.list_tools()

                async def held_add() -> None:
                    results["add"] = await client.call_tool("add", {"a": 2, "b": 3})

                tasks.start_soon(held_add)
                approval_id = await watcher.next_request()
                approval.append(approval_id)
                pending = watcher.store.get(approval_id)
                assert pending is not None and (pending.server, pending.tool) == ("sdk", "add")
                # The proxy keeps serving other requests while the call waits.
                echo = await client.call_tool("echo", {"message": "still flowing"})
                assert _text(echo) == "Echo: still flowing"
                assert "add" not in results
                with Operator("ztmcp-tui") as ops:
                    ops.approve(approval_id, seconds=60, who="e2e", why="held call via proxy")
                with anyio.fail_after(20):
                    while "add" not in results:
                        await anyio.sleep(0.01)
                added = results["add"]
                assert not added.is_error and added.structured_content == {"total": 5}

                # A later call is held again only without a grant: this one is allowed now.
                again = await client.call_tool("add", {"a": 1, "b": 1})
                assert again.structured_content == {"total": 2}
                tasks.cancel_scope.cancel()

    with (
        sdk_server(tmp_path) as upstream,
        ztmcp_proxy(ztmcp_argv, upstream, child_env, tmp_path, "--name", "sdk") as local,
    ):
        try:
            anyio.run(scenario, local)
        finally:
            watcher.store.close()

    records = proxy_audit(ztmcp_home)
    holds = [r for r in records if r.get("event") == "access.hold"]
    ends = [r for r in records if r.get("event") == "access.hold_end"]
    assert [(r["gen_ai.tool.name"], r["approval.id"]) for r in holds] == [("add", approval[0])]
    assert [(r["outcome"], r["approval.id"]) for r in ends] == [("released", approval[0])]
    calls = [
        r["outcome"]
        for r in records
        if r.get("event") == "message"
        and r.get("gen_ai.tool.name") == "add"
        and r["direction"] == "to_server"
    ]
    # held, then forwarded with its grant (flagged: access.granted), then the second call
    assert calls[0] == "held" and calls[1:] == ["flagged", "flagged"], calls


def test_held_call_denied_in_the_queue_fails_with_the_reason(
    ztmcp_argv: list[str], child_env: dict[str, str], tmp_path: Path, ztmcp_home: Path
) -> None:
    from ztmcp.state.approvals import Operator

    (tmp_path / "ztmcp.toml").write_text(POLICY)
    ztmcp_home.mkdir(parents=True, exist_ok=True)
    watcher = Watcher(ztmcp_home)
    results: dict[str, Any] = {}

    async def scenario(url: str) -> None:
        with anyio.fail_after(SCENARIO_TIMEOUT):
            async with (
                Client(url, cache=None) as client,
                anyio.create_task_group() as tasks,
            ):
                tasks.start_soon(watcher.beat)
                await client.list_tools()

                async def held_add() -> None:
                    results["add"] = await client.call_tool("add", {"a": 2, "b": 3})

                tasks.start_soon(held_add)
                approval_id = await watcher.next_request()
                with Operator("ztmcp-tui") as ops:
                    ops.deny(approval_id, who="e2e")
                with anyio.fail_after(20):
                    while "add" not in results:
                        await anyio.sleep(0.01)
                text = _text(results["add"])
                assert results["add"].is_error
                assert f"approval {approval_id} was denied by e2e" in text
                assert "a person must approve" in text
                tasks.cancel_scope.cancel()

    with (
        sdk_server(tmp_path) as upstream,
        ztmcp_proxy(ztmcp_argv, upstream, child_env, tmp_path, "--name", "sdk") as local,
    ):
        try:
            anyio.run(scenario, local)
        finally:
            watcher.store.close()
    ends = [r for r in proxy_audit(ztmcp_home) if r.get("event") == "access.hold_end"]
    assert [r.get("outcome") for r in ends] == ["denied"]
