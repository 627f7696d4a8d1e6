"""``ztmcp report``: a scripted day of work through the real proxy pipeline, and its numbers.

The day runs a real ``Session`` with the ``access`` check, the real ``GrantLookup`` and
``AccessEdge`` (held calls, sliding renewal), the real ``Operator`` for every grant, approval,
denial, revocation and expiry (as ``ztmcp grant`` / ``revoke`` and the TUI use it), real SQLite
and the real chained audit log. Only the clock is scripted: the Session, the edge and the
stores take it as an argument; the audit log's time stamps and the hold's monotonic timer read
it through the ``time`` name of their modules, swapped for the length of the day.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from typer.testing import CliRunner

import ztmcp.holds
import ztmcp.state.audit
from ztmcp.checks.access import AccessCheck, Rule
from ztmcp.cli.app import app
from ztmcp.cli.report_cmd import format_wait
from ztmcp.holds import AccessEdge
from ztmcp.jsonrpc import Direction
from ztmcp.report import build_report, format_seconds, grant_intervals, parse_ts, union_seconds
from ztmcp.session import Decision, Outcome, Session
from ztmcp.state import paths
from ztmcp.state.approvals import Operator
from ztmcp.state.audit import AuditLog, read_records, session_files, verify_file
from ztmcp.state.grants import Grant, GrantLookup, GrantStore, db_path, tool_digest

runner = CliRunner()
DAY = 86400.0
H, M = 3600.0, 60.0
DIGEST = "ab" * 32
BOUND = 10.0  # real seconds: no wait in these tests lasts longer


def _tool(name: str, read_only: bool = False) -> dict[str, Any]:
    return {
        "name": name,
        "description": f"{name} on the project tree",
        "inputSchema": {"type": "object"},
        "annotations": {"readOnlyHint": read_only, "destructiveHint": not read_only},
    }


TOOLS = {name: _tool(name) for name in ("write_file", "delete_file", "edit_file", "run_shell")}
RULES = [Rule("fs", "run_shell", "deny"), Rule("fs", "*_file", "grant")]
HOLD_SECONDS = 300.0  # [access] hold_seconds of the scripted day


class Clock:
    """The scripted time, in epoch seconds; stands in for the ``time`` module where read."""

    def __init__(self, now: float) -> None:
        self.now = now

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.now


@contextmanager
def scripted(clock: Clock) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ztmcp.state.audit, "time", clock)  # record time stamps
        patch.setattr(ztmcp.holds, "time", clock)  # a hold's wait and its held_ms
        yield


def until[V](probe: Callable[[], V], what: str) -> V:
    """Poll ``probe`` (real time, bounded) until it gives something true."""
    deadline = time.monotonic() + BOUND
    while not (value := probe()):
        assert time.monotonic() < deadline, what
        time.sleep(0.005)
    return value


@dataclass
class Proxy:
    """``ztmcp run --name fs`` as an adapter drives it: frames in, Decisions out."""

    session: Session
    pool: ThreadPoolExecutor
    next_id: int = 0
    answered: list[int] = field(default_factory=list)

    def send(self, body: dict[str, Any]) -> Decision:
        return self.session.handle(Direction.TO_SERVER, json.dumps(body).encode())

    def call(self, tool: str, expect: Outcome) -> int:
        self.next_id += 1
        params = {"name": tool, "arguments": {"path": "/src/app.py"}}
        decision = self.send(
            {"jsonrpc": "2.0", "id": self.next_id, "method": "tools/call", "params": params}
        )
        assert decision.outcome is expect, (tool, decision)
        return self.next_id

    def answer(self, msg_id: int) -> None:
        """The server's answer: recorded as a response, never as a second call."""
        result = {"content": [{"type": "text", "text": "ok"}]}
        body = {"jsonrpc": "2.0", "id": msg_id, "result": result}
        self.session.handle(Direction.TO_CLIENT, json.dumps(body).encode())

    def hold(self, tool: str) -> tuple[int, Future[Decision]]:
        """A call held for approval; its wait runs off the reading thread, as in an adapter."""
        self.next_id += 1
        params = {"name": tool, "arguments": {"path": "/src/app.py"}}
        decision = self.send(
            {"jsonrpc": "2.0", "id": self.next_id, "method": "tools/call", "params": params}
        )
        assert decision.outcome is Outcome.HELD and decision.hold is not None, decision
        return self.next_id, self.pool.submit(decision.hold.wait)


