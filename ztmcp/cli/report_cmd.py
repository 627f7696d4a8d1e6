"""``ztmcp report``: per tool, time callable under grants against standing access (audit log)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Final

import typer

from ztmcp import names
from ztmcp.cli import tables
from ztmcp.cli.render import fail
from ztmcp.cli.values import option
from ztmcp.durations import format_duration, parse_duration
from ztmcp.errors import ZtmcpError
from ztmcp.state import paths
from ztmcp.terminal import echo

if TYPE_CHECKING:  # the report and audit modules load with the command (start-up time)
    from ztmcp.report import Report, ToolExposure


def format_seconds(seconds: float) -> str:
    """As ``ztmcp.report.format_seconds``: whole seconds, the two largest units."""
    return format_duration(round(seconds))


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _denied_cell(tool: ToolExposure) -> str:
    if not tool.denied:
        return "0"
    rules = ", ".join(f"{rule} {count}" for rule, count in tool.denied)
    return f"{tool.denied_total} ({rules})"


def _reduction_cell(tool: ToolExposure) -> str:
    return f"{tool.reduction:.1f}%" if tool.gated else "0% (not gated)"


def format_wait(ms: float) -> str:
    """A hold's wait: ``850ms``, ``52.5s``, ``2m00s``."""
    if ms < 1000:
        return f"{ms:.0f}ms"
    if ms < 60_000:
        return f"{ms / 1000:.1f}s"
    return format_seconds(ms / 1000)


def _holds_line(report: Report) -> str | None:
    ends = {outcome: n for outcome, n in report.hold_ends.items() if n}
    if not report.held and not ends:
        return None
    how = ", ".join(f"{n} {outcome}" for outcome, n in ends.items()) or "none ended"
    median = report.hold_median_ms
    wait = "" if median is None else f", median wait {format_wait(median)}"
    calls = "call" if report.held == 1 else "calls"
    return f"held: {report.held} {calls} waited for approval ({how}){wait}"


def _grants_line(report: Report) -> str | None:
    given = sum(t.grants for t in report.tools)
    if not given:
        return None
    approved = sum(t.grants_from_approvals for t in report.tools)
    renewals = sum(t.renewals for t in report.tools)
    line = f"grants: {given} given"
    if approved:
        line += f", {approved} by approving a held call"
    if renewals:
        line += f"; {renewals} renewal{'' if renewals == 1 else 's'} slid their expiry"
    return line


def _calls(n: int) -> str:
    return f"{n} call{'' if n == 1 else 's'}"


COLUMNS: Final = (
    "SERVER",
    "TOOL",
    tables.Column("UNDER GRANTS", right=True),
    tables.Column("STANDING", right=True),
    "REDUCTION",
    tables.Column("ALLOWED", right=True),
    tables.Column("HELD", right=True),
    "DENIED",
)


def table_rows(report: Report) -> list[tuple[str, ...]]:
    return [
        (
            t.server,
            t.tool,
            format_seconds(t.granted_seconds),
            format_seconds(t.standing_seconds),
            _reduction_cell(t),
            str(t.allowed),
            str(t.held),
            _denied_cell(t),
        )
        for t in report.tools
    ]


def render_table(report: Report) -> list[str]:
    """The table as plain lines, then the totals."""
    return tables.lines(COLUMNS, table_rows(report)) + total_lines(report)


def total_lines(report: Report) -> list[str]:
    count = len(report.tools)
    lines = [
        f"total: {count} tool{'' if count == 1 else 's'} callable for "
        f"{format_seconds(report.callable_seconds)} in all, against "
        f"{format_seconds(report.standing_seconds)} under standing access "
        f"({report.reduction:.1f}% less exposure); "
        f"{_calls(report.allowed)} allowed, {report.denied} denied"
    ]
    lines += [line for line in (_grants_line(report), _holds_line(report)) if line is not None]
    return lines


def report(
    since: Annotated[
        str, typer.Option("--since", metavar="DURATION", help="The window: 1h, 1d, 7d.")
    ] = "1d",
    server: Annotated[
        str | None,
        option(names.SERVER, "--server", metavar="NAME", help="Only this server's tools."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document.")] = False,
) -> None:
    """Per tool: time callable under grants against standing access, calls allowed, held, denied."""
    from ztmcp.report import build_report
    from ztmcp.state.audit import read_records, session_files

    try:
        seconds = parse_duration(since)
    except ZtmcpError as exc:
        fail(exc)
    directory = paths.audit_dir()
    files = session_files(directory)
    if not files:
        echo(f"no audit logs in {directory}: run a server with `ztmcp run` first")
        return
    end = time.time()
    records = list(read_records(files))
    result = build_report(records, end - seconds, end, server)
    from ztmcp.sandbox.visible import count  # egress attempts of sandboxed servers

    egress = count(records, end - seconds, end, server)
    if as_json:
        body = result.as_dict()
        body["egress"] = egress.as_dict()
        body["window"]["start"] = _iso(result.start)
        body["window"]["end"] = _iso(result.end)
        body["server"] = server
        echo(json.dumps(body, ensure_ascii=False, indent=2))
        return
    scope = f" on server {server}" if server else ""
    window = f"{_iso(result.start)} to {_iso(result.end)}"
    echo(f"exposure over the last {since} ({window}){scope}")
    if not result.tools:
        echo("no tool calls or grants in this window")
    else:
        tables.show(COLUMNS, table_rows(result))
        for line in total_lines(result):
            echo(line)
    for line in egress.lines():
        echo(line)


HELP = (
    "Per tool: time callable under grants against standing access, calls allowed, held, "
    "denied.\n\n"
    "A grant counts from when it was given to its expiry (slid by renewals, never past its "
    "cap) or its revocation. A held call counts once as held and once more as allowed or "
    "denied by how its hold ended; a call the agent cancelled while held counts only as held."
)


def register(app: typer.Typer) -> None:
    app.command("report", help=HELP)(report)
