"""``ztmcp grant`` / ``revoke`` / ``grants``: just-in-time, time-boxed tool access.

Binding a grant to the tool's digest: the CLI never talks to a server. When the ``access``
check denies a call for want of a grant, the audit record of that denial carries the digest of
the tool as the server listed it (``tool.sha256=…``). ``ztmcp grant`` binds to the most recent
such digest for SERVER/TOOL, so the usual flow (the agent is refused, the user runs the command
from the hint) needs no extra step. To grant before any call, pass ``--digest HEX`` (or
``--digest any`` to accept every version of the tool, which gives up drift protection).

Sliding renewal (``--renew 5m``): every call the grant allows moves its expiry to at least
five minutes after that call, never past ``--max`` (default 8h) after the grant was given. An
idle grant still ends ``--for`` after it was given, or ``--renew`` after the last call.

Grants, revocations and expiries are audit events in a CLI session log of their own
(``$ZTMCP_HOME/audit/*-ztmcp-cli-*.jsonl``), written by ``ztmcp.state.approvals.Operator``,
the same code the TUI uses; expiries are recorded by the next ``grant``, ``revoke`` or
``grants`` command (a grant stops working at its expiry regardless).
"""

from __future__ import annotations

import json
import re
import time
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ztmcp import names
from ztmcp.cli import tables
from ztmcp.cli.render import fail
from ztmcp.cli.values import argument, option
from ztmcp.durations import format_duration, parse_duration
from ztmcp.errors import UsageError, ZtmcpError
from ztmcp.person import confirm
from ztmcp.state import paths
from ztmcp.terminal import echo, safe

if TYPE_CHECKING:  # the state modules load with the command that uses them (start-up time)
    from ztmcp.state.grants import Grant

_DIGEST = re.compile(r"tool\.sha256=([0-9a-f]{64})")
_HEX = re.compile(r"[0-9a-f]{64}")
CLI_LOG_NAME = "ztmcp-cli"
_PROXY_EVENTS = frozenset({"session.start", "message"})


def _known(server: str, tool: str) -> tuple[bool, bool, str | None]:
    """From the proxies' audit logs: did SERVER run behind ztmcp, was a call to TOOL refused by
    the access check, and the tool digest recorded with the latest such refusal (if listed)."""
    from ztmcp.state.audit import read_records, session_files

    seen_server = refused = False
    latest: tuple[str, str] | None = None  # (ts, digest)
    for record in read_records(session_files(paths.audit_dir())):
        if record.get("server") != server or record.get("event") not in _PROXY_EVENTS:
            continue
        seen_server = True
        if record.get("gen_ai.tool.name") != tool:
            continue
        for verdict in record.get("verdicts") or []:
            if isinstance(verdict, dict) and verdict.get("check") == "access":
                refused = True
                match = _DIGEST.search(str(verdict.get("evidence") or ""))
                ts = str(record.get("ts", ""))
                if match and (latest is None or ts >= latest[0]):
                    latest = (ts, match.group(1))
    return seen_server, refused, None if latest is None else latest[1]


def _resolve_digest(server: str, tool: str, digest: str | None) -> str | None:
    if digest is not None:
        if digest == "any":
            return None
        cleaned = digest.lower().removeprefix("sha256:")
        if not _HEX.fullmatch(cleaned):
            raise UsageError(
                f"not a tool digest: {digest!r}", hint="pass 64 hex digits, or --digest any"
            )
        return cleaned
    seen_server, refused, found = _known(server, tool)
    if not seen_server:
        raise UsageError(
            f"unknown server {server!r}: no `ztmcp run --name {server}` session in the audit log",
            hint="check the name (`ztmcp audit show`), or pass --digest to grant ahead of time",
        )
    if found is None and refused:
        raise UsageError(
            f"tool {tool!r} on server {server!r} was called without being listed first, so its "
            "digest is unknown",
            hint="let the agent list tools and call it again, or pass --digest any",
        )
    if found is None:
        raise UsageError(
            f"unknown tool {tool!r} on server {server!r}: no refused call to it in the audit log",
            hint="let the agent call it once (ztmcp refuses and records it), or pass --digest",
        )
    return found