@dataclass(frozen=True)
class Day:
    grants: dict[str, Grant]  # "g1" write_file, "g2" delete_file, "g3" edit_file (approved)
    approvals: dict[str, str]  # how each hold ended -> its approval id


def scripted_day(t0: float) -> Day:
    """One day on server fs, four tools, from T0 (all times below are T0 + hh:mm[:ss]).

    write_file: refused 09:00, granted 09:01 for 15m (g1), 3 calls in the grant, refused 09:20.
    edit_file: 10:00 held (the TUI is attached), approved 10:02 for 15m renewing by 10m up to
      40m (g3): the held call goes on; calls 10:12, 10:20, 10:28, 10:36 slide the expiry to
      10:22, 10:30, 10:38 and (the cap, not 10:46) 10:42. Held 10:50, nobody decides: refused 10:55.
      Held 10:56, denied 10:56:45. Held 11:30, cancelled by the agent 11:31.
    run_shell: denied by a rule at 11:00 and 16:00, never granted.
    delete_file: refused 14:00, granted 14:01 for 15m (g2), one call 14:03, revoked 14:06,
      refused 14:07.
    Expiries are recorded by the next Operator command after them (10:02: g1; 14:01: g3).
    """
    clock = Clock(t0 + 8 * H)

    def at(hours: float, minutes: float = 0.0, seconds: float = 0.0) -> None:
        assert t0 + hours * H + minutes * M + seconds >= clock.now, "time runs forward"
        clock.now = t0 + hours * H + minutes * M + seconds

    grants: dict[str, Grant] = {}
    approvals: dict[str, str] = {}
    with scripted(clock), ExitStack() as stack:  # on a failure too: holds end, files close
        pool = stack.enter_context(ThreadPoolExecutor(2))
        lookup = GrantLookup(db_path())
        stack.callback(lookup.close)
        check = AccessCheck(RULES, "allow", lookup, hold_seconds=HOLD_SECONDS)
        log = AuditLog.create(paths.audit_dir(), "fs")
        edge = AccessEdge(
            lookup, hold_seconds=HOLD_SECONDS, session_id=log.session_id, clock=clock.time
        )
        proxy = Proxy(Session("fs", [check], log, clock=clock.time, edge=edge), pool)
        stack.callback(proxy.session.close, "agent closed stdin")  # at 16:30, or on a failure
        at(8, 1)
        proxy.send({"jsonrpc": "2.0", "id": 0, "method": "tools/list"})
        listing = {"jsonrpc": "2.0", "id": 0, "result": {"tools": list(TOOLS.values())}}
        proxy.session.handle(Direction.TO_CLIENT, json.dumps(listing).encode())

        def cli[R](action: Callable[[Operator], R]) -> R:
            """One ``ztmcp grant`` / ``revoke`` command: an Operator and a log of its own."""
            with Operator("ztmcp-cli", clock=clock.time) as ops:
                return action(ops)

        def grant(tool: str) -> Grant:
            digest = tool_digest(TOOLS[tool])
            return cli(lambda ops: ops.grant("fs", tool, 15 * M, digest=digest, why="task"))

        at(9)
        proxy.call("write_file", Outcome.DENIED)
        at(9, 1)
        grants["g1"] = grant("write_file")
        for minute in (2, 5, 10):
            at(9, minute)
            done = proxy.call("write_file", Outcome.FLAGGED)
            at(9, minute, 1)
            proxy.answer(done)
        at(9, 20)
        proxy.call("write_file", Outcome.DENIED)

        tui = stack.enter_context(Operator("ztmcp-tui", clock=clock.time))
        store = tui.approvals

        def pending() -> str:
            queue = until(lambda: store.pending(clock.now), "no approval request appeared")
            assert len(queue) == 1
            return queue[0].id

        at(10)
        store.heartbeat("tui:alice", clock.now)
        msg_id, waiting = proxy.hold("edit_file")
        approvals["released"] = pending()
        at(10, 2)
        grants["g3"] = tui.approve(
            approvals["released"], seconds=15 * M, who="alice", renew=10 * M, cap=40 * M
        )
        assert waiting.result(timeout=BOUND).outcome is Outcome.FLAGGED
        proxy.answer(msg_id)
        g3 = grants["g3"].id
        with GrantStore() as reader:

            def expires() -> float | None:
                renewed = reader.get(g3)
                return None if renewed is None else renewed.expires

            for minute, slid_to in ((12, 22), (20, 30), (28, 38), (36, 42)):
                at(10, minute)
                proxy.answer(proxy.call("edit_file", Outcome.FLAGGED))
                # The edge writes renewals on a thread of its own: wait for this one to land.
                target = t0 + 10 * H + slid_to * M
                until(lambda: expires() == target, f"the {minute}-minute call was not renewed")  # noqa: B023
        at(10, 50)
        store.heartbeat("tui:alice", clock.now)
        _, waiting = proxy.hold("edit_file")
        approvals["expired"] = pending()
        at(10, 55)  # hold_seconds passed
        assert waiting.result(timeout=BOUND).outcome is Outcome.DENIED
        at(10, 56)
        store.heartbeat("tui:alice", clock.now)
        _, waiting = proxy.hold("edit_file")
        approvals["denied"] = pending()
        at(10, 56, 45)
        tui.deny(approvals["denied"], who="alice")
        assert waiting.result(timeout=BOUND).outcome is Outcome.DENIED
        at(11)
        proxy.call("run_shell", Outcome.DENIED)
        at(11, 30)
        store.heartbeat("tui:alice", clock.now)
        msg_id, waiting = proxy.hold("edit_file")
        approvals["cancelled"] = pending()
        at(11, 31)
        cancel = {"method": "notifications/cancelled", "params": {"requestId": msg_id}}
        assert proxy.send({"jsonrpc": "2.0", **cancel}).outcome is Outcome.DROPPED
        assert waiting.result(timeout=BOUND).outcome is Outcome.DROPPED
        store.detach("tui:alice")
        tui.close()

        at(14)
        proxy.call("delete_file", Outcome.DENIED)
        at(14, 1)
        grants["g2"] = grant("delete_file")
        at(14, 3)
        proxy.answer(proxy.call("delete_file", Outcome.FLAGGED))
        at(14, 6)
        assert cli(lambda ops: ops.revoke(grants["g2"].id)) is not None
        at(14, 7)
        proxy.call("delete_file", Outcome.DENIED)
        at(16)
        proxy.call("run_shell", Outcome.DENIED)
        at(16, 30)
    return Day(grants, approvals)


