"""The app under ``run_test()``: real audit logs, the real state database, keys via the pilot."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.tui.conftest import (
    DIGEST,
    T0,
    Clock,
    call,
    cells,
    grant_required,
    hold,
    judged,
    make,
    settle,
    tick,
    tick_until,
)
from ztmcp.state import paths
from ztmcp.state.approvals import ApprovalStore
from ztmcp.state.audit import AuditLog, read_records, session_files
from ztmcp.state.grants import GrantStore, db_path
from ztmcp.tui.app import ZtmcpApp

pytestmark = pytest.mark.anyio

SIZE = (140, 36)


def _audited(event: str) -> list[dict[str, object]]:
    return [r for r in read_records(session_files(paths.audit_dir())) if r.get("event") == event]


async def test_traffic_rows_appear_as_a_real_audit_log_is_written(clock: Clock) -> None:
    # Dated by the real clock, like the records the writer thread posts below (traffic is in
    # time order; the shared fixture's session.start is dated T0, in the future).
    audit_log = AuditLog(paths.audit_dir() / "20270115T080000Z-everything-0000000000000001.jsonl",
                         "01" * 8)  # fmt: skip
    audit_log.append({"event": "session.start", "server": "everything", "mode": "enforce"})
    app = make(clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert [row[2] for row in cells(app, "traffic")] == ["· session.start"]
        audit_log.post(call("echo"))  # the proxy's writer thread, as in `ztmcp run`
        audit_log.post(call("get-sum", "denied", verdicts=[grant_required("get-sum")]))
        await tick_until(app, pilot, lambda: app.traffic.row_count == 3)
        rows = cells(app, "traffic")
        assert [(r[3], r[5]) for r in rows[1:]] == [
            ("echo", "forwarded"),
            ("get-sum", "denied access.grant_required"),
        ]
        assert rows[1][2] == "→ tools/call" and rows[1][4] == "22"  # direction, µs rounded
        # Following the tail: the newest row is selected and shown with its findings.
        detail = str(app.query_one("#detail-body").render())
        assert "medium deny access.grant_required" in detail
        assert "tool.sha256=" + DIGEST in detail
        assert '"gen_ai.tool.name": "get-sum"' in detail
        await pilot.press("up")
        assert '"gen_ai.tool.name": "echo"' in str(app.query_one("#detail-body").render())
    audit_log.close()


async def test_only_appended_bytes_are_read_and_a_torn_line_waits(
    clock: Clock, audit_log: AuditLog
) -> None:
    app = make(clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        with audit_log.path.open("ab") as out:  # half a record: the writer is mid-line
            out.write(b'{"event":"message","server":"everything"')
        await tick(app, pilot)
        assert app.traffic.row_count == 1
        assert not app.corrupt
        with audit_log.path.open("ab") as out:
            out.write(b',"mcp.method.name":"ping"}\n')
        await tick(app, pilot)
        assert cells(app, "traffic")[-1][2] == "? ping"


async def test_a_corrupt_audit_line_is_a_status_line_not_a_crash(
    clock: Clock, audit_log: AuditLog
) -> None:
    app = make(clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        with audit_log.path.open("ab") as out:
            out.write(b"\x00garbage{not json\n")
        audit_log.append(call("echo"))
        await tick(app, pilot)
        status = str(app.query_one("#status").render())
        assert "1 unreadable audit line(s)" in status and audit_log.path.name in status
        assert "ztmcp audit verify" in status
        assert cells(app, "traffic")[-1][3] == "echo"  # later records still arrive


async def test_the_countdown_reaches_zero_under_a_controlled_clock(clock: Clock) -> None:
    with GrantStore(db_path(), clock=clock) as store:
        grant = store.add("everything", "get-sum", 90, digest=DIGEST, who="dev", why="test")
    app = make(clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("g")
        assert cells(app, "grants") == [
            [grant.id, "everything", "get-sum", "1m30s", "live", "-", "dev", "test"]
        ]
        clock.now += 60.5
        await tick(app, pilot)
        assert cells(app, "grants")[0][3:5] == ["30s", "live"]  # rounded up: never 0s early
        clock.now += 29
        await tick(app, pilot)
        assert cells(app, "grants")[0][3:5] == ["1s", "live"]
        clock.now += 1
        await tick(app, pilot)
        assert cells(app, "grants")[0][3:5] == ["0s", "expired"]
        assert app.query_one("TabbedContent").get_tab("grants").label_text == "Grants"
    expired = _audited("grant.expire")  # recorded by the TUI's sweep, as the CLI does
    assert [e["grant.id"] for e in expired] == [grant.id]


async def test_revoke_key_revokes_and_audits(clock: Clock) -> None:
    with GrantStore(db_path(), clock=clock) as store:
        grant = store.add("everything", "get-sum", 900, digest=DIGEST, who="dev")
    app = make(clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("r")  # not on the Grants tab: nothing happens
        await settle(app, pilot)
        with GrantStore(db_path()) as store:
            assert store.get(grant.id).revoked is None  # type: ignore[union-attr]
        await pilot.press("g", "r")
        await settle(app, pilot)
        assert cells(app, "grants")[0][3:5] == ["-", "revoked"]
    with GrantStore(db_path()) as store:
        assert store.get(grant.id).revoked == T0  # type: ignore[union-attr]
    (event,) = _audited("grant.revoke")
    assert event["grant.id"] == grant.id and event["gen_ai.tool.name"] == "get-sum"
    (log,) = [p for p in session_files(paths.audit_dir()) if "-ztmcp-tui-" in p.name]
    assert any(r.get("event") == "grant.revoke" for r in read_records([log]))


async def test_a_held_call_is_granted_with_the_key_bound_to_its_digest(clock: Clock) -> None:
    held = hold("get-sum", clock.now, session="aa" * 8)
    app = make(clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert app.query_one("TabbedContent").get_tab("approvals").label_text == "Approvals (1)"
        assert cells(app, "approvals") == [[held.id, "everything", "get-sum", "-", "0s", "1m00s"]]
        clock.now += 20
        await tick(app, pilot)
        assert cells(app, "approvals")[0][4:6] == ["20s", "40s"]
        await pilot.press("2")  # not on the Approvals tab: the key acts on nothing
        await settle(app, pilot)
        assert len(cells(app, "approvals")) == 1
        await pilot.press("a", "2")  # the call the screen shows: grant it for 15 minutes
        await settle(app, pilot)
        assert cells(app, "approvals") == []
        (shown,) = cells(app, "grants")
        assert shown[1:5] == ["everything", "get-sum", "15m00s", "live"]
    with ApprovalStore(db_path()) as approvals:
        decided = approvals.get(held.id)
    assert decided is not None and decided.state == "granted" and decided.decided_by == "dev"
    with GrantStore(db_path()) as store:
        grant = store.get(decided.grant_id or "")
    assert grant is not None and grant.digest == DIGEST
    assert grant.expires == T0 + 20 + 900 and grant.who == "dev"
    assert [e["approval.id"] for e in _audited("approval.grant")] == [held.id]
    assert [e["grant.id"] for e in _audited("grant.create")] == [grant.id]


async def test_deny_key_refuses_the_held_call(clock: Clock) -> None:
    held = hold("get-env", clock.now, wait=30)
    app = make(clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("a", "d")
        await settle(app, pilot)
        assert cells(app, "approvals") == []
        await pilot.press("d")  # nothing pending: the key does nothing
        await settle(app, pilot)
    with ApprovalStore(db_path()) as approvals:
        assert approvals.get(held.id).state == "denied"  # type: ignore[union-attr]
    assert [e["approval.id"] for e in _audited("approval.deny")] == [held.id]
    assert not _audited("grant.create")


async def test_it_heartbeats_while_running_and_detaches_on_exit() -> None:
    import time

    app = make(time.time)  # type: ignore[arg-type]
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        with ApprovalStore(db_path()) as approvals:
            assert approvals.attached(time.time())
    with ApprovalStore(db_path()) as approvals:
        assert not approvals.attached(time.time())


async def test_a_corrupt_database_is_a_status_line(clock: Clock) -> None:
    db_path().parent.mkdir(parents=True, exist_ok=True)
    db_path().write_bytes(b"this is not a database" * 100)
    app = make(clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        status = str(app.query_one("#status").render())
        assert "state:" in status and "not a database" in status
        await pilot.press("g", "2", "r")  # keys still work, nothing breaks
        await settle(app, pilot)
        assert app.is_running


async def test_a_locked_database_is_a_status_line_then_recovers(clock: Clock) -> None:
    GrantStore(db_path()).close()
    blocker = sqlite3.connect(db_path(), isolation_level=None)  # another writer holds the lock
    blocker.execute("BEGIN EXCLUSIVE")
    app = make(clock)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            assert app._state_busy  # the worker waits out the busy timeout …
            await pilot.press("g")  # … while the UI still answers keys
            assert app.query_one("TabbedContent").active == "grants"
            await settle(app, pilot)
            assert "locked" in str(app.query_one("#status").render())
            blocker.execute("ROLLBACK")
            await tick(app, pilot)
            assert "state:" not in str(app.query_one("#status").render())
    finally:
        blocker.close()


async def test_help_opens_and_closes(clock: Clock) -> None:
    app = make(clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("question_mark")
        assert type(app.screen).__name__ == "HelpScreen"
        await pilot.press("escape")
        assert type(app.screen).__name__ == "Screen"


async def test_the_traffic_table_is_capped(clock: Clock, audit_log: AuditLog) -> None:
    for i in range(120):
        audit_log.append(call(f"tool-{i}"))
    app = make(clock, cap=50)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        rows = cells(app, "traffic")
        assert len(rows) == 50 and rows[-1][3] == "tool-119"
        for i in range(120, 700):
            audit_log.append(call(f"tool-{i}"))
        await tick(app, pilot)
        rows = cells(app, "traffic")
        assert len(rows) == 50 and rows[-1][3] == "tool-699"
        assert len(app.recent) == 50


async def test_keys_move_through_the_traffic_and_stop_following(
    clock: Clock, audit_log: AuditLog
) -> None:
    for i in range(100):
        audit_log.append(call(f"tool-{i}"))
    app = make(clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert app.traffic.cursor == 100  # the newest row (after session.start)
        await pilot.press("home")
        assert app.traffic.cursor == 0
        assert '"event": "session.start"' in str(app.query_one("#detail-body").render())
        await pilot.press("pagedown", "down")
        at = app.traffic.cursor
        assert at > 1
        audit_log.append(call("newer"))
        await tick(app, pilot)
        assert app.traffic.cursor == at  # not following: the selection stays
        await pilot.press("end")
        assert cells(app, "traffic")[app.traffic.cursor][3] == "newer"
        audit_log.append(call("newest"))
        await tick(app, pilot)
        assert cells(app, "traffic")[app.traffic.cursor][3] == "newest"  # following again
        # While the help is on top, the main screen keeps updating.
        await pilot.press("question_mark")
        audit_log.append(call("behind-help"))
        await tick(app, pilot)
        assert cells(app, "traffic")[-1][3] == "behind-help"
        assert "104 records" in str(app._widget("#status").render())


async def test_a_call_to_a_never_listed_tool_cannot_be_granted_from_the_queue(
    clock: Clock,
) -> None:
    held = hold("unlisted", clock.now, digest=None)
    app = make(clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("a", "1")
        await settle(app, pilot)
        messages = [n.message for n in app._notifications]
        assert any("never listed" in m for m in messages), messages
        assert cells(app, "approvals")[0][0] == held.id  # still held, still answerable
    with GrantStore(db_path()) as store:
        assert store.grants(include_inactive=True) == []


async def test_server_supplied_names_are_never_markup(clock: Clock, audit_log: AuditLog) -> None:
    hostile = "[/]x[link=https://evil.example]y"
    audit_log.append(call(hostile))
    hold(hostile, clock.now)
    app = make(clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert cells(app, "traffic")[-1][3] == hostile
        assert cells(app, "approvals")[0][2] == hostile
        assert any(hostile in n.message for n in app._notifications)
        assert app.is_running


def _body(app: ZtmcpApp) -> str:
    return str(app._widget("#approval-body").render())


async def test_the_held_call_shows_what_a_person_needs_to_judge_it(clock: Clock) -> None:
    secret = "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
    held = hold("get-env", clock.now - 5, detail=judged())
    app = make(clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("a")
        await settle(app, pilot)
        assert cells(app, "approvals") == [
            [held.id, "everything", "get-env", "release-bot", "5s", "55s"]
        ]
        body = _body(app)
        for shown in (
            "get-env on server everything",
            "agent: release-bot (client claude-code/2.1)",
            "why held: tool 'get-env' on server 'everything' needs a just-in-time grant",
            "tool says: Returns the value of one environment variable",
            "arguments (2 secrets masked):",
            'name: "DATABASE_URL"',
            "ghp_…(40 chars)",
            "o: allow once · 1: grant 5m00s",
            "d: deny",
        ):
            assert shown in body, (shown, body)
        assert secret not in body and "Zx9Zx9" not in body
        await pilot.press("o")  # allow this call once: no grant is made
        await settle(app, pilot)
        assert cells(app, "approvals") == []
        assert "No call is held" in _body(app)
    with ApprovalStore(db_path()) as approvals:
        decided = approvals.get(held.id)
    assert decided is not None and decided.state == "once" and decided.decided_by == "dev"
    assert decided.grant_id is None
    with GrantStore(db_path()) as store:
        assert store.grants(include_inactive=True) == []
    assert [e["approval.id"] for e in _audited("approval.once")] == [held.id]


async def test_an_ask_call_offers_once_and_deny_but_no_grant(clock: Clock) -> None:
    held = hold("get-env", clock.now, detail=judged(ask=True))
    app = make(clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("a")
        await settle(app, pilot)
        body = _body(app)
        assert "o: allow once · d: deny" in body and "grant 5m" not in body
        assert "asks a person about every call" in body
        await pilot.press("2")  # a grant would not answer an "ask": the key does nothing
        await settle(app, pilot)
        assert [row[0] for row in cells(app, "approvals")] == [held.id]
        await pilot.press("d")
        await settle(app, pilot)
        assert cells(app, "approvals") == []
    with ApprovalStore(db_path()) as approvals:
        assert approvals.get(held.id).state == "denied"  # type: ignore[union-attr]
    assert not _audited("grant.create")


async def test_traffic_is_in_time_order_across_sessions_and_opens_at_the_newest(
    clock: Clock,
) -> None:
    directory = paths.audit_dir()
    older = AuditLog(directory / "20270115T070000Z-alpha-00000000000000a1.jsonl", "a1" * 8)
    newer = AuditLog(directory / "20270115T090000Z-beta-00000000000000b2.jsonl", "b2" * 8)
    for i in range(60):  # two sessions at once: their records interleave in time
        older.append({**call(f"a{i:02d}"), "server": "alpha"}, ts=T0 + 2 * i)
        newer.append({**call(f"b{i:02d}"), "server": "beta"}, ts=T0 + 2 * i + 1)
    older.append({**call("late"), "server": "alpha"}, ts=T0 + 500)  # the newest of all
    app = make(clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        rows = cells(app, "traffic")
        times = [row[0] for row in rows]
        assert times == sorted(times), "traffic is not in time order"
        tools = [row[3] for row in rows if row[3]]
        assert tools[:4] == ["a00", "b00", "a01", "b01"] and tools[-1] == "late"
        view = app.traffic
        assert view.cursor == len(rows) - 1  # the newest is selected …
        assert view.scroll_y == view.max_scroll_y > 0  # … and on screen
        screen = "\n".join(
            line.text for line in (view.render_line(y) for y in range(view.size.height))
        )
        assert "late" in screen
        # At 80 columns every column is there, the outcome included.
        assert "forwarded" in screen and "outcome" in screen, screen
        await pilot.press("a")
        await settle(app, pilot)
        await pilot.press("t")
        await settle(app, pilot)
        assert app.traffic.cursor == len(rows) - 1
    older.close()
    newer.close()


async def test_a_held_call_is_also_a_desktop_notification_with_secrets_masked(
    clock: Clock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json as jsonlib
    import os
    import sys
    import time

    out = tmp_path / "notified.json"
    fake = tmp_path / "bin" / "notify-send"
    fake.parent.mkdir()
    fake.write_text(
        f"#!{sys.executable}\nimport json, sys\n"
        f"open({str(out)!r}, 'w').write(json.dumps(sys.argv[1:]))\n"
    )
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ.get('PATH', '')}")
    hold("get-env", clock.now, detail=judged())
    app = make(clock, desktop=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
    deadline = time.monotonic() + 10
    while not out.exists():
        assert time.monotonic() < deadline, "no notification"
        time.sleep(0.02)
    time.sleep(0.05)
    args = jsonlib.loads(out.read_text())
    title, body = args[-2], args[-1]
    assert title == "ztmcp: release-bot wants get-env on everything"
    assert "needs a just-in-time grant" in body and 'name: "DATABASE_URL"' in body
    assert "ghp_…(40 chars)" in body and "A1b2C3d4E5f6" not in body
    assert "answer in ztmcp tui" in body
