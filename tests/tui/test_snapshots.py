"""Deterministic screenshots: frozen clock, fixed ids and records, fixed terminal size.

Regenerate after a deliberate change with ``pytest tests/tui/test_snapshots.py
--snapshot-update`` and review the SVGs in ``__snapshots__/`` like code.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from tests.tui.conftest import DIGEST, T0, Clock, call, grant_required, hold, judged, make
from ztmcp.state.audit import AuditLog
from ztmcp.state.grants import GrantStore, db_path
from ztmcp.tui.app import ZtmcpApp

SIZE = (120, 32)
Compare = Callable[..., bool]


@pytest.fixture()
def fixed_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    """Grant and approval ids in order (they are random in real use)."""
    grant_ids = (f"g{n:07d}" for n in itertools.count(1))
    approval_ids = (f"a{n:07d}" for n in itertools.count(1))
    monkeypatch.setattr(
        "ztmcp.state.grants.secrets", SimpleNamespace(token_hex=lambda _n: next(grant_ids))
    )
    monkeypatch.setattr(
        "ztmcp.state.approvals.secrets",
        SimpleNamespace(token_hex=lambda _n: next(approval_ids)),
    )


@pytest.fixture()
def traffic(audit_log: AuditLog) -> Iterator[None]:
    audit_log.append(
        {
            "event": "message",
            "server": "everything",
            "direction": "to_server",
            "kind": "request",
            "jsonrpc.request.id": 0,
            "mcp.method.name": "tools/list",
            "size": 60,
            "sha256": "ef" * 32,
            "outcome": "forwarded",
            "check_us": 9.0,
        },
        ts=T0 + 1,
    )
    audit_log.append(call("echo"), ts=T0 + 2)
    audit_log.append(call("get-env", "denied", verdicts=[grant_required("get-env")]), ts=T0 + 3)
    yield


def _app(clock: Clock) -> ZtmcpApp:
    return make(clock, heartbeat=False)


def _keys(*keys: str) -> Callable[[Any], Any]:
    async def run_before(pilot: Any) -> None:
        await pilot.app.settle()
        await pilot.pause()
        if keys:
            await pilot.press(*keys)
            await pilot.app.settle()
        pilot.app.clear_notifications()  # toasts time out; the screen under them is the subject
        await pilot.pause()
        await pilot.wait_for_scheduled_animations()

    return run_before


def test_traffic_with_a_denied_call(snap_compare: Compare, clock: Clock, traffic: None) -> None:
    assert snap_compare(_app(clock), terminal_size=SIZE, run_before=_keys())


def test_approval_queue_with_a_held_call(
    snap_compare: Compare, clock: Clock, fixed_ids: None, traffic: None
) -> None:
    hold("get-env", T0 - 15, session="aa" * 8)
    assert snap_compare(_app(clock), terminal_size=SIZE, run_before=_keys("a"))


@pytest.mark.parametrize("size", [(80, 24), (160, 45)], ids=["80x24", "160x45"])
def test_the_approval_screen_shows_the_arguments(
    snap_compare: Compare, clock: Clock, fixed_ids: None, traffic: None, size: tuple[int, int]
) -> None:
    """What a person judges a held call by: tool, server, agent, why, description, arguments
    (secrets masked) and the choices, at the smallest usual terminal and a large one."""
    hold("get-env", T0 - 15, session="aa" * 8, detail=judged())
    assert snap_compare(_app(clock), terminal_size=size, run_before=_keys("a"))


def test_grants_with_countdowns(snap_compare: Compare, clock: Clock, fixed_ids: None) -> None:
    with GrantStore(db_path(), clock=Clock(T0 - 100)) as store:
        store.add(
            "everything", "get-sum", 400, digest=DIGEST, who="dev", why="debugging", renew=120
        )
        store.add(
            "everything",
            "get-env",
            3700,
            digest=DIGEST,
            who="dev",
            arg="path",
            prefix="/srv/project",
        )
        revoked = store.add("memory", "delete_entities", 900, digest=None, who="ci")
        store.revoke(revoked.id)
    assert snap_compare(_app(clock), terminal_size=SIZE, run_before=_keys("g"))


def test_help(snap_compare: Compare, clock: Clock) -> None:
    assert snap_compare(_app(clock), terminal_size=SIZE, run_before=_keys("question_mark"))