T0 = datetime(2026, 11, 24, tzinfo=UTC).timestamp()


def _records() -> list[dict[str, Any]]:
    return list(read_records(session_files(paths.audit_dir())))


def _call(
    tool: str, outcome: str, rule: str | None = None, grant: str | None = None, server: str = "fs"
) -> dict[str, Any]:
    """The fields ``Session`` records for a tools/call request (for the edge cases below)."""
    event: dict[str, Any] = {
        "event": "message",
        "server": server,
        "direction": "to_server",
        "kind": "request",
        "mcp.method.name": "tools/call",
        "gen_ai.tool.name": tool,
        "outcome": outcome,
    }
    if rule is not None:
        event["verdicts"] = [
            {
                "check": "access",
                "action": "deny",
                "rule": rule,
                "severity": "high",
                "reason": "refused",
                "evidence": f"tool.sha256={DIGEST}",
            }
        ]
    if grant is not None:
        event["verdicts"] = [
            {
                "check": "access",
                "action": "flag",
                "rule": "access.granted",
                "severity": "low",
                "reason": f"allowed by grant {grant}",
                "evidence": f"grant.id={grant}",
            }
        ]
    return event


def _grant_event(
    event: str,
    grant_id: str,
    tool: str,
    expires: float,
    server: str = "fs",
    renew: float | None = None,
    cap: float | None = None,
) -> dict[str, Any]:
    """The fields ``Grant.as_event`` gives a grant record (for logs no real writer produces)."""
    record: dict[str, Any] = {
        "event": event,
        "grant.id": grant_id,
        "server": server,
        "gen_ai.tool.name": tool,
        "tool.sha256": DIGEST,
        "grant.constraint": None,
        "user.name": "me",
        "reason": "scripted day",
        "grant.expires": expires,
    }
    if renew is not None:
        record["grant.renew"], record["grant.cap"] = renew, cap
    return record


