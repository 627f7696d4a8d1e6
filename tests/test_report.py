"""``ztmcp report``: a scripted day of work in real audit logs, and the numbers it must give."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from typer.testing import CliRunner

from ztmcp.cli.app import app
from ztmcp.report import build_report, format_seconds, grant_intervals, parse_ts, union_seconds
from ztmcp.state import paths
from ztmcp.state.audit import AuditLog, read_records, session_files, verify_file

runner = CliRunner()
DAY = 86400.0
H, M = 3600.0, 60.0
DIGEST = "ab" * 32


def _call(
    tool: str, outcome: str, rule: str | None = None, grant: str | None = None, server: str = "fs"
) -> dict[str, Any]:
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
    event: str, grant_id: str, tool: str, expires: float, server: str = "fs"
) -> dict[str, Any]:
    """The fields ``Grant.as_event`` gives a grant.create / grant.revoke / grant.expire record."""
    return {
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


def scripted_day(t0: float) -> None:
    """One day on server fs, three tools, from T0 (all times below are T0 + hh:mm).

    write_file: refused 09:00, granted 09:01 for 15m, 3 calls in the grant, refused 09:20.
    delete_file: refused 14:00, granted 14:01 for 15m, one call 14:03, revoked 14:06, refused 14:07.
    run_shell: denied by a rule at 11:00 and 16:00, never granted.
    """
    proxy = AuditLog.create(paths.audit_dir(), "fs")
    at = lambda hours, minutes=0.0: t0 + hours * H + minutes * M  # noqa: E731
    proxy.append({"event": "session.start", "server": "fs", "mode": "enforce"}, ts=at(8))
    listing = {
        "event": "message",
        "server": "fs",
        "direction": "to_server",
        "kind": "request",
        "mcp.method.name": "tools/list",
        "outcome": "forwarded",
    }
    proxy.append(listing, ts=at(8, 1))
    proxy.append(_call("write_file", "denied", rule="access.grant_required"), ts=at(9))
    for minute in (2, 5, 10):
        proxy.append(_call("write_file", "flagged", grant="g1"), ts=at(9, minute))
        answer = {**_call("write_file", "forwarded"), "direction": "to_client", "kind": "response"}
        proxy.append(answer, ts=at(9, minute + 0.01))  # the answer is not a second call
    proxy.append(_call("write_file", "denied", rule="access.grant_required"), ts=at(9, 20))
    proxy.append(_call("run_shell", "denied", rule="access.denied"), ts=at(11))
    proxy.append(_call("delete_file", "denied", rule="access.grant_required"), ts=at(14))
    proxy.append(_call("delete_file", "flagged", grant="g2"), ts=at(14, 3))
    proxy.append(_call("delete_file", "denied", rule="access.grant_required"), ts=at(14, 7))
    proxy.append(_call("run_shell", "denied", rule="access.denied"), ts=at(16))
    proxy.close(reason="agent closed stdin")

    cli = AuditLog.create(paths.audit_dir(), "ztmcp-cli")
    cli.append({"event": "session.start", "server": "ztmcp-cli"}, ts=at(9, 1))
    cli.append(_grant_event("grant.create", "g1", "write_file", at(9, 16)), ts=at(9, 1))
    cli.append(_grant_event("grant.create", "g2", "delete_file", at(14, 16)), ts=at(14, 1))
    cli.append(_grant_event("grant.revoke", "g2", "delete_file", at(14, 16)), ts=at(14, 6))
    cli.append(_grant_event("grant.expire", "g1", "write_file", at(9, 16)), ts=at(15))
    cli.close()


T0 = datetime(2026, 11, 24, tzinfo=UTC).timestamp()


def _records() -> list[dict[str, Any]]:
    return list(read_records(session_files(paths.audit_dir())))


def test_scripted_day_numbers() -> None:
    scripted_day(T0)
    assert all(verify_file(p).ok for p in session_files(paths.audit_dir()))
    report = build_report(_records(), T0, T0 + DAY)
    tools = {t.tool: t for t in report.tools}
    assert sorted(tools) == ["delete_file", "run_shell", "write_file"]

    write = tools["write_file"]
    assert write.granted_seconds == pytest.approx(15 * M)
    assert write.standing_seconds == DAY
    assert write.gated
    assert write.reduction == pytest.approx(100 * (1 - 900 / DAY))  # 98.96 %
    assert (write.allowed, write.allowed_by_grant) == (3, 3)
    assert write.denied == (("access.grant_required", 2),)

    delete = tools["delete_file"]
    assert delete.granted_seconds == pytest.approx(5 * M)  # 15m grant, revoked after 5m
    assert delete.reduction == pytest.approx(100 * (1 - 300 / DAY))  # 99.65 %
    assert (delete.allowed, delete.denied_total) == (1, 2)

    shell = tools["run_shell"]
    assert shell.granted_seconds == 0
    assert shell.reduction == 100.0
    assert shell.denied == (("access.denied", 2),)

    assert report.callable_seconds == pytest.approx(20 * M)
    assert report.standing_seconds == 3 * DAY
    assert report.reduction == pytest.approx(100 * (1 - 1200 / (3 * DAY)))  # 99.54 %
    assert round(report.reduction, 2) == 99.54
    assert (report.allowed, report.denied) == (4, 6)


def test_grant_intervals_follow_create_and_revoke() -> None:
    scripted_day(T0)
    spans = {i.grant_id: (i.tool, i.end - i.start) for i in grant_intervals(_records())}
    assert spans == {
        "g1": ("write_file", pytest.approx(900)),
        "g2": ("delete_file", pytest.approx(300)),
    }


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


def test_server_filter_and_window_bounds() -> None:
    scripted_day(T0)
    log = AuditLog.create(paths.audit_dir(), "git")
    log.append(_call("push", "denied", rule="access.grant_required", server="git"), ts=T0 + H)
    log.close()
    assert [t.tool for t in build_report(_records(), T0, T0 + DAY, server="git").tools] == ["push"]
    assert len(build_report(_records(), T0, T0 + DAY).tools) == 4
    # Only the morning: write_file's grant and calls, nothing of the afternoon.
    morning = build_report(_records(), T0, T0 + 12 * H, server="fs")
    assert {t.tool: (t.allowed, t.denied_total) for t in morning.tools} == {
        "write_file": (3, 2),
        "run_shell": (0, 1),
    }


def test_parse_ts_and_format_seconds() -> None:
    assert parse_ts("2026-11-24T00:00:00.000000Z") == T0
    assert parse_ts("yesterday") is None
    assert parse_ts(None) is None
    assert [format_seconds(s) for s in (0, 59.6, 300, DAY)] == ["0s", "1m00s", "5m00s", "24h00m"]


# -- the command ----------------------------------------------------------------------------


def _recent_day() -> None:
    """The scripted day, placed so `--since 1d` run just now covers all of it."""
    scripted_day(time.time() - DAY + 60)


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
        "DENIED",
    ]
    rows = {line.split()[1]: line.split() for line in lines[2:5]}
    assert rows["write_file"][2:7] == ["15m00s", "24h00m", "99.0%", "3", "2"]
    assert rows["delete_file"][2:7] == ["5m00s", "24h00m", "99.7%", "1", "2"]
    assert rows["run_shell"][2:7] == ["0s", "24h00m", "100.0%", "0", "2"]
    assert "(access.denied 2)" in lines[2 + sorted(rows).index("run_shell")]
    assert lines[5] == (
        "total: 3 tools callable 20m00s of 72h00m standing (99.5% less attack-surface time); "
        "4 calls allowed, 6 denied"
    )


def test_cli_json() -> None:
    _recent_day()
    result = runner.invoke(app, ["report", "--json", "--server", "fs"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["server"] == "fs"
    assert body["window"]["seconds"] == pytest.approx(DAY, abs=1)
    tools = {t["tool"]: t for t in body["tools"]}
    assert tools["delete_file"]["granted_seconds"] == pytest.approx(300)
    assert tools["delete_file"]["denied_by_rule"] == {"access.grant_required": 2}
    assert tools["write_file"]["reduction_percent"] == pytest.approx(98.96, abs=0.01)
    assert body["total"]["reduction_percent"] == pytest.approx(99.54, abs=0.01)
    assert (body["total"]["allowed"], body["total"]["denied"]) == (4, 6)


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


def test_cli_with_grants_from_the_real_grant_commands() -> None:
    log = AuditLog.create(paths.audit_dir(), "fs")
    log.append(_call("write_file", "denied", rule="access.grant_required"))
    log.append(_call("read_file", "denied", rule="access.grant_required"))
    log.close()
    given = runner.invoke(app, ["grant", "fs", "write_file", "--for", "15m"])
    assert given.exit_code == 0, given.output
    runner.invoke(app, ["grant", "fs", "read_file", "--for", "1h"])
    grant_id = given.output.split()[1].rstrip(":")
    assert runner.invoke(app, ["revoke", grant_id]).exit_code == 0
    body = json.loads(runner.invoke(app, ["report", "--json"]).output)
    tools = {t["tool"]: t for t in body["tools"]}
    assert 0 < tools["write_file"]["granted_seconds"] < 5  # revoked right away
    assert 0 < tools["read_file"]["granted_seconds"] < 5  # live: counted up to now
    assert tools["read_file"]["denied_by_rule"] == {"access.grant_required": 1}
