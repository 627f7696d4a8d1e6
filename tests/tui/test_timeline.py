"""The Timeline tab: pure rows, then the app over real audit logs written by the real
``AuditLog`` (an agent's ``ztmcp watch`` log and the ``ztmcp run`` session it started), live
appends, and screenshots at 80x24 and 160x45."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tests.fifo import unwritten_fifo
from tests.tui.conftest import T0, Clock, call, make, settle, tick_until
from ztmcp.state import paths
from ztmcp.state.audit import AuditLog
from ztmcp.terminal import unsafe
from ztmcp.tui.timeline import MIN_LAST, TimelinePane, Tone, first_record, row, widths_for
from ztmcp.watch.providers import digest
from ztmcp.watch.timeline import mcp_call_fields

AGENT = "release-bot"
SUM = {"a": 2, "b": 3}
Compare = Callable[..., bool]


def llm(calls: list[str], args: dict[str, Any] = SUM, **extra: Any) -> dict[str, Any]:
    """The ``llm.call`` record ``ztmcp watch`` writes for one model turn."""
    return {
        "event": "llm.call",
        "gen_ai.agent.name": AGENT,
        "gen_ai.provider.name": "openai",
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "gpt-4o",
        "gen_ai.response.model": "gpt-4o-2024-08-06",
        "gen_ai.request.stream": False,
        "gen_ai.usage.input_tokens": 120,
        "gen_ai.usage.output_tokens": 31,
        "http.response.status_code": 200,
        "ztmcp.action": "allow",
        "ztmcp.findings": [],
        "gen_ai.response.tool_calls": [
            {"id": f"call_{n}", "name": n, "arguments_sha256": digest(args)} for n in calls
        ],
        **extra,
    }


def mcp(tool: str, args: dict[str, Any], outcome: str = "forwarded", **extra: Any) -> Any:
    """``ztmcp run``'s record of a ``tools/call`` request (with its argument digest)."""
    return call(tool, outcome, **mcp_call_fields({"name": tool, "arguments": args}), **extra)


TRIFECTA = {
    "check": "flow",
    "action": "deny",
    "rule": "flow.trifecta",
    "severity": "high",
    "reason": "private data (call 1) and untrusted content (call 2) seen; send-email sends out",
}


# -- pure rows ------------------------------------------------------------------------------


def test_rows_per_kind() -> None:
    base = {"ts": "2027-01-15T08:00:01.250000Z", "mcp.session.id": "w", "seq": 4}
    turn = row({**base, **llm(["get-sum", "echo"])})
    assert turn.key == "w:4" and turn.tone is Tone.PLAIN
    assert turn.cells == (
        "08:00:01.250",
        "llm",
        "openai",
        "gpt-4o-2024-08-06",
        "#4 · 120/31 tok · asks get-sum, echo",
    )
    linked = row(
        {**base, **mcp("get-sum", SUM), "ztmcp.link": {"llm.seq": 4, "gen_ai.tool.call.id": "c"}}
    )
    assert linked.cells[1:] == ("call→", "everything", "get-sum", "← llm #4 c · forwarded")
    assert linked.tone is Tone.PLAIN
    plain = row({**base, **mcp("echo", {}, "denied", verdicts=[{"rule": "access.x"}])})
    assert plain.cells[4] == "denied access.x: " and plain.tone is Tone.DENIED
    lone = row({**base, **mcp("echo", {}), "ztmcp.unprompted": True})
    assert lone.cells[4] == "UNPROMPTED · forwarded" and lone.tone is Tone.WARNING
    flow = row({**base, **mcp("send-email", {}, "denied", verdicts=[TRIFECTA])})
    assert flow.tone is Tone.FINDING and flow.cells[4].startswith("denied flow.trifecta: private")
    egress = row(
        {
            **base,
            "event": "egress",
            "server": "everything",
            "egress.verdict": "deny",
            "server.address": "evil.example",
            "server.port": 443,
            "egress.rule": "default",
        }
    )
    assert egress.cells[1:4] == ("egress", "everything", "evil.example:443")
    assert egress.cells[4].startswith("deny") and egress.tone is Tone.DENIED
    revoke = row({**base, "event": "flow.revoke", "rule": "flow.trifecta", "grant.ids": ["g1"]})
    assert revoke.tone is Tone.FINDING and revoke.cells[4] == "the run's grants revoked: 1"
    refused = row({**base, **llm([]), "ztmcp.action": "deny", "ztmcp.findings": ["secret"]})
    assert refused.tone is Tone.DENIED and "findings secret" in refused.cells[4]