def test_scripted_day_numbers() -> None:
    day = scripted_day(T0)
    assert all(verify_file(p).ok for p in session_files(paths.audit_dir()))
    report = build_report(_records(), T0, T0 + DAY)
    tools = {t.tool: t for t in report.tools}
    assert sorted(tools) == ["delete_file", "edit_file", "run_shell", "write_file"]

    write = tools["write_file"]
    assert write.granted_seconds == pytest.approx(15 * M)
    assert write.standing_seconds == DAY
    assert write.gated
    assert write.reduction == pytest.approx(100 * (1 - 900 / DAY))  # 98.96 %
    assert (write.allowed, write.allowed_by_grant) == (3, 3)
    assert write.denied == (("access.grant_required", 2),)
    assert (write.grants, write.grants_from_approvals, write.renewals, write.held) == (1, 0, 0, 0)

    delete = tools["delete_file"]
    assert delete.granted_seconds == pytest.approx(5 * M)  # 15m grant, revoked after 5m
    assert delete.reduction == pytest.approx(100 * (1 - 300 / DAY))  # 99.65 %
    assert (delete.allowed, delete.denied_total) == (1, 2)

    shell = tools["run_shell"]
    assert shell.granted_seconds == 0
    assert shell.reduction == 100.0
    assert shell.denied == (("access.denied", 2),)

    edit = tools["edit_file"]
    assert edit.gated
    # Given for 15m at 10:02, slid by four calls to its cap at 10:42 (grant.create alone: 15m).
    assert edit.granted_seconds == pytest.approx(40 * M)
    assert edit.reduction == pytest.approx(100 * (1 - 2400 / DAY))  # 97.22 %
    assert (edit.grants, edit.grants_from_approvals, edit.renewals) == (1, 1, 4)
    # The released held call and the four after it; the expired and the denied hold refused;
    # the cancelled one is neither.
    assert (edit.allowed, edit.allowed_by_grant) == (5, 5)
    assert edit.denied == (("access.grant_required", 2),)
    assert edit.held == 4
    assert edit.hold_ends == (("released", 1), ("denied", 1), ("expired", 1), ("cancelled", 1))
    assert sorted(edit.hold_waits_ms) == [45_000, 60_000, 120_000, 300_000]
    assert edit.hold_median_ms == 90_000

    # The original three tools keep their numbers: 20 minutes callable of 3 days.
    original = [write, delete, shell]
    assert sum(t.callable_seconds for t in original) == pytest.approx(20 * M)
    assert (sum(t.allowed for t in original), sum(t.denied_total for t in original)) == (4, 6)

    assert report.callable_seconds == pytest.approx(60 * M)
    assert report.standing_seconds == 4 * DAY
    assert report.reduction == pytest.approx(100 * (1 - 3600 / (4 * DAY)))
    assert round(report.reduction, 2) == 98.96
    assert (report.allowed, report.denied, report.held) == (9, 8, 4)
    assert report.hold_ends == {
        "released": 1,
        "denied": 1,
        "expired": 1,
        "cancelled": 1,
        "error": 0,
    }
    assert report.hold_median_ms == 90_000
    assert set(day.approvals) == {"released", "expired", "denied", "cancelled"}


