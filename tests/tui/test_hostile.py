"""The TUI over hostile names: every table, notification, detail and drift view shows server-,
agent- and repository-chosen strings escaped (no OSC 52/OSC 0/CSI/C1/bidi/BEL reaches the
screen), and the keys act on the call the screen shows."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_terminal import HOSTILE, assert_inert
from tests.tui.conftest import Clock, call, cells, make, settle, tick
from ztmcp import lockfile
from ztmcp.manifest import Manifest
from ztmcp.state import paths
from ztmcp.state.approvals import ApprovalStore
from ztmcp.state.audit import AuditLog
from ztmcp.state.grants import GrantStore, db_path
from ztmcp.state.observed import ObservedStore

SIZE = (140, 36)
pytestmark = pytest.mark.anyio


def _hostile_home(tmp_path: Path, now: float) -> Path:
    log = AuditLog.create(paths.audit_dir(), "srv")
    log.append({"event": "session.start", "server": HOSTILE, "mode": "enforce"}, ts=now)
    verdict = {"check": "pins", "action": "deny", "rule": HOSTILE, "severity": "high",
               "reason": HOSTILE, "evidence": HOSTILE}  # fmt: skip
    log.append({**call(HOSTILE, "denied", verdicts=[verdict]), "server": HOSTILE}, ts=now)
    log.append({**call("ok"), "mcp.method.name": HOSTILE, "server": HOSTILE}, ts=now)
    log.close(reason=HOSTILE)
    with GrantStore(db_path(), clock=lambda: now) as store:
        store.add(HOSTILE, HOSTILE, 600, digest=None, who=HOSTILE, why=HOSTILE)
    with ApprovalStore(db_path()) as approvals:
        approvals.request(
            server=HOSTILE, tool=HOSTILE, digest="cd" * 32, session=HOSTILE, now=now, wait=60
        )
    tool = {"name": HOSTILE, "description": HOSTILE, "inputSchema": {"type": "object"}}
    manifest = Manifest.from_lists(server_name=HOSTILE, instructions=HOSTILE, tools=[tool])
    lock = lockfile.Lockfile(tmp_path / "ztmcp.lock")
    pin = lockfile.pin_manifest(HOSTILE, manifest, command=(HOSTILE,))
    lockfile.write(lock.with_pin(pin))
    drifted = Manifest.from_lists(tools=[{**tool, "description": "x" + HOSTILE}])
    with ObservedStore() as observed:
        observed.record(HOSTILE, drifted, now, pin=pin, kinds=("tools",))
    return lock.path


async def test_no_view_of_the_tui_shows_a_control_sequence(tmp_path: Path, clock: Clock) -> None:
    lock_path = _hostile_home(tmp_path, clock.now)
    app = make(clock, lock_path=lock_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await tick(app, pilot)
        seen: list[str] = []
        for table in ("traffic", "approvals", "grants", "servers"):
            rows = cells(app, table)
            assert rows, table
            seen += [cell for row in rows for cell in row]
        assert any("gpj.exe" in cell for cell in seen)  # shown, escaped
        await pilot.press("t", "end")
        await settle(app, pilot)
        seen.append(str(app._widget("#detail-body").render()))
        await pilot.press("s")
        await settle(app, pilot)
        seen.append(str(app._widget("#drift-body").render()))
        seen.append(str(app._widget("#status").render()))
        seen += [n.message for n in app._notifications]
        seen.append(app.export_screenshot())
        for text in seen:
            assert_inert(text)


async def test_the_grant_key_acts_on_the_selected_call_and_says_which(
    tmp_path: Path, clock: Clock
) -> None:
    with ApprovalStore(db_path()) as approvals:
        older = approvals.request(
            server="everything",
            tool="write_file",
            digest="cd" * 32,
            session="s",
            now=clock.now,
            wait=60,
        )
        newer = approvals.request(
            server="everything",
            tool="read_file",
            digest="ef" * 32,
            session="s",
            now=clock.now + 1,
            wait=60,
        )
    app = make(clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        notes = [n.message for n in app._notifications]
        assert any("read_file is held: press a" in m for m in notes), notes
        await pilot.press("1")  # from the traffic tab: acts on nothing
        await settle(app, pilot)
        assert len(cells(app, "approvals")) == 2
        await pilot.press("a", "down")  # select read_file, the newer call
        await settle(app, pilot)
        assert app._selected_approval() == newer.id
        await pilot.press("1")
        await settle(app, pilot)
        notes = [n.message for n in app._notifications]
        assert any(m.startswith("granted everything read_file") for m in notes), notes
    with ApprovalStore(db_path()) as approvals:
        assert approvals.get(newer.id).state == "granted"  # type: ignore[union-attr]
        assert approvals.get(older.id).state == "pending"  # type: ignore[union-attr]
