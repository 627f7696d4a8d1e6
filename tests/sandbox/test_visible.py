"""Egress next to MCP traffic: ``ztmcp audit show`` lines, the TUI's traffic view (real Textual
``run_test()``), and ``ztmcp report``'s blocked-egress count per server, from real audit logs."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.tui.conftest import Clock, audit_log, cells, clock, make, settle, tick_until
from ztmcp.cli.app import app
from ztmcp.sandbox import visible
from ztmcp.state import paths
from ztmcp.state.audit import AuditLog

__all__ = ["audit_log", "clock"]  # the TUI's fixtures, used here
runner = CliRunner()


def egress(server: str, host: str, port: int, verdict: str, **extra: Any) -> dict[str, Any]:
    return {
        "event": "egress",
        "server": server,
        "egress.verdict": verdict,
        "server.address": host,
        "server.port": port,
        **extra,
    }


def _write() -> None:
    log = AuditLog.create(paths.audit_dir(), "fetch")
    log.append({"event": "session.start", "server": "fetch", "mode": "enforce"})
    log.append(
        {
            "event": "message",
            "server": "fetch",
            "direction": "to_server",
            "mcp.method.name": "tools/call",
            "gen_ai.tool.name": "fetch",
            "outcome": "forwarded",
        }
    )
    log.append(
        egress("fetch", "api.example.com", 443, "allow", **{"egress.rule": "api.example.com"})
    )
    log.append(
        egress(
            "fetch",
            "evil.example",
            443,
            "deny",
            **{
                "http.request.method": "CONNECT",
                "egress.reason": "drift from the pinned sandbox profile",
            },
        )
    )
    log.append(egress("fetch", "evil\x1b[2J.example", 80, "deny"))
    log.append(egress("other", "10.0.0.1", 22, "deny"))
    log.append(
        {
            "event": "egress.end",
            "server": "fetch",
            "server.address": "api.example.com",
            "server.port": 443,
            "egress.bytes_sent": 512,
            "egress.bytes_received": 2048,
        }
    )
    log.close(reason="done")


def test_audit_show_has_readable_egress_lines() -> None:
    _write()
    result = runner.invoke(app, ["audit", "show"])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if " egress " in line]
    assert len(lines) == 5
    allowed, refused, escaped, _, end = lines
    assert "fetch" in allowed and "api.example.com:443" in allowed and " allow " in allowed
    assert "evil.example:443" in refused and " deny " in refused and "CONNECT" in refused
    assert "drift from the pinned sandbox profile" in refused
    assert "\x1b" not in escaped and "evil?[2J.example:80" in escaped  # no terminal control
    assert "closed" in end and "512 B out, 2048 B in" in end
    # --server narrows to one server; --json keeps the records whole.
    only = runner.invoke(app, ["audit", "show", "--server", "other", "--json"])
    (record,) = [json.loads(x) for x in only.output.splitlines() if '"egress"' in x]
    assert record["server.port"] == 22


def test_report_counts_blocked_egress_per_server() -> None:
    _write()
    text = runner.invoke(app, ["report", "--since", "1h"])
    assert text.exit_code == 0, text.output
    assert "egress fetch: 2 blocked, 1 allowed" in text.output
    assert "egress other: 1 blocked, 0 allowed" in text.output
    body = json.loads(runner.invoke(app, ["report", "--since", "1h", "--json"]).output)
    assert body["egress"] == {
        "fetch": {"allow": 1, "learn": 0, "flag": 0, "deny": 2},
        "other": {"allow": 0, "learn": 0, "flag": 0, "deny": 1},
    }
    one = json.loads(runner.invoke(app, ["report", "--server", "other", "--json"]).output)
    assert list(one["egress"]) == ["other"]


def test_counts_keep_to_the_window() -> None:
    records = [
        {**egress("s", "a", 1, "deny"), "ts": "2026-01-01T00:00:00.000000Z"},
        {**egress("s", "a", 1, "deny"), "ts": "2026-01-02T00:00:00.000000Z"},
        {**egress("s", "a", 1, "deny"), "ts": "not a time"},
    ]
    from ztmcp.report import parse_ts

    start = parse_ts("2026-01-01T12:00:00.000000Z")
    assert start is not None
    counts = visible.count(records, start, start + 86400)
    assert counts.blocked("s") == 1 and counts.blocked("t") == 0


@pytest.mark.anyio
async def test_the_tui_shows_egress_beside_mcp_traffic(clock: Clock, audit_log: AuditLog) -> None:
    tui = make(clock)
    async with tui.run_test(size=(160, 40)) as pilot:
        await settle(tui, pilot)
        audit_log.post(
            egress("everything", "evil.example", 443, "deny", **{"egress.reason": "drift"})
        )
        audit_log.post(egress("everything", "api.example.com", 443, "allow"))
        await tick_until(tui, pilot, lambda: tui.traffic.row_count == 3)
        rows = cells(tui, "traffic")
        assert [r[2] for r in rows] == ["· session.start", "⇢ egress", "⇢ egress"]
        assert rows[1][3] == "evil.example:443" and rows[1][5].startswith("denied drift")
        assert rows[2][3] == "api.example.com:443" and rows[2][5].startswith("allow")


def test_direct_socket_records_read_as_such() -> None:
    import socket

    from ztmcp.sandbox.netaudit import Attempt, Destination, record

    dest = Destination(socket.AF_INET6, "::1", 53)
    rec = record("fetch", Attempt("sendto", (dest,), "udp"), dest)
    shown = visible.line(rec, "12:00:00")
    assert "[::1]:53" in shown and " deny " in shown and "direct dns (sendto)" in shown
    assert visible.row(rec, "12:00:00")[5].startswith("denied direct dns (sendto)")
    counted = visible.count([{**rec, "ts": "2026-12-07T12:00:00Z"}], 0, 2e9)
    assert counted.blocked("fetch") == 1  # `ztmcp report` counts it as blocked egress


def test_aggregated_refusals_count_as_many() -> None:
    """The audit-flood bound writes repeats as one record with ``egress.count``: ``report``
    counts each refusal it stands for, ``audit show`` says how many."""
    import socket

    from ztmcp.sandbox.netaudit import Attempt, Denials, Destination, FloodLimits, record

    dest = Destination(socket.AF_INET, "192.0.2.1", 80)
    denials = Denials(FloodLimits(window=1.0))
    written = []
    for i in range(7):
        written += denials.add(record("s", Attempt("connect", (dest,), "tcp"), dest), i * 0.1)[0]
    written += denials.drain()
    assert [r["egress.count"] for r in written] == [1, 6]
    stamped = [{**r, "ts": "2026-12-07T12:00:00Z"} for r in written]
    assert visible.count(stamped, 0, 2e9).blocked("s") == 7
    assert "x6 in 1.0 s" in visible.line(written[1], "12:00:00")