def test_grant_intervals_follow_create_renew_expire_and_revoke() -> None:
    day = scripted_day(T0)
    g1, g2, g3 = (day.grants[name].id for name in ("g1", "g2", "g3"))
    records = _records()
    intervals = {i.grant_id: i for i in grant_intervals(records)}
    spans = {grant_id: (i.tool, i.end - i.start) for grant_id, i in intervals.items()}
    assert spans == {  # whole seconds: the scripted clock stays on them
        g1: ("write_file", 900.0),
        g2: ("delete_file", 300.0),
        g3: ("edit_file", 2400.0),
    }
    renewed = intervals[g3]
    assert renewed.given_end is not None and renewed.given_end - renewed.start == 900
    assert renewed.end == day.grants["g3"].cap  # never past the cap the creation recorded
    assert renewed.renewals == 4 and renewed.approval_id == day.approvals["released"]
    assert intervals[g1].approval_id is None and intervals[g1].renewals == 0
    # Each expiry record (written by the next Operator command) carries the end used here;
    # the revoked grant has none.
    expired = {r["grant.id"]: r["grant.expires"] for r in records if r["event"] == "grant.expire"}
    assert expired == {g1: intervals[g1].end, g3: renewed.end}
    renewals = [r["grant.expires"] for r in records if r["event"] == "grant.renew"]
    assert [r - T0 - 10 * H for r in renewals] == [22 * M, 30 * M, 38 * M, 42 * M]
    approved = [r for r in records if r["event"] == "approval.grant"]
    assert [r["grant.id"] for r in approved] == [g3]


def test_an_expiry_record_counts_a_renewal_whose_own_record_was_lost() -> None:
    """A proxy killed right after renewing never writes grant.renew; the database has the new
    expiry, and the next Operator command records it in grant.expire."""
    clock = Clock(T0)
    with scripted(clock):
        with Operator(clock=clock.time) as ops:
            given = ops.grant("fs", "edit_file", 15 * M, digest=None, renew=10 * M, cap=H)
        with GrantStore(clock=clock.time) as store:  # what the proxy's renewal writer does
            assert store.renew(given.id, T0 + 14 * M) is not None
        clock.now = T0 + 2 * H
        with Operator(clock=clock.time) as ops:
            (expired,) = ops.sweep()
    assert expired.expires == T0 + 24 * M
    (interval,) = grant_intervals(_records())
    assert (interval.start, interval.end, interval.renewals) == (T0, T0 + 24 * M, 0)


def test_renewals_never_reach_past_what_the_creation_record_allows() -> None:
    """Records no real writer produces (a forged or mixed-up log) cannot stretch a grant."""
    cli = AuditLog.create(paths.audit_dir(), "ztmcp-cli")
    # r: renews by 10m up to a 30m cap; fixed: no renewal window.
    r = _grant_event("grant.create", "r", "edit_file", T0 + 15 * M, renew=600, cap=T0 + 30 * M)
    cli.append(r, ts=T0)
    cli.append(_grant_event("grant.create", "fixed", "write_file", T0 + 15 * M), ts=T0)
    cut = _grant_event("grant.create", "cut", "move_file", T0 + 15 * M, renew=600, cap=T0 + H)
    cli.append(cut, ts=T0)
    cli.close()
    proxy = AuditLog.create(paths.audit_dir(), "fs")
    renew = "grant.renew"
    proxy.append(_grant_event(renew, "r", "edit_file", T0 + 2 * H, renew=600), ts=T0 + 5 * M)
    proxy.append(_grant_event(renew, "fixed", "write_file", T0 + H), ts=T0 + 5 * M)
    proxy.append(_grant_event(renew, "r", "other_tool", T0 + 3 * H, renew=600), ts=T0 + 6 * M)
    proxy.append(_grant_event(renew, "cut", "move_file", T0 + 40 * M, renew=600), ts=T0 + 20 * M)
    proxy.append(_grant_event(renew, "ghost", "edit_file", T0 + H, renew=600), ts=T0)
    proxy.close()
    ops = AuditLog.create(paths.audit_dir(), "ztmcp-cli")
    ops.append(_grant_event("grant.revoke", "cut", "move_file", T0 + 40 * M), ts=T0 + 25 * M)
    ops.close()
    ends = {i.grant_id: (i.end - T0) / M for i in grant_intervals(_records())}
    assert ends == {"r": 30, "fixed": 15, "cut": 25}  # the cap, no renewal, the revocation