FIELDS = [*llm(["t"]), "server", "verdicts", "ztmcp.link", "ztmcp.unprompted", "egress.findings"]
VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


@given(
    st.dictionaries(st.sampled_from(FIELDS), VALUES),
    st.sampled_from(["llm.call", "message", "egress", "egress.end", "flow.revoke", "x"]),
)
@example({"gen_ai.response.tool_calls": 5}, "llm.call")
@example({"egress.findings": 5}, "egress")  # a type no writer uses: the row says so
def test_any_record_gives_printable_cells(fields: dict[str, Any], event: str) -> None:
    """Whatever an agent or a server put in a record, a row is five strings with nothing that
    could act on the terminal (``terminal.safe``)."""
    made = row({"ts": "2027-01-15T08:00:01.250000Z", "event": event, **fields})
    assert len(made.cells) == 5
    assert not any(unsafe(ch) for cell in made.cells for ch in cell)


def test_columns_fit_80_columns() -> None:
    width = 80 - 14 - 2  # the agent list and its border, the view's scroll bar
    widths = widths_for(width)
    assert width - sum(w + 2 for w in widths) - 2 >= MIN_LAST  # the detail keeps 20 cells
    assert widths[0] == 8  # HH:MM:SS


# -- the app --------------------------------------------------------------------------------


@pytest.fixture()
def logs() -> Iterator[tuple[AuditLog, AuditLog]]:
    """The agent's ``ztmcp watch`` log and the ``ztmcp run`` session it started (whose start
    names the agent; its messages do not), plus another agent's session, in fixed files."""
    directory = paths.audit_dir()
    watch = AuditLog(directory / "20270115T080000Z-watch-00000000000000bb.jsonl", "bb" * 8)
    run = AuditLog(directory / "20270115T080000Z-everything-00000000000000cc.jsonl", "cc" * 8)
    other = AuditLog(directory / "20270115T080000Z-memory-00000000000000dd.jsonl", "dd" * 8)
    watch.append({"event": "session.start", "server": "watch", **_who()}, ts=T0 - 60)
    run.append(
        {"event": "session.start", "server": "everything", "mode": "enforce", **_who()},
        ts=T0 - 59,
    )
    other.append(
        {"event": "session.start", "server": "memory", "gen_ai.agent.name": "nightly"}, ts=T0 - 58
    )
    watch.append(llm(["get-sum"]), ts=T0 - 50)
    run.append(mcp("get-sum", SUM, **{"jsonrpc.request.id": 2}), ts=T0 - 49)
    other.append({**mcp("read_graph", {}), "server": "memory"}, ts=T0 - 48)
    run.append(mcp("echo", {"message": "hi"}, **{"jsonrpc.request.id": 3}), ts=T0 - 40)
    run.append(
        {
            "event": "egress",
            "server": "everything",
            "egress.verdict": "deny",
            "server.address": "exfil.example",
            "server.port": 443,
            "egress.rule": "not in the profile",
        },
        ts=T0 - 35,
    )
    run.append(mcp("send-email", {"to": "x"}, "denied", verdicts=[TRIFECTA]), ts=T0 - 30)
    yield watch, run
    for log in (watch, run, other):
        log.close()


def _who() -> dict[str, Any]:
    return {"gen_ai.agent.name": AGENT, "user.name": "dev"}


def _rows(pane: TimelinePane) -> list[tuple[str, ...]]:
    return pane.view.rows()


