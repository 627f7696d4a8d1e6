"""The TUI end to end: a real server behind a real `ztmcp run`, the official SDK client, the
Textual app under `run_test()` in the same event loop, keys pressed with the pilot."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client

from tests.e2e.access_helpers import everything_behind_ztmcp, result_text
from tests.e2e.peers import Peers
from ztmcp.state import paths
from ztmcp.state.approvals import ApprovalStore
from ztmcp.state.audit import read_records, session_files
from ztmcp.state.grants import GrantStore
from ztmcp.tui.app import ZtmcpApp, make_app

pytestmark = [pytest.mark.e2e, pytest.mark.anyio]

TIMEOUT = 120.0
SHORT = 8.0  # what key 1 grants in this test, so the countdown ends within the test
POLICY = """\
[access]
default = "allow"
hold_seconds = 30

[[access.rule]]
server = "everything"
tool = "get-sum"
action = "grant"
"""
ARGS = {"a": 2, "b": 3}


def _rows(app: ZtmcpApp, table: str) -> list[list[str]]:
    t = app._table(table)
    return [[str(c) for c in t.get_row_at(i)] for i in range(t.row_count)]


async def _until(what: str, done: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, f"timed out waiting for: {what}"
        await anyio.sleep(0.05)


async def test_held_call_is_released_by_the_grant_key_and_held_again_after_expiry(
    peers: Peers, ztmcp_argv: list[str], child_env: dict[str, str], tmp_path: Path
) -> None:
    params = everything_behind_ztmcp(ztmcp_argv, peers, child_env, tmp_path, POLICY)
    # A fast poll: a tick that changes nothing repaints nothing, so key presses stay prompt
    # (when the approval panel redrew on every tick, each press waited 8-20 s at 0.1 s).
    app = make_app(interval=0.1, grant_times=(SHORT, 900, 3600), lock_path=tmp_path / "none")

    with anyio.fail_after(TIMEOUT):
        async with (
            app.run_test(size=(140, 36)) as pilot,
            Client(params, mode="legacy", cache=None) as client,
        ):
            await client.list_tools()
            results: list[Any] = []

            async def held_call(press: tuple[str, ...]) -> Any:
                """Call get-sum; it must show up in the queue; press the keys; its result."""
                results.clear()
                async with anyio.create_task_group() as tg:

                    async def call() -> None:
                        results.append(await client.call_tool("get-sum", ARGS))

                    tg.start_soon(call)
                    await _until(
                        "the held call in the queue", lambda: bool(_rows(app, "approvals"))
                    )
                    (row,) = _rows(app, "approvals")
                    assert row[1:3] == ["everything", "get-sum"]
                    assert not results  # still held
                    await pilot.press(*press)
                return results[0]

            # 1. Held, then released by key 1 (a short grant): the SDK client gets its result.
            first = await held_call(("a", "1"))
            assert not first.is_error, result_text(first)
            assert "5" in result_text(first)
            (grant_row,) = _rows(app, "grants")
            grant_id = grant_row[0]
            assert grant_row[4] == "live"
            # The grant is bound to the digest the proxy saw when it listed the tool.
            with ApprovalStore() as approvals:
                (decided,) = approvals.recent(1)
            assert decided.state == "granted" and decided.grant_id == grant_id
            with GrantStore() as store:
                grant = store.get(grant_id)
            assert grant is not None and grant.digest == decided.digest and grant.digest

            # While the grant lives, calls pass without a hold.
            assert not (await client.call_tool("get-sum", ARGS)).is_error

            # 2. The countdown reaches zero; the next call is held again.
            await _until(
                "the countdown to end",
                lambda: _rows(app, "grants")[0][3:5] == ["0s", "expired"],
                timeout=SHORT + 10,
            )
            second = await held_call(("a", "2"))  # 15 minutes this time
            assert not second.is_error, result_text(second)

            # 3. Revoke from the Grants tab: the next call is held again; deny refuses it.
            await pilot.press("g")
            live = [r for r in _rows(app, "grants") if r[4] == "live"]
            assert len(live) == 1
            await pilot.press("up")  # the live grant sorts first
            await _until("the live grant selected", lambda: app._selected_grant() == live[0][0])
            await pilot.press("r")
            await _until(
                "the revocation", lambda: any(r[4] == "revoked" for r in _rows(app, "grants"))
            )
            third = await held_call(("a", "d"))
            assert third.is_error
            assert "a person must approve" in result_text(third)

    # Everything the TUI did is in its own audit log, chained like every other.
    events = [
        r.get("event")
        for r in read_records(
            p for p in session_files(paths.audit_dir()) if "-ztmcp-tui-" in p.name
        )
    ]
    for expected in (
        "approval.grant",
        "grant.create",
        "grant.expire",
        "grant.revoke",
        "approval.deny",
    ):
        assert expected in events, (expected, events)