def test_union_of_overlapping_grants_and_clipping() -> None:
    assert union_seconds([(0, 10), (5, 15), (20, 30)], 0, 100) == 25
    assert union_seconds([(0, 10), (2, 4)], 0, 100) == 10  # one inside another
    assert union_seconds([(-10, 10), (90, 110)], 0, 100) == 20  # both ends clipped
    assert union_seconds([(-10, -5), (100, 120)], 0, 100) == 0
    assert union_seconds([], 0, 100) == 0


def test_overlapping_grants_in_the_log_are_counted_once() -> None:
    cli = AuditLog.create(paths.audit_dir(), "ztmcp-cli")
    cli.append(_grant_event("grant.create", "a", "write_file", T0 + 15 * M), ts=T0)
    cli.append(_grant_event("grant.create", "b", "write_file", T0 + 25 * M), ts=T0 + 10 * M)
    # Given before the window opens, ends 30 minutes into it: only those 30 minutes count.
    cli.append(_grant_event("grant.create", "c", "read_file", T0 + DAY + 30 * M), ts=T0 + DAY - H)
    # Given for an hour, reaching past the window's end.
    cli.append(_grant_event("grant.create", "d", "move_file", T0 + 3 * DAY), ts=T0 + 2 * DAY - H)
    cli.close()
    report = build_report(_records(), T0 + DAY, T0 + 2 * DAY)
    assert [t.tool for t in report.tools] == ["move_file", "read_file"]  # write_file: outside
    tools = {t.tool: t for t in report.tools}
    assert tools["read_file"].granted_seconds == pytest.approx(30 * M)
    assert tools["move_file"].granted_seconds == pytest.approx(H)
    whole = build_report(_records(), T0, T0 + DAY)
    assert {t.tool: t.granted_seconds for t in whole.tools} == {
        "read_file": pytest.approx(H),
        "write_file": pytest.approx(25 * M),  # 0-15 and 10-25: 25 minutes, not 30
    }
    assert {t.tool: t.grants for t in whole.tools} == {"read_file": 1, "write_file": 2}


def test_a_tool_called_without_a_grant_is_not_gated() -> None:
    log = AuditLog.create(paths.audit_dir(), "fs")
    log.append(_call("read_file", "forwarded"), ts=T0 + H)
    log.append(_call("read_file", "denied", rule="poisoning.hidden_text"), ts=T0 + 2 * H)
    log.close()
    (tool,) = build_report(_records(), T0, T0 + DAY).tools
    assert not tool.gated
    assert tool.callable_seconds == DAY
    assert tool.reduction == 0.0
    assert (tool.allowed, tool.allowed_by_grant, tool.denied) == (
        1,
        0,
        (("poisoning.hidden_text", 1),),
    )


def test_calls_from_before_a_rule_existed_count_until_the_tool_was_gated() -> None:
    """Allowed without a grant at 1h (no rule yet); a `grant` rule then refused it at 3h and a
    grant opened 4h-5h: callable 0-3h and 4h-5h, not the whole day."""
    log = AuditLog.create(paths.audit_dir(), "fs")
    log.append(_call("write_file", "forwarded"), ts=T0 + H)
    log.append(_call("write_file", "denied", rule="access.grant_required"), ts=T0 + 3 * H)
    log.append(_grant_event("grant.create", "g1", "write_file", T0 + 5 * H), ts=T0 + 4 * H)
    log.append(_call("write_file", "flagged", grant="g1"), ts=T0 + 4 * H + 60)
    log.close()
    (tool,) = build_report(_records(), T0, T0 + DAY).tools
    assert tool.gated
    assert tool.ungated_seconds == pytest.approx(3 * H)
    assert tool.callable_seconds == pytest.approx(4 * H)
    assert tool.reduction == pytest.approx(100 * (1 - 4 / 24))
    assert (tool.allowed, tool.allowed_by_grant, tool.allowed_ungated) == (2, 1, 1)
    doc = tool.as_dict()
    assert doc["ungated_seconds"] == pytest.approx(3 * H) and doc["allowed_ungated"] == 1
    # Ungated again after the rule: standing access, the whole day (as before).
    again = AuditLog.create(paths.audit_dir(), "fs")
    again.append(_call("write_file", "forwarded"), ts=T0 + 6 * H)
    again.close()
    (tool,) = build_report(_records(), T0, T0 + DAY).tools
    assert not tool.gated and tool.callable_seconds == DAY


