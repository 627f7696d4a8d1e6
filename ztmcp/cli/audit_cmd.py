"""``ztmcp audit``: read, follow and verify the hash-chained audit logs."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ztmcp import names
from ztmcp.cli.render import fail, record_line
from ztmcp.cli.values import option
from ztmcp.documents import open_file
from ztmcp.durations import parse_duration
from ztmcp.errors import ZtmcpError
from ztmcp.state import paths
from ztmcp.terminal import echo

if TYPE_CHECKING:  # the audit modules load with the command that reads them (start-up time)
    from ztmcp.state.audit import Verification

audit_app = typer.Typer(
    help="Read, follow and verify the audit log ($ZTMCP_HOME/audit, one file per session).",
    no_args_is_help=True,
)

SinceOpt = Annotated[
    str | None,
    typer.Option("--since", metavar="DURATION", help="Only records newer than this: 30m, 1h, 2d."),
]
ServerOpt = Annotated[
    str | None,
    option(names.SERVER, "--server", metavar="NAME", help="Only this server's records."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="One JSON record per line.")]


def _cutoff(since: str | None) -> str | None:
    if since is None:
        return None
    try:
        seconds = parse_duration(since)
    except ZtmcpError as exc:
        fail(exc)
    return datetime.fromtimestamp(time.time() - seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _keep(record: dict[str, Any], cutoff: str | None, server: str | None) -> bool:
    if cutoff is not None and str(record.get("ts", "")) < cutoff:
        return False
    return server is None or record.get("server") == server


def _emit(record: dict[str, Any], as_json: bool) -> None:
    echo(json.dumps(record, ensure_ascii=False) if as_json else record_line(record))


AgentOpt = Annotated[
    str | None,
    option(
        names.AGENT,
        "--agent",
        metavar="NAME",
        help="One agent's timeline (ztmcp watch): LLM, MCP and egress records in time order, "
        "MCP tool calls linked to the model turn that asked for them.",
    ),
]


@audit_app.command("show")
def show(
    since: SinceOpt = None,
    server: ServerOpt = None,
    as_json: JsonOpt = False,
    agent: AgentOpt = None,
) -> None:
    """Print recorded events, oldest first."""
    from ztmcp.state.audit import read_records, session_files

    cutoff = _cutoff(since)
    shown = 0
    found = read_records(session_files(paths.audit_dir()))
    if agent is not None:
        from ztmcp.watch.timeline import timeline

        found = iter(timeline(found, agent))
    for record in found:
        if _keep(record, cutoff, server):
            _emit(record, as_json)
            shown += 1
    if shown == 0 and not as_json:
        echo(
            f"no audit records{' matching' if since or server else ''} in {paths.audit_dir()}",
            err=True,
        )


@audit_app.command("tail")
def tail(
    server: ServerOpt = None,
    as_json: JsonOpt = False,
    lines: Annotated[int, typer.Option("--lines", "-n", min=0, help="Records to show first.")] = 10,
    interval: Annotated[float, typer.Option(help="Seconds between polls.", min=0.05)] = 0.5,
) -> None:
    """Follow the audit log of every session as records arrive (Ctrl-C to stop)."""
    from ztmcp.state.audit import session_files

    directory = paths.audit_dir()
    offsets: dict[Path, int] = {}
    backlog: list[dict[str, Any]] = []
    for path in session_files(directory):
        data = _read_from(path, 0)
        if data is None:
            continue
        offsets[path] = data.rfind(b"\n") + 1
        for line in data[: offsets[path]].splitlines():
            record = _loads(line)
            if record is not None and _keep(record, None, server):
                backlog.append(record)
    for record in backlog[-lines:] if lines else []:
        _emit(record, as_json)
    try:
        while True:
            time.sleep(interval)
            for path in session_files(directory):
                start = offsets.get(path, 0)
                data = _read_from(path, start)
                if data is None:
                    continue
                complete = data.rfind(b"\n") + 1
                offsets[path] = start + complete
                for line in data[:complete].splitlines():
                    record = _loads(line)
                    if record is not None and _keep(record, None, server):
                        _emit(record, as_json)
    except KeyboardInterrupt:
        raise typer.Exit(0) from None


def _read_from(path: Path, start: int) -> bytes | None:
    """The log's bytes from ``start``; ``None`` for a log that cannot be read (gone, or not a
    regular file): skipped as ``read_records`` skips it, ``audit verify`` reports it."""
    try:
        with open_file(path) as handle:
            handle.seek(start)
            return handle.read()
    except OSError:
        return None


def _loads(line: bytes) -> dict[str, Any] | None:
    try:
        record = json.loads(line)
    except (ValueError, RecursionError):  # RecursionError: nesting 1000+ deep
        return None
    return record if isinstance(record, dict) else None


@audit_app.command("verify")
def verify(
    files: Annotated[
        list[Path] | None,
        typer.Argument(
            metavar="[FILE]...", help="Log files to verify (default: every session log)."
        ),
    ] = None,
) -> None:
    """Check every log's MACs and chain against the audit index; exit 1 on tampering (a
    changed, removed, reordered or forged record, a truncated or deleted log), 0 otherwise.
    A log cut off by a crash or a full disk, or still being written, is said as such."""
    from ztmcp.state.audit import Status, verify_dir, verify_file

    directory = paths.audit_dir()
    if files:
        results = [verify_file(path) for path in files]
        problems: list[str] = []
    else:
        report = verify_dir(directory)
        results = report.logs
        problems = [report.index_problem] if report.index_problem else []
        if report.index_note:
            echo(f"note   {directory}: {report.index_note}")
    if not results and not problems:
        echo(f"no audit logs in {directory}", err=True)
        raise typer.Exit(0)
    for problem in problems:
        echo(f"BROKEN {directory}: {problem}")
    counts: dict[Status, int] = {}
    total = 0
    for result in results:
        counts[result.status] = counts.get(result.status, 0) + 1
        total += result.records
        line = _verdict(result)
        if line:
            echo(line)
    summary = f"{len(results)} log(s), {total} record(s) verified"
    for status in Status:
        if status is not Status.CLOSED and counts.get(status):
            summary += f", {counts[status]} {status.value}"
    failed = bool(problems) or any(result.status.failed for result in results)
    if failed:
        echo(f"{summary}; tampering or missing evidence found", err=True)
        raise typer.Exit(1)
    echo(f"ok: {summary}")


def _verdict(result: Verification) -> str | None:
    """One line per log that is not simply complete and authentic."""
    from ztmcp.state.audit import Status

    status = result.status
    if status is Status.CLOSED:
        return None
    if status.failed:
        return f"BROKEN {result.path}: {result.error or result.detail}"
    return f"{status.value:<6} {result.path}: {result.detail}"


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