def _path_prefix(spec: str | None) -> tuple[str | None, str | None]:
    if spec is None:
        return None, None
    arg, sep, prefix = spec.partition("=")
    if not sep or not arg or not prefix:
        raise UsageError(
            f"not ARG=PREFIX: {spec!r}", hint="for example: --path-prefix path=/home/me/project"
        )
    return arg, prefix


def grant(
    server: Annotated[
        str, argument(names.SERVER, "SERVER", help="The server name (`ztmcp run --name`).")
    ],
    tool: Annotated[str, argument(names.TOOL, "TOOL", help="The tool name, exactly as listed.")],
    duration: Annotated[
        str, typer.Option("--for", metavar="DURATION", help="How long: 90s, 15m, 1h, 1h30m.")
    ],
    reason: Annotated[
        str, option(names.TEXT.called("reason"), "--reason", metavar="TEXT", help="Why (audited).")
    ] = "",
    path_prefix: Annotated[
        str | None,
        option(
            names.TEXT.called("path constraint"),
            "--path-prefix",
            metavar="ARG=PREFIX",
            help="Only calls whose string argument ARG is a path under PREFIX.",
        ),
    ] = None,
    digest: Annotated[
        str | None,
        option(
            names.WORD.called("tool digest"),
            "--digest",
            metavar="HEX|any",
            help="Bind to this tool digest (default: the digest from the last refused call).",
        ),
    ] = None,
    renew: Annotated[
        str | None,
        typer.Option(
            "--renew",
            metavar="DURATION",
            help="Sliding renewal: each allowed call keeps the grant alive this long after it.",
        ),
    ] = None,
    cap: Annotated[
        str | None,
        typer.Option(
            "--max",
            metavar="DURATION",
            help="With --renew: the grant never lasts past this after it was given (8h).",
        ),
    ] = None,
) -> None:
    """Let calls to one tool through for a while (just-in-time access).

    A person must confirm at a terminal (stdin and stdout a TTY) by typing the tool name; with
    no terminal (an agent's shell) it is refused."""
    from ztmcp.state.grants import new_grant

    try:
        seconds = parse_duration(duration)
        window = None if renew is None else parse_duration(renew)
        if cap is not None and window is None:
            raise UsageError("--max limits sliding renewal", hint="add --renew, e.g. --renew 5m")
        limit = None if cap is None else parse_duration(cap)
        arg, prefix = _path_prefix(path_prefix)
        bound = _resolve_digest(server, tool, digest)
        # Bad terms (--for 31d) are refused before a person is asked to confirm them.
        new_grant(server, tool, seconds, now=time.time(), digest=bound, why=reason, arg=arg,
                  prefix=prefix, renew=window, cap=limit)  # fmt: skip
        answer = tool if tool and tool.isprintable() and tool.strip() == tool else "yes"
        confirm(
            f"grant {server} {tool}",
            _what(server, tool, seconds, bound, arg, prefix, window, limit, reason),
            answer,
        )
        line = give(server, tool, seconds, bound, why=reason, arg=arg, prefix=prefix,
                    renew=window, cap=limit)  # fmt: skip
    except ZtmcpError as exc:
        fail(exc)
    echo(line)


def _what(
    server: str,
    tool: str,
    seconds: float,
    bound: str | None,
    arg: str | None,
    prefix: str | None,
    renew: float | None,
    cap: float | None,
    why: str,
) -> list[str]:
    """Exactly what a grant allows, for the person who confirms it."""
    lines = [
        f"server {safe(server)}, tool {safe(tool)}",
        f"for {_left(seconds)}"
        + (f", renewed by each call for {_left(renew)}" if renew is not None else ""),
        f"tool version: sha256 {bound}"
        if bound
        else "tool version: ANY (the server may change the tool and the grant still applies)",
    ]
    if arg is not None:
        lines.append(f"only calls whose argument {safe(arg)} is a path under {safe(prefix)}")
    if cap is not None:
        lines.append(f"never past {_left(cap)} after now")
    if why:
        lines.append(f"reason: {safe(why)}")
    return lines