def test_the_total_line_reads_as_a_sentence() -> None:
    from ztmcp.cli.report_cmd import render_table

    log = AuditLog.create(paths.audit_dir(), "fs")
    log.append(_call("write_file", "forwarded"), ts=T0 + H)
    log.close()
    lines = render_table(build_report(_records(), T0, T0 + DAY))
    assert lines[-1] == (
        "total: 1 tool callable for 24h00m in all, against 24h00m under standing access "
        "(0.0% less exposure); 1 call allowed, 0 denied"
    )


def test_server_filter_and_window_bounds() -> None:
    scripted_day(T0)
    log = AuditLog.create(paths.audit_dir(), "git")
    log.append(_call("push", "denied", rule="access.grant_required", server="git"), ts=T0 + H)
    log.close()
    assert [t.tool for t in build_report(_records(), T0, T0 + DAY, server="git").tools] == ["push"]
    assert len(build_report(_records(), T0, T0 + DAY).tools) == 5
    # Only the morning: write_file's and edit_file's grants, calls and holds.
    morning = build_report(_records(), T0, T0 + 12 * H, server="fs")
    assert {t.tool: (t.allowed, t.denied_total, t.held) for t in morning.tools} == {
        "write_file": (3, 2, 0),
        "edit_file": (5, 2, 4),
        "run_shell": (0, 1, 0),
    }
    # From 10:51: the hold that began at 10:50 ended (expired) inside, its held record is out.
    late = build_report(_records(), T0 + 10 * H + 51 * M, T0 + 12 * H, server="fs")
    edit = next(t for t in late.tools if t.tool == "edit_file")
    assert (edit.held, dict(edit.hold_ends), edit.granted_seconds) == (
        2,
        {"expired": 1, "denied": 1, "cancelled": 1},
        0,
    )


def test_parse_ts_and_format_seconds() -> None:
    assert parse_ts("2026-11-24T00:00:00.000000Z") == T0
    assert parse_ts("yesterday") is None
    assert parse_ts(None) is None
    assert [format_seconds(s) for s in (0, 59.6, 300, DAY)] == ["0s", "1m00s", "5m00s", "24h00m"]
    assert [format_wait(ms) for ms in (12.3, 52_500, 90_000)] == ["12ms", "52.5s", "1m30s"]


# -- the command ----------------------------------------------------------------------------


def _recent_day() -> None:
    """The scripted day, placed so `--since 1d` run just now covers all of it."""
    scripted_day(float(int(time.time() - DAY + 60)))