@pytest.mark.anyio
async def test_the_agents_timeline_in_order_and_live(
    clock: Clock, logs: tuple[AuditLog, AuditLog]
) -> None:
    watch, run = logs
    app = make(clock, heartbeat=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        await pilot.press("l")
        await settle(app, pilot)
        pane = app.query_one(TimelinePane)
        assert pane.agents == {AGENT, "nightly"}
        assert pane.agent == AGENT  # the agent of the newest record
        shown = [(r[1], r[2], r[3], r[4].split(" · ")[0], r[5]) for r in _rows(pane)]
        assert shown == [
            ("·", "watch", "session.start", "", "plain"),
            ("·", "everything", "session.start", "enforce", "plain"),
            ("llm", "openai", "gpt-4o-2024-08-06", "#1", "plain"),
            ("call→", "everything", "get-sum", "← llm #1 call_get-sum", "plain"),
            ("call→", "everything", "echo", "UNPROMPTED", "warning"),
            ("egress", "everything", "exfil.example:443", shown[5][3], "denied"),
            ("call→", "everything", "send-email", shown[6][3], "finding"),
        ]
        reason = str(TRIFECTA["reason"])
        assert _rows(pane)[6][4] == f"denied flow.trifecta: {reason} · UNPROMPTED"
        assert pane.view.cursor == len(shown) - 1  # at the newest record
        detail = str(app.query_one("#timeline-body").render())
        assert "high deny flow.trifecta" in detail

        # Live: a new model turn and the call it asked for are appended, nothing re-read.
        records_before = len(pane.records)
        watch.append(llm(["echo"]), ts=T0 - 20)
        run.append(mcp("echo", SUM), ts=T0 - 19)
        run.append(mcp("send-email", {"to": "y"}, "denied", verdicts=[TRIFECTA]), ts=T0 - 18)
        await tick_until(app, pilot, lambda: pane.view.row_count == len(shown) + 3)
        assert len(pane.records) == records_before + 3
        tail = _rows(pane)[-3:]
        assert [r[1] for r in tail] == ["llm", "call→", "call→"]
        assert tail[1][4].startswith("← llm #2 call_echo")
        assert tail[2][5] == "finding"
        assert pane.view.cursor == pane.view.row_count - 1  # still following the newest
        assert any("flow.trifecta" in n.message for n in app._notifications)

        # A streamed turn, written when it ended, that the agent could read before the echo
        # call shown as unprompted: the window is linked again and the row says so.
        streamed = llm(["echo"], {"message": "hi"}, **{"gen_ai.request.stream": True})
        streamed.update({"ztmcp.latency_ms": 30_000.0, "ztmcp.time_to_first_chunk_ms": 1000.0})
        watch.append(streamed, ts=T0 - 15)  # readable from T0 - 44, before the call at T0 - 40
        await tick_until(app, pilot, lambda: _rows(pane)[4][4].startswith("← llm #3"))
        assert _rows(pane)[4][3] == "echo" and _rows(pane)[4][5] == "plain"
        assert pane.view.cursor == pane.view.row_count - 1  # still at the newest

        # Another agent: its own timeline, from the records in memory.
        pane.select("nightly")
        await pilot.pause()
        assert [r[3] for r in _rows(pane)] == ["session.start", "read_graph"]
        assert _rows(pane)[1][4] == "UNPROMPTED · forwarded"


@pytest.mark.anyio
async def test_the_view_is_bounded(clock: Clock, logs: tuple[AuditLog, AuditLog]) -> None:
    _, run = logs
    app = make(clock, heartbeat=False, cap=6)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        pane = app.query_one(TimelinePane)
        for n in range(5):
            run.append(mcp("echo", {"n": n}), ts=T0 - 10 + n)
        await tick_until(app, pilot, lambda: _rows(pane)[-1][0] == "07:59:54.000")
        assert pane.view.row_count == 6  # the window: the agent's newest six records
        assert [r[3] for r in _rows(pane)[-5:]] == ["echo"] * 5
        assert len(pane.records) == 6
        assert pane.live is not None and len(pane.live.linked) == 6


@pytest.mark.anyio
async def test_an_anomaly_shows_live(clock: Clock, logs: tuple[AuditLog, AuditLog]) -> None:
    """A burst of calls, judged against the baselines the history taught (one ``echo`` call
    a minute), is a highlighted row next to the call that crossed the line, and a notice."""
    _, run = logs
    app = make(clock, heartbeat=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        pane = app.query_one(TimelinePane)
        before = pane.view.row_count
        for n in range(6):
            run.append(mcp("echo", {"n": n}), ts=T0 - 20 + n)
        await tick_until(app, pilot, lambda: pane.view.row_count >= before + 7)
        tail = _rows(pane)[-2:]
        assert [r[1] for r in tail] == ["call→", "anom."]
        assert tail[0][0] == tail[1][0]  # in the call's place
        assert tail[1][3:] == ("echo", "burst: `echo` called 6 times in 60 s; usual at most 1",
                               "finding")  # fmt: skip
        assert pane.view.row_count == before + 7  # five calls within the usual, one beyond
        assert any("burst anomaly" in n.message for n in app._notifications)


@pytest.mark.anyio
async def test_hostile_names_are_escaped(clock: Clock) -> None:
    """An agent name and a tool name that carry terminal controls reach the screen escaped."""
    name = "bot\x1b]52;c;ZXZpbA==\x07\nroot"
    log = AuditLog(paths.audit_dir() / "20270115T080000Z-x-00000000000000ee.jsonl", "ee" * 8)
    log.append({"event": "session.start", "server": "x", "gen_ai.agent.name": name}, ts=T0 - 5)
    log.append(mcp("\x1b[2Jwipe\u202e", {}), ts=T0 - 4)
    app = make(clock, heartbeat=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        pane = app.query_one(TimelinePane)
        assert pane.agent == name
        table = pane.query_one("#timeline-table")
        shown = str(table.get_row_at(0)[0])  # type: ignore[attr-defined]
        assert shown == "bot\\u001b]52;c;ZXZpbA==\\u0007\\u000aroot"
        assert _rows(pane)[1][3] == "\\u001b[2Jwipe\\u202e"
    log.close()


@pytest.mark.anyio
async def test_the_agent_list_is_bounded(clock: Clock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("ztmcp.tui.timeline.MAX_AGENTS", 2)
    log = AuditLog(paths.audit_dir() / "20270115T080000Z-x-00000000000000ff.jsonl", "ff" * 8)
    for n, name in enumerate(["a", "b", "c", "c", "d"]):
        log.append({"event": "session.start", "gen_ai.agent.name": name}, ts=T0 - 9 + n)
    app = make(clock, heartbeat=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        pane = app.query_one(TimelinePane)
        table = pane.query_one("#timeline-table")
        names = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]  # type: ignore[attr-defined]
        assert names == ["a", "b", "2+ more, not listed"]  # counted up to the bound
        assert pane.agent == "b"  # the agent of the newest record that is listed
    log.close()


def test_anomalies_are_judged_against_the_history() -> None:
    from ztmcp.state.baselines import Detector, learn
    from ztmcp.tui.timeline import anomalies

    def at(second: int, tool: str = "echo") -> dict[str, Any]:
        return {**mcp(tool, {}), "ts": f"2027-01-15T08:00:{second:02d}Z", "seq": second}

    history = [at(s) for s in range(0, 8)]  # eight calls a minute is usual
    detector = Detector(learn(history))
    calm = anomalies(detector, [{**at(s), "ts": f"2027-01-15T09:00:{s:02d}Z"} for s in range(8)])
    assert calm == []
    burst = anomalies(
        detector, [{**at(s), "ts": f"2027-01-15T09:00:{s:02d}Z"} for s in range(8, 17)]
    )
    assert [(a["anomaly.kind"], a["seq"]) for a in burst] == [("burst", 16)]  # the 17th > 2 x 8


# -- screenshots ----------------------------------------------------------------------------


def _keys(*keys: str) -> Callable[[Any], Any]:
    async def run_before(pilot: Any) -> None:
        await pilot.app.settle()
        await pilot.pause()
        await pilot.press(*keys)
        await pilot.app.settle()
        pilot.app.clear_notifications()
        await pilot.pause()
        await pilot.wait_for_scheduled_animations()

    return run_before


@pytest.mark.parametrize("size", [(80, 24), (160, 45)], ids=["80x24", "160x45"])
def test_timeline_snapshot(
    snap_compare: Compare,
    clock: Clock,
    logs: tuple[AuditLog, AuditLog],
    size: tuple[int, int],
) -> None:
    app = make(clock, heartbeat=False)
    assert snap_compare(app, terminal_size=size, run_before=_keys("l"))


def test_first_record_of_a_fifo_is_none_not_a_wait(tmp_path: Path) -> None:
    # The pane reads a session's first record from a log it already read from; a FIFO put in
    # its place blocked the TUI's event loop until someone wrote to it.
    with unwritten_fifo(tmp_path / "20260101T000000Z-s-0f.jsonl") as fifo:
        assert first_record(fifo) is None