def give(
    server: str,
    tool: str,
    seconds: float,
    bound: str | None,
    *,
    why: str = "",
    arg: str | None = None,
    prefix: str | None = None,
    renew: float | None = None,
    cap: float | None = None,
) -> str:
    """Record a grant a person approved (audited); the line that says what was granted."""
    from ztmcp.state.approvals import Operator

    with Operator(CLI_LOG_NAME) as ops:
        given = ops.grant(
            server,
            tool,
            seconds,
            digest=bound,
            why=why,
            arg=arg,
            prefix=prefix,
            renew=renew,
            cap=cap,
        )
    scope = f", only {given.constraint}" if given.constraint else ""
    version = f"tool sha256 {bound[:12]}…" if bound else "any version of the tool"
    sliding = ""
    if given.renew is not None and given.cap is not None:
        sliding = (
            f", renewed by each call for {_left(given.renew)} up to "
            f"{_left(given.cap - given.created)}"
        )
    return (
        f"granted {given.id}: {safe(server)} {safe(tool)} for {_left(seconds)}{sliding} "
        f"({version}{safe(scope)}); revoke with `ztmcp revoke {given.id}`"
    )


def revoke(
    grant_id: Annotated[
        str | None,
        argument(
            names.WORD.called("grant id"),
            "ID",
            metavar="ID",
            help="The grant to revoke (a unique start of its id).",
        ),
    ] = None,
    everything: Annotated[bool, typer.Option("--all", help="Revoke every live grant.")] = False,
) -> None:
    """Take a grant back; every ztmcp process honours it on the next call."""
    from ztmcp.state.approvals import Operator

    if (grant_id is None) == (not everything):
        fail(UsageError("name one grant ID or pass --all", hint="see the IDs with `ztmcp grants`"))
    try:
        with Operator(CLI_LOG_NAME) as ops:
            if everything:
                revoked = ops.revoke_all()
            else:
                assert grant_id is not None
                grant_id = ops.grants.resolve(grant_id)
                one = ops.revoke(grant_id)
                if one is None:
                    existing = ops.grants.get(grant_id)
                    raise UsageError(
                        f"no grant {grant_id!r}"
                        if existing is None
                        else f"grant {grant_id} is already revoked",
                        hint="see the IDs with `ztmcp grants --all`",
                    )
                revoked = [one]
    except ZtmcpError as exc:
        fail(exc)
    if not revoked:
        echo("no live grants")
    for g in revoked:
        echo(f"revoked {g.id}: {g.server} {g.tool}")


def _left(seconds: float) -> str:
    """Time left, counted down in whole seconds."""
    return format_duration(int(seconds))


def as_json(grant: Grant, now: float) -> dict[str, Any]:
    """One grant for ``ztmcp grants --json``: its audit fields, status and seconds left."""
    status = grant.status(now)
    return {
        **grant.as_event(),
        "grant.created": grant.created,
        "grant.revoked": grant.revoked,
        "status": status,
        "left_seconds": max(0, int(grant.expires - now)) if status == "live" else 0,
    }


def grants(
    everything: Annotated[
        bool, typer.Option("--all", help="Include expired and revoked grants.")
    ] = False,
    as_json_: Annotated[
        bool, typer.Option("--json", help="One JSON array of grants, for scripts.")
    ] = False,
) -> None:
    """List grants with the time each one has left."""
    from ztmcp.state.approvals import Operator

    try:
        with Operator(CLI_LOG_NAME) as ops:
            rows = ops.grants.grants(include_inactive=everything)
            ops.sweep()
    except ZtmcpError as exc:
        fail(exc)
    if as_json_:
        now = time.time()
        echo(json.dumps([as_json(g, now) for g in rows], indent=2, ensure_ascii=True))
        return
    if not rows:
        echo("no live grants" if not everything else "no grants")
        return
    now = time.time()
    table = []
    for g in rows:
        status = g.status(now)
        left = _left(g.expires - now) if status == "live" else "-"
        sliding = "-"
        if g.renew is not None and g.cap is not None:
            sliding = f"{_left(g.renew)} (max {_left(g.cap - now)})" if status == "live" else "yes"
        table.append(
            (
                g.id,
                g.server,
                g.tool,
                left,
                status,
                sliding,
                g.constraint or "-",
                g.who,
                g.why or "-",
            )
        )
    left_column = tables.Column("LEFT", right=True)
    columns = ("ID", "SERVER", "TOOL", left_column, "STATUS", "RENEW", "LIMIT", "WHO", "WHY")
    tables.show(columns, table)


def register(app: typer.Typer) -> None:
    app.command("grant")(grant)
    app.command("revoke")(revoke)
    app.command("grants")(grants)
