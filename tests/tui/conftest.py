"""Builders for TUI tests: real audit logs, the real state database, a steppable clock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ztmcp.state import paths
from ztmcp.state.approvals import Approval, ApprovalStore
from ztmcp.state.audit import AuditLog
from ztmcp.state.grants import db_path
from ztmcp.tui.app import ZtmcpApp

T0 = 1_800_000_000.0  # 2027-01-15T08:00:00Z: a fixed "now" for deterministic tests
STARTED = 1_700_000_000.0  # 2023-11-14T22:13:20Z: the fixture session's start
DIGEST = "cd" * 32  # the tool digest the proxy saw when it listed the tool


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture()
def clock() -> Clock:
    return Clock()


def call(tool: str, outcome: str = "forwarded", **extra: Any) -> dict[str, Any]:
    """A proxy's audit event for one ``tools/call`` request."""
    return {
        "event": "message",
        "server": "everything",
        "direction": "to_server",
        "kind": "request",
        "jsonrpc.request.id": 1,
        "mcp.method.name": "tools/call",
        "gen_ai.tool.name": tool,
        "size": 80,
        "sha256": "ab" * 32,
        "outcome": outcome,
        "check_us": 21.5,
        **extra,
    }


def grant_required(tool: str) -> dict[str, Any]:
    """The ``access`` check's verdict on a call that needs a just-in-time grant."""
    return {
        "check": "access",
        "action": "deny",
        "rule": "access.grant_required",
        "severity": "medium",
        "reason": f"tool {tool!r} needs a just-in-time grant",
        "evidence": "tool.sha256=" + DIGEST,
    }


def hold(
    tool: str,
    now: float,
    *,
    digest: str | None = DIGEST,
    session: str = "s",
    wait: float = 60,
    detail: dict[str, Any] | None = None,
) -> Approval:
    """A call a proxy holds: a pending approval request for server ``everything``."""
    with ApprovalStore(db_path()) as approvals:
        return approvals.request(
            server="everything",
            tool=tool,
            digest=digest,
            session=session,
            now=now,
            wait=wait,
            detail=detail,
        )


def judged(ask: bool = False) -> dict[str, Any]:
    """What a proxy records for a person to judge a held ``get-env`` call (``holds.detail``)."""
    from ztmcp import preview

    args = preview.arguments(
        {
            "name": "DATABASE_URL",
            "api_key": "sk-proj-" + "Zx9" * 12,
            "note": "deploy with ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8" + " now",
        }
    )
    return {
        "description": "Returns the value of one environment variable of the server process.",
        "arguments": args.text,
        "masked": args.masked,
        "agent": "release-bot",
        "client": "claude-code/2.1",
        "reason": (
            "policy asks a person about every call of tool 'get-env' on server 'everything'"
            if ask
            else "tool 'get-env' on server 'everything' needs a just-in-time grant"
        ),
        "ask": ask,
    }


@pytest.fixture()
def audit_log() -> Iterator[AuditLog]:
    """A proxy session log with a fixed name and session id (deterministic content)."""
    directory = paths.audit_dir()
    log = AuditLog(directory / "20270115T080000Z-everything-00000000000000aa.jsonl", "aa" * 8)
    # Dated before the real clock: records a test appends without a time sort after it.
    log.append({"event": "session.start", "server": "everything", "mode": "enforce"}, ts=STARTED)
    yield log
    log.close()


def make(clock: Clock, *, lock_path: Path | None = None, **kwargs: Any) -> ZtmcpApp:
    """The app over the test's ZTMCP_HOME, without a timer: the test drives ``tick``."""
    return ZtmcpApp(
        audit_dir=paths.audit_dir(),
        db=db_path(),
        lock_path=lock_path,
        clock=clock,
        interval=None,
        who="dev",
        **kwargs,
    )


async def settle(app: ZtmcpApp, pilot: Any) -> None:
    """Let the state worker finish and the screen catch up."""
    await app.settle()
    await pilot.pause()


async def tick(app: ZtmcpApp, pilot: Any) -> None:
    app.tick()
    await settle(app, pilot)


def cells(app: ZtmcpApp, table: str) -> list[list[str]]:
    if table == "traffic":
        return [list(row) for row in app.traffic.rows()]
    t = app._table(table)
    return [[str(c) for c in t.get_row_at(i)] for i in range(t.row_count)]


async def tick_until(app: ZtmcpApp, pilot: Any, done: Any, timeout: float = 10.0) -> None:
    """Tick until ``done()`` holds (records posted by a writer thread land a little later)."""
    import time

    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "timed out waiting for the TUI"
        await tick(app, pilot)