def test_cli_table() -> None:
    _recent_day()
    result = runner.invoke(app, ["report", "--since", "1d"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("exposure over the last 1d (")
    assert lines[1].split() == [
        "SERVER",
        "TOOL",
        "UNDER",
        "GRANTS",
        "STANDING",
        "REDUCTION",
        "ALLOWED",
        "HELD",
        "DENIED",
    ]
    rows = {line.split()[1]: line.split() for line in lines[2:6]}
    assert rows["write_file"][2:8] == ["15m00s", "24h00m", "99.0%", "3", "0", "2"]
    assert rows["delete_file"][2:8] == ["5m00s", "24h00m", "99.7%", "1", "0", "2"]
    assert rows["edit_file"][2:8] == ["40m00s", "24h00m", "97.2%", "5", "4", "2"]
    assert rows["run_shell"][2:8] == ["0s", "24h00m", "100.0%", "0", "0", "2"]
    assert "(access.denied 2)" in lines[2 + sorted(rows).index("run_shell")]
    assert lines[6:] == [
        "total: 4 tools callable for 1h00m in all, against 96h00m under standing access "
        "(99.0% less exposure); 9 calls allowed, 8 denied",
        "grants: 3 given, 1 by approving a held call; 4 renewals slid their expiry",
        "held: 4 calls waited for approval (1 released, 1 denied, 1 expired, 1 cancelled), "
        "median wait 1m30s",
    ]


OLD_TOOL_KEYS = {
    "server",
    "tool",
    "gated",
    "granted_seconds",
    "callable_seconds",
    "standing_seconds",
    "reduction_percent",
    "allowed",
    "allowed_by_grant",
    "denied",
    "denied_by_rule",
}
OLD_TOTAL_KEYS = {
    "tools",
    "callable_seconds",
    "standing_seconds",
    "reduction_percent",
    "allowed",
    "denied",
}


def test_cli_json() -> None:
    _recent_day()
    result = runner.invoke(app, ["report", "--json", "--server", "fs"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["server"] == "fs"
    assert body["window"]["seconds"] == pytest.approx(DAY, abs=1)
    tools = {t["tool"]: t for t in body["tools"]}
    assert all(set(t) >= OLD_TOOL_KEYS for t in body["tools"])  # fields added, none renamed
    assert set(body["total"]) >= OLD_TOTAL_KEYS
    assert tools["delete_file"]["granted_seconds"] == pytest.approx(300)
    assert tools["delete_file"]["denied_by_rule"] == {"access.grant_required": 2}
    assert tools["write_file"]["reduction_percent"] == pytest.approx(98.96, abs=0.01)
    edit = tools["edit_file"]
    assert edit["granted_seconds"] == pytest.approx(2400)
    assert (edit["grants"], edit["grants_from_approvals"], edit["renewals"]) == (1, 1, 4)
    holds = {"released": 1, "denied": 1, "expired": 1, "cancelled": 1, "error": 0}
    assert (edit["held"], edit["holds"], edit["hold_median_ms"]) == (4, holds, 90000.0)
    assert tools["write_file"]["holds"] == dict.fromkeys(holds, 0)
    assert tools["write_file"]["hold_median_ms"] is None
    total = body["total"]
    assert total["reduction_percent"] == pytest.approx(98.96, abs=0.01)
    assert (total["allowed"], total["denied"], total["held"]) == (9, 8, 4)
    assert (total["grants"], total["grants_from_approvals"], total["renewals"]) == (3, 1, 4)
    assert (total["holds"], total["hold_median_ms"]) == (holds, 90000.0)


def test_cli_other_server_and_empty_window() -> None:
    _recent_day()
    result = runner.invoke(app, ["report", "--server", "nope"])
    assert result.exit_code == 0
    assert result.output.splitlines()[-1] == "no tool calls or grants in this window"


def test_cli_no_logs_and_bad_duration() -> None:
    result = runner.invoke(app, ["report"])
    assert result.exit_code == 0
    assert result.output.startswith("no audit logs in ")
    bad = runner.invoke(app, ["report", "--since", "yesterday"])
    assert bad.exit_code == 2
    error, hint = bad.output.strip().splitlines()  # the error line and its hint, no traceback
    assert error == "ztmcp: error: not a duration: 'yesterday'"
    assert hint.strip().startswith("hint: use a number and a unit")


def test_cli_with_grants_from_the_real_grant_commands(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("ztmcp.person.is_person_terminal", lambda: True)  # a person confirms
    log = AuditLog.create(paths.audit_dir(), "fs")
    log.append(_call("write_file", "denied", rule="access.grant_required"))
    log.append(_call("read_file", "denied", rule="access.grant_required"))
    log.close()
    given = runner.invoke(app, ["grant", "fs", "write_file", "--for", "15m"], input="write_file\n")
    assert given.exit_code == 0, given.output
    renewing = runner.invoke(
        app, ["grant", "fs", "read_file", "--for", "1h", "--renew", "5m"], input="read_file\n"
    )
    assert renewing.exit_code == 0, renewing.output
    grant_id = given.output.split("granted ")[-1].split(":")[0]
    assert runner.invoke(app, ["revoke", grant_id]).exit_code == 0
    body = json.loads(runner.invoke(app, ["report", "--json"]).output)
    tools = {t["tool"]: t for t in body["tools"]}
    assert 0 < tools["write_file"]["granted_seconds"] < 5  # revoked right away
    assert 0 < tools["read_file"]["granted_seconds"] < 5  # live: counted up to now
    assert tools["read_file"]["denied_by_rule"] == {"access.grant_required": 1}
    assert tools["read_file"]["renewals"] == 0
